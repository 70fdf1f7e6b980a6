"""Who benefits: PRCC against functions with a known monotone dependence (and a dummy input as
negative control), AUC and threshold rules on hand-made data, and the tree/ROC pipeline
recovering a planted biomarker on synthetic paired-trial tables."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from thymosim.analysis.benefit import analyse, auc_ci, cross_validated, prcc, spearman, threshold_rule


def test_prcc_recovers_a_monotone_dependence_and_gives_a_dummy_input_none():
    rng = np.random.default_rng(1)
    n = 400
    x = pd.DataFrame({"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 1, n), "dummy": rng.uniform(0, 1, n)})
    # strictly increasing in a, decreasing in b (less steeply), nonlinear, no noise
    y = np.exp(4 * x.a) - 3 * x.b**3
    r = prcc(x, y).set_index("covariate")
    assert r.loc["a", "prcc"] > 0.95 and -0.8 < r.loc["b", "prcc"] < -0.5 and r.loc["b", "prcc_hi"] < -0.4
    assert r.loc["a", "prcc_lo"] > 0.85 and r.loc["a", "prcc_p"] < 1e-10
    # negative control: the dummy's PRCC is ~0 and its interval holds 0
    assert abs(r.loc["dummy", "prcc"]) < 0.1
    assert r.loc["dummy", "prcc_lo"] < 0 < r.loc["dummy", "prcc_hi"] and r.loc["dummy", "prcc_p"] > 0.05


def test_prcc_removes_a_confounded_input_that_a_plain_correlation_keeps():
    rng = np.random.default_rng(2)
    n = 500
    a = rng.normal(size=n)
    shadow = a + 0.3 * rng.normal(size=n)  # correlated with a, no effect of its own
    y = a + 0.2 * rng.normal(size=n)
    x = pd.DataFrame({"a": a, "shadow": shadow})
    assert spearman(shadow, y)["prcc"] > 0.8
    assert abs(prcc(x, y).set_index("covariate").loc["shadow", "prcc"]) < 0.15


def test_prcc_interval_is_fisher_z_with_the_partialled_degrees_of_freedom():
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(size=(50, 3)), columns=["p", "q", "r"])
    y = x.p + rng.normal(size=50)
    row = prcc(x, y).set_index("covariate").loc["p"]
    z, se = np.arctanh(row.prcc), 1 / np.sqrt(50 - 2 - 3)  # n - 3 - (k - 1), k = 3
    assert row.prcc_lo == pytest.approx(np.tanh(z - 1.959964 * se), rel=1e-5)
    assert row.prcc_hi == pytest.approx(np.tanh(z + 1.959964 * se), rel=1e-5)


def test_auc_on_a_hand_counted_example_and_its_interval():
    y = [True, True, False, False, False]
    score = [0.9, 0.4, 0.5, 0.1, 0.2]
    # pairs (positive > negative): 0.9 beats 3, 0.4 beats 2 -> 5 of 6
    a, lo, hi = auc_ci(y, score)
    assert a == pytest.approx(5 / 6)
    assert 0 <= lo < a < hi <= 1
    assert auc_ci([True, False], [1.0, 1.0])[0] == 0.5  # a tie counts half
    assert np.isnan(auc_ci([True, True], [1.0, 2.0])[0])


def test_auc_agrees_with_scikit_learn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(4)
    y = rng.random(200) < 0.3
    s = y + rng.normal(size=200)
    assert auc_ci(y, s)[0] == pytest.approx(roc_auc_score(y, s))


def test_youden_threshold_on_a_separable_example():
    x = [1, 2, 3, 4, 10, 11, 12]
    y = [False, False, False, False, True, True, True]
    rule = threshold_rule(x, y)
    assert rule["direction"] == ">=" and rule["threshold"] == 10
    assert rule["sensitivity"] == 1.0 and rule["specificity"] == 1.0
    low = threshold_rule([-v for v in x], y)  # benefit at low values
    assert low["direction"] == "<=" and low["threshold"] == -10 and low["youden"] == 1.0


def _synthetic(n=300, seed=0):
    """A paired run's tables with benefit planted in baseline CD4: a patient gains a response when
    CD4 >= 600 cells/uL (90 %) and rarely otherwise (5 %); every other covariate is noise."""
    rng = np.random.default_rng(seed)
    cd4 = rng.lognormal(np.log(500), 0.35, n)
    cd8 = rng.lognormal(np.log(300), 0.35, n)
    rows = pd.DataFrame({"vp": range(n), "at:CD4@0": cd4, "at:CD8@0": cd8, "at:CD3@0": 1.1 * (cd4 + cd8),
                         "at:NK@0": rng.lognormal(np.log(200), 0.5, n),
                         "at:tumour_diameter@0": rng.lognormal(np.log(37), 0.4, n),
                         "TUM_g_net": rng.lognormal(np.log(0.007), 1.0, n),
                         "TUM_k_imm": rng.lognormal(np.log(0.01), 0.5, n)})
    patients = pd.concat([rows.assign(arm="A"), rows.assign(arm="B")], ignore_index=True)
    gained = np.where(cd4 >= 600, rng.random(n) < 0.9, rng.random(n) < 0.05)
    effects = pd.DataFrame({"arm": "B", "control": "A", "vp": range(n), "evaluable": True,
                            "response_effect": gained.astype(int),
                            "d_best_change": np.where(gained, -25.0, 0.0) + rng.normal(0, 3, n)})
    return patients, effects


def test_the_tree_and_roc_pipeline_recover_a_planted_biomarker():
    patients, effects = _synthetic()
    result = analyse(patients, effects, label="response", seed=0)
    markers = result.ranking[result.ranking.kind == "biomarker"]
    assert markers.iloc[0].covariate == "at:CD4@0"  # CD3 (= CD4 + CD8) is second at most
    top = markers.iloc[0]
    assert top.direction == ">=" and 560 <= top.threshold <= 640
    assert top.sensitivity > 0.8 and top.specificity > 0.85
    models = result.models.set_index(["model", "kind"])
    assert models.loc[("tree", "biomarker"), "auc"] > 0.85 and models.loc[("tree", "biomarker"), "auc_lo"] > 0.75
    assert "CD4" in models.loc[("tree", "biomarker"), "rules"]
    # the mechanisms here are noise: their cross-validated AUC holds 1/2
    assert models.loc[("tree", "mechanism"), "auc_lo"] < 0.5 + 0.1
    assert models.loc[("logistic", "mechanism"), "auc_lo"] < 0.5 < models.loc[("logistic", "mechanism"), "auc_hi"]
    # PRCC of the continuous effect: CD4 first among the biomarkers, the noise mechanisms near 0
    assert result.ranking.set_index("covariate").loc["at:CD4@0", "prcc"] > 0.5
    assert abs(result.ranking.set_index("covariate").loc["TUM_g_net", "prcc"]) < 0.2


def test_a_patient_without_a_best_change_leaves_the_correlations_defined():
    """A patient with no follow-up scan has no best change (NaN): the rank correlations use the
    others (the same numbers as without that patient), the label's AUCs every patient."""
    patients, effects = _synthetic()
    gap = effects.copy()
    gap.loc[7, "d_best_change"] = np.nan
    ranked = analyse(patients, gap, label="response").ranking.set_index("covariate")
    without = analyse(patients[patients.vp != 7], effects[effects.vp != 7], label="response").ranking
    without = without.set_index("covariate")
    assert ranked.prcc.notna().all()
    np.testing.assert_allclose(ranked.prcc, without.loc[ranked.index, "prcc"], rtol=1e-12)
    assert ranked.loc["at:CD4@0", "auc"] == analyse(patients, effects, label="response").ranking.set_index(
        "covariate").loc["at:CD4@0", "auc"]


def test_without_a_planted_biomarker_the_cross_validated_auc_holds_one_half():
    patients, effects = _synthetic(seed=1)
    effects["response_effect"] = (np.random.default_rng(9).random(len(effects)) < 0.3).astype(int)
    result = analyse(patients, effects, label="response", seed=0)
    for _, m in result.models.iterrows():
        assert m.auc_lo < 0.5 < m.auc_hi + 0.05, m.model


def test_too_few_patients_with_benefit_are_refused_with_the_label_named():
    patients, effects = _synthetic(n=60)
    effects["response_effect"] = 0
    effects.loc[:3, "response_effect"] = 1  # 4 of 60
    with pytest.raises(ValueError, match="label 'response': 4 of 60 evaluable patients benefit"):
        analyse(patients, effects, label="response")


def test_cross_validation_needs_both_classes():
    x = pd.DataFrame({"a": np.arange(10.0)})
    with pytest.raises(ValueError, match="each class"):
        cross_validated(x, np.array([True] + [False] * 9))


def test_bad_effect_label_or_arm_are_named():
    patients, effects = _synthetic(n=40)
    with pytest.raises(ValueError, match="effect must be one of"):
        analyse(patients, effects, effect="nope")
    with pytest.raises(ValueError, match="label must be one of"):
        analyse(patients, effects, label="nope")
    with pytest.raises(ValueError, match="arm: 'Z'"):
        analyse(patients, effects, arm="Z")


def test_spearman_matches_scipy():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=60), rng.normal(size=60)
    assert spearman(x, y)["prcc"] == pytest.approx(stats.spearmanr(x, y).statistic)


def test_the_benefit_command_writes_tables_figures_and_report(tmp_path, capsys):
    from thymosim.cli import main

    patients, effects = _synthetic(n=120)
    patients.to_parquet(tmp_path / "patients.parquet")
    effects.to_parquet(tmp_path / "effects.parquet")
    main(["benefit", str(tmp_path), "--label", "response"])
    for name in ("benefit.csv", "biomarkers.csv", "models.csv", "benefit_effect.png", "benefit_roc.png", "report.md"):
        assert (tmp_path / name).stat().st_size > 0, name
    markers = pd.read_csv(tmp_path / "biomarkers.csv")
    assert markers.iloc[0].covariate == "at:CD4@0" and set(markers.kind) == {"biomarker", "mechanism"}
    report = (tmp_path / "report.md").read_text()
    assert "## Biomarkers" in report and "## Mechanisms" in report and "| CD4 |" in report
    assert "wrote" in capsys.readouterr().err


def test_the_benefit_command_needs_a_paired_folder(tmp_path):
    from thymosim.cli import main

    with pytest.raises(SystemExit, match="paired trial"):
        main(["benefit", str(tmp_path)])
