"""Virtual populations: reproducible sampling inside the bounds, shared sensitivity factors, the
plausibility filter, and Allen 2016 selection to a target distribution."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from thymosim.analysis.population import plausible, sample_population, select
from thymosim.model import default_model
from thymosim.tables import load_parameter_table, load_variability


def test_sampling_is_reproducible_from_the_seed_and_stays_inside_the_bounds():
    a, b, c = (sample_population(300, seed=s) for s in (4, 4, 5))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    table = load_variability()
    for pid, row in table.iterrows():
        assert a[pid].between(row.lower, row.upper).all(), pid
    assert (a.CD3_0 >= a.CD4_0 + a.CD8_0).all()


def test_population_bounds_lie_inside_the_plausible_ranges_of_the_parameter_table():
    params, table = load_parameter_table(), load_variability()
    for pid, row in table.iterrows():
        assert params.lower[pid] <= row.lower < row.upper <= params.upper[pid], pid
        assert row.evidence in ("measured", "assumed") and row.source, pid


def test_sampled_medians_and_spreads_follow_the_table():
    """Log-normal around the model's value with the table's omega (untruncated parameters)."""
    pop = sample_population(4000, seed=1)
    model = default_model()
    for pid in ("CD4_0", "TUM_k_imm"):
        omega = load_variability().omega[pid]
        x = np.log(pop[pid])
        assert np.exp(np.median(x)) == pytest.approx(model.defaults[pid], rel=0.03)
        assert np.std(x) == pytest.approx(omega, rel=0.06)


def test_a_group_shares_one_factor():
    pop = sample_population(200, seed=2)
    model = default_model()
    ratio = np.log(pop.CHEMO_k_tum_cis / model.defaults["CHEMO_k_tum_cis"]) - np.log(
        pop.CHEMO_k_tum_vnr / model.defaults["CHEMO_k_tum_vnr"])
    np.testing.assert_allclose(ratio, 0.0, atol=1e-12)


def test_bad_sizes_and_unknown_parameters_are_refused():
    with pytest.raises(ValueError, match="n must be >= 1"):
        sample_population(0)
    table = load_variability().rename(index={"CD4_0": "no_such_parameter"})
    with pytest.raises(KeyError, match="no_such_parameter"):
        sample_population(5, variability=table)


def test_the_plausibility_filter_names_the_bound_a_patient_breaks():
    pop = sample_population(3, seed=0)
    pop.loc[1, "TUM_g_net"] = 0.02  # fast growth (doubling in 35 days): fine over 180 days
    pop = pd.concat([pop, pop.iloc[[0]].assign(vp=3)], ignore_index=True)
    pop["CHEMO_k_T_cis"] = [0.25, 0.25, 0.25, 50.0]  # last patient: lymphocytes wiped out by cisplatin
    result = plausible(pop)
    assert result.plausible.tolist() == [True, True, True, False]
    assert result.reason[3].startswith("lymphocyte_nadir")


def test_selection_matches_a_target_distribution_from_a_skewed_pool():
    """Acceptance-rejection turns a pool drawn log-uniformly into the log-normal target: medians
    within 5 %, log-SDs within 15 %, KS p > 0.01 (the stated tolerance)."""
    rng = np.random.default_rng(0)
    pool = pd.DataFrame({"CD3_0": np.exp(rng.uniform(np.log(100), np.log(1800), 6000)),
                         "D_0": np.exp(rng.uniform(np.log(10), np.log(140), 6000)), "plausible": True})
    target = {"CD3_0": (422.5, 0.28), "D_0": (37.0, 0.4)}
    selection = select(pool, target, seed=1)
    assert 0.02 < selection.yield_ < 0.5
    for row in selection.match.itertuples():
        assert row.selected_median == pytest.approx(row.target_median, rel=0.05), row.observable
        assert row.selected_logsd == pytest.approx(row.target_logsd, rel=0.15), row.observable
        assert row.ks_p > 0.01, row.observable
    # the pool itself is far from the target (the test can fail)
    assert stats.kstest(np.log(pool.CD3_0), "norm", args=(np.log(422.5), 0.28)).pvalue < 1e-6


def test_selection_keeps_only_plausible_patients():
    rng = np.random.default_rng(1)
    pool = pd.DataFrame({"CD3_0": np.exp(rng.normal(np.log(422.5), 0.4, 500)),
                         "D_0": np.exp(rng.normal(np.log(37), 0.5, 500))})
    pool["plausible"] = np.arange(500) % 5 != 0
    chosen = select(pool, seed=0).population
    assert not chosen.selected[~chosen.plausible].any()
    with pytest.raises(KeyError, match="NK_0"):
        select(pool, {"NK_0": (200, 0.5)})
