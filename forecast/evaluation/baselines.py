"""The rules and simple models the crossing model must beat.

Every baseline has ``fit(X, y)`` (training days: features and people) and
``predict_distribution(X, thresholds, grid)`` returning the same columns as
:meth:`forecast.model.crossing.CrossingModel.predict_distribution`, so the backtest scores them
all the same way.

- :class:`Climatology`: the empirical distribution of people on training days of the
  same month (or within +-15 days of the same day of year).
- :class:`Persistence`: "same day last week" (people on D-7, or D-14 when D-7 is after
  the origin) and "yesterday" (people on the origin day; D-1 at horizon 1). Point
  forecasts: all quantiles equal the value.
- :class:`RuleBaseline`: a published-style weather rule splits days into states; each
  state's forecast is the empirical distribution of people on training days in that
  state over the last ``recent_days`` (so the rule follows the level of the time):

  * ``wave_rule``: The Times (2023): crossings rare when waves exceed 0.5 m. With daily
    station data (no waves) a **wind proxy**: daily mean station wind <= 6 kn.
  * ``calm_hours_rule``: Sky News (2025): favourable when several consecutive
    early-morning hours are calm; here ``calm_hours >= 6`` (wind proxy with KNMI).
  * ``rag_rule``: a red/amber/green-style rule on calm hours, north-easterly wind and
    rain (thresholds in :class:`RuleConfig`).

The weather-free count model (arrivals history + calendar only) is a
:class:`forecast.model.crossing.CrossingModel` with ``weather_source="none"``, built by the
backtest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.features.build import DEFAULT_CONFIG, FeatureConfig
from forecast.model.crossing import GRID_LEVELS, NAMED_LEVELS, grid_columns


@dataclass(frozen=True)
class RuleConfig:
    """Thresholds of the red/amber/green-style rule baseline.

    Parameters
    ----------
    red_calm_hours : float
        Red (crossings likely) when the longest calm run reaches this [h] ...
    red_rain_mm : float
        ... with at most this much rain in the window [mm] ...
    amber_calm_hours : float
        Amber when the calm run reaches this [h]; green below.
    ne_wind_kn : float
        Green whenever a north-easterly (0-90 deg) blows with mean wind above this [kn].
    """

    red_calm_hours: float = 10.0
    red_rain_mm: float = 2.0
    amber_calm_hours: float = 4.0
    ne_wind_kn: float = 8.0


def _sample_frame(
    index, samples: list[np.ndarray], which: np.ndarray, thresholds, grid: bool
) -> pd.DataFrame:
    """Forecast columns from empirical samples; row ``i`` uses ``samples[which[i]]``."""
    which = np.asarray(which, dtype=int)
    # statistics only of the samples used (a day-of-year climatology has 366 of them)
    used, inv = np.unique(which, return_inverse=True)
    levels = np.array(list(NAMED_LEVELS.values()) + (list(GRID_LEVELS) if grid else []))
    q = np.zeros((len(used), len(levels)))
    p_any, mean = np.zeros(len(used)), np.zeros(len(used))
    exceed = np.zeros((len(used), len(thresholds)))
    for i, u in enumerate(used):
        s = np.asarray(samples[u], dtype=float)
        q[i] = np.quantile(s, levels)
        p_any[i], mean[i] = np.mean(s > 0), np.mean(s)
        exceed[i] = [np.mean(s > n) for n in thresholds]
    names = ["p_any", "expected_people", *NAMED_LEVELS]
    names += [f"p_gt_{int(n)}" for n in thresholds] + ["expected_boats"]
    # one (used samples x columns) table, its rows repeated: one block, built once
    per_sample = np.column_stack(
        [p_any, mean, q[:, : len(NAMED_LEVELS)], exceed, np.full(len(used), np.nan)]
    )
    if grid:
        names += grid_columns()
        per_sample = np.column_stack([per_sample, q[:, len(NAMED_LEVELS) :]])
    return pd.DataFrame(per_sample[inv], index=index, columns=names)


def _point_frame(index, value: np.ndarray, thresholds, grid: bool) -> pd.DataFrame:
    v = np.asarray(value, dtype=float)
    names = ["p_any", "expected_people", *NAMED_LEVELS]
    names += [f"p_gt_{int(n)}" for n in thresholds] + ["expected_boats"]
    cols = [(v > 0).astype(float), v, *([v] * len(NAMED_LEVELS))]
    cols += [(v > n).astype(float) for n in thresholds] + [np.full(len(v), np.nan)]
    if grid:
        names += grid_columns()
        cols += [v] * len(GRID_LEVELS)
    values = np.empty((len(cols), len(v)))
    for j, c in enumerate(cols):
        values[j] = c
    return pd.DataFrame(values.T, index=index, columns=names)


class Climatology:
    """Empirical distribution of people on training days of the same season.

    Parameters
    ----------
    by : {"month", "doy"}
        Group by calendar month, or by day of year +- ``half_window`` days.
    years : int or None
        Use only the last ``years`` years of training days (None: all).
    half_window : int
        Half-width of the day-of-year window [days].
    """

    def __init__(self, by: str = "month", years: int | None = None, half_window: int = 15):
        if by not in ("month", "doy"):
            raise ConfigError(f"Climatology(by={by!r}); use 'month' or 'doy'.")
        self.by = by
        self.years = years
        self.half_window = half_window

    @property
    def name(self) -> str:
        return "climatology_month" if self.by == "month" else "climatology_doy"

    def fit(self, X: pd.DataFrame, y) -> Climatology:
        idx = pd.DatetimeIndex(X.index)
        y = np.asarray(y, dtype=float)
        if self.years is not None:
            keep = idx > idx.max() - pd.DateOffset(years=self.years)
            idx, y = idx[keep], y[keep]
        self.all_ = y
        if self.by == "month":
            month = idx.month.to_numpy()
            self.samples_ = [y[month == m] if (month == m).any() else y for m in range(1, 13)]
        else:
            # days within the window of each day of year 1..366, all at once
            dist = np.abs(idx.day_of_year.to_numpy()[None, :] - np.arange(1, 367)[:, None])
            near = np.minimum(dist, 366 - dist) <= self.half_window
            self.samples_ = [y[m] if m.any() else y for m in near]
        return self

    def predict_distribution(self, X, thresholds: Sequence[int] = (300, 500), grid: bool = False):
        idx = pd.DatetimeIndex(X.index)
        which = idx.month.to_numpy() - 1 if self.by == "month" else idx.day_of_year.to_numpy() - 1
        return _sample_frame(X.index, self.samples_, which, thresholds, grid)


class Persistence:
    """Point forecast from a past day: ``"last_week"`` or ``"yesterday"`` (origin day).

    Needs the column ``people_same_weekday`` (people on D-7, or D-14 when D-7 is after
    the origin; added by the backtest) or ``people_last1`` (people on the origin day).
    """

    def __init__(self, kind: str = "last_week"):
        if kind not in ("last_week", "yesterday"):
            raise ConfigError(f"Persistence(kind={kind!r}); use 'last_week' or 'yesterday'.")
        self.kind = kind

    @property
    def name(self) -> str:
        return "same_day_last_week" if self.kind == "last_week" else "yesterday"

    def fit(self, X, y) -> Persistence:
        self.fitted_ = True
        return self

    def predict_distribution(self, X, thresholds: Sequence[int] = (300, 500), grid: bool = False):
        col = "people_same_weekday" if self.kind == "last_week" else "people_last1"
        if col not in X.columns:
            raise ConfigError(f"{self.name} baseline needs column {col!r} in the features.")
        return _point_frame(X.index, X[col].to_numpy(), thresholds, grid)


def wave_rule_state(X: pd.DataFrame, cfg: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """1 where the 0.5 m wave rule says "crossable", 0 otherwise, -1 unknown.

    Uses ``wave_height_max`` [m] when known; otherwise (daily station data) the wind
    proxy ``wind_speed_10m_mean <= proxy_wave_rule_wind_kn``.
    """
    if "wave_height_max" in X.columns and X["wave_height_max"].notna().any():
        v, thr = X["wave_height_max"].to_numpy(float), cfg.wave_rule_m
    else:
        v, thr = X["wind_speed_10m_mean"].to_numpy(float), cfg.proxy_wave_rule_wind_kn
    return np.where(np.isfinite(v), (v <= thr).astype(int), -1)


def calm_hours_state(X: pd.DataFrame, cfg: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """1 where the Sky-style rule sees ``calm_hours >= calm_hours_min``, else 0 (-1 unknown)."""
    v = X["calm_hours"].to_numpy(float)
    return np.where(np.isfinite(v), (v >= cfg.calm_hours_min).astype(int), -1)


def rag_rule_state(X: pd.DataFrame, rc: RuleConfig = RuleConfig()) -> np.ndarray:
    """2 red, 1 amber, 0 green (-1 unknown) from calm hours, north-easterlies and rain."""
    calm = X["calm_hours"].to_numpy(float)
    rain = (
        X["precipitation_sum"].to_numpy(float)
        if "precipitation_sum" in X.columns
        else np.zeros(len(X))
    )
    rain = np.nan_to_num(rain, nan=0.0)
    ne = X["wind_from_ne"].to_numpy(float) if "wind_from_ne" in X.columns else np.zeros(len(X))
    if "wind_from_ne_hours" in X.columns:
        ne = (X["wind_from_ne_hours"].to_numpy(float) >= 6).astype(float)
    wind = X["wind_speed_10m_mean"].to_numpy(float)
    state = np.where(calm >= rc.amber_calm_hours, 1, 0)
    state = np.where((calm >= rc.red_calm_hours) & (rain <= rc.red_rain_mm), 2, state)
    state = np.where((ne > 0) & (wind > rc.ne_wind_kn), 0, state)
    return np.where(np.isfinite(calm) & np.isfinite(wind), state, -1)


class RuleBaseline:
    """A weather rule turned into a forecast by the recent empirical distribution per state.

    Parameters
    ----------
    name : str
    rule : callable
        ``rule(X) -> ndarray[int]`` of states (``-1`` unknown).
    recent_days : int
        Use training days of the last ``recent_days`` days for each state's distribution.
    """

    def __init__(
        self, name: str, rule: Callable[[pd.DataFrame], np.ndarray], recent_days: int = 365
    ):
        self.name = name
        self.rule = rule
        self.recent_days = recent_days

    def fit(self, X: pd.DataFrame, y) -> RuleBaseline:
        idx = pd.DatetimeIndex(X.index)
        y = np.asarray(y, dtype=float)
        keep = np.asarray(idx > idx.max() - pd.Timedelta(days=self.recent_days))
        state = self.rule(X)[keep]
        yk = y[keep]
        self.states_ = sorted(int(s) for s in np.unique(state) if s >= 0)
        self.samples_ = [yk[state == s] for s in self.states_] + [yk]
        return self

    def predict_distribution(self, X, thresholds: Sequence[int] = (300, 500), grid: bool = False):
        state = self.rule(X)
        lookup = {s: i for i, s in enumerate(self.states_)}
        which = np.array([lookup.get(int(s), len(self.states_)) for s in state])
        return _sample_frame(X.index, self.samples_, which, thresholds, grid)


def default_baselines(
    weather: bool, cfg: FeatureConfig = DEFAULT_CONFIG, rc: RuleConfig = RuleConfig()
) -> list:
    """The standard set: climatologies, persistence, and (with weather) the three rules."""
    out: list = [
        Climatology("month"),
        Climatology("doy"),
        Persistence("last_week"),
        Persistence("yesterday"),
    ]
    if weather:
        out += [
            RuleBaseline("wave_rule", lambda X: wave_rule_state(X, cfg)),
            RuleBaseline("calm_hours_rule", lambda X: calm_hours_state(X, cfg)),
            RuleBaseline("rag_rule", lambda X: rag_rule_state(X, rc)),
        ]
    return out
