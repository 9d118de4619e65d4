"""Property tests: the library equals the plain-Python reference on random data.

Random vocabularies (names with spaces, non-ASCII letters, markup), random plans,
random user and session ids in random row order, empty sessions, every session
window and random pages to remove. Every preprocessing function and every metric
is compared with tests/reference.py, values and order.
"""

import contextlib
import copy

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_utils as ju
from journey_utils import _codes
from journey_utils.reconcile import reconcile
from tests import reference as ref
from tests.agreement import as_grouped, assert_metrics_agree, session_rows, sessions_frame

# Sized so that the whole module runs in well under a minute.
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(SETTINGS, max_examples=60)

windows = st.one_of(st.just("All"), st.integers(1, 4))
count_froms = st.sampled_from(["first", "last"])


def _latest_kept_session(rows, sessions, count_from):
    by_user = {}
    for user, session, _, _ in rows:
        by_user.setdefault(user, []).append(session)
    latest = {}
    for user, ids in by_user.items():
        ids.sort()
        if sessions != "All":
            ids = ids[:sessions] if count_from == "first" else ids[-sessions:]
        latest[user] = ids[-1]
    return latest


@SETTINGS
@given(data=session_rows(), sessions=windows, count_from=count_froms)
def test_group_by_matches_reference(data, sessions, count_from):
    _, _, rows = data
    frame = sessions_frame(rows)
    grouped = ju.group_by(frame, sessions=sessions, count_from=count_from)
    assert list(grouped.columns) == ["user_id", "subscription_type", "user_journey", "session_id", "n_sessions"]
    assert grouped["user_id"].tolist() == sorted({r[0] for r in rows})
    assert isinstance(grouped.index, pd.RangeIndex)
    assert as_grouped(grouped) == ref.group_sessions(rows, sessions=sessions, count_from=count_from)
    latest = _latest_kept_session(rows, sessions, count_from)
    assert dict(zip(grouped["user_id"].tolist(), grouped["session_id"].tolist())) == latest


@SETTINGS
@given(data=session_rows(), choice=st.data())
def test_page_level_functions_match_reference(data, choice):
    vocabulary, _, rows = data
    frame = sessions_frame(rows)
    frame.index = pd.Index(choice.draw(st.permutations(range(100, 100 + len(frame)))))
    journeys = frame["user_journey"].tolist()

    deduped = ju.remove_page_duplicates(frame)
    assert deduped.index.equals(frame.index)
    assert deduped["user_journey"].tolist() == ref.remove_page_duplicates(journeys)
    pd.testing.assert_frame_equal(deduped.drop(columns="user_journey"), frame.drop(columns="user_journey"))

    pages = choice.draw(st.lists(st.sampled_from(vocabulary + ["Not a page"]), max_size=3))
    removed = ju.remove_pages(frame, pages)
    assert removed.index.equals(frame.index)
    assert removed["user_journey"].tolist() == ref.remove_pages(journeys, pages)
    pd.testing.assert_frame_equal(removed.drop(columns="user_journey"), frame.drop(columns="user_journey"))
    if pages:
        single = ju.remove_pages(frame, pages[0])
        assert single["user_journey"].tolist() == ref.remove_pages(journeys, pages[0])


@SETTINGS
@given(data=session_rows(), sessions=windows, count_from=count_froms, choice=st.data())
def test_preprocess_and_metrics_match_reference(data, sessions, count_from, choice):
    vocabulary, plans, rows = data
    pages = choice.draw(st.lists(st.sampled_from(vocabulary), max_size=len(vocabulary), unique=True))
    frame = sessions_frame(rows)
    journeys = ju.preprocess(frame, sessions=sessions, count_from=count_from, pages_to_remove=pages)
    grouped = ref.preprocess(rows, sessions=sessions, count_from=count_from, pages_to_remove=pages)
    assert as_grouped(journeys) == grouped

    present = sorted({r[2] for r in rows})
    selections = ["All", *present]
    if len(present) >= 2:
        selections.append(present[:2])
    for plan in selections:
        assert_metrics_agree(journeys, grouped, plan, sequence_lengths=(1, 2, 3, 5))


@contextlib.contextmanager
def split_in_parts(parts, strings_at_a_time=None):
    """Make the journey column split in ``parts`` pieces on threads, however small it is,
    and (optionally) the distinct strings of each piece split a few at a time."""
    saved = _codes._PARALLEL_ROWS, _codes._threads, _codes._SPLIT_SLICE
    _codes._PARALLEL_ROWS, _codes._threads = 1, lambda: parts
    _codes._SPLIT_SLICE = strings_at_a_time or _codes._SPLIT_SLICE
    try:
        yield
    finally:
        _codes._PARALLEL_ROWS, _codes._threads, _codes._SPLIT_SLICE = saved


@FEWER
@given(data=session_rows(), sessions=windows, parts=st.integers(2, 5),
       strings_at_a_time=st.sampled_from([None, 1, 2, 3]), choice=st.data())
def test_split_in_parallel_parts_matches_reference(data, sessions, parts, strings_at_a_time, choice):
    """Big columns are split on several threads, each a slice of strings at a time
    (meeting new page names slice by slice); the pieces must join up exactly."""
    vocabulary, _, rows = data
    pages = choice.draw(st.lists(st.sampled_from(vocabulary), max_size=2, unique=True))
    with split_in_parts(parts, strings_at_a_time):
        # Arrow-backed, and as one array or as several chunks, as a CSV reader makes it.
        frame = sessions_frame(rows)
        if choice.draw(st.booleans(), label="chunked") and len(frame) > 1:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            chunks = table.to_batches(max_chunksize=max(1, len(frame) // 7))
            frame = pa.Table.from_batches(chunks).to_pandas()
        coded, row_string = _codes.split(frame["user_journey"])
        assert _codes.decode(coded.take(row_string)).tolist() == frame["user_journey"].tolist()
        journeys = ju.preprocess(frame, sessions=sessions, count_from="last", pages_to_remove=pages)
        grouped = ref.preprocess(rows, sessions=sessions, count_from="last", pages_to_remove=pages)
        assert as_grouped(journeys) == grouped
        assert_metrics_agree(journeys, grouped, "All", sequence_lengths=(1, 3))


@FEWER
@given(data=session_rows(max_users=5))
def test_metrics_on_raw_sessions_match_reference(data):
    """The metrics also take session rows (one journey per session), not only users."""
    _, _, rows = data
    frame = sessions_frame(rows)
    # One "user" per session row, so the reference's plan filter sees every session.
    grouped = {i: (plan, journey, 1) for i, (_, _, plan, journey) in enumerate(rows)}
    frame.index = pd.RangeIndex(len(frame))
    assert_metrics_agree(frame, grouped, "All", sequence_lengths=(2, 3))
    assert_metrics_agree(frame, grouped, rows[0][2], sequence_lengths=(2,))


@pytest.mark.parametrize("n", [1, 2, 3, 7])
@settings(FEWER, max_examples=40)
@given(data=session_rows(allow_empty=False, max_users=4))
def test_sequences_of_any_length(data, n):
    _, _, rows = data
    journeys = ju.preprocess(sessions_frame(rows))
    grouped = ref.preprocess(rows)
    got = ju.page_sequences(journeys, n=n)
    assert list(zip(got.index, got.tolist())) == ref.ranked(ref.page_sequences(ref.journeys_for_plan(grouped), n=n))


# --- no function modifies its input -------------------------------------------------------

CALLS = {
    "remove_page_duplicates": lambda d, tmp: ju.remove_page_duplicates(d),
    "group_by": lambda d, tmp: ju.group_by(d, sessions=2, count_from="first"),
    "remove_pages": lambda d, tmp: ju.remove_pages(d, ["Log in", "A"]),
    "preprocess": lambda d, tmp: ju.preprocess(d, sessions=3, pages_to_remove=["Log in"]),
    "window_journeys": lambda d, tmp: ju.window_journeys(d, 1, pages_to_remove=["Log in"]),
    "page_count": lambda d, tmp: ju.page_count(d, plan=sorted(set(d["subscription_type"]))[:1] or "All"),
    "page_presence": lambda d, tmp: ju.page_presence(d, normalize=True),
    "page_destinations": lambda d, tmp: ju.page_destinations(d, "Log in"),
    "page_transitions": lambda d, tmp: ju.page_transitions(d),
    "page_sequences": lambda d, tmp: ju.page_sequences(d, n=2),
    "journey_length": lambda d, tmp: ju.journey_length(d),
    "journey_lengths": lambda d, tmp: ju.journey_lengths(d),
    "load_report": lambda d, tmp: ju.load_report(d),
    "save_journeys": lambda d, tmp: ju.save_journeys(d, tmp / "saved.csv"),
    "reconcile": lambda d, tmp: reconcile(d, sessions=2, pages_to_remove="Log in"),
}


# Calls that need sessions as load_sessions returns them (with their load report).
LOADED_CALLS = {
    "save_sessions": lambda d, tmp: ju.save_sessions(d, tmp / "saved.parquet"),
}


DATA_MODULES = {"journey_utils.io", "journey_utils.preprocess", "journey_utils.metrics", "journey_utils.reconcile"}


def test_every_public_function_is_checked_for_mutation():
    public = {name for name in ju.__all__
              if getattr(getattr(ju, name), "__module__", None) in DATA_MODULES
              and callable(getattr(ju, name)) and not isinstance(getattr(ju, name), type)}
    assert "page_count" in public
    assert public - {"load_sessions"} <= set(CALLS) | set(LOADED_CALLS)


def assert_untouched(frame, tmp_path):
    calls = {**CALLS, **LOADED_CALLS} if "load_report" in frame.attrs else CALLS
    for name, call in calls.items():
        before = frame.copy(deep=True)
        attrs = copy.deepcopy(frame.attrs)
        out = call(frame, tmp_path)
        pd.testing.assert_frame_equal(frame, before, check_exact=True, obj=f"input of {name}")
        assert frame.attrs == attrs, name
        assert out is not frame, name
        if isinstance(out, pd.DataFrame) and "user_journey" in out.columns:
            out["user_journey"] = "changed"  # a result is independent of its input
            pd.testing.assert_frame_equal(frame, before, obj=f"input of {name} after changing its result")


def test_no_function_modifies_loaded_sessions(tmp_path):
    path = tmp_path / "sessions.csv"
    path.write_text("user_id,session_id,subscription_type,user_journey,channel\n"
                    "1,1,Annual,Homepage--Log in,web\n1,2,Annual,Log in-A,web\n2,3, Monthly,A-A,app\n"
                    "2,4,Monthly,,app\n", encoding="utf-8")
    with pytest.warns(ju.JourneyDataWarning):
        frame = ju.load_sessions(path)
    frame.index = pd.Index([7, 3, 5])
    assert frame.attrs["load_report"]["repairs"]
    assert_untouched(frame, tmp_path)


@settings(SETTINGS, max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=session_rows())
def test_no_function_modifies_random_sessions(tmp_path, data):
    _, _, rows = data
    frame = sessions_frame(rows)
    frame.attrs["note"] = {"nested": [1, 2, {"x": "y"}]}
    assert_untouched(frame, tmp_path)


@given(lengths=st.lists(st.integers(0, 40), max_size=30), choice=st.data())
def test_coded_filter_and_take_match_plain_python(lengths, choice):
    """The building blocks under every preprocessing step, on short and long journeys
    (filter searches per journey when journeys are long, and counts otherwise)."""
    import numpy as np

    total = sum(lengths)
    codes = np.array(choice.draw(st.lists(st.integers(0, 4), min_size=total, max_size=total)), dtype=np.int64)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    coded = _codes.CodedJourneys(codes, offsets, np.array(list("abcde"), dtype=object))
    journeys = [codes[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]

    mask = np.array(choice.draw(st.lists(st.booleans(), min_size=total, max_size=total)), dtype=bool)
    kept = coded.filter(mask)
    keep = [mask[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
    expected = [[c for c, k in zip(j, m) if k] for j, m in zip(journeys, keep)]
    assert [kept.codes[a:b].tolist() for a, b in zip(kept.offsets[:-1], kept.offsets[1:])] == expected

    rows = choice.draw(st.lists(st.integers(0, max(len(lengths) - 1, 0)), max_size=20)) if lengths else []
    taken = coded.take(np.array(rows, dtype=np.int64))
    got = [taken.codes[a:b].tolist() for a, b in zip(taken.offsets[:-1], taken.offsets[1:])]
    assert got == [journeys[r] for r in rows]


# --- journeys containing a key -------------------------------------------------------------


@settings(FEWER, max_examples=80)
@given(occurrences=st.lists(st.tuples(st.integers(0, 6), st.sampled_from([0, 1, 5, 3_000, 2**40, 2**62 - 1])),
                            max_size=40),
       groups=st.lists(st.integers(0, 2), min_size=7, max_size=7))
def test_journeys_with_counts_each_journey_once_per_group(occurrences, groups):
    journey = np.array([j for j, _ in occurrences], dtype=np.int64)
    keys = np.array([k for _, k in occurrences], dtype=np.int64)
    expected = {}
    for j, k in set(occurrences):
        expected.setdefault(k, [0, 0, 0])[groups[j]] += 1
    got_keys, got = _codes.journeys_with(journey, keys, np.array(groups), 3)
    assert got_keys.tolist() == sorted(expected) and got.tolist() == [expected[k] for k in sorted(expected)]
    got_keys, got = _codes.journeys_with(journey, keys)
    assert got.tolist() == [sum(expected[k]) for k in sorted(expected)]
