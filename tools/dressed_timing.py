"""How long a dressed live outlook takes, and how noisy its mixture is, by number of members.

Usage (from the repository root; writes only into a temporary data folder)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python tools/dressed_timing.py

1. **Time.** Fills a temporary ``FORECAST_DATA_DIR`` with a SYNTHETIC Open-Meteo cache
   (the 7 default sites; archive and marine 2018-01-01 .. 2026-08-14; a 16-day forecast
   run retrieved 2026-08-21 06:00 UTC; values from ``tests/fixtures/openmeteo/synthetic.py``,
   not weather) served from 127.0.0.1, then times ``make_outlook`` (no scenarios) issued
   2026-08-21 06:00 UTC with ``--ensemble none`` and with 11, 21, 31 and 51 dressed
   members: median of 5 runs after a first run that fits the model.
2. **Sampling noise.** On REAL weather (the bundled KNMI stations; replays of 2024-09-01,
   2024-11-03 and 2025-03-02 with a simulated 51-member ensemble, labelled simulated
   forecast error), the spread of the members' P(any) per day, and from it the sampling
   error of the mixture's P(any) with N members, spread / sqrt(N).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

NOW = dt.datetime(2026, 8, 21, 6, 0, tzinfo=dt.UTC)


def fill_cache() -> None:
    """Cache the SYNTHETIC archive, marine history and forecast run (see the module doc)."""
    from forecast.sources import openmeteo as om
    from forecast.sources.sites import default_sites
    from forecast.stores import weather
    from tests.fixtures.openmeteo import synthetic as syn
    from tests.httpserver import LocalServer, Reply

    fast = om.RetryPolicy(timeout_s=60.0, minutely_wait_s=0.0, transient_wait_s=0.0)
    sites = default_sites()
    points = [(s.lat, s.lon) for s in sites]
    years = [(dt.date(y, 1, 1), dt.date(y, 12, 31)) for y in range(2018, 2026)]
    years.append((dt.date(2026, 1, 1), dt.date(2026, 8, 14)))
    server = LocalServer().start()
    try:
        for kind, path, variables in (
            ("archive", "/v1/archive", syn.ATMOS),
            ("marine", "/v1/marine", syn.WAVES),
        ):
            server.route(path, *[Reply(200, syn.body(points, a, b, variables)) for a, b in years])
            weather.update(kind, "2018-01-01", "2026-08-14", sites, url=server.url(path),
                           policy=fast, sleep=lambda s: None, now=lambda: NOW, progress=False)  # fmt: skip
        start, end = dt.date(2026, 8, 14), dt.date(2026, 9, 5)
        server.route(
            "/v1/forecast", Reply(200, syn.body(points, start, end, (*syn.ATMOS, "visibility")))
        )
        server.route("/v1/marine-forecast", Reply(200, syn.body(points, start, end, syn.WAVES)))
        weather.update("forecast", sites=sites, url=server.url("/v1/forecast"),
                       marine_url=server.url("/v1/marine-forecast"), policy=fast,
                       now=lambda: NOW, progress=False, past_days=7, forecast_days=16,
                       marine_forecast_days=16, with_history=False)  # fmt: skip
    finally:
        server.stop()


def timings(repeats: int = 5) -> None:
    from forecast.products import assemble

    def once(**kw) -> float:
        t = time.perf_counter()
        assemble.make_outlook(now_utc=NOW, scenarios=False, compare=False, **kw)
        return time.perf_counter() - t

    once(ensemble="none")  # fits and caches the model
    once(n_members=2)  # caches the dressing's climatology
    runs = [("--ensemble none", {"ensemble": "none"})]
    runs += [(f"dressed, {n} members", {"n_members": n}) for n in (11, 21, 31, 51)]
    for name, kw in runs:
        secs = [once(**kw) for _ in range(repeats)]
        print(f"{name:>22}: median {statistics.median(secs):.1f} s "
              f"(min {min(secs):.1f}, max {max(secs):.1f}; {repeats} runs)", flush=True)  # fmt: skip


def member_spread() -> None:
    from forecast.products import ensemble as en
    from forecast.products import predictor as pr
    from forecast.sources.knmi import load_knmi
    from forecast.stores.arrivals import load_arrivals

    knmi, arrivals = load_knmi(), load_arrivals()
    predict = pr.default_predictor(knmi=knmi)
    for day in ("2024-09-01", "2024-11-03", "2025-03-02"):
        first = pd.Timestamp(day)
        origin = first - pd.Timedelta(days=1)
        days = pd.date_range(first, periods=7, name="date")
        forecast = predict.member_forecaster(days, origin, "knmi", arrivals.loc[:origin])
        members = en.simulated_members(knmi, origin, days, 51, random_state=0)
        p = np.array([forecast(m)["p_any"].to_numpy() for m in members])
        sd = p.std(axis=0, ddof=1)
        se = {n: (sd.mean() / np.sqrt(n), sd.max() / np.sqrt(n)) for n in (21, 51)}
        print(f"{day}: members' SD of P(any) by day {np.round(sd, 2).tolist()}; sampling "
              f"error mean/max with 21 members {se[21][0]:.3f}/{se[21][1]:.3f}, with 51 "
              f"{se[51][0]:.3f}/{se[51][1]:.3f}", flush=True)  # fmt: skip


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FORECAST_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["FORECAST_OUT_DIR"] = str(Path(tmp) / "out")
        print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
        fill_cache()
        timings()
        member_spread()
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
