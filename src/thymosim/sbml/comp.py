"""Hierarchical SBML (comp package): each Antimony module a model definition, wired by ports
and replacements, for reusing single modules in other models.

Antimony writes the structure; the parameter values, units, SBO terms and unit-consistent math of the flat
SBML (``thymosim.sbml.build``) are then carried into every model definition, so a module taken
alone has the same declarations as the flat model. An element of submodel ``S`` with local
id ``x`` is ``S_x`` in the flat model, or the main-model element that replaces it.
"""

from __future__ import annotations

import libsbml

from thymosim.model import MAIN_MODULE, default_model, model_dir


def comp_sbml() -> str:
    """The comp form of the model with the flat model's units and SBO terms."""
    import antimony

    from thymosim.sbml.build import inline_imports

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(inline_imports(model_dir() / f"{MAIN_MODULE}.ant")) < 0:
        raise RuntimeError(antimony.getLastError())
    document = libsbml.readSBMLFromString(antimony.getCompSBMLString(MAIN_MODULE))
    flat = libsbml.readSBMLFromString(default_model().sbml).getModel()
    main = document.getModel()
    _carry(flat, main, {})
    definitions = document.getPlugin("comp")
    for submodel in main.getPlugin("comp").getListOfSubmodels():
        definition = definitions.getModelDefinition(submodel.getModelRef())
        _carry(flat, definition, _flat_ids(main, definition, submodel.getId()))
    return libsbml.writeSBMLToString(document)


def _flat_ids(main: libsbml.Model, definition: libsbml.Model, submodel: str) -> dict[str, str]:
    """Local id in the model definition -> id in the flat model."""
    ports = {p.getId(): p.getIdRef() for p in definition.getPlugin("comp").getListOfPorts()}
    replaced = {}
    for element in main.getListOfAllElements():
        plugin = element.getPlugin("comp")
        replacements = plugin.getListOfReplacedElements() if hasattr(plugin, "getListOfReplacedElements") else None
        for r in replacements or []:
            if r.getSubmodelRef() == submodel:
                replaced[ports.get(r.getPortRef(), r.getIdRef() or r.getPortRef())] = element.getId()
    local = [e.getId() for e in definition.getListOfAllElements() if e.isSetId()]
    return {x: replaced.get(x, f"{submodel}_{x}") for x in local}


def _carry(flat: libsbml.Model, target: libsbml.Model, to_flat: dict[str, str]) -> None:
    """Give ``target`` the flat model's unit definitions, units, SBO terms, conversion factors
    and (renamed) math of the elements it shares with it."""
    to_local = {f: x for x, f in to_flat.items()}

    def flat_id(x: str) -> str:
        return to_flat.get(x, x)

    def localised(math: libsbml.ASTNode) -> libsbml.ASTNode:
        math = math.deepCopy()
        _rename(math, to_local)
        return math

    for definition in flat.getListOfUnitDefinitions():
        if target.getUnitDefinition(definition.getId()) is None:
            target.addUnitDefinition(definition)
    target.setTimeUnits(flat.getTimeUnits())
    target.setExtentUnits(flat.getExtentUnits())
    for c in target.getListOfCompartments():
        _copy_sbo(flat.getCompartment(flat_id(c.getId())), c)
        c.setUnits(flat.getCompartment(flat_id(c.getId())).getUnits())
    for s in target.getListOfSpecies():
        source = flat.getSpecies(flat_id(s.getId()))
        _copy_sbo(source, s)
        s.setSubstanceUnits(source.getSubstanceUnits())
        if source.isSetConversionFactor():
            factor = source.getConversionFactor()
            if target.getParameter(factor) is None:
                target.addParameter(flat.getParameter(factor))
            s.setConversionFactor(factor)
    for p in target.getListOfParameters():
        source = flat.getParameter(flat_id(p.getId()))
        species = flat.getSpecies(flat_id(p.getId()))
        if source is None and species is not None:  # an input port that the wiring fills with a species (ANC)
            p.setUnits(_unit_of(flat, species))
        if source is not None:
            _copy_sbo(source, p)
            p.setUnits(source.getUnits())
            if source.isSetValue() and not p.isSetValue():  # values: the table's, via the flat model
                p.setValue(source.getValue())
    for r in target.getListOfReactions():
        source = flat.getReaction(flat_id(r.getId()))
        _copy_sbo(source, r)
        r.getKineticLaw().setMath(localised(source.getKineticLaw().getMath()))
    for rule in target.getListOfRules():
        rule.setMath(localised(flat.getRule(flat_id(rule.getVariable())).getMath()))
    for assignment in target.getListOfInitialAssignments():
        source = flat.getInitialAssignment(flat_id(assignment.getSymbol()))
        assignment.setMath(localised(source.getMath()))


def _unit_of(flat: libsbml.Model, species: libsbml.Species) -> str:
    """Id of the flat model's unit definition equal to the unit of ``species`` (its concentration unit,
    amount per compartment size, unless it is an amount-only species)."""
    derived = species.getDerivedUnitDefinition()
    for definition in flat.getListOfUnitDefinitions():
        if libsbml.UnitDefinition.areEquivalent(definition, derived):
            return definition.getId()
    raise ValueError(f"no unit definition of the flat model equals the unit of species {species.getId()!r}")


def _copy_sbo(source: libsbml.SBase, target: libsbml.SBase) -> None:
    if source is not None and source.isSetSBOTerm():
        target.setSBOTerm(source.getSBOTerm())


def _rename(node: libsbml.ASTNode, names: dict[str, str]) -> None:
    """Rename identifiers in one pass (so a new name is never renamed again)."""
    if node.isName() and node.getName() in names:
        node.setName(names[node.getName()])
    for i in range(node.getNumChildren()):
        _rename(node.getChild(i), names)
