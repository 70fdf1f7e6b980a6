"""The Model object: runs are independent of what ran before (events included) and of the
thread; maps are validated; it is read-only and equal by content."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import antimony
import numpy as np
import pandas as pd
import pytest
from sbml_edit import set_pk_cl

from thymosim import Dose, Drug, Model, ModelError, Patient, Regimen, simulate
from thymosim.analysis.sweep import Job, grid, run_task
from thymosim.model import default_model
from thymosim.scenario import Scenario, ScenarioError, named


def sbml_of(text: str) -> str:
    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString(text) >= 0, antimony.getLastError()
    return antimony.getSBMLString(antimony.getMainModuleName())


EVENT_MODEL = """
model with_event
  x' = -k*x; x = 1; k = 0.1
  q = 1
  at time >= 5: q = q + 10, x = x + q
end
"""


def test_a_run_starts_clean_after_a_model_whose_events_change_parameters():
    model = Model.from_sbml(sbml_of(EVENT_MODEL), outputs=None, name="events")
    first = simulate(horizon=10, step=1, model=model, extra=["q"])
    second = simulate(horizon=10, step=1, model=model, extra=["q"])
    pd.testing.assert_frame_equal(first, second)
    assert first.q.iloc[-1] == 11


def test_threads_never_share_a_runner():
    """Dask workers run tasks in threads: concurrent runs equal serial ones (to the solver's accuracy:
    a fresh runner can differ from the main thread's in the last bits, which Adams at rtol 1e-6
    carries to ~1e-5)."""
    scenario = replace(named("cisplatin_vinorelbine_ta1"), horizon=180, step=2.0)
    job = Job.of(scenario, ["auc_CD4", "lymphocyte_nadir"])
    tasks = list(enumerate(grid({"PK_CL": [60.0, 80.0, 120.0, 200.0]}).to_dict("records")))
    serial = [run_task(job, t) for t in tasks]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda t: run_task(job, t), tasks))
    assert [o.status for o in threaded] == ["ok"] * 4
    for a, b in zip(threaded, serial, strict=True):
        assert a.values == pytest.approx(b.values, rel=1e-4)


def test_a_drug_target_set_by_a_rule_is_refused():
    text = sbml_of("model m\n  y := 2*x\n  x' = -x; x = 1\nend")
    with pytest.raises(ModelError, match="drugs.d.target: 'y'"):
        Model.from_sbml(text, drugs=[Drug("d", target="y")])
    Model.from_sbml(text, drugs=[Drug("d", target="x")])  # a state may be dosed


def test_empty_or_non_sbml_input_is_a_clear_model_error(tmp_path):
    broken = ('<?xml version="1.0"?><sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" '
              'version="2"><model id="m"><listOfSpecies><species compartment="c"/></listOfSpecies></model>')
    for content, message in (("", "not an SBML file"), ("<html></html>", "not an SBML file"),
                             (broken, "not a readable SBML model"),
                             ("\ufeff" + default_model().sbml, None)):
        path = tmp_path / "m.xml"
        path.write_text(content, encoding="utf-8")
        if message:
            with pytest.raises(ModelError, match=message):
                Model.from_sbml(path)
        else:
            assert Model.from_sbml(path).key == default_model().key  # a byte-order mark is dropped


def test_model_is_read_only_and_equal_by_content():
    model = default_model()
    with pytest.raises(AttributeError, match="read-only"):
        model.sbml = "<sbml/>"
    with pytest.raises(TypeError):
        model.defaults["PK_CL"] = 1.0
    assert model.with_sbml(model.sbml) == model and model.with_tolerances(1e-6, 1e-9) != model
    assert model.with_tolerances(1e-6, 1e-9).same_content(model)


def test_covariates_are_patient_fields_never_parameter_overrides():
    with pytest.raises(ValueError, match="CD4_0 is a covariate.*Patient.cd4"):
        simulate(Patient(parameters={"CD4_0": 300.0}), horizon=2)
    data = named("cisplatin_vinorelbine").to_dict() | {"patient": {"parameters": {"CD4_0": 300.0}}}
    with pytest.raises(ScenarioError, match="patient.parameters.CD4_0: a patient covariate; set patient.cd4"):
        Scenario.from_dict(data)


def test_bsa_factor_moves_the_per_m2_doses():
    from thymosim.analysis.sweep import run_sweep

    scenario = named("cisplatin_vinorelbine")
    table = run_sweep(scenario, grid({"BSA": [1.5, 2.5]}), endpoints=["lymphocyte_nadir"])
    assert table.value.iloc[1] < table.value.iloc[0]  # more drug, deeper nadir


def test_a_scenario_whose_model_is_not_a_file_cannot_be_saved(tmp_path):
    edited = replace(named("prag"), model=default_model().with_sbml(set_pk_cl(default_model().sbml, "150")))
    assert edited != named("prag")  # the model is part of the scenario
    with pytest.raises(ScenarioError, match="not read from a file"):
        edited.save(tmp_path / "x.toml")


def test_rate_strings_and_routes_on_a_model_in_hours(tmp_path):
    from thymosim.model import model_dir

    source = (model_dir() / "third_party" / "ldopa_second_dose.toml").read_text(encoding="utf-8")
    source = source.replace('"BIOMD0000000321.xml"', repr(str(model_dir() / "third_party" / "BIOMD0000000321.xml")))
    path = tmp_path / "case.toml"
    path.write_text(source.replace("time = 10", 'time = 10\nrate = "1 umol/h"'), encoding="utf-8")
    with pytest.raises(ScenarioError, match="rate: '1 umol/h'; allowed: a plain number in the model's time unit"):
        Scenario.load(path)
    path.write_text(source.replace("time = 10", "time = 10\nroute = \"iv\""), encoding="utf-8")
    with pytest.raises(ScenarioError, match="route"):
        Scenario.load(path)  # the declared drug allows oral only
    scenario = Scenario.load(model_dir() / "third_party" / "ldopa_second_dose.toml")
    assert scenario.regimen.doses[0].route == "oral" and scenario.model.drugs["ldopa"].routes == ("oral",)


def test_factors_and_endpoints_are_checked_before_any_run():
    from thymosim.analysis.sweep import run_sweep

    scenario = named("cisplatin_vinorelbine")
    with pytest.raises(ScenarioError, match=r"doses\[20\]|20"):
        run_sweep(scenario, grid({"doses[20].amt": [1.0]}))
    with pytest.raises(ScenarioError, match="nope"):
        run_sweep(scenario, grid({"nope": [1.0]}))
    with pytest.raises(KeyError, match="not an output"):
        run_sweep(scenario, grid({"PK_CL": [80.0]}), endpoints=["auc:C_dopa"])


def test_dosing_a_model_does_not_depend_on_the_previous_regimen():
    model = default_model()
    regimen = Regimen((Dose("thymalfasin", "1.6 mg", ii=3.5, addl=3),))
    first = simulate(regimen=regimen, horizon=14, model=model)
    simulate(regimen=named("prag_ta1_loading").regimen, horizon=200, model=model)
    np.testing.assert_array_equal(first.to_numpy(), simulate(regimen=regimen, horizon=14, model=model).to_numpy())


ROBERTSON = """
model robertson
  A -> B; 0.04*A
  B + B -> C + B; 3e7*B*B
  B + C -> A + C; 1e4*B*C
  A = 1; B = 0; C = 0
end
"""


def test_a_stiff_system_falls_back_from_adams_to_bdf():
    """Robertson's kinetics is the classic stiff problem: a non-stiff (Adams) model runs out of
    steps, the run is redone with BDF (rtol 1e-8) and says so."""
    adams = Model.from_sbml(sbml_of(ROBERTSON), stiff=False, rtol=1e-6, atol=1e-10)
    df = simulate(horizon=4e4, step=4e3, model=adams)
    assert df.attrs["solver"] == "BDF rtol 1e-08 (stiff fallback)"
    bdf = simulate(horizon=4e4, step=4e3, model=Model.from_sbml(sbml_of(ROBERTSON), rtol=1e-10, atol=1e-14))
    np.testing.assert_allclose(df[["A", "B", "C"]], bdf[["A", "B", "C"]], rtol=1e-4, atol=1e-9)
    assert simulate(horizon=2, model=default_model()).attrs["solver"] == "Adams rtol 1e-06"


def test_values_on_a_plausible_bound_are_not_warned_about():
    import warnings

    model = default_model()
    pid, (_, lower, upper) = next((p, lim) for p, lim in model.limits.items() if 0 < lim[1] < lim[2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.check_values({pid: lower, **{}}, warn=True)
        model.check_values({pid: lower * (1 + 1e-15)}, warn=True)
        model.check_values({pid: lower * 10 / 10 - 1e-17}, warn=True)
        model.check_values({pid: upper}, warn=True)
    with pytest.warns(UserWarning, match=f"{pid} = .* outside its plausible range"):
        model.check_values({pid: lower * 0.99}, warn=True)
