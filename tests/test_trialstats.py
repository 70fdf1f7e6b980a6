"""Trial statistics against independent implementations (statsmodels, scipy.stats.binomtest,
lifelines), closed forms and published values."""

import math

import numpy as np
import pytest
from scipy import stats

from thymosim.analysis.trialstats import (
    clopper_pearson,
    compare_rates,
    hazard_ratio,
    km_median,
    km_median_ci,
    km_table,
    landmark,
    logrank,
    repeated_trials,
)

CASES = [(0, 10), (10, 10), (7, 36), (1, 1), (0, 1), (3, 20), (50, 100), (99, 100)]


@pytest.mark.parametrize(("k", "n"), CASES)
@pytest.mark.parametrize("level", [0.95, 0.90])
def test_clopper_pearson_matches_statsmodels_and_scipy(k, n, level):
    from statsmodels.stats.proportion import proportion_confint

    got = clopper_pearson(k, n, level)
    np.testing.assert_allclose(got, proportion_confint(k, n, alpha=1 - level, method="beta"), atol=1e-10)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    np.testing.assert_allclose(got, (ci.low, ci.high), atol=1e-10)


def test_clopper_pearson_closed_forms_and_published_value():
    # k = 0: upper limit solves (1 - p)^n = 0.025; k = n: lower limit solves p^n = 0.025
    assert clopper_pearson(0, 10) == (0.0, pytest.approx(1 - 0.025 ** 0.1))
    assert clopper_pearson(10, 10) == (pytest.approx(0.025 ** 0.1), 1.0)
    lo, hi = clopper_pearson(7, 36)
    assert (round(lo, 3), round(hi, 3)) == (0.082, 0.360)


@pytest.mark.parametrize(("k", "n", "level", "name"), [
    (-1, 10, 0.95, "k"), (11, 10, 0.95, "k"), (0, 0, 0.95, "n"), (1, 10, 1.0, "level"), (1, 10, 0.0, "level"),
])
def test_clopper_pearson_rejects(k, n, level, name):
    with pytest.raises(ValueError, match=name):
        clopper_pearson(k, n, level)


def test_compare_rates_tea_tasting():
    # [[3, 1], [1, 3]]: hypergeometric probabilities 1, 16, 36, 16, 1 over 70; two-sided p = 34/70.
    # Yates: expected 2 everywhere, chi2 = 4 * (1 - 0.5)^2 / 2 = 0.5, p = P(chi2_1 > 0.5) = erfc(0.5).
    r = compare_rates(3, 4, 1, 4)
    assert r["fisher_p"] == pytest.approx(34 / 70) and round(r["fisher_p"], 4) == 0.4857
    assert r["chi2_p"] == pytest.approx(math.erfc(0.5))
    assert r["odds_ratio"] == pytest.approx(9.0)


def test_compare_rates_degenerate_tables():
    r = compare_rates(5, 5, 0, 5)  # only the 2 most extreme tables of C(10, 5) = 252: p = 2/252
    assert r["fisher_p"] == pytest.approx(2 / 252) and r["odds_ratio"] == math.inf
    r = compare_rates(0, 5, 0, 5)  # no responders: an expected count is 0
    assert r["fisher_p"] == pytest.approx(1.0) and math.isnan(r["chi2_p"]) and math.isnan(r["odds_ratio"])
    with pytest.raises(ValueError, match="arm 2"):
        compare_rates(1, 5, 6, 5)


def test_km_median_and_table_by_hand():
    # deaths at 1, 2, 3; censored at 2, 5: S = 4/5 = 0.8, 0.8 * 3/4 = 0.6, 0.6 * 1/2 = 0.3 -> median 3
    d, e = [1, 2, 2, 3, 5], [1, 1, 0, 1, 0]
    assert km_median(d, e) == 3.0
    t = km_table(d, e)
    assert list(t.columns) == ["time", "survival", "at_risk"]
    assert t["time"].tolist() == [0.0, 1.0, 2.0, 3.0, 5.0]
    np.testing.assert_allclose(t["survival"], [1.0, 0.8, 0.6, 0.3, 0.3])
    assert t["at_risk"].tolist() == [5, 5, 4, 2, 1]
    assert km_median([1, 2, 3, 4], [1, 1, 1, 1]) == 2.0  # S(2) = 0.5 exactly
    assert km_median([1, 2, 3], [1, 0, 0]) == math.inf  # S stays at 2/3


def test_km_median_matches_lifelines():
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(1)
    d, e = rng.exponential(100.0, 40), rng.random(40) < 0.7
    assert km_median(d, e) == KaplanMeierFitter().fit(d, e).median_survival_time_


def test_logrank_waltons():
    from lifelines.datasets import load_waltons
    from lifelines.statistics import logrank_test

    df = load_waltons()
    a, b = df[df["group"] == "miR-137"], df[df["group"] == "control"]
    p = logrank(a["T"], a["E"], b["T"], b["E"])
    ref = logrank_test(a["T"], b["T"], event_observed_A=a["E"], event_observed_B=b["E"])
    assert round(ref.test_statistic, 2) == 122.25  # lifelines docs
    assert p == pytest.approx(ref.p_value, rel=1e-12) and p < 0.005
    assert p == pytest.approx(stats.chi2.sf(122.25, 1), rel=1e-2)
    assert logrank(a["T"], a["E"], a["T"], a["E"]) == pytest.approx(1.0)


def _arm(rate, n=1000):
    return np.arange(n) < round(rate * n)


def test_repeated_trials_power():
    r = repeated_trials(_arm(0.9), _arm(0.05), n_per_arm=36, n_trials=500)
    assert r["power"] >= 0.99 and (r["n_per_arm"], r["n_trials"]) == (36, 500)
    assert abs(r["median_orr_a"] - 0.9) <= 0.05 and abs(r["median_orr_b"] - 0.05) <= 0.05
    null = repeated_trials(_arm(0.2), _arm(0.2), n_per_arm=36, n_trials=500)
    assert null["power"] <= 0.1


def test_repeated_trials_reproducible():
    a, b = _arm(0.4), _arm(0.2)
    assert repeated_trials(a, b, 30, 200, seed=3) == repeated_trials(a, b, 30, 200, seed=3)
    powers = {repeated_trials(a, b, 30, 200, seed=s)["power"] for s in range(4)}
    assert len(powers) > 1  # the seed matters


@pytest.mark.parametrize(("a", "b", "n", "name"), [
    ([], [True], 10, "non-empty"), ([True], [], 10, "non-empty"), ([True], [False], 0, "n_per_arm"),
])
def test_repeated_trials_rejects(a, b, n, name):
    with pytest.raises(ValueError, match=name):
        repeated_trials(a, b, n)


def test_landmark_rate_and_log_log_interval_by_hand():
    # five deaths at days 1..5: S(2.5) = 3/5; Greenwood var(log S) = 1/(5*4) + 1/(4*3) = 0.13333;
    # log(-log) interval S ** exp(+-1.96 * sqrt(0.13333) / |log 0.6|) = (0.1257, 0.8818)
    s, lo, hi = landmark([1, 2, 3, 4, 5], [True] * 5, 2.5)
    assert s == pytest.approx(0.6)
    assert (lo, hi) == pytest.approx((0.1257, 0.8818), abs=1e-4)
    assert math.isnan(landmark([1, 2, 3], [True, False, True], 3.5)[0])  # beyond follow-up


def test_km_median_ci_by_hand_and_against_exponential_truth():
    median, lo, hi = km_median_ci([1, 2, 3, 4, 5], [True] * 5)
    assert median == 3.0 and lo == 1.0  # the lower band is 0.2038 < 0.5 already at day 1
    rng = np.random.default_rng(5)
    rate = math.log(2) / 300.0  # true median 300 days
    t = rng.exponential(1 / rate, 2000)
    censor = np.minimum(t, 900.0)
    median, lo, hi = km_median_ci(censor, t <= 900.0)
    assert lo < 300.0 < hi and hi - lo < 60
    assert median == pytest.approx(300.0, abs=4 * 300 / math.sqrt(2000 * 0.95))
    assert km_median_ci([5, 6], [False, False])[0] == math.inf


def test_hazard_ratio_recovers_exponential_arms_and_matches_lifelines():
    from lifelines import CoxPHFitter

    rng = np.random.default_rng(9)
    control, treated = rng.exponential(100.0, 1500), rng.exponential(200.0, 1500)  # true HR 0.5
    dc, dt = np.minimum(control, 365.0), np.minimum(treated, 365.0)
    out = hazard_ratio(dt, treated <= 365, dc, control <= 365)
    assert out["lo"] < 0.5 < out["hi"] and out["p"] < 1e-10
    assert out["hr"] == pytest.approx(0.5, abs=4 * 0.5 * math.sqrt(1 / (treated <= 365).sum()
                                                                   + 1 / (control <= 365).sum()))
    import pandas as pd

    frame = pd.DataFrame({"T": np.r_[dt, dc], "E": np.r_[treated <= 365, control <= 365],
                          "arm": np.r_[np.ones(1500), np.zeros(1500)]})
    ref = CoxPHFitter().fit(frame, "T", "E").summary.loc["arm"]
    assert out["hr"] == pytest.approx(ref["exp(coef)"], rel=1e-8)
    assert (out["lo"], out["hi"]) == pytest.approx((ref["exp(coef) lower 95%"], ref["exp(coef) upper 95%"]), rel=1e-8)
    assert math.isnan(hazard_ratio([1, 2], [False, False], [3, 4], [False, False])["hr"])
