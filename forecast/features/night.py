"""The crossing night: the one definition of the departure window feeding a Home Office day.

The Home Office counts the people detected arriving on the UK calendar day D. Boats that
arrive on D leave the French coast in the night before and the morning of D, so every
per-night quantity of the package (hourly weather aggregates, tide and sky features, the
outlook's drivers, busy-night alerts, the page) is taken over one window:

    the night feeding day D: D-1 22:00 to D 14:00 UK time (``Europe/London`` wall clock),
    half-open ``[start, end)``.

The bounds are hours relative to D 00:00 UK wall-clock time (:data:`NIGHT_START_H`,
:data:`NIGHT_END_H`). Because they are wall-clock hours, the window is 16 h long on most
nights, 15 h on the night the clocks go forward (last Sunday of March) and 17 h on the
night they go back (last Sunday of October). 22:00 and 14:00 never fall in the hour the
clocks change (01:00-02:00), so the default bounds are never ambiguous; other bounds
that do fall there take the first (summer-time) reading of a repeated hour and the
first valid time after a skipped one.

Consecutive windows do not overlap (14:00-22:00 UK belongs to no night), so every
instant lies in at most one night.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast import config
from forecast.errors import ConfigError

__all__ = [
    "NIGHT_END_H",
    "NIGHT_START_H",
    "NIGHT_TEXT",
    "TIME_ZONE_LABEL",
    "check_window",
    "night_bounds_utc",
    "night_of",
]

#: Start of the night feeding day D [h relative to D 00:00 UK wall clock]: D-1 22:00.
NIGHT_START_H = -2.0
#: End of the night feeding day D [h relative to D 00:00 UK wall clock]: D 14:00 (excluded).
NIGHT_END_H = 14.0
#: The definition in words, for help texts, notes and docs.
NIGHT_TEXT = "the night feeding day D: D-1 22:00 to D 14:00 UK time"
#: Label printed after UK wall-clock times ("03:10 UK").
TIME_ZONE_LABEL = "UK"


def check_window(start_h: float, end_h: float) -> None:
    """Refuse a window that is empty, longer than 24 h or outside D-1 00:00 .. D+1 00:00.

    Parameters
    ----------
    start_h, end_h : float
        Window bounds [h relative to D 00:00 UK wall clock].

    Raises
    ------
    ConfigError
        Naming the bounds and the default.
    """
    span = end_h - start_h
    if not 0 < span <= 24 or start_h < -24 or end_h > 24:
        raise ConfigError(
            f"departure window [{start_h}, {end_h}) h around D 00:00 UK time is invalid; it "
            "must be 1-24 h long and lie within D-1 00:00 .. D+1 00:00 (default "
            f"{NIGHT_START_H:g} .. {NIGHT_END_H:g}, i.e. D-1 22:00 .. D 14:00)."
        )


def _index(values) -> pd.DatetimeIndex:
    """A scalar or array-like of times as a DatetimeIndex (time zones kept)."""
    if isinstance(values, str) or np.ndim(values) == 0:
        values = [values]
    return pd.DatetimeIndex(pd.to_datetime(values))


def _dates(dates) -> pd.DatetimeIndex:
    idx = _index(dates)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    if idx.hasnans:
        raise ConfigError("night dates contain a missing value (NaT); drop it first")
    return pd.DatetimeIndex(idx.normalize(), name="date").as_unit("ns")


def _uk_to_utc(local: pd.DatetimeIndex) -> pd.DatetimeIndex:
    first = np.ones(len(local), dtype=bool)  # a repeated hour: its first (summer-time) reading
    aware = local.tz_localize(config.UK_TZ, ambiguous=first, nonexistent="shift_forward")
    return aware.tz_convert("UTC").as_unit("ns")


def night_bounds_utc(
    dates, start_h: float = NIGHT_START_H, end_h: float = NIGHT_END_H
) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Start and end of the night feeding each day D, as tz-aware UTC times.

    Parameters
    ----------
    dates : array-like of dates
        Home Office days D (UK calendar days; times of day and time zones are dropped).
    start_h, end_h : float
        Window bounds [h relative to D 00:00 UK wall clock]; the package's definition by
        default (D-1 22:00 .. D 14:00).

    Returns
    -------
    start, end : pandas.DatetimeIndex
        Tz-aware UTC; the night is ``[start, end)``. ``end - start`` is 16 h, or 15 h / 17 h
        on the nights the clocks go forward / back.
    """
    check_window(start_h, end_h)
    idx = _dates(dates)
    start = _uk_to_utc(idx + pd.Timedelta(hours=start_h))
    end = _uk_to_utc(idx + pd.Timedelta(hours=end_h))
    return start, end


def night_of(
    times_utc, start_h: float = NIGHT_START_H, end_h: float = NIGHT_END_H
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The day D whose night holds each time, and whether the time is in a night at all.

    Parameters
    ----------
    times_utc : array-like of datetime
        Tz-aware (any zone, converted) or naive meaning UTC.
    start_h, end_h : float
        Window bounds [h relative to D 00:00 UK wall clock]; the package's definition by
        default.

    Returns
    -------
    days : pandas.DatetimeIndex
        Naive dates D, named ``date`` (for times outside every night, the day whose
        window would have started most recently; mask them with ``inside``).
    inside : numpy.ndarray of bool
        False for times in no night (14:00-22:00 UK with the default bounds).
    """
    check_window(start_h, end_h)
    t = _index(times_utc)
    t = t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")
    local = t.tz_convert(config.UK_TZ).tz_localize(None)
    shifted = local - pd.Timedelta(hours=start_h)
    day = shifted.normalize()
    into = (shifted - day) / pd.Timedelta(hours=1)
    inside = np.asarray(into < (end_h - start_h))
    return pd.DatetimeIndex(day, name="date").as_unit("ns"), inside
