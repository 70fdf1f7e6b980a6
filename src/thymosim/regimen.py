"""Dose regimens as data (NONMEM/mrgsolve field names), expanded to dose actions.

A :class:`Dose` is one dosing record: ``time`` of the first dose [day], amount
``amt`` in ``unit`` (mg, ug or mg/m2), ``ii`` interval [day], ``addl`` number of
additional doses, and ``dur`` infusion duration [day] (0 = bolus). The driver
applies each dose at its exact time by splitting the integration there, so no
SBML event and no recompilation is involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# drug -> (bolus target species, infusion-rate parameter, model amount unit)
DRUGS: dict[str, tuple[str, str | None, str]] = {
    "thymalfasin": ("PK_depot", None, "ug"),
    "cisplatin": ("CHEMO_cis", "CHEMO_cis_rate", "mg"),
    "vinorelbine": ("CHEMO_vnr", "CHEMO_vnr_rate", "mg"),
    "ifosfamide": ("CHEMO_ifo", "CHEMO_ifo_rate", "mg"),
}
_TO_MG = {"mg": 1.0, "ug": 1e-3, "g": 1e3}
UNITS = ("mg", "ug", "g", "mg/m2")


@dataclass(frozen=True)
class Dose:
    """One dosing record. Times in days; ``amt`` in ``unit``."""

    drug: str
    amt: float
    unit: str = "mg"
    time: float = 0.0
    ii: float = 0.0
    addl: int = 0
    dur: float = 0.0

    def __post_init__(self) -> None:
        if self.drug not in DRUGS:
            raise ValueError(f"Dose.drug: unknown drug {self.drug!r}; allowed: {sorted(DRUGS)}")
        if self.unit not in UNITS:
            raise ValueError(f"Dose.unit: {self.unit!r} is not an amount; allowed: {list(UNITS)}")
        for name in ("amt", "time", "dur"):
            if not (getattr(self, name) >= 0):
                raise ValueError(f"Dose.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.addl < 0 or int(self.addl) != self.addl:
            raise ValueError(f"Dose.addl must be a non-negative integer, got {self.addl!r}")
        if self.addl > 0 and not self.ii > 0:
            raise ValueError(f"Dose.ii must be > 0 when addl > 0, got {self.ii!r}")
        if self.dur > 0 and DRUGS[self.drug][1] is None:
            raise ValueError(f"Dose.dur: {self.drug} is given as a bolus only (dur must be 0)")
        if self.addl > 0 and self.dur > self.ii:
            raise ValueError(f"Dose.dur ({self.dur}) must not exceed Dose.ii ({self.ii})")

    @property
    def times(self) -> list[float]:
        """Times of every administration [day]."""
        return [self.time + k * self.ii for k in range(int(self.addl) + 1)]

    def amount_in_model_units(self, bsa: float) -> float:
        """Amount per administration in the model's unit for this drug (ug or mg)."""
        if self.unit == "mg/m2":
            mg = self.amt * bsa
        else:
            mg = self.amt * _TO_MG[self.unit]
        return mg * 1e3 if DRUGS[self.drug][2] == "ug" else mg


@dataclass(frozen=True)
class Regimen:
    """A set of doses given concurrently."""

    doses: tuple[Dose, ...] = field(default_factory=tuple)

    def __add__(self, other: Regimen | Dose) -> Regimen:
        extra = (other,) if isinstance(other, Dose) else other.doses
        return Regimen(self.doses + extra)

    def actions(self, bsa: float) -> list[tuple[float, str, str, float]]:
        """Dose actions sorted by time: ``(time, kind, target, value)``.

        ``kind`` is ``"add"`` (bolus: add ``value`` to species ``target``) or
        ``"rate"`` (infusion: add ``value`` [amount/day] to rate parameter
        ``target``; a matching negative action ends it).
        """
        out = []
        for dose in self.doses:
            if dose.amt == 0:  # a zero amount is a no-op: it does not even split the integration
                continue
            species, rate_param, _ = DRUGS[dose.drug]
            amount = dose.amount_in_model_units(bsa)
            for t in dose.times:
                if dose.dur > 0:
                    out.append((t, "rate", rate_param, amount / dose.dur))
                    out.append((t + dose.dur, "rate", rate_param, -amount / dose.dur))
                else:
                    out.append((t, "add", species, amount))
        return sorted(out, key=lambda a: a[0])

    def last_time(self) -> float:
        """Time of the last administration (end of infusion) [day]."""
        return max((max(d.times) + d.dur for d in self.doses), default=0.0)
