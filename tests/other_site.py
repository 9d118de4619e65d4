"""Another website's export, and checks that a report made from it shows nothing empty.

The reports must work on any export, not only the one they were tuned on. This
module makes a sessions export of a different website (other pages, 2 to 6 plans
whose names need escaping and safe file names) and offers checks to run on an
executed notebook: no failed cell, no table of zeros, no empty chart, no
"How to read this" under a chart that is not there, no section heading left
with nothing under it.

Examples
--------
>>> from tests.other_site import other_site_sessions
>>> sessions = other_site_sessions(users=50, plans=2, seed=1)
>>> sorted(sessions["subscription_type"].unique())
['Free trial → Pro', 'Team/Org']
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd

#: Plans, in the order they are used: names with an arrow, a slash, non-ASCII, markup, and 'All'.
PLAN_NAMES = ["Free trial → Pro", "Team/Org", "Enterprise", "Über", "<b>x</b>", "All"]
#: Pages of the other website; 'Payment' is where buyers end.
PAGES = ["Start", "Search", "Product page", "Cart", "Payment", "Help & FAQ", "Über uns", "<b>x</b>"]
PURCHASE = "Payment"
COLUMNS = ["user_id", "session_id", "subscription_type", "user_journey"]
HOW_TO_READ = "How to read this"


def other_site_sessions(users: int = 3000, plans: int = 3, *, seed: int = 0, plan_names=None, pages=None,
                        smallest: int | None = None, max_sessions: int = 8, max_pages: int = 6) -> pd.DataFrame:
    """Sessions of another website: one row per session, in the export's schema.

    Each plan has its own page mix (so plans differ), users have 1 to
    ``max_sessions`` sessions of 1 to ``max_pages`` pages, and most users' last
    session ends on ``Payment``, the purchase step.

    Parameters
    ----------
    users : int, default 3000
        Number of users (buyers).
    plans : int, default 3
        Number of plans, 1 to 6: the first ``plans`` of ``PLAN_NAMES`` (``'All'`` is the sixth).
    seed : int, default 0
        Seed of the generator: the same arguments give the same sessions.
    plan_names, pages : list of str, optional
        Other names to use (page names cannot contain ``-``).
    smallest : int, optional
        Users of the last plan (e.g. 1 for a plan with one buyer); the rest are
        shared out at random.
    max_sessions, max_pages : int
        Largest number of sessions per user and of pages per session.

    Returns
    -------
    DataFrame
        ``user_id``, ``session_id`` (growing with time), ``subscription_type``,
        ``user_journey`` (pages joined by ``-``).

    Examples
    --------
    >>> from tests.other_site import other_site_sessions
    >>> sessions = other_site_sessions(users=10, plans=6, seed=0, smallest=1)
    >>> int((sessions.drop_duplicates("user_id")["subscription_type"] == "All").sum())
    1
    """
    rng = np.random.default_rng(seed)
    names = list(plan_names) if plan_names is not None else PLAN_NAMES[:plans]
    pages = np.asarray(pages if pages is not None else PAGES, dtype=object)
    if not 1 <= len(names) <= len(PLAN_NAMES) and plan_names is None:
        raise ValueError(f"other_site_sessions: plans must be 1 to {len(PLAN_NAMES)}; found {plans}")
    if any("-" in p for p in pages):
        raise ValueError("other_site_sessions: page names cannot contain '-'")
    if smallest is not None and len(names) > 1:
        plan_of_user = rng.integers(0, len(names) - 1, size=users)
        plan_of_user[rng.choice(users, size=min(smallest, users), replace=False)] = len(names) - 1
    else:
        plan_of_user = rng.integers(0, len(names), size=users)
    # Sessions per user, and each session's user and plan.
    counts = rng.integers(1, max_sessions + 1, size=users)
    user = np.repeat(np.arange(users), counts)
    plan = plan_of_user[user]
    last = np.r_[user[1:] != user[:-1], True]
    # Pages: a matrix of sessions x max_pages drawn from the plan's own page mix.
    mix = rng.dirichlet(np.full(len(pages), 0.8), size=len(names))
    cumulative = mix.cumsum(axis=1)[plan]
    draws = rng.random((len(user), max_pages))
    chosen = (draws[:, :, None] > cumulative[:, None, :]).sum(axis=2).clip(max=len(pages) - 1)
    lengths = rng.integers(1, max_pages + 1, size=len(user))
    purchase = np.flatnonzero(pages == PURCHASE)
    buys = last & (rng.random(len(user)) < 0.9)
    if len(purchase):
        chosen[np.flatnonzero(buys), lengths[buys] - 1] = purchase[0]
    matrix = pages[chosen]
    journey = pd.Series(matrix[:, 0], dtype=object)
    for k in range(1, max_pages):
        journey = journey.where(lengths <= k, journey + "-" + matrix[:, k])
    return pd.DataFrame({
        "user_id": user + 1001,
        "session_id": np.arange(len(user)) * 3 + 7,
        "subscription_type": np.asarray(names, dtype=object)[plan],
        "user_journey": journey.to_numpy(),
    })[COLUMNS]


def write_other_site(path, **options) -> Path:
    """Write :func:`other_site_sessions` as a CSV export (UTF-8) and return its path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from tests.other_site import write_other_site
    >>> path = write_other_site(pathlib.Path(tempfile.mkdtemp()) / "x.csv", users=5, plans=2)
    >>> path.read_text(encoding="utf-8").splitlines()[0]
    'user_id,session_id,subscription_type,user_journey'
    """
    path = Path(path)
    other_site_sessions(**options).to_csv(path, index=False, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# Checks on an executed notebook: each returns a list of problems (empty: fine).
# ---------------------------------------------------------------------------

ZERO = re.compile(r"^[+-]?0+(?:[.,]0+)?%?(?: points| pages)?$")
NUMBER = re.compile(r"^[+-]?\d[\d,]*(?:\.\d+)?%?(?: points| pages)?$")


def _notebook(notebook):
    if isinstance(notebook, (str, Path)):
        return nbformat.read(notebook, as_version=4)
    return notebook


def _shown(cell) -> bool:
    return "remove-cell" not in cell.metadata.get("tags", [])


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


class _Tables(HTMLParser):
    """The tables of an HTML output: id and rows of cell texts (header rows left out)."""

    def __init__(self):
        super().__init__()
        self.tables, self._row, self._cell, self._in_body = [], None, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append((attrs.get("id", ""), []))
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self.tables:
                self.tables[-1][1].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def report_tables(notebook) -> list[tuple[str, str, list[list[str]]]]:
    """Every table a report shows: (cell id, table id, body rows as cell texts)."""
    found = []
    for cell in _notebook(notebook).cells:
        if cell.cell_type != "code" or not _shown(cell) or "header" in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            html = _text(output.get("data", {}).get("text/html", ""))
            if "<table" not in html:
                continue
            parser = _Tables()
            parser.feed(html)
            found.extend((cell.id, table_id, rows) for table_id, rows in parser.tables)
    return found


def failed_cells(notebook) -> list[str]:
    """Cells that stored an error (a failed run), as 'cell id: error'."""
    problems = []
    for cell in _notebook(notebook).cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"{cell.id}: {output.get('ename')}: {output.get('evalue')}")
    return problems


def zero_tables(notebook) -> list[str]:
    """Tables with nothing in them: a number column that is zero on every row, or a row of zeros.

    Cells that are not numbers (names, '–', '< 0.001', 'yes') are ignored; a
    table with no rows at all also counts as empty.
    """
    problems = []
    for cell_id, table_id, rows in report_tables(notebook):
        if table_id.startswith("T_key-figures") or "run-header" in table_id:
            continue
        if not rows:
            problems.append(f"{cell_id}: table {table_id!r} has no rows")
            continue
        width = max(len(r) for r in rows)
        grid = [r + [""] * (width - len(r)) for r in rows]
        for column in range(width):
            values = [row[column] for row in grid if NUMBER.match(row[column])]
            if values and len(values) == len(grid) and all(ZERO.match(v) for v in values):
                problems.append(f"{cell_id}: table {table_id!r} column {column + 1} is zero on every row")
        for row in grid:
            values = [v for v in row if NUMBER.match(v)]
            if values and all(ZERO.match(v) for v in values):
                problems.append(f"{cell_id}: table {table_id!r} has a row of zeros: {row}")
    return problems


def empty_charts(notebook) -> list[str]:
    """Charts drawn with nothing in them (the plots module warns 'has no data to show')."""
    problems = []
    for cell in _notebook(notebook).cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and "has no data to show" in _text(output.get("text", "")):
                problems.append(f"{cell.id}: {_text(output['text']).strip()[:200]}")
    return problems


def _images(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def orphaned_explanations(notebook) -> list[str]:
    """'How to read this' paragraphs that do not follow a chart drawn in the same cell.

    An explanation shown by a code cell must come after an image in that cell's
    outputs; a Markdown cell with one must follow a code cell that drew a chart.
    """
    nb = _notebook(notebook)
    problems = []
    previous = None
    for cell in nb.cells:
        if not _shown(cell):
            continue
        if cell.cell_type == "markdown" and HOW_TO_READ in cell.source:
            if previous is None or previous.cell_type != "code" or not _images(previous):
                problems.append(f"{cell.id}: a Markdown explanation with no chart before it")
        elif cell.cell_type == "code":
            charted = False
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "image/png" in data:
                    charted = True
                if HOW_TO_READ in _text(data.get("text/markdown", "")) and not charted:
                    problems.append(f"{cell.id}: an explanation with no chart before it in the cell")
        previous = cell
    return problems


HEADING = re.compile(r"^(#{1,6})\s", re.MULTILINE)


def silent_sections(notebook) -> list[str]:
    """Section headings with nothing under them before the next heading (no sentence, table or chart)."""
    nb = _notebook(notebook)
    blocks = []  # (level, title, cell id) for headings, None for content
    for cell in nb.cells:
        if not _shown(cell):
            continue
        if cell.cell_type == "markdown":
            texts = [cell.source]
        else:
            texts = []
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "text/markdown" in data:
                    texts.append(_text(data["text/markdown"]))
                elif data or output.get("output_type") == "stream":
                    blocks.append(None)
        for text in texts:
            for line in text.strip().splitlines():
                match = HEADING.match(line)
                if match:
                    blocks.append((len(match.group(1)), line.strip(), cell.id))
                elif line.strip():
                    blocks.append(None)
    problems = []
    for index, block in enumerate(blocks):
        if block is None or block[0] == 1:
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else (0, "", "")
        if following is not None and following[0] <= block[0]:
            problems.append(f"{block[2]}: section {block[1]!r} shows nothing")
    return problems


def report_problems(notebook) -> list[str]:
    """Every check above on one executed notebook (a path or a notebook object)."""
    nb = _notebook(notebook)
    return failed_cells(nb) + zero_tables(nb) + empty_charts(nb) + orphaned_explanations(nb) + silent_sections(nb)
