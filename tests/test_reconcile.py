"""Reconciliation: the counts add up and equal counts made independently.

The independent counts come from tests/reference.py (plain Python), never from
the library's own output.
"""

import sys
import unicodedata
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import journey_utils as ju
from journey_utils.io import _INVISIBLE_PY
from journey_utils.reconcile import ReconciliationError, reconcile
from tests import reference as ref
from tests.agreement import as_grouped, assert_metrics_agree, session_rows, sessions_frame

# The package exports the function under the module's name.
reconcile_module = sys.modules["journey_utils.reconcile"]

HEADER = "user_id,session_id,subscription_type,user_journey\n"


def n_pages(journey):
    return len(ref.split_journey(journey))


def expected_counts(rows, sessions="All", count_from="last", pages_to_remove=()):
    """Every quantity of the reconciliation, counted with the reference implementation."""
    grouped = ref.group_sessions(rows, sessions=sessions, count_from=count_from)
    kept = [grouped[u][1] for u in sorted(grouped)]
    removed = ref.remove_pages(kept, pages_to_remove)
    final = ref.preprocess(rows, sessions=sessions, count_from=count_from, pages_to_remove=pages_to_remove)
    listed = [pages_to_remove] if isinstance(pages_to_remove, str) else list(dict.fromkeys(pages_to_remove))
    counts = {
        "users in": len({r[0] for r in rows}),
        "sessions in": len(rows),
        "pages in": sum(n_pages(r[3]) for r in rows),
        "sessions outside the window": len(rows) - sum(n for _, _, n in grouped.values()),
        "pages outside the window": sum(n_pages(r[3]) for r in rows) - sum(n_pages(j) for j in kept),
        "pages in the kept sessions": sum(n_pages(j) for j in kept),
        "journeys emptied by remove_pages": sum(1 for a, b in zip(kept, removed) if a and not b),
        "repeated pages collapsed": sum(n_pages(j) for j in removed)
        - sum(n_pages(j) for j in ref.remove_page_duplicates(removed)),
        "users out": len(final),
        "sessions out": sum(n for _, _, n in final.values()),
        "pages out": sum(n_pages(j) for _, j, _ in final.values()),
        "empty journeys out": sum(1 for _, j, _ in final.values() if j == ""),
    }
    for page in listed:
        counts[f"pages removed: {page}"] = sum(ref.split_journey(j).count(page) for j in kept)
    if not listed:
        counts["pages removed"] = 0
    return counts


def assert_reconciles(table, rows, **settings_):
    assert list(table.columns) == ["stage", "quantity", "unit", "count", "note"]
    assert table["count"].dtype == "int64"
    counts = table[table["stage"] != "check"].set_index("quantity")["count"]
    for quantity, want in expected_counts(rows, **settings_).items():
        assert counts[quantity] == want, quantity
    checks = table[table["stage"] == "check"]
    assert len(checks) >= 7
    assert checks["note"].str.startswith("holds").all()


SETTINGS_ON_REFERENCE = [
    {},
    {"sessions": 3, "count_from": "last", "pages_to_remove": ["Log in"]},
    {"sessions": 3, "count_from": "first"},
    {"sessions": 1, "count_from": "last", "pages_to_remove": ["Log in", "Homepage", "Not a page"]},
    {"pages_to_remove": "Log in"},
]


@pytest.mark.parametrize("options", SETTINGS_ON_REFERENCE, ids=repr)
def test_reference_data_reconciles(reference_sessions, reference_rows, options):
    table = reconcile(reference_sessions, **options)
    assert_reconciles(table, reference_rows, **options)
    load = table[table["stage"] == "load"].set_index("quantity")["count"]
    assert load["rows read"] == len(reference_rows)
    assert load["rows kept"] == len(reference_rows)


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(data=session_rows(), sessions=st.one_of(st.just("All"), st.integers(1, 4)),
       count_from=st.sampled_from(["first", "last"]), choice=st.data())
def test_random_data_reconciles(data, sessions, count_from, choice):
    vocabulary, _, rows = data
    pages = choice.draw(st.lists(st.sampled_from(vocabulary + ["Not a page"]), max_size=3))
    table = reconcile(sessions_frame(rows), sessions=sessions, count_from=count_from, pages_to_remove=pages)
    assert_reconciles(table, rows, sessions=sessions, count_from=count_from, pages_to_remove=pages)
    assert "load" not in set(table["stage"])


def test_load_report_rows(tmp_path):
    path = tmp_path / "sessions.csv"
    path.write_text(HEADER + "1,1,Annual,A-B\n1,1,Annual,A-B\n1,2,Annual,\n2,3, Monthly,B--A\n2,4,Monthly,A\n"
                    "1,1,Annual,A-B\n")
    with pytest.warns(ju.JourneyDataWarning):
        sessions = ju.load_sessions(path)
    table = reconcile(sessions)
    load = table[table["stage"] == "load"].set_index("quantity")
    assert load.loc["rows read", "count"] == 6
    assert load.loc["rows dropped: empty journey", "count"] == 1
    assert load.loc["rows dropped: row repeated exactly (same user_id and session_id)", "count"] == 2
    assert load.loc["rows repaired: spaces around the plan name", "count"] == 1
    assert load.loc["rows kept", "count"] == 3
    check = table[table["quantity"] == "rows read = rows dropped while loading + rows kept"]
    assert check["note"].tolist() == ["holds: 6 = 1 + 2 + 3"]
    assert (table.loc[table["stage"] == "input", "note"] == "").sum() == 2


def test_data_changed_after_loading_is_flagged(tmp_path):
    path = tmp_path / "sessions.csv"
    path.write_text(HEADER + "1,1,Annual,A-B\n2,2,Monthly,B\n3,3,Annual,A\n")
    sessions = ju.load_sessions(path)
    annual = sessions[sessions["subscription_type"] == "Annual"]
    assert "load_report" in annual.attrs  # pandas carries attrs through filtering
    table = reconcile(annual)
    notes = table.loc[table["quantity"] == "sessions in", "note"].item()
    assert "changed after loading" in notes and "2 sessions now" in notes and "3 when loaded" in notes


def test_a_failing_identity_raises(monkeypatch):
    frame = sessions_frame([(1, 1, "Annual", "Homepage-Log in"), (1, 2, "Annual", "Log in-Pricing")])

    def miscount(data, *args, **kwargs):
        return ju.page_count(data, *args, **kwargs) + 1

    monkeypatch.setattr(reconcile_module, "page_count", miscount)
    with pytest.raises(ReconciliationError, match="pages in the kept sessions = pages out"):
        reconcile(frame, pages_to_remove=["Log in"])


def test_a_lost_user_raises(monkeypatch):
    frame = sessions_frame([(1, 1, "Annual", "A"), (2, 2, "Annual", "B")])
    real = reconcile_module.remove_page_duplicates
    monkeypatch.setattr(reconcile_module, "remove_page_duplicates", lambda data: real(data).iloc[:1])
    with pytest.raises(ReconciliationError, match="users in = users out"):
        reconcile(frame)


@pytest.mark.parametrize(
    "options, error",
    [({"sessions": 0}, ValueError), ({"sessions": "all"}, ValueError), ({"count_from": "middle"}, ValueError),
     ({"pages_to_remove": [1]}, TypeError), ({"pages_to_remove": 5}, TypeError)],
)
def test_invalid_arguments(options, error):
    with pytest.raises(error):
        reconcile(sessions_frame([(1, 1, "Annual", "A")]), **options)


def test_missing_column():
    with pytest.raises(ValueError, match="session_id"):
        reconcile(pd.DataFrame({"user_id": [1], "user_journey": ["A"]}))


def test_does_not_modify_input(reference_sessions):
    before = reference_sessions.copy(deep=True)
    attrs = repr(reference_sessions.attrs)
    reconcile(reference_sessions, sessions=2, pages_to_remove=["Log in"])
    pd.testing.assert_frame_equal(reference_sessions, before)
    assert repr(reference_sessions.attrs) == attrs


def test_empty_data():
    table = reconcile(sessions_frame([]))
    counts = table.set_index("quantity")["count"]
    assert counts["users in"] == counts["users out"] == counts["pages out"] == 0


# --- round trip: processed CSV reproduces the same journeys and metrics -------------------


@pytest.mark.parametrize("options", SETTINGS_ON_REFERENCE[:2], ids=repr)
def test_processed_file_round_trip_on_reference(reference_sessions, reference_rows, options, tmp_path):
    journeys = ju.preprocess(reference_sessions, **options)
    path = ju.save_journeys(journeys, tmp_path / "processed" / "journeys.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ju.JourneyDataWarning)  # a clean file needs no repair
        again = ju.load_sessions(path, empty_journeys="keep")
    pd.testing.assert_frame_equal(again[journeys.columns], journeys, check_like=False)
    grouped = ref.preprocess(reference_rows, **options)
    assert as_grouped(again) == grouped
    for plan in ["All", "Annual", ["Monthly", "Quarterly"]]:
        assert_metrics_agree(again, grouped, plan, sequence_lengths=(2, 3), destinations=["Pricing", "Log in"])
    # Reconciling the processed file: one session per user, nothing more to remove.
    table = reconcile(again).set_index("quantity")["count"]
    assert table["users in"] == table["sessions in"] == len(journeys)
    assert table["pages in"] == table["pages out"] == sum(n_pages(j) for _, j, _ in grouped.values())


def _as_loaded(name: str) -> bool:
    """A name as loading leaves it: composed letters (NFC), no invisible or control characters,
    and no line break (loading refuses a value holding one, unless told it is meant)."""
    return (not _INVISIBLE_PY.search(name) and "\n" not in name and "\r" not in name
            and unicodedata.normalize("NFC", name) == name)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=session_rows(), choice=st.data())
def test_processed_file_round_trip_on_random_data(data, choice, tmp_path):
    vocabulary, _, rows = data
    # Journeys come from loaded sessions, whose names loading has already cleaned.
    assume(all(_as_loaded(plan) and _as_loaded(journey) for _, _, plan, journey in rows))
    pages = choice.draw(st.lists(st.sampled_from(vocabulary), max_size=2))
    journeys = ju.preprocess(sessions_frame(rows), sessions=2, pages_to_remove=pages)
    path = ju.save_journeys(journeys, tmp_path / f"journeys-{choice.draw(st.integers(0, 10**9))}.csv.gz")
    again = ju.load_sessions(path, empty_journeys="keep")
    pd.testing.assert_frame_equal(again[journeys.columns], journeys)
    assert_metrics_agree(again, as_grouped(journeys), "All", sequence_lengths=(2, 3))
