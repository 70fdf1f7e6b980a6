"""Named regimens. Amounts and schedules cite their source; times in days."""

from __future__ import annotations

from thymosim.regimen import Dose, Regimen

INFUSION_CISPLATIN = 1 / 24  # 1 h [day]
INFUSION_VINORELBINE = 10 / 1440  # 10 min [day]


def cisplatin_vinorelbine(cycles: int = 4) -> Regimen:
    """Cisplatin 80 mg/m2 day 1 + vinorelbine 30 mg/m2 days 1, 8, 15, every 21 days
    (vinorelbine-cisplatin arm, Annals of Oncology 2002; biology.md 7c)."""
    cisplatin = Dose("cisplatin", 80, "mg/m2", time=0, ii=21, addl=cycles - 1, dur=INFUSION_CISPLATIN)
    vinorelbine = tuple(
        Dose("vinorelbine", 30, "mg/m2", time=day, ii=21, addl=cycles - 1, dur=INFUSION_VINORELBINE)
        for day in (0, 7, 14)
    )
    return Regimen((cisplatin, *vinorelbine))


def ifosfamide(cycles: int = 2) -> Regimen:
    """Ifosfamide 2 g/m2/day on days 1-3 (1 h infusions), every 21 days.

    Salvati 1996 (PMID 8687090) used ifosfamide; its dose is not in the abstract,
    so this common NSCLC schedule is an assumption.
    """
    return Regimen(tuple(
        Dose("ifosfamide", 2000, "mg/m2", time=day, ii=21, addl=cycles - 1, dur=1 / 24)
        for day in (0, 1, 2)
    ))


def thymalfasin_biw(start: float = 0.0, until: float = 180.0, amt_mg: float = 1.6) -> Regimen:
    """Thymalfasin 1.6 mg SC twice weekly (every 3.5 days) from ``start`` to before ``until`` [day]."""
    n = int((until - start) / 3.5 - 1e-9) + 1
    return Regimen((Dose("thymalfasin", amt_mg, "mg", time=start, ii=3.5, addl=max(n - 1, 0)),))


def default_arms(horizon: float = 180.0) -> dict[str, Regimen]:
    """The main job: four 21-day cycles of cisplatin + vinorelbine, with and without
    thymalfasin 1.6 mg SC twice weekly over the whole horizon."""
    chemo = cisplatin_vinorelbine(cycles=4)
    return {"chemo": chemo, "chemo + Ta1": chemo + thymalfasin_biw(0.0, horizon)}
