"""Naive and memory T cells, the thymus and age (models/modules/tcells.ant)."""

import math

import numpy as np
import pytest

from thymosim import Patient, simulate
from thymosim.model import default_model
from thymosim.tables import load_parameter_table


def thymic_output(age: float) -> tuple[float, float]:
    """The model's thymic output of naive CD4 and CD8 cells [cells/uL/day] of the default patient at ``age``."""
    model = default_model()
    rr = model.reset(model.values(Patient(age=age)))
    return rr["TC_q_thy4"] * rr["TC_thy4"], rr["TC_q_thy8"] * rr["TC_thy8"]


def test_thymic_output_at_70_is_below_that_at_30_by_the_sourced_ratio():
    """Thymic epithelial space falls about 3 %/year until middle age (45) and about 1 %/year after it
    (Steinmann 1985, as summarised by Haynes 2000): from 30 to 70 years 15 years at 3 % and 25 at 1 %,
    exp(-0.45 - 0.25) = 0.50 of the output at 30."""
    table = load_parameter_table().value
    assert (table.TC_k_thy_young, table.TC_k_thy_old, table.TC_age_mid) == (0.03, 0.01, 45)
    expected = math.exp(-0.03 * (45 - 30) - 0.01 * (70 - 45))
    assert expected == pytest.approx(0.497, abs=1e-3)
    for young, old in zip(thymic_output(30), thymic_output(70), strict=True):
        assert old / young == pytest.approx(expected, rel=1e-6)


def test_age_moves_thymic_output_not_the_baseline():
    """The baseline counts and their naive/memory split are the patient's at every age; only the split of
    naive production between thymus and division changes."""
    model = default_model()
    keys = ("CD4", "CD8", "CD4_naive", "CD4_mem", "CD8_naive", "CD8_mem", "TC_s_thy_age", "TC_p_N4")
    young, old = ({k: model.reset(model.values(Patient(age=a)))[k] for k in keys} for a in (30, 70))
    for key in keys[:6]:
        assert young[key] == pytest.approx(old[key], rel=1e-12), key
    assert young["TC_s_thy_age"] > old["TC_s_thy_age"]
    assert young["TC_p_N4"] < old["TC_p_N4"]


def test_phenotype_outputs_add_up_and_match_the_baseline_shares():
    """Naive + memory = CD4 (and CD8); the baseline shares are the table's; CD4/CD8 ratio and CD4 share of CD3
    are the counts' ratios."""
    table = load_parameter_table().value
    df = simulate(Patient(), horizon=10, step=5)
    np.testing.assert_allclose(df.CD4_naive + df.CD4_memory, df.CD4, rtol=1e-9)
    np.testing.assert_allclose(df.CD8_naive + df.CD8_memory, df.CD8, rtol=1e-9)
    assert df.CD4_naive_share.iloc[0] == pytest.approx(table.TC_f_naive4)
    assert df.CD8_naive_share.iloc[0] == pytest.approx(table.TC_f_naive8)
    np.testing.assert_allclose(df.CD4_naive_share + df.CD4_memory_share, 1.0, rtol=1e-9)
    np.testing.assert_allclose(df.CD4_CD8_ratio, df.CD4 / df.CD8, rtol=1e-9)
    np.testing.assert_allclose(df.CD4_CD3_share, df.CD4 / df.CD3, rtol=1e-9)
    assert df.CD4_CD8_ratio.iloc[0] == pytest.approx(244.5 / 159.0)


@pytest.mark.parametrize("age", [0.0, -5.0, 121.0])
def test_bad_age_is_refused_naming_the_field(age):
    with pytest.raises(ValueError, match="Patient.age"):
        Patient(age=age)


def hakim_course(age: float):
    """The typical patient of ``age`` through the Hakim setting (calibration_targets.toml hakim_1997), and the
    targets: time [day] indexed course, the end of chemotherapy [day] and the section."""
    from dataclasses import replace

    from thymosim.scenario import named
    from thymosim.tables import calibration_targets

    targets = calibration_targets()["hakim_1997"]
    course = replace(named(targets["scenario"]), patient=Patient(age=age)).simulate().set_index("time")
    return course, float(targets["end_of_chemotherapy_day"]), targets


def change(course, column: str, day: float) -> float:
    """Percent change of ``column`` from its baseline at ``day``."""
    return 100.0 * (float(course.loc[day, column]) / float(course[column].iloc[0]) - 1.0)


def test_dose_intense_chemotherapy_lowers_the_naive_share_of_cd4_more_than_the_memory_share():
    """After dose-intense chemotherapy the naive share of CD4 falls and the memory share rises (Hakim 1997:
    naive cells lost more than total CD4), and the naive count falls by more than the memory count."""
    course, end, _ = hakim_course(63.0)
    base = course.iloc[0]
    after = course.loc[end]
    assert after.CD4_naive_share < base.CD4_naive_share - 0.1
    assert after.CD4_memory_share > base.CD4_memory_share + 0.1
    assert change(course, "CD4_naive", end) < change(course, "CD4_memory", end) - 20


def test_memory_cd4_expands_to_a_peak_at_3_to_6_months_then_declines():
    """Train rows of the hand-set lymphopenia parameters (TC_p_LIP_M, TC_k_act, TC_f_AICD)."""
    course, end, targets = hakim_course(63.0)
    memory = course.CD4_memory.loc[end:]
    peak = (memory.idxmax() - end) / 30.4375
    lo, hi = targets["memory_peak_months"]
    assert lo <= peak <= hi
    first, later = (end + m * 30.4375 for m in targets["memory_decline_months"])
    assert memory.loc[round(later)] < memory.loc[round(first)]
    assert memory.max() > 1.2 * memory.loc[end]  # an expansion, not a plateau


def test_naive_cd4_recovers_faster_in_a_30_than_in_a_70_year_old():
    young, end, _ = hakim_course(30.0)
    old, _, _ = hakim_course(70.0)
    for day in (end + 365, end + 730):
        assert change(young, "CD4_naive", day) > change(old, "CD4_naive", day) + 5
    assert change(old, "CD4_naive", end + 730) < -50  # months to years in adults: below half at 2 years


def test_hakim_naive_cd4_still_below_half_at_24_months():
    course, end, targets = hakim_course(63.0)
    assert change(course, "CD4_naive", end + 730) <= targets["naive_24mo_change_max"]


@pytest.mark.xfail(strict=True, reason="known model failure: the stand-in regimen (ifosfamide 2 g/m2 x 3 days, 4 "
                   "cycles) lowers CD4 by 52 % and naive CD4 by 73 % in the typical patient, Hakim 1997 > 60 % and "
                   "> 90 %: the naive selectivity of the kill (TC_f_kill_M = 1, no sourced value) is not modelled")
def test_hakim_depletion_at_the_end_of_chemotherapy():
    course, end, targets = hakim_course(63.0)
    assert change(course, "CD4", end) <= targets["cd4_change_max"]
    assert change(course, "CD4_naive", end) <= targets["naive_change_max"]


@pytest.mark.xfail(strict=True, reason="known model failure: CD4 is back to 63 % of baseline 13 months after "
                   "chemotherapy in the typical patient, Hakim 1997 < 50 %: the depletion is too shallow (see the "
                   "test above) and the memory expansion refills CD4 too far")
def test_hakim_cd4_below_half_at_13_months():
    course, end, targets = hakim_course(63.0)
    assert change(course, "CD4", 480.0) <= targets["cd4_13mo_change_max"]


def test_a_scenario_file_sets_the_age_and_refuses_a_bad_one():
    from thymosim.scenario import Scenario, ScenarioError

    data = {"name": "aged", "horizon": 10, "doses": [{"drug": "thymalfasin", "amt": "1.6 mg"}]}
    assert Scenario.from_dict(data | {"patient": {"age": 70}}).patient.age == 70.0
    with pytest.raises(ScenarioError, match=r"Patient.age = 200 year; allowed: > 0 and at most 120 year"):
        Scenario.from_dict(data | {"patient": {"age": 200}})
