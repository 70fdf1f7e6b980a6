"""The data tables in ``models/``: parameters (the only place a parameter value is written:
value, unit, bounds, role, evidence flag, source), drugs, outputs and patient covariates.

Parameter ids follow one prefix legend (see ``models/parameters.tsv``'s header and
:data:`PREFIXES`); ``role`` is ``parameter`` (screened by default), ``covariate`` (a patient
characteristic), ``input`` (a dosing input set by the driver) or ``reference`` (a value the
figures and the healthy patient use, not in the ODEs).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import math
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from thymosim.model import Drug, ModelError, Output, clear_caches, model_dir

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["id", "value", "unit", "lower", "upper", "domain", "role", "evidence", "source", "module", "description",
           "source_value", "source_unit", "conversion"]


def load_limits(directory: Path | None = None) -> dict[str, tuple[str, float, float]]:
    """Parameter id -> (hard domain, plausible lower, plausible upper), from ``parameters.tsv``."""
    return {r["id"]: (r["domain"], float(r["lower"]), float(r["upper"])) for r in _parameter_records(directory)}


EVIDENCE = ("measured", "derived", "fitted", "assumed")
ROLES = ("parameter", "covariate", "input", "reference")


def _records(name: str, directory: Path | None = None) -> list[dict[str, str]]:
    """The rows of a tab-separated table of ``models/`` as dicts of text (lines starting with ``#``
    and blank lines skipped, an empty cell ''). Read with the csv module, not pandas: what the
    default model needs from the tables must not cost a new process the import of pandas
    (``benchmarks/startup.py``)."""
    path = (directory or model_dir()) / name
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    return [{key: value or "" for key, value in row.items() if key is not None}
            for row in csv.DictReader(lines, delimiter="\t", restval="")]


def _parameter_records(directory: Path | None = None) -> list[dict[str, str]]:
    """The rows of ``parameters.tsv``; a ValueError naming the missing columns."""
    rows = _records("parameters.tsv", directory)
    missing = [c for c in COLUMNS if rows and c not in rows[0]]
    if missing:
        raise ValueError(f"parameters.tsv lacks column(s) {missing}; required: {COLUMNS}")
    return rows


def _read(name: str, directory: Path | None = None) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv((directory or model_dir()) / name, sep="\t", comment="#", dtype=str, keep_default_na=False)


def load_parameter_table(directory: Path | None = None) -> pd.DataFrame:
    """``models/parameters.tsv`` (or that of another models/ ``directory``) indexed by id."""
    import pandas as pd

    table = pd.read_csv((directory or model_dir()) / "parameters.tsv", sep="\t", comment="#",
                        dtype={"source": str})
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"parameters.tsv lacks column(s) {missing}; required: {COLUMNS}")
    return table.set_index("id")


@functools.cache
def parameter_value(pid: str) -> float:
    """The table's value of one parameter (read once per process)."""
    return _parameter_values()[pid]


@functools.cache
def _parameter_values() -> dict[str, float]:
    return {r["id"]: float(r["value"]) for r in _parameter_records()}


def load_drugs(directory: Path | None = None) -> list[Drug]:
    """The drug map, ``models/drugs.tsv``."""
    rows = [{"synonyms": "", "exposure": "", "exposure_unit": "", **r} for r in _records("drugs.tsv", directory)]
    return [Drug(r["drug"], r["target"] or None, r["rate"] or None, r["unit"], tuple(r["routes"].split(",")),
                 float(r["default_dur"] or 0), r["description"], float(r["max_amt"] or "inf"),
                 tuple(s.strip() for s in r["synonyms"].split(",") if s.strip()), r["exposure"] or None,
                 r["exposure_unit"])
            for r in rows]


def load_outputs(directory: Path | None = None) -> list[Output]:
    """The output map, ``models/outputs.tsv``."""
    return [Output(r["output"], r["id"], r["unit"], r["description"], nonnegative=True)  # counts, levels, sizes
            for r in _records("outputs.tsv", directory)]


def load_atol_scales(directory: Path | None = None) -> dict[str, float]:
    """State -> typical magnitude (``models/variables.tsv`` column ``scale``): the solver's absolute
    tolerance for the state is the model's ``atol`` times this scale."""
    return {r["id"]: float(r["scale"]) for r in _records("variables.tsv", directory) if r["scale"]}


def load_covariates(directory: Path | None = None) -> dict[str, str]:
    """Patient field -> parameter id, ``models/covariates.tsv``."""
    return {r["field"]: r["parameter"] for r in _records("covariates.tsv", directory)}


@functools.cache
def covariate_limits() -> dict[str, tuple[float, str]]:
    """Patient field -> (sanity limit, unit): the ``max`` column of ``models/covariates.tsv`` in the unit of
    the field's parameter (``parameters.tsv``). A :class:`ModelError` names a bad row."""
    table, units = _read("covariates.tsv"), load_parameter_table().unit
    limits = {}
    for row in table.itertuples():
        try:
            limit = float(row.max)
        except (AttributeError, ValueError):
            raise ModelError(f"covariates.tsv row {row.field}.max: {getattr(row, 'max', '')!r}; allowed: a number "
                             "> 0 (the field's sanity limit)") from None
        if not limit > 0:
            raise ModelError(f"covariates.tsv row {row.field}.max: {limit:g}; allowed: a number > 0")
        limits[row.field] = (limit, str(units.get(row.parameter, "")))
    return limits


@functools.cache
def calibration_targets() -> dict:
    """The published data the calibrations fit, ``models/data/calibration_targets.toml``."""
    return tomllib.loads((model_dir() / "data" / "calibration_targets.toml").read_text(encoding="utf-8"))


TARGET_KINDS = ("value", "change_max", "change_min", "rate", "median", "landmark", "ratio")


def clinical_targets(directory: Path | None = None) -> pd.DataFrame:
    """Published clinical results the model is held against, ``models/data/clinical_targets.tsv``:
    one row per target (id, role train/test, scenario, quantity, kind, day, value, dispersion, n,
    source, caveat, versus), indexed by id. A ``ratio`` row compares two arms: the quantity in
    ``scenario`` over the same quantity in ``versus`` (the comparator arm's scenario)."""
    import pandas as pd

    table = pd.read_csv((directory or model_dir()) / "data" / "clinical_targets.tsv", sep="\t", comment="#")
    bad = sorted(set(table.role) - {"train", "test"}) + sorted(set(table.kind) - set(TARGET_KINDS))
    if bad:
        raise ValueError(f"clinical_targets.tsv: unknown role/kind {bad}; allowed roles train, test; "
                         f"kinds {', '.join(TARGET_KINDS)}")
    if "versus" not in table:
        table["versus"] = pd.NA
    unpaired = table.id[(table.kind == "ratio") != table.versus.notna()].tolist()
    if unpaired:
        raise ValueError(f"clinical_targets.tsv rows {unpaired}: column versus (the comparator arm's scenario) is "
                         "required for kind ratio and allowed for no other kind")
    return table.set_index("id")


SEED_COLUMNS = ("id", "table", "row", "target", "parameter", "scenario", "quantity", "kind", "day", "value", "n",
                "role")
COMPARISON = ("scenario", "quantity", "kind", "day", "value", "n", "role")


def seed_tables(directory: Path | None = None) -> pd.DataFrame:
    """The seed guide's Tables 1-2 as comparisons, ``models/data/seed_tables.tsv``, indexed by id, with
    columns table, row, scenario, quantity, kind, day, value, n, role: a row naming a clinical ``target``
    takes its comparison from ``clinical_targets.tsv``, one naming a ``parameter`` its value from
    ``parameters.tsv``. A :class:`ModelError` names the row and field of a bad entry."""
    name = "seed_tables.tsv"
    table = _read(f"data/{name}", directory)
    missing = [c for c in SEED_COLUMNS if c not in table.columns]
    if missing:
        raise ModelError(f"{name}: lacks column(s) {missing}; required: {list(SEED_COLUMNS)}")
    targets, values = clinical_targets(directory), load_parameter_table(directory).value
    rows = []
    for _, raw in table.iterrows():
        where = f"{name} row {raw.id}"
        if raw.target and raw.parameter:
            raise ModelError(f"{where}: give a target or a parameter, not both")
        if raw.target:
            if raw.target not in targets.index:
                raise ModelError(f"{where}.target: {raw.target!r} is not an id of clinical_targets.tsv")
            if any(raw[c] for c in COMPARISON):
                raise ModelError(f"{where}: the target {raw.target} gives {', '.join(COMPARISON)}; leave them empty")
            row = {c: targets.loc[raw.target, c] for c in COMPARISON}
        else:
            row = dict(raw[list(COMPARISON)])
            if raw.parameter:
                if raw.parameter not in values.index:
                    raise ModelError(f"{where}.parameter: {raw.parameter!r} is not a parameter of parameters.tsv")
                if raw.value:
                    raise ModelError(f"{where}.value: the parameter {raw.parameter} gives it; leave it empty")
                row["value"] = values[raw.parameter]
            for field in ("day", "value", "n"):
                try:
                    row[field] = float(row[field])
                except ValueError:
                    raise ModelError(f"{where}.{field}: {row[field]!r} is not a number") from None
            if row["kind"] not in TARGET_KINDS:
                raise ModelError(f"{where}.kind: {row['kind']!r}; allowed: {', '.join(TARGET_KINDS)}")
            if row["role"] not in ("input", "train", "test"):
                raise ModelError(f"{where}.role: {row['role']!r}; allowed: input, train, test")
        rows.append({"id": raw.id, "table": raw.table, "row": raw.row, **row})
    import pandas as pd  # only this loader needs pandas (a warm worker imports none)

    out = pd.DataFrame(rows).set_index("id")
    out.index.name = None
    return out.astype({"day": float, "value": float, "n": int})


def population_selection(directory: Path | None = None) -> dict:
    """How the virtual population is selected, ``models/data/population_selection.toml``: ``scenario``
    (the plausibility filter's reference scenario), ``target`` (observable -> (median, log-SD); the median
    is the observable's value in ``parameters.tsv``), ``bounds`` (endpoint -> (lower, upper)) and
    ``inflate`` (parameter -> omega multiplier of the pool). A :class:`ModelError` names the bad field."""
    name = "population_selection.toml"
    try:
        data = tomllib.loads(((directory or model_dir()) / "data" / name).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ModelError(f"{name}: not valid TOML ({err})") from None
    unknown = sorted(set(data) - {"reference_scenario", "target", "bounds", "pool_inflate"})
    if unknown:
        raise ModelError(f"{name}: unknown field(s) {unknown}; allowed: reference_scenario, target, bounds, "
                         "pool_inflate")
    values = load_parameter_table(directory).value

    def number(where: str, value, test, allowed: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not test(float(value)):
            raise ModelError(f"{name}: {where} = {value!r}; allowed: {allowed}")
        return float(value)

    target = {}
    for key, row in data.get("target", {}).items():
        if key not in values.index:
            raise ModelError(f"{name}: target.{key} is not a parameter of parameters.tsv")
        target[key] = (float(values[key]), number(f"target.{key}.logsd", row.get("logsd"), lambda x: x > 0,
                                                   "a log-normal SD > 0"))
    bounds = {}
    for key, row in data.get("bounds", {}).items():
        lower = number(f"bounds.{key}.lower", row.get("lower"), lambda x: not math.isnan(x), "a number")
        upper = number(f"bounds.{key}.upper", row.get("upper"), lambda x, lo=lower: x > lo,
                       f"a number > lower ({lower:g})")
        bounds[key] = (lower, upper)
    inflate = {}
    for key, value in data.get("pool_inflate", {}).items():
        if key not in values.index:
            raise ModelError(f"{name}: pool_inflate.{key} is not a parameter of parameters.tsv")
        inflate[key] = number(f"pool_inflate.{key}", value, lambda x: x >= 1, "a multiplier >= 1")
    scenario = data.get("reference_scenario")
    if not isinstance(scenario, str) or not scenario:
        raise ModelError(f"{name}: reference_scenario = {scenario!r}; allowed: a named scenario")
    return {"scenario": scenario, "target": target, "bounds": bounds, "inflate": inflate}


CLAIM_QUANTITIES = ("value", "ratio", "change", "difference", "argmax", "max")
CLAIM_COMPARISONS = ("<", ">", "==")
_CLAIM_FIELDS = {"id", "text", "source", "note", "by_construction", "known_failure", "checks"}
_CHECK_FIELDS = {"quantity", "column", "patient", "arm", "of", "arms", "patients", "comparison", "threshold"}


def comparators(directory: Path | None = None) -> dict:
    """The comparator arms, the chemo-sensitive patient and the seed's comparator claims,
    ``models/data/comparators.toml`` (its header says what each field means). Returns ``arms`` (label ->
    scenario), ``chemo_sensitive`` (``factor``, ``parameters``) and ``claims`` (a list of dicts with id, text,
    source, note, by_construction, known_failure and checks). A :class:`ModelError` names the bad field."""
    name = "comparators.toml"
    try:
        data = tomllib.loads(((directory or model_dir()) / "data" / name).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ModelError(f"{name}: not valid TOML ({err})") from None
    arms = data.get("arms")
    if not isinstance(arms, dict) or not arms or not all(isinstance(v, str) for v in arms.values()):
        raise ModelError(f"{name}: arms must map arm labels to named scenarios")
    sensitive = data.get("chemo_sensitive", {})
    factor, parameters = sensitive.get("factor"), sensitive.get("parameters")
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not factor > 0:
        raise ModelError(f"{name}: chemo_sensitive.factor = {factor!r}; allowed: a number > 0")
    known = load_parameter_table(directory).index
    if not isinstance(parameters, list) or not parameters or any(p not in known for p in parameters):
        raise ModelError(f"{name}: chemo_sensitive.parameters = {parameters!r}; allowed: parameter ids of "
                         "parameters.tsv")
    claims, ids = [], set()
    for k, claim in enumerate(data.get("claim", [])):
        where = f"{name}: claim {claim.get('id', k + 1)}"
        unknown = sorted(set(claim) - _CLAIM_FIELDS)
        if unknown:
            raise ModelError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(_CLAIM_FIELDS)}")
        for field in ("id", "text", "source"):
            if not isinstance(claim.get(field), str) or not claim[field]:
                raise ModelError(f"{where}.{field}: missing; give a text")
        if claim["id"] in ids:
            raise ModelError(f"{where}.id: used twice")
        ids.add(claim["id"])
        checks = claim.get("checks")
        if not isinstance(checks, list) or not checks:
            raise ModelError(f"{where}.checks: give at least one check")
        for j, check in enumerate(checks):
            at = f"{where}.checks[{j}]"
            unknown = sorted(set(check) - _CHECK_FIELDS)
            if unknown:
                raise ModelError(f"{at}: unknown field(s) {unknown}; allowed: {sorted(_CHECK_FIELDS)}")
            if check.get("quantity") not in CLAIM_QUANTITIES:
                raise ModelError(f"{at}.quantity: {check.get('quantity')!r}; allowed: {', '.join(CLAIM_QUANTITIES)}")
            if check.get("comparison") not in CLAIM_COMPARISONS:
                raise ModelError(f"{at}.comparison: {check.get('comparison')!r}; allowed: "
                                 f"{', '.join(CLAIM_COMPARISONS)}")
            labels = [check.get(f) for f in ("arm", "of") if f in check] + list(check.get("arms", []))
            if check["quantity"] == "argmax":
                labels.append(check.get("threshold"))
            bad = [a for a in labels if a not in arms]
            if bad:
                raise ModelError(f"{at}: arm(s) {bad} are not in arms; allowed: {list(arms)}")
            if check["quantity"] in ("value", "ratio", "change", "difference") and "arm" not in check:
                raise ModelError(f"{at}.arm: a {check['quantity']} check needs its arm")
            limit = check.get("threshold")
            named_rule = isinstance(limit, str) and limit.startswith("recist.")
            if check["quantity"] != "argmax" and not named_rule and (isinstance(limit, bool)
                                                                     or not isinstance(limit, int | float)):
                raise ModelError(f"{at}.threshold: {limit!r}; allowed: a number or a RECIST rule "
                                 "('recist.PR_CHANGE_PCT')")
        claims.append({"note": "", "by_construction": False, "known_failure": "", **claim})
    return {"arms": dict(arms), "chemo_sensitive": {"factor": float(factor), "parameters": list(parameters)},
            "claims": claims}


def load_sbml_units(directory: Path | None = None) -> dict[str, tuple[str, list[tuple[str, int, int, float]]]]:
    """``models/sbml_units.tsv``: unit string of the tables -> (SBML unit id, [(kind name, exponent, scale,
    multiplier)]). A :class:`ModelError` names the row and field of a bad entry (the kind names are checked
    against libsbml where the SBML is written, :mod:`thymosim.sbml.units`)."""
    name = "sbml_units.tsv"
    table = _read(name, directory)
    missing = [c for c in ("unit", "sbml_id", "definition") if c not in table.columns]
    if missing:
        raise ModelError(f"{name}: lacks column(s) {missing}; required: unit, sbml_id, definition")
    units: dict[str, tuple[str, list[tuple[str, int, int, float]]]] = {}
    for _, row in table.iterrows():
        where = f"{name} row {row.unit!r}"
        if row.unit in units:
            raise ModelError(f"{where}: the unit is defined twice")
        if not re.fullmatch(r"[A-Za-z_]\w*", row.sbml_id):
            raise ModelError(f"{where}.sbml_id: {row.sbml_id!r}; allowed: an SBML id (letters, digits, _)")
        parts = []
        for text in filter(None, (p.strip() for p in row.definition.split(";"))):
            fields = text.split()
            try:
                if len(fields) != 4:
                    raise ValueError
                parts.append((fields[0], int(fields[1]), int(fields[2]), float(fields[3])))
            except ValueError:
                raise ModelError(f"{where}.definition: {text!r}; allowed: 'kind exponent scale multiplier' "
                                 "(e.g. 'second -1 0 86400'), parts separated by ';'") from None
        units[row.unit] = (row.sbml_id, parts)
    return units


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
