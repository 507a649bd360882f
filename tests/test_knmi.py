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
KN = 1.943844


@pytest.fixture(scope="module")
def bundled():
    return knmi.load_knmi()


def test_bundled_shape_and_label(bundled):
    assert len(bundled) == 3103
    assert bundled.index[0] == pd.Timestamp("2017-01-01")
    assert bundled.index[-1] == pd.Timestamp("2025-06-30")
    assert bundled.index.name == "date"
    assert (bundled.index == pd.date_range("2017-01-01", "2025-06-30", freq="D")).all()
    assert list(bundled.columns) == list(knmi.COLUMNS)
    assert bundled.attrs["source"] == (
        "KNMI station 340 Woensdrecht: observed regional proxy (inland, 213 km from Dover), "
        "not Strait weather"
    )
    assert bundled.attrs["station"] == 340
    assert bundled.attrs["missing_days"] == 0


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
    again = knmi.load_knmi()
    again.iloc[0, 0] = -99.0
    assert knmi.load_knmi().iloc[0, 0] == pytest.approx(3.3 * KN)


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
    assert df.attrs["source"] == "KNMI station 310 Vlissingen: observed station weather"
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
    assert df.attrs["source"].startswith("KNMI station 340 Woensdrecht: observed regional proxy")
    with pytest.raises(ConfigError, match=r"station 260 is not in .*stations: \[310, 340\]"):
        knmi.read_knmi(p, stn=260)


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
