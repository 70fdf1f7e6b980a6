"""Simulate a patient under a regimen: exact dose times, named clinical outputs."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from thymosim import units
from thymosim.model import INITIAL_STEP, DomainError, InfeasibleBaseline, Model, default_model, in_domain, within
from thymosim.patient import Patient
from thymosim.regimen import Dose, Regimen

__all__ = ["END", "Checkpoint", "End", "InfeasibleBaseline", "SimulationError", "Trajectory", "ended", "output_grid",
           "simulate"]

Checkpoint = tuple
"""(days, factory) of :func:`simulate`: days [time unit] at which ``factory()``'s ``decide(day, read)``
may return a new Regimen for the administrations from that day on, or :data:`END` to end the
simulation there."""


class End:
    """The type of :data:`END`."""

    def __repr__(self) -> str:
        return "END"


END = End()
"""What a checkpoint decision returns to end the simulation at that day (see :func:`simulate`)."""


class Trajectory(dict):
    """A simulated time course as numpy arrays by column (``"time"`` included), with ``units``:
    what endpoints need, without building a DataFrame (``simulate(..., frame=False)``)."""

    units: dict[str, str]
    solver: str
    ended: float | None = None
    """The day a checkpoint decision ended the simulation (:data:`END`), else None (see :func:`ended`)."""

    def to_frame(self) -> pd.DataFrame:
        df = pd.DataFrame(dict(self))
        df.attrs["units"], df.attrs["solver"] = dict(self.units), self.solver
        if self.ended is not None:
            df.attrs["ended"] = self.ended
        return df


def ended(course: pd.DataFrame | Trajectory) -> float | None:
    """The day [time unit] a checkpoint decision ended ``course`` (a :func:`simulate` result) before
    its horizon: its last row is that day and nothing after it was simulated. None for a course
    simulated to its horizon."""
    if isinstance(course, pd.DataFrame):
        return course.attrs.get("ended")
    return getattr(course, "ended", None)

MAX_OUTPUT_ROWS = 1_000_000
"""Largest output grid a simulation builds (checked before allocating); raise it here if needed."""
MAX_ACTIONS = 20_000
"""Most dose actions (boluses, infusion starts and ends) one simulation applies."""


class SimulationError(RuntimeError):
    """The solver could not finish, or produced non-finite or negative outputs; the message says
    when and names the parameters most likely responsible."""

    @classmethod
    def of(cls, err: Exception, model: Model, values: Mapping[str, float]) -> SimulationError:
        text = str(err)
        when = re.search(r"[Aa]t t = ([0-9.eE+-]+)", text)
        code = re.search(r"CV_[A-Z_]+", text)
        suspects = [f"{pid} = {value:g}" for pid, value in values.items()
                    if pid in model.limits and value != model.defaults.get(pid) and (
                        value == 0 or not within(value, *model.limits[pid][1:]))]
        try:
            at = f" at t = {float(when.group(1)):.4g}" if when else ""
        except ValueError:
            at = ""
        return cls(f"simulation failed{at} "
                   f"({code.group(0) if code else text[:120]}); "
                   + (f"values outside their plausible range or zero: {', '.join(suspects[:6])}" if suspects
                      else "no parameter is outside its plausible range"))


def _check_outputs(data: np.ndarray, columns: list[str], nonnegative: list[bool],
                   tolerance: np.ndarray | None = None) -> None:
    """Fail loudly on non-finite outputs, or on outputs that cannot be negative (counts,
    concentrations) below zero beyond the solver's error tolerance; negatives within it (solver
    noise, e.g. an infused drug washing out to -2e-213) are set to 0 in place. ``tolerance``: per
    output, absolute (default: 1e-6 x the output's largest magnitude)."""
    outputs = data[:, 1:len(nonnegative) + 1]
    bad = ~np.isfinite(outputs)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise SimulationError(f"output {columns[col + 1]} is not finite from t = {data[row, 0]:g}: the model "
                              "diverged (check extreme parameter values)")
    scale = np.abs(outputs).max(axis=0)
    if tolerance is None:
        tolerance = 1e-6 * np.where(scale > 0, scale, 1.0)
    mask = np.asarray(nonnegative, bool)
    negative = (outputs < -tolerance) & mask
    if negative.any():
        row, col = np.argwhere(negative)[0]
        raise SimulationError(f"output {columns[col + 1]} = {outputs[row, col]:.3g} < 0 at t = {data[row, 0]:g}, "
                              f"beyond the solver's tolerance {tolerance[col]:.2g}: a count or concentration cannot "
                              "be negative (check fractions and extreme values)")
    noise = ((outputs < 0) | np.signbit(outputs)) & mask  # -0.0 too: the CSV would read "-0.0"
    if noise.any():
        outputs[noise] = 0.0  # a view of data: clipped in place


def output_tolerance(model: Model, names: Sequence[str], data: np.ndarray) -> np.ndarray:
    """Per output: the solver's error tolerance, rtol x the output's largest magnitude + its state's
    atol (atol x the state's typical magnitude, models/variables.tsv)."""
    scale = np.abs(data[:, 1:len(names) + 1]).max(axis=0)
    atol = np.array([model.atol * model.atol_scale.get(model.outputs[n].id.strip("[]"), 1.0) for n in names])
    return model.rtol * scale + atol


def over_limits(horizon: float, step: float, actions: int) -> str | None:
    """What breaks a resource limit (output rows, dose actions), or None; checked before allocating."""
    if horizon / step > MAX_OUTPUT_ROWS:
        return (f"step: {step:g} over a horizon of {horizon:g} gives {horizon / step:.3g} output rows; "
                f"allowed: at most {MAX_OUTPUT_ROWS} (thymosim.simulation.MAX_OUTPUT_ROWS)")
    if actions > MAX_ACTIONS:
        return (f"doses: {actions} dose actions; allowed: at most {MAX_ACTIONS} "
                "(thymosim.simulation.MAX_ACTIONS; check the dosing intervals ii)")
    return None


def output_grid(horizon: float, step: float) -> np.ndarray:
    """Output times 0, step, ..., horizon [day]."""
    if not np.isfinite(horizon) or horizon <= 0:
        raise ValueError(f"horizon must be a positive number of days, got {horizon!r}")
    if not np.isfinite(step) or step <= 0 or step > horizon:
        raise ValueError(f"step must be in (0, horizon={horizon}] days, got {step!r}")
    if problem := over_limits(horizon, step, 0):
        raise ValueError(problem)
    n = int(np.floor(horizon / step + 1e-9))
    grid = np.linspace(0.0, n * step, n + 1)
    return grid if np.isclose(grid[-1], horizon) else np.append(grid, horizon)


QUIET_SEGMENT = 14.0
"""[day] Dose-free stretches at least this long (follow-up after the last dose, gaps between
courses) are integrated with CVODE's BDF method at :data:`QUIET_RTOL` when the model is thymosim's
(or an edited copy) with its Adams method; another model keeps the method it was given. Adams is
held to steps of about 0.02 day by the model's fastest decays (unbound cisplatin ~40/day, IFN-gamma
clearance 33/day, MyD88 25/day) even when nothing changes; BDF is not, and takes days-long steps
there (the post-progression follow-up of a 24-month trial patient: 141 -> 81 ms CPU).
Every named scenario stays inside the accuracy budget (tests/test_accuracy.py): with BDF at the
Adams rtol 1e-6 the PRaG arm's IL-12 left it (2.6e-4 of its range), at 1e-7 it is 4.4e-5."""
QUIET_RTOL = 1e-7

HORIZON, STEP = 180.0, 0.25
"""Defaults of :func:`simulate` [day]: horizon and output grid step (a scenario brings its own)."""


def simulate(
    patient: Patient | Regimen | Dose | str | None = None,
    regimen: Regimen | Dose | str | None = None,
    horizon: float | str | None = None,
    step: float | str | None = None,
    times: Sequence[float] | None = None,
    outputs: Sequence[str] | None = None,
    extra: Sequence[str] = (),
    model: Model | None = None,
    frame: bool = True,
    checkpoint: Checkpoint | None = None,
) -> pd.DataFrame | Trajectory:
    """Simulate ``patient`` under ``regimen`` from 0 to ``horizon`` (days; for another model,
    its own time unit) with ``model`` (default: thymosim).

    Doses are applied at their exact times (the integration is split there), so
    the result does not depend on the output grid. Returns a DataFrame with a
    ``time`` column and one column per output (units in ``df.attrs["units"]``);
    ``extra`` adds raw model ids (species, parameters, rules) as columns. A non-stiff (Adams) model
    that runs out of steps, because a parameter set made the system stiff, is rerun with
    :meth:`Model.stiff_fallback`; ``attrs["solver"]`` says which ran. ``frame=False``
    returns the same numbers as a :class:`Trajectory` (the fast path of sweeps and trials).
    ``horizon`` and ``step`` are numbers or unit strings like the doses' (``"2 week"``, ``"6 h"``;
    see :mod:`thymosim.units`), unit strings only for a model in days.

    What to simulate, positionally or by keyword: a :class:`Patient` and a :class:`Regimen` or a
    single :class:`Dose` (``simulate(Dose(...))``, ``simulate(patient, regimen)``), or a
    :class:`~thymosim.scenario.Scenario` or a named scenario (``simulate("cisplatin_vinorelbine_ta1")``),
    whose horizon, step, outputs and model apply unless given here (a patient given with it replaces
    the scenario's). Anything else is a :class:`TypeError` naming the argument. Default horizon
    180 days, step 0.25 day.

    ``checkpoint`` (days, factory): at each of the days the integration stops (before that day's
    doses) and ``factory()``'s decision function, called as ``decide(day, read)`` with ``read(output)``
    the output's value then, may return a new :class:`Regimen` for the rest of the course: its
    administrations on or after the day replace those still to come, and the checks end there (a
    trial stopping treatment at the first progression read on its scans; doses already given are
    not changed). The decision may instead return :data:`END`: the simulation ends at that day (a
    trial that stops imaging a patient at progression). The course then stops there: its last row is
    the state at that day (before any dose due that day; another output time is not added after
    it), :func:`ended` gives the day (``attrs["ended"]`` of the DataFrame, ``ended`` of a
    :class:`Trajectory`), and endpoints read after it (``at:X@DAY`` later than the day, values
    at or areas to the horizon) are NaN: not observed.
    """
    patient, regimen, scenario = _what_to_simulate(patient, regimen)
    if scenario is not None:
        given = {"horizon": horizon, "step": step, "times": times, "outputs": outputs, "model": model}
        given = {k: v for k, v in given.items() if v is not None}
        if patient is not None:
            scenario = replace(scenario, patient=patient)
        if checkpoint is not None:
            given["checkpoint"] = checkpoint
        return scenario.simulate(**given, extra=extra, frame=frame)
    horizon = HORIZON if horizon is None else horizon
    step = STEP if step is None else step
    model = model or default_model()
    patient = patient or Patient()
    regimen = regimen or Regimen()
    names = list(outputs or model.outputs)
    bad = [n for n in names if n not in model.outputs]
    if bad:
        raise KeyError(f"unknown output(s) {bad}; allowed: {list(model.outputs)}")
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"outputs: {', '.join(twice)} given twice; allowed: each output once")
    foreign = sorted({d.drug for d in regimen.doses if model.drugs.get(d.drug) != d.spec})
    if foreign:
        raise KeyError(f"drug(s) {foreign} are not in the drug map of model {model.name!r}; "
                       f"allowed: {list(model.drugs)}")
    if times is None:
        horizon, step = _time_argument("horizon", horizon, model), _time_argument("step", step, model)
    grid = np.asarray(times, float) if times is not None else output_grid(horizon, step)
    if grid.ndim != 1 or grid.size < 2 or grid[0] != 0 or np.any(np.diff(grid) <= 0):
        raise ValueError("times must start at 0 and increase strictly")
    horizon = float(grid[-1])

    selections = ["time"] + [model.outputs[n].id for n in names] + list(extra)
    values = model.values(patient)
    actions = [a for a in regimen.actions(patient.bsa, weight=patient.weight, values=values, model=model)
               if a[0] <= horizon]
    if problem := over_limits(horizon, 1.0, len(actions)):
        raise ValueError(problem)
    model.check_values(patient.parameters, warn=True)  # values outside the plausible bounds: one warning each
    solver = model
    if checkpoint is not None:
        days, factory = checkpoint

        def dosing(new: Regimen) -> list:
            return new.actions(patient.bsa, weight=patient.weight, values=values, model=model)

        checkpoint = (days, factory, dosing)
    try:  # a failure is reported below, with when and why (the runner silences CVODE's own log)
        data, stretches, stop = _integrate(model, values, selections, actions, grid, checkpoint,
                                           not model.stiff and model.is_thymosim)
    except RuntimeError as err:
        if model.stiff:
            raise SimulationError.of(err, model, values) from None
        # Adams (non-stiff) failed: this parameter set makes the system stiff; redo with the robust BDF setting
        solver = model.stiff_fallback()
        try:
            data, stretches, stop = _integrate(solver, values, selections, actions, grid, checkpoint)
        except RuntimeError as again:
            raise SimulationError.of(again, solver, values) from None
    columns = ["time"] + names + list(extra)
    _check_outputs(data, columns, [model.outputs[n].nonnegative for n in names],
                   output_tolerance(solver, names, data))
    units = {"time": model.info.time_unit or "time unit (undeclared)"} | {n: model.outputs[n].unit for n in names}
    method = f"{'BDF' if solver.stiff else 'Adams'} rtol {solver.rtol:g}"
    method += " (stiff fallback)" if solver is not model else ""
    method += f" (BDF rtol {QUIET_RTOL:g} over dose-free stretches)" if stretches else ""
    if not frame:
        trajectory = Trajectory({c: data[:, i] for i, c in enumerate(columns)})
        trajectory.units, trajectory.solver, trajectory.ended = units, method, stop
        return trajectory
    df = pd.DataFrame(data, columns=columns)
    df.attrs["units"], df.attrs["solver"] = units, method
    if stop is not None:
        df.attrs["ended"] = stop
    return df


def _time_argument(name: str, value: float | str, model: Model) -> float:
    """A horizon or step in days: a number, or a string parsed like dose times; anything else is a
    ValueError naming the argument and the allowed units."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: {value!r}; allowed: a number of days or a time string ({units.TIME_HELP})")
    if isinstance(value, str):
        if model.info.time_unit != "day":
            raise ValueError(f"{name}: {value[:50]!r}; allowed: a plain number in the model's time unit "
                             f"({model.info.time_unit or 'undeclared'}; unit strings mean days)")
        try:
            return units.days(value)
        except ValueError:
            raise ValueError(f"{name}: {value[:50]!r} is not a time; allowed: a number of days or a time string "
                             f"({units.TIME_HELP})") from None
    if isinstance(value, np.integer | np.floating | int | float):
        return float(value)
    raise ValueError(f"{name}: {str(value)[:50]!r}; allowed: a number of days or a time string ({units.TIME_HELP})")


def _is_scenario(value) -> bool:
    return all(hasattr(value, a) for a in ("regimen", "patient", "horizon", "simulate", "to_dict"))


def _what_to_simulate(patient, regimen):
    """(patient or None, Regimen or None, Scenario or None) from simulate()'s first two arguments,
    given positionally or by keyword; a TypeError names the argument and what it may be."""
    allowed = "a Patient, a Regimen, a Dose, a Scenario or a scenario name"
    argument = "regimen"
    if regimen is None and not isinstance(patient, Patient) and patient is not None:
        patient, regimen = None, patient  # simulate(Dose(...)), simulate(regimen), simulate("name")
        argument = "patient or regimen"
    if patient is not None and not isinstance(patient, Patient):
        raise TypeError(f"simulate(patient=...): got {type(patient).__name__} {patient!r:.80}; allowed: a Patient "
                        "(then the regimen: a Regimen, a Dose, a Scenario or a scenario name)")
    if isinstance(regimen, Dose):
        return patient, Regimen((regimen,)), None
    if regimen is None or isinstance(regimen, Regimen):
        return patient, regimen, None
    if isinstance(regimen, str):
        from thymosim.scenario import resolve  # the documented late import (scenario comes after simulation)

        return patient, None, resolve(regimen)
    if _is_scenario(regimen):
        return patient, None, regimen
    raise TypeError(f"simulate({argument}=...): got {type(regimen).__name__} {regimen!r:.80}; allowed: {allowed}")


def _integrate(model: Model, values: Mapping[str, float], selections: list[str], actions: list,
               grid: np.ndarray, checkpoint: tuple | None = None,
               stretches: bool = False) -> tuple[np.ndarray, bool, float | None]:
    """Outputs at ``grid``, whether a dose-free stretch was integrated with BDF and the day a
    checkpoint ended the run (None: run to the horizon): integrate between dose actions, applying
    each at its exact time; with ``stretches``, dose-free stretches of :data:`QUIET_SEGMENT` or more
    with BDF; with a ``checkpoint`` (days, factory, dosing), also stop at its days and let its
    decision replace the actions still to come, or end the run there (:data:`END`; the outputs at
    ``grid`` before that day, then that day's; see :func:`simulate`)."""
    horizon = float(grid[-1])
    rr = model.reset(values)
    rr.timeCourseSelections = selections
    checks: list[float] = []
    if checkpoint is not None:
        days, factory, dosing = checkpoint
        decide = factory()
        checks = sorted({float(d) for d in days if 0 < d < horizon})
        read = _reader(model, rr.model)
        if 0 in days:
            decide(0.0, read)
    state = rr.model  # the compiled model's own get/setValue: without the RoadRunner wrapper's selection parsing
    times = grid.tolist()  # bisect on a list: the output times of each segment without numpy's per-call cost
    rows, t0, next_action, next_check = [], 0.0, 0, 0  # linear in actions and grid points (no quadratic scans)
    quiet = used = False
    stop: float | None = None
    try:
        while True:
            while next_action < len(actions) and actions[next_action][0] <= t0:  # doses due at t0, first
                _apply(state, actions[next_action])
                next_action += 1
            t1 = min(actions[next_action][0] if next_action < len(actions) else horizon, horizon)
            if next_check < len(checks) and checks[next_check] < t1:
                t1 = checks[next_check]
            if stretches and (t1 - t0 >= QUIET_SEGMENT) != quiet:  # a long dose-free stretch: BDF
                quiet = not quiet
                used = True
                _method(model, rr, quiet)
            inside = grid[bisect_left(times, t0):bisect_left(times, t1)]  # t0 <= t < t1
            first = 0 if inside.size and inside[0] == t0 else 1  # row of the first output time
            seg_times = np.concatenate([inside, [t1]]) if first == 0 else np.concatenate([[t0], inside, [t1]])
            result = np.asarray(rr.simulate(times=seg_times))
            rows.append(result[first:first + inside.size])
            t0 = t1
            if next_check < len(checks) and checks[next_check] == t1:
                next_check += 1
                new = decide(t1, read)
                if isinstance(new, End):  # the run ends here: its last row is the state at t1 (before doses)
                    rows.append(result[-1:])
                    stop = t1
                    break
                if new is not None:  # the administrations from t1 on are the new regimen's; no more checks
                    actions = actions[:next_action] + [a for a in dosing(new) if a[0] >= t1 and a[0] <= horizon]
                    next_check = len(checks)
            if t0 >= horizon:
                break
    finally:
        if quiet:  # the cached runner keeps the model's own method for the next run
            _method(model, rr, False)
    if stop is None:
        for action in actions[next_action:]:
            if action[0] <= t0:
                _apply(state, action)
        rows.append(np.asarray([[rr.getValue(s) for s in selections]]))  # state at horizon after any dose
    for pid in model.event_checked:  # an event set it to an expression: its value must stay in the domain
        domain, lower, upper = model.limits[pid]
        if not in_domain(rr.getValue(pid), domain):
            error = DomainError(pid, rr.getValue(pid), domain, lower, upper)
            error.args = (f"an event of the model set {error} (by day {t0:g})",)
            raise error
    return np.vstack(rows), used, stop


def _reader(model: Model, state):
    """``read(output)``: the named output's current value in ``state`` (a runner's compiled model)."""
    def read(name: str) -> float:
        return float(state.getValue(model.outputs[name].id))

    return read


def _method(model: Model, rr, stiff: bool) -> None:
    """Switch ``rr``'s CVODE to BDF (``stiff``, at :data:`QUIET_RTOL`) or back to ``model``'s own
    settings. roadrunner rebuilds CVODE on a change of method without re-applying every setting to it
    (a later Adams run reached another order than a fresh runner's), so all of them are set again."""
    model._configure(rr)
    if stiff:
        integrator = rr.getIntegrator()
        integrator.setValue("stiff", True)
        integrator.setValue("relative_tolerance", QUIET_RTOL)
        integrator.setValue("maximum_bdf_order", 5)
        integrator.setValue("initial_time_step", INITIAL_STEP)
        for sid, scale in model.atol_scale.items():
            integrator.setIndividualTolerance(sid, model.atol * scale)


def _apply(state, action: tuple[float, str, float]) -> None:
    """Add a dose action's increment to its target in ``state`` (a runner's compiled model, ``rr.model``)."""
    _, target, increment = action
    state.setValue(target, state.getValue(target) + increment)
