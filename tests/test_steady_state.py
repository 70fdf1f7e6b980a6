"""The untreated patient starts at its steady state, for any baseline counts."""

import numpy as np
import pytest

from thymosim import Patient, simulate
from thymosim.model import default_model
from thymosim.patient import HEALTHY

PATIENTS = {
    "seed advanced cancer": Patient(),
    "healthy": HEALTHY,
    "severe lymphopenia": Patient(cd3=150, cd4=80, cd8=60, nk=90, anc=3000, tumour_diameter=60),
}


@pytest.mark.parametrize("name", PATIENTS)
def test_untreated_derivatives_vanish(name):
    model = default_model()
    rr = model.reset(model.values(PATIENTS[name]))
    rates = rr.getRatesOfChangeNamedArray()
    ids = [c.rstrip("'") for c in rates.colnames]
    dx = np.asarray(rates).ravel()
    x = np.array([rr.getValue(i) for i in ids])
    # relative criterion for non-zero states, absolute for states that are zero (no drug)
    rel = np.where(x != 0, np.abs(dx) / np.where(x != 0, np.abs(x), 1), np.abs(dx) * 1e6)
    immune = [i for i, s in enumerate(ids) if not s.startswith(("TUM_V_", "TUM_H_"))]
    worst = max(immune, key=lambda i: rel[i])
    assert rel[worst] < 1e-6, f"{ids[worst]}: |dx/dt|/x = {rel[worst]:.2e}"
    # sensitive, resistant and dead tumour volume grow at the untreated net rate (constant shares)
    for state in ("TUM_V_sens", "TUM_V_res", "TUM_V_dead"):
        i = ids.index(state)
        assert dx[i] / x[i] == pytest.approx(rr["TUM_g_net"], rel=1e-9), state


@pytest.mark.parametrize("name", PATIENTS)
def test_untreated_counts_stay_at_baseline(name):
    patient = PATIENTS[name]
    df = simulate(patient, horizon=365, step=5)
    for col, base in [("CD3", patient.cd3), ("CD4", patient.cd4), ("CD8", patient.cd8),
                      ("NK", patient.nk), ("ANC", patient.anc)]:
        np.testing.assert_allclose(df[col], base, rtol=1e-6, err_msg=col)


def test_the_untreated_virtual_population_is_at_steady_state():
    """Every virtual patient (sampled covariates and parameters) starts at its untreated steady
    state: every immune, cytokine and PK derivative vanishes (|dx/dt|/x < 1e-6) at t0, and the
    counts stay at baseline for a year without treatment (to the solver's tolerance); every
    tumour compartment grows at the patient's own untreated net rate TUM_g_net. The derivatives
    are checked on 60 patients, the year-long runs on the first 8."""
    from thymosim.analysis.population import sample_population

    model = default_model()
    population = sample_population(60, seed=3).drop(columns="vp")
    for n, (_, row) in enumerate(population.iterrows()):
        patient = _patient(row)
        rr, ids, dx, x, rel, worst = _rates(model, patient)
        assert rel[worst] < 1e-6, f"{ids[worst]}: |dx/dt|/x = {rel[worst]:.2e}"
        for state in ("TUM_V_sens", "TUM_V_res", "TUM_V_dead"):
            i = ids.index(state)
            assert dx[i] / x[i] == pytest.approx(row.TUM_g_net, rel=1e-9), state
        if n >= 8:
            continue
        df = simulate(patient, horizon=365, step=73)
        for col, base in (("CD3", row.CD3_0), ("CD4", row.CD4_0), ("CD8", row.CD8_0), ("NK", row.NK_0)):
            np.testing.assert_allclose(df[col], base, rtol=1e-5, err_msg=col)


def test_infeasible_parameter_sets_fail_with_a_reason_instead_of_running():
    from thymosim.simulation import InfeasibleBaseline

    with pytest.raises(InfeasibleBaseline, match="TC_k_prime4"):
        simulate(Patient(parameters={"TC_p_E_IL2": 3.0, "IL2_ref": 90.0}), horizon=10)


def test_untreated_drift_is_the_adams_solver_noise_and_vanishes_with_bdf():
    """Over 180 untreated days the immune states drift only by solver noise. The default (Adams,
    non-stiff, chosen for speed) is stability-limited on the fast cytokines (IFN-g t1/2 30 min) and
    drifts by ~1e-5 of the state; BDF at the same tolerance keeps the steady state to ~1e-15."""
    def drift(model):
        rr = model.reset(model.values(Patient()))
        ids = [c.rstrip("'") for c in rr.getRatesOfChangeNamedArray().colnames]
        immune = [i for i in ids if not i.startswith("TUM_")]  # the tumour grows by design
        x0 = np.array([rr.getValue(i) for i in immune])
        x = np.asarray(rr.simulate(0, 180, 181, immune))
        return float((np.abs(x - x0).max(axis=0) / np.where(x0 != 0, np.abs(x0), 1)).max())

    model = default_model()
    assert drift(model) < 5e-5            # inside the default solver's accuracy budget (benchmarks/accuracy.py)
    assert drift(model.with_tolerances(model.rtol, model.atol, stiff=True)) < 1e-12


AGES = (18.0, 30.0, 45.0, 63.0, 70.0, 90.0, 120.0)
"""Ages across the covariate's range: the population's bounds (18-90 years), the break of the thymic decline
(45), and the sanity limit (120)."""


@pytest.mark.parametrize("age", AGES)
def test_untreated_steady_state_at_every_age(age):
    """Every virtual patient (the 60 sampled patients of the test above, their own age replaced) is at its
    untreated steady state at each age: the thymic share of naive production changes with age, naive division
    makes up the rest."""
    from thymosim.analysis.population import sample_population

    model = default_model()
    population = sample_population(60, seed=3).drop(columns="vp")
    for _, row in population.iterrows():
        patient = _patient(row, age)
        rr, ids, dx, x, rel, worst = _rates(model, patient)
        assert rel[worst] < 1e-6, f"age {age}: {ids[worst]}: |dx/dt|/x = {rel[worst]:.2e}"
        assert 0 < rr["TC_q_thy4"] and 0 < rr["TC_p_N4"], f"age {age}: thymic output and naive division are positive"
    df = simulate(Patient(age=age), horizon=365, step=73)
    for col in ("CD4", "CD8", "CD4_naive", "CD4_memory", "CD8_naive", "CD8_memory"):
        np.testing.assert_allclose(df[col], df[col].iloc[0], rtol=1e-5, err_msg=f"age {age}: {col}")


def _patient(row, age=None) -> Patient:
    """A virtual patient (a sample_population row) as a Patient; ``age`` replaces the row's age."""
    return Patient(cd3=row.CD3_0, cd4=row.CD4_0, cd8=row.CD8_0, nk=row.NK_0, tumour_diameter=row.D_0,
                   age=row.AGE if age is None else age,
                   parameters={k: v for k, v in row.items() if not k.endswith("_0") and k != "AGE"})


def _rates(model, patient):
    """The reset runner, the state ids, dx/dt and x, |dx/dt|/|x| per state (|dx/dt| x 1e6 where x = 0) and
    the worst state other than the tumour's (which grows by design)."""
    rr = model.reset(model.values(patient))
    rates = rr.getRatesOfChangeNamedArray()
    ids = [c.rstrip("'") for c in rates.colnames]
    dx, x = np.asarray(rates).ravel(), np.array([rr.getValue(i) for i in ids])
    rel = np.where(x != 0, np.abs(dx) / np.where(x != 0, np.abs(x), 1), np.abs(dx) * 1e6)
    worst = max((i for i, s in enumerate(ids) if not s.startswith(("TUM_V_", "TUM_H_"))), key=lambda i: rel[i])
    return rr, ids, dx, x, rel, worst
