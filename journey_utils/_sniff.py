"""What a file is, from its first bytes, before anything tries to parse it as CSV.

A file given as a session export may be something else: compressed under a name
that says plain text, an Excel workbook, text in UTF-16 or UTF-32, or CSV with
another delimiter. Each gets a message that says what the file is and what to do,
instead of the parser's complaint about the symptom ("not UTF-8", "required
columns not found"). Nothing here depends on :mod:`journey_utils.io`: functions
return the problem as text (or None), and the loader raises.
"""

from __future__ import annotations

import codecs

# (magic bytes, what the file is, the suffixes that say so)
_COMPRESSED = (
    (b"\x1f\x8b", "gzip", (".gz", ".tgz")),
    (b"BZh", "bzip2", (".bz2",)),
    (b"\xfd7zXZ\x00", "xz", (".xz", ".lzma")),
    (b"\x28\xb5\x2f\xfd", "Zstandard", (".zst",)),
    (b"PK\x03\x04", "zip", (".zip",)),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SUFFIX_OF = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz", "Zstandard": ".zst", "zip": ".zip"}
# Byte order marks, longest first (UTF-32 LE starts like UTF-16 LE).
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian)", "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian)", "UTF-32BE"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian)", "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian)", "UTF-16BE"),
)
#: Bytes read to judge a file.
HEAD = 1 << 16
#: A header line longer than this is not a header.
LONGEST_HEADER = 1 << 20
_DELIMITERS = ((";", "semicolons (';')"), ("\t", "tabs"), ("|", "vertical bars ('|')"))


def container(head: bytes, suffixes: list[str]) -> str | None:
    """The problem when the raw file is of another kind than its name says, else None.

    ``suffixes`` are the file name's suffixes, lower case (``['.csv', '.gz']``).
    """
    last = suffixes[-1] if suffixes else ""
    if head.startswith(_OLE2):
        return ("this is an Excel 97-2003 workbook (.xls), not CSV text; open it in Excel and save the sheet as "
                "'CSV UTF-8 (Comma delimited)', then load that file")
    if head.startswith(b"PK\x03\x04") and _is_xlsx(head):
        return ("this is an Excel workbook (.xlsx), not CSV text; open it in Excel and save the sheet as "
                "'CSV UTF-8 (Comma delimited)', then load that file")
    for magic, kind, names in _COMPRESSED:
        if head.startswith(magic):
            if last in names:
                return None
            if kind == "zip" and last == ".zip":
                return None
            shown = "".join(suffixes) or "no suffix"
            said = f"its name ends in '{shown}'" if suffixes else "its name has no suffix"
            return (f"this is a {kind}-compressed file, but {said}; name it so that it ends in "
                    f"'{_SUFFIX_OF[kind]}' (for example sessions.csv{_SUFFIX_OF[kind]}), or decompress it, and "
                    "load it again")
    if head[257:262] == b"ustar" and last != ".tar":
        said = f"its name ends in '{''.join(suffixes)}'" if suffixes else "its name has no suffix"
        return (f"this is a tar archive, but {said}; name it so that it ends in '.tar' (for example "
                "sessions.tar) and load it again")
    if last in (".gz", ".tgz", ".bz2", ".xz", ".lzma", ".zst", ".zip") and head:
        kind = next(kind for _, kind, names in _COMPRESSED if last in names)
        if looks_like_text(head):
            return (f"the name ends in '{last}' but the file is not {kind}-compressed: it is plain text; "
                    f"name it without '{last}' (for example sessions.csv) and load it again")
    return None


def _is_xlsx(head: bytes) -> bool:
    # The first entries of a workbook's zip: [Content_Types].xml, _rels/, docProps/, xl/.
    return b"[Content_Types].xml" in head[:2048] and (b"xl/" in head or b"docProps/" in head)


def looks_like_text(head: bytes) -> bool:
    """Whether the bytes read as UTF-8 text without NULs (a cut last character allowed)."""
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3
    return True


def encoding(head: bytes) -> str | None:
    """The problem when the (decompressed) text is UTF-16 or UTF-32, by BOM or NUL pattern."""
    for bom, described, codec in _BOMS:
        if head.startswith(bom):
            return _wide(described, codec, "byte order mark")
    sample = head[:4096]
    if len(sample) < 8 or sample.count(0) * 4 < len(sample):
        return None

    def zeros(offset, step):
        seq = sample[offset::step]
        return seq.count(0) / max(len(seq), 1)

    # ASCII text in a wide encoding: zero bytes at regular places.
    if min(zeros(1, 4), zeros(2, 4), zeros(3, 4)) > 0.8 and zeros(0, 4) < 0.2:
        return _wide("UTF-32 (little-endian)", "UTF-32LE", "zero bytes between characters")
    if min(zeros(0, 4), zeros(1, 4), zeros(2, 4)) > 0.8 and zeros(3, 4) < 0.2:
        return _wide("UTF-32 (big-endian)", "UTF-32BE", "zero bytes between characters")
    if zeros(1, 2) > 0.8 and zeros(0, 2) < 0.2:
        return _wide("UTF-16 (little-endian)", "UTF-16LE", "zero bytes between characters")
    if zeros(0, 2) > 0.8 and zeros(1, 2) < 0.2:
        return _wide("UTF-16 (big-endian)", "UTF-16BE", "zero bytes between characters")
    return None


def _wide(described: str, codec: str, evidence: str) -> str:
    return (f"the text is {described} (by its {evidence}), not UTF-8; save the file as UTF-8 (in Excel: "
            f"'CSV UTF-8 (Comma delimited)'), or convert it, e.g. iconv -f {codec} -t UTF-8")


def delimiter(header_line: str, required) -> str | None:
    """The problem when the header splits into the required names on another delimiter."""
    for mark, described in _DELIMITERS:
        names = [name.strip().strip('"').strip().lower() for name in header_line.split(mark)]
        if len(names) > 1 and all(name in names for name in required):
            return (f"the columns are separated by {described}, not commas; export the file with commas as "
                    "the delimiter (in Excel: 'CSV UTF-8 (Comma delimited)') and load it again")
    return None


def first_line(head: bytes) -> bytes:
    """The first non-empty line of ``head`` (without its terminator), BOM removed."""
    text = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    for line in text.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"):
        if line.strip(b" \t"):
            return line
    return b""
