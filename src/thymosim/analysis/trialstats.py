"""Statistics of a two-arm trial read from virtual patients: exact confidence intervals of a
response rate, tests comparing two rates, Kaplan-Meier medians and landmark rates with confidence
intervals, the log-rank test and Cox hazard ratios (lifelines), and the power of a finite trial
drawn repeatedly from two large simulated arms. Durations in days; rates as fractions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided CI of a binomial proportion, ``k`` successes of ``n``."""
    if n <= 0:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, n={n}], got {k}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    a = (1.0 - level) / 2.0
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1.0 - a, k + 1, n - k))
    return lo, hi


def compare_rates(k1: int, n1: int, k2: int, n2: int) -> dict[str, float]:
    """Compare responders ``k1``/``n1`` with ``k2``/``n2``: two-sided Fisher exact p, chi-squared p
    with Yates' correction (NaN if an expected count is 0) and the sample odds ratio (may be inf/NaN)."""
    for name, k, n in (("1", k1, n1), ("2", k2, n2)):
        if n <= 0 or not 0 <= k <= n:
            raise ValueError(f"arm {name}: need n >= 1 and 0 <= k <= n, got k={k}, n={n}")
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    fisher = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    chi2 = float("nan") if np.any(expected == 0) else float(stats.chi2_contingency(table, correction=True).pvalue)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.float64(table[0, 0] * table[1, 1]) / np.float64(table[0, 1] * table[1, 0])
    return {"fisher_p": fisher, "chi2_p": chi2, "odds_ratio": float(odds)}


def _km(durations, events, level: float = 0.95):
    from lifelines import KaplanMeierFitter

    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    d, e = np.asarray(durations, dtype=float), np.asarray(events, dtype=bool)
    if d.size == 0 or d.size != e.size or not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError(f"durations must be finite, >= 0 and as many as events; got {d.size} durations, "
                         f"{e.size} events")
    return KaplanMeierFitter(alpha=1.0 - level).fit(d, e)


def km_median_ci(durations, events, level: float = 0.95) -> tuple[float, float, float]:
    """Kaplan-Meier median [days] and its ``level`` confidence interval (Brookmeyer-Crowley style:
    the times where the pointwise log(-log) interval of the curve crosses 0.5, as lifelines gives
    it); inf where a curve never falls to 0.5."""
    from lifelines.utils import median_survival_times

    km = _km(durations, events, level)
    ci = median_survival_times(km.confidence_interval_).to_numpy(dtype=float).ravel()
    return float(km.median_survival_time_), float(ci[0]), float(ci[1])


def landmark(durations, events, day: float, level: float = 0.95) -> tuple[float, float, float]:
    """Kaplan-Meier survival at ``day`` [fraction] with its pointwise ``level`` interval
    (exponential Greenwood, log(-log)); NaN beyond the longest follow-up (not estimable)."""
    km = _km(durations, events, level)
    if day > float(np.max(np.asarray(durations, dtype=float))):
        return float("nan"), float("nan"), float("nan")
    s = float(km.survival_function_at_times(day).iloc[0])
    ci = km.confidence_interval_survival_function_
    row = ci[ci.index <= day].iloc[-1].to_numpy(dtype=float)
    return s, float(row[0]), float(row[1])


def hazard_ratio(d_treat, e_treat, d_control, e_control, level: float = 0.95) -> dict[str, float]:
    """Cox proportional-hazards ratio of a treatment arm against a control arm (lifelines
    CoxPHFitter, Efron ties): ``hr``, ``lo``, ``hi`` (``level`` Wald interval) and ``p`` (Wald);
    all NaN where it is not estimable (an arm without events) or cannot be fitted."""
    from lifelines import CoxPHFitter

    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    frame = pd.DataFrame({"T": np.concatenate([np.asarray(d_treat, float), np.asarray(d_control, float)]),
                          "E": np.concatenate([np.asarray(e_treat, bool), np.asarray(e_control, bool)]),
                          "treated": np.r_[np.ones(len(d_treat)), np.zeros(len(d_control))]})
    nan = {"hr": float("nan"), "lo": float("nan"), "hi": float("nan"), "p": float("nan")}
    if not (frame.E[frame.treated == 1].any() and frame.E[frame.treated == 0].any()):
        return nan
    try:
        cox = CoxPHFitter(alpha=1.0 - level).fit(frame, "T", "E")
    except Exception:  # lifelines raises ConvergenceError (and others) on separable data
        return nan
    lo, hi = np.exp(cox.confidence_intervals_.loc["treated"].to_numpy(dtype=float))
    return {"hr": float(np.exp(cox.params_["treated"])), "lo": float(lo), "hi": float(hi),
            "p": float(cox.summary.loc["treated", "p"])}


def km_median(durations, events) -> float:
    """Kaplan-Meier median survival [days]; inf if the curve never falls to 0.5."""
    return float(_km(durations, events).median_survival_time_)


def km_table(durations, events) -> pd.DataFrame:
    """Kaplan-Meier curve: columns ``time`` [days], ``survival``, ``at_risk`` (at the start of each time)."""
    km = _km(durations, events)
    return pd.DataFrame({"time": km.survival_function_.index.to_numpy(dtype=float),
                         "survival": km.survival_function_.iloc[:, 0].to_numpy(),
                         "at_risk": km.event_table["at_risk"].to_numpy()})


def logrank(d1, e1, d2, e2) -> float:
    """Two-sided log-rank p-value comparing durations ``d1`` (events ``e1``) with ``d2`` (``e2``)."""
    from lifelines.statistics import logrank_test

    return float(logrank_test(d1, d2, event_observed_A=e1, event_observed_B=e2).p_value)


def repeated_trials(resp_a, resp_b, n_per_arm: int, n_trials: int = 1000, seed: int = 0,
                    alpha: float = 0.05) -> dict[str, float]:
    """Power of a trial of ``n_per_arm`` patients per arm: each of ``n_trials`` trials draws with
    replacement from the responder flags ``resp_a``/``resp_b`` of two large simulated arms and is
    tested with Fisher's exact test; ``power`` is the fraction with p < ``alpha``."""
    a, b = np.asarray(resp_a, dtype=bool).ravel(), np.asarray(resp_b, dtype=bool).ravel()
    if a.size == 0 or b.size == 0:
        raise ValueError("resp_a and resp_b must be non-empty")
    if n_per_arm < 1 or n_trials < 1:
        raise ValueError(f"n_per_arm and n_trials must be >= 1, got {n_per_arm}, {n_trials}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    rng = np.random.default_rng(seed)
    ka = rng.choice(a, size=(n_trials, n_per_arm), replace=True).sum(axis=1)
    kb = rng.choice(b, size=(n_trials, n_per_arm), replace=True).sum(axis=1)
    pairs, index = np.unique(np.column_stack([ka, kb]), axis=0, return_inverse=True)
    p = np.array([stats.fisher_exact([[x, n_per_arm - x], [y, n_per_arm - y]]).pvalue for x, y in pairs])
    p = p[index.ravel()]  # one Fisher test per distinct (k_a, k_b)
    return {"n_per_arm": n_per_arm, "n_trials": n_trials, "power": float(np.mean(p < alpha)),
            "median_orr_a": float(np.median(ka) / n_per_arm), "median_orr_b": float(np.median(kb) / n_per_arm)}
