"""MkDocs hooks (mkdocs.yml ``hooks``): regenerate the generated pages before each build, list one
page per model module in the nav, write the API pages (every module of the package, by layer),
and bring the notebooks (notebooks/*.ipynb), CHANGELOG.md and MathJax (from the Python package
django-static-mathjax, so that the site shows its equations offline) into the site from outside docs/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent


def _generate():
    spec = importlib.util.spec_from_file_location("thymosim_docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CORE_ORDER = ["units", "model", "tables", "pk_steady_state", "patient", "regimen", "simulation", "rules", "scenario"]
"""The core modules in the order they import each other (thymosim/__init__.py)."""
API = {  # page -> (title, the package's modules it documents)
    "api/core.md": ("Core API", "core"),
    "api/sbml.md": ("SBML and export", "sbml"),
    "api/analysis.md": ("Analysis", "analysis"),
    "api/plots.md": ("Figures", "plots"),
    "api/workflows.md": ("Workflows", "workflows"),
}


def api_modules(layer: str) -> list[str]:
    """The dotted names of the package's modules in one layer (core in import order; the command line is
    documented by its help, cli.md)."""
    package = ROOT / "src" / "thymosim"
    if layer == "core":
        found = sorted(p.stem for p in package.glob("*.py") if p.stem not in ("__init__", "cli"))
        return [f"thymosim.{m}" for m in sorted(found, key=lambda m: (CORE_ORDER + [m]).index(m))]
    return [f"thymosim.{layer}.{p.stem}" for p in sorted((package / layer).glob("*.py")) if p.stem != "__init__"]


def api_page(title: str, layer: str) -> str:
    lines = [f"# {title}", "", "Generated from the docstrings."]
    if layer == "core":
        lines += ["", "The public names are importable from `thymosim` directly "
                  "(`from thymosim import Dose, Patient, Regimen, simulate`).", "", "::: thymosim",
                  "    options:", "      members: false"]
    for name in api_modules(layer):
        lines += ["", f"::: {name}"]
    return "\n".join(lines) + "\n"


def on_config(config):
    from thymosim.sbml.wiring import modules

    pages = ["model/index.md", *(f"model/{m.name}.md" for m in modules())]
    for i, entry in enumerate(config.nav or []):
        if isinstance(entry, dict) and entry.get("Model reference") == "model/index.md":
            config.nav[i] = {"Model reference": [{"Wiring and network": pages[0]}, *pages[1:]]}
    return config


def on_pre_build(config):
    _generate().write()


@event_priority(100)  # before mkdocs-jupyter sees the files
def on_files(files: Files, config) -> Files:
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):  # a real file under the repository root (a
        # generated File would lose its path in mkdocs-jupyter's wrapper)
        files.append(File(f"notebooks/{notebook.name}", src_dir=str(ROOT), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    files.append(File.generated(config, "changelog.md", abs_src_path=str(ROOT / "CHANGELOG.md")))
    for path, (title, layer) in API.items():
        files.append(File.generated(config, path, content=api_page(title, layer)))
    for dest, source in mathjax_files().items():
        files.append(File.generated(config, dest, abs_src_path=str(source)))
    return files


MATHJAX_DEST = "javascripts/mathjax"
"""Where the site serves MathJax (mkdocs.yml ``extra_javascript`` names ``tex-mml-chtml.js`` there)."""
MATHJAX_PARTS = ("tex-mml-chtml.js", "output/chtml/", "input/tex/extensions/", "ui/", "a11y/", "sre/")
"""MathJax's combined TeX/MathML-to-HTML component and what it loads on demand: its fonts, TeX
extensions (autoload), the menu and the accessibility tools."""


def mathjax_files() -> dict[str, Path]:
    """Site path -> file of MathJax 3's ``es5`` build, as the Python package ``django-static-mathjax``
    installs it (a ``docs`` extra): no CDN, so the equations render without a network."""
    import mathjax  # django-static-mathjax (no dependency of its own)

    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-mml-chtml.js").is_file():
        raise FileNotFoundError(f"{es5}/tex-mml-chtml.js: reinstall the docs extra (pip install -e '.[docs]')")
    found = {}
    for path in sorted(es5.rglob("*")):
        relative = path.relative_to(es5).as_posix()
        if path.is_file() and relative.startswith(MATHJAX_PARTS):
            found[f"{MATHJAX_DEST}/{relative}"] = path
    return found
