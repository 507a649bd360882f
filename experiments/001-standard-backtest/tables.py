"""Experiment 001: print the markdown tables of README.md from the result files.

Run from the repository root after ``make backtest``:
``.venv/bin/python experiments/001-standard-backtest/tables.py``.

Reads ``results.json`` (rolling run, KNMI and weather-free) and ``split/results.json``
(explicit split) of this folder; these hold the same scores as ``scores.csv`` and
``split/scores.csv`` at full precision. Runs no backtest.

Skill scores are computed within one run: "Brier skill" = 1 - Brier / Brier of the
monthly climatology, "MAE skill" = 1 - MAE / MAE of same day last week, for the mean
forecast (``mae``) and the median forecast (``mae_median``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from forecast.commands.backtest import SCORE_COLUMNS

HERE = Path(__file__).resolve().parent

FORECASTERS = [
    "model",
    "weather_free_model",
    "climatology_month",
    "climatology_doy",
    "same_day_last_week",
    "yesterday",
    "wave_rule",
    "calm_hours_rule",
    "rag_rule",
]
#: The score columns of `forecast backtest` (same order as its tables).
ALL_COLS = list(SCORE_COLUMNS)
LEAD_COLS = ["auc_any", "brier_any", "mae", "crps", "coverage_80"]
YEAR_COLS = ["n", "auc_any", "brier_any", "auc_gt_300", "mae", "mae_median", "coverage_80"]
SEASON_COLS = ["n", "auc_any", "brier_any", "mae", "coverage_80"]
ONE_DECIMAL = {"mae", "mae_median", "crps", "wis"}


def fmt(col: str, v) -> str:
    if v is None:
        return "n/a"
    if col == "n":
        return str(int(v))
    if col in ONE_DECIMAL:
        return f"{v:.1f}"
    return f"{v:.3f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def load(path: Path) -> dict:
    """``{weather_source: {"meta": ..., "scores": {forecaster: {group: {score: v}}}}}``."""
    doc = json.loads(path.read_text())
    return {r["meta"]["weather_source"]: r for r in doc["runs"]}


def skills(scores: dict, group: str) -> dict:
    """Skill of the model vs monthly climatology (Brier) and same day last week (MAE)."""
    m = scores["model"][group]
    clim = scores["climatology_month"][group]
    last = scores["same_day_last_week"][group]
    return {
        "bss": 1 - m["brier_any"] / clim["brier_any"],
        "mae_skill": 1 - m["mae"] / last["mae"],
        "mae_median_skill": 1 - m["mae_median"] / last["mae"],
    }


def pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def yes(ok: bool) -> str:
    return "yes" if ok else "no"


def pit_coverage(scores: dict) -> float:
    """Share of days whose randomised PIT lies in the central 80 % (the middle 8 of the
    10 bins of ``pit_histogram``): 0.80 for a calibrated count forecast."""
    return float(sum(scores["pit_histogram"][1:-1]))


def headline(run: dict) -> str:
    """Issue 10's targets (rolling, same-day lead, default stations) against the scores."""
    sc = run["scores"]["model"]
    m = sc["h1"]
    s = skills(run["scores"], "h1")
    seasons = {
        g.split(":")[1].split("@")[0]: v["coverage_80"]
        for g, v in sc.items()
        if g.startswith("season:")
    }
    low, high = min(seasons.values()), max(seasons.values())
    pit_seasons = [pit_coverage(v) for g, v in sc.items() if g.startswith("season:")]
    pit_low, pit_high = min(pit_seasons), max(pit_seasons)
    rows = [
        ["ROC AUC, any crossing", fmt("auc_any", m["auc_any"]), ">= 0.93", m["auc_any"] >= 0.93],
        ["Brier skill vs monthly climatology", f"{s['bss']:.3f}", ">= 0.55", s["bss"] >= 0.55],
        [
            "ROC AUC, > 300 people",
            fmt("auc_gt_300", m["auc_gt_300"]),
            ">= 0.93",
            m["auc_gt_300"] >= 0.93,
        ],
        ["CRPS [people]", f"{m['crps']:.1f}", "<= 42", m["crps"] <= 42],
        [
            "MAE of the published point forecast (median) [people]",
            f"{m['mae_median']:.1f}",
            "<= 59 (zero forecast 84.2)",
            m["mae_median"] <= 59,
        ],
        [
            "80 % interval coverage, all days",
            fmt("coverage_80", m["coverage_80"]),
            "0.77 - 0.83",
            0.77 <= m["coverage_80"] <= 0.83,
        ],
        [
            "80 % interval coverage, crossing days",
            f"{m['coverage_80_crossing_days']:.3f}",
            ">= 0.70",
            m["coverage_80_crossing_days"] >= 0.70,
        ],
        [
            "80 % interval coverage, by season",
            f"{low:.3f} - {high:.3f}",
            "0.75 - 0.85 each",
            0.75 <= low and high <= 0.85,
        ],
        [
            "randomised-PIT 80 % coverage, all days (0.80 if calibrated)",
            f"{pit_coverage(m):.3f}",
            "(0.77 - 0.83)",
            0.77 <= pit_coverage(m) <= 0.83,
        ],
        [
            "randomised-PIT 80 % coverage, by season",
            f"{pit_low:.3f} - {pit_high:.3f}",
            "(0.75 - 0.85 each)",
            0.75 <= pit_low and pit_high <= 0.85,
        ],
        [
            "days above the 90 % quantile",
            f"{m['share_above_q90']:.3f}",
            "0.08 - 0.12",
            0.08 <= m["share_above_q90"] <= 0.12,
        ],
    ]
    out = [r[:3] + [yes(r[3])] for r in rows]
    return table(["score", "model (KNMI stations, perfect prognosis)", "target", "met?"], out)


def summary(run: dict, label: str) -> str:
    m = run["scores"]["model"]["h1"]
    s = skills(run["scores"], "h1")
    return (
        f"{label}: AUC {m['auc_any']:.3f}, AUC > 300 {m['auc_gt_300']:.3f}, "
        f"Brier skill vs monthly climatology {s['bss']:.3f}, MAE skill vs same day last week "
        f"{pct(s['mae_skill'])} (mean) / {pct(s['mae_median_skill'])} (median), "
        f"80 % coverage {m['coverage_80']:.3f}."
    )


def forecasters(scores: dict, group: str) -> str:
    rows = [
        [f] + [fmt(c, scores[f][group].get(c)) for c in ALL_COLS]
        for f in FORECASTERS
        if f in scores and group in scores[f]
    ]
    return table(["forecaster"] + ALL_COLS, rows)


def by_lead(runs: dict) -> str:
    rows = []
    for src in ("knmi", "none"):
        sc = runs[src]["scores"]["model"]
        for h in range(1, 8):
            g = f"h{h}"
            if g in sc:
                rows.append([src, g] + [fmt(c, sc[g][c]) for c in LEAD_COLS])
    return table(["weather_source", "group"] + LEAD_COLS, rows)


def by_prefix(scores: dict, prefix: str, cols: list[str]) -> str:
    groups = sorted(g for g in scores if g.startswith(prefix) and g.endswith("@h1"))
    rows = [[g] + [fmt(c, scores[g][c]) for c in cols] for g in groups]
    return table(["group"] + cols, rows)


def main() -> int:
    rolling = load(HERE / "results.json")
    split = load(HERE / "split" / "results.json")
    knmi = rolling["knmi"]
    meta = knmi["meta"]
    sections = [
        (
            f"## Headline (same day, h1: arrivals to D-1, forecast for D; rolling origin, {meta['evaluated'][0]} .. "
            f"{meta['evaluated'][1]}, {knmi['scores']['model']['h1']['n']} days)",
            headline(knmi) + "\n\n" + summary(rolling["none"], "Weather-free model, same day (h1)"),
        ),
        (
            "## All forecasters, same day (h1), rolling (KNMI run)",
            forecasters(knmi["scores"], "h1"),
        ),
        ("## By lead time (model)", by_lead(rolling)),
        (
            "## By year and season (model, KNMI, same day h1)",
            by_prefix(knmi["scores"]["model"], "year:", YEAR_COLS)
            + "\n\n"
            + by_prefix(knmi["scores"]["model"], "season:", SEASON_COLS),
        ),
        (
            "## Explicit split (same day h1, "
            f"train to {split['knmi']['meta']['spec']['train_end']}, evaluate "
            f"{split['knmi']['meta']['evaluated'][0]} .. {split['knmi']['meta']['evaluated'][1]})",
            forecasters(split["knmi"]["scores"], "h1")
            + "\n\n"
            + summary(split["knmi"], "Model (KNMI stations), split"),
        ),
    ]
    for title, body in sections:
        print(title + "\n\n" + body + "\n")
    for name, runs in (("rolling", rolling), ("split", split)):
        for src, r in runs.items():
            m = r["meta"]
            print(
                f"<!-- {name}/{src}: git {m['git_sha']}, {m['n_refits']} refit(s), "
                f"wall {m.get('wall_time_s', 'n/a')} s -->"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
