"""Preprocessing: sessions -> one journey per user, cleaned for analysis.

Every function returns a new DataFrame and leaves its input unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from journey_utils import _codes
from journey_utils._checks import check_frame, check_positive_int
from journey_utils.columns import PLAN, SESSION, TARGET, USER

__all__ = ["remove_page_duplicates", "group_by", "remove_pages", "preprocess"]

COUNT_FROM = ("first", "last")
#: The later window of :func:`journey_utils.window_journeys`: the user's last ``n`` sessions, or every
#: session after the first ``n``.
LATER = ("last", "rest")


def _replace_journeys(data: pd.DataFrame, target_column: str, coded: _codes.CodedJourneys) -> pd.DataFrame:
    out = data.copy()
    journeys = _codes.decode(coded)
    journeys.index = data.index
    out[target_column] = journeys
    return out


def _collapse_runs(coded: _codes.CodedJourneys) -> _codes.CodedJourneys:
    n = len(coded.codes)
    # One spare slot: an empty journey at the end starts at position n.
    mask = np.ones(n + 1, dtype=bool)
    np.not_equal(coded.codes[1:], coded.codes[:-1], out=mask[1:n])
    mask[coded.offsets[:-1]] = True
    return coded.filter(mask[:n])


def _drop_pages(coded: _codes.CodedJourneys, pages: list[str]) -> _codes.CodedJourneys:
    if not pages or not len(coded.codes):
        return coded
    removed = coded.codes_of(pages)
    return coded.filter(~removed[coded.codes])


def remove_page_duplicates(data, target_column=TARGET) -> pd.DataFrame:
    """Collapse runs of the same page into one visit.

    ``Homepage-Homepage-Pricing`` becomes ``Homepage-Pricing``; a page that comes
    back later (``Homepage-Pricing-Homepage``) is kept, because the return is a step.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row, pages joined by ``-``.
    target_column : str, default 'user_journey'
        Column holding the journeys.

    Returns
    -------
    DataFrame
        A copy of ``data`` with the journeys collapsed.

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_journey": ["Homepage-Homepage-Pricing", "A-B-A"]})
    >>> ju.remove_page_duplicates(df)["user_journey"].tolist()
    ['Homepage-Pricing', 'A-B-A']
    """
    check_frame(data, "remove_page_duplicates", [target_column])
    return _replace_journeys(data, target_column, _codes.encode(data[target_column], transform=_collapse_runs))


def remove_pages(data, pages, target_column=TARGET) -> pd.DataFrame:
    """Remove every visit to the listed pages from every journey.

    A journey made only of removed pages is kept as an empty journey (``''``,
    length 0), so that no user disappears from the counts.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    pages : str or list of str
        Page names to remove. Names that no journey contains are ignored.
    target_column : str, default 'user_journey'
        Column holding the journeys.

    Returns
    -------
    DataFrame
        A copy of ``data`` without those pages.

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_journey": ["Homepage-Log in-Pricing", "Log in"]})
    >>> ju.remove_pages(df, ["Log in"])["user_journey"].tolist()
    ['Homepage-Pricing', '']
    """
    check_frame(data, "remove_pages", [target_column])
    pages = _page_list(pages, "remove_pages")
    coded = _codes.encode(data[target_column], transform=lambda coded: _drop_pages(coded, pages))
    return _replace_journeys(data, target_column, coded)


def group_by(
    data,
    group_column=USER,
    target_column=TARGET,
    sessions="All",
    count_from="last",
    *,
    order_column=SESSION,
    plan_column=PLAN,
) -> pd.DataFrame:
    """Join each user's sessions into one journey, earliest session first.

    Parameters
    ----------
    data : DataFrame
        Sessions, one per row.
    group_column : str, default 'user_id'
        Column identifying a user.
    target_column : str, default 'user_journey'
        Column holding each session's pages.
    sessions : 'All' or int, default 'All'
        How many sessions per user to keep.
    count_from : {'last', 'first'}, default 'last'
        With an int ``sessions``, keep the user's first or last N sessions. Either
        way the kept sessions are joined from earliest to latest.
    order_column : str, default 'session_id'
        Column that orders a user's sessions in time (not the file order).
    plan_column : str, default 'subscription_type'
        Plan column, carried over (one plan per user). Ignored when absent.

    Returns
    -------
    DataFrame
        One row per user, sorted by ``group_column``: the user, the plan, the
        journey, ``session_id`` of the latest session kept and ``n_sessions``, the
        number of sessions joined.

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_id": [1, 1, 1], "session_id": [30, 10, 20],
    ...                    "subscription_type": ["Annual"] * 3,
    ...                    "user_journey": ["Checkout", "Homepage", "Pricing"]})
    >>> ju.group_by(df)["user_journey"].tolist()
    ['Homepage-Pricing-Checkout']
    >>> ju.group_by(df, sessions=2, count_from="first")["user_journey"].tolist()
    ['Homepage-Pricing']
    """
    out, coded = _group(data, group_column, target_column, sessions, count_from, order_column, plan_column)
    out[target_column] = _codes.decode(coded)
    return out


def _group(data, group_column, target_column, sessions, count_from, order_column, plan_column, transform=None,
           skip_first=0):
    """The grouped frame without its journey column, and the grouped journeys as codes.

    ``transform`` is applied to each session's codes before they are joined per user.
    ``skip_first`` (with every session kept) leaves out each user's first sessions, and
    users with no session left.
    """
    function = "group_by"
    users, order, starts, sizes, kept = _session_order(data, group_column, target_column, sessions, count_from,
                                                       order_column, function, skip_first)

    # A user's kept sessions are adjacent in `order`, so their journey is one slice of codes.
    coded = _codes.encode(data[target_column], rows=order, transform=transform)
    coded = coded.regroup(np.r_[starts, kept].astype(np.int64))
    out = _grouped_frame(data, users, order, starts, sizes, kept, group_column, order_column, plan_column,
                         target_column, function)
    return out, coded


def _session_order(data, group_column, target_column, sessions, count_from, order_column, function, skip_first=0):
    """Which sessions each user keeps, in time order, without touching the journeys.

    Returns ``(users, order, starts, sizes, kept)``: the user of every row, the
    kept rows in user then time order (None: every row, in file order), where each
    user's kept rows start in ``order``, how many they are, and how many rows are
    kept in all. ``skip_first`` (with ``sessions='All'``) leaves out each user's
    first sessions, and the users left with none.
    """
    check_frame(data, function, [group_column, target_column, order_column])
    if not (isinstance(sessions, str) and sessions == "All"):
        sessions = check_positive_int(sessions, "sessions", function, alternative="'All'")
    if count_from not in COUNT_FROM:
        raise ValueError(f"{function}: count_from must be 'first' or 'last'; found {count_from!r}")

    users = data[group_column].to_numpy()
    order = _codes.time_order(users, data[order_column].to_numpy())
    sorted_users = users if order is None else users[order]
    n = len(sorted_users)
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]]) if n else np.empty(0, np.int64)
    sizes = np.diff(np.r_[starts, n])
    if sessions != "All":
        # A session is among its user's first (last) N when the session N places
        # before (after) it in time order belongs to another user or does not exist.
        chosen = np.ones(n, dtype=bool)
        if count_from == "first":
            np.not_equal(sorted_users[sessions:], sorted_users[:-sessions], out=chosen[sessions:])
        else:
            np.not_equal(sorted_users[:-sessions], sorted_users[sessions:], out=chosen[:-sessions])
        order = np.flatnonzero(chosen) if order is None else order[chosen]
        sizes = np.minimum(sizes, sessions)
        starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64) if len(sizes) else starts
    elif skip_first:
        # A session comes after its user's first N when the session N places before it is the same user's.
        chosen = np.zeros(n, dtype=bool)
        np.equal(sorted_users[skip_first:], sorted_users[:-skip_first], out=chosen[skip_first:])
        order = np.flatnonzero(chosen) if order is None else order[chosen]
        sizes = np.maximum(sizes - skip_first, 0)
        sizes = sizes[sizes > 0]
        starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64) if len(sizes) else np.empty(0, np.int64)
    # None: every row, in file order.
    kept = len(order) if order is not None else n
    return users, order, starts, sizes, kept


def _grouped_frame(data, users, order, starts, sizes, kept, group_column, order_column, plan_column, target_column,
                   function) -> pd.DataFrame:
    """One row per user (see :func:`group_by`) with an empty journey column; checks one plan per user."""
    last_rows = np.r_[starts[1:], kept] - 1 if kept else np.empty(0, np.int64)
    if order is not None:
        last_rows = order[last_rows]
    out = pd.DataFrame({group_column: users[last_rows]})
    if plan_column in data.columns:
        _check_one_plan(data, group_column, plan_column, order, starts, sizes, function)
        out[plan_column] = data[plan_column].array.take(last_rows)
    out[target_column] = ""
    out[order_column] = data[order_column].to_numpy()[last_rows]
    out["n_sessions"] = sizes.astype(np.int64)
    return out


def _check_one_plan(data, group_column, plan_column, order, starts, sizes, function) -> None:
    plans = _codes.labels(data[plan_column])[0]
    if order is not None:
        plans = plans[order]
    first = np.repeat(plans[starts], sizes)
    mixed = np.flatnonzero(plans != first)
    if len(mixed):
        users = data[group_column].to_numpy()
        users = pd.unique((users if order is None else users[order])[mixed])
        shown = ", ".join(str(u) for u in users[:10])
        raise ValueError(
            f"{function}: {len(users)} users have more than one {plan_column} (e.g. {shown}); "
            "each user is expected to have bought one plan"
        )


def preprocess(data, sessions="All", count_from="last", pages_to_remove=(), **columns) -> pd.DataFrame:
    """Group each user's sessions, remove pages, then collapse repeated pages.

    The order matters: duplicates are collapsed last, so removing a page that sat
    between two visits of the same page merges them (``A-Log in-A`` -> ``A``).

    Parameters
    ----------
    data : DataFrame
        Sessions, one per row (as returned by :func:`journey_utils.load_sessions`).
    sessions : 'All' or int, default 'All'
        Sessions per user to keep; see :func:`group_by`.
    count_from : {'last', 'first'}, default 'last'
        Which end of a user's history the kept sessions come from.
    pages_to_remove : str or list of str, default ()
        Pages to drop before collapsing duplicates.
    **columns
        Column names passed to :func:`group_by` (``group_column``, ``target_column``,
        ``order_column``, ``plan_column``).

    Returns
    -------
    DataFrame
        One journey per user; see :func:`group_by` for the columns.

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_id": [1, 1], "session_id": [1, 2],
    ...                    "subscription_type": ["Annual"] * 2,
    ...                    "user_journey": ["Homepage-Log in", "Homepage-Checkout"]})
    >>> ju.preprocess(df, pages_to_remove=["Log in"])["user_journey"].tolist()
    ['Homepage-Checkout']
    """
    return _preprocess(data, sessions, count_from, pages_to_remove, **columns)


def _preprocess(data, sessions="All", count_from="last", pages_to_remove=(), skip_first=0, **columns) -> pd.DataFrame:
    """:func:`preprocess`, optionally leaving out each user's first ``skip_first`` sessions (and users with no more)."""
    columns = {"group_column": USER, "target_column": TARGET, "order_column": SESSION, "plan_column": PLAN, **columns}
    pages = _page_list(pages_to_remove, "preprocess")
    # All three steps work on page codes; the journeys are joined into text once, at the end.
    # Removing pages and collapsing runs inside each distinct session string first gives
    # the same result (removal is page by page; a run crossing sessions is collapsed
    # below) and leaves far fewer codes to gather per user.
    out, coded = _group(data, sessions=sessions, count_from=count_from, skip_first=skip_first,
                        transform=lambda session: _collapse_runs(_drop_pages(session, pages)), **columns)
    out[columns["target_column"]] = _codes.decode(_collapse_runs(coded))
    return out


def min_window_sessions(n: int, later: str = "last") -> int:
    """The fewest sessions a user needs in :func:`journey_utils.window_journeys`: ``2 * n`` (``n + 1`` with
    ``later='rest'``).

    Examples
    --------
    >>> from journey_utils.preprocess import min_window_sessions
    >>> min_window_sessions(3), min_window_sessions(3, "rest")
    (6, 4)
    """
    return 2 * n if later == "last" else n + 1


def _page_list(pages, function: str) -> list[str]:
    if isinstance(pages, str):
        return [pages]
    if not isinstance(pages, Iterable):
        raise TypeError(f"{function}: pages must be a page name or a list of page names; found {pages!r}")
    pages = list(pages)
    bad = [p for p in pages if not isinstance(p, str)]
    if bad:
        raise TypeError(f"{function}: page names must be strings; found {bad[:5]!r}")
    return pages
