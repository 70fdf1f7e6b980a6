"""SBML units for the flat model: every compartment, species, parameter and literal gets a
declared unit, and libsbml's unit check passes with no warning.

Time is in days. Parameters take their unit from ``parameters.tsv``, states from
``variables.tsv``; a blood count (cells/uL) is an amount of cells in a 1 uL blood
compartment, a cytokine (pM) an amount in pmol in a 1 L compartment, drug amounts and
fractions are amounts. Units of derived parameters are inferred from their expressions
(named here when they are common). Reactions mix cells, pmol, ug and mg, so the extent is
dimensionless and each species has a conversion factor of 1 carrying its substance unit
("one extent is one cell, one pmol, ..."); every kinetic law is written as
compartment * rate / conversion factor, which changes no number. Literal numbers are
dimensionless, except the zero of a derived constant's ``x' = 0``.
"""

from __future__ import annotations

import re

import libsbml
import pandas as pd

from thymosim.model import ModelError, holds_constant
from thymosim.tables import load_sbml_units


def _kinds(units: dict[str, tuple[str, list[tuple[str, int, int, float]]]]
           ) -> dict[str, tuple[str, list[tuple[int, int, int, float]]]]:
    """The table's unit definitions with libsbml unit kinds; an unknown kind is a ModelError naming the unit."""
    out = {}
    for unit, (unit_id, parts) in units.items():
        resolved = []
        for kind, exponent, scale, multiplier in parts:
            code = libsbml.UnitKind_forName(kind)
            if code == libsbml.UNIT_KIND_INVALID:
                raise ModelError(f"sbml_units.tsv row {unit!r}.definition: unknown unit kind {kind!r}; allowed: SBML "
                                 "base units (second, litre, gram, metre, mole, item, gray, dimensionless, ...)")
            resolved.append((code, exponent, scale, multiplier))
        out[unit] = (unit_id, resolved)
    return out


# unit string in the tables -> (SBML unit id, [(kind, exponent, scale, multiplier)]): models/sbml_units.tsv
UNIT_DEFINITIONS: dict[str, tuple[str, list[tuple[int, int, int, float]]]] = _kinds(load_sbml_units())
# state unit -> (substance unit, compartment unit) for concentrations; amounts map to themselves
CONCENTRATIONS = {"cells/uL": ("cells", "uL"), "pM": ("pmol", "L")}


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
    """Id of the unit equal to ``derived``: a named one (UNIT_DEFINITIONS) if there is one,
    else a definition with a descriptive id (e.g. the pM/day^2 of a zero rate rule)."""
    libsbml.UnitDefinition.simplify(derived)
    if all(u.getKind() == libsbml.UNIT_KIND_DIMENSIONLESS for u in derived.getListOfUnits()):
        return "dimensionless"
    for unit, (_, parts) in UNIT_DEFINITIONS.items():
        if parts and _same_unit(_definition(parts), derived):
            return _unit_id(model, unit)
    for existing in model.getListOfUnitDefinitions():
        if _same_unit(existing, derived):
            return existing.getId()
    names = []
    for u in derived.getListOfUnits():
        factor = u.getMultiplier() * 10 ** u.getScale()
        name = (f"{factor:g}_" if factor != 1 else "") + libsbml.UnitKind_toString(u.getKind())
        names.append(name + (f"_pow{u.getExponent():g}" if u.getExponent() != 1 else ""))
    unit_id = "u_" + re.sub(r"[^A-Za-z0-9_]", lambda c: {"-": "m", ".": "p"}.get(c.group(), ""), "__".join(names))
    definition = derived.clone()
    definition.setId(unit_id)
    model.addUnitDefinition(definition)
    return unit_id


def _set_literal_units(node: libsbml.ASTNode, unit: str) -> None:
    if node.isNumber() and not node.hasUnits():
        node.setUnits(unit)
    for i in range(node.getNumChildren()):
        _set_literal_units(node.getChild(i), unit)


def declare_units(model: libsbml.Model, table: pd.DataFrame, variables: pd.DataFrame) -> None:
    """Declare every unit of ``model`` (in place): time, extent, parameters from ``table``
    (parameters.tsv), states from ``variables`` (variables.tsv), compartments, literals, derived
    parameters; rescale kinetic laws to extent per day. No simulated number changes."""
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
    _rescale_kinetic_laws(model, _declare_species_units(model, variables))
    for element in (*model.getListOfRules(), *model.getListOfInitialAssignments(),
                    *(r.getKineticLaw() for r in model.getListOfReactions())):
        math = element.getMath().deepCopy()
        _set_literal_units(math, "dimensionless")
        element.setMath(math)
    _infer_parameter_units(model)


def _declare_species_units(model: libsbml.Model, variables: pd.DataFrame) -> dict[str, str]:
    """Substance, compartment and conversion-factor units of every species; returns, per
    species, the factor turning its rate of change into extent per day."""
    factors = {}
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
            s.setConversionFactor(conversion)
            factor.append(f"/ {conversion}")
        factors[s.getId()] = " ".join(factor)
    for c in model.getListOfCompartments():
        if not c.isSetUnits():
            c.setUnits("dimensionless")
    return factors


def _rescale_kinetic_laws(model: libsbml.Model, factors: dict[str, str]) -> None:
    for r in model.getListOfReactions():
        participants = [x.getSpecies() for x in (*r.getListOfReactants(), *r.getListOfProducts())]
        distinct = {factors[s] for s in participants}
        if len(distinct) != 1:
            raise ValueError(f"reaction {r.getId()!r} mixes states of different units: {participants}")
        law = r.getKineticLaw()
        if factor := distinct.pop():
            law.setMath(libsbml.parseL3Formula(f"({libsbml.formulaToL3String(law.getMath())}) {factor}"))


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
        if holds_constant(rule):
            variable = model.getParameter(rule.getVariable()).getDerivedUnitDefinition()
            per_day = libsbml.UnitDefinition.combine(variable, _definition(UNIT_DEFINITIONS["1/day"][1]))
            math = rule.getMath().deepCopy()
            math.setUnits(_unit_for(model, per_day))
            rule.setMath(math)
