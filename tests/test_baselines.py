"""Baselines: climatology, persistence and the published-style weather rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError
from forecast.evaluation import baselines as B


def frame(dates, **cols):
    return pd.DataFrame(cols, index=pd.DatetimeIndex(pd.to_datetime(dates), name="date"))


def test_monthly_climatology_is_empirical_distribution_of_month():
    dates = ["2023-01-01", "2023-01-02", "2023-01-03", "2023-01-04", "2023-02-01"]
    y = [0, 100, 300, 600, 50]
    clim = B.Climatology("month").fit(frame(dates), y)
    fc = clim.predict_distribution(frame(["2024-01-15", "2024-02-10"]), thresholds=(250,))
    assert fc.loc["2024-01-15", "p_any"] == pytest.approx(0.75)
    assert fc.loc["2024-01-15", "expected_people"] == pytest.approx(250.0)
    assert fc.loc["2024-01-15", "p_gt_250"] == pytest.approx(0.5)
    assert fc.loc["2024-01-15", "q50"] == pytest.approx(np.quantile([0, 100, 300, 600], 0.5))
    assert fc.loc["2024-02-10", "expected_people"] == 50.0


def test_doy_climatology_window_wraps_year_end():
    dates = ["2022-12-25", "2022-06-01"]
    clim = B.Climatology("doy", half_window=10).fit(frame(dates), [80, 0])
    fc = clim.predict_distribution(frame(["2023-01-02"]))
    assert fc["expected_people"].iloc[0] == 80.0


def test_persistence_point_forecasts():
    X = frame(
        ["2024-01-08", "2024-01-09"], people_same_weekday=[0.0, 420.0], people_last1=[35.0, 0.0]
    )
    lw = (
        B.Persistence("last_week")
        .fit(X, [0, 0])
        .predict_distribution(X, thresholds=(300,), grid=True)
    )
    assert lw["p_any"].tolist() == [0.0, 1.0]
    assert lw["q10"].tolist() == [0.0, 420.0] and lw["q90"].tolist() == [0.0, 420.0]
    assert lw["p_gt_300"].tolist() == [0.0, 1.0]
    assert lw["grid_050"].tolist() == [0.0, 420.0]
    yd = B.Persistence("yesterday").predict_distribution(X)
    assert yd["expected_people"].tolist() == [35.0, 0.0]
    with pytest.raises(ConfigError, match="last_week"):
        B.Persistence("tomorrow")


def test_wave_rule_uses_waves_else_wind_proxy():
    X = frame(
        ["2024-01-01", "2024-01-02"], wave_height_max=[0.4, 0.9], wind_speed_10m_mean=[20.0, 2.0]
    )
    assert B.wave_rule_state(X).tolist() == [1, 0]
    # daily station data: mean wind at the coastal primary station <= 10 kn stands in
    Xw = frame(["2024-01-01", "2024-01-02", "2024-01-03"], wind_speed_10m_mean=[10.0, 10.5, np.nan])
    assert B.wave_rule_state(Xw).tolist() == [1, 0, -1]


def test_rag_rule_states():
    X = frame(
        ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
        calm_hours=[12.0, 12.0, 5.0, 12.0],
        precipitation_sum=[0.0, 5.0, 0.0, 0.0],
        wind_from_ne=[0.0, 0.0, 0.0, 1.0],
        wind_speed_10m_mean=[5.0, 5.0, 9.0, 10.0],
    )
    assert B.rag_rule_state(X).tolist() == [2, 1, 1, 0]


def test_rule_baseline_uses_recent_distribution_per_state():
    dates = pd.date_range("2023-01-01", periods=400, freq="D")
    calm = np.tile([16.0, 0.0], 200)
    X = frame(dates, calm_hours=calm)
    y = np.where(calm > 0, 200.0, 0.0)
    y[:35] = 999.0  # older than the 365-day window: ignored
    rule = B.RuleBaseline("calm", B.calm_hours_state).fit(X, y)
    fc = rule.predict_distribution(frame(["2024-03-01", "2024-03-02"], calm_hours=[10.0, 1.0]))
    assert fc["expected_people"].tolist() == [200.0, 0.0]
    assert fc["p_any"].tolist() == [1.0, 0.0]


def test_default_set_names():
    names = [b.name for b in B.default_baselines(weather=True)]
    assert names == [
        "climatology_month",
        "climatology_doy",
        "same_day_last_week",
        "yesterday",
        "wave_rule",
        "calm_hours_rule",
        "rag_rule",
    ]
    assert len(B.default_baselines(weather=False)) == 4
