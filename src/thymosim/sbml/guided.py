"""SBML events of a count-guided scenario (:mod:`thymosim.rules`), so that the file alone doses
as the rules do in thymosim.

- Each visit of each rule is a flag parameter ``rule_I_visit_K`` (0/1), set by an event at the visit
  day: 1 when the rule's comparison holds for its output then (for a ``once`` rule: and no earlier
  visit of it fired). Visit events have priority 1 and read the state at their trigger time, before
  any dose of that day.
- Every administration (of the scenario's doses, and of each rule's doses at each visit it may fire)
  is its own event of priority 0 whose amount is multiplied by the flags that govern it: a rule's
  own doses by its flag; a dose of drug D on or after a visit of a rule acting on D by ``1 - flag``
  (stop, switch) or ``1 + (factor - 1) flag`` (scale). Rules acting at the same visit act in their
  order, as :func:`thymosim.rules.guided` does.

- A rule needing its comparison on ``consecutive = N`` visits also keeps ``rule_I_met_K`` (the
  comparison at visit K); its flag at visit K also needs ``rule_I_met_J == 1`` for the N - 1 visits
  before it (0 at its first N - 1 visits).

Doses at steady state (``ss``) and rules on progression (RECIST reads the nadir over every earlier
scan) cannot be written this way and are refused.
"""

from __future__ import annotations

from dataclasses import replace

import libsbml

from thymosim.regimen import Dose, Regimen, _drug_key
from thymosim.rules import EPS
from thymosim.scenario import Scenario

VISIT_PRIORITY, DOSE_PRIORITY = 1, 0


def _single(dose: Dose) -> list[Dose]:
    """One record per administration of ``dose``."""
    return [replace(dose, time=t, addl=0, until=None, in_cycle=None) for t in dose.times]


def add_guided_events(model: libsbml.Model, scenario: Scenario, amount_unit, add_event) -> None:
    """Visit flags, visit events and conditional dose events of ``scenario`` in ``model``.
    ``amount_unit(model, target)`` gives a dose target's unit; ``add_event(model, id, time, target,
    increment)`` writes one dose event (as for a fixed regimen)."""
    rules, patient = scenario.rules, scenario.patient
    if any(d.ss for r in (scenario.regimen, *(rule.doses for rule in rules)) for d in r.doses):
        raise ValueError(f"scenario {scenario.name!r}: a steady-state dose (ss) in a count-guided scenario cannot be "
                         "written as SBML events; allowed: guided scenarios without ss doses")
    for i, rule in enumerate(rules):
        if rule.on == "progression":
            raise ValueError(f"scenario {scenario.name!r}: rules[{i}] ({rule.label()!r}) fires on RECIST "
                             "progression, which reads the nadir over all earlier scans and cannot be written as "
                             "SBML events here; allowed in the export: rules comparing an output with a threshold")
    flags: dict[tuple[int, int], tuple[str, float]] = {}
    for i, rule in enumerate(rules):
        for k, visit in enumerate(sorted(v for v in rule.visits if v < scenario.horizon)):
            pid = f"rule_{i}_visit_{k}"
            for name in (pid, f"rule_{i}_met_{k}") if rule.consecutive > 1 else (pid,):
                parameter = model.createParameter()
                parameter.setId(name)
                parameter.setValue(0.0)
                parameter.setConstant(False)
                parameter.setUnits("dimensionless")
            flags[(i, k)] = (pid, visit)
    time_unit = model.getTimeUnits()
    for (i, k), (pid, visit) in flags.items():
        rule = rules[i]
        output = scenario.model.outputs[rule.output].id.strip("[]")
        comparison = f"{output} {rule.when} {rule.threshold!r}"
        condition = comparison
        if rule.consecutive > 1:  # the comparison held at the rule's previous consecutive - 1 visits too
            if k + 1 < rule.consecutive:
                condition = "false"
            else:
                condition = " && ".join([f"({comparison})", *(f"(rule_{i}_met_{j} == 1)"
                                                                for j in range(k - rule.consecutive + 1, k))])
        earlier = [flags[(i, j)][0] for j in range(k)]
        if rule.once and earlier:
            condition = f"({condition}) && ({' + '.join(earlier)} == 0)"
        event = model.createEvent()
        event.setId(f"visit_{pid}")
        event.setUseValuesFromTriggerTime(True)
        event.createPriority().setMath(libsbml.parseL3Formula(str(VISIT_PRIORITY)))
        trigger = event.createTrigger()
        trigger.setInitialValue(False)
        trigger.setPersistent(True)
        trigger.setMath(libsbml.parseL3Formula(f"time >= {visit!r} {time_unit}"))
        assignment = event.createEventAssignment()
        assignment.setVariable(pid)
        assignment.setMath(libsbml.parseL3Formula(f"piecewise(1 dimensionless, {condition}, 0 dimensionless)"))
        if rule.consecutive > 1:
            met = event.createEventAssignment()
            met.setVariable(f"rule_{i}_met_{k}")
            met.setMath(libsbml.parseL3Formula(f"piecewise(1 dimensionless, {comparison}, 0 dimensionless)"))
    administrations: list[tuple[tuple[int, int] | None, Dose]] = [
        (None, single) for dose in scenario.regimen.doses for single in _single(dose)]
    for (i, k), (_, visit) in flags.items():
        administrations += [((i, k), single) for dose in rules[i].doses.shift(visit).doses for single in _single(dose)]
    n = 0
    for origin, single in administrations:
        terms = [flags[origin][0]] if origin is not None else []
        for (j, _), (pid, visit) in flags.items():
            rule = rules[j]
            if rule.action == "start" or _drug_key(rule.drug) != _drug_key(single.drug):
                continue
            if visit > single.time + EPS:
                continue
            if origin is not None and not (visit > flags[origin][1] or (visit == flags[origin][1] and j > origin[0])):
                continue  # applied before this dose was added
            terms.append(f"(1 - {pid})" if rule.action in ("stop", "switch") else f"(1 + {rule.factor - 1!r} * {pid})")
        factor = " * ".join(terms)
        for time, target, increment in Regimen(single).actions(patient.bsa, weight=patient.weight):
            if time > scenario.horizon:
                continue
            amount = f"{increment!r} {amount_unit(model, target)}"
            add_event(model, f"dose_{n}", time, target, f"({amount}) * {factor}" if factor else amount)
            event = model.getEvent(f"dose_{n}")
            event.setUseValuesFromTriggerTime(False)  # the flags set by a visit event of the same time
            event.createPriority().setMath(libsbml.parseL3Formula(str(DOSE_PRIORITY)))
            n += 1
