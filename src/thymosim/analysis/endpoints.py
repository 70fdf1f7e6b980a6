"""Endpoints: named scalar summaries of a simulated time course (a DataFrame from
:func:`thymosim.simulate`, or the :class:`~thymosim.simulation.Trajectory` of its fast path:
built-in endpoints only index columns, so both give identical numbers). Each endpoint is
``f(df) -> float``. Where an endpoint is
accepted you can give a built-in name (:data:`ENDPOINTS`), a generic ``"kind:column"``
(:data:`GENERIC`: ``auc:CD4``, ``peak:[C_dopa]``, ``nadir:X``, ``nadir_day:X``, ``end:X``,
``tmax:X``; ``at:X@DAY`` = X at DAY, interpolated) for any model's outputs, or any callable.
Times in days (another model: its
time unit), counts in cells/uL. The ``ta1_*`` exposure endpoints see only the output grid; per-interval,
event-exact exposure of every drug is :func:`thymosim.analysis.exposure.exposure`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from thymosim.analysis.recist import classify_course

Endpoint = Callable[[pd.DataFrame], float]


def _col(df, column: str) -> np.ndarray:
    return np.asarray(df[column], dtype=float)


def _at(df, column: str, day: float) -> float:
    time = _col(df, "time")
    if not time[0] <= day <= time[-1]:
        raise ValueError(f"day {day} outside the simulated time course [{time[0]}, {time[-1]}]")
    return float(np.interp(day, time, _col(df, column)))


def nadir(column: str = "CD3") -> Endpoint:
    """Lowest value of ``column``."""
    return lambda df: float(_col(df, column).min())


def nadir_day(column: str = "CD3") -> Endpoint:
    """Day of the lowest value of ``column``."""
    return lambda df: float(_col(df, "time")[int(np.argmin(_col(df, column)))])


def recovery_day(column: str = "CD3", fraction: float = 0.8) -> Endpoint:
    """First day after the nadir when ``column`` is back to ``fraction`` of baseline (NaN if never)."""
    def endpoint(df: pd.DataFrame) -> float:
        values, times = _col(df, column), _col(df, "time")
        i = int(np.argmin(values))
        if values[i] >= fraction * values[0]:
            return float(times[0])  # never fell below the threshold
        above = np.nonzero(values[i:] >= fraction * values[0])[0]
        return float(times[i + above[0]]) if above.size else float("nan")
    return endpoint


def days_below(column: str, threshold: float) -> Endpoint:
    """Time [day] that ``column`` spends below ``threshold``, the crossings interpolated linearly between
    output times (e.g. days of grade 4 neutropenia: ``days_below("ANC", 500)``)."""
    def endpoint(df: pd.DataFrame) -> float:
        t, y = _col(df, "time"), _col(df, column) - threshold
        t0, t1, y0, y1 = t[:-1], t[1:], y[:-1], y[1:]
        both = (y0 < 0) & (y1 < 0)
        cross = (y0 < 0) != (y1 < 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = t0 + (t1 - t0) * y0 / (y0 - y1)
        part = np.where(y1 < 0, t1 - at, at - t0)
        return float(np.sum(np.where(both, t1 - t0, 0.0)) + np.sum(np.where(cross, part, 0.0)))
    return endpoint


def auc(column: str) -> Endpoint:
    """Area under ``column`` over the horizon (trapezoids) [unit * day]."""
    return lambda df: float(np.trapezoid(_col(df, column), _col(df, "time")))


def percent_change(column: str, day: float) -> Endpoint:
    """Percent change of ``column`` from baseline at ``day``."""
    return lambda df: 100.0 * (_at(df, column, day) / float(_col(df, column)[0]) - 1.0)


def peak(column: str) -> Endpoint:
    return lambda df: float(_col(df, column).max())


def value_at(column: str, day: float) -> Endpoint:
    return lambda df: _at(df, column, day)


def tumour_best_change(df: pd.DataFrame) -> float:
    """Best (most negative) percent change of tumour diameter from baseline."""
    d = _col(df, "tumour_diameter")
    return float(100.0 * (d.min() / d[0] - 1.0))


def recist(df: pd.DataFrame) -> str:
    """RECIST 1.1 best overall response (CR, PR, SD, PD or NE) of the diameter time course, every
    output time a scan, unconfirmed: :func:`thymosim.analysis.recist.classify_course`."""
    return classify_course(_col(df, "time"), _col(df, "tumour_diameter"), confirm=False).best


ENDPOINTS: dict[str, Endpoint] = {
    "lymphocyte_nadir": nadir("CD3"),
    "lymphocyte_nadir_day": nadir_day("CD3"),
    "lymphocyte_recovery_day": recovery_day("CD3", 0.8),
    "auc_CD4": auc("CD4"),
    "auc_CD8": auc("CD8"),
    "pct_change_CD3_end": lambda df: percent_change("CD3", float(_col(df, "time")[-1]))(df),
    "pct_change_CD4_end": lambda df: percent_change("CD4", float(_col(df, "time")[-1]))(df),
    "pct_change_CD8_end": lambda df: percent_change("CD8", float(_col(df, "time")[-1]))(df),
    "peak_IL2": peak("IL2"),
    "peak_IFNg": peak("IFNg"),
    "M1_M2_end": lambda df: float(_col(df, "M1_M2")[-1]),
    "tumour_best_change": tumour_best_change,
    "recist": recist,
    "ta1_cmax": peak("ta1_plasma"),
    "ta1_auc": auc("ta1_plasma"),
    "ta1_cavg": lambda df: auc("ta1_plasma")(df) / float(_col(df, "time")[-1] - _col(df, "time")[0]),
}
"""Built-in endpoints by name; time-dependent ones use the end of the horizon."""

DESCRIPTIONS = {
    "lymphocyte_nadir": "lowest CD3 count [cells/uL]",
    "lymphocyte_nadir_day": "day of the lowest CD3 count [day]",
    "lymphocyte_recovery_day": "first day after the nadir with CD3 back to 80 % of baseline [day]",
    "auc_CD4": "area under CD4 over the horizon [cells/uL x day]",
    "auc_CD8": "area under CD8 over the horizon [cells/uL x day]",
    "pct_change_CD3_end": "CD3 change from baseline at the horizon [%]",
    "pct_change_CD4_end": "CD4 change from baseline at the horizon [%]",
    "pct_change_CD8_end": "CD8 change from baseline at the horizon [%]",
    "peak_IL2": "highest IL-2 [pM]",
    "peak_IFNg": "highest IFN-gamma [pM]",
    "M1_M2_end": "M1/M2 macrophage ratio at the horizon [-]",
    "tumour_best_change": "best (most negative) tumour diameter change from baseline [%]",
    "recist": "RECIST 1.1 best overall response of the diameter time course, unconfirmed: CR, PR, SD, PD or NE "
              "(a label; thymosim.analysis.recist)",
    "ta1_cmax": "highest plasma thymalfasin [ng/mL] at the output times (Tmax ~1.8 h: use a step <= 1 h; "
                "event-exact: thymosim.analysis.exposure.exposure, `thymosim exposure`)",
    "ta1_auc": "area under plasma thymalfasin, endogenous included [ng/mL x day] (step <= 1 h; event-exact: "
               "thymosim.analysis.exposure.exposure)",
    "ta1_cavg": "average plasma thymalfasin over the horizon [ng/mL] (step <= 1 h; event-exact: "
                "thymosim.analysis.exposure.exposure)",
}
"""One line per built-in endpoint, with its unit (``thymosim list endpoints``)."""


def _tmax(column: str) -> Endpoint:
    return lambda df: float(_col(df, "time")[int(np.argmax(_col(df, column)))])


GENERIC: dict[str, Callable[[str], Endpoint]] = {
    "auc": auc, "peak": peak, "nadir": nadir, "nadir_day": nadir_day, "tmax": _tmax,
    "end": lambda column: lambda df: float(_col(df, column)[-1]),
}
"""``"kind:column"`` endpoints for the outputs of any model."""

DEFAULT_ENDPOINTS = ("lymphocyte_nadir", "auc_CD4", "tumour_best_change")
"""Default endpoints of sweeps on thymosim; another model's default is ``auc:`` of its outputs."""


def resolve(endpoint: str | Endpoint) -> Endpoint:
    """The endpoint function of a name, a ``"kind:column"`` string or a callable."""
    if callable(endpoint):
        return endpoint
    if endpoint in ENDPOINTS:
        return ENDPOINTS[endpoint]
    kind, sep, column = str(endpoint).partition(":")
    if sep and kind in GENERIC and column:
        return GENERIC[kind](column)
    if sep and kind in ("at", "below"):
        column, _, number = column.partition("@")
        try:
            return (value_at if kind == "at" else days_below)(column, float(number))
        except ValueError:
            pass
    raise KeyError(f"unknown endpoint {str(endpoint)[:80]!r}; allowed: {', '.join(ENDPOINTS)}, "
                   f"KIND:OUTPUT with KIND one of {', '.join(GENERIC)}, at:OUTPUT@DAY, below:OUTPUT@LEVEL (days below "
                   "LEVEL), or a callable f(df) -> float")


def column_of(endpoint: str) -> str:
    """The output a ``"kind:column"`` / ``"at:column@day"`` endpoint reads ('' for a built-in name)."""
    return endpoint.partition(":")[2].partition("@")[0]


def defaults_for(outputs: list[str]) -> tuple[str, ...]:
    """Default endpoints for a model reporting ``outputs``."""
    if all(c in outputs for c in ("CD3", "CD4", "tumour_diameter")):
        return DEFAULT_ENDPOINTS
    return tuple(f"auc:{o}" for o in outputs[:3])
