"""Regimen algebra: combination, shifts, addl/until edges, equal spellings, units."""

import pytest

from thymosim.regimen import Dose, Regimen

TA1 = Dose("thymalfasin", "1.6 mg", ii="3.5 day", addl=3)
CIS = Dose("cisplatin", "80 mg/m2", dur="1 h")


def test_equal_spellings_give_equal_doses_and_regimens():
    assert Dose("thymalfasin", 1.6) == Dose("thymalfasin", "1600 ug") == Dose("thymalfasin", 1600, "µg")
    assert Dose("thymalfasin", 1.6, ii=3.5, addl=3) == Dose("thymalfasin", 1.6, ii="84 h", until="14 day")
    assert Dose("cisplatin", 80, "mg/m2", dur=1 / 24) == Dose("cisplatin", "80 mg/m2", rate="80 mg/h")
    assert Dose("thymalfasin", 1.6, time="1 week") == Dose("thymalfasin", 1.6, time=7)
    # four single doses == one record with addl = 3
    singles = Regimen(tuple(Dose("thymalfasin", 1.6, time=3.5 * k) for k in range(4)))
    assert singles == Regimen((TA1,))
    assert Regimen((TA1, CIS)) == Regimen((CIS, TA1))


def test_until_is_exclusive_and_addl_edges():
    assert Dose("thymalfasin", 1.6, ii=3.5, until=14).times == [0, 3.5, 7, 10.5]
    assert Dose("thymalfasin", 1.6, ii=3.5, until=14.01).times == [0, 3.5, 7, 10.5, 14]
    assert Dose("thymalfasin", 1.6, time=2, ii=3.5, until=2.1).times == [2]
    assert Dose("thymalfasin", 1.6, addl=0).times == [0]
    assert Dose("thymalfasin", 1.6, ii=5).ii == 0  # an interval without repeats is dropped
    with pytest.raises(ValueError, match="addl"):
        Dose("thymalfasin", 1.6, ii=1, addl=2, until=10)
    with pytest.raises(ValueError, match="until"):
        Dose("thymalfasin", 1.6, time=5, ii=1, until=5)


def test_concurrent_sequential_and_shift():
    both = Regimen((TA1,)) + CIS
    assert len(both.administrations()) == 5
    shifted = Regimen((TA1,)).shift("2 day")
    assert shifted.administrations().time.tolist() == [2, 5.5, 9, 12.5]
    after = Regimen((CIS,)).then(Regimen((TA1,)), gap=1)  # CIS ends at 1/24 day
    assert after.administrations().query("drug == 'thymalfasin'").time.iloc[0] == pytest.approx(1 + 1 / 24)
    chained = Regimen((TA1,)).then(TA1)  # second block starts one interval after the last dose
    assert chained == Regimen((Dose("thymalfasin", 1.6, ii=3.5, addl=7),))
    assert Regimen((TA1,)).shift(3).shift(-3) == Regimen((TA1,))


def test_event_table_is_nonmem_like():
    table = (Regimen((TA1,)) + CIS).to_frame()
    assert list(table.columns) == ["TIME", "DRUG", "CMT", "AMT", "UNIT", "EVID", "II", "ADDL", "RATE", "DUR", "ROUTE"]
    cis = table[table.DRUG == "cisplatin"].iloc[0]
    assert cis.UNIT == "mg/m2" and cis.RATE == pytest.approx(80 * 24) and cis.ROUTE == "iv"
    ta1 = table[table.DRUG == "thymalfasin"].iloc[0]
    assert (ta1.AMT, ta1.II, ta1.ADDL, ta1.CMT, ta1.EVID) == (1.6, 3.5, 3, "PK_depot", 1)


def test_body_surface_area_scales_per_m2_doses():
    actions = Regimen((CIS,)).actions(bsa=2.0)
    assert actions[0] == (0.0, "CHEMO_cis_rate", pytest.approx(160 * 24))
    assert actions[1][2] == pytest.approx(-160 * 24)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"amt": "1.6 mL"}, "unit"),
        ({"amt": "1.6 Gy"}, "unit"),
        ({"amt": -1}, "amt"),
        ({"amt": "lots"}, "amt"),
        ({"time": "3 parsecs"}, "time"),
        ({"ii": -1, "addl": 2}, "ii"),
        ({"ii": 0, "addl": 2}, "ii"),
        ({"addl": 1.5}, "addl"),
        ({"route": "iv"}, "route"),
        ({"dur": "1 h"}, "dur"),
    ],
)
def test_malformed_dose_names_the_field(kwargs, key):
    with pytest.raises(ValueError, match=f"^{key}"):
        Dose("thymalfasin", **({"amt": 1.6} | kwargs))


def test_a_vanishing_interval_with_until_is_a_clear_error():
    """Found by the junk-value fuzzing: ii = 2.2e-313 with until overflowed (OverflowError)."""
    import pytest

    with pytest.raises(ValueError, match=r"^ii: .* gives inf doses; allowed: at most 100001"):
        Dose("thymalfasin", 1.6, ii=2.2250738585e-313, until=10)


@pytest.mark.parametrize("typed, drug", [("Zadaxin", "thymalfasin"), ("thymosin alpha-1", "thymalfasin"),
                                         ("Keytruda", "pd1_inhibitor"), ("nivolumab", "pd1_inhibitor"),
                                         ("Navelbine", "vinorelbine"), ("sargramostim", "gm_csf")])
def test_brand_names_and_inns_from_the_drug_table(typed, drug):
    assert Dose(typed, "200 mg" if drug == "pd1_inhibitor" else "1.6 mg").drug == drug


def test_named_pd1_antibodies_are_the_same_doses_as_the_generic_one():
    """Pembrolizumab 200 mg q3w and the generic PD-1 inhibitor at that dose are one regimen."""
    pembro = Dose("pembrolizumab", "200 mg", ii="21 day", addl=3, dur="30 min")
    assert pembro == Dose("pd1_inhibitor", "200 mg", ii="21 day", addl=3, dur="30 min")


def test_a_synonym_names_one_drug_only_and_unknown_names_are_refused():
    from thymosim.model import default_model
    from thymosim.regimen import _drug_key

    owners = {}
    for drug in default_model().drugs.values():
        for name in (drug.name, *drug.synonyms):
            owners.setdefault(_drug_key(name), set()).add(drug.name)
    assert all(len(v) == 1 for v in owners.values()), {k: v for k, v in owners.items() if len(v) > 1}
    with pytest.raises(ValueError, match="unknown drug 'Tylenol'"):
        Dose("Tylenol", "1 mg")
