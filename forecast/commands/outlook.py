"""``forecast outlook``: the weekly outlook for planners (and the shared outlook builder).

:func:`make_outlook` gathers the data (arrivals, weather, model) and returns the outlook
dictionary of :mod:`forecast.products.outlook`; the ``alert`` and ``report`` commands reuse it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import config
from forecast.errors import ConfigError, ForecastError
from forecast.products import outlook as ol

FORMATS = ("table", "csv", "json")

#: How to get a weather forecast, for the weather-free notice.
HOW_TO_GET_WEATHER = (
    "To get a weather-driven outlook run 'forecast weather update --kind forecast' while "
    "online, or pass a saved forecast with '--weather FILE' (Open-Meteo JSON or NetCDF)."
)


def parse_thresholds(text: str | None, extra: tuple[int, ...] = ()) -> tuple[int, ...]:
    """``"300,500"`` -> ``(300, 500)`` plus ``extra``, sorted and unique."""
    values = list(extra)
    if text is not None:
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            try:
                n = int(part)
            except ValueError:
                raise ConfigError(
                    f"--thresholds {text!r}: {part!r} is not a whole number; give e.g. 300,500"
                ) from None
            if n < 0:
                raise ConfigError(f"--thresholds {text!r}: {n} must be >= 0 people")
            values.append(n)
        if len(values) == len(extra):
            raise ConfigError(
                f"--thresholds {text!r} gives no number; give whole numbers of people, e.g. 300,500"
            )
    else:
        values.extend(config.BUSY_THRESHOLDS)
    return tuple(sorted(set(values)))


def add_now_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--now",
        default=None,
        metavar="TIME",
        help="issue the outlook as if the time were TIME (ISO 8601, UTC if no offset); "
        "for reproducible runs and tests (default: the clock)",
    )


def parse_now(text: str | None) -> dt.datetime | None:
    """``--now`` text to a tz-aware UTC datetime (None: the clock)."""
    if not text:
        return None
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise ConfigError(f"--now {text!r} is not a time; use e.g. 2026-11-25T06:00Z") from None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def parse_date(text: str, option: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date; use YYYY-MM-DD") from None


# ---------------------------------------------------------------------------
# weather
# ---------------------------------------------------------------------------


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
    first_day: pd.Timestamp, weather_file: Path | None, as_of: bool, no_weather: bool
):
    """Pick the weather input: (source, data, info dict, days, notices)."""
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
        from forecast.sources.knmi import load_knmi

        knmi = load_knmi()
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
            + str(knmi.attrs.get("source", "KNMI station 340")),
            "run": None,
            "missing": "",
        }
        return "knmi", knmi.loc[: days[-1]], info, days, notices
    ds, why = None, ""
    if weather_file is not None:
        from forecast.stores.weather import read_weather_file

        ds = read_weather_file(weather_file)
        origin_label = f"file {weather_file}"
    else:
        try:
            from forecast.stores.weather import load_forecast_latest

            ds = load_forecast_latest()
            origin_label = "cached Open-Meteo forecast"
        except ForecastError as exc:
            why = "none in the local cache" if "no cached" in str(exc) else str(exc)
        except ImportError as exc:  # weather module not available
            why = f"weather module unavailable ({exc})"
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


# ---------------------------------------------------------------------------
# the outlook
# ---------------------------------------------------------------------------


def _predictor():
    """The pipeline with on-disk caches of the fitted model and tide/sky table."""
    try:
        from forecast.model import pipeline  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"the forecasting pipeline (forecast.model.pipeline.forecast_days) is not available: {exc}"
        ) from exc
    return CachedPredictor()


def _code_hash() -> str:
    """Hash of the code that shapes a fitted model (model, features, pipeline, tides, sky)."""
    import hashlib

    h = hashlib.sha256()
    pkg = config.REPO_ROOT / "forecast"
    for name in ("model.py", "features.py", "pipeline.py", "tides.py", "sky.py", "__init__.py"):
        path = pkg / name
        if path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _frame_hash(*frames) -> str:
    import hashlib

    h = hashlib.sha256()
    for f in frames:
        if f is None:
            h.update(b"none")
            continue
        h.update(",".join(map(str, f.columns)).encode())
        h.update(np.asarray(f.index.asi8).tobytes())
        h.update(np.nan_to_num(f.to_numpy(dtype=float), nan=-9e9).tobytes())
    return h.hexdigest()[:16]


class CachedPredictor:
    """:func:`forecast.model.pipeline.forecast_days` with disk caches for speed.

    - The tide/sky table (astronomy only) for ``pipeline.TRAIN_START`` to the end of next
      year is computed once and kept under ``config.cache_dir()/outlook/`` (keyed by the
      code hash); the pipeline's in-memory cache is primed from it.
    - The default model fitted at an origin is kept as a skops file under the same folder,
      keyed by a hash of its training inputs (arrivals up to the origin, training
      weather features, code), and passed to the pipeline as ``model=``.

    Training weather: KNMI models train on the bundled KNMI record, Open-Meteo models on
    the cached Open-Meteo archive (``forecast weather update``); the ``weather`` passed per
    call is used for the forecast days (the pipeline only trains on days up to the origin).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder or config.cache_dir() / "outlook")
        self.code = _code_hash()
        self._tide_sky: pd.DataFrame | None = None
        self._models: dict[str, object] = {}
        self._train_weather: dict[str, pd.DataFrame | None] = {}

    # -- tide and sky --------------------------------------------------------
    def tide_sky(self, end: pd.Timestamp) -> pd.DataFrame | None:
        from forecast.model import pipeline as P

        end = pd.Timestamp(end)
        if self._tide_sky is None or self._tide_sky.index[-1] < end:
            last = pd.Timestamp(year=max(end.year, pd.Timestamp.now().year) + 1, month=12, day=31)
            path = self.folder / f"tide_sky-{P.TRAIN_START:%Y%m%d}-{last:%Y%m%d}-{self.code}.csv"
            table = None
            if path.exists():
                try:
                    table = pd.read_csv(path, index_col="date", parse_dates=["date"])
                except (OSError, ValueError):
                    table = None
            if table is None:
                table = P.tide_sky_table(P.TRAIN_START, last)
                if not table.empty:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(".tmp")
                    table.rename_axis("date").to_csv(tmp)
                    tmp.replace(path)
            self._tide_sky = table.astype(float)
            self._tide_sky.index = pd.DatetimeIndex(self._tide_sky.index, name="date")
        if self._tide_sky.empty:
            return None
        return self._tide_sky.loc[:end]

    def _prime(self, end: pd.Timestamp) -> pd.DataFrame | None:
        from forecast.model import pipeline as P

        table = self.tide_sky(end)
        if table is not None:
            P._TIDE_SKY_CACHE[(pd.Timestamp(P.TRAIN_START), pd.Timestamp(end))] = table.loc[
                P.TRAIN_START : end
            ]
        return table

    # -- training weather -----------------------------------------------------
    def train_weather(self, source: str, origin: pd.Timestamp):
        from forecast.features import build as F

        if source == "none":
            return None
        if source not in self._train_weather:
            if source == "knmi":
                from forecast.sources.knmi import load_knmi

                table = F.weather_table(source, load_knmi())
            else:
                table = self._openmeteo_train_table(origin)
            # Columns never observed in training (e.g. visibility_min: the Open-Meteo
            # archive has none) are dropped by CrossingModel.fit itself.
            self._train_weather[source] = table
        return self._train_weather[source]

    def _openmeteo_train_table(self, origin: pd.Timestamp) -> pd.DataFrame:
        """Daily features of the cached Open-Meteo archive up to ``origin`` (disk-cached).

        Keyed by the archive files' names, sizes and modification times, so a
        ``forecast weather update`` invalidates it.
        """
        import hashlib

        from forecast.features import build as F
        from forecast.model import pipeline as P
        from forecast.stores import weather as W

        root = W.cache_root()
        h = hashlib.sha256(f"{origin:%Y%m%d}{self.code}".encode())
        for path in sorted(root.glob("*/*.nc")) if root.is_dir() else []:
            if path.name.startswith("run-"):
                continue
            st = path.stat()
            h.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}".encode())
        cache = self.folder / f"train_weather-openmeteo-{h.hexdigest()[:16]}.csv"
        if cache.exists():
            table = pd.read_csv(cache, index_col="date", parse_dates=["date"])
            table.attrs["weather_source"] = "openmeteo"
            table.attrs["weather_run"] = "Open-Meteo archive (cached)"
            return table
        raw = W.load_hourly(P.TRAIN_START.date(), pd.Timestamp(origin).date(), kind="archive")
        table = F.weather_table("openmeteo", raw)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        table.rename_axis("date").to_csv(tmp)
        tmp.replace(cache)
        return table

    # -- model ------------------------------------------------------------------
    def model(
        self,
        source: str,
        origin: pd.Timestamp,
        arrivals: pd.DataFrame,
        horizons: tuple[int, ...] | None = None,
    ):
        """The default model fitted at ``origin`` for lead times ``horizons`` [days].

        ``horizons`` defaults to the pipeline's ``TRAIN_HORIZONS`` (1-7 days); see
        :func:`train_horizons` for longer lead times.
        """
        from forecast.model import pipeline as P
        from forecast.model.crossing import LeadBandModel

        origin = pd.Timestamp(origin)
        horizons = tuple(horizons or P.TRAIN_HORIZONS)
        wtab = self.train_weather(source, origin)
        ts = self._prime(max(origin, arrivals.index[-1]))
        train_w = None if wtab is None else wtab.loc[:origin]
        key = _frame_hash(
            arrivals.loc[:origin, ["people", "boats"]],
            train_w,
            ts.loc[:origin] if ts is not None else None,
        )
        htag = "" if horizons == tuple(P.TRAIN_HORIZONS) else f"-h{horizons[0]}-{horizons[-1]}"
        name = f"model-{source}-{origin:%Y%m%d}{htag}-{key}-{self.code}.skops"
        if name in self._models:
            return self._models[name]
        path = self.folder / name
        model = None
        if path.exists():
            try:
                model = LeadBandModel.load(path)
            except ForecastError:
                model = None
        if model is None:
            model = P.fit_default_model(source, origin, arrivals, wtab, ts, horizons=horizons)
            try:
                model.save(path)
            except OSError:
                pass  # a read-only cache only costs speed
        self._models[name] = model
        return model

    def __call__(
        self,
        days,
        origin,
        weather_source="none",
        weather=None,
        arrivals=None,
        thresholds=config.BUSY_THRESHOLDS,
    ):
        """Forecast ``days`` (as :func:`forecast.model.pipeline.forecast_days`).

        CrossingModel fits and predicts single-threaded itself (see forecast/model.py).
        """
        return self._call(days, origin, weather_source, weather, arrivals, thresholds)

    def _call(
        self,
        days,
        origin,
        weather_source="none",
        weather=None,
        arrivals=None,
        thresholds=config.BUSY_THRESHOLDS,
    ):
        from forecast.model import pipeline as P

        days = pd.DatetimeIndex(days)
        horizons = train_horizons(days, origin)
        model = self.model(weather_source, origin, arrivals, horizons)
        self._prime(max(days.max(), arrivals.index[-1]))
        if weather_source == "knmi" and weather is None:
            from forecast.sources.knmi import load_knmi

            weather = load_knmi()
        pred = P.forecast_days(
            days,
            origin,
            weather_source=weather_source,
            weather=weather,
            arrivals=arrivals,
            thresholds=thresholds,
            model=model,
        )
        prov = dict(pred.attrs.get("provenance", {}))
        prov["train_horizons"] = [horizons[0], horizons[-1]]
        pred.attrs["provenance"] = prov
        return pred


def train_horizons(days, origin) -> tuple[int, ...]:
    """Lead times [days] the model is trained for, given the days to forecast.

    Up to 7 days ahead: the pipeline's default 1-7. Further ahead (old arrivals data,
    16-day forecasts, year-end scenarios) the model is trained for exactly the lead times
    asked, ``min..max``: each past training day is seen from an origin that many days
    earlier, so stale recent-history terms (e.g. "97 days since the last known
    crossing") are ones the model has learnt from, not values it never saw.
    """
    from forecast.model import pipeline as P

    lead = (pd.DatetimeIndex(days) - pd.Timestamp(origin)).days
    h0, h1 = int(lead.min()), int(lead.max())
    if h1 <= max(P.TRAIN_HORIZONS):
        return tuple(P.TRAIN_HORIZONS)
    return tuple(range(max(1, h0), h1 + 1))


#: A replay needs this much training history after ``pipeline.TRAIN_START`` [days].
REPLAY_MIN_TRAINING_DAYS = 365


def replay_span(arrivals: pd.DataFrame, knmi: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day a ``--as-of`` replay can start on.

    First: a year of training data after ``pipeline.TRAIN_START`` (and 8 days of KNMI
    weather before it). Last: arrivals known up to the day before, and KNMI weather for
    all 7 days.
    """
    from forecast.model import pipeline as P

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


def check_replay_day(first_day: pd.Timestamp, arrivals: pd.DataFrame) -> None:
    """Raise :class:`ConfigError` unless a replay can start on ``first_day``."""
    from forecast.model import pipeline as P
    from forecast.sources.knmi import load_knmi

    knmi = load_knmi()
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

    Returns
    -------
    (outlook, arrivals) : (dict, DataFrame)
        The outlook dictionary and the arrivals known at issue.
    """
    from forecast.stores.arrivals import load_arrivals

    predict = predict or _predictor()
    issued = ol.issued_now(now_utc)
    arrivals = load_arrivals(now_utc=issued)
    actual = None
    if as_of is not None:
        first_day = pd.Timestamp(as_of).normalize()
        check_replay_day(first_day, arrivals)
        actual = arrivals.loc[first_day:]
        known = arrivals.loc[: first_day - pd.Timedelta(days=1)].copy()
        known.attrs = dict(arrivals.attrs)
        known.attrs["end_date"] = known.index[-1].date().isoformat()
        arrivals = known
    else:
        first_day = ol.first_outlook_day(issued)
    source, weather, info, days, notices = choose_weather(
        first_day, weather_file, as_of is not None, no_weather
    )
    if as_of is not None:
        notices.insert(
            0,
            f"REPLAY of {first_day.date()}: only arrivals up to {arrivals.index[-1].date()} are used; "
            "observed KNMI station weather (an inland proxy) stands in for the forecast, which "
            "flatters the model compared with a real forecast. 'actual' shows what happened.",
        )
    arrivals_end = arrivals.index[-1]
    origin = min(arrivals_end, first_day - pd.Timedelta(days=1))
    try:
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
        source, weather = "none", None
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
        from forecast.products import scenarios as sc
        from forecast.sources.knmi import load_knmi

        cache = None
        if isinstance(predict, CachedPredictor):
            key = _frame_hash(arrivals.loc[:origin, ["people", "boats"]])
            # v2: scenario runs use a model trained for their lead times (train_horizons)
            cache = predict.folder / f"year_end-v2-{origin:%Y%m%d}-{key}-{predict.code}.json"
        if cache is not None and cache.exists():
            year_end = json.loads(cache.read_text(encoding="utf-8"))
        else:
            try:
                year_end = sc.year_end_bands(
                    arrivals,
                    origin,
                    load_knmi(),
                    origin=origin,
                    predict=predict,
                    thresholds=thresholds,
                )
            except ForecastError as exc:
                notices.append(f"Year-end scenarios not available: {exc}")
            if year_end is not None and cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(".tmp")
                tmp.write_text(json.dumps(ol._clean(year_end)), encoding="utf-8")
                tmp.replace(cache)
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
    )
    if compare and as_of is None:
        out["changes"] = ol.compare_outlooks(out, ol.latest_outlook(before_utc=out["issued_utc"]))
    return out, arrivals


def write_latest(outlook: dict) -> Path:
    """Write ``out_dir()/outlook.json`` (what ``forecast report`` renders by default)."""
    path = config.out_dir() / "outlook.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(ol.to_json(outlook), encoding="utf-8")
    tmp.replace(path)
    return path


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "outlook",
        help="the weekly outlook: red/amber/green, expected people with ranges, drivers",
        description=(
            "For each of the next 7 days (up to 16 where the weather forecast reaches, marked "
            "lower confidence): red/amber/green with P(any crossing), expected people with an "
            "80 % range, P(more than N people), expected boats and the main drivers in words; "
            "the week's total with its range, year to date and year-end scenario bands, and what "
            "changed since the previous outlook. Works offline: without a cached weather "
            "forecast it gives a clearly labelled weather-free outlook. --as-of replays a past "
            "date with the bundled KNMI observed weather, next to what happened. --scenario "
            "YEAR:WEATHER_YEAR shows a past period under another year's weather."
        ),
    )
    p.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default table)"
    )
    p.add_argument(
        "--thresholds",
        default=None,
        help="busy-day thresholds [people], comma separated (default 300,500)",
    )
    p.add_argument(
        "--weather",
        type=Path,
        default=None,
        metavar="FILE",
        help="weather forecast file (Open-Meteo JSON or NetCDF) instead of the cache",
    )
    p.add_argument(
        "--no-weather",
        action="store_true",
        help="weather-free outlook even if a forecast is cached",
    )
    p.add_argument(
        "--as-of",
        default=None,
        metavar="DATE",
        help="replay the outlook as issued on DATE (YYYY-MM-DD) with data known then",
    )
    p.add_argument(
        "--scenario",
        default=None,
        metavar="YEAR:WEATHER_YEAR",
        help="weather attribution: e.g. 2024:2023 models 2024 with 2023's weather",
    )
    p.add_argument(
        "--no-scenarios", action="store_true", help="skip the year-end scenario bands (faster)"
    )
    add_now_option(p)
    p.add_argument(
        "--no-save",
        action="store_true",
        help="do not keep this outlook under DATA_DIR/outlooks (used for 'what changed')",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    thresholds = parse_thresholds(args.thresholds)
    if args.scenario:
        return run_scenario(args, thresholds)
    as_of = parse_date(args.as_of, "--as-of") if args.as_of else None
    outlook, _ = make_outlook(
        now_utc=parse_now(args.now),
        as_of=as_of,
        thresholds=thresholds,
        weather_file=args.weather,
        no_weather=args.no_weather,
        scenarios=not args.no_scenarios,
    )
    if as_of is None and not args.no_save:
        outlook["saved_to"] = str(ol.save_outlook(outlook))
    write_latest(outlook)
    if args.format == "json":
        print(ol.to_json(outlook))
    elif args.format == "csv":
        sys.stdout.write(ol.to_csv(outlook))
    else:
        print(ol.format_table(outlook))
        print(
            f"\n(outlook made in {time.perf_counter() - t0:.1f} s; 'forecast report' draws the page)"
        )
    return 0


def run_scenario(args: argparse.Namespace, thresholds: tuple[int, ...]) -> int:
    from forecast.products import scenarios as sc
    from forecast.sources.knmi import load_knmi
    from forecast.stores.arrivals import load_arrivals

    text = str(args.scenario)
    try:
        year_s, wyear_s = text.split(":")
        year, wyear = int(year_s), int(wyear_s)
    except ValueError:
        raise ConfigError(
            f"--scenario {text!r}: expected YEAR:WEATHER_YEAR, e.g. 2024:2023"
        ) from None
    result = sc.weather_swap(
        year, wyear, load_arrivals(), load_knmi(), predict=_predictor(), thresholds=thresholds
    )
    if args.format == "json":
        print(json.dumps(ol._clean(result), indent=1))
    elif args.format == "csv":
        rows = []
        for key in ("own_weather", "other_weather"):
            rows.append({"run": key, **result[key]})
        rows.append(
            {
                "run": "actual",
                "weather_year": year,
                "expected": result["actual"],
                "red_days": np.nan,
            }
        )
        sys.stdout.write(pd.DataFrame(rows).to_csv(index=False, lineterminator="\n"))
    else:
        print(sc.format_swap(result))
    return 0
