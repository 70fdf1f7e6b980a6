"""Cost of one simulation: the default Ta1 arm (cisplatin + vinorelbine x4 + thymalfasin 1.6 mg BIW,
180 days, 181 outputs, 84 dose actions) against the yardstick model of the same size and dosing load
(benchmarks/yardstick.py), alternating in one process. Target: ratio <= 2.0.

    python benchmarks/speed.py [--repeats 30]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from yardstick import alternate

from thymosim.scenario import named


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    scenario = replace(named("cisplatin_vinorelbine_ta1"), step=1.0)
    model = scenario.model
    solver = f"{'BDF' if model.stiff else 'Adams'}, rtol {model.rtol:g}, atol {model.atol:g} x state scale"
    ours, theirs = alternate(scenario.simulate, args.repeats)
    actions = len(scenario.regimen.actions(scenario.patient.bsa))
    print(f"thymosim default Ta1 arm ({actions} dose actions, 181 outputs; {solver}): {1e3 * ours:.1f} ms")
    print(f"yardstick reference_qsp.ant (rtol 1e-6, atol 1e-9, 181 outputs): {1e3 * theirs:.1f} ms")
    print(f"per-simulation cost ratio thymosim / yardstick = {ours / theirs:.2f} (target <= 2.0)")


if __name__ == "__main__":
    main()
