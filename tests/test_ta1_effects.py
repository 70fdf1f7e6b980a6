"""Thymalfasin effects: deficit-dependent, never supranormal, and exact no-drug limit."""

import numpy as np

from thymosim import Dose, Patient, Regimen, simulate
from thymosim.patient import HEALTHY


def thymalfasin_biw(horizon):
    """1.6 mg SC twice weekly from day 0 until the horizon."""
    return Regimen((Dose("thymalfasin", "1.6 mg", ii="3.5 day", until=horizon),))


def gain(patient, col, horizon=180):
    treated = simulate(patient, thymalfasin_biw(horizon), horizon=horizon, step=1)
    return treated[col].iloc[-1] / getattr(patient, col.lower()) - 1


def test_ta1_raises_t_cells_more_in_lymphopenic_than_normal_patient():
    lymphopenic = Patient()
    for col in ["CD3", "CD4", "CD8"]:
        low, normal = gain(lymphopenic, col), gain(HEALTHY, col)
        assert low > 0.02, col
        assert low > 5 * abs(normal), col


def test_ta1_does_not_make_healthy_counts_supranormal():
    df = simulate(HEALTHY, thymalfasin_biw(180), horizon=180, step=1)
    assert df.CD4.max() < HEALTHY.cd4 * 1.01
    assert df.CD8.max() < HEALTHY.cd8 * 1.01
    assert df.NK.max() < HEALTHY.nk * 1.01


def test_zero_dose_reproduces_no_drug_run_exactly():
    none = simulate(Patient(), Regimen(), horizon=60, step=0.5)
    zero = simulate(Patient(), Regimen((Dose("thymalfasin", 0.0, "mg", ii=3.5, addl=16),)), horizon=60, step=0.5)
    np.testing.assert_array_equal(none.drop(columns="time").to_numpy(), zero.drop(columns="time").to_numpy())


def test_ta1_shifts_macrophages_to_m1_and_raises_mature_dcs():
    base = simulate(Patient(), horizon=28, step=1)
    treated = simulate(Patient(), thymalfasin_biw(28), horizon=28, step=1)
    assert treated.M1_M2.iloc[-1] > base.M1_M2.iloc[-1]
    assert treated.mature_DC_fraction.iloc[-1] > base.mature_DC_fraction.iloc[-1]
    assert treated.MHC_I.max() <= 1.53 + 1e-9

