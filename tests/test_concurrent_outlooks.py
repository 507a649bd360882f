"""Two outlooks (or an outlook and a report) at once on an empty cache both succeed.

Before the one atomic-write module, both processes wrote the tide/sky cache through the
same fixed temporary name and one of them crashed in about 1 run in 4.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_two_outlooks_at_once_on_an_empty_cache(tmp_path):
    env = {
        **os.environ,
        "FORECAST_DATA_DIR": str(tmp_path / "data"),
        "FORECAST_OUT_DIR": str(tmp_path / "out"),
    }
    argv = [
        [
            sys.executable,
            "-m",
            "forecast",
            "outlook",
            "--no-weather",
            "--no-scenarios",
            "--now",
            "2026-11-25T06:00Z",
            "--format",
            "json",
        ],
        [sys.executable, "-m", "forecast", "report", "--now", "2026-11-25T06:00Z"],
    ]
    procs = [
        subprocess.Popen(a, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for a in argv
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    cache = tmp_path / "data" / "cache" / "outlook"
    assert [f.name for f in cache.iterdir() if f.name.endswith(".tmp")] == []
    assert any(f.name.startswith("tide_sky-") for f in cache.iterdir())
    assert (tmp_path / "out" / "outlook.html").exists()
