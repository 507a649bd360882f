"""Sweeps on a dask cluster through joblib give the same results as in-process runs."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from distributed import LocalCluster

from forecast.errors import ConfigError
from forecast.evaluation import backtest as B
from forecast.evaluation.scheduler import dask_client, run_tasks
from forecast.stores.arrivals import load_arrivals


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as c:
        yield c


def _square_sum(a, b):
    return a * a + b


def test_run_tasks_keeps_the_order_of_its_inputs(cluster):
    seen = []
    got = run_tasks(
        _square_sum, ((i, 1) for i in range(12)), cluster.scheduler_address, 2, seen.append
    )
    assert got == [i * i + 1 for i in range(12)]
    assert seen == list(range(12))


def test_backtest_sweep_on_a_local_cluster_equals_the_in_process_run(cluster):
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
    arr = load_arrivals()
    t0 = time.time()
    one = B.run_backtest(arr, "none", spec=B.BacktestSpec(**spec), tide_sky=False)
    dask = B.run_backtest(
        arr,
        "none",
        spec=B.BacktestSpec(**spec, scheduler=cluster.scheduler_address),
        tide_sky=False,
    )
    assert one.meta["n_refits"] == dask.meta["n_refits"] == 6
    pd.testing.assert_frame_equal(one.predictions, dask.predictions)
    assert dask.meta["spec"]["scheduler"] == cluster.scheduler_address
    assert time.time() - t0 < 120


def test_unreachable_scheduler_is_a_config_error():
    with pytest.raises(ConfigError, match="--scheduler tcp://127.0.0.1:9: no dask scheduler"):
        with dask_client("tcp://127.0.0.1:9", timeout=1.0):
            pass
    with pytest.raises(ConfigError, match="give 'local' or a dask scheduler address"):
        with dask_client(""):
            pass
