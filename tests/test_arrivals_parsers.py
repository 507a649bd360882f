"""Parsers of the Home Office arrivals sources: SB_01 (ODS), the daily page, the link finder.

Real inputs: the 21 August 2026 time-series release and two daily-page snapshots in
tests/fixtures/arrivals. Broken spreadsheets are written here by hand as minimal ODS
files (zip + content.xml, see ``write_ods``; no extra dependency) from the real rows.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from forecast.errors import DataFormatError
from forecast.sources.arrivals import (
    find_ods_link,
    read_daily_page,
    read_sb01,
    release_date_from_name,
    validate_rows,
)

HERE = Path(__file__).parent / "fixtures" / "arrivals"
ODS = HERE / "21_August_2026_Small_boats_-_time_series.ods"
DAILY_0712 = HERE / "daily_page" / "2026-07-12.html"
DAILY_0822 = HERE / "daily_page" / "2026-08-22.html"
PUB_PAGE = HERE / "publication_page" / "constructed_publication_page.html"


# ---------------------------------------------------------------------------
# a minimal ODS writer (hand-built zip/XML) for broken variants
# ---------------------------------------------------------------------------

_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _cell(v) -> str:
    if v is None or v == "":
        return "<table:table-cell/>"
    if isinstance(v, dt.datetime | dt.date):
        iso = v.strftime("%Y-%m-%d")
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{iso}">'
            f"<text:p>{iso}</text:p></table:table-cell>"
        )
    if isinstance(v, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{v:g}">'
            f"<text:p>{v:g}</text:p></table:table-cell>"
        )
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p></table:table-cell>'


def write_ods(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write a minimal valid ODS with the given sheets (rows of Python values)."""
    body = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join(
            "<table:table-row>" + "".join(_cell(v) for v in row) + "</table:table-row>"
            for row in rows
        )
        + "</table:table>"
        for name, rows in sheets.items()
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS} office:version="1.2">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


@pytest.fixture(scope="module")
def real_rows() -> list[list]:
    """The real SB_01 cells of the 21 August 2026 release (header first)."""
    return (
        CalamineWorkbook.from_path(str(ODS))
        .get_sheet_by_name("SB_01")
        .to_python(skip_empty_area=False)
    )


def jan2023(real_rows) -> list[list]:
    """Header + the 31 real rows of January 2023 (written as sheet rows 1-32)."""
    rows = [r for r in real_rows[1:] if dt.datetime(2023, 1, 1) <= r[0] <= dt.datetime(2023, 1, 31)]
    return [list(real_rows[0])] + [list(r) for r in rows]


# ---------------------------------------------------------------------------
# SB_01 from the real release
# ---------------------------------------------------------------------------


def test_read_sb01_real_release_totals_match_published():
    df = read_sb01(ODS)
    by_year = df["people"].groupby(df.index.year).sum()
    assert by_year[2022] == 45_755
    assert by_year[2023] == 29_437
    assert by_year[2024] == 36_816
    assert df.index[0] == pd.Timestamp("2018-01-01")
    assert df.index[-1] == pd.Timestamp("2026-08-20")
    assert len(df) == 3154
    assert df.index.name == "date"
    assert list(df.columns) == ["people", "boats", "boats_uncontrolled", "notes"]
    assert str(df["people"].dtype) == "int64"
    assert str(df["boats_uncontrolled"].dtype) == "Int64"
    assert df.attrs["release_date"] == "2026-08-21"


def test_read_sb01_uncontrolled_na_before_2023_and_revised_notes():
    df = read_sb01(ODS)
    assert df.loc[:"2022-12-31", "boats_uncontrolled"].isna().all()
    assert df.loc["2023-01-01":, "boats_uncontrolled"].notna().all()
    revised = df.index[df["notes"] == "Revised"].strftime("%Y-%m-%d").tolist()
    assert revised == [
        "2023-02-08",
        "2023-02-13",
        "2023-04-04",
        "2023-04-05",
        "2023-06-10",
        "2023-06-11",
        "2023-06-22",
        "2024-06-07",
        "2025-09-06",
    ]
    expected = pd.Series({"people": 1101, "boats": 18, "boats_uncontrolled": 1})
    got = df.loc["2025-09-06", ["people", "boats", "boats_uncontrolled"]].astype(int)
    pd.testing.assert_series_equal(got, expected, check_names=False)


def test_sb01_daily_sums_equal_sb02_weekly_totals():
    """SB_02 (weeks ending Sunday) must equal the sum of SB_01's days in each week."""
    df = read_sb01(ODS)
    sb02 = CalamineWorkbook.from_path(str(ODS)).get_sheet_by_name("SB_02").to_python()
    weekly = df["people"].resample("W-SUN").sum()
    checked = 0
    for row in sb02[1:]:
        if isinstance(row[0], dt.datetime) and pd.Timestamp(row[0]) in weekly.index:
            assert weekly[pd.Timestamp(row[0])] == int(row[1]), row[0]
            checked += 1
    assert checked >= 440


# ---------------------------------------------------------------------------
# SB_01: broken files (hand-built ODS)
# ---------------------------------------------------------------------------


def test_hand_built_ods_round_trips(tmp_path, real_rows):
    path = write_ods(tmp_path / "ok.ods", {"Cover_sheet": [["x"]], "SB_01": jan2023(real_rows)})
    df = read_sb01(path)
    expected = read_sb01(ODS).loc["2023-01-01":"2023-01-31"]
    pd.testing.assert_frame_equal(df, expected, check_freq=False)


def test_missing_sheet(tmp_path, real_rows):
    path = write_ods(
        tmp_path / "no_sb01.ods", {"Cover_sheet": [["x"]], "SB_02": jan2023(real_rows)}
    )
    with pytest.raises(
        DataFormatError,
        match=r"sheet 'SB_01' not found in no_sb01\.ods \(sheets: Cover_sheet, SB_02\)",
    ):
        read_sb01(path)


def test_renamed_header(tmp_path, real_rows):
    rows = jan2023(real_rows)
    rows[0][1] = "People detected"
    path = write_ods(tmp_path / "renamed.ods", {"SB_01": rows})
    with pytest.raises(
        DataFormatError,
        match=r"renamed\.ods, sheet 'SB_01', row 1: column\(s\) \['Migrants arrived'\] not found in the header",
    ):
        read_sb01(path)


def test_reordered_headers_are_read_by_name(tmp_path, real_rows):
    rows = [[r[0], r[2], r[1], r[4], r[3]] for r in jan2023(real_rows)]
    path = write_ods(tmp_path / "reordered.ods", {"SB_01": rows})
    expected = read_sb01(ODS).loc["2023-01-01":"2023-01-31"]
    pd.testing.assert_frame_equal(read_sb01(path), expected, check_freq=False)


def test_text_in_numeric_cell(tmp_path, real_rows):
    rows = jan2023(real_rows)
    rows[5][1] = "about 40"
    path = write_ods(tmp_path / "text.ods", {"SB_01": rows})
    with pytest.raises(
        DataFormatError,
        match=r"text\.ods, sheet 'SB_01', row 6, column B \('Migrants arrived'\): 'about 40' is not a number",
    ):
        read_sb01(path)


def test_duplicated_date(tmp_path, real_rows):
    rows = jan2023(real_rows)
    rows.insert(11, list(rows[10]))
    path = write_ods(tmp_path / "dup.ods", {"SB_01": rows})
    with pytest.raises(
        DataFormatError, match=r"dup\.ods, sheet 'SB_01': date 2023-01-10 appears more than once"
    ):
        read_sb01(path)


def test_gap_in_dates(tmp_path, real_rows):
    rows = jan2023(real_rows)
    del rows[15]  # 2023-01-15
    path = write_ods(tmp_path / "gap.ods", {"SB_01": rows})
    with pytest.raises(
        DataFormatError, match=r"gap\.ods, sheet 'SB_01': 1 day\(s\) missing, first 2023-01-15"
    ):
        read_sb01(path)


def test_truncated_ods(tmp_path):
    path = tmp_path / "21_August_2026_Small_boats_-_time_series.ods"
    path.write_bytes(ODS.read_bytes()[:20_000])
    with pytest.raises(
        DataFormatError,
        match=r"21_August_2026_Small_boats_-_time_series\.ods is not a readable ODS.*truncated",
    ):
        read_sb01(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataFormatError, match="does not exist"):
        read_sb01(tmp_path / "nope.ods")


# ---------------------------------------------------------------------------
# validate_rows: the pure table check
# ---------------------------------------------------------------------------

HEADER = [
    "Date",
    "Migrants arrived",
    "Boats arrived",
    "Boats arrived - involved in uncontrolled landings",
    "Notes",
]


def test_validate_rows_skips_title_rows_and_footnotes():
    rows = [
        ["SB_01: Small boat arrivals", "", "", "", ""],
        HEADER,
        [dt.datetime(2023, 1, 1), 0.0, 0.0, 0.0, ""],
        [dt.datetime(2023, 1, 2), 45.0, 1.0, "-", "Revised"],
        ["", "", "", "", ""],
        ["Source: Home Office", "", "", "", ""],
    ]
    df = validate_rows(rows, where="t.ods, sheet 'SB_01'")
    expected = pd.DataFrame(
        {
            "people": pd.array([0, 45], dtype="int64"),
            "boats": pd.array([0, 1], dtype="int64"),
            "boats_uncontrolled": pd.array([0, pd.NA], dtype="Int64"),
            "notes": pd.array(["", "Revised"], dtype="str"),
        },
        index=pd.DatetimeIndex(["2023-01-01", "2023-01-02"], name="date").as_unit("ns"),
    )
    pd.testing.assert_frame_equal(df, expected)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (
            [dt.datetime(2023, 1, 2), 4.5, 1.0, 0.0, ""],
            r"row 3, column B \('Migrants arrived'\): 4\.5 is not a whole number",
        ),
        (
            [dt.datetime(2023, 1, 2), -3.0, 1.0, 0.0, ""],
            r"row 3, column B \('Migrants arrived'\): -3 is negative",
        ),
        (
            [dt.datetime(2023, 1, 2), 3.0, "-", 0.0, ""],
            r"row 3, column C \('Boats arrived'\): '-' is not a number",
        ),
        (
            ["2 Jan 2023", 3.0, 1.0, 0.0, ""],
            r"row 3, column A \('Date'\): '2 Jan 2023' is not a date",
        ),
        (
            [dt.datetime(2023, 1, 2, 6), 3.0, 1.0, 0.0, ""],
            r"row 3, column A \('Date'\): .* has a time of day",
        ),
    ],
)
def test_validate_rows_bad_cells(bad_row, message):
    rows = [HEADER, [dt.datetime(2023, 1, 1), 0.0, 0.0, 0.0, ""], bad_row]
    with pytest.raises(DataFormatError, match=r"^x\.ods, sheet 'SB_01', " + message):
        validate_rows(rows, where="x.ods, sheet 'SB_01'")


def test_validate_rows_no_header():
    with pytest.raises(DataFormatError, match=r"no header row with a 'Date' column"):
        validate_rows([["a", "b"], [1, 2]], where="x.ods, sheet 'SB_01'")


def test_validate_rows_dates_out_of_order():
    rows = [
        HEADER,
        [dt.datetime(2023, 1, 2), 0.0, 0.0, 0.0, ""],
        [dt.datetime(2023, 1, 1), 0.0, 0.0, 0.0, ""],
    ]
    with pytest.raises(
        DataFormatError, match=r"dates are not in order \(2023-01-02 is followed by 2023-01-01\)"
    ):
        validate_rows(rows, where="x.ods")


# ---------------------------------------------------------------------------
# the daily page
# ---------------------------------------------------------------------------


def test_read_daily_page_real_snapshot():
    df = read_daily_page(DAILY_0822.read_text(encoding="utf-8"), "2026-08-22.html")
    expected = pd.DataFrame(
        {
            "people": pd.array([82, 0, 250, 0, 0, 0, 0], dtype="int64"),
            "boats": pd.array([1, 0, 3, 0, 0, 0, 0], dtype="int64"),
            "boats_uncontrolled": pd.array([0] * 7, dtype="Int64"),
            "notes": pd.array([""] * 7, dtype="str"),
        },
        index=pd.DatetimeIndex(
            pd.date_range("2026-08-15", "2026-08-21").to_numpy(), name="date"
        ).as_unit("ns"),
    )
    pd.testing.assert_frame_equal(df, expected)
    # The days it shares with the spreadsheet agree.
    sb01 = read_sb01(ODS)
    pd.testing.assert_frame_equal(df.loc[:"2026-08-20"], sb01.loc["2026-08-15":], check_freq=False)


def test_daily_page_value_later_revised_in_spreadsheet():
    """10 July 2026: 225 on the 12 July page, 255 in the 21 August release."""
    page = read_daily_page(DAILY_0712.read_text(encoding="utf-8"), "2026-07-12.html")
    assert page.loc["2026-07-10", "people"] == 225
    assert read_sb01(ODS).loc["2026-07-10", "people"] == 255


OLDER_LAYOUT = """<html><body><h1>Small boat activity in the English Channel</h1>
<table><thead><tr><th>Date</th><th>Migrants detected</th><th>Boats detected</th></tr></thead>
<tbody><tr><td>1 June 2022</td><td>0</td><td>0</td></tr>
<tr><td>2 June 2022</td><td>102</td><td>4</td></tr></tbody></table></body></html>"""


def test_daily_page_older_layout_rejected():
    # Constructed: a three-column layout without the 2026 headers.
    with pytest.raises(
        DataFormatError,
        match=r"old\.html: unknown layout, no table has the expected header .*"
        r"column\(s\) \['Migrants arrived', 'Boats arrived', 'Boats involved in uncontrolled landings', 'Notes'\] not found",
    ):
        read_daily_page(OLDER_LAYOUT, "old.html")


def test_daily_page_without_table():
    with pytest.raises(DataFormatError, match=r"p\.html: no table found; expected the daily table"):
        read_daily_page("<html><body><p>Page moved</p></body></html>", "p.html")


def test_daily_page_bad_date_and_bad_count():
    html = DAILY_0822.read_text(encoding="utf-8")
    with pytest.raises(
        DataFormatError,
        match=r"d\.html, table 1, row 2, column 'Date': '15 Augst 2026' is not a date",
    ):
        read_daily_page(html.replace("15 August 2026", "15 Augst 2026"), "d.html")
    bad = html.replace("<td>82</td>", "<td>eighty</td>")
    assert bad != html
    with pytest.raises(
        DataFormatError, match=r"row 2, column 'Migrants arrived': 'eighty' is not a number"
    ):
        read_daily_page(bad, "d.html")


def test_daily_page_accepts_thousands_separator_and_weekday():
    html = DAILY_0822.read_text(encoding="utf-8")
    html = html.replace("15 August 2026", "Saturday 15 August 2026")
    html = html.replace("<td>82</td>", "<td>1,082</td>")
    df = read_daily_page(html, "d.html")
    assert df.loc["2026-08-15", "people"] == 1082


# ---------------------------------------------------------------------------
# the publication page
# ---------------------------------------------------------------------------


def test_find_ods_link_in_constructed_page():
    url = find_ods_link(
        PUB_PAGE.read_text(encoding="utf-8"), "https://www.gov.uk/government/publications/x"
    )
    assert url == (
        "https://assets.publishing.service.gov.uk/media/66c5f0a1b2c3d4e5f6a7b8c9/"
        "21_August_2026_Small_boats_-_time_series.ods"
    )


def test_find_ods_link_prefers_latest_release_and_v2():
    html = """
    <a href="/media/a/14_August_2026_Small_boats_-_time_series.ods">old</a>
    <a href="/media/b/21_August_2026_Small_boats_-_time_series.ods">new</a>
    <a href="/media/c/21_August_2026_Small_boats_-_time_series_v2.ods">new v2</a>
    """
    assert (
        find_ods_link(html, "http://h/p")
        == "http://h/media/c/21_August_2026_Small_boats_-_time_series_v2.ods"
    )


def test_find_ods_link_none():
    html = '<a href="/media/x/Small_boats_user_guide.ods">guide</a>'
    with pytest.raises(
        DataFormatError,
        match=r"no link to the time-series spreadsheet .* on http://h/p; ODS links seen: \['/media/x/Small_boats_user_guide\.ods'\]",
    ):
        find_ods_link(html, "http://h/p")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("21_August_2026_Small_boats_-_time_series.ods", dt.date(2026, 8, 21)),
        ("20_February_2026_Small_boats_-_time_series_v2.ods", dt.date(2026, 2, 20)),
        ("5_Sept_2026_Small_boats_-_time_series.ods", None),
        ("time_series.ods", None),
    ],
)
def test_release_date_from_name(name, expected):
    assert release_date_from_name(name) == expected
