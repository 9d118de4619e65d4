"""Reconciliation: every row, user, session and page accounted for, from file to journeys.

:func:`reconcile` counts what goes into preprocessing and what comes out of each
step, counts what each step removes by a separate route, and checks that the
counts add up. A report can show the table so that a reader sees where every
session and page went.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from journey_utils import _codes
from journey_utils._checks import check_frame
from journey_utils.columns import SESSION, TARGET, USER
from journey_utils.errors import JourneyError
from journey_utils.metrics import page_count, page_transitions
from journey_utils.preprocess import group_by, remove_page_duplicates, remove_pages

__all__ = ["reconcile", "ReconciliationError"]

COLUMNS = ["stage", "quantity", "unit", "count", "note"]


class ReconciliationError(JourneyError, RuntimeError):
    """The counts of a preprocessing run do not add up (a defect, never a data problem)."""


def reconcile(data, sessions="All", count_from="last", pages_to_remove=()) -> pd.DataFrame:
    """Account for every row, user, session and page of a preprocessing run.

    Runs the steps of :func:`journey_utils.preprocess` with the same arguments and
    returns one row per quantity: what the file held and what loading dropped
    (when ``data`` carries the ``load_report`` of :func:`journey_utils.load_sessions`),
    what goes in, what the session window leaves out, what ``remove_pages``
    removes, what collapsing repeated pages removes, and what comes out. What each
    step removes is counted directly (pages by name, repeats as steps from a page
    to itself), not as a difference, and then checked against the totals.

    Identities checked (each is a ``check`` row of the table):

    - rows read - rows dropped while loading = rows kept;
    - users in = users out (no user is lost; an emptied journey stays, length 0);
    - sessions in = sessions outside the window + sessions out;
    - pages in = pages outside the window + pages in the kept sessions;
    - pages in the kept sessions = pages out + pages removed + repeats collapsed;
    - empty journeys out = journeys empty before removal + journeys emptied by it.

    Parameters
    ----------
    data : DataFrame
        Sessions, one per row, with ``user_id``, ``session_id`` and ``user_journey``.
    sessions : 'All' or int, default 'All'
        Sessions per user to keep; see :func:`journey_utils.group_by`.
    count_from : {'last', 'first'}, default 'last'
        Which end of a user's history the kept sessions come from.
    pages_to_remove : str or list of str, default ()
        Pages removed from the journeys.

    Returns
    -------
    DataFrame
        Columns ``stage``, ``quantity``, ``unit`` (rows, users, sessions, pages or
        journeys), ``count`` (int) and ``note``, in pipeline order. When ``data``
        has changed since it was loaded (filtered, say), the ``input`` rows say so
        in their note.

    Raises
    ------
    ReconciliationError
        If an identity does not hold.

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> from journey_utils.reconcile import reconcile
    >>> df = pd.DataFrame({"user_id": [1, 1, 2], "session_id": [1, 2, 3],
    ...                    "subscription_type": ["Annual"] * 3,
    ...                    "user_journey": ["Homepage-Log in", "Log in-Log in-Checkout", "Log in"]})
    >>> table = reconcile(df, sessions=1, pages_to_remove=["Log in"])
    >>> table.set_index("quantity")["count"].loc[["sessions in", "sessions outside the window",
    ...     "pages removed: Log in", "journeys emptied by remove_pages", "pages out"]].tolist()
    [3, 1, 3, 1, 1]
    """
    function = "reconcile"
    check_frame(data, function, [USER, SESSION, TARGET])
    # group_by and remove_pages validate the arguments before anything is counted.
    grouped = group_by(data, sessions=sessions, count_from=count_from)
    pages = pages_to_remove
    if not isinstance(pages, str) and isinstance(pages, Iterable):
        pages = list(pages)
    removed = remove_pages(grouped, pages)
    final = remove_page_duplicates(removed)
    listed = list(dict.fromkeys([pages] if isinstance(pages, str) else pages))

    table = _Table()
    _load_rows(table, data)

    session_pages = _lengths(data[TARGET])
    in_window = _in_window(data, sessions, count_from)
    users_in = int(data[USER].nunique())
    sessions_in = len(data)
    pages_in = int(session_pages.sum())
    changed = _changed_since_loading(data)
    table.add("input", "users in", "users", users_in, changed)
    table.add("input", "sessions in", "sessions", sessions_in, changed)
    table.add("input", "pages in", "pages", pages_in, "page visits in all sessions")

    window = "every session kept" if sessions == "All" else f"each user's {count_from} {sessions} sessions kept"
    sessions_outside = int((~in_window).sum())
    pages_outside = int(session_pages[~in_window].sum())
    pages_kept = int(session_pages[in_window].sum())
    table.add("session window", "sessions outside the window", "sessions", sessions_outside, window)
    table.add("session window", "pages outside the window", "pages", pages_outside, "page visits in those sessions")
    table.add("session window", "pages in the kept sessions", "pages", pages_kept, window)

    grouped_lengths = _lengths(grouped[TARGET])
    visits = page_count(grouped)
    removed_by_page = {page: int(visits.get(page, 0)) for page in listed}
    for page, count in removed_by_page.items():
        table.add("remove pages", f"pages removed: {page}", "pages", count, "every visit to the page")
    if not listed:
        table.add("remove pages", "pages removed", "pages", 0, "no page listed for removal")
    pages_removed = sum(removed_by_page.values())
    removed_lengths = _lengths(removed[TARGET])
    empty_before = int((grouped_lengths == 0).sum())
    emptied = int(((removed_lengths == 0) & (grouped_lengths > 0)).sum())
    table.add("remove pages", "journeys emptied by remove_pages", "journeys", emptied,
              "kept as journeys of length 0, so their users still count")

    steps = page_transitions(removed)
    collapsed = int(steps.loc[steps["page"] == steps["next_page"], "count"].sum())
    table.add("collapse repeats", "repeated pages collapsed", "pages", collapsed,
              "a page visited again straight after itself counts once")

    final_lengths = _lengths(final[TARGET])
    users_out = int(final[USER].nunique())
    sessions_out = int(final["n_sessions"].sum())
    pages_out = int(final_lengths.sum())
    empty_out = int((final_lengths == 0).sum())
    table.add("output", "users out", "users", users_out, "one journey per user")
    table.add("output", "sessions out", "sessions", sessions_out, "sessions joined into the journeys")
    table.add("output", "pages out", "pages", pages_out, "page visits in the journeys")
    table.add("output", "empty journeys out", "journeys", empty_out, "journeys of length 0")

    table.check("users in = users out", "users", users_in, [users_out])
    table.check("journeys out = users out", "journeys", len(final), [users_out])
    table.check("sessions in = sessions outside the window + sessions out", "sessions",
                sessions_in, [sessions_outside, sessions_out])
    table.check("pages in = pages outside the window + pages in the kept sessions", "pages",
                pages_in, [pages_outside, pages_kept])
    table.check("pages in the kept sessions = pages out + pages removed + repeated pages collapsed", "pages",
                pages_kept, [pages_out, pages_removed, collapsed])
    table.check("empty journeys out = empty before removal + emptied by remove_pages", "journeys",
                empty_out, [empty_before, emptied])
    table.check("pages after the window = pages in the kept sessions", "pages",
                int(grouped_lengths.sum()), [pages_kept])
    return table.frame()


class _Table:
    def __init__(self):
        self.rows = []

    def add(self, stage, quantity, unit, count, note=""):
        self.rows.append((stage, quantity, unit, int(count), note))

    def check(self, identity, unit, total, parts):
        parts = [int(p) for p in parts]
        if total != sum(parts):
            raise ReconciliationError(
                f"reconcile: {identity} does not hold: {total:,} != "
                f"{' + '.join(f'{p:,}' for p in parts)} (= {sum(parts):,})"
            )
        shown = " + ".join(f"{p:,}" for p in parts)
        self.add("check", identity, unit, total, f"holds: {total:,} = {shown}")

    def frame(self) -> pd.DataFrame:
        table = pd.DataFrame(self.rows, columns=COLUMNS)
        return table.astype({"stage": "str", "quantity": "str", "unit": "str", "count": "int64", "note": "str"})


def _lengths(journeys: pd.Series) -> np.ndarray:
    return _codes.encode(journeys).lengths


def _in_window(data: pd.DataFrame, sessions, count_from: str) -> np.ndarray:
    """Sessions inside each user's window, ranked by session_id (not by row order)."""
    if sessions == "All":
        return np.ones(len(data), dtype=bool)
    rank = data.groupby(USER, sort=False)[SESSION].rank(method="first", ascending=count_from == "first")
    return (rank <= sessions).to_numpy()


def _load_rows(table: _Table, data: pd.DataFrame) -> None:
    report = data.attrs.get("load_report")
    if not report or "rows_read" not in report or "rows_kept" not in report:
        return
    read, kept = int(report["rows_read"]), int(report["rows_kept"])
    table.add("load", "rows read", "rows", read, f"session rows in {Path(str(report.get('path', ''))).name}")
    dropped = []
    for repair in report.get("repairs", []):
        rows = int(repair.get("dropped", 0))
        if rows:
            dropped.append(rows)
            table.add("load", f"rows dropped: {repair['problem']}", "rows", rows, repair["action"])
        else:
            table.add("load", f"rows repaired: {repair['problem']}", "rows", int(repair["rows"]), repair["action"])
    table.add("load", "rows kept", "rows", kept, "sessions passed on for analysis")
    table.check("rows read = rows dropped while loading + rows kept", "rows", read, [*dropped, kept])


def _changed_since_loading(data: pd.DataFrame) -> str:
    report = data.attrs.get("load_report")
    if report and "rows_kept" in report and int(report["rows_kept"]) != len(data):
        return (f"the data changed after loading: {len(data):,} sessions now, "
                f"{int(report['rows_kept']):,} when loaded")
    return ""
