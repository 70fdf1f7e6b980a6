"""Draw docs/network.png: the modules and the signals that wire them (python docs/network_diagram.py)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

BOXES = {  # name: (x, y, module colour, text)
    "pk": (0.08, 0.80, "C0", "Ta1 PK\nSC depot -> plasma\n(ng/mL)"),
    "dc": (0.38, 0.80, "C1", "DC signalling\nTLR9/TLR2 -> MyD88\n-> NF-kB / IRF7\nDC maturation, MHC-I"),
    "ck": (0.68, 0.80, "C2", "Cytokines (pM)\nIL-2, IFN-g, IL-12\nIL-7, IL-10"),
    "tc": (0.38, 0.45, "C3", "T cells & NK (cells/uL)\nthymus -> naive -> effector\n-> memory (CD4, CD8); NK"),
    "mac": (0.83, 0.45, "C4", "Macrophages\nM2 <-> M1"),
    "chemo": (0.08, 0.13, "C5", "Chemotherapy\ncisplatin, vinorelbine,\nifosfamide PK; Friberg\nneutrophils"),
    "tum": (0.68, 0.13, "C6", "Tumour\ngrowth, immune and\nchemo kill; diameter"),
}
EDGES = [  # (from, to, signals, arc curvature)
    ("pk", "dc", "C_TA1", 0), ("dc", "ck", "mature DC,\nIRF7", 0), ("dc", "tc", "NF-kB, IRF7,\nmature DC", 0),
    ("ck", "tc", "IL-2, IL-7", 0.25), ("tc", "ck", "effectors, CD4,\nT total, NK", 0.25),
    ("ck", "mac", "IL-12, IFN-g, IL-10", 0), ("dc", "mac", "NF-kB (MyD88)", -0.12),
    ("chemo", "tc", "kill, marrow", 0), ("chemo", "tum", "kill", 0),
    ("tc", "tum", "CD8 effectors, NK", 0), ("mac", "tum", "M1", 0), ("dc", "tum", "MHC-I", -0.25),
]


def draw(path: Path) -> None:
    fig, ax = plt.subplots(figsize=(12, 7.5))
    ax.set_xlim(-0.08, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.axis("off")
    patches = {}
    for name, (x, y, colour, text) in BOXES.items():
        patches[name] = FancyBboxPatch((x - 0.11, y - 0.08), 0.22, 0.16, boxstyle="round,pad=0.01",
                                       fc=colour, alpha=0.18, ec=colour, lw=2)
        ax.add_patch(patches[name])
        ax.text(x, y, text, ha="center", va="center", fontsize=9)
    for a, b, label, rad in EDGES:
        (xa, ya), (xb, yb) = BOXES[a][:2], BOXES[b][:2]
        ax.annotate("", xy=(xb, yb), xytext=(xa, ya),
                    arrowprops=dict(arrowstyle="-|>", color="0.35", patchA=patches[a], patchB=patches[b],
                                    shrinkA=2, shrinkB=2, lw=1.3, connectionstyle=f"arc3,rad={rad}"))
        # label at the arc's midpoint: offset perpendicular to the chord by rad * chord / 2
        mx, my = (xa + xb) / 2 + rad * (yb - ya) / 2, (ya + yb) / 2 - rad * (xb - xa) / 2 + (0.05 if ya == yb else 0)
        ax.text(mx, my, label, fontsize=7.5, ha="center", va="center", color="0.2",
                bbox=dict(fc="white", ec="none", alpha=0.85, pad=0.5))
    ax.text(-0.07, 0.97, "Doses (driver): thymalfasin -> SC depot; cytotoxics -> infusion rates", fontsize=9)
    ax.set_title("thymosim: modules (models/modules/*.ant) and the signals wiring them (models/thymosim.ant)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    draw(Path(__file__).with_name("network.png"))
