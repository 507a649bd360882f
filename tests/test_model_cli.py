"""``forecast model fit|show``."""

from __future__ import annotations

import json

import pytest

from forecast.cli import main


def test_model_fit_then_show(data_home, capsys):
    out = data_home / "m.skops"
    rc = main(
        [
            "model",
            "fit",
            "--weather-source",
            "none",
            "--origin",
            "2020-06-30",
            "--out",
            str(out),
            "--format",
            "json",
        ]
    )
    assert rc == 0
    fitted = json.loads(capsys.readouterr().out)
    assert fitted["weather_source"] == "none"
    assert fitted["train_start"] == "2018-03-01" and fitted["train_end"] == "2020-06-30"
    assert "people_last7" in fitted["features"] and "wind_speed_10m_mean" not in fitted["features"]
    assert out.exists()
    assert main(["model", "show", str(out)]) == 0
    text = capsys.readouterr().out
    assert "train_end" in text and "2020-06-30" in text


def test_model_show_missing_file(data_home, capsys):
    assert main(["model", "show", str(data_home / "nope.skops")]) == 2
    assert "not found; train one with 'forecast model fit'" in capsys.readouterr().err


def test_model_needs_action(capsys):
    with pytest.raises(SystemExit):
        main(["model"])
