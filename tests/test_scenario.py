"""Scenario files: round trip, named scenarios, and a clear error for every malformed file."""

import math
from dataclasses import replace

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
    values = df.drop(columns="time").to_numpy()
    # counts and concentrations are >= 0 up to round-off (a drug washed out leaves -1e-166, not -1)
    assert (values >= -1e-9 * np.abs(values).max(axis=0)).all()


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
        (("patient", "height"), 170, r"^patient.height: unknown key"),
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


# --- cycles and sequencing in TOML (regimens as people write them) --------------------------
CYCLED_CHEMO = '''
name = "cisplatin_vinorelbine"
description = "Cisplatin 80 mg/m2 day 1 + vinorelbine 30 mg/m2 days 1, 8, 15, every 21 days, 4 cycles."
source = "as models/scenarios/cisplatin_vinorelbine.toml, written with cycles"
horizon = 180
step = 0.25

[[doses]]
drug = "cisplatin"
amt = "80 mg/m2"
dur = "1 h"
every = "21 day"
cycles = 4

[[doses]]
drug = "Vinorelbine"
amt = "30 mg/m2"
dur = "10 min"
days = [1, 8, 15]
every = "3 weeks"
cycles = 4
'''


def test_cycles_in_toml_give_the_three_record_file_exactly(tmp_path):
    path = tmp_path / "cycled.toml"
    path.write_text(CYCLED_CHEMO, encoding="utf-8")
    cycled, hand = Scenario.load(path), named("cisplatin_vinorelbine")
    assert len(cycled.regimen.doses) == 4 == len(hand.regimen.doses)
    assert cycled.regimen.administrations().equals(hand.regimen.administrations())
    assert cycled.regimen.actions(cycled.patient.bsa) == hand.regimen.actions(hand.patient.bsa)
    assert cycled.regimen.to_frame().equals(hand.regimen.to_frame())
    same_text = {"description": hand.description, "source": hand.source}
    assert replace(cycled, **same_text) == hand  # regimen, patient, horizon, step, outputs, model
    again = Scenario.load(cycled.save(tmp_path / "again.toml"))  # saved as plain records
    assert replace(again, **same_text) == hand


def test_after_in_toml_gives_the_loading_scenario_written_by_hand():
    """prag_ta1_loading with the day-7 start computed from the loading block (``after``)."""
    hand = named("prag_ta1_loading")
    data = hand.to_dict()
    loading = {"name": "loading", "drug": "thymalfasin", "amt": "3.2 mg", "ii": "1 day", "addl": 6}
    data["doses"] = [
        loading,
        {"drug": "radiotherapy", "amt": "8 Gy", "ii": "1 day", "addl": 2, "after": "loading"},
        {"drug": "GM-CSF", "amt": "150 ug", "ii": "1 day", "addl": 13, "after": "loading", "time": "2 day"},
        {"drug": "pd1_inhibitor", "amt": "200 mg", "ii": "21 day", "until": "187 day", "dur": "30 min",
         "after": ["loading"]},
        {"drug": "thymalfasin", "amt": "1.6 mg", "ii": "3.5 day", "until": "187 day", "after": "loading"},
    ]
    assert Scenario.from_dict(data).regimen == hand.regimen


def test_after_a_cycled_block_starts_when_its_last_cycle_ends_and_until_stays_absolute():
    data = {"name": "seq", "horizon": 180, "doses": [
        {"name": "chemo", "drug": "cisplatin", "amt": "80 mg/m2", "dur": "1 h", "every": 21, "cycles": 4},
        {"name": "chemo", "drug": "vinorelbine", "amt": "30 mg/m2", "dur": "10 min", "days": [1, 8, 15],
         "every": 21, "cycles": 4},
        {"drug": "thymalfasin", "amt": "1.6 mg", "ii": "3.5 day", "until": "180 day", "after": "chemo"}]}
    table = Scenario.from_dict(data).regimen.administrations()
    ta1 = table[table.drug == "thymalfasin"].time
    assert ta1.min() == 84 and ta1.max() < 180 and len(ta1) == 28
    vnr_until = {k: v for k, v in data["doses"][1].items() if k != "cycles"} | {"until": "84 day"}
    by_until = {**data, "doses": [data["doses"][0], vnr_until, data["doses"][2]]}
    assert Scenario.from_dict(by_until).regimen == Scenario.from_dict(data).regimen


@pytest.mark.parametrize("record, message", [
    ({"after": "chemo"}, r"^doses\[1\]\.after: 'chemo'; allowed: the name .* of earlier dose records: loading"),
    ({"after": 3}, r"^doses\[1\]\.after: 3; allowed"),
    ({"after": []}, r"^doses\[1\]\.after"),
    ({"every": 21, "cycles": 2, "ii": 3.5}, r"^doses\[1\]\.ii: 3\.5: not with days/every/cycles"),
    ({"every": 21, "cycles": 2, "addl": 2}, r"^doses\[1\]\.addl: 2: not with days/every/cycles"),
    ({"days": [1, 8]}, r"^doses\[1\]\.every: None"),
    ({"every": 21}, r"^doses\[1\]\.cycles: None: give either cycles = N or until"),
    ({"every": 21, "cycles": True}, r"^doses\[1\]\.cycles: True; allowed: an integer >= 1"),
    ({"every": 21, "cycles": 2, "days": [0, 8]}, r"^doses\[1\]\.days: \[0, 8\]: .*cycle days from 1 to 22"),
    ({"every": "21 parsecs", "cycles": 2}, r"^doses\[1\]\.every: '21 parsecs'"),
    ({"every": [21], "cycles": 2}, r"^doses\[1\]\.every: \[21\]; allowed: a number or a quantity string"),
    ({"name": 7}, r"^doses\[1\]\.name: 7; allowed: a string"),
])
def test_malformed_cycles_and_sequencing_name_the_key(record, message):
    data = {"name": "bad", "horizon": 180, "doses": [
        {"name": "loading", "drug": "thymalfasin", "amt": "3.2 mg", "ii": 1, "addl": 6},
        {"drug": "thymalfasin", "amt": "1.6 mg"} | record]}
    with pytest.raises(ScenarioError, match=message):
        Scenario.from_dict(data)


def test_after_names_only_earlier_records():
    data = {"name": "bad", "horizon": 180, "doses": [
        {"drug": "thymalfasin", "amt": "1.6 mg", "after": "loading"},
        {"name": "loading", "drug": "thymalfasin", "amt": "3.2 mg", "ii": 1, "addl": 6}]}
    with pytest.raises(ScenarioError, match=r"^doses\[0\]\.after: 'loading'; allowed: .*none named yet"):
        Scenario.from_dict(data)


def test_toml_drug_names_and_units_as_people_write_them():
    data = {"name": "spelled", "horizon": "6 months", "step": "12 hrs", "doses": [
        {"drug": "Thymalfasin", "amt": "1.6 mg", "ii": "1 wk", "until": "6 months"},
        {"drug": "CISPLATIN", "amt": "80 mg/m2", "dur": "1 hr"}]}
    scenario = Scenario.from_dict(data)
    assert scenario.horizon == 182.625 and scenario.step == 0.5
    assert {d.drug for d in scenario.regimen.doses} == {"thymalfasin", "cisplatin"}
    per_kg = Scenario.from_dict({"name": "perkg", "doses": [{"drug": "cisplatin", "amt": "2 mg/kg"}]})
    assert per_kg.regimen.doses[0].per_weight and per_kg.regimen.doses[0].amt == 2.0
    bad = {"name": "perkg", "doses": [{"drug": "radiotherapy", "amt": "2 Gy/kg"}]}
    with pytest.raises(ScenarioError, match=r"^doses\[0\]\.unit: '2 Gy/kg': .*per kg of body weight.*Gy"):
        Scenario.from_dict(bad)
