"""Darkness, twilight and moonlight over the departure coast, computed offline.

Night D is the package's one crossing night (:mod:`forecast.features.night`): D-1 22:00
to D 14:00 UK time, half-open, 15-17 h long (the Home Office day D counts arrivals of
boats that left in that night). The sun and moon *events* are those of the evening of D-1
and the morning of D; the *amounts* (hours of darkness, moonlit share) count only the
part of the night inside that window. Everything is computed offline for the
point off Sangatte (50.97 N, 1.72 E) unless told otherwise: the sun with a vectorised
low-precision solar position (:func:`sun_altitude`, about 0.01 deg; events to within
seconds of PyEphem and astral), the moon with PyEphem (no downloads).

Definitions
-----------
- ``sunset_utc`` / ``sunrise_utc``: centre of the sun 0.8333 deg below the horizon
  (standard refraction 34' plus the sun's radius 16'): the first sunset after D-1
  12:00 UTC and the following sunrise (before D 12:00 UTC).
- ``nautical_dusk_utc`` / ``nautical_dawn_utc``: centre of the sun 12 deg below the
  horizon (no refraction). At 51 N the sun always sinks below -12 deg (lowest midsummer
  altitude about -15.6 deg), so nautical darkness exists every night; astronomical
  darkness (-18 deg) does not in summer. If an event does not happen (other latitudes),
  the times are NaT and ``darkness_hours`` is 0 (the whole window, 15-17 h, if the sun
  stays below -12 deg all day, polar night, with ``moonlit_fraction`` NaN).
- ``darkness_hours`` [h]: hours of nautical darkness inside the night window, i.e. the
  overlap of [nautical dusk, nautical dawn] with [D-1 22:00, D 14:00) UK time:
  ``min(dawn, window end) - max(dusk, window start)``. In summer dusk comes after
  22:00 UK and this is dawn minus dusk; in winter it is dawn minus 22:00 UK (the dark
  evening before 22:00 belongs to no night).
- ``moon_illumination`` [1]: illuminated fraction of the moon's disc at the middle of the
  darkness inside the window (at local midnight if there is none).
- ``moonrise_utc`` / ``moonset_utc``: first moonrise / moonset between D-1 12:00 UTC
  and D 12:00 UTC (NaT if none: the moon rises about 50 min later each day, so some
  24-h windows have none).
- ``moonlit_fraction`` [1]: share of the nautical darkness inside the window with the
  moon's upper limb above the horizon (0 when there is no darkness in the window).
"""

from __future__ import annotations

import math

import ephem
import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.features.night import night_bounds_utc

__all__ = ["DEFAULT_LAT", "DEFAULT_LON", "is_dark", "night_sky", "sun_altitude"]

#: Departure coast off Sangatte [deg N, deg E].
DEFAULT_LAT = 50.97
DEFAULT_LON = 1.72

COLUMNS = (
    "sunset_utc",
    "sunrise_utc",
    "nautical_dusk_utc",
    "nautical_dawn_utc",
    "darkness_hours",
    "moon_illumination",
    "moonrise_utc",
    "moonset_utc",
    "moonlit_fraction",
)

_D2R = math.pi / 180.0
_DUBLIN_JD = 2415020.0  # ephem dates count days from 1899-12-31 12:00 UT
_UNIX_EPOCH_DJD = 25567.5  # 1970-01-01 00:00 UT as an ephem date
#: Sunset/sunrise: centre of the sun 0.8333 deg below the horizon (34' refraction + 16' radius).
_SUNSET_ALT = -0.8333


def _check_latlon(lat: float, lon: float) -> None:
    if not (-90.0 <= float(lat) <= 90.0):
        raise ConfigError(f"lat must be within -90..90 [deg N]; got {lat}")
    if not (-180.0 <= float(lon) <= 360.0):
        raise ConfigError(f"lon must be within -180..360 [deg E]; got {lon}")


def _utc_ns(times_utc) -> np.ndarray:
    idx = pd.DatetimeIndex(np.atleast_1d(pd.to_datetime(times_utc)))
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.as_unit("ns").asi8


def sun_altitude(times_utc, lat: float, lon: float) -> np.ndarray:
    """Geometric altitude of the sun's centre [deg] (no refraction), vectorised.

    Low-precision solar coordinates (Astronomical Almanac / Meeus ch. 25 style, accurate
    to about 0.01 deg for 1950-2050), good enough to tell twilight states apart.

    Parameters
    ----------
    times_utc : array-like of datetime
        Tz-aware (converted) or naive meaning UTC. NaT gives NaN.
    lat, lon : float
        [deg N], [deg E].
    """
    _check_latlon(lat, lon)
    ns = _utc_ns(times_utc)
    nat = ns == np.iinfo(np.int64).min
    d = (ns - pd.Timestamp("2000-01-01 12:00").value) / 86400e9  # days since J2000
    g = np.deg2rad((357.529 + 0.98560028 * d) % 360)
    q = (280.459 + 0.98564736 * d) % 360
    lam = np.deg2rad(q + 1.915 * np.sin(g) + 0.020 * np.sin(2 * g))
    eps = np.deg2rad(23.439 - 0.00000036 * d)
    ra = np.arctan2(np.cos(eps) * np.sin(lam), np.cos(lam))
    dec = np.arcsin(np.sin(eps) * np.sin(lam))
    gmst = (18.697374558 + 24.06570982441908 * d) % 24  # [h]
    ha = np.deg2rad(gmst * 15 + lon) - ra
    phi = np.deg2rad(lat)
    alt = np.rad2deg(np.arcsin(np.sin(phi) * np.sin(dec) + np.cos(phi) * np.cos(dec) * np.cos(ha)))
    alt[nat] = np.nan
    return alt


def is_dark(
    times_utc, lat: float = DEFAULT_LAT, lon: float = DEFAULT_LON, depression_deg: float = 12
) -> np.ndarray:
    """True where the sun's centre is more than ``depression_deg`` below the horizon.

    Parameters
    ----------
    times_utc : array-like of datetime
        Tz-aware (converted) or naive meaning UTC.
    lat, lon : float
        [deg N], [deg E].
    depression_deg : float
        [deg] 12 for nautical darkness (default), 6 civil, 18 astronomical.

    Returns
    -------
    numpy.ndarray of bool
    """
    if not (0 <= float(depression_deg) <= 90):
        raise ConfigError(f"depression_deg must be within 0..90 [deg]; got {depression_deg}")
    alt = sun_altitude(times_utc, lat, lon)
    return np.asarray(alt < -float(depression_deg))


def _to_ts(d: ephem.Date | None) -> pd.Timestamp:
    if d is None:
        return pd.NaT
    return pd.Timestamp(round((float(d) - _UNIX_EPOCH_DJD) * 86400e3), unit="ms")


def _ephem_date(ts: pd.Timestamp) -> ephem.Date:
    return ephem.Date(ts.value / 86400e9 + _UNIX_EPOCH_DJD)


def _event(fn, body, start) -> ephem.Date | None:
    try:
        return fn(body, start=start)
    except (ephem.AlwaysUpError, ephem.NeverUpError):
        return None


def _moon_up_hours(up0: bool, rise, sett, t0: float, t1: float) -> float:
    """Hours in [t0, t1] (ephem days) with the moon up, given its state at the start of
    the 24-h window and that window's (at most one) rise and set time (None if none)."""
    events = sorted([(float(rise), True)] if rise is not None else [])
    events = sorted(events + ([(float(sett), False)] if sett is not None else []))
    total, up, t = 0.0, up0, t0
    for when, becomes_up in events:
        if when <= t0:
            up = becomes_up
            continue
        end = min(when, t1)
        if up and end > t:
            total += end - t
        t = max(t, end)
        up = becomes_up
        if when >= t1:
            break
    if up and t < t1:
        total += t1 - t
    return total * 24.0


_NAT = np.iinfo(np.int64).min
_STEP_NS = 10 * 60 * 10**9  # 10-min search grid
_NSTEPS = 24 * 6  # D-1 12:00 .. D 12:00 UTC


def _sun_crossings(days_ns: np.ndarray, lat: float, lon: float, target: float):
    """Vectorised first down- and following up-crossing of ``target`` [deg] per night.

    Returns (down_ns, up_ns, always_below) with ``_NAT`` where no crossing happens in the
    24 h from D-1 12:00 UTC; ``always_below`` marks nights with the sun below ``target``
    throughout (polar night). Times are refined by three regula-falsi steps to < 1 s.
    """
    n = len(days_ns)
    t0 = days_ns - 12 * 3600 * 10**9
    grid = t0[:, None] + _STEP_NS * np.arange(_NSTEPS + 1)[None, :]
    alt = sun_altitude(grid.ravel().astype("datetime64[ns]"), lat, lon).reshape(grid.shape) - target
    above = alt >= 0
    down = above[:, :-1] & ~above[:, 1:]
    up = ~above[:, :-1] & above[:, 1:]
    k_down = np.where(down.any(axis=1), down.argmax(axis=1), -1)
    after = up & (np.arange(_NSTEPS)[None, :] > k_down[:, None])
    k_up = np.where(after.any(axis=1) & (k_down >= 0), after.argmax(axis=1), -1)
    always_below = ~above.any(axis=1)

    def refine(k: np.ndarray) -> np.ndarray:
        ok = k >= 0
        out = np.full(n, _NAT, dtype=np.int64)
        if not ok.any():
            return out
        rows = np.flatnonzero(ok)
        a, b = grid[rows, k[ok]].astype(float), grid[rows, k[ok] + 1].astype(float)
        fa, fb = alt[rows, k[ok]], alt[rows, k[ok] + 1]
        for _ in range(3):
            m = a - fa * (b - a) / (fb - fa)
            fm = sun_altitude(m.astype(np.int64).astype("datetime64[ns]"), lat, lon) - target
            same = np.sign(fm) == np.sign(fa)
            a, fa = np.where(same, m, a), np.where(same, fm, fa)
            b, fb = np.where(same, b, m), np.where(same, fb, fm)
        out[rows] = np.round(a - fa * (b - a) / (fb - fa)).astype(np.int64)
        return out

    return refine(k_down), refine(k_up), always_below


def _ns_to_ts(v: int) -> pd.Timestamp:
    return pd.NaT if v == _NAT else pd.Timestamp(v)


def _moon_night(
    obs: ephem.Observer, moon: ephem.Moon, day: pd.Timestamp, dusk: int, dawn: int
) -> tuple:
    """Moon illumination, rise, set and moonlit fraction of night D (PyEphem).

    ``dusk``, ``dawn`` [ns, UTC] bound the darkness inside the night window (``_NAT``
    when there is none); rise and set are searched from D-1 12:00 to D 12:00 UTC.
    """
    noon_before = _ephem_date(day - pd.Timedelta(hours=12))
    noon_after = _ephem_date(day + pd.Timedelta(hours=12))
    if dusk != _NAT and dawn != _NAT:
        d0, d1 = _ephem_date(pd.Timestamp(dusk)), _ephem_date(pd.Timestamp(dawn))
        mid = ephem.Date((float(d0) + float(d1)) / 2)
    else:
        d0 = d1 = None
        mid = ephem.Date(float(_ephem_date(day)) - float(obs.lon) / (2 * math.pi))
    moon.compute(mid)
    illum = float(moon.moon_phase)
    obs.date = noon_before
    moon.compute(obs)
    up0 = moon.alt > -moon.radius  # apparent (refracted) upper limb above the horizon
    rise = _event(obs.next_rising, moon, noon_before)
    sett = _event(obs.next_setting, moon, noon_before)
    rise = rise if rise is not None and float(rise) < float(noon_after) else None
    sett = sett if sett is not None and float(sett) < float(noon_after) else None
    if d0 is not None and float(d1) > float(d0):
        hours = (float(d1) - float(d0)) * 24.0
        lit = _moon_up_hours(up0, rise, sett, float(d0), float(d1)) / hours
    else:
        lit = 0.0
    return illum, _to_ts(rise), _to_ts(sett), min(max(lit, 0.0), 1.0)


_CACHE: dict[tuple[float, float, int], tuple] = {}


def night_sky(dates, lat: float = DEFAULT_LAT, lon: float = DEFAULT_LON) -> pd.DataFrame:
    """Sun and moon of the night feeding each day D (D-1 22:00 to D 14:00 UK time).

    Events (sunset, dusk, dawn, sunrise, moonrise, moonset) are those of the evening of
    D-1 and the morning of D; ``darkness_hours`` and ``moonlit_fraction`` count only the
    darkness inside the night window (see the module notes).

    Parameters
    ----------
    dates : array-like of dates
        Nights D (naive dates; times of day are dropped).
    lat, lon : float
        [deg N], [deg E]; off Sangatte by default.

    Returns
    -------
    pandas.DataFrame
        Index ``date``; columns :data:`COLUMNS` (times naive UTC, ``darkness_hours`` [h],
        ``moon_illumination`` and ``moonlit_fraction`` [0-1]). Results are cached per
        (lat, lon, date); 2018-2026 (3287 nights) takes about a second the first time.
    """
    _check_latlon(lat, lon)
    idx = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(dates)))
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    idx = idx.normalize().rename("date")
    if idx.hasnans:
        raise ConfigError("dates for night_sky contain a missing value (NaT); drop it first")
    todo = [d for d in idx.unique() if (float(lat), float(lon), d.value) not in _CACHE]
    if todo:
        days_ns = pd.DatetimeIndex(todo).as_unit("ns").asi8
        sunset, sunrise, _ = _sun_crossings(days_ns, lat, lon, _SUNSET_ALT)
        dusk, dawn, polar = _sun_crossings(days_ns, lat, lon, -12.0)
        win0, win1 = night_bounds_utc(pd.DatetimeIndex(todo))
        win0 = win0.tz_localize(None).as_unit("ns").asi8
        win1 = win1.tz_localize(None).as_unit("ns").asi8
        obs = ephem.Observer()
        obs.lat, obs.lon, obs.elevation = str(lat), str(lon), 0.0
        moon = ephem.Moon()
        for k, day in enumerate(todo):
            if dusk[k] != _NAT and dawn[k] != _NAT:
                # darkness inside the night window only
                dark0, dark1 = max(dusk[k], win0[k]), min(dawn[k], win1[k])
                if dark1 <= dark0:
                    dark0 = dark1 = _NAT
                dark_h = 0.0 if dark0 == _NAT else (dark1 - dark0) / 3600e9
            else:
                dusk[k] = dawn[k] = dark0 = dark1 = _NAT
                dark_h = (win1[k] - win0[k]) / 3600e9 if polar[k] else 0.0
            moon_part = _moon_night(obs, moon, day, int(dark0), int(dark1))
            if polar[k]:  # dark all day: the moon's share over the whole window
                moon_part = moon_part[:3] + (float("nan"),)
            _CACHE[(float(lat), float(lon), day.value)] = (
                _ns_to_ts(sunset[k]),
                _ns_to_ts(sunrise[k]),
                _ns_to_ts(dusk[k]),
                _ns_to_ts(dawn[k]),
                float(dark_h),
                *moon_part,
            )
    rows = [_CACHE[(float(lat), float(lon), d.value)] for d in idx]
    out = pd.DataFrame(rows, columns=list(COLUMNS), index=idx)
    for c in COLUMNS:
        if c.endswith("_utc"):
            out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
        else:
            out[c] = out[c].astype(float)
    out.attrs.update({"lat": float(lat), "lon": float(lon), "source": "PyEphem (offline)"})
    return out
