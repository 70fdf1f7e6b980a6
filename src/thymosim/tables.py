"""The data tables in ``models/``: parameters (the only place a parameter value is written:
value, unit, bounds, role, evidence flag, source), drugs, outputs and patient covariates.

Parameter ids follow one prefix legend (see ``models/parameters.tsv``'s header and
:data:`PREFIXES`); ``role`` is ``parameter`` (screened by default), ``covariate`` (a patient
characteristic), ``input`` (a dosing input set by the driver) or ``reference`` (a value the
figures and the healthy patient use, not in the ODEs).
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import tomllib
from pathlib import Path

import pandas as pd

from thymosim.model import Drug, ModelError, Output, clear_caches, model_dir

COLUMNS = ["id", "value", "unit", "lower", "upper", "domain", "role", "evidence", "source", "module", "description"]


def load_limits(directory: Path | None = None) -> dict[str, tuple[str, float, float]]:
    """Parameter id -> (hard domain, plausible lower, plausible upper), from ``parameters.tsv``."""
    table = load_parameter_table(directory)
    return {pid: (r.domain, float(r.lower), float(r.upper)) for pid, r in table.iterrows()}
EVIDENCE = ("measured", "derived", "fitted", "assumed")
ROLES = ("parameter", "covariate", "input", "reference")


def _read(name: str, directory: Path | None = None) -> pd.DataFrame:
    return pd.read_csv((directory or model_dir()) / name, sep="\t", comment="#", dtype=str, keep_default_na=False)


def load_parameter_table(directory: Path | None = None) -> pd.DataFrame:
    """``models/parameters.tsv`` (or that of another models/ ``directory``) indexed by id."""
    table = pd.read_csv((directory or model_dir()) / "parameters.tsv", sep="\t", comment="#",
                        dtype={"source": str})
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"parameters.tsv lacks column(s) {missing}; required: {COLUMNS}")
    return table.set_index("id")


@functools.cache
def parameter_value(pid: str) -> float:
    """The table's value of one parameter (read once per process)."""
    return float(load_parameter_table().value[pid])


def load_drugs(directory: Path | None = None) -> list[Drug]:
    """The drug map, ``models/drugs.tsv``."""
    table = _read("drugs.tsv", directory)
    for column in ("synonyms", "exposure", "exposure_unit"):
        if column not in table:
            table[column] = ""
    return [Drug(r.drug, r.target or None, r.rate or None, r.unit, tuple(r.routes.split(",")),
                 float(r.default_dur or 0), r.description, float(r.max_amt or "inf"),
                 tuple(s.strip() for s in r.synonyms.split(",") if s.strip()), r.exposure or None, r.exposure_unit)
            for r in table.itertuples()]


def load_outputs(directory: Path | None = None) -> list[Output]:
    """The output map, ``models/outputs.tsv``."""
    return [Output(r.output, r.id, r.unit, r.description, nonnegative=True)  # counts, levels, sizes
            for r in _read("outputs.tsv", directory).itertuples()]


def load_atol_scales(directory: Path | None = None) -> dict[str, float]:
    """State -> typical magnitude (``models/variables.tsv`` column ``scale``): the solver's absolute
    tolerance for the state is the model's ``atol`` times this scale."""
    return {r.id: float(r.scale) for r in _read("variables.tsv", directory).itertuples() if r.scale}


def load_covariates(directory: Path | None = None) -> dict[str, str]:
    """Patient field -> parameter id, ``models/covariates.tsv``."""
    return {r.field: r.parameter for r in _read("covariates.tsv", directory).itertuples()}


@functools.cache
def calibration_targets() -> dict:
    """The published data the calibrations fit, ``models/data/calibration_targets.toml``."""
    return tomllib.loads((model_dir() / "data" / "calibration_targets.toml").read_text(encoding="utf-8"))


TARGET_KINDS = ("value", "change_max", "change_min", "rate", "median")


def clinical_targets(directory: Path | None = None) -> pd.DataFrame:
    """Published clinical results the model is held against, ``models/data/clinical_targets.tsv``:
    one row per target (id, role train/test, scenario, quantity, kind, day, value, dispersion, n,
    source, caveat), indexed by id."""
    table = pd.read_csv((directory or model_dir()) / "data" / "clinical_targets.tsv", sep="\t", comment="#")
    bad = sorted(set(table.role) - {"train", "test"}) + sorted(set(table.kind) - set(TARGET_KINDS))
    if bad:
        raise ValueError(f"clinical_targets.tsv: unknown role/kind {bad}; allowed roles train, test; "
                         f"kinds {', '.join(TARGET_KINDS)}")
    return table.set_index("id")


VARIABILITY_COLUMNS = ("parameter", "omega", "lower", "upper", "group", "evidence", "source")


def load_variability(directory: Path | None = None) -> pd.DataFrame:
    """Inter-individual variability of the virtual population, ``models/population.tsv``: per
    parameter omega (log-normal SD), truncation bounds, shared-eta group, evidence, source.
    Validated like ``parameters.tsv``: a :class:`ModelError` names the row and field (columns, a
    known and unique parameter id, omega >= 0, lower < typical value < upper inside the parameter's
    plausible range, groups of two or more, an evidence flag)."""
    path = (directory or model_dir()) / "population.tsv"
    try:
        table = _read("population.tsv", directory)
    except (OSError, ValueError) as err:  # pandas' ParserError is a ValueError
        raise ModelError(f"{path}: not a readable tab-separated table ({str(err).strip()[:200]})") from None
    missing = [c for c in VARIABILITY_COLUMNS if c not in table.columns]
    if missing:
        raise ModelError(f"{path}: lacks column(s) {missing}; required: {list(VARIABILITY_COLUMNS)}")
    params = load_parameter_table(directory)
    numbers: dict[str, list[float]] = {"omega": [], "lower": [], "upper": []}
    for row, record in enumerate(table.to_dict("records"), start=1):
        pid = record["parameter"]
        where = f"{path.name} row {row} ({pid or 'no id'})"
        if pid not in params.index:
            raise ModelError(f"{where}.parameter: {pid!r} is not a parameter id of parameters.tsv")
        for name in numbers:
            try:
                value = float(record[name])
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise ModelError(f"{where}.{name}: {record[name]!r}; allowed: a finite number")
            numbers[name].append(value)
        omega, lower, upper = (numbers[k][-1] for k in ("omega", "lower", "upper"))
        low, high, typical = float(params.lower[pid]), float(params.upper[pid]), float(params.value[pid])
        if omega < 0:
            raise ModelError(f"{where}.omega: {omega:g}; allowed: a log-normal SD >= 0")
        if not low <= lower < upper <= high:
            raise ModelError(f"{where}.lower/upper: {lower:g} to {upper:g}; allowed: lower < upper, inside the "
                             f"plausible range of parameters.tsv, {low:g} to {high:g}")
        if not lower <= typical <= upper:
            raise ModelError(f"{where}.lower/upper: {lower:g} to {upper:g}; allowed: a range holding the typical "
                             f"value {typical:g} (parameters.tsv)")
        if record["evidence"] not in EVIDENCE:
            raise ModelError(f"{where}.evidence: {record['evidence']!r}; allowed: {', '.join(EVIDENCE)}")
    duplicated = table.parameter[table.parameter.duplicated()].tolist()
    if duplicated:
        raise ModelError(f"{path.name}.parameter: {duplicated[0]!r} appears twice; allowed: one row per parameter")
    sizes = table.group[table.group != ""].value_counts()
    if (sizes < 2).any():
        raise ModelError(f"{path.name}.group: {sizes.index[sizes < 2][0]!r} has one member; allowed: a group shares "
                         "one eta between two or more rows (leave it empty otherwise)")
    for name, values in numbers.items():
        table[name] = values
    return table.set_index("parameter")


BUILD_INPUTS = ("thymosim.ant", "modules/*.ant", "parameters.tsv", "variables.tsv", "outputs.tsv")
"""What the SBML is built from (python -m thymosim.sbml.build); their hash is the build stamp."""
_STAMP = re.compile(r'<thymosim:build [^>]*stamp="([0-9a-f]+)"')
REBUILD = "python -m thymosim.sbml.build"


def build_stamp(directory: Path | None = None) -> str | None:
    """sha256 (16 hex) of the files the SBML is built from (line endings normalised); None where
    ``directory`` lacks them (nothing to compare)."""
    directory = directory or model_dir()
    files = sorted({f for pattern in BUILD_INPUTS for f in directory.glob(pattern)})
    if not (directory / "thymosim.ant").is_file() or not (directory / "parameters.tsv").is_file():
        return None
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(file.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()[:16]


def sbml_stamp(sbml: str) -> str | None:
    """The build stamp recorded in an SBML text (its model annotation), or None."""
    match = _STAMP.search(sbml)
    return match.group(1) if match else None


def check_build(sbml: str, directory: Path | None = None) -> None:
    """Refuse an SBML built from other tables or modules than ``directory``'s (a calibration or an
    edit interrupted before the rebuild): :class:`ModelError` with the command that rebuilds it."""
    directory = directory or model_dir()
    expected = build_stamp(directory)
    if expected is None:
        return
    recorded = sbml_stamp(sbml)
    if recorded != expected:
        raise ModelError(
            f"{directory / 'thymosim.xml'} was built from other model files (build stamp {recorded}, "
            f"{directory.name}/parameters.tsv and modules give {expected}): parameters.tsv or a module changed "
            f"without a rebuild, or a rebuild was interrupted; rebuild it: {REBUILD}")


def values_text(values: dict[str, float], directory: Path | None = None, digits: int = 4,
                evidence: str = "fitted") -> str:
    """The text of ``parameters.tsv`` with ``values`` (``digits`` significant digits) in the value
    column, marked ``evidence``, every other cell and comment kept."""
    path = (directory or model_dir()) / "parameters.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("id\t"))
    names = lines[header].split("\t")
    pending = dict(values)
    for i in range(header + 1, len(lines)):
        cells = lines[i].split("\t")
        if cells[0] in pending:
            cells[names.index("value")] = f"{pending.pop(cells[0]):.{digits}g}"
            cells[names.index("evidence")] = evidence
            lines[i] = "\t".join(cells)
    if pending:
        raise KeyError(f"no rows in {path} for {sorted(pending)}")
    return "\n".join(lines) + "\n"


def write_values(values: dict[str, float], directory: Path | None = None, digits: int = 4,
                 evidence: str = "fitted") -> Path:
    """Write parameter values into ``parameters.tsv`` (:func:`values_text`), atomically; the SBML
    must be rebuilt afterwards (``python -m thymosim.sbml.build``; until then loading the default
    model is refused). ``thymosim calibrate --write`` writes the table and rebuilds together."""
    import os

    path = (directory or model_dir()) / "parameters.tsv"
    text = values_text(values, directory, digits, evidence)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if directory is None:
        clear_caches()
    return path
