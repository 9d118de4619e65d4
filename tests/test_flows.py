"""Step flows against a plain per-journey reference: one loop over journeys, one dict of counts.

The reference reads the definition of :mod:`journey_utils.flows` literally: the
page at each column (or the end), the most common pages of each column named and
the rest gathered, one count per journey and step until the journey ends.
"""

from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey_utils import flows

PLAN, TARGET = "subscription_type", "user_journey"


def reference_columns(page_lists, steps, max_pages):
    """Named pages of each column: the most common (ties by name); all when at most one would be gathered."""
    named = []
    for k in range(steps):
        counts = Counter(pages[k] for pages in page_lists if len(pages) > k)
        ranked = sorted(counts, key=lambda page: (-counts[page], page))
        named.append(set(ranked if len(ranked) <= max_pages + 1 else ranked[:max_pages]))
    return named


def reference_flows(page_lists, steps, max_pages, direction="forward"):
    """{(step, source, target): journeys}, journey by journey."""
    ordered = [list(pages) if direction == "forward" else list(reversed(pages)) for pages in page_lists]
    ordered = [pages for pages in ordered if pages]
    named = reference_columns(ordered, steps, max_pages)
    end = flows.END if direction == "forward" else flows.START
    counts = Counter()
    for pages in ordered:
        for k in range(min(len(pages), steps - 1)):
            source = pages[k] if pages[k] in named[k] else flows.OTHER
            if len(pages) > k + 1:
                target = pages[k + 1] if pages[k + 1] in named[k + 1] else flows.OTHER
            else:
                target = end
            counts[(k + 1, source, target)] += 1
    return dict(counts)


def as_dict(table):
    return {(int(s), src, tgt): int(n) for s, src, tgt, n in
            table[["step", "source", "target", "journeys"]].itertuples(index=False, name=None)}


def frame(journeys, plans=None):
    plans = plans if plans is not None else ["x"] * len(journeys)
    return pd.DataFrame({"user_id": range(len(journeys)), PLAN: plans, TARGET: journeys})


def split(journey):
    return journey.split("-") if journey else []


SAMPLE = ["Home-Pricing-Checkout", "Home-Checkout", "Pricing", "Home-Pricing-Home-Blog-Checkout",
          "Blog-Home", "Coupon", "Coupon-Checkout-Coupon", "Home-Pricing-Checkout"]


@pytest.mark.parametrize("direction", flows.DIRECTIONS)
@pytest.mark.parametrize("max_pages", [1, 2, 6])
def test_step_flows_match_the_reference(direction, max_pages):
    table = flows.step_flows(frame(SAMPLE), steps=4, max_pages=max_pages, direction=direction)
    assert as_dict(table) == reference_flows([split(j) for j in SAMPLE], 4, max_pages, direction)
    assert (table["n"] == len(SAMPLE)).all()
    assert np.allclose(table["share"], table["journeys"] / len(SAMPLE))


def test_every_journey_leaves_the_first_column_once_and_ended_journeys_stop():
    table = flows.step_flows(frame(SAMPLE), steps=5)
    per_step = table.groupby("step")["journeys"].sum()
    alive = [sum(len(split(j)) > k for j in SAMPLE) for k in range(4)]
    assert per_step.tolist() == alive
    assert table.loc[table["step"] == 1, "share"].sum() == pytest.approx(1.0)
    # What reaches a column (not as an end) is what leaves it.
    for step in range(1, 4):
        arriving = table[(table["step"] == step) & (table["target"] != flows.END)].groupby("target")["journeys"].sum()
        leaving = table[table["step"] == step + 1].groupby("source")["journeys"].sum()
        assert arriving.sort_index().to_dict() == leaving.sort_index().to_dict()


def test_pages_outside_the_most_common_are_gathered_per_column():
    journeys = ["A-B"] * 5 + ["C-B"] * 3 + ["D-E"] * 2 + ["F-E"]
    table = flows.step_flows(frame(journeys), steps=2, max_pages=2)
    assert as_dict(table) == {(1, "A", "B"): 5, (1, "C", "B"): 3, (1, flows.OTHER, "E"): 3}
    # Only one page left over: it keeps its name.
    table = flows.step_flows(frame(journeys), steps=2, max_pages=3)
    assert set(table["source"]) == {"A", "C", "D", "F"}


def test_sorted_by_step_then_journeys_then_names():
    table = flows.step_flows(frame(SAMPLE), steps=4)
    keys = list(zip(table["step"], -table["journeys"], table["source"], table["target"]))
    assert keys == sorted(keys)


def test_plan_selection_and_checks():
    data = frame(SAMPLE, ["a", "b"] * 4)
    only_a = flows.step_flows(data, plan="a", steps=3)
    assert as_dict(only_a) == reference_flows([split(j) for j in SAMPLE[::2]], 3, 6)
    assert as_dict(flows.step_flows(data, plan=["a", "b"])) == as_dict(flows.step_flows(data))
    with pytest.raises(ValueError, match="unknown plan 'c'"):
        flows.step_flows(data, plan="c")
    with pytest.raises(ValueError, match="at least 2"):
        flows.step_flows(data, steps=1)
    with pytest.raises(ValueError, match="direction"):
        flows.step_flows(data, direction="sideways")
    with pytest.raises(TypeError, match="max_pages"):
        flows.step_flows(data, max_pages=2.5)


def test_inputs_are_left_alone_and_nothing_gives_an_empty_table():
    data = frame(SAMPLE)
    before = data.copy()
    flows.step_flows(data)
    flows.flow_differences(frame(SAMPLE, ["a", "b"] * 4), ["a", "b"])
    pd.testing.assert_frame_equal(data, before)
    empty = flows.step_flows(frame(["", ""]))
    assert empty.empty and list(empty.columns) == ["step", "source", "target", "journeys", "n", "share"]


def reference_differences(journeys, plans, chosen, steps, max_pages, direction="forward"):
    """Rows of flow_differences, from the reference counts: pages named over the plans compared together."""
    kept = [(p, split(j)) for j, p in zip(journeys, plans) if p in chosen]
    ordered = [(p, pages if direction == "forward" else pages[::-1]) for p, pages in kept if pages]
    named = reference_columns([pages for _, pages in ordered], steps, max_pages)
    counts = {p: Counter() for p in chosen}
    sizes = Counter(p for p, _ in ordered)
    for plan, pages in ordered:
        for k in range(min(len(pages), steps - 1)):
            source = pages[k] if pages[k] in named[k] else flows.OTHER
            target = ((pages[k + 1] if pages[k + 1] in named[k + 1] else flows.OTHER) if len(pages) > k + 1
                      else (flows.END if direction == "forward" else flows.START))
            counts[plan][(k + 1, source, target)] += 1
    keys = set().union(*counts.values())
    rows = {}
    for a, b in combinations(chosen, 2):
        for key in keys:
            share_a = counts[a][key] / sizes[a] if sizes[a] else 0.0
            share_b = counts[b][key] / sizes[b] if sizes[b] else 0.0
            rows[(a, b) + key] = (counts[a][key], counts[b][key], share_a, share_b, share_a - share_b)
    return rows


def difference_dict(table):
    return {(a, b, int(s), src, tgt): (int(ja), int(jb), sa, sb, d) for s, src, tgt, a, b, ja, jb, sa, sb, d in
            table[["step", "source", "target", "plan_a", "plan_b", "journeys_a", "journeys_b", "share_a", "share_b",
                   "difference"]].itertuples(index=False, name=None)}


def assert_same(got, expected):
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        assert got[key][:2] == values[:2]
        assert np.allclose(got[key][2:], values[2:])


def test_flow_differences_match_the_reference_for_every_pair():
    plans = ["a", "b", "c", "a", "b", "a", "c", "b"]
    table = flows.flow_differences(frame(SAMPLE, plans), ["b", "a", "c"], steps=3, max_pages=2)
    assert_same(difference_dict(table), reference_differences(SAMPLE, plans, ["b", "a", "c"], 3, 2))
    size = table["difference"].abs().to_numpy()
    assert np.all(size[:-1] >= size[1:] - 1e-12), "largest difference first"
    everything = flows.flow_differences(frame(SAMPLE, plans), steps=3)
    assert set(zip(everything["plan_a"], everything["plan_b"])) == {("a", "b"), ("a", "c"), ("b", "c")}
    with pytest.raises(ValueError, match="at least 2 plans are needed"):
        flows.flow_differences(frame(SAMPLE, plans), ["a"])


journey_lists = st.lists(
    st.tuples(st.sampled_from(["p", "q"]),
              st.lists(st.sampled_from(["A", "B", "C", "D", "E", "F"]), min_size=0, max_size=7)),
    min_size=1, max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journey_lists, st.integers(2, 5), st.integers(1, 4), st.sampled_from(flows.DIRECTIONS))
def test_property_flows_and_differences_agree_with_the_reference(rows, steps, max_pages, direction):
    journeys = ["-".join(pages) for _, pages in rows]
    plans = [plan for plan, _ in rows]
    data = frame(journeys, plans)
    table = flows.step_flows(data, steps=steps, max_pages=max_pages, direction=direction)
    assert as_dict(table) == reference_flows([split(j) for j in journeys], steps, max_pages, direction)
    if len(set(plans)) == 2:
        chosen = ["q", "p"]
        got = flows.flow_differences(data, chosen, steps=steps, max_pages=max_pages, direction=direction)
        assert_same(difference_dict(got), reference_differences(journeys, plans, chosen, steps, max_pages, direction))


def test_reference_data_flows_match_the_reference(reference_journeys):
    journeys = reference_journeys
    page_lists = [split(j) for j in journeys[TARGET].tolist()]
    for direction in flows.DIRECTIONS:
        table = flows.step_flows(journeys, steps=4, max_pages=6, direction=direction)
        assert as_dict(table) == reference_flows(page_lists, 4, 6, direction)
    plans = sorted(journeys[PLAN].unique())[:2]
    got = flows.flow_differences(journeys, plans, steps=4, max_pages=6)
    expected = reference_differences(journeys[TARGET].tolist(), journeys[PLAN].tolist(), plans, 4, 6)
    assert_same(difference_dict(got), expected)
