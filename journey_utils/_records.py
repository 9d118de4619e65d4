"""An independent count of a CSV file's records, in one cheap vectorised pass.

The fast CSV parser is not taken at its word: its row count is reconciled with this
count (see ``journey_utils.io``). A record ends at a line terminator (``\\n``,
``\\r\\n`` or a lone ``\\r``) outside quotes, quotes being counted by parity (``""``
inside a quoted value toggles twice, so it changes nothing). The pass works on
blocks of 256 KiB: a compare and a count per block for the line terminators, more
work only in blocks that hold a quote or a carriage return, and none that depends
on the length of a line, so memory stays bounded whatever the file holds.

Parity is stricter than the CSV readers, which take a quote inside an unquoted
value (``Size 5"``) literally: a file where parity and the reader disagree is
judged again by the exact (slower) reader of the ``csv`` module before anything
is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 1 << 18
# Bytes kept from each end of the file to count the empty lines there.
_EDGE = 64
_LF, _CR, _QUOTE = 10, 13, 34


@dataclass
class Records:
    """What the pass found.

    Attributes
    ----------
    records : int
        Records (the header included), a terminator inside quotes not ending one.
        Empty lines at the start and at the end of the file are not records (the
        readers skip them); empty lines in between are counted as records, so the
        count is then an upper bound, which the reconciliation allows for.
    lines : int
        Lines as a text editor counts them.
    open_quote_line : int or None
        Line of the quote that is still open at the end of the file (odd parity).
    spanning_line : int or None
        Line of the quote that opens the first value holding a line break.
    longest_line, longest_line_number : int
        Bytes in the longest line (its terminator excluded, but the CR of a CRLF
        counted), and its line number; exact
        for lines of ``BLOCK`` bytes or more (all lines with ``short_lines``).
    last_text_line : int
        The last line that is not empty.
    """

    records: int = 0
    lines: int = 0
    open_quote_line: int | None = None
    spanning_line: int | None = None
    longest_line: int = 0
    longest_line_number: int = 1
    last_text_line: int = 0


class Counter:
    """Feed blocks of a file in order, then read :meth:`result`."""

    def __init__(self, short_lines: bool = False):
        # Lines shorter than a block are measured only when asked (a limit below
        # BLOCK): finding them costs more than the rest of the count.
        self._short_lines = short_lines
        self._terminators = 0        # terminators seen (lines before the current one)
        self._outside = 0            # terminators outside quotes
        self._position = 0           # bytes seen
        self._last_terminator = -1   # position of the last terminator
        self._odd = False            # parity of the quotes seen
        self._quote_line = None      # line of the last quote that opened a value
        self._spanning = None
        self._pending_cr = False     # the previous block ended with a CR
        self._last_byte = None
        self._longest, self._longest_number = 0, 1
        self._mask = None            # reused for every block: no allocation per block
        self._head = b""             # the first bytes, for empty lines at the start
        self._tail = b""             # the last bytes, for empty lines at the end

    def feed_any(self, data: bytes) -> None:
        """Count bytes of any length: cut into blocks of at most ``BLOCK`` (lines of a
        block's length or more are measured exactly only across blocks)."""
        for lo in range(0, len(data), BLOCK):
            self.feed(data[lo:lo + BLOCK])

    def feed(self, block, has_quote: bool | None = None, has_cr: bool | None = None) -> None:
        """Count one block (bytes-like, at most ``BLOCK`` bytes). ``has_quote``/``has_cr``:
        whether the block may hold a ``"`` / a ``\\r`` (None: look)."""
        c = np.frombuffer(block, dtype=np.uint8)
        if not len(c):
            return
        if has_cr is None:
            has_cr = bytes(block).find(b"\r") >= 0 if not isinstance(block, bytes) else block.find(b"\r") >= 0
        if has_quote is None:
            has_quote = bytes(block).find(b'"') >= 0 if not isinstance(block, bytes) else block.find(b'"') >= 0
        if self._mask is None or len(self._mask) < len(c):
            self._mask = np.empty(max(len(c), BLOCK), dtype=bool)
        terminator = np.equal(c, _LF, out=self._mask[:len(c)])
        if has_cr:
            cr = c == _CR
            # A CR followed by an LF is one terminator with it (counted at the LF).
            cr[:-1] &= ~terminator[1:]
            terminator |= cr
        if self._pending_cr and c[0] == _LF:
            # The previous block's last CR and this LF are one CRLF: the CR was
            # counted as a terminator there; the LF here is not a second one, but
            # the next line starts after it.
            terminator[0] = False
            self._last_terminator = self._position
        n = int(np.count_nonzero(terminator))
        start = self._position
        if len(self._head) < _EDGE:
            self._head += bytes(block[:_EDGE - len(self._head)])
        self._tail = (self._tail + bytes(block[-_EDGE:]))[-_EDGE:]
        if n:
            first = int(terminator.argmax())
            last = _last_true(terminator)
            self._gap(start + first - self._last_terminator - 1, self._terminators + 1)
            if n > 1 and self._short_lines and self._longest < len(c):
                # A line inside the block: only worth finding when it could be the longest.
                positions = np.flatnonzero(terminator)
                gaps = np.diff(positions) - 1
                k = int(gaps.argmax())
                self._gap(int(gaps[k]), self._terminators + k + 2)
        if has_quote:
            self._quotes(c, terminator, start, n)
        elif not self._odd:
            self._outside += n
        elif n:
            # Every terminator here is inside an open quote.
            self._spanning = self._spanning or self._quote_line
        if n:
            self._last_terminator = start + last
        self._terminators += n
        self._position += len(c)
        self._pending_cr = bool(has_cr and c[-1] == _CR)
        self._last_byte = int(c[-1])

    def _gap(self, length: int, line: int) -> None:
        if length > self._longest:
            self._longest, self._longest_number = length, line

    def _quotes(self, c, terminator, start, n) -> None:
        quotes = np.flatnonzero(c == _QUOTE)
        ends = np.flatnonzero(terminator) if n else np.empty(0, dtype=np.int64)
        # Quotes before each terminator, and the parity inside the terminator's line.
        before = np.searchsorted(quotes, ends)
        inside = (before + self._odd) % 2 == 1
        self._outside += int(len(ends) - np.count_nonzero(inside))
        if inside.any() and self._spanning is None:
            k = int(inside.argmax())
            if before[k] == 0:
                self._spanning = self._quote_line
            else:
                opening = quotes[before[k] - 1]
                self._spanning = self._terminators + int(np.searchsorted(ends, opening)) + 1
        if len(quotes):
            odd_after = (self._odd + len(quotes)) % 2 == 1
            if odd_after:
                # The last quote of the block opens a value: remember its line.
                self._quote_line = self._terminators + int(np.searchsorted(ends, quotes[-1])) + 1
            self._odd = odd_after

    def result(self) -> Records:
        trailing = self._position > 0 and self._last_byte not in (_LF, _CR)
        if trailing:
            self._gap(self._position - self._last_terminator - 1, self._terminators + 1)
        lines = self._terminators + (1 if trailing else 0)
        records = self._outside + (1 if trailing and not self._odd else 0)
        if self._odd:
            # The open value runs to the end of the file: one more (unterminated) record.
            records += 1
        else:
            records -= _empty_lines(self._head.lstrip(b"\xef\xbb\xbf"), leading=True)
            if self._position > len(self._head) or self._head.strip(b"\r\n"):
                records -= _empty_lines(self._tail, leading=False)
        return Records(records=records, lines=lines, open_quote_line=self._quote_line if self._odd else None,
                       spanning_line=self._spanning, longest_line=self._longest,
                       longest_line_number=self._longest_number,
                       last_text_line=lines - _empty_lines(self._tail, leading=False))


def count_buffer(buffer, find=None, short_lines: bool = False) -> Records:
    """Count the records of a whole file held in memory or mapped (``mmap`` or bytes).

    ``find(sub, start, end)`` is the buffer's own fast search (``mmap.find``), used
    to skip quote and CR handling in blocks without them.
    """
    find = find or buffer.find
    counter = Counter(short_lines)
    size = len(buffer)
    whole = memoryview(buffer)
    try:
        any_cr = find(b"\r", 0, size) >= 0
        next_quote = find(b'"', 0, size)
        for lo in range(0, size, BLOCK):
            hi = min(lo + BLOCK, size)
            if 0 <= next_quote < lo:
                next_quote = find(b'"', lo, size)
            has_quote = 0 <= next_quote < hi
            block = whole[lo:hi]
            counter.feed(block, has_quote=has_quote, has_cr=any_cr and find(b"\r", lo, hi) >= 0)
            block.release()
    finally:
        whole.release()
    return counter.result()


def count_stream(handle, short_lines: bool = False) -> Records:
    """Count the records of a binary stream, read in blocks (constant memory)."""
    counter = Counter(short_lines)
    while True:
        block = handle.read(BLOCK)
        if not block:
            break
        counter.feed(block)
    return counter.result()


def _empty_lines(edge: bytes, leading: bool) -> int:
    """Empty lines at the start (``leading``) or the end of a file, from its first or last bytes."""
    run = edge[:len(edge) - len(edge.lstrip(b"\r\n"))] if leading else edge[len(edge.rstrip(b"\r\n")):]
    ends = run.count(b"\n") + run.count(b"\r") - run.count(b"\r\n")
    # At the start every terminator ends an empty line; at the end, the first one
    # ends the last line that has text.
    return ends if leading else max(ends - 1, 0)


def _last_true(mask: np.ndarray) -> int:
    """Position of the last True of a mask that has one (a reversed argmax is slow)."""
    window = 4096
    while True:
        found = np.flatnonzero(mask[-window:])
        if len(found) or window >= len(mask):
            return len(mask) - min(window, len(mask)) + int(found[-1])
        window *= 8
