"""The test session never writes into the checkout's data/ or out/ (conftest.py)."""

from __future__ import annotations

from forecast import config


def test_tests_write_outside_the_checkout():
    assert config.data_dir() != config.REPO_ROOT / "data"
    assert config.out_dir() != config.REPO_ROOT / "out"
    assert config.REPO_ROOT not in config.data_dir().parents
    assert config.REPO_ROOT not in config.out_dir().parents
    # the committed snapshot is still read from the checkout
    assert config.snapshot_dir() == config.REPO_ROOT / "data" / "snapshot"
