"""Sensitivity analysis of endpoints and time courses.

Local: scaled sensitivities d ln y / d ln p by central finite differences with a
relative step set by the solver tolerance (h = rtol^(1/3), balancing truncation and
integration error). roadrunner's ``timeSeriesSensitivities`` is not used: it returns
wrong or mislabelled values on models like this one.

Global: Morris screening and Sobol indices (first and total order with confidence
intervals) via SALib over the parameter table's plausible bounds, log-uniform where
the bounds span a decade or more, with a convergence check in N.

Failed runs are accounted for, never hidden: every result carries a :class:`Failures` record
(``attrs["failures"]``: runs, failed, share, reasons, imputed). A global analysis needs a value for
every sample, so a failed run is imputed with the mean of the others only while the failed share is
at most :data:`MAX_FAILED_SHARE` (5 %); above it :func:`model_function` refuses
(:class:`TooManyFailures`) unless imputation is accepted explicitly (``impute=True``; CLI
``--accept-imputation``). A third-party model's parameters may take any value its SBML allows (no
positivity is assumed); thymosim's have the hard domains of ``models/parameters.tsv``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from thymosim.analysis.endpoints import defaults_for
from thymosim.analysis.sweep import Failures, Job, endpoint_label, execute, run_sweep
from thymosim.model import Model, default_model, in_domain
from thymosim.scenario import Scenario
from thymosim.tables import load_parameter_table

MAX_FAILED_SHARE = 0.05
"""Largest share of failed runs a global analysis imputes without being told to (5 %)."""


class TooManyFailures(ValueError):
    """More runs of a global analysis failed than may be imputed (:data:`MAX_FAILED_SHARE`)."""

    def __init__(self, message: str, failures: Failures) -> None:
        super().__init__(message)
        self.failures = failures


def default_endpoints(scenario: Scenario) -> tuple[str, ...]:
    """The registry's defaults (:func:`thymosim.analysis.endpoints.defaults_for`): for thymosim the
    lymphocyte nadir, CD4 AUC, CD4 change at the end and best tumour change; ``auc:`` of the outputs
    for another model."""
    return defaults_for(list(scenario.outputs or scenario.model.outputs))


def fd_model(model: Model) -> Model:
    """The model as finite-difference runs integrate it: the robust BDF setting (rtol 1e-8, uniform
    atol 1e-10, :meth:`Model.stiff_fallback`). A difference quotient needs the integration error
    far below the change the step makes, which the fast default solver of a single run (Adams,
    rtol 1e-6) does not give."""
    return model.stiff_fallback()


def default_step(model: Model | None = None) -> float:
    """Relative finite-difference step, balancing truncation and integration error: the cube root
    of the relative tolerance the finite-difference runs use (2.15e-3 at rtol 1e-8)."""
    return fd_model(model or default_model()).rtol ** (1 / 3)


def sensitive_parameters(model: Model | None = None) -> list[str]:
    """Parameters to screen by default. thymosim: table rows of role ``parameter`` (not dosing
    inputs or patient covariates; pass those explicitly) with a non-zero value; another model:
    every settable parameter with a non-zero value."""
    model = model or default_model()
    if model.is_thymosim:
        table = load_parameter_table()
        return [pid for pid, row in table.iterrows() if row.role == "parameter" and model.defaults[pid] != 0]
    return [pid for pid, value in model.defaults.items() if value != 0]


def local_sensitivity(
    scenario: Scenario,
    parameters: Sequence[str] | None = None,
    endpoints: Sequence[str | Callable] | None = None,
    rel_step: float | None = None,
    output: str | None = None,
    workers: int = 1,
    scheduler: Any = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Scaled local sensitivities of ``endpoints`` to ``parameters`` (default: all); ``progress``
    shows a progress bar (tqdm, on stderr).

    Returns one row per (parameter, endpoint): ``sensitivity`` = d ln y / d ln p,
    ``derivative`` = dy/dp, the baseline ``value``, status/error and ``difference``: central, or
    backward/forward for a parameter at the edge of its hard domain (a fraction at 1, say), whose step
    out of the domain is not taken. With ``output``
    (e.g. ``"CD4"``) the returned frame also carries, in ``attrs["timecourse"]``, the
    scaled sensitivity of that output at every time (time x parameter). Runs integrate with
    :func:`fd_model` (tighter than a single run's default).
    """
    model = fd_model(scenario.model)
    scenario = replace(scenario, model=model)
    endpoints = list(endpoints or default_endpoints(scenario))
    h = rel_step or default_step(model)
    values = model.values(scenario.patient)  # the values the simulation uses, covariates included
    parameters = list(parameters or sensitive_parameters(model))
    unknown = [p for p in parameters if p not in values]
    if unknown:
        raise KeyError(f"unknown parameter(s) {unknown} of model {model.name!r}")
    zero = [p for p in parameters if values[p] == 0]
    if zero:
        raise ValueError(f"parameter(s) {zero} are 0 here: a relative sensitivity d ln y / d ln p is undefined; "
                         "leave them out (dosing inputs are 0 between doses)")
    fields = {pid: name for name, pid in model.covariates.items()}  # covariates move their patient field
    tasks = [(0, {})]
    steps: dict[str, tuple[float, float]] = {}  # the values either side; a side leaving the hard domain is p0 itself
    for k, pid in enumerate(parameters):
        p0, factor = values[pid], f"patient.{fields[pid]}" if pid in fields else pid
        domain = model.limits[pid][0] if pid in model.limits else "any"
        up, down = (p if in_domain(p, domain) else p0 for p in (p0 * (1 + h), p0 * (1 - h)))
        steps[pid] = (up, down)
        tasks += [(2 * k + 1, {factor: up}), (2 * k + 2, {factor: down})]
    job = Job.of(scenario, endpoints, timecourses=output is not None)
    outcomes = execute(job, tasks, workers, scheduler)
    if progress:
        from tqdm.auto import tqdm

        outcomes = tqdm(outcomes, total=len(tasks), desc="local sensitivity", unit="run")
    results = {o.run: o for o in outcomes}
    base_out, base_course = results[0], results[0].timecourse
    if base_out.status != "ok":
        raise RuntimeError(f"baseline simulation failed: {base_out.error}")
    rows, curves = [], {}
    labels = [endpoint_label(e) for e in endpoints]
    for k, pid in enumerate(parameters):
        up, down = results[2 * k + 1], results[2 * k + 2]
        c_up, c_down = up.timecourse, down.timecourse
        p0, (p_up, p_down) = values[pid], steps[pid]
        difference = "central" if p_up != p0 and p_down != p0 else "backward" if p_up == p0 else "forward"
        for label in labels:
            y0 = base_out.values[label]
            if up.status == "ok" and down.status == "ok":
                deriv = (up.values[label] - down.values[label]) / (p_up - p_down)
                sens = deriv * p0 / y0 if y0 != 0 else np.nan
                rows.append({"parameter": pid, "endpoint": label, "sensitivity": sens, "derivative": deriv,
                             "value": y0, "status": "ok", "error": "", "difference": difference})
            else:
                error = up.error or down.error
                rows.append({"parameter": pid, "endpoint": label, "sensitivity": np.nan, "derivative": np.nan,
                             "value": y0, "status": "failed", "error": error, "difference": difference})
        if output is not None and c_up is not None and c_down is not None:
            y0 = base_course[output].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                curves[pid] = (c_up[output].to_numpy() - c_down[output].to_numpy()) * p0 / ((p_up - p_down) * y0)
    table = pd.DataFrame(rows)
    if output is not None:
        table.attrs["timecourse"] = pd.DataFrame(curves, index=pd.Index(base_course.time, name="time"))
    table.attrs["rel_step"] = h
    failed = [o for o in results.values() if o.status != "ok"]
    table.attrs["failures"] = Failures.of(
        pd.DataFrame({"status": [o.status for o in failed], "error": [o.error for o in failed]}), len(results))
    return table


# --- global ---------------------------------------------------------------------------
def problem(parameters: Sequence[str], bounds: dict[str, tuple[float, float]] | None = None,
            model: Model | None = None) -> dict[str, Any]:
    """SALib problem over ``bounds`` ({id: (lower, upper)}, some or all of ``parameters``); the others
    by default: the parameter table's lower/upper for thymosim's parameters, and a factor 2 either side
    of ``model``'s value for another model's (no table gives their plausible range, and no sign is
    assumed: a negative value spans 2x to x/2; a zero one needs its bounds given); log10 space where
    0 < lower and upper/lower >= 10."""
    given, bounds = dict(bounds or {}), {}
    table, values = load_parameter_table(), (model or default_model()).defaults
    for p in parameters:
        if p in given:
            bounds[p] = tuple(given[p])
        elif model is None or model.is_thymosim:
            if p not in table.index:
                raise KeyError(f"no bounds for {p!r}: pass bounds={{id: (lower, upper)}}")
            bounds[p] = (table.lower[p], table.upper[p])
        elif p in values and values[p] != 0 and np.isfinite(values[p]):
            bounds[p] = tuple(sorted((values[p] / 2, values[p] * 2)))
        else:
            raise KeyError(f"no bounds for {p!r} (value {values.get(p)}): pass bounds={{id: (lower, upper)}}")
    bad = {p: bounds[p] for p in parameters if not (np.isfinite(bounds[p][0]) and np.isfinite(bounds[p][1])
                                                    and bounds[p][0] < bounds[p][1])}
    if bad:
        raise ValueError(f"bounds {bad}: allowed: finite (lower, upper) with lower < upper")
    table = pd.DataFrame(bounds, index=["lower", "upper"]).T.loc[list(parameters)]
    log = (table.lower > 0) & (table.upper / table.lower >= 10)
    bounds = [[np.log10(r.lower), np.log10(r.upper)] if log[p] else [r.lower, r.upper] for p, r in table.iterrows()]
    return {"num_vars": len(parameters), "names": list(parameters), "bounds": bounds, "log": log.to_numpy()}


def to_natural(problem_: dict[str, Any], x: np.ndarray) -> np.ndarray:
    return np.where(problem_["log"], 10.0 ** np.where(problem_["log"], x, 0.0), x)


def sobol_indices(func: Callable[[np.ndarray], np.ndarray], problem_: dict[str, Any], n: int, seed: int = 0,
                  check_convergence: bool = True) -> pd.DataFrame:
    """Sobol S1 and ST (95 % CIs) of a vectorised ``func(X) -> y`` (X in natural units).

    ``n`` base samples (a power of 2). Convergence check: ST from the first n/2 base samples
    against ST from all n; ``converged`` when every ST changes by <= 0.05 and every ST
    confidence half-width is <= 0.1 (stable in N and precise).
    """
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sampler

    salib = {k: problem_[k] for k in ("num_vars", "names", "bounds")}
    x = sampler.sample(salib, n, calc_second_order=False, seed=seed)
    y = np.asarray(func(to_natural(problem_, x)), float)
    result = _sobol_frame(analyze.analyze(salib, y, calc_second_order=False, seed=seed), problem_["names"])
    if check_convergence:
        d = problem_["num_vars"]
        half = (n // 2) * (d + 2)
        result_half = _sobol_frame(analyze.analyze(salib, y[:half], calc_second_order=False, seed=seed),
                                   problem_["names"])
        change = (result.ST - result_half.ST).abs()
        result["ST_change_half_n"] = change
        result.attrs["converged"] = bool((change <= 0.05).all() and (result.ST_conf <= 0.1).all())
    result.attrs["n"] = n
    result.attrs["evaluations"] = len(y)
    result.attrs["failures"] = getattr(func, "accounting", Failures(len(y), 0))
    return result


def _sobol_frame(si: dict, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"S1": si["S1"], "S1_conf": si["S1_conf"], "ST": si["ST"], "ST_conf": si["ST_conf"]},
                        index=pd.Index(names, name="parameter"))


def morris_indices(func: Callable[[np.ndarray], np.ndarray], problem_: dict[str, Any], trajectories: int = 20,
                   levels: int = 4, seed: int = 0) -> pd.DataFrame:
    """Morris elementary effects: mu*, its CI, and sigma, of a vectorised ``func``."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sampler

    salib = {k: problem_[k] for k in ("num_vars", "names", "bounds")}
    x = sampler.sample(salib, trajectories, num_levels=levels, seed=seed)
    y = np.asarray(func(to_natural(problem_, x)), float)
    si = analyze.analyze(salib, x, y, num_levels=levels, seed=seed)
    result = pd.DataFrame({"mu_star": si["mu_star"], "mu_star_conf": si["mu_star_conf"], "sigma": si["sigma"]},
                          index=pd.Index(problem_["names"], name="parameter"))
    result.attrs["evaluations"] = len(y)
    result.attrs["failures"] = getattr(func, "accounting", Failures(len(y), 0))
    return result


def model_function(scenario: Scenario, parameters: Sequence[str], endpoint: str, workers: int = 1,
                   scheduler: Any = None, out: Any = None, progress: bool = True, impute: bool = False,
                   max_failed: float = MAX_FAILED_SHARE) -> Callable[[np.ndarray], np.ndarray]:
    """A vectorised f(X) -> endpoint values for the model, through :func:`run_sweep` (``progress``:
    a progress bar per call).

    Failed runs (and non-finite values) are recorded: ``f.failures`` (their rows), ``f.runs`` and
    ``f.accounting`` (:class:`Failures`, which :func:`sobol_indices` and :func:`morris_indices` copy
    into their result's ``attrs["failures"]``). They are imputed with the mean of the others while
    their share is at most ``max_failed``; above it f raises :class:`TooManyFailures` naming the share
    and the reasons, unless ``impute=True`` (imputation explicitly accepted). If every run fails, f
    raises whatever ``impute``."""
    if not 0.0 <= max_failed <= 1.0:
        raise ValueError(f"max_failed: {max_failed!r}; allowed: a share from 0 to 1")

    def f(x: np.ndarray) -> np.ndarray:
        points = pd.DataFrame(x, columns=list(parameters))
        table = run_sweep(scenario, points, endpoints=[endpoint], workers=workers, scheduler=scheduler, out=out,
                          progress=progress).sort_values("run")
        y = table.value.to_numpy(float)
        bad = (table.status != "ok").to_numpy() | ~np.isfinite(y)
        rows = table[bad].assign(error=lambda d: d.error.where(d.status != "ok", "non-finite endpoint value"))
        f.failures, f.runs = rows, len(table)
        accounting = Failures.of(rows, len(table))
        label = f"{endpoint}: " if endpoint else ""
        if accounting.failed == len(table):
            f.accounting = accounting
            raise TooManyFailures(f"{label}all {len(table)} runs failed: {accounting.summary().split(': ', 1)[1]}",
                                  accounting)
        if accounting.failed and accounting.share > max_failed and not impute:
            f.accounting = accounting
            raise TooManyFailures(
                f"{label}{accounting.failed} of {len(table)} runs failed ({100 * accounting.share:.1f} %), more than "
                f"the {100 * max_failed:g} % that may be imputed; reasons: "
                + "; ".join(f"{n} x {r}" for r, n in list(accounting.reasons.items())[:3])
                + ". Narrow the parameter ranges or fix the model, or accept imputation with the mean of the other "
                "runs explicitly (impute=True; thymosim sensitivity --accept-imputation)", accounting)
        f.accounting = replace(accounting, imputed=accounting.failed)
        return np.where(bad, np.mean(y[~bad]), y)

    f.failures, f.runs, f.accounting = pd.DataFrame(), 0, Failures(0, 0)
    return f


def failure_summary(failures: pd.DataFrame, runs: int, label: str = "", imputed: bool = True) -> str:
    """One line saying how many runs failed, the share, and why (the commonest reasons first), or ""."""
    return Failures.of(failures, runs, len(failures) if imputed else 0).summary(label)
