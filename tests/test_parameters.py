"""The parameter table is complete and agrees with the model."""

import numpy as np

from thymosim.model import default_parameters
from thymosim.sbml.units import UNIT_DEFINITIONS
from thymosim.tables import EVIDENCE, load_parameter_table


def test_every_model_parameter_has_a_row_and_every_row_a_parameter():
    table = load_parameter_table()
    assert sorted(table.index) == sorted(default_parameters())
    assert table.index.is_unique


def test_rows_have_unit_source_flag_and_bounds():
    table = load_parameter_table()
    for pid, row in table.iterrows():
        assert row.unit in UNIT_DEFINITIONS, f"{pid}: unit {row.unit!r}"
        assert isinstance(row.source, str) and len(row.source) > 5, f"{pid}: source"
        assert row.evidence in EVIDENCE, f"{pid}: evidence {row.evidence!r}"
        assert isinstance(row.description, str) and row.description, f"{pid}: description"
        assert row.lower <= row.value <= row.upper, f"{pid}: {row.lower} <= {row.value} <= {row.upper}"
        assert row.lower < row.upper, f"{pid}: empty range"


def test_table_values_equal_model_values():
    table = load_parameter_table()
    model = default_parameters()
    for pid, row in table.iterrows():
        assert np.isclose(model[pid], row.value, rtol=1e-12), f"{pid}: model {model[pid]} table {row.value}"
