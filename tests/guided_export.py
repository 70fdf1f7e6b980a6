"""Shared checks of a guided scenario exported as SBML (tests/test_rules.py, tests/test_rules_progression.py)."""

import numpy as np


def within_range(theirs, mine, column):
    """Another simulator's output against thymosim's: 1e-4 relative, or 1e-6 of the output's range."""
    scale = np.abs(mine).max() - np.abs(mine).min()
    np.testing.assert_allclose(theirs, mine, rtol=1e-4, atol=1e-6 * scale, err_msg=column)


def copasi_matches(scenario, days: int = 60):
    """COPASI (basico) on the exported scenario over ``days`` (daily outputs), checked against thymosim for every
    output (:func:`within_range`); returns COPASI's table (SBML ids as columns) for further checks."""
    import basico

    from thymosim import default_model
    from thymosim.sbml.export import scenario_sbml

    model = basico.load_model(scenario_sbml(scenario))
    try:
        basico.set_task_settings(basico.T.TIME_COURSE, {"method": {
            "Relative Tolerance": 1e-8, "Absolute Tolerance": 1e-10, "Max Internal Steps": 1000000}}, model=model)
        copasi = basico.run_time_course(duration=days, intervals=days, model=model, use_sbml_id=True).reset_index()
    finally:
        basico.remove_datamodel(model)
    ours = scenario.simulate(step=1.0)
    for column in ours.columns.drop("time"):
        within_range(copasi[default_model().outputs[column].id.strip("[]")].to_numpy(), ours[column].to_numpy(), column)
    return copasi
