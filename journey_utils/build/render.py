"""HTML pages: executed notebooks as self-contained reports, and the index of reports.

A report is one HTML file with its CSS and PNG charts inline, so it opens
offline and can be emailed. The ``journey_report`` nbconvert template (in
``journey_utils/build/templates``) hides code, drops cells tagged ``remove-cell``,
loads nothing from the network and puts a table of contents under the report
header; :class:`TableOfContents` collects the headings for it.

The same template works from the command line::

    jupyter nbconvert --to html --template journey_report \\
        --TemplateExporter.extra_template_basedirs=journey_utils/build/templates executed.ipynb
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors import Preprocessor

__all__ = ["TEMPLATE", "TEMPLATE_DIR", "TableOfContents", "index_page", "notebook_to_html"]

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


class TableOfContents(Preprocessor):
    """Collect the report's headings for the table of contents.

    Sets ``resources['toc']`` to a list of ``(level, anchor, text)`` for headings of
    level 2 and 3 (text is plain, to be escaped by the template) and uses the first
    level-1 heading as the page title.
    """

    def preprocess(self, nb, resources):
        entries = []
        title = None
        for cell in nb.cells:
            for source in _markdown_sources(cell):
                for level, anchor, text in _headings(source):
                    if level == 1 and title is None:
                        title = text
                    elif level in (2, 3) and anchor:
                        entries.append((level, anchor, text))
        resources["toc"] = entries
        if title:
            nb.metadata["title"] = title
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
    >>> from journey_utils import render
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Report")])
    >>> "<title>Report</title>" in render.notebook_to_html(nb)
    True
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATE_DIR)], embed_images=True)
    body, _ = exporter.from_notebook_node(nb)
    return body


_INDEX_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1.5rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { text-align: left; vertical-align: top; padding: 0.5rem 0.7rem; border-bottom: 1px solid #ddd; }
th { background: #f3f5f8; }
td.report a { font-weight: 600; }
dl { margin: 0; display: grid; grid-template-columns: max-content auto; gap: 0.1rem 0.8rem; }
dt { color: #555; }
dd { margin: 0; font-variant-numeric: tabular-nums; }
p.note { color: #8a4b00; }
"""


def _definition_list(pairs) -> str:
    items = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in pairs)
    return f"<dl>{items}</dl>" if items else "&ndash;"


def index_page(entries: Sequence[dict], *, input_name: str, input_checksum: str, built: str,
               notes: Sequence[str] = ()) -> str:
    """The reports' front page: one row per report with its parameters and key figures.

    Parameters
    ----------
    entries : sequence of dict
        One per report, with keys ``href`` (file name), ``title``, ``parameters``
        (list of (name, text)), ``figures`` (list of (label, text)) and ``built``.
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
    >>> from journey_utils import render
    >>> entry = {"href": "02_journey_analysis-annual.html", "title": "Journey analysis: Annual",
    ...          "parameters": [("plan", "Annual")], "figures": [("Users", "949")], "built": "2025-01-01 09:00 UTC"}
    >>> page = render.index_page([entry], input_name="export.csv", input_checksum="6dfb11077db0", built="now")
    >>> 'href="02_journey_analysis-annual.html"' in page
    True
    """
    rows = "".join(
        "<tr>"
        f'<td class="report"><a href="{html.escape(e["href"], quote=True)}">{html.escape(e["title"])}</a></td>'
        f"<td>{_definition_list(e['parameters'])}</td>"
        f"<td>{_definition_list(e['figures'])}</td>"
        f"<td>{html.escape(e['built'])}</td>"
        "</tr>"
        for e in entries
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Customer journey reports</title>\n<style>{_INDEX_STYLE}</style>\n</head>\n<body>\n"
        "<h1>Customer journey reports</h1>\n"
        f'<p class="meta">Input <code>{html.escape(input_name)}</code> (checksum '
        f"<code>{html.escape(input_checksum)}</code>), index built {html.escape(built)}.</p>\n"
        "<table>\n<thead><tr><th>Report</th><th>Parameters</th><th>Key figures</th><th>Built</th></tr></thead>\n"
        f"<tbody>{rows}</tbody>\n</table>\n"
        + "".join(f'<p class="note">{html.escape(note)}</p>\n' for note in notes)
        + "</body>\n</html>\n"
    )
