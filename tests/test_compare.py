"""Between-plan comparisons checked against plain loops and direct scipy calls."""

from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import journey_utils as ju
from journey_utils import compare, inference
from tests import reference as ref
from tests.agreement import exact_2xk_pvalue, scipy_test

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
    """Every plan, sorted by name (the library's order for every plan)."""
    return sorted({plan for plan, _ in rows})


def by_plan(rows):
    return {plan: [pages for p, pages in rows if p == plan] for plan in plan_order(rows)}


def journeys_of(lists):
    return ["-".join(pages) for pages in lists]


def plain_test(counts, sizes):
    """(test name, p-value) of one feature's 2 x k table, by scipy directly (exact enumeration for Monte Carlo)."""
    return scipy_test(counts, sizes)


def check_feature_table(table, key, counts_by_plan, sizes, plans, n_resamples=199, min_journeys=1):
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
        first = rows.iloc[0]
        if sum(counts) < min_journeys:
            assert not rows["tested"].any() and rows["p_value"].isna().all() and not rows["significant"].any()
            assert first["test"] == f"not tested (in fewer than {min_journeys} journeys)"
            continue
        assert rows["tested"].all()
        name, p = plain_test(counts, [sizes[q] for q in plans])
        if name == "Monte Carlo":
            assert first["test"] == f"Fisher exact (Monte Carlo, {n_resamples} draws)"
            assert abs(first["p_value"] - p) <= 5 * np.sqrt(p * (1 - p) / n_resamples) + 2 / n_resamples
        else:
            assert first["test"] == name
            assert first["p_value"] == pytest.approx(p, rel=1e-6)
        p_values[feature] = first["p_value"]
    adjusted = dict(zip(p_values, inference.adjust_pvalues(list(p_values.values()))))
    assert table.dropna(subset=["p_adjusted"]).groupby(key)["p_adjusted"].first().to_dict() == pytest.approx(adjusted)
    assert table.attrs["untested"] == len(features) - len(p_values)
    # Ranked: features by total journeys descending, then name.
    totals = table.groupby(key, sort=False)["count"].sum()
    assert list(totals.index) == [f for f, _ in ref.ranked(totals.to_dict())]


# ---------------------------------------------------------------------------
# presence, sequences, destinations
# ---------------------------------------------------------------------------


@SETTINGS
@given(rows=journeys_strategy, min_journeys=st.integers(1, 6))
def test_compare_presence_matches_reference_counts_and_tests(rows, min_journeys):
    table = compare.compare_presence(frame(rows), n_resamples=199, odds_ratios=False, min_journeys=min_journeys)
    groups = by_plan(rows)
    plans = plan_order(rows)
    counts = {p: ref.page_presence(journeys_of(groups[p])) for p in plans}
    sizes = {p: len(groups[p]) for p in plans}
    check_feature_table(table, "page", counts, sizes, plans, min_journeys=min_journeys)
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
    check_feature_table(table, "sequence", counts, {p: len(groups[p]) for p in plans}, plans,
                        min_journeys=min_journeys)


def plain_destinations(lists, page):
    leaving, counts = 0, Counter()
    for pages in lists:
        nexts = {pages[i + 1] for i in range(len(pages) - 1) if pages[i] == page}
        leaving += bool(nexts)
        counts.update(nexts)
    return leaving, counts


@SETTINGS
@given(rows=journeys_strategy, page=st.sampled_from(PAGES), min_journeys=st.integers(1, 3))
def test_compare_destinations_counts_journeys(rows, page, min_journeys):
    table = compare.compare_destinations(frame(rows), page, n_resamples=199, odds_ratios=False,
                                         min_journeys=min_journeys)
    groups = by_plan(rows)
    plans = plan_order(rows)
    found = {p: plain_destinations(groups[p], page) for p in plans}
    check_feature_table(table, "next_page", {p: found[p][1] for p in plans}, {p: found[p][0] for p in plans}, plans,
                        min_journeys=min_journeys)


def plain_hierarchical(feature_adjusted, pair_p, pair_feature, alpha):
    """Benjamini–Bogomolov with Holm inside each selected feature, written out plainly."""
    tested = sum(np.isfinite(v) for v in feature_adjusted.values())
    selected = sum(v <= alpha for v in feature_adjusted.values())
    out = [np.nan] * len(pair_p)
    for feature, value in feature_adjusted.items():
        mine = [i for i, f in enumerate(pair_feature) if f == feature and np.isfinite(pair_p[i])]
        holm = dict(zip(mine, ref.plain_holm([pair_p[i] for i in mine])))
        for i in mine:
            scaled = min(1.0, holm[i] * (tested / selected if selected else 1.0))
            out[i] = max(value, scaled)
    return out


@SETTINGS
@given(rows=journeys_strategy, alpha=st.sampled_from([0.05, 0.2, 0.5]))
def test_plan_contrasts_are_scipy_two_by_two_tests_adjusted_within_the_table_family(rows, alpha):
    comparison = compare.compare_presence(frame(rows), odds_ratios=False, n_resamples=199, min_journeys=2,
                                          alpha=alpha)
    contrasts = compare.plan_contrasts(comparison, alpha=alpha)
    plans = plan_order(rows)
    groups = by_plan(rows)
    counts = {p: ref.page_presence(journeys_of(groups[p])) for p in plans}
    assert len(contrasts) == comparison["page"].nunique() * len(list(combinations(plans, 2)))
    untested = set(comparison.loc[~comparison["tested"], "page"])
    for row in contrasts.itertuples():
        a, b = counts[row.plan_a].get(row.page, 0), counts[row.plan_b].get(row.page, 0)
        n_a, n_b = len(groups[row.plan_a]), len(groups[row.plan_b])
        assert (row.count_a, row.n_a, row.count_b, row.n_b) == (a, n_a, b, n_b)
        assert row.difference == pytest.approx(a / n_a - b / n_b)
        if row.page in untested:
            assert np.isnan(row.p_value) and not row.significant
            continue
        table = np.array([[a, n_a - a], [b, n_b - b]])
        table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
        if table.shape != (2, 2):
            assert row.p_value == 1.0
        elif stats.contingency.expected_freq(table).min() >= 5:
            assert row.p_value == pytest.approx(stats.chi2_contingency(table).pvalue)
        else:
            assert row.p_value == pytest.approx(stats.fisher_exact(table).pvalue)
    feature_adjusted = comparison.drop_duplicates("page").set_index("page")["p_adjusted"].to_dict()
    expected = plain_hierarchical(feature_adjusted, contrasts["p_value"].tolist(), contrasts["page"].tolist(), alpha)
    assert contrasts["p_adjusted"].to_numpy() == pytest.approx(expected, nan_ok=True)
    # Never a pair significant on a page that does not differ in the table.
    significant_pages = set(comparison.loc[comparison["significant"], "page"])
    assert set(contrasts.loc[contrasts["significant"], "page"]) <= significant_pages
    if len(plans) == 2:
        # Two plans: the pair's test is the page's test, so both always agree.
        assert set(contrasts.loc[contrasts["significant"], "page"]) == significant_pages


def test_plans_discovered_or_chosen_with_clear_errors():
    data = frame([("Zeta", ["A"]), ("Alpha", ["B"]), ("Zeta", ["B"])])
    assert compare.plans_in(data) == ["Alpha", "Zeta"]
    assert compare.plans_in(data, "All") == ["Alpha", "Zeta"]
    assert compare.plans_in(data, ["Zeta", "Alpha"]) == ["Zeta", "Alpha"]
    with pytest.raises(ValueError, match="unknown plan 'Gold'; plans present: Alpha, Zeta"):
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
@given(rows=journeys_strategy, measure=st.sampled_from(["position", "step"]), min_journeys=st.integers(1, 4),
       alpha=st.sampled_from([0.05, 0.5]))
def test_position_contrasts_are_mann_whitney_on_plain_positions(rows, measure, min_journeys, alpha):
    got = compare.position_contrasts(frame(rows), measure=measure, n_resamples=99, min_journeys=min_journeys,
                                     alpha=alpha)
    groups = by_plan(rows)
    plans = plan_order(rows)
    reached = Counter(page for _, pages in rows for page in set(pages))
    present = sorted(page for page, k in reached.items() if k >= min_journeys)
    assert got["page"].drop_duplicates().tolist() == present
    family = {}
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
        samples = [plain_positions(groups[p], row.page, measure) for p in plans]
        samples = [v for v in samples if len(v) >= 2]
        if len(samples) < 2:
            family[row.page] = np.nan
        elif len(plans) == 2:
            family[row.page] = stats.mannwhitneyu(*samples).pvalue
        elif len(set().union(*samples)) == 1:
            family[row.page] = 1.0
        else:
            family[row.page] = stats.kruskal(*samples).pvalue
    adjusted = dict(zip(family, inference.adjust_pvalues(list(family.values()))))
    assert got["p_page"].to_numpy() == pytest.approx([adjusted[p] for p in got["page"]], nan_ok=True)
    expected = plain_hierarchical(adjusted, got["p_value"].tolist(), got["page"].tolist(), alpha)
    assert got["p_adjusted"].to_numpy() == pytest.approx(expected, nan_ok=True)
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
    for _ in range(120):
        coupon = ["Coupon"] if rng.random() < 0.7 else []
        rows.append(("Gold", ["Pricing", "Home", *coupon, "Checkout"]))
    for _ in range(100):
        coupon = ["Coupon"] if rng.random() < 0.1 else []
        rows.append(("Silver", ["Home", *coupon, "Checkout", "Pricing"]))
    for _ in range(12):
        rows.append(("Bronze", ["Home", "Pricing", "Checkout"]))
    return frame(rows)


def test_top_differences_ranks_planted_differences():
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


def section_contrasts(data, destinations=(), alpha=0.05):
    """The pairwise tables of each section, keyed like top_differences' rows."""
    # The same Monte Carlo draws as top_differences(..., n_resamples=199), so the same tests.
    presence = compare.plan_contrasts(compare.compare_presence(data, odds_ratios=False, alpha=alpha, n_resamples=199),
                                      odds_ratios=False, alpha=alpha)
    sequences = compare.plan_contrasts(compare.compare_sequences(data, alpha=alpha, n_resamples=199),
                                       odds_ratios=False, alpha=alpha)
    positions = compare.position_contrasts(data, n_resamples=199, alpha=alpha)
    parts = [presence.assign(kind="presence", feature=presence["page"]),
             sequences.assign(kind="sequence", feature=sequences["sequence"]),
             positions.assign(kind="position", feature=positions["page"])]
    for page in destinations:
        following = compare.plan_contrasts(
            compare.compare_destinations(data, page, odds_ratios=False, alpha=alpha, n_resamples=199),
            odds_ratios=False, alpha=alpha)
        parts.append(following.assign(kind="destination", feature=page + " -> " + following["next_page"]))
    columns = ["kind", "feature", "plan_a", "plan_b", "p_value", "p_adjusted", "significant"]
    return pd.concat([p[columns] for p in parts], ignore_index=True)


@pytest.mark.parametrize("alpha", [0.05, 0.3])
def test_findings_are_exactly_the_significant_pairs_of_the_section_tables(alpha):
    data = planted_differences()
    top = compare.top_differences(data, top=None, n_resamples=199, destinations=["Home"], alpha=alpha)
    tables = section_contrasts(data, ["Home"], alpha=alpha)
    found = tables[tables["significant"]]
    key = ["kind", "feature", "plan_a", "plan_b"]
    assert sorted(map(tuple, top[key].to_numpy().tolist())) == sorted(map(tuple, found[key].to_numpy().tolist()))
    merged = top.merge(found, on=key, suffixes=("", "_table"))
    assert merged["p_adjusted"].to_numpy() == pytest.approx(merged["p_adjusted_table"].to_numpy())
    assert merged["p_value"].to_numpy() == pytest.approx(merged["p_value_table"].to_numpy())


def test_a_page_significant_in_its_table_is_a_finding_with_two_plans():
    # The situation of a report that said "no difference is significant" under a table with adjusted p 0.007.
    rng = np.random.default_rng(4)
    rows = [("Gold", ["Home", "Help"] if rng.random() < 0.35 else ["Home"]) for _ in range(500)]
    rows += [("Silver", ["Home", "Help"] if rng.random() < 0.15 else ["Home"]) for _ in range(500)]
    rows += [("Gold", [f"Page{k}", "Home"]) for k in range(40)]  # many other tests to adjust for
    data = frame(rows)
    table = compare.compare_presence(data, min_journeys=1)
    help_row = table[table["page"] == "Help"].iloc[0]
    assert help_row["significant"]
    top = compare.top_differences(data, kinds=["presence", "sequence"], top=None, feature_journeys=1)
    assert ("presence", "Help") in set(zip(top["kind"], top["feature"]))


def test_top_differences_widens_the_intervals_of_what_it_keeps():
    data = planted_differences()
    top = compare.top_differences(data, top=None, n_resamples=199)
    tables = section_contrasts(data)
    tested = int(tables["p_value"].notna().sum())
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
        bounds = (expected["effect_low"], expected["effect_high"])
        assert (row["effect_low"], row["effect_high"]) == pytest.approx(bounds)


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
    windows = ju.window_journeys(data, 3)
    first = windows["first"].str.count("-") + 1
    last = windows["last"].str.count("-") + 1
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
                        n_resamples=inference.N_RESAMPLES, min_journeys=compare.MIN_JOURNEYS)
    sequences = compare.compare_sequences(reference_journeys, n=3, min_journeys=10)
    counts = {p: ref.page_sequences(journeys_of(groups[p]), 3) for p in plans}
    totals = Counter()
    for c in counts.values():
        totals.update(c)
    counts = {p: {f: c for f, c in counts[p].items() if totals[f] >= 10} for p in plans}
    check_feature_table(sequences, "sequence", counts, sizes, plans, n_resamples=inference.N_RESAMPLES,
                        min_journeys=10)
    destinations = compare.compare_destinations(reference_journeys, "Pricing", odds_ratios=False)
    found = {p: plain_destinations(groups[p], "Pricing") for p in plans}
    check_feature_table(destinations, "next_page", {p: found[p][1] for p in plans}, {p: found[p][0] for p in plans},
                        plans, n_resamples=inference.N_RESAMPLES, min_journeys=compare.MIN_JOURNEYS)


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
    windows = ju.window_journeys(reference_sessions, 3)
    per_user = Counter(u for u, *_ in reference_rows)
    assert len(windows) == sum(k >= 6 for k in per_user.values())
    early = ref.preprocess(reference_rows, sessions=3, count_from="first")
    late = ref.preprocess(reference_rows, sessions=3, count_from="last")
    users = windows["user_id"].tolist()
    checkout_first = np.mean(["Checkout" in ref.split_journey(early[u][1]) for u in users])
    checkout_last = np.mean(["Checkout" in ref.split_journey(late[u][1]) for u in users])
    row = table[(table["plan"] == "All") & (table["metric"] == "presence") & (table["page"] == "Checkout")].iloc[0]
    assert (row["first"], row["last"]) == pytest.approx((checkout_first, checkout_last))


# ---------------------------------------------------------------------------
# any size: large counts, many plans, one-buyer plans, many pages, a plan named All
# ---------------------------------------------------------------------------


def test_runs_compared_on_large_plans_with_a_rare_run():
    # Three plans of 200,000 journeys and a run in 12 journeys: an exact test on a table with large
    # counts (scipy's Monte Carlo sampler fails on it: "cannot reshape array of size ... into shape (2,3)").
    plans = np.repeat(["Annual", "Monthly", "Quarterly"], 200_000)
    journeys = np.where(np.arange(len(plans)) % 3 == 0, "Home-Pricing-Checkout", "Home-Sign up-Checkout").astype(object)
    journeys[[0, 1, 2, 3, 200_000, 200_001, 400_000, 400_001, 400_002, 400_003, 400_004, 400_005]] = "Home-Blog-Help"
    data = pd.DataFrame({"user_journey": pd.array(journeys, dtype="str"),
                         "subscription_type": pd.array(plans, dtype="str")})
    runs = compare.compare_sequences(data, 3, n_resamples=999).set_index(["sequence", "plan"])
    rare = runs.loc["Home-Blog-Help"]
    assert rare["count"].tolist() == [4, 2, 6]
    assert rare["test"].iloc[0] == "Fisher exact (Monte Carlo, 999 draws)"
    p = exact_2xk_pvalue([4, 2, 6], [200_000] * 3)
    assert abs(rare["p_value"].iloc[0] - p) <= 5 * np.sqrt(p * (1 - p) / 999) + 2 / 999
    common = runs.loc["Home-Pricing-Checkout"]
    table = np.array([common["count"], common["n"] - common["count"]])
    assert common["test"].iloc[0] == "chi-square"
    assert common["p_value"].iloc[0] == pytest.approx(stats.chi2_contingency(table).pvalue)


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_two_to_eight_plans_against_scipy(k):
    rng = np.random.default_rng(k)
    rows = []
    for index in range(k):
        size = int(rng.integers(40, 120))
        share = 0.2 + 0.05 * index
        rows += [(f"Plan {index}", ["Home", "Pricing"] if rng.random() < share else ["Home"]) for _ in range(size)]
        rows += [(f"Plan {index}", ["Blog"])] * (index % 2)
    data = frame(rows)
    table = compare.compare_presence(data, min_journeys=1, n_resamples=4999)
    plans = sorted({p for p, _ in rows})
    assert list(dict.fromkeys(table["plan"])) == plans
    groups = by_plan(rows)
    for page in ["Home", "Pricing", "Blog"]:
        counts = [sum(page in pages for pages in groups[p]) for p in plans]
        name, p = scipy_test(counts, [len(groups[q]) for q in plans])
        got = table[table["page"] == page].iloc[0]
        if name == "Monte Carlo":
            assert abs(got["p_value"] - p) <= 5 * np.sqrt(p * (1 - p) / 4999) + 2 / 4999
        else:
            assert got["test"] == name and got["p_value"] == pytest.approx(p, rel=1e-6)
    contrasts = compare.plan_contrasts(table)
    assert len(contrasts) == 3 * k * (k - 1) // 2


def test_plans_with_one_buyer():
    rows = [("Big", ["Home", "Pricing"])] * 60 + [("Big", ["Home"])] * 40 + [("Solo", ["Pricing"])]
    rows += [("Duo", ["Home"]), ("Duo", ["Pricing", "Home"])]
    data = frame(rows)
    table = compare.compare_presence(data, min_journeys=1)
    solo = table[table["plan"] == "Solo"]
    assert solo["small_sample"].all() and (solo["n"] == 1).all()
    assert table["p_value"].between(0, 1).all()
    two = compare.compare_presence(data, plans=["Big", "Solo"], min_journeys=1)
    home = two[two["page"] == "Home"].iloc[0]
    assert home["test"] == "Fisher exact"
    assert home["p_value"] == pytest.approx(stats.fisher_exact([[100, 0], [0, 1]]).pvalue)
    top = compare.top_differences(data, top=None, n_resamples=199, feature_journeys=1)
    assert set(top["plan_a"]) | set(top["plan_b"]) <= {"Big", "Duo", "Solo"}
    windows = compare.session_windows(pd.DataFrame({
        "user_id": [1, 1, 2, 2], "session_id": [1, 2, 3, 4], "subscription_type": ["Solo", "Solo", "Big", "Big"],
        "user_journey": ["A", "B", "A", "A-B"]}), n=1)
    assert windows["p_value"].between(0, 1).all()


def test_many_rare_pages_are_listed_but_not_tested():
    rows = [("Gold", ["Home", "Pricing"])] * 50 + [("Silver", ["Home"])] * 50
    rows += [("Gold" if k % 2 else "Silver", ["Home", f"Item?id={k}"]) for k in range(2000)]
    data = frame(rows)
    table = compare.compare_presence(data)
    assert table.attrs == {"min_journeys": compare.MIN_JOURNEYS, "untested": 2000}
    rare = table[table["page"].str.startswith("Item")]
    assert not rare["tested"].any() and rare["p_value"].isna().all() and rare["odds_ratio"].isna().all()
    assert rare["share_low"].notna().all()
    assert (rare["test"] == f"not tested (in fewer than {compare.MIN_JOURNEYS} journeys)").all()
    pricing = table[table["page"] == "Pricing"].iloc[0]
    # The adjustment counts only the tested pages (Home, Pricing).
    assert pricing["p_adjusted"] == pytest.approx(min(1, 2 * pricing["p_value"]))
    assert compare.position_contrasts(data)["page"].drop_duplicates().tolist() == ["Home", "Pricing"]


def test_a_plan_named_all_is_an_ordinary_plan_everywhere():
    rows = [("All", ["Home", "Pricing"])] * 40 + [("Monthly", ["Home"])] * 40 + [("Annual", ["Pricing", "Home"])] * 40
    data = frame(rows)
    assert compare.plans_in(data) == ["All", "Annual", "Monthly"]
    assert compare.plans_in(data, ["All", "Monthly"]) == ["All", "Monthly"]
    with pytest.raises(ValueError, match="ambiguous"):
        compare.plans_in(data, "All")
    table = compare.compare_presence(data)
    assert list(dict.fromkeys(table["plan"])) == ["All", "Annual", "Monthly"]
    assert len(compare.plan_contrasts(table)) == 2 * 3
    top = compare.top_differences(data, top=None, n_resamples=199)
    assert "All" in set(top["plan_a"]) | set(top["plan_b"])
    assert len(compare.compare_positions(data, "Pricing")) == 3
    sessions = pd.DataFrame({"user_id": np.repeat(np.arange(6), 2), "session_id": np.arange(12),
                             "subscription_type": np.repeat(["All", "All", "Annual", "Annual", "Monthly",
                                                             "Monthly"], 2),
                             "user_journey": ["A", "B"] * 6})
    windows = compare.session_windows(sessions, n=1)
    assert windows["plan"].drop_duplicates().tolist() == ["All plans", "All", "Annual", "Monthly"]
    assert windows.loc[windows["all_plans"], "plan"].eq("All plans").all()
    assert (windows.loc[windows["plan"] == "All", "n"] == 2).all()
