"""Per-user data: everything the reports need from the sessions, one row per user.

The reports never read raw sessions. What they need from them (each user's journey
under the preprocessing settings, journeys of the first and last N sessions, session
and page counts, revisits before repeats are collapsed) is made here by
:func:`user_table` and :func:`revisit_counts`, from complete users' sessions. Every
figure depends only on the user's own sessions, so the same functions run on the whole
export in one process (:func:`prepare`) or on each partition of users on a Dask cluster
(:func:`journey_utils.cluster.prepare`), and give the same table.

A prepared folder holds::

    manifest.json       the source, its load report, the settings, the counts
    users/part-*.parquet  the user table in parts, each sorted by user_id
    revisits.parquet    revisit counts per plan and page

:func:`load_user_data` reads a prepared folder (or an export, computed in memory).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from journey_utils import _codes
from journey_utils._checks import check_frame, check_positive_int
from journey_utils.columns import PLAN, SESSION, TARGET, USER
from journey_utils.preprocess import (
    COUNT_FROM,
    LATER,
    _page_list,
    _preprocess,
    _session_order,
    min_window_sessions,
    remove_page_duplicates,
    remove_pages,
)

__all__ = ["UserData", "combine_revisits", "is_user_table", "load_user_data", "prepare", "read_manifest",
           "revisit_counts", "revisit_table", "user_table", "window_column", "window_journeys", "write_prepared"]

#: The journeys of a window of sessions kept per N: first N, last N, after the first N.
WINDOW_ENDS = ("first", "last", "after")
MANIFEST = "manifest.json"
USERS = "users"
REVISITS = "revisits.parquet"
FORMAT = 1
#: The counts a revisit table holds per plan and page (shares are worked out on loading).
REVISIT_COUNTS = ["journeys_with_page", "revisited", "returned", "journeys_with_self_loop", "self_loops"]
#: The columns of :func:`journey_utils.preprocess`, the first of a user table.
JOURNEY_COLUMNS = [USER, PLAN, TARGET, SESSION, "n_sessions"]
_COLUMNS = {"group_column": USER, "target_column": TARGET, "order_column": SESSION, "plan_column": PLAN}


def window_column(end: str, n: int) -> str:
    """The user-table column of a window of sessions: ``first_3``, ``last_3``, ``after_3``.

    Examples
    --------
    >>> window_column("first", 3)
    'first_3'
    """
    if end not in WINDOW_ENDS:
        raise ValueError(f"window_column: end must be one of {', '.join(WINDOW_ENDS)}; found {end!r}")
    return f"{end}_{n}"


def _window_list(windows, function) -> list[int]:
    if isinstance(windows, (int, np.integer)) and not isinstance(windows, bool):
        windows = [windows]
    if isinstance(windows, (str, bytes)) or not isinstance(windows, Iterable):
        raise TypeError(f"{function}: windows must be a list of positive integers; found {windows!r}")
    return sorted({check_positive_int(n, "windows", function) for n in windows})


def is_user_table(frame) -> bool:
    """True for a table made by :func:`user_table`, or some of its columns (it has ``sessions_total``).

    Examples
    --------
    >>> import pandas as pd
    >>> is_user_table(pd.DataFrame({"user_id": [1], "user_journey": ["A"]}))
    False
    """
    return isinstance(frame, pd.DataFrame) and "sessions_total" in frame.columns


def user_table(data, sessions="All", count_from="last", pages_to_remove=(), *, windows=(3,), **columns) -> pd.DataFrame:
    """One row per user with everything the reports need from that user's sessions.

    Parameters
    ----------
    data : DataFrame
        Sessions, one per row (as returned by :func:`journey_utils.load_sessions`),
        every session of each user included.
    sessions, count_from, pages_to_remove
        The preprocessing settings, as in :func:`journey_utils.preprocess`.
    windows : int or list of int, default (3,)
        The N of the first-N, last-N and after-first-N session journeys to keep.
    **columns
        Column names, as for :func:`journey_utils.preprocess`.

    Returns
    -------
    DataFrame
        Sorted by user: :func:`journey_utils.preprocess`'s columns (``user_id``,
        ``subscription_type``, ``user_journey``, ``session_id``, ``n_sessions``), then
        ``sessions_total`` (the user's sessions), ``pages_total`` (page visits in all of
        them), ``pages_joined`` (in the kept sessions) and ``pages_trimmed`` (in the kept
        sessions once pages are removed), all before repeats are collapsed;
        ``journey_all`` (every session, no page removed, repeats collapsed); and per N,
        ``first_N``, ``last_N`` (the first and last N sessions, no page removed,
        collapsed) and ``after_N`` (the sessions after the first N; missing for users
        with N sessions or fewer).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user_id": [1, 1, 1], "session_id": [1, 2, 3], "subscription_type": ["x"] * 3,
    ...                    "user_journey": ["A-A", "B", "Log in-C"]})
    >>> row = user_table(df, pages_to_remove=["Log in"], windows=[1]).iloc[0]
    >>> row["user_journey"], row["pages_joined"], row["pages_trimmed"], row["after_1"]
    ('A-B-C', np.int64(5), np.int64(4), 'B-Log in-C')
    """
    function = "user_table"
    columns = {**_COLUMNS, **columns}
    user, target, order = columns["group_column"], columns["target_column"], columns["order_column"]
    check_frame(data, function, [user, target, order])
    pages = _page_list(pages_to_remove, function)
    windows = _window_list(windows, function)
    table = _preprocess(data, sessions, count_from, pages, **columns)
    # Page visits of every session, before anything is removed or collapsed.
    coded = _codes.encode(data[target])
    visits = coded.lengths.astype(np.int64)
    trimmed = visits - _codes.visits_to(coded, pages).astype(np.int64) if pages else visits
    _, every, starts, sizes, _ = _session_order(data, user, target, "All", "last", order, function)
    table["sessions_total"] = sizes.astype(np.int64)
    table["pages_total"] = _per_user(visits, every, starts)
    if sessions == "All":
        table["pages_joined"], table["pages_trimmed"] = table["pages_total"], _per_user(trimmed, every, starts)
    else:
        _, kept, kept_starts, _, _ = _session_order(data, user, target, sessions, count_from, order, function)
        table["pages_joined"] = _per_user(visits, kept, kept_starts)
        table["pages_trimmed"] = _per_user(trimmed, kept, kept_starts)
    unchanged = sessions == "All" and not pages
    table["journey_all"] = table[target] if unchanged else _preprocess(data, **columns)[target].array
    users = table[user].to_numpy()
    for n in windows:
        table[window_column("first", n)] = _preprocess(data, n, "first", **columns)[target].array
        table[window_column("last", n)] = _preprocess(data, n, "last", **columns)[target].array
        after = _preprocess(data, skip_first=n, **columns)
        table[window_column("after", n)] = after.set_index(user)[target].reindex(users).array
    return table


def _per_user(values: np.ndarray, order, starts: np.ndarray) -> np.ndarray:
    """``values`` (one per session) summed per user, over the rows ``order`` (None: all, in file order)."""
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    chosen = values if order is None else values[order]
    return np.add.reduceat(chosen, starts).astype(np.int64)


def window_journeys(data, n=3, *, pages_to_remove=(), later="last", **columns) -> pd.DataFrame:
    """Each user's first ``n`` sessions against their last ``n``, as two journeys side by side.

    The one definition of "first N against last N sessions" used by every
    report: only users with at least ``2 * n`` sessions are kept, so the two
    windows never share a session. Both journeys are made like
    :func:`journey_utils.preprocess` makes a journey (sessions joined in time
    order, ``pages_to_remove`` dropped, repeated pages collapsed).

    Parameters
    ----------
    data : DataFrame
        Sessions, one per row (as returned by :func:`journey_utils.load_sessions`),
        or a user table (:func:`user_table`) that holds the windows of ``n``.
    n : int, default 3
        Sessions per window.
    pages_to_remove : str or list of str, default ()
        Pages dropped from both windows.
    later : {'last', 'rest'}, default 'last'
        The later window: the user's last ``n`` sessions (users with at least
        ``2 * n`` sessions), or every session after the first ``n`` (users with
        at least ``n + 1`` sessions).
    **columns
        Column names, as for :func:`journey_utils.preprocess` (``group_column``,
        ``target_column``, ``order_column``, ``plan_column``).

    Returns
    -------
    DataFrame
        One row per kept user, sorted by user: ``user_id``, ``subscription_type``
        (named as the input's columns), ``sessions`` (the user's number of
        sessions), ``first`` and ``last`` (the two journeys), ``first_sessions``
        and ``last_sessions`` (sessions in each window).

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> df = pd.DataFrame({"user_id": [1] * 4 + [2] * 3, "session_id": range(7),
    ...                    "subscription_type": ["x"] * 7,
    ...                    "user_journey": ["A", "B", "C", "D-D", "A", "B", "C"]})
    >>> ju.window_journeys(df, n=2)[["user_id", "first", "last"]].values.tolist()
    [[1, 'A-B', 'C-D']]
    """
    function = "window_journeys"
    n = check_positive_int(n, "n", function)
    if later not in LATER:
        raise ValueError(f"{function}: later must be 'last' or 'rest'; found {later!r}")
    pages = _page_list(pages_to_remove, function)
    columns = {**_COLUMNS, **columns}
    user, plan = columns["group_column"], columns["plan_column"]
    end = "last" if later == "last" else "after"
    first_name, last_name = window_column("first", n), window_column(end, n)
    if is_user_table(data):
        missing = [c for c in (first_name, last_name) if c not in data.columns]
        if missing:
            held = sorted({int(c.split("_")[1]) for c in data.columns if c.startswith("first_")})
            raise ValueError(f"{function}: the user table holds the windows of {held or 'no'} sessions, not {n}; "
                             f"make it with user_table(..., windows=[{n}])")
        table = data
    else:
        table = _windows_of_sessions(data, n, later, columns, function)
    kept = (table["sessions_total"] >= min_window_sessions(n, later)).to_numpy()
    chosen = table[kept]
    first, last = chosen[first_name], chosen[last_name]
    if pages:
        first, last = trimmed_journeys(first, pages), trimmed_journeys(last, pages)
    total = chosen["sessions_total"].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            user: chosen[user].to_numpy(),
            plan: chosen[plan].array,
            "sessions": total,
            "first": first.array,
            "last": last.array,
            "first_sessions": np.full(len(chosen), n, dtype=np.int64),
            "last_sessions": np.full(len(chosen), n, dtype=np.int64) if later == "last" else total - n,
        }
    )


def _windows_of_sessions(data, n, later, columns, function) -> pd.DataFrame:
    """The columns of a user table that :func:`window_journeys` reads, made from sessions."""
    user, target, order = columns["group_column"], columns["target_column"], columns["order_column"]
    check_frame(data, function, [user, target, order, columns["plan_column"]])
    first = _preprocess(data, n, "first", **columns)
    table = first[[user, columns["plan_column"]]].copy()
    table["sessions_total"] = _session_order(data, user, target, "All", "last", order, function)[3].astype(np.int64)
    table[window_column("first", n)] = first[target].array
    if later == "last":
        table[window_column("last", n)] = _preprocess(data, n, "last", **columns)[target].array
    else:
        after = _preprocess(data, skip_first=n, **columns)
        table[window_column("after", n)] = after.set_index(user)[target].reindex(table[user].to_numpy()).array
    return table


def trimmed_journeys(journeys: pd.Series, pages) -> pd.Series:
    """Collapsed journeys with ``pages`` removed and the runs this makes collapsed again.

    Equal to removing the pages from the sessions before collapsing: collapsing a run
    first only merges visits that would be next to each other anyway.

    Examples
    --------
    >>> import pandas as pd
    >>> trimmed_journeys(pd.Series(["A-Log in-A-B"]), ["Log in"]).tolist()
    ['A-B']
    """
    frame = pd.DataFrame({TARGET: journeys.array})
    return remove_page_duplicates(remove_pages(frame, pages))[TARGET]


# --- revisits ------------------------------------------------------------------------------


def revisit_counts(data, sessions="All", count_from="last", pages_to_remove=(), **columns) -> pd.DataFrame:
    """Per plan and page, how many journeys come back to the page before repeats are collapsed.

    The counts of :func:`journey_utils.paths.session_revisits` (``by_plan=True``),
    which add up over disjoint sets of users (:func:`combine_revisits`);
    :func:`revisit_table` turns them back into that function's table.

    Returns
    -------
    DataFrame
        ``plan``, ``page`` and the counts ``journeys_with_page``, ``revisited``,
        ``returned``, ``journeys_with_self_loop``, ``self_loops``; only pages a plan's
        journeys visit; sorted by plan, then page.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user_id": [1, 1, 2], "session_id": [1, 2, 3], "subscription_type": ["x"] * 3,
    ...                    "user_journey": ["A-B", "B-A", "A"]})
    >>> revisit_counts(df)[["page", "journeys_with_page", "revisited", "self_loops"]].values.tolist()
    [['A', 2, 1, 0], ['B', 1, 1, 1]]
    """
    # paths brings scipy: imported when revisits are counted, not with the package.
    from journey_utils.paths import session_revisits

    columns = {**_COLUMNS, **columns}
    found = session_revisits(data, by_plan=True, sessions=sessions, count_from=count_from,
                             pages_to_remove=pages_to_remove, **columns)
    return combine_revisits([found])


def combine_revisits(frames) -> pd.DataFrame:
    """Revisit counts of disjoint sets of users, added up (see :func:`revisit_counts`).

    Examples
    --------
    >>> import pandas as pd
    >>> part = pd.DataFrame({"plan": ["x"], "page": ["A"], "journeys_with_page": [2], "revisited": [1],
    ...                      "returned": [1], "journeys_with_self_loop": [0], "self_loops": [0]})
    >>> combine_revisits([part, part])["journeys_with_page"].tolist()
    [4]
    """
    keys = ["plan", "page"]
    frames = [f[keys + REVISIT_COUNTS] for f in frames if len(f)]
    if not frames:
        empty = {"plan": pd.array([], dtype="str"), "page": pd.array([], dtype="str")}
        return pd.DataFrame({**empty, **{c: np.zeros(0, np.int64) for c in REVISIT_COUNTS}})
    summed = pd.concat(frames, ignore_index=True).groupby(keys, sort=True, observed=True)[REVISIT_COUNTS].sum()
    summed = summed[summed["journeys_with_page"] > 0].reset_index()
    return summed.astype({"plan": "str", "page": "str", **{c: "int64" for c in REVISIT_COUNTS}})


def revisit_table(counts, users, plan=None, *, plan_column=PLAN) -> pd.DataFrame:
    """The table of :func:`journey_utils.paths.session_revisits` (``by_plan=True``) from counts.

    Parameters
    ----------
    counts : DataFrame
        From :func:`revisit_counts` or :func:`combine_revisits`.
    users : DataFrame
        The user table the counts were made with (its plans give each plan's journeys).
    plan : None, str or list of str, default None
        The plans to keep (every plan by default), in the order given.

    Returns
    -------
    DataFrame
        One row per (plan, page) the plan's journeys visit, with
        :data:`journey_utils.paths.REVISIT_COLUMNS`; sorted by plan (by name, or in
        the order of ``plan``), ``revisited`` descending, then page.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user_id": [1, 2], "session_id": [1, 2], "subscription_type": ["x"] * 2,
    ...                    "user_journey": ["A-A", "B"]})
    >>> table = revisit_table(revisit_counts(df), user_table(df))
    >>> table[["page", "n", "revisited", "revisit_share"]].values.tolist()
    [['A', 2, 1, 0.5], ['B', 2, 0, 0.0]]
    """
    from journey_utils.paths import REVISIT_COLUMNS

    journeys = users[plan_column].value_counts()
    plans = sorted(journeys.index) if plan is None else ([plan] if isinstance(plan, str) else list(plan))
    blocks = []
    for name in plans:
        rows = counts[counts["plan"] == name]
        if not len(rows) or name not in journeys.index:
            continue
        n = int(journeys[name])
        rows = rows.assign(unit="journeys", n=np.int64(n))
        rows["revisit_share"] = rows["revisited"] / n
        rows["revisit_share_of_visitors"] = rows["revisited"] / rows["journeys_with_page"]
        blocks.append(rows.sort_values(["revisited", "page"], ascending=[False, True], kind="stable"))
    if not blocks:
        return pd.DataFrame({c: [] for c in REVISIT_COLUMNS})
    table = pd.concat(blocks, ignore_index=True)[REVISIT_COLUMNS]
    return table.astype({"plan": "str", "page": "str", "unit": "str"})


# --- prepared folders ----------------------------------------------------------------------


def _settings(sessions, count_from, pages_to_remove, windows, function) -> dict:
    if not (isinstance(sessions, str) and sessions == "All"):
        sessions = check_positive_int(sessions, "sessions", function, alternative="'All'")
    if count_from not in COUNT_FROM:
        raise ValueError(f"{function}: count_from must be 'first' or 'last'; found {count_from!r}")
    return {"sessions": sessions, "count_from": count_from,
            "pages_to_remove": _page_list(pages_to_remove, function), "windows": _window_list(windows, function)}


def prepare(source, output, *, sessions="All", count_from="last", pages_to_remove=(), windows=(3,),
            empty_journeys="drop") -> dict:
    """Read an export in this process and write its prepared folder (see the module notes).

    :func:`journey_utils.cluster.prepare` writes the same folder from a Dask cluster.

    Parameters
    ----------
    source : str or path-like
        The export: a file, or a folder of parts (as :func:`journey_utils.load_sessions` reads).
    output : str or path-like
        The folder to write; replaced as a whole when complete.
    sessions, count_from, pages_to_remove, windows
        As in :func:`user_table`.
    empty_journeys : {'drop', 'keep'}, default 'drop'
        As in :func:`journey_utils.load_sessions`.

    Returns
    -------
    dict
        The manifest (also written to ``output/manifest.json``).

    Examples
    --------
    >>> import journey_utils as ju
    >>> manifest = prepare(ju.SAMPLE_PATH, "build/users")  # doctest: +SKIP
    """
    from journey_utils import io

    settings = _settings(sessions, count_from, pages_to_remove, windows, "prepare")
    started = time.time()
    data = io.load_sessions(source, empty_journeys=empty_journeys)
    loaded = dict(data.attrs.get("load_report", {}))
    options = {k: settings[k] for k in ("sessions", "count_from", "pages_to_remove")}
    table = user_table(data, windows=settings["windows"], **options)
    revisits = revisit_counts(data, **options)
    del data
    manifest = new_manifest(source, loaded, settings, engine="pandas")
    return write_prepared(output, [table], revisits, manifest, started=started)


def new_manifest(source, load_report: Mapping, settings: Mapping, *, engine: str) -> dict:
    """The manifest of a prepared folder, before its outputs are written (see :func:`write_prepared`)."""
    from journey_utils import io

    report = dict(load_report)
    if not report.get("checksum"):
        parts = source
        if isinstance(source, (str, os.PathLike)) and glob.has_magic(os.fspath(source)):
            parts = sorted(glob.glob(os.fspath(source)))
        report["checksum"] = io.file_checksum(parts)
    return {"format": FORMAT, "engine": engine, "source": os.fspath(source) if not isinstance(source, (list, tuple))
            else [os.fspath(s) for s in source], "checksum": report["checksum"], "settings": dict(settings),
            "load_report": report, "sessions": int(report.get("rows_kept", 0))}


def write_prepared(output, parts, revisits, manifest, *, started=None) -> dict:
    """Write a prepared folder: the user-table parts, the revisit counts and the manifest.

    The folder is written under a temporary name beside ``output`` and renamed at
    the end, so ``output`` is complete or left as it was. An existing ``output`` is
    replaced only when it is a prepared folder (it has ``manifest.json``) or empty.

    Parameters
    ----------
    output : str or path-like
    parts : iterable of DataFrame
        User-table parts, written as ``users/part-00000.parquet``... (each sorted by
        user). Writers that write their parts themselves (the Dask path) use
        :func:`temporary_folder` and :func:`finish_prepared` instead.
    revisits : DataFrame
        Revisit counts (:func:`revisit_counts`).
    manifest : dict
        From :func:`new_manifest`; ``users``, ``outputs`` and ``seconds`` are added.

    Returns
    -------
    dict
        The manifest written.
    """
    output = Path(os.fspath(output)).absolute()
    temporary = temporary_folder(output)
    try:
        folder = temporary / USERS
        folder.mkdir(exist_ok=True)
        for number, part in enumerate(parts):
            part.to_parquet(folder / f"part-{number:05d}.parquet", index=False)
        finish_prepared(temporary, output, revisits, manifest, started=started)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return manifest


def temporary_folder(output) -> Path:
    """A fresh temporary folder beside ``output`` to write a prepared folder into (checks ``output`` first)."""
    output = Path(os.fspath(output)).absolute()
    if output.exists() and not (output.is_dir() and ((output / MANIFEST).is_file() or not any(output.iterdir()))):
        raise FileExistsError(f"prepare: {output} exists and is not a prepared folder (no {MANIFEST}); "
                              "choose another folder or remove it")
    temporary = output.parent / f".{output.name}.partial-{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    return temporary


def finish_prepared(temporary: Path, output, revisits, manifest, *, started=None) -> dict:
    """Write the revisits and the manifest into ``temporary`` (whose ``users/`` is written) and put it in place."""
    import pyarrow.parquet as pq

    output = Path(os.fspath(output)).absolute()
    revisits.to_parquet(temporary / REVISITS, index=False)
    files = sorted(p.name for p in (temporary / USERS).glob("*.parquet"))
    manifest["users"] = int(sum(pq.read_metadata(temporary / USERS / f).num_rows for f in files))
    manifest["load_report"]["users"] = manifest["users"]
    manifest["outputs"] = {USERS: files, "revisits": REVISITS}
    if started is not None:
        manifest["seconds"] = round(time.time() - started, 3)
    (temporary / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    old = output.parent / f".{output.name}.old-{os.getpid()}"
    if output.exists():
        os.replace(output, old)
    os.replace(temporary, output)
    shutil.rmtree(old, ignore_errors=True)
    return manifest


def read_manifest(path) -> dict:
    """The manifest of a prepared folder, with a clear error when ``path`` is not one."""
    folder = Path(os.fspath(path))
    file = folder / MANIFEST
    if not file.is_file():
        raise FileNotFoundError(f"{folder}: not a prepared folder (no {MANIFEST}); make one with "
                                "journey_utils.users.prepare or `make report`")
    manifest = json.loads(file.read_text())
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{file}: prepared with format {manifest.get('format')!r}, this version reads {FORMAT}; "
                         "prepare it again")
    return manifest


@dataclass
class UserData:
    """A prepared folder in memory: the user table, the revisit counts and the manifest.

    ``users.attrs["load_report"]`` is the export's load report, so
    :func:`journey_utils.report.source` names the export, not the folder.
    """

    users: pd.DataFrame
    revisit_counts: pd.DataFrame
    manifest: dict = field(default_factory=dict)

    @property
    def load_report(self) -> dict:
        return self.manifest.get("load_report", {})

    @property
    def settings(self) -> dict:
        return self.manifest.get("settings", {})

    def journeys(self) -> pd.DataFrame:
        """The journeys under the preprocessing settings: :func:`journey_utils.preprocess`'s columns."""
        return self.users[JOURNEY_COLUMNS]

    def repairs(self) -> pd.DataFrame:
        """What loading repaired or dropped, as :func:`journey_utils.load_report` gives it."""
        from journey_utils.io import load_report

        frame = pd.DataFrame()
        frame.attrs["load_report"] = self.load_report
        return load_report(frame)

    def revisits(self, plan=None) -> pd.DataFrame:
        """:func:`revisit_table` of these users, for ``plan`` (every plan by default)."""
        return revisit_table(self.revisit_counts, self.users, plan)


def load_user_data(path, sessions="All", count_from="last", pages_to_remove=(), *, windows=(),
                   columns=None) -> UserData:
    """The per-user data of a prepared folder, or of an export computed here.

    Parameters
    ----------
    path : str or path-like
        A prepared folder (:func:`prepare`, ``make report``), or an export (a file or
        a folder of parts), which is loaded and prepared in memory.
    sessions, count_from, pages_to_remove
        The preprocessing settings; a prepared folder must have been made with them.
    windows : int or list of int, default ()
        The windows of sessions needed; a prepared folder must hold them.
    columns : list of str, optional
        User-table columns to read besides ``user_id`` (default: all).

    Returns
    -------
    UserData

    Examples
    --------
    >>> import journey_utils as ju
    >>> data = load_user_data(ju.SAMPLE_PATH, windows=[3])
    >>> len(data.users) == data.manifest["users"]
    True
    """
    function = "load_user_data"
    settings = _settings(sessions, count_from, pages_to_remove, windows, function)
    folder = Path(os.fspath(path))
    if not (folder / MANIFEST).is_file():
        from journey_utils import io

        data = io.load_sessions(folder)
        options = {k: settings[k] for k in ("sessions", "count_from", "pages_to_remove")}
        table = user_table(data, windows=settings["windows"], **options)
        manifest = new_manifest(path, data.attrs.get("load_report", {}), settings, engine="pandas")
        manifest["users"] = manifest["load_report"]["users"] = len(table)
        found = UserData(table, revisit_counts(data, **options), manifest)
    else:
        manifest = read_manifest(folder)
        _check_settings(folder, manifest.get("settings", {}), settings)
        found = UserData(_read_users(folder, manifest, columns), pd.read_parquet(folder / REVISITS), manifest)
    if columns is not None:
        found.users = found.users[[c for c in found.users.columns if c in set(columns) | {USER}]]
    found.users.attrs["load_report"] = found.manifest["load_report"]
    return found


def _check_settings(folder, made: Mapping, wanted: Mapping) -> None:
    def normal(settings):
        sessions = settings.get("sessions", "All")
        return {"sessions": sessions, "count_from": settings.get("count_from") if sessions != "All" else None,
                "pages_to_remove": sorted(settings.get("pages_to_remove", []))}

    have, need = normal(made), normal(wanted)
    for key in have:
        if have[key] != need[key]:
            raise ValueError(f"{folder}: prepared with {key}={made.get(key)!r}, but {wanted.get(key)!r} is asked "
                             "for; prepare it again with these settings (make report does)")
    missing = sorted(set(wanted.get("windows", [])) - set(made.get("windows", [])))
    if missing:
        raise ValueError(f"{folder}: holds the windows of {made.get('windows', [])} sessions, not {missing}; "
                         "prepare it again with these windows (make report gathers them from params/)")


def _read_users(folder: Path, manifest, columns) -> pd.DataFrame:
    files = [folder / USERS / name for name in manifest.get("outputs", {}).get(USERS, [])]
    frames = [pd.read_parquet(f, columns=None if columns is None else
                              [c for c in _schema_names(f) if c in set(columns) | {USER}]) for f in files]
    if not frames:
        raise ValueError(f"{folder}: the prepared folder lists no user parts")
    table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frames) > 1:
        table = table.sort_values(USER, kind="stable", ignore_index=True)
    return table


def _schema_names(file) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_schema(file).names
