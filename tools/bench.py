"""Benchmarks (``make bench``): standard backtest wall time and peak memory, outlook time.

Usage::

    python tools/bench.py                    # 2019-01-01..2025-06-30, weekly refits, D+1..D+7, KNMI
    python tools/bench.py --jobs 1           # the backtest in this process only
    python tools/bench.py --refit-every 28   # monthly refits
    python tools/bench.py --json             # the record as JSON on stdout

Prints a table (what, measured, target, pass/fail) and writes the record to
``out/bench.json`` (git-ignored; ``--out``; ``--out ''`` writes nothing). The committed
``experiments/001-standard-backtest/bench.json`` is a record copied from it by hand.

Measured: wall time [s] and CPU time [s] of the standard backtest (KNMI model,
weather-free model and 7 baselines; 3 leakage checks); peak resident memory [MiB] of all
its processes together and of the largest worker (sampled from /proc every 0.25 s), and
of this process; the time [s] of one 7-day outlook
(``forecast.model.pipeline.forecast_days``) cold (model fitted at the origin), warm in memory
(same process) and from a warm cache on disk (a model saved by ``forecast model fit``,
empty in-memory caches).
Targets (2 cores): backtest < 60 s, peak memory < 1 GiB, outlook from a warm cache < 3 s.
The machine may be shared: the load average before and after and the CPU time of all
processes are recorded (wall time on a busy machine overstates the cost).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(os.environ.get("FORECAST_OUT_DIR", REPO / "out")) / "bench.json"

#: Targets of the issue: (key, limit, unit).
TARGETS = {
    "backtest_wall_s": (60.0, "s"),
    "peak_rss_total_mib": (1024.0, "MiB"),
    "outlook_saved_model_s": (3.0, "s"),
}


def peak_rss_mib() -> float:
    """Peak resident set size [MiB] of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class TreeMemory:
    """Peak of the summed resident memory [MiB] of this process and its children,
    sampled every ``interval`` seconds from /proc (Linux) in a background thread."""

    def __init__(self, interval: float = 0.25):
        import threading

        self.interval = interval
        self.peak_mib = 0.0
        self.peak_child_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss_kib(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _children(self, pid: int) -> list[int]:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            return []
        return kids + [g for k in kids for g in self._children(k)]

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            own = self._rss_kib(me) / 1024.0
            kids = [self._rss_kib(p) / 1024.0 for p in self._children(me)]
            self.peak_mib = max(self.peak_mib, own + sum(kids))
            self.peak_child_mib = max([self.peak_child_mib, *kids])
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def cpu_seconds() -> float:
    """CPU time [s] (user + system) of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def table(rec: dict) -> str:
    """The benchmark record as an aligned text table with targets and pass/fail."""
    rows = [
        ("backtest wall time", f"{rec['backtest_wall_s']:.1f} s", "backtest_wall_s"),
        ("backtest CPU time (all processes)", f"{rec['backtest_cpu_s']:.1f} s", None),
        (
            "peak memory, all processes together",
            f"{rec['peak_rss_total_mib']:.0f} MiB",
            "peak_rss_total_mib",
        ),
        (
            "peak memory, main / largest worker",
            f"{rec['peak_rss_mib']:.0f} / "
            + (f"{rec['peak_rss_worker_mib']:.0f} MiB" if rec["peak_rss_worker_mib"] else "none"),
            None,
        ),
        (
            "outlook, warm cache on disk",
            f"{rec['outlook_saved_model_s']:.2f} s",
            "outlook_saved_model_s",
        ),
        ("outlook, warm cache in memory", f"{rec['outlook_warm_memory_s']:.3f} s", None),
        ("outlook, cold (fit at the origin)", f"{rec['outlook_cold_s']:.2f} s", None),
    ]
    lines = [f"{'what':<38} {'measured':<26} {'target':<12} result"]
    for name, value, key in rows:
        if key is None or (key == "backtest_wall_s" and not rec["n_refits"]):
            lines.append(f"{name:<38} {value:<26} {'-':<12} -")
            continue
        limit, unit = TARGETS[key]
        ok = rec[key] < limit
        lines.append(
            f"{name:<38} {value:<26} {'< ' + f'{limit:g} {unit}':<12} {'PASS' if ok else 'FAIL'}"
        )
    lines.append(
        f"backtest: {rec['backtest']}; {rec['n_refits']} refits, {rec['n_predictions']} "
        f"scored forecasts, {rec['jobs']} process(es); load average {rec['load_before']} -> "
        f"{rec['load_after']} on {rec['cpu_count']} CPUs"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--start", default="2019-01-01")
    ap.add_argument("--end", default="2025-06-30")
    ap.add_argument("--refit-every", type=int, default=7)
    ap.add_argument("--horizons", default="1-7")
    ap.add_argument(
        "--recalibrate-every",
        type=int,
        default=12,
        help="out-of-fold recalibration at every n-th refit (default 12 = 84 days)",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes for the backtest refits (default: 2, or 1 on one CPU)",
    )
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the record as JSON")
    ap.add_argument("--outlook-only", action="store_true", help="skip the backtest")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="JSON record ('' = do not write)")
    args = ap.parse_args(argv)

    from forecast.evaluation import backtest as B
    from forecast.model.pipeline import forecast_days
    from forecast.sources.knmi import load_knmi
    from forecast.stores.arrivals import load_arrivals

    a, b = (
        (int(x) for x in args.horizons.split("-"))
        if "-" in args.horizons
        else (int(args.horizons),) * 2
    )
    load_before = [round(x, 2) for x in os.getloadavg()]
    t0, c0 = time.perf_counter(), cpu_seconds()
    arrivals = load_arrivals()
    knmi = load_knmi()
    spec = B.BacktestSpec(
        start=args.start,
        end=args.end,
        horizons=tuple(range(a, b + 1)),
        refit_every=args.refit_every,
        recalibrate_every=args.recalibrate_every,
        baselines=not args.no_baselines,
        n_jobs=args.jobs,
    )
    with TreeMemory() as mem:
        res = None if args.outlook_only else B.run_backtest(arrivals, "knmi", knmi, spec)
    backtest_s, backtest_cpu = time.perf_counter() - t0, cpu_seconds() - c0
    own, child = peak_rss_mib(), mem.peak_child_mib

    from forecast.model import pipeline as P

    origin = pd.Timestamp("2025-06-23")
    days = pd.date_range(origin + pd.Timedelta(days=1), periods=7)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FORECAST_DATA_DIR"] = tmp  # no saved model: fit at the origin
        P._MODEL_CACHE.clear()
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

    rec = {
        "backtest": f"{args.start}..{args.end}, refit every {args.refit_every} d, horizons "
        f"{args.horizons}, recalibration every {args.recalibrate_every} refits, knmi"
        + ("" if args.no_baselines else " + weather-free model + 7 baselines"),
        "n_refits": res.meta["n_refits"] if res else 0,
        "n_predictions": int(len(res.predictions)) if res else 0,
        "jobs": args.jobs,
        "backtest_wall_s": round(backtest_s, 1),
        "backtest_cpu_s": round(backtest_cpu, 1),
        "peak_rss_mib": round(own, 0),
        "peak_rss_worker_mib": round(child, 0),
        "peak_rss_total_mib": round(max(mem.peak_mib, own), 0),
        "outlook_cold_s": round(cold_s, 2),
        "outlook_warm_memory_s": round(warm_s, 3),
        "outlook_saved_model_s": round(saved_s, 2),
        "targets": {k: f"< {v[0]:g} {v[1]}" for k, v in TARGETS.items()},
        "cpu_count": os.cpu_count(),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "measured_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_sha": B.git_sha(),
        "headline_h1": res.headline(a) if res else {},
    }
    rec["pass"] = {k: (rec[k] < v[0]) for k, v in TARGETS.items() if k != "backtest_wall_s" or res}
    if args.out and not args.outlook_only:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(rec, indent=1) + "\n")
    if args.json:
        json.dump(rec, sys.stdout, indent=1)
        print()
    else:
        print(table(rec))
        if args.out and not args.outlook_only:
            print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
