"""Dose regimens as data, with NONMEM/mrgsolve field names.

A :class:`Dose` is one dosing record: ``drug``, amount ``amt`` (number + ``unit``, or a
string such as ``"80 mg/m2"`` or ``"0.02 mg/kg"``: per-m2 amounts scale with the patient's body
surface area, per-kg amounts with the patient's body weight, when administered), first ``time``,
interval ``ii``, additional doses ``addl`` or an exclusive end time ``until``, and for infusions a
``rate`` (amount/day) or duration ``dur``. Times are days (numbers) or strings (``"12 h"``, ``"2 week"``).
Records are normalised on construction, so equal spellings give equal objects.

Doses and regimens combine as people write them::

    ta1 = Dose("thymalfasin", "1.6 mg", ii="3.5 day", until="180 day")
    loading = Dose("thymalfasin", "3.2 mg", ii="1 day", addl=6)          # days 0..6
    chemo = Dose("cisplatin", "80 mg/m2", dur="1 h") + Dose("vinorelbine", "30 mg/m2", dur="10 min")
    arm = chemo + loading.then(ta1)         # concurrent (+) and sequential (then)
    Regimen(ta1), Regimen(ta1, loading), Regimen([ta1]), sum([ta1, loading])   # all Regimens
    vnr = Dose("vinorelbine", "30 mg/m2", dur="10 min").cycle(days=[1, 8, 15], every="21 day", cycles=4)

Rules:

* ``a + b`` is concurrent: ``Dose + Dose``, ``Dose + Regimen``, ``Regimen + Dose``, ``Regimen + Regimen``
  all give a :class:`Regimen` (``sum(doses)`` works too).
* ``a.then(b, gap=0)`` is sequential: ``b`` is shifted so that its time 0 falls ``gap`` days after
  ``a`` ends. ``a`` ends one interval after its last administration: for each record, the last
  administration plus ``max(ii, dur)`` (a single bolus ends at its time, an infusion when it
  stops); for a record made by :meth:`Dose.cycle`, the end of its last cycle (day 1 of the last cycle
  plus ``every``), so "after the chemotherapy" means after its last 21-day cycle, not 21 days after
  its day-15 dose. The regimen ends when its last record ends. So ``loading.then(ta1)`` with
  ``loading`` daily on days 0..6 starts ``ta1`` on day 7.
* ``until`` is an exclusive, **absolute** end day: it is kept through :meth:`Dose.shift` and ``then``
  and the number of administrations is recomputed, so the last administration is before ``until``
  whatever the start (``loading.then(ta1)`` above ends before day 180, not at 185.5). A shift that
  moves the start to or past ``until`` is an error. ``addl`` is a relative count and moves with the dose.
* :meth:`Dose.cycle` repeats a single administration on cycle days (day 1 = the dose's ``time``) every
  ``every`` days, for ``cycles`` cycles or until an absolute ``until``.

Regimens shift in time (``a.shift(7)``) and print as a NONMEM-like event table
(:meth:`Regimen.to_frame`). The simulation driver applies each administration at
its exact time; nothing is compiled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from thymosim import units
from thymosim.model import Drug, Model, default_model
from thymosim.pk_steady_state import pk_system
from thymosim.tables import parameter_value

WEIGHT = parameter_value("BW")
"""Body weight [kg] used when none is given: the table's ``BW`` (= ``Patient().weight``)."""
MAX_ADDL = 100_000  # guards against an interval typo expanding into millions of doses


@dataclass(frozen=True)
class Dose:
    """One dosing record (see module docstring). Stored canonically: amounts in mg (MU, Gy, umol),
    absolute, per m2 (``per_bsa``) or per kg (``per_weight``), times in days, ``rate`` folded into
    ``dur``, ``until`` into ``addl`` (``until`` itself is kept, in days, so that shifts recompute
    ``addl``; like ``in_cycle`` it is not compared: doses compare by what they give).

    ``drug`` is a name in the default model's drug map (``models/drugs.tsv``; case, spaces, ``-`` and
    ``_`` do not matter: ``"Thymalfasin"``, ``"GM-CSF"``, ``"PD-1 inhibitor"``) or a
    :class:`~thymosim.model.Drug` of another model (``model.drugs["name"]``)."""

    drug: str | Drug
    amt: float | str
    unit: str | None = None
    time: float | str = 0.0
    ii: float | str = 0.0
    addl: int = 0
    until: float | str | None = field(default=None, compare=False)
    rate: float | str | None = None
    dur: float | str = 0.0
    route: str | None = None
    per_bsa: bool = field(default=False, compare=True)
    spec: Drug | None = field(default=None, repr=False)
    in_cycle: tuple[float, float] | None = field(default=None, compare=False, repr=False)
    """(days from day 1 of its cycle to ``time``, cycle length [day]); set by :meth:`cycle`."""
    per_weight: bool = field(default=False, compare=True)
    """The amount is per kg of body weight (``"mg/kg"``): scaled by ``Patient.weight`` when given."""
    ss: bool = False
    """Steady state (NONMEM ``SS``): the patient arrives at this record already at the drug's periodic
    pharmacokinetic steady state of the dose repeated every ``ii`` days (``ii`` > 0 required, kept even
    without repeats). Only for a drug whose PK is linear and independent of the rest of the model
    (checked numerically; see :func:`steady_state`)."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if isinstance(self.drug, Drug):
            drug = self.drug
        elif self.spec is not None and self.spec.name == self.drug:
            drug = self.spec
        else:
            drug = lookup_drug(self.drug, default_model().drugs, "(or a Drug of another model: model.drugs[name])")
        set_(self, "drug", drug.name)
        set_(self, "spec", drug)
        try:
            amt, per = units.amount_per(self.amt, self.unit, drug.dimension)
        except ValueError as err:
            key = "unit" if "amount; allowed" in str(err) or "per kg" in str(err) else "amt"
            raise ValueError(f"{key}: {err}") from None
        per_bsa, per_weight = per == "m2" or self.per_bsa, per == "kg" or self.per_weight
        if per_bsa and per_weight:
            raise ValueError(f"unit: {self.amt!r} is both per m2 and per kg; allowed: one of them")
        if per_weight and drug.dimension not in units.PER_WEIGHT_DIMENSIONS:
            raise ValueError(f"unit: {drug.name} is dosed in {units.CANONICAL[drug.dimension]}, which cannot be per kg "
                             "of body weight; allowed: an absolute amount (optionally per m2)")
        per_unit = "/m2" if per_bsa else "/kg" if per_weight else ""
        if not (amt >= 0 and math.isfinite(amt)):
            raise ValueError(f"amt: {self.amt!r} must be a finite amount >= 0")
        if amt > drug.max_amt:
            raise ValueError(f"amt: {str(self.amt)[:40]!r} is {amt:g} {units.CANONICAL[drug.dimension]}"
                             f"{per_unit} per administration; allowed: at most {drug.max_amt:g} "
                             f"{units.CANONICAL[drug.dimension]} for "
                             f"{drug.name} (a sanity limit, models/drugs.tsv max_amt)")
        time, ii, dur = _days("time", self.time), _days("ii", self.ii), _days("dur", self.dur)
        for name, value in (("time", time), ("ii", ii), ("dur", dur)):
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name}: {getattr(self, name)!r} must be a finite time >= 0 days")
        if not isinstance(self.ss, bool):
            raise ValueError(f"ss: {self.ss!r}; allowed: True or False (steady state of the repeated dose)")
        if self.ss and not ii > 0:
            raise ValueError(f"ii: {self.ii!r}; a steady-state dose (ss = True) needs its dosing interval; allowed: "
                             "ii > 0 days (e.g. '3.5 day'; in a scenario cycle, every)")
        addl: Any = self.addl
        if isinstance(addl, float) and addl.is_integer():
            addl = int(addl)
        if not isinstance(addl, int) or isinstance(addl, bool) or addl < 0:
            raise ValueError(f"addl: {self.addl!r} must be an integer >= 0")
        if self.until is not None:
            until = _days("until", self.until)
            if addl:
                raise ValueError("until: give either addl or until, not both")
            if not ii > 0:
                raise ValueError(f"ii: {self.ii!r} must be > 0 days when until is given")
            if not math.isfinite(until):
                raise ValueError(f"until: {self.until!r} must be a finite time")
            if not until > time:
                raise ValueError(f"until: {self.until!r} must be after time ({time} days)")
            count = (until - time) / ii
            if not count <= MAX_ADDL + 1:  # also catches an infinite count from a vanishing interval
                raise ValueError(f"ii: {self.ii!r} until {self.until!r} gives {count:.3g} doses; allowed: at most "
                                 f"{MAX_ADDL + 1} (thymosim.regimen.MAX_ADDL)")
            addl = max(math.ceil(count - 1e-9) - 1, 0)  # until is exclusive
        if addl > MAX_ADDL:
            raise ValueError(f"addl: {addl} additional doses; allowed: at most {MAX_ADDL}")
        if addl > 0 and not ii > 0:
            raise ValueError(f"ii: {self.ii!r} must be > 0 days when addl > 0")
        if self.rate is not None:
            if dur:
                raise ValueError("rate: give either rate or dur, not both")
            rate, rate_unit = units.split_quantity(self.rate) if isinstance(self.rate, str) else (self.rate, None)
            rate_per_day = _rate_per_day(rate, rate_unit, drug, self.rate)
            if not rate_per_day > 0:
                raise ValueError(f"rate: {self.rate!r} must be > 0")
            dur = amt / rate_per_day
        if dur == 0 and drug.target is None:
            dur = drug.default_dur
        if dur > 0 and drug.rate is None:
            raise ValueError(f"dur: {self.drug} is given as a bolus only; allowed dur: 0")
        if (addl > 0 or self.ss) and dur > ii:
            raise ValueError(f"dur: {dur} days exceeds the dosing interval ii = {ii} days")
        route = self.route or drug.routes[0]
        if route not in drug.routes:
            raise ValueError(f"route: {route!r} not available for {self.drug}; allowed: {', '.join(drug.routes)} "
                             f"({drug.description})")
        until = None if self.until is None else until
        for name, value in (("amt", amt), ("unit", units.CANONICAL[drug.dimension]), ("time", time),
                            ("ii", ii if addl or until is not None or self.ss else 0.0), ("addl", addl),
                            ("until", until),
                            ("rate", None),
                            ("dur", dur), ("route", route), ("per_bsa", per_bsa),
                            ("per_weight", per_weight)):
            set_(self, name, value)

    @property
    def times(self) -> list[float]:
        """Times of every administration [day]."""
        return [self.time + k * self.ii for k in range(self.addl + 1)]  # type: ignore[misc]

    def model_amount(self, bsa: float, weight: float = WEIGHT) -> float:
        """Amount per administration in the model's unit for this drug: a per-m2 amount times the
        body surface area ``bsa`` [m2], a per-kg amount times the body ``weight`` [kg]."""
        return self.amount(bsa, weight) * self.spec.model_per_canonical

    def amount(self, bsa: float, weight: float = WEIGHT) -> float:
        """Absolute amount per administration in the canonical unit (mg, MU, Gy, umol) for a patient
        of body surface area ``bsa`` [m2] and body ``weight`` [kg]."""
        return self.amt * bsa if self.per_bsa else self.amt * weight if self.per_weight else self.amt

    @property
    def per_unit(self) -> str:
        """``"/m2"``, ``"/kg"`` or ``""``: what the amount is per (appended to ``unit`` when written)."""
        return "/m2" if self.per_bsa else "/kg" if self.per_weight else ""

    def end(self) -> float:
        """When this record is over [day]: its last administration plus ``max(ii, dur)``; for a
        record made by :meth:`cycle`, day 1 of its last cycle plus the cycle length."""
        if self.in_cycle is not None:
            offset, length = self.in_cycle
            return self.times[-1] - offset + length
        return self.times[-1] + max(self.ii, self.dur)

    def shift(self, dt: float | str) -> Dose:
        """The same record ``dt`` days later; ``until`` stays where it is (absolute), so the number of
        administrations is recomputed. Moving the start to or past ``until`` is an error."""
        time = self.time + _days("dt", dt)
        if self.until is None:
            return replace(self, time=time)
        if not time < self.until:
            raise ValueError(f"until: {self.drug} shifted to start on day {time:g}, not before its until (day "
                             f"{self.until:g}; until is an absolute end and does not move); allowed: a start before "
                             "until, or addl = N for a count that moves with the dose")
        return replace(self, time=time, addl=0)

    def __add__(self, other: Dose | Regimen) -> Regimen:
        """Concurrent combination: ``Dose + Dose`` and ``Dose + Regimen`` give a :class:`Regimen`."""
        if not isinstance(other, Dose | Regimen):
            return NotImplemented
        return Regimen(self) + other

    def __radd__(self, other) -> Regimen:
        if isinstance(other, int) and other == 0:  # sum([dose, ...])
            return Regimen(self)
        return NotImplemented

    def then(self, other: Dose | Regimen, gap: float | str = 0.0) -> Regimen:
        """Sequential combination (see :meth:`Regimen.then`)."""
        return Regimen(self).then(other, gap)

    def cycle(self, days: Sequence[float] = (1,), every: float | str | None = None, cycles: int | None = None,
              until: float | str | None = None) -> Regimen:
        """This single administration on each of ``days`` of a cycle (day 1 = this dose's ``time``),
        repeated ``every`` days for ``cycles`` cycles or until an absolute, exclusive ``until``:
        ``Dose("vinorelbine", "30 mg/m2", dur="10 min").cycle([1, 8, 15], every="21 day", cycles=4)``.
        One record per cycle day (``ii = every``); the regimen ends with its last cycle."""
        if self.addl or self.until is not None:
            raise ValueError("cycle: the dose to cycle must be one administration (addl = 0, no until); "
                             "allowed: days, every and cycles (or until) give the repeats")
        length = _days("every", every) if every is not None else None
        if length is None or not (length > 0 and math.isfinite(length)):
            raise ValueError(f"every: {every!r}; allowed: the cycle length, a finite time > 0 days (e.g. '21 day')")
        if (cycles is None) == (until is None):
            raise ValueError("cycles: give either cycles = N or until (an absolute end day), not both or neither")
        if cycles is not None and (isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1):
            raise ValueError(f"cycles: {cycles!r}; allowed: an integer >= 1")
        if isinstance(days, int | float) and not isinstance(days, bool):
            days = [days]
        if isinstance(days, str | bytes | Mapping) or not isinstance(days, Iterable):
            raise ValueError(f"days: {days!r}; allowed: a list of cycle days, 1 = the first day of the cycle")
        days = list(days)
        bad = [d for d in days if isinstance(d, bool) or not isinstance(d, int | float) or not 1 <= d < length + 1]
        if not days or bad:
            raise ValueError(f"days: {str(days)[:60]}; allowed: a non-empty list of cycle days from 1 to "
                             f"{length + 1:g} (exclusive; day 1 = time {self.time:g})")
        end = None if until is None else _days("until", until)
        records = []
        for day in sorted(set(days)):
            start, offset = self.time + day - 1, float(day - 1)
            if end is not None and not start < end:
                continue
            extra = {"addl": cycles - 1} if cycles is not None else {"until": end}
            records.append(replace(self, time=start, ii=length, in_cycle=(offset, length), **extra))
        if not records:
            raise ValueError(f"until: {until!r} is not after the first cycle day (day {self.time:g})")
        return Regimen(records)


def _days(name: str, value) -> float:
    try:
        return units.days(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name}: {value!r}: {err}") from None


def _drug_key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch not in " -_")


def lookup_drug(name: str, drugs: Mapping[str, Drug], hint: str = "") -> Drug:
    """The drug called ``name`` in a drug map, by its name or one of its synonyms (``models/drugs.tsv``:
    brand names and INNs, e.g. ``"Zadaxin"``, ``"pembrolizumab"``); case, spaces, ``-`` and ``_`` do not
    matter (``"Thymalfasin"``, ``"GM-CSF"``, ``"pd-1 inhibitor"``). Raises ValueError naming the allowed drugs."""
    if isinstance(name, str):
        if name in drugs:
            return drugs[name]
        key = _drug_key(name)
        found = {d.name: d for k, d in drugs.items()
                 if _drug_key(k) == key or key in {_drug_key(s) for s in getattr(d, "synonyms", ())}}
        if len(found) == 1:
            return next(iter(found.values()))
    raise ValueError(f"drug: unknown drug {str(name)[:50]!r}; allowed: {', '.join(drugs) or 'none declared'}"
                     + (f" {hint}" if hint else ""))


def _rate_per_day(rate: float, unit: str | None, drug: Drug, original) -> float:
    """Infusion rate in canonical amount per day, from e.g. ``"80 mg/h"``."""
    if unit is None:
        return float(rate)
    if "/" not in unit:
        raise ValueError(f"rate: {original!r} needs a unit amount/time, e.g. '80 mg/h'")
    amount_unit, time_unit = unit.rsplit("/", 1)
    try:
        per, _ = units.amount_per(1.0, amount_unit, drug.dimension)  # only fixes dur; the basis is the amount's
        return float(rate) * per / units.days(f"1 {time_unit}")
    except ValueError as err:
        raise ValueError(f"rate: {original!r}: {err}") from None


@dataclass(frozen=True, init=False)
class Regimen:
    """Doses given concurrently. Two regimens are equal when they give the same
    administrations (drug, time, amount, duration), however they are spelled.

    Built from doses, regimens or iterables of them: ``Regimen(dose)``, ``Regimen(a, b)``,
    ``Regimen((a, b))``, ``Regimen([a, b])``, ``Regimen(other_regimen)``, ``Regimen(doses=(a, b))``."""

    doses: tuple[Dose, ...] = ()

    def __init__(self, *items: Dose | Regimen | Iterable[Dose | Regimen], doses: Iterable[Dose] = ()) -> None:
        flat: list[Dose] = []
        for item in (*items, doses):
            if isinstance(item, Dose):
                flat.append(item)
            elif isinstance(item, Regimen):
                flat.extend(item.doses)
            elif isinstance(item, Iterable) and not isinstance(item, str | bytes | Mapping):
                for inner in item:
                    if isinstance(inner, Dose):
                        flat.append(inner)
                    elif isinstance(inner, Regimen):
                        flat.extend(inner.doses)
                    else:
                        raise TypeError(f"Regimen: {type(inner).__name__} {str(inner)[:50]!r} is not a Dose; "
                                        "allowed: Doses, Regimens or iterables of them")
            else:
                raise TypeError(f"Regimen: {type(item).__name__} {str(item)[:50]!r} is not a Dose; "
                                "allowed: Doses, Regimens or iterables of them")
        object.__setattr__(self, "doses", tuple(flat))

    def __add__(self, other: Regimen | Dose) -> Regimen:
        """Concurrent combination."""
        if not isinstance(other, Dose | Regimen):
            return NotImplemented
        return Regimen(self, other)

    def __radd__(self, other) -> Regimen:
        if isinstance(other, int) and other == 0:  # sum([regimen, ...])
            return self
        return NotImplemented

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Regimen) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple:
        at_ss = sorted((d.drug, round(d.time, 9), round(d.ii, 9)) for d in self.doses if d.ss and d.amt > 0)
        return (*self.administrations().itertuples(index=False, name=None), *at_ss)

    def shift(self, dt: float | str) -> Regimen:
        """The same regimen starting ``dt`` later."""
        return Regimen(tuple(d.shift(dt) for d in self.doses))

    def end(self) -> float:
        """When the regimen is over [day]: the latest :meth:`Dose.end` of its records (the last
        administration plus its interval, or its infusion duration if longer; for cycled
        records, the end of the last cycle). An empty regimen ends at 0."""
        return max((d.end() for d in self.doses), default=0.0)

    def then(self, other: Regimen | Dose, gap: float | str = 0.0) -> Regimen:
        """Sequential combination: ``other`` (its time 0) starts ``gap`` days after this regimen
        :meth:`end` s; ``until`` in ``other`` stays absolute (see the module docstring)."""
        if not isinstance(other, Dose | Regimen):
            raise TypeError(f"then: {type(other).__name__} is not a Dose or Regimen")
        return self + Regimen(other).shift(self.end() + _days("gap", gap))

    def last_time(self) -> float:
        """Time of the last administration or infusion end [day]."""
        return max((d.times[-1] + d.dur for d in self.doses), default=0.0)

    def to_frame(self) -> pd.DataFrame:
        """NONMEM-like event table: one row per record (EVID 1 = dose)."""
        rows = [
            {"TIME": d.time, "DRUG": d.drug, "CMT": d.spec.target or d.spec.rate, "AMT": d.amt,
             "UNIT": d.unit + d.per_unit, "EVID": 1, "II": d.ii, "ADDL": d.addl,
             "RATE": d.amt / d.dur if d.dur else 0.0, "DUR": d.dur, "ROUTE": d.route}
            for d in self.doses
        ]
        columns = ["TIME", "DRUG", "CMT", "AMT", "UNIT", "EVID", "II", "ADDL", "RATE", "DUR", "ROUTE"]
        if any(d.ss for d in self.doses):  # NONMEM SS = 1, only where a record is at steady state
            for row, d in zip(rows, self.doses, strict=True):
                row["SS"] = int(d.ss)
            columns.append("SS")
        return pd.DataFrame(rows, columns=columns).sort_values(["TIME", "DRUG"], ignore_index=True)

    def administrations(self, bsa: float | None = None, weight: float | None = None) -> pd.DataFrame:
        """One row per administration (``addl`` expanded), sorted; zero amounts dropped. ``amt`` is
        as written (per m2 where ``per_bsa``, per kg where ``per_weight``); given a patient's ``bsa``
        [m2] and ``weight`` [kg], the amounts are absolute, as the patient receives them (flags False).
        Without them, a per-kg amount is not converted: a regimen does not know the patient."""
        rows = sorted(
            (round(t, 9), d.drug, *_given(d, bsa, weight), round(d.dur, 9))
            for d in self.doses if d.amt > 0 for t in d.times
        )
        return pd.DataFrame(rows, columns=["time", "drug", "amt", "per_bsa", "per_weight", "dur"])

    def check_amounts(self, bsa: float, weight: float = WEIGHT) -> None:
        """Refuse a per-m2 or per-kg dose whose amount for this patient (body surface area ``bsa`` [m2],
        weight [kg]) exceeds its drug's per-administration sanity limit (``models/drugs.tsv`` max_amt): a
        ValueError naming the dose, the scaled amount and the limit."""
        for i, dose in enumerate(self.doses):
            amount, limit = dose.amount(bsa, weight), dose.spec.max_amt
            if (dose.per_bsa or dose.per_weight) and amount > limit:
                scale = f"{bsa:g} m2" if dose.per_bsa else f"{weight:g} kg"
                canonical = units.CANONICAL[dose.spec.dimension]
                raise ValueError(f"doses[{i}].amt: {dose.amt:g} {canonical}{dose.per_unit} x {scale} = {amount:g} "
                                 f"{canonical} of {dose.drug} per administration; allowed: at most {limit:g} "
                                 f"{canonical} (a sanity limit, models/drugs.tsv max_amt)")

    def actions(self, bsa: float, weight: float = WEIGHT, values: Mapping[str, float] | None = None,
                model: Model | None = None) -> list[tuple[float, str, float]]:
        """Dose actions sorted by time: ``(time, target, increment)``. A bolus adds the
        amount to its species; an infusion adds amount/dur to its rate parameter at
        the start and removes it at the end. Zero amounts are no-ops and are skipped.
        Per-m2 amounts are scaled by ``bsa`` [m2], per-kg amounts by ``weight`` [kg]
        (default the table's ``BW``; :func:`thymosim.simulation.simulate` passes ``Patient.weight``).
        A steady-state record (``ss``) first adds its periodic steady-state amounts to the drug's PK
        states (:func:`steady_state`, with the parameter ``values`` of ``model``; default: the default
        model's defaults) at its first administration (a cycled record: day 1 of its first cycle),
        before any dose of that time."""
        self.check_amounts(bsa, weight)
        out = []
        for dose in self.doses:
            if dose.ss and dose.amt > 0:
                out += steady_state(dose, bsa, weight, values, model)
        for dose in self.doses:
            if dose.amt == 0:
                continue
            drug, amount = dose.spec, dose.model_amount(bsa, weight)
            for t in dose.times:
                if dose.dur > 0:
                    out += [(t, drug.rate, amount / dose.dur), (t + dose.dur, drug.rate, -amount / dose.dur)]
                else:
                    out.append((t, drug.target, amount))
        return sorted(out, key=lambda a: a[0])


def _given(dose: Dose, bsa: float | None, weight: float | None) -> tuple[float, bool, bool]:
    """(amount, per_bsa, per_weight) of one administration; absolute where the scale is given."""
    if dose.per_bsa and bsa is not None:
        return dose.amt * bsa, False, False
    if dose.per_weight and weight is not None:
        return dose.amt * weight, False, False
    return dose.amt, dose.per_bsa, dose.per_weight


def steady_state(dose: Dose, bsa: float, weight: float = WEIGHT, values: Mapping[str, float] | None = None,
                 model: Model | None = None) -> list[tuple[float, str, float]]:
    """Actions ``(time, state, amount)`` that put the drug's PK states at the periodic steady state of
    ``dose`` (every ``dose.ii`` days) just before its first administration (a cycled record: just before
    day 1 of its first cycle), in model amounts: :meth:`thymosim.pk_steady_state.PKSystem.periodic_state`
    of the drug's PK sub-system (:func:`thymosim.pk_steady_state.pk_system`) at the phase theta = ii (a
    cycled record: ii minus its offset from day 1). ``values``: the parameter values
    of the simulation (default: ``model``'s defaults); ``model``: default the default model (the dose's
    drug must belong to it)."""
    if model is None:
        model = default_model()
        if model.drugs.get(dose.drug) != dose.spec:
            raise ValueError(f"ss: {dose.drug} is not a drug of the default model; pass the model of its drug map")
    values = model.values() if values is None else values
    system = pk_system(model, dose.spec, values)
    offset = dose.in_cycle[0] if dose.in_cycle is not None else 0.0
    theta = dose.ii - offset
    if theta < dose.dur:
        raise ValueError(f"ss: {dose.drug} on cycle day {offset + 1:g} with dur {dose.dur:g} day: the infusion of the "
                         "previous cycle would still run on day 1; allowed: ss records whose infusion ends by then")
    state = system.periodic_state(dose.model_amount(bsa, weight), dose.ii, dose.dur, theta)
    begin = dose.time - offset
    return [(begin, sid, x) for sid, x in state.items() if x != 0]
