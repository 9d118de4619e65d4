"""Checks that the library agrees with the plain-Python reference (tests/reference.py),
and the random session data the property tests draw.

Shared by the property, reconciliation and real-data tests. Every check
compares values *and* order: ranked outputs must come sorted by value descending,
then key ascending, exactly as ``reference.ranked`` sorts them.
"""

import math

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from scipy import stats

import journey_utils as ju
from tests import reference as ref

COLUMNS = ["user_id", "session_id", "subscription_type", "user_journey"]


def sessions_frame(rows, order=None) -> pd.DataFrame:
    """A sessions DataFrame from ``(user_id, session_id, plan, journey)`` tuples.

    ``order`` (a permutation of row positions) shuffles the rows, so that nothing
    can depend on file order.
    """
    rows = list(rows)
    if order is not None:
        rows = [rows[i] for i in order]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"user_id": "int64", "session_id": "int64", "subscription_type": "str", "user_journey": "str"})


def as_grouped(journeys: pd.DataFrame) -> dict:
    """Library output of ``group_by``/``preprocess`` in the reference's grouped form."""
    return {
        int(u): (str(p), str(j), int(n))
        for u, p, j, n in journeys[["user_id", "subscription_type", "user_journey", "n_sessions"]].itertuples(
            index=False, name=None
        )
    }


def assert_ranked(series: pd.Series, expected: dict, *, name: str, index_name: str) -> None:
    """``series`` holds exactly ``expected``, ranked as the reference ranks it."""
    assert isinstance(series, pd.Series)
    assert series.name == name
    assert series.index.name == index_name
    got = list(zip(series.index.tolist(), series.tolist()))
    assert got == ref.ranked(expected)


def assert_shares(series: pd.Series, expected: dict, n_journeys: int) -> None:
    assert series.name == "share"
    assert series.index.name == "page"
    want = ref.ranked(expected)
    assert series.index.tolist() == [k for k, _ in want]
    np.testing.assert_allclose(series.to_numpy(dtype=float), [v / n_journeys for _, v in want], rtol=0, atol=1e-15)


def assert_transitions(table: pd.DataFrame, expected: dict) -> None:
    assert list(table.columns) == ["page", "next_page", "count"]
    assert isinstance(table.index, pd.RangeIndex)
    got = [((p, q), c) for p, q, c in table.itertuples(index=False, name=None)]
    assert got == ref.ranked(expected)


def assert_metrics_agree(journeys: pd.DataFrame, grouped: dict, plan="All", *, sequence_lengths=(1, 2, 3, 4),
                         destinations=None) -> None:
    """Every metric of the library on ``journeys`` equals the reference on ``grouped``.

    ``destinations`` lists the pages whose destinations are compared; by default
    every page present plus one that is not.
    """
    expected = ref.journeys_for_plan(grouped, plan)
    assert_ranked(ju.page_count(journeys, plan), ref.page_count(expected), name="count", index_name="page")
    presence = ref.page_presence(expected)
    assert_ranked(ju.page_presence(journeys, plan), presence, name="journeys", index_name="page")
    if expected:
        assert_shares(ju.page_presence(journeys, plan, normalize=True), presence, len(expected))
    assert_transitions(ju.page_transitions(journeys, plan), ref.page_transitions(expected))
    for n in sequence_lengths:
        assert_ranked(ju.page_sequences(journeys, n=n, plan=plan), ref.page_sequences(expected, n=n),
                      name="journeys", index_name="sequence")
    pages = sorted(ref.page_count(expected)) + ["(a page nobody visits)"] if destinations is None else destinations
    for page in pages:
        assert_ranked(ju.page_destinations(journeys, page, plan=plan), ref.page_destinations(expected, page),
                      name="count", index_name="next_page")
    lengths = ju.journey_lengths(journeys, plan)
    assert lengths.name == "length"
    # Aligned with the selected rows of the input, in their order.
    wanted = [plan] if isinstance(plan, str) else plan
    selected = journeys if plan == "All" else journeys[journeys["subscription_type"].isin(wanted)]
    assert lengths.index.equals(selected.index)
    assert lengths.tolist() == ref.journey_lengths(selected["user_journey"].tolist())
    assert sorted(lengths.tolist()) == sorted(ref.journey_lengths(expected))
    mean, want = ju.journey_length(journeys, plan), ref.journey_length(expected)
    assert isinstance(mean, float)
    assert (math.isnan(mean) and math.isnan(want)) or math.isclose(mean, want, rel_tol=1e-12)


# Awkward on purpose: spaces inside names, accents, CJK, markup, names that sort
# around the separator ('A B' < 'A-B' < 'AB'), a name that is a prefix of another.
FIXED_PAGES = ["Homepage", "Log in", "Pricing", "Ünïcödé", "日本語", "<script>alert(1)</script>", "A B", "AB", "A",
               "nan", "NA", "None"]

# NUL is left out here: names holding it have their own (failing) unit tests in
# test_preprocess.py and test_metrics.py.
free_page = (
    st.text(st.characters(exclude_characters="-\x00", exclude_categories=("Cs",)), min_size=1, max_size=6)
    .map(str.strip)
    .filter(bool)
)
page_name = st.one_of(st.sampled_from(FIXED_PAGES), free_page)
plan_name = st.one_of(
    st.sampled_from(["Annual", "Monthly", "Quarterly", "Plan with spaces", "Ärger", "nan", "NA"]), free_page
)


@st.composite
def session_rows(draw, *, allow_empty=True, max_users=8):
    """Random sessions as (user_id, session_id, plan, journey) tuples, in random order."""
    vocabulary = draw(st.lists(page_name, min_size=1, max_size=6, unique=True))
    plans = draw(st.lists(plan_name, min_size=1, max_size=3, unique=True))
    users = draw(st.lists(st.integers(0, 2**62), min_size=1, max_size=max_users, unique=True))
    sessions_per_user = [draw(st.integers(1, 6)) for _ in users]
    session_ids = draw(st.lists(st.integers(0, 2**62), min_size=sum(sessions_per_user),
                                max_size=sum(sessions_per_user), unique=True))
    min_pages = 0 if allow_empty else 1
    rows, next_id = [], iter(session_ids)
    for user, count in zip(users, sessions_per_user):
        plan = draw(st.sampled_from(plans))
        for _ in range(count):
            pages = draw(st.lists(st.sampled_from(vocabulary), min_size=min_pages, max_size=7))
            rows.append((user, next(next_id), plan, "-".join(pages)))
    order = draw(st.permutations(range(len(rows))))
    rows = [rows[i] for i in order]
    return vocabulary, plans, rows


# ---------------------------------------------------------------------------
# Tests of shares computed directly (scipy, or plain enumeration)
# ---------------------------------------------------------------------------


def exact_2xk_pvalue(counts, sizes):
    """Fisher's exact (Freeman–Halton) p-value of a 2 x k table by full enumeration, in plain Python.

    Every first row with the observed total (each cell at most its column's
    size) is enumerated; the smaller row is the one enumerated, since either
    row determines the table.
    """
    counts = [int(c) for c, n in zip(counts, sizes) if n > 0]
    sizes = [int(n) for n in sizes if n > 0]
    if 2 * sum(counts) > sum(sizes):
        counts = [n - c for c, n in zip(counts, sizes)]
    total = sum(counts)
    denominator = math.log(math.comb(sum(sizes), total))

    def log_probability(row):
        return sum(math.log(math.comb(n, x)) for n, x in zip(sizes, row)) - denominator

    def rows(left, column):
        if column == len(sizes) - 1:
            if left <= sizes[column]:
                yield (left,)
            return
        for x in range(min(left, sizes[column]) + 1):
            for rest in rows(left - x, column + 1):
                yield (x, *rest)

    observed = log_probability(counts)
    p = 0.0
    for row in rows(total, 0):
        value = log_probability(row)
        if value <= observed + 1e-7:
            p += math.exp(value)
    return min(p, 1.0)


def scipy_test(counts, sizes):
    """(name, p-value) for one 2 x k table, the way the rule says, computed by scipy (or enumeration)."""
    table = np.array([counts, np.subtract(sizes, counts)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return "none (no variation)", 1.0
    if stats.contingency.expected_freq(table).min() >= 5:
        name = "chi-square (Yates)" if table.shape[1] == 2 else "chi-square"
        return name, stats.chi2_contingency(table).pvalue
    if table.shape[1] == 2:
        return "Fisher exact", stats.fisher_exact(table).pvalue
    return "Monte Carlo", exact_2xk_pvalue(table[0], table.sum(axis=0))
