"""RECIST 1.1 on imaged tumour diameters (Eisenhauer EA et al., Eur J Cancer 2009;45:228-47).

The model gives one diameter time course per virtual patient [mm], the sum-of-diameters proxy of
the target lesions; a trial images it on a schedule (:func:`scan_days`, day 0 = baseline) and
:func:`classify` reads the scans. Times in days, diameters in mm. Rules:

* Time-point response at each follow-up scan (:func:`timepoint`), checked in this order:
  CR if the diameter is < ``cr_mm`` (no lesion left to image); PD if it is >= 20 % *and* >= 5 mm
  above the nadir, the smallest diameter of the baseline and earlier scans; PR if the change
  from baseline is <= -30 %; else SD. Boundaries are inclusive (exactly -30 % is PR, exactly
  +20 % and +5 mm is PD), up to 1e-9 of floating-point rounding. There are no new or non-target
  lesions in the model, so PD comes from target growth only.
* Scans after the first PD are ignored; PFS is the day of the first PD scan (event), else the
  last scan day (censored; day 0 if there is no follow-up scan).
* Best overall response with ``confirm=True`` (RECIST 1.1 for trials with response as the
  primary endpoint): a CR scan is confirmed by any later scan at least ``confirm_after`` days
  after it that is also CR -> CR; a CR or PR scan confirmed by a later such scan that is PR or CR
  -> PR (intervening scans need not be PR). Otherwise SD if some scan at day >= ``sd_min_day``
  is SD or better (an unconfirmed CR/PR falls back to SD this way); otherwise PD if a PD scan
  was seen; otherwise (no follow-up scan, or SD not yet reached by ``sd_min_day``) NE.
* With ``confirm=False`` the best time-point response counts directly, CR > PR > SD > PD, SD
  still needing a scan at day >= ``sd_min_day``. QSP-IO's ``responseStatus.m`` and
  :func:`thymosim.analysis.endpoints.recist` use such an unconfirmed variant, on the continuous
  time course rather than on scans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EPS = 1e-9
_RANK = {"CR": 0, "PR": 1, "SD": 2, "PD": 3}


def scan_days(horizon: float, every: float = 42.0, first: float | None = None) -> np.ndarray:
    """Imaging days: baseline 0, then ``first``, ``first + every``, ... <= ``horizon`` [days]."""
    first = every if first is None else first
    for name, value in (("horizon", horizon), ("every", every), ("first", first)):
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    for name, value in (("every", every), ("first", first)):
        if value <= 0:
            raise ValueError(f"{name} must be > 0, got {value}")
    n = int(np.floor((horizon - first) / every + _EPS)) + 1 if first <= horizon + _EPS else 0
    return np.concatenate([[0.0], first + every * np.arange(n)])


def timepoint(change_from_baseline_pct: float, diameter: float, nadir: float, cr_mm: float = 1.0) -> str:
    """Time-point response of one scan: CR, then PD, then PR, then SD (module docstring) [%, mm]."""
    if diameter < cr_mm:
        return "CR"
    if diameter - 1.2 * nadir >= -_EPS * nadir and diameter - nadir >= 5.0 - _EPS:
        return "PD"
    return "PR" if change_from_baseline_pct <= -30.0 + _EPS else "SD"


@dataclass(frozen=True)
class Response:
    """RECIST reading of one patient's scans."""

    best: str  # best overall response: CR, PR, SD, PD or NE
    best_change_pct: float  # most negative % change from baseline up to the first PD (NaN: no follow-up)
    pfs_day: float  # day of the first PD scan, else of the last scan [days]
    pfs_event: bool  # True: progression seen; False: censored at pfs_day
    confirmed: bool  # a CR/PR scan was confirmed by a later one (computed whatever ``confirm``)
    timepoints: tuple[str, ...]  # one per follow-up scan, up to the first PD


def percent_change(days, diameters) -> np.ndarray:
    """Percent change of each diameter from the baseline one (days[0] = 0) [%]."""
    days, d = _checked(days, diameters)
    return 100.0 * (d / d[0] - 1.0)


def classify(days, diameters, confirm: bool = True, confirm_after: float = 28.0, sd_min_day: float = 42.0,
             cr_mm: float = 1.0) -> Response:
    """RECIST 1.1 best overall response and PFS of scans ``diameters`` [mm] at ``days`` [days]."""
    days, d = _checked(days, diameters)
    change = 100.0 * (d / d[0] - 1.0)
    tps: list[str] = []
    for i in range(1, len(d)):
        tps.append(timepoint(change[i], d[i], d[:i].min(), cr_mm))
        if tps[-1] == "PD":
            break
    t = days[1:len(tps) + 1]

    def confirmed_by(i: int, good: set[str]) -> bool:
        return any(tps[j] in good and t[j] - t[i] >= confirm_after - _EPS for j in range(i + 1, len(tps)))

    cr = any(x == "CR" and confirmed_by(i, {"CR"}) for i, x in enumerate(tps))
    pr = any(x in ("CR", "PR") and confirmed_by(i, {"CR", "PR"}) for i, x in enumerate(tps))
    stable = any(x != "PD" and day >= sd_min_day - _EPS for x, day in zip(tps, t, strict=True))
    best_unconfirmed = min(tps, key=_RANK.__getitem__, default="NE")
    if not confirm and best_unconfirmed in ("CR", "PR"):
        best = best_unconfirmed
    elif confirm and (cr or pr):
        best = "CR" if cr else "PR"
    else:
        best = "SD" if stable else ("PD" if "PD" in tps else "NE")
    progressed = bool(tps) and tps[-1] == "PD"
    return Response(best=best, best_change_pct=float(change[1:len(tps) + 1].min()) if tps else float("nan"),
                    pfs_day=float(t[-1] if tps else 0.0), pfs_event=progressed, confirmed=cr or pr,
                    timepoints=tuple(tps))


def _checked(days, diameters) -> tuple[np.ndarray, np.ndarray]:
    days, d = np.asarray(days, dtype=float), np.asarray(diameters, dtype=float)
    if days.ndim != 1 or d.shape != days.shape or days.size == 0:
        raise ValueError(f"days and diameters must be 1-D, non-empty, same length; got {days.shape}, {d.shape}")
    if not np.all(np.isfinite(days)) or days[0] != 0.0 or np.any(np.diff(days) <= 0):
        raise ValueError("days must be finite, start at 0 (baseline) and increase strictly")
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise ValueError("diameters must be finite and positive")
    return days, d
