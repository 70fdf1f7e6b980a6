"""Sweeps: failures recorded and isolated, interrupt-and-resume, identical results in
serial, multiprocess and Dask execution."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from thymosim import Dose, Regimen
from thymosim.analysis.sweep import Job, apply_point, grid, run_sweep, sample
from thymosim.model import default_model
from thymosim.scenario import Scenario, named

ENDPOINTS = ["lymphocyte_nadir", "pct_change_CD4_end", "tumour_best_change"]


@pytest.fixture(scope="module")
def scenario():
    base = named("cisplatin_vinorelbine_ta1")
    return Scenario("short", base.regimen, base.patient, horizon=180, step=2.0)


@pytest.fixture(scope="module")
def points():
    lhs = sample({"PK_CL": (40.0, 200.0), "TC_E_thy_TA1": (1.0, 60.0)}, n=8, seed=7)
    return lhs.assign(**{"doses[4].amt": ["1.6 mg", "3.2 mg"] * 4})


def test_points_are_validated_like_scenario_files(scenario):
    s = apply_point(scenario.to_dict(), {"PK_CL": 90.0, "patient.cd4": 100.0, "doses[4].amt": "3.2 mg"})
    assert s.patient.parameters["PK_CL"] == 90.0 and s.patient.cd4 == 100.0
    assert s.regimen.doses[4].amt == 3.2
    with pytest.raises(ValueError, match="PK_nope|not a scenario path"):
        apply_point(scenario.to_dict(), {"PK nope": 1.0})


PATIENT_POINTS = [
    {"PK_CL": 90.0, "patient.cd4": 100.0, "patient.bsa": 2.1},  # valid
    {"CD4_0": 100.0, "patient.parameters.TC_E_thy_TA1": 5.0, "patient.weight": np.float64(90.0)},  # valid
    {"PK_CL": -1.0}, {"PK_CL": float("nan")}, {"patient.cd4": 400.0}, {"patient.cd4": "x"},  # refused ...
    {"patient.bsa": 4.9}, {"patient.weight": 0.0}, {"patient.nosuch": 1.0}, {"CHEMO_cis_rate": 5.0},
    {"patient.weight": 300.0},  # 0.5 mg/kg thymalfasin: 150 mg per dose, over its 100 mg limit
]


@pytest.mark.parametrize("point", PATIENT_POINTS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_a_virtual_patient_is_applied_without_rebuilding_the_scenario_and_validated_the_same(point):
    """A point of patient values changes the patient of the scenario validated once (Job.apply); the
    scenario, or the refusal and its message, is the one a full rebuild from the data form gives."""
    base = named("cisplatin_vinorelbine_ta1")
    scenario = Scenario("per_kg", base.regimen + Dose("thymalfasin", "0.5 mg/kg", time=1, ii=3.5, addl=3),
                        base.patient, horizon=180, step=2.0)
    job = Job.of(scenario, ["auc_CD4"])
    assert job.scenario is not None
    try:
        expected = apply_point(job.base, point, job.model)
    except ValueError as err:
        with pytest.raises(type(err)) as refused:
            job.apply(point)
        assert str(refused.value) == str(err) and str(err).startswith(("patient", "doses[5].amt: 0.5 mg/kg x 300 kg"))
        return
    assert job.apply(point) == expected


def test_a_sweep_records_a_bad_virtual_patient_with_its_reason_and_keeps_the_others(scenario):
    points = pd.DataFrame({"PK_CL": [90.0, -1.0, 120.0], "patient.cd4": [150.0, 150.0, 400.0]})
    table = run_sweep(scenario, points, endpoints=["auc_CD4"], progress=False)
    runs = table.set_index("run")
    assert runs.status.tolist() == ["ok", "failed", "failed"]
    assert "patient.parameters.PK_CL: -1.0; allowed: a finite number >= 0" in runs.error[1]
    assert "Patient.cd3 (422.5) must be >= cd4 + cd8" in runs.error[2] and np.isfinite(runs.value[0])


def test_sample_is_seeded_and_log_uniform_over_decades():
    a = sample({"x": (1.0, 1000.0), "y": (0.0, 1.0)}, n=1000, seed=3)
    assert a.equals(sample({"x": (1.0, 1000.0), "y": (0.0, 1.0)}, n=1000, seed=3))
    assert 0.25 < (np.log10(a.x) < 1).mean() < 0.42  # log-uniform: a third per decade
    assert a.y.between(0, 1).all()


def test_a_failing_simulation_is_recorded_and_the_rest_kept(scenario, points):
    broken = points.copy()
    broken.loc[3, "doses[4].amt"] = "-1 mg"  # invalid point

    def explode_on_run_5(df):
        if df.CD4.iloc[-1] == CD4_RUN5[0]:
            raise RuntimeError("injected failure")
        return 0.0

    CD4_RUN5 = [run_sweep(scenario, broken.iloc[[5]], endpoints=["auc_CD4"], timecourses=True)
                .attrs["timecourses"][0].CD4.iloc[-1]]
    table = run_sweep(scenario, broken, endpoints=ENDPOINTS + [explode_on_run_5])
    failed = table[table.status == "failed"]
    assert set(failed.run) == {3, 5}
    assert failed[failed.run == 3].error.str.contains(r"doses\[4\].amt").all()
    assert failed[(failed.run == 5)].error.str.contains("injected failure").all()
    ok = table[(table.status == "ok")]
    assert set(ok.run) == set(range(8)) - {3, 5}
    assert np.isfinite(ok[ok.endpoint == "lymphocyte_nadir"].value).all()


@pytest.mark.parametrize("kill_at", [3, 6, 8])
def test_interrupt_and_resume_gives_the_uninterrupted_result(scenario, points, tmp_path, kill_at):
    full = run_sweep(scenario, points, endpoints=ENDPOINTS)
    calls = {"n": 0}

    def interrupt_after_five(df):
        calls["n"] += 1
        if calls["n"] == kill_at:
            raise KeyboardInterrupt
        return 0.0

    with pytest.raises(KeyboardInterrupt):
        run_sweep(scenario, points, endpoints=ENDPOINTS + [interrupt_after_five], out=tmp_path, chunk=2)
    partial = pd.concat([pd.read_parquet(p) for p in tmp_path.glob("part-*.parquet")])
    assert 0 < partial.run.nunique() < len(points)
    # resume with the same endpoints (the interrupting one now harmless)
    calls["n"] = -10**9
    resumed = run_sweep(scenario, points, endpoints=ENDPOINTS + [interrupt_after_five], out=tmp_path, chunk=2)
    resumed = resumed[resumed.endpoint != "interrupt_after_five"].reset_index(drop=True)
    assert not resumed.duplicated(["run", "endpoint"]).any()
    pd.testing.assert_frame_equal(resumed, full, check_dtype=False)


@pytest.mark.slow
def test_a_sweep_on_an_edited_model_is_identical_serial_multiprocess_and_dask(scenario, points):
    """Workers run the model the sweep names (sent by value), not the committed one."""
    import distributed
    import libsbml

    doc = libsbml.readSBMLFromString(default_model().sbml)
    doc.getModel().getParameter("DC_K_TLR9").setValue(5.0)  # a stronger Ta1 effect on DCs
    edited = replace(scenario, model=default_model().with_sbml(libsbml.writeSBMLToString(doc)))
    committed = run_sweep(scenario, points, endpoints=ENDPOINTS)
    serial = run_sweep(edited, points, endpoints=ENDPOINTS)
    assert (serial.status == "ok").all()
    assert not np.allclose(serial.value, committed.value, rtol=1e-6)  # the edit changes the results
    multi = run_sweep(edited, points, endpoints=ENDPOINTS, workers=2)
    pd.testing.assert_frame_equal(serial, multi, check_exact=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        dask = run_sweep(edited, points, endpoints=ENDPOINTS, scheduler=client)
    # fresh worker processes: equal to the solver's accuracy (a run repeats to ~6e-5 relative whatever
    # else a process compiled before it, README "Speed")
    pd.testing.assert_frame_equal(serial, dask, check_exact=False, rtol=1e-4)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        threaded = run_sweep(edited, points, endpoints=ENDPOINTS, scheduler=client)
    assert (threaded.status == "ok").all()
    pd.testing.assert_frame_equal(serial, threaded, check_exact=False, rtol=1e-4)


def test_grid_is_full_factorial():
    g = grid({"PK_CL": [50, 100], "doses[0].amt": ["1 mg", "2 mg", "3 mg"]})
    assert len(g) == 6 and list(g.columns) == ["PK_CL", "doses[0].amt"]


def test_endpoint_only_fast_path_equals_the_dataframe_path():
    """Built-in endpoints on the numpy trajectory (sweeps' fast path) give the DataFrame's numbers."""
    from thymosim.analysis.endpoints import ENDPOINTS, GENERIC

    scenario = named("prag_ta1_loading")
    df, trajectory = scenario.simulate(), scenario.simulate(frame=False)
    assert list(trajectory) == list(df.columns)
    pd.testing.assert_frame_equal(trajectory.to_frame(), df)
    for name, endpoint in ENDPOINTS.items():
        a, b = endpoint(trajectory, scenario), endpoint(df, scenario)
        assert a == b or (np.isnan(a) and np.isnan(b)), name
    for kind in GENERIC:
        name = f"{kind}:IL2"
        assert GENERIC[kind]("IL2")(trajectory) == GENERIC[kind]("IL2")(df), name
    from thymosim.analysis.sweep import Job, run_task

    fast = Job.of(scenario, list(ENDPOINTS))
    dense = Job(fast.base, fast.model, fast.endpoints, timecourses=True)  # keeps the DataFrame
    assert fast.fast and not dense.fast
    a, b = run_task(fast, (0, {"PK_CL": 90.0})), run_task(dense, (0, {"PK_CL": 90.0}))
    assert a.timecourse is None and isinstance(b.timecourse, pd.DataFrame)
    assert a.values.keys() == b.values.keys()
    for key in a.values:
        assert a.values[key] == b.values[key] or np.isnan(a.values[key]) and np.isnan(b.values[key]), key


# --- streamed sweeps never lose, invent or reuse rows -----------------------------------------
FAULT_POINTS = grid({"PK_CL": [50.0, 80.0, 120.0, 160.0, 200.0, 240.0]})


@pytest.fixture(scope="module")
def short():
    base = named("cisplatin_vinorelbine_ta1")
    return Scenario("short", Regimen(tuple(d for d in base.regimen.doses if d.drug == "thymalfasin")),
                    base.patient, horizon=180, step=5.0)


@pytest.fixture(scope="module")
def uninterrupted(short):
    return run_sweep(short, FAULT_POINTS, endpoints=["auc_CD4"])


def parts(folder):
    return sorted(folder.glob("part-*.parquet"))


def test_reading_a_folder_that_holds_no_sweep_is_an_error(tmp_path):
    from thymosim.analysis.sweep import SweepFolderError, read_results

    with pytest.raises(SweepFolderError, match="no streamed sweep"):
        read_results(tmp_path / "typo")


def test_a_different_sweep_into_the_same_folder_is_refused(short, tmp_path):
    from thymosim.analysis.sweep import SweepFolderError

    run_sweep(short, FAULT_POINTS, endpoints=["auc_CD4"], out=tmp_path)
    with pytest.raises(SweepFolderError, match="another sweep"):
        run_sweep(short, grid({"PK_CL": [1.0, 2.0]}), endpoints=["auc_CD4"], out=tmp_path)
    with pytest.raises(SweepFolderError, match="another sweep"):
        run_sweep(short, FAULT_POINTS, endpoints=["peak_IL2"], out=tmp_path)
    fresh = run_sweep(short, grid({"PK_CL": [1.0, 2.0]}), endpoints=["auc_CD4"], out=tmp_path, overwrite=True)
    assert fresh["factor:PK_CL"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("fault", ["deleted", "truncated", "flipped", "duplicate"])
def test_a_damaged_part_is_detected_and_only_its_runs_recomputed(short, uninterrupted, tmp_path, fault):
    import shutil

    run_sweep(short, FAULT_POINTS, endpoints=["auc_CD4"], out=tmp_path, chunk=2)
    victim = parts(tmp_path)[1]
    lost = set(pd.read_parquet(victim).run)
    data = victim.read_bytes()
    if fault == "deleted":
        victim.unlink()
    elif fault == "truncated":
        victim.write_bytes(data[: len(data) // 2])
    elif fault == "flipped":  # 4 bytes in the middle (the value column)
        middle = len(data) // 2
        victim.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 4]) + data[middle + 4:])
    else:  # a stray copy of a valid part under another name must not duplicate rows
        shutil.copy(victim, tmp_path / victim.name.replace("part-", "part-9"))
    resumed = run_sweep(short, FAULT_POINTS, endpoints=["auc_CD4"], out=tmp_path, chunk=2)
    lost_rows = len(set(uninterrupted.run) - set(resumed.run))
    print(f"\nsweep fault '{fault}': {len(FAULT_POINTS)} runs, rows lost {lost_rows}, "
          f"duplicated {resumed.run.duplicated().sum()}, differing {(resumed.value != uninterrupted.value).sum()}")
    pd.testing.assert_frame_equal(resumed, uninterrupted, check_exact=True)
    assert resumed.run.is_unique and set(resumed.run) == set(range(len(FAULT_POINTS)))
    if fault in ("truncated", "flipped"):
        assert len(list(tmp_path.glob("*.corrupt-*"))) == 1
    if fault != "duplicate":  # only the damaged part's runs were recomputed, into one new part
        assert any(set(pd.read_parquet(p).run) == lost for p in parts(tmp_path))


@pytest.mark.parametrize("factor, message", [
    ("patient.cd44", "'cd44' is not a patient field; allowed: cd3, cd4"),
    ("doses[1].amnt", "'amnt' is not a dose field; allowed: drug, amt"),
])
def test_a_misspelt_field_is_refused_before_any_run(factor, message):
    from thymosim.analysis.sweep import check_factors
    from thymosim.scenario import ScenarioError, named

    with pytest.raises(ScenarioError, match=message):
        check_factors(named("prag_ta1"), [factor])


def test_the_recist_endpoint_is_a_label_through_a_streamed_sweep(short, tmp_path):
    """RECIST classes travel as labels (``label`` column, value NaN), also through the parquet store, and
    are the one classifier's reading of each run's time course."""
    from thymosim.analysis.recist import CLASSES, classify_course

    points = grid({"PK_CL": [40.0, 200.0]})
    table = run_sweep(short, points, endpoints=["recist", "auc_CD4"], out=tmp_path, timecourses=True)
    rows = table[table.endpoint == "recist"].sort_values("run")
    assert rows.value.isna().all() and set(rows.label) <= set(CLASSES)
    for run, label in zip(rows.run, rows.label, strict=True):
        course = table.attrs["timecourses"][run]
        assert label == classify_course(course.time, course.tumour_diameter).best
    numbers = table[table.endpoint == "auc_CD4"]
    assert numbers.value.notna().all() and numbers.label.isna().all()
