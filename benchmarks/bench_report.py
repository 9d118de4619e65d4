"""Time a clean ``make report`` on generated exports of several sizes, with each process's peak memory.

For each size the script builds the reports from scratch in a fresh copy of the
project (sharing its ``.venv``), as a user's first ``make report DATA=...`` would,
and records:

- the wall time of the whole build, and of each step as the builder prints it
  (``built reports/... in N s``);
- the peak resident memory (RSS) of every process of the build (make, the
  builder of each report, each notebook's kernel), by polling the process tree
  with psutil every 0.2 s (a spike shorter than that can be missed);
- the load average before the run, since the machine may be shared.

Exports are drawn by ``journey_utils.synthetic`` (three plans, the bundled
profile) and cached by size and seed under the work directory, so only the
first run of a size pays for generating it. ``sample`` is the bundled sample.

Usage (from the project root)::

    make bench-report                                   # sample and 1M sessions
    python benchmarks/bench_report.py --sizes sample,1m,10m
    python benchmarks/bench_report.py --sizes 1m --jobs 1 --keep

Targets (2-core machine, venv in place): sample <= 40 s, 1M <= 45 s, 10M <= 150 s
with every process below 4 GB peak RSS. The script exits 1 when a build fails.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# The same copy of the project the end-to-end build tests use.
from tests.test_report_build import project_copy  # noqa: E402

SAMPLE = ROOT / "data" / "sample" / "user_journeys_sample.csv"
TARGETS = {"sample": 40.0, "1m": 45.0, "10m": 150.0}
RSS_LIMIT_GB = 4.0


def parse_size(text: str) -> tuple[str, int | None]:
    """'1m' -> ('1m', 1_000_000); 'sample' -> ('sample', None)."""
    label = text.strip().lower()
    if label == "sample":
        return label, None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([km]?)", label)
    if not match:
        raise argparse.ArgumentTypeError(
            f"a size is 'sample' or a number of sessions like 100k, 1m, 10m; found {text!r}")
    number = float(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)]
    return label, int(number)


def export_for(label: str, sessions: int | None, *, seed: int, workdir: Path) -> Path:
    """The export of that size: the bundled sample, or a cached synthetic CSV."""
    if sessions is None:
        return SAMPLE
    path = workdir / f"sessions-{label}-seed{seed}.csv"
    if not path.exists():
        print(f"generating {sessions:,} sessions (seed {seed}) into {path} ...", flush=True)
        partial = path.with_name(path.name + ".partial.csv")
        subprocess.run([sys.executable, "-m", "journey_utils.synthetic", "--sessions", str(sessions), "--seed",
                        str(seed), "--output", str(partial)], check=True, cwd=ROOT)
        os.replace(partial, path)
    return path


def describe(process: psutil.Process) -> str:
    """A short name for a process of the build: which report a builder or kernel works on."""
    try:
        command = process.cmdline()
    except psutil.Error:
        return "?"
    text = " ".join(command)
    if "journey_utils.build" in text:
        for flag in ("--html", "--output"):
            if flag in command:
                return f"builder {Path(command[command.index(flag) + 1]).name}"
        return "builder " + (command[command.index("journey_utils.build") + 1]
                             if "journey_utils.build" in command else "")
    if "ipykernel" in text:
        return "kernel"
    return Path(command[0]).name if command else "?"


class TreeMonitor:
    """Poll a process tree: peak RSS of every process, and which kernel belongs to which builder."""

    def __init__(self, root_pid: int, every: float = 0.2):
        self.root = psutil.Process(root_pid)
        self.every = every
        self.peaks: dict[int, tuple[str, int]] = {}
        #: CPU seconds (user + system) of each process at its last poll: unlike wall time,
        #: hardly inflated when other work shares the machine.
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _name(self, process: psutil.Process) -> str:
        name = describe(process)
        if name == "kernel":
            # A kernel's parent is the builder that started it.
            try:
                parent = process.parent()
                name = f"kernel of {describe(parent).removeprefix('builder ')}" if parent else name
            except psutil.Error:
                pass
        return name

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    times = process.cpu_times()
                    self.cpu[process.pid] = times.user + times.system
                except psutil.Error:
                    continue
                name, peak = self.peaks.get(process.pid, (None, 0))
                if name is None or name in ("?", "python", "python3"):
                    name = self._name(process)
                self.peaks[process.pid] = (name, max(peak, rss))
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_build(data: Path, *, jobs: int | None, keep: bool) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-report-"))
    project_copy(folder)
    command = ["make", "--no-print-directory", "-o", ".venv/.installed", "report", f"DATA={data}"]
    if jobs:
        command.insert(1, f"-j{jobs}")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DATA")}
    load = os.getloadavg()[0]
    started = time.monotonic()
    lines: list[str] = []
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, bufsize=1)
    with TreeMonitor(process.pid) as monitor:
        for line in process.stdout:
            stamp = time.monotonic() - started
            lines.append(line.rstrip("\n"))
            print(f"  [{stamp:6.1f} s] {line.rstrip()}", flush=True)
        process.wait()
    wall = time.monotonic() - started
    steps = {m.group(1): float(m.group(2)) for m in (re.match(r"built reports/(\S+) in ([\d.]+) s", ln)
                                                         for ln in lines) if m}
    cells = slow_cells(folder / "build" / "notebooks")
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"  kept the build in {folder}")
    cpu = {monitor.peaks[pid][0]: seconds for pid, seconds in monitor.cpu.items() if pid in monitor.peaks}
    return {"wall": wall, "returncode": process.returncode, "steps": steps, "peaks": monitor.peaks, "cpu": cpu,
            "load": load, "output": lines, "cells": cells}


def slow_cells(folder: Path, at_least: float = 1.0) -> list[tuple[str, str, float]]:
    """(notebook, cell id, seconds) of every cell that ran ``at_least`` seconds, slowest first.

    From the durations papermill records in each executed notebook.
    """
    import nbformat

    found = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            seconds = cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0
            if seconds >= at_least:
                found.append((path.stem, cell.get("id", "?"), float(seconds)))
    return sorted(found, key=lambda item: -item[2])


def report(label: str, sessions: int | None, result: dict) -> bool:
    gb = 1024 ** 3
    peaks = sorted(result["peaks"].values(), key=lambda item: -item[1])
    largest = peaks[0][1] / gb if peaks else float("nan")
    target = TARGETS.get(label)
    ok = result["returncode"] == 0
    print(f"\n{label} ({'the bundled sample' if sessions is None else f'{sessions:,} sessions'}): "
          f"clean make report {'built' if ok else 'FAILED'} in {result['wall']:.1f} s"
          + (f" (target {target:.0f} s: {'met' if result['wall'] <= target else 'MISSED'})" if target else "")
          + f"; load average before the run {result['load']:.1f}")
    print(f"  {'step':<48} {'seconds':>8}")
    for name, seconds in result["steps"].items():
        print(f"  {name:<48} {seconds:>8.1f}")
    if result["cells"]:
        print(f"  {'slowest cells (notebook: cell id)':<48} {'seconds':>8}")
        for notebook, cell_id, seconds in result["cells"][:15]:
            print(f"  {notebook + ': ' + cell_id:<48} {seconds:>8.1f}")
    print(f"  {'process':<48} {'peak RSS (GB)':>13} {'CPU s':>7}")
    shown = 0
    for name, peak in peaks:
        if peak < 0.05 * gb and shown >= 6:
            continue
        print(f"  {name:<48} {peak / gb:>13.2f} {result['cpu'].get(name, float('nan')):>7.1f}")
        shown += 1
    print(f"  CPU seconds of the whole build: {sum(result['cpu'].values()):.1f}")
    print(f"  largest peak RSS {largest:.2f} GB (limit {RSS_LIMIT_GB:.0f} GB: "
          f"{'met' if largest < RSS_LIMIT_GB else 'MISSED'})")
    if not ok:
        print("  the build's last lines:\n    " + "\n    ".join(result["output"][-15:]))
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="sample,1m", help="comma-separated: sample, 100k, 1m, 10m, ... "
                        "(default: sample,1m)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated exports (default: 1)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "journey-bench-report",
                        help="where generated exports are cached (default: the temporary folder)")
    parser.add_argument("--jobs", type=int, help="make -jN (default: the Makefile's, one per CPU up to 4)")
    parser.add_argument("--keep", action="store_true", help="keep each build's project copy")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    args.workdir.mkdir(parents=True, exist_ok=True)
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        print(f"warning: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: timings will be noisy",
              flush=True)
    ok = True
    for label, sessions in sizes:
        data = export_for(label, sessions, seed=args.seed, workdir=args.workdir)
        print(f"clean make report on {data.name} ...", flush=True)
        ok &= report(label, sessions, run_build(data, jobs=args.jobs, keep=args.keep))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
