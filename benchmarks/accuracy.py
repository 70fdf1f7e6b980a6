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
from dataclasses import replace

from yardstick import alternate

from thymosim.analysis.accuracy import BUDGET, deviation, evaluate, reference_model
from thymosim.analysis.endpoints import ENDPOINTS
from thymosim.model import default_model
from thymosim.scenario import named, names


def cost(model, repeats: int) -> tuple[float, float]:
    """Median ms per simulation of the default Ta1 arm and its ratio to the yardstick model,
    alternating the two in this process."""
    scenario = replace(named("cisplatin_vinorelbine_ta1"), model=model, step=1.0)  # 181 outputs, as the yardstick
    ours, theirs = alternate(scenario.simulate, repeats)
    return 1e3 * ours, ours / theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rtol", type=float, nargs="+", default=[1e-8, 1e-7, 1e-6, 1e-5])
    parser.add_argument("--atol", type=float, nargs="+", default=[1e-8, 1e-7, 1e-6, 1e-5])
    parser.add_argument("--method", nargs="+", default=["bdf", "adams"], choices=["bdf", "adams"],
                        help="CVODE's stiff BDF method with Newton iteration, or its non-stiff Adams method")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    base = default_model()
    tight = reference_model(base)
    scenarios = {name: named(name) for name in names()}
    references = {name: evaluate(s, tight) for name, s in scenarios.items()}
    print(f"reference: rtol 1e-10, atol 1e-14 (uniform); {len(scenarios)} scenarios, "
          f"{len(ENDPOINTS)} endpoints, {len(base.outputs)} outputs each")
    print("| method | rtol | atol x scale | max output error / range | max endpoint error | day or RECIST changed "
          "| ms per simulation | ratio to reference model |")
    print("|---|---|---|---|---|---|---|---|")
    best = None
    for method, rtol, atol in ((m, r, a) for m in args.method for r in args.rtol for a in args.atol):
        model = base.with_tolerances(rtol, atol, stiff=method == "bdf")
        worst = [deviation(references[name], evaluate(s, model)) for name, s in scenarios.items()]
        output, endpoint = max(w.output for w in worst), max(w.endpoint for w in worst)
        changed = any(w.changed for w in worst)
        ms, ratio = cost(model, args.repeats)
        inside = all(w.inside for w in worst)
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
