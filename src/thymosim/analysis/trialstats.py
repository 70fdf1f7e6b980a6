"""Statistics of a two-arm trial read from virtual patients: exact confidence intervals of a
response rate, tests comparing two rates, Kaplan-Meier medians and the log-rank test (lifelines),
and the power of a finite trial drawn repeatedly from two large simulated arms.
Durations in days; rates as fractions."""

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


def _km(durations, events):
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter().fit(np.asarray(durations, dtype=float), np.asarray(events, dtype=bool))


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
