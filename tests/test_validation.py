"""Held against published results: the comparison logic and the seed's tables as rows."""

import numpy as np
import pandas as pd
import pytest

from thymosim.analysis.validation import compare, seed_rows


def test_every_number_of_the_seed_tables_is_a_row():
    rows = seed_rows()
    assert (rows.table == "1").sum() == 12 and (rows.table == "2").sum() == 6
    assert {422.5, 614.0, 244.5, 284.5, 159.0, 222.5, 33.0, 10.0, 16.7, 46.3, 19.4, 69.4} <= set(rows.value)


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


def test_directional_rows_compare_the_median_change():
    frame = pd.DataFrame({"at:CD4@0": [100.0] * 5, "at:CD4@42": [50.0, 60.0, 70.0, 80.0, 95.0]})
    rows = pd.DataFrame({"scenario": "arm", "quantity": "CD4", "kind": ["change_max", "change_min"], "day": 42,
                         "value": [-20.0, -10.0], "n": 5}, index=["depressed", "not_depressed"])
    out = compare({"arm": frame}, rows)
    assert out.model["depressed"] == pytest.approx(-30.0)
    assert out.inside["depressed"] and not out.inside["not_depressed"]
