"""More data than one machine: sessions -> journeys and the five metrics on a Dask cluster.

The pandas path (:func:`journey_utils.load_sessions`, :func:`journey_utils.preprocess`,
:mod:`journey_utils.metrics`) holds every session in one process. Here the same code
runs on a Dask cluster, one piece of the data per task, so the sessions never meet in
one process:

- :func:`read_sessions` reads a folder or glob of parts (CSV, compressed too, or
  Parquet) as a Dask DataFrame with one partition per part; each part is read and
  checked by :func:`journey_utils.load_sessions` inside its task, so the messages
  are the same and name the part and its lines. The load reports of the parts are
  summed into one.
- :func:`preprocess` shuffles the sessions on ``user_id`` (every user's sessions land
  in one partition), checks what spans parts (one plan per user; a session repeated
  in two parts must agree, and is then dropped as a repeat), and runs
  :func:`journey_utils.preprocess` on each partition.
- :func:`page_count`, :func:`page_presence`, :func:`page_destinations`,
  :func:`page_transitions`, :func:`page_sequences`, :func:`journey_lengths` and
  :func:`journey_length` take journeys as a Dask DataFrame, run the pandas metric on
  each partition (on the selected plans) and add the partial counts up; they return
  the pandas objects the pandas functions return, sorted the same way.
- :func:`prepare` (and ``python -m journey_utils.cluster prepare``) writes what the
  reports need per user as Parquet: the journeys under the preprocessing settings,
  each user's first-N and last-N session journeys, and session counts.

Every user's journey is computed by the pandas code from all of that user's sessions,
so the figures equal the pandas path's exactly.

Examples
--------
>>> from distributed import Client, LocalCluster                  # doctest: +SKIP
>>> from journey_utils import cluster
>>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
>>> sessions, report = cluster.read_sessions("exports/*.csv.gz")   # doctest: +SKIP
>>> journeys = cluster.preprocess(sessions, sessions=3).persist()  # doctest: +SKIP
>>> cluster.page_presence(journeys, plan="Annual", normalize=True)  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import time
from pathlib import Path

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from journey_utils import io as _io
from journey_utils import metrics as _metrics
from journey_utils._checks import check_positive_int, plan_mask, ranked
from journey_utils.preprocess import preprocess as _pandas_preprocess

__all__ = [
    "is_dask",
    "journey_length",
    "journey_lengths",
    "load_report",
    "local_cluster",
    "page_count",
    "page_destinations",
    "page_presence",
    "page_sequences",
    "page_transitions",
    "part_files",
    "prepare",
    "preprocess",
    "read_sessions",
    "repeats",
    "summed_report",
]

USER, SESSION, PLAN, TARGET = _io.USER, _io.SESSION, _io.PLAN, _io.TARGET
REQUIRED = list(_io.REQUIRED_COLUMNS)
#: Column added to the sessions read by :func:`read_sessions`: the number of the part
#: (in :func:`part_files` order) each session was read from.
PART = "_part"
# Suffixes of the files a folder or glob may hold: CSV (compressed too) and Parquet.
_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".gz", ".bz2", ".xz", ".zst", ".zip",
        ".tar", ".tar.gz", ".tar.bz2", ".tar.xz")
_PARQUET = (".parquet", ".pq")
_SHOWN = 10


def is_dask(data) -> bool:
    """True when ``data`` is a Dask DataFrame (what the pandas metrics dispatch on).

    Examples
    --------
    >>> import pandas as pd
    >>> is_dask(pd.DataFrame())
    False
    """
    return isinstance(data, dd.DataFrame)


# --- reading -------------------------------------------------------------------------


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
                         PART: pd.Categorical.from_codes([], categories=files)})


def _load_part(path: str, number: int, files: list[str], empty_journeys: str) -> pd.DataFrame:
    """One part, read and checked by load_sessions; its load report stays in attrs."""
    import warnings

    with warnings.catch_warnings():
        # Repairs are reported once, summed, by load_report(); not once per part in a worker's log.
        warnings.simplefilter("ignore", _io.JourneyDataWarning)
        data = _io.load_sessions(path, empty_journeys=empty_journeys)
    report = data.attrs.get("load_report", {})
    out = data[REQUIRED].astype({PLAN: "str", TARGET: "str"})
    out[PART] = pd.Categorical.from_codes(np.full(len(out), number, dtype=_code_type(files)), categories=files)
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
        ``user_journey`` (str) and ``_part`` (int32, the part's number in
        :func:`part_files` order). Other columns of the export are not carried.
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
    and journey agree: the copies from later parts are marked in ``_repeat`` (and
    dropped by preprocessing); when they disagree it is an error, as within one file.
    A user with two plans in two parts is an error too. Returns the partition sorted
    by user, session and part, with the ``_repeat`` column added.
    """
    if not len(part):
        return part.assign(_repeat=np.zeros(0, dtype=bool))
    files = _files_of(part)
    name = _source_name(files)
    part_codes = part[PART].cat.codes.to_numpy() if files else np.zeros(len(part), np.int8)
    order = np.lexsort((part_codes, part[SESSION].to_numpy(), part[USER].to_numpy()))
    ordered = part.iloc[order]
    users, sessions = ordered[USER].to_numpy(), ordered[SESSION].to_numpy()
    same_user = users[1:] == users[:-1]
    repeat = np.r_[False, same_user & (sessions[1:] == sessions[:-1])]
    if repeat.any():
        # Each repeat against the first copy of its (user, session): the start of its run.
        first = np.maximum.accumulate(np.where(repeat, 0, np.arange(len(repeat))))
        bad = np.zeros(len(repeat), dtype=bool)
        for column in (PLAN, TARGET):
            values = ordered[column].to_numpy()
            bad |= repeat & (values != values[first])
        if bad.any():
            rows = np.flatnonzero(bad)
            user, session = users[rows[0]], sessions[rows[0]]
            involved = ordered[(users == user) & (sessions == session)]
            raise _io.JourneyDataError(
                f"{name}, column '{SESSION}': {len(rows)} rows share a (user_id, session_id) with a different "
                f"row in another part (e.g. user {user}, session {session}: {_where(involved, files)})")
    plans = ordered[PLAN].to_numpy()
    mixed = np.flatnonzero(np.r_[False, same_user & (plans[1:] != plans[:-1])])
    if len(mixed):
        bad_users = pd.unique(users[mixed])
        example = ordered[users == bad_users[0]].drop_duplicates(PLAN)
        shown = ", ".join(str(u) for u in bad_users[:5])
        raise _io.JourneyDataError(
            f"{name}, column '{PLAN}': {len(bad_users)} users have more than one plan across parts "
            f"(users {shown}); each user is expected to have bought one plan "
            f"(e.g. user {bad_users[0]}: {_where(example, files, plans=True)})")
    return ordered.assign(_repeat=repeat)


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


# --- sessions -> journeys ------------------------------------------------------------------


def _check_sessions(data, function: str) -> None:
    if not isinstance(data, dd.DataFrame):
        raise TypeError(f"{function}: expected a Dask DataFrame, found {type(data).__name__}")
    missing = [c for c in REQUIRED if c not in data.columns]
    if missing:
        raise ValueError(f"{function}: column {', '.join(map(repr, missing))} not found; "
                         f"columns present: {', '.join(map(str, data.columns))}")


def _checked(sessions: dd.DataFrame, npartitions=None) -> dd.DataFrame:
    """The sessions shuffled on user_id and checked across parts (see :func:`_across_parts`)."""
    frame = sessions[REQUIRED + ([PART] if PART in sessions.columns else [])]
    if PART not in frame.columns:
        frame = frame.assign(**{PART: pd.Categorical.from_codes(np.zeros(0, np.int8), categories=["sessions"])})
    by_user = frame.shuffle(on=USER, npartitions=npartitions or sessions.npartitions)
    meta = frame._meta.assign(_repeat=np.zeros(0, dtype=bool))
    return by_user.map_partitions(_across_parts, meta=meta)


def _journeys_part(part: pd.DataFrame, sessions, count_from, pages) -> pd.DataFrame:
    kept = part[~part["_repeat"].to_numpy()]
    return _pandas_preprocess(kept[REQUIRED], sessions=sessions, count_from=count_from, pages_to_remove=pages)


def _probe() -> pd.DataFrame:
    return pd.DataFrame({USER: [0], SESSION: [0], PLAN: ["x"], TARGET: ["x"]}).astype({PLAN: "str", TARGET: "str"})


def _settings(sessions, count_from, pages):
    # The pandas function checks the settings too: run on one row, it stops on a
    # mistake before anything is computed, with its own message.
    meta = _pandas_preprocess(_probe(), sessions=sessions, count_from=count_from, pages_to_remove=pages)
    return list([pages] if isinstance(pages, str) else pages), meta.iloc[:0]


def preprocess(data, sessions="All", count_from="last", pages_to_remove=(), *, npartitions=None) -> dd.DataFrame:
    """Sessions -> one journey per user on the cluster: :func:`journey_utils.preprocess` per partition.

    The sessions are shuffled on ``user_id`` so that every user's sessions are in one
    partition; the checks that span parts run there (a session in two parts must
    agree, and is then kept once; one plan per user), then the pandas preprocessing
    runs on each partition. Nothing is computed until the result is.

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Sessions from :func:`read_sessions` (or any Dask frame with the four columns).
    sessions : 'All' or int, default 'All'
    count_from : {'last', 'first'}, default 'last'
    pages_to_remove : str or list of str, default ()
        As in :func:`journey_utils.preprocess`.
    npartitions : int, optional
        Partitions after the shuffle (default: as many as ``data`` has).

    Returns
    -------
    dask.dataframe.DataFrame
        One row per user with the columns of :func:`journey_utils.preprocess`. Users
        are spread over the partitions by a hash of their id; each partition is
        sorted by ``user_id``.

    Examples
    --------
    >>> sessions, report = read_sessions("exports/")                    # doctest: +SKIP
    >>> journeys = preprocess(sessions, 3, "first", ["Log in"]).persist()  # doctest: +SKIP
    """
    _check_sessions(data, "preprocess")
    pages, meta = _settings(sessions, count_from, pages_to_remove)
    return _checked(data, npartitions).map_partitions(_journeys_part, sessions, count_from, pages, meta=meta)


def repeats(data, *, npartitions=None) -> dd.DataFrame:
    """The sessions :func:`preprocess` drops because another part holds them too (lazy).

    Compute it with the journeys (``dask.compute(journeys, repeats(sessions))``: the
    shuffle is shared) and give it to :func:`summed_report`.

    Returns
    -------
    dask.dataframe.DataFrame
        The first repeats of every partition (``_part``, ``user_id``, ``session_id``) and
        their number in that partition (``total``, ``_partition``).

    Examples
    --------
    >>> journeys, table = dask.compute(preprocess(sessions), repeats(sessions))   # doctest: +SKIP
    """
    _check_sessions(data, "repeats")
    checked = _checked(data, npartitions)
    return checked.map_partitions(_repeats_with_partition, meta=_repeats_meta(checked), partition_info=True)


def _repeats_meta(checked):
    return checked._meta[[PART, USER, SESSION]].assign(total=np.zeros(0, np.int64), _partition=np.zeros(0, np.int64))


def _repeats_with_partition(part, partition_info=None):
    number = partition_info["number"] if partition_info else 0
    return _repeats(part).assign(_partition=np.int64(number))


# --- the five metrics --------------------------------------------------------------------


def _plans_and(partial, plan, plan_column):
    """A partition function: (plans present, the partial result on the selected rows)."""

    def run(part: pd.DataFrame):
        present = part[plan_column].dropna().unique().tolist() if plan_column in part.columns else []
        if plan is not None:
            part = part[part[plan_column].isin(plan).to_numpy()]
        return present, partial(part)

    return run


def _plan_frame(data) -> pd.DataFrame:
    """An empty stand-in for ``data`` with its columns, for the pandas plan checks' messages."""
    return pd.DataFrame(columns=[str(c) for c in data.columns])


def _wanted(data, plan, plan_column: str, function: str):
    """The plans to select before counting (None: every row); its type and spelling checked now."""
    if plan is None or (isinstance(plan, str) and plan == "All"):
        return None
    if plan_column not in data.columns:
        # The pandas check words the message (and lists the columns present).
        plan_mask(_plan_frame(data), plan, plan_column, function)
    wanted = [plan] if isinstance(plan, str) else plan
    listed = list(wanted) if _iterable(wanted) else []
    frame = pd.DataFrame({plan_column: pd.Series([p for p in listed if isinstance(p, str)], dtype=object)})
    plan_mask(frame, plan, plan_column, function)
    return listed


def _iterable(value) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return not isinstance(value, (bytes, dict))


def _select(data, presents, plan, wanted, plan_column: str, function: str) -> None:
    """Check ``plan`` against the plans present in every partition, as the pandas path does."""
    if plan is None:
        return
    if plan_column not in data.columns:
        plan_mask(_plan_frame(data), plan, plan_column, function)
        return
    present = sorted({p for found in presents for p in found}, key=str)
    frame = pd.DataFrame({plan_column: pd.Series(present, dtype=object)})
    mask = plan_mask(frame, plan, plan_column, function)
    if wanted is None and mask is not None and not np.asarray(mask).all():
        # 'All' read as a plan name: counted again on that plan.
        raise _Again([p for p, m in zip(present, mask) if m])


class _Again(Exception):
    def __init__(self, plans):
        super().__init__(plans)
        self.plans = plans


def _partials(data, function, columns, plan, plan_column, partial, *, extra=(), select=True):
    """The partial results of every partition on the selected plans (one pass), and the plans.

    With ``select=False`` every row is counted and the plans selected are returned for
    the caller to apply (None: every plan).
    """
    if not isinstance(data, dd.DataFrame):
        raise TypeError(f"{function}: expected a Dask DataFrame, found {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"{function}: column {', '.join(repr(c) for c in missing)} not found; "
                         f"columns present: {', '.join(map(str, data.columns))}")
    wanted = _wanted(data, plan, plan_column, function)
    keep = [c for c in dict.fromkeys([*columns, plan_column, *extra]) if c in data.columns]
    run = _plans_and(partial, wanted if select else None, plan_column)
    results = dask.compute(*[dask.delayed(run, pure=True)(part) for part in data[keep].to_delayed()])
    try:
        _select(data, [present for present, _ in results], plan, wanted, plan_column, function)
    except _Again as again:
        if select:
            return _partials(data, function, columns, again.plans, plan_column, partial, extra=extra)
        wanted = again.plans
    return [result for _, result in results], wanted


def _summed(partials: list[pd.Series]) -> pd.Series:
    parts = [p for p in partials if len(p)]
    if not parts:
        return pd.Series(np.empty(0, np.int64), index=pd.Index([], dtype=object))
    return pd.concat(parts).groupby(level=0, sort=False).sum()


def page_count(data, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """:func:`journey_utils.page_count` for journeys as a Dask DataFrame.

    Each partition's counts (by the pandas function, on the selected plans) are summed;
    the result is the pandas function's, sorted the same way (count descending, then page).

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Journeys, for example from :func:`preprocess`.
    plan : None, str or list of str
        As in the pandas function (``None``: every plan).

    Returns
    -------
    Series
        Page -> occurrences (index ``page``, name ``count``).

    Examples
    --------
    >>> page_count(journeys, plan="Annual").head(3)   # doctest: +SKIP
    """
    counts = _summed(_partials(data, "page_count", [target_column], plan, plan_column,
                               lambda part: _metrics.page_count(part, target_column=target_column))[0])
    return ranked(counts.to_numpy(dtype=np.int64), counts.index.to_numpy(), name="count", index_name="page")


def page_presence(data, plan=None, normalize=False, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """:func:`journey_utils.page_presence` for journeys as a Dask DataFrame.

    Journeys containing each page are counted per partition and summed; with
    ``normalize`` they are divided by the number of selected journeys (empty ones
    included), as in the pandas function.

    Returns
    -------
    Series
        Page -> journeys (name ``journeys``) or share (name ``share``).

    Examples
    --------
    >>> page_presence(journeys, normalize=True).head(3)   # doctest: +SKIP
    """
    partials = _partials(data, "page_presence", [target_column], plan, plan_column,
                         lambda part: (_metrics.page_presence(part, target_column=target_column), len(part)))[0]
    counts = _summed([p for p, _ in partials])
    total = sum(n for _, n in partials)
    values, labels = counts.to_numpy(dtype=np.int64), counts.index.to_numpy()
    if normalize:
        share = values / total if total else values.astype(float)
        return ranked(share, labels, name="share", index_name="page")
    return ranked(values, labels, name="journeys", index_name="page")


def page_destinations(data, page, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """:func:`journey_utils.page_destinations` for journeys as a Dask DataFrame.

    Returns
    -------
    Series
        Next page -> times it follows ``page`` (index ``next_page``, name ``count``).

    Examples
    --------
    >>> page_destinations(journeys, "Pricing")   # doctest: +SKIP
    """
    if not isinstance(page, str):
        raise TypeError(f"page_destinations: page must be a page name (str); found {page!r}")
    counts = _summed(_partials(data, "page_destinations", [target_column], plan, plan_column,
                               lambda part: _metrics.page_destinations(part, page, target_column=target_column))[0])
    return ranked(counts.to_numpy(dtype=np.int64), counts.index.to_numpy(), name="count", index_name="next_page")


def page_transitions(data, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.DataFrame:
    """:func:`journey_utils.page_transitions` for journeys as a Dask DataFrame.

    Returns
    -------
    DataFrame
        ``page``, ``next_page``, ``count``; count descending, then page and next page.

    Examples
    --------
    >>> page_transitions(journeys).head()   # doctest: +SKIP
    """
    partials = _partials(data, "page_transitions", [target_column], plan, plan_column,
                         lambda part: _metrics.page_transitions(part, target_column=target_column))[0]
    parts = [p for p in partials if len(p)]
    if parts:
        summed = pd.concat(parts).groupby(["page", "next_page"], sort=False)["count"].sum().reset_index()
    else:
        summed = partials[0] if partials else pd.DataFrame({"page": [], "next_page": [], "count": []})
    table = pd.DataFrame({"page": pd.array(summed["page"].tolist(), dtype="str"),
                          "next_page": pd.array(summed["next_page"].tolist(), dtype="str"),
                          "count": summed["count"].to_numpy(dtype=np.int64)})
    table = table.sort_values(["page", "next_page"], kind="stable")
    table = table.sort_values("count", ascending=False, kind="stable")
    return table.reset_index(drop=True)


def page_sequences(data, n=3, plan=None, *, target_column=TARGET, plan_column=PLAN) -> pd.Series:
    """:func:`journey_utils.page_sequences` for journeys as a Dask DataFrame.

    A journey lies in one partition, so counting journeys per run in each partition
    and summing counts every journey once.

    Returns
    -------
    Series
        ``'A-B-C'`` -> journeys containing it (index ``sequence``, name ``journeys``).

    Examples
    --------
    >>> page_sequences(journeys, n=3, plan=["Monthly"]).head()   # doctest: +SKIP
    """
    n = check_positive_int(n, "n", "page_sequences")
    counts = _summed(_partials(data, "page_sequences", [target_column], plan, plan_column,
                               lambda part: _metrics.page_sequences(part, n, target_column=target_column))[0])
    return ranked(counts.to_numpy(dtype=np.int64), counts.index.to_numpy(), name="journeys", index_name="sequence")


def journey_lengths(data, plan=None, *, target_column=TARGET, plan_column=PLAN, group_column=USER) -> pd.Series:
    """:func:`journey_utils.journey_lengths` for journeys as a Dask DataFrame.

    The journeys are numbered 0, 1, ... in ``user_id`` order (partition order when the
    frame has no ``user_id``), which is the index :func:`journey_utils.preprocess`
    gives them; the selected journeys' lengths come in that order with those numbers,
    so the result equals the pandas one on the same journeys.

    Returns
    -------
    Series
        Pages per journey (name ``length``).

    Examples
    --------
    >>> journey_lengths(journeys).describe()   # doctest: +SKIP
    """

    def partial(part):
        lengths = _metrics.journey_lengths(part, target_column=target_column).to_numpy(dtype=np.int64)
        key = part[group_column].to_numpy() if group_column in part.columns else np.zeros(len(part), np.int64)
        plans = part[plan_column].to_numpy(dtype=object) if plan_column in part.columns else np.zeros(len(part))
        return pd.DataFrame({"key": key, "plan": plans, "length": lengths})

    # Every journey is needed for its number; the plans are selected afterwards.
    partials, wanted = _partials(data, "journey_lengths", [target_column], plan, plan_column, partial,
                                 extra=[group_column], select=False)
    table = pd.concat(partials, ignore_index=True) if partials else pd.DataFrame({"key": [], "plan": [], "length": []})
    table = table.sort_values("key", kind="stable").reset_index(drop=True)
    if wanted is not None:
        table = table[table["plan"].isin(wanted).to_numpy()]
    return pd.Series(table["length"].to_numpy(dtype=np.int64), index=table.index, name="length", dtype=np.int64)


def journey_length(data, plan=None, *, target_column=TARGET, plan_column=PLAN) -> float:
    """:func:`journey_utils.journey_length` (mean pages per journey) for a Dask DataFrame.

    Pages and journeys are summed over partitions; NaN when no journey is selected.

    Examples
    --------
    >>> journey_length(journeys, plan="Annual")   # doctest: +SKIP
    """

    def partial(part):
        lengths = _metrics.journey_lengths(part, target_column=target_column).to_numpy(dtype=np.int64)
        return int(lengths.sum()), len(lengths)

    partials = _partials(data, "journey_length", [target_column], plan, plan_column, partial)[0]
    pages, journeys = sum(p for p, _ in partials), sum(n for _, n in partials)
    # pandas takes the mean of the lengths as floats: exact sums below 2**53, then one division.
    return float(np.float64(pages) / np.float64(journeys)) if journeys else float("nan")


# --- per-user outputs for the reports -------------------------------------------------------

#: What :func:`prepare` writes in its output folder, each a folder of Parquet parts.
OUTPUTS = ("journeys", "first_sessions", "last_sessions")
MANIFEST = "manifest.json"


def _per_user_part(part: pd.DataFrame, sessions, count_from, pages, total: bool) -> pd.DataFrame:
    """One partition's journeys, with every user's number of sessions when ``total``."""
    journeys = _journeys_part(part, sessions, count_from, pages)
    if total:
        kept = part[~part["_repeat"].to_numpy()]
        # Both are sorted by user, one row per user in the journeys.
        users, counts = np.unique(kept[USER].to_numpy(), return_counts=True)
        journeys["sessions_total"] = counts.astype(np.int64) if np.array_equal(users, journeys[USER].to_numpy()) \
            else pd.Series(counts, index=users).reindex(journeys[USER].to_numpy()).to_numpy(dtype=np.int64)
    return journeys


def prepare(source, output, *, sessions="All", count_from="last", pages_to_remove=(), window=3,
            npartitions=None, empty_journeys="drop") -> dict:
    """Compute on the cluster what the reports need per user, and write it as Parquet.

    Runs on the current Dask client (``distributed.Client``), or Dask's default
    scheduler without one. Every part is read once, the sessions are shuffled once,
    and no process holds all the sessions. The output folder appears complete or not
    at all: it is written under a temporary name next to ``output`` and renamed at the
    end, replacing an earlier output of this function (a bad part, or any error,
    leaves ``output`` as it was).

    What ``output`` holds (each dataset a folder of ``part-NNNNN.parquet`` files, one
    row per user, every part sorted by ``user_id``; users are spread over parts by a
    hash of their id, so sort by ``user_id`` for the pandas row order):

    - ``journeys/``: :func:`journey_utils.preprocess` with ``sessions``, ``count_from``
      and ``pages_to_remove`` — ``user_id`` (int64), ``subscription_type`` (string),
      ``user_journey`` (string), ``session_id`` (int64, the latest session kept),
      ``n_sessions`` (int64, sessions joined) — plus ``sessions_total`` (int64, all the
      user's sessions);
    - ``first_sessions/`` and ``last_sessions/``: the same preprocessing of each
      user's first and last ``window`` sessions (same columns without ``sessions_total``);
    - ``manifest.json``: the source and its parts, the settings, the summed load
      report (repairs in every part, and sessions repeated across parts), the numbers
      of sessions and users, and the files written.

    Parameters
    ----------
    source : str, path-like or list
        A folder, glob or list of session parts (see :func:`read_sessions`).
    output : str or path-like
        The output folder (on a file system every worker can write to).
    sessions, count_from, pages_to_remove
        The preprocessing settings, as in :func:`journey_utils.preprocess`.
    window : int, default 3
        N of the first-N and last-N session journeys.
    npartitions : int, optional
        Partitions after the shuffle (default: one per part).
    empty_journeys : {'drop', 'keep'}, default 'drop'

    Returns
    -------
    dict
        The manifest (also written to ``output/manifest.json``).

    Examples
    --------
    >>> from distributed import Client                                # doctest: +SKIP
    >>> with Client(local_cluster()):                                 # doctest: +SKIP
    ...     manifest = prepare("exports/", "build/users", sessions=3)
    """
    window = check_positive_int(window, "window", "prepare")
    pages, _ = _settings(sessions, count_from, pages_to_remove)
    _settings(window, "first", pages)
    output = Path(os.fspath(output)).absolute()
    if output.exists() and not (output.is_dir() and ((output / MANIFEST).is_file() or not any(output.iterdir()))):
        raise FileExistsError(f"prepare: {output} exists and is not an output of prepare (no {MANIFEST}); "
                              "choose another folder or remove it")
    started = time.time()
    data, reports = read_sessions(source, empty_journeys=empty_journeys)
    checked = _checked(data, npartitions)
    frames = {
        "journeys": (sessions, count_from, True),
        "first_sessions": (window, "first", False),
        "last_sessions": (window, "last", False),
    }
    temporary = output.parent / f".{output.name}.partial-{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    try:
        writes = []
        for name, (n, end, total) in frames.items():
            meta = _settings(n, end, pages)[1]
            if total:
                meta = meta.assign(sessions_total=np.zeros(0, np.int64))
            frame = checked.map_partitions(_per_user_part, n, end, pages, total, meta=meta)
            writes.append(frame.to_parquet(str(temporary / name), write_index=False, compute=False,
                                           name_function=lambda i: f"part-{i:05d}.parquet"))
        table = checked.map_partitions(_repeats_with_partition, meta=_repeats_meta(checked), partition_info=True)
        # The Parquet writes and the load reports computed together: one reading, one shuffle.
        *_, loaded, repeated = dask.compute(*writes, reports, table)
        summed = summed_report(loaded, repeated)
        files = {name: sorted(p.name for p in (temporary / name).glob("*.parquet")) for name in frames}
        users = sum(_parquet_rows(temporary / "journeys" / f) for f in files["journeys"])
        summed["users"] = users
        manifest = {
            "source": summed["path"],
            "parts": summed["parts"],
            "checksum": _checksum(source),
            "settings": {"sessions": sessions, "count_from": count_from, "pages_to_remove": pages, "window": window},
            "load_report": summed,
            "sessions": summed["rows_kept"],
            "users": users,
            "outputs": {name: {"folder": name, "files": files[name]} for name in frames},
            "seconds": round(time.time() - started, 3),
        }
        (temporary / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        _replace(temporary, output)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return manifest


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(path).num_rows


def _checksum(source):
    """The source's checksum as the reports show it, when the io module computes one for it."""
    compute = getattr(_io, "file_checksum", None)
    if compute is None or isinstance(source, (list, tuple)) or glob.has_magic(os.fspath(source)):
        return None
    try:
        return compute(source)
    except Exception:  # noqa: BLE001 - the checksum is informative only
        return None


def _replace(temporary: Path, output: Path) -> None:
    """Put the finished folder in place of ``output`` (two renames; the old one is removed)."""
    old = output.parent / f".{output.name}.old-{os.getpid()}"
    if output.exists():
        os.replace(output, old)
    os.replace(temporary, output)
    shutil.rmtree(old, ignore_errors=True)


def local_cluster(n_workers=None, memory_limit="auto", **options):
    """A ``distributed.LocalCluster`` sized to this machine: one single-threaded worker per CPU.

    Parameters
    ----------
    n_workers : int, optional
        Workers (default: the CPUs this process may use).
    memory_limit : str or int, default 'auto'
        Per worker; ``'auto'`` shares the machine's memory between the workers.
    **options
        Passed to ``LocalCluster`` (defaults: processes, loopback only, no dashboard).

    Examples
    --------
    >>> from distributed import Client                     # doctest: +SKIP
    >>> client = Client(local_cluster(memory_limit="2GiB"))   # doctest: +SKIP
    """
    from distributed import LocalCluster

    if n_workers is None:
        n_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    settings = {"processes": True, "threads_per_worker": 1, "host": "127.0.0.1", "dashboard_address": None, **options}
    return LocalCluster(n_workers=n_workers, memory_limit=memory_limit, **settings)


# --- command line ------------------------------------------------------------------------


def _sessions_arg(text: str):
    if text == "All":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'All' or a positive integer; found {text!r}") from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m journey_utils.cluster",
        description="Sessions -> per-user journeys on a Dask cluster, written as Parquet for the reports.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("prepare", help="compute the per-user journeys the reports need",
                              description=prepare.__doc__.split("\n\n")[0])
    run.add_argument("data", help="a folder or glob of session parts (CSV, compressed too, or Parquet), or one file")
    run.add_argument("--output", required=True, help="output folder (replaced when complete)")
    run.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:8786); "
                     "default: a LocalCluster sized to this machine")
    run.add_argument("--workers", type=int, help="workers of the LocalCluster (default: one per CPU)")
    run.add_argument("--memory-limit", default="auto", help="memory per LocalCluster worker (e.g. 2GiB)")
    run.add_argument("--sessions", type=_sessions_arg, default="All", help="'All' or sessions per user to keep")
    run.add_argument("--count-from", choices=("first", "last"), default="last")
    run.add_argument("--pages-to-remove", nargs="*", default=[], metavar="PAGE")
    run.add_argument("--window", type=int, default=3, help="N of the first-N and last-N session journeys")
    run.add_argument("--partitions", type=int, help="partitions after the shuffle (default: one per part)")
    args = parser.parse_args(argv)

    import logging

    from distributed import Client

    # The shuffle logs each of its starts as a warning; nothing to act on.
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    cluster = None
    try:
        if args.scheduler:
            client = Client(args.scheduler)
        else:
            cluster = local_cluster(args.workers, memory_limit=args.memory_limit)
            client = Client(cluster)
        with client:
            manifest = prepare(args.data, args.output, sessions=args.sessions, count_from=args.count_from,
                               pages_to_remove=args.pages_to_remove, window=args.window,
                               npartitions=args.partitions)
    except (_io.JourneyDataError, ValueError, TypeError, FileExistsError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if cluster is not None:
            cluster.close()
    report = manifest["load_report"]
    print(f"{args.output}: {manifest['users']:,} users from {manifest['sessions']:,} sessions "
          f"({report['rows_read']:,} rows in {len(manifest['parts'])} parts, {len(report['repairs'])} kinds of repair) "
          f"in {manifest['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
