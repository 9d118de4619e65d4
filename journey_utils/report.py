"""What a report shows: its header, its tables, its prose and its key figures.

The notebooks call these helpers so that every report looks the same and every
value from the data is escaped before it reaches HTML. Page and plan names are
user data: a page called ``<script>`` must print as text, never run.

Sentences are filled by :func:`say` (names escaped, numbers formatted); the formatters
themselves live in :mod:`journey_utils.text`.

Examples
--------
>>> from journey_utils import report
>>> report.escape("<b>Pricing</b>")
'&lt;b&gt;Pricing&lt;/b&gt;'
>>> report.percent(0.4567), report.integer(9935)
('45.7%', '9,935')
"""

from __future__ import annotations

import html
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from journey_utils import PROJECT_ROOT
from journey_utils._checks import check_positive_int, selected_plans
from journey_utils.io import JourneyDataWarning, file_checksum
from journey_utils.text import count, decimal, escape, integer, listing, p_value, percent, phrase, points, steps

__all__ = [
    "KEY_FIGURES_MIME",
    "setup",
    "resolve",
    "checksum",
    "source",
    "run_time",
    "escape",
    "integer",
    "count",
    "percent",
    "decimal",
    "listing",
    "points",
    "p_value",
    "steps",
    "phrase",
    "say",
    "markdown",
    "parameter_text",
    "header",
    "table",
    "key_figures",
    "check_plans",
    "positive_int",
]

#: Output type that carries a report's key figures to the index page (ignored by HTML and Lab).
KEY_FIGURES_MIME = "application/vnd.journey-analytics.key-figures+json"

def setup() -> None:
    """Prepare a notebook kernel for a report: chart style and warnings.

    Repairs made while loading are shown in the report's data-quality table, so
    their warnings are silenced here rather than printed with file paths.
    """
    from journey_utils import plots

    plots.use_report_style()
    warnings.simplefilter("ignore", JourneyDataWarning)
    pd.set_option("display.max_columns", 50)


def resolve(path) -> Path:
    """A path as given in parameters: absolute, or relative to the project folder.

    Examples
    --------
    >>> from journey_utils import report, PROJECT_ROOT
    >>> report.resolve("data/x.csv") == PROJECT_ROOT / "data" / "x.csv"
    True
    """
    return PROJECT_ROOT / os.fspath(path)


def checksum(path) -> str:
    """The first 12 hex digits of the SHA-256 of an export (a file, or a folder of parts), to tell inputs apart.

    The load report's ``checksum``: :func:`journey_utils.io.file_checksum`.
    """
    return file_checksum(path)


def source(label: str, path, data=None) -> tuple[str, str, int, str]:
    """What a report's header says about one input: label, file name, rows and checksum.

    When ``data`` was loaded from validated sessions (a Parquet file written by
    ``save_sessions``), its load report names the ORIGINAL export: the header shows
    that export's name, rows and checksum, not the intermediate file's.

    Parameters
    ----------
    label : str
        What the input is ('Sessions').
    path : path-like
        The file that was read.
    data : DataFrame, optional
        What was read from it; its ``attrs["load_report"]`` is used when present.

    Returns
    -------
    (label, name, rows, checksum)
        For :func:`header`'s ``inputs``.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import report
    >>> data = pd.DataFrame({"user_id": [1]})
    >>> data.attrs["load_report"] = {"path": "/exports/june.csv", "rows_read": 1200, "checksum": "0123456789ab"}
    >>> report.source("Sessions", "build/sessions.parquet", data)
    ('Sessions', 'june.csv', 1200, '0123456789ab')
    """
    loaded = dict(getattr(data, "attrs", {}).get("load_report", {}) or {}) if data is not None else {}
    if loaded.get("checksum"):
        original = loaded.get("path") or path
        rows = loaded.get("rows_read", len(data))
        return label, Path(os.fspath(original)).name, int(rows), str(loaded["checksum"])
    rows = loaded.get("rows_read", len(data) if data is not None else 0)
    return label, Path(os.fspath(path)).name, int(rows), checksum(path)


def run_time() -> str:
    """When the report ran, in UTC to the minute (``SOURCE_DATE_EPOCH`` pins it for reproducible builds)."""
    pinned = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = datetime.fromtimestamp(int(pinned), timezone.utc) if pinned.isdigit() else datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def markdown(text: str) -> None:
    """Display Markdown built from escaped values (see :func:`escape`)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def say(template: str, /, **values) -> None:
    """Display a sentence of the report: :func:`journey_utils.text.phrase`, shown as Markdown.

    Names in ``values`` are escaped and numbers formatted by their spec
    (``{share:%}``, ``{n:,}``, ``{p:p}``, ``{run:steps}``), so prose needs no
    hand-escaping.

    Examples
    --------
    >>> from journey_utils import report
    >>> report.say("**{page}** is in {share:%} of journeys", page="Coupon", share=0.598)
    <IPython.core.display.Markdown object>
    """
    markdown(phrase(template, **values))


# What an empty value means, for the parameters whose empty value is not "nothing".
EMPTY_MEANS = {"plans": "every plan", "key_pages": "chosen from the data", "next_pages_of": "chosen from the data",
               "anchor_page": "chosen from the data"}


def parameter_text(value, name: str | None = None) -> str:
    """A parameter's value as a reader sees it in a report's header and on the index.

    Examples
    --------
    >>> from journey_utils import report
    >>> report.parameter_text([3, 4]), report.parameter_text([], "pages_to_remove"), report.parameter_text([], "plans")
    ('3, 4', '(none)', 'every plan')
    """
    if name in EMPTY_MEANS and (value == "" or (isinstance(value, (list, tuple)) and not value)):
        return EMPTY_MEANS[name]
    if isinstance(value, str):
        return value if value else "(not set)"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else "(none)"
    return str(value)


def header(title: str, *, parameters: Mapping, inputs: Sequence[tuple[str, object, int]]) -> None:
    """The first output of a report: title, inputs and parameters, and when it ran.

    The HTML hides code, so this is where a reader sees what the report was run on.

    Parameters
    ----------
    title : str
        Report title; escaped.
    parameters : mapping
        Parameter name -> value, shown as given.
    inputs : sequence of (label, path, rows) or (label, name, rows, checksum)
        Each input file: a label ('Sessions'), its path and the rows read (the
        checksum is computed), or what :func:`source` returns. Only the file name is
        shown, with a checksum that tells two files apart.
    """
    from IPython.display import HTML, display

    markdown(f"# {escape(title)}")
    described = [item if len(item) == 4 else (item[0], Path(os.fspath(item[1])).name, item[2], checksum(item[1]))
                 for item in inputs]
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th><td><code>{html.escape(str(name))}</code>, "
        f"{integer(count)} rows, checksum <code>{html.escape(digest)}</code></td></tr>"
        for label, name, count, digest in described
    )
    settings = "".join(
        f"<tr><th>{html.escape(str(name))}</th><td>{html.escape(parameter_text(value, str(name)))}</td></tr>"
        for name, value in parameters.items()
    )
    display(HTML(
        '<table class="run-header">'
        f"{rows}<tr><th>Run</th><td>{run_time()}</td></tr>"
        f'<tr><th colspan="2">Parameters</th></tr>{settings}</table>'
    ))


NA_TEXT = "–"


def _missing(value) -> bool:
    return value is None or (not isinstance(value, (str, list, tuple)) and bool(pd.isna(value)))


def _default_format(series: pd.Series, percent_columns, decimals: int):
    if series.name in percent_columns:
        return lambda v: percent(v, decimals)
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return integer
    if pd.api.types.is_float_dtype(series):
        return lambda v: decimal(v, decimals)
    return None


def table(
    data,
    *,
    name: str,
    percent_columns: Sequence[str] = (),
    decimals: int = 1,
    index: bool = False,
    caption: str | None = None,
) -> None:
    """Display a formatted, escaped table (HTML for reports, plain text for diffs).

    Integers get thousands separators, shares in ``percent_columns`` become
    percentages, other floats get ``decimals`` decimals. Every cell and label is
    HTML-escaped. The plain-text form carries no memory address, so a stored
    output compares equal between runs.

    Parameters
    ----------
    data : DataFrame or Series
        What to show; a Series becomes one column.
    name : str
        Stable identifier of the table in the page (letters, digits, ``-``, ``_``).
    percent_columns : sequence of str, default ()
        Columns holding shares between 0 and 1.
    decimals : int, default 1
        Decimals for percentages and other floats.
    index : bool, default False
        Show the index as the first column(s).
    caption : str, optional
        A caption shown above the table (escaped).

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import report
    >>> report.table(pd.DataFrame({"page": ["<b>"], "share": [0.5]}), name="t",
    ...              percent_columns=["share"])  # doctest: +SKIP
    """
    from IPython.display import display

    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"table: name must be letters, digits, '-' or '_'; found {name!r}")
    shown = data if index else data.reset_index(drop=True)
    # Format once, as text: the HTML and the plain form (compared by nbval) show the same digits.
    text = pd.DataFrame(index=shown.index)
    for column in shown.columns:
        formatter = _default_format(shown[column], percent_columns, decimals) or str
        text[column] = [NA_TEXT if _missing(v) else formatter(v) for v in shown[column]]
    text.columns = shown.columns
    styler = text.style.set_uuid(name).format(escape="html")
    styler = styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    if not index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(html.escape(caption))
    plain = text.to_string(index=index) if len(text) else "(no rows)"
    display({"text/html": styler.to_html(), "text/plain": plain}, raw=True)


def _plain_number(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        value = float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def key_figures(figures: Mapping[str, object], *, percent_keys: Sequence[str] = (), decimals: int = 1) -> None:
    """Show a report's key figures and hand them to the report index.

    Parameters
    ----------
    figures : mapping
        Label -> value (number or text).
    percent_keys : sequence of str, default ()
        Labels whose values are shares between 0 and 1.
    decimals : int, default 1
        Decimals for non-integer numbers.
    """
    from IPython.display import display

    rows = []
    for label, value in figures.items():
        if label in percent_keys:
            text = percent(value, decimals)
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            text = integer(value)
        elif isinstance(value, (float, np.floating)):
            text = decimal(float(value), decimals)
        else:
            text = str(value)
        rows.append((label, text))
    frame = pd.DataFrame(rows, columns=["Figure", "Value"])
    styler = frame.style.set_uuid("key-figures").hide(axis="index").format(escape="html")
    styler = styler.format_index(escape="html", axis=1)
    payload = {
        "figures": [{"label": label, "text": text, "value": _plain_number(figures[label])} for label, text in rows]
    }
    display(
        {"text/html": styler.to_html(), "text/plain": frame.to_string(index=False), KEY_FIGURES_MIME: payload},
        raw=True,
    )


def check_plans(data: pd.DataFrame, wanted, *, plan_column: str = "subscription_type") -> list[str]:
    """The plans a report covers, or a clear error naming the plans present.

    The library's one reading of a plan selection (``journey_utils._checks.selected_plans``),
    worded for a report's reader.

    Parameters
    ----------
    data : DataFrame
        Journeys or sessions with a plan column.
    wanted : None, str or list of str
        None or an empty list (every plan), one plan, or a list of plans. The
        string ``'All'`` means every plan only when no plan is called All.

    Returns
    -------
    list of str
        The plans, in the order given (sorted when every plan is meant).

    Raises
    ------
    ValueError
        A plan not in the data (the message lists the plans present), or
        ``'All'`` when a plan is called All.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import report
    >>> report.check_plans(pd.DataFrame({"subscription_type": ["B", "A"]}), [])
    ['A', 'B']
    >>> report.check_plans(pd.DataFrame({"subscription_type": ["B", "All"]}), ["All"])
    ['All']
    """
    return selected_plans(data, wanted, plan_column, "check_plans", empty_means_all=True, for_report=True)


def positive_int(value, name: str) -> int:
    """A parameter that must be a positive integer, or an error naming it and the value found.

    Examples
    --------
    >>> from journey_utils import report
    >>> report.positive_int(10, "top_n")
    10
    """
    return check_positive_int(value, name, "parameters")
