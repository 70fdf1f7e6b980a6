"""models/parameters.tsv is the only place a parameter value is written: complete, and the
simulation follows it."""

import re
import shutil
import tomllib

import numpy as np
import pandas as pd
import pytest

from thymosim import Patient, simulate
from thymosim.model import Model, default_model, model_dir
from thymosim.patient import HEALTHY
from thymosim.sbml.build import build_sbml
from thymosim.sbml.units import UNIT_DEFINITIONS
from thymosim.scenario import named
from thymosim.tables import EVIDENCE, ROLES, load_covariates, load_drugs, load_outputs, load_parameter_table


def test_every_model_parameter_has_a_row_and_every_row_a_parameter():
    table = load_parameter_table()
    assert sorted(table.index) == sorted(default_model().defaults)
    assert table.index.is_unique


def test_rows_have_unit_source_flag_role_and_bounds():
    table = load_parameter_table()
    for pid, row in table.iterrows():
        assert row.unit in UNIT_DEFINITIONS, f"{pid}: unit {row.unit!r}"
        assert isinstance(row.source, str) and len(row.source) > 5, f"{pid}: source"
        assert row.evidence in EVIDENCE, f"{pid}: evidence {row.evidence!r}"
        assert row.role in ROLES, f"{pid}: role {row.role!r}"
        assert isinstance(row.description, str) and row.description, f"{pid}: description"
        assert row.lower <= row.value <= row.upper, f"{pid}: {row.lower} <= {row.value} <= {row.upper}"
        assert row.lower < row.upper, f"{pid}: empty range"


def test_roles_covariates_and_dosing_inputs_come_from_the_maps():
    table = load_parameter_table()
    covariates = set(load_covariates().values())
    inputs = {d.rate for d in load_drugs() if d.rate}
    assert set(table.index[table.role == "covariate"]) == covariates
    assert set(table.index[table.role == "input"]) == inputs
    assert {o.name for o in load_outputs()} == set(default_model().outputs)


def test_changing_a_value_in_the_table_and_rebuilding_changes_the_simulation(tmp_path):
    models = shutil.copytree(model_dir(), tmp_path / "models")
    table = (models / "parameters.tsv").read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(table) if line.startswith("PK_CL\t"))
    fields = table[row].split("\t")
    fields[1] = str(2 * float(fields[1]))
    table[row] = "\t".join(fields)
    (models / "parameters.tsv").write_text("\n".join(table) + "\n")
    rebuilt = default_model().with_sbml(build_sbml(models))
    assert rebuilt.defaults["PK_CL"] == 2 * default_model().defaults["PK_CL"]
    regimen = named("cisplatin_vinorelbine_ta1").regimen
    before = simulate(Patient(), regimen, horizon=14, model=default_model())
    after = simulate(Patient(), regimen, horizon=14, model=rebuilt)
    assert after.ta1_plasma.max() < 0.8 * before.ta1_plasma.max()  # doubled clearance, lower peaks
    np.testing.assert_allclose(after.ta1_plasma.iloc[0], before.ta1_plasma.iloc[0])  # endogenous level kept


def test_committed_model_built_from_the_table_is_what_runs():
    assert isinstance(default_model(), Model)
    assert default_model().sbml == build_sbml()


def test_patient_defaults_and_healthy_read_the_table():
    table = load_parameter_table()
    covariates = load_covariates()
    for field, pid in covariates.items():
        assert getattr(Patient(), field) == table.value[pid]
    assert (HEALTHY.cd3, HEALTHY.cd4, HEALTHY.cd8, HEALTHY.nk) == tuple(
        table.value[p] for p in ("CD3_set", "CD4_set", "CD8_set", "NK_set"))


PREFIXES = ("k", "ka", "d", "p", "g", "K", "E", "CL", "V", "C", "f", "w", "s", "alpha", "slope", "F", "Vmax", "Km",
            "beta", "r", "conv", "age")
SUFFIXES = ("0", "set", "ref", "rate")
CONVENTION = {"MTT", "gam", "BSA", "BW", "AGE"}
MODULES = ("PK", "DC", "CK", "TC", "MAC", "CHEMO", "GCSF", "TUM", "IT", "RT")


def legend_ok(pid: str) -> bool:
    """The naming legend in the header of models/parameters.tsv."""
    module, _, rest = pid.partition("_")
    local = rest if module in MODULES else pid
    parts = local.split("_")
    return local in CONVENTION or parts[0] in PREFIXES or (len(parts) > 1 and parts[-1] in SUFFIXES)


def test_every_parameter_follows_the_naming_legend_and_none_stutters():
    table = load_parameter_table()
    assert [p for p in table.index if not legend_ok(p)] == []
    stutters = [p for p in table.index if p.partition("_")[0] in MODULES
                and p.partition("_")[0].lower() in p.partition("_")[2].lower().split("_")]
    assert stutters == []
    header = (model_dir() / "parameters.tsv").read_text(encoding="utf-8").split("\nid\t")[0]
    assert all(f"{prefix}_" in header for prefix in PREFIXES if prefix != "ka")


def test_the_legend_check_can_fail():
    assert not legend_ok("DC_EC50_TLR9") and not legend_ok("MAC_IL12_50") and legend_ok("DC_K_TLR9")


def test_every_parameter_row_acts_in_the_model():
    """Rows of role ``parameter`` appear in some rate law, rule or initial assignment (a value that
    acts nowhere would be screened for nothing); ``reference`` rows are the ones that do not."""
    import libsbml

    model = libsbml.readSBMLFromString(default_model().sbml).getModel()
    maths = [r.getKineticLaw().getMath() for r in model.getListOfReactions()]
    maths += [r.getMath() for r in model.getListOfRules()] + [a.getMath() for a in model.getListOfInitialAssignments()]
    used = set()

    def collect(node):
        if node.isName():
            used.add(node.getName())
        for i in range(node.getNumChildren()):
            collect(node.getChild(i))

    for math in maths:
        collect(math)
    table = load_parameter_table()
    idle = [p for p in table.index[table.role == "parameter"] if p not in used]
    assert idle == []
    assert set(table.index[table.role == "reference"]) == {"CD3_set"}


def test_a_value_written_in_the_antimony_fails_the_build(tmp_path):
    import pytest

    models = shutil.copytree(model_dir(), tmp_path / "models")
    module = models / "modules" / "ta1_pk.ant"
    text = module.read_text(encoding="utf-8").replace("  const ka   //", "  ka = 24.51   //")
    module.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"values written in the Antimony for \['PK_ka'\]"):
        build_sbml(models)


OUTSIDE = re.compile(r"biology\.md|\bseed\b|\bthe guide\b", re.I)
FILE = re.compile(r"\b[\w-]+\.(?:md|tsv|toml|csv|txt|pdf|docx?)\b")


def files_outside_the_repository(source: str) -> list[str]:
    """Project-internal documents and file names cited in a source text that the repository does not hold."""
    root = model_dir().parent
    cited = OUTSIDE.findall(source)
    for name in FILE.findall(source):
        if name.lower() not in (c.lower() for c in cited) and not any(root.glob(f"**/{name}")):
            cited.append(name)
    return cited


def test_no_parameter_source_cites_a_file_outside_the_repository():
    import pandas as pd

    from thymosim.tables import clinical_targets

    population = pd.read_csv(model_dir() / "population.tsv", sep="\t", comment="#")
    targets = clinical_targets()
    sources = [*load_parameter_table().source.astype(str), *population.source.astype(str),
               *targets.source.astype(str), *targets.caveat.astype(str),
               *(tomllib.loads(f.read_text(encoding="utf-8")).get("source", "")
                 for f in sorted((model_dir() / "scenarios").glob("*.toml"))),
               *(str(section.get("source", "")) for section in tomllib.loads(
                   (model_dir() / "data" / "calibration_targets.toml").read_text(encoding="utf-8")).values()
                 if isinstance(section, dict)),
               *pd.read_csv(model_dir() / "data" / "clinical_points.tsv", sep="\t").filter(["source", "note"])
               .astype(str).to_numpy().ravel()]
    assert not {s: found for s in sources if (found := files_outside_the_repository(s))}
    assert files_outside_the_repository("a prior (biology.md 2)") == ["biology.md"]
    assert files_outside_the_repository("see notes_2019.tsv") == ["notes_2019.tsv"]
    assert files_outside_the_repository("models/data/clinical_targets.tsv row vnr_cis_orr") == []


CITATION = re.compile(r"doi:10\.\d+/\S+|PMID \d+|PMC\d+|https?://\S+")


def test_every_clinical_target_and_measured_variability_cites_a_primary_publication():
    """A DOI, PMID, PMC id or URL in every clinical target's source (a row taken from the vendor guide names
    the closest primary publication, the guide's own being unknown), and in every population row that is
    not flagged assumed (or one that says it follows another row that does)."""
    import pandas as pd

    from thymosim.tables import clinical_targets

    targets = clinical_targets()
    assert not [i for i, source in targets.source.items() if not CITATION.search(str(source))]
    population = pd.read_csv(model_dir() / "population.tsv", sep="\t", comment="#").set_index("parameter")
    cited = {pid for pid, row in population.iterrows() if CITATION.search(str(row.source))}
    for pid, row in population.iterrows():
        if row.evidence == "assumed" or pid in cited:
            continue
        follows = re.match(r"as (\w+)", str(row.source))
        assert follows and follows.group(1) in cited, f"population.tsv {pid}: no DOI/PMID/URL in {row.source!r}"


def test_fitted_values_outside_their_cited_range_say_why():
    table = load_parameter_table()
    for pid in ("PK_CL", "PK_V"):
        assert table.evidence[pid] == "fitted"
        assert "ELISA" in table.source[pid] and "LC-MS/MS" in table.source[pid]
    assert table.value["PK_CL"] / 24 < 6 and table.value["PK_V"] < 30  # below Rost 1999's ranges, as the source says


def test_sbml_units_are_data_and_a_bad_definition_is_named(tmp_path):
    """models/sbml_units.tsv defines the SBML units (day = 86400 s); a malformed part or an unknown kind is an
    error naming the unit and the field."""
    import shutil

    import libsbml
    import pytest

    from thymosim.model import ModelError, model_dir
    from thymosim.sbml.units import _kinds
    from thymosim.tables import load_sbml_units

    assert UNIT_DEFINITIONS["day"] == ("day", [(libsbml.UNIT_KIND_SECOND, 1, 0, 86400.0)])
    models = shutil.copytree(model_dir(), tmp_path / "models")
    path = models / "sbml_units.tsv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("day\tday\tsecond 1 0 86400", "day\tday\tsecond 1 0"), encoding="utf-8")
    with pytest.raises(ModelError, match=r"sbml_units.tsv row 'day'.definition: 'second 1 0'"):
        load_sbml_units(models)
    path.write_text(text.replace("day\tday\tsecond 1 0 86400", "day\tday\tfortnight 1 0 86400"), encoding="utf-8")
    with pytest.raises(ModelError, match=r"row 'day'.definition: unknown unit kind 'fortnight'"):
        _kinds(load_sbml_units(models))


# --- values converted from their source's unit ------------------------------------------------------------

def _converted(expression: str, x: float) -> float:
    """Evaluate a conversion of parameters.tsv (arithmetic in x, the source value, and ln2) without eval."""
    import ast
    import math
    import operator

    binary = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.Pow: operator.pow}

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in binary:
            return binary[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in ("x", "ln2"):
            return x if node.id == "x" else math.log(2.0)
        raise ValueError(f"conversion {expression!r}: {ast.dump(node)} is not arithmetic in x and ln2")

    return value(ast.parse(expression, mode="eval"))


def test_a_converted_value_is_its_source_value_through_its_conversion():
    """Where a value was converted from its source's unit (source_value, source_unit, conversion columns, as
    the Koenig-lab models keep them), the conversion of the source value gives the value to one unit in its last
    written digit (its rounding)."""
    table = load_parameter_table()
    converted = table[table.conversion.notna()]
    assert len(converted) >= 15
    for pid, row in converted.iterrows():
        assert pd.notna(row.source_value) and pd.notna(row.source_unit), pid
        digits = f"{row.value:.15g}".replace(".", "").lstrip("0").rstrip("0") or "0"  # significant digits written
        last = 10.0 ** (np.floor(np.log10(abs(row.value))) - len(digits) + 1)  # one unit in the last of them
        assert abs(_converted(row.conversion, float(row.source_value)) - row.value) <= last, pid
    filled = table[["source_value", "source_unit", "conversion"]].notna()
    assert (filled.all(axis=1) | ~filled.any(axis=1)).all(), "source_value, source_unit and conversion go together"


def test_the_conversion_reader_takes_arithmetic_only():
    assert _converted("ln2/(x*365.25)", 4.2) == pytest.approx(0.000452, rel=1e-3)
    with pytest.raises(ValueError, match="not arithmetic"):
        _converted("__import__('os').getcwd()", 1.0)
