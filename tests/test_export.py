"""Exported SBML with a scenario's doses reproduces thymosim's simulation on its own."""

import json
from collections import Counter
from pathlib import Path

import libsbml
import numpy as np
import pytest
import roadrunner

from thymosim.model import default_model, sbml_path
from thymosim.sbml.build import sbml_consistency
from thymosim.sbml.export import scenario_sbml
from thymosim.scenario import named


@pytest.mark.parametrize("name", ["cisplatin_vinorelbine_ta1", "prag_ta1_loading"])
def test_exported_events_reproduce_the_scenario(name):
    scenario = named(name)
    sbml = scenario_sbml(scenario)
    doc = libsbml.readSBMLFromString(sbml)
    assert doc.getModel().getNumEvents() == len(scenario.regimen.actions(scenario.patient.bsa))
    assert sbml_consistency(sbml) == Counter()  # units checked: event times in days, doses in ug/mg/MU
    ours = scenario.simulate(step=1.0, model=scenario.model.with_tolerances(1e-10, 1e-12, stiff=True))
    rr = roadrunner.RoadRunner(sbml)
    rr.getIntegrator().setValue("relative_tolerance", 1e-10)
    rr.getIntegrator().setValue("absolute_tolerance", 1e-12)
    columns = ["CD3", "CD4", "CD8", "NK", "IL2", "M1_M2", "ANC", "tumour_diameter"]
    ta1 = ["PK_depot", "PK_central", "PK_eliminated"]
    ids = [scenario.model.outputs[c].id for c in columns]  # output column -> model id (mature_DC_fraction -> f_mDC)
    result = rr.simulate(times=ours.time.to_numpy(), selections=["time"] + ids + ta1)
    theirs = np.asarray(result)[:, 1:len(columns) + 1]
    np.testing.assert_allclose(theirs[1:], ours[columns].to_numpy()[1:], rtol=1e-5, atol=1e-8)
    # each Ta1 dose event fired exactly once: the Ta1 mass equals the doses given by then
    given = scenario.regimen.administrations().query("drug == 'thymalfasin'")
    total = np.asarray(result)[:, len(columns) + 1:].sum(axis=1)
    expected = [1000.0 * given.amt[given.time <= t].sum() for t in ours.time]  # mg -> ug
    np.testing.assert_allclose(total, expected, rtol=1e-8, atol=1e-6)


def test_export_command_writes_sbml(tmp_path):
    from thymosim.cli import main

    main(["export", "sbml", "--out", str(tmp_path / "m.xml")])
    main(["export", "sbml", "--scenario", "prag", "--out", str(tmp_path / "prag.xml")])
    plain = libsbml.readSBMLFromFile(str(tmp_path / "m.xml")).getModel()
    prag = libsbml.readSBMLFromFile(str(tmp_path / "prag.xml")).getModel()
    assert plain.getNumEvents() == 0 and prag.getNumEvents() > 0
    triggers = {libsbml.formulaToL3String(prag.getEvent(i).getTrigger().getMath()) for i in range(prag.getNumEvents())}
    assert all(t.startswith("time >= ") for t in triggers)


@pytest.mark.crosstool
def test_level3_version1_export_is_consistent_and_simulates_identically(tmp_path):
    from thymosim.cli import main

    main(["export", "sbml", "--scenario", "prag_ta1", "--sbml-version", "3.1", "--out", str(tmp_path / "v1.xml")])
    main(["export", "sbml", "--scenario", "prag_ta1", "--out", str(tmp_path / "v2.xml")])
    v1 = (tmp_path / "v1.xml").read_text(encoding="utf-8")
    assert (libsbml.readSBMLFromString(v1).getLevel(), libsbml.readSBMLFromString(v1).getVersion()) == (3, 1)
    assert sbml_consistency(v1) == Counter()
    columns = ["time", "CD4", "CD8", "NK", "tumour_diameter", "C_TA1"]
    a = roadrunner.RoadRunner(v1).simulate(0, 60, 61, selections=columns)
    b = roadrunner.RoadRunner(str(tmp_path / "v2.xml")).simulate(0, 60, 61, selections=columns)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.crosstool
def test_copasi_warns_only_about_its_missing_miriam_list_whatever_the_uri_form(tmp_path):
    """COPASI (python-copasi in basico) calls every annotation resource unknown: it ships without its
    MIRIAM resource list. The same count comes for the identifiers.org form we write
    (https://identifiers.org/prefix:id), the old slash form and urn:miriam, so the warnings are
    COPASI's, not the annotations'; and nothing else is warned about (README, SBML and export)."""
    import re

    import basico
    import COPASI

    text = sbml_path().read_text(encoding="utf-8")
    counts = []
    for form in (r"https://identifiers.org/\1:\2", r"http://identifiers.org/\1/\2", r"urn:miriam:\1:\2"):
        path = tmp_path / "annotated.xml"
        path.write_text(re.sub(r"https://identifiers\.org/([A-Za-z.]+):([^\"]+)", form, text), encoding="utf-8")
        COPASI.CCopasiMessage.clearDeque()
        model = basico.load_model(str(path))
        log = COPASI.CCopasiMessage.getAllMessageText()
        basico.remove_datamodel(model)
        warnings = log.count(">WARNING")
        counts.append(log.count("is unknown"))
        assert counts[-1] > 0 and warnings <= counts[-1] + 8  # a header line per batch of messages
        assert "ERROR" not in log
    assert len(set(counts)) == 1, counts


@pytest.mark.crosstool
def test_copasi_reproduces_the_default_scenario_from_the_exported_sbml():
    """COPASI (basico) on the exported SBML matches thymosim for every output to 1e-4 relative;
    each dose event fires exactly once (the Ta1 mass balance closes on the number of doses)."""
    import basico

    scenario = named("cisplatin_vinorelbine_ta1")
    model = basico.load_model(scenario_sbml(scenario))
    basico.set_task_settings(basico.T.TIME_COURSE, {"method": {
        "Relative Tolerance": 1e-8, "Absolute Tolerance": 1e-10, "Max Internal Steps": 1000000}}, model=model)
    copasi = basico.run_time_course(duration=180, intervals=180, model=model, use_sbml_id=True).reset_index()
    ours = scenario.simulate(step=1.0)
    # the differences docs/guide/export.md quotes (python benchmarks/copasi_agreement.py --write)
    recorded = json.loads((Path(__file__).parents[1] / "benchmarks" / "results" / "copasi_agreement.json")
                          .read_text(encoding="utf-8"))["max_relative_difference"]
    assert set(recorded) == set(ours.columns.drop("time"))
    for column in ours.columns.drop("time"):
        theirs = copasi[default_model().outputs[column].id].to_numpy()
        mine = ours[column].to_numpy()
        scale = np.abs(mine).max() - np.abs(mine).min()
        np.testing.assert_allclose(theirs, mine, rtol=1e-4, atol=1e-6 * scale, err_msg=column)
        found = float(np.max(np.abs(theirs - mine) / np.maximum(np.abs(mine), 1e-300)))
        assert (recorded[column] / 3 <= found <= 3 * recorded[column] or max(found, recorded[column]) < 1e-7), \
            f"{column}: COPASI differs by {found:.1e}, the recorded {recorded[column]:.1e} is stale: rerun it"
    doses = len(scenario.regimen.administrations().query("drug == 'thymalfasin'"))
    total = copasi[["PK_depot", "PK_central", "PK_eliminated"]].iloc[-1].sum()
    assert total == pytest.approx(1600.0 * doses, rel=1e-9)
    basico.remove_datamodel(model)


def test_annotations_are_identifiers_org_uris_from_the_listed_namespaces():
    import re


    model = libsbml.readSBMLFromString(default_model().sbml).getModel()
    pattern = re.compile(r"^https://identifiers\.org/(CL:\d{7}|GO:\d{7}|CHEBI:\d+|uniprot:[A-Z0-9]{6})$")
    def uris(elements):
        return [term.getResourceURI(i) for e in elements for term in (e.getCVTerms() or [])
                for i in range(term.getNumResources())]

    species, reactions = uris(model.getListOfSpecies()), uris(model.getListOfReactions())
    assert len(species) >= 29 and len(reactions) >= 30
    assert not [u for u in species + reactions if not pattern.match(u)]
    assert all(u.startswith("https://identifiers.org/GO:") for u in reactions)  # processes
    annotated = {s.getId() for s in model.getListOfSpecies() if s.getCVTerms()}
    drugs = {"PK_depot", "PK_central", "CHEMO_cis", "CHEMO_ifo", "IT_ifna", "IT_gmcsf"}
    cells = {"TC_naive4", "TC_eff4", "TC_mem4", "TC_naive8", "TC_eff8", "TC_mem8", "TC_nk", "ANC",
             "MAC_m1", "MAC_m2", "DC_immature", "DC_mature"}
    assert drugs | cells | {"CK_il2", "CK_ifng", "CK_il12", "CK_il7", "CK_il10"} <= annotated
    # parameter sources: isDescribedBy the PMIDs, DOIs and PMC ids their table rows cite
    cited = re.compile(r"^https://identifiers\.org/(pubmed:\d+|doi:10\.\d{4,9}/\S+|pmc:PMC\d+)$")
    sources = uris(model.getListOfParameters())
    assert len(sources) >= 40 and all(cited.match(u) for u in sources)
    assert "https://identifiers.org/pubmed:30770905" in uris([model.getParameter("MAC_K_IL12")])


@pytest.mark.crosstool
def test_hierarchical_export_is_valid_and_flattens_to_the_same_model(tmp_path):
    from thymosim.cli import main

    main(["export", "sbml-comp", "--out", str(tmp_path / "comp.xml")])
    doc = libsbml.readSBMLFromFile(str(tmp_path / "comp.xml"))
    modules = len(list((sbml_path().parent / "modules").glob("*.ant")))  # one submodel per module file
    assert doc.isPackageEnabled("comp") and doc.getModel().getPlugin("comp").getNumSubmodels() == modules == 10
    # units checked in every model definition: no error and no unit warning; what remains are
    # modelling-practice notes on module inputs (ports) that have no value of their own (80702, 80601)
    # and comp's note that it cannot report line numbers (1090106)
    report = sbml_consistency(libsbml.writeSBMLToString(doc))
    assert {code for _, code in report} <= {80702, 80601, 1090106}
    assert all(severity == libsbml.LIBSBML_SEV_WARNING for severity, _ in report)
    cells = doc.getPlugin("comp").getModelDefinition("tcells")
    assert cells.getSpecies("naive4").getSubstanceUnits() == "cells"
    assert cells.getParameter("d_N4").getUnits() == "per_day" and cells.getParameter("d_N4").getSBOTermID()
    options = libsbml.ConversionProperties()
    options.addOption("flatten comp", True)
    assert doc.convert(options) == libsbml.LIBSBML_OPERATION_SUCCESS
    assert sbml_consistency(libsbml.writeSBMLToString(doc)) == Counter()  # flattened: units consistent
    flattened, flat = roadrunner.RoadRunner(libsbml.writeSBMLToString(doc)), roadrunner.RoadRunner(default_model().sbml)
    columns = ["time", "CD4", "CD8", "NK", "IL2", "f_mDC", "M1_M2", "C_TA1"]
    for rr in (flattened, flat):  # the same perturbation: one Ta1 dose in the SC depot
        # tight tolerances: the two files order their states differently, and at roadrunner's default
        # tolerances that alone moves M1/M2 by 2e-6 relative
        rr.getIntegrator().setValue("relative_tolerance", 1e-10)
        rr.getIntegrator().setValue("absolute_tolerance", 1e-12)
        depot = next(s for s in rr.model.getFloatingSpeciesIds() if s.startswith("PK_") and s.endswith("depot"))
        rr.setValue(depot, 1600.0)
    a = flattened.simulate(0, 30, 31, selections=columns)
    b = flat.simulate(0, 30, 31, selections=columns)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


@pytest.mark.crosstool
def test_omex_archive_is_valid_sedml_and_tellurium_reproduces_our_report(tmp_path):
    import libcombine
    import libsedml
    import tellurium as te

    from thymosim.cli import main

    path = tmp_path / "arms.omex"
    main(["export", "omex", "--scenario", "cisplatin_vinorelbine", "--scenario", "prag_ta1", "--out", str(path)])
    archive = libcombine.CombineArchive()
    assert archive.initializeFromArchive(str(path))
    names = {archive.getEntry(i).getLocation() for i in range(archive.getNumEntries())}
    assert {"cisplatin_vinorelbine.xml", "prag_ta1.xml", "simulation.sedml", "parameters.tsv"} <= names
    sedml = libsedml.readSedMLFromString(archive.extractEntryToString("simulation.sedml"))
    assert (sedml.getLevel(), sedml.getVersion()) == (1, 4)
    assert sedml.getErrorLog().getNumFailsWithSeverity(libsedml.LIBSEDML_SEV_ERROR) == 0
    assert omex_problems(path, tmp_path / "unpacked") == ([], [])
    results = next(iter(te.executeCombineArchive(str(path)).values()))["dataGenerators"]
    for name in ("cisplatin_vinorelbine", "prag_ta1"):
        ours = named(name).simulate()
        for var in ("CD4", "CD8", "NK", "tumour_diameter"):
            theirs = np.asarray(results[f"{name}_{var}"]).ravel()
            np.testing.assert_allclose(theirs, ours[var].to_numpy(), rtol=1e-4, err_msg=f"{name} {var}")


def omex_problems(path, workdir) -> tuple[list, list]:
    """(errors, warnings) of BioSimulators' COMBINE/SED-ML validation: manifest and formats,
    SED-ML semantics (references, XPath targets resolved in the SBML), and each SBML model."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its import and L1V4 feature notes
        from biosimulators_utils.combine.io import CombineArchiveReader
        from biosimulators_utils.combine.validation import validate

        archive = CombineArchiveReader().run(str(path), str(workdir))
        return validate(archive, str(workdir))


@pytest.mark.crosstool
def test_omex_validation_catches_a_broken_target(tmp_path):
    """The check above can fail: a SED-ML variable pointing at a missing model id is an error."""
    import zipfile

    from thymosim.cli import main

    path, bad = tmp_path / "one.omex", tmp_path / "bad.omex"
    main(["export", "omex", "--scenario", "prag", "--out", str(path)])
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bad, "w") as target:
        for name in source.namelist():
            text = source.read(name)
            if name == "simulation.sedml":
                text = text.replace(b"&apos;CD4&apos;", b"&apos;no_such_id&apos;")
            target.writestr(name, text)
    errors, _ = omex_problems(bad, tmp_path / "unpacked")
    assert errors and "no_such_id" in str(errors)


def test_exported_sbml_imports_back_into_thymosim(tmp_path):
    """Round trip: the exported file drives thymosim identically; an edit made in the file acts
    like the same parameter override on the committed model."""
    from thymosim import Patient, simulate
    from thymosim.cli import main

    regimen = named("cisplatin_vinorelbine_ta1").regimen
    tight = {"rtol": 1e-10, "atol": 1e-12, "stiff": True}  # differences between runners stay below 1e-8
    model = default_model().with_tolerances(**tight)
    reference = simulate(Patient(), regimen, horizon=60, step=1, model=model)
    doubled_cl = simulate(Patient(parameters={"PK_CL": 2 * 76.33}), regimen, horizon=60, step=1, model=model)
    main(["export", "sbml", "--out", str(tmp_path / "m.xml")])
    doc = libsbml.readSBMLFromFile(str(tmp_path / "m.xml"))
    doc.getModel().getParameter("PK_CL").setValue(2 * 76.33)
    libsbml.writeSBMLToFile(doc, str(tmp_path / "edited.xml"))
    exported, edited_file = model.with_sbml(tmp_path / "m.xml"), model.with_sbml(tmp_path / "edited.xml")
    assert exported == model  # the same text: the same model
    again = simulate(Patient(), regimen, horizon=60, step=1, model=exported)
    edited = simulate(Patient(), regimen, horizon=60, step=1, model=edited_file)
    np.testing.assert_array_equal(again.to_numpy(), reference.to_numpy())
    np.testing.assert_allclose(edited.to_numpy(), doubled_cl.to_numpy(), rtol=1e-7)


@pytest.mark.crosstool
def test_petab_export_passes_petablint_and_matches_the_table(tmp_path):
    import petab.v1 as petab

    from thymosim.cli import main
    from thymosim.tables import load_parameter_table

    main(["export", "petab", "--out", str(tmp_path)])
    problem = petab.Problem.from_yaml(str(tmp_path / "problem.yaml"))
    assert not petab.lint_problem(problem)  # lint_problem returns True when it finds errors
    table = load_parameter_table()
    exported = problem.parameter_df
    assert set(exported.index) == set(table.index)
    assert set(exported.index[exported.estimate == 1]) == {"PK_ka", "PK_CL", "PK_V", "DC_E_NFkB"}
    assert (exported.loc[table.index, "nominalValue"].to_numpy() == table.value.to_numpy()).all()
    assert len(problem.measurement_df) == 3 and set(problem.observable_df.index) >= {"obs_ta1_plasma", "obs_CD4"}


@pytest.mark.crosstool
def test_petab_conditions_reproduce_thymosims_calibration_simulations(tmp_path):
    """Simulating the PEtab model under each condition (as a PEtab tool would) gives what
    thymosim's calibration computes: the single-dose PK and the ETASS DC-maturation shift."""
    from thymosim.analysis.calibration import DC_TARGETS, dc_maturation_shift
    from thymosim.cli import main

    main(["export", "petab", "--out", str(tmp_path)])
    rr = roadrunner.RoadRunner(str(tmp_path / "model.xml"))
    rr.getIntegrator().setValue("relative_tolerance", 1e-10)
    rr.getIntegrator().setValue("absolute_tolerance", 1e-12)
    rr["PK_depot"], rr["ta1_q12h_dose"] = 1600.0, 1600.0  # the ETASS condition
    days = list(DC_TARGETS)
    result = rr.simulate(times=[0.0] + days, selections=["time", "f_mDC", "DC_f_mDC_0", "PK_eliminated", "PK_central",
                                                          "PK_depot"])
    shift = result["f_mDC"][1:] - result["DC_f_mDC_0"][1:]
    np.testing.assert_allclose(shift, dc_maturation_shift(default_model().defaults["DC_E_NFkB"]), rtol=1e-5)
    doses_by_day7 = 14  # q12h from t = 0: the last one at 6.5 days
    amount = result["PK_eliminated"][-1] + result["PK_central"][-1] + result["PK_depot"][-1]
    assert amount == pytest.approx(1600.0 * doses_by_day7, rel=1e-8)
