"""The model reference, generated from the model: one Markdown page per module of
``models/modules/*.ant`` (its leading comment, its reactions and rate laws and its rules as
equations from the SBML (MathML to LaTeX), its states with units and SBO terms from ``variables.tsv``, its
parameters with value, unit, bounds, evidence and source from ``parameters.tsv``), a page for the
wiring (``models/thymosim.ant``), and a network diagram drawn from the wiring: which module
defines each signal another module reads (the ``X.port is name`` lines) and where each drug of
``drugs.tsv`` enters.

The jobs live in their own modules: :mod:`~thymosim.sbml.mathml` (MathML to LaTeX),
:mod:`~thymosim.sbml.wiring` (the Antimony files parsed: modules, ports, signals, drug entries),
:mod:`~thymosim.sbml.pages` (the Markdown pages) and :mod:`~thymosim.sbml.network` (the diagram's
layout); this module writes them. ``python -m thymosim.sbml.reference DIR`` writes the pages and
``network.png`` into ``DIR`` (the docs build does it for ``docs/model``; a test fails when the committed
pages are stale).
"""

from __future__ import annotations

from pathlib import Path

from thymosim.sbml.network import draw_network
from thymosim.sbml.pages import HEADER, pages


def write(directory: Path, figure: bool = True) -> list[Path]:
    """Write the pages (and ``network.png``) into ``directory``; a page is rewritten only when its
    text changed. Pages of modules that no longer exist are removed. Returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    texts = pages()
    for old in directory.glob("*.md"):
        if old.name not in texts and old.read_text(encoding="utf-8").startswith(HEADER.split("{")[0]):
            old.unlink()
    for name, text in texts.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    if figure and draw_network(directory / "network.png"):
        written.append(directory / "network.png")
    return written


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m thymosim.sbml.reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="output folder (docs/model)")
    args = parser.parse_args(argv)
    for path in write(args.directory):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
