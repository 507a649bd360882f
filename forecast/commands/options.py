"""Options shared by the outlook, alert and report commands (parsing only)."""

from __future__ import annotations

import argparse
import datetime as dt
import math

import pandas as pd

from forecast import config
from forecast.errors import ConfigError

FORMATS = ("table", "csv", "json")


def parse_thresholds(text: str | None, extra: tuple[int, ...] = ()) -> tuple[int, ...]:
    """``"300,500"`` -> ``(300, 500)`` plus ``extra``, sorted and unique."""
    values = list(extra)
    if text is not None:
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            try:
                n = int(part)
            except ValueError:
                raise ConfigError(
                    f"--thresholds {text!r}: {part!r} is not a whole number; give e.g. 300,500"
                ) from None
            if n < 0:
                raise ConfigError(f"--thresholds {text!r}: {n} must be >= 0 people")
            if n > MAX_PEOPLE:
                raise ConfigError(
                    f"--thresholds {text!r}: {n} must be <= {MAX_PEOPLE:,} people per day"
                )
            values.append(n)
        if len(values) == len(extra):
            raise ConfigError(
                f"--thresholds {text!r} gives no number; give whole numbers of people, e.g. 300,500"
            )
    else:
        values.extend(config.BUSY_THRESHOLDS)
    return tuple(sorted(set(values)))


def add_now_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--now",
        default=None,
        metavar="TIME",
        help="issue the outlook as if the time were TIME (ISO 8601, UTC if no offset); "
        "for reproducible runs and tests (default: the clock)",
    )


#: ``--ensemble`` choices (as forecast.products.ensemble.MODES; kept here so the parser
#: needs no product import).
ENSEMBLE_CHOICES = ("auto", "cached", "dressed", "simulated", "none")

#: Help of the live ``--ensemble`` choices (outlook and alert).
ENSEMBLE_HELP_LIVE = (
    "auto (default: the cached Open-Meteo ensemble when one covers the first night, else "
    "the cached deterministic forecast dressed with its error), cached (require the "
    "ensemble), dressed (require the dressed deterministic forecast: members drawn with the "
    "published forecast error of each lead, labelled 'simulated forecast error'), none (the "
    "single deterministic forecast: its chances from day 2 on are over-confident)"
)


def add_ensemble_options(p: argparse.ArgumentParser) -> None:
    """``--ensemble`` and ``--members`` (outlook)."""
    p.add_argument(
        "--ensemble",
        choices=ENSEMBLE_CHOICES,
        default="auto",
        help=f"weather ensemble: {ENSEMBLE_HELP_LIVE}; simulated (replays: an ensemble "
        "simulated from the observed station weather, labelled 'simulated forecast error'). "
        "Replays use observed weather with auto",
    )
    p.add_argument(
        "--members",
        type=number_type(int, 2, 200, unit="members"),
        default=None,
        metavar="N",
        help="ensemble members: of a simulated or dressed ensemble (default 51), or the "
        "first N of the cached one",
    )


def parse_now(text: str | None) -> dt.datetime | None:
    """``--now`` text to a tz-aware UTC datetime (None: the clock)."""
    if not text:
        return None
    try:
        ts = pd.Timestamp(text)
        if ts is pd.NaT:
            raise ValueError(text)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    except (ValueError, OverflowError):
        raise ConfigError(f"--now {text!r} is not a time; use e.g. 2026-11-25T06:00Z") from None
    if not FIRST_DAY <= ts.date() <= LAST_DAY:
        raise ConfigError(f"--now {text!r} is outside {FIRST_DAY} .. {LAST_DAY}")
    return ts.to_pydatetime()


def parse_date(text: str, option: str) -> pd.Timestamp:
    """A ``YYYY-MM-DD`` option between :data:`FIRST_DAY` and :data:`LAST_DAY`."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date; use YYYY-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ConfigError(f"{option} {text!r} is outside {FIRST_DAY} .. {LAST_DAY}")
    return pd.Timestamp(day)


# ---------------------------------------------------------------------------
# bounded argument types (argparse ``type=``): every date and number is checked at the
# parser, so a bad value exits 2 with one message naming the option and the allowed range
# ---------------------------------------------------------------------------

#: Earliest and latest day accepted by date options of the forecasting commands
#: (the arrivals series starts 2018-01-01; nothing is modelled beyond 2100).
FIRST_DAY = dt.date(2018, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)
#: Tide and sky predictions are astronomy: they accept a wider span of days.
ASTRO_FIRST_DAY = dt.date(1900, 1, 1)
#: Open-Meteo's historical archive starts in 1940.
WEATHER_FIRST_DAY = dt.date(1940, 1, 1)
#: Longest lead time [days] the model supports (Open-Meteo forecasts reach 16 days).
MAX_LEAD_DAYS = 16
#: Largest busy-day threshold accepted [people].
MAX_PEOPLE = 100_000


def day_type(first: dt.date = FIRST_DAY, last: dt.date = LAST_DAY):
    """An argparse type: ``YYYY-MM-DD`` between ``first`` and ``last`` -> naive Timestamp."""

    def parse(text: str) -> pd.Timestamp:
        try:
            day = dt.date.fromisoformat(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a date; use YYYY-MM-DD between {first} and {last}"
            ) from None
        if not first <= day <= last:
            raise argparse.ArgumentTypeError(f"{text!r} is outside {first} .. {last}")
        return pd.Timestamp(day)

    parse.__name__ = "date"
    return parse


def time_type(text: str) -> dt.datetime:
    """An argparse type for ``--now``: ISO 8601 time (UTC if no offset) in 2018..2100."""
    try:
        return parse_now(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--now ")) from None


def number_type(kind: type, low: float, high: float, *, low_open: bool = False, unit: str = ""):
    """An argparse type: a finite ``kind`` (int or float) within ``low``..``high``.

    ``low_open``: ``low`` itself is refused (e.g. a time-out of 0 s).
    """
    left = "(" if low_open else "["
    span = f"{left}{low:g}, {high:g}]" + (f" [{unit}]" if unit else "")

    def parse(text: str):
        try:
            if "_" in str(text):  # int("1_000") is 1000: not what a user means to type
                raise ValueError(text)
            value = kind(str(text).strip())
        except (TypeError, ValueError):
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} in {span}") from None
        if not math.isfinite(value) or not (
            (low < value if low_open else low <= value) and value <= high
        ):
            raise argparse.ArgumentTypeError(f"{text!r} is outside {span}")
        return value

    parse.__name__ = kind.__name__
    return parse


def int_list(text: str, low: int, high: int, what: str) -> list[int]:
    """``"1,3,7"`` or ``"1-7"`` -> whole numbers within ``low``..``high``, or a type error."""
    bad = argparse.ArgumentTypeError(
        f"{text!r}: give {what} as a number (1), a list (1,3,7) or a range (1-7), "
        f"each in {low}..{high}"
    )
    try:
        if "-" in text.strip()[1:]:
            a, b = (int(x) for x in text.split("-", 1))
            if b < a:
                raise bad
            bounds = [a, b]
        else:
            bounds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise bad from None
    if not bounds or min(bounds) < low or max(bounds) > high:
        raise argparse.ArgumentTypeError(f"{text!r}: {what} must be >= {low} and <= {high}")
    return list(range(bounds[0], bounds[1] + 1)) if "-" in text.strip()[1:] else bounds


#: Help of ``--knmi-file`` (backtest, model fit, outlook).
KNMI_FILE_HELP = (
    "KNMI daily (etmgeg) file of one station; give it once per station, the first is the "
    "primary (default: the bundled 310 Vlissingen, coastal, and 340 Woensdrecht, inland)"
)
