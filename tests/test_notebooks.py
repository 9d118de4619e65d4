"""The committed notebooks: structure, kernel, and stored outputs fit for nbval.

``make test`` runs nbval on these notebooks (``--nbval-lax``): cells marked
``# NBVAL_CHECK_OUTPUT`` must reproduce their stored outputs. These tests check
what nbval relies on: the ``python3`` kernel, outputs that were actually stored
on the bundled sample, and nothing in checked outputs that changes between runs
(timestamps, memory addresses, machine paths).
"""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import journey_utils as ju
from journey_utils.report import KEY_FIGURES_MIME, REPORT_MIME, SUMMARY_MIME
from tests.other_site import report_problems, write_other_site

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_PATHS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHECK = "NBVAL_CHECK_OUTPUT"
REMOVED = "remove-cell"
VOLATILE = {
    "timestamp": re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"),
    "memory address": re.compile(r"0x[0-9a-fA-F]{6,}"),
    "machine path": re.compile(r"(?:/(?:work|tmp|home|root|Users|var)/|[A-Za-z]:\\\\)"),
}


@pytest.fixture(params=NOTEBOOK_PATHS, ids=lambda p: p.name)
def notebook(request):
    return nbformat.read(request.param, as_version=4)


def checked(nb):
    return [c for c in nb.cells if c.cell_type == "code" and any(
        line.strip().lstrip("#").strip() == CHECK for line in c.source.splitlines())]


def output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return "\n".join(str(v) for k, v in data.items() if not k.startswith("image/"))


def test_the_three_pipeline_notebooks_are_there():
    assert [p.name for p in NOTEBOOK_PATHS] == [
        "01_preprocessing.ipynb", "02_journey_analysis.ipynb", "03_plan_comparison.ipynb"]


def test_valid_and_saved_with_the_python3_kernel(notebook):
    nbformat.validate(notebook)
    spec = notebook.metadata["kernelspec"]
    # A custom kernel name (a venv's own) breaks papermill -k, nbval and Lab elsewhere.
    assert spec["name"] == "python3" and spec["language"] == "python"
    assert notebook.metadata.get("language_info", {}).get("name") == "python"


def test_cell_ids_are_unique_and_readable(notebook):
    ids = [c.id for c in notebook.cells]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids), ids


def test_one_parameters_cell_and_one_header_cell(notebook):
    tags = [c.metadata.get("tags", []) for c in notebook.cells]
    assert sum("parameters" in t for t in tags) == 1
    assert sum("header" in t for t in tags) == 1
    assert sum("injected-parameters" in t for t in tags) == 0, "a papermill output was committed"


def visible(notebook):
    """(cell, output) pairs a reader sees, in order (the HTML hides code and removed cells)."""
    for cell in notebook.cells:
        if REMOVED in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            yield cell, None
        for output in cell.get("outputs", []):
            if not (output.output_type == "stream" and output.name == "stderr"):
                yield cell, output


def test_the_report_opens_with_its_header_and_summary_and_ends_with_what_it_ran_on(notebook):
    """Title first, then the executive summary before any section; inputs, run and parameters at the end."""
    shown = list(visible(notebook))
    if not any(output for _, output in shown):
        pytest.fail("no cell has output: run make notebooks")
    cell, first = shown[0]
    assert first is not None, f"markdown cell {cell.id!r} is shown before the header"
    assert "header" in cell.metadata.get("tags", []), f"cell {cell.id!r} shows output before the header"
    data = first.get("data", {})
    assert str(data.get("text/markdown", "")).startswith("# "), "the header starts with the report title"
    assert REPORT_MIME in data, "the header tells the index which plans the report covers"
    opening = []
    for cell, output in shown:
        if output is None and re.search(r"^## ", cell.source, re.MULTILINE):
            break
        opening.append(output)
    assert any(o is not None and SUMMARY_MIME in o.get("data", {}) for o in opening), (
        "the executive summary (report.summary) comes before the first section")
    closing = "\n".join(output_text(o) for _, o in shown[-3:] if o is not None)
    for needed in ("Sessions", "checksum", "Run", "Parameters"):
        assert needed in closing, f"the appendix (report.appendix) at the end says {needed}"


def test_stored_outputs_are_complete_and_clean(notebook):
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"cell {cell.id!r} was not run: run make notebooks"
        for output in cell.outputs:
            assert output.output_type != "error", f"cell {cell.id!r} stored an error"
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"cell {cell.id!r} wrote to stderr: {output.text[:200]}")
        assert "execution" not in cell.metadata, "timing metadata was stored"


def test_checked_cells_hold_result_tables_without_volatile_text(notebook):
    cells = checked(notebook)
    assert len(cells) >= 3, "each notebook checks its key result tables"
    for cell in cells:
        assert cell.outputs, f"checked cell {cell.id!r} has no stored output: run make notebooks"
        for output in cell.outputs:
            text = output_text(output)
            for what, pattern in VOLATILE.items():
                assert not pattern.search(text), f"{what} in the checked output of {cell.id!r}"
    assert any(KEY_FIGURES_MIME in o.get("data", {}) for c in cells for o in c.outputs), "key figures are checked"


def test_chart_cells_show_their_charts_with_plt_show(notebook):
    # Under nbval a trailing ';' does not suppress a figure's repr; plt.show() does. Only prose may follow it.
    for cell in notebook.cells:
        if cell.cell_type == "code" and "plots." in cell.source:
            lines = cell.source.rstrip().splitlines()
            shows = [i for i, line in enumerate(lines) if line.strip() == "plt.show()"]
            draws = [i for i, line in enumerate(lines) if "plots." in line]
            assert shows and max(draws) < max(shows), cell.id


def test_no_number_is_typed_into_the_prose(notebook):
    """Every number a reader sees comes from a variable: static Markdown holds none."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and REMOVED not in cell.metadata.get("tags", []):
            assert not re.search(r"\d", cell.source), f"markdown cell {cell.id!r} types a number"


# A replacement field left in the text a reader sees: an f-string missing its 'f'.
UNFORMATTED = re.compile(r"\{[A-Za-z_][\w.]*(\(.*?\))?(![rsa])?(:[^{}]*)?\}")


def test_no_unformatted_field_reaches_the_reader(notebook):
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            for mime in ("text/markdown", "text/html", "text/plain"):
                text = output.get("data", {}).get(mime, "")
                text = text if isinstance(text, str) else "".join(text)
                found = UNFORMATTED.search(text)
                assert not found, f"cell {cell.id!r} shows {found.group(0)!r}: an f-string lacks its 'f'"


def test_paths_are_anchored_on_the_project(notebook):
    """nbval runs the kernel in notebooks/: files are found through report.resolve, never relative paths."""
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "report.resolve(input_path)" in code
    assert not re.search(r"""(read_csv|open|load_sessions)\(\s*["']""", code)


def test_stored_outputs_come_from_the_bundled_sample(notebook):
    """The appendix's checksum is the sample's: stored results are current with the data."""
    appendix = [o for c in notebook.cells if c.get("cell_type") == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "display_data" and "About this report" in output_text(o)]
    digest = hashlib.sha256(ju.SAMPLE_PATH.read_bytes()).hexdigest()[:12]
    assert len(appendix) == 1 and digest in output_text(appendix[0]), (
        "stored outputs were made on another input than data/sample/user_journeys_sample.csv: run make notebooks")


@pytest.mark.slow
def test_nbval_fails_when_a_checked_result_changes(tmp_path):
    """The stored outputs are a real check: a different result fails until make notebooks."""
    nb = nbformat.read(ROOT / "notebooks" / "02_journey_analysis.ipynb", as_version=4)
    cell = next(c for c in checked(nb) if c.id == "pages-table")
    for output in cell.outputs:
        for kind in ("text/plain", "text/html"):
            output.data[kind] = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), output.data[kind], count=1)
    changed = tmp_path / "changed.ipynb"
    nbformat.write(nb, changed)
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax", str(changed)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "1 failed" in result.stdout and "reference_output == test_output" in result.stdout


# ------------------------------------------------------------ plan comparison

COMPARISON = ROOT / "notebooks" / "03_plan_comparison.ipynb"
HOW_TO_READ = "*How to read this:*"


def cells_by_id(nb) -> dict:
    return {c.id: c for c in nb.cells}


def test_charts_explain_themselves_in_the_cell_that_draws_them(notebook):
    """'How to read this' is shown by the chart's own cell, after the chart, so it never outlives it."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and REMOVED not in cell.metadata.get("tags", []):
            assert "How to read this" not in cell.source, f"{cell.id}: a static explanation can be orphaned"
    for cell in notebook.cells:
        if cell.cell_type == "code" and "how_to_read(" in cell.source and "def how_to_read" not in cell.source:
            assert "plt.show()" in cell.source, f"{cell.id}: an explanation in a cell that draws no chart"
            assert cell.source.index("plt.show()") < cell.source.index("how_to_read("), cell.id


@pytest.mark.parametrize("path", [ROOT / "notebooks" / "02_journey_analysis.ipynb",
                                  ROOT / "notebooks" / "03_plan_comparison.ipynb"], ids=lambda p: p.name)
def test_stored_analysis_reports_show_nothing_empty(path):
    """The committed outputs pass the checks run on other websites' reports."""
    assert report_problems(path) == []


def test_parameters_leave_pages_and_plans_to_the_data():
    sources = {path.stem: next(c.source for c in nbformat.read(path, as_version=4).cells
                               if "parameters" in c.metadata.get("tags", [])) for path in NOTEBOOK_PATHS}
    analysis, comparison = sources["02_journey_analysis"], sources["03_plan_comparison"]
    assert "plans: list[str] = []" in analysis and re.search(r"^plan:", analysis, re.MULTILINE) is None
    for source in (analysis, comparison):
        assert "key_pages: list[str] = []" in source
    assert 'next_pages_of: str = ""' in comparison and 'anchor_page: str = ""' in comparison


def test_comparison_checks_its_findings_and_claims_tables():
    nb = nbformat.read(COMPARISON, as_version=4)
    assert {"findings-table", "claims-table"} <= {c.id for c in checked(nb)}
    sources = "\n".join(c.source for c in nb.cells)
    # Seeded statistics, never typed results: the verdicts come from evaluate_claims on the data.
    assert "claims.evaluate_claims(data.users" in sources and "compare.top_differences(" in sources


def test_comparison_stored_claims_table_has_a_verdict_per_claim_and_scope():
    from journey_utils.claims import DEFAULT_CLAIMS, VERDICTS
    from tests.test_report_build import table_rows

    rows = table_rows(COMPARISON, "claims-table")
    assert [int(r[0]) for r in rows] == [n for n in range(1, len(DEFAULT_CLAIMS) + 1) for _ in range(2)], (
        "two scopes per claim, in order")
    assert all(r[2] in VERDICTS for r in rows)


def write_designed_sessions(path: Path, *, seed: int = 3) -> Path:
    """Sessions built to support claims 1, 2 and 4 and to contradict claim 3, with a small third plan.

    Annual buyers open with Pricing and visit Resources center and Career tracks;
    Monthly buyers reach Pricing late and rarely see either page; every buyer's
    last sessions are log-ins and checkouts.
    """
    import csv
    import random

    rng = random.Random(seed)
    browse = ["Homepage", "Courses", "Sign up", "Blog", "Other"]
    session_id = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "session_id", "subscription_type", "user_journey"])
        plans = ["Annual"] * 150 + ["Monthly"] * 150 + ["Quarterly"] * 20
        for user, plan in enumerate(plans, start=1):
            for number in range(rng.randint(6, 9)):
                session_id += 1
                if number >= 3 and rng.random() < 0.8:
                    pages = ["Log in", "Checkout"]
                else:
                    pages = rng.sample(browse, k=3)
                    if number == 0 and plan == "Annual":
                        pages = ["Pricing", *pages]
                    if number == 2 and plan != "Annual":
                        pages = [*pages, "Pricing"]
                    if number == 1 and plan == "Annual" and rng.random() < 0.8:
                        pages.append("Resources center")
                    if number == 1 and plan == "Annual" and rng.random() < 0.7:
                        pages.append("Career tracks")
                    if number == 1 and plan != "Annual" and rng.random() < 0.1:
                        pages.append(rng.choice(["Resources center", "Career tracks"]))
                writer.writerow([user, session_id, plan, "-".join(pages)])
    return path


def test_comparison_verdicts_and_findings_follow_the_data(tmp_path):
    """Run on data built to support some claims and contradict another: the report says so."""
    from journey_utils import build
    from tests.test_report_build import table_rows

    data = write_designed_sessions(tmp_path / "designed.csv")
    executed = tmp_path / "03.ipynb"
    build.run(COMPARISON, executed=executed, html=tmp_path / "03.html",
              params_file=ROOT / "params" / "comparison.yaml", shared_file=ROOT / "params" / "preprocessing.yaml",
              overrides={"input_path": str(data)})
    verdicts = {(row[0], row[1]): row[2] for row in table_rows(executed, "claims-table")}
    assert verdicts[("1", "all sessions")] == "supported"
    assert verdicts[("2", "all sessions")] == "supported"
    assert verdicts[("3", "all sessions")] == "not supported"
    assert verdicts[("4", "first 3 vs last 3 sessions")] == "supported"
    findings = table_rows(executed, "findings-table")
    assert findings and all(row[3] in ("Annual", "Monthly") for row in findings[:3]), "Quarterly is never ranked first"
    assert {"Resources center", "Career tracks"} & {row[2] for row in findings}
    nb = nbformat.read(executed, as_version=4)
    caution = output_text(cells_by_id(nb)["small-plans"].outputs[0])
    assert "Quarterly" in caution and "20" in caution


# ------------------------------------------------------------ another website's export

ANALYSIS = ROOT / "notebooks" / "02_journey_analysis.ipynb"
OTHER_RUNS = {
    # Named pages the data does not contain: said once, their sections left out.
    "analysis-all-plans-missing-pages": (ANALYSIS, {"plans": 4}, {"key_pages": ["Pricing", "Cart", "Homepage"]}),
    "analysis-one-plan": (ANALYSIS, {"plans": 3}, {"plans": ["Free trial → Pro"]}),
    "comparison-missing-pages": (COMPARISON, {"plans": 3}, {
        "key_pages": ["Pricing", "Search"], "anchor_page": "Checkout", "next_pages_of": "Pricing"}),
    "comparison-chosen-pages-one-buyer-plan": (COMPARISON, {"plans": 5, "smallest": 1}, {}),
    "comparison-one-plan": (COMPARISON, {"plans": 3}, {"plans": ["Team/Org"]}),
    "comparison-plan-named-all": (COMPARISON, {"plans": 6}, {}),
}


@pytest.fixture(scope="module")
def other_site_reports(tmp_path_factory):
    """Every run of OTHER_RUNS executed with papermill (in parallel), as name -> executed notebook path."""
    import json
    import os
    from concurrent.futures import ThreadPoolExecutor

    folder = tmp_path_factory.mktemp("other-site")
    environment = {**os.environ, "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}

    def run(name):
        notebook, site, parameters = OTHER_RUNS[name]
        data = write_other_site(folder / f"{name}.csv", users=600, seed=len(name), **site)
        executed = folder / f"{name}.ipynb"
        arguments = [sys.executable, "-m", "papermill", "-k", "python3", "--cwd", str(ROOT / "notebooks"),
                     str(notebook), str(executed), "-p", "input_path", str(data),
                     "-y", json.dumps(parameters)]
        subprocess.run(arguments, capture_output=True, text=True, env=environment, check=False)
        return name, executed

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(run, OTHER_RUNS))


@pytest.mark.parametrize("name", list(OTHER_RUNS))
def test_another_sites_report_shows_nothing_empty(other_site_reports, name):
    executed = other_site_reports[name]
    assert executed.is_file(), f"{name}: papermill wrote no notebook"
    assert report_problems(executed) == []


def test_another_sites_reports_say_what_was_chosen_and_what_is_missing(other_site_reports):
    def shown(name):
        nb = nbformat.read(other_site_reports[name], as_version=4)
        return "\n".join(output_text(o) for c in nb.cells for o in c.get("outputs", []))

    text = shown("analysis-all-plans-missing-pages")
    assert "are not pages of these journeys" in text and "Pricing" in text
    assert "Journeys with Pricing" not in text, "a missing page gets no row"
    text = shown("comparison-missing-pages")
    assert "**Checkout** (parameter `anchor_page`) is not a page of these journeys" in text
    assert "Pricing: where journeys first reach it" not in text
    text = shown("comparison-chosen-pages-one-buyer-plan")
    assert "the page where journeys most often end (the purchase step)" in text
    assert "pages in the most journeys" in text
    assert "nothing to compare" in shown("comparison-one-plan")
    assert "Journey analysis: Free trial → Pro" in shown("analysis-one-plan")


def test_the_checks_find_each_kind_of_empty_report():
    """Each check of tests.other_site flags what it is meant to, and passes a sound report."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from tests.other_site import (
        empty_charts,
        failed_cells,
        orphaned_explanations,
        silent_sections,
        zero_tables,
    )

    def table(rows):
        body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows)
        return new_output("display_data", data={"text/html": f'<table id="T_x"><thead><tr><th>a</th></tr></thead>'
                                                             f"<tbody>{body}</tbody></table>", "text/plain": "x"})

    def markdown(text):
        return new_output("display_data", data={"text/markdown": text})

    image = new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    sound = new_notebook(cells=[
        new_markdown_cell("## Pages"),
        new_code_cell("", outputs=[markdown("Two pages."), table([["A", "3", "50.0%"], ["B", "0", "10.0%"]]),
                                   image, markdown("*How to read this:* bars.")]),
        new_markdown_cell("## Empty section, said"),
        new_code_cell("", outputs=[markdown("No journey has 3 pages or more.")]),
    ])
    assert report_problems(sound) == []
    zeros = new_notebook(cells=[new_code_cell("", outputs=[table([["A", "0", "0.0%"], ["B", "0", "12.0%"]])])])
    assert [p.split(": ", 1)[1] for p in zero_tables(zeros)] == [
        "table 'T_x' column 2 is zero on every row", "table 'T_x' has a row of zeros: ['A', '0', '0.0%']"]
    orphan = new_notebook(cells=[new_code_cell("", outputs=[markdown("*How to read this:* bars.")]),
                                 new_markdown_cell("*How to read this:* dots.")])
    assert len(orphaned_explanations(orphan)) == 2
    silent = new_notebook(cells=[new_markdown_cell("## Pages"), new_code_cell("", outputs=[]),
                                 new_markdown_cell("## Runs"), new_code_cell("", outputs=[markdown("Some.")])])
    assert [p.split(": ", 1)[1] for p in silent_sections(silent)] == ["section '## Pages' shows nothing"]
    warned = new_notebook(cells=[new_code_cell("", outputs=[new_output(
        "stream", name="stderr", text="EmptyChartWarning: chart 'x' has no data to show")])])
    assert len(empty_charts(warned)) == 1
    failed = new_notebook(cells=[new_code_cell("", outputs=[new_output(
        "error", ename="ValueError", evalue="boom", traceback=[])])])
    assert failed_cells(failed)[0].endswith("ValueError: boom")
