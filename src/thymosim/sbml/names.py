"""SBML ``name`` attributes a modeller can read in COPASI, MATLAB or any SBML tool.

- parameters of ``models/parameters.tsv``, the states and derived quantities of
  ``models/variables.tsv`` and the reported quantities of ``models/outputs.tsv``: their
  ``description``;
- other derived quantities (wiring between modules, intermediate terms): ``"<id> (derived,
  <module>)"``, their definition being in the SBML's rules;
- reactions: the reaction id without its module prefix, in words, with the module
  (``CK_IL10_secretion`` -> ``"IL10 secretion (cytokines)"``); compartments likewise.
"""

from __future__ import annotations

import re
from pathlib import Path

import libsbml
import pandas as pd

INSTANCE = re.compile(r"^\s*(\w+)\s*:\s*(\w+)\(\)", re.M)  # "  TC: tcells()"


def module_labels(main: Path) -> dict[str, str]:
    """Module prefix of the flat ids -> its module name in words (``TC`` -> ``"tcells"``)."""
    return {prefix: module.replace("_", " ") for prefix, module in INSTANCE.findall(main.read_text(encoding="utf-8"))}


def _words(sid: str, labels: dict[str, str]) -> str:
    prefix, _, rest = sid.partition("_")
    if prefix in labels and rest:
        return f"{rest.replace('_', ' ')} ({labels[prefix]})"
    return sid.replace("_", " ")


def set_names(model: libsbml.Model, table: pd.DataFrame, variables: pd.DataFrame, main: Path,
              outputs: dict[str, str] | None = None) -> None:
    """Give every species, parameter, reaction and compartment of a flat model a ``name``
    (``outputs``: model id -> description of a reported quantity)."""
    labels = module_labels(main)
    described = {**(outputs or {}), **{k: str(v) for k, v in table.description.items()},
                 **{k: str(v) for k, v in variables.description.items()}}
    for species in model.getListOfSpecies():
        species.setName(described.get(species.getId()) or _words(species.getId(), labels))
    for parameter in model.getListOfParameters():
        pid = parameter.getId()
        if pid in described:
            parameter.setName(described[pid])
        elif pid.startswith("extent_"):
            parameter.setName(f"extent unit of species in {pid.removeprefix('extent_')} (conversion factor, 1)")
        else:
            module = labels.get(pid.split("_")[0])
            parameter.setName(f"{pid} (derived, {module})" if module else f"{pid} (derived, links modules)")
    for reaction in model.getListOfReactions():
        reaction.setName(_words(reaction.getId(), labels))
    for compartment in model.getListOfCompartments():
        cid = compartment.getId()
        compartment.setName("default compartment" if cid == "default_compartment" else _words(cid, labels))
