"""Small helpers the workflows share to write their output folders."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def save_figure(fig: Any, path: Path) -> Path:
    """Write a figure as PNG (110 dpi) and close it (a workflow run many times in one process leaks no
    figures). Returns ``path``."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def progress(items: Iterable[Any], quiet: bool, desc: str, unit: str = "scenario") -> Iterable[Any]:
    """``items`` with a progress bar on stderr, unless ``quiet``."""
    if quiet:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, file=sys.stderr)


def markdown(table: Any) -> str:
    """A pandas table as a Markdown pipe table (floats to 4 significant digits; no tabulate dependency)."""
    def cell(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)
