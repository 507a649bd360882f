"""Defaults and paths only; no work at import time.

Paths can be redirected with environment variables so that tests and users can
keep data elsewhere:

- ``FORECAST_DATA_DIR``: root of ``raw/``, ``cache/`` and ``store/`` (default ``<repo>/data``).
- ``FORECAST_OUT_DIR``: where reports and outlooks are written (default ``<repo>/out``).
"""

from __future__ import annotations

import os
from pathlib import Path

#: Repository root (the folder that holds ``pyproject.toml``) when run from a checkout.
REPO_ROOT = Path(__file__).resolve().parent.parent

#: The Home Office day is the UK calendar day.
UK_TZ = "Europe/London"


def data_dir() -> Path:
    """Root of the writable data folders (``raw/``, ``cache/``, ``store/``)."""
    return Path(os.environ.get("FORECAST_DATA_DIR", REPO_ROOT / "data"))


def out_dir() -> Path:
    """Folder for written outlooks, reports and figures."""
    return Path(os.environ.get("FORECAST_OUT_DIR", REPO_ROOT / "out"))


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
