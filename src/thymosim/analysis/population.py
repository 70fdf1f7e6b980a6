"""Virtual populations: inter-individual variability around the typical patient, a plausibility
filter, and selection to a target distribution.

1. **Sample** (:func:`sample_population`): each parameter of ``models/population.tsv`` is drawn
   log-normally around its value in the model (theta_i = theta * exp(eta_i), eta ~ N(0, omega^2)),
   redrawn until inside the row's bounds; rows sharing a ``group`` share one eta. CD3_0 follows
   CD4_0 + CD8_0 in the typical patient's proportion.
2. **Plausibility** (:func:`plausible`): the patient's untreated baseline is feasible (every derived
   rate >= 0) and its behaviour under a reference scenario (default: platinum-doublet
   chemotherapy alone) stays inside physiological bounds (:data:`BOUNDS`).
3. **Selection** (:func:`select`): the plausible-patient method of Allen RJ, Rieger TR, Musante CJ,
   CPT Pharmacometrics Syst Pharmacol 2016;5:140, doi:10.1002/psp4.12063: a plausible patient with
   observables x is accepted with probability min(1, c * f_target(x) / f_plausible(x)), f_plausible a
   kernel density of the plausible pool, f_target the published distribution (:data:`TARGET`), no
   weighting. Its yield is the accepted share.

Everything is reproducible from the seed. Time in days, counts cells/uL, diameters mm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from thymosim.analysis.sweep import run_sweep
from thymosim.model import Model, default_model
from thymosim.scenario import Scenario, named
from thymosim.tables import load_variability, population_selection

_SELECTION = population_selection()
BOUNDS: dict[str, tuple[float, float]] = _SELECTION["bounds"]
"""Physiological bounds of the plausibility filter: endpoint -> (lower, upper), on the reference scenario
(``models/data/population_selection.toml``, each with why)."""

TARGET: dict[str, tuple[float, float]] = _SELECTION["target"]
"""Published baseline distributions the selection matches: observable -> (median, log-normal SD); the
median is the typical patient's value in ``models/parameters.tsv``, the SD and its source are in
``models/data/population_selection.toml``."""

REFERENCE_SCENARIO: str = _SELECTION["scenario"]

POOL_INFLATE: dict[str, float] = _SELECTION["inflate"]
"""omega multipliers of the plausible pool for the selected observables: the pool must be wider than
the target for acceptance-rejection to reach the target's tails."""


def sample_population(n: int, seed: int = 0, model: Model | None = None,
                      variability: pd.DataFrame | None = None,
                      typical: Mapping[str, float] | None = None,
                      inflate: Mapping[str, float] | None = None) -> pd.DataFrame:
    """``n`` virtual patients: one row each (``vp`` id, one column per varied parameter id).
    ``typical`` overrides the model's values used as medians (e.g. a calibration's); ``inflate``
    multiplies a parameter's omega (a wider plausible pool for :func:`select` to shape)."""
    inflate = inflate or {}
    if n < 1:
        raise ValueError(f"n must be >= 1 virtual patients, got {n!r}")
    model = model or default_model()
    table = load_variability() if variability is None else variability
    unknown = [p for p in table.index if p not in model.defaults]
    if unknown:
        raise KeyError(f"population.tsv: {unknown} are not parameters of model {model.name!r}")
    medians = {p: float((typical or {}).get(p, model.defaults[p])) for p in table.index}
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    units = [[pid] for pid in table.index[table.group == ""]]
    units += [list(table.index[table.group == g]) for g in sorted(set(table.group) - {""})]
    for members in units:  # one eta per unit (a parameter, or a group sharing one)
        rows = table.loc[members]
        scale = {pid: float(inflate.get(pid, 1.0)) for pid in members}
        eta = rng.standard_normal(n)
        for _ in range(1000):  # redraw the patients whose value falls outside a member's bounds
            values = {pid: medians[pid] * np.exp(rows.omega[pid] * scale[pid] * eta) for pid in members}
            out = np.zeros(n, bool)
            for pid in members:
                out |= (values[pid] < rows.lower[pid]) | (values[pid] > rows.upper[pid])
            if not out.any():
                break
            eta[out] = rng.standard_normal(int(out.sum()))
        else:
            raise ValueError(f"population.tsv: cannot draw {members} inside their bounds")
        columns |= values
    columns = {pid: columns[pid] for pid in table.index}
    frame = pd.DataFrame(columns)
    if "CD3_0" in model.defaults and {"CD4_0", "CD8_0"} <= set(frame.columns):
        ratio = model.defaults["CD3_0"] / (model.defaults["CD4_0"] + model.defaults["CD8_0"])
        frame.insert(0, "CD3_0", (frame.CD4_0 + frame.CD8_0) * ratio)
    frame.insert(0, "vp", np.arange(n))
    return frame


def plausible(population: pd.DataFrame, scenario: Scenario | str = REFERENCE_SCENARIO,
              bounds: Mapping[str, tuple[float, float]] = BOUNDS, workers: int = 1,
              progress: bool = True, model: Model | None = None, scheduler: Any = None) -> pd.DataFrame:
    """``population`` with the reference-scenario endpoints of :data:`BOUNDS`, ``plausible`` (bool)
    and ``reason`` ('' when plausible; the failed bound or the simulation error otherwise).
    ``model`` replaces the scenario's (e.g. a calibration's)."""
    scenario = named(scenario) if isinstance(scenario, str) else scenario
    if model is not None:
        scenario = replace(scenario, model=model)
    factors = population.drop(columns=["vp"])
    table = run_sweep(scenario, factors, list(bounds), workers=workers, scheduler=scheduler, progress=progress)
    values = table.pivot(index="run", columns="endpoint", values="value").reindex(range(len(population)))
    errors = table.groupby("run").error.first().reindex(range(len(population))).fillna("")
    out = population.reset_index(drop=True).copy()
    reasons = errors.to_numpy(dtype=object)
    for name, (lo, hi) in bounds.items():
        column = values[name].to_numpy()
        out[f"ref:{name}"] = column
        bad = (reasons == "") & ~((column >= lo) & (column <= hi))
        reasons[bad] = [f"{name} = {v:.4g} outside [{lo:g}, {hi:g}]" for v in column[bad]]
    out["reason"] = reasons
    out["plausible"] = out.reason == ""
    return out


@dataclass(frozen=True)
class Selection:
    """Accepted virtual patients and how well they match the target."""

    population: pd.DataFrame
    """The plausible pool with ``selected`` (bool) and ``p_accept``."""
    yield_: float
    """Accepted share of the plausible pool."""
    match: pd.DataFrame
    """Per observable: target median / log-SD, selected median / log-SD, KS p-value, and the share
    of selected patients accepted with probability 1 (where the target outweighs the pool beyond
    the scale c: their density is under-represented)."""


def select(pool: pd.DataFrame, target: Mapping[str, tuple[float, float]] = TARGET, seed: int = 0,
           quantile: float = 0.95) -> Selection:
    """Allen 2016 acceptance-rejection of the ``plausible`` rows of ``pool`` so that the observables
    (columns named in ``target``) follow independent log-normal targets. The scale c is
    1 / (the ``quantile`` of f_target / f_plausible over the pool): patients with a larger ratio are
    always accepted (a truncation that the match table reports)."""
    missing = [k for k in target if k not in pool.columns]
    if missing:
        raise KeyError(f"target observables {missing} are not columns of the population")
    pool = pool.copy()
    ok = pool["plausible"].to_numpy() if "plausible" in pool else np.ones(len(pool), bool)
    if ok.sum() < 10:
        raise ValueError(f"only {int(ok.sum())} plausible virtual patients; selection needs >= 10")
    logs = np.log(pool.loc[ok, list(target)].to_numpy(float)).T
    f_pool = stats.gaussian_kde(logs)(logs)
    f_target = np.prod([stats.norm.pdf(x, np.log(m), s) for x, (m, s) in zip(logs, target.values(), strict=True)],
                       axis=0)
    ratio = f_target / f_pool
    c = 1.0 / np.quantile(ratio, quantile)
    p_accept = np.zeros(len(pool))
    p_accept[ok] = np.minimum(1.0, c * ratio)
    accepted = np.random.default_rng(seed).random(len(pool)) < p_accept
    pool["p_accept"], pool["selected"] = p_accept, accepted & ok
    rows = []
    for key, (median, sd) in target.items():
        x = np.log(pool.loc[pool.selected, key].to_numpy(float))
        ks = stats.kstest(x, "norm", args=(np.log(median), sd)).pvalue if len(x) > 1 else np.nan
        rows.append({"observable": key, "target_median": median, "target_logsd": sd,
                     "selected_median": float(np.exp(np.median(x))), "selected_logsd": float(np.std(x, ddof=1)),
                     "ks_p": float(ks), "share_p_accept_1": float((pool.p_accept[pool.selected] >= 1.0).mean())})
    return Selection(pool, float(accepted[ok].mean()), pd.DataFrame(rows))


def virtual_population(n: int, seed: int = 0, scenario: Scenario | str = REFERENCE_SCENARIO,
                       workers: int = 1, progress: bool = True, model: Model | None = None,
                       typical: Mapping[str, float] | None = None, scheduler: Any = None) -> pd.DataFrame:
    """``n`` selected plausible virtual patients (columns: ``vp`` and parameter ids), drawn,
    filtered and selected in rounds (pools of at least 200) from ``seed`` until ``n`` are accepted.
    The plausibility filter runs the reference scenario (chemotherapy alone): patients whose
    counts or tumour leave physiological bounds under it are excluded from every arm."""
    if n < 1:
        raise ValueError(f"n must be >= 1 virtual patients, got {n!r}")
    model = model or default_model()
    chosen: list[pd.DataFrame] = []
    total, round_ = 0, 0
    while total < n:
        draw = sample_population(max(2 * (n - total), 200), seed=seed * 1000 + round_, model=model,
                                 typical=typical, inflate=POOL_INFLATE)
        pool = plausible(draw, scenario, workers=workers, progress=progress, model=model, scheduler=scheduler)
        picked = select(pool, seed=seed * 1000 + round_).population
        chosen.append(picked.loc[picked.selected, draw.columns])
        total += int(picked.selected.sum())
        round_ += 1
        if round_ > 50:
            raise RuntimeError(f"selected only {total} of {n} virtual patients in 50 rounds")
    population = pd.concat(chosen, ignore_index=True).iloc[:n]
    population["vp"] = np.arange(n)
    return population.reset_index(drop=True)
