"""Trial protocols: scan schedules as data, treatment until progression, treatment stopped at the
first PD scan, new lesions read as progression from each patient's uniform draw, and the PD shares
of the summary. Times in days."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from thymosim.analysis.population import sample_population
from thymosim.analysis.trial import Design, continued, new_lesion_uniforms, run_arm, stopped, summarise
from thymosim.regimen import Dose, Regimen
from thymosim.scenario import named


def test_the_first_line_design_scans_every_6_then_9_then_12_weeks_for_24_months():
    design = Design.named("first_line_nsclc")
    assert design.horizon == 730 and design.stop_at_progression
    assert set(design.until_progression) == {"thymalfasin", "pd1_inhibitor"}
    assert design.scan_days(730).tolist() == [0, 42, 84, 126, 189, 252, 315, 399, 483, 567, 651]
    assert design.scan_days(100).tolist() == [0, 42, 84]
    assert Design().scan_days(168).tolist() == [0, 42, 84, 126, 168]  # the default: every 42 days


@pytest.mark.parametrize("scans", [((42, 42),), ((0, 42), (0, 63)), ((0, 0),), ((0, 42), (100, -1))])
def test_a_bad_scan_schedule_is_refused_naming_the_field(scans):
    with pytest.raises(ValueError, match="Design.scans"):
        Design(scans=scans)


def test_an_unknown_design_names_the_ones_allowed():
    with pytest.raises(ValueError, match="first_line_nsclc"):
        Design.named("no_such_design")


def test_until_progression_continues_the_interval_to_the_end_of_follow_up_and_stopping_cuts_every_drug():
    regimen = named("prag_ta1").regimen
    longer = continued(regimen, ("thymalfasin", "PD-1 inhibitor"), 730.0)
    times = {d.drug: d.times for d in longer.doses}
    assert times["pd1_inhibitor"] == [21.0 * k for k in range(35)]  # 35 cycles: the 2-year maximum
    assert max(times["thymalfasin"]) < 730 <= max(times["thymalfasin"]) + 3.5
    assert {d.drug: d.times for d in continued(regimen, (), 730.0).doses} == {d.drug: d.times for d in regimen.doses}
    cut = stopped(longer, 84.0)
    assert all(max(d.times) < 84.0 for d in cut.doses)
    assert {d.drug: d.times for d in cut.doses}["pd1_inhibitor"] == [0.0, 21.0, 42.0, 63.0]
    chemo = Regimen(Dose("cisplatin", "80 mg/m2", ii="21 day", addl=3))
    assert stopped(chemo, 42.0).doses[0].times == [0.0, 21.0] and stopped(chemo, 0.0).doses == ()


def test_uniforms_are_reproducible_from_the_seed():
    np.testing.assert_array_equal(new_lesion_uniforms(5, 3), new_lesion_uniforms(5, 3))
    assert not np.array_equal(new_lesion_uniforms(5, 3), new_lesion_uniforms(5, 4))
    assert np.all((new_lesion_uniforms(1000, 0) > 0) & (new_lesion_uniforms(1000, 0) < 1))


def test_a_new_lesion_is_progression_at_the_first_scan_whose_hazard_reaches_minus_log_u():
    """Same patient three times: U ~ 1 (threshold ~0: a new lesion at the first scan), U tiny (never
    within follow-up), and new lesions switched off. The cumulative hazard at each scan is in the
    patient table, so the reading can be checked by hand."""
    pop = sample_population(1, seed=2)
    pop = pd.concat([pop] * 3, ignore_index=True).assign(vp=[0, 1, 2], u_new_lesion=[1 - 1e-12, 1e-300, 0.5])
    arm = run_arm("cisplatin_vinorelbine", pop, Design(horizon=126), progress=False)
    assert arm.progression_reason[0] == "new_lesion" and arm.first_pd_day[0] == 42.0
    assert arm.recist[0] == "PD" and arm.new_lesion_day[0] == 42.0
    assert np.isnan(arm.new_lesion_day[1]) and arm.progression_reason[1] != "new_lesion"
    hazard = arm.loc[2, [f"at:new_lesion_hazard@{d}" for d in (42, 84, 126)]].to_numpy(float)
    seen = hazard >= -np.log(0.5)
    expected = float(np.array([42, 84, 126])[seen][0]) if seen.any() else np.nan
    np.testing.assert_equal(arm.new_lesion_day[2], expected)
    off = run_arm("cisplatin_vinorelbine", pop.iloc[[0]], Design(horizon=126, new_lesions=False), progress=False)
    assert off.progression_reason[0] != "new_lesion" and np.isnan(off.new_lesion_day[0])


def test_stopping_at_progression_keeps_progression_and_changes_only_what_follows():
    """A patient with a new lesion at day 42 on Ta1 + PRaG with Ta1 and PD-1 until progression:
    stopping treatment at the PD scan leaves every reading up to it unchanged (scan at day 42) and,
    followed after progression, lowers the PD-1-released immune kill after it (a larger lesion at
    day 126); by default the simulation ends at the PD scan: nothing after it is observed (NaN)."""
    pop = sample_population(1, seed=2).assign(u_new_lesion=1 - 1e-12)
    base = Design(horizon=126, until_progression=("thymalfasin", "pd1_inhibitor"))
    go_on = run_arm("prag_ta1", pop, base, progress=False)
    follow = run_arm("prag_ta1", pop, replace(base, stop_at_progression=True, follow_after_progression=True),
                     progress=False)
    stop = run_arm("prag_ta1", pop, replace(base, stop_at_progression=True), progress=False)
    for column in ("recist", "pfs_day", "first_pd_day", "progression_reason", "at:tumour_diameter@42"):
        assert stop[column][0] == go_on[column][0] == follow[column][0], column
    assert follow["at:tumour_diameter@126"][0] > go_on["at:tumour_diameter@126"][0]
    after = [c for c in stop.columns if c.startswith("at:") and float(c.split("@")[1]) > 42]
    assert after and stop[after].isna().all(axis=None) and follow[after].notna().all(axis=None)


def test_the_summary_reports_pd_at_the_first_scan_and_reasons_of_progression():
    patients = pd.DataFrame({"arm": "A", "recist": ["PD", "PD", "SD", "PR"], "pfs_day": [42.0, 84.0, 168.0, 126.0],
                             "pfs_event": [True, True, False, True], "status": "ok",
                             "progression_reason": ["new_lesion", "target", "", "target"],
                             "first_pd_day": [42.0, 84.0, np.nan, 126.0]})
    row = summarise(patients).iloc[0]
    assert (row.PD_first_scan, row.PD_target, row.PD_new_lesion) == (25.0, 50.0, 25.0)


def test_the_trial_command_names_an_unknown_design_and_a_conflicting_scan_interval(tmp_path):
    from thymosim.cli import main

    with pytest.raises(SystemExit, match="first_line_nsclc"):
        main(["trial", "prag", "prag_ta1", "--design", "no_such", "--out", str(tmp_path), "--quiet"])
    with pytest.raises(SystemExit, match="remove --scan-every"):
        main(["trial", "prag", "prag_ta1", "--design", "first_line_nsclc", "--scan-every", "21",
              "--out", str(tmp_path), "--quiet"])


def test_stopping_at_progression_also_cuts_the_doses_a_count_guided_rule_added():
    """prag_ta1_guided with its rule made to fire for every patient (switch thymalfasin at day 0 to
    a loading course running to day 178.5): a new lesion at day 42 stops treatment, the doses the
    rule added after it included, so the arm's day-126 scan is that of the fixed regimen cut at 42."""
    import tomllib

    from thymosim.model import model_dir
    from thymosim.scenario import Scenario

    data = tomllib.loads((model_dir() / "scenarios" / "prag_ta1_guided.toml").read_text(encoding="utf-8"))
    data["rules"][0]["threshold"] = 1e9  # every baseline CD3 is below it
    guided = Scenario.from_dict(data)
    regimen = guided.guided()[0]
    assert max(t for d in regimen.doses if d.drug == "thymalfasin" for t in d.times) > 126  # the rule's doses
    pop = sample_population(1, seed=2).assign(u_new_lesion=1 - 1e-12)  # a new lesion at the first scan
    stop = run_arm(guided, pop, Design(horizon=126, stop_at_progression=True, follow_after_progression=True),
                   progress=False)
    assert stop.first_pd_day[0] == 42.0
    fixed = replace(guided, regimen=stopped(regimen, 42.0), rules=())
    cut = run_arm(fixed, pop, Design(horizon=126), progress=False)
    assert stop["at:tumour_diameter@126"][0] == pytest.approx(cut["at:tumour_diameter@126"][0], rel=1e-6)
    assert stop["at:CD4@42"][0] == pytest.approx(cut["at:CD4@42"][0], rel=1e-6)
    # and a scenario's stop_day cuts the rule's doses in its own regimen too (round trip of the data form)
    cut_here = replace(guided, stop_day=42.0)
    assert max(t for d in cut_here.guided()[0].doses for t in d.times) < 42
    assert Scenario.from_dict(cut_here.to_dict(standalone=False), model=guided.model).stop_day == 42.0


def test_stopping_at_progression_in_one_pass_or_in_stages_gives_what_one_full_pass_gives(monkeypatch):
    """Stopping at progression three ways: (1) one simulation per patient, treatment stopped at the
    PD scan read during it (the default); (2) patients simulated to day 42, then 84, and only those
    still without progression to the end of follow-up (252 days), then again with treatment
    stopped; (3) everyone to the end under full treatment, then again with treatment stopped. (2)
    must equal (3) bitwise; (1) the same PD days and classes, and values within 1e-5 (its integration
    restarts at each scan day), for patients progressing in each stage and after. Each ends the
    simulation at the patient's PD scan."""
    from thymosim.analysis import trial

    design = Design.named("first_line_nsclc", horizon=252)
    assert trial.stage_ends(design.scan_days(252), 252) == [42.0, 84.0, 252.0]
    # each patient's own cumulative new-lesion hazard, then U set to see a new lesion at day 42, 84, 126, never
    pop = sample_population(4, seed=3).assign(u_new_lesion=1e-300)
    hazard = run_arm("cisplatin_vinorelbine_ta1", pop, design, progress=False)[
        [f"at:new_lesion_hazard@{d:g}" for d in (42, 84, 126)]].to_numpy()
    pop["u_new_lesion"] = [1 - 1e-12, np.exp(-(hazard[1, 0] + hazard[1, 1]) / 2),
                           np.exp(-(hazard[2, 1] + hazard[2, 2]) / 2), 1e-300]
    one = run_arm("cisplatin_vinorelbine_ta1", pop, design, progress=False)
    first = one.first_pd_day.to_numpy()
    assert first[0] == 42.0 and 42 < first[1] <= 84 and (first[2] > 84 or np.isnan(first[2])), first
    monkeypatch.setattr(trial, "ONE_PASS", False)
    staged = run_arm("cisplatin_vinorelbine_ta1", pop, design, progress=False)
    monkeypatch.setattr(trial, "STAGES", ())
    assert trial.stage_ends(design.scan_days(252), 252) == [252.0]
    single = run_arm("cisplatin_vinorelbine_ta1", pop, design, progress=False)
    pd.testing.assert_frame_equal(staged, single)
    pd.testing.assert_frame_equal(one, single, check_exact=False, rtol=1e-5)
    for i, day in enumerate(first):  # each of the three ends the simulation at the PD scan: nothing after it
        after = [c for c in single.columns if c.startswith("at:") and float(c.split("@")[1]) > day]
        assert one.loc[i, after].isna().all() and single.loc[i, after].isna().all()
    for column in ("recist", "first_pd_day", "pfs_day", "progression_reason", "new_lesion_day", "confirmed"):
        pd.testing.assert_series_equal(one[column], single[column])


@pytest.mark.slow
def test_stopping_at_progression_is_identical_serial_with_two_workers_and_read_back(tmp_path):
    """The one-pass stop at progression (each run's ProgressionCheck, sent to the workers with the
    sweep) gives the same table serially, on two local processes and when read back from disk."""
    design = Design.named("first_line_nsclc", horizon=252)
    pop = sample_population(6, seed=4)
    serial = run_arm("cisplatin_vinorelbine_ta1", pop, design, progress=False, seed=2)
    assert serial.first_pd_day.notna().any()  # some patients stop treatment at a PD scan
    parallel = run_arm("cisplatin_vinorelbine_ta1", pop, design, progress=False, seed=2, workers=2,
                       out=tmp_path / "arm")
    pd.testing.assert_frame_equal(serial, parallel)
    resumed = run_arm("cisplatin_vinorelbine_ta1", pop, design, progress=False, seed=2, out=tmp_path / "arm")
    pd.testing.assert_frame_equal(serial, resumed)


def test_ending_the_simulation_at_progression_reads_what_following_the_patient_after_it_reads():
    """30 patients on vinorelbine + cisplatin + Ta1 under the first-line design (24 months, Ta1
    until progression, treatment stopped at the PD scan), simulated to the end of follow-up after
    progression or ended at the PD scan (the default): RECIST, progression, the counts kept and
    overall survival are the same (to 1e-9: the runner cached between patients carries the last
    one's solver history, 1e-12 apart); after the PD scan the ended course is not observed (NaN)."""
    from thymosim.analysis.trial import add_overall_survival

    pop = sample_population(30, seed=5)
    design = Design.named("first_line_nsclc")
    assert not design.follow_after_progression
    arms, read = {}, {}
    for follow in (True, False):
        chosen = replace(design, follow_after_progression=follow)
        read[follow] = run_arm("cisplatin_vinorelbine_ta1", pop, chosen, progress=False, seed=1)
        arms[follow] = add_overall_survival(read[follow], 730.0, 1, chosen)
    full, ended = arms[True], arms[False]
    assert (ended.status == "ok").all() and (full.status == "ok").all()
    first_pd = read[False].first_pd_day  # the PD scan read on the simulation (before death truncates the reading)
    pd.testing.assert_series_equal(first_pd, read[True].first_pd_day)
    progressed = first_pd.notna()
    assert 5 <= progressed.sum() < 30, progressed.sum()  # several progressions, not everyone
    counts = [c for c in ended.columns if any(c.startswith(f"at:{k}@") for k in ("CD3", "CD4", "CD8", "NK"))]
    same = ["recist", "best_change_pct", "pfs_day", "pfs_event", "ttp_day", "ttp_event", "first_pd_day",
            "progression_reason", "confirmed", "response_day", "os_day", "os_event", "os_kg", "os_ks", "os_ttg",
            "os_median_day", *counts]
    pd.testing.assert_frame_equal(ended[same], full[same], rtol=1e-9)  # the cached runner's history: 1e-12
    scans = [c for c in ended.columns if c.startswith(("at:tumour_diameter@", "at:new_lesion_hazard@"))]
    day = np.array([float(c.split("@")[1]) for c in scans])
    after = day[None, :] > first_pd.fillna(np.inf).to_numpy()[:, None]
    values = ended[scans].to_numpy(float)
    assert np.isnan(values[after]).all() and np.isfinite(values[~after]).all()
    np.testing.assert_allclose(values[~after], full[scans].to_numpy(float)[~after], rtol=1e-9)
    assert np.isfinite(full[scans].to_numpy(float)).all()
    # a new lesion is seen on the scans read: up to the PD scan the same either way, none after it
    up_to = ~(full.new_lesion_day > first_pd)
    pd.testing.assert_series_equal(ended.new_lesion_day[up_to], full.new_lesion_day[up_to])
    assert ended.new_lesion_day[~up_to].isna().all()


def test_a_pd_scan_before_the_last_count_day_does_not_end_the_simulation():
    """Scans every 21 days and a new lesion at the first: the PD scan (day 21) comes before the
    day-42 blood counts, so the patient is followed, treatment stopped, to the end of follow-up."""
    pop = sample_population(1, seed=2).assign(u_new_lesion=1 - 1e-12)
    design = Design(scan_every=21, horizon=84, stop_at_progression=True)
    stop = run_arm("prag_ta1", pop, design, progress=False)
    follow = run_arm("prag_ta1", pop, replace(design, follow_after_progression=True), progress=False)
    assert stop.first_pd_day[0] == 21.0
    pd.testing.assert_frame_equal(stop, follow)
    assert np.isfinite(stop["at:CD4@42"][0]) and np.isfinite(stop["at:tumour_diameter@84"][0])
