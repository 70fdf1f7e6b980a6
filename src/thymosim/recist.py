"""RECIST 1.1 on imaged tumour diameters (Eisenhauer EA et al., Eur J Cancer 2009;45:228-47): the one
classifier of thymosim. Trials, sweeps (the ``recist`` endpoint), plots and the comparator claims all
read it and its thresholds (:data:`RULES`); no other module writes a RECIST number.

The model gives one diameter time course per virtual patient [mm], the sum-of-diameters proxy of
the target lesions; a trial images it on a schedule (:func:`scan_days`, day 0 = baseline) and
:func:`classify` reads the scans (:func:`classify_course` reads a whole simulated time course, each
output time a scan). Times in days, diameters in mm. Results are labels: :data:`CLASSES`. Rules
(thresholds are the fields of :class:`Rules`; the defaults, :data:`RULES`, are RECIST 1.1):

* Time-point response at each follow-up scan (:func:`timepoint`), checked in this order:
  CR if the diameter is < ``cr_mm`` (1 mm: no lesion left to image); PD if it is >= ``pd_change_pct``
  (20 %) *and* >= ``pd_absolute_mm`` (5 mm) above the nadir, the smallest diameter of the baseline and
  earlier scans; PR if the change from baseline is <= ``pr_change_pct`` (-30 %); else SD. Boundaries
  are inclusive (exactly -30 % is PR, exactly +20 % and +5 mm is PD), up to 1e-9 of floating-point
  rounding. A scan that sees a new lesion is PD whatever the diameters (RECIST 1.1: the appearance
  of a new lesion is progression); the model has no non-target lesions.
* Scans after the first PD are ignored; PFS is the day of the first PD scan (event), else the
  last scan day (censored; day 0 if there is no follow-up scan). The reason of progression is
  ``"target"`` (the diameter criterion, also when a new lesion is seen at the same scan),
  ``"new_lesion"`` (a new lesion only) or ``""`` (no progression).
* Best overall response with ``confirm=True`` (RECIST 1.1 for trials with response as the
  primary endpoint): a CR scan is confirmed by any later scan at least ``confirm_after`` (28) days
  after it that is also CR -> CR; a CR or PR scan confirmed by a later such scan that is PR or CR
  -> PR (intervening scans need not be PR). Otherwise SD if some scan at day >= ``sd_min_day`` (42)
  is SD or better (an unconfirmed CR/PR falls back to SD this way); otherwise PD if a PD scan
  was seen; otherwise (no follow-up scan, or SD not yet reached by ``sd_min_day``) NE.
* With ``confirm=False`` the best time-point response counts directly, CR > PR > SD > PD, SD
  still needing a scan at day >= ``sd_min_day``. The ``recist`` endpoint
  (:mod:`thymosim.analysis.endpoints`) is this unconfirmed reading of the continuous time course
  (QSP-IO's ``responseStatus.m`` reads the time course the same way).

Extending the rules: add the field to :class:`Rules` and the check to :func:`timepoint`; every
caller goes through :func:`classify`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

_EPS = 1e-9


@dataclass(frozen=True)
class Rules:
    """RECIST thresholds [%, mm, days]; the defaults are RECIST 1.1 (:data:`RULES`)."""

    pr_change_pct: float = -30.0
    """PR: change of the diameter from baseline at or below this [%]."""
    pd_change_pct: float = 20.0
    """PD: growth over the nadir at or above this [%] ..."""
    pd_absolute_mm: float = 5.0
    """... and at least this many mm over the nadir [mm]."""
    cr_mm: float = 1.0
    """CR: diameter strictly below this [mm] (nothing left to image)."""
    confirm_after: float = 28.0
    """A CR/PR is confirmed by a later CR/PR scan at least this many days after it [days]."""
    sd_min_day: float = 42.0
    """SD counts as best response only from a scan on or after this day [days]."""

    def __post_init__(self) -> None:
        checks = {"pr_change_pct": -100.0 <= self.pr_change_pct < 0.0, "pd_change_pct": self.pd_change_pct > 0.0,
                  "pd_absolute_mm": self.pd_absolute_mm >= 0.0, "cr_mm": self.cr_mm >= 0.0,
                  "confirm_after": self.confirm_after >= 0.0, "sd_min_day": self.sd_min_day >= 0.0}
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"Rules.{name}: {getattr(self, name)!r} is not allowed (pr_change_pct in "
                                 "[-100, 0), pd_change_pct > 0, the others finite and >= 0)")


RULES = Rules()
"""RECIST 1.1 (Eisenhauer 2009): PR <= -30 %, PD >= +20 % and >= +5 mm over the nadir, CR < 1 mm,
confirmation >= 28 days, SD from day 42."""
PR_CHANGE_PCT = RULES.pr_change_pct
PD_CHANGE_PCT = RULES.pd_change_pct
PD_ABSOLUTE_MM = RULES.pd_absolute_mm
CR_MM = RULES.cr_mm
CONFIRM_AFTER_DAYS = RULES.confirm_after
SD_MIN_DAY = RULES.sd_min_day
CLASSES = ("CR", "PR", "SD", "PD", "NE")
"""Best overall responses, best first; NE = not evaluable."""
OBJECTIVE_RESPONSE = ("CR", "PR")
"""Best responses counted in the objective response rate (ORR)."""
DISEASE_CONTROL = ("CR", "PR", "SD")
"""Best responses counted in the disease control rate (DCR)."""
_RANK = {c: i for i, c in enumerate(CLASSES[:4])}


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


def target_progressed(diameter: float, nadir: float, rules: Rules = RULES) -> bool:
    """The diameter criterion of PD: >= ``pd_change_pct`` and >= ``pd_absolute_mm`` over the nadir [mm]."""
    growth = 1.0 + rules.pd_change_pct / 100.0
    return bool(diameter - growth * nadir >= -_EPS * nadir and diameter - nadir >= rules.pd_absolute_mm - _EPS)


def timepoint(change_from_baseline_pct: float, diameter: float, nadir: float, rules: Rules = RULES,
              new_lesion: bool = False) -> str:
    """Time-point response of one scan: PD if a new lesion is seen, then CR, PD, PR, SD (module
    docstring) [%, mm]."""
    if new_lesion:
        return "PD"
    if diameter < rules.cr_mm:
        return "CR"
    if target_progressed(diameter, nadir, rules):
        return "PD"
    return "PR" if change_from_baseline_pct <= rules.pr_change_pct + _EPS else "SD"


@dataclass(frozen=True)
class Response:
    """RECIST reading of one patient's scans."""

    best: str  # best overall response: CR, PR, SD, PD or NE
    best_change_pct: float  # most negative % change from baseline up to the first PD (NaN: no follow-up)
    pfs_day: float  # day of the first PD scan, else of the last scan [days]
    pfs_event: bool  # True: progression seen; False: censored at pfs_day
    confirmed: bool  # a CR/PR scan was confirmed by a later one (computed whatever ``confirm``)
    timepoints: tuple[str, ...]  # one per follow-up scan, up to the first PD
    progression: str = ""  # "target", "new_lesion" or "" (no progression seen)


def percent_change(days, diameters) -> np.ndarray:
    """Percent change of each diameter from the baseline one (days[0] = 0) [%]."""
    days, d = _checked(days, diameters)
    return 100.0 * (d / d[0] - 1.0)


def classify(days, diameters, confirm: bool = True, rules: Rules = RULES, new_lesion=None) -> Response:
    """RECIST best overall response and PFS of scans ``diameters`` [mm] at ``days`` [days, baseline
    day 0 first], with or without confirmation of CR/PR, under ``rules`` (default RECIST 1.1).
    ``new_lesion``: per scan, whether a new lesion is seen (default none; the baseline scan must be
    False: what is there at baseline is not new)."""
    days, d = _checked(days, diameters)
    seen = np.zeros(len(d), bool) if new_lesion is None else np.asarray(new_lesion, dtype=bool)
    if seen.shape != d.shape or seen[0]:
        raise ValueError(f"new_lesion must give one flag per scan ({len(d)}), False at baseline; got {seen.tolist()}")
    change = 100.0 * (d / d[0] - 1.0)
    nadirs = np.minimum.accumulate(d)  # nadirs[i - 1]: the smallest of the baseline and scans before scan i
    tps: list[str] = []
    reason = ""
    for i in range(1, len(d)):
        tps.append(timepoint(change[i], d[i], nadirs[i - 1], rules, bool(seen[i])))
        if tps[-1] == "PD":
            reason = "target" if target_progressed(d[i], nadirs[i - 1], rules) else "new_lesion"
            break
    t = days[1:len(tps) + 1]
    labels = np.array(tps, dtype=object)

    def confirmed(good: tuple[str, ...]) -> bool:
        """Some scan in ``good`` followed by another one in ``good`` at least ``confirm_after`` days later:
        the first and the last such scan are the farthest apart (O(n), whatever the number of scans)."""
        when = t[np.isin(labels, good)] if tps else t
        return bool(when.size >= 2 and when[-1] - when[0] >= rules.confirm_after - _EPS)

    cr = confirmed(("CR",))
    pr = confirmed(OBJECTIVE_RESPONSE)
    stable = any(x != "PD" and day >= rules.sd_min_day - _EPS for x, day in zip(tps, t, strict=True))
    best_unconfirmed = min(tps, key=_RANK.__getitem__, default="NE")
    if not confirm and best_unconfirmed in OBJECTIVE_RESPONSE:
        best = best_unconfirmed
    elif confirm and (cr or pr):
        best = "CR" if cr else "PR"
    else:
        best = "SD" if stable else ("PD" if "PD" in tps else "NE")
    progressed = bool(tps) and tps[-1] == "PD"
    return Response(best=best, best_change_pct=float(change[1:len(tps) + 1].min()) if tps else float("nan"),
                    pfs_day=float(t[-1] if tps else 0.0), pfs_event=progressed, confirmed=cr or pr,
                    timepoints=tuple(tps), progression=reason)


def classify_course(time, diameter, confirm: bool = False, rules: Rules = RULES) -> Response:
    """:func:`classify` of a simulated time course, every output time a scan, the first one the
    baseline (``time`` [days] is shifted to start at 0). Unconfirmed by default (the ``recist``
    endpoint); with ``confirm=True`` a response must last ``rules.confirm_after`` days."""
    time = np.asarray(time, dtype=float)
    return classify(time - (time[0] if time.size else 0.0), diameter, confirm, rules)


def with_rules(**changes: float) -> Rules:
    """:data:`RULES` with some thresholds changed (e.g. ``with_rules(sd_min_day=21)``)."""
    return replace(RULES, **changes)


def _checked(days, diameters) -> tuple[np.ndarray, np.ndarray]:
    days, d = np.asarray(days, dtype=float), np.asarray(diameters, dtype=float)
    if days.ndim != 1 or d.shape != days.shape or days.size == 0:
        raise ValueError(f"days and diameters must be 1-D, non-empty, same length; got {days.shape}, {d.shape}")
    if not np.all(np.isfinite(days)) or days[0] != 0.0 or np.any(np.diff(days) <= 0):
        raise ValueError("days must be finite, start at 0 (baseline) and increase strictly")
    if not np.all(np.isfinite(d)) or np.any(d < 0) or d[0] <= 0:
        raise ValueError("diameters must be finite and >= 0, the baseline one > 0 [mm]")
    return days, d
