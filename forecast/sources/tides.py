"""Tidal harmonic constants and datums (TICON-4), read from the committed snapshot.

The files ``data/snapshot/tides/constituents.csv`` and ``datums.csv`` hold, for Dover,
Deal, Calais, Boulogne-sur-Mer and Dunkerque, 50 harmonic constituents each (amplitude
[m], Greenwich phase lag [deg] for UTC times) and the tidal levels [m above chart datum].
Provenance and licence: ``data/snapshot/tides/SOURCES.md``. Nothing here touches the
network: the constants do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import config
from forecast.errors import ConfigError, DataFormatError

ATTRIBUTION = (
    "Tidal constants: TICON-4 (DGFI-TUM; GESLA-4 gauge data from BODC, SHOM/REFMAR and the "
    "Channel Coastal Observatory), via the Neaps tide database "
    "(github.com/openwatersio/tide-database), CC-BY-4.0. Predictions, not for navigation."
)

#: Station keys accepted on the command line -> ``port`` in the CSV files.
STATIONS = {
    "dover": "Dover",
    "deal": "Deal",
    "calais": "Calais",
    "boulogne": "Boulogne-sur-Mer",
    "dunkerque": "Dunkerque",
}
#: Extra spellings accepted for station keys.
ALIASES = {
    "boulogne-sur-mer": "boulogne",
    "boulogne_sur_mer": "boulogne",
    "dunkirk": "dunkerque",
}

_CONST_COLUMNS = (
    "port",
    "station_id",
    "lat",
    "lon",
    "z0_msl_above_gauge_zero_m",
    "constituent",
    "speed_deg_per_hour",
    "amplitude_m",
    "phase_deg",
)
_DATUM_COLUMNS = ("port", "HAT_m", "MHWS_m", "MHW_m", "MSL_m", "MLW_m", "MLWS_m", "LAT_m")

#: Constituents every station must have: the tide cannot be predicted without them.
REQUIRED_CONSTITUENTS = ("M2", "S2", "N2", "K2", "K1", "O1", "P1", "Q1", "M4", "MS4")

#: How to repair a damaged snapshot table.
RESTORE = (
    "restore the committed file (git checkout -- data/snapshot/tides/) or see "
    "data/snapshot/tides/SOURCES.md to rebuild it"
)


def _read_table(path: Path, what: str) -> pd.DataFrame:
    """``pd.read_csv`` with every way a damaged file fails turned into DataFormatError."""
    try:
        return pd.read_csv(path, encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataFormatError(f"{what} file {path} does not exist; {RESTORE}") from exc
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{what} file {path} is not UTF-8 text (byte {exc.start}: {exc.reason}); {RESTORE}"
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ValueError) as exc:
        raise DataFormatError(
            f"{what} file {path} cannot be read as CSV ({exc}); {RESTORE}"
        ) from exc


@dataclass(frozen=True)
class StationConstants:
    """Harmonic constants of one tide gauge.

    Attributes
    ----------
    key, port, station_id : str
        CLI key (``dover``), display name (``Dover``) and TICON id.
    lat, lon : float
        [deg] gauge position.
    z0 : float
        [m above chart datum] mean level Z0.
    names : tuple of str
        Constituent names as in TICON (``M2``, ``EP2``, ``SGM``, ...).
    speed : ndarray
        [deg/h] angular speeds (XTide values).
    amplitude : ndarray
        [m].
    phase : ndarray
        [deg] Greenwich phase lags g (UTC).
    datums : dict
        Tidal levels [m above chart datum]: ``HAT``, ``MHWS``, ``MHW``, ``MSL``, ``MLW``,
        ``MLWS``, ``LAT``.
    """

    key: str
    port: str
    station_id: str
    lat: float
    lon: float
    z0: float
    names: tuple[str, ...]
    speed: np.ndarray
    amplitude: np.ndarray
    phase: np.ndarray
    datums: dict[str, float]


def station_key(station: str) -> str:
    """Normalise a station name to a key of :data:`STATIONS`, or raise ConfigError."""
    k = str(station).strip().lower()
    k = ALIASES.get(k, k)
    if k not in STATIONS:
        by_port = {v.lower(): key for key, v in STATIONS.items()}
        if k in by_port:
            return by_port[k]
        raise ConfigError(
            f"unknown tide station {station!r}; valid stations: {', '.join(STATIONS)}"
        )
    return k


def read_constituents(path: str | Path) -> pd.DataFrame:
    """Read ``constituents.csv`` and check its columns and values.

    Returns the table with at least the columns ``port, station_id, lat, lon,
    z0_msl_above_gauge_zero_m, constituent, speed_deg_per_hour, amplitude_m, phase_deg``.

    Raises
    ------
    DataFormatError
        Missing columns, non-numeric or out-of-range values, duplicated constituents.
    """
    path = Path(path)
    df = _read_table(path, "tide constituents")
    missing = [c for c in _CONST_COLUMNS if c not in df.columns]
    if missing:
        raise DataFormatError(
            f"{path}: columns {missing} missing (found {list(df.columns)[:10]}); "
            "is this the TICON constituents table from data/snapshot/tides/?"
        )
    for c in (
        "lat",
        "lon",
        "z0_msl_above_gauge_zero_m",
        "speed_deg_per_hour",
        "amplitude_m",
        "phase_deg",
    ):
        vals = pd.to_numeric(df[c], errors="coerce")
        bad = vals.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raw = df[c].iloc[row]
            shown = "blank" if pd.isna(raw) else repr(str(raw))
            raise DataFormatError(f"{path} row {row + 2}, column {c}: {shown} is not a number")
        df[c] = vals.astype(float)
    if (df["amplitude_m"] < 0).any() or (df["speed_deg_per_hour"] < 0).any():
        row = int(
            np.flatnonzero(((df["amplitude_m"] < 0) | (df["speed_deg_per_hour"] < 0)).to_numpy())[0]
        )
        raise DataFormatError(f"{path} row {row + 2}: negative amplitude or speed")
    dup = df.duplicated(["port", "constituent"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataFormatError(
            f"{path} row {row + 2}: constituent {df['constituent'].iloc[row]} appears twice "
            f"for {df['port'].iloc[row]}"
        )
    check_constituent_sets(df, path)
    return df


def check_constituent_sets(df: pd.DataFrame, path: Path) -> None:
    """Every port has :data:`REQUIRED_CONSTITUENTS` and all ports the same set.

    A table cut short (a truncated file) loses the last port's last rows: its set then
    differs from the others'.
    """
    sets = {
        str(port): set(g["constituent"].astype(str).str.upper())
        for port, g in df.groupby("port", sort=False)
    }
    for port, names in sets.items():
        lost = [c for c in REQUIRED_CONSTITUENTS if c not in names]
        if lost:
            raise DataFormatError(
                f"{path}: port {port} lacks the constituents {lost} (it has {len(names)}); "
                f"the table is damaged or cut short; {RESTORE}"
            )
    largest = max(sets.values(), key=len, default=set())
    for port, names in sets.items():
        if names != largest:
            raise DataFormatError(
                f"{path}: port {port} has {len(names)} constituents, others "
                f"{len(largest)} (missing {sorted(largest - names)[:5]}); the table is "
                f"damaged or cut short; {RESTORE}"
            )


def read_datums(path: str | Path) -> pd.DataFrame:
    """Read ``datums.csv`` (one row per port; levels [m above chart datum]), indexed by port."""
    path = Path(path)
    df = _read_table(path, "tide datums")
    missing = [c for c in _DATUM_COLUMNS if c not in df.columns]
    if missing:
        raise DataFormatError(
            f"{path}: columns {missing} missing; expected TICON datums table; {RESTORE}"
        )
    for c in _DATUM_COLUMNS[1:]:
        vals = pd.to_numeric(df[c], errors="coerce")
        if vals.isna().any():
            row = int(np.flatnonzero(vals.isna().to_numpy())[0])
            raise DataFormatError(
                f"{path} row {row + 2}, column {c}: {df[c].iloc[row]!r} is not a number; {RESTORE}"
            )
        df[c] = vals.astype(float)
    return df.set_index("port")


@lru_cache(maxsize=8)
def load_station(station: str, folder: str | None = None) -> StationConstants:
    """Constants and datums of one station from the snapshot (cached).

    Parameters
    ----------
    station : str
        ``dover``, ``deal``, ``calais``, ``boulogne`` or ``dunkerque`` (case-insensitive).
    folder : str, optional
        Folder with ``constituents.csv`` and ``datums.csv``; the snapshot when None.
    """
    key = station_key(station)
    base = Path(folder) if folder else config.snapshot_dir() / "tides"
    const = _load_tables(str(base))
    table, datums = const
    port = STATIONS[key]
    rows = table[table["port"] == port]
    if rows.empty:
        raise DataFormatError(f"{base / 'constituents.csv'} has no rows for port {port!r}")
    if port not in datums.index:
        raise DataFormatError(f"{base / 'datums.csv'} has no row for port {port!r}")
    z0 = rows["z0_msl_above_gauge_zero_m"].unique()
    if len(z0) != 1:
        raise DataFormatError(
            f"{base / 'constituents.csv'}: port {port} has several Z0 values {z0}"
        )
    d = datums.loc[port]
    return StationConstants(
        key=key,
        port=port,
        station_id=str(rows["station_id"].iloc[0]),
        lat=float(rows["lat"].iloc[0]),
        lon=float(rows["lon"].iloc[0]),
        z0=float(z0[0]),
        names=tuple(str(n).upper() for n in rows["constituent"]),
        speed=rows["speed_deg_per_hour"].to_numpy(float),
        amplitude=rows["amplitude_m"].to_numpy(float),
        phase=rows["phase_deg"].to_numpy(float),
        datums={k[:-2]: float(d[k]) for k in _DATUM_COLUMNS[1:]},
    )


@lru_cache(maxsize=4)
def _load_tables(folder: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    base = Path(folder)
    return read_constituents(base / "constituents.csv"), read_datums(base / "datums.csv")


__all__ = [
    "ATTRIBUTION",
    "STATIONS",
    "StationConstants",
    "load_station",
    "read_constituents",
    "read_datums",
    "station_key",
]
