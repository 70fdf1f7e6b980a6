"""Survival figures of a trial: Kaplan-Meier of PFS and OS with the number at risk, swimmer plot."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from thymosim.plots.trial import kaplan_meier, swimmer


def _patients():
    days = [0, 42, 84, 126]
    rows = []
    for arm, os_days in (("A", [60, 90, 126, 126]), ("B", [126, 126, 100, 60])):
        for i, os_day in enumerate(os_days):
            rows.append({"arm": arm, "vp": i, "recist": ["PR", "SD", "PD", "SD"][i], "os_day": float(os_day),
                         "os_event": os_day < 126, "ttp_day": 84.0 if i == 2 else 126.0, "ttp_event": i == 2,
                         "pfs_day": float(min(os_day, 84 if i == 2 else 126)), "pfs_event": os_day < 126 or i == 2,
                         "response_day": 42.0 if i == 0 else np.nan,
                         **{f"at:tumour_diameter@{d}": 40.0 for d in days}})
    return pd.DataFrame(rows)


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_os_curve_counts_patients_at_risk_at_each_scan_and_marks_censoring():
    fig = kaplan_meier(_patients(), endpoint="OS")
    ax = fig.axes[0]
    texts = _texts(fig)
    # at risk (OS day >= scan day) at days 0/42/84/126: arm A (60, 90, 126, 126) 4, 4, 3, 2; B the same
    assert texts == ["A", "4", "4", "3", "2", "B", "4", "4", "3", "2"]
    assert ax.get_ylabel() == "alive [%]" and "Overall survival" in ax.get_title()
    censor_marks = [line for line in ax.lines if line.get_marker() == "|"]
    assert sum(len(line.get_xdata()) for line in censor_marks) == 4  # two censored per arm
    plt.close(fig)


def test_pfs_and_unknown_endpoints():
    fig = kaplan_meier(_patients(), endpoint="PFS")
    assert "Progression-free" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="endpoint must be one of PFS, OS"):
        kaplan_meier(_patients(), endpoint="TTP")


def test_swimmer_draws_one_bar_pair_per_patient_and_the_event_markers():
    fig = swimmer(_patients(), max_patients=3)
    for ax, arm in zip(fig.axes, ("A", "B"), strict=True):
        assert len(ax.patches) == 2 * 3  # OS bar and PFS bar of the first three patients
        assert ax.get_title() == f"{arm} (3 of 4 shown)"
    a = fig.axes[0]
    markers = [line.get_marker() for line in a.lines]
    assert markers.count("^") == 1 and markers.count("D") == 1 and markers.count("x") == 2
    plt.close(fig)
