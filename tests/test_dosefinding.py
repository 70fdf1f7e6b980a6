"""Dose finding of a count-guided regimen: candidates rewrite the guided arm as stated, the sweep
returns one row per seed and candidate with failures recorded (not dropped), the recommendation
is the least drug reaching the share of the best benefit, and the figure and files are written."""

import numpy as np
import pandas as pd
import pytest

from thymosim.analysis.dosefinding import (
    COLUMNS,
    Candidate,
    candidate_arm,
    control_arm,
    drug_given,
    find_dose,
    grid,
    recommend,
)
from thymosim.analysis.population import sample_population
from thymosim.scenario import Patient, ScenarioError, named


def _ta1(regimen):
    return sorted((t, d.amt) for d in regimen.doses if d.drug == "thymalfasin" for t in d.times)


def test_a_candidate_rewrites_dose_interval_and_threshold_of_the_guided_arm():
    base = named("prag_ta1_guided")
    arm = candidate_arm(base, Candidate(dose=0.8, every=7.0, threshold=300.0))
    assert arm.rules[0].threshold == 300.0 and base.rules[0].threshold == 500
    fixed = _ta1(arm.regimen)  # 0.8 mg weekly from day 0, ending before day 180 as the base
    assert [t for t, _ in fixed] == [7.0 * k for k in range(26)] and {a for _, a in fixed} == {0.8}
    loading = sorted((t, d.amt, d.ii) for d in arm.rules[0].doses.doses for t in d.times)
    assert [x[1] for x in loading[:7]] == [1.6] * 7  # the 3.2 mg daily loading week halved with the dose
    assert [x[0] for x in loading[7:10]] == [7.0, 14.0, 21.0] and loading[7][1] == 0.8
    assert loading[-1][0] <= 7 + 49 * 3.5  # the same span as the base's maintenance after the loading week
    # the typical patient (CD3 422.5 < 500 but > 300) no longer gets the loading week
    assert not arm.guided()[1].fired.any() and base.guided()[1].fired.all()
    control = control_arm(base)
    assert not _ta1(control.regimen) and not control.rules
    assert {d.drug for d in control.regimen.doses} == {"radiotherapy", "gm_csf", "pd1_inhibitor"}


@pytest.mark.parametrize("candidate, message", [
    (Candidate(-1.0, 3.5), "dose: -1.0; allowed: a finite dose > 0 mg"),
    (Candidate(1.6, 0.0), "every: 0.0; allowed: a finite interval > 0 days"),
    (Candidate(1.6, float("nan")), "every: nan"),
])
def test_a_bad_candidate_is_refused_with_the_field_named(candidate, message):
    with pytest.raises(ScenarioError, match=message):
        candidate_arm(named("prag_ta1_guided"), candidate)


def test_total_drug_follows_each_patients_guided_regimen():
    arm = candidate_arm(named("prag_ta1_guided"), Candidate(1.6, 3.5, 500.0))
    pop = pd.DataFrame({"vp": [0, 1], "CD3_0": [300.0, 900.0], "CD4_0": [150.0, 500.0], "CD8_0": [100.0, 300.0]})
    low, high = drug_given(arm, pop)
    assert high == pytest.approx(1.6 * 52)  # twice weekly from day 0 to before day 180: 52 administrations
    assert low == pytest.approx(3.2 * 7 + 1.6 * 50)  # loading week, then twice weekly from day 7
    cut = drug_given(arm, pop, until=[10.0, 10.0])
    assert cut.tolist() == pytest.approx([3.2 * 7 + 1.6 * 1, 1.6 * 3])  # days 0-6 + 7; days 0, 3.5, 7


def test_the_sweep_on_a_tiny_population_gives_one_row_per_candidate_with_failures_recorded():
    pop = sample_population(3, seed=1)
    pop.loc[1, "CD4_0"] = -5.0  # this patient cannot be simulated
    candidates = [*grid([0.8, 1.6], [3.5], [500.0]), Candidate(-1.0, 3.5, 500.0)]
    result = find_dose(candidates, seeds=(0,), populations=[pop])
    table = result.table
    assert list(table.columns) == list(COLUMNS)
    assert table.candidate.tolist() == [c.label for c in candidates]  # one row each, the bad one kept
    good, bad = table.iloc[:2], table.iloc[2]
    assert (good.status == "ok").all() and (good.n == 2).all() and (good.failed == 1).all()
    assert good.error.str.contains("patient.cd4: -5.0").all()
    assert bad.status == "failed" and bad.failed == 3 and "dose: -1.0" in bad.error and np.isnan(bad.benefit)
    assert (good.drug_mg.to_numpy() > 0).all()
    assert good.drug_mg.iloc[1] > 1.9 * good.drug_mg.iloc[0]  # twice the dose, about twice the drug
    assert table.recommended.sum() == 1 and result.recommended in good.candidate.tolist()
    assert result.agreement == 1.0 and len(result.summary) == 3


def test_the_recommendation_is_the_least_drug_reaching_the_share_of_the_best_benefit():
    table = pd.DataFrame({"seed": [0, 0, 0, 1, 1, 1, 2], "status": ["ok"] * 6 + ["ok"],
                          "benefit": [10.0, 9.5, 5.0, 3.0, 8.0, 7.0, -1.0],
                          "drug_mg": [100.0, 50.0, 10.0, 10.0, 100.0, 20.0, 5.0]})
    chosen = recommend(table, share=0.9)
    assert chosen.tolist() == [False, True, False, False, True, False, False]  # seed 2: no benefit, none
    assert recommend(table, share=0.5).tolist() == [False, False, True, False, False, True, False]


def test_the_files_and_the_tradeoff_figure_are_written(tmp_path):
    from thymosim.workflows.dosefinding import DOSEFINDING_FILES, write_dosefinding

    pop = sample_population(3, seed=2)
    result = find_dose(grid([0.8, 1.6], [3.5, 7.0], [500.0]), seeds=(0, 1), populations=[pop, pop])
    files = write_dosefinding(result, tmp_path)
    assert [f.name for f in files] == list(DOSEFINDING_FILES) and all(f.stat().st_size > 0 for f in files)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert result.recommended in report and len(pd.read_csv(files[0])) == 8


def test_the_typical_patient_is_below_the_base_threshold():
    assert Patient().cd3 < named("prag_ta1_guided").rules[0].threshold  # precondition of the first test


def test_the_cli_writes_the_tables_figure_and_report(tmp_path, monkeypatch, capsys):
    import thymosim.analysis.dosefinding as dosefinding
    from thymosim.cli import main

    # the plausibility-filtered population draws pools of 200 patients: a plain sample keeps this fast
    monkeypatch.setattr(dosefinding, "virtual_population", lambda n, seed, **_: sample_population(n, seed=seed))
    main(["dosefind", "--out", str(tmp_path), "--n", "2", "--seeds", "2", "--doses", "1.6",
          "--every", "3.5,7", "--thresholds", "450", "--quiet"])
    table = pd.read_csv(tmp_path / "dosefinding.csv")
    assert len(table) == 4 and set(table.seed) == {0, 1} and (table.threshold == 450).all()
    assert (tmp_path / "dosefinding.png").stat().st_size > 0
    assert capsys.readouterr().out.startswith("recommended: ")
    with pytest.raises(SystemExit):
        main(["dosefind", "--out", str(tmp_path), "--every", "0"])
