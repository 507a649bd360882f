"""Experiment 004: which KNMI stations to bundle (see README.md and config.json).

Run from the repository root: ``.venv/bin/python experiments/004-station-study/run.py``
(writes ``results.json`` here), then ``... run.py table`` prints the README table from it.
Every run is observed station weather: perfect prognosis, labelled so.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from forecast import config
from forecast.evaluation import backtest as B
from forecast.sources.knmi import load_knmi
from forecast.stores.arrivals import load_arrivals

HERE = Path(__file__).resolve().parent
KEYS = (
    "n",
    "auc_any",
    "bss_any_vs_climatology_month",
    "auc_gt_300",
    "crps",
    "mae",
    "mae_median",
    "coverage_80",
    "coverage_80_crossing_days",
    "share_above_q90",
    "reliability_slope_any",
    "reliability_slope_gt_300",
)


def run() -> int:
    cfg = json.loads((HERE / "config.json").read_text())
    arrivals = load_arrivals()
    out = {"git_sha": B.git_sha(), "config": cfg, "results": {}}
    for name, files in cfg["station_sets"].items():
        weather = load_knmi([config.snapshot_dir() / "knmi" / f for f in files])
        out["results"][name] = {"label": weather.attrs["source"]}
        for r in cfg["runs"]:
            spec = B.BacktestSpec(
                start=r["start"],
                end=r["end"],
                horizons=tuple(r["horizons"]),
                refit_every=r.get("refit_every", 7),
                window=r.get("window", "expanding"),
                train_end=r.get("train_end"),
                recalibrate_every=r.get("recalibrate_every", 4),
                thresholds=tuple(cfg["thresholds"]),
                n_jobs=int(cfg["n_jobs"]),
            )
            t0 = time.perf_counter()
            res = B.run_backtest(arrivals, "knmi", weather, spec)
            head = res.headline(1)
            out["results"][name][r["name"]] = {k: head.get(k) for k in KEYS}
            s = res.scores[res.scores.forecaster == B.MODEL_NAME].set_index("group")
            out["results"][name][r["name"]]["season_coverage_80"] = {
                season: float(s.loc[f"season:{season}@h1", "coverage_80"])
                for season in ("DJF", "MAM", "JJA", "SON")
                if f"season:{season}@h1" in s.index
            }
            out["results"][name][r["name"]]["wall_s"] = round(time.perf_counter() - t0, 1)
            out["results"][name][r["name"]]["data_sha256"] = res.meta["data_sha256"]
            print(name, r["name"], json.dumps(out["results"][name][r["name"]]), file=sys.stderr)
    (HERE / "results.json").write_text(json.dumps(out, indent=1, default=B.json_default) + "\n")
    return 0


def table() -> int:
    res = json.loads((HERE / "results.json").read_text())
    cols = [k for k in KEYS if k != "n"]
    for run_name in ("rolling", "split"):
        print(f"\n{run_name} (first lead, n = {res['results']['340'][run_name]['n']} days)\n")
        print("| stations | " + " | ".join(cols) + " |")
        print("|---" * (len(cols) + 1) + "|")
        for name, r in res["results"].items():
            row = r[run_name]
            cells = [
                ""
                if row.get(k) is None
                else f"{row[k]:.3f}"
                if abs(row[k]) < 10
                else f"{row[k]:.1f}"
                for k in cols
            ]
            print(f"| {name} | " + " | ".join(cells) + " |")
        print(
            "\n80 % coverage by season: "
            + "; ".join(
                f"{name} "
                + ", ".join(f"{k} {v:.3f}" for k, v in r[run_name]["season_coverage_80"].items())
                for name, r in res["results"].items()
            )
        )
    print(f"\n(git {res['git_sha'][:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(table() if sys.argv[1:] == ["table"] else run())
