"""The endpoint registry: one declaration per endpoint read by endpoints.csv, the defaults of sweeps
and sensitivity, the comparator table, the CLI and ``thymosim list endpoints``; the grammar's one
parser; exposure endpoints event-exact (the numbers of exposure.csv at any output step)."""

import math

import pandas as pd
import pytest

from thymosim.analysis import agents, sensitivity
from thymosim.analysis.endpoints import (
    REGISTRY,
    Spec,
    available,
    defaults_for,
    evaluate,
    missing,
    parse,
    resolve,
)
from thymosim.analysis.recist import CLASSES
from thymosim.cli import main
from thymosim.model import default_model
from thymosim.scenario import named


@pytest.mark.parametrize("step", [0.5, 0.01])
def test_endpoints_csv_and_exposure_csv_agree_on_thymalfasin_at_any_step(step, tmp_path):
    """At a 0.5-day step a grid peak read 15.5 ng/mL against the true 166.9 ng/mL (Tmax ~1.8 h)."""
    main(["run", "prag_ta1_loading", "--step", str(step), "--out", str(tmp_path), "--quiet"])
    endpoints = pd.read_csv(tmp_path / "endpoints.csv").iloc[0]
    exposure = pd.read_csv(tmp_path / "exposure.csv")
    whole = exposure[(exposure.drug == "thymalfasin") & (exposure.interval == "horizon")].iloc[0]
    for endpoint, column in (("ta1_cmax", "Cmax"), ("ta1_auc", "AUC"), ("ta1_cavg", "Cavg")):
        assert endpoints[endpoint] == pytest.approx(whole[column], rel=1e-3), endpoint
    assert whole.Cmax > 100.0  # the loading doses' true peak, not a grid value
    assert endpoints.recist in CLASSES


def test_every_registered_endpoint_is_described_with_unit_and_needs():
    outputs = set(default_model().outputs)
    for name, e in REGISTRY.items():
        assert e.name == name and e.description and e.needs and set(e.needs) <= outputs, name
        assert e.unit or e.label, f"{name}: a number needs a unit"


def test_list_endpoints_prints_the_registry(capsys):
    main(["list", "endpoints"])
    lines = dict(line.split("\t", 1) for line in capsys.readouterr().out.splitlines())
    for name, e in REGISTRY.items():
        assert e.description in lines[name] and (not e.unit or f"[{e.unit}]" in lines[name])
    assert {"at:OUTPUT@DAY", "below:OUTPUT@LEVEL"} <= set(lines)


def test_one_grammar_parser():
    assert parse("auc_CD4") == Spec("name")
    assert parse("auc:CD4") == Spec("auc", "CD4")
    assert parse("peak:[C_dopa]") == Spec("peak", "[C_dopa]")
    assert parse("at:CD4@42") == Spec("at", "CD4", 42.0)
    assert parse("below:ANC@500") == Spec("below", "ANC", 500.0)
    for bad in ("auc_CD44", "auc:", "at:CD4", "below:ANC@x", "below:@500", "at:CD4@nan", "sideways:CD4"):
        with pytest.raises(KeyError, match="unknown endpoint"):
            parse(bad)


def test_generic_endpoints_by_hand():
    df = pd.DataFrame({"time": [0.0, 1.0, 2.0, 3.0], "ANC": [2000.0, 400.0, 600.0, 2000.0]})
    # below 500: 2000 -> 400 crosses at t = 1500/1600 = 0.9375, 400 -> 600 at t = 1.5
    assert evaluate("below:ANC@500", df) == pytest.approx(1.5 - 0.9375)
    assert evaluate("at:ANC@1.5", df) == pytest.approx(500.0)
    assert evaluate("nadir_day:ANC", df) == 1.0 and evaluate("tmax:ANC", df) == 0.0
    assert evaluate("auc:ANC", df) == pytest.approx(0.5 * (2400 + 1000 + 2600))
    assert missing("below:ANC@500", ["CD4"]) == ["ANC"] and missing("auc_CD4", ["CD4"]) == []


def test_defaults_and_consumers_read_the_registry():
    thymosim_outputs = list(default_model().outputs)
    defaults = defaults_for(thymosim_outputs)
    assert defaults == tuple(n for n, e in REGISTRY.items() if e.default)
    assert sensitivity.default_endpoints(named("prag_ta1")) == defaults
    assert defaults_for(["A", "B", "C", "D"]) == ("auc:A", "auc:B", "auc:C")
    assert available(["A", "B"]) == [] and set(available(thymosim_outputs)) == set(REGISTRY)
    assert set(agents.COLUMNS) <= set(REGISTRY)
    assert all(agents.COLUMNS[n] == REGISTRY[n].text for n in agents.COLUMNS)


def test_exposure_endpoints_need_the_scenario_and_are_zero_without_thymalfasin():
    scenario = named("cisplatin_vinorelbine")  # no thymalfasin
    df = scenario.simulate()
    with pytest.raises(ValueError, match="event-exact: it needs the scenario"):
        REGISTRY["ta1_cmax"](df)
    assert evaluate("ta1_cmax", df, scenario) == 0.0 and evaluate("ta1_auc", df, scenario) == 0.0
    assert not math.isnan(evaluate("lymphocyte_nadir", df, scenario))


def test_a_callable_is_an_endpoint():
    def spread(df):
        return float(df["x"].max() - df["x"].min())

    e = resolve(spread)
    assert e.name == "spread" and e(pd.DataFrame({"x": [1.0, 4.0]})) == 3.0
