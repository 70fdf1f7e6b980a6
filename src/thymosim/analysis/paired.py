"""Paired (counterfactual) trials: every virtual patient is given every arm, so each patient has an
individual treatment effect, which no real trial can observe.

A paired run uses the machinery of a randomised trial (:func:`~thymosim.analysis.trial.run_arm`,
:func:`~thymosim.analysis.trial.add_overall_survival`) on the whole population in each arm. The
per-patient random draws are those of a randomised trial from the same seed: the new-lesion
uniform is drawn per patient before any arm is chosen, the survival residual from the seed and the
patient id, so a patient's draws are identical in every arm and only the treatment differs.
Consequently a randomised trial drawn from a paired run (:meth:`Paired.randomised`) holds exactly
the rows :func:`~thymosim.analysis.trial.run_trial` gives from the same seed and population.

Effects are "arm minus control" for every arm after the first (the control). Time in days, counts
cells/uL, diameters mm, best change in percentage points of the baseline sum of diameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from thymosim.analysis.population import virtual_population
from thymosim.analysis.trial import (
    COUNT_DAYS,
    COUNTS,
    RESPONSE,
    Design,
    Trial,
    add_overall_survival,
    new_lesion_uniforms,
    randomise,
    run_arm,
    summarise,
)
from thymosim.scenario import Scenario, named

BEST_CHANGE_MARGIN = 10.0
"""Best-change difference [percentage points] beyond which a patient counts as shrinking more
(benefit) or less (harm) on the arm than on the control in the effect summary."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles of the distribution of each individual effect in the effect summary."""
PAIRED_FILES = ("summary.csv", "effects_summary.csv", "patients.parquet", "effects.parquet", "effects.csv")


@dataclass(frozen=True)
class Paired:
    """A paired run: every patient of ``population`` in every arm."""

    patients: pd.DataFrame
    """One row per patient and arm (``arm`` first), the columns of a randomised trial's patients."""
    effects: pd.DataFrame
    """One row per patient and arm after the first (:func:`individual_effects`)."""
    summary: pd.DataFrame
    """Per-arm numbers (:func:`~thymosim.analysis.trial.summarise` of each arm alone: no
    between-arm tests, which assume independent arms) and the paired tests (:func:`paired_tests`)."""
    effects_summary: pd.DataFrame
    """Shares who benefit / are harmed and the distribution of each effect (:func:`summarise_effects`)."""
    population: pd.DataFrame
    seed: int
    design: Design = field(default_factory=Design)

    @property
    def arms(self) -> list[str]:
        """Arm names, the control first."""
        return list(dict.fromkeys(self.patients.arm))

    def randomised(self, n_per_arm: int, seed: int | None = None) -> Trial:
        """The randomised trial of ``n_per_arm`` patients per arm drawn from this run: the patients
        :func:`~thymosim.analysis.trial.randomise` assigns to each arm from ``seed`` (default the
        run's), each with the outcome simulated in that arm. Equal to ``run_trial(arms, n_per_arm,
        seed, design, population=population)`` (and, when ``population`` is the default one of
        ``len(arms) * n_per_arm`` patients from the seed, to ``run_trial(arms, n_per_arm, seed, design)``)."""
        seed = self.seed if seed is None else seed
        assigned = randomise(self.population, self.arms, seed, n_per_arm)
        frames = []
        for name in self.arms:
            members = assigned.vp[assigned.arm == name].to_numpy()
            arm = self.patients[self.patients.arm == name].set_index("vp", drop=False)
            frames.append(arm.loc[members].reset_index(drop=True))
        patients = pd.concat(frames, ignore_index=True)
        return Trial(patients, summarise(patients), seed, self.design)


def run_paired(arms: Sequence[Scenario | str], n: int | None = None, seed: int = 0, design: Design | None = None,
               out: str | Path | None = None, workers: int = 1, scheduler: Any = None, progress: bool = True,
               population: pd.DataFrame | None = None, count_days: Sequence[float] = COUNT_DAYS,
               margin: float = BEST_CHANGE_MARGIN) -> Paired:
    """Simulate every patient of ``population`` (default: ``n`` selected virtual patients from
    ``seed``, :func:`~thymosim.analysis.population.virtual_population`) in every arm, read RECIST,
    add overall survival (as :func:`~thymosim.analysis.trial.run_trial` does), and compute the
    individual effects of every arm after the first against the first. With ``out``, arms stream to
    ``out/arm-<name>/`` and the files of :func:`write_paired` are written there. ``design``:
    imaging and follow-up (default :class:`~thymosim.analysis.trial.Design`)."""
    design = Design() if design is None else design
    if len(arms) < 2:
        raise ValueError(f"a paired trial needs at least two arms (the first is the control), got {len(arms)}")
    scenarios = [named(a) if isinstance(a, str) else a for a in arms]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"arm names must differ, got {names}")
    if population is None:
        if n is None or n < 1:
            raise ValueError(f"n must be >= 1 virtual patients (or give a population), got {n!r}")
        population = virtual_population(n, seed=seed, workers=workers, progress=progress, scheduler=scheduler)
    population = population.reset_index(drop=True)
    if population.vp.duplicated().any():
        raise ValueError("population: the 'vp' ids must be unique (a patient is matched across arms by its id)")
    if "u_new_lesion" not in population:  # as run_trial: drawn per patient before randomisation
        population = population.assign(u_new_lesion=new_lesion_uniforms(len(population), seed))
    frames = []
    for scenario in scenarios:
        arm_out = Path(out) / f"arm-{scenario.name}" if out is not None else None
        frame = run_arm(scenario, population, design, arm_out, workers, scheduler, progress, count_days, seed)
        horizon = scenario.horizon if design.horizon is None else float(design.horizon)
        frames.append(add_overall_survival(frame, horizon, seed, design).assign(arm=scenario.name))
    patients = pd.concat(frames, ignore_index=True)
    patients.insert(0, "arm", patients.pop("arm"))
    effects = individual_effects(patients, count_days)
    per_arm = pd.concat([summarise(patients[patients.arm == a]) for a in names], ignore_index=True)
    summary = per_arm.merge(paired_tests(effects), on="arm", how="left")
    paired = Paired(patients, effects, summary, summarise_effects(effects, margin), population, seed, design)
    if out is not None:
        write_paired(paired, Path(out))
    return paired


def individual_effects(patients: pd.DataFrame, count_days: Sequence[float] = COUNT_DAYS) -> pd.DataFrame:
    """One row per patient (``vp``) and arm after the first (the control): both outcomes and the
    individual effect, arm minus control. Columns: ``arm``, ``control``, ``vp``, ``evaluable`` (both
    simulations succeeded), ``recist_control``/``recist_arm``, ``response_effect`` (+1 responds only
    on the arm, -1 only on the control, 0 otherwise; responses are CR/PR), ``control_effect`` (the
    same for disease control), ``best_change_control``/``_arm`` and ``d_best_change`` [percentage
    points; negative: more shrinkage on the arm], ``pfs_day``/``os_day`` of both and ``d_pfs_day``,
    ``d_os_day`` [days; differences of the observed, possibly censored, times over the common
    follow-up], and ``gain:COUNT@DAY`` [cells/uL] for each count of :data:`~thymosim.analysis.trial.COUNTS`
    at each day of ``count_days`` after 0 that the table holds."""
    arms = list(dict.fromkeys(patients.arm))
    control = patients[patients.arm == arms[0]].set_index("vp")
    counts = [f"at:{c}@{d:g}" for d in count_days if d > 0 for c in COUNTS if f"at:{c}@{d:g}" in patients]
    frames = []
    for name in arms[1:]:
        arm = patients[patients.arm == name].set_index("vp").reindex(control.index)
        both = (control.status == "ok") & (arm.status == "ok")
        out = pd.DataFrame({"arm": name, "control": arms[0], "vp": control.index, "evaluable": both.to_numpy()})
        for key, column in (("ORR", "response_effect"), ("DCR", "control_effect")):
            a, b = control.recist.isin(RESPONSE[key]), arm.recist.isin(RESPONSE[key])
            out[column] = np.where(both, b.astype(int).to_numpy() - a.astype(int).to_numpy(), 0)
        out["recist_control"], out["recist_arm"] = control.recist.to_numpy(), arm.recist.to_numpy()
        for value in ("best_change", "pfs_day", "os_day"):
            source = "best_change_pct" if value == "best_change" else value
            if source not in control:
                continue
            out[f"{value}_control"], out[f"{value}_arm"] = control[source].to_numpy(), arm[source].to_numpy()
            out[f"d_{value}"] = np.where(both, out[f"{value}_arm"] - out[f"{value}_control"], np.nan)
        for event in ("pfs_event", "os_event"):
            if event in control:
                out[f"{event}_control"] = control[event].astype(bool).to_numpy()
                out[f"{event}_arm"] = arm[event].astype(bool).to_numpy()
        for column in counts:
            count = column[3:]  # "CD4@9"
            out[f"gain:{count}"] = np.where(both, arm[column].to_numpy(float) - control[column].to_numpy(float),
                                            np.nan)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def paired_tests(effects: pd.DataFrame) -> pd.DataFrame:
    """Tests for the same patients under two treatments, one row per arm after the first: the
    discordant pairs of response (``responders_gained``/``_lost``) with the exact McNemar p (a
    two-sided binomial test of the discordant pairs at 1/2), the same for disease control, and the
    Wilcoxon signed-rank p of the best-change differences (evaluable patients)."""
    rows = []
    for arm, group in effects.groupby("arm", sort=False):
        ok = group[group.evaluable]
        row: dict[str, Any] = {"arm": arm}
        for key, column in (("ORR", "response_effect"), ("DCR", "control_effect")):
            gained, lost = int((ok[column] > 0).sum()), int((ok[column] < 0).sum())
            row[f"{key}_gained"], row[f"{key}_lost"] = gained, lost
            row[f"p_{key}_mcnemar"] = (float(stats.binomtest(gained, gained + lost, 0.5).pvalue)
                                       if gained + lost else 1.0)
        d = ok.d_best_change.dropna()
        row["p_best_change_wilcoxon"] = (float(stats.wilcoxon(d).pvalue) if (d != 0).any() else 1.0)
        rows.append(row)
    return pd.DataFrame(rows)


def summarise_effects(effects: pd.DataFrame, margin: float = BEST_CHANGE_MARGIN) -> pd.DataFrame:
    """Who benefits and who is harmed, one row per arm and effect: ``effect``, ``n`` (evaluable
    patients), ``benefit`` and ``harm`` [% of evaluable patients], mean, SD and the
    :data:`QUANTILES` of the individual effect. Benefit/harm: response gained/lost
    (``response_effect``), disease control gained/lost, best change lower/higher by more than
    ``margin`` percentage points, PFS or OS longer/shorter (any difference), counts higher/lower."""
    rows = []
    for arm, group in effects.groupby("arm", sort=False):
        ok = group[group.evaluable]
        columns = ["response_effect", "control_effect", "d_best_change", "d_pfs_day", "d_os_day"]
        columns += [c for c in ok.columns if c.startswith("gain:")]
        for column in [c for c in columns if c in ok]:
            x = ok[column].to_numpy(float)
            x = x[np.isfinite(x)]
            if column == "d_best_change":
                benefit, harm = x < -margin, x > margin
            else:
                benefit, harm = x > 0, x < 0
            n = x.size
            row = {"arm": arm, "effect": column, "n": n,
                   "benefit": 100 * benefit.mean() if n else np.nan, "harm": 100 * harm.mean() if n else np.nan,
                   "mean": float(x.mean()) if n else np.nan, "sd": float(x.std(ddof=1)) if n > 1 else np.nan}
            for q in QUANTILES:
                row[f"q{round(100 * q):02d}"] = float(np.quantile(x, q)) if n else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def write_paired(paired: Paired, out: Path) -> list[Path]:
    """summary.csv, effects_summary.csv, patients.parquet, effects.parquet and effects.csv in ``out``
    (the folder ``thymosim benefit`` reads)."""
    out.mkdir(parents=True, exist_ok=True)
    files = [out / name for name in PAIRED_FILES]
    paired.summary.to_csv(files[0], index=False)
    paired.effects_summary.to_csv(files[1], index=False)
    paired.patients.to_parquet(files[2], index=False)
    paired.effects.to_parquet(files[3], index=False)
    paired.effects.to_csv(files[4], index=False)
    return files
