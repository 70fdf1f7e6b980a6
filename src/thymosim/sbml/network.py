"""The network diagram of the model reference (``network.png``): modules as boxes, the signals
between them as arrows, where each drug enters; laid out so that no arrow crosses a module and no
label covers a module or another label."""

from __future__ import annotations

from pathlib import Path

from thymosim.sbml.pages import COMMAND
from thymosim.sbml.wiring import context, drug_entries, drug_table, states, wiring

POSITIONS = {  # module -> (x, y) of its box centre; a module not listed is placed on the bottom row
    "ta1_pk": (0.02, 0.90), "dc_signalling": (0.40, 0.90), "cytokines": (0.80, 0.90),
    "immunotherapy": (0.02, 0.60), "tcells": (0.40, 0.60), "macrophages": (0.80, 0.60),
    "chemotherapy": (0.10, 0.30), "radiotherapy": (0.85, 0.30),
    "gcsf": (-0.05, 0.02), "tumour": (0.50, 0.02),
}
BOX = (0.19, 0.085)  # box width and height, axes data units


def _bezier(p0, p2, rad, transform):
    """Points of matplotlib's arc3 connection from p0 to p2 (data coordinates): the control point
    is offset perpendicular to the chord by rad x its length in display coordinates."""
    import numpy as np

    (x0, y0), (x2, y2) = transform.transform(p0), transform.transform(p2)
    c = ((x0 + x2) / 2 + rad * (y2 - y0), (y0 + y2) / 2 - rad * (x2 - x0))
    t = np.linspace(0, 1, 41)[:, None]
    points = (1 - t) ** 2 * np.array([x0, y0]) + 2 * t * (1 - t) * np.array(c) + t ** 2 * np.array([x2, y2])
    return transform.inverted().transform(points)


def _inside(points, box, margin=0.012) -> bool:
    (x, y), (w, h) = box, BOX
    return bool(((abs(points[:, 0] - x) < w / 2 + margin) & (abs(points[:, 1] - y) < h / 2 + margin)).any())


def _overlaps(a, b) -> bool:
    return not (a.x1 < b.x0 or b.x1 < a.x0 or a.y1 < b.y0 or b.y1 < a.y0)


def draw_network(path: Path) -> bool:
    """Draw the wiring (modules, the signals between them, where drugs enter) into ``path`` (rewritten
    only when the image changed; returns whether it was). Each
    arrow takes the least curvature that passes no other module; each label the point nearest its
    arrow's middle that covers no module and no other label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    ctx = context()
    edges = [e for e in wiring(ctx.found, ctx.flat) if e.source != "patient"]
    entries = drug_entries(ctx.flat, ctx.found, drug_table())
    nodes = [(m, i) for m in ctx.found for i in m.instances]
    spare = iter([(0.80 - 0.25 * k, -0.25) for k in range(40)])
    where = {i: POSITIONS.get(m.name) or next(spare) for m, i in nodes}
    low = min(y for _, y in where.values())
    fig, ax = plt.subplots(figsize=(14, 10 + 3 * (low < 0)))
    ax.set_xlim(-0.2, 1.0)
    ax.set_ylim(min(low, 0) - 0.07, 1.05)
    ax.axis("off")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # the Agg canvas has one
    patches, taken = {}, []
    for k, (m, instance) in enumerate(nodes):
        x, y = where[instance]
        n_reactions = sum(r.getId() in {m.flat(instance, s) for s in m.defined} for r in ctx.flat.getListOfReactions())
        colour = f"C{k % 10}"
        patches[instance] = FancyBboxPatch((x - BOX[0] / 2, y - BOX[1] / 2), *BOX, boxstyle="round,pad=0.005",
                                           fc=colour, alpha=0.22, ec=colour, lw=2)
        ax.add_patch(patches[instance])
        ax.text(x, y, f"{m.name} ({instance})\n{len(states(m, instance, ctx.flat))} states, {n_reactions} reactions",
                ha="center", va="center", fontsize=9.5)
        taken.append(patches[instance].get_window_extent(renderer))
    pair = {(e.source, e.target) for e in edges}
    for e in edges:
        a, b = where[e.source], where[e.target]
        others = [where[i] for i in where if i not in (e.source, e.target)]
        candidates = [0.12, 0.25, -0.12, -0.25, 0.4, -0.4] if (e.target, e.source) in pair else \
            [0.0, 0.1, -0.1, 0.2, -0.2, 0.3, -0.3, 0.45, -0.45]
        rad = next((r for r in candidates if not any(_inside(_bezier(a, b, r, ax.transData), o) for o in others)),
                   candidates[0])
        ax.annotate("", xy=b, xytext=a,
                    arrowprops=dict(arrowstyle="-|>", color="0.3", lw=1.2, patchA=patches[e.source],
                                    patchB=patches[e.target], shrinkA=2, shrinkB=2,
                                    connectionstyle=f"arc3,rad={rad}"))
        curve = _bezier(a, b, rad, ax.transData)
        label = ax.text(0, 0, _wrap(e.signals), fontsize=7, ha="center", va="center", color="0.15",
                        bbox=dict(fc="white", ec="0.75", alpha=0.95, pad=1.0, boxstyle="round"))
        def clash(index: int, label=label, curve=curve) -> int:
            label.set_position(curve[index])
            extent = label.get_window_extent(renderer).padded(7)
            return sum(_overlaps(extent, t) for t in taken)

        clash(min((20, 24, 16, 28, 12, 32, 8, 35, 5), key=clash))  # the first of the least clashing
        taken.append(label.get_window_extent(renderer).padded(7))
    for instance, drugs in entries.items():
        x, y = where[instance]
        ax.annotate("\n".join(drugs), xy=(x - BOX[0] / 2 + 0.02, y + BOX[1] / 2 + 0.008),
                    xytext=(x - BOX[0] / 2 - 0.03, y + BOX[1] / 2 + 0.05), fontsize=7.5, color="firebrick",
                    ha="center", va="bottom", arrowprops=dict(arrowstyle="-|>", color="firebrick", lw=1.6))
    patient = sorted({e.target for e in wiring(ctx.found, ctx.flat) if e.source == "patient"})
    ax.text(-0.2, min(low, 0) - 0.06, "Patient inputs and set points (models/thymosim.ant) are read by "
            + ", ".join(patient) + "; doses enter where the red arrows point (models/drugs.tsv).",
            fontsize=8, color="0.3")
    ax.text(1.0, min(low, 0) - 0.1, f"generated by {COMMAND}", ha="right", fontsize=6.5, color="0.5")
    ax.set_title("thymosim: modules (models/modules/*.ant) and the signals wiring them (models/thymosim.ant)",
                 fontsize=11)
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    if path.exists() and path.read_bytes() == buffer.getvalue():
        return False
    path.write_bytes(buffer.getvalue())
    return True


def _wrap(signals: tuple[str, ...], width: int = 28) -> str:
    lines, line = [], ""
    for s in signals:
        piece = s if not line else f"{line}, {s}"
        if len(piece) > width and line:
            lines.append(line + ",")
            line = s
        else:
            line = piece
    return "\n".join([*lines, line])
