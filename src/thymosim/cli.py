"""Command line: ``thymosim run --out DIR`` simulates the default scenario."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from thymosim.plotting import plot_arms
from thymosim.scenarios import DEFAULT, named


def run_default(out: Path, horizon: float = 180.0, step: float = 1 / 24) -> pd.DataFrame:
    """Simulate both arms of the default scenario; write timecourse.csv and timecourse.png."""
    out.mkdir(parents=True, exist_ok=True)
    arms = {}
    for name in DEFAULT:
        scenario = named(name)
        arms[name] = scenario.simulate(horizon=horizon, step=step, outputs=None)
    table = pd.concat([df.assign(arm=name) for name, df in arms.items()], ignore_index=True)
    table.to_csv(out / "timecourse.csv", index=False)
    fig = plot_arms(arms, "Cisplatin + vinorelbine x4 (q21d) with and without thymalfasin 1.6 mg SC BIW")
    fig.savefig(out / "timecourse.png", dpi=110)
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="thymosim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate the default scenario (chemo +/- Ta1, 180 days)")
    run.add_argument("--out", type=Path, required=True, help="output directory")
    run.add_argument("--horizon", type=float, default=180.0, help="days (default 180)")
    run.add_argument("--step", type=float, default=1 / 24, help="output step in days (default 1/24 = hourly)")
    args = parser.parse_args(argv)
    if args.command == "run":
        run_default(args.out, args.horizon, args.step)
        print(f"wrote {args.out / 'timecourse.csv'} and {args.out / 'timecourse.png'}")


if __name__ == "__main__":
    main()
