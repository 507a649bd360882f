"""``forecast report``: write the self-contained HTML page of the latest outlook."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from forecast import config
from forecast.commands import COMMANDS
from forecast.commands.options import parse_date
from forecast.products import assemble, report
from forecast.products import outlook as ol
from forecast.stores.arrivals import load_arrivals


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help=COMMANDS["report"],
        description=(
            "Write out/outlook.html (or --out): the 7-day outlook chart with ranges, the "
            "red/amber/green strip, busy nights, year to date and year-end scenario bands, "
            "the model's backtest skill, data vintages and attributions. The page makes no "
            "network requests (charts are embedded SVG). Renders the outlook last written by "
            "'forecast outlook' (out/outlook.json), or --outlook FILE, or makes a new one."
        ),
    )
    p.add_argument(
        "--outlook",
        type=Path,
        default=None,
        metavar="FILE",
        help="outlook JSON to render (default: out/outlook.json, else a new outlook)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="HTML file to write (default out/outlook.html)"
    )
    p.add_argument(
        "--as-of", default=None, metavar="DATE", help="render a replay as issued on DATE"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    latest = config.out_dir() / "outlook.json"
    if args.as_of:
        outlook, arrivals = assemble.make_outlook(as_of=parse_date(args.as_of, "--as-of"))
    elif args.outlook is not None or latest.exists():
        outlook = ol.read_outlook(args.outlook or latest)
        arrivals = load_arrivals()
        arrivals = arrivals.loc[: pd.Timestamp(outlook["arrivals"]["end_date"])]
    else:
        outlook, arrivals = assemble.make_outlook()
        ol.save_outlook(outlook)
        assemble.write_latest(outlook)
    path = report.write_report(outlook, arrivals, args.out)
    print(
        f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB); open it in a browser (no network needed)"
    )
    return 0
