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


def _meta(files: list[str]) -> pd.DataFrame:
    return pd.DataFrame({USER: pd.Series([], dtype=np.int64), SESSION: pd.Series([], dtype=np.int64),
                         PLAN: pd.Series([], dtype="str"), TARGET: pd.Series([], dtype="str"),
                         PART: pd.Categorical.from_codes([], categories=files),
                         COLLAPSED: pd.Series([], dtype="str"), RAW: pd.Series([], dtype=np.uint64)})


def _load_part(path: str, number: int, files: list[str], empty_journeys: str) -> pd.DataFrame:
    """One part, read and checked by load_sessions; its load report stays in attrs."""

    with warnings.catch_warnings():
        # Repairs are reported once, summed, by load_report(); not once per part in a worker's log.
        warnings.simplefilter("ignore", _io.JourneyDataWarning)
        data = _io.load_sessions(path, empty_journeys=empty_journeys)
    report = data.attrs.get("load_report", {})
    out = data[REQUIRED]
    # Text columns as load_sessions makes them are kept as they are (no copy).
    text = {c: "str" for c in (PLAN, TARGET) if out[c].dtype != "str"}
    out = out.astype(text) if text else out.copy(deep=False)
    out[PART] = pd.Categorical.from_codes(np.full(len(out), number, dtype=_code_type(files)), categories=files)
    # Made here, where the journeys' split from loading is still remembered (a later task
    # may run on another worker and split them again).
    from journey_utils.cluster.journeys import _journey_hash, _tidy_sessions

    out[COLLAPSED] = _tidy_sessions(out[TARGET])
    out[RAW] = _journey_hash(out[TARGET])
    out.attrs = {"load_report": report}
    return out


def _code_type(files):
    return np.int8 if len(files) < 127 else np.int16 if len(files) < 32767 else np.int32


def _part_report(part: pd.DataFrame, source: str, number: int) -> pd.DataFrame:
    report = part.attrs.get("load_report", {})
    return pd.DataFrame({"source": pd.Series([source], dtype="str"), "part_number": np.int64(number),
                         "report": pd.Series([json.dumps(report)], dtype="str")})


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
    if empty_journeys not in _io.EMPTY_JOURNEYS:
        raise ValueError(f"read_sessions: empty_journeys must be 'drop' or 'keep'; found {empty_journeys!r}")
    files = [str(p) for p in part_files(source)]
    name = os.fspath(source) if not isinstance(source, (list, tuple)) else os.path.commonpath(files)
    # Keys are named after the files (and their size and time), so two readings of an
    # unchanged source share their tasks, and a changed file is read again.
    token = dask.base.tokenize(files, [_stamp(Path(p)) for p in files], empty_journeys)
    loaded = [dask.delayed(_load_part, pure=True)(p, i, files, empty_journeys, dask_key_name=f"load-part-{token}-{i}")
              for i, p in enumerate(files)]
    reports = [dask.delayed(_part_report, pure=True)(part, name, i, dask_key_name=f"part-report-{token}-{i}")
               for i, part in enumerate(loaded)]
    frame = dd.from_delayed(loaded, meta=_meta(files), verify_meta=False)
    return frame, dd.from_delayed(reports, meta=_REPORT_META, verify_meta=False)


_REPORT_META = pd.DataFrame({"source": pd.Series([], dtype="str"), "part_number": pd.Series([], dtype=np.int64),
                             "report": pd.Series([], dtype="str")})


def _stamp(path: Path) -> tuple:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def summed_report(reports: pd.DataFrame, repeats: pd.DataFrame | None = None) -> dict:
    """One load report for a source of many parts: rows and repairs summed over the parts.

    Parameters
    ----------
    reports : DataFrame
        The computed reports table of :func:`read_sessions` (one row per part).
    repeats : DataFrame, optional
        The computed table of :func:`repeats` (sessions found in two parts): listed as
        one more repair, and taken off the rows kept.

    Returns
    -------
    dict
        ``path`` (the source), ``parts``, ``rows_read``, ``rows_kept``, ``repairs`` (as in
        :func:`journey_utils.load_sessions`; their first lines name the part,
        ``part-003.csv:17``).

    Examples
    --------
    >>> summed_report(pd.DataFrame({"source": [], "part": [], "report": []}))["rows_read"]
    0
    """
    parts = [json.loads(text) for text in reports.sort_values("part_number")["report"]] \
        if "part_number" in reports.columns else [json.loads(text) for text in reports["report"]]
    files = [str(p.get("path", "")) for p in parts]
    name = str(reports["source"].iloc[0]) if len(reports) else ""
    merged: dict = {}
    for path, report in zip(files, parts):
        label = Path(path).name
        for repair in report.get("repairs", []):
            key = (repair["column"], repair["problem"], repair["action"])
            entry = merged.setdefault(key, {"column": key[0], "problem": key[1], "action": key[2],
                                            "rows": 0, "dropped": 0, "lines": []})
            entry["rows"] += int(repair.get("rows", 0))
            entry["dropped"] += int(repair.get("dropped", 0))
            room = max(_SHOWN - len(entry["lines"]), 0)
            entry["lines"] += [f"{label}:{line}" for line in repair.get("lines", [])[:room]]
    extra = _repeat_repairs(repeats) if repeats is not None else []
    return {"path": name, "parts": files, "rows_read": sum(int(r.get("rows_read", 0)) for r in parts),
            "rows_kept": sum(int(r.get("rows_kept", 0)) for r in parts) - sum(r["dropped"] for r in extra),
            "repairs": list(merged.values()) + extra}


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
    path = Path(path)
    parquet = path.name.lower().endswith(_PARQUET)
    try:
        if parquet:
            frame = pd.read_parquet(path)
        else:
            with _io._pandas_input(path) as source:
                frame = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        ids = [pd.to_numeric(frame[c].astype("str").str.strip(), errors="coerce") for c in (USER, SESSION)]
        wanted = set(zip(np.asarray(users).tolist(), np.asarray(sessions).tolist()))
        hit = np.flatnonzero([(u, s) in wanted for u, s in zip(ids[0].tolist(), ids[1].tolist())])
    except Exception:  # noqa: BLE001 - the message stands without the lines
        return "(lines not found)"
    if parquet:
        return _describe([int(h) + 1 for h in hit[:_SHOWN]], len(hit), "row")
    try:
        numbers = _io._Lines(path).of(hit)
    except Exception:  # noqa: BLE001 - row order stands in, as load_sessions does
        numbers = [int(h) + 2 for h in hit[:_SHOWN]]
    return _describe(numbers, len(hit), "line")


def _describe(numbers, total: int, unit: str) -> str:
    """'line 4', 'lines 4, 9 and 3 more', as load_sessions words them."""
    shown = ", ".join(str(n) for n in numbers[:_SHOWN])
    more = total - min(len(numbers), _SHOWN)
    return (unit if total == 1 else unit + "s") + " " + shown + (f" and {more} more" if more > 0 else "")


def _repeats(part: pd.DataFrame) -> pd.DataFrame:
    """The first repeats dropped in a checked partition, with their number."""
    repeated = part[part["_repeat"].to_numpy()]
    first = repeated[[PART, USER, SESSION]].head(_SHOWN)
    return first.assign(total=np.full(len(first), len(repeated), dtype=np.int64))


def _repeat_repairs(table: pd.DataFrame) -> list[dict]:
    """The load-report entry for sessions repeated in two parts (none when there are none)."""
    if not len(table):
        return []
    total = int(table.drop_duplicates("_partition")["total"].sum())
    files = _files_of(table)
    shown = table.sort_values([PART, USER, SESSION]).head(_SHOWN)
    lines = []
    for code in sorted(set(shown[PART].cat.codes.tolist())):
        group = shown[shown[PART].cat.codes.to_numpy() == code]
        lines.append(f"{Path(files[code]).name} {_lines_in_part(files[code], group[USER], group[SESSION])}")
    return [{"column": SESSION, "problem": "session repeated exactly in another part (same user_id and session_id)",
             "action": "dropped the repeats", "rows": total, "dropped": total, "lines": lines}]


