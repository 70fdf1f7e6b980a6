"""thymosim: a mechanistic QSP model of thymalfasin (thymosin alpha 1) restoring
immune function after chemotherapy, and a driver that doses any SBML model.

Layers, each importing only the ones before it (checked by ``tests/test_architecture.py``):

1. core, in this order (each imports only those before it): :mod:`~thymosim.units` ->
   :mod:`~thymosim.recist` (RECIST 1.1, the one classifier; ``thymosim.analysis.recist`` re-exports it) ->
   :mod:`~thymosim.model` (the Model object: SBML, compiled runner, drug/output/covariate maps;
   its ``default_model()`` reads the tables when first called, an exception) ->
   :mod:`~thymosim.tables` (``models/*.tsv``) -> :mod:`~thymosim.pk_steady_state` (periodic steady
   state of a drug's PK, numerically) -> :mod:`~thymosim.patient`, :mod:`~thymosim.regimen`
   -> :mod:`~thymosim.simulation` (``simulate("name")`` resolves a named scenario when called, the
   other exception) -> :mod:`~thymosim.rules` (count-guided rules) -> :mod:`~thymosim.scenario` (TOML
   scenarios, named scenarios);
2. :mod:`thymosim.sbml` (build, units, comp, export: SBML, OMEX/SED-ML, PEtab) and
   :mod:`thymosim.analysis` (endpoints, sweeps, sensitivity, calibration), which never import
   each other;
3. :mod:`thymosim.plots` (figures of simulations and analyses; they draw, never run);
4. :mod:`thymosim.workflows` (what a command does: runs scenarios, sweeps, sensitivity, trials,
   reproductions and agents, returns their tables and writes their output folders);
5. :mod:`thymosim.cli` (the command line: a thin table of commands over the workflows).

Time is in days everywhere (another SBML model: its own time unit); blood counts are cells/uL.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the public names, for type checkers and IDEs; imported lazily below
    from thymosim.model import Drug, InfeasibleBaseline, Model, ModelError, Output, default_model
    from thymosim.patient import HEALTHY, Patient
    from thymosim.regimen import Dose, Regimen
    from thymosim.scenario import Scenario, ScenarioError
    from thymosim.simulation import simulate
    from thymosim.tables import load_parameter_table


def __getattr__(name: str):
    """Public names are imported on first use, so ``import thymosim`` (and ``thymosim --help``)
    does not load pandas, roadrunner or libsbml."""
    if name in ("Drug", "InfeasibleBaseline", "Model", "ModelError", "Output", "default_model"):
        from thymosim import model as module
    elif name in ("HEALTHY", "Patient"):
        from thymosim import patient as module  # type: ignore[no-redef]
    elif name in ("Dose", "Regimen"):
        from thymosim import regimen as module  # type: ignore[no-redef]
    elif name in ("Scenario", "ScenarioError"):
        from thymosim import scenario as module  # type: ignore[no-redef]
    elif name == "simulate":
        from thymosim import simulation as module  # type: ignore[no-redef]
    elif name == "load_parameter_table":
        from thymosim import tables as module  # type: ignore[no-redef]
    else:
        raise AttributeError(f"module 'thymosim' has no attribute {name!r}")
    return getattr(module, name)


def __dir__() -> list[str]:
    """The public names (imported lazily) and the module's own, for tab completion."""
    return sorted({*globals(), *__all__})


__all__ = [
    "HEALTHY",
    "Dose",
    "Drug",
    "InfeasibleBaseline",
    "Model",
    "ModelError",
    "Output",
    "Patient",
    "Regimen",
    "Scenario",
    "ScenarioError",
    "default_model",
    "load_parameter_table",
    "simulate",
]
__version__ = "0.2.0"
