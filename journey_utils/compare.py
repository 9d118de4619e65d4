"""Between-plan statistics: which differences between plans are real, and how large.

Each ``compare_*`` function returns a tidy table with one row per (feature,
plan): how many journeys have the feature (``count``) out of how many (``n``),
the share with its Wilson interval, a test of independence between plan and
feature with its Benjamini–Hochberg adjusted p-value, and the effect of each
plan against the other plans. :func:`plan_contrasts` turns such a table into
pairwise two-plan contrasts, :func:`position_contrasts` compares where plans
reach a page, and :func:`top_differences` ranks the strongest significant
differences of all kinds. :func:`session_windows` sets each user's first and
last sessions side by side.

Conventions
-----------
* The counting unit is the journey (one per user after
  :func:`journey_utils.preprocess`); every table says so in ``unit`` and
  gives its denominator in ``n``.
* Plans are discovered from the data, largest first; pass ``plans`` to choose
  them and their order (the first plan of a pair is ``plan_a``).
* ``small_sample`` marks a plan with fewer than ``min_n`` journeys in the
  denominator, or a table whose expected count for that plan is below 5 (where
  an exact test replaces the chi-square test). Read such rows as indicative.
* A result is ``significant`` when its adjusted p-value is at most ``alpha``;
  the family adjusted together is stated in each function.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from journey_utils import _codes
from journey_utils._checks import check_frame, check_positive_int
from journey_utils.inference import (
    MIN_EXPECTED,
    N_RESAMPLES,
    adjust_pvalues,
    independence_test,
    median_interval,
    newcombe_interval,
    odds_ratio,
    superiority,
    wilson_interval,
)
from journey_utils.paths import page_position
from journey_utils.preprocess import preprocess

__all__ = [
    "plans_in",
    "compare_presence",
    "compare_sequences",
    "compare_destinations",
    "plan_contrasts",
    "compare_positions",
    "position_contrasts",
    "top_differences",
    "window_journeys",
    "session_windows",
]

TARGET = "user_journey"
PLAN = "subscription_type"
USER = "user_id"
SESSION = "session_id"
#: Fewer journeys than this in a plan's denominator flags the row as a small sample.
MIN_N = 30
ALL = "All"
KINDS = ("presence", "sequence", "position", "destination")

_COMPARISON_COLUMNS = [
    "plan", "unit", "count", "n", "share", "share_low", "share_high", "small_sample", "versus",
    "difference", "difference_low", "difference_high", "odds_ratio", "odds_ratio_low", "odds_ratio_high",
    "test", "statistic", "p_value", "p_adjusted", "significant",
]


# ---------------------------------------------------------------------------
# Plans and argument checks
# ---------------------------------------------------------------------------


def plans_in(data, plans=None, *, plan_column=PLAN, minimum=2, function="plans_in") -> list[str]:
    """The plans to compare: given, or discovered from the data (largest first, then by name).

    Parameters
    ----------
    data : DataFrame
        Journeys or sessions with a plan column.
    plans : list of str, optional
        Plans to keep, in the order wanted. ``None`` takes every plan present.
    minimum : int, default 2
        Fewest plans needed.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import plans_in
    >>> plans_in(pd.DataFrame({"subscription_type": ["b", "a", "b", "c"]}))
    ['b', 'a', 'c']
    """
    check_frame(data, function, [plan_column])
    sizes = data[plan_column].value_counts()
    present = sorted(sizes.index.tolist(), key=lambda name: (-sizes[name], name))
    if plans is None:
        chosen = present
    else:
        if isinstance(plans, str):
            plans = [plans]
        chosen = list(plans)
        if not all(isinstance(p, str) for p in chosen):
            raise TypeError(f"{function}: plans must be a list of plan names; found {plans!r}")
        unknown = [p for p in chosen if p not in present]
        if unknown:
            raise ValueError(
                f"{function}: unknown plan {', '.join(map(repr, unknown))}; "
                f"plans present: {', '.join(present) if present else '(none)'}"
            )
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"{function}: plans must not repeat; found {chosen!r}")
    if len(chosen) < minimum:
        raise ValueError(
            f"{function}: at least {minimum} plans are needed to compare; found {len(chosen)} "
            f"({', '.join(chosen) if chosen else 'none'})"
        )
    return chosen


def _check_unit_interval(value, name, function, *, closed=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (0 <= value <= 1 if closed else 0 < value < 1)
    if not ok:
        raise ValueError(f"{function}: {name} must be a number between 0 and 1; found {value!r}")
    return float(value)


def _selected(data, plans, target_column, plan_column, function):
    check_frame(data, function, [target_column, plan_column])
    chosen = plans_in(data, plans, plan_column=plan_column, function=function)
    selected = data[data[plan_column].isin(chosen)]
    plan_code = pd.Categorical(selected[plan_column].to_numpy(), categories=chosen).codes.astype(np.int64)
    return chosen, selected, plan_code


def _feature_counts(journey, keys, plan_code, n_plans):
    """Journeys with each key, per plan: (distinct keys sorted, counts[key, plan]).

    ``journey`` and ``keys`` are parallel arrays (one entry per occurrence); a key
    is counted once per journey.
    """
    if len(keys) == 0:
        return np.empty(0, np.int64), np.zeros((0, n_plans), np.int64)
    uniques, dense = np.unique(keys, return_inverse=True)
    n_keys = len(uniques)
    cells = np.unique(journey.astype(np.int64) * n_keys + dense.reshape(-1))
    plan_of_cell = plan_code[cells // n_keys]
    counts = np.bincount((cells % n_keys) * n_plans + plan_of_cell, minlength=n_keys * n_plans)
    return uniques, counts.reshape(n_keys, n_plans)


def _presence_counts(data, plans, target_column, plan_column, function):
    """Plans, pages, journeys with each page per plan, and journeys per plan."""
    chosen, selected, plan_code = _selected(data, plans, target_column, plan_column, function)
    coded = _codes.encode(selected[target_column])
    codes, counts = _feature_counts(coded.journey_index, coded.codes, plan_code, len(chosen))
    return chosen, coded.pages[codes], counts, np.bincount(plan_code, minlength=len(chosen))


def _sequence_counts(data, n, plans, min_journeys, target_column, plan_column, function):
    """Like :func:`_presence_counts` for runs of ``n`` pages seen in at least ``min_journeys`` journeys."""
    n = check_positive_int(n, "n", function)
    min_journeys = check_positive_int(min_journeys, "min_journeys", function)
    chosen, selected, plan_code = _selected(data, plans, target_column, plan_column, function)
    coded = _codes.encode(selected[target_column])
    starts, keys, pages_of = _codes.ngrams(coded, n)
    keys, counts = _feature_counts(coded.journey_index[starts], keys, plan_code, len(chosen))
    tested = counts.sum(axis=1) >= min_journeys
    runs = _codes.CodedJourneys(pages_of(keys[tested]).ravel(), np.arange(tested.sum() + 1, dtype=np.int64) * n,
                                coded.pages)
    labels = _codes.decode(runs).to_numpy(dtype=object)
    return chosen, labels, counts[tested], np.bincount(plan_code, minlength=len(chosen))


def _destination_counts(data, page, plans, target_column, plan_column, function):
    """Plans, next pages, journeys going from ``page`` to each, and journeys leaving ``page``."""
    if not isinstance(page, str):
        raise TypeError(f"{function}: page must be a page name (str); found {page!r}")
    chosen, selected, plan_code = _selected(data, plans, target_column, plan_column, function)
    coded = _codes.encode(selected[target_column])
    code = coded.code_of(page)
    origin = np.flatnonzero((coded.codes == code) & ~coded.is_last) if code is not None else np.empty(0, np.int64)
    journey = coded.journey_index[origin]
    codes, counts = _feature_counts(journey, coded.codes[origin + 1], plan_code, len(chosen))
    leaving = np.bincount(plan_code[np.unique(journey)], minlength=len(chosen))
    return chosen, coded.pages[codes], counts, leaving


# ---------------------------------------------------------------------------
# Feature-by-plan comparison tables
# ---------------------------------------------------------------------------


def _comparison(key_name, labels, counts, n, plans, *, unit, confidence, alpha, min_n, min_expected,
                odds_ratios, n_resamples, seed) -> pd.DataFrame:
    """Long (feature, plan) table from a count matrix: shares, tests, BH over features."""
    labels = np.asarray(labels, dtype=object)
    counts = np.asarray(counts, dtype=np.int64).reshape(len(labels), len(plans))
    n = np.asarray(n, dtype=np.int64)
    total_n = int(n.sum())
    rows = []
    for label, row in zip(labels, counts):
        total = int(row.sum())
        table = np.vstack([row, n - row])
        test = independence_test(table, min_expected=min_expected, n_resamples=n_resamples, seed=seed)
        expected_with = total * n / total_n if total_n else np.zeros(len(n))
        expected_without = (total_n - total) * n / total_n if total_n else np.zeros(len(n))
        for index, plan in enumerate(plans):
            a, n_a = int(row[index]), int(n[index])
            b, n_b = total - a, total_n - n_a
            if odds_ratios:
                ratio = odds_ratio([[a, n_a - a], [b, n_b - b]], confidence, min_expected=min_expected)
            else:
                ratio = (np.nan, np.nan, np.nan)
            rows.append(
                (label, plan, a, n_a, b, n_b, *ratio, test.test, test.statistic, test.p_value,
                 min(expected_with[index], expected_without[index]))
            )
    frame = pd.DataFrame(
        rows,
        columns=[key_name, "plan", "count", "n", "count_rest", "n_rest", "odds_ratio", "odds_ratio_low",
                 "odds_ratio_high", "test", "statistic", "p_value", "expected"],
    )
    low, high = wilson_interval(frame["count"], frame["n"], confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["share"] = frame["count"] / frame["n"]
        frame["difference"] = frame["share"] - frame["count_rest"] / frame["n_rest"]
    frame["share_low"], frame["share_high"] = low, high
    d_low, d_high = newcombe_interval(frame["count"], frame["n"], frame["count_rest"], frame["n_rest"], confidence)
    frame["difference_low"], frame["difference_high"] = d_low, d_high
    frame["unit"] = unit
    frame["small_sample"] = (frame["n"] < min_n) | (frame["expected"] < min_expected)
    frame["versus"] = [_others(plans, plan) for plan in frame["plan"]]
    # One test per feature: adjust over the features, then spread back to the plan rows.
    per_feature = frame.drop_duplicates(key_name)
    adjusted = pd.Series(adjust_pvalues(per_feature["p_value"]), index=per_feature[key_name].to_numpy())
    frame["p_adjusted"] = frame[key_name].map(adjusted).to_numpy(dtype=float)
    frame["significant"] = frame["p_adjusted"] <= alpha
    frame = frame[[key_name, *_COMPARISON_COLUMNS]]
    frame[key_name] = frame[key_name].astype("str")
    for column in ("plan", "unit", "versus", "test"):
        frame[column] = frame[column].astype("str")
    return frame


def _others(plans, plan) -> str:
    return " + ".join(p for p in plans if p != plan)


def _ordered(frame, key_name, plans) -> pd.DataFrame:
    """Features by journeys over all plans (descending), then name; plans in the given order."""
    totals = frame.groupby(key_name, sort=False)["count"].transform("sum").to_numpy()
    plan_rank = pd.Categorical(frame["plan"].to_numpy(), categories=plans).codes
    order = np.lexsort((plan_rank, frame[key_name].to_numpy(dtype=str), -totals))
    return frame.iloc[order].reset_index(drop=True)


def compare_presence(data, plans=None, *, confidence=0.95, alpha=0.05, min_n=MIN_N, min_expected=MIN_EXPECTED,
                     odds_ratios=True, n_resamples=N_RESAMPLES, seed=0, target_column=TARGET,
                     plan_column=PLAN) -> pd.DataFrame:
    """Share of each plan's journeys that contain each page, with a test per page.

    For every page, the 2 x k table (with / without the page x plans) is tested
    for independence (:func:`journey_utils.inference.independence_test`:
    chi-square, or an exact test when an expected count is below
    ``min_expected``); the p-values of all pages are adjusted together
    (Benjamini–Hochberg). Effects compare each plan with the other plans pooled
    (``versus``); with two plans that is the two-plan contrast.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per user (:func:`journey_utils.preprocess`).
    plans : list of str, optional
        Plans to compare (at least two), in order; default every plan, largest first.
    confidence : float, default 0.95
        Coverage of all intervals.
    alpha : float, default 0.05
        False discovery rate for ``significant``.
    min_n : int, default 30
        Fewer journeys than this in a plan flags its rows as ``small_sample``.
    min_expected : float, default 5
        Expected count below which the exact test is used (and ``small_sample`` set).
    odds_ratios : bool, default True
        Compute odds ratios (:func:`journey_utils.inference.odds_ratio`: exact
        conditional estimate where an expected count is small, sample estimate
        otherwise). NaN when False.
    n_resamples, seed : int
        Monte Carlo draws and their seed, for exact tests with more than two plans.
    target_column, plan_column : str
        Names of the journey and plan columns.

    Returns
    -------
    DataFrame
        One row per (page, plan): ``page``, ``plan``, ``unit`` ('journeys'),
        ``count`` (journeys with the page), ``n`` (journeys of the plan),
        ``share`` with ``share_low``/``share_high`` (Wilson), ``small_sample``,
        ``versus`` (the plans this row is compared with), ``difference`` (share
        minus the share among ``versus``) with ``difference_low``/``_high``
        (Newcombe), ``odds_ratio`` with ``odds_ratio_low``/``_high``, and the
        page's test: ``test``, ``statistic``, ``p_value``, ``p_adjusted``,
        ``significant``. Pages by journeys over all plans (descending), then plans
        in order.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import compare_presence
    >>> df = pd.DataFrame({"user_journey": ["A-B", "A", "B", "B"],
    ...                    "subscription_type": ["x", "x", "y", "y"]})
    >>> table = compare_presence(df)
    >>> table[["page", "plan", "count", "n", "share"]].values.tolist()
    [['B', 'x', 1, 2, 0.5], ['B', 'y', 2, 2, 1.0], ['A', 'x', 2, 2, 1.0], ['A', 'y', 0, 2, 0.0]]
    >>> table["test"].iloc[0]
    'Fisher exact'
    """
    function = "compare_presence"
    confidence = _check_unit_interval(confidence, "confidence", function)
    alpha = _check_unit_interval(alpha, "alpha", function)
    chosen, labels, counts, n = _presence_counts(data, plans, target_column, plan_column, function)
    table = _comparison("page", labels, counts, n, chosen, unit="journeys",
                        confidence=confidence, alpha=alpha, min_n=min_n, min_expected=min_expected,
                        odds_ratios=odds_ratios, n_resamples=n_resamples, seed=seed)
    return _ordered(table, "page", chosen)


def compare_sequences(data, n=3, plans=None, *, min_journeys=10, confidence=0.95, alpha=0.05, min_n=MIN_N,
                      min_expected=MIN_EXPECTED, odds_ratios=False, n_resamples=N_RESAMPLES, seed=0,
                      target_column=TARGET, plan_column=PLAN) -> pd.DataFrame:
    """Which runs of ``n`` consecutive pages are over-represented in a plan.

    Like :func:`compare_presence`, with runs of pages (``'A-B-C'``, counted once
    per journey) instead of pages. Runs found in fewer than ``min_journeys``
    journeys over all plans are not tested: they cannot reach significance and
    would only dilute the adjustment. The filter ignores plans, so it does not
    bias the tests. The p-values of the tested runs are adjusted together.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per user.
    n : int, default 3
        Pages per run.
    plans : list of str, optional
        Plans to compare (at least two); default every plan, largest first.
    min_journeys : int, default 10
        Fewest journeys (all plans together) for a run to be tested.
    odds_ratios : bool, default False
        Compute odds ratios (exact ones for rare runs are slow with many runs).
    confidence, alpha, min_n, min_expected, n_resamples, seed, target_column, plan_column
        As in :func:`compare_presence`.

    Returns
    -------
    DataFrame
        As :func:`compare_presence`, keyed by ``sequence`` instead of ``page``.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import compare_sequences
    >>> df = pd.DataFrame({"user_journey": ["A-B-C", "A-B", "B-C", "B-C-A"],
    ...                    "subscription_type": ["x", "x", "y", "y"]})
    >>> compare_sequences(df, n=2, min_journeys=2)[["sequence", "plan", "count"]].values.tolist()
    [['B-C', 'x', 1], ['B-C', 'y', 2], ['A-B', 'x', 2], ['A-B', 'y', 0]]
    """
    function = "compare_sequences"
    confidence = _check_unit_interval(confidence, "confidence", function)
    alpha = _check_unit_interval(alpha, "alpha", function)
    chosen, labels, counts, sizes = _sequence_counts(data, n, plans, min_journeys, target_column, plan_column,
                                                     function)
    table = _comparison("sequence", labels, counts, sizes, chosen, unit="journeys",
                        confidence=confidence, alpha=alpha, min_n=min_n, min_expected=min_expected,
                        odds_ratios=odds_ratios, n_resamples=n_resamples, seed=seed)
    return _ordered(table, "sequence", chosen)


def compare_destinations(data, page, plans=None, *, confidence=0.95, alpha=0.05, min_n=MIN_N,
                         min_expected=MIN_EXPECTED, odds_ratios=True, n_resamples=N_RESAMPLES, seed=0,
                         target_column=TARGET, plan_column=PLAN) -> pd.DataFrame:
    """Does what follows ``page`` differ by plan?

    The unit is the journey, so that every user weighs the same and the tests'
    independence assumption holds: among journeys in which ``page`` is followed
    by another page (``n``), ``count`` is how many go from ``page`` directly to
    ``next_page`` at least once. A journey can go to several next pages, so the
    shares of one plan can add up to more than 1. The p-values of all next pages
    are adjusted together.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per user.
    page : str
        The page whose next pages are compared, e.g. ``'Pricing'``.
    plans : list of str, optional
        Plans to compare (at least two); default every plan, largest first.
    confidence, alpha, min_n, min_expected, odds_ratios, n_resamples, seed, target_column, plan_column
        As in :func:`compare_presence`.

    Returns
    -------
    DataFrame
        As :func:`compare_presence`, keyed by ``next_page``; ``n`` is the plan's
        journeys that leave ``page`` for another page.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import compare_destinations
    >>> df = pd.DataFrame({"user_journey": ["P-A-P-B", "P-A", "P-B", "A"],
    ...                    "subscription_type": ["x", "x", "y", "y"]})
    >>> compare_destinations(df, "P")[["next_page", "plan", "count", "n"]].values.tolist()
    [['A', 'x', 2, 2], ['A', 'y', 0, 1], ['B', 'x', 1, 2], ['B', 'y', 1, 1]]
    """
    function = "compare_destinations"
    confidence = _check_unit_interval(confidence, "confidence", function)
    alpha = _check_unit_interval(alpha, "alpha", function)
    chosen, labels, counts, leaving = _destination_counts(data, page, plans, target_column, plan_column, function)
    table = _comparison("next_page", labels, counts, leaving, chosen,
                        unit="journeys", confidence=confidence, alpha=alpha, min_n=min_n,
                        min_expected=min_expected, odds_ratios=odds_ratios, n_resamples=n_resamples, seed=seed)
    return _ordered(table, "next_page", chosen)


# ---------------------------------------------------------------------------
# Pairwise contrasts
# ---------------------------------------------------------------------------


def plan_contrasts(comparison, *, confidence=0.95, alpha=0.05, min_n=MIN_N, min_expected=MIN_EXPECTED,
                   odds_ratios=True) -> pd.DataFrame:
    """Every two-plan contrast of a ``compare_*`` table, each with its own 2x2 test.

    For each feature and each pair of plans (in the table's plan order, so
    ``plan_a`` is the larger plan by default) the 2x2 table is tested
    (chi-square with Yates' correction, or Fisher's exact test when an expected
    count is below ``min_expected``). All rows are adjusted together
    (Benjamini–Hochberg over features x pairs).

    Parameters
    ----------
    comparison : DataFrame
        Output of :func:`compare_presence`, :func:`compare_sequences` or
        :func:`compare_destinations`; its first column names the feature.
    confidence, alpha, min_n, min_expected
        As in :func:`compare_presence`.
    odds_ratios : bool, default True
        Compute odds ratios (see :func:`compare_presence`).

    Returns
    -------
    DataFrame
        One row per (feature, pair): the feature column, ``plan_a``, ``plan_b``,
        ``unit``, ``count_a``, ``n_a``, ``share_a``, ``count_b``, ``n_b``,
        ``share_b``, ``difference`` (``share_a - share_b``) with
        ``difference_low``/``_high`` (Newcombe), ``odds_ratio`` (odds of a over
        b) with ``odds_ratio_low``/``_high``, ``test``, ``statistic``,
        ``p_value``, ``p_adjusted``, ``significant``, ``small_sample``.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import compare_presence, plan_contrasts
    >>> df = pd.DataFrame({"user_journey": ["A-B", "A", "B", "B"],
    ...                    "subscription_type": ["x", "x", "y", "y"]})
    >>> plan_contrasts(compare_presence(df))[["page", "plan_a", "plan_b", "difference"]].values.tolist()
    [['B', 'x', 'y', -0.5], ['A', 'x', 'y', 1.0]]
    """
    function = "plan_contrasts"
    if not isinstance(comparison, pd.DataFrame) or len(comparison.columns) == 0:
        raise TypeError(
            f"{function}: expected the table returned by a compare_* function; found {type(comparison).__name__}"
        )
    key = comparison.columns[0]
    check_frame(comparison, function, [key, "plan", "count", "n", "unit"])
    plans = list(pd.unique(comparison["plan"]))
    features = pd.unique(comparison[key])
    count = comparison.pivot(index=key, columns="plan", values="count").loc[features, plans]
    size = comparison.pivot(index=key, columns="plan", values="n").loc[features, plans]
    unit = comparison.groupby(key, sort=False)["unit"].first().loc[features].to_numpy()
    return _pairwise(key, features, count.to_numpy(np.int64), size.to_numpy(np.int64), plans, unit,
                     confidence=confidence, alpha=alpha, min_n=min_n, min_expected=min_expected,
                     odds_ratios=odds_ratios)


def _pairwise(key, labels, counts, sizes, plans, unit, *, confidence, alpha, min_n, min_expected,
              odds_ratios) -> pd.DataFrame:
    """Two-plan contrasts from counts[feature, plan] and sizes (per plan, or per feature and plan)."""
    counts = np.asarray(counts, dtype=np.int64).reshape(len(labels), len(plans))
    sizes = np.broadcast_to(np.asarray(sizes, dtype=np.int64), counts.shape)
    units = np.broadcast_to(np.asarray(unit, dtype=object), (len(labels),))
    rows = []
    for index, feature in enumerate(labels):
        for i, j in combinations(range(len(plans)), 2):
            a, n_a, b, n_b = int(counts[index, i]), int(sizes[index, i]), int(counts[index, j]), int(sizes[index, j])
            table = [[a, n_a - a], [b, n_b - b]]
            test = independence_test(table, min_expected=min_expected)
            ratio = odds_ratio(table, confidence, min_expected=min_expected) if odds_ratios else (np.nan,) * 3
            small = min(n_a, n_b) < min_n or not (test.min_expected >= min_expected)
            rows.append((feature, plans[i], plans[j], units[index], a, n_a, b, n_b, *ratio, test.test,
                         test.statistic, test.p_value, small))
    frame = pd.DataFrame(
        rows,
        columns=[key, "plan_a", "plan_b", "unit", "count_a", "n_a", "count_b", "n_b", "odds_ratio",
                 "odds_ratio_low", "odds_ratio_high", "test", "statistic", "p_value", "small_sample"],
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["share_a"] = frame["count_a"] / frame["n_a"]
        frame["share_b"] = frame["count_b"] / frame["n_b"]
    frame["difference"] = frame["share_a"] - frame["share_b"]
    low, high = newcombe_interval(frame["count_a"], frame["n_a"], frame["count_b"], frame["n_b"], confidence)
    frame["difference_low"], frame["difference_high"] = low, high
    frame["p_adjusted"] = adjust_pvalues(frame["p_value"])
    frame["significant"] = frame["p_adjusted"] <= alpha
    columns = [key, "plan_a", "plan_b", "unit", "count_a", "n_a", "share_a", "count_b", "n_b", "share_b",
               "difference", "difference_low", "difference_high", "odds_ratio", "odds_ratio_low",
               "odds_ratio_high", "test", "statistic", "p_value", "p_adjusted", "significant", "small_sample"]
    frame = frame[columns]
    for column in (key, "plan_a", "plan_b", "unit", "test"):
        frame[column] = frame[column].astype("str")
    frame = frame.astype({"count_a": np.int64, "n_a": np.int64, "count_b": np.int64, "n_b": np.int64,
                          "small_sample": bool, "significant": bool})
    return frame


# ---------------------------------------------------------------------------
# Positions
# ---------------------------------------------------------------------------

MEASURES = ("position", "step")


def compare_positions(data, page, plans=None, *, confidence=0.95, min_n=MIN_N, target_column=TARGET,
                      plan_column=PLAN) -> pd.DataFrame:
    """How early each plan's journeys reach ``page``: medians with intervals.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per user.
    page : str
        The page, e.g. ``'Pricing'``.
    plans : list of str, optional
        Plans to show (at least one); default every plan, largest first.
    confidence : float, default 0.95
        Coverage of the median intervals (binomial order statistics; NaN below
        6 journeys at 95%).
    min_n : int, default 30
        Fewer journeys reaching the page than this flags ``small_sample``.

    Returns
    -------
    DataFrame
        One row per plan: ``page``, ``plan``, ``unit`` ('journeys'), ``count``
        (journeys reaching the page: the sample of the medians), ``n`` (journeys
        of the plan), ``share`` (``count / n``), ``median_step`` with
        ``median_step_low``/``_high`` (1 = first page), ``median_position`` with
        ``median_position_low``/``_high`` (0 = first page, 1 = last page),
        ``small_sample``.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import compare_positions
    >>> df = pd.DataFrame({"user_journey": ["A-P-B", "P-A", "A-B-P", "B"],
    ...                    "subscription_type": ["x", "x", "y", "y"]})
    >>> compare_positions(df, "P")[["plan", "count", "n", "median_step", "median_position"]].values.tolist()
    [['x', 2, 2, 1.5, 0.25], ['y', 1, 2, 3.0, 1.0]]
    """
    function = "compare_positions"
    confidence = _check_unit_interval(confidence, "confidence", function)
    check_frame(data, function, [target_column, plan_column])
    chosen = plans_in(data, plans, plan_column=plan_column, minimum=1, function=function)
    positions = page_position(data, page, chosen, target_column=target_column, plan_column=plan_column)
    sizes = data[plan_column].value_counts()
    rows = []
    for plan in chosen:
        reached = positions[positions["plan"] == plan]
        step = median_interval(reached["step"], confidence)
        position = median_interval(reached["position"], confidence)
        n = int(sizes.get(plan, 0))
        rows.append((page, plan, "journeys", len(reached), n, len(reached) / n if n else np.nan, *step, *position,
                     len(reached) < min_n))
    out = pd.DataFrame(rows, columns=["page", "plan", "unit", "count", "n", "share", "median_step", "median_step_low",
                                      "median_step_high", "median_position", "median_position_low",
                                      "median_position_high", "small_sample"])
    return out.astype({"page": "str", "plan": "str", "unit": "str"})


def position_contrasts(data, pages=None, plans=None, *, measure="position", confidence=0.95, alpha=0.05,
                       min_n=MIN_N, n_resamples=N_RESAMPLES, seed=0, target_column=TARGET,
                       plan_column=PLAN) -> pd.DataFrame:
    """Do two plans reach a page at different points of their journeys? (Mann–Whitney)

    For each page and pair of plans, the journeys of each plan that reach the
    page are compared on where they first reach it. The effect is the
    rank-biserial difference ``P(a later) - P(a earlier)`` for a random journey
    of each plan (-1..1; negative: plan a reaches the page earlier), with its
    interval (:func:`journey_utils.inference.superiority`: seeded bootstrap, or
    DeLong's for large samples); the test is the two-sided Mann–Whitney U test.
    All rows are adjusted together (Benjamini–Hochberg over pages x pairs).

    Parameters
    ----------
    data : DataFrame
        Journeys, one per user.
    pages : str or list of str, optional
        Pages to compare; default every page present.
    plans : list of str, optional
        Plans to compare (at least two), in order; default every plan, largest first.
    measure : {'position', 'step'}, default 'position'
        Relative position (0 = first page, 1 = last) or step number (1 = first).
    confidence, alpha, min_n
        As in :func:`compare_presence`; ``min_n`` applies to journeys reaching the page.
    n_resamples, seed : int
        Bootstrap draws for the effect's interval, and their seed.

    Returns
    -------
    DataFrame
        One row per (page, pair): ``page``, ``plan_a``, ``plan_b``, ``unit``
        ('journeys'), ``measure``, ``count_a`` (journeys of a reaching the page:
        the test's sample), ``n_a`` (journeys of a), ``median_a`` with
        ``median_a_low``/``_high``, the same for b, ``superiority`` (``P(a later)
        + P(tie) / 2``), ``effect`` with ``effect_low``/``_high``, ``interval`` (how
        the interval was computed: seeded bootstrap, or DeLong's for more than
        5,000 journeys), ``test``,
        ``statistic`` (U of a), ``p_value``, ``p_adjusted``, ``significant``,
        ``small_sample``. Pairs where a plan has fewer than 2 journeys reaching
        the page are listed with NaN statistics.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import position_contrasts
    >>> df = pd.DataFrame({"user_journey": ["P-A-B", "P-B", "A-B-P", "B-P"],
    ...                    "subscription_type": ["x", "x", "y", "y"]})
    >>> position_contrasts(df, "P", n_resamples=99)[["page", "effect", "p_value"]].round(3).values.tolist()
    [['P', -1.0, 0.194]]
    """
    function = "position_contrasts"
    if measure not in MEASURES:
        raise ValueError(f"{function}: measure must be 'position' or 'step'; found {measure!r}")
    confidence = _check_unit_interval(confidence, "confidence", function)
    alpha = _check_unit_interval(alpha, "alpha", function)
    chosen, selected, _ = _selected(data, plans, target_column, plan_column, function)
    sizes = selected[plan_column].value_counts()
    if pages is None:
        coded = _codes.encode(selected[target_column])
        present = np.unique(coded.codes)
        pages = sorted(coded.pages[present].tolist())
    elif isinstance(pages, str):
        pages = [pages]
    rows = []
    for page in pages:
        positions = page_position(selected, page, target_column=target_column, plan_column=plan_column)
        values = {plan: positions.loc[positions["plan"] == plan, measure].to_numpy(dtype=float) for plan in chosen}
        for plan_a, plan_b in combinations(chosen, 2):
            x, y = values[plan_a], values[plan_b]
            result = superiority(x, y, confidence=confidence, n_resamples=n_resamples, seed=seed)
            rows.append(
                (page, plan_a, plan_b, len(x), int(sizes.get(plan_a, 0)), *median_interval(x, confidence),
                 len(y), int(sizes.get(plan_b, 0)), *median_interval(y, confidence), result["superiority"],
                 2 * result["superiority"] - 1, 2 * result["low"] - 1, 2 * result["high"] - 1, result["interval"],
                 result["statistic"], result["p_value"], min(len(x), len(y)) < min_n)
            )
    frame = pd.DataFrame(
        rows,
        columns=["page", "plan_a", "plan_b", "count_a", "n_a", "median_a", "median_a_low", "median_a_high",
                 "count_b", "n_b", "median_b", "median_b_low", "median_b_high", "superiority", "effect",
                 "effect_low", "effect_high", "interval", "statistic", "p_value", "small_sample"],
    )
    frame.insert(3, "unit", "journeys")
    frame.insert(4, "measure", measure)
    frame.insert(len(frame.columns) - 3, "test", "Mann-Whitney U")
    frame["p_adjusted"] = adjust_pvalues(frame["p_value"])
    frame["significant"] = frame["p_adjusted"] <= alpha
    columns = [c for c in frame.columns if c != "small_sample"] + ["small_sample"]
    frame = frame[columns]
    for column in ("page", "plan_a", "plan_b", "unit", "measure", "interval", "test"):
        frame[column] = frame[column].astype("str")
    frame["small_sample"] = frame["small_sample"].astype(bool)
    return frame


# ---------------------------------------------------------------------------
# Ranking the differences
# ---------------------------------------------------------------------------

TOP_COLUMNS = [
    "rank", "kind", "feature", "plan_a", "plan_b", "unit", "denominator", "value_measure", "value_a", "value_b",
    "count_a", "n_a", "count_b", "n_b", "effect_measure", "effect", "effect_low", "effect_high", "ci_level",
    "strength", "test", "p_value", "p_adjusted", "significant", "small_sample",
]

_SHARE = "share of journeys"
_SHARE_DIFFERENCE = "difference in share (a - b)"


def _share_rows(contrasts, kind, key, denominator, feature=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": kind,
            "feature": contrasts[key] if feature is None else feature(contrasts[key]),
            "plan_a": contrasts["plan_a"],
            "plan_b": contrasts["plan_b"],
            "unit": contrasts["unit"],
            "denominator": denominator,
            "value_measure": _SHARE,
            "value_a": contrasts["share_a"],
            "value_b": contrasts["share_b"],
            "count_a": contrasts["count_a"],
            "n_a": contrasts["n_a"],
            "count_b": contrasts["count_b"],
            "n_b": contrasts["n_b"],
            "effect_measure": _SHARE_DIFFERENCE,
            "effect": contrasts["difference"],
            "effect_low": contrasts["difference_low"],
            "effect_high": contrasts["difference_high"],
            "test": contrasts["test"],
            "p_value": contrasts["p_value"],
            "small_sample": contrasts["small_sample"],
        }
    )


def top_differences(data, plans=None, *, kinds=("presence", "sequence", "position"), n=3, min_journeys=10,
                    destinations=(), top=10, confidence=0.95, alpha=0.05, min_n=MIN_N,
                    n_resamples=N_RESAMPLES, seed=0, target_column=TARGET, plan_column=PLAN) -> pd.DataFrame:
    """The largest statistically supported differences between plans, ranked.

    Gathers every two-plan contrast of the requested kinds — page presence
    (:func:`compare_presence`), runs of ``n`` pages (:func:`compare_sequences`),
    where pages are first reached (:func:`position_contrasts`) and, for the
    pages in ``destinations``, what follows them (:func:`compare_destinations`)
    — adjusts all their p-values together (Benjamini–Hochberg over everything
    gathered), keeps the significant ones and ranks them. The intervals of the
    kept differences are adjusted for that selection: with ``R`` kept of ``m``
    tested, each is a ``1 - R * (1 - confidence) / m`` interval (Benjamini and
    Yekutieli's false-coverage-rate intervals, the companion of the
    Benjamini–Hochberg adjustment), so that on average no more than
    ``1 - confidence`` of the intervals shown miss their true difference.

    Ranking: results from small samples come after all others (they are
    listed, never ranked as confident findings); within each group, by
    ``strength``, the distance from zero of the interval bound nearest zero
    (how large the effect is at least, so a wide interval ranks lower), then by
    adjusted p-value. Share effects are differences in share and position
    effects rank-biserial differences, both on a -1..1 scale of a difference
    between two probabilities.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per user.
    plans : list of str, optional
        Plans to compare (at least two); default every plan, largest first.
    kinds : sequence of {'presence', 'sequence', 'position', 'destination'}
        Kinds of difference to gather. 'destination' needs ``destinations``.
    n : int, default 3
        Pages per run for sequences.
    min_journeys : int, default 10
        Fewest journeys for a run to be tested (see :func:`compare_sequences`).
    destinations : str or list of str, default ()
        Pages whose next pages are compared; adds 'destination' to ``kinds``.
    top : int or None, default 10
        Rows to return (None: every significant difference).
    confidence, alpha, min_n, n_resamples, seed, target_column, plan_column
        As in :func:`compare_presence` and :func:`position_contrasts`.

    Returns
    -------
    DataFrame
        ``rank``, ``kind``, ``feature`` (a page, ``'A-B-C'`` run, or
        ``'Pricing -> Checkout'``), ``plan_a``, ``plan_b``, ``unit``
        ('journeys'), ``denominator`` (what ``n`` counts), ``value_measure`` and
        ``value_a``/``value_b`` (shares, or median positions), ``count_a``,
        ``n_a``, ``count_b``, ``n_b``, ``effect_measure``, ``effect`` with
        ``effect_low``/``_high``, ``ci_level`` (the level of that adjusted
        interval), ``strength``, ``test``, ``p_value``,
        ``p_adjusted``, ``significant``, ``small_sample``. Empty (with these
        columns) when nothing is significant. Sentences for these rows:
        :func:`journey_utils.claims.finding_sentences`.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import top_differences
    >>> df = pd.DataFrame({"user_journey": ["A-B"] * 40 + ["B"] * 40,
    ...                    "subscription_type": ["x"] * 40 + ["y"] * 40})
    >>> top_differences(df, kinds=["presence"])[["rank", "feature", "effect"]].values.tolist()
    [[1, 'A', 1.0]]
    """
    function = "top_differences"
    confidence = _check_unit_interval(confidence, "confidence", function)
    alpha = _check_unit_interval(alpha, "alpha", function)
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    destinations = [destinations] if isinstance(destinations, str) else list(destinations)
    if destinations and "destination" not in kinds:
        kinds.append("destination")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(
            f"{function}: unknown kind {', '.join(map(repr, unknown))}; expected some of {', '.join(KINDS)}"
        )
    if top is not None:
        top = check_positive_int(top, "top", function)
    pairwise = dict(confidence=confidence, alpha=alpha, min_n=min_n, min_expected=MIN_EXPECTED, odds_ratios=False)
    chosen = plans_in(data, plans, plan_column=plan_column, function=function)
    parts = []
    if "presence" in kinds:
        _, labels, counts, sizes = _presence_counts(data, chosen, target_column, plan_column, function)
        contrasts = _pairwise("page", labels, counts, sizes, chosen, "journeys", **pairwise)
        parts.append(_share_rows(contrasts, "presence", "page", "journeys of the plan"))
    if "sequence" in kinds:
        _, labels, counts, sizes = _sequence_counts(data, n, chosen, min_journeys, target_column, plan_column,
                                                    function)
        contrasts = _pairwise("sequence", labels, counts, sizes, chosen, "journeys", **pairwise)
        parts.append(_share_rows(contrasts, "sequence", "sequence", "journeys of the plan"))
    if "destination" in kinds:
        for page in destinations:
            _, labels, counts, sizes = _destination_counts(data, page, chosen, target_column, plan_column, function)
            contrasts = _pairwise("next_page", labels, counts, sizes, chosen, "journeys", **pairwise)
            parts.append(_share_rows(contrasts, "destination", "next_page", f"journeys that leave {page}",
                                     feature=lambda next_page, page=page: page + " -> " + next_page))
    if "position" in kinds:
        contrasts = position_contrasts(data, None, chosen, confidence=confidence, alpha=alpha, min_n=min_n,
                                       n_resamples=n_resamples, seed=seed, target_column=target_column,
                                       plan_column=plan_column)
        contrasts = contrasts[contrasts["p_value"].notna()]
        parts.append(
            pd.DataFrame(
                {
                    "kind": "position",
                    "feature": contrasts["page"],
                    "plan_a": contrasts["plan_a"],
                    "plan_b": contrasts["plan_b"],
                    "unit": contrasts["unit"],
                    "denominator": "journeys that reach the page",
                    "value_measure": "median position (0 = first page, 1 = last)",
                    "value_a": contrasts["median_a"],
                    "value_b": contrasts["median_b"],
                    "count_a": contrasts["count_a"],
                    "n_a": contrasts["n_a"],
                    "count_b": contrasts["count_b"],
                    "n_b": contrasts["n_b"],
                    "effect_measure": "P(a later) - P(a earlier)",
                    "effect": contrasts["effect"],
                    "effect_low": contrasts["effect_low"],
                    "effect_high": contrasts["effect_high"],
                    "test": contrasts["test"],
                    "p_value": contrasts["p_value"],
                    "small_sample": contrasts["small_sample"],
                }
            )
        )
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_top()
    table = pd.concat(parts, ignore_index=True)
    tested = len(table)
    table["p_adjusted"] = adjust_pvalues(table["p_value"])
    table["significant"] = table["p_adjusted"] <= alpha
    table = table[table["significant"]].reset_index(drop=True)
    if table.empty:
        return _empty_top()
    # Kept because they were significant: their intervals are widened for that selection.
    level = 1 - len(table) * (1 - confidence) / tested
    table["ci_level"] = level
    shares = (table["kind"] != "position").to_numpy()
    if shares.any():
        rows = table[shares]
        low, high = newcombe_interval(rows["count_a"], rows["n_a"], rows["count_b"], rows["n_b"], level)
        table.loc[shares, "effect_low"], table.loc[shares, "effect_high"] = low, high
    if not shares.all():
        rows = table[~shares]
        again = position_contrasts(data, sorted(set(rows["feature"])), chosen, confidence=level, alpha=alpha,
                                   min_n=min_n, n_resamples=n_resamples, seed=seed, target_column=target_column,
                                   plan_column=plan_column)
        bounds = again.set_index(["page", "plan_a", "plan_b"])[["effect_low", "effect_high"]].reindex(
            pd.MultiIndex.from_arrays([rows["feature"], rows["plan_a"], rows["plan_b"]]))
        table.loc[~shares, "effect_low"] = bounds["effect_low"].to_numpy()
        table.loc[~shares, "effect_high"] = bounds["effect_high"].to_numpy()
    low, high = table["effect_low"].to_numpy(float), table["effect_high"].to_numpy(float)
    excludes_zero = (low > 0) | (high < 0)
    table["strength"] = np.where(excludes_zero, np.minimum(np.abs(low), np.abs(high)), 0.0)
    order = np.lexsort((table["feature"].to_numpy(str), table["kind"].to_numpy(str), table["p_adjusted"].to_numpy(),
                        -np.abs(table["effect"].to_numpy(float)), -table["strength"].to_numpy(),
                        table["small_sample"].to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1, dtype=np.int64)
    if top is not None:
        table = table.head(top)
    table = table[TOP_COLUMNS].reset_index(drop=True)
    return _typed_top(table)


def _typed_top(table) -> pd.DataFrame:
    text = ["kind", "feature", "plan_a", "plan_b", "unit", "denominator", "value_measure", "effect_measure", "test"]
    table = table.astype({c: "str" for c in text})
    return table.astype({"rank": np.int64, "count_a": np.int64, "n_a": np.int64, "count_b": np.int64,
                         "n_b": np.int64, "significant": bool, "small_sample": bool})


def _empty_top() -> pd.DataFrame:
    table = pd.DataFrame({c: pd.Series(dtype=float) for c in TOP_COLUMNS})
    return _typed_top(table)


# ---------------------------------------------------------------------------
# Early against late sessions
# ---------------------------------------------------------------------------

LATER = ("last", "rest")


def window_journeys(sessions_data, n=3, *, later="last", min_sessions=None, pages_to_remove=(),
                    group_column=USER, target_column=TARGET, order_column=SESSION,
                    plan_column=PLAN) -> pd.DataFrame:
    """Each user's first ``n`` sessions and later sessions as two journeys side by side.

    Both journeys go through :func:`journey_utils.preprocess` (grouped in time
    order, ``pages_to_remove`` dropped, repeated pages collapsed).

    Parameters
    ----------
    sessions_data : DataFrame
        Sessions, one per row (as returned by :func:`journey_utils.load_sessions`).
    n : int, default 3
        Sessions in the early window (and in the late one with ``later='last'``).
    later : {'last', 'rest'}, default 'last'
        The later window: the user's last ``n`` sessions, or every session after
        the first ``n``.
    min_sessions : int, optional
        Users with fewer sessions are left out. The default keeps the windows
        apart: ``2 * n`` for 'last' (fewer would share sessions), ``n + 1`` for
        'rest'.
    pages_to_remove : str or list of str, default ()
        Pages dropped from both windows.
    group_column, target_column, order_column, plan_column : str
        Column names.

    Returns
    -------
    DataFrame
        One row per kept user, by user: the user, ``plan``, ``sessions`` (the
        user's number of sessions), ``early`` and ``later`` (journeys),
        ``early_sessions`` and ``later_sessions`` (sessions in each window).

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import window_journeys
    >>> df = pd.DataFrame({"user_id": [1] * 4, "session_id": [1, 2, 3, 4],
    ...                    "subscription_type": ["x"] * 4, "user_journey": ["A", "B", "C", "D-D"]})
    >>> window_journeys(df, n=2)[["early", "later"]].values.tolist()
    [['A-B', 'C-D']]
    """
    function = "window_journeys"
    n = check_positive_int(n, "n", function)
    if later not in LATER:
        raise ValueError(f"{function}: later must be 'last' or 'rest'; found {later!r}")
    if min_sessions is None:
        min_sessions = 2 * n if later == "last" else n + 1
    min_sessions = check_positive_int(min_sessions, "min_sessions", function)
    check_frame(sessions_data, function, [group_column, target_column, order_column, plan_column])
    columns = dict(group_column=group_column, target_column=target_column, order_column=order_column,
                   plan_column=plan_column)
    total = sessions_data.groupby(group_column, sort=False)[order_column].transform("size")
    kept = sessions_data[(total >= min_sessions).to_numpy()]
    early = preprocess(kept, sessions=n, count_from="first", pages_to_remove=pages_to_remove, **columns)
    if later == "last":
        late = preprocess(kept, sessions=n, count_from="last", pages_to_remove=pages_to_remove, **columns)
    else:
        rank = kept.groupby(group_column, sort=False)[order_column].rank(method="first")
        late = preprocess(kept[(rank > n).to_numpy()], pages_to_remove=pages_to_remove, **columns)
    sessions = kept.groupby(group_column)[order_column].size()
    late = late.set_index(group_column).reindex(early[group_column].to_numpy())
    out = pd.DataFrame(
        {
            group_column: early[group_column].to_numpy(),
            "plan": pd.array(early[plan_column].to_numpy(), dtype="str"),
            "sessions": sessions.reindex(early[group_column].to_numpy()).to_numpy(dtype=np.int64),
            "early": pd.array(early[target_column].to_numpy(), dtype="str"),
            "later": pd.array(late[target_column].to_numpy(), dtype="str"),
            "early_sessions": early["n_sessions"].to_numpy(dtype=np.int64),
            "later_sessions": late["n_sessions"].to_numpy(dtype=np.int64),
        }
    )
    return out


def _page_matrix(journeys: pd.Series, pages: np.ndarray):
    """Per journey: visits to each of ``pages`` (columns) and the journey's length."""
    coded = _codes.encode(journeys)
    lookup = np.full(coded.n_pages, -1, dtype=np.int64)
    for column, page in enumerate(pages):
        code = coded.code_of(page)
        if code is not None:
            lookup[code] = column
    visits = np.zeros((coded.n_journeys, len(pages)), dtype=np.int64)
    column = lookup[coded.codes] if len(coded.codes) else np.empty(0, np.int64)
    known = column >= 0
    np.add.at(visits, (coded.journey_index[known], column[known]), 1)
    return visits, coded.lengths


def _paired_test(kind, first, last):
    """p-value of a paired difference between windows (per user)."""
    if kind == "presence":
        only_first = int(np.sum(first & ~last))
        only_last = int(np.sum(last & ~first))
        discordant = only_first + only_last
        # Exact McNemar test: the discordant users split 50:50 under no change.
        return "McNemar exact", stats.binomtest(only_last, discordant).pvalue if discordant else 1.0
    keep = ~(np.isnan(first) | np.isnan(last))
    difference = last[keep] - first[keep]
    if kind == "visit share":
        up, down = int(np.sum(difference > 0)), int(np.sum(difference < 0))
        return "sign test", stats.binomtest(up, up + down).pvalue if up + down else 1.0
    if not np.any(difference != 0):
        return "Wilcoxon signed-rank", 1.0
    return "Wilcoxon signed-rank", float(stats.wilcoxon(difference).pvalue)


def session_windows(sessions_data, n=3, *, plans=None, min_sessions=None, pages_to_remove=(), alpha=0.05,
                    min_n=MIN_N, group_column=USER, target_column=TARGET, order_column=SESSION,
                    plan_column=PLAN) -> pd.DataFrame:
    """Headline metrics of each user's first ``n`` against last ``n`` sessions, per plan.

    The same users are measured in both windows (:func:`window_journeys`; by
    default only users with at least ``2 * n`` sessions, so the windows share no
    session), so every difference is tested as a paired one: exact McNemar for
    page presence, sign test for visit shares, Wilcoxon signed-rank for pages
    per journey. All p-values of the table are adjusted together
    (Benjamini–Hochberg).

    Parameters
    ----------
    sessions_data : DataFrame
        Sessions, one per row (not grouped).
    n : int, default 3
        Sessions per window.
    plans : list of str, optional
        Plans to show besides 'All'; default every plan, largest first.
    min_sessions : int, optional
        Fewest sessions for a user to count; default ``2 * n``.
    pages_to_remove : str or list of str, default ()
        Pages dropped from both windows before measuring.
    alpha : float, default 0.05
        False discovery rate for ``significant``.
    min_n : int, default 30
        Fewer users than this flags ``small_sample``.
    group_column, target_column, order_column, plan_column : str
        Column names.

    Returns
    -------
    DataFrame
        One row per (plan, metric, page), 'All' first: ``plan``, ``metric``
        ('pages per journey', 'presence' or 'visit share'), ``page`` ('' for
        pages per journey), ``unit`` ('pages' - mean per user; 'journeys' - share
        of users whose window contains the page; 'page visits' - a user's share
        of page visits that are this page, averaged over users), ``n`` (users),
        ``first``, ``last``, ``difference`` (last - first), ``test``,
        ``p_value``, ``p_adjusted``, ``significant``, ``small_sample``. Pages by
        presence in the last window over all users, descending.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import session_windows
    >>> df = pd.DataFrame({"user_id": [1, 1, 2, 2], "session_id": [1, 2, 3, 4],
    ...                    "subscription_type": ["x"] * 4, "user_journey": ["A", "B-C", "A-C", "B"]})
    >>> table = session_windows(df, n=1)
    >>> table.loc[table["metric"] == "presence", ["plan", "page", "first", "last"]].values.tolist()[:3]
    [['All', 'B', 0.0, 1.0], ['All', 'C', 0.5, 0.5], ['All', 'A', 1.0, 0.0]]
    """
    function = "session_windows"
    alpha = _check_unit_interval(alpha, "alpha", function)
    windows = window_journeys(sessions_data, n, later="last", min_sessions=min_sessions,
                              pages_to_remove=pages_to_remove, group_column=group_column,
                              target_column=target_column, order_column=order_column, plan_column=plan_column)
    chosen = plans_in(sessions_data, plans, plan_column=plan_column, minimum=1, function=function)
    both = pd.concat([windows["early"], windows["later"]], ignore_index=True)
    coded = _codes.encode(both)
    pages = coded.pages[np.unique(coded.codes)]
    first_visits, first_length = _page_matrix(windows["early"], pages)
    last_visits, last_length = _page_matrix(windows["later"], pages)
    present_last = (last_visits > 0).sum(axis=0)
    order = np.lexsort((pages.astype(str), -present_last))
    pages, first_visits, last_visits = pages[order], first_visits[:, order], last_visits[:, order]
    plan_of_user = windows["plan"].to_numpy(dtype=object)
    rows = []
    for plan in [ALL, *chosen]:
        users = np.ones(len(windows), bool) if plan == ALL else plan_of_user == plan
        size = int(users.sum())
        small = size < min_n
        f_len, l_len = first_length[users].astype(float), last_length[users].astype(float)
        test, p = _paired_test("pages", f_len, l_len) if size else ("Wilcoxon signed-rank", np.nan)
        rows.append((plan, "pages per journey", "", "pages", size, _mean(f_len), _mean(l_len), test, p, small))
        f_vis, l_vis = first_visits[users], last_visits[users]
        with np.errstate(divide="ignore", invalid="ignore"):
            f_share = f_vis / f_len[:, None]
            l_share = l_vis / l_len[:, None]
        for column, page in enumerate(pages):
            f_has, l_has = f_vis[:, column] > 0, l_vis[:, column] > 0
            test, p = _paired_test("presence", f_has, l_has) if size else ("McNemar exact", np.nan)
            rows.append((plan, "presence", page, "journeys", size, _mean(f_has), _mean(l_has), test, p, small))
            if size:
                test, p = _paired_test("visit share", f_share[:, column], l_share[:, column])
            else:
                test, p = "sign test", np.nan
            rows.append((plan, "visit share", page, "page visits", size, _mean(f_share[:, column]),
                         _mean(l_share[:, column]), test, p, small))
    table = pd.DataFrame(rows, columns=["plan", "metric", "page", "unit", "n", "first", "last", "test", "p_value",
                                        "small_sample"])
    table.insert(7, "difference", table["last"] - table["first"])
    table.insert(len(table.columns) - 1, "p_adjusted", adjust_pvalues(table["p_value"]))
    table.insert(len(table.columns) - 1, "significant", table["p_adjusted"] <= alpha)
    metric_rank = table["metric"].map({"pages per journey": 0, "presence": 1, "visit share": 2}).to_numpy()
    plan_rank = pd.Categorical(table["plan"], categories=[ALL, *chosen]).codes
    order = np.lexsort((np.arange(len(table)), metric_rank, plan_rank))
    table = table.iloc[order].reset_index(drop=True)
    return table.astype({"plan": "str", "metric": "str", "page": "str", "unit": "str", "test": "str"})


def _mean(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")
