"""Each Ta1 T-cell hypothesis is switchable: at 0 it leaves the untreated and chemotherapy-alone
courses exactly as they are, and under dosed Ta1 it changes the T-cell counts."""

from dataclasses import replace

import numpy as np
import pytest

from thymosim import Patient, simulate
from thymosim.analysis.selection import hypotheses
from thymosim.scenario import named
from thymosim.tables import load_parameter_table

HYPOTHESES = hypotheses()
COLUMNS = ["CD3", "CD4", "CD8", "NK", "naive_CD4", "IL2"]


def course(scenario: str | None, parameters: dict[str, float], horizon: float = 60.0):
    patient = Patient(parameters=parameters)
    if scenario is None:
        return simulate(patient, horizon=horizon, step=1)
    return replace(named(scenario), patient=patient, horizon=horizon).simulate(times=np.arange(0.0, horizon + 1))


def all_off() -> dict[str, float]:
    return {h["parameter"]: 0.0 for h in HYPOTHESES.values()}


def test_every_hypothesis_is_one_parameter_of_the_table():
    table = load_parameter_table()
    assert len(HYPOTHESES) >= 4
    for name, h in HYPOTHESES.items():
        assert h["parameter"] in table.index, name
        assert float(table.lower[h["parameter"]]) == 0.0, f"{name}: 0 (off) must be inside the bounds"
        assert h["source"], name


@pytest.mark.parametrize("name", sorted(HYPOTHESES))
@pytest.mark.parametrize("scenario", [None, "cisplatin_vinorelbine", "ifosfamide", "prag"])
def test_hypothesis_off_or_on_leaves_untreated_and_chemo_alone_unchanged(name, scenario):
    pid = HYPOTHESES[name]["parameter"]
    upper = float(load_parameter_table().upper[pid])
    off = course(scenario, all_off())
    on = course(scenario, all_off() | {pid: upper})
    columns = [c for c in COLUMNS if c in off]
    # equal to within 10x the solver's relative tolerance (1e-6): the step sequence differs by round-off
    # when an effect size multiplies a signal that is 0 up to round-off; a leak of the effect into these
    # courses would move them by per cent
    np.testing.assert_allclose(on[columns].to_numpy(), off[columns].to_numpy(), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name", sorted(HYPOTHESES))
def test_hypothesis_changes_t_cells_under_ta1(name):
    """The switch is not inert: under a Ta1 schedule with radiotherapy (prag_ta1_loading) the
    hypothesis at its upper bound moves CD3 by more than 0.2 % (200x the tolerance of the test above) at some
    time in the first 28 days (thymic output and the IL-2 axis are slow: about 1 % at most)."""
    pid = HYPOTHESES[name]["parameter"]
    upper = float(load_parameter_table().upper[pid])
    off = course("prag_ta1_loading", all_off(), horizon=28)
    on = course("prag_ta1_loading", all_off() | {pid: upper}, horizon=28)
    assert np.max(np.abs(on.CD3.to_numpy() / off.CD3.to_numpy() - 1)) > 0.002
