"""Figures of simulated time courses: multi-panel arms with dose markers, healthy
ranges and clinical data points."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from thymosim.model import model_dir  # noqa: E402
from thymosim.regimen import Regimen  # noqa: E402
from thymosim.tables import load_parameter_table  # noqa: E402

# (title, output columns, y label, log scale)
PANELS = [
    ("T cells (shaded: healthy mean +- SD)", ["CD3", "CD4", "CD8"], "cells/uL", False),
    ("NK cells and neutrophils", ["NK", "ANC"], "cells/uL", True),
    ("IL-2, IFN-gamma, IL-7", ["IL2", "IFNg", "IL7"], "pM", True),
    ("IL-12", ["IL12"], "pM", False),
    ("Mature dendritic cells", ["mature_DC_fraction"], "fraction of DCs", False),
    ("MHC class I", ["MHC_I"], "fold of untreated", False),
    ("Macrophage polarisation", ["M1_M2"], "M1/M2 ratio", False),
    ("Plasma thymalfasin", ["ta1_plasma"], "ng/mL", False),
    ("Tumour", ["tumour_diameter"], "diameter (mm)", False),
]
def healthy_range() -> dict[str, tuple[float, float]]:
    """Healthy adult ranges: the bounds of the set-point rows of the parameter table (mean +- SD,
    PMC321350 Table 3)."""
    table = load_parameter_table()
    return {out: (table.lower[f"{out}_set"], table.upper[f"{out}_set"]) for out in ("CD3", "CD4", "CD8")}
STYLES = ["-", "--", ":", "-."]


def clinical_points() -> pd.DataFrame:
    """Published clinical data points, by scenario and output (models/data/clinical_points.tsv)."""
    return pd.read_csv(model_dir() / "data" / "clinical_points.tsv", sep="\t")


def _dose_markers(ax, regimens: Mapping[str, Regimen]) -> None:
    """One row of ticks per arm and drug, at each administration."""
    rows = [(f"{drug} ({arm})", g.time.to_numpy()) for arm, reg in regimens.items()
            for drug, g in reg.administrations().groupby("drug")]
    for k, (_, times) in enumerate(rows):
        ax.plot(times, [k] * len(times), "|", color=f"C{k % 10}", ms=9, mew=1.5)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=7)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.invert_yaxis()


def plot_arms(arms: Mapping[str, pd.DataFrame], title: str = "", regimens: Mapping[str, Regimen] | None = None):
    """Multi-panel comparison: one line style per arm, one colour per output; dose markers
    on the last panel; clinical data points drawn over the arm they belong to. Time courses of
    another model (none of thymosim's outputs) get one panel per output."""
    first = next(iter(arms.values()))
    panels = PANELS
    if not any(c in first for _, columns, _, _ in PANELS for c in columns):
        units = first.attrs.get("units", {})
        panels = [(c, [c], units.get(c, ""), False) for c in first.columns if c != "time"]
    rows = max(1, (len(panels) + 2) // 2)
    fig, axes = plt.subplots(rows, 2, figsize=(13, 3.2 * rows), sharex=True, squeeze=False)
    points = clinical_points()
    healthy = healthy_range()
    for ax, (name, columns, unit, log) in zip(axes.flat, panels, strict=False):
        for j, col in enumerate(columns):
            if col in healthy:
                ax.axhspan(*healthy[col], color=f"C{j}", alpha=0.08, lw=0)
            for i, (arm, df) in enumerate(arms.items()):
                if col not in df:
                    continue
                ax.plot(df["time"], df[col], STYLES[i % 4], color=f"C{j}", lw=1.2, label=f"{col} ({arm})")
                data = points[(points.scenario == arm) & (points.output == col)]
                if len(data):
                    ax.plot(data.day, data.value, "o", mfc="none", color=f"C{j}", ms=7,
                            label=f"{col} data ({data.source.iloc[0]})")
        ax.set_title(name, fontsize=10)
        ax.set_ylabel(unit)
        if log:
            ax.set_yscale("log")
        ax.legend(fontsize=6.5, ncol=2)
    time_unit = first.attrs.get("units", {}).get("time", "day")
    if regimens:
        _dose_markers(axes[-1, -1], regimens)
        axes[-1, -1].set_title("Administrations", fontsize=10)
        axes[-1, -1].set_xlabel(f"time ({time_unit})")
        axes[-1, -1].xaxis.set_tick_params(labelbottom=True)
    for ax in list(axes.flat)[len(panels):-1 if regimens else None]:
        ax.axis("off")
    if not regimens and rows > 1:
        axes[-2, -1].xaxis.set_tick_params(labelbottom=True)
    axes[-1, 0].set_xlabel(f"time ({time_unit})")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
