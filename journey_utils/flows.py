"""Journeys as flows: how buyers move from page to page over the first steps of their journeys.

The table behind a step-flow (Sankey-style) diagram, as in path-exploration
tools: column 1 is the first page of every journey (or, backwards, the last),
column 2 the next one, and so on. Each row of :func:`step_flows` is one ribbon:
the journeys going from ``source`` at ``step`` to ``target`` at ``step + 1``.
A journey that has no further page goes to ``'(end)'`` (backwards: to
``'(start)'``) and is not followed after it. At each column only the
``max_pages`` pages holding the most journeys are named; the others are
gathered in ``'(other pages)'``, so a diagram stays readable on any number of
pages. :func:`flow_differences` puts the same ribbons of several plans side by
side, as shares of each plan's journeys.

The work is integer arithmetic on the journeys' page codes: Python loops run
over steps and plans only, never over journeys.

Examples
--------
>>> import pandas as pd
>>> from journey_utils import flows
>>> journeys = pd.DataFrame({"user_journey": ["Home-Pricing-Checkout", "Home-Checkout", "Pricing"],
...                          "subscription_type": ["Annual", "Monthly", "Annual"]})
>>> table = flows.step_flows(journeys, steps=3)
>>> table[table["step"] == 1][["source", "target", "journeys"]].values.tolist()
[['Home', 'Checkout', 1], ['Home', 'Pricing', 1], ['Pricing', '(end)', 1]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journey_utils import _codes
from journey_utils._checks import check_frame, check_positive_int, plan_mask, selected_plans
from journey_utils.columns import PLAN, TARGET
from journey_utils.paths import END, START

__all__ = ["OTHER", "END", "START", "DIRECTIONS", "step_flows", "flow_differences"]

#: The node gathering the pages outside the most common ones of a step.
OTHER = "(other pages)"
#: Read journeys from their first page onwards, or from their last page backwards.
DIRECTIONS = ("forward", "backward")

_FLOW_COLUMNS = ["step", "source", "target", "journeys", "n", "share"]
_DIFFERENCE_COLUMNS = ["step", "source", "target", "plan_a", "plan_b", "journeys_a", "journeys_b", "n_a", "n_b",
                       "share_a", "share_b", "difference"]


def _check(steps, max_pages, direction, function) -> tuple[int, int]:
    steps = check_positive_int(steps, "steps", function)
    if steps < 2:
        raise ValueError(f"{function}: steps must be at least 2 (a flow joins two steps); found {steps!r}")
    max_pages = check_positive_int(max_pages, "max_pages", function)
    if direction not in DIRECTIONS:
        raise ValueError(f"{function}: direction must be 'forward' or 'backward'; found {direction!r}")
    return steps, max_pages


def _names_rank(pages: np.ndarray) -> np.ndarray:
    """Rank of every page code by name (ties between counts are broken by name)."""
    order = sorted(range(len(pages)), key=lambda code: str(pages[code]))
    rank = np.empty(len(pages), dtype=np.int64)
    rank[order] = np.arange(len(pages), dtype=np.int64)
    return rank


def _columns(coded, steps: int, max_pages: int, direction: str) -> tuple[list[np.ndarray], np.ndarray]:
    """Grouped state of every journey at each column (-1 once it has ended) and the state names.

    States are page codes, ``n_pages`` for the gathered pages and ``n_pages + 1``
    for the end (or start) of the journey.
    """
    n_pages = coded.n_pages
    other = n_pages
    rank = _names_rank(coded.pages)
    states = []
    for k in range(steps):
        alive = coded.lengths > k
        at = coded.offsets[:-1] + k if direction == "forward" else coded.offsets[1:] - 1 - k
        state = np.full(coded.n_journeys, -1, dtype=np.int64)
        state[alive] = coded.codes[at[alive]]
        counts = np.bincount(state[alive], minlength=n_pages)
        present = np.flatnonzero(counts)
        ranked = present[np.lexsort((rank[present], -counts[present]))]
        # Gathering a single page would only hide its name: it is then shown.
        keep = ranked if len(ranked) <= max_pages + 1 else ranked[:max_pages]
        mapping = np.full(n_pages, other, dtype=np.int64)
        mapping[keep] = keep
        state[alive] = mapping[state[alive]]
        states.append(state)
    names = np.append(np.asarray(coded.pages, dtype=object), [OTHER, END if direction == "forward" else START])
    return states, names


def _flow_counts(coded, groups: np.ndarray, n_groups: int, steps: int, max_pages: int,
                 direction: str) -> pd.DataFrame:
    """Journeys per (group, step, source, target), grouped pages and ends included."""
    states, names = _columns(coded, steps, max_pages, direction)
    n_states = len(names)
    end = n_states - 1
    frames = []
    for k in range(steps - 1):
        source, following = states[k], states[k + 1]
        alive = source >= 0
        target = np.where(following >= 0, following, end)[alive]
        key = (groups[alive] * n_states + source[alive]) * n_states + target
        keys, counts = np.unique(key, return_counts=True)
        group, rest = np.divmod(keys, n_states * n_states)
        source_code, target_code = np.divmod(rest, n_states)
        frames.append(pd.DataFrame({"group": group, "step": np.full(len(keys), k + 1, dtype=np.int64),
                                    "source": names[source_code], "target": names[target_code],
                                    "journeys": counts.astype(np.int64)}))
    return pd.concat(frames, ignore_index=True)


def _str(values) -> pd.api.extensions.ExtensionArray:
    return pd.array(np.asarray(values, dtype=object), dtype="str")


def step_flows(journeys, *, steps=4, plan=None, direction="forward", max_pages=6, target_column=TARGET,
               plan_column=PLAN) -> pd.DataFrame:
    """Journeys flowing from page to page over the first ``steps`` pages of each journey.

    Parameters
    ----------
    journeys : DataFrame
        Journeys, one per row (one per buyer after :func:`journey_utils.preprocess`).
    steps : int, default 4
        Columns of the diagram (pages followed), at least 2; the flows join
        column ``step`` to column ``step + 1``.
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).
    direction : {'forward', 'backward'}, default 'forward'
        ``'forward'``: column 1 is the first page of each journey; a journey with
        no next page goes to ``'(end)'``. ``'backward'``: column 1 is the last
        page, column 2 the page before it, ...; a journey with no earlier page
        goes to ``'(start)'``.
    max_pages : int, default 6
        Pages named at each column: those most journeys are on there (ties by
        name); the others are gathered in ``'(other pages)'``, unless that would
        gather a single page, which is then named.
    target_column, plan_column : str
        Names of the journey and plan columns.

    Returns
    -------
    DataFrame
        ``step`` (the source's column, 1 to ``steps - 1``), ``source``,
        ``target``, ``journeys``, ``n`` (selected journeys with at least one
        page: column 1 holds them all) and ``share`` (``journeys / n``). A
        journey is counted once per step until it ends; an ended journey is
        not followed. Sorted by step, journeys descending, source, target.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.flows import step_flows
    >>> df = pd.DataFrame({"user_journey": ["A-B-C", "A-C", "B"], "subscription_type": ["x", "x", "y"]})
    >>> step_flows(df, steps=2, plan="x")[["source", "target", "journeys", "share"]].values.tolist()
    [['A', 'B', 1, 0.5], ['A', 'C', 1, 0.5]]
    >>> step_flows(df, steps=2, direction="backward")[["source", "target", "journeys"]].values.tolist()
    [['B', '(start)', 1], ['C', 'A', 1], ['C', 'B', 1]]
    """
    function = "step_flows"
    steps, max_pages = _check(steps, max_pages, direction, function)
    check_frame(journeys, function, [target_column])
    mask = plan_mask(journeys, plan, plan_column, function)
    coded = _codes.encode(journeys[target_column], rows=None if mask is None else np.flatnonzero(mask))
    n = int((coded.lengths > 0).sum())
    if n == 0:
        return _empty_flows()
    counts = _flow_counts(coded, np.zeros(coded.n_journeys, dtype=np.int64), 1, steps, max_pages, direction)
    table = pd.DataFrame({
        "step": counts["step"].to_numpy(),
        "source": _str(counts["source"]),
        "target": _str(counts["target"]),
        "journeys": counts["journeys"].to_numpy(),
        "n": np.full(len(counts), n, dtype=np.int64),
        "share": counts["journeys"].to_numpy() / n,
    })
    table = _sort(table, ["step"], "journeys", ["source", "target"])
    table.attrs["direction"] = direction
    return table


def _empty_flows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str" if c in ("source", "target") else
                                      "float64" if c == "share" else "int64") for c in _FLOW_COLUMNS})


def _sort(table: pd.DataFrame, first: list, value: str, keys: list, *, absolute: bool = False) -> pd.DataFrame:
    """Sorted by ``first`` ascending, ``value`` descending (by size when ``absolute``), then ``keys``."""
    values = table[value].to_numpy(dtype=float)
    order = np.lexsort(tuple(table[k].to_numpy() for k in reversed(keys))
                       + (-(np.abs(values) if absolute else values),)
                       + tuple(table[k].to_numpy() for k in reversed(first)))
    return table.iloc[order].reset_index(drop=True)


def flow_differences(journeys, plans=None, *, steps=4, max_pages=6, direction="forward", target_column=TARGET,
                     plan_column=PLAN) -> pd.DataFrame:
    """The same step flows in two or more plans: each as a share of the plan's journeys, and the difference.

    The pages named at each column are chosen over the journeys of all the
    plans compared together, so every plan has the same ribbons.

    Parameters
    ----------
    journeys : DataFrame
        Journeys, one per row.
    plans : None or list of str, default None
        The plans to compare, at least two (None: every plan, sorted by name).
    steps, max_pages, direction
        As in :func:`step_flows`.
    target_column, plan_column : str
        Names of the journey and plan columns.

    Returns
    -------
    DataFrame
        One row per flow and pair of plans (``plan_a`` before ``plan_b`` in the
        order of ``plans``): ``step``, ``source``, ``target``, ``plan_a``,
        ``plan_b``, ``journeys_a``, ``journeys_b``, ``n_a``, ``n_b`` (each plan's
        journeys with at least one page), ``share_a``, ``share_b`` and
        ``difference`` (``share_a - share_b``, in -1..1). A flow absent from one
        plan has 0 journeys there. Sorted by the size of the difference, largest
        first, then step, source, target and pair.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.flows import flow_differences
    >>> df = pd.DataFrame({"user_journey": ["A-B", "A-B", "A-C", "A-C"], "subscription_type": ["x", "x", "x", "y"]})
    >>> table = flow_differences(df, ["x", "y"], steps=2)
    >>> table[["source", "target", "share_a", "share_b", "difference"]].round(3).values.tolist()
    [['A', 'C', 0.333, 1.0, -0.667], ['A', 'B', 0.667, 0.0, 0.667]]
    """
    function = "flow_differences"
    steps, max_pages = _check(steps, max_pages, direction, function)
    check_frame(journeys, function, [target_column, plan_column])
    chosen = selected_plans(journeys, plans, plan_column, function, minimum=2)
    plan_values = journeys[plan_column]
    rows = np.flatnonzero(plan_values.isin(chosen).to_numpy())
    coded = _codes.encode(journeys[target_column], rows=rows)
    groups = pd.Categorical(plan_values.to_numpy()[rows], categories=chosen).codes.astype(np.int64)
    sizes = np.bincount(groups[coded.lengths > 0], minlength=len(chosen))
    if coded.n_journeys == 0 or not (coded.lengths > 0).any():
        return _empty_differences()
    counts = _flow_counts(coded, groups, len(chosen), steps, max_pages, direction)
    wide = counts.pivot_table(index=["step", "source", "target"], columns="group", values="journeys",
                              aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=range(len(chosen)), fill_value=0)
    keys = wide.index.to_frame(index=False)
    frames = []
    for i in range(len(chosen)):
        for j in range(i + 1, len(chosen)):
            a, b = wide[i].to_numpy(dtype=np.int64), wide[j].to_numpy(dtype=np.int64)
            share_a = a / sizes[i] if sizes[i] else np.zeros(len(a))
            share_b = b / sizes[j] if sizes[j] else np.zeros(len(b))
            frames.append(pd.DataFrame({
                "step": keys["step"].to_numpy(dtype=np.int64),
                "source": _str(keys["source"]),
                "target": _str(keys["target"]),
                "plan_a": _str([chosen[i]] * len(a)),
                "plan_b": _str([chosen[j]] * len(a)),
                "journeys_a": a,
                "journeys_b": b,
                "n_a": np.full(len(a), sizes[i], dtype=np.int64),
                "n_b": np.full(len(a), sizes[j], dtype=np.int64),
                "share_a": share_a.astype(float),
                "share_b": share_b.astype(float),
                "difference": (share_a - share_b).astype(float),
                "_pair": np.full(len(a), i * len(chosen) + j, dtype=np.int64),
            }))
    table = pd.concat(frames, ignore_index=True)
    table = _sort(table, [], "difference", ["step", "source", "target", "_pair"], absolute=True)
    table = table.drop(columns="_pair")
    table.attrs["direction"] = direction
    table.attrs["plans"] = list(chosen)
    return table


def _empty_differences() -> pd.DataFrame:
    kinds = {"source": "str", "target": "str", "plan_a": "str", "plan_b": "str", "share_a": "float64",
             "share_b": "float64", "difference": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=kinds.get(c, "int64")) for c in _DIFFERENCE_COLUMNS})
