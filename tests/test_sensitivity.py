"""Sensitivities: finite differences against analytic derivatives; Sobol indices against
a model with known analytic indices (Ishigami); Morris screening ranks a dummy last."""

from dataclasses import replace

import numpy as np
import pytest
from pk_closed_form import conc

from thymosim import Dose, Patient, Regimen
from thymosim.analysis.endpoints import value_at
from thymosim.analysis.sensitivity import fd_model, local_sensitivity, morris_indices, sobol_indices
from thymosim.model import default_model
from thymosim.scenario import Scenario, named


def ta1_exogenous(t_day, ka, cl, v, dose_ug=1600.0):
    return conc(t_day, [(dose_ug, 0.0)], ka, cl / v, v)[0]


def test_finite_differences_match_analytic_pk_derivatives():
    """d ln C / d ln p of the closed-form SC model, by complex step (exact to rounding)."""
    p = default_model().defaults
    scenario = Scenario("pk", Regimen((Dose("thymalfasin", "1.6 mg"),)), horizon=1.0, step=1 / 96)
    t = 0.25
    c_endo = p["PK_C_endo"]

    def exo_at_t(df):
        return value_at("ta1_plasma", t)(df) - c_endo

    exo_at_t.__name__ = "exo"
    table = local_sensitivity(scenario, ["PK_ka", "PK_CL", "PK_V"], endpoints=[exo_at_t]).set_index("parameter")
    args = {"PK_ka": p["PK_ka"], "PK_CL": p["PK_CL"], "PK_V": p["PK_V"]}
    c0 = ta1_exogenous(t, args["PK_ka"], args["PK_CL"], args["PK_V"])
    for i, name in enumerate(args):
        z = np.array([args["PK_ka"], args["PK_CL"], args["PK_V"]], complex)
        z[i] += 1e-20j
        analytic = ta1_exogenous(t, *z).imag / 1e-20 * args[name] / c0
        assert table.loc[name, "sensitivity"] == pytest.approx(analytic, rel=1e-4, abs=1e-6), name


def test_local_sensitivity_of_the_model_is_step_independent():
    """A tighter step (and the default) agree: the FD step is inside the well-conditioned range."""
    scenario = Scenario("short", Regimen((Dose("thymalfasin", "1.6 mg", ii=3.5, addl=7),)), horizon=28, step=1)
    params = ["TC_E_thy_TA1", "DC_K_TLR9", "CK_k_IL2"]
    a = local_sensitivity(scenario, params, endpoints=["auc_CD4", "peak_IL2"])
    b = local_sensitivity(scenario, params, endpoints=["auc_CD4", "peak_IL2"], rel_step=a.attrs["rel_step"] / 4)
    np.testing.assert_allclose(a.sensitivity, b.sensitivity, rtol=2e-3, atol=1e-7)
    assert (a.status == "ok").all()


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3, "log": np.zeros(3, bool)}
# analytic indices for a = 7, b = 0.1 (Ishigami & Homma 1990; Sobol' 1999)
S1_TRUE = np.array([0.3139, 0.4424, 0.0])
ST_TRUE = np.array([0.5576, 0.4424, 0.2437])


def test_sobol_indices_of_ishigami_within_confidence_intervals():
    si = sobol_indices(ishigami, ISHIGAMI, n=4096, seed=1)
    assert np.all(np.abs(si.S1 - S1_TRUE) <= np.maximum(si.S1_conf, 0.01))
    assert np.all(np.abs(si.ST - ST_TRUE) <= np.maximum(si.ST_conf, 0.01))
    assert si.attrs["converged"]


def test_morris_ranks_an_inert_parameter_last():
    problem = {**ISHIGAMI, "num_vars": 4, "names": ["x1", "x2", "x3", "dummy"], "bounds": [[-np.pi, np.pi]] * 4,
               "log": np.zeros(4, bool)}
    mi = morris_indices(lambda x: ishigami(x[:, :3]), problem, trajectories=50, seed=2)
    assert mi.mu_star.idxmin() == "dummy" and mi.loc["dummy", "mu_star"] == 0


def test_local_sensitivity_matches_a_tighter_tolerance_reference():
    """Sensitivities at the default solver tolerance agree with a run at 1000x tighter tolerances."""
    scenario = Scenario("short", Regimen((Dose("thymalfasin", "1.6 mg", ii=3.5, addl=7),)), horizon=28, step=1)
    params = ["TC_E_thy_TA1", "DC_K_TLR9", "PK_CL"]
    default = local_sensitivity(scenario, params, endpoints=["auc_CD4", "peak_IL2"])
    model = default_model()
    tighter = replace(scenario, model=model.with_tolerances(model.rtol / 1000, model.atol / 1000))
    tight = local_sensitivity(tighter, params, endpoints=["auc_CD4", "peak_IL2"], rel_step=default.attrs["rel_step"])
    assert tighter.model.runner() is not model.runner()
    np.testing.assert_allclose(default.sensitivity, tight.sensitivity, rtol=1e-3, atol=1e-7)


@pytest.mark.parametrize("patient", [Patient(), Patient(cd3=700, cd4=400, cd8=250)])
def test_sensitivity_to_a_covariate_is_taken_at_the_patients_value(patient):
    """AUC of CD4 scales almost in proportion to baseline CD4 (the patient starts at steady
    state there), whatever the patient: the step is taken around the value the simulation uses."""
    from thymosim.scenario import named

    scenario = replace(named("cisplatin_vinorelbine_ta1"), step=1.0, patient=patient)
    result = local_sensitivity(scenario, ["CD4_0"], ["auc_CD4"])
    assert result.status.tolist() == ["ok"]
    # below 1 by the deficit-scaled Ta1 effect (a higher baseline leaves less deficit to restore);
    # a step taken around the default instead of the patient's value gave 0.61 for CD4 400
    assert result.sensitivity.iloc[0] == pytest.approx(1.0, abs=0.15)
    auc = result.value.iloc[0]
    assert auc == pytest.approx(180 * patient.cd4, rel=0.25)  # evaluated for this patient, not the default


def test_a_zero_parameter_is_refused_before_any_run():
    scenario = Scenario("short", Regimen((Dose("thymalfasin", "1.6 mg"),)), horizon=7, step=1)
    with pytest.raises(ValueError, match="CHEMO_cis_rate"):
        local_sensitivity(scenario, ["CHEMO_cis_rate"], ["auc_CD4"])


def test_failed_runs_are_counted_with_their_reasons():
    import pandas as pd

    from thymosim.analysis.sensitivity import failure_summary

    failures = pd.DataFrame({"status": ["failed"] * 3, "error": ["SimulationError: CV_TOO_MUCH_WORK"] * 2 + ["x"]})
    line = failure_summary(failures, 210, "morris CD4_nadir")
    assert line.startswith("morris CD4_nadir: 3 of 210 runs failed")
    assert "2 x SimulationError: CV_TOO_MUCH_WORK" in line and "1 x x" in line
    assert failure_summary(pd.DataFrame(), 10) == ""


def test_a_parameter_at_the_edge_of_its_domain_gets_a_one_sided_difference():
    """TC_f_AICD is a fraction at 1: the step above 1 would be refused, so the derivative is the backward
    difference, equal to the one taken by hand from two simulations."""
    scenario = Scenario("ifo", named("hakim_dose_intense").regimen, horizon=120, step=1)
    table = local_sensitivity(scenario, ["TC_f_AICD", "TC_p_LIP_M"], endpoints=["auc_CD4"], progress=False)
    row = table.set_index("parameter").loc["TC_f_AICD"]
    assert row.status == "ok" and row.difference == "backward"
    assert table.set_index("parameter").difference["TC_p_LIP_M"] == "central"
    h = table.attrs["rel_step"]
    model = fd_model(default_model())
    at = {p: replace(scenario, model=model, patient=Patient(parameters={"TC_f_AICD": v})) for p, v in
          (("base", 1.0), ("down", 1.0 - h))}
    auc = {k: float(np.trapezoid(s.simulate().CD4, s.simulate().time)) for k, s in at.items()}
    assert row.sensitivity == pytest.approx((auc["base"] - auc["down"]) / (h * auc["base"]), rel=1e-3)
    assert row.sensitivity != 0
