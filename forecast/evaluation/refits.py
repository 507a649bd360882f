"""The refits of a rolling backtest: fit every forecaster, predict its evaluation rows.

This is the work that runs in worker processes (or on a dask cluster), kept apart from
:mod:`forecast.evaluation.backtest` so that a worker imports only what a refit needs
(no plotting, no dask).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.evaluation import metrics as M
from forecast.evaluation.baselines import default_baselines
from forecast.evaluation.forecast_weather import QuantileMixture, replace_weather
from forecast.model.crossing import GRID_LEVELS, LeadBandModel, grid_columns, single_threaded
from forecast.model.pipeline import select_columns

#: Name of the main model in result tables.
MODEL_NAME = "model"
WEATHER_FREE_NAME = "weather_free_model"


def _forecast_rows(
    fc: pd.DataFrame, y: np.ndarray, meta_cols: pd.DataFrame, name: str
) -> pd.DataFrame:
    grid = grid_columns()
    skip = set(grid)
    # plain arrays into one DataFrame (the same table as drop/assign/reset_index, faster)
    out = {fc.index.name or "index": fc.index.to_numpy()}
    out.update({c: fc[c].to_numpy() for c in fc.columns if c not in skip})
    q = fc[grid].to_numpy()
    out["crps"] = M.crps_from_quantiles(y, q, GRID_LEVELS)
    out["pit_lower"], out["pit_upper"] = M.pit_bounds(y, q)
    out["people"] = np.asarray(y, dtype=float)
    out["forecaster"] = name
    out.update({c: meta_cols[c].to_numpy() for c in meta_cols.columns})
    return pd.DataFrame(out)


def _rows(X: pd.DataFrame, lo: int, hi: int, weather_source: str) -> pd.DataFrame:
    out = X.iloc[lo:hi]
    out.attrs["weather_source"] = weather_source
    return out


@dataclass
class Refit:
    """One refit: its number, origin, training rows ``lo:hi`` of the training table,
    evaluation rows ``sel`` and whether it recomputes the out-of-fold calibration."""

    i: int
    origin: pd.Timestamp
    lo: int
    hi: int
    sel: np.ndarray
    recalibrate: bool


def refit_chunk(common: dict, tasks: list[Refit], progress=None, n_total: int = 0) -> list:
    """Fit and predict every forecaster at each refit of ``tasks`` (in order).

    Between recalibrations a refit reuses the calibration of the previous one in the
    chunk; chunks start at a recalibration, so results do not depend on the chunking.
    """
    spec = common["spec"]  # a BacktestSpec
    src = common["weather_source"]
    Xbig, ybig, bbig = common["Xbig"], common["ybig"], common["bbig"]
    Xbig0 = select_columns(Xbig, "none") if spec.baselines and src != "none" else None
    Xall, yall, rows = common["Xall"], common["yall"], common["rows"]
    Xall_model = Xall if src != "none" else select_columns(Xall, "none")
    Xall0 = select_columns(Xall, "none") if Xbig0 is not None else None
    draw = common.get("draw")
    frames: list[pd.DataFrame] = []
    prev: dict[str, LeadBandModel] = {}
    bands = common["bands"]
    # many small fits: OpenMP threads cost more than they give (about 5 times slower on
    # 2 busy cores); entered once here so the fits do not each pay for it
    with single_threaded():
        for t in tasks:
            ytr, btr = ybig[t.lo : t.hi], bbig[t.lo : t.hi]
            if len(ytr) == 0 or ytr.max() <= 0 or (ytr > 0).sum() < 10 or len(t.sel) == 0:
                continue
            Xtr = _rows(Xbig, t.lo, t.hi, src)
            meta_cols = rows.iloc[t.sel]
            yev = yall[t.sel]
            model = LeadBandModel(src, bands, spec.model_params).fit(
                Xtr,
                ytr,
                boats=btr,
                calibration_from=None if t.recalibrate else prev.get(MODEL_NAME),
            )
            prev[MODEL_NAME] = model
            forecasters: list[tuple[str, object, pd.DataFrame]] = [
                (MODEL_NAME, model, _take(Xall_model, t.sel, src))
            ]
            if spec.baselines:
                if Xbig0 is not None:
                    # the weather-free model learns from each training row once (draw 0)
                    first = slice(None) if draw is None else draw[t.lo : t.hi] == 0
                    wf = LeadBandModel("none", bands, spec.model_params).fit(
                        _rows(Xbig0, t.lo, t.hi, "none")[first],
                        ytr[first],
                        boats=btr[first],
                        calibration_from=None if t.recalibrate else prev.get(WEATHER_FREE_NAME),
                    )
                    prev[WEATHER_FREE_NAME] = wf
                    forecasters.append((WEATHER_FREE_NAME, wf, _take(Xall0, t.sel, "none")))
                Xev = _take(Xall, t.sel, src)
                # baselines learn from each training day once (the last band's row)
                once = ~Xtr.index.duplicated(keep="last")
                for b in default_baselines(weather=src != "none", cfg=common["cfg"]):
                    b.fit(Xtr[once], ytr[once])
                    forecasters.append((b.name, b, Xev))
            members = common.get("members")
            for name, est, Xe in forecasters:
                if members is None or name == WEATHER_FREE_NAME:
                    fc = est.predict_distribution(Xe, thresholds=spec.thresholds, grid=True)
                else:
                    fc = mixture_forecast(est, Xe, members[:, t.sel], spec.thresholds)
                frames.append(_forecast_rows(fc, yev, meta_cols, name))
            if progress is not None:
                progress(f"refit {t.i + 1}/{n_total} at {t.origin.date()}")
    return frames


def mixture_forecast(
    est, X: pd.DataFrame, members: Sequence[pd.DataFrame], thresholds: Sequence[int]
) -> pd.DataFrame:
    """Mixture over ensemble members of ``est``'s forecasts of the rows ``X``.

    ``members[i]``: the weather-table columns of the rows under member ``i`` (they
    replace those of ``X``). Members are predicted and added one at a time
    (:class:`QuantileMixture`); a forecaster whose forecasts do not change between the
    first two members does not use the weather and keeps its single forecast.
    """
    mix, first = QuantileMixture(len(X)), None
    for i, wx in enumerate(members):
        Xi = replace_weather(X, wx)
        fc = est.predict_distribution(Xi, thresholds=thresholds, grid=True)
        if i == 0:
            first = fc
        elif i == 1 and fc.equals(first):
            return first
        mix.add(fc)
    return mix.result()


class MemberRows:
    """Weather-table rows of the evaluation rows under each ensemble member (float32),
    sliced by rows as ``members[:, sel]`` and iterated member by member."""

    def __init__(self, values: np.ndarray, columns: Sequence[str]):
        self.values, self.columns = values, list(columns)

    def __getitem__(self, key) -> MemberRows:
        return MemberRows(self.values[key], self.columns)

    def __iter__(self):
        for v in self.values:
            yield pd.DataFrame(v, columns=self.columns)

    def __len__(self) -> int:
        return len(self.values)


def _take(X: pd.DataFrame, sel: np.ndarray, weather_source: str) -> pd.DataFrame:
    out = X.iloc[sel]
    out.attrs["weather_source"] = weather_source
    return out


def warm_worker() -> None:
    """Import what a refit needs (run in each new worker while the main process builds
    the features, so the workers are ready when the refits start): unpickling this
    function imports this module, and with it the model."""
