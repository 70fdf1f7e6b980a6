"""The tumour module: two cell populations (chemosensitive, resistant), immune kill relative to
the patient's own baseline, and the cumulative hazard of a new lesion.

Times in days, volumes mL, diameters mm."""

import libsbml
import numpy as np
import pytest
import roadrunner

from thymosim import Patient
from thymosim.analysis import recist
from thymosim.model import model_dir
from thymosim.sbml.build import antimony_to_sbml, set_parameter_values
from thymosim.tables import load_parameter_table


def harness(**values: float) -> roadrunner.RoadRunner:
    """The stand-alone tumour module (constant healthy-reference immune inputs) with the table's
    values, then ``values`` (module ids without the TUM. prefix, or harness inputs) set before t0."""
    doc = libsbml.readSBMLFromString(antimony_to_sbml("tumour_alone", model_dir() / "modules" / "tumour.ant"))
    set_parameter_values(doc.getModel(), load_parameter_table(), require_all=False)
    rr = roadrunner.RoadRunner(libsbml.writeSBMLToString(doc))
    rr.getIntegrator().setValue("relative_tolerance", 1e-10)
    rr.getIntegrator().setValue("absolute_tolerance", 1e-14)
    for key, value in values.items():
        rr[key if key in ("kill_tumour", "E8", "NK", "M1") else f"TUM_{key}"] = value
    rr.reset()
    return rr


def test_a_resistant_only_lesion_regrows_at_its_stated_rate_through_chemotherapy():
    """All live cells resistant (f_res = 1), a kill of 0.5/day on the sensitive cells throughout:
    the live volume grows exactly at the untreated net rate g_net (0.007/day, the table's), as
    without treatment; the imaged diameter's log slope tends to g_net/3."""
    rr = harness(f_res=1.0, kill_tumour=0.5)
    g = rr["TUM_g_net"]
    out = rr.simulate(0, 300, 7, selections=["time", "TUM_V_sens", "TUM_V_res", "diameter"])
    live0 = out[0, 1] + out[0, 2]
    np.testing.assert_allclose(out[:, 1] + out[:, 2], live0 * np.exp(g * out[:, 0]), rtol=1e-6)
    slope = np.log(out[-1, 3] / out[-2, 3]) / (out[-1, 0] - out[-2, 0])
    assert slope == pytest.approx(g / 3, rel=1e-3)


def test_no_resistant_cells_and_no_new_lesion_hazard_never_progress_under_continuous_kill():
    """Negative control: no resistant cells (f_res = 0), no new-lesion hazard (k_new = 0), the
    fastest growth of the population (0.035/day) and a continuous kill of 0.05/day on sensitive
    cells: read by RECIST on scans every 6 weeks for 2 years, no scan is PD, and the new-lesion
    cumulative hazard stays 0."""
    rr = harness(f_res=0.0, k_new=0.0, g_net=0.035, kill_tumour=0.05)
    days = recist.scan_days(728.0, 42.0)
    out = rr.simulate(0, 728, 729, selections=["time", "diameter", "TUM_H_new"])
    diameters = np.interp(days, out[:, 0], out[:, 1])
    reading = recist.classify(days, diameters)
    assert not reading.pfs_event and "PD" not in reading.timepoints
    assert reading.best in ("PR", "CR")
    assert np.all(out[:, 2] == 0.0)


def test_positive_control_a_resistant_share_progresses_under_the_same_kill():
    """The same lesion and kill with 10 % resistant cells does progress (target growth) within 2
    years: the negative control above is not passing because nothing can progress."""
    rr = harness(f_res=0.1, k_new=0.0, g_net=0.035, kill_tumour=0.05)
    days = recist.scan_days(728.0, 42.0)
    out = rr.simulate(0, 728, 729, selections=["time", "diameter"])
    assert recist.classify(days, np.interp(days, out[:, 0], out[:, 1])).pfs_event


def test_new_lesion_hazard_integrates_the_live_burden():
    """H_new' = k_new * V_live / V_ref: for an untreated lesion growing at g_net from a live
    volume V0, H_new(t) = k_new * V0 / V_ref * (exp(g_net t) - 1) / g_net."""
    rr = harness(f_res=0.2)
    k, g, vref = rr["TUM_k_new"], rr["TUM_g_net"], rr["TUM_V_ref"]
    v0 = rr["TUM_V_sens"] + rr["TUM_V_res"]
    out = rr.simulate(0, 200, 5, selections=["time", "TUM_H_new"])
    np.testing.assert_allclose(out[:, 1], k * v0 / vref * np.expm1(g * out[:, 0]) / g, rtol=1e-6)


LOW = Patient(cd4=50)
"""CD4 50/uL, other counts those of the typical advanced-cancer patient."""
HIGH = Patient(cd4=1500, cd8=800, cd3=2500)
"""CD4 1500/uL (CD8 800/uL: with the typical CD8 count this CD4 count has no steady state)."""


def test_more_immune_cells_do_not_make_chemotherapy_worse():
    """Expected direction: with more immune cells, the response to vinorelbine + cisplatin is at
    least as good. The immune kill is relative to the patient's own baseline, on a saturable
    capacity, so the same relative lymphodepletion removes the same share of kill at any count
    and less once the capacity saturates; clinically, low lymphocyte counts go with worse, not
    better, outcomes on chemotherapy. Tolerance 1 percentage point: the high-count patient's NK
    cells recover more slowly after chemotherapy (an immune-model property), which costs a little
    kill. With the earlier absolute kill (gross growth = g_net + baseline kill) these two patients
    had best changes of -27.2 % (CD4 50) and -20.9 % (CD4 1500), and chemotherapy nearly did not
    change the high-count patient's lesion at day 180 (46.1 vs 56.3 mm untreated). Also: with
    chemotherapy each lesion is smaller at day 180 than without (by at least 20 %)."""
    from dataclasses import replace

    from thymosim import simulate
    from thymosim.scenario import named

    best, end = {}, {}
    for name, patient in (("low", LOW), ("high", HIGH)):
        course = replace(named("cisplatin_vinorelbine"), patient=patient, horizon=180).simulate(
            times=list(np.arange(0.0, 181.0, 6.0)))
        d = course.tumour_diameter.to_numpy()
        best[name] = 100 * (d.min() / d[0] - 1)
        untreated = simulate(patient, horizon=180, step=180).tumour_diameter.iloc[-1]
        end[name] = d[-1]
        assert d[-1] < 0.8 * untreated, name
    assert best["high"] <= best["low"] + 1.0, best
