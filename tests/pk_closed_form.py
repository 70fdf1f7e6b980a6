"""The one closed form of the thymalfasin SC PK in the tests: a one-compartment model with
first-order absorption (ka) and elimination (ke = CL/V), written here independently of the model's
Antimony module and of the package, so that tests can hold the simulated model against it.

Times in days unless a name says ``_h``; amounts in ug; volumes in L; concentrations in ug/L (= ng/mL).
Every function accepts complex parameters (complex-step derivatives)."""

import numpy as np
from scipy.optimize import minimize_scalar

from thymosim.tables import load_parameter_table


def table_pk() -> tuple[float, float, float, float]:
    """ka [1/day], ke [1/day], V [L] and the endogenous level C_endo [ng/mL] from models/parameters.tsv."""
    value = load_parameter_table().value
    return (float(value["PK_ka"]), float(value["PK_CL"] / value["PK_V"]), float(value["PK_V"]),
            float(value["PK_C_endo"]))


def conc(t, doses, ka, ke, v):
    """Exogenous plasma Ta1 [ng/mL] at times ``t`` [day]: superposition of SC doses ``(amount ug, time day)``."""
    t = np.atleast_1d(np.asarray(t, float))
    c = np.zeros(t.shape, dtype=np.result_type(ka, ke, v, float))
    for amount, t0 in doses:
        dt = np.clip(t - t0, 0, None)
        c = c + amount * ka / (v * (ka - ke)) * (np.exp(-ke * dt) - np.exp(-ka * dt))
    return c


def ss_trough(amount, tau, ka, ke, v):
    """Steady-state trough [ng/mL] of ``amount`` ug every ``tau`` days."""
    return amount * ka / (v * (ka - ke)) * (np.exp(-ke * tau) / (1 - np.exp(-ke * tau))
                                            - np.exp(-ka * tau) / (1 - np.exp(-ka * tau)))


def cmax_after(doses, start, ka, ke, v, window=0.5):
    """Largest exogenous concentration [ng/mL] in ``[start, start + window]`` days (numerical maximum)."""
    res = minimize_scalar(lambda t: -conc(t, doses, ka, ke, v)[0], bounds=(start, start + window),
                          method="bounded", options={"xatol": 1e-10})
    return float(-res.fun)


def single_dose_metrics(dose_ug, ka_h, ke_h, v):
    """Cmax [ng/mL], Tmax [h], AUC0-12 [ng*h/mL] and t1/2 [h] of one SC dose (rates per hour), analytically."""
    tmax = np.log(ka_h / ke_h) / (ka_h - ke_h)
    scale = dose_ug * ka_h / (v * (ka_h - ke_h))
    return {"Cmax": float(scale * (np.exp(-ke_h * tmax) - np.exp(-ka_h * tmax))), "Tmax_h": float(tmax),
            "AUC0_12": float(scale * ((1 - np.exp(-ke_h * 12)) / ke_h - (1 - np.exp(-ka_h * 12)) / ka_h)),
            "thalf_h": float(np.log(2) / ke_h)}
