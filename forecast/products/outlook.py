"""What users read: the weekly outlook and busy-night alerts.

This module turns a prediction frame from :func:`forecast.model.pipeline.forecast_days`
(one row per Home Office day with ``p_any``, ``rag``, ``expected_people``,
``q10``/``q50``/``q90``, ``p_gt_<N>``, ``expected_boats`` and driver columns) into an
*outlook*: a plain, JSON-serialisable dictionary that the terminal table, CSV, JSON,
the alert command and the HTML page all read. Everything here is pure (no network, no
model fitting); :mod:`forecast.commands.outlook` wires it to the data.

The night of day D is the departure window feeding the Home Office day D, the package's
one definition (:mod:`forecast.features.night`): D-1 22:00 to D 14:00 UK time. Times in
the drivers are UK wall-clock times labelled "UK", rounded to the minute exactly as
``forecast tides`` prints them, and only events inside that night are named.

Week totals
-----------
Quantiles of a sum are not sums of quantiles. The week's range is computed by Monte
Carlo from a per-day predictive distribution rebuilt from the contract columns
(documented approximation, :func:`day_distribution`): a hurdle distribution with
``P(0) = 1 - p_any`` and, given a crossing, a gamma distribution with mean
``expected_people / p_any`` whose shape is chosen so that the day's 90 % quantile
matches the model's ``q90``. Days are drawn independently given the weather (the
weather itself is treated as known), with a fixed ``random_state``, so the week's
80 % range is reproducible.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy import special

from forecast import config, fileio
from forecast.errors import ConfigError, DataFormatError
from forecast.features.night import TIME_ZONE_LABEL, night_bounds_utc
from forecast.products.skill import day_skill_text, skill_summary

#: Version of the saved outlook JSON layout.
SCHEMA_VERSION = 1

#: Days shown with normal confidence; later days (up to :data:`MAX_HORIZON`) are lower.
CONFIDENT_DAYS = 7

#: Furthest day shown (Open-Meteo forecasts reach 16 days).
MAX_HORIZON = 16

#: Columns every prediction frame must have (CONTRACTS.md, pipeline).
REQUIRED_COLUMNS = ("p_any", "rag", "expected_people", "q10", "q50", "q90", "expected_boats")

#: Monte Carlo draws for week totals and year-end bands.
N_DRAWS = 20_000

OPEN_METEO_ATTRIBUTION = {
    "text": "Weather data by Open-Meteo.com (CC BY 4.0); marine data DWD/ECMWF via Open-Meteo",
    "url": "https://open-meteo.com/",
}
KNMI_ATTRIBUTION = {
    "text": "Source: KNMI (Royal Netherlands Meteorological Institute), daily station data, "
    "open data (CC BY 4.0); the stations used are named with the weather and the scenarios",
    "url": "https://www.knmi.nl/",
}
HOME_OFFICE_ATTRIBUTION = {
    "text": (
        "Arrivals: Home Office, Migrants detected crossing the English Channel in small "
        "boats (provisional), Open Government Licence v3.0"
    ),
    "url": "https://www.gov.uk/government/publications/migrants-detected-crossing-the-english-channel-in-small-boats",
}

COMPASS = (
    "N",
    "NNE",
    "NE",
    "ENE",
    "E",
    "ESE",
    "SE",
    "SSE",
    "S",
    "SSW",
    "SW",
    "WSW",
    "W",
    "WNW",
    "NW",
    "NNW",
)


# ---------------------------------------------------------------------------
# time
# ---------------------------------------------------------------------------


def _utc(now_utc: dt.datetime | None) -> dt.datetime:
    now = now_utc or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ConfigError(f"now_utc={now!r} has no time zone; pass a tz-aware UTC datetime")
    return now.astimezone(dt.UTC)


def night_window_utc(day: pd.Timestamp | dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Departure window feeding Home Office day ``day``, as tz-aware UTC times.

    The package's night (:func:`forecast.features.night.night_bounds_utc`): D-1 22:00 to
    D 14:00 in ``Europe/London``, half-open; 15 or 17 h on the nights the clocks change.
    """
    start, end = night_bounds_utc([pd.Timestamp(day)])
    return start[0], end[0]


def first_outlook_day(now_utc: dt.datetime | None = None) -> pd.Timestamp:
    """The first Home Office day whose departure window has not yet closed.

    Today (UK date) until 14:00 UK time, tomorrow afterwards.
    """
    now = pd.Timestamp(_utc(now_utc))
    today = pd.Timestamp(now.tz_convert(config.UK_TZ).date())
    _, end = night_window_utc(today)
    return today if now < end else today + pd.Timedelta(days=1)


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def check_prediction(pred: pd.DataFrame, thresholds: Iterable[int] = ()) -> None:
    """Raise :class:`DataFormatError` unless ``pred`` has the contract's columns."""
    missing = [c for c in REQUIRED_COLUMNS if c not in pred.columns]
    missing += [f"p_gt_{n}" for n in thresholds if f"p_gt_{n}" not in pred.columns]
    if missing:
        raise DataFormatError(
            f"prediction frame lacks column(s) {missing} (has {list(pred.columns)}); "
            "forecast.model.pipeline.forecast_days must return the columns listed in docs/CONTRACTS.md."
        )
    if not isinstance(pred.index, pd.DatetimeIndex):
        raise DataFormatError(
            f"prediction frame index is {type(pred.index).__name__}; expected a DatetimeIndex "
            "named 'date' (one row per Home Office day)."
        )


# ---------------------------------------------------------------------------
# per-day distributions and totals
# ---------------------------------------------------------------------------


def day_distribution(
    p_any: float, expected: float, q90: float | None
) -> tuple[float, float, float]:
    """Hurdle-gamma approximation of one day's predictive distribution [people].

    Parameters
    ----------
    p_any : float
        Probability of at least one crossing [1].
    expected : float
        Expected people [people] (unconditional mean).
    q90 : float or None
        The model's 90 % quantile [people]; used to set the spread.

    Returns
    -------
    (p, shape, scale) : tuple of float
        ``P(people > 0) = p``; given a crossing, people ~ Gamma(shape, scale) with mean
        ``expected / p``. ``shape`` matches ``q90`` when the 90 % quantile falls in the
        positive part (``p > 0.1``), else 1 (exponential).
    """
    p = float(np.clip(p_any, 0.0, 1.0))
    if p <= 1e-9 or not expected > 0:
        return 0.0, 1.0, 0.0
    mean = float(expected) / p
    shape = 1.0
    if q90 is not None and np.isfinite(q90) and p > 0.1 + 1e-6 and q90 > 0:
        u = 1.0 - 0.1 / p  # conditional quantile level of the unconditional q90

        def gap(log_k):
            k = np.exp(log_k)
            return special.gammaincinv(k, u) * mean / k - float(q90)

        grid = np.linspace(math.log(0.05), math.log(200.0), 61)
        g = gap(grid)
        change = np.nonzero(np.sign(g[:-1]) * np.sign(g[1:]) <= 0)[0]
        if len(change):  # the least skewed gamma that matches: bisect the last bracket
            lo, hi = grid[change[-1]], grid[change[-1] + 1]
            g_lo = gap(lo)
            for _ in range(30):
                mid = 0.5 * (lo + hi)
                g_mid = gap(mid)
                if g_lo * g_mid <= 0:
                    hi = mid
                else:
                    lo, g_lo = mid, g_mid
            shape = math.exp(0.5 * (lo + hi))
        else:  # no gamma with this mean reaches q90: the closest one
            shape = math.exp(grid[int(np.argmin(np.abs(g)))])
    return p, shape, mean / shape


def sample_days(pred: pd.DataFrame, n_draws: int = N_DRAWS, random_state: int = 0) -> np.ndarray:
    """Draws from each day's predictive distribution, shape ``(n_draws, n_days)`` [people].

    Uses :func:`day_distribution` per row; ``random_state`` fixes the draws.
    """
    rng = np.random.default_rng(random_state)
    out = np.zeros((n_draws, len(pred)))
    for j, (_, row) in enumerate(pred.iterrows()):
        p, shape, scale = day_distribution(row["p_any"], row["expected_people"], row.get("q90"))
        if p == 0.0:
            continue
        hit = rng.random(n_draws) < p
        out[hit, j] = rng.gamma(shape, scale, size=int(hit.sum()))
    return out


def total_distribution(
    pred: pd.DataFrame,
    n_draws: int = N_DRAWS,
    random_state: int = 0,
    levels=(0.1, 0.5, 0.9),
    draws: np.ndarray | None = None,
    method: str | None = None,
    thresholds: Iterable[int] = (),
) -> dict:
    """Predictive mean and quantiles of the total people over the rows of ``pred``.

    Monte Carlo from :func:`sample_days` (independent days given the weather), or from
    ``draws`` when given: rows are joint draws of the days (shape ``(n, len(pred))``
    [people]), e.g. an ensemble's, where each row follows one weather member through all
    days (:mod:`forecast.products.ensemble`).

    Returns
    -------
    dict
        ``mean``, ``q10``, ``q50``, ``q90`` [people] (rounded), ``n_days``, ``method``,
        and ``p_busy_night`` {N: P(at least one of the days has more than N people)} for
        each of ``thresholds``.
    """
    thresholds = tuple(int(n) for n in thresholds)
    if len(pred) == 0:
        return {"n_days": 0, "mean": 0, "q10": 0, "q50": 0, "q90": 0, "method": "no days"}
    if draws is None:
        draws = sample_days(pred, n_draws=n_draws, random_state=random_state)
        method = method or (
            f"{n_draws:,} simulated periods (random_state={random_state}), each day drawn from "
            "its own forecast: no crossing with probability 1 − P(any), else a gamma-distributed "
            "number matching the day's expected figure and the top of its 80 % range; days are "
            "treated as independent given the weather"
        )
    draws = np.asarray(draws, dtype=float)
    if draws.ndim != 2 or draws.shape[1] != len(pred):
        raise DataFormatError(
            f"draws of shape {draws.shape} do not match the {len(pred)} days of the prediction; "
            "give one column per day."
        )
    totals = draws.sum(axis=1)
    qs = np.quantile(totals, levels)
    out = {"n_days": len(pred), "mean": int(round(float(pred["expected_people"].sum())))}
    for level, q in zip(levels, qs, strict=True):
        out[f"q{int(round(level * 100))}"] = int(round(float(q)))
    out["method"] = method or f"{len(draws):,} joint draws of the days"
    if thresholds:
        out["p_busy_night"] = {
            str(n): round(float((draws > n).any(axis=1).mean()), 3) for n in thresholds
        }
    return out


# ---------------------------------------------------------------------------
# drivers in words
# ---------------------------------------------------------------------------


def compass(direction_deg: float) -> str:
    """16-point compass name of a direction [deg] (direction the wind blows from)."""
    return COMPASS[int((float(direction_deg) % 360) / 22.5 + 0.5) % 16]


def _num(row: pd.Series, *names: str) -> float | None:
    for name in names:
        if name in row.index:
            value = row[name]
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            if np.isfinite(value):
                return value
    return None


def _utc_ts(value) -> pd.Timestamp | None:
    """A time (naive = UTC) as a tz-aware UTC Timestamp, None when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def clock_uk(value) -> str | None:
    """A time (naive = UTC) as UK wall-clock ``"HH:MM UK"``, None when missing.

    Rounded to the nearest minute in UTC and then converted, exactly as
    ``forecast tides`` prints its times, so the two always agree.
    """
    ts = _utc_ts(value)
    if ts is None:
        return None
    local = ts.round("min").tz_convert(config.UK_TZ)
    return f"{local:%H:%M} {TIME_ZONE_LABEL}"


def _in_night(value, day) -> bool:
    """Whether a time lies in the night feeding ``day`` (True when ``day`` is not a date)."""
    ts = _utc_ts(value)
    if ts is None:
        return False
    if not isinstance(day, dt.date | np.datetime64) or pd.isna(day):
        return True
    start, end = night_window_utc(pd.Timestamp(day))
    return bool(start <= ts < end)


def drivers_text(row: pd.Series) -> str:
    """The main drivers of one day's forecast in words.

    Uses the driver columns the pipeline provides (glossary names), e.g.
    ``"waves 0.3 m, wind 6 kn NE, high water 03:10 UK in darkness, after 9 stormy days"``.
    Times are UK wall clock, labelled, rounded as ``forecast tides`` prints them
    (:func:`clock_uk`), and named only when inside the night feeding the row's day
    (``row.name``, when it is a date). A ready-made ``drivers`` text column, when
    present, is used as is.
    """
    if "drivers" in row.index and isinstance(row["drivers"], str) and row["drivers"].strip():
        return row["drivers"].strip()
    parts: list[str] = []
    wave = _num(row, "wave_height_max", "wave_height_mean", "wave_height")
    if wave is not None:
        parts.append(f"waves {wave:.1f} m")
    wind = _num(row, "wind_speed_10m_mean", "wind_speed_10m_max", "wind_speed_10m")
    if wind is not None:
        text = f"wind {wind:.0f} kn"
        direction = _num(row, "wind_direction_10m_mean", "wind_direction_10m")
        if direction is None:
            s, c = _num(row, "wind_dir_sin"), _num(row, "wind_dir_cos")
            if s is not None and c is not None and (s != 0 or c != 0):
                direction = math.degrees(math.atan2(s, c)) % 360
        if direction is not None:
            text += f" {compass(direction)}"
        parts.append(text)
    gust = _num(row, "wind_gusts_10m_max")
    if gust is not None and wind is not None and gust >= wind + 8:
        parts.append(f"gusts {gust:.0f} kn")
    calm = _num(row, "calm_hours")
    if calm is not None:
        parts.append(f"{calm:.0f} calm hours")
    rain = _num(row, "precipitation_sum")
    if rain is not None and rain >= 2:
        parts.append(f"rain {rain:.0f} mm")
    hw_dark = _num(row, "hw_in_darkness")
    hw_at = row["first_dark_hw_utc"] if "first_dark_hw_utc" in row.index else None
    hw_time = clock_uk(hw_at) if _in_night(hw_at, row.name) else None
    if hw_dark is not None and hw_dark > 0:
        parts.append(f"high water {hw_time} in darkness" if hw_time else "high water in darkness")
    moon = _num(row, "moonlit_fraction")
    if moon is not None and moon >= 0.5:
        parts.append(f"moonlit {moon:.0%} of the dark")
    stormy = _num(row, "days_since_calm", "stormy_days")
    if stormy is not None and stormy >= 2 and (wind is not None or wave is not None):
        parts.append(f"after {stormy:.0f} stormy days")
    if not parts:
        return "season and recent history only (no weather)"
    return ", ".join(parts)


# ---------------------------------------------------------------------------
# year to date
# ---------------------------------------------------------------------------


def year_to_date(arrivals: pd.DataFrame, up_to: pd.Timestamp) -> dict:
    """People so far this year up to and including ``up_to``, with earlier years' same span.

    Returns
    -------
    dict
        ``year``, ``from``, ``to`` (ISO dates), ``people`` [people], ``boats`` [boats],
        ``same_span`` {year: people over 1 Jan .. same day-of-year} for earlier years.
    """
    up_to = pd.Timestamp(up_to).normalize()
    year = up_to.year
    start = pd.Timestamp(year=year, month=1, day=1)
    span = arrivals.loc[start:up_to]
    out = {
        "year": year,
        "from": start.date().isoformat(),
        "to": up_to.date().isoformat(),
        "people": int(span["people"].sum()),
        "boats": int(span["boats"].sum()),
        "same_span": {},
    }
    first_year = arrivals.index[0].year
    for y in range(first_year, year):
        end_y = same_day(up_to, y)
        part = arrivals.loc[pd.Timestamp(year=y, month=1, day=1) : end_y, "people"]
        if len(part) and arrivals.index[0] <= pd.Timestamp(year=y, month=1, day=1):
            out["same_span"][str(y)] = int(part.sum())
    return out


def same_day(day: pd.Timestamp, year: int) -> pd.Timestamp:
    """``day`` moved to ``year`` (29 February becomes 28 February)."""
    day = pd.Timestamp(day)
    if (
        day.month == 2
        and day.day == 29
        and not pd.Timestamp(year=year, month=1, day=1).is_leap_year
    ):
        return pd.Timestamp(year=year, month=2, day=28)
    return pd.Timestamp(year=year, month=day.month, day=day.day)


# ---------------------------------------------------------------------------
# the outlook
# ---------------------------------------------------------------------------


def staleness_notice(
    arrivals_end: pd.Timestamp,
    first_day: pd.Timestamp,
    assumption: str | None = None,
    issued_day: pd.Timestamp | None = None,
) -> str | None:
    """Plain-words warning when arrivals end well before the outlook's first day.

    Returns None when the data end at most 3 days before ``first_day`` (the Home
    Office normally publishes with a day's delay, plus weekends). The data's age is
    counted as ``forecast arrivals show`` counts it: days from the last day covered to
    the (UK) day of issue, ``issued_day`` (default: the day before ``first_day``).
    """
    end = pd.Timestamp(arrivals_end).normalize()
    first = pd.Timestamp(first_day).normalize()
    issued = (
        pd.Timestamp(issued_day).normalize()
        if issued_day is not None
        else first - pd.Timedelta(days=1)
    )
    gap = (first - end).days - 1
    if gap <= 3:
        return None
    age = (issued - end).days
    text = (
        f"OLD DATA: arrivals data end {end.date()}, {age} days ({age / 7:.0f} weeks) before "
        f"this outlook was issued on {issued.date()} (the data age 'forecast arrivals show' "
        f"reports); the {gap} days from {(end + pd.Timedelta(days=1)).date()} to "
        f"{(first - pd.Timedelta(days=1)).date()} are unknown to the model."
    )
    text += " " + (
        assumption
        or "Recent-history terms (pent-up demand, recent level) are taken from the last known "
        "data as if they were current; the figures are mostly season and weather."
    )
    text += " Update with 'forecast arrivals update' (needs internet)."
    return text


def stale_assumption(
    origin: str, h0: int, h1: int, trained: Iterable[int] | None, weather_source: str
) -> str:
    """What the forecast assumes when it is made ``h0``..``h1`` days after the last data.

    ``trained`` is the ``[first, last]`` lead time [days] the model was trained for
    (``provenance['train_horizons']``); None when unknown.
    """
    what = "season and calendar" if weather_source == "none" else "season and weather"
    text = (
        f"Each day is forecast from the last known day ({origin}), {h0}–{h1} days ahead; "
        f"nothing that happened after {origin} is used."
    )
    trained = list(trained) if trained is not None else None
    if trained and trained[0] <= h0 and trained[-1] >= h1:
        text += (
            f" The model was trained for that lead time (every past day learnt from what was "
            f"known {trained[0]}–{trained[-1]} days before it), so recent crossings count for "
            f"little: these figures are mostly {what}."
        )
    else:
        upto = f"{trained[-1]}" if trained else "7"
        text += (
            f" The model was trained on lead times of up to {upto} days, so recent-history terms "
            f"are used beyond what it learnt: read these as rough {what} figures."
        )
    return text


def clean(value):
    """Make numpy/pandas scalars JSON-friendly."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def day_rows(
    pred: pd.DataFrame,
    first_day: pd.Timestamp,
    thresholds: Iterable[int],
    confident_days: int = CONFIDENT_DAYS,
    actual: pd.DataFrame | None = None,
    skill: dict[int, dict] | None = None,
) -> list[dict]:
    """One dict per day of ``pred`` for the outlook (rounded, with drivers in words).

    ``day`` numbers the days of the outlook from 1; ``lead_days`` (when the prediction
    has a ``horizon`` column) is how many days after the last arrivals data the day lies.
    ``skill`` (:func:`forecast.products.skill.skill_by_lead`) gives each day ``skill``: the backtest scores at its
    lead time (None beyond the leads measured). Ensemble predictions
    (:mod:`forecast.products.ensemble`) add ``members``, ``calm_members`` and ``q25``/``q75``.
    """
    thresholds = tuple(thresholds)
    rows = []
    for date, row in pred.iterrows():
        horizon = (pd.Timestamp(date) - pd.Timestamp(first_day)).days + 1
        item = {
            "date": pd.Timestamp(date).date().isoformat(),
            "weekday": pd.Timestamp(date).strftime("%a"),
            "day": horizon,
            "confidence": "normal" if horizon <= confident_days else "lower",
            "rag": str(row["rag"]),
            "p_any": round(float(row["p_any"]), 3),
            "expected_people": round(float(row["expected_people"]), 1),
            "q10": int(round(float(row["q10"]))),
            "q50": int(round(float(row["q50"]))),
            "q90": int(round(float(row["q90"]))),
            "expected_boats": round(float(row["expected_boats"]), 1),
            "drivers": drivers_text(row),
        }
        if "horizon" in row.index and np.isfinite(float(row["horizon"])):
            item["lead_days"] = int(row["horizon"])  # days after the last arrivals data
        if skill is not None:
            lead = item.get("lead_days", horizon)
            scores = skill.get(int(lead))
            item["skill"] = (
                None
                if scores is None
                else {k: v for k, v in scores.items() if k not in ("basis", "fallback")}
            )
        for key in ("members", "calm_members"):
            if key in row.index and np.isfinite(float(row[key])):
                item[key] = int(row[key])
        for n in thresholds:
            item[f"p_gt_{n}"] = round(float(row[f"p_gt_{n}"]), 3)
        if actual is not None and pd.Timestamp(date) in actual.index:
            item["actual_people"] = int(actual.loc[pd.Timestamp(date), "people"])
            item["actual_boats"] = int(actual.loc[pd.Timestamp(date), "boats"])
        rows.append(item)
    return rows


def build_outlook(
    pred: pd.DataFrame,
    *,
    first_day: pd.Timestamp,
    arrivals: pd.DataFrame,
    issued_utc: dt.datetime,
    thresholds: Iterable[int] = config.BUSY_THRESHOLDS,
    weather: dict | None = None,
    mode: str = "live",
    actual: pd.DataFrame | None = None,
    year_end: dict | None = None,
    random_state: int = 0,
    notices: Iterable[str] = (),
    draws: np.ndarray | None = None,
    ensemble: dict | None = None,
    skill: dict[int, dict] | None = None,
) -> dict:
    """Assemble the outlook dictionary from a prediction frame.

    Parameters
    ----------
    pred : DataFrame
        Output of :func:`forecast.model.pipeline.forecast_days` for the outlook days.
    first_day : Timestamp
        First Home Office day of the outlook.
    arrivals : DataFrame
        Arrivals known when the outlook is issued (``attrs['end_date']`` or last index).
    issued_utc : datetime
        Issue time (tz-aware UTC).
    thresholds : iterable of int
        Busy-day thresholds [people]; ``pred`` must have ``p_gt_<N>`` for each.
    weather : dict, optional
        ``source`` (``openmeteo``/``knmi``/``none``), ``label``, ``run``, ``missing``.
    mode : {"live", "as_of"}
        ``as_of`` replays a past date (``actual`` then holds what happened).
    actual : DataFrame, optional
        Observed arrivals for the outlook days (as-of replays).
    year_end : dict, optional
        Year-end scenario bands (:func:`forecast.products.scenarios.year_end_bands`).
    random_state : int
        Seed of the Monte Carlo week total.
    notices : iterable of str
        Extra notices to print prominently.
    draws : ndarray, optional
        Joint draws of the days (``(n, len(pred))`` [people]) for the week total and the
        busy-night probabilities, e.g. an ensemble mixture's
        (:func:`forecast.products.ensemble.ensemble_prediction`); default independent
        draws of each day (:func:`sample_days`).
    ensemble : dict, optional
        What the ensemble was (``label``, ``n_members``, ``kind``, ``method``), shown
        with the weather.
    skill : dict of int to dict, optional
        Backtest skill by lead time (:func:`forecast.products.skill.skill_by_lead`): each day gets the skill at
        its lead, the outlook the whole table (``skill_by_lead``).

    Returns
    -------
    dict
        JSON-serialisable outlook (see ``docs/outlook.md``).
    """
    thresholds = tuple(int(n) for n in thresholds)
    check_prediction(pred, thresholds)
    first_day = pd.Timestamp(first_day).normalize()
    weather = dict(weather or {"source": "none"})
    provenance = dict(pred.attrs.get("provenance", {}))
    arrivals_end = pd.Timestamp(arrivals.attrs.get("end_date") or arrivals.index[-1])
    in_week = (pred.index >= first_day) & (
        pred.index <= first_day + pd.Timedelta(days=CONFIDENT_DAYS - 1)
    )
    week = pred.loc[in_week]
    week_draws = None
    method = None
    if draws is not None:
        draws = np.asarray(draws, dtype=float)
        week_draws = draws[:, np.asarray(in_week)]
        method = (ensemble or {}).get("method")
    week_total = total_distribution(
        week,
        random_state=random_state,
        draws=week_draws,
        method=method,
        thresholds=thresholds,
    )
    week_total["from"] = first_day.date().isoformat()
    week_total["to"] = (first_day + pd.Timedelta(days=CONFIDENT_DAYS - 1)).date().isoformat()
    if actual is not None:
        seen = actual.reindex(week.index)["people"]
        if seen.notna().all() and len(seen):
            week_total["actual"] = int(seen.sum())
    all_notices = list(notices)
    assumption = provenance.get("assumption")
    if assumption is None and "horizon" in pred.columns and len(pred):
        origin = provenance.get("origin") or arrivals_end.date().isoformat()
        h0, h1 = int(pred["horizon"].min()), int(pred["horizon"].max())
        assumption = stale_assumption(
            origin, h0, h1, provenance.get("train_horizons"), weather.get("source", "none")
        )
    issued_day = (
        pd.Timestamp(_utc(issued_utc)).tz_convert(config.UK_TZ).tz_localize(None).normalize()
    )
    stale = staleness_notice(arrivals_end, first_day, assumption, issued_day)
    if stale:
        all_notices.insert(0, stale)
    if weather.get("source") == "none":
        text = (
            "NO WEATHER FORECAST: this is a weather-free outlook (season and recent history only)."
        )
        if weather.get("missing"):
            text += " " + weather["missing"]
        all_notices.append(text)
    attribution = [HOME_OFFICE_ATTRIBUTION]
    if weather.get("source") == "openmeteo":
        attribution.append(OPEN_METEO_ATTRIBUTION)
    if weather.get("source") == "knmi" or (year_end and year_end.get("weather_source") == "knmi"):
        attribution.append(KNMI_ATTRIBUTION)
    out = {
        "schema": SCHEMA_VERSION,
        "mode": mode,
        "issued_utc": pd.Timestamp(_utc(issued_utc)).isoformat(),
        "first_day": first_day.date().isoformat(),
        "last_day": pd.Timestamp(pred.index[-1]).date().isoformat() if len(pred) else None,
        "thresholds": list(thresholds),
        "lead_days": (
            [int(pred["horizon"].min()), int(pred["horizon"].max())]
            if "horizon" in pred.columns and len(pred)
            else None
        ),
        "arrivals": {
            "end_date": arrivals_end.date().isoformat(),
            "source": arrivals.attrs.get("source", ""),
            "gap_days": max(0, (first_day - arrivals_end).days - 1),
        },
        "weather": weather,
        "days": day_rows(pred, first_day, thresholds, actual=actual, skill=skill),
        "week": week_total,
        "ytd": year_to_date(arrivals, min(arrivals_end, first_day - pd.Timedelta(days=1))),
        "year_end": year_end,
        "provenance": provenance,
        "notices": all_notices,
        "attribution": attribution,
        "changes": None,
    }
    joint = draws if draws is not None else sample_days(pred, random_state=random_state + 1)
    out["busy_joint"] = busy_joint(joint, thresholds)
    if ensemble:
        out["ensemble"] = dict(ensemble)
    if skill is not None:
        out["skill_by_lead"] = skill_summary(skill)
    return clean(out)


def busy_joint(draws: np.ndarray, thresholds: Iterable[int]) -> dict[str, list[float]]:
    """P(at least one of the first k nights has more than N people), k = 1 .. n_days.

    ``draws`` are joint draws of the days (rows; an ensemble's follow one member through
    all days). Returns ``{str(N): [p_1, ..., p_n]}`` (non-decreasing in k).
    """
    draws = np.asarray(draws, dtype=float)
    out = {}
    for n in thresholds:
        over = np.maximum.accumulate(draws > int(n), axis=1) if draws.size else draws > n
        out[str(int(n))] = [round(float(p), 3) for p in over.mean(axis=0)]
    return out


def nights_in_window(outlook: dict, now_utc: dt.datetime | None, hours: float) -> list[str]:
    """Dates of the outlook's nights whose departure window overlaps ``[now, now + hours]``."""
    now = pd.Timestamp(_utc(now_utc))
    until = now + pd.Timedelta(hours=hours)
    out = []
    for d in outlook["days"]:
        start, end = night_window_utc(pd.Timestamp(d["date"]))
        if end > now and start < until:
            out.append(d["date"])
    return out


def p_any_busy_night(outlook: dict, threshold: int, dates: list[str]) -> float | None:
    """P(more than ``threshold`` people on at least one of ``dates``), drawn jointly.

    ``dates`` must be the outlook's first nights (as :func:`nights_in_window` gives
    them); None when the outlook has no joint draws for that threshold.
    """
    table = (outlook.get("busy_joint") or {}).get(str(int(threshold)))
    if not table or not dates:
        return None
    first = [d["date"] for d in outlook["days"][: len(dates)]]
    if first != list(dates) or len(dates) > len(table):
        return None
    return float(table[len(dates) - 1])


# ---------------------------------------------------------------------------
# what changed since the previous outlook
# ---------------------------------------------------------------------------


def outlooks_dir() -> Path:
    """Folder of saved live outlooks: ``config.data_dir()/outlooks``."""
    return config.data_dir() / "outlooks"


def save_outlook(outlook: dict, folder: Path | None = None) -> Path:
    """Write ``outlook`` as ``outlook-<issued>.json`` (temp file + rename); return the path."""
    folder = Path(folder or outlooks_dir())
    stamp = pd.Timestamp(outlook["issued_utc"]).strftime("%Y%m%dT%H%M%SZ")
    return fileio.write_text(
        folder / f"outlook-{stamp}.json", json.dumps(outlook, indent=1), "outlook"
    )


def read_outlook(path: str | Path) -> dict:
    """Read a saved outlook JSON, checking its layout version."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise DataFormatError(
            f"cannot read outlook {path}: {exc}. Delete it or re-run 'forecast outlook'."
        ) from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION or "days" not in data:
        raise DataFormatError(
            f"{path} is not an outlook of schema {SCHEMA_VERSION} (written by 'forecast outlook'); "
            "delete it or re-run 'forecast outlook'."
        )
    return data


def latest_outlook(folder: Path | None = None, before_utc: str | None = None) -> dict | None:
    """The most recent saved live outlook (issued strictly before ``before_utc`` if given)."""
    folder = Path(folder or outlooks_dir())
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("outlook-*.json"), reverse=True):
        try:
            data = read_outlook(path)
        except DataFormatError:
            continue
        if before_utc is None or pd.Timestamp(data["issued_utc"]) < pd.Timestamp(before_utc):
            data["_path"] = str(path)
            return data
    return None


def compare_outlooks(current: dict, previous: dict | None) -> dict | None:
    """What moved between ``previous`` and ``current`` for the days both cover.

    Returns
    -------
    dict or None
        ``previous_issued``, ``days`` (per shared day: ``date``, ``rag_before``, ``rag_now``,
        ``expected_before``, ``expected_now``, ``change``), ``week_mean_before`` (same
        7 days when the previous covered them) and ``summary`` (words).
    """
    if previous is None:
        return None
    before = {d["date"]: d for d in previous.get("days", [])}
    days = []
    for d in current["days"]:
        b = before.get(d["date"])
        if b is None:
            continue
        days.append(
            {
                "date": d["date"],
                "rag_before": b["rag"],
                "rag_now": d["rag"],
                "expected_before": b["expected_people"],
                "expected_now": d["expected_people"],
                "change": round(d["expected_people"] - b["expected_people"], 1),
            }
        )
    when = str(previous["issued_utc"])[:16].replace("T", " ")
    moved = [d for d in days if d["rag_before"] != d["rag_now"]]
    big = [d for d in days if abs(d["change"]) >= max(20.0, 0.25 * max(d["expected_before"], 1.0))]
    if not days:
        summary = f"the previous outlook ({previous['issued_utc']}) covers none of these days"
    elif not moved and not big:
        summary = f"no material change since the outlook of {when} UTC"
    else:
        bits = [f"{d['date']} {d['rag_before']}→{d['rag_now']}" for d in moved]
        bits += [f"{d['date']} {d['change']:+.0f} people" for d in big if d not in moved]
        summary = f"since the outlook of {when} UTC: " + "; ".join(bits)
    return {"previous_issued": previous["issued_utc"], "days": days, "summary": summary}


# ---------------------------------------------------------------------------
# busy-night alerts
# ---------------------------------------------------------------------------


def busy_nights(
    outlook: dict,
    threshold: int,
    min_probability: float,
    now_utc: dt.datetime | None = None,
    hours: float = 72,
) -> list[dict]:
    """Nights in the next ``hours`` whose P(people > threshold) exceeds ``min_probability``.

    A night counts when its departure window (D-1 22:00 .. D 14:00 UK,
    :func:`night_window_utc`) overlaps ``[now, now + hours]``.

    Raises
    ------
    ConfigError
        If ``threshold`` is not one of the outlook's thresholds or a value is out of range.
    """
    if not 0 <= min_probability < 1:
        raise ConfigError(f"--min-probability {min_probability} must be in [0, 1)")
    if hours <= 0:
        raise ConfigError(f"--hours {hours} must be positive")
    key = f"p_gt_{int(threshold)}"
    now = pd.Timestamp(_utc(now_utc))
    until = now + pd.Timedelta(hours=hours)
    out = []
    for d in outlook["days"]:
        if key not in d:
            raise ConfigError(
                f"the outlook has no P(people > {threshold}) (thresholds {outlook['thresholds']}); "
                f"pass --threshold {threshold} to the command so it is computed"
            )
        start, end = night_window_utc(pd.Timestamp(d["date"]))
        if end <= now or start >= until:
            continue
        if d[key] > min_probability:
            out.append(
                {
                    "date": d["date"],
                    "night": f"{start.tz_convert(config.UK_TZ):%a %d %b %H:%M} – "
                    f"{end.tz_convert(config.UK_TZ):%a %d %b %H:%M} UK",
                    "window_start_utc": start.isoformat(),
                    "window_end_utc": end.isoformat(),
                    "probability": d[key],
                    "threshold": int(threshold),
                    "rag": d["rag"],
                    "expected_people": d["expected_people"],
                    "range_80": [d["q10"], d["q90"]],
                    "drivers": d["drivers"],
                    **({"lead_days": d["lead_days"]} if "lead_days" in d else {}),
                    **({"skill": d["skill"]} if "skill" in d else {}),
                }
            )
    return out


# ---------------------------------------------------------------------------
# text, CSV, JSON
# ---------------------------------------------------------------------------

RAG_MARK = {"red": "RED", "amber": "AMBER", "green": "green"}


def _fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def provenance_lines(outlook: dict) -> list[str]:
    """'Made from' lines: arrivals, weather, model and its backtest skill."""
    a = outlook["arrivals"]
    w = outlook["weather"]
    p = outlook.get("provenance") or {}
    lines = [f"Arrivals data up to {a['end_date']} ({a.get('source') or 'arrivals'})"]
    wtext = w.get("label") or w.get("source", "none")
    if w.get("run"):
        wtext += f", run {w['run']}"
    lines.append(f"Weather: {wtext}")
    ens = outlook.get("ensemble")
    if ens:
        lines.append(f"Ensemble: {ens.get('method') or ens.get('label', '')}")
    if p.get("model_trained") or p.get("model"):
        lines.append("Model: " + model_text(p))
    lines.append("Backtest skill: " + skill_line(outlook))
    return lines


def model_text(provenance: dict) -> str:
    """The model's training in words, e.g. 'trained on 3,051 days (2018-04-14 to ...)'."""
    raw = str(provenance.get("model_trained", ""))
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)\.\.(\d{4}-\d\d-\d\d) \((\d+) days, (\w+)\)", raw)
    if not m:
        return f"{provenance.get('model', 'default')}, trained {raw or 'on unknown data'}"
    start, end, n, source = m.groups()
    with_weather = {
        "none": "without weather",
        "knmi": "with KNMI station weather",
        "openmeteo": "with Open-Meteo weather",
    }.get(source, f"with {source} weather")
    text = f"trained on {int(n):,} days ({start} to {end}) {with_weather}"
    hz = provenance.get("train_horizons")
    if hz:
        text += f", for forecasts {hz[0]}–{hz[-1]} days after the last data"
    bands = provenance.get("lead_bands") or []
    if len(bands) > 1:
        words = [f"day {b[0]}" if len(b) == 1 else f"days {b[0]}–{b[-1]}" for b in bands if len(b)]
        text += f"; one model for each of {' and '.join(words)}"
    return text


def lead_name(h: int) -> str:
    """Backtest lead ``h`` (arrivals to D-h, forecast for D) named by what a user holds.

    The Home Office publishes day D-1's figure on the morning of D, so ``h = 1`` is the
    forecast read on the morning of the day itself.
    """
    if h == 1:
        return "same-day forecasts: issued the morning of the day, arrivals to the day before"
    if h == 2:
        return "next-day forecasts: issued the morning before, arrivals to two days before"
    return f"forecasts issued {h - 1} days ahead, arrivals to {h} days before"


def skill_line(outlook: dict) -> str:
    """The backtest skill in words, with a caveat when this outlook looks further ahead."""
    skill = (outlook.get("provenance") or {}).get("backtest_skill")
    text = skill_text(skill)
    lead = outlook.get("lead_days")
    if lead and lead[0] > MAX_HORIZON:
        return (
            f"not measured at this lead: this outlook is {lead[0]}–{lead[1]} days ahead of the "
            f"last data, and backtests cover leads of 1–{MAX_HORIZON} days. For comparison, "
            f"same-day forecasts scored: {text}"
        )
    if isinstance(skill, dict) and "horizon" in skill and lead and lead[1] > int(skill["horizon"]):
        text += (
            f". This outlook is {lead[0]}–{lead[1]} days ahead of the last data, "
            f"so expect less skill than that"
        )
    return text


def skill_text(skill: dict | str | None) -> str:
    """Backtest headline scores in plain words (technical name in brackets).

    Known keys (from the standard backtest's ``headline``) get sentences; other numeric
    keys are shown as ``key value``; text keys such as ``weather_label`` are skipped.
    """
    if not skill:
        return "not available"
    if isinstance(skill, str):
        return skill

    def num(key):
        value = skill.get(key)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok and np.isfinite(value) else None

    bits = []
    mae, mae_skill = num("mae_median"), num("mae_median_skill_vs_zero")
    point = "the median forecast"
    if mae is None:
        mae, mae_skill, point = num("mae"), num("mae_skill_vs_zero"), "the mean forecast"
    if mae is not None:
        text = f"typical error {mae:.0f} people a day ({point}; mean absolute error)"
        if mae_skill is not None:
            word = "smaller" if mae_skill >= 0 else "larger"
            text += f", {abs(mae_skill):.0%} {word} than forecasting zero"
        bits.append(text)
    bss = num("bss_any_vs_climatology_month")
    if bss is not None:
        word = "better" if bss >= 0 else "worse"
        bits.append(
            f"chance of any crossing {abs(bss):.0%} {word} than the monthly average "
            f"(Brier skill {bss:+.2f})"
        )
    auc = num("auc_gt_300")
    if auc is not None:
        bits.append(
            f"a night with more than 300 people is ranked above a quieter one "
            f"{auc:.0%} of the time (AUC {auc:.2f})"
        )
    cov = num("coverage_80")
    if cov is not None:
        bits.append(f"80 % ranges held the actual figure on {cov:.0%} of days")
    known = {
        "mae",
        "mae_median",
        "mae_skill_vs_zero",
        "mae_median_skill_vs_zero",
        "mae_skill_vs_best_rule",
        "mae_median_skill_vs_best_rule",
        "coverage_80_crossing_days",
        "coverage_80_zero_days",
        "share_above_q90",
        "share_below_q10",
        "reliability_slope_any",
        "reliability_slope_gt_300",
        "mae_skill_vs_last_week",
        "bss_any_vs_climatology_month",
        "auc_gt_300",
        "coverage_80",
        "auc_any",
        "crps",
        "n",
        "horizon",
        "brier_any",
        "coverage_50",
        "coverage_95",
    }
    for k, v in skill.items():
        if k in known or isinstance(v, dict | list | str | bool) or v is None:
            continue
        bits.append(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}")
    if not bits:
        return "not available"
    where = []
    if "n" in skill:
        where.append(f"{int(skill['n']):,} past days")
    if "horizon" in skill:
        where.append(lead_name(int(skill["horizon"])))
    return (f"({', '.join(where)}) " if where else "") + "; ".join(bits)


#: Marks a busy night in the terminal table (P(more than the first threshold) >= BUSY_P).
BUSY_MARK = " !"
#: A night is flagged busy when P(people > the first threshold) reaches this [1].
BUSY_P = 0.2


def is_busy(day: dict, thresholds) -> bool:
    """Whether ``day`` is a busy night: P(> the first threshold) >= :data:`BUSY_P`."""
    return bool(thresholds) and day.get(f"p_gt_{thresholds[0]}", 0.0) >= BUSY_P


def rag_rule_text(thresholds) -> str:
    """The red/amber/green rule and the busy-night flag, in words."""
    text = (
        f"RAG follows the Home Office convention on the chance of any crossing: RED above "
        f"{config.RAG_RED_ABOVE:.0%}, green below {config.RAG_GREEN_BELOW:.0%}, AMBER between; "
        "it says nothing about how many people."
    )
    if thresholds:
        text += (
            f" Busy nights are flagged separately ('{BUSY_MARK.strip()}': P(>{thresholds[0]}) "
            f"at least {BUSY_P:.0%}). People: median and 80 % range (10 %–90 %); mean = "
            "expected value, above the median on skewed days."
        )
    return text


def format_table(outlook: dict) -> str:
    """Readable terminal text of the outlook."""
    thr = outlook["thresholds"]
    lines: list[str] = []
    title = "Small-boat crossings outlook"
    if outlook["mode"] == "as_of":
        title += f" as it would have been issued on {outlook['first_day']} (replay)"
    lines.append(f"{title}, issued {outlook['issued_utc'][:16].replace('T', ' ')} UTC")
    for n in outlook["notices"]:
        lines.append(f"!! {n}")
    lines.append("")
    as_of = outlook["mode"] == "as_of"
    header = ["day", "date", "RAG", "P(any)", "people: median (80% range)", "mean"]
    header += [f"P(>{n})" for n in thr] + (["actual"] if as_of else ["boats"])
    with_skill = any("skill" in d for d in outlook["days"])
    header += (["skill at lead"] if with_skill else []) + ["drivers"]
    rows = []
    for d in outlook["days"]:
        mark = "" if d["confidence"] == "normal" else "*"
        r = [
            d["weekday"] + mark,
            d["date"],
            RAG_MARK.get(d["rag"], d["rag"]),
            f"{d['p_any']:.0%}",
            f"{d['q50']} ({d['q10']}–{d['q90']})",
            f"{d['expected_people']:.0f}",
        ]
        r += [
            f"{d[f'p_gt_{n}']:.0%}" + (BUSY_MARK if k == 0 and is_busy(d, thr) else "")
            for k, n in enumerate(thr)
        ]
        if as_of:
            r.append(str(d.get("actual_people", "?")))
        else:
            r.append(f"{d['expected_boats']:.0f}")
        if with_skill:
            r.append(day_skill_text(d.get("skill")))
        r.append(d["drivers"])
        rows.append(r)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    fmt = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    lines.append(fmt(header))
    lines.append(fmt(["-" * w for w in widths]))
    lines.extend(fmt(r) for r in rows)
    lines.append(rag_rule_text(thr))
    if any(d["confidence"] == "lower" for d in outlook["days"]):
        lines.append(
            f"* beyond day {CONFIDENT_DAYS}: lower confidence (weather forecast skill falls with lead time)"
        )
    lines.append("")
    w = outlook["week"]
    text = (
        f"Week {w['from']} – {w['to']}: expected {_fmt_int(w['mean'])} people "
        f"(80 % range {_fmt_int(w['q10'])}–{_fmt_int(w['q90'])})"
    )
    if "actual" in w:
        text += f"; actual {_fmt_int(w['actual'])}"
    lines.append(text)
    for n, p in (w.get("p_busy_night") or {}).items():
        lines.append(
            f"Chance of at least one night with more than {_fmt_int(int(n))} people this week: "
            f"{p:.0%}" + (" (members drawn jointly across days)" if outlook.get("ensemble") else "")
        )
    y = outlook["ytd"]
    ytd = f"Year to date {y['year']} (to {y['to']}): {_fmt_int(y['people'])} people"
    prev = sorted(y["same_span"].items())[-2:]
    if prev:
        ytd += " (same span " + ", ".join(f"{k}: {_fmt_int(v)}" for k, v in prev) + ")"
    lines.append(ytd)
    ye = outlook.get("year_end")
    if ye:
        lines.append(year_end_text(ye))
    if outlook.get("changes"):
        lines.append(f"Changes: {outlook['changes']['summary']}")
    lines.append("")
    lines.append("Made from:")
    lines.extend(f"  {s}" for s in provenance_lines(outlook))
    sk = outlook.get("skill_by_lead")
    if with_skill and sk:
        lines.append(
            "  Skill at lead: AUC = how often a day with crossings was ranked above one "
            "without (0.5 = chance, 1 = always); Brier skill = how much better P(any) was "
            f"than the monthly average (0 = no better, 1 = perfect); {sk['basis']}"
        )
    for a in outlook["attribution"]:
        lines.append(f"  {a['text']} ({a['url']})")
    return "\n".join(lines)


def year_end_text(ye: dict) -> str:
    """Year-end scenario bands as planners quote them: low / central / high."""
    b = ye["bands"]
    if not ye.get("remaining_days"):
        return f"Year-end {ye['year']}: {_fmt_int(ye['known'])} people (the year is complete)"
    return (
        f"Year-end {ye['year']} scenarios: low {_fmt_int(b['low'])}, central "
        f"{_fmt_int(b['median'])}, high {_fmt_int(b['high'])} people ({_fmt_int(ye['known'])} "
        f"known to {ye['known_to']}; the other {ye['remaining_days']} days modelled under each "
        f"of {ye['n_years']} past years' weather; the spread is the weather's only)"
        + (f"; actual {_fmt_int(ye['actual'])}" if "actual" in ye else "")
    )


def to_frame(outlook: dict) -> pd.DataFrame:
    """The outlook's days as a table (one row per day).

    A day's ``skill`` (backtest scores at its lead) becomes ``skill_<score>`` columns.
    """
    rows = []
    for d in outlook["days"]:
        row = {k: v for k, v in d.items() if k != "skill"}
        for k, v in (d.get("skill") or {}).items():
            row[f"skill_{k}"] = v
        rows.append(row)
    return pd.DataFrame(rows).set_index("date")


def to_csv(outlook: dict) -> str:
    """CSV of the days (one row per day; provenance in leading ``#`` comment lines)."""
    head = [
        f"# issued_utc={outlook['issued_utc']}",
        f"# arrivals_end={outlook['arrivals']['end_date']}",
    ]
    head.append(f"# weather={outlook['weather'].get('source')}")
    if outlook.get("ensemble"):
        ens = outlook["ensemble"]
        head.append(f"# ensemble={ens.get('label')} ({ens.get('n_members')} members)")
    if outlook.get("skill_by_lead"):
        head.append(f"# skill_basis={outlook['skill_by_lead']['basis']}")
    if outlook.get("lead_days"):
        lead = outlook["lead_days"]
        head.append(f"# lead_days={lead[0]}-{lead[1]} (days after the last arrivals data)")
    head += [f"# notice: {n.partition('. ')[0]}" for n in outlook.get("notices", [])]
    return "\n".join(head) + "\n" + to_frame(outlook).to_csv(lineterminator="\n")


def to_json(outlook: dict) -> str:
    """The outlook as JSON text."""
    return json.dumps({k: v for k, v in outlook.items() if not k.startswith("_")}, indent=1)


def issued_now(now_utc: dt.datetime | None = None) -> dt.datetime:
    """Issue time (UTC, whole seconds)."""
    return _utc(now_utc).replace(microsecond=0)


def uk_time(ts: str) -> str:
    """An ISO UTC time as UK local text."""
    return pd.Timestamp(ts).tz_convert(ZoneInfo(config.UK_TZ)).strftime("%a %d %b %H:%M")


def busy_nights_all(outlook: dict, min_probability: float = 0.2) -> list[dict]:
    """Every day of the outlook whose P(people > first threshold) exceeds ``min_probability``.

    Unlike :func:`busy_nights` this ignores the clock (for the page and replays).
    """
    thr = outlook["thresholds"][0]
    first = pd.Timestamp(outlook["days"][0]["date"]) if outlook["days"] else None
    if first is None:
        return []
    start, _ = night_window_utc(first)
    hours = 24.0 * len(outlook["days"])
    return busy_nights(outlook, thr, min_probability, now_utc=start.to_pydatetime(), hours=hours)
