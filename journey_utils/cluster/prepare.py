"""The prepared folder of the reports (per-user data) computed on the cluster; the command line."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import dask
import pandas as pd

from journey_utils import io as _io
from journey_utils import users as _users
from journey_utils.cluster.journeys import _checked, _repeats_meta, _repeats_with_partition
from journey_utils.cluster.parts import REQUIRED, _read_parts, check_rows, summed_report

# --- the prepared folder -----------------------------------------------------------------

#: The manifest of a prepared folder, and what the folder holds besides it.
MANIFEST = _users.MANIFEST
OUTPUTS = (_users.USERS, _users.REVISITS)


def _prepare_part(part: pd.DataFrame, folder: str, options: dict, windows: list, partition_info=None) -> pd.DataFrame:
    """One shuffled partition (its users' sessions, repeats marked): its user table written
    as a Parquet part (none for a partition without users), its revisit counts returned."""
    repeat = part["_repeat"].to_numpy()
    kept = (part[~repeat] if repeat.any() else part)[REQUIRED]
    if not len(kept):
        return _users.combine_revisits([])
    table = _users.user_table(kept, windows=windows, **options)
    number = partition_info["number"] if partition_info else 0
    table.to_parquet(Path(folder) / f"part-{number:05d}.parquet", index=False)
    return _users.revisit_counts(kept, **options)


def prepare(source, output, *, sessions="All", count_from="last", pages_to_remove=(), windows=(3,),
            npartitions=None, empty_journeys="drop") -> dict:
    """Write the prepared folder of an export (the reports' per-user data) from a Dask cluster.

    The folder is the one :func:`journey_utils.users.prepare` writes in one process,
    with the same contents: the user table (:func:`journey_utils.users.user_table`)
    in Parquet parts under ``users/``, the revisit counts (``revisits.parquet``) and
    ``manifest.json`` (source, settings, the load report as
    :func:`journey_utils.load_sessions` makes it for a folder of parts, counts). Only
    the manifest's ``engine``, ``seconds`` and ``outputs`` (the part files) differ.

    Runs on the current Dask client (``distributed.Client``), or Dask's default
    scheduler without one. Every part is read once (by ``load_sessions``, in a task),
    the sessions are shuffled once on ``user_id``, and each partition (all sessions of
    its users; sessions repeated across parts kept once) makes its users' rows with
    :func:`journey_utils.users.user_table` and writes them itself, so no process holds
    all sessions or all users. Each partition's revisit counts
    (:func:`journey_utils.users.revisit_counts`, small) are added up here. The folder
    is written under a temporary name beside ``output`` (on a file system every worker
    can write to) and renamed when complete: a bad part, or any error, leaves
    ``output`` as it was.

    Parameters
    ----------
    source : str, path-like or list
        A folder, glob or list of session parts (see :func:`read_sessions`).
    output : str or path-like
        The prepared folder to write; replaces an earlier one (a folder holding
        something else is refused).
    sessions, count_from, pages_to_remove
        The preprocessing settings, as in :func:`journey_utils.preprocess`.
    windows : int or sequence of int, default (3,)
        The N of the first-N, last-N and after-first-N session journeys kept per user.
    npartitions : int, optional
        Partitions after the shuffle (default: one per part); more makes each task
        smaller.
    empty_journeys : {'drop', 'keep'}, default 'drop'
        As in :func:`journey_utils.load_sessions`.

    Returns
    -------
    dict
        The manifest (also written to ``output/manifest.json``).

    Examples
    --------
    >>> from distributed import Client                                # doctest: +SKIP
    >>> with Client(local_cluster()):                                 # doctest: +SKIP
    ...     manifest = prepare("exports/", "build/users", sessions=3, windows=[2, 3])
    """
    settings = _users._settings(sessions, count_from, pages_to_remove, windows, "prepare")
    options = {key: settings[key] for key in ("sessions", "count_from", "pages_to_remove")}
    started = time.time()
    data, reports = _read_parts(source, empty_journeys, collapse=False, function="prepare")
    # Page visits are counted before repeats are collapsed: the sessions travel as loaded.
    checked = _checked(data, npartitions, collapse=False)
    temporary = _users.temporary_folder(output)
    try:
        folder = temporary / _users.USERS
        folder.mkdir()
        counts = checked.map_partitions(_prepare_part, str(folder), options, settings["windows"],
                                        meta=_users.combine_revisits([]), partition_info=True)
        table = checked.map_partitions(_repeats_with_partition, meta=_repeats_meta(checked), partition_info=True)
        # The parts written, the revisits and the load reports computed together: one reading, one shuffle.
        counted, loaded, repeated = dask.compute(counts, reports, table)
        named = list(source) if isinstance(source, tuple) else source
        summed = summed_report(loaded, repeated)
        check_rows(summed)
        manifest = _users.new_manifest(named, summed, settings, engine="dask")
        _users.finish_prepared(temporary, output, _users.combine_revisits([counted]), manifest, started=started)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return manifest


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
    from dask.utils import parse_bytes
    from distributed import LocalCluster
    from distributed.system import MEMORY_LIMIT

    if n_workers is None:
        n_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    per_worker = MEMORY_LIMIT // max(n_workers, 1) if memory_limit == "auto" else parse_bytes(memory_limit) \
        if isinstance(memory_limit, str) else int(memory_limit)
    # The shuffle keeps up to 1 GiB of outgoing data in memory by default: on small workers that
    # is most of their memory, next to the part being read. An eighth of the worker's memory.
    buffer = min(max(per_worker // 8, 32 * 2**20), 2**30)
    config = {"distributed.p2p.comm.buffer": buffer}
    settings = {"processes": True, "threads_per_worker": 1, "host": "127.0.0.1", "dashboard_address": None,
                "config": config, **options}
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
        description="Sessions -> the reports' per-user data on a Dask cluster, written as a prepared folder.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("prepare", help="write the per-user data the reports read",
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
    run.add_argument("--window", type=int, action="append", metavar="N", dest="windows",
                     help="N of the first-N, last-N and after-first-N session journeys (repeat for several; "
                     "default 3)")
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
                               pages_to_remove=args.pages_to_remove, windows=args.windows or (3,),
                               npartitions=args.partitions)
    except (_io.JourneyDataError, ValueError, TypeError, FileExistsError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if cluster is not None:
            cluster.close()
    report = manifest["load_report"]
    parts = len(report.get("parts", [])) or 1
    print(f"{args.output}: {manifest['users']:,} users from {manifest['sessions']:,} sessions "
          f"({report['rows_read']:,} rows in {parts} part{'s' if parts > 1 else ''}, "
          f"{len(report['repairs'])} kinds of repair) in {manifest['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
