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


def test_a_ratio_row_divides_the_arm_by_its_comparator_on_the_same_patients(monkeypatch):
    """1-year survival 30/40 vs 20/40 (no censoring: KM is the plain fraction) gives 1.5; ORR 12/40 vs 8/40 gives
    1.5; a cohort of the published size drawn from each arm gives an interval around it."""
    n = 40

    def arm(alive_1y, responders):
        return pd.DataFrame({"vp": range(n), "status": "ok", "recist": ["PR"] * responders + ["SD"] * (n - responders),
                             "pfs_day": 100.0, "pfs_event": True, "ttp_day": 100.0, "ttp_event": True,
                             "os_day": [500.0] * alive_1y + [200.0] * (n - alive_1y), "os_event": True})

    arms = {"cisplatin_vinorelbine_ta1": arm(30, 12), "cisplatin_vinorelbine": arm(20, 8)}
    ran = []
    monkeypatch.setattr(trial, "run_arm", lambda scenario, population, design, **kw:
                        ran.append(scenario.name) or arms[scenario.name])
    monkeypatch.setattr(trial, "add_overall_survival", lambda frame, horizon, seed, design: frame)
    targets = pd.DataFrame({"role": "test", "scenario": "cisplatin_vinorelbine_ta1", "quantity": ["OS", "ORR", "OS"],
                            "kind": ["ratio", "ratio", "median"], "day": [365.25, 730.0, 730.0],
                            "value": [1.43, 1.0, 300.0], "n": [400.0, 400.0, np.nan],
                            "versus": ["cisplatin_vinorelbine", "cisplatin_vinorelbine", np.nan]},
                           index=pd.Index(["os_ratio", "orr_ratio", "os"], name="id"))
    monkeypatch.setattr(clinical_fit, "clinical_targets", lambda: targets)
    rows = clinical_fit.median_pfs_rows(pd.DataFrame({"vp": range(n)})).set_index("id")
    assert rows.model["os_ratio"] == pytest.approx(1.5) and rows.model["orr_ratio"] == pytest.approx(1.5)
    assert rows.model_lo["os_ratio"] < 1.43 < rows.model_hi["os_ratio"] and rows.inside["os_ratio"]
    assert not rows.inside["orr_ratio"]  # 1.0 is far outside the range of cohorts of 400 per arm
    assert sorted(set(ran)) == sorted(arms) and len(ran) == 2  # each arm run once, on the 730-day follow-up


def test_a_ratio_row_needs_its_comparator(tmp_path):
    from thymosim.tables import clinical_targets

    source = (clinical_targets.__globals__["model_dir"]() / "data" / "clinical_targets.tsv").read_text()
    lines = source.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("zeng_os_1y_ratio"))
    lines[row] = lines[row].rsplit("\t", 1)[0] + "\tNA"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "clinical_targets.tsv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"zeng_os_1y_ratio.*versus.*required for kind ratio"):
        clinical_targets(tmp_path)
