"""Per-simulation cost of thymosim's public API against a bare roadrunner loop on the
same compiled model, in the same process (issue 3 target: ratio <= 1.05).

The bare loop does the minimum a user would hand-write for the same scenario: reset,
set the patient's values, then integrate segment by segment, adding each dose at its
time. Runs alternate between the two so machine noise hits both alike.

    python benchmarks/overhead.py [--repeats 30] [--scenario cisplatin_vinorelbine_ta1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from thymosim.model import default_model
from thymosim.scenario import named
from thymosim.simulation import output_grid


def bare_loop(rr, values: dict[str, float], actions, grid: np.ndarray) -> np.ndarray:
    rr.resetAll()
    for key, value in values.items():
        rr.setValue(key, value)
    rr.reset()
    rows, t0, k = [], 0.0, 0
    for t1 in sorted({a[0] for a in actions if 0 < a[0] <= grid[-1]} | {grid[-1]}):
        while k < len(actions) and actions[k][0] <= t0:
            rr.setValue(actions[k][1], rr.getValue(actions[k][1]) + actions[k][2])
            k += 1
        inside = grid[(grid >= t0) & (grid < t1)]
        result = rr.simulate(times=np.unique(np.r_[t0, inside, t1]))
        rows.append(np.asarray(result)[np.isin(np.unique(np.r_[t0, inside, t1]), inside)])
        t0 = t1
    return np.vstack(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--scenario", default="cisplatin_vinorelbine_ta1")
    args = parser.parse_args()
    scenario = named(args.scenario)
    rr = default_model().runner()
    values = default_model().values(scenario.patient)
    actions = scenario.regimen.actions(scenario.patient.bsa)
    grid = output_grid(scenario.horizon, scenario.step)
    api = lambda: scenario.simulate()  # noqa: E731
    bare = lambda: bare_loop(rr, values, actions, grid)  # noqa: E731
    same = np.allclose(api().to_numpy()[:-1], bare(), rtol=1e-12)  # warm up and check both give the same

    t_api, t_bare = [], []
    for _ in range(args.repeats):
        for fn, store in ((api, t_api), (bare, t_bare)):
            start = time.perf_counter()
            fn()
            store.append(time.perf_counter() - start)
    ratio = statistics.median(t_api) / statistics.median(t_bare)
    print(f"scenario {scenario.name}: {len(actions)} dose actions, {len(grid)} output times, {args.repeats} repeats")
    print(f"bare roadrunner loop: median {1e3 * statistics.median(t_bare):.1f} ms per simulation")
    print(f"thymosim simulate():  median {1e3 * statistics.median(t_api):.1f} ms per simulation")
    print(f"identical results: {same}")
    print(f"overhead ratio thymosim / bare = {ratio:.3f} (target <= 1.05)")


if __name__ == "__main__":
    main()
