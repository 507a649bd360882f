"""Backtests under simulated forecast error: rows see the weather of their origin."""

from __future__ import annotations

import inspect
import json
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from forecast.cli import main
from forecast.errors import ConfigError
from forecast.evaluation import backtest as B
from forecast.evaluation.forecast_weather import (
    LOOKBACK_DAYS,
    ForecastWeather,
    QuantileMixture,
    WeatherError,
    dressed_member_rows,
    dressing_seed,
)
from forecast.evaluation.refits import MemberRows, mixture_forecast
from forecast.evaluation.summary import headline_by_lead, json_document, lead_targets
from forecast.features import build as F
from forecast.features import forecast_error as fe
from forecast.model.crossing import GRID_LEVELS, grid_columns
from forecast.sources.knmi import load_knmi
from forecast.stores.arrivals import load_arrivals


@pytest.fixture(scope="module")
def weather():
    return load_knmi()


@pytest.fixture(scope="module")
def fw(weather):
    return ForecastWeather.simulated(weather, 3, 7)


def per_origin_table(weather, fw, origin, day):
    """The weather table of ``day`` built the slow way: the record as seen at ``origin``
    (observed up to it, the forecast run after it, nothing later)."""
    obs = weather.loc[:origin]
    ahead = pd.date_range(origin + pd.Timedelta(days=1), day, name="date")
    run = [fw._values[m, fw.index.get_loc(t)] for m, t in enumerate(ahead, start=1)]
    frame = pd.DataFrame(
        np.vstack([obs.to_numpy(dtype=float), *run]),
        index=obs.index.append(ahead),
        columns=weather.columns,
    )
    frame.attrs = dict(weather.attrs)
    return F.weather_table("knmi", frame).loc[day]


def test_rows_equal_the_table_built_at_each_origin(weather, fw):
    rng = np.random.default_rng(3)
    days = pd.DatetimeIndex(rng.choice(pd.date_range("2019-01-01", "2025-06-01"), 12))
    leads = rng.integers(1, 4, len(days))
    origins = days - pd.to_timedelta(leads, unit="D")
    got = fw.rows(days, origins)
    assert list(got.index) == list(days)
    for i, (d, o) in enumerate(zip(days, origins, strict=True)):
        expected = per_origin_table(weather, fw, o, d)
        np.testing.assert_allclose(got.iloc[i].to_numpy(float), expected.to_numpy(float))


def test_days_up_to_the_origin_are_observed_and_later_days_forecast(weather, fw):
    obs = F.weather_table("knmi", weather)
    day = pd.Timestamp("2024-07-10")
    at1 = fw.rows([day], [day - pd.Timedelta(days=1)]).iloc[0]
    at3 = fw.rows([day], [day - pd.Timedelta(days=3)]).iloc[0]
    # the previous day is the origin at lead 1: observed; at lead 3 it is a forecast
    assert at1["wind_speed_10m_mean_prev"] == obs.loc[day, "wind_speed_10m_mean_prev"]
    assert at3["wind_speed_10m_mean_prev"] != obs.loc[day, "wind_speed_10m_mean_prev"]
    # the target day itself is a forecast at both leads, of lead 1 and lead 3
    f1, f3 = (fw._values[m, fw.index.get_loc(day), 0] for m in (1, 3))
    assert at1["wind_speed_10m_mean"] == f1 != obs.loc[day, "wind_speed_10m_mean"]
    assert at3["wind_speed_10m_mean"] == f3 != f1
    assert LOOKBACK_DAYS > 60  # days since calm looks back up to 60 days


def test_rows_refuse_leads_outside_the_simulated_range(fw):
    with pytest.raises(
        ConfigError, match="lead times 4..4 days; the simulated forecasts cover leads 1..3"
    ):
        fw.rows(["2024-07-10"], ["2024-07-06"])


def _fc(values, p_any):
    q = np.sort(np.asarray(values, dtype=float), axis=1)
    fc = pd.DataFrame(q, columns=grid_columns())
    fc.insert(0, "p_any", p_any)
    fc.insert(1, "expected_people", q.mean(axis=1))
    fc.insert(2, "p_gt_300", (q > 300).mean(axis=1))
    return fc


def test_mixture_of_one_forecast_is_that_forecast_and_of_two_is_their_pool():
    rng = np.random.default_rng(0)
    a = _fc(rng.gamma(2.0, 150.0, (3, 100)), [0.9, 0.8, 0.7])
    one = QuantileMixture(3)
    one.add(a)
    got = one.result()
    np.testing.assert_allclose(
        got[grid_columns()].to_numpy(), a[grid_columns()].to_numpy(), rtol=0.011
    )
    # two point masses at 0 and 600: half the mixture at each
    z = _fc(np.zeros((1, 100)), [0.0])
    h = _fc(np.full((1, 100), 600.0), [1.0])
    mix = QuantileMixture(1)
    mix.add(z)
    mix.add(h)
    res = mix.result()
    q = res[grid_columns()].to_numpy()[0]
    assert (q[GRID_LEVELS < 0.5] == 0).all()
    assert q[GRID_LEVELS > 0.5] == pytest.approx(600.0, rel=0.011)
    assert res["p_any"].iloc[0] == 0.5 and res["p_gt_300"].iloc[0] == 0.5
    assert res["q50"].iloc[0] <= res["q90"].iloc[0] == pytest.approx(600.0, rel=0.011)


def test_weather_error_validation():
    with pytest.raises(ConfigError, match="use --weather-source knmi"):
        WeatherError("published").validate("none", 7)
    with pytest.raises(ConfigError, match="lead times up to 16 days"):
        WeatherError("published").validate("knmi", 17)
    with pytest.raises(ConfigError, match="need --weather-error published"):
        WeatherError("none", draws=3).validate("knmi", 7)
    with pytest.raises(ConfigError, match="--ensemble-members 1"):
        WeatherError("published", members=1).validate("knmi", 7)
    assert "simulated forecast error" in WeatherError("published").describe()


def test_dressed_members_validation_and_label():
    with pytest.raises(ConfigError, match="--dressed-members 1: give 0 .* or 2 or more"):
        WeatherError("published", train="observed", dressed=1).validate("knmi", 7)
    with pytest.raises(ConfigError, match="--ensemble-members and --dressed-members need"):
        WeatherError("none", train="observed", dressed=3).validate("knmi", 7)
    with pytest.raises(ConfigError, match="--dressed-members 3 and --ensemble-members 4 both"):
        WeatherError("published", train="observed", dressed=3, members=4).validate("knmi", 7)
    with pytest.raises(ConfigError, match="--train-weather forecast: .* counted twice"):
        WeatherError("published", train="forecast", dressed=3).validate("knmi", 7)
    # the default training weather is observed with dressing, simulated forecasts without
    assert B.BacktestSpec(weather_error="published", dressed_members=3).error().train == "observed"
    assert B.BacktestSpec(weather_error="published").error().train == "forecast"
    werr = B.BacktestSpec(weather_error="published", error_seed=5, dressed_members=3).error()
    werr.validate("knmi", 7)
    assert "simulated forecast error" in werr.describe() and "dressed" in werr.describe()
    assert werr.to_dict()["dressed_members"] == 3
    assert werr.to_dict()["dressing_seed"] == dressing_seed(5) != 5
    assert dressing_seed(5) == dressing_seed(5) != dressing_seed(6)


def test_dressed_member_rows_dress_the_runs_forecast_member_by_member(weather, fw):
    origin = pd.Timestamp("2024-07-01")
    days = origin + pd.to_timedelta([1, 2, 3], unit="D")  # leads 1, 2, 3 from one origin
    gen = dressed_member_rows(fw, days, origin, 6, 7, weather)
    assert inspect.isgenerator(gen)  # members are produced one at a time
    members = list(gen)
    single = fw.rows(days, [origin] * 3)
    assert len(members) == 6
    for m in members:
        assert m.shape == single.shape and (m.dtypes == np.float32).all()
        assert list(m.index) == list(days)
    # member i of the day at lead k is member i of the run's lead-k forecast dressed by
    # dress_forecast with the dressing seed (the same at every lead: one path per member)
    window = slice(origin - pd.Timedelta(days=LOOKBACK_DAYS + 5), days[-1])
    col = "wind_speed_10m_mean"
    for k, day in enumerate(days, start=1):
        forecast = pd.DataFrame(fw._values[k], index=fw.index, columns=fw.columns).loc[window]
        dressed = fe.dress_forecast(forecast, k, 6, dressing_seed(7), climate=weather)
        expected = dressed[col].unstack("member").loc[day].to_numpy()
        got = [m.loc[day, col] for m in members]
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        assert not np.allclose(got, single.loc[day, col])  # members differ from the forecast
    assert np.std([m.loc[days[0], col] for m in members]) > 0.1
    # at lead 1 the previous day is the origin: observed, so not dressed
    prev = [m.loc[days[0], f"{col}_prev"] for m in members]
    np.testing.assert_allclose(prev, single.loc[days[0], f"{col}_prev"], rtol=1e-6)
    # reproducible, and another run seed dresses differently
    pd.testing.assert_frame_equal(
        next(dressed_member_rows(fw, days, origin, 6, 7, weather)), members[0]
    )
    other = next(dressed_member_rows(fw, days, origin, 6, 8, weather))
    assert not np.allclose(other[col], members[0][col])


class _Scaled:
    """An estimator whose forecast of a row is 100 values around its weather column."""

    def predict_distribution(self, X, thresholds, grid):
        w = X["wind_speed_10m_mean"].to_numpy(dtype=float)[:, None]
        q = np.sort(w * 10 + np.linspace(0, 50, 100)[None, :], axis=1)
        fc = pd.DataFrame(q, columns=grid_columns(), index=X.index)
        fc.insert(0, "p_any", np.clip(w[:, 0] / 30, 0, 1))
        return fc


def test_mixture_memory_does_not_grow_with_members():
    rows, cols = 1500, ["wind_speed_10m_mean"]
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"wind_speed_10m_mean": rng.gamma(3, 4, rows), "horizon": 1})

    def peak(n):
        members = MemberRows(rng.gamma(3, 4, (n, rows, 1)).astype(np.float32), cols)
        tracemalloc.start()
        fc = mixture_forecast(_Scaled(), X, members, (300,))
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(fc) == rows and np.isfinite(fc[grid_columns()].to_numpy()).all()
        return size

    # one member's forecast is 1.2 MB here: 40 members held at once would add 48 MB to
    # the about 42 MB peak of the mixture's quantiles
    assert peak(40) < 1.3 * peak(3)


SMALL = dict(
    start="2024-05-01",
    end="2024-06-15",
    train_end="2024-04-30",
    window="sliding",
    window_days=400,
    horizons=(1, 4),
    model_params={"max_iter": 15},
    leakage_checks=1,
)


@pytest.fixture(scope="module")
def runs(weather):
    arr = load_arrivals()
    out = {}
    for name, extra in {
        "perfect": {},
        "noisy_test": {"weather_error": "published", "train_weather": "observed"},
        "noisy": {"weather_error": "published"},
        "draws": {"weather_error": "published", "error_draws": 2, "baselines": False},
        "ensemble": {"weather_error": "published", "ensemble_members": 3},
    }.items():
        spec = B.BacktestSpec(**SMALL, **extra)
        out[name] = B.run_backtest(arr, "knmi", weather, spec, tide_sky=False)
    return out


def _model(res, h):
    p = res.predictions
    return p[(p.forecaster == "model") & (p.horizon == h)].reset_index(drop=True)


@pytest.mark.slow  # five small backtests: about a minute on 2 busy cores
def test_simulated_error_runs_are_labelled_and_differ_from_perfect_prognosis(runs):
    perfect, noisy_test, noisy = runs["perfect"], runs["noisy_test"], runs["noisy"]
    assert "simulated forecast error" not in perfect.meta["weather_label"]
    assert perfect.meta["weather_error"] is None
    for r in (noisy_test, noisy, runs["draws"], runs["ensemble"]):
        assert "simulated forecast error" in r.meta["weather_label"]
        assert r.meta["weather_error"]["label"] == "simulated forecast error"
    assert "training on observed weather" in noisy_test.meta["weather_label"]
    # same days scored; the weather changed the model's forecasts
    for h in (1, 4):
        a, b, c = _model(perfect, h), _model(noisy_test, h), _model(noisy, h)
        assert list(a["date"]) == list(b["date"]) == list(c["date"])
        assert not np.allclose(a["p_any"], b["p_any"])
        # noisy training changes the model fed the same noisy weather
        assert not np.allclose(b["p_any"], c["p_any"])
    # the weather-free model does not see the weather
    wf = [r.predictions.query("forecaster == 'weather_free_model'") for r in (perfect, noisy)]
    np.testing.assert_allclose(wf[0]["p_any"], wf[1]["p_any"])


@pytest.mark.slow  # five small backtests: about a minute on 2 busy cores
def test_more_draws_stack_more_training_rows_and_change_the_model(runs):
    assert not np.allclose(_model(runs["draws"], 4)["p_any"], _model(runs["noisy"], 4)["p_any"])
    assert set(runs["draws"].predictions["forecaster"]) == {"model"}


@pytest.mark.slow  # five small backtests: about a minute on 2 busy cores
def test_ensemble_run_scores_the_mixture(runs):
    ens, noisy = runs["ensemble"], runs["noisy"]
    a, b = _model(ens, 4), _model(noisy, 4)
    assert list(a["date"]) == list(b["date"])
    assert not np.allclose(a["p_any"], b["p_any"])
    assert ((a["p_any"] >= 0) & (a["p_any"] <= 1)).all()
    assert (a["q10"] <= a["q50"]).all() and (a["q50"] <= a["q90"]).all()
    # forecasters that ignore the weather keep their single forecast
    for name in ("weather_free_model", "climatology_month"):
        pe = ens.predictions.loc[ens.predictions.forecaster == name, "crps"].to_numpy()
        pn = noisy.predictions.loc[noisy.predictions.forecaster == name, "crps"].to_numpy()
        np.testing.assert_allclose(pe, pn)


@pytest.mark.slow  # five small backtests: about a minute on 2 busy cores
def test_headline_by_lead_and_targets(runs):
    by = headline_by_lead(runs["noisy"])
    assert list(by) == ["1", "4"]
    for k in ("auc_any", "bss_any_vs_climatology_month", "crps", "coverage_80"):
        assert isinstance(by["4"][k], float)
    assert by["4"]["crps"] == pytest.approx(
        runs["noisy"].scores.set_index(["forecaster", "group"]).loc[("model", "h4"), "crps"]
    )
    t = lead_targets(
        {
            "1": {
                "coverage_80": 0.80,
                "reliability_slope_any": 1.0,
                "crps": 50.0,
                "crps_weather_free": 60.0,
                "bss_any_vs_climatology_month": 0.4,
            },
            "2": {
                "coverage_80": 0.70,
                "reliability_slope_any": 1.3,
                "crps": 65.0,
                "crps_weather_free": 60.0,
                "bss_any_vs_climatology_month": 0.45,
            },
            "10": {
                "coverage_80": 0.5,
                "reliability_slope_any": 0.1,
                "crps": 70.0,
                "crps_weather_free": 60.0,
                "bss_any_vs_climatology_month": 0.0,
            },
        }
    )
    assert t["coverage_80"]["met"] == [1] and t["coverage_80"]["not_met"] == [2]
    assert t["reliability_slope_any"]["not_met"] == [2]
    assert t["beats_weather_free"]["leads"] == [1, 2] and t["beats_weather_free"]["not_met"] == [2]
    assert t["skill_falls_with_lead"] == {
        "target": t["skill_falls_with_lead"]["target"],
        "rises_at": [2],
        "met": False,
    }


@pytest.mark.slow
def test_cli_weather_error_json_and_table(capsys):
    args = [
        "backtest",
        "--weather-source",
        "knmi",
        "--weather-error",
        "published",
        "--seed",
        "3",
        "--start",
        "2024-06-01",
        "--end",
        "2024-06-20",
        "--train-end",
        "2024-05-31",
        "--horizon",
        "1-2",
        "--no-baselines",
    ]
    assert main([*args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "simulated forecast error" in doc["weather_label"]
    assert doc["weather_error"]["seed"] == 3 and doc["weather_error"]["mode"] == "published"
    assert set(doc["headline_by_lead"]) == {"1", "2"}
    # h2: 2024-06-01 is seen from 05-30, before --train-end: 19 days scored
    assert doc["scores"]["model"]["h2"]["n"] == doc["scored"]["D+2"]["days"] == 19
    assert "reliability_slope_any" in doc["scores"]["model"]["h2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Backtest 2024-06-01..2024-06-20, weather: ")
    assert "simulated forecast error" in out.splitlines()[0]
    assert "targets (simulated forecast error)" in out
    assert main(["backtest", "--weather-source", "none", "--weather-error", "published"]) == 2
    assert "use --weather-source knmi" in capsys.readouterr().err


SHORT = dict(SMALL, start="2024-06-01", end="2024-06-14", train_end="2024-05-31")


@pytest.fixture(scope="module")
def dressed_runs(weather):
    arr = load_arrivals()
    out = {}
    for name, extra in {
        "noisy_test": {"weather_error": "published", "train_weather": "observed"},
        "dressed": {"weather_error": "published", "dressed_members": 3},
    }.items():
        out[name] = B.run_backtest(
            arr, "knmi", weather, B.BacktestSpec(**SHORT, **extra), tide_sky=False
        )
    return out


def test_dressed_run_scores_the_mixture_over_the_dressed_forecast(dressed_runs):
    dressed, single = dressed_runs["dressed"], dressed_runs["noisy_test"]
    doc = json_document(dressed, [1, 4], SHORT["train_end"])
    assert "simulated forecast error" in doc["weather_label"] and "dressed" in doc["weather_label"]
    assert doc["weather_error"]["dressed_members"] == 3
    assert doc["weather_error"]["train"] == "observed" and doc["weather_error"]["members"] == 0
    assert "training on observed weather" in doc["weather_label"]
    # one mixture forecast per row, on the same rows as the undressed run
    for h in (1, 4):
        a, b = _model(dressed, h), _model(single, h)
        assert len(a) == len(b) > 0 and list(a["date"]) == list(b["date"])
        assert not np.allclose(a["p_any"], b["p_any"])  # the mixture, not the forecast
        assert ((a["p_any"] >= 0) & (a["p_any"] <= 1)).all()
        assert (a["q10"] <= a["q50"]).all() and (a["q50"] <= a["q90"]).all()
    # same model (trained on observed weather): only the test weather differs, so the
    # weather-free model and the climatology keep their single forecast
    for name in ("weather_free_model", "climatology_month"):
        pd_ = dressed.predictions
        pn = single.predictions
        np.testing.assert_allclose(
            pd_.loc[pd_.forecaster == name, "crps"], pn.loc[pn.forecaster == name, "crps"]
        )
    # the randomised-PIT coverage is reported with the interval coverage
    assert 0 <= doc["headline_by_lead"]["4"]["coverage_80_pit"] <= 1
    pit = doc["scores"]["model"]["h4"]["pit_histogram"]
    assert doc["scores"]["model"]["h4"]["coverage_80_pit"] == pytest.approx(sum(pit[1:9]))


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--dressed-members", "3"], "need --weather-error published"),
        (["--weather-error", "published", "--dressed-members", "1"], "--dressed-members 1: give 0"),
        (
            ["--weather-error", "published", "--dressed-members", "3", "--ensemble-members", "3"],
            "--dressed-members 3 and --ensemble-members 3 both replace the test weather",
        ),
        (
            [
                "--weather-error",
                "published",
                "--dressed-members",
                "3",
                "--train-weather",
                "forecast",
            ],
            "Use --train-weather observed",
        ),
    ],
)
def test_cli_dressed_members_conflicts_exit_2(capsys, extra, message):
    args = ["backtest", "--start", "2024-06-01", "--end", "2024-06-20", "--horizon", "1-2"]
    assert main([*args, *extra]) == 2
    assert message in capsys.readouterr().err
