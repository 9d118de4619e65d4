"""Benchmark of the Dask path (journey_utils.cluster) against the single-process library.

Two runs, each on generated sessions split into several CSV files under a scratch folder
(never in the project):

``--speed`` (default 10M sessions in 8 files)
    The single-process library (``load_sessions`` on the whole export, ``preprocess``,
    then three metrics), in a fresh process, against the Dask path on a 2-worker
    ``LocalCluster`` (``read_sessions`` on the parts, ``preprocess`` kept on the
    workers, the same three metrics); checks that the figures are equal and prints
    the time ratio (target: at most 2.5x).

``--memory`` (default 30M sessions in 24 files, about 3 GB of CSV)
    A ``LocalCluster`` of 2 workers capped at 2 GiB each: sessions -> the prepared
    folder of the reports (one row per user, windows of 3 sessions, revisit counts)
    written by ``cluster.prepare``, then the three metrics on the journeys it holds.
    Prints the time, each worker's peak resident memory and whether a worker was
    restarted.

The exports are made once with ``python -m journey_utils.synthetic`` and reused; the
30M export repeats the 10M one three times with the user ids shifted, so its users are
distinct. Usage::

    python benchmarks/bench_cluster.py --speed [--sessions 10000000] [--scratch DIR]
    python benchmarks/bench_cluster.py --memory [--copies 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

PROJECT = Path(__file__).resolve().parent.parent
PREPROCESSING = {"sessions": 3, "count_from": "last", "pages_to_remove": ["Log in"]}


def _metrics(module, journeys) -> dict:
    """The three metrics timed on both paths."""
    return {
        "page_presence": module.page_presence(journeys, normalize=True),
        "page_transitions": module.page_transitions(journeys),
        "page_sequences": module.page_sequences(journeys, 3),
    }


def export(scratch: Path, sessions: int, parts: int, copies: int = 1) -> tuple[Path, Path]:
    """(the whole export as one CSV, the folder of its parts), made once under ``scratch``."""
    scratch.mkdir(parents=True, exist_ok=True)
    whole = scratch / f"sessions-{sessions}.csv"
    if not whole.exists():
        print(f"generating {sessions:,} sessions -> {whole}", flush=True)
        subprocess.run([sys.executable, "-m", "journey_utils.synthetic", "--sessions", str(sessions), "--seed", "1",
                        "--output", str(whole) + ".tmp"], check=True, cwd=PROJECT)
        os.replace(str(whole) + ".tmp", whole)
    folder = scratch / f"parts-{sessions}-{parts}x{copies}"
    if not folder.exists():
        print(f"splitting into {parts * copies} files -> {folder}", flush=True)
        building = folder.with_name(folder.name + ".tmp")
        building.mkdir(exist_ok=True)
        table = pa_csv.read_csv(whole)
        shift = int(pa.compute.max(table["user_id"]).as_py()) + 1
        bounds = np.linspace(0, table.num_rows, parts + 1).astype(int)
        for copy in range(copies):
            ids = pa.compute.add(table["user_id"], pa.scalar(copy * shift, pa.int64()))
            shifted = table.set_column(0, "user_id", ids)
            for i in range(parts):
                piece = shifted.slice(bounds[i], bounds[i + 1] - bounds[i])
                pa_csv.write_csv(piece, building / f"part-{copy:02d}-{i:03d}.csv")
        os.replace(building, folder)
    return whole, folder


def single(whole: Path) -> dict:
    """The single-process library on the whole export (run in a fresh process)."""
    import journey_utils as ju

    started = time.perf_counter()
    sessions = ju.load_sessions(whole)
    journeys = ju.preprocess(sessions, **PREPROCESSING)
    del sessions
    results = _metrics(ju, journeys)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_gib": _peak_gib(), "results": {k: _digest(v) for k, v in results.items()},
            "users": len(journeys)}


def _peak_gib() -> float:
    """This process's peak resident memory in GiB.

    Read from /proc (VmHWM, reset when a program starts) where there is one:
    ``ru_maxrss`` carries over the parent's peak into a spawned process.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _digest(result) -> str:
    """A fingerprint of a result, to compare the two paths' results across processes."""
    frame = result.to_frame() if isinstance(result, pd.Series) else result
    return str(pd.util.hash_pandas_object(frame.reset_index(), index=False).sum()) + f"/{len(frame)}"


def _workers_peak(client) -> dict:
    """Each worker's peak resident memory (GiB) since it started, read from the kernel."""
    return {address: round(peak, 3) for address, peak in client.run(_peak_gib).items()}


def speed(args) -> dict:
    from distributed import Client

    from journey_utils import cluster

    whole, folder = export(Path(args.scratch), args.sessions, args.parts or 8)
    print("single process ...", flush=True)
    run = subprocess.run([sys.executable, __file__, "--single", str(whole)], check=True, capture_output=True,
                         text=True, cwd=PROJECT)
    alone = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"  {alone['seconds']:.1f} s, peak {alone['peak_rss_gib']:.2f} GiB", flush=True)
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    started = time.perf_counter()
    with cluster.local_cluster(2) as local, Client(local) as client:
        startup = time.perf_counter() - started
        print("dask, 2 workers ...", flush=True)
        started = time.perf_counter()
        sessions, _ = cluster.read_sessions(folder)
        journeys = cluster.preprocess(sessions, **PREPROCESSING).persist()
        results = _metrics(cluster, journeys)
        seconds = time.perf_counter() - started
        peaks = _workers_peak(client)
    same = {k: _digest(v) == alone["results"][k] for k, v in results.items()}
    figures = {"sessions": args.sessions, "parts": args.parts or 8, "single_seconds": round(alone["seconds"], 2),
               "single_peak_gib": round(alone["peak_rss_gib"], 2), "dask_seconds": round(seconds, 2),
               "cluster_start_seconds": round(startup, 2), "ratio": round(seconds / alone["seconds"], 2),
               "worker_peak_gib": peaks, "equal": same}
    print(json.dumps(figures, indent=2))
    return figures


def memory(args) -> dict:
    import dask.dataframe as dd
    from distributed import Client

    from journey_utils import cluster, users

    # Files of 625k sessions: with 1.25M-session files, 2 GiB workers were restarted at 30M sessions.
    _, folder = export(Path(args.scratch), args.sessions, args.parts or 16, copies=args.copies)
    size = sum(p.stat().st_size for p in folder.iterdir())
    print(f"{args.sessions * args.copies:,} sessions, {size / 2**30:.2f} GiB of CSV in "
          f"{len(list(folder.iterdir()))} files", flush=True)
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    output = Path(args.scratch) / "prepared"
    with cluster.local_cluster(2, memory_limit=args.memory_limit) as local, Client(local) as client:
        workers = set(client.scheduler_info()["workers"])
        started = time.perf_counter()
        manifest = cluster.prepare(folder, output, windows=(3,))
        prepared = time.perf_counter() - started
        journeys = dd.read_parquet(output / users.USERS, columns=users.JOURNEY_COLUMNS)
        results = _metrics(cluster, journeys)
        seconds = time.perf_counter() - started
        after = set(client.scheduler_info()["workers"])
        peaks = _workers_peak(client)
    figures = {"sessions": manifest["sessions"], "users": manifest["users"], "csv_gib": round(size / 2**30, 2),
               "files": len(manifest["load_report"].get("parts", [])) or 1, "memory_limit": args.memory_limit,
               "users_parquet_mib": round(sum(p.stat().st_size for p in (output / users.USERS).iterdir()) / 2**20, 1),
               "prepare_seconds": round(prepared, 1), "total_seconds": round(seconds, 1),
               "worker_peak_gib": peaks, "workers_restarted": len(workers - after),
               "top_pages": results["page_presence"].head(3).round(4).to_dict()}
    print(json.dumps(figures, indent=2))
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--speed", action="store_true", help="Dask against the single process (default)")
    mode.add_argument("--memory", action="store_true", help="more data than one 2 GiB worker holds")
    mode.add_argument("--single", metavar="CSV", help=argparse.SUPPRESS)
    parser.add_argument("--sessions", type=int, default=10_000_000, help="sessions generated (default 10M)")
    parser.add_argument("--parts", type=int, help="files per copy of the export (default 8; --memory 16)")
    parser.add_argument("--copies", type=int, default=3, help="--memory: copies of the export, users shifted")
    parser.add_argument("--memory-limit", default="2GiB", help="--memory: per worker (default 2GiB)")
    parser.add_argument("--scratch", default=os.path.join(tempfile.gettempdir(), "journey-bench-cluster"),
                        help="folder for the generated exports (default: under the system's temporary folder)")
    args = parser.parse_args(argv)
    if args.single:
        print(json.dumps(single(Path(args.single))))
        return 0
    if args.memory:
        memory(args)
    else:
        speed(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
