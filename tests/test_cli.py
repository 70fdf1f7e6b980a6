"""The main job writes its table and figure."""

import pandas as pd
import pytest

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


def test_scenarios_lists_named(capsys):
    main(["scenarios"])
    out = capsys.readouterr().out
    assert "prag_ta1_loading" in out and "cisplatin_vinorelbine" in out


def test_compare_overlays_and_writes_parquet(tmp_path):
    main(["compare", "prag", "prag_ta1", "--out", str(tmp_path), "--step", "1", "--parquet", "--quiet"])
    table = pd.read_parquet(tmp_path / "timecourse.parquet")
    assert set(table.scenario) == {"prag", "prag_ta1"}
    assert (tmp_path / "timecourse.png").stat().st_size > 50_000


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
    main(["sensitivity", "prag_ta1", "--method", "local", "--parameters", "PK_CL,TC_E_thy_TA1",
          "--endpoint", "auc_CD4", "--out", str(tmp_path / "local"), "--quiet"])
    local = pd.read_csv(tmp_path / "local" / "local_sensitivity.csv").set_index("parameter")
    assert local.loc["TC_E_thy_TA1", "sensitivity"] > 0 > local.loc["PK_CL", "sensitivity"]
    main(["sensitivity", "prag_ta1", "--method", "morris", "--n", "4", "--parameters", "PK_CL,TC_E_thy_TA1",
          "--endpoint", "auc_CD4", "--out", str(tmp_path / "morris"), "--quiet"])
    morris = pd.read_csv(tmp_path / "morris" / "morris_auc_CD4.csv", index_col=0)
    assert set(morris.index) == {"PK_CL", "TC_E_thy_TA1"} and (morris.mu_star >= 0).all()


def test_version_and_list_commands(capsys):
    import pytest

    import thymosim
    from thymosim.analysis.endpoints import DESCRIPTIONS, ENDPOINTS
    from thymosim.cli import main
    from thymosim.model import default_model

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"thymosim {thymosim.__version__}"
    assert set(DESCRIPTIONS) == set(ENDPOINTS)  # every built-in endpoint is described
    for what, expected in (("endpoints", list(ENDPOINTS)), ("drugs", list(default_model().drugs)),
                           ("outputs", list(default_model().outputs)),
                           ("parameters", list(default_model().defaults))):
        main(["list", what])
        names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
        assert set(expected) <= set(names), what
