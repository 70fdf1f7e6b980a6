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
    """Naive + memory = CD4 (and CD8); the baseline shares are the table's; CD4/CD8 ratio and helper share
    are the counts' ratios."""
    table = load_parameter_table().value
    df = simulate(Patient(), horizon=10, step=5)
    np.testing.assert_allclose(df.CD4_naive + df.CD4_memory, df.CD4, rtol=1e-9)
    np.testing.assert_allclose(df.CD8_naive + df.CD8_memory, df.CD8, rtol=1e-9)
    assert df.CD4_naive_share.iloc[0] == pytest.approx(table.TC_f_naive4)
    assert df.CD8_naive_share.iloc[0] == pytest.approx(table.TC_f_naive8)
    np.testing.assert_allclose(df.CD4_naive_share + df.CD4_memory_share, 1.0, rtol=1e-9)
    np.testing.assert_allclose(df.CD4_CD8_ratio, df.CD4 / df.CD8, rtol=1e-9)
    np.testing.assert_allclose(df.helper_share, df.CD4 / df.CD3, rtol=1e-9)
    assert df.CD4_CD8_ratio.iloc[0] == pytest.approx(244.5 / 159.0)


@pytest.mark.parametrize("age", [0.0, -5.0, 121.0])
def test_bad_age_is_refused_naming_the_field(age):
    with pytest.raises(ValueError, match="Patient.age"):
        Patient(age=age)
