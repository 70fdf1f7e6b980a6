"""Simulate a patient under a regimen: exact dose times, named clinical outputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from thymosim.model import default_parameters, derived_constants, get_runner
from thymosim.patient import Patient
from thymosim.regimen import Regimen

# output column -> (model id, unit)
OUTPUTS: dict[str, tuple[str, str]] = {
    "CD3": ("CD3", "cells/uL"),
    "CD4": ("CD4", "cells/uL"),
    "CD8": ("CD8", "cells/uL"),
    "NK": ("NK", "cells/uL"),
    "IL2": ("IL2", "pM"),
    "IFNg": ("IFNg", "pM"),
    "IL12": ("IL12", "pM"),
    "IL7": ("IL7", "pM"),
    "M1_M2": ("M1_M2", "ratio"),
    "mature_DC_fraction": ("f_mDC", "fraction"),
    "MHC_I": ("MHC_I", "fold of untreated"),
    "ta1_plasma": ("C_TA1", "ng/mL"),
    "ANC": ("ANC", "cells/uL"),
    "tumour_diameter": ("tumour_diameter", "mm"),
}


class InfeasibleBaseline(ValueError):
    """The parameter set cannot hold the patient's baseline at steady state."""


def output_grid(horizon: float, step: float) -> np.ndarray:
    """Output times 0, step, ..., horizon [day]."""
    if not np.isfinite(horizon) or horizon <= 0:
        raise ValueError(f"horizon must be a positive number of days, got {horizon!r}")
    if not np.isfinite(step) or step <= 0 or step > horizon:
        raise ValueError(f"step must be in (0, horizon={horizon}] days, got {step!r}")
    n = int(np.floor(horizon / step + 1e-9))
    grid = np.linspace(0.0, n * step, n + 1)
    return grid if np.isclose(grid[-1], horizon) else np.append(grid, horizon)


def _restore(rr, values: Mapping[str, float]) -> None:
    """Set every settable parameter (defaults overridden by ``values``), then reset
    all states; initial assignments, including the derived constants, are re-evaluated."""
    defaults = default_parameters()
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise KeyError(f"unknown parameter(s) {unknown}; see thymosim.load_parameter_table()")
    for pid, default in defaults.items():
        value = float(values.get(pid, default))
        if not np.isfinite(value):
            raise ValueError(f"parameter {pid} must be finite, got {value!r}")
        rr.setValue(pid, value)
    rr.reset()
    negative = {d: rr.getValue(d) for d in derived_constants() if rr.getValue(d) < 0}
    if negative:
        detail = ", ".join(f"{k} = {v:.3g}" for k, v in negative.items())
        raise InfeasibleBaseline(
            f"derived rate(s) {detail} < 0: with these parameters the patient's baseline counts cannot be a "
            "steady state (e.g. IL-2-driven effector proliferation exceeds effector loss)")


def simulate(
    patient: Patient | None = None,
    regimen: Regimen | None = None,
    horizon: float = 180.0,
    step: float = 0.25,
    times: Sequence[float] | None = None,
    outputs: Sequence[str] | None = None,
    extra: Sequence[str] = (),
) -> pd.DataFrame:
    """Simulate ``patient`` under ``regimen`` from day 0 to ``horizon`` [day].

    Doses are applied at their exact times (the integration is split there), so
    the result does not depend on the output grid. Returns a DataFrame with a
    ``time`` column [day] and one column per output (units in ``df.attrs["units"]``);
    ``extra`` adds raw model ids (species, parameters, rules) as columns.
    """
    patient = patient or Patient()
    regimen = regimen or Regimen()
    names = list(outputs or OUTPUTS)
    bad = [n for n in names if n not in OUTPUTS]
    if bad:
        raise KeyError(f"unknown output(s) {bad}; allowed: {list(OUTPUTS)}")
    grid = np.asarray(times, float) if times is not None else output_grid(horizon, step)
    if grid.ndim != 1 or grid.size < 2 or grid[0] != 0 or np.any(np.diff(grid) <= 0):
        raise ValueError("times must start at 0 and increase strictly")
    horizon = float(grid[-1])

    rr = get_runner()
    _restore(rr, patient.parameter_values())
    selections = ["time"] + [OUTPUTS[n][0] for n in names] + list(extra)
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
    df.attrs["units"] = {"time": "day"} | {n: OUTPUTS[n][1] for n in names}
    return df


def _apply(rr, action: tuple[float, str, float]) -> None:
    _, target, increment = action
    rr.setValue(target, rr.getValue(target) + increment)
