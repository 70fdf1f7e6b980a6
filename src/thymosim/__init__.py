"""thymosim: a mechanistic QSP model of thymalfasin (thymosin alpha 1) restoring
immune function after chemotherapy, and a driver that doses any SBML model.

Layers, each importing only the ones before it (checked by ``tests/test_architecture.py``):

1. core, in this order (each imports only those before it): :mod:`~thymosim.units` ->
   :mod:`~thymosim.model` (the Model object: SBML, compiled runner, drug/output/covariate maps;
   its ``default_model()`` reads the tables when first called, the one exception) ->
   :mod:`~thymosim.tables` (``models/*.tsv``) -> :mod:`~thymosim.patient`, :mod:`~thymosim.regimen`
   -> :mod:`~thymosim.simulation` -> :mod:`~thymosim.scenario` (TOML scenarios, named scenarios);
2. :mod:`thymosim.sbml` (build, units, comp, export: SBML, OMEX/SED-ML, PEtab) and
   :mod:`thymosim.analysis` (endpoints, sweeps, sensitivity, calibration), which never import
   each other;
3. :mod:`thymosim.plots` (figures of simulations and analyses);
4. :mod:`thymosim.cli`.

Time is in days everywhere (another SBML model: its own time unit); blood counts are cells/uL.
"""

from thymosim.model import Drug, InfeasibleBaseline, Model, ModelError, Output, default_model
from thymosim.patient import HEALTHY, Patient
from thymosim.regimen import Dose, Regimen
from thymosim.scenario import Scenario, ScenarioError
from thymosim.simulation import simulate
from thymosim.tables import load_parameter_table

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
