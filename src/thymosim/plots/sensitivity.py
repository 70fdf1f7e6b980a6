"""Figures for sweeps and sensitivity analyses."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from thymosim.analysis.endpoints import DESCRIPTIONS  # noqa: E402


def label(name: str, width: int = 48) -> str:
    """A readable label: a parameter's description from the table with its id, an endpoint's
    description with its unit, ``doses[4].amt`` as "dose 5: amount"; unknown names unchanged."""
    import re

    from thymosim.tables import load_parameter_table

    if name in DESCRIPTIONS:
        return f"{name}: {DESCRIPTIONS[name]}"
    dose = re.fullmatch(r"doses\[(\d+)\]\.(\w+)", name)
    if dose:
        field = {"amt": "amount", "ii": "interval", "addl": "additional doses", "time": "first time",
                 "dur": "duration"}.get(dose.group(2), dose.group(2))
        return f"dose {int(dose.group(1)) + 1}: {field}"
    table = load_parameter_table()
    if name in table.index:
        text = str(table.description[name])
        return f"{text[:width - 1] + '…' if len(text) > width else text} ({name})"
    return name


def _clip_low(value: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """Asymmetric error bars that stop at 0 (an index or mu* is not negative)."""
    return np.vstack([np.minimum(conf, np.maximum(value, 0)), conf])


def tornado(local: pd.DataFrame, endpoint: str, top: int = 15):
    """Horizontal bars of scaled local sensitivities d ln y / d ln p for one endpoint."""
    rows = local[(local.endpoint == endpoint) & (local.status == "ok")].set_index("parameter")
    data, y0 = rows.sensitivity, float(rows.value.iloc[0])
    data = data.reindex(data.abs().sort_values(ascending=False).index[:top])[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(data) + 1.5))
    ax.barh([label(p) for p in data.index], data.to_numpy(), color=np.where(data.to_numpy() >= 0, "C3", "C0"))
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("scaled sensitivity d ln y / d ln p")
    note = "\n(y0 < 0: a positive bar makes y more negative)" if y0 < 0 else ""
    ax.set_title(f"Local sensitivity of {label(endpoint)}\ny0 = {y0:.3g}{note}", fontsize=9)
    fig.tight_layout()
    return fig


def morris_plot(mi: pd.DataFrame, endpoint: str, label_top: int = 10):
    fig, ax = plt.subplots(figsize=(8, 5.5))
    ax.errorbar(mi.mu_star, mi.sigma, xerr=_clip_low(mi.mu_star.to_numpy(), mi.mu_star_conf.to_numpy()),
                fmt="o", ms=4, alpha=0.8)
    ranked = mi.mu_star.sort_values(ascending=False).index[:label_top]
    for k, name in enumerate(ranked):  # labels staggered so that neighbours do not overlap
        ax.annotate(name, (mi.loc[name, "mu_star"], mi.loc[name, "sigma"]), fontsize=7,
                    xytext=(4, 10 * (k % 4) - 12), textcoords="offset points",
                    arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.5"})
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("mu* (mean |elementary effect|, endpoint units)")
    ax.set_ylabel("sigma (interaction / non-linearity)")
    ax.set_title(f"Morris screening of {label(endpoint)}", fontsize=9)
    fig.tight_layout()
    return fig


def sobol_plot(si: pd.DataFrame, endpoint: str, top: int = 15):
    data = si.sort_values("ST", ascending=False).iloc[:top]
    x = np.arange(len(data))
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(data) + 2), 4.5))
    ax.bar(x - 0.2, data.S1.clip(lower=0), 0.4, yerr=_clip_low(data.S1.to_numpy(), data.S1_conf.to_numpy()),
           label="S1 (first order)", capsize=2)
    ax.bar(x + 0.2, data.ST.clip(lower=0), 0.4, yerr=_clip_low(data.ST.to_numpy(), data.ST_conf.to_numpy()),
           label="ST (total)", capsize=2)
    ax.set_xticks(x, [label(p, 32) for p in data.index], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("Sobol index (95 % CI)")
    converged = si.attrs.get("converged")
    ax.set_title(f"Sobol indices of {label(endpoint)}\n(N = {si.attrs.get('n')}, converged: {converged})", fontsize=9)
    ax.legend()
    fig.tight_layout()
    return fig


def heatmap(table: pd.DataFrame, x: str, y: str, endpoint: str):
    """2-D sweep: endpoint value over two factors (columns ``factor:<x>``, ``factor:<y>``)."""
    data = table[(table.endpoint == endpoint)].pivot_table(index=f"factor:{y}", columns=f"factor:{x}",
                                                           values="value", aggfunc="first")
    fig, ax = plt.subplots(figsize=(6.5, 5))
    image = ax.imshow(data.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(data.shape[1]), [f"{v:g}" if isinstance(v, float) else v for v in data.columns],
                  rotation=45, fontsize=8)
    ax.set_yticks(range(data.shape[0]), [f"{v:g}" if isinstance(v, float) else v for v in data.index], fontsize=8)
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    fig.colorbar(image, label=label(endpoint))
    ax.set_title(f"{endpoint} over {x} x {y}", fontsize=9)
    fig.tight_layout()
    return fig


def dose_response(table: pd.DataFrame, factor: str, endpoints: list[str]):
    """Endpoint(s) against one numeric factor of a 1-D sweep."""
    fig, axes = plt.subplots(1, len(endpoints), figsize=(4.5 * len(endpoints), 3.8), squeeze=False)
    for ax, endpoint in zip(axes[0], endpoints, strict=True):
        data = table[(table.endpoint == endpoint) & (table.status == "ok")].sort_values(f"factor:{factor}")
        ax.plot(data[f"factor:{factor}"], data.value, "o-")
        ax.set_xlabel(label(factor))
        ax.set_title(label(endpoint), fontsize=9)
    fig.tight_layout()
    return fig
