"""The command line: the main job writes its table and figure; every command explains itself,
starts fast, suggests close names and says what it wrote."""

import argparse
import ast
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from thymosim import cli
from thymosim.cli import main


def test_run_writes_timecourse_csv_and_png(tmp_path):
    main(["run", "--out", str(tmp_path), "--step", "0.5", "--quiet"])
    table = pd.read_csv(tmp_path / "timecourse.csv")
    assert set(table.scenario) == {"cisplatin_vinorelbine", "cisplatin_vinorelbine_ta1"}
    assert len(table) == 2 * 361
    for col in ["time", "CD3", "CD4", "CD8", "NK", "IL2", "IFNg", "IL12", "M1_M2",
                "mature_DC_fraction", "ta1_plasma", "ANC", "tumour_diameter"]:
        assert col in table.columns
    png = (tmp_path / "timecourse.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    exposure = pd.read_csv(tmp_path / "exposure.csv")  # event-exact, whatever the step
    ta1 = exposure[(exposure.scenario == "cisplatin_vinorelbine_ta1") & (exposure.drug == "thymalfasin")]
    assert ta1.Cmax.max() == pytest.approx(83.45, rel=0.01) and set(exposure.drug) >= {"cisplatin", "vinorelbine"}


def test_exposure_command_writes_or_prints_the_table(tmp_path, capsys):
    main(["exposure", "prag_ta1_loading", "--drug", "thymalfasin", "--out", str(tmp_path)])
    assert capsys.readouterr().err.strip() == f"wrote {tmp_path / 'exposure.csv'}"
    table = pd.read_csv(tmp_path / "exposure.csv")
    assert list(table.columns[:9]) == ["drug", "interval", "start", "end", "Cmax", "Tmax_day", "Ctrough", "AUC", "Cavg"]
    assert table.Cmax.iloc[0] == pytest.approx(166.9, rel=0.01)  # the 3.2 mg loading dose
    main(["exposure", "prag_ta1_loading", "--total"])
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("drug,interval,start,end,Cmax") and any(",gm_csf," in f",{x}" for x in printed)
    with pytest.raises(SystemExit, match="drug: radiotherapy has no concentration"):
        main(["exposure", "prag", "--drug", "radiotherapy"])


def test_scenarios_lists_named(capsys):
    main(["scenarios"])
    out = capsys.readouterr().out
    assert "prag_ta1_loading" in out and "cisplatin_vinorelbine" in out


def test_compare_overlays_and_writes_parquet(tmp_path):
    main(["compare", "prag", "prag_ta1", "--out", str(tmp_path), "--step", "1", "--parquet", "--quiet"])
    table = pd.read_parquet(tmp_path / "timecourse.parquet")
    assert set(table.scenario) == {"prag", "prag_ta1"}
    assert (tmp_path / "timecourse.png").stat().st_size > 50_000
    endpoints = pd.read_csv(tmp_path / "endpoints.csv").set_index("scenario")
    course = table[table.scenario == "prag"]
    assert endpoints.loc["prag", "lymphocyte_nadir"] == pytest.approx(course.CD3.min())
    assert endpoints.loc["prag_ta1", "auc_CD4"] > endpoints.loc["prag", "auc_CD4"]
    # a later run without --parquet leaves no stale Parquet file from this one
    main(["compare", "prag", "ifosfamide", "--out", str(tmp_path), "--step", "1", "--quiet"])
    assert not (tmp_path / "timecourse.parquet").exists()
    assert set(pd.read_csv(tmp_path / "endpoints.csv").scenario) == {"prag", "ifosfamide"}


def test_run_scenario_file_and_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[doses]]\ndrug = "thymalfasin"\namt = "-1 mg"\n')
    with pytest.raises(SystemExit, match=r"bad.toml: doses\[0\].amt"):
        main(["run", str(bad), "--out", str(tmp_path)])


def test_sweep_and_sensitivity_commands(tmp_path):
    main(["sweep", "prag_ta1", "--factor", "doses[3].amt=0,1.6,3.2", "--endpoint", "auc_CD4",
          "--out", str(tmp_path / "sweep"), "--quiet"])
    table = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert len(table) == 3 and (table.status == "ok").all()
    assert table.sort_values("factor:doses[3].amt").value.is_monotonic_increasing
    assert (tmp_path / "sweep" / "dose_response.png").exists()
    main(["sensitivity", "prag_ta1", "--method", "local", "--parameters", "PK_CL,TC_E_share",
          "--endpoint", "auc_CD4", "--out", str(tmp_path / "local"), "--quiet"])
    local = pd.read_csv(tmp_path / "local" / "local_sensitivity.csv").set_index("parameter")
    assert local.loc["TC_E_share", "sensitivity"] > 0 > local.loc["PK_CL", "sensitivity"]
    main(["sensitivity", "prag_ta1", "--method", "morris", "--n", "4", "--parameters", "PK_CL,TC_E_share",
          "--endpoint", "auc_CD4", "--out", str(tmp_path / "morris"), "--quiet"])
    morris = pd.read_csv(tmp_path / "morris" / "morris_auc_CD4.csv", index_col=0)
    assert set(morris.index) == {"PK_CL", "TC_E_share"} and (morris.mu_star >= 0).all()


def test_version_and_list_commands(capsys):
    import pytest

    import thymosim
    from thymosim.analysis.endpoints import ENDPOINTS
    from thymosim.cli import main
    from thymosim.model import default_model

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"thymosim {thymosim.__version__}"
    for what, expected in (("endpoints", [*ENDPOINTS, "at:OUTPUT@DAY", "below:OUTPUT@LEVEL"]),
                           ("drugs", list(default_model().drugs)),
                           ("outputs", list(default_model().outputs)),
                           ("parameters", list(default_model().defaults))):
        main(["list", what])
        names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
        assert set(expected) <= set(names), what


# --- the command line explains itself and starts fast ----------------------------------------

HEAVY = ("pandas", "numpy", "matplotlib", "roadrunner", "libsbml", "scipy")


def _modules_after(code: str) -> list[str]:
    """The heavy top-level modules loaded after running ``code`` in a fresh interpreter."""
    script = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_importing_the_cli_imports_nothing_heavy():
    """`thymosim --help` must be fast: the CLI imports pandas, matplotlib, the simulation and the
    analyses only in the commands that use them."""
    assert not {"matplotlib", "roadrunner", "pandas"} & set(_modules_after("import thymosim.cli"))
    # thymosim/__init__ imports its public names lazily; the CLI adds nothing heavy to it
    assert _modules_after("import thymosim.cli") == _modules_after("import thymosim") == []
    assert "pandas" in _modules_after("import thymosim; thymosim.simulate")  # a public name loads on use
    # with a bare package (nothing from thymosim/__init__), the CLI and its help import nothing heavy
    stub = (f"import types; package = types.ModuleType('thymosim'); package.__version__ = '0'\n"
            f"package.__path__ = [{str(Path(cli.__file__).parent)!r}]; sys.modules['thymosim'] = package\n"
            "import thymosim.cli; thymosim.cli.build_parser().format_help()\n"
            "assert [m for m in sys.modules if m.startswith('thymosim')] == ['thymosim', 'thymosim.cli']")
    assert _modules_after(stub) == []


def _parsers():
    """(name, parser) of the top-level parser and of every command's."""
    parser = cli.build_parser()
    return [("thymosim", parser), *parser.commands.items()]


def test_every_command_and_option_is_explained_with_its_default():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == set(parser.commands)
    assert all(action.help for action in commands._choices_actions)  # each command's line in `thymosim --help`
    for name, command in _parsers():
        text = " ".join(command.format_help().split())
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            label = f"{name} {'/'.join(action.option_strings) or action.dest}"
            assert action.help and action.help.strip(), f"{label}: no help"
            if action.nargs == 0 or action.required or not (action.option_strings or action.nargs in ("?", "*")):
                continue  # an on/off flag, a required option or a positional: there is no default to state
            if action.default is None:
                assert "default" in action.help, f"{label}: its help does not say what happens without it"
            else:
                assert f"default: {action.default}" in text, f"{label}: its default is not shown"


def test_every_command_has_a_help_that_says_what_it_does(capsys):
    for name, command in _parsers()[1:]:
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert exit_.value.code == 0 and out.startswith(f"usage: thymosim {name}")
        assert command.description and " ".join(command.description.split()) in out


def test_did_you_mean():
    assert cli.did_you_mean("cisplatin_vinorelbin", ["prag", "cisplatin_vinorelbine"]) == (
        "did you mean 'cisplatin_vinorelbine'?")
    assert cli.did_you_mean("pk_cll", ["PK_CL", "PK_V", "TC_E_thy_TA1"]).startswith("did you mean 'PK_CL'")
    assert cli.did_you_mean("auc_CD44", ["auc_CD4", "auc_CD8", "x"]) == "did you mean 'auc_CD4' or 'auc_CD8'?"
    assert cli.did_you_mean("zzz", ["prag"]) == ""


@pytest.mark.parametrize("argv, error, hint", [
    (["run", "cisplatin_vinorelbin"], "scenario 'cisplatin_vinorelbin' not found; named scenarios: ",
     "did you mean 'cisplatin_vinorelbine'"),
    (["export", "sbml", "--scenario", "prag_ta"], "scenario 'prag_ta' not found", "did you mean 'prag_ta1'"),
    (["sweep", "prag_ta1", "--factor", "PK_CLL=1,2"], "factor 'PK_CLL': not a parameter of model 'thymosim'",
     "did you mean 'PK_CL'"),
    (["sweep", "prag_ta1", "--factor", "PK_CL=1,2", "--endpoint", "auc_CD44"], "unknown endpoint 'auc_CD44'; allowed: ",
     "did you mean 'auc_CD4'"),
    (["sweep", "prag_ta1", "--factor", "PK_CL=1,2", "--endpoint", "peak:IL22"],
     "endpoint 'peak:IL22': 'IL22' is not an output of scenario 'prag_ta1'", "did you mean 'peak:IL2'"),
    (["sweep", "prag_ta1", "--factor", "PK_CL=1,2", "--endpoint", "below:ANK@500"],
     "endpoint 'below:ANK@500': 'ANK' is not an output of scenario 'prag_ta1'", "'below:ANC@500'"),
    (["sensitivity", "prag_ta1", "--endpoint", "peak_IL22"], "unknown endpoint 'peak_IL22'", "did you mean 'peak_IL2'"),
    (["sensitivity", "prag_ta1", "--parameters", "PK_CLL"], "unknown parameter(s) ['PK_CLL']", "did you mean 'PK_CL'"),
])
def test_a_misspelt_name_gets_the_error_and_did_you_mean_on_one_line(argv, error, hint, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--out", str(tmp_path / "out"), "--quiet"])
    message = str(exit_.value.code)
    assert message.startswith(f"thymosim: {error}") and "\n" not in message
    assert message.endswith("?") and hint in message.rsplit("; ", 1)[1]
    assert not (tmp_path / "out" / "runs").exists()  # refused before any run


def test_a_long_error_is_shortened_but_keeps_its_did_you_mean(monkeypatch):
    def fail(what):
        err = KeyError("unknown thing " + "x" * 600)
        err.add_note("did you mean 'y'?")
        raise err

    monkeypatch.setattr(cli, "_list", fail)
    with pytest.raises(SystemExit) as exit_:
        main(["list", "drugs"])
    assert str(exit_.value.code) == f"thymosim: unknown thing {'x' * 486} ...; did you mean 'y'?"


@pytest.mark.parametrize("argv, error, hint", [
    (["list", "endpoint"], "thymosim list: error: argument what: invalid choice: 'endpoint'", "'endpoints'"),
    (["lst", "endpoints"], "thymosim: error: argument command: invalid choice: 'lst'", "'list'"),
    (["sensitivity", "prag", "--method", "morriss", "--out", "x"],
     "thymosim sensitivity: error: argument --method: invalid choice: 'morriss'", "'morris'"),
    (["run", "--out", "x", "--quite"], "thymosim run: error: unrecognized arguments: --quite", "'--quiet'"),
])
def test_argparse_errors_get_did_you_mean(argv, error, hint, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith(error) and f"; did you mean {hint}" in line


def test_export_says_what_it_wrote_unless_quiet(tmp_path, capsys):
    main(["export", "sbml", "--out", str(tmp_path / "m.xml")])
    assert capsys.readouterr().err.splitlines() == [f"wrote {tmp_path / 'm.xml'}"]
    main(["export", "sbml", "--out", str(tmp_path / "q.xml"), "--quiet"])
    assert capsys.readouterr().err == "" and (tmp_path / "q.xml").stat().st_size > 0
    for _ in range(2):  # a second export into the same folder rewrites (and names) every file again
        main(["export", "petab", "--out", str(tmp_path / "petab")])
        wrote = capsys.readouterr().err.splitlines()
        files = sorted(p for p in (tmp_path / "petab").iterdir())
        assert wrote == [f"wrote {p}" for p in files] and "problem.yaml" in {p.name for p in files}


def test_agents_command_writes_table_claims_and_figures(tmp_path, capsys):
    import pandas as pd

    (tmp_path / "agents_old.png").write_text("stale")
    main(["agents", "--out", str(tmp_path)])
    table = pd.read_csv(tmp_path / "agents.csv")
    assert set(table.patient) == {"typical", "chemo-sensitive"} and len(table) == 14
    assert {"days_ANC_below_500", "capillary_leak_peak", "tumour_best_change"} <= set(table.columns)
    verdicts = pd.read_csv(tmp_path / "claims.csv").verdict
    assert set(verdicts) <= {"supported", "contradicted"} and len(verdicts) >= 8
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["agents.png", "agents_chemo-sensitive.png"]
    assert "wrote" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["agents", "--out", str(tmp_path), "--n", "-1"])
    assert "--n: '-1'; allowed: a whole number from 0 to" in capsys.readouterr().err
