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


OUTSIDE = {
    "ta1_normal": "known solver failure: IFN-gamma 1.5e-4 of its range off the tight reference. In a patient at the "
                  "healthy set points Ta1 moves IFN-gamma by 2 % of its value only, so 1e-4 of that range asks for "
                  "2e-6 relative accuracy, about the solver's relative tolerance (1e-6; the error is 3e-6 of the "
                  "value); a tighter default rtol would cost every simulation about 7 %",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=OUTSIDE[n]))
                                  if n in OUTSIDE else n for n in names()])
def test_every_named_scenario_is_inside_the_accuracy_budget(name):
    check(name)


def test_the_budget_check_can_fail():
    """A solver 100x looser than the default leaves the budget."""
    scenario = named("prag")
    loose = scenario.model.with_tolerances(1e-4, 1e-6)
    result = deviation(evaluate(scenario, reference_model(scenario.model)), evaluate(scenario, loose))
    assert not result.inside and result.output > BUDGET


@pytest.mark.slow
def test_a_24_month_course_with_a_long_follow_up_after_treatment_is_inside_the_budget():
    """The default Ta1 arm continued to day 126 then followed to 24 months without treatment (a
    trial patient stopped at progression): its 600-day dose-free follow-up is integrated with BDF
    (simulation.QUIET_SEGMENT). With Adams alone the new-lesion hazard was 3.4e-4 of its range off
    the reference (the diameter 1.5e-4), outside the budget."""
    from dataclasses import replace

    from thymosim.analysis.trial import continued, stopped

    arm = named("cisplatin_vinorelbine_ta1")
    course = replace(arm, horizon=730.0, regimen=stopped(continued(arm.regimen, ["thymalfasin"], 730.0), 126.0))
    result = deviation(evaluate(course, reference_model(course.model)), evaluate(course))
    assert result.inside, result


def test_ta1_normal_moves_ifn_gamma_by_about_two_percent_of_its_value():
    """Why ta1_normal's budget is tight (docs/guide/speed.md, OUTSIDE above): in a patient at the set points
    thymalfasin moves IFN-gamma by about 2 % of its value (the committed reference time course)."""
    from pathlib import Path

    from test_reference import committed

    ifng = committed("ta1_normal").IFNg
    assert (ifng.max() - ifng.min()) / ifng.abs().max() == pytest.approx(0.02, abs=0.005)
    page = Path(__file__).parents[1] / "docs" / "guide" / "speed.md"
    assert "about 2 % of its value" in " ".join(page.read_text(encoding="utf-8").split())
