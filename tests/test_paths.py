"""Per-journey path structure checked against straightforward loops over page lists."""

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_utils as ju
from journey_utils import paths
from tests import reference as ref

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAGES = ["Home page", "Pricing", "Log in", "Checkout", "X"]
PLANS = ["Gold", "Silver", "Bronze"]

journeys_strategy = st.lists(
    st.tuples(st.sampled_from(PLANS), st.lists(st.sampled_from(PAGES), min_size=0, max_size=9)),
    min_size=1,
    max_size=30,
)


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": np.arange(len(rows), dtype=np.int64),
            "subscription_type": pd.array([plan for plan, _ in rows], dtype="str"),
            "user_journey": pd.array(["-".join(pages) for _, pages in rows], dtype="str"),
        }
    )


def plain_groups(rows, by_plan):
    """(label, page lists) per group, plans by name, like paths.plan_groups for every plan."""
    if not by_plan:
        return [("All", [pages for _, pages in rows])]
    order = sorted({plan for plan, _ in rows})
    return [(p, [pages for plan, pages in rows if plan == p]) for p in order]


# ---------------------------------------------------------------------------
# page_position
# ---------------------------------------------------------------------------


def plain_position(pages, page):
    step = pages.index(page) + 1
    return step, (step - 1) / (len(pages) - 1) if len(pages) > 1 else 0.0


@SETTINGS
@given(rows=journeys_strategy, page=st.sampled_from(PAGES))
def test_page_position_matches_loop(rows, page):
    data = frame(rows)
    got = paths.page_position(data, page)
    expected = [(i, plan, len(pages), *plain_position(pages, page))
                for i, (plan, pages) in enumerate(rows) if page in pages]
    assert got.index.tolist() == [e[0] for e in expected]
    assert got["plan"].tolist() == [e[1] for e in expected]
    assert got["length"].tolist() == [e[2] for e in expected]
    assert got["step"].tolist() == [e[3] for e in expected]
    assert got["position"].tolist() == pytest.approx([e[4] for e in expected])


def test_page_position_plan_selection_and_missing_page():
    data = frame([("Gold", ["A", "B"]), ("Silver", ["B"])])
    assert paths.page_position(data, "B", plan="Silver")["step"].tolist() == [1]
    assert paths.page_position(data, "Nowhere").empty
    with pytest.raises(TypeError, match="page name"):
        paths.page_position(data, 3)
    with pytest.raises(ValueError, match="unknown plan 'Platinum'"):
        paths.page_position(data, "B", plan="Platinum")


# ---------------------------------------------------------------------------
# step_matrix
# ---------------------------------------------------------------------------


def plain_step_counts(page_lists, steps):
    counts = {}
    for pages in page_lists:
        for step in range(1, steps + 1):
            state = pages[step - 1] if len(pages) >= step else paths.END
            counts[(step, state)] = counts.get((step, state), 0) + 1
    return counts


@SETTINGS
@given(rows=journeys_strategy, steps=st.integers(1, 6), by_plan=st.booleans())
def test_step_matrix_matches_loop(rows, steps, by_plan):
    got = paths.step_matrix(frame(rows), steps=steps, by_plan=by_plan)
    for label, page_lists in plain_groups(rows, by_plan):
        block = got[got["plan"] == label]
        counts = plain_step_counts(page_lists, steps)
        nonzero = {(s, p): c for (s, p), c in zip(zip(block["step"], block["page"]), block["count"]) if c}
        assert nonzero == counts
        assert (block["n"] == len(page_lists)).all()
        assert block.groupby("step")["share"].sum().to_numpy() == pytest.approx(np.ones(steps))
        # Full grid: every listed page appears at every step.
        assert len(block) == steps * block["page"].nunique()
    assert got["plan"].drop_duplicates().tolist() == [label for label, _ in plain_groups(rows, by_plan)]


def test_step_matrix_difference_is_the_difference_of_two_matrices():
    rows = [("Gold", ["A", "B", "C"]), ("Gold", ["A"]), ("Silver", ["B", "A"]), ("Silver", ["D"]), ("Silver", [])]
    data = frame(rows)
    got = paths.step_matrix_difference(data, "Gold", "Silver", steps=3)
    gold = paths.step_matrix(data, 3, "Gold").set_index(["step", "page"])["share"]
    silver = paths.step_matrix(data, 3, "Silver").set_index(["step", "page"])["share"]
    expected = gold.sub(silver, fill_value=0.0)
    assert got.set_index(["step", "page"])["difference"].sort_index().to_numpy() == pytest.approx(
        expected.sort_index().to_numpy()
    )
    assert set(got["n_a"]) == {2} and set(got["n_b"]) == {3}
    assert (got["difference_low"] <= got["difference"] + 1e-12).all()
    assert (got["difference"] <= got["difference_high"] + 1e-12).all()
    with pytest.raises(ValueError, match="must differ"):
        paths.step_matrix_difference(data, "Gold", "Gold")


# ---------------------------------------------------------------------------
# anchored_paths
# ---------------------------------------------------------------------------


def plain_anchored(page_lists, page, before, after, anchor):
    counts, n = {}, 0
    for pages in page_lists:
        if page not in pages:
            continue
        n += 1
        at = pages.index(page) if anchor == "first" else len(pages) - 1 - pages[::-1].index(page)
        for offset in range(-before, after + 1):
            i = at + offset
            state = paths.START if i < 0 else paths.END if i >= len(pages) else pages[i]
            counts[(offset, state)] = counts.get((offset, state), 0) + 1
    return counts, n


@SETTINGS
@given(rows=journeys_strategy, page=st.sampled_from(PAGES), before=st.integers(0, 3), after=st.integers(0, 3),
       anchor=st.sampled_from(["first", "last"]), by_plan=st.booleans())
def test_anchored_paths_match_loop(rows, page, before, after, anchor, by_plan):
    got = paths.anchored_paths(frame(rows), page, before=before, after=after, anchor=anchor, by_plan=by_plan)
    for label, page_lists in plain_groups(rows, by_plan):
        block = got[got["plan"] == label]
        counts, n = plain_anchored(page_lists, page, before, after, anchor)
        assert dict(zip(zip(block["offset"], block["page"]), block["count"])) == counts
        assert (block["n"] == n).all()
        if n:
            assert block.groupby("offset")["share"].sum().to_numpy() == pytest.approx(np.ones(before + after + 1))
            assert block.loc[block["offset"] == 0, "page"].tolist() == [page]


def test_anchored_paths_arguments_are_checked():
    data = frame([("Gold", ["A", "B"])])
    with pytest.raises(ValueError, match="anchor must be"):
        paths.anchored_paths(data, "A", anchor="middle")
    with pytest.raises(ValueError, match="before must be"):
        paths.anchored_paths(data, "A", before=-1)


# ---------------------------------------------------------------------------
# variants and coverage
# ---------------------------------------------------------------------------


@SETTINGS
@given(rows=journeys_strategy, by_plan=st.booleans(), share=st.sampled_from([0.5, 0.8, 1.0]))
def test_variants_and_coverage_match_counter(rows, by_plan, share):
    data = frame(rows)
    got = paths.journey_variants(data, by_plan=by_plan)
    coverage = paths.variant_coverage(data, share=share, by_plan=by_plan)
    for label, page_lists in plain_groups(rows, by_plan):
        block = got[got["plan"] == label]
        counter = Counter("-".join(pages) for pages in page_lists)
        expected = ref.ranked(counter)
        assert list(zip(block["journey"], block["count"])) == expected
        assert block["rank"].tolist() == list(range(1, len(expected) + 1))
        running, needed = 0, None
        for i, (_, count) in enumerate(expected, start=1):
            running += count
            if needed is None and running * 1.0 >= share * len(page_lists) - 1e-9:
                needed = i
        row = coverage[coverage["plan"] == label].iloc[0]
        assert row["variants"] == len(expected)
        assert row["variants_needed"] == needed
        assert block["cumulative_share"].iloc[-1] == pytest.approx(1.0)


def test_variants_top_keeps_the_full_ranking_shares():
    data = frame([("Gold", ["A"])] * 3 + [("Gold", ["B"])] * 2 + [("Gold", ["C"])])
    top = paths.journey_variants(data, top=2)
    assert top["journey"].tolist() == ["A", "B"]
    assert top["cumulative_share"].tolist() == pytest.approx([0.5, 5 / 6])


# ---------------------------------------------------------------------------
# revisits
# ---------------------------------------------------------------------------


def plain_revisits(page_lists):
    out = {}
    for pages in page_lists:
        for page in set(pages):
            entry = out.setdefault(page, Counter())
            entry["with"] += 1
            entry["revisited"] += pages.count(page) >= 2
            runs = sum(1 for i, p in enumerate(pages) if p == page and (i == 0 or pages[i - 1] != page))
            entry["returned"] += runs >= 2
            loops = sum(1 for i in range(1, len(pages)) if pages[i] == page and pages[i - 1] == page)
            entry["self_loops"] += loops
            entry["with_loop"] += loops > 0
    return out


@SETTINGS
@given(rows=journeys_strategy, by_plan=st.booleans())
def test_revisits_match_loop(rows, by_plan):
    got = paths.revisits(frame(rows), by_plan=by_plan)
    for label, page_lists in plain_groups(rows, by_plan):
        block = got[got["plan"] == label].set_index("page")
        expected = plain_revisits(page_lists)
        assert set(block.index) == set(expected)
        for page, e in expected.items():
            row = block.loc[page]
            assert (row["journeys_with_page"], row["revisited"], row["returned"], row["self_loops"],
                    row["journeys_with_self_loop"]) == (e["with"], e["revisited"], e["returned"], e["self_loops"],
                                                        e["with_loop"])
            assert row["revisit_share"] == pytest.approx(e["revisited"] / len(page_lists))


def test_revisits_count_repeats_before_collapsing():
    data = frame([("Gold", ["Log in", "Log in", "Pricing", "Log in"]), ("Gold", ["Pricing"])])
    before = paths.revisits(data).set_index("page")
    after = paths.revisits(ju.remove_page_duplicates(data)).set_index("page")
    assert before.loc["Log in", "self_loops"] == 1 and after.loc["Log in", "self_loops"] == 0
    assert before.loc["Log in", "returned"] == after.loc["Log in", "returned"] == 1


def test_empty_input_gives_empty_tables():
    empty = frame([])
    for by_plan in (False, True):
        assert paths.step_matrix(empty, steps=3, by_plan=by_plan)["count"].sum() == 0
        assert paths.anchored_paths(empty, "A", by_plan=by_plan).empty
        assert paths.journey_variants(empty, by_plan=by_plan).empty
        assert paths.revisits(empty, by_plan=by_plan).empty
    assert paths.page_position(empty, "A").empty


def test_functions_leave_their_input_unchanged():
    data = frame([("Gold", ["A", "B", "A"]), ("Silver", ["B"])])
    copy = data.copy(deep=True)
    paths.step_matrix(data, by_plan=True)
    paths.anchored_paths(data, "B", by_plan=True)
    paths.journey_variants(data)
    paths.revisits(data)
    paths.page_position(data, "A")
    pd.testing.assert_frame_equal(data, copy)


# ---------------------------------------------------------------------------
# reference data
# ---------------------------------------------------------------------------


def test_reference_positions_and_step_matrix(reference_lists, reference_journeys):
    for page in ("Pricing", "Checkout", "Resources center"):
        got = paths.page_position(reference_journeys, page)
        expected = [plain_position(pages, page) for _, pages in reference_lists if page in pages]
        assert got["step"].tolist() == [step for step, _ in expected]
        assert got["position"].tolist() == pytest.approx([position for _, position in expected])
    got = paths.step_matrix(reference_journeys, steps=8, by_plan=True)
    for label, page_lists in plain_groups(reference_lists, by_plan=True):
        block = got[(got["plan"] == label) & (got["count"] > 0)]
        assert dict(zip(zip(block["step"], block["page"]), block["count"])) == plain_step_counts(page_lists, 8)


def test_reference_anchored_variants_revisits(reference_lists, reference_journeys, reference_rows,
                                             reference_sessions):
    got = paths.anchored_paths(reference_journeys, "Checkout", before=3, after=1, anchor="last", by_plan=True)
    for label, page_lists in plain_groups(reference_lists, by_plan=True):
        block = got[got["plan"] == label]
        counts, _ = plain_anchored(page_lists, "Checkout", 3, 1, "last")
        assert dict(zip(zip(block["offset"], block["page"]), block["count"])) == counts
    variants = paths.journey_variants(reference_journeys)
    expected = ref.ranked(Counter("-".join(pages) for _, pages in reference_lists))
    assert list(zip(variants["journey"], variants["count"])) == expected
    grouped = ref.group_sessions(reference_rows)  # not collapsed
    uncollapsed = [(plan, ref.split_journey(j)) for _, (plan, j, _) in sorted(grouped.items())]
    got = paths.revisits(ju.group_by(reference_sessions), by_plan=True)
    for label, page_lists in plain_groups(uncollapsed, by_plan=True):
        block = got[got["plan"] == label].set_index("page")
        for page, e in plain_revisits(page_lists).items():
            assert (block.loc[page, "revisited"], block.loc[page, "self_loops"]) == (e["revisited"], e["self_loops"])



# ---------------------------------------------------------------------------
# revisits straight from sessions, and coverage from computed variants
# ---------------------------------------------------------------------------

sessions_strategy = st.lists(
    st.tuples(st.integers(0, 6), st.lists(st.sampled_from(PAGES), min_size=1, max_size=5)),
    min_size=1,
    max_size=40,
)


def session_frame(rows) -> pd.DataFrame:
    users = np.array([user for user, _ in rows], dtype=np.int64)
    return pd.DataFrame(
        {
            "user_id": users,
            # Sessions in shuffled time order, so that regrouping has to sort them.
            "session_id": np.random.default_rng(len(rows)).permutation(len(rows)).astype(np.int64),
            "subscription_type": pd.array([PLANS[u % 3] for u in users], dtype="str"),
            "user_journey": pd.array(["-".join(pages) for _, pages in rows], dtype="str"),
        }
    )


@SETTINGS
@given(rows=sessions_strategy, by_plan=st.booleans(), sessions=st.sampled_from(["All", 1, 2]),
       count_from=st.sampled_from(["first", "last"]), removed=st.sampled_from([[], ["Log in"], ["X", "Pricing"]]),
       plan=st.sampled_from([None, "Gold", ["Silver", "Gold"]]), block=st.sampled_from([1, 3, 1 << 20]))
def test_session_revisits_equal_revisits_of_regrouped_journeys(rows, by_plan, sessions, count_from, removed, plan,
                                                               block):
    data = session_frame(rows)
    grouped = ju.remove_pages(ju.group_by(data, sessions=sessions, count_from=count_from), removed)
    if plan is not None and not set([plan] if isinstance(plan, str) else plan) <= set(data["subscription_type"]):
        with pytest.raises(ValueError, match="session_revisits: unknown plan"):
            paths.session_revisits(data, plan, by_plan=by_plan, sessions=sessions, count_from=count_from)
        return
    expected = paths.revisits(grouped, plan, by_plan=by_plan)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "_REVISIT_SESSIONS", block)  # blocks of users of a few sessions too
        got = paths.session_revisits(data, plan, by_plan=by_plan, sessions=sessions, count_from=count_from,
                                     pages_to_remove=removed)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))


def test_session_revisits_count_repeats_across_sessions():
    data = pd.DataFrame({"user_id": [1, 1, 2], "session_id": [2, 1, 3], "subscription_type": ["Gold"] * 3,
                         "user_journey": ["A-B", "C-A", "A"]})
    got = paths.session_revisits(data).set_index("page")
    # User 1's journey is C-A-A-B: the self-loop joins the two sessions.
    assert (got.loc["A", "revisited"], got.loc["A", "self_loops"], got.loc["A", "returned"]) == (1, 1, 0)
    assert got.loc["A", "n"] == 2


def test_session_revisits_check_one_plan_per_user():
    data = pd.DataFrame({"user_id": [1, 1], "session_id": [1, 2], "subscription_type": ["Gold", "Silver"],
                         "user_journey": ["A", "B"]})
    with pytest.raises(ValueError, match="session_revisits: 1 users have more than one subscription_type"):
        paths.session_revisits(data)


@SETTINGS
@given(rows=journeys_strategy, by_plan=st.booleans(), share=st.sampled_from([0.5, 0.8, 1.0]))
def test_variant_coverage_from_computed_variants(rows, by_plan, share):
    data = frame(rows)
    variants = paths.journey_variants(data, by_plan=by_plan)
    expected = paths.variant_coverage(data, share=share, by_plan=by_plan)
    pd.testing.assert_frame_equal(paths.variant_coverage(data, share=share, by_plan=by_plan, variants=variants),
                                  expected)


def test_variant_coverage_rejects_a_table_that_is_not_variants():
    data = frame([("Gold", ["A"])])
    with pytest.raises(ValueError, match="cumulative_share"):
        paths.variant_coverage(data, variants=pd.DataFrame({"plan": ["Gold"], "n": [1]}))


def test_variants_tie_order_is_by_code_point_and_long_journeys_are_cheap():
    long = "-".join(["Pricing"] * 2000)
    data = frame([("Gold", ["é"]), ("Gold", ["z"]), ("Gold", ["a"]), ("Gold", ["Z"]), ("Gold", long.split("-"))])
    got = paths.journey_variants(data)
    assert got["journey"].tolist() == sorted(["é", "z", "a", "Z", long])
