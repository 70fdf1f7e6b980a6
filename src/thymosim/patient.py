"""A patient is a set of model parameter values: baseline counts plus overrides."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Patient:
    """Baseline blood counts [cells/uL], tumour diameter [mm], body surface area [m2].

    The default is the seed's advanced-cancer baseline (CD3 422.5, CD4 244.5,
    CD8 159.0 cells/uL). ``parameters`` overrides any other model parameter by id.
    The untreated model starts at its steady state for these values.
    """

    cd3: float = 422.5
    cd4: float = 244.5
    cd8: float = 159.0
    nk: float = 200.0
    anc: float = 5220.0
    tumour_diameter: float = 37.0
    bsa: float = 1.8
    parameters: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("cd3", "cd4", "cd8", "nk", "anc", "tumour_diameter", "bsa"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"Patient.{name} must be > 0, got {value!r}")
        if self.cd3 < self.cd4 + self.cd8:
            raise ValueError(
                f"Patient.cd3 ({self.cd3}) must be >= cd4 + cd8 ({self.cd4 + self.cd8})"
            )

    def parameter_values(self) -> dict[str, float]:
        """Model parameter values for this patient (baseline inputs first, then overrides)."""
        values = {
            "CD3_0": self.cd3,
            "CD4_0": self.cd4,
            "CD8_0": self.cd8,
            "NK_0": self.nk,
            "ANC_0": self.anc,
            "D0": self.tumour_diameter,
        }
        values.update(self.parameters)
        return values


HEALTHY = Patient(cd3=1609, cd4=837, cd8=660, nk=472, parameters={})
"""Healthy adult at the homeostatic set point (PMC321350, Table 3, male means)."""
