"""Local, Morris and Sobol sensitivity of endpoints (``thymosim sensitivity``): tables and figures."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from thymosim.scenario import Scenario
from thymosim.workflows.files import save_figure

METHODS = ("local", "morris", "sobol")
"""The methods of :func:`sensitivity_files`."""


def slug(name: str) -> str:
    """A file-name-safe form of an endpoint name (``auc:[C_dopa]`` -> ``auc_C_dopa``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def sensitivity_files(scenario: Scenario, method: str, endpoints: Sequence[str], out: Path,
                      parameters: Sequence[str] | None = None, bounds: Mapping[str, tuple[float, float]] | None = None,
                      n: int = 256, seed: int = 0, workers: int = 1, scheduler: Any = None, progress: bool = False,
                      accept_imputation: bool = False, say: Callable[[str], None] = print,
                      written: list[Path] | None = None) -> list[Path]:
    """Sensitivity of ``endpoints`` of ``scenario`` to ``parameters`` (default: all for local, the 20
    with the largest local sensitivity per endpoint for morris/sobol, within ``bounds`` or the
    table's plausible ranges). Writes local_sensitivity.csv and tornado_ENDPOINT.png (local), or
    METHOD_ENDPOINT.csv/.png per endpoint and METHOD_ENDPOINT_failures.csv where runs failed. A line
    on failed runs (share and reasons) goes to ``say``. Returns the paths written; each is also
    appended to ``written`` as soon as it is written, so that a caller knows them after an error."""
    from thymosim.analysis import sensitivity as sa
    from thymosim.plots.sensitivity import morris_plot, sobol_plot, tornado

    written = [] if written is None else written
    bounds = dict(bounds or {})
    chosen = list(parameters) if parameters else None
    out.mkdir(parents=True, exist_ok=True)
    local = sa.local_sensitivity(scenario, chosen, list(endpoints), workers=workers, scheduler=scheduler,
                                 progress=progress)
    if line := local.attrs["failures"].summary("local sensitivity"):
        say(line)
    if method == "local":
        local.to_csv(out / "local_sensitivity.csv", index=False)
        written.append(out / "local_sensitivity.csv")
        for endpoint in endpoints:
            written.append(save_figure(tornado(local, endpoint), out / f"tornado_{slug(endpoint)}.png"))
        return written
    for endpoint in endpoints:
        ranked = (local[local.endpoint == endpoint].assign(a=lambda d: d.sensitivity.abs())
                  .sort_values("a", ascending=False).parameter)
        params = chosen or list(ranked[:20])
        extra = sorted(set(bounds) - set(params))
        if extra:
            raise ValueError(f"--bounds {', '.join(extra)}: not among the parameters analysed; allowed: "
                             f"{', '.join(params)}")
        problem = sa.problem(params, bounds, model=scenario.model)
        f = sa.model_function(scenario, params, endpoint, workers=workers, scheduler=scheduler, progress=progress,
                              impute=accept_imputation)
        png, csv = (out / f"{method}_{slug(endpoint)}{ext}" for ext in (".png", ".csv"))
        failures = out / f"{method}_{slug(endpoint)}_failures.csv"
        try:
            if method == "morris":
                result = sa.morris_indices(f, problem, trajectories=n, seed=seed)
                save_figure(morris_plot(result, endpoint), png)
            else:
                result = sa.sobol_indices(f, problem, n=n, seed=seed)
                save_figure(sobol_plot(result, endpoint), png)
        finally:
            if len(f.failures):  # also when too many failed: what failed and why
                f.failures.to_csv(failures, index=False)
                written.append(failures)
        result.to_csv(csv)
        written += [png, csv]
        if line := result.attrs["failures"].summary(f"{method} {endpoint}"):
            say(f"{line} (details: {failures})")
    return written
