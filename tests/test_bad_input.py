"""The bad-input corpus: every awkward file either loads with a documented repair and
a warning that counts it, or stops with a JourneyDataError naming the file, the
column, the problem and the first lines concerned.

The files are generated in a temporary folder; none is committed. The generated
tests feed CSV text to ``load_sessions`` and check that it never fails in any other
way, and that whatever loads satisfies the documented invariants.

The hostile corpus (files a new user may well give the loader), and what each gets:

- a quote opened in a journey and never closed, in a file over 4 MB (six copies of
  a reference-sized export, 59,610 sessions; the same from the real export when
  available): JourneyDataError "a quote opened on line 101 is never closed, so every
  line after it (to line 59,611) would be part of one value"; before, Arrow's reader
  returned a third of the rows without a word;
- two stray quotes 100 rows apart (valid CSV, rows merged into one value): error
  naming the lines (``lines 5-105``), the line breaks and "what look like other rows";
  ``multiline_values=True`` reads the value as written;
- a stray quote at a random place of a multi-megabyte file (hypothesis): an error,
  or every session; a quote inside an unquoted value (``Size 5"``) is text;
- blank lines inside a large file: every row, no warning;
- gzip, bzip2, xz, Zstandard or zip bytes under a ``.csv`` name: "this is a
  gzip-compressed file, but its name ends in '.csv'; name it so that it ends in
  '.gz'"; plain text named ``.gz``: "not gzip-compressed: it is plain text";
- an Excel workbook (``.xlsx`` under any name, ``.xls``): "this is an Excel workbook,
  not CSV text; save the sheet as 'CSV UTF-8 (Comma delimited)'";
- a Parquet file under a ``.csv`` name: read as Parquet;
- UTF-16 or UTF-32 text, with or without a byte order mark (compressed too): "the
  text is UTF-16 (little-endian) ..., not UTF-8; save the file as UTF-8 ... iconv";
- columns separated by ``;``, tabs or ``|``: "the columns are separated by
  semicolons (';'), not commas";
- plans differing only in case (``Annual``/``annual``/``ANNUAL``): kept apart, with a
  warning naming them all; plan and page names with zero-width or control characters
  (``Annual\u200b``, NUL, ESC, VT) or decomposed letters: cleaned and NFC-composed,
  a listed repair;
- one line longer than ``max_field_bytes`` (64 MB by default; a small ``.gz`` holding
  a 70 MB line): refused, naming the line and its size, before any parser reads it;
  a first line of over 1 MB without a line break: not a header;
- a FIFO or a device given as the export: "not a regular file" (in
  ``test_parquet_input.py``, with folders of parts, which are now valid exports).
"""

import gzip
import signal
import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_utils as ju
from tests import reference as ref
from tests.agreement import sessions_frame

HEADER = "user_id,session_id,subscription_type,user_journey"
CLEAN = [(1, 10, "Annual", "Homepage-Log in-Pricing"), (1, 11, "Annual", "Pricing-Checkout"),
         (2, 12, "Monthly", "Homepage")]


def csv_text(rows, header=HEADER, newline="\n"):
    return newline.join([header, *(",".join(str(v) for v in row) for row in rows)]) + newline


def write(tmp_path, content, name="sessions.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def load_quietly(path, **options):
    """Load expecting no repair at all (a JourneyDataWarning fails the test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ju.JourneyDataWarning)
        return ju.load_sessions(path, **options)


def assert_rows(data, rows):
    assert list(data.columns[:4]) == ["user_id", "session_id", "subscription_type", "user_journey"]
    assert data["user_id"].dtype == np.int64 and data["session_id"].dtype == np.int64
    assert [tuple(r) for r in data.iloc[:, :4].itertuples(index=False, name=None)] == list(rows)


def load_error(path, **options) -> str:
    with pytest.raises(ju.JourneyDataError) as caught:
        ju.load_sessions(path, **options)
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    return message


# --- accepted as they are -----------------------------------------------------------


def test_clean_file_loads_without_warning(tmp_path):
    data = load_quietly(write(tmp_path, csv_text(CLEAN)))
    assert_rows(data, CLEAN)
    report = data.attrs["load_report"]
    assert report["rows_read"] == report["rows_kept"] == 3 and report["users"] == 2 and report["repairs"] == []


def test_utf8_byte_order_mark(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + csv_text(CLEAN).encode())
    assert_rows(load_quietly(path), CLEAN)


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_windows_and_old_mac_line_endings(tmp_path, newline):
    data = load_quietly(write(tmp_path, csv_text(CLEAN, newline=newline)))
    assert_rows(data, CLEAN)
    assert not data["user_journey"].str.contains("\r").any()


def test_quoted_fields(tmp_path):
    text = (HEADER + '\n"1","10","Annual","Homepage-Log in"\n2,11,"Plan, with comma","Say ""hi""-Pricing"\n'
            '3,12,Annual,"Line\nbreak-Checkout"\n')
    # A line break inside a value is read only when asked for (see the line-break tests).
    data = load_quietly(write(tmp_path, text), multiline_values=True)
    assert_rows(data, [(1, 10, "Annual", "Homepage-Log in"), (2, 11, "Plan, with comma", 'Say "hi"-Pricing'),
                       (3, 12, "Annual", "Line\nbreak-Checkout")])


def test_extra_columns_are_kept_after_the_required_ones(tmp_path):
    text = "channel,user_id,session_id,device,subscription_type,user_journey,note\n" \
           "web,1,10,phone,Annual,Homepage,\nads,2,11,desktop,Monthly,Pricing,x\n"
    data = load_quietly(write(tmp_path, text))
    assert list(data.columns) == ["user_id", "session_id", "subscription_type", "user_journey", "channel", "device",
                                  "note"]
    assert data["channel"].tolist() == ["web", "ads"] and data["note"].tolist() == ["", "x"]
    assert data["user_id"].tolist() == [1, 2]


def test_header_names_differing_in_case_and_spaces(tmp_path):
    header = " User_ID ,SESSION_ID, Subscription_Type,user_journey "
    data = load_quietly(write(tmp_path, csv_text(CLEAN, header=header)))
    assert_rows(data, CLEAN)


def test_gzip_compressed_file(tmp_path):
    path = write(tmp_path, gzip.compress(csv_text(CLEAN).encode()), name="sessions.csv.gz")
    assert_rows(load_quietly(path), CLEAN)


def test_blank_lines_are_skipped(tmp_path):
    text = "\n" + HEADER + "\n\n1,10,Annual,Homepage-Log in-Pricing\n   \n1,11,Annual,Pricing-Checkout\n" \
           "2,12,Monthly,Homepage\n\n\n"
    assert_rows(load_quietly(write(tmp_path, text)), CLEAN)


def test_spaces_around_ids_are_ignored(tmp_path):
    data = load_quietly(write(tmp_path, HEADER + "\n 1 ,+10,Annual,Homepage\n"))
    assert_rows(data, [(1, 10, "Annual", "Homepage")])


def test_whole_numbers_written_as_decimals(tmp_path):
    data = load_quietly(write(tmp_path, HEADER + "\n1.0,10,Annual,Homepage\n9007199254740993,1e1,Annual,Pricing\n"))
    # Large ids stay exact even when another id needs floating point.
    assert data["user_id"].tolist() == [1, 9007199254740993]
    assert data["session_id"].tolist() == [10, 10]


@pytest.mark.parametrize("pages", [["Über uns", "Kasse", "日本語のページ", "Café — menu", "🙂 emoji"]])
def test_non_ascii_page_names(tmp_path, pages):
    rows = [(1, 1, "Jährlich", "-".join(pages)), (2, 2, "Monatlich", pages[2])]
    data = load_quietly(write(tmp_path, csv_text(rows)))
    assert_rows(data, rows)
    assert ju.page_count(data).to_dict() == ref.page_count([r[3] for r in rows])


def test_names_that_look_like_missing_values_are_text(tmp_path):
    rows = [(1, 1, "NA", "nan-None-NULL"), (2, 2, "null", "N/A-#N/A-NaN"), (3, 3, "None", "<NA>")]
    data = load_quietly(write(tmp_path, csv_text(rows)))
    assert_rows(data, rows)
    assert ju.page_count(ju.preprocess(data), plan="NA").to_dict() == {"NULL": 1, "None": 1, "nan": 1}


MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "&lt;b&gt; & 'quotes'", "<b>bold</b>"]


def test_markup_in_page_names_is_plain_text_through_every_metric(tmp_path):
    journey = "Homepage-" + "-".join(MARKUP) + "-Checkout"
    rows = [(1, 1, "Annual", journey), (2, 2, "<i>Plan</i>", MARKUP[1] + "-" + MARKUP[0])]
    quoted = [(u, s, p, '"' + j.replace('"', '""') + '"') for u, s, p, j in rows]
    data = load_quietly(write(tmp_path, csv_text(quoted)))
    assert_rows(data, rows)
    journeys = ju.preprocess(data)
    assert journeys["user_journey"].tolist() == [journey, rows[1][3]]
    expected = [journey, rows[1][3]]
    assert ju.page_count(journeys).to_dict() == ref.page_count(expected)
    assert ju.page_presence(journeys).to_dict() == ref.page_presence(expected)
    assert ju.page_destinations(journeys, MARKUP[0]).to_dict() == ref.page_destinations(expected, MARKUP[0])
    assert ju.page_sequences(journeys, n=2).to_dict() == ref.page_sequences(expected, n=2)
    transitions = ju.page_transitions(journeys)
    assert {(p, q): c for p, q, c in transitions.itertuples(index=False)} == ref.page_transitions(expected)
    assert ju.page_count(journeys, plan="<i>Plan</i>").index.tolist() == sorted(MARKUP[:2])


def test_ten_thousand_page_journey(tmp_path):
    pages = [f"Page {i % 7}" for i in range(10_000)]
    rows = [(1, 1, "Annual", "-".join(pages)), (2, 2, "Annual", "Homepage")]
    data = load_quietly(write(tmp_path, csv_text(rows)))
    assert_rows(data, rows)
    assert ju.journey_lengths(data).tolist() == [10_000, 1]
    journeys = ju.preprocess(data)
    grouped = ref.preprocess(rows)
    assert ju.page_sequences(journeys, n=4).to_dict() == ref.page_sequences(ref.journeys_for_plan(grouped), n=4)


def test_very_long_journey_with_a_repair_still_names_the_line(tmp_path):
    # Longer than the csv module's default field limit, after a blank line.
    journey = "-".join(["Log in"] * 30_000)
    text = HEADER + f"\n\n1,1,Annual,{journey}\n1,2, Annual,Homepage\n"
    data, [message] = repaired(write(tmp_path, text))
    assert "(line 4)" in message and ju.journey_lengths(data).tolist() == [30_000, 1]


def test_user_with_two_thousand_sessions(tmp_path):
    rng = np.random.default_rng(7)
    ids = rng.permutation(np.arange(100, 2100))
    rows = [(5, int(s), "Quarterly", f"P{int(s) % 5}-Checkout" if s % 3 else "Homepage") for s in ids]
    rows.append((6, 1, "Annual", "Homepage"))
    data = load_quietly(write(tmp_path, csv_text(rows)))
    journeys = ju.preprocess(data, sessions=1500, count_from="last")
    want = ref.preprocess(rows, sessions=1500, count_from="last")
    assert journeys.loc[journeys["user_id"] == 5, "user_journey"].item() == want[5][1]
    assert journeys["n_sessions"].tolist() == [1500, 1]


def test_plan_with_one_buyer(tmp_path):
    rows = CLEAN + [(3, 13, "Lifetime", "Pricing-Checkout-Checkout")]
    data = load_quietly(write(tmp_path, csv_text(rows)))
    journeys = ju.preprocess(data)
    assert ju.page_count(journeys, plan="Lifetime").to_dict() == {"Pricing": 1, "Checkout": 1}
    assert ju.page_presence(journeys, plan="Lifetime", normalize=True).to_dict() == {"Checkout": 1.0, "Pricing": 1.0}
    assert ju.page_sequences(journeys, n=2, plan="Lifetime").to_dict() == {"Pricing-Checkout": 1}
    assert ju.journey_length(journeys, plan="Lifetime") == 2.0


# --- repaired, with a warning that counts the repair ----------------------------------


def repaired(path, **options):
    with pytest.warns(ju.JourneyDataWarning) as caught:
        data = ju.load_sessions(path, **options)
    return data, [str(w.message) for w in caught if issubclass(w.category, ju.JourneyDataWarning)]


def test_empty_segments_and_spaces_around_page_names(tmp_path):
    text = HEADER + "\n1,1,Annual,Homepage--Pricing\n1,2,Annual,-Log in-\n1,3,Annual, Homepage - Log in \n" \
                    "2,4,Annual,Homepage-Pricing\n2,5,Annual,Homepage -\u00a0Checkout\n"
    data, messages = repaired(write(tmp_path, text))
    assert data["user_journey"].tolist() == ["Homepage-Pricing", "Log in", "Homepage-Log in", "Homepage-Pricing",
                                             "Homepage-Checkout"]
    [message] = messages
    assert "column 'user_journey'" in message and "in 4 rows" in message and "lines 2, 3, 4, 6" in message
    [repair] = data.attrs["load_report"]["repairs"]
    assert repair["rows"] == 4 and repair["lines"] == [2, 3, 4, 6] and repair["dropped"] == 0
    report = ju.load_report(data)
    assert report["rows"].tolist() == [4] and report["column"].tolist() == ["user_journey"]


def test_spaces_around_plan_names(tmp_path):
    data, [message] = repaired(write(tmp_path, HEADER + "\n1,1, Annual ,A\n1,2,Annual,B\n2,3,\tMonthly,C\n"))
    assert data["subscription_type"].tolist() == ["Annual", "Annual", "Monthly"]
    assert "column 'subscription_type'" in message and "in 2 rows" in message and "lines 2, 4" in message


@pytest.mark.parametrize("journey", ["", "-", " - ", "--"])
def test_empty_journey_dropped_or_kept(tmp_path, journey):
    path = write(tmp_path, HEADER + f"\n1,1,Annual,A\n1,2,Annual,{journey}\n2,3,Monthly,B\n")
    data, messages = repaired(path)
    assert data["user_journey"].tolist() == ["A", "B"]
    assert any("empty journey in 1 row: dropped the session (line 3)" in m for m in messages)
    assert data.attrs["load_report"]["rows_read"] == 3 and data.attrs["load_report"]["rows_kept"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ju.JourneyDataWarning)
        kept = ju.load_sessions(path, empty_journeys="keep")
    assert kept["user_journey"].tolist() == ["A", "", "B"]
    assert ju.journey_lengths(kept).tolist() == [1, 0, 1]


def test_exact_duplicate_rows_are_dropped(tmp_path):
    text = HEADER + "\n1,1,Annual,A-B\n1,2,Annual,C\n1,1,Annual,A-B\n1,1,Annual,A-B\n"
    data, [message] = repaired(write(tmp_path, text))
    assert_rows(data, [(1, 1, "Annual", "A-B"), (1, 2, "Annual", "C")])
    assert "column 'session_id'" in message and "in 2 rows" in message and "lines 4, 5" in message
    assert data.attrs["load_report"]["repairs"][0]["dropped"] == 2


def test_repair_lines_count_blank_lines_and_multiline_values(tmp_path):
    text = HEADER + '\n\n1,1,Annual,"A\nB"\n\n\n1,2, Annual,C\n'
    data, [message] = repaired(write(tmp_path, text), multiline_values=True)
    assert "(line 7)" in message
    assert data.attrs["load_report"]["repairs"][0]["lines"] == [7]


def test_many_repairs_show_the_first_ten_lines(tmp_path):
    rows = [(i, i, " Annual", "A") for i in range(25)]
    data, [message] = repaired(write(tmp_path, csv_text(rows)))
    assert "in 25 rows" in message and "lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 15 more" in message
    assert data.attrs["load_report"]["repairs"][0]["lines"] == list(range(2, 12))


# --- stopped, naming file, column, problem and lines --------------------------------


def test_missing_file(tmp_path):
    assert "file not found" in load_error(tmp_path / "nowhere.csv")


def test_directory(tmp_path):
    folder = tmp_path / "a_folder.csv"
    folder.mkdir()
    assert "not a file" in load_error(folder)


def test_empty_file(tmp_path):
    message = load_error(write(tmp_path, ""))
    assert "the file is empty" in message and "user_id, session_id, subscription_type, user_journey" in message


def test_only_blank_lines(tmp_path):
    assert "no header line" in load_error(write(tmp_path, "\n\n\n"))


def test_header_only(tmp_path):
    assert "header but no session rows" in load_error(write(tmp_path, HEADER + "\n"))
    assert "header but no session rows" in load_error(write(tmp_path, HEADER, name="no_newline.csv"))


@pytest.mark.parametrize("column", ["user_id", "session_id", "subscription_type", "user_journey"])
def test_missing_required_column(tmp_path, column):
    header = HEADER.replace(column, "something_else")
    message = load_error(write(tmp_path, csv_text(CLEAN, header=header)))
    assert f"column '{column}'" in message and "not found" in message and "'something_else'" in message


def test_required_column_twice(tmp_path):
    header = "user_id,session_id,subscription_type,user_journey,User_Id"
    message = load_error(write(tmp_path, csv_text([(1, 1, "A", "B", 2)], header=header)))
    assert "column 'user_id'" in message and "more than once" in message


def test_missing_plan(tmp_path):
    message = load_error(write(tmp_path, HEADER + "\n1,1,Annual,A\n2,2,,B\n3,3,  ,C\n"))
    assert "column 'subscription_type'" in message and "2 sessions have no plan" in message
    assert "(lines 3, 4)" in message


@pytest.mark.parametrize("column, value", [("user_id", "abc"), ("user_id", "1.5"), ("session_id", ""),
                                           ("session_id", "NaN"), ("user_id", "0x1F"), ("session_id", "0X1F"),
                                           ("user_id", "-0x1"), ("user_id", "١٢"),
                                           ("session_id", "1,000")])
def test_non_integer_ids(tmp_path, column, value):
    row = {"user_id": "1", "session_id": "2", "subscription_type": "Annual", "user_journey": "A"}
    row[column] = f'"{value}"'
    text = HEADER + "\n3,3,Annual,A\n" + ",".join(row.values()) + "\n"
    message = load_error(write(tmp_path, text))
    assert f"column '{column}'" in message and "not non-negative integers" in message
    assert repr(value) in message and "(line 3)" in message


def test_negative_ids(tmp_path):
    message = load_error(write(tmp_path, HEADER + "\n1,1,Annual,A\n1,-2,Annual,A\n3,4,Annual,B\n1,-5,Annual,C\n"))
    assert "column 'session_id'" in message and "2 values are not non-negative integers" in message
    assert "'-2', '-5'" in message and "(lines 3, 5)" in message


def test_ids_too_large(tmp_path):
    message = load_error(write(tmp_path, HEADER + "\n1,1,Annual,A\n99999999999999999999,2,Annual,A\n"))
    assert "column 'user_id'" in message and "too large" in message and "(line 3)" in message


def test_conflicting_duplicate_sessions(tmp_path):
    text = HEADER + "\n1,1,Annual,A-B\n1,2,Annual,C\n1,1,Annual,A-C\n"
    message = load_error(write(tmp_path, text))
    assert "column 'session_id'" in message and "share a (user_id, session_id)" in message
    assert "user 1, session 1" in message and "(lines 2, 4)" in message


def test_user_with_two_plans(tmp_path):
    text = HEADER + "\n7,1,Annual,A\n8,2,Monthly,B\n7,3,Monthly,C\n"
    message = load_error(write(tmp_path, text))
    assert "column 'subscription_type'" in message and "1 users have more than one plan (users 7)" in message
    assert "(lines 2, 4)" in message


def test_error_lines_count_blank_lines_and_multiline_values(tmp_path):
    text = "\n" + HEADER + '\n1,1,Annual,"A\nB"\n\n2,2,,C\n'
    message = load_error(write(tmp_path, text), multiline_values=True)
    assert "column 'subscription_type'" in message and "(line 6)" in message


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_text_that_is_not_utf8(tmp_path, encoding):
    text = HEADER + "\n1,1,Annual,Homepage\n2,2,Monthly,Über uns-Café\n3,3,Annual,Homepage\n4,4,Annual,Kassé\n"
    message = load_error(write(tmp_path, text.encode(encoding)))
    assert "not UTF-8" in message and "column 'user_journey'" in message and "(lines 3, 5)" in message


@pytest.mark.parametrize("row, column", [(b"2,2,Mensuel \xe9,B", "subscription_type"),
                                         (b"2,2,Monthly,Caf\xc3-\xa9", "user_journey")])
def test_bad_bytes_in_plan_or_around_a_separator(tmp_path, row, column):
    message = load_error(write(tmp_path, HEADER.encode() + b"\n1,1,Annual,A\n" + row + b"\n"))
    assert "not UTF-8" in message and f"column '{column}'" in message and "(line 3)" in message


def test_bad_byte_in_header(tmp_path):
    message = load_error(write(tmp_path, b"user_id,session_id,subscription_type,user_journey\xff\n1,1,A,B\n"))
    assert "not UTF-8" in message and "(line 1)" in message


def test_utf16_file(tmp_path):
    message = load_error(write(tmp_path, csv_text(CLEAN).encode("utf-16")))
    assert "not UTF-8" in message


@pytest.mark.parametrize("row, width", [("2,2,Monthly,B,extra", 5), ("2,2,Monthly", 3), ("2", 1)])
def test_ragged_rows(tmp_path, row, width):
    for first in (True, False):
        body = [row, "1,1,Annual,A"] if first else ["1,1,Annual,A", "3,3,Annual,C", row]
        path = write(tmp_path, HEADER + "\n" + "\n".join(body) + "\n", name=f"ragged_{first}.csv")
        message = load_error(path)
        line = 2 if first else 4
        assert "as many fields as the header (4)" in message and f"line {line} has {width}" in message
        assert f"(line {line})" in message


def test_ragged_rows_counted(tmp_path):
    body = ["1,1,Annual,A", "2,2,Monthly", "", "3,3,Annual", "4,4,Annual,B"]
    message = load_error(write(tmp_path, HEADER + "\n" + "\n".join(body) + "\n"))
    assert "2 rows do not" in message and "(lines 3, 5)" in message


def test_unclosed_quote(tmp_path):
    message = load_error(write(tmp_path, HEADER + '\n1,1,Annual,"Homepage\n2,2,Monthly,B\n'))
    assert "could not be parsed as CSV" in message


@pytest.mark.parametrize("content", [b"not gzip at all", gzip.compress(csv_text(CLEAN).encode(), mtime=0)[:40],
                                     gzip.compress(csv_text(CLEAN).encode(), mtime=0)[:10] + b"\x00" * 30],
                         ids=["not gzip", "cut short", "zeros after the header"])
def test_corrupt_gzip(tmp_path, content):
    load_error(write(tmp_path, content, name="sessions.csv.gz"))


def test_bad_argument():
    with pytest.raises(ValueError, match="empty_journeys must be 'drop' or 'keep'; found 'delete'"):
        ju.load_sessions("anything.csv", empty_journeys="delete")


# --- never crash: generated files -------------------------------------------------------


@contextmanager
def time_limit(seconds):
    """Fail instead of hanging (Unix only; elsewhere no limit)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"load_sessions took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_invariants(data, empty_journeys):
    """What load_sessions promises about anything it returns."""
    assert list(data.columns[:4]) == ["user_id", "session_id", "subscription_type", "user_journey"]
    assert isinstance(data.index, pd.RangeIndex) and len(data) > 0
    for column in ("user_id", "session_id"):
        assert data[column].dtype == np.int64 and (data[column] >= 0).all()
    plans = data["subscription_type"].tolist()
    assert all(isinstance(p, str) and p and p == p.strip() for p in plans)
    for journey in data["user_journey"].tolist():
        assert isinstance(journey, str)
        if empty_journeys == "drop":
            assert journey != ""
        for page in ref.split_journey(journey):
            assert page and page == page.strip() and "-" not in page
    assert not data.duplicated(["user_id", "session_id"]).any()
    assert (data.groupby("user_id")["subscription_type"].nunique() == 1).all()
    report = data.attrs["load_report"]
    assert report["rows_kept"] == len(data) and report["users"] == data["user_id"].nunique()
    assert report["rows_read"] - sum(r["dropped"] for r in report["repairs"]) == report["rows_kept"]
    # Loaded data flows through the library.
    ju.page_count(ju.preprocess(data))


def fuzz_load(path):
    for empty_journeys in ("drop", "keep"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with time_limit(30):
                try:
                    data = ju.load_sessions(path, empty_journeys=empty_journeys)
                except ju.JourneyDataError as error:
                    assert str(error).startswith(str(path))
                    continue
        assert_invariants(data, empty_journeys)


REQUIRED = ["user_id", "session_id", "subscription_type", "user_journey"]
pieces = st.sampled_from(["Homepage", "Log in", "Pricing", "Über", "日本", "<b>", " ", "-", "--", " - ", "", ",",
                          '"', "'", "\n", "\r\n", "\r", "\t", "\u00a0", "\x00", "\ufeff", "0", "-1", "1.5", "1e3",
                          "NaN",
                          "99999999999999999999", "Annual", " Monthly "])


def rarely(one_in):
    # Hypothesis favours the ends of a range, so the rare case sits in the middle of it.
    return st.integers(0, one_in - 1).map(lambda i: i == one_in // 2)


@st.composite
def header_names(draw):
    names = [n if draw(rarely(2)) else draw(st.sampled_from([n.upper(), f" {n} ", n.title()])) for n in REQUIRED]
    if draw(rarely(4)):
        names += draw(st.lists(st.sampled_from(["extra", "user_id", "", "Extra", "x.1", "x", '"q"']), max_size=2))
    if draw(st.booleans()):
        names = draw(st.permutations(names))
    if draw(rarely(20)):
        names.pop(draw(st.integers(0, len(names) - 1)))
    return names


def chaos():
    return st.one_of(st.text(max_size=6), st.lists(pieces, max_size=4).map("".join))


@st.composite
def value_for(draw, kind):
    """Mostly plausible values for a column, sometimes odd ones."""
    if draw(rarely(12)):
        return draw(chaos())
    if kind in ("user_id", "session_id"):
        if draw(rarely(10)):
            return draw(st.sampled_from([" 3", "+4", "2.0", "-1", "", "x", "1e1"]))
        return str(draw(st.integers(0, 5)))
    if kind == "subscription_type":
        if draw(rarely(10)):
            return draw(st.sampled_from([" Annual", "", "Plan B", "Annual "]))
        return draw(st.sampled_from(["Annual", "Monthly", "Quarterly"]))
    if kind == "user_journey":
        pages = st.sampled_from(["Homepage", "Log in", "Pricing", "", " Checkout ", "<b>", "Über"])
        return "-".join(draw(st.lists(pages, max_size=4)))
    return draw(st.sampled_from(["web", "", "1"]))


@st.composite
def field(draw, kind):
    value = draw(value_for(kind))
    if draw(rarely(30)):
        return '"' + value  # possibly unbalanced
    if draw(rarely(4)) or any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def csv_files(draw):
    names = draw(header_names())
    kinds = [n.strip().lower() for n in names]
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [",".join(names)]
    for _ in range(draw(st.integers(0, 6))):
        row = [draw(field(kind)) for kind in kinds]
        if draw(rarely(40)):
            row = row[:-1]
        elif draw(rarely(40)):
            row.append(draw(field("extra")))
        lines.append(",".join(row))
    if draw(rarely(4)):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", " ", "\t"])))
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline * 2]))
    data = text.encode("utf-8", "surrogatepass")
    if draw(rarely(5)):
        data = b"\xef\xbb\xbf" + data
    if draw(rarely(8)) and data:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at:]
    return data, draw(rarely(6))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(generated=csv_files(), number=st.integers(0, 10**9))
def test_generated_files_load_or_raise_journey_data_error(tmp_path, generated, number):
    content, compress = generated
    name = f"fuzz-{number}.csv" + (".gz" if compress else "")
    path = tmp_path / name
    path.write_bytes(gzip.compress(content) if compress else content)
    fuzz_load(path)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200), number=st.integers(0, 10**9))
def test_random_bytes_load_or_raise_journey_data_error(tmp_path, content, number):
    path = tmp_path / f"bytes-{number}.csv"
    path.write_bytes(HEADER.encode() + b"\n" + content)
    fuzz_load(path)


# --- the loader against an independent oracle on valid-ish files ------------------------


good_page = st.sampled_from(["Homepage", "Log in", "Pricing", "Über uns", "日本", "<b>x</b>", 'say "hi"', "a,b"])


@st.composite
def formatted_sessions(draw):
    """Valid sessions written with random but legal formatting, and the rows they mean."""
    rows, seen = [], set()
    for user in draw(st.lists(st.integers(0, 10**12), min_size=1, max_size=5, unique=True)):
        plan = draw(st.sampled_from(["Annual", "Monthly", "Plan B", "Jährlich"]))
        for _ in range(draw(st.integers(1, 4))):
            session = draw(st.integers(0, 10**12).filter(lambda s: s not in seen))
            seen.add(session)
            rows.append((user, session, plan, draw(st.lists(good_page, min_size=1, max_size=5))))
    header = [draw(st.sampled_from([n, n.upper(), f" {n} "])) for n in REQUIRED]
    extra = draw(st.booleans())
    if extra:
        header.insert(draw(st.integers(0, 4)), "channel")
    lines = []
    for user, session, plan, pages in rows:
        # Spaces around pages and empty segments are repaired; quoting is legal.
        separators = [draw(st.sampled_from(["-", " - ", "--", "- ", " -", "-\t", "-  -"])) for _ in pages[1:]]
        joined = pages[0] + "".join(sep + page for sep, page in zip(separators, pages[1:]))
        joined = draw(st.sampled_from(["", " ", "-", " -"])) + joined + draw(st.sampled_from(["", " ", "-", "- "]))
        fields = {"user_id": str(user), "session_id": str(session), "subscription_type": plan, "user_journey": joined}
        values = [fields[n.strip().lower()] if n != "channel" else "web" for n in header]
        lines.append(",".join('"' + v.replace('"', '""') + '"' if (draw(st.booleans()) or any(c in v for c in ',"'))
                              else v for v in values))
    order = draw(st.permutations(range(len(lines))))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join([",".join(header)] + [lines[i] for i in order]) + newline
    expected = [(u, s, p, "-".join(pages)) for u, s, p, pages in (rows[i] for i in order)]
    return text, expected, extra


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(generated=formatted_sessions(), number=st.integers(0, 10**9))
def test_formatted_files_load_to_the_rows_they_mean(tmp_path, generated, number):
    text, expected, extra = generated
    path = tmp_path / f"formatted-{number}.csv"
    path.write_text(text, encoding="utf-8", newline="")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ju.JourneyDataWarning)
        data = ju.load_sessions(path)
    assert_rows(data, expected)
    assert ("channel" in data.columns) == extra
    pd.testing.assert_frame_equal(ju.preprocess(data), ju.preprocess(sessions_frame(expected)))


# --- the hostile corpus: nothing lost without an error, every file its own diagnosis --------


def synthetic_export(n_sessions=9_935, copies=1, seed=7):
    """CSV text of synthetic sessions (as big as the reference export by default), repeated
    ``copies`` times with the ids of each copy offset so that the rows stay distinct."""
    from journey_utils.synthetic import generate_sessions

    frame = generate_sessions(n_sessions, seed=seed)[REQUIRED]
    offset = int(max(frame["user_id"].max(), frame["session_id"].max())) + 1
    parts = []
    for copy in range(copies):
        shifted = frame.assign(user_id=frame["user_id"] + copy * offset, session_id=frame["session_id"] + copy * offset)
        parts.append(shifted.to_csv(index=False, header=copy == 0, lineterminator="\n"))
    return "".join(parts)


def open_a_quote(text, line):
    """``text`` with the journey field of ``line`` (1 is the header) opening a quote it never closes."""
    lines = text.split("\n")
    user, session, plan, journey = lines[line - 1].split(",", 3)
    lines[line - 1] = f'{user},{session},{plan},"{journey}'
    return "\n".join(lines)


def arrow_rows(path):
    """How many rows Arrow's parallel reader returns, without complaint, on its own."""
    import pyarrow.csv as pa_csv

    return pa_csv.read_csv(path, read_options=pa_csv.ReadOptions(block_size=4 << 20),
                           parse_options=pa_csv.ParseOptions(newlines_in_values=False)).num_rows


def test_unclosed_quote_in_a_file_over_4_mb_loses_nothing(tmp_path):
    # Six copies of a reference-sized export: 59,610 sessions, 6 MB; the quote opens on line 101.
    text = open_a_quote(synthetic_export(copies=6), line=101)
    path = write(tmp_path, text, name="six_copies.csv")
    total_lines = text.count("\n") + 1 - text.endswith("\n")
    assert path.stat().st_size > 4 << 20 and total_lines == 59_611
    # What the parser returns on its own: part of the file, silently (the bug this guards against).
    assert 0 < arrow_rows(path) < 59_610
    message = load_error(path)
    assert ("could not be parsed as CSV: a quote opened on line 101 is never closed, so every line after it "
            "(to line 59,611) would be part of one value" in message), message
    assert message.endswith("Close or remove the quote on line 101")


def test_unclosed_quote_in_six_copies_of_the_reference_export(tmp_path, reference_path):
    lines = reference_path.read_text(encoding="utf-8-sig").splitlines()
    header, body = lines[0], lines[1:]
    users = [int(row.split(",", 2)[0]) for row in body]
    sessions = [int(row.split(",", 2)[1]) for row in body]
    offset = max(max(users), max(sessions)) + 1
    copies = []
    for copy in range(6):
        for row, user, session in zip(body, users, sessions):
            rest = row.split(",", 2)[2]
            copies.append(f"{user + copy * offset},{session + copy * offset},{rest}")
    text = open_a_quote("\n".join([header, *copies]) + "\n", line=2 + len(body) // 2)
    path = write(tmp_path, text, name="reference_six_copies.csv")
    expected_lines = 1 + 6 * len(body)
    assert 0 < arrow_rows(path) < 6 * len(body)
    message = load_error(path)
    assert f"a quote opened on line {2 + len(body) // 2} is never closed" in message
    assert f"(to line {expected_lines:,})" in message


def test_two_stray_quotes_merging_rows_are_an_error_naming_the_lines(tmp_path):
    rows = [(u // 3 + 1, u + 1, "Annual", "Homepage-Pricing") for u in range(1_000)]
    lines = csv_text(rows).split("\n")
    # Line 5's journey opens a quote; line 105's closes it: strictly valid CSV, 100 rows in one value.
    lines[4] = lines[4].replace("Homepage", '"Homepage', 1)
    lines[104] = lines[104] + '"'
    path = write(tmp_path, "\n".join(lines), name="stray_quotes.csv")
    message = load_error(path)
    assert "column 'user_journey': 1 value holds a line break, which no page name has, and 1 of them hold what " \
           "look like other rows" in message
    assert "(the first holds 100 line breaks and" in message and message.endswith("(lines 5-105)")
    # Only an explicit opt-in reads the value as written.
    data = ju.load_sessions(path, multiline_values=True)
    assert len(data) == 900 and data["user_journey"].str.count("\n").max() == 100


def test_quote_inside_an_unquoted_value_is_text(tmp_path):
    rows = [(1, 1, "Annual", 'Size 5"-Pricing'), (1, 2, "Annual", "Checkout"), (2, 3, "Monthly", 'a"b"c')]
    data = load_quietly(write(tmp_path, csv_text(rows)))
    assert_rows(data, rows)


def test_blank_lines_inside_a_large_file_still_load_every_row(tmp_path):
    text = synthetic_export(20_000)
    lines = text.split("\n")
    lines[500:500] = ["", ""]
    data = load_quietly(write(tmp_path, "\n".join(lines) + "\n\n"))
    assert len(data) == 20_000


@pytest.mark.parametrize("make, kind, suffix", [
    (gzip.compress, "gzip", ".gz"),
    (lambda data: __import__("bz2").compress(data), "bzip2", ".bz2"),
    (lambda data: __import__("lzma").compress(data), "xz", ".xz"),
])
def test_compressed_file_named_csv(tmp_path, make, kind, suffix):
    message = load_error(write(tmp_path, make(csv_text(CLEAN).encode()), name="sessions.csv"))
    assert f"this is a {kind}-compressed file, but its name ends in '.csv'" in message
    assert f"ends in '{suffix}' (for example sessions.csv{suffix})" in message and "UTF-8" not in message


def test_zstd_and_zip_named_csv(tmp_path):
    import io as _io
    import zipfile

    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(csv_text(CLEAN).encode())
    assert "this is a Zstandard-compressed file" in load_error(write(tmp_path, sink.getvalue().to_pybytes()))
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sessions.csv", csv_text(CLEAN))
    assert "this is a zip-compressed file" in load_error(write(tmp_path, buffer.getvalue(), name="z.csv"))


def test_tar_archive_named_csv(tmp_path):
    import io as _io
    import tarfile

    buffer = _io.BytesIO()
    data = csv_text(CLEAN).encode()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        member = tarfile.TarInfo("sessions.csv")
        member.size = len(data)
        archive.addfile(member, _io.BytesIO(data))
    message = load_error(write(tmp_path, buffer.getvalue(), name="sessions.csv"))
    assert "this is a tar archive, but its name ends in '.csv'" in message


def test_plain_text_named_gz(tmp_path):
    message = load_error(write(tmp_path, csv_text(CLEAN), name="sessions.csv.gz"))
    assert "the name ends in '.gz' but the file is not gzip-compressed: it is plain text" in message


def xlsx_bytes():
    import io as _io
    import zipfile

    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["sessions.xlsx", "sessions.csv", "sessions.zip"])
def test_excel_workbook(tmp_path, name):
    message = load_error(write(tmp_path, xlsx_bytes(), name=name))
    assert "this is an Excel workbook (.xlsx), not CSV text" in message and "CSV UTF-8 (Comma delimited)" in message


def test_excel_97_workbook(tmp_path):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    assert "this is an Excel 97-2003 workbook (.xls)" in load_error(write(tmp_path, ole2, name="sessions.xls"))


def test_parquet_named_csv_is_read_as_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "sessions.csv"
    pq.write_table(pa.table(dict(zip(REQUIRED, map(list, zip(*CLEAN))))), path)
    assert_rows(load_quietly(path), CLEAN)


@pytest.mark.parametrize("encoding, described, evidence", [
    ("utf-16", "UTF-16 (little-endian)", "byte order mark"),
    ("utf-16-le", "UTF-16 (little-endian)", "zero bytes between characters"),
    ("utf-16-be", "UTF-16 (big-endian)", "zero bytes between characters"),
    ("utf-32", "UTF-32 (little-endian)", "byte order mark"),
    ("utf-32-be", "UTF-32 (big-endian)", "zero bytes between characters"),
])
def test_utf16_and_utf32(tmp_path, encoding, described, evidence):
    message = load_error(write(tmp_path, csv_text(CLEAN).encode(encoding)))
    assert f"the text is {described} (by its {evidence}), not UTF-8" in message and "iconv" in message
    # Compressed, the same diagnosis.
    message = load_error(write(tmp_path, gzip.compress(csv_text(CLEAN).encode(encoding)), name="s.csv.gz"))
    assert f"the text is {described}" in message


@pytest.mark.parametrize("delimiter, described", [(";", "semicolons (';')"), ("\t", "tabs"),
                                                  ("|", "vertical bars ('|')")])
def test_wrong_delimiter(tmp_path, delimiter, described):
    text = csv_text(CLEAN).replace(",", delimiter)
    message = load_error(write(tmp_path, text))
    assert f"the columns are separated by {described}, not commas" in message


def test_plans_differing_only_in_case_warn_naming_both(tmp_path):
    rows = [(1, 1, "Annual", "A"), (2, 2, "annual", "B"), (3, 3, "Monthly", "C"), (4, 4, "ANNUAL", "D")]
    with pytest.warns(ju.JourneyDataWarning, match=r"the plans 'ANNUAL' and 'Annual' and 'annual' differ only in "
                                                   r"case; they are kept as 3 plans .*\(first lines 2, 3, 5\)"):
        data = ju.load_sessions(write(tmp_path, csv_text(rows)))
    assert sorted(data["subscription_type"].unique()) == ["ANNUAL", "Annual", "Monthly", "annual"]
    assert len(data.attrs["load_report"]["notes"]) == 1 and data.attrs["load_report"]["repairs"] == []


def test_invisible_characters_in_plan_names_are_removed_and_listed(tmp_path):
    rows = [(1, 1, "Annual", "A"), (2, 2, "Annual\u200b", "B"), (3, 3, "\ufeffAnnual", "C"), (4, 4, "Cafe\u0301", "D")]
    data, [message] = repaired(write(tmp_path, csv_text(rows)))
    assert data["subscription_type"].tolist() == ["Annual", "Annual", "Annual", "Caf\u00e9"]
    assert "column 'subscription_type': invisible or control characters, or letters in decomposed form in the " \
           "plan name in 3 rows" in message and "(lines 3, 4, 5)" in message


def test_control_characters_in_page_names_are_removed_and_listed(tmp_path):
    rows = [(1, 1, "Annual", "Home\x00page-Pricing"), (1, 2, "Annual", "Log\x1b in-\x0bCheckout"),
            (2, 3, "Monthly", "Homepage"), (2, 4, "Monthly", "A-\u200b-B")]
    data, messages = repaired(write(tmp_path, csv_text(rows)))
    assert data["user_journey"].tolist() == ["Homepage-Pricing", "Log in-Checkout", "Homepage", "A-B"]
    report = ju.load_report(data)
    assert report["problem"].tolist() == ["invisible or control characters, or letters in decomposed form in page "
                                          "names", "spaces around page names or empty page segments"]
    assert report["lines"].tolist() == [[2, 3, 5], [5]] and report["dropped"].tolist() == [0, 0]
    assert len(messages) == 2


def test_a_line_over_the_field_limit_is_refused(tmp_path):
    long_journey = "-".join(["Pricing"] * 300_000)  # 2.4 MB in one line
    text = HEADER + "\n1,1,Annual,Homepage\n1,2,Annual," + long_journey + "\n2,3,Monthly,Homepage\n"
    for name, content in (("long.csv", text.encode()), ("long.csv.gz", gzip.compress(text.encode()))):
        message = load_error(write(tmp_path, content, name=name), max_field_bytes=1 << 20)
        assert "line 3 is 2.3 MB long, longer than any value may be (1.0 MB, max_field_bytes)" in message
        assert "Pass max_field_bytes=" in message
        data = ju.load_sessions(tmp_path / name)  # the default limit (64 MB) reads it
        assert data["user_journey"].str.len().max() == len(long_journey)


def test_a_gz_with_one_line_over_the_default_limit(tmp_path):
    # 70 MB of one line compress to a few hundred KB; refused from a streaming count, not parsed.
    line = b"1,2,Annual," + b"Pricing-" * (70 << 17)
    path = write(tmp_path, gzip.compress(HEADER.encode() + b"\n" + line + b"\n", compresslevel=1), name="one.csv.gz")
    assert path.stat().st_size < 1 << 20
    message = load_error(path)
    assert "line 2 is 70.0 MB long, longer than any value may be (64.0 MB, max_field_bytes)" in message


def test_header_line_without_a_line_break(tmp_path):
    message = load_error(write(tmp_path, "x" * (2 << 20), name="one_line.csv"))
    assert "the first line is longer than 1.0 MB without a line break" in message


def test_bad_max_field_bytes_argument():
    for bad, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError), ("1", TypeError)):
        with pytest.raises(error, match="load_sessions: max_field_bytes must be a positive integer"):
            ju.load_sessions("anything.csv", max_field_bytes=bad)


@pytest.fixture(scope="module")
def multi_megabyte_csv():
    """A generated export of about 6 MB (more than one of the parser's 4 MB blocks) and its rows."""
    text = synthetic_export(80_000, seed=11)
    return text, len(text.split("\n")) - 2


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(where=st.floats(0, 1, exclude_max=True), number=st.integers(0, 10**9))
def test_a_stray_quote_anywhere_raises_or_loses_nothing(tmp_path, multi_megabyte_csv, where, number):
    text, rows = multi_megabyte_csv
    at = int(where * len(text))
    path = write(tmp_path, text[:at] + '"' + text[at:], name=f"stray-{number}.csv")
    assert path.stat().st_size > 4 << 20
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ju.JourneyDataWarning)
            data = ju.load_sessions(path)
    except ju.JourneyDataError as error:
        assert str(error).startswith(str(path))
        return
    assert data.attrs["load_report"]["rows_read"] == rows
    assert len(data) + sum(r["dropped"] for r in data.attrs["load_report"]["repairs"]) == rows
