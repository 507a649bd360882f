"""Runs and models name, record and check the KNMI stations actually used."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast import config
from forecast.errors import ConfigError
from forecast.evaluation import backtest as B
from forecast.features import build as F
from forecast.model import pipeline as P
from forecast.sources.knmi import load_knmi
from forecast.stores.arrivals import load_arrivals

KNMI = config.snapshot_dir() / "knmi"


@pytest.fixture(scope="module")
def arrivals():
    return load_arrivals()


def test_a_310_file_is_labelled_vlissingen_not_woensdrecht(arrivals):
    w = load_knmi([KNMI / "etmgeg_310.txt"])
    spec = B.BacktestSpec(
        start="2024-06-01", end="2024-06-14", horizons=(1,), train_end="2024-05-31"
    )
    res = B.run_backtest(arrivals, "knmi", w, spec)
    label = res.meta["weather_label"]
    assert label.startswith("KNMI station 310 Vlissingen (observed, coastal, 162 km from Dover)")
    assert "Woensdrecht" not in label
    assert res.meta["weather_stations"] == [310]
    assert list(res.meta["data_sha256"]) == [
        "data/snapshot/arrivals.csv",
        "data/snapshot/knmi/etmgeg_310.txt",
    ]


def test_model_records_its_stations_and_refuses_input_lacking_one(arrivals):
    pair = load_knmi()
    origin = pd.Timestamp("2024-05-31")
    wtab = F.weather_table("knmi", pair)
    ts = P.tide_sky_table(P.TRAIN_START, pd.Timestamp("2024-06-30"))
    model = P.fit_default_model("knmi", origin, arrivals.loc[:origin], wtab.loc[:origin], ts)
    assert model.weather_stations_ == [310, 340]
    assert model.info()["weather_stations"] == [310, 340]
    days = pd.date_range("2024-06-01", periods=3)
    ok = P.forecast_days(days, origin, "knmi", weather=pair, arrivals=arrivals, model=model)
    assert len(ok) == 3
    inland = load_knmi([KNMI / "etmgeg_340.txt"])
    with pytest.raises(
        ConfigError, match=r"trained on KNMI stations \[310, 340\] .* has stations \[340\]"
    ):
        P.forecast_days(days, origin, "knmi", weather=inland, arrivals=arrivals, model=model)
    swapped = load_knmi([KNMI / "etmgeg_340.txt", KNMI / "etmgeg_310.txt"])
    with pytest.raises(
        ConfigError, match=r"\(primary 310\) but the weather given has stations \[340, 310\]"
    ):
        P.forecast_days(days, origin, "knmi", weather=swapped, arrivals=arrivals, model=model)
