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
* Plans are discovered from the data, sorted by name; pass ``plans`` to choose
  them and their order (the first plan of a pair is ``plan_a``). ``plans`` is
  read like every ``plan=`` argument (:func:`plans_in`): None is every plan, and
  a plan named 'All' is an ordinary plan.
* ``small_sample`` marks a plan with fewer than ``min_n`` journeys in the
  denominator, or a table whose expected count for that plan is below 5 (where
  an exact test replaces the chi-square test). Read such rows as indicative.
* A result is ``significant`` when its adjusted p-value is at most ``alpha``;
  the family adjusted together is stated in each function.
* One family of tests per question, so that tables and findings agree: each
  feature (page, run, next page, position of a page) is tested across all plans
  and adjusted over its family (Benjamini–Hochberg); pairs of plans are tested
  only within the features significant there (Holm within the feature, at level
  ``alpha * R / m``: Benjamini and Bogomolov, 2014). :func:`plan_contrasts`,
  :func:`position_contrasts` and :func:`top_differences` all follow it, so a
  finding's feature is always significant in its table, and with two plans a
  feature significant in its table is always a finding.
* Tests: chi-square when every expected count is at least 5 (Cochran's rule),
  otherwise Fisher's exact test (two plans) or its Monte Carlo version (three or
  more), all computed in numpy over every feature at once
  (:func:`journey_utils.inference.share_tests`); features seen in fewer than
  ``MIN_JOURNEYS`` journeys are listed but not tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from journey_utils import _codes, inference
from journey_utils._checks import (
    check_frame,
    check_positive_int,
    check_unit_interval,
    plans_present,
    selected_plans,
)
from journey_utils.columns import PLAN, SESSION, TARGET, USER
from journey_utils.inference import (
    MIN_EXPECTED,
    N_RESAMPLES,
    adjust_pvalues,
    defined_mean,
    holm_adjust,
    median_interval,
    newcombe_interval,
    share_tests,
    superiority,
    wilson_interval,
)
from journey_utils.paths import _first_hits, every_plan_label, page_position
from journey_utils.users import window_journeys

__all__ = [
    "plans_in",
    "compare_presence",
    "compare_sequences",
    "compare_destinations",
    "plan_contrasts",
    "compare_positions",
    "position_contrasts",
    "top_differences",
    "session_windows",
]

#: Fewer journeys than this in a plan's denominator flags the row as a small sample.
MIN_N = 30
#: Features (pages, runs, next pages, positions) seen in fewer journeys than this, all plans
#: together, are not tested: they could hardly reach significance and would dilute the adjustment.
MIN_JOURNEYS = 10
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
    """The plans to compare: those named, in that order, or every plan present sorted by name.

    The library's one plan selector (:func:`journey_utils._checks.selected_plans`)
    with at least ``minimum`` plans. ``plans`` is read like every ``plan=``
    argument of the library: None means every plan,
    ``'All'`` too unless a plan is called All (then it raises and asks for
    ``None`` or ``['All']``), a name or a list names plans.

    Parameters
    ----------
    data : DataFrame
        Journeys or sessions with a plan column.
    plans : None, str or list of str, optional
        Plans to keep, in the order wanted. ``None`` takes every plan present.
    minimum : int, default 2
        Fewest plans needed.

    Returns
    -------
    list of str
        Distinct plan names (a plan named 'All' is an ordinary plan here).

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import plans_in
    >>> plans_in(pd.DataFrame({"subscription_type": ["b", "a", "b", "c"]}))
    ['a', 'b', 'c']
    >>> plans_in(pd.DataFrame({"subscription_type": ["b", "a", "b", "c"]}), ["c", "b"])
    ['c', 'b']
    """
    return selected_plans(data, plans, plan_column, function, minimum=minimum)


def _min_journeys(value, function) -> int:
    return MIN_JOURNEYS if value is None else check_positive_int(value, "min_journeys", function)


def _selected(data, plans, target_column, plan_column, function):
    check_frame(data, function, [target_column, plan_column])
    chosen = plans_in(data, plans, plan_column=plan_column, function=function)
    selected = data[data[plan_column].isin(chosen)]
    plan_code = pd.Categorical(selected[plan_column].to_numpy(), categories=chosen).codes.astype(np.int64)
    return chosen, selected, plan_code


def _presence_counts(data, plans, target_column, plan_column, function):
    """Plans, pages, journeys with each page per plan, and journeys per plan."""
    chosen, selected, plan_code = _selected(data, plans, target_column, plan_column, function)
    coded = _codes.encode(selected[target_column])
    codes, counts = _codes.journeys_with_page(coded, plan_code, len(chosen))
    return chosen, coded.pages[codes], counts, np.bincount(plan_code, minlength=len(chosen))


def _sequence_counts(data, n, plans, min_journeys, target_column, plan_column, function):
    """Like :func:`_presence_counts` for runs of ``n`` pages seen in at least ``min_journeys`` journeys."""
    n = check_positive_int(n, "n", function)
    min_journeys = check_positive_int(min_journeys, "min_journeys", function)
    chosen, selected, plan_code = _selected(data, plans, target_column, plan_column, function)
    coded = _codes.encode(selected[target_column])
    starts, keys, pages_of = _codes.ngrams(coded, n)
    keys, counts = _codes.journeys_with(coded.journey_index[starts], keys, plan_code, len(chosen))
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
    codes, counts = _codes.journeys_with(journey, coded.codes[origin + 1], plan_code, len(chosen))
    leaving = np.bincount(plan_code[np.unique(journey)], minlength=len(chosen))
    return chosen, coded.pages[codes], counts, leaving


# ---------------------------------------------------------------------------
# Feature-by-plan comparison tables
# ---------------------------------------------------------------------------


def _untested_label(min_journeys) -> str:
    return f"not tested (in fewer than {min_journeys} journeys)"


def _feature_tests(counts, n, *, min_journeys, min_expected, n_resamples, seed) -> pd.DataFrame:
    """One test per feature (its 2 x k table), the rare features left out, BH over the tested ones.

    This is the family of a question: the per-feature tests of a compare_*
    table, and the first stage of the pairwise contrasts (:func:`_pairwise`).
    """
    counts = np.asarray(counts, dtype=np.int64)
    tested = counts.sum(axis=1) >= min_journeys
    out = pd.DataFrame({"test": _untested_label(min_journeys), "statistic": np.nan, "p_value": np.nan,
                        "min_expected": np.nan, "tested": tested})
    if tested.any():
        result = share_tests(counts[tested], n, min_expected=min_expected, n_resamples=n_resamples, seed=seed)
        index = np.flatnonzero(tested)
        out["test"] = out["test"].astype(object)
        for column in ("test", "statistic", "p_value", "min_expected"):
            values = out[column].to_numpy(dtype=object if column == "test" else float, copy=True)
            values[index] = result[column].to_numpy(dtype=object if column == "test" else float)
            out[column] = values
    out["p_adjusted"] = adjust_pvalues(out["p_value"])
    return out


def _comparison(key_name, labels, counts, n, plans, *, unit, confidence, alpha, min_n, min_expected,
                odds_ratios, n_resamples, seed, min_journeys=1) -> pd.DataFrame:
    """Long (feature, plan) table from a count matrix: shares, tests, BH over the tested features."""
    labels = np.asarray(labels, dtype=object)
    k = len(plans)
    counts = np.asarray(counts, dtype=np.int64).reshape(len(labels), k)
    n = np.asarray(n, dtype=np.int64)
    total_n = int(n.sum())
    tests = _feature_tests(counts, n, min_journeys=min_journeys, min_expected=min_expected,
                           n_resamples=n_resamples, seed=seed)
    total = counts.sum(axis=1)
    count = counts.ravel()
    n_row = np.tile(n, len(labels))
    total_row = np.repeat(total, k)
    count_rest = total_row - count
    n_rest = total_n - n_row
    tested_row = np.repeat(tests["tested"].to_numpy(bool), k)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_with = total_row * n_row / total_n
        expected_without = (total_n - total_row) * n_row / total_n
    frame = pd.DataFrame({key_name: np.repeat(labels, k), "plan": np.tile(np.asarray(plans, dtype=object), len(labels)),
                          "count": count, "n": n_row})
    ratio = np.full((len(frame), 3), np.nan)
    if odds_ratios and tested_row.any():
        ratio[tested_row] = np.column_stack(inference.odds_ratios(
            count[tested_row], n_row[tested_row], count_rest[tested_row], n_rest[tested_row], confidence,
            min_expected=min_expected))
    frame["odds_ratio"], frame["odds_ratio_low"], frame["odds_ratio_high"] = ratio.T
    low, high = wilson_interval(count, n_row, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["share"] = count / n_row
        frame["difference"] = frame["share"].to_numpy() - count_rest / n_rest
    frame["share_low"], frame["share_high"] = low, high
    d_low, d_high = newcombe_interval(count, n_row, count_rest, n_rest, confidence)
    frame["difference_low"], frame["difference_high"] = d_low, d_high
    frame["unit"] = unit
    frame["small_sample"] = (n_row < min_n) | ~(np.minimum(expected_with, expected_without) >= min_expected)
    versus = {plan: _others(plans, plan) for plan in plans}
    frame["versus"] = [versus[plan] for plan in plans] * len(labels)
    # One test per feature, spread to its plan rows.
    for column in ("test", "statistic", "p_value", "p_adjusted", "tested"):
        frame[column] = np.repeat(tests[column].to_numpy(), k)
    frame["significant"] = (frame["p_adjusted"] <= alpha).to_numpy()
    frame = frame[[key_name, *_COMPARISON_COLUMNS, "tested"]]
    frame = frame.astype({key_name: "str", "plan": "str", "unit": "str", "versus": "str", "test": "str",
                          "count": np.int64, "n": np.int64, "statistic": float, "p_value": float,
                          "p_adjusted": float, "significant": bool, "tested": bool, "small_sample": bool})
    frame.attrs["min_journeys"] = int(min_journeys)
    frame.attrs["untested"] = int((~tests["tested"]).sum())
    return frame


def _others(plans, plan) -> str:
    return " + ".join(p for p in plans if p != plan)


def _ordered(frame, key_name, plans) -> pd.DataFrame:
    """Features by journeys over all plans (descending), then name; plans in the given order."""
    totals = frame.groupby(key_name, sort=False)["count"].transform("sum").to_numpy()
    plan_rank = pd.Categorical(frame["plan"].to_numpy(), categories=plans).codes
    order = np.lexsort((plan_rank, frame[key_name].to_numpy(dtype=str), -totals))
    out = frame.iloc[order].reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    return out


def compare_presence(data, plans=None, *, confidence=0.95, alpha=0.05, min_n=MIN_N, min_expected=MIN_EXPECTED,
                     odds_ratios=True, n_resamples=N_RESAMPLES, seed=0, target_column=TARGET,
                     plan_column=PLAN, min_journeys=None) -> pd.DataFrame:
    """Share of each plan's journeys that contain each page, with a test per page.

    For every page seen in at least ``min_journeys`` journeys (all plans
    together), the 2 x k table (with / without the page x plans) is tested for
    independence (:func:`journey_utils.inference.share_tests`: chi-square when
    every expected count is at least ``min_expected``, otherwise Fisher's exact
    test, with a Monte Carlo p-value for three or more plans); the p-values of
    the tested pages are adjusted together (Benjamini–Hochberg). These per-page
    tests are the family of the question "which pages differ between plans":
    :func:`plan_contrasts` and :func:`top_differences` look for the pairs of
    plans that differ only within the pages significant here, so a page never
    differs between two plans without differing here.

    Rarer pages are listed with their shares and intervals but not tested
    (``tested`` False, ``test`` 'not tested (...)', NaN p-values and odds
    ratios): they could hardly reach significance and would only dilute the
    adjustment. The filter ignores plans, so it does not bias the tests. The
    table's ``attrs`` give ``min_journeys`` and how many pages were ``untested``.

    Effects compare each plan with the other plans pooled (``versus``); with two
    plans that is the two-plan contrast. Everything is computed in numpy over
    all pages at once (tens of thousands of pages take seconds).

    Parameters
    ----------
    data : DataFrame
        Journeys, one per user (:func:`journey_utils.preprocess`).
    plans : list of str, optional
        Plans to compare (at least two), in order; default every plan, sorted by name.
    confidence : float, default 0.95
        Coverage of all intervals.
    alpha : float, default 0.05
        False discovery rate for ``significant``.
    min_n : int, default 30
        Fewer journeys than this in a plan flags its rows as ``small_sample``.
    min_expected : float, default 5
        Expected count below which the exact test is used (and ``small_sample`` set).
    odds_ratios : bool, default True
        Compute odds ratios of tested pages (:func:`journey_utils.inference.odds_ratios`:
        exact conditional estimate where an expected count is small, sample
        estimate otherwise). NaN when False.
    n_resamples, seed : int
        Monte Carlo draws and their seed, for exact tests with more than two plans.
    target_column, plan_column : str
        Names of the journey and plan columns.
    min_journeys : int, optional
        Fewest journeys (all plans together) for a page to be tested; default
        ``MIN_JOURNEYS`` (10).

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
        ``significant``, and ``tested``. Pages by journeys over all plans
        (descending), then plans in order.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import compare_presence
    >>> df = pd.DataFrame({"user_journey": ["A-B", "A", "B", "B"],
    ...                    "subscription_type": ["x", "x", "y", "y"]})
    >>> table = compare_presence(df, min_journeys=1)
    >>> table[["page", "plan", "count", "n", "share"]].values.tolist()
    [['B', 'x', 1, 2, 0.5], ['B', 'y', 2, 2, 1.0], ['A', 'x', 2, 2, 1.0], ['A', 'y', 0, 2, 0.0]]
    >>> table["test"].iloc[0]
    'Fisher exact'
    """
    function = "compare_presence"
    confidence = check_unit_interval(confidence, "confidence", function)
    alpha = check_unit_interval(alpha, "alpha", function)
    min_journeys = _min_journeys(min_journeys, function)
    chosen, labels, counts, n = _presence_counts(data, plans, target_column, plan_column, function)
    table = _comparison("page", labels, counts, n, chosen, unit="journeys",
                        confidence=confidence, alpha=alpha, min_n=min_n, min_expected=min_expected,
                        odds_ratios=odds_ratios, n_resamples=n_resamples, seed=seed, min_journeys=min_journeys)
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
        Plans to compare (at least two); default every plan, sorted by name.
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
    confidence = check_unit_interval(confidence, "confidence", function)
    alpha = check_unit_interval(alpha, "alpha", function)
    chosen, labels, counts, sizes = _sequence_counts(data, n, plans, min_journeys, target_column, plan_column,
                                                     function)
    table = _comparison("sequence", labels, counts, sizes, chosen, unit="journeys",
                        confidence=confidence, alpha=alpha, min_n=min_n, min_expected=min_expected,
                        odds_ratios=odds_ratios, n_resamples=n_resamples, seed=seed, min_journeys=min_journeys)
    return _ordered(table, "sequence", chosen)


def compare_destinations(data, page, plans=None, *, confidence=0.95, alpha=0.05, min_n=MIN_N,
                         min_expected=MIN_EXPECTED, odds_ratios=True, n_resamples=N_RESAMPLES, seed=0,
                         target_column=TARGET, plan_column=PLAN, min_journeys=None) -> pd.DataFrame:
    """Does what follows ``page`` differ by plan?

    The unit is the journey, so that every user weighs the same and the tests'
    independence assumption holds: among journeys in which ``page`` is followed
    by another page (``n``), ``count`` is how many go from ``page`` directly to
    ``next_page`` at least once. A journey can go to several next pages, so the
    shares of one plan can add up to more than 1. Next pages reached from
    ``page`` in fewer than ``min_journeys`` journeys (all plans together;
    default ``MIN_JOURNEYS``, 10) are listed but not tested, as in
    :func:`compare_presence`; the p-values of the tested next pages are
    adjusted together.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per user.
    page : str
        The page whose next pages are compared, e.g. ``'Pricing'``.
    plans : list of str, optional
        Plans to compare (at least two); default every plan, sorted by name.
    confidence, alpha, min_n, min_expected, odds_ratios, n_resamples, seed, target_column, plan_column, min_journeys
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
    >>> compare_destinations(df, "P", min_journeys=1)[["next_page", "plan", "count", "n"]].values.tolist()
    [['A', 'x', 2, 2], ['A', 'y', 0, 1], ['B', 'x', 1, 2], ['B', 'y', 1, 1]]
    """
    function = "compare_destinations"
    confidence = check_unit_interval(confidence, "confidence", function)
    alpha = check_unit_interval(alpha, "alpha", function)
    min_journeys = _min_journeys(min_journeys, function)
    chosen, labels, counts, leaving = _destination_counts(data, page, plans, target_column, plan_column, function)
    table = _comparison("next_page", labels, counts, leaving, chosen,
                        unit="journeys", confidence=confidence, alpha=alpha, min_n=min_n,
                        min_expected=min_expected, odds_ratios=odds_ratios, n_resamples=n_resamples, seed=seed,
                        min_journeys=min_journeys)
    return _ordered(table, "next_page", chosen)


# ---------------------------------------------------------------------------
# Pairwise contrasts
# ---------------------------------------------------------------------------


def plan_contrasts(comparison, *, confidence=0.95, alpha=0.05, min_n=MIN_N, min_expected=MIN_EXPECTED,
                   odds_ratios=True) -> pd.DataFrame:
    """Every two-plan contrast of a ``compare_*`` table, each with its own 2x2 test.

    For each feature and each pair of plans (in the table's plan order) the 2x2
    table is tested (chi-square with Yates' correction, or Fisher's exact test
    when an expected count is below ``min_expected``).

    Which contrasts are significant follows the table's own per-feature tests,
    so that the two never contradict each other (Benjamini and Bogomolov's
    selective inference on families, 2014): the features whose adjusted p-value
    in ``comparison`` is at most ``alpha`` are selected (``R`` of the ``m``
    tested features); within a selected feature, the pairs are adjusted with
    Holm's method and tested at level ``alpha * R / m``. The reported
    ``p_adjusted`` is the larger of the feature's adjusted p-value and the
    pair's Holm p-value times ``m / R``, so a pair is ``significant`` exactly
    when its feature differs between plans in the table and the pair passes
    that level. With two plans, the one pair's test is the feature's test. A
    feature can differ between plans without any single pair differing
    clearly (the overall test pools the evidence of all plans).
    Features the table did not test (too rare) are not tested here either.

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
        ``p_value`` (the pair's own test), ``p_adjusted``, ``significant``,
        ``small_sample``, and ``p_feature`` (the feature's adjusted p-value in
        ``comparison``).

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import compare_presence, plan_contrasts
    >>> df = pd.DataFrame({"user_journey": ["A-B", "A", "B", "B"],
    ...                    "subscription_type": ["x", "x", "y", "y"]})
    >>> plan_contrasts(compare_presence(df, min_journeys=1))[["page", "plan_a", "plan_b", "difference"]].values.tolist()
    [['B', 'x', 'y', -0.5], ['A', 'x', 'y', 1.0]]
    """
    function = "plan_contrasts"
    if not isinstance(comparison, pd.DataFrame) or len(comparison.columns) == 0:
        raise TypeError(
            f"{function}: expected the table returned by a compare_* function; found {type(comparison).__name__}"
        )
    key = comparison.columns[0]
    check_frame(comparison, function, [key, "plan", "count", "n", "unit", "p_value", "p_adjusted"])
    plans = list(pd.unique(comparison["plan"]))
    features = pd.unique(comparison[key])
    count = comparison.pivot(index=key, columns="plan", values="count").loc[features, plans]
    size = comparison.pivot(index=key, columns="plan", values="n").loc[features, plans]
    first = comparison.drop_duplicates(key).set_index(key).loc[features]
    unit = first["unit"].to_numpy()
    family = pd.DataFrame({"p_value": first["p_value"].to_numpy(float),
                           "p_adjusted": first["p_adjusted"].to_numpy(float)})
    return _pairwise(key, features, count.to_numpy(np.int64), size.to_numpy(np.int64), plans, unit,
                     confidence=confidence, alpha=alpha, min_n=min_n, min_expected=min_expected,
                     odds_ratios=odds_ratios, family=family)


def _hierarchical(p_feature, p_pair, feature_of_pair, alpha):
    """Pair-level adjusted p-values within selected features (Benjamini–Bogomolov with Holm inside).

    ``p_feature`` holds the features' BH-adjusted p-values (NaN: not tested);
    ``p_pair`` the pairs' raw p-values and ``feature_of_pair`` their feature.
    """
    p_feature = np.asarray(p_feature, dtype=float)
    tested = int(np.isfinite(p_feature).sum())
    selected = int((p_feature <= alpha).sum())
    holm = holm_adjust(p_pair, feature_of_pair)
    scale = tested / selected if selected else 1.0
    with np.errstate(invalid="ignore"):
        adjusted = np.maximum(p_feature[feature_of_pair], np.minimum(1.0, holm * scale))
    return adjusted


def _pairwise(key, labels, counts, sizes, plans, unit, *, confidence, alpha, min_n, min_expected,
              odds_ratios, family) -> pd.DataFrame:
    """Two-plan contrasts from counts[feature, plan] and sizes (per plan, or per feature and plan).

    ``family`` holds the features' own tests (``p_value``, ``p_adjusted``; NaN:
    not tested); the pairs are adjusted within it by :func:`_hierarchical`.
    """
    counts = np.asarray(counts, dtype=np.int64).reshape(len(labels), len(plans))
    sizes = np.broadcast_to(np.asarray(sizes, dtype=np.int64), counts.shape)
    units = np.broadcast_to(np.asarray(unit, dtype=object), (len(labels),))
    pairs = list(combinations(range(len(plans)), 2))
    first = np.array([i for i, _ in pairs], dtype=np.int64)
    second = np.array([j for _, j in pairs], dtype=np.int64)
    n_pairs = len(pairs)
    feature = np.repeat(np.arange(len(labels)), n_pairs)
    i, j = np.tile(first, len(labels)), np.tile(second, len(labels))
    a, n_a = counts[feature, i], sizes[feature, i]
    b, n_b = counts[feature, j], sizes[feature, j]
    tested = np.isfinite(np.asarray(family["p_value"], dtype=float))[feature]
    test = np.full(len(a), "not tested", dtype=object)
    statistic = np.full(len(a), np.nan)
    p_value = np.full(len(a), np.nan)
    lowest = np.full(len(a), np.nan)
    if tested.any():
        result = share_tests(np.column_stack([a[tested], b[tested]]), np.column_stack([n_a[tested], n_b[tested]]),
                             min_expected=min_expected)
        test[tested] = result["test"].to_numpy(dtype=object)
        statistic[tested] = result["statistic"].to_numpy(float)
        p_value[tested] = result["p_value"].to_numpy(float)
        lowest[tested] = result["min_expected"].to_numpy(float)
    ratio = np.full((len(a), 3), np.nan)
    if odds_ratios and tested.any():
        ratio[tested] = np.column_stack(inference.odds_ratios(a[tested], n_a[tested], b[tested], n_b[tested],
                                                              confidence, min_expected=min_expected))
    p_feature = np.asarray(family["p_adjusted"], dtype=float)
    frame = pd.DataFrame({
        key: np.asarray(labels, dtype=object)[feature],
        "plan_a": np.asarray(plans, dtype=object)[i],
        "plan_b": np.asarray(plans, dtype=object)[j],
        "unit": units[feature],
        "count_a": a, "n_a": n_a, "count_b": b, "n_b": n_b,
        "odds_ratio": ratio[:, 0], "odds_ratio_low": ratio[:, 1], "odds_ratio_high": ratio[:, 2],
        "test": test, "statistic": statistic, "p_value": p_value,
        "small_sample": (np.minimum(n_a, n_b) < min_n) | ~(lowest >= min_expected),
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["share_a"] = a / n_a
        frame["share_b"] = b / n_b
    frame["difference"] = frame["share_a"] - frame["share_b"]
    low, high = newcombe_interval(a, n_a, b, n_b, confidence)
    frame["difference_low"], frame["difference_high"] = low, high
    frame["p_adjusted"] = _hierarchical(p_feature, p_value, feature, alpha)
    frame["significant"] = (frame["p_adjusted"] <= alpha).to_numpy()
    frame["p_feature"] = p_feature[feature]
    columns = [key, "plan_a", "plan_b", "unit", "count_a", "n_a", "share_a", "count_b", "n_b", "share_b",
               "difference", "difference_low", "difference_high", "odds_ratio", "odds_ratio_low",
               "odds_ratio_high", "test", "statistic", "p_value", "p_adjusted", "significant", "small_sample",
               "p_feature"]
    frame = frame[columns]
    for column in (key, "plan_a", "plan_b", "unit", "test"):
        frame[column] = frame[column].astype("str")
    frame = frame.astype({"count_a": np.int64, "n_a": np.int64, "count_b": np.int64, "n_b": np.int64,
                          "small_sample": bool, "significant": bool, "statistic": float, "p_value": float})
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
        Plans to show (at least one); default every plan, sorted by name.
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
    confidence = check_unit_interval(confidence, "confidence", function)
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
                       plan_column=PLAN, min_journeys=None) -> pd.DataFrame:
    """Do two plans reach a page at different points of their journeys? (Mann–Whitney)

    For each page and pair of plans, the journeys of each plan that reach the
    page are compared on where they first reach it. The effect is the
    rank-biserial difference ``P(a later) - P(a earlier)`` for a random journey
    of each plan (-1..1; negative: plan a reaches the page earlier), with its
    interval (:func:`journey_utils.inference.superiority`: seeded bootstrap, or
    DeLong's for large samples); the test is the two-sided Mann–Whitney U test.

    The family is one test per page, as for shares (see :func:`plan_contrasts`):
    does the position differ between the plans at all (Kruskal–Wallis over the
    plans with at least 2 journeys reaching the page; with two plans, the
    Mann–Whitney test itself), adjusted over the pages (Benjamini–Hochberg,
    ``p_page``). The pairs of a page significant there are adjusted with Holm's
    method at level ``alpha * R / m`` (``R`` pages significant of ``m`` tested):
    ``p_adjusted`` is the larger of the page's adjusted p-value and the pair's
    Holm p-value times ``m / R``. Pages reached by fewer than ``min_journeys``
    journeys (all plans together; default ``MIN_JOURNEYS``, 10) are not tested.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per user.
    pages : str or list of str, optional
        Pages to compare; default every page present.
    plans : list of str, optional
        Plans to compare (at least two), in order; default every plan, sorted by name.
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
        ``small_sample``, ``p_page`` (the page's adjusted p-value). Pairs where a
        plan has fewer than 2 journeys reaching the page, and pages not tested,
        are listed with NaN statistics.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import position_contrasts
    >>> df = pd.DataFrame({"user_journey": ["P-A-B", "P-B", "A-B-P", "B-P"],
    ...                    "subscription_type": ["x", "x", "y", "y"]})
    >>> table = position_contrasts(df, "P", n_resamples=99, min_journeys=1)
    >>> table[["page", "effect", "p_value"]].round(3).values.tolist()
    [['P', -1.0, 0.194]]
    """
    function = "position_contrasts"
    if measure not in MEASURES:
        raise ValueError(f"{function}: measure must be 'position' or 'step'; found {measure!r}")
    confidence = check_unit_interval(confidence, "confidence", function)
    alpha = check_unit_interval(alpha, "alpha", function)
    min_journeys = _min_journeys(min_journeys, function)
    chosen, selected, _ = _selected(data, plans, target_column, plan_column, function)
    sizes = selected[plan_column].value_counts()
    if pages is None:
        # Every page reached by enough journeys (the rarer ones would not be tested).
        _, labels, counts, _ = _presence_counts(selected, chosen, target_column, plan_column, function)
        pages = sorted(labels[counts.sum(axis=1) >= min_journeys].tolist())
    elif isinstance(pages, str):
        pages = [pages]
    pages = list(pages)
    for page in pages:
        if not isinstance(page, str):
            raise TypeError(f"{function}: pages must be page names (str); found {page!r}")
    rows = []
    page_tests = []
    coded = _codes.encode(selected[target_column])
    plan_of_journey = pd.Categorical(selected[plan_column].to_numpy(), categories=chosen).codes
    for page in pages:
        code = coded.code_of(page) if isinstance(page, str) else None
        journey, where = _first_hits(coded, code) if code is not None else (np.empty(0, np.int64),) * 2
        length = coded.lengths[journey]
        step = where - coded.offsets[journey] + 1
        value = step.astype(float) if measure == "step" else np.where(
            length > 1, (step - 1) / np.maximum(length - 1, 1), 0.0)
        owner = plan_of_journey[journey]
        values = {plan: value[owner == index] for index, plan in enumerate(chosen)}
        testable = len(journey) >= min_journeys
        page_tests.append(_position_family_test(values, chosen) if testable else np.nan)
        for plan_a, plan_b in combinations(chosen, 2):
            x, y = values[plan_a], values[plan_b]
            if testable:
                result = superiority(x, y, confidence=confidence, n_resamples=n_resamples, seed=seed)
            else:
                result = dict.fromkeys(("superiority", "low", "high", "statistic", "p_value"), np.nan)
                result["interval"] = ""
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
    n_pairs = len(chosen) * (len(chosen) - 1) // 2
    page_adjusted = adjust_pvalues(page_tests)
    feature = np.repeat(np.arange(len(pages)), n_pairs)
    frame.insert(3, "unit", "journeys")
    frame.insert(4, "measure", measure)
    frame.insert(len(frame.columns) - 3, "test", "Mann-Whitney U")
    frame["p_adjusted"] = _hierarchical(page_adjusted, frame["p_value"].to_numpy(float), feature, alpha)
    frame["significant"] = (frame["p_adjusted"] <= alpha).to_numpy()
    frame["p_page"] = page_adjusted[feature]
    columns = [c for c in frame.columns if c not in ("small_sample", "p_page")] + ["small_sample", "p_page"]
    frame = frame[columns]
    for column in ("page", "plan_a", "plan_b", "unit", "measure", "interval", "test"):
        frame[column] = frame[column].astype("str")
    frame["small_sample"] = frame["small_sample"].astype(bool)
    return frame


def _position_family_test(values, plans) -> float:
    """p-value of "the position differs between plans" for one page (NaN when nothing can be tested)."""
    groups = [values[p] for p in plans if len(values[p]) >= 2]
    if len(groups) < 2:
        return np.nan
    if len(plans) == 2:
        # Two plans: the family test is the pair's own Mann-Whitney test.
        return float(stats.mannwhitneyu(groups[0], groups[1], alternative="two-sided").pvalue)
    if len(np.unique(np.concatenate(groups))) == 1:
        return 1.0
    return float(stats.kruskal(*groups).pvalue)


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


def _finding_rows(contrasts, kind, key, denominator, *, feature=None, value_measure=_SHARE,
                  values=("share_a", "share_b"), effect_measure=_SHARE_DIFFERENCE, effect="difference") -> pd.DataFrame:
    """Two-plan contrasts as candidate findings: one row per (feature, pair of plans), in the columns of
    :func:`top_differences`. ``values`` and ``effect`` name the contrasts' columns of the two plans' values
    and of the effect (with its ``_low`` and ``_high`` bounds)."""
    return pd.DataFrame(
        {
            "kind": kind,
            "feature": contrasts[key] if feature is None else feature(contrasts[key]),
            "plan_a": contrasts["plan_a"],
            "plan_b": contrasts["plan_b"],
            "unit": contrasts["unit"],
            "denominator": denominator,
            "value_measure": value_measure,
            "value_a": contrasts[values[0]],
            "value_b": contrasts[values[1]],
            "count_a": contrasts["count_a"],
            "n_a": contrasts["n_a"],
            "count_b": contrasts["count_b"],
            "n_b": contrasts["n_b"],
            "effect_measure": effect_measure,
            "effect": contrasts[effect],
            "effect_low": contrasts[f"{effect}_low"],
            "effect_high": contrasts[f"{effect}_high"],
            "test": contrasts["test"],
            "p_value": contrasts["p_value"],
            "p_adjusted": contrasts["p_adjusted"],
            "small_sample": contrasts["small_sample"],
        }
    )


def _share_rows(contrasts, kind, key, denominator, feature=None) -> pd.DataFrame:
    """Share contrasts (:func:`plan_contrasts`) as candidate findings."""
    return _finding_rows(contrasts, kind, key, denominator, feature=feature)


def _position_rows(contrasts) -> pd.DataFrame:
    """Position contrasts (:func:`position_contrasts`) as candidate findings."""
    return _finding_rows(contrasts, "position", "page", "journeys that reach the page",
                         value_measure="median position (0 = first page, 1 = last)", values=("median_a", "median_b"),
                         effect_measure="P(a later) - P(a earlier)", effect="effect")


def top_differences(data, plans=None, *, kinds=("presence", "sequence", "position"), n=3, min_journeys=10,
                    destinations=(), top=10, confidence=0.95, alpha=0.05, min_n=MIN_N,
                    n_resamples=N_RESAMPLES, seed=0, target_column=TARGET, plan_column=PLAN,
                    position_pages=None, feature_journeys=None) -> pd.DataFrame:
    """The largest statistically supported differences between plans, ranked.

    Gathers the two-plan contrasts of the requested kinds — page presence
    (:func:`compare_presence`), runs of ``n`` pages (:func:`compare_sequences`),
    where pages are first reached (:func:`position_contrasts`) and, for the
    pages in ``destinations``, what follows them (:func:`compare_destinations`)
    — keeps the significant ones and ranks them.

    Each kind of question is one family of tests, the same as in its section
    table, so that the findings and the tables never contradict each other: the
    features of a family (pages, runs, next pages of a page, positions of pages)
    are tested one by one across all plans and adjusted together
    (Benjamini–Hochberg), exactly as in the ``compare_*`` table; a pair of plans
    is a finding only when its feature is significant there and the pair passes
    Holm's adjustment within the feature at level ``alpha * R / m`` (``R``
    features significant of the ``m`` tested; Benjamini and Bogomolov's
    selective inference, see :func:`plan_contrasts`). A feature significant in
    its table is therefore a finding candidate, and every finding's feature is
    significant in its table. Rare features (fewer than ``feature_journeys``
    journeys; runs: ``min_journeys``) are not tested, as in the tables.

    The intervals of the kept differences are adjusted for that selection:
    with ``R`` kept of the ``m`` pairs tested (all kinds together), each is a
    ``1 - R * (1 - confidence) / m`` interval (Benjamini and Yekutieli's
    false-coverage-rate intervals), so that on average no more than
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
        Plans to compare (at least two); default every plan, sorted by name.
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
    position_pages : str or list of str, optional
        Pages whose position is compared (the family of the position
        question); default every page reached by at least
        ``feature_journeys`` journeys. Pass the pages of the report's position
        table so that both are the same family.
    feature_journeys : int, optional
        Fewest journeys for a page, next page or position to be tested, as
        ``min_journeys`` of :func:`compare_presence`; default ``MIN_JOURNEYS`` (10).

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
    confidence = check_unit_interval(confidence, "confidence", function)
    alpha = check_unit_interval(alpha, "alpha", function)
    kinds, destinations = _top_kinds(kinds, destinations, function)
    if top is not None:
        top = check_positive_int(top, "top", function)
    rare = _min_journeys(None if feature_journeys is None else feature_journeys, function)
    chosen = plans_in(data, plans, plan_column=plan_column, function=function)
    columns = dict(target_column=target_column, plan_column=plan_column)
    positions = dict(confidence=confidence, alpha=alpha, min_n=min_n, n_resamples=n_resamples, seed=seed,
                     min_journeys=rare, **columns)
    shares, position_pages = _share_findings(data, chosen, kinds, destinations, n=n, min_journeys=min_journeys,
                                             rare=rare, position_pages=position_pages, positions=positions,
                                             function=function)
    parts = shares
    if "position" in kinds:
        contrasts = position_contrasts(data, position_pages, chosen, **positions)
        parts.append(_position_rows(contrasts[contrasts["p_value"].notna()]))
    table, tested = _significant([p for p in parts if len(p)], alpha)
    if table.empty:
        return _empty_top()
    table = _selection_adjusted(table, tested, data, chosen, confidence, positions)
    return _ranked(table, top)


def _top_kinds(kinds, destinations, function):
    """The kinds of difference asked for (with 'destination' when pages to follow are given) and those pages."""
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    destinations = [destinations] if isinstance(destinations, str) else list(destinations)
    if destinations and "destination" not in kinds:
        kinds.append("destination")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(
            f"{function}: unknown kind {', '.join(map(repr, unknown))}; expected some of {', '.join(KINDS)}"
        )
    return kinds, destinations


def _share_findings(data, chosen, kinds, destinations, *, n, min_journeys, rare, position_pages, positions,
                    function):
    """The candidate findings about shares (pages, runs, next pages), each kind tested as its table tests it,
    and the pages whose position is compared (default: every page in at least ``rare`` journeys)."""
    pairwise = dict(confidence=positions["confidence"], alpha=positions["alpha"], min_n=positions["min_n"],
                    min_expected=MIN_EXPECTED, odds_ratios=False)
    family = dict(min_expected=MIN_EXPECTED, n_resamples=positions["n_resamples"], seed=positions["seed"])
    columns = (positions["target_column"], positions["plan_column"])

    def rows(key, labels, counts, sizes, kind, denominator, rare_below, feature=None):
        tests = _feature_tests(counts, sizes, min_journeys=rare_below, **family)
        contrasts = _pairwise(key, labels, counts, sizes, chosen, "journeys", family=tests, **pairwise)
        return _share_rows(contrasts, kind, key, denominator, feature=feature)

    parts = []
    if "presence" in kinds or ("position" in kinds and position_pages is None):
        _, labels, counts, sizes = _presence_counts(data, chosen, *columns, function)
        if position_pages is None:
            # The position family: every page reached by enough journeys.
            position_pages = sorted(labels[counts.sum(axis=1) >= rare].tolist())
        if "presence" in kinds:
            parts.append(rows("page", labels, counts, sizes, "presence", "journeys of the plan", rare))
    if "sequence" in kinds:
        _, labels, counts, sizes = _sequence_counts(data, n, chosen, min_journeys, *columns, function)
        parts.append(rows("sequence", labels, counts, sizes, "sequence", "journeys of the plan", min_journeys))
    if "destination" in kinds:
        for page in destinations:
            _, labels, counts, sizes = _destination_counts(data, page, chosen, *columns, function)
            parts.append(rows("next_page", labels, counts, sizes, "destination", f"journeys that leave {page}", rare,
                              feature=lambda next_page, page=page: page + " -> " + next_page))
    return parts, position_pages


def _significant(parts, alpha) -> tuple[pd.DataFrame, int]:
    """The candidates that are significant, and how many were tested."""
    if not parts:
        return pd.DataFrame(), 0
    table = pd.concat(parts, ignore_index=True)
    table = table[table["p_value"].notna()].reset_index(drop=True)
    tested = len(table)
    table["significant"] = (table["p_adjusted"] <= alpha).to_numpy()
    return table[table["significant"]].reset_index(drop=True), tested


def _selection_adjusted(table, tested, data, chosen, confidence, positions) -> pd.DataFrame:
    """The kept findings with intervals widened for their selection, at level ``ci_level``.

    With ``R`` kept of the ``m`` tested, each is a ``1 - R * (1 - confidence) / m``
    interval (Benjamini and Yekutieli's false-coverage-rate intervals).
    """
    level = 1 - len(table) * (1 - confidence) / tested
    table["ci_level"] = level
    shares = (table["kind"] != "position").to_numpy()
    if shares.any():
        rows = table[shares]
        low, high = newcombe_interval(rows["count_a"], rows["n_a"], rows["count_b"], rows["n_b"], level)
        table.loc[shares, "effect_low"], table.loc[shares, "effect_high"] = low, high
    if not shares.all():
        rows = table[~shares]
        again = position_contrasts(data, sorted(set(rows["feature"])), chosen, **{**positions, "confidence": level})
        bounds = again.set_index(["page", "plan_a", "plan_b"])[["effect_low", "effect_high"]].reindex(
            pd.MultiIndex.from_arrays([rows["feature"], rows["plan_a"], rows["plan_b"]]))
        table.loc[~shares, "effect_low"] = bounds["effect_low"].to_numpy()
        table.loc[~shares, "effect_high"] = bounds["effect_high"].to_numpy()
    return table


def _ranked(table, top) -> pd.DataFrame:
    """Findings ranked: small samples last; then by ``strength`` (the interval bound nearest zero), size of
    the effect, adjusted p-value, kind and feature; the first ``top`` kept."""
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

def _binomial_half(k, n) -> np.ndarray:
    """Two-sided exact binomial p-values of ``k`` of ``n`` against 1/2, vectorised (1 where ``n`` is 0).

    Equal to ``scipy.stats.binomtest(k, n).pvalue``: by symmetry, twice the
    smaller tail, at most 1.
    """
    k, n = np.asarray(k, dtype=np.int64), np.asarray(n, dtype=np.int64)
    p = np.minimum(1.0, 2 * stats.binom.cdf(np.minimum(k, n - k), n, 0.5))
    return np.where(n > 0, p, 1.0)


def _counted(keys):
    """Distinct keys, sorted, and how often each occurs (np.unique(..., return_counts=True), hash-based)."""
    codes, uniques = pd.factorize(keys, sort=True)
    return np.asarray(uniques, dtype=np.int64), np.bincount(codes, minlength=len(uniques))


def _wilcoxon(first, last):
    """Wilcoxon signed-rank p-value of a paired difference (1 when nothing changes)."""
    keep = ~(np.isnan(first) | np.isnan(last))
    difference = last[keep] - first[keep]
    if not np.any(difference != 0):
        return 1.0
    return float(stats.wilcoxon(difference).pvalue)


def session_windows(sessions_data, n=3, *, plans=None, pages_to_remove=(), alpha=0.05,
                    min_n=MIN_N, group_column=USER, target_column=TARGET, order_column=SESSION,
                    plan_column=PLAN) -> pd.DataFrame:
    """Headline metrics of each user's first ``n`` against last ``n`` sessions, per plan.

    The same users are measured in both windows
    (:func:`journey_utils.window_journeys`: only users with at least ``2 * n``
    sessions, so the windows share no session), so every difference is tested
    as a paired one: exact McNemar for page presence, sign test for visit
    shares, Wilcoxon signed-rank for pages per journey. All p-values of the table are adjusted together
    (Benjamini–Hochberg).

    Parameters
    ----------
    sessions_data : DataFrame
        Sessions, one per row (not grouped).
    n : int, default 3
        Sessions per window.
    plans : None, str or list of str, optional
        Plans to show besides all plans together; default every plan, sorted by name.
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
        One row per (plan, metric, page), all plans together first (``plan``
        'All', or 'All plans' when a plan is itself named All; ``all_plans``
        True on those rows): ``plan``, ``metric``
        ('pages per journey', 'presence' or 'visit share'), ``page`` ('' for
        pages per journey), ``unit`` ('pages' - mean per user; 'journeys' - share
        of users whose window contains the page; 'page visits' - a user's share
        of page visits that are this page, averaged over users), ``n`` (users),
        ``first``, ``last``, ``difference`` (last - first), ``test``,
        ``p_value``, ``p_adjusted``, ``significant``, ``small_sample``,
        ``all_plans``. Pages by presence in the last window over all users,
        descending. Computed in numpy over all pages at once (sparse: only the
        pages a user visits count), so tens of thousands of pages take seconds.

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
    alpha = check_unit_interval(alpha, "alpha", function)
    windows = window_journeys(sessions_data, n, pages_to_remove=pages_to_remove, group_column=group_column,
                              target_column=target_column, order_column=order_column, plan_column=plan_column)
    chosen = plans_in(sessions_data, plans, plan_column=plan_column, minimum=1, function=function)
    every = every_plan_label(plans_present(sessions_data, plan_column))
    visits = _WindowVisits.of(windows)
    plan_of_user = windows[plan_column].to_numpy(dtype=object)
    blocks = []
    for label, plan in [(every, None), *((p, p) for p in chosen)]:
        member = np.ones(visits.users, bool) if plan is None else plan_of_user == plan
        blocks.extend(_window_blocks(visits, member, label, all_plans=plan is None, min_n=min_n))
    return _window_table(blocks, alpha)


@dataclass
class _WindowVisits:
    """Every user's visits to every page in their first and last window, as sparse (user, page) keys.

    Pages are numbered by presence in the last window over all users
    (descending), then name. ``first_*`` and ``last_*`` hold one entry per
    (user, page) seen in that window, sorted by key (``user * size + page``):
    the user, the page, the visits and the share of the window's page visits;
    ``*_length`` the pages of each user's window. ``union_*`` hold every
    (user, page) seen in either window, with the change of visit share
    (``difference``; 0 where either window is empty, ``both_valid`` False).
    """

    users: int
    pages: np.ndarray
    first_length: np.ndarray
    last_length: np.ndarray
    first_user: np.ndarray
    first_page: np.ndarray
    first_share: np.ndarray
    last_user: np.ndarray
    last_page: np.ndarray
    last_share: np.ndarray
    first_in_last: np.ndarray
    last_in_first: np.ndarray
    union_user: np.ndarray
    union_page: np.ndarray
    both_valid: np.ndarray
    difference: np.ndarray

    @property
    def size(self) -> int:
        return len(self.pages)

    @classmethod
    def of(cls, windows) -> _WindowVisits:
        users = len(windows)
        both = _codes.encode(pd.concat([windows["first"], windows["last"]], ignore_index=True))
        used = (np.flatnonzero(np.bincount(both.codes, minlength=both.n_pages)) if len(both.codes)
                else np.empty(0, np.int64))
        pages = both.pages[used]
        code_of = np.full(both.n_pages, -1, dtype=np.int64)
        code_of[used] = np.arange(len(used))
        size = len(used)
        journey = both.journey_index.astype(np.int64)
        dense = code_of[both.codes] if len(both.codes) else np.empty(0, np.int64)
        is_last = journey >= users
        user = np.where(is_last, journey - users, journey)
        first_keys, first_visits = _counted(user[~is_last] * size + dense[~is_last])
        last_keys, last_visits = _counted(user[is_last] * size + dense[is_last])
        lengths = both.lengths.astype(np.int64)
        first_length, last_length = lengths[:users], lengths[users:]
        # Pages by presence in the last window over all users, descending, then name.
        present_last = np.bincount(last_keys % size, minlength=size)
        order = np.lexsort((pages.astype(str), -present_last))
        rank = np.empty(size, np.int64)
        rank[order] = np.arange(size)
        first_user, first_page, first_keys, first_visits = _renumbered(first_keys, first_visits, rank, size)
        last_user, last_page, last_keys, last_visits = _renumbered(last_keys, last_visits, rank, size)
        with np.errstate(divide="ignore", invalid="ignore"):
            first_share = first_visits / first_length[first_user]
            last_share = last_visits / last_length[last_user]
        # Visit shares of every (user, page) seen in either window, 0 where the page is absent from one.
        union = np.union1d(first_keys, last_keys)
        union_user, union_page = union // size, union % size
        union_first, union_last = np.zeros(len(union)), np.zeros(len(union))
        union_first[np.searchsorted(union, first_keys)] = first_share
        union_last[np.searchsorted(union, last_keys)] = last_share
        both_valid = (first_length[union_user] > 0) & (last_length[union_user] > 0)
        return cls(
            users=users, pages=pages[order], first_length=first_length, last_length=last_length,
            first_user=first_user, first_page=first_page, first_share=first_share,
            last_user=last_user, last_page=last_page, last_share=last_share,
            first_in_last=np.isin(first_keys, last_keys, assume_unique=True),
            last_in_first=np.isin(last_keys, first_keys, assume_unique=True),
            union_user=union_user, union_page=union_page, both_valid=both_valid,
            difference=np.where(both_valid, union_last - union_first, 0.0),
        )


def _renumbered(keys, visits, rank, size):
    """(user, page) keys with pages renumbered by ``rank``, sorted by the new key: user, page, key, visits."""
    user, page = keys // size, rank[keys % size]
    keys = user * size + page
    order = np.argsort(keys)
    return user[order], page[order], keys[order], visits[order]


def _window_blocks(visits, member, label, *, all_plans, min_n) -> list[pd.DataFrame]:
    """The three metrics of :func:`session_windows` (pages per journey, presence, visit share) for one group."""
    size = visits.size
    n_users = int(member.sum())
    small = n_users < min_n
    first_length, last_length = visits.first_length[member].astype(float), visits.last_length[member].astype(float)
    in_first, in_last = member[visits.first_user], member[visits.last_user]
    in_union = member[visits.union_user]

    def per_page(mask, page, weights=None):
        return np.bincount(page[mask], weights=None if weights is None else weights[mask], minlength=size)

    # Presence: share of users whose window has the page; exact McNemar on the users who changed.
    first = per_page(in_first, visits.first_page) / n_users if n_users else np.full(size, np.nan)
    last = per_page(in_last, visits.last_page) / n_users if n_users else np.full(size, np.nan)
    only_first = per_page(in_first & ~visits.first_in_last, visits.first_page)
    only_last = per_page(in_last & ~visits.last_in_first, visits.last_page)
    p_presence = _binomial_half(only_last, only_first + only_last) if n_users else np.full(size, np.nan)
    # Visit share: mean over users with a non-empty window; sign test on the users whose share changed.
    first_users = int((member & (visits.first_length > 0)).sum())
    last_users = int((member & (visits.last_length > 0)).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        first_mean = per_page(in_first & ~np.isnan(visits.first_share), visits.first_page,
                              visits.first_share) / first_users
        last_mean = per_page(in_last & ~np.isnan(visits.last_share), visits.last_page, visits.last_share) / last_users
    changed = in_union & visits.both_valid
    up = per_page(changed & (visits.difference > 0), visits.union_page)
    down = per_page(changed & (visits.difference < 0), visits.union_page)
    p_share = _binomial_half(up, up + down) if n_users else np.full(size, np.nan)
    common = {"plan": label, "n": n_users, "small_sample": small, "all_plans": all_plans}
    return [
        pd.DataFrame({**common, "metric": "pages per journey", "page": [""], "unit": "pages",
                      "first": defined_mean(first_length), "last": defined_mean(last_length),
                      "test": "Wilcoxon signed-rank",
                      "p_value": _wilcoxon(first_length, last_length) if n_users else np.nan}),
        pd.DataFrame({**common, "metric": "presence", "page": visits.pages, "unit": "journeys",
                      "first": first, "last": last, "test": "McNemar exact", "p_value": p_presence}),
        pd.DataFrame({**common, "metric": "visit share", "page": visits.pages, "unit": "page visits",
                      "first": first_mean if first_users else np.nan, "last": last_mean if last_users else np.nan,
                      "test": "sign test", "p_value": p_share}),
    ]


_WINDOW_COLUMNS = ["plan", "metric", "page", "unit", "n", "first", "last", "test", "p_value", "small_sample",
                   "all_plans"]


def _window_table(blocks, alpha) -> pd.DataFrame:
    """The blocks of every group as one table, with the differences and the p-values adjusted together."""
    table = pd.concat([block[_WINDOW_COLUMNS] for block in blocks], ignore_index=True)
    table.insert(7, "difference", table["last"] - table["first"])
    table.insert(len(table.columns) - 2, "p_adjusted", adjust_pvalues(table["p_value"]))
    table.insert(len(table.columns) - 2, "significant", (table["p_adjusted"] <= alpha).to_numpy())
    return table.astype({"plan": "str", "metric": "str", "page": "str", "unit": "str", "test": "str",
                         "n": np.int64, "first": float, "last": float, "p_value": float, "small_sample": bool,
                         "all_plans": bool})
