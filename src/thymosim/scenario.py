"""A scenario = patient + regimen + horizon + outputs, stored as a TOML data file.

Schema (every key optional except ``name`` and ``doses``)::

    name = "cisplatin_vinorelbine_ta1"
    title = "..."                  # short readable name for legends and tables (default: the name)
    description = "..."            # free text
    source = "..."                 # citation of the regimen
    horizon = "180 day"            # number (days) or "N day|week|h"; must not precede the last dose
    step = 0.25                    # output step [day]
    outputs = ["CD4", "CD8"]       # subset of the model's outputs (models/outputs.tsv); default all

    [patient]                      # baseline counts [cells/uL], tumour diameter [mm], BSA [m2], weight [kg]
    cd3 = 422.5
    cd4 = 244.5
    [patient.parameters]           # any parameter id of models/parameters.tsv (covariates: the fields above)
    PK_CL = 80.0

    [[doses]]                      # one table per dosing record (see thymosim.regimen.Dose)
    drug = "thymalfasin"           # a drug of the model's drug map (models/drugs.tsv)
    amt = "1.6 mg"                 # or 1.6 with unit = "mg"; "80 mg/m2" scales with BSA, "0.025 mg/kg" with weight
    time = 0                       # first dose [day] or "12 h"
    ii = "3.5 day"                 # interval (> 0 when repeated)
    until = "180 day"              # exclusive, absolute end day; or addl = N additional doses
    dur = "1 h"                    # infusion duration; or rate = "80 mg/h"
    ss = true                      # arrives at PK steady state of this dose every ii (linear PK only)

Cycles and sequencing (optional keys of a dose table)::

    [[doses]]                      # vinorelbine days 1, 8, 15 of every 21-day cycle, 4 cycles
    name = "chemo"                 # a label that later records can follow (several records may share it)
    drug = "vinorelbine"
    amt = "30 mg/m2"
    dur = "10 min"
    days = [1, 8, 15]              # cycle days; day 1 = time (default [1])
    every = "21 day"               # cycle length
    cycles = 4                     # number of cycles; or until = "84 day" (absolute, exclusive)

    [[doses]]
    drug = "thymalfasin"
    amt = "1.6 mg"
    ii = "3.5 day"
    until = "180 day"              # stays absolute: the last dose is before day 180
    after = "chemo"                # or a list of names; time (default 0) counts from their end

A cycled record expands into one record per cycle day (``ii = every``, ``addl = cycles - 1``),
exactly as if written out (see :meth:`thymosim.regimen.Dose.cycle`); ``ii``/``addl`` do not go with
``days``/``every``/``cycles``. ``after`` names earlier records only; they end as
:meth:`thymosim.regimen.Regimen.end` says: one interval after the last administration (an infusion
when it stops), a cycled record at the end of its last cycle. So ``after = "chemo"`` above starts
on day 84, like ``chemo.then(ta1)`` in Python. Drug names ignore case, spaces, ``-`` and ``_``.

Count-guided regimens (optional ``[[rules]]`` tables, :mod:`thymosim.rules`): at each visit
day the rule reads a model output before that day's doses; when the comparison holds, the action
changes the drug's doses from the visit on::

    [[rules]]
    name = "low CD3: daily loading"  # optional label
    output = "CD3"                 # an output of models/outputs.tsv (CD3, CD4, ANC, tumour_diameter, ...)
    visits = [0]                   # days, each in [0, horizon); a single number also works
    when = "<"                     # <, <=, >, >=
    threshold = 500                # in the output's unit (cells/uL, mm)
    action = "switch"              # start | stop | switch | scale
    drug = "thymalfasin"           # the drug acted on (stop, switch, scale) or started
    once = true                    # fire at the first visit where the condition holds only (default)
    [[rules.doses]]                # start/switch: dose tables as above, times counted from the visit
    amt = "3.2 mg"                 # drug defaults to the rule's
    ii = "1 day"
    addl = 6                       # (addl, not until: until is absolute)

``consecutive = 2`` makes the comparison hold on two visits in a row before the rule fires (at the
second). A rule on progression names no comparison: ``on = "progression"``, ``visits`` the
follow-up scan days (> 0; day 0 is the baseline scan), ``action``, ``drug`` (and ``output``, default
``tumour_diameter``); it fires at the first scan RECIST 1.1 reads as progression.
``action = "scale"`` takes ``factor = 0.5`` instead of doses. Rules sharing a visit and a drug must
not act differently (an error). ``stop_day = 42`` (optional, top level) removes every
administration on or after that day, those the rules add included (a trial's stop at progression).

Another SBML model (any flat SBML, e.g. from BioModels) is named by ``model`` and declares its
drugs and outputs; times are then plain numbers in the model's own time unit::

    name = "my_model_arm"
    model = "some_model.xml"       # SBML path, relative to this file
    horizon = 100                  # in the model's time unit
    outputs = ["X", "[Y]"]         # model ids (species amounts, parameters, rules); [Y]: concentration
    [drugs.mydrug]
    target = "X"                   # species or parameter receiving each bolus
    rate = "k_in"                  # optional: parameter receiving an infusion rate
    unit = "dimensionless"         # amount unit of the target (mg, ug, umol, nmol, MU, ...)
    [[doses]]
    drug = "mydrug"
    amt = 1000
    time = 10

Files are parsed with ``tomllib`` only: nothing in them is evaluated as code. Every
problem raises :class:`ScenarioError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from thymosim import units
from thymosim.model import DomainError, Drug, InfeasibleBaseline, Model, ModelError, Output, default_model, model_dir
from thymosim.patient import Patient
from thymosim.regimen import Dose, Regimen, lookup_drug, steady_state
from thymosim.rules import CONDITIONS, PROGRESSION_OUTPUT, Rule, before, check, guided
from thymosim.simulation import SimulationError, over_limits, simulate

TOP_KEYS = ("name", "title", "description", "source", "model", "horizon", "step", "outputs", "patient", "drugs",
            "doses", "rules", "stop_day")
RULE_KEYS = ("name", "on", "output", "visits", "when", "threshold", "consecutive", "action", "drug", "doses", "factor",
             "once")
DRUG_KEYS = ("target", "rate", "unit", "routes", "description", "exposure", "exposure_unit")
MAX_NAME, MAX_TEXT = 200, 5_000  # characters of a scenario's name and of its description/source
PATIENT_KEYS = tuple(f.name for f in fields(Patient))
DRIVER_KEYS = ("bsa", "weight")  # patient keys the driver uses (per-m2 and per-kg doses): allowed for any model
DOSE_KEYS = ("drug", "amt", "unit", "time", "ii", "addl", "until", "rate", "dur", "route",
             "name", "after", "days", "every", "cycles", "ss")
CYCLE_KEYS = ("days", "every", "cycles")


class ScenarioError(ValueError):
    """A scenario file or dict is malformed; the message names key, value and what is allowed.
    Long values are shortened (the message is one line of at most ~500 characters)."""

    def __init__(self, message: str) -> None:
        message = re.sub(r"'([^']{60})[^']{20,}'", r"'\1...'", str(message))  # shorten long quoted values
        message = " ".join(message.split())
        super().__init__(message if len(message) <= 800 else message[:800] + " ...")


@dataclass(frozen=True)
class Scenario:
    """Model + patient + regimen + horizon [day] + output grid step [day] + outputs.

    ``outputs`` empty means all of the model's outputs. ``declared`` holds a file's ``model``
    (absolute path) and ``drugs`` tables, so that :meth:`to_dict` writes them back."""

    name: str
    regimen: Regimen
    patient: Patient = field(default_factory=Patient)
    horizon: float = 180.0
    step: float = 0.25
    outputs: tuple[str, ...] = ()
    description: str = ""
    source: str = ""
    model: Model = field(default_factory=default_model, repr=False)
    declared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    title: str = field(default="", compare=False)  # a display label: not part of what is simulated
    rules: tuple[Rule, ...] = ()
    """Count-guided rules (:mod:`thymosim.rules`), applied at their visits when simulated."""
    stop_day: float | None = None
    """Treatment stops on this day [days]: every administration on or after it is removed, those a
    rule adds included (a trial's stop at progression); None: no stop."""

    @property
    def label(self) -> str:
        """What a legend or a table shows for this scenario: its title, else its name."""
        return self.title or self.name

    def simulate(self, **overrides) -> pd.DataFrame:
        """Run the scenario; keyword arguments override simulate()'s (e.g. ``step``). A failed
        simulation (SimulationError, InfeasibleBaseline) names this scenario."""
        kwargs = {"horizon": self.horizon, "step": self.step, "outputs": list(self.outputs) or None,
                  "model": self.model} | overrides
        try:
            regimen = self.regimen
            if self.rules:  # the rules read the model that runs (a solver override included) up to the end run
                horizon = kwargs["horizon"]
                end = float(kwargs["times"][-1]) if kwargs.get("times") is not None else (
                    units.days(horizon) if isinstance(horizon, str) else float(horizon))
                regimen = guided(self.patient, self.regimen, self.rules, kwargs["model"], end)[0]
            if self.stop_day is not None:
                regimen = before(regimen, self.stop_day)
            return simulate(self.patient, regimen, **kwargs)
        except (SimulationError, InfeasibleBaseline) as err:
            raise type(err)(f"scenario {self.name!r}: {err}") from None

    def guided(self) -> tuple[Regimen, pd.DataFrame]:
        """The regimen the rules make for this patient, and the log of the visits they read
        (:func:`thymosim.rules.guided`), cut at ``stop_day``; without rules, the regimen and an empty log."""
        regimen, log = guided(self.patient, self.regimen, self.rules, self.model, self.horizon)
        return (regimen if self.stop_day is None else before(regimen, self.stop_day)), log

    # --- data form -------------------------------------------------------------------
    def to_dict(self, standalone: bool = True) -> dict[str, Any]:
        """The data form (what a TOML file holds). ``standalone``: the data must name its model, so
        a model that is neither thymosim's nor read from a file raises :class:`ScenarioError`
        (sweeps pass ``False``: they carry the model beside the data)."""
        if standalone and not self.model.same_content(default_model()) and "model" not in self.declared \
                and not self._default_with_drugs():
            raise ScenarioError(f"scenario {self.name!r}: its model {self.model.name!r} was not read from a file; "
                                "save the SBML and name it in the scenario (model = \"file.xml\")")
        patient = self._patient_table()
        data = {"name": self.name, **({"title": self.title} if self.title else {}),
                "description": self.description, "source": self.source,
                **self.declared, "horizon": self.horizon, "step": self.step, "patient": patient,
                "doses": _records(self.regimen)}
        if self.rules:
            data["rules"] = [{k: v for k, v in (("name", r.name), ("on", r.on if r.on != "count" else None),
                                                ("output", r.output), ("visits", list(r.visits)),
                                                ("when", r.when), ("threshold", r.threshold),
                                                ("consecutive", r.consecutive if r.consecutive != 1 else None),
                                                ("action", r.action), ("drug", r.drug), ("once", r.once),
                                                ("factor", r.factor), ("doses", _records(r.doses)))
                              if v not in (None, "", [])} for r in self.rules]
        if self.stop_day is not None:
            data["stop_day"] = self.stop_day
        return data | ({"outputs": list(self.outputs)} if self.outputs else {})

    def _patient_table(self) -> dict[str, Any]:
        """The data form of the patient: the fields the model takes (covariates, bsa, weight) and any
        parameters."""
        patient: dict[str, Any] = {k: getattr(self.patient, k) for k in PATIENT_KEYS
                                   if k != "parameters" and (k in self.model.covariates or k in DRIVER_KEYS)}
        if self.patient.parameters:
            patient["parameters"] = dict(self.patient.parameters)
        return patient

    def with_patient(self, values: Mapping[str, Any] | None = None,
                     parameters: Mapping[str, Any] | None = None) -> Scenario:
        """A copy with patient fields ``values`` (``cd4``, ``bsa`` ...: :data:`PATIENT_KEYS`) and ``parameters``
        (id -> value) changed. The new patient table is validated as in a scenario file (raises
        :class:`ScenarioError` naming the field), and so are the doses' amounts for its body surface
        area and weight; the rest of the scenario, validated when it was made, is kept as it is (what a
        sweep of patient values needs, once per virtual patient)."""
        table = self._patient_table() | dict(values or {})
        if parameters:
            table["parameters"] = {**table.get("parameters", {}), **parameters}
        patient = _patient(table, self.model)
        try:
            self.regimen.check_amounts(patient.bsa, patient.weight)
        except ValueError as err:
            raise ScenarioError(str(err)) from None
        return replace(self, patient=patient)

    def _default_with_drugs(self) -> bool:
        base = default_model()
        return "drugs" in self.declared and self.model.same_content(base.with_drugs(self.model.drugs.values()))

    @classmethod
    def from_dict(cls, data: dict[str, Any], model: Model | None = None, base_dir: Path | None = None) -> Scenario:
        """A validated scenario from its data form. ``model``: use this model instead of loading
        the one the data names (sweeps pass it); ``base_dir``: folder of relative model paths."""
        if not isinstance(data, dict):
            raise ScenarioError(f"scenario: expected a table of keys, got {type(data).__name__}")
        _check_keys("", data, TOP_KEYS)
        declared = {k: data[k] for k in ("model", "drugs") if k in data}
        if "model" in declared:
            declared["model"] = _model_path(declared["model"], base_dir)
        model = model or _model(declared, data.get("outputs"))
        name = data.get("name")
        if not isinstance(name, str) or not name or len(name) > MAX_NAME:
            raise ScenarioError(f"name: {str(name)[:60]!r}{'...' if len(str(name)) > 60 else ''}; allowed: a "
                                f"non-empty string of at most {MAX_NAME} characters")
        for key in ("title", "description", "source"):
            value = data.get(key, "")
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise ScenarioError(f"{key}: {str(value)[:60]!r}...; allowed: a string of at most {MAX_TEXT} "
                                    "characters")
        if model.info.time_unit != "day":
            _numbers_only(data, model)
        patient = _patient(data.get("patient", {}), model)
        regimen = _regimen(data.get("doses"), model)
        try:
            regimen.check_amounts(patient.bsa, patient.weight)
        except ValueError as err:
            raise ScenarioError(str(err)) from None
        horizon = _time("horizon", data.get("horizon", 180.0), positive=True)
        step = _time("step", data.get("step", 0.25), positive=True)
        unit = f"{model.info.time_unit or 'time unit'}s"
        if problem := over_limits(horizon, step, sum((d.addl + 1) * (2 if d.dur else 1) for d in regimen.doses)):
            raise ScenarioError(problem)
        if step > horizon:
            raise ScenarioError(f"step: {step} {unit}; allowed: 0 < step <= horizon ({horizon} {unit})")
        if regimen.last_time() > horizon:
            raise ScenarioError(
                f"horizon: {data.get('horizon')!r} ({horizon} {unit}) ends before the last dose at "
                f"{regimen.last_time():g} {unit}; allowed: horizon >= {regimen.last_time():g} {unit}")
        outputs = data.get("outputs", [])
        if not isinstance(outputs, list) or ("outputs" in data and not outputs) or any(
                not isinstance(o, str) or o not in model.outputs for o in outputs):
            raise ScenarioError(f"outputs: {str(outputs)[:100]}; allowed: a non-empty list from "
                                f"{', '.join(model.outputs)}")
        if twice := sorted({o for o in outputs if outputs.count(o) > 1}):
            raise ScenarioError(f"outputs: {', '.join(twice)} given twice; allowed: each output once")
        rules = _rules(data.get("rules", []), model, horizon)
        stop_day = _time("stop_day", data["stop_day"]) if "stop_day" in data else None
        return cls(name, regimen, patient, horizon, step, tuple(outputs),
                   data.get("description", ""), data.get("source", ""), model, declared, data.get("title", ""),
                   rules, stop_day)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(tomli_w.dumps(self.to_dict()), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ScenarioError(f"{path}: not valid TOML ({err})") from None
        except UnicodeDecodeError as err:
            raise ScenarioError(f"{path}: not UTF-8 text (byte {err.start}); allowed: a UTF-8 TOML file") from None
        except RecursionError:
            raise ScenarioError(f"{path}: nested too deeply; allowed: the scenario schema (tables two deep)") from None
        except OSError as err:
            raise ScenarioError(f"{path}: cannot read it ({err.strerror})") from None
        try:
            return cls.from_dict(data, base_dir=path.parent)
        except ScenarioError as err:
            raise ScenarioError(f"{path.name}: {err}") from None


def _check_keys(prefix: str, table: dict, allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise ScenarioError(f"{prefix}{key}: unknown key; allowed: {', '.join(allowed)}")


def _number(key: str, value: Any, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < minimum:
        raise ScenarioError(f"{key}: {value!r}; allowed: a finite number >= {minimum:g}")
    return float(value)


def _time(key: str, value: Any, positive: bool = False) -> float:
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("not a time")
        result = units.days(value)
    except ValueError:
        raise ScenarioError(f"{key}: {value!r}; allowed: days as a number or 'N unit' ({units.TIME_HELP})") from None
    if not math.isfinite(result) or result < 0 or (positive and result == 0):
        raise ScenarioError(f"{key}: {value!r}; allowed: a finite time {'>' if positive else '>='} 0 days")
    return result


def _model_path(value: Any, base_dir: Path | None) -> str:
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"model: {str(value)[:100]!r}; allowed: the path of an SBML file")
    path = Path(value)
    return str(path if path.is_absolute() else (base_dir or Path.cwd()) / path)


def _model(declared: dict[str, Any], outputs: Any = None) -> Model:
    """The default model, or the declared SBML file (reporting the declared ``outputs``, model
    ids), with any declared drugs added."""
    drugs = declared.get("drugs", {})
    if not isinstance(drugs, dict):
        raise ScenarioError(f"drugs: {str(drugs)[:100]}; allowed: tables [drugs.NAME] with keys {DRUG_KEYS}")
    specs = []
    for name, spec in drugs.items():
        if not isinstance(spec, dict):
            raise ScenarioError(f"drugs.{name}: {str(spec)[:100]}; allowed: a table with keys {', '.join(DRUG_KEYS)}")
        _check_keys(f"drugs.{name}.", spec, DRUG_KEYS)
        for key, value in spec.items():
            if not isinstance(value, str) and not (key == "routes" and isinstance(value, list)):
                raise ScenarioError(f"drugs.{name}.{key}: {str(value)[:100]!r}; allowed: a string")
        try:
            specs.append(Drug(name, **spec))
        except (TypeError, ModelError) as err:
            raise ScenarioError(str(err)) from None
    try:
        if "model" in declared:
            ids = outputs if isinstance(outputs, list) and all(isinstance(o, str) for o in outputs) else None
            model = Model.from_sbml(Path(declared["model"]), drugs=specs,
                                    outputs=[Output(o, o) for o in ids] if ids else None)
            base = default_model()
            if model.defaults.keys() == base.defaults.keys():
                # an edited copy of thymosim's SBML keeps its drugs, outputs, covariates and hard domains
                edited = base.with_sbml(Path(declared["model"]))
                return edited.with_drugs(specs) if specs else edited
            return model
        return default_model().with_drugs(specs) if specs else default_model()
    except ModelError as err:
        raise ScenarioError(str(err)) from None


def _numbers_only(data: dict[str, Any], model: Model) -> None:
    """Unit strings mean days; a model in another time unit takes plain numbers."""
    fields_ = [("horizon", data.get("horizon")), ("step", data.get("step"))]
    doses = data.get("doses") if isinstance(data.get("doses"), list) else []
    fields_ += [(f"doses[{i}].{k}", d.get(k)) for i, d in enumerate(doses) if isinstance(d, dict)
                for k in ("time", "ii", "until", "dur", "rate", "every")]
    for key, value in fields_:
        if key.endswith(".rate") and isinstance(value, str) and "/" not in value:
            continue  # an amount per model time unit
        if isinstance(value, str):
            raise ScenarioError(f"{key}: {value[:50]!r}; allowed: a plain number in the model's time unit "
                                f"({model.info.time_unit or 'undeclared'}; unit strings mean days)")


def _patient(table: Any, model: Model) -> Patient:
    if not isinstance(table, dict):
        raise ScenarioError(f"patient: {table!r}; allowed: a table with keys {', '.join(PATIENT_KEYS)}")
    _check_keys("patient.", table, PATIENT_KEYS)
    fields_given = [k for k in table if k not in ("parameters", *DRIVER_KEYS) and k not in model.covariates]
    if fields_given:
        raise ScenarioError(f"patient.{fields_given[0]}: model {model.name!r} has no such covariate; "
                            f"allowed: {', '.join(model.covariates) or 'none (use patient.parameters)'}")
    values = {k: _number(f"patient.{k}", v, minimum=1e-12) for k, v in table.items() if k != "parameters"}
    parameters = table.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ScenarioError(f"patient.parameters: {parameters!r}; allowed: a table of parameter id = value")
    known = model.defaults
    fields_of = {pid: name for name, pid in model.covariates.items()}
    for pid, value in parameters.items():
        if pid in fields_of:
            raise ScenarioError(f"patient.parameters.{pid}: a patient covariate; set patient.{fields_of[pid]} instead "
                                "(validated with the other baseline values)")
        if drug := model.dosing_input(pid):
            raise ScenarioError(f"patient.parameters.{pid}: the infusion-rate input of {drug}, set by the driver "
                                f"during its infusions, not a patient parameter; dose {drug} instead ([[doses]] "
                                f"drug = \"{drug}\" with a dur)")
        if pid not in known:
            raise ScenarioError(f"patient.parameters.{pid}: unknown parameter of model {model.name!r}; "
                                "allowed: its settable parameters (models/parameters.tsv for thymosim)")
        # thymosim's parameters are >= 0 here (and in their table domain below); another model's may take
        # any finite value its SBML allows: no sign is assumed
        _number(f"patient.parameters.{pid}", value, minimum=0.0 if model.is_thymosim else -math.inf)
    for pid, value in parameters.items():
        try:
            model.check_values({pid: float(value)})
        except DomainError as err:
            raise ScenarioError(f"patient.parameters.{pid}: {value!r}; allowed: {err.allowed}") from None
    try:
        return Patient(**values, parameters={k: float(v) for k, v in parameters.items()})
    except ValueError as err:
        raise ScenarioError(f"patient: {err}") from None


def _regimen(doses: Any, model: Model) -> Regimen:
    if not isinstance(doses, list):
        raise ScenarioError(f"doses: {doses!r}; allowed: a list of dose tables ([[doses]])")
    records: list[Dose] = []
    groups: dict[str, list[Dose]] = {}  # name -> its records, for ``after``
    for i, record in enumerate(doses):
        prefix = f"doses[{i}]."
        if not isinstance(record, dict):
            raise ScenarioError(f"doses[{i}]: {record!r}; allowed: a table with keys {', '.join(DOSE_KEYS)}")
        _check_keys(prefix, record, DOSE_KEYS)
        if "drug" not in record or "amt" not in record:
            raise ScenarioError(f"{prefix}drug/amt: required; allowed drugs: {', '.join(model.drugs)}")
        for key, value in record.items():
            if key in ("drug", "unit", "route", "name") and not isinstance(value, str):
                raise ScenarioError(f"{prefix}{key}: {value!r}; allowed: a string")
            if key == "ss" and not isinstance(value, bool):
                raise ScenarioError(f"{prefix}ss: {value!r}; allowed: true or false")
            if key in ("addl", "cycles") and (isinstance(value, bool) or not isinstance(value, int)):
                raise ScenarioError(f"{prefix}{key}: {value!r}; allowed: an integer >= {0 if key == 'addl' else 1}")
            if key in ("amt", "time", "ii", "until", "rate", "dur", "every") and (
                    isinstance(value, bool) or not isinstance(value, int | float | str)):
                raise ScenarioError(f"{prefix}{key}: {value!r}; allowed: a number or a quantity string")
        try:
            drug = lookup_drug(record["drug"], model.drugs)
        except ValueError:
            raise ScenarioError(f"{prefix}drug: {record['drug'][:50]!r}: unknown drug of model {model.name!r}; "
                                f"allowed: {', '.join(model.drugs) or 'none declared ([drugs.NAME])'}") from None
        fields_ = {k: v for k, v in record.items() if k not in ("name", "after", *CYCLE_KEYS)} | {"drug": drug}
        if "after" in record:
            fields_["time"] = _after(prefix, record, groups) + _time(f"{prefix}time", record.get("time", 0.0))
        cycled = any(k in record for k in CYCLE_KEYS)
        if cycled:
            clash = [k for k in ("ii", "addl") if k in record]
            if clash:
                raise ScenarioError(f"{prefix}{clash[0]}: {record[clash[0]]!r}: not with days/every/cycles; allowed: "
                                    "every = cycle length and cycles = N (or until) for repeats")
            until = fields_.pop("until", None)
            if record.get("ss") and "every" in record:
                fields_["ii"] = record["every"]  # the steady-state interval; cycle() sets it again
        try:
            dose = Dose(**fields_)
            new = list(dose.cycle(record.get("days", [1]), record.get("every"), record.get("cycles"), until).doses
                       ) if cycled else [dose]
            for ss_dose in new if record.get("ss") else ():  # linear, independent PK: checked when loaded
                steady_state(ss_dose, 1.0, model=model)
        except ValueError as err:
            message = str(err)
            key = message.split(":", 1)[0] if ":" in message else "dose"
            detail = message.split(":", 1)[1].strip() if ":" in message else message
            value = record.get(key, record.get("amt") if key == "unit" else None)
            raise ScenarioError(f"{prefix}{key}: {value!r}: {detail}") from None
        records += new
        if "name" in record:
            groups.setdefault(record["name"], []).extend(new)
    return Regimen(records)


def _records(regimen: Regimen) -> list[dict[str, Any]]:
    """The dose tables of ``regimen`` (canonical units, days)."""
    doses = []
    for d in regimen.doses:
        record = {"drug": d.drug, "amt": d.amt, "unit": d.unit + d.per_unit, "time": d.time, "route": d.route}
        if d.addl:
            record |= {"ii": d.ii, "addl": d.addl}
        if d.dur:
            record["dur"] = d.dur
        if d.ss:
            record |= {"ii": d.ii, "ss": True}
        doses.append(record)
    return doses


def _rules(tables: Any, model: Model, horizon: float) -> tuple[Rule, ...]:
    """The ``[[rules]]`` tables as validated :class:`~thymosim.rules.Rule` objects."""
    if not isinstance(tables, list) or any(not isinstance(t, dict) for t in tables):
        raise ScenarioError(f"rules: {str(tables)[:100]}; allowed: a list of rule tables ([[rules]]) with keys "
                            f"{', '.join(RULE_KEYS)}")
    rules = []
    for i, table in enumerate(tables):
        prefix = f"rules[{i}]."
        _check_keys(prefix, table, RULE_KEYS)
        on = table.get("on", "count")
        if on not in CONDITIONS:
            raise ScenarioError(f"{prefix}on: {str(on)[:50]!r}; allowed: {', '.join(CONDITIONS)}")
        needed = ("visits", "action", "drug") if on == "progression" else (
            "output", "visits", "when", "threshold", "action", "drug")
        missing = [k for k in needed if k not in table]
        if missing:
            raise ScenarioError(f"{prefix}{missing[0]}: required; a rule {'on progression ' * (on != 'count')}"
                                f"needs {', '.join(needed[:-1])} and {needed[-1]}")
        if not isinstance(table["drug"], str):
            raise ScenarioError(f"{prefix}drug: {table['drug']!r}; allowed: a drug name ({', '.join(model.drugs)})")
        try:
            drug = lookup_drug(table["drug"], model.drugs).name
        except ValueError:
            raise ScenarioError(f"{prefix}drug: {table['drug'][:50]!r}: unknown drug of model {model.name!r}; "
                                f"allowed: {', '.join(model.drugs)}") from None
        doses = table.get("doses", [])
        if not isinstance(doses, list) or any(not isinstance(d, dict) for d in doses):
            raise ScenarioError(f"{prefix}doses: {str(doses)[:100]}; allowed: dose tables ([[rules.doses]])")
        try:
            regimen = _regimen([{"drug": drug} | d for d in doses], model) if doses else Regimen()
        except ScenarioError as err:
            raise ScenarioError(f"{prefix}{err}") from None
        visits = table["visits"]
        visits = [visits] if isinstance(visits, int | float) and not isinstance(visits, bool) else visits
        if not isinstance(visits, list) or any(isinstance(v, bool) or not isinstance(v, int | float | str)
                                               for v in visits):
            raise ScenarioError(f"{prefix}visits: {str(visits)[:100]}; allowed: a list of days")
        try:
            rules.append(Rule(output=table.get("output", PROGRESSION_OUTPUT),
                              visits=tuple(_time(f"{prefix}visits", v) for v in visits),
                              when=table.get("when", ""), threshold=table.get("threshold"), action=table["action"],
                              drug=drug, doses=regimen, factor=table.get("factor"), once=table.get("once", True),
                              name=str(table.get("name", "")), on=on, consecutive=table.get("consecutive", 1)))
        except ValueError as err:
            raise ScenarioError(f"{prefix}{err}") from None
    try:
        check(rules, model, horizon)
    except ValueError as err:
        raise ScenarioError(str(err)) from None
    return tuple(rules)


def _after(prefix: str, record: dict, groups: dict[str, list[Dose]]) -> float:
    """End [day] of the earlier records named by ``after`` (a name or a list of names)."""
    after = record["after"]
    names_ = [after] if isinstance(after, str) else after
    if not isinstance(names_, list) or not names_ or any(not isinstance(n, str) or n not in groups for n in names_):
        known = ", ".join(groups) or "none named yet (give the earlier record a name)"
        raise ScenarioError(f"{prefix}after: {repr(after)[:60]}; allowed: the name (or a list of names) of earlier "
                            f"dose records: {known}")
    return Regimen([d for n in names_ for d in groups[n]]).end()


# --- named scenarios: the trial arms of the seed guide and the reference, as TOML data files in
# models/scenarios/ (each cites its source) ------------------------------------------------

DEFAULT = ("cisplatin_vinorelbine", "cisplatin_vinorelbine_ta1")
"""The main job: four 21-day cycles of cisplatin + vinorelbine, without and with thymalfasin."""


def scenario_dir() -> Path:
    return model_dir() / "scenarios"


def names() -> list[str]:
    """Names of the packaged scenarios."""
    return sorted(p.stem for p in scenario_dir().glob("*.toml"))


def named(name: str) -> Scenario:
    """A packaged scenario by name."""
    path = scenario_dir() / f"{name}.toml"
    if not path.is_file():
        raise ScenarioError(f"scenario {name!r} not found; named scenarios: {', '.join(names())}")
    return Scenario.load(path)


def resolve(name_or_file: str | Path) -> Scenario:
    """A named scenario, or a scenario TOML file by path."""
    path = Path(name_or_file)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise ScenarioError(f"{path}: no such scenario file")
        return Scenario.load(path)
    return named(str(name_or_file))
