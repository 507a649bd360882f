"""Open-Meteo Ensemble API: every member of an ensemble weather forecast for the Strait.

Thin network function (:func:`get_ensemble`, one request per model, one at a time, on
the retry loop of :func:`forecast.sources.openmeteo.fetch_json` over the shared
:mod:`forecast.sources.http` layer) and a pure parser (:func:`read_ensemble`,
JSON -> :class:`xarray.Dataset` with dims ``(site, time, member)``).

Response shape (recorded real responses in ``tests/fixtures/openmeteo/ensemble/``,
see its ``SOURCES.md``):

- ``hourly.<var>`` is the control run (member 0), ``hourly.<var>_memberNN`` the
  perturbed members (two digits, from 01); ``hourly_units`` carries the same keys.
- With several ``models=`` in one request every key also ends in ``_<model>``, after
  the member suffix (``temperature_2m_member01_icon_seamless_eps``); the API may
  answer under another name than asked (``icon_seamless`` -> ``icon_seamless_eps``).
- A variable the model lacks comes back with unit ``"undefined"`` and all nulls.
- Several locations: a JSON list of such objects, in request order.
- ``timeformat=unixtime`` times are UTC epoch seconds whatever ``timezone`` says;
  ``iso8601`` times are local to ``timezone`` (we always ask ``GMT``).

Names and units are the glossary's (``docs/glossary.md``), converted here once with
:func:`forecast.sources.openmeteo.convert_units`: wind [kn], direction [deg],
precipitation [mm], temperature [degC], pressure [hPa], visibility [m].

Licence: "Weather data by Open-Meteo.com" (CC BY 4.0); the free API is for
non-commercial use. The model providers (ECMWF, DWD, NOAA, ...) are named in
``docs/ensemble.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np
import pandas as pd
import requests
import xarray as xr

from forecast.errors import ConfigError, DataFormatError, SourceError
from forecast.sources import openmeteo as om
from forecast.sources.sites import Site

#: Public endpoint of the Ensemble API.
ENSEMBLE_URL = "https://ensemble-api.open-meteo.com/v1/ensemble"
#: Environment variable that overrides :data:`ENSEMBLE_URL` (tests, mirrors).
ENV_URL = "FORECAST_OPENMETEO_ENSEMBLE_URL"

#: Attribution every ensemble Dataset carries (Open-Meteo terms: CC BY 4.0).
ATTRIBUTION = "Weather data by Open-Meteo.com (CC BY 4.0)"

#: Models fetched by default: ECMWF IFS 0.25 deg ensemble (control + 50 members,
#: 15 days) and DWD ICON EPS seamless (ICON-EU-EPS over Europe). Names as the docs form
#: sends them in 2026 (``options.ts`` of open-meteo-website); older names such as
#: ``ecmwf_ifs025`` and ``icon_seamless`` are still accepted by the server.
DEFAULT_MODELS = ("ecmwf_ifs025_ensemble",)

#: Variables asked by default: what the crossing model's weather features use.
DEFAULT_VARIABLES = ("wind_speed_10m", "wind_gusts_10m", "wind_direction_10m", "precipitation")

#: Forecast days asked by default, and the largest accepted [days]. The server
#: accepts dates up to 36 days ahead (``EnsembleApiController``); ECMWF runs 15 days.
DEFAULT_FORECAST_DAYS = 15
MAX_FORECAST_DAYS = 35

#: Back-off and retry rules used when none is given (see ``openmeteo.RetryPolicy``).
DEFAULT_POLICY = om.RetryPolicy()

#: Unit string Open-Meteo returns for a variable the model does not provide.
UNDEFINED_UNIT = "undefined"

#: Query parameters fixing units and time zone (checked again in the response).
_UNIT_PARAMS = (
    ("wind_speed_unit", "kn"),
    ("temperature_unit", "celsius"),
    ("precipitation_unit", "mm"),
    ("timezone", "GMT"),
    ("timeformat", "iso8601"),
    ("cell_selection", "sea"),
)
#: Query parameters never written into attrs or messages.
_SECRET_PARAMS = ("apikey", "api_key", "key", "token")

_MEMBER_RE = re.compile(r"^member(\d+)$")
_MODEL_RE = re.compile(r"^[A-Za-z0-9_]+$")


# --------------------------------------------------------------------------- requests


def base_url(override: str | None = None) -> str:
    """Endpoint: ``override``, else ``$FORECAST_OPENMETEO_ENSEMBLE_URL``, else the public URL."""
    url = override or os.environ.get(ENV_URL) or ENSEMBLE_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"Open-Meteo ensemble URL {url!r} must start with http:// or https:// "
            f"(check --base-url or {ENV_URL})."
        )
    return url


def public_url(url: str, params: dict[str, str] | None = None) -> str:
    """``url`` with ``params`` as a query string, without credentials or API keys."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    query = [
        (k, v)
        for k, v in [*_query_pairs(parts.query), *(params or {}).items()]
        if k.lower() not in _SECRET_PARAMS
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe=",:"), ""))


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for item in query.split("&"):
        if item:
            key, _, value = item.partition("=")
            pairs.append((key, value))
    return pairs


def build_params(
    sites: Sequence[Site],
    model: str,
    variables: Sequence[str] = DEFAULT_VARIABLES,
    *,
    forecast_days: int | None = DEFAULT_FORECAST_DAYS,
    past_days: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[str, str]:
    """Query parameters of one ensemble request (one model, all sites). Pure.

    Parameters
    ----------
    sites : sequence of Site
        1 to :data:`forecast.sources.openmeteo.MAX_LOCATIONS` points.
    model : str
        One ``models=`` value, e.g. ``ecmwf_ifs025_ensemble``.
    variables : sequence of str
        Glossary names (keys of :data:`forecast.sources.openmeteo.CANONICAL_UNITS`).
    forecast_days, past_days : int, optional
        Days ahead [1 .. :data:`MAX_FORECAST_DAYS`] and days back; ignored when
        ``start``/``end`` are given.
    start, end : datetime.date, optional
        Inclusive UTC dates instead of ``forecast_days``.

    Raises
    ------
    ConfigError
        On no sites, too many sites, an unknown variable or model name, or a bad range.
    """
    if not sites:
        raise ConfigError("no sites to request; give --sites or check the site list.")
    if len(sites) > om.MAX_LOCATIONS:
        raise ConfigError(
            f"at most {om.MAX_LOCATIONS} locations per ensemble request (got {len(sites)})."
        )
    if not model or not _MODEL_RE.match(model):
        raise ConfigError(
            f"ensemble model {model!r} is not a model name (letters, digits, '_'), e.g. "
            "ecmwf_ifs025_ensemble."
        )
    unknown = [v for v in variables if v not in om.CANONICAL_UNITS]
    if unknown or not variables:
        raise ConfigError(
            f"ensemble variables {unknown or list(variables)} are not glossary weather "
            f"variables; choose from {sorted(om.CANONICAL_UNITS)}."
        )
    params = {
        "latitude": ",".join(f"{s.lat:.4f}" for s in sites),
        "longitude": ",".join(f"{s.lon:.4f}" for s in sites),
        "hourly": ",".join(variables),
        "models": model,
        **dict(_UNIT_PARAMS),
    }
    if start is not None or end is not None:
        if start is None or end is None:
            raise ConfigError("give both a start and an end date for an ensemble request.")
        if end < start:
            raise ConfigError(f"end date {end} is before start date {start}.")
        params["start_date"] = start.isoformat()
        params["end_date"] = end.isoformat()
        return params
    if forecast_days is not None:
        if not 1 <= int(forecast_days) <= MAX_FORECAST_DAYS:
            raise ConfigError(
                f"forecast_days={forecast_days} is out of range; the Ensemble API serves "
                f"1 to {MAX_FORECAST_DAYS} days ahead."
            )
        params["forecast_days"] = str(int(forecast_days))
    if past_days is not None:
        if int(past_days) < 0:
            raise ConfigError(f"past_days={past_days} must be 0 or more.")
        params["past_days"] = str(int(past_days))
    return params


def get_ensemble(
    sites: Sequence[Site],
    models: Sequence[str] = DEFAULT_MODELS,
    variables: Sequence[str] = DEFAULT_VARIABLES,
    *,
    forecast_days: int | None = DEFAULT_FORECAST_DAYS,
    past_days: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    base_url_override: str | None = None,
    session: requests.Session | None = None,
    policy: om.RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> dict[str, xr.Dataset]:
    """Fetch the ensemble of each model for ``sites``, one request at a time.

    Each model is its own request (so keys carry no model suffix and a failure names
    the model); requests are never parallel (Open-Meteo's free server queues one
    request per address). Back-off and rate limits as
    :func:`forecast.sources.openmeteo.fetch_json`: a minutely 429 waits and retries,
    an hourly/daily 429 stops with the time to retry, 5xx/time-outs/cut bodies are
    retried a bounded number of times.

    Returns
    -------
    dict of str to xarray.Dataset
        Model name as asked -> :func:`read_ensemble` result, with attrs
        ``retrieved_utc`` and ``source`` (the request URL without secrets).

    Raises
    ------
    ConfigError, SourceError, DataFormatError
        Bad arguments; a refused or failed request (with the server's ``reason``);
        a body that is not the documented shape.
    """
    url = base_url(base_url_override)
    if not models:
        raise ConfigError("no ensemble model given; e.g. --models ecmwf_ifs025_ensemble.")
    out: dict[str, xr.Dataset] = {}
    for model in models:
        params = build_params(
            sites,
            model,
            variables,
            forecast_days=forecast_days,
            past_days=past_days,
            start=start,
            end=end,
        )
        shown = public_url(url, params)
        body = om.fetch_json(url, params, policy=policy, session=session, sleep=sleep, now=now)
        out[model] = read_ensemble(
            body,
            sites,
            source=shown,
            model=model,
            variables=variables,
            retrieved_utc=now(),
        )
    return out


# --------------------------------------------------------------------------- parsing


def ensemble_models_in(payload: Any, variables: Sequence[str]) -> list[str]:
    """Model suffixes present in a (multi-model) ensemble body; ``[]`` when unsuffixed.

    A suffix counts as a model only if every one of ``variables`` carries it and none
    of them also comes unsuffixed (so ``precipitation_probability`` is not read as
    model ``probability`` of ``precipitation``).
    """
    objs = payload if isinstance(payload, list) else [payload]
    hourly = objs[0].get("hourly") if objs and isinstance(objs[0], dict) else None
    if not isinstance(hourly, dict):
        return []
    if any(_members_of(hourly, var, "") for var in variables):
        return []  # a multi-model body has no unsuffixed series
    per_var: list[set[str]] = []
    for var in variables:
        found = set()
        for key in hourly:
            if not key.startswith(var + "_"):
                continue
            rest = key[len(var) + 1 :]
            if _MEMBER_RE.match(rest):
                continue
            head, _, tail = rest.partition("_")
            if _MEMBER_RE.match(head) and tail:
                rest = tail
            found.add(rest)
        per_var.append(found)
    common = set.intersection(*per_var) if per_var else set()
    return sorted(common)


def _decode(payload: Any, where: str) -> Any:
    if isinstance(payload, bytes | bytearray):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataFormatError(f"{where}: body is not UTF-8 text ({exc}).") from exc
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except json.JSONDecodeError as exc:
            raise DataFormatError(
                f"{where}: body is not JSON ({exc}; starts {payload[:60]!r}). Was the "
                "download cut off, or is the URL not the Open-Meteo Ensemble API?"
            ) from exc
    return payload


def _times(raw: Any, unit: str, offset: Any, where: str) -> pd.DatetimeIndex:
    if not isinstance(raw, list) or not raw:
        raise DataFormatError(f"{where}: 'hourly.time' is missing or empty.")
    if unit == "unixtime":
        try:
            times = pd.to_datetime(np.asarray(raw, dtype="int64"), unit="s")
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"{where}: hourly.time is not unix seconds: {exc}") from exc
    elif unit == "iso8601":
        if offset not in (0, None):
            raise DataFormatError(
                f"{where}: times are local (utc_offset_seconds={offset}); ask "
                "timezone=GMT or timeformat=unixtime so that times are UTC."
            )
        try:
            times = pd.to_datetime(pd.Index(raw, dtype=object), format="%Y-%m-%dT%H:%M")
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"{where}: hourly.time is not 'yyyy-mm-ddThh:mm': {exc}") from exc
    else:
        raise DataFormatError(
            f"{where}: unknown time format {unit!r} in hourly_units.time "
            "(expected 'iso8601' or 'unixtime')."
        )
    times = pd.DatetimeIndex(times).as_unit("ns")
    if times.has_duplicates or not times.is_monotonic_increasing:
        raise DataFormatError(f"{where}: hourly.time is not strictly increasing.")
    if ((times - times.normalize()) % pd.Timedelta(hours=1) != pd.Timedelta(0)).any():
        raise DataFormatError(f"{where}: hourly.time is not on whole hours.")
    return times


def _series(raw: Any, n: int, key: str, where: str) -> np.ndarray:
    if not isinstance(raw, list) or len(raw) != n:
        got = len(raw) if isinstance(raw, list) else type(raw).__name__
        raise DataFormatError(f"{where}: hourly.{key} has {got} values but hourly.time has {n}.")
    try:
        return np.array([np.nan if v is None else v for v in raw], dtype="float64")
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{where}: hourly.{key} holds a non-number: {exc}") from exc


def _members_of(hourly: dict, var: str, suffix: str) -> dict[int, str]:
    """Member number -> key of ``var`` (0 = control, the unsuffixed key)."""
    out: dict[int, str] = {}
    if f"{var}{suffix}" in hourly:
        out[0] = f"{var}{suffix}"
    pattern = re.compile(rf"^{re.escape(var)}_member(\d+){re.escape(suffix)}$")
    for key in hourly:
        match = pattern.match(key)
        if match:
            out[int(match.group(1))] = key
    return out


def _read_location(
    obj: Any, variables: Sequence[str], suffix: str, model: str, where: str
) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray], list[int], dict[str, str], dict]:
    """One location: times, ``{var: (time, member)}``, members, notes, grid."""
    if not isinstance(obj, dict):
        raise DataFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}.")
    if obj.get("error"):
        raise SourceError(f"{where}: Open-Meteo returned an error: {obj.get('reason')}")
    hourly, units = obj.get("hourly"), obj.get("hourly_units")
    if not isinstance(hourly, dict):
        raise DataFormatError(
            f"{where}: no 'hourly' block in the response (keys: {sorted(obj)}); ask "
            "hourly=<variables>."
        )
    if not isinstance(units, dict):
        raise DataFormatError(
            f"{where}: no 'hourly_units' object in the response; cannot check units."
        )
    times = _times(
        hourly.get("time"), str(units.get("time", "iso8601")), obj.get("utc_offset_seconds"), where
    )
    data: dict[str, np.ndarray] = {}
    notes: dict[str, str] = {}
    member_sets: dict[str, list[int]] = {}
    for var in variables:
        keys = _members_of(hourly, var, suffix)
        if not keys:
            raise DataFormatError(
                f"{where}: requested variable {var!r}{' of model ' + model if suffix else ''} "
                f"is missing from 'hourly' (has {sorted(k for k in hourly if k != 'time')[:8]}"
                "...). Is it available for this model?"
            )
        members = sorted(keys)
        arrays = []
        unit_seen = set()
        for m in members:
            key = keys[m]
            if key not in units:
                raise DataFormatError(f"{where}: no unit for {key!r} in 'hourly_units'.")
            unit_seen.add(str(units[key]))
            arrays.append(_series(hourly[key], len(times), key, where))
        if len(unit_seen) != 1:
            raise DataFormatError(
                f"{where}: members of {var!r} come in different units {sorted(unit_seen)}."
            )
        unit = unit_seen.pop()
        stack = np.stack(arrays, axis=1)  # (time, member)
        if unit == UNDEFINED_UNIT:
            if not np.isnan(stack).all():
                raise DataFormatError(
                    f"{where}: {var!r} has unit 'undefined' but holds numbers; cannot "
                    "tell their unit."
                )
            notes[var] = (
                f"{var}: not provided by model {model!r} (unit 'undefined', all values null)"
            )
            continue
        member_sets[var] = members
        data[var] = om.convert_units(stack, var, unit, f"{where} hourly_units.{var}")
    if not data:
        raise DataFormatError(
            f"{where}: model {model!r} provides none of the requested variables "
            f"({'; '.join(notes.values())})."
        )
    first_var, first = next(iter(member_sets.items()))
    for var, members in member_sets.items():
        if members != first:
            raise DataFormatError(
                f"{where}: member counts differ between variables: {first_var!r} has "
                f"{len(first)} ({_span(first)}), {var!r} has {len(members)} ({_span(members)}). "
                "The response is incomplete; fetch it again."
            )
    try:
        grid = {
            "grid_lat": float(obj["latitude"]),
            "grid_lon": float(obj["longitude"]),
            "grid_elevation": np.nan if obj.get("elevation") is None else float(obj["elevation"]),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFormatError(
            f"{where}: latitude/longitude missing or not numbers ({exc})."
        ) from exc
    return times, data, first, notes, grid


def _span(members: list[int]) -> str:
    return f"members {members[0]}..{members[-1]}" if members else "no members"


def read_ensemble(
    payload: Any,
    sites: Sequence[Site] | None = None,
    *,
    source: str = "Open-Meteo Ensemble API response",
    model: str | None = None,
    variables: Sequence[str] | None = None,
    retrieved_utc: dt.datetime | str | None = None,
) -> xr.Dataset:
    """Parse an Ensemble API body into a ``(site, time, member)`` Dataset. Pure.

    Parameters
    ----------
    payload : dict, list of dict, str or bytes
        The decoded JSON (one object per location; a list for several) or its text.
    sites : sequence of Site, optional
        The points asked, in request order. Default: ``site_0``, ``site_1``, ... at the
        returned grid positions.
    source : str
        Where the body came from (URL without secrets, or file); named in errors and
        kept in ``attrs["source"]``.
    model : str, optional
        Model asked. Needed when the body holds several models (keys suffixed
        ``_<model>``); with a single-model body it only names the model.
    variables : sequence of str, optional
        Glossary variables to read (default: every glossary variable present).
    retrieved_utc : datetime or str, optional
        When the body was fetched (``attrs["retrieved_utc"]``).

    Returns
    -------
    xarray.Dataset
        Dims ``(site, time, member)``; ``time`` UTC (tz-naive), ``member`` 0 = control,
        1..N perturbed. Coords ``site_lat``, ``site_lon`` (asked), ``grid_lat``,
        ``grid_lon``, ``grid_elevation`` (returned). Variables in glossary units
        (``attrs["units"]``), nulls as NaN. Attrs ``model``, ``n_members``,
        ``retrieved_utc``, ``source``, ``attribution``, ``missing_variables`` and
        ``notes`` (variables the model does not provide).

    Raises
    ------
    SourceError
        If the body is Open-Meteo's ``{"error": true, "reason": ...}``.
    DataFormatError
        No hourly block, unknown unit, member counts that differ between variables,
        lengths that differ, non-UTC times, several models without ``model=``, or a
        body that is not JSON.
    """
    body = _decode(payload, source)
    if isinstance(body, dict) and body.get("error"):
        raise SourceError(
            f"Open-Meteo Ensemble API refused the request ({source}): {body.get('reason')}"
        )
    objs = body if isinstance(body, list) else [body]
    if not objs or not all(isinstance(o, dict) for o in objs):
        raise DataFormatError(f"{source}: expected a JSON object or a list of objects.")
    if sites is not None and len(sites) != len(objs):
        raise DataFormatError(f"{source}: {len(sites)} location(s) asked but {len(objs)} returned.")
    if variables is None:
        first = objs[0].get("hourly")
        if not isinstance(first, dict):
            raise DataFormatError(f"{source}: no 'hourly' block in the response.")
        variables = [
            v
            for v in om.CANONICAL_UNITS
            if _members_of(first, v, "") or ensemble_models_in(body, [v])
        ]
        if not variables:
            raise DataFormatError(
                f"{source}: no glossary weather variable in 'hourly' "
                f"(known: {sorted(om.CANONICAL_UNITS)})."
            )
    found = ensemble_models_in(body, variables)
    suffix = ""
    name = model or "unknown"
    if found:
        if model in found:
            suffix = f"_{model}"
        elif model is None and len(found) == 1:
            suffix, name = f"_{found[0]}", found[0]
        else:
            raise DataFormatError(
                f"{source}: the response holds models {found}; "
                + (f"{model!r} is not among them." if model else "say which with model=.")
            )
    parsed = [
        _read_location(
            o, variables, suffix, name, f"{source} location {i}" if len(objs) > 1 else source
        )
        for i, o in enumerate(objs)
    ]
    times, _, members, notes, _ = parsed[0]
    for i, (t, data, m, n, _) in enumerate(parsed[1:], start=1):
        if not t.equals(times) or m != members or set(data) != set(parsed[0][1]):
            raise DataFormatError(
                f"{source}: location {i} has other times, members or variables than location 0."
            )
        notes = {**notes, **n}
    present = list(parsed[0][1])
    site_ids = (
        [s.id for s in sites] if sites is not None else [f"site_{i}" for i in range(len(objs))]
    )
    grids = [p[4] for p in parsed]
    coords = {
        "site": ("site", np.array(site_ids, dtype=object)),
        "time": ("time", times.values),
        "member": ("member", np.array(members, dtype="int64")),
        "site_lat": ("site", [s.lat for s in sites] if sites else [g["grid_lat"] for g in grids]),
        "site_lon": ("site", [s.lon for s in sites] if sites else [g["grid_lon"] for g in grids]),
        "grid_lat": ("site", [g["grid_lat"] for g in grids]),
        "grid_lon": ("site", [g["grid_lon"] for g in grids]),
        "grid_elevation": ("site", [g["grid_elevation"] for g in grids]),
    }
    ds = xr.Dataset(
        {
            v: (
                ("site", "time", "member"),
                np.stack([p[1][v] for p in parsed], axis=0),
                {"units": om.CANONICAL_UNITS[v]},
            )
            for v in present
        },
        coords=coords,
    )
    ds["member"].attrs["long_name"] = "ensemble member (0 = control run)"
    ds["grid_lat"].attrs["long_name"] = "latitude of the grid cell the source returned"
    ds["grid_lon"].attrs["long_name"] = "longitude of the grid cell the source returned"
    ds["grid_elevation"].attrs["units"] = "m"
    if isinstance(retrieved_utc, dt.datetime):
        retrieved_utc = retrieved_utc.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ds.attrs.update(
        {
            "kind": "ensemble",
            "model": name,
            "n_members": len(members),
            "retrieved_utc": retrieved_utc or "",
            "source": source,
            "attribution": ATTRIBUTION,
            "missing_variables": ",".join(v for v in variables if v in notes),
            "notes": "; ".join(notes[v] for v in variables if v in notes),
        }
    )
    return ds


__all__ = [
    "ATTRIBUTION",
    "DEFAULT_FORECAST_DAYS",
    "DEFAULT_POLICY",
    "DEFAULT_MODELS",
    "DEFAULT_VARIABLES",
    "ENSEMBLE_URL",
    "ENV_URL",
    "MAX_FORECAST_DAYS",
    "base_url",
    "build_params",
    "ensemble_models_in",
    "get_ensemble",
    "public_url",
    "read_ensemble",
]
