"""The five metrics for journeys as a Dask DataFrame: the pandas metric per partition, summed.

Each function returns what its pandas namesake in :mod:`journey_utils.metrics` returns
for the same journeys, sorted the same way; ``plan=`` is read by the same checks.
"""

from __future__ import annotations

import dask
import numpy as np
import pandas as pd

from journey_utils import metrics as _metrics
from journey_utils._checks import check_positive_int, plan_mask, ranked
from journey_utils.cluster.parts import check_frame
from journey_utils.columns import PLAN, TARGET, USER

# --- the five metrics --------------------------------------------------------------------


def _plans_and(partial, plan, plan_column):
    """A partition function: (plans present, the partial result on the selected rows)."""

    def run(part: pd.DataFrame):
        present = part[plan_column].dropna().unique().tolist() if plan_column in part.columns else []
        if plan is not None:
            part = part[part[plan_column].isin(plan).to_numpy()]
        return present, partial(part)

    return run


def _plan_frame(data) -> pd.DataFrame:
    """An empty stand-in for ``data`` with its columns, for the pandas plan checks' messages."""
    return pd.DataFrame(columns=[str(c) for c in data.columns])


def _wanted(data, plan, plan_column: str, function: str):
    """The plans to select before counting (None: every row); its type and spelling checked now."""
    if plan is None or (isinstance(plan, str) and plan == "All"):
        return None
    if plan_column not in data.columns:
        # The pandas check words the message (and lists the columns present).
        plan_mask(_plan_frame(data), plan, plan_column, function)
    wanted = [plan] if isinstance(plan, str) else plan
    listed = list(wanted) if _iterable(wanted) else []
    frame = pd.DataFrame({plan_column: pd.Series([p for p in listed if isinstance(p, str)], dtype=object)})
    plan_mask(frame, plan, plan_column, function)
    return listed


def _iterable(value) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return not isinstance(value, (bytes, dict))


def _select(data, presents, plan, wanted, plan_column: str, function: str) -> None:
    """Check ``plan`` against the plans present in every partition, as the pandas path does."""
    if plan is None:
        return
    if plan_column not in data.columns:
        plan_mask(_plan_frame(data), plan, plan_column, function)
        return
    present = sorted({p for found in presents for p in found}, key=str)
    frame = pd.DataFrame({plan_column: pd.Series(present, dtype=object)})
    mask = plan_mask(frame, plan, plan_column, function)
    if wanted is None and mask is not None and not np.asarray(mask).all():
        # 'All' read as a plan name: counted again on that plan.
        raise _Again([p for p, m in zip(present, mask) if m])


class _Again(Exception):
    def __init__(self, plans):
        super().__init__(plans)
        self.plans = plans


def _partials(data, function, columns, plan, plan_column, partial, *, select=True):
    """The partial results of every partition on the selected plans (one pass), and the plans.

    With ``select=False`` every row is counted and the plans selected are returned for
    the caller to apply (None: every plan).
    """
    check_frame(data, function, columns)
    wanted = _wanted(data, plan, plan_column, function)
    run = _plans_and(partial, wanted if select else None, plan_column)
    # No column projection first: on persisted journeys it would be one more task per
    # partition, and each partial reads only the columns it needs.
    results = dask.compute(*[dask.delayed(run, pure=True)(part) for part in data.to_delayed()])
    try:
        _select(data, [present for present, _ in results], plan, wanted, plan_column, function)
    except _Again as again:
        if select:
            return _partials(data, function, columns, again.plans, plan_column, partial)
        wanted = again.plans
    return [result for _, result in results], wanted


def _summed(partials: list[pd.Series]) -> pd.Series:
    parts = [p for p in partials if len(p)]
    if not parts:
        return pd.Series(np.empty(0, np.int64), index=pd.Index([], dtype=object))
    return pd.concat(parts).groupby(level=0, sort=False).sum()


def page_count(data, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """:func:`journey_utils.page_count` for journeys as a Dask DataFrame.

    Each partition's counts (by the pandas function, on the selected plans) are summed;
    the result is the pandas function's, sorted the same way (count descending, then page).

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Journeys, for example from :func:`preprocess`.
    plan : None, str or list of str
        As in the pandas function (``None``: every plan).

    Returns
    -------
    Series
        Page -> occurrences (index ``page``, name ``count``).

    Examples
    --------
    >>> page_count(journeys, plan="Annual").head(3)   # doctest: +SKIP
    """
    counts = _summed(_partials(data, "page_count", [target_column], plan, plan_column,
                               lambda part: _metrics.page_count(part, target_column=target_column))[0])
    return ranked(counts.to_numpy(dtype=np.int64), counts.index.to_numpy(), name="count", index_name="page")


def page_presence(data, plan=None, normalize=False, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """:func:`journey_utils.page_presence` for journeys as a Dask DataFrame.

    Journeys containing each page are counted per partition and summed; with
    ``normalize`` they are divided by the number of selected journeys (empty ones
    included), as in the pandas function.

    Returns
    -------
    Series
        Page -> journeys (name ``journeys``) or share (name ``share``).

    Examples
    --------
    >>> page_presence(journeys, normalize=True).head(3)   # doctest: +SKIP
    """
    partials = _partials(data, "page_presence", [target_column], plan, plan_column,
                         lambda part: (_metrics.page_presence(part, target_column=target_column), len(part)))[0]
    counts = _summed([p for p, _ in partials])
    total = sum(n for _, n in partials)
    values, labels = counts.to_numpy(dtype=np.int64), counts.index.to_numpy()
    if normalize:
        share = values / total if total else values.astype(float)
        return ranked(share, labels, name="share", index_name="page")
    return ranked(values, labels, name="journeys", index_name="page")


def page_destinations(data, page, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """:func:`journey_utils.page_destinations` for journeys as a Dask DataFrame.

    Returns
    -------
    Series
        Next page -> times it follows ``page`` (index ``next_page``, name ``count``).

    Examples
    --------
    >>> page_destinations(journeys, "Pricing")   # doctest: +SKIP
    """
    if not isinstance(page, str):
        raise TypeError(f"page_destinations: page must be a page name (str); found {page!r}")
    counts = _summed(_partials(data, "page_destinations", [target_column], plan, plan_column,
                               lambda part: _metrics.page_destinations(part, page, target_column=target_column))[0])
    return ranked(counts.to_numpy(dtype=np.int64), counts.index.to_numpy(), name="count", index_name="next_page")


def page_transitions(data, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.DataFrame:
    """:func:`journey_utils.page_transitions` for journeys as a Dask DataFrame.

    Returns
    -------
    DataFrame
        ``page``, ``next_page``, ``count``; count descending, then page and next page.

    Examples
    --------
    >>> page_transitions(journeys).head()   # doctest: +SKIP
    """
    partials = _partials(data, "page_transitions", [target_column], plan, plan_column,
                         lambda part: _metrics.page_transitions(part, target_column=target_column))[0]
    parts = [p for p in partials if len(p)]
    if parts:
        summed = pd.concat(parts).groupby(["page", "next_page"], sort=False)["count"].sum().reset_index()
    else:
        summed = partials[0] if partials else pd.DataFrame({"page": [], "next_page": [], "count": []})
    table = pd.DataFrame({"page": pd.array(summed["page"].tolist(), dtype="str"),
                          "next_page": pd.array(summed["next_page"].tolist(), dtype="str"),
                          "count": summed["count"].to_numpy(dtype=np.int64)})
    table = table.sort_values(["page", "next_page"], kind="stable")
    table = table.sort_values("count", ascending=False, kind="stable")
    return table.reset_index(drop=True)


def page_sequences(data, n=3, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """:func:`journey_utils.page_sequences` for journeys as a Dask DataFrame.

    A journey lies in one partition, so counting journeys per run in each partition
    and summing counts every journey once.

    Returns
    -------
    Series
        ``'A-B-C'`` -> journeys containing it (index ``sequence``, name ``journeys``).

    Examples
    --------
    >>> page_sequences(journeys, n=3, plan=["Monthly"]).head()   # doctest: +SKIP
    """
    n = check_positive_int(n, "n", "page_sequences")
    counts = _summed(_partials(data, "page_sequences", [target_column], plan, plan_column,
                               lambda part: _metrics.page_sequences(part, n, target_column=target_column))[0])
    return ranked(counts.to_numpy(dtype=np.int64), counts.index.to_numpy(), name="journeys", index_name="sequence")


def journey_lengths(data, plan=None, *, target_column=TARGET, plan_column=PLAN, group_column=USER) -> pd.Series:
    """:func:`journey_utils.journey_lengths` for journeys as a Dask DataFrame.

    The journeys are numbered 0, 1, ... in ``user_id`` order (partition order when the
    frame has no ``user_id``), which is the index :func:`journey_utils.preprocess`
    gives them; the selected journeys' lengths come in that order with those numbers,
    so the result equals the pandas one on the same journeys.

    Returns
    -------
    Series
        Pages per journey (name ``length``).

    Examples
    --------
    >>> journey_lengths(journeys).describe()   # doctest: +SKIP
    """

    def partial(part):
        lengths = _metrics.journey_lengths(part, target_column=target_column).to_numpy(dtype=np.int64)
        key = part[group_column].to_numpy() if group_column in part.columns else np.zeros(len(part), np.int64)
        plans = part[plan_column].to_numpy(dtype=object) if plan_column in part.columns else np.zeros(len(part))
        return pd.DataFrame({"key": key, "plan": plans, "length": lengths})

    # Every journey is needed for its number; the plans are selected afterwards.
    partials, wanted = _partials(data, "journey_lengths", [target_column], plan, plan_column, partial, select=False)
    table = pd.concat(partials, ignore_index=True) if partials else pd.DataFrame({"key": [], "plan": [], "length": []})
    table = table.sort_values("key", kind="stable").reset_index(drop=True)
    if wanted is not None:
        table = table[table["plan"].isin(wanted).to_numpy()]
    return pd.Series(table["length"].to_numpy(dtype=np.int64), index=table.index, name="length", dtype=np.int64)


def journey_length(data, plan=None, *, target_column=TARGET, plan_column=PLAN) -> float:
    """:func:`journey_utils.journey_length` (mean pages per journey) for a Dask DataFrame.

    Pages and journeys are summed over partitions; NaN when no journey is selected.

    Examples
    --------
    >>> journey_length(journeys, plan="Annual")   # doctest: +SKIP
    """

    def partial(part):
        lengths = _metrics.journey_lengths(part, target_column=target_column).to_numpy(dtype=np.int64)
        return int(lengths.sum()), len(lengths)

    partials = _partials(data, "journey_length", [target_column], plan, plan_column, partial)[0]
    pages, journeys = sum(p for p, _ in partials), sum(n for _, n in partials)
    # pandas takes the mean of the lengths as floats: exact sums below 2**53, then one division.
    return float(np.float64(pages) / np.float64(journeys)) if journeys else float("nan")


