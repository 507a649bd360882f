"""``forecast tides``: high and low waters (or per-night tide features) for a station."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

import numpy as np
import pandas as pd

from forecast.commands import COMMANDS
from forecast.commands.options import ASTRO_FIRST_DAY, LAST_DAY
from forecast.config import UK_TZ
from forecast.errors import ConfigError
from forecast.features.tides import high_low_waters, night_tide_features
from forecast.sources.tides import ATTRIBUTION, STATIONS, load_station, station_key

#: Days accepted by ``--start``/``--end`` of ``tides`` and ``sky`` (astronomy).
SPAN = f"{ASTRO_FIRST_DAY} .. {LAST_DAY}"


def parse_day(value: str, name: str) -> pd.Timestamp:
    """A ``YYYY-MM-DD`` option -> naive date, or ConfigError naming the option."""
    try:
        day = pd.Timestamp(dt.date.fromisoformat(str(value).strip()))
    except (ValueError, TypeError):
        raise ConfigError(f"{name} must be a date like 2026-11-01; got {value!r}") from None
    if not ASTRO_FIRST_DAY <= day.date() <= LAST_DAY:
        raise ConfigError(f"{name} {value!r} is outside {SPAN}")
    return day


def parse_range(
    start: str | None, end: str | None, default_days: int = 7
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """--start/--end -> (first, last) day; start defaults to today (UTC), end to start + 6 days."""
    first = (
        parse_day(start, "--start")
        if start
        else pd.Timestamp.now("UTC").tz_localize(None).normalize()
    )
    last = parse_day(end, "--end") if end else first + pd.Timedelta(days=default_days - 1)
    if last < first:
        raise ConfigError(f"--end {last.date()} is before --start {first.date()}; swap them")
    if (last - first).days > 366 * 20:
        raise ConfigError("--start..--end spans more than 20 years; ask for a shorter range")
    return first, last


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def render(df: pd.DataFrame, fmt: str, meta: dict, out=None) -> None:
    """Print ``df`` (already formatted cells) as an aligned table, CSV or JSON.

    ``meta`` entries (attribution, notes) go under the table, into the JSON object, and
    to standard error for CSV (so the CSV stays machine-readable).
    """
    out = out or sys.stdout
    if fmt == "csv":
        df.to_csv(out, index=False, lineterminator="\n")
        for k, v in meta.items():
            print(f"# {k}: {v}", file=sys.stderr)
        return
    if fmt == "json":
        rows = [
            {k: (None if _cell(v) == "" else v) for k, v in r.items()}
            for r in df.to_dict("records")
        ]
        rows = json.loads(json.dumps(rows, default=str))
        print(json.dumps({**meta, "rows": rows}, indent=1, ensure_ascii=False), file=out)
        return
    cells = [[_cell(v) for v in row] for row in df.itertuples(index=False)]
    widths = [max([len(str(c))] + [len(r[k]) for r in cells]) for k, c in enumerate(df.columns)]
    print(
        "  ".join(str(c).ljust(w) for c, w in zip(df.columns, widths, strict=True)).rstrip(),
        file=out,
    )
    for r in cells:
        print(
            "  ".join(
                v.rjust(w) if _num(v) else v.ljust(w) for v, w in zip(r, widths, strict=True)
            ).rstrip(),
            file=out,
        )
    for v in meta.values():
        print(v, file=out)


def _num(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def _utc_and_local(times: pd.Series) -> tuple[list[str], list[str]]:
    t = pd.DatetimeIndex(times).round("min")
    utc = [x.strftime("%Y-%m-%d %H:%M") for x in t]
    local = t.tz_localize("UTC").tz_convert(UK_TZ)
    uk = [x.strftime("%Y-%m-%d %H:%M %Z") for x in local]
    return utc, uk


def high_low_table(station: str, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """HW/LW of the UTC days first..last as printable rows."""
    hl = high_low_waters(station, first, last + pd.Timedelta(days=1) - pd.Timedelta(seconds=1))
    utc, uk = _utc_and_local(hl["time_utc"])
    return pd.DataFrame(
        {
            "time_utc": utc,
            "time_uk": uk,
            "kind": hl["kind"].to_numpy(),
            "height_m": np.round(hl["height"].to_numpy(), 2),
        }
    )


def nights_table(station: str, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    f = night_tide_features(pd.date_range(first, last, freq="D"), station=station)
    first_dark = [
        "" if pd.isna(t) else pd.Timestamp(t).round("min").strftime("%Y-%m-%d %H:%M")
        for t in f["first_dark_hw_utc"]
    ]
    return pd.DataFrame(
        {
            "night": [d.strftime("%Y-%m-%d") for d in f.index],
            "hw_in_darkness": f["hw_in_darkness"].to_numpy(),
            "first_dark_hw_utc": first_dark,
            "tidal_range_m": np.round(f["tidal_range"].to_numpy(), 2),
            "spring_neap_index": np.round(f["spring_neap_index"].to_numpy(), 2),
        }
    )


def run(args: argparse.Namespace) -> int:
    try:
        key = station_key(args.station)
    except ConfigError as exc:
        raise ConfigError(f"--station {args.station!r}: {exc}") from None
    st = load_station(key)
    first, last = parse_range(args.start, args.end)
    if args.nights:
        df = nights_table(key, first, last)
        head = (
            f"{st.port}: tide of the night feeding day D (D-1 22:00 to D 14:00 UK time; only "
            "HW/LW inside it count); HW in nautical darkness off Sangatte; "
            "spring_neap_index 0 = mean neaps, 1 = mean springs"
        )
    else:
        df = high_low_table(key, first, last)
        head = f"{st.port}: high and low waters, heights in m above chart datum (~LAT)"
    meta = {"station": st.port, "note": head, "attribution": ATTRIBUTION}
    if args.format == "table":
        print(head)
        render(df, "table", {"attribution": ATTRIBUTION})
    else:
        render(df, args.format, meta)
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "tides",
        help=COMMANDS["tides"],
        description=(
            "Predict high and low waters at Dover, Deal, Calais, Boulogne-sur-Mer or "
            "Dunkerque from TICON-4 harmonic constants (offline). Times in UTC and UK "
            "local time, heights above chart datum. With --nights: per night feeding day D "
            "(D-1 22:00 to D 14:00 UK time, the package's one night), the HW inside it in "
            "darkness, the first of them, the tidal range inside it and the spring-neap index. "
            "Not for navigation."
        ),
    )
    p.add_argument(
        "--station",
        default="dover",
        help=f"tide station: {', '.join(STATIONS)} (default dover)",
    )
    p.add_argument("--start", help=f"first UTC day YYYY-MM-DD, {SPAN} (default today)")
    p.add_argument(
        "--end",
        help=f"last UTC day YYYY-MM-DD, inclusive, {SPAN} (default start + 6 days)",
    )
    p.add_argument(
        "--nights",
        action="store_true",
        help="per-night features (night feeding day D: D-1 22:00 to D 14:00 UK time) "
        "instead of HW/LW; --start/--end then name the days D",
    )
    p.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format"
    )
    p.set_defaults(func=run)
    return p
