"""Run scenarios: time courses, endpoints and event-exact exposure as tables
(:func:`simulate_scenarios`, :func:`endpoint_table`, :func:`exposure_table`), and the output folder
of ``thymosim run`` and ``thymosim compare`` (:func:`scenario_files`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from thymosim.scenario import DEFAULT, Scenario
from thymosim.workflows.files import progress, save_figure

DEFAULT_TITLE = "Cisplatin + vinorelbine x4 (q21d) with and without thymalfasin 1.6 mg SC BIW"
"""Title of the default job's figure (cisplatin + vinorelbine with and without thymalfasin)."""
DEFAULT_STEP = 1 / 24
"""Output step of the default job, days."""


def simulate_scenarios(scenarios: Sequence[Scenario], step: float | None = None,
                       quiet: bool = True) -> dict[str, pd.DataFrame]:
    """Time course of each scenario, by name (``step``: output step in days; default: the scenario's)."""
    return {scenario.name: scenario.simulate(**({"step": step} if step else {}))
            for scenario in progress(scenarios, quiet, "simulating")}


def timecourse_table(arms: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The time courses of :func:`simulate_scenarios` in one table, a ``scenario`` column last."""
    return pd.concat([df.assign(scenario=name) for name, df in arms.items()], ignore_index=True)


def endpoint_table(scenarios: Sequence[Scenario], arms: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per scenario: every registered endpoint its outputs allow (``auc:`` of the outputs of
    another model); thymalfasin exposure event-exact, as in :func:`exposure_table`."""
    from thymosim.analysis.endpoints import available, defaults_for, evaluate

    rows = []
    for scenario in scenarios:
        df = arms[scenario.name]
        outputs = [c for c in df.columns if c != "time"]
        names = available(outputs) or list(defaults_for(outputs))
        rows.append({"scenario": scenario.name, **{n: evaluate(n, df, scenario) for n in names}})
    return pd.DataFrame(rows)


def exposure_table(scenarios: Sequence[Scenario]) -> tuple[pd.DataFrame | None, dict[str, pd.DataFrame]]:
    """Event-exact exposure per dosing interval of each drug with a concentration, a ``scenario``
    column first (None when no scenario has such a drug), and the dense thymalfasin course (21 days)
    of each scenario that doses it, by name (the figure's PK panel)."""
    from thymosim.analysis.exposure import NoExposure, exposure, pk_course

    exposures, pk = [], {}
    for scenario in scenarios:
        try:  # a scenario without a drug that has a concentration (or of another model) has none
            exposures.append(exposure(scenario).assign(scenario=scenario.name))
        except NoExposure:
            continue
        if "thymalfasin" in set(exposures[-1].drug):
            pk[scenario.name] = pk_course(scenario, "thymalfasin", days=21.0)
    if not exposures:
        return None, pk
    table = pd.concat(exposures, ignore_index=True)
    return table[["scenario", *table.columns[:-1]]], pk


def scenario_files(scenarios: Sequence[Scenario], out: Path, step: float | None = None, parquet: bool = False,
                   quiet: bool = True, title: str = "") -> list[Path]:
    """Simulate ``scenarios`` and write timecourse.csv (+ .parquet), endpoints.csv
    (:func:`endpoint_table`), exposure.csv (:func:`exposure_table`; none without a drug that has a
    concentration) and timecourse.png (its thymalfasin panel from a dense re-simulation). A
    timecourse.parquet or exposure.csv left by an earlier run is removed when not written. Returns
    the paths written."""
    from thymosim.plots.timecourse import plot_arms

    out.mkdir(parents=True, exist_ok=True)
    arms = simulate_scenarios(scenarios, step, quiet)
    table = timecourse_table(arms)
    table.to_csv(out / "timecourse.csv", index=False)
    files = [out / "timecourse.csv"]
    if parquet:
        table.to_parquet(out / "timecourse.parquet", index=False)
        files.append(out / "timecourse.parquet")
    else:
        (out / "timecourse.parquet").unlink(missing_ok=True)  # a stale file from an earlier run
    endpoint_table(scenarios, arms).to_csv(out / "endpoints.csv", index=False)
    files.append(out / "endpoints.csv")
    exposures, pk = exposure_table(scenarios)
    if exposures is not None:
        exposures.to_csv(out / "exposure.csv", index=False)
        files.append(out / "exposure.csv")
    else:
        (out / "exposure.csv").unlink(missing_ok=True)  # a stale file from an earlier run
    regimens = {s.name: s.regimen for s in scenarios}
    labels = {s.name: s.label for s in scenarios}
    fig = plot_arms(arms, title or " vs ".join(labels.values()), regimens=regimens, pk=pk or None, labels=labels)
    files.append(save_figure(fig, out / "timecourse.png"))
    return files


def default_files(out: Path, step: float = DEFAULT_STEP, quiet: bool = True, parquet: bool = False) -> list[Path]:
    """The main job (:func:`scenario_files`): cisplatin + vinorelbine x4 with and without thymalfasin
    1.6 mg SC twice weekly."""
    from thymosim.scenario import resolve

    return scenario_files([resolve(name) for name in DEFAULT], out, step=step, parquet=parquet, quiet=quiet,
                          title=DEFAULT_TITLE)
