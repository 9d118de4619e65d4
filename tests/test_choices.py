"""The pages a report chooses from the data: each rule against a plain-Python reference.

The rules (``journey_utils.choices``): key pages are the pages in the most
journeys; the anchor is the page journeys most often end on; the page whose next
pages are compared is the page in the most journeys other than the anchor. Named
pages the data does not contain are reported, never shown.
"""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey_utils import choices, report
from tests import reference as ref
from tests.other_site import other_site_sessions

PAGES = ["A", "B", "C", "Über uns", "Help & FAQ", "<b>x</b>"]
journey_lists = st.lists(st.lists(st.sampled_from(PAGES), max_size=6), min_size=1, max_size=30)


def frame(lists) -> pd.DataFrame:
    return pd.DataFrame({"user_journey": [ref.join_pages(pages) for pages in lists]})


def reference_top(journeys, n, exclude=()):
    counts = {p: c for p, c in ref.page_presence(journeys).items() if p not in exclude}
    return [p for p, _ in ref.ranked(counts)][:n]


def reference_end(journeys):
    counts = {}
    for journey in journeys:
        pages = ref.split_journey(journey)
        if pages:
            counts[pages[-1]] = counts.get(pages[-1], 0) + 1
    ranked = ref.ranked(counts)
    return ranked[0][0] if ranked else None


@settings(max_examples=150, deadline=None)
@given(journey_lists, st.integers(1, 7))
def test_most_common_pages_match_the_reference(lists, n):
    data = frame(lists)
    assert choices.most_common_pages(data, n) == reference_top(data["user_journey"], n)
    assert choices.most_common_pages(data, n, exclude=["A"]) == reference_top(data["user_journey"], n, {"A"})


@settings(max_examples=150, deadline=None)
@given(journey_lists)
def test_end_page_matches_the_reference(lists):
    data = frame(lists)
    assert choices.end_page(data) == reference_end(data["user_journey"])


@settings(max_examples=100, deadline=None)
@given(journey_lists, st.lists(st.sampled_from(PAGES + ["Pricing", "Checkout"]), max_size=5))
def test_split_pages_keeps_the_order_given(lists, wanted):
    data = frame(lists)
    seen = {p for pages in lists for p in pages}
    present, missing = choices.split_pages(data, wanted)
    assert present == [p for p in dict.fromkeys(wanted) if p in seen]
    assert missing == [p for p in dict.fromkeys(wanted) if p not in seen]


def test_the_choices_leave_their_input_unchanged():
    data = frame([["A", "B"], ["B"], []])
    before = data.copy()
    choices.key_pages(data)
    choices.anchor_page(data)
    choices.next_pages_of(data, anchor="B")
    pd.testing.assert_frame_equal(data, before)


def test_key_pages_chosen_from_the_data_say_how():
    data = frame([["A", "B"], ["B", "C"], ["B"], ["C"]])
    choice = choices.key_pages(data)
    assert choice.chosen and choice.pages == ["B", "C", "A"] and not choice.missing
    assert choice.text == "The key pages are the 3 pages in the most journeys: **B**, **C** and **A**."
    assert choices.key_pages(frame([["A"]])).text == "The key page is the only page in these journeys: **A**."
    assert choices.key_pages(frame([[]])).pages == []


def test_named_pages_not_in_the_data_are_named_and_left_out():
    data = frame([["A", "B"]])
    choice = choices.key_pages(data, ["B", "<b>x</b>", "Zed"])
    assert choice.pages == ["B"] and choice.missing == ["<b>x</b>", "Zed"] and not choice.chosen
    assert "<b>" not in choice.text and report.escape("<b>x</b>") in choice.text
    assert choice.text.endswith("are not pages of these journeys, so their sections are left out.")
    assert choices.key_pages(data, ["A"]).text == "", "pages used as given need no sentence"
    anchor = choices.anchor_page(data, "Checkout")
    assert anchor.page is None and anchor.missing == ["Checkout"]
    assert "`anchor_page`" in anchor.text and "this section is left out" in anchor.text
    assert choices.anchor_page(data, "A").page == "A"


def test_anchor_is_the_most_common_last_page_and_next_pages_avoid_it():
    data = frame([["Home", "Pay"], ["Blog", "Home", "Pay"], ["Home", "Blog"], ["Pay"]])
    anchor = choices.anchor_page(data)
    assert anchor.page == "Pay" and anchor.chosen
    assert anchor.text == "**Pay** is the page where journeys most often end (the purchase step)."
    following = choices.next_pages_of(data, anchor=anchor.page)
    assert following.page == "Home"
    assert following.text == "**Home** is the page in the most journeys other than the anchor page."
    assert choices.next_pages_of(frame([["Pay"]]), anchor="Pay").page is None


def test_parameters_of_the_wrong_type_are_refused():
    data = frame([["A"]])
    with pytest.raises(TypeError, match="key_pages: wanted must be a list"):
        choices.key_pages(data, "A")
    with pytest.raises(TypeError, match="anchor_page: expected a page name"):
        choices.anchor_page(data, ["A"])
    with pytest.raises(ValueError, match="column 'user_journey' not found"):
        choices.end_page(pd.DataFrame({"x": [1]}))


def test_on_another_site_the_choices_are_its_own_pages():
    import journey_utils as ju

    sessions = other_site_sessions(users=400, plans=3, seed=5)
    journeys = ju.preprocess(sessions)
    pages = set(sessions["user_journey"].str.split("-").explode())
    key = choices.key_pages(journeys)
    assert len(key.pages) == 3 and set(key.pages) <= pages
    assert choices.anchor_page(journeys).page == reference_end(journeys["user_journey"])
    assert choices.key_pages(journeys, ["Pricing"]).missing == ["Pricing"]


def test_choices_on_the_reference_data(reference_journeys):
    journeys = reference_journeys["user_journey"].tolist()
    assert choices.most_common_pages(reference_journeys, 3) == reference_top(journeys, 3)
    assert choices.end_page(reference_journeys) == reference_end(journeys)
    anchor = choices.anchor_page(reference_journeys).page
    assert choices.next_pages_of(reference_journeys, anchor=anchor).page == reference_top(journeys, 1, {anchor})[0]
