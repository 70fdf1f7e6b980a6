"""Committed SBML: in sync with the Antimony and the table, valid, every module loads alone."""

from collections import Counter

import libsbml
import numpy as np
import pytest
import roadrunner

from thymosim.model import default_model, model_dir
from thymosim.sbml.build import antimony_to_sbml, build_sbml, set_parameter_values
from thymosim.sbml.build import sbml_consistency as consistency
from thymosim.tables import load_parameter_table


def test_committed_sbml_is_in_sync_with_antimony_and_table():
    assert default_model().sbml == build_sbml(), "models/thymosim.xml is stale: run python -m thymosim.sbml.build"


def test_sbml_is_level3_version2_flat():
    doc = libsbml.readSBMLFromString(default_model().sbml)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    assert doc.getNumPlugins() == 0 or not doc.isPackageEnabled("comp")
    assert doc.getModel().getTimeUnits() == "day"


def test_sbml_is_consistent_with_units_checked_no_errors_no_warnings():
    assert consistency(default_model().sbml) == Counter()


def test_unit_checks_catch_a_wrong_unit():
    """The check above can fail: one rate constant declared in mm breaks unit consistency."""
    doc = libsbml.readSBMLFromString(default_model().sbml)
    doc.getModel().getParameter("TC_d_N4").setUnits("mm")
    counts = consistency(libsbml.writeSBMLToString(doc))
    assert counts and all(severity == libsbml.LIBSBML_SEV_WARNING for severity, _ in counts)


def test_every_entity_has_units_and_an_sbo_term():
    model = libsbml.readSBMLFromString(default_model().sbml).getModel()
    assert model.getExtentUnits() == "dimensionless"
    for c in model.getListOfCompartments():
        assert c.isSetUnits() and libsbml.SBO.isPhysicalEntityRepresentation(c.getSBOTerm()), c.getId()
    for s in model.getListOfSpecies():
        assert s.isSetSubstanceUnits() and libsbml.SBO.isMaterialEntity(s.getSBOTerm()), s.getId()
    for r in model.getListOfReactions():
        assert libsbml.SBO.isOccurringEntityRepresentation(r.getSBOTerm()), r.getId()
    for p in model.getListOfParameters():
        assert p.isSetUnits() and libsbml.SBO.isSystemsDescriptionParameter(p.getSBOTerm()), p.getId()


MODULES = ["ta1_pk", "dc_signalling", "cytokines", "tcells", "macrophages", "chemotherapy", "tumour",
           "immunotherapy", "radiotherapy"]


@pytest.mark.parametrize("module", MODULES)
def test_each_module_loads_and_simulates_on_its_own(module):
    """Each module file compiles alone; its harness (constant inputs) sits at steady state."""
    path = model_dir() / "modules" / f"{module}.ant"
    main = f"{module}_alone"
    doc = libsbml.readSBMLFromString(antimony_to_sbml(main, path))
    set_parameter_values(doc.getModel(), load_parameter_table(), require_all=False)  # values: the table's
    rr = roadrunner.RoadRunner(libsbml.writeSBMLToString(doc))
    rr.getIntegrator().setValue("relative_tolerance", 1e-10)
    tumour = ["TUM_V_sens", "TUM_V_res", "TUM_V_dead"] if module == "tumour" else []
    states = list(rr.model.getFloatingSpeciesIds()) + tumour
    result = rr.simulate(0, 30, 31, selections=["time"] + states)
    values = result[:, 1:]
    assert np.isfinite(values).all()
    if module == "tumour":  # every tumour compartment grows at the untreated net rate
        np.testing.assert_allclose(values[-1], values[0] * np.exp(30 * rr["TUM_g_net"]), rtol=1e-6)
    else:
        np.testing.assert_allclose(values[-1], values[0], rtol=1e-6, atol=1e-12)


def test_cited_sources_become_identifiers_org_uris():
    from thymosim.sbml.build import source_uris

    assert source_uris("platinum doublet (Campian 2013 doi:10.3109/07357907.2013.767342), decline") == [
        "https://identifiers.org/doi:10.3109/07357907.2013.767342"]
    assert source_uris("QSPIO (Altan-Bonnet 2019 PMID 30770905); PMC321350 Table 3.") == [
        "https://identifiers.org/pubmed:30770905", "https://identifiers.org/pmc:PMC321350"]
    assert source_uris("(Int J Immunopharmacol, doi:10.1016/0192-0561(89)90133-1)") == [
        "https://identifiers.org/doi:10.1016/0192-0561(89)90133-1"]
    assert source_uris("assumed; biology.md 2") == []


def test_the_flat_antimony_is_current():
    from thymosim.sbml.build import flat_antimony, flat_path

    assert flat_path().read_text(encoding="utf-8") == flat_antimony(default_model().sbml), (
        "models/thymosim_flat.ant is stale: run python -m thymosim.sbml.build")


@pytest.mark.crosstool
def test_tellurium_loads_the_flat_antimony_and_simulates_like_the_sbml():
    """What tellurium users try first (te.loada on an .ant file) works on thymosim_flat.ant."""
    import tellurium as te

    from thymosim.sbml.build import flat_path

    ours, theirs = roadrunner.RoadRunner(default_model().sbml), te.loada(flat_path().read_text(encoding="utf-8"))
    columns = ["time", "CD4", "NK", "IL2", "C_TA1", "tumour_diameter"]
    for rr in (ours, theirs):
        rr.getIntegrator().setValue("relative_tolerance", 1e-10)
        rr.setValue("PK_depot", 1600.0)  # one Ta1 dose in the SC depot
    a, b = ours.simulate(0, 30, 31, selections=columns), theirs.simulate(0, 30, 31, selections=columns)
    np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-6)


def test_the_sbml_calls_the_reported_blood_counts_cd4_cd8_cd3():
    """A user of the exported SBML reads CD4, CD8 and CD3 as the counts thymosim reports (blood),
    the whole pools being CD4_lymphoid and CD8_lymphoid."""
    from thymosim import Dose, Patient, Regimen, simulate

    tight = default_model().with_tolerances(1e-10, 1e-12, stiff=True)
    ours = simulate(Patient(), Regimen((Dose("thymalfasin", 1.6, "mg"),)), horizon=30, step=1, model=tight)
    rr = roadrunner.RoadRunner(default_model().sbml)
    rr.getIntegrator().setValue("relative_tolerance", 1e-10)
    rr.setValue("PK_depot", 1600.0)  # the same dose, 1.6 mg = 1600 ug in the SC depot at time 0
    theirs = rr.simulate(0, 30, 31, selections=["time", "CD4", "CD8", "CD3", "CD4_lymphoid", "TC_share"])
    for name in ("CD4", "CD8", "CD3"):
        assert tight.outputs[name].id == name
        np.testing.assert_allclose(theirs[name], ours[name].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(theirs["CD4"], theirs["CD4_lymphoid"] * theirs["TC_share"], rtol=1e-12)
    twice_weekly = simulate(Dose("thymalfasin", 1.6, "mg", ii=3.5, addl=51), horizon=180, step=30,
                            extra=["CD4_lymphoid", "TC_share"])
    np.testing.assert_allclose(twice_weekly.CD4, twice_weekly.CD4_lymphoid * twice_weekly.TC_share, rtol=1e-12)
    assert twice_weekly.TC_share.iloc[-1] > 1.1  # the blood share moved: the reported count is not the pool


def test_every_species_parameter_reaction_and_compartment_has_a_name():
    document = libsbml.readSBMLFromString(default_model().sbml)
    model = document.getModel()
    listings = (model.getListOfSpecies(), model.getListOfParameters(), model.getListOfReactions(),
                model.getListOfCompartments())
    unnamed = [e.getId() for listing in listings for e in listing if not e.getName().strip()]
    assert not unnamed
    table = load_parameter_table()
    for pid in table.index[:20]:
        assert model.getParameter(pid).getName() == table.description[pid]
    assert "blood" in model.getParameter("CD4").getName() and "pool" in model.getParameter("CD4_lymphoid").getName()
