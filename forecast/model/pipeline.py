"""From data to a forecast: the one function the outlook calls.

:func:`forecast_days` takes the days to forecast, the forecast origin (the last day whose
arrivals are known) and a weather source, builds the features, fits (or reuses) a
:class:`forecast.model.crossing.CrossingModel` on everything known at the origin, and returns
one row per day with the probability of any crossing, the red/amber/green class,
expected people and boats, quantiles, busy-day probabilities and the driver columns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from forecast import config
from forecast.errors import ConfigError, DataFormatError
from forecast.features import build as F
from forecast.features.tides import night_tide_features
from forecast.model.crossing import CrossingModel, LeadBandModel
from forecast.sources.knmi import load_knmi
from forecast.stores import weather as W
from forecast.stores.arrivals import load_arrivals

#: First training day (arrivals start 2018-01-01; the level terms need some history).
TRAIN_START = pd.Timestamp("2018-03-01")

#: Horizons the pooled training rows cycle through (one row per day, see training_rows).
TRAIN_HORIZONS = tuple(range(1, 8))

#: Lead-time bands with a model each [days]: D+1 has its own model, trained on rows seen
#: one day ahead (yesterday's arrivals known); D+2..D+7 share one (experiment 003).
#: Lead times beyond the last band extend it (see :func:`band_horizons`).
LEAD_BANDS = ((1,), (2, 3, 4, 5, 6, 7))

#: Calendar features the weather-free model uses (with the arrivals features).
CALENDAR_COLUMNS = ("doy_sin", "doy_cos", "month", "dow")

_MODEL_CACHE: dict[tuple, LeadBandModel] = {}
_TIDE_SKY_CACHE: dict[tuple, pd.DataFrame] = {}
#: Tide/sky features and high waters of sets of forecast days (astronomy: the same for
#: every weather member of an ensemble, so made once per set of days; a few sets kept).
_DAYS_ASTRO_CACHE: dict[tuple, tuple[pd.DataFrame, pd.DataFrame | None]] = {}


def rag_class(
    p_any, red_above: float = config.RAG_RED_ABOVE, green_below: float = config.RAG_GREEN_BELOW
) -> np.ndarray:
    """Home Office convention: red if ``P(any) > 55 %``, green if ``< 35 %``, else amber."""
    p = np.asarray(p_any, dtype=float)
    return np.where(p > red_above, "red", np.where(p < green_below, "green", "amber"))


def tide_sky_table(start, end) -> pd.DataFrame:
    """Tide and sky features for ``start..end`` (cached per range; empty if modules absent)."""
    key = (pd.Timestamp(start), pd.Timestamp(end))
    if key not in _TIDE_SKY_CACHE:
        _TIDE_SKY_CACHE[key] = F.tide_sky_features(pd.date_range(key[0], key[1], freq="D"))
    return _TIDE_SKY_CACHE[key]


def days_astronomy(days: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Tide/sky features and high waters of ``days`` (cached: ensembles ask once per member).

    Returns ``(F.tide_sky_features(days), night_tide_features(days))``; the second is None
    when the tide module cannot be imported.
    """
    key = tuple(pd.DatetimeIndex(days))
    if key not in _DAYS_ASTRO_CACHE:
        if len(_DAYS_ASTRO_CACHE) >= 16:
            _DAYS_ASTRO_CACHE.clear()
        try:
            hw = night_tide_features(days)
        except ImportError:
            hw = None
        _DAYS_ASTRO_CACHE[key] = (F.tide_sky_features(days), hw)
    return _DAYS_ASTRO_CACHE[key]


def prime_tide_sky(start, end, table: pd.DataFrame) -> None:
    """Seed the in-memory tide/sky cache for ``start..end`` with a precomputed ``table``."""
    _TIDE_SKY_CACHE[(pd.Timestamp(start), pd.Timestamp(end))] = table


def select_columns(X: pd.DataFrame, weather_source: str) -> pd.DataFrame:
    """Keep the columns the model for ``weather_source`` uses.

    The weather-free model ("none") uses only arrivals history and calendar.
    """
    if weather_source == "none":
        cols = [c for c in X.columns if c in F.ARRIVALS_FEATURES or c in CALENDAR_COLUMNS]
        out = X[cols].copy()
    else:
        out = X.copy()
    out.attrs["weather_source"] = weather_source
    if weather_source != "none" and X.attrs.get("weather_stations"):
        out.attrs["weather_stations"] = list(X.attrs["weather_stations"])
    return out


def training_rows(
    arrivals: pd.DataFrame,
    start,
    end,
    weather_source: str = "none",
    weather_features: pd.DataFrame | None = None,
    tide_sky: pd.DataFrame | None = None,
    horizons: Sequence[int] = TRAIN_HORIZONS,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Training table: one row per target day ``start..end`` with a cycled horizon.

    Day ``D`` is seen from origin ``D - horizons[k % len(horizons)]`` with ``k`` the days
    from :data:`TRAIN_START` to ``D``, so one model learns how stale arrivals features
    are at every horizon without stacking copies of each day. The cycle is tied to the
    date (not to the row number), so the rows of a longer period contain those of a
    shorter one unchanged: the backtest builds them once for all its refits. Days
    without arrivals or (for weather models) without weather are dropped.

    Returns
    -------
    X : pandas.DataFrame
    y : ndarray
        People [people].
    boats : ndarray
        Boats [boats].
    """
    start = max(
        pd.Timestamp(start), TRAIN_START, arrivals.index[0] + pd.Timedelta(days=max(horizons))
    )
    end = min(pd.Timestamp(end), arrivals.index[-1])
    dates = pd.date_range(start, end, freq="D", name="date")
    if weather_features is not None and weather_source != "none":
        dates = dates[dates.isin(weather_features.dropna(subset=["wind_speed_10m_mean"]).index)]
    if len(dates) == 0:
        raise DataFormatError(
            f"no training days between {start.date()} and {end.date()} with arrivals"
            + (" and weather" if weather_source != "none" else "")
            + "; check the weather input covers the arrivals period."
        )
    k = np.asarray((dates - TRAIN_START).days)
    hz = np.asarray(horizons)[np.mod(k, len(horizons))]
    origins = dates - pd.to_timedelta(hz, unit="D")
    X = F.build_features(
        dates,
        origins,
        arrivals,
        weather_source,
        weather_features,
        tide_sky=tide_sky,
        include_tide_sky=tide_sky is not None,
    )
    X = select_columns(X, weather_source)
    y = arrivals["people"].reindex(dates).to_numpy(dtype=float)
    boats = arrivals["boats"].reindex(dates).to_numpy(dtype=float)
    return X, y, boats


def band_horizons(leads: Iterable[int], lead_bands=LEAD_BANDS) -> list[tuple[int, ...]]:
    """Training horizons [days] of the models that serve ``leads``.

    Each band of ``lead_bands`` holding one of the leads is used as it is, except the
    last band, which takes every remaining lead: when those reach beyond it, it becomes
    ``min..max`` of them (starting at the band's own first lead if they begin inside
    it). So leads 1-7 give ``[(1,), (2..7)]``, 1-16 give ``[(1,), (2..16)]``, and 97-103
    (arrivals data three months old) give ``[(97..103)]``: every model is trained on
    rows exactly as stale as the rows it predicts. ``lead_bands=None``: one model for
    all leads, trained on rows cycling through 1-7 (extended the same way).
    """
    leads = sorted({int(h) for h in leads})
    if not leads or leads[0] < 1:
        raise ConfigError(f"lead times {leads}: give one or more lead times >= 1 day.")
    bands = [tuple(int(h) for h in b) for b in (lead_bands or (TRAIN_HORIZONS,))]
    out, rest = [], leads
    for band in bands[:-1]:
        if any(h in band for h in rest):
            out.append(band)
            rest = [h for h in rest if h not in band]
    if rest:
        last = bands[-1]
        lo, hi = rest[0], rest[-1]
        if hi > max(last) or lo < min(last):
            start = min(last) if min(last) <= lo <= max(last) else lo
            last = tuple(range(start, max(hi, max(last)) + 1))
        out.append(last)
    return out


def banded_training_rows(
    arrivals: pd.DataFrame,
    start,
    end,
    weather_source: str = "none",
    weather_features: pd.DataFrame | None = None,
    tide_sky: pd.DataFrame | None = None,
    bands: Sequence[Sequence[int]] = LEAD_BANDS,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """:func:`training_rows` of each band, one table sorted by date (stable: the first
    band's row of a day comes first), for :class:`forecast.model.crossing.LeadBandModel`.

    Each band sees every training day once, from an origin as many days earlier as
    its cycle says; the table's ``horizon`` column routes rows to the bands.
    """
    parts = [
        training_rows(arrivals, start, end, weather_source, weather_features, tide_sky, b)
        for b in bands
    ]
    if len(parts) == 1:
        return parts[0]
    X = pd.concat([p[0] for p in parts])
    order = np.argsort(X.index.to_numpy(), kind="stable")
    X = X.iloc[order]
    X.attrs.update(parts[0][0].attrs)
    y = np.concatenate([p[1] for p in parts])[order]
    boats = np.concatenate([p[2] for p in parts])[order]
    return X, y, boats


def load_weather(weather_source: str, weather, days: pd.DatetimeIndex):
    """The weather input for a source: given, else loaded from the bundled/cached data."""
    if weather_source == "none" or weather is not None:
        return weather
    if weather_source == "knmi":
        return load_knmi()
    # history (reanalysis) for training, the latest forecasts for the days ahead
    end = (days.max() + pd.Timedelta(days=1)).date()
    history = W.load_hourly(TRAIN_START.date(), end, kind="archive")
    ahead = W.load_hourly((days.min() - pd.Timedelta(days=1)).date(), end, kind="forecast")
    return ahead.combine_first(history)


def headline_skill(weather_source: str) -> dict:
    """Headline scores of the committed standard backtest for ``weather_source`` (or {})."""
    path = config.REPO_ROOT / "experiments" / "001-standard-backtest" / "results.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return dict(data.get("headline", {}).get(weather_source, {}))


#: A saved model is reused for origins up to this many days after its training end.
MAX_SAVED_MODEL_AGE_DAYS = 28


def saved_model_path(weather_source: str):
    """Where ``forecast model fit`` saves the model for ``weather_source``."""
    return config.data_dir() / "models" / f"crossing_model_{weather_source}.skops"


def saved_model(weather_source: str, origin, leads: Iterable[int] = TRAIN_HORIZONS):
    """The saved model for ``weather_source`` if usable at ``origin``, else None.

    Usable means: trained on that source, training ended on or before the origin (no
    leakage) and at most :data:`MAX_SAVED_MODEL_AGE_DAYS` days before it, and trained
    for the bands that serve ``leads`` [days] (:func:`band_horizons`).
    """
    path = saved_model_path(weather_source)
    if not path.exists():
        return None
    try:
        model = LeadBandModel.load(path)
    except DataFormatError:
        return None  # e.g. a file from before lead bands: refitted at the origin
    end = pd.Timestamp(model.train_end_)
    origin = pd.Timestamp(origin)
    if model.weather_source_ != weather_source or end > origin:
        return None
    if (origin - end).days > MAX_SAVED_MODEL_AGE_DAYS:
        return None
    if [tuple(b) for b in model.lead_bands_] != band_horizons(leads):
        return None
    return model


def fit_default_model(
    weather_source: str,
    origin,
    arrivals: pd.DataFrame,
    weather_features: pd.DataFrame | None,
    tide_sky: pd.DataFrame | None,
    params: dict | None = None,
    horizons: Sequence[int] = TRAIN_HORIZONS,
) -> LeadBandModel:
    """Fit the default model on every day known at ``origin`` (cached in memory).

    ``horizons``: the lead times [days] the model must serve (default 1-7; give
    ``range(1, 17)`` for a 16-day outlook). One :class:`CrossingModel` per band of
    :func:`band_horizons` (:data:`LEAD_BANDS`), each trained on rows exactly as stale.
    """
    origin = pd.Timestamp(origin)
    bands = band_horizons(horizons)
    key = (
        weather_source,
        origin,
        str(arrivals.index[-1]),
        int(arrivals["people"].loc[:origin].sum()),
        None
        if weather_features is None
        else (
            str(weather_features.index[-1]),
            float(np.nansum(weather_features["wind_speed_10m_mean"].to_numpy())),
        ),
        tide_sky is not None and not tide_sky.empty,
        json.dumps(params or {}, sort_keys=True),
        tuple(bands),
    )
    if key not in _MODEL_CACHE:
        X, y, boats = banded_training_rows(
            arrivals, TRAIN_START, origin, weather_source, weather_features, tide_sky, bands
        )
        # CrossingModel.fit runs single-threaded (small fits: faster without OpenMP threads)
        model = LeadBandModel(weather_source=weather_source, lead_bands=bands, model_params=params)
        _MODEL_CACHE[key] = model.fit(X, y, boats=boats)
    return _MODEL_CACHE[key]


#: Driver columns copied into the output when present.
DRIVER_COLUMNS = (
    "wind_speed_10m_mean",
    "wind_speed_10m_max",
    "wind_gusts_10m_max",
    "wind_dir_sin",
    "wind_dir_cos",
    "wave_height_max",
    "wave_height_mean",
    "precipitation_sum",
    "visibility_min",
    "calm_hours",
    "calm_days_last7",
    "days_since_calm",
    "hw_in_darkness",
    "tidal_range",
    "spring_neap_index",
    "darkness_hours",
    "moon_illumination",
    "moonlit_fraction",
    "people_last7",
    "days_since_crossing",
    "horizon",
)


def forecast_days(
    days: Iterable,
    origin,
    weather_source: str = "knmi",
    weather=None,
    arrivals: pd.DataFrame | None = None,
    thresholds: Sequence[int] = config.BUSY_THRESHOLDS,
    model: LeadBandModel | CrossingModel | None = None,
    cfg: F.FeatureConfig = F.DEFAULT_CONFIG,
    use_saved: bool = True,
) -> pd.DataFrame:
    """Forecast Home Office days from what is known at ``origin``.

    Parameters
    ----------
    days : iterable of dates
        Days D to forecast (each after ``origin``).
    origin : date
        Forecast origin: the last day whose arrivals are known and used.
    weather_source : {"knmi", "openmeteo", "none"}
        ``"knmi"``: daily station observations (perfect prognosis; a regional proxy,
        not a forecast). ``"openmeteo"``: hourly Strait weather (forecast for future
        days, archive for training). ``"none"``: weather-free (arrivals and calendar).
    weather : DataFrame or xarray.Dataset, optional
        Weather input (default: the bundled KNMI file or the Open-Meteo cache).
    arrivals : pandas.DataFrame, optional
        Daily arrivals (default :func:`forecast.stores.arrivals.load_arrivals`).
    thresholds : sequence of int
        Busy-day thresholds N [people] for ``p_gt_<N>``.
    model : LeadBandModel or CrossingModel, optional
        A fitted model to use. By default a model saved by ``forecast model fit`` for
        this source is used when its training ended on or before the origin and at most
        :data:`MAX_SAVED_MODEL_AGE_DAYS` days before it (see :func:`saved_model`); else a
        model is fitted on every day known at the origin (cached in memory).
    use_saved : bool
        Allow the saved model (False: always fit at the origin).
    cfg : FeatureConfig
        Window and calm thresholds.

    Returns
    -------
    pandas.DataFrame
        Index ``date``; ``p_any``, ``rag``, ``calm_rule``, ``expected_people``, ``q10``,
        ``q25``, ``q50``, ``q75``, ``q80``, ``q90`` [people], ``p_gt_<N>``,
        ``expected_boats``, and driver columns. ``attrs["provenance"]``: ``arrivals_end``,
        ``weather_source``, ``weather_run``, ``model_trained``, ``backtest_skill``.

    Raises
    ------
    ConfigError
        If a day is not after the origin, the origin is after the last arrivals day, or
        the weather does not cover a day.
    """
    F.check_source(weather_source)
    days = F.as_dates(list(days))
    if len(days) == 0:
        raise ConfigError("no days to forecast; pass at least one date after the origin.")
    origin = pd.Timestamp(origin).normalize()
    if arrivals is None:
        arrivals = load_arrivals()
    arrivals_end = arrivals.index[-1]
    if origin > arrivals_end:
        raise ConfigError(
            f"origin {origin.date()} is after the last arrivals day {arrivals_end.date()}; "
            "use an origin on or before it (or update the arrivals with 'forecast arrivals update')."
        )
    if (days <= origin).any():
        raise ConfigError(
            f"day {days[days <= origin][0].date()} is not after the origin {origin.date()}; "
            "forecast days must be later than the origin."
        )
    weather = load_weather(weather_source, weather, days)
    wtab = F.weather_table(weather_source, weather, cfg)
    if wtab is not None:
        lacking = days[~days.isin(wtab.dropna(subset=["wind_speed_10m_mean"]).index)]
        if len(lacking):
            raise ConfigError(
                f"the {weather_source} weather input does not cover {lacking[0].date()} "
                f"({len(lacking)} day(s) without weather, covered "
                f"{wtab.index.min().date()}..{wtab.index.max().date()}); forecast fewer days, "
                "give weather that covers them, or use weather_source='none'."
            )
    leads = (days - origin).days
    if model is None and use_saved:
        model = saved_model(weather_source, origin, leads)
        stations = [] if wtab is None else list(wtab.attrs.get("weather_stations") or [])
        if model is not None and list(getattr(model, "weather_stations_", []) or []) != stations:
            model = None  # saved for other stations: fit for these at the origin
    if model is None:
        tide_sky = tide_sky_table(TRAIN_START, max(days.max(), arrivals_end))
        tide_sky = tide_sky if not tide_sky.empty else None
        model = fit_default_model(weather_source, origin, arrivals, wtab, tide_sky, horizons=leads)
    else:  # only the forecast days' tide and sky are needed
        tide_sky = days_astronomy(days)[0]
        tide_sky = tide_sky if not tide_sky.empty else None
    X = F.build_features(
        days,
        origin,
        arrivals,
        weather_source,
        wtab,
        tide_sky=tide_sky,
        include_tide_sky=tide_sky is not None,
    )
    Xm = select_columns(X, weather_source)
    dist = model.predict_distribution(Xm, thresholds=thresholds)
    out = pd.DataFrame(index=days)
    out["p_any"] = dist["p_any"].to_numpy()
    out["rag"] = rag_class(out["p_any"])
    if wtab is not None:
        out["calm_rule"] = F.calm_day(wtab, cfg).reindex(days).to_numpy() == 1
    for col in ("expected_people", "q10", "q25", "q50", "q75", "q80", "q90"):
        out[col] = dist[col].to_numpy()
    for n in thresholds:
        out[f"p_gt_{int(n)}"] = dist[f"p_gt_{int(n)}"].to_numpy()
    out["expected_boats"] = dist["expected_boats"].to_numpy()
    for col in DRIVER_COLUMNS:
        if col in X.columns:
            out[col] = X[col].to_numpy()
    hw = days_astronomy(days)[1]
    if hw is not None and "first_dark_hw_utc" in hw.columns:
        out["first_dark_hw_utc"] = hw["first_dark_hw_utc"].reindex(days).to_numpy()
    out.index.name = "date"
    info = model.info()
    out.attrs["provenance"] = {
        "arrivals_end": arrivals_end.date().isoformat(),
        "origin": origin.date().isoformat(),
        "weather_source": weather_source,
        "weather_run": "" if wtab is None else wtab.attrs.get("weather_run", ""),
        "model_trained": f"{info['train_start']}..{info['train_end']} ({info['n_train']} days, {weather_source})",
        "model_code_version": info["code_version"],
        "lead_bands": info.get("lead_bands"),
        "backtest_skill": headline_skill(weather_source),
    }
    return out
