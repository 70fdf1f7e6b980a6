"""The accuracy budget the default solver was chosen by (benchmarks/accuracy.py): every output
within 1e-4 of its range of a tight reference (BDF, rtol 1e-10, atol 1e-14), continuous endpoints
within 1e-4, no integer-day endpoint or RECIST class changed. The default Ta1 arm in the fast
tier, every named scenario in the full suite."""

import pytest

from thymosim.analysis.accuracy import BUDGET, Deviation, deviation, evaluate, reference_model
from thymosim.scenario import named, names


def check(name: str) -> Deviation:
    scenario = named(name)
    result = deviation(evaluate(scenario, reference_model(scenario.model)), evaluate(scenario))
    assert result.inside, f"{name}: {result}"
    return result


def test_default_arm_is_inside_the_accuracy_budget():
    check("cisplatin_vinorelbine_ta1")


@pytest.mark.slow
@pytest.mark.parametrize("name", names())
def test_every_named_scenario_is_inside_the_accuracy_budget(name):
    check(name)


def test_the_budget_check_can_fail():
    """A solver 100x looser than the default leaves the budget."""
    scenario = named("prag")
    loose = scenario.model.with_tolerances(1e-4, 1e-6)
    result = deviation(evaluate(scenario, reference_model(scenario.model)), evaluate(scenario, loose))
    assert not result.inside and result.output > BUDGET
