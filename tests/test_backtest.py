"""Backtest: no leakage (and a leaked feature is caught), refit bookkeeping, outputs, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecast import backtest as B
from forecast import features as F
from forecast.cli import main
from forecast.errors import ConfigError
from forecast.sources.arrivals import load_arrivals


@pytest.fixture(scope="module")
def arrivals():
    return load_arrivals()


def leaky_features(arrivals, dates, origins):
    """A feature builder with a planted leak: people on the target day itself."""
    X = F.arrivals_features(arrivals, dates, origins)
    X["people_today"] = arrivals["people"].reindex(dates).to_numpy(dtype=float)
    return X


def test_leaked_feature_is_caught(arrivals):
    with pytest.raises(B.LeakageError, match=r"features \['people_today'\] at origin 2023-06-01"):
        B.assert_no_leakage(leaky_features, arrivals, "2023-06-01", [1, 2])


def test_backtest_refuses_a_leaky_feature_builder(arrivals):
    spec = B.BacktestSpec(
        start="2023-06-01", end="2023-06-20", horizons=(1,), train_end="2023-05-31"
    )
    with pytest.raises(B.LeakageError, match="people_today"):
        B.run_backtest(arrivals, "none", spec=spec, tide_sky=False, feature_fn=leaky_features)


def test_real_feature_builder_passes_leakage_check(arrivals):
    def feats(arr, dates, origins):
        return B.eval_features(arr, dates, origins, "none", None, None)

    B.assert_no_leakage(feats, arrivals, "2024-05-01", range(1, 8))


@pytest.fixture(scope="module")
def small_run(arrivals):
    spec = B.BacktestSpec(
        start="2023-06-01",
        end="2023-07-31",
        horizons=(1, 3),
        refit_every=28,
        window="sliding",
        window_days=2 * 365,
        model_params={"max_iter": 30},
    )
    return B.run_backtest(arrivals, "none", spec=spec, tide_sky=False)


def test_rolling_refits_never_see_the_future(small_run):
    p = small_run.predictions
    assert (p["refit"] <= p["origin"]).all()
    assert (pd.to_datetime(p["date"]) - p["origin"]).dt.days.isin([1, 3]).all()
    # refits every 28 days from start - max(horizon)
    first = pd.Timestamp("2023-05-29")
    assert ((p["refit"] - first).dt.days % 28 == 0).all()
    model = p[p.forecaster == "model"]
    assert len(model) == 2 * 61
    expected_people = load_arrivals()["people"].reindex(pd.to_datetime(model["date"])).to_numpy()
    np.testing.assert_array_equal(model["people"].to_numpy(), expected_people)


def test_scores_cover_forecasters_and_groups(small_run):
    s = small_run.scores
    assert set(s.forecaster) == {
        "model",
        "climatology_month",
        "climatology_doy",
        "same_day_last_week",
        "yesterday",
    }
    groups = set(s[s.forecaster == "model"].group)
    assert {"all", "h1", "h3", "season:JJA@h1", "year:2023@h1"} <= groups
    row = s[(s.forecaster == "same_day_last_week") & (s.group == "h1")].iloc[0]
    p = small_run.predictions
    lw = p[(p.forecaster == "same_day_last_week") & (p.horizon == 1)]
    arr = load_arrivals()["people"]
    back = arr.reindex(pd.to_datetime(lw["date"]) - pd.Timedelta(days=7)).to_numpy()
    assert row["mae"] == pytest.approx(np.mean(np.abs(lw["people"].to_numpy() - back)))
    assert 0 <= row["coverage_80"] <= 1
    assert small_run.meta["weather_label"] == "none (weather-free)"


def test_write_outputs(small_run, tmp_path):
    doc = B.write_outputs([small_run], tmp_path, figures=True)
    for name in (
        "scores.csv",
        "skill.csv",
        "results.json",
        "reliability_none.png",
        "skill_by_lead_none.png",
    ):
        assert (tmp_path / name).exists(), name
    assert doc["headline"]["none"]["horizon"] == 1
    saved = json.loads((tmp_path / "results.json").read_text())
    assert "model" in saved["runs"][0]["scores"]


def test_spec_validation():
    with pytest.raises(ConfigError, match="--train-end '2024-13-45' is not a date"):
        B.BacktestSpec(train_end="2024-13-45").validate()
    with pytest.raises(ConfigError, match="must be before --start"):
        B.BacktestSpec(start="2024-01-01", train_end="2024-01-01").validate()
    with pytest.raises(ConfigError, match="sliding"):
        B.BacktestSpec(window="rolling").validate()
    with pytest.raises(ConfigError, match="before --start"):
        B.BacktestSpec(start="2024-02-01", end="2024-01-01").validate()


def test_cli_json_explicit_split(capsys):
    rc = main(
        [
            "backtest",
            "--weather-source",
            "none",
            "--train-end",
            "2024-04-30",
            "--start",
            "2024-05-01",
            "--end",
            "2024-05-31",
            "--horizon",
            "1",
            "--format",
            "json",
        ]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["weather_label"] == "none (weather-free)"
    assert doc["evaluated"] == ["2024-05-01", "2024-05-31"]
    assert doc["scores"]["model"]["h1"]["n"] == 31
    assert set(doc["scores"]) >= {"model", "climatology_month", "same_day_last_week"}
    assert "bss_any_vs_climatology_month" in doc["headline"]


def test_cli_error_on_bad_horizon(capsys):
    with pytest.raises(SystemExit):
        main(["backtest", "--horizon", "0"])
    assert "horizons must be >= 1" in capsys.readouterr().err


def test_long_horizon_split_only_evaluates_origins_after_training(arrivals):
    spec = B.BacktestSpec(
        start="2024-05-01",
        end="2024-05-20",
        horizons=(1, 9),
        train_end="2024-04-30",
        model_params={"max_iter": 20},
        baselines=False,
    )
    res = B.run_backtest(arrivals, "none", spec=spec, tide_sky=False)
    p = res.predictions
    assert (p["origin"] >= pd.Timestamp("2024-04-30")).all()
    assert p.groupby("horizon").size().to_dict() == {1: 20, 9: 12}
