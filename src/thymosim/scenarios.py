"""Named scenarios: the trial arms of the seed guide and the reference, stored as
TOML data files in ``models/scenarios/`` (each cites its source)."""

from __future__ import annotations

from pathlib import Path

from thymosim.model import model_dir
from thymosim.scenario import Scenario, ScenarioError

DEFAULT = ("cisplatin_vinorelbine", "cisplatin_vinorelbine_ta1")
"""The main job: four 21-day cycles of cisplatin + vinorelbine, without and with thymalfasin."""


def scenario_dir() -> Path:
    return model_dir() / "scenarios"


def names() -> list[str]:
    """Names of the packaged scenarios."""
    return sorted(p.stem for p in scenario_dir().glob("*.toml"))


def named(name: str) -> Scenario:
    """A packaged scenario by name."""
    path = scenario_dir() / f"{name}.toml"
    if not path.is_file():
        raise ScenarioError(f"scenario {name!r} not found; named scenarios: {', '.join(names())}")
    return Scenario.load(path)


def resolve(name_or_file: str | Path) -> Scenario:
    """A named scenario, or a scenario TOML file by path."""
    path = Path(name_or_file)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise ScenarioError(f"{path}: no such scenario file")
        return Scenario.load(path)
    return named(str(name_or_file))
