"""Takeaways (journey_utils.summary) against plain-Python counts of the same journeys."""

import statistics
from collections import Counter
from fractions import Fraction
from itertools import permutations

import numpy as np
import pandas as pd
import pytest

from journey_utils import summary, text
from journey_utils.columns import PLAN, SESSION, TARGET, USER

# --------------------------------------------------------------------------- in_words


@pytest.mark.parametrize(("share", "words"), [
    (0.598, "6 in 10"), (0.114, "1 in 9"), (0.886, "9 in 10"), (0.5, "5 in 10"), (0.15, "2 in 10"),
    (0.149, "1 in 7"), (0.1, "1 in 10"), (0.004, "1 in 250"), (0.0012, "1 in 833"), (0.0004, "fewer than 1 in 1,000"),
    (0.949, "9 in 10"), (0.95, "nearly all"), (0.999, "nearly all"), (1.0, "all"), (0.0, "none"),
    (float("nan"), "n/a"), (None, "n/a"),
])
def test_in_words(share, words):
    assert text.in_words(share) == words


def test_in_words_is_never_far_from_the_share():
    """Tenths within half a tenth; 'one in N' within the rounding of N."""
    for share in np.linspace(0.001, 0.949, 2000):
        words = text.in_words(share)
        k, d = (int(x.replace(",", "")) for x in words.split(" in "))
        if d == 10:
            assert abs(k / 10 - share) <= 0.05 + 1e-12, (share, words)
        else:
            assert k == 1 and abs(d - 1 / share) <= 0.5 + 1e-9, (share, words)


def test_in_words_refuses_shares_outside_zero_and_one():
    with pytest.raises(ValueError, match="between 0 and 1"):
        text.in_words(1.2)


def test_is_small():
    assert summary.is_small(summary.SMALL_PLAN - 1) and not summary.is_small(summary.SMALL_PLAN)


# --------------------------------------------------------------------------- reference computations

def lists(frame):
    """(plan, pages) per journey, the way a reader would count them."""
    return [(plan, journey.split("-") if journey else [])
            for plan, journey in zip(frame[PLAN].astype(str), frame[TARGET].astype(str))]


def ref_ranked(counter):
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def ref_journey_facts(journeys):
    """Top page, most common journey, end page and median length, counted in plain Python."""
    presence = Counter(page for _, pages in journeys for page in set(pages))
    whole = Counter("-".join(pages) for _, pages in journeys if pages)
    ends = Counter(pages[-1] for _, pages in journeys if pages)
    return {"top_page": ref_ranked(presence)[0], "common_journey": ref_ranked(whole)[0],
            "end_page": ref_ranked(ends)[0], "median": statistics.median(len(p) for _, p in journeys)}


def ref_candidates(journeys, min_share_journey=summary.NOTABLE_JOURNEY):
    """Every (kind, subject, plan_a, plan_b) with plan_a's share above plan_b's, with both counts."""
    plans = sorted({plan for plan, _ in journeys})
    size = Counter(plan for plan, _ in journeys)
    counts = {"page": Counter(), "end_page": Counter(), "journey": Counter()}
    for plan, pages in journeys:
        for page in set(pages):
            counts["page"][page, plan] += 1
        if pages:
            counts["end_page"][pages[-1], plan] += 1
            counts["journey"]["-".join(pages), plan] += 1
    rows = []
    for kind, counter in counts.items():
        subjects = sorted({subject for subject, _ in counter})
        for subject in subjects:
            if kind == "journey" and not any(
                    counter[subject, p] >= 2 and counter[subject, p] >= min_share_journey * size[p] for p in plans):
                continue
            for a, b in permutations(plans, 2):
                share_a = Fraction(counter[subject, a], size[a])
                share_b = Fraction(counter[subject, b], size[b])
                if share_a > share_b:
                    rows.append((kind, subject, a, b, counter[subject, a], size[a], counter[subject, b], size[b],
                                 share_a - share_b))
    return rows


def frame(rows):
    return pd.DataFrame(rows, columns=[PLAN, TARGET])


# --------------------------------------------------------------------------- journey_takeaways

SMALL = frame([("A", "Home-Pricing-Pay"), ("A", "Home-Pricing-Pay"), ("A", "Blog-Home"), ("A", "Pay"),
               ("A", "Home-Pay"), ("B", "Blog"), ("B", "Blog-Pay"), ("A", "")])


def test_journey_takeaways_match_plain_counts():
    table = summary.journey_takeaways(SMALL, plan="A")
    journeys = [j for j in lists(SMALL) if j[0] == "A"]
    expected = ref_journey_facts(journeys)
    rows = {kind: row for kind, row in zip(table["kind"], table.to_dict("records"))}
    assert list(table["kind"]) == ["top_page", "common_journey", "end_page", "length", "small_sample"]
    n = len(journeys)
    for kind in ("top_page", "common_journey", "end_page"):
        subject, count = expected[kind]
        assert (rows[kind]["subject"], rows[kind]["count"], rows[kind]["total"]) == (subject, count, n)
        assert rows[kind]["share"] == pytest.approx(count / n)
    assert rows["length"]["share"] == expected["median"]
    assert rows["top_page"]["headline"].startswith(text.in_words(expected["top_page"][1] / n).capitalize())
    assert text.percent(expected["end_page"][1] / n) == rows["end_page"]["number"]


def test_journey_takeaways_count_sessions_per_buyer_once():
    journeys = SMALL.assign(**{USER: range(len(SMALL))})
    sessions = pd.DataFrame({USER: [0, 0, 0, 1, 1, 2, 9, 0], SESSION: [1, 2, 3, 4, 5, 6, 7, 3]})
    table = summary.journey_takeaways(journeys, sessions=sessions)
    length = table[table["kind"] == "length"].iloc[0]
    # Buyers 0, 1, 2 had 3, 2, 1 distinct sessions (user 9 is not a buyer here): median 2.
    assert "median of 2 sessions" in length["headline"]


def test_journey_takeaways_caution_only_for_small_plans():
    assert "small_sample" in set(summary.journey_takeaways(SMALL)["kind"])
    big = pd.concat([SMALL] * 10, ignore_index=True)
    assert "small_sample" not in set(summary.journey_takeaways(big)["kind"])
    assert "small_sample" in set(summary.journey_takeaways(big, small=100)["kind"])


def test_journey_takeaways_when_every_journey_differs():
    distinct = frame([("A", f"P{i}-Pay") for i in range(10)])
    row = summary.journey_takeaways(distinct).set_index("kind").loc["common_journey"]
    assert row["headline"] == "No two buyers had the same journey" and row["number"] == "10"


def test_journey_takeaways_escape_names_in_text_and_keep_them_in_data():
    hostile = frame([("<b>Pro</b>", "*Deal*-<script>x</script>")] * 3)
    table = summary.journey_takeaways(hostile, plan="<b>Pro</b>")
    assert table["subject"].iloc[0] in {"*Deal*", "<script>x</script>"}
    shown = " ".join(table["headline"]) + " ".join(table["detail"])
    assert "<script>" not in shown and "<b>" not in shown and "&lt;b&gt;Pro&lt;/b&gt; buyers" in shown
    assert "\\*Deal\\*" in shown
    assert all(isinstance(v, text.Markup) for v in table["headline"])


def test_journey_takeaways_of_nothing_and_inputs_untouched():
    assert summary.journey_takeaways(SMALL.iloc[:0]).columns.tolist() == summary.JOURNEY_COLUMNS
    before = SMALL.copy()
    summary.journey_takeaways(SMALL, plan=["A", "B"])
    pd.testing.assert_frame_equal(SMALL, before)


# --------------------------------------------------------------------------- plan_takeaways

def designed(seed=0):
    """Plan X sees Deal far more often, ends on Deal, and often has the one-page journey Deal."""
    rng = np.random.default_rng(seed)
    rows = []
    for plan, size, deal, alone in (("X", 200, 0.6, 0.15), ("Y", 150, 0.1, 0.0), ("Z", 20, 0.9, 0.0)):
        for _ in range(size):
            draw = rng.random()
            if draw < alone:
                rows.append((plan, "Deal"))
            elif draw < deal:
                rows.append((plan, "Home-Deal" if rng.random() < 0.5 else "Home-Pricing-Deal-Pay"))
            else:
                rows.append((plan, "Home-Pricing-Pay" if rng.random() < 0.7 else "Blog-Home-Pay"))
    return frame(rows)


def test_plan_takeaways_rows_are_the_largest_differences_counted_in_plain_python():
    data = designed()
    table = summary.plan_takeaways(data, n=10, min_difference=0)
    candidates = ref_candidates(lists(data))
    by_key = {(k, s, a, b): row for k, s, a, b, *row in candidates}
    for row in table.itertuples(index=False):
        ca, ta, cb, tb, difference = by_key[row.kind, row.subject, row.plan_a, row.plan_b]
        assert (row.count_a, row.total_a, row.count_b, row.total_b) == (ca, ta, cb, tb)
        assert row.difference == pytest.approx(float(difference))
        assert row.plans == [row.plan_a, row.plan_b]
        assert row.small_sample == (min(ta, tb) < summary.SMALL_PLAN)
        # The pair shown is the largest difference of its subject among pairs of the same sample size class.
        same = [float(d) for k, s, a, b, _, ta2, _, tb2, d in candidates
                if s == row.subject and (k == "journey") == (row.kind == "journey")
                and (min(ta2, tb2) < summary.SMALL_PLAN) == row.small_sample]
        assert row.difference == pytest.approx(max(same))
    large = table[~table["small_sample"]]
    assert list(large["difference"]) == sorted(large["difference"], reverse=True)
    assert table["small_sample"].is_monotonic_increasing, "small samples come last"


def test_plan_takeaways_headline_words_counts_and_number():
    table = summary.plan_takeaways(designed())
    first = table.iloc[0]
    assert (first["kind"], first["subject"], first["plan_a"], first["plan_b"]) in {
        ("page", "Deal", "X", "Y"), ("end_page", "Deal", "X", "Y")}
    assert first["headline"].startswith(text.in_words(first["share_a"]).capitalize() + " X buyers")
    assert f"({first['count_a']} of {first['total_a']})" in first["headline"]
    assert f"{text.in_words(first['share_b'])} Y buyers" in first["headline"]
    assert first["number"] == f"{first['share_a']:.0%} vs {first['share_b']:.0%}"
    journey = table[table["kind"] == "journey"]
    largest = max((c for c in ref_candidates(lists(designed())) if c[0] == "journey" and min(c[5], c[7]) >= 50),
                  key=lambda c: c[-1])
    assert len(journey) == 1 and journey["subject"].iloc[0] == largest[1]
    assert f"followed exactly **{text.steps(largest[1])}** and nothing else" in journey["headline"].iloc[0]


def test_plan_takeaways_word_a_one_page_journey():
    data = frame([("A", "Deal")] * 30 + [("A", "Home-Pay")] * 70 + [("B", "Home-Pay")] * 80 + [("B", "Blog-Pay")] * 20)
    journey = summary.plan_takeaways(data).set_index("kind").loc["journey"]
    assert journey["headline"].startswith("30 A buyers (30.0%) had a journey of just **Deal**, against 0.0% of B")


def test_plan_takeaways_tell_each_page_once():
    table = summary.plan_takeaways(designed(), n=20, min_difference=0)
    pages = table[table["kind"] != "journey"]["subject"]
    assert pages.is_unique and table[table["kind"] == "journey"]["subject"].is_unique


def test_plan_takeaways_suggestions_come_from_the_numbers():
    data = designed()
    table = summary.plan_takeaways(data, n=10, min_difference=0)
    assert table["suggestion"].map(len).gt(0).all()
    # Renaming pages and plans renames them in the suggestions: no fixed sentence names a page.
    renamed = data.replace({TARGET: {"Deal": "Offer"}, PLAN: {"X": "Gold", "Y": "Basic", "Z": "Trial"}})
    renamed[TARGET] = renamed[TARGET].str.replace("Deal", "Offer")
    other = summary.plan_takeaways(renamed, n=10, min_difference=0)
    swap = {"Deal": "Offer", "X": "Gold", "Y": "Basic", "Z": "Trial"}

    def translated(sentence):
        for old, new in swap.items():
            sentence = sentence.replace(f"**{old}**", f"**{new}**").replace(f"{old} ", f"{new} ")
        return sentence

    assert [translated(s) for s in table["suggestion"]] == list(other["suggestion"])


def test_plan_takeaways_keep_only_significant_differences():
    # Two plans of 8 buyers: a difference of 2 in 8 is far from significant.
    data = frame([("A", "Deal-Pay")] * 3 + [("A", "Pay")] * 5 + [("B", "Deal-Pay")] * 1 + [("B", "Pay")] * 7)
    assert summary.plan_takeaways(data, min_difference=0).empty
    strong = pd.concat([frame([("A", "Deal-Pay")] * 60 + [("A", "Pay")] * 40)] * 1
                       + [frame([("B", "Deal-Pay")] * 5 + [("B", "Pay")] * 95)], ignore_index=True)
    table = summary.plan_takeaways(strong)
    assert table["p_adjusted"].le(summary.ALPHA).all() and "Deal" in set(table["subject"])


def test_plan_takeaways_follow_the_reports_own_tests():
    data = designed()
    tests = pd.DataFrame({"kind": ["presence"], "feature": ["Home"], "plan_a": ["Y"], "plan_b": ["X"],
                          "significant": [True], "p_adjusted": [0.001], "test": ["chi-square"],
                          "p_value": [0.0005]})
    table = summary.plan_takeaways(data, tests=tests, n=10, min_difference=0)
    pages = table[table["kind"] == "page"]
    assert set(pages["subject"]) <= {"Home"}, "a page the report's tests did not find is left out"
    if len(pages):
        assert pages["p_adjusted"].iloc[0] == 0.001
    per_page = pd.DataFrame({"page": ["Deal", "Home"], "significant": [False, False]})
    table = summary.plan_takeaways(data, tests=per_page, n=10, min_difference=0)
    assert not (table["kind"] == "page").any()


def test_plan_takeaways_are_deterministic_and_leave_inputs_alone():
    data = designed()
    before = data.copy()
    first = summary.plan_takeaways(data)
    shuffled = data.sample(frac=1, random_state=3).reset_index(drop=True)
    second = summary.plan_takeaways(shuffled)
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(data, before)


def test_plan_takeaways_with_fewer_than_two_plans_is_empty():
    one = frame([("A", "Home-Pay")] * 5)
    assert summary.plan_takeaways(one).columns.tolist() == summary.PLAN_COLUMNS
    assert summary.plan_takeaways(designed(), plans=["X"]).empty


def test_plan_takeaways_when_no_journey_repeats_or_every_journey_is_empty():
    distinct = frame([("A", f"P{i}-Pay") for i in range(40)] + [("B", f"Q{i}") for i in range(40)])
    table = summary.plan_takeaways(distinct)
    assert "journey" not in set(table["kind"]) and {"page", "end_page"} & set(table["kind"])
    empty = frame([("A", "")] * 5 + [("B", "")] * 5)
    assert summary.plan_takeaways(empty).empty
    assert summary.journey_takeaways(empty)["kind"].tolist() == ["length", "small_sample"]


@pytest.mark.parametrize("seed", range(25))
def test_takeaways_of_any_small_export_are_consistent(seed):
    """Random small exports (empty journeys, one-buyer plans, repeated pages): counts agree with plain Python."""
    rng = np.random.default_rng(seed)
    pages = ["A", "B", "C", "Pay"]
    rows = [(str(rng.choice(["p", "q", "r"], p=[0.6, 0.35, 0.05])),
             "-".join(rng.choice(pages, size=rng.integers(0, 4)))) for _ in range(rng.integers(1, 120))]
    data = frame(rows)
    table = summary.plan_takeaways(data, min_difference=0)
    by_key = {(k, s, a, b): row for k, s, a, b, *row in ref_candidates(lists(data))}
    for row in table.itertuples(index=False):
        assert (row.count_a, row.total_a, row.count_b, row.total_b) == by_key[row.kind, row.subject, row.plan_a,
                                                                                row.plan_b][:4]
    assert table["p_adjusted"].le(summary.ALPHA).all()
    for plan in sorted(data[PLAN].unique()):
        facts = summary.journey_takeaways(data, plan=plan).set_index("kind")
        journeys = [j for j in lists(data) if j[0] == plan]
        assert facts.loc["length", "share"] == statistics.median(len(p) for _, p in journeys)
        if any(pages for _, pages in journeys):
            assert (facts.loc["top_page", "subject"], facts.loc["top_page", "count"]) == \
                ref_journey_facts(journeys)["top_page"]


def test_plan_takeaways_escape_names():
    data = designed().replace({PLAN: {"X": "<i>X</i>"}})
    data[TARGET] = data[TARGET].str.replace("Deal", "[Deal](javascript:x)")
    table = summary.plan_takeaways(data)
    shown = " ".join(table["headline"]) + " ".join(table["suggestion"])
    assert "<i>" not in shown and "](javascript" not in shown
    assert "[Deal](javascript:x)" in set(table["subject"])


# --------------------------------------------------------------------------- the reference export

def test_reference_takeaways_match_the_reference_counts(reference_journeys, reference_lists, reference_sessions):
    for plan in ("Annual", "Monthly", "Quarterly"):
        journeys = [j for j in reference_lists if j[0] == plan]
        expected = ref_journey_facts(journeys)
        table = summary.journey_takeaways(reference_journeys, sessions=reference_sessions, plan=plan)
        rows = table.set_index("kind")
        for kind in ("top_page", "end_page"):
            assert (rows.loc[kind, "subject"], rows.loc[kind, "count"]) == expected[kind]
        assert rows.loc["common_journey", "total"] == len(journeys)
        assert rows.loc["length", "share"] == expected["median"]
        assert ("small_sample" in rows.index) == (len(journeys) < summary.SMALL_PLAN)


def test_reference_plan_takeaways(reference_journeys, reference_lists):
    table = summary.plan_takeaways(reference_journeys)
    candidates = ref_candidates(reference_lists)
    by_key = {(k, s, a, b): row for k, s, a, b, *row in candidates}
    for row in table.itertuples(index=False):
        ca, ta, cb, tb, _ = by_key[row.kind, row.subject, row.plan_a, row.plan_b]
        assert (row.count_a, row.total_a, row.count_b, row.total_b) == (ca, ta, cb, tb)
    # The largest difference between plans of enough buyers leads, whatever its kind.
    large = [c for c in candidates if c[0] != "journey" and min(c[5], c[7]) >= summary.SMALL_PLAN]
    best = max(large, key=lambda c: c[-1])
    assert (table["kind"].iloc[0], table["subject"].iloc[0], table["plan_a"].iloc[0], table["plan_b"].iloc[0]) == \
        best[:4]
    journey = table[table["kind"] == "journey"].iloc[0]
    ones = [c for c in candidates if c[0] == "journey" and c[1] == journey["subject"]
            and (min(c[5], c[7]) < summary.SMALL_PLAN) == journey["small_sample"]]
    assert journey["difference"] == pytest.approx(float(max(c[-1] for c in ones)))
