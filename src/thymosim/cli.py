"""Command line over the Python API.

    thymosim scenarios                          list the named scenarios
    thymosim run [SCENARIO|FILE.toml] --out DIR time course (CSV; Parquet with --parquet) and figure;
                                                without a scenario: the default job (chemo +/- Ta1)
    thymosim compare A B ... --out DIR          overlay scenarios
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from thymosim.plotting import plot_arms
from thymosim.scenario import ScenarioError
from thymosim.scenarios import DEFAULT, named, names, resolve


def _progress(items, quiet: bool, desc: str):
    if quiet:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="scenario", file=sys.stderr)


def run_scenarios(scenarios: list[str], out: Path, step: float | None = None, parquet: bool = False,
                  quiet: bool = True, title: str = "") -> pd.DataFrame:
    """Simulate scenarios (names or TOML paths); write timecourse.csv (+ .parquet) and timecourse.png."""
    loaded = [resolve(s) for s in scenarios]
    out.mkdir(parents=True, exist_ok=True)
    arms = {}
    for scenario in _progress(loaded, quiet, "simulating"):
        arms[scenario.name] = scenario.simulate(**({"step": step} if step else {}))
    table = pd.concat([df.assign(scenario=name) for name, df in arms.items()], ignore_index=True)
    table.to_csv(out / "timecourse.csv", index=False)
    if parquet:
        try:
            table.to_parquet(out / "timecourse.parquet", index=False)
        except ImportError as err:
            raise SystemExit(f"--parquet needs pyarrow: pip install 'thymosim[parquet]' ({err})") from None
    regimens = {s.name: s.regimen for s in loaded}
    fig = plot_arms(arms, title or " vs ".join(arms), regimens=regimens)
    fig.savefig(out / "timecourse.png", dpi=110)
    return table


def run_default(out: Path, step: float = 1 / 24, quiet: bool = True) -> pd.DataFrame:
    """The main job: cisplatin + vinorelbine x4 with and without thymalfasin 1.6 mg SC twice weekly."""
    return run_scenarios(list(DEFAULT), out, step=step, quiet=quiet,
                         title="Cisplatin + vinorelbine x4 (q21d) with and without thymalfasin 1.6 mg SC BIW")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="thymosim", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("scenarios", help="list the named scenarios")
    run = sub.add_parser("run", help="simulate a scenario (default: chemo +/- Ta1, 180 days)")
    run.add_argument("scenario", nargs="?", help="named scenario or TOML file (default: the default job)")
    compare = sub.add_parser("compare", help="overlay several scenarios")
    compare.add_argument("scenarios", nargs="+", help="named scenarios or TOML files")
    for p in (run, compare):
        p.add_argument("--out", type=Path, required=True, help="output directory")
        p.add_argument("--step", type=float, default=None, help="output step [day] (default: the scenario's)")
        p.add_argument("--parquet", action="store_true", help="also write timecourse.parquet")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        if args.command == "scenarios":
            for name in names():
                print(f"{name:28s} {named(name).description}")
            return
        if args.command == "run" and args.scenario is None:
            run_default(args.out, step=args.step or 1 / 24, quiet=args.quiet)
        else:
            chosen = [args.scenario] if args.command == "run" else args.scenarios
            run_scenarios(chosen, args.out, args.step, args.parquet, args.quiet)
    except ScenarioError as err:
        raise SystemExit(f"thymosim: {err}") from None
    if not args.quiet:
        print(f"wrote {args.out / 'timecourse.csv'} and {args.out / 'timecourse.png'}", file=sys.stderr)


if __name__ == "__main__":
    main()
