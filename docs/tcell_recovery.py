"""Naive and memory CD4 T cells after dose-intense chemotherapy, for a 30- and a 70-year-old typical patient,
against Hakim et al. (Blood 1997;90:3789; models/data/calibration_targets.toml section hakim_1997).

Run: python docs/tcell_recovery.py  (writes docs/tcell_recovery.png; seconds)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from thymosim import Patient  # noqa: E402
from thymosim.scenario import named  # noqa: E402
from thymosim.tables import calibration_targets  # noqa: E402

OUT = Path(__file__).parent / "tcell_recovery.png"
MONTH = 365.25 / 12


def main() -> Path:
    targets = calibration_targets()["hakim_1997"]
    end = float(targets["end_of_chemotherapy_day"])
    scenario = named(targets["scenario"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, column, label in ((axes[0], "CD4_naive", "naive (CD45RA+) CD4"),
                              (axes[1], "CD4_memory", "memory (CD45RO+) CD4")):
        for age, style in ((30.0, "-"), (70.0, "--")):
            course = replace(scenario, patient=Patient(age=age)).simulate()
            pct = 100.0 * course[column] / course[column].iloc[0]
            ax.plot((course.time - end) / MONTH, pct, style, color="C0" if age == 30 else "C3", label=f"age {age:g}")
        ax.axhline(100, color="grey", lw=0.6)
        ax.axvline(0, color="grey", lw=0.6, ls=":")
        ax.set_title(label)
        ax.set_xlabel("months after the end of chemotherapy")
        ax.set_xlim(-end / MONTH, 24)
    # Hakim's statements (thresholds, medians not published in the abstract)
    axes[0].errorbar([0], [100 + targets["naive_change_max"]], yerr=[[8], [0]], lolims=False, uplims=True, fmt="kv",
                     label=f"Hakim 1997: < {100 + targets['naive_change_max']:g} % at the end")
    axes[0].errorbar([24], [100 + targets["naive_24mo_change_max"]], yerr=[[8], [0]], uplims=True, fmt="ks",
                     label=f"Hakim 1997: limited (< {100 + targets['naive_24mo_change_max']:g} %, assumed), 24 months")
    lo, hi = targets["memory_peak_months"]
    axes[1].axvspan(lo, hi, color="C2", alpha=0.15, label="Hakim 1997: memory peak at 3-6 months")
    axes[1].errorbar([13], [100 + targets["cd4_13mo_change_max"]], yerr=[[8], [0]], uplims=True, fmt="kD",
                     label=f"Hakim 1997: total CD4 < {100 + targets['cd4_13mo_change_max']:g} % at 12-14 months")
    axes[0].set_ylabel("% of the patient's baseline")
    for ax in axes:
        ax.legend(fontsize=8, loc="lower right")
        ax.set_ylim(0, 110)
    fig.suptitle("Dose-intense chemotherapy (hakim_dose_intense, ifosfamide stand-in, 4 cycles): typical patient",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    return OUT


if __name__ == "__main__":
    print(main())
