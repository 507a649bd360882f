"""Ensemble weather in the outlook: each day's forecast as a mixture over weather members.

A weather ensemble is a set of equally likely weather futures (members). The crossing
model is run once per member's weather (one fitted model shared by all members), so
each member gives every day a predictive distribution of people; the outlook's
distribution for a day is the **mixture** of the members' (equal weights):

- ``P(any)``, ``P(> N)``, expected people and boats: the mean over members (exact);
- quantiles (``q10`` .. ``q90``): from draws of the mixture, each member's day drawn
  from its hurdle-gamma distribution (:func:`forecast.products.outlook.sample_days`)
  and the draws pooled;
- week totals and busy-night probabilities: from **joint** draws, where one draw follows
  one member through all days (then each day's own spread given that member's weather),
  so a calm spell that may or may not come is one uncertainty, not seven independent ones;
- how the members agree, in words: "calm overnight in 38 of 51 members" (the calm-day
  rule of the features, :func:`forecast.features.build.calm_day`, which the pipeline
  returns as ``calm_rule``), with the spread of the members' night-mean wind.

Members are streamed: each member's prediction is reduced to running sums and a fixed
number of draws before the next is made, so memory does not grow with the number of
members beyond the mixture's draws (``n_draws`` x days).

Three sources of members, the same code after them:

- online, the cached Open-Meteo ensemble (:func:`forecast.stores.ensemble.load_ensemble_latest`),
  one hourly Dataset per member (:func:`openmeteo_members`) for an Open-Meteo-trained
  model. The ensemble has no waves: every member takes the deterministic marine
  forecast's waves when one is cached, else none (NaN);
- offline replays, an ensemble simulated from the observed KNMI station weather with
  :func:`forecast.features.forecast_error.simulate_ensemble` (:func:`simulated_members`),
  labelled :data:`LABEL_SIMULATED` everywhere it shows;
- online without a cached ensemble, the deterministic forecast **dressed** with its
  simulated error (:func:`dressed_members`, :mod:`forecast.features.dressing`): members
  drawn from the weather that may follow that forecast at each lead, around a
  climatology of the cached Open-Meteo archive (:func:`dressing_climate`). Like the
  Open-Meteo ensemble's members, they keep the deterministic marine forecast's waves.
  Labelled :data:`LABEL_DRESSED` everywhere it shows.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast import config, fileio
from forecast.errors import ConfigError, DataFormatError, ForecastError
from forecast.features import dressing as dr
from forecast.features import forecast_error as fe
from forecast.model import pipeline as P
from forecast.products import outlook as ol
from forecast.stores import weather as W

#: ``--ensemble`` choices: ``auto`` (live: the cached ensemble when one covers the first
#: night, else the cached deterministic forecast dressed with its error; replays: observed
#: weather), ``cached`` (live: the cached ensemble, an error without one), ``dressed``
#: (live: the deterministic forecast dressed with its simulated error), ``simulated``
#: (replays: an ensemble simulated from the observed station weather), ``none`` (never an
#: ensemble: the single deterministic forecast, over-confident from day 2).
MODES = ("auto", "cached", "dressed", "simulated", "none")

#: Label of the offline ensemble, shown wherever it is used.
LABEL_SIMULATED = f"simulated ensemble ({fe.LABEL})"

#: Label of a dressed deterministic forecast (:func:`dressed_label` adds the members).
LABEL_DRESSED = f"dressed deterministic forecast ({fe.LABEL})"

#: Said of a single deterministic forecast used without an ensemble or dressing.
SINGLE_FORECAST_CAVEAT = (
    "one deterministic forecast, not an ensemble: no forecast error is allowed for, so "
    "the chances from day 2 on are over-confident (experiment 005)"
)

#: Members of a simulated ensemble by default (as the ECMWF ensemble: control + 50).
DEFAULT_MEMBERS = 51
#: Members of a dressed deterministic forecast by default. The mixture's P(any) carries a
#: sampling error of the members' spread / sqrt(N): on real weather about 3.5 percentage
#: points with 51 members, 5 with 21 (docs/outlook.md); the cost is about linear in N
#: (the model runs once per member).
DRESSED_MEMBERS = 51
#: Fewest and most members accepted.
MIN_MEMBERS, MAX_MEMBERS = 2, 200

#: Observed days kept before the origin in each simulated member's frame [days]: the
#: recent-weather features look back up to 60 days (``days_since_calm``) and 56 days
#: (``people_per_calm_day_56``), plus margin.
HISTORY_DAYS = 70

#: Hourly variables an Open-Meteo member takes from the ensemble (the rest, waves
#: included, come from the deterministic forecast when one is cached).
MEMBER_VARIABLES = ("wind_speed_10m", "wind_gusts_10m", "wind_direction_10m", "precipitation")

#: Columns averaged over members (means of the mixture) and driver columns averaged
#: for the words.
_MEAN_COLUMNS = ("p_any", "expected_people", "expected_boats")


def check_members(n_members: int) -> int:
    """``n_members`` as an int in :data:`MIN_MEMBERS` .. :data:`MAX_MEMBERS`, else ConfigError."""
    if isinstance(n_members, bool) or not isinstance(n_members, int | np.integer):
        raise ConfigError(f"--members {n_members!r}: give a whole number of members")
    if not MIN_MEMBERS <= int(n_members) <= MAX_MEMBERS:
        raise ConfigError(
            f"--members {n_members}: give {MIN_MEMBERS} .. {MAX_MEMBERS} members "
            f"(default {DEFAULT_MEMBERS})"
        )
    return int(n_members)


# ---------------------------------------------------------------------------
# members
# ---------------------------------------------------------------------------


def simulated_members(
    knmi: pd.DataFrame,
    origin: pd.Timestamp,
    days: pd.DatetimeIndex,
    n_members: int = DEFAULT_MEMBERS,
    random_state: int = 0,
) -> Iterator[pd.DataFrame]:
    """Members of an ensemble simulated from observed station weather, one frame each.

    Day ``D`` of member ``m`` is the member's forecast of ``D`` issued at the origin,
    i.e. at lead ``(D - origin)`` days (:func:`forecast.features.forecast_error.simulate_ensemble`
    with the full record as climatology). All leads are simulated over the same days
    with the same seed, so each member's error sequence is one AR(1) path through the
    days: a member that misses a calm spell misses it for several days. Days up to the
    origin stay observed (known at the origin).

    Parameters
    ----------
    knmi : pandas.DataFrame
        Daily station weather (:func:`forecast.sources.knmi.load_knmi`), covering
        ``origin - HISTORY_DAYS`` .. ``days[-1]`` and at least a year (climatology).
    origin : Timestamp
        Forecast origin (last day known).
    days : DatetimeIndex
        Days to forecast, 1 .. 16 days after the origin.
    n_members : int
        Members (2 .. 200).
    random_state : int
        Seed of the simulation.

    Yields
    ------
    pandas.DataFrame
        One per member: the observed days ``origin - HISTORY_DAYS .. origin`` then the
        member's simulated ``days``; same columns as ``knmi``; ``attrs["label"]``
        :data:`LABEL_SIMULATED`, ``attrs["member"]``.

    Raises
    ------
    ConfigError
        A day outside lead 1 .. 16, or ``knmi`` not covering the days.
    """
    n_members = check_members(n_members)
    origin = pd.Timestamp(origin).normalize()
    days = pd.DatetimeIndex(days)
    leads = np.asarray((days - origin).days)
    if len(days) == 0 or leads.min() < 1 or leads.max() > fe.MAX_LEAD:
        raise ConfigError(
            f"a simulated ensemble forecasts 1 .. {fe.MAX_LEAD} days after the origin "
            f"{origin.date()}; the days asked are {leads.tolist()} days after it"
        )
    missing = days[~days.isin(knmi.index)]
    if len(missing):
        raise ConfigError(
            f"the station weather ends {knmi.index[-1].date()}: it does not cover "
            f"{missing[0].date()}, so no ensemble can be simulated from it"
        )
    window = knmi.loc[days[0] : days[-1]]
    sims = {
        int(k): fe.simulate_ensemble(
            window, lead=int(k), n_members=n_members, random_state=random_state, climate=knmi
        )
        for k in sorted(set(leads.tolist()))
    }
    history = knmi.loc[origin - pd.Timedelta(days=HISTORY_DAYS) : origin]
    for m in range(n_members):
        rows = [sims[int(k)].loc[(m, d)] for d, k in zip(days, leads, strict=True)]
        ahead = pd.DataFrame(rows, index=pd.DatetimeIndex(days, name=knmi.index.name))
        frame = pd.concat([history, ahead[knmi.columns]])
        frame.attrs = dict(knmi.attrs)
        frame.attrs["label"] = LABEL_SIMULATED
        frame.attrs["source"] = (
            f"{knmi.attrs.get('source', 'KNMI station weather')}; {LABEL_SIMULATED}"
        )
        frame.attrs["member"] = m
        yield frame


def _plain(ds: xr.Dataset) -> xr.Dataset:
    """Only the data variables on (time, site), without auxiliary coordinates."""
    out = ds.reset_coords(drop=True)
    keep = [v for v in out.data_vars if set(out[v].dims) <= {"time", "site"}]
    return out[keep]


def openmeteo_members(
    ens: xr.Dataset, deterministic: xr.Dataset | None = None
) -> Iterator[xr.Dataset]:
    """One hourly Dataset (dims ``time``, ``site``) per member of a cached ensemble.

    Each member's wind, gusts, direction and precipitation (:data:`MEMBER_VARIABLES`)
    come from the ensemble; everything else (waves, visibility, pressure) and the hours
    before the ensemble starts come from ``deterministic`` (the cached deterministic
    forecast) when given. The ensemble carries no waves: without a deterministic
    forecast the members have none (NaN), and the model treats them as missing.

    Parameters
    ----------
    ens : xarray.Dataset
        From :func:`forecast.stores.ensemble.load_ensemble_latest`: dims ``(site, time,
        member)``.
    deterministic : xarray.Dataset, optional
        From :func:`forecast.stores.weather.load_forecast_latest`.

    Yields
    ------
    xarray.Dataset
        Hourly weather as :func:`forecast.features.build.hourly_weather_features`
        reads it; ``attrs["member"]``.
    """
    if "member" not in ens.dims or "wind_speed_10m" not in ens:
        raise DataFormatError(
            "ensemble Dataset needs a 'member' dimension and 'wind_speed_10m' [kn] (has dims "
            f"{tuple(ens.dims)}, variables {list(ens.data_vars)}); load it with "
            "forecast.stores.ensemble.load_ensemble_latest()."
        )
    variables = [v for v in MEMBER_VARIABLES if v in ens]
    det = None if deterministic is None else _plain(deterministic)
    for m in ens["member"].values:
        member = _plain(ens[variables].sel(member=m, drop=True)).transpose("time", "site")
        ds = member if det is None else member.combine_first(det)
        ds.attrs = {
            "source": str(ens.attrs.get("source", "Open-Meteo ensemble")),
            "model": str(ens.attrs.get("model", "")),
            "retrieved_utc": str(ens.attrs.get("retrieved_utc", "")),
            "member": int(m),
        }
        yield ds


def openmeteo_label(ens: xr.Dataset, with_waves: bool) -> str:
    """Words for a cached ensemble: model, members, retrieval time and the waves used."""
    n = int(ens.sizes.get("member", 0))
    waves = (
        "waves from the deterministic marine forecast for every member (the ensemble has no waves)"
        if with_waves
        else "no waves (the ensemble has none and no deterministic marine forecast is cached)"
    )
    return (
        f"Open-Meteo ensemble {ens.attrs.get('model', '')} ({n} members), retrieved "
        f"{ens.attrs.get('retrieved_utc', 'at an unknown time')}; {waves}"
    )


def dressed_label(n_members: int) -> str:
    """``'dressed deterministic forecast (simulated forecast error, 51 members)'``."""
    return f"dressed deterministic forecast ({fe.LABEL}, {int(n_members)} members)"


def dressing_origin(ds: xr.Dataset, issued_utc) -> pd.Timestamp:
    """Last UTC day left undressed: the day before the forecast run's.

    The error table's lead ``k`` is a forecast of the ``k``-th day counted from the run's
    own day (a day-1 error is that of the run's first 24 hours), so the run's day is
    dressed at lead 1, the next at lead 2, and so on; the analysed past days of the run
    stay as they are. The run time is ``run_utc``, else ``forecast_retrieved_utc``, else
    ``retrieved_utc`` of ``ds``; without one, the issue time stands in for it.
    """
    stamp = None
    for key in ("run_utc", "forecast_retrieved_utc", "retrieved_utc"):
        text = str(ds.attrs.get(key) or "").strip()
        if text:
            try:
                stamp = pd.Timestamp(text)
                break
            except ValueError:
                continue
    if stamp is None:
        stamp = pd.Timestamp(issued_utc)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.normalize() - pd.Timedelta(days=1)


def _archive_fingerprint() -> str:
    """Names, sizes and modification times of the cached history files (not runs)."""
    root = W.cache_root()
    h = hashlib.sha256()
    for path in sorted(root.glob("*/*.nc")) if root.is_dir() else []:
        if not path.name.startswith("run-"):
            st = path.stat()
            h.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


#: Columns of a cached climatology file (the UTC-day aggregation of the archive).
_CLIMATE_VERSION = "v1"


def dressing_climate(
    end: pd.Timestamp, start: pd.Timestamp = P.TRAIN_START, folder: Path | None = None
) -> pd.DataFrame:
    """Daily climatology of the dressing: the cached Open-Meteo archive (the training weather).

    The archive's hours from ``start`` to ``end`` (UTC days), aggregated per UTC day as
    the forecast is (:func:`forecast.features.dressing.daily_frame`). Reads the weather
    cache only. With ``folder`` (the predictor's cache folder) the daily frame is kept
    there as CSV, keyed by the span and the archive files' names, sizes and times, so a
    ``forecast weather update`` makes a new one.

    Raises
    ------
    ConfigError
        No usable archive, or fewer than 365 days with wind; the message says to run
        ``forecast weather update``.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    what = "the Open-Meteo archive (the dressing's climatology)"
    cache = None
    if folder is not None:
        key = f"{start:%Y%m%d}-{end:%Y%m%d}-{_archive_fingerprint()}-{_CLIMATE_VERSION}"
        cache = Path(folder) / f"dressing_climate-{key}.csv"
        if cache.exists():
            try:
                daily = pd.read_csv(cache, index_col="date", parse_dates=["date"])
            except (OSError, ValueError):
                daily = None
            if daily is not None:
                daily.attrs["source"] = "Open-Meteo archive (cached climatology)"
                return dr.check_climate(daily, what)
    try:
        raw = W.load_hourly(pd.Timestamp(start).date(), pd.Timestamp(end).date(), kind="archive")
    except ForecastError as exc:
        raise ConfigError(
            "the forecast cannot be dressed with its error: the climatology comes from the "
            f"cached Open-Meteo archive, which is not usable ({exc}). To fix it, "
            f"{dr.HOW_TO_GET_CLIMATE}."
        ) from exc
    daily = dr.daily_frame(raw)
    daily.attrs["source"] = f"Open-Meteo archive {raw.attrs.get('model', '')}".strip()
    dr.check_climate(daily, what)
    if cache is not None:
        try:
            fileio.write_text(cache, daily.rename_axis("date").to_csv(), "dressing climatology")
        except (ForecastError, OSError):
            pass  # a read-only cache only costs speed
    return daily


def dressed_members(
    deterministic: xr.Dataset,
    origin: pd.Timestamp,
    n_members: int,
    climate: pd.DataFrame,
    random_state: int = 0,
) -> Iterator[xr.Dataset]:
    """Members of the deterministic forecast dressed with its simulated error.

    :func:`forecast.features.dressing.dress_hourly` (the dressing is drawn at the call,
    the hourly members one at a time): the wind, gusts, direction and pressure of each
    day after ``origin`` follow member ``m``'s dressed daily values at that day's lead;
    waves and everything else stay the deterministic forecast's.

    Parameters
    ----------
    deterministic : xarray.Dataset
        The hourly forecast (:func:`forecast.stores.weather.load_forecast_latest`).
    origin : Timestamp
        :func:`dressing_origin`.
    n_members : int
        Members (2 .. 200).
    climate : pandas.DataFrame
        :func:`dressing_climate`.
    random_state : int
        Seed (the same outlook gives the same members).
    """
    return dr.dress_hourly(deterministic, origin, check_members(n_members), random_state, climate)


# ---------------------------------------------------------------------------
# the mixture
# ---------------------------------------------------------------------------


class MixtureAccumulator:
    """Running mixture of members' day forecasts (memory bounded by the draws).

    Parameters
    ----------
    n_members : int
        Members that will be added (each gets ``ceil(n_draws / n_members)`` draws).
    thresholds : sequence of int
        Busy-day thresholds [people] (``p_gt_<N>`` columns).
    n_draws : int
        Draws of the mixture in all (default :data:`forecast.products.outlook.N_DRAWS`).
    random_state : int
        Seed; member ``m``'s draws use ``random_state * 1009 + m``.
    """

    def __init__(
        self,
        n_members: int,
        thresholds: Sequence[int] = config.BUSY_THRESHOLDS,
        n_draws: int = ol.N_DRAWS,
        random_state: int = 0,
    ) -> None:
        self.n_members = int(n_members)
        self.thresholds = tuple(int(n) for n in thresholds)
        self.per_member = max(1, math.ceil(int(n_draws) / max(self.n_members, 1)))
        self.random_state = int(random_state)
        self.n = 0
        self._first: pd.DataFrame | None = None
        self._sums: dict[str, np.ndarray] = {}
        self._drivers: dict[str, np.ndarray] = {}
        self._calm: np.ndarray | None = None
        self._calm_known: np.ndarray | None = None
        self._wind: list[np.ndarray] = []
        self._draws: np.ndarray | None = None

    def add(self, pred: pd.DataFrame) -> None:
        """Fold one member's prediction (rows = the days, contract columns) into the mixture."""
        ol.check_prediction(pred, self.thresholds)
        if self.n >= self.n_members:
            raise ConfigError(f"more members than the {self.n_members} announced")
        if self._first is None:
            self._first = pred
            n_days = len(pred)
            self._draws = np.zeros((self.per_member * self.n_members, n_days))
            self._calm = np.zeros(n_days)
            self._calm_known = np.zeros(n_days)
        elif not pred.index.equals(self._first.index):
            raise DataFormatError(
                f"member {self.n} forecasts days {pred.index[0].date()}..{pred.index[-1].date()}, "
                f"not the first member's {self._first.index[0].date()}..{self._first.index[-1].date()}"
            )
        cols = [*_MEAN_COLUMNS, *(f"p_gt_{n}" for n in self.thresholds)]
        for col in cols:
            self._sums[col] = self._sums.get(col, 0.0) + pred[col].to_numpy(dtype=float)
        for col in P.DRIVER_COLUMNS:
            if col in pred.columns:
                values = pd.to_numeric(pred[col], errors="coerce").to_numpy(dtype=float)
                self._drivers[col] = self._drivers.get(col, 0.0) + values
        if "calm_rule" in pred.columns:
            calm = pred["calm_rule"]
            known = calm.notna().to_numpy()
            self._calm += np.where(known, calm.fillna(False).to_numpy(dtype=bool), False)
            self._calm_known += known
        if "wind_speed_10m_mean" in pred.columns:
            self._wind.append(pred["wind_speed_10m_mean"].to_numpy(dtype=float))
        seed = self.random_state * 1009 + self.n
        rows = slice(self.n * self.per_member, (self.n + 1) * self.per_member)
        self._draws[rows] = ol.sample_days(pred, n_draws=self.per_member, random_state=seed)
        self.n += 1

    def result(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The mixture as a prediction frame, and its joint draws ``(n, n_days)`` [people].

        The frame has the pipeline's contract columns (means over members, quantiles of
        the pooled draws), the members' mean driver columns, ``members``,
        ``calm_members`` (members whose night is calm by the calm-day rule) and
        ``drivers`` (words, with how the members agree). Its ``attrs["provenance"]`` is
        the first member's.
        """
        if self.n == 0 or self._first is None:
            raise ConfigError("no ensemble member was forecast; nothing to mix")
        draws = self._draws[: self.n * self.per_member]
        first = self._first
        out = pd.DataFrame(index=first.index)
        for col, total in self._sums.items():
            out[col] = total / self.n
        out["rag"] = P.rag_class(out["p_any"])
        levels = (("q10", 0.1), ("q25", 0.25), ("q50", 0.5), ("q75", 0.75), ("q80", 0.8))
        for col, q in (*levels, ("q90", 0.9)):
            out[col] = np.quantile(draws, q, axis=0)
        for col, total in self._drivers.items():
            out[col] = total / self.n
        for col in first.columns:
            if col not in out.columns and col != "calm_rule":
                out[col] = first[col]
        out["members"] = self.n
        if self._calm_known is not None and self._calm_known.max() > 0:
            out["calm_members"] = self._calm
        out["drivers"] = [self._words(j, out.iloc[j], date) for j, date in enumerate(out.index)]
        out.attrs = dict(first.attrs)
        return out, draws

    def _words(self, j: int, row: pd.Series, date) -> str:
        row = row.drop(labels=["drivers"], errors="ignore").copy()
        row.name = date
        base = ol.drivers_text(row)
        bits = []
        if self._calm_known is not None and self._calm_known[j] > 0:
            bits.append(
                f"calm overnight in {int(self._calm[j])} of {int(self._calm_known[j])} members"
            )
        if self._wind:
            wind = np.array([w[j] for w in self._wind])
            wind = wind[np.isfinite(wind)]
            if len(wind) >= 2:
                lo, hi = np.quantile(wind, [0.1, 0.9])
                bits.append(f"members' wind {lo:.0f}–{hi:.0f} kn (80 %)")
        return ", ".join([base, *bits]) if bits else base


def ensemble_prediction(
    forecast_member: Callable[[object], pd.DataFrame],
    members: Iterable,
    n_members: int,
    thresholds: Sequence[int] = config.BUSY_THRESHOLDS,
    n_draws: int = ol.N_DRAWS,
    random_state: int = 0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Run the model on each member's weather and mix the members (streamed).

    Parameters
    ----------
    forecast_member : callable
        Member weather -> prediction frame of the days (e.g.
        :meth:`forecast.products.predictor.CachedPredictor.member_forecaster`: one
        fitted model for every member).
    members : iterable
        Member weathers (:func:`simulated_members`, :func:`openmeteo_members`).
    n_members : int
        How many members ``members`` yields.
    thresholds, n_draws, random_state
        As :class:`MixtureAccumulator`.

    Returns
    -------
    (pred, draws) : (DataFrame, ndarray)
        :meth:`MixtureAccumulator.result`.
    """
    acc = MixtureAccumulator(n_members, thresholds, n_draws=n_draws, random_state=random_state)
    for weather in members:
        acc.add(forecast_member(weather))
    if acc.n != acc.n_members:
        raise DataFormatError(f"the ensemble gave {acc.n} members, not the {n_members} expected")
    return acc.result()


def ensemble_info(label: str, kind: str, n_members: int, n_draws: int) -> dict:
    """The outlook's ``ensemble`` entry: what the members were and how the week is drawn."""
    return {
        "kind": kind,
        "label": label,
        "n_members": int(n_members),
        "method": (
            f"{label}, {int(n_members)} members: each day's distribution is the mixture of the "
            f"members' (P(any), P(> N) and expected people are means over members; ranges from "
            f"{int(n_draws):,} pooled draws). Week totals and busy-night chances draw one member "
            "for all days of a draw, then each day's own spread, so a calm spell that may or "
            "may not come counts once"
        ),
    }


__all__ = [
    "DEFAULT_MEMBERS",
    "DRESSED_MEMBERS",
    "LABEL_DRESSED",
    "LABEL_SIMULATED",
    "MODES",
    "SINGLE_FORECAST_CAVEAT",
    "MixtureAccumulator",
    "check_members",
    "dressed_label",
    "dressed_members",
    "dressing_climate",
    "dressing_origin",
    "ensemble_info",
    "ensemble_prediction",
    "openmeteo_label",
    "openmeteo_members",
    "simulated_members",
]
