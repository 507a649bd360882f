"""The outlook, alert and report commands with a stand-in for the pipeline (fast).

The stand-in returns a prediction frame with the contract's columns whose values are
known, so the commands' arithmetic, formats, exit codes and files can be checked
exactly. The real pipeline runs in tests/test_outlook_e2e.py.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from forecast.cli import main
from forecast.commands import options
from forecast.errors import ConfigError
from forecast.products import assemble
from forecast.products import outlook as ol
from forecast.products import predictor as pr
from tests.test_outlook import make_pred

NOW = "2026-11-25T06:00:00Z"
CALLS: list[dict] = []


def fake_predict(
    days,
    origin,
    weather_source="none",
    weather=None,
    arrivals=None,
    thresholds=(300, 500),
    fit_origin=None,
):
    """P(any) 0.8 on Saturdays, else 0.2; 100 expected people (q90 300)."""
    days = pd.DatetimeIndex(days)
    CALLS.append(
        {
            "days": days,
            "origin": pd.Timestamp(origin),
            "source": weather_source,
            "arrivals_end": arrivals.index[-1],
        }
    )
    p = np.where(days.day_of_week == 5, 0.8, 0.2)
    pred = make_pred(days, p, 100.0, 300.0, thresholds, horizon=(days - pd.Timestamp(origin)).days)
    pred.attrs["provenance"] = {
        **pred.attrs["provenance"],
        "weather_source": weather_source,
        "origin": str(pd.Timestamp(origin).date()),
    }
    return pred


@pytest.fixture
def fake(monkeypatch, data_home):
    CALLS.clear()
    monkeypatch.setattr(pr, "default_predictor", lambda knmi=None: fake_predict)
    return data_home


def run(capsys, argv):
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_outlook_table(fake, capsys):
    code, out, _ = run(capsys, ["outlook", "--now", NOW])
    assert code == 0
    assert out.splitlines()[0] == "Small-boat crossings outlook, issued 2026-11-25 06:00 UTC"
    sat = next(line for line in out.splitlines() if line.startswith("Sat  2026-11-28"))
    assert sat.split()[:4] == ["Sat", "2026-11-28", "RED", "80%"]
    assert " 100  " in sat  # the mean beside the median and its range
    assert "Week 2026-11-25 – 2026-12-01: expected 700 people" in out
    assert "Year to date 2026 (to 2026-08-20): 15,897 people" in out
    assert (
        "Year-end 2026 scenarios: low 29,197, central 29,197, high 29,197 people (15,897 known "
        "to 2026-08-20; the other 133 days modelled under each of 7 past years' weather; the "
        "spread is the weather's only)" in out
    )
    # the outlook itself: origin is the last arrivals day; year-end: one run per weather year
    assert CALLS[0]["origin"] == pd.Timestamp("2026-08-20") and CALLS[0]["source"] == "none"
    assert [len(c["days"]) for c in CALLS] == [7] + [133] * 7  # weather years 2018-2024
    saved = json.loads((fake / "out" / "outlook.json").read_text())
    assert saved["year_end"]["bands"]["low"] == 15_897 + 133 * 100
    assert saved["week"]["mean"] == 700


def test_outlook_formats_and_thresholds(fake, capsys):
    code, out, _ = run(
        capsys,
        ["outlook", "--now", NOW, "--format", "csv", "--thresholds", "200,300", "--no-scenarios"],
    )
    assert code == 0
    frame = pd.read_csv(__import__("io").StringIO(out), comment="#", index_col="date")
    assert list(frame.index) == [str(d.date()) for d in pd.date_range("2026-11-25", periods=7)]
    assert {"p_gt_200", "p_gt_300"} <= set(frame.columns) and "p_gt_500" not in frame.columns
    assert frame.loc["2026-11-28", "rag"] == "red"
    code, out, _ = run(
        capsys, ["outlook", "--now", "2026-11-25T15:00Z", "--format", "json", "--no-scenarios"]
    )
    o = json.loads(out)
    assert o["first_day"] == "2026-11-26"  # after 14:00 the 25th's night is over
    assert o["changes"]["previous_issued"] == "2026-11-25T06:00:00+00:00"
    assert o["changes"]["summary"] == "no material change since the outlook of 2026-11-25 06:00 UTC"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--thresholds", "300,abc"], r"--thresholds '300,abc': 'abc' is not a whole number"),
        (["--as-of", "2024-13-01"], r"--as-of '2024-13-01' is not a date; use YYYY-MM-DD"),
        (
            ["--as-of", "2025-06-25"],
            r"--as-of 2025-06-25 is outside the replay span 2019-03-01 \.\. 2025-06-24: ",
        ),
        (
            ["--as-of", "2030-01-01"],
            r"the arrivals up to the day before \(the data run 2018-01-01 \.\. 2026-08-20\)",
        ),
        (
            ["--as-of", "2018-06-01"],
            r"--as-of 2018-06-01 is outside the replay span 2019-03-01 .*a year of arrivals to train on",
        ),
        (["--as-of", "2017-03-01"], r"--as-of '2017-03-01' is outside 2018-01-01 \.\. 2100-12-31"),
        (["--as-of", "0001-01-01"], r"--as-of '0001-01-01' is outside 2018-01-01 \.\. 2100-12-31"),
        (["--now", "9999-12-31T23:59Z"], r"--now '9999-12-31T23:59Z' is outside 2018-01-01"),
        (["--thresholds", "300,1000001"], r"1000001 must be <= 100,000 people per day"),
        (["--scenario", "99999:2023"], r"--scenario '99999:2023': year 99999 is outside 2018"),
        # conflicting options are refused, naming both and what to do
        (
            ["--as-of", "2024-09-01", "--weather", "fc.json"],
            r"--as-of 2024-09-01 uses the bundled observed KNMI weather, so --weather would be "
            r"ignored; drop --weather \(or drop --as-of for a live outlook\)",
        ),
        (
            ["--as-of", "2024-09-01", "--no-weather"],
            r"--as-of 2024-09-01 uses the bundled observed KNMI weather, so --no-weather would",
        ),
        (
            ["--as-of", "2024-09-01", "--scenario", "2024:2023"],
            r"--as-of 2024-09-01 and --scenario 2024:2023 are two different runs: .*; give one",
        ),
        (
            ["--scenario", "2024:2023", "--weather", "fc.json"],
            r"--scenario 2024:2023 uses the bundled observed KNMI weather, so --weather would",
        ),
        (
            ["--no-weather", "--weather", "fc.json"],
            r"--no-weather and --weather fc.json contradict each other: give one",
        ),
        (["--thresholds", ",,"], r"--thresholds ',,' gives no number"),
        (["--thresholds", "-5"], r"--thresholds '-5': -5 must be >= 0 people"),
        (
            ["--weather", "/nonexistent/fc.json"],
            r"weather file /nonexistent/fc.json does not exist",
        ),
        (["--scenario", "2024-2021"], r"--scenario '2024-2021': expected YEAR:WEATHER_YEAR"),
        (["--now", "yesterday"], r"--now 'yesterday' is not a time"),
    ],
)
def test_outlook_errors_exit_2(fake, capsys, argv, message):
    code, out, err = run(capsys, ["outlook", "--no-scenarios", *argv])
    assert code == 2
    assert re.search(message, err), err
    assert out == "" and err.count("\n") == 1  # one clear line, no traceback
    assert CALLS == []  # refused before any forecasting


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("fc.txt", "hello", r"unknown type '\.txt'; give a NetCDF \(\.nc\) or an Open-Meteo JSON"),
        ("fc.json", "{not json", r"weather file .*fc\.json is not valid JSON"),
        ("fc.nc", "not netcdf", r"--weather .*fc\.nc: not a readable NetCDF file \(.*\); give"),
    ],
)
def test_unreadable_weather_file_exits_2(fake, capsys, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    for command in (["outlook", "--no-scenarios"], ["alert"]):
        code, out, err = run(capsys, [*command, "--now", NOW, "--weather", str(path)])
        assert code == 2, (command, out, err)
        assert re.search(message, err), err
    assert CALLS == []


def test_as_of_replay_uses_only_data_known_then(fake, capsys):
    code, out, _ = run(capsys, ["outlook", "--as-of", "2024-09-01", "--format", "json"])
    o = json.loads(out)
    assert code == 0 and o["mode"] == "as_of"
    assert CALLS[0]["origin"] == pd.Timestamp("2024-08-31") and CALLS[0][
        "arrivals_end"
    ] == pd.Timestamp("2024-08-31")
    assert CALLS[0]["source"] == "knmi"
    assert o["notices"][0].startswith(
        "REPLAY of 2024-09-01: only arrivals up to 2024-08-31 are used"
    )
    assert [d["actual_people"] for d in o["days"]] == [0, 351, 317, 257, 51, 0, 357]
    assert o["week"]["actual"] == 1333
    # 2018-2023: 2017 lacks Sep-Oct at the primary coastal station (its record starts 2017-10-01)
    assert o["year_end"]["n_years"] == 6 and "2024" not in o["year_end"]["by_weather_year"]
    # the whole of 2024 is known now: the replay shows the actual year-end next to the bands
    assert o["year_end"]["actual"] == 36_816
    assert o["year_end"]["bands"]["median"] == o["year_end"]["known"] + 122 * 100
    assert any(a["url"] == "https://www.knmi.nl/" for a in o["attribution"])
    assert not (fake / "data" / "outlooks").exists()  # replays are not kept as "previous"


def test_weather_file_that_misses_the_days(fake, capsys, tmp_path):
    import datetime as dt

    from tests.fixtures.openmeteo import synthetic as syn

    path = tmp_path / "fc.json"
    path.write_text(
        json.dumps(syn.body([(51.0, 1.5)], dt.date(2026, 11, 1), dt.date(2026, 11, 3), syn.ATMOS))
    )
    code, _, err = run(capsys, ["outlook", "--now", NOW, "--weather", str(path), "--no-scenarios"])
    assert code == 2
    assert "does not cover the night before 2026-11-25; give a forecast that covers it" in err


def test_weather_file_drives_the_outlook(fake, capsys, tmp_path):
    import datetime as dt

    from tests.fixtures.openmeteo import synthetic as syn

    path = tmp_path / "fc.json"
    body = syn.body(
        [(51.0, 1.5)], dt.date(2026, 11, 20), dt.date(2026, 11, 29), (*syn.ATMOS, *syn.WAVES)
    )
    path.write_text(json.dumps(body))
    code, out, _ = run(
        capsys,
        ["outlook", "--now", NOW, "--weather", str(path), "--no-scenarios", "--format", "json"],
    )
    o = json.loads(out)
    assert code == 0 and o["weather"]["source"] == "openmeteo"
    # the file ends 29 Nov 23:00 UTC: nights of 25..29 November are covered
    assert [d["date"] for d in o["days"]] == [f"2026-11-{d}" for d in range(25, 30)]
    assert (
        o["notices"][-1]
        == "The weather forecast covers only 5 day(s) from 2026-11-25; the outlook stops there."
    )
    assert CALLS[0]["source"] == "openmeteo"


def test_scenario_view(fake, capsys):
    code, out, _ = run(capsys, ["outlook", "--scenario", "2024:2021"])
    assert code == 0
    assert out.startswith(
        "2024 with 2021's weather, 2024-01-01 .. 2024-12-31 (366 days), weekly forecasts from the "
        "arrivals known each week (first origin 2023-12-31)"
    )
    assert "actual                          36,816" in out
    code, out, _ = run(capsys, ["outlook", "--scenario", "2024:2021", "--format", "json"])
    s = json.loads(out)
    assert s["own_weather"]["expected"] == 36_600 and s["weather_effect"] == 0
    assert s["own_weather"]["red_days"] == 52  # Saturdays of 2024


def test_alert_exit_codes_and_json(fake, capsys):
    code, out, _ = run(
        capsys,
        [
            "alert",
            "--now",
            NOW,
            "--threshold",
            "300",
            "--min-probability",
            "0.1",
            "--format",
            "json",
        ],
    )
    payload = json.loads(out)
    assert code == 1 and payload["alert"] is True and payload["status"] == "alert"
    # Saturday 28 Nov: p_gt_300 = 0.8 * 100 / 600 = 0.133; the other nights 0.033
    assert [n["date"] for n in payload["nights"]] == ["2026-11-28"]
    assert payload["nights"][0]["probability"] == pytest.approx(0.133)
    assert payload["arrivals_end"] == "2026-08-20" and payload["weather_source"] == "none"
    # 2026-11-25 - 2026-08-20: the data age as 'forecast arrivals show' counts it
    assert payload["notices"][0].startswith("OLD DATA: arrivals data end 2026-08-20, 97 days")
    assert payload["lead_days"] == [97, 103]
    assert payload["backtest_skill_text"].startswith(
        "not measured at this lead: this outlook is 97"
    )
    assert payload["backtest_skill_text"].endswith(
        "crps_skill_vs_climatology 0.21; brier_skill 0.33"
    )
    # no alert, but the data are 97 days old and no weather forecast was used: cannot say
    code, out, _ = run(
        capsys, ["alert", "--now", NOW, "--threshold", "300", "--min-probability", "0.2"]
    )
    assert code == 3 and "  none found, but:" in out
    assert "  CANNOT SAY: the arrivals data end 2026-08-20, 97 days before the issue day" in out
    assert "  CANNOT SAY: no weather forecast was used" in out
    assert "Made from arrivals to 2026-08-20, weather: " in out and "\nBacktest skill: " in out
    code, out, _ = run(
        capsys,
        [
            "alert",
            "--now",
            NOW,
            "--threshold",
            "250",
            "--min-probability",
            "0.1",
            "--hours",
            "24",
            "--format",
            "csv",
        ],
    )
    assert (
        code == 3
        and out.strip() == "date,night,probability,threshold,rag,expected_people,q10,q90,drivers"
    )


def test_report_from_saved_outlook(fake, capsys):
    assert main(["outlook", "--now", NOW, "--no-scenarios"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, ["report", "--latest"])
    assert code == 0 and out.startswith(f"wrote {fake / 'out' / 'outlook.html'}")
    page = (fake / "out" / "outlook.html").read_text()
    assert ">700<" in page  # the week's expected total
    bad = fake / "bad.json"
    bad.write_text("[]")
    code, _, err = run(capsys, ["report", "--outlook", str(bad)])
    assert code == 2 and "the JSON is a list, not an outlook object" in err


def test_report_makes_an_outlook_when_none_saved(fake, capsys):
    code, out, _ = run(capsys, ["report"])
    assert code == 0
    saved = json.loads((fake / "out" / "outlook.json").read_text())
    page = (fake / "out" / "outlook.html").read_text()
    assert saved["week"]["mean"] == 700 and len(saved["days"]) == 7
    assert f'<div class="v">{saved["week"]["mean"]:,}</div>' in page
    assert "OLD DATA: arrivals data end 2026-08-20" in page
    assert (
        len(list((fake / "data" / "outlooks").glob("outlook-*.json"))) == 1
    )  # kept for "what changed"


def test_parse_thresholds():
    assert options.parse_thresholds(None) == (300, 500)
    assert options.parse_thresholds("500, 100,100") == (100, 500)
    assert options.parse_thresholds(None, extra=(250,)) == (250, 300, 500)
    with pytest.raises(ConfigError, match=r"-5 must be >= 0 people"):
        options.parse_thresholds("-5")
    with pytest.raises(ConfigError, match=r"--thresholds '' gives no number"):
        options.parse_thresholds("")
    with pytest.raises(ConfigError, match=r"'2.5' is not a whole number"):
        options.parse_thresholds("2.5")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--min-probability", "1"], r"--min-probability 1.0 must be in \[0, 1\)"),
        (["--min-probability", "nan"], r"--min-probability nan must be in \[0, 1\)"),
        (["--now", "soon"], r"--now 'soon' is not a time"),
        (["--now", "9999-12-31"], r"--now '9999-12-31' is outside 2018-01-01 \.\. 2100-12-31"),
        (["--no-weather", "--weather", "f.json"], r"--no-weather and --weather f.json contradict"),
    ],
)
def test_alert_errors_exit_2(fake, capsys, argv, message):
    code, out, err = run(capsys, ["alert", *argv])
    assert code == 2 and out == ""
    assert re.search(message, err), err
    assert CALLS == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--threshold", "-1"], r"argument --threshold: '-1' is outside \[0, 100000\] \[people\]"),
        (["--hours", "0"], r"argument --hours: '0' is outside \[1, 384\] \[h\]"),
        (["--hours", "400"], r"argument --hours: '400' is outside \[1, 384\] \[h\]"),
        (["--hours", "nan"], r"argument --hours: 'nan' is outside \[1, 384\] \[h\]"),
        (["--max-data-age", "-1"], r"argument --max-data-age: '-1' is outside \[0, 3650\]"),
    ],
)
def test_alert_bad_numbers_refused_by_the_parser(fake, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(["alert", *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and re.search(message, err), err


def test_alert_exit_0_only_when_fresh_data_and_weather_say_no(fake, capsys, monkeypatch):
    """0 = no alert from fresh data with a weather forecast; stale or weather-free: 3."""
    args = ["alert", "--now", NOW, "--min-probability", "0.9", "--format", "json"]
    code, out, _ = run(capsys, [*args, "--max-data-age", "200"])
    payload = json.loads(out)
    assert code == 3 and payload["status"] == "cannot_say" and payload["exit_status"] == 3
    assert payload["data_age_days"] == 97 and len(payload["cannot_say"]) == 1
    assert payload["cannot_say"][0].startswith("no weather forecast was used")
    # the same night with a weather forecast and data young enough: a real "no alert"
    real = assemble.choose_weather

    def with_weather(first_day, weather_file, as_of, no_weather, knmi=None):
        source, data, info, days, notices = real(first_day, weather_file, as_of, no_weather, knmi)
        return "openmeteo", data, {**info, "source": "openmeteo"}, days, notices

    monkeypatch.setattr(assemble, "choose_weather", with_weather)
    code, out, _ = run(capsys, [*args, "--max-data-age", "200"])
    assert code == 0 and json.loads(out)["status"] == "no_alert"
    code, out, _ = run(capsys, [*args, "--max-data-age", "96"])
    payload = json.loads(out)
    assert code == 3 and payload["cannot_say"][0].startswith(
        "the arrivals data end 2026-08-20, 97 days before the issue day (limit --max-data-age 96)"
    )


def test_alert_unexpected_failure_exits_2_not_1(fake, capsys, monkeypatch):
    """A bug inside alert must not look like an alert (1) to a script."""

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(ol, "busy_nights", broken)
    code, out, err = run(capsys, ["alert", "--now", NOW])
    assert code == 2 and out == ""
    assert "forecast alert: error: unexpected failure (ZeroDivisionError: boom)" in err
    assert "Traceback" in err  # kept for the bug report


def test_alert_help_documents_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["alert", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 no alert; 1 alert(s); 2 error" in out
    assert (
        "3 cannot say (no alert found, but the arrivals data are older than --max-data-age" in out
    )


def test_train_horizons():
    days = pd.date_range("2026-11-25", periods=7)
    assert pr.train_horizons(days, "2026-11-24") == tuple(range(1, 8))
    assert pr.train_horizons(days, "2026-08-20") == tuple(range(97, 104))
    assert pr.train_horizons(pd.date_range("2026-11-25", periods=16), "2026-11-24") == tuple(
        range(1, 17)
    )


def _forecast_ds(start, end):
    from forecast.sources import openmeteo as om
    from tests.fixtures.openmeteo import synthetic as syn

    body = syn.body([(51.0, 1.5)], start, end, (*syn.ATMOS, *syn.WAVES))
    return body, om.read_response(body, None, where="test")


def test_cached_forecast_without_history_falls_back(fake, capsys, monkeypatch):
    import datetime as dt

    from forecast.errors import SourceError
    from forecast.stores import weather

    _, ds = _forecast_ds(dt.date(2026, 11, 20), dt.date(2026, 12, 10))
    monkeypatch.setattr(weather, "load_forecast_latest", lambda: ds)

    def no_history(days, origin, weather_source="none", **kw):
        if weather_source == "openmeteo":
            raise SourceError("no cached Open-Meteo archive data in X")
        return fake_predict(days, origin, weather_source, **kw)

    monkeypatch.setattr(pr, "default_predictor", lambda knmi=None: no_history)
    code, out, _ = run(capsys, ["outlook", "--now", NOW, "--no-scenarios", "--format", "json"])
    o = json.loads(out)
    assert code == 0 and o["weather"]["source"] == "none" and len(o["days"]) == 7
    assert o["notices"][-2].startswith(
        "The cached weather forecast was not used: the weather model cannot be trained "
        "(no cached Open-Meteo archive data in X)."
    )
    assert o["notices"][-1] == (
        "NO WEATHER FORECAST: this is a weather-free outlook (season and recent history only)."
    )
    path = fake / "fc.json"
    path.write_text(json.dumps(_forecast_ds(dt.date(2026, 11, 20), dt.date(2026, 12, 10))[0]))
    code, _, err = run(capsys, ["outlook", "--now", NOW, "--no-scenarios", "--weather", str(path)])
    assert code == 2 and "the weather model cannot be trained" in err and "--kind archive" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--as-of", "2030-01-01"], r"--as-of 2030-01-01 is outside the replay span"),
        (["--as-of", "1 May"], r"--as-of '1 May' is not a date; use YYYY-MM-DD"),
        (["--outlook", "/nonexistent/o.json"], r"cannot read outlook /nonexistent/o.json"),
    ],
)
def test_report_errors_exit_2(fake, capsys, argv, message):
    code, out, err = run(capsys, ["report", *argv])
    assert code == 2 and out == ""
    assert re.search(message, err), err
    assert not (fake / "out" / "outlook.html").exists()
