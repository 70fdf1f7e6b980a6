"""Dose regimens as data, with NONMEM/mrgsolve field names.

A :class:`Dose` is one dosing record: ``drug``, amount ``amt`` (number + ``unit``, or a
string such as ``"80 mg/m2"``), first ``time``, interval ``ii``, additional doses
``addl`` or an exclusive end time ``until``, and for infusions a ``rate`` (amount/day)
or duration ``dur``. Times are days (numbers) or strings (``"12 h"``, ``"2 week"``).
Records are normalised on construction, so equal spellings give equal objects.

Regimens combine concurrently (``a + b``) or one after another (``a.then(b)``),
shift in time (``a.shift(7)``) and print as a NONMEM-like event table
(:meth:`Regimen.to_frame`). The simulation driver applies each administration at
its exact time; nothing is compiled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import pandas as pd

from thymosim import units
from thymosim.model import Drug, default_model

MAX_ADDL = 100_000  # guards against an interval typo expanding into millions of doses


@dataclass(frozen=True)
class Dose:
    """One dosing record (see module docstring). Stored canonically: amounts in mg
    (MU, Gy, umol) or per m2, times in days, ``until`` folded into ``addl``, ``rate`` into ``dur``.

    ``drug`` is a name in the default model's drug map (``models/drugs.tsv``) or a
    :class:`~thymosim.model.Drug` of another model (``model.drugs["name"]``)."""

    drug: str | Drug
    amt: float | str
    unit: str | None = None
    time: float | str = 0.0
    ii: float | str = 0.0
    addl: int = 0
    until: float | str | None = None
    rate: float | str | None = None
    dur: float | str = 0.0
    route: str | None = None
    per_bsa: bool = field(default=False, compare=True)
    spec: Drug | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if isinstance(self.drug, Drug):
            drug = self.drug
        elif self.spec is not None and self.spec.name == self.drug:
            drug = self.spec
        elif self.drug in default_model().drugs:
            drug = default_model().drugs[self.drug]
        else:
            raise ValueError(f"drug: unknown drug {str(self.drug)[:50]!r}; allowed: {', '.join(default_model().drugs)} "
                             "(or a Drug of another model: model.drugs[name])")
        set_(self, "drug", drug.name)
        set_(self, "spec", drug)
        try:
            amt, per_bsa = units.amount(self.amt, self.unit, drug.dimension)
        except ValueError as err:
            key = "unit" if "amount; allowed" in str(err) else "amt"
            raise ValueError(f"{key}: {err}") from None
        per_bsa = per_bsa or self.per_bsa
        if not (amt >= 0 and math.isfinite(amt)):
            raise ValueError(f"amt: {self.amt!r} must be a finite amount >= 0")
        if amt > drug.max_amt:
            raise ValueError(f"amt: {str(self.amt)[:40]!r} is {amt:g} {units.CANONICAL[drug.dimension]}"
                             f"{'/m2' if per_bsa else ''} per administration; allowed: at most {drug.max_amt:g} "
                             f"{units.CANONICAL[drug.dimension]} for "
                             f"{drug.name} (a sanity limit, models/drugs.tsv max_amt)")
        time, ii, dur = _days("time", self.time), _days("ii", self.ii), _days("dur", self.dur)
        for name, value in (("time", time), ("ii", ii), ("dur", dur)):
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name}: {getattr(self, name)!r} must be a finite time >= 0 days")
        addl = self.addl
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
        if addl > 0 and dur > ii:
            raise ValueError(f"dur: {dur} days exceeds the dosing interval ii = {ii} days")
        route = self.route or drug.routes[0]
        if route not in drug.routes:
            raise ValueError(f"route: {route!r} not available for {self.drug}; allowed: {', '.join(drug.routes)}")
        for name, value in (("amt", amt), ("unit", units.CANONICAL[drug.dimension]), ("time", time),
                            ("ii", ii if addl else 0.0), ("addl", addl), ("until", None), ("rate", None),
                            ("dur", dur), ("route", route), ("per_bsa", per_bsa)):
            set_(self, name, value)

    @property
    def times(self) -> list[float]:
        """Times of every administration [day]."""
        return [self.time + k * self.ii for k in range(self.addl + 1)]

    def model_amount(self, bsa: float) -> float:
        """Amount per administration in the model's unit for this drug."""
        amount = self.amt * bsa if self.per_bsa else self.amt
        return amount * self.spec.model_per_canonical

    def shift(self, dt: float | str) -> Dose:
        return replace(self, time=self.time + units.days(dt))


def _days(name: str, value) -> float:
    try:
        return units.days(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name}: {value!r}: {err}") from None


def _rate_per_day(rate: float, unit: str | None, drug: Drug, original) -> float:
    """Infusion rate in canonical amount per day, from e.g. ``"80 mg/h"``."""
    if unit is None:
        return float(rate)
    if "/" not in unit:
        raise ValueError(f"rate: {original!r} needs a unit amount/time, e.g. '80 mg/h'")
    amount_unit, time_unit = unit.rsplit("/", 1)
    try:
        per, _ = units.amount(1.0, amount_unit, drug.dimension)
        return float(rate) * per / units.days(f"1 {time_unit}")
    except ValueError as err:
        raise ValueError(f"rate: {original!r}: {err}") from None


@dataclass(frozen=True)
class Regimen:
    """Doses given concurrently. Two regimens are equal when they give the same
    administrations (drug, time, amount, duration), however they are spelled."""

    doses: tuple[Dose, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "doses", tuple(self.doses))

    def __add__(self, other: Regimen | Dose) -> Regimen:
        """Concurrent combination."""
        extra = (other,) if isinstance(other, Dose) else other.doses
        return Regimen(self.doses + extra)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Regimen) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple:
        return tuple(self.administrations().itertuples(index=False, name=None))

    def shift(self, dt: float | str) -> Regimen:
        """The same regimen starting ``dt`` later."""
        return Regimen(tuple(d.shift(dt) for d in self.doses))

    def end(self) -> float:
        """When the regimen is over: the last administration plus its interval (or
        its infusion duration for a single administration) [day]."""
        return max((d.times[-1] + max(d.ii, d.dur) for d in self.doses), default=0.0)

    def then(self, other: Regimen | Dose, gap: float | str = 0.0) -> Regimen:
        """Sequential combination: ``other`` starts ``gap`` after this regimen ends."""
        other = Regimen((other,)) if isinstance(other, Dose) else other
        return self + other.shift(self.end() + units.days(gap))

    def last_time(self) -> float:
        """Time of the last administration or infusion end [day]."""
        return max((d.times[-1] + d.dur for d in self.doses), default=0.0)

    def to_frame(self) -> pd.DataFrame:
        """NONMEM-like event table: one row per record (EVID 1 = dose)."""
        rows = [
            {"TIME": d.time, "DRUG": d.drug, "CMT": d.spec.target or d.spec.rate, "AMT": d.amt,
             "UNIT": d.unit + ("/m2" if d.per_bsa else ""), "EVID": 1, "II": d.ii, "ADDL": d.addl,
             "RATE": d.amt / d.dur if d.dur else 0.0, "DUR": d.dur, "ROUTE": d.route}
            for d in self.doses
        ]
        columns = ["TIME", "DRUG", "CMT", "AMT", "UNIT", "EVID", "II", "ADDL", "RATE", "DUR", "ROUTE"]
        return pd.DataFrame(rows, columns=columns).sort_values(["TIME", "DRUG"], ignore_index=True)

    def administrations(self) -> pd.DataFrame:
        """One row per administration (``addl`` expanded), sorted; zero amounts dropped."""
        rows = sorted(
            (round(t, 9), d.drug, d.amt, d.per_bsa, round(d.dur, 9))
            for d in self.doses if d.amt > 0 for t in d.times
        )
        return pd.DataFrame(rows, columns=["time", "drug", "amt", "per_bsa", "dur"])

    def actions(self, bsa: float) -> list[tuple[float, str, float]]:
        """Dose actions sorted by time: ``(time, target, increment)``. A bolus adds the
        amount to its species; an infusion adds amount/dur to its rate parameter at
        the start and removes it at the end. Zero amounts are no-ops and are skipped."""
        out = []
        for dose in self.doses:
            if dose.amt == 0:
                continue
            drug, amount = dose.spec, dose.model_amount(bsa)
            for t in dose.times:
                if dose.dur > 0:
                    out += [(t, drug.rate, amount / dose.dur), (t + dose.dur, drug.rate, -amount / dose.dur)]
                else:
                    out.append((t, drug.target, amount))
        return sorted(out, key=lambda a: a[0])
