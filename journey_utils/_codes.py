"""Integer coding of journeys: the fast path under preprocessing and metrics.

A column of journeys (``"Homepage-Pricing-Checkout"``) becomes one flat array of
integer page codes plus the offsets where each journey starts. Splitting and
dictionary encoding happen in Arrow, so no Python string is made per page, and
every later step (runs, pairs, n-grams, counts) is integer arithmetic in numpy.

Encoding is memoised on the identity of the column's Arrow buffers, which pandas
never mutates in place, so a notebook that asks ten questions of one DataFrame
splits its journeys once.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journey_utils.columns import SEPARATOR

_INT64_LIMIT = 2**62
_CACHE_SIZE = 6


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class CodedJourneys:
    """Journeys as integer page codes.

    Attributes
    ----------
    codes : ndarray of int64
        Page code of every page occurrence, journeys concatenated in row order.
    offsets : ndarray of int64
        ``codes[offsets[i]:offsets[i + 1]]`` is journey ``i``; length ``n + 1``.
    pages : ndarray of object
        ``pages[c]`` is the name of page code ``c`` (may include pages that no
        journey of this selection contains).
    """

    codes: np.ndarray
    offsets: np.ndarray
    pages: np.ndarray
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    def _memo(self, name, compute):
        if name not in self._derived:
            self._derived[name] = _readonly(compute())
        return self._derived[name]

    @property
    def n_journeys(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_pages(self) -> int:
        return len(self.pages)

    @property
    def lengths(self) -> np.ndarray:
        return self._memo("lengths", lambda: np.diff(self.offsets))

    @property
    def journey_index(self) -> np.ndarray:
        """Journey number of every page occurrence."""
        return self._memo(
            "journey_index", lambda: np.repeat(np.arange(self.n_journeys, dtype=np.int64), self.lengths)
        )

    @property
    def position(self) -> np.ndarray:
        """0-based step of every page occurrence inside its journey."""
        return self._memo(
            "position",
            lambda: np.arange(len(self.codes), dtype=np.int64) - np.repeat(self.offsets[:-1], self.lengths),
        )

    @property
    def is_last(self) -> np.ndarray:
        """True where a page occurrence is the last page of its journey."""

        def compute():
            last = np.zeros(len(self.codes), dtype=bool)
            last[self.offsets[1:][self.lengths > 0] - 1] = True
            return last

        return self._memo("is_last", compute)

    def code_of(self, page: str) -> int | None:
        """The code of ``page``, or None when the dictionary does not hold it."""
        # Compared as Python strings: numpy's fixed-width strings drop trailing NULs.
        return next((code for code, name in enumerate(self.pages.tolist()) if name == page), None)

    def codes_of(self, pages) -> np.ndarray:
        """Boolean mask over page codes: True for the codes of ``pages``."""
        wanted = set(pages)
        return np.fromiter((name in wanted for name in self.pages.tolist()), dtype=bool, count=self.n_pages)

    def windows(self, n: int) -> np.ndarray:
        """Start positions of every run of ``n`` consecutive pages inside one journey."""
        room = np.repeat(self.lengths, self.lengths) - self.position
        return np.flatnonzero(room >= n)

    def filter(self, mask: np.ndarray) -> CodedJourneys:
        """The same journeys keeping only the page occurrences where ``mask`` is True."""
        # Positions, then a gather: much faster than boolean indexing on irregular masks.
        kept = np.flatnonzero(mask)
        if len(self.offsets) * 16 < len(mask):
            # Few journeys: a search per journey beats a pass over every page.
            offsets = np.searchsorted(kept, self.offsets).astype(np.int64)
        else:
            # Kept occurrences before each position, read off at every journey's start.
            before = np.zeros(len(mask) + 1, dtype=np.int64)
            np.cumsum(mask.astype(np.int64), out=before[1:])
            offsets = before[self.offsets]
        return CodedJourneys(_readonly(self.codes[kept]), _readonly(offsets), self.pages)

    def take(self, rows: np.ndarray) -> CodedJourneys:
        """Journeys ``rows`` (positions or a boolean mask), in that order."""
        rows = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows, dtype=np.int64)
        lengths = self.lengths[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return CodedJourneys(_readonly(self.codes[_gather_index(self.offsets[:-1][rows], lengths, offsets)]),
                             _readonly(offsets), self.pages)

    def regroup(self, offsets: np.ndarray) -> CodedJourneys:
        """Concatenate consecutive journeys: new journey ``i`` spans old ``offsets[i]:offsets[i+1]``."""
        return CodedJourneys(self.codes, _readonly(self.offsets[offsets]), self.pages)


def _gather_index(starts: np.ndarray, lengths: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Concatenated ranges ``starts[i] : starts[i] + lengths[i]``, in one array.

    Each output position is its own number plus the shift of its range (repeated
    over the range), so empty ranges need no special case.
    """
    index = np.repeat(starts - offsets[:-1], lengths)
    index += np.arange(len(index), dtype=np.int64)
    return index


def empty() -> CodedJourneys:
    return CodedJourneys(_readonly(np.empty(0, np.int64)), _readonly(np.zeros(1, np.int64)), np.array([], dtype=object))


# -- memo of encodings, keyed on the Arrow buffers of the journey column -------------

class _Memo:
    """A small least-recently-used table of results, keyed on the identity of Arrow arrays.

    An entry lives only as long as its owner, the Arrow object holding the column's
    buffers (for a pandas column, the one pandas keeps, shared by every selection of
    the column): it is referenced weakly and dropped with it. So a frame that is
    deleted takes its remembered encodings along, and while an entry exists its
    buffers are alive, so their addresses cannot be reused by other data.
    """

    def __init__(self, size: int):
        self._entries: OrderedDict = OrderedDict()
        self._size = size
        # Re-entrant: an owner may be collected, and its entry dropped, on this thread.
        self._lock = threading.RLock()

    def get(self, array):
        key = _identity(array)
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            self._entries.move_to_end(key)
            return hit[1]

    def put(self, array, value, owner) -> None:
        key = _identity(array)

        def forget(_, key=key):
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry[0] is owned:
                    del self._entries[key]

        owned = weakref.ref(owner, forget)
        with self._lock:
            self._entries[key] = (owned, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# Encodings (codes, row -> journey) of journey columns.
_cache = _Memo(_CACHE_SIZE)


def _arrow(journeys) -> tuple:
    """The column as Arrow without copying (a chunked array stays chunked), and its owner.

    The owner is the Arrow object a pandas column holds (or the array given), which
    remembered results are tied to.
    """
    if isinstance(journeys, (pa.Array, pa.ChunkedArray)):
        owner = journeys
    else:
        try:
            export = getattr(getattr(journeys, "array", None), "__arrow_array__", None)
            owner = export() if export is not None else pa.array(journeys, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise TypeError(f"journeys must be strings: {error}") from None
    array = owner
    if isinstance(array, pa.ChunkedArray) and array.num_chunks == 1:
        array = array.chunk(0)
    if pa.types.is_null(array.type):
        array = pa.array([None] * len(array), type=pa.large_string())
        return array, array
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        raise TypeError(f"journeys must be strings; found values of type {array.type}")
    return array, owner


def _identity(array) -> tuple:
    if isinstance(array, pa.ChunkedArray):
        return tuple(_identity(chunk) for chunk in array.chunks)
    return (str(array.type), len(array), array.offset, tuple(b.address if b else 0 for b in array.buffers()))


def _contiguous(array) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def encode(journeys: pd.Series, rows: np.ndarray | None = None, transform=None) -> CodedJourneys:
    """Split journeys on ``-`` and dictionary-encode the pages.

    An empty string is a journey of zero pages (for example one emptied by
    ``remove_pages``). Missing values and empty page names are errors: they mean
    the data did not go through ``load_sessions``. With ``rows`` (positions), only
    those journeys are returned, in that order, at the cost of one gather.

    ``transform`` (codes -> codes, applied journey by journey) runs before the
    gather, on each distinct journey string once rather than on every row.
    """
    if len(journeys) == 0:
        return empty() if transform is None else transform(empty())
    array, owner = _arrow(journeys)
    known = _cache.get(array)
    if known is None:
        known = _encode(array, owner)
        _cache.put(array, known, owner)
    coded, index = known
    if rows is not None:
        index = rows if index is None else index[rows]
    if transform is not None:
        if index is not None:
            coded, index = _referenced(coded, index)
        coded = transform(coded)
    return coded if index is None else coded.take(index)


def _referenced(coded: CodedJourneys, index: np.ndarray) -> tuple[CodedJourneys, np.ndarray]:
    """Only the journeys ``index`` refers to, renumbered, when that is under half of them.

    A window of sessions (the last 3 per user) often uses few of the distinct
    session strings, and transforming the others would be wasted work.
    """
    used = np.zeros(coded.n_journeys, dtype=bool)
    used[index] = True
    kept = np.flatnonzero(used)
    if 2 * len(kept) > coded.n_journeys:
        return coded, index
    renumber = np.zeros(coded.n_journeys, dtype=np.int64)
    renumber[kept] = np.arange(len(kept), dtype=np.int64)
    return coded.take(kept), renumber[index]


# Splits of columns (untidy ones too): shared by the load checks and the first encode.
_split_cache = _Memo(2)
# Below this many rows a second thread costs more than it saves.
_PARALLEL_ROWS = 250_000


def split(journeys, owner=None) -> tuple[CodedJourneys, np.ndarray]:
    """Every distinct journey string split into page codes, and which one each row holds.

    Unlike :func:`encode` this accepts untidy journeys: empty page names and
    spaces around names come through as pages of their own, which is how
    ``load_sessions`` finds them. An empty string is a journey of zero pages. The
    result is remembered, so validating a column and encoding it later split it once,
    for as long as ``owner`` lives (by default the column's own Arrow object).

    Returns
    -------
    coded : CodedJourneys
        One journey per distinct string (a string may appear more than once when
        the column was split in parts on several threads).
    rows : ndarray of int64
        For each row, the journey of ``coded`` it holds.
    """
    if isinstance(journeys, (pa.Array, pa.ChunkedArray)):
        array, owner = journeys, journeys if owner is None else owner
    else:
        array, owner = _arrow(journeys)
    hit = _split_cache.get(array)
    if hit is not None:
        return hit
    if array.null_count:
        raise ValueError(f"{array.null_count} journeys are missing; load data with load_sessions")
    parts = _parts(array, _threads())
    if len(parts) == 1:
        results = [_split_part(parts[0])]
    else:
        # Arrow's kernels release the GIL, so the parts hash and split in parallel.
        with ThreadPoolExecutor(len(parts)) as pool:
            results = list(pool.map(_split_part, parts))
    coded, rows = _combine(results)
    _split_cache.put(array, (coded, rows), owner)
    return coded, rows


# Labels of plan columns.
_label_cache = _Memo(_CACHE_SIZE)


def labels(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """An integer label per row, equal exactly where the values are equal (missing: -1),
    and the value of each label (like :func:`pandas.factorize`).

    Remembered for string columns like :func:`split`, so checking the plan column
    while loading and again while grouping hashes it once.
    """
    try:
        array, owner = _arrow(values)
    except TypeError:
        found, uniques = pd.factorize(values)
        return np.asarray(found, dtype=np.int64), np.asarray(uniques, dtype=object)
    hit = _label_cache.get(array)
    if hit is not None:
        return hit
    indices, dictionary = _dictionary(array)
    # 32-bit labels, as Arrow makes them: half the memory, and only ever compared.
    found = (_readonly(indices.astype(np.int32, copy=False)),
             _readonly(np.asarray(dictionary.to_pylist(), dtype=object)))
    _label_cache.put(array, found, owner)
    return found


def _dictionary(array) -> tuple[np.ndarray, pa.Array]:
    """Dictionary encoding: (index of each row's value, -1 where missing; distinct values)."""
    encoded = pc.dictionary_encode(array)
    if not isinstance(encoded, pa.ChunkedArray):
        return _indices(encoded), encoded.dictionary
    if encoded.num_chunks == 0:
        return np.empty(0, np.int32), pa.array([], array.type)
    if len({len(chunk.dictionary) for chunk in encoded.chunks}) > 1:
        return _dictionary(_contiguous(array))
    # Arrow encodes all chunks against one growing dictionary: every chunk ends up
    # with the same, complete one, so the chunks need no copying together.
    return np.concatenate([_indices(chunk) for chunk in encoded.chunks]), encoded.chunk(0).dictionary


def _indices(encoded: pa.DictionaryArray) -> np.ndarray:
    indices = encoded.indices
    return (pc.fill_null(indices, -1) if indices.null_count else indices).to_numpy(zero_copy_only=False)


def _threads() -> int:
    # Arrow's own setting, so pyarrow.set_cpu_count() (or OMP_NUM_THREADS) limits us too.
    return max(1, pa.cpu_count())


def _parts(array, threads: int) -> list:
    """The column cut into about ``threads`` consecutive slices (views, not copies)."""
    n = min(threads, len(array) // _PARALLEL_ROWS, 8)
    if n <= 1:
        return [array]
    bounds = [len(array) * k // n for k in range(n + 1)]
    return [array.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:])]


# Distinct strings split at a time: the lists of page names are the largest transient
# of loading, and each slice's are dropped as soon as its pages are coded.
_SPLIT_SLICE = 1 << 16


def _split_part(array) -> tuple[list, np.ndarray, np.ndarray, pa.Array]:
    """(page codes in slices, journey lengths, row -> journey, page names) for one part of a column."""
    rows, strings = _dictionary(array)
    # Sessions repeat a lot ("Log in-Log in"): each distinct string is split once.
    codes, lengths, pages = [], [], None
    for start in range(0, len(strings), _SPLIT_SLICE):
        piece_codes, piece_lengths, pages = _split_strings(strings.slice(start, _SPLIT_SLICE), pages)
        codes.append(piece_codes)
        lengths.append(piece_lengths)
    if pages is None:
        pages = pa.array([], strings.type)
    # Still Arrow's 32-bit integers: widened once, when the parts are combined.
    return codes, np.concatenate(lengths) if lengths else np.empty(0, np.int64), rows, pages


def _split_strings(strings, pages) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Codes and lengths of ``strings`` against the page names ``pages`` (extended as needed)."""
    lists = pc.split_pattern(strings, SEPARATOR)
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    names = pc.list_flatten(lists)
    if pages is None:
        encoded = names.dictionary_encode()
        pages, codes = encoded.dictionary, encoded.indices
    else:
        codes = pc.index_in(names, value_set=pages)
        if codes.null_count:
            # Names this part has not met before: appended, so earlier codes stay valid.
            pages = pa.concat_arrays([pages, pc.unique(names.filter(pc.is_null(codes)))])
            codes = pc.index_in(names, value_set=pages)
    codes = codes.to_numpy(zero_copy_only=False)
    blank = np.flatnonzero(pc.equal(pc.binary_length(strings), 0).to_numpy(zero_copy_only=False))
    if len(blank):
        # An empty string is a journey of no pages, not of one page named "".
        keep = np.ones(len(codes), dtype=bool)
        keep[np.cumsum(lengths)[blank] - 1] = False
        codes = codes[keep]
        lengths[blank] = 0
    return codes, lengths, pages


def _combine(results) -> tuple[CodedJourneys, np.ndarray]:
    """One page dictionary and one numbering of journeys for the parts of a column."""
    pages = results[0][3] if len(results) == 1 else pc.unique(
        pa.chunked_array([names for *_, names in results], type=results[0][3].type))
    # Each part numbered its pages and strings from 0: renumber into the shared ones,
    # a slice at a time so that no index array of the column's size is made.
    codes = np.empty(sum(len(piece) for part in results for piece in part[0]), dtype=np.int64)
    rows = np.empty(sum(len(part[2]) for part in results), dtype=np.int64)
    at_code = at_row = strings = 0
    for part_codes, part_lengths, part_rows, names in results:
        renumber = pc.index_in(names, value_set=pages).to_numpy(zero_copy_only=False).astype(np.int64)
        # Parts usually meet the pages in the same order: then the codes are only widened.
        same = np.array_equal(renumber, np.arange(len(renumber)))
        for piece in part_codes:
            target = codes[at_code:at_code + len(piece)]
            if same:
                np.copyto(target, piece)
            else:
                # Every code is a valid position: 'clip' skips the bounds checks.
                np.take(renumber, piece, out=target, mode="clip")
            at_code += len(piece)
        np.add(part_rows, strings, out=rows[at_row:at_row + len(part_rows)])
        at_row, strings = at_row + len(part_rows), strings + len(part_lengths)
    lengths = np.concatenate([part[1] for part in results])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    coded = CodedJourneys(_readonly(codes), _readonly(offsets), np.asarray(pages.to_pylist(), dtype=object))
    return coded, _readonly(rows)


def _encode(array: pa.Array, owner) -> tuple[CodedJourneys, np.ndarray]:
    """Codes of each distinct journey string, and which distinct string each row holds."""
    if array.null_count:
        rows = np.flatnonzero(pc.is_null(_contiguous(array)).to_numpy(zero_copy_only=False))
        raise ValueError(
            f"{array.null_count} journeys are missing (row positions {_first(rows)}); "
            "load data with load_sessions, which reports or repairs them"
        )
    coded, row_string = split(array, owner)
    empty_names = np.flatnonzero(coded.pages == "")
    # The dictionary can hold "" with no page using it (left by an empty journey).
    if len(empty_names) and (coded.codes == empty_names[0]).any():
        bad = np.unique(coded.journey_index[coded.codes == empty_names[0]])
        rows = np.flatnonzero(np.isin(row_string, bad))
        raise ValueError(
            "journeys contain empty page names, e.g. 'Homepage--Pricing' or a leading/trailing '-' "
            f"(row positions {_first(rows)}); load data with load_sessions, which repairs them"
        )
    return coded, row_string


def decode(coded: CodedJourneys) -> pd.Series:
    """Join code runs back into ``-`` separated journeys (a default-indexed str Series).

    The result stays in Arrow memory and is remembered, so encoding it again is free.
    """
    names = pa.array(coded.pages.tolist(), type=pa.large_string())

    def join(bounds):
        first, last = bounds
        offsets = coded.offsets[first:last + 1]
        values = names.take(pa.array(coded.codes[offsets[0]:offsets[-1]], type=pa.int64()))
        lists = pa.LargeListArray.from_arrays(pa.array(offsets - offsets[0], type=pa.int64()), values)
        return pc.binary_join(lists, pa.scalar(SEPARATOR, pa.large_string()))

    n = coded.n_journeys
    parts = min(_threads(), n // _PARALLEL_ROWS, 8)
    ranges = [(n * k // parts, n * (k + 1) // parts) for k in range(parts)] if parts > 1 else [(0, n)]
    if len(ranges) == 1:
        chunks = [join(ranges[0])]
    else:
        # Consecutive runs of journeys joined on several threads; the column stays in chunks.
        with ThreadPoolExecutor(len(ranges)) as pool:
            chunks = list(pool.map(join, ranges))
    series = pd.Series(pd.array(pa.chunked_array(chunks, type=pa.large_string()), dtype="str"))
    array, owner = _arrow(series)
    _cache.put(array, (coded, None), owner)
    return series


def ngrams(coded: CodedJourneys, n: int) -> tuple[np.ndarray, np.ndarray, callable]:
    """Every window of ``n`` consecutive pages: start positions, integer keys, and a decoder.

    Keys are equal exactly when the pages are equal. They are base-``n_pages``
    numbers while that fits in int64 and are re-numbered densely before it would
    overflow, so any vocabulary size and any ``n`` stay exact. ``decoder(keys)``
    returns the page codes of those keys as a ``(len(keys), n)`` array.
    """
    starts = coded.windows(n)
    base = max(coded.n_pages, 1)
    keys = coded.codes[starts]
    bound, renumbered = base, False
    for step in range(1, n):
        if bound > _INT64_LIMIT // base:
            keys, bound = dense(keys)
            renumbered = True
        keys = keys * base + coded.codes[starts + step]
        bound *= base
    steps = np.arange(n, dtype=np.int64)
    if not renumbered:
        powers = base ** steps[::-1]
        return starts, keys, lambda k: (k[:, None] // powers) % base
    uniques, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    example = starts[first]
    return starts, inverse.astype(np.int64).reshape(-1), lambda k: coded.codes[example[k][:, None] + steps]


def dense(keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Re-number integer keys 0..k-1 (sort-based: much faster than hashing on large arrays)."""
    uniques, inverse = np.unique(keys, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), len(uniques)


def journeys_with_page(coded: CodedJourneys, journey_group: np.ndarray | None = None,
                       n_groups: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """For every page code that occurs, the number of journeys it occurs in (codes sorted).

    The one count of "journeys containing a page"; with ``journey_group`` (the
    group, e.g. the plan, of every journey, numbered ``0 .. n_groups - 1``) the
    counts are per group, shape ``(pages, n_groups)``. See :func:`journeys_with`.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import _codes
    >>> coded = _codes.encode(pd.Series(["A-B-A", "B", "C-A"]))
    >>> codes, counts = _codes.journeys_with_page(coded)
    >>> dict(zip(coded.pages[codes].tolist(), counts.tolist()))
    {'A': 2, 'B': 2, 'C': 1}
    >>> codes, counts = _codes.journeys_with_page(coded, np.array([0, 1, 1]), 2)
    >>> dict(zip(coded.pages[codes].tolist(), counts.tolist()))
    {'A': [1, 1], 'B': [1, 1], 'C': [0, 1]}
    """
    if journey_group is not None or coded.n_pages > 64 or not len(coded.codes):
        return journeys_with(coded.journey_index, coded.codes, journey_group, n_groups)
    # A small vocabulary: one 64-bit set of pages per journey, then a count per bit.
    bits = np.left_shift(np.uint64(1), coded.codes.astype(np.uint64))
    starts = coded.offsets[:-1][coded.lengths > 0]
    sets = np.bitwise_or.reduceat(bits, starts)
    # Little-endian bytes, little-endian bits: column k is bit k, page code k.
    per_bit = np.unpackbits(sets.astype("<u8", copy=False).view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    counts = per_bit.sum(axis=0, dtype=np.int64)
    codes = np.flatnonzero(counts)
    return codes, counts[codes]


def visits_to(coded: CodedJourneys, pages) -> np.ndarray:
    """Per journey, its visits to any of ``pages`` (names; those absent from every journey count nothing).

    A journey contains one of the pages when its count is positive; to count the
    journeys containing each page, use :func:`journeys_with_page`.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import _codes
    >>> _codes.visits_to(_codes.encode(pd.Series(["A-B-A", "B", "C"])), ["A", "Z"]).tolist()
    [2, 0, 0]
    """
    wanted = coded.codes_of([pages] if isinstance(pages, str) else pages)
    return np.bincount(coded.journey_index[wanted[coded.codes]], minlength=coded.n_journeys)


def journeys_with(journey: np.ndarray, keys: np.ndarray, journey_group: np.ndarray | None = None,
                  n_groups: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """For every distinct key, the number of distinct journeys it occurs in, overall or per group.

    ``journey`` and ``keys`` are parallel arrays, one entry per occurrence (a
    page visit, a run of pages, a next page); ``journey`` holds non-negative
    journey numbers. A key is counted once per journey however often it occurs
    there. Returns the distinct keys, sorted, and their counts: one per key, or
    with ``journey_group`` (the group of every journey, ``0 .. n_groups - 1``)
    an array ``(keys, n_groups)``.

    Examples
    --------
    >>> import numpy as np
    >>> from journey_utils import _codes
    >>> keys, counts = _codes.journeys_with(np.array([0, 0, 1, 2]), np.array([7, 7, 7, 3]))
    >>> keys.tolist(), counts.tolist()
    ([3, 7], [1, 2])
    >>> _codes.journeys_with(np.array([0, 0, 1, 2]), np.array([7, 7, 7, 3]), np.array([0, 1, 1]), 2)[1].tolist()
    [[0, 1], [1, 1]]
    """
    journey = np.asarray(journey, dtype=np.int64)
    keys = np.asarray(keys)
    if len(keys) == 0:
        empty = np.empty(0, np.int64)
        return empty, (empty if journey_group is None else np.zeros((0, n_groups), np.int64))
    keys = keys.astype(np.int64, copy=False)
    uniques = None
    bound = int(keys.max()) + 1
    if bound > _INT64_LIMIT // (int(journey.max()) + 1):
        uniques, inverse = np.unique(keys, return_inverse=True)
        keys, bound = inverse.astype(np.int64).reshape(-1), len(uniques)
    # Each (journey, key) pair once: one sort of a single integer key.
    pairs = np.sort(journey * bound + keys)
    first = np.empty(len(pairs), dtype=bool)
    first[0] = True
    np.not_equal(pairs[1:], pairs[:-1], out=first[1:])
    pairs = pairs[np.flatnonzero(first)]
    distinct = pairs % bound
    if journey_group is None:
        if bound <= 4 * len(distinct) + 1024:
            # Keys in a small range: counting beats a second sort.
            tally = np.bincount(distinct, minlength=bound)
            values = np.flatnonzero(tally)
            counts = tally[values]
        else:
            values, counts = run_counts(np.sort(distinct))
    else:
        group = np.asarray(journey_group, dtype=np.int64)[pairs // bound]
        if bound <= 4 * len(distinct) + 1024:
            tally = np.bincount(distinct * n_groups + group, minlength=bound * n_groups).reshape(bound, n_groups)
            values = np.flatnonzero(tally.any(axis=1))
            counts = tally[values]
        else:
            values, inverse = np.unique(distinct, return_inverse=True)
            counts = np.bincount(inverse.reshape(-1) * n_groups + group,
                                 minlength=len(values) * n_groups).reshape(len(values), n_groups)
    return (values if uniques is None else uniques[values]), counts


def run_counts(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and how often each occurs."""
    if len(sorted_values) == 0:
        return sorted_values, np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    return sorted_values[starts], np.diff(np.r_[starts, len(sorted_values)])


def time_order(users: np.ndarray, sessions: np.ndarray) -> np.ndarray | None:
    """Row positions sorted by user, then session (stable); None when the rows are in that order."""
    if len(users) < 2:
        return None
    # Files usually come sorted: checking that with boolean arrays is much cheaper
    # than building a sort key, and callers then skip gathering every column.
    in_order = np.greater(users[1:], users[:-1])
    same_user = np.equal(users[1:], users[:-1])
    same_user &= np.greater_equal(sessions[1:], sessions[:-1])
    in_order |= same_user
    if in_order.all():
        return None
    if users.dtype.kind in "iu" and sessions.dtype.kind in "iu":
        low_user, low_session = int(users.min()), int(sessions.min())
        span = int(sessions.max()) - low_session + 1
        if (int(users.max()) - low_user + 1) * span < 2**63:
            # One integer key sorts faster than lexsort.
            key = (users.astype(np.int64) - low_user) * span + (sessions.astype(np.int64) - low_session)
            return np.argsort(key, kind="stable")
    return np.lexsort((sessions, users))


def _first(rows: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (", ..." if len(rows) > limit else "")
