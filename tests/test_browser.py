"""The reports in a real browser: headless Chromium from the system, driven by Playwright.

The reports built once per test session on the malicious input of
``tests/test_report_build.py`` (page and plan names that try to inject HTML) are
opened at a laptop width (1280 px) and a narrow one (760 px), and checked as a
reader would meet them: nothing logs an error or opens a dialog, nothing is
fetched from the network, every chart's image has loaded and is visible at a
size that fits the page, every entry of the contents leads to its section, the
page never scrolls sideways, and printing opens the "Methods and evidence"
blocks.

The browser is the system's Chromium (``/usr/bin/chromium``, or ``JOURNEY_CHROMIUM``),
never one downloaded by Playwright. Without it the test is skipped with the
reason, except in CI (``CI`` set), where a missing browser is a failure:
``.ci/run`` installs Debian's ``chromium`` first. ``JOURNEY_REPORTS`` names another
folder of built reports to check instead (such as ``reports/`` after ``make report``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.test_report_build import injected_reports

WIDTHS = (1280, 760)
# A quiet, offline browser: no first-run pages, no background requests, no sandbox (CI runs as root).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")


def _chromium() -> str | None:
    candidates = (os.environ.get("JOURNEY_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                  shutil.which("chromium-browser"))
    return next((c for c in candidates if c and os.path.isfile(c) and os.access(c, os.X_OK)), None)


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser test (.ci/run installs Debian's chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """One headless system Chromium, with an empty profile, for the whole module."""
    executable = _chromium()
    if executable is None:
        _unavailable("no system Chromium (/usr/bin/chromium; or set JOURNEY_CHROMIUM); "
                     "install Debian's chromium package to run the browser test")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (make install adds it from requirements.lock)")
    with tempfile.TemporaryDirectory(prefix="journey-browser-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=list(FLAGS),
            viewport={"width": WIDTHS[0], "height": 900}, offline=True, java_script_enabled=True)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The built reports and their index."""
    chosen = os.environ.get("JOURNEY_REPORTS")
    return Path(chosen).resolve() if chosen else injected_reports(tmp_path_factory)


def report_pages(folder: Path) -> list[Path]:
    pages = sorted(p for p in folder.glob("[0-9][0-9]_*.html"))
    assert pages, f"no report in {folder}"
    return pages


class Visit:
    """One page opened at one width, with everything it logged, asked for and opened."""

    def __init__(self, context, path: Path, width: int):
        self.problems: list[str] = []
        self.page = context.new_page()
        self.page.set_viewport_size({"width": width, "height": 900})
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on("request", lambda r: r.url.startswith(("file:", "data:")) or self.problems.append(
            f"request to {r.url}"))
        self.page.goto(path.as_uri(), wait_until="load")
        # Images are decoded before they are measured.
        self.page.evaluate("Promise.all([...document.images].map(i => i.decode().catch(() => null)))")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.page.close()


IMAGES = """() => [...document.images].map(img => {
    const box = img.getBoundingClientRect();
    const style = getComputedStyle(img);
    return {alt: img.alt, complete: img.complete, natural: [img.naturalWidth, img.naturalHeight],
            box: [box.width, box.height], hidden: style.visibility === 'hidden' || style.display === 'none',
            inClosedDetails: !!img.closest('details:not([open])')};
})"""

CONTENTS = """() => [...document.querySelectorAll('nav.toc a')].map(a => {
    // As the browser finds a fragment's target: the id as written, then percent-decoded.
    const raw = a.getAttribute('href').slice(1);
    const target = document.getElementById(raw) || document.getElementById(decodeURIComponent(raw));
    const number = a.querySelector('.toc-number');
    return {href: a.getAttribute('href'), number: number ? number.textContent.trim() : '', found: !!target,
            shown: target ? getComputedStyle(target, '::before').content.replace(/"/g, '') : '',
            visible: !!target && target.getClientRects().length > 0};
})"""

# Elements sticking out past the right edge of the page, outside any scrolling box of their own.
OVERFLOW = """() => {
    const doc = document.documentElement;
    const out = [];
    const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
        return false; };
    for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width && box.right > doc.clientWidth + 1 && !scrolls(el))
            out.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : ''));
    }
    return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, culprits: out.slice(0, 5)};
}"""


def check_page(browser, path: Path, width: int, *, report: bool) -> list[str]:
    """What is wrong with one page at one width (nothing when all is well)."""
    where = f"{path.name} at {width} px"
    with Visit(browser, path, width) as visit:
        problems = [f"{where}: {p}" for p in visit.problems]
        layout = visit.page.evaluate(OVERFLOW)
        if layout["scrollWidth"] > layout["clientWidth"]:
            problems.append(f"{where}: scrolls sideways ({layout['scrollWidth']} > {layout['clientWidth']} px), "
                            f"past the edge: {layout['culprits']}")
        images = visit.page.evaluate(IMAGES)
        if report and not images:
            problems.append(f"{where}: no chart")
        for image in images:
            about = f"{where}, image {image['alt']!r}"
            if not (image["complete"] and min(image["natural"]) > 0):
                problems.append(f"{about}: not loaded")
            if not image["alt"] or "No description" in image["alt"]:
                problems.append(f"{about}: no description")
            if image["inClosedDetails"]:
                continue
            if image["hidden"] or min(image["box"]) <= 20:
                problems.append(f"{about}: not visible ({image['box']})")
            elif image["box"][0] > layout["clientWidth"]:
                problems.append(f"{about}: wider than the page")
    return problems


def test_every_page_opens_cleanly_shows_every_image_and_fits_the_width(browser, folder):
    pages = [(path, True) for path in report_pages(folder)] + [(folder / "index.html", False)]
    problems = [problem for path, report in pages for width in WIDTHS
                for problem in check_page(browser, path, width, report=report)]
    assert not problems, "\n".join(problems)


def numbered(numbers: list[str]) -> list[str]:
    """The numbers contents with these levels should carry: 1, 1.1, 1.2, 2, ... with no gap."""
    expected, section, sub = [], 0, 0
    for number in numbers:
        if "." in number and section:
            sub += 1
            expected.append(f"{section}.{sub}")
        else:
            section, sub = section + 1, 0
            expected.append(str(section))
    return expected


def test_contents_lead_to_their_sections_and_the_back_link_to_the_index(browser, folder):
    index = folder / "index.html"
    assert index.is_file()
    for path in report_pages(folder):
        with Visit(browser, path, WIDTHS[0]) as visit:
            entries = visit.page.evaluate(CONTENTS)
            assert entries, f"{path.name} has no contents"
            missing = [e["href"] for e in entries if not (e["found"] and e["visible"])]
            assert not missing, f"{path.name}: contents entries without a visible section: {missing}"
            numbers = [e["number"] for e in entries]
            assert numbers == numbered(numbers), f"{path.name}: contents numbered {numbers}"
            headings = [e["shown"] for e in entries]
            assert headings == numbers, f"{path.name}: sections numbered {headings}, contents {numbers}"
            links = visit.page.eval_on_selector_all(".back-link a", "els => els.map(a => a.href)")
            assert links, f"{path.name} has no link back to the index"
            assert set(links) == {index.as_uri()}, links


def test_printing_opens_the_methods_blocks(browser, folder):
    shown = {}
    for path in report_pages(folder):
        with Visit(browser, path, WIDTHS[1]) as visit:
            if not visit.page.locator("details.methods").count():
                continue
            body = visit.page.locator("details.methods:not([open]) > .methods-body").first
            assert not body.is_visible(), f"{path.name}: a Methods and evidence block is open on screen"
            visit.page.emulate_media(media="print")
            shown[path.name] = body.is_visible()
    if not shown:
        pytest.skip("no report has a Methods and evidence block")
    assert all(shown.values()), f"closed when printed: {[n for n, v in shown.items() if not v]}"
