"""Exceptions the tool raises for bad input or failed sources.

Every message says what went wrong, where (file, sheet, row, column, URL or
parameter) and how to fix it. The CLI prints the message and exits with status 2
without a traceback.
"""

from __future__ import annotations


class ForecastError(Exception):
    """Base class for errors a user can act on."""


class DataFormatError(ForecastError, ValueError):
    """An input file or response is not in the expected format."""


class SourceError(ForecastError):
    """A remote source failed (HTTP error, timeout, rate limit, truncated body)."""


class ConfigError(ForecastError, ValueError):
    """A parameter or option has an invalid value."""
