"""A grid sweep of scenario values (``thymosim sweep``): its table and figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from thymosim.scenario import Scenario
from thymosim.workflows.files import save_figure


def sweep_files(scenario: Scenario, factors: Mapping[str, Sequence[Any]], endpoints: Sequence[str], out: Path,
                workers: int = 1, scheduler: Any = None, progress: bool = False,
                overwrite: bool = False) -> tuple[pd.DataFrame, list[Path]]:
    """Run the grid of ``factors`` (name -> values) on ``scenario`` (:func:`thymosim.analysis.sweep.run_sweep`,
    each run's results under ``out/runs``) and write sweep.csv, with one factor of numbers
    dose_response.png, with two factors heatmap.png (the first endpoint). Returns the table (failed
    runs with their reasons) and the paths written."""
    from thymosim.analysis.sweep import grid, run_sweep, write_atomically
    from thymosim.plots.sensitivity import dose_response, heatmap

    table = run_sweep(scenario, grid(dict(factors)), endpoints=list(endpoints), out=out / "runs", workers=workers,
                      scheduler=scheduler, progress=progress, overwrite=overwrite)
    write_atomically(out / "sweep.csv", lambda tmp: table.to_csv(tmp, index=False))
    written = [out / "runs", out / "sweep.csv"]
    names = list(factors)
    if len(names) == 1 and all(isinstance(v, float) for v in factors[names[0]]):
        written.append(save_figure(dose_response(table, names[0], list(endpoints), scenario),
                                   out / "dose_response.png"))
    elif len(names) == 2:
        written.append(save_figure(heatmap(table, names[0], names[1], endpoints[0], scenario), out / "heatmap.png"))
    return table, written
