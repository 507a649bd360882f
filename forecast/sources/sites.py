"""Offshore query points for gridded marine weather (departure coast and mid-Strait).

The default list is the ``api_query_point`` rows of the committed
``data/snapshot/reference_points.csv``: points a few km offshore, chosen so that
sea-masked model grids (waves) return data. The list is configurable:

- ``FORECAST_SITES_FILE``: another CSV with the same columns
  (``point_id, name, lat, lon, kind``);
- ``--sites`` on the command line: site ids from that file, or ad-hoc points written
  ``id:lat:lon`` (decimal degrees, WGS84).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast import config
from forecast.errors import ConfigError, DataFormatError

#: File name of the committed reference points under ``config.snapshot_dir()``.
REFERENCE_POINTS = "reference_points.csv"

#: Row ``kind`` used for the default site list.
DEFAULT_KIND = "api_query_point"

_ID_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Site:
    """One query point.

    Attributes
    ----------
    id : str
        Short identifier (letters, digits, ``_.-``), used as the ``site`` coordinate.
    lat, lon : float
        Position asked of the source [deg north, deg east], WGS84.
    name : str
        Human-readable name.
    """

    id: str
    lat: float
    lon: float
    name: str = ""


def sites_file() -> Path:
    """The CSV the site list is read from (``FORECAST_SITES_FILE`` or the snapshot)."""
    env = os.environ.get("FORECAST_SITES_FILE")
    return Path(env) if env else config.snapshot_dir() / REFERENCE_POINTS


def read_sites(path: str | Path, kinds: tuple[str, ...] | None = (DEFAULT_KIND,)) -> list[Site]:
    """Read query points from a reference-points CSV.

    Parameters
    ----------
    path : str or Path
        CSV with columns ``point_id, name, lat, lon`` and (when ``kinds`` is given) ``kind``.
    kinds : tuple of str or None
        Keep only rows of these kinds; ``None`` keeps every row.

    Returns
    -------
    list of Site
        In file order.

    Raises
    ------
    DataFormatError
        If the file cannot be read, a column is missing, a position is out of range,
        or an id repeats.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(f"cannot read site list {path}: {exc}") from exc
    needed = ["point_id", "name", "lat", "lon"] + (["kind"] if kinds is not None else [])
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise DataFormatError(
            f"site list {path} lacks column(s) {missing} (has {list(raw.columns)}); "
            f"expected at least {needed}."
        )
    if kinds is not None:
        raw = raw[raw["kind"].isin(kinds)]
    sites: list[Site] = []
    for row_no, row in raw.iterrows():
        where = f"site list {path} row {int(row_no) + 2} ({row['point_id']!r})"
        try:
            lat, lon = float(row["lat"]), float(row["lon"])
        except ValueError as exc:
            raise DataFormatError(f"{where}: lat/lon must be decimal degrees: {exc}") from exc
        sites.append(_checked_site(row["point_id"], lat, lon, row["name"], where, DataFormatError))
    ids = [s.id for s in sites]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise DataFormatError(f"site list {path}: id(s) {dupes} repeat; ids must be unique.")
    if not sites:
        raise DataFormatError(f"site list {path} has no rows of kind {kinds}.")
    return sites


def default_sites() -> list[Site]:
    """The configured default site list (``api_query_point`` rows of :func:`sites_file`)."""
    return read_sites(sites_file())


def parse_sites(spec: str | list[str] | None) -> list[Site]:
    """Resolve a ``--sites`` value into sites.

    Parameters
    ----------
    spec : str, list of str or None
        ``None``/empty: the default list. Otherwise comma-separated entries, each
        either a site id from :func:`sites_file` (any kind) or ``id:lat:lon``.

    Returns
    -------
    list of Site

    Raises
    ------
    ConfigError
        If an id is unknown, an ad-hoc point is malformed or an id repeats.
    """
    if not spec:
        return default_sites()
    items = spec.split(",") if isinstance(spec, str) else [p for s in spec for p in s.split(",")]
    items = [i.strip() for i in items if i.strip()]
    known: dict[str, Site] | None = None
    sites: list[Site] = []
    for item in items:
        if ":" in item:
            parts = item.split(":")
            if len(parts) != 3:
                raise ConfigError(
                    f"--sites entry {item!r}: write ad-hoc points as id:lat:lon, e.g. mid:51.0:1.5"
                )
            try:
                lat, lon = float(parts[1]), float(parts[2])
            except ValueError as exc:
                raise ConfigError(
                    f"--sites entry {item!r}: lat and lon must be decimal degrees ({exc})"
                ) from exc
            sites.append(
                _checked_site(parts[0], lat, lon, "", f"--sites entry {item!r}", ConfigError)
            )
        else:
            if known is None:
                known = {s.id: s for s in read_sites(sites_file(), kinds=None)}
            if item not in known:
                raise ConfigError(
                    f"--sites: unknown site id {item!r}; known ids in {sites_file()}: "
                    f"{sorted(known)}. Or give an ad-hoc point as id:lat:lon."
                )
            sites.append(known[item])
    ids = [s.id for s in sites]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"--sites: id(s) {dupes} given more than once.")
    return sites


def _checked_site(site_id: str, lat: float, lon: float, name: str, where: str, err: type) -> Site:
    if not _ID_RE.match(site_id or ""):
        raise err(f"{where}: site id {site_id!r} must be letters, digits, '_', '.' or '-'.")
    if not (-90.0 <= lat <= 90.0) or not (-180.0 <= lon <= 180.0):
        raise err(f"{where}: position ({lat}, {lon}) is out of range (lat -90..90, lon -180..180).")
    return Site(site_id, lat, lon, name)
