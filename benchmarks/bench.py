"""Benchmark the journey pipeline: library vs per-row Python vs DuckDB SQL.

Usage (from the project root)::

    python benchmarks/bench.py [--sizes 100000 1000000] [--10m] [--seed 0]
                               [--workdir build/bench] [--repeats N]
                               [--impl library per-row duckdb] [--per-row-all]

For every size a synthetic CSV is generated once (cached in the workdir), then
the same pipeline is run by each implementation in its own subprocess:

    read CSV -> keep each user's last 3 sessions -> remove one page
    -> collapse repeated pages -> page_count, page_presence,
    page_destinations('Pricing'), page_sequences n=3 and n=4,
    journey lengths and their mean.

Wall time covers the pipeline only (CSV reading included; interpreter start-up
and imports excluded).  Peak memory is the child's ``ru_maxrss``.  The
results of all implementations must be identical, otherwise the script exits
non-zero.
"""

import argparse
import csv
import hashlib
import importlib
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run straight from a checkout: the library and tests.reference live at the root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

IMPLEMENTATIONS = ("library", "per-row", "duckdb")
SESSIONS_KEPT = 3
PREFERRED_PAGE_TO_REMOVE = "Log in"
DESTINATION_PAGE = "Pricing"
SEQUENCE_LENGTHS = (3, 4)
# Beyond this size the per-row baseline takes many minutes; it runs only on request.
PER_ROW_MAX_DEFAULT = 1_000_000
MEAN_TOLERANCE = 1e-12

TARGET_VS_DUCKDB = 0.6
TARGET_VS_PER_ROW = 10.0
TARGET_PEAK_MB_10M = 5 * 1024
TARGET_SIZES = (1_000_000, 10_000_000)


# --------------------------------------------------------------------------
# The three implementations.  Each ``run_*`` does the timed work and returns
# its raw results; the matching ``canonical_*`` (untimed) turns them into the
# common comparable form:
#   {"page_count": {page: n}, "page_presence": {page: n},
#    "destinations": {page: n}, "sequences_3": {seq: n}, "sequences_4": {...},
#    "lengths": {user_id: n_pages}, "mean_length": float, "n_users": int}
# --------------------------------------------------------------------------


def run_library(csv_path, page_to_remove):
    """The pipeline through the public ``journey_utils`` API."""
    import journey_utils as ju

    data = ju.load_sessions(csv_path)
    processed = ju.preprocess(
        data,
        sessions=SESSIONS_KEPT,
        count_from="last",
        pages_to_remove=[page_to_remove],
    )
    results = {
        "page_count": ju.page_count(processed),
        "page_presence": ju.page_presence(processed),
        "destinations": ju.page_destinations(processed, DESTINATION_PAGE),
        "lengths": ju.journey_lengths(processed),
        "mean_length": ju.journey_length(processed),
    }
    for n in SEQUENCE_LENGTHS:
        results[f"sequences_{n}"] = ju.page_sequences(processed, n=n)
    results["user_ids"] = processed["user_id"]
    return results


def _series_to_dict(series):
    return {str(key): int(value) for key, value in series.items()}


def canonical_library(raw):
    """Convert the library's Series into plain dicts."""
    lengths = raw["lengths"]
    user_ids = raw["user_ids"]
    if lengths.index.name == "user_id":
        per_user = dict(zip(lengths.index.tolist(), lengths.tolist()))
    else:
        # One length per processed row, in the frame's row order.
        per_user = dict(zip(user_ids.tolist(), lengths.tolist()))
    result = {
        name: _series_to_dict(raw[name])
        for name in ["page_count", "page_presence", "destinations"]
        + [f"sequences_{n}" for n in SEQUENCE_LENGTHS]
    }
    result["lengths"] = {int(u): int(n) for u, n in per_user.items()}
    result["mean_length"] = float(raw["mean_length"])
    result["n_users"] = len(user_ids)
    return result


def _read_rows(csv_path):
    """Yield (user_id, session_id, plan, journey) tuples using only ``csv``."""
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        u, s, p, j = (
            header.index(name)
            for name in ("user_id", "session_id", "subscription_type", "user_journey")
        )
        for row in reader:
            yield int(row[u]), int(row[s]), row[p], row[j]


def run_per_row(csv_path, page_to_remove):
    """The pipeline through the plain-Python reference implementation."""
    from tests import reference as ref

    grouped = ref.preprocess(
        _read_rows(csv_path),
        sessions=SESSIONS_KEPT,
        count_from="last",
        pages_to_remove=[page_to_remove],
    )
    user_ids = sorted(grouped)
    journeys = [grouped[u][1] for u in user_ids]
    results = {
        "page_count": ref.page_count(journeys),
        "page_presence": ref.page_presence(journeys),
        "destinations": ref.page_destinations(journeys, DESTINATION_PAGE),
        "lengths": ref.journey_lengths(journeys),
        "mean_length": ref.journey_length(journeys),
    }
    for n in SEQUENCE_LENGTHS:
        results[f"sequences_{n}"] = ref.page_sequences(journeys, n)
    results["user_ids"] = user_ids
    return results


def canonical_per_row(raw):
    """The reference already returns dicts; only lengths need keying by user."""
    result = {key: value for key, value in raw.items() if key not in ("user_ids", "lengths")}
    result["lengths"] = dict(zip(raw["user_ids"], raw["lengths"]))
    result["n_users"] = len(raw["user_ids"])
    return result


# arg_max(value, key, n) returns the n latest sessions (latest first) in one
# aggregation; it is about twice as fast here as a row_number() window
# followed by an ordered string_agg, and keeps the DuckDB baseline honest.
DUCKDB_PREPROCESS = """
CREATE TEMP TABLE processed AS
WITH grouped AS (
    SELECT user_id,
           arg_max(subscription_type, session_id) AS plan,
           -- coalesce: an empty session still counts as one of the last N.
           array_to_string(list_reverse(
               arg_max(coalesce(user_journey, ''), session_id, $sessions_kept)), '-') AS journey
    FROM read_csv($csv_path, header = true, columns = {
        'user_id': 'BIGINT', 'session_id': 'BIGINT',
        'subscription_type': 'VARCHAR', 'user_journey': 'VARCHAR'})
    GROUP BY user_id
),
removed AS (
    -- p <> '' drops the empty page name an empty session leaves behind.
    SELECT user_id, plan,
           list_filter(string_split(journey, '-'),
                       lambda p: p <> $page_to_remove AND p <> '') AS pages
    FROM grouped
)
SELECT user_id, plan,
       list_filter(pages, lambda p, i: i = 1 OR p <> pages[i - 1]) AS pages
FROM removed
"""

DUCKDB_PAGE_COUNT = """
SELECT page, count(*) FROM (SELECT unnest(pages) AS page FROM processed) GROUP BY page
"""

DUCKDB_PAGE_PRESENCE = """
SELECT page, count(*)
FROM (SELECT unnest(list_distinct(pages)) AS page FROM processed)
GROUP BY page
"""

# Positions i whose page is the one asked for, mapped to the page at i + 1.
# (A list lambda is ~10x faster here than unnest(...) WITH ORDINALITY.)
DUCKDB_DESTINATIONS = """
SELECT next_page, count(*)
FROM (
    SELECT unnest(list_transform(
               list_filter(range(1, len(pages)), lambda i: pages[i] = $page),
               lambda i: pages[i + 1])) AS next_page
    FROM processed
    WHERE list_contains(pages, $page)
)
GROUP BY next_page
"""


def duckdb_sequences_sql(n):
    """SQL counting runs of ``n`` pages, once per journey.

    The run is spelt out as ``pages[i] || '-' || pages[i + 1] ...`` because
    that is faster than slicing and array_to_string; ``n`` is an int we
    control, so formatting it into the text is safe.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    run = " || '-' || ".join(f"pages[i + {k}]" for k in range(n))
    # list_distinct per journey makes a run count once per journey.
    return f"""
SELECT sequence, count(*)
FROM (
    SELECT unnest(list_distinct(list_transform(
               range(1, len(pages) - {n} + 2), lambda i: {run}))) AS sequence
    FROM processed
)
GROUP BY sequence
"""


DUCKDB_LENGTHS = "SELECT user_id, len(pages) AS length FROM processed"
DUCKDB_MEAN_LENGTH = "SELECT avg(len(pages)) FROM processed"


def run_duckdb(csv_path, page_to_remove):
    """The pipeline in DuckDB SQL; only the finished results reach Python."""
    import duckdb

    con = duckdb.connect()
    con.execute(
        DUCKDB_PREPROCESS,
        {
            "csv_path": str(csv_path),
            "sessions_kept": SESSIONS_KEPT,
            "page_to_remove": page_to_remove,
        },
    )
    results = {
        "page_count": con.execute(DUCKDB_PAGE_COUNT).fetchall(),
        "page_presence": con.execute(DUCKDB_PAGE_PRESENCE).fetchall(),
        "destinations": con.execute(DUCKDB_DESTINATIONS, {"page": DESTINATION_PAGE}).fetchall(),
        "lengths": con.execute(DUCKDB_LENGTHS).fetchnumpy(),
        "mean_length": con.execute(DUCKDB_MEAN_LENGTH).fetchone()[0],
    }
    for n in SEQUENCE_LENGTHS:
        results[f"sequences_{n}"] = con.execute(duckdb_sequences_sql(n)).fetchall()
    con.close()
    return results


def canonical_duckdb(raw):
    """Turn fetched rows into dicts."""
    result = {
        name: {str(key): int(value) for key, value in raw[name]}
        for name in ["page_count", "page_presence", "destinations"]
        + [f"sequences_{n}" for n in SEQUENCE_LENGTHS]
    }
    lengths = raw["lengths"]
    result["lengths"] = dict(zip(lengths["user_id"].tolist(), lengths["length"].tolist()))
    # avg() of an empty table is NULL; the other implementations give NaN.
    mean = raw["mean_length"]
    result["mean_length"] = float("nan") if mean is None else float(mean)
    result["n_users"] = len(result["lengths"])
    return result


# implementation -> (timed runner, untimed canonicaliser, module it imports)
RUNNERS = {
    "library": (run_library, canonical_library, "journey_utils"),
    "per-row": (run_per_row, canonical_per_row, "tests.reference"),
    "duckdb": (run_duckdb, canonical_duckdb, "duckdb"),
}


def duckdb_threads():
    """DuckDB's default thread count (it is left at its default for fairness)."""
    import duckdb

    return duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]


# --------------------------------------------------------------------------
# Child process: time one implementation, write results for the parent.
# --------------------------------------------------------------------------


def child_main(impl, csv_path, page_to_remove, repeats, out_path):
    """Run ``impl`` ``repeats`` times, keep the best time, pickle the results."""
    run, canonical, module = RUNNERS[impl]
    # Import before the clock starts: start-up cost is not what is compared.
    importlib.import_module(module)
    best = math.inf
    raw = None
    for _ in range(repeats):
        # Drop the previous run's results first so they don't inflate peak memory.
        raw = None
        start = time.perf_counter()
        raw = run(csv_path, page_to_remove)
        best = min(best, time.perf_counter() - start)
    results = canonical(raw)
    with open(out_path, "wb") as handle:
        pickle.dump({"seconds": best, "results": results}, handle)


# --------------------------------------------------------------------------
# Parent process: data, orchestration, comparison, report.
# --------------------------------------------------------------------------


def dataset_path(workdir, size, seed):
    """Synthetic CSV for ``size`` sessions, generated on first use.

    The name carries a digest of the bundled profile, so a refitted generator
    writes new files instead of reusing ones drawn from the old profile.
    """
    from journey_utils.synthetic import generate_sessions, load_profile

    digest = hashlib.sha256(json.dumps(load_profile(), sort_keys=True).encode()).hexdigest()[:8]
    path = Path(workdir) / f"sessions_{size}_seed{seed}_{digest}.csv"
    if path.exists():
        return path

    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {size:,} sessions -> {path}", flush=True)
    frame = generate_sessions(n_sessions=size, seed=seed)
    # Write beside the target then rename, so an interrupted run never leaves
    # a truncated file that later runs would take as cached.
    partial = path.with_suffix(".csv.partial")
    frame.to_csv(partial, index=False)
    os.replace(partial, path)
    return path


def choose_page_to_remove(csv_path):
    """'Log in' if the data has it, else the most visited page."""
    import duckdb

    con = duckdb.connect()
    rows = con.execute(
        """
        SELECT page, count(*) AS n
        FROM (SELECT unnest(string_split(user_journey, '-')) AS page
              FROM read_csv($path, header = true))
        GROUP BY page ORDER BY n DESC, page
        """,
        {"path": str(csv_path)},
    ).fetchall()
    pages = [page for page, _ in rows if page]
    if PREFERRED_PAGE_TO_REMOVE in pages or not pages:
        return PREFERRED_PAGE_TO_REMOVE
    return pages[0]


def _child_args(impl, csv_path, page_to_remove, repeats, out_path):
    return [
        "--child",
        impl,
        "--csv",
        str(csv_path),
        "--page-to-remove",
        page_to_remove,
        "--repeats",
        str(repeats),
        "--out",
        str(out_path),
    ]


def launcher_main(child_args, rss_path):
    """Start the child and record its own peak RSS (KiB) in ``rss_path``.

    Linux charges a child with its parent's peak RSS at exec time, so a child
    started directly by the parent (which holds data and results) would look
    bigger than it is.  This small launcher sits in between: the child
    inherits only the launcher's few MB.
    """
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *child_args])
    # wait4 gives this child's own rusage, not the max over all children.
    _, status, usage = os.wait4(process.pid, 0)
    Path(rss_path).write_text(str(usage.ru_maxrss))
    return os.waitstatus_to_exitcode(status)


def run_child(impl, csv_path, page_to_remove, repeats, tmpdir):
    """Run one implementation in a fresh interpreter; return timing and memory."""
    out_path = Path(tmpdir) / f"{impl}.pkl"
    rss_path = Path(tmpdir) / f"{impl}.rss"
    child_args = _child_args(impl, csv_path, page_to_remove, repeats, out_path)
    launcher = [sys.executable, str(Path(__file__).resolve()), "--launch", str(rss_path)]
    returncode = subprocess.call(launcher + child_args)
    if returncode != 0:
        return {"error": f"exited with status {returncode}"}
    with open(out_path, "rb") as handle:
        payload = pickle.load(handle)
    # Linux reports ru_maxrss in KiB.
    payload["peak_mb"] = int(rss_path.read_text()) / 1024
    return payload


def _describe_dict_difference(expected, actual):
    missing = sorted(set(expected) - set(actual), key=str)
    extra = sorted(set(actual) - set(expected), key=str)
    differing = sorted((k for k in expected if k in actual and expected[k] != actual[k]), key=str)
    parts = []
    if missing:
        parts.append(f"{len(missing)} keys missing, e.g. {missing[0]!r}={expected[missing[0]]!r}")
    if extra:
        parts.append(f"{len(extra)} unexpected keys, e.g. {extra[0]!r}={actual[extra[0]]!r}")
    if differing:
        k = differing[0]
        parts.append(
            f"{len(differing)} values differ, e.g. {k!r}: expected {expected[k]!r}, got {actual[k]!r}"
        )
    return "; ".join(parts)


def compare_results(baseline_name, baseline, other_name, other):
    """List every metric on which ``other`` disagrees with ``baseline``."""
    problems = []
    for metric, expected in baseline.items():
        actual = other.get(metric)
        if metric == "mean_length":
            same = (math.isnan(expected) and math.isnan(actual)) or (
                abs(expected - actual) <= MEAN_TOLERANCE
            )
            if not same:
                problems.append(f"{metric}: {baseline_name}={expected!r} {other_name}={actual!r}")
        elif isinstance(expected, dict):
            if expected != actual:
                detail = _describe_dict_difference(expected, actual or {})
                problems.append(f"{metric} ({other_name} vs {baseline_name}): {detail}")
        elif expected != actual:
            problems.append(f"{metric}: {baseline_name}={expected!r} {other_name}={actual!r}")
    return problems


def _ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def print_table(rows):
    """One line per (size, implementation) plus the ratios for each size."""
    header = f"{'sessions':>12}  {'implementation':<15}{'runs':>5}{'wall s':>10}{'peak MB':>10}"
    print(header)
    print("-" * len(header))
    for row in rows:
        note = row.get("note", "")
        print(
            f"{row['size']:>12,}  {row['impl']:<15}{_fmt(row.get('repeats'), 'd'):>5}"
            f"{_fmt(row.get('seconds'), '.3f'):>10}{_fmt(row.get('peak_mb'), '.0f'):>10}"
            f"  {note}".rstrip()
        )


def size_summary(size, by_impl):
    """Ratios for one size, and whether the performance targets are met."""
    seconds = {impl: r.get("seconds") for impl, r in by_impl.items()}
    lib_vs_duck = _ratio(seconds.get("library"), seconds.get("duckdb"))
    row_vs_lib = _ratio(seconds.get("per-row"), seconds.get("library"))
    lines = [
        f"{size:,} sessions: library/DuckDB time = {_fmt(lib_vs_duck, '.2f')}x, "
        f"per-row/library time = {_fmt(row_vs_lib, '.1f')}x"
    ]
    if size in TARGET_SIZES and lib_vs_duck is not None:
        met = "met" if lib_vs_duck <= TARGET_VS_DUCKDB else "NOT met"
        lines.append(f"  target library <= {TARGET_VS_DUCKDB}x DuckDB time: {met}")
    if size in TARGET_SIZES and row_vs_lib is not None:
        met = "met" if row_vs_lib >= TARGET_VS_PER_ROW else "NOT met"
        lines.append(f"  target library >= {TARGET_VS_PER_ROW:.0f}x faster than per-row: {met}")
    peak = by_impl.get("library", {}).get("peak_mb")
    if size >= 10_000_000 and peak is not None:
        met = "met" if peak < TARGET_PEAK_MB_10M else "NOT met"
        lines.append(f"  target library peak < {TARGET_PEAK_MB_10M / 1024:.0f} GB: {met}")
    return lines


def benchmark_size(size, args, tmpdir, per_row_estimate):
    """Run every selected implementation at one size; return rows and problems."""
    csv_path = dataset_path(args.workdir, size, args.seed)
    page_to_remove = choose_page_to_remove(csv_path)
    repeats = args.repeats or (3 if size <= 1_000_000 else 1)
    print(f"\n== {size:,} sessions: removing {page_to_remove!r}, best of {repeats}", flush=True)

    by_impl = {}
    rows = []
    for impl in args.impl:
        if impl == "per-row" and size > PER_ROW_MAX_DEFAULT and not args.per_row_all:
            estimate = per_row_estimate(size)
            note = "skipped: too slow at this size (--per-row-all runs it)"
            if estimate is not None:
                note += f"; ~{estimate:.0f} s by linear extrapolation"
            rows.append({"size": size, "impl": impl, "note": note})
            continue
        print(f"   running {impl} ...", flush=True)
        outcome = run_child(impl, csv_path, page_to_remove, repeats, tmpdir)
        if "error" in outcome:
            rows.append({"size": size, "impl": impl, "note": "FAILED: " + outcome["error"]})
            by_impl[impl] = {"failed": True}
            continue
        by_impl[impl] = outcome
        rows.append(
            {
                "size": size,
                "impl": impl,
                "repeats": repeats,
                "seconds": outcome["seconds"],
                "peak_mb": outcome["peak_mb"],
            }
        )

    problems = [f"{impl} failed" for impl, r in by_impl.items() if r.get("failed")]
    finished = [impl for impl in args.impl if "results" in by_impl.get(impl, {})]
    if finished:
        # Compare everything against the first finished one (the reference if run).
        order = sorted(finished, key=lambda i: (i != "per-row", i != "duckdb"))
        base = order[0]
        for other in order[1:]:
            problems += compare_results(
                base, by_impl[base]["results"], other, by_impl[other]["results"]
            )
    return rows, by_impl, problems


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--10m", dest="ten_million", action="store_true",
                        help="also run 10,000,000 sessions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default="build/bench",
                        help="where generated CSV files are cached")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs per implementation, best kept (default 3 up to 1M, else 1)")
    parser.add_argument("--impl", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS))
    parser.add_argument("--per-row-all", action="store_true",
                        help=f"run the per-row baseline above {PER_ROW_MAX_DEFAULT:,} sessions too")
    # Internal: the parent re-invokes this script with these to run one child.
    parser.add_argument("--child", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--page-to-remove", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    # Internal: "--launch RSS_PATH CHILD_ARGS..." starts a child via the launcher.
    if argv[:1] == ["--launch"]:
        return launcher_main(argv[2:], argv[1])
    args = parse_args(argv)
    if args.child:
        child_main(args.child, args.csv, args.page_to_remove, args.repeats, args.out)
        return 0

    sizes = sorted(set(args.sizes) | ({10_000_000} if args.ten_million else set()))
    print(f"DuckDB is left at its default of {duckdb_threads()} threads on this "
          f"{os.cpu_count()}-CPU machine; the library parses and splits on all cores, per-row Python "
          "uses one thread.")
    load = os.getloadavg()[0]
    if load > 0.5:
        # Timings are only comparable on an otherwise idle machine.
        print(f"warning: 1-minute load average is {load:.1f}; other work will skew the timings.")

    per_row_seconds = {}

    def per_row_estimate(size):
        if not per_row_seconds:
            return None
        known = max(per_row_seconds)
        return per_row_seconds[known] * size / known

    all_rows, summaries, all_problems = [], [], []
    with tempfile.TemporaryDirectory() as tmpdir:
        for size in sizes:
            rows, by_impl, problems = benchmark_size(size, args, tmpdir, per_row_estimate)
            if "seconds" in by_impl.get("per-row", {}):
                per_row_seconds[size] = by_impl["per-row"]["seconds"]
            all_rows += rows
            summaries += size_summary(size, by_impl)
            all_problems += [f"{size:,} sessions: {p}" for p in problems]

    print()
    print_table(all_rows)
    print()
    for line in summaries:
        print(line)
    print(
        f"\nTargets at 1M and 10M sessions: library <= {TARGET_VS_DUCKDB}x DuckDB wall time, "
        f">= {TARGET_VS_PER_ROW:.0f}x faster than per-row Python; "
        f"< {TARGET_PEAK_MB_10M / 1024:.0f} GB peak memory at 10M."
    )
    if all_problems:
        print("\nRESULTS DISAGREE:", file=sys.stderr)
        for problem in all_problems:
            print("  " + problem, file=sys.stderr)
        return 1
    print("\nAll implementations gave identical results.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
