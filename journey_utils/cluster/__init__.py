"""More data than one machine: sessions -> journeys and the five metrics on a Dask cluster.

The pandas path (:func:`journey_utils.load_sessions`, :func:`journey_utils.preprocess`,
:mod:`journey_utils.metrics`) holds every session in one process. Here the same code
runs on a Dask cluster, one piece of the data per task, so the sessions never meet in
one process:

- :func:`read_sessions` reads a folder or glob of parts (CSV, compressed too, or
  Parquet) as a Dask DataFrame with one partition per part; each part is read and
  checked by :func:`journey_utils.load_sessions` inside its task, so the messages
  are the same and name the part and its lines. The load reports of the parts are
  summed into one (:func:`summed_report`), equal to what ``load_sessions`` reports
  for a folder of the parts.
- :func:`preprocess` shuffles the sessions on ``user_id`` (every user's sessions land
  in one partition), checks what spans parts (one plan per user; a session repeated
  in two parts must agree, and is then dropped as a repeat), and runs
  :func:`journey_utils.preprocess` on each partition.
- :func:`page_count`, :func:`page_presence`, :func:`page_destinations`,
  :func:`page_transitions`, :func:`page_sequences`, :func:`journey_lengths` and
  :func:`journey_length` take journeys as a Dask DataFrame, run the pandas metric on
  each partition (on the selected plans) and add the partial counts up; they return
  the pandas objects the pandas functions return, sorted the same way.
- :func:`prepare` (and ``python -m journey_utils.cluster prepare``) writes the
  prepared folder the reports read (:mod:`journey_utils.users`): each partition of
  users makes its rows with :func:`journey_utils.users.user_table` and writes them,
  and the revisit counts and load reports are added up; the folder's contents equal
  those of :func:`journey_utils.users.prepare` in one process.

Every user's journey is computed by the pandas code from all of that user's sessions,
so the figures equal the pandas path's exactly.

Examples
--------
>>> from distributed import Client, LocalCluster                  # doctest: +SKIP
>>> from journey_utils import cluster
>>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
>>> sessions, report = cluster.read_sessions("exports/*.csv.gz")   # doctest: +SKIP
>>> journeys = cluster.preprocess(sessions, sessions=3).persist()  # doctest: +SKIP
>>> cluster.page_presence(journeys, plan="Annual", normalize=True)  # doctest: +SKIP
"""

from __future__ import annotations

import dask.dataframe as dd

from journey_utils.cluster.journeys import preprocess, repeats
from journey_utils.cluster.metrics import (
    journey_length,
    journey_lengths,
    page_count,
    page_destinations,
    page_presence,
    page_sequences,
    page_transitions,
)
from journey_utils.cluster.parts import (
    PART,
    check_rows,
    load_report,
    part_files,
    read_sessions,
    summed_report,
)
from journey_utils.cluster.prepare import (
    MANIFEST,
    OUTPUTS,
    local_cluster,
    main,
    prepare,
)

__all__ = [
    "MANIFEST",
    "OUTPUTS",
    "PART",
    "check_rows",
    "is_dask",
    "journey_length",
    "journey_lengths",
    "load_report",
    "local_cluster",
    "main",
    "page_count",
    "page_destinations",
    "page_presence",
    "page_sequences",
    "page_transitions",
    "part_files",
    "prepare",
    "preprocess",
    "read_sessions",
    "repeats",
    "summed_report",
]


def is_dask(data) -> bool:
    """True when ``data`` is a Dask DataFrame (what the pandas metrics dispatch on).

    Examples
    --------
    >>> import pandas as pd
    >>> is_dask(pd.DataFrame())
    False
    """
    return isinstance(data, dd.DataFrame)
