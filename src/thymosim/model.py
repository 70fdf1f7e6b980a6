"""Compiled model: Antimony sources -> flat SBML -> one cached RoadRunner per process."""

from __future__ import annotations

import functools
from pathlib import Path

MAIN_MODULE = "thymosim"
COMPILE_COUNT = {"n": 0}  # incremented on every RoadRunner compilation (tested)


def model_dir() -> Path:
    """Directory holding the Antimony modules, the parameter table and the SBML."""
    packaged = Path(__file__).parent / "models"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "models"


def sbml_path() -> Path:
    """Path of the committed flat SBML Level 3 Version 2 file."""
    return model_dir() / "thymosim.xml"


def antimony_to_sbml(main: str = MAIN_MODULE, path: Path | None = None) -> str:
    """Load an Antimony file (its imports resolved) and return module `main` as flat SBML."""
    import antimony

    path = path or model_dir() / f"{MAIN_MODULE}.ant"
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyFile(str(path)) < 0:
        raise RuntimeError(f"Antimony failed to load {path}: {antimony.getLastError()}")
    sbml = antimony.getSBMLString(main)
    if not sbml:
        raise RuntimeError(f"Antimony module {main!r} not found in {path}")
    return sbml


_OVERRIDE: dict[str, str | None] = {"sbml": None}


@functools.lru_cache(maxsize=1)
def load_sbml() -> str:
    """The flat SBML the driver uses: the committed file (read once per process), or the one
    set by :func:`use_sbml`."""
    return _OVERRIDE["sbml"] or sbml_path().read_text()


def use_sbml(sbml: str | Path | None) -> None:
    """Drive thymosim with another flat SBML (text or path), e.g. a file exported and edited in
    another tool, whose ids match this model's; ``None`` restores the committed model. The next
    simulation compiles it once. Local worker processes inherit it; Dask workers do not."""
    if isinstance(sbml, Path) or (isinstance(sbml, str) and not sbml.lstrip().startswith("<")):
        sbml = Path(sbml).read_text()
    _OVERRIDE["sbml"] = sbml
    for cached in (load_sbml, get_runner, default_parameters, derived_constants):
        cached.cache_clear()


@functools.lru_cache(maxsize=1)
def get_runner():
    """The compiled model: one RoadRunner instance per process, compiled once.

    Callers must not change it outside :func:`thymosim.simulate.simulate`, which
    restores every parameter before each run.
    """
    import roadrunner

    COMPILE_COUNT["n"] += 1
    rr = roadrunner.RoadRunner(load_sbml())
    integrator = rr.getIntegrator()
    integrator.setValue("relative_tolerance", 1e-8)
    integrator.setValue("absolute_tolerance", 1e-10)
    integrator.setValue("maximum_num_steps", 100000)
    return rr


def holds_constant(rule) -> bool:
    """True for a libsbml rate rule ``x' = 0``: x is derived at t0 (initial assignment) and held."""
    return rule.isRate() and rule.getMath().isNumber() and rule.getMath().getValue() == 0


@functools.lru_cache(maxsize=1)
def derived_constants() -> tuple[str, ...]:
    """Rates derived at t0 from the patient's baseline (held by zero rate rules); all must be >= 0."""
    import libsbml

    model = libsbml.readSBMLFromString(load_sbml()).getModel()
    return tuple(r.getVariable() for r in model.getListOfRules() if holds_constant(r))


@functools.lru_cache(maxsize=1)
def default_parameters() -> dict[str, float]:
    """Settable parameters (constant, not derived by a rule or initial assignment, not a species'
    unit conversion factor) and their SBML values."""
    import libsbml

    model = libsbml.readSBMLFromString(load_sbml()).getModel()
    derived = {model.getInitialAssignment(i).getSymbol() for i in range(model.getNumInitialAssignments())}
    derived |= {model.getRule(i).getVariable() for i in range(model.getNumRules())}
    derived |= {s.getConversionFactor() for s in model.getListOfSpecies() if s.isSetConversionFactor()}
    return {
        p.getId(): p.getValue()
        for p in model.getListOfParameters()
        if p.getConstant() and p.getId() not in derived
    }
