"""Claims held against a table of per-patient, per-arm endpoints (the agents table): each claim of
``models/data/comparators.toml`` is a list of checks, each reading one number (or an arm label) from the
table and comparing it with a threshold; a claim is supported when every check holds."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence

import pandas as pd

from thymosim.analysis import recist

COMPARE = {"<": operator.lt, ">": operator.gt, "==": operator.eq}


def threshold(check: Mapping) -> float | str:
    """A check's threshold: a number or arm label, or ``"recist.NAME"`` for a RECIST rule's constant
    (so that no data file retypes a RECIST threshold)."""
    value = check["threshold"]
    if isinstance(value, str) and value.startswith("recist."):
        name = value.removeprefix("recist.")
        if not isinstance(getattr(recist, name, None), float):
            raise KeyError(f"claim threshold {value!r}: recist has no constant {name!r}")
        return float(getattr(recist, name))
    return value


def _cell(table: pd.DataFrame, patient: str, arm: str, column: str) -> float:
    rows = table[(table.patient == patient) & (table.arm == arm)]
    if rows.empty:
        raise KeyError(f"the table has no row for patient {patient!r}, arm {arm!r}")
    return float(rows.iloc[0][column])


def measure(table: pd.DataFrame, check: Mapping, reference_arm: str) -> float | str:
    """The number (or, for ``argmax``, the arm label) a check reads from ``table``."""
    quantity, column = check["quantity"], check["column"]
    patient = check.get("patient", "typical")
    if quantity == "argmax":
        rows = table[table.patient == patient].set_index("arm")[column]
        return str(rows.loc[list(check.get("arms", rows.index))].idxmax())
    if quantity == "max":
        return max(_cell(table, p, a, column) for p in check.get("patients", [patient])
                   for a in check.get("arms", [check.get("arm")]))
    value = _cell(table, patient, check["arm"], column)
    if quantity == "value":
        return value
    other = _cell(table, patient, check.get("of", reference_arm), column)
    if quantity == "difference":
        return value - other
    ratio = value / other
    return ratio if quantity == "ratio" else abs(ratio - 1.0)


def describe(check: Mapping, got: float | str, reference_arm: str) -> str:
    """One check and what the model gives, in words (e.g. ``ratio of days_ANC_below_500 ...``)."""
    patient = check.get("patient", "typical")
    if check["quantity"] == "argmax":
        what = f"arm with the highest {check['column']} ({patient})"
    elif check["quantity"] == "max":
        what = (f"highest {check['column']} of {', '.join(check.get('arms', []))} "
                f"({', '.join(check.get('patients', [patient]))})")
    elif check["quantity"] == "value":
        what = f"{check['column']} with {check['arm']} ({patient})"
    else:
        of = check.get("of", reference_arm)
        what = {"ratio": f"{check['column']} with {check['arm']} / {of}",
                "change": f"|{check['column']} with {check['arm']} / {of} - 1|",
                "difference": f"{check['column']} with {check['arm']} - {of}"}[check["quantity"]] + f" ({patient})"
    shown = got if isinstance(got, str) else f"{got:.4g}"
    return f"{what} = {shown} (claim: {check['comparison']} {threshold(check)})"


def evaluate(table: pd.DataFrame, claims: Sequence[Mapping], reference_arm: str) -> pd.DataFrame:
    """One row per claim: ``id``, ``claim``, ``source``, ``verdict`` (supported / contradicted), ``model``
    (each check with the model's number), ``note`` (by construction, or where the model fails)."""
    rows = []
    for claim in claims:
        results = [(check, measure(table, check, reference_arm)) for check in claim["checks"]]
        holds = all(COMPARE[c["comparison"]](got, threshold(c)) for c, got in results)
        notes = []
        if claim.get("by_construction"):
            notes.append(f"holds by construction: {claim.get('note', '')}".rstrip(": "))
        elif claim.get("note"):
            notes.append(claim["note"])
        if claim.get("known_failure") and not holds:
            notes.append(f"Where this fails: {claim['known_failure']}")
        rows.append({"id": claim["id"], "claim": claim["text"], "source": claim["source"],
                     "verdict": "supported" if holds else "contradicted",
                     "model": "; ".join(describe(c, got, reference_arm) for c, got in results),
                     "note": " ".join(" ".join(notes).split())})
    return pd.DataFrame(rows)
