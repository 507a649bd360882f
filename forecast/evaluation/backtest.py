"""Rolling-origin backtest: no future leakage, every forecaster scored the same way.

For each target day D and horizon h the forecast origin is O = D - h: the model used
was fitted at the latest refit origin R <= O on target days <= R only, and the
features of (D, h) use arrivals up to O only. Refits happen every ``refit_every`` days
over an expanding window (all history) or a sliding one (the last ``window_days``).
With an explicit ``train_end`` there is a single fit on days <= ``train_end`` and only
rows whose origin is on or after ``train_end`` are evaluated.

Each run is labelled by its weather input (:data:`WEATHER_LABELS`): an observed
regional proxy (KNMI, perfect prognosis: the real weather of the day is known),
reanalysis (optimistic), historical forecasts as issued (honest) or none.

:func:`assert_no_leakage` rebuilds the features of an origin from arrivals cut (and
perturbed) after that origin and raises :class:`LeakageError` if anything changed; the
backtest runs it at refit origins.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast import config
from forecast.errors import ConfigError, ForecastError
from forecast.evaluation import metrics as M
from forecast.evaluation.forecast_weather import (
    LABEL,
    ForecastWeather,
    WeatherError,
    dressed_member_rows,
    ensemble_member_rows,
    replace_weather,
    row_origins,
)
from forecast.evaluation.refits import (
    MODEL_NAME,
    WEATHER_FREE_NAME,
    MemberRows,
    Refit,
    refit_chunk,
    warm_worker,
)
from forecast.evaluation.scheduler import run_tasks
from forecast.features import build as F
from forecast.fileio import write_text, write_with
from forecast.model.crossing import (
    NAMED_LEVELS,
    check_lead_bands,
)
from forecast.model.pipeline import (
    LEAD_BANDS,
    TRAIN_HORIZONS,
    TRAIN_START,
    band_horizons,
    banded_training_rows,
    tide_sky_table,
)

#: Label of each weather input, shown with every backtest result.
WEATHER_LABELS = {
    "knmi": "observed KNMI station weather (regional proxy), perfect prognosis",
    "reanalysis": "reanalysis (Open-Meteo archive), optimistic",
    "historical_forecast": "historical forecasts as issued (Open-Meteo), honest",
    "openmeteo": "Open-Meteo hourly weather",
    "none": "none (weather-free)",
    "synthetic": "synthetic (simulation test only; not real weather)",
}


class LeakageError(ForecastError):
    """Features at a forecast origin changed when data after the origin changed."""


@dataclass
class BacktestSpec:
    """What to evaluate.

    Parameters
    ----------
    start, end : str
        First and last target day evaluated (ISO dates).
    horizons : sequence of int
        Lead times [days] (origin = day - horizon).
    refit_every : int
        Days between refits (rolling mode).
    window : {"expanding", "sliding"}
        Training window of each refit.
    window_days : int
        Length of the sliding window [days].
    train_end : str or None
        Explicit split: fit once on target days <= train_end (no refits).
    thresholds : sequence of int
        Busy-day thresholds [people].
    model_params : dict
        Extra CrossingModel parameters.
    baselines : bool
        Also score the baselines and the weather-free model.
    recalibrate_every : int
        Recompute the out-of-fold calibration (Platt scaling, residual distribution) at
        every n-th refit and reuse the previous one in between (speed; 1 = always).
    lead_bands : sequence of sequence of int, or None
        One model per band of lead times [days] (default ``pipeline.LEAD_BANDS``: D+1
        alone, D+2..7 together; see ``pipeline.band_horizons``). None: one pooled model
        for every horizon, its training rows cycling through ``train_horizons``.
    train_horizons : sequence of int
        Horizons the pooled model's training rows cycle through (``lead_bands=None``;
        see ``pipeline.training_rows``).
    n_jobs : int
        Worker processes for the refits (1: this process). Results do not depend on it.
    leakage_checks : int
        Run :func:`assert_no_leakage` at this many refit origins (spread evenly).
    weather_error : {"none", "published"}
        ``published``: every row sees the weather of its origin, days after it replaced
        by simulated forecasts (:mod:`forecast.evaluation.forecast_weather`; KNMI only).
        Every output of such a run is labelled "simulated forecast error".
    error_seed : int
        Seed of the simulated forecasts.
    error_draws : int
        Simulated forecasts per training day (``train_weather="forecast"``).
    train_weather : {"forecast", "observed"} or None
        Weather of the training rows under ``weather_error``: simulated forecasts at the
        row's own lead, or the observed weather (perfect prognosis in training). None:
        ``observed`` with ``dressed_members``, else ``forecast``.
    ensemble_members : int
        ``>= 2``: test weather is a simulated ensemble of this many members; forecasters
        that use weather are scored as the mixture over members.
    dressed_members : int
        ``>= 2``: the one simulated forecast of each test row is dressed with its error
        into this many members (``forecast_error.dress_forecast``, what the live outlook
        does without a cached ensemble); forecasters that use weather are scored as the
        mixture over members. Needs ``train_weather`` ``observed`` (the default then);
        not with ``ensemble_members``.
    scheduler : str or None
        None: worker processes as set by ``n_jobs``. ``"local"``: a dask LocalCluster of
        ``n_jobs`` workers; an address (``tcp://host:8786``): the dask scheduler there.
        Refits run through joblib's dask backend (:mod:`forecast.evaluation.scheduler`).
    """

    start: str = "2019-01-01"
    end: str = "2025-06-30"
    horizons: Sequence[int] = (1, 2, 3, 4, 5, 6, 7)
    refit_every: int = 7
    window: str = "expanding"
    window_days: int = 3 * 365
    train_end: str | None = None
    thresholds: Sequence[int] = config.BUSY_THRESHOLDS
    model_params: dict = field(default_factory=dict)
    baselines: bool = True
    leakage_checks: int = 3
    recalibrate_every: int = 8
    n_jobs: int = 1
    train_horizons: Sequence[int] = TRAIN_HORIZONS
    lead_bands: Sequence[Sequence[int]] | None = LEAD_BANDS
    weather_error: str = "none"
    error_seed: int = 0
    error_draws: int = 1
    train_weather: str | None = None
    ensemble_members: int = 0
    dressed_members: int = 0
    scheduler: str | None = None

    def error(self) -> WeatherError:
        """The simulated forecast error of this run (:class:`WeatherError`)."""
        train = self.train_weather or ("observed" if self.dressed_members else "forecast")
        return WeatherError(
            mode=self.weather_error,
            seed=int(self.error_seed),
            draws=int(self.error_draws),
            train=train,
            members=int(self.ensemble_members),
            dressed=int(self.dressed_members),
        )

    def validate(self) -> None:
        for name in ("start", "end", "train_end"):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                pd.Timestamp(value)
            except (ValueError, TypeError) as exc:
                raise ConfigError(
                    f"--{name.replace('_', '-')} {value!r} is not a date; use YYYY-MM-DD."
                ) from exc
        if self.window not in ("expanding", "sliding"):
            raise ConfigError(f"window={self.window!r}; use 'expanding' or 'sliding'.")
        if self.recalibrate_every < 1:
            raise ConfigError(
                f"--recalibrate-every {self.recalibrate_every} (recalibrate_every): must be "
                ">= 1 (1 = at every refit)."
            )
        if self.lead_bands is not None:
            check_lead_bands(self.lead_bands, "--lead-bands (lead_bands)")
        if self.n_jobs < 1:
            raise ConfigError(f"--jobs {self.n_jobs} (n_jobs): use 1 or more worker processes.")
        if self.refit_every < 1:
            raise ConfigError(f"refit_every={self.refit_every}; must be >= 1 day.")
        if not self.horizons or min(self.horizons) < 1:
            raise ConfigError(f"horizons={list(self.horizons)}; each must be >= 1 day.")
        if pd.Timestamp(self.end) < pd.Timestamp(self.start):
            raise ConfigError(f"--end {self.end} is before --start {self.start}.")
        if self.train_end is not None and pd.Timestamp(self.train_end) >= pd.Timestamp(self.start):
            raise ConfigError(
                f"--train-end {self.train_end} must be before --start {self.start} "
                "(the evaluated days must come after the training days)."
            )


@dataclass
class BacktestResult:
    """Predictions (long table), scores and metadata of one backtest run."""

    predictions: pd.DataFrame
    scores: pd.DataFrame
    meta: dict

    def headline(self, horizon: int = 1) -> dict:
        """Key scores of the model at ``horizon`` with skill against the baselines."""
        s = self.scores
        row = s[(s.forecaster == MODEL_NAME) & (s.group == f"h{horizon}")]
        if row.empty:
            return {}
        r = row.iloc[0]
        out = {
            k: json_default(r[k])
            for k in (
                "n",
                "auc_any",
                "brier_any",
                "auc_gt_300",
                "mae",
                "crps",
                "coverage_80",
                "coverage_50",
                "coverage_95",
                "mae_median",
                "coverage_80_crossing_days",
                "coverage_80_zero_days",
                "coverage_80_pit",
                "share_above_q90",
                "share_below_q10",
                "reliability_slope_any",
                "reliability_slope_gt_300",
                "mae_skill_vs_zero",
                "mae_median_skill_vs_zero",
                "mae_skill_vs_best_rule",
                "mae_median_skill_vs_best_rule",
            )
            if k in r.index
        }
        out["best_rule"] = best_rule(s, f"h{horizon}")
        ref = s[(s.group == f"h{horizon}")].set_index("forecaster")
        if "climatology_month" in ref.index:
            out["bss_any_vs_climatology_month"] = json_default(
                1 - r["brier_any"] / ref.loc["climatology_month", "brier_any"]
            )
        if "same_day_last_week" in ref.index:
            out["mae_skill_vs_last_week"] = json_default(
                1 - r["mae"] / ref.loc["same_day_last_week", "mae"]
            )
        out["horizon"] = horizon
        out["weather_label"] = self.meta.get("weather_label", "")
        return out


def json_default(v):
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


# ---------------------------------------------------------------------------
# features of evaluation rows
# ---------------------------------------------------------------------------


def eval_features(
    arrivals: pd.DataFrame,
    dates,
    origins,
    weather_source: str,
    wtab: pd.DataFrame | None,
    tide_sky: pd.DataFrame | None,
) -> pd.DataFrame:
    """Features of (day, origin) rows plus ``people_same_weekday`` for the persistence baseline.

    ``people_same_weekday`` is people on D-7k for the smallest k with D-7k <= origin.
    """
    X = F.build_features(
        dates,
        origins,
        arrivals,
        weather_source,
        wtab,
        tide_sky=tide_sky,
        include_tide_sky=tide_sky is not None,
    )
    dates = F.as_dates(dates)
    h = X["horizon"].to_numpy().astype(int)
    k = -(-h // 7)
    back = dates - pd.to_timedelta(7 * k, unit="D")
    X["people_same_weekday"] = arrivals["people"].reindex(back).to_numpy(dtype=float)
    X.attrs["weather_source"] = weather_source
    return X


FeatureFn = Callable[[pd.DataFrame, pd.DatetimeIndex, pd.DatetimeIndex], pd.DataFrame]


def assert_no_leakage(
    feature_fn: FeatureFn, arrivals: pd.DataFrame, origin, horizons: Sequence[int], seed: int = 0
) -> None:
    """Check that features seen from ``origin`` ignore arrivals after it.

    Builds the features of days ``origin + h`` three ways: with all arrivals, with
    arrivals cut at the origin, and with arrivals after the origin replaced by random
    counts; all must be identical.

    Parameters
    ----------
    feature_fn : callable
        ``feature_fn(arrivals, dates, origins) -> DataFrame``.
    arrivals : pandas.DataFrame
    origin : date
    horizons : sequence of int

    Raises
    ------
    LeakageError
        Naming the columns that changed.
    """
    origin = pd.Timestamp(origin)
    dates = F.as_dates([origin + pd.Timedelta(days=int(h)) for h in horizons])
    origins = F.as_dates([origin] * len(dates))
    full = feature_fn(arrivals, dates, origins)
    cut = arrivals.loc[:origin]
    perturbed = arrivals.copy()
    after = perturbed.index > origin
    rng = np.random.default_rng(seed)
    perturbed.loc[after, "people"] = rng.integers(0, 2000, after.sum())
    perturbed.loc[after, "boats"] = rng.integers(0, 40, after.sum())
    for name, variant in (("cut", cut), ("perturbed", perturbed)):
        other = feature_fn(variant, dates, origins)
        changed = [
            c
            for c in full.columns
            if not np.array_equal(
                full[c].to_numpy(dtype=float), other[c].to_numpy(dtype=float), equal_nan=True
            )
        ]
        if changed:
            raise LeakageError(
                f"features {changed} at origin {origin.date()} change when arrivals after the "
                f"origin are {name}: they use data from after the origin. Build them from "
                "arrivals up to the origin only (see forecast.features.build.arrivals_features)."
            )


# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------


def _chunk_bounds(tasks: list[Refit], n_jobs: int) -> list[int]:
    """Start of each of (at most) ``n_jobs`` chunks of about equal work, each at a
    recalibration, plus the end. The work of a refit grows with its training rows (an
    expanding window makes late refits dearer)."""
    starts = [k for k, t in enumerate(tasks) if t.recalibrate] or [0]
    if starts[0] != 0:
        starts = [0] + starts
    cost = np.cumsum([0.0] + [t.hi - t.lo + 365.0 for t in tasks])
    want = [cost[-1] * j / n_jobs for j in range(n_jobs)]
    bounds = sorted({min(starts, key=lambda s, w=w: abs(cost[s] - w)) for w in want} | {0})
    return bounds + [len(tasks)]


def _chunk_inputs(common: dict, chunk: list[Refit]) -> tuple[dict, list[Refit]]:
    """Only the rows a chunk needs (less to send to, and hold in, a worker process)."""
    sel = np.concatenate([t.sel for t in chunk])
    pos = np.cumsum([0] + [len(t.sel) for t in chunk])
    hi = max(t.hi for t in chunk)
    Xall = common["Xall"].iloc[sel]
    Xall.attrs.update(common["Xall"].attrs)
    part = dict(
        common,
        Xall=Xall,
        yall=common["yall"][sel],
        rows=common["rows"].iloc[sel],
        Xbig=common["Xbig"].iloc[:hi],
        ybig=common["ybig"][:hi],
        bbig=common["bbig"][:hi],
    )
    if common.get("members") is not None:
        part["members"] = common["members"][:, sel]
    if common.get("draw") is not None:
        part["draw"] = common["draw"][:hi]
    tasks = [
        Refit(t.i, t.origin, t.lo, t.hi, np.arange(pos[k], pos[k + 1]), t.recalibrate)
        for k, t in enumerate(chunk)
    ]
    return part, tasks


def _run_refits(
    common: dict, tasks: list[Refit], n_jobs: int, progress, n_total: int, pool=None
) -> list:
    """Run the refits in this process, or in ``n_jobs`` worker processes (same results as
    one process). The refits are cut into many small chunks, each starting at a
    recalibration; the dearest (latest, most training rows) go first and each worker
    takes the next chunk when it is free, so the workers finish together. Chunk inputs
    are built only when a chunk is handed out (at most ``n_jobs`` in flight)."""
    scheduler = getattr(common.get("spec"), "scheduler", None)
    if scheduler is None and (n_jobs <= 1 or len(tasks) < 2 * n_jobs):
        return refit_chunk(common, tasks, progress, n_total)
    bounds = _chunk_bounds(tasks, 16 * max(n_jobs, 2))
    chunks = [tasks[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    todo = sorted(range(len(chunks)), key=lambda k: -sum(t.hi - t.lo + 365.0 for t in chunks[k]))
    if scheduler is not None:  # joblib on a dask cluster; the dearest chunks first

        def report(i: int) -> None:
            if progress is not None:
                progress(f"chunk {i + 1}/{len(chunks)}")

        done = run_tasks(
            refit_chunk,
            (_chunk_inputs(common, chunks[k]) for k in todo),
            scheduler,
            n_jobs,
            report,
        )
        by_chunk = dict(zip(todo, done, strict=True))
        return [f for k in range(len(chunks)) for f in by_chunk[k]]
    results: dict[int, list] = {}
    done_refits = 0
    with ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(_worker_pool(BacktestSpec(n_jobs=n_jobs)))
        running = {}
        while todo or running:
            while todo and len(running) < n_jobs:
                k = todo.pop(0)
                running[pool.submit(refit_chunk, *_chunk_inputs(common, chunks[k]))] = k
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in finished:
                k = running.pop(f)
                results[k] = f.result()
                done_refits += len(chunks[k])
                if progress is not None:
                    progress(
                        f"refit {done_refits}/{n_total} (chunk ending {chunks[k][-1].origin.date()})"
                    )
    frames = []
    for k in range(len(chunks)):
        frames += results[k]
    return frames


def run_backtest(
    arrivals: pd.DataFrame,
    weather_source: str = "none",
    weather=None,
    spec: BacktestSpec | None = None,
    weather_label: str | None = None,
    cfg: F.FeatureConfig = F.DEFAULT_CONFIG,
    tide_sky: pd.DataFrame | None | bool = True,
    feature_fn: FeatureFn | None = None,
    progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Rolling-origin (or explicit-split) backtest of the model and the baselines.

    Parameters
    ----------
    arrivals : pandas.DataFrame
        Daily arrivals (``people``, ``boats``).
    weather_source : {"knmi", "openmeteo", "none"}
    weather : DataFrame or xarray.Dataset, optional
        The weather input (KNMI daily table or hourly Dataset).
    spec : BacktestSpec
    weather_label : str, optional
        Label of the weather input (default from :data:`WEATHER_LABELS`).
    cfg : FeatureConfig
    tide_sky : DataFrame, bool or None
        Precomputed tide/sky features, True to compute them when the modules exist,
        False/None to leave them out.
    feature_fn : callable, optional
        Override of the evaluation feature builder (used by the leakage test).

    Returns
    -------
    BacktestResult
    """
    spec = spec or BacktestSpec()
    spec.validate()
    spec.error().validate(weather_source, max(int(h) for h in spec.horizons))  # before the work
    with _worker_pool(spec) as pool:
        return _run(
            arrivals,
            weather_source,
            weather,
            spec,
            weather_label,
            cfg,
            tide_sky,
            feature_fn,
            progress,
            pool,
        )


@contextmanager
def _worker_pool(spec: BacktestSpec):
    """The worker processes of a rolling backtest with ``n_jobs`` > 1 (None otherwise),
    started at once so that their start-up overlaps the feature building."""
    if spec.n_jobs <= 1 or spec.train_end is not None or spec.scheduler is not None:
        yield None
        return
    # spawn, not fork: forking a process that has started OpenMP threads can hang
    with ProcessPoolExecutor(spec.n_jobs, mp_context=mp.get_context("spawn")) as pool:
        for _ in range(spec.n_jobs):
            pool.submit(warm_worker)
        yield pool


def _run(
    arrivals,
    weather_source,
    weather,
    spec,
    weather_label,
    cfg,
    tide_sky,
    feature_fn,
    progress,
    pool=None,
):
    F.check_source(weather_source)
    wtab = F.weather_table(weather_source, weather, cfg)
    start, end = pd.Timestamp(spec.start), pd.Timestamp(spec.end)
    horizons = sorted(int(h) for h in spec.horizons)
    hmax = max(horizons)
    last = arrivals.index[-1]
    if wtab is not None:
        last = min(last, wtab.dropna(subset=["wind_speed_10m_mean"]).index.max())
    end = min(end, last)
    if end < start:
        raise ConfigError(
            f"nothing to evaluate: data end on {last.date()}, before --start {start.date()}; "
            "choose an earlier --start or give weather covering the period."
        )
    if tide_sky is True:
        ts = tide_sky_table(TRAIN_START, end)
        tide_sky = ts if not ts.empty else None
    elif tide_sky is False:
        tide_sky = None

    def feats(arr, dates, origins):
        return eval_features(arr, dates, origins, weather_source, wtab, tide_sky)

    feature_fn = feature_fn or feats

    # evaluation rows (day, horizon)
    days = pd.date_range(start, end, freq="D", name="date")
    if wtab is not None:
        days = days[days.isin(wtab.dropna(subset=["wind_speed_10m_mean"]).index)]
    rows = pd.DataFrame([(d, h) for h in horizons for d in days], columns=["date", "horizon"])
    rows["origin"] = rows["date"] - pd.to_timedelta(rows["horizon"], unit="D")
    if spec.train_end is not None:
        te = pd.Timestamp(spec.train_end)
        rows = rows[rows["origin"] >= te].reset_index(drop=True)
        rows["refit"] = te
        refits = [te]
    else:
        first = start - pd.Timedelta(days=hmax)
        k = ((rows["origin"] - first) / pd.Timedelta(days=1)).astype(int) // spec.refit_every
        rows["refit"] = first + pd.to_timedelta(k * spec.refit_every, unit="D")
        refits = sorted(rows["refit"].unique())
    if rows.empty:
        raise ConfigError("no evaluation rows: every origin falls before --train-end.")

    Xall = feature_fn(arrivals, F.as_dates(rows["date"]), F.as_dates(rows["origin"]))
    Xall.index = pd.RangeIndex(len(rows))
    yall = arrivals["people"].reindex(rows["date"]).to_numpy(dtype=float)
    checks = (
        set(
            np.linspace(0, len(refits) - 1, min(spec.leakage_checks, len(refits)))
            .astype(int)
            .tolist()
        )
        if spec.leakage_checks
        else set()
    )

    # one model per band of lead times (horizons beyond the last band extend it)
    bands = band_horizons(
        horizons, spec.lead_bands if spec.lead_bands is not None else (spec.train_horizons,)
    )
    # Training rows of every refit, built once: a row's features depend on its day and
    # origin only (each band's horizon cycle is tied to the date), so the rows up to
    # refit R are a slice of this date-sorted table (tests/test_backtest.py checks it
    # against a fresh build).
    first_start = (
        TRAIN_START
        if spec.window == "expanding"
        else pd.Timestamp(refits[0]) - pd.Timedelta(days=spec.window_days - 1)
    )
    Xbig, ybig, bbig = banded_training_rows(
        arrivals, first_start, pd.Timestamp(refits[-1]), weather_source, wtab, tide_sky, bands
    )
    for i in sorted(checks):
        assert_no_leakage(feature_fn, arrivals, pd.Timestamp(refits[i]), horizons)
    werr = spec.error()
    werr.validate(weather_source, max(max(b) for b in [horizons, *bands]))
    members = draw = None
    if werr.active:
        Xall, Xbig, ybig, bbig, draw, members = forecast_error_rows(
            weather, werr, cfg, rows, Xall, Xbig, ybig, bbig, bands, horizons, progress
        )

    Xall = Xall.set_index(F.as_dates(rows["date"]))
    Xall.attrs["weather_source"] = weather_source
    by_refit = rows.groupby("refit", sort=True).indices
    tdates = pd.DatetimeIndex(Xbig.index)
    tasks = []
    for i, R in enumerate(refits):
        R = pd.Timestamp(R)
        tr_start = (
            TRAIN_START
            if spec.window == "expanding"
            else R - pd.Timedelta(days=spec.window_days - 1)
        )
        lo, hi = int(tdates.searchsorted(tr_start)), int(tdates.searchsorted(R, side="right"))
        sel = by_refit.get(R, np.array([], dtype=int))
        tasks.append(Refit(i, R, lo, hi, sel, i % max(1, spec.recalibrate_every) == 0))
    common = {
        "Xbig": Xbig,
        "ybig": ybig,
        "bbig": bbig,
        "rows": rows[["horizon", "origin", "refit"]],
        "Xall": Xall,
        "yall": yall,
        "weather_source": weather_source,
        "spec": spec,
        "cfg": cfg,
        "bands": bands,
        "members": members,
        "draw": draw,
    }
    out_frames = _run_refits(common, tasks, spec.n_jobs, progress, len(refits), pool)

    preds = pd.concat(out_frames, ignore_index=True)
    preds = preds[np.isfinite(preds["people"])]
    scores = score_table(preds, spec.thresholds)
    label = weather_label or run_weather_label(weather_source, weather)
    meta = {
        "weather_source": weather_source,
        "weather_label": (
            f"{label}; the days after each origin replaced by a {werr.describe()}"
            if werr.active
            else label
        ),
        "weather_error": werr.to_dict() if werr.active else None,
        "spec": {
            k: (list(v) if isinstance(v, (tuple, list)) else v) for k, v in asdict(spec).items()
        },
        "evaluated": [str(days.min().date()), str(end.date())],
        "n_refits": len(refits),
        "lead_bands": [list(b) for b in bands],
        "feature_config": cfg.to_dict(),
        "tide_sky_features": tide_sky is not None,
        "git_sha": git_sha(),
        "arrivals_end": str(arrivals.index[-1].date()),
        "data_sha256": data_hashes(weather_files(weather)),
        "weather_stations": list(getattr(weather, "attrs", {}).get("stations", []) or []),
    }
    return BacktestResult(predictions=preds, scores=scores, meta=meta)


def run_weather_label(weather_source: str, weather) -> str:
    """The label of a run's weather: the stations actually used for KNMI (from the data)."""
    label = WEATHER_LABELS.get(weather_source, weather_source)
    source = getattr(weather, "attrs", {}).get("source") if weather is not None else None
    if weather_source == "knmi" and source:
        return str(source)
    return label


def weather_files(weather) -> list[Path]:
    """The committed data files of a run: the arrivals snapshot and the weather's files."""
    paths = [config.snapshot_dir() / "arrivals.csv"]
    attrs = getattr(weather, "attrs", {}) if weather is not None else {}
    paths += [
        Path(p) for p in attrs.get("paths", []) or ([attrs["path"]] if attrs.get("path") else [])
    ]
    return paths


def forecast_error_rows(
    weather, werr, cfg, rows, Xall, Xbig, ybig, bbig, bands, horizons, progress
):
    """Evaluation and training rows under simulated forecast error (:class:`WeatherError`).

    Evaluation rows get the weather of their origin (observed up to it, simulated
    forecasts after it, seed ``werr.seed``); with ``werr.train == "forecast"`` so do the
    training rows, once per draw (draw 0 shares the evaluation's forecasts, draw ``d``
    uses the seed ``[seed, d]``), stacked and sorted by date. With ``werr.members``
    (``werr.dressed``) the evaluation rows' weather under each ensemble member (each
    member of the dressed forecast) is returned as :class:`MemberRows` (the weather of
    ``Xall`` is then that of the single forecast).
    ``draw``: the draw of each training row (None with one draw).
    """
    max_lead = max(max(b) for b in [horizons, *bands])
    ev_dates, ev_origins = F.as_dates(rows["date"]), F.as_dates(rows["origin"])
    tr_dates, tr_origins = F.as_dates(Xbig.index), row_origins(Xbig)
    train = werr.train == "forecast"
    fw = ForecastWeather.simulated(weather, max_lead, werr.seed, cfg, werr.table)
    both = fw.rows(
        ev_dates.append(tr_dates) if train else ev_dates,
        ev_origins.append(tr_origins) if train else ev_origins,
    )
    Xall = replace_weather(Xall, both.iloc[: len(rows)])
    if train:
        parts = [replace_weather(Xbig, both.iloc[len(rows) :])]
        for d in range(1, werr.draws):
            if progress is not None:
                progress(f"simulated forecasts for training, draw {d + 1}/{werr.draws}")
            fw_d = ForecastWeather.simulated(weather, max_lead, [werr.seed, d], cfg, werr.table)
            parts.append(replace_weather(Xbig, fw_d.rows(tr_dates, tr_origins)))
        Xbig = parts[0]
        if len(parts) > 1:
            X = pd.concat(parts)
            order = np.argsort(X.index.to_numpy(), kind="stable")
            Xbig = X.iloc[order]
            Xbig.attrs.update(parts[0].attrs)
            ybig = np.tile(ybig, len(parts))[order]
            bbig = np.tile(bbig, len(parts))[order]
            draw = np.repeat(np.arange(len(parts)), len(parts[0]))[order]
    members = None
    if not train or werr.draws == 1:
        draw = None
    if werr.members or werr.dressed:
        n, what = (werr.members, "ensemble") if werr.members else (werr.dressed, "dressed")
        member_rows = (
            ensemble_member_rows(
                weather, ev_dates, ev_origins, max_lead, werr.members, werr.seed, cfg, werr.table
            )
            if werr.members
            else dressed_member_rows(
                fw, ev_dates, ev_origins, werr.dressed, werr.seed, weather, werr.table
            )
        )
        vals, cols = [], None
        for i, wx in enumerate(member_rows):
            if progress is not None:
                progress(f"{what} member {i + 1}/{n}")
            vals.append(wx.to_numpy(dtype=np.float32))
            cols = list(wx.columns)
        members = MemberRows(np.stack(vals), cols)
    return Xall, Xbig, ybig, bbig, draw, members


# ---------------------------------------------------------------------------
# scoring tables
# ---------------------------------------------------------------------------

SEASONS = {
    12: "DJF",
    1: "DJF",
    2: "DJF",
    3: "MAM",
    4: "MAM",
    5: "MAM",
    6: "JJA",
    7: "JJA",
    8: "JJA",
    9: "SON",
    10: "SON",
    11: "SON",
}


def score_table(
    preds: pd.DataFrame, thresholds: Sequence[int] = config.BUSY_THRESHOLDS
) -> pd.DataFrame:
    """Scores per forecaster for: all rows, each horizon, and (at the first horizon) each
    season and year. Column ``group`` names the subset (``all``, ``h1``, ``season:JJA@h1``,
    ``year:2024@h1``)."""
    out = []
    h1 = int(preds["horizon"].min())
    d = pd.DatetimeIndex(preds["date"])
    preds = preds.assign(_season=d.month.map(SEASONS), _year=d.year)
    for name, g in preds.groupby("forecaster", sort=False):
        subsets = [("all", g)]
        subsets += [(f"h{h}", gh) for h, gh in g.groupby("horizon")]
        g1 = g[g["horizon"] == h1]
        subsets += [(f"season:{s}@h{h1}", gs) for s, gs in g1.groupby("_season")]
        subsets += [(f"year:{y}@h{h1}", gy) for y, gy in g1.groupby("_year")]
        for group, gg in subsets:
            s = M.score_forecasts(gg["people"].to_numpy(), gg, thresholds)
            out.append({"forecaster": name, "group": group, **s})
    return _with_rule_skill(pd.DataFrame(out))


#: The published-style weather rules (baselines) a forecast must beat.
RULES = ("wave_rule", "calm_hours_rule", "rag_rule")


def _with_rule_skill(scores: pd.DataFrame) -> pd.DataFrame:
    """Add ``mae_skill_vs_best_rule`` and ``mae_median_skill_vs_best_rule``: ``1 - MAE /
    MAE of the best rule``, the rule (:data:`RULES`) with the lowest MAE of the same point
    forecast (mean or median) on the same days (group). NaN without rules."""
    if scores.empty:
        return scores
    rules = scores[scores.forecaster.isin(RULES)]
    for k in ("mae", "mae_median"):
        best = rules.groupby("group")[k].min()
        ref = scores["group"].map(best).to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores[f"{k}_skill_vs_best_rule"] = np.where(
                ref > 0, 1 - scores[k].to_numpy(dtype=float) / ref, np.nan
            )
    return scores


def best_rule(scores: pd.DataFrame, group: str) -> str | None:
    """The rule (:data:`RULES`) with the lowest MAE (mean forecast) in ``group``, or None."""
    r = scores[(scores.group == group) & scores.forecaster.isin(RULES)]
    return None if r.empty else str(r.loc[r["mae"].idxmin(), "forecaster"])


def skill_table(scores: pd.DataFrame, of: str = MODEL_NAME) -> pd.DataFrame:
    """Skill of ``of`` against every other forecaster, per group: ``1 - score/score_ref``
    for MAE, CRPS, WIS and the Brier scores (positive = better than the reference)."""
    keys = ["mae", "crps", "wis"] + [c for c in scores.columns if c.startswith("brier_")]
    m = scores[scores.forecaster == of].set_index("group")
    rows = []
    for ref, g in scores[scores.forecaster != of].groupby("forecaster", sort=False):
        g = g.set_index("group")
        common = m.index.intersection(g.index)
        for grp in common:
            row = {"reference": ref, "group": grp}
            for k in keys:
                if k in g.columns and g.loc[grp, k] > 0:
                    row[f"skill_{k}"] = 1 - m.loc[grp, k] / g.loc[grp, k]
            rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# provenance and outputs
# ---------------------------------------------------------------------------


def git_sha() -> str:
    try:
        r = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=config.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        sha = r.stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=config.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return sha + ("+dirty" if dirty else "") if sha else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def data_hashes(paths: Sequence[Path] | None = None) -> dict:
    """sha256 of the committed data files used (arrivals snapshot, KNMI files)."""
    snap = config.snapshot_dir()
    paths = paths or [
        snap / "arrivals.csv",
        snap / "knmi" / "etmgeg_310.txt",
        snap / "knmi" / "etmgeg_340.txt",
    ]
    return {
        str(Path(p).relative_to(config.REPO_ROOT))
        if Path(p).is_relative_to(config.REPO_ROOT)
        else str(p): sha256_file(Path(p))
        for p in paths
        if Path(p).exists()
    }


def write_outputs(
    results: Sequence[BacktestResult], folder: str | Path, figures: bool = True
) -> dict:
    """Write ``scores.csv``, ``skill.csv``, ``results.json`` and figures to ``folder``.

    Returns the JSON document written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames, skills, doc = [], [], {"runs": [], "headline": {}}
    for res in results:
        src = res.meta["weather_source"]
        sc = res.scores.assign(weather_source=src, weather_label=res.meta["weather_label"])
        frames.append(sc)
        sk = skill_table(res.scores)
        if not sk.empty:
            skills.append(sk.assign(weather_source=src))
        doc["runs"].append({"meta": res.meta, "scores": json_scores(res.scores)})
        doc["headline"][src] = res.headline(int(min(res.meta["spec"]["horizons"])))
    write_text(
        folder / "scores.csv",
        pd.concat(frames).to_csv(index=False, float_format="%.5g"),
        "backtest scores",
    )
    if skills:
        write_text(
            folder / "skill.csv",
            pd.concat(skills).to_csv(index=False, float_format="%.5g"),
            "backtest skill",
        )
    write_text(
        folder / "results.json",
        json.dumps(doc, indent=1, default=json_default) + "\n",
        "backtest results",
    )
    if figures:
        make_figures(results, folder)
    return doc


def make_figures(results: Sequence[BacktestResult], folder: str | Path) -> list[Path]:
    """Reliability diagram, predicted vs actual and skill by lead time (PNG, Agg)."""
    folder = Path(folder)
    written = []
    for res in results:
        src = res.meta["weather_source"]
        # runs under simulated forecast error say so in every title
        tag = f"{src}, {LABEL}" if res.meta.get("weather_error") else src
        p = res.predictions
        h1 = int(p["horizon"].min())
        show = [MODEL_NAME, WEATHER_FREE_NAME, "climatology_month", "calm_hours_rule"]
        # reliability
        fig = Figure(figsize=(5, 5))
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        for name in show:
            g = p[(p.forecaster == name) & (p.horizon == h1)]
            if g.empty:
                continue
            rel = M.reliability(g["people"] > 0, g["p_any"])
            rel = rel[rel.n > 0]
            ax.plot(rel.mean_forecast, rel.observed_frequency, marker="o", label=name)
        ax.set_xlabel("forecast P(any crossing)")
        ax.set_ylabel("observed frequency")
        ax.set_title(f"Reliability, D+{h1}: {tag}", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = folder / f"reliability_{src}.png"
        _save_figure(fig, path)
        written.append(path)
        # predicted vs actual
        g = p[(p.forecaster == MODEL_NAME) & (p.horizon == h1)]
        fig = Figure(figsize=(5, 5))
        ax = fig.subplots()
        ax.scatter(g["expected_people"], g["people"], s=4, alpha=0.4)
        lim = max(float(g["people"].max()), float(g["expected_people"].max()), 1.0)
        ax.plot([0, lim], [0, lim], color="grey", lw=0.8, ls="--")
        ax.set_xlabel("expected people (model)")
        ax.set_ylabel("actual people")
        ax.set_title(f"Predicted vs actual, D+{h1}: {tag}", fontsize=9)
        fig.tight_layout()
        path = folder / f"predicted_vs_actual_{src}.png"
        _save_figure(fig, path)
        written.append(path)
        # skill by lead time
        sc = res.scores[res.scores.group.str.match(r"^h\d+$")].copy()
        sc["h"] = sc.group.str[1:].astype(int)
        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        ref = sc[sc.forecaster == "climatology_month"].set_index("h")["brier_any"]
        lw = sc[sc.forecaster == "same_day_last_week"].set_index("h")["mae"]
        for name in (MODEL_NAME, WEATHER_FREE_NAME):
            m = sc[sc.forecaster == name].set_index("h")
            if m.empty:
                continue
            ax.plot(
                m.index,
                1 - m["brier_any"] / ref.reindex(m.index),
                marker="o",
                label=f"{name}: Brier skill vs monthly climatology",
            )
            ax.plot(
                m.index,
                1 - m["mae"] / lw.reindex(m.index),
                marker="s",
                ls="--",
                label=f"{name}: MAE skill vs last week",
            )
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("lead time [days]")
        ax.set_ylabel("skill (1 - score / reference)")
        ax.set_title(f"Skill by lead time: {tag}", fontsize=9)
        ax.legend(fontsize=6)
        fig.tight_layout()
        path = folder / f"skill_by_lead_{src}.png"
        _save_figure(fig, path)
        written.append(path)
    return written


def _save_figure(fig: Figure, path: Path) -> None:
    write_with(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"), "backtest figure")


def json_scores(scores: pd.DataFrame) -> dict:
    """Scores as ``{forecaster: {group: {score: value}}}``; the PIT histogram columns
    ``pit_hist_<i>`` become one list ``pit_histogram`` (share of days per bin of 0.1)."""
    out: dict = {}
    pit = sorted((c for c in scores.columns if c.startswith("pit_hist_")), key=lambda c: int(c[9:]))
    for _, r in scores.iterrows():
        d = {
            k: json_default(v)
            for k, v in r.items()
            if k not in ("forecaster", "group") and k not in pit
        }
        if pit:
            d["pit_histogram"] = [json_default(r[c]) for c in pit]
        out.setdefault(r["forecaster"], {})[r["group"]] = d
    return out


#: Named quantile columns carried in the predictions table.
QUANTILE_COLUMNS = tuple(NAMED_LEVELS)
