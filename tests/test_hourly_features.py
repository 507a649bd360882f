"""Hourly (Open-Meteo) weather features on small hand-checkable SYNTHETIC nights.

Every Dataset here is SYNTHETIC (built by code below, not weather). Each test sets a
few hours of one or two nights and checks the aggregate a person can work out by hand:
DST nights, NaN hours, calm runs, directions, site averaging and exact means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.features import build as F


def hourly(start: str, end: str, sites=("a",), **variables) -> xr.Dataset:
    """SYNTHETIC hourly Dataset over ``start..end`` UTC (inclusive).

    Each keyword is a variable: a scalar (every hour, every site), a 1-D array (every
    site) or a 2-D ``(time, site)`` array.
    """
    t = pd.date_range(start, end, freq="h")
    data = {}
    for name, value in variables.items():
        v = np.asarray(value, dtype=float)
        if v.ndim == 0:
            v = np.full(len(t), float(v))
        if v.ndim == 1:
            v = np.column_stack([v] * len(sites))
        data[name] = (("time", "site"), v)
    ds = xr.Dataset(data, coords={"time": t.values, "site": list(sites)})
    ds.attrs["source"] = "SYNTHETIC (tests)"
    return ds


def in_night(ds: xr.Dataset, day: str) -> np.ndarray:
    """Which hours of ``ds`` lie in the night feeding ``day`` (per forecast.features.night)."""
    days, inside = F.window_day(ds["time"].values)
    return inside & (days == pd.Timestamp(day))


# the night into Sunday 2024-10-27 (clocks go back at 02:00 BST): 2024-10-26 22:00 BST
# = 21:00 UTC .. 2024-10-27 14:00 GMT = 14:00 UTC, 17 hours
AUTUMN = ("2024-10-26 12:00", "2024-10-28 23:00")


def test_calm_hours_run_through_the_repeated_hour_of_an_autumn_night():
    ds = hourly(*AUTUMN, wind_speed_10m=20.0)
    night = in_night(ds, "2024-10-27")
    assert night.sum() == 17
    ds["wind_speed_10m"][night] = 5.0
    f = F.hourly_weather_features(ds)
    assert f.loc["2024-10-27", "window_hours"] == 17.0
    assert f.loc["2024-10-27", "calm_hours"] == 17.0  # 01:00 BST and 01:00 GMT both count
    assert f.loc["2024-10-28", "window_hours"] == 16.0
    assert f.loc["2024-10-28", "calm_hours"] == 0.0
    assert f.loc["2024-10-27", "wind_speed_10m_max"] == 5.0


def test_a_missing_wind_hour_breaks_the_calm_run_but_counts_as_a_window_hour():
    ds = hourly(*AUTUMN, wind_speed_10m=5.0)
    t = pd.DatetimeIndex(ds["time"].values)
    ds["wind_speed_10m"][t == pd.Timestamp("2024-10-27 01:00")] = np.nan
    f = F.hourly_weather_features(ds)
    # 21:00 .. 00:00 UTC (4 h), a gap at 01:00, then 02:00 .. 13:00 UTC (12 h)
    assert f.loc["2024-10-27", "calm_hours"] == 12.0
    assert f.loc["2024-10-27", "window_hours"] == 17.0
    assert f.loc["2024-10-27", "wind_speed_10m_mean"] == 5.0
    assert f.loc["2024-10-28", "calm_hours"] == 16.0


def test_rain_and_waves_break_calm_only_when_known_and_above_the_limits():
    # the night into 2024-06-02 (BST): 2024-06-01 21:00 .. 2024-06-02 13:00 UTC, 16 hours
    ds = hourly(
        "2024-06-01 12:00", "2024-06-02 23:00", wind_speed_10m=5.0, precipitation=0.0,
        wave_height=0.5,
    )  # fmt: skip
    hours = np.flatnonzero(in_night(ds, "2024-06-02"))
    assert len(hours) == 16
    ds["precipitation"][hours[3]] = np.nan  # unknown rain: not a break
    ds["wave_height"][hours[5]] = np.nan  # unknown waves: not a break
    ds["precipitation"][hours[10]] = 2.0  # > calm_rain_mm = 1 mm: a break
    f = F.hourly_weather_features(ds).loc["2024-06-02"]
    assert f["calm_hours"] == 10.0  # hours 0..9, then 11..15 (5 h)
    assert f["precipitation_sum"] == 2.0
    assert f["wave_height_max"] == 0.5
    ds["wave_height"][hours[12]] = 0.8  # > calm_wave_m = 0.75 m
    ds["precipitation"][hours[10]] = 1.0  # at the limit: calm
    f = F.hourly_weather_features(ds).loc["2024-06-02"]
    assert f["calm_hours"] == 12.0  # hours 0..11


def test_missing_and_all_nan_variables_give_nan_features():
    ds = hourly("2024-06-01 12:00", "2024-06-03 23:00", wind_speed_10m=8.0)
    ds["wind_speed_10m"][in_night(ds, "2024-06-03")] = np.nan
    f = F.hourly_weather_features(ds)
    for col in (
        "wind_gusts_10m_max", "wave_height_mean", "wave_height_max", "wave_period_mean",
        "precipitation_sum", "visibility_min", "pressure_msl_mean",
    ):  # fmt: skip
        assert f[col].isna().all(), col
    # no direction: no sector and a zero vector
    assert (f[["wind_dir_sin", "wind_dir_cos", "wind_from_ne", "wind_onshore_fr"]] == 0).all().all()
    assert (f["wind_from_ne_hours"] == 0).all()
    night = f.loc["2024-06-03"]  # every wind hour missing
    assert np.isnan(night["wind_speed_10m_mean"]) and np.isnan(night["wind_speed_10m_max"])
    assert night["calm_hours"] == 0.0 and night["window_hours"] == 16.0
    assert f.loc["2024-06-02", "calm_hours"] == 16.0  # 8 kn, nothing else known


def test_direction_is_the_wind_weighted_vector_mean_and_sectors_count_hours():
    ds = hourly("2024-06-01 12:00", "2024-06-02 23:00", wind_speed_10m=10.0)
    hours = np.flatnonzero(in_night(ds, "2024-06-02"))
    direction = np.full(ds.sizes["time"], 200.0)
    direction[hours[:8]] = 0.0  # 8 h from the north (sector bound: from NE)
    direction[hours[8:]] = 90.0  # 8 h from the east (sector bound: from NE)
    ds["wind_direction_10m"] = (("time", "site"), direction[:, None])
    f = F.hourly_weather_features(ds).loc["2024-06-02"]
    assert f["wind_from_ne_hours"] == 16.0
    assert f["wind_dir_sin"] == pytest.approx(np.sqrt(0.5))  # 45 deg
    assert f["wind_dir_cos"] == pytest.approx(np.sqrt(0.5))
    assert f["wind_from_ne"] == 1.0 and f["wind_onshore_fr"] == 0.0
    # a light wind from the south weighs less than a strong one from the north
    wind = ds["wind_speed_10m"].values.copy()
    wind[hours[8:], 0] = 2.0
    direction[hours[8:]] = 180.0
    ds2 = ds.assign(
        wind_speed_10m=(("time", "site"), wind),
        wind_direction_10m=(("time", "site"), direction[:, None]),
    )
    g = F.hourly_weather_features(ds2).loc["2024-06-02"]
    assert g["wind_dir_cos"] == pytest.approx(1.0) and g["wind_dir_sin"] == pytest.approx(0.0)
    assert g["wind_from_ne_hours"] == 8.0
    # no wind at all: no mean direction
    calm = F.hourly_weather_features(ds.assign(wind_speed_10m=ds["wind_speed_10m"] * 0.0))
    assert calm.loc["2024-06-02", ["wind_dir_sin", "wind_dir_cos"]].tolist() == [0.0, 0.0]


def test_sites_are_averaged_per_hour_and_directions_as_vectors():
    t = pd.date_range("2024-06-01 12:00", "2024-06-02 23:00", freq="h")
    wind = np.column_stack([np.full(len(t), 6.0), np.full(len(t), 10.0)])
    wind[:, 1][in_night(hourly(str(t[0]), str(t[-1])), "2024-06-02")] = np.nan
    ds = hourly(
        str(t[0]), str(t[-1]), sites=("a", "b"), wind_speed_10m=wind,
        wind_direction_10m=np.column_stack([np.full(len(t), 80.0), np.full(len(t), 100.0)]),
    )  # fmt: skip
    f = F.hourly_weather_features(ds)
    assert f.loc["2024-06-01", "wind_speed_10m_mean"] == 8.0  # (6 + 10) / 2
    assert f.loc["2024-06-02", "wind_speed_10m_mean"] == 6.0  # site b missing: site a alone
    # 80 and 100 deg average to 90 deg (east), so 0 h from the NE sector's 0..90 deg
    # is not certain at the bound: check the vector instead
    assert f.loc["2024-06-01", "wind_dir_sin"] == pytest.approx(1.0)
    assert f.loc["2024-06-01", "wind_dir_cos"] == pytest.approx(0.0, abs=1e-12)
    b = F.hourly_weather_features(ds, site="b")
    assert b.loc["2024-06-01", "wind_speed_10m_mean"] == 10.0
    assert np.isnan(b.loc["2024-06-02", "wind_speed_10m_mean"])


def test_means_and_sums_equal_numpy_on_the_nights_hours_exactly():
    rng = np.random.default_rng(7)
    ds = hourly(
        "2024-03-28 12:00", "2024-04-02 23:00", sites=("a", "b", "c"),
        wind_speed_10m=rng.gamma(4.0, 3.0, (132, 3)),
        precipitation=rng.exponential(0.3, (132, 3)),
        wave_height=rng.gamma(2.0, 0.4, (132, 3)),
    )  # fmt: skip
    ds["wave_height"][5:40:3, 1] = np.nan
    f = F.hourly_weather_features(ds)
    site_mean = {v: np.nanmean(ds[v].values, axis=1) for v in ds.data_vars}
    for day in f.index:
        night = in_night(ds, day)
        assert f.loc[day, "window_hours"] == night.sum()
        assert f.loc[day, "wind_speed_10m_mean"] == np.mean(site_mean["wind_speed_10m"][night])
        assert f.loc[day, "precipitation_sum"] == np.sum(site_mean["precipitation"][night])
        assert f.loc[day, "wave_height_mean"] == np.mean(site_mean["wave_height"][night])
        assert f.loc[day, "wave_height_max"] == np.max(site_mean["wave_height"][night])
    assert f.loc["2024-03-31", "window_hours"] == 15.0  # clocks go forward


def test_days_are_ascending_and_dates_reindex_with_nan_rows():
    ds = hourly("2024-06-01 14:00", "2024-06-04 23:00", wind_speed_10m=7.0)  # 14:00 UTC: no night
    shuffled = ds.isel(time=np.random.default_rng(0).permutation(ds.sizes["time"]))
    f = F.hourly_weather_features(shuffled)
    assert list(f.index) == list(pd.date_range("2024-06-02", "2024-06-05", name="date"))
    assert (f["wind_speed_10m_mean"] == 7.0).all()
    assert f.index.name == "date" and (f.dtypes == "float64").all()
    asked = ["2024-06-03", "2024-06-09"]
    g = F.hourly_weather_features(ds, dates=asked)
    assert list(g.index) == [pd.Timestamp(d) for d in asked]
    assert g.loc["2024-06-03", "calm_hours"] == 16.0
    assert g.loc["2024-06-09"].isna().all()
    assert list(g.columns) == list(f.columns)
