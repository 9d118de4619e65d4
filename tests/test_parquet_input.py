"""Parquet input, folders of parts, and validated sessions saved for a fast re-read.

- ``save_sessions`` writes sessions with their load report (and the export's
  checksum) signed in the Parquet metadata; ``load_sessions`` on that file trusts it
  and returns an equal frame and report; a changed file is checked like any export.
- A Parquet file not written by ``save_sessions`` goes through the same checks as
  CSV, with messages naming rows.
- A folder of parts (CSV, compressed CSV or Parquet) is read in name order; every
  message names the part and its line or row.
"""

import gzip
import hashlib
import os
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import journey_utils as ju
from journey_utils import io as jio
from tests.agreement import sessions_frame

HEADER = "user_id,session_id,subscription_type,user_journey\n"


def write(path, text):
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def sha12(*blobs):
    digest = hashlib.sha256()
    for blob in blobs:
        digest.update(blob)
    return digest.hexdigest()[:12]


@pytest.fixture
def export(tmp_path):
    """An export with repairs to report (spaces, a repeated row, an empty journey) and an extra column."""
    text = ("user_id,session_id,subscription_type,user_journey,source\n"
            "1,1, Annual ,Homepage - Pricing,web\n1,2,Annual,Checkout,web\n1,2,Annual,Checkout,web\n"
            "2,3,Monthly,,app\n2,4,Monthly,Homepage-Log in,app\n3,9,Quarterly,Über-<b>x</b>,web\n")
    return write(tmp_path / "export.csv", text)


def loaded(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ju.JourneyDataWarning)
        return ju.load_sessions(path, **options)


# --- save_sessions and the fast re-read ----------------------------------------------------


def test_save_sessions_round_trip_keeps_frame_types_and_report(tmp_path, export):
    sessions = loaded(export)
    path = ju.save_sessions(sessions, tmp_path / "out" / "sessions.parquet")
    assert path == tmp_path / "out" / "sessions.parquet" and path.read_bytes()[:4] == b"PAR1"
    assert sorted(p.name for p in path.parent.iterdir()) == ["sessions.parquet"]  # no temporary file left
    with warnings.catch_warnings():
        warnings.simplefilter("error", ju.JourneyDataWarning)  # the repairs are not redone
        again = ju.load_sessions(path)
    pd.testing.assert_frame_equal(again, sessions)
    assert list(again.dtypes.astype(str)) == list(sessions.dtypes.astype(str))
    expected = dict(sessions.attrs["load_report"], checksum=sha12(export.read_bytes()))
    assert again.attrs["load_report"] == expected
    assert expected["path"] == str(export) and len(expected["repairs"]) == 4
    assert ju.load_report(again).equals(ju.load_report(sessions))
    assert "checksum" not in sessions.attrs["load_report"]  # the input is left as it was


def test_saved_sessions_are_not_checked_again(tmp_path, export, monkeypatch):
    path = ju.save_sessions(loaded(export), tmp_path / "s.parquet")

    def fail(*args, **kwargs):
        raise AssertionError("the saved sessions were checked again")

    monkeypatch.setattr(jio, "_read_part", fail)
    assert len(ju.load_sessions(path)) == 4


def test_checksum_is_that_of_the_original_export(tmp_path, export):
    sessions = loaded(export)
    assert jio.file_checksum(export) == sha12(export.read_bytes())
    report = ju.load_sessions(ju.save_sessions(sessions, tmp_path / "s.parquet")).attrs["load_report"]
    assert report["checksum"] == jio.file_checksum(export)
    # Saved again from the re-read sessions, the original checksum is kept.
    export.unlink()
    twice = ju.load_sessions(ju.save_sessions(ju.load_sessions(tmp_path / "s.parquet"), tmp_path / "t.parquet"))
    assert twice.attrs["load_report"] == report


@pytest.mark.parametrize("change", ["byte in the data", "report edited", "rewritten by pyarrow", "truncated"])
def test_a_changed_file_is_checked_like_any_export(tmp_path, export, change):
    path = ju.save_sessions(loaded(export), tmp_path / "s.parquet")
    content = bytearray(path.read_bytes())
    if change == "byte in the data":
        position = content.index(b"Monthly")
        content[position:position + 7] = b"Mxnthly"
        path.write_bytes(bytes(content))
    elif change == "report edited":
        path.write_bytes(bytes(content).replace(b'"rows_read": 6', b'"rows_read": 7'))
    elif change == "rewritten by pyarrow":
        table = pq.read_table(path)
        signed = pq.ParquetFile(path).metadata.metadata  # the signature carried over to the new file
        pq.write_table(table.slice(0, 3).replace_schema_metadata(signed), path)
        assert b"journey_utils.digest" in pq.ParquetFile(path).metadata.metadata
    else:
        path.write_bytes(bytes(content[:-20]))
    if change in ("truncated", "byte in the data"):
        # A file that no longer reads as Parquet is an error naming it; one that does is checked.
        try:
            again = ju.load_sessions(path)
        except ju.JourneyDataError as error:
            assert str(error).startswith(str(path))
            return
    else:
        again = ju.load_sessions(path)
    report = again.attrs["load_report"]
    assert report["path"] == str(path) and "checksum" not in report


def test_saved_empty_journeys_are_dropped_when_asked(tmp_path, export):
    kept = loaded(export, empty_journeys="keep")
    path = ju.save_sessions(kept, tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(ju.load_sessions(path, empty_journeys="keep"), kept)
    with pytest.warns(ju.JourneyDataWarning, match=r"empty journey in 1 row: dropped the session \(row 3\)"):
        dropped = ju.load_sessions(path)
    assert len(dropped) == len(kept) - 1 and dropped.attrs["load_report"]["path"] == str(path)


def test_save_sessions_refuses_what_it_cannot_vouch_for(tmp_path, export):
    sessions = loaded(export)
    with pytest.raises(TypeError, match="expected a pandas DataFrame, found dict"):
        ju.save_sessions({}, tmp_path / "x.parquet")
    with pytest.raises(ValueError, match=r"attrs\['load_report'\]; found none"):
        ju.save_sessions(sessions_frame([(1, 1, "A", "B")]), tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="the sessions have 3 rows but 4 were kept when loaded"):
        ju.save_sessions(sessions.iloc[:3], tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="expected the columns user_id, session_id"):
        ju.save_sessions(sessions[["session_id", "user_id", "subscription_type", "user_journey"]],
                         tmp_path / "x.parquet")
    export.unlink()
    with pytest.raises(ValueError, match="checksum of the original export .*export.csv could not be computed"):
        ju.save_sessions(sessions, tmp_path / "x.parquet")
    assert not any(tmp_path.glob("*.parquet")) and not any(tmp_path.glob(".*tmp"))


def test_save_sessions_does_not_modify_input(tmp_path, export):
    sessions = loaded(export)
    before, report = sessions.copy(deep=True), dict(sessions.attrs["load_report"])
    ju.save_sessions(sessions, tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(sessions, before)
    assert sessions.attrs["load_report"] == report


def test_save_sessions_of_the_sample_reads_back_equal(tmp_path):
    if not ju.SAMPLE_PATH.is_file():
        pytest.skip(f"bundled sample not generated yet ({ju.SAMPLE_PATH})")
    sessions = ju.load_sessions(ju.SAMPLE_PATH)
    again = ju.load_sessions(ju.save_sessions(sessions, tmp_path / "sample.parquet"))
    pd.testing.assert_frame_equal(again, sessions)
    assert ju.preprocess(again, sessions=3).equals(ju.preprocess(sessions, sessions=3))


# --- save_journeys to Parquet ---------------------------------------------------------------


def test_save_journeys_parquet_round_trip(tmp_path):
    rows = [(2, 5, "Monthly", "Homepage-Log in"), (1, 3, "Annual", "Log in"), (1, 4, "Annual", "Pricing-Log in"),
            (3, 9, "Annual", "Über-<b>x</b>-\"quoted\", comma"), (4, 1, "Monthly", "Log in-Log in")]
    journeys = ju.preprocess(sessions_frame(rows), pages_to_remove=["Log in"])
    path = ju.save_journeys(journeys, tmp_path / "out" / "journeys.parquet")
    assert path.read_bytes()[:4] == b"PAR1"
    assert sorted(p.name for p in path.parent.iterdir()) == ["journeys.parquet"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ju.JourneyDataWarning)
        again = ju.load_sessions(path, empty_journeys="keep")
    pd.testing.assert_frame_equal(again[journeys.columns], journeys.reset_index(drop=True), check_flags=False)
    assert list(again.columns) == ["user_id", "session_id", "subscription_type", "user_journey", "n_sessions"]


# --- Parquet exports ----------------------------------------------------------------------


def test_parquet_export_loads_like_the_same_csv(tmp_path, export):
    frame = pd.read_csv(export, dtype=str, keep_default_na=False)
    frame["user_id"] = frame["user_id"].astype("int32")  # any integer type
    parquet = tmp_path / "export.parquet"
    frame.to_parquet(parquet, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = ju.load_sessions(parquet)
    from_csv = loaded(export)
    pd.testing.assert_frame_equal(data, from_csv, check_flags=False)
    assert [(r["problem"], r["lines"]) for r in data.attrs["load_report"]["repairs"]] == [
        (r["problem"], [n - 1 for n in r["lines"]]) for r in from_csv.attrs["load_report"]["repairs"]]
    assert any("(row 1)" in str(w.message) for w in caught)


@pytest.mark.parametrize("values, column, message", [
    ({"subscription_type": ["Annual", None, "Annual"]}, "subscription_type", r"1 sessions have no plan \(row 2\)"),
    ({"session_id": [1.0, 2.5, 3.0]}, "session_id",
     r"1 values are not non-negative integers \(e.g. '2.5'\) \(row 2\)"),
    ({"user_id": pa.array([1, None, 3], pa.int64())}, "user_id",
     r"1 values are not non-negative integers \(e.g. ''\) \(row 2\)"),
    ({"user_id": pa.array([1, 2, 2**64 - 1], pa.uint64())}, "user_id", r"1 values are too large .*\(row 3\)"),
    ({"subscription_type": ["Annual", "Monthly", "Annual"], "user_id": [1, 1, 1]}, "subscription_type",
     r"1 users have more than one plan .*\(rows 1, 2, 3\)"),
])
def test_parquet_export_errors_name_rows(tmp_path, values, column, message):
    columns = {"user_id": [1, 2, 3], "session_id": [1, 2, 3], "subscription_type": ["Annual"] * 3,
               "user_journey": ["A", "B-C", "D"]}
    columns.update(values)
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table(columns), path)
    with pytest.raises(ju.JourneyDataError, match=rf"^{path}, column '{column}': {message}$"):
        ju.load_sessions(path)


def test_parquet_export_with_other_types(tmp_path):
    table = pa.table({"User_ID ": pa.array([1, 2], pa.uint16()), "session_id": pa.array([5, 6], pa.int8()),
                      "subscription_type": pa.array([2024, 2025]),
                      "user_journey": pa.array(["A-B", "C"]).dictionary_encode()})
    path = tmp_path / "types.parquet"
    pq.write_table(table, path)
    data = ju.load_sessions(path)
    assert data["user_id"].dtype == np.int64 and data["subscription_type"].tolist() == ["2024", "2025"]
    assert data["user_journey"].tolist() == ["A-B", "C"]


def test_parquet_export_written_by_pandas_with_its_index(tmp_path):
    frame = pd.DataFrame({"user_id": [1, 2], "session_id": [1, 2], "subscription_type": ["A", "B"],
                          "user_journey": ["x", "y"]}, index=[10, 20])
    frame.to_parquet(tmp_path / "unnamed.parquet", index=True)
    data = ju.load_sessions(tmp_path / "unnamed.parquet")
    assert list(data.columns) == list(frame.columns) and isinstance(data.index, pd.RangeIndex)


def test_parquet_export_missing_column_and_corrupt_file(tmp_path):
    path = tmp_path / "cols.parquet"
    pq.write_table(pa.table({"user_id": [1], "session_id": [1], "plan": ["A"], "user_journey": ["B"]}), path)
    with pytest.raises(ju.JourneyDataError, match="required column subscription_type not found; columns in the file: "
                                                  "'user_id', 'session_id', 'plan', 'user_journey'"):
        ju.load_sessions(path)
    broken = write(tmp_path / "broken.parquet", b"PAR1" + b"\x00" * 50)
    with pytest.raises(ju.JourneyDataError, match=r"broken.parquet: not a readable Parquet file"):
        ju.load_sessions(broken)


# --- folders of parts -----------------------------------------------------------------------


def parts_folder(tmp_path, bodies, name="export"):
    folder = tmp_path / name
    folder.mkdir()
    for part, body in bodies.items():
        data = (HEADER + body).encode()
        write(folder / part, gzip.compress(data, mtime=0) if part.endswith(".gz") else data)
    return folder


def test_folder_of_csv_parts_in_name_order(tmp_path):
    folder = parts_folder(tmp_path, {"part-2.csv.gz": "2,3,Monthly,C\n", "part-1.csv": "1,1,Annual,A\n1,2,Annual,B\n",
                                     "part-10.csv": "3,4,Annual,D\n"})
    write(folder / "_SUCCESS", "")
    write(folder / ".part-1.csv.crc", "x")
    data = ju.load_sessions(folder)
    # Name order: part-1, part-10, part-2.
    assert data["user_journey"].tolist() == ["A", "B", "D", "C"]
    report = data.attrs["load_report"]
    assert report["path"] == str(folder) and report["parts"] == ["part-1.csv", "part-10.csv", "part-2.csv.gz"]
    assert report["rows_read"] == report["rows_kept"] == 4 and report["users"] == 3
    assert jio.file_checksum(folder) == sha12(*((folder / p).read_bytes() for p in report["parts"]))
    saved = ju.load_sessions(ju.save_sessions(data, tmp_path / "s.parquet"))
    assert saved.attrs["load_report"]["checksum"] == jio.file_checksum(folder)


def test_folder_messages_name_the_part_and_line(tmp_path):
    folder = parts_folder(tmp_path, {"a.csv": "1,1,Annual,A\n", "b.csv": "\n2,2,,B\n3,3,Annual,C\n"})
    with pytest.raises(ju.JourneyDataError, match=rf"^{folder}, column 'subscription_type': 1 sessions have no plan "
                                                  r"\(line b.csv:3\)$"):
        ju.load_sessions(folder)
    folder = parts_folder(tmp_path, {"a.csv": "1,1,Annual,A\n1,2,Annual,B\n",
                                     "b.csv": "1,2,Annual,B\n2,5,Monthly, C\n"}, name="repairs")
    with pytest.warns(ju.JourneyDataWarning) as caught:
        data = ju.load_sessions(folder)
    messages = [str(w.message) for w in caught]
    assert any("(line b.csv:3)" in m and "spaces around page names" in m for m in messages), messages
    assert any("(line b.csv:2)" in m and "repeated exactly" in m for m in messages), messages
    assert [r["lines"] for r in data.attrs["load_report"]["repairs"]] == [["b.csv:3"], ["b.csv:2"]]
    # A problem of one part alone is named by that part's own path.
    folder = parts_folder(tmp_path, {"a.csv": "1,1,Annual,A\n", "b.csv": "2,2,Annual,B,extra\n"}, name="ragged")
    with pytest.raises(ju.JourneyDataError, match=rf"^{folder / 'b.csv'}: every row must have as many fields"):
        ju.load_sessions(folder)


def test_folder_conflicts_across_parts(tmp_path):
    folder = parts_folder(tmp_path, {"a.csv": "1,1,Annual,A\n", "b.csv": "1,2,Monthly,B\n"})
    with pytest.raises(ju.JourneyDataError, match=r"1 users have more than one plan .*\(lines a.csv:2, b.csv:2\)$"):
        ju.load_sessions(folder)


def test_folder_of_parquet_parts(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    for number, rows in enumerate([[(1, 1, "Annual", "A")], [(2, 2, "Monthly", "B"), (3, 3, "", "C")]]):
        pq.write_table(pa.table(dict(zip(["user_id", "session_id", "subscription_type", "user_journey"],
                                         map(list, zip(*rows))))), folder / f"part-{number}.parquet")
    with pytest.raises(ju.JourneyDataError, match=r"1 sessions have no plan \(row part-1.parquet:2\)$"):
        ju.load_sessions(folder)
    (folder / "part-1.parquet").unlink()
    assert ju.load_sessions(folder)["user_journey"].tolist() == ["A"]


@pytest.mark.parametrize("extra, message", [
    ("notes.txt", r"must hold only CSV files \(compressed too\) or Parquet files; found 'notes.txt'"),
    ("sub/", "found 'sub/'"),
    ("other.csv", r"other.csv: the columns \(user_id, session_id, subscription_type, user_journey, x\) differ"),
])
def test_folder_with_something_else(tmp_path, extra, message):
    folder = parts_folder(tmp_path, {"a.csv": "1,1,Annual,A\n"})
    if extra.endswith("/"):
        (folder / extra).mkdir()
    elif extra == "other.csv":
        write(folder / extra, HEADER.strip() + ",x\n1,2,Annual,B,1\n")
    else:
        write(folder / extra, "hello")
    with pytest.raises(ju.JourneyDataError, match=message):
        ju.load_sessions(folder)


def test_empty_folder_and_header_only_parts(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(ju.JourneyDataError, match=r"not a file but a folder, with no CSV or Parquet part"):
        ju.load_sessions(folder)
    folder = parts_folder(tmp_path, {"a.csv": "", "b.csv": ""}, name="headers")
    with pytest.raises(ju.JourneyDataError, match=r"the 2 parts have a header but no session rows"):
        ju.load_sessions(folder)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_fifo_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(ju.JourneyDataError, match=r"pipe.csv: not a regular file \(a FIFO \(named pipe\)\)"):
        ju.load_sessions(fifo)
    with pytest.raises(ju.JourneyDataError, match="not a regular file"):
        jio.file_checksum(fifo)


def test_device_is_not_a_regular_file():
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    with pytest.raises(ju.JourneyDataError, match=r"not a regular file \(a character device\)"):
        ju.load_sessions("/dev/null")
