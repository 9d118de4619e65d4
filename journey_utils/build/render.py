"""HTML pages: executed notebooks as self-contained reports, and the index of reports.

A report is one HTML file with its CSS and PNG charts inline, so it opens
offline and can be emailed. The ``journey_report`` nbconvert template (in
``journey_utils/build/templates``) hides code, drops cells tagged ``remove-cell``,
loads nothing from the network and carries only its own stylesheet
(``report.css``: screen and print) instead of JupyterLab's. Two preprocessors
prepare the page: :class:`TableOfContents` numbers the headings (1, 1.1, 2, ...)
and puts the contents before the first section, under the title and the
executive summary; :class:`ReportFrame` gives every chart's image its title as
its text (alt) and decides the link back to ``index.html``.

The same template works from the command line::

    jupyter nbconvert --to html --template journey_report \\
        --TemplateExporter.extra_template_basedirs=journey_utils/build/templates executed.ipynb
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors import Preprocessor

from journey_utils.report import REPORT_MIME

__all__ = ["TEMPLATE", "TEMPLATE_DIR", "ReportFrame", "TableOfContents", "index_page", "notebook_to_html",
           "number_headings"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "journey_report"
REMOVE_TAG = "remove-cell"
HEADER_TAG = "header"


class _Headings(HTMLParser):
    """Headings (level, id, text) in rendered Markdown."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, str]] = []
        self._open: tuple[int, str] | None = None
        self._text: list[str] = []
        self._in_anchor = False

    def handle_starttag(self, tag, attrs):
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self._open = (int(tag[1]), dict(attrs).get("id") or "")
            self._text = []
        elif tag == "a" and self._open and "anchor-link" in (dict(attrs).get("class") or ""):
            self._in_anchor = True

    def handle_endtag(self, tag):
        if tag == "a":
            self._in_anchor = False
        elif self._open and tag == f"h{self._open[0]}":
            level, anchor = self._open
            self.found.append((level, anchor, "".join(self._text).strip()))
            self._open = None

    def handle_data(self, data):
        if self._open and not self._in_anchor:
            self._text.append(data)


def _headings(markdown: str) -> list[tuple[int, str, str]]:
    parser = _Headings()
    # The same renderer as the HTML exporter, so the ids match the page's anchors.
    parser.feed(markdown2html_mistune(markdown))
    return parser.found


def _markdown_sources(cell):
    if REMOVE_TAG in cell.get("metadata", {}).get("tags", []):
        return
    if cell.cell_type == "markdown":
        yield cell.source
    elif cell.cell_type == "code":
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown")
            if text:
                yield text if isinstance(text, str) else "".join(text)


#: Where the report frame keeps what it decided about a cell (in the rendered copy only).
FRAME_KEY = "journey_report"
_DEFAULT_FIGURE_TEXT = re.compile(r"<(Figure|matplotlib\.figure\.Figure) .*>$", re.DOTALL)
#: The description of an image whose chart has no title.
UNTITLED_CHART = "Chart"


def number_headings(entries) -> list[dict]:
    """The contents as a numbered tree: sections 1, 2, ... and their sub-sections 1.1, 1.2, ...

    A sub-section before any section is numbered as a section, so no number is
    ever skipped.

    Examples
    --------
    >>> from journey_utils.build import render
    >>> tree = render.number_headings([(2, "a", "A"), (3, "b", "B"), (3, "c", "C"), (2, "d", "D")])
    >>> [(s["number"], [c["number"] for c in s["children"]]) for s in tree]
    [('1', ['1.1', '1.2']), ('2', [])]
    """
    tree: list[dict] = []
    for level, anchor, text in entries:
        if level == 2 or not tree:
            tree.append({"number": str(len(tree) + 1), "level": level, "anchor": anchor, "text": text,
                         "children": []})
        else:
            parent = tree[-1]
            number = f"{parent['number']}.{len(parent['children']) + 1}"
            parent["children"].append({"number": number, "level": level, "anchor": anchor, "text": text,
                                       "children": []})
    return tree


def _css_string(text: str) -> str:
    """``text`` as the inside of a double-quoted CSS string: every character but letters and digits escaped."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\{ord(c):x} " for c in text)


def heading_numbers_css(tree) -> str:
    """CSS that shows each section's number before its heading, as the contents number it.

    Examples
    --------
    >>> from journey_utils.build import render
    >>> print(render.heading_numbers_css(render.number_headings([(2, "Pages", "Pages"), (3, "a-b", "A b")])))
    h2[id="Pages"]::before { content: "1"; }
    h3[id="a\\2d b"]::before { content: "1.1"; }
    """
    rules = []
    for section in tree:
        for entry in [section, *section["children"]]:
            rules.append(f'h{entry["level"]}[id="{_css_string(entry["anchor"])}"]::before '
                         f'{{ content: "{entry["number"]}"; }}')
    return "\n".join(rules)


class TableOfContents(Preprocessor):
    """Collect the report's headings for the numbered table of contents, and place it.

    Sets ``resources['toc']`` to a list of ``(level, anchor, text)`` for headings of
    level 2 and 3 (text is plain, to be escaped by the template),
    ``resources['toc_tree']`` to the same headings numbered (:func:`number_headings`),
    and uses the first level-1 heading as the page title. The contents go right
    before the first section (the first level-2 heading), after the title and the
    executive summary; with no section, after the cell tagged ``header``.
    """

    def preprocess(self, nb, resources):
        entries = []
        title = None
        title_cell = first_section = None
        for position, cell in enumerate(nb.cells):
            for source in _markdown_sources(cell):
                for level, anchor, text in _headings(source):
                    if level == 1 and title is None:
                        title, title_cell = text, position
                    elif level in (2, 3) and anchor:
                        entries.append((level, anchor, text))
                        if level == 2 and first_section is None:
                            first_section = position
        resources["toc"] = entries
        resources["toc_tree"] = number_headings(entries)
        resources["heading_numbers"] = heading_numbers_css(resources["toc_tree"])
        if first_section is not None and first_section != title_cell:
            nb.cells[first_section].metadata.setdefault(FRAME_KEY, {})["contents"] = "before"
        else:
            for cell in nb.cells:
                if HEADER_TAG in cell.get("metadata", {}).get("tags", []):
                    cell.metadata.setdefault(FRAME_KEY, {})["contents"] = "after"
                    break
        if title:
            nb.metadata["title"] = title
        return nb, resources


def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value or [])


class ReportFrame(Preprocessor):
    """What the page around the cells needs: image descriptions and the link back to the index.

    Every PNG output gets ``alt`` text (``output.metadata['image/png']['alt']``): the
    one the notebook set (in a report kernel, :func:`journey_utils.report.setup` has
    every chart's image carry its title: :func:`journey_utils.plots.alt_text`), else
    the output's plain text when it describes the image, else ``"Chart"``.
    ``resources['back_link']`` is False only when the report's header asked for no
    link (``report.header(..., back_link=False)``).
    """

    def preprocess(self, nb, resources):
        back_link = True
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if REPORT_MIME in data:
                    back_link = bool(data[REPORT_MIME].get("back_link", True))
                if "image/png" not in data:
                    continue
                metadata = output.setdefault("metadata", {})
                image = metadata.setdefault("image/png", {})
                alt = image.get("alt") or metadata.get("alt")
                if not alt:
                    plain = _text(data.get("text/plain", "")).strip()
                    alt = plain if plain and not _DEFAULT_FIGURE_TEXT.match(plain) else UNTITLED_CHART
                image["alt"] = str(alt)
        resources["back_link"] = back_link
        return nb, resources


def notebook_to_html(nb) -> str:
    """Render an executed notebook as a self-contained report page (code hidden, with contents).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook.

    Returns
    -------
    str
        The HTML page.

    Examples
    --------
    >>> import nbformat
    >>> from journey_utils.build import render
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Report")])
    >>> "<title>Report</title>" in render.notebook_to_html(nb)
    True
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATE_DIR)], embed_images=True)
    body, _ = exporter.from_notebook_node(nb)
    return body


_INDEX_STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 2rem auto; max-width: 76rem; padding: 0 1.5rem; color: #1f2328; line-height: 1.45; font-size: 15px; }
h1 { margin-bottom: 0.2rem; }
a { color: #0b5cad; }
p.meta { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { text-align: left; vertical-align: top; padding: 0.55rem 0.7rem; border-bottom: 1px solid #d8dee4;
         overflow-wrap: break-word; }
th { background: #f6f8fa; }
td.report { width: 36%; }
summary { cursor: pointer; color: #57606a; }
details[open] summary { margin-bottom: 0.3rem; }
td.report a { font-weight: 650; font-size: 1.05rem; }
p.plans { color: #57606a; margin: 0.15rem 0 0.35rem; }
p.headline { margin: 0.35rem 0 0; }
p.headline .number { font-weight: 700; color: #0b5cad; margin-right: 0.3em; }
dl { margin: 0; display: grid; grid-template-columns: minmax(0, max-content) minmax(0, auto); gap: 0.1rem 0.8rem; }
dt { color: #57606a; }
dt { overflow-wrap: normal; }
dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
p.note { color: #8a4b00; }
@media (max-width: 800px) {
  body { margin: 1rem auto; padding: 0 0.8rem; }
  table, thead, tbody, tr, td { display: block; width: 100%; }
  thead { display: none; }
  tr { border-bottom: 2px solid #d8dee4; padding: 0.4rem 0; }
  td { border: 0; padding: 0.25rem 0; }
  td.report { width: 100%; }
  td[data-label]::before { content: attr(data-label); display: block; font-weight: 600; color: #57606a;
                           font-size: 0.85rem; }
}
@media print {
  body { margin: 0; max-width: none; } a { color: inherit; }
  details::details-content { content-visibility: visible; display: block; }
  details > summary { display: none; }
}
"""

#: What the index says when a report covers every plan without naming them.
EVERY_PLAN = "every plan in the data"


def _definition_list(pairs) -> str:
    items = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in pairs)
    return f"<dl>{items}</dl>" if items else "&ndash;"


def _parameters(pairs) -> str:
    pairs = list(pairs)
    if not pairs:
        return "&ndash;"
    shown = f"{len(pairs)} parameter" + ("" if len(pairs) == 1 else "s")
    return f"<details><summary>{shown}</summary>{_definition_list(pairs)}</details>"


def _index_row(entry: dict) -> str:
    from journey_utils.report import plans_text

    plans = entry.get("plans")
    covered = plans_text(plans) if plans is not None else f"Plans: {EVERY_PLAN}"
    headline = entry.get("headline") or {}
    said = ""
    if headline.get("text"):
        number = f'<span class="number">{html.escape(headline["number"])}</span>' if headline.get("number") else ""
        said = f'<p class="headline">{number}{html.escape(headline["text"])}</p>'
    return (
        "<tr>"
        f'<td class="report"><a href="{html.escape(entry["href"], quote=True)}">{html.escape(entry["title"])}</a>'
        f'<p class="plans">{html.escape(covered)}</p>{said}</td>'
        f'<td data-label="Key figures">{_definition_list(entry["figures"])}</td>'
        f'<td data-label="Parameters">{_parameters(entry["parameters"])}</td>'
        f'<td data-label="Built">{html.escape(entry["built"])}</td>'
        "</tr>"
    )


def index_page(entries: Sequence[dict], *, input_name: str, input_checksum: str, built: str,
               notes: Sequence[str] = ()) -> str:
    """The reports' front page: one row per report with its headline, plans, key figures and parameters.

    Parameters
    ----------
    entries : sequence of dict
        One per report, with keys ``href`` (file name), ``title``, ``parameters``
        (list of (name, text)), ``figures`` (list of (label, text)), ``built``, and
        optionally ``plans`` (the plans it covers; None for every plan) and
        ``headline`` (``{"number": ..., "text": ...}``, its first takeaway).
    input_name, input_checksum : str
        The input file's name and short checksum.
    built : str
        When the index was built.
    notes : sequence of str, optional
        Sentences shown under the table (such as parameter files that were skipped).

    Returns
    -------
    str
        A self-contained HTML page; every value is escaped.

    Examples
    --------
    >>> from journey_utils.build import render
    >>> entry = {"href": "02_journey_analysis-annual.html", "title": "Journey analysis: Annual",
    ...          "parameters": [("plan", "Annual")], "figures": [("Users", "949")], "built": "2025-01-01 09:00 UTC"}
    >>> page = render.index_page([entry], input_name="export.csv", input_checksum="6dfb11077db0", built="now")
    >>> 'href="02_journey_analysis-annual.html"' in page
    True
    """
    rows = "".join(_index_row(e) for e in entries)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Customer journey reports</title>\n<style>{_INDEX_STYLE}</style>\n</head>\n<body>\n"
        "<h1>Customer journey reports</h1>\n"
        f'<p class="meta">Input <code>{html.escape(input_name)}</code> (checksum '
        f"<code>{html.escape(input_checksum)}</code>), index built {html.escape(built)}.</p>\n"
        "<table>\n<thead><tr><th>Report and headline</th><th>Key figures</th><th>Parameters</th><th>Built</th></tr>"
        "</thead>\n"
        f"<tbody>{rows}</tbody>\n</table>\n"
        + "".join(f'<p class="note">{html.escape(note)}</p>\n' for note in notes)
        + "</body>\n</html>\n"
    )
