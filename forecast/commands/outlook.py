"""``forecast outlook``: the weekly outlook for planners (parsing and printing only)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.commands import COMMANDS
from forecast.commands.options import (
    FIRST_DAY,
    FORMATS,
    LAST_DAY,
    add_ensemble_options,
    add_now_option,
    parse_date,
    parse_now,
    parse_thresholds,
)
from forecast.errors import ConfigError
from forecast.products import assemble
from forecast.products import outlook as ol
from forecast.products import predictor as pr
from forecast.products import scenarios as sc
from forecast.sources.knmi import load_knmi
from forecast.stores.arrivals import load_arrivals


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "outlook",
        help=COMMANDS["outlook"],
        description=(
            "For each of the next 7 days (up to 16 where the weather forecast reaches, marked "
            "lower confidence): red/amber/green with P(any crossing), expected people with an "
            "80 % range, P(more than N people), expected boats and the main drivers in words; "
            "the week's total with its range, year to date and year-end scenario bands, and what "
            "changed since the previous outlook. Works offline: without a cached weather "
            "forecast it gives a clearly labelled weather-free outlook. --as-of replays a past "
            "date with the bundled KNMI observed weather, next to what happened. --scenario "
            "YEAR:WEATHER_YEAR shows a past period under another year's weather."
        ),
    )
    p.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default table)"
    )
    p.add_argument(
        "--thresholds",
        default=None,
        help="busy-day thresholds [people], comma separated (default 300,500)",
    )
    p.add_argument(
        "--weather",
        type=Path,
        default=None,
        metavar="FILE",
        help="weather forecast file (Open-Meteo JSON or NetCDF) instead of the cache",
    )
    p.add_argument(
        "--no-weather",
        action="store_true",
        help="weather-free outlook even if a forecast is cached",
    )
    p.add_argument(
        "--as-of",
        default=None,
        metavar="DATE",
        help="replay the outlook as issued on DATE (YYYY-MM-DD) with data known then",
    )
    p.add_argument(
        "--scenario",
        default=None,
        metavar="YEAR:WEATHER_YEAR",
        help="weather attribution: e.g. 2024:2023 models 2024 with 2023's weather",
    )
    p.add_argument(
        "--no-scenarios", action="store_true", help="skip the year-end scenario bands (faster)"
    )
    p.add_argument(
        "--knmi-file",
        action="append",
        type=Path,
        default=None,
        metavar="PATH",
        help="KNMI daily (etmgeg) file of one station for replays, scenarios and KNMI models; "
        "once per station, the first is the primary (default: the bundled 310 Vlissingen "
        "and 340 Woensdrecht)",
    )
    add_ensemble_options(p)
    add_now_option(p)
    p.add_argument(
        "--no-save",
        action="store_true",
        help="do not keep this outlook under DATA_DIR/outlooks (used for 'what changed')",
    )
    p.set_defaults(func=run)


def check_conflicts(args: argparse.Namespace) -> None:
    """Refuse options that contradict each other (rather than silently ignore one)."""
    if args.no_weather and args.weather is not None:
        raise ConfigError(
            f"--no-weather and --weather {args.weather} contradict each other: give one "
            "(--weather FILE for a weather-driven outlook, --no-weather for a weather-free one)"
        )
    if args.scenario and (args.ensemble not in ("auto", "none") or args.members is not None):
        raise ConfigError(
            f"--scenario {args.scenario} runs on observed past weather; --ensemble "
            f"{args.ensemble} / --members would be ignored: drop them"
        )
    if args.as_of and args.scenario:
        raise ConfigError(
            f"--as-of {args.as_of} and --scenario {args.scenario} are two different runs: a "
            "replay of one issue day, or a past year under another year's weather; give one"
        )
    for name, given in (("--weather", args.weather is not None), ("--no-weather", args.no_weather)):
        if given and (args.as_of or args.scenario):
            other = f"--as-of {args.as_of}" if args.as_of else f"--scenario {args.scenario}"
            raise ConfigError(
                f"{other} uses the bundled observed KNMI weather, so {name} would be ignored; "
                f"drop {name} (or drop {other.split()[0]} for a live outlook)"
            )


def parse_scenario(text: str) -> tuple[int, int]:
    """``YEAR:WEATHER_YEAR`` -> two years in the span of the date options."""
    try:
        year_s, wyear_s = str(text).split(":")
        year, wyear = int(year_s), int(wyear_s)
    except ValueError:
        raise ConfigError(
            f"--scenario {text!r}: expected YEAR:WEATHER_YEAR, e.g. 2024:2023"
        ) from None
    for y in (year, wyear):
        if not FIRST_DAY.year <= y <= LAST_DAY.year:
            raise ConfigError(
                f"--scenario {text!r}: year {y} is outside {FIRST_DAY.year} .. {LAST_DAY.year}"
            )
    return year, wyear


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    check_conflicts(args)
    thresholds = parse_thresholds(args.thresholds)
    if args.scenario:
        return run_scenario(args, thresholds)
    as_of = parse_date(args.as_of, "--as-of") if args.as_of else None
    outlook, _ = assemble.make_outlook(
        now_utc=parse_now(args.now),
        as_of=as_of,
        thresholds=thresholds,
        weather_file=args.weather,
        no_weather=args.no_weather,
        scenarios=not args.no_scenarios,
        knmi_files=args.knmi_file,
        ensemble=args.ensemble,
        n_members=args.members,
    )
    if as_of is None and not args.no_save:
        outlook["saved_to"] = str(ol.save_outlook(outlook))
    assemble.write_latest(outlook)
    if args.format == "json":
        print(ol.to_json(outlook))
    elif args.format == "csv":
        sys.stdout.write(ol.to_csv(outlook))
    else:
        print(ol.format_table(outlook))
        print(
            f"\n(outlook made in {time.perf_counter() - t0:.1f} s; 'forecast report' draws the page)"
        )
    return 0


def run_scenario(args: argparse.Namespace, thresholds: tuple[int, ...]) -> int:
    year, wyear = parse_scenario(args.scenario)
    knmi = load_knmi(args.knmi_file)
    try:
        result = sc.weather_swap(
            year,
            wyear,
            load_arrivals(),
            knmi,
            predict=pr.default_predictor(knmi=knmi),
            thresholds=thresholds,
        )
    except ConfigError as exc:
        raise ConfigError(f"--scenario {args.scenario}: {exc}") from exc
    if args.format == "json":
        print(json.dumps(ol.clean(result), indent=1))
    elif args.format == "csv":
        rows = []
        for key in ("own_weather", "other_weather"):
            rows.append({"run": key, **result[key]})
        rows.append(
            {
                "run": "actual",
                "weather_year": year,
                "expected": result["actual"],
                "red_days": np.nan,
            }
        )
        sys.stdout.write(pd.DataFrame(rows).to_csv(index=False, lineterminator="\n"))
    else:
        print(sc.format_swap(result))
    return 0
