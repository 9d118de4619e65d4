"""Integer coding of journeys: the fast path under preprocessing and metrics.

A column of journeys (``"Homepage-Pricing-Checkout"``) becomes one flat array of
integer page codes plus the offsets where each journey starts. Splitting and
dictionary encoding happen in Arrow, so no Python string is made per page, and
every later step (runs, pairs, n-grams, counts) is integer arithmetic in numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SEPARATOR = "-"

# Above this many cells a dense (journey x page) table would cost too much memory,
# so presence falls back to hashing.
_DENSE_CELLS = 200_000_000


@dataclass(frozen=True)
class CodedJourneys:
    """Journeys as integer page codes.

    Attributes
    ----------
    codes : ndarray of int64
        Page code of every page occurrence, journeys concatenated in row order.
    offsets : ndarray of int64
        ``codes[offsets[i]:offsets[i + 1]]`` is journey ``i``; length ``n + 1``.
    pages : ndarray of str
        ``pages[c]`` is the name of page code ``c``.
    """

    codes: np.ndarray
    offsets: np.ndarray
    pages: np.ndarray

    @property
    def n_journeys(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_pages(self) -> int:
        return len(self.pages)

    @cached_property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @cached_property
    def journey_index(self) -> np.ndarray:
        """Journey number of every page occurrence."""
        return np.repeat(np.arange(self.n_journeys, dtype=np.int64), self.lengths)

    @cached_property
    def is_last(self) -> np.ndarray:
        """True where a page occurrence is the last page of its journey."""
        last = np.zeros(len(self.codes), dtype=bool)
        ends = self.offsets[1:][self.lengths > 0] - 1
        last[ends] = True
        return last

    def code_of(self, page: str) -> int | None:
        """The code of ``page``, or None when no journey contains it."""
        hits = np.flatnonzero(self.pages == page)
        return int(hits[0]) if len(hits) else None

    def windows(self, n: int) -> np.ndarray:
        """Start positions of every run of ``n`` consecutive pages inside one journey."""
        position = np.arange(len(self.codes), dtype=np.int64) - np.repeat(self.offsets[:-1], self.lengths)
        room = np.repeat(self.lengths, self.lengths) - position
        return np.flatnonzero(room >= n)


def _as_arrow(journeys: pd.Series) -> pa.Array:
    array = pa.array(journeys, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        # Only reachable for object columns holding non-strings.
        raise TypeError(f"journeys must be strings; found values of type {array.type}")
    return array.cast(pa.large_string())


def encode(journeys: pd.Series) -> CodedJourneys:
    """Split journeys on ``-`` and dictionary-encode the pages.

    An empty string is a journey of zero pages (for example one emptied by
    ``remove_pages``). Missing values and empty page names are errors: they mean
    the data did not go through ``load_sessions``.
    """
    if len(journeys) == 0:
        return CodedJourneys(np.empty(0, np.int64), np.zeros(1, np.int64), np.array([], dtype=object))
    try:
        array = _as_arrow(journeys)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise TypeError(f"journeys must be strings: {error}") from None
    if array.null_count:
        rows = np.flatnonzero(pc.is_null(array).to_numpy(zero_copy_only=False))
        raise ValueError(
            f"{array.null_count} journeys are missing (row positions {_first(rows)}); "
            "load data with load_sessions, which reports or repairs them"
        )
    empty = pc.equal(array, pa.scalar("", pa.large_string()))
    lists = pc.split_pattern(pc.if_else(empty, pa.scalar(None, pa.large_string()), array), SEPARATOR)
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy().astype(np.int64)
    flat = pc.list_flatten(lists)
    encoded = flat.dictionary_encode()
    pages = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    blank = np.flatnonzero(pages == "")
    if len(blank):
        rows = np.flatnonzero(np.repeat(np.arange(len(lengths)), lengths)[encoded.indices.to_numpy() == blank[0]])
        raise ValueError(
            f"journeys contain empty page names, e.g. 'Homepage--Pricing' or a leading/trailing '-' "
            f"(row positions {_first(np.unique(rows))}); load data with load_sessions, which repairs them"
        )
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    codes = encoded.indices.to_numpy().astype(np.int64)
    return CodedJourneys(codes, offsets, pages)


def decode(codes: np.ndarray, offsets: np.ndarray, pages: np.ndarray) -> pd.Series:
    """Join code runs back into ``-`` separated journeys (a default-indexed str Series)."""
    names = pa.array(pages.tolist() if len(pages) else [], type=pa.large_string())
    values = names.take(pa.array(codes, type=pa.int64()))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), values)
    joined = pc.binary_join(lists, pa.scalar(SEPARATOR, pa.large_string()))
    return pd.Series(pd.array(joined, dtype="str"))


def keep(coded: CodedJourneys, mask: np.ndarray) -> pd.Series:
    """Journeys made of the page occurrences where ``mask`` is True."""
    kept = np.zeros(len(mask) + 1, dtype=np.int64)
    np.cumsum(mask, out=kept[1:])
    return decode(coded.codes[mask], kept[coded.offsets], coded.pages)


def ngram_keys(coded: CodedJourneys, starts: np.ndarray, n: int) -> np.ndarray:
    """One integer per window of ``n`` pages, equal exactly when the pages are equal.

    Keys are built as base-``n_pages`` numbers; when the next digit could overflow
    int64 they are first re-numbered densely, so any vocabulary size and any ``n``
    stay exact.
    """
    base = max(coded.n_pages, 1)
    keys = coded.codes[starts].copy()
    bound = base
    for step in range(1, n):
        if bound > (2**62) // base:
            keys, uniques = pd.factorize(keys)
            keys = keys.astype(np.int64)
            bound = max(len(uniques), 1)
        keys = keys * base + coded.codes[starts + step]
        bound *= base
    return keys


def count_distinct_per_journey(journey: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Count, for every distinct key, the journeys it occurs in (once per journey).

    Returns a representative position (into ``keys``) of each distinct key and its count.
    """
    dense, uniques = pd.factorize(keys)
    n_keys = len(uniques)
    if n_keys == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    dense = dense.astype(np.int64)
    cells = (int(journey.max()) + 1) * n_keys if len(journey) else 0
    if cells <= _DENSE_CELLS:
        seen = np.zeros(cells, dtype=bool)
        seen[journey * n_keys + dense] = True
        counts = seen.reshape(-1, n_keys).sum(axis=0)
    else:
        pairs = pd.unique(journey * n_keys + dense)
        counts = np.bincount(pairs % n_keys, minlength=n_keys)
    representative = np.empty(n_keys, dtype=np.int64)
    # Any window with a given key has the same pages, so whichever write wins is fine.
    representative[dense] = np.arange(len(dense), dtype=np.int64)
    return representative, counts


def _first(rows: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (", ..." if len(rows) > limit else "")
