"""``forecast backtest``: rolling-origin or explicit-split evaluation on real data."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from forecast import config
from forecast.commands import COMMANDS
from forecast.commands.options import (
    KNMI_FILE_HELP,
    MAX_LEAD_DAYS,
    MAX_PEOPLE,
    day_type,
    int_list,
    number_type,
)
from forecast.errors import ConfigError
from forecast.evaluation import backtest as B
from forecast.evaluation import summary as S
from forecast.evaluation.forecast_weather import ERROR_MODES, TRAIN_WEATHER
from forecast.evaluation.summary import SCORE_COLUMNS
from forecast.sources.knmi import load_knmi
from forecast.stores import weather as W
from forecast.stores.arrivals import load_arrivals


def _horizons(text: str) -> list[int]:
    """``1``, ``1,3,7`` or ``1-7`` -> lead times [days] within 1..MAX_LEAD_DAYS."""
    return int_list(text, 1, MAX_LEAD_DAYS, "horizons")


def _lead_bands(text: str):
    """``1/2-7`` -> ((1,), (2, ..., 7)); ``pooled`` -> None (one model for every lead)."""
    if text.strip().lower() == "pooled":
        return None
    try:
        bands = tuple(tuple(_horizons(part)) for part in text.split("/"))
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(
            f"--lead-bands {text!r}: give bands separated by '/', each a number, list or range of lead "
            f"times in 1..{MAX_LEAD_DAYS} (e.g. 1/2-7), or 'pooled' for one model for every "
            "lead time"
        ) from exc
    return bands


def _thresholds(text: str) -> list[int]:
    """``300,500`` -> whole numbers of people within 0..MAX_PEOPLE."""
    parse = number_type(int, 0, MAX_PEOPLE, unit="people")
    out = [parse(x) for x in text.split(",") if x.strip()]
    if not out:
        raise argparse.ArgumentTypeError(f"{text!r}: give whole numbers like 300,500")
    return out


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "backtest",
        help=COMMANDS["backtest"],
        description=(
            "Rolling-origin backtest (refits every --refit-every days) or, with --train-end, an "
            "explicit train/evaluate split. Scores the model, the weather-free model and every "
            "baseline the same way (MAE, CRPS, WIS, coverage, Brier, ROC AUC). Offline it runs on "
            "the arrivals snapshot with the bundled KNMI observations (an observed regional "
            "proxy: perfect prognosis) or weather-free."
        ),
    )
    p.add_argument("--weather-source", choices=("knmi", "openmeteo", "none"), default="knmi")
    p.add_argument("--knmi-file", action="append", type=Path, metavar="PATH", help=KNMI_FILE_HELP)
    p.add_argument(
        "--weather-kind",
        choices=("archive", "historical_forecast"),
        default="historical_forecast",
        help="Open-Meteo cache to read with --weather-source openmeteo (archive = reanalysis, optimistic)",
    )
    p.add_argument(
        "--start", type=day_type(), default="2020-01-01", help="first evaluated day (YYYY-MM-DD)"
    )
    p.add_argument(
        "--end",
        type=day_type(),
        default="2025-06-30",
        help="last evaluated day (YYYY-MM-DD); refused if the data end earlier",
    )
    p.add_argument(
        "--train-end",
        type=day_type(),
        default=None,
        help="explicit split: train on days up to this date, no refits",
    )
    p.add_argument(
        "--horizon",
        type=_horizons,
        default=[1],
        help=f"lead times in days, 1..{MAX_LEAD_DAYS}: 1, 1,3,7 or 1-7",
    )
    p.add_argument(
        "--lead-bands",
        type=_lead_bands,
        default=argparse.SUPPRESS,  # not given: BacktestSpec's default bands
        help="one model per band of lead times, e.g. 1/2-7 (the default: D+1 alone, D+2..7 "
        "together), or 'pooled' for one model trained on rows cycling through 1-7",
    )
    p.add_argument(
        "--refit-every",
        type=number_type(int, 1, 3650, unit="days"),
        default=7,
        help="days between refits (rolling mode)",
    )
    p.add_argument("--window", choices=("expanding", "sliding"), default="expanding")
    p.add_argument(
        "--window-days",
        type=number_type(int, 28, 36500, unit="days"),
        default=3 * 365,
        help="sliding window length [days]",
    )
    p.add_argument(
        "--thresholds",
        type=_thresholds,
        default=list(config.BUSY_THRESHOLDS),
        help="busy-day thresholds [people], e.g. 300,500",
    )
    p.add_argument("--no-baselines", action="store_true", help="score the model only")
    p.add_argument(
        "--recalibrate-every",
        type=number_type(int, 1, 1000),
        default=8,
        help="recompute the out-of-fold calibration at every n-th refit (default 8; "
        "make bench and experiment 001 use 12: every 84 days with weekly refits)",
    )
    p.add_argument(
        "--jobs",
        type=number_type(int, 1, 64),
        default=1,
        help="worker processes for the refits (default 1; results do not depend on it)",
    )
    p.add_argument(
        "--weather-error",
        choices=ERROR_MODES,
        default="none",
        help="'published': days after each origin get simulated forecasts (published error "
        "sizes, docs/forecast-error.md) instead of the observed KNMI weather; every output "
        "says 'simulated forecast error'",
    )
    p.add_argument(
        "--seed",
        type=number_type(int, 0, 2**31 - 1),
        default=0,
        help="seed of the simulated forecasts",
    )
    p.add_argument(
        "--error-draws",
        type=number_type(int, 1, 20),
        default=1,
        help="simulated forecasts per training day (with --weather-error)",
    )
    p.add_argument(
        "--train-weather",
        choices=TRAIN_WEATHER,
        default=None,
        help="weather of the training rows with --weather-error: simulated forecasts at "
        "their lead (default) or observed (the default, and the only choice, with "
        "--dressed-members)",
    )
    p.add_argument(
        "--ensemble-members",
        type=number_type(int, 0, 100),
        default=0,
        help="test on a simulated ensemble of N members, scored as the mixture (with --weather-error)",
    )
    p.add_argument(
        "--dressed-members",
        type=number_type(int, 0, 100),
        default=0,
        help="dress the one simulated forecast with its error into N members, scored as the "
        "mixture, the model trained on observed weather (the outlook without a cached "
        "ensemble; with --weather-error)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the refits through joblib on dask: 'local' (a LocalCluster of --jobs workers) "
        "or a scheduler address such as tcp://127.0.0.1:8786 (default: --jobs processes)",
    )
    p.add_argument(
        "--out", default=None, help="folder for scores.csv, skill.csv, results.json and figures"
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=run)
    return p


def load_inputs(args):
    arrivals = load_arrivals()
    weather, label = None, None
    if args.weather_source == "knmi":
        weather = load_knmi(args.knmi_file)
    elif args.weather_source == "openmeteo":
        start = pd.Timestamp("2018-01-01").date()
        weather = W.load_hourly(start, args.end.date(), kind=args.weather_kind)
        label = "reanalysis" if args.weather_kind == "archive" else "historical_forecast"
    elif args.knmi_file:
        raise ConfigError("--knmi-file needs --weather-source knmi.")
    return arrivals, weather, label


def run(args) -> int:
    iso = {
        k: (None if v is None else str(v.date()))
        for k, v in (("start", args.start), ("end", args.end), ("train_end", args.train_end))
    }
    spec = B.BacktestSpec(
        start=iso["start"],
        end=iso["end"],
        horizons=tuple(args.horizon),
        refit_every=args.refit_every,
        window=args.window,
        window_days=args.window_days,
        train_end=iso["train_end"],
        thresholds=tuple(args.thresholds),
        baselines=not args.no_baselines,
        recalibrate_every=args.recalibrate_every,
        n_jobs=args.jobs,
        weather_error=args.weather_error,
        error_seed=args.seed,
        error_draws=args.error_draws,
        train_weather=args.train_weather,
        ensemble_members=args.ensemble_members,
        dressed_members=args.dressed_members,
        scheduler=args.scheduler,
        **({"lead_bands": args.lead_bands} if "lead_bands" in vars(args) else {}),
    )
    spec.validate()
    arrivals, weather, label = load_inputs(args)
    S.check_span(args.end, args.weather_source, arrivals, weather)
    res = B.run_backtest(
        arrivals,
        args.weather_source,
        weather,
        spec,
        weather_label=B.WEATHER_LABELS.get(label) if label else None,
    )
    if args.out:
        B.write_outputs([res], args.out)
    if args.format == "json":
        json.dump(
            S.json_document(res, args.horizon, iso["train_end"]),
            sys.stdout,
            indent=1,
            default=B.json_default,
        )
        print()
    elif args.format == "csv":
        cols = ["forecaster", "group", *[c for c in SCORE_COLUMNS if c in res.scores.columns]]
        res.scores[cols].to_csv(sys.stdout, index=False, float_format="%.4g")
    else:
        S.print_table(res, args.horizon)
    return 0
