"""Options shared by the outlook, alert and report commands (parsing only)."""

from __future__ import annotations

import argparse
import datetime as dt

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


def parse_now(text: str | None) -> dt.datetime | None:
    """``--now`` text to a tz-aware UTC datetime (None: the clock)."""
    if not text:
        return None
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise ConfigError(f"--now {text!r} is not a time; use e.g. 2026-11-25T06:00Z") from None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def parse_date(text: str, option: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date; use YYYY-MM-DD") from None
