"""Figures for sweeps and sensitivity analyses."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from thymosim.analysis.endpoints import REGISTRY  # noqa: E402


def label(name: str, width: int = 48, scenario=None) -> str:
    """A readable label: a parameter's description from the table with its id, an endpoint's
    description with its unit, ``doses[4].amt`` as "dose 5: amount" (with ``scenario``, the dose
    record's drug and the field's unit: "thymalfasin, dose record 5: amount [mg]"); unknown names
    unchanged."""
    import re

    from thymosim.tables import load_parameter_table

    if name in REGISTRY:
        return f"{name}: {REGISTRY[name].text}"
    dose = re.fullmatch(r"doses\[(\d+)\]\.(\w+)", name)
    if dose:
        field = {"amt": "amount", "ii": "interval", "addl": "additional doses", "time": "first time",
                 "dur": "duration"}.get(dose.group(2), dose.group(2))
        index = int(dose.group(1))
        doses = scenario.regimen.doses if scenario is not None else ()
        if index < len(doses):
            record = doses[index]
            unit = {"amt": f"{record.unit}{record.per_unit}", "ii": "day", "time": "day", "dur": "day"}.get(
                dose.group(2), "")
            drug = str(getattr(record.drug, "name", record.drug)).replace("_", " ")
            return f"{drug}, dose record {index + 1}: {field}{f' [{unit}]' if unit else ''}"
        return f"dose {index + 1}: {field}"
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
    """mu* against sigma; the ``label_top`` parameters with the largest mu* are named in a column
    right of the axes, in the order of their sigma, each joined to its point (labels never overlap)."""
    fig, ax = plt.subplots(figsize=(10, 5.5))
    ax.errorbar(mi.mu_star, mi.sigma, xerr=_clip_low(mi.mu_star.to_numpy(), mi.mu_star_conf.to_numpy()),
                fmt="o", ms=4, alpha=0.8)
    ranked = mi.loc[mi.mu_star.sort_values(ascending=False).index[:label_top]].sort_values("sigma", ascending=False)
    slots = np.linspace(0.97, 0.03, len(ranked)) if len(ranked) > 1 else [0.5]
    for slot, name in zip(slots, ranked.index, strict=True):
        ax.annotate(label(name, 40), (mi.loc[name, "mu_star"], mi.loc[name, "sigma"]), fontsize=7,
                    xytext=(1.03, slot), textcoords="axes fraction", va="center", annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.6", "shrinkA": 0, "shrinkB": 2})
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("mu* (mean |elementary effect|, endpoint units)")
    ax.set_ylabel("sigma (interaction / non-linearity)")
    ax.set_title(f"Morris screening of {label(endpoint)}", fontsize=9)
    fig.subplots_adjust(left=0.08, right=0.6, top=0.92, bottom=0.1)
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


def heatmap(table: pd.DataFrame, x: str, y: str, endpoint: str, scenario=None):
    """2-D sweep: endpoint value over two factors (columns ``factor:<x>``, ``factor:<y>``);
    ``scenario`` names the drug and unit of a dose factor."""
    data = table[(table.endpoint == endpoint)].pivot_table(index=f"factor:{y}", columns=f"factor:{x}",
                                                           values="value", aggfunc="first")
    fig, ax = plt.subplots(figsize=(6.5, 5))
    image = ax.imshow(data.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(data.shape[1]), [f"{v:g}" if isinstance(v, float) else v for v in data.columns],
                  rotation=45, fontsize=8)
    ax.set_yticks(range(data.shape[0]), [f"{v:g}" if isinstance(v, float) else v for v in data.index], fontsize=8)
    ax.set_xlabel(label(x, scenario=scenario))
    ax.set_ylabel(label(y, scenario=scenario))
    fig.colorbar(image, label=label(endpoint))
    ax.set_title(f"{label(endpoint)}\nby {label(x, 40, scenario)} and {label(y, 40, scenario)}", fontsize=9)
    fig.tight_layout()
    return fig


def dose_response(table: pd.DataFrame, factor: str, endpoints: list[str], scenario=None):
    """Endpoint(s) against one numeric factor of a 1-D sweep (``scenario``: see :func:`heatmap`)."""
    fig, axes = plt.subplots(1, len(endpoints), figsize=(4.5 * len(endpoints), 3.8), squeeze=False)
    for ax, endpoint in zip(axes[0], endpoints, strict=True):
        data = table[(table.endpoint == endpoint) & (table.status == "ok")].sort_values(f"factor:{factor}")
        ax.plot(data[f"factor:{factor}"], data.value, "o-")
        ax.set_xlabel(label(factor, scenario=scenario))
        ax.set_title(label(endpoint), fontsize=9)
    fig.tight_layout()
    return fig
