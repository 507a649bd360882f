"""Shared fixtures. Area-specific fixtures live in the test modules themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.httpserver import LocalServer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def local_server():
    """A scripted HTTP server on 127.0.0.1 (see tests/httpserver.py)."""
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """Point FORECAST_DATA_DIR and FORECAST_OUT_DIR at a temporary folder."""
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FORECAST_OUT_DIR", str(tmp_path / "out"))
    return tmp_path
