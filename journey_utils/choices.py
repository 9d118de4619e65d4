"""Pages a report is about, chosen from the data when the parameters leave them empty.

The analysis notebooks take ``key_pages``, ``anchor_page`` and ``next_pages_of``
as parameters. Empty means "choose from the data", so that a report works on any
website's export with nothing edited; a page named in the parameters that the
data does not contain is reported and left out, never shown as zeros. Every
choice comes with one plain sentence that says how it was made (Markdown, with
page names escaped), for the report to show.

The rules:

- **key pages**: the ``n`` pages in the most journeys (ties by name);
- **anchor page**: the page journeys most often end on, the purchase step;
- **next pages of**: the page in the most journeys other than the anchor page.

Examples
--------
>>> import pandas as pd
>>> from journey_utils import choices
>>> journeys = pd.DataFrame({"user_journey": ["Home-Pricing-Checkout", "Home-Checkout", "Blog-Home"]})
>>> choices.most_common_pages(journeys, 2)
['Home', 'Checkout']
>>> choices.end_page(journeys)
'Checkout'
>>> choices.key_pages(journeys, ["Pricing", "Cart"]).pages
['Pricing']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journey_utils import _codes, text
from journey_utils._checks import check_frame, check_positive_int
from journey_utils.columns import TARGET
from journey_utils.metrics import page_presence

__all__ = [
    "KEY_PAGES",
    "Choice",
    "anchor_page",
    "end_page",
    "key_pages",
    "most_common_pages",
    "next_pages_of",
    "split_pages",
]

#: How many key pages are chosen when the parameter is empty.
KEY_PAGES = 3


@dataclass(frozen=True)
class Choice:
    """Pages a section is about, and how they were found.

    Attributes
    ----------
    pages : list of str
        The pages to show, in order; empty when there is nothing to show.
    missing : list of str
        Pages named in the parameters that the data does not contain.
    chosen : bool
        True when the pages were chosen from the data (the parameter was empty).
    text : str
        One Markdown sentence (names escaped) saying how the pages were chosen, or
        which named pages are not in the data; empty when the parameters were used
        as given.
    """

    pages: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    chosen: bool = False
    text: str = ""

    @property
    def page(self):
        """The first page, or None when there is none (for one-page parameters)."""
        return self.pages[0] if self.pages else None


def _names(pages: Sequence[str]) -> str:
    """'**A**', '**A** and **B**', '**A**, **B** and **C**' (escaped)."""
    bold = [f"**{text.escape(p)}**" for p in pages]
    return bold[0] if len(bold) == 1 else ", ".join(bold[:-1]) + " and " + bold[-1]


def _presence(data, target_column: str, function: str) -> pd.Series:
    check_frame(data, function, [target_column])
    return page_presence(data, target_column=target_column)


def most_common_pages(data: pd.DataFrame, n: int = KEY_PAGES, *, exclude: Sequence[str] = (),
                      target_column: str = TARGET) -> list[str]:
    """The ``n`` pages in the most journeys (each journey counts a page once), ties by name.

    Parameters
    ----------
    data : DataFrame
        Journeys (or sessions), one per row, pages joined by ``-``.
    n : int, default 3
        How many pages; fewer when the data has fewer.
    exclude : sequence of str, default ()
        Pages never chosen (e.g. the anchor page).
    target_column : str
        Name of the journey column.

    Returns
    -------
    list of str
        Most journeys first; ties in name order.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import choices
    >>> journeys = pd.DataFrame({"user_journey": ["A-B-A", "B-C", "C"]})
    >>> choices.most_common_pages(journeys, 2)
    ['B', 'C']
    >>> choices.most_common_pages(journeys, 2, exclude=["B"])
    ['C', 'A']
    """
    n = check_positive_int(n, "n", "most_common_pages")
    presence = _presence(data, target_column, "most_common_pages")
    kept = presence.index[~presence.index.isin(list(exclude))]
    return [str(p) for p in kept[:n]]


def end_page(data: pd.DataFrame, *, target_column: str = TARGET):
    """The page journeys most often end on (ties by name), or None when every journey is empty.

    On a purchase funnel this is the purchase step: every journey of a buyer ends
    where they bought.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row, pages joined by ``-``.
    target_column : str
        Name of the journey column.

    Returns
    -------
    str or None

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import choices
    >>> choices.end_page(pd.DataFrame({"user_journey": ["A-Pay", "B-Pay", "Pay-A", ""]}))
    'Pay'
    """
    check_frame(data, "end_page", [target_column])
    coded = _codes.encode(data[target_column])
    ends = coded.offsets[1:]
    nonempty = ends > coded.offsets[:-1]
    if not nonempty.any():
        return None
    counts = np.bincount(coded.codes[ends[nonempty] - 1], minlength=coded.n_pages)
    best = counts.max()
    # Ties: the first name in code-point order, as everywhere else.
    return min(str(p) for p in coded.pages[counts == best])


def split_pages(data: pd.DataFrame, pages: Sequence[str], *, target_column: str = TARGET) -> tuple[list, list]:
    """Named pages split into those the journeys contain and those they do not, in the order given.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    pages : sequence of str
        Page names (duplicates are kept once).
    target_column : str
        Name of the journey column.

    Returns
    -------
    (list of str, list of str)
        Present pages, missing pages.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import choices
    >>> choices.split_pages(pd.DataFrame({"user_journey": ["A-B"]}), ["B", "Z", "A", "B"])
    (['B', 'A'], ['Z'])
    """
    if isinstance(pages, str) or not all(isinstance(p, str) for p in pages):
        raise TypeError(f"split_pages: pages must be a list of page names; found {pages!r}")
    check_frame(data, "split_pages", [target_column])
    known = set(_codes.encode(data[target_column]).pages.tolist())
    wanted = list(dict.fromkeys(pages))
    return [p for p in wanted if p in known], [p for p in wanted if p not in known]


def _missing_text(missing: Sequence[str], parameter: str, what: str) -> str:
    verb = "is not a page" if len(missing) == 1 else "are not pages"
    return f"{_names(missing)} (parameter `{parameter}`) {verb} of these journeys, so {what} left out."


def key_pages(data: pd.DataFrame, wanted: Sequence[str] = (), n: int = KEY_PAGES, *,
              target_column: str = TARGET) -> Choice:
    """The key pages: those named that the data contains, or the ``n`` pages in the most journeys.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    wanted : sequence of str, default ()
        The ``key_pages`` parameter; empty means chosen from the data.
    n : int, default 3
        How many pages to choose when ``wanted`` is empty.

    Returns
    -------
    Choice
        ``text`` says how the pages were chosen, or names the pages not in the data.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import choices
    >>> journeys = pd.DataFrame({"user_journey": ["A-B", "B-C", "B"]})
    >>> choice = choices.key_pages(journeys, [], 2)
    >>> choice.pages, choice.text
    (['B', 'A'], 'The key pages are the 2 pages in the most journeys: **B** and **A**.')
    >>> choices.key_pages(journeys, ["C", "Z"]).text
    '**Z** (parameter `key_pages`) is not a page of these journeys, so its sections are left out.'
    """
    if isinstance(wanted, str):
        raise TypeError(f"key_pages: wanted must be a list of page names; found the string {wanted!r}")
    if wanted:
        present, missing = split_pages(data, wanted, target_column=target_column)
        what = "its sections are" if len(missing) == 1 else "their sections are"
        return Choice(present, missing, False, _missing_text(missing, "key_pages", what) if missing else "")
    pages = most_common_pages(data, n, target_column=target_column)
    if not pages:
        return Choice([], [], True, "These journeys have no page, so there are no key pages.")
    if len(pages) == 1:
        sentence = f"The key page is the only page in these journeys: {_names(pages)}."
    else:
        sentence = f"The key pages are the {text.integer(len(pages))} pages in the most journeys: {_names(pages)}."
    return Choice(pages, [], True, sentence)


def anchor_page(data: pd.DataFrame, wanted: str = "", *, target_column: str = TARGET) -> Choice:
    """The anchor page: the one named if the data contains it, else the page journeys most often end on.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    wanted : str, default ''
        The ``anchor_page`` parameter; empty means chosen from the data.

    Returns
    -------
    Choice
        One page at most (``choice.page``).

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import choices
    >>> journeys = pd.DataFrame({"user_journey": ["A-Pay", "B-Pay", "Pay-A"]})
    >>> choices.anchor_page(journeys).page
    'Pay'
    >>> choices.anchor_page(journeys, "Checkout").pages
    []
    """
    return _one_page(data, wanted, "anchor_page", lambda: end_page(data, target_column=target_column),
                     "the page where journeys most often end (the purchase step)", target_column)


def next_pages_of(data: pd.DataFrame, wanted: str = "", *, anchor: str | None = None,
                  target_column: str = TARGET) -> Choice:
    """The page whose next pages are compared: the one named, or the page in the most journeys but the anchor.

    Parameters
    ----------
    data : DataFrame
        Journeys, one per row.
    wanted : str, default ''
        The ``next_pages_of`` parameter; empty means chosen from the data.
    anchor : str, optional
        The anchor page, never chosen (where buyers go after buying says little).

    Returns
    -------
    Choice
        One page at most (``choice.page``).

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import choices
    >>> journeys = pd.DataFrame({"user_journey": ["Home-Pay", "Home-Blog-Pay", "Blog-Pay"]})
    >>> choices.next_pages_of(journeys, anchor="Pay").page
    'Blog'
    """
    excluded = [anchor] if anchor else []
    how = ("the page in the most journeys other than the anchor page" if anchor
           else "the page in the most journeys")

    def choose():
        pages = most_common_pages(data, 1, exclude=excluded, target_column=target_column)
        return pages[0] if pages else None

    return _one_page(data, wanted, "next_pages_of", choose, how, target_column)


def _one_page(data, wanted, parameter, choose, how, target_column) -> Choice:
    if not isinstance(wanted, str):
        raise TypeError(f"{parameter}: expected a page name or '' (chosen from the data); found {wanted!r}")
    if wanted:
        present, missing = split_pages(data, [wanted], target_column=target_column)
        return Choice(present, missing, False, _missing_text(missing, parameter, "this section is") if missing else "")
    page = choose()
    if page is None:
        return Choice([], [], True, f"These journeys have no page to choose for `{parameter}`.")
    return Choice([page], [], True, f"{_names([page])} is {how}.")
