"""The import rule of the package (stated in thymosim/__init__.py): core modules import only
core; sbml/ and analysis/ import core and themselves, never each other; plots/ imports core and
analysis/; only the CLI may import everything. Checked on the source, imports inside functions
included."""

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


def imports(path: Path) -> set[str]:
    """thymosim modules imported anywhere in a file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
    own = layer(name)
    bad = [m for m in imports(path) if layer(m) not in ALLOWED[own]]
    assert not bad, f"{name} ({own}) imports {bad}; allowed layers: {sorted(ALLOWED[own])}"


def test_the_public_api_is_core_only():
    assert {layer(m) for m in imports(PACKAGE / "__init__.py")} == {"core"}


def test_the_rule_catches_a_violation(tmp_path):
    """The check can fail: an sbml module importing analysis is reported."""
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from thymosim.analysis.calibration import PK_TARGETS\n")
    assert {layer(m) for m in imports(bad)} == {"analysis"} and "analysis" not in ALLOWED["sbml"]
