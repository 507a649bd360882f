"""``forecast weather``: fetch Open-Meteo marine weather into the cache, show what is cached."""

from __future__ import annotations

import argparse
import json
import math
import sys

import pandas as pd

from forecast.commands import COMMANDS
from forecast.commands.options import LAST_DAY, WEATHER_FIRST_DAY, day_type, number_type
from forecast.errors import ConfigError
from forecast.sources import ensemble as ens_source
from forecast.sources import openmeteo as om
from forecast.sources.sites import parse_sites
from forecast.stores import ensemble as ensemble_store
from forecast.stores import weather

_KINDS = ("archive", "marine", "forecast", "historical-forecast", "ensemble")
#: Days accepted by ``weather update --start/--end`` (Open-Meteo's archive starts 1940).
WEATHER_DAY = day_type(WEATHER_FIRST_DAY, LAST_DAY)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "weather",
        help=COMMANDS["weather"],
        description=(
            "Hourly wind, gusts, waves, precipitation, temperature, pressure and visibility "
            "at offshore points of the Dover Strait from Open-Meteo (CC BY 4.0; ERA5 / "
            "Copernicus, DWD, Meteo-France and other model providers), cached on disk "
            "under <data>/cache/openmeteo/. 'update' needs the internet; everything else "
            "works offline."
        ),
    )
    sub = parser.add_subparsers(dest="weather_command", metavar="ACTION")

    up = sub.add_parser(
        "update",
        help="fetch the missing hours into the cache",
        description=(
            "Fetch only what the cache lacks: history kinds ask for the missing days "
            "(chunked by year, one request at a time); 'forecast' stores a new forecast "
            "run (forecast API + marine forecast); 'ensemble' stores the latest run of "
            "every member of an ensemble forecast (Open-Meteo Ensemble API, default model "
            "ecmwf_ifs025_ensemble, up to 15 days; --model to choose another), which the "
            "outlook then uses (--ensemble auto). Endpoints can be redirected with "
            "--base-url or the env vars FORECAST_OPENMETEO_{ARCHIVE,MARINE,FORECAST,"
            "HISTORICAL_FORECAST,ENSEMBLE}_URL."
        ),
    )
    up.add_argument("--kind", choices=_KINDS, default="archive", help="source (default archive)")
    up.add_argument(
        "--start",
        type=WEATHER_DAY,
        metavar="YYYY-MM-DD",
        help="first UTC day (history kinds; default 2018-01-01, 2022-01-01 for "
        "historical-forecast)",
    )
    up.add_argument(
        "--end",
        type=WEATHER_DAY,
        metavar="YYYY-MM-DD",
        help="last UTC day (default: today minus the source lag)",
    )
    up.add_argument(
        "--sites",
        metavar="IDS",
        help="comma list of site ids from the reference points, or id:lat:lon "
        "(default: the api_query_point rows)",
    )
    up.add_argument("--base-url", help="endpoint URL of the chosen kind (overrides env var)")
    up.add_argument("--marine-url", help="marine endpoint for --kind forecast (overrides env var)")
    up.add_argument("--model", help="models= value (default era5 / era5_ocean / best_match)")
    up.add_argument("--marine-model", help="marine models= value for --kind forecast")
    up.add_argument(
        "--past-days",
        type=number_type(int, 0, 92, unit="days"),
        default=7,
        metavar="N",
        help="forecast kind: past days (0-92, default %(default)s)",
    )
    up.add_argument(
        "--forecast-days",
        type=number_type(int, 0, 16, unit="days"),
        default=16,
        metavar="N",
        help="forecast kind: days ahead (0-16, default %(default)s)",
    )
    up.add_argument(
        "--marine-forecast-days",
        type=number_type(int, 0, 16, unit="days"),
        default=8,
        metavar="N",
        help="marine forecast days ahead (0-16; most wave models give up to 8)",
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=om.RetryPolicy().timeout_s,
        help="HTTP time-out per request [s] (default %(default)g)",
    )
    up.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format"
    )
    up.set_defaults(func=run_update)

    show = sub.add_parser(
        "show",
        help="list cached sources, sites, grid cells, time ranges and gaps",
        description="What the Open-Meteo cache holds (offline). Shows the attribution to cite.",
    )
    show.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format"
    )
    show.set_defaults(func=run_show)
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
    return parser


def run_update(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= 600):
        raise ConfigError(f"--timeout {args.timeout}: expected a number of seconds > 0, <= 600.")
    kind = args.kind.replace("-", "_")
    if kind == "ensemble":
        return run_update_ensemble(args)
    rows = weather.update(
        kind,
        start=args.start.date() if args.start is not None else None,
        end=args.end.date() if args.end is not None else None,
        sites=parse_sites(args.sites),
        url=args.base_url,
        marine_url=args.marine_url,
        model=args.model,
        marine_model=args.marine_model,
        past_days=args.past_days,
        forecast_days=args.forecast_days,
        marine_forecast_days=args.marine_forecast_days,
        policy=om.RetryPolicy(timeout_s=args.timeout),
    )
    table = pd.DataFrame(rows)
    if "ranges" in table:
        table["ranges"] = table["ranges"].map(lambda r: ", ".join(r) if r else "(nothing missing)")
    _print(table, args.format)
    return 0


def run_update_ensemble(args: argparse.Namespace) -> int:
    """``--kind ensemble``: fetch the latest ensemble run of the model into the cache."""
    for name in ("start", "end", "marine_url", "marine_model"):
        if getattr(args, name) is not None:
            option = "--" + name.replace("_", "-")
            raise ConfigError(
                f"{option} does not apply to --kind ensemble (the latest run is fetched, "
                "without waves); drop it"
            )
    days = min(args.forecast_days, ens_source.DEFAULT_FORECAST_DAYS)
    if days < 1:
        raise ConfigError("--forecast-days 0: an ensemble needs at least 1 day ahead")
    written = ensemble_store.update_ensemble(
        parse_sites(args.sites),
        models=[args.model] if args.model else ens_source.DEFAULT_MODELS,
        forecast_days=days,
        url=args.base_url,
        policy=om.RetryPolicy(timeout_s=args.timeout),
    )
    rows = []
    for model, path in written.items():
        ds = ensemble_store.read_file(path)
        times = pd.DatetimeIndex(ds["time"].values)
        rows.append(
            {
                "kind": "ensemble",
                "model": model,
                "members": int(ds.sizes["member"]),
                "sites": int(ds.sizes["site"]),
                "from_utc": f"{times.min():%Y-%m-%d %H:%M}",
                "to_utc": f"{times.max():%Y-%m-%d %H:%M}",
                "retrieved_utc": str(ds.attrs.get("retrieved_utc", "")),
                "file": str(path),
            }
        )
    _print(pd.DataFrame(rows), args.format)
    return 0


def run_show(args: argparse.Namespace) -> int:
    inv = weather.cache_inventory()
    if inv.empty:
        if args.format == "json":
            print("[]")
        elif args.format == "csv":
            print(",".join(inv.columns))
        else:
            print(
                f"No Open-Meteo data cached in {weather.cache_root()}. "
                "Run 'forecast weather update' while online."
            )
        return 0
    if args.format == "table":
        shown = inv.drop(columns=["attribution"])
        _print(shown, "table")
        print()
        print("Attribution:")
        for text in dict.fromkeys(inv["attribution"]):
            print(f"  {inv.loc[inv['attribution'] == text, 'source'].iloc[0]}: {text}")
        return 0
    _print(inv, args.format)
    return 0


def _print(table: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        table.to_csv(sys.stdout, index=False, lineterminator="\n")
    elif fmt == "json":
        print(json.dumps(json.loads(table.to_json(orient="records")), indent=1))
    else:
        with pd.option_context("display.max_columns", None, "display.width", 200):
            print(table.to_string(index=False))
