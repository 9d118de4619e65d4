"""Building the reports: run a notebook and render it, write the index, refresh the notebooks.

The Makefile calls this module once per report, so make keeps one target per
file and can build reports in parallel, while each report costs one Python
process (papermill and nbconvert are driven from here, not started as
separate programs)::

    python -m journey_utils.build run notebooks/02_journey_analysis.ipynb \\
        --params params/annual.yaml --shared params/preprocessing.yaml \\
        --set input_path=data/sample/user_journeys_sample.csv --set processed_path=data/processed/journeys.csv \\
        --executed build/notebooks/02_journey_analysis-annual.ipynb \\
        --html reports/02_journey_analysis-annual.html
    python -m journey_utils.build index --data DATA --output reports/index.html build/notebooks/*.ipynb
    python -m journey_utils.build refresh notebooks/*.ipynb

Every file is written under a temporary name and renamed when complete, and a
run first removes the outputs it is about to replace, so an interrupted or
failed run never leaves a file that looks finished. A failed notebook is kept
as ``<name>.failed.ipynb`` next to where the executed notebook would be, and
the message names the notebook, the plan, the cell and the error.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

# jsonschema compiles an IRI grammar when it is imported with rfc3987_syntax
# installed (2-3 s per process); notebook validation never uses that format.
sys.modules.setdefault("rfc3987_syntax", None)

from journey_utils import PROJECT_ROOT, params  # noqa: E402

__all__ = ["BuildError", "KERNEL_NAME", "BUILD_SET", "run", "index", "refresh", "main"]

KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
# The kernel's own log (transport notices, the interrupt sent at shutdown) is not about
# the report; errors in cells still reach the notebook and the build's message.
QUIET_KERNEL = ("--IPKernelApp.log_level=CRITICAL",)
#: Parameters the build sets from DATA and the pipeline layout; a parameters file may not set them.
BUILD_SET = ("input_path", "processed_path", "output_path")


class BuildError(RuntimeError):
    """A report that could not be built; the message says which and why."""


def _relative(path) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _temporary(path: Path) -> Path:
    """A hidden name next to ``path``, unique to this process, with the same extension."""
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(path)
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _remove(paths) -> None:
    for path in map(Path, paths):
        path.unlink(missing_ok=True)
        # Leftovers of an interrupted run writing this same file.
        for pattern in (f".{path.stem}.*.tmp{path.suffix}", f".{path.name}.*.tmp"):
            for stale in path.parent.glob(pattern):
                stale.unlink(missing_ok=True)


def _failed_path(executed: Path) -> Path:
    return executed.with_name(executed.stem + ".failed.ipynb")


def resolve_parameters(notebook, *, params_file=None, shared_file=None, overrides: Mapping | None = None) -> dict:
    """The parameters of one run: the report's file, the shared preprocessing file and the build's values.

    The report's parameters file may not repeat a key of the shared file nor a key
    the build sets (``input_path``, ``processed_path``, ``output_path``): each
    setting has one home. Every key and value is checked against the notebook's
    parameters cell.

    Raises
    ------
    journey_utils.params.ParamsError
        An unknown key, a value of the wrong type or a key set in two places.
    """
    overrides = dict(overrides or {})
    declared = params.notebook_parameters(notebook)
    shown = _relative(notebook)
    values: dict = {}
    shared = params.load(shared_file) if shared_file else {}
    if shared_file:
        # Only the shared settings this notebook takes (03 does not need every one).
        shared = {k: v for k, v in shared.items() if k in declared}
        params.check(shared, declared, source=_relative(shared_file), notebook=shown)
        values.update(shared)
    if params_file:
        own = params.load(params_file)
        for key in own:
            if key in BUILD_SET:
                raise params.ParamsError(f"{_relative(params_file)}: {key!r} is set by the build (from DATA and the "
                                         "pipeline layout); remove it from the file")
            if key in shared:
                raise params.ParamsError(f"{_relative(params_file)}: {key!r} is a preprocessing setting; set it in "
                                         f"{_relative(shared_file)} only")
        params.check(own, declared, source=_relative(params_file), notebook=shown)
        values.update(own)
    params.check(overrides, declared, source="the build", notebook=shown)
    values.update(overrides)
    return values


def _subject(notebook, values: Mapping, params_file) -> str:
    parts = []
    if isinstance(values.get("plan"), str):
        parts.append(f"plan {values['plan']!r}")
    if params_file:
        parts.append(_relative(params_file))
    return f"{_relative(notebook)}" + (f" ({', '.join(parts)})" if parts else "")


def _failed_cell(executed_nb, source_nb) -> tuple[str, str, str]:
    """(where, error name, error value) of the cell that raised."""
    positions = {cell.get("id"): i for i, cell in enumerate(source_nb.cells, start=1)}
    for cell in executed_nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                cell_id = cell.get("id")
                if cell_id in positions:
                    where = f"cell {positions[cell_id]} (id {cell_id!r})"
                elif "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                    where = "the injected parameters cell"
                else:
                    where = f"cell id {cell_id!r}"
                return where, output.get("ename", "Error"), output.get("evalue", "")
    return "an unknown cell", "Error", ""


def _report_stderr(nb, source_nb, subject: str) -> None:
    positions = {cell.get("id"): i for i, cell in enumerate(source_nb.cells, start=1)}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                first = "".join(output.get("text", "")).strip().splitlines()[:1]
                where = positions.get(cell.get("id"), "?")
                print(f"warning: {subject}, cell {where}: {first[0] if first else ''}", file=sys.stderr)


def run(
    notebook,
    *,
    executed,
    html,
    params_file=None,
    shared_file=None,
    overrides: Mapping | None = None,
    products: Sequence = (),
) -> Path:
    """Execute one report notebook with papermill and render it to HTML.

    Parameters
    ----------
    notebook : path
        The notebook in ``notebooks/`` (never modified).
    executed : path
        Where the executed notebook goes (``build/notebooks/...``).
    html : path
        Where the report goes (``reports/...``).
    params_file, shared_file : path, optional
        The report's parameters and the shared preprocessing parameters (YAML).
    overrides : mapping, optional
        Values set by the build (input and processed file paths).
    products : sequence of path
        Other files the notebook writes (the processed journeys): removed before
        the run and again if it fails.

    Returns
    -------
    Path
        The HTML report.

    Raises
    ------
    BuildError
        The notebook failed; the message names the notebook, plan, cell and error.
    journey_utils.params.ParamsError
        A parameters file that does not fit the notebook.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from journey_utils import render

    started = time.monotonic()
    notebook, executed, html = Path(notebook), Path(executed), Path(html)
    outputs = [executed, html, _failed_path(executed), *map(Path, products)]
    _remove(outputs)
    values = resolve_parameters(notebook, params_file=params_file, shared_file=shared_file, overrides=overrides)
    subject = _subject(notebook, values, params_file)
    executed.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(executed)
    source_nb = nbformat.read(notebook, as_version=4)
    try:
        nb = papermill.execute_notebook(
            str(notebook),
            str(temporary),
            parameters=values,
            kernel_name=KERNEL_NAME,
            language="python",
            progress_bar=False,
            request_save_on_cell_execute=False,
            cwd=str(notebook.parent),
            extra_arguments=list(QUIET_KERNEL),
        )
        nb.metadata.setdefault("papermill", {})
        nb.metadata.papermill["input_path"] = _relative(notebook)
        nb.metadata.papermill["output_path"] = _relative(executed)
        _report_stderr(nb, source_nb, subject)
        page = render.notebook_to_html(nb)
        _write_atomic(executed, nbformat.writes(nb))
        _write_atomic(html, page)
    except PapermillExecutionError as error:
        _remove(products)
        failed = _failed_path(executed)
        where, ename, evalue = f"cell number {error.cell_index}", error.ename, error.evalue
        if temporary.exists():
            os.replace(temporary, failed)
            where, ename, evalue = _failed_cell(nbformat.read(failed, as_version=4), source_nb)
        raise BuildError(
            f"{subject} failed in {where}:\n  {ename}: {evalue}\n"
            f"  the executed notebook with the full traceback: {_relative(failed)}"
        ) from None
    except Exception as error:
        # A kernel that died or timed out, or a page that could not be rendered.
        _remove([temporary, *outputs])
        raise BuildError(f"{subject} could not be built: {type(error).__name__}: {error}") from error
    except BaseException:
        _remove([temporary, *outputs])
        raise
    temporary.unlink(missing_ok=True)
    print(f"built {_relative(html)} in {time.monotonic() - started:.1f} s")
    return html


def _key_figures(nb) -> list[tuple[str, str]]:
    from journey_utils.report import KEY_FIGURES_MIME

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(KEY_FIGURES_MIME)
            if payload:
                return [(f["label"], f["text"]) for f in payload.get("figures", [])]
    return []


def _title(nb, fallback: str) -> str:
    from journey_utils.render import TableOfContents

    copy = nb.copy()
    copy.metadata = dict(nb.metadata)
    TableOfContents().preprocess(copy, {})
    return copy.metadata.get("title") or fallback


def _parameter_text(value) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "(none)"
    return str(value) if value != "" else "(not set)"


def _utc_minute(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def index(executed_notebooks: Sequence, *, data, output) -> Path:
    """Write the reports' index page from the executed notebooks.

    Each report links to ``<notebook name>.html`` next to the index. Report pages
    and executed (or failed) notebooks that no longer belong to the build, such as
    those of a removed plan, are deleted.

    Raises
    ------
    BuildError
        A notebook run on another input than ``data`` (reports must not mix inputs),
        or one that was never executed.
    """
    import nbformat

    from journey_utils.report import run_time

    output = Path(output)
    expected = Path(data).resolve()
    entries = []
    for path in map(Path, executed_notebooks):
        nb = nbformat.read(path, as_version=4)
        meta = nb.metadata.get("papermill", {})
        values = meta.get("parameters", {})
        if "parameters" not in meta:
            raise BuildError(f"{_relative(path)} was not executed by the build; run make report")
        if "input_path" in values and (PROJECT_ROOT / values["input_path"]).resolve() != expected:
            raise BuildError(f"{_relative(path)} was built from {values['input_path']}, not {data}; "
                             "reports must not mix inputs: run make clean, then make report")
        entries.append({
            "href": path.stem + ".html",
            "title": _title(nb, path.stem),
            "parameters": [(k, _parameter_text(v)) for k, v in values.items() if k not in BUILD_SET],
            "figures": _key_figures(nb),
            "built": _utc_minute(meta.get("end_time")),
        })
    page = render_index(entries, data=data, built=run_time())
    _write_atomic(output, page)
    # Reports of plans whose parameters file was removed are no longer part of the build.
    keep = {e["href"] for e in entries} | {output.name}
    for orphan in output.parent.glob("[0-9][0-9]_*.html"):
        if orphan.name not in keep:
            orphan.unlink()
    executed = {Path(p).resolve() for p in executed_notebooks}
    for folder in {p.parent for p in executed}:
        for orphan in folder.glob("[0-9][0-9]_*.ipynb"):
            if orphan.resolve() not in executed:
                orphan.unlink()
    print(f"built {_relative(output)}")
    return output


def render_index(entries, *, data, built: str) -> str:
    from journey_utils.render import index_page
    from journey_utils.report import checksum

    return index_page(entries, input_name=Path(data).name, input_checksum=checksum(data), built=built)


def refresh(notebooks: Sequence) -> None:
    """Re-execute notebooks in place with their default parameters (the bundled sample).

    Their stored outputs are what nbval compares against, so run this after a
    change that is meant to change results. Timing metadata is not recorded, so
    a refresh with unchanged results changes only the run-time line.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    for path in map(Path, notebooks):
        started = time.monotonic()
        nb = nbformat.read(path, as_version=4)
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        client = NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=600, record_timing=False,
                                extra_arguments=list(QUIET_KERNEL),
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except CellExecutionError as error:
            raise BuildError(f"{_relative(path)} failed; the notebook was left unchanged:\n{error}") from None
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        nb.metadata.pop("widgets", None)
        _write_atomic(path, nbformat.writes(nb))
        print(f"refreshed {_relative(path)} in {time.monotonic() - started:.1f} s")


def _parse_set(items) -> dict:
    values = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise params.ParamsError(f"--set expects name=value; found {item!r}")
        values[name] = value
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m journey_utils.build", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_ = commands.add_parser("run", help="execute one report notebook and render its HTML")
    run_.add_argument("notebook")
    run_.add_argument("--params", help="the report's parameters (YAML)")
    run_.add_argument("--shared", help="shared preprocessing parameters (YAML)")
    run_.add_argument("--set", action="append", metavar="NAME=VALUE", help="a parameter set by the build")
    run_.add_argument("--executed", required=True, help="executed notebook to write")
    run_.add_argument("--html", required=True, help="HTML report to write")
    run_.add_argument("--product", action="append", default=[], help="another file the notebook writes")
    index_ = commands.add_parser("index", help="write the index page of the reports")
    index_.add_argument("executed", nargs="+", help="executed notebooks, in the order to list them")
    index_.add_argument("--data", required=True, help="the input every report must come from")
    index_.add_argument("--output", required=True)
    refresh_ = commands.add_parser("refresh", help="re-execute notebooks in place on the bundled sample")
    refresh_.add_argument("notebooks", nargs="+")
    return parser


def _terminate(signum, frame):
    # Let cleanup run (kernel shutdown, temporary files) when make is interrupted.
    raise KeyboardInterrupt


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    # The project's kernel: put this environment's kernelspecs ahead of a user-wide "python3".
    share = str(Path(sys.prefix) / "share" / "jupyter")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (share, os.environ.get("JUPYTER_PATH")) if p)
    os.environ.pop("MPLBACKEND", None)
    # Kernels import this same copy of journey_utils (not another checkout installed in the venv).
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
    try:
        if args.command == "run":
            run(args.notebook, params_file=args.params, shared_file=args.shared, overrides=_parse_set(args.set),
                executed=args.executed, html=args.html, products=args.product)
        elif args.command == "index":
            index(args.executed, data=args.data, output=args.output)
        else:
            refresh(args.notebooks)
    except (BuildError, params.ParamsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; no finished output was left behind", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
