"""The model held against published clinical results: every row of
``models/data/clinical_targets.tsv`` (train and test) and every number of the seed's Tables 1-2,
on one virtual population run through each arm's scenario.

A published number is compared with what a *trial of the published size* would show on the
virtual population: the model's value is the population statistic (median count or percent change;
response rate), and ``model_lo``-``model_hi`` is the central 95 % range of that statistic over
:data:`RESAMPLES` resampled cohorts of the published ``n`` (the whole population where n is not
published). ``inside`` says whether the published number falls in that range; for a directional
target (``change_max`` / ``change_min``) whether the population median meets the direction.
Time in days, counts cells/uL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from thymosim.analysis.population import virtual_population
from thymosim.analysis.trial import RESPONSE, Design, run_arm
from thymosim.tables import clinical_targets, seed_tables

RESAMPLES = 2000
BAND_STEP = 3.0
"""Days between the blood-count samples kept for the prediction-band figures."""


def statistic(frame: pd.DataFrame, quantity: str, kind: str, day: float) -> np.ndarray:
    """Per-patient values behind a target: a count at ``day`` (kind value), its percent change from
    baseline (change_*), or responder indicators 0/1 (rate)."""
    if kind == "rate":
        return frame.recist.isin(RESPONSE[quantity]).to_numpy(float)
    value = frame[f"at:{quantity}@{day:g}"].to_numpy(float)
    return value if kind == "value" else 100.0 * (value / frame[f"at:{quantity}@0"].to_numpy(float) - 1.0)


def _summary(x: np.ndarray, kind: str) -> float:
    return 100.0 * float(np.mean(x)) if kind == "rate" else float(np.nanmedian(x))


def compare(runs: Mapping[str, pd.DataFrame], rows: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """For each target row (columns scenario, quantity, kind, day, value, n): the model's population
    statistic, its 95 % range over cohorts of size n resampled with replacement (the whole
    population's size where n is not published), ``n_resampled`` and ``inside``. A rate row's day
    must be the arm's last scan day (the rate is read over all scans)."""
    rng = np.random.default_rng(seed)
    out = []
    for key, row in rows.iterrows():
        frame = runs[row.scenario]
        if row.kind == "rate":
            last = max((float(c.split("@")[1]) for c in frame.columns if c.startswith("at:tumour_diameter@")),
                       default=float(row.day))
            if last != float(row.day):
                raise ValueError(f"target {key}: day {row.day:g} is not the last scan day ({last:g}) of {row.scenario}")
        x = statistic(frame, row.quantity, row.kind, float(row.day))
        x = x[np.isfinite(x)]
        n = int(row.n) if pd.notna(row.n) else len(x)
        draws = np.array([_summary(x[rng.integers(0, len(x), n)], row.kind) for _ in range(RESAMPLES)])
        model = _summary(x, row.kind)
        lo, hi = np.quantile(draws, [0.025, 0.975])
        if row.kind == "change_max":
            inside = model <= row.value
        elif row.kind == "change_min":
            inside = model >= row.value
        else:
            inside = lo <= row.value <= hi
        out.append({"id": key, "model": model, "model_lo": float(lo), "model_hi": float(hi), "n_resampled": n,
                    "inside": bool(inside)})
    return rows.join(pd.DataFrame(out).set_index("id"))


def seed_rows() -> pd.DataFrame:
    """Every number of the seed's Tables 1-2 as a comparison (``models/data/seed_tables.tsv``; see
    :func:`thymosim.tables.seed_tables`): columns table, row, scenario, quantity, kind, day, value, n, role."""
    return seed_tables()


@dataclass(frozen=True)
class Reproduction:
    """The runs (one patient table per scenario) and the comparison tables."""

    runs: dict[str, pd.DataFrame]
    targets: pd.DataFrame
    seed_tables: pd.DataFrame
    population: pd.DataFrame


def reproduce(n: int = 200, seed: int = 0, workers: int = 1, progress: bool = False,
              scenarios: Sequence[str] | None = None, **run_kwargs: Any) -> Reproduction:
    """Run a virtual population of ``n`` selected plausible patients through every scenario the
    clinical targets and the seed's tables name, and compare."""
    targets = clinical_targets()
    targets = targets[~targets.kind.isin(("median", "landmark", "ratio"))]  # clinical_fit.median_pfs_rows
    seed_table = seed_rows()
    needed = list(dict.fromkeys([*targets.scenario, *seed_table.scenario, *(scenarios or [])]))
    population = virtual_population(n, seed=seed, workers=workers, progress=progress)
    runs = {}
    # count samples for the bands and the targets' days; run_arm keeps those within each scenario's horizon
    days = sorted({*np.arange(0.0, 200.0, BAND_STEP), *targets.day.astype(float)})
    for name in needed:
        runs[name] = run_arm(name, population, Design(), workers=workers, progress=progress,
                             count_days=days, **run_kwargs).assign(arm=name)
    compared_targets = compare(runs, targets, seed)
    trained = targets[(targets.role == "train") & (targets.kind == "rate")]
    compared_targets["note"] = [
        f"same arm as train row {', '.join(trained.index[trained.scenario == row.scenario])}: not independent"
        if row.role == "test" and row.kind == "rate" and (trained.scenario == row.scenario).any() else ""
        for row in targets.itertuples()]
    compared_seed = compare(runs, seed_table, seed)
    seed_out = compared_seed.rename(columns={"value": "published"})[
        ["table", "row", "quantity", "kind", "published", "model", "model_lo", "model_hi", "inside", "role", "scenario",
         "n", "n_resampled"]]
    return Reproduction(runs, compared_targets, seed_out.reset_index(drop=True), population)


def published_points() -> pd.DataFrame:
    """Published count medians for the band figures: arm, quantity, day, value, label."""
    rows = seed_rows()
    rows = rows[rows.kind == "value"]
    return pd.DataFrame({"arm": rows.scenario, "quantity": rows.quantity, "day": rows.day, "value": rows.value,
                         "label": [f"seed T1 {v:g}" for v in rows.value]})

