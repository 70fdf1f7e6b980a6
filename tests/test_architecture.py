"""The import rule of the package (stated in thymosim/__init__.py): core modules import only
core modules before them in CORE_ORDER; sbml/ and analysis/ import core and themselves, never
each other; plots/ imports core and analysis/; workflows/ imports core, sbml/, analysis/ and plots/;
only the CLI may import everything (and nothing imports the CLI). Checked on
the source, imports inside functions included; relative imports are not used."""

import ast
import re
from pathlib import Path

import pytest

import thymosim

PACKAGE = Path(thymosim.__file__).parent
ALLOWED = {
    "core": {"core"},
    "sbml": {"core", "sbml"},
    "analysis": {"core", "analysis"},
    "plots": {"core", "analysis", "plots"},
    "workflows": {"core", "sbml", "analysis", "plots", "workflows"},
    "cli": {"core", "sbml", "analysis", "plots", "workflows", "cli"},
}


def layer(module: str) -> str:
    """Layer of a thymosim module name (``thymosim.sbml.build`` -> ``sbml``)."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] in ("sbml", "analysis", "plots", "workflows")):
        return parts[1]
    return "cli" if parts[-1] == "cli" else "core"


CORE_ORDER = ["units", "recist", "runner_cache", "model", "tables", "pk_steady_state", "patient", "regimen",
              "simulation", "rules", "scenario"]
LAZY = {("model", "tables"), ("simulation", "scenario")}
"""The documented exceptions: model.default_model() reads the tables (models/*.tsv) when first called;
simulation.simulate("name") resolves a named scenario when given one."""


def imports(path: Path) -> set[str]:
    """thymosim modules imported anywhere in a file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path.name}: relative import; write thymosim.<module>")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("thymosim"):
            found |= {f"{node.module}.{a.name}" if node.module == "thymosim" else node.module for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("thymosim")}
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers_import_only_what_the_rule_allows(path):
    name = ".".join(("thymosim", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
    if name == "thymosim":
        return  # the package's public API re-exports core names only (checked below)
    assert not violations(name, imports(path))


def violations(name: str, imported: set[str]) -> list[str]:
    """Imports of module ``name`` that the rule forbids."""
    own = layer(name)
    bad = [m for m in imported if layer(m) not in ALLOWED[own]]
    if own == "core":
        mine = CORE_ORDER.index(name.split(".")[1])
        for m in imported:
            other = m.split(".")[1] if layer(m) == "core" and m.count(".") == 1 else None
            if other in CORE_ORDER and CORE_ORDER.index(other) >= mine and (CORE_ORDER[mine], other) not in LAZY:
                bad.append(m)
    return bad


def test_the_public_api_is_core_only():
    assert {layer(m) for m in imports(PACKAGE / "__init__.py")} == {"core"}


def test_the_rule_catches_violations(tmp_path):
    """The check can fail: sbml importing analysis (inside a function), core importing a later
    core module or sbml, and a relative import are reported."""
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from thymosim.analysis.calibration import PK_TARGETS\n", encoding="utf-8")
    assert violations("thymosim.sbml.export", imports(bad)) == ["thymosim.analysis.calibration"]
    assert violations("thymosim.plots.trial", {"thymosim.workflows.trials"}) == ["thymosim.workflows.trials"]
    assert violations("thymosim.workflows.trials", {"thymosim.cli"}) == ["thymosim.cli"]
    assert not violations("thymosim.workflows.trials", {"thymosim.plots.trial", "thymosim.sbml.export"})
    imported = {"thymosim.scenario", "thymosim.sbml.build", "thymosim.units"}
    assert set(violations("thymosim.regimen", imported)) == {"thymosim.sbml.build", "thymosim.scenario"}
    bad.write_text("from .model import Model\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="relative import"):
        imports(bad)


RECIST_CONTEXT = re.compile(r"recist|tumou?r_diameter|best_change|\bORR\b|\bDCR\b", re.IGNORECASE)
RECIST_NUMBERS = {0.3, 30.0, 0.7, 70.0, 1.2, 0.2, 20.0, 120.0, 0.999, 99.9, 5.0, 28.0}
"""RECIST 1.1 thresholds as they get retyped: -30 % / 0.3 / 0.7 (PR), +20 % / 1.2 / 0.2 and 5 mm (PD),
-99.9 % / 0.999 (CR), 28 days (confirmation)."""


def _numbers(node: ast.AST) -> list[tuple[int, float]]:
    """RECIST-threshold literals of an expression (through arithmetic and signs, not into calls)."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float) and abs(node.value) in RECIST_NUMBERS:
        return [(node.lineno, abs(float(node.value)))]
    if isinstance(node, ast.UnaryOp):
        return _numbers(node.operand)
    if isinstance(node, ast.BinOp):
        return _numbers(node.left) + _numbers(node.right)
    return []


def recist_literals(source: str) -> list[tuple[int, float]]:
    """(line, number) of every RECIST-threshold literal used as a threshold (compared with, or listed beside
    another such number: ``for y in (20, -30)``) inside a top-level definition or statement whose text speaks
    of RECIST, tumour diameters or response rates."""
    tree = ast.parse(source)
    found = []
    for node in tree.body:
        if not RECIST_CONTEXT.search(ast.get_source_segment(source, node) or ""):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Compare):
                found += [hit for side in (sub.left, *sub.comparators) for hit in _numbers(side)]
            elif isinstance(sub, (ast.Tuple, ast.List, ast.Set)):
                listed = [hit for elt in sub.elts for hit in _numbers(elt)]
                found += listed if len(listed) >= 2 else []
    return sorted(found)


def test_recist_thresholds_live_only_in_recist_py():
    """One RECIST: thymosim.recist holds its thresholds (``RULES``); no other module retypes them."""
    others = [p for p in SOURCES if p.relative_to(PACKAGE) != Path("recist.py")]
    offenders = {str(p.relative_to(PACKAGE)): hits for p in others
                 for hits in (recist_literals(p.read_text(encoding="utf-8")),) if hits}
    assert not offenders, f"RECIST thresholds outside recist.py (use recist.RULES): {offenders}"


def test_the_recist_grep_catches_a_second_classifier():
    second = ('def recist(df):\n    d = df["tumour_diameter"]\n    best = d.min() / d[0] - 1.0\n'
              '    if best <= -0.999:\n        return 0.0\n    return 1.0 if best <= -0.30 else 2.0\n')
    assert {n for _, n in recist_literals(second)} == {0.999, 0.3}
    assert recist_literals("for y in (20, -30):\n    ax.axhline(y, label=\"RECIST\")\n") == [(1, 20.0), (1, 30.0)]
    assert recist_literals("ok = hd.tumour_best_change > -30.0\n") == [(1, 30.0)]
    assert not recist_literals("def width(x):\n    return x > 0.3\n")  # not a RECIST context
    assert not recist_literals("def waterfall(recist):\n    plot(recist, lw=0.3, alpha=0.7)\n")  # styling
