"""A 10,000-patient trial arm under a trial design (default first_line_nsclc: 24 months of follow-up,
scans every 6/9/12 weeks, treatment until progression, each patient's simulation ended at the first
PD scan as imaging is; target <= 300 s on 2 cores), streamed to disk on the local back end, reported
as wall time and as a ratio to the yardstick model's cost for the same number of simulations spread
over the workers (../shared/bench/reference_qsp.ant, timed in this process before and after the arm:
the median of both, so that a change of load during the run weighs on both sides), with the wall
that ratio gives for 10,000 patients where the yardstick takes :data:`QUIET_YARDSTICK`. The ratio is
the robust figure on a busy machine; the target is ratio <= 2.5 (300 s = 2.5 x 24 ms x 10,000 / 2).
Optionally the same arm on a Dask LocalCluster.

    python benchmarks/trial_scale.py [--n 10000] [--workers 2] [--design first_line_nsclc] [--dask]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from yardstick import reference_run  # noqa: E402

from thymosim.analysis.population import sample_population  # noqa: E402
from thymosim.analysis.trial import Design, run_arm  # noqa: E402

SCENARIO = "cisplatin_vinorelbine_ta1"
QUIET_YARDSTICK = 0.024
"""[s] One yardstick simulation on the project's 2-core reference machine when it is quiet."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--design", default="first_line_nsclc",
                        help="a design of models/data/trial_designs.toml, or 'none' (scans every 42 days over the "
                             "scenario's 180 days)")
    parser.add_argument("--dask", action="store_true", help="also run the arm on a Dask LocalCluster")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # sampled values outside a plausible range are expected in a population
    reference = reference_run()
    before = [reference() for _ in range(21)]
    population = sample_population(args.n, seed=0)
    design = Design() if args.design == "none" else Design.named(args.design)
    target = 240 if args.design == "none" else 300
    backends = [("local", {"workers": args.workers})]
    if args.dask:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True)
        backends.append(("dask", {"scheduler": Client(cluster)}))
    for name, kwargs in backends:
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            arm = run_arm(SCENARIO, population, design, out=Path(out) / "arm", **kwargs)
            wall = time.perf_counter() - start
            parts = len(list((Path(out) / "arm").rglob("part-*.parquet")))
        one = statistics.median(before + [reference() for _ in range(21)])  # seconds of one yardstick simulation
        budget = one * args.n / args.workers
        print(f"{name}: {args.n} patients on {SCENARIO}, design {args.design}, {args.workers} workers: {wall:.1f} s "
              f"(target <= {target} s for 10,000); "
              f"{(arm.status != 'ok').sum()} failed; {parts} streamed parts; ORR "
              f"{100 * arm.recist.isin(['CR', 'PR']).mean():.1f} %; yardstick {1e3 * one:.1f} ms/simulation -> "
              f"ratio wall / (yardstick x patients / workers) = {wall / budget:.2f}; "
              f"10,000 patients at this ratio on the quiet reference machine ({1e3 * QUIET_YARDSTICK:g} ms "
              f"yardstick): {wall / budget * QUIET_YARDSTICK * 10_000 / args.workers:.0f} s")


if __name__ == "__main__":
    main()
