"""The arrivals store: load_arrivals, merging with a revision log, atomic writes, summaries."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest

from forecast.errors import ConfigError, DataFormatError
from forecast.sources.arrivals import read_daily_page, read_sb01
from forecast.stores import arrivals as arrivals_store
from forecast.stores.arrivals import (
    ArrivalsStore,
    coverage,
    load_arrivals,
    merge_arrivals,
    totals,
    update_arrivals,
)

HERE = Path(__file__).parent / "fixtures" / "arrivals"
ODS = HERE / "21_August_2026_Small_boats_-_time_series.ods"
DAILY_0712 = HERE / "daily_page" / "2026-07-12.html"
DAILY_0822 = HERE / "daily_page" / "2026-08-22.html"
NOW = dt.datetime(2026, 8, 22, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sb01() -> pd.DataFrame:
    return read_sb01(ODS)


def _snapshot_files(store: ArrivalsStore) -> dict[str, bytes]:
    return (
        {
            str(p.relative_to(store.root)): p.read_bytes()
            for p in sorted(store.root.rglob("*"))
            if p.is_file()
        }
        if store.root.exists()
        else {}
    )


# ---------------------------------------------------------------------------
# load_arrivals
# ---------------------------------------------------------------------------


def test_load_arrivals_from_snapshot(data_home, sb01):
    df = load_arrivals(now_utc=NOW)
    assert df.attrs["origin"] == "snapshot"
    assert df.attrs["end_date"] == "2026-08-20"
    assert df.attrs["release_date"] == "2026-08-21"
    assert df.attrs["retrieved_utc"] is None
    assert df.attrs["age_days"] == 2  # 20 Aug -> 22 Aug (UK date)
    pd.testing.assert_frame_equal(
        df, sb01, check_freq=False, check_flags=False, check_like=False, obj="snapshot"
    )


def test_snapshot_readme_hashes_match_files():
    snap = Path(__file__).parent.parent / "data" / "snapshot"
    readme = (snap / "README.md").read_text(encoding="utf-8")
    assert hashlib.sha256((snap / "arrivals.csv").read_bytes()).hexdigest() in readme
    assert hashlib.sha256(ODS.read_bytes()).hexdigest() in readme
    assert "| rows (days) | 3154 |" in readme


def test_age_uses_uk_calendar_day(data_home):
    # 23:30 UTC on 21 Aug 2026 is 00:30 BST on 22 Aug: UK date is the 22nd.
    late = dt.datetime(2026, 8, 21, 23, 30, tzinfo=dt.UTC)
    assert load_arrivals(now_utc=late).attrs["age_days"] == 2
    # In winter (GMT) 23:30 UTC is still the same UK day.
    winter = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)
    assert (
        load_arrivals(now_utc=winter).attrs["age_days"]
        == (dt.date(2026, 12, 1) - dt.date(2026, 8, 20)).days
    )


def test_load_arrivals_prefers_store(data_home, sb01):
    store = ArrivalsStore()
    store.update(
        [(sb01.loc[:"2026-08-10"], "test.ods")], "2026-08-11T00:00:00Z", {"source": "test release"}
    )
    df = load_arrivals(now_utc=NOW)
    assert df.attrs["origin"] == "store"
    assert df.attrs["source"] == "test release"
    assert df.attrs["end_date"] == "2026-08-10"
    assert df.attrs["retrieved_utc"] == "2026-08-11T00:00:00Z"
    assert df.attrs["age_days"] == 12


# ---------------------------------------------------------------------------
# merge_arrivals
# ---------------------------------------------------------------------------


def test_merge_logs_each_changed_value(sb01):
    old = sb01.loc["2026-07-01":"2026-07-11"].copy()
    old.loc["2026-07-10", "people"] = 225
    old.loc["2026-07-10", "notes"] = ""
    new = sb01.loc["2026-07-05":"2026-07-15"]
    merged, log = merge_arrivals(old, new, "r2.ods", "2026-08-22T09:30:00Z")
    expected_log = pd.DataFrame(
        [("2026-07-10", "people", "225", "255", "r2.ods", "2026-08-22T09:30:00Z")],
        columns=["date", "column", "old", "new", "source", "retrieved_utc"],
    )
    pd.testing.assert_frame_equal(log, expected_log)
    pd.testing.assert_frame_equal(merged, sb01.loc["2026-07-01":"2026-07-15"], check_freq=False)


def test_merge_keeps_days_the_new_release_lacks(sb01):
    old = sb01.loc["2026-08-01":"2026-08-20"]
    new = sb01.loc["2026-08-01":"2026-08-10"]
    merged, log = merge_arrivals(old, new, "older.ods", "t")
    pd.testing.assert_frame_equal(merged, old, check_freq=False)  # 11-20 Aug kept as they were
    assert list(log.columns) == ["date", "column", "old", "new", "source", "retrieved_utc"]
    assert len(log) == 0


def test_merge_refuses_gap(sb01):
    with pytest.raises(
        DataFormatError,
        match=r"arrivals merged from late\.html: 4 day\(s\) missing, first 2026-08-11",
    ):
        merge_arrivals(sb01.loc[:"2026-08-10"], sb01.loc["2026-08-15":], "late.html", "t")


def test_merge_logs_uncontrolled_becoming_known(sb01):
    old = sb01.loc["2023-01-01":"2023-01-03"].copy()
    old["boats_uncontrolled"] = pd.array([pd.NA] * 3, dtype="Int64")
    _, log = merge_arrivals(old, sb01.loc["2023-01-01":"2023-01-03"], "s", "t")
    assert log[["date", "column", "old", "new"]].values.tolist() == [
        ["2023-01-01", "boats_uncontrolled", "", "0"],
        ["2023-01-02", "boats_uncontrolled", "", "0"],
        ["2023-01-03", "boats_uncontrolled", "", "0"],
    ]


# ---------------------------------------------------------------------------
# update from local files
# ---------------------------------------------------------------------------


def test_daily_page_revision_lands_in_log(data_home, sb01):
    """12 July page said 225 for 10 July; the 21 August release says 255."""
    store = ArrivalsStore()
    page = read_daily_page(DAILY_0712.read_text(encoding="utf-8"), "2026-07-12.html")
    store.update(
        [(sb01.loc[:"2026-07-04"], "older release"), (page, "2026-07-12.html")],
        "2026-07-12T08:00:00Z",
        {"source": "july"},
    )
    assert store.read().loc["2026-07-10", "people"] == 225
    report = update_arrivals(ods_path=ODS, daily_html_path=DAILY_0822, store=store, now_utc=NOW)
    log = store.read_revisions()
    assert log.values.tolist() == [
        ["2026-07-10", "people", "225", "255", str(ODS), "2026-08-22T09:30:00Z"],
    ]
    assert report.result.revised == 1
    assert report.daily_days == 1  # 21 August comes from the daily page
    df = store.read()
    assert df.index[-1] == pd.Timestamp("2026-08-21")
    assert df.loc["2026-07-10", "people"] == 255
    assert int(df.loc["2026", "people"].sum()) == 15_897  # 21 Aug had 0 arrivals


def test_revised_daily_page_between_snapshots(data_home, sb01):
    """A daily value revised on a later page (no spreadsheet in between) is logged."""
    store = ArrivalsStore()
    html = DAILY_0822.read_text(encoding="utf-8")
    first = read_daily_page(html, "page-a")
    store.update([(sb01.loc[:"2026-08-14"], "r"), (first, "page-a")], "2026-08-22T08:00:00Z", {})
    second = read_daily_page(html.replace("<td>250</td>", "<td>265</td>"), "page-b")
    store.update([(second, "page-b")], "2026-08-23T08:00:00Z", {})
    assert store.read_revisions().values.tolist() == [
        ["2026-08-17", "people", "250", "265", "page-b", "2026-08-23T08:00:00Z"]
    ]
    assert store.read().loc["2026-08-17", "people"] == 265


def test_update_twice_is_idempotent(data_home):
    store = ArrivalsStore()
    update_arrivals(ods_path=ODS, daily_html_path=DAILY_0822, store=store, now_utc=NOW)
    first = store.path.read_bytes()
    report = update_arrivals(ods_path=ODS, daily_html_path=DAILY_0822, store=store, now_utc=NOW)
    assert store.path.read_bytes() == first
    assert report.result.added == 0
    assert report.result.revised == 0
    assert not store.revisions_path.exists()


def test_bad_daily_page_leaves_store_unchanged(data_home, tmp_path):
    store = ArrivalsStore()
    update_arrivals(ods_path=ODS, daily=False, store=store, now_utc=NOW)
    before = _snapshot_files(store)
    bad = tmp_path / "bad.html"
    bad.write_text(DAILY_0822.read_text(encoding="utf-8").replace("<td>250</td>", "<td>n/a</td>"))
    with pytest.raises(
        DataFormatError, match=r"bad\.html, table 1, row 4, column 'Migrants arrived': 'n/a'"
    ):
        update_arrivals(ods_path=ODS, daily_html_path=bad, store=store, now_utc=NOW)
    assert _snapshot_files(store) == before


def test_failed_write_leaves_store_unchanged(data_home, sb01, monkeypatch):
    store = ArrivalsStore()
    store.update([(sb01.loc[:"2026-08-10"], "r1")], "t1", {})
    before = _snapshot_files(store)

    def broken(df, path):
        Path(path).write_text("date,people\n2026-01-01,1\n")  # a partial file

    monkeypatch.setattr(arrivals_store, "write_arrivals_csv", broken)
    with pytest.raises(DataFormatError, match=r"lacks column\(s\)"):
        store.update([(sb01, "r2")], "t2", {})
    assert _snapshot_files(store) == before  # no temp files left either


def test_older_release_refused(data_home):
    store = ArrivalsStore()
    update_arrivals(ods_path=ODS, daily=False, store=store, now_utc=NOW)
    store.meta_path.write_text('{"release_date": "2026-09-01"}')
    with pytest.raises(
        ConfigError, match=r"release 2026-08-21, older than the stored release 2026-09-01"
    ):
        update_arrivals(ods_path=ODS, daily=False, store=store, now_utc=NOW)


def test_daily_page_not_joining_is_skipped_with_note(data_home, tmp_path, sb01):
    store = ArrivalsStore()
    short = tmp_path / "1_August_2026_Small_boats_-_time_series.ods"
    # Simulate an older release by cutting the real one (hand-built ODS would also do).
    from tests.test_arrivals_parsers import write_ods

    rows = [
        [
            "Date",
            "Migrants arrived",
            "Boats arrived",
            "Boats arrived - involved in uncontrolled landings",
            "Notes",
        ]
    ] + [
        [d.to_pydatetime(), int(r.people), int(r.boats), int(r.boats_uncontrolled), r.notes]
        for d, r in sb01.loc["2026-07-01":"2026-07-31"].iterrows()
    ]
    write_ods(short, {"SB_01": rows})
    report = update_arrivals(ods_path=short, daily_html_path=DAILY_0822, store=store, now_utc=NOW)
    assert report.daily_days == 0
    assert report.notes == [
        "daily page starts 2026-08-15, more than a day after the spreadsheet ends "
        "(2026-07-31): its days were not merged"
    ]
    assert store.read().index[-1] == pd.Timestamp("2026-07-31")


# ---------------------------------------------------------------------------
# summaries
# ---------------------------------------------------------------------------


def test_totals_by_year_month_week(sb01):
    years = totals(sb01, "year").set_index("period")
    assert years.loc[["2022", "2023", "2024"], "people"].tolist() == [45_755, 29_437, 36_816]
    assert years.loc["2026", "days"] == 232
    assert pd.isna(years.loc["2022", "boats_uncontrolled"])
    assert years.loc["2025", "boats_uncontrolled"] == 1
    months = totals(sb01, "month").set_index("period")
    assert months.loc["2026-07", "people"] == int(sb01.loc["2026-07", "people"].sum())
    assert months.loc["2026-08", ["start", "end", "days"]].tolist() == [
        "2026-08-01",
        "2026-08-20",
        20,
    ]
    weeks = totals(sb01, "week").set_index("period")
    # ISO week 1 of 2021 starts Monday 4 Jan 2021; 1-3 Jan 2021 belong to 2020-W53.
    assert weeks.loc["2020-W53", ["start", "end", "days"]].tolist() == [
        "2020-12-28",
        "2021-01-03",
        7,
    ]
    assert weeks.loc["2026-W34", ["start", "end", "days", "people"]].tolist() == [
        "2026-08-17",
        "2026-08-20",
        4,
        250,
    ]
    assert int(weeks["people"].sum()) == int(sb01["people"].sum())


def test_totals_bad_breakdown(sb01):
    with pytest.raises(ConfigError, match=r"--by 'day' is not one of year, month, week"):
        totals(sb01, "day")


def test_coverage(sb01):
    info = coverage(sb01, now_utc=NOW)
    assert info["end_date"] == "2026-08-20"
    assert info["last_crossing_date"] == "2026-08-17"
    assert info["days_since_last_crossing"] == 3
    assert info["age_days"] == 2
    assert info["total_people"] == 208_507


def test_corrupt_store_is_reported_not_guessed(data_home, sb01):
    store = ArrivalsStore()
    store.update([(sb01.loc[:"2018-01-10"], "r")], "t", {})
    text = store.path.read_text().replace("2018-01-03,0,0", "2018-01-03,zero,0")
    store.path.write_text(text)
    with pytest.raises(
        DataFormatError,
        match=r"arrivals CSV .*store/versions/000001/arrivals\.csv, row 4, column 'people': 'zero' is not a whole number",
    ):
        load_arrivals()


def test_corrupt_revision_log_is_reported(data_home, sb01):
    store = ArrivalsStore()
    store.root.mkdir(parents=True)
    store.revisions_path.write_text('date,column\n"2018-01-01,people\n')  # unclosed quote
    with pytest.raises(
        DataFormatError, match=r"cannot read the revision log .*arrivals_revisions\.csv"
    ):
        store.read_revisions()


def test_missing_saved_daily_page_is_reported(data_home, tmp_path):
    store = ArrivalsStore()
    missing = tmp_path / "nope.html"
    with pytest.raises(
        DataFormatError,
        match=r"cannot read the saved last-7-days page .*nope\.html.*drop --daily-html",
    ):
        update_arrivals(ods_path=ODS, daily_html_path=missing, store=store, now_utc=NOW)
    assert not store.exists()
