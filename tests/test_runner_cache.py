"""The on-disk cache of compiled models: a second process loads what the first compiled, a
changed SBML or solver does not reuse it, concurrent writers leave one valid entry, a corrupt
entry is ignored and rewritten, and a loaded runner gives exactly the results of a fresh compile
(parameters set, events and doses, resets)."""

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from thymosim import Patient, runner_cache
from thymosim.model import cache_loads, compilations, default_model, forget_runners
from thymosim.scenario import named

SRC = str(Path(__file__).resolve().parents[1] / "src")
TOY = """
model toy
  x' = -k*x + q; x = 1; k = 0.1; q = 0
  at time >= 5: q = q + 2
end
"""
CHILD = textwrap.dedent("""
    import json, os, sys, time
    import antimony
    from thymosim.model import Model, Output, cache_loads, compilations
    antimony.loadAntimonyString(sys.argv[1])
    sbml = antimony.getSBMLString(antimony.getMainModuleName())
    if len(sys.argv) > 2:  # wait for the go file, so that two children compile at the same moment
        print("ready", flush=True)
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.01)
    model = Model(sbml, outputs=[Output("x", "x")], name="toy")
    rr = model.reset({"k": 0.2})
    x = rr.simulate(0, 10, 11, ["x"])[:, 0].tolist()
    print(json.dumps({"compilations": compilations(), "loads": cache_loads(), "x": x}))
""")


def child_env(cache: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "THYMOSIM_NO_CACHE"}
    env.update(THYMOSIM_CACHE_DIR=str(cache), PYTHONPATH=os.pathsep.join([SRC, env.get("PYTHONPATH", "")]), **extra)
    return env


def run_child(cache: Path, model: str = TOY, **extra: str) -> dict:
    import json

    done = subprocess.run([sys.executable, "-c", CHILD, model], env=child_env(cache, **extra), capture_output=True,
                          text=True, timeout=300, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.rrstate"))


def test_a_second_process_finds_the_cached_model_and_a_changed_sbml_does_not(tmp_path):
    first = run_child(tmp_path)
    assert (first["compilations"], first["loads"]) == (1, 0) and len(entries(tmp_path)) == 1
    second = run_child(tmp_path)
    assert (second["compilations"], second["loads"]) == (0, 1)
    assert second["x"] == first["x"]
    changed = run_child(tmp_path, TOY.replace("q = q + 2", "q = q + 3"))
    assert (changed["compilations"], changed["loads"]) == (1, 0) and len(entries(tmp_path)) == 2
    off = run_child(tmp_path, THYMOSIM_NO_CACHE="1")
    assert (off["compilations"], off["loads"]) == (1, 0)


def test_two_processes_compiling_at_once_leave_one_valid_entry(tmp_path):
    go = tmp_path / "go"
    cache = tmp_path / "cache"
    children = [subprocess.Popen([sys.executable, "-c", CHILD, TOY, str(go)], env=child_env(cache),
                                 stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    go.touch()
    outs = [child.communicate(timeout=300)[0] for child in children]
    assert all(child.returncode == 0 for child in children)
    assert len(entries(cache)) == 1 and not list(cache.glob(".*.tmp"))
    later = run_child(cache)
    assert later["loads"] == 1 and later["compilations"] == 0
    assert all(later["x"] == __import__("json").loads(out.splitlines()[-1])["x"] for out in outs)


def test_a_corrupt_entry_is_ignored_and_rewritten(tmp_path):
    run_child(tmp_path)
    (entry,) = entries(tmp_path)
    blob = bytearray(entry.read_bytes())
    blob[len(blob) // 2: len(blob) // 2 + 64] = b"x" * 64  # roadrunner itself would load this silently
    entry.write_bytes(bytes(blob))
    assert run_child(tmp_path)["compilations"] == 1
    assert run_child(tmp_path)["loads"] == 1
    entry.write_bytes(b"not a state")
    assert run_child(tmp_path)["compilations"] == 1


def test_entries_are_keyed_by_content_solver_and_library(monkeypatch, tmp_path):
    import roadrunner

    model = default_model()
    key = runner_cache.entry_key(model.key, model._solver())
    assert runner_cache.entry_key(model.key, model.with_tolerances(1e-8, 1e-10)._solver()) != key
    assert runner_cache.entry_key("0" * 64, model._solver()) != key
    monkeypatch.setattr(roadrunner, "__version__", "0.0.0")
    assert runner_cache.entry_key(model.key, model._solver()) != key


def test_the_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("THYMOSIM_CACHE_DIR", raising=False)
    monkeypatch.delenv("THYMOSIM_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert runner_cache.cache_dir() == tmp_path / "xdg" / "thymosim"
    monkeypatch.setenv("THYMOSIM_CACHE_DIR", str(tmp_path / "mine"))
    assert runner_cache.cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("THYMOSIM_NO_CACHE", "1")
    assert runner_cache.cache_dir() is None
    monkeypatch.setenv("THYMOSIM_NO_CACHE", "0")
    assert runner_cache.cache_dir() == tmp_path / "mine"


def test_the_suite_never_uses_the_users_cache():
    assert Path(os.environ["THYMOSIM_CACHE_DIR"]).name.startswith("thymosim-test-cache-")


def runs(scenario):
    """The default arm, a patient with changed parameters (covariates and a PK override), then the
    default arm again: doses, events and resets between runs."""
    changed = replace(scenario, patient=Patient(cd4=500, cd8=300, cd3=850, parameters={"PK_CL": 200.0}))
    return [scenario.simulate().to_numpy(), changed.simulate().to_numpy(), scenario.simulate().to_numpy()]


def test_a_loaded_runner_gives_exactly_the_results_of_a_fresh_compile(monkeypatch, tmp_path):
    scenario = named("cisplatin_vinorelbine_ta1")
    model = default_model()
    monkeypatch.setenv("THYMOSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("THYMOSIM_NO_CACHE", "1")
    forget_runners()
    before = compilations()
    fresh = runs(scenario)
    assert compilations() == before + 1
    monkeypatch.delenv("THYMOSIM_NO_CACHE")
    forget_runners()
    model.runner()  # compiled again, and stored
    assert len(entries(tmp_path)) == 1
    forget_runners()
    loads = cache_loads()
    start = time.perf_counter()
    model.runner()
    assert cache_loads() == loads + 1, "the runner was not loaded from the cache"
    assert time.perf_counter() - start < 2.0
    cached = runs(scenario)
    assert not np.array_equal(fresh[0], fresh[1]), "the changed patient must change the results"
    for a, b in zip(fresh, cached, strict=True):
        np.testing.assert_array_equal(a, b)
    forget_runners()


WORKER = textwrap.dedent("""
    import sys
    from thymosim.model import cache_loads, default_model
    default_model().runner()
    heavy = ("pandas", "matplotlib", "libsbml", "scipy", "tellurium", "SALib", "lifelines", "pyarrow")
    print(cache_loads(), sorted(m for m in heavy if m in sys.modules))
""")


def test_a_warm_worker_loads_the_model_without_the_heavy_packages(tmp_path):
    """A new worker process ready to simulate (the default model's runner) reads the tables without
    pandas and, from a warm cache, the SBML's parsed facts without libsbml: what keeps it near the
    cost of ``import roadrunner`` (benchmarks/startup.py)."""
    def worker() -> str:
        done = subprocess.run([sys.executable, "-c", WORKER], env=child_env(tmp_path), capture_output=True,
                              text=True, timeout=300, check=True)
        return done.stdout.strip().splitlines()[-1]

    worker()  # compiles and fills the cache
    assert worker() == "1 []"
