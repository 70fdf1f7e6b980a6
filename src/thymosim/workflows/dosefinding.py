"""Dose finding of a count-guided regimen (``thymosim dosefind``): the sweep of
:mod:`thymosim.analysis.dosefinding` and its files: the per-population table, the per-candidate
summary, the trade-off figure and a short report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from thymosim.workflows.files import save_figure

DOSEFINDING_FILES = ("dosefinding.csv", "dosefinding_summary.csv", "dosefinding.png", "report.md")
"""What :func:`write_dosefinding` writes."""


def write_dosefinding(result: Any, out: str | Path) -> list[Path]:
    """:data:`DOSEFINDING_FILES` of a :class:`~thymosim.analysis.dosefinding.DoseFinding` in ``out``."""
    from thymosim.plots.dosefinding import report, tradeoff_figure

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / name for name in DOSEFINDING_FILES]
    result.table.to_csv(files[0], index=False)
    result.summary.to_csv(files[1], index=False)
    save_figure(tradeoff_figure(result), files[2])
    files[3].write_text(report(result), encoding="utf-8")
    return files


def dosefinding_files(out: str | Path, doses: Sequence[float], every: Sequence[float],
                      thresholds: Sequence[float] | None = None, **options: Any) -> tuple[list[Path], Any]:
    """Every candidate of ``doses`` [mg] x ``every`` [days] x ``thresholds`` (None: the base's) run
    by :func:`~thymosim.analysis.dosefinding.find_dose` (``options``: its keywords), its files written
    to ``out``. Returns the paths written and the result."""
    from thymosim.analysis.dosefinding import find_dose, grid

    result = find_dose(grid(doses, every, thresholds or [None]), **options)
    return write_dosefinding(result, out), result
