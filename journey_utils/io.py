"""Reading and writing session files, with validation at the boundary.

``load_sessions`` either returns clean data or raises :class:`JourneyDataError`
naming the file, the column, the problem and the first offending lines. Where a
repair is safer than stopping, it repairs, warns with a count, and records the
repair in ``data.attrs["load_report"]`` so a report can show it. Nothing is
dropped silently: the fast parser's rows are reconciled with an independent
count of the file's records (:mod:`journey_utils._records`), and a file that is
not what its name says is diagnosed before it is parsed
(:mod:`journey_utils._sniff`).

``save_sessions`` keeps validated sessions in Parquet, signed, for a fast
re-read (:mod:`journey_utils._parquet`); ``save_journeys`` writes processed
journeys as CSV or Parquet; ``file_checksum`` tells two exports apart.

Line numbers are those of the file as a text editor shows them: the header is
line 1 when it is the first line, blank lines count, and a quoted value that
spans several lines moves the following rows down.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import json
import lzma
import mmap
import os
import re
import stat
import sys
import tarfile
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from journey_utils import _checks, _codes, _parquet, _records, _sniff
from journey_utils._checks import check_positive_int
from journey_utils.columns import PLAN, SESSION, SESSION_COLUMNS, TARGET, USER
from journey_utils.errors import JourneyError

__all__ = ["JourneyDataError", "JourneyDataWarning", "load_sessions", "save_sessions", "save_journeys", "load_report",
           "file_checksum", "REQUIRED_COLUMNS"]

REQUIRED_COLUMNS = SESSION_COLUMNS
EMPTY_JOURNEYS = ("drop", "keep")
#: The longest line ``load_sessions`` reads by default (64 MiB; a journey of 10,000 pages is about 100 KB).
MAX_FIELD_BYTES = 64 << 20
_SHOWN = 10
_INT64_MAX = str(np.iinfo(np.int64).max)
# Integers below this are exact in floating point.
_EXACT = 2**53

# Whitespace exactly as Python's str.isspace and Arrow's utf8_trim_whitespace see it
# (tabs, no-break spaces, ideographic spaces...), so detection and repair agree.
_SPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
_W = f"[{_SPACE}]"

# Errors a reader can raise on a file that is not a readable CSV: parser errors,
# bad bytes, unreadable or corrupt (compressed) files.
_READ_ERRORS = (ValueError, OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError,
                csv.Error, UnicodeError)

# Arrow parses a file in blocks of this many bytes, one block per task.
_BLOCK = 4 << 20
# The table is allocated with the C library's allocator rather than Arrow's default:
# measured on 10M sessions, about a fifth less resident memory and half the time in
# the kernel, because the parser's transient blocks are handed back instead of kept.
_POOL = pa.system_memory_pool()
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".lzma": lzma.open}
# Archives holding one CSV file, named as pandas recognises them.
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tar.bz2", ".tar.xz")
#: File names taken as parts of a folder export (case ignored).
PART_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".gz", ".bz2", ".xz", ".zst", ".zip",
                 ".tar", ".tar.gz", ".tar.bz2", ".tar.xz", ".parquet", ".pq")


class JourneyDataError(JourneyError, ValueError):
    """A session file that cannot be analysed as it is."""


class JourneyDataWarning(UserWarning):
    """A session file that was repaired while loading (the message counts what changed)."""


def load_sessions(path, *, empty_journeys="drop", multiline_values=False,
                  max_field_bytes=MAX_FIELD_BYTES) -> pd.DataFrame:
    """Read a session export and validate it.

    Expected columns (names matched ignoring case and surrounding spaces):
    ``user_id`` and ``session_id`` (non-negative integers), ``subscription_type``
    (the plan) and ``user_journey`` (pages joined by ``-``). Other columns are kept.
    The export is a CSV file (compressed files and archives recognised by file
    extension), a Parquet file (recognised by its content, whatever its name), or a
    folder of parts (see ``path``). A UTF-8 byte order mark, Windows line endings,
    quoted fields and blank lines are accepted. Ids are whole numbers however
    written: ``5``, `` 5 ``, ``+5`` and ``5.0`` all read as 5.

    Nothing is lost without a word: the rows the CSV parser returns are reconciled
    with an independent count of the file's records (line ends outside quotes,
    counted in one vectorised pass); where they differ, the file is read again by
    a careful reader, and still differing is an error naming the line, never a
    smaller frame.

    Repairs (each warns with a count and is listed in ``attrs["load_report"]``):

    - invisible and control characters (zero-width spaces and joiners, direction
      marks, NUL, ESC, VT...) are removed from plan and page names, and their
      letters composed (Unicode NFC), so names that look identical are identical;
    - spaces around page names and empty segments (``Homepage--Pricing``, a leading
      or trailing ``-``) are removed;
    - spaces around plan names are removed;
    - rows that repeat another row exactly are dropped;
    - rows whose journey is empty are dropped (``empty_journeys='drop'``) or kept as
      journeys of length 0 (``'keep'``, for processed files where a journey emptied
      by ``remove_pages`` still stands for a user).

    Plans whose names differ only in case (``Annual``, ``annual``) are kept apart,
    with a warning naming them (also in ``attrs["load_report"]["notes"]``).

    Errors (:class:`JourneyDataError`, a ``ValueError``): a missing, empty or
    unreadable file, or one that is not a regular file (a FIFO, a device); a file
    that is something else than its name says, each with what it is and what to do
    (compressed under a plain name, an Excel workbook, UTF-16 or UTF-32 text, CSV
    delimited by ``;``, tabs or ``|``); text that is not UTF-8; a quote left open;
    a value holding a line break (unless ``multiline_values=True``); a line longer
    than ``max_field_bytes``; a missing or repeated column, a row with more or fewer
    fields than the header, a file with no session rows (or, with
    ``empty_journeys='drop'``, none with a journey), ids that are not non-negative
    integers (or do not fit in 64 bits), a missing plan, two rows for one
    (user_id, session_id) that disagree, and a user with more than one plan. Each
    message names the file, the column, the problem and the first lines concerned
    (rows, for Parquet; ``part:line`` for a folder of parts).

    Parameters
    ----------
    path : str or path-like
        CSV file, optionally compressed (``.gz``, ``.bz2``, ``.xz``, ``.zst``), or the
        one file in a ``.zip`` or ``.tar`` archive (``.tar.gz``, ``.tar.bz2``, ``.tar.xz``);
        a Parquet file; or a folder whose files are the parts of one export (CSV,
        compressed too, or Parquet; read in name order and checked as one table;
        files starting with ``.`` or ``_`` are skipped, anything else is an error).
        A Parquet file written by :func:`save_sessions` and unchanged since is read
        as it was saved, without checking it again.
    empty_journeys : {'drop', 'keep'}, default 'drop'
        What to do with sessions whose journey is empty.
    multiline_values : bool, default False
        Accept values holding line breaks (quoted, over several lines). By default
        such a value is an error: no page or plan name holds a line break, and a
        stray quote joins the lines after it, other rows included, into one value.
    max_field_bytes : int or None, default 64 MiB
        The longest line accepted (``None``: any). Checked from the record count
        before the careful reader parses anything, so a pathological line (a small
        ``.gz`` holding hundreds of MB on one line) is refused with a message instead
        of taking several times its size in memory.

    Returns
    -------
    DataFrame
        Columns ``user_id``, ``session_id`` (int64), ``subscription_type``,
        ``user_journey`` (str), then any extra columns, in file order. The load
        report is in ``attrs["load_report"]`` (see :func:`load_report`): ``path``,
        ``rows_read``, ``rows_kept``, ``users``, ``repairs``, and ``parts`` for a
        folder, ``notes`` for warnings that changed nothing, ``checksum`` for
        sessions saved by :func:`save_sessions`.

    Notes
    -----
    Large files are parsed, and their journeys split into pages, on as many
    threads as Arrow uses (``pyarrow.cpu_count()``); ``pyarrow.set_cpu_count(1)``
    keeps everything on one thread. The split is remembered, so preprocessing and
    metrics on the returned frame do not split the journeys again; it is forgotten
    when the frame (and every frame sharing its journey column) is deleted.

    The record count runs on another thread while a plain file is parsed, and on
    the bytes the parser reads from a compressed file; it costs a few percent of
    the load. A file whose count and parse disagree,
    or that holds a quote inside an unquoted value (``Size 5"``), is read by the
    careful reader and, where they still differ, by the ``csv`` module, which
    takes a few seconds per million rows.

    Examples
    --------
    >>> import journey_utils as ju
    >>> sessions = ju.load_sessions(ju.SAMPLE_PATH)
    >>> list(sessions.columns[:4])
    ['user_id', 'session_id', 'subscription_type', 'user_journey']
    """
    if empty_journeys not in EMPTY_JOURNEYS:
        raise ValueError(f"load_sessions: empty_journeys must be 'drop' or 'keep'; found {empty_journeys!r}")
    if max_field_bytes is not None:
        max_field_bytes = check_positive_int(max_field_bytes, "max_field_bytes", "load_sessions")
    path = Path(os.fspath(path))
    name = str(path)
    if path.is_dir():
        parts = _part_files(path, name)
    else:
        _check_file(path, name)
        parts = [path]
        if _parquet.is_parquet(path):
            saved = _read_saved(path, empty_journeys)
            if saved is not None:
                return saved
    # A part's own problems (unreadable, not UTF-8, ragged rows...) are named by the
    # part's path; problems across rows by the folder's, with each part and line.
    options = {"multiline_values": bool(multiline_values), "max_field_bytes": max_field_bytes}
    pieces = [_read_part(part, str(part) if part != path else name, options) for part in parts]
    piece = _combine(pieces, name) if path.is_dir() else pieces[0]
    data, lines = piece.data, piece.lines
    if len(data) == 0:
        _fail(name, None, "the file has a header but no session rows" if len(pieces) == 1
              else f"the {len(pieces)} parts have a header but no session rows")
    report = {"path": name, "rows_read": len(data), "repairs": []}
    if path.is_dir():
        report["parts"] = [part.name for part in parts]

    for column in (USER, SESSION):
        text = lambda column=column: piece.id_text(column)  # noqa: E731
        data[column] = _integer_ids(data[column], name, column, lines, text)
    data[PLAN] = _plans(_clean_plans(data[PLAN], name, report, lines), name, report, lines)
    _warn_case(data[PLAN], name, report, lines)
    data[TARGET] = _journeys(_clean_journeys(data[TARGET], name, report, lines), name, report, lines)

    empty = _empty_rows(data[TARGET])
    if len(empty) == len(data) and empty_journeys == "drop":
        _fail(name, TARGET, f"every session's journey is empty ({len(empty)} sessions); nothing to analyse",
              empty, lines)
    if len(empty) and empty_journeys == "drop":
        _repair(report, name, TARGET, "empty journey", "dropped the session", empty, lines, dropped=True)
        data = data.drop(index=data.index[empty])
    elif len(empty):
        _repair(report, name, TARGET, "empty journey", "kept as a journey of length 0", empty, lines, warn=False)

    data, users = _check_users(data, name, report, lines)

    extras = [c for c in data.columns if c not in REQUIRED_COLUMNS]
    data = data[list(REQUIRED_COLUMNS) + extras].reset_index(drop=True)
    report["rows_kept"] = len(data)
    report["users"] = users
    data.attrs["load_report"] = report
    return data


# --- reporting ---------------------------------------------------------------------


def _fail(name, column, problem, positions=None, lines=None) -> None:
    where = f", column '{column}'" if column else ""
    at = f" ({_describe(lines.of(positions), len(positions), lines.unit)})" if lines and len(positions) else ""
    raise JourneyDataError(f"{name}{where}: {problem}{at}")


def _describe(numbers, total, unit="line") -> str:
    """``line 5``, ``lines 2, 3 and 8 more`` (``unit`` 'row' for files without lines)."""
    shown = ", ".join(str(n) for n in numbers[:_SHOWN])
    more = total - min(len(numbers), _SHOWN)
    return (f"{unit} " if total == 1 else f"{unit}s ") + shown + (f" and {more} more" if more > 0 else "")


def _repair(report, name, column, problem, action, positions, lines, *, warn=True, dropped=False) -> None:
    positions = np.asarray(positions)
    first = lines.of(positions)
    entry = {"column": column, "problem": problem, "action": action, "rows": int(len(positions)),
             "lines": first, "dropped": int(len(positions)) if dropped else 0}
    report["repairs"].append(entry)
    if warn:
        rows = f"{len(positions)} row{'' if len(positions) == 1 else 's'}"
        warnings.warn(f"{name}, column '{column}': {problem} in {rows}: {action} "
                      f"({_describe(first, len(positions), lines.unit)})", JourneyDataWarning,
                      stacklevel=_outside())


def _outside() -> int:
    """The stack level of the first caller outside this module, for warnings."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    return level


class _Lines:
    """File line numbers of data rows, found by scanning the file only when needed.

    Until something is reported nothing is scanned; a clean file costs nothing.
    When the scan and the CSV reader disagree on the number of rows (a file too
    odd to map with confidence), row order stands in: row ``i`` is line ``i + 2``.
    """

    unit = "line"

    def __init__(self, path: Path):
        self.path = path
        self.rows = None
        self._scan = None

    def scan(self):
        """``(start line of every data row, fields in every data row)``, or None."""
        if self._scan is None:
            self._scan = _scan(self.path) or (None, None)
        return self._scan

    def starts(self):
        starts, _ = self.scan()
        if starts is None or (self.rows is not None and len(starts) != self.rows):
            return None
        return starts

    def of(self, positions) -> list[int]:
        """Line numbers of the first rows at ``positions`` (row positions in the file)."""
        positions = np.asarray(positions, dtype=np.int64)[:_SHOWN]
        starts = self.starts()
        if starts is not None and (positions < len(starts)).all():
            return [int(n) for n in starts[positions]]
        return [int(p) + 2 for p in positions]


class _Rows:
    """Row numbers (from 1) of a file without lines, such as Parquet."""

    unit = "row"

    def __init__(self, rows: int):
        self.rows = rows

    def scan(self):
        return None, None

    def starts(self):
        return None

    def of(self, positions) -> list[int]:
        return [int(p) + 1 for p in np.asarray(positions, dtype=np.int64)[:_SHOWN]]


class _PartLines:
    """Where rows of several parts read one after the other are: ``part-2.csv:5``."""

    def __init__(self, pieces, offsets: np.ndarray):
        self._pieces, self._offsets = pieces, offsets
        self.unit = "line" if any(p.lines.unit == "line" for p in pieces) else "row"

    def of(self, positions) -> list[str]:
        positions = np.asarray(positions, dtype=np.int64)[:_SHOWN]
        found = []
        for position in positions:
            number = int(np.searchsorted(self._offsets, position, side="right")) - 1
            piece = self._pieces[number]
            [line] = piece.lines.of([position - self._offsets[number]])
            found.append(f"{piece.path.name}:{line}")
        return found


class _Piece:
    """One file read: its rows, their column names, where each row is, its ids as text."""

    def __init__(self, path: Path, data: pd.DataFrame, names: list[str], lines, id_text):
        self.path, self.data, self.names, self.lines, self.id_text = path, data, names, lines, id_text


def _check_file(path: Path, name: str) -> None:
    """Stop unless ``path`` is a regular file (or a folder, handled elsewhere)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        _fail(name, None, "file not found")
    except OSError as error:
        _fail(name, None, f"cannot be read: {_reason(error)}")
    if not stat.S_ISREG(mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
                else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "special")
        _fail(name, None, f"not a regular file ({kind}); expected a session export: a file, or a folder of parts")


def _part_files(folder: Path, name: str) -> list[Path]:
    """The parts of a folder export in name order: its CSV (compressed too) and Parquet files.

    Hidden files and files whose name starts with ``_`` (``_SUCCESS``, ``.part-0.crc``)
    are not parts; any other file or folder in it is an error, so that nothing is
    left out unsaid.
    """
    parts, other = [], []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith((".", "_")):
            continue
        if entry.name.lower().endswith(PART_SUFFIXES) and entry.is_file():
            parts.append(entry)
        else:
            other.append(entry.name + ("/" if entry.is_dir() else ""))
    if other:
        shown = ", ".join(repr(n) for n in other[:_SHOWN]) + (f" and {len(other) - _SHOWN} more" if len(other) > _SHOWN
                                                            else "")
        _fail(name, None, f"a folder of parts must hold only CSV files (compressed too) or Parquet files; "
              f"found {shown}")
    if not parts:
        _fail(name, None, "not a file but a folder, with no CSV or Parquet part in it; expected a session export: "
              "a file, or a folder of parts")
    return parts


def _read_part(path: Path, name: str, options: dict) -> _Piece:
    """One file (a whole export, or one part of a folder) read and checked on its own."""
    _check_file(path, name)
    if path.stat().st_size == 0:
        _fail(name, None, f"the file is empty; expected a header line with {', '.join(REQUIRED_COLUMNS)}")
    if _parquet.is_parquet(path):
        return _read_parquet(path, name)
    _diagnose(path, name)
    lines = _Lines(path)
    names = _header(path, name)
    data, records = _read(path, name, names, lines, options)
    lines.rows = len(data)
    if len(data):
        _check_fields(data, name, names, lines)
    _reconcile(name, data, records, lines)
    if records is not None and (records.spanning_line is not None or records.open_quote_line is not None):
        _check_line_breaks(data, name, lines, options)
    return _Piece(path, data, names, lines, lambda column: _id_text(path, name, names, column))


def _diagnose(path: Path, name: str) -> None:
    """Stop, saying what the file is, when it is not the UTF-8 CSV text its name says."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_sniff.HEAD)
    except OSError as error:
        _fail(name, None, f"cannot be read: {_reason(error)}")
    problem = _sniff.container(head, [s.lower() for s in path.suffixes])
    if problem:
        _fail(name, None, problem)
    try:
        with _open(path, "b") as handle:
            head = handle.read(_sniff.HEAD)
            if not any(mark in head for mark in (b"\n", b"\r")) and len(head) == _sniff.HEAD:
                head += handle.read(_sniff.LONGEST_HEADER - len(head))
    except _READ_ERRORS:
        # A corrupt archive or compressed file: the reader says so.
        return
    problem = _sniff.encoding(head)
    if problem:
        _fail(name, None, problem)
    if not any(mark in head for mark in (b"\n", b"\r")) and len(head) == _sniff.LONGEST_HEADER:
        _fail(name, None, f"the first line is longer than {_size(_sniff.LONGEST_HEADER)} without a line break; "
              f"expected a header line with {', '.join(REQUIRED_COLUMNS)}")


def _check_line_breaks(data: pd.DataFrame, name: str, lines: _Lines, options: dict) -> None:
    """Stop on values holding a line break, unless ``multiline_values=True``.

    No page or plan name holds one: such a value is nearly always a quote left
    open, which joins the lines after it (other rows among them) into one value.
    """
    if options["multiline_values"]:
        return
    for column in data.columns:
        values = data[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        text = pa.array(values.astype("str"), type=pa.large_string(), from_pandas=True)
        broken = pc.match_substring_regex(text, "[\r\n]").to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(broken)
        if not len(rows):
            continue
        shown = [str(v) for v in values.iloc[rows[:_SHOWN]]]
        breaks = [len(re.findall(r"\r\n|\r|\n", v)) for v in shown]
        swallowed = pc.match_substring_regex(text.take(pa.array(rows)), _ROW_INSIDE).to_numpy(zero_copy_only=False)
        starts = lines.of(rows)
        spans = ", ".join(f"{start}-{start + n}" if isinstance(start, int) else f"{start} (+{n})"
                          for start, n in zip(starts, breaks))
        more = len(rows) - len(starts)
        what = {PLAN: "which no plan name has", TARGET: "which no page name has"}.get(
            column, "which no value of a session export is expected to hold")
        inside = (f", and {int(swallowed.sum())} of them hold what look like other rows (ids after a line break)"
                  if swallowed.any() else "")
        _fail(name, column, f"{len(rows)} value{'s hold' if len(rows) > 1 else ' holds'} a line break, "
              f"{what}{inside}: a quote left open joins the lines after it into one value "
              f"(the first holds {breaks[0]} line break{'s' if breaks[0] != 1 else ''} and {len(shown[0]):,} "
              f"characters). Fix the quotes, or pass multiline_values=True if the line breaks are meant "
              f"({lines.unit}s {spans}{f' and {more} more' if more > 0 else ''})")


# A line break followed by two numbers and commas: the start of another row.
_ROW_INSIDE = r"[\r\n][ \t]*\"?[+]?[0-9]+\"?[ \t]*,[ \t]*\"?[+]?[0-9]+\"?[ \t]*,"


def _combine(pieces: list[_Piece], name: str) -> _Piece:
    """The parts' rows one after the other; every part must have the first part's columns."""
    first = pieces[0]
    for piece in pieces[1:]:
        if piece.names != first.names:
            _fail(str(piece.path), None, f"the columns ({', '.join(piece.names)}) differ from those of the first "
                  f"part, {first.path.name} ({', '.join(first.names)}); every part must have the same columns")
    sizes = np.array([len(p.data) for p in pieces], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    frames = [p.data for p in pieces]
    # Parts read with ids as text (to name a bad one) and parts read as integers
    # concatenate into text, which the id check reads.
    if len({str(f[c].dtype) for f in frames for c in (USER, SESSION)}) > 1:
        frames = [f.astype({USER: "str", SESSION: "str"}) for f in frames]
    data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)

    def id_text(column):
        return pd.concat([p.id_text(column) for p in pieces], ignore_index=True)

    return _Piece(Path(name), data, first.names, _PartLines(pieces, offsets), id_text)


def _read_parquet(path: Path, name: str) -> _Piece:
    """A Parquet file that ``save_sessions`` did not sign, made ready for the same checks as CSV.

    Ids of an integer type are used as they are; any other type (text, floating
    point, an integer type with missing values or beyond int64) is turned into text
    for the id check to judge. Plans and journeys of another type than text are
    turned into text; a missing value becomes an empty one (an empty journey, or a
    session with no plan). Rows are numbered from 1.
    """
    try:
        table = pq.read_table(path, memory_map=True)
    except (pa.ArrowException, OSError, ValueError) as error:
        _fail(name, None, f"not a readable Parquet file: {_reason(error)}")
    # An unnamed pandas index saved with the frame is not part of the export.
    table = table.drop_columns([c for c in table.column_names if re.fullmatch(r"__index_level_\d+__", str(c))])
    names = _names([str(c) for c in table.column_names], name)
    table = table.rename_columns(names)
    for column in REQUIRED_COLUMNS:
        values = table[column]
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        if column in (USER, SESSION) and _fits_int64(values):
            values = values.cast(pa.int64())
        elif not (pa.types.is_large_string(values.type) or pa.types.is_string(values.type)):
            try:
                values = values.cast(pa.large_string())
            except pa.ArrowException as error:
                _fail(name, column, f"values of type {values.type} cannot be read as text: {_reason(error)}")
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            try:
                values.validate(full=True)
            except pa.ArrowException:
                bad = _not_utf8(values)
                _fail(name, column, f"not UTF-8 text in {len(bad)} rows; save the text as UTF-8", bad,
                      _Rows(len(table)))
            values = pc.fill_null(values, "")
        table = table.set_column(names.index(column), column, values)
    data = table.to_pandas()
    originals = {column: data[column] for column in (USER, SESSION)}
    return _Piece(path, data, names, _Rows(len(data)), lambda column: originals[column].astype("str"))


def _fits_int64(values: pa.ChunkedArray) -> bool:
    """Whether an id column is of an integer type, has no missing value and fits in int64."""
    if not pa.types.is_integer(values.type) or values.null_count:
        return False
    if values.type == pa.uint64() and len(values):
        return pc.max(values).as_py() <= np.iinfo(np.int64).max
    return True


def _not_utf8(values: pa.ChunkedArray) -> np.ndarray:
    """Positions of the values that are not valid UTF-8."""
    binary = values.cast(pa.large_binary())
    found, start = [], 0
    for chunk in binary.chunks:
        for i, value in enumerate(chunk.to_pylist()):
            if value is not None:
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    found.append(start + i)
        start += len(chunk)
    return np.asarray(found, dtype=np.int64)


def _read_saved(path: Path, empty_journeys: str) -> pd.DataFrame | None:
    """Sessions written by ``save_sessions`` and unchanged since, read without checking them again.

    None when the file is not such a file (or was changed), or holds empty journeys
    that ``empty_journeys='drop'`` asks to drop: then it is checked like any export.
    """
    try:
        parquet = pq.ParquetFile(path, memory_map=True)
        description = _parquet.signed_description(path, parquet.metadata)
        if description is None or (description.get("empty_journeys") and empty_journeys == "drop"):
            return None
        data = parquet.read(use_threads=True).to_pandas()
    except (pa.ArrowException, OSError, ValueError):
        return None
    if list(data.columns[:4]) != list(REQUIRED_COLUMNS) or len(data) != description.get("rows"):
        return None
    data.attrs["load_report"] = description["report"]
    return data


def _archive(path: Path) -> str | None:
    """'zip' or 'tar' when the file is an archive holding the CSV file, else None."""
    name = path.name.lower()
    if name.endswith(".zip"):
        return "zip"
    return "tar" if name.endswith(_TAR_SUFFIXES) else None


def _open(path: Path, mode: str):
    """The file as text (``mode='t'``) or bytes (``'b'``), decompressed or taken out of its archive."""
    suffix, archive = path.suffix.lower(), _archive(path)
    if archive or suffix == ".zst":
        if archive:
            raw = _open_zip(path) if archive == "zip" else _open_tar(path)
        else:
            raw = io.BufferedReader(pa.input_stream(str(path), "zstd"))
        return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") if mode == "t" else raw
    opener = _OPENERS.get(suffix, open)
    if mode == "t":
        return opener(path, "rt", encoding="utf-8-sig", newline="")
    return opener(path, "rb")


def _open_zip(path: Path):
    """The one file in a zip archive, as pandas reads it."""
    with zipfile.ZipFile(path) as archive:
        members = [member for member in archive.infolist() if not member.is_dir()]
        if len(members) != 1:
            raise ValueError(f"a .zip archive must hold exactly one file; this one holds {len(members)}")
        # The member keeps the archive's file open after the archive is closed.
        return archive.open(members[0])


class _TarMember(io.BufferedReader):
    """The one file of a tar archive; closing it closes the archive, which its reads need."""

    def __init__(self, archive: tarfile.TarFile, member: tarfile.TarInfo):
        super().__init__(archive.extractfile(member))
        self._archive = archive

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._archive.close()


def _open_tar(path: Path):
    """The one file in a tar archive (compressed or not), as pandas reads it."""
    archive = tarfile.open(path, "r:*")
    try:
        members = [member for member in archive.getmembers() if member.isfile()]
        if len(members) != 1:
            raise ValueError(f"a .tar archive must hold exactly one file; this one holds {len(members)}")
        return _TarMember(archive, members[0])
    except BaseException:
        archive.close()
        raise


@contextmanager
def _pandas_input(path: Path):
    """What pandas reads: the path, or the bytes of the file inside an archive (so that
    every reader takes the same file) or of a .zst file (which pandas reads only with
    an extra package)."""
    if path.suffix.lower() != ".zst" and not _archive(path):
        yield path
        return
    with _open(path, "b") as handle:
        yield handle


def _is_blank(row) -> bool:
    # The CSV reader skips empty lines and lines of spaces and tabs only.
    return not row or (len(row) == 1 and not row[0].strip(" \t"))


def _scan(path: Path):
    """Start line and number of fields of every data row, read with the csv module."""
    # A journey can be longer than the csv module's default field limit (128 KiB).
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(max(limit, 2**31 - 1))
        starts, widths = [], []
        with _open(path, "t") as handle:
            reader = csv.reader(handle)
            previous, header = 0, False
            for row in reader:
                start, previous = previous + 1, reader.line_num
                if _is_blank(row):
                    continue
                if header:
                    starts.append(start)
                    widths.append(len(row))
                header = True
    except _READ_ERRORS:
        return None
    finally:
        csv.field_size_limit(limit)
    return np.asarray(starts, dtype=np.int64), np.asarray(widths, dtype=np.int64)


# --- reading -------------------------------------------------------------------------


def _header(path: Path, name: str) -> list[str]:
    """Column names to read with: the required ones canonical, extras as written."""
    try:
        with _pandas_input(path) as source:
            raw = pd.read_csv(source, header=None, nrows=1, dtype=str, keep_default_na=False, na_values=[],
                              encoding="utf-8-sig", index_col=False)
    except pd.errors.EmptyDataError:
        _fail(name, None, f"no header line; expected columns {', '.join(REQUIRED_COLUMNS)}")
    except UnicodeDecodeError as error:
        _fail_encoding(path, name, error)
    except _READ_ERRORS as error:
        _fail(name, None, f"could not be read as CSV: {_reason(error)}")
    return _names([str(c) for c in raw.iloc[0].tolist()] if len(raw) else [], name)


def _names(found: list[str], name: str) -> list[str]:
    """Column names to read with, from the names in the file (see :func:`_header`)."""
    normalised = [c.strip().lower() for c in found]
    missing = [c for c in REQUIRED_COLUMNS if c not in normalised]
    if missing:
        problem = _sniff.delimiter(",".join(found), REQUIRED_COLUMNS)
        if problem:
            _fail(name, None, problem)
        shown = ", ".join(repr(c) for c in found)
        _fail(name, missing[0], f"required column{'s' if len(missing) > 1 else ''} "
              f"{', '.join(missing)} not found; columns in the file: {shown}")
    doubled = [c for c in REQUIRED_COLUMNS if normalised.count(c) > 1]
    if doubled:
        _fail(name, doubled[0], "the column appears more than once in the header")
    names = []
    for position, (original, key) in enumerate(zip(found, normalised)):
        label = key if key in REQUIRED_COLUMNS else (original or f"Unnamed: {position}")
        unique, copy = label, 0
        while unique in names or (unique != label and unique in REQUIRED_COLUMNS):
            copy += 1
            unique = f"{label}.{copy}"
        names.append(unique)
    return names


def _read_fast(path: Path, names: list[str], counted: dict) -> pd.DataFrame | None:
    """The common case, a clean four-column file, read by Arrow's multi-threaded parser.

    Anything unusual (a ragged row, an id that is not a plain integer, bytes that
    are not UTF-8, extra columns whose types pandas would infer differently) makes
    it give up, and the careful reader below runs instead and explains the problem.

    The file's records are counted independently of the parser as it reads (see
    :mod:`journey_utils._records`), into ``counted["records"]``: on a mapped file
    on another thread, on a compressed file or an archive from the bytes the
    parser is given.
    """
    if sorted(names) != sorted(REQUIRED_COLUMNS):
        return None
    try:
        if _archive(path) or _compressed(path):
            # Arrow opens no archives: it parses the one member as a stream. Compressed
            # files are decompressed here too, so that the count sees the same bytes.
            with _open(path, "b") if _archive(path) else pa.input_stream(str(path), compression="detect") as raw:
                counting = _Counting(raw)
                table = _parse(pa.PythonFile(counting, mode="r"), names, text_ids=True)
                counting.drain()
                counted["records"] = counting.counter.result()
        else:
            # A plain file is mapped rather than read: the parser works on the page
            # cache (it copies the values it keeps, so the map is closed right after),
            # and one fast byte search over the same map decides how to parse the ids.
            with open(path, "rb") as handle:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                # The search runs while Arrow parses (ids as integers); in the rare file
                # with an 'x' the ids alone are parsed again, as text, to check them.
                with ThreadPoolExecutor(1) as pool:
                    hex_possible = pool.submit(_count_and_search, mapped, counted)
                    table = _parse(pa.BufferReader(pa.py_buffer(mapped)), names, text_ids=False)
                    if hex_possible.result():
                        id_text = _parse(pa.BufferReader(pa.py_buffer(mapped)), names, text_ids=True,
                                         columns=[USER, SESSION])
                        if any(_plain_ids(id_text[column]) is None for column in (USER, SESSION)):
                            return None
                        del id_text
            finally:
                try:
                    mapped.close()
                except BufferError:
                    # Something (a traceback awaiting garbage collection) still holds the
                    # parser's view of the map: it is unmapped when that is released.
                    pass
        # The frame shares the table's memory. What is remembered below belongs to its
        # columns, and is forgotten with them.
        data = table.to_pandas()
        # The journeys are split and the plans labelled (both remembered for later) on
        # other threads while this one checks ids read as text. Both decode their
        # distinct page names and plans to Python, which raises on bytes that are not
        # UTF-8; as a '-' is never part of a multi-byte character, every byte of a
        # journey lies in one of its pages, and ids are ASCII.
        with ThreadPoolExecutor(min(2, max(1, pa.cpu_count()))) as pool:
            split = pool.submit(_codes.split, data[TARGET])
            labelled = pool.submit(_codes.labels, data[PLAN])
            ids = {column: _plain_ids(table[column]) for column in (USER, SESSION)}
            coded, _ = split.result()
            _, plans = labelled.result()
        if any(column is None for column in ids.values()):
            return None
        for column, values in ids.items():
            if not pa.types.is_integer(table.schema.field(column).type):
                data[column] = values.to_numpy()
    except (pa.ArrowException, *_READ_ERRORS):
        return None
    # A line break inside a value (or a quote left open to the end of the file)
    # deserves the careful reader's judgement. Checked on the distinct page names
    # and plans: cheap.
    for values in (pa.array(coded.pages, type=pa.large_string()), pa.array(plans, type=pa.large_string())):
        # Only text that is not plain printable ASCII can hold a line break.
        unusual = values.filter(pc.invert(pc.ascii_is_printable(values)))
        if len(unusual) and pc.any(pc.match_substring_regex(unusual, "[\r\n]")).as_py():
            return None
    return data


def _parse(source, names: list[str], text_ids: bool, columns=None) -> pa.Table:
    """The file parsed in parallel by Arrow: ids as int64 (or as text), the rest as text.

    ``columns`` limits the table to those columns (the file is still read whole).
    """
    types = {column: pa.large_string() for column in names}
    if not text_ids:
        types.update({USER: pa.int64(), SESSION: pa.int64()})
    return pa_csv.read_csv(
        source,
        # Blocks of a few MB: fewer chunks, and measurably less time in page faults.
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=_BLOCK),
        # Without line breaks inside values the parser splits the file in parallel;
        # a file that has them fails here and goes to the careful reader.
        parse_options=pa_csv.ParseOptions(newlines_in_values=False),
        # UTF-8 is checked on the distinct values only (see _read_fast), not on every row.
        convert_options=pa_csv.ConvertOptions(column_types=types, include_columns=columns,
                                              null_values=[], strings_can_be_null=False,
                                              quoted_strings_can_be_null=False, check_utf8=False),
        memory_pool=_POOL,
    )


def _compressed(path: Path) -> bool:
    """Whether Arrow would decompress the file, judging by its extension as Arrow does."""
    try:
        return pa.Codec.detect(str(path)) is not None
    except (TypeError, ValueError, pa.ArrowException):
        return path.suffix.lower() in _OPENERS


class _Counting(io.RawIOBase):
    """A binary stream that counts the records of what is read through it."""

    def __init__(self, raw):
        super().__init__()
        self._raw = raw
        self.counter = _records.Counter()

    def readable(self) -> bool:
        return True

    def read(self, size=-1):
        data = self._raw.read(size)
        if data:
            self.counter.feed_any(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Count what the parser left unread (nothing, normally)."""
        while self.read(_records.BLOCK):
            pass


def _count_and_search(mapped: mmap.mmap, counted: dict) -> bool:
    """Count the mapped file's records (into ``counted``) and say whether it may hold a hexadecimal id."""
    counted["records"] = _records.count_buffer(mapped, mapped.find)
    return _may_hold_hex(mapped)


def _count(path: Path) -> _records.Records | None:
    """The file's records counted on their own (None when the file cannot be read)."""
    try:
        if not (_archive(path) or _compressed(path) or path.suffix.lower() == ".zst"):
            with open(path, "rb") as handle:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                return _records.count_buffer(mapped, mapped.find)
            finally:
                mapped.close()
        with _open(path, "b") as raw:
            return _records.count_stream(raw)
    except (*_READ_ERRORS, pa.ArrowException):
        return None


def _may_hold_hex(mapped: mmap.mmap) -> bool:
    """Whether the file has an 'x' or 'X' anywhere, so that an id could be hexadecimal.

    Arrow's integer parser reads '0x1F' as 31; an id must be decimal. A byte search
    of the mapped file costs far less than parsing the ids as text to check them.
    """
    return mapped.find(b"x") >= 0 or mapped.find(b"X") >= 0


def _plain_ids(ids: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The ids as int64 when every one is written as plain digits, else None.

    Arrow's own integer conversion would also accept spellings such as hexadecimal.
    """
    if pa.types.is_integer(ids.type):
        return ids
    if not pc.all(pc.ascii_is_decimal(ids)).as_py():
        return None
    return pc.cast(ids, pa.int64())


def _read(path: Path, name: str, names: list[str], lines: _Lines, options: dict):
    """The file's rows and its records counted independently: ``(data, records)``.

    Arrow's rows are taken only when they agree with the count; otherwise (and for
    anything unusual) pandas' careful reader runs, after the count has shown that
    no line is longer than ``options['max_field_bytes']``.
    """
    counted = {}
    fast = _read_fast(path, names, counted)
    records = counted.get("records")
    if fast is not None and records is not None and _agrees(records, len(fast)):
        _check_longest(name, records, options)
        return fast, records
    del fast
    if records is None:
        records = _count(path)
    if records is not None:
        _check_longest(name, records, options)
    return _read_careful(path, name, names, lines, records), records


def _agrees(records: _records.Records, rows: int) -> bool:
    """Whether a reader's row count is the independent count, with no quote left open."""
    return records.open_quote_line is None and records.records - 1 == rows


def _check_longest(name: str, records: _records.Records, options: dict) -> None:
    limit = options["max_field_bytes"]
    if limit is not None and records.longest_line > limit:
        _fail(name, None, f"line {records.longest_line_number} is {_size(records.longest_line)} long, longer than "
              f"any value may be ({_size(limit)}, max_field_bytes); such a line is not a session, and reading it "
              f"would take several times its size in memory. Pass max_field_bytes={records.longest_line} (or None) "
              "to read it anyway")


def _size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count:,} bytes"


def _read_careful(path: Path, name: str, names: list[str], lines: _Lines, records, ids: str = "int64"):
    dtype = {USER: ids, SESSION: ids, PLAN: "str", TARGET: "str"}
    try:
        with _pandas_input(path) as source:
            data = pd.read_csv(source, header=0, names=names, dtype=dtype, keep_default_na=False, na_values=[],
                               encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        _fail_encoding(path, name, error)
    except pd.errors.ParserError as error:
        if records is not None and records.open_quote_line is not None:
            _fail_open_quote(name, records, None)
        _fail_ragged(name, len(names), lines)
        _fail(name, None, f"could not be parsed as CSV: {_reason(error)}")
    except (ValueError, OverflowError, TypeError) as error:
        if ids == "str" or isinstance(error, pd.errors.EmptyDataError):
            _fail(name, None, f"could not be read as CSV: {_reason(error)}")
        # Some id is not an integer: read ids as text to find and name the lines.
        return _read_careful(path, name, names, lines, records, ids="str")
    except _READ_ERRORS as error:
        _fail(name, None, f"could not be read as CSV: {_reason(error)}")
    if not isinstance(data.index, pd.RangeIndex):
        # The first row had more fields than the header, so the reader made an index of it.
        _fail_ragged(name, len(names), lines)
        _fail(name, None, f"the first session row has more fields than the header ({len(names)})")
    return data


def _fail_open_quote(name: str, records: _records.Records, rows) -> None:
    line = records.open_quote_line
    read = f"; the CSV reader returned {rows:,} rows" if rows is not None else ""
    _fail(name, None, f"could not be parsed as CSV: a quote opened on line {line} is never closed, so every line "
          f"after it (to line {records.lines:,}) would be part of one value{read}; nothing was loaded rather than "
          f"part of the file. Close or remove the quote on line {line}")


def _reconcile(name: str, data: pd.DataFrame, records, lines: _Lines) -> None:
    """Stop unless the rows read are the file's records, counted independently.

    Where the count (quotes by parity) and the reader disagree, the ``csv`` module's
    exact reading decides: a quote inside an unquoted value (``Size 5"``) is text to
    every reader but upsets parity.
    """
    rows = len(data)
    if records is None or _agrees(records, rows):
        return
    starts, _ = lines.scan()
    if starts is not None and len(starts) == rows:
        # With a quote left open, only when the last row starts on the last line of
        # text, so that it swallowed nothing.
        if records.open_quote_line is None or (rows and starts[-1] >= records.last_text_line):
            return
    if records.open_quote_line is not None:
        _fail_open_quote(name, records, rows)
    where = (f"; the first value that spans lines opens on line {records.spanning_line}"
             if records.spanning_line is not None else "")
    _fail(name, None, f"the CSV reader returned {rows:,} rows but the file holds {records.records - 1:,} records "
          f"(counted independently, a line break inside quotes not ending one){where}; nothing was loaded rather "
          "than part of the file")


def _id_text(path: Path, name: str, names: list[str], column: str) -> pd.Series:
    try:
        with _pandas_input(path) as source:
            return pd.read_csv(source, header=0, names=names, usecols=[column], dtype={column: "str"},
                               keep_default_na=False, na_values=[], encoding="utf-8-sig")[column]
    except _READ_ERRORS as error:
        _fail(name, column, f"could not be read as CSV: {_reason(error)}")


def _check_fields(data: pd.DataFrame, name: str, names: list[str], lines: _Lines) -> None:
    # The reader pads a short row with empty fields, so only a row whose last field is
    # empty can be short; the scan says which of those really are.
    last = data[names[-1]]
    if pd.api.types.is_numeric_dtype(last) or not (last.astype("str") == "").any():
        return
    if lines.starts() is not None:
        _fail_ragged(name, len(names), lines)


def _fail_ragged(name: str, n_fields: int, lines: _Lines) -> None:
    starts, widths = lines.scan()
    if starts is None:
        return
    bad = np.flatnonzero(widths != n_fields)
    if len(bad):
        first = bad[0]
        raise JourneyDataError(
            f"{name}: every row must have as many fields as the header ({n_fields}); "
            f"{len(bad)} {'row does' if len(bad) == 1 else 'rows do'} not, e.g. line {starts[first]} has "
            f"{widths[first]} ({_describe([int(n) for n in starts[bad[:_SHOWN]]], len(bad))})"
        )


def _fail_encoding(path: Path, name: str, error: UnicodeDecodeError) -> None:
    """Stop on bytes that are not UTF-8, naming the lines (and column) where they are."""
    found, column, total, header = [], None, 0, None
    try:
        handle = _open(path, "b")
        if handle is not None:
            with handle:
                for number, raw in enumerate(handle, start=1):
                    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                        raw = raw[3:]
                    if header is None and raw.strip():
                        header = _fields(raw.rstrip(b"\r\n"))
                        header_line = number
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError as bad:
                        total += 1
                        if not found and header is not None and number != header_line:
                            column = _column_at(raw[:bad.start], header)
                        if len(found) < _SHOWN:
                            found.append(number)
    except _READ_ERRORS:
        pass
    byte = error.object[error.start:error.start + 1].hex() if isinstance(error.object, bytes) else ""
    problem = f"not UTF-8 text (invalid byte 0x{byte})" if byte else f"not UTF-8 text ({error.reason})"
    at = f" ({_describe(found, total)})" if found else ""
    where = f", column '{column}'" if column else ""
    raise JourneyDataError(f"{name}{where}: {problem}; save the file as UTF-8{at}")


def _fields(raw: bytes) -> list[str]:
    try:
        return next(csv.reader([raw.decode("utf-8", "replace")]), [])
    except csv.Error:
        return []


def _column_at(prefix: bytes, header: list[str]):
    """The header name of the field in which ``prefix`` (the start of a line) ends."""
    index = max(len(_fields(prefix)) - 1, 0)
    if index >= len(header):
        return None
    label = header[index].strip()
    return label.lower() if label.lower() in REQUIRED_COLUMNS else label


def _reason(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__


# --- columns -------------------------------------------------------------------------


def _integer_ids(values: pd.Series, name: str, column: str, lines: _Lines, text) -> pd.Series:
    """Ids as int64: whole numbers from 0 up (``5``, ``+5``, `` 5 `` and ``5.0`` all read as 5)."""
    if pd.api.types.is_integer_dtype(values):
        numbers = values.to_numpy(dtype=np.int64)
        # min() and max() first: no array of the column's length unless something is wrong.
        if len(numbers) and numbers.min() < 0:
            bad = np.flatnonzero(numbers < 0)
            examples = ", ".join(repr(str(v)) for v in values.iloc[bad[:3]])
            _fail(name, column, f"{len(bad)} values are not non-negative integers (e.g. {examples})", bad, lines)
        if not len(numbers) or numbers.max() < _EXACT:
            return values if values.dtype == np.int64 else pd.Series(numbers, index=values.index, dtype=np.int64)
        # The reader may have gone through floating point (when some id is written
        # '5.0'), which is exact only below 2**53: check the large ids from the text.
        values = text()

    stripped = values.astype("str").str.strip()
    plain = stripped.str.fullmatch(r"[+-]?[0-9]+").fillna(False).to_numpy(dtype=bool)
    digits = stripped.str.lstrip("+-").str.lstrip("0")
    negative = plain & stripped.str.startswith("-").to_numpy(dtype=bool) & (digits != "").to_numpy()
    width = digits.str.len().to_numpy()
    too_big = plain & ((width > len(_INT64_MAX)) | ((width == len(_INT64_MAX)) & (digits > _INT64_MAX).to_numpy()))
    # Other spellings of a whole number ('5.0', '5e3') are accepted where floating point is exact.
    spelled = stripped.str.fullmatch(r"\+?[0-9]*\.?[0-9]*([eE][+-]?[0-9]+)?").fillna(False).to_numpy(dtype=bool)
    decimal = ~plain & spelled
    other = pd.to_numeric(stripped.where(decimal), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    whole = decimal & np.isfinite(other) & (np.mod(other, 1) == 0) & (other >= 0) & (other < _EXACT)
    bad = np.flatnonzero(~(plain | whole) | negative | too_big)
    if len(bad):
        examples = ", ".join(repr(str(v)) for v in values.iloc[bad[:3]])
        problem = "are not non-negative integers"
        if too_big[bad].all():
            problem = f"are too large (the largest id is {_INT64_MAX})"
        _fail(name, column, f"{len(bad)} values {problem} (e.g. {examples})", bad, lines)
    numbers = np.zeros(len(values), dtype=np.int64)
    numbers[whole] = other[whole].astype(np.int64)
    numbers[plain] = pc.cast(pa.array(stripped[plain].str.lstrip("+"), from_pandas=True), pa.int64()).to_numpy(
        zero_copy_only=False)
    return pd.Series(numbers, index=values.index, dtype=np.int64)


# Characters nobody means in a name: controls (C0 but tab and line breaks, DEL, C1),
# zero-width spaces and joiners, direction marks and embeddings, word joiners, BOM.
_INVISIBLE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x{9f}\x{200b}-\x{200f}\x{202a}-\x{202e}\x{2060}-\x{2064}\x{feff}]"
_INVISIBLE_PY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def _clean_text(values: pa.Array) -> pa.Array:
    """Names without invisible and control characters, letters composed (NFC)."""
    return pc.utf8_normalize(pc.replace_substring_regex(values, _INVISIBLE, ""), "NFC")


def _unclean(values: pa.Array) -> np.ndarray:
    """Which names hold invisible or control characters or letters not in NFC form."""
    flags = np.zeros(len(values), dtype=bool)
    # Plain printable ASCII (nearly every name) is clean: only the rest is looked at.
    other = np.flatnonzero(~pc.ascii_is_printable(values).to_numpy(zero_copy_only=False))
    if len(other):
        subset = values.take(pa.array(other))
        flags[other] = pc.not_equal(_clean_text(subset), subset).to_numpy(zero_copy_only=False)
    return flags


_CLEAN_PROBLEM = "invisible or control characters, or letters in decomposed form"
_CLEAN_ACTION = "removed the characters and composed the letters (Unicode NFC)"


def _clean_plans(values: pd.Series, name: str, report: dict, lines) -> pd.Series:
    """Plan names NFC-normalised, without invisible or control characters (a listed repair)."""
    codes, names = _codes.labels(values)
    distinct = pa.array(np.asarray(names, dtype=object), type=pa.large_string())
    unclean = _unclean(distinct)
    if not unclean.any():
        return values
    changed = np.flatnonzero(unclean[codes])
    _repair(report, name, PLAN, f"{_CLEAN_PROBLEM} in the plan name", _CLEAN_ACTION, changed, lines)
    clean = np.asarray(_clean_text(distinct).to_pylist(), dtype=object)
    return pd.Series(clean[codes], index=values.index, dtype=values.dtype)


def _clean_journeys(values: pd.Series, name: str, report: dict, lines) -> pd.Series:
    """Page names NFC-normalised, without invisible or control characters (a listed repair)."""
    coded, row_string = _codes.split(values)
    unclean = _unclean(pa.array(coded.pages, type=pa.large_string()))
    if not unclean.any():
        return values
    unclean_string = np.zeros(coded.n_journeys, dtype=bool)
    unclean_string[coded.journey_index[unclean[coded.codes]]] = True
    rows = np.flatnonzero(unclean_string[row_string])
    if not len(rows):
        return values
    _repair(report, name, TARGET, f"{_CLEAN_PROBLEM} in page names", _CLEAN_ACTION, rows, lines)
    out = values.copy()
    fixed = _clean_text(pa.array(values.iloc[rows], type=pa.large_string(), from_pandas=True))
    out.iloc[rows] = fixed.to_pandas().to_numpy()
    return out


def _warn_case(values: pd.Series, name: str, report: dict, lines) -> None:
    """Warn (without merging them) about plans whose names differ only in case."""
    codes, names = _codes.labels(values)
    groups = {}
    for index, plan in enumerate(names):
        groups.setdefault(str(plan).casefold(), []).append(index)
    for members in groups.values():
        if len(members) < 2:
            continue
        members = sorted(members, key=lambda i: str(names[i]))
        shown = " and ".join(repr(str(names[i])) for i in members)
        first = [int(np.argmax(codes == i)) for i in members]
        message = (f"{name}, column '{PLAN}': the plans {shown} differ only in case; they are kept as "
                   f"{len(members)} plans (if they are one plan, give it one name in the export) "
                   f"(first {lines.unit}s {', '.join(str(n) for n in lines.of(np.sort(first)))})")
        report.setdefault("notes", []).append(message)
        warnings.warn(message, JourneyDataWarning, stacklevel=_outside())


def _plans(values: pd.Series, name: str, report: dict, lines: _Lines) -> pd.Series:
    # A handful of plan names repeat over every row: check each distinct name once.
    codes, names = _codes.labels(values)
    names = pd.Series(names, dtype="str")
    stripped = names.str.strip()
    missing = np.flatnonzero((stripped == "").to_numpy()[codes])
    if len(missing):
        _fail(name, PLAN, f"{len(missing)} sessions have no plan", missing, lines)
    untidy = (stripped != names).to_numpy()
    if not untidy.any():
        return values
    changed = np.flatnonzero(untidy[codes])
    _repair(report, name, PLAN, "spaces around the plan name", "removed the spaces", changed, lines)
    return values.str.strip()


# An empty page name, or one with spaces (as str.isspace sees them) around it.
_UNTIDY_PAGE = rf"^$|^{_W}|{_W}$"


def _journeys(values: pd.Series, name: str, report: dict, lines: _Lines) -> pd.Series:
    # A journey is untidy when one of its pages is empty ("Homepage--Pricing", a
    # leading or trailing "-") or has spaces around it. Checked on the page names
    # of the distinct journeys, which preprocessing reuses, so nothing is split twice.
    coded, row_string = _codes.split(values)
    pages = pa.array(coded.pages, type=pa.large_string())
    bad_page = pc.match_substring_regex(pages, _UNTIDY_PAGE).to_numpy(zero_copy_only=False)
    if not bad_page.any():
        return values
    untidy_string = np.zeros(coded.n_journeys, dtype=bool)
    untidy_string[coded.journey_index[bad_page[coded.codes]]] = True
    if not untidy_string.any():
        return values
    untidy = pd.Series(untidy_string[row_string], index=values.index)
    rows = np.flatnonzero(untidy.to_numpy())
    fixed = (
        values[untidy]
        .str.replace(rf"{_W}*-{_W}*", "-", regex=True)
        .str.replace(r"-{2,}", "-", regex=True)
        .str.strip()
        .str.strip("-")
        .str.strip()
    )
    out = values.copy()
    out[untidy] = fixed
    changed = rows[(fixed != values[untidy]).to_numpy()]
    if len(changed):
        _repair(report, name, TARGET, "spaces around page names or empty page segments",
                "removed them", changed, lines)
    return out


def _empty_rows(journeys: pd.Series) -> np.ndarray:
    """Positions of the rows whose journey is empty, found among the distinct journeys."""
    coded, row_string = _codes.split(journeys)
    empty = coded.lengths == 0
    return np.flatnonzero(empty[row_string]) if empty.any() else np.empty(0, dtype=np.int64)


def _check_users(data: pd.DataFrame, name: str, report: dict, lines: _Lines) -> tuple[pd.DataFrame, int]:
    """Drop exact repeats, refuse conflicting sessions and users with two plans; count users.

    One sort by (user, session) answers all three questions.
    """
    users, sessions = data[USER].to_numpy(), data[SESSION].to_numpy()
    plans = _codes.labels(data[PLAN])[0]
    order = _codes.time_order(users, sessions)
    if order is not None:
        users, sessions, plans = users[order], sessions[order], plans[order]
    same_user = np.equal(users[1:], users[:-1])
    if (same_user & np.equal(sessions[1:], sessions[:-1])).any():
        data = _duplicates(data, name, report, lines)
        return _check_users(data, name, report, lines)
    if (same_user & np.not_equal(plans[1:], plans[:-1])).any():
        _fail_plans(data, name, lines)
    return data, int(len(users) - np.count_nonzero(same_user))


def _duplicates(data: pd.DataFrame, name: str, report: dict, lines: _Lines) -> pd.DataFrame:
    key = data.duplicated([USER, SESSION], keep=False).to_numpy()
    exact = data.duplicated(keep="first").to_numpy()
    conflicting = key & ~data.duplicated(keep=False).to_numpy()
    if conflicting.any():
        rows = data.index[np.flatnonzero(conflicting)].to_numpy()
        first = data.loc[rows[0]]
        _fail(name, SESSION, f"{len(rows)} rows share a (user_id, session_id) with a different row "
              f"(e.g. user {first[USER]}, session {first[SESSION]})", rows, lines)
    rows = data.index[np.flatnonzero(exact)].to_numpy()
    _repair(report, name, SESSION, "row repeated exactly (same user_id and session_id)",
            "dropped the repeats", rows, lines, dropped=True)
    return data[~exact]


def _fail_plans(data: pd.DataFrame, name: str, lines: _Lines) -> None:
    plans_per_user = data.groupby(USER, sort=False)[PLAN].nunique()
    mixed = plans_per_user.index[plans_per_user.to_numpy() > 1]
    if len(mixed):
        rows = np.flatnonzero(data[USER].isin(mixed).to_numpy())
        positions = data.index[rows].to_numpy()
        shown = ", ".join(str(u) for u in mixed[:5])
        _fail(name, PLAN, f"{len(mixed)} users have more than one plan (users {shown}); "
              "each user is expected to have bought one plan", positions, lines)


# --- public helpers ------------------------------------------------------------------


def load_report(data: pd.DataFrame) -> pd.DataFrame:
    """What ``load_sessions`` repaired, one row per kind of repair.

    Returns
    -------
    DataFrame
        Columns ``column``, ``problem``, ``action``, ``rows`` (rows affected),
        ``dropped`` (rows removed by the repair) and ``lines`` (the first lines
        affected); empty when nothing needed repair or ``data`` was not loaded by
        :func:`load_sessions`.

    Examples
    --------
    >>> import journey_utils as ju
    >>> ju.load_report(ju.load_sessions(ju.SAMPLE_PATH)).empty
    True
    """
    repairs = data.attrs.get("load_report", {}).get("repairs", [])
    columns = ["column", "problem", "action", "rows", "dropped", "lines"]
    return pd.DataFrame([{k: r.get(k, 0) for k in columns} for r in repairs], columns=columns)


def save_journeys(data, path) -> Path:
    """Write processed journeys as CSV (or Parquet), in the input schema.

    The file has ``user_id``, ``session_id``, ``subscription_type`` and ``user_journey``
    first, then any other columns (such as ``n_sessions``), so
    ``load_sessions(path, empty_journeys='keep')`` reads it back unchanged. The file
    is written to a temporary name and renamed, so a crash never leaves half a file.

    A path ending in ``.parquet`` writes Parquet instead (types kept), which
    ``load_sessions(path, empty_journeys='keep')`` also reads back unchanged.

    Parameters
    ----------
    data : DataFrame
        Journeys, for example from :func:`journey_utils.preprocess`.
    path : str or path-like
        Destination; parent folders are created. ``.gz`` compresses; ``.parquet``
        writes Parquet.

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib, journey_utils as ju
    >>> journeys = ju.preprocess(ju.load_sessions(ju.SAMPLE_PATH))
    >>> out = ju.save_journeys(journeys, pathlib.Path(tempfile.mkdtemp()) / "journeys.csv")
    >>> len(ju.load_sessions(out, empty_journeys="keep")) == len(journeys)
    True
    """
    _checks.check_frame(data, "save_journeys", REQUIRED_COLUMNS)
    path = Path(os.fspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = data[list(REQUIRED_COLUMNS) + [c for c in data.columns if c not in REQUIRED_COLUMNS]]
    # The writer quotes a value holding "\n" but not one holding a lone "\r", which
    # readers take for a line break: then every text value is quoted.
    text = [c for c in ordered.columns if not pd.api.types.is_numeric_dtype(ordered[c])]
    lone_cr = any(ordered[c].astype("str").str.contains("\r", regex=False).any() for c in text)
    options = {"index": False, "lineterminator": "\n", "encoding": "utf-8",
               "quoting": csv.QUOTE_NONNUMERIC if lone_cr else csv.QUOTE_MINIMAL}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if path.suffix.lower() == ".parquet":
            pq.write_table(pa.Table.from_pandas(ordered, preserve_index=False), temporary, compression="zstd")
        elif path.suffix == ".gz":
            # No file name and mtime 0 in the gzip header: the bytes depend on the data only.
            with open(temporary, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
                ordered.to_csv(handle, mode="wb", **options)
        else:
            ordered.to_csv(temporary, **options)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def file_checksum(path) -> str:
    """The first 12 hex digits of the SHA-256 of an export, to tell two inputs apart.

    For a folder of parts, the digest is over the parts that :func:`load_sessions`
    reads, one after the other in name order (the bytes only, not the names).

    Parameters
    ----------
    path : str, path-like or list of them
        A file, a folder of parts, or a list of part files (digested in name order).

    Returns
    -------
    str
        12 lowercase hex digits.

    Examples
    --------
    >>> import journey_utils as ju
    >>> from journey_utils.io import file_checksum
    >>> len(file_checksum(ju.SAMPLE_PATH))
    12
    """
    if isinstance(path, (list, tuple)):
        files = sorted((Path(os.fspath(p)) for p in path), key=lambda p: p.name)
        for file in files:
            _check_file(file, str(file))
        return _digest(files)
    path = Path(os.fspath(path))
    name = str(path)
    if path.is_dir():
        files = _part_files(path, name)
    else:
        _check_file(path, name)
        files = [path]
    return _digest(files)


def _digest(files) -> str:
    digest = hashlib.sha256()
    for file in files:
        with open(file, "rb") as handle:
            hashlib.file_digest(handle, lambda: digest)
    return digest.hexdigest()[:12]


def save_sessions(sessions, path) -> Path:
    """Write sessions as :func:`load_sessions` returned them to Parquet, for a fast re-read.

    The file holds the sessions with their types and, in its metadata, their load
    report (the original export's ``path``, ``rows_read``, ``rows_kept``, ``users``
    and every repair) plus ``checksum``, the export's :func:`file_checksum`,
    computed now from the export (it must still be there, unchanged). Everything
    is signed with a digest: ``load_sessions`` on this file then skips the checks
    and reads it memory-mapped, returning a frame equal to ``sessions`` (types
    included) whose ``attrs["load_report"]`` is that report. A changed file, or a
    Parquet file written otherwise, is checked like any export. The file is written
    to a temporary name and renamed, so a crash never leaves half a file.

    Parameters
    ----------
    sessions : DataFrame
        As returned by :func:`load_sessions` (its ``attrs["load_report"]`` is needed),
        not changed since.
    path : str or path-like
        Destination (conventionally ``*.parquet``); parent folders are created.

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib, journey_utils as ju
    >>> sessions = ju.load_sessions(ju.SAMPLE_PATH)
    >>> out = ju.save_sessions(sessions, pathlib.Path(tempfile.mkdtemp()) / "sessions.parquet")
    >>> again = ju.load_sessions(out)
    >>> again.equals(sessions), again.attrs["load_report"]["rows_read"] == len(sessions)
    (True, True)
    """
    if not isinstance(sessions, pd.DataFrame):
        raise TypeError(f"save_sessions: expected a pandas DataFrame, found {type(sessions).__name__}")
    report = sessions.attrs.get("load_report")
    if not isinstance(report, dict) or not {"path", "rows_kept"} <= report.keys():
        raise ValueError("save_sessions: expected sessions as load_sessions returns them, with their load report "
                         "in attrs['load_report']; found none (save other frames with save_journeys)")
    if list(sessions.columns[:4]) != list(REQUIRED_COLUMNS):
        raise ValueError(f"save_sessions: expected the columns {', '.join(REQUIRED_COLUMNS)} first; found "
                         f"{', '.join(map(str, sessions.columns))}")
    if len(sessions) != int(report["rows_kept"]):
        raise ValueError(f"save_sessions: the sessions have {len(sessions):,} rows but {int(report['rows_kept']):,} "
                         "were kept when loaded; they changed since (save a changed frame with save_journeys)")
    wrong = [c for c in (USER, SESSION) if sessions[c].dtype != np.int64]
    if wrong:
        raise ValueError(f"save_sessions: column {wrong[0]} is {sessions[wrong[0]].dtype}, expected int64 as "
                         "load_sessions returns it")
    report = json.loads(json.dumps(report, default=_plain))
    if not report.get("checksum"):
        try:
            report["checksum"] = file_checksum(report["path"])
        except (JourneyDataError, OSError) as error:
            raise ValueError(f"save_sessions: the checksum of the original export {report['path']} could not be "
                             f"computed ({error}); save the sessions while the export is there") from None
    empty = int(pc.sum(pc.equal(pc.utf8_length(pa.array(sessions[TARGET], type=pa.large_string())), 0)).as_py() or 0)
    table = pa.Table.from_pandas(sessions, preserve_index=False)
    description = {"format": _parquet.FORMAT, "report": report, "rows": len(sessions), "empty_journeys": empty}
    path = Path(os.fspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _parquet.write_signed(table, temporary, description)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _plain(value):
    """numpy scalars (and anything else) as JSON can hold them."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)
