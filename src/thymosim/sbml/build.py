"""Build the committed SBML (models/thymosim.xml) from the Antimony modules and the
tables in ``models/``: flat SBML Level 3 Version 2 with declared, consistent units,
SBO terms and model notes naming each parameter's source.

Units: see :mod:`thymosim.sbml.units`. SBO terms: compartments implicit, species from
``variables.tsv``, reactions by structure, parameters kinetic constant or parameter.
MIRIAM: the Antimony modules' annotations, plus isDescribedBy on every parameter whose
source cites a PMID, DOI or PMC id.

Run ``python -m thymosim.sbml.build`` after editing ``models/``; a test fails when the
committed SBML is out of date.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import libsbml
import pandas as pd

from thymosim.model import MAIN_MODULE, determined_ids, model_dir
from thymosim.sbml.names import set_names
from thymosim.sbml.units import declare_units
from thymosim.tables import build_stamp, load_outputs, load_parameter_table, sbml_stamp

STAMP_NS = "urn:thymosim:build"  # the build-stamp annotation's namespace

SBO_PARAMETER, SBO_KINETIC_CONSTANT, SBO_COMPARTMENT = "SBO:0000002", "SBO:0000009", "SBO:0000410"
SBO_CONVERSION, SBO_DEGRADATION, SBO_PRODUCTION = "SBO:0000182", "SBO:0000179", "SBO:0000393"


def antimony_to_sbml(main: str = MAIN_MODULE, path: Path | None = None) -> str:
    """Load an Antimony file and return module ``main`` as flat SBML. Its imports are inlined
    from its own folder (Antimony caches imported files across loads by the name written in the
    import, so an edited or copied module would otherwise be ignored)."""
    import antimony

    path = Path(path or model_dir() / f"{MAIN_MODULE}.ant")
    text = inline_imports(path)
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        raise RuntimeError(f"Antimony failed to load {path}: {antimony.getLastError()}")
    sbml = antimony.getSBMLString(main)
    if not sbml:
        raise RuntimeError(f"Antimony module {main!r} not found in {path}")
    return sbml


def inline_imports(path: Path) -> str:
    """The Antimony text of ``path`` with each ``import "file"`` replaced by that file's text."""
    def include(match: re.Match) -> str:
        return inline_imports(path.parent / match.group(1))

    return re.sub(r'^\s*import\s+"([^"]+)"\s*$', include, path.read_text(encoding="utf-8"), flags=re.M)


def load_variable_table(directory: Path | None = None) -> pd.DataFrame:
    """``models/variables.tsv`` (states and scaled derived quantities) indexed by flat id:
    unit, SBO term, description."""
    return pd.read_csv((directory or model_dir()) / "variables.tsv", sep="\t", comment="#").set_index("id")


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
    r"doi:(10\.\d{4,9}/(?:[^\s,;()]|\([^\s()]*\))+)": "https://identifiers.org/doi:{}",  # DOIs may hold (..)
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


def set_parameter_values(model: libsbml.Model, table: pd.DataFrame, require_all: bool = True) -> None:
    """Write each table row's value into the parameter of that id (the Antimony declares them
    ``const`` without a value). ``require_all`` (the composed model): every row must match a
    parameter whose value the Antimony leaves unset, and every constant parameter without a value
    and without a rule must have a row."""
    missing = [pid for pid in table.index if model.getParameter(pid) is None]
    if missing and require_all:
        raise ValueError(f"parameters.tsv rows with no parameter in the model: {missing}")
    written = [pid for pid in table.index
               if model.getParameter(pid) is not None and model.getParameter(pid).isSetValue()]
    if written and require_all:
        raise ValueError(f"values written in the Antimony for {written}: declare them `const` without a value; "
                         "the value belongs in models/parameters.tsv")
    for pid, value in table.value.items():
        if model.getParameter(pid) is not None:
            model.getParameter(pid).setValue(float(value))
    derived = determined_ids(model)
    unset = [p.getId() for p in model.getListOfParameters() if not p.isSetValue() and p.getId() not in derived]
    if unset and require_all:
        raise ValueError(f"parameters without a value: add rows to models/parameters.tsv for {unset}")


def build_sbml(directory: Path | None = None) -> str:
    """Flat SBML L3V2 of the composed model with the table's values, units, SBO terms and
    parameter sources. ``directory``: a models/ folder (default: the package's)."""
    directory = directory or model_dir()
    document = libsbml.readSBMLFromString(antimony_to_sbml(path=directory / f"{MAIN_MODULE}.ant"))
    if document.getLevel() != 3 or document.getVersion() != 2:
        document.setLevelAndVersion(3, 2)
    model = document.getModel()
    table, variables = load_parameter_table(directory), load_variable_table(directory)
    set_parameter_values(model, table)
    declare_units(model, table, variables)
    _sbo_terms(model, table, variables)
    _source_annotations(model, table)
    outputs = {o.id.strip("[]"): o.description for o in load_outputs(directory)}
    set_names(model, table, variables, directory / f"{MAIN_MODULE}.ant", outputs)
    model.setNotes(_notes(table))
    stamp = build_stamp(directory)
    if stamp is not None:  # checked when the default model loads (tables.check_build)
        model.appendAnnotation(libsbml.XMLNode.convertStringToXMLNode(
            f'<thymosim:build xmlns:thymosim="{STAMP_NS}" stamp="{stamp}"/>'))
    return libsbml.writeSBMLToString(document)


def sbml_consistency(sbml: str) -> Counter:
    """libsbml's full consistency check, units included: (severity, error id) -> count; empty
    when the model is valid and its units consistent. Use it on a file edited elsewhere."""
    document = libsbml.readSBMLFromString(sbml)
    document.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    document.checkConsistency()
    errors = (document.getError(i) for i in range(document.getNumErrors()))
    return Counter((e.getSeverity(), e.getErrorId()) for e in errors)


def flat_antimony(sbml: str) -> str:
    """One self-contained Antimony text of a flat SBML model (no imports), for tools that read
    Antimony directly: ``te.loada(open("models/thymosim_flat.ant").read())``. Values and rules as
    in the SBML; units, annotations and notes stay in the SBML (Antimony cannot read back some of
    its own unit definitions, e.g. 1e-06 mole/(item day^2))."""
    import antimony

    document = libsbml.readSBMLFromString(sbml)
    model = document.getModel()
    while model.getNumUnitDefinitions():
        model.removeUnitDefinition(0)
    for items in (model.getListOfParameters(), model.getListOfSpecies(), model.getListOfCompartments()):
        for item in items:
            item.unsetUnits()
    for species in model.getListOfSpecies():
        species.unsetSubstanceUnits()
    for attribute in ("TimeUnits", "SubstanceUnits", "VolumeUnits", "ExtentUnits", "LengthUnits", "AreaUnits"):
        getattr(model, f"unset{attribute}")()
    text = re.sub(r'\s+sbml:units="[^"]*"', "", libsbml.writeSBMLToString(document))  # units of numbers in math
    antimony.clearPreviousLoads()
    if antimony.loadSBMLString(text) < 0:
        raise RuntimeError(f"Antimony failed to read the SBML: {antimony.getLastError()}")
    header = ("// thymosim, flat Antimony generated from models/thymosim.xml by python -m thymosim.sbml.build;\n"
              "// edit models/modules/*.ant and models/parameters.tsv instead (values and sources live there).\n"
              f"// build stamp {sbml_stamp(sbml)}\n")
    return header + antimony.getAntimonyString(antimony.getMainModuleName())


def flat_path() -> Path:
    return model_dir() / f"{MAIN_MODULE}_flat.ant"


GENERATED = ("thymosim.xml", f"{MAIN_MODULE}_flat.ant")


def write_generated(directory: Path | None = None, table: str | None = None,
                    before_rename: Callable[[str], None] | None = None) -> list[Path]:
    """Rebuild the SBML and the flat Antimony of ``directory`` (default: the package's models/),
    with ``table`` as the new ``parameters.tsv`` text if given, as one set: everything is built
    into temporary files first, then renamed (table last); an exception restores the old set. A
    kill between two renames (microseconds) leaves a set whose build stamps differ, which loading
    refuses with the command that rebuilds it. ``before_rename(name)``: a hook (tests inject faults)."""
    import os
    import shutil
    import tempfile

    directory = Path(directory or model_dir())
    for stray in directory.glob(".*.tmp"):  # temporaries of an earlier, killed rebuild
        stray.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as staging_dir:
        staging = Path(staging_dir)
        shutil.copy2(directory / f"{MAIN_MODULE}.ant", staging)
        shutil.copytree(directory / "modules", staging / "modules")
        for name in ("variables.tsv", "outputs.tsv"):  # outputs.tsv: the names of the reported counts
            shutil.copy2(directory / name, staging)
        (staging / "parameters.tsv").write_bytes(
            table.encode() if table is not None else (directory / "parameters.tsv").read_bytes())
        sbml = build_sbml(staging)
        contents = {"thymosim.xml": sbml, GENERATED[1]: flat_antimony(sbml)}
        if table is not None:
            contents["parameters.tsv"] = table
    pending = {name: directory / f".{name}.{os.getpid()}.tmp" for name in contents}
    backups: dict[str, Path] = {}
    try:
        for name, text in contents.items():
            pending[name].write_text(text, encoding="utf-8")
        for name in contents:  # dict order: SBML, flat Antimony, then the table
            if before_rename:
                before_rename(name)
            if (directory / name).exists():
                backups[name] = directory / f".{name}.{os.getpid()}.old.tmp"
                os.link(directory / name, backups[name])
            os.replace(pending[name], directory / name)
    except BaseException:
        for name, backup in backups.items():
            os.replace(backup, directory / name)
        raise
    finally:
        for path in (*pending.values(), *backups.values()):
            path.unlink(missing_ok=True)
    if directory == model_dir():
        from thymosim.model import clear_caches

        clear_caches()
    return [directory / name for name in contents]


def main() -> None:
    written = write_generated()
    print(f"wrote {written[0]} and {written[1]}")


if __name__ == "__main__":
    main()
