"""Run trials: a randomised trial of scenarios (:func:`trial_files`), a paired trial
(:func:`paired_files`) and the reproduction of the seed's Tables 1-2 with every clinical target
(:func:`reproduction`, :func:`reproduction_files`). The ``*_files`` functions write an output
folder and return the paths written; a folder keeps only what the last command wrote there (files
of the same names are replaced)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thymosim.analysis.trial import Design, Trial, run_trial, summarise
from thymosim.scenario import Scenario
from thymosim.workflows.files import markdown, save_figure

TRIAL_FILES = ("summary.csv", "patients.parquet", "power.csv", "waterfall.png", "spider.png", "km.png", "km_os.png",
               "swimmer.png")
"""What :func:`trial_files` writes (power.csv with two or more arms; km_os.png, swimmer.png with overall survival)."""
NOT_REACHED = "not reached"
"""What a median survival the Kaplan-Meier curve never reaches (inf in the tables) reads as in files."""
PAIRS = {"salvati": ("ifosfamide", "ifosfamide_ta1_ifna"), "prag": ("prag", "prag_ta1"),
         "seed_rct": ("cisplatin_vinorelbine", "cisplatin_vinorelbine_ta1")}
"""The reproduction's comparisons: label -> (control, thymalfasin arm), scenario names."""
PUBLISHED_SIZE = {"salvati": 11, "prag": 36, "seed_rct": 36}
"""Per-arm size of each comparison's published trial (the reproduction's power table)."""
TARGET_COLUMNS = ["id", "role", "scenario", "quantity", "kind", "day", "value", "n", "model", "model_lo", "model_hi",
                  "n_resampled", "inside", "note", "caveat"]
"""Columns of the reproduction's targets table."""


def trial_figures(trial: Trial, out: Path, prefix: str = "") -> list[Path]:
    """waterfall.png, spider.png, km.png (PFS) of ``trial`` in ``out``; with overall survival in
    the patient table also km_os.png and swimmer.png."""
    from thymosim.plots.trial import kaplan_meier, spider, swimmer, waterfall

    def p_value(column: str) -> float | None:
        p = trial.summary.get(column)
        return float(p.iloc[1]) if p is not None and len(p) > 1 else None

    files = [save_figure(waterfall(trial.patients), out / f"{prefix}waterfall.png"),
             save_figure(spider(trial.patients), out / f"{prefix}spider.png"),
             save_figure(kaplan_meier(trial.patients, p_value=p_value("p_PFS_logrank")), out / f"{prefix}km.png")]
    if "os_day" in trial.patients:
        files += [save_figure(kaplan_meier(trial.patients, p_value=p_value("p_OS_logrank"), endpoint="OS"),
                              out / f"{prefix}km_os.png"),
                  save_figure(swimmer(trial.patients), out / f"{prefix}swimmer.png")]
    return files


def power_table(trial: Trial, sizes: Sequence[int], n_trials: int = 1000) -> pd.DataFrame:
    """How often trials of each per-arm size, drawn from the first two arms, reach p < 0.05."""
    rows = []
    for size in sizes:
        for endpoint in ("ORR", "DCR"):
            rows.append({"n_per_arm": size, "endpoint": endpoint, **trial.power(size, n_trials, endpoint)})
    return pd.DataFrame(rows)


def readable(summary: pd.DataFrame) -> pd.DataFrame:
    """A trial summary for a file a person reads: a median of ``inf`` (the curve never fell to
    50 %) written as "not reached"."""
    out = summary.copy()
    for column in [c for c in out.columns if c.startswith("median_")]:
        values = pd.to_numeric(out[column], errors="coerce")
        if np.isinf(values).any():
            out[column] = [NOT_REACHED if np.isinf(v) else v for v in values]
    return out


def trial_files(arms: Sequence[Scenario], out: Path, n: int, seed: int = 0, scan_every: float = 42.0,
                sizes: Sequence[int] = (11, 22, 36), workers: int = 1, scheduler: Any = None,
                progress: bool = False, design: Design | None = None) -> list[Path]:
    """Run a trial of ``arms`` (``n`` per arm) and write summary.csv, patients.parquet (one row per
    virtual patient), power.csv (repeated trials of ``sizes`` per arm) and the figures. ``design``
    (default: scans every ``scan_every`` days) replaces ``scan_every``."""
    out.mkdir(parents=True, exist_ok=True)
    for name in TRIAL_FILES:
        (out / name).unlink(missing_ok=True)
    trial = run_trial(arms, n, seed, design or Design(scan_every=scan_every), out=out, workers=workers,
                      scheduler=scheduler, progress=progress)
    readable(trial.summary).to_csv(out / "summary.csv", index=False)
    files = [out / "summary.csv", out / "patients.parquet"]
    if len(arms) >= 2 and sizes:
        power_table(trial, sizes).to_csv(out / "power.csv", index=False)
        files.append(out / "power.csv")
    return files + trial_figures(trial, out)


def paired_files(arms: Sequence[Scenario], out: Path, n: int, seed: int, design: Design, workers: int = 1,
                 scheduler: Any = None, progress: bool = False) -> list[Path]:
    """Run a paired trial (every patient in every arm; ``n`` per arm of the randomised trial it
    draws) and write its files (:data:`thymosim.analysis.paired.PAIRED_FILES`) and the randomised
    trial drawn from it (randomised_summary.csv)."""
    from thymosim.analysis.paired import PAIRED_FILES, run_paired

    out.mkdir(parents=True, exist_ok=True)
    for name in (*PAIRED_FILES, "randomised_summary.csv"):
        (out / name).unlink(missing_ok=True)
    paired = run_paired(list(arms), len(arms) * n, seed, design, out=out, workers=workers, scheduler=scheduler,
                        progress=progress)
    readable(paired.summary).to_csv(out / "summary.csv", index=False)
    readable(paired.randomised(n).summary).to_csv(out / "randomised_summary.csv", index=False)
    return [out / name for name in (*PAIRED_FILES, "randomised_summary.csv")]


@dataclass
class Reproduction:
    """The seed's Tables 1-2 and every clinical target, model vs published (:func:`reproduction`)."""

    n: int
    """Virtual patients."""
    seed: int
    """Random seed of the population."""
    seed_tables: pd.DataFrame
    """The vendor guide's Tables 1-2, model beside published."""
    targets: pd.DataFrame
    """Every clinical target (train and test) with the model's value and range (:data:`TARGET_COLUMNS`)."""
    patients: pd.DataFrame
    """One row per virtual patient and scenario."""
    trials: dict[str, Trial]
    """Each comparison of :data:`PAIRS` as a trial (the same patients in both arms: no tests)."""
    power: pd.DataFrame
    """How often a trial of the published size reaches p < 0.05 (ORR, DCR) per comparison."""
    bands: dict[str, pd.DataFrame]
    """Time courses of the count bands' scenarios, by name."""


def reproduction(n: int = 200, seed: int = 0, workers: int = 1, progress: bool = False) -> Reproduction:
    """Run the reproduction (:func:`thymosim.analysis.validation.reproduce` and the median PFS rows)
    on ``n`` virtual patients and return its tables."""
    from thymosim.analysis.clinical_fit import median_pfs_rows
    from thymosim.analysis.validation import reproduce
    from thymosim.tables import clinical_targets

    rep = reproduce(n, seed, workers=workers, progress=progress, scenarios=[s for pair in PAIRS.values() for s in pair])
    targets = rep.targets.reset_index()[TARGET_COLUMNS]
    medians = median_pfs_rows(rep.population, seed, workers=workers, progress=progress)
    medians["caveat"] = clinical_targets().caveat.reindex(medians.id).to_numpy()
    targets = pd.concat([targets, medians[targets.columns]], ignore_index=True)
    patients = pd.concat(rep.runs.values(), ignore_index=True)
    keep = [c for c in patients.columns if not c.startswith("at:") or "tumour" in c or "@9" in c or c.endswith("@0")]
    trials, power_rows = {}, []
    for label, (a, b) in PAIRS.items():
        frame = pd.concat([rep.runs[a], rep.runs[b]], ignore_index=True)
        summary = summarise(frame)
        paired = [c for c in summary.columns if c.startswith(("p_", "HR_"))]  # same patients in both arms: no tests
        trials[label] = Trial(frame, summary.drop(columns=paired), seed)
        for endpoint in ("ORR", "DCR"):
            power_rows.append(trials[label].power(PUBLISHED_SIZE[label], 1000, endpoint, seed))
    bands = {k: rep.runs[k] for k in ("prag_ta1_loading", "prag", "ifosfamide", "ifosfamide_ta1_ifna")}
    return Reproduction(n, seed, rep.seed_tables, targets, patients[keep], trials, pd.DataFrame(power_rows), bands)


def report(rep: Reproduction) -> str:
    """The reproduction as Markdown (report.md): tables, figures and the power table."""
    text = [f"# thymosim: the seed's Tables 1-2 and the clinical targets on {rep.n} virtual patients "
            f"(seed {rep.seed})",
            "",
            "Generated by `thymosim trial --reproduce-seed`. Each published number is compared with what a trial of "
            "the published size would show on the virtual population: `model` is the population statistic "
            "(median count or change; response rate by RECIST 1.1 on 6-weekly scans with confirmation), "
            "`model_lo`-`model_hi` the central 95 % range over resampled cohorts of the published n. "
            "Directional rows (change_max / change_min) are `inside` when the population median meets the direction. "
            "Train rows were fitted (`thymosim calibrate`); test rows never were: they are predictions (a test "
            "row on the same arm as a fitted rate is marked not independent); input rows are the typical "
            "patient's baseline, not results.",
            "", "## Seed Tables 1-2", "", markdown(rep.seed_tables.drop(columns=["scenario"])), "",
            "## Clinical targets (train and test)", "", markdown(rep.targets.drop(columns=["caveat"])), "",
            "## Blood counts", "", "![counts](counts.png)", ""]
    for label, (a, b) in PAIRS.items():
        summary = rep.trials[label].summary
        text += [f"## {b} vs {a} (the same virtual patients in both arms)", "",
                 "Both arms hold the same virtual patients, so tests for independent arms do not apply here; "
                 "the power table below draws independent trials of the published size from them.", "",
                 markdown(summary.drop(columns=[c for c in ("failed",) if c in summary])), "",
                 f"![waterfall]({label}_waterfall.png)", "", f"![spider]({label}_spider.png)", "",
                 f"![km]({label}_km.png)", ""]
    text += ["## Would a trial of the published size detect the difference?", "", markdown(rep.power), ""]
    return "\n".join(text)


def reproduction_files(out: Path, n: int = 200, seed: int = 0, workers: int = 1,
                       progress: bool = False) -> list[Path]:
    """Run :func:`reproduction` and write seed_tables.csv, targets.csv, patients.parquet, the figures
    and report.md. Returns the paths written."""
    from thymosim.analysis.validation import published_points
    from thymosim.plots.trial import count_bands

    out.mkdir(parents=True, exist_ok=True)
    rep = reproduction(n, seed, workers, progress)
    rep.seed_tables.to_csv(out / "seed_tables.csv", index=False)
    rep.targets.to_csv(out / "targets.csv", index=False)
    rep.patients.to_parquet(out / "patients.parquet", index=False)
    files = [out / "seed_tables.csv", out / "targets.csv", out / "patients.parquet"]
    for label, trial in rep.trials.items():
        files += trial_figures(trial, out, prefix=f"{label}_")
    rep.power.to_csv(out / "power.csv", index=False)
    files.append(out / "power.csv")
    files.append(save_figure(count_bands(rep.bands, published=published_points()), out / "counts.png"))
    (out / "report.md").write_text(report(rep), encoding="utf-8")
    files.append(out / "report.md")
    return files
