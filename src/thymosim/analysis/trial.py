"""In-silico trials: virtual patients randomised 1:1 (or 1:1:...) to arms given as scenarios,
tumours imaged on a schedule and read by RECIST 1.1 (:mod:`~thymosim.analysis.recist`), response
rates with exact intervals and between-arm tests (:mod:`~thymosim.analysis.trialstats`).

Each arm runs on the sweep machinery (:func:`~thymosim.analysis.sweep.run_sweep`): serial, local
processes or Dask, streamed to ``out/arm-<name>/`` when ``out`` is given (resumable). A virtual
patient whose simulation fails stays in its arm (intention to treat) as not evaluable (NE), with the
reason. Time in days, counts cells/uL, diameters mm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thymosim.analysis import recist, survival, trialstats
from thymosim.analysis.population import virtual_population
from thymosim.analysis.sweep import run_sweep
from thymosim.regimen import Regimen
from thymosim.scenario import Scenario, named
from thymosim.simulation import END

COUNT_DAYS = (0.0, 9.0, 42.0)
"""Days at which each patient's blood counts are kept (baseline, the seed's day-9 panel, after two
21-day cycles)."""
COUNTS = ("CD3", "CD4", "CD8", "NK")
RESPONSE = {"ORR": recist.OBJECTIVE_RESPONSE, "DCR": recist.DISEASE_CONTROL}
"""RECIST best overall responses that count for each rate: objective response, disease control."""
DAYS_PER_MONTH = 365.25 / 12
LANDMARK_MONTHS = (6, 12)
"""Landmark times of the survival summaries [months]."""


DESIGNS_FILE = "data/trial_designs.toml"
"""Named trial designs under models/ (:meth:`Design.named`)."""
NEW_LESION = "new_lesion_hazard"
"""Model output: cumulative hazard of a new lesion since day 0 (a new lesion appears when it exceeds
-ln U, U uniform on (0, 1) drawn per patient from the trial seed)."""


@dataclass(frozen=True)
class Design:
    """Imaging, follow-up, treatment duration and response rules of a trial [days]."""

    scan_every: float = 42.0
    """Imaging interval (the seed's protocol: every two 21-day cycles), when ``scans`` is not given."""
    horizon: float | None = None
    """Follow-up [days]; default: each arm scenario's horizon. Independent of how long treatment
    lasts: the doses are the scenario's (see ``until_progression``)."""
    confirm: bool = True
    """RECIST 1.1 confirmation of CR/PR by a later scan (:data:`thymosim.analysis.recist.RULES`)."""
    sd_min_day: float = recist.SD_MIN_DAY
    """Stable disease counts only from a scan at or after this day."""
    scans: tuple[tuple[float, float], ...] = ()
    """Imaging schedule as segments (from_day, every): a scan every ``every`` days from day 0, the
    next segment's interval from the first scan on or after its from_day (empty: ``scan_every``)."""
    until_progression: tuple[str, ...] = ()
    """Drugs (names of models/drugs.tsv) given "until progression": their repeated doses continue
    at the scenario's interval to the end of follow-up (then stop at progression)."""
    stop_at_progression: bool = False
    """Stop every treatment at the first PD scan: progression itself is unchanged, what follows it
    is not. Within each patient's one simulation (:class:`ProgressionCheck`), or, for a scenario with
    count-guided rules, by simulating the patient again with the doses before the PD scan, those a
    rule adds included (:func:`_until_progression`). A trial stops imaging a patient at progression,
    so the simulation ends at the PD scan (unless ``follow_after_progression``): the scans, the
    new-lesion hazard and the counts after it are NaN (not observed) in the patient table, and the
    nadirs are those up to it. Nothing the trial reads comes after the PD scan (RECIST, PFS and
    overall survival read the scans up to the first PD), so every endpoint of the reading is the
    same either way. A PD scan before the last blood-count day kept (``count_days``) does not end
    the simulation: the patient is followed, off treatment, to the end of follow-up."""
    follow_after_progression: bool = False
    """With ``stop_at_progression``: simulate every patient to the end of follow-up, with treatment
    stopped at the PD scan, instead of ending the simulation there (the course after progression
    is then in the patient table, at the cost of simulating it)."""
    new_lesions: bool = True
    """New lesions (the model's new-lesion hazard) count as progression."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "scans", tuple((float(a), float(b)) for a, b in self.scans))
        object.__setattr__(self, "until_progression", tuple(self.until_progression))
        if not self.scan_every > 0:
            raise ValueError(f"Design.scan_every must be > 0 days, got {self.scan_every!r}")
        starts = [a for a, _ in self.scans]
        if self.scans and (starts[0] != 0.0 or any(b <= a for a, b in zip(starts, starts[1:], strict=False))
                           or any(not every > 0 for _, every in self.scans)):
            raise ValueError(f"Design.scans must be (from_day, every) segments, from_day 0 first and increasing, "
                             f"every > 0 days; got {self.scans!r}")
        first = self.scans[0][1] if self.scans else self.scan_every
        if self.horizon is not None and not self.horizon >= first:
            raise ValueError(f"Design.horizon must be >= the first scan interval ({first:g} days) so that "
                             f"at least one follow-up scan happens, got {self.horizon!r}")

    @classmethod
    def named(cls, name: str, **changes: Any) -> Design:
        """A design of models/data/trial_designs.toml (e.g. ``first_line_nsclc``), with ``changes``."""
        import tomllib

        from thymosim.model import model_dir

        designs = tomllib.loads((model_dir() / DESIGNS_FILE).read_text(encoding="utf-8"))
        if name not in designs:
            raise ValueError(f"design: {name!r} is not in models/{DESIGNS_FILE}; allowed: {', '.join(designs)}")
        fields = {k: v for k, v in designs[name].items() if k != "source"}
        fields["scans"] = tuple(tuple(x) for x in fields.get("scans", ()))
        fields["until_progression"] = tuple(fields.get("until_progression", ()))
        return cls(**(fields | changes))

    def scan_days(self, horizon: float) -> np.ndarray:
        """Imaging days up to ``horizon``: baseline 0 then the schedule [days]."""
        if not self.scans:
            return recist.scan_days(horizon, self.scan_every)
        days, t = [0.0], 0.0
        for k, (_, every) in enumerate(self.scans):
            end = self.scans[k + 1][0] if k + 1 < len(self.scans) else np.inf
            while t < end - 1e-9 and t + every <= horizon + 1e-9:
                t += every
                days.append(t)
        return np.array(days)


def endpoints_for(horizon: float, design: Design, count_days: Sequence[float] = COUNT_DAYS) -> list[str]:
    """Endpoints one virtual patient reports: the diameter (and the new-lesion cumulative hazard)
    at each scan, counts at ``count_days`` within the horizon, CD3 and ANC nadirs."""
    days = design.scan_days(horizon)
    scans = [f"at:tumour_diameter@{d:g}" for d in days]
    hazard = [f"at:{NEW_LESION}@{d:g}" for d in days[1:]] if design.new_lesions else []
    counts = [f"at:{c}@{d:g}" for d in count_days if d <= horizon for c in COUNTS]
    return scans + hazard + counts + ["lymphocyte_nadir", "nadir:ANC"]


def new_lesion_uniforms(n: int, seed: int) -> np.ndarray:
    """One uniform U in (0, 1) per patient from ``seed``: a patient's new lesion appears when the
    cumulative hazard reaches -ln U (independent of the population's and the randomisation's draws)."""
    return np.random.default_rng([int(seed), 20]).random(n)


def continued(regimen: Regimen, drugs: Sequence[str], until: float) -> Regimen:
    """``regimen`` with the repeated doses of ``drugs`` continued at their interval up to (not at)
    day ``until``: treatment "until progression" over a follow-up longer than the scenario's."""
    keys = {d.lower().replace("-", "").replace("_", "").replace(" ", "") for d in drugs}
    doses = []
    for dose in regimen.doses:
        key = dose.drug.lower().replace("-", "").replace("_", "").replace(" ", "")
        if key in keys and dose.ii > 0 and dose.in_cycle is None:
            n = int(np.floor((until - dose.time) / dose.ii - 1e-9)) + 1
            dose = replace(dose, addl=max(n - 1, dose.addl), until=None)
        doses.append(dose)
    return Regimen(doses=doses)


def stopped(regimen: Regimen, day: float) -> Regimen:
    """``regimen`` with every administration on or after ``day`` removed (treatment stops at a PD scan)."""
    doses = []
    for dose in regimen.doses:
        n = sum(t < day - 1e-9 for t in dose.times)
        if n:
            doses.append(replace(dose, addl=n - 1, until=None, in_cycle=None) if n < dose.addl + 1 else dose)
    return Regimen(doses=doses)


def run_arm(scenario: Scenario | str, population: pd.DataFrame, design: Design = Design(),
            out: str | Path | None = None, workers: int = 1, scheduler: Any = None,
            progress: bool = True, count_days: Sequence[float] = COUNT_DAYS, seed: int = 0) -> pd.DataFrame:
    """Simulate ``population`` (columns ``vp`` + parameter ids; optionally ``u_new_lesion``, else
    drawn from ``seed``) on ``scenario`` and read each patient's scans; blood counts
    (``at:CD3@DAY`` ...) are kept at ``count_days``. One row per patient: ``vp``, parameters,
    endpoints, ``status``/``error``, ``recist`` (CR/PR/SD/PD/NE), ``best_change_pct``, ``pfs_day``,
    ``pfs_event``, ``confirmed``, ``progression_reason`` ("target" | "new_lesion" | ""),
    ``first_pd_day`` (NaN without progression), ``new_lesion_day`` (the scan that first sees a new
    lesion; NaN if none within follow-up or, where the simulation ended at the PD scan, up to it),
    ``u_new_lesion``. With ``design.stop_at_progression`` the endpoints after the first PD scan are
    NaN, not observed (see :attr:`Design.stop_at_progression`)."""
    scenario = named(scenario) if isinstance(scenario, str) else scenario
    if design.horizon is not None:
        scenario = replace(scenario, horizon=float(design.horizon))
    if design.until_progression:
        scenario = replace(scenario, regimen=continued(scenario.regimen, design.until_progression, scenario.horizon))
    if any(t >= scenario.horizon for d in scenario.regimen.doses for t in d.times):
        # follow-up shorter than the scenario's treatment: what is given after it cannot be seen
        scenario = replace(scenario, regimen=stopped(scenario.regimen, scenario.horizon))
    days = design.scan_days(scenario.horizon)
    if len(days) < 2:
        raise ValueError(f"scan_every: {design.scan_every:g} days leaves no follow-up scan within the "
                         f"{scenario.horizon:g}-day horizon of scenario {scenario.name!r}; "
                         f"allowed: <= {scenario.horizon:g}")
    population = population.reset_index(drop=True).copy()
    if "u_new_lesion" not in population:
        population["u_new_lesion"] = new_lesion_uniforms(len(population), seed)
    endpoints = endpoints_for(scenario.horizon, design, count_days)
    factors = population.drop(columns=["vp", "arm", "u_new_lesion"], errors="ignore")
    uniforms = population.u_new_lesion.to_numpy(float)
    if not design.stop_at_progression:
        wide, status = _simulate(scenario, factors, endpoints, out, workers, scheduler, progress)
        rows = _read(wide, days, design, uniforms)
        patients = pd.concat([population, wide[endpoints], status], axis=1)
        return pd.concat([patients, pd.DataFrame(rows)], axis=1)
    end = not design.follow_after_progression
    keep = max((float(d) for d in count_days if d <= scenario.horizon), default=0.0)
    if ONE_PASS and not scenario.rules:  # one pass: each course stops its treatment at its own first PD scan
        check = ProgressionCheck(tuple(float(d) for d in days), design.confirm, float(design.sd_min_day),
                                 design.new_lesions, tuple(float(u) for u in uniforms), end, keep)
        wide, status = _simulate(scenario, factors, endpoints, out, workers, scheduler, progress, check)
        rows = _read(wide, days, design, uniforms)
        patients = pd.concat([population, wide[endpoints], status], axis=1)
        return pd.concat([patients, pd.DataFrame(rows)], axis=1)
    wide, status, first_pd = _until_progression(scenario, factors, endpoints, days, design, uniforms, count_days,
                                                out, workers, scheduler, progress)
    for day in sorted({float(d) for d in first_pd if np.isfinite(d)}):
        members = [i for i, d in enumerate(first_pd) if d == day]
        # stop_day also cuts what a count-guided rule adds after the PD scan
        stop = replace(scenario, regimen=stopped(scenario.regimen, day), stop_day=day)
        ends = end and day >= keep  # the simulation ends at the PD scan (as ProgressionCheck ends it)
        if stop.regimen == scenario.regimen and not scenario.rules and not ends:
            stop = scenario  # nothing given after the PD scan: the patient's course is the arm's
            if all(status.status.iloc[i] == "ok" and wide.iloc[i].notna().all() for i in members):
                continue  # simulated to the end of follow-up already
        sub_wide, sub_status = _simulate(stop, factors.iloc[members].reset_index(drop=True), endpoints,
                                         None, workers, scheduler, False, EndAt(day) if ends else None)
        wide.iloc[members] = sub_wide.to_numpy()
        status.iloc[members] = sub_status.to_numpy()
    rows = _read(wide, days, design, uniforms)
    patients = pd.concat([population, wide[endpoints], status], axis=1)
    return pd.concat([patients, pd.DataFrame(rows)], axis=1)


ONE_PASS = True
"""Stop at progression within each patient's simulation (:class:`ProgressionCheck`); a scenario with
count-guided rules, or ``ONE_PASS = False``, takes the staged search then a second simulation with
treatment stopped (:func:`_until_progression`)."""


@dataclass(frozen=True)
class ProgressionCheck:
    """Treatment stopped at the first PD scan within one simulation (a sweep ``checkpoint``, see
    :func:`thymosim.simulation.simulate`): at each scan day the course so far is read by RECIST
    (:func:`thymosim.analysis.recist.classify`, with the patient's new-lesion draw ``uniforms[run]``)
    and, at the first PD, every administration on or after that day is removed (:func:`stopped`).
    What comes before the PD scan is the course under full treatment, so the PD day is the one a
    simulation under full treatment gives (up to the solver's tolerance: the integration also
    restarts at each scan day), and the patient is simulated once instead of twice. With ``end``
    the simulation ends at the PD scan (:data:`thymosim.simulation.END`; nothing after it is read)
    when that scan is on or after day ``keep`` (the last blood-count day kept); otherwise, and
    without ``end``, it goes on to the horizon with treatment stopped. Days in days."""

    days: tuple[float, ...]
    confirm: bool
    sd_min_day: float
    new_lesions: bool
    uniforms: tuple[float, ...]
    end: bool = False
    keep: float = 0.0

    def for_run(self, run: int, scenario: Scenario) -> tuple:
        rules = recist.with_rules(sd_min_day=self.sd_min_day)
        threshold = -np.log(self.uniforms[run])
        days = np.asarray(self.days)

        def factory():
            diameters: list[float] = []
            seen: list[bool] = []

            def decide(day: float, read) -> Regimen | None:
                diameters.append(read("tumour_diameter"))
                seen.append(bool(day > 0 and self.new_lesions and read(NEW_LESION) >= threshold))
                if day == 0:
                    return None
                r = recist.classify(days[:len(diameters)], diameters, confirm=self.confirm, rules=rules,
                                    new_lesion=seen)
                if r.pfs_event and r.pfs_day == day:
                    return END if self.end and day >= self.keep else stopped(scenario.regimen, day)
                return None

            return decide

        return (self.days, factory)


@dataclass(frozen=True)
class EndAt:
    """A sweep ``checkpoint`` that ends every run's simulation at ``day`` [days]
    (:data:`thymosim.simulation.END`): the second simulation of the staged path ends at the PD scan."""

    day: float

    def for_run(self, run: int, scenario: Scenario) -> tuple:
        return ((self.day,), lambda: lambda day, read: END)


STAGES = (1 / 6, 1 / 3)
"""Fractions of the follow-up at which the search for each patient's first PD scan stops and starts
again with the patients still without progression (:func:`_until_progression`)."""


def stage_ends(days: np.ndarray, horizon: float, fractions: Sequence[float] | None = None) -> list[float]:
    """Horizons of the staged search for the first PD scan [days]: the first scan on or after each
    fraction of ``horizon`` (default :data:`STAGES`), then ``horizon`` itself."""
    fractions = STAGES if fractions is None else fractions
    ends = [float(days[np.searchsorted(days, f * horizon - 1e-9)]) for f in fractions if f * horizon <= days[-1]]
    return sorted({e for e in ends if 0 < e < horizon} | {float(horizon)})


def _until_progression(scenario: Scenario, factors: pd.DataFrame, endpoints: list[str], days: np.ndarray,
                       design: Design, uniforms: np.ndarray, count_days: Sequence[float], out, workers, scheduler,
                       progress) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Each patient's first PD scan under the arm's full treatment, found in stages (:func:`stage_ends`):
    every patient is simulated to the first stage's horizon, those without progression by then to
    the next one, and only those without progression by the last-but-one stage to the end of
    follow-up. The scans up to a stage's horizon are those of the full simulation (the same doses,
    the same integration up to it), so the PD day is the one a full simulation gives, at a fraction
    of its cost: most patients progress early. Returns the endpoints (those of the full-length
    simulation for patients without progression before the last stage, NaN for the others; they are
    simulated again with their treatment stopped), the status and the first PD day (NaN if none).
    Streamed to ``out/stage-<day>/`` when ``out`` is given."""
    n = len(factors)
    wide = pd.DataFrame(np.nan, index=range(n), columns=endpoints)
    status = pd.DataFrame({"status": ["ok"] * n, "error": [""] * n}, dtype=object)
    first_pd = np.full(n, np.nan)
    remaining = np.arange(n)
    for end in stage_ends(days, scenario.horizon):
        last = end >= scenario.horizon
        stage = scenario if last else _shortened(scenario, end)
        seen = days[days <= end + 1e-9]
        wanted = endpoints if last else endpoints_for(end, design, count_days)
        sub_out = Path(out) / f"stage-{end:g}" if out is not None else None
        sub_wide, sub_status = _simulate(stage, factors.iloc[remaining].reset_index(drop=True), wanted, sub_out,
                                         workers, scheduler, progress)
        rows = _read(sub_wide, seen, design, uniforms[remaining])
        pd_day = np.array([r["first_pd_day"] for r in rows], float)
        failed = (sub_status.status != "ok").to_numpy()
        done = last | failed | np.isfinite(pd_day)
        first_pd[remaining] = np.where(failed, np.nan, pd_day)
        if last:
            wide.iloc[remaining] = sub_wide.to_numpy()
        status.iloc[remaining[done]] = sub_status[done].to_numpy()
        remaining = remaining[~done]
        if not remaining.size:
            break
    return wide, status, first_pd


def _shortened(scenario: Scenario, end: float) -> Scenario:
    """``scenario`` followed to day ``end`` only (what is given on or after it cut, as :func:`run_arm`
    cuts a follow-up shorter than the treatment)."""
    short = replace(scenario, horizon=float(end))
    if any(t >= end for d in short.regimen.doses for t in d.times):
        short = replace(short, regimen=stopped(short.regimen, end))
    return short


def _simulate(scenario: Scenario, factors: pd.DataFrame, endpoints: list[str], out, workers, scheduler,
              progress, checkpoint: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = run_sweep(scenario, factors, endpoints, out=out, workers=workers, scheduler=scheduler,
                      progress=progress, overwrite=True, checkpoint=checkpoint)
    wide = table.pivot(index="run", columns="endpoint", values="value").reindex(range(len(factors)))
    status = table.groupby("run")[["status", "error"]].first().reindex(range(len(factors)))
    return wide.reindex(columns=endpoints), status


def _read(wide: pd.DataFrame, days: np.ndarray, design: Design, uniforms: np.ndarray,
          until: np.ndarray | None = None) -> list[dict[str, Any]]:
    """RECIST reading of each patient's scans, with the new lesion seen at the first scan whose
    cumulative hazard reaches -ln U; only the scans on or before ``until`` [days, per patient; the
    day of death] are read (default: all). Scans after the first PD scan do not count, and may be
    NaN (a simulation that ended at it: not observed); a patient whose scans are NaN otherwise (a
    failed simulation) is NE."""
    scans = wide[[f"at:tumour_diameter@{d:g}" for d in days]].to_numpy(float)
    if design.new_lesions:
        hazard = wide[[f"at:{NEW_LESION}@{d:g}" for d in days[1:]]].to_numpy(float)
    else:
        hazard = np.zeros((len(wide), len(days) - 1))
    until = np.full(len(wide), np.inf) if until is None else np.asarray(until, dtype=float)
    rules = recist.with_rules(sd_min_day=design.sd_min_day)
    rows = []
    observed = np.isfinite(scans) & np.isfinite(np.column_stack([np.zeros(len(wide)), hazard]))
    for diameters, h, u, last, finite in zip(scans, hazard, uniforms, until, observed, strict=True):
        m = len(days) if finite.all() else int(np.argmin(finite))  # the first m scans are observed
        seen = np.concatenate([[False], h >= -np.log(u)])
        ended_at_pd = m >= 2 and not finite[m:].any() and recist.classify(
            days[:m], diameters[:m], confirm=design.confirm, rules=rules, new_lesion=seen[:m]).pfs_event
        if m < len(days) and not ended_at_pd:  # scans missing after one that is no PD: a failed simulation
            rows.append({"recist": "NE", "best_change_pct": np.nan, "pfs_day": np.nan, "pfs_event": False,
                         "confirmed": False, "progression_reason": "", "first_pd_day": np.nan,
                         "new_lesion_day": np.nan})
            continue
        n = min(max(int(np.sum(days <= last + 1e-9)), 1), m)  # the baseline scan is always read
        seen = seen[:n]
        r = recist.classify(days[:n], diameters[:n], confirm=design.confirm, rules=rules, new_lesion=seen)
        rows.append({"recist": r.best, "best_change_pct": r.best_change_pct, "pfs_day": r.pfs_day,
                     "pfs_event": r.pfs_event, "confirmed": r.confirmed, "progression_reason": r.progression,
                     "first_pd_day": r.pfs_day if r.pfs_event else np.nan,
                     "new_lesion_day": float(days[np.argmax(seen)]) if seen.any() else np.nan})
    return rows


def _progression_shares(group: pd.DataFrame) -> dict[str, float]:
    """PD at the first follow-up scan and the reasons of progression [% of the arm's patients]."""
    if "progression_reason" not in group:
        return {}
    # RECIST progression only: with overall survival, pfs_day/pfs_event also count deaths
    day, event = (group.ttp_day, group.ttp_event) if "ttp_day" in group else (group.pfs_day, group.pfs_event)
    first_scan = day[day > 0].min() if (day > 0).any() else np.nan
    first = event.astype(bool) & (day == first_scan)
    n = len(group)
    return {"PD_first_scan": 100 * float(first.sum()) / n,
            "PD_target": 100 * float((group.progression_reason == "target").sum()) / n,
            "PD_new_lesion": 100 * float((group.progression_reason == "new_lesion").sum()) / n}


def summarise(patients: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per arm (in order of appearance): n, failed, responders, ORR, ORR_lo, ORR_hi, DCR,
    DCR_lo, DCR_hi [%, exact Clopper-Pearson], median_PFS [days; inf if not reached], PD_first_scan
    (PD at the first follow-up scan), PD_target and PD_new_lesion (progression by reason) [% of the
    arm]; and, for every
    arm after the first, p-values against the first: Fisher exact and chi-square of ORR, Fisher of
    DCR, log-rank of PFS (tests for independent arms: randomised patients, not the same patients
    under two treatments). Failed simulations count as non-responders in ORR and DCR (intention to
    treat) and are left out of PFS (no scan was read). The survival columns (intervals of the
    medians, OS, landmark rates, hazard ratios) are those of :func:`summarise_survival`."""
    rows = []
    arms = list(dict.fromkeys(patients.arm))
    for arm in arms:
        group = patients[patients.arm == arm]
        n = len(group)
        responders = int(group.recist.isin(RESPONSE["ORR"]).sum())
        controlled = int(group.recist.isin(RESPONSE["DCR"]).sum())
        orr, dcr = trialstats.clopper_pearson(responders, n, level), trialstats.clopper_pearson(controlled, n, level)
        ok = group.pfs_day.notna()
        rows.append({"arm": arm, "n": n, "failed": int((group.status != "ok").sum()), "responders": responders,
                     "ORR": 100 * responders / n, "ORR_lo": 100 * orr[0], "ORR_hi": 100 * orr[1],
                     "disease_control": controlled, "DCR": 100 * controlled / n, "DCR_lo": 100 * dcr[0],
                     "DCR_hi": 100 * dcr[1],
                     "median_PFS": trialstats.km_median(group.pfs_day[ok], group.pfs_event[ok])
                     if ok.any() else np.nan,
                     **_progression_shares(group)})
    summary = pd.DataFrame(rows)
    first = patients[patients.arm == arms[0]]
    for i, arm in enumerate(arms[1:], start=1):
        other = patients[patients.arm == arm]
        a, b = summary.iloc[0], summary.iloc[i]
        rates = trialstats.compare_rates(int(b.responders), int(b.n), int(a.responders), int(a.n))
        summary.loc[i, "p_ORR_fisher"] = rates["fisher_p"]
        summary.loc[i, "p_ORR_chi2"] = rates["chi2_p"]
        summary.loc[i, "p_DCR_fisher"] = trialstats.compare_rates(
            int(b.disease_control), int(b.n), int(a.disease_control), int(a.n))["fisher_p"]
        f_ok, o_ok = first.pfs_day.notna(), other.pfs_day.notna()
        summary.loc[i, "p_PFS_logrank"] = trialstats.logrank(other.pfs_day[o_ok], other.pfs_event[o_ok],
                                                             first.pfs_day[f_ok], first.pfs_event[f_ok])
    extra = summarise_survival(patients, level)
    return summary.merge(extra.drop(columns=[c for c in extra if c in summary and c != "arm"]), on="arm", how="left")


def add_overall_survival(patients: pd.DataFrame, horizon: float, seed: int,
                         design: Design = Design()) -> pd.DataFrame:
    """One arm's patients (as :func:`run_arm` gives them, read with ``design``) with overall
    survival (:func:`thymosim.analysis.survival.overall_survival`: ``os_day``, ``os_event``, the
    tumour metrics it read) and death as a competing event for PFS [days].

    Order: the survival link reads the simulated tumour up to its first progression as
    :func:`run_arm` read it on every scan (a property of the tumour trajectory, whether or not the
    patient lives to be imaged), which gives the day of death; RECIST is then read again on the
    scans on or before death only (a dead patient is not imaged), so no response or progression
    is read after death. The survival fit never depends on this second reading: no circularity.
    A patient who dies before the first follow-up scan is NE for response. The RECIST progression
    columns become ``ttp_day``/``ttp_event`` (time to progression) and ``pfs_day``/``pfs_event``
    the earlier of progression and death (a death before any follow-up scan is a PFS event)."""
    os_columns = survival.overall_survival(patients, horizon, seed)
    days, _ = survival.scan_columns(patients)
    dead = os_columns.os_event.to_numpy(bool)
    until = np.where(dead, os_columns.os_day.to_numpy(float), np.inf)
    if dead.any():
        uniforms = patients["u_new_lesion"].to_numpy(float) if "u_new_lesion" in patients else np.ones(len(patients))
        rows = pd.DataFrame(_read(patients, days, design, uniforms, until), index=patients.index)
        patients = patients.assign(**{c: rows[c] for c in rows})
    out = pd.concat([patients, os_columns], axis=1)
    out["ttp_day"], out["ttp_event"] = out.pfs_day, out.pfs_event.astype(bool)
    day, event = survival.progression_or_death(out.ttp_day, out.ttp_event, out.os_day, out.os_event)
    out["pfs_day"], out["pfs_event"] = day, event
    out["response_day"] = first_response_day(out)
    return out


def first_response_day(patients: pd.DataFrame) -> np.ndarray:
    """Day of the first scan whose diameter reaches the RECIST 1.1 partial-response change from
    baseline (:data:`thymosim.analysis.recist.PR_CHANGE_PCT`) for patients whose best response is
    CR or PR; NaN otherwise (the swimmer plot's response marker)."""
    days, columns = survival.scan_columns(patients)
    scans = patients[columns].to_numpy(float)
    hit = scans <= (1 + recist.PR_CHANGE_PCT / 100) * scans[:, :1]
    first = np.where(hit.any(axis=1), days[np.argmax(hit, axis=1)], np.nan)
    return np.where(patients.recist.isin(RESPONSE["ORR"]).to_numpy(), first, np.nan)


def summarise_survival(patients: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Survival rows of the trial summary, one per arm: median PFS and OS [days] with ``level``
    intervals (Kaplan-Meier, inf if not reached), landmark PFS and OS at :data:`LANDMARK_MONTHS`
    [%] with intervals, median post-progression survival (OS minus time to progression of the
    patients whose progression came before death; Kaplan-Meier) [days]; for every arm after the
    first, Cox hazard ratios of PFS and OS against the first with intervals and Wald p, and the
    log-rank p of OS. Columns of an
    endpoint the table lacks (no ``os_day``: a trial without survival) are left out."""
    arms = list(dict.fromkeys(patients.arm))
    rows = []
    endpoints = [e for e in ("PFS", "OS") if f"{e.lower()}_day" in patients]
    for arm in arms:
        group, row = patients[patients.arm == arm], {"arm": arm}
        for e in endpoints:
            d, ev = group[f"{e.lower()}_day"], group[f"{e.lower()}_event"].astype(bool)
            ok = d.notna()
            if not ok.any():
                continue
            row[f"median_{e}"], row[f"median_{e}_lo"], row[f"median_{e}_hi"] = trialstats.km_median_ci(
                d[ok], ev[ok], level)
            for months in LANDMARK_MONTHS:
                rate = trialstats.landmark(d[ok], ev[ok], months * DAYS_PER_MONTH, level)
                row[f"{e}_{months}mo"], row[f"{e}_{months}mo_lo"], row[f"{e}_{months}mo_hi"] = (100 * r for r in rate)
        if {"ttp_day", "os_day"} <= set(group.columns):
            # progression seen before death (a scan "after" death is not a progression: PFS took the death)
            progressed = group[group.ttp_event.astype(bool) & (group.ttp_day <= group.os_day)]
            row["median_PPS"] = (trialstats.km_median(progressed.os_day - progressed.ttp_day, progressed.os_event)
                                 if len(progressed) else np.nan)
        rows.append(row)
    summary = pd.DataFrame(rows)
    first = patients[patients.arm == arms[0]]
    for i, arm in enumerate(arms[1:], start=1):
        other = patients[patients.arm == arm]
        for e in endpoints:
            day, event = f"{e.lower()}_day", f"{e.lower()}_event"
            a, b = first[first[day].notna()], other[other[day].notna()]
            if a.empty or b.empty:
                continue
            hr = trialstats.hazard_ratio(b[day], b[event].astype(bool), a[day], a[event].astype(bool), level)
            for key, column in (("hr", f"HR_{e}"), ("lo", f"HR_{e}_lo"), ("hi", f"HR_{e}_hi"), ("p", f"p_{e}_cox")):
                summary.loc[i, column] = hr[key]
            if e == "OS":
                summary.loc[i, "p_OS_logrank"] = trialstats.logrank(b[day], b[event].astype(bool), a[day],
                                                                    a[event].astype(bool))
    return summary


@dataclass(frozen=True)
class Trial:
    """A run trial: its patients (one row each, with ``arm``), the per-arm summary, the seed."""

    patients: pd.DataFrame
    summary: pd.DataFrame
    seed: int
    design: Design = field(default_factory=Design)

    def power(self, n_per_arm: int, n_trials: int = 1000, endpoint: str = "ORR", seed: int | None = None,
              alpha: float = 0.05, arms: tuple[str, str] | None = None) -> dict[str, Any]:
        """How often a trial of ``n_per_arm`` patients per arm, drawn from two of this trial's arms
        (``arms`` = (control, treatment); default the first two), reaches p < ``alpha`` (Fisher
        exact) on ``endpoint`` (ORR or DCR). Returns control, treatment, endpoint, n_per_arm,
        n_trials, power and the median rates [fraction] of the drawn trials."""
        if endpoint not in RESPONSE:
            raise ValueError(f"endpoint must be one of {', '.join(RESPONSE)}, got {endpoint!r}")
        names = list(dict.fromkeys(self.patients.arm))
        control, treatment = arms or (names[:2] if len(names) >= 2 else (None, None))
        if control not in names or treatment not in names:
            raise ValueError(f"power needs two arms of this trial ({', '.join(names)}), got {arms}")
        resp = {a: self.patients.recist[self.patients.arm == a].isin(RESPONSE[endpoint]).to_numpy()
                for a in (control, treatment)}
        out = trialstats.repeated_trials(resp[control], resp[treatment], n_per_arm, n_trials,
                                         self.seed if seed is None else seed, alpha)
        return {"control": control, "treatment": treatment, "endpoint": endpoint, "n_per_arm": n_per_arm,
                "n_trials": n_trials, "power": out["power"], "median_rate_control": out["median_orr_a"],
                "median_rate_treatment": out["median_orr_b"]}


def randomise(population: pd.DataFrame, arms: Sequence[str], seed: int = 0,
              n_per_arm: int | None = None) -> pd.DataFrame:
    """``n_per_arm`` patients per arm (default: as many as the population allows) from
    ``population``, with an ``arm`` column: a random permutation (from ``seed``) split into equal
    blocks, one per arm, in order (1:1 for two arms)."""
    n = len(population) // len(arms) if n_per_arm is None else n_per_arm
    if n < 1 or n * len(arms) > len(population):
        raise ValueError(f"n_per_arm: {n} x {len(arms)} arms needs more than the population's {len(population)} "
                         "patients" if n >= 1 else f"n_per_arm must be >= 1, got {n}")
    order = np.random.default_rng(seed).permutation(len(population))[: n * len(arms)]
    assigned = population.iloc[order].reset_index(drop=True).copy()
    assigned["arm"] = np.repeat(list(arms), n)
    return assigned.sort_values(["arm", "vp"], key=lambda c: c.map(list(arms).index) if c.name == "arm" else c,
                                ignore_index=True)


def run_trial(arms: Sequence[Scenario | str], n_per_arm: int, seed: int = 0, design: Design = Design(),
              out: str | Path | None = None, workers: int = 1, scheduler: Any = None, progress: bool = True,
              population: pd.DataFrame | None = None) -> Trial:
    """Build (or take) a virtual population of ``len(arms) * n_per_arm`` selected plausible
    patients from ``seed``, randomise them to ``arms``, simulate, classify, add overall survival
    and PFS with death as a competing event (:func:`add_overall_survival`) and summarise. With
    ``out``, arms stream to ``out/arm-<name>/`` and the patient table is written to
    ``out/patients.parquet``."""
    if n_per_arm < 1:
        raise ValueError(f"n_per_arm must be >= 1, got {n_per_arm!r}")
    if len(arms) < 1:
        raise ValueError("a trial needs at least one arm")
    scenarios = [named(a) if isinstance(a, str) else a for a in arms]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"arm names must differ, got {names}")
    if population is None:
        population = virtual_population(len(arms) * n_per_arm, seed=seed, workers=workers, progress=progress,
                                        scheduler=scheduler)
    if "u_new_lesion" not in population:
        population = population.assign(u_new_lesion=new_lesion_uniforms(len(population), seed))
    assigned = randomise(population, names, seed, n_per_arm)
    frames = []
    for scenario, name in zip(scenarios, names, strict=True):
        members = assigned[assigned.arm == name].drop(columns="arm")
        arm_out = Path(out) / f"arm-{name}" if out is not None else None
        frame = run_arm(scenario, members, design, arm_out, workers, scheduler, progress, seed=seed)
        horizon = scenario.horizon if design.horizon is None else float(design.horizon)
        frames.append(add_overall_survival(frame, horizon, seed, design).assign(arm=name))
    patients = pd.concat(frames, ignore_index=True)
    patients.insert(0, "arm", patients.pop("arm"))
    trial = Trial(patients, summarise(patients), seed, design)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        patients.to_parquet(Path(out) / "patients.parquet", index=False)
    return trial
