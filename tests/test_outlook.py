"""Tests of forecast.products.outlook and forecast.products.scenarios against constructed prediction frames."""

from __future__ import annotations

import datetime as dt
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecast.cli import main
from forecast.errors import ConfigError, DataFormatError
from forecast.features.tides import night_tide_features
from forecast.products import outlook as ol
from forecast.products import scenarios as sc

UTC = dt.UTC


def make_pred(days, p_any, expected, q90, thresholds=(300, 500), **drivers) -> pd.DataFrame:
    """A prediction frame with the contract's columns (values given per day)."""
    days = pd.DatetimeIndex(days, name="date")
    n = len(days)
    p_any = np.broadcast_to(np.asarray(p_any, float), n)
    expected = np.broadcast_to(np.asarray(expected, float), n)
    q90 = np.broadcast_to(np.asarray(q90, float), n)
    out = pd.DataFrame(index=days)
    out["p_any"] = p_any
    out["rag"] = np.where(p_any > 0.55, "red", np.where(p_any < 0.35, "green", "amber"))
    out["expected_people"] = expected
    out["q10"] = 0.0
    out["q50"] = expected * 0.8
    out["q80"] = expected * 1.5
    out["q90"] = q90
    for n_ in thresholds:
        out[f"p_gt_{n_}"] = np.clip(p_any * expected / (2.0 * n_), 0, 1)
    out["expected_boats"] = expected / 50
    for k, v in drivers.items():
        out[k] = v
    out.attrs["provenance"] = {
        "arrivals_end": "2025-06-29",
        "weather_source": "none",
        "weather_run": "",
        "model_trained": "2018-03-01..2025-06-29",
        "backtest_skill": {"crps_skill_vs_climatology": 0.21, "brier_skill": 0.33},
    }
    return out


def make_arrivals(start="2023-01-01", end="2025-06-29", people=10) -> pd.DataFrame:
    idx = pd.date_range(start, end, freq="D", name="date")
    df = pd.DataFrame({"people": people, "boats": 1, "notes": ""}, index=idx)
    df.attrs = {"source": "test arrivals", "end_date": idx[-1].date().isoformat()}
    return df


# ---------------------------------------------------------------------------
# time
# ---------------------------------------------------------------------------


def test_night_window_spans_dst_change():
    # Clocks go forward on 2026-03-29: D-1 22:00 GMT .. D 14:00 BST is 15 h.
    start, end = ol.night_window_utc(pd.Timestamp("2026-03-29"))
    assert start == pd.Timestamp("2026-03-28 22:00", tz="UTC")
    assert end == pd.Timestamp("2026-03-29 13:00", tz="UTC")
    # Clocks go back on 2026-10-25: 21:00 UTC (22:00 BST) .. 14:00 UTC (GMT), 17 h.
    start, end = ol.night_window_utc(pd.Timestamp("2026-10-25"))
    assert (start, end) == (
        pd.Timestamp("2026-10-24 21:00", tz="UTC"),
        pd.Timestamp("2026-10-25 14:00", tz="UTC"),
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (dt.datetime(2026, 11, 25, 2, 30, tzinfo=UTC), "2026-11-25"),
        (dt.datetime(2026, 11, 25, 13, 59, tzinfo=UTC), "2026-11-25"),
        (dt.datetime(2026, 11, 25, 14, 0, tzinfo=UTC), "2026-11-26"),
        (dt.datetime(2026, 7, 1, 12, 59, tzinfo=UTC), "2026-07-01"),  # 13:59 BST
        (dt.datetime(2026, 7, 1, 13, 0, tzinfo=UTC), "2026-07-02"),  # 14:00 BST
        (dt.datetime(2026, 7, 1, 23, 30, tzinfo=UTC), "2026-07-02"),  # already 2 July in the UK
    ],
)
def test_first_outlook_day(now, expected):
    assert ol.first_outlook_day(now) == pd.Timestamp(expected)


def test_naive_now_is_refused():
    with pytest.raises(ConfigError, match="has no time zone"):
        ol.first_outlook_day(dt.datetime(2026, 11, 25, 3))


# ---------------------------------------------------------------------------
# distributions and totals
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "mean", "q90"), [(0.8, 200.0, 500.0), (0.34, 83.0, 293.0), (0.6, 50.0, 90.0)]
)
def test_day_distribution_matches_mean_and_q90(p, mean, q90):
    prob, shape, scale = ol.day_distribution(p, mean, q90)
    assert prob == p
    assert prob * shape * scale == pytest.approx(mean)
    u = 1 - 0.1 / p
    assert stats.gamma.ppf(u, shape, scale=scale) == pytest.approx(q90, rel=1e-5)


def test_day_distribution_low_probability_is_exponential():
    assert ol.day_distribution(0.05, 3.0, 0.0) == (0.05, 1.0, 60.0)
    assert ol.day_distribution(0.0, 0.0, 0.0) == (0.0, 1.0, 0.0)


def test_total_distribution_is_not_a_sum_of_quantiles():
    days = pd.date_range("2025-07-01", periods=7)
    pred = make_pred(days, 0.5, 100.0, 300.0)
    total = ol.total_distribution(pred, random_state=1)
    assert total["mean"] == 700
    assert total["n_days"] == 7
    # Summing daily q90 (2100) overstates the week's q90; summing q10 (0) understates q10.
    assert 700 < total["q90"] < 2100
    assert 0 < total["q10"] < 700
    # Reproducible with the same random_state; Monte Carlo mean close to the exact mean.
    assert ol.total_distribution(pred, random_state=1) == total
    draws = ol.sample_days(pred, n_draws=20_000, random_state=3).sum(axis=1)
    assert draws.mean() == pytest.approx(700, rel=0.03)


def test_total_of_sure_days_is_tight():
    pred = make_pred(pd.date_range("2025-07-01", periods=3), 1.0, 100.0, 101.0)
    total = ol.total_distribution(pred)
    # Shape capped at 200: each day has sd 100 / sqrt(200) = 7, the sum sd 12.
    assert 270 < total["q10"] < 300 < total["q90"] < 330


def test_total_of_no_days():
    assert ol.total_distribution(make_pred([], 0.5, 1, 1))["mean"] == 0


# ---------------------------------------------------------------------------
# drivers
# ---------------------------------------------------------------------------


def test_drivers_in_words():
    row = pd.Series(
        {
            "wave_height_max": 0.31,
            "wind_speed_10m_mean": 6.2,
            "wind_dir_sin": math.sin(math.radians(45)),
            "wind_dir_cos": math.cos(math.radians(45)),
            "hw_in_darkness": 1.0,
            "first_dark_hw_utc": pd.Timestamp("2026-11-26 03:10"),
            "days_since_calm": 9.0,
        }
    )
    assert (
        ol.drivers_text(row)
        == "waves 0.3 m, wind 6 kn NE, high water 03:10 UK in darkness, after 9 stormy days"
    )


def test_drivers_summer_time_and_gusts():
    row = pd.Series(
        {
            "wind_speed_10m_mean": 12.0,
            "wind_gusts_10m_max": 25.0,
            "wind_dir_sin": -1.0,
            "wind_dir_cos": 0.0,
            "calm_hours": 2.0,
            "precipitation_sum": 4.4,
            "hw_in_darkness": 1.0,
            "first_dark_hw_utc": pd.Timestamp("2026-07-01 02:10"),
        }
    )
    assert (
        ol.drivers_text(row)
        == "wind 12 kn W, gusts 25 kn, 2 calm hours, rain 4 mm, high water 03:10 UK in darkness"
    )


@pytest.mark.parametrize(
    ("day", "hw_utc", "uk"),
    [
        ("2026-07-01", "2026-06-30 23:36:50", "00:37"),  # BST, previous UTC day
        ("2026-11-10", "2026-11-09 23:11:49", "23:12"),  # GMT, evening of D-1
    ],
)
def test_driver_time_is_the_time_forecast_tides_prints(capsys, day, hw_utc, uk):
    """Same HW, same minute as ``forecast tides`` (rounded, not truncated), labelled UK."""
    night = night_tide_features([day])
    first = night.loc[day, "first_dark_hw_utc"]
    assert abs(first - pd.Timestamp(hw_utc)) < pd.Timedelta(seconds=1)
    assert first.second >= 30  # truncating would print the minute before
    row = pd.Series(
        {"hw_in_darkness": float(night.loc[day, "hw_in_darkness"]), "first_dark_hw_utc": first},
        name=pd.Timestamp(day),
    )
    text = ol.drivers_text(row)
    assert text == f"high water {uk} UK in darkness"
    hw_day = f"{first:%Y-%m-%d}"
    assert main(["tides", "--start", hw_day, "--end", hw_day, "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    printed = table[
        (table["kind"] == "HW") & table["time_utc"].str.startswith(f"{first:%Y-%m-%d %H}")
    ]
    assert len(printed) == 1
    time_uk = printed["time_uk"].iloc[0]  # e.g. "2026-07-01 00:37 BST"
    assert time_uk.split()[1] == uk
    # the nights table of forecast tides shows the same minute in UTC
    assert main(["tides", "--nights", "--start", day, "--end", day, "--format", "csv"]) == 0
    nights = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert nights["first_dark_hw_utc"].iloc[0] == printed["time_utc"].iloc[0]


def test_drivers_name_only_times_inside_the_night():
    # 2026-11-26 03:10 UTC lies in the night feeding the 26th, not the 27th
    base = {"hw_in_darkness": 1.0, "first_dark_hw_utc": pd.Timestamp("2026-11-26 03:10")}
    inside = ol.drivers_text(pd.Series(base, name=pd.Timestamp("2026-11-26")))
    outside = ol.drivers_text(pd.Series(base, name=pd.Timestamp("2026-11-27")))
    assert inside == "high water 03:10 UK in darkness"
    assert outside == "high water in darkness"
    # an evening HW at 18:00 UTC on D-1 is before the night (22:00 UK)
    evening = {"hw_in_darkness": 1.0, "first_dark_hw_utc": pd.Timestamp("2026-12-02 18:00")}
    assert ol.drivers_text(pd.Series(evening, name=pd.Timestamp("2026-12-03"))) == (
        "high water in darkness"
    )
    # day_rows passes each day's date with its row
    pred = make_pred(["2026-11-26", "2026-11-27"], 0.5, 10, 30, **base)
    rows = ol.day_rows(pred, pd.Timestamp("2026-11-26"), (300, 500))
    assert [r["drivers"] for r in rows] == [inside, outside]


def test_drivers_without_weather():
    assert (
        ol.drivers_text(pd.Series({"people_last7": 10.0}))
        == "season and recent history only (no weather)"
    )
    assert ol.drivers_text(pd.Series({"drivers": " given text "})) == "given text"


@pytest.mark.parametrize(
    ("deg", "name"), [(0, "N"), (359, "N"), (45, "NE"), (200, "SSW"), (270, "W"), (337.5, "NNW")]
)
def test_compass(deg, name):
    assert ol.compass(deg) == name


# ---------------------------------------------------------------------------
# year to date, staleness
# ---------------------------------------------------------------------------


def test_year_to_date_and_same_span():
    arr = make_arrivals("2023-01-01", "2025-06-29")
    arr.loc["2024-02-29", "people"] = 1000
    y = ol.year_to_date(arr, pd.Timestamp("2025-03-01"))
    assert y["people"] == 60 * 10
    assert y["same_span"] == {"2023": 600, "2024": 60 * 10 + 1000 - 10 + 10}


def test_stale_assumption_says_what_the_model_was_trained_for():
    trained = ol.stale_assumption("2026-08-20", 97, 103, [97, 103], "none")
    assert trained == (
        "Each day is forecast from the last known day (2026-08-20), 97–103 days ahead; nothing "
        "that happened after 2026-08-20 is used. The model was trained for that lead time (every "
        "past day learnt from what was known 97–103 days before it), so recent crossings count "
        "for little: these figures are mostly season and calendar."
    )
    untrained = ol.stale_assumption("2026-08-20", 97, 103, [1, 7], "openmeteo")
    assert untrained.endswith(
        "The model was trained on lead times of up to 7 days, so recent-history terms are used "
        "beyond what it learnt: read these as rough season and weather figures."
    )


def test_old_data_notice_uses_trained_horizons():
    first = pd.Timestamp("2025-09-01")
    pred = make_pred(pd.date_range(first, periods=7), 0.3, 20.0, 60.0)
    pred["horizon"] = np.arange(64, 71, dtype=float)
    pred.attrs["provenance"]["train_horizons"] = [64, 70]
    o = ol.build_outlook(
        pred,
        first_day=first,
        arrivals=make_arrivals(),
        issued_utc=dt.datetime(2025, 9, 1, tzinfo=UTC),
    )
    assert "64–70 days ahead" in o["notices"][0]
    assert [(d["day"], d["lead_days"]) for d in o["days"][:2]] == [(1, 64), (2, 65)]
    assert o["lead_days"] == [64, 70]
    assert "The model was trained for that lead time" in o["notices"][0]


def test_staleness_notice():
    assert ol.staleness_notice(pd.Timestamp("2026-11-21"), pd.Timestamp("2026-11-25")) is None
    text = ol.staleness_notice(
        pd.Timestamp("2026-08-20"),
        pd.Timestamp("2026-11-25"),
        issued_day=pd.Timestamp("2026-11-24"),
    )
    # the same age as 'forecast arrivals show' on 2026-11-24 (uk_today - end)
    assert (pd.Timestamp("2026-11-24") - pd.Timestamp("2026-08-20")).days == 96
    assert text.startswith(
        "OLD DATA: arrivals data end 2026-08-20, 96 days (14 weeks) before this outlook was "
        "issued on 2026-11-24 (the data age 'forecast arrivals show' reports); the 96 days "
        "from 2026-08-21 to 2026-11-24 are unknown to the model."
    )
    assert "forecast arrivals update" in text


# ---------------------------------------------------------------------------
# the outlook
# ---------------------------------------------------------------------------


def build(days=7, p=0.6, weather=None, **kw):
    first = pd.Timestamp("2025-06-30")
    pred = make_pred(pd.date_range(first, periods=days), p, 120.0, 350.0, wave_height_max=0.4)
    return ol.build_outlook(
        pred,
        first_day=first,
        arrivals=make_arrivals(),
        issued_utc=dt.datetime(2025, 6, 30, 6, tzinfo=UTC),
        weather=weather or {"source": "none", "missing": "Run 'forecast weather update'."},
        **kw,
    )


def test_build_outlook_fields():
    o = build(
        days=10,
        weather={"source": "openmeteo", "label": "Open-Meteo forecast", "run": "2025-06-30T00:00"},
    )
    assert [d["date"] for d in o["days"]][:2] == ["2025-06-30", "2025-07-01"]
    assert [d["confidence"] for d in o["days"]] == ["normal"] * 7 + ["lower"] * 3
    d0 = o["days"][0]
    assert (d0["rag"], d0["p_any"], d0["expected_people"], d0["q90"]) == ("red", 0.6, 120.0, 350)
    assert d0["p_gt_300"] == pytest.approx(0.12)
    assert d0["drivers"] == "waves 0.4 m"
    assert (
        o["week"]["mean"] == 840
        and o["week"]["from"] == "2025-06-30"
        and o["week"]["to"] == "2025-07-06"
    )
    assert o["ytd"]["people"] == 1800 and o["ytd"]["to"] == "2025-06-29"
    assert o["arrivals"] == {"end_date": "2025-06-29", "source": "test arrivals", "gap_days": 0}
    urls = [a["url"] for a in o["attribution"]]
    assert "https://open-meteo.com/" in urls and "https://www.knmi.nl/" not in urls
    assert o["notices"] == []
    json.dumps(o)  # serialisable


def test_weather_free_outlook_says_what_is_missing():
    o = build()
    assert o["notices"] == [
        "NO WEATHER FORECAST: this is a weather-free outlook (season and recent history only). "
        "Run 'forecast weather update'."
    ]
    assert "https://open-meteo.com/" not in [a["url"] for a in o["attribution"]]


def test_old_data_is_named_first():
    first = pd.Timestamp("2025-09-01")
    pred = make_pred(pd.date_range(first, periods=7), 0.3, 20.0, 60.0)
    o = ol.build_outlook(
        pred,
        first_day=first,
        arrivals=make_arrivals(),
        issued_utc=dt.datetime(2025, 9, 1, tzinfo=UTC),
    )
    # age as `forecast arrivals show` counts it: 2025-09-01 - 2025-06-29 = 64 days
    assert o["notices"][0].startswith("OLD DATA: arrivals data end 2025-06-29, 64 days (9 weeks)")
    assert o["arrivals"]["gap_days"] == 63
    assert "OLD DATA" in ol.format_table(o)


def test_missing_columns_are_named():
    pred = make_pred(pd.date_range("2025-07-01", periods=2), 0.5, 1, 1).drop(
        columns=["q90", "p_gt_500"]
    )
    with pytest.raises(DataFormatError, match=r"lacks column\(s\) \['q90', 'p_gt_500'\]"):
        ol.check_prediction(pred, (300, 500))


def test_as_of_outlook_shows_actuals():
    first = pd.Timestamp("2025-06-01")
    arr = make_arrivals(end="2025-06-29")
    pred = make_pred(pd.date_range(first, periods=7), 0.7, 100.0, 300.0)
    o = ol.build_outlook(
        pred,
        first_day=first,
        arrivals=arr.loc[:"2025-05-31"],
        issued_utc=dt.datetime(2025, 11, 1, tzinfo=UTC),
        mode="as_of",
        actual=arr.loc["2025-06-01":],
    )
    assert [d["actual_people"] for d in o["days"]] == [10] * 7
    assert o["week"]["actual"] == 70
    text = ol.format_table(o)
    assert "as it would have been issued on 2025-06-01 (replay)" in text
    assert "actual 70" in text


def test_format_table_and_csv():
    o = build(days=9)
    text = ol.format_table(o)
    assert (
        "Mon   2025-06-30  RED  60%     96 (0–350)                  120   12%      7%       2      "
        "waves 0.4 m" in text
    )
    # the point shown (median) always lies in its range; the mean is shown beside it
    assert all(d["q10"] <= d["q50"] <= d["q90"] for d in o["days"])
    assert (
        "RAG follows the Home Office convention on the chance of any crossing: RED above 55%"
        in text
    )
    assert "* beyond day 7: lower confidence" in text
    assert "Week 2025-06-30 – 2025-07-06: expected 840 people (80 % range" in text
    assert "Backtest skill: crps_skill_vs_climatology 0.21; brier_skill 0.33" in text
    csv = ol.to_csv(o)
    assert csv.splitlines()[:4] == [
        "# issued_utc=2025-06-30T06:00:00+00:00",
        "# arrivals_end=2025-06-29",
        "# weather=none",
        "# notice: NO WEATHER FORECAST: this is a weather-free outlook (season and recent "
        "history only)",
    ]
    frame = pd.read_csv(__import__("io").StringIO(csv), comment="#", index_col="date")
    assert list(frame.index[:2]) == ["2025-06-30", "2025-07-01"]
    assert frame.loc["2025-06-30", "q90"] == 350
    assert json.loads(ol.to_json(o))["week"]["mean"] == 840


# ---------------------------------------------------------------------------
# saved outlooks and changes
# ---------------------------------------------------------------------------


def test_save_read_and_compare(tmp_path):
    first = build(p=0.3)
    path = ol.save_outlook(first, tmp_path)
    assert path.name == "outlook-20250630T060000Z.json"
    assert ol.read_outlook(path)["week"] == first["week"]
    second = build(p=0.7)
    second["issued_utc"] = "2025-06-30T18:00:00+00:00"
    prev = ol.latest_outlook(tmp_path, before_utc=second["issued_utc"])
    assert prev["issued_utc"] == first["issued_utc"]
    assert ol.latest_outlook(tmp_path, before_utc=first["issued_utc"]) is None
    changes = ol.compare_outlooks(second, prev)
    assert changes["days"][0] == {
        "date": "2025-06-30",
        "rag_before": "green",
        "rag_now": "red",
        "expected_before": 120.0,
        "expected_now": 120.0,
        "change": 0.0,
    }
    assert changes["summary"].startswith(
        "since the outlook of 2025-06-30 06:00 UTC: 2025-06-30 green→red; 2025-07-01 green→red"
    )
    same = ol.compare_outlooks(first, first)
    assert same["summary"] == "no material change since the outlook of 2025-06-30 06:00 UTC"
    assert ol.compare_outlooks(first, None) is None


def test_read_outlook_rejects_other_files(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"schema": 99}')
    with pytest.raises(DataFormatError, match=r"x.json is not an outlook of schema 1"):
        ol.read_outlook(bad)
    bad.write_text("{")
    with pytest.raises(DataFormatError, match="cannot read outlook"):
        ol.read_outlook(bad)


# ---------------------------------------------------------------------------
# alerts
# ---------------------------------------------------------------------------


def test_busy_nights_in_window():
    o = build(days=7, p=0.9)  # p_gt_300 = 0.9 * 120 / 600 = 0.18
    now = dt.datetime(2025, 6, 30, 6, tzinfo=UTC)  # 07:00 BST: night of 30 June still open
    nights = ol.busy_nights(o, 300, 0.1, now_utc=now, hours=72)
    assert [n["date"] for n in nights] == ["2025-06-30", "2025-07-01", "2025-07-02", "2025-07-03"]
    assert nights[0]["night"] == "Sun 29 Jun 22:00 – Mon 30 Jun 14:00 UK"
    assert nights[0]["probability"] == pytest.approx(0.18)
    assert nights[0]["range_80"] == [0, 350]
    assert ol.busy_nights(o, 300, 0.2, now_utc=now) == []
    assert ol.busy_nights(o, 300, 0.1, now_utc=now, hours=12) == nights[:1]


def test_busy_nights_bad_threshold():
    o = build()
    with pytest.raises(ConfigError, match=r"has no P\(people > 400\)"):
        ol.busy_nights(o, 400, 0.5, now_utc=dt.datetime(2025, 6, 30, tzinfo=UTC))
    with pytest.raises(ConfigError, match=r"--min-probability 1.5 must be in \[0, 1\)"):
        ol.busy_nights(o, 300, 1.5)


# ---------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------


def make_weather(start="2017-01-01", end="2025-06-30") -> pd.DataFrame:
    idx = pd.date_range(start, end, freq="D", name="date")
    w = pd.DataFrame({"wind_speed_10m_mean": idx.year.to_numpy() - 2000.0}, index=idx)
    w.attrs["source"] = "test weather"
    return w


def fake_predict(days, origin, weather_source, weather, arrivals, thresholds, fit_origin=None):
    """People = wind value of the day (so each weather year gives a known total)."""
    days = pd.DatetimeIndex(days)
    assert pd.Timestamp(origin) < days[0]
    assert arrivals.index[-1] <= pd.Timestamp(origin)
    wind = weather.reindex(days)["wind_speed_10m_mean"].to_numpy()
    pred = make_pred(days, np.where(wind > 20, 0.7, 0.2), wind, wind * 2, thresholds)
    return pred


def test_shift_weather_by_calendar_day_with_lead():
    w = make_weather()
    days = pd.date_range("2028-02-27", "2028-03-01")  # 2028 is a leap year, 2023 is not
    out = sc.shift_weather(w, 2023, days, lead_days=2)
    assert list(out.index) == list(pd.date_range("2028-02-25", "2028-03-01"))
    assert (out["wind_speed_10m_mean"] == 23).all()
    jan = sc.shift_weather(w, 2020, pd.date_range("2026-01-01", periods=2), lead_days=1)
    assert list(jan["wind_speed_10m_mean"]) == [19, 20, 20]  # lead day from December 2019
    with pytest.raises(ConfigError, match="weather year 2025 lacks 184 needed day"):
        sc.shift_weather(w, 2025, pd.date_range("2026-07-01", "2026-12-31"), lead_days=0)


def test_year_end_bands():
    arr = make_arrivals("2023-01-01", "2026-08-20")
    result = sc.year_end_bands(
        arr, pd.Timestamp("2026-08-20"), make_weather(), predict=fake_predict
    )
    n_rest = 133  # 21 Aug .. 31 Dec
    known = (pd.Timestamp("2026-08-20").day_of_year) * 10
    assert result["known"] == known and result["remaining_days"] == n_rest
    assert list(result["by_weather_year"]) == [str(y) for y in range(2017, 2025)]
    assert result["by_weather_year"]["2018"] == known + 18 * n_rest
    assert result["bands"] == {
        "low": known + 17 * n_rest,
        "median": round(known + 20.5 * n_rest),
        "high": known + 24 * n_rest,
    }
    assert result["red_days"]["2024"] == n_rest and result["red_days"]["2019"] == 0


def test_weather_swap():
    arr = make_arrivals("2023-01-01", "2025-06-29", people=30)
    s = sc.weather_swap(2024, 2021, arr, make_weather(), predict=fake_predict)
    assert (s["from"], s["to"], s["days"]) == ("2024-01-01", "2024-12-31", 366)
    assert s["own_weather"]["expected"] == 24 * 366 and s["own_weather"]["red_days"] == 366
    assert s["other_weather"]["expected"] == 21 * 366 and s["other_weather"]["red_days"] == 366
    assert s["weather_effect"] == -3 * 366
    assert s["actual"] == 30 * 366 and s["actual_per_red_day"] == 30.0
    # the actual scaled by the modelled ratio 21/24
    assert s["scenario"]["expected"] == round(30 * 366 * 21 / 24)
    assert s["scenario"]["weather_ratio"] == round(21 / 24, 4)
    lo, hi = s["scenario"]["range_80"]
    assert lo <= s["scenario"]["expected"] <= hi
    text = sc.format_swap(s)
    assert "2024 with 2021's weather, 2024-01-01 .. 2024-12-31 (366 days)" in text
    assert f"Modelled weather effect: {-3 * 366:+,} people" in text
    assert f"≈ {round(30 * 366 * 21 / 24):,} people" in text
    with pytest.raises(ConfigError, match="arrivals do not cover"):
        sc.weather_swap(
            2025, 2021, arr, make_weather(), end=pd.Timestamp("2025-06-30"), predict=fake_predict
        )


def test_skill_text():
    headline = {
        "n": 1200,
        "auc_any": 0.861,
        "brier_any": 0.14,
        "mae": 61.2,
        "crps": 44.9,
        "coverage_80": 0.79,
        "bss_any_vs_climatology_month": 0.312,
        "mae_skill_vs_last_week": -0.05,
        "horizon": 1,
        "extra": 2.0,
    }
    assert ol.skill_text(headline) == (
        "(1,200 past days, same-day forecasts: issued the morning of the day, arrivals to the "
        "day before) typical error 61 people a day (the mean forecast; mean absolute error); "
        "chance of any crossing 31% better than the monthly average (Brier skill +0.31); 80 % "
        "ranges held the actual figure on 79% of days; extra 2"
    )
    # text entries (the backtest's weather_label) are not scores and are left out
    assert ol.skill_text({"auc_gt_300": 0.734, "weather_label": "none (weather-free)"}) == (
        "a night with more than 300 people is ranked above a quieter one 73% of the time (AUC 0.73)"
    )
    assert ol.skill_text({}) == "not available" and ol.skill_text(None) == "not available"


@pytest.mark.slow
def test_same_year_scenario_reproduces_every_year_with_weather(data_home):
    """Real data, real pipeline: a year under its own weather is that year's level.

    Every full year that the bundled weather and the arrivals cover (after a first year
    of training). Weekly forecasts and monthly refits are replaced by 28-day forecasts and
    one fit per year to keep the test fast; the property does not depend on the schedule.
    """
    from forecast.features import build as F
    from forecast.model import pipeline as P
    from forecast.sources.knmi import load_knmi
    from forecast.stores.arrivals import load_arrivals

    arrivals, knmi = load_arrivals(), load_knmi()
    first = max(P.TRAIN_START.year + 1, knmi.index[0].year + 1)
    years = [
        y
        for y in range(first, knmi.index[-1].year + 1)
        if knmi.index[-1] >= pd.Timestamp(f"{y}-12-31")
    ]
    assert years == [2019, 2020, 2021, 2022, 2023, 2024]

    wtab = F.weather_table("knmi", knmi)
    tide_sky = P.tide_sky_table(P.TRAIN_START, pd.Timestamp("2025-01-10"))
    models = {}

    def predict(days, origin, *, weather_source, weather, arrivals, thresholds, fit_origin=None):
        year = (pd.Timestamp(origin) + pd.Timedelta(days=1)).year
        fit_at = pd.Timestamp(f"{year - 1}-12-31")  # once a year, never after the origin
        if fit_at not in models:
            models[fit_at] = P.fit_default_model(
                "knmi",
                fit_at,
                arrivals.loc[:fit_at],
                wtab.loc[:fit_at],
                tide_sky,
                horizons=range(1, 29),
            )
        return P.forecast_days(
            days,
            origin,
            weather_source=weather_source,
            weather=weather,
            arrivals=arrivals,
            thresholds=thresholds,
            model=models[fit_at],
        )

    for y in years:
        s = sc.weather_swap(y, y, arrivals, knmi, predict=predict, step_days=28)
        actual = int(arrivals.loc[f"{y}-01-01" : f"{y}-12-31", "people"].sum())
        assert s["actual"] == actual
        assert s["scenario"]["expected"] == actual, y
        lo, hi = s["scenario"]["range_80"]
        assert lo <= actual <= hi, y
        assert s["own_weather"]["expected"] > 0


def test_skill_text_prefers_the_median_against_the_zero_forecast():
    headline = {"mae": 68.2, "mae_median": 61.7, "mae_median_skill_vs_zero": 0.267, "horizon": 2}
    assert ol.skill_text(headline) == (
        "(next-day forecasts: issued the morning before, arrivals to two days before) typical "
        "error 62 people a day (the median forecast; mean absolute error), 27% smaller than "
        "forecasting zero"
    )


def test_far_outlook_does_not_quote_the_first_leads_skill_as_its_own():
    o = {
        "provenance": {"backtest_skill": {"auc_gt_300": 0.9, "horizon": 1}},
        "lead_days": [103, 109],
    }
    assert ol.skill_line(o).startswith(
        "not measured at this lead: this outlook is 103–109 days ahead of the last data, and "
        "backtests cover leads of 1–16 days. For comparison, same-day forecasts scored: "
    )


def test_busy_nights_are_flagged_beside_the_rag_word():
    o = build(days=7)
    o["days"][0]["p_gt_300"], o["days"][1]["p_gt_300"] = 0.25, 0.05
    text = ol.format_table(o)
    first, second = (
        next(line for line in text.splitlines() if line.split()[:2][-1:] == [o["days"][k]["date"]])
        for k in (0, 1)
    )
    assert "25% !" in first and "!" not in second.split()[5:7]
    assert "Busy nights are flagged separately ('!': P(>300) at least 20%)" in text


def test_year_end_years_need_the_primary_station_observed():
    """The bundled pair has rows where only the inland station observed (2017 before
    310's record starts on 2017-10-01): such a year is no weather year for a scenario."""
    from forecast.sources.knmi import load_knmi

    pair = load_knmi()
    days = pd.date_range("2026-08-21", "2026-12-31")
    years = sc.covered_years(pair, days)
    assert years[0] == 2018 and 2017 not in years
    assert pd.notna(pair.loc["2017-08-21", "stn340_wind_speed_10m_mean"])
    assert pd.isna(pair.loc["2017-08-21", "wind_speed_10m_mean"])
    with pytest.raises(ConfigError, match="weather year 2017 lacks"):
        sc.shift_weather(pair, 2017, days)
