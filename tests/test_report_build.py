"""Building the reports: escaping of user data, and ``make report`` end to end.

The fast tests run the notebooks through the build module on a small dataset
whose page and plan names are HTML and Markdown injections. The tests marked
``slow`` run ``make report`` in a copy of the project (sharing its ``.venv``):
no-op rebuilds, one report rebuilt per params change, failures and interruptions
that leave nothing looking finished, reproducible and parallel-safe builds, and
a build on the reference export whose figures match the plain-Python reference.
Run them with ``pytest -m slow tests/test_report_build.py``.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from journey_utils import build, params
from journey_utils.report import KEY_FIGURES_MIME
from tests import reference as ref

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SHARED = ROOT / "params" / "preprocessing.yaml"

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"
LINK = "[click](javascript:alert(1))"
MATH = r"Deal $\bogus{x}$"  # mathtext would fail to parse this if it were enabled
EVIL_PLAN = '<b onmouseover="alert(1)">Evil</b>'
INJECTED_PAGES = [SCRIPT, IMAGE, LINK, MATH, "*Bold* _page_"]


# ---------------------------------------------------------------- HTML checks


class Page(HTMLParser):
    """Every element, attribute and text of an HTML page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def assert_safe(html: str, *, expect_text=()) -> Page:
    """No element or attribute came from the data; the data's text is shown as text."""
    page = Page(html)
    for tag, attrs in page.tags:
        assert tag != "script", "a script element in the page"
        assert not any(name.lower().startswith("on") for name in attrs), f"event handler on <{tag}>: {attrs}"
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith("javascript:"), f"<{tag} {name}={value!r}>"
            assert not value.startswith(("http:", "https:", "//")), f"<{tag}> loads {value!r}: not offline"
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/"), f"image not inline: {attrs}"
        assert tag != "link" or "stylesheet" not in (attrs.get("rel") or ""), "external stylesheet"
    text = page.all_text
    for expected in expect_text:
        assert expected in text, f"{expected!r} is not shown as text"
    return page


# ------------------------------------------------------------ malicious input


def write_sessions(path: Path, *, users=90, seed=7) -> Path:
    """Sessions whose page and plan names try to inject HTML, Markdown and mathtext."""
    rng = random.Random(seed)
    pages = ["Homepage", "Pricing", "Sign up", "Checkout", "Log in", *INJECTED_PAGES]
    plans = ["Annual", EVIL_PLAN]
    session_id = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "session_id", "subscription_type", "user_journey"])
        for user in range(1, users + 1):
            plan = plans[user % 2]
            for _ in range(rng.randint(1, 5)):
                session_id += 1
                journey = rng.choices(pages, k=rng.randint(2, 7))
                if rng.random() < 0.5:
                    journey[0] = SCRIPT
                writer.writerow([user, session_id, plan, "-".join(journey)])
    return path


@pytest.fixture(scope="module")
def injected_build(tmp_path_factory):
    """The three notebooks run by the build module on the malicious input."""
    folder = tmp_path_factory.mktemp("injected")
    data = write_sessions(folder / "sessions.csv")
    processed = folder / "journeys.csv"
    plan_file = folder / "evil.yaml"
    plan_file.write_text(
        f"plan: {json.dumps(EVIL_PLAN)}\ntop_n: 10\nsequence_lengths: [2, 3]\n"
        f"key_pages: {json.dumps([SCRIPT, IMAGE, 'Pricing'])}\nsession_window: 2\n",
        encoding="utf-8",
    )
    shared = folder / "preprocessing.yaml"
    shared.write_text(f"sessions: All\ncount_from: last\npages_to_remove: {json.dumps([LINK])}\n", encoding="utf-8")
    comparison = folder / "comparison.yaml"
    comparison.write_text(f"plans: []\ntop_n: 5\nsequence_length: 2\nkey_pages: {json.dumps([IMAGE])}\n",
                          encoding="utf-8")
    executed = []
    runs = [
        ("01_preprocessing", plan_file, None, {"output_path": str(processed)}),
        ("02_journey_analysis", plan_file, shared, {"processed_path": str(processed)}),
        ("03_plan_comparison", comparison, shared, {"processed_path": str(processed)}),
    ]
    for name, own, shared_file, extra in runs:
        notebook = NOTEBOOKS / f"{name}.ipynb"
        if name == "01_preprocessing":
            own, shared_file = shared, None
        build.run(notebook, executed=folder / f"{name}.ipynb", html=folder / f"{name}.html", params_file=own,
                  shared_file=shared_file, overrides={"input_path": str(data), **extra})
        executed.append(folder / f"{name}.ipynb")
    build.index(executed, data=data, output=folder / "index.html")
    return folder


@pytest.mark.parametrize("name", ["01_preprocessing", "02_journey_analysis", "03_plan_comparison"])
def test_user_data_is_escaped_in_reports(injected_build, name):
    html = (injected_build / f"{name}.html").read_text(encoding="utf-8")
    expected = {
        "01_preprocessing": [EVIL_PLAN, LINK],
        "02_journey_analysis": [SCRIPT, IMAGE, EVIL_PLAN],
        "03_plan_comparison": [SCRIPT, IMAGE, EVIL_PLAN],
    }[name]
    page = assert_safe(html, expect_text=expected)
    # The raw markup never reaches the page source unescaped.
    assert SCRIPT not in html and IMAGE not in html and EVIL_PLAN not in html
    assert "javascript:alert" not in "".join(a.get("href", "") or "" for _, a in page.tags)


def test_plan_name_in_title_and_contents_is_escaped(injected_build):
    html = (injected_build / "02_journey_analysis.html").read_text(encoding="utf-8")
    page = Page(html)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "<b" not in title and "&lt;b" in title
    assert any(tag == "nav" for tag, _ in page.tags), "a table of contents"


def test_index_is_escaped_and_links_every_report(injected_build):
    html = (injected_build / "index.html").read_text(encoding="utf-8")
    page = assert_safe(html, expect_text=[EVIL_PLAN, "sessions.csv"])
    links = [a["href"] for tag, a in page.tags if tag == "a"]
    assert links == ["01_preprocessing.html", "02_journey_analysis.html", "03_plan_comparison.html"]


def test_reports_are_self_contained(injected_build):
    for path in injected_build.glob("0*.html"):
        html = path.read_text(encoding="utf-8")
        assert_safe(html)
        assert "<style" in html and html.rstrip().endswith("</html>")
        assert "data:image/png;base64," in html
        body = re.sub(r"<style.*?</style>", "", html, flags=re.S)
        assert "jp-InputArea-editor" not in body and "In&nbsp;[" not in body, "code is hidden"


def test_a_plan_that_is_not_in_the_data_fails_clearly(tmp_path, injected_build):
    plan_file = tmp_path / "weekly.yaml"
    plan_file.write_text("plan: Weekly\n", encoding="utf-8")
    executed, html = tmp_path / "weekly.ipynb", tmp_path / "weekly.html"
    with pytest.raises(build.BuildError) as failure:
        build.run(NOTEBOOKS / "02_journey_analysis.ipynb", executed=executed, html=html, params_file=plan_file,
                  overrides={"input_path": str(injected_build / "sessions.csv")})
    message = str(failure.value)
    for part in ("02_journey_analysis.ipynb", "plan 'Weekly'", "weekly.yaml", "cell", "ValueError",
                 "plans present: " + ", ".join(sorted(["Annual", EVIL_PLAN])), "weekly.failed.ipynb"):
        assert part in message, (part, message)
    assert "Traceback" not in message
    assert not executed.exists() and not html.exists()
    assert (tmp_path / "weekly.failed.ipynb").exists()


def test_bad_parameter_types_stop_before_running(tmp_path):
    plan_file = tmp_path / "bad.yaml"
    plan_file.write_text("plan: Annual\ntop_n: ten\n", encoding="utf-8")
    with pytest.raises(params.ParamsError, match=r"bad.yaml: parameter 'top_n' must be int .*found 'ten' \(str\)"):
        build.run(NOTEBOOKS / "02_journey_analysis.ipynb", executed=tmp_path / "x.ipynb", html=tmp_path / "x.html",
                  params_file=plan_file)
    assert not list(tmp_path.glob("x*"))


def test_cli_reports_errors_without_a_traceback(tmp_path):
    plan_file = tmp_path / "bad.yaml"
    plan_file.write_text("plan: Annual\nunknown_key: 1\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "journey_utils.build", "run", str(NOTEBOOKS / "02_journey_analysis.ipynb"),
         "--params", str(plan_file), "--executed", str(tmp_path / "x.ipynb"), "--html", str(tmp_path / "x.html")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "unknown parameter 'unknown_key'" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------- make report end to end

COPIED = ["Makefile", "pyproject.toml", "requirements.lock", "journey_utils", "notebooks", "params", "data/sample"]
REPORT_NAMES = ["01_preprocessing", "02_journey_analysis-all", "02_journey_analysis-annual",
                "02_journey_analysis-monthly", "02_journey_analysis-quarterly", "03_plan_comparison"]
RUN_LINE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def project_copy(folder: Path) -> Path:
    """A copy of the project that builds with the real project's environment."""
    folder.mkdir(parents=True, exist_ok=True)
    for item in COPIED:
        source, target = ROOT / item, folder / item
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (folder / "reports").mkdir()
    (folder / "data" / "raw").mkdir(parents=True)
    (folder / ".venv").symlink_to(ROOT / ".venv")
    return folder


def make_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DATA", "JOBS")}
    return {**env, **extra}


def make(folder: Path, *args, check=True, env=None) -> subprocess.CompletedProcess:
    # -o: never reinstall the shared environment from the copy.
    command = ["make", "--no-print-directory", "-o", ".venv/.installed", *args]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env or make_env())
    if check:
        assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def outputs(folder: Path) -> dict[str, int]:
    """Every build output and its modification time (ns)."""
    found = {}
    for pattern in ("reports/*.html", "build/notebooks/*.ipynb", "data/processed/*.csv"):
        for path in folder.glob(pattern):
            found[str(path.relative_to(folder))] = path.stat().st_mtime_ns
    return found


def built(result) -> list[str]:
    return sorted(re.findall(r"^built (\S+)", result.stdout, re.M))


def expected_files() -> set[str]:
    reports = {f"reports/{n}.html" for n in REPORT_NAMES} | {"reports/index.html"}
    executed = {f"build/notebooks/{n}.ipynb" for n in REPORT_NAMES}
    return reports | executed | {"data/processed/journeys.csv"}


def stable_notebook(path: Path) -> dict:
    """An executed notebook without what changes from run to run (timings, run line)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"].pop("papermill", None)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
        if cell.get("cell_type") == "code" and "injected-parameters" in cell["metadata"].get("tags", []):
            cell["id"] = "injected-parameters"
    return json.loads(RUN_LINE.sub("<run time>", json.dumps(nb)))


def timed(function, *args, **kwargs):
    started = time.monotonic()
    result = function(*args, **kwargs)
    return result, time.monotonic() - started


@pytest.mark.slow
def test_make_report_lifecycle(tmp_path):
    folder = project_copy(tmp_path / "project")

    result, seconds = timed(make, folder, "report")
    print(f"clean make report: {seconds:.1f} s")
    assert set(outputs(folder)) == expected_files()
    index = (folder / "reports" / "index.html").read_text(encoding="utf-8")
    links = [a["href"] for tag, a in assert_safe(index).tags if tag == "a"]
    assert links == [f"{n}.html" for n in REPORT_NAMES]
    for name in REPORT_NAMES:
        assert_safe((folder / "reports" / f"{name}.html").read_text(encoding="utf-8"))

    before = outputs(folder)
    result, seconds = timed(make, folder, "report")
    print(f"no-op make report: {seconds:.2f} s")
    assert outputs(folder) == before and "built" not in result.stdout
    assert seconds < 3

    plan_file = folder / "params" / "monthly.yaml"
    plan_file.write_text(plan_file.read_text().replace("top_n: 10", "top_n: 5"))
    result, seconds = timed(make, folder, "report")
    print(f"make report after one params change: {seconds:.1f} s")
    assert built(result) == ["reports/02_journey_analysis-monthly.html", "reports/index.html"]
    changed = {k for k, v in outputs(folder).items() if before[k] != v}
    assert changed == {"reports/02_journey_analysis-monthly.html", "build/notebooks/02_journey_analysis-monthly.ipynb",
                       "reports/index.html"}

    # What depends on a changed file is rebuilt, and only that.
    (folder / "params" / "comparison.yaml").touch()
    assert built(make(folder, "report")) == ["reports/03_plan_comparison.html", "reports/index.html"]
    (folder / "journey_utils" / "plots.py").touch()
    assert built(make(folder, "report")) == sorted(f"reports/{n}.html" for n in [*REPORT_NAMES, "index"])

    # A plan that is not in the data: make stops, names what failed, leaves nothing finished-looking.
    (folder / "params" / "weekly.yaml").write_text("plan: Weekly\n")
    result = make(folder, "report", check=False)
    assert result.returncode != 0
    for part in ("02_journey_analysis.ipynb", "plan 'Weekly'", "params/weekly.yaml", "cell", "ValueError",
                 "plans present: Annual, Monthly, Quarterly"):
        assert part in result.stderr, (part, result.stderr)
    assert not (folder / "reports" / "02_journey_analysis-weekly.html").exists()
    assert not (folder / "build" / "notebooks" / "02_journey_analysis-weekly.ipynb").exists()
    assert (folder / "build" / "notebooks" / "02_journey_analysis-weekly.failed.ipynb").exists()
    assert not (folder / "reports" / "index.html").exists(), "the index of an unfinished build was left"

    # Removing the plan file brings the build back, and its report leaves the index.
    (folder / "params" / "weekly.yaml").unlink()
    make(folder, "report")
    assert set(outputs(folder)) == expected_files()

    # Another input: every output of the old one goes first, so reports never mix inputs.
    broken = tmp_path / "broken.csv"
    broken.write_text("user_id,session_id\n1,2\n")
    result = make(folder, "report", f"DATA={broken}", check=False)
    assert result.returncode != 0 and "subscription_type" in result.stderr
    assert not list((folder / "reports").glob("*.html")) and not (folder / "data" / "processed" / "journeys.csv").exists()
    result = make(folder, "report", "DATA=missing.csv", check=False)
    assert result.returncode != 0 and "DATA=missing.csv: no such file" in result.stderr


@pytest.mark.slow
def test_interrupted_build_leaves_nothing_finished_and_the_next_build_completes(tmp_path):
    folder = project_copy(tmp_path / "project")
    process = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "report"], cwd=folder,
                               env=make_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not (folder / "reports" / "01_preprocessing.html").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)  # the plan reports are now half-way through
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(1.0)

    for path in (folder / "reports").glob("*.html"):
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path
        executed = folder / "build" / "notebooks" / (path.stem + ".ipynb")
        assert path.name == "index.html" or executed.exists(), f"{path.name} without its executed notebook"
    for path in (folder / "build" / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["papermill"].get("end_time"), f"{path.name} looks finished but is not"
    assert not (folder / "reports" / "index.html").exists()

    make(folder, "report")
    assert set(outputs(folder)) == expected_files()
    make(folder, "report")


@pytest.mark.slow
def test_parallel_and_serial_clean_builds_are_identical(tmp_path):
    serial = project_copy(tmp_path / "serial")
    parallel = project_copy(tmp_path / "parallel")
    _, seconds_serial = timed(make, serial, "-j1", "report")
    _, seconds_parallel = timed(make, parallel, "-j4", "report")
    print(f"clean make -j1 report: {seconds_serial:.1f} s; make -j4 report: {seconds_parallel:.1f} s")

    processed = "data/processed/journeys.csv"
    assert (serial / processed).read_bytes() == (parallel / processed).read_bytes()
    for name in REPORT_NAMES:
        executed = f"build/notebooks/{name}.ipynb"
        assert stable_notebook(serial / executed) == stable_notebook(parallel / executed), name
        pages = [RUN_LINE.sub("", (f / "reports" / f"{name}.html").read_text(encoding="utf-8"))
                 for f in (serial, parallel)]
        assert pages[0] == pages[1], f"{name}.html differs beyond its run-time line"
    indexes = [RUN_LINE.sub("", (f / "reports" / "index.html").read_text(encoding="utf-8")) for f in (serial, parallel)]
    assert indexes[0] == indexes[1]


def key_figures(path: Path) -> dict[str, str]:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(KEY_FIGURES_MIME)
            if payload:
                return {f["label"]: f["text"] for f in payload["figures"]}
    raise AssertionError(f"no key figures in {path}")


class Table(HTMLParser):
    """The body rows of an HTML table, as text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(path: Path, cell_id: str) -> list[list[str]]:
    """The rows of the table a cell displayed, as shown in the report."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    html = next(o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {}))
    return [row for row in Table(html).rows if row]


@pytest.mark.slow
def test_report_on_the_reference_export_matches_the_reference_implementation(tmp_path, reference_path,
                                                                              reference_rows):
    folder = project_copy(tmp_path / "project")
    make(folder, "report", f"DATA={reference_path}")
    executed = folder / "build" / "notebooks"
    index = (folder / "reports" / "index.html").read_text(encoding="utf-8")
    assert reference_path.name in index

    grouped = ref.preprocess(reference_rows)  # params/preprocessing.yaml: all sessions, no page removed
    assert params.load(folder / "params" / "preprocessing.yaml") == {
        "sessions": "All", "count_from": "last", "pages_to_remove": []}
    with (folder / "data" / "processed" / "journeys.csv").open(encoding="utf-8") as handle:
        processed = {int(r["user_id"]): (r["subscription_type"], r["user_journey"]) for r in csv.DictReader(handle)}
    assert processed == {user: (plan, journey) for user, (plan, journey, _) in grouped.items()}

    for plan in ("All", "Annual", "Monthly", "Quarterly"):
        path = executed / f"02_journey_analysis-{plan.lower()}.ipynb"
        journeys = ref.journeys_for_plan(grouped, plan)
        n = len(journeys)
        lengths = ref.journey_lengths(journeys)
        presence = ref.ranked(ref.page_presence(journeys))
        runs = ref.ranked(ref.page_sequences(journeys, 3))
        figures = key_figures(path)
        assert figures["Users"] == f"{n:,}"
        assert figures["Mean pages per journey"] == f"{sum(lengths) / n:,.1f}"
        assert figures["Most common page"] == presence[0][0]
        assert figures["Journeys with it"] == f"{presence[0][1] / n:.1%}"
        assert figures["Most common run of 3 pages"] == " → ".join(runs[0][0].split("-"))
        assert figures["Journeys with that run"] == f"{runs[0][1] / n:.1%}"

        counts = ref.page_count(journeys)
        expected = [[page, f"{k:,}", f"{k / n:.1%}", f"{counts[page]:,}"] for page, k in presence[:10]]
        assert [row[:4] for row in table_rows(path, "pages-table")] == expected

        follow = []
        for page in ("Pricing", "Homepage", "Sign up"):
            destinations = ref.ranked(ref.page_destinations(journeys, page))
            total = sum(c for _, c in destinations)
            follow += [[page, nxt, f"{c:,}", f"{c / total:.1%}"] for nxt, c in destinations[:5]]
        assert table_rows(path, "follow-ups") == follow

    comparison = key_figures(executed / "03_plan_comparison.ipynb")
    for plan in ("Annual", "Monthly", "Quarterly"):
        journeys = ref.journeys_for_plan(grouped, plan)
        assert comparison[f"Users: {plan}"] == f"{len(journeys):,}"
        assert comparison[f"Mean pages per journey: {plan}"] == f"{sum(ref.journey_lengths(journeys)) / len(journeys):,.1f}"
