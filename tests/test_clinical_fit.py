"""Fits to the clinical targets: residuals, profile intervals, and recovery of known parameters
from data simulated by the model itself."""

import numpy as np
import pandas as pd
import pytest

from thymosim.analysis.clinical_fit import (
    HINGE_SD,
    LOG_SD,
    count_targets,
    fit_immune,
    fit_kill,
    interval,
    predict_counts,
    residuals,
)
from thymosim.analysis.population import sample_population
from thymosim.tables import clinical_targets, load_parameter_table


def test_targets_declare_train_and_test_and_only_train_rows_are_fitted():
    table = clinical_targets()
    assert set(table.role) == {"train", "test"}
    assert (table.role == "test").sum() >= 8
    assert set(count_targets().index) <= set(table.index[table.role == "train"])
    assert table.source.str.len().min() > 10 and table.caveat.str.len().min() > 5


def test_fitted_parameters_are_flagged_fitted_with_a_source():
    params = load_parameter_table()
    for pid in ("TC_E_share", "TC_E_NK_TA1", "CHEMO_k_tum_cis", "CHEMO_k_tum_vnr", "RT_alpha_tumour"):
        assert params.evidence[pid] == "fitted", pid
        assert "clinical_targets" in params.source[pid] or "calibrate" in params.source[pid], pid


def test_residuals_weigh_values_on_the_log_scale_and_directions_as_hinges():
    targets = pd.DataFrame({"kind": ["value", "change_max", "change_max", "change_min", "change_min"],
                            "value": [100.0, -20.0, -20.0, -10.0, -10.0]})
    res = residuals(targets, np.array([110.0, -30.0, -15.0, -5.0, -12.0]))
    np.testing.assert_allclose(res, [np.log(1.1) / LOG_SD, 0.0, 5.0 / HINGE_SD, 0.0, -2.0 / HINGE_SD])


def test_profile_intervals_and_identifiability_verdicts():
    values = np.exp(np.linspace(-2, 2, 41))
    parabola = pd.DataFrame({"value": values, "delta": (np.log(values) / 0.5) ** 2})
    lo, hi, verdict = interval(parabola)
    assert verdict == "identifiable"
    # delta = 3.84 at log(value) = +-0.5*sqrt(3.84)
    assert np.log(lo) == pytest.approx(-0.5 * np.sqrt(3.8415), abs=0.01)
    assert np.log(hi) == pytest.approx(0.5 * np.sqrt(3.8415), abs=0.01)
    assert interval(parabola.assign(delta=0.0))[2] == "not identifiable"
    one_sided = parabola.assign(delta=np.where(np.log(values) < 0, (np.log(values) / 0.5) ** 2, 0.0))
    assert interval(one_sided)[2] == "bounded below only"


@pytest.mark.slow
def test_the_immune_fit_recovers_a_known_value_from_data_the_model_simulated():
    targets = count_targets()
    targets = targets[targets.kind == "value"].copy()
    truth = {"TC_E_share": 2.0}
    targets["value"] = predict_counts(targets, truth)
    fit = fit_immune(targets, ["TC_E_share"], n_starts=2)
    assert fit.values["TC_E_share"] == pytest.approx(2.0, rel=1e-3)
    assert fit.cost < 1e-6


@pytest.mark.slow
def test_the_kill_fit_recovers_a_known_factor_from_a_rate_the_model_simulated(monkeypatch):
    """A response rate simulated with chemotherapy kill x 1.6 on a small population is traced back
    to a factor whose rate matches (rates are steps of 1/n, so the factor lies in an interval)."""
    import thymosim.analysis.clinical_fit as cf
    from thymosim.analysis.trial import run_arm

    population = sample_population(40, seed=5)
    names = ("CHEMO_k_tum_cis", "CHEMO_k_tum_vnr")
    scaled = population.assign(**{n: population[n] * 1.6 for n in names})
    rate = 100 * run_arm("cisplatin_vinorelbine", scaled).recist.isin(["CR", "PR"]).mean()
    table = clinical_targets()
    table.loc["vnr_cis_orr", ["value", "n"]] = [rate, 40]
    monkeypatch.setattr(cf, "clinical_targets", lambda: table)
    fit = fit_kill("vnr_cis_orr", names, population, tolerance=0.005)
    # the rate is not strictly monotone in the factor (one patient may respond at a lower kill and not at a
    # slightly higher one), so the bisection's midpoint may sit one patient off the target
    assert abs(fit.model_rate - rate) <= 100 / 40
    assert fit.factor_lo <= 1.6 <= fit.factor_hi  # an end may be open (inf) where factors up to 20 cannot reach it
    # the point factor is identified only up to the range of factors giving about the same number of responders
    # (the bisection lands near 1.25 with the merged model), so it is not compared with 1.6 beyond the interval
