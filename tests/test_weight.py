"""Per-kg doses: the patient's body weight (covariate BW, ``Patient.weight``) scales them in the
driver, exactly as the body surface area scales per-m2 doses. BW is not in the ODEs."""

import numpy as np
import pytest

from thymosim import Dose, Patient, Regimen, default_model, simulate
from thymosim.patient import HEALTHY
from thymosim.scenario import Scenario, ScenarioError, named
from thymosim.tables import load_covariates, load_parameter_table

PER_KG = Regimen(Dose("thymalfasin", "0.025 mg/kg", ii="3.5 day", addl=3))
FLAT = Regimen(Dose("thymalfasin", "1.6 mg", ii="3.5 day", addl=3))


def test_body_weight_is_a_covariate_of_the_table_and_the_patient():
    row = load_parameter_table().loc["BW"]
    assert (row.value, row.unit, row.lower, row.upper, row.domain, row.role) == (65, "kg", 30, 200, "positive",
                                                                                  "covariate")
    assert load_covariates()["weight"] == "BW" and default_model().covariates["weight"] == "BW"
    assert Patient().weight == 65.0 and HEALTHY.weight == 65.0
    assert default_model().values(Patient(weight=80))["BW"] == 80.0


@pytest.mark.parametrize("weight", [0, -70, float("nan")])
def test_a_weight_not_above_zero_is_refused_naming_the_field(weight):
    with pytest.raises(ValueError, match=r"^Patient\.weight must be > 0"):
        Patient(weight=weight)


def test_per_kg_dose_for_64_kg_is_exactly_the_flat_dose():
    patient = Patient(weight=64)
    assert PER_KG != FLAT  # as data they differ: one is per kg of body weight
    assert PER_KG.administrations(patient.bsa, patient.weight).equals(FLAT.administrations(patient.bsa,
                                                                                           patient.weight))
    assert PER_KG.actions(patient.bsa, weight=patient.weight) == FLAT.actions(patient.bsa, weight=patient.weight)
    per_kg = simulate(patient, PER_KG, horizon=14, step=0.5)
    flat = simulate(patient, FLAT, horizon=14, step=0.5)
    assert per_kg.equals(flat)


def test_per_kg_dose_scales_with_weight():
    given = PER_KG.administrations(weight=80)
    assert given.amt.tolist() == [2.0] * 4 and not given.per_weight.any()
    assert PER_KG.doses[0].amount(1.8, 80) == 2.0
    heavy = simulate(Patient(weight=80), PER_KG, horizon=7, outputs=["ta1_plasma"])
    light = simulate(Patient(weight=64), PER_KG, horizon=7, outputs=["ta1_plasma"])
    assert heavy.ta1_plasma.max() > light.ta1_plasma.max()
    two = simulate(Patient(weight=80), Regimen(Dose("thymalfasin", "2 mg", ii="3.5 day", addl=3)), horizon=7,
                   outputs=["ta1_plasma"])
    np.testing.assert_allclose(heavy.ta1_plasma, two.ta1_plasma, rtol=1e-12)


def test_weight_does_not_move_flat_or_per_m2_doses():
    regimen = FLAT + Dose("cisplatin", "80 mg/m2", dur="1 h")
    assert regimen.actions(1.8, weight=40) == regimen.actions(1.8, weight=120) == regimen.actions(1.8)


def test_per_kg_units_as_people_write_them():
    assert Dose("thymalfasin", "25 ug/kg") == Dose("thymalfasin", 0.025, "mg/kg") == Dose("thymalfasin", "0.025 mg/KG")
    assert Dose("ifn_alpha", "50000 IU/kg").amt == pytest.approx(0.05)
    assert Dose("ifn_alpha", "50000 IU/kg").per_weight
    assert Regimen(Dose("thymalfasin", "0.025 mg/kg")).to_frame().UNIT.tolist() == ["mg/kg"]
    with pytest.raises(ValueError, match=r"^unit: .*'Gy/kg' is per kg of body weight"):
        Dose("radiotherapy", "2 Gy/kg")
    with pytest.raises(ValueError, match=r"^unit: .*both per m2 and per kg"):
        Dose("cisplatin", "2 mg/kg", per_bsa=True)


def test_patient_weight_in_a_toml_scenario(tmp_path):
    text = """name = "weighed"
horizon = 14
[patient]
weight = 70
[[doses]]
drug = "thymalfasin"
amt = "0.025 mg/kg"
ii = "3.5 day"
addl = 3
"""
    path = tmp_path / "weighed.toml"
    path.write_text(text, encoding="utf-8")
    scenario = Scenario.load(path)
    assert scenario.patient.weight == 70.0 and scenario.regimen.doses[0].per_weight
    assert [a[2] for a in scenario.regimen.actions(scenario.patient.bsa, weight=scenario.patient.weight)] == \
        pytest.approx([1.75 * default_model().drugs["thymalfasin"].model_per_canonical] * 4)
    flat = Regimen(Dose("thymalfasin", "1.75 mg", ii="3.5 day", addl=3))
    np.testing.assert_allclose(scenario.simulate().to_numpy(),
                               simulate(Patient(weight=70), flat, horizon=14).to_numpy(), rtol=1e-12)
    saved = tmp_path / "again.toml"
    scenario.save(saved)
    again = Scenario.load(saved)
    assert again.patient.weight == 70.0 and again.regimen == scenario.regimen
    data = scenario.to_dict() | {"patient": {"weight": 0}}
    with pytest.raises(ScenarioError, match=r"^patient\.weight"):
        Scenario.from_dict(data)


def test_the_untreated_model_does_not_depend_on_weight():
    light = simulate(Patient(weight=40), horizon=10, step=1)
    heavy = simulate(Patient(weight=150), horizon=10, step=1)
    assert light.equals(heavy)


def test_named_scenarios_are_unchanged_by_the_new_covariate():
    scenario = named("cisplatin_vinorelbine_ta1")
    assert scenario.patient.weight == 65.0
    assert not any(d.per_weight for d in scenario.regimen.doses)
