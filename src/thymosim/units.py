"""Parse the few units dosing needs. Canonical units: mg (mass), MU (activity,
million international units), Gy (radiation), each optionally per m2 of body
surface area; day for time.

Times (case-insensitive, singular or plural, space optional): s/sec/second, min/minute,
h/hr/hour, d/day, wk/week, mo/month (a mean calendar month, 365.25/12 = 30.4375 days) and
y/yr/year (365.25 days): ``"1 hr"``, ``"90 minutes"``, ``"2 wks"``, ``"6 months"`` (182.625 days).
Per-kg amounts (``"2 mg/kg"``) are refused with a clear message: the model has no body weight
yet; per-m2 amounts scale with the patient's body surface area.
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
    """An amount in the canonical unit of ``dimension`` and whether it is per m2 of BSA.

    ``value`` is a number (with ``unit``; default the canonical unit) or a string such
    as ``"80 mg/m2"``. A unit of another dimension is an error naming the allowed units.
    """
    if isinstance(value, str):
        value, written = split_quantity(value)
        if written and unit and _parse_unit(written, dimension) != _parse_unit(unit, dimension):
            raise ValueError(f"unit {unit!r} conflicts with the unit written in the amount ({written!r}); "
                             "allowed: give the unit once")
        unit = written or unit
    factor, per_bsa = _parse_unit(unit or CANONICAL[dimension], dimension)
    return float(value) * factor, per_bsa


def _parse_unit(unit: str, dimension: str) -> tuple[float, bool]:
    """(size in the canonical unit, per m2 of BSA) of an amount unit such as ``"mg/m2"``."""
    unit = unit.replace("μ", "µ").replace(" ", "")
    if unit.lower().endswith(PER_WEIGHT):
        raise ValueError(f"unit {unit!r} is per kg of body weight, which the model does not have yet (the patient "
                         "has no weight field); allowed: an absolute amount (e.g. mg) or per m2 of body surface area "
                         "(e.g. mg/m2, scaled by Patient.bsa)")
    base = unit
    for suffix in PER_BSA:
        base = base.removesuffix(suffix)
    allowed = AMOUNT_UNITS[dimension]
    if base not in allowed:
        names = ", ".join(allowed)
        raise ValueError(f"unit {unit!r} is not a {dimension} amount; allowed: {names} (optionally per m2)")
    return allowed[base], base != unit


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
