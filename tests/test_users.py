"""The per-user data (journey_utils.users) against straightforward references, and prepared folders."""

import itertools
import json
from collections import Counter

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_utils as ju
from journey_utils import claims, summary, users
from tests import reference as ref
from tests.agreement import sessions_frame

PAGES = ["Home page", "Pricing", "Log in", "Checkout"]
rows_strategy = st.lists(
    st.tuples(st.integers(1, 8), st.lists(st.sampled_from(PAGES), min_size=1, max_size=4)),
    min_size=1,
    max_size=50,
)
SETTINGS = [
    {},
    {"sessions": 2, "count_from": "first"},
    {"sessions": 3, "count_from": "last", "pages_to_remove": ["Log in"]},
    {"pages_to_remove": ["Pricing", "Checkout"]},
]


def _rows(raw):
    # Session ids grow with time; a user keeps one plan.
    return [(u, i, f"plan {u % 3}", "-".join(pages)) for i, (u, pages) in enumerate(raw)]


def reference_table(rows, sessions="All", count_from="last", pages_to_remove=(), windows=(3,)):
    """The user table, one dict per user, from the reference implementation."""
    by_user = {}
    for user, session, plan, journey in rows:
        by_user.setdefault(user, []).append((session, plan, journey))
    processed = ref.preprocess(rows, sessions, count_from, pages_to_remove)
    kept = ref.group_sessions(rows, sessions, count_from)
    everything = ref.preprocess(rows)
    out = {}
    for user in sorted(by_user):
        mine = sorted(by_user[user])
        pages = [len(ref.split_journey(j)) for _, _, j in mine]
        joined = ref.split_journey(kept[user][1])
        record = {
            "user_journey": processed[user][1],
            "n_sessions": processed[user][2],
            "sessions_total": len(mine),
            "pages_total": sum(pages),
            "pages_joined": len(joined),
            "pages_trimmed": len(ref.split_journey(ref.remove_pages([kept[user][1]], pages_to_remove)[0])),
            "journey_all": everything[user][1],
        }
        for n in windows:
            first = ref.preprocess([r for r in rows if r[0] == user], n, "first")[user][1]
            last = ref.preprocess([r for r in rows if r[0] == user], n, "last")[user][1]
            after = [r for r in rows if r[0] == user and r[1] in {s for s, _, _ in mine[n:]}]
            record[f"first_{n}"], record[f"last_{n}"] = first, last
            record[f"after_{n}"] = ref.preprocess(after)[user][1] if after else None
        out[user] = record
    return out


def _as_records(table, windows=(3,)):
    names = ["user_journey", "n_sessions", "sessions_total", "pages_total", "pages_joined", "pages_trimmed",
             "journey_all"] + [f"{end}_{n}" for n in windows for end in ("first", "last", "after")]
    return {int(row["user_id"]): {k: (None if pd.isna(row[k]) else row[k]) for k in names}
            for _, row in table.iterrows()}


def reference_revisits(rows, sessions="All", count_from="last", pages_to_remove=()):
    """Revisit counts per (plan, page) from the uncollapsed journeys, counted page by page."""
    kept = ref.group_sessions(rows, sessions, count_from)
    counts = Counter()
    for plan, journey, _ in kept.values():
        pages = ref.split_journey(ref.remove_pages([journey], pages_to_remove)[0])
        runs = [(page, len(list(group))) for page, group in itertools.groupby(pages)]
        for page in set(pages):
            mine = [length for p, length in runs if p == page]
            counts[(plan, page, "journeys_with_page")] += 1
            counts[(plan, page, "revisited")] += sum(mine) >= 2
            counts[(plan, page, "returned")] += len(mine) >= 2
            counts[(plan, page, "journeys_with_self_loop")] += any(length >= 2 for length in mine)
            counts[(plan, page, "self_loops")] += sum(length - 1 for length in mine)
    keys = sorted({(plan, page) for plan, page, _ in counts})
    return [(plan, page, *(counts[(plan, page, c)] for c in users.REVISIT_COUNTS)) for plan, page in keys]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=rows_strategy, choice=st.sampled_from(SETTINGS), windows=st.sampled_from([(1,), (2, 3)]),
       shuffle=st.randoms())
def test_user_table_matches_the_reference(raw, choice, windows, shuffle):
    rows = _rows(raw)
    order = list(range(len(rows)))
    shuffle.shuffle(order)
    data = sessions_frame(rows, order)
    before = data.copy()
    table = ju.user_table(data, windows=windows, **choice)
    pd.testing.assert_frame_equal(data, before)  # the input is left alone
    assert _as_records(table, windows) == reference_table(rows, windows=windows, **choice)
    pd.testing.assert_frame_equal(table[users.JOURNEY_COLUMNS], ju.preprocess(data, **choice))
    counts = users.revisit_counts(data, **choice)
    assert [tuple(r) for r in counts.itertuples(index=False, name=None)] == reference_revisits(rows, **choice)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=rows_strategy, choice=st.sampled_from(SETTINGS), cut=st.integers(1, 8))
def test_users_split_in_two_give_the_same_table_and_revisits(raw, choice, cut):
    # What the Dask path relies on: every figure depends on the user's own sessions only.
    data = sessions_frame(_rows(raw))
    whole = ju.user_table(data, windows=(2,), **choice)
    low, high = data[data["user_id"] <= cut], data[data["user_id"] > cut]
    parts = [ju.user_table(p, windows=(2,), **choice) for p in (low, high) if len(p)]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    split = users.combine_revisits([users.revisit_counts(p, **choice) for p in (low, high) if len(p)])
    pd.testing.assert_frame_equal(split, users.revisit_counts(data, **choice))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=rows_strategy, n=st.integers(1, 3), later=st.sampled_from(["last", "rest"]),
       remove=st.sampled_from([(), ["Log in"], ["Pricing", "Home page"]]))
def test_windows_from_the_table_match_the_reference(raw, n, later, remove):
    rows = _rows(raw)
    table = ju.user_table(sessions_frame(rows), windows=[n])
    got = ju.window_journeys(table, n, later=later, pages_to_remove=remove)
    want = ref.window_journeys(rows, n, later=later, pages_to_remove=remove)
    assert [tuple(r) for r in got.itertuples(index=False, name=None)] == want
    pd.testing.assert_frame_equal(got, ju.window_journeys(sessions_frame(rows), n, later=later,
                                                          pages_to_remove=remove))


def test_revisit_table_is_session_revisits_by_plan(reference_sessions):
    from journey_utils.paths import session_revisits

    for choice in SETTINGS:
        table = ju.user_table(reference_sessions, **choice)
        got = users.revisit_table(users.revisit_counts(reference_sessions, **choice), table, ["Monthly", "Annual"])
        want = session_revisits(reference_sessions, ["Monthly", "Annual"], by_plan=True, **choice)
        pd.testing.assert_frame_equal(got, want.reset_index(drop=True))


@pytest.mark.parametrize("choice", SETTINGS)
def test_user_table_on_the_reference_data(reference_sessions, reference_rows, choice):
    table = ju.user_table(reference_sessions, windows=[3], **choice)
    assert len(table) == reference_sessions["user_id"].nunique()
    assert _as_records(table) == reference_table(reference_rows, windows=(3,), **choice)
    assert table["sessions_total"].sum() == len(reference_sessions)


def test_claims_and_takeaways_read_the_table_as_the_sessions(reference_sessions):
    table = ju.user_table(reference_sessions, windows=[2])
    pd.testing.assert_frame_equal(claims.evaluate_claims(table, n=2, pages_to_remove=["Log in"]),
                                  claims.evaluate_claims(reference_sessions, n=2, pages_to_remove=["Log in"]))
    journeys = table[users.JOURNEY_COLUMNS]
    pd.testing.assert_frame_equal(summary.journey_takeaways(journeys, sessions=table),
                                  summary.journey_takeaways(journeys, sessions=reference_sessions))


def test_a_table_without_the_window_says_which_windows_it_holds(reference_sessions):
    table = ju.user_table(reference_sessions, windows=[2])
    with pytest.raises(ValueError, match=r"holds the windows of \[2\] sessions, not 3"):
        ju.window_journeys(table, 3)


# --- prepared folders ----------------------------------------------------------------------


def test_prepare_then_load_equals_the_data_computed_in_memory(reference_path, tmp_path):
    choice = {"sessions": 3, "count_from": "first", "pages_to_remove": ["Log in"]}
    manifest = users.prepare(reference_path, tmp_path / "users", windows=[2, 3], **choice)
    assert manifest["users"] == 1350 == len(pd.read_csv(reference_path)["user_id"].unique())
    stored = json.loads((tmp_path / "users" / users.MANIFEST).read_text())
    assert stored["settings"] == {**choice, "windows": [2, 3]} and stored["checksum"]
    on_disk = ju.load_user_data(tmp_path / "users", windows=[3], **choice)
    in_memory = ju.load_user_data(reference_path, windows=[2, 3], **choice)
    pd.testing.assert_frame_equal(on_disk.users, in_memory.users)
    pd.testing.assert_frame_equal(on_disk.revisits(), in_memory.revisits())
    assert on_disk.load_report == in_memory.load_report
    assert ju.report.source("Sessions", tmp_path / "users", on_disk.users)[1] == reference_path.name
    columns = ju.load_user_data(tmp_path / "users", columns=["user_journey"], **choice).users.columns
    assert list(columns) == ["user_id", "user_journey"]


@pytest.mark.parametrize("asked, message", [
    ({"sessions": 2}, "prepared with sessions=3, but 2 is asked for"),
    ({"sessions": 3, "count_from": "last"}, "prepared with count_from='first', but 'last'"),
    ({"sessions": 3, "count_from": "first", "pages_to_remove": []}, "pages_to_remove"),
    ({"sessions": 3, "count_from": "first", "pages_to_remove": ["Log in"], "windows": [4]}, r"not \[4\]"),
])
def test_a_prepared_folder_must_match_the_settings_asked_for(tmp_path, asked, message):
    users.prepare(ju.SAMPLE_PATH, tmp_path / "u", sessions=3, count_from="first", pages_to_remove=["Log in"],
                  windows=[3])
    with pytest.raises(ValueError, match=message) as error:
        ju.load_user_data(tmp_path / "u", **asked)
    assert str(tmp_path / "u") in str(error.value)


def test_prepare_replaces_a_prepared_folder_whole_and_nothing_else(tmp_path):
    target = tmp_path / "u"
    users.prepare(ju.SAMPLE_PATH, target, windows=[3])
    users.prepare(ju.SAMPLE_PATH, target, sessions=2, windows=[3])
    assert json.loads((target / users.MANIFEST).read_text())["settings"]["sessions"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u"]  # no temporary folder left behind
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a prepared folder"):
        users.prepare(ju.SAMPLE_PATH, other)
    assert (other / "keep.txt").read_text() == "mine"


def test_a_bad_export_leaves_the_prepared_folder_as_it_was(tmp_path):
    target = tmp_path / "u"
    users.prepare(ju.SAMPLE_PATH, target, windows=[3])
    before = (target / users.MANIFEST).read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,session_id,subscription_type\n1,2,Annual\n")
    with pytest.raises(ju.JourneyDataError, match="bad.csv"):
        users.prepare(bad, target)
    assert (target / users.MANIFEST).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "u"]


def test_not_a_prepared_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a prepared folder"):
        users.read_manifest(tmp_path)
