"""Largest relative difference per output between COPASI (copasi-basico) running the
exported SBML of a scenario and thymosim's own simulation (issue 5).

    python benchmarks/copasi_agreement.py [--scenario cisplatin_vinorelbine_ta1]
"""

from __future__ import annotations

import argparse

import basico
import numpy as np

from thymosim import default_model
from thymosim.sbml.export import scenario_sbml
from thymosim.scenario import named


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="cisplatin_vinorelbine_ta1")
    args = parser.parse_args()
    scenario = named(args.scenario)
    model = basico.load_model(scenario_sbml(scenario))
    basico.set_task_settings(basico.T.TIME_COURSE, {"method": {
        "Relative Tolerance": 1e-8, "Absolute Tolerance": 1e-10, "Max Internal Steps": 1000000}}, model=model)
    copasi = basico.run_time_course(duration=scenario.horizon, intervals=int(scenario.horizon), model=model,
                                    use_sbml_id=True).reset_index()
    ours = scenario.simulate(step=1.0)
    print(f"{scenario.name}: COPASI vs thymosim over {scenario.horizon:g} days (daily points)")
    for column in ours.columns.drop("time"):
        mine, theirs = ours[column].to_numpy(), copasi[default_model().outputs[column].id].to_numpy()
        rel = np.max(np.abs(theirs - mine) / np.maximum(np.abs(mine), 1e-300))
        print(f"  {column:20s} max relative difference {rel:.1e}")


if __name__ == "__main__":
    main()
