"""The one-call input layer: weather + waves + tide + sky on one hourly UTC axis.

Weather values are SYNTHETIC (tests/fixtures/openmeteo/synthetic.py) served by the local
127.0.0.1 server; tide and sky values are computed and checked against the stage
functions and against known moon phases.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.errors import DataFormatError
from forecast.features import inputs, sky, tides
from forecast.sources import openmeteo as om
from forecast.sources.sites import Site
from tests.fixtures.openmeteo import synthetic as syn

SITES = (Site("q_off_sangatte", 50.97, 1.72), Site("q_off_dunkirk", 51.08, 2.35))
NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
FAST = om.RetryPolicy(timeout_s=2.0, minutely_wait_s=0.0, transient_wait_s=0.0)


def _fill(server, start, end):
    syn.fill_history(server, SITES, start, end, NOW)


@pytest.mark.network
def test_hourly_inputs_one_axis_across_the_october_clock_change(local_server, data_home):
    # UK clocks go back on 2024-10-27: the UTC axis must still be 24 hours a day.
    _fill(local_server, dt.date(2024, 10, 26), dt.date(2024, 10, 28))
    ds = inputs.hourly_inputs("2024-10-26", "2024-10-28")
    times = pd.DatetimeIndex(ds.indexes["time"])
    expected_times = pd.date_range("2024-10-26 00:00", "2024-10-28 23:00", freq="h")
    assert times.equals(expected_times)
    assert sorted(ds.indexes["site"]) == sorted(s.id for s in SITES)
    # nearest gauges: Sangatte -> Calais, off Dunkirk -> Dunkerque
    assert ds["tide_station"].sel(site="q_off_sangatte").item() == "calais"
    assert ds["tide_station"].sel(site="q_off_dunkirk").item() == "dunkerque"
    np.testing.assert_allclose(
        ds["tide_level"].sel(site="q_off_dunkirk").to_numpy(),
        tides.predict_level("dunkerque", expected_times).to_numpy(),
    )
    np.testing.assert_allclose(
        ds["sun_altitude"].sel(site="q_off_sangatte").to_numpy(),
        sky.sun_altitude(expected_times, 50.97, 1.72),
    )
    for name, unit in {
        "wind_speed_10m": "kn",
        "wave_height": "m",
        "tide_level": "m",
        "sun_altitude": "deg",
        "moon_illumination": "1",
    }.items():
        assert ds[name].attrs["units"] == unit, name
    assert "Open-Meteo" in ds.attrs["attribution"] and "TICON-4" in ds.attrs["attribution"]
    # late October at 51 N: dark at 22 UTC, light at noon
    dark = ds["is_dark"].sel(site="q_off_sangatte").to_series()
    assert bool(dark["2024-10-27 22:00"]) and not bool(dark["2024-10-27 12:00"])


def _toy(times, lat=50.97, lon=1.72):
    """A minimal (time, site) dataset with no weather variables (coords only)."""
    return xr.Dataset(
        coords={
            "time": times,
            "site": ["x"],
            "site_lat": ("site", [lat]),
            "site_lon": ("site", [lon]),
        }
    )


def test_moon_illumination_at_known_full_and_new_moons():
    # full moon 2024-01-25 17:54 UTC, new moon 2024-01-11 11:57 UTC
    times = pd.DatetimeIndex(["2024-01-25 18:00", "2024-01-11 12:00"])
    ds = inputs.add_tide_and_sky(_toy(times))
    illum = ds["moon_illumination"].to_numpy()
    assert illum[0] > 0.99
    assert illum[1] < 0.01


def test_fixed_station_overrides_nearest():
    times = pd.date_range("2024-02-28", "2024-03-01 23:00", freq="h")  # over a leap day
    ds = inputs.add_tide_and_sky(_toy(times), station="dover")
    assert list(ds["tide_station"].to_numpy()) == ["dover"]
    np.testing.assert_allclose(
        ds["tide_level"].to_numpy()[:, 0], tides.predict_level("dover", times).to_numpy()
    )
    assert len(ds.indexes["time"]) == 3 * 24


def test_dataset_without_site_coords_is_rejected():
    ds = xr.Dataset(coords={"time": pd.date_range("2024-01-01", periods=3, freq="h")})
    with pytest.raises(
        DataFormatError, match=r"lacks coordinate\(s\) \['site', 'site_lat', 'site_lon'\]"
    ):
        inputs.add_tide_and_sky(ds)


def test_nearest_tide_station():
    assert inputs.nearest_tide_station(51.12, 1.33) == "dover"
    assert inputs.nearest_tide_station(50.73, 1.55) == "boulogne"
