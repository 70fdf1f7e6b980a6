"""Figure and report of a dose finding (:mod:`~thymosim.analysis.dosefinding`): the trade-off of
benefit against total drug per candidate, and a short Markdown report (written by
:mod:`thymosim.workflows.dosefinding`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from thymosim.analysis.dosefinding import DoseFinding

MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def tradeoff_figure(result: DoseFinding) -> plt.Figure:
    """Mean benefit [percentage points of best change] against mean total drug [mg] per candidate,
    bars spanning the seeds' minimum to maximum; colour: dose, marker: interval, label: threshold;
    the recommended candidate ringed."""
    summary = result.summary[np.isfinite(result.summary.benefit.to_numpy(float))]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    doses = sorted(summary.dose.unique())
    intervals = sorted(summary.every.unique())
    colours = plt.get_cmap("viridis")(np.linspace(0.1, 0.85, max(len(doses), 1)))
    for _, row in summary.iterrows():
        colour = colours[doses.index(row.dose)]
        marker = MARKERS[intervals.index(row.every) % len(MARKERS)]
        x, y = row.drug_mg, row.benefit
        ax.errorbar(x, y, xerr=[[x - row.drug_mg_min], [row.drug_mg_max - x]],
                    yerr=[[y - row.benefit_min], [row.benefit_max - y]], color=colour, alpha=0.5, lw=1,
                    capsize=2, fmt="none")
        ax.scatter(x, y, color=colour, marker=marker, s=46, zorder=3, edgecolor="0.2", linewidth=0.5)
        if np.isfinite(row.threshold):
            ax.annotate(f"{row.threshold:g}", (x, y), textcoords="offset points", xytext=(5, 4), fontsize=7,
                        color="0.3")
        if row.candidate == result.recommended:
            ax.scatter(x, y, s=260, facecolor="none", edgecolor="tab:red", linewidth=1.6, zorder=4)
    for dose, colour in zip(doses, colours, strict=True):
        ax.scatter([], [], color=colour, marker="o", s=40, label=f"{dose:g} mg per administration")
    for k, every in enumerate(intervals):
        ax.scatter([], [], color="0.6", marker=MARKERS[k % len(MARKERS)], s=40, label=f"every {every:g} days")
    if result.recommended:
        ax.scatter([], [], s=120, facecolor="none", edgecolor="tab:red", linewidth=1.6,
                   label=f"recommended: {result.recommended} ({100 * result.agreement:.0f} % of populations)")
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_xlabel("total drug per patient [mg] (mean over seeds; bars: seed range)")
    ax.set_ylabel("extra tumour shrinkage vs no drug [percentage points]")
    seeds = result.table.seed.nunique()
    n = int(result.table.n.max()) if len(result.table) else 0
    ax.set_title(f"Dose finding: {len(summary)} guided regimens, {seeds} populations of {n} patients\n"
                 "(numbers beside points: the rules' count threshold)", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def report(result: DoseFinding) -> str:
    """A short Markdown report: the recommendation and the summary table."""
    columns = ["candidate", "seeds", "failed", "benefit", "benefit_sd", "orr_gain", "cd4_gain", "drug_mg",
               "recommended"]
    table = result.summary[columns].round(2)
    lines = ["# Dose finding", "",
             f"Recommended: **{result.recommended or 'none'}** (in {100 * result.agreement:.0f} % of "
             f"{result.table.seed.nunique()} populations): the least total drug reaching the set share of the "
             "best mean benefit.", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    failed = result.table[result.table.error != ""]
    if len(failed):
        lines += ["", "Failures (kept in dosefinding.csv):", ""]
        lines += [f"- seed {r.seed}, {r.candidate}: {r.failed} patients; {r.error}" for r in failed.itertuples()]
    return "\n".join(lines) + "\n"
