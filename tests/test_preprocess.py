"""Unit tests of preprocessing: group_by, remove_pages, remove_page_duplicates, preprocess."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_utils as ju
from tests import reference as ref
from tests.agreement import as_grouped, sessions_frame

# Out of session order and interleaved between users on purpose.
ROWS = [
    (2, 30, "Monthly", "C"),
    (1, 12, "Annual", "B-B"),
    (1, 10, "Annual", "A"),
    (2, 20, "Monthly", "D-C"),
    (1, 15, "Annual", "C-A"),
    (1, 11, "Annual", "A-B"),
    (3, 5, "Quarterly", "Homepage-Log in"),
]


@pytest.fixture
def sessions():
    return sessions_frame(ROWS)


# --- group_by ------------------------------------------------------------------------------


def test_group_by_joins_sessions_in_session_order_not_row_order(sessions):
    grouped = ju.group_by(sessions)
    assert list(grouped.columns) == ["user_id", "subscription_type", "user_journey", "session_id", "n_sessions"]
    assert grouped.to_dict("records") == [
        {"user_id": 1, "subscription_type": "Annual", "user_journey": "A-A-B-B-B-C-A", "session_id": 15,
         "n_sessions": 4},
        {"user_id": 2, "subscription_type": "Monthly", "user_journey": "D-C-C", "session_id": 30, "n_sessions": 2},
        {"user_id": 3, "subscription_type": "Quarterly", "user_journey": "Homepage-Log in", "session_id": 5,
         "n_sessions": 1},
    ]
    assert grouped["user_id"].dtype == np.int64 and grouped["n_sessions"].dtype == np.int64
    assert isinstance(grouped.index, pd.RangeIndex)


def test_group_by_same_result_for_any_row_order(sessions):
    expected = ju.group_by(sessions, sessions=2)
    for seed in range(5):
        shuffled = sessions.sample(frac=1, random_state=seed)
        pd.testing.assert_frame_equal(ju.group_by(shuffled, sessions=2), expected)


@pytest.mark.parametrize("count_from, want", [
    ("last", {1: ("Annual", "B-B-C-A", 2), 2: ("Monthly", "D-C-C", 2), 3: ("Quarterly", "Homepage-Log in", 1)}),
    ("first", {1: ("Annual", "A-A-B", 2), 2: ("Monthly", "D-C-C", 2), 3: ("Quarterly", "Homepage-Log in", 1)}),
])
def test_group_by_first_or_last_n(sessions, count_from, want):
    grouped = ju.group_by(sessions, sessions=2, count_from=count_from)
    assert as_grouped(grouped) == want
    assert grouped["session_id"].tolist() == ([15, 30, 5] if count_from == "last" else [11, 30, 5])


def test_group_by_window_larger_than_history(sessions):
    assert as_grouped(ju.group_by(sessions, sessions=100)) == as_grouped(ju.group_by(sessions))


def test_group_by_one_session(sessions):
    grouped = ju.group_by(sessions, sessions=1, count_from="first")
    assert grouped["user_journey"].tolist() == ["A", "D-C", "Homepage-Log in"]
    assert grouped["n_sessions"].tolist() == [1, 1, 1]


def test_group_by_accepts_numpy_integers(sessions):
    assert as_grouped(ju.group_by(sessions, sessions=np.int64(2))) == as_grouped(ju.group_by(sessions, sessions=2))


def test_group_by_empty_sessions_add_no_page():
    frame = sessions_frame([(1, 1, "Annual", "A"), (1, 2, "Annual", ""), (1, 3, "Annual", "B"), (2, 4, "Annual", "")])
    assert as_grouped(ju.group_by(frame)) == {1: ("Annual", "A-B", 3), 2: ("Annual", "", 1)}


def test_group_by_custom_column_names():
    frame = pd.DataFrame({"customer": [5, 5, 4], "visit": [2, 1, 9], "plan": ["Gold", "Gold", "Silver"],
                          "path": ["B", "A", "C"]})
    grouped = ju.group_by(frame, group_column="customer", target_column="path", order_column="visit",
                          plan_column="plan")
    assert grouped.to_dict("records") == [
        {"customer": 4, "plan": "Silver", "path": "C", "visit": 9, "n_sessions": 1},
        {"customer": 5, "plan": "Gold", "path": "A-B", "visit": 2, "n_sessions": 2},
    ]
    journeys = ju.preprocess(frame, target_column="path", group_column="customer", order_column="visit",
                             plan_column="plan")
    assert journeys["path"].tolist() == ["C", "A-B"]


def test_group_by_without_plan_column():
    frame = pd.DataFrame({"user_id": [1, 1], "session_id": [2, 1], "user_journey": ["B", "A"]})
    grouped = ju.group_by(frame)
    assert "subscription_type" not in grouped.columns
    assert grouped["user_journey"].tolist() == ["A-B"]


def test_group_by_user_with_two_plans():
    frame = sessions_frame([(7, 1, "Annual", "A"), (7, 2, "Monthly", "B"), (8, 3, "Annual", "C")])
    with pytest.raises(ValueError, match=r"1 users have more than one subscription_type \(e\.g\. 7\)"):
        ju.group_by(frame)


@pytest.mark.parametrize("value", [0, -1, "all", "ALL", "3", 2.5, True])
def test_group_by_invalid_sessions_say_what_is_allowed(sessions, value):
    with pytest.raises((ValueError, TypeError)) as caught:
        ju.group_by(sessions, sessions=value)
    message = str(caught.value)
    assert "sessions must be 'All' or a positive integer" in message, message
    assert repr(value) in message


@pytest.mark.parametrize("value", ["middle", "Last", None])
def test_group_by_invalid_count_from(sessions, value):
    with pytest.raises(ValueError, match=rf"count_from must be 'first' or 'last'; found {value!r}"):
        ju.group_by(sessions, sessions=2, count_from=value)


def test_group_by_missing_column_and_wrong_type(sessions):
    with pytest.raises(ValueError, match="column 'session_id' not found; columns present: user_id"):
        ju.group_by(sessions.drop(columns="session_id"))
    with pytest.raises(TypeError, match="expected a pandas DataFrame, found list"):
        ju.group_by(ROWS)


def test_group_by_empty_data():
    grouped = ju.group_by(sessions_frame([]))
    assert len(grouped) == 0
    assert list(grouped.columns) == ["user_id", "subscription_type", "user_journey", "session_id", "n_sessions"]


def test_group_by_large_ids():
    big = 2**62
    frame = sessions_frame([(big, big + 1, "Annual", "B"), (big, big, "Annual", "A"), (1, big + 2, "Annual", "C")])
    grouped = ju.group_by(frame)
    assert grouped["user_id"].tolist() == [1, big] and grouped["user_journey"].tolist() == ["C", "A-B"]


# --- remove_page_duplicates ------------------------------------------------------------


def test_remove_page_duplicates():
    journeys = ["A-A-B-A", "A-A-A", "A-B-A", "", "X", "Log in-Log in-Log in", "A B-A B-A"]
    frame = pd.DataFrame({"user_journey": journeys, "other": range(7)}, index=list("abcdefg"))
    out = ju.remove_page_duplicates(frame)
    assert out["user_journey"].tolist() == ref.remove_page_duplicates(journeys)
    assert out["user_journey"].tolist() == ["A-B-A", "A", "A-B-A", "", "X", "Log in", "A B-A"]
    assert out.index.tolist() == list("abcdefg") and out["other"].tolist() == list(range(7))
    assert out is not frame


def test_remove_page_duplicates_custom_column():
    frame = pd.DataFrame({"path": ["A-A"], "user_journey": ["B-B"]})
    out = ju.remove_page_duplicates(frame, target_column="path")
    assert out.to_dict("records") == [{"path": "A", "user_journey": "B-B"}]


def test_remove_page_duplicates_page_names_that_differ_only_at_the_end():
    journeys = ["Log in-Log in ", "A-AA-A", "Ü-U-Ü"]
    frame = pd.DataFrame({"user_journey": journeys})
    assert ju.remove_page_duplicates(frame)["user_journey"].tolist() == ref.remove_page_duplicates(journeys)


def test_remove_page_duplicates_nul_in_page_names():
    # NUL is a valid character; names that differ by a trailing NUL are different pages.
    journeys = ["A-A\x00-A", "\x00-\x00-B"]
    frame = pd.DataFrame({"user_journey": journeys})
    assert ju.remove_page_duplicates(frame)["user_journey"].tolist() == ref.remove_page_duplicates(journeys)


# --- remove_pages ----------------------------------------------------------------------


def test_remove_pages_keeps_emptied_journeys():
    journeys = ["Log in-Log in", "A-Log in-B", "A", "", "Log in-A-Log in"]
    frame = pd.DataFrame({"user_journey": journeys}, index=[5, 3, 1, 4, 2])
    out = ju.remove_pages(frame, ["Log in"])
    assert out["user_journey"].tolist() == ["", "A-B", "A", "", "A"]
    assert out.index.tolist() == [5, 3, 1, 4, 2]
    assert ju.remove_pages(frame, "Log in")["user_journey"].tolist() == out["user_journey"].tolist()
    assert ju.remove_pages(frame, ("Log in", "A"))["user_journey"].tolist() == ["", "B", "", "", ""]
    assert ju.remove_pages(frame, {"A"})["user_journey"].tolist() == ref.remove_pages(journeys, {"A"})


def test_remove_pages_matches_whole_names_only():
    journeys = ["Log in-Log-Log in now-Login", "A B-A-B"]
    frame = pd.DataFrame({"user_journey": journeys})
    assert ju.remove_pages(frame, ["Log"])["user_journey"].tolist() == ["Log in-Log in now-Login", "A B-A-B"]
    assert ju.remove_pages(frame, ["A"])["user_journey"].tolist() == ["Log in-Log-Log in now-Login", "A B-B"]


def test_remove_pages_nothing_to_remove():
    frame = pd.DataFrame({"user_journey": ["A-B", ""]})
    pd.testing.assert_frame_equal(ju.remove_pages(frame, []), frame)
    pd.testing.assert_frame_equal(ju.remove_pages(frame, ["Not a page"]), frame)
    assert ju.remove_pages(frame, []) is not frame


def test_remove_pages_nul_in_page_names():
    journeys = ["A-\x00-B", "\x00", "A\x00-A"]
    frame = pd.DataFrame({"user_journey": journeys})
    assert ju.remove_pages(frame, ["\x00"])["user_journey"].tolist() == ref.remove_pages(journeys, ["\x00"])
    assert ju.remove_pages(frame, ["A"])["user_journey"].tolist() == ref.remove_pages(journeys, ["A"])


@pytest.mark.parametrize("pages, error", [(5, TypeError), ([1, 2], TypeError), ([None], TypeError)])
def test_remove_pages_invalid_pages(pages, error):
    with pytest.raises(error, match="page"):
        ju.remove_pages(pd.DataFrame({"user_journey": ["A"]}), pages)


def test_remove_pages_empty_data():
    out = ju.remove_pages(pd.DataFrame({"user_journey": pd.Series([], dtype="str")}), ["A"])
    assert len(out) == 0 and list(out.columns) == ["user_journey"]


# --- preprocess ------------------------------------------------------------------------


def test_preprocess_removes_pages_before_collapsing_repeats():
    rows = [(1, 1, "Annual", "A-Log in-A-B"), (1, 2, "Annual", "B-Log in")]
    frame = sessions_frame(rows)
    assert ju.preprocess(frame, pages_to_remove=["Log in"])["user_journey"].tolist() == ["A-B"]
    assert ju.preprocess(frame)["user_journey"].tolist() == ["A-Log in-A-B-Log in"]
    assert ju.preprocess(frame, sessions=1, pages_to_remove=["B", "Log in"])["user_journey"].tolist() == [""]


@pytest.mark.parametrize("options", [{}, {"sessions": 2}, {"sessions": 1, "count_from": "first"},
                                     {"pages_to_remove": "C"}, {"sessions": 3, "pages_to_remove": ["A", "B"]}])
def test_preprocess_matches_reference(sessions, options):
    assert as_grouped(ju.preprocess(sessions, **options)) == ref.preprocess(ROWS, **options)


def test_preprocess_rejects_invalid_arguments(sessions):
    with pytest.raises((ValueError, TypeError), match="sessions"):
        ju.preprocess(sessions, sessions=0)
    with pytest.raises(ValueError, match="count_from"):
        ju.preprocess(sessions, count_from="middle")
    with pytest.raises(TypeError, match="page"):
        ju.preprocess(sessions, pages_to_remove=3)


def test_functions_return_new_objects(sessions):
    for function in (ju.group_by, ju.preprocess, ju.remove_page_duplicates, lambda d: ju.remove_pages(d, ["A"])):
        out = function(sessions)
        assert out is not sessions
        out["user_journey"] = "changed"
        assert sessions["user_journey"].tolist() == [r[3] for r in ROWS]


def test_remembered_encodings_go_with_their_frames(tmp_path):
    # Loading, grouping and counting share one split of the journeys; once the frames
    # are deleted nothing of them may stay behind in memory.
    from journey_utils import _codes

    text = "user_id,session_id,subscription_type,user_journey\n" + "".join(
        f"{u},{s},Annual,Homepage-Page {u % 7}-Checkout\n" for u in range(50) for s in range(3))
    path = tmp_path / "sessions.csv"
    path.write_text(text)
    memos = (_codes._cache, _codes._split_cache, _codes._label_cache)
    for memo in memos:
        memo.clear()
    data = ju.load_sessions(path)
    grouped = ju.preprocess(data, sessions=2)
    ju.page_count(grouped)
    assert all(len(memo) for memo in memos)
    del data, grouped
    assert [len(memo) for memo in memos] == [0, 0, 0]


@pytest.mark.parametrize("skip", [1, 2, 5])
def test_skipping_first_sessions_equals_preprocessing_the_later_ones(skip):
    from journey_utils.preprocess import _preprocess

    rng = np.random.default_rng(skip)
    users = rng.integers(0, 30, 200)
    data = pd.DataFrame({
        "user_id": users,
        "session_id": rng.permutation(200),  # not in time order
        "subscription_type": pd.array([f"plan {u % 3}" for u in users], dtype="str"),
        "user_journey": pd.array(["-".join(rng.choice(["A", "B", "Log in"], rng.integers(1, 4))) for _ in users],
                                 dtype="str"),
    })
    rank = data.groupby("user_id")["session_id"].rank(method="first")
    expected = ju.preprocess(data[(rank > skip).to_numpy()], pages_to_remove=["Log in"])
    got = _preprocess(data, pages_to_remove=["Log in"], skip_first=skip)
    pd.testing.assert_frame_equal(got, expected)


# --- window_journeys -----------------------------------------------------------------------

WINDOW_PAGES = ["Home page", "Pricing", "Log in", "Checkout"]
window_rows = st.lists(
    st.tuples(st.integers(1, 8), st.lists(st.sampled_from(WINDOW_PAGES), min_size=0, max_size=4)),
    min_size=0,
    max_size=60,
)


def _window_tuples(windows):
    columns = ["user_id", "subscription_type", "sessions", "first", "last", "first_sessions", "last_sessions"]
    assert list(windows.columns) == columns
    return [(int(u), str(p), int(k), str(f), str(la), int(nf), int(nl))
            for u, p, k, f, la, nf, nl in windows[columns].itertuples(index=False, name=None)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=window_rows, n=st.integers(1, 3), later=st.sampled_from(["last", "rest"]),
       remove=st.sampled_from([(), ["Log in"], "Pricing"]), shuffle=st.randoms())
def test_window_journeys_match_reference(raw, n, later, remove, shuffle):
    # Session ids grow with time; rows are shuffled so that file order cannot matter.
    rows = [(u, i, f"plan {u % 3}", "-".join(pages)) for i, (u, pages) in enumerate(raw)]
    order = list(range(len(rows)))
    shuffle.shuffle(order)
    got = ju.window_journeys(sessions_frame(rows, order), n, pages_to_remove=remove, later=later)
    assert _window_tuples(got) == ref.window_journeys(rows, n, later=later, pages_to_remove=remove)
    if later == "last":
        # The two windows never share a session.
        assert (got["first_sessions"] + got["last_sessions"] <= got["sessions"]).all()


def test_window_journeys_by_hand(sessions):
    # User 1 has 4 sessions (10, 11, 12, 15); users 2 and 3 have fewer than 2 * 2.
    got = ju.window_journeys(sessions, 2)
    assert _window_tuples(got) == [(1, "Annual", 4, "A-B", "B-C-A", 2, 2)]
    assert _window_tuples(ju.window_journeys(sessions, 1, later="rest")) == [
        (1, "Annual", 4, "A", "A-B-C-A", 1, 3), (2, "Monthly", 2, "D-C", "C", 1, 1)]
    assert ju.window_journeys(sessions, 3).empty


def test_window_journeys_custom_columns_and_input_unchanged(sessions):
    renamed = sessions.rename(columns={"user_id": "u", "session_id": "s", "subscription_type": "p",
                                       "user_journey": "j"})
    copy = renamed.copy(deep=True)
    got = ju.window_journeys(renamed, 2, group_column="u", order_column="s", plan_column="p", target_column="j")
    assert got.columns.tolist()[:2] == ["u", "p"]
    assert got[["first", "last"]].values.tolist() == [["A-B", "B-C-A"]]
    pd.testing.assert_frame_equal(renamed, copy)


@pytest.mark.parametrize("options, error", [
    ({"n": 0}, ValueError), ({"n": 1.5}, TypeError), ({"n": True}, TypeError), ({"later": "all"}, ValueError),
])
def test_window_journeys_invalid_arguments(sessions, options, error):
    with pytest.raises(error, match="window_journeys"):
        ju.window_journeys(sessions, **options)


def test_window_journeys_reference_data(reference_sessions, reference_rows):
    for n, later in [(3, "last"), (2, "rest")]:
        got = ju.window_journeys(reference_sessions, n, later=later, pages_to_remove=["Log in"])
        want = ref.window_journeys(reference_rows, n, later=later, pages_to_remove=["Log in"])
        assert len(want) > 100
        assert _window_tuples(got) == want
