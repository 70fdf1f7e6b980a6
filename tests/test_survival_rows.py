"""The validation page's survival rows read the quantity their source published: PFS (progression
or death), TTP (RECIST progression, deaths censored) or OS, as a median or a landmark rate."""

import numpy as np
import pandas as pd
import pytest

from thymosim.analysis import clinical_fit, trial


def test_each_survival_row_reads_its_own_columns(monkeypatch):
    n = 40
    arm = pd.DataFrame({"vp": range(n), "recist": ["SD"] * n, "status": "ok",
                        "pfs_day": [50.0] * 30 + [200.0] * 10, "pfs_event": True,
                        "ttp_day": [150.0] * 30 + [300.0] * 10, "ttp_event": True,
                        "os_day": [300.0] * 25 + [500.0] * 15, "os_event": True})
    calls = []
    monkeypatch.setattr(trial, "run_arm", lambda scenario, population, design, **kw: calls.append(design) or arm)
    monkeypatch.setattr(trial, "add_overall_survival", lambda frame, horizon, seed, design: frame)
    targets = pd.DataFrame({"role": ["train", "test", "test", "test"], "scenario": "cisplatin_vinorelbine",
                            "quantity": ["TTP", "PFS", "OS", "OS"], "kind": ["median", "median", "median", "landmark"],
                            "day": [730.0, 730.0, 730.0, 365.25], "value": [140.0, 128.0, 310.5, 36.0],
                            "n": [np.nan] * 4}, index=pd.Index(["ttp", "pfs", "os", "os_1y"], name="id"))
    monkeypatch.setattr(clinical_fit, "clinical_targets", lambda: targets)
    rows = clinical_fit.median_pfs_rows(pd.DataFrame({"vp": range(n)})).set_index("id")
    assert rows.model["pfs"] == 50.0 and rows.model["ttp"] == 150.0 and rows.model["os"] == 300.0
    assert rows.model["os_1y"] == pytest.approx(100 * 15 / 40)
    assert len(calls) == 1 and calls[0].horizon == 730.0  # the landmark row is read on the 730-day follow-up
    assert not rows.inside["pfs"] and rows.inside["os"] and not rows.inside["ttp"]


def test_an_unknown_survival_quantity_is_refused(monkeypatch):
    targets = pd.DataFrame({"role": ["test"], "scenario": "cisplatin_vinorelbine", "quantity": ["EFS"],
                            "kind": ["median"], "day": [730.0], "value": [1.0], "n": [np.nan]},
                           index=pd.Index(["efs"], name="id"))
    monkeypatch.setattr(clinical_fit, "clinical_targets", lambda: targets)
    with pytest.raises(ValueError, match="EFS.*allowed: PFS, TTP, OS"):
        clinical_fit.median_pfs_rows(pd.DataFrame({"vp": [0]}))
