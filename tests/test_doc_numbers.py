"""Every number a user reads in the README and the documentation comes from a file or a command a
test checks: counts are recomputed from the tables, runtimes and cross-tool differences are read
from the files the named benchmarks write (``benchmarks/results/*.json``, with the machine),
calibration figures from ``models/parameters.tsv`` and the committed reproduction behind the
validation page (``docs/validation/*.csv``). User docs speak of the project only: no internal words."""

import functools
import importlib.util
import json
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "results"


def readme() -> str:
    return README.read_text(encoding="utf-8")


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def user_docs() -> dict[str, str]:
    """README and the hand-written documentation pages (the generated ones come from code tested elsewhere,
    except the validation page, generated from docs/generate.py's own text, included here)."""
    generated = {DOCS / "cli.md", *(DOCS / "model").glob("*.md")}
    pages = [README, *(p for p in sorted(DOCS.rglob("*.md")) if p not in generated)]
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in pages}


@functools.cache
def _generator():
    spec = importlib.util.spec_from_file_location("thymosim_docs_generate_numbers", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shown(kind: str, model: float, lo: float, hi: float) -> str:
    """A reproduced statistic as the validation page writes it (the page generator's own formatter)."""
    return _generator()._shown(kind, model, lo, hi)


# --- counts --------------------------------------------------------------------------------------


def test_the_readme_parameter_counts_are_the_tables():
    from thymosim.tables import load_parameter_table

    table = load_parameter_table()
    text = " ".join(readme().split())
    match = re.search(r"Parameters by evidence flag \((\d+) rows\): (.*?); by role: (.*?) \(", text)
    assert match, "README sentence 'Parameters by evidence flag (N rows): ...; by role: ...' not found"
    assert int(match.group(1)) == len(table)
    evidence = {flag: (int(n), int(pct)) for flag, n, pct in re.findall(r"(\w+) (\d+) \((\d+) %\)", match.group(2))}
    counts = table.evidence.value_counts()
    assert evidence == {flag: (int(n), round(100 * n / len(table))) for flag, n in counts.items()}
    roles = {role.rstrip("s"): int(n) for n, role in re.findall(r"(\d+) ([\w ]+?)(?:,|$)", match.group(3))}
    names = {"parameter": "parameter", "patient covariate": "covariate", "dosing input": "input",
             "reference": "reference"}
    assert {names[k]: v for k, v in roles.items()} == table.role.value_counts().to_dict()


def _readme_table(heading: str) -> list[list[str]]:
    section = readme().split(heading, 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    end = next((i for i, line in enumerate(rows) if i and not line.startswith("|")), len(rows))
    return [[c.strip() for c in line.strip("|").split("|")] for line in rows[2:end]]


def _page_states(module: str) -> int:
    """Species and rate-rule states in the generated model page of ``module`` (tests/test_docs.py keeps it current)."""
    parts = page(f"model/{module}.md").split("## States", 1)
    if len(parts) == 1:  # a module without states (radiotherapy: a dose-rate input and kill terms)
        return 0
    text = parts[1].split("\n## ", 1)[0]
    return sum(1 for line in text.splitlines()
               if line.startswith("| `") and line.split("|")[2].strip() in ("species", "rate rule"))


def test_the_readme_module_table_counts_states_and_parameter_rows():
    from thymosim.tables import load_parameter_table

    table = load_parameter_table()
    rows = [r for r in _readme_table("## Model\n") if r[0].startswith("`")]
    assert len(rows) == 11
    for module, states, parameters, *_ in rows:
        name = module.strip("`").split("`")[0]
        if name == "thymosim":  # the wiring: patient baseline and shared rows
            assert int(parameters) == int(table.module.isin(["patient", "main"]).sum())
            continue
        assert int(states) == _page_states(name), name
        assert int(parameters) == int((table.module == name).sum()), name


def test_the_readme_counts_the_clinical_targets():
    from thymosim.tables import clinical_targets

    match = re.search(r"clinical_targets\.tsv`: (\d+) published results", readme())
    assert match and int(match.group(1)) == len(clinical_targets())


# --- the validation reproduction, as the README and the calibration page quote it ---------------


def test_the_readme_reproduction_table_is_the_committed_reproduction():
    """The README's table of the vendor guide's Tables 1-2 shows the numbers of docs/validation/seed_tables.csv
    (the reproduction the validation page shows; a slow test reruns it)."""
    seed = pd.read_csv(DOCS / "validation" / "seed_tables.csv")
    section = readme().split("## Virtual patients and in-silico trials")[1].split("\n## ")[0].replace("−", "-")
    for row in seed.itertuples():
        if row.kind == "value" and row.role == "input":
            continue  # the typical patient's baseline and the selection target
        assert shown(row.kind, row.model, row.model_lo, row.model_hi) in section, (row.row, row.quantity)


def test_the_readme_survival_paragraph_is_the_committed_reproduction():
    """The README's paragraph on disease control, progression and survival quotes every DCR, PFS, TTP
    and OS row of a first-line arm (train and test) as docs/validation/targets.csv holds it."""
    targets = pd.read_csv(DOCS / "validation" / "targets.csv").set_index("id")
    section = readme().split("Progression and survival (same 200 patients")[1].split("\n\n")[0].replace("\n", " ")
    for key in ("vnr_cis_dcr", "vnr_cis_pfs", "navotrial_pfs", "esmo_asia_pfs", "navotrial_os", "goim_os",
                "goim_os_1y"):
        t = targets.loc[key]
        assert shown(t.kind, t.model, t.model_lo, t.model_hi) in section, key
        assert f"{t.value:g}" in section, key


def test_the_readme_quotes_the_two_arm_rows_as_the_committed_reproduction():
    """The README's list of what the model does not reproduce quotes every ratio row (thymalfasin's effect on
    the same patients) as docs/validation/targets.csv holds it, with the published value."""
    targets = pd.read_csv(DOCS / "validation" / "targets.csv").set_index("id")
    section = " ".join(readme().split("What the model does **not** reproduce")[1].split("\n\n")[0].split())
    ratios = targets[targets.kind == "ratio"]
    assert len(ratios) == 3
    for key, t in ratios.iterrows():
        assert shown(t.kind, t.model, t.model_lo, t.model_hi).replace("–", "-") in section.replace("–", "-"), key
        assert f"{t.value:g}" in section, key


def test_the_calibration_page_quotes_the_table_and_the_validation_page():
    from thymosim.tables import load_parameter_table

    text = page("guide/calibration.md")
    values = load_parameter_table().value
    for pid, quoted in (("TC_E_share", "4.925"), ("TC_E_NK_TA1", "16.55"), ("RT_alpha_tumour", "0.1226/Gy"),
                        ("TUM_k_new", "0.01006/day"), ("CHEMO_k_tum_cis", "5.142 and"),
                        ("CHEMO_k_tum_vnr", "and 6.511")):
        key = "CHEMO_k_tum_cis" if pid == "CHEMO_k_tum_vnr" else pid  # one row for both drugs' kill
        row = next(line for line in text.splitlines() if f"`{key}`" in line)
        number = float(quoted.split("/")[0].replace("and", ""))
        assert quoted in row and number == pytest.approx(values[pid], rel=1e-3), pid
    targets = pd.read_csv(DOCS / "validation" / "targets.csv").set_index("id")
    for pid, target in (("CHEMO_k_tum_cis", "vnr_cis_orr"), ("RT_alpha_tumour", "prag_orr"),
                        ("TC_E_NK_TA1", "salvati_ta1_nk"), ("TUM_k_new", "vnr_cis_dcr"), ("TUM_k_new", "vnr_cis_pfs")):
        row = next(line for line in text.splitlines() if f"`{pid}`" in line)
        t = targets.loc[target]
        assert shown(t.kind, t.model, t.model_lo, t.model_hi) in row, (pid, target)
    assert "validation page" in text


# --- runtimes and cross-tool differences come from the benchmarks' files -------------------------

DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:s|min|ms)\b(?![/\w])")


def test_no_runtime_is_quoted_outside_the_speed_page():
    """A duration depends on the machine: the README and the guides quote none; the speed page quotes
    the benchmarks, each with its command and machine."""
    for name, text in user_docs().items():
        if name == "docs/guide/speed.md":
            continue
        found = DURATION.findall(text)
        assert not found, f"{name} quotes {found}: move the figure to docs/guide/speed.md with its benchmark"


def test_the_start_up_figures_are_those_the_benchmark_recorded():
    record = json.loads((RESULTS / "startup.json").read_text(encoding="utf-8"))
    text = " ".join(page("guide/speed.md").split("**Start-up: the cache of compiled models.**", 1)[1].split())
    assert record["command"] in text and record["machine"] in text
    for key in ("run_cold", "run_warm", "worker_cold", "worker_warm", "worker_first_simulation", "baseline"):
        figure = f"{record[key]['wall_s']:.2f} s wall / {record[key]['cpu_s']:.2f} s CPU"
        assert figure in text, (key, figure)
    low, high = record["load_average"]
    assert f"load average {low:.1f} to {high:.1f}" in text
    assert f"{record['compile_over_load']}×" in text


def test_the_copasi_differences_are_those_the_benchmark_recorded():
    """docs/guide/export.md quotes benchmarks/results/copasi_agreement.json (tests/test_export.py
    checks that file against a fresh COPASI run)."""
    from thymosim import default_model

    record = json.loads((RESULTS / "copasi_agreement.json").read_text(encoding="utf-8"))
    text = " ".join(page("guide/export.md").split())
    assert record["command"] in text
    differences = record["max_relative_difference"]
    assert set(differences) == set(default_model().outputs)
    for output, value in differences.items():
        assert f"`{output}` {value:.0e}" in text, output


# --- words ------------------------------------------------------------------------------------

INTERNAL = re.compile(
    r"\byardstick\b|\bsessions?\b|\bhelpers?\b|\bissues? #?\d+|\bseed guide\b|\bseed's\b|\bthe seed\b(?!\s*\d)"
    r"|\bseed (?:table|advanced)", re.IGNORECASE)


def test_user_docs_speak_of_the_project_only():
    """No project-internal words: the published source is 'the vendor guide' (named on the validation
    page), never 'the seed'; a random seed stays a seed. (docs/cli.md, generated from the CLI's help
    texts, is not among the pages read here.)"""
    for name, text in user_docs().items():
        found = INTERNAL.findall(text.replace("--reproduce-seed", ""))
        assert not found, f"{name}: {found}"
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        prose = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert not INTERNAL.findall(prose), notebook.name


def test_extras_are_installed_editable():
    """After the README's test install (editable), a non-editable `pip install ".[extra]"` would replace the
    checkout's package by a copy: every extra the docs install is installed with -e."""
    for name, text in user_docs().items():
        found = re.findall(r"pip install (?!-e )[\"']?\.\[\w+\]", text)
        assert not found, f"{name}: {found}"


def test_the_readme_layout_names_every_module_and_data_file_and_nothing_that_is_gone():
    """The README's Layout block: every Python module of the package, every table under models/ and
    models/data/ and every notebook is named on its folder's line(s); every path it names exists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text[text.index("## Layout"):text.index("**Import rule**")]
    blocks: dict[str, str] = {}
    folder = ""
    for line in layout.splitlines():
        head = line[:25].strip()
        if head:
            folder = head
        blocks[folder] = blocks.get(folder, "") + line[25:] + " "
    package = ROOT / "src" / "thymosim"
    for path in sorted(package.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        where = path.parent.relative_to(ROOT).as_posix() + "/"
        assert path.name in blocks.get(where, "") or (where == "src/thymosim/" and path.name == "cli.py"
                                                     and "cli.py" in layout), f"README Layout: {where}{path.name}"
    for path in sorted((ROOT / "models" / "data").iterdir()):
        if path.suffix in (".tsv", ".toml"):
            assert path.name in blocks["models/data/"], f"README Layout: models/data/{path.name}"
    for path in sorted((ROOT / "models").glob("*.*")):
        assert f"models/{path.name}" in layout, f"README Layout: models/{path.name}"
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert path.stem in blocks["notebooks/"], f"README Layout: notebooks/{path.name}"
    for named in re.findall(r"(?<![\w/.])((?:models|src|docs|tests|benchmarks|notebooks)/[\w/.*-]*)", layout):
        assert list(ROOT.glob(named.rstrip("/"))) , f"README Layout names {named}, which does not exist"
    for name in re.findall(r"\b(\w+\.py)\b", blocks.get("benchmarks/", "")):
        assert (ROOT / "benchmarks" / name).exists(), f"README Layout: benchmarks/{name} does not exist"


def test_the_guided_arm_paragraph_is_the_committed_paired_run():
    """docs/guide/who-benefits.md quotes docs/guide/guided/*.csv, written by
    ``thymosim trial prag prag_ta1 prag_ta1_guided --paired --n 50 --seed 0 --out guided/``."""
    text = " ".join(page("guide/who-benefits.md").split())
    summary = pd.read_csv(DOCS / "guide" / "guided" / "summary.csv").set_index("arm")
    effects = pd.read_csv(DOCS / "guide" / "guided" / "effects_summary.csv").set_index(["arm", "effect"])
    match = re.search(r"On these (\d+) virtual patients.*?ORR ([\d.]+) % on PRaG alone, ([\d.]+) % with the fixed "
                      r"dose \((\d+) responders gained, (\d+) lost\) and ([\d.]+) % with the guided dose \((\d+) "
                      r"gained, (\d+) lost\); over PRaG alone, the mean CD3 gain at day 9 is \+(\d+) cells/µL with the "
                      r"fixed dose and \+(\d+) with the guided one, and the mean best change is ([\d.]+) and ([\d.]+) "
                      r"percentage points lower", text)
    assert match, "who-benefits.md: the guided-arm paragraph was not found"
    n, orr0, orr1, g1, l1, orr2, g2, l2, cd1, cd2, bc1, bc2 = match.groups()
    assert int(n) == summary.loc["prag", "n"] == summary.loc["prag_ta1_guided", "n"]
    assert [orr0, orr1, orr2] == [f"{summary.loc[a, 'ORR']:.1f}" for a in ("prag", "prag_ta1", "prag_ta1_guided")]
    for arm, gained, lost in (("prag_ta1", g1, l1), ("prag_ta1_guided", g2, l2)):
        assert (int(gained), int(lost)) == (summary.loc[arm, "ORR_gained"], summary.loc[arm, "ORR_lost"])
    assert [cd1, cd2] == [f"{effects.loc[(a, 'gain:CD3@9'), 'mean']:.0f}" for a in ("prag_ta1", "prag_ta1_guided")]
    assert [bc1, bc2] == [f"{-effects.loc[(a, 'd_best_change'), 'mean']:.1f}" for a in ("prag_ta1", "prag_ta1_guided")]


def test_the_dose_finding_paragraph_is_the_committed_sweep():
    """docs/guide/who-benefits.md quotes docs/guide/dosefinding/*.csv, written by the ``thymosim dosefind``
    command the page shows (the figure beside them was drawn from the same run)."""
    text = " ".join(page("guide/who-benefits.md").split())
    folder = DOCS / "guide" / "dosefinding"
    table = pd.read_csv(folder / "dosefinding.csv", keep_default_na=False, na_values=[""])
    summary = pd.read_csv(folder / "dosefinding_summary.csv").set_index("candidate")
    command = re.search(r"thymosim dosefind --n (\d+) --seeds (\d+) --doses ([\d.,]+) --every ([\d.,]+) "
                        r"--thresholds ([\d,]+)", text)
    n, seeds, doses, every, thresholds = command.groups()
    assert sorted(table.n.unique()) == [int(n)] and table.seed.nunique() == int(seeds)
    assert sorted(summary.dose.unique()) == [float(x) for x in doses.split(",")]
    assert sorted(summary.every.unique()) == [float(x) for x in every.split(",")]
    assert sorted(summary.threshold.unique()) == [float(x) for x in thresholds.split(",")]
    match = re.search(r"\((\d+) candidates, (\d+) populations of (\d+) virtual patients, no failure\)", text)
    assert [int(x) for x in match.groups()] == [len(summary), int(seeds), int(n)]
    assert (table.status == "ok").all() and table.failed.sum() == 0

    def label(dose, every, threshold):
        return f"{float(dose):g} mg q{float(every):g}d, threshold {float(threshold):g}"

    low, high = summary.benefit.idxmin(), summary.benefit.idxmax()
    match = re.search(r"from ([\d.]+) percentage points \(([\d.]+) mg every ([\d.]+) days, threshold (\d+); (\d+) mg "
                      r"per patient\) to ([\d.]+) \(([\d.]+) mg every ([\d.]+) days, threshold (\d+); (\d+) mg\)", text)
    b0, d0, e0, t0, m0, b1, d1, e1, t1, m1 = match.groups()
    assert label(d0, e0, t0) == low and label(d1, e1, t1) == high
    assert (b0, m0, b1, m1) == (f"{summary.benefit[low]:.1f}", f"{summary.drug_mg[low]:.0f}",
                                f"{summary.benefit[high]:.1f}", f"{summary.drug_mg[high]:.0f}")
    match = re.search(r"The recommended regimen is ([\d.]+) mg every ([\d.]+) days with a threshold of (\d+) CD3/µL, "
                      r"in (\d+) of (\d+) populations \(mean benefit ([\d.]+) points, (\d+) mg per patient\)", text)
    d, e, t, k, of, b, m = match.groups()
    chosen = label(d, e, t)
    assert summary.recommended.idxmax() == chosen and summary.recommended[chosen] == int(k) and int(of) == int(seeds)
    assert (b, m) == (f"{summary.benefit[chosen]:.1f}", f"{summary.drug_mg[chosen]:.0f}")
    match = re.search(r"([\d.]+) mg every ([\d.]+) days gives ([\d.]+) points for (\d+) mg, ([\d.]+) mg every ([\d.]+) "
                      r"days ([\d.]+) points for (\d+) mg \(threshold (\d+)\)", text)
    da, ea, ba, ma, db, eb, bb, mb, t = match.groups()
    for dose, every_, benefit, drug in ((da, ea, ba, ma), (db, eb, bb, mb)):
        row = summary.loc[label(dose, every_, t)]
        assert (benefit, drug) == (f"{row.benefit:.1f}", f"{row.drug_mg:.0f}")
    assert float(ba) > float(bb) and abs(float(ma) - float(mb)) < 0.25 * float(mb)  # similar drug, more benefit
    for _, group in table.groupby("seed"):  # the orderings the paragraph states, in every population
        benefit = group.set_index(["dose", "every", "threshold"]).benefit.sort_index()
        for level in ("dose", "threshold"):
            others = [x for x in ("dose", "every", "threshold") if x != level]
            assert all((x.diff().dropna() > 0).all() for _, x in benefit.groupby(level=others)), level
        assert all(x.iloc[0] > x.iloc[-1] for _, x in benefit.groupby(level=["dose", "threshold"]))


def test_the_speed_page_states_the_long_follow_up_solver_settings():
    from thymosim import simulation

    text = " ".join(page("guide/speed.md").split("**Long follow-up.**", 1)[1].split("**Fast path.**")[0].split())
    rtol = re.search(r"relative tolerance ([0-9.e-]+),", text)
    days = re.search(r"from (\d+) dose-free days on", text)
    assert rtol and float(rtol.group(1)) == simulation.QUIET_RTOL, rtol
    assert days and float(days.group(1)) == simulation.QUIET_SEGMENT, days
