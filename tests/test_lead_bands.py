"""Lead-time bands: one CrossingModel per band of lead times (LeadBandModel), the bands a
set of leads needs (band_horizons), banded training rows, and their use in the backtest
and the pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from forecast.errors import ConfigError, DataFormatError
from forecast.evaluation import backtest as B
from forecast.model import pipeline as P
from forecast.model.crossing import CrossingModel, LeadBandModel
from forecast.stores.arrivals import load_arrivals


@pytest.fixture(scope="module")
def arrivals():
    return load_arrivals()


def synthetic_banded(n=300, seed=1):
    """SYNTHETIC rows seen at D+1 and D+3: the lagged count is informative at D+1 only."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2021-01-01", periods=n, freq="D", name="date")
    wind = rng.gamma(4.0, 2.0, n)
    people = np.where(rng.random(n) < 1 / (1 + np.exp(wind - 8.0)), rng.poisson(80, n), 0)
    lag = np.r_[0, people[:-1]].astype(float)
    rows = []
    for h in (1, 3):
        X = pd.DataFrame(
            {"wind_speed_10m_mean": wind, "people_last1": lag if h == 1 else np.nan, "horizon": h},
            index=idx,
        )
        rows.append(X)
    X = pd.concat(rows).sort_index(kind="stable")
    X.attrs["weather_source"] = "knmi"
    y = np.tile(people, 2).reshape(2, n).T.ravel()  # same order as the stable sort
    return X, y


@pytest.mark.parametrize(
    ("leads", "bands", "want"),
    [
        (range(1, 8), P.LEAD_BANDS, [(1,), (2, 3, 4, 5, 6, 7)]),
        ([1], P.LEAD_BANDS, [(1,)]),
        ([3], P.LEAD_BANDS, [(2, 3, 4, 5, 6, 7)]),
        (range(1, 17), P.LEAD_BANDS, [(1,), tuple(range(2, 17))]),
        (range(97, 104), P.LEAD_BANDS, [tuple(range(97, 104))]),
        (range(1, 17), None, [tuple(range(1, 17))]),
        (range(97, 104), None, [tuple(range(97, 104))]),
        ([2, 5], ((1, 2), (3, 4, 5)), [(1, 2), (3, 4, 5)]),
    ],
)
def test_band_horizons(leads, bands, want):
    assert P.band_horizons(leads, bands) == want


def test_band_horizons_rejects_no_leads():
    with pytest.raises(ConfigError, match="lead times >= 1 day"):
        P.band_horizons([0, 1])


def test_each_band_is_its_own_crossing_model():
    X, y = synthetic_banded()
    m = LeadBandModel("knmi", ((1,), (3,)), {"max_iter": 20}).fit(X, y)
    assert m.lead_bands_ == [(1,), (3,)] and len(m.models_) == 2
    assert m.n_train_ == 300 and m.train_start_ == "2021-01-01"
    # each band's model is exactly a CrossingModel fitted on that band's rows
    for h, sub in zip((1, 3), m.models_, strict=True):
        rows = (X["horizon"] == h).to_numpy()
        Xb = X[rows]
        Xb.attrs["weather_source"] = "knmi"
        alone = CrossingModel(weather_source="knmi", max_iter=20).fit(Xb, y[rows])
        np.testing.assert_allclose(alone.predict_proba(Xb), sub.predict_proba(Xb))
    # predictions come back in the rows' order, each from its band's model
    mixed = X.iloc[[5, 0, 3, 2]]
    dist = m.predict_distribution(mixed, grid=True)
    assert list(dist.index) == list(mixed.index)
    want = [
        m.models_[0 if h == 1 else 1].predict_proba(mixed.iloc[[k]])[0, 1]
        for k, h in enumerate(mixed["horizon"])
    ]
    np.testing.assert_allclose(dist["p_any"].to_numpy(), want)
    np.testing.assert_allclose(m.predict_proba(mixed)[:, 1], want)
    np.testing.assert_allclose(m.predict(mixed), dist["expected_people"].to_numpy())
    np.testing.assert_allclose(m.predict_quantiles(mixed, [0.5])[:, 0], dist["q50"].to_numpy())
    np.testing.assert_allclose(m.predict_exceedance(mixed, 300), dist["p_gt_300"].to_numpy())


def test_contract_errors_and_roundtrip(tmp_path):
    X, y = synthetic_banded()
    m = LeadBandModel("knmi", ((1,), (3,)), {"max_iter": 10})
    assert clone(m).get_params() == m.get_params()
    assert m.fit(X, y) is m
    with pytest.raises(ConfigError, match="lead time 5 day.s. is outside the bands"):
        m.predict_proba(X.assign(horizon=5))
    with pytest.raises(ConfigError, match="'horizon' column"):
        m.predict_proba(X.drop(columns="horizon"))
    d1 = (X["horizon"] == 1).to_numpy()
    with pytest.raises(
        DataFormatError, match=r"no training rows with a horizon in lead band \[2\]"
    ):
        LeadBandModel("knmi", ((1,), (2,)), {"max_iter": 10}).fit(X[d1], y[d1])
    with pytest.raises(ConfigError, match="lead time 3 day.s. is outside the bands"):
        LeadBandModel("knmi", ((1,), (2,)), {"max_iter": 10}).fit(X, y)
    with pytest.raises(ConfigError, match="in two bands"):
        LeadBandModel("knmi", ((1, 3), (3,))).fit(X, y)
    with pytest.raises(ConfigError, match="non-empty bands"):
        LeadBandModel("knmi", ((),)).fit(X, y)
    path = m.save(tmp_path / "banded.skops")
    loaded = LeadBandModel.load(path)
    pd.testing.assert_frame_equal(loaded.predict_distribution(X), m.predict_distribution(X))
    assert loaded.info()["lead_bands"] == [[1], [3]]
    # a single CrossingModel file is not a LeadBandModel (old saved files are refitted)
    single = CrossingModel(weather_source="knmi", max_iter=10).fit(X[X["horizon"] == 1], y[::2])
    with pytest.raises(DataFormatError, match="holds a CrossingModel, not a LeadBandModel"):
        LeadBandModel.load(single.save(tmp_path / "single.skops"))


def test_banded_training_rows_see_each_day_once_per_band(arrivals):
    bands = [(1,), (2, 3, 4, 5, 6, 7)]
    X, y, b = P.banded_training_rows(arrivals, "2023-01-01", "2023-03-31", "none", bands=bands)
    assert X.index.is_monotonic_increasing
    assert len(X) == 2 * 90
    # 2023-02-01 is day 1798 after 2018-03-01: 1798 % 6 = 4 -> horizon 6 in the 2-7 band
    assert X.loc["2023-02-01", "horizon"].tolist() == [1, 6]
    for band in bands:  # each band's rows are exactly that band's training_rows
        part = X["horizon"].isin(band).to_numpy()
        Xb, yb, bb = P.training_rows(arrivals, "2023-01-01", "2023-03-31", "none", horizons=band)
        pd.testing.assert_frame_equal(X[part], Xb, check_freq=False)
        np.testing.assert_array_equal(y[part], yb)
        np.testing.assert_array_equal(b[part], bb)


def test_backtest_bands_route_each_horizon_to_its_model(arrivals):
    common = dict(
        start="2024-05-01",
        end="2024-05-14",
        horizons=(1, 2),
        train_end="2024-04-30",
        model_params={"max_iter": 10},
        baselines=False,
        leakage_checks=0,
    )
    banded = B.run_backtest(arrivals, "none", spec=B.BacktestSpec(**common), tide_sky=False)
    assert banded.meta["lead_bands"] == [[1], [2, 3, 4, 5, 6, 7]]
    # D+1 rows equal a backtest that only has the D+1 band; pooled differs from both
    d1 = B.run_backtest(
        arrivals, "none", spec=B.BacktestSpec(**{**common, "horizons": (1,)}), tide_sky=False
    )
    assert d1.meta["lead_bands"] == [[1]]
    a = banded.predictions.query("horizon == 1").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, d1.predictions.reset_index(drop=True))
    pooled = B.run_backtest(
        arrivals, "none", spec=B.BacktestSpec(**common, lead_bands=None), tide_sky=False
    )
    assert pooled.meta["lead_bands"] == [[1, 2, 3, 4, 5, 6, 7]]
    assert not np.allclose(pooled.predictions.query("horizon == 1")["p_any"], a["p_any"].to_numpy())
    with pytest.raises(ConfigError, match="a lead time is in two bands"):
        B.BacktestSpec(lead_bands=((1,), (1, 2))).validate()


def test_pipeline_serves_day_one_from_the_d1_model(arrivals, data_home):
    model = P.fit_default_model("none", "2024-05-31", arrivals, None, None, params={"max_iter": 10})
    assert isinstance(model, LeadBandModel)
    assert model.lead_bands_ == [(1,), (2, 3, 4, 5, 6, 7)]
    days = pd.date_range("2024-06-01", periods=3)
    out = P.forecast_days(days, "2024-05-31", "none", arrivals=arrivals, model=model)
    assert out.attrs["provenance"]["lead_bands"] == [[1], [2, 3, 4, 5, 6, 7]]
    X = P.select_columns(
        P.F.build_features(days, "2024-05-31", arrivals, "none", include_tide_sky=False), "none"
    )
    np.testing.assert_allclose(
        out["p_any"].iloc[0], model.models_[0].predict_proba(X.iloc[:1])[0, 1]
    )
    np.testing.assert_allclose(
        out["p_any"].iloc[1:], model.models_[1].predict_proba(X.iloc[1:])[:, 1]
    )
    # a saved model trained for other bands is not reused
    path = model.save(P.saved_model_path("none"))
    assert str(path).startswith(str(data_home))
    assert P.saved_model("none", "2024-06-01", leads=range(1, 8)) is not None
    assert P.saved_model("none", "2024-06-01", leads=range(1, 17)) is None


def test_cli_lead_bands(capsys):
    import json

    from forecast.cli import main

    args = ["backtest", "--weather-source", "none", "--train-end", "2024-04-30"]
    args += ["--start", "2024-05-01", "--end", "2024-05-07", "--horizon", "1-2", "--no-baselines"]
    assert main([*args, "--lead-bands", "1-2", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["lead_bands"] == [[1, 2]]
    assert main([*args, "--format", "json"]) == 0  # not given: the default bands
    assert json.loads(capsys.readouterr().out)["lead_bands"] == [[1], [2, 3, 4, 5, 6, 7]]
    assert main([*args, "--lead-bands", "pooled", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["lead_bands"] == [[1, 2, 3, 4, 5, 6, 7]]
    with pytest.raises(SystemExit):
        main([*args, "--lead-bands", "1/x"])
    assert "--lead-bands '1/x': give bands separated by '/'" in capsys.readouterr().err


def test_check_lead_bands_names_the_parameter():
    from forecast.model.crossing import check_lead_bands

    assert check_lead_bands([[1], ["2", 3]]) == [(1,), (2, 3)]
    with pytest.raises(ConfigError, match=r"^--lead-bands \(lead_bands\)=.*whole lead times"):
        check_lead_bands([[1, "x"]], "--lead-bands (lead_bands)")
    with pytest.raises(ConfigError, match=r"lead_bands=\[\[0\]\]: give one or more non-empty"):
        check_lead_bands([[0]])
    with pytest.raises(ConfigError, match="non-empty bands"):
        check_lead_bands([])
