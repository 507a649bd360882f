"""``forecast arrivals``: update, show and snapshot the Home Office daily arrivals."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from forecast import config
from forecast.commands import COMMANDS
from forecast.commands.options import number_type
from forecast.errors import ConfigError
from forecast.sources import arrivals
from forecast.stores import arrivals as arrivals_store

FORMATS = ("table", "csv", "json")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "arrivals",
        help=COMMANDS["arrivals"],
        description=(
            "Daily small-boat arrivals from the Home Office publication 'Migrants detected "
            "crossing the English Channel in small boats' (OGL v3.0). 'update' downloads the "
            "weekly time-series spreadsheet and the last-7-days page into the local store; "
            "'show' prints totals by year, month or ISO week; 'snapshot' rebuilds the "
            "committed data/snapshot/arrivals.csv from a spreadsheet."
        ),
    )
    p.set_defaults(func=lambda args: _help(p))
    sub = p.add_subparsers(dest="arrivals_command", metavar="ACTION")

    u = sub.add_parser(
        "update",
        help="download the latest release and merge it into the store",
        description=(
            "Read the publication page, download the current time-series ODS, parse SB_01, "
            "read the last-7-days page for newer days and merge both into the arrivals "
            "store under $FORECAST_DATA_DIR/store. Revised values are logged, never "
            "silently replaced; a failed download leaves the store unchanged."
        ),
    )
    u.add_argument(
        "--base-url",
        default=None,
        help=f"site root to read from (default ${arrivals.BASE_URL_ENV} or {arrivals.DEFAULT_BASE_URL})",
    )
    u.add_argument(
        "--ods", type=Path, default=None, help="use this spreadsheet instead of downloading it"
    )
    u.add_argument(
        "--daily-html",
        type=Path,
        default=None,
        help="use this saved last-7-days page instead of downloading it",
    )
    u.add_argument("--no-daily", action="store_true", help="do not read the last-7-days page")
    u.add_argument(
        "--timeout",
        type=number_type(float, 0, 600, low_open=True, unit="s"),
        default=config.HTTP_TIMEOUT_S,
        help="HTTP time-out [s], up to 600",
    )
    u.add_argument(
        "--retries",
        type=number_type(int, 0, 10),
        default=3,
        help="retries on 429/5xx/time-out, 0..10 (default 3)",
    )
    u.add_argument("--format", choices=FORMATS, default="table", help="output format")
    u.set_defaults(func=run_update)

    s = sub.add_parser(
        "show",
        aliases=["summary"],
        help="totals by year, month or ISO week, latest day, days since last crossing",
        description=(
            "Print totals of the arrivals (store if present, else the committed snapshot) "
            "by calendar year, month or ISO week, with the latest day covered, the days "
            "since the last crossing and the data's age."
        ),
    )
    s.add_argument(
        "--by",
        choices=arrivals_store.BREAKDOWNS,
        default="year",
        help="breakdown (default year)",
    )
    s.add_argument(
        "--last",
        type=int,
        default=None,
        metavar="N",
        help="show only the last N periods",
    )
    s.add_argument("--format", choices=FORMATS, default="table", help="output format")
    s.set_defaults(func=run_show)

    r = sub.add_parser(
        "revisions",
        help="list values that changed between releases",
        description="Print the store's revision log (date, column, old, new, source, retrieved_utc).",
    )
    r.add_argument("--format", choices=FORMATS, default="table", help="output format")
    r.set_defaults(func=run_revisions)

    n = sub.add_parser(
        "snapshot",
        help="rebuild data/snapshot/arrivals.csv (+ README) from a time-series ODS",
        description=(
            "Parse SB_01 of the given spreadsheet and write arrivals.csv and README.md "
            "(source, release date, row count, sha256 of the ODS and the CSV) to --out."
        ),
    )
    n.add_argument(
        "--ods", type=Path, required=True, help="the Home Office time-series spreadsheet"
    )
    n.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default data/snapshot in the repository)",
    )
    n.add_argument("--url", default=None, help="download URL of the ODS, recorded in the README")
    n.add_argument("--format", choices=FORMATS, default="table", help="output format")
    n.set_defaults(func=run_snapshot)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


# ---------------------------------------------------------------------------
# output helpers
# ---------------------------------------------------------------------------


def _fmt(value: object) -> str:
    if value is None or value is pd.NA:
        return "-"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and value != value:
            return "-"
        return f"{value:,.0f}"
    return str(value)


def render_table(df: pd.DataFrame) -> str:
    """A plain fixed-width table (numbers right-aligned, with thousands separators)."""
    cols = list(df.columns)
    cells = [
        [_fmt(v.item() if hasattr(v, "item") else v) for v in row]
        for row in df.itertuples(index=False)
    ]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in cols]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    lines = [
        "  ".join(
            c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cols, widths, numeric, strict=True)
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append(
            "  ".join(
                v.rjust(w) if n else v.ljust(w) for v, w, n in zip(r, widths, numeric, strict=True)
            )
        )
    return "\n".join(lines)


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    for row in df.to_dict(orient="records"):
        out.append(
            {
                k: (None if v is pd.NA else (v.item() if hasattr(v, "item") else v))
                for k, v in row.items()
            }
        )
    return out


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------


def run_show(args: argparse.Namespace) -> int:
    df = arrivals_store.load_arrivals()
    table = arrivals_store.totals(df, args.by)
    if args.last is not None:
        if args.last < 1:
            raise ConfigError(f"--last {args.last}: expected a whole number >= 1")
        table = table.tail(args.last).reset_index(drop=True)
    info = arrivals_store.coverage(df)
    if args.format == "csv":
        sys.stdout.write(table.to_csv(index=False, lineterminator="\n"))
    elif args.format == "json":
        print(json.dumps({"coverage": info, "by": args.by, "totals": _records(table)}, indent=2))
    else:
        since = info["days_since_last_crossing"]
        print(f"Daily small-boat arrivals ({info['origin']}: {info['source']})")
        print(f"Covers {info['start_date']} to {info['end_date']} (UK calendar days).")
        print(
            f"Last crossing: {info['last_crossing_date']}"
            + (f" ({since} day(s) before the latest day covered)." if since is not None else ".")
        )
        retrieved = f", retrieved {info['retrieved_utc']}" if info["retrieved_utc"] else ""
        print(f"Data age: {info['age_days']} day(s) since the latest day covered{retrieved}.")
        print()
        print(render_table(table))
        print()
        print(info["attribution"])
    return 0


def run_update(args: argparse.Namespace) -> int:
    if args.retries < 0:
        raise ConfigError(f"--retries {args.retries}: expected 0 or more")
    if args.timeout <= 0:
        raise ConfigError(f"--timeout {args.timeout}: expected a number of seconds > 0")
    report = arrivals_store.update_arrivals(
        base=args.base_url,
        ods_path=args.ods,
        daily_html_path=args.daily_html,
        daily=not args.no_daily,
        timeout=args.timeout,
        retries=args.retries,
    )
    res = report.result
    info = {
        "store": str(arrivals_store.ArrivalsStore().path),
        "spreadsheet": report.ods_source,
        "release_date": report.release_date,
        "spreadsheet_end": report.ods_end,
        "daily_page": report.daily_source,
        "daily_days_added": report.daily_days,
        "end_date": res.end_date,
        "days_added": res.added,
        "values_revised": res.revised,
        "notes": report.notes,
    }
    revisions = res.revisions if res.revisions is not None else pd.DataFrame()
    if args.format == "json":
        print(json.dumps({**info, "revisions": _records(revisions)}, indent=2))
    elif args.format == "csv":
        sys.stdout.write(
            pd.DataFrame([{k: v for k, v in info.items() if k != "notes"}]).to_csv(index=False)
        )
    else:
        for k, v in info.items():
            if k != "notes":
                print(f"{k:18} {_fmt(v)}")
        for note in report.notes:
            print(f"note: {note}")
        if len(revisions):
            print()
            print("Revised values:")
            print(render_table(revisions[["date", "column", "old", "new", "source"]]))
    return 0


def run_revisions(args: argparse.Namespace) -> int:
    log = arrivals_store.ArrivalsStore().read_revisions()
    if args.format == "csv":
        sys.stdout.write(log.to_csv(index=False, lineterminator="\n"))
    elif args.format == "json":
        print(json.dumps(_records(log), indent=2))
    elif log.empty:
        print("No revised values recorded.")
    else:
        print(render_table(log))
    return 0


def run_snapshot(args: argparse.Namespace) -> int:
    out = args.out or config.snapshot_dir()
    info = arrivals_store.write_snapshot(args.ods, out, args.url)
    if args.format == "json":
        print(json.dumps(info, indent=2))
    elif args.format == "csv":
        sys.stdout.write(pd.DataFrame([info]).to_csv(index=False))
    else:
        for k, v in info.items():
            print(f"{k:14} {v}")
    return 0
