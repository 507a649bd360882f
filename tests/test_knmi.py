"""KNMI daily station data: parser on the real bundled file, crafted bad files, client."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError, DataFormatError, SourceError
from forecast.sources import knmi
from tests.httpserver import Reply

FIXTURES = Path(__file__).parent / "fixtures" / "knmi"
SNAP = Path(__file__).resolve().parents[1] / "data" / "snapshot" / "knmi"
KN = 1.943844
LABEL_310 = "310 Vlissingen (observed, coastal, 162 km from Dover)"
LABEL_340 = "340 Woensdrecht (observed, inland, 213 km from Dover)"
TAIL = (
    ": observed regional proxy, not Strait weather; perfect prognosis (the real weather of "
    "each day) when used for past days"
)


@pytest.fixture(scope="module")
def bundled():
    """Station 340 Woensdrecht alone (the file bundled since the start)."""
    return knmi.load_knmi(SNAP / "etmgeg_340.txt")


@pytest.fixture(scope="module")
def coast():
    return knmi.read_knmi(SNAP / "etmgeg_310.txt")


@pytest.fixture(scope="module")
def pair():
    return knmi.load_knmi()


def test_bundled_shape_and_label(bundled):
    assert len(bundled) == 3103
    assert bundled.index[0] == pd.Timestamp("2017-01-01")
    assert bundled.index[-1] == pd.Timestamp("2025-06-30")
    assert bundled.index.name == "date"
    assert (bundled.index == pd.date_range("2017-01-01", "2025-06-30", freq="D")).all()
    assert list(bundled.columns) == list(knmi.COLUMNS)
    assert bundled.attrs["source"] == "KNMI station " + LABEL_340 + TAIL
    assert bundled.attrs["station"] == 340
    assert bundled.attrs["stations"] == [340]
    assert bundled.attrs["missing_days"] == {340: 0}
    assert bundled.attrs["sha256"] == {
        "etmgeg_340.txt": "80dfeb78ad0b21bddae457da0a14591f8d252c58108d6dd55449d0dbf218ca22"
    }


def test_coastal_file_parsed_and_labelled_from_its_lines(coast):
    # 310,20171001,  183,   92,   94,  120,   11,   60,    1,  160,   11,  152, ... DR 0,
    # RH -1, ... PG 10155, ... VVN 60, ... NG 8
    assert len(coast) == 2830
    assert coast.index[0] == pd.Timestamp("2017-10-01")
    assert coast.index[-1] == pd.Timestamp("2025-06-30")
    assert coast.attrs["station"] == 310
    assert coast.attrs["station_name"] == "Vlissingen"
    assert coast.attrs["station_kind"] == "coastal"
    assert coast.attrs["missing_days"] == 0
    assert coast.attrs["source"] == "KNMI station " + LABEL_310 + TAIL
    assert "340" not in coast.attrs["source"] and "Woensdrecht" not in coast.attrs["source"]
    first = coast.loc["2017-10-01"]
    expected = {
        "wind_speed_10m_mean": 9.4 * KN,
        "wind_speed_10m_max": 12.0 * KN,
        "wind_speed_10m_min": 6.0 * KN,
        "wind_gusts_10m_max": 16.0 * KN,
        "wind_direction_10m_mean": 183.0,
        "precipitation_sum": 0.0,  # -1: < 0.05 mm
        "precipitation_duration": 0.0,
        "temperature_2m_mean": 15.2,
        "pressure_msl_mean": 1015.5,
        "visibility_min": 10500.0,  # class 60: 10-11 km
        "cloud_cover_mean": 8.0,
        "wind_speed_10m_max_hour_utc": 10.0,  # slot 11 = 10-11 UT
        "wind_speed_10m_min_hour_utc": 0.0,  # slot 1 = 00-01 UT
        "wind_gusts_10m_max_hour_utc": 10.0,
    }
    for name, value in expected.items():
        assert first[name] == pytest.approx(value, abs=1e-9), name
    # 310,20250630,   73, ...,   38,   50,   24,   30,    9,   60,    6,  247, ... PG 10187,
    # VVN 63, NG 1
    last = coast.loc["2025-06-30"]
    assert last["wind_speed_10m_mean"] == pytest.approx(3.8 * KN)
    assert last["wind_speed_10m_max_hour_utc"] == 23.0  # slot 24 = 23-24 UT
    assert last["wind_speed_10m_min_hour_utc"] == 8.0
    assert last["pressure_msl_mean"] == pytest.approx(1018.7)
    assert last["visibility_min"] == 13500.0
    # blanks KNMI has no value for: NG on 2022-02-21, VVN on 2022-10-16
    assert math.isnan(coast.loc["2022-02-21", "cloud_cover_mean"])
    assert math.isnan(coast.loc["2022-10-16", "visibility_min"])
    assert coast.loc["2022-10-16", "wind_speed_10m_mean"] == pytest.approx(6.0 * KN)


def test_bundled_pair_joined_coast_primary(pair, bundled, coast):
    assert pair.attrs["stations"] == [310, 340]
    assert pair.attrs["station"] == 310 and pair.attrs["station_kind"] == "coastal"
    assert pair.attrs["station_labels"] == [LABEL_310, LABEL_340]
    assert pair.attrs["source"] == (
        "KNMI stations 310 Vlissingen (observed, coastal, 162 km from Dover; primary) and "
        + LABEL_340
        + TAIL
    )
    assert pair.attrs["source"] == knmi.BUNDLED_SOURCE
    assert pair.attrs["sha256"] == {
        "etmgeg_310.txt": "68030635eb15e5a5f8413a8b1881f8a2ac12bb09b601d9837e451d428694c2af",
        "etmgeg_340.txt": "80dfeb78ad0b21bddae457da0a14591f8d252c58108d6dd55449d0dbf218ca22",
    }
    # union of days: 340 from 2017-01-01, 310 from 2017-10-01
    expected_index = pd.date_range("2017-01-01", "2025-06-30", freq="D", name="date")
    pd.testing.assert_index_equal(pair.index, expected_index)
    expected_columns = list(knmi.COLUMNS) + ["stn340_" + c for c in knmi.COLUMNS]
    assert list(pair.columns) == expected_columns
    assert pair.loc[:"2017-09-30", list(knmi.COLUMNS)].isna().all().all()
    assert pair.loc["2017-10-01", "wind_speed_10m_mean"] == pytest.approx(9.4 * KN)
    pd.testing.assert_series_equal(
        pair.loc["2017-10-01":, "wind_gusts_10m_max"], coast["wind_gusts_10m_max"]
    )
    inland = pair["stn340_wind_speed_10m_mean"].rename("wind_speed_10m_mean")
    pd.testing.assert_series_equal(inland, bundled["wind_speed_10m_mean"])
    assert pair.attrs["units"]["stn340_pressure_msl_mean"] == "hPa"


def test_station_order_follows_the_paths(pair):
    inland_first = knmi.load_knmi([SNAP / "etmgeg_340.txt", SNAP / "etmgeg_310.txt"])
    assert inland_first.attrs["stations"] == [340, 310]
    assert inland_first.attrs["source"].startswith(
        "KNMI stations 340 Woensdrecht (observed, inland, 213 km from Dover; primary) and 310"
    )
    pd.testing.assert_series_equal(
        inland_first["stn310_wind_speed_10m_mean"].rename("x"),
        pair["wind_speed_10m_mean"].rename("x"),
    )
    with pytest.raises(ConfigError, match=r"station 340 is given twice .*one file per station"):
        knmi.load_knmi([SNAP / "etmgeg_340.txt", SNAP / "etmgeg_340.txt"])


def test_bundled_values_first_day(bundled):
    # 340,20170101,  211,   32,   33,   40,   10,   30,    1,   80,   10,   -6, ...
    # PG 10196, VVN 3, NG 8, RH blank
    row = bundled.loc["2017-01-01"]
    expected = {
        "wind_speed_10m_mean": 3.3 * KN,
        "wind_speed_10m_max": 4.0 * KN,
        "wind_speed_10m_min": 3.0 * KN,
        "wind_gusts_10m_max": 8.0 * KN,
        "wind_direction_10m_mean": 211.0,
        "temperature_2m_mean": -0.6,
        "pressure_msl_mean": 1019.6,
        "visibility_min": 350.0,  # class 3: 300-400 m, middle
        "cloud_cover_mean": 8.0,
        "wind_speed_10m_max_hour_utc": 9.0,  # slot 10 = 09-10 UT
        "wind_gusts_10m_max_hour_utc": 9.0,
    }
    for name, value in expected.items():
        assert row[name] == pytest.approx(value, abs=1e-9), name
    assert math.isnan(row["precipitation_sum"])
    assert math.isnan(row["precipitation_duration"])


def test_bundled_values_leap_day_and_last_day(bundled):
    # 340,20200229,  220,   72,   78,  120,   13,   60,    1,  250,   15,   88, ... DR 13, RH 13,
    # PG 9912, VVN 64
    row = bundled.loc["2020-02-29"]
    assert row["wind_speed_10m_mean"] == pytest.approx(7.8 * KN)
    assert row["wind_gusts_10m_max"] == pytest.approx(25.0 * KN)
    assert row["precipitation_sum"] == pytest.approx(1.3)
    assert row["precipitation_duration"] == pytest.approx(1.3)
    assert row["pressure_msl_mean"] == pytest.approx(991.2)
    assert row["visibility_min"] == 14500.0  # class 64: 14-15 km
    # 340,20250630,   82,   31,   32, ... TG 247, ... RH 0, ... VVN 67, ... NG 0
    last = bundled.loc["2025-06-30"]
    assert last["wind_speed_10m_mean"] == pytest.approx(3.2 * KN)
    assert last["wind_direction_10m_mean"] == 82.0
    assert last["temperature_2m_mean"] == pytest.approx(24.7)
    assert last["precipitation_sum"] == 0.0
    assert last["visibility_min"] == 17500.0
    assert last["cloud_cover_mean"] == 0.0


def test_less_than_005_mm_is_zero(bundled):
    # 340,20180220, ... DR 0, RH -1, RHX -1
    assert bundled.loc["2018-02-20", "precipitation_sum"] == 0.0
    assert (bundled["precipitation_sum"].dropna() >= 0).all()


def test_visibility_classes():
    codes = np.array([0, 1, 49, 50, 56, 79, 80, 82, 88, 89, np.nan])
    expected = np.array([50, 150, 4950, 5500, 6500, 29500, 32500, 42500, 72500, 70000, np.nan])
    np.testing.assert_array_equal(knmi.visibility_code_to_m(codes), expected)
    with pytest.raises(ValueError, match=r"undefined visibility class code\(s\) \[53.0\]"):
        knmi.visibility_code_to_m(np.array([53]))


def test_load_is_cached_and_returns_copies(bundled):
    again = knmi.load_knmi(SNAP / "etmgeg_340.txt")
    again.iloc[0, 0] = -99.0
    again.attrs["stations"].append(1)
    fresh = knmi.load_knmi(SNAP / "etmgeg_340.txt")
    assert fresh.iloc[0, 0] == pytest.approx(3.3 * KN)
    assert fresh.attrs["stations"] == [340]
    pair = knmi.load_knmi()
    pair.loc["2017-10-01", "stn340_wind_speed_10m_mean"] = -1.0
    assert knmi.load_knmi().loc["2017-10-01", "stn340_wind_speed_10m_mean"] >= 0


# ------------------------------------------------------------------ crafted files
HEADER = (
    "# STN,YYYYMMDD,DDVEC,FHVEC,   FG,  FHX, FHXH,  FHN, FHNH,  FXX, FXXH,   TG,   TN,  TNH,"
    "   TX,  TXH, T10N,T10NH,   SQ,   SP,    Q,   DR,   RH,  RHX, RHXH,   PG,   PX,  PXH,"
    "   PN,  PNH,  VVN, VVNH,  VVX, VVXH,   NG,   UG,   UX,  UXH,   UN,  UNH, EV24"
)


def line(
    stn: int, ymd: str, ddvec: str = "0", fg: str = "20", rh: str = "5", vvn: str = "60"
) -> str:
    vals = [str(stn), ymd, ddvec, "10", fg, "30", "24", "10", "3", "50", "1", "100", "50", "6"]
    vals += ["150", "14", "40", "6", "-1", "0", "100", "10", rh, "-1", "5", "10130", "10150"]
    vals += ["1", "10100", "24", vvn, "5", "80", "14", "9", "80", "95", "5", "60", "14", ""]
    return ",".join(f"{v:>5}" for v in vals)


def write(tmp_path: Path, body: str, name: str = "etmgeg_x.txt", newline: str = "\r\n") -> Path:
    p = tmp_path / name
    p.write_bytes(body.replace("\n", newline).encode("latin-1"))
    return p


def test_crlf_other_station_calm_and_gap(tmp_path):
    body = "\n".join(
        [
            "BRON: KONINKLIJK NEDERLANDS METEOROLOGISCH INSTITUUT (KNMI)",
            "# 310:         3.596       51.442       8.00  Vlissingen",
            HEADER,
            "",
            line(310, "20240227", ddvec="360", rh="-1"),
            line(310, "20240229", ddvec="0", fg="", vvn="89"),
            line(310, "20240301", ddvec="90"),
            "",
        ]
    )
    df = knmi.read_knmi(write(tmp_path, body))
    expected_index = pd.date_range("2024-02-27", "2024-03-01", freq="D", name="date")
    pd.testing.assert_index_equal(df.index, expected_index)
    assert df.attrs["station"] == 310
    assert df.attrs["station_name"] == "Vlissingen"
    assert df.attrs["source"] == "KNMI station " + LABEL_310 + TAIL
    assert df.attrs["missing_days"] == 1
    assert df["wind_direction_10m_mean"].tolist()[0] == 0.0  # 360 = north -> 0
    assert math.isnan(df.loc["2024-02-29", "wind_direction_10m_mean"])  # calm/variable
    assert df.loc["2024-03-01", "wind_direction_10m_mean"] == 90.0
    assert df.loc["2024-02-27", "precipitation_sum"] == 0.0  # -1 = < 0.05 mm
    assert df.loc["2024-03-01", "precipitation_sum"] == pytest.approx(0.5)
    assert math.isnan(df.loc["2024-02-29", "wind_speed_10m_mean"])  # blank
    assert df.loc["2024-02-29", "visibility_min"] == 70000.0
    assert df.loc["2024-03-01", "visibility_min"] == 10500.0
    assert math.isnan(df.loc["2024-03-01", "cloud_cover_mean"])  # 9 = sky invisible
    assert df["wind_speed_10m_max_hour_utc"].tolist()[0] == 23.0
    assert df.loc["2024-02-28"].isna().all()  # gap day


def test_several_stations_need_stn(tmp_path):
    body = "\n".join([HEADER, line(310, "20240101"), line(340, "20240101", fg="50")])
    p = write(tmp_path, body, newline="\n")
    with pytest.raises(ConfigError, match=r"holds stations \[310, 340\]; choose one with stn="):
        knmi.read_knmi(p)
    df = knmi.read_knmi(p, stn=340)
    assert df["wind_speed_10m_mean"].tolist() == pytest.approx([5.0 * KN])
    assert df.attrs["source"] == "KNMI station " + LABEL_340 + TAIL
    with pytest.raises(ConfigError, match=r"station 260 is not in .*stations: \[310, 340\]"):
        knmi.read_knmi(p, stn=260)


def online_answer(stations=((310, "VLISSINGEN"), (340, "WOENSDRECHT")), days=("20250701",)):
    """Code-generated answer of KNMI's daily-data service for several stations, in its
    format (station table, column header, then one block of lines per station)."""
    coords = {310: "3.596       51.442       8.00", 340: "4.342       51.449      19.20"}
    head = [
        "# BRON: KONINKLIJK NEDERLANDS METEOROLOGISCH INSTITUUT (KNMI)",
        "# Opmerking: door stationsverplaatsingen en veranderingen in waarneemmethodieken ...",
        "#",
        "# STN         LON(east)   LAT(north)  ALT(m)      NAME",
    ]
    head += [
        f"# {stn}         {coords.get(stn, '5.000       52.000       1.00')}       {name}"
        for stn, name in stations
    ]
    head += ["#", "# YYYYMMDD  = Datum (YYYY=jaar MM=maand DD=dag) / Date", "#", HEADER, "#"]
    body = [
        line(stn, ymd, fg=str(20 + 10 * k + j))
        for k, (stn, _) in enumerate(stations)
        for j, ymd in enumerate(days)
    ]
    return "\n".join(head + body) + "\n"


def test_multi_station_text_is_split_into_stations():
    text = online_answer(days=("20250701", "20250702"))
    frames = knmi.read_knmi_stations(text, source="answer")
    assert list(frames) == [310, 340]
    assert frames[310]["wind_speed_10m_mean"].tolist() == pytest.approx([2.0 * KN, 2.1 * KN])
    assert frames[340]["wind_speed_10m_mean"].tolist() == pytest.approx([3.0 * KN, 3.1 * KN])
    assert frames[310].attrs["station_label"] == LABEL_310
    assert frames[340].attrs["station_label"] == LABEL_340
    assert frames[340].attrs["station_name"] == "Woensdrecht"  # from the station table
    expected = pd.date_range("2025-07-01", "2025-07-02", freq="D", name="date")
    pd.testing.assert_index_equal(frames[340].index, expected)


def test_unknown_station_labelled_by_number_or_file_name(tmp_path):
    named = knmi.read_knmi_text(online_answer(stations=((260, "DE BILT"),)))
    assert named.attrs["station_label"] == "260 De Bilt (observed)"
    assert named.attrs["station_kind"] == ""
    assert named.attrs["source"] == "KNMI station 260 De Bilt (observed)" + TAIL
    bare = knmi.read_knmi(write(tmp_path, "\n".join([HEADER, line(999, "20240101")])))
    assert bare.attrs["source"] == "KNMI station 999 (observed)" + TAIL


def test_load_multi_station_file_and_stn(tmp_path):
    p = write(tmp_path, online_answer(days=("20250701", "20250702")), name="etmgeg_310-340.txt")
    both = knmi.load_knmi(p)
    assert both.attrs["stations"] == [310, 340]
    assert both["stn340_wind_speed_10m_mean"].tolist() == pytest.approx([3.0 * KN, 3.1 * KN])
    assert list(both.attrs["sha256"]) == ["etmgeg_310-340.txt"]
    one = knmi.load_knmi(p, stn=340)
    assert one.attrs["stations"] == [340]
    assert one["wind_speed_10m_mean"].tolist() == pytest.approx([3.0 * KN, 3.1 * KN])
    with pytest.raises(ConfigError, match=r"station 260 is not in .*stations: \[310, 340\]"):
        knmi.load_knmi(p, stn=260)
    with pytest.raises(ConfigError, match=r"stn=340 selects a station of a single file; got 2"):
        knmi.load_knmi([p, p], stn=340)
    with pytest.raises(DataFormatError, match=r"KNMI file .*nope\.txt does not exist"):
        knmi.load_knmi([p, tmp_path / "nope.txt"])


def test_join_keeps_days_of_either_station():
    a = knmi.read_knmi_text(online_answer(stations=((310, "VLISSINGEN"),), days=("20250702",)))
    b = knmi.read_knmi_text(
        online_answer(stations=((340, "WOENSDRECHT"),), days=("20250701", "20250703"))
    )
    joined = knmi.join_stations([a, b])
    expected = pd.date_range("2025-07-01", "2025-07-03", freq="D", name="date")
    pd.testing.assert_index_equal(joined.index, expected)
    assert joined["wind_speed_10m_mean"].isna().tolist() == [True, False, True]
    assert joined["stn340_wind_speed_10m_mean"].isna().tolist() == [False, True, False]
    assert joined.attrs["missing_days"] == {310: 0, 340: 1}
    with pytest.raises(ConfigError, match=r"no KNMI station to join"):
        knmi.join_stations([])


def test_stations_param():
    assert knmi.stations_param(340) == "340"
    assert knmi.stations_param((310, 340)) == "310:340"
    assert knmi.stations_param("310:340") == "310:340"


def test_rejects_other_format(tmp_path):
    p = write(tmp_path, "time,wind_speed_10m\n2024-01-01T00:00,5.2\n", name="openmeteo.csv")
    with pytest.raises(DataFormatError, match=r"openmeteo\.csv: no KNMI column header line"):
        knmi.read_knmi(p)


def test_rejects_short_line_naming_file_and_line(tmp_path):
    body = "\n".join([HEADER, line(340, "20240101"), line(340, "20240102")[:40]])
    with pytest.raises(DataFormatError, match=r"etmgeg_x\.txt line 3: 7 fields, expected 41"):
        knmi.read_knmi(write(tmp_path, body))


def test_rejects_non_integer_value(tmp_path):
    body = "\n".join([HEADER, line(340, "20240101", fg="2.5")])
    with pytest.raises(DataFormatError, match=r"line 2, column FG: '2.5' is not an integer"):
        knmi.read_knmi(write(tmp_path, body))


def test_rejects_bad_date_duplicate_and_missing_columns(tmp_path):
    with pytest.raises(DataFormatError, match=r"line 2: YYYYMMDD '20230229' is not a valid date"):
        knmi.read_knmi(write(tmp_path, "\n".join([HEADER, line(340, "20230229")])))
    dup = "\n".join([HEADER, line(340, "20240101"), line(340, "20240101")])
    with pytest.raises(
        DataFormatError, match=r"line 3: day 2024-01-01 of station 340 appears twice"
    ):
        knmi.read_knmi(write(tmp_path, dup))
    short_header = "# STN,YYYYMMDD,DDVEC,FG\n  340,20240101,  200,   30\n"
    with pytest.raises(
        DataFormatError, match=r"line 1: KNMI columns \['FHX'.*download the file with vars=ALL"
    ):
        knmi.read_knmi(write(tmp_path, short_header))
    with pytest.raises(DataFormatError, match=r"column VVN: undefined visibility class code"):
        knmi.read_knmi(write(tmp_path, "\n".join([HEADER, line(340, "20240101", vvn="52")])))
    with pytest.raises(DataFormatError, match=r"does not exist"):
        knmi.read_knmi(tmp_path / "nope.txt")


# ------------------------------------------------------------------ network client
@pytest.mark.network
def test_get_knmi_posts_form_and_download_validates(local_server, tmp_path):
    body = "\n".join(
        ["# 340:   4.342   51.449   19.20  Woensdrecht", HEADER, line(340, "20250701")]
    )
    local_server.route("/klimatologie/daggegevens", Reply(200, body.encode("latin-1")))
    url = local_server.url("/klimatologie/daggegevens")
    text = knmi.get_knmi("2025-07-01", "2025-07-01", 340, url=url)
    assert text == body
    req = local_server.requests[-1]
    assert req.method == "POST"
    assert req.body.decode() == "start=20250701&end=20250701&stns=340&vars=ALL"
    dest = knmi.download_knmi("2025-07-01", "2025-07-01", 340, tmp_path / "k.txt", url=url)
    assert knmi.read_knmi(dest).index.tolist() == [pd.Timestamp("2025-07-01")]


@pytest.mark.network
def test_several_stations_in_one_request(local_server, tmp_path):
    body = online_answer()
    local_server.route("/klimatologie/daggegevens", Reply(200, body.encode("latin-1")))
    url = local_server.url("/klimatologie/daggegevens")
    dest = knmi.download_knmi("2025-07-01", "2025-07-01", dest=tmp_path / "k.txt", url=url)
    req = local_server.requests[-1]
    assert req.body.decode() == "start=20250701&end=20250701&stns=310%3A340&vars=ALL"
    assert knmi.load_knmi(dest).attrs["stations"] == [310, 340]
    only_310 = online_answer(stations=((310, "VLISSINGEN"),))
    local_server.route("/short", Reply(200, only_310.encode("latin-1")))
    never = tmp_path / "never.txt"
    with pytest.raises(DataFormatError, match=r"lacks station\(s\) \[340\] asked for"):
        knmi.download_knmi(
            "2025-07-01", "2025-07-01", (310, 340), never, url=local_server.url("/short")
        )
    assert not never.exists()


@pytest.mark.network
def test_get_knmi_errors(local_server, tmp_path):
    local_server.route("/bad", Reply(500, "Internal error: database offline"))
    with pytest.raises(SourceError, match=r"HTTP 500 .*database offline"):
        knmi.get_knmi("2025-07-01", "2025-07-02", url=local_server.url("/bad"))
    online = "\n".join(
        [
            "# STN         LON(east)   LAT(north)  ALT(m)      NAME",
            "# 310         3.596       51.442       8.00       VLISSINGEN",
            "#",
            HEADER,
            "#",
            line(310, "20250701"),
        ]
    )
    local_server.route("/online", Reply(200, online.encode("latin-1")))
    df = knmi.read_knmi_text(
        knmi.get_knmi("2025-07-01", "2025-07-01", 310, url=local_server.url("/online"))
    )
    assert df.attrs["station_name"] == "Vlissingen"
    assert df["wind_speed_10m_mean"].tolist() == pytest.approx([2.0 * KN])
    local_server.route("/html", Reply(200, "<html>maintenance</html>"))
    dest = tmp_path / "never.txt"
    with pytest.raises(DataFormatError, match=r"/html: no KNMI column header line"):
        knmi.download_knmi("2025-07-01", "2025-07-02", 340, dest, url=local_server.url("/html"))
    assert not dest.exists()
    local_server.route("/slow", Reply(200, "x", delay_s=1.0))
    with pytest.raises(SourceError, match=r"did not answer within 0.2 s"):
        knmi.get_knmi("2025-07-01", "2025-07-02", url=local_server.url("/slow"), timeout=0.2)
    with pytest.raises(ConfigError, match=r"end 20250630 is before start 20250701"):
        knmi.get_knmi("2025-07-01", "2025-06-30", url=local_server.url("/bad"))
