"""The model object: everything the driver derives from one flat SBML file.

A :class:`Model` holds the SBML text and the maps that let the driver run it: settable
parameters and their defaults, derived constants, the drug map (drug -> bolus target and/or
infusion-rate input, amount unit, routes), the output map (output name -> model id, unit)
and the patient covariates (``Patient`` field -> parameter id).

- :func:`default_model` is thymosim, built from ``models/`` (``thymosim.xml``, ``drugs.tsv``,
  ``outputs.tsv``, ``covariates.tsv``, ``parameters.tsv``).
- :meth:`Model.from_sbml` wraps any flat SBML: an export edited in COPASI, a BioModels file.
- :meth:`Model.with_sbml` keeps thymosim's maps on an edited copy of its SBML.

Module-level state is limited to caches: per process, what was parsed from each SBML content;
per thread, the compiled RoadRunners (at most :data:`MAX_RUNNERS`, keyed by content and
tolerances, so threads of a Dask worker never share one); and the default model and tables read
from ``models/`` (:func:`clear_caches` forgets them after the files change). A Model is read-only
and pickles as its text and maps, so worker processes and Dask workers run exactly the model they
are given, compiling it once.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from thymosim import runner_cache, units

MAIN_MODULE = "thymosim"
# Solver of the default model, chosen by the accuracy budget (benchmarks/accuracy.py, README "Speed"):
# CVODE's Adams method (maximum order 4), relative tolerance 1e-6, absolute tolerance 1e-10 x each
# state's typical magnitude (models/variables.tsv; libroadrunner 2.10 applies them shifted, see
# tests/test_solver_tolerances.py): every output of every named scenario (ta1_normal: IFN-gamma 1.5e-4, see
# tests/test_accuracy.py) within 1e-4 of its range of a rtol 1e-10 reference, no RECIST class or day
# endpoint changed, at about half the cost of the cheapest BDF setting inside that budget. (Model v1 met the
# budget at atol 1e-8; with the T-cell blood share and tumour dead-cell states IFN-gamma in the PRaG arm left
# it, 2.2e-3, so atol was tightened: 7.9e-5 for about 2 % more time.) A run Adams cannot finish (a parameter set that
# makes the system stiff) is redone with BDF (Model.stiff_fallback). Models built with Model(...)
# default to BDF (stiff), rtol 1e-8, atol 1e-10.
RTOL, ATOL, STIFF = 1e-8, 1e-10, True
DEFAULT_SOLVER = {"rtol": 1e-6, "atol": 1e-10, "stiff": False}
MAX_STEPS = 100_000  # BDF steps per output interval
MAX_STEPS_ADAMS = 5_000  # Adams steps per output interval; more means the parameters made the system stiff
# Adams order <= 4: with the issue-14 states (IL-2 consumption, Tregs, G-CSF) order 5 became stability-limited on the
# default arm (25 571 steps, cost ratio 2.73 to the yardstick) while order 4 takes 17 398 (ratio 1.96-1.98); both are
# inside the accuracy budget (tests/test_accuracy.py). v1 measured 19.7 ms at order 5 vs 21.0 ms at CVODE's 12.
MAX_ADAMS_ORDER = 4
INITIAL_STEP = 1e-6  # [time unit] CVODE's first step after each reinitialisation (a dose)
MAX_RUNNERS = 8  # compiled models kept per thread


DOMAINS = ("positive", "nonnegative", "fraction", "any")
"""Hard domains of parameter values (models/parameters.tsv column ``domain``); fraction = [0, 1]."""


def in_domain(value: float, domain: str) -> bool:
    """Whether ``value`` lies in a hard domain."""
    if not math.isfinite(value):
        return False
    return {"positive": value > 0, "nonnegative": value >= 0, "fraction": 0 <= value <= 1, "any": True}[domain]


BOUND_TOLERANCE = 1e-9
"""Relative slack of the plausible bounds: a value on a bound up to rounding (a sampled or scaled
0.030000000000000002 for a bound 0.03) is inside."""


def within(value: float, lower: float, upper: float) -> bool:
    """Whether ``value`` lies within the plausible bounds, a bound itself included up to rounding."""
    return lower - BOUND_TOLERANCE * abs(lower) <= value <= upper + BOUND_TOLERANCE * abs(upper)


class ModelError(ValueError):
    """A model file or a drug/output/covariate map is unusable; the message names the field."""


class DomainError(ValueError):
    """A parameter value outside its hard domain (``pid``, ``value``, ``domain``, plausible bounds)."""

    def __init__(self, pid: str, value: float, domain: str, lower: float, upper: float) -> None:
        self.pid, self.value, self.domain = pid, value, domain
        self.allowed = f"{domain}{' (0 to 1)' if domain == 'fraction' else ''}, plausible {lower:g} to {upper:g}"
        super().__init__(f"parameter {pid} = {value!r}; allowed: {self.allowed}")


class InfeasibleBaseline(ValueError):
    """The parameter set cannot hold the patient's baseline at steady state."""


def model_dir() -> Path:
    """Directory holding the Antimony modules, the tables and the committed SBML."""
    packaged = Path(__file__).parent / "models"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "models"


def sbml_path() -> Path:
    """Path of the committed flat SBML Level 3 Version 2 file."""
    return model_dir() / "thymosim.xml"


@dataclass(frozen=True)
class Drug:
    """How a drug enters a model: bolus ``target`` (species or parameter), infusion ``rate``
    input (parameter, amount unit per time unit), the target's amount ``unit`` (``"ug"``,
    ``"mg"``, ``"MU"``, ``"Gy"``, ``"umol"``, ... or ``"dimensionless"``), allowed ``routes``
    (the first is the default), the duration [day] used when a dose gives none, and the largest
    amount per administration accepted (canonical unit of the dimension; a sanity limit)."""

    name: str
    target: str | None = None
    rate: str | None = None
    unit: str = "dimensionless"
    routes: tuple[str, ...] | str = ("unspecified", "sc", "iv", "oral", "im")
    default_dur: float = 0.0
    description: str = ""
    max_amt: float = math.inf  # largest amount per administration, canonical unit (mg, MU, Gy, umol)
    synonyms: tuple[str, ...] = ()  # other names a dose may use (brand names, INNs)
    exposure: str | None = None  # model id whose course is the drug's exposure (a concentration or amount)
    exposure_unit: str = ""  # its unit

    def __post_init__(self) -> None:
        if not (self.target or self.rate):
            raise ModelError(f"drugs.{self.name}: give a target (bolus) or a rate input (infusion)")
        try:
            units.dimension(self.unit)
        except ValueError as err:
            raise ModelError(f"drugs.{self.name}.unit: {err}") from None
        routes = self.routes.split(",") if isinstance(self.routes, str) else self.routes
        routes = tuple(r.strip() for r in routes if r.strip())
        if not routes:
            raise ModelError(f"drugs.{self.name}.routes: give at least one route, e.g. 'sc' or 'iv,sc'")
        object.__setattr__(self, "routes", routes)

    @property
    def dimension(self) -> str:
        return units.dimension(self.unit)[0]

    @property
    def model_per_canonical(self) -> float:
        """Model amount units per canonical unit of the dimension (1000 ug per mg)."""
        return 1.0 / units.dimension(self.unit)[1]


@dataclass(frozen=True)
class Output:
    """A reported quantity: column ``name``, model ``id`` (``"[X]"``: concentration of
    species X), ``unit``, a description, and whether it can never be negative."""

    name: str
    id: str
    unit: str = ""
    description: str = ""
    nonnegative: bool = False  # a count or concentration: a negative value fails the simulation


@dataclass
class _Info:
    """What the driver needs from an SBML text, parsed once per process."""

    defaults: Mapping[str, float]
    derived: tuple[str, ...]
    species: frozenset[str]
    ids: frozenset[str]
    settable: frozenset[str]  # species and parameters a dose may change (no rule determines them)
    time_unit: str
    events: Mapping[str, tuple[tuple[str, float | None], ...]] = field(default_factory=dict)  # see _event_assignments


@dataclass
class _Cache:
    info: dict[str, _Info] = field(default_factory=dict)
    local: threading.local = field(default_factory=threading.local)  # .runners: OrderedDict per thread
    compilations: int = 0
    loads: int = 0  # runners loaded from the on-disk cache
    lock: threading.Lock = field(default_factory=threading.Lock)

    def runners(self) -> OrderedDict:
        if not hasattr(self.local, "runners"):
            self.local.runners = OrderedDict()
        return self.local.runners


_CACHE = _Cache()


def compilations() -> int:
    """RoadRunner compilations in this process so far (each model content compiles once per thread)."""
    return _CACHE.compilations


def cache_loads() -> int:
    """RoadRunners loaded from the on-disk cache of compiled models in this process so far."""
    return _CACHE.loads


def forget_runners() -> None:
    """Drop this thread's compiled runners (the next run loads or compiles again)."""
    _CACHE.runners().clear()


def clear_caches() -> None:
    """Forget the default model and the tables read from ``models/`` (after editing them in a
    running process); compiled runners stay cached by content."""
    from thymosim import tables

    default_model.cache_clear()
    for cached in (tables.parameter_value, tables._parameter_values, tables.calibration_targets,
                   tables.covariate_limits):
        cached.cache_clear()


def holds_constant(rule) -> bool:
    """True for a libsbml rate rule ``x' = 0``: x is derived at t0 (initial assignment) and held."""
    return rule.isRate() and rule.getMath().isNumber() and rule.getMath().getValue() == 0


def _parse(sbml: str, origin: str) -> _Info:
    import libsbml

    document = libsbml.readSBMLFromString(sbml)
    fatal = [document.getError(i) for i in range(document.getNumErrors())
             if document.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    model = document.getModel()
    if fatal or model is None:
        detail = fatal[0].getShortMessage() if fatal else "no <model> element"
        raise ModelError(f"{origin}: not a readable SBML model ({detail})")
    if model.getPlugin("comp") is not None and model.getPlugin("comp").getNumSubmodels():
        raise ModelError(f"{origin}: hierarchical (comp) SBML; flatten it first (thymosim export sbml)")
    derived = determined_ids(model)
    defaults = {p.getId(): p.getValue() for p in model.getListOfParameters()
                if p.getConstant() and p.getId() not in derived}
    ids = {e.getId() for listing in (model.getListOfSpecies(), model.getListOfParameters(),
                                     model.getListOfCompartments(), model.getListOfReactions()) for e in listing}
    assigned = {r.getVariable() for r in model.getListOfRules() if r.isAssignment()}
    settable = {s.getId() for s in model.getListOfSpecies() if not s.getConstant()}
    settable |= {p.getId() for p in model.getListOfParameters()}
    settable -= assigned
    return _Info(
        defaults=MappingProxyType(defaults),
        derived=tuple(r.getVariable() for r in model.getListOfRules() if holds_constant(r)),
        species=frozenset(s.getId() for s in model.getListOfSpecies()),
        ids=frozenset(ids),
        settable=frozenset(settable),
        time_unit=_time_unit(model),
        events=MappingProxyType(_event_assignments(model)),
    )


def _event_assignments(model) -> dict[str, tuple[tuple[str, float | None], ...]]:
    """Event assignment target -> ((event id, value), ...): the value where the assigned math holds
    no names (a number like -76.33), None for an expression of the model's ids."""
    import libsbml

    targets: dict[str, tuple[tuple[str, float | None], ...]] = {}
    for event in model.getListOfEvents():
        for assignment in event.getListOfEventAssignments():
            math_, pid = assignment.getMath(), assignment.getVariable()
            value = None
            if math_ is not None and not _has_names(math_):
                value = float(libsbml.SBMLTransforms.evaluateASTNode(math_))
                # libsbml evaluates some expressions to nan (seen after other models were read in the same
                # process): those are checked after the run, like expressions of the model's ids
                value = value if math.isfinite(value) else None
            targets[pid] = (*targets.get(pid, ()), (event.getId() or "(unnamed)", value))
    return targets


def _has_names(node) -> bool:
    """Whether a libsbml AST refers to any id, time or function (not a constant expression)."""
    import libsbml

    if node.getType() in (libsbml.AST_NAME, libsbml.AST_NAME_TIME, libsbml.AST_NAME_AVOGADRO, libsbml.AST_FUNCTION,
                          libsbml.AST_FUNCTION_DELAY, libsbml.AST_FUNCTION_RATE_OF):
        return True
    return any(_has_names(node.getChild(i)) for i in range(node.getNumChildren()))


def determined_ids(model) -> set[str]:
    """Ids of a libsbml model whose value a rule, an initial assignment or a species' conversion
    factor determines (not free parameters)."""
    derived = {a.getSymbol() for a in model.getListOfInitialAssignments()}
    derived |= {r.getVariable() for r in model.getListOfRules()}
    derived |= {s.getConversionFactor() for s in model.getListOfSpecies() if s.isSetConversionFactor()}
    return derived


def _time_unit(model) -> str:
    """``"day"``, ``"hour"``, ``"minute"``, ``"second"``, another unit id, or ``""`` if undeclared."""
    import libsbml

    unit_id = model.getTimeUnits() or ("time" if model.getUnitDefinition("time") else "")  # L2: redefined "time"
    definition = model.getUnitDefinition(unit_id) if unit_id else None
    if definition is not None and definition.getNumUnits() == 1:
        unit = definition.getUnit(0)
        if unit.getKind() == libsbml.UNIT_KIND_SECOND and unit.getExponent() == 1:
            seconds = unit.getMultiplier() * 10.0 ** unit.getScale()
            names = {86400.0: "day", 3600.0: "hour", 60.0: "minute", 1.0: "second"}
            return next((n for s, n in names.items() if math.isclose(seconds, s)), unit_id)
    return unit_id or ""


class Model:
    """A flat SBML model and its drug, output and covariate maps (see module docstring)."""

    sbml: str
    name: str
    origin: str
    stiff: bool
    limits: Mapping[str, tuple[str, float, float]]
    atol_scale: Mapping[str, float]
    drugs: Mapping[str, Drug]
    outputs: Mapping[str, Output]
    covariates: Mapping[str, str]
    check_derived: bool
    rtol: float
    atol: float
    key: str

    def __init__(
        self,
        sbml: str,
        *,
        name: str = "model",
        drugs: Iterable[Drug] = (),
        outputs: Iterable[Output] = (),
        covariates: Mapping[str, str] | None = None,
        check_derived: bool = False,
        rtol: float = RTOL,
        atol: float = ATOL,
        atol_scale: Mapping[str, float] | None = None,
        stiff: bool = STIFF,
        limits: Mapping[str, tuple[str, float, float]] | None = None,
        origin: str = "",
    ) -> None:
        values = {"sbml": sbml, "name": name, "origin": origin or name, "stiff": bool(stiff),
                  "limits": MappingProxyType(dict(limits or {})),
                  "atol_scale": MappingProxyType(dict(atol_scale or {})),
                  "drugs": MappingProxyType({d.name: d for d in drugs}),
                  "outputs": MappingProxyType({o.name: o for o in outputs}),
                  "covariates": MappingProxyType(dict(covariates or {})),
                  "check_derived": check_derived, "rtol": float(rtol), "atol": float(atol),
                  "key": hashlib.sha256(sbml.encode()).hexdigest()}
        for attribute, value in values.items():
            object.__setattr__(self, attribute, value)
        self._validate_maps()

    def __setattr__(self, attribute: str, value: Any) -> None:
        raise AttributeError(f"Model is read-only; make another (Model(...), with_sbml, with_drugs), not .{attribute}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self.key)

    def _identity(self) -> tuple:
        return (*self._content(), *self._solver(), tuple(sorted(self.limits.items())))

    def _solver(self) -> tuple:
        return (self.rtol, self.atol, tuple(sorted(self.atol_scale.items())), self.stiff)

    def _content(self) -> tuple:
        return (self.key, tuple(self.drugs.values()), tuple(self.outputs.values()), tuple(self.covariates.items()),
                self.check_derived)

    def same_content(self, other: Model) -> bool:
        """Same SBML and maps (solver tolerances aside)."""
        return self._content() == other._content()

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def from_sbml(cls, sbml: str | Path, *, drugs: Iterable[Drug] = (), outputs: Iterable[Output] | None = None,
                  name: str | None = None, **kwargs: Any) -> Model:
        """Wrap a flat SBML file (path) or text. Without ``outputs``, every species is reported."""
        text, origin = read_sbml(sbml)
        info = _info(text, origin)
        if outputs is None:
            outputs = [Output(s, s) for s in sorted(info.species)]
        default_name = Path(origin).stem if origin != "SBML text" else "model"
        return cls(text, name=name or default_name, drugs=drugs, outputs=outputs, origin=origin, **kwargs)

    def with_sbml(self, sbml: str | Path) -> Model:
        """This model's maps and settings on another SBML (e.g. an exported, edited copy)."""
        text, origin = read_sbml(sbml)
        return self._copy(sbml=text, origin=origin)

    def with_drugs(self, drugs: Iterable[Drug]) -> Model:
        """This model with ``drugs`` added to (or replacing those of the same name in) its drug map."""
        return self._copy(drugs={**self.drugs, **{d.name: d for d in drugs}}.values())

    def with_tolerances(self, rtol: float, atol: float, atol_scale: Mapping[str, float] | None = None,
                        stiff: bool | None = None) -> Model:
        """This model integrated with other solver settings (``None``: keep this model's)."""
        return self._copy(rtol=rtol, atol=atol, atol_scale=self.atol_scale if atol_scale is None else atol_scale,
                          stiff=self.stiff if stiff is None else stiff)

    def _kwargs(self) -> dict[str, Any]:
        """The constructor's keyword arguments that rebuild this model (plain, picklable values)."""
        return {"name": self.name, "drugs": tuple(self.drugs.values()), "outputs": tuple(self.outputs.values()),
                "covariates": dict(self.covariates), "check_derived": self.check_derived, "rtol": self.rtol,
                "atol": self.atol, "atol_scale": dict(self.atol_scale), "stiff": self.stiff,
                "limits": dict(self.limits), "origin": self.origin}

    def _copy(self, **changes: Any) -> Model:
        kwargs = self._kwargs() | changes
        return Model(kwargs.pop("sbml", self.sbml), **kwargs)

    def stiff_fallback(self) -> Model:
        """What a non-stiff (Adams) run falls back to when it fails (a parameter set that makes the
        system stiff), and what finite differences integrate with: BDF at rtol 1e-8 and uniform atol
        1e-10 (the remaining failures of a 20-parameter Sobol design fail at rtol 1e-10 too)."""
        return self.with_tolerances(min(self.rtol, RTOL), min(self.atol, ATOL), atol_scale={}, stiff=True)

    @property
    def is_thymosim(self) -> bool:
        """True for thymosim's model and edited copies of it (whose parameters the table describes)."""
        return self.name == MAIN_MODULE and self.defaults.keys() == default_model().defaults.keys()

    def __reduce__(self):
        return (_rebuild, (self.sbml, self._kwargs()))

    def __repr__(self) -> str:
        return (f"Model({self.name!r}, {len(self.defaults)} parameters, {len(self.drugs)} drugs, "
                f"{len(self.outputs)} outputs, sha256 {self.key[:12]})")

    # --- what the SBML holds -------------------------------------------------------------------
    @property
    def info(self) -> _Info:
        return _CACHE.info.get(self.key) or _info(self.sbml, self.origin)

    @property
    def defaults(self) -> Mapping[str, float]:
        """Settable parameters (constant, not derived by a rule or initial assignment, not a
        species' conversion factor) and their SBML values."""
        return self.info.defaults

    @property
    def derived(self) -> tuple[str, ...]:
        """Constants derived at t0 and held by a zero rate rule."""
        return self.info.derived

    def _validate_maps(self) -> None:
        info = self.info
        for drug in self.drugs.values():
            if drug.target and drug.target not in info.settable:
                raise ModelError(f"drugs.{drug.name}.target: {drug.target!r} is not a species or parameter of "
                                 f"{self.origin} that a dose can change (no rule may determine it)")
            if drug.rate and drug.rate not in info.defaults:
                raise ModelError(f"drugs.{drug.name}.rate: {drug.rate!r} is not a settable parameter of "
                                 f"{self.origin}")
            if drug.exposure and drug.exposure not in info.ids:
                raise ModelError(f"drugs.{drug.name}.exposure: {drug.exposure!r} is not an id of {self.origin}")
        for output in self.outputs.values():
            bare = output.id[1:-1] if output.id.startswith("[") and output.id.endswith("]") else output.id
            if bare not in info.ids or (bare != output.id and bare not in info.species):
                raise ModelError(f"outputs.{output.name}: {output.id!r} is not a species, parameter or "
                                 f"compartment of {self.origin}")
        for name, pid in self.covariates.items():
            if pid not in info.defaults:
                raise ModelError(f"covariates.{name}: {pid!r} is not a settable parameter of {self.origin}")
        for pid, (domain, _, _) in self.limits.items():
            if pid in info.defaults and not in_domain(info.defaults[pid], domain):
                raise ModelError(f"{self.origin}: parameter {pid} = {info.defaults[pid]!r} in the SBML; allowed: "
                                 f"{domain} (models/parameters.tsv)")
        self._check_event_numbers()
        for sid, scale in self.atol_scale.items():
            if sid not in info.species and sid not in info.settable or not (scale > 0 and math.isfinite(scale)):
                raise ModelError(f"atol_scale.{sid}: {scale!r}; allowed: a positive scale for a state of {self.origin}")

    def _check_event_numbers(self) -> None:
        """Event assignments of numbers to parameters with a hard domain are checked like initial values."""
        for pid, assignments in self.info.events.items():
            for event, value in assignments:
                if pid in self.limits and value is not None and not in_domain(value, self.limits[pid][0]):
                    raise ModelError(f"{self.origin}: event {event} sets parameter {pid} = {value!r}; allowed: "
                                     f"{self.limits[pid][0]} (models/parameters.tsv)")

    @property
    def event_checked(self) -> tuple[str, ...]:
        """Parameters with a hard domain that an event sets to an expression: checked after each run."""
        return tuple(pid for pid, assignments in self.info.events.items()
                     if pid in self.limits and any(value is None for _, value in assignments))

    # --- running ---------------------------------------------------------------------------------
    def runner(self):
        """The compiled model (one RoadRunner per thread, content and solver settings), loaded from
        the on-disk cache of compiled models when an entry exists (:mod:`thymosim.runner_cache`),
        else compiled and stored there. Set values only through :meth:`reset`, which restores every
        parameter before a run."""
        key = (self.key, *self._solver())
        runners = _CACHE.runners()
        rr = runners.get(key)
        if rr is None:
            import roadrunner

            disk_key = runner_cache.entry_key(self.key, self._solver())
            rr = runner_cache.load(disk_key)
            loaded = rr is not None
            if not loaded:
                with _CACHE.lock:
                    _CACHE.compilations += 1
                try:
                    rr = roadrunner.RoadRunner(self.sbml)
                except RuntimeError as err:
                    raise ModelError(f"{self.origin}: roadrunner cannot compile it ({str(err)[:300]})") from None
            # thymosim reports solver failures itself (SimulationError: when, why, suspects); CVODE's own
            # error lines would only repeat them. Set once, after compiling (compile warnings stay visible);
            # roadrunner.Logger.setLevel(...) restores them.
            roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)
            self._configure(rr)
            if loaded:
                with _CACHE.lock:
                    _CACHE.loads += 1
            else:
                runner_cache.store(disk_key, rr)  # the compiled model before any run (states at t0)
            runners[key] = rr
            while len(runners) > MAX_RUNNERS:
                runners.popitem(last=False)
        runners.move_to_end(key)
        return rr

    def _configure(self, rr) -> None:
        """Apply this model's solver settings to a compiled or loaded RoadRunner."""
        integrator = rr.getIntegrator()
        integrator.setValue("relative_tolerance", self.rtol)
        integrator.setValue("absolute_tolerance", self.atol)
        integrator.setValue("maximum_num_steps", MAX_STEPS if self.stiff else MAX_STEPS_ADAMS)
        integrator.setValue("stiff", self.stiff)
        # CVODE's own first-step estimate after a dose can be ~1e-15 day at atol 1e-10 (ifosfamide at
        # day 21): SUNDIALS then prints "t + h = t" warnings past the logger; a floor of 1e-6 day
        # (0.09 s) removes them and changes no output beyond the accuracy budget (tests/test_accuracy.py)
        integrator.setValue("initial_time_step", INITIAL_STEP)
        if not self.stiff:
            integrator.setValue("maximum_adams_order", MAX_ADAMS_ORDER)
        for sid, scale in self.atol_scale.items():
            integrator.setIndividualTolerance(sid, self.atol * scale)

    def dosing_input(self, pid: str) -> str | None:
        """The drug whose infusion-rate input ``pid`` is (set by the driver during its infusions), or None."""
        return next((d.name for d in self.drugs.values() if d.rate == pid), None)

    def values(self, patient=None) -> dict[str, float]:
        """Parameter values a simulation of ``patient`` uses: defaults, then the patient's
        covariates, then its parameter overrides."""
        values = dict(self.defaults)
        if patient is not None:
            fields = {pid: name for name, pid in self.covariates.items()}
            clash = [pid for pid in patient.parameters if pid in fields]
            if clash:
                raise ValueError(f"Patient.parameters: {clash[0]} is a covariate of model {self.name!r}; "
                                 f"set Patient.{fields[clash[0]]} instead")
            for pid in patient.parameters:
                if drug := self.dosing_input(pid):
                    raise ValueError(f"Patient.parameters: {pid} is the infusion-rate input of {drug}, set by the "
                                     f"driver during its infusions, not a patient parameter; dose {drug} instead "
                                     "(a Dose with a duration)")
            values.update({pid: float(getattr(patient, name)) for name, pid in self.covariates.items()})
            values.update(patient.parameters)
            self.check_values({pid: values[pid] for pid in (*patient.parameters, *self.covariates.values())})
        return values

    def check_values(self, values: Mapping[str, float], warn: bool = False) -> None:
        """Refuse values outside their hard domain (:class:`DomainError` naming the parameter);
        with ``warn``, warn about values outside the plausible bounds of the table."""
        for pid, value in values.items():
            if pid not in self.limits:
                continue
            domain, lower, upper = self.limits[pid]
            if not in_domain(float(value), domain):
                raise DomainError(pid, float(value), domain, lower, upper)
            if warn and not within(value, lower, upper):
                warnings.warn(f"parameter {pid} = {value:g} is outside its plausible range {lower:g} to {upper:g} "
                              "(models/parameters.tsv)", stacklevel=4)

    def reset(self, overrides: Mapping[str, float]):
        """The runner with everything a previous run may have changed restored (``resetAll``:
        states, and parameters that events or doses changed), every settable parameter at its
        default or override, then initial assignments (derived constants included) re-evaluated;
        returns it."""
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise KeyError(f"unknown parameter(s) {unknown} for model {self.name!r}; see Model.defaults")
        rr = self.runner()
        rr.resetAll()
        state = rr.model  # the compiled model's own setValue: without the RoadRunner wrapper's selection parsing
        for pid, default in self.defaults.items():
            value = float(overrides.get(pid, default))
            if not math.isfinite(value):
                raise ValueError(f"parameter {pid} must be finite, got {value!r}")
            state.setValue(pid, value)
        rr.reset()
        for pid in self.info.events:  # rr.reset() may refire an event of the last run (seen with time triggers)
            if pid in self.defaults:
                rr.setValue(pid, float(overrides.get(pid, self.defaults[pid])))
        if self.check_derived:
            negative = {d: rr.getValue(d) for d in self.derived if rr.getValue(d) < 0}
            if negative:
                detail = ", ".join(f"{k} = {v:.3g}" for k, v in negative.items())
                raise InfeasibleBaseline(
                    f"derived rate(s) {detail} < 0: with these parameters the patient's baseline counts cannot be "
                    "a steady state (e.g. IL-2-driven effector proliferation exceeds effector loss)")
        return rr


INFO_VERSION = 1  # bump when _parse or _Info changes: entries of the on-disk cache written before are ignored


def _info(sbml: str, origin: str) -> _Info:
    key = hashlib.sha256(sbml.encode()).hexdigest()
    if key not in _CACHE.info:
        name = f"info{INFO_VERSION}-{key}"
        stored = runner_cache.load_json(name)
        try:
            info = _Info(defaults=MappingProxyType({k: float(v) for k, v in stored["defaults"].items()}),
                         derived=tuple(stored["derived"]), species=frozenset(stored["species"]),
                         ids=frozenset(stored["ids"]), settable=frozenset(stored["settable"]),
                         time_unit=str(stored["time_unit"]))
        except (TypeError, KeyError, AttributeError, ValueError):
            info = _parse(sbml, origin)
            runner_cache.store_json(name, {"defaults": dict(info.defaults), "derived": list(info.derived),
                                           "species": sorted(info.species), "ids": sorted(info.ids),
                                           "settable": sorted(info.settable), "time_unit": info.time_unit})
        _CACHE.info[key] = info
    return _CACHE.info[key]


def _rebuild(sbml: str, kwargs: dict[str, Any]) -> Model:
    return Model(sbml, **kwargs)


MAX_SBML_BYTES = 64 * 2**20
"""Largest SBML file read (64 MiB; thymosim's is 0.3 MiB): a model file is untrusted input."""
MAX_XML_DEPTH = 500
"""Deepest XML element nesting accepted (thymosim's SBML nests 11 deep). libsbml and roadrunner
recurse over MathML: 10,000 levels crash the process (segmentation fault), so deeper files are
refused before either sees them."""


def read_sbml(sbml: str | Path) -> tuple[str, str]:
    """(text, origin) of an SBML path or text; a byte-order mark is dropped. Empty, unreadable
    or non-SBML input is a :class:`ModelError` naming the file, and so is a path that is not a
    regular file (a FIFO, a device, a directory), a file over :data:`MAX_SBML_BYTES` and XML
    nested deeper than :data:`MAX_XML_DEPTH` or not well-formed."""
    if isinstance(sbml, Path) or (isinstance(sbml, str) and not sbml.lstrip("\ufeff \t\r\n").startswith("<")):
        path = Path(sbml)
        text = _read_model_file(path)
        origin = str(path)
    else:
        text, origin = sbml, "SBML text"
    text = text.lstrip("\ufeff")
    if len(text) > MAX_SBML_BYTES:
        raise ModelError(f"{origin}: {len(text)} characters; allowed: an SBML text of at most {MAX_SBML_BYTES} bytes")
    if "<sbml" not in text[:2000]:
        raise ModelError(f"{origin}: not an SBML file (no <sbml> element)")
    _check_xml(text, origin)
    return text, origin


def _read_model_file(path: Path) -> str:
    """The text of a model file, checked before reading: a regular file of at most MAX_SBML_BYTES."""
    import os
    import stat

    try:
        info = os.stat(path)
    except OSError as err:
        raise ModelError(f"{path}: cannot read the model file ({err.strerror or err})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a regular file")
        raise ModelError(f"{path}: {kind}; allowed: a regular SBML file")
    if info.st_size > MAX_SBML_BYTES:
        raise ModelError(f"{path}: {info.st_size} bytes; allowed: an SBML file of at most {MAX_SBML_BYTES} bytes")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SBML_BYTES + 1)
    except OSError as err:
        raise ModelError(f"{path}: cannot read the model file ({err.strerror or err})") from None
    if len(data) > MAX_SBML_BYTES:
        raise ModelError(f"{path}: grew past {MAX_SBML_BYTES} bytes while read; allowed: a regular SBML file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ModelError(f"{path}: cannot read the model file (not UTF-8: {err.reason} at byte {err.start})") from None


class _TooDeep(Exception):
    pass


def _check_xml(text: str, origin: str) -> None:
    """Refuse XML that is not well-formed or nests deeper than MAX_XML_DEPTH (expat: no recursion)."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    depth = [0]

    def start(_name, _attributes):
        depth[0] += 1
        if depth[0] > MAX_XML_DEPTH:
            raise _TooDeep

    def end(_name):
        depth[0] -= 1

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.DefaultHandler = None
    try:
        parser.Parse(text.encode("utf-8"), True)
    except _TooDeep:
        raise ModelError(f"{origin}: XML nested more than {MAX_XML_DEPTH} elements deep (line "
                         f"{parser.CurrentLineNumber}); allowed: at most {MAX_XML_DEPTH} (deeper MathML crashes "
                         "the SBML reader)") from None
    except expat.ExpatError as err:
        raise ModelError(f"{origin}: not a readable SBML model (XML: {expat.ErrorString(err.code)}, line "
                         f"{err.lineno})") from None


@functools.cache
def default_model() -> Model:
    """thymosim: ``models/thymosim.xml`` with the drug, output and covariate tables of ``models/``;
    a :class:`ModelError` if the SBML was not built from the ``parameters.tsv`` and modules beside it."""
    from thymosim import tables

    sbml = sbml_path().read_text(encoding="utf-8")
    tables.check_build(sbml)  # the SBML was built from the table and modules beside it
    return Model(
        sbml,
        name=MAIN_MODULE,
        drugs=tables.load_drugs(),
        outputs=tables.load_outputs(),
        covariates=tables.load_covariates(),
        check_derived=True,
        atol_scale=tables.load_atol_scales(),
        limits=tables.load_limits(),
        **DEFAULT_SOLVER,
        origin=str(sbml_path()),
    )
