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
from scipy import stats

__all__ = [
    "TestResult",
    "wilson_interval",
    "newcombe_interval",
    "adjust_pvalues",
    "independence_test",
    "odds_ratio",
    "median_interval",
    "delong_interval",
    "superiority",
]

#: Below this expected count in any cell the chi-square approximation is not trusted.
MIN_EXPECTED = 5
#: Monte Carlo draws for exact tests on tables larger than 2x2.
N_RESAMPLES = 9999


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95); found {confidence!r}")
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
