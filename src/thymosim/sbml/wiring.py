"""The model's wiring, parsed from the Antimony files: the modules the main model imports, their
instances and ports (``X.port is name``), the signals between modules, where each drug enters, and
each instance's states. Read by the model reference pages and the network diagram."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import libsbml
import pandas as pd

from thymosim.model import MAIN_MODULE, model_dir
from thymosim.sbml.build import inline_imports, load_variable_table
from thymosim.sbml.mathml import is_zero, names_in
from thymosim.tables import load_parameter_table


@dataclass
class Module:
    """One module file: its model, prose and, per instance in the main model, the flat ids."""

    name: str
    path: Path
    prose: str
    instances: list[str] = field(default_factory=list)
    ports: dict[str, dict[str, str]] = field(default_factory=dict)
    """instance -> module port -> the main model's name (``TC.IL2 is IL2``)."""
    defined: set[str] = field(default_factory=set)
    """ids the module itself defines: species, reactions, rule and initial-assignment variables."""

    def flat(self, instance: str, sid: str) -> str:
        """The flat model's id of the module's ``sid`` in ``instance``."""
        return self.ports.get(instance, {}).get(sid, f"{instance}_{sid}")

    def outputs(self, instance: str) -> set[str]:
        return {flat for port, flat in self.ports.get(instance, {}).items() if port in self.defined}

    def inputs(self, instance: str) -> set[str]:
        return {flat for port, flat in self.ports.get(instance, {}).items() if port not in self.defined}


INSTANCE = re.compile(r"^\s*(\w+)\s*:\s*(\w+)\s*\(\s*\)", re.M)
PORT = re.compile(r"^\s*(\w+)\.(\w+)\s+is\s+(\w+)", re.M)
IMPORT = re.compile(r'^\s*import\s+"([^"]+)"', re.M)
MODEL = re.compile(r"^\s*model\s+\*?\s*(\w+)\s*\(", re.M)


def leading_comment(text: str) -> str:
    """The file's leading ``//`` comment lines, without the markers."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("//"):
            break
        lines.append(line[2:].removeprefix(" "))
    return "\n".join(lines)


def _main_model_text(main: Path) -> str:
    """The main model's own block (``model thymosim() ... end``) of the main file."""
    text = main.read_text(encoding="utf-8")
    match = re.search(rf"^\s*model\s+\*?\s*{MAIN_MODULE}\s*\(.*?^end", text, re.M | re.S)
    return match.group(0) if match else text


def modules(directory: Path | None = None) -> list[Module]:
    """The modules the main model imports, in import order, with their instances, port wiring and
    the ids each defines (from Antimony's SBML of the module alone)."""
    import antimony

    directory = directory or model_dir()
    main = directory / f"{MAIN_MODULE}.ant"
    found: list[Module] = []
    for relative in IMPORT.findall(main.read_text(encoding="utf-8")):
        path = directory / relative
        text = path.read_text(encoding="utf-8")
        names = MODEL.findall(text)
        if names:
            found.append(Module(names[0], path, leading_comment(text)))
    by_name = {m.name: m for m in found}
    body = _main_model_text(main)
    owner = {}
    for instance, module in INSTANCE.findall(body):
        if module in by_name:
            by_name[module].instances.append(instance)
            by_name[module].ports[instance] = {}
            owner[instance] = by_name[module]
    for instance, port, name in PORT.findall(body):
        if instance in owner:
            owner[instance].ports[instance][port] = name
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(inline_imports(main)) < 0:
        raise RuntimeError(f"Antimony failed to load {main}: {antimony.getLastError()}")
    for module in found:
        model = libsbml.readSBMLFromString(antimony.getSBMLString(module.name)).getModel()
        module.defined = ({s.getId() for s in model.getListOfSpecies()}
                          | {r.getId() for r in model.getListOfReactions()}
                          | {r.getVariable() for r in model.getListOfRules()}
                          | {a.getSymbol() for a in model.getListOfInitialAssignments()})
    return found


@dataclass(frozen=True)
class Edge:
    source: str
    """instance defining the signals, or ``patient``"""
    target: str
    signals: tuple[str, ...]


def wiring(found: list[Module], flat: libsbml.Model) -> list[Edge]:
    """Module-to-module signals: for each instance, the names it reads that another instance
    defines. A name the main model defines by a rule (``kill_T := kill_T_chemo + kill_T_rt``)
    is traced to the instances defining the names in that rule; a name with no rule (a patient
    input or set point) comes from ``patient``."""
    definer = {name: instance for m in found for instance in m.instances for name in m.outputs(instance)}
    rules = {r.getVariable(): r for r in flat.getListOfRules() if r.isAssignment()}

    def sources(name: str, seen: frozenset = frozenset()) -> set[tuple[str, str]]:
        if name in definer:
            return {(definer[name], name)}
        if name in rules and name not in seen:
            names = names_in(rules[name].getMath())
            return {s for n in names for s in sources(n, seen | {name})}
        if flat.getParameter(name) is not None and flat.getParameter(name).getConstant():
            return {("patient", name)}
        return set()

    signals: dict[tuple[str, str], list[str]] = {}
    for m in found:
        for instance in m.instances:
            for name in sorted(m.inputs(instance)):
                for source, signal in sorted(sources(name)):
                    if source != instance:
                        signals.setdefault((source, instance), []).append(signal)
    return [Edge(s, t, tuple(dict.fromkeys(names))) for (s, t), names in signals.items()]


def drug_entries(flat: libsbml.Model, found: list[Module], drugs: pd.DataFrame) -> dict[str, list[str]]:
    """Instance -> the drugs of ``drugs.tsv`` whose bolus target or rate input it holds."""
    owner = {}
    for m in found:
        for instance in m.instances:
            for sid in m.defined:
                owner[m.flat(instance, sid)] = instance
            prefix = f"{instance}_"
            for p in flat.getListOfParameters():
                if p.getId().startswith(prefix):
                    owner.setdefault(p.getId(), instance)
    entries: dict[str, list[str]] = {}
    for drug, row in drugs.iterrows():
        for target in (row.target, row.rate):
            if isinstance(target, str) and target in owner:
                entries.setdefault(owner[target], [])
                if drug not in entries[owner[target]]:
                    entries[owner[target]].append(drug)
    return entries


def states(module: Module, instance: str, flat: libsbml.Model) -> list[str]:
    """The instance's state variables: its species and the variables of its rate rules that change
    (a zero rate rule holds a derived constant)."""
    owned = {module.flat(instance, sid) for sid in module.defined}
    held = {r.getVariable() for r in flat.getListOfRules()
            if r.isRate() and is_zero(r.getMath())}
    return ([s.getId() for s in flat.getListOfSpecies() if s.getId() in owned]
            + [r.getVariable() for r in flat.getListOfRules()
               if r.isRate() and r.getVariable() in owned and r.getVariable() not in held])


@dataclass
class Context:
    """What the reference pages and the network diagram read: the flat SBML model, the parameter and
    variable tables, and the modules (:func:`modules`)."""

    flat: libsbml.Model
    table: pd.DataFrame
    variables: pd.DataFrame
    found: list[Module]


def drug_table() -> pd.DataFrame:
    """``models/drugs.tsv``, by drug."""
    return pd.read_csv(model_dir() / "drugs.tsv", sep="\t", comment="#").set_index("drug")


def context() -> Context:
    """The flat SBML model, the parameter and variable tables and the modules, read once."""
    from thymosim.model import sbml_path

    flat = libsbml.readSBMLFromFile(str(sbml_path())).getModel()
    return Context(flat, load_parameter_table(), load_variable_table(), modules())
