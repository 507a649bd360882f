"""Defaults and paths only; no work at import time.

Paths can be redirected with environment variables so that tests and users can
keep data elsewhere:

- ``FORECAST_DATA_DIR``: root of ``raw/``, ``cache/`` and ``store/`` (default ``<repo>/data``).
- ``FORECAST_OUT_DIR``: where reports and outlooks are written (default ``<repo>/out``).
"""

from __future__ import annotations

import os
from pathlib import Path

from forecast.errors import ConfigError

#: Repository root (the folder that holds ``pyproject.toml``) when run from a checkout.
REPO_ROOT = Path(__file__).resolve().parent.parent

#: The Home Office day is the UK calendar day.
UK_TZ = "Europe/London"


def folder_from_env(variable: str, default: Path) -> Path:
    """The folder named by environment ``variable`` (``default`` when unset or empty).

    Raises
    ------
    ConfigError
        If the path, or the first part of it that exists, is not a folder (a file, a
        device), naming the variable and how to fix it.
    """
    text = os.environ.get(variable, "")
    if not text.strip():
        return Path(default)
    path = Path(text).expanduser()
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        where = "is" if existing == path else f"lies under {existing}, which is"
        raise ConfigError(
            f"{variable}={text!r} {where} a file, not a folder; point {variable} at a folder "
            f"(it is created if missing) or unset it to use {default}"
        )
    return path


def data_dir() -> Path:
    """Root of the writable data folders (``raw/``, ``cache/``, ``store/``).

    ``$FORECAST_DATA_DIR`` when set (a :class:`~forecast.errors.ConfigError` if it names a
    file), else ``<repo>/data``.
    """
    return folder_from_env("FORECAST_DATA_DIR", REPO_ROOT / "data")


def out_dir() -> Path:
    """Folder for written outlooks, reports and figures (``$FORECAST_OUT_DIR`` or ``<repo>/out``)."""
    return folder_from_env("FORECAST_OUT_DIR", REPO_ROOT / "out")


def snapshot_dir() -> Path:
    """Committed snapshots (small, real, with provenance README)."""
    return REPO_ROOT / "data" / "snapshot"


def cache_dir() -> Path:
    return data_dir() / "cache"


def raw_dir() -> Path:
    return data_dir() / "raw"


def store_dir() -> Path:
    return data_dir() / "store"


# Busy-day thresholds [people] used by scores and outlooks (configurable on the CLI).
BUSY_THRESHOLDS = (300, 500)

# Home Office red/amber/green convention on P(any crossing).
RAG_RED_ABOVE = 0.55
RAG_GREEN_BELOW = 0.35

# HTTP
HTTP_TIMEOUT_S = 60.0
USER_AGENT = "channel-forecast/0.1 (+open forecasting tool; small-boat crossings)"
