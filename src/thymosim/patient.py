"""A patient is a set of model parameter values: covariates (baseline counts, tumour size, body
surface area, body weight, age) plus overrides. Defaults are the parameter table's values."""

from __future__ import annotations

from dataclasses import dataclass, field

from thymosim.tables import covariate_limits, parameter_value


@dataclass(frozen=True)
class Patient:
    """Baseline blood counts [cells/uL], tumour diameter [mm], body surface area [m2], body weight [kg],
    age [year].

    Defaults are the table's (``models/parameters.tsv``, role ``covariate``): the seed's
    advanced-cancer baseline, CD3 422.5, CD4 244.5, CD8 159.0 cells/uL. ``parameters``
    overrides any other model parameter by id. ``bsa`` scales per-m2 doses and ``weight`` per-kg
    doses (in the driver; neither is in the ODEs). ``age`` sets the thymic share of naive T-cell
    production (it falls with age; default 63 years, the median age of a first-line NSCLC trial's
    chemotherapy arm). The untreated model starts at its steady state for these values. Fields map
    to parameters through ``models/covariates.tsv``.
    """

    cd3: float = parameter_value("CD3_0")
    cd4: float = parameter_value("CD4_0")
    cd8: float = parameter_value("CD8_0")
    nk: float = parameter_value("NK_0")
    anc: float = parameter_value("ANC_0")
    tumour_diameter: float = parameter_value("D_0")
    bsa: float = parameter_value("BSA")
    weight: float = parameter_value("BW")
    age: float = parameter_value("AGE")
    parameters: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        limits = covariate_limits()
        for name in ("cd3", "cd4", "cd8", "nk", "anc", "tumour_diameter", "bsa", "weight", "age"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"Patient.{name} must be > 0, got {value!r}")
            limit, unit = limits[name]
            if value > limit:
                raise ValueError(f"Patient.{name} = {value:g} {unit}; allowed: > 0 and at most {limit:g} {unit} (a "
                                 "sanity limit, models/covariates.tsv max)")
        if self.cd3 < self.cd4 + self.cd8:
            raise ValueError(
                f"Patient.cd3 ({self.cd3}) must be >= cd4 + cd8 ({self.cd4 + self.cd8})"
            )


HEALTHY = Patient(cd3=parameter_value("CD3_set"), cd4=parameter_value("CD4_set"),
                  cd8=parameter_value("CD8_set"), nk=parameter_value("NK_set"))
"""Healthy adult at the homeostatic set points of the table (PMC321350, Table 3)."""
