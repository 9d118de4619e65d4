"""Hand-worked checks of the reference implementation itself."""

import math

import pytest

from tests import reference as ref


def test_split_journey():
    assert ref.split_journey("") == []
    assert ref.split_journey("Homepage") == ["Homepage"]
    assert ref.split_journey("Log in-Sign up-Log in") == ["Log in", "Sign up", "Log in"]


def test_remove_page_duplicates():
    assert ref.remove_page_duplicates(["A-A-B-A", "A-A-A", "A-B-A", "", "X"]) == [
        "A-B-A",
        "A",
        "A-B-A",
        "",
        "X",
    ]


ROWS = [
    # Deliberately out of session order and interleaved between users.
    (2, 30, "Monthly", "C"),
    (1, 12, "Annual", "B-B"),
    (1, 10, "Annual", "A"),
    (2, 20, "Monthly", "D-C"),
    (1, 15, "Annual", "C-A"),
    (1, 11, "Annual", "A-B"),
]


def test_group_all_sessions():
    assert ref.group_sessions(ROWS) == {
        1: ("Annual", "A-A-B-B-B-C-A", 4),
        2: ("Monthly", "D-C-C", 2),
    }


def test_group_last_n_keeps_latest_sessions_in_time_order():
    assert ref.group_sessions(ROWS, sessions=2, count_from="last") == {
        1: ("Annual", "B-B-C-A", 2),
        2: ("Monthly", "D-C-C", 2),
    }


def test_group_first_n():
    assert ref.group_sessions(ROWS, sessions=2, count_from="first") == {
        1: ("Annual", "A-A-B", 2),
        2: ("Monthly", "D-C-C", 2),
    }
    assert ref.group_sessions(ROWS, sessions=1, count_from="first")[1] == ("Annual", "A", 1)


def test_group_plan_is_that_of_latest_kept_session():
    rows = [(7, 1, "Monthly", "A"), (7, 2, "Annual", "B")]
    assert ref.group_sessions(rows)[7] == ("Annual", "A-B", 2)
    assert ref.group_sessions(rows, sessions=1, count_from="first")[7] == ("Monthly", "A", 1)


def test_group_empty_session_adds_no_page():
    rows = [(1, 1, "Annual", "A"), (1, 2, "Annual", ""), (1, 3, "Annual", "B")]
    assert ref.group_sessions(rows)[1] == ("Annual", "A-B", 3)


@pytest.mark.parametrize("sessions", [0, -1, 1.5, "3", True])
def test_group_rejects_bad_sessions(sessions):
    with pytest.raises(ValueError):
        ref.group_sessions(ROWS, sessions=sessions)


def test_group_rejects_bad_count_from():
    with pytest.raises(ValueError):
        ref.group_sessions(ROWS, sessions=2, count_from="middle")


def test_remove_pages_keeps_emptied_journey():
    journeys = ["Log in-Log in", "A-Log in-B", "A"]
    assert ref.remove_pages(journeys, ["Log in"]) == ["", "A-B", "A"]
    assert ref.remove_pages(journeys, "Log in") == ["", "A-B", "A"]
    assert ref.remove_pages(journeys, ["Log in", "A"]) == ["", "B", ""]
    assert ref.remove_pages(journeys, []) == journeys


def test_preprocess_removes_before_deduping():
    rows = [(1, 1, "Annual", "A-Log in-A-B"), (1, 2, "Annual", "B-Log in")]
    # Removing 'Log in' first makes the two A's and the two B's adjacent.
    assert ref.preprocess(rows, pages_to_remove=["Log in"]) == {1: ("Annual", "A-B", 2)}
    assert ref.preprocess(rows) == {1: ("Annual", "A-Log in-A-B-Log in", 2)}
    assert ref.preprocess(rows, sessions=1, pages_to_remove=["B", "Log in"]) == {
        1: ("Annual", "", 1)
    }


def test_journeys_for_plan():
    grouped = {3: ("Annual", "C", 1), 1: ("Monthly", "A", 1), 2: ("Annual", "B", 1)}
    assert ref.journeys_for_plan(grouped) == ["A", "B", "C"]
    assert ref.journeys_for_plan(grouped, "Annual") == ["B", "C"]
    assert ref.journeys_for_plan(grouped, ["Monthly", "Quarterly"]) == ["A"]


JOURNEYS = ["A-B-A-B-C", "B-C", "", "A"]


def test_page_count():
    assert ref.page_count(JOURNEYS) == {"A": 3, "B": 3, "C": 2}


def test_page_presence_counts_journeys_not_visits():
    assert ref.page_presence(JOURNEYS) == {"A": 2, "B": 2, "C": 2}


def test_page_destinations():
    assert ref.page_destinations(JOURNEYS, "B") == {"A": 1, "C": 2}
    assert ref.page_destinations(JOURNEYS, "C") == {}
    assert ref.page_destinations(JOURNEYS, "Missing") == {}


def test_page_transitions():
    assert ref.page_transitions(JOURNEYS) == {("A", "B"): 2, ("B", "A"): 1, ("B", "C"): 2}


def test_page_sequences_counted_once_per_journey():
    assert ref.page_sequences(["A-B-A-B-A-B", "A-B-A", "B-A"], n=3) == {"A-B-A": 2, "B-A-B": 1}
    assert ref.page_sequences(["A-B-A-B", "B-A"], n=2) == {"A-B": 1, "B-A": 2}
    assert ref.page_sequences(["A-B", ""], n=3) == {}
    assert ref.page_sequences(["A-A"], n=1) == {"A": 1}


def test_page_sequences_rejects_bad_n():
    with pytest.raises(ValueError):
        ref.page_sequences(JOURNEYS, n=0)


def test_journey_lengths():
    assert ref.journey_lengths(JOURNEYS) == [5, 2, 0, 1]
    assert ref.journey_length(JOURNEYS) == 2.0
    assert math.isnan(ref.journey_length([]))


def test_ranked_sorts_by_value_then_key():
    assert ref.ranked({"b": 2, "a": 2, "c": 5, "d": 1}) == [("c", 5), ("a", 2), ("b", 2), ("d", 1)]
    assert ref.ranked({("B", "A"): 1, ("A", "B"): 1}) == [(("A", "B"), 1), (("B", "A"), 1)]
