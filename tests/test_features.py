"""Feature builder: departure window (with DST), hourly and daily paths, no leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.errors import ConfigError, DataFormatError
from forecast.features import build as F


def synthetic_hourly(start="2024-03-29", end="2024-04-02", wind=None, sites=("a", "b")):
    """SYNTHETIC hourly Dataset (code-generated, labelled): not real weather."""
    t = pd.date_range(start, end, freq="h")
    n = len(t)
    w = np.full(n, 6.0) if wind is None else np.asarray(wind, dtype=float)
    data = {
        "wind_speed_10m": (("time", "site"), np.column_stack([w] * len(sites))),
        "wind_gusts_10m": (("time", "site"), np.column_stack([w * 1.5] * len(sites))),
        "wind_direction_10m": (("time", "site"), np.full((n, len(sites)), 45.0)),
        "wave_height": (("time", "site"), np.full((n, len(sites)), 0.4)),
        "wave_period": (("time", "site"), np.full((n, len(sites)), 4.0)),
        "precipitation": (("time", "site"), np.zeros((n, len(sites)))),
    }
    ds = xr.Dataset(data, coords={"time": t.values, "site": list(sites)})
    ds.attrs["source"] = "synthetic (tests)"
    return ds


def test_window_day_default_window_and_dst():
    # 2024-03-31: clocks go forward in the UK (01:00 GMT -> 02:00 BST)
    times = pd.to_datetime(
        ["2024-03-29 21:00", "2024-03-29 22:00", "2024-03-30 13:00", "2024-03-30 14:00"]
    )
    days, inside = F.window_day(times)
    # 21:00 UTC = 21:00 GMT on the 29th: before 22:00, outside any window
    assert inside.tolist() == [False, True, True, False]
    assert days[1] == pd.Timestamp("2024-03-30")
    assert days[2] == pd.Timestamp("2024-03-30")


def test_hourly_window_has_15_hours_on_spring_forward_night():
    ds = synthetic_hourly()
    feats = F.hourly_weather_features(ds)
    # night into 2024-03-31 loses an hour, others have 16
    assert feats.loc["2024-03-31", "window_hours"] == 15.0
    assert feats.loc["2024-03-30", "window_hours"] == 16.0
    assert feats.loc["2024-03-30", "wind_speed_10m_mean"] == pytest.approx(6.0)
    assert feats.loc["2024-03-30", "wind_gusts_10m_max"] == pytest.approx(9.0)
    assert feats.loc["2024-03-30", "wind_from_ne"] == 1.0
    assert feats.loc["2024-03-30", "wind_from_ne_hours"] == 16.0
    assert feats.attrs["weather_source"] == "openmeteo"


def test_hourly_calm_hours_is_longest_run_in_window():
    t = pd.date_range("2024-06-01", "2024-06-03", freq="h")
    wind = np.full(len(t), 20.0)
    # window for 2024-06-02 (BST): 2024-06-01 22:00 BST = 21:00 UTC .. 2024-06-02 13:00 UTC
    calm = (t >= "2024-06-02 01:00") & (t < "2024-06-02 06:00")  # 5 calm hours
    wind[calm] = 5.0
    calm2 = (t >= "2024-06-02 08:00") & (t < "2024-06-02 10:00")  # 2 more, separate
    wind[calm2] = 5.0
    feats = F.hourly_weather_features(synthetic_hourly("2024-06-01", "2024-06-03", wind))
    assert feats.loc["2024-06-02", "calm_hours"] == 5.0
    assert feats.loc["2024-06-02", "wind_speed_10m_max"] == 20.0


def test_hourly_requires_wind():
    ds = synthetic_hourly().drop_vars("wind_speed_10m")
    with pytest.raises(DataFormatError, match="wind_speed_10m"):
        F.hourly_weather_features(ds)


def test_bad_window_is_config_error():
    with pytest.raises(ConfigError, match="departure window"):
        F.FeatureConfig(window_start_h=-2, window_end_h=30)


def daily_table():
    idx = pd.date_range("2024-01-01", periods=5, freq="D", name="date")
    return pd.DataFrame(
        {
            "wind_speed_10m_mean": [4.0, 10.0, 6.0, 3.0, 20.0],
            "wind_speed_10m_max": [6.0, 14.0, 10.0, 5.0, 30.0],
            "wind_speed_10m_min": [2.0, 6.0, 2.0, 1.0, 10.0],
            "wind_direction_10m_mean": [45.0, 270.0, np.nan, 180.0, 10.0],
            "pressure_msl_mean": [1020.0, 1010.0, 1015.0, 1016.0, 990.0],
        },
        index=idx,
    )


def test_daily_features_use_previous_and_same_day():
    f = F.daily_weather_features(daily_table())
    assert f.index[0] == pd.Timestamp("2024-01-02")
    assert f.loc["2024-01-03", "wind_speed_10m_mean"] == 6.0
    assert f.loc["2024-01-03", "wind_speed_10m_mean_prev"] == 10.0
    assert f.loc["2024-01-03", "pressure_change"] == 5.0
    assert f.loc["2024-01-02", "wind_onshore_fr"] == 1.0
    assert f.loc["2024-01-03", "wind_dir_sin"] == 0.0  # calm/variable direction
    # wind proxy of calm hours: (8 - 2) / (10 - 2) * 16 h
    assert f.loc["2024-01-03", "calm_hours"] == pytest.approx(12.0)
    assert f.loc["2024-01-04", "calm_hours"] == pytest.approx(16.0)  # max <= 8 kn
    assert f.loc["2024-01-05", "calm_hours"] == 0.0
    assert f.attrs["weather_source"] == "knmi"


def test_weather_pentup_counts_calm_days_before_d():
    tab = F.weather_table("knmi", daily_table())
    # calm days (calm_hours >= 6): 01-03 (12 h), 01-04 (16 h); 01-02 is 0.5 h
    assert tab.loc["2024-01-05", "calm_days_last7"] == 2.0
    assert tab.loc["2024-01-05", "days_since_calm"] == 1.0
    assert tab.loc["2024-01-04", "days_since_calm"] == 1.0


def arrivals(n=60, start="2024-01-01"):
    idx = pd.date_range(start, periods=n, freq="D", name="date")
    people = np.where(np.arange(n) % 3 == 0, 100, 0)
    return pd.DataFrame({"people": people, "boats": people // 50}, index=idx)


def test_arrivals_features_relative_to_origin():
    arr = arrivals()
    day = pd.Timestamp("2024-02-20")
    f1 = F.arrivals_features(arr, [day], [day - pd.Timedelta(days=1)])
    f3 = F.arrivals_features(arr, [day], [day - pd.Timedelta(days=3)])
    # 2024-02-19 is day index 49 (49 % 3 == 1 -> 0 people); crossings every 3rd day
    assert f1["people_last1"].iloc[0] == 0
    assert f1["people_last7"].iloc[0] == arr["people"].loc["2024-02-13":"2024-02-19"].sum()
    assert f1["horizon"].iloc[0] == 1 and f3["horizon"].iloc[0] == 3
    # last crossing on or before 02-19 is 02-18 (index 48): 2 days before D
    assert f1["days_since_crossing"].iloc[0] == 2
    # from origin 02-17 (index 47, 47 % 3 = 2): last crossing 02-15 (index 45), 5 days before D
    assert f3["days_since_crossing"].iloc[0] == 5


def test_arrivals_features_ignore_data_after_origin():
    arr = arrivals()
    origin = pd.Timestamp("2024-02-10")
    days = pd.date_range("2024-02-11", periods=5)
    full = F.arrivals_features(arr, days, origin)
    changed = arr.copy()
    changed.loc[changed.index > origin, "people"] = 9999
    pd.testing.assert_frame_equal(full, F.arrivals_features(changed, days, origin))
    pd.testing.assert_frame_equal(full, F.arrivals_features(arr.loc[:origin], days, origin))


def test_origin_must_precede_day():
    with pytest.raises(ConfigError, match="not after its forecast origin"):
        F.arrivals_features(arrivals(), ["2024-01-10"], "2024-01-10")


def test_build_features_checks_source():
    tab = F.weather_table("knmi", daily_table())
    with pytest.raises(ConfigError, match="weather features come from 'knmi'"):
        F.build_features(
            ["2024-01-05"], "2024-01-04", arrivals(), "openmeteo", tab, include_tide_sky=False
        )
    with pytest.raises(ConfigError, match="not known"):
        F.build_features(["2024-01-05"], "2024-01-04", arrivals(), "met", tab)


def test_calendar_features():
    f = F.calendar_features(["2024-01-01", "2024-07-01"])
    assert f["month"].tolist() == [1.0, 7.0]
    assert f["dow"].tolist() == [0.0, 0.0]  # both Mondays
    assert f.loc["2024-01-01", "doy_cos"] == pytest.approx(np.cos(2 * np.pi / 365.25))


# --- features added in experiment 002 -------------------------------------------------


def test_daily_hour_fields_for_d_and_previous_day():
    d = daily_table()
    d["wind_speed_10m_max_hour_utc"] = [13.0, 15.0, 2.0, 9.0, 23.0]
    d["wind_gusts_10m_max_hour_utc"] = [14.0, 16.0, 3.0, 10.0, 22.0]
    f = F.daily_weather_features(d)
    assert f.loc["2024-01-04", "wind_max_hour_utc"] == 9.0
    assert f.loc["2024-01-04", "wind_max_hour_utc_prev"] == 2.0
    assert f.loc["2024-01-02", "wind_max_hour_utc_prev"] == 13.0
    assert f.loc["2024-01-05", "gust_max_hour_utc"] == 22.0
    assert "gust_max_hour_utc_prev" not in f.columns


def test_daily_hour_fields_are_nan_when_absent():
    f = F.daily_weather_features(daily_table())
    assert f["wind_max_hour_utc"].isna().all()
    assert f["gust_max_hour_utc"].isna().all()


def test_wind_vector_features_daily():
    d = daily_table()
    d["wind_direction_10m_mean"] = [45.0, 90.0, 0.0, np.nan, 180.0]
    tab = F.weather_table("knmi", d)
    # table days 01-02..01-05; means 10, 6, 3, 20 kn from 90, 0, calm, 180 deg
    assert tab["wind_from_east"].tolist() == pytest.approx([10.0, 0.0, 0.0, 0.0], abs=1e-12)
    assert tab["wind_from_north"].tolist() == pytest.approx([0.0, 6.0, 0.0, -20.0], abs=1e-12)
    assert tab.loc["2024-01-03", "wind_from_east_prev"] == pytest.approx(10.0)
    assert tab.loc["2024-01-05", "wind_from_north_prev"] == 0.0  # calm day before
    assert np.isnan(tab["wind_from_east_prev"].iloc[0])
    assert "ne_days_last7" not in tab.columns  # tried in experiment 002, not kept


def test_wind_vector_features_hourly_path():
    tab = F.weather_table("openmeteo", synthetic_hourly())
    # SYNTHETIC: 6 kn from 45 deg every hour
    assert tab.index[0] == pd.Timestamp("2024-03-29")
    assert np.isnan(tab.loc["2024-03-29", "wind_from_east_prev"])
    assert tab.loc["2024-03-30", "wind_from_east"] == pytest.approx(6.0 * np.sqrt(0.5))
    assert tab.loc["2024-03-31", "wind_from_north_prev"] == pytest.approx(6.0 * np.sqrt(0.5))


def test_calm_rate_uses_calm_days_up_to_origin_only():
    tab = F.weather_table("knmi", daily_table())
    arr = arrivals(n=10)  # 100 people on 01-01, 01-04, 01-07, 01-10
    dates = ["2024-01-06", "2024-01-04", "2024-01-03"]
    origins = ["2024-01-05", "2024-01-03", "2024-01-02"]
    f = F.calm_rate_features(arr, tab, dates, origins)
    # calm days: 01-03 (0 people), 01-04 (100 people); 01-02 and 01-05 not calm
    assert f["people_per_calm_day_56"].iloc[0] == 50.0
    assert f["people_per_calm_day_56"].iloc[1] == 0.0
    assert np.isnan(f["people_per_calm_day_56"].iloc[2])  # no calm day up to 01-02
    changed = arr.copy()
    changed.loc["2024-01-04":, "people"] = 5000
    g = F.calm_rate_features(changed, tab, dates[1:], origins[1:])
    assert g["people_per_calm_day_56"].iloc[0] == 0.0
    changed.loc["2024-01-03", "people"] = 50  # on the origin itself: counted
    h = F.calm_rate_features(changed, tab, dates[1:2], origins[1:2])
    assert h["people_per_calm_day_56"].iloc[0] == 50.0


def test_calm_rate_window_drops_old_calm_days():
    tab = F.weather_table("knmi", daily_table())
    arr = arrivals(n=10)
    # a 2-day window ending 01-05 holds 01-04 (calm, 100 people) and 01-05 (not calm)
    f = F.calm_rate_features(arr, tab, ["2024-01-06"], ["2024-01-05"], window=2)
    assert f["people_per_calm_day_2"].iloc[0] == 100.0


def test_build_features_adds_calm_rate_only_with_weather():
    tab = F.weather_table("knmi", daily_table())
    arr = arrivals(n=10)
    with_w = F.build_features(
        ["2024-01-06"], "2024-01-05", arr, "knmi", tab, include_tide_sky=False
    )
    assert with_w["people_per_calm_day_56"].iloc[0] == 50.0
    none = F.build_features(["2024-01-06"], "2024-01-05", arr, "none", include_tide_sky=False)
    assert "people_per_calm_day_56" not in none.columns


def test_calm_rate_from_hourly_weather():
    tab = F.weather_table("openmeteo", synthetic_hourly())
    arr = arrivals(n=40, start="2024-03-01")  # 100 people on 03-01, 03-04, ..., 03-31
    X = F.build_features(
        ["2024-04-02"], "2024-04-01", arr, "openmeteo", tab, include_tide_sky=False
    )
    # SYNTHETIC calm every day: table days 03-29..04-01 up to the origin, 100 people on 03-31
    assert X["people_per_calm_day_56"].iloc[0] == 25.0
    assert X.attrs["weather_source"] == "openmeteo"


# --- two stations and the crossing night (issue 10) ------------------------------------


def night_table():
    """Hand-built daily station frame (coast as primary): winds [kn], extreme hours [h UT]."""
    idx = pd.date_range("2024-01-01", periods=4, freq="D", name="date")
    return pd.DataFrame(
        {
            "wind_speed_10m_mean": [10.0, 12.0, 8.0, 6.0],
            "wind_speed_10m_max": [20.0, 18.0, 14.0, 9.0],
            "wind_speed_10m_min": [4.0, 6.0, 2.0, 3.0],
            "wind_gusts_10m_max": [30.0, 28.0, 20.0, 12.0],
            "wind_direction_10m_mean": [0.0, 44.0, 225.0, np.nan],
            "pressure_msl_mean": [1010.0, 1012.0, 1015.0, 1013.0],
            "wind_speed_10m_max_hour_utc": [15.0, 22.0, 5.0, 13.0],
            "wind_speed_10m_min_hour_utc": [23.0, 3.0, 21.0, np.nan],
            "wind_gusts_10m_max_hour_utc": [10.0, 21.0, 15.0, 16.0],
        },
        index=idx,
    )


def test_night_window_in_utc_hours():
    assert F.night_window_hours_utc() == (21.0, 14.0)
    assert F.night_window_hours_utc(F.FeatureConfig(window_start_h=-4, window_end_h=10)) == (
        19.0,
        10.0,
    )
    assert F.night_window_hours_utc(F.FeatureConfig(window_start_h=0, window_end_h=12)) == (
        24.0,
        12.0,
    )


def test_crossing_night_uses_d_minus_1_and_d_and_extreme_hours():
    result = F.crossing_night_features(night_table())
    # window: D-1 from 21 UT (3 h), D before 14 UT (14 h)
    expected = pd.DataFrame(
        {
            # D-1's max at 15 UT (afternoon), then 22 UT (in the window), then 05 UT
            "night_wind_max_prev_pm": [np.nan, 1.0, 0.0, 0.0],
            "night_wind_max_prev_in": [np.nan, 0.0, 1.0, 0.0],
            # D-1's min at 23 UT, 03 UT, 21 UT
            "night_wind_min_prev_in": [np.nan, 1.0, 0.0, 1.0],
            # D's max at 22, 05, 13 UT; D's min at 03, 21 UT and unknown
            "night_wind_max_in": [0.0, 0.0, 1.0, 1.0],
            "night_wind_min_in": [0.0, 1.0, 0.0, np.nan],
            # gusts of D-1 / D: (10, 21) -> no, (21 on D-1, 15) -> yes, (15, 16) -> no
            "night_gust_in": [1.0, 0.0, 1.0, 0.0],
            # D-1 part: min 4 (min at 23); max 18 (max at 22); min 2 (min at 21)
            # D part: min 6 (min at 03); max 14 (max at 05); max 9 (max at 13)
            "night_wind_est": [
                np.nan,
                (3 * 4.0 + 14 * 6.0) / 17,
                (3 * 18.0 + 14 * 14.0) / 17,
                (3 * 2.0 + 14 * 9.0) / 17,
            ],
            "wind_change": [np.nan, 2.0, -4.0, -2.0],
        },
        index=night_table().index,
    )
    # first day: no D-1, so the gust flag comes from D alone (10 UT: in the window)
    pd.testing.assert_frame_equal(result, expected)


def test_crossing_night_falls_back_to_daily_mean_without_hours():
    d = night_table().drop(
        columns=[
            "wind_speed_10m_max_hour_utc",
            "wind_speed_10m_min_hour_utc",
            "wind_gusts_10m_max_hour_utc",
        ]
    )
    result = F.crossing_night_features(d)
    assert result["night_wind_max_in"].isna().all()
    assert result["night_gust_in"].isna().all()
    assert result["night_wind_est"].tolist()[1:] == pytest.approx(
        [(3 * 10.0 + 14 * 12.0) / 17, (3 * 12.0 + 14 * 8.0) / 17, (3 * 8.0 + 14 * 6.0) / 17]
    )


def with_inland(d: pd.DataFrame) -> pd.DataFrame:
    d = d.copy()
    d["stn340_wind_speed_10m_mean"] = [5.0, 6.0, np.nan, 3.0]
    d["stn340_wind_speed_10m_max"] = [8.0, 9.0, np.nan, 4.0]
    d["stn340_wind_speed_10m_min"] = [1.0, 2.0, np.nan, 1.0]
    d["stn340_wind_gusts_10m_max"] = [25.0, 20.0, np.nan, 10.0]
    d["stn340_pressure_msl_mean"] = [1011.0, 1011.0, 1014.0, 1015.0]
    d["stn340_wind_speed_10m_max_hour_utc"] = [15.0, 22.0, np.nan, 2.0]
    d["stn340_wind_speed_10m_min_hour_utc"] = [23.0, 3.0, np.nan, 20.0]
    return d


def test_secondary_station_and_coast_minus_inland():
    d = with_inland(night_table())
    assert F.secondary_stations(d) == [340]
    result = F.secondary_station_features(d, 340)
    expected = pd.DataFrame(
        {
            "stn340_wind_speed_10m_mean": [5.0, 6.0, np.nan, 3.0],
            "stn340_wind_speed_10m_mean_prev": [np.nan, 5.0, 6.0, np.nan],
            "stn340_wind_speed_10m_max": [8.0, 9.0, np.nan, 4.0],
            "stn340_wind_speed_10m_min": [1.0, 2.0, np.nan, 1.0],
            "stn340_wind_gusts_10m_max": [25.0, 20.0, np.nan, 10.0],
            # D-1 min at 23 UT (1 kn) and D min at 03 UT (2 kn); 01-03 unknown;
            # 01-04: D-1 unknown, D max at 02 UT (4 kn)
            "stn340_night_wind_est": [np.nan, (3 * 1.0 + 14 * 2.0) / 17, np.nan, np.nan],
            "stn340_wind_change": [np.nan, 1.0, np.nan, np.nan],
            "wind_speed_10m_mean_minus_stn340": [5.0, 6.0, np.nan, 3.0],
            "wind_speed_10m_mean_prev_minus_stn340": [np.nan, 5.0, 6.0, np.nan],
            "wind_gusts_10m_max_minus_stn340": [5.0, 8.0, np.nan, 2.0],
            "night_wind_est_minus_stn340": [
                np.nan,
                (12.0 + 84.0 - 3.0 - 28.0) / 17,
                np.nan,
                np.nan,
            ],
            "pressure_msl_mean_minus_stn340": [-1.0, 1.0, 1.0, -2.0],
        },
        index=d.index,
    )
    pd.testing.assert_frame_equal(result, expected)


def test_daily_features_any_station_set():
    alone = F.daily_weather_features(night_table())
    assert not [c for c in alone.columns if "stn" in c]
    assert "night_wind_est" in alone.columns and "wind_change" in alone.columns
    pair = F.daily_weather_features(with_inland(night_table()))
    assert pair.loc["2024-01-02", "stn340_wind_speed_10m_mean"] == 6.0
    assert pair.loc["2024-01-04", "pressure_msl_mean_minus_stn340"] == -2.0
    pd.testing.assert_frame_equal(pair[list(alone.columns)], alone)
    # another station number, e.g. a secondary 330 Hoek van Holland
    other = night_table()
    other["stn330_wind_speed_10m_mean"] = [1.0, 2.0, 3.0, 4.0]
    f = F.daily_weather_features(other)
    assert f["wind_speed_10m_mean_minus_stn330"].tolist() == [10.0, 5.0, 2.0]
    # no extremes given for it: each part falls back to the daily mean
    assert f["stn330_night_wind_est"].tolist() == pytest.approx(
        [(3 * 1.0 + 14 * 2.0) / 17, (3 * 2.0 + 14 * 3.0) / 17, (3 * 3.0 + 14 * 4.0) / 17]
    )
    tab = F.weather_table("knmi", with_inland(night_table()))
    # NaN where the inland station has no value (2024-01-03)
    assert np.isnan(tab.loc["2024-01-03", "night_wind_est_minus_stn340"])
    assert tab.loc["2024-01-02", "night_wind_est_minus_stn340"] == pytest.approx(65.0 / 17)


def test_direction_sectors_and_previous_day_fields():
    assert F.direction_sector([0.0, 22.4, 22.5, 44.0, 90.0, 225.0, 337.5, 359.0]).tolist() == [
        0.0,
        0.0,
        1.0,
        1.0,
        2.0,
        5.0,
        0.0,
        0.0,
    ]
    assert np.isnan(F.direction_sector([np.nan])[0])
    f = F.daily_weather_features(night_table())
    assert f["wind_dir_sector"].tolist()[:2] == [1.0, 5.0]
    assert f["wind_dir_sector_prev"].tolist()[:2] == [0.0, 1.0]
    assert f["pressure_change"].tolist() == [2.0, 3.0, -2.0]
    assert f["pressure_change_prev"].tolist()[1:] == [2.0, 3.0]
    assert f["wind_max_after_window"].tolist() == [1.0, 0.0, 0.0]
