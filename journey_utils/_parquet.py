"""Parquet files written by ``save_sessions``: signed so that a re-read can trust them.

``save_sessions`` writes validated sessions with the load report in the file's
key-value metadata, and a digest: SHA-256 of every byte of the file before its
footer (the magic number and the column chunks, that is all the data) followed by
the metadata it signs. A file whose data or signed metadata changed in any way
(rewritten by another tool, truncated, edited) no longer matches its digest and is
validated like any export. The digest proves integrity, not authorship: it is a
guard against accidents, not against someone forging a file.

Nothing here depends on :mod:`journey_utils.io`, which decides what to do with a
file that is (or is not) trusted.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from journey_utils.columns import PLAN

#: Metadata key of the signed description (JSON: load report and what the data holds).
SESSIONS_KEY = b"journey_utils.sessions"
#: Metadata key of the digest over the data bytes and the signed description.
DIGEST_KEY = b"journey_utils.digest"
MAGIC = b"PAR1"
FORMAT = 1
# Zstandard at its default level, row groups of 256Ki rows (read on several threads)
# and a dictionary for the plan only: on 1M synthetic sessions, the smallest file
# (a tenth of the CSV) and as quick a read as Snappy's or LZ4's; journeys kept
# plain compress better than a dictionary of them and read quicker.
_COMPRESSION = "zstd"
_ROW_GROUP = 1 << 18


class _HashingSink:
    """A binary file that hashes what is written to it (the writer's output stream)."""

    def __init__(self, handle):
        self._handle = handle
        self.digest = hashlib.sha256()
        self.closed = False

    def write(self, data) -> int:
        view = memoryview(data)
        self.digest.update(view)
        return self._handle.write(view)

    def flush(self) -> None:
        self._handle.flush()

    def tell(self) -> int:
        return self._handle.tell()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def write_signed(table: pa.Table, path: Path, description: dict) -> None:
    """Write ``table`` to ``path`` (a new file) with ``description`` signed in its metadata."""
    text = json.dumps(description, sort_keys=True, ensure_ascii=False).encode("utf-8")
    with open(path, "wb") as handle:
        sink = _HashingSink(handle)
        dictionary = [name for name in table.column_names if name == PLAN]
        writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), table.schema, compression=_COMPRESSION,
                                  use_dictionary=dictionary)
        try:
            writer.write_table(table, row_group_size=_ROW_GROUP)
            # Everything written so far is what comes before the footer: the magic
            # number and the column chunks. The footer, written by close(), carries
            # the schema, the signed description and the digest.
            digest = sink.digest.copy()
            digest.update(text)
            writer.add_key_value_metadata({SESSIONS_KEY: text, DIGEST_KEY: digest.hexdigest().encode("ascii")})
        finally:
            writer.close()
        handle.flush()
        os.fsync(handle.fileno())


def signed_description(path: Path, metadata) -> dict | None:
    """The description signed in a file written by :func:`write_signed`, or None.

    None when the file has no signature or its bytes no longer match it. ``metadata``
    is the file's ``pq.FileMetaData``.
    """
    values = metadata.metadata or {}
    text, expected = values.get(SESSIONS_KEY), values.get(DIGEST_KEY)
    if text is None or expected is None:
        return None
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if size < 12:
            return None
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            if mapped[-4:] != MAGIC:
                return None
            footer = int.from_bytes(mapped[-8:-4], "little")
            end = size - 8 - footer
            if end < len(MAGIC):
                return None
            view = memoryview(mapped)
            try:
                data = view[:end]
                digest = hashlib.sha256(data)
                data.release()
            finally:
                view.release()
        finally:
            mapped.close()
    digest.update(text)
    if digest.hexdigest().encode("ascii") != expected:
        return None
    try:
        description = json.loads(text.decode("utf-8"))
    except ValueError:
        return None
    return description if isinstance(description, dict) and description.get("format") == FORMAT else None


def is_parquet(path: Path) -> bool:
    """Whether the file starts with Parquet's magic number."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == MAGIC
    except OSError:
        return False
