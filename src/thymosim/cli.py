"""Command line over the Python API.

    thymosim scenarios                          list the named scenarios
    thymosim list endpoints|parameters|drugs|outputs   what the default model offers, with units
    thymosim run [SCENARIO|FILE.toml] --out DIR time course (CSV; Parquet with --parquet) and figure;
                                                without a scenario: the default job (chemo +/- Ta1)
    thymosim compare A B ... --out DIR          overlay scenarios
    thymosim exposure SCENARIO [--drug D] [--out DIR]   per dosing interval Cmax, Tmax, Ctrough, AUC (event-exact)
    thymosim sweep SCENARIO --factor NAME=V1,V2,... [--factor ...] --out DIR [--workers N] [--scheduler ADDR]
    thymosim sensitivity SCENARIO --method local|morris|sobol --out DIR [--endpoint E] [--n N]
    thymosim calibrate [--write] [--no-clinical]   rerun the fits; --write: values into parameters.tsv, rebuild SBML
    thymosim trial ARM_A ARM_B --n N --seed S --out DIR [--workers W]   in-silico randomised trial
    thymosim trial --reproduce-seed --out DIR   the vendor guide's Tables 1-2 and every clinical target,
                                                model vs published
    thymosim trial ARM_A ARM_B --paired --n N --out DIR   every patient in every arm: individual effects
    thymosim benefit DIR [--label pfs|os|response|best_change]   who benefits in a paired trial's folder
    thymosim dosefind --out DIR [--base S] [--n N] [--seeds K] [--doses ...] [--every ...] [--thresholds ...]
                                                dose finding of a count-guided regimen: benefit vs total drug
    thymosim export sbml --out FILE.xml [--scenario S]   flat SBML L3V2; with a scenario, its doses as events
    thymosim export sbml-comp --out FILE.xml             hierarchical (comp) SBML, one model definition per module
    thymosim export omex --scenario S ... --out F.omex   COMBINE archive: SBML per scenario, SED-ML L1V4, table
    thymosim export petab --out DIR                      PEtab v1 calibration problem (passes petablint)
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

# Only what `thymosim --help` needs is imported here: pandas, matplotlib, the simulation and the
# analyses are imported by the commands that use them (tests/test_cli.py checks it).
from thymosim import __version__

if TYPE_CHECKING:

    from thymosim.scenario import Scenario


def did_you_mean(word: str, allowed: Iterable[str]) -> str:
    """``"did you mean 'X'?"`` (up to three names of ``allowed`` close to ``word``, case ignored), or ''."""
    by_lower: dict[str, str] = {}
    for name in allowed:
        by_lower.setdefault(str(name).lower(), str(name))
    close = [by_lower[m] for m in difflib.get_close_matches(str(word).lower(), list(by_lower), n=3)]
    if not close:
        return ""
    quoted = [repr(m) for m in close]
    return f"did you mean {' or '.join(filter(None, [', '.join(quoted[:-1]), quoted[-1]]))}?"


def _suggest(err: BaseException, given: Iterable[str], allowed: Iterable[str]) -> None:
    """Add a "did you mean X?" note to ``err`` for each of ``given`` not in ``allowed`` but close to
    one of them (main() prints the notes after the error's one line)."""
    allowed = list(allowed)
    unknown = [name for name in dict.fromkeys(given) if name not in allowed]
    for name in unknown:
        hint = did_you_mean(name, allowed)
        if hint:
            err.add_note(hint if len(unknown) == 1 else f"{name!r}: {hint}")


_INVALID_CHOICE = re.compile(r"invalid choice: ['\"]?(.*?)['\"]? \(choose from (.*)\)")


class _Parser(argparse.ArgumentParser):
    """An argument parser that adds "did you mean X?" to an invalid choice (a command, ``list WHAT``,
    ``--method`` ...) and to an unrecognised option."""

    commands: dict[str, argparse.ArgumentParser]
    """The parsers of the commands, by name (set by :func:`build_parser`)."""

    def error(self, message: str):
        choice = _INVALID_CHOICE.search(message)
        if choice:
            hint = did_you_mean(choice.group(1), (c.strip().strip("'\"") for c in choice.group(2).split(",")))
            message = f"{message}; {hint}" if hint else message
        elif message.startswith("unrecognized arguments: "):
            options = [s for a in self._actions for s in a.option_strings]
            given = [a.partition("=")[0] for a in message.split(": ", 1)[1].split() if a.startswith("-")]
            hints = [f"{g}: {h}" if len(given) > 1 else h for g in given if (h := did_you_mean(g, options))]
            message = "; ".join([message, *hints])
        super().error(message)


class _HelpFormatter(argparse.HelpFormatter):
    """Each option's help ends with ``(default: X)`` unless it says its default itself. On/off flags
    (default off) and options without a value (None) add nothing: their help says what happens
    without them (tests/test_cli.py checks every option)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("%(default)" in text or action.default in (None, argparse.SUPPRESS) or action.nargs == 0
                or action.required or not (action.option_strings or action.nargs in ("?", "*"))):
            return text
        return f"{text} (default: %(default)s)"


class _TopHelpFormatter(argparse.RawDescriptionHelpFormatter, _HelpFormatter):
    """The top-level help: the module's overview as written."""


def _wrote(paths: Iterable[Path | str], quiet: bool) -> None:
    """One ``wrote PATH`` line per file on stderr, unless ``quiet``."""
    if not quiet:
        for path in paths:
            print(f"wrote {path}", file=sys.stderr)


def _stamps(folder: Path) -> dict[Path, tuple[int, int]]:
    """(modification time, size) of every file under ``folder``: what a command changed is what differs."""
    if not folder.is_dir():
        return {}
    return {p: (s.st_mtime_ns, s.st_size) for p in sorted(folder.rglob("*")) if p.is_file() for s in (p.stat(),)}


def _scenario(name_or_file: str | Path) -> Scenario:
    """:func:`thymosim.scenario.resolve`, with "did you mean X?" for a misspelt scenario name."""
    from thymosim.scenario import ScenarioError, names, resolve

    try:
        return resolve(name_or_file)
    except ScenarioError as err:
        path = Path(name_or_file)
        if path.suffix != ".toml" and not path.is_file():  # a name, not a file
            _suggest(err, [str(name_or_file)], names())
        raise


def _check_endpoints(scenario: Scenario, endpoints: list[str]) -> None:
    """Fail on an unknown endpoint, or one of an output the scenario lacks, before any run (the
    check of :meth:`thymosim.analysis.sweep.Job.of`), with "did you mean X?" for the failing one
    (candidates from the endpoint registry: :func:`thymosim.analysis.endpoints.suggestions`)."""
    from thymosim.analysis.endpoints import missing, suggestions
    from thymosim.analysis.sweep import Job

    try:
        Job.of(scenario, endpoints)
    except KeyError as err:
        outputs = list(scenario.outputs or scenario.model.outputs)
        for name in endpoints:  # Job.of names the first bad one
            try:
                if not missing(name, outputs):
                    continue
            except KeyError:
                pass
            _suggest(err, [name], suggestions(name, outputs))
            break
        raise


def _check_factors(scenario: Scenario, factors: list[str]) -> None:
    """:func:`thymosim.analysis.sweep.check_factors`, with "did you mean X?" for a misspelt factor."""
    from thymosim.analysis.sweep import check_factors
    from thymosim.scenario import PATIENT_KEYS, ScenarioError

    try:
        check_factors(scenario, factors)
    except ScenarioError as err:
        model, doses = scenario.model, scenario.to_dict(standalone=False).get("doses", [])
        allowed = [*model.defaults, *model.covariates.values(), "horizon", "step",
                   *(f"patient.{key}" for key in PATIENT_KEYS if key != "parameters"),
                   *(f"doses[{i}].{key}" for i, dose in enumerate(doses) for key in dose)]
        named = [f for f in factors if f"factor {f!r}" in str(err)]  # check_factors stops at the first bad one
        # no hint for a dose the scenario lacks: the message says how many it has
        missing = [f for f in named if (i := re.match(r"doses\[(\d+)\]", f)) and int(i.group(1)) >= len(doses)]
        _suggest(err, [f for f in named if f not in missing], allowed)
        raise


def build_parser() -> argparse.ArgumentParser:
    """The command line (cheap: nothing heavy is imported until a command runs)."""
    parser = _Parser(prog="thymosim", description=__doc__, formatter_class=_TopHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    parser.add_argument("--version", action="version", version=f"thymosim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, title="commands",
                                description="`thymosim COMMAND --help`: what a command does, its options and defaults")

    parser.commands = {}

    def command(name: str, text: str) -> argparse.ArgumentParser:
        parser.commands[name] = sub.add_parser(name, help=text, description=text, formatter_class=_HelpFormatter)
        return parser.commands[name]

    quiet = "no progress bar and no 'wrote PATH' lines on stderr"
    scenario = "named scenario (see `thymosim scenarios`) or scenario TOML file"
    command("scenarios", "list the named scenarios")
    listing = command("list", "list the default model's endpoints, parameters, drugs or outputs, with units")
    listing.add_argument("what", choices=["endpoints", "parameters", "drugs", "outputs"], help="what to list")
    run = command("run", "simulate a scenario: time course table and figure (without a scenario: the default job, "
                         "cisplatin + vinorelbine with and without thymalfasin, 180 days)")
    run.add_argument("scenario", nargs="?",
                     help=f"{scenario} (default: the default job, cisplatin_vinorelbine and cisplatin_vinorelbine_ta1)")
    compare = command("compare", "simulate several scenarios and overlay them in one table and figure")
    compare.add_argument("scenarios", nargs="+", help=f"{scenario}; two or more")
    for p in (run, compare):
        p.add_argument("--out", type=Path, required=True,
                       help="output folder (timecourse.csv, endpoints.csv, exposure.csv, timecourse.png)")
        p.add_argument("--step", type=float, default=None,
                       help="output step, in the model's time unit (days for thymosim) (default: the scenario's; "
                            "the default job: 1/24 day)")
        p.add_argument("--parquet", action="store_true", help="also write timecourse.parquet")
        p.add_argument("--quiet", action="store_true", help=quiet)
    expo = command("exposure", "event-exact drug exposure: one row per dosing interval (Cmax, Tmax, Ctrough, AUC, "
                               "Cavg) and a whole-horizon row, independent of the output step")
    expo.add_argument("scenario", help=scenario)
    expo.add_argument("--drug", help="one drug, e.g. thymalfasin (default: every drug of the scenario that has a "
                                     "concentration)")
    expo.add_argument("--out", type=Path, help="output folder for exposure.csv (default: print the table on stdout)")
    expo.add_argument("--total", action="store_true",
                      help="total concentrations, endogenous thymalfasin included (without it: above the drug-free "
                           "level, so that AUC = dose / CL)")
    expo.add_argument("--quiet", action="store_true", help="no 'wrote PATH' line on stderr")
    sweep = command("sweep", "grid sweep of scenario values: endpoints to Parquet/CSV, and figures")
    sweep.add_argument("scenario", help=scenario)
    sweep.add_argument("--factor", action="append", required=True,
                       help="NAME=V1,V2,... (parameter id, patient.cd4, doses[0].amt, ...); repeat for a grid")
    sweep.add_argument("--overwrite", action="store_true",
                       help="replace another sweep's results in OUT/runs (default: refuse; the same sweep resumes)")
    sens = command("sensitivity", "local, Morris or Sobol sensitivity of endpoints to parameters")
    sens.add_argument("scenario", help=scenario)
    sens.add_argument("--method", choices=["local", "morris", "sobol"], default="local",
                      help="local: relative sensitivities d ln y / d ln p; morris: elementary effects; "
                           "sobol: variance-based indices")
    sens.add_argument("--parameters", help="comma-separated parameter ids (default: all for local, top 20 "
                                           "by local sensitivity for morris/sobol)")
    sens.add_argument("--n", type=_positive_int("--n"), default=256, help="Sobol base samples / Morris trajectories")
    sens.add_argument("--seed", type=int, default=0, help="random seed of the Morris/Sobol samples")
    sens.add_argument("--bounds", action="append", default=[], metavar="ID=LOW:HIGH",
                      help="range of a parameter for morris/sobol (repeat; default: the parameter table's plausible "
                           "range, a factor 2 either side of the value for another model's parameter)")
    sens.add_argument("--accept-imputation", action="store_true",
                      help="morris/sobol: impute failed runs with the mean of the others even when more than 5 %% "
                           "fail (default: refuse; the failed share and reasons are always reported)")
    for p in (sweep, sens):
        p.add_argument("--out", type=Path, required=True, help="output folder")
        p.add_argument("--endpoint", action="append",
                       help="endpoint name, repeatable (see `thymosim list endpoints`) (default: lymphocyte_nadir, "
                            "auc_CD4 and tumour_best_change; another model: auc:OUTPUT of its first three outputs)")
        p.add_argument("--workers", type=int, default=1, help="local processes")
        p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: none, local "
                                           "processes)")
        p.add_argument("--quiet", action="store_true", help=quiet)
    calibrate = command("calibrate", "rerun the calibrations; --write puts the fitted values into "
                                     "models/parameters.tsv and rebuilds the SBML")
    calibrate.add_argument("--write", action="store_true", help="write the fitted values and rebuild the SBML")
    calibrate.add_argument("--no-clinical", action="store_true",
                           help="only the PK and DC fits (seconds); default: also the clinical fits (minutes)")
    calibrate.add_argument("--workers", type=int, default=1, help="local processes for the population fits")
    calibrate.add_argument("--quiet", action="store_true", help="no 'wrote PATH' lines on stderr")
    trial = command("trial", "in-silico randomised trial of scenarios (arms) on a virtual population; "
                             "--reproduce-seed: the vendor guide's Tables 1-2 and every clinical target")
    trial.add_argument("arms", nargs="*", help="scenario names or TOML files, one per arm; the first is the control "
                                               "(none with --reproduce-seed)")
    trial.add_argument("--n", type=_positive_int("--n"), default=None,
                       help="virtual patients per arm (default: 100; --reproduce-seed: in the whole population, "
                            "default 200)")
    trial.add_argument("--seed", type=int, default=0, help="random seed of population and randomisation")
    trial.add_argument("--scan-every", type=float, default=42.0, help="imaging interval in days")
    trial.add_argument("--design", default=None,
                       help="a trial design of models/data/trial_designs.toml (e.g. first_line_nsclc: scans every "
                            "6/9/12 weeks, 24 months, Ta1 and PD-1 until progression); replaces --scan-every; "
                            "default: none, scans every --scan-every days over each arm's horizon")
    trial.add_argument("--power", type=_sizes, default="11,22,36",
                       help="comma-separated per-arm sizes of repeated small trials: how often p < 0.05")
    trial.add_argument("--paired", action="store_true",
                       help="paired (counterfactual) trial: each of the N x arms patients the randomised trial would "
                            "draw is given every arm; writes effects.csv (individual effects), effects_summary.csv, "
                            "summary.csv (per arm, paired tests) and randomised_summary.csv (the randomised trial "
                            "drawn from it)")
    trial.add_argument("--reproduce-seed", action="store_true",
                       help="write seed_tables.csv, targets.csv, figures and report.md instead of a two-arm trial")
    trial.add_argument("--out", type=Path, required=True, help="output folder")
    trial.add_argument("--workers", type=int, default=1, help="local processes")
    trial.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: none, local "
                                           "processes)")
    trial.add_argument("--quiet", action="store_true", help="no progress bars (the 'wrote PATH' lines remain)")
    agents = command("agents", "thymalfasin beside G-CSF, IL-2 and a PD-1 inhibitor on cisplatin + vinorelbine x 4: "
                               "agents.csv (one row per patient and arm), claims.csv (the vendor guide's comparator "
                               "table, claim by claim), agents.png and agents_chemo-sensitive.png")
    agents.add_argument("--out", type=Path, required=True, help="output folder")
    agents.add_argument("--n", type=_positive_int("--n", minimum=0), default=0,
                        help="virtual patients for ORR/DCR with 95 %% intervals (0: the typical and the "
                             "chemo-sensitive patient only)")
    agents.add_argument("--seed", type=int, default=0, help="random seed of the virtual population")
    agents.add_argument("--workers", type=int, default=1, help="local processes for the virtual population")
    agents.add_argument("--quiet", action="store_true", help=quiet)
    benefit = command("benefit", "who benefits in a paired trial (thymosim trial A B --paired --out DIR): "
                                 "benefit.csv, biomarkers.csv, models.csv, benefit_effect.png, benefit_roc.png, "
                                 "report.md")
    benefit.add_argument("folder", type=Path, help="the paired trial's output folder")
    benefit.add_argument("--out", type=Path, default=None, help="output folder (default: the paired trial's)")
    benefit.add_argument("--arm", default=None, help="treatment arm (default: the first after the control)")
    benefit.add_argument("--effect", choices=["d_best_change", "d_pfs_day", "d_os_day", "response_effect"],
                         default="d_best_change", help="continuous effect for the rank correlations")
    benefit.add_argument("--label", choices=["pfs", "os", "response", "best_change"], default="pfs",
                         help="binary benefit: PFS or OS longer on the arm, response only on the arm, best change "
                              "lower by more than --margin")
    benefit.add_argument("--margin", type=float, default=10.0, help="percentage points, for --label best_change")
    benefit.add_argument("--seed", type=int, default=0, help="random seed of the cross-validation folds")
    benefit.add_argument("--quiet", action="store_true", help="no 'wrote PATH' lines on stderr")
    dosefind = command("dosefind", "dose finding of a count-guided regimen: every dose x interval x threshold on "
                                   "the same virtual patients, against them without the drug, over several "
                                   "populations: dosefinding.csv, dosefinding_summary.csv, dosefinding.png, report.md")
    dosefind.add_argument("--out", type=Path, required=True, help="output folder")
    dosefind.add_argument("--base", default="prag_ta1_guided", help=f"{scenario}: the guided arm to rewrite "
                          "(default: prag_ta1_guided)")
    dosefind.add_argument("--drug", default="thymalfasin", help="the drug whose dose is searched")
    dosefind.add_argument("--n", type=_positive_int("--n"), default=40, help="virtual patients per population "
                          "(default: 40)")
    dosefind.add_argument("--seeds", type=_positive_int("--seeds", maximum=100), default=3,
                          help="populations (seeds 0, 1, ...; default: 3)")
    dosefind.add_argument("--doses", type=_numbers("--doses"), default=[0.8, 1.6, 3.2],
                          help="mg per maintenance administration, comma-separated (default: 0.8,1.6,3.2)")
    dosefind.add_argument("--every", type=_numbers("--every"), default=[3.5, 7.0],
                          help="days between maintenance administrations (default: 3.5,7)")
    dosefind.add_argument("--thresholds", type=_numbers("--thresholds"), default=None,
                          help="the rules' count thresholds (default: the base's)")
    dosefind.add_argument("--share", type=float, default=0.9,
                          help="recommend the least drug reaching this share of the best benefit (default: 0.9)")
    dosefind.add_argument("--workers", type=int, default=1, help="local processes")
    dosefind.add_argument("--quiet", action="store_true", help="no 'wrote PATH' lines on stderr")
    export = command("export", "export the model: SBML, comp SBML, COMBINE/OMEX, PEtab")
    export.add_argument("format", choices=["sbml", "sbml-comp", "omex", "petab"],
                        help="sbml: flat SBML L3V2; sbml-comp: hierarchical (comp) SBML; omex: COMBINE archive "
                             "with SED-ML; petab: PEtab v1 calibration problem (a folder)")
    export.add_argument("--out", type=Path, required=True, help="output file (petab: output folder)")
    export.add_argument("--scenario", action="append",
                        help=f"{scenario} whose patient and doses to embed (omex: repeatable) (default: none, the "
                             "model as it is; omex: the default job's two scenarios)")
    export.add_argument("--sbml-version", choices=["3.2", "3.1"], default="3.2",
                        help="SBML level.version of `export sbml` (3.1 for tools that read only L3V1, "
                             "e.g. MATLAB SimBiology)")
    export.add_argument("--quiet", action="store_true", help="no 'wrote PATH' lines on stderr")
    return parser


MAX_N = 100_000
"""Largest --n (virtual patients, Morris trajectories, Sobol base samples): a sanity limit on memory and time."""


def _positive_int(option: str, minimum: int = 1, maximum: int = MAX_N):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{option}: {text!r}; allowed: a whole number from {minimum} to "
                                             f"{maximum} (thymosim.cli.MAX_N)")
        return value
    return parse


def _numbers(option: str):
    """A comma-separated list of finite numbers > 0 (``--doses 0.8,1.6``)."""
    def parse(text: str) -> list[float]:
        try:
            values = [float(x) for x in str(text).split(",") if x.strip()]
        except ValueError:
            values = []
        if not values or not all(0 < v < float("inf") for v in values):
            raise argparse.ArgumentTypeError(f"{option}: {text!r}; allowed: comma-separated numbers > 0")
        return values
    return parse


def _sizes(text: str) -> list[int]:
    """``--power``: comma-separated whole numbers >= 1 (per-arm sizes)."""
    parse = _positive_int("--power")
    return [parse(x.strip()) for x in str(text).split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # what parse_args does, but the command reports those after it, with its usage and options
        given = sys.argv[1:] if argv is None else list(argv)
        after = given[given.index(args.command) + 1:] if args.command in given else []
        (parser.commands[args.command] if all(u in after for u in unknown) else parser).error(
            f"unrecognized arguments: {' '.join(unknown)}")
    try:
        COMMANDS[args.command](args)
    except BrokenPipeError:  # output piped into a command that stopped reading (e.g. head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    except Exception as err:
        if args.debug:
            raise
        # imported here, not at the top: `thymosim --help` stays fast (these are loaded by now anyway)
        from thymosim.model import InfeasibleBaseline, ModelError
        from thymosim.scenario import ScenarioError
        from thymosim.simulation import SimulationError

        known = (ScenarioError, ModelError, InfeasibleBaseline, SimulationError, KeyError, ValueError, OSError)
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        message = " ".join(str(message).split())  # one line
        if len(message) > 500:
            message = message[:500] + " ..."
        # notes ("did you mean X?", added by _suggest) come after the possibly shortened message
        message = "; ".join([message, *(" ".join(str(note).split()) for note in getattr(err, "__notes__", ()))])
        if not isinstance(err, known):
            message = f"internal error ({type(err).__name__}: {message}); rerun with --debug for the traceback"
        raise SystemExit(f"thymosim: {message}") from None


def _run(args) -> None:
    """``thymosim run`` and ``thymosim compare``: time course, endpoints, exposure and figure in ``--out``."""
    from thymosim.workflows.scenarios import DEFAULT_STEP, default_files, scenario_files

    if args.command == "run" and args.scenario is None:
        files = default_files(args.out, step=args.step or DEFAULT_STEP, quiet=args.quiet, parquet=args.parquet)
    else:
        chosen = [args.scenario] if args.command == "run" else args.scenarios
        files = scenario_files([_scenario(s) for s in chosen], args.out, args.step, args.parquet, args.quiet)
    _wrote(files, args.quiet)


def _scenarios(args) -> None:
    """``thymosim scenarios``: one line per named scenario, with its description."""
    from thymosim.scenario import named, names

    for name in names():
        print(f"{name:28s} {named(name).description}")


def _agents(args) -> None:
    """``thymosim agents``: agents.csv, claims.csv and agents.png in ``--out``."""
    from thymosim.workflows.agents import agent_files

    _wrote(agent_files(args.out, args.n, args.seed, args.workers, progress=not args.quiet), args.quiet)


def _exposure(args) -> None:
    """``thymosim exposure``: exposure.csv in ``--out``, or the table on stdout."""
    from thymosim.analysis.exposure import exposure

    table = exposure(_scenario(args.scenario), args.drug, above_baseline=not args.total)
    if args.out is None:
        table.to_csv(sys.stdout, index=False, float_format="%.6g")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "exposure.csv", index=False)
    _wrote([args.out / "exposure.csv"], args.quiet)


def _dosefind(args) -> None:
    """``thymosim dosefind``: dose finding of a count-guided regimen, its tables, figure and report."""
    from thymosim.workflows.dosefinding import dosefinding_files

    files, result = dosefinding_files(args.out, args.doses, args.every, args.thresholds, n=args.n,
                                      seeds=range(args.seeds), base=_scenario(args.base), drug=args.drug,
                                      share=args.share, workers=args.workers, progress=not args.quiet)
    _wrote(files, args.quiet)
    print(f"recommended: {result.recommended or 'none'} ({100 * result.agreement:.0f} % of {args.seeds} populations)")


def _benefit(args) -> None:
    """``thymosim benefit``: who benefits, in the paired trial's folder or ``--out``."""
    from thymosim.workflows.benefit import benefit_files

    _wrote(benefit_files(args.folder, args.out, args.arm, args.effect, args.label, args.margin, args.seed),
           args.quiet)


def _export(args) -> None:
    from thymosim.model import default_model
    from thymosim.sbml.comp import comp_sbml
    from thymosim.sbml.export import as_level3_version1, omex_archive, petab_problem, scenario_sbml
    from thymosim.scenario import DEFAULT, ScenarioError

    if args.format == "petab":
        before = _stamps(args.out)
        petab_problem(args.out)
        return _wrote([p for p, stamp in _stamps(args.out).items() if before.get(p) != stamp], args.quiet)
    if args.format == "sbml-comp":
        args.out.write_text(comp_sbml(), encoding="utf-8")
    elif args.format == "omex":
        omex_archive([_scenario(s) for s in (args.scenario or DEFAULT)], args.out)
    else:
        if args.scenario and len(args.scenario) > 1:
            raise ScenarioError("export sbml: give one --scenario (use omex for several)")
        sbml = scenario_sbml(_scenario(args.scenario[0])) if args.scenario else default_model().sbml
        text = sbml if args.sbml_version == "3.2" else as_level3_version1(sbml)
        args.out.write_text(text, encoding="utf-8")
    _wrote([args.out], args.quiet)


def _calibrate(args) -> None:
    from thymosim.analysis.calibration import calibrate
    from thymosim.model import model_dir
    from thymosim.sbml.build import write_generated
    from thymosim.tables import values_text

    written: list = []

    def write_set(values, directory) -> None:  # table, SBML and flat Antimony renamed together
        written.extend(write_generated(directory, values_text(values, directory)))

    calibrate(write=args.write, clinical=not args.no_clinical, workers=args.workers, writer=write_set)
    if args.write:
        _wrote(written or [model_dir() / "parameters.tsv"], args.quiet)


def _trial(args) -> None:
    """``thymosim trial``: a randomised or paired trial of the arms, or the reproduction (--reproduce-seed)."""
    from thymosim.scenario import ScenarioError
    from thymosim.workflows.trials import paired_files, reproduction_files, trial_files

    if args.reproduce_seed:
        ignored = [name for name, given in (("arms", args.arms), ("--paired", args.paired),
                                            ("--scheduler", args.scheduler),
                                            ("--scan-every", args.scan_every != 42.0), ("--design", args.design))
                   if given]
        if ignored:
            raise ScenarioError(f"trial --reproduce-seed runs its own arms on scans every 42 days with local "
                                f"processes; remove {', '.join(ignored)}")
        files = reproduction_files(args.out, n=args.n or 200, seed=args.seed, workers=args.workers,
                                   progress=not args.quiet)
    else:
        if len(args.arms) < 2:
            raise ScenarioError("trial: give two or more arms (scenario names or TOML files), or --reproduce-seed")
        if args.design is not None and args.scan_every != 42.0:
            raise ScenarioError("trial: --design sets the scans; remove --scan-every")
        from thymosim.analysis.trial import Design

        design = Design.named(args.design) if args.design is not None else Design(scan_every=args.scan_every)
        arms = [_scenario(a) for a in args.arms]
        if args.paired:
            files = paired_files(arms, args.out, args.n or 100, args.seed, design, workers=args.workers,
                                 scheduler=args.scheduler, progress=not args.quiet)
        else:
            files = trial_files(arms, args.out, args.n or 100, args.seed, args.scan_every, args.power, args.workers,
                                args.scheduler, not args.quiet, design=design)
    _wrote(files, quiet=False)  # also with --quiet (only the progress bars): tests/test_trial.py relies on it


def _list(what: str) -> None:
    """Print one tab-separated line per item, with unit and description."""
    from thymosim.model import default_model

    model = default_model()
    if what == "endpoints":
        from thymosim.analysis.endpoints import GENERIC, GRAMMAR, REGISTRY

        lines = [(name, e.text) for name, e in REGISTRY.items()]
        lines.append(("KIND:OUTPUT", f"any output with KIND one of {', '.join(GENERIC)} (e.g. auc:CD4)"))
        lines += [(form, text) for form, text in GRAMMAR.items() if "@" in form]
    elif what == "parameters":
        from thymosim.tables import load_parameter_table

        lines = [(pid, f"{r.value:g} {r.unit}\t{r.domain}, plausible {r.lower:g}-{r.upper:g}\t{r.role}\t"
                       f"{r.evidence}\t{r.description}") for pid, r in load_parameter_table().iterrows()]
    elif what == "drugs":
        lines = [(d.name, f"{d.unit}\t{','.join(d.routes)}\ttarget {d.target or '-'}, rate {d.rate or '-'}\t"
                          f"{d.description}" + (f"\talso: {', '.join(d.synonyms)}" if d.synonyms else ""))
                 for d in model.drugs.values()]
    else:
        lines = [(o.name, f"{o.unit}\t{o.id}\t{o.description}") for o in model.outputs.values()]
    for name, text in lines:
        print(f"{name}\t{text}")


def _parse_value(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _sweep(args) -> None:
    """``thymosim sweep``: sweep.csv, each run's results and the figures in ``--out``."""
    from thymosim.analysis.endpoints import defaults_for
    from thymosim.analysis.sweep import Failures
    from thymosim.scenario import ScenarioError
    from thymosim.workflows.sweeps import sweep_files

    factors = {}
    for spec in args.factor:
        name, _, values = spec.partition("=")
        if not values:
            raise ScenarioError(f"--factor {spec!r}: expected NAME=V1,V2,...")
        factors[name] = [_parse_value(v) for v in values.split(",")]
    scenario = _scenario(args.scenario)
    endpoints = args.endpoint or list(defaults_for(list(scenario.outputs or scenario.model.outputs)))
    _check_endpoints(scenario, endpoints)  # what run_sweep checks first, with "did you mean X?"
    _check_factors(scenario, list(factors))
    table, written = sweep_files(scenario, factors, endpoints, args.out, workers=args.workers,
                                 scheduler=args.scheduler, progress=not args.quiet, overwrite=args.overwrite)
    failures = Failures.of_table(table)
    detail = failures.summary().partition(" failed ")[2]  # "(10.0 %): 2 x reason"
    print(f"{failures.runs} runs, {failures.failed} failed{' ' + detail if detail else ''}", file=sys.stderr)
    _wrote(written, args.quiet)


def _bounds(specs: list[str]) -> dict[str, tuple[float, float]]:
    """``--bounds ID=LOW:HIGH`` options as {id: (low, high)}."""
    bounds = {}
    for spec in specs:
        pid, _, rng = spec.partition("=")
        low, sep, high = rng.rpartition(":")
        try:
            bounds[pid] = (float(low), float(high))
        except ValueError:
            sep = ""
        if not pid or not sep:
            raise ValueError(f"--bounds {spec!r}: expected ID=LOW:HIGH (e.g. x1=-3.1416:3.1416)")
    return bounds


def _sensitivity(args) -> None:
    """``thymosim sensitivity``: local, Morris or Sobol indices and figures in ``--out``."""
    from thymosim.analysis.sensitivity import default_endpoints
    from thymosim.workflows.sensitivity import sensitivity_files

    scenario = _scenario(args.scenario)
    endpoints = args.endpoint or list(default_endpoints(scenario))
    _check_endpoints(scenario, endpoints)
    bounds = _bounds(args.bounds)
    chosen = args.parameters.split(",") if args.parameters else None
    written: list[Path] = []
    try:
        sensitivity_files(scenario, args.method, endpoints, args.out, chosen, bounds, n=args.n, seed=args.seed,
                          workers=args.workers, scheduler=args.scheduler, progress=not args.quiet,
                          accept_imputation=args.accept_imputation, say=lambda line: print(line, file=sys.stderr),
                          written=written)
    except KeyError as err:
        if chosen and "unknown parameter" in str(err):
            _suggest(err, chosen, [*scenario.model.defaults, *scenario.model.covariates.values()])
        raise
    finally:  # also what was written before an error
        _wrote(written, args.quiet)


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "scenarios": _scenarios,
    "list": lambda args: _list(args.what),
    "run": _run,
    "compare": _run,
    "exposure": _exposure,
    "sweep": _sweep,
    "sensitivity": _sensitivity,
    "calibrate": _calibrate,
    "trial": _trial,
    "agents": _agents,
    "benefit": _benefit,
    "dosefind": _dosefind,
    "export": _export,
}
"""What each command of :func:`build_parser` runs (:func:`main` calls it with the parsed options)."""


if __name__ == "__main__":
    main()
