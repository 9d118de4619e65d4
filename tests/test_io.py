"""Loading and saving: schema, load report, line numbers, compression, round trips."""

import bz2
import functools
import gzip
import io
import lzma
import tarfile
import warnings
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import journey_utils as ju
from tests.agreement import sessions_frame

HEADER = "user_id,session_id,subscription_type,user_journey\n"
BODY = "3,30,Annual,Homepage-Pricing\n1,10,Monthly,Log in\n3,31,Annual,Checkout\n"


def write(tmp_path, text, name="sessions.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_schema_and_file_order(tmp_path):
    data = ju.load_sessions(write(tmp_path, HEADER + BODY))
    assert list(data.columns) == ["user_id", "session_id", "subscription_type", "user_journey"]
    assert data["user_id"].dtype == np.int64 and data["session_id"].dtype == np.int64
    assert pd.api.types.is_string_dtype(data["subscription_type"])
    assert pd.api.types.is_string_dtype(data["user_journey"])
    # File order is kept: the order of sessions in time comes from session_id, later.
    assert data["session_id"].tolist() == [30, 10, 31]
    assert isinstance(data.index, pd.RangeIndex)


@pytest.mark.parametrize("page", ["Pricing", "Tax info", "FAQ X"])
@pytest.mark.parametrize("spelled", [False, True])
def test_ids_in_every_accepted_spelling(tmp_path, page, spelled):
    # With and without an 'x' in the file, which decides how the fast reader parses
    # ids, and with spellings ('+8', '9.0') that only the careful reader accepts.
    rows = ["5,1", " 6 ,2", "007,3", "8,4", "9,5", '"10",6']
    if spelled:
        rows[3:5] = ["+8,4", "9.0,5"]
    text = HEADER + "".join(f"{ids},Annual,Homepage-{page}\n" for ids in rows)
    data = ju.load_sessions(write(tmp_path, text))
    assert data["user_id"].tolist() == [5, 6, 7, 8, 9, 10]
    assert data["session_id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert data["user_id"].dtype == np.int64


def test_load_report(tmp_path):
    path = write(tmp_path, HEADER + BODY)
    data = ju.load_sessions(str(path))
    assert data.attrs["load_report"] == {"path": str(path), "rows_read": 3, "repairs": [], "rows_kept": 3, "users": 2}
    report = ju.load_report(data)
    assert report.empty and list(report.columns) == ["column", "problem", "action", "rows", "dropped", "lines"]
    assert ju.load_report(pd.DataFrame({"a": [1]})).empty


def test_load_report_lists_every_repair(tmp_path):
    text = HEADER + "1,1, Annual,A--B\n1,2,Annual,\n1,1, Annual,A--B\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = ju.load_sessions(write(tmp_path, text))
    report = ju.load_report(data)
    assert report[["column", "rows", "dropped"]].values.tolist() == [
        ["subscription_type", 2, 0], ["user_journey", 2, 0], ["user_journey", 1, 1], ["session_id", 1, 1]]
    assert report["lines"].tolist() == [[2, 4], [2, 4], [3], [4]]
    assert len([w for w in caught if w.category is ju.JourneyDataWarning]) == 4
    # Warnings point at the caller, not into the library.
    assert {w.filename for w in caught if w.category is ju.JourneyDataWarning} == {__file__}
    assert data.attrs["load_report"]["rows_read"] == 3 and data.attrs["load_report"]["rows_kept"] == 1


def test_keep_empty_journeys_without_warning(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ju.JourneyDataWarning)
        data = ju.load_sessions(write(tmp_path, HEADER + "1,1,Annual,\n1,2,Annual,A\n"), empty_journeys="keep")
    assert data["user_journey"].tolist() == ["", "A"]
    [repair] = data.attrs["load_report"]["repairs"]
    assert repair["action"] == "kept as a journey of length 0" and repair["dropped"] == 0


def zip_compress(data: bytes, names=("sessions.csv",)) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, data)
    return buffer.getvalue()


def zstd_compress(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(data)
    return sink.getvalue().to_pybytes()


def tar_compress(data: bytes, names=("sessions.csv",), mode="w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name in names:
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


COMPRESSIONS = [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress), (".zip", zip_compress),
                (".zst", zstd_compress), (".tar", tar_compress),
                (".tar.gz", functools.partial(tar_compress, mode="w:gz")),
                (".tar.xz", functools.partial(tar_compress, mode="w:xz"))]


@pytest.mark.parametrize("suffix, compress", COMPRESSIONS)
def test_compressed_files(tmp_path, suffix, compress):
    path = tmp_path / f"sessions.csv{suffix}"
    path.write_bytes(compress((HEADER + BODY).encode()))
    pd.testing.assert_frame_equal(ju.load_sessions(path), ju.load_sessions(write(tmp_path, HEADER + BODY)),
                                  check_flags=False)


@pytest.mark.parametrize("suffix, compress", COMPRESSIONS)
def test_line_numbers_in_compressed_files(tmp_path, suffix, compress):
    path = tmp_path / f"sessions.csv{suffix}"
    path.write_bytes(compress((HEADER + "\n1,1,Annual,A\n\n1,2,,B\n").encode()))
    with pytest.raises(ju.JourneyDataError, match=r"\(line 5\)"):
        ju.load_sessions(path)
    # Only the slow reader meets this one: a quoted line break and an empty journey.
    path.write_bytes(compress((HEADER + '1,1,Annual,"A\nB"\n1,2,Annual,\n').encode()))
    with pytest.warns(ju.JourneyDataWarning, match=r"empty journey in 1 row: .*\(line 4\)"):
        ju.load_sessions(path, multiline_values=True)
    with pytest.raises(ju.JourneyDataError, match=r"1 value holds a line break.*\(lines 2-3\)$"):
        ju.load_sessions(path)


@pytest.mark.parametrize("suffix, compress", [(".zip", zip_compress), (".tar", tar_compress)])
def test_archive_with_several_files(tmp_path, suffix, compress):
    path = tmp_path / f"sessions{suffix}"
    path.write_bytes(compress((HEADER + BODY).encode(), names=("a.csv", "b.csv")))
    with pytest.raises(ju.JourneyDataError, match=rf"^.*sessions\{suffix}.*exactly one file; this one holds 2"):
        ju.load_sessions(path)


@pytest.mark.parametrize("prefix, newline, expected", [
    ("", "\n", 4), ("\ufeff", "\n", 4), ("", "\r\n", 4), ("\n\n", "\n", 6), ("", "\r", 4),
])
def test_line_numbers(tmp_path, prefix, newline, expected):
    text = prefix + HEADER + "1,1,Annual,A\n1,2,Annual,B\n2,3,,C\n"
    path = write(tmp_path, text.replace("\n", newline))
    with pytest.raises(ju.JourneyDataError, match=rf"\(line {expected}\)$"):
        ju.load_sessions(path)


def test_line_numbers_after_a_multiline_value(tmp_path):
    path = write(tmp_path, HEADER + '1,1,Annual,"A\n\nB"\n1,2,Annual,B\n2,3,,C\n')
    with pytest.raises(ju.JourneyDataError, match=r"\(line 6\)$"):
        ju.load_sessions(path, multiline_values=True)


def test_at_most_ten_lines_are_listed(tmp_path):
    body = "".join(f"{i},{i},,A\n" for i in range(30))
    with pytest.raises(ju.JourneyDataError, match=r"\(lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 20 more\)$"):
        ju.load_sessions(write(tmp_path, HEADER + body))


def test_invalid_empty_journeys_argument():
    with pytest.raises(ValueError, match="empty_journeys must be 'drop' or 'keep'"):
        ju.load_sessions("x.csv", empty_journeys=True)


def test_journey_data_error_is_a_value_error():
    assert issubclass(ju.JourneyDataError, ValueError)
    assert issubclass(ju.JourneyDataWarning, UserWarning)


# --- save_journeys -----------------------------------------------------------------------


@pytest.fixture
def journeys():
    rows = [(2, 5, "Monthly", "Homepage-Log in"), (1, 3, "Annual", "Log in"), (1, 4, "Annual", "Pricing-Log in"),
            (3, 9, "Annual", "Über-<b>x</b>-\"quoted\", comma"), (4, 1, "Monthly", "Log in-Log in")]
    return ju.preprocess(sessions_frame(rows), pages_to_remove=["Log in"])


def test_save_journeys_round_trip(tmp_path, journeys):
    path = ju.save_journeys(journeys, tmp_path / "out" / "journeys.csv")
    assert path == tmp_path / "out" / "journeys.csv" and path.is_file()
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header == "user_id,session_id,subscription_type,user_journey,n_sessions"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ju.JourneyDataWarning)
        again = ju.load_sessions(path, empty_journeys="keep")
    pd.testing.assert_frame_equal(again[journeys.columns], journeys)
    assert again["user_journey"].tolist() == ["Pricing", "Homepage", "Über-<b>x</b>-\"quoted\", comma", ""]
    assert sorted(p.name for p in path.parent.iterdir()) == ["journeys.csv"]  # no temporary file left


def test_save_journeys_gzip_is_deterministic(tmp_path, journeys):
    first = ju.save_journeys(journeys, tmp_path / "a.csv.gz").read_bytes()
    second = ju.save_journeys(journeys, tmp_path / "b.csv.gz").read_bytes()
    assert first == second and first[:2] == b"\x1f\x8b"
    pd.testing.assert_frame_equal(ju.load_sessions(tmp_path / "a.csv.gz", empty_journeys="keep")[journeys.columns],
                                  journeys)


def test_save_journeys_overwrites(tmp_path, journeys):
    path = tmp_path / "journeys.csv"
    path.write_text("old")
    ju.save_journeys(journeys, path)
    assert path.read_text(encoding="utf-8").startswith("user_id,")


def test_save_journeys_does_not_modify_input(tmp_path, journeys):
    before = journeys.copy(deep=True)
    ju.save_journeys(journeys, tmp_path / "j.csv")
    pd.testing.assert_frame_equal(journeys, before)


def test_save_journeys_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match="expected a pandas DataFrame, found dict"):
        ju.save_journeys({"user_id": [1]}, tmp_path / "x.csv")
    with pytest.raises(ValueError, match="column 'session_id', 'subscription_type', 'user_journey' not found"):
        ju.save_journeys(pd.DataFrame({"user_id": [1]}), tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_loaded_sample_is_clean():
    if not ju.SAMPLE_PATH.is_file():
        pytest.skip(f"bundled sample not generated yet ({ju.SAMPLE_PATH})")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ju.JourneyDataWarning)
        data = ju.load_sessions(ju.SAMPLE_PATH)
    assert ju.load_report(data).empty and len(data) > 0


def test_save_journeys_values_with_line_breaks_round_trip(tmp_path):
    frame = sessions_frame([(1, 1, "Plan\r1", "A\rB-C"), (2, 2, "Plan\n2", "D\r\nE"), (3, 3, "Plan 3", "F")])
    for name in ("breaks.csv", "breaks.csv.gz"):
        again = ju.load_sessions(ju.save_journeys(frame, tmp_path / name), multiline_values=True)
        pd.testing.assert_frame_equal(again, frame, check_flags=False)
    # Without such values the file keeps minimal quoting.
    plain = ju.save_journeys(frame.iloc[2:], tmp_path / "plain.csv").read_text(encoding="utf-8")
    assert plain == "user_id,session_id,subscription_type,user_journey\n3,3,Plan 3,F\n"
