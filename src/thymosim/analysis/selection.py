"""Model selection among the hypotheses of what dosed thymalfasin (Ta1) does to T cells.

The hypotheses and the variants compared are data (``models/data/ta1_hypotheses.toml``): each
hypothesis is one effect-size parameter of ``models/parameters.tsv`` that acts only through the
NF-kB signal of dosed Ta1. Every variant (a set of hypotheses; the others at 0) is fitted to the
same train rows (the count rows of ``clinical_targets.tsv`` with role ``train``) with the same
objective as the immune calibration (:func:`~thymosim.analysis.clinical_fit.fit_immune`: weighted
least squares, log residuals of counts over ``LOG_SD``, hinge residuals of directional rows over
``HINGE_SD``), then ranked by AIC and BIC; each fitted parameter gets a profile-likelihood 95 %
interval; each variant's train rows met and its predictions for held-out quantities are tabulated.

Reproduce the table (several minutes)::

    python -m thymosim.analysis.selection --out DIR

writes ``DIR/selection.csv`` (one row per variant), ``selection_rows.csv`` (each train row under
each variant), ``selection_profiles.csv``, ``selection_predictions.csv`` and ``selection.md`` (the
tables as Markdown, the section of the documentation page).

Log-likelihood: the objective is a Gaussian negative log-likelihood with known SDs, so
log L = -cost - sum(log(SD * sqrt(2 pi))) - sum over count rows of log(count) (the density of a
count whose log is Gaussian). Directional (hinge) rows are not a proper density; they enter as
the same Gaussian term, zero when the direction holds. The constant is the same for every
variant, so differences of log L, AIC and BIC between variants do not depend on it.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from thymosim.analysis import clinical_fit as cf
from thymosim.model import Model, default_model, model_dir
from thymosim.patient import HEALTHY, Patient
from thymosim.regimen import Dose, Regimen
from thymosim.scenario import named
from thymosim.simulation import simulate

HYPOTHESES_FILE = "data/ta1_hypotheses.toml"
"""The hypotheses and variants, relative to the model folder."""
CI_LEVEL = 0.95


def _spec() -> dict:
    with open(model_dir() / HYPOTHESES_FILE, "rb") as f:
        return tomllib.load(f)


def hypotheses() -> dict[str, dict[str, str]]:
    """Hypothesis name -> ``parameter`` (its effect size in parameters.tsv), ``label``, ``source``."""
    return dict(_spec()["hypotheses"])


def variants() -> dict[str, list[str]]:
    """Variant name -> the hypotheses it switches on (the others at 0)."""
    spec = _spec()
    known = set(spec["hypotheses"])
    out = {}
    for name, members in spec["variants"].items():
        unknown = set(members) - known
        if unknown:
            raise ValueError(f"{HYPOTHESES_FILE} variant {name!r}: unknown hypotheses {sorted(unknown)}; "
                             f"allowed: {sorted(known)}")
        out[name] = list(members)
    return out


def held() -> list[str]:
    """Parameters common to every variant, kept at their table values."""
    return list(_spec().get("held", []))


def log_likelihood(cost: float, targets: pd.DataFrame) -> float:
    """log L of a fit with ``cost`` (sum of squared weighted residuals / 2) on ``targets`` (see the
    module docstring)."""
    value = targets.kind == "value"
    sd = np.where(value, cf.LOG_SD, cf.HINGE_SD)
    return float(-cost - np.sum(np.log(sd * np.sqrt(2 * np.pi))) - np.sum(np.log(targets.value[value])))


def met(targets: pd.DataFrame, predicted: np.ndarray) -> np.ndarray:
    """Whether each train row is met: a count within one assumed SD on the log scale
    (|log(model/published)| <= LOG_SD), a directional row in its direction."""
    out = []
    for row, p in zip(targets.itertuples(), predicted, strict=True):
        if row.kind == "value":
            out.append(abs(np.log(p / row.value)) <= cf.LOG_SD)
        elif row.kind == "change_max":
            out.append(p <= row.value)
        else:
            out.append(p >= row.value)
    return np.array(out, bool)


def variant_model(variant: Sequence[str], values: Mapping[str, float] | None = None,
                  model: Model | None = None) -> Model:
    """``model`` with the parameters of the hypotheses not in ``variant`` at 0 and ``values`` set."""
    off = {h["parameter"]: 0.0 for name, h in hypotheses().items() if name not in variant}
    return cf.fixed(model, off | dict(values or {}))


# --- held-out predictions -------------------------------------------------------------------------


def _at(course: pd.DataFrame, day: float, column: str) -> float:
    return float(np.interp(day, course.time.to_numpy(float), course[column].to_numpy(float)))


def predictions(model: Model) -> dict[str, float]:
    """What a variant predicts for quantities no train row holds (typical patient):

    * ``CD3_d14``, ``CD3_d21`` [cells/uL]: ``prag_ta1_loading`` one and two weeks after the day-9 panel;
    * ``helper_change_d9`` [points]: CD4 share of CD3 (helper share) at day 9 minus baseline, same scenario;
    * ``swing_maint`` [%]: CD3 peak-to-trough over days 150-180 of twice-weekly maintenance
      (``ta1_loading_maintenance``), in % of the mean;
    * ``CD4_d180``, ``CD4_d365`` [% of baseline]: ``cisplatin_vinorelbine_ta1_stop`` (Ta1 to day 180);
    * ``gain_lymphopenic``, ``gain_normal`` [%]: CD3 change at day 180 under 1.6 mg twice weekly, the
      default (lymphopenic) patient and a patient at the healthy set points;
    * ``salvati_CD4_d42``, ``salvati_CD4_d42_no_ifn`` [%]: CD4 change at day 42 in
      ``ifosfamide_ta1_ifna`` with and without its IFN-alpha doses (what IFN-alpha adds).
    """
    out: dict[str, float] = {}
    loading = replace(named("prag_ta1_loading"), model=model).simulate(times=[0.0, 9.0, 14.0, 21.0])
    loading = loading.set_index("time")
    out["CD3_d14"] = float(loading.CD3[14.0])
    out["CD3_d21"] = float(loading.CD3[21.0])
    helper = 100 * loading.CD4 / loading.CD3
    out["helper_change_d9"] = float(helper[9.0] - helper[0.0])
    maint = replace(named("ta1_loading_maintenance"), model=model).simulate(times=np.arange(0.0, 180.01, 0.125))
    maint = maint[maint.time >= 150.0]
    out["swing_maint"] = float(100 * (maint.CD3.max() - maint.CD3.min()) / maint.CD3.mean())
    stop = replace(named("cisplatin_vinorelbine_ta1_stop"), model=model).simulate(times=[0.0, 180.0, 365.0])
    stop = stop.set_index("time")
    out["CD4_d180"] = float(100 * stop.CD4[180.0] / stop.CD4[0.0])
    out["CD4_d365"] = float(100 * stop.CD4[365.0] / stop.CD4[0.0])
    biw = Regimen((Dose("thymalfasin", "1.6 mg", ii="3.5 day", until=180.0),))
    for key, patient in (("gain_lymphopenic", Patient()), ("gain_normal", HEALTHY)):
        course = simulate(patient, biw, horizon=180.0, step=180.0, model=model)
        out[key] = float(100 * (course.CD3.iloc[-1] / course.CD3.iloc[0] - 1))
    salvati = replace(named("ifosfamide_ta1_ifna"), model=model)
    no_ifn = replace(salvati, regimen=Regimen(tuple(d for d in salvati.regimen.doses if d.drug != "ifn_alpha")))
    for key, scenario in (("salvati_CD4_d42", salvati), ("salvati_CD4_d42_no_ifn", no_ifn)):
        course = scenario.simulate(times=[0.0, 42.0]).set_index("time")
        out[key] = float(100 * (course.CD4[42.0] / course.CD4[0.0] - 1))
    return out


# --- fitting and ranking --------------------------------------------------------------------------


def fit_variant(name: str, members: Sequence[str], targets: pd.DataFrame, n_starts: int = 6,
                points: int = 7, model: Model | None = None) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Fit one variant: its summary row, its per-train-row table and its profiles."""
    hyps = hypotheses()
    names = [hyps[h]["parameter"] for h in members]
    base = variant_model(members, model=model)
    if names:
        fit = cf.fit_immune(targets, names, n_starts=n_starts, model=base)
        values, cost = fit.values, fit.cost
    else:
        fit, values = None, {}
        res = cf.residuals(targets, cf.predict_counts(targets, {}, base))
        cost = 0.5 * float(res @ res)
    fitted = variant_model(members, values, model)
    predicted = cf.predict_counts(targets, {}, fitted)
    ok = met(targets, predicted)
    n, k = len(targets), len(names)
    loglik = log_likelihood(cost, targets)
    row: dict = {"variant": name, "hypotheses": " + ".join(members) or "none", "k": k, "cost": cost,
                 "loglik": loglik, "AIC": 2 * k - 2 * loglik, "BIC": k * np.log(n) - 2 * loglik,
                 "rows_met": int(ok.sum()), "rows": n,
                 "rows_met_ids": " ".join(targets.index[ok])}
    profiles = []
    for pid in names:
        row[pid] = values[pid]
        assert fit is not None
        table = cf.profile(fit, pid, points=points, model=base)
        lo, hi, verdict = cf.interval(table, CI_LEVEL)
        row[f"{pid}:lo"], row[f"{pid}:hi"], row[f"{pid}:verdict"] = lo, hi, verdict
        row[f"{pid}:bound"] = fit.bounds[pid][1]
        profiles.append(table.assign(variant=name, parameter=pid))
    rows = targets[["scenario", "quantity", "kind", "day", "value"]].assign(
        variant=name, model=predicted, met=ok).reset_index(names="id")
    row.update(predictions(fitted))
    profile_table = pd.concat(profiles, ignore_index=True) if profiles else pd.DataFrame()
    return row, rows, profile_table


def select(chosen: Sequence[str] | None = None, n_starts: int = 6, points: int = 7,
           model: Model | None = None, progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fit the ``chosen`` variants (default: all of the TOML) and rank them: the selection table
    (sorted by AIC, with dAIC and Akaike weights), the per-row table and the profiles."""
    model = model or default_model()
    all_variants = variants()
    chosen = list(chosen or all_variants)
    unknown = set(chosen) - set(all_variants)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)}; allowed: {', '.join(all_variants)}")
    targets = cf.count_targets("train")
    base = cf.fixed(model, {p: model.defaults[p] for p in held()})
    rows, per_row, profiles = [], [], []
    for name in chosen:
        row, table, prof = fit_variant(name, all_variants[name], targets, n_starts, points, base)
        if progress:
            print(f"{name}: cost {row['cost']:.3f}, AIC {row['AIC']:.2f}", file=sys.stderr, flush=True)
        rows.append(row)
        per_row.append(table)
        profiles.append(prof)
    table = pd.DataFrame(rows).sort_values("AIC", ignore_index=True)
    table["dAIC"] = table.AIC - table.AIC.min()
    weights = np.exp(-0.5 * table.dAIC)
    table["akaike_weight"] = weights / weights.sum()
    table["identifiable"] = [identifiable(row) for _, row in table.iterrows()]
    table["kept"] = table.variant == kept(table)
    return table, pd.concat(per_row, ignore_index=True), pd.concat(profiles, ignore_index=True)


def identifiable(row: pd.Series) -> bool:
    """Whether every effect size of a variant's row is identifiable: its 95 % profile interval closed on
    both sides inside the plausible bounds (the null variant, with none, counts as identifiable)."""
    verdicts = [v for k, v in row.items() if str(k).endswith(":verdict") and isinstance(v, str)]
    return all(v == "identifiable" for v in verdicts)


def kept(table: pd.DataFrame) -> str | None:
    """The variant the data support: the least AIC among the variants whose effect sizes are all
    identifiable. An effect that runs to its plausible bound with a profile open on that side is not
    estimated by the data: the objective would take any larger value, so its AIC gain measures the
    bound, not the mechanism. None when no variant qualifies (as in a run of one variant whose
    effect is not identifiable)."""
    ok = table[[identifiable(row) for _, row in table.iterrows()]]
    return str(ok.sort_values("AIC").variant.iloc[0]) if len(ok) else None


# --- Markdown -------------------------------------------------------------------------------------


def _g(x: float, digits: int = 4) -> str:
    return "NA" if not np.isfinite(x) else f"{x:.{digits}g}"


def markdown(table: pd.DataFrame) -> str:
    """The selection table and the prediction table as Markdown (the documentation's section)."""
    hyps = hypotheses()
    lines = ["| Variant | Fitted effect sizes (95 % profile interval) | log L | AIC | BIC | ΔAIC | Train rows met |",
             "|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        fitted = []
        for h in r["hypotheses"].split(" + "):
            if h == "none":
                continue
            pid = hyps[h]["parameter"]
            at_bound = " (at its upper bound)" if r[pid] >= 0.999 * r[f"{pid}:bound"] else ""
            fitted.append(f"`{pid}` {_g(r[pid])}{at_bound} [{_g(r[f'{pid}:lo'])}, {_g(r[f'{pid}:hi'])}]")
        name = f"**{r['hypotheses']}** (kept)" if bool(r.get("kept", False)) else r["hypotheses"]
        lines.append(f"| {name} | {'; '.join(fitted) or '—'} | {r['loglik']:.2f} | {r['AIC']:.2f} | "
                     f"{r['BIC']:.2f} | {r['dAIC']:.2f} | {r['rows_met']}/{r['rows']} |")
    lines += ["", "| Variant | CD3 day 14 | CD3 day 21 | CD4 % of CD3, change day 9 | swing in maintenance % | "
              "CD4 day 180 % | CD4 day 365 % | gain lymphopenic % | gain normal % | Salvati CD4 day 42 % "
              "(without IFN-α) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples(index=False):
        lines.append(f"| {r.hypotheses} | {r.CD3_d14:.0f} | {r.CD3_d21:.0f} | {r.helper_change_d9:+.1f} | "
                     f"{r.swing_maint:.1f} | {r.CD4_d180:.1f} | {r.CD4_d365:.1f} | {r.gain_lymphopenic:+.1f} | "
                     f"{r.gain_normal:+.1f} | {r.salvati_CD4_d42:+.1f} ({r.salvati_CD4_d42_no_ifn:+.1f}) |")
    return "\n".join(lines) + "\n"


def write(out: Path, table: pd.DataFrame, per_row: pd.DataFrame, profiles: pd.DataFrame) -> list[Path]:
    """Write the tables under ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "selection.csv", out / "selection_rows.csv", out / "selection_profiles.csv", out / "selection.md"]
    table.to_csv(paths[0], index=False, float_format="%.6g")
    per_row.to_csv(paths[1], index=False, float_format="%.6g")
    profiles.to_csv(paths[2], index=False, float_format="%.6g")
    paths[3].write_text(markdown(table), encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m thymosim.analysis.selection", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the CSV and Markdown tables")
    parser.add_argument("--variants", default="", help="comma-separated variants (default: all of the TOML)")
    parser.add_argument("--starts", type=int, default=6, help="optimiser starts per variant")
    parser.add_argument("--points", type=int, default=7, help="profile grid points per side")
    args = parser.parse_args(argv)
    chosen = [v for v in args.variants.split(",") if v] or None
    for path in write(args.out, *select(chosen, args.starts, args.points, progress=True)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
