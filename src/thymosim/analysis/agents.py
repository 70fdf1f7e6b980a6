"""Thymalfasin beside the seed's comparators (G-CSF, IL-2, PD-1 inhibitor) on one chemotherapy
backbone: cisplatin + vinorelbine x 4 (``models/scenarios/cisplatin_vinorelbine*.toml``).

:func:`compare_agents` simulates every arm for one patient and reads the endpoints a clinician
compares (neutropenia, lymphopenia, cytokines, toxicity markers, tumour); with a virtual population
(:func:`thymosim.analysis.population.virtual_population`) it adds each arm's RECIST response rates.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from thymosim.analysis.claims import evaluate
from thymosim.analysis.endpoints import REGISTRY
from thymosim.patient import Patient
from thymosim.scenario import named
from thymosim.simulation import simulate
from thymosim.tables import comparators, parameter_value

_DATA = comparators()
ARMS: dict[str, str] = _DATA["arms"]
"""Arm label -> named scenario (the backbone alone first: the reference of every comparison);
``models/data/comparators.toml``."""

COLUMNS: dict[str, str] = {name: REGISTRY[name].text for name in (
    "ANC_nadir", "ANC_peak", "days_ANC_below_500", "days_ANC_below_1000", "lymphocyte_nadir",
    "lymphocyte_recovery_day", "CD4_nadir", "CD4_recovery_day", "auc_CD4", "auc_NK", "NK_peak_fold",
    "Treg_peak_fold", "IL2_peak", "IL2_therapy_peak", "IFNg_peak", "capillary_leak_peak", "tumour_best_change")}
"""Columns of the per-arm table (``agents.csv``): endpoints of the registry, with their descriptions and units."""

SENSITIVITY: float = _DATA["chemo_sensitive"]["factor"]
"""How many times as sensitive the chemo-sensitive patient's marrow is (``models/data/comparators.toml``)."""
PATIENTS: dict[str, Patient] = {
    "typical": Patient(),
    "chemo-sensitive": Patient(parameters={p: SENSITIVITY * parameter_value(p)
                                           for p in _DATA["chemo_sensitive"]["parameters"]}),
}
"""The patients of the comparison: the typical patient (grade 3-4 neutropenia is rare on this backbone,
20 % of cycles) and one whose marrow is :data:`SENSITIVITY` times as sensitive (the parameters of
``models/data/comparators.toml``, inside their plausible ranges), who has weeks of severe neutropenia
without G-CSF: the patient G-CSF is for."""


def arm_endpoints(df: pd.DataFrame) -> dict[str, float]:
    """The :data:`COLUMNS` of one simulated arm (:data:`thymosim.analysis.endpoints.REGISTRY`)."""
    return {name: float(REGISTRY[name](df)) for name in COLUMNS}


def simulate_arms(patient: Patient | None = None, arms: Mapping[str, str] = ARMS, step: float = 0.05,
                  horizon: float | None = None) -> dict[str, pd.DataFrame]:
    """Time course of every arm for one ``patient`` (default: the typical patient) [days]."""
    patient = patient or Patient()
    out = {}
    for label, name in arms.items():
        scenario = named(name)
        out[label] = simulate(patient, scenario.regimen, horizon=horizon or scenario.horizon, step=step,
                              model=scenario.model)
    return out


def compare_agents(patients: Mapping[str, Patient] = PATIENTS, arms: Mapping[str, str] = ARMS, step: float = 0.05,
                   population: pd.DataFrame | None = None, workers: int = 1,
                   progress: bool = True) -> tuple[pd.DataFrame, dict[str, dict[str, pd.DataFrame]]]:
    """(table, time courses by patient and arm): one row per patient and arm with :data:`COLUMNS`;
    with a virtual ``population`` also ``n``, ``ORR``/``DCR`` [%] with exact 95 % intervals and the
    population's median ANC nadir (the same for both patients' rows). The same virtual patients
    receive every arm (a paired comparison: the intervals are per arm; no between-arm test is implied)."""
    courses = {who: simulate_arms(patient, arms, step) for who, patient in patients.items()}
    table = pd.DataFrame([{"patient": who, "arm": label, "scenario": arms[label], **arm_endpoints(df)}
                          for who, arm_courses in courses.items() for label, df in arm_courses.items()])
    if population is not None:
        from thymosim.analysis.trial import run_arm, summarise

        rows = []
        for label, name in arms.items():
            arm_runs = run_arm(name, population, workers=workers, progress=progress).assign(arm=label)
            summary = summarise(arm_runs).iloc[0]
            rows.append({"arm": label, "n": int(summary.n), "failed": int(summary.failed),
                         **{k: float(summary[k]) for k in ("ORR", "ORR_lo", "ORR_hi", "DCR", "DCR_lo", "DCR_hi")},
                         "population_ANC_nadir_median": float(arm_runs["nadir:ANC"].median())})
        table = table.merge(pd.DataFrame(rows), on="arm")
    return table, courses


# --- the seed's comparator table as checks --------------------------------------------------------

CLAIMS: list[dict] = _DATA["claims"]
"""The seed's comparator claims with their checks, thresholds and sources (``models/data/comparators.toml``)."""


def claims(table: pd.DataFrame) -> pd.DataFrame:
    """The seed's comparator table, claim by claim, against ``table`` (from :func:`compare_agents`):
    ``id``, ``claim``, ``source``, ``verdict`` (``supported`` / ``contradicted``), the model's numbers per
    check and a ``note`` (e.g. a claim that holds by construction, so it tests nothing). A contradicted
    claim stays in the table with the reason."""
    return evaluate(table, CLAIMS, next(iter(ARMS)))
