"""The ``forecast`` command line: parses arguments, calls stage functions, prints/writes.

Each sub-command lives in ``forecast/commands/<name>.py`` and registers itself with
``add_parser(subparsers)``. Only the module of the command being run is imported: the
others appear in ``forecast --help`` from the one-line table in
:data:`forecast.commands.COMMANDS`, so ``forecast --help`` and the light commands start
without importing the modelling stack (scikit-learn, matplotlib).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from forecast import __version__
from forecast.commands import COMMANDS
from forecast.errors import ForecastError


def chosen_command(argv: list[str]) -> str | None:
    """The sub-command named in ``argv`` (its first non-option word), if any."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser; the full parser of the command named in ``argv`` only.

    With ``argv=None`` every command's full parser is built (for tests and docs).
    """
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
    chosen = chosen_command(argv) if argv is not None else None
    for name, help_text in COMMANDS.items():
        if argv is None or name == chosen:
            importlib.import_module(f"forecast.commands.{name}").add_parser(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
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
