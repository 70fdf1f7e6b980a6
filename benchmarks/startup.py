"""Start-up cost with and without the cache of compiled models (thymosim.runner_cache).

Measures, on this machine, in fresh processes with an empty then a filled temporary cache:
- ``thymosim run --out DIR`` wall time, cold (compiles the model) and warm (loads it);
- a worker process ready to simulate (imports + ``default_model().runner()``), cold and warm;
- a worker's first simulation (the default arm; it imports pandas, which a ready worker has not);
- the same-process baseline ``python -c "import roadrunner"`` (the floor of any worker), run in turn
  with the others, so that each figure is also a ratio to it (a loaded machine slows both alike);
and in this process, the time to compile thymosim's SBML vs to load its cached state, as a ratio.
Targets: warm ``thymosim run`` <= 2.5 s, warm worker <= 0.5 s. On a shared machine the CPU seconds
are what a command costs, the wall seconds what a user waits; both are printed with the load average.

    python benchmarks/startup.py [--repeats 3] [--write]

``--write`` records the figures in ``benchmarks/results/startup.json`` (machine, load, date), the file
the documentation's start-up figures are checked against (``tests/test_doc_numbers.py``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER = ("from thymosim.model import default_model; "
          "default_model().runner()")
FIRST_RUN = "from thymosim import simulate; simulate('cisplatin_vinorelbine_ta1')"
BASELINE = "import roadrunner"
RESULT = Path(__file__).resolve().parent / "results" / "startup.json"


def machine() -> str:
    """CPU model and core count, for the record."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            name = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{name}, {os.cpu_count()} logical cores, {system}"


def timed(command: list[str], env: dict) -> tuple[float, float]:
    """(wall s, CPU s of the child: user + system) of a command; on a shared machine the CPU time is
    what the command costs, the wall time what a user waits."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def worker_ready(env: dict) -> tuple[float, float]:
    """Wall and CPU seconds from interpreter start to a runner ready, as a new worker process sees them."""
    return timed([sys.executable, "-c", WORKER], env)


def in_process_ratio() -> tuple[float, float]:
    """(compile s, load s) of thymosim's SBML in this process (roadrunner's own in-process cache bypassed
    by compiling first)."""
    import roadrunner

    from thymosim.model import sbml_path

    sbml = sbml_path().read_text(encoding="utf-8")
    start = time.perf_counter()
    rr = roadrunner.RoadRunner(sbml)
    compiled = time.perf_counter() - start
    state = rr.saveStateS()
    start = time.perf_counter()
    roadrunner.RoadRunner().loadStateS(state)
    return compiled, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help=f"record the figures in {RESULT}")
    args = parser.parse_args()
    run = [sys.executable, "-m", "thymosim.cli", "run", "--out"]
    cold_runs, warm_runs, cold_workers, warm_workers, first_runs, baselines = [], [], [], [], [], []
    loads = []
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            cache = Path(scratch) / f"cache{repeat}"
            env = {**os.environ, "THYMOSIM_CACHE_DIR": str(cache)}
            env.pop("THYMOSIM_NO_CACHE", None)
            out = str(Path(scratch) / f"out{repeat}")
            loads.append(os.getloadavg()[0])
            baselines.append(timed([sys.executable, "-c", BASELINE], env))
            cold_runs.append(timed([*run, out], env))
            warm_runs.append(timed([*run, out], env))
            warm_workers.append(worker_ready(env))
            first_runs.append(timed([sys.executable, "-c", FIRST_RUN], env))
            cold_workers.append(worker_ready({**env, "THYMOSIM_NO_CACHE": "1"}))
            baselines.append(timed([sys.executable, "-c", BASELINE], env))
            loads.append(os.getloadavg()[0])
    compiled, loaded = in_process_ratio()
    base_wall = statistics.median(p[0] for p in baselines)
    base_cpu = statistics.median(p[1] for p in baselines)

    def median(pairs: list[tuple[float, float]]) -> str:
        wall, cpu = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
        return f"{wall:.2f} s wall, {cpu:.2f} s CPU ({wall / base_wall:.1f} x / {cpu / base_cpu:.1f} x the baseline)"

    print(f"machine: {machine()}; load average {min(loads):.1f} to {max(loads):.1f} "
          f"(medians of {args.repeats})")
    print(f"baseline: python -c '{BASELINE}': {base_wall:.2f} s wall, {base_cpu:.2f} s CPU")
    print(f"thymosim run --out DIR, cold cache: {median(cold_runs)}")
    print(f"thymosim run --out DIR, warm cache: {median(warm_runs)} (target <= 2.5 s wall)")
    print(f"worker process ready, no cache:     {median(cold_workers)}")
    print(f"worker process ready, warm cache:   {median(warm_workers)} (target <= 0.5 s)")
    print(f"worker ready + first simulation:    {median(first_runs)} (warm cache; imports pandas)")
    print(f"in this process: compile {compiled:.2f} s, load cached state {loaded:.3f} s, "
          f"ratio compile / load = {compiled / loaded:.0f}")
    if args.write:
        def pair(pairs: list[tuple[float, float]]) -> dict[str, float]:
            return {"wall_s": round(statistics.median(p[0] for p in pairs), 2),
                    "cpu_s": round(statistics.median(p[1] for p in pairs), 2)}

        record = {"command": f"python benchmarks/startup.py --repeats {args.repeats} --write",
                  "machine": machine(), "date": datetime.date.today().isoformat(),
                  "load_average": [round(min(loads), 1), round(max(loads), 1)], "repeats": args.repeats,
                  "baseline": {"code": BASELINE, **pair(baselines)}, "run_cold": pair(cold_runs),
                  "run_warm": pair(warm_runs), "worker_cold": pair(cold_workers), "worker_warm": pair(warm_workers),
                  "worker_first_simulation": pair(first_runs),
                  "compile_over_load": round(compiled / loaded)}
        RESULT.parent.mkdir(exist_ok=True)
        RESULT.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
