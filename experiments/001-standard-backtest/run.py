"""Experiment 001: the standard real-data backtest (see README.md and config.json).

Run from the repository root: ``python experiments/001-standard-backtest/run.py``
(``make backtest``). Writes scores.csv, skill.csv, results.json and figures next to
this file (rolling run) and split/ (explicit train/evaluate split).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from forecast.evaluation import backtest as B
from forecast.sources.knmi import load_knmi
from forecast.stores.arrivals import load_arrivals

HERE = Path(__file__).resolve().parent


def _progress(msg: str) -> None:
    if msg.split("/")[0].endswith("0"):
        print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    cfg = json.loads((HERE / "config.json").read_text())
    arrivals = load_arrivals()
    knmi = load_knmi()
    sha = B.git_sha()  # before this script writes its (tracked) result files
    for run in cfg["runs"]:
        results = []
        for src in run["weather_sources"]:
            spec = B.BacktestSpec(
                start=run["start"],
                end=run["end"],
                horizons=tuple(run["horizons"]),
                refit_every=run.get("refit_every", 7),
                window=run.get("window", "expanding"),
                train_end=run.get("train_end"),
                recalibrate_every=run.get("recalibrate_every", 4),
                thresholds=tuple(cfg["thresholds"]),
                model_params=cfg.get("model_params", {}),
                n_jobs=int(cfg.get("n_jobs", 1)),
            )
            t0 = time.perf_counter()
            res = B.run_backtest(
                arrivals, src, knmi if src == "knmi" else None, spec, progress=_progress
            )
            res.meta["wall_time_s"] = round(time.perf_counter() - t0, 1)
            res.meta["git_sha"] = sha
            print(
                f"{run['name']}/{src}: {res.meta['wall_time_s']} s, {res.meta['n_refits']} refit(s)",
                file=sys.stderr,
            )
            print(json.dumps(res.headline(min(run["horizons"])), indent=1))
            results.append(res)
        out = HERE if run["name"] == "rolling" else HERE / run["name"]
        B.write_outputs(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
