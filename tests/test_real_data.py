"""The library against the plain-Python reference on the real reference export.

Skipped, with the reason, when the export is not available (see conftest.py).
"""

import csv

import pytest

import journey_utils as ju
from tests import reference as ref
from tests.agreement import as_grouped, assert_metrics_agree

SETTINGS = {
    "all sessions": {},
    "first 3 sessions": {"sessions": 3, "count_from": "first"},
    "last 3 sessions": {"sessions": 3, "count_from": "last"},
    "without Log in": {"pages_to_remove": ["Log in"]},
    "last 3 without Log in": {"sessions": 3, "count_from": "last", "pages_to_remove": ["Log in"]},
}


def test_loader_reads_what_the_csv_module_reads(reference_path, reference_rows):
    with open(reference_path, newline="", encoding="utf-8-sig") as handle:
        rows = [(int(r["user_id"]), int(r["session_id"]), r["subscription_type"], r["user_journey"])
                for r in csv.DictReader(handle)]
    assert reference_rows == rows


def test_reference_loads_without_repairs(reference_sessions):
    assert ju.load_report(reference_sessions).empty
    report = reference_sessions.attrs["load_report"]
    assert report["rows_read"] == report["rows_kept"] == len(reference_sessions)


def plan_selections(rows):
    plans = sorted({r[2] for r in rows})
    return ["All", *plans, plans[:2]]


@pytest.mark.parametrize("options", SETTINGS.values(), ids=SETTINGS.keys())
def test_preprocess_matches_reference(reference_sessions, reference_rows, options):
    journeys = ju.preprocess(reference_sessions, **options)
    assert as_grouped(journeys) == ref.preprocess(reference_rows, **options)


@pytest.mark.parametrize("options", SETTINGS.values(), ids=SETTINGS.keys())
def test_group_by_matches_reference(reference_sessions, reference_rows, options):
    window = {k: v for k, v in options.items() if k != "pages_to_remove"}
    grouped = ju.group_by(reference_sessions, **window)
    assert as_grouped(grouped) == ref.group_sessions(reference_rows, **window)


@pytest.mark.parametrize("options", SETTINGS.values(), ids=SETTINGS.keys())
def test_every_metric_for_every_plan(reference_sessions, reference_rows, options):
    journeys = ju.preprocess(reference_sessions, **options)
    grouped = ref.preprocess(reference_rows, **options)
    for plan in plan_selections(reference_rows):
        # Destinations of every page visited (and of one that is not), sequences n = 2, 3, 4.
        assert_metrics_agree(journeys, grouped, plan, sequence_lengths=(2, 3, 4))


def test_metrics_on_raw_sessions(reference_sessions, reference_rows):
    grouped = {i: (plan, journey, 1) for i, (_, _, plan, journey) in enumerate(reference_rows)}
    for plan in plan_selections(reference_rows):
        assert_metrics_agree(reference_sessions, grouped, plan, sequence_lengths=(2, 3, 4))


def test_remove_page_duplicates_and_remove_pages_on_sessions(reference_sessions, reference_rows):
    journeys = [r[3] for r in reference_rows]
    assert ju.remove_page_duplicates(reference_sessions)["user_journey"].tolist() == ref.remove_page_duplicates(
        journeys)
    for pages in (["Log in"], ["Log in", "Homepage", "Other"], "Checkout"):
        assert ju.remove_pages(reference_sessions, pages)["user_journey"].tolist() == ref.remove_pages(journeys, pages)
