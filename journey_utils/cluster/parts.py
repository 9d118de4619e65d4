"""Reading sessions from many parts, and the checks that span parts.

Each part is read by :func:`journey_utils.load_sessions` inside its own task (one
implementation of the checks and messages); what only shows across parts (a session
in two parts, a user with two plans in two parts) is checked after the shuffle on
``user_id``, where every user's sessions meet, and worded with the parts' lines.
"""

from __future__ import annotations

import glob
import json
import os
import re
import warnings
from pathlib import Path

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from journey_utils import _checks, _codes
from journey_utils import io as _io
from journey_utils.columns import PLAN, SESSION, SESSION_COLUMNS, TARGET, USER

REQUIRED = list(SESSION_COLUMNS)
#: Column added to the sessions read by :func:`read_sessions`: the number of the part
#: (in :func:`part_files` order) each session was read from.
PART = "_part"
#: Columns made while reading, for preprocessing: each session's journey with repeated
#: pages collapsed, and a 64-bit hash of the journey as written.
COLLAPSED, RAW = "_collapsed", "_raw"
# Suffixes of the files a folder or glob may hold: CSV (compressed too) and Parquet.
_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".gz", ".bz2", ".xz", ".zst", ".zip",
        ".tar", ".tar.gz", ".tar.bz2", ".tar.xz")
_PARQUET = (".parquet", ".pq")
_SHOWN = 10


# --- reading -------------------------------------------------------------------------


def check_frame(data, function: str, columns) -> None:
    """A Dask DataFrame with ``columns``, or an error saying what was expected and what was found."""
    _checks.check_frame(data, function, columns, frame_type=dd.DataFrame, kind="Dask DataFrame")


def part_files(source) -> list[Path]:
    """The part files of ``source``, in name order.

    Parameters
    ----------
    source : str, path-like or list of them
        A folder (its CSV and Parquet files, hidden files ignored), a glob pattern
        (``exports/*.csv.gz``), one file, or a list of files.

    Returns
    -------
    list of Path

    Examples
    --------
    >>> import journey_utils as ju
    >>> [p.name for p in part_files(ju.SAMPLE_PATH)]
    ['user_journeys_sample.csv']
    """
    if isinstance(source, (list, tuple)):
        files = [Path(os.fspath(p)) for p in source]
        described = f"the list of {len(files)} files"
    else:
        text = os.fspath(source)
        path = Path(text)
        described = text
        if path.is_dir():
            files = sorted((p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "_"))
                            and p.name.lower().endswith(_CSV + _PARQUET)), key=lambda p: p.name)
            if not files:
                raise _io.JourneyDataError(f"{text}: the folder holds no CSV or Parquet files")
            return files
        if glob.has_magic(text):
            files = sorted((Path(p) for p in glob.glob(text) if Path(p).is_file()), key=lambda p: (p.name, str(p)))
            if not files:
                raise _io.JourneyDataError(f"{text}: no file matches this pattern")
            return files
        files = [path]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise _io.JourneyDataError(f"{described}: file not found: {', '.join(missing[:_SHOWN])}")
    return files


def _meta(files: list[str], collapse: bool = True) -> pd.DataFrame:
    meta = pd.DataFrame({USER: pd.Series([], dtype=np.int64), SESSION: pd.Series([], dtype=np.int64),
                         PLAN: pd.Series([], dtype="str"), TARGET: pd.Series([], dtype="str"),
                         PART: pd.Categorical.from_codes([], categories=files),
                         COLLAPSED: pd.Series([], dtype="str"), RAW: pd.Series([], dtype=np.uint64)})
    return meta if collapse else meta.drop(columns=COLLAPSED)


def _load_part(path: str, number: int, files: list[str], empty_journeys: str, collapse: bool = True) -> pd.DataFrame:
    """One part, read and checked by load_sessions; its load report stays in attrs."""

    with warnings.catch_warnings():
        # Repairs are reported once, summed, by load_report(); not once per part in a worker's log.
        warnings.simplefilter("ignore", _io.JourneyDataWarning)
        data = _load_alone(path, files, empty_journeys)
    report = data.attrs.get("load_report", {})
    out = data[REQUIRED]
    # Text columns as load_sessions makes them are kept as they are (no copy).
    text = {c: "str" for c in (PLAN, TARGET) if out[c].dtype != "str"}
    out = out.astype(text) if text else out.copy(deep=False)
    out[PART] = pd.Categorical.from_codes(np.full(len(out), number, dtype=_code_type(files)), categories=files)
    # Made here, where the journeys' split from loading is still remembered (a later task
    # may run on another worker and split them again).
    from journey_utils.cluster.journeys import _journey_hash, _tidy_sessions

    if collapse:
        out[COLLAPSED] = _tidy_sessions(out[TARGET])
    out[RAW] = _journey_hash(out[TARGET])
    extras = [c for c in data.columns if c not in REQUIRED]
    if extras:
        # A session repeated in another part is a repeat only when its other columns agree too.
        with np.errstate(over="ignore"):
            out[RAW] = out[RAW].to_numpy() + pd.util.hash_pandas_object(data[extras], index=False).to_numpy() * _MIX
    out.attrs = {"load_report": report}
    return out


_REPEATED = "row repeated exactly (same user_id and session_id)"


def _load_alone(path: str, files: list[str], empty_journeys: str) -> pd.DataFrame:
    """``load_sessions`` on one part, with what it allows in a part of a folder.

    A part with a header only, or (dropping empty journeys) only empty journeys, is
    read as no sessions, as in a folder: only all the parts together must hold some
    (see :func:`check_rows`). Errors about rows are worded as for the folder.
    """
    try:
        data = _io.load_sessions(path, empty_journeys=empty_journeys)
        report = data.attrs.get("load_report", {})
        if "checksum" in report and report.get("path") != path:
            # Sessions saved by save_sessions, read as saved: in a folder they are checked
            # again like any part, and found clean.
            data.attrs["load_report"] = _saved_report(data, path)
        return data
    except _io.JourneyDataError as error:
        text = str(error)
        if len(files) > 1 and text == f"{path}: the file has a header but no session rows":
            return _no_rows(path, 0, [])
        if len(files) > 1 and empty_journeys == "drop" and \
                text.startswith(f"{path}, column '{TARGET}': every session's journey is empty"):
            report = _io.load_sessions(path, empty_journeys="keep").attrs["load_report"]
            # Every row is dropped as an empty journey (before any is counted as a repeat).
            repairs = [{**r, "action": "dropped the session", "dropped": r["rows"]} if r["problem"] == "empty journey"
                       else r for r in report["repairs"] if r["problem"] != _REPEATED]
            return _no_rows(path, report["rows_read"], repairs)
        raise _as_in_folder(error, path, files) from None


def _saved_report(data: pd.DataFrame, path: str) -> dict:
    """The load report of sessions saved by ``save_sessions`` checked again as a part of a folder."""
    empty = np.flatnonzero((data[TARGET].str.len() == 0).to_numpy(dtype=bool))
    repairs = [{"column": TARGET, "problem": "empty journey", "action": "kept as a journey of length 0",
                "rows": len(empty), "lines": [int(p) + 1 for p in empty[:_SHOWN]], "dropped": 0}] if len(empty) else []
    return {"path": path, "rows_read": len(data), "repairs": repairs, "rows_kept": len(data),
            "users": int(data[USER].nunique())}


def _no_rows(path: str, rows_read: int, repairs: list) -> pd.DataFrame:
    empty = pd.DataFrame({USER: np.zeros(0, np.int64), SESSION: np.zeros(0, np.int64),
                          PLAN: pd.Series([], dtype="str"), TARGET: pd.Series([], dtype="str")})
    empty.attrs["load_report"] = {"path": path, "rows_read": int(rows_read), "repairs": repairs, "rows_kept": 0,
                                  "users": 0}
    return empty


def check_rows(report: dict) -> None:
    """Stop, as ``load_sessions`` does, when no part holds a session to analyse.

    Parameters
    ----------
    report : dict
        From :func:`summed_report`.

    Raises
    ------
    journey_utils.JourneyDataError
        No session row in any part, or only empty journeys (dropped).

    Examples
    --------
    >>> check_rows({"path": "parts", "parts": ["a.csv"], "rows_read": 1, "rows_kept": 1, "repairs": []})
    """
    if report.get("rows_kept", 0):
        return
    name, parts = report.get("path", ""), report.get("parts", [])
    if not report.get("rows_read", 0):
        raise _io.JourneyDataError(f"{name}: the {len(parts)} parts have a header but no session rows")
    empty = next((r for r in report.get("repairs", []) if r["problem"] == "empty journey"), None)
    if empty is not None and empty["dropped"] == report["rows_read"]:
        unit = "line" if any(not p.lower().endswith(_PARQUET) for p in parts) else "row"
        raise _io.JourneyDataError(f"{name}, column '{TARGET}': every session's journey is empty ({empty['rows']} "
                                   f"sessions); nothing to analyse ({_describe(empty['lines'], empty['rows'], unit)})")


# Problems load_sessions finds in the rows of all parts together, and words with the
# folder's name and 'part:line': in a part read alone they name the part and its lines.
_ACROSS_ROWS = re.compile(r"(?P<count>\d+) (values are not non-negative integers|values are too large|sessions have no "
                          r"plan|rows share a \(user_id, session_id\) with a different row|users have more than one "
                          r"plan)")
_WHERE = re.compile(r"\((?P<unit>line|row)(?P<plural>s?) (?P<numbers>\d+(, \d+)*)(?P<more> and \d+ more)?\)$")


def _as_in_folder(error: Exception, path: str, files: list[str]) -> Exception:
    """A part's error about its rows, worded as ``load_sessions`` words it for the folder of parts.

    ``parts, column 'user_id': 1 values are ... (line part-2.csv:7)`` instead of
    ``parts/part-2.csv, column 'user_id': ... (line 7)``; the count is the part's.
    Other errors (the part cannot be read, a missing column...) name the part, as
    ``load_sessions`` does.
    """
    text = str(error)
    head = f"{path}, column '"
    if len(files) < 2 or not text.startswith(head):
        return error
    rest = text[len(path):]
    problem = rest.split(": ", 1)[1] if ": " in rest else ""
    where = _WHERE.search(rest)
    if not _ACROSS_ROWS.match(problem) or where is None:
        return error
    label = Path(path).name
    unit = "line" if any(not f.lower().endswith(_PARQUET) for f in files) else "row"
    numbers = where["numbers"].split(", ")
    lines = ", ".join(f"{label}:{n}" for n in numbers)
    rest = rest[:where.start()] + f"({unit}{where['plural']} {lines}{where['more'] or ''})"
    return _io.JourneyDataError(_source_name(files) + rest)


# Odd 64-bit multiplier mixing the other columns' hash into the journey's (wrapping).
_MIX = np.uint64(0xBF58476D1CE4E5B9)


def _column_names(path: str) -> list[str]:
    """A part's columns as ``load_sessions`` names them (required ones canonical, extras as written)."""
    if _parquet_file(path):
        import pyarrow.parquet as pq

        found = [str(c) for c in pq.read_schema(path).names if not re.fullmatch(r"__index_level_\d+__", str(c))]
        return _io._names(found, path)
    return _io._header(Path(path), path)


def _parquet_file(path: str) -> bool:
    from journey_utils import _parquet

    return _parquet.is_parquet(Path(path))


def _check_columns(files: list[str]) -> None:
    """Every part has the first part's columns, as ``load_sessions`` asks of a folder (headers only are read).

    A part whose header cannot be read is left to reading it, which says what is wrong.
    """
    first = None
    for path in files:
        try:
            names = _column_names(path)
        except Exception:  # noqa: BLE001 - reading the part gives the message
            return
        if first is None:
            first = (path, names)
        elif names != first[1]:
            raise _io.JourneyDataError(
                f"{path}: the columns ({', '.join(names)}) differ from those of the first part, "
                f"{Path(first[0]).name} ({', '.join(first[1])}); every part must have the same columns")


def _code_type(files):
    return np.int8 if len(files) < 127 else np.int16 if len(files) < 32767 else np.int32


def _part_report(part: pd.DataFrame, source: str, number: int) -> pd.DataFrame:
    report = part.attrs.get("load_report", {})
    # The part's plans, to tell plans whose names differ only in case across parts.
    plans = sorted(str(p) for p in _codes.labels(part[PLAN])[1]) if len(part) else []
    return pd.DataFrame({"source": pd.Series([source], dtype="str"), "part_number": np.int64(number),
                         "report": pd.Series([json.dumps(report)], dtype="str"),
                         "plans": pd.Series([json.dumps(plans)], dtype="str")})


def read_sessions(source, *, empty_journeys="drop"):
    """Read sessions from many parts as a Dask DataFrame, one partition per part.

    Each part is read by :func:`journey_utils.load_sessions` inside its own task, with
    the same checks, repairs and messages (a bad part stops the computation with
    :class:`journey_utils.JourneyDataError` naming the part file and its lines).
    Nothing is read until the frame is computed.

    Parameters
    ----------
    source : str, path-like or list
        A folder, a glob pattern or a list of files; see :func:`part_files`. CSV
        (compressed too) and Parquet parts as ``load_sessions`` reads them.
    empty_journeys : {'drop', 'keep'}, default 'drop'
        As in :func:`journey_utils.load_sessions`.

    Returns
    -------
    sessions : dask.dataframe.DataFrame
        Columns ``user_id``, ``session_id`` (int64), ``subscription_type``,
        ``user_journey`` (str), ``_part`` (categorical: the part file each session comes
        from, categories in :func:`part_files` order), and two columns made for
        :func:`preprocess` while the journeys' split is at hand: ``_collapsed`` (the
        session's journey with repeated pages collapsed) and ``_raw`` (uint64, a hash of
        the journey as written). Other columns of the export are not carried.
    reports : dask.dataframe.DataFrame
        The load report of every part (one row per part), made by the same tasks: compute
        it with the result (``dask.compute(journeys, reports)`` reads every part once) and
        sum it with :func:`summed_report`.

    Examples
    --------
    >>> sessions, reports = read_sessions("exports/")   # doctest: +SKIP
    >>> sessions.npartitions                           # doctest: +SKIP
    12
    """
    return _read_parts(source, empty_journeys, collapse=True, function="read_sessions")


def _read_parts(source, empty_journeys, *, collapse: bool, function: str):
    """:func:`read_sessions`; without the collapsed journeys (``_collapsed``) unless ``collapse``."""
    if empty_journeys not in _io.EMPTY_JOURNEYS:
        raise ValueError(f"{function}: empty_journeys must be 'drop' or 'keep'; found {empty_journeys!r}")
    files = [str(p) for p in part_files(source)]
    if len(files) > 1:
        _check_columns(files)
    # Named as load_sessions names it (a folder without a trailing separator).
    name = str(Path(os.fspath(source))) if not isinstance(source, (list, tuple)) else os.path.commonpath(files)
    # Keys are named after the files (and their size and time), so two readings of an
    # unchanged source share their tasks, and a changed file is read again.
    token = dask.base.tokenize(files, [_stamp(Path(p)) for p in files], empty_journeys, collapse)
    loaded = [dask.delayed(_load_part, pure=True)(p, i, files, empty_journeys, collapse,
                                                  dask_key_name=f"load-part-{token}-{i}")
              for i, p in enumerate(files)]
    reports = [dask.delayed(_part_report, pure=True)(part, name, i, dask_key_name=f"part-report-{token}-{i}")
               for i, part in enumerate(loaded)]
    frame = dd.from_delayed(loaded, meta=_meta(files, collapse), verify_meta=False)
    return frame, dd.from_delayed(reports, meta=_REPORT_META, verify_meta=False)


_REPORT_META = pd.DataFrame({"source": pd.Series([], dtype="str"), "part_number": pd.Series([], dtype=np.int64),
                             "report": pd.Series([], dtype="str"), "plans": pd.Series([], dtype="str")})


def _stamp(path: Path) -> tuple:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def summed_report(reports: pd.DataFrame, repeats: pd.DataFrame | None = None, *, users: int | None = None) -> dict:
    """One load report for a source of many parts, as :func:`journey_utils.load_sessions` makes it.

    Rows and repairs are summed over the parts. For a folder of parts the result equals
    ``load_sessions(folder).attrs["load_report"]`` in ``path``, ``parts``,
    ``rows_read``, ``rows_kept``, ``users`` (when given) and ``repairs``: the repairs
    come in the order ``load_sessions`` lists them, their first lines are the first
    over the parts in name order (``part-003.csv:17``), and the sessions repeated in
    two parts are counted with the rows repeated within a part, as one repair.

    Parameters
    ----------
    reports : DataFrame
        The computed reports table of :func:`read_sessions` (one row per part).
    repeats : DataFrame, optional
        The computed table of :func:`repeats` (sessions found in two parts): added to
        the rows repeated exactly, and taken off the rows kept.
    users : int, optional
        The number of users kept (known once the sessions are grouped by user).

    Returns
    -------
    dict
        ``path`` (the source), ``parts`` (the part files' names; not for a source of
        one file, as ``load_sessions`` does not list it), ``rows_read``, ``rows_kept``,
        ``users`` (when given), ``repairs`` (each with ``column``, ``problem``,
        ``action``, ``rows``, ``dropped`` and ``lines``).

    Examples
    --------
    >>> summed_report(pd.DataFrame({"source": [], "part": [], "report": []}))["rows_read"]
    0
    """
    parts = [json.loads(text) for text in reports.sort_values("part_number")["report"]] \
        if "part_number" in reports.columns else [json.loads(text) for text in reports["report"]]
    files = [str(p.get("path", "")) for p in parts]
    name = str(reports["source"].iloc[0]) if len(reports) else ""
    repeated = _repeated_lines(repeats, files) if repeats is not None and len(repeats) else {}
    total = int(repeats.drop_duplicates("_partition")["total"].sum()) if repeated else 0
    # Lines are named 'part:line' as for a folder; a source of one file numbers them alone.
    several = len(files) > 1 or bool(name and Path(name).is_dir())
    merged: dict = {}
    for number, (path, report) in enumerate(zip(files, parts)):
        label = f"{Path(path).name}:" if several else ""
        own = {(r["column"], r["problem"], r["action"]): r for r in report.get("repairs", [])}
        if number in repeated:
            own.setdefault(_REPEAT_KEY, {"rows": 0, "dropped": 0, "lines": []})
        for key, repair in own.items():
            entry = merged.setdefault(key, {"column": key[0], "problem": key[1], "action": key[2],
                                            "rows": 0, "dropped": 0, "lines": []})
            entry["rows"] += int(repair.get("rows", 0))
            entry["dropped"] += int(repair.get("dropped", 0))
            lines = list(repair.get("lines", []))
            if key == _REPEAT_KEY and number in repeated:
                # Repeats within the part and in an earlier part, in line order.
                lines = sorted(set(lines) | set(repeated[number]))
            room = max(_SHOWN - len(entry["lines"]), 0)
            entry["lines"] += [f"{label}{line}" if several else line for line in lines[:room]]
    if total:
        entry = merged[_REPEAT_KEY]
        entry["rows"] += total
        entry["dropped"] += total
    order = {key: rank for rank, key in enumerate(_REPAIR_ORDER)}
    repairs = sorted(merged.values(), key=lambda r: order.get((r["column"], r["problem"]), len(order)))
    summed = {"path": name}
    if several:
        summed["parts"] = [Path(p).name for p in files]
    summed.update({"rows_read": sum(int(r.get("rows_read", 0)) for r in parts),
                   "rows_kept": sum(int(r.get("rows_kept", 0)) for r in parts) - total,
                   "repairs": repairs})
    if users is not None:
        summed["users"] = int(users)
    notes = _case_notes(reports, files, name) if several and "plans" in reports.columns else []
    if notes:
        summed["notes"] = notes
    return summed


def _case_notes(reports: pd.DataFrame, files: list[str], name: str) -> list[str]:
    """``load_sessions``' notes on plans whose names differ only in case, over all the parts."""
    ordered = reports.sort_values("part_number") if "part_number" in reports.columns else reports
    plans = [json.loads(text) for text in ordered["plans"]]
    groups: dict = {}
    for plan in sorted({p for part in plans for p in part}):
        groups.setdefault(plan.casefold(), []).append(plan)
    notes = []  # (first row of the group, note): in the order load_sessions meets the plans
    for members in (m for m in groups.values() if len(m) > 1):
        # Each plan's first row: in the first part that holds it.
        first = {}
        for number, part in enumerate(plans):
            for plan in (p for p in members if p in part and p not in first):
                first[plan] = (number, _first_row_of_plan(files[number], plan))
        unit = "line" if any(not f.lower().endswith(_PARQUET) for f in files) else "row"
        lines = [f"{Path(files[n]).name}:{line}" for n, line in sorted(first.values(), key=_row_order)]
        shown = " and ".join(repr(p) for p in members)
        notes.append((min(first.values(), key=_row_order),
                      f"{name}, column '{PLAN}': the plans {shown} differ only in case; they are kept as "
                      f"{len(members)} plans (if they are one plan, give it one name in the export) "
                      f"(first {unit}s {', '.join(lines)})"))
    return [note for _, note in sorted(notes, key=lambda n: _row_order(n[0]))]


def _row_order(where):
    number, line = where
    return number, line if isinstance(line, int) else -1


def _first_row_of_plan(path: str, plan: str):
    """The line (CSV) or row (Parquet) of the first row of ``plan`` in a part, as ``load_sessions``
    numbers them (the part is read again; only for a note)."""
    import unicodedata

    path = Path(path)
    parquet = path.name.lower().endswith(_PARQUET)
    try:
        frame = _read_again(path, parquet)
        names = frame[PLAN].astype("str").map(lambda v: unicodedata.normalize("NFC", _io._INVISIBLE_PY.sub("", v)))
        position = int(np.argmax((names.str.strip() == plan).to_numpy(dtype=bool)))
    except Exception:  # noqa: BLE001 - the note stands with the row order
        return "?"
    if parquet:
        return position + 1
    try:
        return _io._Lines(path).of([position])[0]
    except Exception:  # noqa: BLE001 - row order stands in, as load_sessions does
        return position + 2


# The repairs in the order load_sessions makes (and lists) them: (column, problem).
_REPAIR_ORDER = [
    (PLAN, f"{_io._CLEAN_PROBLEM} in the plan name"),
    (PLAN, "spaces around the plan name"),
    (TARGET, f"{_io._CLEAN_PROBLEM} in page names"),
    (TARGET, "spaces around page names or empty page segments"),
    (TARGET, "empty journey"),
    (SESSION, _REPEATED),
]
_REPEAT_KEY = (*_REPAIR_ORDER[-1], "dropped the repeats")


def load_report(report: dict) -> pd.DataFrame:
    """A summed load report (from :func:`read_sessions` or :func:`prepare`) as a table.

    Same columns as :func:`journey_utils.load_report`: ``column``, ``problem``,
    ``action``, ``rows``, ``dropped``, ``lines`` (the first lines, as ``part:line``).

    Examples
    --------
    >>> load_report({"repairs": []}).empty
    True
    """
    columns = ["column", "problem", "action", "rows", "dropped", "lines"]
    return pd.DataFrame([{k: r.get(k, 0) for k in columns} for r in report.get("repairs", [])], columns=columns)


# --- checks that span parts ------------------------------------------------------------


def _source_name(files) -> str:
    return os.path.commonpath(files) if len(files) > 1 else (files[0] if files else "sessions")


def _files_of(part: pd.DataFrame) -> list[str]:
    column = part[PART]
    return [str(c) for c in column.cat.categories] if isinstance(column.dtype, pd.CategoricalDtype) else []


def _across_parts(part: pd.DataFrame) -> pd.DataFrame:
    """Check one shuffled partition (all sessions of its users, from every part).

    A (user_id, session_id) read from two parts is one session repeated when the plan
    and journey agree: the copies from later parts are marked in a ``_repeat`` column
    (and dropped by preprocessing); when they disagree it is an error, as within one
    file. A user with two plans in two parts is an error too. Works on the integer
    columns and the plans' labels: the journeys are compared only for repeated keys.
    """
    repeat = np.zeros(len(part), dtype=bool)
    if len(part) < 2:
        return part.assign(_repeat=repeat)
    users, sessions = part[USER].to_numpy(), part[SESSION].to_numpy()
    order = _codes.time_order(users, sessions)
    order = np.arange(len(part)) if order is None else order
    sorted_users, sorted_sessions = users[order], sessions[order]
    same_user = sorted_users[1:] == sorted_users[:-1]
    if (same_user & (sorted_sessions[1:] == sorted_sessions[:-1])).any():
        files = _files_of(part)
        # The first copy is the one from the earliest part: sort by part as well.
        codes = part[PART].cat.codes.to_numpy() if files else np.zeros(len(part), np.int8)
        order = np.lexsort((codes, sessions, users))
        sorted_users, sorted_sessions = users[order], sessions[order]
        same_user = sorted_users[1:] == sorted_users[:-1]
        repeated = np.r_[False, same_user & (sorted_sessions[1:] == sorted_sessions[:-1])]
        # Each repeat against the first copy of its (user, session): the start of its run.
        first = order[np.maximum.accumulate(np.where(repeated, 0, np.arange(len(order))))]
        rows = order[repeated]
        bad = np.zeros(len(rows), dtype=bool)
        # The journeys as written: their hash when the sessions were collapsed before the shuffle.
        for column in (PLAN, "_raw" if "_raw" in part.columns else TARGET):
            values = part[column].to_numpy()
            bad |= values[rows] != values[first[repeated]]
        if bad.any():
            _fail_repeat(part, rows[bad], files)
        repeat[rows] = True
    plans = _codes.labels(part[PLAN])[0][order]
    mixed = np.flatnonzero(same_user & (plans[1:] != plans[:-1])) + 1
    if len(mixed):
        _fail_plans(part, pd.unique(sorted_users[mixed]), _files_of(part))
    return part.assign(_repeat=repeat)


def _fail_repeat(part: pd.DataFrame, rows: np.ndarray, files: list[str]) -> None:
    user, session = part[USER].iloc[rows[0]], part[SESSION].iloc[rows[0]]
    involved = part[(part[USER] == user).to_numpy() & (part[SESSION] == session).to_numpy()]
    raise _io.JourneyDataError(
        f"{_source_name(files)}, column '{SESSION}': {len(rows)} rows share a (user_id, session_id) with a "
        f"different row in another part (e.g. user {user}, session {session}: {_where(involved, files)})")


def _fail_plans(part: pd.DataFrame, users: np.ndarray, files: list[str]) -> None:
    example = part[(part[USER] == users[0]).to_numpy()].sort_values([PART, SESSION]).drop_duplicates(PLAN)
    shown = ", ".join(str(u) for u in users[:5])
    raise _io.JourneyDataError(
        f"{_source_name(files)}, column '{PLAN}': {len(users)} users have more than one plan across parts "
        f"(users {shown}); each user is expected to have bought one plan "
        f"(e.g. user {users[0]}: {_where(example, files, plans=True)})")


def _where(rows: pd.DataFrame, files: list[str], plans: bool = False) -> str:
    """'part-1.csv line 4, part-2.csv line 9' for these rows (looked up in their parts)."""
    if not files:
        return "parts unknown"
    described = []
    for code in sorted(set(rows[PART].cat.codes.tolist())):
        group = rows[rows[PART].cat.codes.to_numpy() == code]
        path = files[code]
        lines = _lines_in_part(path, group[USER].to_numpy(), group[SESSION].to_numpy())
        extra = f" (plan {group[PLAN].iloc[0]!r})" if plans else ""
        described.append(f"{Path(path).name} {lines}{extra}")
    return ", ".join(described)


def _lines_in_part(path: str, users, sessions) -> str:
    """The lines (CSV) or rows (Parquet) of a part that hold these (user, session) pairs.

    Only used to word a message, so it reads the part again.
    """
    found = _positions_in_part(path, users, sessions)
    if found is None:
        return "(lines not found)"
    numbers, total, unit = found
    return _describe(numbers, total, unit)


def _read_again(path: Path, parquet: bool) -> pd.DataFrame:
    """A part read again as it is (CSV values as text), with its column names as ``load_sessions`` reads them."""
    if parquet:
        frame = pd.read_parquet(path)
    else:
        with _io._pandas_input(path) as source:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _positions_in_part(path: str, users, sessions):
    """``(first line numbers, number of rows, unit)`` of the rows of a part holding these
    (user, session) pairs, as ``load_sessions`` numbers them (lines of a CSV file, rows
    of a Parquet file); None when the part cannot be read again."""
    path = Path(path)
    parquet = path.name.lower().endswith(_PARQUET)
    try:
        frame = _read_again(path, parquet)
        ids = [pd.to_numeric(frame[c].astype("str").str.strip(), errors="coerce") for c in (USER, SESSION)]
        # Ids compared as integers (exactly) unless the part writes some as decimals.
        ids = [i.to_numpy() for i in ids]
        wanted = pd.MultiIndex.from_arrays([np.asarray(w).astype(i.dtype) for w, i in zip((users, sessions), ids)])
        hit = np.flatnonzero(pd.MultiIndex.from_arrays(ids).isin(wanted))
        hit = _without_empty(hit, frame, ids)
    except Exception:  # noqa: BLE001 - the message stands without the lines
        return None
    if parquet:
        return [int(h) + 1 for h in hit[:_SHOWN]], len(hit), "row"
    try:
        numbers = _io._Lines(path).of(hit)
    except Exception:  # noqa: BLE001 - row order stands in, as load_sessions does
        numbers = [int(h) + 2 for h in hit[:_SHOWN]]
    return numbers, len(hit), "line"


def _without_empty(hit: np.ndarray, frame: pd.DataFrame, ids) -> np.ndarray:
    """The rows ``hit`` without those of an empty journey where the same session has a journey
    (loading dropped them as empty journeys, not as repeats)."""
    if not len(hit) or TARGET not in frame.columns:
        return hit
    text = frame[TARGET].iloc[hit].astype("str").fillna("").map(lambda j: _io._INVISIBLE_PY.sub("", j))
    blank = text.str.fullmatch(r"[\s-]*").fillna(True).to_numpy(dtype=bool)
    if not blank.any():
        return hit
    keys = pd.DataFrame({"user": ids[0][hit], "session": ids[1][hit], "filled": ~blank})
    filled = keys.groupby(["user", "session"], dropna=False)["filled"].transform("any").to_numpy(dtype=bool)
    return hit[~blank | ~filled]


def _describe(numbers, total: int, unit: str) -> str:
    """'line 4', 'lines 4, 9 and 3 more', as load_sessions words them."""
    shown = ", ".join(str(n) for n in numbers[:_SHOWN])
    more = total - min(len(numbers), _SHOWN)
    return (unit if total == 1 else unit + "s") + " " + shown + (f" and {more} more" if more > 0 else "")


def _repeats(part: pd.DataFrame) -> pd.DataFrame:
    """The repeats dropped in a checked partition that may be among the first shown, with their number.

    Every repeat from the parts with the lowest numbers, up to the part of the
    partition's tenth repeat: the first repeats over all partitions in part order are
    among them, and so are all repeats of each part those first ones come from.
    """
    repeated = part[part["_repeat"].to_numpy()][[PART, USER, SESSION]]
    if len(repeated) > _SHOWN:
        codes = np.sort(repeated[PART].cat.codes.to_numpy())
        repeated = repeated[repeated[PART].cat.codes.to_numpy() <= codes[_SHOWN - 1]]
    total = int(part["_repeat"].to_numpy().sum())
    return repeated.assign(total=np.full(len(repeated), total, dtype=np.int64))


def _repeated_lines(table: pd.DataFrame, files: list[str]) -> dict:
    """The first lines of the repeats in each part, by part number, for the first parts that have any.

    Parts are read again to find the lines, in part order, until enough lines are known
    to show.
    """
    known = _files_of(table) or files
    codes = table[PART].cat.codes.to_numpy()
    found, count = {}, 0
    for code in sorted(set(codes.tolist())):
        if count >= _SHOWN:
            break
        group = table[codes == code]
        result = _positions_in_part(known[code], group[USER].to_numpy(), group[SESSION].to_numpy())
        numbers, total, _ = result if result is not None else ([], len(group), "line")
        found[code] = numbers
        count += total
    return found
