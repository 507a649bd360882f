"""Error dressing of an hourly deterministic forecast: members with the forecast's error.

A crossing model trained on observed weather and fed **one** deterministic forecast is
over-confident beyond the first day (experiment 005: reliability slope of P(any) 0.68 at
day 5); fed an ensemble and mixed over its members it is close to calibrated. When no
weather ensemble is at hand, this module makes one from the deterministic forecast:

1. :func:`daily_frame` aggregates the hourly forecast (sites averaged, directions as
   vectors) into one row per **UTC day**: mean, max and min wind [kn], max gust [kn],
   wind-weighted mean direction [deg] and, when present, mean pressure [hPa];
2. :func:`forecast.features.forecast_error.dress_forecast` draws, for each day at lead
   ``k`` days after the origin, members of the weather that may follow such a forecast
   (a draw of the truth given the forecast; the error model is symmetric, so the law of
   the truth given the forecast is the generator applied to the forecast). The
   climatology it shrinks towards is the same daily aggregation of the **Open-Meteo
   archive** the weather model trains on (``climate_daily``, at least 365 days);
3. :func:`dress_hourly` carries each member's daily values back onto the hourly fields
   of that day: wind speeds scaled by the ratio, in ``x + 1 kn`` space, of the dressed to
   the forecast daily mean wind (gusts by the ratio of the daily max gusts, and never
   below the wind), the wind direction rotated by the dressed-minus-forecast daily mean
   direction, the pressure shifted by the difference of the daily means. Waves,
   precipitation, visibility and temperature are **not** perturbed: every member keeps
   the deterministic marine forecast's waves, as the members of the Open-Meteo ensemble
   do (:func:`forecast.products.ensemble.openmeteo_members`).

Days up to the origin (the forecast's analysed past days) are unchanged. One int seed
is used at every lead, so each member follows one consistent error path through the
days (a member that misses a calm spell misses it for several days). Everything made
here is labelled :data:`LABEL` ("simulated forecast error").
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import xarray as xr

from forecast.errors import ConfigError, DataFormatError
from forecast.features import forecast_error as fe

__all__ = [
    "DAILY_COLUMNS",
    "LABEL",
    "check_climate",
    "daily_frame",
    "dress_daily",
    "dress_hourly",
]

#: Words every dressed member carries (``attrs["label"]``).
LABEL = f"dressed forecast ({fe.LABEL})"

#: Columns of :func:`daily_frame` (pressure only when the Dataset has it).
DAILY_COLUMNS = (
    *fe.REQUIRED_COLUMNS,
    "wind_direction_10m_mean",
    "pressure_msl_mean",
)

#: A daily mean direction is undefined (NaN) when the wind-weighted resultant is below
#: this share of the mean wind (calm or variable day) [1].
MIN_DIRECTION_RESULTANT = 0.05

#: How to get the climatology, for error messages.
HOW_TO_GET_CLIMATE = (
    "run 'forecast weather update' while online (it fetches the Open-Meteo archive the "
    "weather model trains on; '--kind archive' fetches only that)"
)


# ----------------------------------------------------------------------------- daily
def _site_mean(ds: xr.Dataset, name: str, n: int) -> np.ndarray:
    """Hourly site mean of ``name`` (directions as unit vectors); NaN when absent."""
    if name not in ds:
        return np.full(n, np.nan)
    da = ds[name].astype(float)
    extra = [d for d in da.dims if d != "time"]
    if not extra:
        return da.values
    if name.endswith("direction_10m") or name == "wave_direction":
        rad = np.deg2rad(da)
        s, c = np.sin(rad).mean(extra), np.cos(rad).mean(extra)
        return (np.rad2deg(np.arctan2(s, c)) % 360.0).transpose("time").values
    return da.mean(extra).transpose("time").values


def _check_hourly(ds: xr.Dataset) -> pd.DatetimeIndex:
    if not isinstance(ds, xr.Dataset) or "time" not in ds.coords or "wind_speed_10m" not in ds:
        have = list(ds.data_vars) if isinstance(ds, xr.Dataset) else type(ds).__name__
        raise DataFormatError(
            "hourly forecast Dataset needs a 'time' coordinate and a 'wind_speed_10m' [kn] "
            f"variable (has {have}); load it with "
            "forecast.stores.weather.load_forecast_latest()."
        )
    times = pd.DatetimeIndex(ds["time"].values)
    if times.tz is not None:
        raise DataFormatError(
            "hourly forecast 'time' must be tz-naive UTC (as the cache stores it)"
        )
    if not times.is_monotonic_increasing or times.has_duplicates:
        raise DataFormatError("hourly forecast 'time' must increase without duplicates")
    return times


def daily_frame(ds: xr.Dataset) -> pd.DataFrame:
    """Daily (UTC day) weather of an hourly Open-Meteo Dataset, as the error model reads it.

    Parameters
    ----------
    ds : xarray.Dataset
        Hourly weather, dims ``(time, site)`` (or ``time`` only) as from
        :func:`forecast.stores.weather.load_forecast_latest` or ``load_hourly``:
        ``wind_speed_10m`` [kn] (required), ``wind_gusts_10m`` [kn],
        ``wind_direction_10m`` [deg], ``pressure_msl`` [hPa]. Sites are averaged first
        (directions as unit vectors), as :func:`forecast.features.build.hourly_weather_features`
        does.

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (UTC days, tz-naive, every day with an hour in ``ds``); columns
        ``wind_speed_10m_mean``, ``wind_speed_10m_max``, ``wind_speed_10m_min``,
        ``wind_gusts_10m_max`` [kn], ``wind_direction_10m_mean`` [deg] (wind-weighted
        vector mean; NaN on a calm or variable day) and, when ``ds`` has pressure,
        ``pressure_msl_mean`` [hPa]. Days without any wind value are NaN.

    Raises
    ------
    DataFormatError
        No ``time`` coordinate or no ``wind_speed_10m``, or a bad time axis.
    """
    times = _check_hourly(ds)
    n = len(times)
    wind = _site_mean(ds, "wind_speed_10m", n)
    direction = np.deg2rad(_site_mean(ds, "wind_direction_10m", n))
    weight = np.where(np.isfinite(wind) & np.isfinite(direction), wind, 0.0)
    hourly = pd.DataFrame(
        {
            "wind": wind,
            "gust": _site_mean(ds, "wind_gusts_10m", n),
            "ws": weight * np.sin(np.where(weight > 0, direction, 0.0)),
            "wc": weight * np.cos(np.where(weight > 0, direction, 0.0)),
            "w": weight,
            "pres": _site_mean(ds, "pressure_msl", n),
        },
        index=times,
    )
    g = hourly.groupby(times.normalize())
    out = pd.DataFrame(
        {
            "wind_speed_10m_mean": g["wind"].mean(),
            "wind_speed_10m_max": g["wind"].max(),
            "wind_speed_10m_min": g["wind"].min(),
            "wind_gusts_10m_max": g["gust"].max(),
        }
    )
    s, c, w = g["ws"].sum(), g["wc"].sum(), g["w"].sum()
    resultant = np.hypot(s, c) / w.where(w > 0)
    direction_mean = np.rad2deg(np.arctan2(s, c)) % 360.0
    out["wind_direction_10m_mean"] = direction_mean.where(resultant >= MIN_DIRECTION_RESULTANT)
    if "pressure_msl" in ds:
        out["pressure_msl_mean"] = g["pres"].mean()
    out.index = pd.DatetimeIndex(out.index, name="date")
    out.attrs = {"source": str(ds.attrs.get("source", "hourly weather")), "day": "UTC day"}
    return out


def check_climate(climate_daily: pd.DataFrame, what: str = "climate_daily") -> pd.DataFrame:
    """``climate_daily`` if it can stand for the climatology of the dressing, else ConfigError.

    It needs at least :data:`forecast.features.forecast_error.MIN_CLIMATE_DAYS` (365) days
    with every wind column (:data:`forecast.features.forecast_error.REQUIRED_COLUMNS`).
    """
    if not isinstance(climate_daily, pd.DataFrame) or not isinstance(
        climate_daily.index, pd.DatetimeIndex
    ):
        raise DataFormatError(
            f"{what} must be a date-indexed DataFrame as from daily_frame(); got "
            f"{type(climate_daily).__name__}"
        )
    missing = [c for c in fe.REQUIRED_COLUMNS if c not in climate_daily.columns]
    if missing:
        raise DataFormatError(f"{what} lacks column(s) {missing} [kn]; make it with daily_frame()")
    valid = int(climate_daily[list(fe.REQUIRED_COLUMNS)].notna().all(axis=1).sum())
    if valid < fe.MIN_CLIMATE_DAYS:
        span = (
            f"{climate_daily.index[0].date()} .. {climate_daily.index[-1].date()}"
            if len(climate_daily)
            else "nothing"
        )
        raise ConfigError(
            f"{what}: the cached Open-Meteo archive gives {valid} days with wind ({span}); "
            f"dressing the forecast with its error needs >= {fe.MIN_CLIMATE_DAYS} days for "
            f"the day-of-year climatology. To fix it, {HOW_TO_GET_CLIMATE}."
        )
    return climate_daily


# ----------------------------------------------------------------------------- dressing
def _leads(days: pd.DatetimeIndex, origin: pd.Timestamp) -> np.ndarray:
    """Lead [d] of each day after ``origin``; beyond 16 days the error is saturated (16)."""
    return np.minimum(np.asarray((days - origin).days), fe.MAX_LEAD)


def _check_seed(random_state: object) -> int:
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise ConfigError(
            "random_state must be an int seed (one seed at every lead keeps each member on "
            f"one error path through the days); got {random_state!r}"
        )
    return int(random_state)


def dress_daily(
    daily: pd.DataFrame,
    origin: pd.Timestamp,
    n_members: int,
    random_state: int,
    climate_daily: pd.DataFrame,
    table: fe.ErrorTable = fe.DEFAULT_TABLE,
) -> pd.DataFrame:
    """Dressed members of the days of ``daily`` after ``origin``, each at its own lead.

    Parameters
    ----------
    daily : pandas.DataFrame
        From :func:`daily_frame` of the forecast.
    origin : Timestamp
        Last day not dressed (UTC date); day ``origin + k`` is dressed at lead ``k``
        [d] (1..16; later days at 16, where the error is saturated).
    n_members : int
        Members (>= 1).
    random_state : int
        Seed, the same at every lead (each member keeps one error path).
    climate_daily : pandas.DataFrame
        :func:`daily_frame` of the training weather (>= 365 days; :func:`check_climate`).
    table : forecast.features.forecast_error.ErrorTable
        Error sizes per lead.

    Returns
    -------
    pandas.DataFrame
        Index levels ``member`` and ``date`` (the days after ``origin``); the dressed
        columns (the wind family, direction and, when the climatology has it, pressure).
        ``attrs["label"]`` says "simulated forecast error".
    """
    seed = _check_seed(random_state)
    check_climate(climate_daily)
    origin = pd.Timestamp(origin).normalize()
    ahead = daily.loc[daily.index > origin]
    if ahead.empty:
        raise ConfigError(
            f"the forecast has no day after the origin {origin.date()} "
            f"(it covers {daily.index[0].date()} .. {daily.index[-1].date()}); nothing to dress"
            if len(daily)
            else "the forecast has no day; nothing to dress"
        )
    cols = [c for c in (*fe.REQUIRED_COLUMNS, "wind_direction_10m_mean") if c in ahead.columns]
    if "pressure_msl_mean" in ahead.columns and "pressure_msl_mean" in climate_daily.columns:
        if climate_daily["pressure_msl_mean"].notna().sum() >= fe.MIN_CLIMATE_DAYS:
            cols.append("pressure_msl_mean")  # else the pressure is left as forecast
    frame = ahead[cols]
    climate = climate_daily[[c for c in cols if c in climate_daily.columns]]
    leads = _leads(frame.index, origin)
    # each day at its own lead in one pass, one AR(1) error path per member
    out = fe.dress_forecast(frame, leads, n_members, seed, table=table, climate=climate)
    out.attrs = {
        "label": f"{LABEL}: {int(n_members)} members, leads {int(leads.min())}..{int(leads.max())} d "
        f"after {origin.date()}, seed {seed}, table {table.name}",
        "origin": origin.date().isoformat(),
        "seed": seed,
    }
    return out


def _per_time(values: np.ndarray, pos: np.ndarray, neutral: float) -> np.ndarray:
    """Daily values spread onto the hours (``pos`` = day index, -1 = not dressed)."""
    v = np.where(np.isfinite(values), values, neutral)
    return np.where(pos >= 0, v[np.maximum(pos, 0)], neutral)


def _along_time(da: xr.DataArray, per_hour: np.ndarray) -> np.ndarray:
    """``per_hour`` shaped to broadcast against ``da`` along its time axis."""
    shape = [1] * da.ndim
    shape[da.get_axis_num("time")] = len(per_hour)
    return per_hour.reshape(shape)


def dress_hourly(
    ds: xr.Dataset,
    origin: pd.Timestamp,
    n_members: int,
    random_state: int,
    climate_daily: pd.DataFrame,
    table: fe.ErrorTable = fe.DEFAULT_TABLE,
) -> Iterator[xr.Dataset]:
    """Members of a dressed deterministic forecast, one hourly Dataset each.

    The dressing (:func:`dress_daily`) is done here, at the call (so a bad origin or
    climatology fails at once); the hourly members are made one at a time as the
    iterator is read.

    Parameters
    ----------
    ds : xarray.Dataset
        The hourly deterministic forecast (dims ``(time, site)``; see :func:`daily_frame`).
    origin : Timestamp
        Last UTC day left as forecast; day ``origin + k`` is dressed at lead ``k`` [d].
    n_members : int
        Members (>= 1).
    random_state : int
        Seed (the same outlook gives the same members).
    climate_daily : pandas.DataFrame
        :func:`daily_frame` of the training weather (the Open-Meteo archive), >= 365 days.
    table : forecast.features.forecast_error.ErrorTable
        Error sizes per lead (default the published-error table).

    Yields
    ------
    xarray.Dataset
        ``ds`` with, on each dressed day, ``wind_speed_10m`` [kn] scaled by
        ``(dressed mean + 1) / (forecast mean + 1)`` in ``x + 1 kn`` space (never below 0),
        ``wind_gusts_10m`` [kn] by the ratio of the daily max gusts (never below the
        wind), ``wind_direction_10m`` [deg] rotated by the dressed-minus-forecast daily
        mean direction and ``pressure_msl`` [hPa] shifted by the difference of the daily
        means; every other variable (waves included) unchanged. ``attrs``: ``ds``'s plus
        ``label`` (:data:`LABEL`), ``member``, ``dressing_origin``.

    Raises
    ------
    ConfigError
        No day after ``origin``, a non-int seed, or too short a climatology (the message
        says to run ``forecast weather update``).
    DataFormatError
        ``ds`` is not an hourly Dataset with ``wind_speed_10m``.
    """
    daily = daily_frame(ds)
    dressed = dress_daily(daily, origin, n_members, random_state, climate_daily, table)
    days = dressed.index.get_level_values("date").unique()
    forecast = daily.loc[days]
    times = pd.DatetimeIndex(ds["time"].values)
    pos = days.get_indexer(times.normalize())
    n = int(n_members)

    def member_values(col: str) -> np.ndarray | None:
        if col not in dressed.columns:
            return None
        return dressed[col].to_numpy(dtype=float).reshape(n, len(days))

    def ratio(col: str) -> np.ndarray | None:
        values = member_values(col)
        return None if values is None else (values + 1.0) / (forecast[col].to_numpy() + 1.0)

    wind_ratio, gust_ratio = ratio("wind_speed_10m_mean"), ratio("wind_gusts_10m_max")
    turn = member_values("wind_direction_10m_mean")
    if turn is not None:
        turn = (turn - forecast["wind_direction_10m_mean"].to_numpy() + 180.0) % 360.0 - 180.0
    shift = member_values("pressure_msl_mean")
    if shift is not None:
        shift = shift - forecast["pressure_msl_mean"].to_numpy()
    attrs = {k: v for k, v in ds.attrs.items() if k != "member"}
    source = str(ds.attrs.get("source", "deterministic forecast"))

    def put(out: xr.Dataset, name: str, values: np.ndarray) -> None:
        """Set ``name`` to ``values`` on the dressed hours only (the rest stays as given)."""
        da = ds[name]
        out[name] = da.copy(data=np.where(_along_time(da, pos >= 0), values, da.values))

    def members() -> Iterator[xr.Dataset]:
        for m in range(n):
            out = ds.copy()
            wind = ds["wind_speed_10m"]
            w = (wind.values + 1.0) * _along_time(wind, _per_time(wind_ratio[m], pos, 1.0)) - 1.0
            w = np.maximum(w, 0.0)
            put(out, "wind_speed_10m", w)
            if "wind_gusts_10m" in ds:
                gust = ds["wind_gusts_10m"]
                r = gust_ratio[m] if gust_ratio is not None else np.ones(len(days))
                g = (gust.values + 1.0) * _along_time(gust, _per_time(r, pos, 1.0)) - 1.0
                g = np.maximum(g, 0.0)
                if gust.dims == wind.dims:  # gusts never below the (dressed) wind
                    g = np.where(np.isfinite(g) & np.isfinite(w), np.maximum(g, w), g)
                put(out, "wind_gusts_10m", g)
            if turn is not None and "wind_direction_10m" in ds:
                d = ds["wind_direction_10m"]
                rot = _along_time(d, _per_time(turn[m], pos, 0.0))
                put(out, "wind_direction_10m", np.mod(d.values + rot, 360.0))
            if shift is not None and "pressure_msl" in ds:
                p = ds["pressure_msl"]
                put(out, "pressure_msl", p.values + _along_time(p, _per_time(shift[m], pos, 0.0)))
            out.attrs = {
                **attrs,
                "source": f"{source}; {LABEL}",
                "label": LABEL,
                "member": m,
                "dressing_origin": dressed.attrs["origin"],
            }
            yield out

    return members()
