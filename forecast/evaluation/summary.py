"""What a backtest reports: the span scored, skill by lead time, the targets by lead.

Used by ``forecast backtest`` and by the experiments, so that the command stays a thin
layer (parse, call, print) and the experiments report the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.evaluation.backtest import (
    MODEL_NAME,
    WEATHER_FREE_NAME,
    BacktestResult,
    json_default,
    json_scores,
)

#: Score columns of the backtest table and CSV.
SCORE_COLUMNS = (
    "n",
    "auc_any",
    "brier_any",
    "auc_gt_300",
    "brier_gt_300",
    "mae",
    "mae_median",
    "crps",
    "wis",
    "coverage_50",
    "coverage_80",
    "coverage_95",
    "coverage_80_crossing_days",
    "coverage_80_pit",
    "share_above_q90",
    "reliability_slope_gt_300",
    "mae_skill_vs_zero",
    "mae_skill_vs_best_rule",
)

#: Keys of each lead in ``headline_by_lead`` (the products read these).
BY_LEAD_KEYS = (
    "auc_any",
    "bss_any_vs_climatology_month",
    "crps",
    "coverage_80",
    "reliability_slope_any",
    "mae",
)

#: Targets of issue 11 on the rolling period, at every lead 1-7.
COVERAGE_80_TARGET = (0.75, 0.85)
RELIABILITY_SLOPE_TARGET = (0.85, 1.15)
TARGET_LEADS = tuple(range(1, 8))

#: Lead [d] up to which published 10 m wind forecasts beat climatology (the MSE skill
#: crosses zero at day 9: docs/forecast-error.md, "Up to which lead do wind forecasts
#: beat climatology?"); the model should beat the weather-free model up to it.
WIND_SKILL_HORIZON_DAYS = 9


def data_end(arrivals: pd.DataFrame, weather_source: str, weather) -> tuple[pd.Timestamp, str]:
    """The last day the backtest can score and what limits it (arrivals or weather)."""
    last, what = arrivals.index[-1], f"the arrivals (to {arrivals.index[-1].date()})"
    if weather_source == "knmi":
        w = weather.dropna(subset=["wind_speed_10m_mean"]).index.max()
        if w < last:
            last, what = w, f"the KNMI weather (to {w.date()})"
    elif weather_source == "openmeteo":
        wind = weather["wind_speed_10m"].notnull().any(dim="site").values
        times = pd.DatetimeIndex(weather["time"].values)[wind]
        w = times.max().normalize() - pd.Timedelta(days=1) if len(times) else arrivals.index[0]
        if w < last:
            last, what = w, f"the cached Open-Meteo weather (to {w.date()})"
    return last, what


def check_span(end: pd.Timestamp, weather_source: str, arrivals: pd.DataFrame, weather) -> None:
    """Refuse an ``--end`` the data do not reach (rather than silently cut the span)."""
    last, what = data_end(arrivals, weather_source, weather)
    if end > last:
        raise ConfigError(
            f"--end {end.date()} is after the last day with data, {last.date()} "
            f"(limited by {what}); give --end {last.date()} or earlier, or get more data"
        )


def scored_span(preds: pd.DataFrame, horizons) -> dict:
    """Per asked lead time: the first and last day actually scored and how many days.

    A lead time with nothing scored (e.g. every origin before ``--train-end``) has
    ``days`` 0 and ``first``/``last`` None, so no report claims a span it did not score.
    """
    model = preds[preds["forecaster"] == MODEL_NAME] if "forecaster" in preds else preds
    out = {}
    for h in sorted(set(horizons)):
        d = pd.DatetimeIndex(model.loc[model["horizon"] == h, "date"])
        out[f"D+{h}"] = {
            "first": str(d.min().date()) if len(d) else None,
            "last": str(d.max().date()) if len(d) else None,
            "days": int(d.nunique()),
        }
    return out


def headline_by_lead(res: BacktestResult, leads: Sequence[int] | None = None) -> dict:
    """``{"1": {...}, "2": {...}}``: the model's headline scores at each lead [d].

    Each lead holds :data:`BY_LEAD_KEYS` (AUC of P(any), Brier skill against the
    monthly climatology, CRPS [people], 80 % coverage, reliability slope of P(any),
    MAE [people]) plus ``coverage_80_pit`` (the randomised PIT's share in [0.1, 0.9]:
    0.80 when calibrated), ``reliability_slope_gt_300``, ``auc_gt_300``, ``n``,
    ``crps_weather_free`` [people] and ``bss_any_weather_free`` (the weather-free
    model's, same days) when it was scored.
    """
    leads = leads or sorted(int(h) for h in res.meta["spec"]["horizons"])
    s = res.scores
    out = {}
    for k in leads:
        hl = res.headline(int(k))
        if not hl:
            continue
        row = {key: hl.get(key) for key in BY_LEAD_KEYS}
        for key in ("coverage_80_pit", "reliability_slope_gt_300", "auc_gt_300", "n"):
            if key in hl:
                row[key] = hl[key]
        wf = s[(s.forecaster == WEATHER_FREE_NAME) & (s.group == f"h{k}")]
        clim = s[(s.forecaster == "climatology_month") & (s.group == f"h{k}")]
        if not wf.empty:
            row["crps_weather_free"] = json_default(wf["crps"].iloc[0])
            if not clim.empty:
                row["bss_any_weather_free"] = json_default(
                    1 - wf["brier_any"].iloc[0] / clim["brier_any"].iloc[0]
                )
        out[str(int(k))] = row
    return out


def _inside(v, lo_hi) -> bool:
    return v is not None and np.isfinite(v) and lo_hi[0] <= v <= lo_hi[1]


def lead_targets(by_lead: dict, target_leads: Sequence[int] = TARGET_LEADS) -> dict:
    """Which of issue 11's targets a run meets, lead by lead (from :func:`headline_by_lead`).

    - ``coverage_80`` in 0.75-0.85 and ``reliability_slope_any`` in 0.85-1.15 at every
      lead of ``target_leads`` (1-7) that was scored;
    - ``beats_weather_free``: lower CRPS than the weather-free model at each lead up to
      :data:`WIND_SKILL_HORIZON_DAYS`;
    - ``skill_falls_with_lead``: the Brier skill against the monthly climatology does
      not rise by more than 0.02 from one scored lead to the next.

    Each entry lists the leads ``met`` and ``not_met`` (and ``met_all``).
    """
    leads = sorted(int(k) for k in by_lead)
    out: dict = {}
    for key, rng in (
        ("coverage_80", COVERAGE_80_TARGET),
        ("reliability_slope_any", RELIABILITY_SLOPE_TARGET),
    ):
        scored = [k for k in leads if k in target_leads]
        met = [k for k in scored if _inside(by_lead[str(k)].get(key), rng)]
        out[key] = {
            "target": list(rng),
            "leads": scored,
            "met": met,
            "not_met": [k for k in scored if k not in met],
        }
    scored = [
        k
        for k in leads
        if k <= WIND_SKILL_HORIZON_DAYS and by_lead[str(k)].get("crps_weather_free") is not None
    ]
    met = [
        k
        for k in scored
        if (by_lead[str(k)].get("crps") or np.inf) < by_lead[str(k)]["crps_weather_free"]
    ]
    out["beats_weather_free"] = {
        "target": f"CRPS below the weather-free model's up to lead {WIND_SKILL_HORIZON_DAYS}",
        "leads": scored,
        "met": met,
        "not_met": [k for k in scored if k not in met],
    }
    bss = [by_lead[str(k)].get("bss_any_vs_climatology_month") for k in leads]
    rises = [
        leads[i + 1]
        for i in range(len(leads) - 1)
        if bss[i] is not None and bss[i + 1] is not None and bss[i + 1] > bss[i] + 0.02
    ]
    out["skill_falls_with_lead"] = {
        "target": "Brier skill vs monthly climatology never rises by more than 0.02 to the next lead",
        "rises_at": rises,
        "met": not rises,
    }
    for v in out.values():
        if "not_met" in v:
            v["met_all"] = not v["not_met"] and bool(v["leads"])
    return out


def json_document(res: BacktestResult, horizons: Sequence[int], train_end: str | None) -> dict:
    """The ``--format json`` document of one run (``scores.<forecaster>.<group>``,
    ``headline_by_lead``, ``targets``)."""
    by_lead = headline_by_lead(res, horizons)
    return {
        "weather_source": res.meta["weather_source"],
        "weather_label": res.meta["weather_label"],
        "weather_error": res.meta.get("weather_error"),
        "evaluated": res.meta["evaluated"],
        "train_end": train_end,
        "scored": scored_span(res.predictions, horizons),
        "horizons": list(horizons),
        "lead_bands": res.meta["lead_bands"],
        "headline": res.headline(min(horizons)),
        "headline_by_lead": by_lead,
        "targets": lead_targets(by_lead),
        "scores": json_scores(res.scores),
        "git_sha": res.meta["git_sha"],
        "data_sha256": res.meta["data_sha256"],
    }


def print_table(res: BacktestResult, horizons: Sequence[int]) -> None:
    """The ``--format table`` report: header (with the weather label), spans, scores."""
    scores = res.scores
    cols = ["forecaster", "group", *[c for c in SCORE_COLUMNS if c in scores.columns]]
    table = scores[scores.group.isin([f"h{x}" for x in horizons])][cols]
    print(
        f"Backtest {res.meta['evaluated'][0]}..{res.meta['evaluated'][1]}, weather: "
        f"{res.meta['weather_label']}, models for lead bands {res.meta['lead_bands']}"
    )
    for h_, span in scored_span(res.predictions, horizons).items():
        print(
            f"  scored at {h_}: {span['first']}..{span['last']}, {span['days']} days"
            if span["days"]
            else f"  scored at {h_}: nothing (no origin in the span after the training days)"
        )
    print(
        table.to_string(
            index=False, float_format=lambda v: f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
        )
    )
    h = min(horizons)
    hl = res.headline(h)
    if hl:
        print(
            f"\nmodel at D+{h}: Brier skill vs monthly climatology "
            f"{hl.get('bss_any_vs_climatology_month', float('nan')):.3f}, "
            f"MAE skill vs same day last week {hl.get('mae_skill_vs_last_week', float('nan')):.3f}"
        )
    if res.meta.get("weather_error"):
        t = lead_targets(headline_by_lead(res, horizons))
        print(
            "targets (simulated forecast error), leads met / not met: "
            + "; ".join(f"{k} {v['met']} / {v['not_met']}" for k, v in t.items() if "not_met" in v)
        )
