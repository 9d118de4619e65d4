"""Reading and writing session files, with validation at the boundary.

``load_sessions`` either returns clean data or raises :class:`JourneyDataError`
naming the file, the column, the problem and the first offending lines. Where a
repair is safer than stopping, it repairs, warns with a count, and records the
repair in ``data.attrs["load_report"]`` so a report can show it. Nothing is
dropped silently.

Line numbers are those of the file: the header is line 1, the first session line 2.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["JourneyDataError", "JourneyDataWarning", "load_sessions", "save_journeys", "load_report", "REQUIRED_COLUMNS"]

USER, SESSION, PLAN, TARGET = "user_id", "session_id", "subscription_type", "user_journey"
REQUIRED_COLUMNS = (USER, SESSION, PLAN, TARGET)
EMPTY_JOURNEYS = ("drop", "keep")
_SHOWN = 10


class JourneyDataError(ValueError):
    """A session file that cannot be analysed as it is."""


class JourneyDataWarning(UserWarning):
    """A session file that was repaired while loading (the message counts what changed)."""


def _lines(positions) -> str:
    lines = [str(int(p) + 2) for p in positions[:_SHOWN]]
    more = len(positions) - _SHOWN
    return ", ".join(lines) + (f" and {more} more" if more > 0 else "")


def _fail(path, column, problem, positions=None) -> None:
    where = f", column '{column}'" if column else ""
    at = f" (lines {_lines(positions)})" if positions is not None and len(positions) else ""
    raise JourneyDataError(f"{path}{where}: {problem}{at}")


def load_sessions(path, *, empty_journeys="drop") -> pd.DataFrame:
    """Read a session export and validate it.

    Expected columns (names matched ignoring case and surrounding spaces):
    ``user_id`` and ``session_id`` (non-negative integers), ``subscription_type``
    (the plan) and ``user_journey`` (pages joined by ``-``). Other columns are kept.
    Gzip and other compressions are read by file extension; a UTF-8 byte order mark
    and Windows line endings are accepted.

    Repairs (each warns with a count and is listed in ``attrs["load_report"]``):

    - spaces around page names and empty segments (``Homepage--Pricing``, a leading
      or trailing ``-``) are removed;
    - spaces around plan names are removed;
    - rows that repeat another row exactly are dropped;
    - rows whose journey is empty are dropped (``empty_journeys='drop'``) or kept as
      journeys of length 0 (``'keep'``, for processed files where a journey emptied
      by ``remove_pages`` still stands for a user).

    Errors (:class:`JourneyDataError`, a ``ValueError``): a missing or empty file, a
    missing column, a file with no session rows, ids that are not non-negative
    integers, a missing plan, two rows for one (user_id, session_id) that disagree,
    and a user with more than one plan.

    Parameters
    ----------
    path : str or path-like
        CSV file, optionally compressed (``.csv.gz``).
    empty_journeys : {'drop', 'keep'}, default 'drop'
        What to do with sessions whose journey is empty.

    Returns
    -------
    DataFrame
        Columns ``user_id``, ``session_id`` (int64), ``subscription_type``,
        ``user_journey`` (str), then any extra columns, in file order.

    Examples
    --------
    >>> import journey_utils as ju
    >>> sessions = ju.load_sessions(ju.SAMPLE_PATH)
    >>> list(sessions.columns[:4])
    ['user_id', 'session_id', 'subscription_type', 'user_journey']
    """
    if empty_journeys not in EMPTY_JOURNEYS:
        raise ValueError(f"load_sessions: empty_journeys must be 'drop' or 'keep'; found {empty_journeys!r}")
    path = Path(os.fspath(path))
    name = str(path)
    if not path.is_file():
        _fail(name, None, "file not found" if not path.exists() else "not a file")
    if path.stat().st_size == 0:
        _fail(name, None, f"the file is empty; expected a header line with {', '.join(REQUIRED_COLUMNS)}")

    rename = _header(path, name)
    text_columns = {original: "str" for original, canonical in rename.items() if canonical in (PLAN, TARGET)}
    id_columns = [original for original, canonical in rename.items() if canonical in (USER, SESSION)]
    try:
        data = _read(path, {**text_columns, **{c: "int64" for c in id_columns}})
    except (ValueError, OverflowError):
        # Some id is not an integer: read ids as text to find and name the lines.
        data = _read(path, {**text_columns, **{c: "str" for c in id_columns}})
    data = data.rename(columns=rename)
    report = {"path": name, "rows_read": len(data), "repairs": []}
    if len(data) == 0:
        _fail(name, None, "the file has a header but no session rows")

    for column in (USER, SESSION):
        data[column] = _integer_ids(data[column], name, column)
    data[PLAN] = _plans(data[PLAN], name, report)
    data[TARGET] = _journeys(data[TARGET], name, report)

    empty = np.flatnonzero((data[TARGET] == "").to_numpy())
    if len(empty) and empty_journeys == "drop":
        _repair(report, name, TARGET, "empty journey", "dropped the session", empty)
        data = data.drop(index=data.index[empty])
    elif len(empty):
        _repair(report, name, TARGET, "empty journey", "kept as a journey of length 0", empty, warn=False)

    data = _duplicates(data, name, report)
    _one_plan_per_user(data, name)

    data = data.reset_index(drop=True)
    report["rows_kept"] = len(data)
    report["users"] = int(data[USER].nunique())
    data.attrs["load_report"] = report
    return data


def _header(path: Path, name: str) -> dict:
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        _fail(name, None, f"no header line; expected columns {', '.join(REQUIRED_COLUMNS)}")
    except UnicodeDecodeError as error:
        _fail(name, None, f"not UTF-8 text ({error.reason} at byte {error.start})")
    except (pd.errors.ParserError, OSError, EOFError) as error:
        _fail(name, None, f"could not be read as CSV: {error}")
    found = {str(c).strip().lower(): c for c in header.columns}
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        shown = ", ".join(repr(str(c)) for c in header.columns)
        _fail(name, missing[0], f"required column{'s' if len(missing) > 1 else ''} "
              f"{', '.join(missing)} not found; columns in the file: {shown}")
    normalised = [str(c).strip().lower() for c in header.columns]
    doubled = sorted({c for c in normalised if normalised.count(c) > 1 and c in REQUIRED_COLUMNS})
    if doubled:
        _fail(name, doubled[0], "the column appears more than once in the header")
    return {found[c]: c for c in REQUIRED_COLUMNS}


def _read(path: Path, dtype: dict) -> pd.DataFrame:
    name = str(path)
    try:
        return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[], encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        _fail(name, None, f"not UTF-8 text ({error.reason} at byte {error.start})")
    except pd.errors.ParserError as error:
        _fail(name, None, f"could not be parsed as CSV: {error}")
    except (OSError, EOFError) as error:
        _fail(name, None, f"could not be read: {error}")


def _integer_ids(values: pd.Series, name: str, column: str) -> pd.Series:
    if pd.api.types.is_integer_dtype(values):
        numbers = values.to_numpy(dtype=np.int64)
        bad = np.flatnonzero(numbers < 0)
    else:
        text = values.astype("str").str.strip()
        parsed = pd.to_numeric(text.where(text.str.fullmatch(r"[+-]?\d+")), errors="coerce")
        bad = np.flatnonzero((parsed.isna() | (parsed < 0)).to_numpy())
        numbers = parsed.fillna(0).to_numpy(dtype=np.int64) if not len(bad) else None
    if len(bad):
        examples = ", ".join(repr(str(v)) for v in values.iloc[bad[:3]])
        _fail(name, column, f"{len(bad)} values are not non-negative integers (e.g. {examples})", bad)
    return pd.Series(numbers, index=values.index, dtype=np.int64)


def _plans(values: pd.Series, name: str, report: dict) -> pd.Series:
    stripped = values.str.strip()
    missing = np.flatnonzero((stripped == "").to_numpy())
    if len(missing):
        _fail(name, PLAN, f"{len(missing)} sessions have no plan", missing)
    changed = np.flatnonzero((stripped != values).to_numpy())
    if len(changed):
        _repair(report, name, PLAN, "spaces around the plan name", "removed the spaces", changed)
    return stripped


# Anything that is not a clean "Page-Page" join: spaces around a separator or at the
# ends, a leading/trailing separator, or an empty segment.
_UNTIDY = r"^[\s-]|[\s-]$|\s-|-\s|--"


def _journeys(values: pd.Series, name: str, report: dict) -> pd.Series:
    # Arrow's regex engine: pandas' str.contains falls back to Python's re, 20x slower.
    untidy = pd.Series(
        pc.match_substring_regex(pa.array(values, type=pa.large_string()), _UNTIDY).to_numpy(zero_copy_only=False),
        index=values.index,
    )
    rows = np.flatnonzero(untidy.to_numpy())
    if not len(rows):
        return values
    fixed = (
        values[untidy]
        .str.replace(r"\s*-\s*", "-", regex=True)
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
                "removed them", changed)
    return out


def _duplicates(data: pd.DataFrame, name: str, report: dict) -> pd.DataFrame:
    key = data.duplicated([USER, SESSION], keep=False).to_numpy()
    if not key.any():
        return data
    exact = data.duplicated(keep="first").to_numpy()
    conflicting = key & ~data.duplicated(keep=False).to_numpy()
    if conflicting.any():
        rows = data.index[np.flatnonzero(conflicting)].to_numpy()
        first = data.loc[rows[0]]
        _fail(name, SESSION, f"{len(rows)} rows share a (user_id, session_id) with a different row "
              f"(e.g. user {first[USER]}, session {first[SESSION]})", rows)
    rows = data.index[np.flatnonzero(exact)].to_numpy()
    _repair(report, name, SESSION, "row repeated exactly (same user_id and session_id)",
            "dropped the repeats", rows)
    return data[~exact]


def _one_plan_per_user(data: pd.DataFrame, name: str) -> None:
    plans_per_user = data.groupby(USER, sort=False)[PLAN].nunique()
    mixed = plans_per_user.index[plans_per_user.to_numpy() > 1]
    if len(mixed):
        rows = np.flatnonzero(data[USER].isin(mixed).to_numpy())
        positions = data.index[rows].to_numpy()
        shown = ", ".join(str(u) for u in mixed[:5])
        _fail(name, PLAN, f"{len(mixed)} users have more than one plan (users {shown}); "
              "each user is expected to have bought one plan", positions)


def _repair(report, name, column, problem, action, positions, warn=True) -> None:
    positions = np.asarray(positions)
    entry = {"column": column, "problem": problem, "action": action, "rows": int(len(positions)),
             "lines": [int(p) + 2 for p in positions[:_SHOWN]]}
    report["repairs"].append(entry)
    if warn:
        warnings.warn(f"{name}, column '{column}': {problem} in {len(positions)} rows: {action} "
                      f"(lines {_lines(positions)})", JourneyDataWarning, stacklevel=3)


def load_report(data: pd.DataFrame) -> pd.DataFrame:
    """What ``load_sessions`` repaired, one row per kind of repair.

    Returns
    -------
    DataFrame
        Columns ``column``, ``problem``, ``action``, ``rows`` and ``lines`` (the first
        lines affected); empty when nothing needed repair or ``data`` was not loaded
        by :func:`load_sessions`.

    Examples
    --------
    >>> import journey_utils as ju
    >>> ju.load_report(ju.load_sessions(ju.SAMPLE_PATH)).empty
    True
    """
    repairs = data.attrs.get("load_report", {}).get("repairs", [])
    columns = ["column", "problem", "action", "rows", "lines"]
    return pd.DataFrame([{k: r[k] for k in columns} for r in repairs], columns=columns)


def save_journeys(data, path) -> Path:
    """Write processed journeys as CSV, in the input schema.

    The file has ``user_id``, ``session_id``, ``subscription_type`` and ``user_journey``
    first, then any other columns (such as ``n_sessions``), so
    ``load_sessions(path, empty_journeys='keep')`` reads it back unchanged. The file
    is written to a temporary name and renamed, so a crash never leaves half a file.

    Parameters
    ----------
    data : DataFrame
        Journeys, for example from :func:`journey_utils.preprocess`.
    path : str or path-like
        Destination; parent folders are created. ``.gz`` compresses.

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
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"save_journeys: expected a pandas DataFrame, found {type(data).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in data.columns]
    if missing:
        raise ValueError(f"save_journeys: column {', '.join(missing)} not found; columns present: "
                         f"{', '.join(map(str, data.columns))}")
    path = Path(os.fspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = data[list(REQUIRED_COLUMNS) + [c for c in data.columns if c not in REQUIRED_COLUMNS]]
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    compression = "gzip" if path.suffix == ".gz" else None
    try:
        # mtime=0 keeps gzip output byte-identical between runs.
        options = {"method": "gzip", "mtime": 0} if compression else None
        ordered.to_csv(temporary, index=False, lineterminator="\n", compression=options)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
