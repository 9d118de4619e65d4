"""The independent record count against the ``csv`` module, on any block size.

The count (``journey_utils._records``) is what the fast parser's rows are reconciled
with, so it is checked on its own: on well-formed CSV text (quoted values with
commas, doubled quotes and line breaks; LF, CRLF and CR line ends; empty lines at
either end) it finds as many records as the ``csv`` module, the same number of
lines as a text editor, and the longest line, whatever the blocks it is fed in.
"""

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey_utils import _records


def csv_records(data: bytes) -> int:
    """Non-empty records, as the csv module reads them (the loaders skip empty lines)."""
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    return sum(1 for row in rows if row)


def editor_lines(data: bytes) -> list[bytes]:
    text = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = text.split(b"\n")
    return lines[:-1] if text.endswith(b"\n") else lines


def count(data: bytes, block: int, monkeypatch, how: str):
    monkeypatch.setattr(_records, "BLOCK", block)
    if how == "buffer":
        return _records.count_buffer(data, short_lines=True)
    if how == "stream":
        return _records.count_stream(io.BytesIO(data), short_lines=True)
    counter = _records.Counter(short_lines=True)
    for lo in range(0, len(data), 7):
        counter.feed_any(data[lo:lo + 7])
    return counter.result()


value = st.one_of(
    st.sampled_from(["Homepage", "Log in", "Über", "", "a,b", 'say "hi"', "two\nlines", "cr\ronly", "x\r\ny"]),
    st.text(alphabet="ab,\" \n\r-", max_size=6),
)


@st.composite
def csv_bytes(draw):
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    rows = draw(st.lists(st.lists(value, min_size=1, max_size=4), min_size=1, max_size=8))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    text = draw(st.sampled_from(["", newline, newline * 2])) + buffer.getvalue()
    if draw(st.booleans()):
        text = text[:-len(newline)]  # no line end after the last record
    text += draw(st.sampled_from(["", newline, newline * 3]))
    return text.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(data=csv_bytes(), block=st.sampled_from([1, 2, 3, 5, 64, 1 << 18]), how=st.sampled_from(
    ["buffer", "stream", "pieces"]))
def test_count_agrees_with_the_csv_module(data, block, how):
    with pytest.MonkeyPatch.context() as monkeypatch:
        records = count(data, block, monkeypatch, how)
    expected = csv_records(data)
    # Empty records in the middle (a row of one empty value) are lines the readers skip;
    # the count allows for them only at the ends, so it may exceed the csv module there.
    middle_empty = sum(1 for line in editor_lines(data.strip(b"\r\n")) if line == b"")
    assert expected <= records.records <= expected + middle_empty
    assert records.open_quote_line is None
    assert records.lines == len(editor_lines(data))
    lines = editor_lines(data)
    assert records.longest_line == max((len(line) for line in lines), default=0) or (
        b"\r\n" in data and records.longest_line == max(len(line) for line in lines) + 1)


def test_counts_of_small_files(monkeypatch):
    cases = {
        b"h\n1\n2\n": (3, 3, None, None),
        b"h\n1\n2": (3, 3, None, None),
        b"\n\nh\n1\n\n\n": (2, 6, None, None),
        b"h\r\n1\r\n2\r\n\r\n": (3, 4, None, None),
        b"h\r1\r2\r": (3, 3, None, None),
        b'h\n1,"a\nb"\n2\n': (3, 4, None, 2),
        b'h\n1,"open\n2\n3\n': (2, 4, 2, 2),
        b'h\n"a""b"\n2\n': (3, 3, None, None),
    }
    for data, (records, lines, open_quote, spanning) in cases.items():
        for block in (1, 3, 1 << 18):
            monkeypatch.setattr(_records, "BLOCK", block)
            found = _records.count_buffer(data)
            assert (found.records, found.lines, found.open_quote_line, found.spanning_line) == (
                records, lines, open_quote, spanning), (data, block)


def test_longest_line_is_measured_across_blocks(monkeypatch):
    monkeypatch.setattr(_records, "BLOCK", 16)
    data = b"header\n" + b"x" * 100 + b"\nshort\n" + b"y" * 40 + b"\n"
    found = _records.count_stream(io.BytesIO(data))
    assert (found.longest_line, found.longest_line_number) == (100, 2)


def test_a_quote_open_to_the_end_names_its_line():
    data = b"h\n" + b"1,a\n" * 50 + b'2,"never closed\n' + b"3,b\n" * 10
    found = _records.count_buffer(data)
    assert found.open_quote_line == 52 and found.spanning_line == 52 and found.lines == 62
