"""The timing yardstick: ../shared/bench/reference_qsp.ant, an independently written QSP model of
thymosim's size and dosing load, run by roadrunner at rtol 1e-6 / atol 1e-9 over 0-180 days with
181 outputs (see ../shared/bench/README.md). Benchmarks time it alternately with thymosim in the
same process and report ratios of medians."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

PATH = Path(os.environ.get("THYMOSIM_REFERENCE_MODEL")
            or Path(__file__).resolve().parents[2] / "shared" / "bench" / "reference_qsp.ant")
"""The reference model: $THYMOSIM_REFERENCE_MODEL, else ../shared/bench/reference_qsp.ant beside the checkout."""


def reference_run() -> Callable[[], float]:
    """A function that runs the yardstick model once and returns its wall time [s]."""
    import antimony
    import roadrunner

    if not PATH.is_file():
        raise SystemExit(f"the speed benchmarks time thymosim against a reference model, {PATH}, which is not "
                         "here: it is an independently written Antimony model of the same size and dosing load "
                         "(181 outputs over 180 days), kept outside the repository; set THYMOSIM_REFERENCE_MODEL to "
                         "its path. benchmarks/startup.py and benchmarks/accuracy.py do not need it.")
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyFile(str(PATH)) < 0:
        raise SystemExit(f"cannot load the yardstick model {PATH}: {antimony.getLastError()}")
    rr = roadrunner.RoadRunner(antimony.getSBMLString(antimony.getMainModuleName()))
    rr.getIntegrator().setValue("relative_tolerance", 1e-6)
    rr.getIntegrator().setValue("absolute_tolerance", 1e-9)

    def timed() -> float:
        start = time.perf_counter()
        rr.resetAll()
        rr.simulate(0, 180, 181)
        return time.perf_counter() - start

    timed()
    return timed


def alternate(ours: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median seconds of ``ours`` and of the yardstick, run alternately ``repeats`` times."""
    reference = reference_run()
    ours()
    a, b = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ours()
        a.append(time.perf_counter() - start)
        b.append(reference())
    return statistics.median(a), statistics.median(b)
