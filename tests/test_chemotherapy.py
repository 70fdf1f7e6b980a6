"""Chemotherapy alone: direction and size of lymphocyte loss the reference supports,
neutrophil nadir timing, and recovery after treatment ends."""

import numpy as np
import pytest

from thymosim import Patient, simulate
from thymosim.scenario import named


def at(df, day, col):
    return float(np.interp(day, df.time, df[col]))


@pytest.fixture(scope="module")
def doublet():
    return simulate(Patient(), named("cisplatin_vinorelbine").regimen, horizon=730, step=1)


def test_ifosfamide_clearly_depresses_cd4_cd8_nk_after_two_cycles():
    """Salvati 1996 (PMID 8687090): CD4, CD8 and NK significantly depressed after 2 cycles."""
    p = Patient()
    df = simulate(p, named("ifosfamide").regimen, horizon=42, step=1)
    for col, base in [("CD4", p.cd4), ("CD8", p.cd8), ("NK", p.nk)]:
        assert at(df, 42, col) < 0.85 * base, col


def test_platinum_doublet_little_at_first(doublet):
    """Campian 2013: no lymphopenia early; Wang: decline only from cycle 2."""
    p = Patient()
    assert at(doublet, 21, "CD4") > 0.92 * p.cd4
    assert at(doublet, 21, "CD8") > 0.92 * p.cd8


def test_platinum_doublet_cumulative_from_cycle_3(doublet):
    """Wang (Clin Lab): significant decrease from cycle 3 onwards."""
    p = Patient()
    before_cycle3 = at(doublet, 42, "CD4") / p.cd4
    after_cycle4 = at(doublet, 84, "CD4") / p.cd4
    assert after_cycle4 < 0.9
    assert after_cycle4 < before_cycle3 - 0.05


def test_neutrophil_nadir_in_the_second_week(doublet):
    """ANC nadir around day 12 after platinum doublets (PMID 26260239)."""
    first_cycle = doublet[doublet.time <= 21]
    nadir_day = first_cycle.time[first_cycle.ANC.idxmin()]
    assert 8 <= nadir_day <= 16
    assert first_cycle.ANC.min() < 0.6 * Patient().anc


def test_counts_recover_after_chemotherapy_ends(doublet):
    """Counts recover after the doublet. T cells slowly: adult CD4 recovery after chemotherapy is protracted
    (Hakim 1997, PMID 9345067: below half of baseline 12-14 months after dose-intense chemotherapy), and the
    lymphopenia-induced memory expansion peaks and declines, so CD8 may dip after its peak, by under 1 % of
    baseline."""
    end = 84
    after = doublet[doublet.time >= end + 7]
    for col in ["CD4", "NK"]:  # ANC rebounds above baseline (Friberg feedback), then settles
        assert np.all(np.diff(after[col]) > -1e-9), f"{col} falls after chemotherapy ended"
    p = Patient()
    peak = after.CD8.idxmax()
    assert after.CD8.max() - after.CD8.loc[peak:].min() < 0.01 * p.cd8
    assert np.all(np.diff(after.CD8.loc[:peak]) > -1e-9)
    lost = p.cd4 - doublet.CD4.min()
    regained = at(doublet, 730, "CD4") - doublet.CD4.min()
    assert regained > 0.3 * lost
    # NK proliferation follows IL-2 from effector CD4 cells, primed from the slowly recovering naive pool
    assert at(doublet, 730, "NK") == pytest.approx(p.nk, rel=0.1)
    assert at(doublet, 730, "ANC") == pytest.approx(p.anc, rel=0.01)
