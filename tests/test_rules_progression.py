"""Rules that fire on RECIST progression at a scan, and on a comparison met on N consecutive
visits: each fires exactly where it should and nowhere else; bad ones are refused with the field
named; the SBML export carries consecutive-visit rules as events and refuses progression rules."""

import copy

import numpy as np
import pytest
from guided_export import copasi_matches, within_range

from thymosim import Patient, simulate
from thymosim.rules import before
from thymosim.scenario import Scenario, ScenarioError

BASE = {"name": "guided", "horizon": 60, "step": 0.5,
        "doses": [{"drug": "cisplatin", "amt": "80 mg/m2", "ii": "21 day", "addl": 1, "dur": "1 h"},
                  {"drug": "thymalfasin", "amt": "1.6 mg", "ii": "3.5 day", "until": "60 day"}]}


def _scenario(*rules, horizon=60):
    data = copy.deepcopy(BASE) | {"horizon": horizon, "rules": list(rules)}
    data["doses"][1]["until"] = f"{horizon} day"
    return Scenario.from_dict(data)


def _progression(visits, **more):
    return {"on": "progression", "visits": list(visits), "action": "stop", "drug": "thymalfasin", **more}


def _first_pd_by_hand(days, diameters):
    """RECIST 1.1 diameter criterion written out: >= 20 % and >= 5 mm over the nadir of the baseline
    and earlier scans (Eisenhauer 2009); the first such scan's day, else None."""
    nadir = diameters[0]
    for day, d in zip(days[1:], diameters[1:], strict=True):
        if d >= 1.2 * nadir and d - nadir >= 5.0:
            return day
        nadir = min(nadir, d)
    return None


SCANS = [21, 42, 63, 84, 105, 126, 147, 168, 175]


def test_a_progression_rule_fires_exactly_at_the_progression_scan_and_only_then():
    plain = _scenario(horizon=180)
    course = plain.simulate(step=1.0).set_index("time").tumour_diameter
    pd_day = _first_pd_by_hand([0, *SCANS], course.loc[[0, *SCANS]].to_numpy())
    assert pd_day == 168  # regrowth after two cycles of cisplatin: the precondition of this test
    rule = _scenario(_progression(SCANS, once=False), horizon=180)
    regimen, log = rule.guided()
    assert log.day.tolist() == SCANS  # read at every scan, also after it fired (once = false)
    assert log[log.fired].day.tolist() == [168.0]  # fired there and at no other scan (not at 175)
    # the scans up to the stop read the unguided course (after it, Ta1 is stopped)
    np.testing.assert_allclose(log.value[:-1], course.loc[SCANS[:-1]], rtol=1e-6)
    ta1 = [t for d in regimen.doses if d.drug == "thymalfasin" for t in d.times]
    assert max(ta1) < 168 and max(ta1) > 164  # the last dose before the progression scan
    # scans that stop before the regrowth never see progression: nothing changes
    early = _scenario(_progression(SCANS[:6]), horizon=180)
    regimen, log = early.guided()
    assert not log.fired.any() and regimen == plain.regimen


def test_a_consecutive_visits_rule_fires_at_the_second_qualifying_visit_in_a_row():
    plain = _scenario()
    visits = [7, 8, 14, 15, 22]
    cd4 = {d: float(simulate(Patient(), before(plain.regimen, d), times=[0, d]).CD4.iloc[-1]) for d in visits}
    low, high = max(cd4[7], cd4[14]), min(cd4[8], cd4[15], cd4[22])
    # blood CD4 swings with the twice-weekly Tα1 doses (the blood-share effect): lowest just before a dose
    # (days 7, 14), higher the day after one (8, 15) and at day 22: the precondition of this test
    assert low < high
    threshold = (low + high) / 2  # met at 8, not 14, met at 15 and 22
    rule = {"output": "CD4", "visits": visits, "when": ">", "threshold": threshold, "action": "stop",
            "drug": "thymalfasin", "consecutive": 2}
    regimen, log = _scenario(rule).guided()
    assert log.holds.tolist() == [False, True, False, True, True]
    assert log.fired.tolist() == [False, False, False, False, True]  # one qualifying visit (8, 15) is not enough
    ta1 = [t for d in regimen.doses if d.drug == "thymalfasin" for t in d.times]
    assert max(ta1) == pytest.approx(21.0)  # stopped from day 22
    once = _scenario(rule | {"consecutive": 1}).guided()[1]
    assert once.fired.tolist() == [False, True]  # without the condition it fires at the first qualifying visit


def test_rules_on_progression_and_consecutive_visits_round_trip(tmp_path):
    s = _scenario(_progression([21, 42], name="stop at PD"),
                  {"output": "CD4", "visits": [7, 14], "when": ">", "threshold": 400, "action": "stop",
                   "drug": "cisplatin", "consecutive": 2})
    again = Scenario.load(s.save(tmp_path / "g.toml"))
    assert again.rules == s.rules
    assert again.rules[0].output == "tumour_diameter" and again.rules[1].consecutive == 2


@pytest.mark.parametrize("rule, message", [
    (_progression([21]) | {"on": "relapse"}, r"rules\[0\].on: 'relapse'; allowed: count, progression"),
    (_progression([21]) | {"threshold": 40}, r"rules\[0\].threshold: 40; a rule on progression takes no threshold"),
    (_progression([21]) | {"when": ">"}, r"rules\[0\].when: '>'; a rule on progression takes no when"),
    (_progression([0, 21]), r"rules\[0\].visits: day 0 is the baseline scan"),
    (_progression([21, 42]) | {"consecutive": 2}, r"rules\[0\].consecutive: 2; a rule on progression fires"),
    ({"on": "progression", "visits": [21], "drug": "thymalfasin"}, r"rules\[0\].action: required; a rule on "
                                                                      "progression needs visits, action and drug"),
    (_progression([21]) | {"output": "CD99"}, r"rules\[0\].output: 'CD99' is not an output"),
    ({"output": "CD4", "visits": [7, 14], "when": ">", "threshold": 400, "action": "stop", "drug": "thymalfasin",
      "consecutive": 0}, r"rules\[0\].consecutive: 0; allowed: a whole number of visits >= 1"),
    ({"output": "CD4", "visits": [7, 14], "when": ">", "threshold": 400, "action": "stop", "drug": "thymalfasin",
      "consecutive": 3}, r"rules\[0\].consecutive: 3 visits in a row, but the rule has 2"),
    ({"output": "CD4", "visits": [7, 14], "when": ">", "threshold": 400, "action": "stop", "drug": "thymalfasin",
      "consecutive": 1.5}, r"rules\[0\].consecutive: 1.5; allowed: a whole number"),
])
def test_bad_progression_and_consecutive_rules_are_refused_with_the_field_named(rule, message):
    with pytest.raises(ScenarioError, match=message):
        _scenario(rule)


def test_the_export_refuses_a_progression_rule_naming_it():
    from thymosim.sbml.export import scenario_sbml

    with pytest.raises(ValueError, match=r"rules\[0\] \('stop at PD'\) fires on RECIST progression"):
        scenario_sbml(_scenario(_progression([21, 42], name="stop at PD")))


CONSECUTIVE = ({"output": "CD4", "visits": [7, 14, 28, 42, 49], "when": ">", "threshold": 287.5, "action": "stop",
                "drug": "thymalfasin", "consecutive": 2},
               {"output": "ANC", "visits": [10, 17, 24], "when": ">", "threshold": 0.0, "action": "scale",
                "drug": "cisplatin", "factor": 0.5, "consecutive": 2, "once": False})


def _fired_flags(scenario, log):
    """Per rule and visit (the export's flag order): 1.0 where the visit loop fired the rule."""
    fired = {(r, d) for r, d in zip(log.rule[log.fired], log.day[log.fired], strict=True)}
    return [float((i, v) in fired) for i, rule in enumerate(scenario.rules) for v in sorted(rule.visits)]



def test_the_exported_sbml_doses_as_a_consecutive_visits_rule_does():
    """libroadrunner on the file alone against thymosim's visit loop: the same flags, the same course."""
    import roadrunner

    from thymosim import default_model
    from thymosim.sbml.export import scenario_sbml

    scenario = _scenario(*CONSECUTIVE)
    log = scenario.guided()[1]
    rr = roadrunner.RoadRunner(scenario_sbml(scenario))
    names = ("CD4", "ANC", "ta1_plasma", "tumour_diameter")
    ids = [default_model().outputs[c].id.strip("[]") for c in names]
    flags = [f"rule_0_visit_{k}" for k in range(5)] + [f"rule_1_visit_{k}" for k in range(3)]
    result = rr.simulate(0, 60, 61, selections=["time", *ids, *flags])
    ours = scenario.simulate(step=1.0)
    for column, sid in zip(names, ids, strict=True):
        within_range(result[sid], ours[column].to_numpy(), column)
    assert [result[f][-1] for f in flags] == _fired_flags(scenario, log)


@pytest.mark.crosstool
def test_copasi_reproduces_a_consecutive_visits_rule_from_the_exported_sbml():
    scenario = _scenario(*CONSECUTIVE)
    copasi = copasi_matches(scenario)
    flags = [f"rule_0_visit_{k}" for k in range(5)] + [f"rule_1_visit_{k}" for k in range(3)]
    assert [copasi[f].iloc[-1] for f in flags] == _fired_flags(scenario, scenario.guided()[1])


def test_the_user_guide_examples_of_both_rules_load_and_run():
    import re
    import tomllib
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "guide" / "who-benefits.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "progression" in b)
    rules = tomllib.loads(block)["rules"]
    assert [r.get("on", "count") for r in rules] == ["count", "progression"] and rules[0]["consecutive"] == 2
    log = _scenario(*rules, horizon=180).guided()[1]
    assert log[log.rule == 1].fired.tolist() == [False, False, False, True]  # regrowth seen at the day-168 scan
    assert not log[log.rule == 0].fired.any()  # the typical patient's CD4 stays below 400/uL


def test_a_progression_rule_acts_per_patient_in_a_sweep():
    """Each virtual patient's own scans decide: a faster-growing tumour progresses at an earlier scan,
    and the rule stops its thymalfasin there (less exposure than the slower tumour's)."""
    import pandas as pd

    from thymosim.analysis.sweep import apply_point, run_sweep

    scenario = _scenario(_progression(SCANS[:-1]), horizon=180)
    from thymosim.tables import parameter_value

    points = pd.DataFrame({"TUM_g_net": [parameter_value("TUM_g_net") * f for f in (1.0, 2.0)]})
    result = run_sweep(scenario, points, ["auc:ta1_plasma"], progress=False)
    assert (result.status == "ok").all()
    slow, fast = result.sort_values("run").value.to_numpy(float)
    assert fast < 0.9 * slow
    days = [apply_point(scenario.to_dict(standalone=False), p, scenario.model).guided()[1].query("fired").day.tolist()
            for p in points.to_dict("records")]
    assert days == [[168.0], [105.0]]  # each patient's own progression scan
