"""Benchmarks (``make bench``): standard backtest wall time and peak memory, outlook time.

Usage::

    python tools/bench.py                    # 2019-01-01..2025-06-30, weekly refits, D+1..D+7, KNMI
    python tools/bench.py --refit-every 28   # monthly refits
    python tools/bench.py --json

Prints wall time [s] and peak resident memory [MiB] of the backtest, and the time [s] of
one 7-day outlook (``forecast.pipeline.forecast_days``): cold (model fitted at the
origin), warm in memory (same process), and from a warm cache on disk (a model saved by
``forecast model fit``, empty in-memory caches).
Targets (2 cores): backtest < 60 s, outlook < 3 s, peak memory < 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time

import pandas as pd


def peak_rss_mib() -> float:
    """Peak resident set size of this process [MiB] (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--start", default="2019-01-01")
    ap.add_argument("--end", default="2025-06-30")
    ap.add_argument("--refit-every", type=int, default=7)
    ap.add_argument("--horizons", default="1-7")
    ap.add_argument("--recalibrate-every", type=int, default=8)
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--outlook-only", action="store_true", help="skip the backtest")
    args = ap.parse_args(argv)

    from forecast import backtest as B
    from forecast.pipeline import forecast_days
    from forecast.sources.arrivals import load_arrivals
    from forecast.sources.knmi import load_knmi

    a, b = (
        (int(x) for x in args.horizons.split("-"))
        if "-" in args.horizons
        else (int(args.horizons),) * 2
    )
    t0 = time.perf_counter()
    arrivals = load_arrivals()
    knmi = load_knmi()
    spec = B.BacktestSpec(
        start=args.start,
        end=args.end,
        horizons=tuple(range(a, b + 1)),
        refit_every=args.refit_every,
        recalibrate_every=args.recalibrate_every,
        baselines=not args.no_baselines,
    )
    res = None if args.outlook_only else B.run_backtest(arrivals, "knmi", knmi, spec)
    backtest_s = time.perf_counter() - t0
    peak = peak_rss_mib()

    from forecast import pipeline as P

    origin = pd.Timestamp("2025-06-23")
    days = pd.date_range(origin + pd.Timedelta(days=1), periods=7)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FORECAST_DATA_DIR"] = tmp  # no saved model: fit at the origin
        t1 = time.perf_counter()
        forecast_days(days, origin, "knmi", weather=knmi, arrivals=arrivals)
        cold_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        forecast_days(days, origin, "knmi", weather=knmi, arrivals=arrivals)
        warm_s = time.perf_counter() - t2
        # warm cache on disk: a model saved by 'forecast model fit', fresh process state
        next(iter(P._MODEL_CACHE.values())).save(P.saved_model_path("knmi"))
        P._MODEL_CACHE.clear()
        P._TIDE_SKY_CACHE.clear()
        t3 = time.perf_counter()
        forecast_days(days, origin, "knmi", weather=knmi, arrivals=arrivals)
        saved_s = time.perf_counter() - t3

    out = {
        "backtest": f"{args.start}..{args.end}, refit every {args.refit_every} d, horizons {args.horizons}, knmi"
        + ("" if args.no_baselines else " + weather-free model + 7 baselines"),
        "n_refits": res.meta["n_refits"] if res else 0,
        "n_predictions": int(len(res.predictions)) if res else 0,
        "backtest_wall_s": round(backtest_s, 1),
        "peak_rss_mib": round(peak, 0),
        "outlook_cold_s": round(cold_s, 2),
        "outlook_warm_memory_s": round(warm_s, 3),
        "outlook_saved_model_s": round(saved_s, 2),
        "cpu_count": __import__("os").cpu_count(),
        "python": platform.python_version(),
        "headline_h1": res.headline(a) if res else {},
    }
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        print()
    else:
        for k, v in out.items():
            if k != "headline_h1":
                print(f"{k:<16} {v}")
        print("targets: backtest < 60 s, outlook < 3 s, peak memory < 1024 MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
