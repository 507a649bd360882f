"""``forecast sky``: darkness, twilight and moonlight per night over the departure coast."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd

from forecast.commands import COMMANDS
from forecast.commands.tides import SPAN, parse_range, render
from forecast.errors import ConfigError
from forecast.features.sky import night_sky


def _hm(values) -> list[str]:
    return [
        "" if pd.isna(t) else pd.Timestamp(t).round("min").strftime("%Y-%m-%d %H:%M")
        for t in values
    ]


def sky_table(first: pd.Timestamp, last: pd.Timestamp, lat: float, lon: float) -> pd.DataFrame:
    s = night_sky(pd.date_range(first, last, freq="D"), lat=lat, lon=lon)
    return pd.DataFrame(
        {
            "night": [d.strftime("%Y-%m-%d") for d in s.index],
            "sunset_utc": _hm(s["sunset_utc"]),
            "nautical_dusk_utc": _hm(s["nautical_dusk_utc"]),
            "nautical_dawn_utc": _hm(s["nautical_dawn_utc"]),
            "sunrise_utc": _hm(s["sunrise_utc"]),
            "darkness_h": np.round(s["darkness_hours"].to_numpy(), 2),
            "moon_illum": np.round(s["moon_illumination"].to_numpy(), 2),
            "moonrise_utc": _hm(s["moonrise_utc"]),
            "moonset_utc": _hm(s["moonset_utc"]),
            "moonlit_frac": np.round(s["moonlit_fraction"].to_numpy(), 2),
        }
    )


def run(args: argparse.Namespace) -> int:
    for name, value, bound, unit in (("lat", args.lat, 90, "N"), ("lon", args.lon, 180, "E")):
        if not (math.isfinite(value) and -bound <= value <= bound):
            raise ConfigError(
                f"--{name} {value}: {name} must be within -{bound}..{bound} [deg {unit}]"
            )
    first, last = parse_range(args.start, args.end)
    df = sky_table(first, last, args.lat, args.lon)
    note = (
        f"Night D = the night feeding day D: D-1 22:00 to D 14:00 UK time, at {args.lat:.2f} N "
        f"{args.lon:.2f} E; times UTC (events of the evening of D-1 and morning of D); "
        "darkness_h = hours inside that night with the sun > 12 deg below the horizon; "
        "moonlit_frac = share of that darkness with the moon up. Computed offline with PyEphem."
    )
    if args.format == "table":
        render(df, "table", {"note": note})
    else:
        render(df, args.format, {"note": note, "lat": args.lat, "lon": args.lon})
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "sky",
        help=COMMANDS["sky"],
        description=(
            "Per night D (the night feeding day D: D-1 22:00 to D 14:00 UK time): sunset, "
            "nautical dusk and dawn, sunrise, moonrise/moonset of the evening of D-1 and "
            "morning of D; hours of nautical darkness inside the night, moon illumination and "
            "the share of that darkness with the moon up, for the departure coast off Sangatte "
            "(50.97 N, 1.72 E) unless --lat/--lon are given. Computed offline with PyEphem."
        ),
    )
    p.add_argument("--start", help=f"first night YYYY-MM-DD, {SPAN} (default today)")
    p.add_argument(
        "--end",
        help=f"last night YYYY-MM-DD, inclusive, {SPAN} (default start + 6 days)",
    )
    p.add_argument(
        "--lat", type=float, default=50.97, help="latitude [deg N], -90..90 (default 50.97)"
    )
    p.add_argument(
        "--lon", type=float, default=1.72, help="longitude [deg E], -180..180 (default 1.72)"
    )
    p.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format"
    )
    p.set_defaults(func=run)
    return p
