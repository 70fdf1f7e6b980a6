"""Command line over the Python API.

    thymosim scenarios                          list the named scenarios
    thymosim list endpoints|parameters|drugs|outputs   what the default model offers, with units
    thymosim run [SCENARIO|FILE.toml] --out DIR time course (CSV; Parquet with --parquet) and figure;
                                                without a scenario: the default job (chemo +/- Ta1)
    thymosim compare A B ... --out DIR          overlay scenarios
    thymosim sweep SCENARIO --factor NAME=V1,V2,... [--factor ...] --out DIR [--workers N] [--scheduler ADDR]
    thymosim sensitivity SCENARIO --method local|morris|sobol --out DIR [--endpoint E] [--n N]
    thymosim calibrate [--write] [--no-clinical]   rerun the fits; --write: values into parameters.tsv, rebuild SBML
    thymosim trial ARM_A ARM_B --n N --seed S --out DIR [--workers W]   in-silico randomised trial
    thymosim trial --reproduce-seed --out DIR   the seed's Tables 1-2 and every clinical target, model vs published
    thymosim export sbml --out FILE.xml [--scenario S]   flat SBML L3V2; with a scenario, its doses as events
    thymosim export sbml-comp --out FILE.xml             hierarchical (comp) SBML, one model definition per module
    thymosim export omex --scenario S ... --out F.omex   COMBINE archive: SBML per scenario, SED-ML L1V4, table
    thymosim export petab --out DIR                      PEtab v1 calibration problem (passes petablint)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import pandas as pd

from thymosim import __version__
from thymosim.model import InfeasibleBaseline, ModelError
from thymosim.plots.timecourse import plot_arms
from thymosim.scenario import DEFAULT, ScenarioError, named, names, resolve
from thymosim.simulation import SimulationError


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
        table.to_parquet(out / "timecourse.parquet", index=False)
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
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    parser.add_argument("--version", action="version", version=f"thymosim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("scenarios", help="list the named scenarios")
    listing = sub.add_parser("list", help="list the default model's endpoints, parameters, drugs or outputs")
    listing.add_argument("what", choices=["endpoints", "parameters", "drugs", "outputs"])
    run = sub.add_parser("run", help="simulate a scenario (default: chemo +/- Ta1, 180 days)")
    run.add_argument("scenario", nargs="?", help="named scenario or TOML file (default: the default job)")
    compare = sub.add_parser("compare", help="overlay several scenarios")
    compare.add_argument("scenarios", nargs="+", help="named scenarios or TOML files")
    for p in (run, compare):
        p.add_argument("--out", type=Path, required=True, help="output directory")
        p.add_argument("--step", type=float, default=None,
                       help="output step, in the model's time unit (days for thymosim; default: the scenario's)")
        p.add_argument("--parquet", action="store_true", help="also write timecourse.parquet")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep = sub.add_parser("sweep", help="grid sweep of scenario values, endpoints to Parquet/CSV and figures")
    sweep.add_argument("scenario")
    sweep.add_argument("--factor", action="append", required=True,
                       help="NAME=V1,V2,... (parameter id, patient.cd4, doses[0].amt, ...); repeat for a grid")
    sweep.add_argument("--overwrite", action="store_true",
                       help="replace another sweep's results in OUT/runs (default: refuse; the same sweep resumes)")
    sens = sub.add_parser("sensitivity", help="local, Morris or Sobol sensitivity of endpoints")
    sens.add_argument("scenario")
    sens.add_argument("--method", choices=["local", "morris", "sobol"], default="local")
    sens.add_argument("--parameters", help="comma-separated parameter ids (default: all for local, top 20 "
                                           "by local sensitivity for morris/sobol)")
    sens.add_argument("--n", type=int, default=256, help="Sobol base samples / Morris trajectories")
    sens.add_argument("--seed", type=int, default=0)
    for p in (sweep, sens):
        p.add_argument("--out", type=Path, required=True)
        p.add_argument("--endpoint", action="append", help="endpoint name (repeatable)")
        p.add_argument("--workers", type=int, default=1)
        p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
        p.add_argument("--quiet", action="store_true")
    calibrate = sub.add_parser("calibrate", help="rerun the calibrations; --write puts the fitted values into "
                                                 "models/parameters.tsv and rebuilds the SBML")
    calibrate.add_argument("--write", action="store_true", help="write the fitted values and rebuild the SBML")
    calibrate.add_argument("--no-clinical", action="store_true",
                           help="only the PK and DC fits (seconds); default: also the clinical fits (minutes)")
    calibrate.add_argument("--workers", type=int, default=1, help="local processes for the population fits (default 1)")
    trial = sub.add_parser("trial", help="in-silico randomised trial of scenarios (arms) on a virtual population; "
                                         "--reproduce-seed: the seed's Tables 1-2 and every clinical target")
    trial.add_argument("arms", nargs="*", help="scenario names or TOML files, one per arm; the first is the control")
    trial.add_argument("--n", type=int, default=100, help="virtual patients per arm (default 100; "
                                                         "--reproduce-seed: in the whole population, default 200)")
    trial.add_argument("--seed", type=int, default=0, help="random seed of population and randomisation (default 0)")
    trial.add_argument("--scan-every", type=float, default=42.0, help="imaging interval in days (default 42)")
    trial.add_argument("--power", default="11,22,36",
                       help="per-arm sizes of repeated small trials: how often p < 0.05 (default 11,22,36)")
    trial.add_argument("--reproduce-seed", action="store_true",
                       help="write seed_tables.csv, targets.csv, figures and report.md instead of a two-arm trial")
    trial.add_argument("--out", type=Path, required=True, help="output folder")
    trial.add_argument("--workers", type=int, default=1, help="local processes (default 1)")
    trial.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    trial.add_argument("--quiet", action="store_true", help="no progress bars")
    export = sub.add_parser("export", help="export the model: SBML, comp SBML, COMBINE/OMEX, PEtab")
    export.add_argument("format", choices=["sbml", "sbml-comp", "omex", "petab"])
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--scenario", action="append",
                        help="named scenario or TOML file whose patient and doses to embed (omex: repeatable)")
    export.add_argument("--sbml-version", choices=["3.2", "3.1"], default="3.2",
                        help="SBML level.version of `export sbml` (3.1 for tools that read only L3V1, "
                             "e.g. MATLAB SimBiology)")
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            from thymosim.model import default_model
            from thymosim.sbml.comp import comp_sbml
            from thymosim.sbml.export import as_level3_version1, omex_archive, petab_problem, scenario_sbml

            if args.format == "petab":
                petab_problem(args.out)
            elif args.format == "sbml-comp":
                args.out.write_text(comp_sbml(), encoding="utf-8")
            elif args.format == "omex":
                omex_archive([resolve(s) for s in (args.scenario or DEFAULT)], args.out)
            else:
                if args.scenario and len(args.scenario) > 1:
                    raise ScenarioError("export sbml: give one --scenario (use omex for several)")
                sbml = scenario_sbml(resolve(args.scenario[0])) if args.scenario else default_model().sbml
                text = sbml if args.sbml_version == "3.2" else as_level3_version1(sbml)
                args.out.write_text(text, encoding="utf-8")
            return
        if args.command == "calibrate":
            from thymosim.analysis.calibration import calibrate

            calibrate(write=args.write, clinical=not args.no_clinical, workers=args.workers)
            if args.write:
                from thymosim.sbml.build import main as build

                build()
            return
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "trial":
            from thymosim.plots.trial_report import reproduce_seed, run_trial_report

            if args.reproduce_seed:
                files = reproduce_seed(args.out, n=200 if args.n == 100 else args.n, seed=args.seed,
                                       workers=args.workers, progress=not args.quiet)
            else:
                if len(args.arms) < 2:
                    raise ScenarioError("trial: give two or more arms (scenario names or TOML files), "
                                        "or --reproduce-seed")
                sizes = [int(x) for x in args.power.split(",") if x.strip()]
                files = run_trial_report([resolve(a) for a in args.arms], args.out, args.n, args.seed,
                                         args.scan_every, sizes, args.workers, args.scheduler, not args.quiet)
            for path in files:
                print(f"wrote {path}", file=sys.stderr)
            return
        if args.command == "sensitivity":
            return _sensitivity(args)
        if args.command == "list":
            return _list(args.what)
        if args.command == "scenarios":
            for name in names():
                print(f"{name:28s} {named(name).description}")
            return
        if args.command == "run" and args.scenario is None:
            run_default(args.out, step=args.step or 1 / 24, quiet=args.quiet)
        else:
            chosen = [args.scenario] if args.command == "run" else args.scenarios
            run_scenarios(chosen, args.out, args.step, args.parquet, args.quiet)
    except BrokenPipeError:  # output piped into a command that stopped reading (e.g. head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    except Exception as err:
        if args.debug:
            raise
        known = (ScenarioError, ModelError, InfeasibleBaseline, SimulationError, KeyError, ValueError, OSError)
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        message = " ".join(str(message).split())  # one line
        if len(message) > 500:
            message = message[:500] + " ..."
        if not isinstance(err, known):
            message = f"internal error ({type(err).__name__}: {message}); rerun with --debug for the traceback"
        raise SystemExit(f"thymosim: {message}") from None
    if not args.quiet:
        print(f"wrote {args.out / 'timecourse.csv'} and {args.out / 'timecourse.png'}", file=sys.stderr)


def _list(what: str) -> None:
    """Print one tab-separated line per item, with unit and description."""
    from thymosim.model import default_model

    model = default_model()
    if what == "endpoints":
        from thymosim.analysis.endpoints import DESCRIPTIONS, GENERIC

        lines = [(name, text) for name, text in DESCRIPTIONS.items()]
        lines.append(("KIND:OUTPUT", f"any output with KIND one of {', '.join(GENERIC)} (e.g. auc:CD4)"))
        lines.append(("at:OUTPUT@DAY", "an output at a day, interpolated (e.g. at:CD4@42)"))
    elif what == "parameters":
        from thymosim.tables import load_parameter_table

        lines = [(pid, f"{r.value:g} {r.unit}\t{r.domain}, plausible {r.lower:g}-{r.upper:g}\t{r.role}\t"
                       f"{r.evidence}\t{r.description}") for pid, r in load_parameter_table().iterrows()]
    elif what == "drugs":
        lines = [(d.name, f"{d.unit}\t{','.join(d.routes)}\ttarget {d.target or '-'}, rate {d.rate or '-'}\t"
                          f"{d.description}") for d in model.drugs.values()]
    else:
        lines = [(o.name, f"{o.unit}\t{o.id}\t{o.description}") for o in model.outputs.values()]
    for name, text in lines:
        print(f"{name}\t{text}")


def _slug(name: str) -> str:
    """A file-name-safe form of an endpoint name (``auc:[C_dopa]`` -> ``auc_C_dopa``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def _parse_value(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _sweep(args) -> None:
    from thymosim.analysis.endpoints import defaults_for
    from thymosim.analysis.sweep import grid, run_sweep
    from thymosim.plots.sensitivity import dose_response, heatmap

    factors = {}
    for spec in args.factor:
        name, _, values = spec.partition("=")
        if not values:
            raise ScenarioError(f"--factor {spec!r}: expected NAME=V1,V2,...")
        factors[name] = [_parse_value(v) for v in values.split(",")]
    scenario = resolve(args.scenario)
    endpoints = args.endpoint or list(defaults_for(list(scenario.outputs or scenario.model.outputs)))
    table = run_sweep(scenario, grid(factors), endpoints=endpoints, out=args.out / "runs",
                      workers=args.workers, scheduler=args.scheduler, progress=not args.quiet,
                      overwrite=args.overwrite)
    table.to_csv(args.out / "sweep.csv", index=False)
    names_ = list(factors)
    if len(names_) == 1 and all(isinstance(v, float) for v in factors[names_[0]]):
        dose_response(table, names_[0], endpoints).savefig(args.out / "dose_response.png", dpi=110)
    elif len(names_) == 2:
        heatmap(table, names_[0], names_[1], endpoints[0]).savefig(args.out / "heatmap.png", dpi=110)
    failed = table[table.status != "ok"].run.nunique()
    print(f"{table.run.nunique()} runs, {failed} failed; wrote {args.out / 'sweep.csv'}", file=sys.stderr)


def _sensitivity(args) -> None:
    from thymosim.analysis import sensitivity as sa
    from thymosim.plots.sensitivity import morris_plot, sobol_plot, tornado

    scenario = resolve(args.scenario)
    endpoints = args.endpoint or list(sa.default_endpoints(scenario))
    args.out.mkdir(parents=True, exist_ok=True)
    chosen = args.parameters.split(",") if args.parameters else None
    local = sa.local_sensitivity(scenario, chosen, endpoints, workers=args.workers, scheduler=args.scheduler)
    if args.method == "local":
        local.to_csv(args.out / "local_sensitivity.csv", index=False)
        for endpoint in endpoints:
            tornado(local, endpoint).savefig(args.out / f"tornado_{_slug(endpoint)}.png", dpi=110)
        return
    for endpoint in endpoints:
        ranked = (local[local.endpoint == endpoint].assign(a=lambda d: d.sensitivity.abs())
                  .sort_values("a", ascending=False).parameter)
        params = chosen or list(ranked[:20])
        problem = sa.problem(params, model=scenario.model)
        f = sa.model_function(scenario, params, endpoint, workers=args.workers, scheduler=args.scheduler)
        if args.method == "morris":
            result = sa.morris_indices(f, problem, trajectories=args.n, seed=args.seed)
            morris_plot(result, endpoint).savefig(args.out / f"morris_{_slug(endpoint)}.png", dpi=110)
        else:
            result = sa.sobol_indices(f, problem, n=args.n, seed=args.seed)
            sobol_plot(result, endpoint).savefig(args.out / f"sobol_{_slug(endpoint)}.png", dpi=110)
        result.to_csv(args.out / f"{args.method}_{_slug(endpoint)}.csv")
        if len(f.failures):
            f.failures.to_csv(args.out / f"{args.method}_{_slug(endpoint)}_failures.csv", index=False)


if __name__ == "__main__":
    main()
