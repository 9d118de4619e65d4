"""Numbers and names as a report's reader sees them: the one set of formatters.

Every report, table and sentence formats through these functions, so that a share
reads the same everywhere (``45.7%``) and a page or plan name from the data is
always escaped. :func:`phrase` fills a sentence template with values and does both
by itself: names are escaped, numbers formatted by their format spec.

Examples
--------
>>> from journey_utils import text
>>> text.percent(0.4567), text.integer(9935), text.p_value(0.0421)
('45.7%', '9,935', 'p = 0.042')
>>> print(text.phrase("**{page}** is in {share:%} of {n:,} journeys", page="<b>Coupon</b>", share=0.598, n=931))
**&lt;b&gt;Coupon&lt;/b&gt;** is in 59.8% of 931 journeys
"""

from __future__ import annotations

import html
import math
import numbers
import re
import string
from collections.abc import Sequence

import numpy as np

from journey_utils._checks import check_unit_interval
from journey_utils.columns import SEPARATOR

__all__ = [
    "Markup",
    "escape",
    "integer",
    "count",
    "percent",
    "points",
    "decimal",
    "p_value",
    "listing",
    "steps",
    "in_words",
    "phrase",
]

#: What an undefined number prints as.
NOT_AVAILABLE = "n/a"
#: The arrow between the pages of a journey or run.
ARROW = " → "

# Markdown punctuation that could turn a name into emphasis, a link or a heading.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


class Markup(str):
    """Text that is already safe (escaped or written by the report): :func:`phrase` keeps it as it is."""


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return not np.isfinite(value)
    except TypeError:
        return False


def escape(value) -> Markup:
    r"""Make user text safe inside Markdown or HTML: no markup, links or emphasis.

    Examples
    --------
    >>> from journey_utils import text
    >>> print(text.escape("*New* <b>"))
    \*New\* &lt;b&gt;
    """
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", str(value)), quote=True))


def integer(value) -> str:
    """An integer with thousands separators (``9,935``); ``n/a`` when undefined.

    Examples
    --------
    >>> from journey_utils import text
    >>> text.integer(9935.0)
    '9,935'
    """
    return NOT_AVAILABLE if _missing(value) else f"{int(value):,}"


def count(value, noun: str, plural: str | None = None) -> str:
    """A count with its noun, singular for one (``1 user``, ``9,935 sessions``).

    Examples
    --------
    >>> from journey_utils import text
    >>> text.count(1, "user"), text.count(1200, "session"), text.count(2, "journey", "journeys")
    ('1 user', '1,200 sessions', '2 journeys')
    """
    return f"{integer(value)} {noun if int(value) == 1 else plural or noun + 's'}"


def percent(share, decimals: int = 1) -> str:
    """A share (0-1) as a percentage (``45.7%``); ``n/a`` when undefined.

    Examples
    --------
    >>> from journey_utils import text
    >>> text.percent(0.1234), text.percent(0.5, decimals=0), text.percent(float("nan"))
    ('12.3%', '50%', 'n/a')
    """
    return NOT_AVAILABLE if _missing(share) else f"{share:.{decimals}%}"


def points(difference, decimals: int = 1) -> str:
    """A difference of two shares in percentage points, signed (``+5.2 points``).

    Examples
    --------
    >>> from journey_utils import text
    >>> text.points(0.052), text.points(-0.4)
    ('+5.2 points', '-40.0 points')
    """
    return NOT_AVAILABLE if _missing(difference) else f"{100 * difference:+.{decimals}f} points"


def decimal(value, decimals: int = 1) -> str:
    """A number with thousands separators and ``decimals`` decimals; ``n/a`` when undefined.

    Examples
    --------
    >>> from journey_utils import text
    >>> text.decimal(1234.567), text.decimal(None)
    ('1,234.6', 'n/a')
    """
    return NOT_AVAILABLE if _missing(value) else f"{value:,.{decimals}f}"


def p_value(value) -> str:
    """A p-value for text: ``p < 0.001`` or ``p = 0.042``.

    Examples
    --------
    >>> from journey_utils import text
    >>> text.p_value(0.00002), text.p_value(0.0421), text.p_value(None)
    ('p < 0.001', 'p = 0.042', 'p not available')
    """
    if _missing(value):
        return "p not available"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def listing(names: Sequence, *, empty: str = "none") -> Markup:
    """Escaped names joined by commas (``Pricing, Sign up``), or ``empty``.

    Examples
    --------
    >>> from journey_utils import text
    >>> text.listing(["Pricing", "Sign up"]), text.listing([])
    ('Pricing, Sign up', 'none')
    """
    names = [escape(n) for n in names]
    return Markup(", ".join(names) if names else empty)


def steps(journey: str, *, separator: str = SEPARATOR) -> str:
    """A journey or run of pages (``Pricing-Checkout``) with arrows: ``Pricing → Checkout``.

    Not escaped: pass it through :func:`escape` (or :func:`phrase`) for Markdown.

    Examples
    --------
    >>> from journey_utils import text
    >>> text.steps("Homepage-Pricing-Checkout")
    'Homepage → Pricing → Checkout'
    """
    return ARROW.join(str(journey).split(separator))


def in_words(share) -> str:
    """A share (0-1) in plain words: ``'6 in 10'``, or ``'1 in 9'`` for shares under 15%.

    Shares from 15% up are rounded to the nearest tenth (``'6 in 10'``); smaller
    ones are "one in N" with N the nearest whole number to ``1 / share``
    (``'1 in 9'``, ``'1 in 250'``). 0 is ``'none'``, 1 ``'all'``, a share that
    rounds to ten tenths without being 1 ``'nearly all'``, a share under one in
    a thousand ``'fewer than 1 in 1,000'``. Undefined shares are ``'n/a'``.

    Parameters
    ----------
    share : float
        Between 0 and 1.

    Returns
    -------
    str

    Examples
    --------
    >>> from journey_utils.text import in_words
    >>> [in_words(s) for s in (0.598, 0.114, 0.886, 0.15, 0.004, 0.97, 1.0, 0.0)]
    ['6 in 10', '1 in 9', '9 in 10', '2 in 10', '1 in 250', 'nearly all', 'all', 'none']
    """
    if share is None or not np.isfinite(share):
        return NOT_AVAILABLE
    check_unit_interval(share, "share", "in_words", closed=True)
    if share == 0:
        return "none"
    if share == 1:
        return "all"
    tenths = math.floor(share * 10 + 0.5)
    if tenths >= 10:
        return "nearly all"
    if tenths >= 2:
        return f"{tenths} in 10"
    if share < 0.001:
        return "fewer than 1 in 1,000"
    return f"1 in {integer(math.floor(1 / share + 0.5))}"


class _Formatter(string.Formatter):
    def format_field(self, value, format_spec):
        if isinstance(value, Markup):
            return value if not format_spec else escape(format(str(value), format_spec))
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else "no"
        if isinstance(value, numbers.Number) or value is None:
            return self._number(value, format_spec)
        if isinstance(value, (list, tuple)):
            return listing(value)
        if format_spec == "steps":
            return escape(steps(value))
        return escape(format(str(value), format_spec))

    @staticmethod
    def _number(value, spec):
        match = re.fullmatch(r"(?:\.(\d+))?(%|pp|p|,|f|d)?", spec)
        if match is None:
            return format(value, spec)
        digits, kind = match.groups()
        decimals = int(digits) if digits is not None else 1
        if kind == "%":
            return percent(value, decimals)
        if kind == "pp":
            return points(value, decimals)
        if kind == "p":
            return p_value(value)
        if kind == "f" or (kind is None and digits is not None):
            return decimal(value, decimals)
        if _missing(value):
            return NOT_AVAILABLE
        if isinstance(value, numbers.Integral) or float(value).is_integer():
            return integer(value)
        return decimal(value, decimals)


def phrase(template: str, /, **values) -> Markup:
    """Fill a Markdown sentence with values: names escaped, numbers formatted.

    The template is the report's own text (its Markdown is kept); every value is
    data. Format specs for numbers: none or ``,`` (a whole number with thousands
    separators; other numbers with one decimal), ``%`` / ``.0%`` (a share as a
    percentage), ``pp`` (a difference in percentage points), ``p`` (a p-value),
    ``.2f`` (decimals). Text values are escaped; ``steps`` turns
    ``A-B`` into ``A → B``; lists become escaped comma-separated listings;
    :class:`Markup` values (an earlier phrase) are kept as they are.

    Examples
    --------
    >>> from journey_utils import text
    >>> print(text.phrase("{n} buyers; {share:.0%} saw **{page}** ({path:steps})", n=1350, share=0.598,
    ...                   page="Coupon_1", path="Pricing-Coupon"))
    1,350 buyers; 60% saw **Coupon\\_1** (Pricing → Coupon)
    """
    return Markup(_Formatter().vformat(template, (), values))
