"""Overall survival (OS) of virtual patients, linked statistically to their simulated tumour.

The link is a published tumour-growth-inhibition -> OS model for NSCLC (Struemper et al., CPT
Pharmacometrics Syst Pharmacol 2025;14:1006; coefficients and sources in
``models/data/survival.tsv``, the paper's worked example in ``models/data/survival_examples.tsv``):

1. each patient's scans (tumour diameter [mm] at the trial's scan days, up to the first scan that
   reads progression) are summarised by the bi-exponential Stein model
   ``TS(t) = TSb (exp(kg t) + exp(-ks t) - 1)`` [t in weeks]: growth rate ``kg`` and shrinkage
   rate ``ks`` [1/week] are the maximum a posteriori estimates under the paper's population prior
   and residual error (as the paper's individual estimates were), ``TSb`` is the baseline
   diameter; time to tumour growth ``TTG = max(0, ln(ks/kg) / (kg + ks))`` [weeks];
2. ``log T = mu + sigma z`` [T in days], ``z ~ N(0, 1)`` (log-normal accelerated failure time),
   ``mu`` a sum of an Emax term in ``kg``, linear terms in ``TSb`` and ``TTG`` and baseline
   laboratory terms. No treatment term: a treatment (thymalfasin included) changes survival only
   through the tumour trajectory the mechanistic model gives it.

``z`` is drawn per patient from the trial seed and the patient id (reproducible, independent of
workers and of arm). Deaths after the follow-up horizon are censored there. What the model implies
after progression: death depends on the tumour kinetics up to progression and on ``z`` only, so
post-progression survival is ``OS - PFS`` of each patient (reported as a Kaplan-Meier median by
:func:`thymosim.analysis.trial.summarise`); nothing in it depends on therapy given after
progression.

This module holds a statistical link (a regression of survival on tumour metrics), no rate law.
Days everywhere except where stated (the model's own rates are per week).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from thymosim.model import model_dir

DAYS_PER_WEEK = 7.0
SCAN_COLUMN = re.compile(r"^at:tumour_diameter@(?P<day>[0-9.eE+-]+)$")
COEFFICIENTS = ("mu_int", "log_sigma", "emax_kg", "ec50_kg", "b_tsb", "ref_tsb", "b_ttg", "ref_ttg", "b_alb",
                "ref_alb", "b_tpro", "ref_tpro", "b_nlr", "ref_nlr", "alb", "tpro", "nlr", "prior_kg", "prior_ks",
                "omega2_kg", "omega2_ks", "omega_kg_ks", "sigma2_add", "sigma2_prop", "days_per_month")
SEED_TAG = 0x05  # separates the OS residual stream from other draws made from the same trial seed


@dataclass(frozen=True)
class SurvivalModel:
    """Coefficients of the OS model (ids and units as in ``models/data/survival.tsv``)."""

    c: dict[str, float]

    @property
    def sigma(self) -> float:
        """SD of log survival time [log day]."""
        return math.exp(self.c["log_sigma"])

    @property
    def prior_precision(self) -> np.ndarray:
        """Inverse of the between-patient covariance of (log kg, log ks)."""
        c = self.c
        return np.linalg.inv(np.array([[c["omega2_kg"], c["omega_kg_ks"]], [c["omega_kg_ks"], c["omega2_ks"]]]))


@functools.cache
def _load(path: str) -> SurvivalModel:
    table = pd.read_csv(path, sep="\t", comment="#")
    for column in ("id", "value", "unit", "source"):
        if column not in table:
            raise ValueError(f"{path}: column {column!r} missing; required: id, value, unit, source")
    missing = sorted(set(COEFFICIENTS) - set(table.id))
    if missing:
        raise ValueError(f"{path}: row(s) {missing} missing; required ids: {', '.join(COEFFICIENTS)}")
    unsourced = sorted(table.id[table.source.isna() | (table.source.astype(str).str.strip() == "")])
    if unsourced:
        raise ValueError(f"{path}: row(s) {unsourced} have no source")
    return SurvivalModel({r.id: float(r.value) for r in table.itertuples()})


def load_model(directory: Path | None = None) -> SurvivalModel:
    """The OS model of ``models/data/survival.tsv`` (or of another models/ ``directory``)."""
    return _load(str((directory or model_dir()) / "data" / "survival.tsv"))


def load_examples(directory: Path | None = None) -> pd.DataFrame:
    """The source paper's worked example predictions, ``models/data/survival_examples.tsv``."""
    return pd.read_csv((directory or model_dir()) / "data" / "survival_examples.tsv", sep="\t", comment="#")


def time_to_growth(kg, ks):
    """Time at which the Stein curve stops shrinking, ``max(0, ln(ks/kg) / (kg + ks))`` [weeks]
    for rates ``kg``, ``ks`` [1/week]."""
    kg, ks = np.asarray(kg, dtype=float), np.asarray(ks, dtype=float)
    return np.maximum(0.0, np.log(ks / kg) / (kg + ks))


def mu_os(kg, ks, tsb, model: SurvivalModel | None = None, alb=None, tpro=None, nlr=None):
    """Location of log survival time [log day] for growth/shrinkage rates ``kg``, ``ks`` [1/week],
    baseline tumour size ``tsb`` [mm] and baseline albumin/total protein [g/L] and NLR (default:
    the values of ``survival.tsv``)."""
    m = model or load_model()
    c = m.c
    kg, ks, tsb = (np.asarray(x, dtype=float) for x in (kg, ks, tsb))
    alb, tpro, nlr = (c[k] if v is None else np.asarray(v, dtype=float)
                      for k, v in (("alb", alb), ("tpro", tpro), ("nlr", nlr)))
    return (c["mu_int"] + c["emax_kg"] * kg / (kg + c["ec50_kg"]) + c["b_tsb"] * (tsb - c["ref_tsb"])
            + c["b_ttg"] * (time_to_growth(kg, ks) - c["ref_ttg"]) + c["b_alb"] * (alb - c["ref_alb"])
            + c["b_tpro"] * (tpro - c["ref_tpro"]) + c["b_nlr"] * (nlr - c["ref_nlr"]))


def median_os_days(kg, ks, tsb, model: SurvivalModel | None = None, **covariates):
    """Median survival [days] of a patient: ``exp(mu)`` (the median of a log-normal)."""
    return np.exp(mu_os(kg, ks, tsb, model, **covariates))


def stein(weeks, tsb: float, kg: float, ks: float):
    """Stein bi-exponential tumour size [mm] at ``weeks``; the summary the OS model reads."""
    t = np.asarray(weeks, dtype=float)
    return tsb * (np.exp(kg * t) + np.exp(-ks * t) - 1.0)


_LEVELS = [(10, 0.5)] + [(5, 0.5 / 5**k) for k in range(1, 6)]
"""Nested search grids of the MAP fit in (log kg, log ks) around the prior typical values, as
(half-width in steps, step): +-5 in steps of 0.5, then +-one step of the level before in 10 steps
(to 0.00016 in log rate)."""
_CHUNK = 64  # patients fitted at once (memory: chunk x 441 grid points x scans)


def _fit_batch(weeks: np.ndarray, y: np.ndarray, use: np.ndarray, tsb: np.ndarray, m: SurvivalModel) -> np.ndarray:
    """MAP (log kg, log ks) offsets from the prior typical values [n, 2] of ``n`` patients:
    diameters ``y`` [n, scans] at ``weeks`` [scans] (after baseline) where ``use``, baselines
    ``tsb`` [n]. -2 log posterior: the paper's combined residual error plus its prior on the
    between-patient deviation."""
    c = m.c
    n = len(tsb)
    y = np.where(use, y, 0.0)[:, None, None, :]
    mask = use[:, None, None, :]
    eta = np.zeros((n, 2))
    for half, step in _LEVELS:
        axis = step * np.arange(-half, half + 1)
        e0, e1 = eta[:, 0:1] + axis, eta[:, 1:2] + axis  # [n, g]
        with np.errstate(over="ignore", invalid="ignore"):
            grow = np.exp(np.minimum(c["prior_kg"] * np.exp(e0)[..., None] * weeks, 50.0))  # [n, g, scans]
            shrink = np.exp(-c["prior_ks"] * np.exp(e1)[..., None] * weeks)
            pred = tsb[:, None, None, None] * (grow[:, :, None, :] + shrink[:, None, :, :] - 1.0)
            var = c["sigma2_add"] + c["sigma2_prop"] * pred**2
            fit = np.sum(np.where(mask, (y - pred) ** 2 / var + np.log(var), 0.0), axis=-1)  # [n, g, g]
        p = m.prior_precision
        prior = (p[0, 0] * e0[:, :, None] ** 2 + 2 * p[0, 1] * e0[:, :, None] * e1[:, None, :]
                 + p[1, 1] * e1[:, None, :] ** 2)
        objective = (np.where(np.isfinite(fit), fit, np.inf) + prior).reshape(n, -1)
        i, j = np.unravel_index(np.argmin(objective, axis=1), (axis.size, axis.size))
        eta = np.column_stack([e0[np.arange(n), i], e1[np.arange(n), j]])
    return eta


def fit_kinetics(days: Sequence[float], diameters: Sequence[float],
                 model: SurvivalModel | None = None) -> tuple[float, float]:
    """Growth and shrinkage rates ``(kg, ks)`` [1/week] of one patient: the maximum a posteriori
    Stein fit to ``diameters`` [mm] at ``days`` (the first day is the baseline, whose diameter is
    ``TSb``; later ones are the data). Nested grid search (deterministic, no local optimiser)."""
    m = model or load_model()
    t, y = np.asarray(days, dtype=float), np.asarray(diameters, dtype=float)
    if t.size < 2 or t[0] != 0.0:
        raise ValueError(f"fit_kinetics needs a baseline scan at day 0 and at least one later scan, got days {t}")
    if not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise ValueError(f"fit_kinetics needs finite positive diameters, got {y}")
    eta = _fit_batch(t[1:] / DAYS_PER_WEEK, y[None, 1:], np.ones((1, t.size - 1), bool), y[:1], m)[0]
    return float(m.c["prior_kg"] * math.exp(eta[0])), float(m.c["prior_ks"] * math.exp(eta[1]))


def residual(seed: int, patient: int) -> float:
    """The standard normal residual ``z`` of one patient, from the trial ``seed`` and the patient id."""
    return float(np.random.default_rng(np.random.SeedSequence([int(seed), int(patient), SEED_TAG])).standard_normal())


def scan_columns(patients: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Scan days [sorted] and the ``at:tumour_diameter@DAY`` columns of a trial's patient table."""
    found = sorted((float(mt["day"]), col) for col in patients.columns if (mt := SCAN_COLUMN.match(str(col))))
    if not found or found[0][0] != 0.0:
        raise ValueError("overall survival needs the scans 'at:tumour_diameter@DAY' with a baseline at day 0; "
                         f"columns found: {[c for _, c in found]}")
    return np.array([d for d, _ in found]), [c for _, c in found]


def overall_survival(patients: pd.DataFrame, horizon: float, seed: int,
                     model: SurvivalModel | None = None) -> pd.DataFrame:
    """OS of each patient of one arm (rows as in ``patients``; columns ``os_kg``, ``os_ks``
    [1/week], ``os_ttg`` [weeks], ``os_median_day`` [the patient's predicted median, days],
    ``os_day`` [days, censored at ``horizon``], ``os_event`` [death seen within follow-up]).

    Scans are read up to the first one that reads progression: ``first_pd_day`` when the table has
    it, else ``pfs_day`` where ``pfs_event``. A patient without finite scans (failed simulation)
    gets NaN and no event. The patient id is ``vp`` (else the row number)."""
    if not horizon > 0:
        raise ValueError(f"horizon must be > 0 days, got {horizon!r}")
    m = model or load_model()
    days, columns = scan_columns(patients)
    scans = patients[columns].to_numpy(float)
    if "first_pd_day" in patients:
        pd_day = patients["first_pd_day"].to_numpy(float)
    elif "pfs_day" in patients and "pfs_event" in patients:
        pd_day = np.where(patients["pfs_event"].fillna(False).astype(bool), patients["pfs_day"].to_numpy(float),
                          np.nan)
    else:
        pd_day = np.full(len(patients), np.nan)
    ids = patients["vp"].to_numpy() if "vp" in patients else np.arange(len(patients))
    use = days[None, :] <= np.where(np.isfinite(pd_day), pd_day, np.inf)[:, None]
    ok = np.all(np.isfinite(scans) | ~use, axis=1) & (use.sum(axis=1) >= 2) & np.all((scans > 0) | ~use, axis=1)
    eta = np.full((len(patients), 2), np.nan)
    index = np.flatnonzero(ok)
    for start in range(0, index.size, _CHUNK):
        chunk = index[start:start + _CHUNK]
        eta[chunk] = _fit_batch(days[1:] / DAYS_PER_WEEK, scans[chunk, 1:], use[chunk, 1:], scans[chunk, 0], m)
    kg, ks = m.c["prior_kg"] * np.exp(eta[:, 0]), m.c["prior_ks"] * np.exp(eta[:, 1])
    mu = mu_os(kg, ks, scans[:, 0], m)
    z = np.array([residual(seed, vp) if good else np.nan for vp, good in zip(ids, ok, strict=True)])
    death = np.exp(mu + m.sigma * z)
    return pd.DataFrame({"os_kg": kg, "os_ks": ks, "os_ttg": np.where(ok, time_to_growth(kg, ks), np.nan),
                         "os_median_day": np.exp(mu), "os_day": np.minimum(death, float(horizon)),
                         "os_event": ok & (death <= horizon)}, index=patients.index)


def progression_or_death(ttp_day, ttp_event, os_day, os_event) -> tuple[np.ndarray, np.ndarray]:
    """PFS with death as a competing event: the earlier of progression (``ttp_day`` where
    ``ttp_event``) and death (``os_day`` where ``os_event``); censored at ``ttp_day`` otherwise
    (NaN stays NaN). Returns (day, event)."""
    t, e = np.asarray(ttp_day, dtype=float), np.asarray(ttp_event, dtype=bool)
    d, de = np.asarray(os_day, dtype=float), np.asarray(os_event, dtype=bool)
    death_first = de & np.isfinite(d) & (~e | (d < t))
    return np.where(death_first, d, t), e | death_first
