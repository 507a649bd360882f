"""Open-Meteo marine weather: archive (ERA5), marine (waves), forecast, historical forecast.

Thin network functions (:func:`get_json`, :func:`fetch_json`, on the shared plumbing
of :mod:`forecast.sources.http`) and a pure parser
(:func:`read_response`, JSON -> :class:`xarray.Dataset`) so that parsing is tested
without a server. Names and units are normalised here, once: wind [kn], wave height
[m], period [s], directions [deg, direction *from*], precipitation [mm],
temperature [degC], pressure [hPa], visibility [m]. Every request asks for UTC
(``timezone=GMT``), knots, Celsius, millimetres and metres, and the returned
``hourly_units`` are checked: another known unit is converted, an unknown one is an
error.

Sources (see ``docs/weather-apis.md``):

=====================  ==========================================================  ===============
kind                   endpoint (env var to override)                               model (default)
=====================  ==========================================================  ===============
``archive``            ``https://archive-api.open-meteo.com/v1/archive``            ``era5``
                       (``FORECAST_OPENMETEO_ARCHIVE_URL``)
``marine``             ``https://marine-api.open-meteo.com/v1/marine``              ``era5_ocean``
                       (``FORECAST_OPENMETEO_MARINE_URL``)
``forecast``           ``https://api.open-meteo.com/v1/forecast``                   ``best_match``
                       (``FORECAST_OPENMETEO_FORECAST_URL``)
``marine_forecast``    marine endpoint, ``forecast_days``/``past_days``             ``best_match``
``historical_forecast`` ``https://historical-forecast-api.open-meteo.com/v1/forecast`` ``best_match``
                       (``FORECAST_OPENMETEO_HISTORICAL_FORECAST_URL``)
=====================  ==========================================================  ===============

Licence: Open-Meteo data are CC BY 4.0 (free API: non-commercial use only); the
model providers are credited in each Dataset's ``attribution`` attribute.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import requests
import xarray as xr

from forecast import config
from forecast.errors import ConfigError, DataFormatError, SourceError
from forecast.sources import http
from forecast.sources.sites import Site

OPEN_METEO = "Weather data by Open-Meteo.com (https://open-meteo.com/), CC BY 4.0"
ERA5_CREDIT = (
    "ERA5 reanalysis: Copernicus Climate Change Service (C3S) / ECMWF, "
    "Hersbach et al. (2023), doi:10.24381/cds.adbb2d47"
)
MARINE_CREDIT = (
    "Wave models: DWD (Deutscher Wetterdienst, EWAM/GWAM), Meteo-France (MFWAM), "
    "ECMWF (WAM, ERA5-Ocean) via Open-Meteo Marine"
)
FORECAST_CREDIT = (
    "Numerical weather models of the national services (ECMWF, DWD, Meteo-France, "
    "UK Met Office, NOAA, ...) via Open-Meteo"
)

#: Atmospheric variables asked of every weather endpoint (glossary names = API names).
ATMOS_VARIABLES = (
    "wind_speed_10m",
    "wind_gusts_10m",
    "wind_direction_10m",
    "precipitation",
    "temperature_2m",
    "pressure_msl",
)
#: Sea-state variables asked of the marine endpoint.
WAVE_VARIABLES = ("wave_height", "wave_period", "wave_direction")

#: Canonical unit of each glossary variable.
CANONICAL_UNITS = {
    "wind_speed_10m": "kn",
    "wind_gusts_10m": "kn",
    "wind_direction_10m": "deg",
    "wave_height": "m",
    "wave_period": "s",
    "wave_direction": "deg",
    "precipitation": "mm",
    "temperature_2m": "degC",
    "pressure_msl": "hPa",
    "visibility": "m",
}

_SPEED = {
    "kn": 1.0,
    "kt": 1.0,
    "km/h": 1000.0 / 1852.0,
    "m/s": 3600.0 / 1852.0,
    "mph": 1609.344 / 1852.0,
}
_LENGTH = {"m": 1.0, "ft": 0.3048}
#: Known unit strings per canonical unit -> function converting to the canonical unit.
_CONVERTERS: dict[str, dict[str, Callable[[np.ndarray], np.ndarray]]] = {
    "kn": {u: (lambda x, f=f: x * f) for u, f in _SPEED.items()},
    "deg": {u: (lambda x: x) for u in ("°", "deg", "degrees")},
    "m": {u: (lambda x, f=f: x * f) for u, f in _LENGTH.items()},
    "s": {"s": lambda x: x},
    "mm": {"mm": lambda x: x, "inch": lambda x: x * 25.4, "in": lambda x: x * 25.4},
    "degC": {"°C": lambda x: x, "degC": lambda x: x, "°F": lambda x: (x - 32.0) * 5.0 / 9.0},
    "hPa": {"hPa": lambda x: x, "Pa": lambda x: x / 100.0},
}

#: Maximum number of locations in one multi-location request.
MAX_LOCATIONS = 50


@dataclass(frozen=True)
class SourceSpec:
    """What one kind of Open-Meteo request asks and how it is credited."""

    kind: str
    default_url: str
    env_var: str
    variables: tuple[str, ...]
    default_model: str
    title: str
    attribution: str
    extra_params: tuple[tuple[str, str], ...]
    history: bool  # start_date/end_date (True) or past_days/forecast_days (False)


_ATMOS_UNITS = (
    ("cell_selection", "sea"),
    ("wind_speed_unit", "kn"),
    ("temperature_unit", "celsius"),
    ("precipitation_unit", "mm"),
    ("timezone", "GMT"),
    ("timeformat", "iso8601"),
)
_MARINE_UNITS = (
    ("cell_selection", "sea"),
    ("length_unit", "metric"),
    ("timezone", "GMT"),
    ("timeformat", "iso8601"),
)

SOURCES: dict[str, SourceSpec] = {
    "archive": SourceSpec(
        "archive",
        "https://archive-api.open-meteo.com/v1/archive",
        "FORECAST_OPENMETEO_ARCHIVE_URL",
        ATMOS_VARIABLES,
        "era5",
        "Open-Meteo Historical Weather API (reanalysis archive)",
        f"{OPEN_METEO}; {ERA5_CREDIT}",
        _ATMOS_UNITS,
        True,
    ),
    "marine": SourceSpec(
        "marine",
        "https://marine-api.open-meteo.com/v1/marine",
        "FORECAST_OPENMETEO_MARINE_URL",
        WAVE_VARIABLES,
        "era5_ocean",
        "Open-Meteo Marine Weather API (wave history)",
        f"{OPEN_METEO}; {MARINE_CREDIT}; {ERA5_CREDIT}",
        _MARINE_UNITS,
        True,
    ),
    "forecast": SourceSpec(
        "forecast",
        "https://api.open-meteo.com/v1/forecast",
        "FORECAST_OPENMETEO_FORECAST_URL",
        (*ATMOS_VARIABLES, "visibility"),
        "best_match",
        "Open-Meteo Weather Forecast API",
        f"{OPEN_METEO}; {FORECAST_CREDIT}",
        _ATMOS_UNITS,
        False,
    ),
    "marine_forecast": SourceSpec(
        "marine_forecast",
        "https://marine-api.open-meteo.com/v1/marine",
        "FORECAST_OPENMETEO_MARINE_URL",
        WAVE_VARIABLES,
        "best_match",
        "Open-Meteo Marine Weather API (wave forecast)",
        f"{OPEN_METEO}; {MARINE_CREDIT}",
        _MARINE_UNITS,
        False,
    ),
    "historical_forecast": SourceSpec(
        "historical_forecast",
        "https://historical-forecast-api.open-meteo.com/v1/forecast",
        "FORECAST_OPENMETEO_HISTORICAL_FORECAST_URL",
        (*ATMOS_VARIABLES, "visibility"),
        "best_match",
        "Open-Meteo Historical Forecast API (archived forecasts)",
        f"{OPEN_METEO}; {FORECAST_CREDIT}",
        _ATMOS_UNITS,
        True,
    ),
}


def spec(kind: str) -> SourceSpec:
    """The :class:`SourceSpec` of ``kind`` (``-`` and ``_`` are interchangeable)."""
    key = kind.replace("-", "_")
    if key not in SOURCES:
        raise ConfigError(f"unknown Open-Meteo kind {kind!r}; choose one of {sorted(SOURCES)}.")
    return SOURCES[key]


def base_url(kind: str, override: str | None = None) -> str:
    """Endpoint URL for ``kind``: ``override``, else its env var, else the public URL."""
    s = spec(kind)
    url = override or os.environ.get(s.env_var) or s.default_url
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"Open-Meteo {s.kind} URL {url!r} must start with http:// or https://.")
    return url


# --------------------------------------------------------------------------- requests


def build_params(
    kind: str,
    sites: Sequence[Site],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    model: str | None = None,
    past_days: int | None = None,
    forecast_days: int | None = None,
) -> dict[str, str]:
    """Query parameters of one (multi-location) request. Pure.

    Parameters
    ----------
    kind : str
        Key of :data:`SOURCES`.
    sites : sequence of Site
        1 to :data:`MAX_LOCATIONS` points, sent as comma-separated lists.
    start, end : datetime.date, optional
        Inclusive UTC dates (history kinds; required there).
    model : str, optional
        ``models=`` value (default: the kind's default model).
    past_days, forecast_days : int, optional
        Forecast kinds only.
    """
    s = spec(kind)
    if not sites:
        raise ConfigError("no sites to request; give --sites or check the site list.")
    if len(sites) > MAX_LOCATIONS:
        raise ConfigError(f"at most {MAX_LOCATIONS} locations per request (got {len(sites)}).")
    params = {
        "latitude": ",".join(f"{x.lat:.4f}" for x in sites),
        "longitude": ",".join(f"{x.lon:.4f}" for x in sites),
        "hourly": ",".join(s.variables),
        "models": model or s.default_model,
        **dict(s.extra_params),
    }
    if s.history:
        if start is None or end is None:
            raise ConfigError(f"Open-Meteo {s.kind} requests need a start and an end date.")
        if end < start:
            raise ConfigError(f"end date {end} is before start date {start}.")
        params["start_date"] = start.isoformat()
        params["end_date"] = end.isoformat()
    else:
        if past_days is not None:
            params["past_days"] = str(int(past_days))
        if forecast_days is not None:
            params["forecast_days"] = str(int(forecast_days))
    return params


class RateLimitError(http.TransientError):
    """HTTP 429 from Open-Meteo; ``scope`` is minutely/hourly/daily/concurrent/unknown."""

    def __init__(self, message: str, scope: str, reason: str, retry_after_s: float | None):
        super().__init__(
            message,
            fault=f"HTTP 429: {reason}",
            status=429,
            server_text=reason,
            retry_after_s=retry_after_s,
        )
        self.scope = scope
        self.reason = reason


#: A fault worth one more try later: 5xx, time-out, dropped or truncated body.
TransientError = http.TransientError


def rate_limit_scope(reason: str) -> str:
    """Classify a 429 reason text: ``minutely``, ``hourly``, ``daily``, ``concurrent`` or ``unknown``."""
    text = reason.lower()
    for scope in ("minutely", "hourly", "daily"):
        if scope in text:
            return scope
    if "concurrent" in text:
        return "concurrent"
    return "unknown"


def get_json(
    url: str,
    params: dict[str, str],
    *,
    timeout: float = config.HTTP_TIMEOUT_S,
    session: requests.Session | None = None,
) -> Any:
    """One GET; returns the decoded JSON body (a dict, or a list for several locations).

    Raises
    ------
    RateLimitError
        On HTTP 429 (with the server's reason and any ``Retry-After``).
    TransientError
        On 5xx, time-out, connection failure or a truncated body.
    SourceError
        On any other HTTP error (e.g. 400, with the server's ``reason``) or an
        ``{"error": true}`` body.
    DataFormatError
        If a 200 body is not JSON.
    """
    where = f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
    try:
        response = http.get(url, params=params, timeout=timeout, session=session)
    except http.TransientError as exc:
        if exc.status != 429:
            raise
        raise RateLimitError(
            f"Open-Meteo rate limit (HTTP 429) at {url}: {exc.server_text}",
            rate_limit_scope(exc.server_text),
            exc.server_text,
            exc.retry_after_s,
        ) from exc
    status = response.status_code
    if status >= 400:
        raise SourceError(
            f"Open-Meteo refused the request (HTTP {status}) at {where}: "
            f"{http.server_message(response)}. Check the dates, sites, variables and model."
        )
    content = response.content
    try:
        body = response.json() if content else None
    except ValueError as exc:
        raise DataFormatError(
            f"Open-Meteo answered HTTP {status} with a body that is not JSON ({where}): "
            f"{content[:80]!r}. Is the base URL an Open-Meteo endpoint?"
        ) from exc
    if body is None:
        raise DataFormatError(f"Open-Meteo answered HTTP {status} with an empty body ({where}).")
    if isinstance(body, dict) and body.get("error"):
        raise SourceError(f"Open-Meteo returned an error at {where}: {body.get('reason')}")
    return body


@dataclass(frozen=True)
class RetryPolicy:
    """How :func:`fetch_json` waits and retries. One request at a time, never parallel.

    Attributes
    ----------
    timeout_s : float
        Per-request time-out [s].
    minutely_wait_s : float
        Wait after a "minutely"/"concurrent" 429 without ``Retry-After`` [s].
    max_wait_s : float
        Cap on any single wait, including ``Retry-After`` [s].
    max_rate_retries : int
        Retries after minutely/concurrent 429s before giving up.
    transient_wait_s : float
        First wait after a 5xx/time-out/truncated body [s]; doubles each time.
    max_transient_retries : int
        Retries after transient faults before giving up.
    """

    timeout_s: float = config.HTTP_TIMEOUT_S
    minutely_wait_s: float = 65.0
    max_wait_s: float = 180.0
    max_rate_retries: int = 3
    transient_wait_s: float = 5.0
    max_transient_retries: int = 2


def fetch_json(
    url: str,
    params: dict[str, str],
    *,
    policy: RetryPolicy = RetryPolicy(),
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Any:
    """:func:`get_json` with bounded back-off (loop in :func:`forecast.sources.http.retrying`).

    A "minutely" or "concurrent" 429 waits (``Retry-After`` if sent, else
    ``policy.minutely_wait_s``) and retries up to ``policy.max_rate_retries`` times.
    An "hourly" or "daily" 429 stops at once with a message saying when to retry.
    5xx, time-outs and truncated bodies are retried ``policy.max_transient_retries``
    times with doubling waits.
    """
    tries = {"rate": 0, "transient": 0}

    def wait(exc: http.TransientError, _failures: int) -> float | None:
        if isinstance(exc, RateLimitError):
            if exc.scope in ("hourly", "daily"):
                raise _limit_exhausted(exc, url, now()) from exc
            tries["rate"] += 1
            if tries["rate"] > policy.max_rate_retries:
                raise RateLimitError(
                    f"Open-Meteo kept answering HTTP 429 ({exc.reason!r}) at {url} after "
                    f"{policy.max_rate_retries} waits. Stopped; the cache keeps what was "
                    "fetched. Run the update again in a few minutes.",
                    exc.scope,
                    exc.reason,
                    exc.retry_after_s,
                ) from exc
            after = exc.retry_after_s
            return min(
                max(policy.minutely_wait_s if after is None else after, 0.0), policy.max_wait_s
            )
        tries["transient"] += 1
        if tries["transient"] > policy.max_transient_retries:
            raise TransientError(
                f"{exc} (gave up after {policy.max_transient_retries} retries). The cache "
                "keeps what was fetched before; run the update again later.",
                fault=exc.fault,
                status=exc.status,
                server_text=exc.server_text,
            ) from exc
        return http.backoff(exc, tries["transient"], policy.transient_wait_s, policy.max_wait_s)

    return http.retrying(
        lambda: get_json(url, params, timeout=policy.timeout_s, session=session),
        wait=wait,
        sleep=sleep,
    )


def _limit_exhausted(exc: RateLimitError, url: str, t: dt.datetime) -> RateLimitError:
    """The error for an hourly/daily 429: stop now and say when to run again."""
    if exc.scope == "hourly":
        when = t.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        hint = f"retry after {when:%Y-%m-%d %H:%M} UTC (the next full hour)"
    else:
        hint = f"retry tomorrow (after {(t + dt.timedelta(days=1)):%Y-%m-%d} 00:00 UTC)"
    return RateLimitError(
        f"Open-Meteo {exc.scope} API request limit exceeded at {url} "
        f"(server: {exc.reason!r}). Stopped; everything fetched so far is kept "
        f"in the cache. Run the same update again to continue: {hint}.",
        exc.scope,
        exc.reason,
        exc.retry_after_s,
    )


# --------------------------------------------------------------------------- parsing


def convert_units(values: np.ndarray, variable: str, unit: str, where: str) -> np.ndarray:
    """Convert ``values`` of ``variable`` given in ``unit`` to its canonical unit.

    Raises
    ------
    DataFormatError
        If ``unit`` is not a known spelling for that quantity.
    """
    canonical = CANONICAL_UNITS[variable]
    table = _CONVERTERS[canonical]
    if unit not in table:
        raise DataFormatError(
            f"{where}: unknown unit {unit!r} for {variable!r} (expected {canonical!r}; "
            f"known: {sorted(table)}). Request the documented unit or extend "
            "forecast.sources.openmeteo._CONVERTERS."
        )
    return table[unit](values)


def _parse_times(raw: list, time_unit: str, where: str) -> pd.DatetimeIndex:
    if time_unit == "unixtime":
        try:
            times = pd.to_datetime(np.asarray(raw, dtype="int64"), unit="s")
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"{where}: hourly.time is not unix seconds: {exc}") from exc
    elif time_unit == "iso8601":
        try:
            times = pd.to_datetime(pd.Index(raw, dtype=object), format="%Y-%m-%dT%H:%M")
        except (TypeError, ValueError) as exc:
            raise DataFormatError(
                f"{where}: hourly.time is not 'yyyy-mm-ddThh:mm' (iso8601): {exc}"
            ) from exc
    else:
        raise DataFormatError(
            f"{where}: unknown time format {time_unit!r} in hourly_units.time "
            "(expected 'iso8601' or 'unixtime')."
        )
    times = pd.DatetimeIndex(times).as_unit("ns")
    if times.has_duplicates:
        dup = times[times.duplicated()][0]
        raise DataFormatError(f"{where}: hourly.time repeats {dup:%Y-%m-%d %H:%M}.")
    if not times.is_monotonic_increasing:
        raise DataFormatError(f"{where}: hourly.time is not in increasing order.")
    if len(times) and ((times - times[0]) % pd.Timedelta(hours=1) != pd.Timedelta(0)).any():
        raise DataFormatError(f"{where}: hourly.time is not on whole hours.")
    return times


def _read_location(
    obj: Any, variables: Sequence[str], where: str
) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray], dict[str, float]]:
    if not isinstance(obj, dict):
        raise DataFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}.")
    if obj.get("error"):
        raise SourceError(f"{where}: Open-Meteo returned an error: {obj.get('reason')}")
    for key in ("latitude", "longitude", "hourly", "hourly_units"):
        if key not in obj:
            raise DataFormatError(f"{where}: key {key!r} missing from the response.")
    offset = obj.get("utc_offset_seconds", 0)
    if offset not in (0, None):
        raise DataFormatError(
            f"{where}: utc_offset_seconds is {offset} (timezone {obj.get('timezone')!r}); "
            "times must be UTC. Request timezone=GMT."
        )
    hourly, units = obj["hourly"], obj["hourly_units"]
    if not isinstance(hourly, dict) or "time" not in hourly:
        raise DataFormatError(f"{where}: key 'hourly.time' missing from the response.")
    if not isinstance(units, dict):
        raise DataFormatError(
            f"{where}: 'hourly_units' is a {type(units).__name__}, expected an object "
            "mapping each variable to its unit."
        )
    times = _parse_times(hourly["time"], str(units.get("time", "iso8601")), where)
    data: dict[str, np.ndarray] = {}
    for var in variables:
        if var not in hourly:
            raise DataFormatError(
                f"{where}: requested variable {var!r} is missing from 'hourly' "
                f"(has {sorted(k for k in hourly if k != 'time')}). Is it available for this "
                "model/endpoint?"
            )
        if var not in units:
            raise DataFormatError(f"{where}: no unit for {var!r} in 'hourly_units'.")
        raw = hourly[var]
        if not isinstance(raw, list) or len(raw) != len(times):
            n = len(raw) if isinstance(raw, list) else type(raw).__name__
            raise DataFormatError(
                f"{where}: hourly.{var} has {n} values but hourly.time has {len(times)}."
            )
        try:
            values = np.array([np.nan if v is None else v for v in raw], dtype="float64")
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"{where}: hourly.{var} holds a non-number: {exc}") from exc
        data[var] = convert_units(values, var, str(units[var]), f"{where} hourly_units.{var}")
    try:
        grid = {
            "grid_lat": float(obj["latitude"]),
            "grid_lon": float(obj["longitude"]),
            "grid_elevation": float(obj["elevation"])
            if obj.get("elevation") is not None
            else np.nan,
        }
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{where}: latitude/longitude/elevation not numbers: {exc}") from exc
    return times, data, grid


def read_response(
    body: Any,
    kind: str | None,
    *,
    sites: Sequence[Site] | None = None,
    variables: Sequence[str] | None = None,
    model: str | None = None,
    where: str = "Open-Meteo response",
) -> xr.Dataset:
    """Parse an Open-Meteo JSON body into a ``(time, site)`` Dataset. Pure.

    Parameters
    ----------
    body : dict or list of dict
        Decoded JSON: one object per location (a list when several were asked).
    kind : str or None
        Key of :data:`SOURCES` (sets ``source``/``attribution`` attrs and the
        default variables); ``None`` for a user file of unknown origin.
    sites : sequence of Site, optional
        The points asked, in request order. Default: ``site_0``, ``site_1``, ... at
        the returned positions.
    variables : sequence of str, optional
        Variables that must be present (default: the kind's variables, or every
        known variable present in the body when ``kind`` is None).
    model : str, optional
        Model asked (``model`` attr).
    where : str
        Named in error messages (URL or file).

    Returns
    -------
    xarray.Dataset
        Dims ``(time, site)``, ``time`` hourly UTC (tz-naive); coords ``site``,
        ``site_lat``, ``site_lon`` (asked), ``grid_lat``, ``grid_lon``,
        ``grid_elevation`` (returned). Variables in canonical units (``attrs["units"]``);
        nulls are NaN. Attrs ``source``, ``model``, ``attribution``.

    Raises
    ------
    DataFormatError
        Wrong shape, missing requested key, length mismatch, non-UTC times or unknown unit.
    """
    objs = body if isinstance(body, list) else [body]
    if not objs:
        raise DataFormatError(f"{where}: empty list of locations.")
    if sites is not None and len(sites) != len(objs):
        raise DataFormatError(f"{where}: {len(sites)} location(s) asked but {len(objs)} returned.")
    s = spec(kind) if kind is not None else None
    if variables is None:
        if s is not None:
            variables = s.variables
        else:
            first = objs[0].get("hourly", {}) if isinstance(objs[0], dict) else {}
            variables = [v for v in CANONICAL_UNITS if v in first]
            if not variables:
                raise DataFormatError(
                    f"{where}: no known weather variable in 'hourly' (known: {list(CANONICAL_UNITS)})."
                )
    parsed = [
        _read_location(o, variables, f"{where} location {i}" if len(objs) > 1 else where)
        for i, o in enumerate(objs)
    ]
    axis = parsed[0][0]
    for times, _, _ in parsed[1:]:
        axis = axis.union(times)
    site_ids = (
        [x.id for x in sites] if sites is not None else [f"site_{i}" for i in range(len(objs))]
    )
    n_t, n_s = len(axis), len(objs)
    arrays = {v: np.full((n_t, n_s), np.nan) for v in variables}
    for j, (times, data, _) in enumerate(parsed):
        pos = axis.get_indexer(times)
        for v in variables:
            arrays[v][pos, j] = data[v]
    grids = [g for _, _, g in parsed]
    coords = {
        "time": ("time", axis.values),
        "site": ("site", np.array(site_ids, dtype=object)),
        "site_lat": (
            "site",
            [x.lat for x in sites] if sites is not None else [g["grid_lat"] for g in grids],
        ),
        "site_lon": (
            "site",
            [x.lon for x in sites] if sites is not None else [g["grid_lon"] for g in grids],
        ),
        "grid_lat": ("site", [g["grid_lat"] for g in grids]),
        "grid_lon": ("site", [g["grid_lon"] for g in grids]),
        "grid_elevation": ("site", [g["grid_elevation"] for g in grids]),
    }
    ds = xr.Dataset(
        {v: (("time", "site"), arrays[v], {"units": CANONICAL_UNITS[v]}) for v in variables},
        coords=coords,
    )
    ds["grid_lat"].attrs["long_name"] = "latitude of the grid cell the source returned"
    ds["grid_lon"].attrs["long_name"] = "longitude of the grid cell the source returned"
    ds["grid_elevation"].attrs["units"] = "m"
    ds["site_lat"].attrs["long_name"] = "latitude asked"
    ds["site_lon"].attrs["long_name"] = "longitude asked"
    ds.attrs.update(
        {
            "source": s.title if s else f"Open-Meteo JSON ({where})",
            "kind": s.kind if s else "file",
            "model": model or (s.default_model if s else "unknown"),
            "attribution": s.attribution if s else OPEN_METEO,
        }
    )
    return ds


def fetch(
    kind: str,
    sites: Sequence[Site],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    model: str | None = None,
    past_days: int | None = None,
    forecast_days: int | None = None,
    url: str | None = None,
    policy: RetryPolicy = RetryPolicy(),
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> xr.Dataset:
    """Request one chunk for ``sites`` (one multi-location request) and parse it.

    Adds attrs ``url`` and ``retrieved_utc``. See :func:`build_params` for the arguments.
    """
    endpoint = base_url(kind, url)
    params = build_params(
        kind,
        sites,
        start=start,
        end=end,
        model=model,
        past_days=past_days,
        forecast_days=forecast_days,
    )
    body = fetch_json(endpoint, params, policy=policy, session=session, sleep=sleep, now=now)
    ds = read_response(body, kind, sites=sites, model=params["models"], where=endpoint)
    ds.attrs["url"] = endpoint
    ds.attrs["retrieved_utc"] = now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ds


def year_chunks(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Split the inclusive range ``start..end`` at calendar-year boundaries."""
    out = []
    cur = start
    while cur <= end:
        stop = min(dt.date(cur.year, 12, 31), end)
        out.append((cur, stop))
        cur = stop + dt.timedelta(days=1)
    return out


def request_weight(n_variables: int, n_days: int, n_locations: int) -> float:
    """Open-Meteo's call count of one request (website formula, see docs/weather-apis.md)."""
    return max(1.0, max(n_variables / 10, (n_days / 14) * (n_variables / 10))) * n_locations


__all__ = [
    "ATMOS_VARIABLES",
    "CANONICAL_UNITS",
    "SOURCES",
    "WAVE_VARIABLES",
    "RateLimitError",
    "RetryPolicy",
    "TransientError",
    "base_url",
    "build_params",
    "convert_units",
    "fetch",
    "fetch_json",
    "get_json",
    "rate_limit_scope",
    "read_response",
    "request_weight",
    "spec",
    "year_chunks",
]
