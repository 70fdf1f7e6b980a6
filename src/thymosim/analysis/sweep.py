"""Parameter sweeps: grids and samples over any scenario value, evaluated as endpoints.

A *factor* is a path into the scenario's data form (see :mod:`thymosim.scenario`):
a parameter id (``"PK_CL"``, shorthand for ``"patient.parameters.PK_CL"``), a patient
field (``"patient.cd4"``), a dose field (``"doses[4].amt"``) or ``"horizon"``. Each
point is validated like a scenario file. Results are tidy (one row per run and
endpoint) with the factor values, a status and, for failures, the reason; every
other run is kept. With ``out=DIR`` results stream to Parquet parts as they
complete, and rerunning the same sweep resumes where it stopped.

Execution: serial, local processes (``workers=N``; one compiled model per worker,
values set by name), or Dask (``scheduler="tcp://..."`` or a ``distributed.Client``).
Every back end receives the :class:`Job` (scenario, its model, endpoints) and runs the
model it names, so the same points give identical tables in every mode, for an edited or
third-party model too. :func:`execute` is the public executor that sensitivity analyses
and trials build on.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import json
import math
import os
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thymosim.analysis.endpoints import defaults_for, evaluate, missing
from thymosim.model import Model, default_model
from thymosim.scenario import DOSE_KEYS, PATIENT_KEYS, TOP_KEYS, Scenario, ScenarioError

_PATH = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)(?:\[(\d+)\])?")


def factor_path(name: str, model: Model | None = None) -> list[str | int]:
    """``"doses[4].amt" -> ["doses", 4, "amt"]``; a bare parameter id of ``model`` (default:
    thymosim) maps into patient.parameters, a covariate's id into its patient field
    (``"CD4_0" -> ["patient", "cd4"]``)."""
    model = model or default_model()
    fields = {pid: name for name, pid in model.covariates.items()}
    if name in fields:
        return ["patient", fields[name]]
    if name in model.defaults:
        return ["patient", "parameters", name]
    path: list[str | int] = []
    for part in name.split("."):
        match = _PATH.fullmatch(part)
        if not match:
            raise ScenarioError(f"factor {name!r}: not a scenario path (e.g. PK_CL, patient.cd4, doses[0].amt)")
        path.append(match.group(1))
        if match.group(2) is not None:
            path.append(int(match.group(2)))
    return path


def apply_point(base: dict[str, Any], point: Mapping[str, Any], model: Model | None = None) -> Scenario:
    """The scenario ``base`` (data form) of ``model`` with each factor set to its value, validated."""
    data = copy.deepcopy(base)
    for name, value in point.items():
        node: Any = data
        path = factor_path(name, model)
        for key in path[:-1]:
            if isinstance(node, dict):
                node = node.setdefault(key, {})
            elif isinstance(key, int) and isinstance(node, list) and key < len(node):
                node = node[key]
            else:
                raise ScenarioError(f"factor {name!r}: {key!r} does not exist in the scenario")
        node[path[-1]] = value.item() if isinstance(value, np.generic) else value
        if path[-1] == "amt" and isinstance(value, str) and isinstance(node, dict):
            node.pop("unit", None)  # "1600 ug" carries its own unit
    return Scenario.from_dict(data, model=model)


def check_factors(scenario: Scenario, names: Sequence[str]) -> None:
    """Every factor names a value the scenario has (a parameter of its model, a patient field, an
    existing dose's field, or a top-level key); raises :class:`ScenarioError` before any run."""
    base = scenario.to_dict(standalone=False)
    for name in names:
        path = factor_path(name, scenario.model)
        node: Any = base
        for key in path[:-1]:
            exists = (isinstance(node, dict) and (key in node or key == "parameters")) or (
                isinstance(node, list) and isinstance(key, int) and key < len(node))
            if not exists:
                size = f" (the scenario has {len(node)})" if isinstance(node, list) else ""
                raise ScenarioError(f"factor {name!r}: {key!r} does not exist in scenario {scenario.name!r}{size}")
            node = node.get(key, {}) if isinstance(node, dict) else node[key]
        if path[0] not in ("patient", "doses") and path[0] not in TOP_KEYS:
            raise ScenarioError(f"factor {name!r}: not a parameter of model {scenario.model.name!r} or a scenario "
                                "key; allowed: parameter ids, patient.FIELD, doses[i].FIELD, horizon, step")
        last = path[-1]
        if path[0] == "patient" and len(path) == 2 and last not in PATIENT_KEYS:
            raise ScenarioError(f"factor {name!r}: {last!r} is not a patient field; allowed: "
                                f"{', '.join(k for k in PATIENT_KEYS if k != 'parameters')}")
        if path[0] == "doses" and len(path) == 3 and last not in DOSE_KEYS:
            raise ScenarioError(f"factor {name!r}: {last!r} is not a dose field; allowed: {', '.join(DOSE_KEYS)}")


def grid(factors: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Full factorial grid of factor values (one row per point)."""
    names = list(factors)
    return pd.DataFrame(list(itertools.product(*(factors[n] for n in names))), columns=names)


def sample(bounds: Mapping[str, tuple[float, float]], n: int, seed: int = 0, log: bool | None = None) -> pd.DataFrame:
    """``n`` Latin-hypercube points within ``bounds``; log-uniform where bounds span a
    decade or more (or as ``log`` says). Same seed, same points."""
    rng = np.random.default_rng(seed)
    columns = {}
    for name, (lo, hi) in bounds.items():
        u = (rng.permutation(n) + rng.random(n)) / n
        use_log = log if log is not None else (lo > 0 and hi / lo >= 10)
        columns[name] = np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))) if use_log else lo + u * (hi - lo)
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class Job:
    """What every run of a sweep shares: the scenario (data form), the model it runs, the
    endpoints, and whether to keep time courses. Sent once to each worker."""

    base: dict[str, Any]
    model: Model
    endpoints: tuple
    timecourses: bool = False
    scenario: Scenario | None = field(default=None, compare=False, repr=False)
    """``base`` validated once (:meth:`of` sets it; None when it does not validate): a point that changes
    only patient values is applied to it directly (:meth:`apply`); None: every point rebuilds the scenario."""
    checkpoint: Any = None
    """Optional: an object whose ``for_run(run_id, scenario)`` gives the run's
    :func:`~thymosim.simulation.simulate` ``checkpoint`` (a trial stopping treatment at progression)."""

    def apply(self, point: Mapping[str, Any]) -> Scenario:
        """The scenario of one point ``{factor: value}``. A point of patient fields and parameters only
        (a virtual patient) changes the validated scenario's patient, its values validated as in a
        scenario file (:meth:`thymosim.scenario.Scenario.with_patient`); any other point (doses, horizon
        ...) rebuilds and validates the whole scenario (:func:`apply_point`). Either way a bad value
        raises :class:`ScenarioError` naming it."""
        if self.scenario is not None:
            values: dict[str, Any] = {}
            parameters: dict[str, Any] = {}
            for name, value in point.items():
                path = factor_path(name, self.model)
                value = value.item() if isinstance(value, np.generic) else value
                if len(path) == 2 and path[0] == "patient" and path[1] != "parameters":
                    values[str(path[1])] = value
                elif len(path) == 3 and path[:2] == ["patient", "parameters"]:
                    parameters[str(path[2])] = value
                else:
                    return apply_point(self.base, point, self.model)
            return self.scenario.with_patient(values, parameters)
        return apply_point(self.base, point, self.model)

    @property
    def fast(self) -> bool:
        """Endpoint-only runs: built-in or ``KIND:OUTPUT`` endpoints evaluated on numpy arrays, no
        DataFrame (identical numbers; callables and kept time courses get the DataFrame)."""
        return not self.timecourses and all(isinstance(e, str) for e in self.endpoints)

    @classmethod
    def of(cls, scenario: Scenario, endpoints: Sequence[str | Callable], timecourses: bool = False,
           checkpoint: Any = None) -> Job:
        outputs = list(scenario.outputs or scenario.model.outputs)
        for name in endpoints:
            lacking = missing(name, outputs)  # unknown names fail here, before any run
            if lacking:
                raise KeyError(f"endpoint {endpoint_label(name)!r}: {lacking[0]!r} is not an output of scenario "
                               f"{scenario.name!r}; allowed: {', '.join(outputs)}")
        base = scenario.to_dict(standalone=False)
        try:  # validated once, as every run's scenario was before; a base that fails fails each run (slow path)
            validated: Scenario | None = Scenario.from_dict(copy.deepcopy(base), model=scenario.model)
        except ScenarioError:
            validated = None
        return cls(base, scenario.model, tuple(endpoints), timecourses, validated, checkpoint)


@dataclass(frozen=True)
class Outcome:
    """One run: endpoint values by label (empty if failed; a class such as a RECIST response is a
    string), status, reason, time course."""

    run: int
    values: dict[str, float | str]
    status: str = "ok"
    error: str = ""
    timecourse: pd.DataFrame | None = None


def run_task(job: Job, task: tuple[int, Mapping[str, Any]]) -> Outcome:
    """Simulate one point ``(run id, {factor: value})`` of ``job``; never raises."""
    run_id, point = task
    try:
        scenario = job.apply(point)
        extra = {"checkpoint": job.checkpoint.for_run(run_id, scenario)} if job.checkpoint is not None else {}
        course = scenario.simulate(frame=not job.fast, **extra)  # fails loudly on non-finite or negative outputs
        results = {endpoint_label(name): evaluate(name, course, scenario) for name in job.endpoints}
        return Outcome(run_id, results, timecourse=course if job.timecourses else None)
    except Exception as err:  # recorded with its reason; the sweep goes on
        return Outcome(run_id, {}, "failed", f"{type(err).__name__}: {err}")


def endpoint_label(endpoint: str | Callable) -> str:
    """The column label of an endpoint: its name, or a callable's ``__name__``."""
    return endpoint if isinstance(endpoint, str) else getattr(endpoint, "__name__", "custom")


def _tidy(point: Mapping[str, Any], endpoint_names: Sequence, outcome: Outcome) -> list[dict]:
    rows = []
    for name in endpoint_names:
        label = endpoint_label(name)
        value = outcome.values.get(label, math.nan)
        row = {"run": outcome.run, **{f"factor:{k}": v for k, v in point.items()}, "endpoint": label,
               "value": math.nan if isinstance(value, str) else value, "status": outcome.status,
               "error": outcome.error}
        if isinstance(value, str):  # a class (RECIST response): in a ``label`` column, value NaN
            row["label"] = value
        rows.append(row)
    return rows


_NUMBER = r"(?<![\w.])-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"
"""A number in an error message (not one inside a name such as x1)."""


@dataclass(frozen=True)
class Failures:
    """Failed runs of an analysis: how many of how many, why (reason -> count, commonest first; the
    numbers in a reason read N so that one cause at many values counts once) and how many were
    imputed (with the mean of the others)."""

    runs: int
    failed: int
    reasons: dict[str, int] = field(default_factory=dict)
    imputed: int = 0

    @property
    def share(self) -> float:
        """Failed share of the runs [0-1]."""
        return self.failed / self.runs if self.runs else 0.0

    def summary(self, label: str = "") -> str:
        """One line: how many runs failed, the share, what was imputed and the commonest reasons; "" if none."""
        if not self.failed:
            return ""
        why = "; ".join(f"{count} x {reason}" for reason, count in list(self.reasons.items())[:3])
        more = f"; {len(self.reasons) - 3} other reasons" if len(self.reasons) > 3 else ""
        what = f", {self.imputed} imputed with the mean of the others" if self.imputed else ""
        return (f"{label}{': ' if label else ''}{self.failed} of {self.runs} runs failed ({100 * self.share:.1f} %"
                f"{what}): {why}{more}")

    @classmethod
    def of_table(cls, table: pd.DataFrame) -> Failures:
        """Of a sweep table (:func:`run_sweep`): a run failed when its status is not ``ok``."""
        if not len(table):
            return cls(0, 0)
        runs = table.groupby("run")[["status", "error"]].first()
        return cls.of(runs[runs.status != "ok"], len(runs))

    @classmethod
    def of(cls, failed_rows: pd.DataFrame, runs: int, imputed: int = 0) -> Failures:
        """From the failed rows of a sweep table (one row per failed run; ``error``, ``status``)."""
        if not len(failed_rows):
            return cls(runs, 0)
        text = failed_rows.error.where(failed_rows.error.astype(str).str.len() > 0, failed_rows.status)
        # runs failing for one reason at different values count together: numbers read "N"
        text = text.fillna("failed").astype(str).str.replace(_NUMBER, "N", regex=True)
        reasons = text.str.slice(0, 100).value_counts()
        return cls(runs, len(failed_rows), {str(k): int(v) for k, v in reasons.items()}, imputed)


class SweepFolderError(ScenarioError):
    """An output folder holds another sweep's results (or unreadable ones), or another writer."""


MANIFEST = "sweep.json"
LOCK = ".sweep.lock"
PART_KEY = b"thymosim.sweep"  # parquet metadata: the fingerprint of the sweep a part belongs to


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """``write(tmp)`` then rename ``tmp`` onto ``path``; the temporary file is removed if anything
    fails (a full disk leaves neither a half file nor a stray temporary)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SweepLock:
    """One writer per sweep folder: ``.sweep.lock`` (pid, host, start time) created atomically.
    A lock of a dead process on this host is taken over; any other is refused, naming its holder."""

    def __init__(self, folder: Path) -> None:
        import socket

        self.path = folder / LOCK
        self.record = {"pid": os.getpid(), "host": socket.gethostname(),
                       "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        for _ in range(3):
            tmp = folder / f".sweep.lock.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(self.record), encoding="utf-8")
            try:
                os.link(tmp, self.path)  # atomic: fails if a lock exists
                return
            except FileExistsError:
                holder = self._holder()
                if holder.get("host") == self.record["host"] and isinstance(holder.get("pid"), int) \
                        and not _alive(holder["pid"]):
                    self.path.unlink(missing_ok=True)  # stale: its writer died
                    continue
                raise SweepFolderError(
                    f"{folder}: another sweep is writing here (pid {holder.get('pid')}, host {holder.get('host')}, "
                    f"started {holder.get('started')}); wait for it or use another folder (if that process is gone, "
                    f"delete {self.path})") from None
            finally:
                tmp.unlink(missing_ok=True)
        raise SweepFolderError(f"{folder}: could not take the writer's lock {self.path}")

    def _holder(self) -> dict:
        try:
            holder = json.loads(self.path.read_text(encoding="utf-8"))
            return holder if isinstance(holder, dict) else {}
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        if self._holder().get("pid") == self.record["pid"]:
            self.path.unlink(missing_ok=True)


class SweepStore:
    """The output folder of a streamed sweep. ``sweep.json`` records the sweep's fingerprint
    (scenario, model content and solver, points, endpoints) and the parts written; each part is
    named by the runs it holds and its checksum, ``part-<first>-<last>-<sha256 of the file, 16
    hex>.parquet``, carries the fingerprint in its metadata, and is written atomically.

    Only listed parts are read. When writing, a part whose bytes do not match its checksum
    (truncated, flipped) is set aside as ``*.corrupt-<time>``, an unlisted part (a stray or
    altered copy) as ``*.unlisted-<time>``, and their runs are recomputed; a missing part's
    runs likewise. A missing or damaged ``sweep.json`` is rebuilt from the parts that carry this
    sweep's fingerprint and hold the points their run ids claim. One writer per folder
    (:class:`SweepLock`, respected by ``overwrite`` too); call :meth:`close` when done."""

    def __init__(self, out: str | Path, fingerprint: str | None = None, overwrite: bool = False,
                 points: pd.DataFrame | None = None) -> None:
        self.out = Path(out)
        self.lock: SweepLock | None = None
        manifest = self.out / MANIFEST
        self.fingerprint = fingerprint
        if fingerprint is None:  # reading only: never renames anything
            if not manifest.is_file():
                raise SweepFolderError(f"{self.out}: no streamed sweep here ({MANIFEST} missing; rerun the sweep "
                                       "command with this folder to rebuild it from the valid parts)")
            recorded = self._manifest()
            if recorded is None:
                raise SweepFolderError(f"{self.out}: {MANIFEST} is damaged; rerun the sweep command with this folder "
                                       "(it rebuilds it from the valid parts)")
            self.fingerprint, self.parts = recorded
            self.writing = False
            return
        self.writing = True
        self.out.mkdir(parents=True, exist_ok=True)
        self.lock = SweepLock(self.out)
        try:
            self._open(fingerprint, overwrite, points)
        except BaseException:
            self.close()
            raise

    def _open(self, fingerprint: str, overwrite: bool, points: pd.DataFrame | None) -> None:
        recorded = self._manifest()
        if recorded is None:  # missing or damaged: adopt the parts of this very sweep
            self.parts = self._adoptable(fingerprint, points)
            other = [p for p in self.out.glob("part-*.parquet") if p.name not in self.parts]
            if other and not overwrite:
                raise SweepFolderError(
                    f"{self.out}: {MANIFEST} is missing or damaged and {len(other)} part(s) here are not of this "
                    "sweep (a different scenario, model, grid or endpoints); use a new folder or overwrite "
                    "(--overwrite)")
            stale = bool(other)
        else:
            stale = recorded[0] != fingerprint
            if stale and not overwrite:
                raise SweepFolderError(
                    f"{self.out}: holds the results of another sweep (fingerprint {recorded[0][:12]}, this one "
                    f"{fingerprint[:12]}): a different scenario, model, grid or endpoints; use a new folder or "
                    "overwrite (--overwrite)")
            self.parts = [] if stale else recorded[1]
        if stale:
            self.parts = []
            for old in [*self.out.glob("part-*.parquet"), *self.out.glob("part-*.corrupt*"),
                        *self.out.glob("part-*.unlisted*")]:
                old.unlink()
        for stray in self.out.glob(".*.tmp"):  # temporaries of a killed writer (we hold the lock)
            stray.unlink(missing_ok=True)
        self._save()

    def _manifest(self) -> tuple[str, list[str]] | None:
        """(fingerprint, listed parts) of sweep.json; None if missing or damaged."""
        try:
            data = json.loads((self.out / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("fingerprint"), str):
            return None
        parts = data.get("parts", [])
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            return None
        return data["fingerprint"], parts

    def _save(self) -> None:
        text = json.dumps({"fingerprint": self.fingerprint, "parts": sorted(self.parts)})
        write_atomically(self.out / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def _adoptable(self, fingerprint: str, points: pd.DataFrame | None) -> list[str]:
        """Parts (names) that pass their checksum, carry ``fingerprint`` and whose rows hold, for
        each run id, that run's point and only runs inside the range the name claims."""
        import pyarrow.parquet as pq

        adopted = []
        records = points.to_dict("records") if points is not None else None
        for path in sorted(self.out.glob("part-*.parquet")):
            try:
                first, last, checksum = path.stem.split("-")[1:4]
                if hashlib.sha256(path.read_bytes()).hexdigest()[:16] != checksum:
                    continue
                if (pq.read_schema(path).metadata or {}).get(PART_KEY) != fingerprint.encode():
                    continue
                frame = pd.read_parquet(path)
                if not frame.run.between(int(first), int(last)).all():
                    continue
                if records is not None and not all(
                        0 <= run < len(records) and all(_same(row.get(f"factor:{k}"), v) for k, v in
                                                        records[run].items())
                        for run, row in zip(frame.run, frame.to_dict("records"), strict=True)):
                    continue
            except Exception:  # noqa: BLE001 - an unreadable part is simply not adopted
                continue
            adopted.append(path.name)
        return adopted

    def _valid(self) -> list[tuple[Path, set[int]]]:
        """Listed parts whose bytes match their checksum, with their runs. When writing, a bad
        part is set aside as ``*.corrupt-<time>``, an unlisted one as ``*.unlisted-<time>`` (their
        runs are then recomputed); when reading, skipped with a warning."""
        good, listed = [], set(self.parts)
        for path in sorted(self.out.glob("part-*.parquet")):
            checksum = path.stem.rsplit("-", 1)[-1]
            if path.name not in listed:
                if self.writing:
                    path.rename(path.with_name(f"{path.stem}.unlisted-{time.time_ns()}"))
                else:
                    warnings.warn(f"{path.name}: not listed in {MANIFEST}, skipped", stacklevel=3)
            elif hashlib.sha256(path.read_bytes()).hexdigest()[:16] == checksum:
                good.append((path, set(pd.read_parquet(path, columns=["run"]).run)))
            elif self.writing:
                path.rename(path.with_name(f"{path.stem}.corrupt-{time.time_ns()}"))
            else:
                warnings.warn(f"{path.name}: checksum mismatch, skipped (rerun the sweep to recompute it)",
                              stacklevel=3)
        if self.writing:
            present = {p.name for p, _ in good}
            if present != listed:
                self.parts = sorted(present)
                self._save()
        return good

    def done(self) -> set[int]:
        return set().union(*(runs for _, runs in self._valid()))

    def write(self, rows: list[dict]) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        runs = [r["run"] for r in rows]
        table = pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), PART_KEY: self.fingerprint.encode()})
        tmp = self.out / f".part-{min(runs)}-{max(runs)}.{os.getpid()}.tmp"
        try:
            pq.write_table(table, tmp)
            checksum = hashlib.sha256(tmp.read_bytes()).hexdigest()[:16]
            path = self.out / f"part-{min(runs):06d}-{max(runs):06d}-{checksum}.parquet"
            os.replace(tmp, path)  # atomic: a part is whole or absent
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.parts.append(path.name)
        self._save()  # killed before this: the part is unlisted, set aside and its runs recomputed
        return path

    def read(self) -> pd.DataFrame:
        """Every valid row once: a run held by two listed parts is taken from the first."""
        frames: list[pd.DataFrame] = []
        seen: set[int] = set()
        for path, runs in self._valid():
            frame = pd.read_parquet(path)
            frames.append(frame[~frame.run.isin(seen)])
            seen |= runs
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True).sort_values(["run", "endpoint"], ignore_index=True)

    def close(self) -> None:
        """Release the writer's lock."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def _same(stored: Any, value: Any) -> bool:
    """A factor value read back from a part equals the point's (floats exactly, NaN equal to NaN)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and isinstance(stored, float | np.floating):
        return stored == value or (math.isnan(stored) and math.isnan(value))
    return stored == value or str(stored) == str(value)


def fingerprint(job: Job, points: pd.DataFrame) -> str:
    """sha256 of what determines a sweep's rows: scenario data, the model (content, maps, limits,
    solver), points, endpoint labels, the checkpoint if any."""
    data = {"scenario": job.base, "model": repr(job.model._identity()),
            "points": points.to_dict("records"), "endpoints": [endpoint_label(e) for e in job.endpoints]}
    if job.checkpoint is not None:
        data["checkpoint"] = repr(job.checkpoint)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def read_results(out: str | Path) -> pd.DataFrame:
    """All valid rows written by a streamed sweep, sorted by run and endpoint."""
    return SweepStore(out).read()


def run_sweep(
    scenario: Scenario,
    points: pd.DataFrame,
    endpoints: Sequence[str | Callable] | None = None,
    out: str | Path | None = None,
    workers: int = 1,
    scheduler: Any = None,
    chunk: int = 50,
    progress: bool = True,
    timecourses: bool = False,
    overwrite: bool = False,
    checkpoint: Any = None,
) -> pd.DataFrame:
    """Evaluate ``endpoints`` at every row of ``points`` (columns are factors).

    Returns the tidy table (run, factor:<name>..., endpoint, value, status, error) sorted
    by run; an endpoint whose result is a class (``recist``: CR/PR/SD/PD/NE) has it in a ``label``
    column, its value NaN. :meth:`Failures.of_table` counts the failed runs and their reasons.
    With ``out``, rows stream to checksummed parts in ``out`` (:class:`SweepStore`) as runs complete,
    and runs already there are skipped (resume); a folder holding another sweep is refused unless
    ``overwrite``. ``timecourses=True`` also returns full time courses in
    ``table.attrs["timecourses"]`` (in memory; not streamed). ``checkpoint``: see :class:`Job`.
    """
    endpoints = list(endpoints or defaults_for(list(scenario.outputs or scenario.model.outputs)))
    job = Job.of(scenario, endpoints, timecourses, checkpoint)
    check_factors(scenario, points.columns)
    store = SweepStore(out, fingerprint(job, points), overwrite, points) if out is not None else None
    try:
        return _run_sweep(job, points, endpoints, store, workers, scheduler, chunk, progress)
    finally:
        if store is not None:
            store.close()


def _run_sweep(job: Job, points: pd.DataFrame, endpoints: list, store: SweepStore | None, workers: int,
               scheduler: Any, chunk: int, progress: bool) -> pd.DataFrame:
    done = store.done() if store else set()
    records = points.to_dict("records")
    tasks = [(i, rec) for i, rec in enumerate(records) if i not in done]
    rows: list[dict] = []
    buffer: list[dict] = []
    courses: dict[int, pd.DataFrame] = {}

    def flush() -> None:
        nonlocal buffer
        if store is not None and buffer:
            store.write(buffer)
        buffer = []

    results = execute(job, tasks, workers, scheduler)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(tasks), desc="sweep", unit="run")
    for outcome in results:
        new = _tidy(records[outcome.run], endpoints, outcome)
        buffer += new
        if store is None:
            rows += new
        if outcome.timecourse is not None:
            courses[outcome.run] = outcome.timecourse
        if len(buffer) >= chunk * len(endpoints):
            flush()
    flush()
    if store is not None:
        table = store.read()
        missing = sorted(set(range(len(records))) - set(table.run if len(table) else []))
        if missing:  # lost under us (a part removed while running): compute them now
            for outcome in execute(job, [(i, records[i]) for i in missing], workers, scheduler):
                buffer += _tidy(records[outcome.run], endpoints, outcome)
            flush()
            table = store.read()
    else:
        table = pd.DataFrame(rows)
        if len(table):
            table = table.sort_values(["run", "endpoint"], ignore_index=True)
    table.attrs["timecourses"] = courses
    return table


def execute(job: Job, tasks: Sequence[tuple[int, Mapping[str, Any]]], workers: int = 1,
            scheduler: Any = None) -> Iterable[Outcome]:
    """Run ``tasks`` (run id, point) of ``job``: serially, on ``workers`` local processes, or on a
    Dask ``scheduler`` (address or Client). Yields :class:`Outcome` in completion order."""
    if scheduler is not None:
        return _execute_dask(job, tasks, scheduler)
    run = functools.partial(run_task, job)
    if workers <= 1:
        return map(run, tasks)
    import multiprocessing as mp

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    pool = ctx.Pool(workers)

    def generate():
        try:
            yield from pool.imap_unordered(run, tasks, chunksize=max(1, len(tasks) // (20 * workers)))
        finally:
            pool.terminate()

    return generate()


def _execute_dask(job: Job, tasks: Sequence, scheduler: Any) -> Iterable[Outcome]:
    from distributed import Client, as_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    shared = client.scatter(job, broadcast=True)
    futures = client.map(run_task, [shared] * len(tasks), list(tasks), pure=False)
    for future in as_completed(futures):
        yield future.result()
