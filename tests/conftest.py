"""Test tiers. The default ``pytest`` run is the fast tier (edit-test loop, < 60 s on 2 cores);
``python -m pytest -m "slow or not slow"`` runs everything (what .ci/run runs).

Markers: ``slow`` (everything outside the fast tier), ``notebook`` (notebooks executed end to
end) and ``crosstool`` (other tools: COPASI, tellurium's archive executor, BioSimulators'
validator, petablint, libsbml conversions and flattening; marked where they are defined).
Notebook and cross-tool tests are slow by definition. To run one slow test by its node id, add
``-m "slow or not slow"`` (the default run deselects it).
"""

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.originalname or item.name
        if item.path.name == "test_notebooks.py" and name == "test_notebook_executes":
            item.add_marker(pytest.mark.notebook)
        if item.get_closest_marker("notebook") or item.get_closest_marker("crosstool"):
            item.add_marker(pytest.mark.slow)


def pytest_configure(config):
    """The suite never reads or writes the user's cache of compiled models: a temporary directory
    for this run (inherited by worker and child processes), removed at the end."""
    import os
    import tempfile

    config._thymosim_cache = tempfile.mkdtemp(prefix="thymosim-test-cache-")
    os.environ["THYMOSIM_CACHE_DIR"] = config._thymosim_cache
    os.environ.pop("THYMOSIM_NO_CACHE", None)


def pytest_unconfigure(config):
    import shutil

    shutil.rmtree(getattr(config, "_thymosim_cache", ""), ignore_errors=True)


@pytest.fixture(autouse=True)
def _close_figures():
    """Each test starts with no open matplotlib figure (figures a test or an in-process CLI call left
    open would otherwise pile up to matplotlib's 20-figure warning, an error under filterwarnings)."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
