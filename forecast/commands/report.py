"""``forecast report``: write the self-contained HTML page of an outlook."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from forecast import config
from forecast.commands import COMMANDS
from forecast.commands.options import add_now_option, parse_date, parse_now
from forecast.errors import ConfigError
from forecast.products import assemble, outlook_schema, report
from forecast.products import outlook as ol
from forecast.stores.arrivals import load_arrivals


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help=COMMANDS["report"],
        description=(
            "Write out/outlook.html (or --out): the outlook chart with ranges and busy nights, "
            "the red/amber/green strip, year to date and year-end scenario bands, the model's "
            "backtest skill, data vintages and attributions. The page makes no network "
            "requests (charts are embedded SVG). By default it makes a fresh outlook (saved "
            "as 'forecast outlook' does); --latest draws out/outlook.json as it is, --outlook "
            "FILE draws a saved outlook, --as-of DATE a replay. The page says when its outlook "
            f"was issued and warns when it is older than {report.STALE_AFTER_HOURS} hours or "
            "is a replay."
        ),
    )
    p.add_argument(
        "--outlook",
        type=Path,
        default=None,
        metavar="FILE",
        help="draw this saved outlook JSON (checked against the outlook layout first)",
    )
    p.add_argument(
        "--latest",
        action="store_true",
        help="draw out/outlook.json as it is (the last 'forecast outlook'), flagged if stale",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="HTML file to write (default out/outlook.html)"
    )
    p.add_argument("--as-of", default=None, metavar="DATE", help="draw a replay as issued on DATE")
    add_now_option(p)
    p.set_defaults(func=run)


def check_options(args: argparse.Namespace) -> None:
    """Refuse options that choose two different outlooks."""
    chosen = [
        name
        for name, given in (
            ("--as-of", args.as_of is not None),
            ("--outlook", args.outlook is not None),
            ("--latest", args.latest),
        )
        if given
    ]
    if len(chosen) > 1:
        raise ConfigError(
            f"{chosen[0]} and {chosen[1]} cannot be combined: each chooses the outlook to draw "
            "(--as-of makes a replay, --outlook FILE reads a file, --latest reads "
            "out/outlook.json); give one"
        )


def run(args: argparse.Namespace) -> int:
    check_options(args)
    now = parse_now(args.now)
    if args.outlook is not None or args.latest:
        path = args.outlook
        if path is None:
            path = config.out_dir() / "outlook.json"
            if not path.exists():
                raise ConfigError(
                    f"--latest: no outlook at {path} yet; run 'forecast outlook' first, "
                    "or drop --latest to make a fresh one"
                )
        option = "--latest" if args.latest else "--outlook"
        outlook = outlook_schema.read_outlook_file(path, option)
        arrivals = load_arrivals()
        arrivals = arrivals.loc[: pd.Timestamp(outlook["arrivals"]["end_date"])]
    else:
        as_of = parse_date(args.as_of, "--as-of") if args.as_of else None
        outlook, arrivals = assemble.make_outlook(now_utc=now, as_of=as_of)
        if as_of is None:
            outlook["saved_to"] = str(ol.save_outlook(outlook))
        assemble.write_latest(outlook)
    path = report.write_report(outlook, arrivals, args.out, now_utc=now)
    print(
        f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB); open it in a browser (no network needed)"
    )
    return 0
