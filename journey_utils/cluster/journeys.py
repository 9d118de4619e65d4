"""Sessions -> one journey per user on the cluster: a shuffle on user_id, then the pandas code."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd

from journey_utils import _codes
from journey_utils.cluster.parts import (
    COLLAPSED,
    PART,
    PLAN,
    RAW,
    REQUIRED,
    SESSION,
    TARGET,
    USER,
    _across_parts,
    _repeats,
    check_frame,
)
from journey_utils.preprocess import preprocess as _pandas_preprocess
from journey_utils.preprocess import remove_page_duplicates

# --- sessions -> journeys ------------------------------------------------------------------


def _check_sessions(data, function: str) -> None:
    check_frame(data, function, REQUIRED)


def _collapsed(part: pd.DataFrame, collapse: bool = True) -> pd.DataFrame:
    """Sessions ready to shuffle: each session's repeated pages collapsed, its raw journey hashed.

    Collapsing a session's runs first does not change what :func:`journey_utils.preprocess`
    makes of it (pages are removed page by page and runs are collapsed again after,
    across sessions too), and it shrinks what the shuffle moves several times over. The
    hash (``_raw``) keeps the check of sessions repeated across parts on the journeys as
    written. Without ``collapse`` the journeys are kept as loaded (for what counts page
    visits before repeats are collapsed).
    """
    if PART not in part.columns:
        part = part.assign(**{PART: pd.Categorical.from_codes(np.zeros(len(part), np.int8), categories=["sessions"])})
    out = part[REQUIRED + [PART]].copy(deep=False)
    # read_sessions made both columns already.
    if collapse:
        out[TARGET] = part[COLLAPSED] if COLLAPSED in part.columns else _tidy_sessions(part[TARGET])
    out[RAW] = part[RAW] if RAW in part.columns else _journey_hash(part[TARGET])
    return out


def _tidy_sessions(journeys: pd.Series) -> pd.Series:
    """Each session's repeated pages collapsed, by the library's remove_page_duplicates."""
    collapsed = remove_page_duplicates(pd.DataFrame({TARGET: journeys}))[TARGET]
    collapsed.index = journeys.index
    return collapsed


# Odd multiplier of the position hash (a 64-bit constant; arithmetic wraps modulo 2**64).
_STEP = np.uint64(0x9E3779B97F4A7C15)


def _journey_hash(journeys: pd.Series) -> np.ndarray:
    """A 64-bit hash of each journey's pages in order, equal for equal journeys in any partition.

    Computed on the split the loading made (remembered by :mod:`journey_utils._codes`):
    each page name is hashed once, and a journey's hash is the sum of its pages' hashes,
    each times the multiplier to the power of its position.
    """
    coded, rows = _codes.split(journeys)
    names = pd.util.hash_array(np.asarray(coded.pages, dtype=object)) if coded.n_pages else np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        terms = names[coded.codes] * np.power(_STEP, coded.position.astype(np.uint64))
        sums = np.zeros(coded.n_journeys, dtype=np.uint64)
        nonempty = np.flatnonzero(coded.lengths > 0)
        if len(nonempty):
            sums[nonempty] = np.add.reduceat(terms, coded.offsets[:-1][nonempty])
        sums += coded.lengths.astype(np.uint64)
    return sums[rows]


def _checked(sessions: dd.DataFrame, npartitions=None, collapse: bool = True) -> dd.DataFrame:
    """The sessions shuffled on user_id and checked across parts (see :func:`_across_parts`).

    Each session's repeated pages are collapsed before the shuffle unless ``collapse`` is False.
    """
    frame = sessions[REQUIRED + [c for c in (PART, COLLAPSED, RAW) if c in sessions.columns]]
    meta = frame._meta[REQUIRED + ([PART] if PART in frame.columns else [])]
    if PART not in meta.columns:
        meta = meta.assign(**{PART: pd.Categorical.from_codes(np.zeros(0, np.int8), categories=["sessions"])})
    meta = meta.assign(**{RAW: np.zeros(0, np.uint64)})
    frame = frame.map_partitions(_collapsed, collapse, meta=meta)
    by_user = frame.shuffle(on=USER, npartitions=npartitions or sessions.npartitions)
    return by_user.map_partitions(_across_parts, meta=meta.assign(_repeat=np.zeros(0, dtype=bool)))


def _journeys_part(part: pd.DataFrame, sessions, count_from, pages) -> pd.DataFrame:
    repeat = part["_repeat"].to_numpy()
    kept = part[~repeat] if repeat.any() else part
    return _pandas_preprocess(kept[REQUIRED], sessions=sessions, count_from=count_from, pages_to_remove=pages)


def _probe() -> pd.DataFrame:
    return pd.DataFrame({USER: [0], SESSION: [0], PLAN: ["x"], TARGET: ["x"]}).astype({PLAN: "str", TARGET: "str"})


def _settings(sessions, count_from, pages):
    # The pandas function checks the settings too: run on one row, it stops on a
    # mistake before anything is computed, with its own message.
    meta = _pandas_preprocess(_probe(), sessions=sessions, count_from=count_from, pages_to_remove=pages)
    return list([pages] if isinstance(pages, str) else pages), meta.iloc[:0]


def preprocess(data, sessions="All", count_from="last", pages_to_remove=(), *, npartitions=None) -> dd.DataFrame:
    """Sessions -> one journey per user on the cluster: :func:`journey_utils.preprocess` per partition.

    The sessions are shuffled on ``user_id`` so that every user's sessions are in one
    partition; the checks that span parts run there (a session in two parts must
    agree, and is then kept once; one plan per user), then the pandas preprocessing
    runs on each partition. Nothing is computed until the result is.

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Sessions from :func:`read_sessions` (or any Dask frame with the four columns).
    sessions : 'All' or int, default 'All'
    count_from : {'last', 'first'}, default 'last'
    pages_to_remove : str or list of str, default ()
        As in :func:`journey_utils.preprocess`.
    npartitions : int, optional
        Partitions after the shuffle (default: as many as ``data`` has).

    Returns
    -------
    dask.dataframe.DataFrame
        One row per user with the columns of :func:`journey_utils.preprocess`. Users
        are spread over the partitions by a hash of their id; each partition is
        sorted by ``user_id``.

    Examples
    --------
    >>> sessions, report = read_sessions("exports/")                    # doctest: +SKIP
    >>> journeys = preprocess(sessions, 3, "first", ["Log in"]).persist()  # doctest: +SKIP
    """
    _check_sessions(data, "preprocess")
    pages, meta = _settings(sessions, count_from, pages_to_remove)
    return _checked(data, npartitions).map_partitions(_journeys_part, sessions, count_from, pages, meta=meta)


def repeats(data, *, npartitions=None) -> dd.DataFrame:
    """The sessions :func:`preprocess` drops because another part holds them too (lazy).

    Compute it with the journeys (``dask.compute(journeys, repeats(sessions))``: the
    shuffle is shared) and give it to :func:`summed_report`.

    Returns
    -------
    dask.dataframe.DataFrame
        The repeats of every partition that may be among the first shown (``_part``,
        ``user_id``, ``session_id``: those of the parts with the lowest numbers) and
        their number in that partition (``total``, ``_partition``).

    Examples
    --------
    >>> journeys, table = dask.compute(preprocess(sessions), repeats(sessions))   # doctest: +SKIP
    """
    _check_sessions(data, "repeats")
    checked = _checked(data, npartitions)
    return checked.map_partitions(_repeats_with_partition, meta=_repeats_meta(checked), partition_info=True)


def _repeats_meta(checked):
    return checked._meta[[PART, USER, SESSION]].assign(total=np.zeros(0, np.int64), _partition=np.zeros(0, np.int64))


def _repeats_with_partition(part, partition_info=None):
    number = partition_info["number"] if partition_info else 0
    return _repeats(part).assign(_partition=np.int64(number))


