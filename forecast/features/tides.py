"""Offline tide predictions for the Strait of Dover from TICON-4 harmonic constants.

The water level above chart datum is the classical harmonic sum

.. math:: h(t) = Z_0 + \\sum_i f_i(t) A_i \\cos(V_i(t) + u_i(t) - g_i)

with Greenwich phase lags :math:`g_i` for UTC times (the convention of the TICON-4
constants, see ``data/snapshot/tides/SOURCES.md``). :math:`V_i` is the equilibrium
argument, built from the Doodson numbers of each constituent and the mean longitudes of
moon (s), sun (h), lunar perigee (p) and solar perigee (p1) plus the mean solar hour
angle T; :math:`f_i, u_i` are the nodal corrections of Schureman (1958), evaluated once
per UTC day (they change over 18.6 years). All 50 constituents are used; the angular
speeds implied by the Doodson numbers are checked against the speeds in the table.

Validation (see ``tests/test_tides.py``): the sum agrees with two independent packages,
``uptide`` (for the 41 constituents it knows) and ``utide`` (t_tide tables), to within a
few centimetres, and high-water times within a few minutes.

References
----------
Schureman, P. (1958). *Manual of harmonic analysis and prediction of tides*. US Coast and
Geodetic Survey, Special Publication 98.
Meeus, J. (1998). *Astronomical algorithms*, 2nd ed., ch. 47 (lunar mean elements).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataFormatError
from forecast.features.night import NIGHT_TEXT, night_bounds_utc, night_of
from forecast.features.sky import DEFAULT_LAT, DEFAULT_LON, is_dark
from forecast.sources.tides import ATTRIBUTION, StationConstants, load_station

__all__ = [
    "ATTRIBUTION",
    "high_low_waters",
    "night_tide_features",
    "predict_level",
    "spring_neap_ranges",
]

_D2R = np.pi / 180.0
_J2000_NS = pd.Timestamp("2000-01-01 12:00").value
_NS_PER_DAY = 86400e9

# Doodson-type numbers on (T, s, h, p, p1), phase offset [deg], nodal family.
# T: mean solar hour angle + 180 deg; s, h, p, p1: mean longitudes of moon, sun, lunar
# perigee, solar perigee. Nodal family: {base: power}, f = prod f_b**n, u = sum n*u_b.
_TABLE: dict[str, tuple[tuple[float, ...], float, dict[str, float]]] = {
    "SA": ((0, 0, 1, 0, 0), 0, {}),
    "SSA": ((0, 0, 2, 0, 0), 0, {}),
    "MM": ((0, 1, 0, -1, 0), 0, {"MM": 1}),
    "MSF": ((0, 2, -2, 0, 0), 0, {"M2": -1}),
    "MF": ((0, 2, 0, 0, 0), 0, {"MF": 1}),
    "MTM": ((0, 3, 0, -1, 0), 0, {"MF": 1}),
    "MSQM": ((0, 4, -2, 0, 0), 0, {"MF": 1}),
    "2Q1": ((1, -4, 1, 2, 0), 90, {"O1": 1}),
    "SGM": ((1, -4, 3, 0, 0), 90, {"O1": 1}),
    "Q1": ((1, -3, 1, 1, 0), 90, {"O1": 1}),
    "RHO1": ((1, -3, 3, -1, 0), 90, {"O1": 1}),
    "O1": ((1, -2, 1, 0, 0), 90, {"O1": 1}),
    "M1": ((1, -1, 1, 1, 0), -90, {"O1": 1}),
    "P1": ((1, 0, -1, 0, 0), 90, {}),
    "S1": ((1, 0, 0, 0, 0), 180, {}),
    "K1": ((1, 0, 1, 0, 0), -90, {"K1": 1}),
    "J1": ((1, 1, 1, -1, 0), -90, {"J1": 1}),
    "OO1": ((1, 2, 1, 0, 0), -90, {"OO1": 1}),
    "EP2": ((2, -5, 4, 1, 0), 0, {"M2": 1}),
    "2N2": ((2, -4, 2, 2, 0), 0, {"M2": 1}),
    "MU2": ((2, -4, 4, 0, 0), 0, {"M2": 1}),
    "N2": ((2, -3, 2, 1, 0), 0, {"M2": 1}),
    "NU2": ((2, -3, 4, -1, 0), 0, {"M2": 1}),
    "M2": ((2, -2, 2, 0, 0), 0, {"M2": 1}),
    "MA2": ((2, -2, 1, 0, 0), 0, {"M2": 1}),
    "MB2": ((2, -2, 3, 0, 0), 0, {"M2": 1}),
    "MKS2": ((2, -2, 4, 0, 0), 0, {"M2": 1, "K2": 1}),
    "LAMBDA2": ((2, -1, 0, 1, 0), 180, {"M2": 1}),
    "L2": ((2, -1, 2, -1, 0), 180, {"L2": 1}),
    "T2": ((2, 0, -1, 0, 1), 0, {}),
    "S2": ((2, 0, 0, 0, 0), 0, {}),
    "R2": ((2, 0, 1, 0, -1), 180, {}),
    "K2": ((2, 0, 2, 0, 0), 0, {"K2": 1}),
    "2SM2": ((2, 2, -2, 0, 0), 0, {"M2": -1}),
    "M3": ((3, -3, 3, 0, 0), 0, {"M2": 1.5}),
    "T3": ((3, 0, -1.5, 0, 0), 0, {}),
    "S3": ((3, 0, 0, 0, 0), 0, {}),
    "R3": ((3, 0, 1.5, 0, 0), 0, {}),
    "N4": ((4, -6, 4, 2, 0), 0, {"M2": 2}),
    "MN4": ((4, -5, 4, 1, 0), 0, {"M2": 2}),
    "M4": ((4, -4, 4, 0, 0), 0, {"M2": 2}),
    "MS4": ((4, -2, 2, 0, 0), 0, {"M2": 1}),
    "S4": ((4, 0, 0, 0, 0), 0, {}),
    "2MO5": ((5, -6, 5, 0, 0), 90, {"M2": 2, "O1": 1}),
    "2MK5": ((5, -4, 5, 0, 0), -90, {"M2": 2, "K1": 1}),
    "3N2": ((6, -9, 6, 3, 0), 0, {"M2": 3}),  # TICON "3N2" = N6 (85.319 deg/h), see SOURCES.md
    "M6": ((6, -6, 6, 0, 0), 0, {"M2": 3}),
    "2MS6": ((6, -4, 4, 0, 0), 0, {"M2": 2}),
    "3L2": ((6, -3, 6, -3, 0), 180, {"L2": 3}),  # 3 x L2 (88.585 deg/h), see SOURCES.md
    "M8": ((8, -8, 8, 0, 0), 0, {"M2": 4}),
}
# Rates [deg/h] of T, s, h, p, p1.
_RATES = np.array([15.0, 0.54901653, 0.04106864, 0.00464183, 0.00000196])


def _as_utc_ns(times_utc) -> np.ndarray:
    """Times (tz-aware any zone, or naive meaning UTC) -> int64 ns since the epoch, UTC."""
    idx = pd.DatetimeIndex(np.atleast_1d(pd.to_datetime(times_utc)))
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.as_unit("ns").asi8


def _astro(days: np.ndarray) -> dict[str, np.ndarray]:
    """Mean astronomical longitudes [deg] at ``days`` since J2000.0 (UTC ~ TT, < 0.01 deg)."""
    c = days / 36525.0
    s = 218.3164591 + 481267.88134236 * c - 0.0013268 * c**2 + c**3 / 538841.0
    h = 280.46645 + 36000.7697489 * c + 0.00030322 * c**2
    p = 83.3532430 + 4069.0137111 * c - 0.0103238 * c**2 - c**3 / 80053.0
    n = 125.0445550 - 1934.1361849 * c + 0.0020762 * c**2 + c**3 / 467410.0
    p1 = 282.93734 + 1.71945766667 * c + 0.00045688 * c**2
    # Mean solar hour angle + 180 deg: 0 h UTC -> 180 deg.
    t = 180.0 + 360.0 * ((days + 0.5) % 1.0)
    return {"T": t, "s": s, "h": h, "p": p, "N": n, "p1": p1}


def _nodal(days: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Schureman nodal factors f [1] and angles u [deg] of the base families."""
    a = _astro(days)
    n = a["N"] * _D2R
    i, w = 5.145 * _D2R, 23.452 * _D2R
    cos_i = np.cos(i) * np.cos(w) - np.sin(i) * np.sin(w) * np.cos(n)
    big_i = np.arccos(cos_i)
    e1 = np.arctan(np.cos(0.5 * (w - i)) / np.cos(0.5 * (w + i)) * np.tan(0.5 * n)) - 0.5 * n
    e2 = np.arctan(np.sin(0.5 * (w - i)) / np.sin(0.5 * (w + i)) * np.tan(0.5 * n)) - 0.5 * n
    xi, nu = -(e1 + e2), e1 - e2
    s2i, si = np.sin(2 * big_i), np.sin(big_i)
    nup = np.arctan(s2i * np.sin(nu) / (s2i * np.cos(nu) + 0.3347))
    nupp = 0.5 * np.arctan(si**2 * np.sin(2 * nu) / (si**2 * np.cos(2 * nu) + 0.0727))
    half = 0.5 * big_i
    f_m2 = np.cos(half) ** 4 / 0.9154
    u_m2 = 2 * xi - 2 * nu
    big_p = a["p"] * _D2R - xi
    r = np.arctan(
        np.sin(2 * big_p) / (np.cos(half) ** 2 / np.sin(half) ** 2 / 6.0 - np.cos(2 * big_p))
    )
    inv_ra = np.sqrt(1 - 12 * np.tan(half) ** 2 * np.cos(2 * big_p) + 36 * np.tan(half) ** 4)
    r2d = 180.0 / np.pi
    return {
        "MM": ((2.0 / 3.0 - si**2) / 0.5021, 0.0 * n),
        "MF": (si**2 / 0.1578, -2 * xi * r2d),
        "O1": (si * np.cos(half) ** 2 / 0.3800, (2 * xi - nu) * r2d),
        "J1": (s2i / 0.7214, -nu * r2d),
        "OO1": (si * np.sin(half) ** 2 / 0.0164, (-2 * xi - nu) * r2d),
        "K1": (np.sqrt(0.8965 * s2i**2 + 0.6001 * s2i * np.cos(nu) + 0.1006), -nup * r2d),
        "M2": (f_m2, u_m2 * r2d),
        "K2": (
            np.sqrt(19.0444 * si**4 + 2.7702 * si**2 * np.cos(2 * nu) + 0.0981),
            -2 * nupp * r2d,
        ),
        "L2": (f_m2 * inv_ra, (u_m2 - r) * r2d),
    }


def _constituent_arrays(st: StationConstants):
    """Doodson matrix (n, 5), offsets (n,), families, checked against the table speeds."""
    unknown = [n for n in st.names if n not in _TABLE]
    if unknown:
        raise DataFormatError(
            f"tide station {st.port}: constituents {unknown} are not supported by forecast.features.tides; "
            f"supported: {', '.join(sorted(_TABLE))}"
        )
    dood = np.array([_TABLE[n][0] for n in st.names], dtype=float)
    offset = np.array([_TABLE[n][1] for n in st.names], dtype=float)
    speed = dood @ _RATES
    bad = np.abs(speed - st.speed) > 2e-4
    if bad.any():
        raise DataFormatError(
            f"tide station {st.port}: speeds of {[st.names[k] for k in np.flatnonzero(bad)]} in "
            f"constituents.csv differ from their Doodson numbers; check the table"
        )
    return dood, offset, [_TABLE[n][2] for n in st.names]


def _level_ns(st: StationConstants, ns: np.ndarray, chunk: int = 20000) -> np.ndarray:
    """Water level [m above chart datum] at UTC times given as int64 ns."""
    dood, offset, fams = _constituent_arrays(st)
    amp, g = st.amplitude, st.phase
    out = np.empty(ns.shape, dtype=float)
    days_all = (ns - _J2000_NS) / _NS_PER_DAY
    # Nodal corrections once per UTC day (they vary over 18.6 years).
    day_index = np.floor(days_all + 0.5)  # UTC day number (J2000 epoch at noon)
    uniq, inverse = np.unique(day_index, return_inverse=True)
    base = _nodal(uniq)
    f = np.ones((len(uniq), len(amp)))
    u = np.zeros((len(uniq), len(amp)))
    for k, fam in enumerate(fams):
        for b, power in fam.items():
            f[:, k] *= base[b][0] ** power
            u[:, k] += power * base[b][1]
    for start in range(0, len(ns), chunk):
        sl = slice(start, start + chunk)
        a = _astro(days_all[sl])
        astro = np.stack([a["T"], a["s"], a["h"], a["p"], a["p1"]], axis=1)
        v = astro @ dood.T + offset
        inv = inverse[sl]
        arg = (v + u[inv] - g) * _D2R
        out[sl] = st.z0 + (f[inv] * amp * np.cos(arg)).sum(axis=1)
    return out


def predict_level(station: str, times_utc) -> pd.Series:
    """Predicted water level at a tide station.

    Parameters
    ----------
    station : str
        ``dover``, ``deal``, ``calais``, ``boulogne`` or ``dunkerque``.
    times_utc : array-like of datetime
        Times; tz-aware (any zone, converted) or naive meaning UTC.

    Returns
    -------
    pandas.Series
        ``tide_level`` [m above chart datum], indexed by the UTC times (naive), with
        ``attrs["station"]``, ``attrs["attribution"]``.

    Raises
    ------
    ConfigError
        Unknown station (the message lists the valid ones).
    """
    st = load_station(station)
    ns = _as_utc_ns(times_utc)
    level = _level_ns(st, ns)
    out = pd.Series(
        level,
        index=pd.DatetimeIndex(ns.astype("datetime64[ns]"), name="time_utc"),
        name="tide_level",
    )
    out.attrs.update(
        {"station": st.port, "units": "m above chart datum", "attribution": ATTRIBUTION}
    )
    return out


def _parabola_vertex(
    y0: np.ndarray, y1: np.ndarray, y2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Offset of the vertex [in steps, -1..1] of the parabola through 3 equally spaced points."""
    denom = y0 - 2 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(denom != 0, 0.5 * (y0 - y2) / denom, 0.0)
    return np.clip(frac, -1, 1), denom


def _extrema(st: StationConstants, t0_ns: int, t1_ns: int, step_min: float = 20.0) -> pd.DataFrame:
    """HW/LW between two UTC times [ns]: grid search, then two parabolic refinements."""
    step = int(step_min * 60e9)
    grid = np.arange(t0_ns - 2 * step, t1_ns + 3 * step, step, dtype=np.int64)
    h = _level_ns(st, grid)
    sgn = np.sign(np.diff(h))
    turn = np.flatnonzero(sgn[:-1] != sgn[1:]) + 1
    turn = turn[(sgn[turn - 1] != 0)]
    frac, denom = _parabola_vertex(h[turn - 1], h[turn], h[turn + 1])
    kind = np.where(denom < 0, "HW", "LW")
    t = grid[turn] + np.round(frac * step).astype(np.int64)
    # second pass on a 4-min stencil around the first estimate
    fine = int(4 * 60e9)
    y = _level_ns(st, np.concatenate([t - fine, t, t + fine]))
    n = len(t)
    frac2, _ = _parabola_vertex(y[:n], y[n : 2 * n], y[2 * n :])
    t = t + np.round(frac2 * fine).astype(np.int64)
    height = _level_ns(st, t)
    df = pd.DataFrame({"time_utc": t, "kind": kind, "height": height})
    df = _clean_extrema(df)
    keep = (df["time_utc"] >= t0_ns) & (df["time_utc"] <= t1_ns)
    df = df[keep].reset_index(drop=True)
    df["time_utc"] = pd.to_datetime(df["time_utc"].to_numpy().astype("datetime64[ns]"))
    return df


def _clean_extrema(df: pd.DataFrame, min_rise: float = 0.15) -> pd.DataFrame:
    """Drop wiggles (stands): neighbouring HW/LW pairs differing by < ``min_rise`` [m]."""
    t = df["time_utc"].to_numpy()
    k = df["kind"].to_numpy()
    h = df["height"].to_numpy()
    keep = list(range(len(df)))
    changed = True
    while changed and len(keep) > 1:
        changed = False
        hh = h[keep]
        diffs = np.abs(np.diff(hh))
        j = int(np.argmin(diffs))
        if diffs[j] < min_rise:
            # remove the pair (j, j+1): a small secondary extremum
            del keep[j : j + 2]
            changed = True
    # enforce alternation: of two equal kinds in a row keep the more extreme
    out: list[int] = []
    for idx in keep:
        if out and k[out[-1]] == k[idx]:
            prev = out[-1]
            better = h[idx] > h[prev] if k[idx] == "HW" else h[idx] < h[prev]
            if better:
                out[-1] = idx
        else:
            out.append(idx)
    return pd.DataFrame({"time_utc": t[out], "kind": k[out], "height": h[out]})


def _to_utc_ns_scalar(value, name: str) -> int:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{name} must be a date or time (e.g. 2026-11-01); got {value!r}"
        ) from exc
    if ts is pd.NaT:
        raise ConfigError(f"{name} must be a date or time; got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.as_unit("ns").value


def high_low_waters(station: str, start, end) -> pd.DataFrame:
    """High and low waters between two times.

    Parameters
    ----------
    station : str
        Tide station key (see :data:`forecast.sources.tides.STATIONS`).
    start, end : date-like
        Interval (naive = UTC). A bare ``end`` date includes that whole day.

    Returns
    -------
    pandas.DataFrame
        Columns ``time_utc`` (naive UTC), ``kind`` (``HW``/``LW``), ``height``
        [m above chart datum], in time order. Times are accurate to about a minute
        against the harmonic curve (20-min grid, two parabolic refinements).
    """
    st = load_station(station)
    t0 = _to_utc_ns_scalar(start, "start")
    t1 = _to_utc_ns_scalar(end, "end")
    if isinstance(end, str) and len(end.strip()) == 10:
        t1 += int(86400e9) - 1
    if t1 < t0:
        raise ConfigError(f"end {end} is before start {start}; swap them")
    df = _extrema(st, t0, t1)
    df.attrs.update(
        {"station": st.port, "units": {"height": "m above chart datum"}, "attribution": ATTRIBUTION}
    )
    return df


def spring_neap_ranges(station: str) -> tuple[float, float]:
    """(mean neap range, mean spring range) [m] of a station.

    The spring range is MHWS - MLWS from ``datums.csv``; the datums table has no neap
    levels, so the neap range is the classical ``2 (A_M2 - A_S2)`` from the constants
    (the spring analogue ``2 (A_M2 + A_S2)`` matches MHWS - MLWS within 0.05 m at Dover).
    """
    st = load_station(station)
    a = dict(zip(st.names, st.amplitude, strict=True))
    spring = st.datums["MHWS"] - st.datums["MLWS"]
    neap = 2 * (a["M2"] - a["S2"])
    return float(neap), float(spring)


def night_tide_features(dates, station: str = "dover") -> pd.DataFrame:
    """Tide features of the night feeding each Home Office day D.

    The night is the package's one definition (:mod:`forecast.features.night`): D-1 22:00
    to D 14:00 UK time, half-open, 15-17 h long. Only high and low waters inside that
    window count; a high water at 18:00 on D-1, dark as it may be in winter, belongs to
    no night. At these stations the window always holds at least one HW and one LW (the
    longest gap between two HW or two LW is about 13 h, the shortest window 15 h;
    ``tests/test_tides.py`` checks every night of a year at every station).

    Parameters
    ----------
    dates : array-like of dates
        Home Office days D (UK calendar days, naive).
    station : str
        Tide station key; ``dover`` by default.

    Returns
    -------
    pandas.DataFrame
        Index ``date``; columns ``hw_in_darkness`` [count of HW inside the night and in
        nautical darkness, sun more than 12 deg below the horizon at the departure
        coast], ``first_dark_hw_utc`` (the first such HW, naive UTC, NaT if none),
        ``tidal_range`` [m] (highest HW minus lowest LW inside the night; NaN if the
        night held no HW or no LW, which the check above has never found) and
        ``spring_neap_index`` [1] = (range - mean neap range) / (mean spring range -
        mean neap range), clipped to 0..1 (NaN with the range).
    """
    idx = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(dates))).normalize()
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    idx = idx.rename("date")
    cols = ["hw_in_darkness", "first_dark_hw_utc", "tidal_range", "spring_neap_index"]
    if len(idx) == 0:
        return pd.DataFrame(columns=cols, index=idx)
    st = load_station(station)
    starts, ends = night_bounds_utc(idx)
    t0 = starts.min().tz_localize(None).as_unit("ns").value
    t1 = ends.max().tz_localize(None).as_unit("ns").value
    ext = _extrema(st, t0, t1)
    night, inside = night_of(ext["time_utc"])
    ext["date"] = night
    ext = ext[inside]
    hw = ext[ext["kind"] == "HW"].copy()
    hw["dark"] = is_dark(hw["time_utc"], DEFAULT_LAT, DEFAULT_LON, depression_deg=12)
    dark_hw = hw[hw["dark"]]
    n_dark = dark_hw.groupby("date").size()
    first_dark = dark_hw.groupby("date")["time_utc"].min()
    hw_max = hw.groupby("date")["height"].max()
    lw_min = ext[ext["kind"] == "LW"].groupby("date")["height"].min()
    rng = hw_max - lw_min
    neap, spring = spring_neap_ranges(station)
    out = pd.DataFrame(index=idx)
    out["hw_in_darkness"] = n_dark.reindex(idx).fillna(0).astype(int).to_numpy()
    out["first_dark_hw_utc"] = pd.to_datetime(first_dark.reindex(idx).to_numpy()).astype(
        "datetime64[ns]"
    )
    out["tidal_range"] = rng.reindex(idx).to_numpy()
    out["spring_neap_index"] = np.clip((out["tidal_range"] - neap) / (spring - neap), 0.0, 1.0)
    out.attrs.update(
        {
            "station": st.port,
            "night": NIGHT_TEXT,
            "neap_range_m": neap,
            "spring_range_m": spring,
            "attribution": ATTRIBUTION,
        }
    )
    return out
