"""The ``forecast`` command line: parses arguments, calls stage functions, prints/writes.

Each sub-command lives in ``forecast/commands/<name>.py`` and registers itself with
``add_parser(subparsers)``. Modules are imported lazily-on-registration so that one
broken optional dependency does not take the whole tool down.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from forecast import __version__
from forecast.errors import ForecastError

#: (module under forecast.commands, one-line description) in the order shown by --help.
COMMAND_MODULES: tuple[str, ...] = (
    "outlook",
    "alert",
    "report",
    "arrivals",
    "weather",
    "tides",
    "sky",
    "backtest",
    "model",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecast",
        description=(
            "Forecast small-boat crossings of the English Channel from marine weather, "
            "tides and darkness, with honest uncertainty and backtests."
        ),
        epilog="Run 'forecast COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"forecast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"forecast.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"forecast.commands.{name}":
                continue  # command not built yet
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except ForecastError as exc:
        print(f"forecast {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head` that closed early: not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
