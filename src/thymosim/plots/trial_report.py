"""Files of ``thymosim trial``: a randomised trial's summary, patients and figures
(:func:`run_trial_report`), and the reproduction of the seed's Tables 1-2 with every clinical
target (:func:`reproduce_seed`). Each function returns the paths it wrote; an output folder keeps
only what the last command wrote there (files of the same names are replaced)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from thymosim.analysis.clinical_fit import median_pfs_rows
from thymosim.analysis.trial import Design, Trial, run_trial, summarise
from thymosim.analysis.validation import published_points, reproduce
from thymosim.plots.trial import count_bands, kaplan_meier, spider, swimmer, waterfall
from thymosim.scenario import Scenario
from thymosim.tables import clinical_targets

TRIAL_FILES = ("summary.csv", "patients.parquet", "power.csv", "waterfall.png", "spider.png", "km.png", "km_os.png",
               "swimmer.png")


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def trial_figures(trial: Trial, out: Path, prefix: str = "") -> list[Path]:
    """waterfall.png, spider.png, km.png (PFS) of ``trial`` in ``out``; with overall survival in
    the patient table also km_os.png and swimmer.png."""
    def p_value(column: str) -> float | None:
        p = trial.summary.get(column)
        return float(p.iloc[1]) if p is not None and len(p) > 1 else None

    files = [_save(waterfall(trial.patients), out / f"{prefix}waterfall.png"),
             _save(spider(trial.patients), out / f"{prefix}spider.png"),
             _save(kaplan_meier(trial.patients, p_value=p_value("p_PFS_logrank")), out / f"{prefix}km.png")]
    if "os_day" in trial.patients:
        files += [_save(kaplan_meier(trial.patients, p_value=p_value("p_OS_logrank"), endpoint="OS"),
                        out / f"{prefix}km_os.png"),
                  _save(swimmer(trial.patients), out / f"{prefix}swimmer.png")]
    return files


def power_table(trial: Trial, sizes: Sequence[int], n_trials: int = 1000) -> pd.DataFrame:
    """How often trials of each per-arm size, drawn from the first two arms, reach p < 0.05."""
    rows = []
    for size in sizes:
        for endpoint in ("ORR", "DCR"):
            rows.append({"n_per_arm": size, "endpoint": endpoint, **trial.power(size, n_trials, endpoint)})
    return pd.DataFrame(rows)


NOT_REACHED = "not reached"
"""What a median survival the Kaplan-Meier curve never reaches (inf in the tables) reads as in files."""


def readable(summary: pd.DataFrame) -> pd.DataFrame:
    """A trial summary for a file a person reads: a median of ``inf`` (the curve never fell to
    50 %) written as "not reached"."""
    out = summary.copy()
    for column in [c for c in out.columns if c.startswith("median_")]:
        values = pd.to_numeric(out[column], errors="coerce")
        if np.isinf(values).any():
            out[column] = [NOT_REACHED if np.isinf(v) else v for v in values]
    return out


def run_trial_report(arms: Sequence[Scenario], out: Path, n: int, seed: int = 0, scan_every: float = 42.0,
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


def _markdown(table: pd.DataFrame) -> str:
    """A pipe table (no tabulate dependency)."""
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def reproduce_seed(out: Path, n: int = 200, seed: int = 0, workers: int = 1, progress: bool = False) -> list[Path]:
    """Run the reproduction (:func:`thymosim.analysis.validation.reproduce`) and write
    seed_tables.csv, targets.csv, patients.parquet, the figures and report.md."""
    out.mkdir(parents=True, exist_ok=True)
    pairs = {"salvati": ("ifosfamide", "ifosfamide_ta1_ifna"), "prag": ("prag", "prag_ta1"),
             "seed_rct": ("cisplatin_vinorelbine", "cisplatin_vinorelbine_ta1")}
    rep = reproduce(n, seed, workers=workers, progress=progress, scenarios=[s for pair in pairs.values() for s in pair])
    files = []
    rep.seed_tables.to_csv(out / "seed_tables.csv", index=False)
    targets = rep.targets.reset_index()[["id", "role", "scenario", "quantity", "kind", "day", "value", "n", "model",
                                         "model_lo", "model_hi", "n_resampled", "inside", "note", "caveat"]]
    medians = median_pfs_rows(rep.population, seed, workers=workers, progress=progress)
    medians["caveat"] = clinical_targets().caveat.reindex(medians.id).to_numpy()
    targets = pd.concat([targets, medians[targets.columns]], ignore_index=True)
    targets.to_csv(out / "targets.csv", index=False)
    patients = pd.concat(rep.runs.values(), ignore_index=True)
    keep = [c for c in patients.columns if not c.startswith("at:") or "tumour" in c or "@9" in c or c.endswith("@0")]
    patients[keep].to_parquet(out / "patients.parquet", index=False)
    files += [out / "seed_tables.csv", out / "targets.csv", out / "patients.parquet"]
    sections, power_rows = [], []
    for label, (a, b) in pairs.items():
        frame = pd.concat([rep.runs[a], rep.runs[b]], ignore_index=True)
        summary = summarise(frame)
        paired = [c for c in summary.columns if c.startswith(("p_", "HR_"))]  # same patients in both arms: no tests
        trial = Trial(frame, summary.drop(columns=paired), seed)
        files += trial_figures(trial, out, prefix=f"{label}_")
        size = {"salvati": 11, "prag": 36, "seed_rct": 36}[label]
        for endpoint in ("ORR", "DCR"):
            power_rows.append(trial.power(size, 1000, endpoint, seed))
        sections.append((label, a, b, trial.summary))
    power = pd.DataFrame(power_rows)
    power.to_csv(out / "power.csv", index=False)
    files.append(out / "power.csv")
    bands = {k: rep.runs[k] for k in ("prag_ta1_loading", "prag", "ifosfamide", "ifosfamide_ta1_ifna")}
    files.append(_save(count_bands(bands, published=published_points()), out / "counts.png"))
    text = [f"# thymosim: the seed's Tables 1-2 and the clinical targets on {n} virtual patients (seed {seed})",
            "",
            "Generated by `thymosim trial --reproduce-seed`. Each published number is compared with what a trial of "
            "the published size would show on the virtual population: `model` is the population statistic "
            "(median count or change; response rate by RECIST 1.1 on 6-weekly scans with confirmation), "
            "`model_lo`-`model_hi` the central 95 % range over resampled cohorts of the published n. "
            "Directional rows (change_max / change_min) are `inside` when the population median meets the direction. "
            "Train rows were fitted (`thymosim calibrate`); test rows never were: they are predictions (a test "
            "row on the same arm as a fitted rate is marked not independent); input rows are the typical "
            "patient's baseline, not results.",
            "", "## Seed Tables 1-2", "", _markdown(rep.seed_tables.drop(columns=["scenario"])), "",
            "## Clinical targets (train and test)", "", _markdown(targets.drop(columns=["caveat"])), "",
            "## Blood counts", "", "![counts](counts.png)", ""]
    for label, a, b, summary in sections:
        text += [f"## {b} vs {a} (the same virtual patients in both arms)", "",
                 "Both arms hold the same virtual patients, so tests for independent arms do not apply here; "
                 "the power table below draws independent trials of the published size from them.", "",
                 _markdown(summary.drop(columns=[c for c in ("failed",) if c in summary])), "",
                 f"![waterfall]({label}_waterfall.png)", "", f"![spider]({label}_spider.png)", "",
                 f"![km]({label}_km.png)", ""]
    text += ["## Would a trial of the published size detect the difference?", "", _markdown(power), ""]
    (out / "report.md").write_text("\n".join(text), encoding="utf-8")
    files.append(out / "report.md")
    return files
