"""The one crossing night: D-1 22:00 to D 14:00 UK time, on normal and DST nights."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError
from forecast.features import build as F
from forecast.features import night as N
from forecast.products import outlook as ol

UK = ZoneInfo("Europe/London")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_constants_and_text():
    assert (N.NIGHT_START_H, N.NIGHT_END_H) == (-2.0, 14.0)
    assert N.NIGHT_TEXT == "the night feeding day D: D-1 22:00 to D 14:00 UK time"
    # the feature builder's defaults are the night, and stay configurable
    assert F.FeatureConfig().window_start_h == N.NIGHT_START_H
    assert F.FeatureConfig().window_end_h == N.NIGHT_END_H
    cfg = F.FeatureConfig(window_start_h=-4.0, window_end_h=10.0)
    days, inside = F.window_day(["2024-01-10 20:30", "2024-01-10 22:30"], cfg)
    assert list(inside) == [True, True] and (days == pd.Timestamp("2024-01-11")).all()
    days, inside = F.window_day(["2024-01-10 20:30", "2024-01-10 22:30"])
    assert list(inside) == [False, True]


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        ("2026-01-15", "2026-01-14 22:00", "2026-01-15 14:00", 16),  # GMT
        ("2026-07-01", "2026-06-30 21:00", "2026-07-01 13:00", 16),  # BST
        # clocks go forward 2026-03-29 01:00 UTC: 22:00 GMT .. 14:00 BST, 23-h day, 15-h night
        ("2026-03-29", "2026-03-28 22:00", "2026-03-29 13:00", 15),
        ("2026-03-30", "2026-03-29 21:00", "2026-03-30 13:00", 16),
        # clocks go back 2026-10-25 01:00 UTC: 22:00 BST .. 14:00 GMT, 25-h day, 17-h night
        ("2026-10-25", "2026-10-24 21:00", "2026-10-25 14:00", 17),
        ("2026-10-26", "2026-10-25 22:00", "2026-10-26 14:00", 16),
        ("2024-02-29", "2024-02-28 22:00", "2024-02-29 14:00", 16),  # leap day
    ],
)
def test_bounds_on_normal_and_dst_nights(day, start, end, hours):
    s, e = N.night_bounds_utc([day])
    assert s[0] == utc(start) and e[0] == utc(end)
    assert (e[0] - s[0]) == pd.Timedelta(hours=hours)
    assert str(s.tz) == "UTC" and str(e.tz) == "UTC"
    # the same on the UK wall clock, by an independent route (zoneinfo)
    d = dt.date.fromisoformat(day)
    assert s[0].to_pydatetime() == dt.datetime.combine(d - dt.timedelta(days=1), dt.time(22), UK)
    assert e[0].to_pydatetime() == dt.datetime.combine(d, dt.time(14), UK)
    # the outlook's window is this one
    assert ol.night_window_utc(pd.Timestamp(day)) == (s[0], e[0])


def test_bounds_are_vectorised_and_drop_times_and_zones():
    s, e = N.night_bounds_utc(pd.date_range("2026-03-27 09:30", periods=5, freq="D"))
    assert list((e - s) / pd.Timedelta(hours=1)) == [16, 16, 15, 16, 16]
    s1, _ = N.night_bounds_utc(pd.Timestamp("2026-03-29", tz="Europe/London"))
    assert s1[0] == utc("2026-03-28 22:00")
    with pytest.raises(ConfigError, match=r"night dates contain a missing value \(NaT\)"):
        N.night_bounds_utc([pd.NaT])


@pytest.mark.parametrize(
    ("when", "day", "inside"),
    [
        ("2026-01-14 21:59", "2026-01-14", False),  # 21:59 GMT: before the night
        ("2026-01-14 22:00", "2026-01-15", True),  # start included
        ("2026-01-15 13:59", "2026-01-15", True),
        ("2026-01-15 14:00", "2026-01-15", False),  # end excluded
        ("2026-06-30 20:59", "2026-06-30", False),  # 21:59 BST
        ("2026-06-30 21:00", "2026-07-01", True),  # 22:00 BST
        ("2026-07-01 12:59", "2026-07-01", True),
        ("2026-07-01 13:00", "2026-07-01", False),  # 14:00 BST
        ("2026-03-29 00:59", "2026-03-29", True),  # 00:59 GMT, just before the change
        ("2026-03-29 01:00", "2026-03-29", True),  # 02:00 BST
        ("2026-03-29 12:59", "2026-03-29", True),
        ("2026-03-29 13:00", "2026-03-29", False),
        ("2026-10-25 00:30", "2026-10-25", True),  # 01:30 BST
        ("2026-10-25 01:30", "2026-10-25", True),  # 01:30 GMT, the repeated hour
        ("2026-10-25 13:59", "2026-10-25", True),  # 17th hour of the 17-h night
        ("2026-10-25 14:00", "2026-10-25", False),
    ],
)
def test_night_of(when, day, inside):
    days, mask = N.night_of([when])
    assert days[0] == pd.Timestamp(day) and bool(mask[0]) is inside
    assert days.name == "date"
    # tz-aware input in any zone gives the same answer
    aware = pd.Timestamp(when, tz="UTC").tz_convert("Europe/London")
    days2, mask2 = N.night_of(aware)
    assert days2[0] == days[0] and mask2[0] == mask[0]


def test_night_of_agrees_with_bounds_over_a_year():
    times = pd.date_range("2025-12-30", "2027-01-02", freq="7min", tz="UTC")
    days, inside = N.night_of(times)
    s, e = N.night_bounds_utc(days)
    expected = (times >= s) & (times < e)
    np.testing.assert_array_equal(inside, expected)
    # 14:00-22:00 UK belongs to no night; every other instant to exactly one
    local_h = times.tz_convert("Europe/London").hour
    np.testing.assert_array_equal(inside, (local_h >= 22) | (local_h < 14))


def test_bad_windows_are_refused():
    with pytest.raises(ConfigError, match=r"departure window \[5.0, 2.0\) h .* is invalid"):
        N.night_bounds_utc(["2026-01-01"], start_h=5.0, end_h=2.0)
    with pytest.raises(ConfigError, match=r"default -2 \.\. 14, i\.e\. D-1 22:00 \.\. D 14:00"):
        F.FeatureConfig(window_start_h=-30.0)
    with pytest.raises(ConfigError, match=r"must be 1-24 h long"):
        N.night_of(["2026-01-01"], start_h=0.0, end_h=30.0)
