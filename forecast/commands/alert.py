"""``forecast alert``: busy nights in the next hours, for messaging pipelines.

Exit status (for scripts), one meaning each:

- **0** no alert: the forecast was made from fresh data with a weather forecast and no
  night passes the alert rule;
- **1** at least one alert (printed; a stale or weather-free alert is still reported,
  with its notices);
- **2** error: a bad option, missing or unreadable data, or an unexpected failure (the
  message says what to fix); never 1;
- **3** cannot say: no alert found, but the forecast cannot rule busy nights out: the
  arrivals data are older than ``--max-data-age`` days, or no weather forecast was used
  (none cached, or ``--no-weather``).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

import pandas as pd

from forecast import config
from forecast.commands import COMMANDS
from forecast.commands.options import (
    ENSEMBLE_HELP_LIVE,
    FORMATS,
    MAX_PEOPLE,
    add_now_option,
    number_type,
    parse_now,
    parse_thresholds,
)
from forecast.errors import ConfigError, ForecastError
from forecast.products import assemble
from forecast.products import outlook as ol
from forecast.products import skill as sk

EXIT_NO_ALERT = 0
EXIT_ALERT = 1
EXIT_ERROR = 2
EXIT_CANNOT_SAY = 3

#: Default limit on the age of the arrivals data [days] before the alert cannot say.
MAX_DATA_AGE_DAYS = 7

EXIT_HELP = (
    "Exit status: 0 no alert; 1 alert(s); 2 error (bad option, missing or unreadable data, "
    "or an unexpected failure: never 1); 3 cannot say (no alert found, but the arrivals data "
    "are older than --max-data-age days or no weather forecast was used, so busy nights "
    "cannot be ruled out). An alert is reported (1) even on stale or weather-free data."
)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "alert",
        help=COMMANDS["alert"],
        description=(
            "List the nights in the next --hours (default 72) whose probability of more than "
            "--threshold people exceeds --min-probability, with the probability, expected "
            "people, 80 % range and drivers. Use --format json for messaging pipelines. A "
            "night is the departure window feeding a Home Office day D (D-1 22:00 to D 14:00 "
            "UK time). " + EXIT_HELP
        ),
        epilog=EXIT_HELP,
    )
    p.add_argument(
        "--threshold",
        type=number_type(int, 0, MAX_PEOPLE, unit="people"),
        default=300,
        help=f"people per night, 0..{MAX_PEOPLE} (default 300)",
    )
    p.add_argument(
        "--hours",
        type=number_type(float, 1, 24 * ol.MAX_HORIZON, unit="h"),
        default=72.0,
        help=f"look-ahead [h], 1..{24 * ol.MAX_HORIZON} (default 72)",
    )
    p.add_argument(
        "--min-probability",
        type=float,
        default=0.5,
        help="alert when P(people > threshold) exceeds this, in [0, 1) (default 0.5)",
    )
    p.add_argument(
        "--max-data-age",
        type=number_type(int, 0, 3650, unit="days"),
        default=MAX_DATA_AGE_DAYS,
        metavar="DAYS",
        help="exit 3 (cannot say) rather than 0 when the arrivals data end more than DAYS "
        f"days before the issue day (default {MAX_DATA_AGE_DAYS})",
    )
    p.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default table)"
    )
    p.add_argument(
        "--weather", default=None, metavar="FILE", help="weather forecast file instead of the cache"
    )
    p.add_argument(
        "--no-weather",
        action="store_true",
        help="weather-free (season and recent history only): never exits 0, as it cannot "
        "rule busy nights out",
    )
    p.add_argument(
        "--ensemble",
        choices=("auto", "cached", "dressed", "none"),
        default="auto",
        help=f"weather ensemble: {ENSEMBLE_HELP_LIVE}",
    )
    add_now_option(p)
    p.set_defaults(func=run)


def cannot_say_reasons(outlook: dict, max_data_age: int) -> tuple[int, list[str]]:
    """The arrivals data's age [days] and why the outlook cannot rule busy nights out.

    The age counts UK days from the last day with arrivals to the issue day.
    """
    issued = pd.Timestamp(outlook["issued_utc"]).tz_convert(config.UK_TZ).tz_localize(None)
    end = pd.Timestamp(outlook["arrivals"]["end_date"])
    age = int((issued.normalize() - end).days)
    reasons = []
    if age > max_data_age:
        reasons.append(
            f"the arrivals data end {end.date()}, {age} days before the issue day (limit "
            f"--max-data-age {max_data_age}); run 'forecast arrivals update' while online"
        )
    if outlook["weather"].get("source") in (None, "none"):
        reasons.append(
            "no weather forecast was used (a weather-free forecast cannot warn of busy "
            "nights); run 'forecast weather update --kind forecast' while online, or give "
            "--weather FILE"
        )
    return age, reasons


def alert_payload(
    outlook: dict,
    nights: list[dict],
    threshold: int,
    hours: float,
    min_probability: float,
    cannot_say: list[str] | None = None,
    data_age_days: int | None = None,
) -> dict:
    """The machine-readable alert message (``status``: alert, no_alert or cannot_say)."""
    cannot_say = list(cannot_say or [])
    status = "alert" if nights else ("cannot_say" if cannot_say else "no_alert")
    return {
        "alert": bool(nights),
        "status": status,
        "exit_status": {"alert": EXIT_ALERT, "cannot_say": EXIT_CANNOT_SAY}.get(
            status, EXIT_NO_ALERT
        ),
        "cannot_say": cannot_say,
        "data_age_days": data_age_days,
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
        "ensemble": outlook.get("ensemble"),
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
        lines.append("  none" if not payload.get("cannot_say") else "  none found, but:")
        for why in payload.get("cannot_say") or []:
            lines.append(f"  CANNOT SAY: {why}")
    for n in payload["nights"]:
        lines.append(
            f"  {n['night']}: P {n['probability']:.0%}, expected {n['expected_people']:.0f} "
            f"(80 % range {n['range_80'][0]}–{n['range_80'][1]}), {n['rag']}; {n['drivers']}"
            + (
                f"; backtest skill at lead {n.get('lead_days', '?')} d: {sk.day_skill_text(n['skill'])}"
                if "skill" in n
                else ""
            )
        )
    if payload.get("p_any_night") is not None:
        n = len(payload.get("nights_in_window") or [])
        lines.append(
            f"Chance of more than {payload['threshold_people']} people on at least one of these "
            f"{n} night{'s' if n != 1 else ''}: {payload['p_any_night']:.0%}"
            + (" (weather members drawn jointly across nights)" if payload.get("ensemble") else "")
        )
    lines.append(
        f"Made from arrivals to {payload['arrivals_end']}, weather: {payload['weather_label']}"
        + (f" run {payload['weather_run']}" if payload.get("weather_run") else "")
    )
    lines.append(f"Model: {payload['model']}")
    lines.append(f"Backtest skill: {payload['backtest_skill_text']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the alert; an unexpected failure exits 2 (error), never 1 (alert)."""
    try:
        return run_alert(args)
    except (ForecastError, KeyboardInterrupt, BrokenPipeError):
        raise  # the cli maps these (2, 130, 0)
    except Exception as exc:  # a bug: say so, keep the traceback, and exit as an error
        traceback.print_exc(file=sys.stderr)
        print(
            f"forecast alert: error: unexpected failure ({type(exc).__name__}: {exc}); no "
            "alert was decided. This is a bug: please report it with the traceback above.",
            file=sys.stderr,
        )
        return EXIT_ERROR


def run_alert(args: argparse.Namespace) -> int:
    if not 0 <= args.min_probability < 1:
        raise ConfigError(f"--min-probability {args.min_probability} must be in [0, 1)")
    if args.no_weather and args.weather:
        raise ConfigError(
            f"--no-weather and --weather {args.weather} contradict each other: give one "
            "(--weather FILE for a weather-driven alert, --no-weather for a weather-free one)"
        )
    thresholds = parse_thresholds(None, extra=(args.threshold,))
    outlook, _ = assemble.make_outlook(
        now_utc=parse_now(args.now),
        thresholds=thresholds,
        weather_file=Path(args.weather) if args.weather else None,
        no_weather=args.no_weather,
        scenarios=False,
        compare=False,
        ensemble=args.ensemble,
    )
    nights = ol.busy_nights(
        outlook,
        args.threshold,
        args.min_probability,
        hours=args.hours,
        now_utc=pd.Timestamp(outlook["issued_utc"]).to_pydatetime(),
    )
    age, reasons = cannot_say_reasons(outlook, args.max_data_age)
    payload = alert_payload(
        outlook, nights, args.threshold, args.hours, args.min_probability, reasons, age
    )
    window = ol.nights_in_window(
        outlook, pd.Timestamp(outlook["issued_utc"]).to_pydatetime(), args.hours
    )
    payload["p_any_night"] = ol.p_any_busy_night(outlook, args.threshold, window)
    payload["nights_in_window"] = window
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
        for why in reasons if not nights else []:
            print(f"# cannot say: {why}", file=sys.stderr)
    else:
        print(format_alert(payload))
    return int(payload["exit_status"])
