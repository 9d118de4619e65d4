"""Statistical building blocks checked against scipy, closed forms and published values."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from journey_utils import inference

Z95 = 1.959963984540054


def wilson_closed_form(k, n, z=Z95):
    """Wilson (1927) score interval, written out independently of the library."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = (z / (1 + z * z / n)) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


# Published values: Newcombe (1998), Statistics in Medicine 17:857-872, Table I (score method).
@pytest.mark.parametrize(
    "k, n, low, high",
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605),
     (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_published_values_and_closed_form(k, n, low, high):
    got_low, got_high = inference.wilson_interval(k, n)
    assert float(got_low) == pytest.approx(low, abs=5e-5)
    assert float(got_high) == pytest.approx(high, abs=5e-5)
    ref_low, ref_high = wilson_closed_form(k, n)
    assert float(got_low) == pytest.approx(ref_low, abs=1e-12)
    assert float(got_high) == pytest.approx(ref_high, abs=1e-12)


def test_wilson_vectorised_agrees_with_scipy_binomtest():
    ks, ns = [], []
    for n in (1, 2, 7, 30, 263):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            ks.append(k)
            ns.append(n)
    for confidence in (0.9, 0.95, 0.99):
        low, high = inference.wilson_interval(ks, ns, confidence)
        for k, n, lo, hi in zip(ks, ns, low, high):
            expected = stats.binomtest(k, n).proportion_ci(confidence, method="wilson")
            assert lo == pytest.approx(expected.low, abs=1e-12)
            assert hi == pytest.approx(expected.high, abs=1e-12)


def test_wilson_empty_group_is_nan_and_bad_confidence_rejected():
    low, high = inference.wilson_interval([0, 3], [0, 5])
    assert math.isnan(low[0]) and math.isnan(high[0])
    assert 0 < low[1] < high[1] < 1
    with pytest.raises(ValueError, match="confidence"):
        inference.wilson_interval(1, 2, confidence=95)


def test_newcombe_matches_published_example():
    # Newcombe (1998b), Statistics in Medicine 17:873-890, example (a): 56/70 - 48/80, method 10.
    low, high = inference.newcombe_interval(56, 70, 48, 80)
    assert float(low) == pytest.approx(0.0524, abs=5e-5)
    assert float(high) == pytest.approx(0.3339, abs=5e-5)


@settings(max_examples=60, deadline=None)
@given(n_a=st.integers(1, 60), n_b=st.integers(1, 60), data=st.data())
def test_newcombe_is_built_from_scipy_wilson_intervals(n_a, n_b, data):
    a = data.draw(st.integers(0, n_a))
    b = data.draw(st.integers(0, n_b))
    ia = stats.binomtest(a, n_a).proportion_ci(0.95, method="wilson")
    ib = stats.binomtest(b, n_b).proportion_ci(0.95, method="wilson")
    pa, pb = a / n_a, b / n_b
    low, high = inference.newcombe_interval(a, n_a, b, n_b)
    assert float(low) == pytest.approx(pa - pb - math.hypot(pa - ia.low, ib.high - pb), abs=1e-12)
    assert float(high) == pytest.approx(pa - pb + math.hypot(ia.high - pa, pb - ib.low), abs=1e-12)
    assert -1 - 1e-12 <= float(low) <= pa - pb <= float(high) <= 1 + 1e-12


def test_benjamini_hochberg_hand_computed():
    # Sorted 0.005, 0.01, 0.03, 0.04 -> p * m / rank = 0.02, 0.02, 0.04, 0.04 (already monotone).
    assert inference.adjust_pvalues([0.01, 0.04, 0.03, 0.005]).tolist() == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # Sorted 0.01, 0.02, 0.04 -> 0.03, 0.03, 0.04; the step-up minimum keeps rank 1 at 0.03.
    assert inference.adjust_pvalues([0.04, 0.01, 0.02]).tolist() == pytest.approx([0.04, 0.03, 0.03])
    # 0.5 * 2 / 1 = 1.0 for the larger, min(0.02 * 2, 1.0) for the smaller; missing values stay missing.
    adjusted = inference.adjust_pvalues([0.5, np.nan, 0.02])
    assert adjusted[0] == pytest.approx(0.5) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.04)
    assert inference.adjust_pvalues([]).tolist() == []


def test_chi_square_used_for_large_counts_matches_scipy():
    table = [[120, 80], [90, 110]]
    result = inference.independence_test(table)
    expected = stats.chi2_contingency(table)  # Yates' correction, scipy's default for 2x2
    assert result.test == "chi-square (Yates)"
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    wide = [[50, 60, 70], [80, 40, 30]]
    result = inference.independence_test(wide)
    assert result.test == "chi-square"
    assert result.p_value == pytest.approx(stats.chi2_contingency(wide).pvalue, rel=1e-12)


def test_small_two_by_two_uses_fisher_exact_hand_computed():
    table = [[8, 2], [1, 5]]
    result = inference.independence_test(table)
    assert result.test == "Fisher exact"
    assert result.min_expected < 5
    # Two-sided Fisher: sum of hypergeometric probabilities no larger than the observed table's.
    M, n, N = 16, 10, 9
    support = range(max(0, N + n - M), min(N, n) + 1)
    probabilities = [stats.hypergeom.pmf(x, M, n, N) for x in support]
    observed = stats.hypergeom.pmf(8, M, n, N)
    expected = sum(p for p in probabilities if p <= observed * (1 + 1e-7))
    assert result.p_value == pytest.approx(expected, rel=1e-9)
    assert result.p_value == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-12)


def exact_rxc_pvalue(table):
    """Freeman-Halton exact p-value by complete enumeration (small tables only)."""
    table = np.asarray(table)
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    total = table.sum()

    def log_probability(t):
        return (sum(math.lgamma(r + 1) for r in rows) + sum(math.lgamma(c + 1) for c in cols)
                - math.lgamma(total + 1) - sum(math.lgamma(x + 1) for x in t.ravel()))

    observed = log_probability(table)
    p = 0.0
    # Enumerate the first row (the second is determined) for a 2 x c table.
    for first in itertools.product(*(range(c + 1) for c in cols)):
        if sum(first) != rows[0]:
            continue
        t = np.array([first, cols - np.array(first)])
        lp = log_probability(t)
        if lp <= observed + 1e-9:
            p += math.exp(lp)
    return p


def test_small_two_by_k_uses_seeded_monte_carlo_close_to_exact_enumeration():
    table = [[3, 0, 1], [2, 9, 1]]
    result = inference.independence_test(table, n_resamples=20000, seed=3)
    assert result.test.startswith("Fisher exact (Monte Carlo")
    assert result.p_value == pytest.approx(exact_rxc_pvalue(table), abs=0.01)
    again = inference.independence_test(table, n_resamples=20000, seed=3)
    assert again == result  # seeded: reproducible


def test_degenerate_tables_have_nothing_to_test():
    assert inference.independence_test([[0, 0, 0], [5, 6, 7]]).p_value == 1.0
    assert inference.independence_test([[4, 0], [6, 0]]).test == "none (no variation)"
    # An all-zero column (a plan with no journeys) is dropped, not an error.
    dropped = inference.independence_test([[8, 2, 0], [1, 5, 0]])
    assert dropped.p_value == pytest.approx(stats.fisher_exact([[8, 2], [1, 5]]).pvalue)
    with pytest.raises(ValueError, match="non-negative integers"):
        inference.independence_test([[1, -1], [2, 3]])
    with pytest.raises(ValueError, match="2-D"):
        inference.independence_test([1, 2, 3])


def test_odds_ratio_exact_for_small_counts_and_woolf_for_large():
    small = [[6, 2], [1, 4]]
    ratio, low, high = inference.odds_ratio(small)
    expected = stats.contingency.odds_ratio(small, kind="conditional")
    interval = expected.confidence_interval(0.95)
    assert (ratio, low, high) == pytest.approx((expected.statistic, interval.low, interval.high))
    large = [[30, 70], [10, 90]]
    ratio, low, high = inference.odds_ratio(large)
    # Woolf: log odds ratio +- z * sqrt(sum of 1 / cells).
    log_or = math.log(30 * 90 / (70 * 10))
    se = math.sqrt(1 / 30 + 1 / 70 + 1 / 10 + 1 / 90)
    assert (ratio, low, high) == pytest.approx((math.exp(log_or), math.exp(log_or - Z95 * se),
                                                math.exp(log_or + Z95 * se)))
    assert low < ratio < high and ratio > 1  # more "with" in the first group
    # A zero cell takes the exact route, which handles it.
    assert inference.odds_ratio([[0, 50], [10, 40]])[0] == 0
    assert all(math.isnan(v) for v in inference.odds_ratio([[0, 0], [3, 4]]))


def test_median_interval_ranks_from_binomial_coverage():
    values = np.arange(1, 11) * 10.0
    median, low, high = inference.median_interval(values)
    assert (median, low, high) == (55.0, 20.0, 90.0)  # ranks 2 and 9 for n = 10
    assert all(math.isnan(v) for v in inference.median_interval([1, 2, 3, 4, 5])[1:])
    for n in range(6, 80):
        _, low, high = inference.median_interval(np.arange(1, n + 1))
        rank = int(low)
        assert high == n - rank + 1
        coverage = 1 - 2 * stats.binom.cdf(rank - 1, n, 0.5)
        narrower = 1 - 2 * stats.binom.cdf(rank, n, 0.5)
        assert coverage >= 0.95 > narrower


def brute_superiority(x, y):
    wins = sum((a > b) + 0.5 * (a == b) for a in x for b in y)
    return wins / (len(x) * len(y))


@settings(max_examples=60, deadline=None)
@given(x=st.lists(st.integers(0, 6), min_size=2, max_size=15), y=st.lists(st.integers(0, 6), min_size=2, max_size=15))
def test_superiority_agrees_with_mannwhitneyu_and_pair_counting(x, y):
    result = inference.superiority(x, y, n_resamples=199)
    assert result["superiority"] == pytest.approx(brute_superiority(x, y))
    if len(set(x) | set(y)) > 1:
        expected = stats.mannwhitneyu(x, y, alternative="two-sided")
        assert result["statistic"] == pytest.approx(expected.statistic)
        assert result["p_value"] == pytest.approx(expected.pvalue)
    assert result["low"] <= result["superiority"] + 1e-12 or result["low"] == pytest.approx(result["superiority"])


def test_bootstrap_statistic_counts_pairs_row_by_row():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 9, size=(7, 11))
    y = rng.integers(0, 9, size=(7, 4))
    got = inference._superiority_statistic(9)(x, y, axis=-1)
    assert got == pytest.approx([brute_superiority(a, b) for a, b in zip(x, y)])


def test_delong_interval_by_hand_and_against_the_bootstrap():
    x, y = [3, 4, 5, 6], [1, 2, 3, 4]
    # Placements of x among y: .625 .875 1 1; of y among x: 1 1 .875 .625 (variance 0.03125 each).
    estimate, low, high = inference.delong_interval(x, y)
    half = Z95 * math.sqrt(0.03125 / 4 + 0.03125 / 4)
    assert (estimate, low, high) == pytest.approx((0.875, 0.875 - half, 1.0))
    rng = np.random.default_rng(2)
    a, b = rng.normal(0.3, 1, 400).round(1), rng.normal(0, 1, 300).round(1)
    boot = inference.superiority(a, b, n_resamples=4999)
    large = inference.superiority(a, b, max_bootstrap=100)
    assert boot["interval"].startswith("bootstrap") and large["interval"] == "DeLong"
    assert large["superiority"] == boot["superiority"]
    assert (large["low"], large["high"]) == pytest.approx((boot["low"], boot["high"]), abs=0.01)


def test_superiority_is_deterministic_and_handles_tiny_samples():
    x, y = [0.1, 0.4, 0.35, 0.8, 0.9], [0.2, 0.25, 0.3, 0.1]
    assert inference.superiority(x, y, seed=1) == inference.superiority(x, y, seed=1)
    assert math.isnan(inference.superiority([1.0], y)["p_value"])
    same = inference.superiority([2, 2, 2], [2, 2])
    assert same["superiority"] == 0.5 and same["low"] == same["high"] == 0.5
