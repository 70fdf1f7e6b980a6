"""Sweep and sensitivity benchmarks, each a ratio measured in one process. Sweeps with built-in
endpoints take the endpoint-only fast path (no DataFrame per run).

    python benchmarks/sweeps.py throughput [--n 40]    # (a) run_sweep vs a bare roadrunner loop doing the
                                                       #     same work, target >= 0.95
    python benchmarks/sweeps.py workers [--n 80]       # (b) 2 workers vs 1, target >= 1.8x
    python benchmarks/sweeps.py memory [--n 20000]     # (c) RSS growth over a long sweep, target < 100 MB
    python benchmarks/sweeps.py sobol [--n 512]        # (d) Sobol, 20 parameters, 2 workers: wall time,
                                                       #     target <= 240 s, and its ratio to the yardstick
                                                       #     model's cost x simulations / 2
    python benchmarks/sweeps.py prepare [--n 100]      # (e) virtual patients applied to the validated scenario
                                                       #     vs the whole scenario rebuilt and validated per run:
                                                       #     per-point cost and a 28-day sweep's wall-time ratio
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import warnings

import numpy as np

from thymosim import Dose, Regimen
from thymosim.analysis import sensitivity as sa
from thymosim.analysis import sweep
from thymosim.analysis.endpoints import ENDPOINTS
from thymosim.analysis.sweep import Job, apply_point, run_sweep, sample
from thymosim.model import default_model
from thymosim.scenario import Scenario, named
from thymosim.simulation import output_grid

FACTORS = {"PK_CL": (40.0, 200.0), "TC_E_thy_TA1": (1.0, 60.0), "CHEMO_k_T_vnr": (0.05, 1.5)}


def scenario(horizon: float = 180.0, step: float = 1.0) -> Scenario:
    """The default Ta1 arm; a shorter horizon keeps only the doses inside it."""
    base = named("cisplatin_vinorelbine_ta1")
    if horizon < base.horizon:
        doses = [Dose(d.drug, d.amt, d.unit + d.per_unit, d.time, d.ii, until=horizon, dur=d.dur)
                 if d.addl else d for d in base.regimen.doses]
        return Scenario("bench", Regimen(tuple(doses)), base.patient, horizon=horizon, step=step)
    return Scenario("bench", base.regimen, base.patient, horizon=horizon, step=step)


def bare_sweep(s: Scenario, points, endpoint: str) -> list[float]:
    """What a user would hand-write: set values by name, integrate between doses, compute the
    endpoint on the arrays."""
    model = default_model()
    rr = model.runner()
    actions = s.regimen.actions(s.patient.bsa)
    grid = output_grid(s.horizon, s.step)
    columns = ["time", "CD3", "CD4", "CD8", "NK", "IL2", "IFNg", "M1_M2", "tumour_diameter"]
    rr.timeCourseSelections = columns
    out = []
    for point in points.to_dict("records"):
        model.reset(model.values(s.patient) | point)  # public API: set every value, reset, check the baseline
        rows, t0, k = [], 0.0, 0
        for t1 in sorted({a[0] for a in actions if 0 < a[0] <= grid[-1]} | {grid[-1]}):
            while k < len(actions) and actions[k][0] <= t0:
                rr.setValue(actions[k][1], rr.getValue(actions[k][1]) + actions[k][2])
                k += 1
            times = np.unique(np.r_[t0, grid[(grid >= t0) & (grid < t1)], t1])
            rows.append(np.asarray(rr.simulate(times=times))[:-1])
            t0 = t1
        data = np.vstack(rows)
        out.append(ENDPOINTS[endpoint]({c: data[:, i] for i, c in enumerate(columns)}))
    return out


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(n: int) -> None:
    s, points = scenario(), sample(FACTORS, n, seed=1)
    run_sweep(s, points.iloc[:2], endpoints=["auc_CD4"])  # warm up
    t_api, t_bare = [], []
    for half in (points.iloc[: n // 2], points.iloc[n // 2:]) * 2:  # alternate to share machine noise
        start = time.perf_counter()
        run_sweep(s, half, endpoints=["auc_CD4"])
        t_api.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare_sweep(s, half, "auc_CD4")
        t_bare.append(time.perf_counter() - start)
    ratio = sum(t_bare) / sum(t_api)
    print(f"(a) {2 * n} simulations each: bare {1e3 * sum(t_bare) / (2 * n):.1f} ms/sim, "
          f"thymosim {1e3 * sum(t_api) / (2 * n):.1f} ms/sim; throughput ratio thymosim/bare = {ratio:.3f}")


def workers(n: int) -> None:
    s, points = scenario(), sample(FACTORS, n, seed=2)
    run_sweep(s, points.iloc[:2], endpoints=["auc_CD4"])
    start = time.perf_counter()
    one = run_sweep(s, points, endpoints=["auc_CD4"], workers=1)
    t1 = time.perf_counter() - start
    start = time.perf_counter()
    two = run_sweep(s, points, endpoints=["auc_CD4"], workers=2)
    t2 = time.perf_counter() - start
    assert one.equals(two)
    print(f"(b) {n} simulations: 1 worker {t1:.1f} s, 2 workers {t2:.1f} s; speed-up {t1 / t2:.2f}x (identical tables)")


def memory(n: int, out: str | None) -> None:
    s = scenario(horizon=28.0, step=1.0)
    points = sample(FACTORS, n, seed=3)
    run_sweep(s, points.iloc[:200], endpoints=["auc_CD4"])
    before = rss_mb()
    start = time.perf_counter()
    table = run_sweep(s, points, endpoints=["auc_CD4", "lymphocyte_nadir"], out=out, chunk=500)
    print(f"(c) {n} simulations (28-day scenario) in {time.perf_counter() - start:.0f} s; "
          f"peak RSS {before:.0f} -> {rss_mb():.0f} MB (growth {rss_mb() - before:.0f} MB); "
          f"{(table.status != 'ok').sum()} failed rows")


def sobol(n: int) -> None:
    from yardstick import reference_run

    reference = reference_run()
    one = sorted(reference() for _ in range(21))[10]  # median seconds of one yardstick simulation
    s = scenario()
    local = sa.local_sensitivity(s, endpoints=["auc_CD4"], workers=2)
    params = list(local.assign(a=local.sensitivity.abs()).sort_values("a", ascending=False).parameter[:20])
    print("parameters:", ", ".join(params))
    f = sa.model_function(s, params, "auc_CD4", workers=2, impute=True)  # a speed benchmark: imputation accepted
    start = time.perf_counter()
    si = sa.sobol_indices(f, sa.problem(params), n=n, seed=0)
    wall = time.perf_counter() - start
    print(si.sort_values("ST", ascending=False).head(8).round(3).to_string())
    if len(f.failures):
        kind = f.failures.error.str.extract(r"(InfeasibleBaseline|CV_[A-Z_]+|not finite|< 0)")[0].fillna("other")
        print("failures by kind:", kind.value_counts().to_dict())
    budget = one * si.attrs["evaluations"] / 2
    print(f"(d) Sobol, 20 parameters, N = {n} ({si.attrs['evaluations']} simulations, 2 workers): {wall:.0f} s "
          f"(target <= 240 s); converged: {si.attrs['converged']}; "
          f"failures: {si.attrs['failures'].summary() or 'none'}; yardstick "
          f"{1e3 * one:.1f} ms/simulation -> ratio wall / (yardstick x simulations / 2) = {wall / budget:.2f}")


def prepare(n: int, repeats: int = 6) -> None:
    """Per run, a sweep of patient values (a virtual population) either changes the patient of the scenario
    validated once (Job.apply) or, as before, rebuilds and validates the whole scenario from its data form
    (apply_point). Both in this process, alternating; identical tables."""
    s = scenario(horizon=28.0, step=1.0)
    points = sample(FACTORS, n, seed=4).assign(**{"patient.cd4": np.linspace(120.0, 260.0, n)})
    job = Job.of(s, ["auc_CD4"])
    rows = points.to_dict("records")
    assert all(job.apply(p) == apply_point(job.base, p, job.model) for p in rows[:20])
    per_point = {}
    for label, prepare_one in (("rebuilt", lambda p: apply_point(job.base, p, job.model)), ("applied", job.apply)):
        start = time.perf_counter()
        for p in rows:
            prepare_one(p)
        per_point[label] = (time.perf_counter() - start) / n
    fast = Job.apply

    def rebuilt(self, point):
        return apply_point(self.base, point, self.model)

    warnings.simplefilter("ignore", UserWarning)  # PK_CL below its plausible range: the same in both
    run_sweep(s, points.iloc[:2], endpoints=["auc_CD4"], progress=False)  # warm up
    times: dict[str, list[float]] = {"applied": [], "rebuilt": []}
    tables = {}
    for k in range(repeats):  # alternate, each first in turn, to share machine noise
        for label, method in (("applied", fast), ("rebuilt", rebuilt))[::1 if k % 2 else -1]:
            sweep.Job.apply = method  # type: ignore[method-assign]
            start = time.perf_counter()
            tables[label] = run_sweep(s, points, endpoints=["auc_CD4"], progress=False)
            times[label].append(time.perf_counter() - start)
    sweep.Job.apply = fast  # type: ignore[method-assign]
    assert tables["applied"].equals(tables["rebuilt"])
    ratio = statistics.median(times["applied"]) / statistics.median(times["rebuilt"])
    print(f"(e) {n} virtual patients: scenario per run {1e3 * per_point['rebuilt']:.2f} ms rebuilt and validated -> "
          f"{1e3 * per_point['applied']:.2f} ms applied ({per_point['rebuilt'] / per_point['applied']:.1f}x); "
          f"28-day sweep wall time applied / rebuilt = {ratio:.3f} (median of {repeats}; identical tables)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["throughput", "workers", "memory", "sobol", "prepare"])
    parser.add_argument("--n", type=int)
    parser.add_argument("--out", help="memory: stream to this directory")
    args = parser.parse_args()
    defaults = {"throughput": 40, "workers": 80, "memory": 20000, "sobol": 512, "prepare": 100}
    n = args.n or defaults[args.which]
    {"throughput": throughput, "workers": workers, "sobol": sobol, "prepare": prepare}.get(
        args.which, lambda k: memory(k, args.out))(n)


if __name__ == "__main__":
    main()
