"""Scores in forecast.evaluation.metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from forecast.evaluation import metrics as M
from forecast.model.crossing import GRID_LEVELS


def test_mae_rmse_poisson_deviance():
    y = np.array([0, 10, 4])
    pred = np.array([1.0, 8.0, 4.0])
    assert M.mae(y, pred) == pytest.approx(1.0)
    assert M.rmse(y, pred) == pytest.approx(np.sqrt(5 / 3))
    expected = 2 * np.mean([0 - (0 - 1), 10 * np.log(10 / 8) - 2, 0.0])
    assert M.poisson_deviance(y, pred) == pytest.approx(expected)


def test_pinball_and_crps_of_point_forecast_is_absolute_error():
    y = np.array([3.0, 0.0, 10.0])
    point = np.array([1.0, 2.0, 10.0])
    assert M.pinball(y, point, 0.9).tolist() == pytest.approx([1.8, 0.2, 0.0])
    grid = np.repeat(point[:, None], len(GRID_LEVELS), axis=1)
    assert M.crps_from_quantiles(y, grid, GRID_LEVELS) == pytest.approx(np.abs(y - point))


def test_crps_of_uniform_distribution_matches_closed_form():
    # Y ~ U(0, 1), observation 0.25: CRPS = (x^3 + (1 - x)^3) / 3 - 1/6 ... closed form
    x = 0.25
    grid = GRID_LEVELS[None, :]
    crps = M.crps_from_quantiles([x], grid, GRID_LEVELS)[0]
    exact = x**2 - x + 1 / 3
    assert crps == pytest.approx(exact, abs=1e-4)


def test_brier_skill_and_auc():
    event = np.array([1, 0, 1, 0, 1])
    prob = np.array([0.9, 0.2, 0.6, 0.4, 0.8])
    assert M.brier(event, prob) == pytest.approx(np.mean([0.01, 0.04, 0.16, 0.16, 0.04]))
    ref = np.full(5, 0.6)
    assert M.brier_skill(event, prob, ref) == pytest.approx(1 - 0.082 / 0.24)
    assert M.roc_auc(event, prob) == pytest.approx(roc_auc_score(event, prob))
    assert M.roc_auc([1, 0, 1], [0.5, 0.5, 0.2]) == pytest.approx(
        roc_auc_score([1, 0, 1], [0.5, 0.5, 0.2])
    )
    assert np.isnan(M.roc_auc([1, 1], [0.2, 0.3]))


def test_interval_bounds_switch_to_lower_tail_in_zero_mass():
    fc = pd.DataFrame({"q10": [0.0, 50.0], "q90": [400.0, 300.0], "q80": [200.0, 250.0]})
    lo, hi = M.interval_bounds(fc, 0.2)
    assert lo.tolist() == [0.0, 50.0]
    assert hi.tolist() == [200.0, 300.0]


def test_interval_score_and_coverage():
    y = np.array([5.0, 15.0, 0.0])
    assert M.interval_score(y, [0, 0, 1], [10, 10, 10], 0.2).tolist() == pytest.approx(
        [10.0, 10 + 10 * 5, 9 + 10 * 1]
    )
    assert M.coverage(y, [0, 0, 1], [10, 10, 10]) == pytest.approx(1 / 3)


def test_reliability_bins():
    rel = M.reliability([0, 1, 1, 1], [0.05, 0.15, 0.95, 0.91], n_bins=10)
    assert rel.loc[0, "n"] == 1 and rel.loc[0, "observed_frequency"] == 0.0
    assert rel.loc[9, "n"] == 2 and rel.loc[9, "mean_forecast"] == pytest.approx(0.93)
    assert rel["n"].sum() == 4
