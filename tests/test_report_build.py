"""Building the reports: escaping of user data, and ``make report`` end to end.

The fast tests run the notebooks through the build module on a small dataset
whose page and plan names are HTML and Markdown injections, and the build's
steps on their own: ``prepare`` (the prepared per-user folder, with either
engine), ``plans`` and ``index`` reading that folder. The tests marked
``slow`` run ``make report`` in a copy of the project (sharing its ``.venv``):
no-op rebuilds, one report rebuilt per params change, failures and interruptions
that leave nothing looking finished, reproducible and parallel-safe builds, and
a build on the reference export whose figures match the plain-Python reference.
Run them with ``pytest -m slow tests/test_report_build.py``.
"""

from __future__ import annotations

import csv
import functools
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
from hypothesis import given, settings
from hypothesis import strategies as st

from journey_utils import build
from journey_utils.build import params
from journey_utils.report import KEY_FIGURES_MIME, SUMMARY_MIME
from tests import reference as ref

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SHARED = ROOT / "params" / "preprocessing.yaml"


@functools.cache
def notebooks_read_prepared_data() -> bool:
    """Whether the notebooks take the prepared folder as their input (no processed_path, no sessions_output_path)."""
    declared = {name: params.notebook_parameters(NOTEBOOKS / f"{name}.ipynb")
                for name in ("01_preprocessing", "02_journey_analysis", "03_plan_comparison")}
    return ("sessions_output_path" not in declared["01_preprocessing"]
            and not any("processed_path" in d for d in declared.values()))


NEEDS_NOTEBOOKS_REASON = ("needs the notebooks that read the prepared folder (input_path=data/processed/users; "
                          "no processed_path, no sessions_output_path)")
#: Tests that run the notebooks on a prepared folder: skipped, with this reason, until the notebooks take one.
needs_new_notebooks = pytest.mark.skipif("not notebooks_read_prepared_data()", reason=NEEDS_NOTEBOOKS_REASON)

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


_BUILT: dict[str, Path] = {}


def injected_reports(tmp_path_factory) -> Path:
    """The folder of the reports built on the malicious input: built once per test session.

    Shared by the escaping tests here and the browser test (tests/test_browser.py).
    """
    if not notebooks_read_prepared_data():
        pytest.skip(NEEDS_NOTEBOOKS_REASON)
    if "injected" not in _BUILT:
        _BUILT["injected"] = _build_injected(tmp_path_factory.mktemp("injected"))
    return _BUILT["injected"]


@pytest.fixture(scope="module")
def injected_build(tmp_path_factory):
    """The three notebooks run by the build module on the malicious input, and their index."""
    return injected_reports(tmp_path_factory)


def _build_injected(folder: Path) -> Path:
    """As make report does: the prepared folder first, then the three notebooks on it, then the index."""
    data = write_sessions(folder / "sessions.csv")
    processed = folder / "journeys.parquet"
    settings = folder / "params"
    (settings / "plans").mkdir(parents=True)
    plan_file = settings / "plans" / "evil.yaml"
    plan_file.write_text(
        f"plans: [{json.dumps(EVIL_PLAN)}]\ntop_n: 10\nsequence_lengths: [2, 3]\n"
        f"key_pages: {json.dumps([SCRIPT, IMAGE, 'Pricing'])}\nsession_window: 2\n",
        encoding="utf-8",
    )
    shared = settings / "preprocessing.yaml"
    shared.write_text(f"sessions: All\ncount_from: last\npages_to_remove: {json.dumps([LINK])}\n", encoding="utf-8")
    comparison = settings / "comparison.yaml"
    comparison.write_text(f"plans: []\ntop_n: 5\nsequence_length: 2\nkey_pages: {json.dumps([IMAGE])}\n",
                          encoding="utf-8")
    users = folder / "users"
    build.prepare(data, users, params_dir=settings)
    executed = []
    runs = [
        ("01_preprocessing", shared, None, {"output_path": str(processed)}),
        ("02_journey_analysis", plan_file, shared, {}),
        ("03_plan_comparison", comparison, shared, {}),
    ]
    for name, own, shared_file, extra in runs:
        build.run(NOTEBOOKS / f"{name}.ipynb", executed=folder / f"{name}.ipynb", html=folder / f"{name}.html",
                  params_file=own, shared_file=shared_file, overrides={"input_path": str(users), **extra})
        executed.append(folder / f"{name}.ipynb")
    build.index(executed, data=data, users=users, output=folder / "index.html")
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
    title = re.search(r"<title>(.*?)</title>", html, re.DOTALL).group(1)
    assert "<b" not in title and "&lt;b" in title
    assert any(tag == "nav" for tag, _ in page.tags), "a table of contents"


def test_index_is_escaped_and_links_every_report(injected_build):
    html = (injected_build / "index.html").read_text(encoding="utf-8")
    page = assert_safe(html, expect_text=[EVIL_PLAN, "sessions.csv"])
    links = [a["href"] for tag, a in page.tags if tag == "a"]
    assert links == ["01_preprocessing.html", "02_journey_analysis.html", "03_plan_comparison.html"]


def _index_row(html: str, href: str) -> str:
    """The text a reader sees in the index row of one report."""
    row = next(r for r in html.split("<tr>") if f'href="{href}"' in r)
    return Page(row).all_text


def test_index_gives_each_reports_headline_and_the_plans_it_covers(injected_build):
    html = (injected_build / "index.html").read_text(encoding="utf-8")
    for name in ("01_preprocessing", "02_journey_analysis", "03_plan_comparison"):
        nb = nbformat.read(injected_build / f"{name}.ipynb", as_version=4)
        summary = next(o["data"][SUMMARY_MIME] for c in nb.cells for o in c.get("outputs", [])
                       if SUMMARY_MIME in o.get("data", {}))
        row = _index_row(html, f"{name}.html")
        assert summary["takeaways"] and summary["takeaways"][0]["headline"] in row, f"{name}: no headline"
        assert "(none)" not in row.split("parameter")[0]
    assert f"Plan: {EVIL_PLAN}" in _index_row(html, "02_journey_analysis.html")
    compared = _index_row(html, "03_plan_comparison.html")
    assert EVIL_PLAN in compared and "Annual" in compared and "every plan in the data" not in compared, (
        "the comparison row names the plans compared")


def test_the_frame_of_every_report_is_escaped_and_complete(injected_build):
    """Back link, summary, cautions, methods blocks and chart descriptions: present, and names as text."""
    for name in ("01_preprocessing", "02_journey_analysis", "03_plan_comparison"):
        html = (injected_build / f"{name}.html").read_text(encoding="utf-8")
        page = assert_safe(html)
        classes = [a.get("class") or "" for _, a in page.tags]
        assert "summary" in classes and "toc" in classes, f"{name}: executive summary and contents"
        assert 'href="index.html"' in html, f"{name}: a link back to the index"
        alts = [a.get("alt") for tag, a in page.tags if tag == "img"]
        assert alts and all(alts) and "No description has been provided for this image" not in alts, name
        # Every block of the frame shows the injected names as text, never as markup.
        for block in ("summary", "caution", "methods"):
            for fragment in re.findall(rf'<(?:section|div|details) class="{block}".*?</(?:section|div|details)>',
                                       html, re.DOTALL):
                assert SCRIPT not in fragment and IMAGE not in fragment and EVIL_PLAN not in fragment
                assert_safe(fragment)
    analysis = (injected_build / "02_journey_analysis.html").read_text(encoding="utf-8")
    assert EVIL_PLAN in Page(analysis).all_text and 'class="caution"' in analysis, "a small plan is cautioned"


def test_reports_are_self_contained(injected_build):
    for path in injected_build.glob("0*.html"):
        html = path.read_text(encoding="utf-8")
        assert_safe(html)
        assert "<style" in html and html.rstrip().endswith("</html>")
        assert "data:image/png;base64," in html
        body = re.sub(r"<style.*?</style>", "", html, flags=re.DOTALL)
        assert "jp-InputArea-editor" not in body and "In&nbsp;[" not in body, "code is hidden"


def test_a_plan_that_is_not_in_the_data_fails_clearly(tmp_path, injected_build):
    plan_file = tmp_path / "weekly.yaml"
    plan_file.write_text("plans: [Weekly]\n", encoding="utf-8")
    executed, html = tmp_path / "weekly.ipynb", tmp_path / "weekly.html"
    with pytest.raises(build.BuildError) as failure:
        build.run(NOTEBOOKS / "02_journey_analysis.ipynb", executed=executed, html=html, params_file=plan_file,
                  shared_file=injected_build / "params" / "preprocessing.yaml",
                  overrides={"input_path": str(injected_build / "users")})
    message = str(failure.value)
    for part in ("02_journey_analysis.ipynb", "plan 'Weekly'", "weekly.yaml", "cell", "ValueError",
                 "plans present: " + ", ".join(sorted(["Annual", EVIL_PLAN])), "weekly.failed.ipynb"):
        assert part in message, (part, message)
    assert "Traceback" not in message
    assert not executed.exists() and not html.exists()
    assert (tmp_path / "weekly.failed.ipynb").exists()


def test_bad_parameter_types_stop_before_running(tmp_path):
    plan_file = tmp_path / "bad.yaml"
    plan_file.write_text("plans: [Annual]\ntop_n: ten\n", encoding="utf-8")
    with pytest.raises(params.ParamsError, match=r"bad.yaml: parameter 'top_n' must be int .*found 'ten' \(str\)"):
        build.run(NOTEBOOKS / "02_journey_analysis.ipynb", executed=tmp_path / "x.ipynb", html=tmp_path / "x.html",
                  params_file=plan_file)
    assert not list(tmp_path.glob("x*"))


def test_cli_reports_errors_without_a_traceback(tmp_path):
    plan_file = tmp_path / "bad.yaml"
    plan_file.write_text("plans: [Annual]\nunknown_key: 1\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "journey_utils.build", "run", str(NOTEBOOKS / "02_journey_analysis.ipynb"),
         "--params", str(plan_file), "--executed", str(tmp_path / "x.ipynb"), "--html", str(tmp_path / "x.html")],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "unknown parameter 'unknown_key'" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------ plans from the data: slugs and reports.mk

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def test_plain_plan_names_keep_their_readable_slug():
    assert build.plan_slugs(["Annual", "Monthly", "Free trial → Pro", "Über", "Team/Org"]) == {
        "Annual": "annual", "Monthly": "monthly", "Free trial → Pro": "free-trial-pro", "Über": "uber",
        "Team/Org": "team-org"}


@pytest.mark.parametrize(("plans", "plain"), [
    (["Annual", "annual", "ANNUAL"], []),   # differ only by case: one file each, even on a case-insensitive disk
    (["Team/Org", "Team Org", "team-org"], []),
    (["All", "Annual"], ["Annual"]),        # 'all' is the all-plans report's
    (["日本", "中国", "!!!", " "], []),      # nothing left after folding to ASCII
    (["x" * 300, "x" * 299 + "y"], []),     # long names are cut, and still differ
])
def test_slugs_are_safe_and_unique_when_plain_ones_would_clash(plans, plain):
    slugs = build.plan_slugs(plans)
    assert list(slugs) == plans
    assert all(SLUG.fullmatch(s) and len(s) <= 60 for s in slugs.values()), slugs
    assert len({s.casefold() for s in slugs.values()}) == len(plans), slugs
    assert build.ALL_PLANS_SLUG not in slugs.values()
    for plan, slug in slugs.items():
        # A clash is resolved by the exact name's hash, so each keeps a readable stem.
        hashed = re.fullmatch(r"[a-z0-9-]*-[0-9a-f]{8}", slug)
        assert (plan in plain) is not bool(hashed), (plan, slug)
    assert build.plan_slugs(list(reversed(plans))) == slugs, "a plan's slug does not depend on order"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=8, unique=True))
def test_slugs_of_any_plan_names_are_safe_and_unique(plans):
    slugs = build.plan_slugs(plans)
    assert all(SLUG.fullmatch(s) for s in slugs.values()), slugs
    assert len({s.casefold() for s in slugs.values()} | {build.ALL_PLANS_SLUG}) == len(plans) + 1, slugs


def write_plans_parquet(folder: Path, plans) -> Path:
    """A stand-in for the prepared folder: the plans step reads only its manifest and the users' plan column.

    The plans are spread over two parts (each plan in one of them), dictionary-encoded in one.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil.rmtree(folder, ignore_errors=True)
    (folder / "users").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"format": 1}), encoding="utf-8")
    plans = list(plans)
    for number, chunk in enumerate([plans[::2], plans[1::2]]):
        column = pa.array(chunk * 3, type=pa.string())
        if number == 0:
            column = column.dictionary_encode()
        pq.write_table(pa.table({"user_id": pa.array(range(len(chunk) * 3), type=pa.int64()),
                                 "subscription_type": column}), folder / "users" / f"part-{number:05d}.parquet")
    return folder


TRICKY_PLANS = ["Free trial → Pro", "Team/Org", "Über", "annual", "Annual", "All", 'Say "$(shell rm x)" #\\']


def test_generated_makefile_lists_every_plan_and_make_reads_it(tmp_path):
    sessions = write_plans_parquet(tmp_path / "users", TRICKY_PLANS)
    output = tmp_path / "build" / "reports.mk"
    found = build.plans(sessions, params_dir=tmp_path / "params", output=output)
    probe = tmp_path / "probe.mk"
    probe.write_text("include build/reports.mk\nshow:\n\t@echo '$(words $(ANALYSIS_SLUGS)) $(ANALYSIS_SLUGS)'\n")
    result = subprocess.run(["make", "-s", "-f", str(probe), "show"], check=False, cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    count, *slugs = result.stdout.split()
    expected = build.plan_slugs(sorted(TRICKY_PLANS))
    assert int(count) == len(TRICKY_PLANS) + 1 and slugs == ["all", *expected.values()]
    assert not (tmp_path / "x").exists()
    manifest = json.loads((tmp_path / "build" / "plans.json").read_text(encoding="utf-8"))
    assert [r["plan"] for r in manifest["reports"]] == [None, *sorted(TRICKY_PLANS)]
    for report in found["reports"]:
        resolved = tmp_path / "build" / "params" / f"02_journey_analysis-{report['slug']}.yaml"
        assert params.load(resolved) == report["parameters"]
        assert params.load(resolved)["plans"] == ([] if report["plan"] is None else [report["plan"]])


def test_plans_step_rewrites_only_the_parameters_that_changed(tmp_path):
    sessions = write_plans_parquet(tmp_path / "users", ["Annual", "Monthly"])
    folder = tmp_path / "params"
    (folder / "plans").mkdir(parents=True)
    output = tmp_path / "build" / "reports.mk"
    build.plans(sessions, params_dir=folder, output=output)
    resolved = tmp_path / "build" / "params"
    dates = {p.name: p.stat().st_mtime_ns for p in resolved.iterdir()}
    made = output.stat().st_mtime_ns
    time.sleep(0.05)

    (folder / "plans" / "monthly.yaml").write_text("plans: [Monthly]\ntop_n: 4\n", encoding="utf-8")
    build.plans(sessions, params_dir=folder, output=output)
    changed = {p.name for p in resolved.iterdir() if p.stat().st_mtime_ns != dates[p.name]}
    assert changed == {"02_journey_analysis-monthly.yaml"}
    assert output.stat().st_mtime_ns > made, "the fragment is touched so make knows it is current"

    # A plan that leaves the data takes its parameters file with it.
    sessions = write_plans_parquet(tmp_path / "users", ["Annual"])
    build.plans(sessions, params_dir=folder, output=output)
    assert sorted(p.name for p in resolved.iterdir()) == ["02_journey_analysis-all.yaml",
                                                          "02_journey_analysis-annual.yaml"]
    assert "monthly" not in output.read_text(encoding="utf-8").split(":=")[1]
    manifest = json.loads((tmp_path / "build" / "plans.json").read_text(encoding="utf-8"))
    assert manifest["skipped"] == [{"file": "params/plans/monthly.yaml", "plan": "Monthly"}]


def test_the_index_lists_parameter_files_that_were_skipped(injected_build, tmp_path):
    manifest = tmp_path / "plans.json"
    manifest.write_text(json.dumps({"reports": [], "skipped": [{"file": "params/plans/weekly.yaml",
                                                                 "plan": "<Weekly>"}]}), encoding="utf-8")
    executed = sorted(injected_build.glob("0*.ipynb"))
    output = tmp_path / "index.html"
    build.index(executed, data=injected_build / "sessions.csv", users=injected_build / "users", output=output,
                manifest=manifest)
    page = assert_safe(output.read_text(encoding="utf-8"), expect_text=["params/plans/weekly.yaml", "'<Weekly>'"])
    assert "skipped" in page.all_text


# ------------------------------------------------------- make report end to end

COPIED = ["Makefile", "pyproject.toml", "requirements.lock", "journey_utils", "notebooks", "params", "data/sample"]
REPORT_NAMES = ["01_preprocessing", "02_journey_analysis-all", "02_journey_analysis-annual",
                "02_journey_analysis-monthly", "02_journey_analysis-quarterly", "03_plan_comparison"]
RUN_LINE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
PROCESSED = "data/processed/journeys.parquet"
PREPARED = "data/processed/users"


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
    result = subprocess.run(command, check=False, cwd=folder, capture_output=True, text=True, env=env or make_env())
    if check:
        assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def outputs(folder: Path) -> dict[str, int]:
    """Every build output and its modification time (ns)."""
    found = {}
    for pattern in ("reports/*.html", "build/notebooks/*.ipynb", "data/processed/*"):
        for path in folder.glob(pattern):
            found[str(path.relative_to(folder))] = path.stat().st_mtime_ns
    return found


def built(result) -> list[str]:
    return sorted(re.findall(r"^built (\S+)", result.stdout, re.MULTILINE))


def prepared_again(result) -> bool:
    """Whether the build read the export again (made the prepared folder)."""
    return bool(re.search(rf"^prepared {PREPARED}: ", result.stdout, re.MULTILINE))


def expected_files(names=REPORT_NAMES) -> set[str]:
    reports = {f"reports/{n}.html" for n in names} | {"reports/index.html"}
    executed = {f"build/notebooks/{n}.ipynb" for n in names}
    return reports | executed | {PROCESSED, PREPARED}


def index_links(folder: Path) -> list[str]:
    index = (folder / "reports" / "index.html").read_text(encoding="utf-8")
    return [a["href"] for tag, a in assert_safe(index).tags if tag == "a"]


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


def test_make_report_refuses_what_is_not_an_export_before_running_anything(tmp_path):
    folder = project_copy(tmp_path / "project")
    fifo = tmp_path / "a fifo.csv"
    os.mkfifo(fifo)
    pattern = "data/sample/*.csv"
    for data, message, *engine in [
            (str(fifo), f"DATA={fifo}: not a regular file"), ("/dev/null", "not a regular file"),
            ("missing.csv", "DATA=missing.csv: no such file"), ("", "DATA is empty"),
            (pattern, f"DATA={pattern}: a pattern of files is read by ENGINE=dask only"),
            ("data/sample/*.none", "DATA=data/sample/*.none: the pattern matches no file", "ENGINE=dask"),
            ("exports/part-[0-9].csv", "the pattern matches no file", "ENGINE=dask"),
            (pattern, "ENGINE=spark: choose ENGINE=pandas", "ENGINE=spark")]:
        result, seconds = timed(make, folder, "report", f"DATA={data}", *engine, check=False)
        assert result.returncode != 0 and message in result.stderr, (data, result.stderr)
        assert "Traceback" not in result.stderr and seconds < 10
    assert not (folder / "build").exists()


def test_make_help_lists_the_report_targets(tmp_path):
    result = subprocess.run(["make", "--no-print-directory", "help"], check=False, cwd=ROOT, capture_output=True,
                            text=True, env=make_env())
    for target in ("make report", "make bench-report", "make test"):
        assert target in result.stdout
    report_line = next(line for line in result.stdout.splitlines() if "make report " in line)
    assert "ENGINE=dask" in report_line and "SCHEDULER=" in report_line
    assert not (ROOT / "build" / "reports.mk").exists() or "preprocessing" not in result.stdout


@pytest.mark.slow
@needs_new_notebooks
def test_make_report_lifecycle(tmp_path):
    folder = project_copy(tmp_path / "project")

    result, seconds = timed(make, folder, "report")
    print(f"clean make report: {seconds:.1f} s")
    assert set(outputs(folder)) == expected_files()
    assert prepared_again(result), result.stdout
    assert "plans in the data: 'Annual', 'Monthly', 'Quarterly'" in result.stdout
    assert index_links(folder) == [f"{n}.html" for n in REPORT_NAMES]
    for name in REPORT_NAMES:
        assert_safe((folder / "reports" / f"{name}.html").read_text(encoding="utf-8"))

    before = outputs(folder)
    result, seconds = timed(make, folder, "report")
    print(f"no-op make report: {seconds:.2f} s")
    assert outputs(folder) == before and "built" not in result.stdout and "plans in the data" not in result.stdout
    assert not prepared_again(result)
    assert seconds < 3

    # An override file for one plan: that report (and the index) is rebuilt, and only that.
    override = folder / "params" / "plans" / "monthly.yaml"
    override.write_text("plans: [Monthly]\ntop_n: 5\n", encoding="utf-8")
    result, seconds = timed(make, folder, "report")
    print(f"make report after adding one override: {seconds:.1f} s")
    assert built(result) == ["reports/02_journey_analysis-monthly.html", "reports/index.html"]
    assert not prepared_again(result), "an override that sets no window does not read the export again"
    changed = {k for k, v in outputs(folder).items() if before[k] != v}
    assert changed == {"reports/02_journey_analysis-monthly.html", "build/notebooks/02_journey_analysis-monthly.ipynb",
                       "reports/index.html"}
    assert "top_n" in dict(build_parameters(folder, "02_journey_analysis-monthly"))
    override.write_text("plans: [Monthly]\ntop_n: 6\n", encoding="utf-8")
    assert built(make(folder, "report")) == ["reports/02_journey_analysis-monthly.html", "reports/index.html"]
    assert built(make(folder, "report")) == []

    # What depends on a changed file is rebuilt, and only that.
    (folder / "params" / "comparison.yaml").touch()
    result = make(folder, "report")
    assert built(result) == ["reports/03_plan_comparison.html", "reports/index.html"]
    assert not prepared_again(result), "the windows did not change: the prepared data stays"
    (folder / "params" / "comparison.yaml").unlink()
    result = make(folder, "report")
    assert built(result) == ["reports/03_plan_comparison.html", "reports/index.html"]
    assert not prepared_again(result), "early_sessions falls back to the notebook's default, the same 3"
    # A new session window is computed per user: the prepared data is made again, so every report is rebuilt.
    defaults = folder / "params" / "analysis.yaml"
    defaults.write_text(defaults.read_text().replace("session_window: 3", "session_window: 2"))
    result = make(folder, "report")
    assert prepared_again(result) and "windows 2, 3" in result.stdout
    assert built(result) == sorted(f"reports/{n}.html" for n in [*REPORT_NAMES, "index"])
    assert json.loads((folder / PREPARED / "manifest.json").read_text())["settings"]["windows"] == [2, 3]
    (folder / "journey_utils" / "plots.py").touch()
    result = make(folder, "report")
    assert prepared_again(result)
    assert built(result) == sorted(f"reports/{n}.html" for n in [*REPORT_NAMES, "index"])

    # A file for a plan that is not in the data: a warning naming it and the plans present; the build goes on.
    (folder / "params" / "plans" / "weekly.yaml").write_text("plans: [Weekly]\ntop_n: 3\n")
    result = make(folder, "report")
    for part in ("warning: params/plans/weekly.yaml names plan 'Weekly'", "not in this input",
                 "plans present: Annual, Monthly, Quarterly", "skipped"):
        assert part in result.stderr, (part, result.stderr)
    assert built(result) == ["reports/index.html"]
    assert set(outputs(folder)) == expected_files()
    assert "params/plans/weekly.yaml was skipped" in (folder / "reports" / "index.html").read_text(encoding="utf-8")

    # A failing report: make stops, names what failed, leaves nothing finished-looking.
    override.write_text("plans: [Monthly]\nsequence_lengths: [0]\n", encoding="utf-8")
    result = make(folder, "report", check=False)
    assert result.returncode != 0
    for part in ("02_journey_analysis.ipynb", "plan 'Monthly'", "params/plans/monthly.yaml", "cell",
                 "sequence_lengths"):
        assert part in result.stderr, (part, result.stderr)
    assert not (folder / "reports" / "02_journey_analysis-monthly.html").exists()
    assert (folder / "build" / "notebooks" / "02_journey_analysis-monthly.failed.ipynb").exists()
    assert not (folder / "reports" / "index.html").exists(), "the index of an unfinished build was left"
    override.unlink()
    make(folder, "report")
    assert set(outputs(folder)) == expected_files()

    # Another input: every output of the old one goes first, so reports never mix inputs.
    broken = tmp_path / "broken.csv"
    broken.write_text("user_id,session_id\n1,2\n")
    result = make(folder, "report", f"DATA={broken}", check=False)
    assert result.returncode != 0 and "subscription_type" in result.stderr
    assert not list((folder / "reports").glob("*.html")) and not (folder / PROCESSED).exists()
    assert not (folder / PREPARED).exists() and not (folder / "build" / "reports.mk").exists()
    assert not list((folder / "data" / "processed").glob(".*")), "no half-written prepared folder"


def build_parameters(folder: Path, name: str) -> dict:
    return params.load(folder / "build" / "params" / f"{name}.yaml")


@pytest.mark.slow
@needs_new_notebooks
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
@needs_new_notebooks
def test_parallel_and_serial_clean_builds_are_identical(tmp_path):
    serial = project_copy(tmp_path / "serial")
    parallel = project_copy(tmp_path / "parallel")
    _, seconds_serial = timed(make, serial, "-j1", "report")
    _, seconds_parallel = timed(make, parallel, "-j4", "report")
    print(f"clean make -j1 report: {seconds_serial:.1f} s; make -j4 report: {seconds_parallel:.1f} s")

    import pandas as pd

    pd.testing.assert_frame_equal(pd.read_parquet(serial / PROCESSED), pd.read_parquet(parallel / PROCESSED))
    for name in REPORT_NAMES:
        executed = f"build/notebooks/{name}.ipynb"
        assert stable_notebook(serial / executed) == stable_notebook(parallel / executed), name
        pages = [RUN_LINE.sub("", (f / "reports" / f"{name}.html").read_text(encoding="utf-8"))
                 for f in (serial, parallel)]
        assert pages[0] == pages[1], f"{name}.html differs beyond its run-time line"
    indexes = [RUN_LINE.sub("", (f / "reports" / "index.html").read_text(encoding="utf-8")) for f in (serial, parallel)]
    assert indexes[0] == indexes[1]


# ------------------------------------------------------------ exports the build was never tuned on

OTHER_PLANS = ["Free trial → Pro", "Team/Org", "Über", "annual", "Annual", "All"]


def analysis_names(plans) -> list[str]:
    slugs = build.plan_slugs(sorted(plans))
    return ["01_preprocessing", "02_journey_analysis-all", *(f"02_journey_analysis-{slugs[p]}" for p in sorted(plans)),
            "03_plan_comparison"]


def assert_nothing_empty(folder: Path, names) -> None:
    """No report holds a failed cell, an empty chart or a table of zeros (in the executed notebooks)."""
    from tests.other_site import report_problems

    problems = {name: report_problems(folder / "build" / "notebooks" / f"{name}.ipynb") for name in names}
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}


@pytest.mark.slow
@needs_new_notebooks
def test_another_websites_export_at_a_path_with_spaces_builds_every_report_with_no_params_edit(tmp_path):
    from tests.other_site import write_other_site

    folder = project_copy(tmp_path / "project")
    data = write_other_site(_mkdir(tmp_path / "an export") / "other site (v2).csv", users=3000,
                            plan_names=OTHER_PLANS, seed=3)
    result = make(folder, "report", f"DATA={data}")
    names = analysis_names(OTHER_PLANS)
    assert set(outputs(folder)) == expected_files(names)
    assert index_links(folder) == [f"{n}.html" for n in names]
    for plan, name in zip(sorted(OTHER_PLANS), names[2:-1]):
        assert build_parameters(folder, name)["plans"] == [plan]
        title = nbformat.read(folder / "build" / "notebooks" / f"{name}.ipynb", as_version=4)
        assert plan in json.dumps(title.metadata["papermill"]["parameters"], ensure_ascii=False)
    assert "warning: params" not in result.stderr, "no parameters file names a plan or page of the sample"
    assert_nothing_empty(folder, names)
    assert built(make(folder, "report", f"DATA={data}")) == []


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.slow
@needs_new_notebooks
def test_a_folder_of_parts_in_data_raw_is_picked_up(tmp_path):
    import pandas as pd

    from tests.other_site import other_site_sessions

    folder = project_copy(tmp_path / "project")
    sessions = other_site_sessions(users=1500, plans=2, seed=5)
    half = len(sessions) // 2
    sessions.iloc[:half].to_csv(folder / "data" / "raw" / "part-0.csv", index=False)
    pd.DataFrame(sessions.iloc[half:]).to_parquet(folder / "data" / "raw" / "part-1.parquet", index=False)
    make(folder, "report")
    names = analysis_names(sessions["subscription_type"].unique())
    assert set(outputs(folder)) == expected_files(names)
    assert "raw" in (folder / "reports" / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
@needs_new_notebooks
def test_a_single_plan_export_builds_and_the_comparison_says_there_is_nothing_to_compare(tmp_path):
    from tests.other_site import write_other_site

    folder = project_copy(tmp_path / "project")
    data = write_other_site(tmp_path / "one plan.csv", users=800, plans=1, seed=2)
    make(folder, "report", f"DATA={data}")
    names = analysis_names(["Free trial → Pro"])
    assert set(outputs(folder)) == expected_files(names)
    comparison = (folder / "reports" / "03_plan_comparison.html").read_text(encoding="utf-8")
    assert "nothing to compare" in Page(comparison).all_text


@pytest.mark.slow
@needs_new_notebooks
def test_reports_built_on_a_dask_cluster_equal_those_built_in_one_process(tmp_path):
    from tests.other_site import other_site_sessions

    parts = _mkdir(tmp_path / "an export")
    sessions = other_site_sessions(users=1500, plans=2, seed=5)
    half = len(sessions) // 2
    sessions.iloc[:half].to_csv(parts / "part-0.csv", index=False)
    sessions.iloc[half:].to_parquet(parts / "part-1.parquet", index=False)
    names = analysis_names(sessions["subscription_type"].unique())
    pandas_build, dask_build = project_copy(tmp_path / "pandas"), project_copy(tmp_path / "dask")
    make(pandas_build, "report", f"DATA={parts}")
    result = make(dask_build, "report", f"DATA={parts}", "ENGINE=dask", "DASK_WORKERS=2", "DASK_MEMORY=1GiB")
    assert "(dask engine on a local cluster" in result.stdout
    assert set(outputs(dask_build)) == expected_files(names)
    for name in names:
        executed = f"build/notebooks/{name}.ipynb"
        assert stable_notebook(pandas_build / executed) == stable_notebook(dask_build / executed), name
        pages = [RUN_LINE.sub("", (f / "reports" / f"{name}.html").read_text(encoding="utf-8"))
                 for f in (pandas_build, dask_build)]
        assert pages[0] == pages[1], f"{name}.html differs beyond its run-time line"
    indexes = [RUN_LINE.sub("", (f / "reports" / "index.html").read_text(encoding="utf-8"))
               for f in (pandas_build, dask_build)]
    assert indexes[0] == indexes[1]

    # A glob of the parts (with a space in its path): the same reports but for the input's name in their
    # headers; unchanged parts, nothing rebuilt; a part touched, the export is read again.
    pattern = f"DATA={parts}/part-*"
    result = make(dask_build, "report", pattern, "ENGINE=dask", "DASK_WORKERS=2")
    assert prepared_again(result) and set(outputs(dask_build)) == expected_files(names)
    for name in names:
        executed = f"build/notebooks/{name}.ipynb"
        renamed = json.dumps(stable_notebook(dask_build / executed), ensure_ascii=False).replace("part-*", parts.name)
        assert stable_notebook(pandas_build / executed) == json.loads(renamed), name
    index = (dask_build / "reports" / "index.html").read_text(encoding="utf-8")
    assert build.input_checksum(parts) in index
    result = make(dask_build, "report", pattern, "ENGINE=dask", "DASK_WORKERS=2")
    assert not prepared_again(result) and built(result) == []
    os.utime(parts / "part-1.parquet", ns=(time.time_ns(), time.time_ns()))
    assert prepared_again(make(dask_build, "report", pattern, "ENGINE=dask", "DASK_WORKERS=2"))


@pytest.fixture(scope="session")
def million_sessions(tmp_path_factory) -> Path:
    """A generated export of one million sessions on three plans (the bundled profile)."""
    path = tmp_path_factory.mktemp("large") / "sessions-1m.csv"
    subprocess.run([sys.executable, "-m", "journey_utils.synthetic", "--sessions", "1000000", "--seed", "1",
                    "--output", str(path)], check=True, cwd=ROOT)
    return path


@pytest.mark.slow
@needs_new_notebooks
def test_a_million_sessions_build_every_report(tmp_path, million_sessions):
    folder = project_copy(tmp_path / "project")
    _, seconds = timed(make, folder, "report", f"DATA={million_sessions}")
    print(f"clean make report on 1M sessions: {seconds:.1f} s")
    assert set(outputs(folder)) == expected_files()
    figures = key_figures(folder / "build" / "notebooks" / "01_preprocessing.ipynb")
    assert figures["Sessions read"] == "1,000,000"
    assert_nothing_empty(folder, REPORT_NAMES)


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
@needs_new_notebooks
def test_report_on_the_reference_export_matches_the_reference_implementation(tmp_path, reference_path,
                                                                              reference_rows):
    folder = project_copy(tmp_path / "project")
    defaults = folder / "params" / "analysis.yaml"
    defaults.write_text(defaults.read_text().replace("key_pages: []", "key_pages: [Pricing, Homepage, Sign up]"))
    make(folder, "report", f"DATA={reference_path}")
    executed = folder / "build" / "notebooks"
    index = (folder / "reports" / "index.html").read_text(encoding="utf-8")
    assert reference_path.name in index

    grouped = ref.preprocess(reference_rows)  # params/preprocessing.yaml: all sessions, no page removed
    assert params.load(folder / "params" / "preprocessing.yaml") == {
        "sessions": "All", "count_from": "last", "pages_to_remove": []}
    import pandas as pd

    table = pd.read_parquet(folder / PROCESSED)
    processed = {int(u): (str(p), str(j)) for u, p, j in
                 table[["user_id", "subscription_type", "user_journey"]].itertuples(index=False, name=None)}
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
        mean = sum(ref.journey_lengths(journeys)) / len(journeys)
        assert comparison[f"Mean pages per journey: {plan}"] == f"{mean:,.1f}"


def test_the_index_reads_the_exports_checksum_from_the_validated_sessions(tmp_path, monkeypatch):
    import journey_utils as ju
    from journey_utils import io

    sample = Path(ju.SAMPLE_PATH)
    expected = io.file_checksum(sample)
    sessions = ju.save_sessions(ju.load_sessions(sample), tmp_path / "sessions.parquet")
    other = tmp_path / "other.csv"
    other.write_bytes(sample.read_bytes() + b"\n")
    assert build.input_checksum(other, sessions) == io.file_checksum(other) != expected  # not the same export

    def no_hashing(path):
        raise AssertionError(f"{path} was hashed again")

    monkeypatch.setattr(io, "file_checksum", no_hashing)
    assert build.input_checksum(sample, sessions) == expected


def test_index_says_what_an_empty_parameter_means():
    from journey_utils.report import parameter_text

    assert parameter_text([], "plans") == "every plan"
    assert parameter_text([], "key_pages") == "chosen from the data"
    assert parameter_text("", "anchor_page") == "chosen from the data"
    assert parameter_text([], "pages_to_remove") == "(none)"
    assert parameter_text(["Annual", "All"], "plans") == "Annual, All"
    assert parameter_text("", "input_path") == "(not set)"


# ------------------------------------------------------------ the prepare step: the export -> the prepared folder

SAMPLE = ROOT / "data" / "sample" / "user_journeys_sample.csv"


def builder(*args, env=None) -> subprocess.CompletedProcess:
    """``python -m journey_utils.build ...`` from the project root."""
    return subprocess.run([sys.executable, "-m", "journey_utils.build", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, check=False, env=env)


def params_with_windows(folder: Path) -> Path:
    """A parameters folder that sets the preprocessing and a window in every kind of file that can set one."""
    (folder / "plans").mkdir(parents=True)
    (folder / "preprocessing.yaml").write_text("sessions: 4\ncount_from: first\npages_to_remove: [Log in]\n",
                                               encoding="utf-8")
    (folder / "analysis.yaml").write_text("top_n: 5\nsession_window: 2\n", encoding="utf-8")
    (folder / "plans" / "annual.yaml").write_text("plans: [Annual]\nsession_window: 5\n", encoding="utf-8")
    (folder / "plans" / "weekly.yml").write_text("plans: [Weekly]\nsession_window: 6\n", encoding="utf-8")
    (folder / "plans" / "README.md").write_text("session_window: 99\n", encoding="utf-8")
    (folder / "comparison.yaml").write_text("early_sessions: 4\n", encoding="utf-8")
    return folder


def test_prepare_settings_gather_every_window_a_report_uses(tmp_path):
    folder = params_with_windows(tmp_path / "params")
    # The notebooks' defaults (3), analysis.yaml, every file of plans/ (a plan not in the data too), comparison.yaml.
    assert build.prepared.settings(folder) == {"sessions": 4, "count_from": "first", "pages_to_remove": ["Log in"],
                                               "windows": [2, 3, 4, 5, 6]}
    assert build.prepared.settings(tmp_path / "none") == {**build.prepared.PREPROCESSING, "windows": [3]}

    # Written as JSON, and left alone (its date too) when nothing it holds changed.
    output = tmp_path / "build" / "prepare.json"
    result = builder("prepare-settings", "--params", folder, "--output", output)
    assert result.returncode == 0, result.stderr
    assert json.loads(output.read_text())["windows"] == [2, 3, 4, 5, 6]
    made = output.stat().st_mtime_ns
    time.sleep(0.05)
    (folder / "analysis.yaml").write_text("top_n: 8\nsession_window: 2\n", encoding="utf-8")
    build.prepare_settings(folder, output=output)
    assert output.stat().st_mtime_ns == made
    (folder / "plans" / "weekly.yml").unlink()
    build.prepare_settings(folder, output=output)
    assert output.stat().st_mtime_ns > made and json.loads(output.read_text())["windows"] == [2, 3, 4, 5]


@pytest.mark.parametrize(("file", "text", "match"), [
    ("plans/annual.yaml", "plans: [Annual]\nsession_window: 0\n",
     r"params/plans/annual.yaml: 'session_window' must be a positive whole number of sessions; found 0"),
    ("comparison.yaml", "early_sessions: two\n", r"params/comparison.yaml: 'early_sessions' must be a positive"),
    ("preprocessing.yaml", "sessions: [3]\n", r"params/preprocessing.yaml: parameter 'sessions' must be"),
    ("preprocessing.yaml", "session: 3\n", r"params/preprocessing.yaml: unknown parameter 'session'"),
    ("analysis.yaml", "session_window: [3\n", r"params/analysis.yaml: not valid YAML"),
])
def test_prepare_settings_that_cannot_be_used_name_the_file(tmp_path, file, text, match):
    folder = tmp_path / "params"
    (folder / "plans").mkdir(parents=True)
    (folder / file).write_text(text, encoding="utf-8")
    with pytest.raises(params.ParamsError, match=match):
        build.prepared.settings(folder)


@pytest.fixture(scope="module")
def prepared_sample(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The bundled sample prepared by ``build prepare`` (pandas engine) with params_with_windows's settings."""
    folder = tmp_path_factory.mktemp("prepared")
    settings = params_with_windows(folder / "params")
    result = builder("prepare", "--data", SAMPLE, "--output", folder / "processed" / "users", "--params", settings)
    return folder / "processed" / "users", result


def test_build_prepare_writes_the_prepared_folder_with_the_params_settings(prepared_sample):
    import journey_utils as ju
    from journey_utils import io, users

    folder, result = prepared_sample
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and re.fullmatch(
        r"prepared .*/processed/users: 1,383 users from 9,935 sessions \(pandas engine in this process; "
        r"windows 2, 3, 4, 5, 6\) in \d+\.\d s", lines[0]), lines
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["engine"] == "pandas" and manifest["source"] == str(SAMPLE)
    assert manifest["settings"] == {"sessions": 4, "count_from": "first", "pages_to_remove": ["Log in"],
                                    "windows": [2, 3, 4, 5, 6]}
    assert manifest["checksum"] == io.file_checksum(SAMPLE)
    assert sorted(p.name for p in folder.parent.iterdir()) == ["users"], "nothing beside the folder"
    # What the pandas library makes from the same settings.
    table = pd_read_users(folder)
    expected = users.user_table(ju.load_sessions(SAMPLE), 4, "first", ["Log in"], windows=[2, 3, 4, 5, 6])
    import pandas as pd

    pd.testing.assert_frame_equal(table, expected, check_dtype=False)


def pd_read_users(folder: Path):
    import pandas as pd

    parts = sorted((folder / "users").glob("*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True).sort_values("user_id",
                                                                                        ignore_index=True)


def test_plans_and_index_read_the_prepared_folder(prepared_sample, tmp_path, monkeypatch):
    from journey_utils import io

    folder, _ = prepared_sample
    assert build.data_plans(folder) == ["Annual", "Monthly", "Quarterly"]
    result = builder("plans", "--users", folder, "--params", tmp_path / "no-params", "--output",
                     tmp_path / "build" / "reports.mk")
    assert result.returncode == 0, result.stderr
    assert "plans in the data: 'Annual', 'Monthly', 'Quarterly'" in result.stdout
    assert "ANALYSIS_SLUGS := all annual monthly quarterly" in (tmp_path / "build" / "reports.mk").read_text()

    # The checksum comes from the manifest when the folder was made from that export: no hashing again.
    expected = json.loads((folder / "manifest.json").read_text())["checksum"]
    other = tmp_path / "other.csv"
    other.write_bytes(SAMPLE.read_bytes() + b"\n")
    assert build.input_checksum(other, folder) == io.file_checksum(other) != expected

    def no_hashing(path):
        raise AssertionError(f"{path} was hashed again")

    monkeypatch.setattr(io, "file_checksum", no_hashing)
    assert build.input_checksum(SAMPLE, folder) == expected


def test_plans_of_a_folder_that_is_not_prepared_say_how_to_make_one(tmp_path):
    (tmp_path / "users").mkdir()
    result = builder("plans", "--users", tmp_path / "users", "--output", tmp_path / "reports.mk")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {tmp_path / 'users'}: not a prepared folder (no manifest.json)")
    assert not (tmp_path / "reports.mk").exists()


def test_the_checksum_of_a_glob_is_that_of_the_folder_of_its_parts(tmp_path):
    from journey_utils import io

    parts = tmp_path / "an export"
    parts.mkdir()
    text = SAMPLE.read_text().splitlines(keepends=True)
    (parts / "part-1.csv").write_text("".join(text[:1] + text[3000:]))
    (parts / "part-0.csv").write_text("".join(text[:3000]))
    assert build.input_checksum(parts / "part-*.csv") == io.file_checksum(parts)
    with pytest.raises(build.prepared.PrepareError, match="the pattern matches no file"):
        build.input_checksum(parts / "*.parquet")


def test_build_prepare_fails_clearly_and_writes_nothing(tmp_path):
    import journey_utils as ju

    output = tmp_path / "processed" / "users"
    # A pattern with the pandas engine.
    result = builder("prepare", "--data", ROOT / "data" / "sample" / "*.csv", "--output", output)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "a pattern of files is read by the dask engine only" in result.stderr
    # Dask options with the pandas engine.
    result = builder("prepare", "--data", SAMPLE, "--output", output, "--workers", "2")
    assert result.returncode == 1 and "for the dask engine only" in result.stderr
    # An export that cannot be read: the library's message, as it is.
    broken = tmp_path / "broken.csv"
    broken.write_text("user_id,session_id,user_journey\n1,2,Homepage\n")
    with pytest.raises(ju.JourneyDataError) as failure:
        ju.load_sessions(broken)
    result = builder("prepare", "--data", broken, "--output", output)
    assert result.returncode == 1 and result.stderr == f"error: {failure.value}\n"
    assert result.stdout == ""
    assert not output.parent.exists() or not any(output.parent.iterdir()), "nothing half-written"


def test_a_failed_prepare_leaves_the_previous_folder_as_it_was(tmp_path):
    output = tmp_path / "users"
    build.prepare(SAMPLE, output, params_dir=tmp_path / "no-params")
    before = {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()}
    broken = tmp_path / "broken.csv"
    broken.write_text("user_id,session_id,subscription_type,user_journey\n1,x,Annual,Homepage\n")
    result = builder("prepare", "--data", broken, "--output", output, "--params", tmp_path / "no-params")
    assert result.returncode == 1 and result.stderr.startswith("error: ")
    assert {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.csv", "users"]


@pytest.fixture(scope="module")
def two_parts(tmp_path_factory) -> Path:
    """The bundled sample split into a CSV part and a Parquet part (users span both), in a folder with a space."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("parts") / "an export"
    folder.mkdir()
    sessions = pd.read_csv(SAMPLE)
    half = len(sessions) // 2
    sessions.iloc[:half].to_csv(folder / "part-0.csv", index=False)
    sessions.iloc[half:].to_parquet(folder / "part-1.parquet", index=False)
    return folder


def test_build_prepare_on_a_dask_cluster_writes_what_the_pandas_engine_writes(two_parts, tmp_path):
    import pandas as pd

    settings = params_with_windows(tmp_path / "params")
    made = {}
    for engine, data, extra in [("pandas", two_parts, []),
                                ("dask", two_parts / "part-*", ["--workers", "1", "--memory-limit", "1GiB"])]:
        output = tmp_path / engine / "users"
        result = builder("prepare", "--data", data, "--output", output, "--params", settings, "--engine", engine,
                         *extra)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and "distributed.shuffle" not in result.stderr, result.stderr
        line = "on a local cluster" if engine == "dask" else "in this process"
        assert result.stdout.count("\n") == 1 and f"({engine} engine {line}; windows 2, 3, 4, 5, 6)" in result.stdout
        made[engine] = output
    manifests = {e: json.loads((f / "manifest.json").read_text()) for e, f in made.items()}
    assert manifests["dask"]["engine"] == "dask"
    for key in ("settings", "sessions", "users"):
        assert manifests["dask"][key] == manifests["pandas"][key], key
    pd.testing.assert_frame_equal(pd_read_users(made["dask"]), pd_read_users(made["pandas"]))
    pd.testing.assert_frame_equal(pd.read_parquet(made["dask"] / "revisits.parquet"),
                                  pd.read_parquet(made["pandas"] / "revisits.parquet"))
    # The index's checksum of the glob: the parts' checksum, as for the folder.
    assert build.input_checksum(two_parts / "part-*", made["dask"]) == manifests["pandas"]["checksum"]


def test_build_prepare_says_when_the_scheduler_cannot_be_reached(two_parts, tmp_path):
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}
    output = tmp_path / "users"
    result = builder("prepare", "--data", two_parts, "--output", output, "--engine", "dask", "--scheduler",
                     "tcp://127.0.0.1:9", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9"), result.stderr
    assert not output.exists()


def test_a_bad_part_on_the_cluster_is_named_as_the_library_names_it(two_parts, tmp_path):
    import journey_utils as ju

    parts = tmp_path / "parts"
    shutil.copytree(two_parts, parts)
    with (parts / "part-0.csv").open("a") as handle:
        handle.write("7,not-a-number,Annual,Homepage\n")
    with pytest.raises(ju.JourneyDataError) as failure:
        ju.load_sessions(parts)
    output = tmp_path / "users"
    result = builder("prepare", "--data", parts / "*", "--output", output, "--engine", "dask", "--workers", "1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and "part-0.csv" in result.stderr, result.stderr
    assert str(failure.value).split(":")[0] in result.stderr, (str(failure.value), result.stderr)
    assert not output.exists() and not list(tmp_path.glob(".users*"))
