"""Assemble an outlook from the data on disk: arrivals, weather, model (never the network).

:func:`make_outlook` is what the ``outlook``, ``alert`` and ``report`` commands call: it
reads the arrivals store, picks the weather (a cached or given forecast, the bundled
observed station weather for replays, or none), runs the cached predictor and the
year-end scenarios, and returns the outlook dictionary of :mod:`forecast.products.outlook`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from forecast import config, fileio
from forecast.errors import ConfigError, ForecastError
from forecast.model import pipeline as P
from forecast.products import ensemble as en
from forecast.products import outlook as ol
from forecast.products import predictor as pr
from forecast.products import scenarios as sc
from forecast.products import skill as sk
from forecast.sources.knmi import load_knmi
from forecast.stores import ensemble as ES
from forecast.stores import weather as W
from forecast.stores.arrivals import load_arrivals


def station_names(knmi: pd.DataFrame) -> str:
    """Short names of the stations in a KNMI frame, e.g. 'KNMI 310 Vlissingen, 340 Woensdrecht'."""
    labels = knmi.attrs.get("station_labels") or []
    names = [str(label).split(" (")[0] for label in labels]
    return "KNMI " + ", ".join(names) if names else "KNMI station weather"


#: How to get a weather forecast, for the weather-free notice.
HOW_TO_GET_WEATHER = (
    "To get a weather-driven outlook run 'forecast weather update --kind forecast' while "
    "online, or pass a saved forecast with '--weather FILE' (Open-Meteo JSON or NetCDF)."
)


def covered_days(ds, first_day: pd.Timestamp, max_days: int = ol.MAX_HORIZON) -> pd.DatetimeIndex:
    """Days from ``first_day`` whose whole departure window lies inside the weather's time axis."""
    times = pd.DatetimeIndex(ds["time"].values)
    if len(times) == 0:
        return pd.DatetimeIndex([], name="date")
    t0 = times.min().tz_localize("UTC")
    t1 = times.max().tz_localize("UTC") + pd.Timedelta(hours=1)
    out = []
    for k in range(max_days):
        d = first_day + pd.Timedelta(days=k)
        start, end = ol.night_window_utc(d)
        if start >= t0 and end <= t1:
            out.append(d)
        elif out:
            break
    return pd.DatetimeIndex(out, name="date")


def _openmeteo_label(ds, default: str) -> tuple[str, str | None]:
    run = (
        ds.attrs.get("run_utc")
        or ds.attrs.get("forecast_retrieved_utc")
        or ds.attrs.get("retrieved_utc")
    )
    label = str(ds.attrs.get("source") or default)
    return label, (str(run) if run else None)


def choose_weather(
    first_day: pd.Timestamp,
    weather_file: Path | None,
    as_of: bool,
    no_weather: bool,
    knmi: pd.DataFrame | None = None,
):
    """Pick the weather input: (source, data, info dict, days, notices).

    ``knmi``: the station weather for replays (default the bundled stations).
    """
    notices: list[str] = []
    if no_weather:
        days = pd.date_range(first_day, periods=ol.CONFIDENT_DAYS, freq="D", name="date")
        return (
            "none",
            None,
            {"source": "none", "label": "none (weather-free, --no-weather)", "missing": ""},
            days,
            notices,
        )
    if as_of:
        knmi = knmi if knmi is not None else load_knmi()
        days = pd.date_range(first_day, periods=ol.CONFIDENT_DAYS, freq="D", name="date")
        if days[-1] > knmi.index[-1] or days[0] - pd.Timedelta(days=8) < knmi.index[0]:
            raise ConfigError(
                f"--as-of {first_day.date()}: the bundled KNMI weather covers "
                f"{knmi.index[0].date()} .. {knmi.index[-1].date()}, so replays can start "
                f"{(knmi.index[0] + pd.Timedelta(days=8)).date()} .. "
                f"{(knmi.index[-1] - pd.Timedelta(days=ol.CONFIDENT_DAYS - 1)).date()}."
            )
        info = {
            "source": "knmi",
            "label": "observed weather standing in for the forecast (replay): "
            + str(knmi.attrs.get("source", "KNMI station weather")),
            "run": None,
            "missing": "",
        }
        return "knmi", knmi.loc[: days[-1]], info, days, notices
    ds, why = None, ""
    if weather_file is not None:
        ds = W.read_weather_file(weather_file)
        origin_label = f"file {weather_file}"
    else:
        try:
            ds = W.load_forecast_latest()
            origin_label = "cached Open-Meteo forecast"
        except ForecastError as exc:
            why = "none in the local cache" if "no cached" in str(exc) else str(exc)
    if ds is not None:
        days = covered_days(ds, first_day)
        label, run = _openmeteo_label(ds, origin_label)
        if len(days) == 0:
            times = pd.DatetimeIndex(ds["time"].values)
            why = (
                f"the {origin_label} ({label}, {times.min():%Y-%m-%d %H:%M} .. "
                f"{times.max():%Y-%m-%d %H:%M} UTC) does not cover the night before {first_day.date()}"
            )
            if weather_file is not None:
                raise ConfigError(
                    f"--weather {weather_file}: {why}; give a forecast that covers it."
                )
            ds = None
        else:
            if len(days) < ol.CONFIDENT_DAYS:
                notices.append(
                    f"The weather forecast covers only {len(days)} day(s) from {first_day.date()}; "
                    "the outlook stops there."
                )
            info = {"source": "openmeteo", "label": label, "run": run, "missing": ""}
            return "openmeteo", ds, info, days, notices
    days = pd.date_range(first_day, periods=ol.CONFIDENT_DAYS, freq="D", name="date")
    missing = (
        "Missing: a marine weather forecast"
        + (f" ({why})" if why else "")
        + ". "
        + HOW_TO_GET_WEATHER
    )
    info = {
        "source": "none",
        "label": "none: weather-free outlook (season and recent history only)",
        "missing": missing,
    }
    return "none", None, info, days, notices


#: A replay needs this much training history after ``pipeline.TRAIN_START`` [days].
REPLAY_MIN_TRAINING_DAYS = 365


def replay_span(arrivals: pd.DataFrame, knmi: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day a ``--as-of`` replay can start on.

    First: a year of training data after ``pipeline.TRAIN_START`` (and 8 days of KNMI
    weather before it). Last: arrivals known up to the day before, and KNMI weather for
    all 7 days.
    """

    first = max(
        P.TRAIN_START + pd.Timedelta(days=REPLAY_MIN_TRAINING_DAYS),
        arrivals.index[0] + pd.Timedelta(days=REPLAY_MIN_TRAINING_DAYS),
        knmi.index[0] + pd.Timedelta(days=8),
    )
    last = min(
        arrivals.index[-1] + pd.Timedelta(days=1),
        knmi.index[-1] - pd.Timedelta(days=ol.CONFIDENT_DAYS - 1),
    )
    return first, last


def check_replay_day(
    first_day: pd.Timestamp, arrivals: pd.DataFrame, knmi: pd.DataFrame | None = None
) -> None:
    """Raise :class:`ConfigError` unless a replay can start on ``first_day``."""
    knmi = knmi if knmi is not None else load_knmi()
    first, last = replay_span(arrivals, knmi)
    if not first <= first_day <= last:
        raise ConfigError(
            f"--as-of {first_day.date()} is outside the replay span {first.date()} .. "
            f"{last.date()}: a replay needs a year of arrivals to train on (training starts "
            f"{P.TRAIN_START.date()}), the arrivals up to the day before (the data run "
            f"{arrivals.index[0].date()} .. {arrivals.index[-1].date()}) and the bundled KNMI "
            f"weather for its {ol.CONFIDENT_DAYS} days ({knmi.index[0].date()} .. "
            f"{knmi.index[-1].date()}). Choose a date in the span."
        )


def check_ensemble_options(
    ensemble: str,
    as_of: pd.Timestamp | None,
    weather_file: Path | None,
    no_weather: bool,
    n_members: int | None,
) -> None:
    """Refuse an ``--ensemble`` choice that contradicts the other options."""
    if ensemble not in en.MODES:
        raise ConfigError(f"--ensemble {ensemble!r}: use one of {', '.join(en.MODES)}")
    if n_members is not None:
        en.check_members(n_members)
        if ensemble in ("none",) or (ensemble == "auto" and as_of is not None):
            raise ConfigError(
                f"--members {n_members} needs an ensemble: add --ensemble simulated (replays) "
                "or --ensemble cached or dressed (live), or drop --members"
            )
    if ensemble == "dressed" and as_of is not None:
        raise ConfigError(
            f"--ensemble dressed with --as-of {as_of.date()}: dressing perturbs a live "
            "deterministic forecast run with its error, and a replay has none (observed "
            "station weather stands in for it); use --ensemble simulated for a replay on a "
            "simulated ensemble"
        )
    if ensemble == "dressed" and no_weather:
        raise ConfigError(
            "--ensemble dressed and --no-weather contradict each other: dressing needs a "
            "weather forecast; give one"
        )
    if ensemble == "simulated" and as_of is None:
        raise ConfigError(
            "--ensemble simulated needs --as-of DATE: it simulates a forecast ensemble from "
            "the observed station weather of past days; for the coming days use --ensemble "
            "cached (after 'forecast weather update --kind ensemble') or auto"
        )
    if ensemble == "cached" and as_of is not None:
        raise ConfigError(
            f"--ensemble cached with --as-of {as_of.date()}: only the latest ensemble run is "
            "cached, not one issued then; use --ensemble simulated for a replay"
        )
    if ensemble in ("cached", "simulated"):
        for name, given in (("--weather", weather_file is not None), ("--no-weather", no_weather)):
            if given:
                raise ConfigError(
                    f"--ensemble {ensemble} and {name} contradict each other: give one"
                )


def cached_ensemble(
    first_day: pd.Timestamp, required: bool, n_members: int | None
) -> tuple[object, pd.DatetimeIndex, list[str]]:
    """The cached ensemble run and the days it covers from ``first_day`` (or None).

    ``required`` (``--ensemble cached``): a missing or short run is a ConfigError saying
    how to fetch one; otherwise it is a notice and the deterministic forecast is used.
    """
    notices: list[str] = []
    how = "run 'forecast weather update --kind ensemble' while online"
    try:
        ds = ES.load_ensemble_latest()
    except ForecastError as exc:
        if required:
            raise ConfigError(f"--ensemble cached: {exc} ({how})") from exc
        if "no ensemble forecast cached" not in str(exc):
            notices.append(f"The cached weather ensemble was not used: {exc}")
        return None, pd.DatetimeIndex([], name="date"), notices
    days = covered_days(ds, first_day)
    if len(days) == 0:
        times = pd.DatetimeIndex(ds["time"].values)
        why = (
            f"the cached ensemble ({ds.attrs.get('model', '')}, {times.min():%Y-%m-%d %H:%M} .. "
            f"{times.max():%Y-%m-%d %H:%M} UTC) does not cover the night before {first_day.date()}"
        )
        if required:
            raise ConfigError(f"--ensemble cached: {why}; {how}")
        notices.append(f"The weather ensemble was not used: {why}.")
        return None, days, notices
    if n_members is not None:
        ds = ds.isel(member=slice(0, n_members))
    return ds, days, notices


def dressed_forecast(
    weather,
    info: dict,
    issued: dt.datetime,
    required: bool,
    n_members: int | None,
    random_state: int,
    notices: list[str],
    folder: Path | None = None,
):
    """The deterministic forecast dressed with its error: ``(members, n, ens_info, info)``.

    ``required`` (``--ensemble dressed``): a missing climatology is a ConfigError saying
    what to run; otherwise (``auto``) it is a notice and None (the single forecast is used).
    ``folder``: where the climatology is cached (the predictor's cache folder).
    """
    origin = en.dressing_origin(weather, issued)
    n = n_members or en.DRESSED_MEMBERS
    try:
        climate = en.dressing_climate(origin, folder=folder)
        members = en.dressed_members(weather, origin, n, climate, random_state=random_state)
    except ForecastError as exc:
        if required:
            raise ConfigError(f"--ensemble dressed: {exc}") from exc
        notices.append(
            f"The weather forecast was not dressed with its error: {exc} Until then the "
            f"outlook uses {en.SINGLE_FORECAST_CAVEAT}."
        )
        return None
    known = climate.dropna(subset=["wind_speed_10m_mean"]).index
    label = (
        f"{en.dressed_label(n)} of the {info.get('label') or 'deterministic forecast'}, "
        f"dressed from {(origin + pd.Timedelta(days=1)).date()} (lead 1 d) around the "
        f"climatology of the cached Open-Meteo archive ({known[0].date()} .. "
        f"{known[-1].date()}); waves: the deterministic marine forecast's for every "
        "member (not perturbed)"
    )
    ens_info = en.ensemble_info(label, "dressed", n, ol.N_DRAWS)
    return members, n, ens_info, {**info, "label": label}


def make_outlook(
    *,
    now_utc: dt.datetime | None = None,
    as_of: pd.Timestamp | None = None,
    thresholds: tuple[int, ...] = config.BUSY_THRESHOLDS,
    weather_file: Path | None = None,
    no_weather: bool = False,
    scenarios: bool = True,
    compare: bool = True,
    predict=None,
    random_state: int = 0,
    knmi_files: list[Path] | None = None,
    ensemble: str = "auto",
    n_members: int | None = None,
) -> tuple[dict, pd.DataFrame]:
    """Build the outlook from the data on disk (never touches the network).

    Parameters
    ----------
    now_utc : datetime, optional
        Issue time (tz-aware UTC; default now).
    as_of : Timestamp, optional
        Replay: the outlook as issued on this day with only the data known then, the
        bundled KNMI observed weather standing in for the forecast.
    thresholds : tuple of int
        Busy-day thresholds [people].
    weather_file : Path, optional
        Forecast file to use instead of the cache (``--weather``).
    no_weather : bool
        Force the weather-free outlook.
    scenarios : bool
        Compute year-end scenario bands (one pipeline run per past year's weather).
    compare : bool
        Compare with the previous saved outlook.
    predict : callable, optional
        Stand-in for :func:`forecast.model.pipeline.forecast_days` (tests).
    knmi_files : list of Path, optional
        KNMI station files (one per station, the first primary) for replays, year-end
        scenarios and KNMI-trained models; default the bundled stations.
    ensemble : {"auto", "cached", "dressed", "simulated", "none"}
        Weather ensemble (:data:`forecast.products.ensemble.MODES`): ``auto`` uses the
        cached Open-Meteo ensemble for a live outlook when one covers the first night,
        else the cached deterministic forecast dressed with its simulated error (else,
        when the archive for the dressing's climatology is missing, the single forecast,
        with a notice); replays use observed weather. ``cached`` requires the cached
        ensemble; ``dressed`` (live only) requires the dressing (of the cached forecast or
        of ``weather_file``); ``simulated`` (replays only) simulates an ensemble from the
        observed station weather; ``none`` uses the single deterministic forecast, whose
        chances from day 2 on are over-confident.
    n_members : int, optional
        Members of a simulated or dressed ensemble (default 51), or the first members of
        the cached one.

    Returns
    -------
    (outlook, arrivals) : (dict, DataFrame)
        The outlook dictionary and the arrivals known at issue.
    """

    check_ensemble_options(ensemble, as_of, weather_file, no_weather, n_members)
    knmi = load_knmi(knmi_files)
    predict = predict or pr.default_predictor(knmi=knmi)
    issued = ol.issued_now(now_utc)
    arrivals = load_arrivals(now_utc=issued)
    actual = None
    if as_of is not None:
        first_day = pd.Timestamp(as_of).normalize()
        check_replay_day(first_day, arrivals, knmi)
        actual = arrivals.loc[first_day:]
        known = arrivals.loc[: first_day - pd.Timedelta(days=1)].copy()
        known.attrs = dict(arrivals.attrs)
        known.attrs["end_date"] = known.index[-1].date().isoformat()
        arrivals = known
    else:
        first_day = ol.first_outlook_day(issued)
    source, weather, info, days, notices = choose_weather(
        first_day, weather_file, as_of is not None, no_weather, knmi
    )
    simulated = as_of is not None and ensemble == "simulated"
    if as_of is not None and simulated:
        notices.insert(
            0,
            f"REPLAY of {first_day.date()}: only arrivals up to {arrivals.index[-1].date()} are used; "
            f"a {en.LABEL_SIMULATED} made from the observed station weather "
            f"({station_names(knmi)}) stands in for the forecast: each day's weather is "
            "uncertain as a forecast issued then would be, by a simulated error, not a "
            "real forecast's. 'actual' shows what happened.",
        )
    elif as_of is not None:
        notices.insert(
            0,
            f"REPLAY of {first_day.date()}: only arrivals up to {arrivals.index[-1].date()} are used; "
            f"observed station weather ({station_names(knmi)}) stands in for the forecast, "
            "which flatters the model compared with a real forecast (perfect prognosis). "
            "'actual' shows what happened.",
        )
    arrivals_end = arrivals.index[-1]
    origin = min(arrivals_end, first_day - pd.Timedelta(days=1))
    members, n, ens_info = None, 0, None
    if simulated:
        n = n_members or en.DEFAULT_MEMBERS
        members = en.simulated_members(knmi, origin, days, n, random_state=random_state)
        ens_info = en.ensemble_info(en.LABEL_SIMULATED, "simulated", n, ol.N_DRAWS)
        info = dict(info)
        info["label"] = (
            f"{en.LABEL_SIMULATED} of {n} members, simulated around the observed weather of "
            f"{station_names(knmi)} (replay; an observed regional proxy, not Strait weather)"
        )
    elif (
        as_of is None and ensemble in ("auto", "cached") and weather_file is None and not no_weather
    ):
        ens_ds, ens_days, more = cached_ensemble(first_day, ensemble == "cached", n_members)
        notices.extend(more)
        if ens_ds is not None:
            det = weather if source == "openmeteo" else None
            if len(ens_days) < ol.CONFIDENT_DAYS:
                notices.append(
                    f"The weather ensemble covers only {len(ens_days)} day(s) from "
                    f"{first_day.date()}; the outlook stops there."
                )
            notices[:] = [
                x for x in notices if not x.startswith("The weather forecast covers only")
            ]
            source, days = "openmeteo", ens_days
            n = int(ens_ds.sizes["member"])
            members = en.openmeteo_members(ens_ds, det)
            label = en.openmeteo_label(ens_ds, with_waves=det is not None and "wave_height" in det)
            ens_info = en.ensemble_info(label, "cached", n, ol.N_DRAWS)
            info = {
                "source": "openmeteo",
                "label": label,
                "run": str(ens_ds.attrs.get("retrieved_utc") or "") or None,
                "missing": "",
            }
    if ensemble == "dressed" and source != "openmeteo":
        raise ConfigError(
            "--ensemble dressed needs a deterministic weather forecast to dress, and none "
            "covers the outlook: " + (info.get("missing") or "") + " (or use --ensemble none)"
        )
    if (
        members is None
        and source == "openmeteo"
        and weather is not None
        and (ensemble == "dressed" or (ensemble == "auto" and weather_file is None))
    ):
        dressed = dressed_forecast(
            weather,
            info,
            issued,
            ensemble == "dressed",
            n_members,
            random_state,
            notices,
            folder=predict.folder if isinstance(predict, pr.CachedPredictor) else None,
        )
        if dressed is not None:
            members, n, ens_info, info = dressed
    if members is None and source == "openmeteo":
        info = {**info, "label": f"{info.get('label')}; {en.SINGLE_FORECAST_CAVEAT}"}
    draws = None
    try:
        if members is not None:
            if isinstance(predict, pr.CachedPredictor):
                forecast_member = predict.member_forecaster(
                    days, origin, source, arrivals, thresholds
                )
            else:

                def forecast_member(w):
                    return predict(
                        days,
                        origin,
                        weather_source=source,
                        weather=w,
                        arrivals=arrivals,
                        thresholds=thresholds,
                    )

            pred, draws = en.ensemble_prediction(
                forecast_member, members, n, thresholds, random_state=random_state
            )
        else:
            pred = predict(
                days,
                origin,
                weather_source=source,
                weather=weather,
                arrivals=arrivals,
                thresholds=thresholds,
            )
    except ForecastError as exc:
        if source != "openmeteo":
            raise
        # A forecast but no usable Open-Meteo history to train the weather model on.
        if weather_file is not None:
            raise ConfigError(
                f"--weather {weather_file}: the weather model cannot be trained ({exc}). "
                "Fetch the history with 'forecast weather update --kind archive' and "
                "'--kind marine' while online, or drop --weather for a weather-free outlook."
            ) from exc
        notices.append(
            f"The cached weather forecast was not used: the weather model cannot be trained "
            f"({exc}). This outlook is weather-free; fetch the history with 'forecast weather "
            "update --kind archive' and '--kind marine' while online."
        )
        notices[:] = [
            x for x in notices if not x.startswith("The weather forecast was not dressed")
        ]
        source, weather, draws, ens_info = "none", None, None, None
        days = days[: ol.CONFIDENT_DAYS]
        info = {
            "source": "none",
            "label": "none: weather-free outlook (season and recent history only)",
            "missing": "",
        }
        pred = predict(
            days,
            origin,
            weather_source="none",
            weather=None,
            arrivals=arrivals,
            thresholds=thresholds,
        )
    year_end = None
    if scenarios:
        cache = None
        if isinstance(predict, pr.CachedPredictor):
            key = pr.frame_hash(arrivals.loc[:origin, ["people", "boats"]])
            # v2: scenario runs use a model trained for their lead times (train_horizons)
            cache = predict.folder / f"year_end-v2-{origin:%Y%m%d}-{key}-{predict.code}.json"
        if cache is not None and cache.exists():
            year_end = json.loads(cache.read_text(encoding="utf-8"))
        else:
            try:
                year_end = sc.year_end_bands(
                    arrivals,
                    origin,
                    knmi,
                    origin=origin,
                    predict=predict,
                    thresholds=thresholds,
                )
            except ForecastError as exc:
                notices.append(f"Year-end scenarios not available: {exc}")
            if year_end is not None and cache is not None:
                fileio.write_text(cache, json.dumps(ol.clean(year_end)), "year-end cache")
    if year_end is not None and actual is not None:
        year_end = dict(year_end)
        year_days = actual.loc[: pd.Timestamp(year=int(year_end["year"]), month=12, day=31)]
        if len(year_days) and year_days.index[-1].month == 12 and year_days.index[-1].day == 31:
            year_end["actual"] = int(year_end["known"] + year_days["people"].sum())
    out = ol.build_outlook(
        pred,
        first_day=first_day,
        arrivals=arrivals,
        issued_utc=issued,
        thresholds=thresholds,
        weather=info,
        mode="as_of" if as_of is not None else "live",
        actual=actual,
        year_end=year_end,
        random_state=random_state,
        notices=notices,
        draws=draws,
        ensemble=ens_info,
        skill=sk.skill_by_lead(
            source,
            ensemble=ens_info is not None,
            dressed=(ens_info or {}).get("kind") == "dressed",
            observed=as_of is not None and ens_info is None and source == "knmi",
        ),
    )
    if compare and as_of is None:
        out["changes"] = ol.compare_outlooks(out, ol.latest_outlook(before_utc=out["issued_utc"]))
    return out, arrivals


def write_latest(outlook: dict) -> Path:
    """Write ``out_dir()/outlook.json`` (what ``forecast report`` renders by default)."""
    return fileio.write_text(config.out_dir() / "outlook.json", ol.to_json(outlook), "outlook")
