"""The vectorised tests of shares against scipy called directly, at any table size.

Large counts (where scipy's own Monte Carlo sampler for r x c tables fails), 2 to 8
groups, groups of one buyer, and many tables at once.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from journey_utils import inference
from journey_utils.inference import holm_adjust, odds_ratio, odds_ratios, share_tests
from tests.agreement import exact_2xk_pvalue, scipy_test
from tests.reference import plain_holm

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


tables = st.integers(2, 8).flatmap(
    lambda k: st.lists(
        st.lists(st.integers(0, 12), min_size=k, max_size=k).flatmap(
            lambda sizes: st.tuples(st.tuples(*(st.integers(0, n) for n in sizes)), st.just(tuple(sizes)))),
        min_size=1, max_size=6)
)


@SETTINGS
@given(batch=tables)
def test_small_tables_of_2_to_8_groups_agree_with_scipy(batch):
    counts = np.array([c for c, _ in batch])
    sizes = np.array([n for _, n in batch])
    draws = 4999
    got = share_tests(counts, sizes, n_resamples=draws, seed=3)
    for (c, n), row in zip(batch, got.itertuples()):
        name, p = scipy_test(c, n)
        if name == "Monte Carlo":
            assert row.test == f"Fisher exact (Monte Carlo, {draws} draws)"
            # Within five standard errors of the exact p-value, plus the (1 + k) / (1 + n) offset.
            assert abs(row.p_value - p) <= 5 * np.sqrt(p * (1 - p) / draws) + 2 / draws
        else:
            assert row.test == name
            assert row.p_value == pytest.approx(p, rel=1e-6, abs=1e-12)


def test_large_counts_use_the_chi_square_test_and_match_scipy():
    rng = np.random.default_rng(0)
    for k in range(2, 9):
        sizes = rng.integers(100_000, 2_000_000, size=(20, k))
        counts = (sizes * rng.uniform(0.1, 0.9, size=(20, 1))).astype(np.int64)
        got = share_tests(counts, sizes)
        for c, n, row in zip(counts, sizes, got.itertuples()):
            table = np.array([c, n - c])
            result = stats.chi2_contingency(table)
            assert row.test == ("chi-square (Yates)" if k == 2 else "chi-square")
            assert row.statistic == pytest.approx(result.statistic, rel=1e-9)
            assert row.p_value == pytest.approx(result.pvalue, rel=1e-6, abs=1e-300)


def test_rare_feature_among_large_plans_works_where_scipy_monte_carlo_fails():
    # A run of pages seen in 6 journeys of three plans of a million-session export.
    counts = np.array([[3, 1, 2], [0, 0, 6], [1, 0, 0]])
    sizes = np.array([400_000, 250_000, 350_000])
    with pytest.raises(ValueError, match="cannot reshape"):
        stats.fisher_exact(np.array([counts[0], sizes - counts[0]]),
                           method=stats.MonteCarloMethod(n_resamples=999, rng=np.random.default_rng(0)))
    got = share_tests(counts, sizes, n_resamples=9999, seed=1)
    assert got["test"].str.startswith("Fisher exact (Monte Carlo").all()
    for c, row in zip(counts, got.itertuples()):
        p = exact_2xk_pvalue(c, sizes)
        assert abs(row.p_value - p) <= 5 * np.sqrt(p * (1 - p) / 9999) + 2 / 9999


def test_large_two_group_tables_with_a_small_cell_use_fisher_exact_like_scipy():
    a = np.array([0, 1, 3, 2, 2])
    n_a = np.array([1_000_000, 2_500_000, 900_000, 10, 3])
    b = np.array([4, 2, 0, 3_000, 900_000])
    n_b = np.array([3_000_000, 1_000_000, 800_000, 2_000_000, 1_000_000])
    got = share_tests(np.column_stack([a, b]), np.column_stack([n_a, n_b]))
    for i, row in enumerate(got.itertuples()):
        table = [[a[i], b[i]], [n_a[i] - a[i], n_b[i] - b[i]]]
        assert row.test == "Fisher exact"
        assert row.p_value == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-6)


def test_groups_of_one_buyer():
    # One buyer in a plan: that column's expected counts are below 1, so the exact test decides.
    counts = np.array([[1, 40, 30], [0, 40, 30], [1, 0, 0]])
    sizes = np.array([1, 80, 60])
    got = share_tests(counts, sizes, n_resamples=9999)
    for c, row in zip(counts, got.itertuples()):
        p = exact_2xk_pvalue(c, sizes)
        assert abs(row.p_value - p) <= 5 * np.sqrt(p * (1 - p) / 9999) + 2 / 9999
    two = share_tests([[1, 40]], [[1, 80]])
    assert two["test"].iloc[0] == "Fisher exact"
    assert two["p_value"].iloc[0] == pytest.approx(stats.fisher_exact([[1, 40], [0, 40]]).pvalue)
    lonely = share_tests([[1, 0], [0, 0]], [[1, 0], [1, 0]])
    assert lonely["test"].tolist() == ["none (no variation)"] * 2 and lonely["p_value"].tolist() == [1.0, 1.0]


def test_independence_test_agrees_with_share_tests_and_scipy():
    result = inference.independence_test([[3, 1, 2], [399_997, 249_999, 349_998]], n_resamples=999)
    assert result.test.startswith("Fisher exact (Monte Carlo")
    assert 0 < result.p_value <= 1
    table = [[30, 5], [10, 25]]
    assert inference.independence_test(table).p_value == pytest.approx(stats.chi2_contingency(table).pvalue)


def test_monte_carlo_is_seeded_and_counts_the_observed_table():
    counts, sizes = [[2, 0, 0]], [3, 3, 3]
    first = share_tests(counts, sizes, n_resamples=199, seed=5)
    assert first.equals(share_tests(counts, sizes, n_resamples=199, seed=5))
    assert first["p_value"].iloc[0] >= 1 / 200


@SETTINGS
@given(values=st.lists(st.tuples(st.integers(0, 4), st.floats(0, 1)), min_size=1, max_size=30))
def test_holm_within_groups_matches_plain_holm(values):
    groups = np.array([g for g, _ in values])
    p = np.array([v for _, v in values])
    got = holm_adjust(p, groups)
    for g in set(groups.tolist()):
        mine = groups == g
        assert got[mine] == pytest.approx(plain_holm(p[mine].tolist()))


def test_holm_keeps_nan():
    assert np.isnan(holm_adjust([np.nan, 0.01], [0, 0])[0])
    assert holm_adjust([np.nan, 0.01], [0, 0])[1] == pytest.approx(0.01)


def test_vectorised_odds_ratios_equal_the_one_by_one_computation():
    rng = np.random.default_rng(2)
    n_a, n_b = rng.integers(1, 300, 40), rng.integers(1, 300, 40)
    a, b = rng.integers(0, n_a + 1), rng.integers(0, n_b + 1)
    got = np.column_stack(odds_ratios(a, n_a, b, n_b))
    for i in range(40):
        expected = odds_ratio([[a[i], n_a[i] - a[i]], [b[i], n_b[i] - b[i]]])
        assert got[i] == pytest.approx(expected, nan_ok=True)
