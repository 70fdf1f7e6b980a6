"""Figures of simulated time courses: one panel per clinical output, one colour per arm (the same
in every panel), dose markers per drug, the healthy range where it is near the data, and
published clinical data points."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from thymosim.model import default_model, model_dir  # noqa: E402
from thymosim.regimen import Regimen  # noqa: E402
from thymosim.tables import load_parameter_table  # noqa: E402

PANELS = [
    # (output, title, log scale, days shown: None = the whole horizon)
    ("CD3", "CD3 T cells", False, None),
    ("CD4", "CD4 T cells", False, None),
    ("CD8", "CD8 T cells", False, None),
    ("NK", "NK cells", False, None),
    ("ANC", "Neutrophils (ANC)", True, None),
    ("IL2", "Interleukin-2", False, None),
    ("IFNg", "Interferon-gamma", False, None),
    ("IL7", "Interleukin-7", False, None),
    ("mature_DC_fraction", "Mature dendritic cells", False, None),
    ("M1_M2", "Macrophage M1/M2 ratio", False, None),
    ("ta1_plasma", "Plasma thymalfasin, first 3 weeks", False, 21.0),
    ("tumour_diameter", "Tumour diameter", False, None),
]
"""Panels of thymosim's figure: output, title, log scale, days shown."""
GRADES = {"ANC": ((1000.0, "grade 3 neutropenia"), (500.0, "grade 4"))}
"""CTCAE v5 thresholds [cells/uL] marked on a panel (dashed) when the data reach within 2x of them."""
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"]


def arm_colours(arms) -> dict[str, str]:
    """One colour per arm, in order (the same in every panel and in the dose markers)."""
    return {arm: PALETTE[i % len(PALETTE)] for i, arm in enumerate(arms)}


def healthy_range() -> dict[str, tuple[float, float]]:
    """Healthy adult ranges: the bounds of the set-point rows of the parameter table (mean +- SD,
    PMC321350 Table 3)."""
    table = load_parameter_table()
    return {out: (table.lower[f"{out}_set"], table.upper[f"{out}_set"]) for out in ("CD3", "CD4", "CD8")}


def clinical_points() -> pd.DataFrame:
    """Published clinical data points, by scenario and output (models/data/clinical_points.tsv)."""
    return pd.read_csv(model_dir() / "data" / "clinical_points.tsv", sep="\t")


def _dose_markers(ax, regimens: Mapping[str, Regimen], colours: Mapping[str, str],
                  shifts: Mapping[str, float] | None = None) -> None:
    """One row per drug; each arm's administrations as ticks in the arm's colour, arms offset
    (``shifts``: days subtracted from an arm's times, see :func:`alignment`)."""
    drugs = sorted({d for reg in regimens.values() for d in reg.administrations().drug})
    for i, (arm, reg) in enumerate(regimens.items()):
        given = reg.administrations()
        offset = (i - (len(regimens) - 1) / 2) * 0.25
        for k, drug in enumerate(drugs):
            times = given.time[given.drug == drug].to_numpy() - (shifts or {}).get(arm, 0.0)
            ax.plot(times, np.full(len(times), k + offset), "|", color=colours[arm], ms=8, mew=1.5)
    ax.set_yticks(range(len(drugs)), [d.replace("_", " ") for d in drugs], fontsize=8)
    ax.set_ylim(-0.7, len(drugs) - 0.3)
    ax.invert_yaxis()


def alignment(regimens: Mapping[str, Regimen]) -> tuple[dict[str, float], list[str]]:
    """Days to subtract from each arm's times so that the treatment every arm shares starts at the
    same day (a thymalfasin loading week before PRaG puts PRaG's day 0 at day 7): per arm, the first
    administration of the drugs all arms give, less the earliest such start; and those drugs."""
    given = {arm: reg.administrations() for arm, reg in regimens.items()}
    shared = sorted(set.intersection(*(set(g.drug) for g in given.values()))) if given else []
    if len(given) < 2 or not shared:
        return {arm: 0.0 for arm in regimens}, shared
    starts = {arm: float(g.time[g.drug.isin(shared)].min()) for arm, g in given.items()}
    first = min(starts.values())
    return {arm: start - first for arm, start in starts.items()}, shared


def flat(arms: Mapping[str, pd.DataFrame], column: str) -> bool:
    """Whether ``column`` stays constant (to 1e-9 of its size) in every arm that has it."""
    values = [df[column].to_numpy(float) for df in arms.values() if column in df]
    return bool(values) and all(np.ptp(v) <= 1e-9 * max(float(np.abs(v).max()), 1e-300) for v in values)


PK_OUTPUT = "ta1_plasma"
"""The panel drawn from :func:`thymosim.analysis.exposure.pk_course` when ``plot_arms`` gets ``pk``."""


def plot_arms(arms: Mapping[str, pd.DataFrame], title: str = "", regimens: Mapping[str, Regimen] | None = None, *,
              relative: bool = False, pk: Mapping[str, pd.DataFrame] | None = None, pk_days: float | None = None,
              pk_log: bool = False, labels: Mapping[str, str] | None = None, align: bool = True):
    """One panel per clinical output, one colour per arm (legend once, under the title); the
    healthy mean +- SD band of a T-cell count is drawn only where it lies within the data's range
    (otherwise its lower bound is named in the panel); published points as open circles; plasma
    thymalfasin over the first 3 weeks; dose markers per drug. Time courses of another model (none
    of thymosim's outputs) get one panel per output.

    ``relative``: every panel but plasma thymalfasin as % change from the arm's baseline (its value at
    time 0), with a 0 % line (published points relative to the same baseline; no healthy band or
    grade lines). ``pk``: per arm, a dense thymalfasin course (:func:`thymosim.analysis.exposure.pk_course`)
    drawn instead of the sampled one, so that the peaks show their true height (otherwise the title
    gives the sampling interval: peaks between samples are not shown); ``pk_days`` [day]: the PK
    panel's time span (default 21); ``pk_log``: its concentration axis logarithmic. ``labels``: legend
    text per arm (default: the arm's key, e.g. a scenario's title). ``align`` (with ``regimens``):
    shift arms so that the treatment they all share starts on the same day (:func:`alignment`; the
    axis then counts days from that start). Panels constant in every arm are left out and named
    under the title."""
    first = next(iter(arms.values()))
    colours = arm_colours(arms)
    outputs = default_model().outputs
    panels = [p for p in PANELS if any(p[0] in df for df in arms.values())]
    constant = [p for p in panels if p[0] != PK_OUTPUT and flat(arms, p[0])]
    panels = [p for p in panels if p not in constant]
    shifts, shared = alignment(regimens) if regimens and align else ({}, [])
    shifted = any(shifts.values())
    units = dict(first.attrs.get("units", {}))
    if not panels:  # another model
        panels = [(c, c, False, None) for c in first.columns if c != "time"]
    else:
        units |= {o: outputs[o].unit for o in outputs}
    n = len(panels) + (1 if regimens else 0)
    columns = 3
    rows = (n + columns - 1) // columns
    # titles at a fixed height (no panel has tick labels on top): matplotlib otherwise measures every
    # x axis again to place each title, a quarter of the time the figure took to draw
    with plt.rc_context({"axes.titley": 1.0}):
        fig, axes = plt.subplots(rows, columns, figsize=(15, 2.9 * rows + 0.8), squeeze=False)
    points = clinical_points()
    healthy = healthy_range()
    time_unit = units.get("time", "day")
    horizon = max(float(df["time"].iloc[-1]) - shifts.get(arm, 0.0) for arm, df in arms.items())
    earliest = -max(shifts.values()) if shifted else 0.0
    time_label = (f"days from the start of {', '.join(d.replace('_', ' ') for d in shared)}" if shifted
                  else f"time ({time_unit})")
    for ax, (col, name, log, days) in zip(axes.flat, panels, strict=False):
        low, high = np.inf, -np.inf
        is_pk = col == PK_OUTPUT
        days = (pk_days or days) if is_pk else days
        scaled = relative and not is_pk and all(
            col not in df or float(df[col].iloc[0]) != 0 for df in arms.values())  # a zero baseline stays absolute
        for arm, df in arms.items():
            if col not in df:
                continue
            source = pk[arm] if is_pk and pk and arm in pk else df
            shown = source[source["time"] <= days] if days else source
            y = shown[col].to_numpy(float)
            base = float(df[col].iloc[0])
            if scaled:
                y = 100.0 * (y / base - 1.0)
            ax.plot(shown["time"] - shifts.get(arm, 0.0), y, color=colours[arm], lw=1.4)
            low, high = min(low, float(y.min())), max(high, float(y.max()))
            data = points[(points.scenario == arm) & (points.output == col)]
            if len(data):
                value = 100.0 * (data.value / base - 1.0) if scaled else data.value
                ax.plot(data.day - shifts.get(arm, 0.0), value, "o", mfc="none", mec=colours[arm], ms=7, mew=1.5)
                low, high = min(low, value.min()), max(high, value.max())
        if scaled:
            ax.axhline(0.0, color="0.3", lw=0.8, zorder=0)
            ax.set_ylabel("% change from baseline")
        elif col in healthy and np.isfinite(low):
            lo, hi = healthy[col]
            pad = 0.15 * (high - low or high)
            if lo <= high + pad:
                ax.axhspan(lo, hi, color="0.85", lw=0, zorder=0)
                ax.text(0.01, 0.97, "grey: healthy mean ± SD", transform=ax.transAxes, fontsize=7, va="top")
            else:
                ax.text(0.01, 0.97, f"healthy range {lo:.0f}–{hi:.0f} (above)", transform=ax.transAxes,
                        fontsize=7, va="top")
            ax.set_ylim(max(0.0, low - pad), max(high + pad, min(hi, lo) if lo <= high + pad else high + pad))
        for level, text in () if scaled else GRADES.get(col, ()):
            if np.isfinite(low) and low < 2 * level:
                ax.axhline(level, ls="--", lw=0.8, color="0.3")
                ax.annotate(text, (0.99, level), xycoords=("axes fraction", "data"), ha="right", va="bottom",
                            fontsize=7, color="0.3")
        if is_pk and pk_days and days != 21.0:
            name = name.replace("first 3 weeks", f"first {days:g} days")
        if is_pk and pk:
            name = f"{name} (event-exact)"
        elif is_pk and len(first) > 1:
            step_h = 24 * float(first["time"].iloc[1] - first["time"].iloc[0])
            name = f"{name} (sampled every {step_h:g} h)"
        ax.set_title(name, fontsize=10)
        if not scaled:
            ax.set_ylabel(units.get(col, ""))
        ax.set_xlabel(time_label, fontsize=8)
        ax.set_xlim(earliest, days or horizon)
        if (log and not scaled) or (is_pk and pk_log):
            ax.set_yscale("log")
    used = len(panels)
    if regimens:
        ax = axes.flat[used]
        _dose_markers(ax, regimens, colours, shifts)
        ax.set_title("Administrations", fontsize=10)
        ax.set_xlabel(time_label, fontsize=8)
        ax.set_xlim(earliest - 0.02 * horizon, horizon)  # a dose at the first day stays visible
        used += 1
    for ax in list(axes.flat)[used:]:
        ax.axis("off")
    handles = [plt.Line2D([], [], color=colours[a], lw=2) for a in arms]
    labels = [(labels or {}).get(a, a) for a in arms]
    if len(points[points.scenario.isin(list(arms))]):
        handles.append(plt.Line2D([], [], ls="", marker="o", mfc="none", mec="k"))
        labels.append("published data (models/data/clinical_points.tsv)")
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 4), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.35 / (2.9 * rows + 0.8)))
    if constant:
        title = f"{title}\n(not shown, unchanged in every arm: {', '.join(p[1] for p in constant)})"
    fig.suptitle(title, y=1 - 0.05 / (2.9 * rows + 0.8))
    _fixed_layout(fig, rows, columns, top=0.75)
    return fig


def _fixed_layout(fig, rows: int, columns: int, top: float) -> None:
    """Margins and gaps in inches (room for tick labels, a unit label, a panel title, an axis label and
    ``top`` inches of figure title and legend), set directly: ``tight_layout`` measured every text
    once more before the figure was drawn, about a third of the time ``thymosim run`` took
    (``benchmarks/startup.py``)."""
    width, height = fig.get_size_inches()
    left, right, bottom, title = 1.0, 0.25, 0.55, 0.3  # [inch]
    gap_x, gap_y = 0.95, 0.75  # [inch] between panels: y labels and ticks; x label, ticks and title
    panel_w = (width - left - right - (columns - 1) * gap_x) / columns
    panel_h = (height - bottom - top - title - (rows - 1) * gap_y) / rows
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - (top + title) / height, wspace=gap_x / panel_w, hspace=gap_y / panel_h)
