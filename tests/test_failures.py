"""Honest failure accounting in sweeps and sensitivity analyses, and third-party parameter domains.

A third-party model (the Ishigami test function as SBML, tests/data/ishigami.xml) takes negative parameter
values, and Sobol indices through the CLI match the analytic ones with no imputed run. A small model that
fails for negative p gives failures on purpose: their share and reasons are reported; a global analysis
refuses above 5 % unless imputation is accepted explicitly."""

from pathlib import Path

import antimony
import numpy as np
import pandas as pd
import pytest

from thymosim.analysis import sensitivity as sa
from thymosim.analysis.sweep import Failures, grid, run_sweep
from thymosim.cli import main
from thymosim.scenario import named, resolve

DATA = Path(__file__).parent / "data"
PI = repr(float(np.pi))
# analytic first-order indices of the Ishigami function, a = 7, b = 0.1 (Saltelli et al. 2008, The Primer, 4.9)
S1_TRUE = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}


@pytest.fixture(scope="module")
def fails(tmp_path_factory) -> Path:
    """A scenario whose output sqrt(p) is not finite for p < 0: a failing simulation on purpose."""
    folder = tmp_path_factory.mktemp("fails")
    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString("model fails\n  p = 1\n  Y := sqrt(p) + 0 * time\nend\n") >= 0
    (folder / "fails.xml").write_text(antimony.getSBMLString("fails"), encoding="utf-8")
    (folder / "fails.toml").write_text('name = "fails"\nmodel = "fails.xml"\nhorizon = 1\nstep = 1\n'
                                       'outputs = ["Y"]\ndoses = []\n', encoding="utf-8")
    return folder / "fails.toml"


def test_ishigami_sbml_is_the_ishigami_function_at_negative_values():
    scenario = resolve(DATA / "ishigami.toml")
    x = (-2.0, -1.0, -3.0)
    table = run_sweep(scenario, pd.DataFrame([x], columns=["x1", "x2", "x3"]), endpoints=["end:Y"], progress=False)
    expected = np.sin(x[0]) + 7 * np.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * np.sin(x[0])  # by hand: 0.6786...
    assert table.status.tolist() == ["ok"] and table.value[0] == pytest.approx(expected, rel=1e-9)


def test_sobol_of_the_ishigami_sbml_model_through_the_cli(tmp_path, capsys):
    bounds = [f"--bounds=x{i}=-{PI}:{PI}" for i in (1, 2, 3)]
    main(["sensitivity", str(DATA / "ishigami.toml"), "--method", "sobol", "--parameters", "x1,x2,x3", *bounds,
          "--endpoint", "end:Y", "--n", "1024", "--seed", "3", "--out", str(tmp_path), "--quiet"])
    sobol = pd.read_csv(tmp_path / "sobol_end_Y.csv", index_col="parameter")
    for name, true in S1_TRUE.items():
        assert abs(sobol.S1[name] - true) <= sobol.S1_conf[name], name
    assert sobol.S1_conf.max() < 0.1  # informative intervals, not wide enough to contain anything
    assert "failed" not in capsys.readouterr().err and not list(tmp_path.glob("*failures.csv"))  # nothing imputed


def test_a_sweep_with_10_percent_failing_runs_reports_10_percent(fails, tmp_path, capsys):
    values = [-1.0, -0.5, *range(1, 19)]  # 2 of 20 fail
    main(["sweep", str(fails), "--factor", "p=" + ",".join(map(str, values)), "--endpoint", "end:Y",
          "--out", str(tmp_path), "--quiet"])
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("20 runs, 2 failed (10.0 %): 2 x SimulationError") and "not finite" in line
    failures = Failures.of_table(pd.read_csv(tmp_path / "sweep.csv"))
    assert (failures.runs, failures.failed, failures.share) == (20, 2, 0.1)


def test_global_sensitivity_refuses_more_than_5_percent_failed_unless_imputation_is_accepted(fails):
    scenario = resolve(fails)
    x = np.array([[-1.0], [-0.5], *([v] for v in np.linspace(1.0, 18.0, 18))])
    with pytest.raises(sa.TooManyFailures, match=r"end:Y: 2 of 20 runs failed \(10\.0 %\), more than the 5 %") as err:
        sa.model_function(scenario, ["p"], "end:Y", progress=False)(x)
    assert err.value.failures.share == 0.1 and "not finite" in next(iter(err.value.failures.reasons))
    f = sa.model_function(scenario, ["p"], "end:Y", progress=False, impute=True)
    y = f(x)
    ok = np.sqrt(np.linspace(1.0, 18.0, 18))
    np.testing.assert_allclose(y, [ok.mean(), ok.mean(), *ok], rtol=1e-9)
    assert (f.accounting.failed, f.accounting.imputed, f.accounting.share) == (2, 2, 0.1)
    assert "2 of 20 runs failed (10.0 %, 2 imputed with the mean of the others)" in f.accounting.summary()


def test_a_small_failed_share_is_imputed_and_reported(fails):
    x = np.array([[-1.0], *([v] for v in np.linspace(1.0, 39.0, 39))])  # 1 of 40: 2.5 %
    f = sa.model_function(resolve(fails), ["p"], "end:Y", progress=False)
    f(x)
    assert (f.accounting.failed, f.accounting.imputed, f.accounting.share) == (1, 1, 0.025)


def test_sobol_result_carries_the_failures_and_the_cli_refuses_then_reports(fails, tmp_path, capsys):
    problem = sa.problem(["p"], {"p": (-0.1, 0.9)})
    share = {}
    for accept in (False, True):
        out = tmp_path / str(accept)
        argv = ["sensitivity", str(fails), "--method", "sobol", "--parameters", "p", "--bounds=p=-0.1:0.9",
                "--endpoint", "end:Y", "--n", "64", "--out", str(out), "--quiet"]
        if not accept:
            with pytest.raises(SystemExit, match=r"thymosim: end:Y: \d+ of 192 runs failed \(\d+\.\d %\), more than "
                                                 r"the 5 % that may be imputed.*--accept-imputation"):
                main(argv)
            assert (out / "sobol_end_Y_failures.csv").is_file() and not (out / "sobol_end_Y.csv").exists()
            continue
        main([*argv, "--accept-imputation"])
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert line.startswith("sobol end:Y: ") and "imputed with the mean of the others" in line
        share["cli"] = len(pd.read_csv(out / "sobol_end_Y_failures.csv")) / 192
    f = sa.model_function(resolve(fails), ["p"], "end:Y", progress=False, impute=True)
    result = sa.sobol_indices(f, problem, n=64, check_convergence=False)
    failures = result.attrs["failures"]
    assert failures.runs == 192 and failures.imputed == failures.failed and failures.share == share["cli"]
    assert 0.05 < failures.share < 0.15  # about a tenth of (-0.1, 0.9) is negative


def test_third_party_bounds_assume_no_sign_thymosim_keeps_its_domains(tmp_path):
    from thymosim import Model

    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString("model neg\n  x1 = -2\n  Y := x1 + 0 * time\nend\n") >= 0
    (tmp_path / "neg.xml").write_text(antimony.getSBMLString("neg"), encoding="utf-8")
    negative = Model.from_sbml(tmp_path / "neg.xml")
    assert sa.problem(["x1"], model=negative)["bounds"] == [[-4.0, -1.0]]  # a factor 2 either side, sign kept
    ishigami = resolve(DATA / "ishigami.toml").model
    problem = sa.problem(["x1"], {"x1": (-np.pi, np.pi)}, model=ishigami)
    assert problem["bounds"] == [[-np.pi, np.pi]] and not problem["log"][0]
    with pytest.raises(ValueError, match="lower < upper"):
        sa.problem(["x1"], {"x1": (1.0, -1.0)}, model=ishigami)
    table = run_sweep(named("prag_ta1"), grid({"PK_CL": [-1.0]}), endpoints=["auc_CD4"], progress=False)
    assert table.status[0] == "failed" and "patient.parameters.PK_CL: -1.0; allowed: " in table.error[0]


def test_local_sensitivity_reports_its_failures():
    local = sa.local_sensitivity(resolve(DATA / "ishigami.toml"), ["x1", "x2"], ["end:Y"], progress=False)
    assert local.attrs["failures"] == Failures(5, 0)
