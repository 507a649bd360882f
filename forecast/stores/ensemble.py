"""Ensemble weather cache: the latest Open-Meteo ensemble run of each model, on disk.

Layout under ``config.cache_dir()/ensemble/``::

    <model>.nc     the newest fetch of that model, all sites, dims (site, time, member)

:func:`update_ensemble` fetches each model (one request at a time, through
:func:`forecast.sources.ensemble.get_ensemble`) and replaces that model's file only
after the new run has been written to a unique temporary file in the same folder,
flushed to disk (``fsync``), read back and checked; the swap is ``os.replace`` (atomic
on one file system). A fetch that fails, or a write that fails, leaves the previous
file as it was.

:func:`load_ensemble_latest` never touches the network and checks what it reads
(dims, member axis, units, time axis), so a garbled file is a clear
:class:`~forecast.errors.DataFormatError`, not a wrong forecast.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import requests
import xarray as xr

from forecast import config, fileio
from forecast.errors import ConfigError, DataFormatError, SourceError
from forecast.sources import ensemble as ens
from forecast.sources import openmeteo as om
from forecast.sources.sites import Site, default_sites

#: Dimensions of every cached ensemble Dataset, in this order.
DIMS = ("site", "time", "member")


def ensemble_dir() -> Path:
    """Folder of the cache: ``config.cache_dir()/ensemble``."""
    return config.cache_dir() / "ensemble"


def model_path(model: str) -> Path:
    """Cache file of one model's latest run."""
    if not model or "/" in model or model.startswith("."):
        raise ConfigError(f"ensemble model name {model!r} cannot name a cache file.")
    return ensemble_dir() / f"{model}.nc"


def validate(ds: xr.Dataset, where: str) -> None:
    """Check the layout a cached ensemble must have.

    Raises
    ------
    DataFormatError
        Wrong or missing dims, no member 0..N axis, a variable without its glossary
        unit, a time axis that is not strictly increasing, no data variable, or no
        ``model`` attribute. The message names ``where`` and says how to recover.
    """
    fix = "Delete it and run 'update_ensemble' (forecast ensemble update) again."
    if tuple(d for d in DIMS if d in ds.dims) != DIMS or set(ds.dims) != set(DIMS):
        raise DataFormatError(
            f"{where}: expected dims {DIMS}, got {tuple(ds.dims)}. Not an ensemble cache file? {fix}"
        )
    if not ds.data_vars:
        raise DataFormatError(f"{where}: holds no weather variable. {fix}")
    members = np.asarray(ds["member"].values)
    if members.dtype.kind not in "iu" or (np.diff(members) <= 0).any() or members.min() < 0:
        raise DataFormatError(f"{where}: member axis {members.tolist()} is not 0..N. {fix}")
    times = pd.DatetimeIndex(ds["time"].values)
    if times.has_duplicates or not times.is_monotonic_increasing:
        raise DataFormatError(f"{where}: time axis is not strictly increasing. {fix}")
    for name, var in ds.data_vars.items():
        want = om.CANONICAL_UNITS.get(str(name))
        if want is None:
            raise DataFormatError(f"{where}: unknown variable {name!r}. {fix}")
        if var.dims != DIMS:
            raise DataFormatError(f"{where}: {name} has dims {var.dims}, expected {DIMS}. {fix}")
        if var.attrs.get("units") != want:
            raise DataFormatError(
                f"{where}: {name} has units {var.attrs.get('units')!r}, expected {want!r}. {fix}"
            )
    if not ds.attrs.get("model"):
        raise DataFormatError(f"{where}: no 'model' attribute. {fix}")


def write_atomic(ds: xr.Dataset, path: Path) -> None:
    """Write ``ds`` to ``path``: unique temp file in the same folder, fsync, check, replace.

    The old file is replaced only when the new one reads back with the same sizes
    and passes :func:`validate`; on any failure it is left untouched and the temp
    file is removed.
    """
    validate(ds, str(path))

    def write_checked(tmp: Path) -> None:
        ds.to_netcdf(tmp, engine="h5netcdf")
        back = read_file(tmp)
        if dict(back.sizes) != dict(ds.sizes) or set(back.data_vars) != set(ds.data_vars):
            raise DataFormatError(f"{tmp}: the file read back differs from what was written.")

    fileio.write_with(path, write_checked, "ensemble cache file")


def read_file(path: str | Path) -> xr.Dataset:
    """Read and check one cached ensemble file (fully loaded, file closed).

    Raises
    ------
    DataFormatError
        If the file is not readable NetCDF or fails :func:`validate`.
    """
    path = Path(path)
    try:
        with xr.open_dataset(path, engine="h5netcdf") as raw:
            ds = raw.load()
    except (OSError, ValueError) as exc:
        raise DataFormatError(
            f"cannot read cached ensemble file {path}: {exc}. Delete it and run "
            "'update_ensemble' (forecast ensemble update) again."
        ) from exc
    validate(ds, str(path))
    ds["site"] = ds["site"].astype(object)
    return ds


def update_ensemble(
    sites: Sequence[Site] | None = None,
    models: Sequence[str] = ens.DEFAULT_MODELS,
    variables: Sequence[str] = ens.DEFAULT_VARIABLES,
    *,
    forecast_days: int = ens.DEFAULT_FORECAST_DAYS,
    past_days: int | None = None,
    url: str | None = None,
    session: requests.Session | None = None,
    policy: om.RetryPolicy = ens.DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> dict[str, Path]:
    """Fetch the latest ensemble of each model and cache it (one file per model).

    Models are fetched one after the other; the first failure stops the update and
    propagates, leaving that model's previous file (and every model not reached yet)
    as it was. Models already written in this call keep their new file.

    Parameters
    ----------
    sites : sequence of Site, optional
        Default: :func:`forecast.sources.sites.default_sites`.
    models, variables, forecast_days, past_days
        As :func:`forecast.sources.ensemble.get_ensemble`.
    url : str, optional
        Endpoint override (else ``$FORECAST_OPENMETEO_ENSEMBLE_URL``, else public).
    session, policy, sleep, now
        HTTP session, retry policy, waiting function and clock (tests pass stubs).

    Returns
    -------
    dict of str to Path
        Model -> file written.
    """
    sites = list(sites) if sites is not None else default_sites()
    written: dict[str, Path] = {}
    for model in models:
        path = model_path(model)
        got = ens.get_ensemble(
            sites,
            [model],
            variables,
            forecast_days=forecast_days,
            past_days=past_days,
            base_url_override=url,
            session=session,
            policy=policy,
            sleep=sleep,
            now=now,
        )
        write_atomic(got[model], path)
        written[model] = path
    return written


def cached_models() -> list[str]:
    """Models with a cached run, sorted by name."""
    folder = ensemble_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.nc") if not p.name.startswith("."))


def load_ensemble_latest(model: str | None = None) -> xr.Dataset:
    """The cached latest ensemble run of ``model`` (never touches the network).

    Parameters
    ----------
    model : str, optional
        Model name as fetched (e.g. ``ecmwf_ifs025_ensemble``). Default: the most
        recently retrieved of the cached models.

    Returns
    -------
    xarray.Dataset
        As :func:`forecast.sources.ensemble.read_ensemble`: dims ``(site, time,
        member)``, time UTC, member 0 = control, glossary variables and units, attrs
        ``model``, ``n_members``, ``retrieved_utc``, ``source``, ``attribution``,
        ``missing_variables``, ``notes``.

    Raises
    ------
    SourceError
        If nothing (or not that model) is cached: run the update first.
    DataFormatError
        If the cached file is garbled.
    """
    available = cached_models()
    if model is None:
        if not available:
            raise SourceError(
                f"no ensemble forecast cached in {ensemble_dir()}; fetch one first "
                "(forecast.stores.ensemble.update_ensemble, or 'forecast ensemble update')."
            )
        runs = [read_file(model_path(m)) for m in available]
        return max(runs, key=lambda ds: str(ds.attrs.get("retrieved_utc", "")))
    path = model_path(model)
    if not path.exists():
        raise SourceError(
            f"no cached ensemble run of model {model!r} in {ensemble_dir()} "
            f"(cached: {available or 'none'}); fetch it first with update_ensemble."
        )
    return read_file(path)


__all__ = [
    "DIMS",
    "cached_models",
    "ensemble_dir",
    "load_ensemble_latest",
    "model_path",
    "read_file",
    "update_ensemble",
    "validate",
    "write_atomic",
]
