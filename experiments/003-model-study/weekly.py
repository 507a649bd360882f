"""Experiment 003, stage ``weekly``: the structure and settings at weekly refits (D+1).

Weather input: observed regional proxy (KNMI station 340 Woensdrecht, inland, 213 km from
Dover), perfect prognosis.

The study's other stages refit every 28 days. This stage repeats the key comparison with
the refit cadence of experiment 001 and ``make bench`` (every 7 days, out-of-fold
recalibration every 12th refit), rolling 2020-01-01 .. 2025-06-30, D+1 only, for:
OLD pooled (the model before this study), OLD / FAST / FAST35 with a D+1 model, and
FAST35 pooled. With ``horizons=(1,)`` the refits fall on other days than in experiment
001's horizons 1-7 run (its schedule starts ``max(horizons)`` days before the first
evaluated day), which moves the scores by a few thousandths; the comparison here is
like for like.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python experiments/003-model-study/weekly.py

Writes ``results_weekly.json`` and prints the README table.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import FAST, FAST35, OLD, PERIODS  # noqa: E402

from forecast.config import snapshot_dir  # noqa: E402
from forecast.evaluation.backtest import BacktestSpec, data_hashes, git_sha, run_backtest  # noqa: E402
from forecast.sources.knmi import load_knmi  # noqa: E402
from forecast.stores.arrivals import load_arrivals  # noqa: E402

VARIANTS = [
    ("OLD pooled (before this study)", OLD, None),
    ("OLD, D+1 model", OLD, ((1,),)),
    ("FAST, D+1 model", FAST, ((1,),)),
    ("FAST35, D+1 model (the new default)", FAST35, ((1,),)),
    ("FAST35 pooled", FAST35, None),
]
KEYS = ("auc_any", "brier_any", "auc_gt_300", "mae", "mae_median", "crps", "coverage_80")


def main() -> None:
    arrivals, weather = load_arrivals(), load_knmi()
    out = {
        "stage": "weekly",
        "git_sha": git_sha(),
        "data_sha256": data_hashes(
            [snapshot_dir() / "arrivals.csv", snapshot_dir() / "knmi" / "etmgeg_340.txt"]
        ),
        "runs": [],
    }
    for k, (name, params, bands) in enumerate(VARIANTS):
        spec = BacktestSpec(
            horizons=(1,),
            refit_every=7,
            recalibrate_every=12,
            baselines=k == 0,
            leakage_checks=1,
            n_jobs=2,
            model_params=dict(params),
            lead_bands=bands,
            train_horizons=tuple(range(1, 8)),
            **PERIODS["full"],
        )
        t = time.time()
        res = run_backtest(arrivals, "knmi", weather, spec)
        s = res.scores[res.scores.group == "h1"].set_index("forecaster")
        row = {key: float(s.loc["model", key]) for key in KEYS}
        row.update(
            name=name,
            params=params,
            lead_bands=res.meta["lead_bands"],
            n=int(s.loc["model", "n"]),
            seconds=round(time.time() - t, 1),
        )
        if k == 0:
            out["ref_brier_climatology_month"] = float(s.loc["climatology_month", "brier_any"])
            out["ref_mae_same_day_last_week"] = float(s.loc["same_day_last_week", "mae"])
        out["runs"].append(row)
        print(json.dumps(row), flush=True)
    (HERE / "results_weekly.json").write_text(json.dumps(out, indent=1))
    print(table(out))


def table(out: dict) -> str:
    rb, rm = out["ref_brier_climatology_month"], out["ref_mae_same_day_last_week"]
    lines = [
        "| variant | AUC any | BSS vs clim. | AUC > 300 | MAE mean / median | "
        "MAE skill vs last week (mean / median) | CRPS | 80 % cov. |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in out["runs"]:
        lines.append(
            f"| {r['name']} | {r['auc_any']:.3f} | {1 - r['brier_any'] / rb:.3f} | "
            f"{r['auc_gt_300']:.3f} | {r['mae']:.1f} / {r['mae_median']:.1f} | "
            f"{100 * (1 - r['mae'] / rm):.1f} % / {100 * (1 - r['mae_median'] / rm):.1f} % | "
            f"{r['crps']:.1f} | "
            f"{r['coverage_80']:.3f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] == ["table"]:
        print(table(json.loads((HERE / "results_weekly.json").read_text())))
    else:
        main()
