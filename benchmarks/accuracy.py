"""Accuracy budget: every clinical output and endpoint of every named scenario against a tight
reference (rtol 1e-10, uniform atol 1e-14), across solver tolerances, with the cost of one
simulation of the default Ta1 arm at each setting.

    python benchmarks/accuracy.py [--rtol 1e-8 1e-7 1e-6 1e-5] [--atol 1e-8 1e-7 1e-6 1e-5] [--repeats 5]

``atol`` is relative to each state's typical magnitude (``models/variables.tsv`` column
``scale``). Output error: max over scenarios, outputs and output times of |y - y_ref| divided
by the range of y_ref over the horizon (its magnitude when it is constant). Endpoint error: max
relative error of the continuous endpoints (floor 1 in the endpoint's unit). "days" and
"RECIST": whether any integer-day endpoint or RECIST class differs from the reference. The
budget: output and endpoint errors <= 1e-4, no day or class changed. Prints one row per setting
and, last, the cheapest setting inside the budget.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np

from thymosim.analysis.endpoints import ENDPOINTS
from thymosim.model import default_model
from thymosim.scenario import named, names

DAYS = ("lymphocyte_nadir_day", "lymphocyte_recovery_day")
CLASSES = ("recist",)
BUDGET = 1e-4


def run(name: str, model):
    df = replace(named(name), model=model).simulate()
    return df, {k: float(f(df)) for k, f in ENDPOINTS.items()}


def errors(reference, candidate) -> tuple[float, float, bool, bool]:
    (ref_df, ref_ep), (df, ep) = reference, candidate
    y_ref, y = ref_df.drop(columns="time").to_numpy(), df.drop(columns="time").to_numpy()
    span = y_ref.max(axis=0) - y_ref.min(axis=0)
    scale = np.where(span > 1e-12 * np.abs(y_ref).max(axis=0), span, np.abs(y_ref).max(axis=0))
    scale = np.where(scale > 0, scale, 1.0)
    output = float((np.abs(y - y_ref) / scale).max())
    continuous = [k for k in ref_ep if k not in DAYS + CLASSES]
    endpoint = max(abs(ep[k] - ref_ep[k]) / max(abs(ref_ep[k]), 1.0) for k in continuous
                   if np.isfinite(ref_ep[k]))
    days = any(not (ep[k] == ref_ep[k] or (np.isnan(ep[k]) and np.isnan(ref_ep[k]))) for k in DAYS)
    return output, endpoint, days, any(ep[k] != ref_ep[k] for k in CLASSES)


def cost(model, repeats: int, reference_cost) -> tuple[float, float]:
    """Median ms per simulation of the default Ta1 arm and its ratio to the reference model,
    alternating the two in this process."""
    scenario = replace(named("cisplatin_vinorelbine_ta1"), model=model)
    scenario.simulate()
    ours, theirs = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        scenario.simulate()
        ours.append(time.perf_counter() - start)
        theirs.append(reference_cost())
    return 1e3 * statistics.median(ours), statistics.median(ours) / statistics.median(theirs)


def reference_model_timer():
    """One timed run of ../shared/bench/reference_qsp.ant (rtol 1e-6, atol 1e-9, 181 outputs)."""
    from pathlib import Path

    import antimony
    import roadrunner

    path = Path(__file__).resolve().parents[2] / "shared" / "bench" / "reference_qsp.ant"
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyFile(str(path)) < 0:
        raise SystemExit(f"cannot load the yardstick model {path}: {antimony.getLastError()}")
    rr = roadrunner.RoadRunner(antimony.getSBMLString(antimony.getMainModuleName()))
    rr.getIntegrator().setValue("relative_tolerance", 1e-6)
    rr.getIntegrator().setValue("absolute_tolerance", 1e-9)

    def timed() -> float:
        start = time.perf_counter()
        rr.resetAll()
        rr.simulate(0, 180, 181)
        return time.perf_counter() - start

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rtol", type=float, nargs="+", default=[1e-8, 1e-7, 1e-6, 1e-5])
    parser.add_argument("--atol", type=float, nargs="+", default=[1e-8, 1e-7, 1e-6, 1e-5])
    parser.add_argument("--method", nargs="+", default=["bdf", "adams"], choices=["bdf", "adams"],
                        help="CVODE's stiff BDF method with Newton iteration, or its non-stiff Adams method")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    base = default_model()
    tight = base.with_tolerances(1e-10, 1e-14, atol_scale={})
    scenarios = names()
    references = {name: run(name, tight) for name in scenarios}
    timer = reference_model_timer()
    print(f"reference: rtol 1e-10, atol 1e-14 (uniform); {len(scenarios)} scenarios, "
          f"{len(ENDPOINTS)} endpoints, {len(base.outputs)} outputs each")
    print("| method | rtol | atol x scale | max output error / range | max endpoint error | day or RECIST changed "
          "| ms per simulation | ratio to reference model |")
    print("|---|---|---|---|---|---|---|---|")
    best = None
    for method, rtol, atol in ((m, r, a) for m in args.method for r in args.rtol for a in args.atol):
        model = base.with_tolerances(rtol, atol, stiff=method == "bdf")
        worst = [errors(references[name], run(name, model)) for name in scenarios]
        output, endpoint = max(w[0] for w in worst), max(w[1] for w in worst)
        changed = any(w[2] or w[3] for w in worst)
        ms, ratio = cost(model, args.repeats, timer)
        inside = output <= BUDGET and endpoint <= BUDGET and not changed
        print(f"| {method} | {rtol:g} | {atol:g} | {output:.1e} | {endpoint:.1e} | {'yes' if changed else 'no'} "
              f"| {ms:.1f} | {ratio:.2f} |{' inside' if inside else ''}")
        if inside and (best is None or ms < best[3]):
            best = (method, rtol, atol, ms, ratio)
    if best:
        print(f"cheapest inside the budget (errors <= {BUDGET:g}, no day/class change): {best[0]}, rtol {best[1]:g}, "
              f"atol {best[2]:g} x scale: {best[3]:.1f} ms, ratio to the reference model = {best[4]:.2f}")
    else:
        print("no setting inside the budget")


if __name__ == "__main__":
    main()
