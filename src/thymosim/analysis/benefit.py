"""Who benefits: which baseline quantities of a virtual patient predict its individual treatment
effect in a paired trial (:mod:`~thymosim.analysis.paired`).

Two kinds of covariates are ranked separately:

- **biomarkers**: what a clinician can measure before treatment (:data:`BIOMARKERS`: blood counts
  at day 0, the baseline tumour diameter, the CD4/CD8 ratio) — candidates for selecting patients;
- **mechanisms**: the model parameters sampled per patient (``models/population.tsv``) that are
  not themselves baseline measurements — they explain the effect, nobody can measure them.

Methods, each on the evaluable patients of one arm against the control:

- partial rank correlation (PRCC) of each covariate with the continuous benefit score, given the
  other covariates of its kind, with a Fisher z interval (:func:`prcc`; Marino S et al., J Theor
  Biol 2008;254:178, doi:10.1016/j.jtbi.2008.04.011);
- a shallow classification tree and a logistic model of the binary benefit label, each with a
  cross-validated (stratified k-fold, out-of-fold predictions) ROC AUC and its interval
  (:func:`auc_ci`, Hanley JA, McNeil BJ, Radiology 1982;143:29, doi:10.1148/radiology.143.1.7063747);
- a one-biomarker threshold rule per covariate: the cut-off maximising Youden's J (sensitivity +
  specificity - 1) with its sensitivity and specificity (:func:`threshold_rule`).

The benefit score is oriented so that larger means more benefit (:data:`SCORES`). Counts cells/uL,
diameters mm, best change in percentage points, survival in days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

BIOMARKERS = {"at:CD3@0": "CD3", "at:CD4@0": "CD4", "at:CD8@0": "CD8", "at:NK@0": "NK",
              "at:tumour_diameter@0": "tumour diameter", "CD4/CD8": "CD4/CD8 ratio", "AGE": "age"}
"""Clinician-measurable baseline covariates: column of a paired run's patient table -> name
(counts cells/uL at day 0, diameter mm, age years; the CD4/CD8 ratio is derived)."""
BASELINE_PARAMETERS = ("CD3_0", "CD4_0", "CD8_0", "NK_0", "D_0", "AGE")
"""Sampled parameters that are baseline measurements (counted among the biomarkers, not the mechanisms)."""
PRCC_BIOMARKERS = ("at:CD4@0", "at:CD8@0", "at:NK@0", "at:tumour_diameter@0", "AGE")
"""Biomarkers entering the PRCC together: CD3 and the CD4/CD8 ratio are functions of CD4 and CD8 in
the virtual population (CD3 follows CD4 + CD8), so partialling on all of them would be degenerate;
they get their univariate rank correlation instead."""
SCORES = {"d_best_change": -1.0, "d_pfs_day": 1.0, "d_os_day": 1.0, "response_effect": 1.0}
"""Effect column -> sign making it a benefit score (larger: more benefit; less tumour shrinkage is harm)."""
MIN_CLASS = 5
"""Fewest patients with and without benefit the analysis accepts (cross-validated AUCs and their
intervals mean little below it)."""
LABELS = ("pfs", "os", "response", "best_change")
"""Binary benefit labels: ``pfs`` / ``os`` (progression-free / overall survival longer on the arm
than on the control, within the common follow-up), ``response`` (responds only on the arm),
``best_change`` (best change lower on the arm than on the control by more than the margin)."""


@dataclass(frozen=True)
class Benefit:
    """The analysis of one arm against its control."""

    patients: pd.DataFrame
    """One row per evaluable patient: ``vp``, covariates, ``score``, ``label``, and the out-of-fold
    probabilities of each model (``p:tree:biomarker`` ...)."""
    ranking: pd.DataFrame
    """One row per covariate (:func:`rank_covariates`)."""
    models: pd.DataFrame
    """One row per model and covariate kind: AUC with interval, positives, n, and the tree's rules."""
    arm: str
    control: str
    effect: str
    label: str


def prcc(x: pd.DataFrame, y: npt.ArrayLike, level: float = 0.95) -> pd.DataFrame:
    """Partial rank correlation of each column of ``x`` with ``y`` given the other columns: the
    correlation of the residuals of the ranks of the column and of ``y``, each regressed linearly
    (with intercept) on the ranks of the other columns. Interval and p from Fisher's z with
    ``n - 3 - (k - 1)`` degrees of freedom (``k`` columns). Returns ``covariate``, ``prcc``,
    ``prcc_lo``, ``prcc_hi``, ``prcc_p``."""
    y = np.asarray(y, dtype=float)
    n, k = x.shape
    if n != y.size:
        raise ValueError(f"prcc: {n} rows of covariates but {y.size} outcomes")
    if n - k - 2 < 1:
        raise ValueError(f"prcc needs more patients than covariates + 2, got {n} patients and {k} covariates")
    ranks = np.column_stack([stats.rankdata(x[c]) for c in x.columns])
    ry = stats.rankdata(y)
    rows = []
    z_crit = stats.norm.ppf(0.5 + level / 2)
    for j, name in enumerate(x.columns):
        others = np.column_stack([np.ones(n), np.delete(ranks, j, axis=1)])
        rx = ranks[:, j] - others @ np.linalg.lstsq(others, ranks[:, j], rcond=None)[0]
        rr = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        denom = np.sqrt((rx @ rx) * (rr @ rr))
        r = float(rx @ rr / denom) if denom > 0 else np.nan
        rows.append({"covariate": name, **_fisher(r, n - (k - 1), z_crit)})
    return pd.DataFrame(rows)


def _fisher(r: float, n_eff: int, z_crit: float) -> dict[str, float]:
    """Fisher-z interval and two-sided p of a correlation ``r`` from ``n_eff`` effective patients."""
    if not np.isfinite(r) or n_eff <= 3:
        return {"prcc": r, "prcc_lo": np.nan, "prcc_hi": np.nan, "prcc_p": np.nan}
    z, se = np.arctanh(np.clip(r, -0.999999, 0.999999)), 1.0 / np.sqrt(n_eff - 3)
    return {"prcc": r, "prcc_lo": float(np.tanh(z - z_crit * se)), "prcc_hi": float(np.tanh(z + z_crit * se)),
            "prcc_p": float(2 * stats.norm.sf(abs(z) / se))}


def spearman(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Univariate rank correlation with its Fisher-z interval (keys as :func:`prcc`'s columns)."""
    r = float(stats.spearmanr(x, y).statistic)
    return _fisher(r, len(y), stats.norm.ppf(0.5 + level / 2))


def auc_ci(y: npt.ArrayLike, score: npt.ArrayLike, level: float = 0.95) -> tuple[float, float, float]:
    """ROC AUC of ``score`` for the binary ``y`` (Mann-Whitney: ties count 1/2) and its Hanley-McNeil
    ``level`` interval, clipped to [0, 1]. NaN without both classes."""
    y, s = np.asarray(y, dtype=bool), np.asarray(score, dtype=float)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return np.nan, np.nan, np.nan
    ranks = stats.rankdata(s)
    a = float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = np.sqrt(max(a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a), 0.0) / (n1 * n0))
    z = stats.norm.ppf(0.5 + level / 2)
    return a, max(0.0, a - z * se), min(1.0, a + z * se)


def threshold_rule(x: npt.ArrayLike, y: npt.ArrayLike) -> dict[str, Any]:
    """The one-covariate rule with the largest Youden J: ``direction`` ">=" (benefit predicted when
    x >= threshold) or "<=", the ``threshold`` (a value of ``x``), ``sensitivity``, ``specificity``
    and ``youden``. The direction is the one whose AUC is >= 1/2."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        return {"direction": "", "threshold": np.nan, "sensitivity": np.nan, "specificity": np.nan, "youden": np.nan}
    up = auc_ci(y, x)[0] >= 0.5
    v = x if up else -x
    best = None
    for t in np.unique(v):
        predicted = v >= t
        sens, spec = float(predicted[y].mean()), float((~predicted[~y]).mean())
        if best is None or sens + spec - 1 > best[0] + 1e-12:
            best = (sens + spec - 1, t, sens, spec)
    assert best is not None  # y has both classes, so some threshold was tried
    j, t, sens, spec = best
    return {"direction": ">=" if up else "<=", "threshold": float(t if up else -t), "sensitivity": sens,
            "specificity": spec, "youden": j}


def labels(effects: pd.DataFrame, label: str = "response", margin: float = 10.0) -> np.ndarray:
    """The binary benefit label of each row of an effects table (:data:`LABELS`)."""
    if label in ("pfs", "os"):
        return (effects[f"d_{label}_day"] > 0).to_numpy()
    if label == "response":
        return (effects.response_effect > 0).to_numpy()
    if label == "best_change":
        return (effects.d_best_change < -margin).to_numpy()
    raise ValueError(f"label must be one of {', '.join(LABELS)}, got {label!r}")


def covariates(patients: pd.DataFrame, control: str) -> tuple[pd.DataFrame, dict[str, str], list[list[str]]]:
    """Covariates of each patient (indexed by ``vp``) from the control arm's rows of a paired run:
    the biomarkers of :data:`BIOMARKERS` and the mechanisms (sampled parameters of
    ``models/population.tsv`` present in the table, one per group of parameters sharing one draw,
    other than :data:`BASELINE_PARAMETERS`); constant columns are dropped. Returns the table, the
    kind of each column ("biomarker" | "mechanism") and the groups of identical draws (for the report)."""
    from thymosim.tables import load_variability

    rows = patients[patients.arm == control].set_index("vp")
    table = pd.DataFrame(index=rows.index)
    kinds: dict[str, str] = {}
    for column in BIOMARKERS:
        if column == "CD4/CD8" and {"at:CD4@0", "at:CD8@0"} <= set(rows.columns):
            table[column] = rows["at:CD4@0"] / rows["at:CD8@0"]
        elif column in rows:
            table[column] = rows[column]
        else:
            continue
        kinds[column] = "biomarker"
    variability = load_variability()
    groups = []
    seen: set[str] = set()
    for pid in variability.index:
        if pid in BASELINE_PARAMETERS or pid not in rows or pid in seen:
            continue
        group = variability.group[pid]
        members = [p for p in variability.index[variability.group == group] if p in rows] if group else [pid]
        seen.update(members)
        if len(members) > 1:
            groups.append(members)
        table[pid] = rows[pid]
        kinds[pid] = "mechanism"
    constant = [c for c in table if table[c].nunique() < 2]
    return table.drop(columns=constant), {k: v for k, v in kinds.items() if k not in constant}, groups


def rank_covariates(x: pd.DataFrame, kinds: dict[str, str], score: np.ndarray, label: np.ndarray,
                    level: float = 0.95) -> pd.DataFrame:
    """One row per covariate: ``covariate``, ``name``, ``kind``, ``prcc`` with interval and p
    (biomarkers: :data:`PRCC_BIOMARKERS` together, the others univariate, ``prcc_method`` says which;
    mechanisms: together), the univariate ``auc`` of the covariate for the label (oriented: >= 1/2,
    see ``direction``) with interval, and its Youden rule. Sorted by kind, then by AUC. The
    correlations use the patients whose score is defined (a patient without a follow-up scan has
    no best change); the label's AUCs and rules use every patient."""
    finite = np.isfinite(np.asarray(score, dtype=float))
    scored, score = x[finite], np.asarray(score, dtype=float)[finite]
    frames = []
    for kind in ("biomarker", "mechanism"):
        columns = [c for c in x if kinds.get(c) == kind]
        if not columns:
            continue
        together = [c for c in columns if kind == "mechanism" or c in PRCC_BIOMARKERS]
        partial = prcc(scored[together], score, level).assign(prcc_method="partial") if len(together) > 1 else None
        rows = []
        for c in columns:
            if partial is not None and c in together:
                row = partial.set_index("covariate").loc[c].to_dict()
            else:
                row = {**spearman(scored[c], score, level), "prcc_method": "univariate"}
            rule = threshold_rule(x[c], label)
            sign = 1.0 if rule["direction"] in (">=", "") else -1.0
            a, lo, hi = auc_ci(label, sign * x[c].to_numpy(float), level)
            rows.append({"covariate": c, "name": BIOMARKERS.get(c, c), "kind": kind, **row, "auc": a,
                         "auc_lo": lo, "auc_hi": hi, **rule})
        frames.append(pd.DataFrame(rows).sort_values("auc", ascending=False))
    return pd.concat(frames, ignore_index=True)


def cross_validated(x: pd.DataFrame, label: np.ndarray, model: str = "tree", folds: int = 5, seed: int = 0,
                    max_depth: int = 2) -> np.ndarray:
    """Out-of-fold probabilities of benefit from a stratified ``folds``-fold cross-validation
    (shuffled from ``seed``; fewer folds when the rarer class has fewer patients) of a
    ``model``: "tree" (a classification tree of depth ``max_depth``, leaves of >= 5 % of the
    patients, balanced class weights) or "logistic" (L2-penalised logistic regression of the
    standardised log covariates, balanced class weights)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    k = min(folds, int(label.sum()), int((~label).sum()))
    if k < 2:
        raise ValueError(f"cross-validation needs >= 2 patients of each class, got {int(label.sum())} with "
                         f"benefit and {int((~label).sum())} without")
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return cross_val_predict(_model(model, len(label), max_depth, seed), _design(x, model), label, cv=splitter,
                             method="predict_proba")[:, 1]


def fitted_tree_rules(x: pd.DataFrame, label: np.ndarray, max_depth: int = 2, seed: int = 0) -> str:
    """The tree fitted to all patients, as text (split covariates and thresholds in their units)."""
    from sklearn.tree import export_text

    tree = _model("tree", len(label), max_depth, seed).fit(x.to_numpy(float), label)
    return export_text(tree, feature_names=[BIOMARKERS.get(c, c) for c in x.columns], decimals=3)


def _model(kind: str, n: int, max_depth: int, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    if kind == "tree":
        return DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(2, int(0.05 * n)),
                                      class_weight="balanced", random_state=seed)
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    raise ValueError(f"model must be 'tree' or 'logistic', got {kind!r}")


def _design(x: pd.DataFrame, model: str) -> np.ndarray:
    values = x.to_numpy(float)
    if model == "logistic" and np.all(values > 0):
        return np.log(values)
    return values


def analyse(patients: pd.DataFrame, effects: pd.DataFrame, arm: str | None = None, effect: str = "d_best_change",
            label: str = "pfs", margin: float = 10.0, folds: int = 5, seed: int = 0, max_depth: int = 2,
            level: float = 0.95) -> Benefit:
    """Who benefits from ``arm`` (default: the first arm after the control) in a paired run:
    the continuous benefit score is ``effect`` oriented by :data:`SCORES`, the binary label is
    ``label`` (:func:`labels`). Patients whose simulation failed in either arm are left out."""
    if effect not in SCORES:
        raise ValueError(f"effect must be one of {', '.join(SCORES)}, got {effect!r}")
    arms = list(dict.fromkeys(effects.arm))
    arm = arms[0] if arm is None else arm
    if arm not in arms:
        raise ValueError(f"arm: {arm!r} is not a treatment arm of this paired run; allowed: {', '.join(arms)}")
    rows = effects[(effects.arm == arm) & effects.evaluable].set_index("vp")
    control = str(rows.control.iloc[0])
    x, kinds, _ = covariates(patients, control)
    x = x.loc[rows.index]
    score = SCORES[effect] * rows[effect].to_numpy(float)
    y = labels(rows, label, margin)
    if min(int(y.sum()), int((~y).sum())) < MIN_CLASS:
        raise ValueError(f"label {label!r}: {int(y.sum())} of {len(y)} evaluable patients benefit; the analysis "
                         f"needs >= {MIN_CLASS} with and >= {MIN_CLASS} without benefit: choose another label "
                         f"({', '.join(LABELS)}) or more patients")
    ranking = rank_covariates(x, kinds, score, y, level)
    table = x.copy()
    table.insert(0, "vp", table.index)
    table["score"], table["label"] = score, y
    models = []
    for kind in ("biomarker", "mechanism"):
        columns = [c for c in x if kinds.get(c) == kind]
        for model in ("tree", "logistic"):
            p = cross_validated(x[columns], y, model, folds, seed, max_depth)
            table[f"p:{model}:{kind}"] = p
            a, lo, hi = auc_ci(y, p, level)
            models.append({"model": model, "kind": kind, "auc": a, "auc_lo": lo, "auc_hi": hi, "n": len(y),
                           "positives": int(y.sum()),
                           "rules": fitted_tree_rules(x[columns], y, max_depth, seed) if model == "tree" else ""})
    return Benefit(table.reset_index(drop=True), ranking, pd.DataFrame(models), arm, control, effect, label)
