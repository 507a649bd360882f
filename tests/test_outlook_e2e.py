"""End to end: outlook, alert and report through the CLI with the real pipeline.

- Offline on a fresh data folder: the weather-free outlook from the committed snapshot.
- Weather-driven: an Open-Meteo archive and forecast run fetched from the local
  127.0.0.1 server into the cache (SYNTHETIC bodies from tests/fixtures/openmeteo, not
  real weather), then ``forecast outlook``, ``alert`` and ``report`` read that cache.

The fitted models and the tide/sky table are cached once per module in a temporary
data folder (the first outlook pays for them).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from forecast.cli import main
from forecast.sources import openmeteo as om
from forecast.sources.sites import Site
from forecast.stores import weather
from tests.fixtures.openmeteo import synthetic as syn
from tests.httpserver import LocalServer, Reply

pytestmark = pytest.mark.slow  # ~20 s: cold model fits and tide/sky table (make test runs it)

NOW = "2026-11-25T06:00:00Z"
NOW_DT = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
SITES = [Site("a", 51.0, 1.5), Site("b", 50.97, 1.72)]
FAST = om.RetryPolicy(timeout_s=5.0, minutely_wait_s=0.0, transient_wait_s=0.0)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A fresh data and output folder shared by the module's tests."""
    root = tmp_path_factory.mktemp("e2e")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORECAST_DATA_DIR", str(root / "data"))
        mp.setenv("FORECAST_OUT_DIR", str(root / "out"))
        for var in (
            "FORECAST_OPENMETEO_ARCHIVE_URL",
            "FORECAST_OPENMETEO_MARINE_URL",
            "FORECAST_OPENMETEO_FORECAST_URL",
        ):
            mp.delenv(var, raising=False)
        yield root


def run_json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_offline_weather_free_outlook_and_page(home, capsys):
    code = main(["outlook", "--now", NOW, "--no-scenarios"])
    text = capsys.readouterr().out
    assert code == 0
    assert (
        "!! OLD DATA: arrivals data end 2026-08-20, 97 days (14 weeks) before this outlook was "
        "issued on 2026-11-25" in text
    )
    assert "!! NO WEATHER FORECAST: this is a weather-free outlook" in text
    assert "forecast weather update --kind forecast" in text and "--weather FILE" in text
    assert "Arrivals data up to 2026-08-20" in text
    saved = sorted((home / "data" / "outlooks").glob("outlook-*.json"))
    assert [p.name for p in saved] == ["outlook-20261125T060000Z.json"]
    latest = json.loads((home / "out" / "outlook.json").read_text())
    assert [d["date"] for d in latest["days"]] == [
        str(d.date()) for d in pd.date_range("2026-11-25", periods=7)
    ]
    assert latest["weather"]["source"] == "none"
    assert latest["provenance"]["origin"] == "2026-08-20"
    # 96 unknown days: the model is trained for the 97-103-day lead time it is used at
    assert latest["lead_days"] == [97, 103]
    assert latest["provenance"]["train_horizons"] == [97, 103]
    assert "97–103 days ahead" in text and "The model was trained for that lead time" in text
    assert "for forecasts 97–103 days after the last data" in text
    assert "not measured at this lead: this outlook is 97–103 days ahead of the last data" in text
    assert all(d["rag"] in ("red", "amber", "green") for d in latest["days"])
    assert all(d["q10"] <= d["q50"] <= d["q90"] for d in latest["days"])
    assert latest["week"]["q10"] <= latest["week"]["mean"] <= latest["week"]["q90"]

    # A second outlook a day later says what changed.
    code, later = run_json(
        capsys, ["outlook", "--now", "2026-11-26T06:00Z", "--no-scenarios", "--format", "json"]
    )
    assert code == 0
    assert later["changes"]["previous_issued"] == "2026-11-25T06:00:00+00:00"
    assert [d["date"] for d in later["changes"]["days"]] == [
        str(d.date()) for d in pd.date_range("2026-11-26", periods=6)
    ]

    assert main(["report", "--latest"]) == 0
    page = (home / "out" / "outlook.html").read_text()
    assert "NO WEATHER FORECAST" in page and "open-meteo.com" not in page
    assert '<meta name="viewport"' in page


def serve_weather(server: LocalServer) -> None:
    """Cache a SYNTHETIC archive (for training) and a forecast run from the local server."""
    for kind, path, variables in (
        ("archive", "/v1/archive", syn.ATMOS),
        ("marine", "/v1/marine", syn.WAVES),
    ):
        chunks = [
            (dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
            (dt.date(2026, 1, 1), dt.date(2026, 8, 20)),
        ]
        server.route(
            path,
            *[
                Reply(200, syn.body([(s.lat, s.lon) for s in SITES], a, b, variables))
                for a, b in chunks
            ],
        )
        weather.update(
            kind,
            "2025-10-01",
            "2026-08-20",
            SITES,
            url=server.url(path),
            policy=FAST,
            sleep=lambda s: None,
            now=lambda: NOW_DT,
            progress=False,
        )
    start, end = dt.date(2026, 11, 18), dt.date(2026, 12, 10)
    points = [(s.lat, s.lon) for s in SITES]
    server.route(
        "/v1/forecast", Reply(200, syn.body(points, start, end, (*syn.ATMOS, "visibility")))
    )
    server.route("/v1/marine-forecast", Reply(200, syn.body(points, start, end, syn.WAVES)))
    weather.update(
        "forecast",
        sites=SITES,
        url=server.url("/v1/forecast"),
        marine_url=server.url("/v1/marine-forecast"),
        policy=FAST,
        now=lambda: NOW_DT,
        progress=False,
        past_days=7,
        forecast_days=16,
        marine_forecast_days=16,
        with_history=False,  # the history was filled above for the span the test needs
    )


@pytest.mark.network
def test_weather_driven_outlook_alert_report(home, capsys):
    server = LocalServer().start()
    try:
        serve_weather(server)
    finally:
        server.stop()
    assert {r.path for r in server.requests} == {
        "/v1/archive",
        "/v1/marine",
        "/v1/forecast",
        "/v1/marine-forecast",
    }

    code, o = run_json(capsys, ["outlook", "--now", NOW, "--no-scenarios", "--format", "json"])
    assert code == 0
    assert o["weather"]["source"] == "openmeteo"
    assert o["provenance"]["weather_source"] == "openmeteo"
    # The run reaches 10 December 23:00 UTC: 16 nights from 25 November, 8-16 lower confidence.
    assert [d["date"] for d in o["days"]] == [
        str(d.date()) for d in pd.date_range("2026-11-25", "2026-12-10")
    ]
    assert [d["confidence"] for d in o["days"]] == ["normal"] * 7 + ["lower"] * 9
    assert not any(n.startswith("NO WEATHER") for n in o["notices"])
    assert any(a["url"] == "https://open-meteo.com/" for a in o["attribution"])
    assert all(d["drivers"].startswith("waves ") and " kn " in d["drivers"] for d in o["days"])

    code, alert = run_json(
        capsys,
        ["alert", "--now", NOW, "--threshold", "300", "--min-probability", "0", "--format", "json"],
    )
    assert code == 1 and alert["alert"] is True
    # nights whose window overlaps 25 Nov 06:00 .. 28 Nov 06:00 UTC
    assert [n["date"] for n in alert["nights"]] == [
        "2026-11-25",
        "2026-11-26",
        "2026-11-27",
        "2026-11-28",
    ]
    assert alert["weather_source"] == "openmeteo"
    code, quiet = run_json(
        capsys,
        [
            "alert",
            "--now",
            NOW,
            "--threshold",
            "300",
            "--min-probability",
            "0.999",
            "--max-data-age",
            "200",  # the snapshot's arrivals end 97 days before NOW
            "--format",
            "json",
        ],
    )
    assert code == 0 and quiet == {**quiet, "alert": False, "nights": []}

    assert main(["report", "--latest"]) == 0
    page = (home / "out" / "outlook.html").read_text()
    assert 'href="https://open-meteo.com/"' in page
    assert "lower confidence" in page


def test_alert_bad_option_exits_2(home, capsys):
    assert main(["alert", "--min-probability", "1.5"]) == 2
    assert "--min-probability 1.5 must be in [0, 1)" in capsys.readouterr().err


def test_as_of_replay_with_real_pipeline(home, capsys):
    code, o = run_json(
        capsys, ["outlook", "--as-of", "2024-09-01", "--no-scenarios", "--format", "json"]
    )
    assert code == 0
    assert o["mode"] == "as_of" and o["weather"]["source"] == "knmi"
    assert o["provenance"]["origin"] == "2024-08-31"
    assert o["provenance"]["model_trained"].startswith("2018-03-01..2024-08-31")
    # what actually happened (Home Office SB_01), next to the forecast
    assert [d["actual_people"] for d in o["days"]] == [0, 351, 317, 257, 51, 0, 357]
    assert o["week"]["actual"] == 1333
    assert all(0 <= d["p_any"] <= 1 and d["q10"] <= d["q90"] for d in o["days"])


@pytest.mark.slow
def test_default_outlook_has_year_end_scenarios_from_the_bundled_stations(home, capsys):
    """What `make outlook` runs: the year-end bands come from every past year whose
    primary-station weather covers the rest of the year (2017 lacks Aug-Sep at 310)."""
    code, o = run_json(capsys, ["outlook", "--now", NOW, "--format", "json"])
    assert code == 0
    assert not [n for n in o["notices"] if n.startswith("Year-end scenarios not available")]
    ye = o["year_end"]
    assert ye["year"] == 2026 and ye["known"] == 15_897 and ye["remaining_days"] == 133
    assert list(ye["by_weather_year"]) == [str(y) for y in range(2018, 2025)]
    assert ye["bands"]["low"] <= ye["bands"]["median"] <= ye["bands"]["high"]
    assert "310 Vlissingen" in ye["label"] and "340 Woensdrecht" in ye["label"]
