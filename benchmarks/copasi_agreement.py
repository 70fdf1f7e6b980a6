"""Largest relative difference per output between COPASI (copasi-basico) running the
exported SBML of a scenario and thymosim's own simulation (daily points over the horizon).

    python benchmarks/copasi_agreement.py [--scenario cisplatin_vinorelbine_ta1] [--write]

``--write`` records the differences of the default Tα1 arm in ``benchmarks/results/copasi_agreement.json``,
the file docs/guide/export.md quotes (``tests/test_doc_numbers.py`` checks the page against it,
``tests/test_export.py`` the file against a fresh COPASI run).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import basico
import numpy as np

from thymosim import default_model
from thymosim.sbml.export import scenario_sbml
from thymosim.scenario import named

RESULT = Path(__file__).resolve().parent / "results" / "copasi_agreement.json"
SETTINGS = {"Relative Tolerance": 1e-8, "Absolute Tolerance": 1e-10, "Max Internal Steps": 1000000}


def differences(scenario) -> dict[str, float]:
    """Output -> largest relative difference between COPASI and thymosim over the scenario's horizon."""
    model = basico.load_model(scenario_sbml(scenario))
    basico.set_task_settings(basico.T.TIME_COURSE, {"method": SETTINGS}, model=model)
    copasi = basico.run_time_course(duration=scenario.horizon, intervals=int(scenario.horizon), model=model,
                                    use_sbml_id=True).reset_index()
    ours = scenario.simulate(step=1.0)
    out = {}
    for column in ours.columns.drop("time"):
        mine, theirs = ours[column].to_numpy(), copasi[default_model().outputs[column].id].to_numpy()
        out[column] = float(np.max(np.abs(theirs - mine) / np.maximum(np.abs(mine), 1e-300)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="cisplatin_vinorelbine_ta1")
    parser.add_argument("--write", action="store_true", help=f"record the differences in {RESULT}")
    args = parser.parse_args()
    scenario = named(args.scenario)
    found = differences(scenario)
    print(f"{scenario.name}: COPASI vs thymosim over {scenario.horizon:g} days (daily points)")
    for column, rel in found.items():
        print(f"  {column:20s} max relative difference {rel:.1e}")
    if args.write:
        record = {"command": f"python benchmarks/copasi_agreement.py --scenario {scenario.name} --write",
                  "scenario": scenario.name, "copasi": f"basico {basico.__version__}", "copasi_settings": SETTINGS,
                  "max_relative_difference": {k: float(f"{v:.1e}") for k, v in found.items()}}
        RESULT.parent.mkdir(exist_ok=True)
        RESULT.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
