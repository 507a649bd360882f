"""KNMI daily station observations ("etmgeg" format): thin client + pure parser.

KNMI (the Royal Netherlands Meteorological Institute) publishes daily observations of
its stations in a plain-text format: a header describing each column, then one
comma-separated line per station and day::

    # STN,YYYYMMDD,DDVEC,FHVEC,   FG,  FHX, FHXH, ...
      310,20171001,  183,   92,   94,  120,   11, ...

A file (or an answer of the online service) may hold several stations; the station of
each line is its first field, so labels always come from the data.

The bundled offline weather is a pair of real station files in ``data/snapshot/knmi/``
(see its ``SOURCES.md``): **310 Vlissingen** (coastal, on the sea wall at the mouth of
the Western Scheldt, 162 km from Dover, 2017-10-01 .. 2025-06-30), the primary
station, and **340 Woensdrecht** (an inland airfield 213 km from Dover,
2017-01-01 .. 2025-06-30). Both are an **observed regional proxy**, not Strait weather,
and a model that uses them for past days knows the real weather (perfect prognosis).

:func:`load_knmi` joins several stations into one daily frame: the primary station
(the first) keeps the glossary column names, every other station's columns are
prefixed ``stn<number>_`` (e.g. ``stn340_wind_speed_10m_mean``).

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
- hour fields ``FHXH``, ``FHNH``, ``FXXH`` (hour slot 1..24, slot ``h`` covers
  ``h-1 .. h`` UT) -> ``*_hour_utc`` [h] = the slot's **start** hour, 0..23.

Blank fields are missing (NaN). Days missing from the file become NaN rows, so the
index is daily without gaps.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

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


class StationInfo(NamedTuple):
    """What a KNMI station is, for labels: name, kind, distance and position."""

    name: str
    kind: str  #: "coastal" or "inland"
    distance_km: float  #: [km] from Dover
    lat: float  #: [deg N]
    lon: float  #: [deg E]


#: Stations this project knows (others are labelled by number, or by the name the
#: file's station lines give).
STATION_INFO = {
    310: StationInfo("Vlissingen", "coastal", 162.0, 51.442, 3.596),
    340: StationInfo("Woensdrecht", "inland", 213.0, 51.449, 4.342),
}

#: Known station names (derived from :data:`STATION_INFO`).
STATION_NAMES = {stn: info.name for stn, info in STATION_INFO.items()}

#: The bundled stations, primary (coastal) first, and their files in data/snapshot/knmi/.
DEFAULT_STATIONS = (310, 340)
BUNDLED_FILES = tuple(f"etmgeg_{stn}.txt" for stn in DEFAULT_STATIONS)

#: The bundled primary station.
DEFAULT_STATION = DEFAULT_STATIONS[0]

ATTRIBUTION = "Source: KNMI (Royal Netherlands Meteorological Institute), open data"

#: KNMI columns the output needs.
REQUIRED_COLUMNS = ("DDVEC", "FG", "FHX", "FHXH", "FHN", "FHNH", "FXX", "FXXH", "TG", "DR")
REQUIRED_COLUMNS += ("RH", "PG", "VVN", "NG")

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
    "wind_speed_10m_min_hour_utc",
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
    "wind_speed_10m_min_hour_utc": "h",
    "wind_gusts_10m_max_hour_utc": "h",
}

_HEADER_RE = re.compile(r"^\s*#?\s*STN\s*,\s*YYYYMMDD\s*,", re.IGNORECASE)
# Station metadata lines, e.g. "# 340:  4.342  51.449  19.20  Woensdrecht" (colon optional)
_STATION_RE = re.compile(
    r"^\s*#\s*(\d{2,4}):?\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+(\S.*?)\s*$", re.MULTILINE
)
_CACHE: dict[tuple[str, int, float], tuple[dict[int, pd.DataFrame], str]] = {}


def station_prefix(stn: int) -> str:
    """Column prefix of a secondary station in :func:`load_knmi`'s frame, e.g. ``stn340_``."""
    return f"stn{int(stn)}_"


def station_label(stn: int, name: str = "") -> str:
    """What a station is, e.g. ``"310 Vlissingen (observed, coastal, 162 km from Dover)"``.

    Known stations (:data:`STATION_INFO`) carry their kind and distance; others their
    number and, when the file names it, their name.
    """
    stn = int(stn)
    info = STATION_INFO.get(stn)
    name = name or (info.name if info else "")
    head = f"{stn} {name}" if name else f"{stn}"
    if info is None:
        return f"{head} (observed)"
    return f"{head} (observed, {info.kind}, {info.distance_km:.0f} km from Dover)"


def source_label(labels: Sequence[str]) -> str:
    """Label of a KNMI frame naming every station used (primary first).

    e.g. ``"KNMI stations 310 Vlissingen (observed, coastal, 162 km from Dover; primary)
    and 340 Woensdrecht (...): observed regional proxy, not Strait weather; perfect
    prognosis (the real weather of each day) when used for past days"``.
    """
    labels = list(labels)
    if len(labels) == 1:
        named = f"KNMI station {labels[0]}"
    else:
        first = labels[0][:-1] + "; primary)" if labels[0].endswith(")") else labels[0]
        rest = labels[1:]
        named = f"KNMI stations {first}" + "".join(f", {x}" for x in rest[:-1])
        named += f" and {rest[-1]}"
    return (
        f"{named}: observed regional proxy, not Strait weather; perfect prognosis "
        "(the real weather of each day) when used for past days"
    )


#: Label of the bundled pair (what it is and what it is not).
BUNDLED_SOURCE = source_label([station_label(stn) for stn in DEFAULT_STATIONS])


def stations_param(stns: int | str | Sequence[int]) -> str:
    """KNMI's ``stns`` form value: ``340``, ``"310:340"`` or ``(310, 340)`` -> ``"310:340"``."""
    if isinstance(stns, str):
        return stns
    if isinstance(stns, (int, np.integer)):
        return str(int(stns))
    return ":".join(str(int(s)) for s in stns)


# --------------------------------------------------------------------------- network
def get_knmi(
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    stns: int | str | Sequence[int] = DEFAULT_STATIONS,
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
    stns : int, str or sequence of int
        Station number(s), e.g. ``340``, ``"310:340"`` or ``(310, 340)`` (default: the
        bundled pair); several stations come back in one answer, split them with
        :func:`read_knmi_stations`.
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
        The response body (etmgeg text); parse it with :func:`read_knmi_stations` (or
        :func:`read_knmi_text` for one station).

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
    form = {"start": d0, "end": d1, "stns": stations_param(stns), "vars": variables}
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
    stn: int | str | Sequence[int] = DEFAULT_STATIONS,
    dest: str | Path | None = None,
    *,
    url: str = KNMI_DAILY_URL,
    timeout: float = config.HTTP_TIMEOUT_S,
    deadline_s: float | None = None,
) -> Path:
    """Fetch one or several stations in one request, validate the body, write it atomically.

    The file goes to ``dest`` or ``raw_dir()/knmi/etmgeg_<stns>_<start>_<end>.txt``
    (``<stns>`` e.g. ``310-340``); a body that does not parse, or lacks a station asked
    for, is never written (raises :class:`DataFormatError`). Load the file with
    :func:`load_knmi` (its stations in the order of the file).
    """
    text = get_knmi(start, end, stn, url=url, timeout=timeout, deadline_s=deadline_s)
    _check_stations(read_knmi_stations(text, source=url), stn, url)  # validate before writing
    if dest is None:
        d0 = pd.Timestamp(start).strftime("%Y%m%d")
        d1 = pd.Timestamp(end).strftime("%Y%m%d")
        tag = stations_param(stn).replace(":", "-")
        dest = config.raw_dir() / "knmi" / f"etmgeg_{tag}_{d0}_{d1}.txt"
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
    """Parse one station of a KNMI daily ("etmgeg") file into glossary columns and units.

    Parameters
    ----------
    path : str or Path
        The text file (KNMI export or the online service's answer saved to disk), of
        any station.
    stn : int, optional
        Station to select when the file holds several; the only one when None.

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (KNMI day, 00-24 UT; daily, no gaps), columns :data:`COLUMNS`
        (units in :data:`UNITS` and ``df.attrs["units"]``). ``attrs``: ``source`` (the
        station's label, from the station number in the file's lines), ``station``,
        ``station_name``, ``station_label``, ``station_kind`` (``coastal``/``inland``,
        ``""`` when unknown), ``attribution``, ``path``, ``missing_days``.

    Raises
    ------
    DataFormatError
        The file is not in the etmgeg format, or a line is malformed (file and line named).
    ConfigError
        ``stn`` is not in the file, or the file holds several stations and ``stn`` is None.
    """
    return read_knmi_text(_read_text(Path(path)), source=str(path), stn=stn)


def read_knmi_text(text: str, source: str = "<text>", stn: int | None = None) -> pd.DataFrame:
    """Parse one station of etmgeg text (see :func:`read_knmi`); ``source`` names it in errors."""
    frames = read_knmi_stations(text, source=source)
    stations = sorted(frames)
    if stn is None:
        if len(stations) > 1:
            raise ConfigError(
                f"{source} holds stations {stations}; choose one with stn= (e.g. stn={stations[0]})"
            )
        stn = stations[0]
    elif int(stn) not in frames:
        raise ConfigError(
            f"station {stn} is not in {source} (stations: {stations}); pass one of them"
        )
    return frames[int(stn)]


def read_knmi_stations(text: str, source: str = "<text>") -> dict[int, pd.DataFrame]:
    """Split etmgeg text of one or several stations into one frame per station.

    Parameters
    ----------
    text : str
        The file's or the online answer's text (e.g. of ``stns=310:340``).
    source : str
        Names the text in error messages and ``attrs["path"]``.

    Returns
    -------
    dict of int to pandas.DataFrame
        Station number -> its frame (as :func:`read_knmi`), in the order in which the
        stations first appear in the text.

    Raises
    ------
    DataFormatError
        Not the etmgeg format, or a malformed line (line named).
    """
    names, arr, line_no = _parse_rows(text, source)
    names_in_text = {int(m.group(1)): m.group(5).title() for m in _STATION_RE.finditer(text)}
    stn_col = arr[:, names.index("STN")]
    order = list(dict.fromkeys(int(x) for x in stn_col))
    out = {}
    for stn in order:
        keep = stn_col == stn
        col = {n: arr[keep, k] for k, n in enumerate(names)}
        out[stn] = _station_frame(col, line_no[keep], stn, source, names_in_text.get(stn, ""))
    return out


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataFormatError(f"KNMI file {path} does not exist; check the path") from exc
    return raw.decode("latin-1")


def _parse_rows(text: str, source: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Header names, the data as floats (NaN for blanks) and each row's line number."""
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
    stn = arr[:, names.index("STN")]
    if np.isnan(stn).any():
        k = int(np.flatnonzero(np.isnan(stn))[0])
        raise DataFormatError(
            f"{source} line {line_no[k]}: the station number (STN, first field) is blank"
        )
    return names, arr, np.array(line_no)


def _station_frame(
    col: dict[str, np.ndarray], lines_kept: np.ndarray, stn: int, source: str, name_in_text: str
) -> pd.DataFrame:
    """One station's rows (raw KNMI columns) -> glossary columns and units, with attrs."""
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
            "wind_speed_10m_min_hour_utc": col["FHNH"] - 1,
            "wind_gusts_10m_max_hour_utc": col["FXXH"] - 1,
        },
        index=idx,
    )
    full = pd.date_range(idx[0], idx[-1], freq="D", name="date")
    missing_days = len(full) - len(idx)
    out = out.reindex(full)  # also when none is missing: the index gets its daily freq
    info = STATION_INFO.get(stn)
    name = name_in_text or (info.name if info else "")
    label = station_label(stn, name)
    out.attrs.update(
        {
            "source": source_label([label]),
            "station": stn,
            "station_name": name,
            "station_label": label,
            "station_kind": info.kind if info else "",
            "attribution": ATTRIBUTION,
            "path": source,
            "missing_days": missing_days,
            "units": dict(UNITS),
        }
    )
    return out


def _check_stations(
    frames: dict[int, pd.DataFrame], asked: int | str | Sequence[int], source: str
) -> None:
    """Raise DataFormatError when a station asked for is not in the parsed answer."""
    want = [int(s) for s in stations_param(asked).split(":") if s.strip()]
    lacking = [s for s in want if s not in frames]
    if lacking:
        raise DataFormatError(
            f"{source}: the answer lacks station(s) {lacking} asked for (has {sorted(frames)}); "
            "check the station numbers and whether KNMI has data for the dates"
        )


def join_stations(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Join single-station frames into one daily frame; the first is the primary.

    Parameters
    ----------
    frames : sequence of pandas.DataFrame
        Outputs of :func:`read_knmi` (each with ``attrs["station"]``), different stations.

    Returns
    -------
    pandas.DataFrame
        Index ``date``: every day from the first to the last of any station, no gaps
        (NaN where a station has no data). The primary station's columns keep their
        names (:data:`COLUMNS`); every other station's columns are prefixed
        :func:`station_prefix` (``stn340_wind_speed_10m_mean`` ...). ``attrs``:
        ``source`` (names every station, :func:`source_label`), ``stations`` (numbers,
        primary first), ``station_labels`` (same order), ``station_kinds``,
        ``station``/``station_name``/``station_kind`` (the primary's), ``paths``,
        ``path`` (the primary's file), ``missing_days`` (station -> days), ``units``,
        ``attribution``.

    Raises
    ------
    ConfigError
        No frame, or the same station twice.
    """
    if not frames:
        raise ConfigError("no KNMI station to join; give at least one etmgeg file")
    stations = [int(f.attrs["station"]) for f in frames]
    seen: dict[int, str] = {}
    for f, stn in zip(frames, stations, strict=True):
        if stn in seen:
            raise ConfigError(
                f"station {stn} is given twice ({seen[stn]} and {f.attrs.get('path')}); "
                "give one file per station"
            )
        seen[stn] = str(f.attrs.get("path"))
    start = min(f.index[0] for f in frames)
    end = max(f.index[-1] for f in frames)
    full = pd.date_range(start, end, freq="D", name="date")
    parts, units = [], {}
    for k, f in enumerate(frames):
        prefix = "" if k == 0 else station_prefix(stations[k])
        part = f.reindex(full)
        part.columns = [prefix + c for c in f.columns]
        parts.append(part)
        units.update({prefix + c: u for c, u in f.attrs.get("units", UNITS).items()})
    out = pd.concat(parts, axis=1)
    out.attrs = {}
    labels = [
        str(f.attrs.get("station_label", station_label(s)))
        for f, s in zip(frames, stations, strict=True)
    ]
    primary = frames[0].attrs
    out.attrs.update(
        {
            "source": source_label(labels),
            "stations": stations,
            "station_labels": labels,
            "station_kinds": [str(f.attrs.get("station_kind", "")) for f in frames],
            "station": stations[0],
            "station_name": primary.get("station_name", ""),
            "station_kind": primary.get("station_kind", ""),
            "attribution": ATTRIBUTION,
            "paths": [str(f.attrs.get("path", "")) for f in frames],
            "path": str(primary.get("path", "")),
            "missing_days": {
                s: int(f.attrs.get("missing_days", 0))
                for f, s in zip(frames, stations, strict=True)
            },
            "units": units,
        }
    )
    return out


def _load_file(p: Path, bundled: bool) -> tuple[dict[int, pd.DataFrame], str]:
    """Parse a file (all its stations) and its sha256, cached per (path, size, mtime)."""
    try:
        st = p.stat()
    except FileNotFoundError as exc:
        if bundled:
            raise DataFormatError(
                f"bundled KNMI file {p} is missing; restore data/snapshot/knmi/ from the repository"
            ) from exc
        raise DataFormatError(f"KNMI file {p} does not exist; check the path") from exc
    key = (str(p.resolve()), st.st_size, st.st_mtime)
    if key not in _CACHE:
        raw = p.read_bytes()
        frames = read_knmi_stations(raw.decode("latin-1"), source=str(p))
        _CACHE[key] = (frames, hashlib.sha256(raw).hexdigest())
    return _CACHE[key]


def load_knmi(
    paths: str | Path | Sequence[str | Path] | None = None, stn: int | None = None
) -> pd.DataFrame:
    """Load KNMI daily observations of one or several stations as one daily frame.

    Parameters
    ----------
    paths : path or sequence of paths, optional
        One etmgeg file per station (a file holding several stations gives all of them,
        in the file's order). The first station is the **primary**: its columns keep the
        glossary names, so every feature built on them reads it; the others' columns are
        prefixed ``stn<number>_``. Default: the bundled pair, 310 Vlissingen (coastal,
        primary) then 340 Woensdrecht (inland).
    stn : int, optional
        With a single file holding several stations: keep only this one.

    Returns
    -------
    pandas.DataFrame
        As :func:`join_stations`, plus ``attrs["sha256"]`` (file name -> sha256 hex of
        its bytes; the full path when two files share a name). Cached in memory per file (path, size, mtime); a copy is returned,
        so callers may modify it.

    Raises
    ------
    DataFormatError
        A file is missing or malformed.
    ConfigError
        ``stn`` is not in the file (or used with several files), or a station is given
        twice.
    """
    bundled = paths is None
    if bundled:
        plist = [config.snapshot_dir() / "knmi" / name for name in BUNDLED_FILES]
    elif isinstance(paths, (str, os.PathLike)):
        plist = [Path(paths)]
    else:
        plist = [Path(p) for p in paths]
    if not plist:
        raise ConfigError("no KNMI file given; pass one etmgeg file per station, or None")
    if stn is not None and len(plist) != 1:
        raise ConfigError(f"stn={stn} selects a station of a single file; got {len(plist)} files")
    frames, sha = [], {}
    for p in plist:
        per_stn, digest = _load_file(p, bundled)
        sha[p.name if p.name not in sha else str(p)] = digest
        if stn is not None:
            if int(stn) not in per_stn:
                raise ConfigError(
                    f"station {stn} is not in {p} (stations: {sorted(per_stn)}); pass one of them"
                )
            frames.append(per_stn[int(stn)])
        else:
            frames.extend(per_stn.values())
    copies = []
    for f in frames:
        c = f.copy()
        c.attrs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in f.attrs.items()}
        copies.append(c)
    out = join_stations(copies)
    out.attrs["sha256"] = sha
    return out


__all__ = [
    "ATTRIBUTION",
    "BUNDLED_FILES",
    "BUNDLED_SOURCE",
    "COLUMNS",
    "DEFAULT_STATION",
    "DEFAULT_STATIONS",
    "KNMI_DAILY_URL",
    "STATION_INFO",
    "StationInfo",
    "UNITS",
    "download_knmi",
    "get_knmi",
    "join_stations",
    "load_knmi",
    "read_knmi",
    "read_knmi_stations",
    "read_knmi_text",
    "source_label",
    "station_label",
    "station_prefix",
    "stations_param",
    "visibility_code_to_m",
]
