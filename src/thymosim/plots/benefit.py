"""Figures and report text of ``thymosim benefit``: who benefits from an arm of a paired trial
(:mod:`~thymosim.analysis.benefit`); the files are written by :mod:`thymosim.workflows.benefit`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from thymosim.analysis.benefit import BIOMARKERS, Benefit, auc_ci

EFFECT_LABELS = {"d_best_change": "extra tumour shrinkage on the arm [percentage points]",
                 "d_pfs_day": "PFS gained on the arm [days]", "d_os_day": "OS gained on the arm [days]",
                 "response_effect": "response gained (+1) or lost (-1)"}
LABEL_TEXT = {"pfs": "PFS longer on the arm", "os": "OS longer on the arm", "response": "responds only on the arm",
              "best_change": "best change lower by more than the margin"}


def _name(covariate: str) -> str:
    return BIOMARKERS.get(covariate, covariate)


def _unit(covariate: str) -> str:
    if covariate == "CD4/CD8":
        return ""
    if covariate.startswith("at:tumour_diameter"):
        return " [mm]"
    return " [cells/uL]" if covariate.startswith("at:") else ""


def effect_figure(result: Benefit) -> plt.Figure:
    """Left: the benefit score against the biomarker with the largest |PRCC|; right: the biomarker
    of the best one-biomarker rule by benefit class, with its Youden threshold."""
    markers = result.ranking[result.ranking.kind == "biomarker"]
    by_prcc = markers.iloc[np.argmax(np.abs(markers.prcc.to_numpy(float)))]
    by_auc = markers.iloc[0]
    table, y = result.patients, result.patients.label.to_numpy(bool)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3))
    x = table[by_prcc.covariate].to_numpy(float)
    left.scatter(x[~y], table.score[~y], s=16, color="0.55", label="the other patients")
    left.scatter(x[y], table.score[y], s=16, color="tab:green", label=LABEL_TEXT[result.label])
    left.axhline(0, color="0.3", lw=0.8)
    left.set_xlabel(f"baseline {_name(by_prcc.covariate)}{_unit(by_prcc.covariate)}")
    left.set_ylabel(EFFECT_LABELS[result.effect])
    left.set_title(f"PRCC {by_prcc.prcc:+.2f} [{by_prcc.prcc_lo:+.2f}, {by_prcc.prcc_hi:+.2f}]", fontsize=10)
    left.legend(fontsize=8, loc="best")
    values = table[by_auc.covariate].to_numpy(float)
    rng = np.random.default_rng(0)
    for k, (mask, color) in enumerate(((~y, "0.55"), (y, "tab:green"))):
        right.scatter(k + rng.uniform(-0.15, 0.15, mask.sum()), values[mask], s=16, color=color)
        right.boxplot(values[mask], positions=[k], widths=0.45, showfliers=False)
    right.axhline(by_auc.threshold, color="tab:red", ls="--",
                  label=f"benefit if {by_auc.direction} {by_auc.threshold:.4g}: sensitivity "
                        f"{100 * by_auc.sensitivity:.0f} %, specificity {100 * by_auc.specificity:.0f} %")
    right.set_xticks([0, 1], [f"no benefit (n = {(~y).sum()})", f"benefit (n = {y.sum()})"])
    right.set_ylabel(f"baseline {_name(by_auc.covariate)}{_unit(by_auc.covariate)}")
    right.set_title(f"{LABEL_TEXT[result.label]}: AUC {by_auc.auc:.2f} [{by_auc.auc_lo:.2f}, {by_auc.auc_hi:.2f}]",
                    fontsize=10)
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.suptitle(f"Who benefits from {result.arm} (vs {result.control}), {len(y)} virtual patients", fontsize=11)
    fig.tight_layout()
    return fig


def roc_figure(result: Benefit) -> plt.Figure:
    """ROC curves of the cross-validated models (out-of-fold predictions) and of the best single
    biomarker, with AUCs and 95 % intervals."""
    from sklearn.metrics import roc_curve

    y = result.patients.label.to_numpy(bool)
    fig, ax = plt.subplots(figsize=(5.6, 5.2))
    styles = {("tree", "biomarker"): ("tab:blue", "-"), ("logistic", "biomarker"): ("tab:blue", ":"),
              ("tree", "mechanism"): ("tab:orange", "-"), ("logistic", "mechanism"): ("tab:orange", ":")}
    for row in result.models.itertuples():
        fpr, tpr, _ = roc_curve(y, result.patients[f"p:{row.model}:{row.kind}"])
        color, ls = styles[(row.model, row.kind)]
        ax.plot(fpr, tpr, color=color, ls=ls,
                label=f"{row.model}, {row.kind}s (CV): {row.auc:.2f} [{row.auc_lo:.2f}, {row.auc_hi:.2f}]")
    top = result.ranking[result.ranking.kind == "biomarker"].iloc[0]
    sign = 1.0 if top.direction == ">=" else -1.0
    fpr, tpr, _ = roc_curve(y, sign * result.patients[top.covariate])
    a, lo, hi = auc_ci(y, sign * result.patients[top.covariate])
    ax.plot(fpr, tpr, color="tab:green", lw=1.2, label=f"{_name(top.covariate)} alone: {a:.2f} [{lo:.2f}, {hi:.2f}]")
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title(f"{LABEL_TEXT[result.label]}: {int(y.sum())} of {len(y)}", fontsize=10)
    ax.legend(fontsize=7.5, loc="lower right", title="ROC AUC [95 % CI]", title_fontsize=8)
    fig.tight_layout()
    return fig


def report(result: Benefit, groups: list[list[str]]) -> str:
    """A short Markdown report of ``result``."""
    y = result.patients.label.to_numpy(bool)
    lines = [f"# Who benefits from {result.arm} (vs {result.control})", "",
             f"{len(y)} evaluable virtual patients, each simulated on both arms (paired trial). Benefit label: "
             f"{LABEL_TEXT[result.label]} ({int(y.sum())} patients, {100 * y.mean():.0f} %). Continuous effect "
             f"for the rank correlations: {EFFECT_LABELS[result.effect]}.", "",
             "Biomarkers are baseline quantities a clinician can measure; mechanisms are sampled model parameters "
             "(they explain the effect, they cannot be measured). PRCC: partial rank correlation with the effect "
             "(95 % Fisher-z interval); AUC: how one covariate alone separates the label (95 % Hanley-McNeil "
             "interval), with the cut-off maximising Youden's J. The direction and the cut-off of a one-covariate "
             "rule are chosen on these patients (its AUC is >= 0.5 by construction, and sensitivity and specificity "
             "are optimistic); the models' AUCs are cross-validated (out-of-fold predictions, "
             f"{len(y)} patients).", ""]
    for kind in ("biomarker", "mechanism"):
        rows = result.ranking[result.ranking.kind == kind]
        lines += [f"## {kind.capitalize()}s", "",
                  "| covariate | PRCC [95 % CI] | AUC [95 % CI] | rule | sensitivity | specificity |",
                  "|---|---|---|---|---|---|"]
        for r in rows.itertuples():
            method = "" if r.prcc_method == "partial" else " (univariate)"
            lines.append(f"| {r.name} | {r.prcc:+.2f} [{r.prcc_lo:+.2f}, {r.prcc_hi:+.2f}]{method} | "
                         f"{r.auc:.2f} [{r.auc_lo:.2f}, {r.auc_hi:.2f}] | {r.direction} {r.threshold:.4g} | "
                         f"{100 * r.sensitivity:.0f} % | {100 * r.specificity:.0f} % |")
        lines.append("")
    lines += ["## Cross-validated models", "", "| model | covariates | ROC AUC [95 % CI] |", "|---|---|---|"]
    for m in result.models.itertuples():
        lines.append(f"| {m.model} | {m.kind}s | {m.auc:.2f} [{m.auc_lo:.2f}, {m.auc_hi:.2f}] |")
    tree = result.models[(result.models.model == "tree") & (result.models.kind == "biomarker")]
    if len(tree):
        lines += ["", "Classification tree on the biomarkers, fitted to all patients:", "", "```",
                  tree.rules.iloc[0].rstrip(), "```"]
    if groups:
        lines += ["", "Parameters drawn together (one shared draw, shown by the first): "
                  + "; ".join(", ".join(g) for g in groups) + "."]
    lines += ["", "Figures: benefit_effect.png (effect against the top biomarker, the best one-biomarker rule), "
              "benefit_roc.png (ROC curves).", ""]
    return "\n".join(lines)
