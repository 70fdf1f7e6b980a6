"""Drug exposure, event-exact: per dosing interval Cmax, Tmax, Ctrough, AUC and Cavg of each drug's
concentration, and a whole-horizon row, independent of the scenario's output step.

The concentration is simulated on its own grid: every dose time, infusion end and the horizon are
grid points, each stretch between them gets ``points`` times packed towards its start (where the
absorption peak is: t = a + (b - a) u^3, u uniform) plus a point 1e-9 day before its end (the left
limit: the trough just before the next dose). Cmax is refined by a parabola through the top three
points, AUC is the trapezoid rule on that grid (error < 1e-4 of the AUC for thymalfasin at 240
points; the tests check both against the closed-form one-compartment model).

    exposure(named("prag_ta1_loading"), "thymalfasin")      # one row per interval + "horizon"
    exposure((Patient(), regimen), horizon=28)              # every drug of the regimen
    pk_course((Patient(), regimen), days=21)                # dense course for figures
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from thymosim import units as _units
from thymosim.model import Model, default_model
from thymosim.patient import Patient
from thymosim.regimen import Dose, Regimen, lookup_drug
from thymosim.simulation import simulate

if TYPE_CHECKING:
    from thymosim.scenario import Scenario

EPS = 1e-9
"""The left limit before a dose is taken this many days (x max(1, t)) before it [day]."""
NOISE = 1e-6
"""Concentrations below the baseline by less than this share of the largest are solver noise (set to 0)."""
COLUMNS = ["drug", "interval", "start", "end", "Cmax", "Tmax_day", "Ctrough", "AUC", "Cavg", "baseline", "unit",
           "AUC_unit"]
UNITS = {"start": "day", "end": "day", "Tmax_day": "day after the interval start", "Cmax": "unit", "Ctrough": "unit",
         "AUC": "AUC_unit (unit x day)", "Cavg": "unit", "baseline": "unit"}


class NoExposure(ValueError):
    """No drug of the regimen has an exposure variable (models/drugs.tsv, column exposure)."""


def _source(source, horizon, model) -> tuple[Patient, Regimen, float, Model]:
    from thymosim.scenario import Scenario

    if isinstance(source, Scenario):
        patient, regimen, model, end = source.patient, source.regimen, model or source.model, source.horizon
    elif isinstance(source, Sequence) and len(source) == 2 and isinstance(source[1], Regimen | Dose):
        patient, regimen = source[0] or Patient(), Regimen(source[1])
        model = model or default_model()
        end = max(regimen.end(), regimen.last_time())
    else:
        raise TypeError(f"exposure: {type(source).__name__} {str(source)[:50]!r}; allowed: a Scenario or a "
                        "(Patient, Regimen) pair")
    if horizon is not None:
        try:
            end = _units.days(horizon)
        except (ValueError, TypeError):
            raise ValueError(f"horizon: {horizon!r}; allowed: a number of days or a time string "
                             f"({_units.TIME_HELP})") from None
    if not (end > 0 and np.isfinite(end)):
        raise ValueError(f"horizon: {end!r}; allowed: a finite number of days > 0 (the regimen is empty?)")
    return patient, regimen, float(end), model


def _drugs(regimen: Regimen, model: Model, drug: str | None, output: str | None) -> dict[str, tuple[str, str]]:
    """Drug name -> (model id, unit) of its exposure variable."""
    given = list(dict.fromkeys(d.drug for d in regimen.doses if d.amt > 0))
    if drug is not None:
        name = lookup_drug(drug, model.drugs).name
        if name not in given:
            raise ValueError(f"drug: {drug!r} is not given in this regimen; allowed: {', '.join(given) or 'none'}")
        given = [name]
    if output is not None:
        if len(given) != 1:
            raise ValueError(f"output: {output!r} with {len(given)} drugs; allowed: output with one drug (drug=...)")
        if output in model.outputs:
            return {given[0]: (model.outputs[output].id, model.outputs[output].unit)}
        if output not in model.info.ids:
            raise ValueError(f"output: {output[:50]!r} is not an id of model {model.name!r}; allowed: an output name "
                             f"({', '.join(model.outputs)}) or a model id (species, parameter, rule)")
        return {given[0]: (output, "")}
    exposed = [d.name for d in model.drugs.values() if d.exposure]
    found = {d: (model.drugs[d].exposure, model.drugs[d].exposure_unit) for d in given
             if d in model.drugs and model.drugs[d].exposure}
    if drug is not None and not found:
        raise ValueError(f"drug: {given[0]} has no concentration (no exposure variable in models/drugs.tsv); "
                         f"allowed: {', '.join(exposed) or 'none'}, or output='MODEL_ID' (a concentration of the "
                         "model)")
    if not found:
        raise NoExposure(f"drug: none of {', '.join(given) or 'no drugs'} has a concentration; allowed: a regimen "
                         f"with one of {', '.join(exposed) or 'none'}, or drug=... with output='MODEL_ID'")
    return found


def _breaks(doses: Iterable[Dose], horizon: float) -> np.ndarray:
    """Every dose time, infusion end and steady-state start of ``doses`` in [0, horizon], with 0 and horizon."""
    times = {0.0, horizon}
    for d in doses:
        for t in d.times:
            times |= {t, t + d.dur}
        if d.ss:
            times.add(d.time - (d.in_cycle[0] if d.in_cycle else 0.0))
    return np.array(sorted(t for t in times if 0.0 <= t <= horizon))


def _intervals(doses: list[Dose], horizon: float) -> list[tuple[float, float]]:
    """Dosing intervals [day] of one drug's records: each administration to the next; the last one
    to the end of its records (:meth:`Dose.end`), or to the horizon if that is not later."""
    given = sorted(t for d in doses for t in d.times if t < horizon)
    given = [t for k, t in enumerate(given) if k == 0 or t - given[k - 1] > 1e-9]
    if not given:
        return []
    last = max(d.end() for d in doses)
    stops = [*given[1:], min(last, horizon) if last > given[-1] else horizon]
    return list(zip(given, stops, strict=True))


MAX_DENSE_POINTS = 400_000
"""Largest dense grid (about): with more stretches than 400 000 / ``points`` (thousands of doses) each
gets fewer points, at least 20 (20 000 boluses: 4.8 million points took minutes through the CLI)."""


def _grid(breaks: np.ndarray, points: int) -> np.ndarray:
    """Dense grid: ``points`` per stretch between breaks, packed towards its start, and the left limit of each
    break (1e-9 day before it)."""
    u = np.linspace(0.0, 1.0, points)[:-1] ** 3
    parts = [a + (b - a) * u for a, b in zip(breaks[:-1], breaks[1:], strict=True)]
    parts += [breaks[1:] - EPS * np.maximum(1.0, breaks[1:]), breaks]
    return np.unique(np.concatenate(parts))


def _dense(patient: Patient, regimen: Regimen, horizon: float, model: Model, ids: list[str],
           doses: list[Dose], points: int) -> tuple[np.ndarray, pd.DataFrame]:
    ends = [b for name in {d.drug for d in doses} for _, b in _intervals([d for d in doses if d.drug == name],
                                                                          horizon)]
    breaks = np.unique(np.concatenate([_breaks(doses, horizon), ends]))
    grid = _grid(breaks, max(20, min(points, MAX_DENSE_POINTS // max(1, breaks.size - 1))))
    first = next(iter(model.outputs))
    return breaks, simulate(patient, regimen, times=grid, outputs=[first], extra=list(dict.fromkeys(ids)),
                            model=model)


def _baselines(model: Model, patient: Patient, ids: Iterable[str]) -> dict[str, float]:
    """Drug-free level of each variable (endogenous thymalfasin 0.65 ng/mL; 0 for the others)."""
    rr = model.reset(model.values(patient))
    return {i: float(rr.getValue(i)) for i in ids}


def _peak(t: np.ndarray, c: np.ndarray, k: int, smooth: bool) -> tuple[float, float]:
    """(Tmax, Cmax) at grid index ``k``, refined by the parabola through k-1, k, k+1 when ``smooth``."""
    if not smooth:
        return float(t[k]), float(c[k])
    (t0, t1, t2), (c0, c1, c2) = t[k - 1:k + 2], c[k - 1:k + 2]
    d01, d12 = (c1 - c0) / (t1 - t0), (c2 - c1) / (t2 - t1)
    curvature = (d12 - d01) / (t2 - t0)
    if not curvature < 0:
        return float(t1), float(c1)
    vertex = 0.5 * (t0 + t1) - d01 / (2 * curvature)
    vertex = min(max(vertex, t0), t2)
    value = c1 + d01 * (vertex - t1) + curvature * (vertex - t0) * (vertex - t1)
    return float(vertex), float(max(value, c1))


def clip_noise(c: np.ndarray, level: float = 0.0) -> np.ndarray:
    """``c`` with values below 0 by less than :data:`NOISE` x the largest magnitude (or baseline
    ``level``) set to 0: solver noise around the baseline; a real undershoot stays negative."""
    noise = NOISE * max(float(np.max(np.abs(c))), abs(level))
    return np.where((c < 0) & (c >= -noise), 0.0, c)


def _stats(t: np.ndarray, c: np.ndarray, area: np.ndarray, kinks: set[int], a: float, b: float,
           trough: bool) -> dict[str, float]:
    """Cmax, Tmax, Ctrough, AUC, Cavg of ``c`` (cumulative area ``area``) from break ``a`` to break ``b``."""
    i, j = int(np.searchsorted(t, a)), int(np.searchsorted(t, b))  # t[j] == b, t[j - 1] its left limit
    k = i + int(np.argmax(c[i:j]))
    tmax, cmax = _peak(t, c, k, k - 1 >= i and k + 1 < j and not ({k - 1, k, k + 1} & kinks))
    auc = float(area[j - 1] - area[i])
    return {"start": a, "end": b, "Cmax": cmax, "Tmax_day": tmax - a,
            "Ctrough": float(c[j - 1]) if trough else float("nan"), "AUC": auc, "Cavg": auc / (b - a)}


def exposure(source: Scenario | tuple[Patient | None, Regimen], drug: str | None = None, *,
             horizon: float | str | None = None, model: Model | None = None, output: str | None = None,
             points: int = 240, above_baseline: bool = True) -> pd.DataFrame:
    """Exposure of ``drug`` (default: every drug of the regimen that has a concentration, the
    ``exposure`` column of ``models/drugs.tsv``) under a scenario or a ``(patient, regimen)`` pair, over
    ``horizon`` days (default: the scenario's; for a pair, the end of the regimen, :meth:`Regimen.end`).

    One row per dosing interval of the drug (from an administration to the next one; the last to the
    end of its record, :meth:`Dose.end`, or the horizon) and one row ``interval = "horizon"`` (0 to the
    horizon). Columns: ``start``, ``end`` [day]; ``Cmax``; ``Tmax_day`` [day after ``start``]; ``Ctrough``
    (just before the next dose; NaN in the horizon row; a value below the baseline by less than the
    solver's noise, 1e-6 of the largest concentration, is 0); ``AUC`` [unit x day]; ``Cavg`` = AUC / length
    [unit]; ``baseline`` (the drug-free level); ``unit`` and ``AUC_unit``. With ``above_baseline`` the
    concentrations are above the drug-free level (thymalfasin: minus the endogenous 0.65 ng/mL, so
    that AUC = dose / CL after washout); otherwise total. ``output``: another model id (or output name)
    to read for a single ``drug``. Event-exact: see the module docstring."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 20:
        raise ValueError(f"points: {points!r}; allowed: an integer >= 20 (per stretch between doses)")
    patient, regimen, end, model = _source(source, horizon, model)
    chosen = _drugs(regimen, model, drug, output)
    doses = [d for d in regimen.doses if d.drug in chosen and d.amt > 0]
    breaks, df = _dense(patient, regimen, end, model, [i for i, _ in chosen.values()], doses, points)
    base = _baselines(model, patient, [i for i, _ in chosen.values()])
    t = df["time"].to_numpy()
    rows = []
    for name, (vid, unit) in chosen.items():
        level = base[vid]
        c = df[vid].to_numpy() - (level if above_baseline else 0.0)
        c = clip_noise(c, level)
        area = np.concatenate([[0.0], np.cumsum(np.diff(t) * (c[1:] + c[:-1]) / 2)])
        own = [d for d in doses if d.drug == name]
        kinks = set(np.searchsorted(t, breaks).tolist())  # no parabola across a dose or infusion end
        kinks |= {k - 1 for k in kinks}  # nor across a left limit
        auc_unit = f"{unit} x day" if unit else "x day"

        for n, (a, b) in enumerate(_intervals(own, end), start=1):
            rows.append({"drug": name, "interval": n, **_stats(t, c, area, kinks, a, b, True)})
        rows.append({"drug": name, "interval": "horizon", **_stats(t, c, area, kinks, 0.0, end, False)})
        for row in rows:
            if row["drug"] == name:
                row |= {"baseline": level, "unit": unit, "AUC_unit": auc_unit}
    table = pd.DataFrame(rows, columns=COLUMNS)
    table.attrs["units"] = dict(UNITS)
    table.attrs["above_baseline"] = above_baseline
    return table


def pk_course(source: Scenario | tuple[Patient | None, Regimen], drug: str = "thymalfasin", days: float = 21.0,
              *, model: Model | None = None, output: str | None = None, points: int = 240) -> pd.DataFrame:
    """Dense, event-exact concentration course of ``drug`` over the first ``days`` [day] (at most the
    scenario's horizon): columns ``time`` [day] and the drug's exposure variable (total, endogenous
    included; thymalfasin: ``ta1_plasma`` [ng/mL]), on the grid of :func:`exposure`, so the peaks show
    their true height whatever the scenario's output step. ``df.attrs["units"]`` has the units."""
    patient, regimen, end, model = _source(source, None, model)
    end = min(end, float(days)) if days else end
    if not end > 0:
        raise ValueError(f"days: {days!r}; allowed: a number of days > 0")
    chosen = _drugs(regimen, model, drug, output)
    (name, (vid, unit)), = chosen.items()
    doses = [d for d in regimen.doses if d.drug == name and d.amt > 0]
    _, df = _dense(patient, regimen, end, model, [vid], doses, points)
    column = next((o for o, spec in model.outputs.items() if spec.id == vid), vid)
    out = pd.DataFrame({"time": df["time"].to_numpy(), column: df[vid].to_numpy()})
    out.attrs["units"] = {"time": "day", column: unit}
    return out
