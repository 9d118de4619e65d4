"""Where pages sit inside journeys: position, step matrix, anchored paths, variants, revisits.

Every function takes journeys (one row per user, pages joined by ``-``), selects
rows with ``plan`` like the metrics (None for every plan, one plan name or a
list), and returns a new tidy DataFrame with a ``plan`` column; with
``by_plan=True`` it holds one block per plan, in the order of the list given or,
for every plan, sorted by name. Counts carry their counting unit
(``unit``) and their denominator (``n``). The work per journey is integer
arithmetic on :func:`journey_utils._codes.encode` arrays; Python loops only run
over steps, offsets or plans.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journey_utils import _codes
from journey_utils._checks import (
    ALL_PLANS,
    check_frame,
    check_positive_int,
    plan_selection,
    plans_present,
    select_plan,
)
from journey_utils.columns import PLAN, SESSION, TARGET, USER
from journey_utils.inference import newcombe_interval
from journey_utils.preprocess import _drop_pages, _grouped_frame, _page_list, _session_order

__all__ = [
    "START",
    "END",
    "page_position",
    "step_matrix",
    "step_matrix_difference",
    "anchored_paths",
    "journey_variants",
    "variant_coverage",
    "revisits",
    "session_revisits",
]

#: State of a step before a journey starts (anchored paths).
START = "(start)"
#: State of a step after a journey has ended (step matrix, anchored paths).
END = "(end)"
ANCHORS = ("first", "last")


def plan_label(plan, present=()) -> str:
    """How a plan selection is named in output tables: 'All', 'Annual', 'Annual + Monthly'.

    Every plan (None or ``'All'``) is 'All', or 'All plans' when a plan in
    ``present`` is itself called All (so that the two never share a label).
    """
    if plan is None or (isinstance(plan, str) and plan == ALL_PLANS):
        return every_plan_label(present)
    return plan if isinstance(plan, str) else " + ".join(plan)


def every_plan_label(present=()) -> str:
    """The label of "every plan": 'All', or, when a plan of ``present`` has that name, 'All plans' (and so on).

    Examples
    --------
    >>> from journey_utils.paths import every_plan_label
    >>> every_plan_label(["Annual"]), every_plan_label(["All", "Monthly"])
    ('All', 'All plans')
    """
    names = set(present)
    for label in (ALL_PLANS, "All plans", "(all plans)"):
        if label not in names:
            return label
    label = "(all plans)"
    while label in names:
        label = f"({label})"
    return label


def plan_groups(data, plan, by_plan, plan_column, function) -> list[tuple[str, pd.DataFrame]]:
    """Rows of ``data`` for a plan selection, whole or split by plan (given order, or by name for every plan)."""
    wanted = plan_selection(data, plan, plan_column, function)
    selected = data if wanted is None else data[data[plan_column].isin(wanted).to_numpy()]
    if not by_plan:
        present = plans_present(data, plan_column) if plan_column in data.columns else ()
        return [(plan_label(wanted if wanted is not None else None, present), selected)]
    check_frame(data, function, [plan_column])
    found = set(pd.unique(selected[plan_column].dropna()))
    order = [p for p in (wanted if wanted is not None else plans_present(selected, plan_column)) if p in found]
    return [(name, selected[(selected[plan_column] == name).to_numpy()]) for name in order]


def _check_page(page, function) -> str:
    if not isinstance(page, str):
        raise TypeError(f"{function}: page must be a page name (str); found {page!r}")
    return page


def _str(values) -> pd.api.extensions.ExtensionArray:
    return pd.array(list(values), dtype="str")


def _first_hits(coded, code, anchor="first") -> tuple[np.ndarray, np.ndarray]:
    """Journey number and absolute position of the first (or last) occurrence of ``code``."""
    hits = np.flatnonzero(coded.codes == code)
    journeys = coded.journey_index[hits]
    # Hits are in journey order: a journey's first (last) hit is where its number starts (ends).
    change = journeys[1:] != journeys[:-1]
    keep = np.r_[True, change] if anchor == "first" else np.r_[change, True]
    if not len(hits):
        keep = np.zeros(0, bool)
    return journeys[keep], hits[keep]


def page_position(data, page, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.DataFrame:
    """Where each journey first reaches ``page``: the step and the relative position.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    page : str
        The page to locate.
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).
    target_column, plan_column : str
        Names of the journey and plan columns.

    Returns
    -------
    DataFrame
        One row per journey that contains ``page`` (other journeys are left out:
        the denominator of any share is ``len(data)`` of the selected plan),
        indexed like ``data``, with columns ``plan`` (when ``data`` has a plan
        column), ``length`` (pages in the journey), ``step`` (1 = first page)
        and ``position``, the step rescaled to 0 = first page and 1 = last page,
        ``(step - 1) / (length - 1)``; a one-page journey is at position 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.paths import page_position
    >>> df = pd.DataFrame({"user_journey": ["Homepage-Pricing-Checkout", "Pricing", "Homepage"],
    ...                    "subscription_type": ["Annual", "Monthly", "Annual"]})
    >>> page_position(df, "Pricing")[["step", "position"]].values.tolist()
    [[2.0, 0.5], [1.0, 0.0]]
    """
    function = "page_position"
    page = _check_page(page, function)
    check_frame(data, function, [target_column])
    selected = select_plan(data, plan, plan_column, function)
    coded = _codes.encode(selected[target_column])
    code = coded.code_of(page)
    journey, where = _first_hits(coded, code) if code is not None else (np.empty(0, np.int64),) * 2
    length = coded.lengths[journey]
    step = where - coded.offsets[journey] + 1
    position = np.where(length > 1, (step - 1) / np.maximum(length - 1, 1), 0.0)
    out = pd.DataFrame(index=selected.index[journey])
    if plan_column in selected.columns:
        out["plan"] = pd.array(selected[plan_column].to_numpy()[journey], dtype="str")
    out["length"] = length.astype(np.int64)
    out["step"] = step.astype(np.int64)
    out["position"] = position.astype(float)
    return out


def step_matrix(data, steps=10, plan=None, *, by_plan=False, target_column=TARGET, plan_column=PLAN) -> pd.DataFrame:
    """Share of journeys on each page at steps 1..``steps``, as in path-analysis tools.

    A journey shorter than ``steps`` is in the explicit state ``'(end)'`` at every
    later step, so each step's shares add up to 1 over the same denominator.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    steps : int, default 10
        Number of steps (columns of the matrix).
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).
    by_plan : bool, default False
        One matrix per plan instead of one for the selection.

    Returns
    -------
    DataFrame
        Tidy: ``plan``, ``step``, ``page``, ``unit`` ('journeys'), ``count``
        (journeys on that page at that step), ``n`` (journeys) and ``share``. Every
        (step, page) pair of the plan appears, with zeros. Sorted by plan, step,
        count descending, page. For a heatmap:
        ``table.pivot(index="page", columns="step", values="share")``.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.paths import step_matrix
    >>> df = pd.DataFrame({"user_journey": ["A-B", "A"], "subscription_type": ["x", "x"]})
    >>> step_matrix(df, steps=2)[["step", "page", "share"]].values.tolist()
    [[1, 'A', 1.0], [1, '(end)', 0.0], [1, 'B', 0.0], [2, '(end)', 0.5], [2, 'B', 0.5], [2, 'A', 0.0]]
    """
    function = "step_matrix"
    steps = check_positive_int(steps, "steps", function)
    check_frame(data, function, [target_column])
    frames = []
    for label, group in plan_groups(data, plan, by_plan, plan_column, function):
        coded = _codes.encode(group[target_column])
        names = np.append(coded.pages, END)
        end_code = len(coded.pages)
        counts = np.zeros((steps, len(names)), dtype=np.int64)
        for step in range(steps):
            on_page = coded.lengths > step
            state = np.full(coded.n_journeys, end_code, dtype=np.int64)
            state[on_page] = coded.codes[coded.offsets[:-1][on_page] + step]
            counts[step] = np.bincount(state, minlength=len(names))
        # The page dictionary may name pages this selection never visits; list only visited ones.
        seen = counts.sum(axis=0) > 0
        seen[end_code] = True
        frames.append(_grid(label, "step", np.arange(1, steps + 1), names[seen], counts[:, seen], coded.n_journeys))
    return _sorted(_concat(frames, ["plan", "step", "page", "unit", "count", "n", "share"]), "step")


def _grid(label, axis, axis_values, names, counts, n) -> pd.DataFrame:
    """Tidy table of a (axis value x page) count matrix for one plan group."""
    rows, pages = np.divmod(np.arange(counts.size), len(names))
    share = counts.ravel() / n if n else np.full(counts.size, np.nan)
    return pd.DataFrame(
        {
            "plan": _str([label] * counts.size),
            axis: np.asarray(axis_values, dtype=np.int64)[rows],
            "page": _str(names[pages]),
            "unit": _str(["journeys"] * counts.size),
            "count": counts.ravel(),
            "n": np.full(counts.size, n, dtype=np.int64),
            "share": share.astype(float),
        }
    )


def _concat(frames, columns) -> pd.DataFrame:
    """Blocks of one table stacked; an empty table with the same columns when there are none."""
    if frames:
        return pd.concat(frames, ignore_index=True)
    return pd.DataFrame({c: pd.Series(dtype="str" if c in ("plan", "page", "journey", "unit") else "int64")
                         for c in columns})


def _sorted(table: pd.DataFrame, axis: str) -> pd.DataFrame:
    plan_rank = pd.factorize(table["plan"])[0]
    order = np.lexsort((table["page"].to_numpy(), -table["count"].to_numpy(), table[axis].to_numpy(), plan_rank))
    return table.iloc[order].reset_index(drop=True)


def step_matrix_difference(data, plan_a, plan_b, steps=10, *, confidence=0.95, target_column=TARGET,
                           plan_column=PLAN) -> pd.DataFrame:
    """Step-matrix shares of two plans side by side, with their difference.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    plan_a, plan_b : str
        The plans to compare; ``difference = share_a - share_b``.
    steps : int, default 10
        Number of steps.
    confidence : float, default 0.95
        Coverage of the difference's interval (Newcombe's hybrid score method).

    Returns
    -------
    DataFrame
        ``step``, ``page``, ``unit`` ('journeys'), ``count_a``, ``n_a``, ``share_a``,
        ``count_b``, ``n_b``, ``share_b``, ``difference``, ``difference_low``,
        ``difference_high``. Every (step, page) pair seen in either plan appears.
        Sorted by step, then largest absolute difference, then page.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.paths import step_matrix_difference
    >>> df = pd.DataFrame({"user_journey": ["A-B", "B"], "subscription_type": ["x", "y"]})
    >>> step_matrix_difference(df, "x", "y", steps=1)[["page", "difference"]].values.tolist()
    [['A', 1.0], ['B', -1.0], ['(end)', 0.0]]
    """
    function = "step_matrix_difference"
    for name, value in (("plan_a", plan_a), ("plan_b", plan_b)):
        if not isinstance(value, str):
            raise TypeError(f"{function}: {name} must be one plan name (str); found {value!r}")
    if plan_a == plan_b:
        raise ValueError(f"{function}: plan_a and plan_b must differ; both are {plan_a!r}")
    keys = ["step", "page"]
    a = step_matrix(data, steps, plan_a, target_column=target_column, plan_column=plan_column)
    b = step_matrix(data, steps, plan_b, target_column=target_column, plan_column=plan_column)
    both = a[keys + ["count", "n"]].merge(b[keys + ["count", "n"]], on=keys, how="outer", suffixes=("_a", "_b"))
    for side, table in (("a", a), ("b", b)):
        n = int(table["n"].iloc[0]) if len(table) else 0
        both[f"count_{side}"] = both[f"count_{side}"].fillna(0).astype(np.int64)
        both[f"n_{side}"] = np.int64(n)
        both[f"share_{side}"] = both[f"count_{side}"] / n if n else np.nan
    both["unit"] = "journeys"
    both["difference"] = both["share_a"] - both["share_b"]
    low, high = newcombe_interval(both["count_a"], both["n_a"], both["count_b"], both["n_b"], confidence)
    both["difference_low"], both["difference_high"] = low, high
    order = np.lexsort((both["page"].to_numpy(), -both["difference"].abs().to_numpy(), both["step"].to_numpy()))
    columns = ["step", "page", "unit", "count_a", "n_a", "share_a", "count_b", "n_b", "share_b",
               "difference", "difference_low", "difference_high"]
    out = both.iloc[order][columns].reset_index(drop=True)
    out["page"] = out["page"].astype("str")
    out["unit"] = out["unit"].astype("str")
    return out


def anchored_paths(data, page, *, before=3, after=3, anchor="first", plan=None, by_plan=False,
                   target_column=TARGET, plan_column=PLAN) -> pd.DataFrame:
    """What leads to a page and what follows it: pages at steps -k..+k around it.

    Only journeys that contain ``page`` count, and they are the denominator
    (``n``). Each is aligned on its first (or last) visit to ``page`` (offset 0);
    offsets before the journey's first page are ``'(start)'`` and after its last
    page ``'(end)'``, so each offset's shares add up to 1.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    page : str
        The anchor page, e.g. ``'Checkout'`` or ``'Pricing'``.
    before, after : int, default 3
        Steps shown before and after the anchor (0 allowed).
    anchor : {'first', 'last'}, default 'first'
        Align on the first or the last visit to ``page``.
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).
    by_plan : bool, default False
        One block per plan.

    Returns
    -------
    DataFrame
        Tidy: ``plan``, ``offset``, ``page``, ``unit`` ('journeys'), ``count``,
        ``n`` (journeys containing the anchor page) and ``share``; only pages seen
        at an offset are listed. Sorted by plan, offset, count descending, page.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.paths import anchored_paths
    >>> df = pd.DataFrame({"user_journey": ["A-B-C", "B", "A"], "subscription_type": ["x"] * 3})
    >>> anchored_paths(df, "B", before=1, after=1)[["offset", "page", "count"]].values.tolist()
    [[-1, '(start)', 1], [-1, 'A', 1], [0, 'B', 2], [1, '(end)', 1], [1, 'C', 1]]
    """
    function = "anchored_paths"
    page = _check_page(page, function)
    if isinstance(before, bool) or not isinstance(before, (int, np.integer)) or before < 0:
        raise ValueError(f"{function}: before must be a non-negative integer; found {before!r}")
    if isinstance(after, bool) or not isinstance(after, (int, np.integer)) or after < 0:
        raise ValueError(f"{function}: after must be a non-negative integer; found {after!r}")
    if anchor not in ANCHORS:
        raise ValueError(f"{function}: anchor must be 'first' or 'last'; found {anchor!r}")
    check_frame(data, function, [target_column])
    offsets_range = np.arange(-int(before), int(after) + 1)
    frames = []
    for label, group in plan_groups(data, plan, by_plan, plan_column, function):
        coded = _codes.encode(group[target_column])
        code = coded.code_of(page)
        if code is None:
            journey = where = np.empty(0, np.int64)
        else:
            journey, where = _first_hits(coded, code, anchor)
        names = np.append(coded.pages, [START, END])
        start_code, end_code = len(coded.pages), len(coded.pages) + 1
        first, stop = coded.offsets[journey], coded.offsets[journey + 1]
        counts = np.zeros((len(offsets_range), len(names)), dtype=np.int64)
        for row, offset in enumerate(offsets_range):
            at = where + offset
            state = np.where(at < first, start_code, end_code)
            inside = (at >= first) & (at < stop)
            state[inside] = coded.codes[at[inside]]
            counts[row] = np.bincount(state, minlength=len(names))
        table = _grid(label, "offset", offsets_range, names, counts, len(journey))
        frames.append(table[table["count"] > 0])
    return _sorted(_concat(frames, ["plan", "offset", "page", "unit", "count", "n", "share"]), "offset")


def journey_variants(data, plan=None, *, by_plan=False, top=None, target_column=TARGET,
                     plan_column=PLAN) -> pd.DataFrame:
    """Distinct whole journeys, most common first, with the coverage curve.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row (one per user after preprocessing).
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).
    by_plan : bool, default False
        Rank variants within each plan.
    top : int, optional
        Keep only the ``top`` most common variants of each plan (the cumulative
        share is still that of the full ranking).

    Returns
    -------
    DataFrame
        ``plan``, ``rank`` (1 = most common), ``journey``, ``unit`` ('journeys'),
        ``count``, ``n`` (journeys), ``share`` and ``cumulative_share`` (share of
        journeys covered by this variant and all more common ones). Ties are
        ranked by journey text.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.paths import journey_variants
    >>> df = pd.DataFrame({"user_journey": ["A-B", "C", "A-B", "B"], "subscription_type": ["x"] * 4})
    >>> journey_variants(df)[["rank", "journey", "count", "cumulative_share"]].values.tolist()
    [[1, 'A-B', 2, 0.5], [2, 'B', 1, 0.75], [3, 'C', 1, 1.0]]
    """
    function = "journey_variants"
    check_frame(data, function, [target_column])
    if top is not None:
        top = check_positive_int(top, "top", function)
    frames = []
    for label, group in plan_groups(data, plan, by_plan, plan_column, function):
        journeys, values = _variant_counts(group[target_column])
        n = int(values.sum())
        frame = pd.DataFrame(
            {
                "plan": _str([label] * len(values)),
                "rank": np.arange(1, len(values) + 1, dtype=np.int64),
                "journey": _str(journeys),
                "unit": _str(["journeys"] * len(values)),
                "count": values,
                "n": np.full(len(values), n, dtype=np.int64),
                "share": values / n if n else values.astype(float),
                "cumulative_share": np.cumsum(values) / n if n else values.astype(float),
            }
        )
        frames.append(frame if top is None else frame.head(top))
    return _concat(frames, ["plan", "rank", "journey", "unit", "count", "n", "share", "cumulative_share"])


def _variant_counts(journeys: pd.Series) -> tuple[list, np.ndarray]:
    """Distinct journeys and their counts, most common first, ties by journey text.

    Counted and sorted in Arrow: UTF-8 bytes sort as the code points do, and no
    fixed-width copy of the texts is made (one long journey would make that huge).
    """
    try:
        array, _ = _codes._arrow(journeys)
    except TypeError:
        array = pa.array(journeys.astype("str"), type=pa.large_string(), from_pandas=True)
    counted = pc.value_counts(pc.drop_null(array))
    table = pa.table({"journey": counted.field("values"), "count": counted.field("counts")})
    table = table.take(pc.sort_indices(table, sort_keys=[("count", "descending"), ("journey", "ascending")]))
    return table.column("journey").to_pylist(), table.column("count").to_numpy().astype(np.int64)


def variant_coverage(data, share=0.8, plan=None, *, by_plan=False, variants=None, target_column=TARGET,
                     plan_column=PLAN) -> pd.DataFrame:
    """How many distinct journeys it takes to cover a share of all journeys.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    share : float, default 0.8
        Target share of journeys (0-1].
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).
    by_plan : bool, default False
        One row per plan.
    variants : DataFrame, optional
        The table :func:`journey_variants` returns for the same ``data``, ``plan``
        and ``by_plan`` (without ``top``), when it is already computed: it is used
        instead of counting the journeys again.

    Returns
    -------
    DataFrame
        ``plan``, ``unit`` ('journeys'), ``n`` (journeys), ``variants`` (distinct
        journeys), ``target_share``, ``variants_needed`` (fewest most-common
        variants whose journeys reach ``target_share`` of ``n``) and ``covered``
        (the share they actually cover).

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.paths import variant_coverage
    >>> df = pd.DataFrame({"user_journey": ["A-B", "C", "A-B", "B"], "subscription_type": ["x"] * 4})
    >>> variant_coverage(df, share=0.7)[["variants", "variants_needed", "covered"]].to_dict("records")
    [{'variants': 3, 'variants_needed': 2, 'covered': 0.75}]
    """
    function = "variant_coverage"
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise ValueError(f"{function}: share must be a number in (0, 1], e.g. 0.8; found {share!r}")
    if variants is None:
        variants = journey_variants(data, plan, by_plan=by_plan, target_column=target_column, plan_column=plan_column)
    else:
        check_frame(variants, function, ["plan", "n", "cumulative_share"])
    rows = []
    for label, group in variants.groupby("plan", sort=False):
        cumulative = group["cumulative_share"].to_numpy()
        # A small tolerance so that e.g. 4 of 5 journeys counts as reaching 0.8.
        needed = int(np.searchsorted(cumulative, share - 1e-12)) + 1 if len(group) else 0
        needed = min(needed, len(group))
        rows.append(
            {
                "plan": label,
                "unit": "journeys",
                "n": int(group["n"].iloc[0]) if len(group) else 0,
                "variants": len(group),
                "target_share": float(share),
                "variants_needed": needed,
                "covered": float(cumulative[needed - 1]) if needed else float("nan"),
            }
        )
    out = pd.DataFrame(rows, columns=["plan", "unit", "n", "variants", "target_share", "variants_needed", "covered"])
    return out.astype({"plan": "str", "unit": "str"})


def _cell_counts(cells):
    """Distinct cells (in no particular order) and how often each occurs; hash-based, unlike np.unique."""
    codes, uniques = pd.factorize(cells)
    return np.asarray(uniques, dtype=np.int64), np.bincount(codes, minlength=len(uniques))


def revisits(data, plan=None, *, by_plan=False, target_column=TARGET, plan_column=PLAN) -> pd.DataFrame:
    """How often journeys come back to a page, before repeated pages are collapsed.

    Pass journeys whose repeats are still there, e.g. ``ju.group_by(sessions)``
    (``ju.preprocess`` collapses them, after which no self-loop is left).

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row, not collapsed.
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).
    by_plan : bool, default False
        One block per plan.

    Returns
    -------
    DataFrame
        One row per (plan, page) with ``unit`` ('journeys'), ``n`` (journeys),
        ``journeys_with_page``, ``revisited`` (journeys visiting the page two or
        more times, repeats included), ``revisit_share`` (``revisited / n``),
        ``revisit_share_of_visitors`` (``revisited / journeys_with_page``),
        ``returned`` (journeys that leave the page and come back to it later),
        ``journeys_with_self_loop`` (journeys where the page directly repeats) and
        ``self_loops`` (number of direct repeats, counted in page occurrences).
        Sorted by plan, ``revisited`` descending, page.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.paths import revisits
    >>> df = pd.DataFrame({"user_journey": ["A-A-B-A", "A-B"], "subscription_type": ["x", "x"]})
    >>> revisits(df)[["page", "revisited", "returned", "self_loops"]].values.tolist()
    [['A', 1, 1, 1], ['B', 0, 0, 0]]
    """
    function = "revisits"
    check_frame(data, function, [target_column])
    frames = []
    for label, group in plan_groups(data, plan, by_plan, plan_column, function):
        coded = _codes.encode(group[target_column])
        counts = _revisit_counts(coded, np.zeros(coded.n_journeys, dtype=np.int64), 1)
        frames.append(_revisit_frame(label, coded.pages, coded.n_journeys, counts[:, 0]))
    return _concat(frames, REVISIT_COLUMNS)


REVISIT_COLUMNS = ["plan", "page", "unit", "n", "journeys_with_page", "revisited", "revisit_share",
                   "revisit_share_of_visitors", "returned", "journeys_with_self_loop", "self_loops"]
# Sessions regrouped at a time by session_revisits: keeps its arrays to tens of MB (and is no slower).
_REVISIT_SESSIONS = 1 << 18


def _revisit_counts(coded, group, n_groups) -> np.ndarray:
    """Per group of journeys and page: journeys with the page, revisiting it, returning to it, with a
    self-loop on it, and self-loops, as an int64 array of shape (5, n_groups, n_pages).

    ``group`` is the group (0 to ``n_groups - 1``) of each journey, or -1 to leave it out.
    """
    n_pages = max(coded.n_pages, 1)
    cell = coded.journey_index * n_pages + coded.codes
    follows_same = np.zeros(len(coded.codes), dtype=bool)
    follows_same[1:] = (coded.codes[1:] == coded.codes[:-1]) & ~coded.is_last[:-1]
    visits_cells, visits = _cell_counts(cell)
    run_cells, runs = _cell_counts(cell[~follows_same])
    loop_cells = pd.unique(cell[follows_same])

    def per_page(cells):
        owner = group[cells // n_pages]
        keep = owner >= 0
        keys = owner[keep] * n_pages + cells[keep] % n_pages
        return np.bincount(keys, minlength=n_groups * n_pages).reshape(n_groups, n_pages)

    return np.stack([
        per_page(visits_cells),
        per_page(visits_cells[visits >= 2]),
        per_page(run_cells[runs >= 2]),
        per_page(loop_cells),
        per_page(cell[follows_same]),
    ])[:, :, : coded.n_pages].astype(np.int64)


def _revisit_frame(label, pages, n, counts) -> pd.DataFrame:
    """The rows of :func:`revisits` for one plan from its counts (shape (5, pages))."""
    with_page, revisited, returned, with_loop, loops = counts
    frame = pd.DataFrame(
        {
            "plan": _str([label] * len(pages)),
            "page": _str(pages),
            "unit": _str(["journeys"] * len(pages)),
            "n": np.full(len(pages), n, dtype=np.int64),
            "journeys_with_page": with_page,
            "revisited": revisited,
        }
    )
    frame["revisit_share"] = frame["revisited"] / n if n else np.nan
    frame["revisit_share_of_visitors"] = frame["revisited"] / frame["journeys_with_page"]
    frame["returned"] = returned
    frame["journeys_with_self_loop"] = with_loop
    frame["self_loops"] = loops
    frame = frame[frame["journeys_with_page"] > 0]
    return frame.sort_values(["revisited", "page"], ascending=[False, True], kind="stable")


def session_revisits(data, plan=None, *, by_plan=False, sessions="All", count_from="last", pages_to_remove=(),
                     group_column=USER, target_column=TARGET, order_column=SESSION,
                     plan_column=PLAN) -> pd.DataFrame:
    """:func:`revisits` of the journeys regrouped from sessions, without making them.

    Equal to ``revisits(remove_pages(group_by(data, sessions=sessions, count_from=count_from),
    pages_to_remove), plan, by_plan=by_plan)``, but the users' sessions are joined as page
    codes a block of users at a time, never as text, so memory stays bounded on
    millions of sessions.

    Parameters
    ----------
    data : DataFrame
        Sessions, one per row (as returned by :func:`journey_utils.load_sessions`).
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).
    by_plan : bool, default False
        One block per plan.
    sessions : 'All' or int, default 'All'
        Sessions per user to keep (see :func:`journey_utils.group_by`).
    count_from : {'last', 'first'}, default 'last'
        Which end of a user's history the kept sessions come from.
    pages_to_remove : str or list of str, default ()
        Pages dropped from every journey before counting.
    group_column, target_column, order_column, plan_column : str
        Column names.

    Returns
    -------
    DataFrame
        As :func:`revisits`.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.paths import session_revisits
    >>> df = pd.DataFrame({"user_id": [1, 1, 2], "session_id": [2, 1, 3], "subscription_type": ["x"] * 3,
    ...                    "user_journey": ["A-B-A", "A", "A-B"]})
    >>> session_revisits(df)[["page", "revisited", "returned", "self_loops"]].values.tolist()
    [['A', 1, 1, 1], ['B', 0, 0, 0]]
    """
    function = "session_revisits"
    removed = _page_list(pages_to_remove, function)
    users, order, starts, sizes, kept = _session_order(data, group_column, target_column, sessions, count_from,
                                                       order_column, function)
    grouped = _grouped_frame(data, users, order, starts, sizes, kept, group_column, order_column, plan_column,
                             target_column, function)
    groups = plan_groups(grouped, plan, by_plan, plan_column, function)
    group_of = np.full(len(grouped), -1, dtype=np.int64)
    for number, (_, members) in enumerate(groups):
        group_of[members.index.to_numpy()] = number
    bounds = np.r_[starts, kept].astype(np.int64)
    n_users = len(bounds) - 1
    # Blocks of whole users of about _REVISIT_SESSIONS sessions each.
    cuts = np.unique(np.r_[np.searchsorted(bounds[:-1], np.arange(0, kept, _REVISIT_SESSIONS)), n_users])
    pages, totals = np.array([], dtype=object), np.zeros((5, len(groups), 0), dtype=np.int64)
    column = data[target_column]
    for first, last in zip(cuts[:-1], cuts[1:]):
        low, high = bounds[first], bounds[last]
        rows = order[low:high] if order is not None else np.arange(low, high, dtype=np.int64)
        coded = _codes.encode(column, rows=rows).regroup(bounds[first:last + 1] - low)
        coded = _drop_pages(coded, removed)
        counts = _revisit_counts(coded, group_of[first:last], len(groups))
        if counts.shape[2] > totals.shape[2]:
            totals = np.concatenate([totals, np.zeros((5, len(groups), counts.shape[2] - totals.shape[2]),
                                                      dtype=np.int64)], axis=2)
        totals[:, :, : counts.shape[2]] += counts
        pages = coded.pages if len(coded.pages) > len(pages) else pages
    frames = [_revisit_frame(label, pages, int((group_of == number).sum()), totals[:, number])
              for number, (label, _) in enumerate(groups)]
    return _concat(frames, REVISIT_COLUMNS)
