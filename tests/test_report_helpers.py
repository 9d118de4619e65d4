"""The helpers behind every report: escaping, number formats, tables, charts, contents, index."""

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook  # noqa: E402

from journey_utils import plots, report
from journey_utils.build import render  # noqa: E402
from tests.test_report_build import EVIL_PLAN, IMAGE, LINK, SCRIPT, Page, assert_safe  # noqa: E402


@pytest.fixture
def shown(monkeypatch):
    """What the report helpers display, instead of a notebook."""
    import IPython.display

    captured = []

    def display(*objects, raw=False, **kwargs):
        for obj in objects:
            if raw:
                captured.append(obj)
            else:
                captured.append({k: v for k, v in zip(("text/markdown", "text/html"),
                                                      (getattr(obj, "_repr_markdown_", lambda: None)(),
                                                       getattr(obj, "_repr_html_", lambda: None)())) if v})

    monkeypatch.setattr(IPython.display, "display", display)
    return captured


def test_escape_neutralises_html_and_markdown():
    assert "<" not in report.escape(SCRIPT) and "&lt;script&gt;" in report.escape(SCRIPT)
    assert report.escape('a"b') == "a&quot;b"
    # Markdown that would make a link, emphasis or a heading is backslash-escaped.
    assert report.escape("[x](javascript:y)") == r"\[x\]\(javascript:y\)"
    assert report.escape("*a* _b_ # c") == r"\*a\* \_b\_ \# c"


@pytest.mark.parametrize(("function", "value", "expected"), [
    (report.integer, 9935, "9,935"),
    (report.integer, np.int64(1234567), "1,234,567"),
    (report.percent, 0.4567, "45.7%"),
    (report.percent, 1.0, "100.0%"),
    (report.percent, float("nan"), "n/a"),
    (report.decimal, 11.46, "11.5"),
    (report.decimal, 12345.0, "12,345.0"),
    (report.decimal, float("nan"), "n/a"),
])


def test_number_formats(function, value, expected):
    assert function(value) == expected


def test_listing_escapes_each_name():
    assert report.listing(["Sign up", "<b>"]) == "Sign up, &lt;b&gt;"
    assert report.listing([]) == "none"


def test_table_formats_numbers_and_escapes_cells_and_labels(shown):
    frame = pd.DataFrame({"Page": [SCRIPT, "Pricing"], IMAGE: [0.25, 0.5], "Visits": [12345, 7]})
    report.table(frame, name="t1", percent_columns=[IMAGE])
    (output,) = shown
    html, plain = output["text/html"], output["text/plain"]
    assert SCRIPT not in html and IMAGE not in html
    page = assert_safe(html, expect_text=[SCRIPT, IMAGE, "25.0%", "12,345"])
    assert [t for t, _ in page.tags if t == "td"], "a table"
    assert 'id="T_t1"' in html, "a stable table id, so stored outputs compare equal"
    assert "25.0%" in plain and "12,345" in plain and "0x" not in plain


def test_table_shows_missing_values_and_rejects_bad_names(shown):
    report.table(pd.DataFrame({"Run": ["A → B", None], "Share": [0.5, np.nan]}), name="t2",
                 percent_columns=["Share"])
    assert shown[0]["text/plain"].count(report.NA_TEXT) == 2
    with pytest.raises(ValueError, match="name must be"):
        report.table(pd.DataFrame({"a": [1]}), name="bad name")


def test_key_figures_carry_values_for_the_index(shown):
    report.key_figures({"Users": 1396, "Share": 0.5, "Mean": 11.46, "Top page": SCRIPT}, percent_keys=["Share"])
    (output,) = shown
    payload = output[report.KEY_FIGURES_MIME]["figures"]
    assert [(f["label"], f["text"]) for f in payload] == [
        ("Users", "1,396"), ("Share", "50.0%"), ("Mean", "11.5"), ("Top page", SCRIPT)]
    assert payload[0]["value"] == 1396 and isinstance(payload[0]["value"], int)
    assert SCRIPT not in output["text/html"]


def test_header_states_input_parameters_and_run(shown, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    data = tmp_path / "export<1>.csv"
    data.write_text("user_id\n1\n")
    report.header(f"Journeys: {SCRIPT}", parameters={"plan": IMAGE, "key_pages": ["A", "B"], "x": []},
                  inputs=[("Sessions", data, 1234)])
    title, table = shown
    assert title["text/markdown"].startswith("# Journeys") and "<script" not in title["text/markdown"]
    page = assert_safe(table["text/html"], expect_text=["export<1>.csv", "1,234 rows", report.checksum(data),
                                                         "1970-01-01 00:00 UTC", IMAGE, "A, B", "(none)"])
    assert str(tmp_path) not in table["text/html"], "only the file name, never a machine path"
    assert page


def test_header_names_the_original_export_of_validated_sessions(shown, tmp_path):
    """Sessions read from the validated Parquet carry the original export's name, rows and checksum."""
    export = tmp_path / "june<export>.csv"
    export.write_text("user_id\n1\n2\n")
    saved = tmp_path / "sessions.parquet"
    saved.write_bytes(b"not the export")
    data = pd.DataFrame({"user_id": [1, 2]})
    data.attrs["load_report"] = {"path": str(export), "rows_read": 2, "checksum": report.checksum(export)}
    described = report.source("Sessions", saved, data)
    assert described == ("Sessions", "june<export>.csv", 2, report.checksum(export))
    report.header("t", parameters={}, inputs=[described])
    page = assert_safe(shown[1]["text/html"], expect_text=["june<export>.csv", report.checksum(export), "2 rows"])
    assert page and "sessions.parquet" not in shown[1]["text/html"]
    assert report.checksum(saved) not in shown[1]["text/html"]
    # Without a checksum in the load report (an export read directly), the file read is described.
    plain = pd.DataFrame({"user_id": [1]})
    plain.attrs["load_report"] = {"path": str(export), "rows_read": 7}
    assert report.source("Sessions", export, plain) == ("Sessions", "june<export>.csv", 7, report.checksum(export))


def test_checksum_is_the_first_hex_digits_of_sha256(tmp_path):
    import hashlib

    data = tmp_path / "x.csv"
    data.write_bytes(b"user_id\n1\n")
    assert report.checksum(data) == hashlib.sha256(b"user_id\n1\n").hexdigest()[:12]


def test_check_plans_names_the_plans_present():
    data = pd.DataFrame({"subscription_type": ["Monthly", "Annual", "Annual"]})
    assert report.check_plans(data, "All") == ["Annual", "Monthly"]
    assert report.check_plans(data, []) == ["Annual", "Monthly"]
    assert report.check_plans(data, ["Monthly"]) == ["Monthly"]
    with pytest.raises(ValueError, match="plan 'Weekly' is not in this input; plans present: Annual, Monthly"):
        report.check_plans(data, "Weekly")
    # A plan called All is one plan; 'All' alone is then ambiguous.
    named = pd.DataFrame({"subscription_type": ["All", "Team/Org"]})
    assert report.check_plans(named, ["All"]) == ["All"]
    assert report.check_plans(named, []) == ["All", "Team/Org"]
    with pytest.raises(ValueError, match="ambiguous"):
        report.check_plans(named, "All")


def test_positive_int_names_the_parameter():
    assert report.positive_int(3, "top_n") == 3
    with pytest.raises(ValueError, match="top_n must be a positive integer; found 0"):
        report.positive_int(0, "top_n")
    with pytest.raises(TypeError, match="session_window"):
        report.positive_int("3", "session_window")


@pytest.fixture
def style():
    with matplotlib.rc_context():
        plots.use_report_style()
        yield
    plt.close("all")


def test_charts_are_titled_labelled_and_draw_names_as_text(style):
    names = pd.Series({r"Deal $\bogus{x}$": 0.6, SCRIPT: 0.3, "Pricing": 0.1}, name="share")
    ax = plots.ranked_bars(names, title="Pages", xlabel="Share of journeys", ylabel="Page", percent=True)
    ax.figure.canvas.draw()  # mathtext would fail on \bogus if it were enabled
    assert ax.get_title() == "Pages" and ax.get_xlabel() == "Share of journeys" and ax.get_ylabel() == "Page"
    assert [t.get_text() for t in ax.get_yticklabels()][0] == r"Deal $\bogus{x}$"


def test_dollar_signs_are_escaped_when_mathtext_is_on():
    with matplotlib.rc_context({"text.parse_math": True}):
        ax = plots.ranked_bars(pd.Series({"$5 $plan": 1.0}), title="Cost $x$", xlabel="n")
        assert ax.get_title() == r"Cost \$x\$"
        ax.figure.canvas.draw()
    plt.close("all")


@pytest.mark.parametrize("draw", [
    lambda: plots.ranked_bars(pd.Series(dtype=float), title="t", xlabel="x"),
    lambda: plots.grouped_bars(pd.DataFrame(), title="t", xlabel="x"),
    lambda: plots.length_distribution(pd.Series(dtype=int), title="t"),
    lambda: plots.next_page_heatmap(pd.DataFrame(columns=["page", "next_page", "count"]), title="t"),
])


def test_charts_of_nothing_say_so(style, draw):
    with pytest.warns(plots.EmptyChartWarning):
        ax = draw()
    assert ax.get_title() == "t" and any("No data" in t.get_text() for t in ax.texts)


def test_chart_of_every_kind_draws(style):
    transitions = pd.DataFrame({"page": ["A", "A", "B"], "next_page": ["B", "C", "A"], "count": [3, 1, 2]})
    ax = plots.next_page_heatmap(transitions, title="Next page")
    ax.figure.canvas.draw()
    assert ax.get_xlabel().startswith("Next page") and ax.get_ylabel().startswith("Page")
    table = pd.DataFrame({"First": [0.5, 0.2], "Last": [0.4, 0.3]}, index=pd.Index(["A", "B"], name="Page"))
    ax = plots.grouped_bars(table, title="Windows", xlabel="Share", percent=True, legend="Sessions")
    assert ax.get_legend().get_title().get_text() == "Sessions"
    ax = plots.length_distribution(pd.Series([1, 2, 2, 3, 50]), title="Lengths")
    assert ax.get_xticklabels()[-1].get_text().endswith("+")
    ax = plots.length_by_group(pd.Series([1, 2, 3, 4]), pd.Series(["x", "x", "y", "y"]), title="By plan")
    assert ax.get_ylabel() == "Plan"


def test_contents_link_to_the_page_anchors():
    nb = new_notebook(cells=[
        new_code_cell("", outputs=[nbformat.v4.new_output(
            "display_data", data={"text/markdown": f"# Report on {report.escape(SCRIPT)}"})]),
        new_markdown_cell("## Pages: count & presence\n\ntext\n\n### Runs of pages"),
        new_markdown_cell("## Secret section", metadata={"tags": ["remove-cell"]}),
    ])
    nb.cells[0].metadata["tags"] = ["header"]
    html = render.notebook_to_html(nb)
    page = Page(html)
    anchors = {a.get("id") for _, a in page.tags if a.get("id")}
    contents = [a["href"][1:] for tag, a in page.tags if tag == "a" and a.get("href", "").startswith("#")
                and "anchor-link" not in (a.get("class") or "")]
    assert contents and set(contents) <= anchors
    assert "Secret section" not in page.all_text
    assert f"Report on {SCRIPT}" in page.all_text and SCRIPT not in html
    title = html.split("<title>")[1].split("</title>")[0]
    assert "&lt;script&gt;" in title


def test_index_page_escapes_everything():
    entry = {"href": "02_x.html", "title": SCRIPT, "parameters": [("plan", IMAGE)],
             "figures": [("Most common page", SCRIPT)], "built": "2024-01-01 00:00 UTC"}
    html = render.index_page([entry], input_name=IMAGE, input_checksum="abc", built="now")
    page = assert_safe(html, expect_text=[SCRIPT, IMAGE])
    assert [a["href"] for t, a in page.tags if t == "a"] == ["02_x.html"]


def test_count_is_singular_for_one():
    assert report.count(1, "user") == "1 user"
    assert report.count(0, "user") == "0 users"
    assert report.count(12345, "session") == "12,345 sessions"
    assert report.count(2, "journey ending", "journeys ending") == "2 journeys ending"


# ------------------------------------------------------------ the report's frame


def test_header_gives_title_plans_and_the_index_payload_without_a_parameter_table(shown):
    report.header(f"Plans: {SCRIPT}", plans=["Annual", EVIL_PLAN])
    title, plans = shown
    assert title["text/markdown"].startswith("# Plans") and "<script" not in title["text/markdown"]
    assert title[report.REPORT_MIME] == {"title": f"Plans: {SCRIPT}", "back_link": True,
                                         "plans": ["Annual", EVIL_PLAN]}
    assert_safe(plans["text/html"], expect_text=[f"Plans: Annual and {EVIL_PLAN}"])
    assert EVIL_PLAN not in plans["text/html"]
    assert not any("run-header" in o.get("text/html", "") for o in shown), "parameters go to the appendix"
    shown.clear()
    report.header("One plan", plans="Annual", back_link=False)
    assert shown[0][report.REPORT_MIME]["back_link"] is False and shown[1]["text/plain"] == "Plan: Annual"


def test_appendix_states_input_parameters_and_run_under_a_heading(shown, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    report.appendix({"plan": IMAGE, "plans": []}, [("Sessions", "june<1>.csv", 1234, "0123456789ab")])
    (appendix,) = shown
    assert appendix["text/markdown"].startswith("## About this report\n\n<table")
    html = render.notebook_to_html(new_notebook(cells=[_display_cell([appendix])]))
    assert_safe(html, expect_text=["june<1>.csv", "1,234 rows", "0123456789ab", IMAGE, "every plan",
                                   "1970-01-01 00:00 UTC"])
    assert 'id="About-this-report"' in html and IMAGE not in html
    assert '<table class="run-header" id="run-header">' in html, "the table is rendered, not shown as text"
    assert appendix["text/plain"].splitlines()[1:3] == ["Sessions: june<1>.csv, 1,234 rows, checksum 0123456789ab",
                                                        "Run: 1970-01-01 00:00 UTC"]


def test_summary_numbers_takeaways_and_hands_the_headline_to_the_index(shown):
    takeaways = pd.DataFrame({
        "headline": [report.phrase("of {plan} buyers saw **{page}**", plan="Annual", page=SCRIPT),
                     report.phrase("journeys end on {page}", page=IMAGE), "plain"],
        "number": ["6 in 10", 147, 0.5],
        "suggestion": [report.phrase("Look at {page}", page=LINK), None, np.nan],
    })  # a string column: phrase's text is Markdown all the same
    report.summary(takeaways)
    (output,) = shown
    page = assert_safe(output["text/html"], expect_text=[SCRIPT, IMAGE, LINK, "6 in 10", "147", "What this suggests"])
    assert SCRIPT not in output["text/html"] and IMAGE not in output["text/html"]
    assert "&amp;lt;" not in output["text/html"], "escaped once, not twice"
    assert [tag for tag, _ in page.tags].count("li") == 3
    assert "<strong>" in output["text/html"], "the Markdown of a phrase is kept"
    assert output["text/html"].count("What this suggests") == 1, "only where there is a suggestion"
    first = output[report.SUMMARY_MIME]["takeaways"][0]
    assert first == {"number": "6 in 10", "headline": f"of Annual buyers saw {SCRIPT}", "detail": "",
                     "suggestion": f"Look at {LINK}"}
    assert output["text/plain"].splitlines()[1] == f"1. 6 in 10 of Annual buyers saw {SCRIPT} What this suggests: " \
                                                   f"Look at {LINK}"
    assert output[report.SUMMARY_MIME]["takeaways"][2]["number"] == "0.5"


def test_a_name_that_skipped_phrase_cannot_inject_markup_into_the_summary(shown):
    report.summary(pd.DataFrame({"headline": [f"saw {IMAGE} and {LINK} and {SCRIPT}"], "number": [1]}))
    page = assert_safe(shown[0]["text/html"], expect_text=[IMAGE, SCRIPT])
    assert not [a for tag, a in page.tags if tag in ("img", "script")]


def test_summary_shows_at_most_the_limit_and_says_when_there_is_nothing(shown):
    report.summary(pd.DataFrame({"headline": list("abcdefg"), "number": range(7)}))
    assert len(shown[0][report.SUMMARY_MIME]["takeaways"]) == 5
    report.summary(pd.DataFrame(columns=["headline", "number"]))
    assert "Nothing in this data stands out" in shown[1]["text/plain"]
    assert shown[1][report.SUMMARY_MIME]["takeaways"] == []
    with pytest.raises(ValueError, match="headline"):
        report.summary(pd.DataFrame({"text": ["x"]}))


def test_caution_and_methods_fill_their_text_like_say(shown):
    report.caution("Only {n:,} buyers chose **{plan}**.", n=43, plan=EVIL_PLAN)
    report.methods(f"Tests of {SCRIPT}", "Chi-square tests; the smallest is {p:p} for {page}.", p=0.0004,
                   page=IMAGE)
    caution, methods = shown
    assert_safe(caution["text/html"], expect_text=["Caution:", f"Only 43 buyers chose {EVIL_PLAN}."])
    assert EVIL_PLAN not in caution["text/html"] and "<strong>" in caution["text/html"]
    page = assert_safe(methods["text/html"], expect_text=[f"Methods and evidence: Tests of {SCRIPT}",
                                                          f"p < 0.001 for {IMAGE}"])
    assert [tag for tag, _ in page.tags][:2] == ["details", "summary"]
    assert SCRIPT not in methods["text/html"] and IMAGE not in methods["text/html"]


def test_evidence_is_a_table_inside_the_methods_block(shown):
    report.evidence(pd.DataFrame({"Test": [SCRIPT], "p": [0.25]}), name="tests", title="Findings",
                    note="Tests of each finding.")
    (output,) = shown
    page = assert_safe(output["text/html"], expect_text=[SCRIPT, "0.2", "Tests of each finding."])
    assert [tag for tag, _ in page.tags][:2] == ["details", "summary"] and ("table", {"class": "report-table",
                                                                                    "id": "T_tests"}) in page.tags


def test_table_prints_whole_numbers_without_decimals_and_aligns_text_left(shown):
    frame = pd.DataFrame({"Page": ["A", "B"], "Visits": [5.0, 12345.0], "Mean": [2.5, 3.0], "Small": ["no", "no"]})
    report.table(frame, name="t3")
    html, plain = shown[0]["text/html"], shown[0]["text/plain"]
    assert "5" in plain.split() and "12,345" in plain.split() and "5.0" not in plain and "3.0" in plain
    assert "#T_t3 td.col0" in html and "#T_t3 td.col3" in html, "text columns left-aligned"
    assert "td.col1" not in html and "td.col2" not in html, "numbers keep the default (right) alignment"


def test_table_can_leave_out_columns_that_never_change(shown):
    frame = pd.DataFrame({"Page": ["A", "B"], "Small sample": ["no", "no"], "Plan": [EVIL_PLAN, EVIL_PLAN]})
    report.table(frame, name="t4", drop_constant=True)
    html, plain = shown[0]["text/html"], shown[0]["text/plain"]
    assert "Small sample" not in plain.splitlines()[0] and plain.endswith(f"On every row: Small sample: no; Plan: "
                                                                          f"{EVIL_PLAN}.")
    assert_safe(html, expect_text=[f"On every row: Small sample: no; Plan: {EVIL_PLAN}."])
    assert EVIL_PLAN not in html
    report.table(frame.head(1), name="t5", drop_constant=True)
    assert "Small sample" in shown[1]["text/plain"], "one row: nothing is constant"


def _display_cell(outputs, tags=()):
    cell = new_code_cell("", outputs=[nbformat.v4.new_output("display_data", data=o) for o in outputs])
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _chart_output(title: str) -> dict:
    import base64
    import io

    figure, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    ax.set_title(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return {"image/png": base64.b64encode(buffer.getvalue()).decode(), "text/plain": plots.alt_text(figure)}


def frame_notebook(shown, *, back_link=True):
    """A report made of the frame's helpers: header, summary, sections with a chart, methods, appendix."""
    report.header(f"Report on {SCRIPT}", plans=["Annual", EVIL_PLAN], back_link=back_link)
    head = list(shown)
    shown.clear()
    report.summary(pd.DataFrame({"headline": [report.phrase("of {plan} buyers saw **{page}**", plan=EVIL_PLAN,
                                                            page=SCRIPT)],
                                 "number": ["6 in 10"], "suggestion": [f"Look at {IMAGE}"]}, dtype=object))
    report.caution("Only {n} buyers chose {plan}.", n=43, plan=EVIL_PLAN)
    opening = list(shown)
    shown.clear()
    report.methods("Findings", "Chi-square tests; {p:p} for {page}.", p=0.01, page=IMAGE)
    report.appendix({"plans": []}, [("Sessions", "x.csv", 10, "0123456789ab")])
    closing = list(shown)
    untitled = _chart_output("")
    untitled["text/plain"] = "<Figure size 300x200 with 1 Axes>"
    return new_notebook(cells=[
        _display_cell(head, tags=["header"]),
        _display_cell(opening),
        new_markdown_cell("## Pages\n\ntext\n\n### First pages"),
        _display_cell([_chart_output(f"Pages of {SCRIPT}")]),
        new_markdown_cell("### Last pages"),
        _display_cell([untitled]),
        new_markdown_cell("## Findings"),
        new_code_cell(""),  # a cell with nothing to show
        _display_cell(closing),
    ])


def test_the_frame_renders_back_link_summary_numbered_contents_and_chart_titles(shown):
    html = render.notebook_to_html(frame_notebook(shown))
    page = assert_safe(html, expect_text=[f"Report on {SCRIPT}", f"of {EVIL_PLAN} buyers saw {SCRIPT}",
                                          f"Plans: Annual and {EVIL_PLAN}", "Caution:", "About this report",
                                          "Methods and evidence: Findings"])
    assert SCRIPT not in html and EVIL_PLAN not in html and IMAGE not in html
    links = [a.get("href") for tag, a in page.tags if tag == "a" and "anchor-link" not in (a.get("class") or "")]
    assert links[0] == "index.html" and links[-1] == "index.html", "a link back to the index, top and bottom"
    # Contents: numbered without gaps, after the title and the summary, before the first section.
    numbers = re.findall(r'<span class="toc-number">([\d.]+) </span>', html)
    assert numbers == ["1", "1.1", "1.2", "2", "3"]
    body = html[html.index("<body"):]
    order = [body.index(marker) for marker in ('class="back-link"', "<h1", 'class="summary"', 'class="caution"',
                                               'class="toc"', 'id="Pages"', 'id="About-this-report"')]
    assert order == sorted(order)
    anchors = {a.get("id") for _, a in page.tags if a.get("id")}
    contents = [a["href"][1:] for tag, a in page.tags if tag == "a" and a.get("href", "").startswith("#")
                and "anchor-link" not in (a.get("class") or "")]
    assert len(contents) == 5 and set(contents) <= anchors
    # Each section shows its number before its heading (CSS made from the same numbers).
    assert 'h2[id="Pages"]::before { content: "1"; }' in html and 'h3[id="Last\\20 pages"]' not in html
    assert re.search(r'h3\[id="Last\\2d pages"\]::before \{ content: "1\.2"; \}', html)
    # Every chart's image is described by its title; an untitled chart is "Chart", never the default text.
    assert [a.get("alt") for tag, a in page.tags if tag == "img"] == [f"Pages of {SCRIPT}", "Chart"]
    assert "No description has been provided" not in html
    # Only the report's own styling: no JupyterLab application or code-highlighting styles, no script.
    assert "--jp-" not in html and ".highlight" not in html and "<script" not in html
    assert "@media print" in html and "details::details-content" in html
    without_images = re.sub(r'src="data:image/png;base64,[^"]+"', "", html)
    assert len(without_images.encode()) < 30_000, len(without_images.encode())


def test_a_report_can_leave_out_the_back_link(shown):
    html = render.notebook_to_html(frame_notebook(shown, back_link=False))
    assert 'href="index.html"' not in html


def test_number_headings_never_skip_a_number():
    tree = render.number_headings([(3, "a", "A"), (3, "b", "B"), (2, "c", "C"), (3, "d", "D")])
    assert [(s["number"], [c["number"] for c in s["children"]]) for s in tree] == [("1", ["1.1"]), ("2", ["2.1"])]


def test_index_page_shows_each_reports_headline_and_plans():
    entries = [
        {"href": "03_x.html", "title": "Comparison", "parameters": [("plans", "every plan")], "figures": [],
         "built": "now", "plans": ["Annual", EVIL_PLAN], "headline": {"number": "6 in 10", "text": SCRIPT}},
        {"href": "01_x.html", "title": "Preprocessing", "parameters": [], "figures": [], "built": "now",
         "plans": None, "headline": None},
    ]
    html = render.index_page(entries, input_name="x.csv", input_checksum="abc", built="now")
    page = assert_safe(html, expect_text=[f"Plans: Annual and {EVIL_PLAN}", "6 in 10", SCRIPT,
                                          "Plans: every plan in the data"])
    assert EVIL_PLAN not in html and SCRIPT not in html and "(none)" not in page.all_text


def test_wide_tables_are_marked_to_print_smaller(shown):
    report.table(pd.DataFrame({f"c{i}": [i] for i in range(report.WIDE_COLUMNS)}), name="wide")
    report.table(pd.DataFrame({f"c{i}": [i] for i in range(report.WIDE_COLUMNS - 1)}), name="narrow")
    assert 'class="report-table wide"' in shown[0]["text/html"]
    assert 'class="report-table"' in shown[1]["text/html"]


def test_setup_gives_each_charts_image_its_title_as_alt_text(monkeypatch):
    """What the rendered report uses as the chart image's description (ReportFrame reads it)."""
    import IPython
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    try:
        with matplotlib.rc_context():
            report.setup()
            figure, (left, right) = plt.subplots(1, 2)
            left.set_title(SCRIPT)
            right.set_title("Monthly")
            data, metadata = shell.display_formatter.format(figure)
            plt.close(figure)
    finally:
        InteractiveShell.clear_instance()
    assert "image/png" in data and metadata["image/png"]["alt"] == f"{SCRIPT}; Monthly"
    output = nbformat.v4.new_output("display_data", data=data, metadata=metadata)
    html = render.notebook_to_html(new_notebook(cells=[new_code_cell("", outputs=[output])]))
    assert [a.get("alt") for tag, a in Page(html).tags if tag == "img"] == [f"{SCRIPT}; Monthly"]
    assert SCRIPT not in html
