"""Death truncates imaging: RECIST reads only the scans on or before a patient's death."""

import numpy as np
import pandas as pd

from thymosim.analysis import survival
from thymosim.analysis.trial import NEW_LESION, Design, _read, add_overall_survival

DAYS = np.array([0.0, 42.0, 84.0, 126.0])


def _arm(diameters, os_day, monkeypatch):
    """An arm as run_arm reads it (all scans), with overall survival forced to ``os_day`` (inf: alive)."""
    wide = pd.DataFrame({f"at:tumour_diameter@{d:g}": [row[i] for row in diameters] for i, d in enumerate(DAYS)})
    for d in DAYS[1:]:
        wide[f"at:{NEW_LESION}@{d:g}"] = 0.0
    uniforms = np.full(len(wide), 0.5)
    rows = pd.DataFrame(_read(wide, DAYS, Design(), uniforms))
    arm = pd.concat([pd.DataFrame({"vp": range(len(wide)), "u_new_lesion": uniforms}), wide, rows,
                     pd.DataFrame({"status": "ok", "error": ""}, index=wide.index)], axis=1)
    os_day = np.asarray(os_day, dtype=float)

    def forced(patients, horizon, seed, model=None):
        return pd.DataFrame({"os_day": np.minimum(os_day, horizon), "os_event": os_day <= horizon},
                            index=patients.index)

    monkeypatch.setattr(survival, "overall_survival", forced)
    return arm


def test_no_response_or_progression_is_read_after_death(monkeypatch):
    responder = [50.0, 30.0, 25.0, 25.0]   # PR at 42, confirmed at 84
    progressor = [50.0, 50.0, 52.0, 70.0]  # SD, then PD at 126
    arm = _arm([responder, progressor, responder, responder], [20.0, 100.0, 60.0, np.inf], monkeypatch)
    assert arm.recist.tolist() == ["PR", "SD", "PR", "PR"] and arm.first_pd_day[1] == 126.0  # all scans read
    out = add_overall_survival(arm, 730.0, seed=0)
    # died at day 20, before the first follow-up scan: not evaluable, progression-free survival ends at death
    assert out.recist[0] == "NE" and not out.ttp_event[0] and np.isnan(out.best_change_pct[0])
    assert out.pfs_day[0] == 20.0 and out.pfs_event[0]
    # died at day 100 before the day-126 PD scan: no progression, PFS event at death
    assert out.recist[1] == "SD" and not out.ttp_event[1] and np.isnan(out.first_pd_day[1])
    assert out.ttp_day[1] == 84.0 and out.pfs_day[1] == 100.0 and out.pfs_event[1]
    assert out.progression_reason[1] == ""
    # died at day 60: the day-42 PR is never confirmed, so stable disease
    assert out.recist[2] == "SD" and not out.confirmed[2] and out.pfs_day[2] == 60.0
    # alive: read on every scan as before
    assert out.recist[3] == "PR" and out.ttp_day[3] == 126.0 and not out.pfs_event[3]
    # the survival link read the untruncated trajectory (os columns unchanged by the re-reading)
    assert out.os_day.tolist() == [20.0, 100.0, 60.0, 730.0]


def test_scans_not_observed_after_a_pd_scan_are_read_as_the_full_course_and_elsewhere_as_ne():
    """A simulation that ended at the PD scan leaves the later scans NaN: the reading is that of the
    same scans with values after the PD (which RECIST never reads); NaN after a scan that is not PD
    (a simulation cut short for another reason) is not evaluable, as a failed one."""
    progressor = [50.0, 50.0, 70.0, 90.0]  # PD at 84
    ended = [50.0, 50.0, 70.0, np.nan]
    cut = [50.0, 30.0, np.nan, np.nan]  # PR at 42, then nothing: no PD to end on
    wide = pd.DataFrame({f"at:tumour_diameter@{d:g}": [r[i] for r in (progressor, ended, cut)]
                         for i, d in enumerate(DAYS)})
    for i, d in enumerate(DAYS[1:], start=1):
        wide[f"at:{NEW_LESION}@{d:g}"] = [0.0, 0.0 if i < 3 else np.nan, 0.0 if i < 2 else np.nan]
    rows = pd.DataFrame(_read(wide, DAYS, Design(), np.full(3, 0.5)))
    pd.testing.assert_series_equal(rows.iloc[0], rows.iloc[1], check_names=False)
    assert rows.recist[1] == "SD" and rows.first_pd_day[1] == 84.0 and rows.progression_reason[1] == "target"
    assert rows.recist[2] == "NE" and np.isnan(rows.pfs_day[2])
