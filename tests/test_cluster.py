"""The Dask path (journey_utils.cluster) against the pandas path, on a real LocalCluster.

One LocalCluster (2 worker processes, loopback only) serves every test of the module.
Exports are split into parts (CSV, compressed CSV, Parquet) the way a large export
arrives; every result is compared with the pandas library on the whole export.
"""

from __future__ import annotations

import gzip
import json
import logging
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_utils as ju
from journey_utils import users

distributed = pytest.importorskip("distributed")
cluster = pytest.importorskip("journey_utils.cluster")

COLUMNS = ["user_id", "session_id", "subscription_type", "user_journey"]
# Preprocessing settings the reports use: all sessions, first N, last N, pages removed.
SETTINGS = [
    ("All", "last", []),
    (3, "first", []),
    (2, "last", ["Log in"]),
    (1, "first", ["Log in", "Other"]),
]
PLANS = [None, "Annual", ["Monthly", "Quarterly"]]


@pytest.fixture(scope="session")
def client():
    """A real two-process LocalCluster, on the loopback interface only, closed at the end."""
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    with cluster.local_cluster(2, memory_limit="2GiB") as local, distributed.Client(local) as connected:
        yield connected


def test_the_local_cluster_is_two_single_threaded_workers_with_a_bounded_shuffle_buffer(client):
    import dask

    info = client.scheduler_info()["workers"]
    assert len(info) == 2 and {w["host"] for w in info.values()} == {"127.0.0.1"}
    assert {w["nthreads"] for w in info.values()} == {1}
    assert {w["memory_limit"] for w in info.values()} == {2 * 2**30}
    # An eighth of a worker's memory for the shuffle's outgoing data, not Dask's default of 1 GiB.
    assert set(client.run(lambda: dask.config.get("distributed.p2p.comm.buffer")).values()) == {2**28}


def _split(sessions: pd.DataFrame, folder, kinds, seed=0):
    """Write ``sessions`` as parts (one user's sessions usually land in several), in name order."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    # Every part gets rows (an empty part is an error, as an empty file is).
    number = rng.permutation(np.arange(len(sessions)) % len(kinds))
    paths = []
    for i, kind in enumerate(kinds):
        part = sessions[number == i][COLUMNS]
        path = os.path.join(folder, f"part-{i:03d}.{kind}")
        if kind == "parquet":
            part.to_parquet(path, index=False)
        else:
            part.to_csv(path, index=False, compression="gzip" if kind.endswith(".gz") else None)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated export (20k sessions), whole and split into 5 parts of three kinds."""
    sessions = ju.synthetic.generate_sessions(20_000, seed=3)
    folder = tmp_path_factory.mktemp("generated") / "parts"
    _split(sessions, folder, ["csv", "csv.gz", "parquet", "csv", "parquet"])
    whole = tmp_path_factory.mktemp("whole") / "export.csv"
    sessions[COLUMNS].to_csv(whole, index=False)
    return ju.load_sessions(whole), folder


def _equal(got, expected):
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected)
    elif isinstance(expected, pd.Series):
        pd.testing.assert_series_equal(got, expected)
    elif isinstance(expected, float) and np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == expected and type(got) is type(expected)


def _metric_calls(pages):
    """(name, args, kwargs) of every metric, with the page arguments taken from ``pages``."""
    calls = [("page_count", (), {}), ("page_presence", (), {}), ("page_presence", (), {"normalize": True}),
             ("page_transitions", (), {}), ("page_sequences", (2,), {}), ("page_sequences", (3,), {}),
             ("journey_lengths", (), {}), ("journey_length", (), {})]
    calls += [("page_destinations", (page,), {}) for page in pages]
    return calls


def _check_metrics(journeys_dask, journeys, plans=PLANS):
    pages = ju.page_count(journeys).index[:1].tolist() + ["No such page"]
    for name, args, kwargs in _metric_calls(pages):
        for plan in plans:
            expected = getattr(ju, name)(journeys, *args, plan=plan, **kwargs)
            got = getattr(cluster, name)(journeys_dask, *args, plan=plan, **kwargs)
            _equal(got, expected)


def _by_user(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("user_id", kind="stable").reset_index(drop=True)


# --- reading many parts ---------------------------------------------------------------


def test_read_sessions_one_partition_per_part_same_rows(client, generated):
    sessions, folder = generated
    frame, reports = cluster.read_sessions(folder)
    assert frame.npartitions == 5
    computed, table = frame.compute(), reports.compute()
    got = computed.sort_values(["user_id", "session_id"]).reset_index(drop=True)
    expected = sessions.sort_values(["user_id", "session_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[COLUMNS], expected[COLUMNS], check_dtype=False)
    assert [str(c) for c in computed["_part"].cat.categories] == [str(p) for p in cluster.part_files(folder)]
    report = cluster.summed_report(table)
    assert (report["rows_read"], report["rows_kept"]) == (len(sessions), len(sessions))
    assert report["repairs"] == []


def test_part_files_glob_folder_and_list_in_name_order(tmp_path):
    for name in ["b.csv", "a.csv.gz", "c.parquet", ".hidden.csv", "notes.txt"]:
        (tmp_path / name).write_text("x")
    names = [p.name for p in cluster.part_files(tmp_path)]
    assert names == ["a.csv.gz", "b.csv", "c.parquet"]
    assert [p.name for p in cluster.part_files(str(tmp_path / "*.csv*"))] == ["a.csv.gz", "b.csv"]
    with pytest.raises(ju.JourneyDataError, match="no file matches"):
        cluster.part_files(str(tmp_path / "*.tsv"))
    with pytest.raises(ju.JourneyDataError, match="file not found: .*missing.csv"):
        cluster.part_files([tmp_path / "b.csv", tmp_path / "missing.csv"])


def test_repairs_are_summed_over_parts_and_name_them(client, tmp_path):
    rows = "user_id,session_id,subscription_type,user_journey\n"
    (tmp_path / "p1.csv").write_text(rows + "1,1,Annual, Homepage -Pricing\n1,2,Annual,Pricing\n1,2,Annual,Pricing\n")
    (tmp_path / "p2.csv").write_text(rows + "2,1,Monthly,Homepage\n2,2,Monthly,Homepage--Checkout\n3,1,Monthly,\n")
    frame, reports = cluster.read_sessions(tmp_path)
    with pytest.warns(ju.JourneyDataWarning):
        expected = [ju.load_report(ju.load_sessions(tmp_path / name)) for name in ("p1.csv", "p2.csv")]
    journeys, table = client.compute([cluster.preprocess(frame), reports], sync=True)
    report = cluster.summed_report(table)
    summed = cluster.load_report(report).set_index("problem")
    for problem in set(expected[0]["problem"]) | set(expected[1]["problem"]):
        rows = sum(int(e.set_index("problem")["rows"].get(problem, 0)) for e in expected)
        assert summed.loc[problem, "rows"] == rows
    spaces = summed.loc["spaces around page names or empty page segments", "lines"]
    assert spaces == ["p1.csv:2", "p2.csv:3"]
    assert report["rows_read"] == 6 and report["rows_kept"] == 4
    assert _by_user(journeys)["user_journey"].tolist() == ["Homepage-Pricing", "Homepage-Checkout"]


# --- sessions -> journeys -------------------------------------------------------------


# Each setting with every metric; every plan selection with some setting (each call costs a
# round trip to the cluster).
@pytest.mark.parametrize("sessions_per_user,count_from,pages,plans", [
    (*SETTINGS[0], PLANS),
    (*SETTINGS[1], [None, "Monthly"]),
    (*SETTINGS[2], [None, "Quarterly"]),
    (*SETTINGS[3], [["Annual", "Quarterly"]]),
])
def test_journeys_and_every_metric_equal_pandas(client, generated, sessions_per_user, count_from, pages, plans):
    sessions, folder = generated
    frame, _ = cluster.read_sessions(folder)
    journeys_dask = cluster.preprocess(frame, sessions_per_user, count_from, pages).persist()
    expected = ju.preprocess(sessions, sessions=sessions_per_user, count_from=count_from, pages_to_remove=pages)
    pd.testing.assert_frame_equal(_by_user(journeys_dask.compute()), expected)
    _check_metrics(journeys_dask, expected, plans)


def test_one_users_sessions_spread_over_files_make_one_journey(client, tmp_path):
    header = "user_id,session_id,subscription_type,user_journey\n"
    (tmp_path / "a.csv").write_text(header + "7,30,Annual,Checkout\n8,1,Monthly,Homepage\n")
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress((header + "7,10,Annual,Homepage\n").encode()))
    pd.DataFrame({"user_id": [7], "session_id": [20], "subscription_type": ["Annual"],
                  "user_journey": ["Pricing"]}).to_parquet(tmp_path / "c.parquet", index=False)
    frame, _ = cluster.read_sessions(tmp_path)
    journeys = _by_user(cluster.preprocess(frame).compute())
    assert journeys["user_journey"].tolist() == ["Homepage-Pricing-Checkout", "Homepage"]
    assert journeys["n_sessions"].tolist() == [3, 1]
    first = _by_user(cluster.preprocess(frame, 2, "first").compute())
    assert first["user_journey"].tolist() == ["Homepage-Pricing", "Homepage"]


def test_a_session_in_two_parts_is_a_repeat_when_they_agree(client, tmp_path):
    header = "user_id,session_id,subscription_type,user_journey\n"
    (tmp_path / "a.csv").write_text(header + "1,1,Annual,Homepage\n1,2,Annual,Pricing\n")
    (tmp_path / "b.csv").write_text(header + "2,1,Annual,Homepage\n\n1,2,Annual,Pricing\n")
    frame, reports = cluster.read_sessions(tmp_path)
    journeys, table, repeated = client.compute([cluster.preprocess(frame), reports, cluster.repeats(frame)],
                                               sync=True)
    assert _by_user(journeys)["user_journey"].tolist() == ["Homepage-Pricing", "Homepage"]
    assert _by_user(journeys)["n_sessions"].tolist() == [2, 1]
    report = cluster.summed_report(table, repeated, users=len(journeys))
    (repair,) = report["repairs"]
    assert (repair["rows"], repair["dropped"], repair["lines"]) == (1, 1, ["b.csv:4"])
    assert report["rows_kept"] == 4 - 1
    with pytest.warns(ju.JourneyDataWarning, match="row repeated exactly"):
        expected = ju.load_sessions(tmp_path).attrs["load_report"]
    assert _report_fields(report) == _report_fields(expected)


# --- the load report of a folder of parts, as load_sessions makes it ---------------------

REPORT_FIELDS = ("path", "parts", "rows_read", "rows_kept", "users", "repairs", "notes")


def _report_fields(report: dict) -> dict:
    return {key: report.get(key) for key in REPORT_FIELDS}


def _cluster_report(client, folder, npartitions=None) -> dict:
    frame, reports = cluster.read_sessions(folder)
    journeys, table, repeated = client.compute(
        [cluster.preprocess(frame, npartitions=npartitions), reports, cluster.repeats(frame, npartitions=npartitions)],
        sync=True)
    return cluster.summed_report(table, repeated, users=len(journeys))


def _pandas_report(folder) -> dict:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ju.JourneyDataWarning)
        return ju.load_sessions(folder).attrs["load_report"]


def _damaged_reference_parts(reference_path, folder, seed=11):
    """The reference export as 4 CSV parts, with repairs for load_sessions to make in each.

    Spaces around plan and page names, invisible characters, empty journeys, rows
    repeated within a part, and sessions repeated in another part (from earlier and
    from later parts, more than the ten lines a report shows).
    """
    rng = np.random.default_rng(seed)
    header, *rows = reference_path.read_text(encoding="utf-8").splitlines()
    number = rng.integers(0, 4, len(rows))
    parts = [[row for row, n in zip(rows, number) if n == i] for i in range(4)]

    def field(row, i, value):
        cells = row.split(",", 3)
        cells[i] = value
        return ",".join(cells)

    parts[0][5] = field(parts[0][5], 2, "  " + parts[0][5].split(",", 3)[2] + " ")
    parts[0][7] = field(parts[0][7], 3, " " + parts[0][7].split(",", 3)[3].replace("-", " - ", 1) + "-")
    parts[0].insert(40, parts[0][3])                                  # repeated within the part
    parts[1][2] = field(parts[1][2], 3, "")                           # empty journey
    parts[1][9] = field(parts[1][9], 3, "\u200b" + parts[1][9].split(",", 3)[3])
    parts[1][30] = field(parts[1][30], 2, parts[1][30].split(",", 3)[2] + "\u200d")
    for k in range(6):                                               # sessions of part 0 again in part 1
        parts[1].insert(100 + 37 * k, parts[0][200 + k])
    parts[1].insert(20, parts[2][300])                               # a session of a later part, earlier
    parts[2].insert(60, parts[1][500])                               # part 2: repeats of both kinds
    parts[2].insert(50, parts[2][10])
    parts[2].insert(70, parts[0][600])
    for k in range(14):                                              # more spaces than lines shown
        parts[3][50 + 3 * k] = field(parts[3][50 + 3 * k], 3, parts[3][50 + 3 * k].split(",", 3)[3] + " ")
    parts[3][400] = field(parts[3][400], 3, "--")
    folder.mkdir()
    for i, part in enumerate(parts):
        # A blank line in a part: lines are counted as in the file.
        (folder / f"part-{i}.csv").write_text("\n".join([header, *part[:3], "", *part[3:]]) + "\n",
                                              encoding="utf-8")
    return folder


def test_load_report_of_parts_equals_load_sessions_on_the_folder(client, reference_path, tmp_path):
    folder = _damaged_reference_parts(reference_path, tmp_path / "parts")
    expected = _pandas_report(folder)
    problems = {r["problem"] for r in expected["repairs"]}
    assert len(problems) == 6 and all(len(r["lines"]) <= 10 for r in expected["repairs"])
    # The tenth line shown falls in part 2, among repeats within the part and from other parts.
    repeats = next(r for r in expected["repairs"] if r["problem"].startswith("row repeated"))
    assert repeats["rows"] == 11 and [line.split(":")[0] for line in repeats["lines"]][-4:] == \
        ["part-1.csv"] + ["part-2.csv"] * 3
    # One partition after the shuffle holds every repeat; three spread them.
    for npartitions in (None, 1, 3):
        assert _report_fields(_cluster_report(client, folder, npartitions)) == _report_fields(expected)


def test_plans_differing_only_in_case_across_parts_are_noted_as_in_the_folder(client, tmp_path):
    header = "user_id,session_id,subscription_type,user_journey\n"
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text(header + "1,1,Annual,A\n2,1,Monthly,B\n")
    (folder / "b.csv").write_text(header + "3,1,Monthly,A\n\n4,1,annual,A\n5,1,MONTHLY,A\n6,1, ANNUAL ,B\n")
    pd.DataFrame({"user_id": [7, 8], "session_id": [1, 1], "subscription_type": ["monthly", "Annual"],
                  "user_journey": ["A", "B"]}).to_parquet(folder / "c.parquet", index=False)
    report = _cluster_report(client, folder)
    assert _report_fields(report) == _report_fields(_pandas_report(folder))
    assert len(report["notes"]) == 2 and "(first lines a.csv:2, b.csv:4, b.csv:6)" in report["notes"][0]
    cluster.prepare(folder, tmp_path / "dask")
    assert users.read_manifest(tmp_path / "dask")["load_report"]["notes"] == report["notes"]


def test_parts_with_other_columns_are_refused_as_in_a_folder(client, tmp_path):
    header = "user_id,session_id,subscription_type,user_journey"
    (tmp_path / "a.csv").write_text(header + "\n1,1,Annual,A\n")
    (tmp_path / "b.csv").write_text(header + ",device\n2,1,Annual,A,phone\n")
    with pytest.raises(ju.JourneyDataError) as expected:
        ju.load_sessions(tmp_path)
    with pytest.raises(ju.JourneyDataError) as error:
        cluster.read_sessions(tmp_path)
    assert str(error.value) == str(expected.value)
    # Same columns: a session in two parts is a repeat only when the other columns agree too.
    (tmp_path / "a.csv").write_text(header + ",device\n1,1,Annual,A,phone\n2,1,Annual,A,phone\n")
    assert _report_fields(_cluster_report(client, tmp_path)) == _report_fields(_pandas_report(tmp_path))
    (tmp_path / "b.csv").write_text(header + ",device\n2,1,Annual,A,tablet\n")
    with pytest.raises(ju.JourneyDataError, match="share a \\(user_id, session_id\\) with a different row"):
        ju.load_sessions(tmp_path)
    frame, _ = cluster.read_sessions(tmp_path)
    with pytest.raises(ju.JourneyDataError, match="user 2, session 1: a.csv line 3, b.csv line 2"):
        cluster.preprocess(frame).compute()


def test_sessions_saved_as_parquet_parts_are_reported_as_in_a_folder(client, tmp_path):
    import warnings

    sessions = ju.synthetic.generate_sessions(600, seed=8)
    (tmp_path / "csv").mkdir()
    _split(sessions, tmp_path / "csv", ["csv", "csv"], seed=2)
    with open(tmp_path / "csv" / "part-000.csv", "a") as handle:
        handle.write("999,1, Annual ,Homepage\n")
    folder = tmp_path / "saved"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ju.JourneyDataWarning)
        for name in ("part-000", "part-001"):
            ju.save_sessions(ju.load_sessions(tmp_path / "csv" / f"{name}.csv"), folder / f"{name}.parquet")
    assert _report_fields(_cluster_report(client, folder)) == _report_fields(_pandas_report(folder))
    cluster.prepare(folder, tmp_path / "dask")
    _pandas_prepare(folder, tmp_path / "pandas")
    _assert_same_prepared(tmp_path / "dask", tmp_path / "pandas", "All", "last", [], [3])


def test_repeats_lines_leave_out_a_session_dropped_as_an_empty_journey(client, tmp_path):
    header = "user_id,session_id,subscription_type,user_journey\n"
    (tmp_path / "a.csv").write_text(header + "1,1,Annual,A\n1,2,Annual,B\n")
    # Line 2 is an empty journey of a session that line 4 repeats.
    (tmp_path / "b.csv").write_text(header + "1,1,Annual, -\n2,1,Annual,A\n1,1,Annual,A\n1,2,Annual,B\n")
    report = _cluster_report(client, tmp_path)
    assert _report_fields(report) == _report_fields(_pandas_report(tmp_path))
    assert report["repairs"][-1]["lines"] == ["b.csv:4", "b.csv:5"]


@pytest.mark.parametrize("damage", ["header only", "empty journeys"])
def test_a_part_without_sessions_to_analyse_is_read_as_in_a_folder(client, tmp_path, damage):
    header = "user_id,session_id,subscription_type,user_journey\n"
    empty = header if damage == "header only" else header + "4,1,Annual,\n4,1,Annual,\n4,2,Annual, - \n"
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text(header + "1,1,Annual,A\n1,2,Annual,B-\n")
    (folder / "b.csv").write_text(empty)
    (folder / "c.csv").write_text(header + "2,1,Monthly,A\n1,1,Annual,A\n")
    assert _report_fields(_cluster_report(client, folder)) == _report_fields(_pandas_report(folder))
    cluster.prepare(folder, tmp_path / "dask")
    _pandas_prepare(folder, tmp_path / "pandas")
    _assert_same_prepared(tmp_path / "dask", tmp_path / "pandas", "All", "last", [], [3])
    # With no session to analyse in any part: load_sessions' error, and nothing written.
    before = (tmp_path / "dask" / users.MANIFEST).read_text()
    (folder / "a.csv").write_text(empty)
    (folder / "c.csv").write_text(empty)
    with pytest.raises(ju.JourneyDataError) as expected:
        _pandas_report(folder)
    with pytest.raises(ju.JourneyDataError) as error:
        cluster.prepare(folder, tmp_path / "dask")
    assert str(error.value) == str(expected.value)
    assert (tmp_path / "dask" / users.MANIFEST).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dask", "pandas", "parts"]


def test_load_report_of_generated_parts_equals_load_sessions(client, generated, tmp_path):
    sessions, _ = generated
    folder = tmp_path / "parts"
    _split(sessions.head(3000), folder, ["csv", "parquet", "csv.gz"], seed=4)
    extra = sessions.iloc[[5, 17, 2999]][COLUMNS]
    extra.to_parquet(folder / "part-003.parquet", index=False)        # sessions found in other parts
    assert _report_fields(_cluster_report(client, folder)) == _report_fields(_pandas_report(folder))


def test_a_session_in_two_parts_that_disagree_stops_naming_both(client, tmp_path):
    header = "user_id,session_id,subscription_type,user_journey\n"
    (tmp_path / "a.csv").write_text(header + "1,1,Annual,Homepage\n1,2,Annual,Pricing\n")
    (tmp_path / "b.csv").write_text(header + "2,1,Annual,Homepage\n1,2,Annual,Checkout\n")
    frame, _ = cluster.read_sessions(tmp_path)
    with pytest.raises(ju.JourneyDataError) as error:
        cluster.preprocess(frame).compute()
    message = str(error.value)
    assert "column 'session_id'" in message and "user 1, session 2" in message
    assert "a.csv line 3" in message and "b.csv line 3" in message
    # Journeys are compared as written, not as preprocessing would collapse them.
    (tmp_path / "b.csv").write_text(header + "2,1,Annual,Homepage\n1,2,Annual,Pricing-Pricing\n")
    frame, _ = cluster.read_sessions(tmp_path)
    with pytest.raises(ju.JourneyDataError, match="user 1, session 2: a.csv line 3, b.csv line 3"):
        cluster.preprocess(frame).compute()


def test_a_user_with_two_plans_in_two_parts_stops_naming_both(client, tmp_path):
    header = "user_id,session_id,subscription_type,user_journey\n"
    (tmp_path / "a.csv").write_text(header + "1,1,Annual,Homepage\n")
    (tmp_path / "b.csv").write_text(header + "2,1,Annual,Homepage\n1,2,Monthly,Checkout\n")
    frame, _ = cluster.read_sessions(tmp_path)
    with pytest.raises(ju.JourneyDataError) as error:
        cluster.preprocess(frame).compute()
    message = str(error.value)
    assert "column 'subscription_type'" in message and "more than one plan" in message
    assert "a.csv line 2 (plan 'Annual')" in message and "b.csv line 3 (plan 'Monthly')" in message


def test_a_bad_part_among_good_ones_stops_with_its_name_and_line(client, generated, tmp_path):
    sessions, _ = generated
    folder = tmp_path / "parts"
    _split(sessions, folder, ["csv"] * 6, seed=1)
    bad = folder / "part-004.csv"
    lines = bad.read_text().splitlines()
    lines[7] = lines[7].replace(lines[7].split(",")[0], "x12", 1)
    bad.write_text("\n".join(lines) + "\n")
    # Worded as load_sessions words it for the folder: the folder, then 'part:line'.
    with pytest.raises(ju.JourneyDataError) as expected:
        ju.load_sessions(folder)
    frame, _ = cluster.read_sessions(folder)
    with pytest.raises(ju.JourneyDataError) as error:
        cluster.preprocess(frame).persist().compute()
    assert str(error.value) == str(expected.value)
    assert str(error.value).startswith(f"{folder}, column 'user_id'") and "(line part-004.csv:8)" in str(error.value)
    # prepare: nothing is written as if finished, and an earlier output stays as it was.
    good = tmp_path / "good"
    _split(sessions.head(500), good, ["csv", "csv"])
    output = tmp_path / "out"
    cluster.prepare(good, output)
    before = (output / cluster.MANIFEST).read_text()
    with pytest.raises(ju.JourneyDataError, match="part-004.csv"):
        cluster.prepare(folder, output)
    assert (output / cluster.MANIFEST).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good", "out", "parts"]
    with pytest.raises(ju.JourneyDataError, match="part-004.csv"):
        cluster.prepare(folder, tmp_path / "new")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("damage", ["no plan", "two plans", "conflict", "ids"])
def test_a_bad_row_in_a_part_is_named_as_load_sessions_names_it_in_the_folder(client, tmp_path, damage):
    header = "user_id,session_id,subscription_type,user_journey\n"
    rows = {"no plan": "5,1,,A\n5,2, ,B\n", "two plans": "5,1,Annual,A\n5,2,Monthly,B\n",
            "conflict": "5,1,Annual,A\n5,1,Annual,B\n", "ids": "5,1,Annual,A\n-5,2,Annual,B\nx,3,Annual,C\n"}
    (tmp_path / "a.csv").write_text(header + "1,1,Annual,A\n")
    (tmp_path / "b.csv").write_text(header + "2,1,Annual,A\n" + rows[damage])
    pd.DataFrame({"user_id": [3], "session_id": [1], "subscription_type": ["Annual"],
                  "user_journey": ["A"]}).to_parquet(tmp_path / "c.parquet", index=False)
    with pytest.raises(ju.JourneyDataError) as expected:
        ju.load_sessions(tmp_path)
    frame, _ = cluster.read_sessions(tmp_path)
    with pytest.raises(ju.JourneyDataError) as error:
        frame.compute()
    assert str(error.value) == str(expected.value)


def test_settings_and_arguments_are_checked_like_pandas(client, generated):
    sessions, folder = generated
    frame, _ = cluster.read_sessions(folder)
    journeys = ju.preprocess(sessions)
    journeys_dask = cluster.preprocess(frame).persist()
    for bad in [{"sessions": 0}, {"count_from": "middle"}, {"pages_to_remove": [3]}]:
        with pytest.raises((ValueError, TypeError)) as expected:
            ju.preprocess(sessions, **bad)
        with pytest.raises(type(expected.value)) as got:
            cluster.preprocess(frame, **bad)
        assert str(got.value) == str(expected.value)
    for plan in ["Weekly", ["Annual", "Weekly"], 3, []]:
        with pytest.raises((ValueError, TypeError)) as expected:
            ju.page_count(journeys, plan=plan)
        with pytest.raises(type(expected.value)) as got:
            cluster.page_count(journeys_dask, plan=plan)
        assert str(got.value) == str(expected.value)
    with pytest.raises(TypeError, match="expected a Dask DataFrame"):
        cluster.page_count(journeys)
    with pytest.raises(ValueError, match="column 'pages' not found"):
        cluster.page_count(journeys_dask, target_column="pages")


def test_plan_named_all(client, tmp_path):
    sessions = pd.DataFrame({"user_id": [1, 2, 3], "session_id": [1, 1, 1],
                             "subscription_type": ["All", "Annual", "All"],
                             "user_journey": ["A-B", "B-C", "A"]})
    _split(sessions, tmp_path, ["csv", "csv"])
    frame, _ = cluster.read_sessions(tmp_path)
    journeys_dask = cluster.preprocess(frame).persist()
    journeys = ju.preprocess(sessions)
    _check_metrics(journeys_dask, journeys, plans=[None, ["All"], "Annual"])
    with pytest.raises(ValueError) as expected:
        ju.page_count(journeys, plan="All")
    with pytest.raises(ValueError) as got:
        cluster.page_count(journeys_dask, plan="All")
    assert str(got.value) == str(expected.value)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 5),
                               st.lists(st.sampled_from(["A", "B", "Log in", "C"]), min_size=1, max_size=4)),
                     min_size=1, max_size=30, unique_by=lambda r: (r[0], r[1])),
       parts=st.integers(1, 3), setting=st.sampled_from([("All", "last", []), (1, "first", ["Log in"]),
                                                          (2, "last", []), (3, "first", ["A", "C"])]),
       seed=st.integers(0, 100))
def test_property_small_inputs_equal_pandas(client, tmp_path_factory, rows, parts, setting, seed):
    sessions = pd.DataFrame({"user_id": [u for u, _, _ in rows], "session_id": [s for _, s, _ in rows],
                             "subscription_type": [["Annual", "Monthly"][u % 2] for u, _, _ in rows],
                             "user_journey": ["-".join(pages) for _, _, pages in rows]})
    folder = tmp_path_factory.mktemp("property")
    _split(sessions, folder / "parts", ["csv", "parquet", "csv"][:min(parts, len(rows))], seed=seed)
    frame, _ = cluster.read_sessions(folder / "parts")
    n, end, pages = setting
    journeys_dask = cluster.preprocess(frame, n, end, pages).persist()
    journeys = ju.preprocess(ju.load_sessions(_whole(sessions, folder)), sessions=n, count_from=end,
                             pages_to_remove=pages)
    pd.testing.assert_frame_equal(_by_user(journeys_dask.compute()), journeys)
    plan = "Monthly" if "Monthly" in set(journeys["subscription_type"]) else None
    for name, args, kwargs in [("page_count", (), {}), ("page_presence", (), {"normalize": True}),
                               ("page_transitions", (), {}), ("page_sequences", (2,), {}),
                               ("journey_lengths", (), {"plan": plan}), ("page_destinations", ("A",), {})]:
        _equal(getattr(cluster, name)(journeys_dask, *args, **kwargs), getattr(ju, name)(journeys, *args, **kwargs))


def _whole(sessions, folder):
    path = os.path.join(folder, "whole", "export.csv")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sessions.to_csv(path, index=False)
    return path


# --- the prepared folder (per-user data), against the pandas engine -------------------------

# Settings as the reports use them, each with the windows of sessions to keep.
PREPARED = [
    ("All", "last", [], (3,)),
    (3, "first", [], (2, 3)),
    (2, "last", ["Log in"], (3,)),
    (1, "first", ["Log in", "Other"], (2, 3)),
]


def _without_engine(manifest: dict) -> dict:
    """A manifest without what may differ between the engines."""
    return {k: v for k, v in manifest.items() if k not in ("seconds", "engine", "outputs")}


def _assert_same_prepared(got, expected, sessions, count_from, pages, windows):
    """Two prepared folders hold the same users, revisits and (but for the engine) manifest."""
    settings = {"sessions": sessions, "count_from": count_from, "pages_to_remove": pages, "windows": windows}
    dask_data, pandas_data = users.load_user_data(got, **settings), users.load_user_data(expected, **settings)
    pd.testing.assert_frame_equal(_by_user(dask_data.users), _by_user(pandas_data.users))
    pd.testing.assert_frame_equal(dask_data.revisit_counts, pandas_data.revisit_counts)
    stored = [json.loads((folder / users.MANIFEST).read_text()) for folder in (got, expected)]
    assert _without_engine(stored[0]) == _without_engine(stored[1])
    assert (stored[0]["engine"], stored[1]["engine"]) == ("dask", "pandas")
    return dask_data


def _pandas_prepare(source, output, **settings):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ju.JourneyDataWarning)
        return users.prepare(source, output, **settings)


@pytest.fixture(scope="module")
def damaged_reference(reference_path, tmp_path_factory):
    """The reference export as 4 CSV parts with repairs to make (see _damaged_reference_parts)."""
    return _damaged_reference_parts(reference_path, tmp_path_factory.mktemp("damaged") / "parts")


@pytest.mark.parametrize("sessions_per_user,count_from,pages,windows", PREPARED)
def test_prepare_equals_pandas_on_the_reference_in_parts(client, damaged_reference, tmp_path, sessions_per_user,
                                                         count_from, pages, windows):
    settings = {"sessions": sessions_per_user, "count_from": count_from, "pages_to_remove": pages,
                "windows": windows}
    manifest = cluster.prepare(damaged_reference, tmp_path / "dask", **settings)
    _pandas_prepare(damaged_reference, tmp_path / "pandas", **settings)
    data = _assert_same_prepared(tmp_path / "dask", tmp_path / "pandas", sessions_per_user, count_from, pages,
                                 windows)
    # The load report is load_sessions' on the folder; one users part per partition, each sorted.
    assert _report_fields(manifest["load_report"]) == _report_fields(_pandas_report(damaged_reference))
    assert manifest["outputs"]["users"] == [f"part-{i:05d}.parquet" for i in range(4)]
    for name in manifest["outputs"]["users"]:
        assert pd.read_parquet(tmp_path / "dask" / users.USERS / name)["user_id"].is_monotonic_increasing
    assert len(data.users) == manifest["users"] == manifest["load_report"]["users"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dask", "pandas"]


def test_prepare_equals_pandas_on_generated_parts_of_three_kinds(client, generated, tmp_path):
    _, folder = generated
    settings = {"sessions": 3, "count_from": "last", "pages_to_remove": ["Log in"], "windows": (2, 3)}
    manifest = cluster.prepare(folder, tmp_path / "dask", npartitions=7, **settings)
    _pandas_prepare(folder, tmp_path / "pandas", **settings)
    _assert_same_prepared(tmp_path / "dask", tmp_path / "pandas", 3, "last", ["Log in"], (2, 3))
    assert len(manifest["outputs"]["users"]) == 7


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 7),
                               st.lists(st.sampled_from(["A", "B", "Log in", "C"]), min_size=1, max_size=4)),
                     min_size=1, max_size=30, unique_by=lambda r: (r[0], r[1])),
       parts=st.integers(1, 3), setting=st.sampled_from(PREPARED), npartitions=st.sampled_from([None, 1, 4]),
       seed=st.integers(0, 100))
def test_property_prepare_equals_pandas_on_small_exports(client, tmp_path_factory, rows, parts, setting,
                                                         npartitions, seed):
    sessions = pd.DataFrame({"user_id": [u for u, _, _ in rows], "session_id": [s for _, s, _ in rows],
                             "subscription_type": [["Annual", "Monthly"][u % 2] for u, _, _ in rows],
                             "user_journey": ["-".join(pages) for _, _, pages in rows]})
    folder = tmp_path_factory.mktemp("prepared")
    _split(sessions, folder / "parts", ["csv", "parquet", "csv"][:min(parts, len(rows))], seed=seed)
    n, end, pages, windows = setting
    options = {"sessions": n, "count_from": end, "pages_to_remove": pages, "windows": windows}
    cluster.prepare(folder / "parts", folder / "dask", npartitions=npartitions, **options)
    _pandas_prepare(folder / "parts", folder / "pandas", **options)
    _assert_same_prepared(folder / "dask", folder / "pandas", n, end, pages, windows)


def test_prepare_of_synthetic_exports_in_parts(client, tmp_path):
    """Two small generated exports, with sessions repeated across parts."""
    for seed, n in [(5, 400), (6, 1500)]:
        sessions = ju.synthetic.generate_sessions(n, seed=seed)
        folder = tmp_path / f"parts-{seed}"
        _split(sessions, folder, ["csv", "csv.gz", "parquet"], seed=seed)
        sessions.iloc[::50][COLUMNS].to_csv(folder / "part-009.csv", index=False)
        cluster.prepare(folder, tmp_path / f"dask-{seed}", windows=[3, 2])
        _pandas_prepare(folder, tmp_path / f"pandas-{seed}", windows=[3, 2])
        data = _assert_same_prepared(tmp_path / f"dask-{seed}", tmp_path / f"pandas-{seed}", "All", "last", [],
                                     [2, 3])
        repeated = data.repairs().set_index("problem").loc["row repeated exactly (same user_id and session_id)"]
        assert repeated["rows"] == len(sessions.iloc[::50]) and repeated["lines"][0] == "part-009.csv:2"


def test_prepare_writes_a_prepared_folder(client, generated, tmp_path):
    sessions, folder = generated
    output = tmp_path / "users"
    manifest = cluster.prepare(folder, output, sessions=3, count_from="first", pages_to_remove=["Log in"],
                               windows=[2])
    assert json.loads((output / cluster.MANIFEST).read_text()) == json.loads(json.dumps(manifest))
    assert sorted(p.name for p in output.iterdir()) == sorted([cluster.MANIFEST, *cluster.OUTPUTS])
    data = users.load_user_data(output, sessions=3, count_from="first", pages_to_remove=["Log in"], windows=[2])
    expected = ju.preprocess(sessions, sessions=3, count_from="first", pages_to_remove=["Log in"])
    pd.testing.assert_frame_equal(_by_user(data.journeys()), expected)
    totals = sessions.groupby("user_id").size()
    assert _by_user(data.users)["sessions_total"].tolist() == totals.loc[expected["user_id"]].tolist()
    assert manifest["users"] == len(expected) and manifest["sessions"] == len(sessions)
    assert manifest["settings"] == {"sessions": 3, "count_from": "first", "pages_to_remove": ["Log in"],
                                    "windows": [2]}
    assert manifest["load_report"]["parts"] == [p.name for p in cluster.part_files(folder)]
    assert manifest["engine"] == "dask" and manifest["checksum"] == ju.io.file_checksum(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["users"]
    with pytest.raises(ValueError, match="windows"):
        cluster.prepare(folder, output, windows=[0])
    with pytest.raises(ValueError, match="count_from"):
        cluster.prepare(folder, output, count_from="middle")
    assert json.loads((output / cluster.MANIFEST).read_text())["settings"]["windows"] == [2]


def test_prepare_refuses_to_replace_a_folder_it_did_not_write(client, generated, tmp_path):
    _, folder = generated
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not a prepared folder"):
        cluster.prepare(folder, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_command_line_prepare(client, generated, tmp_path, capsys):
    sessions, folder = generated
    output = tmp_path / "out"
    code = cluster.main(["prepare", str(folder), "--output", str(output), "--scheduler", client.scheduler.address,
                         "--sessions", "2", "--count-from", "last", "--pages-to-remove", "Log in", "Other",
                         "--window", "1", "--window", "4"])
    assert code == 0
    assert f"{len(ju.preprocess(sessions)):,} users" in capsys.readouterr().out
    data = users.load_user_data(output, sessions=2, pages_to_remove=["Log in", "Other"], windows=[1, 4])
    assert data.manifest["settings"]["windows"] == [1, 4]
    pd.testing.assert_frame_equal(_by_user(data.journeys()),
                                  ju.preprocess(sessions, sessions=2, pages_to_remove=["Log in", "Other"]))
    code = cluster.main(["prepare", str(folder), "--output", str(tmp_path / "default"),
                         "--scheduler", client.scheduler.address])
    assert code == 0 and users.read_manifest(tmp_path / "default")["settings"]["windows"] == [3]
    code = cluster.main(["prepare", str(tmp_path / "nothing"), "--output", str(tmp_path / "x"),
                         "--scheduler", client.scheduler.address])
    assert code == 1 and "error: " in capsys.readouterr().err


# --- the reference export -------------------------------------------------------------


def test_reference_export_in_parts_equals_pandas(client, reference_path, reference_sessions, tmp_path):
    folder = tmp_path / "parts"
    _split(reference_sessions, folder, ["csv", "csv.gz", "parquet", "csv"], seed=7)
    frame, _ = cluster.read_sessions(folder)
    plans = sorted(set(reference_sessions["subscription_type"]))
    # Every plan once, over the settings: all sessions, first N, last N with a page removed.
    for (sessions_per_user, count_from, pages), selection in zip(
            SETTINGS[:3], [[None, plans[0]], [plans[1:2]], [plans[2:]]]):
        expected = ju.preprocess(reference_sessions, sessions=sessions_per_user, count_from=count_from,
                                 pages_to_remove=pages)
        journeys_dask = cluster.preprocess(frame, sessions_per_user, count_from, pages).persist()
        pd.testing.assert_frame_equal(_by_user(journeys_dask.compute()), expected)
        _check_metrics(journeys_dask, expected, plans=selection)


def test_pandas_metrics_dispatch_to_the_cluster(client, generated):
    """ju.page_count(<Dask frame>) and the others hand over to journey_utils.cluster."""
    sessions, folder = generated
    frame, _ = cluster.read_sessions(folder)
    journeys_dask = cluster.preprocess(frame).persist()
    got = ju.page_count(journeys_dask)
    journeys = ju.preprocess(sessions)
    _equal(got, ju.page_count(journeys))
    for name, args in [("page_presence", ()), ("page_destinations", ("Pricing",)), ("page_transitions", ()),
                       ("page_sequences", (3,)), ("journey_lengths", ()), ("journey_length", ())]:
        _equal(getattr(ju, name)(journeys_dask, *args, plan="Annual"),
               getattr(ju, name)(journeys, *args, plan="Annual"))
