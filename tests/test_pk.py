"""Ta1 PK module against its closed form, and PK mass balance."""

import numpy as np
import pytest
from pk_closed_form import cmax_after, conc, table_pk

from thymosim import Dose, Patient, Regimen, simulate
from thymosim.model import default_model


def closed_form(t_day, doses_ug, dose_times):
    ka, ke, v, c_endo = table_pk()
    return conc(t_day, list(zip(doses_ug, dose_times, strict=True)), ka, ke, v) + c_endo


def test_single_dose_matches_closed_form():
    df = simulate(Patient(), Regimen((Dose("thymalfasin", 1.6, "mg"),)), horizon=3, step=1 / 96)
    expected = closed_form(df.time.to_numpy(), [1600.0], [0.0])
    np.testing.assert_allclose(df.ta1_plasma, expected, rtol=1e-5, atol=1e-6)


def test_repeated_doses_match_superposition():
    regimen = Regimen((Dose("thymalfasin", 1.6, "mg", time=0.3, ii=3.5, addl=5),))
    df = simulate(Patient(), regimen, horizon=21, step=1 / 48)
    times = [0.3 + 3.5 * k for k in range(6)]
    expected = closed_form(df.time.to_numpy(), [1600.0] * 6, times)
    np.testing.assert_allclose(df.ta1_plasma, expected, rtol=1e-5, atol=1e-6)


def test_single_dose_reproduces_published_exposure():
    """1.6 mg SC: Cmax ~ 91 ng/mL at ~1.8 h, t1/2 within 2.6-3.9 h (Chinese BE study)."""
    df = simulate(Patient(), Regimen((Dose("thymalfasin", 1.6, "mg"),)), horizon=2, step=1 / 1440)
    c = df.ta1_plasma.to_numpy() - default_model().defaults["PK_C_endo"]
    i = int(np.argmax(c))
    assert c[i] == pytest.approx(90.95, rel=0.10)
    assert df.time[i] * 24 == pytest.approx(1.8, abs=0.2)
    late = (df.time > 0.5) & (df.time < 1.0)
    slope = np.polyfit(df.time[late], np.log(c[late]), 1)[0]
    assert 2.6 <= np.log(2) / -slope * 24 <= 3.9


def test_mass_balance_dosed_equals_body_plus_eliminated():
    regimen = Regimen((Dose("thymalfasin", 1.6, "mg", ii=3.5, addl=9),))
    df = simulate(Patient(), regimen, horizon=40, step=0.5,
                  extra=["PK_depot", "PK_central", "PK_eliminated"])
    dosed = 1600.0 * np.array([np.sum(np.arange(10) * 3.5 <= t) for t in df.time])
    in_body = df.PK_depot + df.PK_central + df.PK_eliminated
    np.testing.assert_allclose(in_body, dosed, rtol=1e-9, atol=1e-6)


def test_exposure_endpoints_match_the_closed_form_auc():
    """AUC of plasma Ta1 above its endogenous level over the horizon = sum of dose / CL (linear PK, every
    dose's tail inside the horizon); Cmax of the 1.6 mg doses = the closed-form Cmax (event-exact endpoints)."""
    from thymosim.analysis.endpoints import evaluate
    from thymosim.model import default_model
    from thymosim.scenario import named

    scenario = named("cisplatin_vinorelbine_ta1")
    df = scenario.simulate(step=1 / 96)
    p = default_model().defaults
    doses = scenario.regimen.administrations().query("drug == 'thymalfasin'")
    ug = 1000.0 * doses.amt.sum()  # mg -> ug
    horizon = float(df.time.iloc[-1])
    expected = ug / p["PK_CL"]  # above the endogenous level; ug/L x day = ng/mL x day
    assert evaluate("ta1_auc", df, scenario) == pytest.approx(expected, rel=0.01)
    assert evaluate("ta1_cavg", df, scenario) == pytest.approx(expected / horizon, rel=0.01)
    ka, ke, v, _ = table_pk()
    cmax = cmax_after([(1000.0 * doses.amt.iloc[0], 0.0)], 0.0, ka, ke, v)  # one dose's peak above the endogenous
    assert evaluate("ta1_cmax", df, scenario) == pytest.approx(cmax, rel=0.01)
