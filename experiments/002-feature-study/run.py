"""Experiment 002: feature study for the crossing model (KNMI proxy, D+1).

Weather input: observed regional proxy (KNMI station 340 Woensdrecht), perfect prognosis.

Protocol
--------
- SELECTION period: rolling origin 2020-01-01 .. 2023-06-30, D+1, refit every 91 days
  (expanding window, CrossingModel defaults). Candidate feature groups are added one at a
  time to the committed feature set, then combined greedily; a group is kept when it
  improves the selection scores (ROC AUC any, ROC AUC > 300, MAE) without a clear loss.
- EVALUATION of the kept set (never chosen on these): rolling 2023-07-01 .. 2025-06-30
  (same settings), the explicit split (train to 2024-06-30, evaluate 2024-07-01 ..
  2025-06-30) and, for comparison with experiment 001, rolling 2020-01 .. 2025-06
  (which contains the selection period).

The kept features live in ``forecast.features.build``; the rejected candidates are computed
here (``candidate_columns``) so that every row of the README table can be re-run.
``forecast.features.build.build_features`` is wrapped in this process to drop columns.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python experiments/002-feature-study/run.py select [SHARD N]
    OMP_NUM_THREADS=1 .venv/bin/python experiments/002-feature-study/run.py extra
    OMP_NUM_THREADS=1 .venv/bin/python experiments/002-feature-study/run.py cfg
    OMP_NUM_THREADS=1 .venv/bin/python experiments/002-feature-study/run.py evaluate [SHARD N]

Each stage writes ``results_<stage>.json`` (all scores, git SHA, data hashes).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.config import snapshot_dir
from forecast.evaluation.backtest import BacktestSpec, data_hashes, git_sha, run_backtest
from forecast.features import build as F
from forecast.sources.knmi import load_knmi
from forecast.stores.arrivals import load_arrivals

HERE = Path(__file__).resolve().parent
KNMI_FILE = snapshot_dir() / "knmi" / "etmgeg_340.txt"
KN_PER_MS = 1.943844

#: Feature groups added by experiment 002 to forecast.features.build (kept).
KEPT = {
    "hours": ["wind_max_hour_utc", "gust_max_hour_utc"],
    "hours_prev": ["wind_max_hour_utc_prev"],
    "wind_vector": [
        "wind_from_east",
        "wind_from_north",
        "wind_from_east_prev",
        "wind_from_north_prev",
    ],
    "calm_level": ["people_per_calm_day_56"],
}
#: Candidates tried and rejected (computed in this script).
REJECTED = {
    "ne_persist": ["cand_ne_days_last7"],
    "hour_min": ["cand_wind_min_hour_utc", "cand_wind_min_hour_utc_prev"],
    "vector_mean_speed": ["cand_wind_vector_mean"],
    "two_day_night": ["cand_wind_min_2day", "cand_wind_mean_2day"],
    "stormy_spell": ["cand_windy_days_last7", "cand_windy_days_last14", "cand_calm_after_storm"],
    "pressure_change_2d": ["cand_pressure_change_2d"],
    "rain_duration_prev": ["cand_precipitation_duration_prev"],
    "pressure_range": ["cand_pressure_range", "cand_pressure_range_prev"],
    "tmin": ["cand_tmin", "cand_tmin_prev", "cand_tmin_hour", "cand_tmin_hour_prev"],
    "sunshine": ["cand_sunshine", "cand_sunshine_prev"],
    "humidity": ["cand_humidity", "cand_humidity_prev"],
    "visibility_max": ["cand_vis_max", "cand_vis_max_prev"],
    "onshore_component": ["cand_wind_onshore_fr"],
    "wind_prev2": [
        "cand_wind_from_east_prev2",
        "cand_wind_from_north_prev2",
        "cand_wind_mean_prev2",
    ],
    "crossing_level": ["cand_people_per_crossing_day_56"],
    "wind_vector_max": [
        "cand_wind_max_from_east",
        "cand_wind_max_from_north",
        "cand_wind_max_from_east_prev",
        "cand_wind_max_from_north_prev",
    ],
    "wind_vector_2day": ["cand_wind_from_east_2day", "cand_wind_from_north_2day"],
}
#: Sub-groups (subsets of the above) measured separately.
SUBSETS = {
    "wind_vector_d": ["wind_from_east", "wind_from_north"],
    "wind_vector_prev": ["wind_from_east_prev", "wind_from_north_prev"],
}
#: Committed columns tried for removal.
LEAN = {
    "tide_sky": [
        "hw_in_darkness",
        "tidal_range",
        "spring_neap_index",
        "darkness_hours",
        "moon_illumination",
        "moonlit_fraction",
    ],
    "calendar_dow_month": ["dow", "month"],
    "cloud_temp_vis": ["cloud_cover_mean", "temperature_2m_mean", "visibility_min"],
    "arrivals_slow": ["level_365", "level_ratio", "deficit_28", "people_last28"],
}
GROUPS = {**KEPT, **REJECTED, **SUBSETS}
NEW = sorted({c for cols in {**KEPT, **REJECTED}.values() for c in cols})

PERIODS = {
    "selection": dict(start="2020-01-01", end="2023-06-30"),
    "evaluation": dict(start="2023-07-01", end="2025-06-30"),
    "split": dict(start="2024-07-01", end="2025-06-30", train_end="2024-06-30"),
    "full": dict(start="2020-01-01", end="2025-06-30"),
}


def knmi_with_extra_fields(path: Path = KNMI_FILE) -> pd.DataFrame:
    """``load_knmi`` plus KNMI fields its parser does not read yet.

    FHNH, FHVEC, TN, TNH, SQ, UG, PX, PN, VVX enter as ``raw_*`` columns, turned into
    the ``cand_*`` columns of the rejected candidates by :func:`candidate_columns`.
    """
    daily = load_knmi(path)
    lines = path.read_text(encoding="latin-1").splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("# STN,YYYYMMDD"))
    names = [c.strip() for c in lines[head].lstrip("# ").split(",")]
    rows = [ln.split(",") for ln in lines[head + 1 :] if ln.strip() and not ln.startswith("#")]
    raw = pd.DataFrame(rows, columns=names).apply(lambda c: c.str.strip())
    idx = pd.DatetimeIndex(pd.to_datetime(raw["YYYYMMDD"], format="%Y%m%d"), name="date")
    num = raw.drop(columns=["STN", "YYYYMMDD"]).replace("", np.nan).astype(float)
    num.index = idx
    extra = {
        "raw_wind_min_hour": num["FHNH"] - 1,
        "raw_vector_mean": num["FHVEC"] * 0.1 * KN_PER_MS,
        "raw_tmin": num["TN"] * 0.1,
        "raw_tmin_hour": num["TNH"] - 1,
        "raw_sunshine": num["SQ"].clip(lower=0) * 0.1,
        "raw_humidity": num["UG"],
        "raw_pressure_range": (num["PX"] - num["PN"]) * 0.1,
        "raw_vis_max": num["VVX"],
    }
    for c, v in extra.items():
        daily[c] = v.reindex(daily.index)
    return daily


_ORIG_TABLE = F.weather_table
_ORIG_BUILD = F.build_features


def candidate_columns(tab: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """The rejected weather candidates for each day of the weather table ``tab``."""
    idx = tab.index
    d = daily.reindex(idx)
    c = pd.DataFrame(index=idx)
    ne = tab["wind_from_ne"].where(tab["wind_speed_10m_mean"].notna())
    c["cand_ne_days_last7"] = ne.shift(1).rolling(7, min_periods=1).sum()
    c["cand_wind_min_hour_utc"] = d["raw_wind_min_hour"]
    c["cand_wind_min_hour_utc_prev"] = d["raw_wind_min_hour"].shift(1)
    c["cand_wind_vector_mean"] = d["raw_vector_mean"]
    c["cand_wind_min_2day"] = np.fmax(tab["wind_speed_10m_min"], tab["wind_speed_10m_min_prev"])
    c["cand_wind_mean_2day"] = (tab["wind_speed_10m_mean"] + tab["wind_speed_10m_mean_prev"]) / 2
    windy = (tab["wind_speed_10m_mean"] > 10.0).astype(float)  # 5.1 m/s at the station
    c["cand_windy_days_last7"] = windy.shift(1).rolling(7, min_periods=1).sum()
    c["cand_windy_days_last14"] = windy.shift(1).rolling(14, min_periods=1).sum()
    calm = F.calm_day(tab)
    c["cand_calm_after_storm"] = calm * c["cand_windy_days_last7"]
    c["cand_pressure_change_2d"] = tab["pressure_msl_mean"].diff(2)
    c["cand_precipitation_duration_prev"] = tab["precipitation_duration"].shift(1)
    for name in ("pressure_range", "tmin", "tmin_hour", "sunshine", "humidity", "vis_max"):
        c[f"cand_{name}"] = d[f"raw_{name}"]
        c[f"cand_{name}_prev"] = d[f"raw_{name}"].shift(1)
    sp, si, co = tab["wind_speed_10m_mean"], tab["wind_dir_sin"], tab["wind_dir_cos"]
    c["cand_wind_onshore_fr"] = sp * (co - si) * np.sqrt(0.5)  # component from 315 deg
    mx = tab["wind_speed_10m_max"]
    c["cand_wind_max_from_east"] = mx * si
    c["cand_wind_max_from_north"] = mx * co
    c["cand_wind_max_from_east_prev"] = c["cand_wind_max_from_east"].shift(1)
    c["cand_wind_max_from_north_prev"] = c["cand_wind_max_from_north"].shift(1)
    c["cand_wind_from_east_2day"] = (tab["wind_from_east"] + tab["wind_from_east_prev"]) / 2
    c["cand_wind_from_north_2day"] = (tab["wind_from_north"] + tab["wind_from_north_prev"]) / 2
    c["cand_wind_from_east_prev2"] = tab["wind_from_east"].shift(2)
    c["cand_wind_from_north_prev2"] = tab["wind_from_north"].shift(2)
    c["cand_wind_mean_prev2"] = sp.shift(2)
    return c


def install(drop: list[str]) -> None:
    """Wrap weather_table (adds candidates) and build_features (drops ``drop``)."""

    def table(weather_source, weather=None, cfg=F.DEFAULT_CONFIG):
        tab = _ORIG_TABLE(weather_source, weather, cfg)
        if tab is not None and isinstance(weather, pd.DataFrame):
            attrs = dict(tab.attrs)
            tab = pd.concat([tab, candidate_columns(tab, weather)], axis=1)
            tab.attrs.update(attrs)
        return tab

    def build(dates, origins, arrivals, weather_source="none", weather_features=None, **kw):
        X = _ORIG_BUILD(dates, origins, arrivals, weather_source, weather_features, **kw)
        attrs = dict(X.attrs)
        if weather_source != "none" and "cand_people_per_crossing_day_56" not in drop:
            p = arrivals["people"].astype(float)
            p = p.reindex(pd.date_range(p.index.min(), p.index.max(), freq="D"))
            n = (p > 0).astype(float).rolling(56, min_periods=1).sum()
            rate = (p.fillna(0).rolling(56, min_periods=1).sum() / n).where(n > 0)
            X["cand_people_per_crossing_day_56"] = rate.reindex(F.as_dates(origins)).to_numpy()
        X = X.drop(columns=[c for c in drop if c in X.columns])
        X.attrs.update(attrs)
        return X

    F.weather_table = table
    F.build_features = build


def score(
    arrivals,
    weather,
    period,
    drop,
    model_params=None,
    spec_extra=None,
    baselines=False,
    cfg=F.DEFAULT_CONFIG,
) -> dict:
    install(drop)
    spec = BacktestSpec(
        horizons=(1,),
        refit_every=91,
        baselines=baselines,
        leakage_checks=1,
        model_params=dict(model_params or {}),
        **dict(spec_extra or {}),
        **PERIODS[period],
    )
    t = time.time()
    r = run_backtest(arrivals, "knmi", weather, spec, cfg=cfg)
    s = r.scores[r.scores.group == "h1"].set_index("forecaster")
    m = s.loc["model"]
    out = {
        k: float(m[k])
        for k in ("auc_any", "brier_any", "auc_gt_300", "mae", "mae_median", "crps", "coverage_80")
    }
    out["n"] = int(m["n"])
    out["seconds"] = round(time.time() - t, 1)
    if baselines:
        out["ref_brier_climatology_month"] = float(s.loc["climatology_month", "brier_any"])
        out["ref_mae_same_day_last_week"] = float(s.loc["same_day_last_week", "mae"])
        out["weather_free_auc_any"] = float(s.loc["weather_free_model", "auc_any"])
    return out


def drop_for(add: list[str], remove: list[str] = ()) -> list[str]:
    keep = {c for g in add for c in GROUPS[g]}
    return [c for c in NEW if c not in keep] + [c for g in remove for c in LEAN[g]]


KEPT_SET = ["hours", "hours_prev", "wind_vector", "calm_level"]


def selection_runs() -> list[tuple[str, list[str], dict, dict]]:
    runs = [("baseline (committed features)", drop_for([]), {}, {})]
    for g in [*KEPT, *REJECTED, *SUBSETS]:
        runs.append((f"+{g}", drop_for([g]), {}, {}))
    steps = [
        ["hours", "calm_level"],
        ["hours", "calm_level", "ne_persist"],
        ["hours", "calm_level", "ne_persist", "wind_vector"],
        ["hours", "hours_prev", "calm_level", "ne_persist", "wind_vector"],
        KEPT_SET,
    ]
    for s in steps:
        runs.append(("+" + " +".join(s), drop_for(s), {}, {}))
    for g in KEPT:  # drop-one check of the kept set
        runs.append((f"kept -{g}", drop_for([k for k in KEPT_SET if k != g]), {}, {}))
    for g in REJECTED:
        runs.append((f"kept +{g}", drop_for(KEPT_SET + [g]), {}, {}))
    for g in LEAN:
        runs.append((f"kept -{g}", drop_for(KEPT_SET, [g]), {}, {}))
    for p in (
        {"monotonic": True},
        {"half_life_days": 730.0},
        {"half_life_days": None},
        {"max_iter": 60},
        {"max_iter": 200, "learning_rate": 0.05},
        {"min_samples_leaf": 15},
        {"max_leaf_nodes": 16},
        {"l2_regularization": 5.0},
    ):
        runs.append((f"kept, model {p}", drop_for(KEPT_SET), p, {}))
    runs.append(("kept, train_horizons=(1,)", drop_for(KEPT_SET), {}, {"train_horizons": [1]}))
    return runs


def tables() -> str:
    """Markdown tables of the results files (stage ``table``)."""
    lines = []
    for stage in ("select", "extra", "cfg", "evaluate"):
        runs = []
        for f in sorted(HERE.glob(f"results_{stage}*.json")):
            runs += json.loads(f.read_text())["runs"]
        if not runs:
            continue
        periods = list(dict.fromkeys(r["period"] for r in runs))
        for period in periods:
            rs = [r for r in runs if r["period"] == period]
            base = next(r for r in rs if r["name"].startswith("baseline"))
            ref_b, ref_m = base["ref_brier_climatology_month"], base["ref_mae_same_day_last_week"]
            lines += [
                f"\n### {stage}: {period} (n = {base['n']} days, D+1)\n",
                "| variant | AUC any | Brier any | BSS vs clim. | AUC > 300 | MAE | "
                "MAE skill vs last week | MAE (median) | CRPS | 80 % cov. |",
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
            order = {name: i for i, (name, *_rest) in enumerate(selection_runs())}
            rs.sort(key=lambda r: order.get(r["name"], 0) if stage == "select" else 0)
            for r in rs:
                lines.append(
                    f"| {r['name']} | {r['auc_any']:.3f} | {r['brier_any']:.4f} | "
                    f"{1 - r['brier_any'] / ref_b:.3f} | {r['auc_gt_300']:.3f} | "
                    f"{r['mae']:.1f} | {1 - r['mae'] / ref_m:.1%} | {r['mae_median']:.1f} | "
                    f"{r['crps']:.1f} | {r['coverage_80']:.3f} |"
                )
    return "\n".join(lines)


def main(stage: str) -> None:
    if stage == "table":
        print(tables())
        return
    arrivals = load_arrivals()
    weather = knmi_with_extra_fields()
    results = {
        "stage": stage,
        "git_sha": git_sha(),
        "data_sha256": data_hashes([snapshot_dir() / "arrivals.csv", KNMI_FILE]),
        "runs": [],
    }

    def run(
        name, period, drop, params=None, spec_extra=None, baselines=False, cfg=F.DEFAULT_CONFIG
    ):
        res = score(arrivals, weather, period, drop, params, spec_extra, baselines, cfg)
        res.update(name=name, period=period, model_params=params or {}, spec=spec_extra or {})
        results["runs"].append(res)
        print(json.dumps(res), flush=True)

    shard, n_shards = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (0, 1)
    if stage == "select":
        for i, (name, drop, params, spec_extra) in enumerate(selection_runs()):
            if i % n_shards == shard:
                run(name, "selection", drop, params, spec_extra, baselines=i == 0)
    elif stage == "cfg":
        # calm threshold of the station wind proxy (committed 8 kn), kept features
        run("baseline (committed features)", "selection", drop_for([]), baselines=True)
        for kn in (6.0, 8.0, 10.0, 12.0):
            cfg = F.FeatureConfig(proxy_calm_wind_kn=kn)
            run(f"kept, proxy_calm_wind_kn={kn:g}", "selection", drop_for(KEPT_SET), cfg=cfg)
    elif stage == "extra":
        # added after the main selection run: more variants of the wind vector
        run("baseline (committed features)", "selection", drop_for([]), baselines=True)
        run("kept", "selection", drop_for(KEPT_SET))
        for g in ("wind_vector_max", "wind_vector_2day"):
            run(f"+{g}", "selection", drop_for([g]))
            run(f"kept +{g}", "selection", drop_for(KEPT_SET + [g]))
    elif stage == "evaluate":
        runs = []
        for period in ("evaluation", "split", "full"):
            kept = drop_for(KEPT_SET)
            runs += [
                ("baseline (committed features)", period, drop_for([]), {}, {}, True),
                ("kept features", period, kept, {}, {}, False),
                (
                    "kept features, model monotonic=True",
                    period,
                    kept,
                    {"monotonic": True},
                    {},
                    False,
                ),
                (
                    "kept features, train_horizons=(1,)",
                    period,
                    kept,
                    {},
                    {"train_horizons": [1]},
                    False,
                ),
            ]
        for i, (name, period, drop, params, spec_extra, baselines) in enumerate(runs):
            if i % n_shards == shard:
                run(name, period, drop, params, spec_extra, baselines)
    else:
        raise SystemExit(f"unknown stage {stage!r}; use select, cfg, evaluate or table.")
    suffix = f"_{shard}" if n_shards > 1 else ""
    (HERE / f"results_{stage}{suffix}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
