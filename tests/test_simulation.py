"""Simulation check on SYNTHETIC data (tests/simulate.py): the model recovers a known process.

The generator's weather and arrivals are code-generated and labelled synthetic; they are
never used for a user-facing forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.evaluation import metrics as M
from forecast.evaluation.backtest import BacktestSpec, run_backtest
from forecast.model.crossing import GRID_LEVELS, grid_columns
from tests.simulate import LABEL, oracle_forecast, simulate


@pytest.fixture(scope="module")
def sim():
    weather, arrivals, truth = simulate(seed=0)
    spec = BacktestSpec(start="2021-01-01", end="2021-12-31", horizons=(1,), train_end="2020-12-31")
    res = run_backtest(arrivals, "knmi", weather, spec, weather_label="synthetic", tide_sky=False)
    days = pd.date_range("2021-01-01", "2021-12-31")
    y = arrivals["people"].reindex(days).to_numpy()
    oracle = oracle_forecast(truth, days)
    oracle["crps"] = M.crps_from_quantiles(y, oracle[grid_columns()].to_numpy(), GRID_LEVELS)
    return res, M.score_forecasts(y, oracle), weather, arrivals


def test_generator_is_labelled_and_realistic(sim):
    _, _, weather, arrivals = sim
    assert weather.attrs["source"] == LABEL and "synthetic" in LABEL
    share = (arrivals["people"] > 0).mean()
    assert 0.3 < share < 0.7
    # weather persists from day to day
    w = np.log(weather["wind_speed_10m_mean"].to_numpy())
    assert np.corrcoef(w[1:], w[:-1])[0, 1] > 0.5
    # crossings come in boat loads
    pos = arrivals[arrivals.people > 0]
    assert ((pos.people / pos.boats).between(35, 65)).all()


def test_model_skill_close_to_oracle_and_beats_every_baseline(sim):
    res, oracle, _, _ = sim
    s = res.scores[res.scores.group == "h1"].set_index("forecaster")
    model = s.loc["model"]
    clim = s.loc["climatology_month"]
    bss_model = 1 - model["brier_any"] / clim["brier_any"]
    bss_oracle = 1 - oracle["brier_any"] / clim["brier_any"]
    assert bss_oracle > 0.6
    assert bss_model > 0.85 * bss_oracle
    assert model["crps"] < 1.35 * oracle["crps"]
    assert model["auc_any"] > oracle["auc_any"] - 0.03
    for name in s.index.drop("model"):
        assert model["crps"] < s.loc[name, "crps"], name
        assert model["brier_any"] < s.loc[name, "brier_any"], name
        assert model["mae"] < s.loc[name, "mae"], name
    assert 0.72 <= model["coverage_80"] <= 0.9
