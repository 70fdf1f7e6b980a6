"""Calibrations: real fits of model parameters to published data, rerunnable.

``python -m thymosim.analysis.calibration`` (or ``thymosim calibrate``) prints each fit, its
residuals and what it fails to fit; with ``--write`` it writes the fitted values into
``models/parameters.tsv`` (evidence ``fitted``), the only place values live; then rebuild the
SBML (``thymosim calibrate --write`` does both). Targets: ``models/data/calibration_targets.toml``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from thymosim.tables import calibration_targets, write_values

_PK, _ETASS = calibration_targets()["ta1_pk"], calibration_targets()["etass"]
PK_TARGETS = {k: tuple(_PK[k]) for k in ("Cmax", "Tmax_h", "AUC0_12")}
"""Chinese BE study of Ta1 1.6 mg SC (mean, SD): Cmax [ug/L], Tmax [h], AUC0-12 [ug*h/L]."""
PK_N = _PK["n"]
PK_THALF_BOUNDS_H = tuple(_PK["thalf_bounds_h"])
TA1_DOSE_UG = _PK["dose_ug"]
DC_TARGETS = dict(zip(_ETASS["days"], _ETASS["hla_dr_shift"], strict=True))
"""ETASS (Wu 2013): monocyte HLA-DR improvement vs control [fraction points] by day, Ta1 1.6 mg q12h."""
ETASS_DOSING = {"amt_ug": _ETASS["dose_ug"], "ii_day": _ETASS["ii_day"], "n": _ETASS["n_doses"]}
"""ETASS Ta1 schedule up to day 7: 1.6 mg SC every 12 h from t = 0, 14 doses."""


def sc_concentration(t_h, ka_h, ke_h, v_l, dose_ug=TA1_DOSE_UG):
    """Closed-form one-compartment SC concentration [ug/L] at times ``t_h`` [h]."""
    t_h = np.asarray(t_h, float)
    return dose_ug * ka_h / (v_l * (ka_h - ke_h)) * (np.exp(-ke_h * t_h) - np.exp(-ka_h * t_h))


def pk_metrics(ka_h: float, ke_h: float, v_l: float) -> dict[str, float]:
    """Cmax [ug/L], Tmax [h], AUC0-12 [ug*h/L] and t1/2 [h] of one 1.6 mg SC dose."""
    tmax = np.log(ka_h / ke_h) / (ka_h - ke_h)
    scale = TA1_DOSE_UG * ka_h / (v_l * (ka_h - ke_h))
    auc12 = scale * ((1 - np.exp(-ke_h * 12)) / ke_h - (1 - np.exp(-ka_h * 12)) / ka_h)
    return {
        "Cmax": float(sc_concentration(tmax, ka_h, ke_h, v_l)),
        "Tmax_h": float(tmax),
        "AUC0_12": float(auc12),
        "thalf_h": float(np.log(2) / ke_h),
    }


def fit_ta1_pk() -> dict[str, float]:
    """Fit ka, ke, V to mean Cmax, Tmax, AUC0-12 (weights: standard errors of the means),
    with t1/2 constrained to the published range. Returns model-unit parameters."""
    names = list(PK_TARGETS)
    target = np.array([PK_TARGETS[k][0] for k in names])
    sem = np.array([PK_TARGETS[k][1] for k in names]) / np.sqrt(PK_N)

    def residuals(logp):
        got = pk_metrics(*np.exp(logp))
        return (np.array([got[k] for k in names]) - target) / sem

    lo = np.log([0.05, np.log(2) / PK_THALF_BOUNDS_H[1], 1.0])
    hi = np.log([20.0, np.log(2) / PK_THALF_BOUNDS_H[0], 100.0])
    fit = least_squares(residuals, np.log([1.2, 0.25, 13.0]), bounds=(lo, hi))
    ka_h, ke_h, v_l = np.exp(fit.x)
    return {
        "PK_ka": ka_h * 24.0,  # 1/day
        "PK_CL": ke_h * v_l * 24.0,  # L/day
        "PK_V": v_l,  # L
        **{f"fit_{k}": v for k, v in pk_metrics(ka_h, ke_h, v_l).items()},
        **{f"z_{k}": float(z) for k, z in zip(names, fit.fun, strict=True)},
    }


def dc_maturation_shift(e_dc: float, parameters: dict[str, float] | None = None, model=None) -> np.ndarray:
    """Model mature-DC fraction change (fraction points) at days 3 and 7 under 1.6 mg q12h, with
    other ``parameters`` overridden (e.g. a fresh PK fit) on ``model`` (default: thymosim)."""
    from thymosim.patient import Patient
    from thymosim.regimen import Dose, Regimen
    from thymosim.simulation import simulate

    regimen = Regimen((Dose("thymalfasin", ETASS_DOSING["amt_ug"], "ug", time=0, ii=ETASS_DOSING["ii_day"],
                            addl=ETASS_DOSING["n"] - 1),))
    patient = Patient(parameters={**(parameters or {}), "DC_E_NFkB": e_dc})
    df = simulate(patient, regimen, horizon=7, step=0.5, outputs=["mature_DC_fraction"],
                  model=model).set_index("time")["mature_DC_fraction"]
    return np.array([df[t] - df[0.0] for t in DC_TARGETS])


def fit_dc_maturation(pk: dict[str, float] | None = None, model=None) -> dict[str, float]:
    """Fit the NF-kB drive of DC maturation (DC_E_NFkB) to the ETASS mHLA-DR shifts, given the
    Ta1 PK values ``pk`` (default: the model's)."""
    pk = {k: v for k, v in (pk or {}).items() if k in ("PK_ka", "PK_CL", "PK_V")}
    target = np.array(list(DC_TARGETS.values()))
    fit = least_squares(lambda p: dc_maturation_shift(np.exp(p[0]), pk, model) - target, [np.log(0.3)])
    pred = dc_maturation_shift(float(np.exp(fit.x[0])), pk, model)
    return {"DC_E_NFkB": float(np.exp(fit.x[0])), "day3": pred[0], "day7": pred[1]}


FITTED = ("PK_ka", "PK_CL", "PK_V", "DC_E_NFkB")
"""Table rows the PK and DC calibrations write."""
KILL_FITS = {"vnr_cis_orr": ("CHEMO_k_tum_cis", "CHEMO_k_tum_vnr"), "prag_orr": ("RT_alpha_tumour",)}
"""Population fits: train response-rate target -> the kill parameters scaled (by one factor) to meet it."""
KILL_POPULATION = 300
"""Selected plausible virtual patients (seed 0) on which the kill fits run."""


def round_to_table(value: float, digits: int = 4) -> float:
    """A value as the table stores it (``digits`` significant digits)."""
    return float(f"{value:.{digits}g}")


def calibrate(write: bool = False, directory=None, clinical: bool = True, workers: int = 1,
              writer: Callable[[dict[str, float], Any], Any] | None = None) -> dict[str, float]:
    """Run every fit, print it; with ``write``, write the fitted values into parameters.tsv
    (of ``directory``, default the package's models/) with ``writer(values, directory)`` (default
    :func:`~thymosim.tables.write_values`, the table only; ``thymosim calibrate --write`` passes one
    that rewrites table, SBML and flat Antimony as one set). ``clinical``: also the fits to the
    clinical train targets (Ta1 immune effect with profiles, then the population kill fits; minutes).
    Returns all fitted quantities."""
    from thymosim.model import default_model

    model = default_model() if directory is None else default_model().with_sbml(Path(directory) / "thymosim.xml")
    pk = fit_ta1_pk()
    print("Ta1 PK fit (closed form, 1.6 mg SC):")
    for key, value in pk.items():
        print(f"  {key:12s} {value:10.4g}")
    dc = fit_dc_maturation({k: round_to_table(v) for k, v in pk.items()}, model)  # the PK values the table will hold
    print("DC maturation fit (ETASS mHLA-DR +3.9 / +5.8 points at day 3 / 7):")
    for key, value in dc.items():
        print(f"  {key:12s} {value:10.4g}")
    fitted = pk | dc
    names = list(FITTED)
    if clinical:
        clinical_values = calibrate_clinical(model, workers)
        fitted |= clinical_values
        names += list(clinical_values)
    if write:
        if writer is not None:
            writer({k: fitted[k] for k in names}, directory)
            print(f"wrote {', '.join(names)} to parameters.tsv and rebuilt the SBML")
        else:
            path = write_values({k: fitted[k] for k in names}, directory)
            print(f"wrote {', '.join(names)} to {path}; rebuild the SBML: python -m thymosim.sbml.build")
    return fitted


def calibrate_clinical(model, workers: int = 1) -> dict[str, float]:
    """The fits to ``models/data/clinical_targets.tsv`` (train rows), printed: the Ta1 immune
    effect (multi-start, profile-likelihood intervals, identifiability), then each population kill
    fit on the immune-fitted model. Returns the fitted parameter values."""
    import sys
    import time

    from thymosim.analysis.clinical_fit import fit_immune, fit_kill, fit_new_lesion, fixed, interval, profile
    from thymosim.analysis.population import virtual_population

    start = time.perf_counter()

    def stage(text: str) -> None:  # a sign of life on stderr for a run of minutes
        print(f"[{time.perf_counter() - start:6.0f} s] {text}", file=sys.stderr, flush=True)

    stage("Ta1 immune effect: 6 starts")
    immune = fit_immune(model=model)
    print("Ta1 immune effect (train count targets; least squares from 6 starts in log space):")
    print(immune.starts.to_string(index=False, float_format="%.4g"))
    print(immune.table.to_string(float_format="%.4g"))
    print(f"  {'parameter':14s} {'value':>9s} {'95% profile interval':>24s}  identifiability")
    for name, value in immune.values.items():
        stage(f"profile likelihood of {name}")
        lo, hi, verdict = interval(profile(immune, name, model=model))
        print(f"  {name:14s} {value:9.4g} {f'[{lo:.4g}, {hi:.4g}]':>24s}  {verdict}")
    values = {k: round_to_table(v) for k, v in immune.values.items()}
    tuned = fixed(model, values)
    stage(f"virtual population of {KILL_POPULATION}")
    population = virtual_population(KILL_POPULATION, seed=0, workers=workers, model=tuned)
    stage("new-lesion hazard fit to vnr_cis_dcr and vnr_cis_pfs")
    lesions = fit_new_lesion(population, workers=workers, model=tuned)
    print("New-lesion hazard (train DCR and median PFS of one arm; grid of factors on TUM_k_new, then a bounded "
          "search; the arm simulated once):")
    print(lesions.grid.to_string(index=False, float_format="%.4g"))
    print(lesions.table.to_string(float_format="%.4g"))
    print(f"  TUM_k_new {lesions.k_new:.4g} /day: DCR {lesions.dcr:.1f} %, median PFS {lesions.median_pfs:.0f} days")
    values["TUM_k_new"] = round_to_table(lesions.k_new)
    tuned = fixed(model, values)
    for target, names in KILL_FITS.items():
        stage(f"population kill fit to {target}")
        kill = fit_kill(target, names, population, workers=workers, model=tuned)
        print(f"{target}: factor {kill.factor:.4g} [{kill.factor_lo:.4g}, {kill.factor_hi:.4g}] on {', '.join(names)} "
              f"gives {kill.model_rate:.1f} % (published {kill.published:.1f} %, exact 95 % "
              f"{kill.published_lo:.1f}-{kill.published_hi:.1f} %; {KILL_POPULATION} virtual patients)")
        values |= {k: round_to_table(v) for k, v in kill.values.items()}
        tuned = fixed(model, values)
    return values


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m thymosim.analysis.calibration", description=__doc__)
    parser.add_argument("--write", action="store_true", help="write the fitted values into models/parameters.tsv")
    parser.add_argument("--no-clinical", action="store_true", help="only the PK and DC fits (seconds)")
    parser.add_argument("--workers", type=int, default=1, help="local processes for the population fits")
    args = parser.parse_args(argv)
    calibrate(args.write, clinical=not args.no_clinical, workers=args.workers)


if __name__ == "__main__":
    main()
