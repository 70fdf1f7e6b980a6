"""Release artefacts: the version in one place, LICENSE, CITATION.cff (valid Citation File Format),
CHANGELOG.md, the model release (a COMBINE/OMEX archive) and, slow, the sdist and wheel
(`python -m build`, `twine check`, installed in a fresh environment where `thymosim run` works)."""

import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import thymosim

ROOT = Path(__file__).parents[1]


def test_the_version_is_written_in_one_place(capsys):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "src/thymosim/__init__.py"
    assert re.fullmatch(r"\d+\.\d+\.\d+", thymosim.__version__)
    from thymosim.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"thymosim {thymosim.__version__}"


def test_the_citation_file_is_valid_citation_file_format():
    """CITATION.cff against the Citation File Format 1.2.0 schema (docs/schemas/, from cffconvert)."""
    import jsonschema
    import yaml

    schema = json.loads((ROOT / "docs" / "schemas" / "citation-cff-1.2.0.json").read_text(encoding="utf-8"))
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert not sorted(e.message for e in validator.iter_errors(citation))
    assert citation["version"] == thymosim.__version__ and citation["license"] == "MIT"
    broken = {**citation, "authors": [{"nickname": 1}], "date-released": "27 Nov 2026"}
    assert len(list(validator.iter_errors(broken))) >= 2  # the check can fail


def test_licence_and_changelog():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "Copyright (c) 2026 thymosim contributors" in licence
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert versions[0] == thymosim.__version__ and "0.1.0" in versions, versions
    assert "## [Unreleased]" in changelog


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    from thymosim.sbml.export import release_archive

    return release_archive(tmp_path_factory.mktemp("release") / "thymosim.omex")


def test_the_model_release_holds_model_scenarios_sedml_tables_and_reference(release):
    import libsedml

    from thymosim.model import sbml_path
    from thymosim.sbml.pages import pages
    from thymosim.scenario import names

    with zipfile.ZipFile(release) as archive:
        held = set(archive.namelist())
        manifest = archive.read("manifest.xml").decode()
        assert archive.read("thymosim.xml") == sbml_path().read_bytes()
        for name, text in pages().items():
            assert archive.read(f"reference/{name}").decode() == text, name
        sedml = libsedml.readSedMLFromString(archive.read("simulation.sedml").decode())
    expected = {"thymosim.xml", "thymosim_flat.ant", "simulation.sedml", "parameters.tsv", "variables.tsv",
                "drugs.tsv", "reference/index.md", "reference/network.png", "data/clinical_targets.tsv",
                *(f"{n}.xml" for n in names()), *(f"scenarios/{n}.toml" for n in names())}
    assert expected <= held, expected - held
    assert all(f'location="{name}"' in manifest for name in held - {"manifest.xml", "metadata.rdf"})
    assert sedml.getNumErrors(libsedml.LIBSEDML_SEV_ERROR) == 0
    assert {sedml.getModel(i).getSource() for i in range(sedml.getNumModels())} == {f"{n}.xml" for n in names()}


@pytest.mark.crosstool
def test_biosimulators_finds_no_error_in_the_model_release(release, tmp_path):
    from test_export import omex_problems

    errors, warnings = omex_problems(release, tmp_path / "unpacked")
    assert errors == []
    # the warnings are SED-ML's notes on the simulations' step counts, none on the release's added files
    assert not any(name in str(warnings) for name in ("reference/", "scenarios/", "thymosim.xml", "data/"))


@pytest.mark.slow
def test_sdist_and_wheel_build_pass_twine_and_install_in_a_fresh_venv(tmp_path):
    """python -m build (needs the package index for hatchling, as CI has), twine check, and the wheel
    in a fresh virtual environment: thymosim --version and the main job (about a minute here)."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], check=True,
                   capture_output=True, timeout=600)
    version = thymosim.__version__
    wheel, sdist = dist / f"thymosim-{version}-py3-none-any.whl", dist / f"thymosim-{version}.tar.gz"
    assert wheel.exists() and sdist.exists(), sorted(p.name for p in dist.iterdir())
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with zipfile.ZipFile(wheel) as archive:
        held = set(archive.namelist())
    assert {"thymosim/models/thymosim.xml", "thymosim/models/parameters.tsv",
            f"thymosim-{version}.dist-info/licenses/LICENSE"} <= held
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_ = venv / ("Scripts" if sys.platform == "win32" else "bin")
    subprocess.run([str(bin_ / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=900)
    out = subprocess.run([str(bin_ / "thymosim"), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"thymosim {version}"
    subprocess.run([str(bin_ / "thymosim"), "run", "--out", str(tmp_path / "results"), "--quiet"], check=True,
                   cwd=tmp_path)
    for name in ("timecourse.csv", "endpoints.csv", "timecourse.png"):
        assert (tmp_path / "results" / name).stat().st_size > 0, name
