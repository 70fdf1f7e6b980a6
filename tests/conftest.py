"""Test tiers. The default ``pytest`` run is the fast tier (edit-test loop, < 60 s on 2 cores);
``python -m pytest -m "slow or not slow"`` runs everything (what .ci/run runs).

Markers: ``slow`` (everything outside the fast tier), ``notebook`` (notebooks executed end to
end) and ``crosstool`` (other tools: COPASI, tellurium's archive executor, BioSimulators'
validator, petablint, libsbml conversions and flattening). Notebook and cross-tool tests are
slow by definition.
"""

import pytest

CROSSTOOL = {
    "test_level3_version1_export_is_consistent_and_simulates_identically",
    "test_copasi_reproduces_the_default_scenario_from_the_exported_sbml",
    "test_hierarchical_export_is_valid_and_flattens_to_the_same_model",
    "test_omex_archive_is_valid_sedml_and_tellurium_reproduces_our_report",
    "test_omex_validation_catches_a_broken_target",
    "test_petab_export_passes_petablint_and_matches_the_table",
    "test_petab_conditions_reproduce_thymosims_calibration_simulations",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.originalname or item.name
        if item.path.name == "test_notebooks.py" and name == "test_notebook_executes":
            item.add_marker(pytest.mark.notebook)
        if name in CROSSTOOL:
            item.add_marker(pytest.mark.crosstool)
        if item.get_closest_marker("notebook") or item.get_closest_marker("crosstool"):
            item.add_marker(pytest.mark.slow)
