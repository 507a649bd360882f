"""Experiment 003: model study (structure, settings and speed of CrossingModel; KNMI, D+1).

Weather input: observed regional proxy (KNMI station 340 Woensdrecht, inland, 213 km from
Dover), perfect prognosis.

Protocol (as experiment 002; no choice is made on the reported test)
--------------------------------------------------------------------
- SELECTION period: rolling origin 2020-01-01 .. 2023-06-30, D+1, refit every 28 days,
  expanding window. Every variant passes all CrossingModel settings explicitly (OLD =
  the defaults before this study, FAST = OLD with 63 bins, 50 iterations, learning rate
  0.14, FAST35 = OLD with 63 bins, 35 iterations, learning rate 0.2); structural and blend variants are experiment-only patches of CrossingModel or
  of the KNMI feature table, installed for one run and removed after it.
- EVALUATION (never used for a choice): rolling 2023-07-01 .. 2025-06-30, the explicit
  split (train to 2024-06-30, evaluate 2024-07-01 .. 2025-06-30) and, for comparison,
  rolling 2020-01 .. 2025-06 (contains the selection period).
- TIMING: one CrossingModel fit on the real training rows up to 2025-06-30 (horizons
  1-7), median of 5 fits, wall and process time, single-threaded.

"Cycled 1-7" = one model whose training rows cycle through horizons 1-7 (the old
structure); "D+1 rows" = a model trained on D+1 rows only (``lead_bands=((1,),)`` when
``BacktestSpec`` has that field, else ``train_horizons=(1,)``; recorded in the JSON).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python experiments/003-model-study/run.py select
    OMP_NUM_THREADS=1 .venv/bin/python experiments/003-model-study/run.py evaluate
    OMP_NUM_THREADS=1 .venv/bin/python experiments/003-model-study/run.py timing
    .venv/bin/python experiments/003-model-study/run.py table

Each stage writes ``results_<stage>.json`` (all scores, git SHA, data hashes).
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from forecast.config import snapshot_dir
from forecast.evaluation.backtest import BacktestSpec, data_hashes, git_sha, run_backtest
from forecast.features import build as F
from forecast.model import crossing as M
from forecast.model.pipeline import TRAIN_START, tide_sky_table, training_rows
from forecast.sources.knmi import load_knmi
from forecast.stores.arrivals import load_arrivals

HERE = Path(__file__).resolve().parent
KNMI_FILE = snapshot_dir() / "knmi" / "etmgeg_340.txt"
WEATHER_LABEL = (
    "observed regional proxy (KNMI station 340 Woensdrecht, inland, 213 km from Dover), "
    "perfect prognosis"
)

#: CrossingModel settings before this study (passed explicitly: the defaults may change).
OLD = {
    "max_iter": 100,
    "learning_rate": 0.07,
    "max_leaf_nodes": 8,
    "min_samples_leaf": 25,
    "l2_regularization": 1.0,
    "max_bins": 255,
    "half_life_days": 1095.0,
    "n_mu_bins": 3,
}
#: Half the trees at twice the learning rate, 63 bins per feature.
FAST = {**OLD, "max_bins": 63, "max_iter": 50, "learning_rate": 0.14}
#: 35 iterations at learning rate 0.2, 63 bins (the CrossingModel defaults after this study).
FAST35 = {**OLD, "max_bins": 63, "max_iter": 35, "learning_rate": 0.2}
#: 40 iterations at learning rate 0.175, 63 bins.
FAST40 = {**OLD, "max_bins": 63, "max_iter": 40, "learning_rate": 0.175}

PERIODS = {
    "selection": dict(start="2020-01-01", end="2023-06-30"),
    "evaluation": dict(start="2023-07-01", end="2025-06-30"),
    "split": dict(start="2024-07-01", end="2025-06-30", train_end="2024-06-30"),
    "full": dict(start="2020-01-01", end="2025-06-30"),
}
HAS_LEAD_BANDS = "lead_bands" in {f.name for f in dataclasses.fields(BacktestSpec)}


def structure(kind: str) -> dict:
    """BacktestSpec fields of the training structure ``"cycled"`` or ``"th1"``."""
    if kind == "cycled":
        extra = {"lead_bands": None} if HAS_LEAD_BANDS else {}
        return {**extra, "train_horizons": tuple(range(1, 8))}
    if kind == "th1":
        return {"lead_bands": ((1,),)} if HAS_LEAD_BANDS else {"train_horizons": (1,)}
    raise ValueError(kind)


# ---------------------------------------------------------------------------
# experiment-only variants (patches installed for one run, then removed)
# ---------------------------------------------------------------------------


@contextmanager
def patched(obj, **attrs):
    old = {k: getattr(obj, k) for k in attrs}
    for k, v in attrs.items():
        setattr(obj, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(obj, k, v)


def _used(self, X) -> np.ndarray:
    return X[list(self.features_used_)].to_numpy(float)


@contextmanager
def blend_classifier(kind: str, weight: float):
    """P(any) = sigmoid((1 - w) logit(p_boosting) + w logit(q)), q from a second
    classifier fitted on the same rows and weights: ``"logistic"`` (median imputation +
    missing indicators, standardised, C = 0.1), ``"rf"`` random forest or ``"et"`` extra
    trees (200 trees, 5 days per leaf, 30 % of the features per split, NaN -> -999)."""
    fit0, parts0 = M.CrossingModel.fit, M.CrossingModel._parts

    def prep(Xa):
        return Xa if kind == "logistic" else np.where(np.isfinite(Xa), Xa, -999.0)

    def fit(self, X, y, boats=None, calibration_from=None):
        fit0(self, X, y, boats=boats, calibration_from=calibration_from)
        if kind == "logistic":
            est = make_pipeline(
                SimpleImputer(strategy="median", add_indicator=True),
                StandardScaler(),
                LogisticRegression(C=0.1, max_iter=500),
            )
            key = "logisticregression__sample_weight"
        else:
            cls = RandomForestClassifier if kind == "rf" else ExtraTreesClassifier
            est = cls(
                n_estimators=200, min_samples_leaf=5, max_features=0.3, random_state=0, n_jobs=1
            )
            key = "sample_weight"
        est.fit(prep(_used(self, X)), np.asarray(y) > 0, **{key: self._weights(X.index)})
        self.blend_ = est
        return self

    def _parts(self, X):
        p, mu = parts0(self, X)
        lo = 1e-6 if kind == "logistic" else 0.01
        q = np.clip(self.blend_.predict_proba(prep(_used(self, X)))[:, 1], lo, 1 - lo)
        return M._sigmoid((1 - weight) * M._logit(p) + weight * M._logit(q)), mu

    with patched(M.CrossingModel, fit=fit, _parts=_parts):
        yield


@contextmanager
def poisson_blend(weight: float):
    """logit P(any) += w * log(m), m the mean of a Poisson boosting model of people fitted
    on all days (zeros included; hurdle bins, same settings and weights)."""
    fit0, parts0 = M.CrossingModel.fit, M.CrossingModel._parts

    def fit(self, X, y, boats=None, calibration_from=None):
        fit0(self, X, y, boats=boats, calibration_from=calibration_from)
        Xc, _ = self._binned(_used(self, X))
        w = self._weights(X.index)
        self.all_days_ = M._fit(self._regressor(), Xc, np.asarray(y, float), sample_weight=w)
        return self

    def _parts(self, X):
        p, mu = parts0(self, X)
        Xc, _ = self._binned(_used(self, X))
        m = np.maximum(self.all_days_.predict(Xc), 1e-3)
        return M._sigmoid(M._logit(p) + weight * np.log(m)), mu

    with patched(M.CrossingModel, fit=fit, _parts=_parts):
        yield


@contextmanager
def direct_median():
    """The median forecast ``q50`` from a boosting model with absolute-error loss fitted on
    all days (twice the learning rate, same trees/leaves/weights); other outputs as is."""
    fit0, pd0 = M.CrossingModel.fit, M.CrossingModel.predict_distribution

    def fit(self, X, y, boats=None, calibration_from=None):
        fit0(self, X, y, boats=boats, calibration_from=calibration_from)
        Xc, _ = self._binned(_used(self, X))
        reg = HistGradientBoostingRegressor(
            loss="absolute_error",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate * 2,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            early_stopping=False,
            random_state=0,
        )
        self.median_ = M._fit(reg, Xc, np.asarray(y, float), sample_weight=self._weights(X.index))
        return self

    def predict_distribution(self, X, thresholds=(300, 500), grid=False):
        out = pd0(self, X, thresholds, grid)
        Xc, _ = self._binned(_used(self, X))
        out["q50"] = np.maximum(self.median_.predict(Xc), 0)
        return out

    with patched(M.CrossingModel, fit=fit, predict_distribution=predict_distribution):
        yield


@contextmanager
def size_part(**params):
    """Settings of the size part (Poisson regressor) only."""
    reg0 = M.CrossingModel._regressor

    def _regressor(self):
        return reg0(self).set_params(**params)

    with patched(M.CrossingModel, _regressor=_regressor):
        yield


NEXT_DAY = ["wind_speed_10m_mean", "wind_speed_10m_max", "wind_speed_10m_min", "calm_hours"]


@contextmanager
def next_day_weather():
    """Add the station's wind of day D+1 (``<column>_next``) to the features of day D."""
    orig = F.daily_weather_features

    def daily(daily, dates=None, cfg=F.DEFAULT_CONFIG):
        out = orig(daily, None, cfg)
        for c in NEXT_DAY:
            if c in out.columns:
                out[c + "_next"] = out[c].shift(-1)
        return out if dates is None else out.reindex(F.as_dates(dates))

    with patched(F, daily_weather_features=daily):
        yield


PATCHES = {
    "blend_lr_0.3": lambda: blend_classifier("logistic", 0.3),
    "blend_lr_0.5": lambda: blend_classifier("logistic", 0.5),
    "blend_rf_0.5": lambda: blend_classifier("rf", 0.5),
    "blend_et_0.5": lambda: blend_classifier("et", 0.5),
    "blend_poisson_0.3": lambda: poisson_blend(0.3),
    "direct_median": direct_median,
    "size_msl_10": lambda: size_part(min_samples_leaf=10),
    "size_gamma": lambda: size_part(loss="gamma"),
    "next_day_weather": next_day_weather,
}


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------


def score(arrivals, weather, period, params, kind, patch=None, baselines=False) -> dict:
    extra = structure(kind)
    spec = BacktestSpec(
        horizons=(1,),
        refit_every=28,
        window="expanding",
        baselines=baselines,
        leakage_checks=1,
        n_jobs=1,
        model_params=dict(params),
        **extra,
        **PERIODS[period],
    )
    t, c = time.perf_counter(), time.process_time()
    with ExitStack() as stack:
        if patch:
            stack.enter_context(PATCHES[patch]())
        r = run_backtest(arrivals, "knmi", weather, spec, weather_label=WEATHER_LABEL)
    s = r.scores[r.scores.group == "h1"].set_index("forecaster")
    m = s.loc["model"]
    keys = ("auc_any", "brier_any", "auc_gt_300", "mae", "mae_median", "crps", "coverage_80")
    out = {k: float(m[k]) for k in keys}
    out["n"] = int(m["n"])
    out["n_refits"] = int(r.meta["n_refits"])
    out["seconds"] = round(time.perf_counter() - t, 1)
    out["cpu_seconds"] = round(time.process_time() - c, 1)
    if baselines:
        out["ref_brier_climatology_month"] = float(s.loc["climatology_month", "brier_any"])
        out["ref_mae_same_day_last_week"] = float(s.loc["same_day_last_week", "mae"])
        out["weather_free_auc_any"] = float(s.loc["weather_free_model", "auc_any"])
    out["spec_structure"] = {k: _jsonable(v) for k, v in extra.items()}
    out["lead_bands_used"] = r.meta.get("lead_bands")
    return out


def _jsonable(v):
    if isinstance(v, (tuple, list)):
        return [_jsonable(x) for x in v]
    return v


def selection_runs() -> list[tuple[str, dict, str, str | None]]:
    """(name, model settings, structure, patch) of stage ``select``; the first row with
    FAST th1 carries the baselines."""
    runs = [
        ("OLD cycled 1-7", OLD, "cycled", None),
        ("OLD D+1 rows", OLD, "th1", None),
        ("FAST cycled 1-7", FAST, "cycled", None),
        ("FAST D+1 rows", FAST, "th1", None),
        ("FAST35 D+1 rows", FAST35, "th1", None),
        ("FAST40 D+1 rows", FAST40, "th1", None),
        ("FAST D+1 rows, max_leaf_nodes 6", {**FAST, "max_leaf_nodes": 6}, "th1", None),
    ]
    for p in (
        {"max_bins": 31},
        {"max_leaf_nodes": 4},
        {"max_leaf_nodes": 16},
        {"min_samples_leaf": 12},
        {"min_samples_leaf": 50},
        {"l2_regularization": 5.0},
        {"half_life_days": 730.0},
        {"half_life_days": 1825.0},
        {"half_life_days": None},
        {"max_iter": 200, "learning_rate": 0.035},
        {"monotonic": True},
        {"n_mu_bins": 1},
        {"n_mu_bins": 5},
    ):
        name = "FAST D+1, " + ", ".join(f"{k}={v}" for k, v in p.items())
        runs.append((name, {**FAST, **p}, "th1", None))
    for patch in PATCHES:
        runs.append((f"FAST D+1, {patch}", FAST, "th1", patch))
    return runs


BASELINE_RUN = "FAST D+1 rows"


def evaluation_runs() -> list[tuple[str, str, dict, str, bool]]:
    out = []
    for period in ("evaluation", "split", "full"):
        out += [
            ("OLD cycled 1-7", period, OLD, "cycled", True),
            ("FAST cycled 1-7", period, FAST, "cycled", False),
            ("FAST D+1 rows", period, FAST, "th1", False),
            ("FAST35 D+1 rows", period, FAST35, "th1", False),
        ]
    return out


def timing(arrivals, weather) -> list[dict]:
    """Median of 5 fits of CrossingModel on the training rows up to 2025-06-30."""
    end = "2025-06-30"
    wtab = F.weather_table("knmi", weather)
    ts = tide_sky_table(TRAIN_START, end)
    X, y, boats = training_rows(
        arrivals, TRAIN_START, end, "knmi", wtab, ts if not ts.empty else None, range(1, 8)
    )
    out = []
    for name, params in (
        ("OLD", OLD),
        ("FAST", FAST),
        ("FAST35", FAST35),
        ("FAST, max_bins=31", {**FAST, "max_bins": 31}),
    ):
        wall, cpu = [], []
        for _ in range(5):
            t, c = time.perf_counter(), time.process_time()
            M.CrossingModel(weather_source="knmi", **params).fit(X, y, boats=boats)
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        out.append(
            {
                "name": name,
                "model_params": params,
                "n_rows": len(y),
                "n_features": X.shape[1],
                "wall_seconds": [round(v, 3) for v in wall],
                "cpu_seconds": [round(v, 3) for v in cpu],
                "median_wall_seconds": round(statistics.median(wall), 3),
                "median_cpu_seconds": round(statistics.median(cpu), 3),
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


# ---------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------

HEAD = (
    "| variant | AUC any | Brier any | BSS vs clim. | AUC > 300 | MAE mean / median | "
    "MAE skill vs last week (mean / median) | CRPS | 80 % cov. | s |"
)


def _row(r: dict, ref_b: float, ref_m: float) -> str:
    return (
        f"| {r['name']} | {r['auc_any']:.3f} | {r['brier_any']:.4f} | "
        f"{1 - r['brier_any'] / ref_b:.3f} | {r['auc_gt_300']:.3f} | "
        f"{r['mae']:.1f} / {r['mae_median']:.1f} | "
        f"{1 - r['mae'] / ref_m:.1%} / {1 - r['mae_median'] / ref_m:.1%} | "
        f"{r['crps']:.1f} | {r['coverage_80']:.3f} | {r['seconds']:.0f} |"
    )


def tables() -> str:
    lines = []
    for stage in ("select", "evaluate"):
        f = HERE / f"results_{stage}.json"
        if not f.exists():
            continue
        doc = json.loads(f.read_text())
        runs = doc["runs"]
        for period in dict.fromkeys(r["period"] for r in runs):
            rs = [r for r in runs if r["period"] == period]
            base = next(r for r in rs if "ref_mae_same_day_last_week" in r)
            ref_b, ref_m = base["ref_brier_climatology_month"], base["ref_mae_same_day_last_week"]
            lines += [
                f"\n### {stage}: {period} (n = {base['n']} days, D+1)\n",
                f"References (run '{base['name']}'): Brier of monthly climatology "
                f"{ref_b:.4f}, MAE of same day last week {ref_m:.1f}; weather-free model AUC "
                f"{base['weather_free_auc_any']:.3f}.\n",
                HEAD,
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
            lines += [_row(r, ref_b, ref_m) for r in rs]
    f = HERE / "results_timing.json"
    if f.exists():
        doc = json.loads(f.read_text())
        t0 = doc["fits"][0]
        lines += [
            f"\n### timing: one fit, {t0['n_rows']} training rows x {t0['n_features']} "
            "features (to 2025-06-30, horizons 1-7), median of 5\n",
            "| settings | wall [s] | process [s] | vs OLD (wall) |",
            "|---|---|---|---|",
        ]
        for t in doc["fits"]:
            lines.append(
                f"| {t['name']} | {t['median_wall_seconds']:.3f} | "
                f"{t['median_cpu_seconds']:.3f} | "
                f"{t['median_wall_seconds'] / t0['median_wall_seconds']:.2f} |"
            )
    return "\n".join(lines)


def main(stage: str) -> None:
    if stage == "table":
        print(tables())
        return
    arrivals = load_arrivals()
    weather = load_knmi(KNMI_FILE)
    results = {
        "stage": stage,
        "weather_input": WEATHER_LABEL,
        "git_sha": git_sha(),
        "data_sha256": data_hashes([snapshot_dir() / "arrivals.csv", KNMI_FILE]),
        "backtest_spec_has_lead_bands": HAS_LEAD_BANDS,
        "structure_cycled": {k: _jsonable(v) for k, v in structure("cycled").items()},
        "structure_d1_rows": {k: _jsonable(v) for k, v in structure("th1").items()},
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": [],
    }

    def record(res: dict) -> None:
        results["runs"].append(res)
        print(json.dumps(res), flush=True)

    if stage == "select":
        for name, params, kind, patch in selection_runs():
            res = score(arrivals, weather, "selection", params, kind, patch, name == BASELINE_RUN)
            record(dict(res, name=name, period="selection", model_params=params, patch=patch))
    elif stage == "evaluate":
        for name, period, params, kind, baselines in evaluation_runs():
            res = score(arrivals, weather, period, params, kind, None, baselines)
            record(dict(res, name=name, period=period, model_params=params, patch=None))
    elif stage == "timing":
        results["fits"] = timing(arrivals, weather)
    else:
        raise SystemExit(f"unknown stage {stage!r}; use select, evaluate, timing or table.")
    results["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    (HERE / f"results_{stage}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
