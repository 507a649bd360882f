"""Backtests under simulated forecast error: each row sees the weather of its origin.

A backtest row is a target day ``D`` seen from its forecast origin ``O = D - k`` (lead
``k`` [d]). Under ``--weather-error published`` the weather a forecaster at ``O`` has is
what a forecast issued at ``O`` would have said: **days up to the origin are observed**
(perfect), **day ``t`` after the origin is a simulated forecast at lead ``t - O``**
(:func:`forecast.features.forecast_error.simulate_forecast`, published error sizes, one
fixed seed). The weather features of row ``(D, O)`` are computed from that mixed daily
record, so the look-back features (the previous day's wind, calm days in the last 7,
days since calm) mix forecast and observed days exactly as they would at the origin.
Everything such a run produces is labelled "simulated forecast error".

Exact and fast
--------------
Building one weather table per origin would cost thousands of table builds. Instead
the origins are split into ``M = max_lead + LOOKBACK_DAYS`` residue classes
(``(O - first day) mod M``): in the record of class ``r`` every origin of the class is
followed by its forecast run (leads 1..max_lead) and everything else is observed. Rows
at lead ``k <= max_lead`` only look back ``LOOKBACK_DAYS`` days (60 for days since calm,
see :func:`forecast.features.build.weather_pentup_features`), never as far as the
previous origin's run, so one table per class gives every row exactly the table of its
own origin (``tests/test_forecast_weather.py`` checks this against a table built per
origin). ``M`` tables of the whole record: a few seconds.

Forecast runs are consistent: the same seed is used at every lead, so the forecast of
day ``O + 1`` at lead 1 and of ``O + 2`` at lead 2 carry the same AR(1) noise sequence
(a run that misses a calm spell misses it for several days).

Ensembles (:func:`ensemble_member_rows`) are simulated the same way per member
(:func:`forecast.features.forecast_error.simulate_ensemble`); the backtest scores the
mixture over members (:class:`QuantileMixture`), adding one member's predictions at a
time so that memory does not grow with the number of members.

Dressed forecasts (:func:`dressed_member_rows`) are what the live outlook does when no
weather ensemble is cached: the run's one simulated forecast (the test weather of
``--weather-error published``) is dressed with its error into members
(:func:`forecast.features.forecast_error.dress_forecast`: draws of the truth given the
forecast), each member is fed to a model trained on observed weather, and the mixture
over members is scored as for an ensemble.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.features import build as F
from forecast.features.forecast_error import (
    DEFAULT_TABLE,
    LABEL,
    MAX_LEAD,
    ErrorTable,
    dress_forecast,
    simulate_ensemble,
    simulate_forecast,
)
from forecast.model.crossing import GRID_LEVELS, NAMED_LEVELS, grid_columns

__all__ = [
    "ERROR_MODES",
    "LABEL",
    "LOOKBACK_DAYS",
    "TRAIN_WEATHER",
    "ForecastWeather",
    "QuantileMixture",
    "WeatherError",
    "dressed_member_rows",
    "dressing_seed",
    "ensemble_member_rows",
    "replace_weather",
]

#: ``--weather-error`` choices: ``none`` (perfect prognosis: observed weather) and
#: ``published`` (simulated forecast error, sizes from published verification,
#: ``forecast.features.forecast_error.DEFAULT_TABLE``).
ERROR_MODES = ("none", "published")

#: ``--train-weather`` choices: ``forecast`` (training rows carry the simulated forecast
#: error of their own lead) and ``observed`` (perfect weather in training).
TRAIN_WEATHER = ("forecast", "observed")

#: Spawn key of the dressing's random stream (:func:`dressing_seed`): a stream that no
#: other draw of a run (the forecasts, seed ``s``; training draws, ``[s, d]``) uses.
DRESS_STREAM = 1

#: The attributes of the daily record that the weather table reads (``source``,
#: ``stations``); the others are left out of the per-class records (speed).
RECORD_ATTRS = ("source", "stations")

#: Days the weather features of a day look back (days since calm, capped at 60 days,
#: plus the previous day and a margin).
LOOKBACK_DAYS = 63


@dataclass(frozen=True)
class WeatherError:
    """How a backtest degrades the weather.

    Parameters
    ----------
    mode : {"none", "published"}
        ``published``: simulated forecast error (:data:`ERROR_MODES`).
    seed : int
        Seed of the simulated forecasts (the test weather and training draw 0).
    draws : int
        Simulated forecasts per training day (draw ``d >= 1`` uses the seed
        ``[seed, d]``); the training table holds each day ``draws`` times.
    train : {"forecast", "observed"}
        Weather of the training rows (:data:`TRAIN_WEATHER`).
    members : int
        0: one simulated forecast per test day. ``>= 2``: a simulated ensemble of this
        many members; each forecaster that uses weather is scored as the mixture over
        members.
    dressed : int
        0: no dressing. ``>= 2``: the one simulated forecast of each test row is dressed
        with its error into this many members (:func:`dressed_member_rows`), scored as
        the mixture over members. Needs ``train="observed"``: a model trained on
        simulated forecasts has already widened its probabilities for the forecast
        error, and the dressing would widen them again.
    table : ErrorTable
        Error sizes per lead.
    """

    mode: str = "none"
    seed: int = 0
    draws: int = 1
    train: str = "forecast"
    members: int = 0
    table: ErrorTable = DEFAULT_TABLE
    dressed: int = 0

    @property
    def active(self) -> bool:
        return self.mode != "none"

    def validate(self, weather_source: str, max_horizon: int) -> None:
        if self.mode not in ERROR_MODES:
            raise ConfigError(f"--weather-error {self.mode!r}: use one of {ERROR_MODES}.")
        if self.train not in TRAIN_WEATHER:
            raise ConfigError(f"--train-weather {self.train!r}: use one of {TRAIN_WEATHER}.")
        if self.draws < 1:
            raise ConfigError(f"--error-draws {self.draws}: give 1 or more draws per day.")
        if self.members == 1 or self.members < 0:
            raise ConfigError(
                f"--ensemble-members {self.members}: give 0 (one simulated forecast) or 2 or more."
            )
        if self.dressed == 1 or self.dressed < 0:
            raise ConfigError(
                f"--dressed-members {self.dressed}: give 0 (no dressing) or 2 or more members."
            )
        if not self.active:
            if self.members or self.dressed or self.draws != 1 or self.train != "forecast":
                raise ConfigError(
                    "--error-draws, --train-weather, --ensemble-members and --dressed-members "
                    "need --weather-error published (they describe the simulated forecast error)."
                )
            return
        if self.dressed and self.members:
            raise ConfigError(
                f"--dressed-members {self.dressed} and --ensemble-members {self.members} both "
                "replace the test weather by members: give one of them (--dressed-members "
                "dresses one simulated forecast, --ensemble-members simulates an ensemble)."
            )
        if self.dressed and self.train != "observed":
            raise ConfigError(
                f"--dressed-members {self.dressed} with --train-weather {self.train}: the "
                "dressing widens the forecast by its error, and a model trained on simulated "
                "forecasts has already widened its probabilities for that error (it would be "
                "counted twice). Use --train-weather observed (the default with "
                "--dressed-members)."
            )
        if weather_source != "knmi":
            raise ConfigError(
                f"--weather-error {self.mode} simulates forecasts of the KNMI station weather; "
                f"use --weather-source knmi (got {weather_source!r})."
            )
        if max_horizon > MAX_LEAD:
            raise ConfigError(
                f"--weather-error {self.mode}: lead times up to {MAX_LEAD} days (the error "
                f"table's range); got a lead time of {max_horizon} days."
            )

    def describe(self) -> str:
        """The label of the run's weather: says "simulated forecast error"."""
        ens = f", ensemble of {self.members} members" if self.members else ""
        if self.dressed:
            ens = (
                f", the forecast dressed with its error into {self.dressed} members "
                f"(dressing seed {dressing_seed(self.seed)})"
            )
        return f"{LABEL} (table {self.table.name}, seed {self.seed}{ens}; training on " + (
            f"simulated forecasts, {self.draws} draw(s) per day)"
            if self.train == "forecast"
            else "observed weather)"
        )

    def to_dict(self) -> dict:
        return {
            "label": LABEL,
            "mode": self.mode,
            "seed": self.seed,
            "draws": self.draws,
            "train": self.train,
            "members": self.members,
            "dressed_members": self.dressed,
            "dressing_seed": dressing_seed(self.seed) if self.dressed else None,
            "table": self.table.name,
        }


def dressing_seed(seed: int) -> int:
    """The seed of the dressing of a run with forecast seed ``seed`` [int >= 0].

    Drawn from ``SeedSequence(seed, spawn_key=(DRESS_STREAM,))``, a stream apart from
    the forecasts' (``seed``) and the training draws' (``[seed, d]``), and never equal
    to ``seed`` (member 0 of :func:`forecast.features.forecast_error.dress_forecast`
    with seed ``s`` draws the noise of a forecast with seed ``s``).
    """
    ss = np.random.SeedSequence(int(seed), spawn_key=(DRESS_STREAM,))
    out = int(np.random.default_rng(ss).integers(0, 2**31 - 1))
    return out + 1 if out == int(seed) else out


def _full_days(weather: pd.DataFrame) -> pd.DataFrame:
    idx = pd.date_range(weather.index.min(), weather.index.max(), freq="D", name="date")
    out = weather.reindex(idx)
    out.attrs = dict(weather.attrs)
    return out


class ForecastWeather:
    """Weather-feature rows of (day, origin) pairs when days after the origin are forecasts.

    Parameters
    ----------
    observed : pandas.DataFrame
        Daily station weather (``load_knmi``), index ``date``.
    forecasts : sequence of pandas.DataFrame
        ``forecasts[m - 1]``: the forecast of every day at lead ``m`` [d] (same index
        and columns as ``observed``), ``m = 1..len(forecasts)``.
    cfg : FeatureConfig
        Feature settings (as the backtest's).
    """

    def __init__(
        self,
        observed: pd.DataFrame,
        forecasts: Sequence[pd.DataFrame],
        cfg: F.FeatureConfig = F.DEFAULT_CONFIG,
    ):
        if not forecasts:
            raise ConfigError("ForecastWeather needs the forecasts of at least lead 1")
        obs = _full_days(observed)
        self.attrs = dict(observed.attrs)
        self.index = obs.index
        self.columns = list(obs.columns)
        self.max_lead = len(forecasts)
        self.cfg = cfg
        stack = [obs.to_numpy(dtype=float)]
        for f in forecasts:
            stack.append(f.reindex(index=obs.index, columns=obs.columns).to_numpy(dtype=float))
        self._values = np.stack(stack)  # (lead 0..K, day, column)

    @classmethod
    def simulated(
        cls,
        weather: pd.DataFrame,
        max_lead: int,
        random_state: int | Sequence[int],
        cfg: F.FeatureConfig = F.DEFAULT_CONFIG,
        table: ErrorTable = DEFAULT_TABLE,
    ) -> ForecastWeather:
        """Simulated forecasts at leads 1..``max_lead`` of ``weather``, one seed for all
        leads (an int, or a sequence of ints seeding a fresh generator at each lead)."""
        frames = []
        for m in range(1, int(max_lead) + 1):
            rs = random_state if np.isscalar(random_state) else np.random.default_rng(random_state)
            frames.append(simulate_forecast(weather, m, rs, table=table))
        return cls(weather, frames, cfg)

    def _record(self, r: int, period: int, lo: int = 0, hi: int | None = None) -> pd.DataFrame:
        """The daily record (days ``lo:hi``) of residue class ``r``: each origin of the
        class followed by its forecast run, every other day observed."""
        p = np.arange(len(self.index))[lo:hi]
        lead = (p - r - 1) % period + 1
        lead[lead > self.max_lead] = 0
        frame = pd.DataFrame(self._values[lead, p, :], index=self.index[p], columns=self.columns)
        # only what weather_table reads: pandas deep-copies attrs at every operation
        frame.attrs = {k: self.attrs[k] for k in RECORD_ATTRS if k in self.attrs}
        return frame

    def rows(self, dates, origins) -> pd.DataFrame:
        """Weather-table columns (:func:`forecast.features.build.weather_table`) of each
        row (``dates[i]`` seen from ``origins[i]``), index ``dates``.

        Raises
        ------
        ConfigError
            A row's lead exceeds ``max_lead`` or is below 1.
        """
        dates = F.as_dates(dates)
        origins = F.as_dates(
            np.broadcast_to(np.asarray(origins, dtype="datetime64[ns]"), len(dates))
        )
        lead = np.asarray((dates - origins).days)
        if len(lead) and (lead.min() < 1 or lead.max() > self.max_lead):
            raise ConfigError(
                f"rows at lead times {int(lead.min())}..{int(lead.max())} days; the simulated "
                f"forecasts cover leads 1..{self.max_lead}"
            )
        period = self.max_lead + LOOKBACK_DAYS
        cls = np.asarray((origins - self.index[0]).days) % period
        # only the days the rows look back on (tables of a short span are cheaper)
        lo = hi = None
        if len(dates):
            lo = int(self.index.searchsorted(origins.min() - pd.Timedelta(days=LOOKBACK_DAYS)))
            hi = int(self.index.searchsorted(dates.max(), side="right"))
        out = None
        for r in np.unique(cls):
            sel = np.flatnonzero(cls == r)
            table = F.weather_table("knmi", self._record(int(r), period, lo, hi), self.cfg)
            part = table.reindex(dates[sel])
            if out is None:
                out = pd.DataFrame(
                    np.full((len(dates), part.shape[1]), np.nan),
                    columns=part.columns,
                )
                attrs = dict(table.attrs)
            out.iloc[sel] = part.to_numpy(dtype=float)
        if out is None:
            out = F.weather_table("knmi", self._record(0, period), self.cfg).iloc[:0]
            attrs = dict(out.attrs)
        out.index = dates
        out.attrs = attrs
        return out


def replace_weather(X: pd.DataFrame, weather_rows: pd.DataFrame) -> pd.DataFrame:
    """``X`` (a feature table with a ``horizon`` column) with its weather-table columns
    replaced by ``weather_rows`` (same rows, as from :meth:`ForecastWeather.rows`)."""
    out = X.copy()
    cols = [c for c in weather_rows.columns if c in out.columns]
    out[cols] = weather_rows[cols].to_numpy(dtype=float)
    out.attrs.update(X.attrs)
    return out


def row_origins(X: pd.DataFrame) -> pd.DatetimeIndex:
    """The origin of each row of a feature table: its date minus its ``horizon`` [d]."""
    return F.as_dates(X.index) - pd.to_timedelta(X["horizon"].to_numpy(dtype=int), unit="D")


def ensemble_member_rows(
    weather: pd.DataFrame,
    dates,
    origins,
    max_lead: int,
    members: int,
    seed: int,
    cfg: F.FeatureConfig = F.DEFAULT_CONFIG,
    table: ErrorTable = DEFAULT_TABLE,
) -> Iterator[pd.DataFrame]:
    """Weather-table rows of (day, origin) pairs under each member of a simulated
    ensemble (one frame per member, yielded in turn; float32 to keep them small).

    Only the days the rows need (from ``LOOKBACK_DAYS + 5`` days before the first
    origin) are simulated; the climatology comes from the whole ``weather`` record.
    """
    dates = F.as_dates(dates)
    origins = F.as_dates(np.broadcast_to(np.asarray(origins, dtype="datetime64[ns]"), len(dates)))
    first = origins.min() - pd.Timedelta(days=LOOKBACK_DAYS + 5)
    window = weather.loc[first : dates.max()]
    ens = [
        simulate_ensemble(window, m, members, seed, table=table, climate=weather)
        for m in range(1, int(max_lead) + 1)
    ]
    for i in range(int(members)):
        frames = [e.xs(i, level="member") for e in ens]
        rows = ForecastWeather(window, frames, cfg).rows(dates, origins)
        yield rows.astype(np.float32)


def dressed_member_rows(
    fw: ForecastWeather,
    dates,
    origins,
    members: int,
    seed: int,
    climate: pd.DataFrame,
    table: ErrorTable = DEFAULT_TABLE,
) -> Iterator[pd.DataFrame]:
    """Weather-table rows of (day, origin) pairs under each member of the dressed
    forecast (one frame per member, yielded in turn; float32 to keep them small).

    Each row's weather is that of :meth:`ForecastWeather.rows` of ``fw`` (observed up
    to the origin, the run's one simulated forecast after it) with every forecast day
    at lead ``m`` replaced by member ``i`` of
    ``dress_forecast(forecast at lead m, m, members, dressing_seed(seed))``: a draw of
    the truth given that forecast (labelled "simulated forecast error", kind
    "dressed"). The same dressing seed at every lead gives member ``i`` one error
    path over the days after an origin (AR(1) from day to day, as a forecast run).
    Observed days (up to each origin) are not dressed.

    Parameters
    ----------
    fw : ForecastWeather
        The run's simulated forecasts (:meth:`ForecastWeather.simulated`, seed ``seed``).
    dates, origins
        The rows: target day and forecast origin of each.
    members : int
        Members of the dressing (>= 2).
    seed : int
        The run's forecast seed; the dressing uses :func:`dressing_seed` of it.
    climate : pandas.DataFrame
        The observed record: the day-of-year climatology the dressing shrinks towards.
    table : ErrorTable
        Error sizes per lead (as the forecasts').

    Only the days the rows need (from ``LOOKBACK_DAYS + 5`` days before the first
    origin) are dressed.
    """
    dates = F.as_dates(dates)
    origins = F.as_dates(np.broadcast_to(np.asarray(origins, dtype="datetime64[ns]"), len(dates)))
    first = origins.min() - pd.Timedelta(days=LOOKBACK_DAYS + 5)
    lo = int(fw.index.searchsorted(first))
    hi = int(fw.index.searchsorted(dates.max(), side="right"))
    idx = fw.index[lo:hi]
    observed = pd.DataFrame(fw._values[0, lo:hi], index=idx, columns=fw.columns)
    observed.attrs = dict(fw.attrs)
    dseed = dressing_seed(seed)
    dressed = []
    for m in range(1, fw.max_lead + 1):
        forecast = pd.DataFrame(fw._values[m, lo:hi], index=idx, columns=fw.columns)
        forecast.attrs = dict(fw.attrs)
        dressed.append(
            dress_forecast(forecast, m, int(members), dseed, table=table, climate=climate)
        )
    for i in range(int(members)):
        frames = [d.xs(i, level="member") for d in dressed]
        rows = ForecastWeather(observed, frames, fw.cfg).rows(dates, origins)
        yield rows.astype(np.float32)


class QuantileMixture:
    """The equal-weight mixture of several forecasts of the same rows, added one at a time.

    Each forecast's grid quantiles (:data:`GRID_LEVELS`, 100 equally likely values per
    row) are counted into a histogram over :attr:`EDGES` (1 % steps); the mixture's
    quantiles are read from the pooled histogram (linear within a bin), its ``p_any``,
    ``p_gt_<N>``, ``expected_people`` and ``expected_boats`` are the members' means.
    Memory: one histogram per row, whatever the number of members.
    """

    EDGES = np.concatenate([[0.0], np.geomspace(0.25, 50000.0, 1200)])

    def __init__(self, n_rows: int):
        self.n_rows = n_rows
        self.hist = np.zeros((n_rows, len(self.EDGES)), dtype=np.int32)
        self.sums: dict[str, np.ndarray] = {}
        self.n = 0
        self.index = None

    def add(self, fc: pd.DataFrame) -> None:
        q = np.clip(fc[grid_columns()].to_numpy(dtype=float), 0.0, self.EDGES[-1])
        idx = np.searchsorted(self.EDGES, q, side="left")
        rows = np.repeat(np.arange(self.n_rows), q.shape[1])
        np.add.at(self.hist, (rows, idx.ravel()), 1)
        for c in fc.columns:
            if c in ("p_any", "expected_people", "expected_boats") or c.startswith("p_gt_"):
                self.sums[c] = self.sums.get(c, 0.0) + fc[c].to_numpy(dtype=float)
        self.n += 1
        self.index = fc.index

    def quantiles(self, levels) -> np.ndarray:
        """Mixture quantiles at ``levels`` [0-1], shape (rows, levels)."""
        total = float(self.n * len(GRID_LEVELS))
        cum = np.cumsum(self.hist, axis=1) / total
        prev = np.concatenate([np.zeros((self.n_rows, 1)), cum[:, :-1]], axis=1)
        lo_edge = np.concatenate([[0.0], self.EDGES[:-1]])
        out = np.empty((self.n_rows, len(levels)))
        rows = np.arange(self.n_rows)
        for j, tau in enumerate(levels):
            b = np.minimum((cum < tau - 1e-12).sum(axis=1), len(self.EDGES) - 1)
            mass = cum[rows, b] - prev[rows, b]
            frac = np.where(mass > 0, (tau - prev[rows, b]) / np.where(mass > 0, mass, 1), 1.0)
            lo, hi = lo_edge[b], self.EDGES[b]
            out[:, j] = np.where(b == 0, 0.0, lo + np.clip(frac, 0, 1) * (hi - lo))
        return out

    def result(self) -> pd.DataFrame:
        """The mixture forecast: the columns of ``predict_distribution(..., grid=True)``."""
        if self.n == 0:
            raise ConfigError("QuantileMixture.result: no member was added")
        out = pd.DataFrame(index=self.index)
        for c, v in self.sums.items():
            out[c] = v / self.n
        named = self.quantiles(list(NAMED_LEVELS.values()))
        for j, name in enumerate(NAMED_LEVELS):
            out[name] = named[:, j]
        grid = self.quantiles(GRID_LEVELS)
        return pd.concat(
            [out, pd.DataFrame(grid, index=self.index, columns=grid_columns())], axis=1
        )
