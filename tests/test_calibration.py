"""Calibrations are real fits whose results the table holds and the README reports, and a fit
writes the table (the only place values live)."""

import shutil

import pytest

from thymosim.analysis.calibration import FITTED, calibrate, fit_dc_maturation, fit_ta1_pk
from thymosim.model import default_model, model_dir
from thymosim.sbml.build import build_sbml
from thymosim.tables import load_parameter_table


@pytest.fixture(scope="module")
def fits():
    return fit_ta1_pk() | fit_dc_maturation()


def test_the_table_holds_the_fitted_values(fits):
    table = load_parameter_table()
    for pid in FITTED:
        assert table.value[pid] == pytest.approx(fits[pid], rel=5e-4), pid  # 4 significant digits
        assert table.evidence[pid] == "fitted"


def test_fit_results_are_those_the_readme_reports(fits):
    """README, 'What is calibrated to which source': Cmax 83.4, Tmax 1.78 h, AUC0-12 475, t1/2 2.6 h;
    ETASS +3.5 / +6.0 points."""
    assert round(fits["fit_Cmax"], 1) == 83.4 and round(fits["fit_Tmax_h"], 2) == 1.78
    assert round(fits["fit_AUC0_12"]) == 475 and round(fits["fit_thalf_h"], 1) == 2.6
    assert (round(100 * fits["day3"], 1), round(100 * fits["day7"], 1)) == (3.5, 6.0)


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
