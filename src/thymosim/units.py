"""Parse the few units dosing needs. Canonical units: mg (mass), MU (activity,
million international units), Gy (radiation), each optionally per m2 of body
surface area; mass, activity and substance amounts also per kg of body weight; day for time.

Times (case-insensitive, singular or plural, space optional): s/sec/second, min/minute,
h/hr/hour, d/day, wk/week, mo/month (a mean calendar month, 365.25/12 = 30.4375 days) and
y/yr/year (365.25 days): ``"1 hr"``, ``"90 minutes"``, ``"2 wks"``, ``"6 months"`` (182.625 days).
Per-m2 amounts (``"80 mg/m2"``) scale with the patient's body surface area, per-kg amounts
(``"0.02 mg/kg"``, ``"100 ug/kg"``, ``"50000 IU/kg"``) with the patient's body weight, both in the
driver at administration time (:meth:`thymosim.regimen.Dose.model_amount`). A per-kg radiation dose
(``"Gy/kg"``; a gray is already per kg of tissue) is an error.
"""

from __future__ import annotations

import re

AMOUNT_UNITS: dict[str, dict[str, float]] = {
    "mass": {"g": 1e3, "mg": 1.0, "ug": 1e-3, "µg": 1e-3, "mcg": 1e-3, "ng": 1e-6},
    "activity": {"MU": 1.0, "MIU": 1.0, "IU": 1e-6},
    "radiation": {"Gy": 1.0, "cGy": 1e-2},
    "substance": {"mol": 1e6, "mmol": 1e3, "umol": 1.0, "µmol": 1.0, "nmol": 1e-3, "pmol": 1e-6},
    "dimensionless": {"dimensionless": 1.0, "1": 1.0},
}
CANONICAL = {"mass": "mg", "activity": "MU", "radiation": "Gy", "substance": "umol", "dimensionless": "dimensionless"}
PER_BSA = ("/m2", "/m^2", "/m²")
PER_WEIGHT = ("/kg", "/kgbw")
PER_WEIGHT_DIMENSIONS = ("mass", "activity", "substance")  # amounts that may be given per kg of body weight
MONTH_DAYS, YEAR_DAYS = 365.25 / 12, 365.25  # mean Gregorian month (30.4375 days) and year
TIME_UNITS = {"s": 1 / 86400, "sec": 1 / 86400, "second": 1 / 86400, "min": 1 / 1440, "minute": 1 / 1440,
              "h": 1 / 24, "hr": 1 / 24, "hour": 1 / 24, "d": 1.0, "day": 1.0, "wk": 7.0, "week": 7.0,
              "mo": MONTH_DAYS, "month": MONTH_DAYS, "y": YEAR_DAYS, "yr": YEAR_DAYS, "year": YEAR_DAYS}
TIME_HELP = "s, min, h (hr, hour), d (day), wk (week), month (30.4375 days), yr (year, 365.25 days); plurals allowed"
_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def dimension(unit: str) -> tuple[str, float]:
    """The dimension of an amount unit and its size in the canonical unit of that dimension:
    ``"ug" -> ("mass", 1e-3)``. Raises ValueError naming the allowed units."""
    unit = unit.replace("μ", "µ").strip()
    for dim, allowed in AMOUNT_UNITS.items():
        if unit in allowed:
            return dim, allowed[unit]
    names = ", ".join(u for allowed in AMOUNT_UNITS.values() for u in allowed)
    raise ValueError(f"unit {unit!r} is not an amount unit; allowed: {names}")


def split_quantity(text: str) -> tuple[float, str]:
    """``"1.6 mg" -> (1.6, "mg")``; raises ValueError when there is no leading number."""
    match = _NUMBER.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a number followed by a unit")
    return float(match.group(1)), match.group(2)


def amount(value: float | str, unit: str | None, dimension: str) -> tuple[float, bool]:
    """An amount in the canonical unit of ``dimension`` and whether it is per m2 of BSA
    (kept for callers that predate per-kg doses: a per-kg unit raises; use :func:`amount_per`)."""
    canonical, per = amount_per(value, unit, dimension)
    if per == "kg":
        raise ValueError(f"unit {unit or value!r} is per kg of body weight; allowed here: an absolute amount or per m2 "
                         "(per-kg amounts: thymosim.units.amount_per)")
    return canonical, per == "m2"


def amount_per(value: float | str, unit: str | None, dimension: str) -> tuple[float, str | None]:
    """An amount in the canonical unit of ``dimension`` and what it is per: ``None`` (absolute),
    ``"m2"`` (of body surface area) or ``"kg"`` (of body weight).

    ``value`` is a number (with ``unit``; default the canonical unit) or a string such
    as ``"80 mg/m2"`` or ``"0.02 mg/kg"``. A unit of another dimension is an error naming the allowed units.
    """
    if isinstance(value, str):
        value, written = split_quantity(value)
        if written and unit and _parse_unit(written, dimension) != _parse_unit(unit, dimension):
            raise ValueError(f"unit {unit!r} conflicts with the unit written in the amount ({written!r}); "
                             "allowed: give the unit once")
        unit = written or unit
    factor, per = _parse_unit(unit or CANONICAL[dimension], dimension)
    return float(value) * factor, per


def _parse_unit(unit: str, dimension: str) -> tuple[float, str | None]:
    """(size in the canonical unit, per: None, "m2" or "kg") of an amount unit such as ``"mg/m2"``."""
    unit = unit.replace("μ", "µ").replace(" ", "")
    allowed = AMOUNT_UNITS[dimension]
    per_kg = dimension in PER_WEIGHT_DIMENSIONS
    options = "per m2 or per kg" if per_kg else "per m2"
    base, per = unit, None
    for suffix in PER_WEIGHT:
        if unit.lower().endswith(suffix):
            base, per = unit[:-len(suffix)], "kg"
            break
    else:
        for suffix in PER_BSA:
            if unit.endswith(suffix):
                base, per = unit.removesuffix(suffix), "m2"
                break
    if base not in allowed:
        names = ", ".join(allowed)
        raise ValueError(f"unit {unit!r} is not a {dimension} amount; allowed: {names} (optionally {options})")
    if per == "kg" and not per_kg:
        raise ValueError(f"unit {unit!r} is per kg of body weight, which a {dimension} amount cannot be; allowed: "
                         f"{', '.join(allowed)} (optionally per m2)")
    return allowed[base], per


def days(value: float | str | None) -> float | None:
    """A time in days: a number (days) or a string such as ``"3.5 day"``, ``"12 h"``, ``"1 hr"``,
    ``"2 weeks"``, ``"6 months"`` (units: :data:`TIME_UNITS`, see the module docstring)."""
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    number, unit = split_quantity(value)
    unit = unit.strip().lower()
    if unit not in TIME_UNITS and unit.endswith("s") and unit[:-1] in TIME_UNITS:
        unit = unit[:-1]
    if unit == "":
        return number
    if unit not in TIME_UNITS:
        raise ValueError(f"unit {unit!r} is not a time; allowed: {TIME_HELP}")
    return number * TIME_UNITS[unit]
