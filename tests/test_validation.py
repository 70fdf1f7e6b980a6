"""Held against published results: the comparison logic and the seed's tables as rows."""

import numpy as np
import pandas as pd
import pytest

from thymosim.analysis.validation import compare, seed_rows


def test_seed_rows_take_repeated_numbers_from_the_clinical_targets_and_the_baseline(tmp_path):
    """models/data/seed_tables.tsv names a clinical target or a parameter instead of repeating its number:
    a changed target or baseline changes the seed row; a bad reference is an error naming row and field."""
    import shutil

    from thymosim.model import ModelError, model_dir
    from thymosim.tables import seed_tables

    rows = seed_rows()
    assert len(rows) == 18 and list(rows.columns) == ["table", "row", "scenario", "quantity", "kind", "day", "value",
                                                      "n", "role"]
    models = shutil.copytree(model_dir(), tmp_path / "models")
    targets = models / "data" / "clinical_targets.tsv"
    targets.write_text(targets.read_text(encoding="utf-8").replace("\t9\t614.0\t", "\t9\t615.5\t"), encoding="utf-8")
    parameters = models / "parameters.tsv"
    parameters.write_text(parameters.read_text(encoding="utf-8").replace("CD4_0\t244.5\t", "CD4_0\t250\t"),
                          encoding="utf-8")
    moved = seed_tables(models)
    changed = moved.value != rows.value
    assert sorted(moved.value[changed]) == [250.0, 615.5]
    seed = models / "data" / "seed_tables.tsv"
    text = seed.read_text(encoding="utf-8")
    seed.write_text(text.replace("seed_t1_cd4", "no_such_target"), encoding="utf-8")
    with pytest.raises(ModelError, match=r"seed_tables.tsv row seed3.target: 'no_such_target'"):
        seed_tables(models)
    seed.write_text(text.replace("\t-10.0\t11\ttrain", "\tminus ten\t11\ttrain", 1), encoding="utf-8")
    with pytest.raises(ModelError, match=r"row seed6.value: 'minus ten' is not a number"):
        seed_tables(models)


def test_a_published_rate_is_inside_when_a_trial_of_its_size_could_show_it():
    n = 400
    frame = pd.DataFrame({"recist": ["PR"] * 80 + ["SD"] * 240 + ["PD"] * 80})  # ORR 20 %, DCR 80 %
    runs = {"arm": frame}
    rows = pd.DataFrame({"scenario": "arm", "quantity": ["ORR", "ORR", "ORR", "DCR"], "kind": "rate",
                         "day": 168, "value": [25.0, 40.0, 25.0, 80.0], "n": [36, 36, np.nan, 36]},
                        index=["small", "far", "whole", "dcr"])
    out = compare(runs, rows)
    assert out.model["small"] == pytest.approx(20.0) and out.model["dcr"] == pytest.approx(80.0)
    assert out.inside["small"]  # 25 % is well within a 36-patient trial's spread around 20 %
    assert not out.inside["far"]
    assert out.n_resampled["whole"] == n and not out.inside["whole"]  # 400 patients: 25 % is outside
    assert out.model_lo["small"] < 20 < out.model_hi["small"]
    runs["arm"]["at:tumour_diameter@126"] = 30.0  # the arm's last scan is day 126, the rows say 168
    with pytest.raises(ValueError, match="not the last scan day"):
        compare(runs, rows)


def test_directional_rows_compare_the_median_change():
    frame = pd.DataFrame({"at:CD4@0": [100.0] * 5, "at:CD4@42": [50.0, 60.0, 70.0, 80.0, 95.0]})
    rows = pd.DataFrame({"scenario": "arm", "quantity": "CD4", "kind": ["change_max", "change_min"], "day": 42,
                         "value": [-20.0, -10.0], "n": 5}, index=["depressed", "not_depressed"])
    out = compare({"arm": frame}, rows)
    assert out.model["depressed"] == pytest.approx(-30.0)
    assert out.inside["depressed"] and not out.inside["not_depressed"]


@pytest.mark.slow
def test_the_readme_reproduction_table_is_what_the_command_gives():
    """The README's seed-table reproduction (200 virtual patients, seed 0) is rerun and every
    model number and interval it shows is found in the README section."""
    from pathlib import Path

    from thymosim.analysis.validation import reproduce

    text = Path(__file__).parents[1].joinpath("README.md").read_text(encoding="utf-8")
    section = text.split("## Virtual patients and in-silico trials")[1].split("\n## ")[0]
    rep = reproduce(200, seed=0, workers=2, scenarios=["cisplatin_vinorelbine_ta1"])
    table = rep.seed_tables

    def minus(x: str) -> str:
        return x.replace("-", "−")

    for row in table.itertuples():
        if row.kind == "value":
            shown = f"{row.model:.0f} ({row.model_lo:.0f}–{row.model_hi:.0f})"
        elif row.kind == "rate":
            shown = f"{row.model:.1f} % ({row.model_lo:.1f}–{row.model_hi:.1f})"
        else:
            shown = minus(f"{row.model:.0f} % ({row.model_lo:.0f} to {row.model_hi:.0f})")
        assert shown in section, f"README lacks {shown!r} ({row.row}, {row.quantity})"
    from thymosim.analysis.trial import Trial, summarise

    def power(a: str, b: str) -> float:
        frame = pd.concat([rep.runs[a], rep.runs[b]], ignore_index=True)
        return Trial(frame, summarise(frame), 0).power(36, 1000, "ORR", 0)["power"]

    chemo = power("cisplatin_vinorelbine", "cisplatin_vinorelbine_ta1")
    shown = (f"reaches p < 0.05 (Fisher, ORR) in {100 * power('prag', 'prag_ta1'):.0f} % of\n1000 trials of 36 per "
             f"arm, cisplatin + vinorelbine ± Tα1 in {100 * chemo:.0f} %")
    assert shown in section, shown
