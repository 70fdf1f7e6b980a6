"""Figures of an in-silico trial: waterfall of best tumour change, spider plot of the imaged
diameters, Kaplan-Meier curves of progression-free survival with the number at risk under the
axis, and blood-count trajectories with prediction bands and published points. Arms keep one
colour in every figure (:func:`arm_colours`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from thymosim.analysis import recist, trialstats  # noqa: E402
from thymosim.plots.timecourse import arm_colours  # noqa: E402  (one colour per arm in every figure)

RECIST_COLOURS = dict(zip(recist.CLASSES, ("#1b7837", "#5aae61", "#bdbdbd", "#c51b7d", "#ffffff"), strict=True))


def _arms(patients: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(patients.arm))


def waterfall(patients: pd.DataFrame, title: str = "") -> plt.Figure:
    """Best change of the tumour diameter from baseline per patient [%], sorted, one panel per
    arm; bars coloured by RECIST class; dashed lines at the RECIST 1.1 PD (+20 %) and PR (-30 %)
    thresholds (:data:`thymosim.analysis.recist.RULES`)."""
    arms = _arms(patients)
    fig, axes = plt.subplots(1, len(arms), figsize=(5.5 * len(arms), 4), sharey=True, squeeze=False)
    for ax, arm in zip(axes[0], arms, strict=True):
        group = patients[patients.arm == arm].sort_values("best_change_pct", ascending=False)
        values = group.best_change_pct.fillna(0).clip(-100, 100).to_numpy()
        ax.bar(np.arange(len(values)), values, width=1.0, color=[RECIST_COLOURS[c] for c in group.recist],
               edgecolor="none")
        for y in (recist.PD_CHANGE_PCT, recist.PR_CHANGE_PCT):
            ax.axhline(y, ls="--", lw=0.8, color="k")
        orr = 100 * group.recist.isin(recist.OBJECTIVE_RESPONSE).mean()
        ax.set_title(f"{arm}\nn = {len(group)}, ORR {orr:.1f} %", fontsize=10)
        ax.set_xlabel("virtual patients (sorted)")
        ax.set_xticks([])
    axes[0][0].set_ylabel("best change of tumour diameter from baseline [%]")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, ec="k", lw=0.3) for c in RECIST_COLOURS.values()]
    axes[0][-1].legend(handles, list(RECIST_COLOURS), title="RECIST 1.1", loc="lower left", fontsize=8)
    fig.suptitle(title or "Waterfall: best tumour response")
    fig.tight_layout()
    return fig


def spider(patients: pd.DataFrame, title: str = "", max_lines: int = 150) -> plt.Figure:
    """Percent change of the imaged diameter at each scan, one line per patient (at most
    ``max_lines`` per arm, the first by id), one panel per arm, coloured by RECIST class."""
    arms = _arms(patients)
    scans = sorted((c for c in patients.columns if c.startswith("at:tumour_diameter@")),
                   key=lambda c: float(c.split("@")[1]))
    days = np.array([float(c.split("@")[1]) for c in scans])
    fig, axes = plt.subplots(1, len(arms), figsize=(5.5 * len(arms), 4), sharey=True, squeeze=False)
    for ax, arm in zip(axes[0], arms, strict=True):
        group = patients[patients.arm == arm].head(max_lines)
        d = group[scans].to_numpy(float)
        change = 100 * (d / d[:, :1] - 1)
        for row, cls in zip(change, group.recist, strict=True):
            ax.plot(days, row, color=RECIST_COLOURS[cls] if cls != "SD" else "#7f7f7f", lw=0.7, alpha=0.7)
        for y in (recist.PD_CHANGE_PCT, recist.PR_CHANGE_PCT):
            ax.axhline(y, ls="--", lw=0.8, color="k")
        ax.set_title(f"{arm} ({len(group)} of {int((patients.arm == arm).sum())} shown)", fontsize=10)
        ax.set_xlabel("day (scans)")
        ax.set_xticks(days)
    axes[0][0].set_ylabel("tumour diameter change from baseline [%]")
    shown = [c for c in RECIST_COLOURS if c != "NE"]
    handles = [plt.Line2D([], [], color=RECIST_COLOURS[c] if c != "SD" else "#7f7f7f") for c in shown]
    axes[0][-1].legend(handles, shown, title="best response", loc="upper left", fontsize=8)
    fig.suptitle(title or "Spider plot: imaged tumour diameter")
    fig.tight_layout()
    return fig


def kaplan_meier(patients: pd.DataFrame, title: str = "", p_value: float | None = None) -> plt.Figure:
    """Kaplan-Meier curves of progression-free survival by arm (censoring ticks), with the
    number at risk at each scan day in a table under the axis."""
    arms = _arms(patients)
    colours = arm_colours(arms)
    fig, (ax, table_ax) = plt.subplots(2, 1, figsize=(7, 5.2), height_ratios=[4, 1.1], sharex=True)
    ticks = sorted({float(c.split("@")[1]) for c in patients.columns if c.startswith("at:tumour_diameter@")}
                   or {0.0, *patients.pfs_day.dropna().unique()})
    every = ticks[1] - ticks[0] if len(ticks) > 1 else float("nan")
    risk_rows = []
    for arm in arms:
        group = patients[(patients.arm == arm) & patients.pfs_day.notna()]
        km = trialstats.km_table(group.pfs_day, group.pfs_event)
        median = trialstats.km_median(group.pfs_day, group.pfs_event)
        ax.step(km.time, 100 * km.survival, where="post", color=colours[arm], lw=1.8,
                label=f"{arm} (median {f'{median:g} d' if np.isfinite(median) else 'not reached'})")
        censored = group[~group.pfs_event.astype(bool)].pfs_day
        s_at = np.interp(censored, km.time, km.survival)
        ax.plot(censored, 100 * s_at, "|", color=colours[arm], ms=8)
        risk_rows.append([int((group.pfs_day >= t).sum()) for t in ticks])
    ax.set_ylabel("progression-free [%]")
    ax.set_ylim(-2, 102)
    label = f" (log-rank p = {p_value:.3g})" if p_value is not None and np.isfinite(p_value) else ""
    ax.set_title((title or f"Progression-free survival (RECIST 1.1, scans every {every:g} days)") + label, fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    table_ax.set_axis_off()
    table_ax.set_title("number at risk", fontsize=8, loc="left")
    for i, (arm, row) in enumerate(zip(arms, risk_rows, strict=True)):
        y = 0.8 - 0.35 * i
        table_ax.text(-0.02, y, arm, transform=table_ax.get_yaxis_transform(), ha="right", va="center",
                      fontsize=8, color=colours[arm])
        for t, count in zip(ticks, row, strict=True):
            table_ax.text(t, y, str(count), ha="center", va="center", fontsize=8, color=colours[arm])
    ax.set_xticks(ticks)
    ax.set_xlabel("day")
    ax.xaxis.set_tick_params(labelbottom=True)
    fig.tight_layout()
    return fig


FILLED_ARMS = 2
"""Up to this many arms the prediction bands are filled; with more, their edges are drawn dashed."""


def count_bands(runs: Mapping[str, pd.DataFrame], counts: Sequence[str] = ("CD3", "CD4", "CD8"),
                published: pd.DataFrame | None = None, level: float = 0.90, title: str = "") -> plt.Figure:
    """Median and ``level`` prediction band of blood counts [cells/uL] over time per arm (from
    ``at:COUNT@DAY`` columns), one panel per count; ``published`` points (columns arm, quantity,
    day, value, label) drawn on top."""
    arms = list(runs)
    colours = arm_colours(arms)
    fig, axes = plt.subplots(1, len(counts), figsize=(5 * len(counts), 3.8), squeeze=False)
    q = (1 - level) / 2
    for ax, count in zip(axes[0], counts, strict=True):
        for arm, frame in runs.items():
            columns = sorted((c for c in frame.columns if c.startswith(f"at:{count}@")),
                             key=lambda c: float(c.split("@")[1]))
            if not columns:
                continue
            days = np.array([float(c.split("@")[1]) for c in columns])
            values = frame[columns].to_numpy(float)
            low, high = np.nanquantile(values, q, axis=0), np.nanquantile(values, 1 - q, axis=0)
            if len(arms) <= FILLED_ARMS:
                ax.fill_between(days, low, high, color=colours[arm], alpha=0.18, lw=0)
            else:  # overlapping translucent fills of many arms blend into one colour: band edges instead
                for edge in (low, high):
                    ax.plot(days, edge, color=colours[arm], lw=0.9, ls=(0, (3, 2)))
            ax.plot(days, np.nanmedian(values, axis=0), color=colours[arm], lw=1.8, label=arm, marker="o", ms=3)
        if published is not None:
            for _, row in published[published.quantity == count].iterrows():
                colour = colours.get(row.arm, "k")
                ax.plot(row.day, row.value, "D", color=colour, mec="k", ms=7, zorder=5)
                ax.annotate(row.label, (row.day, row.value), textcoords="offset points", xytext=(5, 5), fontsize=7)
        ax.set_title(f"{count} T cells", fontsize=10)
        ax.set_xlabel("day")
        ax.set_ylabel("cells/uL")
    axes[0][0].legend(fontsize=7, loc="upper right")
    band = "prediction band" if len(arms) <= FILLED_ARMS else "prediction band (dashed edges)"
    fig.suptitle(title or f"Blood counts: median and {int(100 * level)} % {band}; diamonds: published medians")
    fig.tight_layout()
    return fig
