"""Dose finding of a count-guided regimen: a sweep over maintenance dose x schedule x threshold of
the rules, each candidate given to every patient of a virtual population and compared, patient by
patient, with the same patients without the drug (a paired run,
:func:`~thymosim.analysis.paired.run_paired`); the trade-off of benefit against total drug, and the
recommended candidate with its uncertainty over repeated populations (several seeds).

A candidate (:class:`Candidate`) rewrites a base guided arm (default ``prag_ta1_guided``,
:func:`candidate_arm`): every administration of the drug, those the rules give included, is scaled
by ``dose`` / the base's maintenance dose; the records repeated at the base's maintenance interval
get the candidate's interval ``every`` (keeping their span); each count rule acting on the drug
compares with the candidate's ``threshold``. The control is the base without the drug and its rules
(:func:`control_arm`).

Per seed and candidate (:func:`find_dose`): ``benefit`` is the mean individual reduction of the best
change of the tumour [percentage points: control's best change minus the arm's], ``orr_gain`` the
responders gained minus lost [% of evaluable patients], ``cd4_gain`` the mean CD4 gain at the last
count day [cells/uL], ``drug_mg`` the mean total drug a patient receives [mg] (its guided regimen
within the follow-up, cut at its first progression scan when the design stops treatment there).
The recommended candidate of a seed (:func:`recommend`) is the one with the least drug among those
reaching ``share`` (default 90 %) of the seed's best benefit. A candidate that cannot be built or
whose patients fail to simulate keeps its row: ``status``, ``failed`` (patients) and ``error``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from thymosim.analysis.paired import run_paired
from thymosim.analysis.population import virtual_population
from thymosim.analysis.sweep import apply_point
from thymosim.analysis.trial import COUNT_DAYS, Design
from thymosim.regimen import Dose, Regimen, _drug_key
from thymosim.rules import before
from thymosim.scenario import Scenario, ScenarioError, named

BASE = "prag_ta1_guided"
"""The guided arm a dose finding rewrites by default (PRaG + Ta1 with a loading week below a CD3 count)."""
SHARE = 0.9
"""A candidate is recommended when it reaches this share of the best benefit with the least drug."""
COLUMNS = ("seed", "candidate", "dose", "every", "threshold", "status", "n", "failed", "error", "benefit",
           "orr_gain", "cd4_gain", "drug_mg", "recommended")


@dataclass(frozen=True)
class Candidate:
    """One guided regimen: ``dose`` [mg per maintenance administration], ``every`` [days between
    them], ``threshold`` [the rules' count threshold, in the output's unit; None: the base's]."""

    dose: float
    every: float
    threshold: float | None = None

    @property
    def label(self) -> str:
        """E.g. ``1.6 mg q3.5d, threshold 500``."""
        where = "" if self.threshold is None else f", threshold {self.threshold:g}"
        return f"{self.dose:g} mg q{self.every:g}d{where}"


def grid(doses: Sequence[float], every: Sequence[float], thresholds: Sequence[float | None] = (None,)
         ) -> list[Candidate]:
    """Every combination of ``doses`` [mg], intervals ``every`` [days] and ``thresholds``."""
    return [Candidate(float(d), float(e), None if t is None else float(t))
            for d, e, t in itertools.product(doses, every, thresholds)]


def _records(regimen: Regimen, drug: str) -> list[Dose]:
    key = _drug_key(drug)
    return [d for d in regimen.doses if _drug_key(d.drug) == key]


def _rescheduled(dose: Dose, ratio: float, base_every: float, every: float) -> Dose:
    """``dose`` scaled by ``ratio``; at the interval ``every`` if it repeats at ``base_every``, over the same span."""
    if not (dose.addl or dose.until is not None) or not math.isclose(dose.ii, base_every):
        return replace(dose, amt=dose.amt * ratio)
    if dose.until is not None:
        return replace(dose, amt=dose.amt * ratio, ii=every, addl=0, until=dose.until)
    return replace(dose, amt=dose.amt * ratio, ii=every, addl=int(math.floor(dose.addl * dose.ii / every + 1e-9)))


def candidate_arm(base: Scenario, candidate: Candidate, drug: str = "thymalfasin") -> Scenario:
    """``base`` with its ``drug`` given as ``candidate`` says (module docstring), validated; a
    candidate that makes no valid scenario raises :class:`~thymosim.scenario.ScenarioError`."""
    own = _records(base.regimen, drug)
    if not own:
        raise ScenarioError(f"scenario {base.name!r} gives no {drug}; allowed: a guided arm giving it")
    if not (math.isfinite(candidate.dose) and candidate.dose > 0):
        raise ScenarioError(f"dose: {candidate.dose!r}; allowed: a finite dose > 0 mg")
    if not (math.isfinite(candidate.every) and candidate.every > 0):
        raise ScenarioError(f"every: {candidate.every!r}; allowed: a finite interval > 0 days")
    ratio, base_every = candidate.dose / own[0].amt, own[0].ii
    key = _drug_key(drug)

    def rewrite(regimen: Regimen) -> Regimen:
        return Regimen(doses=[_rescheduled(d, ratio, base_every, candidate.every) if _drug_key(d.drug) == key else d
                              for d in regimen.doses])

    rules = []
    for rule in base.rules:
        if _drug_key(rule.drug) == key:
            rule = replace(rule, doses=rewrite(rule.doses))
            if rule.on == "count" and candidate.threshold is not None:
                rule = replace(rule, threshold=candidate.threshold)
        rules.append(rule)
    arm = replace(base, name=f"{base.name}:{candidate.label}", title=candidate.label, regimen=rewrite(base.regimen),
                  rules=tuple(rules))
    try:
        return Scenario.from_dict(arm.to_dict(standalone=False), model=base.model)
    except ValueError as err:
        raise ScenarioError(f"candidate {candidate.label!r}: {err}") from None


def control_arm(base: Scenario, drug: str = "thymalfasin") -> Scenario:
    """``base`` without ``drug``: its records and the rules acting on it removed."""
    key = _drug_key(drug)
    return replace(base, name=f"{base.name}:no {drug}", title=f"without {drug}",
                   regimen=Regimen(doses=[d for d in base.regimen.doses if _drug_key(d.drug) != key]),
                   rules=tuple(r for r in base.rules if _drug_key(r.drug) != key))


def drug_given(arm: Scenario, population: pd.DataFrame, until: Sequence[float] | None = None,
               drug: str = "thymalfasin") -> np.ndarray:
    """Total ``drug`` [mg] each patient of ``population`` receives on ``arm`` (its guided regimen,
    administrations before ``until`` [days, per patient; default the arm's horizon])."""
    data = arm.to_dict(standalone=False)
    factors = population.drop(columns=["vp", "arm", "u_new_lesion"], errors="ignore")
    ends = np.full(len(population), arm.horizon) if until is None else np.minimum(np.asarray(until, float),
                                                                                  arm.horizon)
    total = np.full(len(population), np.nan)
    for i, (row, end) in enumerate(zip(factors.to_dict("records"), ends, strict=True)):
        try:
            scenario = apply_point(data, row, arm.model)
            regimen = before(scenario.guided()[0], float(end))
        except (ValueError, RuntimeError):
            continue  # the patient's simulation failed: no total (its row says why)
        patient = scenario.patient
        amounts = [float(d.amt) * (patient.bsa if d.per_bsa else patient.weight if d.per_weight else 1.0)
                   * len(d.times) for d in _records(regimen, drug)]
        total[i] = float(np.sum(amounts))
    return total


def _rows(paired_effects: pd.DataFrame, patients: pd.DataFrame, arm: Scenario, design: Design,
          drug: str) -> dict[str, Any]:
    """The row of one candidate from its paired run."""
    effects = paired_effects[paired_effects.arm == arm.name]
    ok = effects[effects.evaluable]
    own = patients[patients.arm == arm.name].set_index("vp").reindex(effects.vp)
    failed = int((~effects.evaluable).sum())
    errors = own.error.dropna().astype(str)
    errors = errors[errors != ""]
    day = max(d for d in COUNT_DAYS if f"gain:CD4@{d:g}" in effects) if any(
        f"gain:CD4@{d:g}" in effects for d in COUNT_DAYS) else None
    until = own.first_pd_day.fillna(np.inf).to_numpy(float) if design.stop_at_progression else None
    n = len(ok)
    return {"status": "ok" if n else "failed", "n": n, "failed": failed,
            "error": errors.iloc[0] if len(errors) else "",
            "benefit": float(-ok.d_best_change.mean()) if n else np.nan,
            "orr_gain": float(100 * ok.response_effect.mean()) if n else np.nan,
            "cd4_gain": float(ok[f"gain:CD4@{day:g}"].mean()) if n and day else np.nan,
            "_until": until}


def recommend(table: pd.DataFrame, share: float = SHARE) -> pd.Series:
    """Per seed: True for the candidate with the least ``drug_mg`` among those whose ``benefit`` is
    at least ``share`` of the seed's best (positive) benefit; no candidate when none benefits."""
    chosen = pd.Series(False, index=table.index)
    for _, group in table[table.status == "ok"].groupby("seed"):
        best = group.benefit.max()
        if not (np.isfinite(best) and best > 0):
            continue
        good = group[(group.benefit >= share * best) & np.isfinite(group.drug_mg)]
        if len(good):
            chosen[good.sort_values(["drug_mg", "benefit"], ascending=[True, False]).index[0]] = True
    return chosen


@dataclass(frozen=True)
class DoseFinding:
    """The sweep: ``table`` (one row per seed and candidate, :data:`COLUMNS`), ``summary`` (one row
    per candidate over the seeds) and the recommended candidate with its share of the seeds."""

    table: pd.DataFrame
    summary: pd.DataFrame
    recommended: str
    """The candidate recommended in most seeds ("" if none)."""
    agreement: float
    """Share of the seeds recommending it [0-1]."""


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per candidate: the mean, SD, min and max over seeds of ``benefit``, ``orr_gain``,
    ``cd4_gain`` and ``drug_mg``; ``seeds`` (successful), ``failed`` (patients, all seeds) and
    ``recommended`` (seeds recommending it)."""
    rows = []
    for label, group in table.groupby("candidate", sort=False):
        ok = group[group.status == "ok"]
        row: dict[str, Any] = {"candidate": label, "dose": group.dose.iloc[0], "every": group.every.iloc[0],
                               "threshold": group.threshold.iloc[0], "seeds": len(ok),
                               "failed": int(group.failed.sum()), "recommended": int(group.recommended.sum())}
        for column in ("benefit", "orr_gain", "cd4_gain", "drug_mg"):
            x = ok[column].to_numpy(float)
            x = x[np.isfinite(x)]
            row[column] = float(x.mean()) if x.size else np.nan
            row[f"{column}_sd"] = float(x.std(ddof=1)) if x.size > 1 else np.nan
            row[f"{column}_min"], row[f"{column}_max"] = (float(x.min()), float(x.max())) if x.size else (np.nan,
                                                                                                          np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def find_dose(candidates: Sequence[Candidate], n: int = 40, seeds: Sequence[int] = (0, 1, 2),
              base: Scenario | str = BASE, drug: str = "thymalfasin", design: Design | None = None,
              populations: Sequence[pd.DataFrame] | None = None, share: float = SHARE, workers: int = 1,
              progress: bool = False, population: Callable[[int, int], pd.DataFrame] | None = None) -> DoseFinding:
    """Every candidate on ``n`` virtual patients per seed (``populations``: given populations, one
    per seed; ``population(n, seed)``: how to draw one, default
    :func:`~thymosim.analysis.population.virtual_population`), each patient also without the drug;
    one row per seed and candidate, failures recorded with their reason (module docstring)."""
    if not candidates:
        raise ValueError("candidates: none given; allowed: one or more Candidate (see grid())")
    if not 0 < share <= 1:
        raise ValueError(f"share: {share!r}; allowed: 0 < share <= 1")
    base = named(base) if isinstance(base, str) else base
    design = Design() if design is None else design
    if populations is None:
        if n < 1:
            raise ValueError(f"n: {n!r}; allowed: >= 1 virtual patients")
        draw = population or (lambda size, seed: virtual_population(size, seed=seed, workers=workers,
                                                                    progress=progress))
        populations = [draw(n, seed) for seed in seeds]
    elif len(populations) != len(seeds):
        raise ValueError(f"populations: {len(populations)} given for {len(seeds)} seeds; allowed: one per seed")
    arms: list[Scenario | str] = []
    for candidate in candidates:
        try:
            arms.append(candidate_arm(base, candidate, drug))
        except ScenarioError as err:
            arms.append(str(err))
    control = control_arm(base, drug)
    rows = []
    for seed, pop in zip(seeds, populations, strict=True):
        valid = [a for a in arms if isinstance(a, Scenario)]
        paired = run_paired([control, *valid], population=pop, seed=seed, design=design, workers=workers,
                            progress=progress) if valid else None
        for candidate, arm in zip(candidates, arms, strict=True):
            row = {"seed": seed, "candidate": candidate.label, "dose": candidate.dose, "every": candidate.every,
                   "threshold": np.nan if candidate.threshold is None else candidate.threshold}
            if isinstance(arm, str):
                rows.append(row | {"status": "failed", "n": 0, "failed": len(pop), "error": arm, "benefit": np.nan,
                                   "orr_gain": np.nan, "cd4_gain": np.nan, "drug_mg": np.nan})
                continue
            result = _rows(paired.effects, paired.patients, arm, design, drug)
            until = result.pop("_until")
            given = drug_given(arm, paired.population, until, drug)
            evaluable = paired.effects[paired.effects.arm == arm.name].evaluable.to_numpy()
            result["drug_mg"] = float(np.nanmean(given[evaluable])) if evaluable.any() else np.nan
            rows.append(row | result)
    table = pd.DataFrame(rows)
    table["recommended"] = recommend(table, share)
    table = table[list(COLUMNS)]
    summary = summarise(table)
    top = summary.sort_values(["recommended", "benefit"], ascending=False).iloc[0]
    chosen, agreement = (top.candidate, top.recommended / len(seeds)) if top.recommended else ("", 0.0)
    return DoseFinding(table, summary, chosen, float(agreement))
