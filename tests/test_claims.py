"""Claim verdicts on data built to support, contradict, or leave each claim open."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from journey_utils import claims, compare, inference, text
from tests import reference as ref

RESOURCES = claims.DEFAULT_CLAIMS[0]
PRICING = claims.DEFAULT_CLAIMS[1]
CAREER = claims.DEFAULT_CLAIMS[2]
SHIFT = claims.DEFAULT_CLAIMS[3]


def journeys(groups) -> pd.DataFrame:
    """Journeys from ``[(plan, journey, how_many), ...]``."""
    plans, texts = [], []
    for plan, journey, count in groups:
        plans += [plan] * count
        texts += [journey] * count
    return pd.DataFrame({"user_id": np.arange(len(plans), dtype=np.int64),
                         "subscription_type": pd.array(plans, dtype="str"),
                         "user_journey": pd.array(texts, dtype="str")})


def sessions(users) -> pd.DataFrame:
    """Sessions from ``[(plan, [session journeys...], how_many_users), ...]``; ids grow with time."""
    rows, user, session = [], 0, 0
    for plan, history, count in users:
        for _ in range(count):
            user += 1
            for journey in history:
                session += 1
                rows.append((user, session, plan, journey))
    frame = pd.DataFrame(rows, columns=["user_id", "session_id", "subscription_type", "user_journey"])
    return frame.astype({"subscription_type": "str", "user_journey": "str"})


def verdict_of(claim, data, **options):
    measured = claim.measure(data, n_resamples=499, **options)
    return claims.evaluate_claim(measured["effect"], measured["ci_low"], measured["ci_high"], measured["p_value"],
                                 direction=measured["direction"], null=measured["null"], margin=measured["margin"])


# ---------------------------------------------------------------------------
# evaluate_claim
# ---------------------------------------------------------------------------


def test_verdict_rules():
    supported = claims.evaluate_claim(0.12, 0.08, 0.16, 0.001)
    assert (supported.verdict, supported.reason) == ("supported", "significant in the claimed direction")
    opposite = claims.evaluate_claim(-0.12, -0.16, -0.08, 0.001)
    assert (opposite.verdict, opposite.reason) == ("not supported", "significant in the opposite direction")
    ruled_out = claims.evaluate_claim(0.01, -0.02, 0.04, 0.5, margin=0.05)
    assert (ruled_out.verdict, ruled_out.reason) == ("not supported", "interval rules out the margin")
    open_question = claims.evaluate_claim(0.01, -0.02, 0.06, 0.5, margin=0.05)
    assert (open_question.verdict, open_question.reason) == ("inconclusive", "interval includes the margin")
    # Without a margin only an interval entirely the other way rules the claim out.
    assert claims.evaluate_claim(0.01, -0.02, 0.04, 0.5).verdict == "inconclusive"
    assert claims.evaluate_claim(-0.05, -0.09, -0.001, 0.06).verdict == "not supported"
    # Significance is judged on the adjusted p-value against alpha.
    assert claims.evaluate_claim(0.12, 0.08, 0.16, 0.03, alpha=0.01).verdict == "inconclusive"


def test_verdict_direction_and_null():
    # "Earlier": effect below the null is the claimed direction.
    assert claims.evaluate_claim(-0.3, -0.4, -0.2, 0.001, direction="less").verdict == "supported"
    assert claims.evaluate_claim(0.3, 0.2, 0.4, 0.001, direction="less").verdict == "not supported"
    # Proportions of users around 0.5, margin 0.05 -> at least 55% needed in reach.
    assert claims.evaluate_claim(0.52, 0.47, 0.54, 0.4, null=0.5, margin=0.05).verdict == "not supported"
    assert claims.evaluate_claim(0.52, 0.40, 0.64, 0.4, null=0.5, margin=0.05).verdict == "inconclusive"
    assert claims.evaluate_claim(0.75, 0.70, 0.80, 1e-6, null=0.5, margin=0.05).verdict == "supported"


def test_verdict_unmeasurable_and_bad_arguments():
    verdict = claims.evaluate_claim(float("nan"), float("nan"), float("nan"), float("nan"))
    assert (verdict.verdict, verdict.reason) == ("inconclusive", "not measurable on this data")
    with pytest.raises(ValueError, match="direction must be"):
        claims.evaluate_claim(0.1, 0.0, 0.2, 0.01, direction="up")
    with pytest.raises(ValueError, match="margin"):
        claims.evaluate_claim(0.1, 0.0, 0.2, 0.01, margin=-0.1)


# ---------------------------------------------------------------------------
# Each claim on data built for each outcome
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "groups, expected",
    [
        ([("Annual", "Homepage-Resources center", 80), ("Annual", "Homepage", 120),
          ("Monthly", "Homepage-Resources center", 20), ("Monthly", "Homepage", 180)], "supported"),
        ([("Annual", "Homepage-Resources center", 20), ("Annual", "Homepage", 180),
          ("Monthly", "Homepage-Resources center", 80), ("Monthly", "Homepage", 120)], "not supported"),
        ([("Annual", "Homepage-Resources center", 4), ("Annual", "Homepage", 8),
          ("Monthly", "Homepage-Resources center", 2), ("Monthly", "Homepage", 10)], "inconclusive"),
        ([("Annual", "Homepage-Resources center", 600), ("Annual", "Homepage", 2400),
          ("Monthly", "Homepage-Resources center", 600), ("Monthly", "Homepage", 2400)], "not supported"),
    ],
    ids=["more-in-annual", "more-in-monthly", "few-buyers", "equal-and-precise"],
)
def test_presence_claim_outcomes(groups, expected):
    data = journeys(groups)
    assert verdict_of(RESOURCES, data).verdict == expected
    measured = RESOURCES.measure(data)
    a = sum(c for p, j, c in groups if p == "Annual" and "Resources center" in j)
    b = sum(c for p, j, c in groups if p == "Monthly" and "Resources center" in j)
    n_a = sum(c for p, _, c in groups if p == "Annual")
    n_b = sum(c for p, _, c in groups if p == "Monthly")
    assert (measured["count_a"], measured["n_a"], measured["count_b"], measured["n_b"]) == (a, n_a, b, n_b)
    table = np.array([[a, n_a - a], [b, n_b - b]])
    scipy_p = (stats.chi2_contingency(table).pvalue if stats.contingency.expected_freq(table).min() >= 5
               else stats.fisher_exact(table).pvalue)
    assert measured["p_value"] == pytest.approx(scipy_p)


def test_claim_three_reads_monthly_against_annual():
    data = journeys([("Monthly", "Career tracks-Checkout", 90), ("Monthly", "Checkout", 110),
                     ("Annual", "Career tracks-Checkout", 30), ("Annual", "Checkout", 170)])
    measured = CAREER.measure(data)
    assert measured["label_a"] == "Monthly" and measured["effect"] == pytest.approx(90 / 200 - 30 / 200)
    assert verdict_of(CAREER, data).verdict == "supported"


def pricing_journeys(annual_step, monthly_step, users):
    def journey(step):
        pages = ["Homepage", "Courses", "Sign up", "Log in", "Checkout"]
        pages.insert(step - 1, "Pricing")
        return "-".join(pages)

    return [("Annual", journey(annual_step), users), ("Monthly", journey(monthly_step), users)]


@pytest.mark.parametrize(
    "groups, expected",
    [
        (pricing_journeys(1, 5, 60), "supported"),
        (pricing_journeys(5, 1, 60), "not supported"),
        (pricing_journeys(2, 3, 2) + pricing_journeys(3, 2, 2), "inconclusive"),
    ],
    ids=["annual-earlier", "annual-later", "four-buyers-each"],
)
def test_position_claim_outcomes(groups, expected):
    data = journeys(groups)
    assert verdict_of(PRICING, data).verdict == expected


def test_position_claim_numbers_are_mann_whitney_on_positions():
    data = journeys(pricing_journeys(2, 4, 20) + pricing_journeys(3, 3, 15))
    measured = PRICING.measure(data, n_resamples=499)
    positions = {
        plan: [(j.split("-").index("Pricing")) / (len(j.split("-")) - 1)
               for j in data.loc[data["subscription_type"] == plan, "user_journey"]]
        for plan in ("Annual", "Monthly")
    }
    test = stats.mannwhitneyu(positions["Annual"], positions["Monthly"])
    assert measured["p_value"] == pytest.approx(test.pvalue)
    assert measured["effect"] == pytest.approx(2 * test.statistic / (35 * 35) - 1)
    assert measured["ci_low"] <= measured["effect"] <= measured["ci_high"]


def shift_users(early, late, count, plan="Annual"):
    return [(plan, [early] * 3 + [late] * 3, count)]


@pytest.mark.parametrize(
    "users, expected",
    [
        (shift_users("Homepage-Courses", "Log in-Checkout", 40), "supported"),
        (shift_users("Log in-Checkout", "Homepage-Courses", 40), "not supported"),
        (shift_users("Homepage-Courses", "Log in-Courses", 4) + shift_users("Log in-Courses", "Homepage-Courses", 2),
         "inconclusive"),
    ],
    ids=["logins-later", "logins-earlier", "six-users"],
)
def test_session_shift_claim_outcomes(users, expected):
    data = sessions(users)
    for later in ("last", "rest"):
        measured = SHIFT.measure(data, n=3, later=later)
        verdict = claims.evaluate_claim(measured["effect"], measured["ci_low"], measured["ci_high"],
                                        measured["p_value"], direction="greater", null=0.5, margin=0.05)
        assert verdict.verdict == expected


def test_session_shift_is_a_sign_test_by_user():
    users = (shift_users("Homepage-Courses", "Log in-Checkout", 9)
             + shift_users("Log in-Checkout", "Homepage-Log in", 3)
             + shift_users("Homepage", "Homepage", 5))
    measured = SHIFT.measure(sessions(users), n=3)
    assert (measured["count_a"], measured["count_b"], measured["n_a"]) == (9, 3, 17)
    assert measured["p_value"] == pytest.approx(stats.binomtest(9, 12).pvalue)
    interval = stats.binomtest(9, 12).proportion_ci(0.95, method="wilson")
    assert (measured["ci_low"], measured["ci_high"]) == pytest.approx((interval.low, interval.high))
    # Mean per-user share of visits that are Log in or Checkout, early and late windows.
    early = (9 * 0 + 3 * 1 + 5 * 0) / 17
    late = (9 * 1 + 3 * 0.5 + 5 * 0) / 17
    assert (measured["value_a"], measured["value_b"]) == pytest.approx((early, late))


# ---------------------------------------------------------------------------
# evaluate_claims: scopes, adjustment, sentences
# ---------------------------------------------------------------------------


def four_claim_sessions():
    """Annual buyers: Resources center early, Pricing first; Monthly: neither. Everyone ends on log-ins."""
    annual = ["Pricing-Resources center-Homepage", "Courses", "Homepage", "Log in", "Log in-Checkout", "Checkout"]
    monthly = ["Homepage-Courses", "Homepage-Career tracks-Pricing", "Homepage", "Log in", "Log in-Checkout",
               "Checkout"]
    return sessions([("Annual", annual, 50), ("Monthly", monthly, 50)])


def test_evaluate_claims_scopes_adjustment_and_verdicts():
    table = claims.evaluate_claims(four_claim_sessions(), n=3, n_resamples=499)
    assert list(table.columns) == claims.CLAIM_COLUMNS
    assert table["claim"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert table["scope"].tolist() == ["all sessions", "first 3 sessions"] * 3 + [
        "first 3 vs all later sessions", "first 3 vs last 3 sessions"]
    assert table["p_adjusted"].to_numpy() == pytest.approx(inference.adjust_pvalues(table["p_value"]))
    verdicts = dict(zip(zip(table["claim"], table["scope"]), table["verdict"]))
    assert verdicts[(1, "all sessions")] == "supported"
    assert verdicts[(2, "first 3 sessions")] == "supported"
    assert verdicts[(3, "all sessions")] == "supported"
    assert verdicts[(4, "first 3 vs last 3 sessions")] == "supported"
    assert set(table["verdict"]) <= set(claims.VERDICTS)


def test_claim_intervals_hold_together_over_all_rows():
    data = four_claim_sessions()
    table = claims.evaluate_claims(data, n=3, n_resamples=499)
    level = 1 - 0.05 / len(table)
    assert table["ci_level"].to_numpy() == pytest.approx(level)
    assert (table["confidence"] == 0.95).all()
    row = table[table["kind"] == "presence"].iloc[0]
    simultaneous = inference.newcombe_interval(row["count_a"], row["n_a"], row["count_b"], row["n_b"], level)
    single = inference.newcombe_interval(row["count_a"], row["n_a"], row["count_b"], row["n_b"], 0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(simultaneous)
    assert row["ci_low"] < single[0] and row["ci_high"] >= single[1]
    assert all("95% simultaneous CI" in sentence for sentence in table.loc[table["problem"] == "", "sentence"])
    # Fewer claims tested together: narrower intervals.
    one = claims.evaluate_claims(data, claims=claims.DEFAULT_CLAIMS[:1], n=3, n_resamples=499)
    assert one["ci_level"].iloc[0] == pytest.approx(1 - 0.05 / 2)


def test_verdicts_follow_the_data():
    """The same claims on data that says the opposite get the opposite verdicts."""
    annual = ["Homepage-Courses", "Homepage-Career tracks-Pricing", "Homepage", "Log in", "Log in-Checkout",
              "Checkout"]
    monthly = ["Pricing-Resources center-Homepage", "Courses", "Homepage", "Log in", "Log in-Checkout", "Checkout"]
    flipped = claims.evaluate_claims(sessions([("Annual", annual, 50), ("Monthly", monthly, 50)]), n=3,
                                     n_resamples=499)
    verdicts = dict(zip(zip(flipped["claim"], flipped["scope"]), flipped["verdict"]))
    assert verdicts[(1, "all sessions")] == "not supported"
    assert verdicts[(2, "first 3 sessions")] == "not supported"
    assert verdicts[(3, "all sessions")] == "not supported"


def test_missing_plan_is_inconclusive_with_the_reason():
    data = four_claim_sessions()
    data = data.assign(subscription_type=data["subscription_type"].replace({"Monthly": "Quarterly"}))
    table = claims.evaluate_claims(data, n=3, n_resamples=99)
    first = table[table["claim"] == 1].iloc[0]
    assert first["verdict"] == "inconclusive"
    assert first["problem"] == "no Monthly buyers in the data"
    assert "cannot be tested" in first["sentence"] and "no Monthly buyers" in first["sentence"]
    assert table.loc[table["claim"] == 4, "verdict"].eq("supported").all()


def numbers_in(text):
    return re.findall(r"-?\d+(?:\.\d+)?", text)


def test_sentences_are_written_from_the_row():
    table = claims.evaluate_claims(four_claim_sessions(), n=3, n_resamples=499)
    for _, row in table.iterrows():
        sentence = row["sentence"]
        assert sentence.startswith(f"{row['verdict'].capitalize()} ({row['scope']}).")
        assert text.p_value(row["p_adjusted"]) in sentence
        if row["kind"] == "presence":
            for value in (row["value_a"], row["value_b"]):
                assert text.percent(value) in sentence
            assert f"{text.integer(row['count_a'])} of {text.integer(row['n_a'])}" in sentence
            assert f"a difference of {text.points(row['effect'])} (" in sentence
            claimed = row["margin"] if row["direction"] == "greater" else -row["margin"]
            if "interval" in sentence:
                assert f"as large as {text.points(claimed)}" in sentence
        if row["kind"] == "session shift":
            assert text.percent(row["effect"]) in sentence
    # Change the data: the numbers in the text change with it.
    other = claims.evaluate_claims(four_claim_sessions().iloc[:-60], n=3, n_resamples=499)
    assert numbers_in(other["sentence"].iloc[0]) != numbers_in(table["sentence"].iloc[0])


def test_sentences_format_through_the_shared_formatters():
    assert not any(hasattr(claims, name) for name in ("format_share", "format_points", "format_p"))
    row = {"kind": "sequence", "feature": "Pricing-Coupon", "plan_a": "Annual", "plan_b": "Monthly",
           "value_a": 0.1234, "value_b": 0.05, "count_a": 1234, "n_a": 10000, "count_b": 50, "n_b": 1000,
           "effect": 0.0734, "effect_low": 0.05, "effect_high": 0.09, "test": "chi-square", "p_adjusted": 0.0004,
           "small_sample": False}
    sentence = claims.finding_sentence(row, confidence=0.975)
    assert sentence.startswith("The path Pricing → Coupon is in 12.3% of Annual journeys and 5.0% of Monthly")
    assert "+7.3 points for Annual (97.5% CI +5.0 points to +9.0 points; chi-square, adjusted p < 0.001; " in sentence
    assert "1,234 of 10,000 and 50 of 1,000 journeys" in sentence


def test_finding_sentences_for_each_kind():
    data = journeys([("Gold", "Pricing-Coupon-Checkout", 60), ("Silver", "Homepage-Checkout-Pricing", 50)])
    top = compare.top_differences(data, top=None, destinations="Pricing", n_resamples=199)
    sentences = claims.finding_sentences(top)
    assert len(sentences) == len(top)
    for (_, row), sentence in zip(top.iterrows(), sentences):
        assert text.p_value(row["p_adjusted"]) in sentence
        assert "95% selection-adjusted CI" in sentence
        if row["kind"] == "position":
            assert "earlier" in sentence or "later" in sentence
            assert text.percent(row["value_a"]) in sentence
        else:
            assert text.percent(row["value_a"]) in sentence
            ahead = row["plan_a"] if row["effect"] > 0 else row["plan_b"]
            assert f"{text.points(abs(row['effect']))} for {ahead} (" in sentence
    assert claims.findings_text(top.iloc[0:0]) == [
        "No difference between plans is statistically significant at a false discovery rate of 5%."
    ]


def test_finding_interval_is_shown_from_the_plan_ahead_even_across_zero():
    row = {"kind": "presence", "feature": "Coupon", "plan_a": "Annual", "plan_b": "Monthly", "value_a": 0.2,
           "value_b": 0.25, "count_a": 20, "n_a": 100, "count_b": 25, "n_b": 100, "effect": -0.05,
           "effect_low": -0.12, "effect_high": 0.01, "test": "chi-square (Yates)", "p_adjusted": 0.04,
           "small_sample": False, "ci_level": 0.99}
    sentence = claims.finding_sentence(row)
    assert "+5.0 points for Monthly (95% selection-adjusted CI -1.0 points to +12.0 points;" in sentence


def test_small_samples_are_flagged_in_words():
    data = journeys([("Gold", "Pricing-Coupon", 200), ("Gold", "Pricing", 10), ("Tiny", "Pricing", 12)])
    top = compare.top_differences(data, kinds=["presence"])
    assert top["small_sample"].all()
    assert "Caution: small sample (12 journeys in the smaller plan)" in claims.finding_sentences(top).iloc[0]


# ---------------------------------------------------------------------------
# reference data
# ---------------------------------------------------------------------------


def test_reference_claims(reference_sessions, reference_rows):
    table = claims.evaluate_claims(reference_sessions, n=3, n_resamples=999)
    assert len(table) == 8 and set(table["verdict"]) <= set(claims.VERDICTS)
    assert table["p_adjusted"].to_numpy() == pytest.approx(inference.adjust_pvalues(table["p_value"]))
    grouped = ref.preprocess(reference_rows)
    for scope, data in (("all sessions", grouped), ("first 3 sessions",
                                                    ref.preprocess(reference_rows, sessions=3, count_from="first"))):
        row = table[(table["claim"] == 1) & (table["scope"] == scope)].iloc[0]
        annual = [j for plan, j, _ in data.values() if plan == "Annual"]
        monthly = [j for plan, j, _ in data.values() if plan == "Monthly"]
        a = ref.page_presence(annual).get("Resources center", 0)
        b = ref.page_presence(monthly).get("Resources center", 0)
        assert (row["count_a"], row["n_a"], row["count_b"], row["n_b"]) == (a, len(annual), b, len(monthly))
        row = table[(table["claim"] == 2) & (table["scope"] == scope)].iloc[0]

        def positions(js):
            out = []
            for j in js:
                pages = ref.split_journey(j)
                if "Pricing" in pages:
                    out.append(pages.index("Pricing") / (len(pages) - 1) if len(pages) > 1 else 0.0)
            return out

        assert row["p_value"] == pytest.approx(stats.mannwhitneyu(positions(annual), positions(monthly)).pvalue)
    for row in table.itertuples():
        if row.verdict == "supported":
            assert row.p_adjusted <= row.alpha
            assert (row.effect - row.null) * (1 if row.direction == "greater" else -1) > 0
        assert not math.isnan(row.effect)
