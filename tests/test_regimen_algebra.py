"""Regimens as people write them: Dose + Dose, Regimen(dose), then, cycles, absolute until,
unit and drug-name spellings, horizon/step strings in simulate()."""

import pickle

import pytest

from thymosim import Dose, Regimen, simulate, units
from thymosim.scenario import named

TA1_180 = Dose("thymalfasin", "1.6 mg", ii="3.5 day", until="180 day")
LOADING = Dose("thymalfasin", "3.2 mg", ii="1 day", addl=6)  # days 0..6
CIS = Dose("cisplatin", "80 mg/m2", dur="1 h")
VNR = Dose("vinorelbine", "30 mg/m2", dur="10 min")


def times(regimen, drug=None):
    table = regimen.administrations()
    return (table if drug is None else table[table.drug == drug]).time.tolist()


# --- combination -------------------------------------------------------------------------------
def test_doses_and_regimens_add_in_every_combination():
    both = CIS + VNR
    assert isinstance(both, Regimen) and both == Regimen((CIS, VNR))
    assert both + LOADING == Regimen((CIS, VNR, LOADING)) == CIS + Regimen((VNR, LOADING))
    assert (CIS + VNR) + (LOADING + TA1_180) == Regimen((CIS, VNR, LOADING, TA1_180))
    assert sum([CIS, VNR, LOADING]) == Regimen((CIS, VNR, LOADING))
    assert sum([Regimen(CIS), VNR]) == CIS + VNR
    with pytest.raises(TypeError):
        CIS + 1


def test_regimen_accepts_a_single_dose_several_and_iterables():
    assert Regimen(CIS).doses == (CIS,)
    assert Regimen(CIS, VNR) == Regimen((CIS, VNR)) == Regimen([CIS, VNR]) == Regimen(doses=(CIS, VNR))
    assert Regimen(Regimen(CIS), VNR) == CIS + VNR
    assert Regimen().doses == () and Regimen(()).doses == ()
    with pytest.raises(TypeError, match="is not a Dose"):
        Regimen("cisplatin")
    with pytest.raises(TypeError, match="is not a Dose"):
        Regimen([CIS, 3])


def test_regimens_built_the_new_ways_pickle():
    arm = CIS + LOADING.then(TA1_180)
    assert pickle.loads(pickle.dumps(arm)) == arm


# --- then --------------------------------------------------------------------------------------
def test_dose_then_starts_one_interval_after_the_last_administration():
    chained = LOADING.then(Dose("thymalfasin", "1.6 mg", ii=3.5, addl=2))
    assert times(chained) == [0, 1, 2, 3, 4, 5, 6, 7, 10.5, 14]  # loading's last dose day 6 + ii 1 day
    assert LOADING.then(CIS) == Regimen(LOADING).then(Regimen(CIS))
    gap = LOADING.then(CIS, gap="2 day")
    assert times(gap, "cisplatin") == [9]
    single = CIS.then(VNR)  # a single infusion ends when it stops
    assert times(single, "vinorelbine") == [pytest.approx(1 / 24)]
    assert times(Dose("thymalfasin", 1.6).then(Dose("thymalfasin", 1.6))) == [0, 0]  # a bolus ends at its time


def test_until_stays_absolute_through_then():
    """loading.then(ta1 until day 180): ta1 from day 7, last dose before day 180 (was 185.5)."""
    arm = LOADING.then(TA1_180)
    ta1 = times(arm, "thymalfasin")[7:]
    assert ta1[0] == 7 and max(ta1) <= 180 and max(ta1) == 178.5
    assert len(ta1) == 50  # 7, 10.5, ..., 178.5
    assert Regimen(LOADING).then(Regimen(TA1_180)) == arm


def test_until_stays_absolute_through_shifts_and_addl_moves():
    shifted = TA1_180.shift(10)
    assert shifted.times[0] == 10 and shifted.times[-1] < 180 and shifted.until == 180
    assert TA1_180.shift(10).shift(-10).times == TA1_180.times
    counted = Dose("thymalfasin", "1.6 mg", ii=3.5, addl=51)  # same doses from day 0 ...
    assert counted == TA1_180
    assert counted.shift(7).times[-1] == 185.5  # ... but a count moves with the dose
    single = Dose("thymalfasin", 1.6, time=10, ii=3.5, until=12)  # one dose now, two when moved earlier
    assert single.times == [10] and single.shift(-5).times == [5, 8.5]
    with pytest.raises(ValueError, match=r"^until: .*absolute"):
        TA1_180.shift(180)
    with pytest.raises(ValueError, match=r"^until: "):
        LOADING.then(TA1_180, gap=200)


# --- cycles ------------------------------------------------------------------------------------
def test_cycles_give_the_records_written_by_hand():
    hand = named("cisplatin_vinorelbine").regimen
    cycled = CIS.cycle(every="21 day", cycles=4) + VNR.cycle(days=[1, 8, 15], every="3 week", cycles=4)
    assert cycled == hand
    assert cycled.actions(bsa=1.8) == hand.actions(bsa=1.8)
    assert cycled.end() == 84  # four 21-day cycles, not day 15 of the last cycle + 21 (= 98)
    assert hand.end() == 98
    by_until = VNR.cycle(days=[1, 8, 15], every=21, until="84 day")
    assert by_until == VNR.cycle(days=[1, 8, 15], every=21, cycles=4)
    later = Dose("vinorelbine", "30 mg/m2", time=5, dur="10 min").cycle([1, 8], every=21, cycles=2)
    assert times(later) == [5, 12, 26, 33]


def test_then_after_cycles_starts_when_the_last_cycle_ends():
    chemo = CIS.cycle(every=21, cycles=4) + VNR.cycle([1, 8, 15], every=21, cycles=4)
    arm = chemo.then(Dose("thymalfasin", "1.6 mg", ii=3.5, until="180 day"))
    ta1 = times(arm, "thymalfasin")
    assert ta1[0] == 84 and max(ta1) < 180
    assert chemo.shift(7).end() == 91


@pytest.mark.parametrize("kwargs, key", [
    ({"every": None, "cycles": 4}, "every"),
    ({"every": "0 day", "cycles": 4}, "every"),
    ({"every": 21}, "cycles"),
    ({"every": 21, "cycles": 2, "until": 50}, "cycles"),
    ({"every": 21, "cycles": 0}, "cycles"),
    ({"every": 21, "cycles": 2.5}, "cycles"),
    ({"every": 21, "cycles": 2, "days": [0]}, "days"),
    ({"every": 21, "cycles": 2, "days": [23]}, "days"),
    ({"every": 21, "cycles": 2, "days": []}, "days"),
    ({"every": 21, "cycles": 2, "days": "1, 8"}, "days"),
])
def test_malformed_cycles_name_the_field(kwargs, key):
    with pytest.raises(ValueError, match=f"^{key}"):
        VNR.cycle(**kwargs)


def test_only_single_administrations_cycle():
    with pytest.raises(ValueError, match="^cycle: .*one administration"):
        LOADING.cycle(every=21, cycles=2)


# --- spellings ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [
    ("1 hr", 1 / 24), ("2 hrs", 2 / 24), ("1 hour", 1 / 24), ("3 hours", 3 / 24), ("1h", 1 / 24),
    ("90 minutes", 90 / 1440), ("30 min", 30 / 1440), ("30 mins", 30 / 1440), ("1 minute", 1 / 1440),
    ("1 wk", 7), ("2 wks", 14), ("2 weeks", 14), ("1 Week", 7), ("3 days", 3), ("1 d", 1),
    ("6 months", 6 * 30.4375), ("1 month", 30.4375), ("1 yr", 365.25), ("2 years", 730.5),
    ("86400 s", 1), ("60 sec", 60 / 86400),
])
def test_time_unit_synonyms(text, value):
    assert units.days(text) == pytest.approx(value)


def test_a_month_is_a_mean_calendar_month():
    assert units.MONTH_DAYS == 30.4375 and units.days("12 months") == units.days("1 year") == 365.25


@pytest.mark.parametrize("text", ["3 parsecs", "1 m", "2 fortnights", "1 ms"])
def test_unknown_time_units_are_errors_listing_the_allowed(text):
    with pytest.raises(ValueError, match="is not a time; allowed: s, min, h .*month"):
        units.days(text)


def test_durations_in_doses_take_the_synonyms():
    assert Dose("cisplatin", "80 mg/m2", dur="1 hr") == CIS
    assert Dose("thymalfasin", 1.6, ii="1 wk", until="6 months").times[-1] == 182
    assert Dose("cisplatin", "80 mg/m2", rate="80 mg/hr") == CIS


@pytest.mark.parametrize("name", ["Thymalfasin", "THYMALFASIN", "ThymAlfasin", "thymalfasin"])
def test_drug_names_are_case_insensitive(name):
    dose = Dose(name, "1.6 mg")
    assert dose.drug == "thymalfasin" and dose == Dose("thymalfasin", "1.6 mg")


def test_drug_names_ignore_separators():
    assert Dose("GM-CSF", "150 ug").drug == "gm_csf"
    assert Dose("PD-1 inhibitor", "200 mg").drug == "pd1_inhibitor"
    assert Dose("IFN alpha", "3 MU").drug == "ifn_alpha"
    assert Dose("zadaxin", "1.6 mg").drug == "thymalfasin"  # a brand name from the table, any case
    with pytest.raises(ValueError, match="^drug: unknown drug 'zadaxn'; allowed: thymalfasin"):
        Dose("zadaxn", "1.6 mg")


@pytest.mark.parametrize("kwargs", [{"amt": "2 mg/kg"}, {"amt": 2, "unit": "mg/kg"}, {"amt": "2000 ug/kg"}])
def test_per_kg_doses_are_per_kg_of_body_weight(kwargs):
    dose = Dose("cisplatin", **kwargs)
    assert dose.per_weight and not dose.per_bsa and dose.amt == 2.0 and dose.unit == "mg" and dose.per_unit == "/kg"
    assert dose == Dose("cisplatin", "2 mg/kg") != Dose("cisplatin", "2 mg")


@pytest.mark.parametrize("kwargs", [{"amt": "2 Gy/kg"}, {"amt": 2, "unit": "Gy/kg"}, {"amt": 2, "per_weight": True}])
def test_a_per_kg_radiation_dose_is_an_error_naming_the_unit(kwargs):
    with pytest.raises(ValueError, match=r"^unit: .*per kg of body weight"):
        Dose("radiotherapy", **kwargs)


# --- simulate ----------------------------------------------------------------------------------
def test_simulate_takes_horizon_and_step_strings():
    regimen = Regimen(Dose("thymalfasin", "1.6 mg", ii="3.5 day", addl=3))
    written = simulate(regimen=regimen, horizon="2 week", step="6 h", outputs=["CD4", "ta1_plasma"])
    numbers = simulate(regimen=regimen, horizon=14, step=0.25, outputs=["CD4", "ta1_plasma"])
    assert written.time.iloc[-1] == 14 and len(written) == 57
    assert written.equals(numbers)


@pytest.mark.parametrize("kwargs, name", [
    ({"horizon": "2 fortnights"}, "horizon"), ({"step": "6 hz"}, "step"), ({"horizon": True}, "horizon"),
    ({"step": [1]}, "step"), ({"horizon": "soon"}, "horizon"),
])
def test_simulate_names_a_bad_horizon_or_step(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}: .*allowed: a number of days or a time string \\(s, min, h"):
        simulate(**kwargs)


def test_a_steady_state_dose_keeps_its_interval_and_ss_through_shift_then_and_cycle():
    at_ss = Dose("thymalfasin", "1.6 mg", ii="3.5 day", ss=True)  # one administration, at steady state
    assert at_ss.ii == 3.5 and at_ss.end() == 3.5 and at_ss.shift(2).ss
    assert times(at_ss.then(CIS), "cisplatin") == [3.5]
    cycled = Dose("cisplatin", "80 mg/m2", dur="1 h", ii=21, ss=True).cycle([1, 8], every="21 day", cycles=2)
    assert all(d.ss and d.ii == 21 for d in cycled.doses)
    with pytest.raises(ValueError, match="^dur: .* exceeds the dosing interval"):
        Dose("cisplatin", "80 mg/m2", dur="2 day", ii=1, ss=True)
