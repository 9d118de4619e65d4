"""Unit tests of the metrics: worked examples, ordering, plans, edge cases, argument errors."""

import math

import numpy as np
import pandas as pd
import pytest

import journey_utils as ju
from tests import reference as ref

JOURNEYS = pd.DataFrame(
    {
        "user_id": [1, 2, 3, 4, 5],
        "subscription_type": ["Annual", "Monthly", "Annual", "Quarterly", "Monthly"],
        "user_journey": ["Homepage-Pricing-Homepage-Checkout", "Pricing-Checkout", "Homepage", "",
                         "Homepage-Pricing-Checkout"],
    },
    index=[10, 20, 30, 40, 50],
)


def pairs(series):
    return list(zip(series.index.tolist(), series.tolist()))


# --- worked examples -----------------------------------------------------------------


def test_page_count():
    counts = ju.page_count(JOURNEYS)
    assert pairs(counts) == [("Homepage", 4), ("Checkout", 3), ("Pricing", 3)]
    assert counts.name == "count" and counts.index.name == "page" and counts.dtype == np.int64


def test_page_presence():
    presence = ju.page_presence(JOURNEYS)
    assert pairs(presence) == [("Checkout", 3), ("Homepage", 3), ("Pricing", 3)]
    assert presence.name == "journeys"
    share = ju.page_presence(JOURNEYS, normalize=True)
    # The empty journey counts in the denominator.
    assert pairs(share) == [("Checkout", 0.6), ("Homepage", 0.6), ("Pricing", 0.6)]
    assert share.name == "share" and share.dtype == np.float64


def test_page_destinations():
    destinations = ju.page_destinations(JOURNEYS, "Homepage")
    assert pairs(destinations) == [("Pricing", 2), ("Checkout", 1)]
    assert destinations.name == "count" and destinations.index.name == "next_page"
    assert pairs(ju.page_destinations(JOURNEYS, "Pricing")) == [("Checkout", 2), ("Homepage", 1)]
    # The last page of a journey has no destination, even if the next journey starts right after it.
    assert ju.page_destinations(JOURNEYS, "Checkout").empty
    assert ju.page_destinations(JOURNEYS, "Not a page").empty


def test_page_transitions():
    table = ju.page_transitions(JOURNEYS)
    assert table.values.tolist() == [["Homepage", "Pricing", 2], ["Pricing", "Checkout", 2],
                                     ["Homepage", "Checkout", 1], ["Pricing", "Homepage", 1]]
    assert list(table.columns) == ["page", "next_page", "count"] and table["count"].dtype == np.int64
    assert isinstance(table.index, pd.RangeIndex)


def test_page_sequences():
    assert pairs(ju.page_sequences(JOURNEYS, n=2)) == [("Homepage-Pricing", 2), ("Pricing-Checkout", 2),
                                                     ("Homepage-Checkout", 1), ("Pricing-Homepage", 1)]
    assert pairs(ju.page_sequences(JOURNEYS)) == [("Homepage-Pricing-Checkout", 1),
                                                 ("Homepage-Pricing-Homepage", 1), ("Pricing-Homepage-Checkout", 1)]
    assert pairs(ju.page_sequences(JOURNEYS, n=4)) == [("Homepage-Pricing-Homepage-Checkout", 1)]
    series = ju.page_sequences(JOURNEYS, n=2)
    assert series.name == "journeys" and series.index.name == "sequence"


def test_page_sequences_counted_once_per_journey():
    frame = pd.DataFrame({"user_journey": ["A-B-A-B-A-B", "A-B-A", "B-A"]})
    assert pairs(ju.page_sequences(frame, n=3)) == [("A-B-A", 2), ("B-A-B", 1)]
    assert pairs(ju.page_sequences(frame, n=1)) == [("A", 3), ("B", 3)]


def test_page_sequences_longer_than_every_journey():
    series = ju.page_sequences(JOURNEYS, n=5)
    assert series.empty and series.name == "journeys" and series.dtype == np.int64


def test_journey_lengths_and_mean():
    lengths = ju.journey_lengths(JOURNEYS)
    assert lengths.tolist() == [4, 2, 1, 0, 3]
    assert lengths.index.tolist() == [10, 20, 30, 40, 50]
    assert lengths.name == "length" and lengths.dtype == np.int64
    assert ju.journey_length(JOURNEYS) == 2.0
    annual = ju.journey_lengths(JOURNEYS, plan="Annual")
    assert annual.index.tolist() == [10, 30] and annual.tolist() == [4, 1]
    assert ju.journey_length(JOURNEYS, plan=["Annual", "Quarterly"]) == pytest.approx(5 / 3)


def test_one_page_journeys():
    frame = pd.DataFrame({"user_journey": ["Homepage", "Homepage", "Pricing"]})
    assert pairs(ju.page_count(frame)) == [("Homepage", 2), ("Pricing", 1)]
    assert ju.page_transitions(frame).empty
    assert ju.page_destinations(frame, "Homepage").empty
    assert ju.page_sequences(frame, n=2).empty
    assert ju.journey_lengths(frame).tolist() == [1, 1, 1]


@pytest.mark.parametrize("n_pages", [63, 64, 65, 130])
def test_page_presence_with_many_distinct_pages(n_pages):
    # Small vocabularies take a bit-set path, large ones a sort: both must agree with the reference.
    rng = np.random.default_rng(n_pages)
    names = [f"P{k}" for k in range(n_pages)]
    journeys = ["-".join(rng.choice(names, size=rng.integers(1, 12))) for _ in range(300)]
    journeys += ["-".join(names), "", names[-1]]
    frame = pd.DataFrame({"user_journey": journeys})
    assert pairs(ju.page_presence(frame)) == ref.ranked(ref.page_presence(journeys))


# --- ordering ------------------------------------------------------------------------


def test_ties_are_broken_by_key_ascending():
    frame = pd.DataFrame({"user_journey": ["b-a", "c-a", "B-a", "a b-a", "Ä-a", "a-b"]})
    counts = ju.page_count(frame)
    assert pairs(counts) == ref.ranked(ref.page_count(frame["user_journey"].tolist()))
    assert counts.index.tolist() == ["a", "b", "B", "a b", "c", "Ä"]
    transitions = ju.page_transitions(frame)
    assert transitions[["page", "next_page"]].values.tolist() == [["B", "a"], ["a", "b"], ["a b", "a"], ["b", "a"],
                                                                  ["c", "a"], ["Ä", "a"]]


def test_sequence_ties_sort_as_whole_strings():
    # 'A B-C' < 'A-B-C' < 'AB-C' as strings; the library must sort the joined name.
    frame = pd.DataFrame({"user_journey": ["AB-C", "A-B-C", "A B-C"]})
    assert ju.page_sequences(frame, n=2).index.tolist() == ["A B-C", "A-B", "AB-C", "B-C"]


# --- plans ----------------------------------------------------------------------------


def test_plan_selection():
    assert pairs(ju.page_count(JOURNEYS, plan="Monthly")) == [("Checkout", 2), ("Pricing", 2), ("Homepage", 1)]
    both = ju.page_count(JOURNEYS, plan=["Monthly", "Annual"])
    assert pairs(both) == pairs(ju.page_count(JOURNEYS[JOURNEYS["subscription_type"] != "Quarterly"]))
    assert pairs(ju.page_count(JOURNEYS, plan=("Quarterly",))) == []
    assert ju.page_presence(JOURNEYS, plan="Quarterly", normalize=True).empty


@pytest.mark.parametrize("function, args", [
    (ju.page_count, ()), (ju.page_presence, ()), (ju.page_destinations, ("Homepage",)), (ju.page_transitions, ()),
    (ju.page_sequences, (2,)), (ju.journey_lengths, ()), (ju.journey_length, ()),
])
def test_unknown_plan_lists_plans_present(function, args):
    with pytest.raises(ValueError) as caught:
        function(JOURNEYS, *args, plan="Weekly")
    message = str(caught.value)
    assert "unknown plan 'Weekly'" in message and "plans present: Annual, Monthly, Quarterly" in message
    with pytest.raises(ValueError, match="unknown plan 'Weekly'"):
        function(JOURNEYS, *args, plan=["Annual", "Weekly"])


@pytest.mark.parametrize("plan", [[], 5, [1], b"Annual", {"Annual": 1}])
def test_invalid_plan_argument(plan):
    with pytest.raises((ValueError, TypeError), match="plan must be None .every plan., a plan name or a"):
        ju.page_count(JOURNEYS, plan=plan)


def test_plan_named_twice_is_an_error():
    with pytest.raises(ValueError, match="plan 'Annual' is named more than once"):
        ju.page_count(JOURNEYS, plan=["Annual", "Monthly", "Annual"])


@pytest.mark.parametrize("function, args", [
    (ju.page_count, ()), (ju.page_presence, ()), (ju.page_destinations, ("Homepage",)), (ju.page_transitions, ()),
    (ju.page_sequences, (2,)), (ju.journey_lengths, ()),
])
def test_every_plan_is_none_and_all_unless_a_plan_is_named_all(function, args):
    expected = function(JOURNEYS, *args)
    assert function(JOURNEYS, *args, plan=None).equals(expected)
    assert function(JOURNEYS, *args, plan="All").equals(expected)
    renamed = JOURNEYS.assign(subscription_type=JOURNEYS["subscription_type"].replace({"Monthly": "All"}))
    assert function(renamed, *args, plan=None).equals(expected)
    with pytest.raises(ValueError, match="plan='All' is ambiguous.*plan=None for every plan, or plan=.'All'."):
        function(renamed, *args, plan="All")
    only = function(renamed, *args, plan=["All"])
    assert only.equals(function(JOURNEYS, *args, plan="Monthly"))
    expected = function(JOURNEYS, *args, plan=["Monthly", "Annual"])
    assert function(renamed, *args, plan=["All", "Annual"]).equals(expected)


def test_plan_column_that_is_not_text():
    frame = pd.DataFrame({"user_journey": ["A", "B"], "subscription_type": [1, 2]})
    with pytest.raises(ValueError, match="unknown plan '1'; plans present: 1, 2"):
        ju.page_count(frame, plan="1")


def test_custom_column_names():
    frame = JOURNEYS.rename(columns={"user_journey": "path", "subscription_type": "tier"})
    assert pairs(ju.page_count(frame, "Annual", target_column="path", plan_column="tier")) == pairs(
        ju.page_count(JOURNEYS, "Annual"))
    assert ju.page_sequences(frame, 2, "Monthly", target_column="path", plan_column="tier").equals(
        ju.page_sequences(JOURNEYS, 2, "Monthly"))
    with pytest.raises(ValueError, match="column 'user_journey' not found"):
        ju.page_count(frame)


def test_all_plans_needs_no_plan_column():
    frame = pd.DataFrame({"user_journey": ["A-B"]})
    assert pairs(ju.page_count(frame)) == [("A", 1), ("B", 1)]
    with pytest.raises(ValueError, match="column 'subscription_type' not found"):
        ju.page_count(frame, plan="Annual")


# --- arguments and edge cases ---------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -1, 2.5, "3", True, None])
def test_page_sequences_invalid_n(n):
    with pytest.raises((ValueError, TypeError), match=rf"n must be a positive integer; found {n!r}"):
        ju.page_sequences(JOURNEYS, n=n)


def test_page_destinations_page_must_be_text():
    with pytest.raises(TypeError, match="page must be a page name"):
        ju.page_destinations(JOURNEYS, 3)


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="expected a pandas DataFrame, found Series"):
        ju.page_count(JOURNEYS["user_journey"])


def test_missing_journeys_are_rejected():
    frame = pd.DataFrame({"user_journey": ["A", None]})
    with pytest.raises(ValueError, match="missing"):
        ju.page_count(frame)


def test_empty_page_names_are_rejected():
    frame = pd.DataFrame({"user_journey": ["A--B"]})
    with pytest.raises(ValueError, match="empty page names"):
        ju.page_count(frame)


def test_empty_data():
    empty = JOURNEYS.iloc[:0]
    for series in (ju.page_count(empty), ju.page_presence(empty), ju.page_presence(empty, normalize=True),
                   ju.page_destinations(empty, "A"), ju.page_sequences(empty), ju.journey_lengths(empty)):
        assert isinstance(series, pd.Series) and series.empty
    assert ju.page_transitions(empty).empty
    assert list(ju.page_transitions(empty).columns) == ["page", "next_page", "count"]
    assert math.isnan(ju.journey_length(empty))


def test_only_empty_journeys():
    frame = pd.DataFrame({"user_journey": ["", ""]})
    assert ju.page_count(frame).empty and ju.page_presence(frame, normalize=True).empty
    assert ju.journey_lengths(frame).tolist() == [0, 0] and ju.journey_length(frame) == 0.0


def test_nul_in_page_names():
    # NUL is a valid character: 'A' and 'A\x00' are different pages.
    journeys = ["A-\x00-A\x00-\x00", "\x00-B"]
    frame = pd.DataFrame({"user_journey": journeys})
    assert pairs(ju.page_count(frame)) == ref.ranked(ref.page_count(journeys))
    assert pairs(ju.page_destinations(frame, "\x00")) == ref.ranked(ref.page_destinations(journeys, "\x00"))
    assert pairs(ju.page_destinations(frame, "A")) == ref.ranked(ref.page_destinations(journeys, "A"))


def test_many_pages_and_long_sequences_stay_exact():
    # Enough distinct pages that n-gram keys need re-numbering to fit in 64 bits.
    rng = np.random.default_rng(3)
    vocabulary = [f"P{i}" for i in range(3000)]
    journeys = ["-".join(rng.choice(vocabulary, size=rng.integers(1, 30))) for _ in range(300)]
    frame = pd.DataFrame({"user_journey": journeys})
    for n in (1, 5, 8):
        assert pairs(ju.page_sequences(frame, n=n)) == ref.ranked(ref.page_sequences(journeys, n=n))
    assert pairs(ju.page_presence(frame)) == ref.ranked(ref.page_presence(journeys))
