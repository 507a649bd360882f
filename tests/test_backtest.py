"""Backtest: no leakage (and a leaked feature is caught), refit bookkeeping, outputs, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecast.cli import main
from forecast.errors import ConfigError
from forecast.evaluation import backtest as B
from forecast.features import build as F
from forecast.stores.arrivals import load_arrivals


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
    # tails and PIT, for all rows and per season
    for group in ("all", "season:MAM@h1"):
        sc = doc["scores"]["model"][group]
        assert 0 <= sc["coverage_80_crossing_days"] <= 1
        assert 0 <= sc["share_above_q90"] <= 1 and 0 <= sc["share_below_q10"] <= 1
        assert len(sc["pit_histogram"]) == 10
        assert sum(sc["pit_histogram"]) == pytest.approx(1.0)
        assert "pit_hist_0" not in sc
    hl = doc["headline"]
    zero_mae = load_arrivals()["people"].loc["2024-05-01":"2024-05-31"].mean()
    assert hl["mae_skill_vs_zero"] == pytest.approx(1 - hl["mae"] / zero_mae)
    # weather-free run: no weather rules to compare with
    assert hl["best_rule"] is None and hl["mae_skill_vs_best_rule"] is None


def test_mae_skill_against_the_best_rule_on_the_same_days():
    scores = pd.DataFrame(
        {
            "forecaster": ["model", "wave_rule", "rag_rule", "model", "wave_rule", "rag_rule"],
            "group": ["h1", "h1", "h1", "season:JJA@h1"] + ["season:JJA@h1"] * 2,
            "mae": [60.0, 80.0, 75.0, 90.0, 100.0, 120.0],
            "mae_median": [50.0, 70.0, 72.0, 80.0, 90.0, 85.0],
        }
    )
    out = B._with_rule_skill(scores.copy())
    model = out[out.forecaster == "model"].set_index("group")
    assert model.loc["h1", "mae_skill_vs_best_rule"] == pytest.approx(1 - 60 / 75)
    assert model.loc["h1", "mae_median_skill_vs_best_rule"] == pytest.approx(1 - 50 / 70)
    assert model.loc["season:JJA@h1", "mae_skill_vs_best_rule"] == pytest.approx(1 - 90 / 100)
    assert model.loc["season:JJA@h1", "mae_median_skill_vs_best_rule"] == pytest.approx(1 - 80 / 85)
    assert B.best_rule(out, "h1") == "rag_rule"
    assert B.best_rule(out, "h2") is None


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


def test_training_rows_of_a_refit_are_a_slice_of_the_full_table(arrivals):
    """The backtest builds the training table once and slices it per refit."""
    from forecast.model.pipeline import TRAIN_START, training_rows

    full, y_full, b_full = training_rows(arrivals, TRAIN_START, "2024-06-30", "none")
    for start, end in ((TRAIN_START, "2023-03-05"), ("2022-01-10", "2024-01-01")):
        X, y, b = training_rows(arrivals, start, end, "none")
        part = full.loc[pd.Timestamp(start) : pd.Timestamp(end)]
        pd.testing.assert_frame_equal(X, part, check_freq=False)
        np.testing.assert_array_equal(y, y_full[full.index.isin(X.index)])
        np.testing.assert_array_equal(b, b_full[full.index.isin(X.index)])
    # the horizon cycle is tied to the date: 2018-03-01 is seen at D+1, the next day at D+2
    assert full["horizon"].iloc[:8].tolist() == [1, 2, 3, 4, 5, 6, 7, 1]


def test_worker_processes_give_the_same_results(arrivals):
    spec = dict(
        start="2024-03-01",
        end="2024-04-10",
        horizons=(1, 2),
        refit_every=7,
        recalibrate_every=2,
        model_params={"max_iter": 10},
        baselines=False,
        leakage_checks=1,
    )
    one = B.run_backtest(arrivals, "none", spec=B.BacktestSpec(**spec), tide_sky=False)
    two = B.run_backtest(arrivals, "none", spec=B.BacktestSpec(**spec, n_jobs=2), tide_sky=False)
    assert one.meta["n_refits"] == two.meta["n_refits"] == 6
    pd.testing.assert_frame_equal(one.predictions, two.predictions)
    with pytest.raises(ConfigError, match="--jobs 0 .n_jobs.: use 1 or more"):
        B.BacktestSpec(n_jobs=0).validate()
    with pytest.raises(ConfigError, match="--recalibrate-every 0"):
        B.BacktestSpec(recalibrate_every=0).validate()


def test_refit_chunks_start_at_a_recalibration():
    tasks = [
        B.Refit(i, pd.Timestamp("2024-01-01"), 0, 0, np.arange(0), i % 3 == 0) for i in range(10)
    ]
    seen = []

    def fake_chunk(common, chunk, progress=None, n_total=0):
        seen.append([t.i for t in chunk])
        return []

    import forecast.evaluation.backtest as mod

    orig = mod.refit_chunk
    mod.refit_chunk = fake_chunk
    try:
        B._run_refits({}, tasks, 1, None, 10)
    finally:
        mod.refit_chunk = orig
    assert seen == [list(range(10))]
    starts = [k for k, t in enumerate(tasks) if t.recalibrate]
    assert starts == [0, 3, 6, 9]
    assert B._chunk_bounds(tasks, 2) == [0, 6, 10]  # equal work: 10 refits of 365 rows
    assert B._chunk_bounds(tasks, 3) == [0, 3, 6, 10]
    # an expanding window: late refits train on more rows, so the first chunk is longer
    every = [B.Refit(t.i, t.origin, 0, 365, t.sel, True) for t in tasks]
    assert B._chunk_bounds(every, 2) == [0, 5, 10]
    grown = [B.Refit(t.i, t.origin, 0, 3000 * t.i, t.sel, True) for t in tasks]
    assert B._chunk_bounds(grown, 2) == [0, 7, 10]
