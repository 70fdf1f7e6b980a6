"""Fits to the clinical targets of ``models/data/clinical_targets.tsv`` (role ``train`` only; ``test``
rows are never fitted, :mod:`~thymosim.analysis.validation` reports them as predictions).

* :func:`fit_immune` — the Ta1 immune effect of the typical patient (``TC_E_share``: T-cell blood
  share; ``TC_E_NK_TA1``: NK production) to the count targets (kinds ``value``, ``change_max``,
  ``change_min``): weighted least squares in log-parameter space from several starts (scipy
  ``least_squares``, trust-region reflective, Latin-hypercube starts inside the plausible bounds;
  a local optimiser from many starts suffices for two parameters whose cost is cheap, and the
  start table shows whether the starts agree), then profile likelihoods (:func:`profile`) for
  95 % intervals and an identifiability verdict per parameter.
* :func:`fit_kill` — a population's tumour-kill parameters to a published response rate by
  bisection on a common factor (ORR rises monotonically with kill), with the interval that the
  published rate's exact binomial interval implies.

Residuals: a ``value`` target on the log scale with SD :data:`LOG_SD`; a ``change_max`` /
``change_min`` target as a hinge (zero when the direction holds) in percentage points over
:data:`HINGE_SD`. Both SDs are assumptions (no dispersion is published for these targets).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import optimize, stats

from thymosim.model import Model, default_model
from thymosim.patient import Patient
from thymosim.scenario import Scenario, named
from thymosim.tables import clinical_targets, load_parameter_table

IMMUNE = ("TC_E_share", "TC_E_NK_TA1")
"""Parameters of the immune fit (evidence ``fitted`` in parameters.tsv)."""
LOG_SD = 0.1
"""Assumed SD of log(median count) of a published cohort (about 36 patients, CV ~ 0.4-0.6)."""
HINGE_SD = 5.0
"""Assumed SD [percentage points] of a directional target's threshold."""
COUNT_KINDS = ("value", "change_max", "change_min")
STEP = 1e-3
"""Finite-difference step of the fits in log-parameter space (0.1 %; the solver's relative
tolerance is 1e-6)."""


def count_targets(role: str = "train") -> pd.DataFrame:
    """The count targets (not response rates) with ``role``."""
    table = clinical_targets()
    return table[(table.role == role) & table.kind.isin(COUNT_KINDS)]


def predict_counts(targets: pd.DataFrame, parameters: Mapping[str, float] | None = None,
                   model: Model | None = None) -> np.ndarray:
    """The typical patient's value (kind ``value``, cells/uL) or percent change from baseline
    (``change_*``) of each target row, with ``parameters`` overriding the model's values."""
    model = model or default_model()
    patient = Patient(parameters=dict(parameters or {}))
    out = np.empty(len(targets))
    for name, rows in targets.groupby("scenario", sort=False):
        scenario = replace(named(name), patient=patient, model=model)
        days = sorted({0.0, *rows.day.astype(float)})
        course = scenario.simulate(times=days).set_index("time")
        for i, (_, row) in enumerate(targets.iterrows()):
            if row.scenario != name:
                continue
            value = float(course.loc[float(row.day), row.quantity])
            base = float(course.loc[0.0, row.quantity])
            out[i] = value if row.kind == "value" else 100.0 * (value / base - 1.0)
    return out


def residuals(targets: pd.DataFrame, predicted: np.ndarray) -> np.ndarray:
    """Weighted residuals of ``predicted`` against ``targets`` (see the module docstring)."""
    res = np.empty(len(targets))
    for i, row in enumerate(targets.itertuples()):
        if row.kind == "value":
            res[i] = np.log(predicted[i] / row.value) / LOG_SD
        elif row.kind == "change_max":
            res[i] = max(0.0, predicted[i] - row.value) / HINGE_SD
        else:
            res[i] = min(0.0, predicted[i] - row.value) / HINGE_SD
    return res


@dataclass(frozen=True)
class Fit:
    """A multi-start fit: best values, cost (sum of squared weighted residuals / 2), the starts, the
    per-target table (published, model, residual), and the data it used."""

    values: dict[str, float]
    cost: float
    starts: pd.DataFrame
    table: pd.DataFrame
    targets: pd.DataFrame
    bounds: dict[str, tuple[float, float]]


def _bounds(names: Sequence[str]) -> dict[str, tuple[float, float]]:
    table = load_parameter_table()
    return {n: (max(float(table.lower[n]), 1e-3), float(table.upper[n])) for n in names}


def fit_immune(targets: pd.DataFrame | None = None, names: Sequence[str] = IMMUNE, n_starts: int = 6,
               seed: int = 0, model: Model | None = None, held: Mapping[str, float] | None = None) -> Fit:
    """Fit ``names`` to the count ``targets`` (default: the train rows) from ``n_starts`` starts, with
    the parameters in ``held`` fixed at their values (a profile)."""
    held = dict(held or {})
    targets = count_targets() if targets is None else targets
    bounds = _bounds(names)
    lo, hi = (np.log([bounds[n][i] for n in names]) for i in (0, 1))

    def res(logp):
        return residuals(targets, predict_counts(targets, held | dict(zip(names, np.exp(logp), strict=True)), model))

    def jac(logp):  # forward differences with an absolute step in log space (scipy's step is
        # relative to x and collapses where log p = 0, i.e. p = 1)
        base = res(logp)
        columns = []
        for i in range(len(logp)):
            step = np.zeros_like(logp)
            step[i] = STEP if logp[i] + STEP <= hi[i] else -STEP
            columns.append((res(logp + step) - base) / step[i])
        return np.array(columns).T

    rng = np.random.default_rng(seed)
    u = (np.array([rng.permutation(n_starts) for _ in names]).T + rng.random((n_starts, len(names)))) / n_starts
    rows = []
    for start in lo + u * (hi - lo):
        fit = optimize.least_squares(res, start, jac=jac, bounds=(lo, hi))
        rows.append({**{f"start:{n}": float(np.exp(s)) for n, s in zip(names, start, strict=True)},
                     **{n: float(np.exp(x)) for n, x in zip(names, fit.x, strict=True)},
                     "cost": float(fit.cost), "evaluations": int(fit.nfev)})
    starts = pd.DataFrame(rows)
    # among the starts that reach the best cost (within 0.01), the smallest effects: a parameter the
    # data bound on one side only takes the least value that fits, not wherever a start stopped
    tied = starts[starts.cost <= starts.cost.min() + 0.01]
    chosen = tied.loc[np.log(tied[list(names)]).sum(axis=1).idxmin()]
    values = {n: float(chosen[n]) for n in names}
    predicted = predict_counts(targets, held | values, model)
    table = targets[["scenario", "quantity", "kind", "day", "value"]].assign(
        model=predicted, residual=residuals(targets, predicted))
    return Fit(values, float(chosen.cost), starts, table, targets, bounds)


def profile(fit: Fit, name: str, points: int = 9, model: Model | None = None) -> pd.DataFrame:
    """Profile likelihood of ``name``: on a log grid across its bounds, the other parameters
    re-optimised; columns value, cost, delta (2 x cost difference, chi-square with 1 df)."""
    others = [n for n in fit.values if n != name]
    lo, hi = fit.bounds[name]
    rows = []
    best = fit.values[name]
    grid = np.concatenate([np.linspace(np.log(lo), np.log(hi), points),
                           np.log(best) + np.linspace(-1.0, 1.0, points)])
    for value in np.exp(np.unique(np.clip(grid, np.log(lo), np.log(hi)))):
        if others:
            sub = fit_immune(fit.targets, others, n_starts=1, model=model, held={name: value})
            cost, values = sub.cost, {name: value, **sub.values}
        else:
            res = residuals(fit.targets, predict_counts(fit.targets, {name: value}, model))
            cost, values = 0.5 * float(res @ res), {name: value}
        rows.append({"value": value, "cost": cost, **{f"at:{k}": v for k, v in values.items()}})
    table = pd.DataFrame(rows)
    table["delta"] = 2 * (table.cost - min(table.cost.min(), fit.cost))
    return table


def fixed(model: Model | None, values: Mapping[str, float]) -> Model:
    """``model`` with ``values`` as its defaults (the calibration samples its population around them)."""
    import libsbml

    model = model or default_model()
    doc = libsbml.readSBMLFromString(model.sbml)
    for pid, value in values.items():
        doc.getModel().getParameter(pid).setValue(float(value))
    return model.with_sbml(libsbml.writeSBMLToString(doc))


def interval(profile_table: pd.DataFrame, level: float = 0.95) -> tuple[float, float, str]:
    """The profile-likelihood interval of a parameter and its identifiability: ``identifiable``
    (the profile rises above the chi-square threshold on both sides), ``bounded below/above only``
    (on one side), ``not identifiable`` (flat across the bounds)."""
    threshold = stats.chi2.ppf(level, 1)
    table = profile_table.sort_values("value", ignore_index=True)
    inside = np.nonzero(table.delta.to_numpy() <= threshold)[0]
    if not inside.size:
        return np.nan, np.nan, "no point within the threshold (refine the profile)"
    first, last = inside.min(), inside.max()

    def crossing(i: int, j: int) -> float:  # log-linear interpolation between grid points i (in) and j (out)
        a, b = table.delta[i], table.delta[j]
        w = (threshold - a) / (b - a)
        return float(np.exp(np.log(table.value[i]) + w * (np.log(table.value[j]) - np.log(table.value[i]))))

    closed_lo, closed_hi = first > 0, last < len(table) - 1
    lo = crossing(first, first - 1) if closed_lo else float(table.value[first])
    hi = crossing(last, last + 1) if closed_hi else float(table.value[last])
    verdict = {(True, True): "identifiable", (True, False): "bounded below only",
               (False, True): "bounded above only", (False, False): "not identifiable"}[(closed_lo, closed_hi)]
    return lo, hi, verdict


# --- population kill ----------------------------------------------------------------------


@dataclass(frozen=True)
class KillFit:
    """Fitted typical values of kill parameters (a common factor on the model's values) to a
    published response rate, the factors bracketing its exact 95 % interval, and the rates."""

    target: str
    factor: float
    factor_lo: float
    factor_hi: float
    values: dict[str, float]
    published: float
    published_lo: float
    published_hi: float
    model_rate: float


def fit_kill(target_id: str, names: Sequence[str], population: pd.DataFrame, workers: int = 1,
             model: Model | None = None, tolerance: float = 0.01) -> KillFit:
    """Scale the kill parameters ``names`` (typical values and each virtual patient's, by one
    factor) so that the trial arm of target ``target_id`` (kind ``rate``) gives its published rate
    on ``population``; bisection on the log factor. Rates jump by 1/n, so the factor is the
    midpoint of the interval where the simulated rate crosses the published one."""
    from thymosim.analysis import trialstats
    from thymosim.analysis.trial import RESPONSE, Design, run_arm

    row = clinical_targets().loc[target_id]
    if row.kind != "rate" or row.role != "train":
        raise ValueError(f"target {target_id!r} is not a train response rate")
    model = model or default_model()
    scenario: Scenario = replace(named(row.scenario), model=model)
    good = RESPONSE[row.quantity]
    design = Design()  # scans every 42 days up to the arm's horizon

    def rate(factor: float) -> float:
        scaled = population.copy()
        for n in names:
            scaled[n] = population[n] * factor if n in population else model.defaults[n] * factor
        arm = run_arm(scenario, scaled, design, workers=workers)
        return 100.0 * float(arm.recist.isin(good).mean())

    def solve(goal: float, interval_end: bool = False) -> float:
        """The factor whose rate crosses ``goal``; for an end of the published interval beyond what
        the factors give, the interval is open on that side (0 or inf) instead of an error."""
        lo, hi = np.log(0.05), np.log(20.0)
        r_lo, r_hi = rate(np.exp(lo)), rate(np.exp(hi))
        if interval_end and goal > r_hi:
            return float("inf")
        if interval_end and goal < r_lo:
            return 0.0
        if not r_lo <= goal <= r_hi:
            raise ValueError(f"{target_id}: rate {goal:.1f} % outside what factors 0.05-20 give "
                             f"({r_lo:.1f}-{r_hi:.1f} %)")
        while hi - lo > tolerance:
            mid = 0.5 * (lo + hi)
            if rate(np.exp(mid)) < goal:
                lo = mid
            else:
                hi = mid
        return float(np.exp(0.5 * (lo + hi)))

    n = int(row.n)
    k = round(row.value / 100.0 * n)
    ci = trialstats.clopper_pearson(k, n)
    factor = solve(float(row.value))
    factor_lo, factor_hi = solve(100 * ci[0], interval_end=True), solve(100 * ci[1], interval_end=True)
    values = {n_: model.defaults[n_] * factor for n_ in names}
    return KillFit(target_id, factor, factor_lo, factor_hi, values, float(row.value), 100 * ci[0], 100 * ci[1],
                   rate(factor))


# --- new-lesion hazard ---------------------------------------------------------------------

NEW_LESION_FIT = ("vnr_cis_dcr", "vnr_cis_pfs")
"""Train targets of the new-lesion hazard (one arm): its DCR [%] and median PFS [days]."""
NEW_LESION_DESIGN = "first_line_nsclc"
"""Trial design (models/data/trial_designs.toml) of the fit: its scans and follow-up."""
PFS_LOG_SD = 0.1
"""Assumed SD of log(median PFS) of a published arm of about 100-140 patients (a 95 % CI of a
4-5-month median spans about +-0.2 on the log scale)."""


@dataclass(frozen=True)
class NewLesionFit:
    """The fitted new-lesion hazard (``TUM_k_new``), the factor bracketing each target's interval,
    and the arm's DCR [%] and median PFS [days] there."""

    k_new: float
    dcr: float
    median_pfs: float
    table: pd.DataFrame
    """Per train target: published, model, interval of the published value, residual."""
    grid: pd.DataFrame
    """Factor on TUM_k_new -> DCR, median PFS, cost: the whole profile."""


def arm_reading(arm: pd.DataFrame, factor: float = 1.0) -> tuple[float, float]:
    """DCR [%] and Kaplan-Meier median PFS [days] of a simulated arm (from
    :func:`~thymosim.analysis.trial.run_arm`) if its new-lesion hazard were ``factor`` times the
    simulated one (the cumulative hazard is proportional to TUM_k_new, so no resimulation)."""
    from thymosim.analysis import recist, trialstats
    from thymosim.analysis.trial import NEW_LESION, RESPONSE

    days = sorted(float(c.split("@")[1]) for c in arm.columns if c.startswith("at:tumour_diameter@"))
    hazard = arm[[f"at:{NEW_LESION}@{d:g}" for d in days[1:]]].to_numpy(float) * factor
    scans = arm[[f"at:tumour_diameter@{d:g}" for d in days]].to_numpy(float)
    best, pfs, event = [], [], []
    for d, h, u in zip(scans, hazard, arm.u_new_lesion.to_numpy(float), strict=True):
        if not (np.all(np.isfinite(d)) and np.all(np.isfinite(h))):
            best.append("NE")
            continue
        r = recist.classify(days, d, new_lesion=np.concatenate([[False], h >= -np.log(u)]))
        best.append(r.best)
        pfs.append(r.pfs_day)
        event.append(r.pfs_event)
    dcr = 100.0 * float(np.isin(best, RESPONSE["DCR"]).mean())
    return dcr, trialstats.km_median(pfs, event)


def fit_new_lesion(population: pd.DataFrame, workers: int = 1, model: Model | None = None) -> NewLesionFit:
    """``TUM_k_new`` (the typical and every virtual patient's) fitted to the DCR and median PFS of
    :data:`NEW_LESION_FIT` on ``population``: the arm is simulated once under the
    :data:`NEW_LESION_DESIGN` design and read again for each factor on the hazard (a grid, then a
    bounded scalar search). Residuals: DCR over its binomial SE at the published n, log median
    PFS over :data:`PFS_LOG_SD`."""
    from thymosim.analysis.trial import Design, run_arm

    model = model or default_model()
    targets = clinical_targets().loc[list(NEW_LESION_FIT)]
    scenarios = set(targets.scenario)
    if len(scenarios) != 1:
        raise ValueError(f"the new-lesion fit needs one arm; {list(NEW_LESION_FIT)} name {sorted(scenarios)}")
    dcr_row, pfs_row = targets.loc[NEW_LESION_FIT[0]], targets.loc[NEW_LESION_FIT[1]]
    design = Design.named(NEW_LESION_DESIGN, horizon=float(pfs_row.day), stop_at_progression=False)
    scenario = replace(named(dcr_row.scenario), model=model)
    arm = run_arm(scenario, population, design, workers=workers, progress=False)
    p = dcr_row.value / 100.0
    dcr_se = 100.0 * np.sqrt(p * (1 - p) / dcr_row.n)

    def cost(log_factor: float) -> tuple[float, float, float]:
        dcr, median = arm_reading(arm, float(np.exp(log_factor)))
        res = np.array([(dcr - dcr_row.value) / dcr_se, np.log(median / pfs_row.value) / PFS_LOG_SD])
        return 0.5 * float(res @ res), dcr, median

    grid = pd.DataFrame([(f, *cost(np.log(f))) for f in np.exp(np.linspace(np.log(0.05), np.log(20.0), 25))],
                        columns=["factor", "cost", "DCR", "median_PFS"])
    start = float(np.log(grid.factor[grid.cost.idxmin()]))
    step = (np.log(20.0) - np.log(0.05)) / 24
    best = optimize.minimize_scalar(lambda x: cost(x)[0], bounds=(start - step, start + step), method="bounded",
                                    options={"xatol": 1e-3})
    factor = float(np.exp(best.x))
    _, dcr, median = cost(best.x)
    table = pd.DataFrame({"published": [dcr_row.value, pfs_row.value], "model": [dcr, median],
                          "unit": ["%", "days"]}, index=list(NEW_LESION_FIT))
    return NewLesionFit(model.defaults["TUM_k_new"] * factor, dcr, median, table, grid)


MEDIAN_RESAMPLES = 400
"""Bootstrap cohorts behind the 95 % range of a model median."""


SURVIVAL_COLUMNS = {"PFS": ("pfs_day", "pfs_event"), "TTP": ("ttp_day", "ttp_event"), "OS": ("os_day", "os_event")}
"""Patient-table columns (time [days], event) of each survival quantity of clinical_targets.tsv:
PFS = progression or death, TTP = RECIST progression only (deaths censored), OS = death."""


def median_pfs_rows(population: pd.DataFrame, seed: int = 0, workers: int = 1, progress: bool = False,
                    model: Model | None = None) -> pd.DataFrame:
    """Every survival and two-arm row of clinical_targets.tsv (``median``, ``landmark`` and ``ratio``,
    train and test) against ``population``: each arm run under the :data:`NEW_LESION_DESIGN` design
    with the row's follow-up (``day`` of a median row; a landmark or ratio row is read on the longest
    follow-up of its scenario's median rows that reaches it, else on ``day``), with overall survival
    and death as a competing event (:func:`~thymosim.analysis.trial.add_overall_survival`).
    The quantity's columns (:data:`SURVIVAL_COLUMNS`) give the Kaplan-Meier median [days] or the
    survival at ``day`` [%]; a ratio row divides the arm's statistic (survival at ``day``, or the
    ORR/DCR response rate) by the same statistic of its ``versus`` arm, run on the same patients.
    ``model``, its central 95 % range over cohorts of the published n (per arm) resampled with
    replacement (``model_lo``, ``model_hi``) and ``inside`` (the published value in that range).
    Columns as the validation page's targets table, plus ``PD_first_scan`` (RECIST progression at
    the first follow-up scan) and ``DCR`` [%] of the arm."""
    from thymosim.analysis import trialstats
    from thymosim.analysis.trial import RESPONSE, Design, add_overall_survival, run_arm

    model = model or default_model()
    targets = clinical_targets()
    targets = targets[targets.kind.isin(("median", "landmark", "ratio"))]
    rng = np.random.default_rng(seed)
    arms: dict[tuple[str, float], pd.DataFrame] = {}

    def arm_of(scenario: str, follow: float) -> pd.DataFrame:
        if (scenario, follow) not in arms:
            design = Design.named(NEW_LESION_DESIGN, horizon=follow)
            arm = run_arm(replace(named(scenario), model=model), population, design, workers=workers,
                          progress=progress, seed=seed)
            arms[(scenario, follow)] = add_overall_survival(arm, follow, seed, design)
        return arms[(scenario, follow)]

    rows = []
    for key, row in targets.iterrows():
        allowed = (*SURVIVAL_COLUMNS, *RESPONSE) if row.kind == "ratio" else tuple(SURVIVAL_COLUMNS)
        if row.quantity not in allowed:
            raise ValueError(f"clinical_targets.tsv {key}: {row.kind} of {row.quantity!r}; allowed: "
                             f"{', '.join(allowed)}")
        follow = float(row.day)
        if row.kind != "median":
            longer = targets[(targets.kind == "median") & (targets.scenario == row.scenario) & (targets.day >= row.day)]
            follow = float(longer.day.max()) if len(longer) else follow
        arm = arm_of(row.scenario, follow)

        def sample(frame: pd.DataFrame, quantity: str = row.quantity, kind: str = row.kind,
                   at: float = float(row.day)) -> tuple[int, Callable[[np.ndarray | None], float]]:
            """How many patients the arm's statistic reads, and the statistic on the patients ``pick``
            (indices among them; all: None)."""
            if quantity in RESPONSE:
                hit = frame.recist.isin(RESPONSE[quantity]).to_numpy(float)
                return len(hit), lambda pick: 100.0 * float(np.mean(hit if pick is None else hit[pick]))
            day_column, event_column = SURVIVAL_COLUMNS[quantity]
            ok = frame[day_column].notna().to_numpy()
            d, e = frame[day_column].to_numpy(float)[ok], frame[event_column].to_numpy(bool)[ok]

            def statistic(pick: np.ndarray | None) -> float:
                dd, ee = (d, e) if pick is None else (d[pick], e[pick])
                return trialstats.km_median(dd, ee) if kind == "median" else 100.0 * trialstats.landmark(dd, ee, at)[0]
            return len(d), statistic

        size, own = sample(arm)
        ratio = row.kind == "ratio"
        size_b, other = sample(arm_of(row.versus, follow)) if ratio else (size, own)
        n = int(row.n) if pd.notna(row.n) else size
        draws = []
        for _ in range(MEDIAN_RESAMPLES):
            x = own(rng.integers(0, size, n))
            draws.append(x / other(rng.integers(0, size_b, n)) if ratio else x)
        estimate = own(None) / other(None) if ratio else own(None)
        lo, hi = np.nanquantile(draws, [0.025, 0.975])
        ttp, progressed = arm.ttp_day.to_numpy(float), arm.ttp_event.to_numpy(bool)
        first_scan = ttp[ttp > 0].min() if (ttp > 0).any() else np.nan
        rows.append({"id": key, "role": row.role, "scenario": row.scenario, "quantity": row.quantity,
                     "kind": row.kind, "day": row.day, "value": row.value, "n": row.n,
                     "model": estimate, "model_lo": float(lo), "model_hi": float(hi),
                     "n_resampled": n, "inside": bool(lo <= row.value <= hi),
                     "note": "same arm as a train row" if row.role == "test" and (
                         (targets.role == "train") & (targets.scenario == row.scenario)).any() else "",
                     "PD_first_scan": 100.0 * float((progressed & (ttp == first_scan)).mean()),
                     "DCR": 100.0 * float(arm.recist.isin(RESPONSE["DCR"]).mean())})
    return pd.DataFrame(rows)
