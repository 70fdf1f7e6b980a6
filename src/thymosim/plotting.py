"""Figures of simulated time courses."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

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
HEALTHY_RANGE = {"CD3": (1609 - 454, 1609 + 454), "CD4": (837 - 262, 837 + 262), "CD8": (660 - 231, 660 + 231)}
"""Healthy adult male mean +- SD (PMC321350, Table 3)."""


def plot_arms(arms: Mapping[str, pd.DataFrame], title: str = ""):
    """Multi-panel comparison of arms: one line style per arm, one colour per output."""
    fig, axes = plt.subplots(5, 2, figsize=(12, 16), sharex=True)
    styles = ["-", "--", ":", "-."]
    for ax, (name, columns, unit, log) in zip(axes.flat, PANELS, strict=False):
        for j, col in enumerate(columns):
            if col in HEALTHY_RANGE:
                ax.axhspan(*HEALTHY_RANGE[col], color=f"C{j}", alpha=0.08, lw=0)
            for i, (arm, df) in enumerate(arms.items()):
                ax.plot(df["time"], df[col], styles[i % 4], color=f"C{j}", lw=1.2, label=f"{col} ({arm})")
        ax.set_title(name, fontsize=10)
        ax.set_ylabel(unit)
        if log:
            ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2)
    axes[-1, -1].axis("off")
    axes[-1, 0].set_xlabel("time (day)")
    axes[-2, -1].set_xlabel("time (day)")
    axes[-2, -1].xaxis.set_tick_params(labelbottom=True)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
