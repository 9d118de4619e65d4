"""Between-plan comparisons checked against plain loops and direct scipy calls."""

from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from journey_utils import compare, inference
from tests import reference as ref

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAGES = ["Home page", "Pricing", "Log in", "Checkout"]
PLANS = ["Gold", "Silver", "Bronze"]

journeys_strategy = st.lists(
    st.tuples(st.sampled_from(PLANS), st.lists(st.sampled_from(PAGES), min_size=0, max_size=7)),
    min_size=2,
    max_size=40,
).filter(lambda rows: len({plan for plan, _ in rows}) >= 2)


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": np.arange(len(rows), dtype=np.int64),
            "subscription_type": pd.array([plan for plan, _ in rows], dtype="str"),
            "user_journey": pd.array(["-".join(pages) for _, pages in rows], dtype="str"),
        }
    )


def plan_order(rows):
    sizes = Counter(plan for plan, _ in rows)
    return sorted(sizes, key=lambda p: (-sizes[p], p))


def by_plan(rows):
    return {plan: [pages for p, pages in rows if p == plan] for plan in plan_order(rows)}


def journeys_of(lists):
    return ["-".join(pages) for pages in lists]


def check_feature_table(table, key, counts_by_plan, sizes, plans, n_resamples=199):
    """Counts, denominators, tests and adjustment of a compare_* table, recomputed by hand."""
    features = sorted({f for counts in counts_by_plan.values() for f in counts})
    assert set(table[key]) == set(features)
    p_values = {}
    for feature in features:
        rows = table[table[key] == feature]
        assert rows["plan"].tolist() == plans
        counts = [counts_by_plan[p].get(feature, 0) for p in plans]
        assert rows["count"].tolist() == counts
        assert rows["n"].tolist() == [sizes[p] for p in plans]
        table_2xk = np.array([counts, [sizes[p] - c for p, c in zip(plans, counts)]])
        expected = inference.independence_test(table_2xk, n_resamples=n_resamples)
        assert rows["p_value"].iloc[0] == pytest.approx(expected.p_value)
        assert rows["test"].iloc[0] == expected.test
        p_values[feature] = expected.p_value
    adjusted = dict(zip(p_values, inference.adjust_pvalues(list(p_values.values()))))
    assert table.groupby(key)["p_adjusted"].first().to_dict() == pytest.approx(adjusted)
    # Ranked: features by total journeys descending, then name.
    totals = table.groupby(key, sort=False)["count"].sum()
    assert list(totals.index) == [f for f, _ in ref.ranked(totals.to_dict())]


# ---------------------------------------------------------------------------
# presence, sequences, destinations
# ---------------------------------------------------------------------------


@SETTINGS
@given(rows=journeys_strategy)
def test_compare_presence_matches_reference_counts_and_tests(rows):
    table = compare.compare_presence(frame(rows), n_resamples=199, odds_ratios=False)
    groups = by_plan(rows)
    plans = plan_order(rows)
    counts = {p: ref.page_presence(journeys_of(groups[p])) for p in plans}
    sizes = {p: len(groups[p]) for p in plans}
    check_feature_table(table, "page", counts, sizes, plans)
    assert table["share"].to_numpy() == pytest.approx((table["count"] / table["n"]).to_numpy())
    assert (table["unit"] == "journeys").all()


def test_two_plans_give_the_two_plan_contrast():
    rows = ([("Annual", ["A", "B"])] * 30 + [("Annual", ["B"])] * 10
            + [("Monthly", ["A"])] * 5 + [("Monthly", ["B"])] * 25)
    table = compare.compare_presence(frame(rows))
    a = table[(table["page"] == "A") & (table["plan"] == "Annual")].iloc[0]
    assert a["versus"] == "Monthly"
    assert a["difference"] == pytest.approx(30 / 40 - 5 / 30)
    low, high = inference.newcombe_interval(30, 40, 5, 30)
    assert (a["difference_low"], a["difference_high"]) == pytest.approx((float(low), float(high)))
    odds = stats.contingency.odds_ratio([[30, 10], [5, 25]], kind="sample")  # large counts: sample estimate
    assert a["odds_ratio"] == pytest.approx(odds.statistic)
    interval = odds.confidence_interval(0.95)
    assert (a["odds_ratio_low"], a["odds_ratio_high"]) == pytest.approx((interval.low, interval.high))
    assert a["test"] == "chi-square (Yates)"
    assert a["p_value"] == pytest.approx(stats.chi2_contingency([[30, 5], [10, 25]]).pvalue)
    m = table[(table["page"] == "A") & (table["plan"] == "Monthly")].iloc[0]
    assert m["difference"] == pytest.approx(-a["difference"])
    assert m["odds_ratio"] == pytest.approx(1 / a["odds_ratio"])


def test_small_plan_gets_exact_test_and_small_sample_flag():
    rows = ([("Big", ["Pricing"])] * 40 + [("Big", ["Home"])] * 60 + [("Tiny", ["Pricing"])] * 4
            + [("Tiny", ["Home"])] * 1 + [("Mid", ["Pricing"])] * 20 + [("Mid", ["Home"])] * 30)
    three = compare.compare_presence(frame(rows), seed=1)
    pricing = three[three["page"] == "Pricing"]
    assert pricing["test"].iloc[0].startswith("Fisher exact (Monte Carlo")
    assert pricing.set_index("plan")["small_sample"].to_dict() == {"Big": False, "Mid": False, "Tiny": True}
    assert three["p_value"].tolist() == compare.compare_presence(frame(rows), seed=1)["p_value"].tolist()
    two = compare.compare_presence(frame(rows), plans=["Big", "Tiny"])
    pricing = two[two["page"] == "Pricing"]
    assert pricing["test"].iloc[0] == "Fisher exact"
    assert pricing["p_value"].iloc[0] == pytest.approx(stats.fisher_exact([[40, 4], [60, 1]]).pvalue)


@SETTINGS
@given(rows=journeys_strategy, n=st.integers(1, 3), min_journeys=st.integers(1, 3))
def test_compare_sequences_matches_reference(rows, n, min_journeys):
    table = compare.compare_sequences(frame(rows), n=n, min_journeys=min_journeys, n_resamples=199)
    groups = by_plan(rows)
    plans = plan_order(rows)
    counts = {p: ref.page_sequences(journeys_of(groups[p]), n) for p in plans}
    totals = Counter()
    for c in counts.values():
        totals.update(c)
    kept = {f for f, total in totals.items() if total >= min_journeys}
    counts = {p: {f: c for f, c in counts[p].items() if f in kept} for p in plans}
    check_feature_table(table, "sequence", counts, {p: len(groups[p]) for p in plans}, plans)


def plain_destinations(lists, page):
    leaving, counts = 0, Counter()
    for pages in lists:
        nexts = {pages[i + 1] for i in range(len(pages) - 1) if pages[i] == page}
        leaving += bool(nexts)
        counts.update(nexts)
    return leaving, counts


@SETTINGS
@given(rows=journeys_strategy, page=st.sampled_from(PAGES))
def test_compare_destinations_counts_journeys(rows, page):
    table = compare.compare_destinations(frame(rows), page, n_resamples=199, odds_ratios=False)
    groups = by_plan(rows)
    plans = plan_order(rows)
    found = {p: plain_destinations(groups[p], page) for p in plans}
    check_feature_table(table, "next_page", {p: found[p][1] for p in plans}, {p: found[p][0] for p in plans}, plans)


@SETTINGS
@given(rows=journeys_strategy)
def test_plan_contrasts_are_scipy_two_by_two_tests(rows):
    comparison = compare.compare_presence(frame(rows), odds_ratios=False, n_resamples=199)
    contrasts = compare.plan_contrasts(comparison)
    plans = plan_order(rows)
    groups = by_plan(rows)
    counts = {p: ref.page_presence(journeys_of(groups[p])) for p in plans}
    assert len(contrasts) == comparison["page"].nunique() * len(list(combinations(plans, 2)))
    for row in contrasts.itertuples():
        a, b = counts[row.plan_a].get(row.page, 0), counts[row.plan_b].get(row.page, 0)
        n_a, n_b = len(groups[row.plan_a]), len(groups[row.plan_b])
        assert (row.count_a, row.n_a, row.count_b, row.n_b) == (a, n_a, b, n_b)
        table = np.array([[a, n_a - a], [b, n_b - b]])
        table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
        if table.shape != (2, 2):
            assert row.p_value == 1.0
        elif stats.contingency.expected_freq(table).min() >= 5:
            assert row.p_value == pytest.approx(stats.chi2_contingency(table).pvalue)
        else:
            assert row.p_value == pytest.approx(stats.fisher_exact(table).pvalue)
        assert row.difference == pytest.approx(a / n_a - b / n_b)
    assert contrasts["p_adjusted"].to_numpy() == pytest.approx(inference.adjust_pvalues(contrasts["p_value"]))


def test_plans_discovered_or_chosen_with_clear_errors():
    data = frame([("Zeta", ["A"]), ("Alpha", ["B"]), ("Zeta", ["B"])])
    assert compare.plans_in(data) == ["Zeta", "Alpha"]
    assert compare.plans_in(data, ["Alpha", "Zeta"]) == ["Alpha", "Zeta"]
    with pytest.raises(ValueError, match="unknown plan 'Gold'; plans present: Zeta, Alpha"):
        compare.compare_presence(data, plans=["Gold", "Zeta"])
    with pytest.raises(ValueError, match="at least 2 plans"):
        compare.compare_presence(frame([("Only", ["A"])]))
    with pytest.raises(ValueError, match="column 'plan' not found"):
        compare.compare_presence(data, plan_column="plan")
    with pytest.raises(ValueError, match="confidence must be"):
        compare.compare_presence(data, confidence=95)


# ---------------------------------------------------------------------------
# positions
# ---------------------------------------------------------------------------


def plain_positions(lists, page, measure="position"):
    out = []
    for pages in lists:
        if page in pages:
            step = pages.index(page) + 1
            out.append(step if measure == "step" else (step - 1) / (len(pages) - 1) if len(pages) > 1 else 0.0)
    return out


@SETTINGS
@given(rows=journeys_strategy, measure=st.sampled_from(["position", "step"]))
def test_position_contrasts_are_mann_whitney_on_plain_positions(rows, measure):
    got = compare.position_contrasts(frame(rows), measure=measure, n_resamples=99)
    groups = by_plan(rows)
    plans = plan_order(rows)
    present = sorted({page for _, pages in rows for page in pages})
    assert got["page"].drop_duplicates().tolist() == present
    for row in got.itertuples():
        x = plain_positions(groups[row.plan_a], row.page, measure)
        y = plain_positions(groups[row.plan_b], row.page, measure)
        assert (row.count_a, row.count_b) == (len(x), len(y))
        assert (row.n_a, row.n_b) == (len(groups[row.plan_a]), len(groups[row.plan_b]))
        if len(x) >= 2 and len(y) >= 2:
            if len(set(x) | set(y)) > 1:
                assert row.p_value == pytest.approx(stats.mannwhitneyu(x, y).pvalue)
            wins = sum((a > b) + 0.5 * (a == b) for a in x for b in y) / (len(x) * len(y))
            assert row.effect == pytest.approx(2 * wins - 1)
            assert row.median_a == pytest.approx(np.median(x))
        else:
            assert np.isnan(row.p_value)
    if present:
        assert list(dict.fromkeys(zip(got["plan_a"], got["plan_b"]))) == list(combinations(plans, 2))


def test_compare_positions_medians_and_intervals():
    rows = [("Gold", ["P"] + ["x"] * k) for k in range(1, 12)] + [("Silver", ["x"] * k + ["P"]) for k in range(1, 9)]
    table = compare.compare_positions(frame(rows), "P").set_index("plan")
    assert table.loc["Gold", "count"] == 11 and table.loc["Gold", "median_step"] == 1
    silver_steps = [k + 1 for k in range(1, 9)]
    assert table.loc["Silver", "median_step"] == np.median(silver_steps)
    assert table.loc["Silver", "median_position"] == 1.0
    median, low, high = inference.median_interval(silver_steps)
    assert (table.loc["Silver", "median_step_low"], table.loc["Silver", "median_step_high"]) == (low, high)
    assert table["small_sample"].all()


# ---------------------------------------------------------------------------
# top differences
# ---------------------------------------------------------------------------


def planted_differences():
    """Gold sees Coupon far more often and reaches Pricing first; Silver reaches it last."""
    rng = np.random.default_rng(11)
    rows = []
    for i in range(120):
        coupon = ["Coupon"] if rng.random() < 0.7 else []
        rows.append(("Gold", ["Pricing", "Home", *coupon, "Checkout"]))
    for i in range(100):
        coupon = ["Coupon"] if rng.random() < 0.1 else []
        rows.append(("Silver", ["Home", *coupon, "Checkout", "Pricing"]))
    for i in range(12):
        rows.append(("Bronze", ["Home", "Pricing", "Checkout"]))
    return frame(rows)


def test_top_differences_ranks_planted_differences_and_adjusts_over_everything():
    data = planted_differences()
    top = compare.top_differences(data, top=None, n_resamples=199)
    assert top["significant"].all() and (top["p_adjusted"] <= 0.05).all()
    confident = top[~top["small_sample"]]
    assert top["small_sample"].tolist() == sorted(top["small_sample"].tolist())  # small samples last
    assert (confident["strength"].diff().dropna() <= 1e-12).all()
    first = confident.iloc[0]
    assert (first["kind"], first["feature"]) in {("position", "Pricing"), ("presence", "Coupon")}
    coupon = top[(top["kind"] == "presence") & (top["feature"] == "Coupon") & (top["plan_b"] == "Silver")].iloc[0]
    assert coupon["plan_a"] == "Gold" and coupon["effect"] > 0.4
    pricing = top[(top["kind"] == "position") & (top["feature"] == "Pricing") & (top["plan_b"] == "Silver")].iloc[0]
    assert pricing["effect"] == pytest.approx(-1.0)  # every Gold journey reaches Pricing earlier
    assert top["rank"].tolist() == list(range(1, len(top) + 1))
    # The adjustment spans every contrast gathered, not each kind on its own.
    presence = compare.plan_contrasts(compare.compare_presence(data, odds_ratios=False), odds_ratios=False)
    sequences = compare.plan_contrasts(compare.compare_sequences(data), odds_ratios=False)
    positions = compare.position_contrasts(data, n_resamples=199)
    every = np.concatenate([presence["p_value"], sequences["p_value"], positions["p_value"].dropna()])
    family = dict(zip(every, inference.adjust_pvalues(every)))
    assert coupon["p_adjusted"] == pytest.approx(family[coupon["p_value"]])


def test_top_differences_widens_the_intervals_of_what_it_keeps():
    data = planted_differences()
    top = compare.top_differences(data, top=None, n_resamples=199)
    presence = compare.plan_contrasts(compare.compare_presence(data, odds_ratios=False), odds_ratios=False)
    sequences = compare.plan_contrasts(compare.compare_sequences(data), odds_ratios=False)
    positions = compare.position_contrasts(data, n_resamples=199)
    tested = len(presence) + len(sequences) + positions["p_value"].notna().sum()
    # R kept of m tested: 1 - R * 0.05 / m (false-coverage-rate intervals).
    level = 1 - len(top) * 0.05 / tested
    assert 0.95 < level < 1 and top["ci_level"].to_numpy() == pytest.approx(level)
    shares = top[top["kind"] != "position"]
    low, high = inference.newcombe_interval(shares["count_a"], shares["n_a"], shares["count_b"], shares["n_b"], level)
    assert shares["effect_low"].to_numpy() == pytest.approx(low)
    assert shares["effect_high"].to_numpy() == pytest.approx(high)
    plain = compare.plan_contrasts(compare.compare_presence(data, odds_ratios=False), odds_ratios=False)
    coupon = top[(top["kind"] == "presence") & (top["feature"] == "Coupon") & (top["plan_b"] == "Silver")].iloc[0]
    unadjusted = plain[(plain["page"] == "Coupon") & (plain["plan_a"] == "Gold") & (plain["plan_b"] == "Silver")]
    assert coupon["effect_low"] < unadjusted["difference_low"].iloc[0]
    assert unadjusted["difference_high"].iloc[0] < coupon["effect_high"]
    pricing = top[(top["kind"] == "position") & (top["feature"] == "Pricing")]
    assert len(pricing)
    again = compare.position_contrasts(data, ["Pricing"], confidence=level, n_resamples=199)
    again = again.set_index(["plan_a", "plan_b"])
    for _, row in pricing.iterrows():
        expected = again.loc[(row["plan_a"], row["plan_b"])]
        assert (row["effect_low"], row["effect_high"]) == pytest.approx((expected["effect_low"], expected["effect_high"]))


def test_top_differences_is_empty_without_real_differences_and_checks_kinds():
    rows = [(plan, ["Home", "Pricing"]) for plan in ("Gold", "Silver") for _ in range(40)]
    top = compare.top_differences(frame(rows))
    assert top.empty and list(top.columns) == compare.TOP_COLUMNS
    with pytest.raises(ValueError, match="unknown kind 'pages'"):
        compare.top_differences(frame(rows), kinds=["pages"])


def test_top_differences_destinations():
    rows = ([("Gold", ["Pricing", "Checkout"])] * 40 + [("Silver", ["Pricing", "Home"])] * 40)
    top = compare.top_differences(frame(rows), kinds=[], destinations="Pricing")
    assert set(top["kind"]) == {"destination"}
    assert set(top["feature"]) == {"Pricing -> Checkout", "Pricing -> Home"}
    assert set(top["denominator"]) == {"journeys that leave Pricing"}


# ---------------------------------------------------------------------------
# session windows
# ---------------------------------------------------------------------------


def sessions_frame(rows):
    return pd.DataFrame(rows, columns=["user_id", "session_id", "subscription_type", "user_journey"]).astype(
        {"user_id": "int64", "session_id": "int64", "subscription_type": "str", "user_journey": "str"}
    )


session_rows = st.lists(
    st.tuples(st.integers(1, 8), st.lists(st.sampled_from(PAGES), min_size=1, max_size=4)),
    min_size=1,
    max_size=60,
)


def with_plans(raw):
    plan_of = {u: PLANS[u % 2] for u in range(1, 9)}
    return [(u, i, plan_of[u], "-".join(pages)) for i, (u, pages) in enumerate(raw)]


@SETTINGS
@given(raw=session_rows, n=st.integers(1, 3), later=st.sampled_from(["last", "rest"]))
def test_window_journeys_match_reference_grouping(raw, n, later):
    rows = with_plans(raw)
    got = compare.window_journeys(sessions_frame(rows), n, later=later)
    sessions_per_user = Counter(u for u, *_ in rows)
    minimum = 2 * n if later == "last" else n + 1
    kept = sorted(u for u, k in sessions_per_user.items() if k >= minimum)
    assert got["user_id"].tolist() == kept
    early = ref.preprocess(rows, sessions=n, count_from="first")
    if later == "last":
        late = ref.preprocess(rows, sessions=n, count_from="last")
    else:
        rank = {}
        rest = []
        for row in sorted(rows, key=lambda r: (r[0], r[1])):
            rank[row[0]] = rank.get(row[0], 0) + 1
            if rank[row[0]] > n:
                rest.append(row)
        late = ref.preprocess(rest)
    assert got["early"].tolist() == [early[u][1] for u in kept]
    assert got["later"].tolist() == [late[u][1] for u in kept]


def test_session_windows_paired_tests_by_hand():
    rows = []
    session = 0
    for user in range(40):
        plan = "Gold" if user < 25 else "Silver"
        journeys = ["Home-Courses", "Home", "Courses-Home", "Log in", "Log in-Checkout", "Checkout"]
        if user % 5 == 0:
            journeys = ["Log in", "Home", "Home", "Home", "Courses", "Home"]
        for journey in journeys:
            rows.append((user, session, plan, journey))
            session += 1
    data = sessions_frame(rows)
    table = compare.session_windows(data, n=3)
    assert table["plan"].drop_duplicates().tolist() == ["All", "Gold", "Silver"]
    login = table[(table["plan"] == "All") & (table["metric"] == "presence") & (table["page"] == "Log in")].iloc[0]
    # 32 users gain Log in, 8 lose it: exact McNemar = two-sided binomial on the discordant pairs.
    assert (login["first"], login["last"]) == (8 / 40, 32 / 40)
    assert login["p_value"] == pytest.approx(stats.binomtest(32, 40).pvalue)
    length = table[(table["plan"] == "All") & (table["metric"] == "pages per journey")].iloc[0]
    windows = compare.window_journeys(data, 3)
    first = windows["early"].str.count("-") + 1
    last = windows["later"].str.count("-") + 1
    assert length["p_value"] == pytest.approx(stats.wilcoxon(last - first).pvalue)
    assert table["p_adjusted"].to_numpy() == pytest.approx(inference.adjust_pvalues(table["p_value"]))
    assert set(table.loc[table["plan"] == "Silver", "n"]) == {15}
    assert table.loc[table["plan"] == "Silver", "small_sample"].all()


def test_comparisons_leave_their_input_unchanged():
    data = planted_differences()
    copy = data.copy(deep=True)
    compare.compare_presence(data)
    compare.compare_sequences(data)
    compare.compare_destinations(data, "Home")
    compare.position_contrasts(data, "Pricing", n_resamples=99)
    compare.compare_positions(data, "Pricing")
    pd.testing.assert_frame_equal(data, copy)


# ---------------------------------------------------------------------------
# reference data
# ---------------------------------------------------------------------------


def test_reference_presence_and_sequences_agree_with_reference_implementation(reference_lists, reference_journeys):
    plans = plan_order(reference_lists)
    groups = by_plan(reference_lists)
    sizes = {p: len(groups[p]) for p in plans}
    presence = compare.compare_presence(reference_journeys, odds_ratios=False)
    check_feature_table(presence, "page", {p: ref.page_presence(journeys_of(groups[p])) for p in plans}, sizes, plans,
                        n_resamples=inference.N_RESAMPLES)
    sequences = compare.compare_sequences(reference_journeys, n=3, min_journeys=10)
    counts = {p: ref.page_sequences(journeys_of(groups[p]), 3) for p in plans}
    totals = Counter()
    for c in counts.values():
        totals.update(c)
    counts = {p: {f: c for f, c in counts[p].items() if totals[f] >= 10} for p in plans}
    check_feature_table(sequences, "sequence", counts, sizes, plans, n_resamples=inference.N_RESAMPLES)
    destinations = compare.compare_destinations(reference_journeys, "Pricing", odds_ratios=False)
    found = {p: plain_destinations(groups[p], "Pricing") for p in plans}
    check_feature_table(destinations, "next_page", {p: found[p][1] for p in plans}, {p: found[p][0] for p in plans},
                        plans, n_resamples=inference.N_RESAMPLES)


def test_reference_positions_and_top_differences(reference_lists, reference_journeys):
    groups = by_plan(reference_lists)
    got = compare.position_contrasts(reference_journeys, "Pricing", n_resamples=499)
    for row in got.itertuples():
        x = plain_positions(groups[row.plan_a], "Pricing")
        y = plain_positions(groups[row.plan_b], "Pricing")
        assert row.p_value == pytest.approx(stats.mannwhitneyu(x, y).pvalue)
        assert row.effect_low <= row.effect <= row.effect_high
    top = compare.top_differences(reference_journeys, top=5, n_resamples=499)
    assert len(top) == 5 and top["significant"].all()
    for row in top[top["kind"] == "presence"].itertuples():
        a = sum(row.feature in pages for pages in groups[row.plan_a])
        b = sum(row.feature in pages for pages in groups[row.plan_b])
        assert (row.count_a, row.count_b) == (a, b)
        assert row.effect == pytest.approx(a / len(groups[row.plan_a]) - b / len(groups[row.plan_b]))


def test_reference_session_windows(reference_sessions, reference_rows):
    table = compare.session_windows(reference_sessions, n=3)
    windows = compare.window_journeys(reference_sessions, 3)
    per_user = Counter(u for u, *_ in reference_rows)
    assert len(windows) == sum(k >= 6 for k in per_user.values())
    early = ref.preprocess(reference_rows, sessions=3, count_from="first")
    late = ref.preprocess(reference_rows, sessions=3, count_from="last")
    users = windows["user_id"].tolist()
    checkout_first = np.mean(["Checkout" in ref.split_journey(early[u][1]) for u in users])
    checkout_last = np.mean(["Checkout" in ref.split_journey(late[u][1]) for u in users])
    row = table[(table["plan"] == "All") & (table["metric"] == "presence") & (table["page"] == "Checkout")].iloc[0]
    assert (row["first"], row["last"]) == pytest.approx((checkout_first, checkout_last))
