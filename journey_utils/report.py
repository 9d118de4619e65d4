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
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from journey_utils import PROJECT_ROOT
from journey_utils._checks import check_positive_int, check_unit_interval, selected_plans
from journey_utils.io import JourneyDataWarning, file_checksum
from journey_utils.text import (
    Markup,
    count,
    decimal,
    escape,
    integer,
    listing,
    p_value,
    percent,
    phrase,
    points,
    steps,
)

__all__ = [
    "KEY_FIGURES_MIME",
    "REPORT_MIME",
    "SUMMARY_MIME",
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
    "plans_text",
    "header",
    "summary",
    "caution",
    "methods",
    "evidence",
    "appendix",
    "table",
    "key_figures",
    "check_plans",
    "positive_int",
    "rate",
]

#: Output type that carries a report's key figures to the index page (ignored by HTML and Lab).
KEY_FIGURES_MIME = "application/vnd.journey-analytics.key-figures+json"
#: Output type of :func:`header`: the title, the plans covered and whether the page links to the index.
REPORT_MIME = "application/vnd.journey-analytics.report+json"
#: Output type of :func:`summary`: the takeaways; the first is the report's headline on the index page.
SUMMARY_MIME = "application/vnd.journey-analytics.summary+json"


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
    moment = datetime.fromtimestamp(int(pinned), UTC) if pinned.isdigit() else datetime.now(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def markdown(text: str) -> None:
    """Display Markdown built from escaped values (see :func:`escape`).

    The text is also the output's plain text, so that the notebook tests compare a
    checked cell's sentences, not an object's name.
    """
    from IPython.display import display

    display(_Prose(text))


class _Prose:
    """Markdown whose plain-text form is the text itself (not ``<...Markdown object>``)."""

    def __init__(self, text: str):
        self.text = str(text)

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def say(template: str, /, **values) -> None:
    """Display a sentence of the report: :func:`journey_utils.text.phrase`, shown as Markdown.

    Names in ``values`` are escaped and numbers formatted by their spec
    (``{share:%}``, ``{n:,}``, ``{p:p}``, ``{run:steps}``), so prose needs no
    hand-escaping.

    Examples
    --------
    >>> from journey_utils import report
    >>> report.say("**{page}** is in {share:%} of journeys", page="Coupon", share=0.598)
    **Coupon** is in 59.8% of journeys
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


def _report_payload(title: str, plans, back_link: bool) -> dict:
    payload = {"title": str(title), "back_link": bool(back_link)}
    if plans is not None:
        payload["plans"] = [str(p) for p in ([plans] if isinstance(plans, str) else plans)]
    return payload


def plans_text(plans: Sequence[str]) -> str:
    """The plans a report covers, as its header and the index say them (plain text, not escaped).

    Examples
    --------
    >>> from journey_utils import report
    >>> report.plans_text(["Annual"]), report.plans_text(["Annual", "Monthly", "Quarterly"])
    ('Plan: Annual', 'Plans: Annual, Monthly and Quarterly')
    """
    names = [str(p) for p in plans]
    if not names:
        return "Plans: none in the data"
    if len(names) == 1:
        return f"Plan: {names[0]}"
    return f"Plans: {', '.join(names[:-1])} and {names[-1]}"


def header(
    title: str,
    *,
    plans: Sequence[str] | str | None = None,
    back_link: bool = True,
    parameters: Mapping | None = None,
    inputs: Sequence[tuple] | None = None,
) -> None:
    """The first output of a report: its title and the plans it covers.

    The rendered page adds a link back to the index of reports above the title
    (``back_link=False`` leaves it out), and the index lists the plans given here.
    Parameters and inputs belong at the end of the report, in :func:`appendix`; the
    older call with ``parameters=`` and ``inputs=`` still shows them under the title.

    Parameters
    ----------
    title : str
        Report title; escaped.
    plans : sequence of str or str, optional
        The plans the report covers or compares, as in the data; shown under the title
        and on the index page.
    back_link : bool, default True
        Whether the rendered report links back to ``index.html``.
    parameters, inputs : optional
        Deprecated here: as in :func:`appendix`, shown under the title.

    Examples
    --------
    >>> from journey_utils import report
    >>> report.header("Plan comparison", plans=["Annual", "Monthly"])  # doctest: +SKIP
    """
    from IPython.display import display

    title_markdown = f"# {escape(title)}"
    display({"text/markdown": title_markdown, "text/plain": title_markdown,
             REPORT_MIME: _report_payload(title, plans, back_link)}, raw=True)
    if plans is not None:
        line = plans_text([plans] if isinstance(plans, str) else plans)
        display({"text/html": f'<p class="report-plans">{html.escape(line)}</p>', "text/plain": line}, raw=True)
    if parameters is not None or inputs is not None:
        page, plain = _run_table(parameters or {}, inputs or ())
        display({"text/html": page, "text/plain": plain}, raw=True)


def _run_table(parameters: Mapping, inputs: Sequence[tuple]) -> tuple[str, str]:
    """(HTML, plain text) of what a report ran on: its inputs, when it ran, its parameters."""
    described = [item if len(item) == 4 else (item[0], Path(os.fspath(item[1])).name, item[2], checksum(item[1]))
                 for item in inputs]
    rows = "".join(
        f"<tr><th>{html.escape(str(label))}</th><td><code>{html.escape(str(name))}</code>, "
        f"{integer(count)} rows, checksum <code>{html.escape(str(digest))}</code></td></tr>"
        for label, name, count, digest in described
    )
    settings = "".join(
        f"<tr><th>{html.escape(str(name))}</th><td>{html.escape(parameter_text(value, str(name)))}</td></tr>"
        for name, value in parameters.items()
    )
    page = ('<table class="run-header" id="run-header">'
            f"{rows}<tr><th>Run</th><td>{run_time()}</td></tr>"
            f'<tr><th colspan="2">Parameters</th></tr>{settings}</table>')
    plain = "\n".join(
        [f"{label}: {name}, {integer(count)} rows, checksum {digest}" for label, name, count, digest in described]
        + [f"Run: {run_time()}", "Parameters:"]
        + [f"  {name}: {parameter_text(value, str(name))}" for name, value in parameters.items()]
    )
    return page, plain


def appendix(
    parameters: Mapping | None = None,
    inputs: Sequence[tuple] = (),
    *,
    title: str = "About this report",
) -> None:
    """The end of a report: what it was run on (inputs, parameters, when it ran).

    The HTML hides code, so this is where a reader sees what the report was run on.

    Parameters
    ----------
    parameters : mapping, optional
        Parameter name -> value, shown as given (an empty value says what it means).
    inputs : sequence of (label, path, rows) or (label, name, rows, checksum)
        Each input file: a label ('Sessions'), its path and the rows read (the
        checksum is computed), or what :func:`source` returns. Only the file name is
        shown, with a checksum that tells two files apart.
    title : str, default 'About this report'
        The appendix's heading (a section of the contents); escaped.

    Examples
    --------
    >>> from journey_utils import report
    >>> report.appendix({"top_n": 10}, [("Sessions", "june.csv", 1200, "0123456789ab")])  # doctest: +SKIP
    """
    from IPython.display import display

    page, plain = _run_table(parameters or {}, inputs)
    # One output: the heading (a section of the contents) and its table together.
    heading = f"## {escape(title)}"
    display({"text/markdown": f"{heading}\n\n{page}\n", "text/plain": f"{heading}\n{plain}"}, raw=True)


def _markdown_html(text: str, *, inline: bool = False) -> str:
    """HTML of a report's Markdown (its own words, values escaped by :func:`journey_utils.text.phrase`).

    No tag of the text reaches the page: a ``<`` left unescaped prints as text, and a
    link to a script is disarmed, so a name that skipped ``phrase`` shows as itself.
    """
    import mistune

    source = str(text).replace("<", "&lt;")
    rendered = mistune.create_markdown(escape=False, plugins=["strikethrough", "table"])(source).strip()
    if inline and rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return rendered


def _markdown_text(value) -> str:
    """A takeaway's text: Markdown made by :func:`journey_utils.text.phrase` (names already escaped)."""
    return "" if _missing(value) else str(value)


def _plain(fragment: str) -> str:
    """The text a reader sees in an HTML fragment (for text/plain outputs and the index)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip().replace(" ,", ",")


def _number_text(value) -> str:
    if _missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return integer(value)
    if isinstance(value, (float, np.floating)):
        return integer(value) if float(value).is_integer() else decimal(float(value))
    return str(value)


def summary(
    takeaways,
    *,
    title: str = "At a glance",
    limit: int = 5,
    empty: str = "Nothing in this data stands out enough to summarise; the sections below give the detail.",
) -> None:
    """The executive summary at the top of a report: numbered takeaways, each with its number.

    Each takeaway is one plain-language sentence with the number that matters set
    beside it, and, when the frame has a ``suggestion`` column, a short "What this
    suggests" line. The first takeaway is the report's headline on the index page.

    Parameters
    ----------
    takeaways : DataFrame
        One row per takeaway, most important first, with columns ``headline`` and
        ``number``, and optionally ``detail`` (a short second line) and ``suggestion``.
        Text is Markdown as :func:`journey_utils.text.phrase` writes it (names
        escaped, numbers formatted), as :mod:`journey_utils.summary` returns it:
        a name from the data must reach it through ``phrase`` or ``text.escape``.
        Numbers given as numbers print as whole numbers or with one decimal; give
        shares already formatted (``text.percent``).
    title : str, default 'At a glance'
        The box's title.
    limit : int, default 5
        At most this many takeaways are shown.
    empty : str
        The sentence shown when there is no takeaway.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import report
    >>> report.summary(pd.DataFrame({"headline": ["of Annual buyers saw Coupon"], "number": ["6 in 10"],
    ...                              "suggestion": ["Check what the Coupon page offers"]}))  # doctest: +SKIP
    """
    from IPython.display import display

    frame = pd.DataFrame(takeaways)
    if len(frame) and "headline" not in frame.columns:
        raise ValueError(f"summary: takeaways need a 'headline' column; found {list(frame.columns)}")
    frame = frame.head(check_positive_int(limit, "limit", "summary"))
    items, payload = [], []
    for row in frame.to_dict("records"):
        value = row.get("number")
        number = (_markdown_html(_markdown_text(value), inline=True) if isinstance(value, str)
                  else html.escape(_number_text(value)))
        headline = _markdown_html(_markdown_text(row.get("headline")), inline=True)
        parts = [f'<span class="takeaway-number">{number}</span>' if number else "",
                 f'<span class="takeaway-text">{headline}']
        detail = _markdown_html(_markdown_text(row.get("detail")), inline=True) if "detail" in row else ""
        if detail:
            parts.append(f'<span class="takeaway-detail">{detail}</span>')
        suggestion = _markdown_html(_markdown_text(row.get("suggestion")), inline=True) if "suggestion" in row else ""
        if suggestion:
            parts.append(f'<span class="takeaway-suggestion"><strong>What this suggests:</strong> {suggestion}</span>')
        parts.append("</span>")
        items.append(f"<li>{''.join(parts)}</li>")
        payload.append({"number": _plain(number), "headline": _plain(headline), "detail": _plain(detail),
                        "suggestion": _plain(suggestion)})
    body = f"<ol>{''.join(items)}</ol>" if items else f"<p>{html.escape(empty)}</p>"
    page = (f'<section class="summary" aria-label="{html.escape(title)}">'
            f'<p class="summary-title">{html.escape(title)}</p>{body}</section>')
    lines = [title] + [
        f"{i}. " + " ".join(filter(None, (t["number"], t["headline"], t["detail"])))
        + (f" What this suggests: {t['suggestion']}" if t["suggestion"] else "")
        for i, t in enumerate(payload, start=1)
    ]
    display({"text/html": page, "text/plain": "\n".join(lines if payload else [title, empty]),
             SUMMARY_MIME: {"title": title, "takeaways": payload}}, raw=True)


def caution(template: str, /, *, label: str = "Caution", **values) -> None:
    """A visible caution box, such as a plan with too few buyers to read much into.

    Filled like :func:`say`: the template is the report's own Markdown, ``values``
    are escaped and formatted (:func:`journey_utils.text.phrase`).

    Parameters
    ----------
    template : str
        The caution, with ``{name}`` fields for values.
    label : str, default 'Caution'
        The box's first word(s), in bold.
    **values
        Names and numbers for the template's fields.

    Examples
    --------
    >>> from journey_utils import report
    >>> report.caution("Only {n:,} buyers chose {plan}: read its shares as rough.", n=43, plan="Quarterly")
    ... # doctest: +SKIP
    """
    from IPython.display import display

    body = _markdown_html(template if isinstance(template, Markup) else phrase(template, **values), inline=True)
    page = f'<div class="caution" role="note"><strong>{html.escape(label)}:</strong> {body}</div>'
    display({"text/html": page, "text/plain": _plain(page)}, raw=True)


METHODS_LABEL = "Methods and evidence"


def _details(title: str, inner: str, plain: str) -> None:
    from IPython.display import display

    shown = METHODS_LABEL if title in ("", METHODS_LABEL) else f"{METHODS_LABEL}: {title}"
    page = (f'<details class="methods"><summary>{html.escape(shown)}</summary>'
            f'<div class="methods-body">{inner}</div></details>')
    display({"text/html": page, "text/plain": f"{shown}\n{plain}"}, raw=True)


def methods(title: str = METHODS_LABEL, body: str = "", /, **values) -> None:
    """A collapsible "Methods and evidence" block: test names, adjusted p-values, interval methods.

    A ``<details>`` element: closed on screen, open when printed, no script needed.

    Parameters
    ----------
    title : str
        What the block is about ('Findings'); escaped.
    body : str
        Markdown filled like :func:`say`: the report's own words, with ``{name}``
        fields for ``values`` (escaped and formatted).
    **values
        Names and numbers for the body's fields.

    Examples
    --------
    >>> from journey_utils import report
    >>> report.methods("Findings", "Chi-square tests, {p:p} after Holm's adjustment.", p=0.0004)  # doctest: +SKIP
    """
    inner = _markdown_html(body if isinstance(body, Markup) else phrase(body, **values))
    _details(str(title), inner, _plain(inner))


def evidence(
    data,
    *,
    name: str,
    title: str = METHODS_LABEL,
    note: str | None = None,
    **options,
) -> None:
    """A table of evidence (tests, p-values, intervals) in a collapsible "Methods and evidence" block.

    Parameters
    ----------
    data : DataFrame or Series
        The table, formatted as :func:`table` formats it (``options`` are its keywords).
    name : str
        Stable identifier of the table.
    title : str
        What the block is about; escaped.
    note : str, optional
        Markdown shown above the table (as ``body`` of :func:`methods`).

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import report
    >>> report.evidence(pd.DataFrame({"test": ["chi-square"], "p": [0.001]}), name="tests",
    ...                 title="Findings")  # doctest: +SKIP
    """
    page, plain = _table_parts(data, name=name, **options)
    intro = ""
    if note:
        intro = _markdown_html(note if isinstance(note, Markup) else Markup(note))
    _details(str(title), intro + page, (_plain(intro) + "\n" if intro else "") + plain)


NA_TEXT = "–"
#: Tables with this many columns or more are "wide": they print in a smaller font.
WIDE_COLUMNS = 8


def _missing(value) -> bool:
    return value is None or (not isinstance(value, (str, list, tuple)) and bool(pd.isna(value)))


def _whole(series: pd.Series) -> bool:
    values = series.dropna().to_numpy(dtype=float)
    return bool(len(values)) and bool(np.isfinite(values).all()) and bool((values == np.round(values)).all())


def _default_format(series: pd.Series, percent_columns, decimals: int):
    if series.name in percent_columns:
        return lambda v: percent(v, decimals)
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return integer
    if pd.api.types.is_float_dtype(series):
        # Whole numbers print as whole numbers ("5", not "5.0").
        return integer if _whole(series) else lambda v: decimal(v, decimals)
    return None


def _is_text(series: pd.Series, percent_columns) -> bool:
    return series.name not in percent_columns and not pd.api.types.is_numeric_dtype(series)


def _table_parts(
    data,
    *,
    name: str,
    percent_columns: Sequence[str] = (),
    decimals: int = 1,
    index: bool = False,
    caption: str | None = None,
    drop_constant: bool = False,
) -> tuple[str, str]:
    """(HTML, plain text) of a formatted, escaped table."""
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"table: name must be letters, digits, '-' or '_'; found {name!r}")
    shown = data if index else data.reset_index(drop=True)
    constant: list[tuple[str, str]] = []
    # Format once, as text: the HTML and the plain form (compared by nbval) show the same digits.
    text = pd.DataFrame(index=shown.index)
    for position in range(len(shown.columns)):
        formatter = _default_format(shown.iloc[:, position], percent_columns, decimals) or str
        text[position] = [NA_TEXT if _missing(v) else formatter(v) for v in shown.iloc[:, position]]
    text.columns = shown.columns
    if drop_constant and len(text) > 1 and len(text.columns) > 1:
        same = [p for p in range(len(text.columns)) if text.iloc[:, p].nunique(dropna=False) == 1]
        same = same[: len(text.columns) - 1]  # a table keeps at least one column
        constant = [(str(text.columns[p]), str(text.iloc[0, p])) for p in same]
        keep = [p for p in range(len(text.columns)) if p not in same]
        text, shown = text.iloc[:, keep], shown.iloc[:, keep]
    styler = text.style.set_uuid(name).format(escape="html")
    styler = styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    # A wide table prints smaller (see the report's print stylesheet).
    kind = "report-table wide" if len(text.columns) + (text.index.nlevels if index else 0) >= WIDE_COLUMNS \
        else "report-table"
    styler = styler.set_table_attributes(f'class="{kind}"')
    if not index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(html.escape(caption))
    # Text columns read left-aligned; numbers stay right-aligned (the page's default for cells).
    left = [{"selector": f"td.col{p}, th.col_heading.col{p}", "props": "text-align: left;"}
            for p in range(len(shown.columns)) if _is_text(shown.iloc[:, p], percent_columns)]
    if left:
        styler = styler.set_table_styles(left, overwrite=False)
    page = styler.to_html()
    plain = text.to_string(index=index) if len(text) else "(no rows)"
    if constant:
        same_text = "; ".join(f"{label}: {value}" for label, value in constant)
        page += f'<p class="table-note">On every row: {html.escape(same_text)}.</p>'
        plain += f"\nOn every row: {same_text}."
    return page, plain


def table(
    data,
    *,
    name: str,
    percent_columns: Sequence[str] = (),
    decimals: int = 1,
    index: bool = False,
    caption: str | None = None,
    drop_constant: bool = False,
) -> None:
    """Display a formatted, escaped table (HTML for reports, plain text for diffs).

    Integers get thousands separators (a float column of whole numbers prints as
    integers), shares in ``percent_columns`` become percentages, other floats get
    ``decimals`` decimals. Text columns are left-aligned, numbers right-aligned.
    Every cell and label is HTML-escaped. The plain-text form carries no memory
    address, so a stored output compares equal between runs.

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
    drop_constant : bool, default False
        Leave out columns with the same value on every row (of two rows or more);
        a line under the table says what they hold.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import report
    >>> report.table(pd.DataFrame({"page": ["<b>"], "share": [0.5]}), name="t",
    ...              percent_columns=["share"])  # doctest: +SKIP
    """
    from IPython.display import display

    page, plain = _table_parts(data, name=name, percent_columns=percent_columns, decimals=decimals, index=index,
                               caption=caption, drop_constant=drop_constant)
    display({"text/html": page, "text/plain": plain}, raw=True)


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
    # The labels are text: left-aligned, like every text column of report.table.
    styler = styler.set_table_styles([{"selector": "td.col0, th.col_heading.col0", "props": "text-align: left;"}])
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


def rate(value, name: str) -> float:
    """A parameter that must be a number between 0 and 1 (``alpha``), or an error naming it.

    Examples
    --------
    >>> from journey_utils import report
    >>> report.rate(0.05, "alpha")
    0.05
    """
    return check_unit_interval(value, name, "parameters")
