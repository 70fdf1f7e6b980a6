"""Who benefits from an arm of a paired trial (``thymosim benefit``): the analysis of
:mod:`thymosim.analysis.benefit` on a paired trial's folder, as tables, two figures and a report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from thymosim.workflows.files import save_figure

BENEFIT_FILES = ("benefit.csv", "biomarkers.csv", "models.csv", "benefit_effect.png", "benefit_roc.png", "report.md")
"""What :func:`benefit_files` writes."""


def benefit_files(folder: Path, out: Path | None = None, arm: str | None = None, effect: str = "d_best_change",
                  label: str = "pfs", margin: float = 10.0, seed: int = 0) -> list[Path]:
    """Read a paired run's ``patients.parquet`` and ``effects.parquet`` in ``folder`` and write
    :data:`BENEFIT_FILES` to ``out`` (default: ``folder``). Returns the paths written."""
    from thymosim.analysis.benefit import analyse, covariates
    from thymosim.plots.benefit import effect_figure, report, roc_figure

    folder = Path(folder)
    missing = [f for f in ("patients.parquet", "effects.parquet") if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder}: {', '.join(missing)} missing; give the folder of a paired trial "
                                "(thymosim trial A B --paired --out DIR)")
    patients, effects = pd.read_parquet(folder / "patients.parquet"), pd.read_parquet(folder / "effects.parquet")
    result = analyse(patients, effects, arm, effect, label, margin, seed=seed)
    out = Path(out or folder)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / name for name in BENEFIT_FILES]
    result.patients.to_csv(files[0], index=False)
    result.ranking.to_csv(files[1], index=False)
    result.models.to_csv(files[2], index=False)
    save_figure(effect_figure(result), files[3])
    save_figure(roc_figure(result), files[4])
    _, _, groups = covariates(patients, result.control)
    files[5].write_text(report(result, groups), encoding="utf-8")
    return files
