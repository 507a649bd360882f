"""The arrivals store commits as one unit, verifies its checksum and serialises writers."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from forecast import fileio
from forecast.errors import ConfigError, DataFormatError
from forecast.sources.arrivals import read_sb01
from forecast.stores.arrivals import ArrivalsStore, load_arrivals

ODS = (
    Path(__file__).parent / "fixtures" / "arrivals" / "21_August_2026_Small_boats_-_time_series.ods"
)


@pytest.fixture(scope="module")
def sb01() -> pd.DataFrame:
    return read_sb01(ODS)


def _revised(df: pd.DataFrame, day: str, people: int) -> pd.DataFrame:
    out = df.copy()
    out.loc[pd.Timestamp(day), "people"] = people
    return out


def test_update_writes_a_version_and_switches_the_pointer(data_home, sb01):
    store = ArrivalsStore()
    store.update([(sb01.loc[:"2018-03-31"], "r1")], "t1", {"release_date": "2018-04-01"})
    store.update([(_revised(sb01.loc[:"2018-04-30"], "2018-03-01", 7), "r2")], "t2", {})
    assert (store.root / "CURRENT").read_text().strip() == "000002"
    assert store.path == store.root / "versions" / "000002" / "arrivals.csv"
    expected = {"000001", "000002"}
    assert {p.name for p in (store.root / "versions").iterdir()} == expected
    meta = store.read_meta()
    assert meta["end_date"] == "2018-04-30" and len(meta["sha256"]) == 64
    log = store.read_revisions()
    assert list(log["date"]) == ["2018-03-01"] and list(log["new"]) == ["7"]
    # no temporary files are left anywhere in the store
    assert not [p for p in store.root.rglob("*") if p.name.endswith(".tmp") or ".new-" in p.name]


def test_old_versions_are_pruned(data_home, sb01):
    store = ArrivalsStore()
    for k, end in enumerate(["2018-01-31", "2018-02-28", "2018-03-31", "2018-04-30"]):
        store.update([(sb01.loc[:end], f"r{k}")], f"t{k}", {})
    assert sorted(p.name for p in (store.root / "versions").iterdir()) == ["000003", "000004"]
    assert store.read().index[-1] == pd.Timestamp("2018-04-30")


def test_kill_between_version_and_pointer_leaves_the_old_version(data_home, sb01, monkeypatch):
    """A writer dying after its version folder is complete but before the pointer moves."""
    store = ArrivalsStore()
    store.update([(sb01.loc[:"2018-03-31"], "r1")], "t1", {})
    before = store.read()

    def die(*args, **kwargs):
        raise KeyboardInterrupt  # stands in for kill -9 at this point

    with monkeypatch.context() as m, pytest.raises(KeyboardInterrupt):
        m.setattr(fileio, "write_text", die)
        store.update([(_revised(sb01.loc[:"2018-04-30"], "2018-03-01", 9), "r2")], "t2", {})
    after = ArrivalsStore()
    pd.testing.assert_frame_equal(after.read(), before)
    assert after.read_revisions().empty  # the log never runs ahead of the data
    assert after.read_meta()["end_date"] == "2018-03-31"
    # the next update tidies the orphaned version and carries on
    after.update([(sb01.loc[:"2018-04-30"], "r3")], "t3", {})
    assert after.read().index[-1] == pd.Timestamp("2018-04-30")


def test_truncated_store_is_refused_by_its_checksum(data_home, sb01):
    store = ArrivalsStore()
    store.update([(sb01.loc[:"2018-03-31"], "r1")], "t1", {})
    lines = store.path.read_text().splitlines(keepends=True)
    store.path.write_text("".join(lines[:-10]))  # still a valid, shorter table
    with pytest.raises(DataFormatError, match=r"does not match the sha256 recorded"):
        load_arrivals()


def test_metadata_that_is_not_an_object_is_reported(data_home, sb01):
    store = ArrivalsStore()
    store.update([(sb01.loc[:"2018-01-31"], "r1")], "t1", {})
    store.meta_path.write_text("[]")
    with pytest.raises(DataFormatError, match=r"arrivals_meta\.json holds a list, not an object"):
        store.read_meta()


def test_invalid_utf8_metadata_is_reported(data_home, sb01):
    store = ArrivalsStore()
    store.update([(sb01.loc[:"2018-01-31"], "r1")], "t1", {})
    store.meta_path.write_bytes(b"\xff\xfe{")
    with pytest.raises(DataFormatError, match=r"arrivals_meta\.json is not valid JSON"):
        store.read_meta()


def test_bad_pointer_is_reported(data_home, sb01):
    store = ArrivalsStore()
    store.update([(sb01.loc[:"2018-01-31"], "r1")], "t1", {})
    (store.root / "CURRENT").write_text("../../etc\n")
    with pytest.raises(DataFormatError, match=r"pointer .*CURRENT names '\.\./\.\./etc'"):
        store.read()


def test_store_from_before_versions_is_read_then_migrated(data_home, sb01):
    store = ArrivalsStore()
    store.update([(sb01.loc[:"2018-01-31"], "r1")], "t1", {"release_date": "x"})
    legacy = store.root
    for name in ("arrivals.csv", "arrivals_meta.json"):
        shutil.copy(store.current_dir() / name, legacy / name)
    shutil.rmtree(legacy / "versions")
    (legacy / "CURRENT").unlink()
    meta = json.loads((legacy / "arrivals_meta.json").read_text())
    assert ArrivalsStore().read().index[-1] == pd.Timestamp("2018-01-31")
    ArrivalsStore().update([(sb01.loc[:"2018-02-28"], "r2")], "t2", meta)
    assert not (legacy / "arrivals.csv").exists()
    assert ArrivalsStore().read().index[-1] == pd.Timestamp("2018-02-28")


def _writer(root: str, end: str, people: int, n: int) -> None:
    df = read_sb01(ODS).loc[:end]
    store = ArrivalsStore(root)
    for k in range(n):
        store.update([(_revised(df, "2018-01-05", people + k), f"w{people}")], f"t{people}{k}", {})


def test_concurrent_writers_take_turns(tmp_path):
    """Two processes updating one store: every revision logged is one the data went through."""
    root = tmp_path / "store"
    ctx = mp.get_context("fork")
    procs = [
        ctx.Process(target=_writer, args=(str(root), "2018-02-28", base, 4)) for base in (100, 200)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = ArrivalsStore(root)
    log = store.read_revisions()
    # a chain: each logged change starts from the value the previous one left
    assert len(log) == 7
    assert list(log["old"].iloc[1:]) == list(log["new"].iloc[:-1])
    assert int(store.read().loc["2018-01-05", "people"]) == int(log["new"].iloc[-1])
    assert not log.duplicated().any()
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp") or ".new-" in p.name]


def test_fileio_refuses_special_targets(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"pipe is a special file"):
        fileio.write_text(fifo, "x")
    with pytest.raises(ConfigError, match=r"is a folder"):
        fileio.write_text(tmp_path, "x")
    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match=r"a parent of this path is a file|is a file"):
        fileio.write_text(tmp_path / "f" / "x.html", "x")


def test_fileio_does_not_follow_a_planted_temp_symlink(tmp_path):
    target = tmp_path / "victim.txt"
    target.write_text("keep")
    # the old code wrote to <name>.tmp: plant a symlink there
    (tmp_path / "out.json.tmp").symlink_to(target)
    (tmp_path / "out.tmp").symlink_to(target)
    fileio.write_text(tmp_path / "out.json", "new")
    assert target.read_text() == "keep"
    assert (tmp_path / "out.json").read_text() == "new"


def test_truncated_snapshot_is_refused(tmp_path, monkeypatch):
    from forecast import config

    snap = tmp_path / "snapshot"
    shutil.copytree(config.snapshot_dir(), snap, ignore=shutil.ignore_patterns("knmi", "tides"))
    monkeypatch.setattr(config, "snapshot_dir", lambda: snap)
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "data"))
    assert load_arrivals().index[-1] == pd.Timestamp("2026-08-20")  # intact: accepted
    lines = (snap / "arrivals.csv").read_text().splitlines(keepends=True)
    (snap / "arrivals.csv").write_text("".join(lines[:-30]))  # valid but older
    with pytest.raises(
        DataFormatError, match=r"snapshot .*arrivals\.csv does not match the sha256"
    ):
        load_arrivals()


def test_a_failed_write_is_a_clear_error_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "page.html"
    target.write_text("old")

    def disk_full(tmp):
        raise OSError(28, "No space left on device")

    with pytest.raises(
        ConfigError,
        match=r"page\.html: cannot write \(No space left on device\); the previous file",
    ):
        fileio.write_with(target, disk_full, "--out")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]
