"""Edits of the committed SBML text for tests (attribute order independent)."""

import re


def set_pk_cl(sbml: str, value: str) -> str:
    """The SBML with parameter PK_CL's value attribute replaced (76.33 L/day in the table)."""
    edited, n = re.subn(r'(<parameter [^>]*id="PK_CL"[^>]*value=")[^"]*"', rf'\g<1>{value}"', sbml)
    assert n == 1, "PK_CL not found in the SBML"
    return edited
