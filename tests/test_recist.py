"""RECIST 1.1 on hand-made diameter series: every boundary of the time-point rules, nadir,
confirmation, the SD minimum duration, PFS and input checks. Expected values are worked out by
hand in the comments, never with the code under test."""

import math

import numpy as np
import pytest

from thymosim.analysis.recist import (
    RULES,
    Response,
    Rules,
    classify,
    classify_course,
    percent_change,
    scan_days,
    timepoint,
    with_rules,
)


def test_scan_days():
    assert scan_days(126).tolist() == [0.0, 42.0, 84.0, 126.0]
    assert scan_days(125).tolist() == [0.0, 42.0, 84.0]
    assert scan_days(130, every=42, first=21).tolist() == [0.0, 21.0, 63.0, 105.0]
    assert scan_days(56, every=28).tolist() == [0.0, 28.0, 56.0]
    assert scan_days(0).tolist() == [0.0] and scan_days(41).tolist() == [0.0]


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"horizon": 100, "every": 0}, "every"), ({"horizon": 100, "every": -42}, "every"),
    ({"horizon": -1}, "horizon"), ({"horizon": math.inf}, "horizon"), ({"horizon": 100, "every": math.nan}, "every"),
    ({"horizon": 100, "first": 0}, "first"), ({"horizon": 100, "first": math.inf}, "first"),
])
def test_scan_days_rejects(kwargs, name):
    with pytest.raises(ValueError, match=name):
        scan_days(**kwargs)


def test_timepoint_boundaries_and_order():
    assert timepoint(-29.9, 70.1, 100.0) == "SD"
    assert timepoint(-30.0, 70.0, 100.0) == "PR"
    # nadir 50: 59.95 is +19.9 % (+9.95 mm) -> not PD; 60 is +20 % (+10 mm) -> PD although -40 % from baseline
    assert timepoint(-40.05, 59.95, 50.0) == "PR"
    assert timepoint(-40.0, 60.0, 50.0) == "PD"
    # +5 mm absolute rule: nadir 10 -> 12.5 is +25 % but only +2.5 mm; nadir 20 -> 24.9 (+4.9 mm) vs 25 (+5 mm)
    assert timepoint(25.0, 12.5, 10.0) == "SD"
    assert timepoint(24.5, 24.9, 20.0) == "SD"
    assert timepoint(25.0, 25.0, 20.0) == "PD"
    assert timepoint(20.0, 36.0, 30.0) == "PD"
    # CR: below cr_mm (strictly)
    assert timepoint(-99.9, 0.999, 100.0) == "CR"
    assert timepoint(-99.0, 1.0, 100.0) == "PR"
    assert timepoint(-99.0, 1.0, 100.0, Rules(cr_mm=2.0)) == "CR"


def test_pr_boundary_in_a_series():
    # 100 -> 70.1 is -29.9 % (SD); 100 -> 70 is exactly -30 % (PR); single scan at day 42, unconfirmed
    assert classify([0, 42], [100, 70.1], confirm=False).best == "SD"
    assert classify([0, 42], [100, 70.0], confirm=False).best == "PR"
    assert classify([0, 42], [100, 70.0]).timepoints == ("PR",)


def test_pd_relative_to_nadir_not_baseline():
    # 100 -> 50 (nadir) -> 59.95 (+19.9 % over nadir) -> SD; -> 60 (+20 %, +10 mm) -> PD
    r = classify([0, 42, 84], [100, 50, 59.95])
    assert r.timepoints == ("PR", "PR") and not r.pfs_event
    r = classify([0, 42, 84], [100, 50, 60])
    assert r.timepoints == ("PR", "PD") and r.pfs_event and r.pfs_day == 84
    assert r.best == "SD"  # the PR at 42 is unconfirmed (next scan is PD) but SD held at day 42


def test_five_mm_rule_in_a_series():
    assert classify([0, 42], [10, 12.5]).timepoints == ("SD",)  # +25 %, +2.5 mm
    r = classify([0, 42], [30, 36])  # +20 %, +6 mm
    assert r.timepoints == ("PD",) and r.best == "PD"


def test_nadir_includes_baseline_and_is_smallest_so_far():
    # baseline 50 is the nadir: 55 (+10 %) then 60 = +20 %, +10 mm over 50 -> PD
    # (over the previous scan 55 it would be only +9.1 %)
    assert classify([0, 42, 84], [50, 55, 60]).timepoints == ("SD", "PD")
    # nadir is the smallest so far, not the last: 100, 60, 65, 72 -> 72 is +20 % over 60 -> PD
    assert classify([0, 42, 84, 126], [100, 60, 65, 72]).timepoints == ("PR", "PR", "PD")


def test_confirmation():
    r = classify([0, 42, 84], [100, 60, 60])  # PR at 42, PR at 84 (42 d later) -> confirmed PR
    assert (r.best, r.confirmed) == ("PR", True)
    # PR at 42 then SD at 84: 71 is -29 % from baseline, +18.3 % over nadir 60 -> SD
    r = classify([0, 42, 84], [100, 60, 71])
    assert r.timepoints == ("PR", "SD") and (r.best, r.confirmed) == ("SD", False)
    r = classify([0, 42, 84], [100, 90, 60])  # PR only at the last scan: unconfirmed
    assert r.timepoints == ("SD", "PR") and (r.best, r.confirmed) == ("SD", False)
    r = classify([0, 42, 84], [100, 90, 60], confirm=False)
    assert (r.best, r.confirmed) == ("PR", False)


def test_confirmation_interval():
    assert classify([0, 42, 63], [100, 60, 60]).best == "SD"  # 21 d < 28 d
    assert classify([0, 42, 63], [100, 60, 60], rules=with_rules(confirm_after=21)).best == "PR"
    assert classify([0, 42, 70], [100, 60, 60]).best == "PR"  # exactly 28 d


def test_complete_response():
    r = classify([0, 42, 84], [100, 0.5, 0.5])
    assert r.timepoints == ("CR", "CR") and (r.best, r.confirmed) == ("CR", True)
    assert r.best_change_pct == pytest.approx(-99.5)
    # CR at 42, then 1.0 mm (not < 1, -99 %: PR; +0.5 mm over nadir: not PD) -> CR confirmed by PR only -> PR
    r = classify([0, 42, 84], [100, 0.9, 1.0])
    assert r.timepoints == ("CR", "PR") and r.best == "PR"
    assert classify([0, 42, 84], [100, 60, 0.5]).best == "PR"  # PR confirmed by a CR
    r = classify([0, 42, 84], [100, 80, 0.5])  # CR at the last scan: unconfirmed
    assert r.best == "SD"
    assert classify([0, 42, 84], [100, 80, 0.5], confirm=False).best == "CR"


def test_pd_at_first_scan():
    r = classify([0, 42, 84], [100, 130, 50])  # +30 %, +30 mm at day 42; the -50 % at 84 is after PD
    assert r == Response(best="PD", best_change_pct=pytest.approx(30.0), pfs_day=42.0, pfs_event=True,
                         confirmed=False, timepoints=("PD",), progression="target")


def test_censored_without_pd():
    r = classify([0, 42, 84, 126], [100, 90, 95, 100])
    assert (r.best, r.pfs_day, r.pfs_event) == ("SD", 126.0, False)
    assert r.best_change_pct == pytest.approx(-10.0)


def test_scans_after_pd_ignored():
    # PR 42, PR 84, PD 126 (80 vs nadir 60: +33 %, +20 mm), the 50 at 168 is ignored
    r = classify([0, 42, 84, 126, 168], [100, 60, 60, 80, 50])
    assert r.timepoints == ("PR", "PR", "PD") and (r.best, r.pfs_day, r.pfs_event) == ("PR", 126.0, True)
    assert r.best_change_pct == pytest.approx(-40.0)
    # a response after PD does not count
    r = classify([0, 42, 84, 126], [100, 95, 130, 60], confirm=False)
    assert r.timepoints == ("SD", "PD") and r.best == "SD"


def test_sd_minimum_duration():
    r = classify([0, 21], [100, 95])  # SD only at day 21 < 42, nothing after
    assert (r.best, r.pfs_day, r.pfs_event) == ("NE", 21.0, False)
    assert classify([0, 21], [100, 95], rules=with_rules(sd_min_day=21)).best == "SD"
    assert classify([0, 21, 42], [100, 95, 130]).best == "PD"  # SD too early, then PD
    assert classify([0, 21], [100, 60], confirm=False).best == "PR"  # a response needs no minimum day


def test_no_follow_up():
    r = classify([0], [100])
    assert (r.best, r.pfs_day, r.pfs_event, r.timepoints) == ("NE", 0.0, False, ())
    assert math.isnan(r.best_change_pct)


def test_percent_change():
    np.testing.assert_allclose(percent_change([0, 42, 84], [80, 60, 100]), [0.0, -25.0, 25.0])


@pytest.mark.parametrize(("days", "diameters", "name"), [
    ([1, 42], [100, 90], "days"), ([0, 42, 42], [100, 90, 80], "days"), ([0, 84, 42], [100, 90, 80], "days"),
    ([0, math.nan], [100, 90], "days"), ([0, 42], [100], "same length"), ([], [], "non-empty"),
    ([0, 42], [100, -1], "diameters"), ([0, 42], [0, 10], "baseline"), ([0, 42], [100, math.inf], "diameters"),
])
def test_classify_rejects(days, diameters, name):
    with pytest.raises(ValueError, match=name):
        classify(days, diameters)


def test_recist_1_1_thresholds_by_name():
    """The published RECIST 1.1 numbers (Eisenhauer 2009, sections 4.3.1 and 4.6)."""
    assert (RULES.pr_change_pct, RULES.pd_change_pct, RULES.pd_absolute_mm) == (-30.0, 20.0, 5.0)
    assert (RULES.confirm_after, RULES.sd_min_day, RULES.cr_mm) == (28.0, 42.0, 1.0)


@pytest.mark.parametrize("field", ["pr_change_pct", "pd_change_pct", "pd_absolute_mm", "cr_mm", "confirm_after",
                                   "sd_min_day"])
def test_rules_reject_nonsense(field):
    with pytest.raises(ValueError, match=field):
        Rules(**{field: math.nan})


def test_each_category_by_hand():
    # CR: 100 -> 0.8 -> 0 (both < 1 mm, 42 d apart): confirmed CR; a diameter of 0 is allowed (gone)
    assert classify([0, 42, 84], [100, 0.8, 0.0]).best == "CR"
    # PR: 100 -> 65 (-35 %) -> 68 (-32 %, +4.6 % over the nadir 65): confirmed PR
    assert classify([0, 42, 84], [100, 65, 68]).best == "PR"
    # SD: 100 -> 85 (-15 %) -> 88 (+3.5 % over 85)
    assert classify([0, 42, 84], [100, 85, 88]).best == "SD"
    # PD: 40 -> 49 (+22.5 %, +9 mm) at the first scan
    assert classify([0, 42], [40, 49]).best == "PD"


def test_other_rules_move_the_boundaries():
    # -25 % is SD under RECIST 1.1 but PR under a -25 % threshold; +15 %/+6 mm is PD only under +15 %
    assert classify([0, 42], [100, 75], confirm=False).best == "SD"
    assert classify([0, 42], [100, 75], confirm=False, rules=with_rules(pr_change_pct=-25)).best == "PR"
    assert classify([0, 42], [40, 46]).best == "SD"
    assert classify([0, 42], [40, 46], rules=with_rules(pd_change_pct=15)).best == "PD"


def test_course_every_output_a_scan():
    # a time course from day 10 (shifted to 0): 100, 80, 60 (day 31: -40 %, PR), 55, 70 (day 52: +27 % and
    # +15 mm over the nadir 55: PD), 40 (after PD: ignored). Unconfirmed: PR; PFS at day 42 after the start.
    time = [10, 17, 31, 38, 52, 70]
    diameter = [100, 80, 60, 55, 70, 40]
    r = classify_course(time, diameter)
    assert r.timepoints == ("SD", "PR", "PR", "PD") and (r.best, r.pfs_day, r.pfs_event) == ("PR", 42.0, True)
    # confirmed: the PR at day 21 (shifted) holds only 7 days (to 28) -> not confirmed; SD needs day 42 -> PD
    r = classify_course(time, diameter, confirm=True)
    assert (r.best, r.confirmed) == ("PD", False)
    # a PR that holds 28 days is confirmed on the course
    assert classify_course([0, 14, 42], [100, 60, 65], confirm=True).best == "PR"


def test_recist_endpoint_is_the_unconfirmed_classifier_as_a_label():
    import pandas as pd

    from thymosim.analysis.endpoints import ENDPOINTS

    df = pd.DataFrame({"time": [0.0, 21.0, 42.0, 63.0], "tumour_diameter": [50.0, 30.0, 34.0, 41.0]})
    # 30 is -40 % (PR); 34 is +13 % over 30 (PR, -32 %); 41 is +36.7 % and +11 mm over 30 -> PD: best PR
    assert ENDPOINTS["recist"](df) == "PR"
    df = pd.DataFrame({"time": [0.0, 21.0, 42.0], "tumour_diameter": [50.0, 47.0, 49.0]})
    assert ENDPOINTS["recist"](df) == "SD"
    df = pd.DataFrame({"time": [0.0, 21.0], "tumour_diameter": [50.0, 47.0]})  # SD before day 42: not evaluable
    assert ENDPOINTS["recist"](df) == "NE"


def test_a_new_lesion_is_progression_whatever_the_diameters():
    """A new lesion seen at a scan makes it PD even while the target shrinks (RECIST 1.1); the
    reason says which criterion; scans after it are ignored; the baseline cannot have one."""
    days, d = [0, 42, 84, 126], [40, 30, 27, 26]
    assert classify(days, d).progression == "" and not classify(days, d).pfs_event
    r = classify(days, d, new_lesion=[False, False, True, False])
    assert (r.pfs_day, r.pfs_event, r.progression, r.timepoints) == (84.0, True, "new_lesion", ("SD", "PD"))
    assert r.best == "SD"  # SD at day 42 counts (>= 42 days), then PD
    first = classify(days, d, new_lesion=[False, True, False, False])
    assert (first.best, first.pfs_day, first.progression) == ("PD", 42.0, "new_lesion")
    both = classify([0, 42], [40, 50], new_lesion=[False, True])
    assert both.progression == "target"  # target growth at the same scan: the diameter criterion is named
    with pytest.raises(ValueError, match="new_lesion"):
        classify(days, d, new_lesion=[True, False, False, False])
    with pytest.raises(ValueError, match="new_lesion"):
        classify(days, d, new_lesion=[False, True])
