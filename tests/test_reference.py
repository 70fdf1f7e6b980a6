"""Reference results: each named scenario reproduces its committed time course
(tests/reference/<scenario>.csv; regenerate with python tests/reference/regenerate.py), and the
numbers the README reports are those of the reference files."""

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thymosim.analysis.accuracy import reference_model
from thymosim.scenario import names

sys.path.insert(0, str(Path(__file__).parent / "reference"))
import regenerate  # noqa: E402

README = Path(__file__).parents[1] / "README.md"


def committed(name: str) -> pd.DataFrame:
    return pd.read_csv(regenerate.path(name), comment="#")


def test_every_named_scenario_has_a_reference_file():
    assert sorted(p.stem for p in regenerate.HERE.glob("*.csv")) == names()


@pytest.mark.parametrize("name", names())
def test_scenario_reproduces_its_reference(name):
    expected, got = committed(name), regenerate.reference(name)
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=regenerate.RTOL, atol=regenerate.ATOL,
                               err_msg=f"{name} moved: if deliberate, run python tests/reference/regenerate.py")


def test_the_reference_check_catches_a_small_model_change():
    """Changing one parameter by 0.1 % (vinorelbine's lymphocyte kill) moves the reference."""
    from dataclasses import replace

    from thymosim import Patient
    from thymosim.scenario import named

    scenario = named("cisplatin_vinorelbine")
    times = committed(scenario.name).time.to_numpy()
    value = scenario.model.defaults["CHEMO_k_T_vnr"]
    moved = replace(scenario, patient=Patient(parameters={"CHEMO_k_T_vnr": value * 1.001}),
                    model=reference_model(scenario.model)).simulate(times=times)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(moved.to_numpy(), committed(scenario.name).to_numpy(), rtol=regenerate.RTOL,
                                   atol=regenerate.ATOL)


def readme_table(heading: str) -> pd.DataFrame:
    """The first Markdown table after ``heading`` in the README, as strings."""
    text = README.read_text(encoding="utf-8").split(heading, 1)[1]
    block = []
    for line in text.splitlines():
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip("|").split("|")])
        elif block:
            break
    assert block, heading
    return pd.DataFrame(block[2:], columns=block[0])


def test_readme_default_scenario_table_is_the_reference_at_day_180():
    table = readme_table("## Default scenario").set_index("day 180")
    columns = {"CD3": ("CD3", 0), "CD4": ("CD4", 0), "CD8": ("CD8", 0), "NK": ("NK", 0), "IL-2 (pM)": ("IL2", 2),
               "M1/M2": ("M1_M2", 3), "tumour (mm)": ("tumour_diameter", 1)}
    for arm, scenario in (("chemo", "cisplatin_vinorelbine"), ("chemo + Tα1", "cisplatin_vinorelbine_ta1")):
        day180 = committed(scenario).set_index("time").loc[180.0]
        for header, (output, digits) in columns.items():
            shown = float(table.loc[arm, header])
            assert shown == round(float(day180[output]), digits), f"README {arm} {header}: {shown} vs {day180[output]}"


def test_readme_day9_prediction_is_the_reference():
    day9 = committed("prag_ta1_loading").set_index("time").loc[9.0]
    guide = README.parent / "docs" / "guide" / "scenarios-cli.md"  # moved there from the README
    text = " ".join(guide.read_text(encoding="utf-8").split())
    match = re.search(r"gives CD3 (\d+), CD4 (\d+), CD8 (\d+) cells/µL at day 9", text)
    assert match, "README sentence with the day-9 prediction not found"
    assert [int(g) for g in match.groups()] == [round(day9[c]) for c in ("CD3", "CD4", "CD8")]


# --- an independent reference: COPASI on the exported SBML (tests/reference/copasi/) ---------------------
sys.path.insert(0, str(Path(__file__).parent / "reference" / "copasi"))
import copasi_reference  # noqa: E402


def test_the_default_arm_matches_the_committed_copasi_time_course():
    """thymosim (default solver) against COPASI's time course of the exported SBML, committed with its
    tolerance and a note (tests/reference/copasi/default_arm.toml)."""
    from thymosim.scenario import named

    settings, copasi = copasi_reference.SETTINGS, copasi_reference.committed()
    tolerance = settings["tolerance"]
    assert list(copasi.columns) == ["time", *settings["outputs"]]
    ours = named(settings["scenario"]).simulate(times=copasi.time.to_numpy(), outputs=settings["outputs"])
    for name in settings["outputs"]:
        theirs = copasi[name].to_numpy()
        np.testing.assert_allclose(ours[name].to_numpy(), theirs, rtol=tolerance["rtol"],
                                   atol=tolerance["atol_of_range"] * np.ptp(theirs), err_msg=name)


def test_the_copasi_comparison_catches_a_small_model_change():
    """Vinorelbine's lymphocyte kill 1 % higher moves thymosim outside the COPASI reference's tolerance."""
    from dataclasses import replace

    from thymosim import Patient
    from thymosim.scenario import named

    settings, copasi = copasi_reference.SETTINGS, copasi_reference.committed()
    scenario = named(settings["scenario"])
    value = scenario.model.defaults["CHEMO_k_T_vnr"]
    moved = replace(scenario, patient=Patient(parameters={"CHEMO_k_T_vnr": 1.01 * value}))
    ours = moved.simulate(times=copasi.time.to_numpy(), outputs=["CD4"])
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(ours.CD4.to_numpy(), copasi.CD4.to_numpy(), rtol=settings["tolerance"]["rtol"],
                                   atol=settings["tolerance"]["atol_of_range"] * np.ptp(copasi.CD4.to_numpy()))


@pytest.mark.crosstool
def test_copasi_still_gives_the_committed_reference():
    """COPASI on today's export reproduces the committed file (else regenerate it after a deliberate change:
    python tests/reference/copasi/copasi_reference.py)."""
    now, committed = copasi_reference.copasi_course(), copasi_reference.committed()
    np.testing.assert_allclose(now.to_numpy(), committed.to_numpy(),
                               rtol=copasi_reference.SETTINGS["tolerance"]["copasi_rtol"], atol=1e-12)
