"""Overall survival from the tumour trajectory (Struemper 2025 TGI -> OS model): the source's own
worked example, the Stein fit, reproducible draws and death as a competing event for PFS."""

import numpy as np
import pandas as pd
import pytest

from thymosim.analysis import survival


def test_model_reproduces_the_papers_figure_4_medians_within_rounding():
    m = survival.load_model()
    examples = survival.load_examples()
    assert len(examples) == 3
    for r in examples.itertuples():
        months = survival.median_os_days(r.kg, r.ks, r.tsb, m) / m.c["days_per_month"]
        assert months == pytest.approx(r.median_os_months, abs=0.05), r.profile


def test_time_to_growth_is_the_minimum_of_the_stein_curve_and_zero_without_shrinkage():
    kg, ks = 0.01, 0.1
    weeks = np.linspace(0, 100, 100001)
    assert survival.time_to_growth(kg, ks) == pytest.approx(weeks[np.argmin(survival.stein(weeks, 50, kg, ks))],
                                                            abs=1e-3)
    assert survival.time_to_growth(0.05, 0.01) == 0.0


def test_faster_regrowth_and_larger_baseline_shorten_survival():
    m = survival.load_model()
    assert survival.median_os_days(0.03, 0.03, 40, m) < survival.median_os_days(0.01, 0.03, 40, m)
    assert survival.median_os_days(0.01, 0.03, 80, m) < survival.median_os_days(0.01, 0.03, 40, m)


def test_fit_recovers_the_rates_of_a_noise_free_stein_trajectory():
    days = np.arange(0, 400, 42.0)
    for kg, ks in ((0.02, 0.08), (0.01, 0.03), (0.005, 0.05)):
        kg_hat, ks_hat = survival.fit_kinetics(days, survival.stein(days / 7, 45.0, kg, ks))
        assert kg_hat == pytest.approx(kg, rel=0.1) and ks_hat == pytest.approx(ks, rel=0.15)


def test_fit_with_one_scan_falls_back_towards_the_prior_and_rejects_bad_input():
    m = survival.load_model()
    kg, ks = survival.fit_kinetics([0, 42], [40.0, 40.0], m)
    assert 0.1 < kg / m.c["prior_kg"] < 10 and 0.1 < ks / m.c["prior_ks"] < 10
    with pytest.raises(ValueError, match="baseline scan at day 0"):
        survival.fit_kinetics([42, 84], [40.0, 41.0])
    with pytest.raises(ValueError, match="finite positive"):
        survival.fit_kinetics([0, 42], [40.0, np.nan])


def _arm(diameters, vp=None, pfs_day=None, pfs_event=None):
    days = np.arange(0, 42 * len(diameters[0]), 42.0)
    frame = pd.DataFrame(np.asarray(diameters, dtype=float), columns=[f"at:tumour_diameter@{d:g}" for d in days])
    frame.insert(0, "vp", range(len(diameters)) if vp is None else vp)
    if pfs_day is not None:
        frame["pfs_day"], frame["pfs_event"] = pfs_day, pfs_event
    return frame


def test_survival_draws_are_reproducible_per_patient_and_censored_at_the_horizon():
    shrinking = [40, 30, 25, 24, 26, 30]
    arm = _arm([shrinking] * 200)
    a = survival.overall_survival(arm, 730.0, seed=11)
    b = survival.overall_survival(arm.iloc[::-1], 730.0, seed=11).sort_index()
    pd.testing.assert_frame_equal(a, b)  # order of patients does not matter
    assert not a.equals(survival.overall_survival(arm, 730.0, seed=12))
    assert (a.os_day <= 730).all() and (a.os_day[~a.os_event] == 730).all()
    # same kinetics for everyone: the share dying within 730 days is the log-normal's CDF there
    m = survival.load_model()
    from scipy import stats
    expected = stats.norm.cdf((np.log(730) - np.log(a.os_median_day.iloc[0])) / m.sigma)
    assert a.os_event.mean() == pytest.approx(expected, abs=3 * np.sqrt(expected * (1 - expected) / 200))


def test_growing_tumours_die_sooner_than_shrinking_ones_and_failed_patients_get_no_time():
    arm = _arm([[40, 30, 25, 24, 25, 27], [40, 48, 58, 70, 84, 100], [40, np.nan, np.nan, np.nan, np.nan, np.nan]])
    out = survival.overall_survival(arm, 3650.0, seed=0)
    assert out.os_median_day[0] > out.os_median_day[1]
    assert np.isnan(out.os_day[2]) and not out.os_event[2]


def test_scans_after_the_first_progression_are_not_read():
    grow_late = [40, 30, 25, 30, 60, 120]
    progressed = survival.overall_survival(_arm([grow_late], pfs_day=[126.0], pfs_event=[True]), 3650, 0)
    everything = survival.overall_survival(_arm([grow_late]), 3650, 0)
    only_to_pd = survival.overall_survival(_arm([grow_late[:4]]), 3650, 0)
    assert progressed.os_kg[0] == pytest.approx(only_to_pd.os_kg[0])
    assert progressed.os_kg[0] < everything.os_kg[0]


def test_pfs_is_progression_or_death_whichever_first():
    day, event = survival.progression_or_death([84, 84, 168, 168, np.nan], [True, True, False, False, False],
                                               [50, 300, 100, 730, np.nan], [True, True, True, False, False])
    np.testing.assert_array_equal(day, [50, 84, 100, 168, np.nan])
    np.testing.assert_array_equal(event, [True, True, True, False, False])


def test_missing_scans_or_bad_horizon_are_named():
    with pytest.raises(ValueError, match="tumour_diameter"):
        survival.overall_survival(pd.DataFrame({"vp": [0]}), 100, 0)
    with pytest.raises(ValueError, match="horizon"):
        survival.overall_survival(_arm([[40, 30]]), 0, 0)


def test_treatment_reaches_survival_only_through_the_tumour_trajectory():
    """The OS model has no treatment term: two arms whose patients have the same scans get the
    same survival, whatever their regimen; a different trajectory gives a different survival."""
    scans = [[40, 31, 26, 25, 27, 30], [40, 44, 50, 57, 66, 75]]
    chemo = _arm(scans).assign(arm="chemo", T_ta1_dose=0.0)
    ta1 = _arm(scans).assign(arm="chemo_ta1", T_ta1_dose=1.6)
    a, b = survival.overall_survival(chemo, 730, 5), survival.overall_survival(ta1, 730, 5)
    pd.testing.assert_frame_equal(a, b)
    other = survival.overall_survival(_arm([scans[1], scans[0]]), 730, 5)
    assert other.os_median_day[0] == pytest.approx(a.os_median_day[1])
    assert other.os_median_day[0] != pytest.approx(a.os_median_day[0])
