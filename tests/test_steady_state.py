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
    immune = [i for i, s in enumerate(ids) if s != "TUM_V_lesion"]
    worst = max(immune, key=lambda i: rel[i])
    assert rel[worst] < 1e-6, f"{ids[worst]}: |dx/dt|/x = {rel[worst]:.2e}"
    # the lesion grows at its untreated net rate, by construction
    tumour = ids.index("TUM_V_lesion")
    assert dx[tumour] / x[tumour] == pytest.approx(rr["TUM_g_net"], rel=1e-9)


@pytest.mark.parametrize("name", PATIENTS)
def test_untreated_counts_stay_at_baseline(name):
    patient = PATIENTS[name]
    df = simulate(patient, horizon=365, step=5)
    for col, base in [("CD3", patient.cd3), ("CD4", patient.cd4), ("CD8", patient.cd8),
                      ("NK", patient.nk), ("ANC", patient.anc)]:
        np.testing.assert_allclose(df[col], base, rtol=1e-6, err_msg=col)


def test_infeasible_parameter_sets_fail_with_a_reason_instead_of_running():
    from thymosim.simulation import InfeasibleBaseline

    with pytest.raises(InfeasibleBaseline, match="TC_k_prime4"):
        simulate(Patient(parameters={"TC_p_E_IL2": 3.0, "IL2_ref": 90.0}), horizon=10)
