"""Every physical driver on one hourly UTC axis per site: weather, waves, tide, sky.

:func:`hourly_inputs` is the one call of the input layer: it reads the Open-Meteo cache
(:func:`forecast.stores.weather.load_hourly`, never the network) and adds, for every site and
hour, the predicted tide level at the nearest tide gauge and the sun's altitude
(darkness), plus the moon's altitude and illumination for the Strait.
:func:`add_tide_and_sky` does the adding for any ``(time, site)`` dataset, such as a
forecast run or a file given with ``--weather FILE``.
"""

from __future__ import annotations

from typing import Any

import ephem
import numpy as np
import pandas as pd
import xarray as xr

from forecast.errors import DataFormatError
from forecast.features import sky, tides
from forecast.sources.tides import STATIONS, load_station, station_key
from forecast.stores.weather import load_hourly

#: Nautical darkness: sun's centre more than 12 deg below the horizon.
DARKNESS_DEPRESSION_DEG = 12.0


def nearest_tide_station(lat: float, lon: float) -> str:
    """Key of the tide gauge nearest to ``(lat, lon)`` [deg N, deg E] (great-circle)."""
    best, best_d = "", np.inf
    for key in STATIONS:
        st = load_station(key)
        p1, p2 = np.deg2rad(lat), np.deg2rad(st.lat)
        dl = np.deg2rad(st.lon - lon)
        d = np.arccos(
            np.clip(np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(dl), -1, 1)
        )
        if d < best_d:
            best, best_d = key, d
    return best


def moon_hourly(times_utc: pd.DatetimeIndex, lat: float, lon: float) -> pd.DataFrame:
    """Moon altitude [deg] and illuminated fraction [1] at each hour (PyEphem).

    Parameters
    ----------
    times_utc : DatetimeIndex
        Naive, meaning UTC.
    lat, lon : float
        Observer [deg N], [deg E].
    """
    obs = ephem.Observer()
    obs.lat, obs.lon = str(lat), str(lon)
    obs.pressure = 0  # geometric altitude, as for the sun
    moon = ephem.Moon()
    alt = np.empty(len(times_utc))
    illum = np.empty(len(times_utc))
    for i, t in enumerate(times_utc):
        obs.date = ephem.Date(t.to_pydatetime())
        moon.compute(obs)
        alt[i] = np.rad2deg(float(moon.alt))
        illum[i] = float(moon.moon_phase)
    return pd.DataFrame({"moon_altitude": alt, "moon_illumination": illum}, index=times_utc)


def add_tide_and_sky(ds: xr.Dataset, station: str | None = None) -> xr.Dataset:
    """Add tide level, sun altitude, darkness and moon to an hourly ``(time, site)`` dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        Dims ``time`` (hourly, UTC) and ``site``, with coords ``site_lat`` and
        ``site_lon`` [deg].
    station : str, optional
        Tide gauge for every site (``dover``, ``calais``, ...). By default each site
        takes its nearest gauge, recorded in the coord ``tide_station``.

    Returns
    -------
    xarray.Dataset
        A copy with ``tide_level`` [m above chart datum] and ``sun_altitude`` [deg]
        and ``is_dark`` (nautical) per time and site, and ``moon_altitude`` [deg] and
        ``moon_illumination`` [1] per time at the mean site position.

    Raises
    ------
    DataFormatError
        If ``ds`` lacks the ``time``/``site`` dims or the site coordinates.
    """
    missing = [c for c in ("time", "site", "site_lat", "site_lon") if c not in ds.coords]
    if missing:
        raise DataFormatError(
            f"weather dataset lacks coordinate(s) {missing}; expected dims (time, site) with "
            "site_lat/site_lon as returned by forecast.stores.weather.load_hourly()."
        )
    times = pd.DatetimeIndex(ds.indexes["time"])
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    lats = ds["site_lat"].to_numpy().astype(float)
    lons = ds["site_lon"].to_numpy().astype(float)
    keys = (
        [station_key(station)] * len(lats)
        if station
        else [nearest_tide_station(la, lo) for la, lo in zip(lats, lons, strict=True)]
    )
    levels = {k: tides.predict_level(k, times).to_numpy() for k in set(keys)}
    tide = np.stack([levels[k] for k in keys], axis=1)
    sun = np.stack(
        [sky.sun_altitude(times, la, lo) for la, lo in zip(lats, lons, strict=True)], axis=1
    )
    moon = moon_hourly(times, float(np.mean(lats)), float(np.mean(lons)))
    out = ds.copy()
    out = out.assign_coords(tide_station=("site", keys))
    out["tide_level"] = (
        ("time", "site"),
        tide,
        {"units": "m", "long_name": "astronomical tide above chart datum"},
    )
    out["sun_altitude"] = (
        ("time", "site"),
        sun,
        {"units": "deg", "long_name": "geometric altitude of the sun"},
    )
    out["is_dark"] = (
        ("time", "site"),
        sun < -DARKNESS_DEPRESSION_DEG,
        {
            "units": "1",
            "long_name": f"nautical darkness (sun below -{DARKNESS_DEPRESSION_DEG:g} deg)",
        },
    )
    out["moon_altitude"] = ("time", moon["moon_altitude"].to_numpy(), {"units": "deg"})
    out["moon_illumination"] = (
        "time",
        moon["moon_illumination"].to_numpy(),
        {"units": "1", "long_name": "illuminated fraction of the moon's disc"},
    )
    tide_attr = "Tidal constants: TICON-4 (DGFI-TUM) via the Neaps tide database, CC-BY-4.0"
    out.attrs["attribution"] = "; ".join(
        a for a in (ds.attrs.get("attribution", ""), tide_attr) if a
    )
    return out


def hourly_inputs(
    start: Any, end: Any, kind: str = "archive", sites=None, station: str | None = None
) -> xr.Dataset:
    """Weather, waves, tide and sky on one hourly UTC axis per site, from the cache.

    Parameters
    ----------
    start, end : date, str or Timestamp
        Inclusive UTC bounds (a plain date as ``end`` includes that whole day).
    kind : {"archive", "historical_forecast", "forecast"}
        Which cached weather (see :func:`forecast.stores.weather.load_hourly`).
    sites : sequence of str, optional
        Site ids (default: every cached site).
    station : str, optional
        One tide gauge for all sites instead of the nearest one.

    Returns
    -------
    xarray.Dataset
        As :func:`forecast.stores.weather.load_hourly` plus the variables of
        :func:`add_tide_and_sky`; every variable carries ``attrs["units"]``.
    """
    return add_tide_and_sky(load_hourly(start, end, kind=kind, sites=sites), station=station)
