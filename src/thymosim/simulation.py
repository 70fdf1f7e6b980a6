"""Simulate a patient under a regimen: exact dose times, named clinical outputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from thymosim.model import InfeasibleBaseline, Model, default_model
from thymosim.patient import Patient
from thymosim.regimen import Regimen

__all__ = ["InfeasibleBaseline", "output_grid", "simulate"]

def output_grid(horizon: float, step: float) -> np.ndarray:
    """Output times 0, step, ..., horizon [day]."""
    if not np.isfinite(horizon) or horizon <= 0:
        raise ValueError(f"horizon must be a positive number of days, got {horizon!r}")
    if not np.isfinite(step) or step <= 0 or step > horizon:
        raise ValueError(f"step must be in (0, horizon={horizon}] days, got {step!r}")
    n = int(np.floor(horizon / step + 1e-9))
    grid = np.linspace(0.0, n * step, n + 1)
    return grid if np.isclose(grid[-1], horizon) else np.append(grid, horizon)


def simulate(
    patient: Patient | None = None,
    regimen: Regimen | None = None,
    horizon: float = 180.0,
    step: float = 0.25,
    times: Sequence[float] | None = None,
    outputs: Sequence[str] | None = None,
    extra: Sequence[str] = (),
    model: Model | None = None,
) -> pd.DataFrame:
    """Simulate ``patient`` under ``regimen`` from 0 to ``horizon`` (days; for another model,
    its own time unit) with ``model`` (default: thymosim).

    Doses are applied at their exact times (the integration is split there), so
    the result does not depend on the output grid. Returns a DataFrame with a
    ``time`` column and one column per output (units in ``df.attrs["units"]``);
    ``extra`` adds raw model ids (species, parameters, rules) as columns.
    """
    model = model or default_model()
    patient = patient or Patient()
    regimen = regimen or Regimen()
    names = list(outputs or model.outputs)
    bad = [n for n in names if n not in model.outputs]
    if bad:
        raise KeyError(f"unknown output(s) {bad}; allowed: {list(model.outputs)}")
    foreign = sorted({d.drug for d in regimen.doses if model.drugs.get(d.drug) != d.spec})
    if foreign:
        raise KeyError(f"drug(s) {foreign} are not in the drug map of model {model.name!r}; "
                       f"allowed: {list(model.drugs)}")
    grid = np.asarray(times, float) if times is not None else output_grid(horizon, step)
    if grid.ndim != 1 or grid.size < 2 or grid[0] != 0 or np.any(np.diff(grid) <= 0):
        raise ValueError("times must start at 0 and increase strictly")
    horizon = float(grid[-1])

    rr = model.reset(model.values(patient))
    selections = ["time"] + [model.outputs[n].id for n in names] + list(extra)
    rr.timeCourseSelections = selections

    actions = [a for a in regimen.actions(patient.bsa) if a[0] <= horizon]
    breaks = sorted({a[0] for a in actions if a[0] > 0} | {horizon})
    pending = list(actions)
    rows, t0 = [], 0.0
    for t1 in breaks:
        while pending and pending[0][0] <= t0:  # apply doses due at t0 before integrating
            _apply(rr, pending.pop(0))
        inside = grid[(grid >= t0) & (grid < t1)]
        seg_times = np.unique(np.concatenate([[t0], inside, [t1]]))
        result = np.asarray(rr.simulate(times=seg_times))
        keep = np.isin(seg_times, inside)
        rows.append(result[keep])
        t0 = t1
    while pending and pending[0][0] <= t0:
        _apply(rr, pending.pop(0))
    rows.append(np.asarray([[rr.getValue(s) for s in selections]]))  # state at horizon after any dose
    data = np.vstack(rows)
    columns = ["time"] + names + list(extra)
    df = pd.DataFrame(data, columns=columns)
    time_unit = model.info.time_unit or "time unit (undeclared)"
    df.attrs["units"] = {"time": time_unit} | {n: model.outputs[n].unit for n in names}
    return df


def _apply(rr, action: tuple[float, str, float]) -> None:
    _, target, increment = action
    rr.setValue(target, rr.getValue(target) + increment)
