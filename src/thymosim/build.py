"""Build the committed SBML (models/thymosim.xml) from the Antimony modules and
the parameter table: flat SBML Level 3 Version 2, time in days, parameter units,
and model notes naming each parameter's source.

Run ``python -m thymosim.build`` after editing ``models/``; a test fails when the
committed SBML is out of date.
"""

from __future__ import annotations

import html

import libsbml

from thymosim.model import antimony_to_sbml, sbml_path
from thymosim.parameters import load_parameter_table

# unit string in parameters.tsv -> (SBML unit id, [(kind, exponent, scale, multiplier)])
UNIT_DEFINITIONS: dict[str, tuple[str, list[tuple[int, int, int, float]]]] = {
    "day": ("day", [(libsbml.UNIT_KIND_SECOND, 1, 0, 86400.0)]),
    "1/day": ("per_day", [(libsbml.UNIT_KIND_SECOND, -1, 0, 1 / 86400.0)]),
    "cells/uL": ("cells_per_uL", [(libsbml.UNIT_KIND_ITEM, 1, 0, 1.0), (libsbml.UNIT_KIND_LITRE, -1, -6, 1.0)]),
    "mm": ("mm", [(libsbml.UNIT_KIND_METRE, 1, -3, 1.0)]),
    "pM": ("pM", [(libsbml.UNIT_KIND_MOLE, 1, -12, 1.0), (libsbml.UNIT_KIND_LITRE, -1, 0, 1.0)]),
    "L": ("L", [(libsbml.UNIT_KIND_LITRE, 1, 0, 1.0)]),
    "L/day": ("L_per_day", [(libsbml.UNIT_KIND_LITRE, 1, 0, 1.0), (libsbml.UNIT_KIND_SECOND, -1, 0, 1 / 86400.0)]),
    "ng/mL": ("ng_per_mL", [(libsbml.UNIT_KIND_GRAM, 1, -9, 1.0), (libsbml.UNIT_KIND_LITRE, -1, -3, 1.0)]),
    "mg/day": ("mg_per_day", [(libsbml.UNIT_KIND_GRAM, 1, -3, 1.0), (libsbml.UNIT_KIND_SECOND, -1, 0, 1 / 86400.0)]),
    "L/mg": ("L_per_mg", [(libsbml.UNIT_KIND_LITRE, 1, 0, 1.0), (libsbml.UNIT_KIND_GRAM, -1, -3, 1.0)]),
    "L/(mg*day)": (
        "L_per_mg_per_day",
        [(libsbml.UNIT_KIND_LITRE, 1, 0, 1.0), (libsbml.UNIT_KIND_GRAM, -1, -3, 1.0),
         (libsbml.UNIT_KIND_SECOND, -1, 0, 1 / 86400.0)],
    ),
    "MU": ("MU", [(libsbml.UNIT_KIND_DIMENSIONLESS, 1, 6, 1.0)]),
    "ug": ("ug", [(libsbml.UNIT_KIND_GRAM, 1, -6, 1.0)]),
    "mg/L": ("mg_per_L", [(libsbml.UNIT_KIND_GRAM, 1, -3, 1.0), (libsbml.UNIT_KIND_LITRE, -1, 0, 1.0)]),
    "Gy/day": ("Gy_per_day", [(libsbml.UNIT_KIND_GRAY, 1, 0, 1.0), (libsbml.UNIT_KIND_SECOND, -1, 0, 1 / 86400.0)]),
    "1/Gy": ("per_Gy", [(libsbml.UNIT_KIND_GRAY, -1, 0, 1.0)]),
    "dimensionless": ("dimensionless", []),
}


def _add_unit_definitions(model: libsbml.Model) -> None:
    for unit_id, parts in UNIT_DEFINITIONS.values():
        if not parts or model.getUnitDefinition(unit_id) is not None:
            continue
        definition = model.createUnitDefinition()
        definition.setId(unit_id)
        for kind, exponent, scale, multiplier in parts:
            unit = definition.createUnit()
            unit.setKind(kind)
            unit.setExponent(exponent)
            unit.setScale(scale)
            unit.setMultiplier(multiplier)


def _notes(table) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(pid)}</td><td>{row.value:g}</td><td>{html.escape(row.unit)}</td>"
        f"<td>{row.evidence}</td><td>{html.escape(str(row.source))}</td></tr>"
        for pid, row in table.iterrows()
    )
    return (
        '<body xmlns="http://www.w3.org/1999/xhtml">'
        "<p>thymosim: mechanistic QSP model of thymalfasin (thymosin alpha 1) restoring immune "
        "function after chemotherapy. Research model, not for clinical decisions. Time in days; "
        "blood counts in cells/uL; cytokines in pM; Ta1 in ng/mL. Parameters marked with a zero "
        "rate rule are derived at t0 so that the untreated patient starts at steady state.</p>"
        "<table><tr><th>parameter</th><th>value</th><th>unit</th><th>evidence</th><th>source</th></tr>"
        f"{rows}</table></body>"
    )


def build_sbml() -> str:
    """Flat SBML L3V2 of the composed model with units and parameter sources."""
    document = libsbml.readSBMLFromString(antimony_to_sbml())
    if document.getLevel() != 3 or document.getVersion() != 2:
        document.setLevelAndVersion(3, 2)
    model = document.getModel()
    table = load_parameter_table()
    _add_unit_definitions(model)
    model.setTimeUnits("day")
    for pid, row in table.iterrows():
        parameter = model.getParameter(pid)
        if parameter is None:
            raise KeyError(f"parameters.tsv row {pid!r} is not a model parameter")
        parameter.setUnits(UNIT_DEFINITIONS[row.unit][0])
    model.setNotes(_notes(table))
    return libsbml.writeSBMLToString(document)


def main() -> None:
    sbml_path().write_text(build_sbml())
    print(f"wrote {sbml_path()}")


if __name__ == "__main__":
    main()
