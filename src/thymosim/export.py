"""Export: the flat SBML (or its hierarchical comp form), optionally with a scenario's patient values and doses written
into it as SBML events, so the file alone reproduces the scenario in any SBML tool.

Each administration becomes its own event with a ``time >= t`` trigger (never
``time == t``, which simulators can skip; one event per dose, because some tools
mishandle self-rescheduling events). A bolus adds its amount to the dose species;
an infusion adds amount/duration to its rate input at the start and removes it at
the end.
"""

from __future__ import annotations

import libsbml

from thymosim.model import load_sbml
from thymosim.scenario import Scenario


def scenario_sbml(scenario: Scenario) -> str:
    """Flat SBML L3V2 with the scenario's patient values and one event per dose action."""
    document = libsbml.readSBMLFromString(load_sbml())
    model = document.getModel()
    for pid, value in scenario.patient.parameter_values().items():
        model.getParameter(pid).setValue(float(value))
    model.setId(f"thymosim_{_sid(scenario.name)}")
    for k, (time, target, increment) in enumerate(scenario.regimen.actions(scenario.patient.bsa)):
        event = model.createEvent()
        event.setId(f"dose_{k}")
        event.setUseValuesFromTriggerTime(True)
        trigger = event.createTrigger()
        trigger.setInitialValue(False)
        trigger.setPersistent(True)
        trigger.setMath(libsbml.parseL3Formula(f"time >= {time!r}"))
        if model.getParameter(target) is not None:
            model.getParameter(target).setConstant(False)  # an event changes it
        assignment = event.createEventAssignment()
        assignment.setVariable(target)
        assignment.setMath(libsbml.parseL3Formula(f"{target} + {increment!r}"))
    return libsbml.writeSBMLToString(document)


def comp_sbml() -> str:
    """Hierarchical SBML (comp package): each module a model definition, wired by
    ports and replacements, for reusing single modules in other models."""
    import antimony

    from thymosim.model import MAIN_MODULE, model_dir

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyFile(str(model_dir() / f"{MAIN_MODULE}.ant")) < 0:
        raise RuntimeError(antimony.getLastError())
    return antimony.getCompSBMLString(MAIN_MODULE)


def _sid(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)
