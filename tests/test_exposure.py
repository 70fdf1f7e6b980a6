"""Steady-state dosing (ss) and event-exact exposure against the closed-form one-compartment model
with first-order absorption (thymalfasin SC), and mass balance (AUC = dose / CL)."""

import numpy as np
import pk_closed_form as closed_form
import pytest

from thymosim import Dose, Patient, Regimen, simulate
from thymosim.analysis.exposure import exposure, pk_course
from thymosim.model import default_model
from thymosim.regimen import steady_state
from thymosim.scenario import Scenario, ScenarioError, named

P = default_model().defaults
KA, KE, V, _ = closed_form.table_pk()
CL = KE * V
LOADING = Dose("thymalfasin", "3.2 mg", ii="1 day", addl=6).then(Dose("thymalfasin", "1.6 mg", ii="3.5 day", addl=5))
BIW = Regimen(Dose("thymalfasin", "1.6 mg", ii="3.5 day", addl=7))


def conc(t, doses, ka=KA, ke=KE, v=V):
    """Exogenous plasma Ta1 [ng/mL] by superposition of single SC doses (amount ug, time day)."""
    return closed_form.conc(t, doses, ka, ke, v)


def ss_trough(amount, tau, ka=KA, ke=KE, v=V):
    """Closed-form steady-state trough [ng/mL] of a dose every tau days."""
    return closed_form.ss_trough(amount, tau, ka, ke, v)


def given(regimen):
    table = regimen.administrations()
    return [(1000.0 * a, t) for a, t in zip(table.amt, table.time, strict=True)]


def analytic_cmax(doses, start):
    return closed_form.cmax_after(doses, start, KA, KE, V)


# --- ss -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
def test_ss_trough_before_the_first_dose_is_the_closed_form_trough(tau):
    dose = Dose("thymalfasin", "1.6 mg", ii=tau, addl=3, ss=True)
    state = {sid: amount for _, sid, amount in steady_state(dose, bsa=1.8)}
    assert set(state) == {"PK_depot", "PK_central"}  # not the cumulative eliminated amount
    assert state["PK_central"] / V == pytest.approx(ss_trough(1600.0, tau), rel=1e-9)
    # one interval later, just before the second dose, the trough is the same: the state is periodic
    df = simulate(Patient(), Regimen(dose), times=[0, tau - 1e-9, tau], extra=["PK_C_exo"])
    assert df.PK_C_exo.iloc[1] == pytest.approx(ss_trough(1600.0, tau), rel=1e-4)  # solver atol at 5e-4 of Cmax


def test_ss_uses_the_patients_pk_parameters():
    patient = Patient(parameters={"PK_CL": 60.0})
    dose = Dose("thymalfasin", "1.6 mg", ii=1.0, addl=1, ss=True)
    df = simulate(patient, Regimen(dose), times=[0, 1 - 1e-9, 1], extra=["PK_C_exo"])
    assert df.PK_C_exo.iloc[1] == pytest.approx(ss_trough(1600.0, 1.0, ke=60.0 / V), rel=1e-4)


def test_ss_course_over_one_interval_equals_that_after_twenty_doses():
    tau = 1.0
    grid = np.linspace(0, tau, 97)
    at_ss = simulate(Patient(), Regimen(Dose("thymalfasin", "1.6 mg", ii=tau, addl=1, ss=True)), times=grid,
                     extra=["PK_C_exo"]).PK_C_exo.to_numpy()
    many = Regimen(Dose("thymalfasin", "1.6 mg", ii=tau, addl=20))
    late = simulate(Patient(), many, times=np.concatenate([[0.0, 10.0], 20 * tau + grid]),
                    extra=["PK_C_exo"]).PK_C_exo.to_numpy()[2:]
    np.testing.assert_allclose(at_ss, late, rtol=1e-5, atol=1e-6 * at_ss.max())


def test_ss_of_an_infusion_equals_many_infusions():
    ss = Regimen(Dose("cisplatin", "80 mg/m2", dur="1 h", ii=7, addl=1, ss=True))
    many = Regimen(Dose("cisplatin", "80 mg/m2", dur="1 h", ii=7, addl=20))
    grid = np.linspace(0, 7, 50)
    a = simulate(Patient(), ss, times=grid, extra=["CHEMO_C_cis"]).CHEMO_C_cis.to_numpy()
    b = simulate(Patient(), many, times=np.concatenate([[0.0], 140 + grid]), extra=["CHEMO_C_cis"]).CHEMO_C_cis
    np.testing.assert_allclose(a, b.to_numpy()[1:], rtol=1e-4, atol=1e-5 * a.max())  # solver tolerance


def test_ss_is_refused_without_an_interval_or_for_nonlinear_or_coupled_pk():
    with pytest.raises(ValueError, match=r"^ii: .*steady-state dose"):
        Dose("thymalfasin", "1.6 mg", ss=True)
    with pytest.raises(ValueError, match=r"^ss: 'yes'"):
        Dose("thymalfasin", "1.6 mg", ii=3.5, ss="yes")
    with pytest.raises(ValueError, match=r"^ss: .*radiotherapy.*linear and independent"):
        simulate(Patient(), Regimen(Dose("radiotherapy", "2 Gy", ii=1, addl=4, ss=True)), horizon=7)
    assert Dose("thymalfasin", 1.6, ii=3.5, ss=True) != Dose("thymalfasin", 1.6, ii=3.5)
    assert Regimen(Dose("thymalfasin", 1.6, ii=3.5, ss=True)) != Regimen(Dose("thymalfasin", 1.6, ii=3.5))
    assert Regimen(Dose("thymalfasin", 1.6, ii=3.5, ss=True)).to_frame().SS.tolist() == [1]


def test_ss_in_a_scenario_file_loads_checks_and_round_trips(tmp_path):
    base = {"name": "ss", "horizon": 7, "doses": [{"drug": "thymalfasin", "amt": "1.6 mg", "ii": "1 day",
                                                   "addl": 6, "ss": True}]}
    scenario = Scenario.from_dict(base)
    assert scenario.regimen.doses[0].ss
    assert Scenario.load(scenario.save(tmp_path / "ss.toml")).regimen == scenario.regimen
    with pytest.raises(ScenarioError, match=r"doses\[0\]\.ss: 'yes'; allowed: true or false"):
        Scenario.from_dict(base | {"doses": [base["doses"][0] | {"ss": "yes"}]})
    with pytest.raises(ScenarioError, match=r"doses\[0\]\.ii"):
        Scenario.from_dict(base | {"doses": [{"drug": "thymalfasin", "amt": 1.6, "ss": True}]})
    with pytest.raises(ScenarioError, match=r"doses\[0\]\.ss: .*radiotherapy"):
        Scenario.from_dict(base | {"doses": [{"drug": "radiotherapy", "amt": "2 Gy", "ii": 1, "addl": 3,
                                              "ss": True}]})


# --- exposure -------------------------------------------------------------------------------------
@pytest.mark.parametrize("regimen", [BIW, Regimen(LOADING)], ids=["1.6 mg BIW", "3.2 mg loading"])
def test_exposure_cmax_ctrough_and_auc_match_the_closed_form(regimen):
    doses = given(regimen)
    table = exposure((Patient(), regimen), "thymalfasin", horizon=35)
    intervals = table[table.interval != "horizon"]
    assert len(intervals) == len(doses)
    for row in intervals.itertuples():
        expected = analytic_cmax(doses, row.start)
        assert row.Cmax == pytest.approx(expected, rel=0.005)
        assert row.Cmax == pytest.approx(expected, rel=1e-4)  # what it achieves
        assert row.Tmax_day * 24 == pytest.approx(1.78, abs=0.1)
        assert row.Ctrough == pytest.approx(conc(row.end - 1e-12, doses)[0], rel=1e-3, abs=1e-9)
    whole = table[table.interval == "horizon"].iloc[0]
    assert whole.AUC == pytest.approx(sum(a for a, _ in doses) / CL, rel=0.005)  # mass balance after washout
    assert whole.AUC == pytest.approx(sum(a for a, _ in doses) / CL, rel=1e-4)
    assert whole.Cavg == pytest.approx(whole.AUC / 35) and whole.Cmax == pytest.approx(intervals.Cmax.max())
    assert (table.unit == "ng/mL").all() and (table.baseline == P["PK_C_endo"]).all()


def test_exposure_of_every_drug_of_a_scenario_does_not_depend_on_its_step():
    scenario = named("cisplatin_vinorelbine_ta1")
    table = exposure(scenario)
    assert list(dict.fromkeys(table.drug)) == ["cisplatin", "vinorelbine", "thymalfasin"]
    cis = table[(table.drug == "cisplatin") & (table.interval == "horizon")].iloc[0]
    mg = scenario.regimen.administrations(bsa=scenario.patient.bsa).query("drug == 'cisplatin'").amt.sum()
    assert cis.AUC == pytest.approx(mg / P["CHEMO_CL_cis"], rel=1e-3)  # IV infusions: dose / CL
    assert cis.unit == "mg/L" and cis.AUC_unit == "mg/L x day"
    coarse = Scenario(**{**scenario.__dict__, "step": 5.0})
    assert exposure(coarse).equals(table)
    total = exposure(scenario, "Zadaxin", above_baseline=False)
    ta1 = table[table.drug == "thymalfasin"].reset_index(drop=True)
    assert np.allclose(total.Cmax, ta1.Cmax + P["PK_C_endo"])


def test_exposure_names_the_field_of_bad_input():
    with pytest.raises(ValueError, match=r"^drug: 'ifosfamide' is not given in this regimen; allowed: thymalfasin"):
        exposure((Patient(), BIW), "ifosfamide")
    with pytest.raises(ValueError, match=r"^drug: radiotherapy has no concentration"):
        exposure(named("prag"), "radiotherapy")
    with pytest.raises(ValueError, match=r"^points"):
        exposure((Patient(), BIW), points=3)
    with pytest.raises(TypeError, match="allowed: a Scenario"):
        exposure("prag")


def test_pk_course_shows_the_true_loading_peaks():
    course = pk_course((Patient(), Regimen(LOADING)), days=7)
    peak = analytic_cmax(given(Regimen(LOADING)), 0.0) + P["PK_C_endo"]
    first_day = course[course.time < 1]
    assert first_day.ta1_plasma.max() == pytest.approx(peak, rel=1e-3)
    assert course.attrs["units"] == {"time": "day", "ta1_plasma": "ng/mL"}


def test_trough_is_never_below_baseline_by_solver_noise_and_tmax_says_its_unit():
    from thymosim.analysis.exposure import exposure
    from thymosim.scenario import named

    table = exposure(named("cisplatin_vinorelbine_ta1"))
    assert "Tmax_day" in table.columns and "Tmax" not in table.columns
    assert table.attrs["units"]["Tmax_day"] == "day after the interval start"
    assert (table.Ctrough.dropna() >= 0).all()


def test_only_solver_noise_below_the_baseline_is_clipped():
    from thymosim.analysis.exposure import clip_noise

    c = np.array([80.0, 1.0, -1e-9, -5e-5, 0.0])
    np.testing.assert_array_equal(clip_noise(c, 0.65), [80.0, 1.0, 0.0, 0.0, 0.0])
    assert clip_noise(np.array([80.0, -0.5]))[1] == -0.5  # a real undershoot is kept, so it can be seen
