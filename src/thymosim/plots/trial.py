"""Figures of an in-silico trial: waterfall of best tumour change, spider plot of the imaged
diameters, Kaplan-Meier curves of progression-free and overall survival with the number at risk
under the axis, a swimmer plot, and blood-count trajectories with prediction bands and published points. Arms keep one
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


KM_LABELS = {"PFS": ("pfs_day", "pfs_event", "progression-free [%]",
                     "Progression-free survival (progression or death)"),
             "OS": ("os_day", "os_event", "alive [%]", "Overall survival")}
"""Columns, axis label and default title of each Kaplan-Meier endpoint."""
MAX_AT_RISK_COLUMNS = 10


def _risk_ticks(patients: pd.DataFrame, day: str) -> list[float]:
    """Days of the number-at-risk table: the scan days (every k-th one if there are more than
    :data:`MAX_AT_RISK_COLUMNS`), else the distinct event days."""
    scans = sorted({float(c.split("@")[1]) for c in patients.columns if c.startswith("at:tumour_diameter@")})
    if not scans:
        return sorted({0.0, *patients[day].dropna().unique()})
    step = -(-len(scans) // MAX_AT_RISK_COLUMNS)
    return scans[::step]


def kaplan_meier(patients: pd.DataFrame, title: str = "", p_value: float | None = None,
                 endpoint: str = "PFS") -> plt.Figure:
    """Kaplan-Meier curves of ``endpoint`` (PFS or OS, :data:`KM_LABELS`) by arm, with censoring
    ticks, each arm's median [days] in the legend and the number at risk in a table under the
    axis."""
    if endpoint not in KM_LABELS:
        raise ValueError(f"endpoint must be one of {', '.join(KM_LABELS)}, got {endpoint!r}")
    day, event, ylabel, default_title = KM_LABELS[endpoint]
    arms = _arms(patients)
    colours = arm_colours(arms)
    fig, (ax, table_ax) = plt.subplots(2, 1, figsize=(7, 5.2), height_ratios=[4, 1.1], sharex=True)
    ticks = _risk_ticks(patients, day)
    risk_rows = []
    for arm in arms:
        group = patients[(patients.arm == arm) & patients[day].notna()]
        km = trialstats.km_table(group[day], group[event])
        median = trialstats.km_median(group[day], group[event])
        ax.step(km.time, 100 * km.survival, where="post", color=colours[arm], lw=1.8,
                label=f"{arm} (median {f'{median:.0f} d' if np.isfinite(median) else 'not reached'})")
        censored = group[~group[event].astype(bool)][day]
        s_at = np.interp(censored, km.time, km.survival)
        ax.plot(censored, 100 * s_at, "|", color=colours[arm], ms=8)
        risk_rows.append([int((group[day] >= t).sum()) for t in ticks])
    ax.set_ylabel(ylabel)
    ax.set_ylim(-2, 102)
    label = f" (log-rank p = {p_value:.3g})" if p_value is not None and np.isfinite(p_value) else ""
    ax.set_title((title or default_title) + label, fontsize=10)
    ax.legend(loc="upper right", fontsize=8)  # survival curves fall from the upper left
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


def swimmer(patients: pd.DataFrame, title: str = "", max_patients: int = 25) -> plt.Figure:
    """One bar per patient (at most ``max_patients`` per arm, the first by id), one panel per arm:
    a dark bar to the PFS event or censoring, a light bar on to death or censoring (OS), coloured
    by best RECIST response; markers: first response scan (``response_day``), progression
    (``ttp_day`` where ``ttp_event``), death, and an arrow for alive at the end of follow-up."""
    arms = _arms(patients)
    fig, axes = plt.subplots(1, len(arms), figsize=(5.5 * len(arms), 0.6 + 0.22 * max_patients + 1.2),
                             sharex=True, squeeze=False)
    for ax, arm in zip(axes[0], arms, strict=True):
        group = patients[(patients.arm == arm) & patients.os_day.notna()].head(max_patients)
        group = group.sort_values("os_day", ascending=True).reset_index(drop=True)
        for y, r in group.iterrows():
            colour = RECIST_COLOURS.get(r.recist, "#bdbdbd")
            ax.barh(y, r.os_day, color=colour, alpha=0.35, height=0.7, edgecolor="none")
            ax.barh(y, r.pfs_day, color=colour, alpha=1.0, height=0.7, edgecolor="k", lw=0.3)
            if "response_day" in group and np.isfinite(r.response_day):
                ax.plot(r.response_day, y, "^", color="#1b7837", mec="k", mew=0.4, ms=5)
            if r.get("ttp_event", False) and r.ttp_day <= r.os_day:
                ax.plot(r.ttp_day, y, "D", color="#c51b7d", mec="k", mew=0.4, ms=4.5)
            if r.os_event:
                ax.plot(r.os_day, y, "x", color="k", ms=5)
            else:
                ax.annotate("", (r.os_day + 25, y), (r.os_day, y),
                            arrowprops={"arrowstyle": "->", "lw": 0.8, "color": "k"})
        ax.set_yticks([])
        ax.set_xlabel("day")
        ax.set_title(f"{arm} ({len(group)} of {int((patients.arm == arm).sum())} shown)", fontsize=10)
    axes[0][0].set_ylabel("virtual patients (sorted by survival)")
    handles: list = [plt.Rectangle((0, 0), 1, 1, color=RECIST_COLOURS[c], ec="k", lw=0.3)
                     for c in ("CR", "PR", "SD", "PD")]
    handles += [plt.Line2D([], [], ls="", marker=m, color=c, mec="k", mew=0.4)
                for m, c in (("^", "#1b7837"), ("D", "#c51b7d"), ("x", "k"))]
    handles += [plt.Line2D([], [], color="k", lw=0.8, marker=">", ms=4)]
    labels = ["CR", "PR", "SD", "PD", "first response", "progression", "death", "alive at end of follow-up"]
    fig.legend(handles, labels, loc="lower center", ncol=8, fontsize=7, frameon=False)
    fig.suptitle(title or "Swimmer plot: dark bar to progression or death (PFS), light bar to death (OS)")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
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
