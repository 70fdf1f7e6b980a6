"""Build the committed SBML (models/thymosim.xml) from the Antimony modules and the
tables in ``models/``: flat SBML Level 3 Version 2 with declared, consistent units,
SBO terms and model notes naming each parameter's source.

Units. Time is in days. Parameters take their unit from ``parameters.tsv``, states
from ``variables.tsv``; a blood count (cells/uL) is an amount of cells in a 1 uL
blood compartment, a cytokine (pM) an amount in pmol in a 1 L compartment, drug
amounts and fractions are amounts. Units of derived parameters are inferred from
their defining expressions. Reactions mix cells, pmol, ug and mg, so the extent is
dimensionless and each species has a conversion factor of 1 carrying its substance
unit ("one extent is one cell, one pmol, ..."); every kinetic law is written as
compartment * rate / conversion factor, which changes no number. Literal numbers are
dimensionless, except the zero of a derived constant's ``x' = 0``.

Run ``python -m thymosim.build`` after editing ``models/``; a test fails when the
committed SBML is out of date.
"""

from __future__ import annotations

import html
import re
from collections import Counter

import libsbml
import pandas as pd

from thymosim.model import antimony_to_sbml, model_dir, sbml_path
from thymosim.parameters import load_parameter_table

_S, _G, _L = libsbml.UNIT_KIND_SECOND, libsbml.UNIT_KIND_GRAM, libsbml.UNIT_KIND_LITRE
# unit string in the tables -> (SBML unit id, [(kind, exponent, scale, multiplier)])
UNIT_DEFINITIONS: dict[str, tuple[str, list[tuple[int, int, int, float]]]] = {
    "day": ("day", [(_S, 1, 0, 86400.0)]),
    "1/day": ("per_day", [(_S, -1, 0, 86400.0)]),
    "cells/uL": ("cells_per_uL", [(libsbml.UNIT_KIND_ITEM, 1, 0, 1.0), (_L, -1, -6, 1.0)]),
    "cells": ("cells", [(libsbml.UNIT_KIND_ITEM, 1, 0, 1.0)]),
    "uL": ("uL", [(_L, 1, -6, 1.0)]),
    "mm": ("mm", [(libsbml.UNIT_KIND_METRE, 1, -3, 1.0)]),
    "mL": ("mL", [(libsbml.UNIT_KIND_METRE, 3, -2, 1.0)]),  # cm3, so that a cube root is a length
    "pM": ("pM", [(libsbml.UNIT_KIND_MOLE, 1, -12, 1.0), (_L, -1, 0, 1.0)]),
    "pmol": ("pmol", [(libsbml.UNIT_KIND_MOLE, 1, -12, 1.0)]),
    "L": ("L", [(_L, 1, 0, 1.0)]),
    "L/day": ("L_per_day", [(_L, 1, 0, 1.0), (_S, -1, 0, 86400.0)]),
    "ng/mL": ("ng_per_mL", [(_G, 1, -9, 1.0), (_L, -1, -3, 1.0)]),
    "mg": ("mg", [(_G, 1, -3, 1.0)]),
    "mg/day": ("mg_per_day", [(_G, 1, -3, 1.0), (_S, -1, 0, 86400.0)]),
    "L/mg": ("L_per_mg", [(_L, 1, 0, 1.0), (_G, -1, -3, 1.0)]),
    "L/(mg*day)": ("L_per_mg_per_day", [(_L, 1, 0, 1.0), (_G, -1, -3, 1.0), (_S, -1, 0, 86400.0)]),
    "MU": ("MU", [(libsbml.UNIT_KIND_DIMENSIONLESS, 1, 6, 1.0)]),
    "ug": ("ug", [(_G, 1, -6, 1.0)]),
    "mg/L": ("mg_per_L", [(_G, 1, -3, 1.0), (_L, -1, 0, 1.0)]),
    "Gy/day": ("Gy_per_day", [(libsbml.UNIT_KIND_GRAY, 1, 0, 1.0), (_S, -1, 0, 86400.0)]),
    "1/Gy": ("per_Gy", [(libsbml.UNIT_KIND_GRAY, -1, 0, 1.0)]),
    "dimensionless": ("dimensionless", []),
    # units of derived parameters (inferred from their expressions, named here)
    "cells/uL/day": ("cells_per_uL_per_day", [(libsbml.UNIT_KIND_ITEM, 1, 0, 1.0), (_L, -1, -6, 1.0),
                                              (_S, -1, 0, 86400.0)]),
    "pM/day": ("pM_per_day", [(libsbml.UNIT_KIND_MOLE, 1, -12, 1.0), (_L, -1, 0, 1.0), (_S, -1, 0, 86400.0)]),
    "pM/(cells/uL)/day": ("pM_per_cells_per_uL_per_day", [
        (libsbml.UNIT_KIND_MOLE, 1, -12, 1.0), (_L, -1, 0, 1.0), (libsbml.UNIT_KIND_ITEM, -1, 0, 1.0),
        (_L, 1, -6, 1.0), (_S, -1, 0, 86400.0)]),
    "uL/(cells*day)": ("uL_per_cells_per_day", [(_L, 1, -6, 1.0), (libsbml.UNIT_KIND_ITEM, -1, 0, 1.0),
                                                (_S, -1, 0, 86400.0)]),
}
# state unit -> (substance unit, compartment unit) for concentrations; amounts map to themselves
CONCENTRATIONS = {"cells/uL": ("cells", "uL"), "pM": ("pmol", "L")}

SBO_PARAMETER, SBO_KINETIC_CONSTANT, SBO_COMPARTMENT = "SBO:0000002", "SBO:0000009", "SBO:0000410"
SBO_CONVERSION, SBO_DEGRADATION, SBO_PRODUCTION = "SBO:0000182", "SBO:0000179", "SBO:0000393"


def load_variable_table() -> pd.DataFrame:
    """``models/variables.tsv`` (states and scaled derived quantities) indexed by flat id:
    unit, SBO term, description."""
    return pd.read_csv(model_dir() / "variables.tsv", sep="\t", comment="#").set_index("id")


def _definition(parts: list[tuple[int, int, int, float]]) -> libsbml.UnitDefinition:
    definition = libsbml.UnitDefinition(3, 2)
    for kind, exponent, scale, multiplier in parts:
        part = definition.createUnit()
        part.setKind(kind)
        part.setExponent(exponent)
        part.setScale(scale)
        part.setMultiplier(multiplier)
    return definition


def _si(definition: libsbml.UnitDefinition) -> tuple[dict[int, float], float]:
    """(kind -> exponent, overall factor) of a unit in SI base units."""
    si = libsbml.UnitDefinition.convertToSI(definition)
    exponents: dict[int, float] = {}
    factor = 1.0
    for u in si.getListOfUnits():
        factor *= (u.getMultiplier() * 10 ** u.getScale()) ** u.getExponentAsDouble()
        if u.getKind() != libsbml.UNIT_KIND_DIMENSIONLESS:
            exponents[u.getKind()] = exponents.get(u.getKind(), 0) + u.getExponentAsDouble()
    return {k: e for k, e in exponents.items() if e}, factor


def _same_unit(a: libsbml.UnitDefinition, b: libsbml.UnitDefinition) -> bool:
    (ka, fa), (kb, fb) = _si(a), _si(b)
    return ka == kb and abs(fa - fb) <= 1e-9 * abs(fb)


def _unit_id(model: libsbml.Model, unit: str) -> str:
    unit_id, parts = UNIT_DEFINITIONS[unit]
    if parts and model.getUnitDefinition(unit_id) is None:
        definition = _definition(parts)
        definition.setId(unit_id)
        model.addUnitDefinition(definition)
    return unit_id


def _unit_for(model: libsbml.Model, derived: libsbml.UnitDefinition) -> str:
    """Id of a unit definition equivalent to ``derived``, created (with a descriptive id) if needed."""
    libsbml.UnitDefinition.simplify(derived)
    if all(u.getKind() == libsbml.UNIT_KIND_DIMENSIONLESS for u in derived.getListOfUnits()):
        return "dimensionless"
    for existing in model.getListOfUnitDefinitions():
        if _same_unit(existing, derived):
            return existing.getId()
    for unit, (_, parts) in UNIT_DEFINITIONS.items():
        if parts and _same_unit(_definition(parts), derived):
            return _unit_id(model, unit)
    parts = []
    for u in derived.getListOfUnits():
        factor = u.getMultiplier() * 10 ** u.getScale()
        part = (f"{factor:g}_" if factor != 1 else "") + libsbml.UnitKind_toString(u.getKind())
        parts.append(part + (f"_pow{u.getExponent():g}" if u.getExponent() != 1 else ""))
    unit_id = "u_" + re.sub(r"[^A-Za-z0-9_]", lambda c: {"-": "m", ".": "p"}.get(c.group(), ""), "__".join(parts))
    definition = derived.clone()
    definition.setId(unit_id)
    model.addUnitDefinition(definition)
    return unit_id


def _set_literal_units(node: libsbml.ASTNode, unit: str) -> None:
    if node.isNumber() and not node.hasUnits():
        node.setUnits(unit)
    for i in range(node.getNumChildren()):
        _set_literal_units(node.getChild(i), unit)


def _declare_units(model: libsbml.Model, table: pd.DataFrame, variables: pd.DataFrame) -> None:
    model.setTimeUnits(_unit_id(model, "day"))
    model.setExtentUnits("dimensionless")
    for pid, row in table.iterrows():
        parameter = model.getParameter(pid)
        if parameter is None:
            raise KeyError(f"parameters.tsv row {pid!r} is not a model parameter")
        parameter.setUnits(_unit_id(model, row.unit))
    for vid, row in variables.iterrows():
        if model.getParameter(vid) is not None:
            model.getParameter(vid).setUnits(_unit_id(model, row.unit))
        elif model.getSpecies(vid) is None:
            raise KeyError(f"variables.tsv row {vid!r} is not a model species or parameter")
    scale = {}  # species id -> kinetic-law factors turning its rate into extent per day
    for s in model.getListOfSpecies():
        if s.getId() not in variables.index:
            raise KeyError(f"species {s.getId()!r} has no row in models/variables.tsv")
        unit = variables.unit[s.getId()]
        substance, volume = CONCENTRATIONS.get(unit, (unit, "dimensionless"))
        compartment = model.getCompartment(s.getCompartment())
        if compartment.isSetUnits() and compartment.getUnits() != _unit_id(model, volume):
            raise ValueError(f"compartment {compartment.getId()!r} holds states of different units")
        compartment.setUnits(_unit_id(model, volume))
        s.setSubstanceUnits(_unit_id(model, substance))
        factor = []
        if volume != "dimensionless" and not s.getHasOnlySubstanceUnits():
            factor.append(f"* {compartment.getId()}")
        if substance != "dimensionless":
            conversion = f"extent_{_unit_id(model, substance)}"
            if model.getParameter(conversion) is None:
                p = model.createParameter()
                p.setId(conversion)
                p.setValue(1.0)
                p.setConstant(True)
                p.setUnits(_unit_id(model, substance))
                p.setSBOTerm(SBO_PARAMETER)
            s.setConversionFactor(conversion)
            factor.append(f"/ {conversion}")
        scale[s.getId()] = " ".join(factor)
    for c in model.getListOfCompartments():
        if not c.isSetUnits():
            c.setUnits("dimensionless")
    for r in model.getListOfReactions():
        participants = [x.getSpecies() for x in (*r.getListOfReactants(), *r.getListOfProducts())]
        factors = {scale[s] for s in participants}
        if len(factors) != 1:
            raise ValueError(f"reaction {r.getId()!r} mixes states of different units: {participants}")
        law = r.getKineticLaw()
        if factor := factors.pop():
            law.setMath(libsbml.parseL3Formula(f"({libsbml.formulaToL3String(law.getMath())}) {factor}"))
    for element in (*model.getListOfRules(), *model.getListOfInitialAssignments(),
                    *(r.getKineticLaw() for r in model.getListOfReactions())):
        math = element.getMath().deepCopy()
        _set_literal_units(math, "dimensionless")
        element.setMath(math)
    _infer_parameter_units(model)


def _infer_parameter_units(model: libsbml.Model) -> None:
    """Units of rule- and t0-derived parameters from their expressions; the zero of a
    derived constant's rate rule gets its variable's unit per day."""
    targets = [(r.getVariable(), r) for r in model.getListOfRules() if not r.isRate()]
    targets += [(a.getSymbol(), a) for a in model.getListOfInitialAssignments()]
    progress = True
    while progress:
        progress = False
        model.populateListFormulaUnitsData()
        for variable, element in targets:
            parameter = model.getParameter(variable)
            if parameter is None or parameter.isSetUnits() or element.containsUndeclaredUnits():
                continue
            parameter.setUnits(_unit_for(model, element.getDerivedUnitDefinition()))
            progress = True
    undeclared = [p.getId() for p in model.getListOfParameters() if not p.isSetUnits()]
    if undeclared:
        raise ValueError(f"cannot infer units of {undeclared}")
    model.populateListFormulaUnitsData()
    for rule in model.getListOfRules():
        if rule.isRate() and rule.getMath().isNumber() and rule.getMath().getValue() == 0:
            variable = model.getParameter(rule.getVariable()).getDerivedUnitDefinition()
            per_day = libsbml.UnitDefinition.combine(variable, _definition(UNIT_DEFINITIONS["1/day"][1]))
            math = rule.getMath().deepCopy()
            math.setUnits(_unit_for(model, per_day))
            rule.setMath(math)


def _sbo_terms(model: libsbml.Model, table: pd.DataFrame, variables: pd.DataFrame) -> None:
    for c in model.getListOfCompartments():
        c.setSBOTerm(SBO_COMPARTMENT)
    for vid, row in variables.iterrows():
        (model.getSpecies(vid) or model.getParameter(vid)).setSBOTerm(row.sbo)
    for r in model.getListOfReactions():
        reactants, products = r.getNumReactants(), r.getNumProducts()
        r.setSBOTerm(SBO_CONVERSION if reactants and products else SBO_DEGRADATION if reactants else SBO_PRODUCTION)
    for p in model.getListOfParameters():
        if not p.isSetSBOTerm():
            kinetic = p.getId() in table.index and table.unit[p.getId()] == "1/day"
            p.setSBOTerm(SBO_KINETIC_CONSTANT if kinetic else SBO_PARAMETER)


SOURCE_IDS = {  # citation in a parameters.tsv source -> identifiers.org URI
    r"PMID:? ?(\d+)": "https://identifiers.org/pubmed:{}",
    r"doi:(10\.\d{4,9}/[^\s,;)]+)": "https://identifiers.org/doi:{}",
    r"\b(PMC\d+)": "https://identifiers.org/pmc:{}",
}


def source_uris(source: str) -> list[str]:
    """identifiers.org URIs of the PMIDs, DOIs and PMC ids cited in a source text."""
    return [uri.format(match.rstrip(".")) for pattern, uri in SOURCE_IDS.items()
            for match in re.findall(pattern, source)]


def _source_annotations(model: libsbml.Model, table: pd.DataFrame) -> None:
    """bqbiol:isDescribedBy on each parameter whose source cites a PMID, DOI or PMC id."""
    for pid, row in table.iterrows():
        uris = source_uris(str(row.source))
        if not uris:
            continue
        parameter = model.getParameter(pid)
        if not parameter.isSetMetaId():
            parameter.setMetaId(f"meta_{pid}")
        term = libsbml.CVTerm(libsbml.BIOLOGICAL_QUALIFIER)
        term.setBiologicalQualifierType(libsbml.BQB_IS_DESCRIBED_BY)
        for uri in uris:
            term.addResource(uri)
        parameter.addCVTerm(term)


def _notes(table: pd.DataFrame) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(pid)}</td><td>{row.value:g}</td><td>{html.escape(row.unit)}</td>"
        f"<td>{row.evidence}</td><td>{html.escape(str(row.source))}</td></tr>"
        for pid, row in table.iterrows()
    )
    return (
        '<body xmlns="http://www.w3.org/1999/xhtml">'
        "<p>thymosim: mechanistic QSP model of thymalfasin (thymosin alpha 1) restoring immune "
        "function after chemotherapy. Research model, not for clinical decisions. Time in days; "
        "blood counts in cells/uL (cells in a 1 uL blood compartment); cytokines in pM; Ta1 in ng/mL. "
        "Parameters marked with a zero rate rule are derived at t0 so that the untreated patient "
        "starts at steady state. Extent is dimensionless: each species' conversion factor (value 1) "
        "carries its substance unit, and kinetic laws are divided by it.</p>"
        "<table><tr><th>parameter</th><th>value</th><th>unit</th><th>evidence</th><th>source</th></tr>"
        f"{rows}</table></body>"
    )


def build_sbml() -> str:
    """Flat SBML L3V2 of the composed model with units, SBO terms and parameter sources."""
    document = libsbml.readSBMLFromString(antimony_to_sbml())
    if document.getLevel() != 3 or document.getVersion() != 2:
        document.setLevelAndVersion(3, 2)
    model = document.getModel()
    table, variables = load_parameter_table(), load_variable_table()
    _declare_units(model, table, variables)
    _sbo_terms(model, table, variables)
    _source_annotations(model, table)
    model.setNotes(_notes(table))
    return libsbml.writeSBMLToString(document)


def sbml_consistency(sbml: str) -> Counter:
    """libsbml's full consistency check, units included: (severity, error id) -> count; empty
    when the model is valid and its units consistent. Use it on a file edited elsewhere."""
    document = libsbml.readSBMLFromString(sbml)
    document.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    document.checkConsistency()
    errors = (document.getError(i) for i in range(document.getNumErrors()))
    return Counter((e.getSeverity(), e.getErrorId()) for e in errors)


def main() -> None:
    sbml_path().write_text(build_sbml())
    print(f"wrote {sbml_path()}")


if __name__ == "__main__":
    main()
