"""Per-user outputs for the reports, computed on the cluster and written as Parquet; the command line."""

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
import numpy as np
import pandas as pd

from journey_utils import io as _io
from journey_utils._checks import check_positive_int
from journey_utils.cluster.journeys import (
    _checked,
    _journeys_part,
    _repeats_meta,
    _repeats_with_partition,
    _settings,
)
from journey_utils.cluster.parts import read_sessions, summed_report
from journey_utils.columns import USER

# --- per-user outputs for the reports -------------------------------------------------------

#: What :func:`prepare` writes in its output folder, each a folder of Parquet parts.
OUTPUTS = ("journeys", "first_sessions", "last_sessions")
MANIFEST = "manifest.json"


def _per_user_part(part: pd.DataFrame, sessions, count_from, pages, total: bool) -> pd.DataFrame:
    """One partition's journeys, with every user's number of sessions when ``total``."""
    journeys = _journeys_part(part, sessions, count_from, pages)
    if total:
        users = part[USER].to_numpy()[~part["_repeat"].to_numpy()]
        # Both are sorted by user, one row per user in the journeys.
        users, counts = np.unique(users, return_counts=True)
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
