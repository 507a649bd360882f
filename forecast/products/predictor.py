"""The forecasting pipeline behind the outlook, with disk caches for speed.

:class:`CachedPredictor` wraps :func:`forecast.model.pipeline.forecast_days`: the tide/sky
table and the models fitted at each origin are kept under ``config.cache_dir()/outlook``
(git-ignored), keyed by hashes of their inputs and of the code that shapes them, so a
warm outlook takes well under a second.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import config, fileio
from forecast.errors import ConfigError, ForecastError
from forecast.features import build as F
from forecast.model import pipeline as P
from forecast.model.crossing import LeadBandModel
from forecast.sources.knmi import load_knmi
from forecast.stores import weather as W


def default_predictor(knmi: pd.DataFrame | None = None) -> CachedPredictor:
    """The pipeline with on-disk caches of the fitted model and tide/sky table.

    ``knmi``: the station weather KNMI models train on (default the bundled stations).
    """
    return CachedPredictor(knmi=knmi)


#: Packages whose code shapes a fitted model (cached models are keyed by a hash of them).
MODEL_CODE = ("model", "features", "sources")


def code_hash() -> str:
    """Hash of the code that shapes a fitted model (model, features, sources, version)."""
    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parent.parent
    for sub in MODEL_CODE:
        for path in sorted((pkg / sub).glob("*.py")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    h.update((pkg / "__init__.py").read_bytes())
    return h.hexdigest()[:16]


def frame_hash(*frames) -> str:

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

    def __init__(self, folder: Path | None = None, knmi: pd.DataFrame | None = None) -> None:
        self.folder = Path(folder or config.cache_dir() / "outlook")
        self._knmi = knmi
        self.code = code_hash()
        self._tide_sky: pd.DataFrame | None = None
        self._models: dict[str, object] = {}
        self._train_weather: dict[str, pd.DataFrame | None] = {}

    def knmi(self) -> pd.DataFrame:
        """The station weather KNMI models train on (loaded once)."""
        if self._knmi is None:
            self._knmi = load_knmi()
        return self._knmi

    # -- tide and sky --------------------------------------------------------
    def tide_sky(self, end: pd.Timestamp) -> pd.DataFrame | None:

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
                    fileio.write_text(path, table.rename_axis("date").to_csv(), "tide/sky cache")
            self._tide_sky = table.astype(float)
            self._tide_sky.index = pd.DatetimeIndex(self._tide_sky.index, name="date")
        if self._tide_sky.empty:
            return None
        return self._tide_sky.loc[:end]

    def _prime(self, end: pd.Timestamp) -> pd.DataFrame | None:

        table = self.tide_sky(end)
        if table is not None:
            P.prime_tide_sky(P.TRAIN_START, end, table.loc[P.TRAIN_START : end])
        return table

    # -- training weather -----------------------------------------------------
    def train_weather(self, source: str, origin: pd.Timestamp):

        if source == "none":
            return None
        if source not in self._train_weather:
            if source == "knmi":
                table = F.weather_table(source, self.knmi())
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
        fileio.write_text(cache, table.rename_axis("date").to_csv(), "training-weather cache")
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

        origin = pd.Timestamp(origin)
        horizons = tuple(horizons or P.TRAIN_HORIZONS)
        wtab = self.train_weather(source, origin)
        ts = self._prime(max(origin, arrivals.index[-1]))
        train_w = None if wtab is None else wtab.loc[:origin]
        key = frame_hash(
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
        fit_origin=None,
    ):
        """Forecast ``days`` (as :func:`forecast.model.pipeline.forecast_days`).

        ``fit_origin`` (on or before ``origin``; default ``origin``): fit the model on
        the days known then and reuse it for later origins, e.g. monthly refits across a
        year of weekly forecasts. CrossingModel fits and predicts single-threaded itself.
        """
        fit_at = pd.Timestamp(fit_origin if fit_origin is not None else origin)
        if fit_at > pd.Timestamp(origin):
            raise ConfigError(
                f"fit_origin {fit_at.date()} is after the origin {pd.Timestamp(origin).date()}: "
                "a model may only be fitted on what was known at the origin."
            )
        if weather_source == "knmi" and weather is None:
            weather = self.knmi()
        forecast = self.member_forecaster(
            days, origin, weather_source, arrivals, thresholds, fit_origin=fit_at
        )
        return forecast(weather)

    def member_forecaster(
        self,
        days,
        origin,
        weather_source: str,
        arrivals: pd.DataFrame,
        thresholds=config.BUSY_THRESHOLDS,
        fit_origin=None,
    ):
        """A function weather -> forecast of ``days``, sharing one model fitted at ``origin``
        (or at ``fit_origin``, on or before it).

        For ensembles: the model is fitted (or read from the cache) once here, and each
        member's weather is only run through it
        (:func:`forecast.model.pipeline.forecast_days` with ``model=``).
        """
        days = pd.DatetimeIndex(days)
        horizons = train_horizons(days, origin)
        fit_at = pd.Timestamp(fit_origin if fit_origin is not None else origin)
        model = self.model(weather_source, fit_at, arrivals.loc[:fit_at], horizons)
        self._prime(max(days.max(), arrivals.index[-1]))

        def forecast(weather) -> pd.DataFrame:
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

        return forecast


def train_horizons(days, origin) -> tuple[int, ...]:
    """Lead times [days] the model is trained for, given the days to forecast.

    Up to 7 days ahead: the pipeline's default 1-7. Further ahead (old arrivals data,
    16-day forecasts, year-end scenarios) the model is trained for exactly the lead times
    asked, ``min..max``: each past training day is seen from an origin that many days
    earlier, so stale recent-history terms (e.g. "97 days since the last known
    crossing") are ones the model has learnt from, not values it never saw.
    """

    lead = (pd.DatetimeIndex(days) - pd.Timestamp(origin)).days
    h0, h1 = int(lead.min()), int(lead.max())
    if h1 <= max(P.TRAIN_HORIZONS):
        return tuple(P.TRAIN_HORIZONS)
    return tuple(range(max(1, h0), h1 + 1))
