"""A third-party SBML model (BioModels BIOMD0000000321, L-dopa PK in the rat) through the whole
driver: scenario file, simulate, run, sweep, sensitivity and export, with its dose checked
against the same dose written as an SBML event and simulated by plain roadrunner."""

from pathlib import Path

import libsbml
import numpy as np
import pandas as pd
import pytest
import roadrunner

from thymosim import Dose, Model, Regimen, simulate
from thymosim.analysis.sensitivity import local_sensitivity
from thymosim.analysis.sweep import grid, run_sweep
from thymosim.cli import main
from thymosim.model import Drug, model_dir
from thymosim.sbml.export import scenario_sbml
from thymosim.scenario import ScenarioError, resolve

FILE = model_dir() / "third_party" / "ldopa_second_dose.toml"
SBML = model_dir() / "third_party" / "BIOMD0000000321.xml"
COLUMNS = ["A_dopa", "[C_dopa]", "[C_OMD]"]


def plain_roadrunner_with_event(times) -> np.ndarray:
    """The same second dose written by hand as an SBML event, simulated by roadrunner alone."""
    doc = libsbml.readSBMLFromFile(str(SBML))
    doc.setLevelAndVersion(3, 2)
    event = doc.getModel().createEvent()
    event.setId("second_dose")
    event.setUseValuesFromTriggerTime(True)
    trigger = event.createTrigger()
    trigger.setInitialValue(False)
    trigger.setPersistent(True)
    trigger.setMath(libsbml.parseL3Formula("time >= 10"))
    assignment = event.createEventAssignment()
    assignment.setVariable("A_dopa")
    assignment.setMath(libsbml.parseL3Formula("A_dopa + 101"))
    rr = roadrunner.RoadRunner(libsbml.writeSBMLToString(doc))
    rr.getIntegrator().setValue("relative_tolerance", 1e-10)
    rr.getIntegrator().setValue("absolute_tolerance", 1e-12)
    return np.asarray(rr.simulate(times=times, selections=["time", *COLUMNS]))


@pytest.fixture(scope="module")
def scenario():
    return resolve(FILE)


def test_scenario_file_names_the_model_its_drug_and_outputs(scenario):
    assert scenario.model.name == "BIOMD0000000321" and scenario.model.info.time_unit == "hour"
    assert scenario.model.drugs["ldopa"] == Drug("ldopa", target="A_dopa", unit="umol", routes=("oral",),
                                                 description="oral L-dopa, into the gut")
    assert list(scenario.simulate().columns) == ["time", *COLUMNS]


def test_dose_matches_the_same_dose_as_an_sbml_event_in_plain_roadrunner(scenario):
    ours = scenario.simulate()
    theirs = plain_roadrunner_with_event(ours.time.to_numpy())
    scale = np.abs(theirs[:, 1:]).max(axis=0)  # relative to each output's range
    np.testing.assert_allclose(ours[COLUMNS].to_numpy() / scale, theirs[:, 1:] / scale, rtol=0, atol=1e-6)
    assert ours["[C_OMD]"].iloc[-1] > 2 * simulate(model=scenario.model, horizon=24)["[C_OMD]"].iloc[-1]


def test_python_api_doses_another_model():
    model = Model.from_sbml(SBML, drugs=[Drug("ldopa", target="A_dopa", unit="umol")])
    once = simulate(regimen=Regimen((Dose(model.drugs["ldopa"], "101 umol", time=10),)), horizon=24, model=model)
    twice = simulate(regimen=Regimen((Dose(model.drugs["ldopa"], 0.101, "mmol", time=10),)), horizon=24,
                     model=model)
    pd.testing.assert_frame_equal(once, twice)
    with pytest.raises(KeyError, match="not in the drug map"):
        simulate(regimen=Regimen((Dose("thymalfasin", 1.6),)), horizon=24, model=model)


def test_exported_scenario_reproduces_the_driver(scenario, tmp_path):
    main(["export", "sbml", "--scenario", str(FILE), "--out", str(tmp_path / "arm.xml")])
    assert (tmp_path / "arm.xml").read_text(encoding="utf-8") == scenario_sbml(scenario)
    ours = scenario.simulate()
    rr = roadrunner.RoadRunner(str(tmp_path / "arm.xml"))
    rr.getIntegrator().setValue("relative_tolerance", 1e-10)
    rr.getIntegrator().setValue("absolute_tolerance", 1e-12)
    exported = np.asarray(rr.simulate(times=ours.time.to_numpy(), selections=["time", *COLUMNS]))
    scale = np.abs(exported[:, 1:]).max(axis=0)
    np.testing.assert_allclose(ours[COLUMNS].to_numpy() / scale, exported[:, 1:] / scale, rtol=0, atol=1e-6)


def test_run_sweep_and_sensitivity_commands(tmp_path):
    main(["run", str(FILE), "--out", str(tmp_path / "run"), "--quiet"])
    table = pd.read_csv(tmp_path / "run" / "timecourse.csv")
    assert list(table.columns) == ["time", *COLUMNS, "scenario"] and (tmp_path / "run" / "timecourse.png").exists()
    main(["sweep", str(FILE), "--factor", "ka_b=1,2.11,4", "--endpoint", "peak:[C_dopa]",
          "--out", str(tmp_path / "sweep"), "--quiet"])
    sweep = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert (sweep.status == "ok").all() and sweep.value.is_monotonic_increasing  # faster absorption, higher peak
    main(["sensitivity", str(FILE), "--method", "morris", "--n", "4", "--endpoint", "auc:[C_OMD]",
          "--out", str(tmp_path / "sa"), "--quiet"])
    morris = pd.read_csv(tmp_path / "sa" / "morris_auc_C_OMD.csv", index_col=0)
    assert set(morris.index) == set(Model.from_sbml(SBML).defaults) and morris.mu_star.notna().all()


def test_sweep_identical_serial_and_two_workers_and_local_sensitivity(scenario):
    points = grid({"ka_b": [1.0, 2.11, 4.0], "CL_dopa0": [0.5, 0.823]})
    serial = run_sweep(scenario, points, endpoints=["auc:[C_dopa]", "tmax:[C_dopa]"])
    pd.testing.assert_frame_equal(serial, run_sweep(scenario, points, endpoints=["auc:[C_dopa]", "tmax:[C_dopa]"],
                                                    workers=2))
    local = local_sensitivity(scenario, ["CL_dopa0", "rat_body_mass"], ["auc:[C_dopa]"])
    assert (local.status == "ok").all()
    # the dose at t = 0 scales with body mass, the second one does not: 0 < S < 1
    s_mass = local.set_index("parameter").sensitivity["rat_body_mass"]
    assert 0.3 < s_mass < 0.7


def test_bad_third_party_declarations_get_clear_errors(tmp_path):
    text = FILE.read_text(encoding="utf-8")
    cases = {
        'target = "A_dopa"': ('target = "nope"', "drugs.ldopa.target: 'nope'"),
        'unit = "umol"': ('unit = "furlong"', "drugs.ldopa.unit"),
        '"[C_OMD]"]': ('"[C_OMD]", "Q2"]', "outputs.Q2"),
        'horizon = 24 ': ('horizon = "1 day" ', "horizon: '1 day'; allowed: a plain number in the model's time unit"),
        'model = "BIOMD0000000321.xml"': ('model = "missing.xml"', "missing.xml: cannot read"),
    }
    for old, (new, message) in cases.items():
        path = Path(tmp_path / "case.toml")
        path.write_text(text.replace(old, new).replace("BIOMD0000000321.xml", str(SBML))
                        if "missing" not in new else text.replace(old, new))
        with pytest.raises(ScenarioError, match=message.replace("[", r"\[")):
            resolve(path)
