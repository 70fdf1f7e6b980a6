"""Calibrations are real fits of the simulated model; the table's fitted values meet the published
targets by an independent closed form; the README reports the fit; a fit writes the table (the only
place values live); and a change to the model's PK module reaches the PK fit."""

import shutil

import pytest
from pk_closed_form import single_dose_metrics
from scipy.optimize import least_squares

from thymosim.analysis.calibration import (
    FITTED,
    PK_N,
    PK_TARGETS,
    PK_THALF_BOUNDS_H,
    TA1_DOSE_UG,
    calibrate,
    fit_dc_maturation,
    fit_ta1_pk,
)
from thymosim.model import default_model, model_dir
from thymosim.sbml.build import build_sbml
from thymosim.tables import load_parameter_table


@pytest.fixture(scope="module")
def fits():
    return fit_ta1_pk() | fit_dc_maturation()


def closed_form_fit() -> dict[str, float]:
    """The PK fit redone here on the closed form (tests/pk_closed_form.py), not on the model."""
    import numpy as np

    names = list(PK_TARGETS)
    target = np.array([PK_TARGETS[k][0] for k in names])
    sem = np.array([PK_TARGETS[k][1] for k in names]) / np.sqrt(PK_N)

    def residuals(logp):
        got = single_dose_metrics(TA1_DOSE_UG, *np.exp(logp))
        return (np.array([got[k] for k in names]) - target) / sem

    lo = np.log([0.05, np.log(2) / PK_THALF_BOUNDS_H[1], 1.0])
    hi = np.log([20.0, np.log(2) / PK_THALF_BOUNDS_H[0], 100.0])
    ka_h, ke_h, v = np.exp(least_squares(residuals, np.log([1.2, 0.25, 13.0]), bounds=(lo, hi)).x)
    return {"PK_ka": 24 * ka_h, "PK_CL": 24 * ke_h * v, "PK_V": v}


def test_the_pk_fit_on_the_model_finds_the_closed_form_optimum(fits):
    """The fit simulates the model's ta1_pk module; the closed form of the same structure has the same optimum."""
    expected = closed_form_fit()
    for pid in ("PK_ka", "PK_CL", "PK_V"):
        assert fits[pid] == pytest.approx(expected[pid], rel=1e-3), pid


def test_the_tables_fitted_pk_meets_the_published_exposure():
    """The table's PK values give, by the closed form, Cmax, Tmax and AUC0-12 within one SD of the
    published means and t1/2 inside the published range; the rows say they were fitted."""
    table = load_parameter_table()
    value = table.value
    got = single_dose_metrics(TA1_DOSE_UG, value["PK_ka"] / 24, value["PK_CL"] / value["PK_V"] / 24, value["PK_V"])
    for key, (mean, sd) in PK_TARGETS.items():
        assert abs(got[key] - mean) <= sd, key
    assert PK_THALF_BOUNDS_H[0] - 1e-3 <= got["thalf_h"] <= PK_THALF_BOUNDS_H[1]
    assert all(table.evidence[pid] == "fitted" for pid in FITTED)


def test_fit_results_are_those_the_readme_reports(fits):
    """README, 'What is calibrated to which source': Cmax 83.4, Tmax 1.78 h, AUC0-12 475, t1/2 2.6 h;
    ETASS +3.5 / +6.0 points."""
    assert round(fits["fit_Cmax"], 1) == 83.4 and round(fits["fit_Tmax_h"], 2) == 1.78
    assert round(fits["fit_AUC0_12"]) == 475 and round(fits["fit_thalf_h"], 1) == 2.6
    assert (round(100 * fits["day3"], 1), round(100 * fits["day7"], 1)) == (3.5, 6.0)


def test_a_changed_pk_module_changes_the_pk_fit(tmp_path, fits):
    """Halve the absorption term in models/modules/ta1_pk.ant (a copy), rebuild: the fit on the rebuilt
    model finds twice the absorption rate constant and the same exposure."""
    models = shutil.copytree(model_dir(), tmp_path / "models")
    module = models / "modules" / "ta1_pk.ant"
    text = module.read_text(encoding="utf-8")
    assert text.count("absorption: depot -> central; ka*depot") == 1
    module.write_text(text.replace("ka*depot", "ka/2*depot"), encoding="utf-8")
    edited = default_model().with_sbml(build_sbml(models))
    refit = fit_ta1_pk(edited)
    assert refit["PK_ka"] == pytest.approx(2 * fits["PK_ka"], rel=1e-3)
    assert refit["PK_CL"] == pytest.approx(fits["PK_CL"], rel=1e-3)
    assert refit["fit_Cmax"] == pytest.approx(fits["fit_Cmax"], rel=1e-3)


def test_calibrate_write_puts_the_fit_into_the_table_and_the_build_into_the_model(tmp_path, fits):
    models = shutil.copytree(model_dir(), tmp_path / "models")
    text = (models / "parameters.tsv").read_text(encoding="utf-8")
    (models / "parameters.tsv").write_text(text.replace("PK_CL\t76.33\t", "PK_CL\t99\t"))  # a stale value
    assert load_parameter_table(models).value["PK_CL"] == 99
    calibrate(write=True, directory=models, clinical=False)
    table = load_parameter_table(models)
    for pid in FITTED:
        assert table.value[pid] == pytest.approx(fits[pid], rel=5e-4)
    assert default_model().with_sbml(build_sbml(models)).defaults["PK_CL"] == table.value["PK_CL"]
    assert (models / "parameters.tsv").read_text(encoding="utf-8") == text  # everything else kept, byte for byte
