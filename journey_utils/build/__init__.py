"""Building the reports: run a notebook and render it, write the index, refresh the notebooks.

The Makefile calls this module once per report, so make keeps one target per
file and can build reports in parallel, while each report costs one Python
process (papermill and nbconvert are driven from here, not started as
separate programs)::

    python -m journey_utils.build prepare-settings --params params --output build/params/prepare.json
    python -m journey_utils.build prepare --data DATA --output data/processed/users --params params \\
        [--engine dask [--scheduler tcp://host:8786 | --workers 2 --memory-limit 2GiB]]
    python -m journey_utils.build plans --users data/processed/users --params params \\
        --output build/reports.mk
    python -m journey_utils.build run notebooks/01_preprocessing.ipynb --params params/preprocessing.yaml \\
        --set input_path=data/processed/users --set output_path=data/processed/journeys.parquet ...
    python -m journey_utils.build run notebooks/02_journey_analysis.ipynb \\
        --params build/params/02_journey_analysis-annual.yaml --shared params/preprocessing.yaml \\
        --set input_path=data/processed/users \\
        --executed build/notebooks/02_journey_analysis-annual.ipynb \\
        --html reports/02_journey_analysis-annual.html
    python -m journey_utils.build index --data DATA --users data/processed/users --output reports/index.html \\
        build/notebooks/*.ipynb
    python -m journey_utils.build refresh notebooks/*.ipynb

The ``prepare`` step reads the export once (in this process, or on a Dask
cluster with ``--engine dask``) and writes the per-user folder every report reads
(:mod:`journey_utils.build.prepared`, :mod:`journey_utils.users`); the
``prepare-settings`` step writes what that folder is made with (the preprocessing
settings and every session window a report uses), rewritten only when they
change, so that the Makefile makes the folder again only then.

The ``plans`` step is what lets the reports follow the data: it reads the plans
present in the prepared data, merges the optional parameter files of
``params/`` into one resolved parameters file per journey-analysis report
(``build/params/``), and writes a makefile fragment (``build/reports.mk``) that
lists those reports by their file-name slug (:func:`plan_slugs`); the Makefile
includes it, so make learns the report targets after preprocessing.

Every file is written under a temporary name and renamed when complete, and a
run first removes the outputs it is about to replace, so an interrupted or
failed run never leaves a file that looks finished. A failed notebook is kept
as ``<name>.failed.ipynb`` next to where the executed notebook would be, and
the message names the notebook, the plan, the cell and the error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import sys
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

# jsonschema compiles an IRI grammar when it is imported with rfc3987_syntax
# installed (2-3 s per process); notebook validation never uses that format.
sys.modules.setdefault("rfc3987_syntax", None)

from journey_utils import PROJECT_ROOT  # noqa: E402 (after the rfc3987_syntax stub above)
from journey_utils.build import params, prepared  # noqa: E402
from journey_utils.errors import JourneyError  # noqa: E402

__all__ = [
    "BUILD_SET",
    "KERNEL_NAME",
    "BuildError",
    "data_plans",
    "index",
    "main",
    "plan_reports",
    "plan_slugs",
    "plans",
    "prepare",
    "prepare_settings",
    "refresh",
    "reports_makefile",
    "run",
]

KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
# The kernel's own log (transport notices, the interrupt sent at shutdown) is not about
# the report; errors in cells still reach the notebook and the build's message.
QUIET_KERNEL = ("--IPKernelApp.log_level=CRITICAL",)
#: Parameters the build sets from the pipeline layout; a parameters file may not set them.
BUILD_SET = ("input_path", "output_path")


class BuildError(JourneyError, RuntimeError):
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
    the build sets (``input_path``, ``output_path``): each
    setting has one home. Every key and value is checked against the notebook's
    parameters cell.

    Raises
    ------
    journey_utils.build.params.ParamsError
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
        _check_own_keys(own, _relative(params_file), declared, shared, shown,
                        shared_source=_relative(shared_file) if shared_file else SHARED_SOURCE)
        values.update(own)
    params.check(overrides, declared, source="the build", notebook=shown)
    values.update(overrides)
    return values


def _sources(params_file) -> list[str]:
    """The files a resolved parameters file (``build/params/``) was merged from, or the file itself."""
    try:
        with open(params_file, encoding="utf-8") as handle:
            for line in handle:
                if not line.startswith("#"):
                    break
                if line.startswith("# sources: "):
                    return [s for s in line.removeprefix("# sources: ").strip().split(", ") if not s.startswith("(")]
    except OSError:
        pass
    return [_relative(params_file)]


def _subject(notebook, values: Mapping, params_file) -> str:
    parts = []
    if isinstance(values.get("plan"), str):
        parts.append(f"plan {values['plan']!r}")
    elif isinstance(values.get(SELECTOR), list) and Path(notebook).stem == ANALYSIS:
        chosen = values[SELECTOR]
        parts.append(f"plan {chosen[0]!r}" if len(chosen) == 1 else "every plan" if not chosen
                     else "plans " + ", ".join(map(repr, chosen)))
    if params_file:
        parts.extend(_sources(params_file))
    return f"{_relative(notebook)}" + (f" ({', '.join(parts)})" if parts else "")


class _Progress:
    """Say what a long run is doing: every ``every`` seconds, how long it has run and which cell runs.

    Passed to nbclient as its ``on_cell_start`` hook; a daemon thread prints, so a
    report that takes a while is never silent.
    """

    def __init__(self, label: str, source_nb, every: float = 10.0):
        self.label, self.every = label, every
        self.positions = {cell.get("id"): i for i, cell in enumerate(source_nb.cells, start=1)}
        self.cell, self.since = None, time.monotonic()
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def on_cell_start(self, cell, cell_index, **_):
        self.cell, self.since = cell, time.monotonic()

    def _tick(self):
        while not self._stop.wait(self.every):
            cell, now = self.cell, time.monotonic()
            if cell is None:
                where = "starting the kernel"
            else:
                cell_id = cell.get("id")
                where = (f"cell {self.positions[cell_id]} (id {cell_id!r})" if cell_id in self.positions
                         else "the parameters cell")
                where = f"in {where} for {now - self.since:.0f} s"
            print(f"... {self.label}: {now - self.started:.0f} s so far, {where}", flush=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()


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
        Values set by the build (the input folder and output file paths).
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
    journey_utils.build.params.ParamsError
        A parameters file that does not fit the notebook.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from journey_utils.build import render

    started = time.monotonic()
    notebook, executed, html = Path(notebook), Path(executed), Path(html)
    outputs = [executed, html, _failed_path(executed), *map(Path, products)]
    _remove(outputs)
    values = resolve_parameters(notebook, params_file=params_file, shared_file=shared_file, overrides=overrides)
    subject = _subject(notebook, values, params_file)
    executed.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(executed)
    source_nb = nbformat.read(notebook, as_version=4)
    progress = _Progress(_relative(html), source_nb)
    try:
        with progress:
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
                on_cell_start=progress.on_cell_start,
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
    print(f"built {_relative(html)} in {time.monotonic() - started:.1f} s", flush=True)
    return html



# ------------------------------------------------------------------ plans from the data

#: The journey-analysis notebook, and the slug of its report on every plan together.
ANALYSIS = "02_journey_analysis"
ALL_PLANS_SLUG = "all"
#: Slugs no plan may take (the all-plans report's).
RESERVED_SLUGS = frozenset({ALL_PLANS_SLUG})
#: The optional files of ``params/`` and what they set.
DEFAULTS_FILE = "analysis.yaml"
PLANS_FOLDER = "plans"
SELECTOR = "plans"
_SLUG_LENGTH = 40
_SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.yaml")


def _base_slug(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:_SLUG_LENGTH].strip("-")


def _name_hash(name: str, digits: int) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:digits]


def plan_slugs(plans: Sequence[str]) -> dict[str, str]:
    """File-name slugs for plan names: safe on any file system and unique among the plans given.

    A slug is the plan name folded to lowercase ASCII letters and digits, every
    other run of characters replaced by ``-`` (at most 40 characters). When that
    is empty, is ``all`` (the all-plans report's slug), or is shared with another
    plan (``Annual`` and ``annual``, ``Team/Org`` and ``Team Org``), the plan's slug
    gets ``-`` and the first 8 hex digits of the SHA-256 of its exact name (more
    digits in the unlikely case they are not enough), so two plans never share a
    file name, even on a case-insensitive file system.

    Parameters
    ----------
    plans : sequence of str
        The plan names present in the data.

    Returns
    -------
    dict
        Plan name -> slug, in the order given.

    Examples
    --------
    >>> from journey_utils.build import plan_slugs
    >>> plan_slugs(["Annual", "Free trial → Pro", "Über"])
    {'Annual': 'annual', 'Free trial → Pro': 'free-trial-pro', 'Über': 'uber'}
    >>> slugs = plan_slugs(["All", "annual", "Annual"])
    >>> [s.rsplit("-", 1)[0] for s in slugs.values()], len(set(slugs.values()))
    (['all', 'annual', 'annual'], 3)
    """
    names = list(dict.fromkeys(plans))
    bases = {name: _base_slug(name) for name in names}
    hashed = {name for name, base in bases.items() if not base or base in RESERVED_SLUGS}
    digits = 8
    while True:
        slugs = {name: (f"{bases[name] or 'plan'}-{_name_hash(name, digits)}" if name in hashed else bases[name])
                 for name in names}
        counts = Counter(slugs.values())
        clashing = {name for name, slug in slugs.items() if counts[slug] > 1 or slug in RESERVED_SLUGS}
        if not clashing:
            return slugs
        if clashing <= hashed:
            digits += 8
        hashed |= clashing


def data_plans(users) -> list[str]:
    """The plans in the prepared data (a folder written by ``prepare``), or in one Parquet file, sorted.

    Only the plan column of ``users/*.parquet`` is read, so this is quick at any size.

    Raises
    ------
    journey_utils.build.prepared.PrepareError
        A folder that is not a prepared folder.
    """
    return prepared.data_plans(users)


prepare = prepared.prepare
prepare_settings = prepared.write_settings


SHARED_SOURCE = "params/preprocessing.yaml"


def _check_own_keys(values: Mapping, path, declared: Mapping, shared: Mapping, shown: str, *,
                    shared_source: str = SHARED_SOURCE) -> None:
    """A report's own parameters: no key the build sets, none of the shared file's, each declared and typed."""
    for key in values:
        if key in BUILD_SET:
            raise params.ParamsError(f"{path}: {key!r} is set by the build (from DATA and the "
                                     "pipeline layout); remove it from the file")
        if key in shared:
            raise params.ParamsError(f"{path}: {key!r} is a preprocessing setting; set it in {shared_source} only")
    params.check(values, declared, source=str(path), notebook=shown)


def _selected_plan(values: Mapping, path: str) -> str | None:
    """The plan an override file is about (None for the all-plans report)."""
    if "plan" in values and SELECTOR not in values:
        raise params.ParamsError(
            f"{path}: say which report the file is for with {SELECTOR}: [<plan name>] "
            f"(or {SELECTOR}: [] for the report on every plan); found plan: {values['plan']!r}")
    if SELECTOR not in values:
        raise params.ParamsError(
            f"{path}: a file in params/{PLANS_FOLDER}/ overrides one report: name it with "
            f"{SELECTOR}: [<plan name>] (or {SELECTOR}: [] for the report on every plan)")
    chosen = values[SELECTOR]
    if not isinstance(chosen, list) or len(chosen) > 1 or not all(isinstance(p, str) and p for p in chosen):
        raise params.ParamsError(
            f"{path}: {SELECTOR} must be a list of one plan name, or [] for the report on every "
            f"plan; found {chosen!r}")
    return chosen[0] if chosen else None


def _near(name: str, present: Sequence[str]) -> list[str]:
    folded = " ".join(name.casefold().split())
    return [p for p in present if " ".join(p.casefold().split()) == folded]


def plan_reports(plans: Sequence[str], params_dir="params", notebook=None) -> dict:
    """The journey-analysis reports of the plans present, with their parameters.

    One report on every plan together (slug ``all``) and one per plan. Each
    report's parameters are the notebook's defaults, then ``params/analysis.yaml``
    (defaults for every journey-analysis report), then the one file of
    ``params/plans/`` whose ``plans`` names that report (``plans: [Annual]``, or
    ``plans: []`` for the report on every plan). All files are optional.

    A file of ``params/plans/`` naming a plan that is not in the data is skipped
    with a warning (returned, and printed by the build) that names the file and the
    plans present: an export without that plan still gets its reports.

    Parameters
    ----------
    plans : sequence of str
        The plans present in the data (see :func:`data_plans`).
    params_dir : path
        The parameters folder.
    notebook : path, optional
        The journey-analysis notebook whose parameters the files are checked
        against (default ``notebooks/02_journey_analysis.ipynb``).

    Returns
    -------
    dict
        ``reports``: list of dicts with ``slug``, ``plan`` (None for every plan),
        ``parameters`` and ``sources`` (the files merged), the all-plans report
        first, then plans in sorted order; ``skipped``: list of ``(file, plan)``;
        ``warnings``: list of messages.

    Raises
    ------
    journey_utils.build.params.ParamsError
        A file that is not valid YAML, a key the notebook does not take or of
        the wrong type, a preprocessing or build setting, a file name make cannot
        handle, or two files for the same report.

    Examples
    --------
    >>> from journey_utils.build import plan_reports
    >>> found = plan_reports(["Annual", "Monthly"], params_dir="no-such-folder")
    >>> [(r["slug"], r["plan"]) for r in found["reports"]]
    [('all', None), ('annual', 'Annual'), ('monthly', 'Monthly')]
    """
    params_dir = Path(params_dir)

    def _shown(path: Path) -> str:
        # As the user knows the file: params/plans/annual.yaml.
        return (Path(params_dir.name) / path.relative_to(params_dir)).as_posix()

    notebook = Path(notebook) if notebook else PROJECT_ROOT / "notebooks" / f"{ANALYSIS}.ipynb"
    declared = params.notebook_parameters(notebook)
    shown = _relative(notebook)
    # The notebook's plan selection: `plans` (a list), or the former `plan` (a name or 'All').
    selector = SELECTOR if SELECTOR in declared else "plan"
    shared_file = params_dir / "preprocessing.yaml"
    shared = params.load(shared_file) if shared_file.is_file() else {}
    plans = sorted(dict.fromkeys(plans))

    defaults, default_sources = {}, []
    defaults_file = params_dir / DEFAULTS_FILE
    if defaults_file.is_file():
        defaults = params.load(defaults_file)
        for key in (SELECTOR, "plan"):
            if key in defaults:
                raise params.ParamsError(
                    f"{_shown(defaults_file)}: {key!r} cannot be set here: this file holds the defaults of every "
                    f"journey-analysis report; put a plan's own settings in params/{PLANS_FOLDER}/<name>.yaml")
        _check_own_keys(defaults, defaults_file, declared, shared, shown)
        default_sources = [_shown(defaults_file)]

    overrides: dict = {}
    skipped, warnings = [], []
    folder = params_dir / PLANS_FOLDER
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name.startswith(".") or path.is_dir() or path.suffix not in (".yaml", ".yml"):
            continue  # notes such as README.md
        label = _shown(path)
        if not _SAFE_FILE_NAME.fullmatch(path.name):
            raise params.ParamsError(f"{label}: rename the file with letters, digits, '.', '_' and '-' "
                                     "only (make cannot track other file names)")
        values = params.load(path)
        plan = _selected_plan(values, label)
        own = {k: v for k, v in values.items() if k not in (SELECTOR, "plan")}
        _check_own_keys(own, label, declared, shared, shown)
        if plan is not None and plan not in plans:
            near = _near(plan, plans)
            hint = f"; did you mean {', '.join(map(repr, near))}?" if near else ""
            message = (f"{label} names plan {plan!r}, which is not in this input (plans present: "
                       f"{', '.join(plans) or 'none'}){hint}; that file is skipped")
            warnings.append(message)
            skipped.append((label, plan))
            continue
        if plan in overrides:
            raise params.ParamsError(
                f"{overrides[plan][0]} and {label} both set the parameters of the report on "
                + (f"plan {plan!r}" if plan is not None else "every plan") + "; keep one of them")
        overrides[plan] = (label, own)

    slugs = plan_slugs(plans)
    reports = []
    for plan, slug in [(None, ALL_PLANS_SLUG), *((p, slugs[p]) for p in plans)]:
        if selector == SELECTOR:
            values = {SELECTOR: [] if plan is None else [plan]}
        else:
            values = {"plan": "All" if plan is None else plan}
        values.update(defaults)
        sources = list(default_sources)
        if plan in overrides:
            label, own = overrides[plan]
            values.update(own)
            sources.append(label)
        reports.append({"slug": slug, "plan": plan, "parameters": values, "sources": sources})
    return {"reports": reports, "skipped": skipped, "warnings": warnings}


def _write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless the file already holds it (its date then tells make nothing changed)."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    _write_atomic(path, text)
    return True


def analysis_name(slug: str) -> str:
    """The file stem of a journey-analysis report (``02_journey_analysis-<slug>``)."""
    return f"{ANALYSIS}-{slug}"


def reports_makefile(found: Mapping, *, users) -> str:
    """The makefile fragment that tells make which journey-analysis reports to build.

    It defines ``ANALYSIS_SLUGS`` (the all-plans report first, then one slug per
    plan); plan names appear only in comments, JSON-quoted, so no name can
    change what make reads.
    """
    lines = [
        f"# Generated by `python -m journey_utils.build plans` from the plans in {_relative(users)}",
        "# and the files in params/;",
        "# rewritten whenever either changes. Do not edit: add or change a file in params/ instead.",
    ]
    for report in found["reports"]:
        about = "every plan" if report["plan"] is None else f"plan {json.dumps(report['plan'], ensure_ascii=True)}"
        lines.append(f"#   {report['slug']}: {about}")
    for path, plan in found["skipped"]:
        lines.append(f"# skipped: {path} (plan {json.dumps(plan, ensure_ascii=True)} is not in this input)")
    lines.append("ANALYSIS_SLUGS := " + " ".join(r["slug"] for r in found["reports"]))
    return "\n".join(lines) + "\n"


def _parameters_file(report: Mapping) -> str:
    import yaml

    about = "every plan" if report["plan"] is None else f"plan {report['plan']!r}"
    head = (f"# Parameters of reports/{analysis_name(report['slug'])}.html ({about}), written by the build.\n"
            f"# sources: {', '.join(report['sources']) or '(notebook defaults)'}\n")
    return head + yaml.safe_dump(dict(report["parameters"]), allow_unicode=True, sort_keys=False, width=1000,
                                default_flow_style=None)


def plans(users, *, params_dir="params", output, notebook=None) -> dict:
    """Write the build's plan-dependent files: resolved parameters, manifest and makefile fragment.

    Next to ``output`` (``build/reports.mk``) it writes ``params/<report>.yaml`` (one
    resolved parameters file per journey-analysis report) and ``plans.json`` (the
    reports, their plans and sources, and the skipped files). A file whose content
    is unchanged keeps its date, so only the reports whose parameters changed are
    rebuilt; the makefile fragment is always touched, so make knows it is current.

    Returns
    -------
    dict
        As :func:`plan_reports`.
    """
    output = Path(output)
    found = plan_reports(data_plans(users), params_dir=params_dir, notebook=notebook)
    for message in found["warnings"]:
        print(f"warning: {message}", file=sys.stderr, flush=True)
    folder = output.parent / "params"
    folder.mkdir(parents=True, exist_ok=True)
    keep = set()
    for report in found["reports"]:
        path = folder / f"{analysis_name(report['slug'])}.yaml"
        keep.add(path.name)
        _write_if_changed(path, _parameters_file(report))
    for stale in folder.glob(f"{ANALYSIS}-*.yaml"):
        if stale.name not in keep:
            stale.unlink()
    manifest = {
        "reports": [{"slug": r["slug"], "plan": r["plan"], "sources": r["sources"],
                     "file": f"{analysis_name(r['slug'])}.html"} for r in found["reports"]],
        "skipped": [{"file": path, "plan": plan} for path, plan in found["skipped"]],
    }
    _write_if_changed(output.parent / "plans.json", json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    if not _write_if_changed(output, reports_makefile(found, users=users)):
        os.utime(output)
    shown = ", ".join(repr(r["plan"]) for r in found["reports"] if r["plan"] is not None)
    print(f"plans in the data: {shown or 'none'}; {len(found['reports'])} journey-analysis reports", flush=True)
    return found


def _payload(nb, mime: str):
    """The first output of type ``mime`` in an executed notebook (what a report helper handed the index)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(mime)
            if payload:
                return payload
    return None


def _key_figures(nb) -> list[tuple[str, str]]:
    from journey_utils.report import KEY_FIGURES_MIME

    payload = _payload(nb, KEY_FIGURES_MIME) or {}
    return [(f["label"], f["text"]) for f in payload.get("figures", [])]


def _headline(nb) -> dict | None:
    """The report's first takeaway (``report.summary``): its number and sentence, plain text."""
    from journey_utils.report import SUMMARY_MIME

    takeaways = (_payload(nb, SUMMARY_MIME) or {}).get("takeaways") or []
    if not takeaways:
        return None
    first = takeaways[0]
    return {"number": str(first.get("number") or ""), "text": str(first.get("headline") or "")}


def _plans_covered(nb, values: Mapping) -> list[str] | None:
    """The plans a report covers: as its header names them, else as its parameters chose them (None: every plan)."""
    from journey_utils.report import REPORT_MIME

    named = (_payload(nb, REPORT_MIME) or {}).get("plans")
    if named is not None:
        return [str(p) for p in named]
    chosen = values.get("plan", values.get(SELECTOR))
    if isinstance(chosen, str) and chosen and chosen != "All":
        return [chosen]
    if isinstance(chosen, list) and chosen:
        return [str(p) for p in chosen]
    return None


def _title(nb, fallback: str) -> str:
    from journey_utils.build.render import TableOfContents

    copy = nb.copy()
    copy.metadata = dict(nb.metadata)
    TableOfContents().preprocess(copy, {})
    return copy.metadata.get("title") or fallback


def _utc_minute(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def index(executed_notebooks: Sequence, *, data, output, users=None, manifest=None) -> Path:
    """Write the reports' index page from the executed notebooks.

    Each report links to ``<notebook name>.html`` next to the index. Report pages
    and executed (or failed) notebooks that no longer belong to the build, such as
    those of a plan no longer in the data, are deleted.

    Parameters
    ----------
    executed_notebooks : sequence of path
        The executed notebooks, in the order to list them.
    data : path
        The export every report must come from.
    output : path
        The index page to write.
    users : path, optional
        The prepared folder the build wrote from ``data``, which the notebooks
        read instead of ``data``; the export's checksum is read from its manifest.
    manifest : path, optional
        ``plans.json`` of the plans step: parameter files skipped because their plan
        is not in the data are listed on the page.

    Raises
    ------
    BuildError
        A notebook run on another input than ``data`` (reports must not mix inputs),
        or one that was never executed.
    """
    import nbformat

    from journey_utils.report import parameter_text, run_time

    output = Path(output)
    expected = {Path(data).resolve()} | ({Path(users).resolve()} if users else set())
    entries = []
    for path in map(Path, executed_notebooks):
        nb = nbformat.read(path, as_version=4)
        meta = nb.metadata.get("papermill", {})
        values = meta.get("parameters", {})
        if "parameters" not in meta:
            raise BuildError(f"{_relative(path)} was not executed by the build; run make report")
        if "input_path" in values and (PROJECT_ROOT / values["input_path"]).resolve() not in expected:
            raise BuildError(f"{_relative(path)} was built from {values['input_path']}, not {data}; "
                             "reports must not mix inputs: run make clean, then make report")
        entries.append({
            "href": path.stem + ".html",
            "title": _title(nb, path.stem),
            "parameters": [(k, parameter_text(v, k)) for k, v in values.items() if k not in BUILD_SET],
            "figures": _key_figures(nb),
            "headline": _headline(nb),
            "plans": _plans_covered(nb, values),
            "built": _utc_minute(meta.get("end_time")),
        })
    notes = []
    if manifest and Path(manifest).is_file():
        for skipped in json.loads(Path(manifest).read_text(encoding="utf-8")).get("skipped", []):
            notes.append(f"{skipped['file']} was skipped: it names plan {skipped['plan']!r}, which is not in "
                         "this input.")
    page = render_index(entries, data=data, built=run_time(), notes=notes, users=users)
    _write_atomic(output, page)
    # Reports of plans no longer in the data (or in params/) are no longer part of the build.
    keep = {e["href"] for e in entries} | {output.name}
    for orphan in output.parent.glob("[0-9][0-9]_*.html"):
        if orphan.name not in keep:
            orphan.unlink()
    executed = {Path(p).resolve() for p in executed_notebooks}
    for folder in {p.parent for p in executed}:
        for orphan in folder.glob("[0-9][0-9]_*.ipynb"):
            if orphan.resolve() not in executed:
                orphan.unlink()
    print(f"built {_relative(output)}", flush=True)
    return output


def input_checksum(data, users=None) -> str:
    """The short checksum of an export (a file, a folder of parts or a glob of parts) as the reports show it.

    Read from the manifest of ``users`` (the prepared folder the build wrote from
    ``data``), or from the load report stored in a validated sessions file, when it
    names the same export, which spares hashing a large export again; computed
    otherwise (for a glob: over the matched files in name order).
    """
    if users and Path(users).is_dir():
        stored = prepared.stored_checksum(data, users)
        if stored:
            return stored
    elif users and Path(users).is_file():
        try:
            import pyarrow.parquet as pq

            stored = json.loads(pq.read_metadata(users).metadata[b"journey_utils.sessions"])["report"]
            if Path(stored["path"]).resolve() == Path(data).resolve() and stored.get("checksum"):
                return str(stored["checksum"])
        except (OSError, KeyError, TypeError, ValueError):
            pass
    if prepared.is_pattern(data):
        return prepared.pattern_checksum(data)
    from journey_utils.io import file_checksum

    return file_checksum(data)


def render_index(entries, *, data, built: str, notes: Sequence[str] = (), users=None) -> str:
    from journey_utils.build.render import index_page

    return index_page(entries, input_name=Path(data).name, input_checksum=input_checksum(data, users),
                      built=built, notes=notes)


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
    prepare_ = commands.add_parser("prepare", help="read the export and write the per-user folder the reports read",
                                   description=prepared.prepare.__doc__.split("\n\n")[0])
    prepare_.add_argument("--data", required=True, help="the export: a file or a folder of parts (with --engine "
                          "dask also a glob pattern of parts, quoted)")
    prepare_.add_argument("--output", required=True, help="the prepared folder to write (data/processed/users)")
    prepare_.add_argument("--params", default="params", help="the parameters folder")
    prepare_.add_argument("--engine", choices=prepared.ENGINES, default="pandas",
                          help="pandas: one process (default); dask: a Dask cluster")
    prepare_.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:8786); default: a "
                          "local cluster (dask engine)")
    prepare_.add_argument("--workers", type=_positive, help="workers of the local cluster (default: one per CPU)")
    prepare_.add_argument("--memory-limit", default="auto", help="memory per local worker, e.g. 2GiB (default: "
                          "the machine's memory shared between the workers)")
    settings_ = commands.add_parser("prepare-settings", help="write the settings of the prepared folder (JSON), "
                                    "leaving the file alone when they are unchanged")
    settings_.add_argument("--params", default="params", help="the parameters folder")
    settings_.add_argument("--output", required=True, help="the JSON file to write (build/params/prepare.json)")
    plans_ = commands.add_parser("plans", help="list the reports of the plans in the data (build/reports.mk)")
    plans_.add_argument("--users", required=True, help="the prepared folder written by the prepare step")
    plans_.add_argument("--params", default="params", help="the parameters folder")
    plans_.add_argument("--output", required=True, help="makefile fragment to write (build/reports.mk)")
    index_ = commands.add_parser("index", help="write the index page of the reports")
    index_.add_argument("executed", nargs="+", help="executed notebooks, in the order to list them")
    index_.add_argument("--data", required=True, help="the input every report must come from")
    index_.add_argument("--output", required=True)
    index_.add_argument("--users", help="the prepared folder the notebooks read instead of DATA")
    index_.add_argument("--manifest", help="plans.json of the plans step")
    refresh_ = commands.add_parser("refresh", help="re-execute notebooks in place on the bundled sample")
    refresh_.add_argument("notebooks", nargs="+")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number; found {text!r}")
    return value


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
    # Reading the export fails with the library's own messages (a bad file, column or row; a folder
    # that is not a prepared one; a worker that ran out of memory): said as they are.
    failures = (JourneyError, ValueError, TypeError, OSError) if args.command == "prepare" else (JourneyError,)
    try:
        if args.command == "run":
            run(args.notebook, params_file=args.params, shared_file=args.shared, overrides=_parse_set(args.set),
                executed=args.executed, html=args.html, products=args.product)
        elif args.command == "prepare":
            prepare(args.data, args.output, params_dir=args.params, engine=args.engine, scheduler=args.scheduler,
                    workers=args.workers, memory_limit=args.memory_limit)
        elif args.command == "prepare-settings":
            prepare_settings(args.params, output=args.output)
        elif args.command == "plans":
            plans(args.users, params_dir=args.params, output=args.output)
        elif args.command == "index":
            index(args.executed, data=args.data, output=args.output, users=args.users, manifest=args.manifest)
        else:
            refresh(args.notebooks)
    except failures as error:
        # One write, so that parallel jobs' lines do not interleave with it.
        sys.stderr.write(f"error: {error}\n")
        sys.stderr.flush()
        return 1
    except KeyboardInterrupt:
        print("interrupted; no finished output was left behind", file=sys.stderr)
        return 130
    return 0

