"""Scenario files: round trip, named scenarios, and a clear error for every malformed file."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thymosim import Patient
from thymosim.regimen import Dose, Regimen
from thymosim.scenario import TOP_KEYS, Scenario, ScenarioError, named, names

VALID = {
    "name": "example",
    "horizon": "28 day",
    "patient": {"cd4": 300.0, "cd8": 200.0, "cd3": 520.0, "parameters": {"PK_CL": 90.0}},
    "doses": [{"drug": "thymalfasin", "amt": "1.6 mg", "ii": "3.5 day", "until": "28 day"},
              {"drug": "cisplatin", "amt": "80 mg/m2", "dur": "1 h"}],
}


def with_(path, value):
    """A copy of VALID with the value at ``path`` (keys / list indices) replaced."""
    import copy

    data = copy.deepcopy(VALID)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def test_toml_round_trip(tmp_path):
    scenario = Scenario.from_dict(VALID)
    again = Scenario.load(scenario.save(tmp_path / "s.toml"))
    assert again == scenario
    assert again.regimen == scenario.regimen and again.patient == scenario.patient


@pytest.mark.parametrize("name", names())
def test_every_named_scenario_loads_round_trips_and_simulates(name, tmp_path):
    scenario = named(name)
    assert scenario.source and scenario.description
    assert Scenario.load(scenario.save(tmp_path / f"{name}.toml")) == scenario
    df = scenario.simulate(step=1)
    assert np.isfinite(df.drop(columns="time").to_numpy()).all()
    assert (df.drop(columns="time").to_numpy() >= 0).all()


def test_named_scenarios_cover_the_trial_arms():
    assert {"cisplatin_vinorelbine", "cisplatin_vinorelbine_ta1", "ifosfamide", "ifosfamide_ta1_ifna",
            "prag", "prag_ta1", "prag_ta1_loading"} <= set(names())
    loading = named("prag_ta1_loading").regimen.administrations()
    first_week = loading[(loading.drug == "thymalfasin") & (loading.time < 7)]
    assert len(first_week) == 7 and (first_week.amt == 3.2).all()


def test_salvati_arm_with_ta1_and_ifna_keeps_counts_higher():
    """Salvati 1996: with Ta1 + IFN-alpha, CD4/CD8/NK were not significantly depressed."""
    alone = named("ifosfamide").simulate(step=1).set_index("time")
    combo = named("ifosfamide_ta1_ifna").simulate(step=1).set_index("time")
    for col in ["CD4", "CD8", "NK"]:
        assert combo.loc[42, col] > alone.loc[42, col], col


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("colour",), "red", r"^colour: unknown key; allowed: name"),
        (("name",), "", r"^name: ''"),
        (("horizon",), "7 day", r"^horizon: '7 day' .* before the last dose at 24.5 days"),
        (("horizon",), -3, r"^horizon: -3"),
        (("horizon",), "soon", r"^horizon: 'soon'"),
        (("patient", "cd4"), -5.0, r"^patient.cd4: -5.0; allowed: a finite number"),
        (("patient", "weight"), 70, r"^patient.weight: unknown key"),
        (("patient", "parameters", "PK_nope"), 1.0, r"^patient.parameters.PK_nope: unknown parameter"),
        (("patient", "parameters", "PK_CL"), "fast", r"^patient.parameters.PK_CL: 'fast'"),
        (("doses", 0, "amt"), "-1.6 mg", r"^doses\[0\].amt: '-1.6 mg'"),
        (("doses", 0, "amt"), "1.6 mL", r"^doses\[0\].unit: .*mL.*allowed: g, mg"),
        (("doses", 0, "ii"), "0 day", r"^doses\[0\].ii: '0 day'"),
        (("doses", 0, "ii"), "-2 day", r"^doses\[0\].ii: '-2 day'"),
        (("doses", 0, "drug"), "aspirin", r"^doses\[0\].drug: 'aspirin': unknown drug .* allowed: thymalfasin"),
        (("doses", 1, "dur"), "2 parsec", r"^doses\[1\].dur: '2 parsec'"),
        (("doses", 1, "frequency"), "often", r"^doses\[1\].frequency: unknown key"),
        (("doses",), "many", r"^doses: 'many'"),
        (("outputs",), ["CD4", "CD99"], r"^outputs: .*CD99"),
    ],
)
def test_malformed_scenario_names_key_value_and_allowed(path, value, message):
    with pytest.raises(ScenarioError, match=message):
        Scenario.from_dict(with_(path, value))


def test_malformed_toml_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[doses]\n')
    with pytest.raises(ScenarioError, match="not valid TOML"):
        Scenario.load(bad)
    code = tmp_path / "code.toml"
    code.write_text('name = "__import__(\'os\').system(\'echo hi\')"\n[[doses]]\ndrug = "thymalfasin"\namt = 1.6\n')
    assert Scenario.load(code).name.startswith("__import__")  # data, never evaluated


# --- property-based: any value that breaks a field gives a ScenarioError (never another exception)
junk = st.one_of(st.none(), st.booleans(), st.integers(-10**6, -1), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(max_size=12), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                                           st.integers(), max_size=2))
FIELDS = [("horizon",), ("step",), ("patient", "cd4"), ("patient", "bsa"), ("doses", 0, "amt"), ("doses", 0, "ii"),
          ("doses", 0, "drug"), ("doses", 0, "until"), ("doses", 1, "dur"), ("doses", 0, "addl"), ("outputs",)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=junk)
def test_parser_never_crashes_on_junk(field, value):
    try:
        Scenario.from_dict(with_(field, value))
    except ScenarioError as err:  # the message starts with the offending key path
        assert str(err).split(":")[0].split(".")[0].split("[")[0] in TOP_KEYS, str(err)


@settings(max_examples=100, deadline=None)
@given(drug=st.sampled_from(["thymalfasin", "cisplatin", "vinorelbine", "gm_csf", "ifn_alpha"]),
       amt=st.floats(0, 5, allow_nan=False), time=st.floats(0, 50, allow_nan=False),  # inside every max_amt
       ii=st.floats(0.1, 30, allow_nan=False), addl=st.integers(0, 10))
def test_round_trip_of_random_valid_scenarios(drug, amt, time, ii, addl):
    unit = {"ifn_alpha": "MU"}.get(drug, "mg")
    regimen = Regimen((Dose(drug, amt, unit, time=time, ii=ii, addl=addl),))
    horizon = math.ceil(regimen.last_time()) + 1
    scenario = Scenario("random", regimen, Patient(), horizon=horizon, step=min(1.0, horizon))
    assert Scenario.from_dict(scenario.to_dict()) == scenario


@pytest.mark.parametrize("change, message", [
    ({"name": "x" * 100_000}, r"^name: 'xxx.*\.\.\.; allowed: a non-empty string of at most 200 characters"),
    ({"horizon": 1e9, "step": 1e-3}, r"^step: .* output rows; allowed: at most 1000000"),
    ({"step": 1e-9}, r"^step: 1e-09 .* output rows; allowed: at most 1000000"),
    ({"doses": [{"drug": "thymalfasin", "amt": "1.6 mg", "ii": "1 min", "addl": 100_000}]},
     r"^doses: 100001 dose actions; allowed: at most 20000"),
])
def test_resource_limits_are_stated_and_enforced_before_allocation(change, message):
    """Huge names, output grids and dose counts are refused at load with the limit and where to
    change it, before anything is allocated or simulated (these took minutes or GiB before)."""
    data = named("cisplatin_vinorelbine_ta1").to_dict() | change
    if "doses" in change:
        data["horizon"] = 200
    with pytest.raises(ScenarioError, match=message) as err:
        Scenario.from_dict(data)
    assert len(str(err.value)) < 400  # the bad value is shortened, not echoed
