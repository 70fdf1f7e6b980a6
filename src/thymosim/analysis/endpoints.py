"""Endpoints: named summaries of a simulated time course (a DataFrame from :func:`thymosim.simulate`,
or the :class:`~thymosim.simulation.Trajectory` of its fast path: built-in endpoints only index columns,
so both give identical numbers).

One registry, :data:`REGISTRY`, declares every built-in endpoint once as an :class:`Endpoint` (name,
function, unit, description, the outputs it needs); ``endpoints.csv`` (``thymosim run``), the defaults
of sweeps and sensitivity analyses, the comparator table (:mod:`thymosim.analysis.agents`), the CLI's
checks and ``thymosim list endpoints`` all read it. Where an endpoint is accepted you can give a
registered name, a string of the endpoint grammar for any model's outputs (:func:`parse`:
``KIND:OUTPUT`` with KIND in :data:`GENERIC`, e.g. ``auc:CD4``, ``peak:[C_dopa]``; ``at:OUTPUT@DAY``,
the output at a day, interpolated; ``below:OUTPUT@LEVEL``, the days spent below a level), or any
callable ``f(df) -> float``. :func:`resolve` turns each into an :class:`Endpoint`.

Times in days (another model: its time unit), counts in cells/uL. The thymalfasin exposure endpoints
(``ta1_cmax``, ``ta1_auc``, ``ta1_cavg``) are event-exact, whatever the output step: they read the
whole-horizon row of :func:`thymosim.analysis.exposure.exposure` of the scenario (the numbers of
``exposure.csv``), so they need the scenario (:meth:`Endpoint.__call__`). RECIST classes are labels
(:mod:`thymosim.analysis.recist`).

A course that a checkpoint ended early (:func:`thymosim.simulation.ended`: a trial that stops
imaging a patient at progression) is observed up to that day only: ``at:X@DAY`` after it, and the
endpoints to the horizon (``auc``, ``end``, ``pct_change_*_end``, ``below``), are NaN; the others
(nadirs, peaks, best change) summarise the part simulated."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from thymosim.analysis.recist import CLASSES, classify_course
from thymosim.simulation import ended

if TYPE_CHECKING:
    from thymosim.scenario import Scenario

EndpointFunction = Callable[[pd.DataFrame], float]
"""A summary of one time course (a DataFrame or a Trajectory: anything indexable by output name)."""


def _col(df, column: str) -> np.ndarray:
    return np.asarray(df[column], dtype=float)


def _at(df, column: str, day: float) -> float:
    time = _col(df, "time")
    if day > time[-1] and ended(df) is not None:
        return math.nan  # not observed: the course ended at a checkpoint before this day
    if not time[0] <= day <= time[-1]:
        raise ValueError(f"day {day} outside the simulated time course [{time[0]}, {time[-1]}]")
    return float(np.interp(day, time, _col(df, column)))


def nadir(column: str = "CD3") -> EndpointFunction:
    """Lowest value of ``column``."""
    return lambda df: float(_col(df, column).min())


def nadir_day(column: str = "CD3") -> EndpointFunction:
    """Day of the lowest value of ``column``."""
    return lambda df: float(_col(df, "time")[int(np.argmin(_col(df, column)))])


def recovery_day(column: str = "CD3", fraction: float = 0.8) -> EndpointFunction:
    """First day after the nadir when ``column`` is back to ``fraction`` of baseline (NaN if never)."""
    def endpoint(df: pd.DataFrame) -> float:
        values, times = _col(df, column), _col(df, "time")
        i = int(np.argmin(values))
        if values[i] >= fraction * values[0]:
            return float(times[0])  # never fell below the threshold
        above = np.nonzero(values[i:] >= fraction * values[0])[0]
        return float(times[i + above[0]]) if above.size else float("nan")
    return endpoint


def days_below(column: str, threshold: float) -> EndpointFunction:
    """Time [day] that ``column`` spends below ``threshold``, the crossings interpolated linearly between
    output times (e.g. days of grade 4 neutropenia: ``days_below("ANC", 500)``)."""
    @_to_horizon
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


def auc(column: str) -> EndpointFunction:
    """Area under ``column`` over the horizon (trapezoids) [unit * day]."""
    return _to_horizon(lambda df: float(np.trapezoid(_col(df, column), _col(df, "time"))))


def _to_horizon(function: EndpointFunction) -> EndpointFunction:
    """``function`` of a course read to its horizon: NaN for a course a checkpoint ended early."""
    return lambda df: math.nan if ended(df) is not None else function(df)


def percent_change(column: str, day: float) -> EndpointFunction:
    """Percent change of ``column`` from baseline at ``day``."""
    return lambda df: 100.0 * (_at(df, column, day) / float(_col(df, column)[0]) - 1.0)


def peak(column: str) -> EndpointFunction:
    return lambda df: float(_col(df, column).max())


def value_at(column: str, day: float) -> EndpointFunction:
    return lambda df: _at(df, column, day)


def tumour_best_change(df: pd.DataFrame) -> float:
    """Best (most negative) percent change of tumour diameter from baseline."""
    d = _col(df, "tumour_diameter")
    return float(100.0 * (d.min() / d[0] - 1.0))


def recist(df: pd.DataFrame) -> str:
    """RECIST 1.1 best overall response (CR, PR, SD, PD or NE) of the diameter time course, every
    output time a scan, unconfirmed: :func:`thymosim.analysis.recist.classify_course`."""
    return classify_course(_col(df, "time"), _col(df, "tumour_diameter"), confirm=False).best


def fold_peak(column: str) -> EndpointFunction:
    """Highest value of ``column`` over its baseline (first) value [-]."""
    return lambda df: float(_col(df, column).max() / _col(df, column)[0])


def _tmax(column: str) -> EndpointFunction:
    return lambda df: float(_col(df, "time")[int(np.argmax(_col(df, column)))])


def _end(column: str) -> EndpointFunction:
    return _to_horizon(lambda df: float(_col(df, column)[-1]))


def _pct_change_end(column: str) -> EndpointFunction:
    return _to_horizon(lambda df: percent_change(column, float(_col(df, "time")[-1]))(df))


def _ta1_exposure(statistic: str) -> Callable[[Any, Scenario], float]:
    """Whole-horizon ``statistic`` (Cmax, AUC or Cavg) of plasma thymalfasin above its endogenous level,
    event-exact (:func:`thymosim.analysis.exposure.exposure`); 0 when the scenario gives no thymalfasin."""
    def endpoint(df: Any, scenario: Scenario) -> float:
        from thymosim.analysis.exposure import exposure
        from thymosim.regimen import lookup_drug

        name = lookup_drug("thymalfasin", scenario.model.drugs).name
        if not any(d.drug == name and d.amt > 0 for d in scenario.regimen.doses):
            return 0.0
        cached = _LAST_EXPOSURE[0]  # read once: another thread may replace it meanwhile
        if cached is None or cached[0] is not scenario:  # the three ta1_* endpoints of one scenario share one run
            cached = (scenario, exposure(scenario, name))
            _LAST_EXPOSURE[0] = cached
        table = cached[1]
        return float(table.loc[table.interval == "horizon", statistic].iloc[0])
    return endpoint


_LAST_EXPOSURE: list = [None]
"""[(scenario, its thymalfasin exposure table)]: the last one computed (the scenario held, so its id is
not reused)."""


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: ``function(course)`` (with ``scenario``: ``function(course, scenario)``) -> a number
    in ``unit``, or a class label (``label``: one of :data:`thymosim.analysis.recist.CLASSES`)."""

    name: str
    function: Callable[..., float | str]
    unit: str
    description: str
    needs: tuple[str, ...] = ()
    """Outputs the endpoint reads (besides ``time``); a scenario lacking one cannot have it."""
    scenario: bool = False
    """The function also takes the scenario (event-exact exposure re-simulates it)."""
    label: bool = False
    """The result is a class label (str), not a number."""
    default: bool = False
    """One of the default endpoints of sweeps and sensitivity analyses (:func:`defaults_for`)."""

    def __call__(self, course: Any, scenario: Scenario | None = None) -> float | str:
        if self.scenario:
            if scenario is None:
                raise ValueError(f"endpoint {self.name!r} is event-exact: it needs the scenario, "
                                 f"endpoint(course, scenario) (or evaluate(name, course, scenario))")
            return self.function(course, scenario)
        return self.function(course)

    @property
    def text(self) -> str:
        """Description with the unit, one line (``thymosim list endpoints``, figure labels)."""
        return f"{self.description} [{self.unit}]" if self.unit else self.description


def _register(*endpoints: Endpoint) -> dict[str, Endpoint]:
    names = [e.name for e in endpoints]
    if len(set(names)) != len(names):
        raise ValueError(f"endpoint names registered twice: {sorted({n for n in names if names.count(n) > 1})}")
    return {e.name: e for e in endpoints}


_RECOVERY = "first day after the nadir with {} back to 80 % of baseline; 0 when it never fell below 80 %"
REGISTRY: dict[str, Endpoint] = _register(
    Endpoint("lymphocyte_nadir", nadir("CD3"), "cells/uL", "lowest CD3 count", ("CD3",), default=True),
    Endpoint("lymphocyte_nadir_day", nadir_day("CD3"), "day", "day of the lowest CD3 count", ("CD3",)),
    Endpoint("lymphocyte_recovery_day", recovery_day("CD3", 0.8), "day", _RECOVERY.format("CD3"), ("CD3",)),
    Endpoint("auc_CD4", auc("CD4"), "cells/uL x day", "area under CD4 over the horizon", ("CD4",), default=True),
    Endpoint("auc_CD8", auc("CD8"), "cells/uL x day", "area under CD8 over the horizon", ("CD8",)),
    Endpoint("pct_change_CD3_end", _pct_change_end("CD3"), "%", "CD3 change from baseline at the horizon", ("CD3",)),
    Endpoint("pct_change_CD4_end", _pct_change_end("CD4"), "%", "CD4 change from baseline at the horizon", ("CD4",),
             default=True),
    Endpoint("pct_change_CD8_end", _pct_change_end("CD8"), "%", "CD8 change from baseline at the horizon", ("CD8",)),
    Endpoint("peak_IL2", peak("IL2"), "pM", "highest endogenous IL-2", ("IL2",)),
    Endpoint("peak_IFNg", peak("IFNg"), "pM", "highest IFN-gamma", ("IFNg",)),
    Endpoint("M1_M2_end", _end("M1_M2"), "-", "M1/M2 macrophage ratio at the horizon", ("M1_M2",)),
    Endpoint("tumour_best_change", tumour_best_change, "%", "best (most negative) tumour diameter change from "
             "baseline", ("tumour_diameter",), default=True),
    Endpoint("recist", recist, "", "RECIST 1.1 best overall response of the diameter time course, unconfirmed, "
             f"every output time a scan: a label, one of {'/'.join(CLASSES)} (thymosim.analysis.recist)",
             ("tumour_diameter",), label=True),
    Endpoint("ta1_cmax", _ta1_exposure("Cmax"), "ng/mL", "highest plasma thymalfasin above the endogenous level, "
             "event-exact (the horizon row of exposure.csv)", ("ta1_plasma",), scenario=True),
    Endpoint("ta1_auc", _ta1_exposure("AUC"), "ng/mL x day", "area under plasma thymalfasin above the endogenous "
             "level over the horizon, event-exact", ("ta1_plasma",), scenario=True),
    Endpoint("ta1_cavg", _ta1_exposure("Cavg"), "ng/mL", "average plasma thymalfasin above the endogenous level "
             "over the horizon, event-exact", ("ta1_plasma",), scenario=True),
    # the comparator table (thymosim.analysis.agents)
    Endpoint("ANC_nadir", nadir("ANC"), "cells/uL", "lowest neutrophil count", ("ANC",)),
    Endpoint("ANC_peak", peak("ANC"), "cells/uL", "highest neutrophil count", ("ANC",)),
    Endpoint("days_ANC_below_500", days_below("ANC", 500.0), "day", "days with neutrophils < 500/uL (grade 4 "
             "neutropenia)", ("ANC",)),
    Endpoint("days_ANC_below_1000", days_below("ANC", 1000.0), "day", "days with neutrophils < 1000/uL "
             "(grade >= 3)", ("ANC",)),
    Endpoint("CD4_nadir", nadir("CD4"), "cells/uL", "lowest CD4 count", ("CD4",)),
    Endpoint("CD4_recovery_day", recovery_day("CD4", 0.8), "day", _RECOVERY.format("CD4"), ("CD4",)),
    Endpoint("auc_NK", auc("NK"), "cells/uL x day", "area under NK over the horizon", ("NK",)),
    Endpoint("NK_peak_fold", fold_peak("NK"), "-", "highest NK count over baseline", ("NK",)),
    Endpoint("Treg_peak_fold", fold_peak("Treg"), "-", "highest regulatory T-cell count over baseline", ("Treg",)),
    Endpoint("IL2_peak", peak("IL2"), "pM", "highest endogenous IL-2 (= peak_IL2)", ("IL2",)),
    Endpoint("IL2_therapy_peak", peak("il2_plasma"), "pM", "highest plasma IL-2 from therapy", ("il2_plasma",)),
    Endpoint("IFNg_peak", peak("IFNg"), "pM", "highest IFN-gamma (= peak_IFNg)", ("IFNg",)),
    Endpoint("capillary_leak_peak", peak("capillary_leak"), "% body weight", "capillary-leak marker: highest "
             "extravasated fluid", ("capillary_leak",)),
)
"""Every built-in endpoint by name."""

ENDPOINTS = REGISTRY
"""The registry under its former name: ``ENDPOINTS[name](df)`` evaluates a built-in endpoint."""

GENERIC: dict[str, Callable[[str], EndpointFunction]] = {
    "auc": auc, "peak": peak, "nadir": nadir, "nadir_day": nadir_day, "tmax": _tmax, "end": _end,
}
"""``"kind:column"`` endpoints for the outputs of any model."""
AT_KINDS: dict[str, Callable[[str, float], EndpointFunction]] = {"at": value_at, "below": days_below}
"""``"kind:column@number"`` endpoints: ``at:X@DAY`` (X at DAY, interpolated), ``below:X@LEVEL`` (days below)."""
GRAMMAR = {**{f"{k}:OUTPUT": f"the {k.replace('_', ' ')} of any output (e.g. {k}:CD4)" for k in GENERIC},
           "at:OUTPUT@DAY": "an output at a day, interpolated (e.g. at:CD4@42)",
           "below:OUTPUT@LEVEL": "days an output spends below a level, interpolated (e.g. below:ANC@500)"}
"""The endpoint grammar, one line per form (``thymosim list endpoints``)."""


@dataclass(frozen=True)
class Spec:
    """A parsed endpoint string: ``kind`` ("name" for a registered one), the ``column`` it reads
    ('' for a name) and the ``number`` after ``@`` (NaN if none)."""

    kind: str
    column: str = ""
    number: float = math.nan


def parse(text: str) -> Spec:
    """The one parser of the endpoint grammar (module docstring); KeyError naming what is allowed."""
    text = str(text)
    if text in REGISTRY:
        return Spec("name")
    kind, sep, rest = text.partition(":")
    if sep and kind in GENERIC and rest:
        return Spec(kind, rest)
    if sep and kind in AT_KINDS:
        column, at, number = rest.partition("@")
        try:
            value = float(number)
        except ValueError:
            value = math.nan
        if column and at and math.isfinite(value):
            return Spec(kind, column, value)
    raise KeyError(f"unknown endpoint {text[:80]!r}; allowed: {', '.join(REGISTRY)}, KIND:OUTPUT with KIND one of "
                   f"{', '.join(GENERIC)}, at:OUTPUT@DAY, below:OUTPUT@LEVEL (days below LEVEL), or a callable "
                   "f(df) -> float")


def resolve(endpoint: str | Endpoint | Callable) -> Endpoint:
    """The :class:`Endpoint` of a registered name, a grammar string (:func:`parse`) or a callable."""
    if isinstance(endpoint, Endpoint):
        return endpoint
    if callable(endpoint):
        return Endpoint(getattr(endpoint, "__name__", "custom"), endpoint, "", "a user function")
    spec = parse(endpoint)
    if spec.kind == "name":
        return REGISTRY[endpoint]
    if spec.kind in GENERIC:
        return Endpoint(endpoint, GENERIC[spec.kind](spec.column), "", GRAMMAR[f"{spec.kind}:OUTPUT"], (spec.column,))
    form = "at:OUTPUT@DAY" if spec.kind == "at" else "below:OUTPUT@LEVEL"
    return Endpoint(endpoint, AT_KINDS[spec.kind](spec.column, spec.number), "", GRAMMAR[form], (spec.column,))


def evaluate(endpoint: str | Endpoint | Callable, course: Any, scenario: Scenario | None = None) -> float | str:
    """One endpoint of one time course: a float, or a label for a class endpoint (``recist``)."""
    value = resolve(endpoint)(course, scenario)
    return value if isinstance(value, str) else float(value)


def column_of(endpoint: str) -> str:
    """The output a ``"kind:column"`` / ``"at:column@day"`` endpoint reads ('' for a built-in name)."""
    return parse(endpoint).column


def missing(endpoint: str | Endpoint | Callable, outputs: Sequence[str]) -> list[str]:
    """The outputs ``endpoint`` needs that ``outputs`` lack (KeyError for an unknown endpoint)."""
    return [c for c in resolve(endpoint).needs if c not in outputs]


def available(outputs: Sequence[str]) -> list[str]:
    """Registered endpoints a model reporting ``outputs`` has (``endpoints.csv`` of ``thymosim run``)."""
    return [name for name, e in REGISTRY.items() if not missing(e, outputs)]


def defaults_for(outputs: Sequence[str]) -> tuple[str, ...]:
    """Default endpoints of sweeps and sensitivity analyses for a model reporting ``outputs``: the
    registered defaults it has (thymosim: lymphocyte nadir, CD4 AUC, CD4 change at the end, best tumour
    change); for another model ``auc:`` of its first three outputs."""
    mine = tuple(n for n, e in REGISTRY.items() if e.default and not missing(e, outputs))
    return mine or tuple(f"auc:{o}" for o in list(outputs)[:3])


def suggestions(text: str, outputs: Sequence[str]) -> list[str]:
    """Close candidates for a misspelt endpoint: the same grammar form on each output when the form is
    right but the output is not, else every registered name and grammar form on the outputs."""
    kind, sep, rest = str(text).partition(":")
    if sep and (kind in GENERIC or kind in AT_KINDS):
        column = rest.partition("@")[0]
        tail = rest[len(column):]
        if column and column not in outputs:
            return [f"{kind}:{o}{tail}" for o in outputs]
    return [*REGISTRY, *(f"{k}:{o}" for k in GENERIC for o in outputs)]
