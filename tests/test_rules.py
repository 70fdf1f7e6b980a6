"""Count-guided regimens: a rule reads its output at the visit, fires exactly there and only when
its condition holds; bad rules are refused with the field named; SBML export refuses them."""

import copy

import numpy as np
import pandas as pd
import pytest
from guided_export import copasi_matches, within_range

from thymosim import Dose, Patient, Regimen, simulate
from thymosim.rules import Rule, apply, before, split
from thymosim.scenario import Scenario, ScenarioError

BASE = {"name": "guided", "horizon": 60, "step": 0.5,
        "doses": [{"drug": "cisplatin", "amt": "80 mg/m2", "ii": "21 day", "addl": 1, "dur": "1 h"},
                  {"drug": "thymalfasin", "amt": "1.6 mg", "ii": "3.5 day", "until": "60 day"}]}


def _scenario(*rules, **changes):
    data = copy.deepcopy(BASE) | changes
    data["rules"] = list(rules)
    return Scenario.from_dict(data)


def _stop(threshold, when="<", visits=(21,), **more):
    return {"output": "CD4", "visits": list(visits), "when": when, "threshold": threshold, "action": "stop",
            "drug": "thymalfasin", **more}


def test_a_rule_fires_exactly_at_its_visit_when_its_condition_holds():
    plain = _scenario()
    unguided = plain.simulate()
    cd4_21 = float(simulate(Patient(), before(plain.regimen, 21), times=[0, 21]).CD4.iloc[-1])
    fires = _scenario(_stop(cd4_21 + 1))  # CD4 at day 21 is below it: stop Ta1 from day 21
    regimen, log = fires.guided()
    assert log.day.tolist() == [21.0] and log.fired.tolist() == [True]
    assert log.value.iloc[0] == pytest.approx(cd4_21, rel=1e-12)
    ta1 = [t for d in regimen.doses if d.drug == "thymalfasin" for t in d.times]
    assert max(ta1) < 21 and max(ta1) == pytest.approx(17.5)  # the last dose before the visit
    guided = fires.simulate()
    # the same course up to the visit, a different one after it
    early, late = guided.time <= 21, guided.time > 25
    np.testing.assert_allclose(guided.CD4[early], unguided.CD4[early], rtol=1e-9)
    assert (guided.ta1_plasma[late] < unguided.ta1_plasma[late]).all()
    # identical to the fixed regimen that stops at day 21
    fixed = simulate(Patient(), regimen, horizon=60, step=0.5)
    np.testing.assert_allclose(guided.CD4, fixed.CD4, rtol=1e-12)


def test_a_rule_whose_condition_does_not_hold_changes_nothing():
    plain = _scenario()
    cd4_21 = float(simulate(Patient(), before(plain.regimen, 21), times=[0, 21]).CD4.iloc[-1])
    quiet = _scenario(_stop(cd4_21 - 1))
    regimen, log = quiet.guided()
    assert log.fired.tolist() == [False] and regimen == plain.regimen
    pd.testing.assert_frame_equal(quiet.simulate(), plain.simulate())


def test_a_once_rule_fires_at_the_first_visit_where_it_holds_only():
    r = _scenario({"output": "CD4", "visits": [7, 14, 28], "when": ">", "threshold": 0.0, "action": "scale",
                   "drug": "thymalfasin", "factor": 0.5})
    regimen, log = r.guided()
    assert log.day.tolist() == [7.0] and log.fired.all()
    amounts = {t: d.amt for d in regimen.doses if d.drug == "thymalfasin" for t in d.times}
    assert amounts[3.5] == 1.6 and amounts[7.0] == 0.8 and amounts[56.0] == 0.8
    again = _scenario({"output": "CD4", "visits": [7, 14], "when": ">", "threshold": 0.0, "action": "scale",
                       "drug": "thymalfasin", "factor": 0.5, "once": False})
    regimen, log = again.guided()
    amounts = {t: d.amt for d in regimen.doses if d.drug == "thymalfasin" for t in d.times}
    assert log.fired.tolist() == [True, True] and amounts[10.5] == 0.8 and amounts[14.0] == 0.4


def test_baseline_visit_switches_to_a_loading_week_by_the_baseline_count():
    loading = {"output": "CD3", "visits": [0], "when": "<", "threshold": 5000, "action": "switch",
               "drug": "thymalfasin", "doses": [{"amt": "3.2 mg", "ii": "1 day", "addl": 6},
                                                {"amt": "1.6 mg", "time": 7, "ii": "3.5 day", "addl": 10}]}
    regimen, log = _scenario(loading).guided()
    assert log.value.iloc[0] == pytest.approx(Patient().cd3)  # the baseline count
    ta1 = sorted((t, d.amt) for d in regimen.doses if d.drug == "thymalfasin" for t in d.times)
    assert ta1[:7] == [(float(k), 3.2) for k in range(7)] and ta1[7] == (7.0, 1.6)
    high = dict(loading, threshold=100)
    regimen, log = _scenario(high).guided()
    assert not log.fired.any() and regimen == _scenario().regimen


def test_start_adds_doses_counted_from_the_visit():
    rule = Rule("ANC", (14,), "<", 1e9, "start", "thymalfasin", Regimen(Dose("thymalfasin", "3.2 mg", ii=1, addl=2)))
    out = apply(rule, Regimen(Dose("cisplatin", "80 mg/m2")), 14)
    assert sorted(t for d in out.doses if d.drug == "thymalfasin" for t in d.times) == [14.0, 15.0, 16.0]


def test_split_keeps_every_administration_once():
    dose = Dose("thymalfasin", "1.6 mg", time=1, ii=3.5, addl=9)
    early, late = split(dose, 15)
    assert early.times + late.times == dose.times and max(early.times) < 15 <= min(late.times)
    assert split(dose, 0)[0] is None and split(dose, 100)[1] is None


def test_scenario_with_rules_round_trips_through_its_data_form(tmp_path):
    s = _scenario(_stop(300, name="CD4 low"), {"output": "tumour_diameter", "visits": 42, "when": ">=",
                                                "threshold": 40, "action": "scale", "drug": "cisplatin",
                                                "factor": 0.75})
    again = Scenario.load(s.save(tmp_path / "g.toml"))
    assert again.rules == s.rules and again.rules[1].visits == (42.0,)


@pytest.mark.parametrize("rule, message", [
    (_stop(300) | {"output": "CD99"}, "rules\\[0\\].output: 'CD99' is not an output"),
    (_stop(300, visits=[60]), "rules\\[0\\].visits: day 60 is outside the horizon"),
    (_stop(300, visits=[-1]), "rules\\[0\\].visits"),
    (_stop(300, when="=="), "rules\\[0\\].when: '=='; allowed: <, <=, >, >="),
    (_stop(300) | {"action": "pause"}, "rules\\[0\\].action: 'pause'; allowed: start, stop, switch, scale"),
    (_stop(300) | {"action": "scale"}, "rules\\[0\\].factor: None; action 'scale' needs"),
    (_stop(300) | {"factor": 2.0}, "rules\\[0\\].factor: 2.0; allowed only with action 'scale'"),
    (_stop(300) | {"action": "start"}, "rules\\[0\\].doses: action 'start' needs"),
    (_stop(300) | {"drug": "aspirin"}, "rules\\[0\\].drug: 'aspirin': unknown drug"),
    (_stop(300) | {"colour": "red"}, "rules\\[0\\].colour: unknown key"),
    ({"output": "CD4"}, "rules\\[0\\].visits: required"),
    (_stop(300) | {"action": "start", "doses": [{"amt": "-1 mg"}]}, "rules\\[0\\].doses\\[0\\].amt"),
])
def test_bad_rules_are_refused_with_the_field_named(rule, message):
    with pytest.raises(ScenarioError, match=message):
        _scenario(rule)


def test_contradictory_rules_are_refused():
    scale = _stop(500, when=">") | {"action": "scale", "factor": 2.0}
    with pytest.raises(ScenarioError, match=r"rules\[0\] and rules\[1\]: contradictory actions on thymalfasin at "
                                            r"day 21 \(stop and scale\)"):
        _scenario(_stop(300), scale)
    _scenario(_stop(300), scale | {"visits": [42]})  # another visit: fine
    _scenario(_stop(300), _stop(300, when=">"))  # the same action twice: fine


def test_a_guided_scenario_runs_in_a_sweep():
    from thymosim.analysis.sweep import run_sweep

    points = pd.DataFrame({"patient.cd4": [150.0, 250.0]})
    guided = run_sweep(_scenario(_stop(1e6)), points, ["auc:ta1_plasma"], progress=False)
    plain = run_sweep(_scenario(), points, ["auc:ta1_plasma"], progress=False)
    assert (guided.status == "ok").all()
    assert (guided.value.to_numpy() < 0.8 * plain.value.to_numpy()).all()  # Ta1 stopped at day 21 in both


LOADING = {"output": "CD3", "visits": [0], "when": "<", "threshold": 500, "action": "switch", "drug": "thymalfasin",
           "doses": [{"amt": "3.2 mg", "ii": "1 day", "addl": 6}, {"amt": "1.6 mg", "time": 7, "ii": "3.5 day",
                                                                   "addl": 10}]}
EXPORTED = (LOADING, _stop(1e6, visits=(21, 42)),  # fires at 21 only (once)
            {"output": "ANC", "visits": [14], "when": ">", "threshold": 0.0, "action": "scale", "drug": "cisplatin",
             "factor": 0.5},
            {"output": "CD3", "visits": [7], "when": ">", "threshold": 1e9, "action": "stop", "drug": "vinorelbine"})



def test_the_exported_sbml_doses_as_the_rules_do():
    """The guided scenario as SBML events (visit flags, conditional doses), run by libroadrunner
    from the file alone, against thymosim's guided simulation (the Python visit loop)."""
    import libsbml
    import roadrunner

    from thymosim import default_model
    from thymosim.sbml.export import scenario_sbml

    scenario = _scenario(*EXPORTED)
    sbml = scenario_sbml(scenario)
    document = libsbml.readSBMLFromString(sbml)
    assert document.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    assert document.getModel().getEvent("visit_rule_1_visit_1") is not None
    rr = roadrunner.RoadRunner(sbml)
    ids = [default_model().outputs[c].id.strip("[]") for c in ("CD3", "CD4", "ANC", "ta1_plasma", "tumour_diameter")]
    flags = ["rule_0_visit_0", "rule_1_visit_0", "rule_1_visit_1", "rule_2_visit_0", "rule_3_visit_0"]
    result = rr.simulate(0, 60, 61, selections=["time", *ids, *flags])
    ours = scenario.simulate(step=1.0)
    for column, sid in zip(("CD3", "CD4", "ANC", "ta1_plasma", "tumour_diameter"), ids, strict=True):
        within_range(result[sid], ours[column].to_numpy(), column)
    assert [result[f][-1] for f in flags] == [1.0, 1.0, 0.0, 1.0, 0.0]  # as the log: fired at 0, 21, 14; not 42, 7


def test_a_guided_scenario_with_a_steady_state_dose_is_refused_by_the_export():
    from thymosim.sbml.export import scenario_sbml

    data = copy.deepcopy(BASE)
    data["doses"][1] |= {"ss": True}
    data["doses"][1].pop("until")
    data["doses"][1]["addl"] = 10
    with pytest.raises(ValueError, match="steady-state dose \\(ss\\) in a count-guided scenario"):
        scenario_sbml(Scenario.from_dict(data | {"rules": [_stop(300)]}))


@pytest.mark.crosstool
def test_copasi_reproduces_the_guided_scenario_from_the_exported_sbml():
    """COPASI (basico) on the exported guided scenario matches thymosim for every output to 1e-4
    relative (the criterion of the fixed-dose export's test)."""
    copasi = copasi_matches(_scenario(*EXPORTED))
    assert copasi.rule_1_visit_1.iloc[-1] == 0.0 and copasi.rule_1_visit_0.iloc[-1] == 1.0


def test_the_user_guide_example_rules_load_and_run():
    import re
    import tomllib
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "guide" / "who-benefits.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    data = copy.deepcopy(BASE) | {"horizon": 180} | tomllib.loads(block)
    data["doses"][1]["until"] = "180 day"
    scenario = Scenario.from_dict(data)
    regimen, log = scenario.guided()
    assert log.fired.iloc[0] == (Patient().cd3 < 500)
    assert log.day.iloc[0] == 0 and set(log.output) <= {"CD3", "CD4"}


def test_a_guided_arm_in_a_paired_trial_changes_exactly_the_patients_whose_count_meets_the_rule():
    from thymosim.analysis.paired import run_paired
    from thymosim.analysis.population import sample_population
    from thymosim.analysis.trial import Design

    pop = sample_population(6, seed=2)
    threshold = float(np.median(pop.CD3_0))
    loading = {"output": "CD3", "visits": [0], "when": "<", "threshold": threshold, "action": "switch",
               "drug": "thymalfasin", "doses": [{"amt": "3.2 mg", "ii": "1 day", "addl": 6}]}
    fixed, guided = _scenario(), _scenario(loading, name="guided_loading")
    fixed = Scenario.from_dict(fixed.to_dict() | {"name": "fixed"})
    paired = run_paired([fixed, guided], population=pop, design=Design(horizon=60), progress=False)
    effects = paired.effects.set_index("vp")
    below = pop.set_index("vp").CD3_0 < threshold
    assert below.sum() == 3
    assert (effects["gain:CD3@9"][below] > 1).all()  # daily loading week: more T cells at day 9
    # above the threshold the guided arm is the fixed arm: equal up to the integrator's restart at the rule's
    # visit (1e-12 cells/uL), against a loading-week gain of > 1 cell/uL below it
    assert (effects["gain:CD3@9"][~below].abs() < 1e-6).all()
    assert (effects.d_best_change[~below].abs() < 1e-6).all()


def test_the_named_prag_guided_arm_gives_the_loading_week_below_500_cd3_only():
    from dataclasses import replace

    from thymosim.scenario import named

    arm = named("prag_ta1_guided")
    low, log = arm.guided()  # the typical patient: CD3 422.5/uL
    assert log.fired.tolist() == [True] and log.value.iloc[0] == pytest.approx(Patient().cd3)
    first_week = sorted(d.amt for d in low.doses if d.drug == "thymalfasin" for t in d.times if t < 7)
    assert first_week == [3.2] * 7
    high, log = replace(arm, patient=Patient(cd3=650.0)).guided()
    assert log.fired.tolist() == [False] and high == arm.regimen  # 1.6 mg twice weekly as prag_ta1
    assert high == named("prag_ta1").regimen
