"""Count-guided regimens: rules that read a model output at stated visit days and change a drug's
doses from that visit on (start, stop, switch, scale), as in protocols that dose by the patient's
blood counts.

A :class:`Rule` is data (a scenario's ``[[rules]]`` tables, see :mod:`thymosim.scenario`). At each
visit the rule reads its output as a blood sample would: the state at the visit before any dose of
that day (the simulation up to the visit, with the doses before it). When the comparison holds the
action changes the regimen for the administrations on or after the visit; the earlier course is
unchanged, so the guided simulation (:func:`guided`) is the plain simulation of the final regimen.
Visits in days; thresholds in the output's unit (models/outputs.tsv: counts cells/uL, diameter mm).

Two more kinds of condition:

- ``consecutive = N``: the comparison must hold at this visit and at the rule's ``N - 1`` visits
  before it ("stop Ta1 once CD4 > 400/uL on two visits" fires at the second qualifying visit in a
  row, never after one; a visit where it fails starts the count again);
- ``on = "progression"``: the rule's visits are tumour scans (day 0 is the baseline scan) and it
  fires at the first scan that RECIST 1.1 reads as progression (:func:`thymosim.recist.classify`,
  unconfirmed, on the diameters of ``output``, default ``tumour_diameter``, read at the baseline and
  at the rule's visits up to this one), and only there. The diameter criterion only: a simulation
  has no new lesions (a trial draws them; its stop at progression covers them).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from thymosim import recist
from thymosim.model import Model
from thymosim.patient import Patient
from thymosim.regimen import Dose, Regimen, _drug_key
from thymosim.simulation import simulate

ACTIONS = ("start", "stop", "switch", "scale")
"""start: add ``doses`` (times counted from the visit); stop: remove the drug's administrations on or
after the visit; switch: stop, then start ``doses``; scale: multiply the drug's amounts on or after
the visit by ``factor``."""
COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
EPS = 1e-9  # days: an administration at the visit counts as on the visit
CONDITIONS = ("count", "progression")
"""count: the output compared with a threshold; progression: RECIST progression at a scan."""
PROGRESSION_OUTPUT = "tumour_diameter"
"""The output a progression rule reads when it names none (the sum-of-diameters proxy, mm)."""


@dataclass(frozen=True)
class Rule:
    """At each of ``visits`` [day], if ``output`` ``when`` ``threshold`` holds (on the last
    ``consecutive`` visits of the rule), or with ``on = "progression"`` at the first scan read as
    RECIST progression, do ``action`` to ``drug``'s regimen from the visit on. ``once``: the rule
    fires at the first visit where its condition holds and not again."""

    output: str
    visits: tuple[float, ...]
    when: str = ""
    threshold: float | None = None
    action: str = ""
    drug: str = ""
    doses: Regimen = field(default_factory=Regimen)
    factor: float | None = None
    once: bool = True
    name: str = ""
    on: str = "count"
    consecutive: int = 1

    def __post_init__(self) -> None:
        visits = self.visits if isinstance(self.visits, Sequence) else (self.visits,)
        object.__setattr__(self, "visits", tuple(float(v) for v in visits))
        if not self.visits or any(not (math.isfinite(v) and v >= 0) for v in self.visits):
            raise ValueError(f"visits: {list(self.visits)}; allowed: one or more days >= 0")
        if self.on not in CONDITIONS:
            raise ValueError(f"on: {self.on!r}; allowed: {', '.join(CONDITIONS)}")
        if isinstance(self.consecutive, bool) or not isinstance(self.consecutive, int) or self.consecutive < 1:
            raise ValueError(f"consecutive: {self.consecutive!r}; allowed: a whole number of visits >= 1")
        if self.consecutive > len(self.visits):
            raise ValueError(f"consecutive: {self.consecutive} visits in a row, but the rule has "
                             f"{len(self.visits)}; allowed: at most its number of visits")
        if self.on == "progression":
            self._check_progression()
        else:
            if self.when not in COMPARISONS:
                raise ValueError(f"when: {self.when!r}; allowed: {', '.join(COMPARISONS)}")
            if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float) \
                    or not math.isfinite(self.threshold):
                raise ValueError(f"threshold: {self.threshold!r}; allowed: a finite number in the output's unit")
        if not isinstance(self.drug, str) or not self.drug:
            raise ValueError(f"drug: {self.drug!r}; allowed: the name of the drug acted on")
        if self.action not in ACTIONS:
            raise ValueError(f"action: {self.action!r}; allowed: {', '.join(ACTIONS)}")
        if self.action in ("start", "switch") and not self.doses.doses:
            raise ValueError(f"doses: action {self.action!r} needs the doses to give from the visit on "
                             "([[rules.doses]] tables, times counted from the visit)")
        if self.action in ("stop", "scale") and self.doses.doses:
            raise ValueError(f"doses: action {self.action!r} takes no doses; allowed: doses with start or switch")
        if self.action == "scale":
            if isinstance(self.factor, bool) or not isinstance(self.factor, int | float) \
                    or not (math.isfinite(self.factor) and self.factor >= 0):
                raise ValueError(f"factor: {self.factor!r}; action 'scale' needs a finite factor >= 0")
        elif self.factor is not None:
            raise ValueError(f"factor: {self.factor!r}; allowed only with action 'scale'")
        if not isinstance(self.once, bool):
            raise ValueError(f"once: {self.once!r}; allowed: true or false")

    def _check_progression(self) -> None:
        """A progression rule: scans after day 0, no comparison of its own, one firing."""
        if self.when or self.threshold is not None:
            key = "when" if self.when else "threshold"
            raise ValueError(f"{key}: {getattr(self, key)!r}; a rule on progression takes no {key} (RECIST "
                             "decides); allowed: when and threshold with on = 'count' only")
        if 0.0 in self.visits:
            raise ValueError("visits: day 0 is the baseline scan of a rule on progression; allowed: "
                             "follow-up scan days > 0")
        if self.consecutive != 1:
            raise ValueError(f"consecutive: {self.consecutive}; a rule on progression fires at the first "
                             "progression scan; allowed: 1")

    def holds(self, value: float) -> bool:
        """Whether the comparison holds for the output's ``value`` at a visit (count rules)."""
        return bool(COMPARISONS[self.when](value, self.threshold))

    def progressed(self, days: Sequence[float], values: Sequence[float]) -> bool:
        """Whether the last of the scans ``values`` [mm] at ``days`` (day 0 first: the baseline) is
        the first one RECIST 1.1 reads as progression (progression rules)."""
        response = recist.classify(days, values, confirm=False)
        return bool(response.pfs_event and response.pfs_day == days[-1])

    def label(self) -> str:
        """A readable name: its ``name``, else the condition and action."""
        if self.name:
            return self.name
        if self.on == "progression":
            return f"progression of {self.output}: {self.action} {self.drug}"
        times = f" on {self.consecutive} visits" if self.consecutive > 1 else ""
        return f"{self.output} {self.when} {self.threshold:g}{times}: {self.action} {self.drug}"


def check(rules: Sequence[Rule], model: Model, horizon: float) -> None:
    """Rules against a model and a horizon [day]: known outputs and drugs, every visit in
    ``[0, horizon)``, no two rules acting differently on the same drug at the same visit."""
    for i, rule in enumerate(rules):
        where = f"rules[{i}]"
        if rule.output not in model.outputs:
            raise ValueError(f"{where}.output: {rule.output!r} is not an output of model {model.name!r}; allowed: "
                             f"{', '.join(model.outputs)}")
        if _drug_key(rule.drug) not in {_drug_key(d) for d in model.drugs}:
            raise ValueError(f"{where}.drug: {rule.drug!r} is not a drug of model {model.name!r}; allowed: "
                             f"{', '.join(model.drugs)}")
        late = [v for v in rule.visits if v >= horizon]
        if late:
            raise ValueError(f"{where}.visits: day {late[0]:g} is outside the horizon; allowed: days in "
                             f"[0, {horizon:g}) (a visit at or after the horizon changes nothing)")
    for i, a in enumerate(rules):
        for j, b in enumerate(rules[:i]):
            shared = sorted(set(a.visits) & set(b.visits))
            if shared and _drug_key(a.drug) == _drug_key(b.drug) and (a.action, a.factor, a.doses) != (
                    b.action, b.factor, b.doses):
                raise ValueError(f"rules[{j}] and rules[{i}]: contradictory actions on {a.drug} at day {shared[0]:g} "
                                 f"({b.action} and {a.action}); allowed: one action per drug and visit (give the "
                                 "rules different visits or drugs)")


def split(dose: Dose, day: float) -> tuple[Dose | None, Dose | None]:
    """The administrations of ``dose`` before ``day`` and those on or after it, as two records
    (None where there are none)."""
    times = dose.times
    n = sum(t < day - EPS for t in times)
    if n == len(times):
        return dose, None
    after = replace(dose, time=times[n], addl=len(times) - n - 1, until=None, in_cycle=None, ss=False)
    if n == 0:
        return None, after
    return replace(dose, addl=n - 1, until=None, in_cycle=None), after


def before(regimen: Regimen, day: float) -> Regimen:
    """The administrations of ``regimen`` before ``day``."""
    return Regimen(doses=[d for d in (split(dose, day)[0] for dose in regimen.doses) if d is not None])


def apply(rule: Rule, regimen: Regimen, day: float) -> Regimen:
    """``regimen`` with ``rule``'s action done at ``day``."""
    key = _drug_key(rule.drug)
    kept = []
    for dose in regimen.doses:
        if _drug_key(dose.drug) != key or rule.action == "start":
            kept.append(dose)
            continue
        early, late = split(dose, day)
        kept += [early] if early is not None else []
        if late is not None and rule.action == "scale":
            kept.append(replace(late, amt=late.amt * rule.factor))
    if rule.action in ("start", "switch"):
        kept += list(rule.doses.shift(day).doses)
    return Regimen(doses=kept)


def read(patient: Patient, regimen: Regimen, day: float, outputs: Sequence[str], model: Model) -> dict[str, float]:
    """The ``outputs`` at ``day`` before that day's doses (the doses before it only)."""
    if day == 0:
        course = simulate(patient, Regimen(), times=[0.0, 1.0], outputs=list(outputs), model=model, frame=False)
        return {o: float(course[o][0]) for o in outputs}
    course = simulate(patient, before(regimen, day), times=[0.0, day], outputs=list(outputs), model=model,
                      frame=False)
    return {o: float(course[o][-1]) for o in outputs}


def guided(patient: Patient, regimen: Regimen, rules: Sequence[Rule], model: Model,
           horizon: float) -> tuple[Regimen, pd.DataFrame]:
    """The regimen the ``rules`` make of ``regimen`` for ``patient`` over ``horizon`` days, and the
    log of every visit a rule read: ``day``, ``rule`` (its index), ``label``, ``output``, ``value``,
    ``holds`` (the comparison at this visit; for a progression rule: this scan reads PD), ``fired``
    (``holds`` on the last ``consecutive`` visits). Rules due at the same visit read the same state
    and act in their order."""
    fired: set[int] = set()
    streak = [0] * len(rules)  # visits in a row where each rule's comparison held
    scans: dict[int, list[tuple[float, float]]] = {}  # progression rules: (day, value) from the baseline
    log = []
    for day in sorted({v for rule in rules for v in rule.visits if v < horizon}):
        due = [i for i, rule in enumerate(rules) if day in rule.visits and not (rule.once and i in fired)]
        if not due:
            continue
        values = read(patient, regimen, day, sorted({rules[i].output for i in due}), model)
        for i in due:
            rule = rules[i]
            value = values[rule.output]
            if rule.on == "progression":
                if i not in scans:
                    scans[i] = [(0.0, read(patient, regimen, 0.0, [rule.output], model)[rule.output])]
                scans[i].append((day, value))
                holds = rule.progressed([d for d, _ in scans[i]], [v for _, v in scans[i]])
                fires = holds
            else:
                holds = rule.holds(value)
                streak[i] = streak[i] + 1 if holds else 0
                fires = streak[i] >= rule.consecutive
            log.append({"day": day, "rule": i, "label": rule.label(), "output": rule.output, "value": value,
                        "holds": holds, "fired": fires})
            if fires:
                regimen = apply(rule, regimen, day)
                fired.add(i)
    return regimen, pd.DataFrame(log, columns=["day", "rule", "label", "output", "value", "holds", "fired"])
