"""The model-selection table of the Ta1 T-cell hypotheses: reproduced by its command (on a reduced
problem here; the full table is committed under docs/validation/ta1_selection/ and written by
``python -m thymosim.analysis.selection --out docs/validation/ta1_selection``), quoted on the
documentation page as written, and the table's chosen variant is the model's default."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thymosim.analysis import clinical_fit as cf
from thymosim.analysis import selection
from thymosim.tables import load_parameter_table

ROOT = Path(__file__).parents[1]
COMMITTED = ROOT / "docs" / "validation" / "ta1_selection"
PAGE = ROOT / "docs" / "guide" / "ta1-hypotheses.md"
START, END = "<!-- selection table: start -->", "<!-- selection table: end -->"


def committed() -> pd.DataFrame:
    return pd.read_csv(COMMITTED / "selection.csv").set_index("variant")


def test_the_committed_table_covers_every_variant_of_the_toml():
    assert set(committed().index) == set(selection.variants())


def test_the_command_reproduces_a_committed_row_on_a_reduced_problem(tmp_path):
    """One variant, two starts, a coarse profile: the same best cost and effect size as the full run."""
    selection.main(["--out", str(tmp_path), "--variants", "redistribution", "--starts", "2", "--points", "2"])
    got = pd.read_csv(tmp_path / "selection.csv").set_index("variant").loc["redistribution"]
    want = committed().loc["redistribution"]
    assert got.cost == pytest.approx(want.cost, rel=1e-3, abs=1e-3)
    assert got.TC_E_share == pytest.approx(want.TC_E_share, rel=1e-2)
    assert got.rows_met == want.rows_met
    for column in ("CD3_d14", "CD4_d180", "gain_lymphopenic", "salvati_CD4_d42"):
        assert got[column] == pytest.approx(want[column], rel=1e-2, abs=0.1), column
    assert (tmp_path / "selection.md").read_text(encoding="utf-8").startswith("| Variant |")


def test_the_page_quotes_the_committed_table_as_written():
    text = PAGE.read_text(encoding="utf-8")
    block = text.split(START)[1].split(END)[0].strip()
    table = committed().reset_index().sort_values("AIC", ignore_index=True)
    assert block == selection.markdown(table).strip()
    assert block == (COMMITTED / "selection.md").read_text(encoding="utf-8").strip()


def test_criteria_follow_from_the_cost():
    """AIC, BIC and log L as the module docstring defines them, recomputed from the train rows."""
    targets = cf.count_targets("train")
    table = committed()
    n = len(targets)
    sd = np.where(targets.kind == "value", cf.LOG_SD, cf.HINGE_SD)
    const = -np.sum(np.log(sd * np.sqrt(2 * np.pi))) - np.sum(np.log(targets.value[targets.kind == "value"]))
    for _, row in table.iterrows():
        loglik = -row.cost + const
        assert row.loglik == pytest.approx(loglik, abs=1e-3)
        assert row.AIC == pytest.approx(2 * row.k - 2 * loglik, abs=1e-3)
        assert row.BIC == pytest.approx(row.k * np.log(n) - 2 * loglik, abs=1e-3)


def test_the_default_model_is_the_selected_variant():
    """parameters.tsv holds the best variant's fitted effect sizes and 0 for every hypothesis it leaves out."""
    table = committed()
    best = table.index[table.kept.astype(bool)][0]
    assert best == selection.kept(table.reset_index())
    members = selection.variants()[best]
    params = load_parameter_table()
    for name, h in selection.hypotheses().items():
        pid = h["parameter"]
        expected = float(table.loc[best, pid]) if name in members else 0.0
        assert float(params.value[pid]) == pytest.approx(expected, rel=1e-3, abs=1e-9), pid


def test_met_reads_each_kind_of_row():
    rows = pd.DataFrame({"kind": ["value", "value", "change_max", "change_min"], "value": [100.0, 100.0, -20.0, -10.0]})
    got = selection.met(rows, np.array([109.0, 120.0, -25.0, -44.0]))
    assert got.tolist() == [True, False, True, False]


def test_the_pages_prose_quotes_the_committed_numbers():
    table = committed()
    rows = pd.read_csv(COMMITTED / "selection_rows.csv").set_index(["variant", "id"]).model
    red, none = table.loc["redistribution"], table.loc["none"]
    text = " ".join(PAGE.read_text(encoding="utf-8").split())
    for quoted in (f"{none.AIC - red.AIC:.1f}", f"{red.TC_E_share:.4g}", f"{red.CD4_d180:.1f} %",
                   f"{red.CD4_d365:.1f} %", f"{table.salvati_CD4_d42.max():.1f} %", f"{red.swing_maint:.1f} %",
                   f"{red.gain_lymphopenic:.1f} %", f"CD3 {rows['redistribution', 'seed_t1_cd3']:.0f} against",
                   f"NK row {rows['redistribution_il2', 'salvati_ta1_nk']:.1f} % instead of "
                   f"{rows['redistribution', 'salvati_ta1_nk']:.2f} %", f"meets {red.rows_met} of the {red.rows} rows"):
        assert quoted in text, quoted
    calibration = " ".join((ROOT / "docs" / "guide" / "calibration.md").read_text(encoding="utf-8").split())
    assert f"−{abs(table.salvati_CD4_d42.max()):.0f} %" in calibration
    assert f"−{abs(red.salvati_CD4_d42):.0f} % (vs ≥ −10 % required" in calibration
    day9 = [rows["redistribution", f"seed_t1_{c}"] for c in ("cd3", "cd8", "cd4")]
    assert "CD3 {:.0f} and CD8 {:.0f} match, CD4 {:.0f}".format(*day9) in calibration
