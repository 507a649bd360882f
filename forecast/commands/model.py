"""``forecast model fit|show``: train and save the crossing model, show what it was trained on."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from forecast.commands import COMMANDS
from forecast.commands.options import day_type
from forecast.errors import ConfigError
from forecast.features import build as F
from forecast.model.crossing import LeadBandModel
from forecast.model.pipeline import TRAIN_START, fit_default_model, saved_model_path, tide_sky_table
from forecast.sources.knmi import load_knmi
from forecast.stores.arrivals import load_arrivals

#: Days of training data after ``TRAIN_START`` a fitted model needs at least [days].
MIN_TRAINING_DAYS = 365


def default_path(weather_source: str) -> Path:
    """Where ``forecast model fit`` saves a model by default (git-ignored data folder).

    ``forecast.model.pipeline.forecast_days`` reuses the model saved there (see
    ``forecast.model.pipeline.saved_model``).
    """
    return saved_model_path(weather_source)


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "model",
        help=COMMANDS["model"],
        description=(
            "fit: train the two-part crossing model (one for the next day, one for days 2-7) on "
            "every day known at --origin (default: the last day with arrivals and weather) and "
            "save both in one skops file. show: print a saved "
            "model's weather source, training range, features and code version."
        ),
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    f = sub.add_parser("fit", help="train and save a model", description="Train and save a model.")
    f.add_argument("--weather-source", choices=("knmi", "none"), default="knmi")
    f.add_argument(
        "--knmi-file",
        action="append",
        type=Path,
        default=None,
        metavar="PATH",
        help="KNMI daily (etmgeg) file of one station; give it once per station, the first "
        "is the primary (default: the bundled 310 Vlissingen, coastal, and 340 Woensdrecht, "
        "inland)",
    )
    f.add_argument(
        "--origin",
        type=day_type(),
        default=None,
        help="last training day, YYYY-MM-DD inside the data (default: last day with data)",
    )
    f.add_argument(
        "--out",
        default=None,
        help="model file (default: DATA_DIR/models/crossing_model_<source>.skops, git-ignored)",
    )
    f.add_argument("--format", choices=("table", "csv", "json"), default="table")
    f.set_defaults(func=run_fit)
    s = sub.add_parser("show", help="show a saved model", description="Show a saved model.")
    s.add_argument(
        "path", nargs="?", default=None, help="model file (default: the knmi default path)"
    )
    s.add_argument("--format", choices=("table", "csv", "json"), default="table")
    s.set_defaults(func=run_show)
    return p


def _print_info(info: dict, fmt: str, path: Path) -> None:
    info = {"path": str(path), **info}
    if fmt == "json":
        json.dump(info, sys.stdout, indent=1, default=str)
        print()
        return
    rows = [
        (k, ", ".join(v) if k in ("features", "dropped_features") else v)
        for k, v in info.items()
        if k != "params"
    ]
    if fmt == "csv":
        pd.DataFrame(rows, columns=["field", "value"]).to_csv(sys.stdout, index=False)
        return
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def run_fit(args) -> int:
    arrivals = load_arrivals()
    weather = None
    if args.weather_source == "knmi":
        weather = load_knmi(args.knmi_file)
    wtab = F.weather_table(args.weather_source, weather)
    last = arrivals.index[-1]
    if wtab is not None:
        last = min(last, wtab.dropna(subset=["wind_speed_10m_mean"]).index.max())
    first = TRAIN_START + pd.Timedelta(days=MIN_TRAINING_DAYS)
    origin = args.origin if args.origin is not None else last
    if not first <= origin <= last:
        raise ConfigError(
            f"--origin {origin.date()} is outside the data: training needs a year of days "
            f"from {TRAIN_START.date()} and arrivals with {args.weather_source} weather up to "
            f"the origin, so give --origin between {first.date()} and {last.date()}"
        )
    ts = tide_sky_table(TRAIN_START, max(origin, arrivals.index[-1]))
    model = fit_default_model(
        args.weather_source, origin, arrivals, wtab, ts if not ts.empty else None
    )
    path = model.save(args.out or default_path(args.weather_source))
    _print_info(model.info(), args.format, path)
    return 0


def run_show(args) -> int:
    path = Path(args.path) if args.path else default_path("knmi")
    model = LeadBandModel.load(path)
    _print_info(model.info(), args.format, path)
    return 0
