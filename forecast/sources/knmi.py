"""KNMI daily station observations ("etmgeg" format): thin client + pure parser.

KNMI (the Royal Netherlands Meteorological Institute) publishes daily observations of
its stations in a plain-text format: a header describing each column, then one
comma-separated line per station and day::

    # STN,YYYYMMDD,DDVEC,FHVEC,   FG,  FHX, FHXH, ...
      340,20170101,  211,   32,   33,   40,   10, ...

The bundled file ``data/snapshot/knmi/etmgeg_340.txt`` (station 340 Woensdrecht,
2017-01-01 .. 2025-06-30) is an **observed regional proxy**: an inland airfield
213 km from Dover, not Strait weather (see ``data/snapshot/knmi/SOURCES.md``).

Conversions (done once, here; glossary names and units afterwards):

- wind speeds ``FG``, ``FHX``, ``FHN``, ``FXX`` [0.1 m/s] -> [kn]: ``x * 0.1 * 1.943844``;
- ``DDVEC`` [deg] -> ``wind_direction_10m_mean`` [deg, 0..360); ``0`` (calm/variable)
  -> NaN, ``360`` (north) -> ``0``;
- ``RH`` [0.1 mm] -> ``precipitation_sum`` [mm]; ``DR`` [0.1 h] -> ``precipitation_duration``
  [h]; the code ``-1`` ("less than 0.05") in ``RH``, ``RHX`` and ``SQ`` -> ``0.0``;
- ``TG`` [0.1 degC] -> ``temperature_2m_mean`` [degC]; ``PG`` [0.1 hPa] ->
  ``pressure_msl_mean`` [hPa];
- ``VVN`` visibility class code -> ``visibility_min`` [m] at the **middle of the class**
  (see :func:`visibility_code_to_m`);
- ``NG`` [octa] -> ``cloud_cover_mean`` [octa]; ``9`` ("sky invisible", fog) -> NaN;
- hour fields ``FHXH``, ``FXXH`` (hour slot 1..24, slot ``h`` covers ``h-1 .. h`` UT) ->
  ``*_hour_utc`` [h] = the slot's **start** hour, 0..23.

Blank fields are missing (NaN). Days missing from the file become NaN rows, so the
index is daily without gaps.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import config
from forecast.errors import ConfigError, DataFormatError, SourceError
from forecast.sources import http

#: KNMI daily-data script interface (HTTP POST, form fields start, end, stns, vars).
KNMI_DAILY_URL = "https://www.daggegevens.knmi.nl/klimatologie/daggegevens"
#: Cap on one KNMI answer [bytes]: all variables of one station since 1951 are ~8 MiB.
MAX_BYTES = 32 * 2**20

#: [kn] per [m/s].
KN_PER_MS = 1.943844

#: The bundled station.
DEFAULT_STATION = 340

#: Label of the bundled series (what it is and what it is not).
BUNDLED_SOURCE = (
    "KNMI station 340 Woensdrecht: observed regional proxy "
    "(inland, 213 km from Dover), not Strait weather"
)

ATTRIBUTION = "Source: KNMI (Royal Netherlands Meteorological Institute), open data"

#: Known station names (others are labelled by number unless the file names them).
STATION_NAMES = {310: "Vlissingen", 340: "Woensdrecht"}

#: KNMI columns the output needs.
REQUIRED_COLUMNS = ("DDVEC", "FG", "FHX", "FHXH", "FHN", "FXX", "FXXH", "TG", "DR", "RH", "PG")
REQUIRED_COLUMNS += ("VVN", "NG")

#: Output columns in glossary names and units, in order.
COLUMNS = (
    "wind_speed_10m_mean",
    "wind_speed_10m_max",
    "wind_speed_10m_min",
    "wind_gusts_10m_max",
    "wind_direction_10m_mean",
    "precipitation_sum",
    "precipitation_duration",
    "temperature_2m_mean",
    "pressure_msl_mean",
    "visibility_min",
    "cloud_cover_mean",
    "wind_speed_10m_max_hour_utc",
    "wind_gusts_10m_max_hour_utc",
)

UNITS = {
    "wind_speed_10m_mean": "kn",
    "wind_speed_10m_max": "kn",
    "wind_speed_10m_min": "kn",
    "wind_gusts_10m_max": "kn",
    "wind_direction_10m_mean": "deg",
    "precipitation_sum": "mm",
    "precipitation_duration": "h",
    "temperature_2m_mean": "degC",
    "pressure_msl_mean": "hPa",
    "visibility_min": "m",
    "cloud_cover_mean": "octa",
    "wind_speed_10m_max_hour_utc": "h",
    "wind_gusts_10m_max_hour_utc": "h",
}

_HEADER_RE = re.compile(r"^\s*#?\s*STN\s*,\s*YYYYMMDD\s*,", re.IGNORECASE)
# Station metadata lines, e.g. "# 340:  4.342  51.449  19.20  Woensdrecht" (colon optional)
_STATION_RE = re.compile(
    r"^\s*#\s*(\d{2,4}):?\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+(\S.*?)\s*$", re.MULTILINE
)
_CACHE: dict[tuple[str, int, float, int | None], pd.DataFrame] = {}


# --------------------------------------------------------------------------- network
def get_knmi(
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    stns: int | str = DEFAULT_STATION,
    variables: str = "ALL",
    *,
    url: str = KNMI_DAILY_URL,
    timeout: float = config.HTTP_TIMEOUT_S,
    deadline_s: float | None = None,
) -> str:
    """Download daily station data from KNMI's script interface (thin; no parsing).

    Parameters
    ----------
    start, end : date-like
        First and last KNMI day (inclusive); sent as ``YYYYMMDD``.
    stns : int or str
        Station number(s), e.g. ``340`` or ``"310:340"``.
    variables : str
        KNMI variable selection, e.g. ``"ALL"`` (the parser needs at least the wind,
        temperature, precipitation, pressure, visibility and cloud fields).
    url : str
        Endpoint (configurable for mirrors and tests).
    timeout : float
        Time-out of each socket operation [s].
    deadline_s : float, optional
        Deadline of the whole request [s] (default
        :data:`forecast.sources.http.DEFAULT_REQUEST_DEADLINE_S`). The body is capped at
        :data:`MAX_BYTES`; redirects stay on the URL's host (shared HTTP layer).

    Returns
    -------
    str
        The response body (etmgeg text); parse it with :func:`read_knmi_text`.

    Raises
    ------
    SourceError
        Network failure, time-out, missed deadline, a body over :data:`MAX_BYTES`, a
        redirect to another host or an HTTP error status (with the server's message).
    """
    try:
        d0 = pd.Timestamp(start).strftime("%Y%m%d")
        d1 = pd.Timestamp(end).strftime("%Y%m%d")
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"start/end must be dates (YYYY-MM-DD); got {start!r}, {end!r}") from exc
    if d1 < d0:
        raise ConfigError(f"end {d1} is before start {d0}; swap them")
    form = {"start": d0, "end": d1, "stns": str(stns), "vars": variables}
    try:
        resp = http.post(
            url,
            data=form,
            timeout=timeout,
            deadline_s=deadline_s,
            max_bytes=MAX_BYTES,
            max_decoded_bytes=MAX_BYTES,
        )
    except http.TransientError as exc:
        if exc.status is not None:
            raise SourceError(
                f"KNMI answered HTTP {exc.status} for {url} (form {form}): "
                f"{exc.server_text!r}. Check station number and dates; retry later for 429/5xx"
            ) from exc
        if exc.timed_out:
            raise SourceError(
                f"KNMI did not answer within {timeout:g} s ({url}): {exc.fault}; try again later"
            ) from exc
        raise SourceError(
            f"could not reach KNMI at {url}: {exc.fault}. Check the network or pass url= "
            "for a mirror"
        ) from exc
    if resp.status_code != 200:
        snippet = resp.text[:200].strip().replace("\n", " ")
        raise SourceError(
            f"KNMI answered HTTP {resp.status_code} for {url} (form {form}): {snippet!r}. "
            "Check station number and dates; retry later for 429/5xx"
        )
    # KNMI serves Latin-1 text; requests may guess otherwise.
    return resp.content.decode("latin-1")


def download_knmi(
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    stn: int = DEFAULT_STATION,
    dest: str | Path | None = None,
    *,
    url: str = KNMI_DAILY_URL,
    timeout: float = config.HTTP_TIMEOUT_S,
    deadline_s: float | None = None,
) -> Path:
    """Fetch one station, validate the body, and write it atomically.

    The file goes to ``dest`` or ``raw_dir()/knmi/etmgeg_<stn>_<start>_<end>.txt``; a body
    that does not parse is never written (raises :class:`DataFormatError`).
    """
    text = get_knmi(start, end, stn, url=url, timeout=timeout, deadline_s=deadline_s)
    read_knmi_text(text, source=url, stn=stn)  # validate before writing
    if dest is None:
        d0 = pd.Timestamp(start).strftime("%Y%m%d")
        d1 = pd.Timestamp(end).strftime("%Y%m%d")
        dest = config.raw_dir() / "knmi" / f"etmgeg_{stn}_{d0}_{d1}.txt"
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(text.encode("latin-1"))
    os.replace(tmp, dest)
    return dest


# --------------------------------------------------------------------------- parsing
def visibility_code_to_m(code: np.ndarray) -> np.ndarray:
    """KNMI visibility class code (VVN/VVX) -> visibility [m] at the middle of the class.

    ``0`` (< 100 m) -> 50; ``1..49`` (100 m steps) -> ``code*100 + 50``; ``50`` (5-6 km) ->
    5500; ``56..79`` ((code-50) km .. +1 km) -> ``(code-50)*1000 + 500``; ``80..88``
    (30-35 km, 35-40 km, ...) -> ``30000 + (code-80)*5000 + 2500``; ``89`` (> 70 km) ->
    70000 (lower bound; the class is open). NaN stays NaN. Codes 51-55 and outside
    0..89 are not defined by KNMI and raise ``ValueError``.
    """
    c = np.asarray(code, dtype=float)
    out = np.full(c.shape, np.nan)
    ok = ~np.isnan(c)
    bad = ok & ((c != np.round(c)) | (c < 0) | (c > 89) | ((c > 50) & (c < 56)))
    if bad.any():
        raise ValueError(f"undefined visibility class code(s) {sorted(set(c[bad].tolist()))}")
    m = ok & (c <= 49)
    out[m] = c[m] * 100 + 50
    out[ok & (c == 50)] = 5500
    m = ok & (c >= 56) & (c <= 79)
    out[m] = (c[m] - 50) * 1000 + 500
    m = ok & (c >= 80) & (c <= 88)
    out[m] = 30000 + (c[m] - 80) * 5000 + 2500
    out[ok & (c == 89)] = 70000
    return out


def read_knmi(path: str | Path, stn: int | None = None) -> pd.DataFrame:
    """Parse a KNMI daily ("etmgeg") file into glossary columns and units.

    Parameters
    ----------
    path : str or Path
        The text file (KNMI export or the online service's answer saved to disk).
    stn : int, optional
        Station to select when the file holds several; the only one when None.

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (KNMI day, 00-24 UT; daily, no gaps), columns :data:`COLUMNS`
        (units in :data:`UNITS` and ``df.attrs["units"]``). ``attrs``: ``source``,
        ``station``, ``station_name``, ``attribution``, ``path``, ``missing_days``.

    Raises
    ------
    DataFormatError
        The file is not in the etmgeg format, or a line is malformed (file and line named).
    ConfigError
        ``stn`` is not in the file, or the file holds several stations and ``stn`` is None.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataFormatError(f"KNMI file {path} does not exist; check the path") from exc
    return read_knmi_text(raw.decode("latin-1"), source=str(path), stn=stn)


def read_knmi_text(text: str, source: str = "<text>", stn: int | None = None) -> pd.DataFrame:
    """Parse etmgeg text (see :func:`read_knmi`); ``source`` names it in errors."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header_idx = next((i for i, ln in enumerate(lines) if _HEADER_RE.match(ln)), None)
    if header_idx is None:
        first = next((ln.strip() for ln in lines if ln.strip()), "")[:80]
        raise DataFormatError(
            f"{source}: no KNMI column header line '# STN,YYYYMMDD,...' found (first line: "
            f"{first!r}). Is this a KNMI daily-data (etmgeg) file? Download it with vars=ALL"
        )
    names = [n.strip().upper() for n in lines[header_idx].strip().lstrip("#").split(",")]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise DataFormatError(
            f"{source} line {header_idx + 1}: KNMI columns {missing} are missing from the header; "
            "download the file with vars=ALL"
        )
    ncol = len(names)
    rows: list[list[float]] = []
    line_no: list[int] = []
    for i in range(header_idx + 1, len(lines)):
        ln = lines[i]
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        fields = ln.split(",")
        if len(fields) != ncol:
            raise DataFormatError(
                f"{source} line {i + 1}: {len(fields)} fields, expected {ncol} as in the header "
                f"({s[:60]!r}). Is the file truncated or edited?"
            )
        vals = []
        for name, f in zip(names, fields, strict=True):
            f = f.strip()
            if not f:
                vals.append(np.nan)
                continue
            try:
                vals.append(float(int(f)))
            except ValueError:
                raise DataFormatError(
                    f"{source} line {i + 1}, column {name}: {f!r} is not an integer; "
                    "KNMI daily files hold integers (tenths) or blanks"
                ) from None
        rows.append(vals)
        line_no.append(i + 1)
    if not rows:
        raise DataFormatError(
            f"{source}: header found but no data lines; check the dates asked for"
        )
    arr = np.array(rows)
    col = {n: arr[:, k] for k, n in enumerate(names)}
    stations = sorted({int(x) for x in col["STN"]})
    if stn is None:
        if len(stations) > 1:
            raise ConfigError(
                f"{source} holds stations {stations}; choose one with stn= (e.g. stn={stations[0]})"
            )
        stn = stations[0]
    elif int(stn) not in stations:
        raise ConfigError(
            f"station {stn} is not in {source} (stations: {stations}); pass one of them"
        )
    stn = int(stn)
    keep = col["STN"] == stn
    col = {n: v[keep] for n, v in col.items()}
    lines_kept = np.array(line_no)[keep]

    ymd = col["YYYYMMDD"].astype(np.int64).astype(str)
    dates = pd.to_datetime(pd.Series(ymd), format="%Y%m%d", errors="coerce")
    if dates.isna().any():
        k = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataFormatError(
            f"{source} line {lines_kept[k]}: YYYYMMDD {str(ymd[k])!r} is not a valid date"
        )
    idx = pd.DatetimeIndex(dates, name="date")
    dup = idx.duplicated()
    if dup.any():
        k = int(np.flatnonzero(dup)[0])
        raise DataFormatError(
            f"{source} line {lines_kept[k]}: day {idx[k].date()} of station {stn} appears twice"
        )
    if not idx.is_monotonic_increasing:
        k = int(np.flatnonzero(np.diff(idx.asi8) < 0)[0]) + 1
        raise DataFormatError(
            f"{source} line {lines_kept[k]}: day {idx[k].date()} is out of order (dates must increase)"
        )

    def tenths(name: str, lt005: bool = False) -> np.ndarray:
        v = col[name].copy()
        if lt005:
            v[v == -1] = 0.0  # -1 means "< 0.05": recorded as 0
        return v * 0.1

    try:
        vis = visibility_code_to_m(col["VVN"])
    except ValueError as exc:
        raise DataFormatError(
            f"{source}, column VVN: {exc}; KNMI codes are 0-50 and 56-89"
        ) from None
    ddvec = col["DDVEC"].copy()
    ddvec[ddvec == 0] = np.nan
    ng = col["NG"].copy()
    ng[ng == 9] = np.nan
    out = pd.DataFrame(
        {
            "wind_speed_10m_mean": tenths("FG") * KN_PER_MS,
            "wind_speed_10m_max": tenths("FHX") * KN_PER_MS,
            "wind_speed_10m_min": tenths("FHN") * KN_PER_MS,
            "wind_gusts_10m_max": tenths("FXX") * KN_PER_MS,
            "wind_direction_10m_mean": ddvec % 360,
            "precipitation_sum": tenths("RH", lt005=True),
            "precipitation_duration": tenths("DR"),
            "temperature_2m_mean": tenths("TG"),
            "pressure_msl_mean": tenths("PG"),
            "visibility_min": vis,
            "cloud_cover_mean": ng,
            "wind_speed_10m_max_hour_utc": col["FHXH"] - 1,
            "wind_gusts_10m_max_hour_utc": col["FXXH"] - 1,
        },
        index=idx,
    )
    full = pd.date_range(idx[0], idx[-1], freq="D", name="date")
    missing_days = len(full) - len(idx)
    if missing_days:
        out = out.reindex(full)
    names_in_text = {int(m.group(1)): m.group(5).title() for m in _STATION_RE.finditer(text)}
    name = names_in_text.get(stn) or STATION_NAMES.get(stn, "")
    if stn == DEFAULT_STATION:
        label = BUNDLED_SOURCE
    else:
        label = f"KNMI station {stn}{' ' + name if name else ''}: observed station weather"
    out.attrs.update(
        {
            "source": label,
            "station": stn,
            "station_name": name,
            "attribution": ATTRIBUTION,
            "path": source,
            "missing_days": missing_days,
            "units": dict(UNITS),
        }
    )
    return out


def load_knmi(path: str | Path | None = None, stn: int | None = None) -> pd.DataFrame:
    """Load KNMI daily observations; the bundled Woensdrecht file when ``path`` is None.

    Results are cached in memory per (path, size, mtime, stn); a copy is returned so that
    callers may modify it. See :func:`read_knmi` for columns and units.
    """
    p = Path(path) if path is not None else config.snapshot_dir() / "knmi" / "etmgeg_340.txt"
    try:
        st = p.stat()
    except FileNotFoundError as exc:
        if path is None:
            raise DataFormatError(
                f"bundled KNMI file {p} is missing; restore data/snapshot/knmi/ from the repository"
            ) from exc
        raise DataFormatError(f"KNMI file {p} does not exist; check the path") from exc
    key = (str(p.resolve()), st.st_size, st.st_mtime, stn)
    if key not in _CACHE:
        _CACHE[key] = read_knmi(p, stn=stn)
    df = _CACHE[key]
    out = df.copy()
    out.attrs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in df.attrs.items()}
    return out


__all__ = [
    "ATTRIBUTION",
    "BUNDLED_SOURCE",
    "COLUMNS",
    "KNMI_DAILY_URL",
    "UNITS",
    "download_knmi",
    "get_knmi",
    "load_knmi",
    "read_knmi",
    "read_knmi_text",
    "visibility_code_to_m",
]
