"""Open-Meteo marine weather: archive (ERA5), marine (waves), forecast, historical forecast.

Thin network functions (:func:`get_json`, :func:`fetch_json`, on the shared plumbing
of :mod:`forecast.sources.http`) and a pure parser
(:func:`read_response`, JSON -> :class:`xarray.Dataset`) so that parsing is tested
without a server. Names and units are normalised here, once: wind [kn], wave height
[m], period [s], directions [deg, direction *from*], precipitation [mm],
temperature [degC], pressure [hPa], visibility [m]. Every request asks for UTC
(``timezone=GMT``), knots, Celsius, millimetres and metres, and the returned
``hourly_units`` are checked: another known unit is converted, an unknown one is an
error, and ``"undefined"`` (a variable the model does not provide: all nulls) is kept
as missing data and named in the Dataset's ``missing_variables`` and ``notes``.

Quirks of the real service handled here (recorded responses replayed in
``tests/test_openmeteo.py``): several ``models=`` make the server suffix every key with
the model name, so one model per request is enforced; miles per hour is ``mp/h`` on
the wire; a 200 whose body ends in "Unexpected error while streaming data" is a
transient failure (retried); a point outside a model's area answers
``{"latitude":nan,...}`` (not JSON); the server never sends ``Retry-After``, so
:class:`CallBudget` paces requests under the free per-minute limit instead of waiting
for HTTP 429, counting failed requests too.

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
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

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
    "mp/h": 1609.344 / 1852.0,  # what the server writes for wind_speed_unit=mph
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

#: Unit the server gives a variable the chosen model does not provide (values all null).
UNDEFINED_UNIT = "undefined"

#: Free-tier limits [calls] (https://open-meteo.com/en/terms): per minute, hour, day.
FREE_LIMITS = {"minutely": 600.0, "hourly": 5000.0, "daily": 10000.0}
#: Calls this tool allows itself per window: a margin under :data:`FREE_LIMITS`.
PACE_LIMITS = {"minutely": 500.0, "hourly": 4500.0, "daily": 9000.0}
_WINDOWS_S = {"minutely": 60.0, "hourly": 3600.0, "daily": 86400.0}

#: Caps on one Open-Meteo body: on the wire and decompressed [bytes]. A year of 10
#: hourly variables at 50 locations is about 40 MiB of JSON.
MAX_BYTES = 128 * 2**20
MAX_DECODED_BYTES = 256 * 2**20

#: What the server writes into a 200 body when it fails after starting to answer.
STREAMING_ERROR = b"Unexpected error while streaming data"
_NAN_POSITION = re.compile(rb'"(?:latitude|longitude)"\s*:\s*nan\b')


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
        ``models=`` value (default: the kind's default model). One model only: with
        several, the server renames every variable (``wave_height_ecmwf_wam025``, ...).
    past_days, forecast_days : int, optional
        Forecast kinds only.
    """
    s = spec(kind)
    if model is not None and ("," in model or not model.strip()):
        raise ConfigError(
            f"--model {model!r}: give exactly one model per request. With several "
            "(comma-separated) Open-Meteo suffixes every variable with the model name "
            "(e.g. wave_height_ecmwf_wam025), which this tool does not read; run the "
            "update once per model instead."
        )
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


class BudgetSpentError(SourceError):
    """This run spent its hourly/daily allowance (:class:`CallBudget`): stopped, not retried.

    ``scope`` is ``hourly`` or ``daily``; ``resume_utc`` when the allowance frees up.
    """

    def __init__(self, message: str, scope: str, resume_utc: dt.datetime) -> None:
        super().__init__(message)
        self.scope = scope
        self.resume_utc = resume_utc


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
    deadline_s: float | None = None,
    max_bytes: int = MAX_BYTES,
    max_decoded_bytes: int = MAX_DECODED_BYTES,
) -> Any:
    """One GET; returns the decoded JSON body (a dict, or a list for several locations).

    The request is bounded by :func:`forecast.sources.http.request`: ``timeout`` per
    socket operation, ``deadline_s`` for the whole answer, ``max_bytes`` /
    ``max_decoded_bytes`` for the body, redirects only within the endpoint's host.

    Raises
    ------
    RateLimitError
        On HTTP 429 (with the server's reason and any ``Retry-After``).
    TransientError
        On 5xx, time-out, connection failure, a truncated body, or a 200 body that ends
        in the server's "Unexpected error while streaming data".
    SourceError
        On any other HTTP error (e.g. 400, with the server's ``reason``), an
        ``{"error": true}`` body, a host that does not resolve, a body over its cap or
        a redirect elsewhere.
    DataFormatError
        If a 200 body is not JSON (the ``{"latitude":nan,...}`` answer for a point
        outside the model's area has its own message).
    """
    where = f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
    try:
        response = http.get(
            url,
            params=params,
            timeout=timeout,
            session=session,
            deadline_s=deadline_s,
            max_bytes=max_bytes,
            max_decoded_bytes=max_decoded_bytes,
            allowed_hosts=[urlsplit(url).hostname or ""],
        )
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
    tail = content[-300:]
    if STREAMING_ERROR in tail:
        said = tail[tail.index(STREAMING_ERROR) :].decode("utf-8", "replace").strip()[:120]
        fault = (
            f"HTTP {status} but the server stopped mid-answer ({said!r}); Open-Meteo was "
            "overloaded or timed out"
        )
        raise TransientError(
            f"GET {where} failed: {fault}", fault=fault, status=status, server_text=said
        )
    try:
        body = response.json() if content else None
    except ValueError as exc:
        if _NAN_POSITION.search(content[:200]):
            raise DataFormatError(
                f"Open-Meteo answered {where} with latitude/longitude 'nan' and no data "
                f"({content[:60]!r}...): the point is outside the area this endpoint and "
                "model cover, or not a valid position. Check the sites' latitude and "
                "longitude and the model."
            ) from exc
        raise DataFormatError(
            f"Open-Meteo answered HTTP {status} with a body that is not JSON ({where}): "
            f"{content[:80]!r}. Is the base URL an Open-Meteo endpoint?"
        ) from exc
    if body is None:
        raise DataFormatError(f"Open-Meteo answered HTTP {status} with an empty body ({where}).")
    if isinstance(body, dict) and body.get("error"):
        raise SourceError(f"Open-Meteo returned an error at {where}: {body.get('reason')}")
    return body


def params_weight(params: dict[str, str]) -> float:
    """Open-Meteo's call count of a request given by its query parameters. Pure.

    Variables are counted over ``hourly``, ``daily`` and ``current`` (times the number
    of ``models``); days from ``start_date``..``end_date``, else ``past_days`` +
    ``forecast_days`` (server default 7); locations from ``latitude``. See
    :func:`request_weight`.
    """

    def count(key: str) -> int:
        return len([x for x in str(params.get(key, "")).split(",") if x.strip()])

    n_vars = (count("hourly") + count("daily") + count("current")) * max(count("models"), 1)
    try:
        start = dt.date.fromisoformat(str(params["start_date"]))
        end = dt.date.fromisoformat(str(params["end_date"]))
        days = (end - start).days + 1
    except (KeyError, ValueError):
        days = int(params.get("past_days", 0) or 0) + int(params.get("forecast_days", 7) or 0)
    return request_weight(n_vars, max(days, 1), max(count("latitude"), 1))


@dataclass
class CallBudget:
    """Paces requests under Open-Meteo's free limits; counts every request, failed too.

    The server never sends ``Retry-After``, so instead of waiting for HTTP 429 the
    client keeps its own account of the calls (:func:`params_weight`) it spent in the
    last minute, hour and day, and waits before a request that would go over
    :data:`PACE_LIMITS`. Share one budget across all the requests of an update (one
    :class:`RetryPolicy` per run does that).

    Attributes
    ----------
    limits : dict
        Calls allowed per window (``minutely``, ``hourly``, ``daily``).
    clock : callable
        Monotonic clock [s]. Time also advances by every wait the budget asked for, so
        a test's recording ``sleep`` works.
    requests, calls : int, float
        Requests sent and their weighted calls.
    failed_requests, failed_calls : int, float
        Those of them that failed (they count against the limits all the same).
    waited_s : float
        Total pacing wait [s].
    """

    limits: dict[str, float] = field(default_factory=lambda: dict(PACE_LIMITS))
    clock: Callable[[], float] = time.monotonic
    requests: int = 0
    calls: float = 0.0
    failed_requests: int = 0
    failed_calls: float = 0.0
    waited_s: float = 0.0
    _log: list[tuple[float, float]] = field(default_factory=list, repr=False)
    _now: float = field(default=-math.inf, repr=False)

    def now(self) -> float:
        """The budget's time [s]: the clock, never behind the waits already asked for."""
        self._now = max(self._now, self.clock())
        return self._now

    def wait_s(self, weight: float) -> dict[str, float]:
        """Wait [s] per window before ``weight`` calls fit (0 when they fit now)."""
        t = self.now()
        self._log = [(u, w) for u, w in self._log if u > t - max(_WINDOWS_S.values())]
        out = {}
        for scope, limit in self.limits.items():
            span = _WINDOWS_S[scope]
            recent = [(u, w) for u, w in self._log if u > t - span]
            used = sum(w for _, w in recent)
            wait = 0.0
            for u, w in recent:  # oldest first: wait until enough of them leave the window
                if used + weight <= limit:
                    break
                used -= w
                wait = u + span - t
            out[scope] = max(wait, 0.0)
        return out

    def waited(self, seconds: float) -> None:
        """Record a wait of ``seconds`` (advances the budget's time)."""
        self._now = self.now() + seconds
        self.waited_s += seconds

    def spend(self, weight: float) -> None:
        """Record a request of ``weight`` calls sent now."""
        self._log.append((self.now(), weight))
        self.requests += 1
        self.calls += weight

    def failed(self, weight: float) -> None:
        """Record that the last request (``weight`` calls) failed."""
        self.failed_requests += 1
        self.failed_calls += weight


@dataclass(frozen=True)
class RetryPolicy:
    """How :func:`fetch_json` paces, bounds, waits and retries. One request at a time.

    One policy is meant for one update run: its :attr:`budget` paces all the requests
    made with it.

    Attributes
    ----------
    timeout_s : float
        Time-out of each socket operation (connect, wait for the next bytes) [s].
    request_deadline_s : float
        Deadline of one whole request, headers and body [s].
    deadline_s : float
        Deadline of one :func:`fetch_json` with all its retries and waits [s].
    max_bytes, max_decoded_bytes : int
        Caps on a body on the wire and decompressed [bytes].
    budget : CallBudget
        Pacing under the free limits, shared by every request made with this policy.
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
    request_deadline_s: float = http.DEFAULT_REQUEST_DEADLINE_S
    deadline_s: float = 900.0
    max_bytes: int = MAX_BYTES
    max_decoded_bytes: int = MAX_DECODED_BYTES
    budget: CallBudget = field(default_factory=CallBudget, compare=False)


def fetch_json(
    url: str,
    params: dict[str, str],
    *,
    policy: RetryPolicy | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Any:
    """:func:`get_json` paced and with bounded back-off (loop in
    :func:`forecast.sources.http.retrying`).

    Before each attempt ``policy.budget`` waits until the request's calls
    (:func:`params_weight`) fit under the per-minute pace; when the hourly or daily
    pace is spent and the wait would exceed ``policy.max_wait_s`` it stops with a
    :class:`RateLimitError` saying when to run again. Every attempt, failed or not, is
    counted in the budget.

    A "minutely" or "concurrent" 429 waits (``Retry-After`` if sent, else
    ``policy.minutely_wait_s``) and retries up to ``policy.max_rate_retries`` times.
    An "hourly" or "daily" 429 stops at once with a message saying when to retry.
    5xx, time-outs, truncated bodies and interrupted streams are retried
    ``policy.max_transient_retries`` times with doubling waits. Everything ends within
    ``policy.deadline_s``. A host that does not resolve is not retried.
    """
    policy = policy or RetryPolicy()
    budget = policy.budget
    weight = params_weight(params)
    tries = {"rate": 0, "transient": 0}
    deadline = http.Deadline(policy.deadline_s)

    def attempt() -> Any:
        waits = budget.wait_s(weight)
        for scope in ("hourly", "daily"):
            if waits[scope] > policy.max_wait_s:
                raise _pace_exhausted(scope, budget, url, now(), waits[scope])
        pause = max(waits.values())
        if pause > 0:
            sleep(pause)
            budget.waited(pause)
        budget.spend(weight)
        try:
            return get_json(
                url,
                params,
                timeout=policy.timeout_s,
                session=session,
                deadline_s=policy.request_deadline_s,
                max_bytes=policy.max_bytes,
                max_decoded_bytes=policy.max_decoded_bytes,
            )
        except SourceError:
            budget.failed(weight)
            raise

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

    return http.retrying(attempt, wait=wait, sleep=sleep, deadline=deadline)


def _pace_exhausted(
    scope: str, budget: CallBudget, url: str, t: dt.datetime, wait_s: float
) -> BudgetSpentError:
    """The error when this run has spent its hourly/daily pace: stop before the server's limit."""
    when = (t + dt.timedelta(seconds=wait_s)).astimezone(dt.UTC)
    return BudgetSpentError(
        f"Stopped before Open-Meteo's {scope} limit at {url}: this run has spent its "
        f"{scope} allowance ({budget.limits[scope]:g} calls, under the free limit of "
        f"{FREE_LIMITS[scope]:g}); {budget.requests} requests sent "
        f"({budget.failed_requests} failed). Everything fetched so far is kept in the "
        f"cache. Run the same update again after {when:%Y-%m-%d %H:%M} UTC to continue.",
        scope,
        when,
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


def _parse_times(raw: list, time_unit: str, where: str, offset_s: int = 0) -> pd.DatetimeIndex:
    """UTC hours of ``hourly.time``; iso8601 local times are shifted back by ``offset_s``."""
    if time_unit == "unixtime":  # always UTC, whatever the time zone asked
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
    if time_unit == "iso8601" and offset_s:
        times = times - pd.Timedelta(seconds=offset_s)
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
) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray], dict[str, float], list[str], list[str]]:
    """Times [UTC], values, grid cell, variables not provided, and notes of one location."""
    if not isinstance(obj, dict):
        raise DataFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}.")
    if obj.get("error"):
        raise SourceError(f"{where}: Open-Meteo returned an error: {obj.get('reason')}")
    for key in ("latitude", "longitude", "hourly", "hourly_units"):
        if key not in obj:
            raise DataFormatError(f"{where}: key {key!r} missing from the response.")
    notes: list[str] = []
    offset = obj.get("utc_offset_seconds") or 0
    if not isinstance(offset, int | float) or offset != int(offset) or int(offset) % 3600:
        raise DataFormatError(
            f"{where}: utc_offset_seconds is {offset!r} (timezone {obj.get('timezone')!r}), "
            "not a whole number of hours, so the times cannot be put on whole UTC hours. "
            "Request timezone=GMT."
        )
    offset = int(offset)
    hourly, units = obj["hourly"], obj["hourly_units"]
    if not isinstance(hourly, dict) or "time" not in hourly:
        raise DataFormatError(f"{where}: key 'hourly.time' missing from the response.")
    if not isinstance(units, dict):
        raise DataFormatError(
            f"{where}: 'hourly_units' is a {type(units).__name__}, expected an object "
            "mapping each variable to its unit."
        )
    time_unit = str(units.get("time", "iso8601"))
    times = _parse_times(hourly["time"], time_unit, where, offset)
    if offset and time_unit == "iso8601":
        # Open-Meteo applies one offset (the zone's current one) to the whole series,
        # with no DST change inside it (open-meteo/open-meteo#261, #1255).
        notes.append(
            f"times were local ({obj.get('timezone')}, UTC{offset / 3600:+g} h for the whole "
            "response) and are converted to UTC"
        )
    undefined = sorted(k for k, u in units.items() if u == UNDEFINED_UNIT and k != "time")
    missing: list[str] = []
    data: dict[str, np.ndarray] = {}
    for var in variables:
        if var not in hourly:
            per_model = sorted(k for k in hourly if k.startswith(f"{var}_"))
            if per_model:
                raise DataFormatError(
                    f"{where}: 'hourly' holds {var!r} once per model ({', '.join(per_model)}): "
                    "the request asked for several models (models=a,b). Ask one model per "
                    "request (--model NAME, no commas)."
                )
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
        if units[var] == UNDEFINED_UNIT:
            if not np.isnan(values).all():
                raise DataFormatError(
                    f"{where}: hourly_units.{var} is {UNDEFINED_UNIT!r} but hourly.{var} holds "
                    "numbers; their unit is unknown. Request the variable from another model."
                )
            missing.append(var)  # the model does not provide it: missing data, not a unit
            data[var] = values
            continue
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
    if undefined:
        notes.append(
            f"not provided by the model (unit {UNDEFINED_UNIT!r}, all values null): "
            f"{', '.join(undefined)}"
        )
    return times, data, grid, missing, notes


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

        When a requested variable came back with unit ``"undefined"`` and only nulls
        (the model does not provide it), it is all NaN and named in the attrs
        ``missing_variables`` (comma-separated) and ``notes``; local times (a
        ``timezone`` other than GMT, one fixed ``utc_offset_seconds``) are converted to
        UTC and said so in ``notes``.

    Raises
    ------
    DataFormatError
        Wrong shape, missing requested key (or one copy per model: several models
        asked), length mismatch, an offset that is not whole hours, or an unknown unit.
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
            first = first if isinstance(first, dict) else {}
            variables = [v for v in CANONICAL_UNITS if v in first]
            if not variables:
                per_model = sorted(
                    k for k in first if any(k.startswith(f"{v}_") for v in CANONICAL_UNITS)
                )
                hint = (
                    f" It holds one copy per model ({', '.join(per_model)}): the request "
                    "asked for several models; ask one model per request."
                    if per_model
                    else ""
                )
                raise DataFormatError(
                    f"{where}: no known weather variable in 'hourly' "
                    f"(known: {list(CANONICAL_UNITS)}).{hint}"
                )
    parsed = [
        _read_location(o, variables, f"{where} location {i}" if len(objs) > 1 else where)
        for i, o in enumerate(objs)
    ]
    axis = parsed[0][0]
    for times, *_ in parsed[1:]:
        axis = axis.union(times)
    site_ids = (
        [x.id for x in sites] if sites is not None else [f"site_{i}" for i in range(len(objs))]
    )
    n_t, n_s = len(axis), len(objs)
    arrays = {v: np.full((n_t, n_s), np.nan) for v in variables}
    for j, (times, data, *_) in enumerate(parsed):
        pos = axis.get_indexer(times)
        for v in variables:
            arrays[v][pos, j] = data[v]
    grids = [g for _, _, g, _, _ in parsed]
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
    missing: dict[str, list[str]] = {}
    notes: list[str] = []
    for j, (*_, lacking, said) in enumerate(parsed):
        for var in lacking:
            missing.setdefault(var, []).append(str(site_ids[j]))
        notes += [n for n in said if n not in notes]
    if missing:
        ds.attrs["missing_variables"] = ", ".join(sorted(missing))
        notes = [
            f"{var}: not provided by model {ds.attrs['model']!r} at {', '.join(where_)} "
            f"(unit {UNDEFINED_UNIT!r}, all values null); kept as missing (NaN)"
            for var, where_ in sorted(missing.items())
        ] + [n for n in notes if not n.startswith("not provided by the model")]
    if notes:
        ds.attrs["notes"] = "; ".join(notes)
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
    policy: RetryPolicy | None = None,
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
    "BudgetSpentError",
    "CallBudget",
    "FREE_LIMITS",
    "PACE_LIMITS",
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
    "params_weight",
    "rate_limit_scope",
    "read_response",
    "request_weight",
    "spec",
    "year_chunks",
]
