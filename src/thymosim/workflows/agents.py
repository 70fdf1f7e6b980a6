"""Thymalfasin beside the comparator agents (``thymosim agents``): agents.csv, claims.csv and the
figures of the typical and the chemo-sensitive patient."""

from __future__ import annotations

from pathlib import Path

from thymosim.workflows.files import save_figure


def agent_files(out: Path, n: int = 0, seed: int = 0, workers: int = 1, progress: bool = False) -> list[Path]:
    """Run every arm of :func:`thymosim.analysis.agents.compare_agents` (with ``n`` > 0 also on a
    virtual population of ``n`` patients drawn with ``seed``) and write agents.csv (one row per
    patient and arm), claims.csv (the comparator claims, claim by claim), agents.png (typical patient)
    and agents_WHO.png (each other patient); figures of an earlier run are removed. Returns the paths
    written."""
    from thymosim.analysis.agents import claims, compare_agents
    from thymosim.plots.agents import plot_agents

    if n < 0:
        raise ValueError(f"--n: {n}; allowed: 0 (no virtual population) or a positive number of patients")
    population = None
    if n:
        from thymosim.analysis.population import virtual_population

        population = virtual_population(n, seed=seed, workers=workers)
    table, courses = compare_agents(population=population, workers=workers, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "agents.csv", index=False)
    claims(table).to_csv(out / "claims.csv", index=False)
    for stale in out.glob("agents_*.png"):
        stale.unlink()
    files = [out / "agents.csv", out / "claims.csv"]
    for who, arms in courses.items():
        path = out / ("agents.png" if who == "typical" else f"agents_{who}.png")
        files.append(save_figure(plot_agents(arms, f"{who} patient: cisplatin + vinorelbine x 4 with each agent"),
                                 path))
    return files
