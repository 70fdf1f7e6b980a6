"""Paired (counterfactual) trials: every patient in every arm, individual effects, and the
randomised trial drawn from a paired run."""

import numpy as np
import pandas as pd
import pytest

from thymosim.analysis.paired import individual_effects, paired_tests, run_paired, summarise_effects
from thymosim.analysis.population import sample_population
from thymosim.analysis.trial import Design, add_overall_survival, run_arm, run_trial
from thymosim.cli import main

ARMS = ["cisplatin_vinorelbine", "cisplatin_vinorelbine_ta1"]
DESIGN = Design(horizon=126.0)  # three scans: fast


@pytest.fixture(scope="module")
def paired():
    pop = sample_population(8, seed=5)
    return run_paired(ARMS, seed=5, design=DESIGN, population=pop, progress=False)


def test_a_paired_arm_equals_the_same_patients_run_arm_by_arm(paired):
    pop = sample_population(8, seed=5)
    for name in ARMS:
        alone = run_arm(name, pop, DESIGN, progress=False, seed=5)
        alone = add_overall_survival(alone, 126.0, seed=5)
        mine = paired.patients[paired.patients.arm == name].drop(columns="arm").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone)
    # the same draws in both arms: only the treatment differs
    a, b = (paired.patients[paired.patients.arm == n].reset_index(drop=True) for n in ARMS)
    assert (a.u_new_lesion == b.u_new_lesion).all() and (a.CD4_0 == b.CD4_0).all()
    assert not np.allclose(a["at:CD4@9"], b["at:CD4@9"])  # Ta1 changes the counts


def test_per_arm_summary_has_no_independent_arm_tests_but_paired_ones(paired):
    s = paired.summary.set_index("arm")
    assert "p_ORR_fisher" not in s and "HR_PFS" not in s
    assert {"ORR_gained", "ORR_lost", "p_ORR_mcnemar", "p_best_change_wilcoxon"} <= set(s.columns)
    assert s.loc[ARMS[0], "n"] == 8 and s.loc[ARMS[1], "n"] == 8


def test_individual_effects_are_arm_minus_control(paired):
    e = paired.effects.set_index("vp")
    p = paired.patients
    a, b = (p[p.arm == n].set_index("vp") for n in ARMS)
    assert (e.arm == ARMS[1]).all() and len(e) == 8
    np.testing.assert_allclose(e.d_best_change, b.best_change_pct - a.best_change_pct)
    np.testing.assert_allclose(e["gain:CD4@9"], b["at:CD4@9"] - a["at:CD4@9"])
    np.testing.assert_allclose(e.d_os_day, b.os_day - a.os_day)
    responds = {"CR", "PR"}
    expected = b.recist.isin(responds).astype(int) - a.recist.isin(responds).astype(int)
    assert (e.response_effect == expected).all()


def _effects(d_best, response):
    n = len(d_best)
    return pd.DataFrame({"arm": "B", "vp": range(n), "evaluable": True, "response_effect": response,
                         "control_effect": 0, "d_best_change": d_best})


def test_effect_summary_and_mcnemar_on_a_hand_made_table():
    e = _effects([-30.0, -12.0, -5.0, 0.0, 15.0, -20.0, -40.0, -1.0], [1, 1, 0, 0, -1, 1, 1, 0])
    s = summarise_effects(e, margin=10).set_index("effect")
    assert s.loc["d_best_change", "benefit"] == 50.0  # -30, -12, -20, -40
    assert s.loc["d_best_change", "harm"] == 12.5  # 15
    assert s.loc["response_effect", "benefit"] == 50.0 and s.loc["response_effect", "harm"] == 12.5
    assert s.loc["d_best_change", "q50"] == pytest.approx(np.median([-30, -12, -5, 0, 15, -20, -40, -1]))
    t = paired_tests(e).iloc[0]
    assert (t.ORR_gained, t.ORR_lost) == (4, 1)
    assert t.p_ORR_mcnemar == pytest.approx(2 * (1 + 5) / 32)  # two-sided binomial: P(X <= 1) + P(X >= 4), n = 5


def test_a_failed_patient_has_no_effect():
    p = pd.DataFrame({"arm": ["A", "A", "B", "B"], "vp": [0, 1, 0, 1], "status": ["ok", "ok", "ok", "failed"],
                      "recist": ["SD", "PD", "PR", "NE"], "best_change_pct": [-10.0, 30.0, -40.0, np.nan]})
    e = individual_effects(p).set_index("vp")
    assert e.evaluable.tolist() == [True, False]
    assert e.loc[0, "response_effect"] == 1 and e.loc[1, "response_effect"] == 0
    assert np.isnan(e.loc[1, "d_best_change"]) and e.loc[0, "d_best_change"] == pytest.approx(-30.0)


def test_a_randomised_trial_drawn_from_a_paired_run_equals_run_trial_on_the_same_population(paired):
    trial = run_trial(ARMS, 4, seed=5, design=DESIGN, progress=False, population=sample_population(8, seed=5))
    drawn = paired.randomised(4)
    pd.testing.assert_frame_equal(drawn.patients, trial.patients)
    pd.testing.assert_frame_equal(drawn.summary, trial.summary)
    assert not paired.randomised(4, seed=6).patients.equals(drawn.patients)


@pytest.mark.slow
def test_a_randomised_trial_drawn_from_a_paired_run_equals_run_trial_from_the_same_seed():
    """run_trial(arms, n, seed) draws 2n patients and randomises them; a paired run of the same 2n
    patients holds both outcomes of each, so picking the randomised arm gives the same trial."""
    trial = run_trial(ARMS, 5, seed=3, design=DESIGN, progress=False)
    paired = run_paired(ARMS, 10, seed=3, design=DESIGN, progress=False)
    drawn = paired.randomised(5)
    pd.testing.assert_frame_equal(drawn.patients, trial.patients)
    pd.testing.assert_frame_equal(drawn.summary, trial.summary)


def test_a_paired_trial_needs_two_arms_and_unique_ids():
    with pytest.raises(ValueError, match="at least two arms"):
        run_paired(ARMS[:1], 4)
    pop = sample_population(2, seed=0).assign(vp=[1, 1])
    with pytest.raises(ValueError, match="'vp'"):
        run_paired(ARMS, population=pop, progress=False)


def test_the_paired_trial_command_writes_effects_and_the_randomised_trial(tmp_path, capsys):
    main(["trial", "ifosfamide", "ifosfamide_ta1_ifna", "--paired", "--n", "3", "--seed", "1", "--out",
          str(tmp_path), "--quiet"])
    effects = pd.read_csv(tmp_path / "effects.csv")
    assert len(effects) == 6 and (effects.arm == "ifosfamide_ta1_ifna").all()  # 2 x 3 patients, both arms
    assert {"response_effect", "d_best_change", "d_pfs_day", "d_os_day", "gain:CD4@9", "gain:NK@42"} <= set(effects)
    patients = pd.read_parquet(tmp_path / "patients.parquet")
    assert patients.groupby("arm").vp.apply(sorted).apply(tuple).nunique() == 1  # the same patients in each arm
    randomised = pd.read_csv(tmp_path / "randomised_summary.csv")
    assert randomised.n.tolist() == [3, 3] and "p_ORR_fisher" in randomised
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary.n.tolist() == [6, 6] and "p_ORR_mcnemar" in summary
    assert "wrote" in capsys.readouterr().err
