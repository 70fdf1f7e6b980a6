"""In-silico trials: randomisation, summaries with exact intervals, failures kept as NE,
reproducibility serial vs parallel, and the command line."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from thymosim.analysis.population import sample_population
from thymosim.analysis.trial import Design, randomise, run_arm, run_trial, summarise
from thymosim.cli import main


def test_randomisation_splits_one_to_one_reproducibly():
    pop = pd.DataFrame({"vp": range(20), "x": range(20)})
    a, b = randomise(pop, ["A", "B"], seed=3), randomise(pop, ["A", "B"], seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a.arm.value_counts().to_dict() == {"A": 10, "B": 10}
    assert sorted(a.vp) == list(range(20))
    assert not randomise(pop, ["A", "B"], seed=4).equals(a)


def _patients(arm, classes, pfs, events):
    return pd.DataFrame({"arm": arm, "recist": classes, "pfs_day": pfs, "pfs_event": events,
                         "status": ["ok" if c != "NE" else "failed" for c in classes]})


def test_summary_counts_responders_with_exact_intervals_and_failures_as_non_responders():
    a = _patients("A", ["PR"] * 3 + ["SD"] * 4 + ["PD"] * 2 + ["NE"], [168.0] * 7 + [42.0, 84.0, np.nan],
                  [False] * 7 + [True, True, False])
    b = _patients("B", ["CR"] + ["PR"] * 6 + ["SD"] * 3, [168.0] * 10, [False] * 10)
    summary = summarise(pd.concat([a, b], ignore_index=True)).set_index("arm")
    assert summary.loc["A", "n"] == 10 and summary.loc["A", "failed"] == 1
    assert summary.loc["A", "ORR"] == 30.0 and summary.loc["B", "ORR"] == 70.0
    assert summary.loc["A", "DCR"] == 70.0 and summary.loc["B", "DCR"] == 100.0
    lo, hi = proportion_confint(3, 10, method="beta")
    assert summary.loc["A", "ORR_lo"] == pytest.approx(100 * lo)
    assert summary.loc["A", "ORR_hi"] == pytest.approx(100 * hi)
    assert np.isnan(summary.loc["A", "p_ORR_fisher"])
    # 7/10 vs 3/10, two-sided Fisher: 2 x sum of C(10,k)C(10,10-k)/C(20,10) for k = 7..10
    # = 2 x (14400 + 2025 + 100 + 1)/184756 = 0.17890
    assert summary.loc["B", "p_ORR_fisher"] == pytest.approx(2 * 16526 / 184756, rel=1e-9)
    assert 0 < summary.loc["B", "p_PFS_logrank"] < 1


def test_a_failed_simulation_stays_in_its_arm_as_not_evaluable():
    pop = sample_population(3, seed=0)
    pop["TUM_k_clear"] = [0.1, -1.0, 0.1]  # negative clearance: outside the hard domain
    arm = run_arm("cisplatin_vinorelbine", pop)
    assert arm.recist[1] == "NE" and arm.status[1] == "failed" and "TUM_k_clear" in arm.error[1]
    assert set(arm.recist[[0, 2]]) <= {"CR", "PR", "SD", "PD"}


def test_a_design_without_a_follow_up_scan_is_refused():
    with pytest.raises(ValueError, match="scan_every"):
        Design(scan_every=0)
    with pytest.raises(ValueError, match="horizon"):
        Design(horizon=20)


@pytest.mark.slow
def test_a_trial_is_identical_from_the_same_seed_serial_and_with_two_workers():
    arms = ["cisplatin_vinorelbine", "cisplatin_vinorelbine_ta1"]
    serial = run_trial(arms, 6, seed=11)
    parallel = run_trial(arms, 6, seed=11, workers=2)
    pd.testing.assert_frame_equal(serial.patients, parallel.patients)
    pd.testing.assert_frame_equal(serial.summary, parallel.summary)
    other = run_trial(arms, 6, seed=12, population=None)
    assert not other.patients[["CD4_0"]].equals(serial.patients[["CD4_0"]])


def test_the_trial_command_writes_summary_patients_power_and_figures(tmp_path, capsys):
    main(["trial", "ifosfamide", "ifosfamide_ta1_ifna", "--n", "4", "--seed", "1", "--out", str(tmp_path),
          "--power", "3", "--quiet"])
    for name in ("summary.csv", "patients.parquet", "power.csv", "waterfall.png", "spider.png", "km.png", "km_os.png",
                 "swimmer.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary.arm.tolist() == ["ifosfamide", "ifosfamide_ta1_ifna"]
    assert {"n", "responders", "ORR", "ORR_lo", "ORR_hi", "DCR", "DCR_lo", "DCR_hi", "median_PFS",
            "p_ORR_fisher", "p_PFS_logrank", "median_PFS_lo", "median_PFS_hi", "median_OS", "median_OS_lo",
            "median_OS_hi", "PFS_6mo", "OS_12mo_hi", "median_PPS", "HR_PFS", "HR_OS_lo", "p_OS_logrank"
            } <= set(summary.columns)
    patients = pd.read_parquet(tmp_path / "patients.parquet")
    assert len(patients) == 8 and {"arm", "recist", "pfs_day", "pfs_event", "CD4_0", "TUM_g_net", "os_day",
                                   "os_event", "ttp_day", "ttp_event"} <= set(patients)
    assert ((patients.pfs_day <= patients.ttp_day) | ~patients.ttp_event).all()
    assert (patients.pfs_day <= patients.os_day).all()
    # no scan is read after death: progression (or censoring of it) is never later than death
    assert (patients.ttp_day <= patients.os_day).all()
    assert "wrote" in capsys.readouterr().err


def test_the_trial_command_needs_two_arms(tmp_path):
    with pytest.raises(SystemExit, match="two or more arms"):
        main(["trial", "ifosfamide", "--out", str(tmp_path)])


@pytest.mark.slow
def test_an_arm_streams_to_disk_and_runs_on_dask_like_serially(tmp_path):
    """Streamed parts on disk (resumable), and the Dask back end gives the same patients (to the
    solver's cross-process repeatability, 1e-4) and the same RECIST classes."""
    import distributed

    population = sample_population(6, seed=2)
    serial = run_arm("cisplatin_vinorelbine_ta1", population, out=tmp_path / "arm")
    assert list((tmp_path / "arm").glob("part-*.parquet"))
    resumed = run_arm("cisplatin_vinorelbine_ta1", population, out=tmp_path / "arm")  # read back, no rerun
    pd.testing.assert_frame_equal(serial, resumed)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        dask = run_arm("cisplatin_vinorelbine_ta1", population, scheduler=client)
    assert dask.recist.tolist() == serial.recist.tolist()
    numbers = [c for c in serial.columns if c.startswith("at:")]
    np.testing.assert_allclose(dask[numbers].to_numpy(float), serial[numbers].to_numpy(float), rtol=1e-4)


def test_randomise_takes_the_requested_number_per_arm_and_refuses_too_many():
    pop = pd.DataFrame({"vp": range(12)})
    assert randomise(pop, ["A", "B"], seed=0, n_per_arm=2).arm.value_counts().to_dict() == {"A": 2, "B": 2}
    with pytest.raises(ValueError, match="n_per_arm"):
        randomise(pop, ["A", "B"], seed=0, n_per_arm=7)


def test_a_scan_interval_longer_than_the_follow_up_is_refused():
    with pytest.raises(ValueError, match="scan_every: 500 days leaves no follow-up scan"):
        run_arm("ifosfamide", sample_population(2, seed=0), Design(scan_every=500))


def test_power_names_the_arms_it_compares():
    classes = ["PR"] * 9 + ["SD"] + ["PR"] + ["SD"] * 9
    trial_patients = pd.DataFrame({"arm": ["A"] * 10 + ["B"] * 10, "recist": classes})
    from thymosim.analysis.trial import Trial

    power = Trial(trial_patients, pd.DataFrame(), seed=0).power(10, 200)
    assert (power["control"], power["treatment"], power["endpoint"]) == ("A", "B", "ORR")
    assert power["median_rate_control"] == pytest.approx(0.9, abs=0.1)
    assert power["median_rate_treatment"] == pytest.approx(0.1, abs=0.1)
    assert power["power"] > 0.9


@pytest.mark.parametrize("argv, message", [
    (["--power", "0"], "--power: '0'; allowed: a whole number from 1 to"),
    (["--power", "abc"], "--power: 'abc'; allowed: a whole number from 1 to"),
    (["--n", "0"], "--n: '0'; allowed: a whole number from 1 to"),
])
def test_bad_trial_options_are_named_before_anything_runs(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit):
        main(["trial", "ifosfamide", "ifosfamide_ta1_ifna", "--out", str(tmp_path), *argv])
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_reproduce_seed_refuses_options_it_would_ignore(tmp_path):
    with pytest.raises(SystemExit, match="remove arms"):
        main(["trial", "--reproduce-seed", "prag", "--out", str(tmp_path)])


def test_a_median_never_reached_is_written_as_not_reached():
    import pandas as pd

    from thymosim.workflows.trials import readable

    summary = pd.DataFrame({"arm": ["a", "b"], "median_PFS": [float("inf"), 84.0], "ORR": [10.0, 20.0]})
    written = readable(summary)
    assert written.median_PFS.tolist() == ["not reached", 84.0] and written.ORR.tolist() == [10.0, 20.0]
    assert summary.median_PFS.iloc[0] == float("inf")  # the table itself keeps the number


def test_survival_summary_reads_pfs_os_landmarks_and_hazard_ratios_from_known_data():
    from lifelines import CoxPHFitter, KaplanMeierFitter

    from thymosim.analysis.trial import summarise_survival

    rng = np.random.default_rng(4)
    n = 400
    arms = []
    for arm, scale in (("control", 250.0), ("treated", 500.0)):  # OS medians 250 ln2 and 500 ln2 days
        os_true, ttp_true = rng.exponential(scale / np.log(2), n), rng.exponential(150.0, n)
        os_day, ttp_day = np.minimum(os_true, 730.0), np.minimum(ttp_true, 730.0)
        arms.append(pd.DataFrame({"arm": arm, "os_day": os_day, "os_event": os_true <= 730, "ttp_day": ttp_day,
                                  "ttp_event": ttp_true <= 730, "pfs_day": np.minimum(os_day, ttp_day),
                                  "pfs_event": (os_true <= 730) | (ttp_true <= 730)}))
    patients = pd.concat(arms, ignore_index=True)
    s = summarise_survival(patients).set_index("arm")
    for arm in ("control", "treated"):
        g = patients[patients.arm == arm]
        km = KaplanMeierFitter().fit(g.os_day, g.os_event)
        assert s.loc[arm, "median_OS"] == pytest.approx(km.median_survival_time_)
        assert s.loc[arm, "median_OS_lo"] < s.loc[arm, "median_OS"] < s.loc[arm, "median_OS_hi"]
        assert s.loc[arm, "OS_12mo"] == pytest.approx(100 * float(km.survival_function_at_times(365.25).iloc[0]))
        assert s.loc[arm, "PFS_6mo_lo"] < s.loc[arm, "PFS_6mo"] < s.loc[arm, "PFS_6mo_hi"]
    # true OS medians 250 and 500 days, true HR 0.5 (exponential), within sampling error
    assert s.loc["control", "median_OS_lo"] < 250 < s.loc["control", "median_OS_hi"]
    assert s.loc["treated", "median_OS_lo"] < 500 < s.loc["treated", "median_OS_hi"]
    assert s.loc["treated", "HR_OS_lo"] < 0.5 < s.loc["treated", "HR_OS_hi"]
    frame = patients.assign(x=(patients.arm == "treated").astype(float))[["os_day", "os_event", "x"]]
    assert s.loc["treated", "HR_OS"] == pytest.approx(
        float(np.exp(CoxPHFitter().fit(frame, "os_day", "os_event").params_["x"])))
    assert s.loc["treated", "p_OS_logrank"] < 1e-4 and np.isnan(s.loc["control", "HR_PFS"])
    assert s.loc["control", "median_PPS"] > 0
