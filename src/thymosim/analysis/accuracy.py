"""Solver accuracy budget: how far a simulation's outputs and endpoints are from a tight reference.

The budget the default solver was chosen by (``benchmarks/accuracy.py``, README "Speed"): every
output within :data:`BUDGET` of its range over the horizon (its magnitude if it is constant),
every continuous endpoint within :data:`BUDGET` relative (floor 1 in its unit), and no
integer-day endpoint or RECIST class changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from thymosim.analysis.endpoints import ENDPOINTS
from thymosim.model import Model
from thymosim.scenario import Scenario

BUDGET = 1e-4
DAYS = ("lymphocyte_nadir_day", "lymphocyte_recovery_day")
CLASSES = ("recist",)
"""Endpoints whose result is a label (RECIST response), compared for equality."""
REFERENCE_SOLVER = {"rtol": 1e-10, "atol": 1e-14, "atol_scale": {}, "stiff": True}
"""The tight reference: BDF, rtol 1e-10, uniform absolute tolerance 1e-14."""


@dataclass(frozen=True)
class Deviation:
    """Largest deviations of one scenario from its reference."""

    output: float  # max |y - y_ref| / range(y_ref) over outputs and times
    worst_output: str
    endpoint: float  # max relative error of the continuous endpoints (floor 1)
    worst_endpoint: str
    changed: tuple[str, ...]  # integer-day endpoints or classes that differ

    @property
    def inside(self) -> bool:
        return self.output <= BUDGET and self.endpoint <= BUDGET and not self.changed


def reference_model(model: Model) -> Model:
    return model.with_tolerances(**REFERENCE_SOLVER)


def evaluate(scenario: Scenario, model: Model | None = None) -> tuple:
    """(time course, built-in endpoint values) of ``scenario`` run with ``model``."""
    df = replace(scenario, model=model or scenario.model).simulate()
    return df, {k: f(df) if k in CLASSES else float(f(df)) for k, f in ENDPOINTS.items()}


def deviation(reference: tuple, candidate: tuple) -> Deviation:
    """Deviation of ``candidate`` from ``reference`` (both from :func:`evaluate`)."""
    (ref_df, ref_ep), (df, ep) = reference, candidate
    columns = [c for c in ref_df.columns if c != "time"]
    y_ref, y = ref_df[columns].to_numpy(), df[columns].to_numpy()
    span = y_ref.max(axis=0) - y_ref.min(axis=0)
    magnitude = np.abs(y_ref).max(axis=0)
    scale = np.where(span > 1e-12 * magnitude, span, magnitude)
    errors = (np.abs(y - y_ref) / np.where(scale > 0, scale, 1.0)).max(axis=0)
    continuous = {k: abs(ep[k] - ref_ep[k]) / max(abs(ref_ep[k]), 1.0) if np.isfinite(ep[k]) else np.inf
                  for k in ref_ep if k not in DAYS + CLASSES and np.isfinite(ref_ep[k])}
    changed = tuple(k for k in DAYS if not (ep[k] == ref_ep[k] or (np.isnan(ep[k]) and np.isnan(ref_ep[k]))))
    changed += tuple(k for k in CLASSES if ep[k] != ref_ep[k])
    worst = int(np.argmax(errors))
    worst_endpoint = max(continuous, key=continuous.get)
    return Deviation(float(errors[worst]), columns[worst], continuous[worst_endpoint], worst_endpoint, changed)
