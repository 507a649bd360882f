"""Shared fixtures. Area-specific fixtures live in the test modules themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.httpserver import LocalServer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _isolated_data_and_out(tmp_path_factory):
    """Every test runs with FORECAST_DATA_DIR and FORECAST_OUT_DIR in a temporary folder
    of the session (tests that need their own folder still set them, e.g. ``data_home``).

    Without this, tests that run commands wrote outlooks, caches and pages into the
    checkout's ``data/`` and ``out/``: a later ``make outlook`` there then reported
    "changes since" an outlook a test had made, and a user's own data could be touched.
    """
    root = tmp_path_factory.mktemp("forecast-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORECAST_DATA_DIR", str(root / "data"))
        mp.setenv("FORECAST_OUT_DIR", str(root / "out"))
        yield root


@pytest.fixture(scope="session")
def _session_server():
    """One 127.0.0.1 server for the whole run; each test gets it reset."""
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def local_server(_session_server):
    """A scripted HTTP server on 127.0.0.1 (see tests/httpserver.py), with no routes
    and no recorded requests at the start of each test."""
    _session_server.reset()
    return _session_server


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """Point FORECAST_DATA_DIR and FORECAST_OUT_DIR at a temporary folder."""
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FORECAST_OUT_DIR", str(tmp_path / "out"))
    return tmp_path
