"""Hourly marine weather for the Strait: the Open-Meteo disk cache, its updates and loaders.

Layout under ``config.cache_dir()/openmeteo/``::

    archive-era5/<site>.nc               ERA5 wind/gust/precip/temp/pressure, one file per site
    marine-era5_ocean/<site>.nc          ERA5-Ocean waves, one file per site
    historical_forecast-best_match/<site>.nc   archived forecasts (incl. visibility)
    forecast-best_match/run-<retrieved>.nc     one file per forecast fetch, all sites
    marine_forecast-best_match/run-<retrieved>.nc

History files grow incrementally: :func:`update` asks only for the days a site's file
does not hold yet, one request at a time, chunked by calendar year. Every write goes to
a temporary file that is re-read and checked before it replaces the old file, so a
failed or partial fetch never damages good data.

The loaders (:func:`load_hourly`, :func:`load_forecast_latest`, :func:`read_weather_file`)
never touch the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import requests
import xarray as xr
from tqdm import tqdm

from forecast import config, fileio
from forecast.errors import ConfigError, DataFormatError, SourceError
from forecast.sources import openmeteo as om
from forecast.sources.sites import Site, default_sites

#: Earliest day fetched by default for the reanalysis history [UTC date].
DEFAULT_HISTORY_START = dt.date(2018, 1, 1)
#: Earliest day fetched by default from the historical-forecast API [UTC date].
DEFAULT_HISTORICAL_FORECAST_START = dt.date(2022, 1, 1)
#: ERA5 / ERA5-Ocean latency: the archive is complete up to about today minus this [days].
ARCHIVE_LAG_DAYS = 6
#: Trailing all-missing hours this recent are dropped (not yet published), so that the
#: next update asks for them again [days].
RECENT_DAYS = 14

#: Source (kind, default model) feeding each ``load_hourly`` kind: (atmosphere, waves).
LOAD_KINDS = {
    "archive": (("archive", "era5"), ("marine", "era5_ocean")),
    "historical_forecast": (("historical_forecast", "best_match"), ("marine", "era5_ocean")),
    "forecast": (("forecast", "best_match"), ("marine_forecast", "best_match")),
}
_RUN_KINDS = ("forecast", "marine_forecast")


# --------------------------------------------------------------------------- paths & files


def cache_root() -> Path:
    """``config.cache_dir()/openmeteo``."""
    return config.cache_dir() / "openmeteo"


def source_dir(kind: str, model: str | None = None) -> Path:
    """Folder of one source (``<kind>-<model>``) in the cache."""
    s = om.spec(kind)
    return cache_root() / f"{s.kind}-{model or s.default_model}"


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: Attribute holding :func:`content_digest` of a cache file's values (set on write).
DIGEST_ATTR = "content_sha256"

#: Bounds far outside any weather, in each variable's canonical unit: a value beyond
#: them can only come from a damaged file (garbled bytes read as floats), not from a
#: forecast. Deliberately loose; the checksum (:data:`DIGEST_ATTR`) is the exact check.
PLAUSIBLE = {
    "wind_speed_10m": (0.0, 1000.0),
    "wind_gusts_10m": (0.0, 1000.0),
    "wind_direction_10m": (-360.0, 720.0),
    "wave_height": (0.0, 200.0),
    "wave_period": (0.0, 600.0),
    "wave_direction": (-360.0, 720.0),
    "precipitation": (0.0, 2000.0),
    "temperature_2m": (-150.0, 200.0),
    "pressure_msl": (0.0, 2000.0),
    "visibility": (0.0, 1.0e7),
}


def content_digest(ds: xr.Dataset) -> str:
    """sha256 of the time axis and every data variable's values (NaN made canonical).

    Stored as ``attrs[DIGEST_ATTR]`` when a cache file is written and checked when it
    is read, so a file damaged on disk is refused instead of read back as weather.
    """
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(ds["time"].values.astype("datetime64[ns]")).tobytes())
    for name in sorted(ds.data_vars):
        values = np.asarray(ds[name].values, dtype="float64")
        values = np.where(np.isnan(values), np.nan, values)
        h.update(name.encode() + str(values.shape).encode())
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def check_plausible(ds: xr.Dataset, where: str) -> None:
    """Raise :class:`DataFormatError` if a variable holds a physically impossible value."""
    for name, (low, high) in PLAUSIBLE.items():
        if name not in ds.data_vars:
            continue
        values = np.asarray(ds[name].values, dtype="float64")
        bad = np.isfinite(values) & ((values < low) | (values > high))
        bad |= np.isinf(values)
        if bad.any():
            raise DataFormatError(
                f"{where}: {name} holds {values[bad].ravel()[0]:.6g}, outside the possible "
                f"range {low:g}..{high:g} [{om.CANONICAL_UNITS[name]}]"
            )


def _read_nc(path: Path, *, coords_only: bool = False, user_file: bool = False) -> xr.Dataset:
    """Load a cache file (``coords_only``: its coordinates, e.g. the time axis, only).

    A cache file is checked on read: its layout and units (:func:`_validate`), its
    values' digest when it has one (:data:`DIGEST_ATTR`) and the physical range of its
    values; a damaged file raises :class:`DataFormatError` naming it and saying to
    delete it and update again. ``user_file``: the file was given by the user
    (``--weather FILE``), not written by the cache, so the advice on failure differs.
    """
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds = (ds.coords.to_dataset() if coords_only else ds).load()
    except Exception as exc:  # a damaged HDF5 file fails in many ways (OSError, KeyError, ...)
        if user_file:
            raise DataFormatError(
                f"--weather {path}: not a readable NetCDF file ({type(exc).__name__}: {exc}); "
                "give a NetCDF file written by 'forecast weather' or a saved Open-Meteo JSON "
                "response."
            ) from exc
        raise DataFormatError(
            f"cannot read cached weather file {path} ({type(exc).__name__}: {exc}); it is "
            "damaged. Delete it and run 'forecast weather update' again."
        ) from exc
    if user_file:
        return ds
    try:
        if coords_only:
            times = pd.DatetimeIndex(ds["time"].values)
            if times.has_duplicates or not times.is_monotonic_increasing:
                raise DataFormatError(f"{path}: time axis is not strictly increasing.")
            return ds
        _validate(ds, str(path))
        recorded = ds.attrs.pop(DIGEST_ATTR, None)
        if recorded is not None and recorded != content_digest(ds):
            raise DataFormatError(
                f"{path}: its values do not match the checksum recorded when it was written"
            )
        check_plausible(ds, str(path))
    except DataFormatError as exc:
        raise DataFormatError(
            f"cached weather file {path} is damaged and is not used ({exc}). Delete it and "
            "run 'forecast weather update' again."
        ) from exc
    return ds


def _validate(ds: xr.Dataset, where: str) -> None:
    if "time" not in ds.dims or "site" not in ds.dims:
        raise DataFormatError(f"{where}: expected dims (time, site), got {dict(ds.sizes)}.")
    times = pd.DatetimeIndex(ds["time"].values)
    if times.has_duplicates or not times.is_monotonic_increasing:
        raise DataFormatError(f"{where}: time axis is not strictly increasing.")
    for name, var in ds.data_vars.items():
        if name in om.CANONICAL_UNITS and var.attrs.get("units") != om.CANONICAL_UNITS[name]:
            raise DataFormatError(
                f"{where}: {name} has units {var.attrs.get('units')!r}, "
                f"expected {om.CANONICAL_UNITS[name]!r}."
            )


def write_atomic(ds: xr.Dataset, path: Path) -> None:
    """Write ``ds`` to ``path`` via a temporary file that is re-read and checked first.

    The old file (if any) is replaced only when the new one reads back with the same
    sizes and passes the checks; otherwise it is left untouched.
    """
    _validate(ds, str(path))
    ds = ds.copy()
    ds.attrs[DIGEST_ATTR] = content_digest(ds)  # checked on every read (_read_nc)

    def write_checked(tmp: Path) -> None:
        ds.to_netcdf(tmp, engine="h5netcdf")
        try:
            with xr.open_dataset(tmp, engine="h5netcdf") as back:  # lazy: the layout only
                _validate(back, str(tmp))
                sizes, names = dict(back.sizes), set(back.data_vars)
        except DataFormatError:
            raise
        except (OSError, ValueError) as exc:
            raise DataFormatError(f"{tmp}: cannot read back the file just written: {exc}") from exc
        if sizes != dict(ds.sizes) or names != set(ds.data_vars):
            raise DataFormatError(f"{tmp}: file read back differs from what was written.")

    fileio.write_with(path, write_checked, "weather cache file")


def _all_null_hours(ds: xr.Dataset) -> np.ndarray:
    """Boolean per hour: every variable is null at every site."""
    all_nan = np.ones(ds.sizes["time"], dtype=bool)
    for var in ds.data_vars.values():
        all_nan &= var.isnull().all(dim="site").values
    return all_nan


def _trim_unpublished(ds: xr.Dataset, now: dt.datetime) -> xr.Dataset:
    """Drop trailing hours (within RECENT_DAYS of ``now``) where every variable is NaN."""
    if not ds.data_vars or ds.sizes["time"] == 0:
        return ds
    all_nan = _all_null_hours(ds)
    recent = pd.DatetimeIndex(ds["time"].values) >= pd.Timestamp(
        now.astimezone(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=RECENT_DAYS)
    )
    drop = all_nan & recent
    keep = len(drop)
    while keep > 0 and drop[keep - 1]:
        keep -= 1
    return ds.isel(time=slice(0, keep))


def _merge_site(new: xr.Dataset, path: Path) -> int:
    """Merge one site's new data into its cache file; returns the number of hours added.

    Read, merge and write happen under the file's lock, so two updates take turns.
    """
    with fileio.file_lock(path, "weather cache file"):
        return _merge_site_locked(new, path)


def _merge_site_locked(new: xr.Dataset, path: Path) -> int:
    site = str(new["site"].values[0])
    if not path.exists():
        ds = new.copy()
        ds.attrs["first_retrieved_utc"] = new.attrs.get("retrieved_utc", "")
        write_atomic(ds, path)
        return int(new.sizes["time"])
    old = _read_nc(path)
    for coord in ("site_lat", "site_lon"):
        if not np.allclose(old[coord].values, new[coord].values, atol=1e-4):
            raise ConfigError(
                f"site {site!r} was cached at {coord}={float(old[coord].values[0])} but is now "
                f"asked at {float(new[coord].values[0])}. Give the moved point a new id, or "
                f"delete {path} to re-fetch it."
            )
    for coord in ("grid_lat", "grid_lon"):
        if not np.allclose(old[coord].values, new[coord].values, atol=1e-3):
            raise DataFormatError(
                f"Open-Meteo returned grid cell {coord}={float(new[coord].values[0])} for site "
                f"{site!r}, but the cache {path} holds {float(old[coord].values[0])}. The model "
                f"grid changed; delete {path} to re-fetch the site on the new grid."
            )
    added = int(len(pd.DatetimeIndex(new["time"].values).difference(old.indexes["time"])))
    merged = new.combine_first(old)
    for name in merged.data_vars:
        merged[name].attrs = dict(new[name].attrs or old[name].attrs)
    stale = ("missing_variables", "notes")  # describe one fetch: the newest one's only
    merged.attrs = {**{k: v for k, v in old.attrs.items() if k not in stale}, **new.attrs}
    merged.attrs["first_retrieved_utc"] = old.attrs.get(
        "first_retrieved_utc", old.attrs.get("retrieved_utc", "")
    )
    write_atomic(merged, path)
    return added


# --------------------------------------------------------------------------- coverage


def _day_range_hours(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(
        pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(hours=23), freq="h", unit="ns"
    )


def _runs_of_days(days: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    runs: list[tuple[dt.date, dt.date]] = []
    for d in sorted(days):
        if runs and d == runs[-1][1] + dt.timedelta(days=1):
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def missing_days(path: Path, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Inclusive day ranges within ``start..end`` not fully present in cache file ``path``."""
    wanted = _day_range_hours(start, end)
    if path.exists():
        have = _read_nc(path, coords_only=True).indexes["time"]
        wanted = wanted.difference(have)
    return _runs_of_days(sorted({t.date() for t in wanted}))


def _hour_gaps(times: pd.DatetimeIndex) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    if len(times) < 2:
        return []
    full = pd.date_range(times[0], times[-1], freq="h")
    missing = full.difference(times)
    gaps: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for t in missing:
        if gaps and t == gaps[-1][1] + pd.Timedelta(hours=1):
            gaps[-1] = (gaps[-1][0], t)
        else:
            gaps.append((t, t))
    return gaps


# --------------------------------------------------------------------------- update


def _as_date(value: Any, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"{name} {value!r} is not a date; write YYYY-MM-DD.") from exc


def _progress(total: int, desc: str, enabled: bool | None) -> Any:
    disable = (not sys.stderr.isatty()) if enabled is None else not enabled
    return tqdm(total=total, desc=desc, unit="req", disable=disable, file=sys.stderr)


def update(
    kind: str = "archive",
    start: Any = None,
    end: Any = None,
    sites: Sequence[Site] | None = None,
    *,
    url: str | None = None,
    marine_url: str | None = None,
    model: str | None = None,
    marine_model: str | None = None,
    past_days: int = 7,
    forecast_days: int = 16,
    marine_forecast_days: int = 8,
    policy: om.RetryPolicy | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = _now_utc,
    progress: bool | None = None,
    with_history: bool = True,
    history_start: Any = None,
) -> list[dict[str, Any]]:
    """Fetch what the cache lacks for ``kind`` and store it.

    Parameters
    ----------
    kind : {"archive", "marine", "historical_forecast", "forecast"}
        ``forecast`` fetches a new run of the forecast API and of the marine forecast
        (``past_days`` bridge the archive's lag); the others fill history files.
    start, end : date or "YYYY-MM-DD", optional
        Inclusive UTC days (history kinds). Defaults: 2018-01-01 (2022-01-01 for the
        historical forecast) to today minus 6 days (minus 1 for the historical forecast).
    sites : sequence of Site, optional
        Default :func:`forecast.sources.sites.default_sites`.
    url, marine_url : str, optional
        Endpoint overrides (else env vars, else the public URLs).
    model, marine_model : str, optional
        ``models=`` values (defaults: era5 / era5_ocean / best_match).
    past_days, forecast_days, marine_forecast_days : int
        Forecast kind only.
    policy, session, sleep, now, progress
        Retry policy, HTTP session, sleep and clock (injectable for tests), progress bar
        (``None``: only on a TTY).
    with_history : bool
        Forecast kind: first fill the archive and marine history the model trains on
        (only the days missing from the cache; nothing when it is complete), from
        ``history_start`` (default 2018-01-01) to the archive's lag; their endpoints come
        from the environment variables of those kinds (or the public URLs).

    Returns
    -------
    list of dict
        One row per source: ``kind``, ``model``, ``requests``, ``api_calls`` (what
        Open-Meteo counts against the daily limit, see
        :func:`forecast.sources.openmeteo.request_weight`), ``sites``, ``hours_added``,
        ``ranges`` (the day ranges asked) or ``file`` (forecast run). The last row also
        carries the run's ``requests_sent``, ``failed_requests``, ``calls_spent`` and
        ``paced_wait_s`` (failed requests count against Open-Meteo's limits too).

    Raises
    ------
    SourceError
        On a failed request (after bounded retries) or an hourly/daily rate limit; what
        was fetched before is kept.
    """
    kind = kind.replace("-", "_")
    if kind not in ("archive", "marine", "historical_forecast", "forecast"):
        raise ConfigError(
            f"--kind {kind!r} is not one of archive, marine, forecast, historical-forecast."
        )
    sites = list(sites) if sites is not None else default_sites()
    common = {"policy": policy or om.RetryPolicy(), "session": session, "sleep": sleep, "now": now}
    if kind != "forecast":
        rows = [_update_history(kind, start, end, sites, url, model, progress, common)]
        return _with_budget(rows, common["policy"])
    if start is not None or end is not None:
        raise ConfigError(
            "--start/--end do not apply to --kind forecast (it always fetches the latest "
            "run); use --past-days/--forecast-days."
        )
    for flag, value, most in (
        ("--past-days", past_days, 92),
        ("--forecast-days", forecast_days, 16),
        ("--marine-forecast-days", marine_forecast_days, 16),
    ):
        if not 0 <= value <= most:
            raise ConfigError(f"{flag} {value} is out of range; Open-Meteo accepts 0 to {most}.")
    rows = []
    if with_history:  # a forecast is useless without the history the model trains on
        for k in HISTORY_FOR_FORECAST:
            rows.append(
                _update_history(k, history_start, None, sites, None, None, progress, common)
            )
    for k, u, m, days in (
        ("forecast", url, model, forecast_days),
        ("marine_forecast", marine_url, marine_model, marine_forecast_days),
    ):
        rows.append(_update_run(k, u, m, sites, past_days, days, common))
    return _with_budget(rows, common["policy"])


#: History kinds a forecast needs (the model trains on them): fetched first when missing.
HISTORY_FOR_FORECAST = ("archive", "marine")


def _with_budget(rows: list[dict[str, Any]], policy: om.RetryPolicy) -> list[dict[str, Any]]:
    """Add the run's request counts (sent, failed, paced waits) to the last row."""
    b = policy.budget
    rows[-1].update(
        {
            "requests_sent": b.requests,
            "failed_requests": b.failed_requests,
            "calls_spent": round(b.calls, 1),
            "paced_wait_s": round(b.waited_s, 1),
        }
    )
    return rows


def _update_run(
    kind: str,
    url: str | None,
    model: str | None,
    sites: Sequence[Site],
    past_days: int,
    days: int,
    common: dict,
) -> dict[str, Any]:
    """Fetch one forecast run of ``kind`` and keep it as ``run-<retrieved>.nc``."""
    ds = om.fetch(
        kind, sites, model=model, past_days=past_days, forecast_days=days, url=url, **common
    )
    stamp = ds.attrs["retrieved_utc"].replace("-", "").replace(":", "")
    path = source_dir(kind, model) / f"run-{stamp}.nc"
    write_atomic(ds, path)
    return {
        "kind": kind,
        "model": ds.attrs["model"],
        "requests": 1,
        "api_calls": om.request_weight(len(om.spec(kind).variables), past_days + days, len(sites)),
        "sites": len(sites),
        "hours_added": int(ds.sizes["time"]),
        "file": str(path),
    }


def history_jobs(
    kind: str, folder: Path, sites: Sequence[Site], start_d: dt.date, end_d: dt.date
) -> list[tuple[tuple[dt.date, dt.date], list[Site]]]:
    """Requests that fill what the cache lacks: ((first day, last day), sites) each.

    Sites lacking exactly the same day ranges share one multi-location request; ranges
    are cut into years, and further so that no request weighs more than Open-Meteo's
    per-minute pace limit (:data:`forecast.sources.openmeteo.PACE_LIMITS`).
    """
    groups: dict[tuple, list[Site]] = {}
    for site in sites:
        ranges = tuple(missing_days(folder / f"{site.id}.nc", start_d, end_d))
        if ranges:
            groups.setdefault(ranges, []).append(site)
    n_vars = len(om.spec(kind).variables)
    limit = om.PACE_LIMITS["minutely"]
    jobs = []
    for ranges, group in groups.items():
        for a, b in ranges:
            for lo, hi in om.year_chunks(a, b):
                for i in range(0, len(group), om.MAX_LOCATIONS):
                    batch = group[i : i + om.MAX_LOCATIONS]
                    n_days = (hi - lo).days + 1
                    weight = om.request_weight(n_vars, n_days, len(batch))
                    parts = max(1, math.ceil(weight / limit))
                    step = math.ceil(n_days / parts)
                    for k in range(0, n_days, step):
                        s0 = lo + dt.timedelta(days=k)
                        s1 = min(hi, s0 + dt.timedelta(days=step - 1))
                        jobs.append(((s0, s1), batch))
    return jobs


def _update_history(
    kind: str,
    start: Any,
    end: Any,
    sites: Sequence[Site],
    url: str | None,
    model: str | None,
    progress: bool | None,
    common: dict,
) -> dict[str, Any]:
    """Fill the history files of ``kind`` for ``start..end`` (defaults: all history)."""
    now = common["now"]
    today = now().astimezone(dt.UTC).date()
    s = om.spec(kind)
    m = model or s.default_model
    default_start = (
        DEFAULT_HISTORICAL_FORECAST_START
        if kind == "historical_forecast"
        else DEFAULT_HISTORY_START
    )
    lag = 1 if kind == "historical_forecast" else ARCHIVE_LAG_DAYS
    start_d = _as_date(start, "--start") or default_start
    end_d = _as_date(end, "--end") or today - dt.timedelta(days=lag)
    if end_d < start_d:
        raise ConfigError(f"--end {end_d} is before --start {start_d}.")
    if end_d > today:
        raise ConfigError(
            f"--end {end_d} is after today ({today}, UTC); history kinds end at today at most. "
            "Use --kind forecast for days ahead."
        )
    folder = source_dir(kind, m)
    jobs = history_jobs(kind, folder, sites, start_d, end_d)
    added = 0
    calls = 0.0
    asked: list[str] = []
    with _progress(len(jobs), f"Open-Meteo {kind}", progress) as bar:
        for (a, b), batch in jobs:  # strictly one request at a time
            ds = om.fetch(kind, batch, start=a, end=b, model=m, url=url, **common)
            ds = _trim_unpublished(ds, now())
            asked.append(f"{a}..{b} x{len(batch)}")
            calls += om.request_weight(len(s.variables), (b - a).days + 1, len(batch))
            for site in batch:
                added += _merge_site(ds.sel(site=[site.id]), folder / f"{site.id}.nc")
            bar.update(1)
    return {
        "kind": kind,
        "model": m,
        "requests": len(jobs),
        "api_calls": calls,
        "sites": len(sites),
        "hours_added": added,
        "ranges": asked,
    }


# --------------------------------------------------------------------------- loading


def _time_bounds(start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    def conv(x: Any, name: str, is_end: bool) -> pd.Timestamp:
        if isinstance(x, dt.date) and not isinstance(x, dt.datetime):
            ts = pd.Timestamp(x)
            return ts + pd.Timedelta(hours=23) if is_end else ts
        try:
            ts = pd.Timestamp(x)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{name} {x!r} is not a date/time.") from exc
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        elif is_end and isinstance(x, str) and len(x.strip()) == 10:
            ts += pd.Timedelta(hours=23)
        return ts.floor("h") if not is_end else ts

    a, b = conv(start, "start", False), conv(end, "end", True)
    if b < a:
        raise ConfigError(f"end {b} is before start {a}.")
    return a, b


def _site_files(kind: str, model: str | None, sites: Sequence[str] | None) -> list[Path]:
    folder = source_dir(kind, model)
    files = sorted(folder.glob("*.nc")) if folder.is_dir() else []
    if not files:
        raise SourceError(
            f"no cached Open-Meteo {kind} data in {folder}. Run "
            f"'forecast weather update --kind {kind.replace('_', '-')}' while online."
        )
    if sites is None:
        return files
    by_id = {f.stem: f for f in files}
    missing = [s for s in sites if s not in by_id]
    if missing:
        raise SourceError(
            f"site(s) {missing} not cached in {folder} (cached: {sorted(by_id)}). Run "
            f"'forecast weather update --kind {kind.replace('_', '-')} --sites "
            f"{','.join(missing)}'."
        )
    return [by_id[s] for s in sites]


def _run_files(kind: str, model: str | None) -> list[Path]:
    folder = source_dir(kind, model)
    files = sorted(folder.glob("run-*.nc")) if folder.is_dir() else []
    if not files:
        raise SourceError(
            f"no cached Open-Meteo {kind.replace('_', ' ')} run in {folder}. Run "
            "'forecast weather update --kind forecast' while online."
        )
    return files


def _load_history(kind: str, model: str | None, sites: Sequence[str] | None) -> xr.Dataset:
    parts = [_read_nc(p) for p in _site_files(kind, model, sites)]
    ds = xr.concat(parts, dim="site", join="outer", combine_attrs="override")
    stamps = [p.attrs.get("retrieved_utc", "") for p in parts]
    ds.attrs["retrieved_utc"] = min(stamps) if all(stamps) else ""
    return ds


def _load_runs(
    kind: str, model: str | None, sites: Sequence[str] | None, latest: bool
) -> xr.Dataset:
    files = _run_files(kind, model)
    chosen = files[-1:] if latest else files[::-1]  # newest first: its values win
    ds: xr.Dataset | None = None
    for path in chosen:
        run = _read_nc(path)
        if sites is not None:
            missing = [s for s in sites if s not in run.indexes["site"]]
            if missing:
                raise SourceError(
                    f"site(s) {missing} not in the cached {kind} run {path}. Run "
                    "'forecast weather update --kind forecast' with those sites."
                )
            run = run.sel(site=list(sites))
        if ds is None:
            ds = run
        else:
            attrs = ds.attrs
            ds = ds.combine_first(run)
            ds.attrs = attrs
    assert ds is not None
    return ds


def _merge_sources(
    atmos: xr.Dataset, marine: xr.Dataset, axis: pd.DatetimeIndex | None
) -> xr.Dataset:
    sites = list(atmos.indexes["site"])
    missing = [s for s in sites if s not in marine.indexes["site"]]
    if missing:
        raise SourceError(
            f"site(s) {missing} have atmospheric but no wave data in the cache. Run "
            "'forecast weather update --kind marine' (or --kind forecast) for them."
        )
    marine = marine.sel(site=sites)
    if axis is None:
        axis = atmos.indexes["time"].union(marine.indexes["time"])
        if len(axis):
            axis = pd.date_range(axis[0], axis[-1], freq="h", unit="ns")
    a = atmos.reindex(time=axis)
    w = marine.reindex(time=axis)
    out = xr.Dataset(coords={"time": axis, "site": np.array(sites, dtype=object)})
    for c in ("site_lat", "site_lon", "grid_lat", "grid_lon"):
        out.coords[c] = ("site", a[c].values, a[c].attrs)
    out.coords["marine_grid_lat"] = ("site", w["grid_lat"].values, w["grid_lat"].attrs)
    out.coords["marine_grid_lon"] = ("site", w["grid_lon"].values, w["grid_lon"].attrs)
    for src, aligned in ((atmos, a), (marine, w)):
        label = f"{src.attrs.get('kind')} {src.attrs.get('model')}"
        for name in aligned.data_vars:
            values = aligned[name].transpose("time", "site").values
            out[name] = (("time", "site"), values, {**aligned[name].attrs, "source": label})
    if "visibility" not in out:
        out["visibility"] = (
            ("time", "site"),
            np.full((len(axis), len(sites)), np.nan),
            {"units": "m", "source": "not provided by this source (archive API has no visibility)"},
        )
    stamps = [x for x in (atmos.attrs.get("retrieved_utc"), marine.attrs.get("retrieved_utc")) if x]
    out.attrs = {
        "source": f"{atmos.attrs.get('source')} + {marine.attrs.get('source')}",
        "model": f"{atmos.attrs.get('model')} + {marine.attrs.get('model')}",
        "attribution": _join_attribution(
            atmos.attrs.get("attribution", ""), marine.attrs.get("attribution", "")
        ),
        # the older of the two retrievals: the data are at least this fresh
        "retrieved_utc": min(stamps) if stamps else "",
    }
    if atmos.attrs.get("run_utc"):
        out.attrs["run_utc"] = atmos.attrs["run_utc"]
    return out


def _join_attribution(a: str, b: str) -> str:
    parts: list[str] = []
    for text in (a, b):
        for p in text.split("; "):
            if p and p not in parts:
                parts.append(p)
    return "; ".join(parts)


def load_hourly(
    start: Any,
    end: Any,
    kind: str = "archive",
    sites: Sequence[str] | None = None,
    *,
    model: str | None = None,
    marine_model: str | None = None,
) -> xr.Dataset:
    """Hourly UTC weather and sea state per site from the cache (never the network).

    Parameters
    ----------
    start, end : date, str or Timestamp
        Inclusive UTC bounds; a plain date as ``end`` includes that whole day.
    kind : {"archive", "historical_forecast", "forecast"}
        ``archive``: ERA5 atmosphere + ERA5-Ocean waves. ``historical_forecast``:
        archived forecasts (with visibility) + ERA5-Ocean waves. ``forecast``: all cached
        forecast runs, the newest value winning for each hour, + marine forecasts.
    sites : sequence of str, optional
        Site ids (default: every site cached for the atmospheric source).
    model, marine_model : str, optional
        Cached model to read (defaults as in :data:`LOAD_KINDS`).

    Returns
    -------
    xarray.Dataset
        Dims ``(time, site)`` with one row per hour from ``start`` to ``end`` (hours
        absent from the cache are NaN), variables ``wind_speed_10m`` [kn],
        ``wind_gusts_10m`` [kn], ``wind_direction_10m`` [deg], ``wave_height`` [m],
        ``wave_period`` [s], ``wave_direction`` [deg], ``precipitation`` [mm],
        ``temperature_2m`` [degC], ``pressure_msl`` [hPa], ``visibility`` [m]; coords
        ``site_lat``/``site_lon`` (asked), ``grid_lat``/``grid_lon`` (atmospheric cell),
        ``marine_grid_lat``/``marine_grid_lon`` (wave cell); attrs ``source``, ``model``,
        ``attribution``, ``retrieved_utc``.

    Raises
    ------
    SourceError
        If nothing (or not every asked site) is cached for the sources of ``kind``.
    """
    key = kind.replace("-", "_")
    if key not in LOAD_KINDS:
        raise ConfigError(f"kind {kind!r} is not one of {sorted(LOAD_KINDS)}.")
    (ak, am), (mk, mm) = LOAD_KINDS[key]
    a, b = _time_bounds(start, end)
    axis = pd.date_range(a, b, freq="h", unit="ns")
    if key == "forecast":
        atmos = _load_runs(ak, model or am, sites, latest=False)
        marine = _load_runs(mk, marine_model or mm, list(atmos.indexes["site"]), latest=False)
    else:
        atmos = _load_history(ak, model or am, sites)
        marine = _load_history(mk, marine_model or mm, list(atmos.indexes["site"]))
    return _merge_sources(atmos, marine, axis)


def load_forecast_latest(
    sites: Sequence[str] | None = None,
    *,
    model: str | None = None,
    marine_model: str | None = None,
    require_marine: bool = False,
) -> xr.Dataset:
    """The newest cached forecast run (forecast API + marine forecast), merged per site.

    The time axis covers the run (its ``past_days`` and forecast days); attrs as in
    :func:`load_hourly` plus ``forecast_retrieved_utc`` and ``marine_retrieved_utc``.
    Open-Meteo does not report the model run time, so ``run_utc`` is absent and
    ``retrieved_utc`` (when the run was fetched) stands in for it.

    If no marine forecast is cached for these sites and ``require_marine`` is False,
    the wave variables are NaN and ``attrs["marine_missing"]`` says why.
    """
    atmos = _load_runs("forecast", model, sites, latest=True)
    site_ids = list(atmos.indexes["site"])
    missing = ""
    try:
        marine = _load_runs("marine_forecast", marine_model, site_ids, latest=True)
    except SourceError as exc:
        if require_marine:
            raise
        missing = str(exc)
        nan = np.full((atmos.sizes["time"], len(site_ids)), np.nan)
        marine = xr.Dataset(
            {
                v: (("time", "site"), nan.copy(), {"units": om.CANONICAL_UNITS[v]})
                for v in om.WAVE_VARIABLES
            },
            coords={
                "time": atmos["time"].values,
                "site": np.array(site_ids, dtype=object),
                "grid_lat": ("site", np.full(len(site_ids), np.nan)),
                "grid_lon": ("site", np.full(len(site_ids), np.nan)),
            },
            attrs={
                "kind": "marine_forecast",
                "model": "none",
                "source": "no marine forecast cached",
            },
        )
    out = _merge_sources(atmos, marine, None)
    if missing:
        out.attrs["marine_missing"] = missing
    out.attrs["forecast_retrieved_utc"] = atmos.attrs.get("retrieved_utc", "")
    out.attrs["marine_retrieved_utc"] = marine.attrs.get("retrieved_utc", "")
    return out


def read_weather_file(path: str | Path) -> xr.Dataset:
    """Read a user-supplied weather file for ``outlook --weather FILE``.

    Parameters
    ----------
    path : str or Path
        NetCDF (``.nc``) with dims ``time`` (and optionally ``site``) and glossary-named
        variables carrying ``units`` attributes, or an Open-Meteo JSON response
        (``.json``; one object or a list of objects, as saved from the API).

    Returns
    -------
    xarray.Dataset
        As :func:`read_response`: dims ``(time, site)``, canonical units.

    Raises
    ------
    DataFormatError
        Unknown suffix, unreadable file, no known variable, unknown unit or bad time axis.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise DataFormatError(f"weather file {path} does not exist.")
    if suffix == ".json":
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataFormatError(f"weather file {path} is not valid JSON: {exc}") from exc
        ds = om.read_response(body, None, where=f"weather file {path}")
        ds.attrs["source"] = f"user file {path.name} (Open-Meteo JSON)"
        return ds
    if suffix not in (".nc", ".nc4", ".netcdf"):
        raise DataFormatError(
            f"weather file {path}: unknown type {suffix!r}; give a NetCDF (.nc) or an "
            "Open-Meteo JSON (.json) file."
        )
    ds = _read_nc(path, user_file=True)
    where = f"weather file {path}"
    if "time" not in ds.dims:
        raise DataFormatError(f"{where}: no 'time' dimension (dims: {list(ds.dims)}).")
    if "site" not in ds.dims:
        ds = ds.expand_dims(site=np.array([path.stem], dtype=object))
    known = [v for v in ds.data_vars if v in om.CANONICAL_UNITS]
    if not known:
        raise DataFormatError(
            f"{where}: no known weather variable (known: {list(om.CANONICAL_UNITS)})."
        )
    ds = ds[known].transpose("time", "site", ...)
    for name in known:
        unit = ds[name].attrs.get("units")
        if unit is None:
            raise DataFormatError(f"{where}: variable {name!r} has no 'units' attribute.")
        values = om.convert_units(
            ds[name].values.astype("float64"), name, str(unit), f"{where} {name}"
        )
        ds[name] = (ds[name].dims, values, {**ds[name].attrs, "units": om.CANONICAL_UNITS[name]})
    check_plausible(ds, where)
    times = pd.DatetimeIndex(ds["time"].values)
    if times.has_duplicates:
        dup = times[times.duplicated()][0]
        raise DataFormatError(
            f"{where}: time {dup:%Y-%m-%d %H:%M} appears more than once; give one row per "
            "hour (UTC)."
        )
    ds = ds.sortby("time")
    ds.attrs.setdefault("source", f"user file {path.name}")
    ds.attrs.setdefault("attribution", "user-supplied")
    return ds


# --------------------------------------------------------------------------- inventory


def cache_inventory() -> pd.DataFrame:
    """What the cache holds: one row per source and site (history) or per run (forecast).

    Columns: ``source`` (folder), ``kind``, ``model``, ``site``, ``grid_lat``,
    ``grid_lon``, ``start_utc``, ``end_utc``, ``hours``, ``missing_hours`` (gaps inside
    the span), ``nan_hours`` (hours where every variable is null), ``gaps`` (first gap
    ranges), ``retrieved_utc``, ``attribution``.
    """
    rows: list[dict[str, Any]] = []
    root = cache_root()
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        for path in sorted(folder.glob("*.nc")):
            ds = _read_nc(path)
            times = ds.indexes["time"]
            gaps = _hour_gaps(times)
            all_nan = _all_null_hours(ds)
            sites = [str(s) for s in ds["site"].values]
            text = "; ".join(f"{g0:%Y-%m-%d %H:%M}..{g1:%Y-%m-%d %H:%M}" for g0, g1 in gaps[:3])
            if len(gaps) > 3:
                text += f"; +{len(gaps) - 3} more"
            rows.append(
                {
                    "source": folder.name,
                    "kind": ds.attrs.get("kind", ""),
                    "model": ds.attrs.get("model", ""),
                    "site": sites[0] if len(sites) == 1 else f"{len(sites)} sites ({path.stem})",
                    "grid_lat": float(ds["grid_lat"].values[0]) if len(sites) == 1 else np.nan,
                    "grid_lon": float(ds["grid_lon"].values[0]) if len(sites) == 1 else np.nan,
                    "start_utc": f"{times[0]:%Y-%m-%d %H:%M}" if len(times) else "",
                    "end_utc": f"{times[-1]:%Y-%m-%d %H:%M}" if len(times) else "",
                    "hours": int(len(times)),
                    "missing_hours": int(
                        sum((g1 - g0) / pd.Timedelta(hours=1) + 1 for g0, g1 in gaps)
                    ),
                    "nan_hours": int(all_nan.sum()),
                    "gaps": text,
                    "retrieved_utc": ds.attrs.get("retrieved_utc", ""),
                    "attribution": ds.attrs.get("attribution", ""),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "source",
            "kind",
            "model",
            "site",
            "grid_lat",
            "grid_lon",
            "start_utc",
            "end_utc",
            "hours",
            "missing_hours",
            "nan_hours",
            "gaps",
            "retrieved_utc",
            "attribution",
        ],
    )
