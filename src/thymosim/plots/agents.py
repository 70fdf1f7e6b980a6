"""The comparator figure (``thymosim agents``): one panel per endpoint family, every arm in the same
colour in every panel (:func:`thymosim.plots.timecourse.arm_colours`), legend outside the data."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from thymosim.plots.timecourse import GRADES, arm_colours  # noqa: E402

PANELS = [
    # (column, title, y label, log scale, fold over baseline, days shown)
    ("ANC", "Neutrophils", "cells/uL", True, False, None),
    ("CD3", "CD3 T cells (lymphocytes)", "cells/uL", False, False, None),
    ("CD4", "CD4 T cells", "cells/uL", False, False, None),
    ("NK", "NK cells", "fold of baseline", True, True, None),
    ("Treg", "Regulatory T cells", "fold of baseline", False, True, None),
    ("IFNg", "Interferon-gamma", "pM", True, False, None),
    ("capillary_leak", "Capillary-leak marker (IL-2)", "% body weight", False, False, None),
    ("tumour_diameter", "Tumour diameter", "mm", False, False, None),
]
"""Panels: output column, title, y label, log scale, shown as fold of baseline, days shown (None: all)."""


REFERENCE_STYLE = {"color": "black", "ls": (0, (4, 2)), "lw": 1.8, "zorder": 5}
"""The first arm (the comparator every other arm adds to: chemotherapy alone): black, dashed and
drawn on top, so that an arm that coincides with it (filgrastim's T cells) cannot hide it."""


def plot_agents(courses: Mapping[str, pd.DataFrame], title: str = ""):
    """Figure of the arms' time courses (``courses``: arm label -> simulated DataFrame; the first
    is the reference arm, drawn on top in black dashes); every panel over the whole horizon."""
    others = list(courses)[1:]
    colours = arm_colours(others)
    fig, axes = plt.subplots(2, 4, figsize=(17, 7.5), constrained_layout=True)
    for ax, (column, name, unit, log, fold, days) in zip(axes.flat, PANELS, strict=True):
        for i, (arm, df) in enumerate(courses.items()):
            shown = df if days is None else df[df.time <= days]
            y = shown[column] / shown[column].iloc[0] if fold else shown[column]
            style = REFERENCE_STYLE if i == 0 else {"color": colours[arm], "lw": 1.4}
            ax.plot(shown.time, y, label=arm, **style)
        for level, label in GRADES.get(column, ()):
            ax.axhline(level, color="0.4", ls="--", lw=0.8)
            ax.annotate(label, (1.0, level), xycoords=("axes fraction", "data"), ha="right", va="bottom",
                        fontsize=7, color="0.3")
        if log:
            ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_ylabel(unit)
        ax.set_xlabel("day")
        ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", frameon=False, title="arm (cisplatin + vinorelbine x 4)")
    if title:
        fig.suptitle(title)
    return fig
