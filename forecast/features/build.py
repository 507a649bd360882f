"""Red-day features: one row per Home Office day (the UK calendar day).

Pure functions from weather, tide, sky and arrivals inputs to a feature table indexed
by ``date`` (plain, normalised, tz-naive dates). Data flows one way: nothing here reads
files or the network.

Two kinds of weather input are supported:

- **hourly** Open-Meteo data for the Strait (``xarray.Dataset`` with dims
  ``(time, site)``, see ``docs/CONTRACTS.md``): aggregated over the departure window
  that feeds each Home Office day (by default the package's one definition of the
  night, :mod:`forecast.features.night`: D-1 22:00 .. D 14:00 UK time);
- **daily** station observations (the bundled KNMI proxy, ``forecast.sources.knmi``):
  the overnight window spans two KNMI days, so each feature is taken from the previous
  day (``*_prev``) and the same day. Waves are absent: the wave and calm-hours rules use
  a documented **wind proxy** (:func:`daily_calm_hours_proxy`).

Arrivals-based ("pent-up demand") features are built **relative to the forecast
origin**: at horizon ``h`` the target day is ``D`` and only arrivals up to ``D - h``
are used (:func:`arrivals_features`), so nothing after the origin leaks in.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataFormatError
from forecast.features.night import NIGHT_END_H, NIGHT_START_H, check_window, night_of
from forecast.features.sky import night_sky
from forecast.features.tides import night_tide_features
from forecast.sources.knmi import station_prefix

#: Weather sources a feature table (and a trained model) can be built from.
WEATHER_SOURCES = ("knmi", "openmeteo", "none")


@dataclass(frozen=True)
class FeatureConfig:
    """Thresholds and windows of the feature builder (all documented in docs/model.md).

    Parameters
    ----------
    window_start_h : float
        Start of the departure window feeding day D [h relative to D 00:00 UK wall
        clock] (default :data:`forecast.features.night.NIGHT_START_H` = -2, D-1 22:00).
    window_end_h : float
        End of the window [h relative to D 00:00 UK wall clock] (default
        :data:`forecast.features.night.NIGHT_END_H` = 14, D 14:00); the window is
        half-open ``[start, end)``. The weather features follow this window; the tide
        and sky features always use the package's night (``forecast.features.night``).
    calm_wind_kn : float
        An hour is calm when the hourly mean wind at 10 m is at most this [kn]
        (Strait, hourly input).
    calm_wave_m : float
        ... and the significant wave height is at most this [m] (when waves are known).
    calm_rain_mm : float
        ... and the hourly precipitation is at most this [mm].
    calm_hours_min : float
        A day is calm ("favourable") when its longest run of calm hours in the window
        reaches this [h].
    proxy_calm_wind_kn : float
        Wind-proxy calm threshold for the daily KNMI primary station [kn]. Chosen for the
        inland 340 Woensdrecht (about 0.57 x the coastal wind); with the coastal 310
        Vlissingen as primary it scored better than 14 kn (the same wind at the inland
        station) in a rolling 2020-01 .. 2025-06 backtest, so it is kept for both.
    wave_rule_m : float
        The Times' rule: crossings are rare when waves exceed this [m].
    proxy_wave_rule_wind_kn : float
        Wind-proxy version of the wave rule for daily station data: daily mean station
        wind at most this [kn] stands in for "waves <= wave_rule_m". 10 kn for the
        coastal primary station 310 Vlissingen (the 6 kn chosen for the inland 340
        Woensdrecht times the coast/inland wind ratio 1.76, rounded down); use about
        6 kn when an inland station is the primary.
    """

    window_start_h: float = NIGHT_START_H
    window_end_h: float = NIGHT_END_H
    calm_wind_kn: float = 12.0
    calm_wave_m: float = 0.75
    calm_rain_mm: float = 1.0
    calm_hours_min: float = 6.0
    proxy_calm_wind_kn: float = 8.0
    wave_rule_m: float = 0.5
    proxy_wave_rule_wind_kn: float = 10.0

    def __post_init__(self) -> None:
        check_window(self.window_start_h, self.window_end_h)

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULT_CONFIG = FeatureConfig()


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def as_dates(dates) -> pd.DatetimeIndex:
    """Normalise ``dates`` to a tz-naive daily ``DatetimeIndex`` named ``date``."""
    idx = pd.DatetimeIndex(pd.to_datetime(dates))
    if idx.tz is not None:
        raise ConfigError(
            "dates must be plain UK calendar dates (tz-naive), got tz-aware values; "
            "convert with .tz_convert('Europe/London').tz_localize(None).normalize()."
        )
    return pd.DatetimeIndex(idx.normalize(), name="date")


def direction_features(direction_deg, prefix: str = "wind") -> pd.DataFrame:
    """Sector features of a wind direction [deg, blowing **from**].

    Returns ``<prefix>_dir_sin``, ``<prefix>_dir_cos`` and two sector flags:
    ``<prefix>_from_ne`` (0-90 deg: north-easterlies, which raise a sea on the French
    beaches and have halted crossings for weeks) and ``<prefix>_onshore_fr``
    (225-360 deg: south-west to north, blowing onto the French departure coast).
    NaN direction (calm or variable) gives 0 flags and 0 sin/cos.
    """
    d = np.asarray(direction_deg, dtype=float)
    rad = np.deg2rad(d)
    known = np.isfinite(d)
    return pd.DataFrame(
        {
            f"{prefix}_dir_sin": np.where(known, np.sin(rad), 0.0),
            f"{prefix}_dir_cos": np.where(known, np.cos(rad), 0.0),
            f"{prefix}_from_ne": (known & (d >= 0) & (d <= 90)).astype(float),
            f"{prefix}_onshore_fr": (known & (d >= 225) & (d <= 360)).astype(float),
        }
    )


# ---------------------------------------------------------------------------
# weather: hourly (Open-Meteo) path
# ---------------------------------------------------------------------------


def window_day(
    times_utc, cfg: FeatureConfig = DEFAULT_CONFIG
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Home Office day fed by each hourly time, and whether the hour is in the window.

    Parameters
    ----------
    times_utc : array-like of datetime64
        Hourly times in UTC (tz-naive meaning UTC, or tz-aware).
    cfg : FeatureConfig
        Window definition (hours relative to D 00:00 UK wall-clock time).

    Returns
    -------
    days : DatetimeIndex
        The day D whose window ``[D + start, D + end)`` (UK wall clock) holds each time.
    inside : ndarray of bool
        False for hours outside every window (e.g. 14:00-22:00 with the default).
    """
    return night_of(times_utc, cfg.window_start_h, cfg.window_end_h)


def hourly_weather_features(
    ds, dates=None, cfg: FeatureConfig = DEFAULT_CONFIG, site: str | None = None
) -> pd.DataFrame:
    """Aggregate hourly marine weather over the departure window of each day.

    Parameters
    ----------
    ds : xarray.Dataset
        Hourly weather, dims ``(time, site)`` (or ``time`` only), variables named as in
        the glossary: ``wind_speed_10m`` [kn], ``wind_gusts_10m`` [kn],
        ``wind_direction_10m`` [deg], ``wave_height`` [m], ``wave_period`` [s],
        ``precipitation`` [mm], ``visibility`` [m], ``pressure_msl`` [hPa]. Missing
        optional variables give NaN features. Sites are averaged (directions as vectors)
        unless ``site`` is given.
    dates : array-like, optional
        Days D to return (default: every day with at least one hour in its window).
    cfg : FeatureConfig
        Window and calm thresholds.
    site : str, optional
        Use only this site.

    Returns
    -------
    pandas.DataFrame
        Index ``date``; columns ``wind_speed_10m_mean``, ``wind_speed_10m_max``,
        ``wind_gusts_10m_max`` [kn], direction features, ``wave_height_mean``,
        ``wave_height_max`` [m], ``wave_period_mean`` [s], ``precipitation_sum`` [mm],
        ``visibility_min`` [m], ``pressure_msl_mean`` [hPa], ``calm_hours`` [h] (longest
        run of consecutive calm hours), ``window_hours`` [h] (hours of data in the
        window; 15 or 17 on DST nights with the default window).

    Raises
    ------
    DataFormatError
        If ``wind_speed_10m`` or the ``time`` coordinate is missing.
    """
    if "time" not in ds.coords or "wind_speed_10m" not in ds:
        raise DataFormatError(
            "hourly weather Dataset needs a 'time' coordinate and a 'wind_speed_10m' [kn] "
            f"variable (has coords {list(ds.coords)}, variables {list(ds.data_vars)}); "
            "load it with forecast.stores.weather.load_hourly()."
        )
    if site is not None:
        if "site" not in ds.dims or site not in ds["site"].values:
            raise ConfigError(
                f"site {site!r} not in the weather Dataset; pick one of its 'site' values."
            )
        ds = ds.sel(site=site)

    times = ds["time"].values
    groups = _Groups.of(*window_day(times, cfg))
    if len(groups.days) == 0:
        raise DataFormatError(
            "hourly weather Dataset has no hour inside any departure window; "
            f"time range {times[:1]}..{times[-1:]}."
        )

    def hourly(name: str) -> np.ndarray:
        return _site_mean(ds, name)[groups.order]

    wind, rain, wave = hourly("wind_speed_10m"), hourly("precipitation"), hourly("wave_height")
    gust, vis = hourly("wind_gusts_10m"), hourly("visibility")
    direction = hourly("wind_direction_10m")
    finite = np.isfinite(wind)
    has_wind = groups.counts(finite)
    calm = (wind <= cfg.calm_wind_kn) & ~(rain > cfg.calm_rain_mm) & ~(wave > cfg.calm_wave_m)
    starts = groups.starts
    with np.errstate(invalid="ignore"):
        rad = np.deg2rad(direction)
        ok = np.isfinite(rad) & finite
        east = groups.sums(wind * np.sin(rad), keep=ok)
        north = groups.sums(wind * np.cos(rad), keep=ok)
        mean_dir = np.rad2deg(np.arctan2(east, north)) % 360.0
    mean_dir[np.hypot(east, north) < 1e-9] = np.nan  # calm, variable or unknown

    def known(values: np.ndarray) -> np.ndarray:
        return groups.counts(~np.isnan(values))

    def mean(values: np.ndarray) -> np.ndarray:
        return _where_any(known(values), groups.nanmean(values))

    def top(values: np.ndarray) -> np.ndarray:
        return _where_any(known(values), np.fmax.reduceat(values, starts))

    def least(values: np.ndarray) -> np.ndarray:
        return _where_any(known(values), np.fmin.reduceat(values, starts))

    columns = {
        "wind_speed_10m_mean": _where_any(has_wind, groups.nanmean(wind)),
        "wind_speed_10m_max": _where_any(has_wind, np.fmax.reduceat(wind, starts)),
        "wind_gusts_10m_max": top(gust),
        "wind_from_ne_hours": groups.counts((direction >= 0) & (direction <= 90)).astype(float),
        "wave_height_mean": mean(wave),
        "wave_height_max": top(wave),
        "wave_period_mean": mean(hourly("wave_period")),
        "precipitation_sum": _where_any(
            known(rain), groups.sums(np.where(np.isnan(rain), 0.0, rain))
        ),
        "visibility_min": least(vis),
        "pressure_msl_mean": mean(hourly("pressure_msl")),
        "calm_hours": groups.longest_run(calm & finite).astype(float),
        "window_hours": groups.lengths.astype(float),
    }
    index = pd.DatetimeIndex(groups.days, name="date")
    dirf = direction_features(mean_dir)
    columns.update({name: dirf[name].to_numpy() for name in dirf.columns})
    out = pd.DataFrame(columns, index=index)
    if dates is not None:
        out = out.reindex(as_dates(dates))
    out.attrs["weather_source"] = "openmeteo"
    out.attrs["weather_run"] = str(ds.attrs.get("run_utc", ds.attrs.get("retrieved_utc", "")))
    return out


def _site_mean(ds, name: str) -> np.ndarray:
    """Hourly values of ``name`` [float64], averaged over sites (directions as unit vectors).

    ``np.nanmean`` over the ``site`` axis, as ``xarray``'s ``mean("site")`` computes it
    (without bottleneck); all-NaN hours give NaN. Absent variables give NaN.
    """
    if name not in ds:
        return np.full(ds.sizes["time"], np.nan)
    da = ds[name]
    values = np.asarray(da.values).astype(float)
    if "site" not in da.dims:
        return values
    axis = da.get_axis_num("site")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        if name.endswith("direction_10m") or name == "wave_direction":
            rad = np.deg2rad(values)
            s = np.nanmean(np.sin(rad), axis=axis)
            c = np.nanmean(np.cos(rad), axis=axis)
            return np.rad2deg(np.arctan2(s, c)) % 360.0
        return np.nanmean(values, axis=axis)


@dataclass(frozen=True)
class _Groups:
    """Hours grouped by the day whose window holds them (each day's hours consecutive).

    ``order`` are positions into the hourly arrays (within a day in their original
    order), ``starts``/``lengths`` the first row and number of rows of each day in
    ``order``, ``days`` the days [datetime64[ns]], ascending.
    """

    order: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    days: np.ndarray

    @classmethod
    def of(cls, days: pd.DatetimeIndex, inside: np.ndarray) -> _Groups:
        rows = np.flatnonzero(inside)
        keys = np.asarray(days.as_unit("ns").asi8)[rows]
        by_day = np.argsort(keys, kind="stable")
        keys = keys[by_day]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else rows[:0]
        lengths = np.diff(np.r_[starts, len(keys)])
        return cls(rows[by_day], starts, lengths, keys[starts].view("datetime64[ns]"))

    def sums(self, values: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
        """Per-day ``np.sum`` of ``values`` (grouped order), of the ``keep`` rows only.

        Each day is summed as its own 1-D array, so the result is bit for bit that of
        ``np.sum`` on the day's (kept) values: rows of equal length are stacked into one
        matrix and summed along its rows (numpy's pairwise summation depends on the
        length only).
        """
        starts, lengths = self.starts, self.lengths
        if keep is not None:
            day = np.repeat(np.arange(len(starts)), lengths)[keep]
            values = values[keep]
            lengths = np.bincount(day, minlength=len(starts))
            starts = np.r_[0, np.cumsum(lengths)[:-1]]
        out = np.zeros(len(starts))
        for n in np.unique(lengths[lengths > 0]):
            pick = np.flatnonzero(lengths == n)
            out[pick] = values[starts[pick, None] + np.arange(n)].sum(axis=1)
        return out

    def counts(self, mask: np.ndarray) -> np.ndarray:
        """Per-day number of True rows of ``mask`` (grouped order)."""
        return np.add.reduceat(mask.astype(np.int64), self.starts)

    def nanmean(self, values: np.ndarray) -> np.ndarray:
        """Per-day mean of the non-NaN values (NaN-as-0 sum / count, as ``np.nanmean``)."""
        known = ~np.isnan(values)
        total = self.sums(np.where(known, values, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / self.counts(known)

    def longest_run(self, mask: np.ndarray) -> np.ndarray:
        """Per-day length of the longest run of consecutive True rows of ``mask``."""
        m = mask.astype(np.int64)
        total = np.cumsum(m)
        base = np.where(mask, 0, total)
        base[self.starts] = total[self.starts] - m[self.starts]
        return np.maximum.reduceat(total - np.maximum.accumulate(base), self.starts)


def _where_any(ok: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(ok > 0, values, np.nan)


# ---------------------------------------------------------------------------
# weather: daily station (KNMI) path
# ---------------------------------------------------------------------------

#: KNMI daily columns used (glossary names) and whether they also enter as ``*_prev``.
_DAILY_COLUMNS = {
    "wind_speed_10m_mean": True,
    "wind_speed_10m_max": True,
    "wind_speed_10m_min": True,
    "wind_gusts_10m_max": True,
    "precipitation_sum": True,
    "precipitation_duration": False,
    "pressure_msl_mean": False,
    "visibility_min": False,
    "temperature_2m_mean": False,
    "cloud_cover_mean": False,
}


def daily_calm_hours_proxy(
    wind_min_kn, wind_max_kn, threshold_kn: float, window_h: float = 16.0
) -> np.ndarray:
    """Wind-proxy of the calm hours in a departure window from daily station data.

    Assumes the hourly mean wind spreads evenly between the day's lowest and highest
    hourly mean, so the share of calm hours is ``(threshold - min) / (max - min)``
    clipped to 0..1, times the window length. A proxy, documented as such: daily data
    carry no hourly sequence and no waves.

    Parameters
    ----------
    wind_min_kn, wind_max_kn : array-like
        Lowest and highest hourly mean wind of the day [kn].
    threshold_kn : float
        Calm threshold [kn].
    window_h : float
        Window length [h].

    Returns
    -------
    ndarray
        Proxy calm hours [h], NaN where inputs are missing.
    """
    lo = np.asarray(wind_min_kn, dtype=float)
    hi = np.asarray(wind_max_kn, dtype=float)
    span = np.maximum(hi - lo, 1e-6)
    share = np.clip((threshold_kn - lo) / span, 0.0, 1.0)
    share = np.where(hi <= threshold_kn, 1.0, share)
    return np.where(np.isfinite(lo) & np.isfinite(hi), share * window_h, np.nan)


def daily_weather_features(
    daily: pd.DataFrame, dates=None, cfg: FeatureConfig = DEFAULT_CONFIG
) -> pd.DataFrame:
    """Features for day D from daily station observations of days D-1 and D.

    Parameters
    ----------
    daily : pandas.DataFrame
        Output of ``forecast.sources.knmi.load_knmi`` (index ``date`` = KNMI day,
        columns in glossary names and units, wind in [kn]): the primary station's
        columns unprefixed, any other station's prefixed ``stn<number>_``.
    dates : array-like, optional
        Days to return (default: the days of ``daily`` after the first).
    cfg : FeatureConfig
        Calm and rule thresholds (the wind-proxy ones are used).

    Returns
    -------
    pandas.DataFrame
        Index ``date``; same-day columns (e.g. ``wind_speed_10m_mean`` [kn]), previous-day
        columns ``*_prev``, ``pressure_change`` [hPa/day], direction features,
        ``wind_max_hour_utc`` / ``wind_max_hour_utc_prev`` / ``gust_max_hour_utc`` [h]
        (UT hour of the day's highest hourly mean wind / strongest gust; KNMI only, no
        hourly equivalent: the hourly path has the hourly sequence itself), and
        ``calm_hours`` [h] (wind proxy, :func:`daily_calm_hours_proxy`), the octant
        ``wind_dir_sector`` (D and D-1, :func:`direction_sector`),
        ``pressure_change_prev`` [hPa/day], ``visibility_min_prev`` [m], the crossing-night
        columns of the primary station (:func:`crossing_night_features`) and, for each
        other station of the frame (``stn<number>_`` columns), its own and the
        primary-minus-it columns (:func:`secondary_station_features`); with
        ``attrs["weather_source"] = "knmi"``.

    Raises
    ------
    DataFormatError
        If the wind columns are missing.
    """
    need = ["wind_speed_10m_mean", "wind_speed_10m_max", "wind_speed_10m_min"]
    missing = [c for c in need if c not in daily.columns]
    if missing:
        raise DataFormatError(
            f"daily station weather lacks column(s) {missing} (has {list(daily.columns)}); "
            "load it with forecast.sources.knmi.load_knmi()."
        )
    d = daily.copy()
    d.index = as_dates(d.index)
    full = pd.date_range(d.index.min(), d.index.max(), freq="D", name="date")
    d = d.reindex(full)
    out = pd.DataFrame(index=full)
    for col, with_prev in _DAILY_COLUMNS.items():
        vals = d[col] if col in d.columns else pd.Series(np.nan, index=full)
        out[col] = vals.astype(float)
        if with_prev:
            out[f"{col}_prev"] = vals.astype(float).shift(1)
    if "pressure_msl_mean" in d.columns:
        out["pressure_change"] = d["pressure_msl_mean"].astype(float).diff()
    else:
        out["pressure_change"] = np.nan
    if "wind_speed_10m_max_hour_utc" in d.columns:
        # hour of the day's strongest wind: late (after the window) is a calmer night
        hour = d["wind_speed_10m_max_hour_utc"].astype(float)
        out["wind_max_after_window"] = (hour > 14).astype(float).where(hour.notna())
    # hour (UT, 0-23) of the day's highest hourly mean wind (D and D-1) and of its
    # strongest gust (D): a windy afternoon after a calm night and morning differs from
    # a windy night (experiment 002)
    for src, dst, with_prev in (
        ("wind_speed_10m_max_hour_utc", "wind_max_hour_utc", True),
        ("wind_gusts_10m_max_hour_utc", "gust_max_hour_utc", False),
    ):
        out[dst] = d[src].astype(float) if src in d.columns else np.nan
        if with_prev:
            out[f"{dst}_prev"] = out[dst].shift(1)
    direction = d.get("wind_direction_10m_mean", pd.Series(np.nan, index=full)).to_numpy()
    dirf = direction_features(direction)
    dirf.index = full
    out = pd.concat([out, dirf], axis=1)
    out["wind_dir_sector"] = direction_sector(direction)
    out["wind_dir_sector_prev"] = out["wind_dir_sector"].shift(1)
    out["pressure_change_prev"] = out["pressure_change"].shift(1)
    out["visibility_min_prev"] = out["visibility_min"].shift(1)
    window = cfg.window_end_h - cfg.window_start_h
    out["calm_hours"] = daily_calm_hours_proxy(
        d["wind_speed_10m_min"], d["wind_speed_10m_max"], cfg.proxy_calm_wind_kn, window
    )
    out["calm_hours_prev"] = out["calm_hours"].shift(1)
    parts = [out, crossing_night_features(d, cfg=cfg)]
    for stn in secondary_stations(d):
        parts.append(secondary_station_features(d, stn, cfg=cfg))
    out = pd.concat(parts, axis=1)
    out = out.iloc[1:] if dates is None else out.reindex(as_dates(dates))
    out.attrs["weather_source"] = "knmi"
    out.attrs["weather_run"] = str(daily.attrs.get("source", "KNMI daily observations"))
    out.attrs["weather_stations"] = [int(s) for s in daily.attrs.get("stations", []) or []]
    return out


def direction_sector(direction_deg) -> np.ndarray:
    """Octant of a wind direction [deg, blowing from]: 0 N, 1 NE, 2 E, ... 7 NW.

    Each sector is 45 deg wide and centred on its compass point (N: 337.5-22.5 deg).
    NaN (calm or variable) stays NaN.
    """
    d = np.asarray(direction_deg, dtype=float)
    return np.where(np.isfinite(d), np.floor(((d + 22.5) % 360.0) / 45.0), np.nan)


def _hour_flag(hour: pd.Series, lo: float, hi: float) -> pd.Series:
    """1 where ``lo <= hour < hi`` [h UT], 0 elsewhere, NaN where the hour is unknown."""
    h = hour.astype(float)
    return ((h >= lo) & (h < hi)).astype(float).where(h.notna())


def _column(d: pd.DataFrame, name: str) -> pd.Series:
    return d[name].astype(float) if name in d.columns else pd.Series(np.nan, index=d.index)


def night_window_hours_utc(cfg: FeatureConfig = DEFAULT_CONFIG) -> tuple[float, float]:
    """The departure window in KNMI hour slots [h UT]: from ``evening`` on D-1, to ``end`` on D.

    KNMI hour slots are in UT and UK time is UT (winter) or UT+1 (summer), so the
    window D-1 22:00 .. D 14:00 UK is taken on the generous side: a D-1 slot starting
    at or after ``24 + window_start_h - 1`` (21 UT by default) and a D slot starting
    before ``window_end_h`` (14 UT) lie in it. Windows that start on D (``window_start_h
    >= 0``) give ``evening = 24`` (no D-1 slot).
    """
    evening = min(24.0, 24.0 + cfg.window_start_h - 1.0) if cfg.window_start_h < 0 else 24.0
    return evening, float(cfg.window_end_h)


def crossing_night_features(
    daily: pd.DataFrame, prefix: str = "", cfg: FeatureConfig = DEFAULT_CONFIG
) -> pd.DataFrame:
    """Wind over the crossing night from one station's daily values of D-1 and D.

    The Home Office day D counts launches from the evening of D-1 to the afternoon of
    D, which span two KNMI days (00-24 UT). Daily data carry no hourly sequence, but they
    carry the hours of their extremes: the highest and lowest hourly mean wind
    (``FHX``/``FHXH``, ``FHN``/``FHNH``) and the strongest gust (``FXX``/``FXXH``). The
    window in UT is :func:`night_window_hours_utc` (D-1 from 21 UT, D before 14 UT).

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily station frame (``forecast.sources.knmi.load_knmi``), index a daily date
        range without gaps; the station's columns are ``prefix + name`` (``""`` for the
        primary station, ``"stn340_"`` for a secondary one).
    prefix : str
        Column prefix of the station; also prefixes the output names.
    cfg : FeatureConfig
        Departure window.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``daily`` (row D uses days D-1 and D), columns (with ``prefix``):

        - ``night_wind_max_prev_pm`` [0/1]: D-1's highest hourly wind was from 12 UT to
          the window start (an afternoon peak, before the night);
        - ``night_wind_max_prev_in``, ``night_wind_min_prev_in`` [0/1]: D-1's highest /
          lowest hourly wind was in the window (the evening of D-1);
        - ``night_wind_max_in``, ``night_wind_min_in`` [0/1]: D's highest / lowest hourly
          wind was in the window (before 14 UT);
        - ``night_gust_in`` [0/1]: the strongest gust of D-1 or of D was in the window;
        - ``night_wind_est`` [kn]: the window's mean hourly wind estimated from the two
          days: each day's part takes that day's extreme when the extreme's hour lies in
          the part (the highest first), else the day's mean; the parts are weighted by
          their hours (D-1: ``24 - evening``, D: ``end``);
        - ``wind_change`` [kn]: daily mean wind of D minus that of D-1.

        Flags are NaN where the hour is unknown; everything is NaN where the inputs are.
    """
    evening, end = night_window_hours_utc(cfg)
    mean = _column(daily, prefix + "wind_speed_10m_mean")
    wmax = _column(daily, prefix + "wind_speed_10m_max")
    wmin = _column(daily, prefix + "wind_speed_10m_min")
    hmax = _column(daily, prefix + "wind_speed_10m_max_hour_utc")
    hmin = _column(daily, prefix + "wind_speed_10m_min_hour_utc")
    hgust = _column(daily, prefix + "wind_gusts_10m_max_hour_utc")
    max_in_eve = _hour_flag(hmax, evening, 24.0)
    min_in_eve = _hour_flag(hmin, evening, 24.0)
    max_in_morn = _hour_flag(hmax, 0.0, end)
    min_in_morn = _hour_flag(hmin, 0.0, end)

    def part(in_max: pd.Series, in_min: pd.Series) -> pd.Series:
        est = mean.mask(in_min == 1, wmin)
        return est.mask(in_max == 1, wmax)

    w_eve, w_morn = 24.0 - evening, end
    eve = part(max_in_eve, min_in_eve).shift(1)
    morn = part(max_in_morn, min_in_morn)
    est = (w_eve * eve + w_morn * morn) / (w_eve + w_morn) if w_eve > 0 else morn
    gust_eve = _hour_flag(hgust, evening, 24.0).shift(1)
    gust_morn = _hour_flag(hgust, 0.0, end)
    gust_in = np.fmax(gust_eve, gust_morn)  # 1 if either is 1; NaN only if both unknown
    out = pd.DataFrame(
        {
            "night_wind_max_prev_pm": _hour_flag(hmax, 12.0, evening).shift(1),
            "night_wind_max_prev_in": max_in_eve.shift(1),
            "night_wind_min_prev_in": min_in_eve.shift(1),
            "night_wind_max_in": max_in_morn,
            "night_wind_min_in": min_in_morn,
            "night_gust_in": gust_in,
            "night_wind_est": est,
            "wind_change": mean - mean.shift(1),
        },
        index=daily.index,
    )
    out.columns = [prefix + c for c in out.columns]
    return out


_SECONDARY_RE = re.compile(r"^stn(\d+)_wind_speed_10m_mean$")


def secondary_stations(daily: pd.DataFrame) -> list[int]:
    """Secondary stations of a KNMI frame, from its ``stn<number>_`` columns, in order."""
    return [int(m.group(1)) for c in daily.columns if (m := _SECONDARY_RE.match(str(c)))]


def secondary_station_features(
    daily: pd.DataFrame, stn: int, cfg: FeatureConfig = DEFAULT_CONFIG
) -> pd.DataFrame:
    """Features of a secondary station and of the primary minus it (e.g. coast minus inland).

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily KNMI frame of several stations (``load_knmi``), index a daily date range
        without gaps; the secondary station's columns are prefixed ``stn<stn>_``.
    stn : int
        The secondary station (e.g. 340 Woensdrecht, inland).
    cfg : FeatureConfig
        Departure window.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``daily`` (row D uses D-1 and D), with ``p = "stn<stn>_"``:

        - ``p + wind_speed_10m_mean``, ``..._mean_prev``, ``..._max``, ``..._min``,
          ``p + wind_gusts_10m_max`` [kn]: the station's own wind;
        - ``p + night_wind_est``, ``p + wind_change`` [kn] (:func:`crossing_night_features`);
        - ``wind_speed_10m_mean_minus_stn<stn>``, ``wind_speed_10m_mean_prev_minus_...``,
          ``wind_gusts_10m_max_minus_...``, ``night_wind_est_minus_...`` [kn]: primary
          minus secondary; with a coastal primary and an inland secondary, the sea's
          share of the wind (higher at the coast in onshore and stable air, a sea breeze
          by day);
        - ``pressure_msl_mean_minus_stn<stn>`` [hPa]: primary minus secondary mean sea-level
          pressure, a proxy of the pressure gradient between the two (and so of the
          geostrophic wind across the line joining them).

        NaN where either station has no value (e.g. a secondary file covering other days).
    """
    p = station_prefix(stn)
    mean = _column(daily, p + "wind_speed_10m_mean")
    night = crossing_night_features(daily, prefix=p, cfg=cfg)
    primary_night = crossing_night_features(daily, prefix="", cfg=cfg)
    own_mean = _column(daily, "wind_speed_10m_mean")
    diff = own_mean - mean
    tag = f"_minus_stn{int(stn)}"
    out = pd.DataFrame(
        {
            p + "wind_speed_10m_mean": mean,
            p + "wind_speed_10m_mean_prev": mean.shift(1),
            p + "wind_speed_10m_max": _column(daily, p + "wind_speed_10m_max"),
            p + "wind_speed_10m_min": _column(daily, p + "wind_speed_10m_min"),
            p + "wind_gusts_10m_max": _column(daily, p + "wind_gusts_10m_max"),
            p + "night_wind_est": night[p + "night_wind_est"],
            p + "wind_change": night[p + "wind_change"],
            "wind_speed_10m_mean" + tag: diff,
            "wind_speed_10m_mean_prev" + tag: diff.shift(1),
            "wind_gusts_10m_max" + tag: _column(daily, "wind_gusts_10m_max")
            - _column(daily, p + "wind_gusts_10m_max"),
            "night_wind_est" + tag: primary_night["night_wind_est"] - night[p + "night_wind_est"],
            "pressure_msl_mean" + tag: _column(daily, "pressure_msl_mean")
            - _column(daily, p + "pressure_msl_mean"),
        },
        index=daily.index,
    )
    return out


# ---------------------------------------------------------------------------
# calm-day rule and weather-based pent-up features
# ---------------------------------------------------------------------------


def calm_day(weather: pd.DataFrame, cfg: FeatureConfig = DEFAULT_CONFIG) -> pd.Series:
    """The transparent calm-day rule: longest run of calm hours >= ``calm_hours_min``.

    Returns a float series (1 calm, 0 not, NaN unknown) indexed like ``weather``.
    """
    ch = weather["calm_hours"].astype(float)
    return (ch >= cfg.calm_hours_min).astype(float).where(ch.notna())


def weather_pentup_features(
    weather: pd.DataFrame, cfg: FeatureConfig = DEFAULT_CONFIG
) -> pd.DataFrame:
    """Days since the last calm day and calm days in the last 7, before each day D.

    Uses weather of days D-7..D-1 only (observed or forecast weather is available for
    those days whenever it is for D).
    """
    idx = pd.date_range(weather.index.min(), weather.index.max(), freq="D", name="date")
    calm = calm_day(weather, cfg).reindex(idx)
    prev = calm.shift(1)
    calm7 = prev.rolling(7, min_periods=1).sum()
    last_calm = (
        pd.Series(np.where(calm.to_numpy() == 1, np.arange(len(idx)), np.nan), index=idx)
        .ffill()
        .shift(1)
    )
    since = np.arange(len(idx)) - last_calm.to_numpy()
    since = np.where(np.isfinite(since), np.minimum(since, 60), 60.0)
    return pd.DataFrame(
        {"calm_days_last7": calm7.to_numpy(), "days_since_calm": since}, index=idx
    ).reindex(weather.index)


def wind_vector_features(weather: pd.DataFrame) -> pd.DataFrame:
    """Wind vector (speed and direction together) of D and D-1, per day D (both paths).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``weather``: ``wind_from_east``, ``wind_from_north`` [kn] (mean
        wind times the sine / cosine of its direction, blowing **from**; 0 when the
        direction is calm/variable), the same for the previous day (``*_prev``: the
        previous KNMI day, or the previous day's departure window for hourly input;
        NaN for the first day). The previous day's wind, which builds the sea state of
        the night into D, carries most of the gain measured in experiment 002.
    """
    idx = pd.date_range(weather.index.min(), weather.index.max(), freq="D", name="date")
    w = weather.reindex(idx)
    speed = w["wind_speed_10m_mean"].astype(float)
    out = pd.DataFrame(index=idx)
    out["wind_from_east"] = speed * w["wind_dir_sin"].astype(float)
    out["wind_from_north"] = speed * w["wind_dir_cos"].astype(float)
    out["wind_from_east_prev"] = out["wind_from_east"].shift(1)
    out["wind_from_north_prev"] = out["wind_from_north"].shift(1)
    return out.reindex(weather.index)


def calm_rate_features(
    arrivals: pd.DataFrame,
    weather: pd.DataFrame,
    dates,
    origins,
    window: int = 56,
    cfg: FeatureConfig = DEFAULT_CONFIG,
) -> pd.DataFrame:
    """Recent crossing level on calm days, known at the origin (no leakage).

    ``people_per_calm_day_<window>`` [people/day]: people who arrived on calm days
    (:func:`calm_day`) among the ``window`` days up to and including the origin,
    divided by the number of those calm days (NaN when there was none). The level of
    demand the weather lets through, separated from how many calm days there were.

    Parameters
    ----------
    arrivals : pandas.DataFrame
        Daily arrivals (``people``); only days <= each origin are used.
    weather : pandas.DataFrame
        Weather table with ``calm_hours`` (either path).
    dates, origins : array-like
        Target days and their forecast origins.
    window : int
        Days up to the origin [days].
    cfg : FeatureConfig
        Calm-day rule thresholds.

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (the targets), column ``people_per_calm_day_<window>``.
    """
    dates = as_dates(dates)
    origins = as_dates(np.broadcast_to(np.asarray(origins, dtype="datetime64[ns]"), len(dates)))
    p = arrivals["people"].astype(float)
    idx = pd.date_range(min(p.index.min(), weather.index.min()), p.index.max(), freq="D")
    calm = calm_day(weather, cfg).reindex(idx)
    p = p.reindex(idx)
    on_calm = (p * calm).where(calm.notna() & p.notna())
    ok = (calm.notna() & p.notna()).astype(float)
    n_calm = (calm.fillna(0) * ok).rolling(window, min_periods=1).sum()
    people = on_calm.fillna(0).rolling(window, min_periods=1).sum()
    rate = (people / n_calm).where(n_calm > 0)
    name = f"people_per_calm_day_{window}"
    return pd.DataFrame({name: rate.reindex(origins).to_numpy()}, index=dates)


# ---------------------------------------------------------------------------
# arrivals (pent-up demand) relative to the origin
# ---------------------------------------------------------------------------

ARRIVALS_FEATURES = (
    "people_last1",
    "people_last7",
    "people_last28",
    "crossing_days_last28",
    "days_since_crossing",
    "level_91",
    "level_365",
    "level_ratio",
    "deficit_7",
    "deficit_28",
    "horizon",
)


def arrivals_state(arrivals: pd.DataFrame) -> pd.DataFrame:
    """Rolling summaries of arrivals as known at the end of each day O (inclusive).

    Row O uses arrivals of days <= O only.
    """
    p = arrivals["people"].astype(float)
    idx = pd.date_range(p.index.min(), p.index.max(), freq="D", name="date")
    p = p.reindex(idx)
    pos = (p > 0).astype(float)
    n = np.arange(len(idx), dtype=float)
    last = pd.Series(np.where(pos.to_numpy() == 1, n, np.nan), index=idx).ffill()
    return pd.DataFrame(
        {
            "people_last1": p,
            "people_last7": p.rolling(7, min_periods=1).sum(),
            "people_last28": p.rolling(28, min_periods=1).sum(),
            "crossing_days_last28": pos.rolling(28, min_periods=1).sum(),
            "last_crossing_pos": last,
            "level_91": np.log1p(p.rolling(91, min_periods=7).mean()),
            "level_365": np.log1p(p.rolling(365, min_periods=28).mean()),
            "rate_91": p.rolling(91, min_periods=7).mean(),
        },
        index=idx,
    )


def arrivals_features(arrivals: pd.DataFrame, dates, origins) -> pd.DataFrame:
    """Pent-up demand features for target days ``dates`` seen from ``origins``.

    Parameters
    ----------
    arrivals : pandas.DataFrame
        Daily arrivals (``people`` column), index ``date``.
    dates : array-like
        Target days D.
    origins : array-like or scalar
        Forecast origin of each target day (last day whose arrivals are known); a
        scalar applies to all. Must be earlier than the target day.

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (the targets), columns :data:`ARRIVALS_FEATURES`:
        ``people_last1/7/28`` [people] (sums up to the origin), ``crossing_days_last28``
        [days], ``days_since_crossing`` [days] (from the last crossing on or before the
        origin to D), ``level_91``/``level_365`` [log1p people/day] (slow level terms),
        ``level_ratio`` (91-day over 365-day level), ``deficit_7``/``deficit_28``
        [people] (people expected at the 91-day mean rate over the last 7/28 days and
        the days up to D, minus those who came: a backlog proxy), ``horizon`` [days]
        (D - origin).

    Raises
    ------
    ConfigError
        If an origin is not before its target day.
    """
    dates = as_dates(dates)
    origins = as_dates(np.broadcast_to(np.asarray(origins, dtype="datetime64[ns]"), len(dates)))
    horizon = np.asarray((dates - origins) / pd.Timedelta(days=1))
    if (horizon < 1).any():
        bad = dates[horizon < 1][0].date()
        raise ConfigError(
            f"target day {bad} is not after its forecast origin; forecasts need "
            "origin <= day - 1 (horizon >= 1)."
        )
    state = arrivals_state(arrivals)
    known = state.reindex(origins)
    start = state.index[0]
    pos_d = np.asarray((dates - start) / pd.Timedelta(days=1))
    since = pos_d - known["last_crossing_pos"].to_numpy()
    since = np.where(np.isfinite(since), np.minimum(since, 365.0), 365.0)
    out = pd.DataFrame(index=dates)
    for col in ("people_last1", "people_last7", "people_last28", "crossing_days_last28"):
        out[col] = known[col].to_numpy()
    out["days_since_crossing"] = since
    out["level_91"] = known["level_91"].to_numpy()
    out["level_365"] = known["level_365"].to_numpy()
    out["level_ratio"] = out["level_91"] - out["level_365"]
    # pent-up demand: people "missing" against the recent daily rate, up to the origin,
    # plus the rate times the days between the origin and D
    rate = known["rate_91"].to_numpy()
    out["deficit_7"] = 7 * rate - known["people_last7"].to_numpy() + rate * (horizon - 1)
    out["deficit_28"] = 28 * rate - known["people_last28"].to_numpy() + rate * (horizon - 1)
    out["horizon"] = horizon
    return out


# ---------------------------------------------------------------------------
# calendar, tide and sky
# ---------------------------------------------------------------------------


def calendar_features(dates) -> pd.DataFrame:
    """Season and calendar: day-of-year harmonics, month, day of week."""
    dates = as_dates(dates)
    doy = dates.day_of_year.to_numpy().astype(float)
    ang = 2 * np.pi * doy / 365.25
    return pd.DataFrame(
        {
            "doy_sin": np.sin(ang),
            "doy_cos": np.cos(ang),
            "month": dates.month.to_numpy().astype(float),
            "dow": dates.day_of_week.to_numpy().astype(float),
        },
        index=dates,
    )


#: Tide and sky columns joined when forecast.features.tides / forecast.features.sky are available.
TIDE_COLUMNS = ("hw_in_darkness", "tidal_range", "spring_neap_index")
SKY_COLUMNS = ("darkness_hours", "moon_illumination", "moonlit_fraction")


def tide_sky_features(dates) -> pd.DataFrame:
    """Tide and sky features of the night before each day D.

    Joins ``forecast.features.tides.night_tide_features`` (high water in darkness, tidal range,
    spring-neap index) and ``forecast.features.sky.night_sky`` (hours of darkness, moon
    illumination, moonlit share of darkness). Both depend on
    the date only (astronomy), so they never leak.
    """
    dates = as_dates(dates)
    tide = night_tide_features(dates)
    sky = night_sky(dates)
    parts = [
        tide.reindex(dates)[[c for c in TIDE_COLUMNS if c in tide.columns]],
        sky.reindex(dates)[[c for c in SKY_COLUMNS if c in sky.columns]],
    ]
    out = pd.concat(parts, axis=1).astype(float)
    out.index = dates
    return out


# ---------------------------------------------------------------------------
# the full table
# ---------------------------------------------------------------------------


def weather_table(
    weather_source: str, weather=None, cfg: FeatureConfig = DEFAULT_CONFIG
) -> pd.DataFrame | None:
    """Per-day weather features for a source, or None for "none".

    The source's table (:func:`daily_weather_features` or
    :func:`hourly_weather_features`) plus :func:`weather_pentup_features` and
    :func:`wind_vector_features`, which both paths share.

    ``weather`` is a KNMI daily DataFrame for ``"knmi"`` and an hourly Dataset for
    ``"openmeteo"``.
    """
    check_source(weather_source)
    if weather_source == "none":
        return None
    if weather is None:
        raise ConfigError(
            f"weather_source={weather_source!r} needs weather input (a KNMI daily table or an "
            "Open-Meteo hourly Dataset); pass weather_source='none' for the weather-free model."
        )
    if weather_source == "knmi":
        if not isinstance(weather, pd.DataFrame):
            raise ConfigError(
                "weather_source='knmi' expects the daily DataFrame of "
                f"forecast.sources.knmi.load_knmi(), got {type(weather).__name__}."
            )
        table = daily_weather_features(weather, cfg=cfg)
    else:
        if isinstance(weather, pd.DataFrame):
            raise ConfigError(
                "weather_source='openmeteo' expects an hourly xarray.Dataset "
                "(forecast.stores.weather.load_hourly), got a DataFrame; use weather_source='knmi' "
                "for daily station data."
            )
        table = hourly_weather_features(weather, cfg=cfg)
    attrs = dict(table.attrs)
    table = pd.concat(
        [table, weather_pentup_features(table, cfg), wind_vector_features(table)], axis=1
    )
    table.attrs.update(attrs)
    return table


def check_source(weather_source: str) -> None:
    if weather_source not in WEATHER_SOURCES:
        raise ConfigError(
            f"weather_source={weather_source!r} is not known; use one of {WEATHER_SOURCES}."
        )


def build_features(
    dates,
    origins,
    arrivals: pd.DataFrame,
    weather_source: str = "none",
    weather_features: pd.DataFrame | None = None,
    tide_sky: pd.DataFrame | None = None,
    include_tide_sky: bool = True,
) -> pd.DataFrame:
    """The model's feature table: one row per target day D seen from its origin.

    Parameters
    ----------
    dates : array-like
        Target days D.
    origins : array-like or scalar
        Forecast origin per day (arrivals known up to and including it).
    arrivals : pandas.DataFrame
        Daily arrivals; rows after an origin are never used for that row.
    weather_source : {"knmi", "openmeteo", "none"}
        Which weather input ``weather_features`` came from (recorded in ``attrs``).
    weather_features : pandas.DataFrame, optional
        Output of :func:`weather_table` (required unless ``weather_source="none"``).
    tide_sky : pandas.DataFrame, optional
        Precomputed :func:`tide_sky_features` (computed here when None and
        ``include_tide_sky``).
    include_tide_sky : bool
        Join tide and sky features when their modules are available.

    Returns
    -------
    pandas.DataFrame
        Index ``date``; arrivals, calendar, weather and tide/sky columns, and with
        weather ``people_per_calm_day_56`` (:func:`calm_rate_features`, arrivals up to
        each origin); ``attrs["weather_source"]``.
    """
    check_source(weather_source)
    dates = as_dates(dates)
    parts = [arrivals_features(arrivals, dates, origins), calendar_features(dates)]
    if weather_source != "none":
        if weather_features is None:
            raise ConfigError(
                f"weather_source={weather_source!r} needs weather_features (see weather_table)."
            )
        got = weather_features.attrs.get("weather_source")
        if got is not None and got != weather_source:
            raise ConfigError(
                f"weather features come from {got!r} but weather_source={weather_source!r}; "
                "build them from the matching input."
            )
        parts.append(weather_features.reindex(dates))
        if "calm_hours" in weather_features.columns:
            parts.append(calm_rate_features(arrivals, weather_features, dates, origins))
    if include_tide_sky:
        ts = tide_sky_features(dates) if tide_sky is None else tide_sky.reindex(dates)
        parts.append(ts)
    out = pd.concat(parts, axis=1)
    out.index = dates
    out.attrs["weather_source"] = weather_source
    if weather_features is not None and weather_features.attrs.get("weather_stations"):
        out.attrs["weather_stations"] = list(weather_features.attrs["weather_stations"])
    return out
