"""Scores in forecast.evaluation.metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from forecast.errors import ConfigError
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


def test_shares_above_and_below_quantiles():
    y = np.array([0.0, 5.0, 50.0, 120.0])
    assert M.share_above(y, [10.0, 10.0, 40.0, 200.0]) == pytest.approx(0.25)
    assert M.share_below(y, [0.0, 6.0, 60.0, 100.0]) == pytest.approx(0.5)


def test_pit_bounds_read_the_grid_as_equally_likely_values():
    # 4 grid values: 0, 0, 10, 30 (a hurdle forecast with P(0) = 0.5)
    grid = np.array([[0.0, 0.0, 10.0, 30.0]] * 4)
    lo, hi = M.pit_bounds([0, 10, 20, 40], grid)
    assert lo.tolist() == [0.0, 0.5, 0.75, 1.0]
    assert hi.tolist() == [0.5, 0.75, 0.75, 1.0]


def test_pit_histogram_spreads_a_count_uniformly_over_its_cdf_jump():
    # day 1: y = 0 with P(0) = 0.3 -> uniform on [0, 0.3]: 1/3 in each of bins 0, 1, 2
    # day 2: a point at 0.95 (continuous part) -> bin 9; day 3: a point at 1.0 -> bin 9
    # day 4: uniform on [0.25, 0.45] -> half in bin 2 (0.25-0.3) ... 0.05/0.2 in bin 2,
    # 0.1/0.2 in bin 3, 0.05/0.2 in bin 4
    hist = M.pit_histogram([0.0, 0.95, 1.0, 0.25], [0.3, 0.95, 1.0, 0.45], n_bins=10)
    expected = np.zeros(10)
    expected[[0, 1, 2]] += 1 / 3
    expected[9] += 2
    expected[[2, 3, 4]] += [0.25, 0.5, 0.25]
    np.testing.assert_allclose(hist, expected / 4)
    assert hist.sum() == pytest.approx(1.0)


def test_pit_histogram_of_calibrated_forecasts_is_flat():
    # observations drawn from the forecast itself (a Poisson(3) count) -> flat histogram
    rng = np.random.default_rng(1)
    y = rng.poisson(3.0, 20000)
    grid = np.quantile(rng.poisson(3.0, 200000), GRID_LEVELS, method="inverted_cdf")
    lo, hi = M.pit_bounds(y, np.repeat(grid[None, :], len(y), axis=0))
    np.testing.assert_allclose(M.pit_histogram(lo, hi), 0.1, atol=0.012)


def test_reliability_slope_against_the_two_group_closed_form():
    # two forecast values: the logistic fit reproduces each group's observed frequency,
    # so b = (logit(f2) - logit(f1)) / (logit(p2) - logit(p1))
    def logit(x):
        return np.log(x / (1 - x))

    prob = np.array([0.2] * 5 + [0.8] * 5)
    calibrated = np.array([1, 0, 0, 0, 0] + [1, 1, 1, 1, 0])
    assert M.reliability_slope(calibrated, prob) == pytest.approx(1.0, abs=1e-8)
    over_confident = np.array([1, 1, 0, 0, 0] + [1, 1, 1, 1, 0])  # 0.4 observed at 0.2
    expected = (logit(0.8) - logit(0.4)) / (logit(0.8) - logit(0.2))
    assert M.reliability_slope(over_confident, prob) == pytest.approx(expected, abs=1e-8)
    assert expected < 1
    assert np.isnan(M.reliability_slope([1, 1, 1], [0.2, 0.5, 0.9]))
    assert np.isnan(M.reliability_slope([0, 1, 1], [0.5, 0.5, 0.5]))


def test_score_forecasts_reports_tails_by_day_type_and_mae_vs_zero():
    y = np.array([0.0, 0.0, 100.0, 400.0])
    fc = pd.DataFrame(
        {
            "expected_people": [10.0, 20.0, 80.0, 200.0],
            "p_any": [0.3, 0.6, 0.9, 0.95],
            "q025": [0.0, 0.0, 0.0, 20.0],
            "q05": [0.0, 0.0, 5.0, 30.0],
            "q10": [0.0, 0.0, 10.0, 50.0],
            "q25": [0.0, 0.0, 40.0, 100.0],
            "q50": [0.0, 5.0, 70.0, 180.0],
            "q75": [5.0, 30.0, 120.0, 260.0],
            "q80": [8.0, 40.0, 130.0, 280.0],
            "q90": [15.0, 60.0, 150.0, 350.0],
            "q95": [20.0, 80.0, 170.0, 400.0],
            "q975": [30.0, 100.0, 200.0, 450.0],
            "p_gt_300": [0.0, 0.01, 0.05, 0.2],
            "p_gt_500": [0.0, 0.0, 0.01, 0.05],
            "pit_lower": [0.0, 0.0, 0.6, 0.95],
            "pit_upper": [0.7, 0.4, 0.6, 0.95],
        }
    )
    s = M.score_forecasts(y, fc)
    # 80 % intervals: [0, q80] on the first two days (q10 = 0), [q10, q90] after
    assert s["coverage_80"] == pytest.approx(0.75)
    assert s["coverage_80_zero_days"] == pytest.approx(1.0)
    assert s["coverage_80_crossing_days"] == pytest.approx(0.5)
    assert s["share_above_q90"] == pytest.approx(0.25)
    assert s["share_below_q10"] == pytest.approx(0.0)
    assert s["mae"] == pytest.approx((10 + 20 + 20 + 200) / 4)
    assert s["mae_skill_vs_zero"] == pytest.approx(1 - 62.5 / 125.0)
    assert s["mae_median_skill_vs_zero"] == pytest.approx(1 - (0 + 5 + 30 + 220) / 4 / 125.0)
    expected_pit = np.zeros(10)
    expected_pit[:7] += 1 / 7  # day 1: uniform on [0, 0.7]
    expected_pit[:4] += 1 / 4  # day 2: uniform on [0, 0.4]
    expected_pit[6] += 1  # day 3: a point at 0.6
    expected_pit[9] += 1  # day 4: a point at 0.95
    np.testing.assert_allclose([s[f"pit_hist_{i}"] for i in range(10)], expected_pit / 4)
    # any crossing is perfectly separated by p_any here: no finite logistic fit
    assert np.isnan(s["reliability_slope_any"])


def test_coverage_if_calibrated_accounts_for_the_zero_mass():
    # day 1: p = 0.1 -> interval [0, 0] holds 0.9 (all of it the zero mass)
    # day 2: p = 0.5 -> [0, q80] holds 0.8, of which 0.5 is the zero mass: 0.3 crossing
    # day 3: p = 0.95 -> [q10, q90] above zero holds 0.8, all on crossing days
    p = [0.1, 0.5, 0.95]
    lo, hi = [0.0, 0.0, 20.0], [0.0, 50.0, 300.0]
    overall, crossing = M.coverage_if_calibrated(p, lo, hi, 0.2)
    assert overall == pytest.approx((0.9 + 0.8 + 0.8) / 3)
    assert crossing == pytest.approx((0.0 + 0.3 + 0.8) / (0.1 + 0.5 + 0.95))


def _hurdle_sample(rng, n, p_zero, mean, shape):
    """SYNTHETIC counts: 0 with probability ``p_zero``, else 1 + a negative binomial of
    mean ``mean`` and shape ``shape`` (large shape: nearly Poisson, narrow)."""
    pos = 1 + rng.negative_binomial(shape, shape / (shape + mean), n)
    return np.where(rng.random(n) < p_zero, 0, pos)


def _forecast_frame(sample, n_days):
    """One forecast (named quantiles, P(any), P(> N), grid) repeated for ``n_days``."""
    levels = {"q025": 0.025, "q05": 0.05, "q10": 0.1, "q25": 0.25, "q50": 0.5}
    levels.update({"q75": 0.75, "q80": 0.8, "q90": 0.9, "q95": 0.95, "q975": 0.975})
    row = {k: np.quantile(sample, v, method="inverted_cdf") for k, v in levels.items()}
    row.update(expected_people=sample.mean(), p_any=(sample > 0).mean())
    row.update(p_gt_300=(sample > 300).mean(), p_gt_500=(sample > 500).mean())
    grid = np.quantile(sample, GRID_LEVELS, method="inverted_cdf")
    return pd.DataFrame([row] * n_days), np.repeat(grid[None, :], n_days, axis=0)


@pytest.mark.parametrize(
    "p_zero, shape, expected",
    [(0.5, 2.0, (0.79, 0.81)), (0.9, 2.0, (0.79, 0.81)), (0.5, 200.0, (0.0, 0.75))],
)
def test_coverage_80_pit_is_080_when_calibrated_and_less_when_too_narrow(p_zero, shape, expected):
    # SYNTHETIC: the truth is a hurdle count with P(0) = p_zero and a wide positive part;
    # the forecast is the same hurdle with a positive part of shape ``shape``: 2 is the
    # truth's own (calibrated), 200 a nearly Poisson one (far too narrow)
    rng = np.random.default_rng(4)
    y = _hurdle_sample(rng, 20000, p_zero, 100.0, 2.0)
    fc, grid = _forecast_frame(_hurdle_sample(rng, 400000, p_zero, 100.0, shape), len(y))
    fc["pit_lower"], fc["pit_upper"] = M.pit_bounds(y, grid)
    s = M.score_forecasts(y, fc)
    hist = np.array([s[f"pit_hist_{i}"] for i in range(10)])
    assert s["coverage_80_pit"] == pytest.approx(hist[1:9].sum(), abs=1e-12)
    assert expected[0] <= s["coverage_80_pit"] <= expected[1]
    if p_zero == 0.9:
        # calibrated, P(0) = 0.9 > 0.8: the 80 % interval is [0, 0] and holds 0.9 of the
        # days; the PIT's central 80 % still holds 0.80
        assert s["coverage_80"] == pytest.approx(0.9, abs=0.01)
        assert s["coverage_80_if_calibrated"] == pytest.approx(0.9, abs=0.01)


def test_pit_coverage_sums_the_central_bins():
    hist = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.1])
    assert M.pit_coverage(hist) == pytest.approx(0.7)
    assert M.pit_coverage(hist, 0.6) == pytest.approx(0.55)  # bins 2..7
    assert np.isnan(M.pit_coverage(np.full(10, np.nan)))
    with pytest.raises(ConfigError, match="pit_coverage: 10 bins have no edges .* 75%"):
        M.pit_coverage(hist, 0.75)
