"""The comparators (issue 14): G-CSF, IL-2 and PD-1 inhibitor PK against published profiles, their
effects against published observations not used to set their parameters, and the seed's comparator
table claim by claim (analysis/agents.py)."""

import numpy as np
import pytest

from thymosim import Dose, Patient, Regimen, simulate
from thymosim.analysis.agents import ARMS, CLAIMS, COLUMNS, PATIENTS, claims, compare_agents
from thymosim.analysis.endpoints import days_below, resolve
from thymosim.tables import load_parameter_table


@pytest.fixture(scope="module")
def agents():
    return compare_agents()


def test_filgrastim_half_life_and_tmax_match_the_label():
    """Filgrastim t1/2 about 3.5 h (label); SC Tmax 2-8 h; below 1 ng/mL within a day."""
    df = simulate(Patient(), Regimen(Dose("filgrastim", "5 ug/kg")), horizon=2, step=0.005, outputs=["gcsf_plasma"])
    t, c = df.time.to_numpy(), df.gcsf_plasma.to_numpy()
    tmax_h = 24 * t[c.argmax()]
    late = (t >= 1.0) & (t <= 1.5)
    slope = np.polyfit(t[late], np.log(c[late]), 1)[0]
    assert 2 <= tmax_h <= 8
    assert 24 * np.log(2) / -slope == pytest.approx(3.5, abs=0.75)
    assert c[t == 1.0][0] < 1.0


def test_pegfilgrastim_is_cleared_by_neutrophils():
    """Neutrophil-mediated clearance dominates (Yang 2011): with the marrow 3x as sensitive (deeper
    neutropenia) pegfilgrastim stays above 2 ng/mL for longer than in the typical patient."""
    regimen = Regimen(Dose("cisplatin", "80 mg/m2", dur="1 h"), Dose("vinorelbine", "30 mg/m2"),
                      Dose("pegfilgrastim", "6 mg", time=1))
    above = {}
    for who, patient in PATIENTS.items():
        df = simulate(patient, regimen, horizon=21, step=0.05, outputs=["gcsf_plasma"])
        above[who] = float((df.gcsf_plasma > 2.0).sum() * 0.05)
    assert above["chemo-sensitive"] > above["typical"]


def test_pd1_occupancy_stays_above_70_percent_for_two_months_after_one_dose():
    """Brahmer 2010 (JCO 28:3167): one nivolumab dose keeps PD-1 occupancy > 70 % for >= 2 months."""
    df = simulate(Patient(), Regimen(Dose("nivolumab", "240 mg", dur="30 min")), horizon=60, step=1.0,
                  extra=["pd1_occ"])
    assert df.pd1_occ.iloc[1:].min() > 0.7


def test_pembrolizumab_steady_state_trough():
    """200 mg q3w: steady-state trough about 30 ug/mL (Ahamadi 2017 popPK, reference subject), +-30 %."""
    df = simulate(Patient(), Regimen(Dose("pembrolizumab", "200 mg", dur="30 min", ii="21 day", addl=11)),
                  horizon=231, times=[0.0, 231.0 - 1e-6], extra=["IT_pd1"])
    volume = load_parameter_table().value["IT_V_pd1"]
    assert df.IT_pd1.iloc[-1] / volume == pytest.approx(30.0, rel=0.3)


def test_high_dose_il2_rebound_lymphocytosis():
    """After a high-dose IV course, blood lymphocytes rebound to about 2x baseline within days
    (Int J Cancer 1989, PMID 2784419: 2x at 4-7 days); not used to set any parameter."""
    df = simulate(Patient(), Regimen(Dose("aldesleukin", "600000 IU/kg", dur="15 min", ii="8 h", addl=13)),
                  horizon=20, step=0.1, outputs=["CD3"])
    fold, day = df.CD3.max() / df.CD3.iloc[0], df.time[df.CD3.idxmax()]
    assert 1.5 <= fold <= 3.0 and 3 <= day <= 10


def test_low_dose_il2_expands_tregs_and_nk_not_cd8():
    """Low-dose IL-2 1 MIU/m2/day for 12 weeks (Koreth, Blood 2016): CD8 unchanged (not used in any fit);
    NK > 4-fold (used to choose TC_K_NK_IL2's range, so a consistency check only)."""
    df = simulate(Patient(), Regimen(Dose("aldesleukin_sc", "1 MIU/m2", ii="1 day", addl=83)), horizon=84,
                  step=1.0, outputs=["CD8", "NK", "Treg"])
    assert abs(df.CD8.iloc[-1] / df.CD8.iloc[0] - 1) < 0.1
    assert df.NK.iloc[-1] / df.NK.iloc[0] > 4
    assert df.Treg.iloc[-1] / df.Treg.iloc[0] == pytest.approx(5.0, rel=0.02)  # the fit of TC_p_treg holds


def test_il2_exposure_reaches_the_receptor_ranges():
    """High dose stays above the intermediate-affinity Kd (about 1 nM) for hours; low dose stays
    between the high-affinity (10 pM) and intermediate-affinity ranges (Leuk Res 1990, PMID 2201821)."""
    high = simulate(Patient(), Regimen(Dose("aldesleukin", "600000 IU/kg", dur="15 min")), horizon=1, step=0.01,
                    outputs=["il2_plasma"])
    low = simulate(Patient(), Regimen(Dose("aldesleukin_sc", "1 MIU/m2", ii="1 day", addl=6)), horizon=7,
                   step=0.01, outputs=["il2_plasma"])
    assert (high.il2_plasma > 1000).sum() * 0.01 * 24 >= 2
    assert 10 < low.il2_plasma.max() < 300


def test_no_drug_no_comparator_effect():
    """Untreated: the new states stay at baseline (the chemotherapy calibration is unchanged)."""
    df = simulate(Patient(), Regimen(), horizon=60, step=5.0, outputs=["ANC", "Treg", "gcsf_plasma", "il2_plasma",
                                                                      "capillary_leak"])
    assert np.allclose(df.ANC, df.ANC.iloc[0], rtol=1e-6) and np.allclose(df.Treg, df.Treg.iloc[0], rtol=1e-6)
    assert (df[["gcsf_plasma", "il2_plasma", "capillary_leak"]].abs() < 1e-9).all().all()


def test_days_below_interpolates_crossings():
    import pandas as pd

    df = pd.DataFrame({"time": [0.0, 1.0, 2.0, 3.0], "ANC": [1000.0, 0.0, 0.0, 1000.0]})
    assert days_below("ANC", 500.0)(df) == pytest.approx(2.0)  # 0.5 + 1 + 0.5
    assert days_below("ANC", 0.0)(df) == 0.0
    assert days_below("ANC", 2000.0)(df) == pytest.approx(3.0)
    assert resolve("below:ANC@250")(df) == pytest.approx(1.5)


def test_agents_table_has_every_arm_and_column(agents):
    table, courses = agents
    assert list(table.arm[table.patient == "typical"]) == list(ARMS)
    assert set(COLUMNS) <= set(table.columns)
    assert table[list(COLUMNS)].notna().all().all()
    assert set(courses) == set(PATIENTS)


def claim_cases():
    """Every claim of models/data/comparators.toml by id; one with a known_failure is a strict xfail with its reason."""
    for claim in CLAIMS:
        marks = [pytest.mark.xfail(strict=True, reason=f"known model failure: {claim['known_failure']}")] \
            if claim["known_failure"] else []
        yield pytest.param(claim["id"], marks=marks, id=claim["id"])


@pytest.mark.parametrize("claim", list(claim_cases()))
def test_the_model_supports_the_seed_comparator_claim(agents, claim):
    """A contradicted claim stays in the report with its reason and is a strict xfail here, so that the test
    fails once the model is fixed and the data must say so."""
    report = claims(agents[0]).set_index("id")
    assert report.verdict[claim] == "supported", report.model[claim]


def test_a_contradicted_claim_says_where_the_model_fails_and_a_structural_one_says_so(agents):
    report = claims(agents[0]).set_index("id")
    contradicted = report[report.verdict == "contradicted"]
    assert len(contradicted) and contradicted.note.str.contains("Where this fails").all()
    structural = [c["id"] for c in CLAIMS if c["by_construction"]]
    assert structural and report.note[structural].str.startswith("holds by construction").all()


def test_a_claim_is_checked_by_its_threshold_in_the_data(agents):
    """The same table with a threshold moved past the model's number turns the verdict: the data decide."""
    import copy

    from thymosim.analysis.claims import evaluate, measure

    claim = copy.deepcopy(next(c for c in CLAIMS if c["id"] == "ta1_restores_lymphocytes_and_cytokines"))
    check = claim["checks"][0]
    got = measure(agents[0], check, next(iter(ARMS)))
    assert evaluate(agents[0], [claim], next(iter(ARMS))).verdict[0] == "supported"
    check["threshold"] = got + 0.01
    assert evaluate(agents[0], [claim], next(iter(ARMS))).verdict[0] == "contradicted"


def test_a_bad_claim_in_the_data_is_named(tmp_path):
    import shutil

    from thymosim.model import ModelError, model_dir
    from thymosim.tables import comparators

    models = shutil.copytree(model_dir(), tmp_path / "models")
    path = models / "data" / "comparators.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('arm = "+ IL-2 low dose"', 'arm = "+ IL-3"'), encoding="utf-8")
    with pytest.raises(ModelError, match=r"claim low_dose_il2_does_not_protect_cd4.checks\[0\]: arm\(s\)"):
        comparators(models)
    path.write_text(text.replace('comparison = "<", threshold = 0.1}', 'comparison = "<=", threshold = 0.1}'),
                    encoding="utf-8")
    with pytest.raises(ModelError, match=r"comparison: '<='; allowed: <, >, =="):
        comparators(models)
