"""The build's first step: the export -> the prepared per-user folder every report reads.

:func:`settings` gathers what the folder must be made with: the preprocessing
settings of ``params/preprocessing.yaml`` and every session window a report uses
(the notebooks' defaults and every parameters file that sets one). :func:`prepare`
writes the folder with :func:`journey_utils.users.prepare` (one process) or
:func:`journey_utils.cluster.prepare` (a Dask cluster); both write the same folder.
:func:`data_plans` and :func:`stored_checksum` read what the later steps need from
a prepared folder without loading it.

Examples
--------
>>> from journey_utils.build import prepared
>>> prepared.settings("no-such-folder")["windows"]
[3]
"""

from __future__ import annotations

import ast
import glob
import json
import os
import time
import warnings
from pathlib import Path

from journey_utils import PROJECT_ROOT
from journey_utils.build import params
from journey_utils.errors import JourneyError

__all__ = ["ENGINES", "PREPROCESSING", "WINDOW_PARAMETERS", "PrepareError", "data_plans", "is_pattern", "prepare",
           "pattern_checksum", "settings", "stored_checksum", "write_settings"]

#: Where the raw sessions are read: one process, or a Dask cluster.
ENGINES = ("pandas", "dask")
#: The preprocessing settings (``params/preprocessing.yaml``) and their defaults.
PREPROCESSING = {"sessions": "All", "count_from": "last", "pages_to_remove": []}
#: Notebook -> its parameter that is a session window N, and the parameters files that may set it.
WINDOW_PARAMETERS = {
    "02_journey_analysis": ("session_window", ("analysis.yaml", "plans/*.yaml", "plans/*.yml")),
    "03_plan_comparison": ("early_sessions", ("comparison.yaml",)),
}
_SHARED = "preprocessing.yaml"
#: Log levels of the local cluster's workers (their processes read them from the environment).
_WORKER_LOGGING = {"distributed.worker": "critical", "distributed.worker.memory": "warning"}
_PREPROCESSING_NOTEBOOK = "01_preprocessing"


class PrepareError(JourneyError, ValueError):
    """The prepared data cannot be made as asked (an engine, a pattern, a scheduler)."""


def _notebook(folder: Path, name: str) -> Path:
    return folder / f"{name}.ipynb"


def _shown(path: Path, params_dir: Path) -> str:
    try:
        return (Path(params_dir.name) / path.relative_to(params_dir)).as_posix()
    except ValueError:
        return str(path)


def _window(value, source: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise params.ParamsError(f"{source}: {name!r} must be a positive whole number of sessions; found {value!r}")
    return value


def settings(params_dir="params", *, notebooks=None) -> dict:
    """What the prepared folder is made with: the preprocessing settings and every session window used.

    Parameters
    ----------
    params_dir : path, default 'params'
        The parameters folder. Every file is optional: ``preprocessing.yaml``
        (``sessions``, ``count_from``, ``pages_to_remove``), and the files that
        may set a window: ``analysis.yaml`` and ``plans/*.yaml``
        (``session_window``), ``comparison.yaml`` (``early_sessions``).
    notebooks : path, optional
        The folder of the report notebooks (default: the project's
        ``notebooks/``), whose parameters cells give the defaults.

    Returns
    -------
    dict
        ``sessions``, ``count_from``, ``pages_to_remove`` and ``windows`` (the
        sorted, distinct window sizes).

    Raises
    ------
    journey_utils.build.params.ParamsError
        A file that is not valid YAML, a preprocessing setting of the wrong type
        or unknown to the preprocessing notebook, or a window that is not a
        positive whole number (naming the file).

    Examples
    --------
    >>> from journey_utils.build.prepared import settings
    >>> settings("no-such-folder")
    {'sessions': 'All', 'count_from': 'last', 'pages_to_remove': [], 'windows': [3]}
    """
    params_dir = Path(os.fspath(params_dir))
    notebooks = Path(os.fspath(notebooks)) if notebooks is not None else PROJECT_ROOT / "notebooks"
    found = dict(PREPROCESSING)
    shared_file = params_dir / _SHARED
    if shared_file.is_file():
        values = params.load(shared_file)
        preprocessing_notebook = _notebook(notebooks, _PREPROCESSING_NOTEBOOK)
        if preprocessing_notebook.is_file():
            params.check(values, params.notebook_parameters(preprocessing_notebook),
                         source=_shown(shared_file, params_dir), notebook=preprocessing_notebook.name)
        found.update({k: v for k, v in values.items() if k in PREPROCESSING})
    windows = set()
    for name, (parameter, patterns) in WINDOW_PARAMETERS.items():
        notebook = _notebook(notebooks, name)
        declared = params.notebook_parameters(notebook) if notebook.is_file() else {}
        if parameter not in declared:
            continue
        windows.add(_window(ast.literal_eval(declared[parameter]["default"]), notebook.name, parameter))
        for pattern in patterns:
            for path in sorted(params_dir.glob(pattern)):
                if path.name.startswith(".") or not path.is_file():
                    continue
                values = params.load(path)
                if parameter in values:
                    windows.add(_window(values[parameter], _shown(path, params_dir), parameter))
    found["windows"] = sorted(windows)
    return found


def write_settings(params_dir="params", *, output, notebooks=None) -> dict:
    """Write :func:`settings` as JSON to ``output``, leaving the file (and its date) alone when unchanged.

    The Makefile makes the prepared folder depend on this file, so a parameters
    file that changes no setting of the folder does not make it again.
    """
    from journey_utils.build import _write_if_changed

    found = settings(params_dir, notebooks=notebooks)
    _write_if_changed(Path(os.fspath(output)), json.dumps(found, ensure_ascii=False, sort_keys=True) + "\n")
    return found


def is_pattern(data) -> bool:
    """Whether ``data`` is a glob pattern (``exports/*.parquet``) rather than a file or folder that exists."""
    text = os.fspath(data)
    return glob.has_magic(text) and not Path(text).exists()


def _client(scheduler, workers, memory_limit):
    """A ``distributed.Client`` on the scheduler, or on a new local cluster (also returned, to close)."""
    import logging

    from distributed import Client

    from journey_utils import cluster

    # The shuffle logs each of its starts as a warning; nothing to act on.
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    if scheduler:
        try:
            return Client(scheduler), None
        except (OSError, ValueError) as error:
            raise PrepareError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    # A task that fails (a bad part) is reported once, by this process, as the library words it; the
    # workers' own log of it (their traceback) is not repeated. Their memory warnings still show.
    quiet = "DASK_LOGGING" not in os.environ
    if quiet:
        os.environ["DASK_LOGGING"] = repr(_WORKER_LOGGING)
    try:
        with warnings.catch_warnings():
            # Without a dashboard the scheduler still serves HTTP; another port is fine when its usual one is taken.
            warnings.filterwarnings("ignore", message=r"Port \d+ is already in use", category=UserWarning)
            local = cluster.local_cluster(workers, memory_limit=memory_limit)
    finally:
        if quiet:
            os.environ.pop("DASK_LOGGING", None)
    try:
        return Client(local), local
    except BaseException:
        local.close()
        raise


def prepare(data, output, *, params_dir="params", engine="pandas", scheduler=None, workers=None,
            memory_limit="auto", notebooks=None) -> dict:
    """Write the prepared per-user folder the reports read, with the settings of ``params_dir``.

    Parameters
    ----------
    data : path or str
        The export: a file or a folder of parts; with ``engine='dask'`` also a
        glob pattern of parts (``exports/*.parquet``).
    output : path
        The prepared folder (``data/processed/users``), replaced when complete;
        a failure leaves it as it was.
    params_dir : path, default 'params'
        The parameters folder (see :func:`settings`).
    engine : {'pandas', 'dask'}
        ``'pandas'``: :func:`journey_utils.users.prepare` in this process.
        ``'dask'``: :func:`journey_utils.cluster.prepare` on the cluster at
        ``scheduler``, or on a local cluster of ``workers`` workers with
        ``memory_limit`` each, closed afterwards.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``), dask engine only.
    workers : int, optional
        Workers of the local cluster (default: one per CPU).
    memory_limit : str or int, default 'auto'
        Memory per local worker (``'2GiB'``).
    notebooks : path, optional
        The folder of the report notebooks (see :func:`settings`).

    Returns
    -------
    dict
        The manifest written in ``output``.

    Raises
    ------
    PrepareError
        An unknown engine, a pattern with the pandas engine, a pattern that
        matches no file, dask options with the pandas engine, or a scheduler that
        cannot be reached.
    journey_utils.JourneyDataError
        The export cannot be read (the message names the file, column and rows).

    Examples
    --------
    >>> import journey_utils as ju
    >>> from journey_utils.build.prepared import prepare
    >>> manifest = prepare(ju.SAMPLE_PATH, "build/users", engine="pandas")  # doctest: +SKIP
    """
    if engine not in ENGINES:
        raise PrepareError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "pandas" and (scheduler or workers is not None):
        raise PrepareError("a scheduler or a number of workers is for the dask engine only; add --engine dask "
                           "(make report ENGINE=dask)")
    text = os.fspath(data)
    if is_pattern(text):
        if engine != "dask":
            raise PrepareError(f"{text}: a pattern of files is read by the dask engine only (make report "
                               "ENGINE=dask); with the pandas engine give one file, or a folder of the parts")
        if not glob.glob(text):
            raise PrepareError(f"{text}: the pattern matches no file")
    wanted = settings(params_dir, notebooks=notebooks)
    started = time.monotonic()
    if engine == "pandas":
        from journey_utils import users

        manifest = users.prepare(data, output, **wanted)
    else:
        from journey_utils import cluster

        client, local = _client(scheduler, workers, memory_limit)
        try:
            with client:
                manifest = cluster.prepare(data, output, **wanted)
        finally:
            if local is not None:
                local.close()
    from journey_utils.build import _relative

    where = f"on {scheduler}" if scheduler else "in this process" if engine == "pandas" else "on a local cluster"
    print(f"prepared {_relative(output)}: {manifest['users']:,} users from {manifest['sessions']:,} sessions "
          f"({engine} engine {where}; windows {', '.join(map(str, wanted['windows']))}) "
          f"in {time.monotonic() - started:.1f} s", flush=True)
    return manifest


def _manifest(folder: Path) -> dict:
    from journey_utils.users import MANIFEST

    file = folder / MANIFEST
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PrepareError(f"{folder}: not a prepared folder (no {MANIFEST}); make it with "
                           "python -m journey_utils.build prepare, or make report") from None
    except (OSError, ValueError) as error:
        raise PrepareError(f"{file}: cannot be read ({error})") from None


def data_plans(users) -> list[str]:
    """The plans in a prepared folder (its ``users/*.parquet``), or in one Parquet file, sorted.

    Only the ``subscription_type`` column is read, so this is quick at any size.

    Raises
    ------
    PrepareError
        A folder that is not a prepared folder (no ``manifest.json``).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from journey_utils.users import USERS

    path = Path(os.fspath(users))
    if path.is_dir():
        _manifest(path)
        files = sorted((path / USERS).glob("*.parquet"))
    else:
        files = [path]
    found = set()
    for file in files:
        column = pq.read_table(file, columns=["subscription_type"]).column(0)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        found.update(p for p in pc.unique(column).to_pylist() if p is not None)
    return sorted(found)


def stored_checksum(data, users) -> str | None:
    """The export's checksum as the prepared folder ``users`` recorded it, when it was made from ``data``.

    None when the folder (or its manifest) is missing, names another source or
    holds no checksum (a glob of parts).
    """
    folder = Path(os.fspath(users))
    try:
        manifest = _manifest(folder)
    except PrepareError:
        return None
    source, checksum = manifest.get("source"), manifest.get("checksum")
    if not isinstance(source, str) or not checksum:
        return None
    if Path(source).resolve() != Path(os.fspath(data)).resolve():
        return None
    return str(checksum)


def pattern_checksum(pattern) -> str:
    """The checksum of the files a glob pattern matches, as of a folder holding them (name order).

    The same as the prepared folder's manifest records (:func:`journey_utils.io.file_checksum` of the parts).
    """
    from journey_utils.io import file_checksum

    files = sorted(glob.glob(os.fspath(pattern)))
    if not files:
        raise PrepareError(f"{pattern}: the pattern matches no file")
    return file_checksum(files)
