"""Export: the flat SBML, optionally with a scenario's patient values and doses written into it
as SBML events, so the file alone reproduces the scenario in any SBML tool; COMBINE/OMEX
archives with SED-ML; PEtab problems. (The hierarchical comp form: :mod:`thymosim.sbml.comp`.)

Each administration becomes its own event with a ``time >= t`` trigger (never
``time == t``, which simulators can skip; one event per dose, because some tools
mishandle self-rescheduling events). A bolus adds its amount to the dose species;
an infusion adds amount/duration to its rate input at the start and removes it at
the end. A count-guided scenario's rules become visit events and conditional doses
(:mod:`thymosim.sbml.guided`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import libsbml

from thymosim.model import Model, default_model
from thymosim.sbml.guided import add_guided_events
from thymosim.scenario import Scenario
from thymosim.tables import calibration_targets


def scenario_sbml(scenario: Scenario) -> str:
    """The scenario's model as flat SBML with its patient values and one event per dose action;
    a count-guided scenario's rules as visit events and conditional doses
    (:mod:`thymosim.sbml.guided`)."""
    document = libsbml.readSBMLFromString(scenario.model.sbml)
    model = document.getModel()
    defaults = scenario.model.defaults
    for pid, value in scenario.model.values(scenario.patient).items():
        if value != defaults[pid]:
            model.getParameter(pid).setValue(float(value))
    model.setId(f"{_sid(scenario.model.name)}_{_sid(scenario.name)}")
    patient = scenario.patient
    if scenario.rules:
        add_guided_events(model, scenario, _amount_unit, _add_dose_event)
        return libsbml.writeSBMLToString(document)
    for k, (time, target, increment) in enumerate(scenario.regimen.actions(patient.bsa, weight=patient.weight)):
        _add_dose_event(model, f"dose_{k}", time, target, f"{increment!r} {_amount_unit(model, target)}")
    return libsbml.writeSBMLToString(document)


def _amount_unit(model: libsbml.Model, target: str) -> str:
    """Unit of a dose target: a rate-input parameter, or a dose species' substance unit."""
    if model.getParameter(target) is not None:
        return model.getParameter(target).getUnits()
    species = model.getSpecies(target)
    return species.getSubstanceUnits() or model.getSubstanceUnits()


def _add_dose_event(model: libsbml.Model, event_id: str, time: float, target: str, increment: str) -> None:
    """Event adding ``increment`` (a number with its unit, or a parameter id) to ``target`` once,
    when ``time >= t`` (never ``time == t``, which simulators can skip)."""
    event = model.createEvent()
    event.setId(event_id)
    event.setUseValuesFromTriggerTime(True)
    trigger = event.createTrigger()
    trigger.setInitialValue(False)
    trigger.setPersistent(True)
    trigger.setMath(libsbml.parseL3Formula(f"time >= {time!r} {model.getTimeUnits()}"))
    if model.getParameter(target) is not None:
        model.getParameter(target).setConstant(False)  # an event changes it
    species = model.getSpecies(target)
    if species is not None and not species.getHasOnlySubstanceUnits():
        increment = f"({increment}) / {species.getCompartment()}"  # an amount into a concentration species
    assignment = event.createEventAssignment()
    assignment.setVariable(target)
    assignment.setMath(libsbml.parseL3Formula(f"{target} + {increment}"))


def as_level3_version1(sbml: str) -> str:
    """The same model as SBML Level 3 Version 1 (libsbml's strict conversion: it fails rather
    than drop anything), for tools that read only L3V1."""
    document = libsbml.readSBMLFromString(sbml)
    if not document.setLevelAndVersion(3, 1, True) or document.getNumErrors(libsbml.LIBSBML_SEV_ERROR):
        raise ValueError("this SBML cannot be written as Level 3 Version 1 without loss")
    return libsbml.writeSBMLToString(document)


def _sid(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def sedml_outputs(model: Model) -> dict[str, str]:
    """Report label -> model id of the outputs a SED-ML report holds (species and parameters): the
    output's name where it is an identifier (``mature_DC_fraction`` -> ``f_mDC``), else the id; concentrations
    of species written ``[X]`` are reported by their species id."""
    labels: dict[str, str] = {}
    for o in model.outputs.values():
        sid = o.id.strip("[]")
        labels.setdefault(o.name if re.fullmatch(r"[A-Za-z_]\w*", o.name) else sid, sid)
    return labels


def _xpath(model: libsbml.Model, sid: str) -> str:
    """SED-ML target of a model species or parameter."""
    kind = "species" if model.getSpecies(sid) is not None else "parameter"
    plural = "Species" if kind == "species" else "Parameters"
    return f"/sbml:sbml/sbml:model/sbml:listOf{plural}/sbml:{kind}[@id='{sid}']"


def omex_archive(scenarios: list[Scenario], path, extra_files: Sequence[tuple[str | Path, str, str]] = (),
                 description: str | None = None) -> None:
    """COMBINE archive: per scenario its SBML with dose events, one SED-ML L1V4 file with a
    uniform time course, a report of the clinical outputs and a CD4/CD8 plot per scenario,
    the parameter table, and a description. thymosim scenarios only (another model's archive
    would need its own SBML level, namespaces and report): raises ScenarioError otherwise.
    ``extra_files``: more (file, location in the archive, format URI) entries (see
    :func:`release_archive`); ``description``: the archive's description (default: the scenarios)."""
    import tempfile

    import libcombine
    import libsedml

    from thymosim.model import model_dir
    from thymosim.scenario import ScenarioError

    foreign = [s.name for s in scenarios if not s.model.is_thymosim]
    if foreign:
        raise ScenarioError(f"export omex: scenario(s) {foreign} use another model; the archive holds thymosim "
                            "scenarios only (export sbml --scenario works for any model)")
    sed = libsedml.SedDocument(1, 4)
    sed.getNamespaces().add("http://www.sbml.org/sbml/level3/version2/core", "sbml")  # for the XPath targets
    with tempfile.TemporaryDirectory() as tmp:
        archive = libcombine.CombineArchive()
        for scenario in scenarios:
            sid = _sid(scenario.name)
            sbml_file = Path(tmp) / f"{sid}.xml"
            sbml_file.write_text(scenario_sbml(scenario), encoding="utf-8")
            archive.addFile(str(sbml_file), f"{sid}.xml", libcombine.KnownFormats.lookupFormat("sbml"), False)
            model = sed.createModel()
            model.setId(f"model_{sid}")
            model.setSource(f"{sid}.xml")
            model.setLanguage("urn:sedml:language:sbml.level-3.version-2")
            sim = sed.createUniformTimeCourse()
            sim.setId(f"sim_{sid}")
            sim.setInitialTime(0.0)
            sim.setOutputStartTime(0.0)
            sim.setOutputEndTime(scenario.horizon)
            sim.setNumberOfPoints(int(round(scenario.horizon / scenario.step)))
            algorithm = sim.createAlgorithm()
            algorithm.setKisaoID("KISAO:0000019")  # CVODE
            tolerances = (("KISAO:0000209", scenario.model.rtol),  # relative tolerance
                          # absolute tolerance: thymosim scales it per state (models/variables.tsv);
                          # one value for all states is the tightest of those
                          ("KISAO:0000211", scenario.model.atol * min(scenario.model.atol_scale.values(), default=1.0)))
            for kisao, value in tolerances:
                change = algorithm.createAlgorithmParameter()
                change.setKisaoID(kisao)
                change.setValue(f"{value:g}")
            task = sed.createTask()
            task.setId(f"task_{sid}")
            task.setModelReference(f"model_{sid}")
            task.setSimulationReference(f"sim_{sid}")
            report = sed.createReport()
            report.setId(f"report_{sid}")
            report.setName(scenario.name)
            plot = sed.createPlot2D()
            plot.setId(f"plot_{sid}")
            plot.setName(f"{scenario.name}: CD4 and CD8 (cells/uL)")
            flat = libsbml.readSBMLFromString(scenario.model.sbml).getModel()
            for var, sid_in_model in {"time": "time", **sedml_outputs(scenario.model)}.items():
                generator = sed.createDataGenerator()
                generator.setId(f"{sid}_{var}")
                variable = generator.createVariable()
                variable.setId(f"v_{sid}_{var}")
                variable.setTaskReference(f"task_{sid}")
                if var == "time":
                    variable.setSymbol("urn:sedml:symbol:time")
                else:
                    variable.setTarget(_xpath(flat, sid_in_model))
                generator.setMath(libsedml.parseL3Formula(f"v_{sid}_{var}"))
                dataset = report.createDataSet()
                dataset.setId(f"ds_{sid}_{var}")
                dataset.setLabel(var)
                dataset.setDataReference(f"{sid}_{var}")
                if var in ("CD4", "CD8"):
                    curve = plot.createCurve()
                    curve.setId(f"curve_{sid}_{var}")
                    curve.setXDataReference(f"{sid}_time")
                    curve.setYDataReference(f"{sid}_{var}")
        sedml_file = Path(tmp) / "simulation.sedml"
        libsedml.writeSedMLToFile(sed, str(sedml_file))
        archive.addFile(str(sedml_file), "simulation.sedml", libcombine.KnownFormats.lookupFormat("sedml"), True)
        archive.addFile(str(model_dir() / "parameters.tsv"), "parameters.tsv",
                        "http://purl.org/NET/mediatypes/text/tab-separated-values", False)
        for source, location, file_format in extra_files:
            archive.addFile(str(source), location, file_format, False)
        about = libcombine.OmexDescription()
        about.setAbout(".")
        about.setDescription(description or ("thymosim: thymalfasin immune-restoration QSP model; scenarios "
                                             + ", ".join(s.name for s in scenarios)
                                             + ". Research model, not for clinical use."))
        about.setCreated(libcombine.OmexDescription.getCurrentDateAndTime())
        archive.addMetadata(".", about)
        itself = archive.getManifest().createContent()  # the manifest lists its archive (OMEX spec)
        itself.setLocation(".")
        itself.setFormat("http://identifiers.org/combine.specifications/omex")
        if not archive.writeToFile(str(path)):
            raise RuntimeError(f"could not write {path}")


def petab_observables() -> dict[str, str]:
    """observableId -> model formula: one per clinical output, plus the ETASS mHLA-DR shift."""
    outputs = {f"obs_{o.name}": o.id for o in default_model().outputs.values()}
    return outputs | {"obs_mHLA_DR_shift": "f_mDC - DC_f_mDC_0"}


PETAB_ESTIMATED = ("PK_ka", "PK_CL", "PK_V", "DC_E_NFkB")
"""The parameters thymosim's own calibrations fit (``python -m thymosim.analysis.calibration``)."""
ETASS_NOISE = 0.01
"""Assumed SD of the ETASS mHLA-DR shifts (fraction points) in the PEtab problem."""


def petab_model() -> str:
    """The flat SBML plus what the calibration conditions need: events adding
    ``ta1_q12h_dose`` [ug] (0 unless a condition sets it) to the SC depot at the ETASS dose
    times after t = 0. The dose at t = 0 is the depot's initial amount, set by the condition: a
    t = 0 event would fire when a simulator initialises the model, before the condition's value
    is set (roadrunner does so)."""
    etass = calibration_targets()["etass"]
    document = libsbml.readSBMLFromString(default_model().sbml)
    model = document.getModel()
    dose = model.createParameter()
    dose.setId("ta1_q12h_dose")
    dose.setName("thymalfasin dose given every 12 h for 7 days (ETASS condition)")
    dose.setValue(0.0)
    dose.setUnits("ug")
    dose.setConstant(True)
    dose.setSBOTerm("SBO:0000002")
    for k in range(1, etass["n_doses"]):
        _add_dose_event(model, f"ta1_q12h_{k}", k * etass["ii_day"], "PK_depot", "ta1_q12h_dose")
    return libsbml.writeSBMLToString(document)


def petab_problem(out) -> None:
    """PEtab v1 problem of thymosim's calibrations, as far as PEtab v1 can hold them.

    - Conditions: one 1.6 mg SC dose (1600 ug in the depot at t0); 1.6 mg SC every 12 h for
      7 days (ETASS: the first dose in the depot at t0, the next 13 by events in the model
      switched on by ``ta1_q12h_dose``).
    - Measurements: the BE study's mean Cmax at the mean Tmax (SD as noise); the ETASS monocyte
      HLA-DR improvement at days 3 and 7 as the change of the mature-DC fraction.
    - Parameters: every table row with its bounds; estimated: the PK and DC-maturation
      parameters thymosim fits (log10 scale, uniform prior on that scale).
    - Observables: every clinical output and the mHLA-DR shift.
    Not expressible in PEtab v1: AUC and the derived half-life of the PK fit.
    """
    from pathlib import Path

    import pandas as pd
    import yaml

    from thymosim.tables import load_parameter_table

    pk, etass_data = calibration_targets()["ta1_pk"], calibration_targets()["etass"]
    observables_ = petab_observables()

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.xml").write_text(petab_model(), encoding="utf-8")
    table = load_parameter_table()
    log = (table.lower > 0) & (table.upper / table.lower >= 10)
    estimated = [pid in PETAB_ESTIMATED for pid in table.index]
    parameters = pd.DataFrame({
        "parameterId": table.index,
        "parameterName": table.description,
        "parameterScale": ["log10" if (est or log[pid]) and table.lower[pid] > 0 else "lin"
                           for pid, est in zip(table.index, estimated, strict=True)],
        "lowerBound": table.lower, "upperBound": table.upper, "nominalValue": table.value,
        "estimate": [int(est) for est in estimated],
        "objectivePriorType": ["parameterScaleUniform" if est else "" for est in estimated],
        "unit": table.unit, "evidence": table.evidence, "source": table.source,
    })
    parameters.to_csv(out / "parameters.tsv", sep="\t", index=False)
    pd.DataFrame({
        "conditionId": ["ta1_1p6mg_sc", "etass_ta1_q12h"],
        "conditionName": ["thymalfasin 1.6 mg SC, single dose", "thymalfasin 1.6 mg SC q12h for 7 days (ETASS)"],
        "PK_depot": [pk["dose_ug"], etass_data["dose_ug"]], "ta1_q12h_dose": [0.0, etass_data["dose_ug"]],
    }).to_csv(out / "conditions.tsv", sep="\t", index=False)
    observables = pd.DataFrame({
        "observableId": list(observables_), "observableFormula": list(observables_.values()),
        "noiseFormula": [f"noiseParameter1_{o}" for o in observables_], "noiseDistribution": "normal"})
    observables.to_csv(out / "observables.tsv", sep="\t", index=False)
    etass = list(zip(etass_data["days"], etass_data["hla_dr_shift"], strict=True))
    (cmax, cmax_sd), (tmax_h, _) = pk["Cmax"], pk["Tmax_h"]
    endogenous = table.value["PK_C_endo"]  # the model's plasma Ta1 includes the endogenous level
    pd.DataFrame({
        "observableId": ["obs_ta1_plasma"] + ["obs_mHLA_DR_shift"] * len(etass),
        "simulationConditionId": ["ta1_1p6mg_sc"] + ["etass_ta1_q12h"] * len(etass),
        "measurement": [cmax + endogenous] + [shift for _, shift in etass],
        "time": [tmax_h / 24] + [day for day, _ in etass],
        "noiseParameters": [cmax_sd] + [ETASS_NOISE] * len(etass),
        "datasetId": ["BE_study_1p6mg"] + ["ETASS_Wu2013"] * len(etass),
    }).to_csv(out / "measurements.tsv", sep="\t", index=False)
    problem = {"format_version": 1, "parameter_file": "parameters.tsv", "problems": [{
        "sbml_files": ["model.xml"], "condition_files": ["conditions.tsv"],
        "measurement_files": ["measurements.tsv"], "observable_files": ["observables.tsv"]}]}
    (out / "problem.yaml").write_text(yaml.safe_dump(problem, sort_keys=False), encoding="utf-8")
    (out / "README.md").write_text(
        "PEtab v1 problem exported by thymosim (`thymosim export petab`).\n\n"
        f"- BE_study_1p6mg: mean Cmax {cmax} +- {cmax_sd} ng/mL (exogenous; +{endogenous} endogenous baseline) at mean "
        "Tmax 1.8 h after 1.6 mg SC, Chinese bioequivalence study, n = 20 (see parameters.tsv sources). "
        "AUC0-12 (435.4 +- 192.8 ug*h/L) is used by thymosim's own fit (thymosim calibrate) "
        "but cannot be written as a PEtab v1 measurement.\n"
        "- ETASS_Wu2013: monocyte HLA-DR improvement vs control, +3.9 and +5.8 percentage points at days "
        "3 and 7 under 1.6 mg SC q12h (Wu 2013, Crit Care 17:R8), observed as the change of the model's "
        f"mature-DC fraction; noise SD {ETASS_NOISE} is assumed (not reported in a usable form).\n",
        encoding="utf-8")


FORMATS = {  # archive file suffix -> COMBINE format URI
    ".xml": "http://identifiers.org/combine.specifications/sbml",
    ".tsv": "http://purl.org/NET/mediatypes/text/tab-separated-values",
    ".toml": "http://purl.org/NET/mediatypes/application/toml",
    ".md": "http://purl.org/NET/mediatypes/text/markdown",
    ".png": "http://purl.org/NET/mediatypes/image/png",
    ".ant": "http://purl.org/NET/mediatypes/text/plain",
}


def release_files(work: Path) -> list[tuple[Path, str, str]]:
    """What a model release holds besides the scenarios' SBML and SED-ML (which
    :func:`omex_archive` writes): the model's SBML as built (``thymosim.xml``) and as one Antimony
    text, the tables (states, drugs, outputs, covariates, population variability, clinical and
    calibration targets), the named scenarios' TOML files and the model reference (Markdown pages
    and the network diagram, written into ``work`` by :mod:`thymosim.sbml.reference`)."""
    from thymosim.model import model_dir, sbml_path
    from thymosim.sbml import reference

    models = model_dir()
    files = [(sbml_path(), "thymosim.xml"), (models / "thymosim_flat.ant", "thymosim_flat.ant")]
    files += [(models / name, name) for name in ("variables.tsv", "drugs.tsv", "outputs.tsv", "covariates.tsv",
                                                 "population.tsv") if (models / name).exists()]
    files += [(f, f"data/{f.name}") for f in sorted((models / "data").glob("*")) if f.suffix in (".tsv", ".toml")]
    files += [(f, f"scenarios/{f.name}") for f in sorted((models / "scenarios").glob("*.toml"))]
    reference.write(work / "reference")
    files += [(f, f"reference/{f.name}") for f in sorted((work / "reference").iterdir())]
    return [(source, location, FORMATS.get(Path(location).suffix, "http://purl.org/NET/mediatypes/text/plain"))
            for source, location in files]


def release_archive(path: str | Path) -> Path:
    """The model release as one COMBINE/OMEX archive: the model (SBML L3V2 and Antimony), every named
    scenario as SBML with its doses and a SED-ML time course and report, the parameter table and the other
    tables, the scenarios' TOML files and the model reference. ``python -m thymosim.sbml.export --out
    FILE.omex`` (default ``dist/thymosim-<version>.omex``)."""
    import tempfile

    from thymosim import __version__
    from thymosim.scenario import named, names

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        omex_archive([named(n) for n in names()], path, release_files(Path(work)),
                     description=f"thymosim {__version__}: mechanistic QSP model of thymalfasin (thymosin alpha 1) "
                                 "restoring immune function after chemotherapy. The model (thymosim.xml, SBML L3V2), "
                                 "every named scenario as SBML with its doses and a SED-ML time course "
                                 "(simulation.sedml), the parameter table with sources, the scenarios (scenarios/), "
                                 "the model reference (reference/). Research model, not for clinical use. MIT licence.")
    return path


def main(argv: list[str] | None = None) -> None:
    import argparse

    from thymosim import __version__

    parser = argparse.ArgumentParser(prog="python -m thymosim.sbml.export",
                                     description="Write the model release: one COMBINE/OMEX archive "
                                                 "(see thymosim.sbml.export.release_archive).")
    parser.add_argument("--out", type=Path, default=Path("dist") / f"thymosim-{__version__}.omex",
                        help="archive to write (default: %(default)s)")
    args = parser.parse_args(argv)
    print(f"wrote {release_archive(args.out)}")


if __name__ == "__main__":
    main()
