"""Weather scenarios: year-end bands and weather attribution ("2025 with 2023's weather").

Both views run the forecasting pipeline over a span of days with *another year's
observed weather* put in place of the real (or unknown) weather, day of year by day of
year. The weather is KNMI daily station weather (by default the bundled pair: 310
Vlissingen on the coast and 340 Woensdrecht inland, observed, to 2025-06-30); every
result names the stations it used.

- :func:`year_end_bands`: the days from the end of the arrivals data to 31 December,
  once per past year's weather; known year-to-date plus each run's expected total gives
  planners' low / central / high year-end figures.
- :func:`weather_swap`: a past period modelled with its own weather and with another
  year's weather, next to what actually happened, plus arrivals per red day, so that a
  reader can separate the weather from everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from forecast import config
from forecast.errors import ConfigError
from forecast.products.outlook import same_day, sample_days, total_distribution
from forecast.products.predictor import CachedPredictor

#: Signature of :func:`forecast.model.pipeline.forecast_days`.
Predictor = Callable[..., pd.DataFrame]

#: Label of station weather whose frame carries none.
KNMI_LABEL = "KNMI station weather, observed (regional proxy, not Strait weather)"


def weather_label(weather: pd.DataFrame) -> str:
    """What the scenario weather is, from the frame (names the stations actually used)."""
    return str(weather.attrs.get("source") or KNMI_LABEL)


def default_predictor() -> Predictor:
    """The cached pipeline (:class:`forecast.products.predictor.CachedPredictor`)."""
    return CachedPredictor()


#: Days of weather before the first target day that the features look back on (KNMI
#: previous-day terms, 7-day calm-day counts).
LEAD_DAYS = 8


def _with_lead(days: pd.DatetimeIndex, lead_days: int) -> pd.DatetimeIndex:
    days = pd.DatetimeIndex(days)
    return pd.date_range(days[0] - pd.Timedelta(days=lead_days), days[-1], freq="D", name="date")


def shift_weather(
    weather: pd.DataFrame, weather_year: int, days: pd.DatetimeIndex, lead_days: int = LEAD_DAYS
) -> pd.DataFrame:
    """Daily weather of ``weather_year`` placed on ``days`` by calendar day.

    Parameters
    ----------
    weather : DataFrame
        Daily weather indexed by ``date`` (e.g. :func:`forecast.sources.knmi.load_knmi`).
    weather_year : int
        Year whose weather is used.
    days : DatetimeIndex
        Target days (consecutive).
    lead_days : int
        Days before ``days[0]`` also filled, for features that look back.

    Returns
    -------
    DataFrame
        Indexed by ``days`` plus the lead days (name ``date``); 29 February takes 28 February's weather in
        non-leap years. ``attrs['source']`` says which year's weather it is.

    Raises
    ------
    ConfigError
        If ``weather`` lacks any of the needed days of ``weather_year``.
    """
    days = _with_lead(days, lead_days)
    offset = days[-1].year - int(weather_year)
    src = pd.DatetimeIndex([same_day(d, d.year - offset) for d in days])
    missing = src.difference(observed_days(weather))
    if len(missing):
        raise ConfigError(
            f"weather year {weather_year} lacks {len(missing)} needed day(s), first "
            f"{missing[0].date()} (the weather covers {weather.index[0].date()} .. "
            f"{weather.index[-1].date()}); choose a year inside that span."
        )
    out = weather.loc[src].copy()
    out.index = pd.DatetimeIndex(days, name="date")
    out.attrs = dict(weather.attrs)
    out.attrs["source"] = (
        f"{weather.attrs.get('source', KNMI_LABEL)}; weather of {weather_year} placed on {days[0].year}"
    )
    out.attrs["weather_year"] = weather_year
    return out


def observed_days(weather: pd.DataFrame) -> pd.DatetimeIndex:
    """Days with the primary station's wind observed (a joined frame has rows where only
    another station observed, e.g. 340 before 310's record starts on 2017-10-01)."""
    if "wind_speed_10m_mean" not in weather.columns:
        return pd.DatetimeIndex(weather.index)
    return pd.DatetimeIndex(weather.index[weather["wind_speed_10m_mean"].notna()])


def covered_years(weather: pd.DataFrame, days: pd.DatetimeIndex) -> list[int]:
    """Years whose weather covers every calendar day of ``days`` (and the lead days)."""
    days = _with_lead(days, LEAD_DAYS)
    have = observed_days(weather)
    years = []
    for y in range(weather.index[0].year, weather.index[-1].year + 1):
        offset = days[-1].year - y
        src = pd.DatetimeIndex([same_day(d, d.year - offset) for d in days])
        if src.isin(have).all():
            years.append(y)
    return years


def year_end_bands(
    arrivals: pd.DataFrame,
    known_to: pd.Timestamp,
    weather: pd.DataFrame,
    *,
    origin: pd.Timestamp | None = None,
    weather_years: Iterable[int] | None = None,
    predict: Predictor | None = None,
    thresholds: Iterable[int] = config.BUSY_THRESHOLDS,
) -> dict:
    """Year-end totals under each past year's observed weather.

    Parameters
    ----------
    arrivals : DataFrame
        Known arrivals (only data up to ``known_to`` is used).
    known_to : Timestamp
        Last day with known arrivals; the remaining days of its year are modelled.
    weather : DataFrame
        Daily observed weather (KNMI proxy) to draw past years from.
    origin : Timestamp, optional
        Forecast origin passed to the pipeline: the last day whose arrivals are known
        (default ``known_to``).
    weather_years : iterable of int, optional
        Years to use (default: every year that covers the remaining days, before the
        target year).
    predict : callable, optional
        :func:`forecast.model.pipeline.forecast_days` or a stand-in with its signature.

    Returns
    -------
    dict
        ``year``, ``known_to``, ``known`` [people], ``remaining_days``, ``by_weather_year``
        {year: expected year-end total}, ``red_days`` {year: red days in the remaining
        span}, ``bands`` (``low``, ``median``, ``high``: min / median / max over the
        weather years), ``n_years``, ``weather_source``, ``label``, ``method``.
        ``None``-free; an empty scenario (year already complete) has ``remaining_days=0``.
    """
    predict = predict or default_predictor()
    known_to = pd.Timestamp(known_to).normalize()
    year = known_to.year
    end = pd.Timestamp(year=year, month=12, day=31)
    known = int(arrivals.loc[pd.Timestamp(year=year, month=1, day=1) : known_to, "people"].sum())
    days = pd.date_range(known_to + pd.Timedelta(days=1), end, freq="D", name="date")
    origin = pd.Timestamp(origin) if origin is not None else known_to
    history = arrivals.loc[:known_to]
    result = {
        "year": year,
        "known_to": known_to.date().isoformat(),
        "known": known,
        "remaining_days": len(days),
        "weather_source": "knmi",
        "label": weather_label(weather),
    }
    if len(days) == 0:
        result.update(
            by_weather_year={},
            red_days={},
            n_years=0,
            bands=dict.fromkeys(("low", "median", "high"), known),
        )
        return result
    years = (
        list(weather_years)
        if weather_years is not None
        else [y for y in covered_years(weather, days) if y < year]
    )
    if not years:
        raise ConfigError(
            f"no past year's weather covers {days[0].date()} .. {days[-1].date()} "
            f"(weather {weather.index[0].date()} .. {weather.index[-1].date()}); "
            "year-end scenarios need at least one."
        )
    totals, reds = {}, {}
    for y in years:
        w = shift_weather(weather, y, days)
        pred = predict(
            days,
            origin,
            weather_source="knmi",
            weather=w,
            arrivals=history,
            thresholds=tuple(thresholds),
        )
        totals[str(y)] = int(round(known + float(pred["expected_people"].sum())))
        reds[str(y)] = int((pred["rag"] == "red").sum())
    values = np.array(list(totals.values()), dtype=float)
    result.update(
        by_weather_year=totals,
        red_days=reds,
        n_years=len(years),
        bands={
            "low": int(values.min()),
            "median": int(round(float(np.median(values)))),
            "high": int(values.max()),
        },
        method=(
            f"known arrivals 1 Jan .. {known_to.date()} plus the model's expected people for "
            f"{days[0].date()} .. {days[-1].date()}, run once per past year's observed weather "
            f"({', '.join(str(y) for y in years)}; {weather_label(weather)})"
        ),
    )
    return result


#: Scenario runs: a forecast is issued every STEP_DAYS days from the arrivals known the
#: day before, with a model refitted every REFIT_DAYS days (never after the origin).
STEP_DAYS = 7
REFIT_DAYS = 28


def rolling_run(
    days: pd.DatetimeIndex,
    weather: pd.DataFrame,
    arrivals: pd.DataFrame,
    predict: Predictor,
    thresholds: tuple[int, ...],
    step_days: int = STEP_DAYS,
    refit_days: int = REFIT_DAYS,
) -> pd.DataFrame:
    """Forecasts of ``days`` issued every ``step_days`` from the arrivals known then.

    Each block of ``step_days`` days is forecast from the day before it (leads 1 ..
    ``step_days``), seeing only arrivals up to that origin; the model is refitted every
    ``refit_days`` days. Running the same schedule under two years' weather separates
    the weather from everything the arrivals history carries (the level of activity,
    capacity, season).
    """
    days = pd.DatetimeIndex(days)
    parts = []
    fit_origin = None
    for k in range(0, len(days), step_days):
        block = days[k : k + step_days]
        origin = block[0] - pd.Timedelta(days=1)
        if fit_origin is None or (origin - fit_origin).days >= refit_days:
            fit_origin = origin
        parts.append(
            predict(
                block,
                origin,
                weather_source="knmi",
                weather=weather,
                arrivals=arrivals.loc[:origin],
                thresholds=thresholds,
                fit_origin=fit_origin,
            )
        )
    return pd.concat(parts)


def weather_swap(
    year: int,
    weather_year: int,
    arrivals: pd.DataFrame,
    weather: pd.DataFrame,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    predict: Predictor | None = None,
    thresholds: Iterable[int] = config.BUSY_THRESHOLDS,
    random_state: int = 0,
    step_days: int = STEP_DAYS,
    refit_days: int = REFIT_DAYS,
) -> dict:
    """A period of ``year`` modelled with its own weather and with ``weather_year``'s.

    Method (:func:`rolling_run`): through the period, a 7-day forecast is issued every 7
    days from the arrivals known the day before (a model refitted every 28 days, never on
    later data), once with the year's own observed weather and once with
    ``weather_year``'s weather on the same calendar days. The arrivals history is the
    real one in both runs, so the two totals differ by the weather alone; under its own
    weather the model tracks the year's level of activity, which a single run from
    1 January (leads up to a year, no arrivals known after the origin) cannot.

    Returns
    -------
    dict
        ``year``, ``weather_year``, ``from``, ``to``, ``actual`` [people],
        ``own_weather`` and ``other_weather`` (each ``expected`` [people], ``range_80``
        [people] (10 % and 90 % quantiles of the period total), ``red_days``,
        ``amber_days``, ``green_days``, ``people_per_red_day``), ``weather_effect``
        [people] (other − own, modelled), ``scenario`` (``expected`` [people]: the actual
        total times the modelled ratio other/own, with ``range_80`` and ``weather_ratio``),
        ``actual_per_red_day`` [people per red day], ``label``, ``method``.

    Raises
    ------
    ConfigError
        If the period is empty or the weather or arrivals do not cover it.
    """
    predict = predict or default_predictor()
    start = pd.Timestamp(start) if start is not None else pd.Timestamp(year=year, month=1, day=1)
    end_default = min(
        pd.Timestamp(year=year, month=12, day=31),
        arrivals.index[-1],
        weather.index[-1]
        if weather.index[-1].year == year
        else pd.Timestamp(year=year, month=12, day=31),
    )
    end = pd.Timestamp(end) if end is not None else end_default
    if start.year != year or end < start:
        raise ConfigError(
            f"scenario period {start.date()} .. {end.date()} is not inside {year}; "
            f"the data cover arrivals to {arrivals.index[-1].date()} and weather to {weather.index[-1].date()}"
        )
    days = pd.date_range(start, end, freq="D", name="date")
    if not days.isin(arrivals.index).all():
        raise ConfigError(
            f"arrivals do not cover {days[0].date()} .. {days[-1].date()} (they run "
            f"{arrivals.index[0].date()} .. {arrivals.index[-1].date()}); choose a year inside them."
        )
    own = shift_weather(weather, year, days)
    other = shift_weather(weather, weather_year, days)
    origin = start - pd.Timedelta(days=1)
    thresholds = tuple(thresholds)
    runs, draws = {}, {}
    preds: dict[int, pd.DataFrame] = {}
    for name, w, wy in (("own_weather", own, year), ("other_weather", other, weather_year)):
        if wy not in preds:  # the same year's weather twice: one run
            preds[wy] = rolling_run(days, w, arrivals, predict, thresholds, step_days, refit_days)
        pred = preds[wy]
        red = int((pred["rag"] == "red").sum())
        expected = float(pred["expected_people"].sum())
        total = total_distribution(pred, random_state=random_state)
        draws[name] = sample_days(pred, random_state=random_state).sum(axis=1)
        runs[name] = {
            "weather_year": year if name == "own_weather" else weather_year,
            "expected": int(round(expected)),
            "range_80": [total["q10"], total["q90"]],
            "red_days": red,
            "amber_days": int((pred["rag"] == "amber").sum()),
            "green_days": int((pred["rag"] == "green").sum()),
            "people_per_red_day": round(expected / red, 1) if red else None,
        }
    actual = int(arrivals.loc[days, "people"].sum())
    red_own = runs["own_weather"]["red_days"]
    # The year's actual total scaled by the modelled weather ratio: the model's error in
    # the year's level cancels, so under its own weather the scenario is the actual.
    e_own = max(runs["own_weather"]["expected"], 1)
    ratio = runs["other_weather"]["expected"] / e_own
    ratio_draws = draws["other_weather"] / np.maximum(draws["own_weather"], 1.0)
    lo, hi = np.quantile(actual * ratio_draws, [0.1, 0.9])
    scenario = {
        "expected": int(round(actual * ratio)),
        "range_80": [int(round(min(lo, actual * ratio))), int(round(max(hi, actual * ratio)))],
        "weather_ratio": round(ratio, 4),
    }
    return {
        "year": year,
        "weather_year": weather_year,
        "from": days[0].date().isoformat(),
        "to": days[-1].date().isoformat(),
        "days": len(days),
        "actual": actual,
        "actual_days_with_crossings": int((arrivals.loc[days, "people"] > 0).sum()),
        **runs,
        "weather_effect": runs["other_weather"]["expected"] - runs["own_weather"]["expected"],
        "scenario": scenario,
        "actual_per_red_day": round(actual / red_own, 1) if red_own else None,
        "label": weather_label(weather),
        "origin": origin.date().isoformat(),
        "method": (
            f"a {step_days}-day forecast issued every {step_days} days from the arrivals known "
            f"the day before (model refitted every {refit_days} days), under each year's "
            "observed weather; ranges: 10-90 % of the simulated period total, " + total["method"]
        ),
    }


def format_swap(s: dict) -> str:
    """Terminal text of a :func:`weather_swap` result."""
    o, w, sc_ = s["own_weather"], s["other_weather"], s["scenario"]

    def per_red(v):
        return "–" if v is None else f"{v:,.0f}"

    lines = [
        f"{s['year']} with {s['weather_year']}'s weather, {s['from']} .. {s['to']} ({s['days']} days), "
        f"weekly forecasts from the arrivals known each week (first origin {s['origin']})",
        f"Weather: {s['label']} (observed, standing in for forecasts)",
        "",
        f"{'':28}{'people':>10}{'80 % range':>18}{'red':>6}{'amber':>7}{'green':>7}{'people/red day':>16}",
        f"{'actual':28}{s['actual']:>10,}{'':>18}{'':>6}{'':>7}{'':>7}{per_red(s['actual_per_red_day']):>16}",
    ]
    for label, r in (
        (f"model, {s['year']} weather", o),
        (f"model, {s['weather_year']} weather", w),
    ):
        lo, hi = r["range_80"]
        lines.append(
            f"{label:28}{r['expected']:>10,}{f'{lo:,}-{hi:,}':>18}{r['red_days']:>6}"
            f"{r['amber_days']:>7}{r['green_days']:>7}{per_red(r['people_per_red_day']):>16}"
        )
    lines += [
        "",
        f"Scenario: {s['year']} with {s['weather_year']}'s weather ≈ {sc_['expected']:,} people "
        f"(80 % range {sc_['range_80'][0]:,}-{sc_['range_80'][1]:,}): the actual {s['actual']:,} "
        f"times the modelled weather ratio {sc_['weather_ratio']:.2f}.",
        f"Modelled weather effect: {s['weather_effect']:+,} people ({s['weather_year']}'s weather "
        f"instead of {s['year']}'s); the model's own-weather total differs from the actual by "
        f"{o['expected'] - s['actual']:+,} people (its error in the year's level, which the ratio "
        "cancels).",
    ]
    return "\n".join(lines)
