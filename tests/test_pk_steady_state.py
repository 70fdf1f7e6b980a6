"""The periodic steady-state solver (thymosim.pk_steady_state) on its own, against the closed-form
one-compartment thymalfasin PK (tests/pk_closed_form.py): the sub-system it finds, its rates and the
state at any phase of the interval."""

import numpy as np
import pk_closed_form as closed_form
import pytest

from thymosim.model import default_model
from thymosim.pk_steady_state import pk_system

KA, KE, V, _ = closed_form.table_pk()


def test_the_thymalfasin_sub_system_has_the_tables_absorption_and_elimination_rates():
    model = default_model()
    system = pk_system(model, model.drugs["thymalfasin"], model.values())
    assert system.states == ["PK_depot", "PK_central"]  # not the cumulative eliminated amount
    assert sorted(np.linalg.eigvals(system.jacobian).real) == pytest.approx(sorted([-KA, -KE]), rel=1e-6)


@pytest.mark.parametrize("phase", [0.1, 0.5, 1.0])
def test_the_state_at_any_phase_is_the_sum_of_all_earlier_doses(phase):
    model = default_model()
    system = pk_system(model, model.drugs["thymalfasin"], model.values())
    tau = 2.0
    state = system.periodic_state(1600.0, tau, theta=phase * tau)
    doses = [(1600.0, -k * tau) for k in range(400)]  # the last at 0; 800 days, far past any half-life
    assert state["PK_central"] / V == pytest.approx(closed_form.conc(phase * tau, doses, KA, KE, V)[0], rel=1e-8)


def test_an_infusion_of_a_drug_without_an_infusion_input_is_refused():
    model = default_model()
    system = pk_system(model, model.drugs["thymalfasin"], model.values())
    bolus_only = type(system)(system.drug, system.states, system.jacobian, None)
    with pytest.raises(ValueError, match=r"^dur: thymalfasin has no infusion input"):
        bolus_only.periodic_state(1600.0, 2.0, dur=0.1)
