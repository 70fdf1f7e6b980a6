"""Figures of what thymalfasin (Ta1) does to T-cell counts over time, one per question a user asks
of its kinetics: a loading week then twice-weekly maintenance (the swing between doses, the decay
after the last one), Ta1 stopped at day 180 after chemotherapy, and a lymphopenic against a
normal-count patient (the deficit dependence). Typical patient, the model's default parameters.

    python -m thymosim.plots.ta1 --out DIR
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from thymosim.model import Model, default_model  # noqa: E402
from thymosim.scenario import named  # noqa: E402

COLOURS = {"CD3": "#1f77b4", "CD4": "#d62728", "CD8": "#2ca02c"}
STEP = 0.125
"""Output step [day]: 3 h, fine enough for the swing between twice-weekly doses."""


def _course(name: str, model: Model, horizon: float | None = None):
    scenario = replace(named(name), model=model)
    if horizon is not None:
        scenario = replace(scenario, horizon=horizon)
    return scenario.simulate(times=np.arange(0.0, scenario.horizon + STEP / 2, STEP))


def _doses(ax, scenario_name: str, model: Model, until: float) -> None:
    scenario = replace(named(scenario_name), model=model)
    days = sorted(t for d in scenario.regimen.doses if d.drug == "thymalfasin" for t in d.times if t <= until)
    ax.plot(days, np.zeros(len(days)), "|", color="0.4", markersize=6, transform=ax.get_xaxis_transform(),
            label="Tα1 doses")


def loading_maintenance(model: Model | None = None):
    """CD3/CD4/CD8 under ``ta1_loading_maintenance``: the whole course and days 140-220 (the swing
    between doses and the decay after the last one at day 180)."""
    model = model or default_model()
    df = _course("ta1_loading_maintenance", model)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, (lo, hi) in zip(axes, ((0, 270), (140, 220)), strict=True):
        part = df[(df.time >= lo) & (df.time <= hi)]
        for col, colour in COLOURS.items():
            ax.plot(part.time, part[col], color=colour, label=col)
        _doses(ax, "ta1_loading_maintenance", model, hi)
        ax.set_xlim(lo, hi)
        ax.set_xlabel("day")
        ax.axvline(180, color="0.6", ls=":", lw=1)
    axes[0].set_ylabel("blood count [cells/µL]")
    axes[0].set_title("Loading 3.2 mg × 7 d, then 1.6 mg twice weekly to day 180")
    axes[1].set_title("Days 140–220: between doses and after the last")
    axes[0].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def stopped_at_180(model: Model | None = None):
    """CD4 and CD8 [% of baseline] under cisplatin + vinorelbine with Ta1 to day 180
    (``cisplatin_vinorelbine_ta1_stop``) and without Ta1, to day 365."""
    model = model or default_model()
    ta1 = _course("cisplatin_vinorelbine_ta1_stop", model)
    alone = _course("cisplatin_vinorelbine", model, horizon=365.0)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, col in zip(axes, ("CD4", "CD8"), strict=True):
        ax.plot(ta1.time, 100 * ta1[col] / ta1[col].iloc[0], color=COLOURS[col], label="with Tα1 to day 180")
        ax.plot(alone.time, 100 * alone[col] / alone[col].iloc[0], color="0.4", ls="--", label="chemotherapy alone")
        ax.axhline(100, color="0.8", lw=1)
        ax.axvline(180, color="0.6", ls=":", lw=1)
        ax.set_title(f"{col}: cisplatin + vinorelbine × 4 cycles")
        ax.set_xlabel("day")
        ax.set_xlim(0, 365)
    axes[0].set_ylabel("% of baseline")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def lymphopenic_vs_normal(model: Model | None = None):
    """CD3, CD4 and CD8 [% of baseline] under 1.6 mg twice weekly for 180 days in the default
    lymphopenic patient (``ta1_lymphopenic``) and one at the healthy set points (``ta1_normal``)."""
    model = model or default_model()
    low, normal = _course("ta1_lymphopenic", model), _course("ta1_normal", model)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
    for ax, col in zip(axes, COLOURS, strict=True):
        ax.plot(low.time, 100 * low[col] / low[col].iloc[0], color=COLOURS[col],
                label=f"lymphopenic (baseline {low[col].iloc[0]:.0f}/µL)")
        ax.plot(normal.time, 100 * normal[col] / normal[col].iloc[0], color="0.3", ls="--",
                label=f"normal counts (baseline {normal[col].iloc[0]:.0f}/µL)")
        ax.set_title(f"{col} under Tα1 1.6 mg twice weekly")
        ax.set_xlabel("day")
        ax.set_ylim(75, None)
        ax.legend(loc="lower right", fontsize=8)
    axes[0].set_ylabel("% of baseline")
    fig.tight_layout()
    return fig


FIGURES = {"ta1_loading_maintenance.png": loading_maintenance, "ta1_stopped_at_180.png": stopped_at_180,
           "ta1_lymphopenic_vs_normal.png": lymphopenic_vs_normal}


def write(out: Path, model: Model | None = None) -> list[Path]:
    """Render every figure of :data:`FIGURES` into ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in FIGURES.items():
        fig = make(model)
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        paths.append(out / name)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m thymosim.plots.ta1", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    for path in write(parser.parse_args(argv).out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
