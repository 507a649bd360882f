"""What a backtest can score and what it did score: the data's end, the days per lead."""

from __future__ import annotations

import pandas as pd

from forecast.errors import ConfigError
from forecast.evaluation.backtest import MODEL_NAME


def data_end(arrivals: pd.DataFrame, weather_source: str, weather) -> tuple[pd.Timestamp, str]:
    """The last day the backtest can score and what limits it (arrivals or weather)."""
    last, what = arrivals.index[-1], f"the arrivals (to {arrivals.index[-1].date()})"
    if weather_source == "knmi":
        w = weather.dropna(subset=["wind_speed_10m_mean"]).index.max()
        if w < last:
            last, what = w, f"the KNMI weather (to {w.date()})"
    elif weather_source == "openmeteo":
        wind = weather["wind_speed_10m"].notnull().any(dim="site").values
        times = pd.DatetimeIndex(weather["time"].values)[wind]
        w = times.max().normalize() - pd.Timedelta(days=1) if len(times) else arrivals.index[0]
        if w < last:
            last, what = w, f"the cached Open-Meteo weather (to {w.date()})"
    return last, what


def check_end(end: pd.Timestamp, arrivals: pd.DataFrame, weather_source: str, weather) -> None:
    """Refuse an --end the data do not reach (rather than silently cut the span)."""
    last, what = data_end(arrivals, weather_source, weather)
    if end > last:
        raise ConfigError(
            f"--end {end.date()} is after the last day with data, {last.date()} "
            f"(limited by {what}); give --end {last.date()} or earlier, or get more data"
        )


def scored_span(preds: pd.DataFrame, horizons) -> dict:
    """Per asked lead time: the first and last day actually scored and how many days.

    A lead time with nothing scored (e.g. every origin before ``--train-end``) has
    ``days`` 0 and ``first``/``last`` None, so no report claims a span it did not score.
    """
    model = preds[preds["forecaster"] == MODEL_NAME] if "forecaster" in preds else preds
    out = {}
    for h in sorted(set(horizons)):
        d = pd.DatetimeIndex(model.loc[model["horizon"] == h, "date"])
        out[f"D+{h}"] = {
            "first": str(d.min().date()) if len(d) else None,
            "last": str(d.max().date()) if len(d) else None,
            "days": int(d.nunique()),
        }
    return out
