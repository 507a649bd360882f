"""``forecast alert``: busy nights in the next hours, for messaging pipelines.

Exit status (for scripts): **0** no alert, **1** at least one alert, **2** error (bad
option, missing or unreadable data; the message says what to fix).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from forecast.commands import COMMANDS
from forecast.commands.options import FORMATS, add_now_option, parse_now, parse_thresholds
from forecast.errors import ConfigError
from forecast.products import assemble
from forecast.products import outlook as ol

EXIT_NO_ALERT = 0
EXIT_ALERT = 1


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "alert",
        help=COMMANDS["alert"],
        description=(
            "List the nights in the next --hours (default 72) whose probability of more than "
            "--threshold people exceeds --min-probability, with the probability, expected "
            "people, 80 % range and drivers. Exit status: 0 no alert, 1 alert(s), 2 error. "
            "Use --format json for messaging pipelines. A night is the departure window "
            "feeding a Home Office day D (D-1 22:00 to D 14:00 UK time)."
        ),
    )
    p.add_argument("--threshold", type=int, default=300, help="people per night (default 300)")
    p.add_argument("--hours", type=float, default=72.0, help="look-ahead [h] (default 72)")
    p.add_argument(
        "--min-probability",
        type=float,
        default=0.5,
        help="alert when P(people > threshold) exceeds this (default 0.5)",
    )
    p.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default table)"
    )
    p.add_argument(
        "--weather", default=None, metavar="FILE", help="weather forecast file instead of the cache"
    )
    p.add_argument(
        "--no-weather", action="store_true", help="weather-free (season and recent history only)"
    )
    add_now_option(p)
    p.set_defaults(func=run)


def alert_payload(
    outlook: dict, nights: list[dict], threshold: int, hours: float, min_probability: float
) -> dict:
    """The machine-readable alert message."""
    return {
        "alert": bool(nights),
        "issued_utc": outlook["issued_utc"],
        "threshold_people": int(threshold),
        "hours": hours,
        "min_probability": min_probability,
        "nights": nights,
        "arrivals_end": outlook["arrivals"]["end_date"],
        "weather_source": outlook["weather"].get("source"),
        "weather_label": outlook["weather"].get("label"),
        "weather_run": outlook["weather"].get("run"),
        "notices": outlook["notices"],
        "model": ol.model_text(outlook.get("provenance") or {}),
        "lead_days": outlook.get("lead_days"),
        "backtest_skill": (outlook.get("provenance") or {}).get("backtest_skill"),
        "backtest_skill_text": ol.skill_line(outlook),
    }


def format_alert(payload: dict) -> str:
    lines = []
    for n in payload["notices"]:
        lines.append(f"!! {n}")
    head = (
        f"Nights in the next {payload['hours']:g} h with P(more than {payload['threshold_people']} people) "
        f"> {payload['min_probability']:.0%}:"
    )
    lines.append(head)
    if not payload["nights"]:
        lines.append("  none")
    for n in payload["nights"]:
        lines.append(
            f"  {n['night']}: P {n['probability']:.0%}, expected {n['expected_people']:.0f} "
            f"(80 % range {n['range_80'][0]}–{n['range_80'][1]}), {n['rag']}; {n['drivers']}"
        )
    lines.append(
        f"Made from arrivals to {payload['arrivals_end']}, weather: {payload['weather_label']}"
        + (f" run {payload['weather_run']}" if payload.get("weather_run") else "")
    )
    lines.append(f"Model: {payload['model']}")
    lines.append(f"Backtest skill: {payload['backtest_skill_text']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.threshold < 0:
        raise ConfigError(f"--threshold {args.threshold} must be >= 0 people")
    if not 0 <= args.min_probability < 1:
        raise ConfigError(f"--min-probability {args.min_probability} must be in [0, 1)")
    if not 0 < args.hours <= 24 * ol.MAX_HORIZON:
        raise ConfigError(f"--hours {args.hours} must be in (0, {24 * ol.MAX_HORIZON}]")
    thresholds = parse_thresholds(None, extra=(args.threshold,))
    outlook, _ = assemble.make_outlook(
        now_utc=parse_now(args.now),
        thresholds=thresholds,
        weather_file=Path(args.weather) if args.weather else None,
        no_weather=args.no_weather,
        scenarios=False,
        compare=False,
    )
    nights = ol.busy_nights(
        outlook,
        args.threshold,
        args.min_probability,
        hours=args.hours,
        now_utc=pd.Timestamp(outlook["issued_utc"]).to_pydatetime(),
    )
    payload = alert_payload(outlook, nights, args.threshold, args.hours, args.min_probability)
    if args.format == "json":
        print(json.dumps(payload, indent=1))
    elif args.format == "csv":
        cols = [
            "date",
            "night",
            "probability",
            "threshold",
            "rag",
            "expected_people",
            "q10",
            "q90",
            "drivers",
        ]
        rows = [{**n, "q10": n["range_80"][0], "q90": n["range_80"][1]} for n in nights]
        print(pd.DataFrame(rows, columns=cols).to_csv(index=False, lineterminator="\n"), end="")
    else:
        print(format_alert(payload))
    return EXIT_ALERT if nights else EXIT_NO_ALERT
