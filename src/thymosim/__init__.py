"""thymosim: a mechanistic QSP model of thymalfasin (thymosin alpha 1) restoring
immune function after chemotherapy.

Layers: Antimony modules (``models/``) -> compiled model (:mod:`thymosim.model`)
-> patient and regimen (:mod:`thymosim.patient`, :mod:`thymosim.regimen`)
-> simulation (:mod:`thymosim.simulate`) -> scenarios, figures and CLI.
Time is in days everywhere; blood counts are cells/uL.
"""

from thymosim.model import get_runner, load_sbml
from thymosim.patient import Patient
from thymosim.regimen import Dose, Regimen
from thymosim.simulation import OUTPUTS, simulate
from thymosim.tables import load_parameter_table

__all__ = [
    "OUTPUTS",
    "Dose",
    "Patient",
    "Regimen",
    "get_runner",
    "load_parameter_table",
    "load_sbml",
    "simulate",
]
__version__ = "0.1.0"
