"""Thymalfasin beside the seed's comparators (G-CSF, IL-2, PD-1 inhibitor) on one chemotherapy
backbone: cisplatin + vinorelbine x 4 (``models/scenarios/cisplatin_vinorelbine*.toml``).

:func:`compare_agents` simulates every arm for one patient and reads the endpoints a clinician
compares (neutropenia, lymphopenia, cytokines, toxicity markers, tumour); with a virtual population
(:func:`thymosim.analysis.population.virtual_population`) it adds each arm's RECIST response rates.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from thymosim.analysis import recist
from thymosim.analysis.endpoints import auc, days_below, nadir, peak, recovery_day, tumour_best_change
from thymosim.patient import Patient
from thymosim.scenario import named
from thymosim.simulation import simulate
from thymosim.tables import parameter_value

ARMS: dict[str, str] = {
    "chemo alone": "cisplatin_vinorelbine",
    "+ thymalfasin": "cisplatin_vinorelbine_ta1",
    "+ filgrastim": "cisplatin_vinorelbine_filgrastim",
    "+ pegfilgrastim": "cisplatin_vinorelbine_pegfilgrastim",
    "+ IL-2 high dose": "cisplatin_vinorelbine_il2_high",
    "+ IL-2 low dose": "cisplatin_vinorelbine_il2_low",
    "+ PD-1 inhibitor": "cisplatin_vinorelbine_pembrolizumab",
}
"""Arm label -> named scenario (the backbone alone first: the reference of every comparison)."""

COLUMNS: dict[str, str] = {
    "ANC_nadir": "lowest neutrophil count [cells/uL]",
    "ANC_peak": "highest neutrophil count [cells/uL]",
    "days_ANC_below_500": "days with neutrophils < 500/uL (grade 4 neutropenia) [day]",
    "days_ANC_below_1000": "days with neutrophils < 1000/uL (grade >= 3) [day]",
    "lymphocyte_nadir": "lowest CD3 count [cells/uL]",
    "lymphocyte_recovery_day": "first day after the nadir with CD3 back to 80 % of baseline [day]; 0 when it never "
                               "fell below 80 %",
    "CD4_nadir": "lowest CD4 count [cells/uL]",
    "CD4_recovery_day": "first day after the nadir with CD4 back to 80 % of baseline [day]; 0 when it never fell "
                        "below 80 %",
    "auc_CD4": "area under CD4 over the horizon [cells/uL x day]",
    "auc_NK": "area under NK over the horizon [cells/uL x day]",
    "NK_peak_fold": "highest NK count over baseline [-]",
    "Treg_peak_fold": "highest regulatory T-cell count over baseline [-]",
    "IL2_peak": "highest endogenous IL-2 [pM]",
    "IL2_therapy_peak": "highest plasma IL-2 from therapy [pM]",
    "IFNg_peak": "highest IFN-gamma [pM]",
    "capillary_leak_peak": "capillary-leak marker: highest extravasated fluid [% body weight]",
    "tumour_best_change": "best tumour diameter change from baseline [%]",
}
"""Columns of the per-arm table, with units (``agents.csv``)."""

SENSITIVITY = 3.0
"""How many times as sensitive the chemo-sensitive patient's marrow is (both drug slopes)."""
PATIENTS: dict[str, Patient] = {
    "typical": Patient(),
    "chemo-sensitive": Patient(parameters={p: SENSITIVITY * parameter_value(p)
                                           for p in ("CHEMO_slope_cis", "CHEMO_slope_vnr")}),
}
"""The patients of the comparison: the typical patient (grade 3-4 neutropenia is rare on this backbone,
20 % of cycles, biology.md 7c) and one whose marrow is 3 times as sensitive (both slopes inside their
plausible ranges), who has weeks of severe neutropenia without G-CSF: the patient G-CSF is for."""


def arm_endpoints(df: pd.DataFrame) -> dict[str, float]:
    """The :data:`COLUMNS` of one simulated arm."""
    def fold(column: str) -> float:
        return peak(column)(df) / float(df[column].iloc[0])

    return {
        "ANC_nadir": nadir("ANC")(df), "ANC_peak": peak("ANC")(df),
        "days_ANC_below_500": days_below("ANC", 500.0)(df), "days_ANC_below_1000": days_below("ANC", 1000.0)(df),
        "lymphocyte_nadir": nadir("CD3")(df), "lymphocyte_recovery_day": recovery_day("CD3", 0.8)(df),
        "CD4_nadir": nadir("CD4")(df), "CD4_recovery_day": recovery_day("CD4", 0.8)(df),
        "auc_CD4": auc("CD4")(df), "auc_NK": auc("NK")(df), "NK_peak_fold": fold("NK"), "Treg_peak_fold": fold("Treg"),
        "IL2_peak": peak("IL2")(df), "IL2_therapy_peak": peak("il2_plasma")(df), "IFNg_peak": peak("IFNg")(df),
        "capillary_leak_peak": peak("capillary_leak")(df), "tumour_best_change": tumour_best_change(df),
    }


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
            patients = run_arm(name, population, workers=workers, progress=progress).assign(arm=label)
            summary = summarise(patients).iloc[0]
            rows.append({"arm": label, "n": int(summary.n), "failed": int(summary.failed),
                         **{k: float(summary[k]) for k in ("ORR", "ORR_lo", "ORR_hi", "DCR", "DCR_lo", "DCR_hi")},
                         "population_ANC_nadir_median": float(patients["nadir:ANC"].median())})
        table = table.merge(pd.DataFrame(rows), on="arm")
    return table, courses


# --- the seed's comparator table as checks --------------------------------------------------------

LEUKOCYTOSIS = 100_000.0
"""ANC [cells/uL] above which G-CSF leukocytosis counts as out of the clinical range (labels: rare)."""

def _row(table: pd.DataFrame, arm: str, patient: str = "typical") -> pd.Series:
    return table[(table.patient == patient) & (table.arm == arm)].iloc[0]


def _claims(table: pd.DataFrame) -> list[tuple[str, str, bool, str]]:
    alone, ta1 = _row(table, "chemo alone"), _row(table, "+ thymalfasin")
    fil, peg = _row(table, "+ filgrastim"), _row(table, "+ pegfilgrastim")
    hd, ld, pd1 = _row(table, "+ IL-2 high dose"), _row(table, "+ IL-2 low dose"), _row(table, "+ PD-1 inhibitor")
    s_alone = _row(table, "chemo alone", "chemo-sensitive")
    s_fil, s_peg = _row(table, "+ filgrastim", "chemo-sensitive"), _row(table, "+ pegfilgrastim", "chemo-sensitive")
    arms = table[table.patient == "typical"].set_index("arm")
    out = []

    def claim(text: str, source: str, holds: bool, detail: str, note: str = "") -> None:
        out.append((text, source, bool(holds), detail, note))

    claim("G-CSF: prevents severe (grade 4) neutropenia", "seed table; Crawford 1991 NEJM (6 -> 1 day of ANC < 500)",
          s_fil.days_ANC_below_500 < 0.5 * s_alone.days_ANC_below_500
          and s_peg.days_ANC_below_500 < 0.5 * s_alone.days_ANC_below_500,
          f"chemo-sensitive patient, days ANC < 500: {s_alone.days_ANC_below_500:.1f} alone, "
          f"{s_fil.days_ANC_below_500:.1f} filgrastim, {s_peg.days_ANC_below_500:.1f} pegfilgrastim")
    claim("G-CSF: limited effect on lymphocyte recovery", "seed table; Weaver 1994 Bone Marrow Transplant 13:411",
          abs(fil.lymphocyte_nadir / alone.lymphocyte_nadir - 1) < 0.02
          and abs(peg.lymphocyte_nadir / alone.lymphocyte_nadir - 1) < 0.02,
          f"CD3 nadir {alone.lymphocyte_nadir:.0f} alone, {fil.lymphocyte_nadir:.0f} filgrastim, "
          f"{peg.lymphocyte_nadir:.0f} pegfilgrastim /uL",
          "holds by construction: the model has no path from G-CSF to lymphocytes (the NK progenitor signal comes "
          "from a chain without G-CSF action)")
    claim("IL-2: stimulates the growth of T and NK cells (most of all agents)",
          "seed table; Int J Cancer 1989 (PMID 2784419)",
          arms.NK_peak_fold.idxmax() == "+ IL-2 high dose" and hd.lymphocyte_nadir > alone.lymphocyte_nadir,
          f"NK peak {hd.NK_peak_fold:.1f}x baseline (next: {arms.NK_peak_fold.drop('+ IL-2 high dose').max():.1f}x); "
          f"CD3 nadir {hd.lymphocyte_nadir:.0f} vs {alone.lymphocyte_nadir:.0f} /uL")
    claim("IL-2: significant toxicity, capillary leak syndrome (highest marker)", "seed table; Proleukin boxed warning",
          arms.capillary_leak_peak.idxmax() == "+ IL-2 high dose" and hd.capillary_leak_peak > 2.0,
          f"leak marker {hd.capillary_leak_peak:.1f} % body weight (high dose), "
          f"{ld.capillary_leak_peak:.2f} (low dose)")
    claim("Checkpoint inhibitor: restores cytotoxic function (more tumour kill) without raising counts",
          "seed table; Diehl 2017 Oncotarget 8:114268 (lymphopenia prevalence unchanged on PD-1 blockade)",
          pd1.tumour_best_change < alone.tumour_best_change - 1.0
          and abs(pd1.lymphocyte_nadir / alone.lymphocyte_nadir - 1) < 0.01,
          f"best tumour change {pd1.tumour_best_change:.1f} vs {alone.tumour_best_change:.1f} %; CD3 nadir "
          f"{pd1.lymphocyte_nadir:.0f} vs {alone.lymphocyte_nadir:.0f} /uL",
          "counts unchanged by construction (PD-1 occupancy acts on tumour kill only); the tumour effect is a result")
    claim("Thymalfasin: restores lymphocyte counts and cytokines after chemotherapy", "seed table and Table 1",
          ta1.lymphocyte_nadir > 1.1 * alone.lymphocyte_nadir and ta1.IFNg_peak > alone.IFNg_peak,
          f"CD3 nadir {ta1.lymphocyte_nadir:.0f} vs {alone.lymphocyte_nadir:.0f} /uL; IFN-g peak "
          f"{ta1.IFNg_peak:.2f} vs {alone.IFNg_peak:.2f} pM")
    claim("Thymalfasin: no IL-2-type toxicity (capillary leak)", "seed table (excellent safety profile)",
          ta1.capillary_leak_peak < 0.01 * hd.capillary_leak_peak,
          f"leak marker {ta1.capillary_leak_peak:.2g} vs {hd.capillary_leak_peak:.1f} % body weight (IL-2 high dose)",
          "holds by construction: only therapeutic IL-2 drives the leak marker")
    claim("Low-dose IL-2 does not protect CD4 counts during chemotherapy", "Clin Cancer Res 2005;11:8413",
          abs(ld.CD4_nadir / alone.CD4_nadir - 1) < 0.1,
          f"CD4 nadir {ld.CD4_nadir:.0f} vs {alone.CD4_nadir:.0f} /uL")
    claim("IL-2: durable responses in some patients (not in most)",
          "seed table; high-dose IL-2 monotherapy ORR 15-20 % in melanoma and renal cancer (Proleukin label)",
          hd.tumour_best_change > recist.PR_CHANGE_PCT,
          f"typical patient: best tumour change {hd.tumour_best_change:.0f} % with high-dose IL-2 (a partial response) "
          f"vs {alone.tumour_best_change:.0f} % alone. Where this fails: the NK and CD8 cells IL-2 expands kill the "
          "tumour without exhaustion, intratumoural Tregs or the dose holds that capillary leak forces; the IL-2 "
          "antitumour effect is not calibrated to any response rate")
    s_peaks = {"filgrastim": max(fil.ANC_peak, s_fil.ANC_peak), "pegfilgrastim": max(peg.ANC_peak, s_peg.ANC_peak)}
    claim("G-CSF: neutrophil counts stay in the clinical range (leukocytosis > 100,000/uL is rare)",
          "Neupogen/Neulasta labels (leukocytosis in < 1-5 % of patients)",
          max(s_peaks.values()) < LEUKOCYTOSIS,
          f"ANC peak (typical or chemo-sensitive patient) {s_peaks['filgrastim']:.0f} filgrastim, "
          f"{s_peaks['pegfilgrastim']:.0f} pegfilgrastim /uL. Where this fails: the Friberg feedback "
          f"(ANC_0/ANC)^{parameter_value('CHEMO_gam'):g} is too weak to stop the marrow pool growing while "
          "pegfilgrastim stays above its EC50 for days; Quartino 2014 instead feeds back through G-CSF cleared by "
          "neutrophils")
    return out


def claims(table: pd.DataFrame) -> pd.DataFrame:
    """The seed's comparator table, claim by claim, against ``table`` (from :func:`compare_agents`):
    ``claim``, ``source``, ``verdict`` (``supported`` / ``contradicted``), the model's numbers and a
    ``note`` (e.g. a claim that holds by construction, so it tests nothing). A contradicted claim stays
    in the table with the reason."""
    return pd.DataFrame([{"claim": c, "source": s, "verdict": "supported" if ok else "contradicted", "model": d,
                          "note": n} for c, s, ok, d, n in _claims(table)])
