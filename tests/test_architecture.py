"""The import rule of the package (stated in thymosim/__init__.py): core modules import only
core modules before them in CORE_ORDER; sbml/ and analysis/ import core and themselves, never
each other; plots/ imports core and analysis/; only the CLI may import everything. Checked on
the source, imports inside functions included; relative imports are not used."""

import ast
from pathlib import Path

import pytest

import thymosim

PACKAGE = Path(thymosim.__file__).parent
ALLOWED = {
    "core": {"core"},
    "sbml": {"core", "sbml"},
    "analysis": {"core", "analysis"},
    "plots": {"core", "analysis", "plots"},
    "cli": {"core", "sbml", "analysis", "plots", "cli"},
}


def layer(module: str) -> str:
    """Layer of a thymosim module name (``thymosim.sbml.build`` -> ``sbml``)."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] in ("sbml", "analysis", "plots")):
        return parts[1]
    return "cli" if parts[-1] == "cli" else "core"


CORE_ORDER = ["units", "runner_cache", "model", "tables", "patient", "regimen", "simulation", "scenario"]
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
    imported = {"thymosim.scenario", "thymosim.sbml.build", "thymosim.units"}
    assert set(violations("thymosim.regimen", imported)) == {"thymosim.sbml.build", "thymosim.scenario"}
    bad.write_text("from .model import Model\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="relative import"):
        imports(bad)
