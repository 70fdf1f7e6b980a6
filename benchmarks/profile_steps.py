"""Where the integration time goes: integrator steps per dose interval and which states force
them, for the default Ta1 arm, and the cost of the alternatives the speed issue names.

    python benchmarks/profile_steps.py

Prints (1) steps per segment between dose actions, by kind of segment; (2) total steps when one
module's states get a 1e6x looser absolute tolerance (the module whose loosening removes steps is
the one that forces them); (3) median ms per simulation for: splitting the integration at doses
(thymosim) vs the same doses as SBML events in one roadrunner call; BDF vs Adams; the initial
step after a dose; the output grid.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

import numpy as np
import roadrunner

from thymosim.sbml.export import scenario_sbml
from thymosim.scenario import named


def steps(scenario, sizes: list | None = None) -> list[tuple[float, float, int]]:
    """(start, end, internal steps) of every segment between dose actions; ``sizes`` collects
    (time since the segment's start, step size) of every step [day]."""
    model = scenario.model
    rr = model.reset(model.values(scenario.patient))
    integrator = rr.getIntegrator()
    integrator.setValue("variable_step_size", True)
    try:
        actions = scenario.regimen.actions(scenario.patient.bsa)
        breaks = sorted({a[0] for a in actions if a[0] > 0} | {scenario.horizon})
        pending, t0, out = list(actions), 0.0, []
        for t1 in breaks:
            while pending and pending[0][0] <= t0:
                _, target, increment = pending.pop(0)
                rr.setValue(target, rr.getValue(target) + increment)
            t = np.asarray(rr.simulate(t0, t1))[:, 0]
            out.append((t0, t1, t.size - 1))
            if sizes is not None:
                sizes.extend(zip(t[1:] - t0, np.diff(t), strict=True))
            t0 = t1
        return out
    finally:
        integrator.setValue("variable_step_size", False)


def timed(fn, repeats: int = 9) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return 1e3 * statistics.median(samples)


def main() -> None:
    arm = replace(named("cisplatin_vinorelbine_ta1"), step=1.0)
    base = arm.model
    for label, model in (("default (Adams, rtol 1e-6)", base), ("BDF, rtol 1e-6", base.with_tolerances(
            base.rtol, base.atol, stiff=True))):
        segments = steps(replace(arm, model=model))
        long = [n for t0, t1, n in segments if t1 - t0 >= 1.0]
        print(f"(1) {label}: {sum(n for *_, n in segments)} steps in {len(segments)} segments; "
              f"median {statistics.median(long):.0f} steps per dose interval >= 1 day")
    chemo_only = sum(n for *_, n in steps(replace(named("cisplatin_vinorelbine"), step=1.0,
                                                  model=base.with_tolerances(base.rtol, base.atol, stiff=True))))
    print(f"    BDF, chemotherapy alone (no Ta1): {chemo_only} steps")
    bdf = base.with_tolerances(base.rtol, base.atol, stiff=True)
    reference = sum(n for *_, n in steps(replace(arm, model=bdf)))
    print("(2) BDF steps with one module's states at a 1e6x looser absolute tolerance:")
    for prefix in ("PK_", "DC_", "CK_", "TC_", "MAC_", "CHEMO_", "ANC", "IT_", "TUM_"):
        scale = {k: v * (1e6 if k.startswith(prefix) else 1) for k, v in bdf.atol_scale.items()}
        n = sum(n for *_, n in steps(replace(arm, model=bdf.with_tolerances(bdf.rtol, bdf.atol, scale))))
        print(f"    {prefix:7s} {n:6d} ({n / reference:.2f} of all)")
    sizes: list = []
    steps(arm, sizes)
    since, h = np.array(sizes).T
    looser = base.with_tolerances(base.rtol, base.atol, {k: 1e4 * v for k, v in base.atol_scale.items()})
    n_looser = sum(n for *_, n in steps(replace(arm, model=looser)))
    n_rtol = sum(n for *_, n in steps(replace(arm, model=base.with_tolerances(1e-5, base.atol))))
    print(f"(2b) Adams step size [day], median: first day after a dose {np.median(h[since <= 1]):.2g}, later "
          f"{np.median(h[since > 1]):.2g}; steps with every state's absolute tolerance 1e4x looser: {n_looser}, "
          f"with rtol 1e-5: {n_rtol}")
    events = roadrunner.RoadRunner(scenario_sbml(arm))
    integrator = events.getIntegrator()
    for key, value in (("relative_tolerance", base.rtol), ("stiff", base.stiff)):
        integrator.setValue(key, value)
    for sid, scale in base.atol_scale.items():
        integrator.setIndividualTolerance(sid, base.atol * scale)

    def with_events():
        events.resetAll()
        events.simulate(0, 180, 181)

    print("(3) ms per simulation of the default Ta1 arm:")
    print(f"    doses by splitting the integration (thymosim, Adams): {timed(arm.simulate):.1f}")
    print(f"    the same doses as SBML events, one roadrunner call:    {timed(with_events):.1f}")
    print(f"    BDF instead of Adams:                                  {timed(replace(arm, model=bdf).simulate):.1f}")
    integrator = base.runner().getIntegrator()  # the default model's runner, restored afterwards
    integrator.setValue("initial_time_step", 1e-4)
    print(f"    initial step 1e-4 day after each dose:                 {timed(arm.simulate):.1f}")
    integrator.setValue("initial_time_step", 0.0)
    print(f"    output every 0.25 day instead of 1 day:                {timed(replace(arm, step=0.25).simulate):.1f}")


if __name__ == "__main__":
    main()
