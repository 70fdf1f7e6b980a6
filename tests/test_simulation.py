"""Simulation driver: exact doses, grid independence, clean restarts, clear errors."""

import numpy as np
import pytest

from thymosim import Dose, Patient, Regimen, simulate
from thymosim.model import compilations, default_model
from thymosim.scenario import DEFAULT, named


def test_doses_are_applied_exactly_whatever_the_grid():
    """Coarse output points (between doses) equal the same points on a fine grid (tight solver, so
    that solver error does not hide a dosing error)."""
    regimen = named("cisplatin_vinorelbine_ta1").regimen
    tight = default_model().with_tolerances(1e-10, 1e-12, stiff=True)
    coarse_times = [0, 1.3, 17, 33.3, 60]
    fine_times = np.unique(np.r_[np.arange(0, 60, 1 / 24), coarse_times])
    fine = simulate(Patient(), regimen, times=fine_times, model=tight).set_index("time")
    coarse = simulate(Patient(), regimen, times=coarse_times, model=tight).set_index("time")
    np.testing.assert_allclose(coarse.to_numpy(), fine.loc[coarse_times].to_numpy(), rtol=1e-6, atol=1e-9)


def test_second_run_is_identical_to_first():
    regimen = named("cisplatin_vinorelbine_ta1").regimen
    first = simulate(Patient(), regimen, horizon=40, step=1)
    simulate(Patient(cd4=500, cd8=300, cd3=850, parameters={"PK_CL": 200.0}), Regimen(), horizon=10)
    second = simulate(Patient(), regimen, horizon=40, step=1)
    np.testing.assert_array_equal(first.to_numpy(), second.to_numpy())


def test_parameter_and_dose_changes_never_recompile():
    default_model().runner()
    before = compilations()
    for amt, ii in [(1.6, 3.5), (3.2, 1.0), (0.8, 7.0)]:
        simulate(Patient(parameters={"DC_K_TLR9": 10 * amt}),
                 Regimen((Dose("thymalfasin", amt, "mg", ii=ii, addl=3),)), horizon=14)
    assert compilations() == before


def test_outputs_are_non_negative_over_the_default_scenario():
    for name in DEFAULT:
        df = named(name).simulate()
        assert (df.drop(columns="time").to_numpy() >= 0).all()


@pytest.mark.parametrize("horizon, step", [(10, 3), (10, 4), (10, 6), (1, 1 / 24), (180, 0.25)])
def test_output_grid_ends_at_the_horizon_and_increases(horizon, step):
    from thymosim.simulation import output_grid

    grid = output_grid(horizon, step)
    assert grid[0] == 0 and grid[-1] == pytest.approx(horizon) and (np.diff(grid) > 0).all()
    assert np.diff(grid).max() <= step + 1e-9


def test_time_in_days_and_units_declared():
    df = simulate(Patient(), horizon=2, step=0.5)
    assert df.time.tolist() == [0, 0.5, 1, 1.5, 2]
    assert df.attrs["units"]["time"] == "day"
    assert df.attrs["units"]["CD4"] == "cells/uL"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: simulate(Patient(parameters={"no_such": 1.0})), "no_such"),
        (lambda: simulate(horizon=-5), "horizon"),
        (lambda: simulate(horizon=10, step=0), "step"),
        (lambda: simulate(times=[0, 2, 1]), "times"),
        (lambda: simulate(outputs=["CD99"]), "CD99"),
        (lambda: Dose("thymalfasin", -1.6), "amt"),
        (lambda: Dose("aspirin", 1.0), "drug"),
        (lambda: Dose("thymalfasin", 1.6, "mL"), "unit"),
        (lambda: Dose("thymalfasin", 1.6, ii=0, addl=3), "ii"),
        (lambda: Dose("thymalfasin", 1.6, dur=0.1), "dur"),
        (lambda: Patient(cd4=-1), "cd4"),
        (lambda: Patient(cd3=100, cd4=80, cd8=60), "cd3"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises((ValueError, KeyError), match=message):
        call()


def test_simulate_takes_a_dose_a_regimen_or_a_scenario_positionally_or_by_keyword():
    dose = Dose("thymalfasin", 1.6, "mg", ii=3.5, addl=3)
    expected = simulate(Patient(), Regimen((dose,)), horizon=14, step=1)
    for result in (simulate(dose, horizon=14, step=1), simulate(regimen=dose, horizon=14, step=1),
                   simulate(Regimen((dose,)), horizon=14, step=1), simulate(Patient(), dose, horizon=14, step=1)):
        np.testing.assert_array_equal(result.to_numpy(), expected.to_numpy())
    scenario = named("cisplatin_vinorelbine_ta1")
    by_name = simulate("cisplatin_vinorelbine_ta1", horizon=20)
    np.testing.assert_array_equal(by_name.to_numpy(), scenario.simulate(horizon=20).to_numpy())
    np.testing.assert_array_equal(simulate(regimen=scenario, horizon=20).to_numpy(), by_name.to_numpy())
    assert by_name.time.iloc[1] == scenario.step  # the scenario's step applies unless given
    other = Patient(cd4=500, cd8=300, cd3=850)
    np.testing.assert_array_equal(simulate(other, scenario, horizon=20).to_numpy(),
                                  simulate(other, scenario.regimen, horizon=20, step=scenario.step).to_numpy())


@pytest.mark.parametrize("args, kwargs, named_argument", [
    ((3.2,), {}, "patient or regimen"), ((), {"regimen": [1, 2]}, "regimen"), ((Patient(), 5), {}, "regimen"),
    ((), {"patient": {"cd4": 500}}, "patient or regimen"), ((Dose("thymalfasin", 1.6, "mg"), Regimen()), {}, "patient"),
])
def test_simulate_refuses_other_arguments_with_a_type_error_naming_them(args, kwargs, named_argument):
    with pytest.raises(TypeError, match=rf"simulate\({named_argument}=\.\.\.\).*allowed"):
        simulate(*args, **kwargs)


def test_public_names_are_listed_for_tab_completion():
    import subprocess
    import sys

    import thymosim

    assert set(thymosim.__all__) <= set(dir(thymosim))
    code = "import sys, thymosim; dir(thymosim); print('pandas' in sys.modules, 'roadrunner' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]  # dir() imports nothing heavy


def test_a_run_after_a_long_dose_free_stretch_equals_a_fresh_runner_s():
    """Long dose-free stretches are integrated with BDF (simulation.QUIET_SEGMENT), then the cached
    runner goes back to the model's Adams settings: the next run must be the one a freshly loaded
    runner gives, to the last bit (roadrunner rebuilds CVODE on a change of method; a setting left
    behind once moved a later run by 1e-4 of an output's range)."""
    from thymosim.model import forget_runners
    from thymosim.scenario import named

    named("prag").simulate(frame=False)  # PRaG ends its doses long before day 180: a BDF stretch
    after = named("prag_ta1_loading").simulate(frame=False)
    forget_runners()
    fresh = named("prag_ta1_loading").simulate(frame=False)
    for column in fresh:
        np.testing.assert_array_equal(after[column], fresh[column], err_msg=column)


def _checkpoint(days, answer):
    """A checkpoint whose decision is ``answer(day)`` at each of ``days``."""
    return (days, lambda: lambda day, read: answer(day))


def test_a_checkpoint_can_end_the_run_at_its_day_and_nothing_after_it_is_observed():
    """END at day 84 (a scan day of a trial): the course is the one the same run gives with the
    treatment stopped there, up to and including day 84 (the row at the end day is the state then,
    before that day's doses, which the stop removes), and it stops there; endpoints after it are NaN.
    At a day off the output grid (41.5), the last row is that day's state, equal to the one a run
    with that day on its grid gives."""
    from thymosim.analysis.endpoints import evaluate
    from thymosim.analysis.trial import stopped
    from thymosim.simulation import END, ended

    scenario = named("cisplatin_vinorelbine_ta1")
    days = (42.0, 84.0)
    cut = stopped(scenario.regimen, 84.0)
    follow = scenario.simulate(frame=False, checkpoint=_checkpoint(days, lambda d: cut if d == 84 else None))
    end = scenario.simulate(frame=False, checkpoint=_checkpoint(days, lambda d: END if d == 84 else None))
    assert ended(end) == end.ended == 84.0 and ended(follow) is None and end["time"][-1] == 84.0
    n = len(end["time"])
    assert np.count_nonzero(follow["time"] <= 84.0) == n
    for column in end:
        np.testing.assert_array_equal(end[column], follow[column][:n], err_msg=column)
    frame = scenario.simulate(checkpoint=_checkpoint(days, lambda d: END if d == 84 else None))
    assert frame.attrs["ended"] == 84.0 and frame.time.iloc[-1] == 84.0 and ended(end.to_frame()) == 84.0
    assert evaluate("at:CD4@84", end) == evaluate("at:CD4@84", follow)
    for name in ("at:CD4@84.5", "auc_CD4", "pct_change_CD4_end", "end:CD4", "below:ANC@1500"):
        assert np.isnan(evaluate(name, end)) and np.isfinite(evaluate(name, follow)), name
    assert evaluate("lymphocyte_nadir", end) == end["CD3"].min()  # over the part simulated
    with pytest.raises(ValueError, match="outside the simulated time course"):
        evaluate("at:CD4@200", follow)  # a course run to its horizon still refuses a day beyond it

    off = scenario.simulate(frame=False, step=1.0, checkpoint=_checkpoint((41.5,), lambda d: END))
    grid = np.sort(np.append(np.arange(0.0, 181.0), 41.5))
    on = scenario.simulate(frame=False, times=grid, checkpoint=_checkpoint((41.5,), lambda d: None))
    assert off["time"].tolist() == list(range(42)) + [41.5]
    for column in off:
        np.testing.assert_array_equal(off[column], on[column][:43], err_msg=column)
