"""The parameter table (models/parameters.tsv): the single source of truth for
every parameter's value, unit, source, evidence flag and plausible bounds."""

from __future__ import annotations

import pandas as pd

from thymosim.model import model_dir

COLUMNS = ["id", "value", "unit", "lower", "upper", "evidence", "source", "module", "description"]
EVIDENCE = ("measured", "derived", "fitted", "assumed")


def load_parameter_table() -> pd.DataFrame:
    """Read ``models/parameters.tsv`` indexed by parameter id."""
    table = pd.read_csv(model_dir() / "parameters.tsv", sep="\t", comment="#", dtype={"source": str})
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"parameters.tsv lacks column(s) {missing}; required: {COLUMNS}")
    return table.set_index("id")
