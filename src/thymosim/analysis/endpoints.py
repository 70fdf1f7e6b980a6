"""Endpoints: named scalar summaries of a simulated time course (a DataFrame from
:func:`thymosim.simulate`). Each endpoint is ``f(df) -> float``; add your own with
:func:`register` or pass any such callable where an endpoint name is accepted.
Times in days, counts in cells/uL."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

Endpoint = Callable[[pd.DataFrame], float]
RECIST = {"CR": 0, "PR": 1, "SD": 2, "PD": 3}


def _at(df: pd.DataFrame, column: str, day: float) -> float:
    if not df.time.iloc[0] <= day <= df.time.iloc[-1]:
        raise ValueError(f"day {day} outside the simulated time course [{df.time.iloc[0]}, {df.time.iloc[-1]}]")
    return float(np.interp(day, df.time, df[column]))


def nadir(column: str = "CD3") -> Endpoint:
    """Lowest value of ``column``."""
    return lambda df: float(df[column].min())


def nadir_day(column: str = "CD3") -> Endpoint:
    """Day of the lowest value of ``column``."""
    return lambda df: float(df.time.iloc[int(np.argmin(df[column].to_numpy()))])


def recovery_day(column: str = "CD3", fraction: float = 0.8) -> Endpoint:
    """First day after the nadir when ``column`` is back to ``fraction`` of baseline (NaN if never)."""
    def endpoint(df: pd.DataFrame) -> float:
        values, times = df[column].to_numpy(), df.time.to_numpy()
        i = int(np.argmin(values))
        if values[i] >= fraction * values[0]:
            return float(times[0])  # never fell below the threshold
        above = np.nonzero(values[i:] >= fraction * values[0])[0]
        return float(times[i + above[0]]) if above.size else float("nan")
    return endpoint


def auc(column: str) -> Endpoint:
    """Area under ``column`` over the horizon (trapezoids) [unit * day]."""
    return lambda df: float(np.trapezoid(df[column], df.time))


def percent_change(column: str, day: float) -> Endpoint:
    """Percent change of ``column`` from baseline at ``day``."""
    return lambda df: 100.0 * (_at(df, column, day) / float(df[column].iloc[0]) - 1.0)


def peak(column: str) -> Endpoint:
    return lambda df: float(df[column].max())


def value_at(column: str, day: float) -> Endpoint:
    return lambda df: _at(df, column, day)


def tumour_best_change(df: pd.DataFrame) -> float:
    """Best (most negative) percent change of tumour diameter from baseline."""
    return float(100.0 * (df.tumour_diameter.min() / df.tumour_diameter.iloc[0] - 1.0))


def recist(df: pd.DataFrame) -> float:
    """RECIST 1.1 class on the diameter proxy, coded CR 0, PR 1, SD 2, PD 3 (QSP-IO
    responseStatus rule): PD if the diameter grows >= 20 % and >= 5 mm over its nadir,
    else PR/CR if the best change is <= -30 % / -100 %, else SD."""
    d = df.tumour_diameter.to_numpy()
    i = int(np.argmin(d))
    if np.any((d[i:] >= 1.2 * d[i]) & (d[i:] - d[i] >= 5.0)) or d[-1] >= 1.2 * d[0]:
        return float(RECIST["PD"])
    best = d[i] / d[0] - 1.0
    if best <= -0.999:
        return float(RECIST["CR"])
    return float(RECIST["PR"] if best <= -0.30 else RECIST["SD"])


ENDPOINTS: dict[str, Endpoint] = {
    "lymphocyte_nadir": nadir("CD3"),
    "lymphocyte_nadir_day": nadir_day("CD3"),
    "lymphocyte_recovery_day": recovery_day("CD3", 0.8),
    "auc_CD4": auc("CD4"),
    "auc_CD8": auc("CD8"),
    "pct_change_CD3_end": lambda df: percent_change("CD3", float(df.time.iloc[-1]))(df),
    "pct_change_CD4_end": lambda df: percent_change("CD4", float(df.time.iloc[-1]))(df),
    "pct_change_CD8_end": lambda df: percent_change("CD8", float(df.time.iloc[-1]))(df),
    "peak_IL2": peak("IL2"),
    "peak_IFNg": peak("IFNg"),
    "M1_M2_end": lambda df: float(df.M1_M2.iloc[-1]),
    "tumour_best_change": tumour_best_change,
    "recist": recist,
}
"""Built-in endpoints by name; time-dependent ones use the end of the horizon."""


def register(name: str, endpoint: Endpoint) -> None:
    """Add a user endpoint ``f(df) -> float`` under ``name``."""
    if not callable(endpoint):
        raise TypeError(f"endpoint {name!r} must be callable f(df) -> float")
    ENDPOINTS[name] = endpoint


def evaluate(df: pd.DataFrame, names: list[str] | None = None) -> dict[str, float]:
    """Evaluate endpoints (default: all registered) on one time course."""
    chosen = names or list(ENDPOINTS)
    unknown = [n for n in chosen if n not in ENDPOINTS]
    if unknown:
        raise KeyError(f"unknown endpoint(s) {unknown}; allowed: {list(ENDPOINTS)}")
    return {name: float(ENDPOINTS[name](df)) for name in chosen}
