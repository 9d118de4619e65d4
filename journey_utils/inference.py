"""Statistical building blocks for plan comparisons: intervals, tests, adjustment.

Every test and interval here is computed by :mod:`scipy.stats` or is a closed
form checked against it in the tests. Everything is deterministic: resampling
methods take a seed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from journey_utils._checks import check_unit_interval

__all__ = [
    "TestResult",
    "wilson_interval",
    "newcombe_interval",
    "adjust_pvalues",
    "independence_test",
    "share_tests",
    "holm_adjust",
    "odds_ratio",
    "odds_ratios",
    "median_interval",
    "defined_mean",
    "delong_interval",
    "superiority",
]

#: Below this expected count in any cell the chi-square approximation is not trusted.
MIN_EXPECTED = 5
#: Monte Carlo draws for exact tests on tables larger than 2x2.
N_RESAMPLES = 9999


def _z(confidence: float) -> float:
    confidence = check_unit_interval(confidence, "confidence", "inference")
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(count, n, confidence=0.95):
    """Wilson score interval for a proportion ``count / n``, vectorised.

    Parameters
    ----------
    count, n : int or array_like of int
        Successes and trials. Where ``n`` is 0 the interval is NaN.
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    low, high : ndarray of float
        Bounds, clipped to [0, 1]. Equal to
        ``scipy.stats.binomtest(count, n).proportion_ci(confidence, 'wilson')``.

    Examples
    --------
    >>> from journey_utils.inference import wilson_interval
    >>> low, high = wilson_interval(81, 263)
    >>> round(float(low), 4), round(float(high), 4)
    (0.2553, 0.3662)
    """
    count = np.asarray(count, dtype=float)
    n = np.asarray(n, dtype=float)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = count / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z / denominator * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    # The closed form leaves rounding noise at the boundaries; the exact bounds are 0 and 1.
    low = np.where(count == 0, 0.0, low)
    high = np.where(count == n, 1.0, high)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def newcombe_interval(count_a, n_a, count_b, n_b, confidence=0.95):
    """Interval for the difference of two independent proportions ``a - b``.

    Newcombe's hybrid score method (his method 10): it combines the two Wilson
    intervals, keeps within [-1, 1] and behaves well for small counts and for
    proportions near 0 or 1, where the textbook Wald interval fails.

    Returns
    -------
    low, high : ndarray of float
        NaN where either group is empty.

    Examples
    --------
    >>> from journey_utils.inference import newcombe_interval
    >>> low, high = newcombe_interval(56, 70, 48, 80)
    >>> round(float(low), 4), round(float(high), 4)
    (0.0524, 0.3339)
    """
    count_a, n_a, count_b, n_b = (np.asarray(v, dtype=float) for v in (count_a, n_a, count_b, n_b))
    low_a, high_a = wilson_interval(count_a, n_a, confidence)
    low_b, high_b = wilson_interval(count_b, n_b, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a, p_b = count_a / n_a, count_b / n_b
    difference = p_a - p_b
    low = difference - np.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = difference + np.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return low, high


def adjust_pvalues(p_values) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), NaN kept as NaN.

    The family is every finite p-value given; a test is significant at false
    discovery rate ``alpha`` when its adjusted p-value is at most ``alpha``.

    Examples
    --------
    >>> from journey_utils.inference import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.02, 0.04, 0.04, 0.02]
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        adjusted[finite] = stats.false_discovery_control(p[finite], method="bh")
    return adjusted


@dataclass(frozen=True)
class TestResult:
    """Outcome of a test of independence on a contingency table.

    Attributes
    ----------
    test : str
        Which test was used, in words (shown next to the p-value in reports).
    statistic : float
        Chi-square statistic, the 2x2 sample odds ratio for Fisher's exact test,
        or the table's probability under independence for the Monte Carlo test;
        NaN when nothing varies.
    p_value : float
        Two-sided p-value (1.0 when the table has no variation to test).
    min_expected : float
        Smallest expected cell count under independence.
    """

    __test__ = False  # not a pytest test class, despite the name

    test: str
    statistic: float
    p_value: float
    min_expected: float


def independence_test(table, *, min_expected=MIN_EXPECTED, n_resamples=N_RESAMPLES, seed=0) -> TestResult:
    """Test whether the rows and columns of a contingency table are independent.

    The chi-square test is used when every expected count is at least
    ``min_expected`` (with Yates' correction for 2x2 tables, scipy's default);
    otherwise an exact test: Fisher's exact test for 2x2 tables, and for larger
    tables Fisher's exact test with a seeded Monte Carlo p-value (the
    Freeman–Halton extension; scipy has no complete enumeration for r x c).
    Rows and columns that are all zero are dropped first; a table left with a
    single row or column has nothing to test and gets p = 1.

    Parameters
    ----------
    table : array_like of int, 2-D
        Counts, e.g. rows = present / absent, columns = plans.
    min_expected : float, default 5
        Smallest expected count for the chi-square approximation.
    n_resamples : int, default 9999
        Monte Carlo draws for exact tests on tables larger than 2x2.
    seed : int, default 0
        Seed of those draws, so results are reproducible.

    Returns
    -------
    TestResult

    Examples
    --------
    >>> from journey_utils.inference import independence_test
    >>> result = independence_test([[8, 2], [1, 5]])
    >>> result.test, round(result.p_value, 4)
    ('Fisher exact', 0.035)
    """
    observed = np.asarray(table)
    if observed.ndim != 2:
        raise ValueError(f"independence_test: expected a 2-D table of counts; found {observed.ndim} dimension(s)")
    if (observed < 0).any() or not np.allclose(observed, np.round(observed)):
        raise ValueError("independence_test: counts must be non-negative integers")
    observed = np.round(observed).astype(np.int64)
    if 2 in observed.shape:
        # Two rows (or columns): the vectorised tests, which also work at any size.
        two_rows = observed if observed.shape[0] == 2 else observed.T
        row = share_tests(two_rows[:1], two_rows.sum(axis=0)[None, :], min_expected=min_expected,
                          n_resamples=n_resamples, seed=seed).iloc[0]
        return TestResult(str(row["test"]), float(row["statistic"]), float(row["p_value"]),
                          float(row["min_expected"]))
    observed = observed[observed.sum(axis=1) > 0][:, observed.sum(axis=0) > 0]
    if observed.shape[0] < 2 or observed.shape[1] < 2:
        return TestResult("none (no variation)", float("nan"), 1.0, float("nan"))
    expected = stats.contingency.expected_freq(observed)
    smallest = float(expected.min())
    if smallest >= min_expected:
        result = stats.chi2_contingency(observed)
        name = "chi-square (Yates)" if observed.shape == (2, 2) else "chi-square"
        return TestResult(name, float(result.statistic), float(result.pvalue), smallest)
    if observed.shape == (2, 2):
        result = stats.fisher_exact(observed)
        return TestResult("Fisher exact", float(result.statistic), float(result.pvalue), smallest)
    method = stats.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(seed))
    result = stats.fisher_exact(observed, method=method)
    # scipy returns 1-element arrays for some tables; take the scalar either way.
    statistic, p_value = (float(np.ravel(v)[0]) for v in (result.statistic, result.pvalue))
    return TestResult(f"Fisher exact (Monte Carlo, {n_resamples} draws)", statistic, p_value, smallest)


#: Relative tolerance when comparing table probabilities (as in scipy's Fisher's exact test).
_TOLERANCE = 1e-7
# Bound on the temporary arrays of the vectorised exact tests (elements per batch).
_BATCH = 4_000_000


def _log_choose(n, k):
    n, k = np.asarray(n, dtype=float), np.asarray(k, dtype=float)
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


def _fisher_2x2(a, n_a, b, n_b):
    """Two-sided Fisher's exact p-values of many 2x2 tables ``[[a, n_a - a], [b, n_b - b]]``, vectorised.

    Conditional on the margins, ``a`` is hypergeometric; the p-value sums the
    probabilities of every ``a`` no more likely than the one observed (scipy's
    definition, with its relative tolerance of 1e-7). Tables are processed in
    batches of similar support size, so the work is the sum of the supports.
    """
    a, n_a, b, n_b = (np.asarray(v, dtype=np.int64) for v in (a, n_a, b, n_b))
    t = a + b
    n = n_a + n_b
    low = np.maximum(0, t - n_b)
    high = np.minimum(t, n_a)
    width = high - low + 1
    p_values = np.empty(len(a))
    base = _log_choose(n, t)
    observed = _log_choose(n_a, a) + _log_choose(n_b, t - a) - base
    order = np.argsort(width, kind="stable")
    start = 0
    while start < len(order):
        widest = int(width[order[min(len(order) - 1, start)]])
        rows = max(1, _BATCH // max(widest, 1))
        chunk = order[start:start + rows]
        widest = int(width[chunk].max())
        x = low[chunk, None] + np.arange(widest)[None, :]
        valid = x <= high[chunk, None]
        x = np.where(valid, x, low[chunk, None])
        log_pmf = (_log_choose(n_a[chunk, None], x) + _log_choose(n_b[chunk, None], t[chunk, None] - x)
                   - base[chunk, None])
        keep = valid & (log_pmf <= observed[chunk, None] + _TOLERANCE)
        p_values[chunk] = np.where(keep, np.exp(log_pmf), 0.0).sum(axis=1)
        start += len(chunk)
    return np.minimum(p_values, 1.0)


def _monte_carlo_2xk(counts, sizes, n_resamples, seed):
    """Monte Carlo p-values of Fisher's exact test (Freeman–Halton) for 2 x k tables, vectorised.

    Row 1 of each table is ``counts`` (per column), row 2 ``sizes - counts``.
    Tables with the observed margins are drawn column by column from the
    conditional hypergeometric distributions (exactly the null distribution of
    independence given the margins, as :class:`scipy.stats.random_table`
    draws), and the p-value is ``(1 + draws no more likely than the observed
    table) / (1 + n_resamples)``, as :func:`scipy.stats.fisher_exact` computes it.
    Returns (p-values, probabilities of the observed tables).
    """
    counts = np.asarray(counts, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    t = counts.sum(axis=1)
    n = sizes.sum(axis=1)
    base = _log_choose(n, t)
    observed = _log_choose(sizes, counts).sum(axis=1) - base
    p_values = np.empty(len(counts))
    rng = np.random.default_rng(seed)
    rows = max(1, _BATCH // max(n_resamples, 1))
    for start in range(0, len(counts), rows):
        part = slice(start, start + rows)
        size = sizes[part]
        left_total = np.broadcast_to(n[part, None], (size.shape[0], n_resamples)).copy()
        left_with = np.broadcast_to(t[part, None], left_total.shape).copy()
        log_p = np.broadcast_to(-base[part, None], left_total.shape).copy()
        for column in range(size.shape[1]):
            good = np.broadcast_to(size[:, column, None], left_total.shape)
            if column == size.shape[1] - 1:
                x = left_with
            else:
                x = rng.hypergeometric(good, left_total - good, left_with) if good.size else left_with
            log_p += _log_choose(good, x)
            left_total = left_total - good
            left_with = left_with - x
        extreme = (log_p <= observed[part, None] + _TOLERANCE).sum(axis=1)
        p_values[part] = (extreme + 1.0) / (n_resamples + 1.0)
    return p_values, np.exp(observed)


def share_tests(counts, sizes, *, min_expected=MIN_EXPECTED, n_resamples=N_RESAMPLES, seed=0) -> pd.DataFrame:
    """Tests of independence of many 2 x k tables at once: does a share differ between groups?

    Table ``i`` has one column per group (plan): ``counts[i, j]`` of the
    ``sizes[i, j]`` journeys of group ``j`` have the feature. Groups with no
    journey are left out of that table, and a table whose feature is in every
    journey or in none, or that keeps fewer than two groups, has nothing to test
    (p = 1, test 'none (no variation)'). Which test, table by table:

    * every expected count (under independence) at least ``min_expected``
      (Cochran's rule, default 5): Pearson's chi-square test, with Yates'
      correction when two groups remain (as :func:`scipy.stats.chi2_contingency`);
    * otherwise, two groups: Fisher's exact test (as :func:`scipy.stats.fisher_exact`);
    * otherwise, three or more groups: Fisher's exact test (Freeman–Halton)
      with a seeded Monte Carlo p-value from ``n_resamples`` tables drawn under
      independence with the observed margins (as ``scipy.stats.fisher_exact``
      with a ``MonteCarloMethod``, whose sampler fails on large counts; this one
      draws hypergeometric counts and works at any size).

    The result equals :func:`independence_test` applied table by table, but all
    tables are computed together in numpy.

    Parameters
    ----------
    counts : array_like of int, shape (tables, groups)
        Journeys with the feature.
    sizes : array_like of int, shape (tables, groups) or (groups,)
        Journeys of each group (the denominators).
    min_expected : float, default 5
        Smallest expected count for the chi-square test.
    n_resamples : int, default 9999
        Monte Carlo draws for the exact test of three or more groups.
    seed : int, default 0
        Seed of those draws.

    Returns
    -------
    DataFrame
        One row per table: ``test``, ``statistic`` (chi-square, the 2x2 sample
        odds ratio, or the table's probability for the Monte Carlo test),
        ``p_value``, ``min_expected``, ``groups`` (groups with journeys).

    Examples
    --------
    >>> from journey_utils.inference import share_tests
    >>> share_tests([[8, 1], [60, 30]], [[10, 6], [100, 100]])[["test", "p_value"]].round(4).values.tolist()
    [['Fisher exact', 0.035], ['chi-square (Yates)', 0.0]]
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 2:
        raise ValueError(f"share_tests: counts must be a 2-D array (tables x groups); found {counts.ndim} dimension(s)")
    sizes = np.broadcast_to(np.asarray(sizes, dtype=np.int64), counts.shape)
    if (counts < 0).any() or (counts > sizes).any():
        bad = np.flatnonzero(((counts < 0) | (counts > sizes)).any(axis=1))
        raise ValueError(f"share_tests: counts must be between 0 and the group sizes; tables {bad[:5].tolist()} "
                         "are not")
    tables = len(counts)
    active = sizes > 0
    groups = active.sum(axis=1)
    with_ = counts.sum(axis=1)
    total = sizes.sum(axis=1)
    without = total - with_
    varies = (groups >= 2) & (with_ > 0) & (without > 0)
    test = np.full(tables, "none (no variation)", dtype=object)
    statistic = np.full(tables, np.nan)
    p_value = np.ones(tables)
    smallest = np.full(tables, np.nan)
    if varies.any():
        c, n = counts[varies].astype(float), sizes[varies].astype(float)
        on = active[varies]
        t, big_n = with_[varies].astype(float), total[varies].astype(float)
        e_with = t[:, None] * n / big_n[:, None]
        e_without = (big_n - t)[:, None] * n / big_n[:, None]
        lowest = np.where(on, np.minimum(e_with, e_without), np.inf).min(axis=1)
        smallest[varies] = lowest
        two = groups[varies] == 2
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = []
            for observed, expected in ((c, e_with), (n - c, e_without)):
                difference = observed - expected
                # Yates' correction, as scipy applies it: move each count towards its expectation by up to 0.5.
                corrected = np.where(two[:, None], np.maximum(np.abs(difference) - 0.5, 0.0), np.abs(difference))
                terms.append(np.where(on, corrected ** 2 / expected, 0.0))
            chi2 = terms[0].sum(axis=1) + terms[1].sum(axis=1)
        asymptotic = lowest >= min_expected
        index = np.flatnonzero(varies)
        chosen = index[asymptotic]
        statistic[chosen] = chi2[asymptotic]
        p_value[chosen] = stats.chi2.sf(chi2[asymptotic], groups[chosen] - 1)
        test[chosen] = np.where(two[asymptotic], "chi-square (Yates)", "chi-square")
        fisher = ~asymptotic & two
        if fisher.any():
            chosen = index[fisher]
            # The two groups that remain, in their order.
            columns = np.argsort(~active[chosen], axis=1, kind="stable")[:, :2]
            rows = np.arange(len(chosen))[:, None]
            pair_counts = counts[chosen][rows, columns]
            pair_sizes = sizes[chosen][rows, columns]
            a, b = pair_counts[:, 0], pair_counts[:, 1]
            n_a, n_b = pair_sizes[:, 0], pair_sizes[:, 1]
            p_value[chosen] = _fisher_2x2(a, n_a, b, n_b)
            with np.errstate(divide="ignore", invalid="ignore"):
                statistic[chosen] = (a * (n_b - b)).astype(float) / (b * (n_a - a)).astype(float)
            test[chosen] = "Fisher exact"
        monte_carlo = ~asymptotic & ~two
        if monte_carlo.any():
            chosen = index[monte_carlo]
            p_value[chosen], statistic[chosen] = _monte_carlo_2xk(counts[chosen], sizes[chosen], n_resamples, seed)
            test[chosen] = f"Fisher exact (Monte Carlo, {n_resamples} draws)"
    return pd.DataFrame({"test": pd.array(test, dtype="str"), "statistic": statistic, "p_value": p_value,
                         "min_expected": smallest, "groups": groups.astype(np.int64)})


def holm_adjust(p_values, groups) -> np.ndarray:
    """Holm's step-down adjusted p-values within each group of tests, vectorised.

    Holm's adjustment controls the family-wise error rate within each group
    under any dependence between its tests (the pairwise tests of one feature
    share their data). NaN p-values are left out and stay NaN.

    Examples
    --------
    >>> from journey_utils.inference import holm_adjust
    >>> holm_adjust([0.01, 0.04, 0.03, 0.2], [0, 0, 0, 1]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.2]
    """
    p = np.asarray(p_values, dtype=float)
    groups = np.asarray(groups)
    adjusted = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if not len(finite):
        return adjusted
    _, group = np.unique(groups[finite], return_inverse=True)
    order = np.lexsort((p[finite], group))
    g, values = group[order], p[finite][order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    sizes = np.diff(np.r_[starts, len(g)])
    rank = np.arange(len(g)) - np.repeat(starts, sizes)
    scaled = np.minimum(1.0, values * (np.repeat(sizes, sizes) - rank))
    # Step-down: running maximum within each group.
    offset = g * 2.0  # groups apart by more than the range of values
    running = np.maximum.accumulate(scaled + offset) - offset
    out = np.empty(len(g))
    out[order] = running
    adjusted[finite] = out
    return adjusted


def odds_ratios(count_a, n_a, count_b, n_b, confidence=0.95, *, min_expected=MIN_EXPECTED):
    """:func:`odds_ratio` for many 2x2 tables ``[[a, n_a - a], [b, n_b - b]]``.

    The sample odds ratio with its Woolf interval is computed in numpy for all
    tables with no zero cell and every expected count at least
    ``min_expected``; only the others (small counts) go one by one through
    :func:`odds_ratio`'s exact conditional computation.

    Returns
    -------
    odds_ratio, low, high : ndarray of float

    Examples
    --------
    >>> from journey_utils.inference import odds_ratios
    >>> [v.round(2).tolist() for v in odds_ratios([60, 6], [100, 8], [30, 1], [100, 5])]
    [[3.5, 9.47], [1.95, 0.54], [6.29, 686.48]]
    """
    a, n_a, b, n_b = (np.asarray(v, dtype=np.int64).ravel() for v in (count_a, n_a, count_b, n_b))
    cells = np.stack([a, n_a - a, b, n_b - b], axis=1).astype(float)
    out = np.full((len(a), 3), np.nan)
    if not len(a):
        return out[:, 0], out[:, 1], out[:, 2]
    total = cells.sum(axis=1)
    col_with, col_without = cells[:, 0] + cells[:, 2], cells[:, 1] + cells[:, 3]
    defined = (n_a > 0) & (n_b > 0) & (col_with > 0) & (col_without > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.minimum.reduce([n_a * col_with, n_a * col_without, n_b * col_with, n_b * col_without]) / total
    large = defined & (cells > 0).all(axis=1) & (expected >= min_expected)
    if large.any():
        c = cells[large]
        log_or = np.log(c[:, 0] * c[:, 3] / (c[:, 1] * c[:, 2]))
        half = _z(confidence) * np.sqrt((1.0 / c).sum(axis=1))
        out[large] = np.stack([np.exp(log_or), np.exp(log_or - half), np.exp(log_or + half)], axis=1)
    for i in np.flatnonzero(defined & ~large):
        out[i] = odds_ratio([[a[i], n_a[i] - a[i]], [b[i], n_b[i] - b[i]]], confidence, min_expected=min_expected)
    return out[:, 0], out[:, 1], out[:, 2]


def odds_ratio(table, confidence=0.95, *, min_expected=MIN_EXPECTED) -> tuple[float, float, float]:
    """Odds ratio of a 2x2 table with its interval, from :func:`scipy.stats.contingency.odds_ratio`.

    ``table`` is ``[[a_with, a_without], [b_with, b_without]]``: the odds of
    "with" in group a over those in group b. Where an expected count is below
    ``min_expected`` or a cell is zero (where Fisher's exact test is used) the
    estimate is the conditional maximum-likelihood one with its exact interval
    (it handles zero cells, giving 0 or inf); otherwise the sample odds ratio
    with the normal-approximation (Woolf) interval, which agrees closely with
    large counts and costs a fraction of the exact computation.

    Returns
    -------
    (odds_ratio, low, high) : tuple of float
        NaN when a group or an outcome is empty.

    Examples
    --------
    >>> from journey_utils.inference import odds_ratio
    >>> [round(v, 2) for v in odds_ratio([[6, 2], [1, 4]])]
    [9.47, 0.54, 686.48]
    >>> [round(v, 2) for v in odds_ratio([[60, 40], [30, 70]])]
    [3.5, 1.95, 6.29]
    """
    observed = np.asarray(table, dtype=np.int64)
    if observed.shape != (2, 2):
        raise ValueError(f"odds_ratio: expected a 2x2 table; found shape {observed.shape}")
    if (observed.sum(axis=0) == 0).any() or (observed.sum(axis=1) == 0).any():
        return float("nan"), float("nan"), float("nan")
    exact = (observed == 0).any() or stats.contingency.expected_freq(observed).min() < min_expected
    result = stats.contingency.odds_ratio(observed, kind="conditional" if exact else "sample")
    interval = result.confidence_interval(confidence_level=confidence)
    return float(result.statistic), float(interval.low), float(interval.high)


def defined_mean(values) -> float:
    """The mean of the values that are defined: NaN values are left out; NaN when none is left.

    The one mean of the library's per-user measures (a window with no page has
    no share of visits: it is left out rather than counted as zero).

    Examples
    --------
    >>> from journey_utils.inference import defined_mean
    >>> defined_mean([1.0, float("nan"), 2.0]), defined_mean([])
    (1.5, nan)
    """
    values = np.asarray(values, dtype=float).reshape(-1)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")


def median_interval(values, confidence=0.95) -> tuple[float, float, float]:
    """Median and its distribution-free interval from order statistics.

    The interval is ``[x_(l), x_(n-l+1)]`` of the sorted values, with ``l`` the
    largest rank whose coverage, from the Binomial(n, 1/2) distribution, is at
    least ``confidence``. It needs no resampling and no distributional
    assumption; with fewer than 6 values (at 95%) no such ranks exist and the
    bounds are NaN.

    Returns
    -------
    (median, low, high) : tuple of float

    Examples
    --------
    >>> from journey_utils.inference import median_interval
    >>> median_interval(range(1, 11))
    (5.5, 2.0, 9.0)
    """
    x = np.sort(np.asarray(values, dtype=float))
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    median = float(np.median(x))
    rank = int(stats.binom.ppf((1 - confidence) / 2, n, 0.5))
    if rank < 1:
        return median, float("nan"), float("nan")
    return median, float(x[rank - 1]), float(x[n - rank])


def _dense_ranks(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    _, inverse = np.unique(np.r_[x, y], return_inverse=True)
    inverse = inverse.astype(np.int64)
    return inverse[: len(x)], inverse[len(x) :], int(inverse.max()) + 1 if len(inverse) else 1


def _superiority_statistic(size: int):
    """P(x > y) + P(x = y) / 2 for integer ranks below ``size``, vectorised over rows.

    Each row's ``x`` and ``y`` become histograms over the ranks (one ``bincount``
    for the whole batch, row ``i`` shifted by ``i * size``); the running sum of
    the ``y`` histogram gives, at every rank, how many ``y`` lie below it.
    """

    def statistic(x, y, axis=-1):
        x = np.moveaxis(np.asarray(x, dtype=np.int64), axis, -1)
        y = np.moveaxis(np.asarray(y, dtype=np.int64), axis, -1)
        batch = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1])
        y2 = y.reshape(-1, y.shape[-1])
        rows = x2.shape[0]
        shift = (np.arange(rows, dtype=np.int64) * size)[:, None]
        x_counts = np.bincount((x2 + shift).ravel(), minlength=rows * size).reshape(rows, size)
        y_counts = np.bincount((y2 + shift).ravel(), minlength=rows * size).reshape(rows, size)
        y_below = np.cumsum(y_counts, axis=1) - y_counts
        wins = (x_counts * (y_below + 0.5 * y_counts)).sum(axis=1)
        return (wins / (x2.shape[1] * y2.shape[1])).reshape(batch)

    return statistic


#: Above this many values in the two samples together, the effect's interval is DeLong's.
MAX_BOOTSTRAP = 5000
# Bound on the bootstrap's temporary arrays (elements per batch).
_BATCH_CELLS = 5_000_000


def delong_interval(x, y, confidence=0.95) -> tuple[float, float, float]:
    """Probability of superiority ``P(X > Y) + P(X = Y) / 2`` with DeLong's interval.

    DeLong, DeLong & Clarke-Pearson (1988): the variance comes from each value's
    placement among the other sample; the interval is normal, clipped to [0, 1].
    Deterministic and O(n log n), for large samples.

    Returns
    -------
    (superiority, low, high) : tuple of float

    Examples
    --------
    >>> from journey_utils.inference import delong_interval
    >>> [round(v, 3) for v in delong_interval([3, 4, 5, 6], [1, 2, 3, 4])]
    [0.875, 0.63, 1.0]
    """
    x = np.sort(np.asarray(x, dtype=float))
    y = np.sort(np.asarray(y, dtype=float))
    if len(x) < 2 or len(y) < 2:
        return float("nan"), float("nan"), float("nan")
    # Placement of each x among the y (share of y below it, ties halved), and of each y among the x.
    below_x = np.searchsorted(y, x, side="left")
    tied_x = np.searchsorted(y, x, side="right") - below_x
    placement_x = (below_x + 0.5 * tied_x) / len(y)
    above_y = len(x) - np.searchsorted(x, y, side="right")
    tied_y = np.searchsorted(x, y, side="right") - np.searchsorted(x, y, side="left")
    placement_y = (above_y + 0.5 * tied_y) / len(x)
    estimate = float(placement_x.mean())
    variance = placement_x.var(ddof=1) / len(x) + placement_y.var(ddof=1) / len(y)
    half = _z(confidence) * math.sqrt(variance)
    return estimate, max(0.0, estimate - half), min(1.0, estimate + half)


def superiority(x, y, *, confidence=0.95, n_resamples=N_RESAMPLES, seed=0, max_bootstrap=MAX_BOOTSTRAP) -> dict:
    """Mann–Whitney comparison of two samples with an effect size and its interval.

    The effect is the probability of superiority ``P(X > Y) + P(X = Y) / 2`` (the
    Mann–Whitney U divided by ``n_x * n_y``): 0.5 means neither sample tends to
    be larger. The p-value is the two-sided Mann–Whitney U test
    (:func:`scipy.stats.mannwhitneyu`). The interval is a seeded percentile
    bootstrap (:func:`scipy.stats.bootstrap`) when the samples hold at most
    ``max_bootstrap`` values together, and DeLong's interval
    (:func:`delong_interval`) for larger samples, where the bootstrap is costly
    and the normal approximation is accurate.

    Returns
    -------
    dict
        ``superiority``, ``low``, ``high``, ``interval`` (method), ``statistic`` (U
        of ``x``), ``p_value``, ``n_x``, ``n_y``; NaN values when a sample has
        fewer than 2 values.

    Examples
    --------
    >>> from journey_utils.inference import superiority
    >>> result = superiority([3, 4, 5, 6], [1, 2, 3, 4], n_resamples=999)
    >>> result["superiority"], result["statistic"]
    (0.875, 14.0)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    out = {"superiority": np.nan, "low": np.nan, "high": np.nan, "interval": "", "statistic": np.nan,
           "p_value": np.nan, "n_x": len(x), "n_y": len(y)}
    if len(x) < 2 or len(y) < 2:
        return out
    test = stats.mannwhitneyu(x, y, alternative="two-sided")
    out.update(superiority=float(test.statistic) / (len(x) * len(y)), statistic=float(test.statistic),
               p_value=float(test.pvalue))
    if len(np.unique(np.r_[x, y])) == 1:
        out.update(low=0.5, high=0.5, interval="none (all values equal)")
        return out
    if len(x) + len(y) > max_bootstrap:
        _, low, high = delong_interval(x, y, confidence)
        out.update(low=low, high=high, interval="DeLong")
        return out
    rank_x, rank_y, size = _dense_ranks(x, y)
    batch = max(1, _BATCH_CELLS // (size + len(x) + len(y)))
    with warnings.catch_warnings():
        # Near-degenerate resamples are expected for heavily tied data; the percentile
        # interval is still defined.
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        boot = stats.bootstrap((rank_x, rank_y), _superiority_statistic(size), n_resamples=n_resamples,
                               batch=batch, vectorized=True, method="percentile", confidence_level=confidence,
                               rng=np.random.default_rng(seed))
    out.update(low=float(boot.confidence_interval.low), high=float(boot.confidence_interval.high),
               interval=f"bootstrap ({n_resamples} resamples)")
    return out
