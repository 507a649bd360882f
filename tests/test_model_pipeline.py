"""forecast.model.pipeline.forecast_days: contract columns, provenance, errors, hourly path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError
from forecast.model.pipeline import forecast_days, rag_class
from forecast.sources.knmi import load_knmi
from forecast.stores.arrivals import load_arrivals
from tests.test_features import synthetic_hourly

CONTRACT = [
    "p_any",
    "rag",
    "expected_people",
    "q10",
    "q50",
    "q90",
    "q80",
    "p_gt_300",
    "p_gt_500",
    "expected_boats",
]


@pytest.fixture(scope="module")
def arrivals():
    return load_arrivals()


@pytest.fixture(autouse=True)
def _no_saved_models(data_home):
    """Keep saved models of the user's data folder out of these tests."""
    return data_home


def test_rag_convention():
    assert rag_class([0.56, 0.55, 0.35, 0.34]).tolist() == ["red", "amber", "amber", "green"]


def test_weather_free_outlook_from_snapshot(arrivals):
    origin = arrivals.index[-1]
    days = pd.date_range(origin + pd.Timedelta(days=1), periods=7)
    out = forecast_days(days, origin, "none", arrivals=arrivals)
    assert list(out.index) == list(days) and out.index.name == "date"
    assert all(c in out.columns for c in CONTRACT)
    assert out["horizon"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert (out["q10"] <= out["q50"]).all() and (out["q50"] <= out["q90"]).all()
    assert (out["p_gt_500"] <= out["p_gt_300"]).all()
    assert out["rag"].tolist() == rag_class(out["p_any"]).tolist()
    prov = out.attrs["provenance"]
    assert prov["arrivals_end"] == origin.date().isoformat()
    assert prov["weather_source"] == "none"
    assert prov["model_trained"].startswith("2018-03-01..") and prov["model_trained"].endswith(
        "days, none)"
    )
    assert "wind_speed_10m_mean" not in out.columns


def test_knmi_forecast_carries_weather_drivers(arrivals):
    knmi = load_knmi()
    days = pd.date_range("2025-06-24", "2025-06-26")
    out = forecast_days(days, "2025-06-23", "knmi", weather=knmi, arrivals=arrivals)
    np.testing.assert_allclose(
        out["wind_speed_10m_mean"], knmi["wind_speed_10m_mean"].reindex(days)
    )
    assert out["calm_rule"].dtype == bool
    assert out.attrs["provenance"]["weather_run"].startswith(
        "KNMI stations 310 Vlissingen (observed, coastal, 162 km from Dover; primary) and "
        "340 Woensdrecht (observed, inland"
    )
    assert ((out["p_any"] >= 0) & (out["p_any"] <= 1)).all()


def test_errors(arrivals):
    with pytest.raises(ConfigError, match="not after the origin"):
        forecast_days(["2024-01-01"], "2024-01-01", "none", arrivals=arrivals)
    with pytest.raises(ConfigError, match="after the last arrivals day"):
        forecast_days(["2030-01-02"], "2030-01-01", "none", arrivals=arrivals)
    with pytest.raises(ConfigError, match="does not cover 2026-01-02"):
        forecast_days(["2026-01-02"], "2026-01-01", "knmi", weather=load_knmi(), arrivals=arrivals)
    with pytest.raises(ConfigError, match="not known"):
        forecast_days(["2024-01-02"], "2024-01-01", "gfs", arrivals=arrivals)


def test_hourly_path_with_synthetic_weather(arrivals):
    """SYNTHETIC hourly weather (code-generated, labelled) joined with real arrivals."""
    t = pd.date_range("2023-01-01", "2023-12-31", freq="h")
    rng = np.random.default_rng(0)
    wind = np.exp(np.log(10) + np.cumsum(rng.normal(0, 0.05, len(t))) * 0.3)
    ds = synthetic_hourly("2023-01-01", "2023-12-31", wind=wind)
    days = pd.date_range("2023-12-21", "2023-12-23")
    out = forecast_days(days, "2023-12-20", "openmeteo", weather=ds, arrivals=arrivals)
    assert out.attrs["provenance"]["weather_source"] == "openmeteo"
    assert out["wave_height_max"].tolist() == pytest.approx([0.4, 0.4, 0.4])
    assert all(c in out.columns for c in CONTRACT)
    with pytest.raises(ConfigError, match="expects an hourly xarray.Dataset"):
        forecast_days(days, "2023-12-20", "openmeteo", weather=load_knmi(), arrivals=arrivals)


def test_saved_model_is_reused_only_when_fresh_and_earlier(arrivals):
    from forecast.model.pipeline import fit_default_model, saved_model, saved_model_path

    model = fit_default_model("none", "2024-05-31", arrivals, None, None, params={"max_iter": 20})
    path = model.save(saved_model_path("none"))
    assert path.exists()
    assert saved_model("none", "2024-06-10").train_end_ == "2024-05-31"
    assert saved_model("none", "2024-05-30") is None  # trained after the origin: leakage
    assert saved_model("none", "2024-08-01") is None  # too old
    assert saved_model("knmi", "2024-06-10") is None
    out = forecast_days(["2024-06-11", "2024-06-12"], "2024-06-10", "none", arrivals=arrivals)
    assert out.attrs["provenance"]["model_trained"].startswith("2018-03-01..2024-05-31")
