"""The five journey metrics, each filterable by plan.

Every function takes processed journeys (one row per user, as made by
:func:`journey_utils.preprocess`) or raw sessions, a ``plan`` that is None (every
plan, the default), one plan name or a list of plan names (``'All'`` still means every
plan unless a plan is called All, when it raises and asks to choose), and returns a
new pandas object. Ranked results are sorted by value descending, then by key
ascending, so ranks are deterministic.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from journey_utils import _codes
from journey_utils._checks import check_frame, check_positive_int, plan_mask, ranked
from journey_utils.columns import PLAN, TARGET

__all__ = [
    "page_count",
    "page_presence",
    "page_destinations",
    "page_transitions",
    "page_sequences",
    "journey_length",
    "journey_lengths",
]



def _cluster(data):
    """journey_utils.cluster when ``data`` is a Dask DataFrame, else None (pandas input never imports Dask)."""
    if "dask.dataframe" in sys.modules:
        from journey_utils import cluster

        if cluster.is_dask(data):
            return cluster
    return None


def _coded(data, plan, target_column, plan_column, function):
    """The selected rows' index and their journeys as codes (the column is encoded once)."""
    check_frame(data, function, [target_column])
    mask = plan_mask(data, plan, plan_column, function)
    if mask is None:
        return data.index, _codes.encode(data[target_column])
    return data.index[mask], _codes.encode(data[target_column], rows=np.flatnonzero(mask))


def page_count(data, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """Count every occurrence of every page.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row, pages joined by ``-``.
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (``'All'`` also means every plan,
        unless a plan is named All: then it raises, see :func:`journey_utils._checks.plan_selection`).
    target_column, plan_column : str
        Names of the journey and plan columns.

    Returns
    -------
    Series
        Page -> number of occurrences (index ``page``, name ``count``).

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_journey": ["Homepage-Pricing-Homepage", "Pricing"],
    ...                    "subscription_type": ["Annual", "Monthly"]})
    >>> ju.page_count(df).to_dict()
    {'Homepage': 2, 'Pricing': 2}
    """
    if (on := _cluster(data)) is not None:
        return on.page_count(data, plan, target_column=target_column, plan_column=plan_column)
    _, coded = _coded(data, plan, target_column, plan_column, "page_count")
    counts = np.bincount(coded.codes, minlength=coded.n_pages)
    present = counts > 0
    return ranked(counts[present], coded.pages[present], name="count", index_name="page")


def page_presence(data, plan=None, normalize=False, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """Count the journeys that contain each page at least once.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).
    normalize : bool, default False
        Return the share of journeys (0-1) instead of the number. Every selected
        journey counts in the denominator, including empty ones.

    Returns
    -------
    Series
        Page -> journeys containing it (name ``journeys``) or their share (name ``share``).

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_journey": ["Homepage-Pricing-Homepage", "Pricing"],
    ...                    "subscription_type": ["Annual", "Monthly"]})
    >>> ju.page_presence(df).to_dict()
    {'Pricing': 2, 'Homepage': 1}
    >>> ju.page_presence(df, normalize=True)["Homepage"]
    np.float64(0.5)
    """
    if (on := _cluster(data)) is not None:
        return on.page_presence(data, plan, normalize, target_column=target_column, plan_column=plan_column)
    _, coded = _coded(data, plan, target_column, plan_column, "page_presence")
    codes, counts = _codes.journeys_with_page(coded)
    labels = coded.pages[codes]
    if normalize:
        share = counts / coded.n_journeys if coded.n_journeys else counts.astype(float)
        return ranked(share, labels, name="share", index_name="page")
    return ranked(counts, labels, name="journeys", index_name="page")


def page_destinations(data, page, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """Count the pages that directly follow ``page``.

    Only steps inside one journey count; the last page of a journey has no destination.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    page : str
        The page whose next pages are counted. A page that no selected journey
        contains gives an empty Series.
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).

    Returns
    -------
    Series
        Next page -> number of times it follows ``page`` (index ``next_page``, name ``count``).

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_journey": ["Homepage-Pricing-Homepage-Checkout"],
    ...                    "subscription_type": ["Annual"]})
    >>> ju.page_destinations(df, "Homepage").to_dict()
    {'Checkout': 1, 'Pricing': 1}
    """
    if (on := _cluster(data)) is not None:
        return on.page_destinations(data, page, plan, target_column=target_column, plan_column=plan_column)
    if not isinstance(page, str):
        raise TypeError(f"page_destinations: page must be a page name (str); found {page!r}")
    _, coded = _coded(data, plan, target_column, plan_column, "page_destinations")
    code = coded.code_of(page)
    if code is None:
        return ranked(np.empty(0, np.int64), [], name="count", index_name="next_page")
    origin = np.flatnonzero((coded.codes == code) & ~coded.is_last)
    counts = np.bincount(coded.codes[origin + 1], minlength=coded.n_pages)
    present = counts > 0
    return ranked(counts[present], coded.pages[present], name="count", index_name="next_page")


def page_transitions(data, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.DataFrame:
    """Count every step from one page to the next, for heatmaps and flow charts.

    Returns
    -------
    DataFrame
        Columns ``page``, ``next_page``, ``count``; sorted by count descending, then
        page and next page ascending.

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_journey": ["Homepage-Pricing-Homepage"],
    ...                    "subscription_type": ["Annual"]})
    >>> ju.page_transitions(df).values.tolist()
    [['Homepage', 'Pricing', 1], ['Pricing', 'Homepage', 1]]
    """
    if (on := _cluster(data)) is not None:
        return on.page_transitions(data, plan, target_column=target_column, plan_column=plan_column)
    _, coded = _coded(data, plan, target_column, plan_column, "page_transitions")
    origin = np.flatnonzero(~coded.is_last)
    base = max(coded.n_pages, 1)
    pairs = coded.codes[origin] * base + coded.codes[origin + 1]
    keys, counts = _codes.run_counts(np.sort(pairs))
    table = pd.DataFrame(
        {
            "page": pd.array(coded.pages[keys // base].tolist(), dtype="str"),
            "next_page": pd.array(coded.pages[keys % base].tolist(), dtype="str"),
            "count": counts.astype(np.int64),
        }
    )
    table = table.sort_values(["page", "next_page"], kind="stable")
    table = table.sort_values("count", ascending=False, kind="stable")
    return table.reset_index(drop=True)


def page_sequences(data, n=3, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """Count the journeys that contain each run of ``n`` consecutive pages.

    A run is counted once per journey however often it repeats there. Journeys
    shorter than ``n`` contribute nothing.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    n : int, default 3
        Pages per run.
    plan : None, str or list of str, default None
        None for every plan, or the plan name(s) to keep (as in :func:`journey_utils.page_count`).

    Returns
    -------
    Series
        ``'A-B-C'`` -> journeys containing it (index ``sequence``, name ``journeys``).

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_journey": ["A-B-A-B", "B-A"], "subscription_type": ["x", "y"]})
    >>> ju.page_sequences(df, n=2).to_dict()
    {'B-A': 2, 'A-B': 1}
    """
    if (on := _cluster(data)) is not None:
        return on.page_sequences(data, n, plan, target_column=target_column, plan_column=plan_column)
    n = check_positive_int(n, "n", "page_sequences")
    _, coded = _coded(data, plan, target_column, plan_column, "page_sequences")
    starts, keys, pages_of = _codes.ngrams(coded, n)
    keys, counts = _codes.journeys_with(coded.journey_index[starts], keys)
    runs = _codes.CodedJourneys(pages_of(keys).ravel(), np.arange(len(keys) + 1, dtype=np.int64) * n, coded.pages)
    labels = _codes.decode(runs)
    return ranked(counts, labels.to_numpy(), name="journeys", index_name="sequence")


def journey_lengths(data, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """Number of pages of each journey, for distributions.

    Returns
    -------
    Series
        Pages per journey (name ``length``), aligned with the index of the selected rows
        of ``data`` and in their order.

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_journey": ["A-B-A", "B", ""], "subscription_type": ["x", "x", "y"]})
    >>> ju.journey_lengths(df).tolist()
    [3, 1, 0]
    """
    if (on := _cluster(data)) is not None:
        return on.journey_lengths(data, plan, target_column=target_column, plan_column=plan_column)
    index, coded = _coded(data, plan, target_column, plan_column, "journey_lengths")
    return pd.Series(coded.lengths, index=index, name="length", dtype=np.int64)


def journey_length(data, plan=None, *, target_column=TARGET, plan_column=PLAN) -> float:
    """Mean number of pages per journey (NaN when no journey is selected).

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_journey": ["A-B-A", "B"], "subscription_type": ["x", "y"]})
    >>> ju.journey_length(df)
    2.0
    """
    if (on := _cluster(data)) is not None:
        return on.journey_length(data, plan, target_column=target_column, plan_column=plan_column)
    lengths = journey_lengths(data, plan, target_column=target_column, plan_column=plan_column)
    return float(lengths.mean()) if len(lengths) else float("nan")
