"""Darkness, twilight and moon: PyEphem results checked against astral and known dates."""

from __future__ import annotations

import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

import ephem
import numpy as np
import pandas as pd
import pytest
from astral import Observer, moon
from astral.sun import dawn, dusk, sunrise, sunset

from forecast.cli import main
from forecast.errors import ConfigError
from forecast.features import sky

LAT, LON = 50.97, 1.72
OBS = Observer(latitude=LAT, longitude=LON)


def naive(t: dt.datetime) -> pd.Timestamp:
    return pd.Timestamp(t).tz_convert("UTC").tz_localize(None)


def uk_window(night: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """D-1 22:00 .. D 14:00 UK as naive UTC (computed here with zoneinfo, not the package)."""
    d = dt.date.fromisoformat(night)
    uk = ZoneInfo("Europe/London")
    start = dt.datetime.combine(d - dt.timedelta(days=1), dt.time(22), uk)
    return naive(start), naive(dt.datetime.combine(d, dt.time(14), uk))


def hours(a: pd.Timestamp, b: pd.Timestamp) -> float:
    return (b - a).total_seconds() / 3600


@pytest.fixture(scope="module")
def jan2024():
    return sky.night_sky(pd.date_range("2024-01-01", "2024-03-05"))


def test_columns_and_index(jan2024):
    assert list(jan2024.columns) == list(sky.COLUMNS)
    assert jan2024.index.name == "date"
    assert pd.Timestamp("2024-02-29") in jan2024.index  # leap day
    assert (jan2024.index == pd.date_range("2024-01-01", "2024-03-05")).all()
    for c in ("sunset_utc", "nautical_dusk_utc", "moonrise_utc"):
        assert jan2024[c].dtype == "datetime64[ns]"


@pytest.mark.parametrize(
    "night", ["2024-01-24", "2024-02-29", "2026-03-29", "2026-06-21", "2026-10-25"]
)
def test_sun_events_match_astral(night):
    """Sunset/sunrise and nautical dusk/dawn within 1 min of astral (independent code)."""
    row = sky.night_sky([night]).iloc[0]
    d = pd.Timestamp(night).date()
    prev = d - dt.timedelta(days=1)
    expected = {
        "sunset_utc": naive(sunset(OBS, prev)),
        "sunrise_utc": naive(sunrise(OBS, d)),
        "nautical_dusk_utc": naive(dusk(OBS, prev, depression=12)),
        "nautical_dawn_utc": naive(dawn(OBS, d, depression=12)),
    }
    for col, when in expected.items():
        assert abs((row[col] - when).total_seconds()) < 60, col
    # darkness counts only inside the night D-1 22:00 .. D 14:00 UK
    start, end = uk_window(night)
    dark0 = max(expected["nautical_dusk_utc"], start)
    dark1 = min(expected["nautical_dawn_utc"], end)
    assert row["darkness_hours"] == pytest.approx(hours(dark0, dark1), abs=0.03)


def test_moonrise_moonset_match_astral(jan2024):
    row = jan2024.loc["2024-01-25"]
    assert (
        abs((row["moonrise_utc"] - naive(moon.moonrise(OBS, dt.date(2024, 1, 24)))).total_seconds())
        < 180
    )
    assert (
        abs((row["moonset_utc"] - naive(moon.moonset(OBS, dt.date(2024, 1, 25)))).total_seconds())
        < 180
    )


def test_full_and_new_moons():
    # Published: full moons 2024-01-25 17:54 UTC and 2024-02-24 12:30 UTC, new moon 2024-01-11 11:57 UTC.
    for when, fn, start in [
        ("2024-01-25 17:54", ephem.next_full_moon, "2024-01-20"),
        ("2024-02-24 12:30", ephem.next_full_moon, "2024-02-10"),
        ("2024-01-11 11:57", ephem.next_new_moon, "2024-01-01"),
    ]:
        got = pd.Timestamp(fn(start).datetime())
        assert abs((got - pd.Timestamp(when)).total_seconds()) < 60
    # astral's independent lunar phase (0..28 scale: 0 new, 14 full; at 00:00 UTC)
    assert moon.phase(dt.date(2024, 1, 25)) == pytest.approx(14.0, abs=1.0)
    new = moon.phase(dt.date(2024, 1, 11))
    assert min(new, 28.0 - new) < 1.0
    s = sky.night_sky(["2024-01-11", "2024-01-12", "2024-01-26", "2024-02-25"])
    assert s.loc["2024-01-11", "moon_illumination"] < 0.01
    assert s.loc["2024-01-12", "moon_illumination"] < 0.02
    assert s.loc["2024-01-26", "moon_illumination"] > 0.99
    assert s.loc["2024-02-25", "moon_illumination"] > 0.99
    # the night of a new moon is moonless, the night after a full moon is fully moonlit
    assert s.loc["2024-01-11", "moonlit_fraction"] == 0.0
    assert s.loc["2024-01-26", "moonlit_fraction"] == 1.0


@pytest.mark.parametrize("night", ["2024-01-20", "2024-02-01", "2024-02-16", "2026-06-21"])
def test_moonlit_fraction_against_sampled_altitude(night):
    row = sky.night_sky([night]).iloc[0]
    obs = ephem.Observer()
    obs.lat, obs.lon = str(LAT), str(LON)
    m = ephem.Moon()
    start, end = uk_window(night)
    dark0, dark1 = max(row["nautical_dusk_utc"], start), min(row["nautical_dawn_utc"], end)
    times = pd.date_range(dark0, dark1, periods=400)  # the darkness inside the night
    up = []
    for t in times:
        obs.date = sky._ephem_date(t)
        m.compute(obs)
        up.append(m.alt > -m.radius)  # refracted upper limb, as PyEphem's rise/set
    assert row["moonlit_fraction"] == pytest.approx(np.mean(up), abs=0.01)
    assert 0.0 < row["moonlit_fraction"] < 1.0 or night == "2026-06-21"


def test_sun_altitude_and_is_dark_against_ephem():
    times = pd.date_range("2019-03-01", "2026-12-31", periods=500)
    obs = ephem.Observer()
    obs.lat, obs.lon, obs.pressure = str(LAT), str(LON), 0.0
    sun = ephem.Sun()
    ref = []
    for t in times:
        obs.date = sky._ephem_date(t)
        sun.compute(obs)
        ref.append(np.degrees(float(sun.alt)))
    ref = np.array(ref)
    np.testing.assert_allclose(sky.sun_altitude(times, LAT, LON), ref, atol=0.02)
    far = np.abs(ref + 12) > 0.05
    np.testing.assert_array_equal(sky.is_dark(times, LAT, LON)[far], (ref < -12)[far])
    aware = times.tz_localize("UTC").tz_convert("Europe/London")
    np.testing.assert_array_equal(sky.is_dark(aware, LAT, LON), sky.is_dark(times, LAT, LON))


def test_summer_nights_have_nautical_but_no_astronomical_darkness():
    row = sky.night_sky(["2026-06-21"]).iloc[0]
    assert 3.0 < row["darkness_hours"] < 4.0  # nautical darkness exists at 51 N
    night = pd.date_range("2026-06-20 18:00", "2026-06-21 06:00", freq="5min")
    assert sky.is_dark(night, LAT, LON, depression_deg=12).any()
    assert not sky.is_dark(night, LAT, LON, depression_deg=18).any()  # no astronomical darkness
    assert sky.sun_altitude(night, LAT, LON).min() == pytest.approx(-15.6, abs=0.2)


def test_no_nautical_darkness_far_north_is_handled():
    s = sky.night_sky(["2026-06-21", "2026-12-21"], lat=60.15, lon=-1.15)  # Lerwick
    summer, winter = s.loc["2026-06-21"], s.loc["2026-12-21"]
    assert pd.isna(summer["nautical_dusk_utc"]) and pd.isna(summer["nautical_dawn_utc"])
    assert summer["darkness_hours"] == 0.0 and summer["moonlit_fraction"] == 0.0
    assert pd.notna(summer["sunset_utc"])
    # dusk 16:52 UTC, dawn 07:12 UTC: the night counts from 22:00 UK (GMT) only
    assert winter["darkness_hours"] == pytest.approx(
        hours(uk_window("2026-12-21")[0], winter["nautical_dawn_utc"])
    )
    assert 9.0 < winter["darkness_hours"] < 9.5
    polar = sky.night_sky(["2026-12-21"], lat=85.0, lon=0.0).iloc[0]  # sun below -12 deg all day
    assert polar["darkness_hours"] == 16.0  # the whole night window
    assert pd.isna(polar["nautical_dusk_utc"]) and pd.isna(polar["sunset_utc"])
    assert np.isnan(polar["moonlit_fraction"])


def test_dst_nights_follow_the_uk_clock(jan2024):
    """Dusk is before 22:00 UK in spring and autumn, so darkness starts at 22:00 UK: it
    gains an hour on the first BST night (22:00 BST = 21:00 UTC) and loses it on the
    first GMT night; otherwise nights lengthen or shorten by minutes."""
    for a, b, change, sign in [
        ("2026-03-26", "2026-04-01", "2026-03-30", 1),
        ("2026-10-22", "2026-10-28", "2026-10-26", -1),
    ]:
        s = sky.night_sky(pd.date_range(a, b))
        for night, row in s.iterrows():
            start = uk_window(night.date().isoformat())[0]
            assert row["nautical_dusk_utc"] < start
            assert row["darkness_hours"] == pytest.approx(
                hours(start, row["nautical_dawn_utc"]), abs=1e-6
            )
        steps = s["darkness_hours"].diff().dropna()
        assert steps.drop(pd.Timestamp(change)).abs().max() < 0.12
        assert sign * steps[change] == pytest.approx(1.0, abs=0.12)
        dusk_times = s["nautical_dusk_utc"]
        minutes = dusk_times.dt.hour * 60 + dusk_times.dt.minute
        assert minutes.diff().dropna().abs().max() < 5  # UTC times do not jump with clocks


def test_whole_period_is_fast():
    sky._CACHE.clear()
    t = time.perf_counter()
    s = sky.night_sky(pd.date_range("2018-01-01", "2026-12-31"))
    assert time.perf_counter() - t < 5.0
    assert len(s) == 3287
    # inside the night: 3.5 h at midsummer (dusk after 22:00 BST) to 8.6 h in winter
    # (22:00 GMT to dawn about 06:35 UTC)
    assert s["darkness_hours"].between(3.4, 8.7).all()
    assert s["moon_illumination"].between(0, 1).all()
    assert s["moonlit_fraction"].between(0, 1).all()
    # over whole lunations, about half of all darkness is moonlit
    share = (s["moonlit_fraction"] * s["darkness_hours"]).sum() / s["darkness_hours"].sum()
    assert share == pytest.approx(0.5, abs=0.05)


def test_darkness_is_clipped_to_the_night():
    """Summer: dusk after 22:00 BST, darkness = dawn - dusk. Winter: the evening's dark
    hours before 22:00 GMT belong to no night, darkness = dawn - 22:00 UK."""
    s = sky.night_sky(["2026-06-21", "2026-01-15"])
    summer, winter = s.loc["2026-06-21"], s.loc["2026-01-15"]
    assert summer["nautical_dusk_utc"] > pd.Timestamp("2026-06-20 21:00")  # 22:00 BST
    assert summer["darkness_hours"] == pytest.approx(
        hours(summer["nautical_dusk_utc"], summer["nautical_dawn_utc"]), abs=1e-6
    )
    assert winter["nautical_dusk_utc"] < pd.Timestamp("2026-01-14 22:00")  # 22:00 GMT
    assert winter["darkness_hours"] == pytest.approx(
        hours(pd.Timestamp("2026-01-14 22:00"), winter["nautical_dawn_utc"]), abs=1e-6
    )
    # dusk to dawn would have been about 13 h
    assert hours(winter["nautical_dusk_utc"], winter["nautical_dawn_utc"]) > 12.5
    assert 8.4 < winter["darkness_hours"] < 8.6


def test_bad_location():
    with pytest.raises(ConfigError, match=r"lat must be within -90\.\.90 \[deg N\]; got 95"):
        sky.night_sky(["2024-01-01"], lat=95)
    with pytest.raises(ConfigError, match=r"depression_deg must be within 0\.\.90"):
        sky.is_dark(["2024-01-01"], LAT, LON, depression_deg=-5)


def test_cli_sky_table_csv_json(capsys):
    assert main(["sky", "--start", "2024-01-24", "--end", "2024-01-26"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["night", "sunset_utc", "nautical_dusk_utc", "nautical_dawn_utc"]
    assert lines[1].split()[:5] == ["2024-01-24", "2024-01-23", "16:28", "2024-01-23", "17:45"]
    assert lines[-1].startswith(
        "Night D = the night feeding day D: D-1 22:00 to D 14:00 UK time, at 50.97 N 1.72 E"
    )
    assert main(["sky", "--start", "2024-02-28", "--end", "2024-03-01", "--format", "csv"]) == 0
    df = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert df["night"].tolist() == ["2024-02-28", "2024-02-29", "2024-03-01"]
    assert main(["sky", "--start", "2026-06-21", "--end", "2026-06-21", "--format", "json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["rows"][0]["darkness_h"] == pytest.approx(3.5, abs=0.1)
    assert main(["sky", "--start", "2024-01-01", "--lat", "91"]) == 2
    assert "lat must be within -90..90" in capsys.readouterr().err
