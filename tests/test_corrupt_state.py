"""Damaged local state is refused with a DataFormatError naming the file, never read as data.

Every corruption is written by code into a temporary copy (a weather cache filled from
the 127.0.0.1 test server, a copy of data/snapshot/tides); the repository's files are
never touched.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import struct

import numpy as np
import pytest
import xarray as xr

from forecast import config
from forecast.cli import main
from forecast.errors import DataFormatError
from forecast.sources import tides
from forecast.stores import weather
from tests.test_weather import _forecast_run

# A damaged HDF5 file makes h5netcdf's File.__del__ fail after the open failed (a library
# bug, reported as an unraisable exception); the open's own error is what is tested.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

T = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
FIX = r"Delete it and run 'forecast weather update' again"


@pytest.fixture
def run_file(local_server, data_home):
    """A cache holding one forecast run; returns the run file of the forecast API."""
    _forecast_run(local_server, T, 0.0)
    (path,) = sorted(weather.source_dir("forecast", "best_match").glob("run-*.nc"))
    return path


def flip_last_byte_of(path, value: float) -> None:
    """Change the least significant byte of the stored float64 ``value`` (a plausible
    value close to the old one: only a checksum can tell)."""
    raw = bytearray(path.read_bytes())
    at = raw.find(struct.pack("<d", value))
    assert at >= 0, f"{value} not stored as a little-endian float64 in {path}"
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))


def test_intact_cache_reads(run_file):
    ds = weather.load_forecast_latest()
    assert ds.sizes["site"] == 2 and "content_sha256" not in ds.attrs


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", r"cannot read cached weather file .*run-20261125T060000Z\.nc \("),
        ("garbage", r"cannot read cached weather file .*run-20261125T060000Z\.nc \("),
        ("utf8", r"cannot read cached weather file .*run-20261125T060000Z\.nc \("),
        ("flip", r"run-20261125T060000Z\.nc: its values do not match the checksum recorded"),
    ],
)
def test_damaged_weather_cache_is_refused(run_file, damage, message):
    good = weather.load_forecast_latest()
    if damage == "truncate":
        run_file.write_bytes(run_file.read_bytes()[: run_file.stat().st_size // 2])
    elif damage == "garbage":
        rng = np.random.default_rng(0)
        run_file.write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    elif damage == "utf8":
        run_file.write_bytes(b"\xff\xfe\xfa not netcdf \xc3\x28")
    else:
        flip_last_byte_of(run_file, float(good["pressure_msl"].values[0, 0]))
    with pytest.raises(DataFormatError, match=message) as exc:
        weather.load_forecast_latest()
    assert FIX in str(exc.value)
    with pytest.raises(DataFormatError, match=FIX):
        weather.load_hourly("2026-11-24", "2026-11-26", kind="forecast")


def test_implausible_values_without_checksum_are_refused(run_file):
    """A file from before checksums: garbled bytes read as floats are far out of range."""
    with xr.open_dataset(run_file, engine="h5netcdf") as ds:
        old = ds.load()
    del old.attrs["content_sha256"]
    old["wind_speed_10m"].values[0, 0] = 1.2e150
    old.to_netcdf(run_file, engine="h5netcdf")
    with pytest.raises(DataFormatError, match=r"wind_speed_10m holds 1\.2e\+150, outside"):
        weather.load_forecast_latest()


def test_damaged_forecast_run_is_not_used_by_alert_or_outlook(run_file, capsys):
    flip_last_byte_of(run_file, float(weather.load_forecast_latest()["pressure_msl"][0, 0]))
    code = main(
        ["alert", "--now", "2026-11-25T06:00Z", "--format", "json", "--max-data-age", "999"]
    )
    payload = json.loads(capsys.readouterr().out)
    # not read back as weather: the alert cannot say, and the notice names the file
    assert code == 3 and payload["weather_source"] == "none"
    assert payload["cannot_say"][0].startswith("no weather forecast was used")
    assert (
        main(["outlook", "--now", "2026-11-25T06:00Z", "--no-scenarios", "--format", "json"]) == 0
    )
    outlook = json.loads(capsys.readouterr().out)
    assert run_file.name in outlook["weather"]["missing"] and FIX in outlook["weather"]["missing"]


def test_damaged_user_weather_file_is_refused(run_file, tmp_path, capsys):
    bad = tmp_path / "fc.nc"
    bad.write_bytes(run_file.read_bytes()[:1000])
    code = main(["alert", "--now", "2026-11-25T06:00Z", "--weather", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and f"--weather {bad}: not a readable NetCDF file" in err
    bad_json = tmp_path / "fc.json"
    bad_json.write_bytes(b'{"hourly": "\xff\xfe"}')
    assert main(["alert", "--now", "2026-11-25T06:00Z", "--weather", str(bad_json)]) == 2
    assert f"weather file {bad_json} is not valid JSON: 'utf-8' codec" in capsys.readouterr().err


# --- tide tables ------------------------------------------------------------------------


@pytest.fixture
def tide_copy(tmp_path):
    folder = tmp_path / "tides"
    shutil.copytree(config.snapshot_dir() / "tides", folder)
    return folder


def _damage(folder, name, how):
    path = folder / name
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    if how == "truncated mid-row":
        path.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    elif how == "truncated at a row":
        path.write_text("".join(lines[: len(lines) - 7]), encoding="utf-8")
    elif how == "non-numeric":
        path.write_text(text.replace(",2.25348,", ",2.2S348,", 1), encoding="utf-8")
    elif how == "missing M2":
        path.write_text("".join(x for x in lines if ",M2,M2," not in x), encoding="utf-8")
    elif how == "invalid utf-8":
        path.write_bytes(text.encode()[:500] + b"\xff\xfe\xc3\x28" + text.encode()[500:])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "binary":
        path.write_bytes(bytes(range(256)) * 8)
    elif how == "datum non-numeric":
        path.write_text(text.replace(",7.441,", ",seven,", 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "how", "message"),
    [
        (
            "constituents.csv",
            "truncated mid-row",
            r"constituents\.csv cannot be read as CSV \(.*EOF",
        ),
        (
            "constituents.csv",
            "truncated at a row",
            r"port Deal has 43 constituents, others 50 \(missing \['MF',",
        ),
        ("constituents.csv", "non-numeric", r"row 2, column amplitude_m: '2\.2S348' is not a"),
        ("constituents.csv", "missing M2", r"port Dover lacks the constituents \['M2'\]"),
        (
            "constituents.csv",
            "invalid utf-8",
            r"constituents\.csv is not UTF-8 text \(byte \d+: invalid",
        ),
        ("constituents.csv", "empty", r"constituents\.csv cannot be read as CSV"),
        ("constituents.csv", "binary", r"constituents\.csv (is not UTF-8|cannot be read as CSV)"),
        ("datums.csv", "invalid utf-8", r"datums\.csv is not UTF-8 text"),
        ("datums.csv", "datum non-numeric", r"datums\.csv row 2, column HAT_m: 'seven' is not"),
    ],
)
def test_damaged_tide_tables_are_refused(tide_copy, name, how, message):
    _damage(tide_copy, name, how)
    with pytest.raises(DataFormatError, match=message):
        tides.load_station("dover", str(tide_copy))


def test_damaged_tide_table_through_the_cli(tide_copy, monkeypatch, capsys):
    _damage(tide_copy, "constituents.csv", "missing M2")
    monkeypatch.setattr(config, "snapshot_dir", lambda: tide_copy.parent)
    tides.load_station.cache_clear()
    try:
        code = main(["tides", "--start", "2026-11-01", "--end", "2026-11-01"])
    finally:
        tides.load_station.cache_clear()
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"{tide_copy / 'constituents.csv'}: port Dover lacks the constituents ['M2']" in err
    assert "git checkout -- data/snapshot/tides/" in err
