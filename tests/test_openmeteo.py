"""Open-Meteo client: pure parser and network faults against the local 127.0.0.1 server.

Two kinds of bodies:

- SYNTHETIC (tests/fixtures/openmeteo/synthetic.py), built in the documented JSON
  shape; not real weather.
- REAL responses of the live service recorded by others (tests/fixtures/openmeteo/
  recorded/, provenance in its SOURCES.md), replayed from 127.0.0.1 byte for byte: the
  exact shapes of multi-location lists, time zones, ``kn``/``ft`` units, the
  ``"undefined"`` unit, per-model key suffixes and the ``{"latitude":nan,...}`` body.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError, DataFormatError, SourceError
from forecast.sources import openmeteo as om
from forecast.sources.sites import Site
from forecast.stores import weather
from tests.fixtures.openmeteo import synthetic as syn
from tests.httpserver import Reply

D = dt.date
MID = Site("q_mid_strait", 51.0, 1.5)
SANG = Site("q_off_sangatte", 50.97, 1.72)
FAST = om.RetryPolicy(timeout_s=2.0, minutely_wait_s=0.0, transient_wait_s=0.0)
RECORDED = Path(__file__).parent / "fixtures" / "openmeteo" / "recorded"


def recorded(name: str) -> bytes:
    """The raw bytes of a REAL recorded response (see recorded/SOURCES.md)."""
    return (RECORDED / name).read_bytes()


def json_reply(data: bytes) -> Reply:
    return Reply(200, data, headers={"Content-Type": "application/json; charset=utf-8"})


def _sleeps():
    waits: list[float] = []
    return waits, waits.append


# --------------------------------------------------------------------------- read_response


def test_read_single_location_values_units_and_nulls():
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.ATMOS, nulls=[3])
    ds = om.read_response(body, "archive", sites=[MID], model="era5")
    assert dict(ds.sizes) == {"time": 24, "site": 1}
    assert ds["time"].values[0] == np.datetime64("2024-01-01T00:00")
    assert ds["time"].values[-1] == np.datetime64("2024-01-01T23:00")
    t5 = dt.datetime(2024, 1, 1, 5)
    assert ds["wind_speed_10m"].values[5, 0] == pytest.approx(
        syn.synthetic_value("wind_speed_10m", t5)
    )
    assert ds["pressure_msl"].values[5, 0] == pytest.approx(syn.synthetic_value("pressure_msl", t5))
    # null -> NaN, never zero
    assert np.isnan(ds["wind_speed_10m"].values[3, 0])
    assert np.isnan(ds["precipitation"].values[3, 0])
    assert ds["wind_speed_10m"].attrs["units"] == "kn"
    assert ds["wind_direction_10m"].attrs["units"] == "deg"
    assert ds["temperature_2m"].attrs["units"] == "degC"
    assert list(ds["site"].values) == ["q_mid_strait"]
    assert float(ds["site_lat"][0]) == 51.0
    assert float(ds["grid_lat"][0]) == 51.0 and float(ds["grid_lon"][0]) == 1.5
    assert ds.attrs["model"] == "era5"
    assert "CC BY 4.0" in ds.attrs["attribution"] and "Copernicus" in ds.attrs["attribution"]


def test_read_multi_location_list_keeps_order_and_grid_cells():
    body = syn.body([(51.0, 1.5), (50.97, 1.72)], D(2024, 1, 1), D(2024, 1, 2), syn.WAVES)
    assert isinstance(body, list) and len(body) == 2
    ds = om.read_response(body, "marine", sites=[MID, SANG])
    assert list(ds["site"].values) == ["q_mid_strait", "q_off_sangatte"]
    assert ds.sizes["time"] == 48
    # synthetic: grid snapped to 0.25 deg; site 1 values are site 0's + 1
    np.testing.assert_allclose(ds["grid_lat"].values, [51.0, 51.0])
    np.testing.assert_allclose(ds["grid_lon"].values, [1.5, 1.75])
    np.testing.assert_allclose(ds["site_lon"].values, [1.5, 1.72])
    t = dt.datetime(2024, 1, 2, 7)
    expected = [syn.synthetic_value("wave_height", t, 0), syn.synthetic_value("wave_height", t, 1)]
    np.testing.assert_allclose(ds["wave_height"].sel(time="2024-01-02T07:00").values, expected)
    assert "DWD" in ds.attrs["attribution"]


def test_read_converts_known_units():
    units = {"wind_speed_10m": "km/h", "wind_gusts_10m": "m/s", "temperature_2m": "°F"}
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.ATMOS, units=units)
    ds = om.read_response(body, "archive", sites=[MID])
    t = dt.datetime(2024, 1, 1, 0)
    assert ds["wind_speed_10m"].values[0, 0] == pytest.approx(
        syn.synthetic_value("wind_speed_10m", t) / 1.852
    )
    assert ds["wind_gusts_10m"].values[0, 0] == pytest.approx(
        syn.synthetic_value("wind_gusts_10m", t) * 3600 / 1852
    )
    assert ds["temperature_2m"].values[0, 0] == pytest.approx(
        (syn.synthetic_value("temperature_2m", t) - 32) * 5 / 9
    )
    assert om.convert_units(np.array([18.52]), "wind_speed_10m", "km/h", "x")[0] == pytest.approx(
        10.0
    )
    assert om.convert_units(np.array([10.0]), "wave_height", "ft", "x")[0] == pytest.approx(3.048)
    assert om.convert_units(np.array([1.0]), "precipitation", "inch", "x")[0] == pytest.approx(25.4)


def test_read_rejects_unknown_unit():
    body = syn.body(
        [(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.ATMOS, units={"wind_speed_10m": "beaufort"}
    )
    with pytest.raises(DataFormatError, match=r"unknown unit 'beaufort' for 'wind_speed_10m'"):
        om.read_response(body, "archive", sites=[MID])


def test_read_missing_requested_key_names_it():
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.ATMOS)
    del body["hourly"]["wind_gusts_10m"]
    with pytest.raises(DataFormatError, match=r"requested variable 'wind_gusts_10m' is missing"):
        om.read_response(body, "archive", sites=[MID])
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.ATMOS)
    del body["hourly_units"]
    with pytest.raises(DataFormatError, match=r"key 'hourly_units' missing"):
        om.read_response(body, "archive", sites=[MID])
    body["hourly_units"] = ["kn"]
    with pytest.raises(DataFormatError, match=r"'hourly_units' is a list, expected an object"):
        om.read_response(body, "archive", sites=[MID])


def test_read_rejects_length_mismatch_and_bad_time():
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    body["hourly"]["wave_height"] = body["hourly"]["wave_height"][:-1]
    with pytest.raises(
        DataFormatError, match=r"hourly.wave_height has 23 values but hourly.time has 24"
    ):
        om.read_response(body, "marine", sites=[MID])
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    body["hourly"]["time"][2] = body["hourly"]["time"][1]
    with pytest.raises(DataFormatError, match=r"hourly.time repeats 2024-01-01 01:00"):
        om.read_response(body, "marine", sites=[MID])


def test_read_local_time_responses_become_utc():
    """Open-Meteo applies one fixed offset to a whole response (no DST inside it)."""
    utc = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    local = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    local["utc_offset_seconds"] = 3600
    local["timezone"] = "Europe/Paris"
    local["hourly"]["time"] = [
        (pd.Timestamp(t) + pd.Timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        for t in local["hourly"]["time"]
    ]
    a = om.read_response(utc, "marine", sites=[MID])
    b = om.read_response(local, "marine", sites=[MID])
    assert a.drop_attrs().identical(b.drop_attrs())  # same UTC hours, same values
    assert "times were local (Europe/Paris, UTC+1 h for the whole response)" in b.attrs["notes"]
    local["utc_offset_seconds"] = 19800  # India, +5:30
    with pytest.raises(
        DataFormatError, match=r"utc_offset_seconds is 19800 .*not a whole number of hours"
    ):
        om.read_response(local, "marine", sites=[MID])


def test_read_location_count_mismatch():
    body = syn.body([(51.0, 1.5), (50.97, 1.72)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    with pytest.raises(DataFormatError, match=r"1 location\(s\) asked but 2 returned"):
        om.read_response(body, "marine", sites=[MID])


def test_read_unixtime_equals_iso8601():
    iso = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    unix = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES, timeformat="unixtime")
    a = om.read_response(iso, "marine", sites=[MID])
    b = om.read_response(unix, "marine", sites=[MID])
    assert a.identical(b)


@pytest.mark.parametrize(
    ("start", "end", "n_hours"),
    [
        (D(2024, 3, 30), D(2024, 4, 1), 72),  # UK/EU clocks forward 2024-03-31
        (D(2024, 10, 26), D(2024, 10, 28), 72),  # clocks back 2024-10-27
        (D(2024, 2, 28), D(2024, 3, 1), 72),  # leap day 2024-02-29
    ],
)
def test_read_utc_axis_over_dst_and_leap_day(start, end, n_hours):
    body = syn.body([(51.0, 1.5)], start, end, syn.ATMOS)
    ds = om.read_response(body, "archive", sites=[MID])
    times = pd.DatetimeIndex(ds["time"].values)
    expected = pd.date_range(pd.Timestamp(start), periods=n_hours, freq="h")
    assert times.equals(expected)
    assert not times.has_duplicates


# --------------------------------------------------------------------------- params


def test_build_params_multi_location_and_units():
    p = om.build_params("archive", [MID, SANG], start=D(2024, 1, 1), end=D(2024, 1, 31))
    assert p["latitude"] == "51.0000,50.9700"
    assert p["longitude"] == "1.5000,1.7200"
    assert p["hourly"] == ",".join(om.ATMOS_VARIABLES)
    assert p["models"] == "era5"
    assert p["cell_selection"] == "sea"
    assert p["wind_speed_unit"] == "kn"
    assert p["timezone"] == "GMT"
    assert (p["start_date"], p["end_date"]) == ("2024-01-01", "2024-01-31")
    m = om.build_params("marine", [MID], start=D(2024, 1, 1), end=D(2024, 1, 1))
    assert m["models"] == "era5_ocean" and m["hourly"] == "wave_height,wave_period,wave_direction"
    f = om.build_params("forecast", [MID], past_days=7, forecast_days=16)
    assert (f["past_days"], f["forecast_days"]) == ("7", "16")
    assert "visibility" in f["hourly"].split(",") and "start_date" not in f
    with pytest.raises(ConfigError, match="end date 2024-01-01 is before start date 2024-01-02"):
        om.build_params("archive", [MID], start=D(2024, 1, 2), end=D(2024, 1, 1))


def test_year_chunks_and_weight():
    assert om.year_chunks(D(2022, 12, 30), D(2024, 1, 2)) == [
        (D(2022, 12, 30), D(2022, 12, 31)),
        (D(2023, 1, 1), D(2023, 12, 31)),
        (D(2024, 1, 1), D(2024, 1, 2)),
    ]
    # docs example: 8 variables, 3226 days, one point -> ~184 calls
    assert om.request_weight(8, 3226, 1) == pytest.approx(184.3, abs=0.1)


def test_base_url_env_and_validation(monkeypatch):
    monkeypatch.setenv("FORECAST_OPENMETEO_ARCHIVE_URL", "http://127.0.0.1:1/v1/archive")
    assert om.base_url("archive") == "http://127.0.0.1:1/v1/archive"
    assert om.base_url("archive", "http://x/y") == "http://x/y"
    assert om.base_url("historical-forecast").startswith("https://historical-forecast-api")
    with pytest.raises(ConfigError, match="must start with http"):
        om.base_url("marine", "ftp://x")
    with pytest.raises(ConfigError, match="unknown Open-Meteo kind 'radar'"):
        om.spec("radar")


@pytest.mark.parametrize(
    ("reason", "scope"),
    [
        ("Minutely API request limit exceeded", "minutely"),
        ("Hourly API request limit exceeded. Please try again in the next hour.", "hourly"),
        ("Daily API request limit exceeded. Please try again tomorrow.", "daily"),
        ("Too many concurrent requests", "concurrent"),
        ("slow down", "unknown"),
    ],
)
def test_rate_limit_scope(reason, scope):
    assert om.rate_limit_scope(reason) == scope


# --------------------------------------------------------------------------- network


@pytest.mark.network
def test_fetch_multi_location_against_local_server(local_server):
    body = syn.body([(51.0, 1.5), (50.97, 1.72)], D(2024, 2, 28), D(2024, 3, 1), syn.ATMOS)
    local_server.route("/v1/archive", Reply(200, body))
    now = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
    ds = om.fetch(
        "archive",
        [MID, SANG],
        start=D(2024, 2, 28),
        end=D(2024, 3, 1),
        url=local_server.url("/v1/archive"),
        policy=FAST,
        now=lambda: now,
    )
    (req,) = local_server.requests
    assert req.query["latitude"] == ["51.0000,50.9700"]
    assert req.query["longitude"] == ["1.5000,1.7200"]
    assert req.query["start_date"] == ["2024-02-28"] and req.query["end_date"] == ["2024-03-01"]
    assert req.query["models"] == ["era5"] and req.query["cell_selection"] == ["sea"]
    assert req.query["wind_speed_unit"] == ["kn"]
    assert ds.sizes["time"] == 72 and ds.sizes["site"] == 2
    assert ds.attrs["retrieved_utc"] == "2026-11-25T02:00:00Z"
    assert ds.attrs["url"] == local_server.url("/v1/archive")
    assert np.datetime64("2024-02-29T12:00") in ds["time"].values


@pytest.mark.network
def test_400_surfaces_reason(local_server):
    reason = "Parameter 'start_date' is out of allowed range from 1940-01-01 to 2026-11-30"
    local_server.route("/v1/archive", Reply(400, {"error": True, "reason": reason}))
    with pytest.raises(SourceError, match=r"HTTP 400.*out of allowed range") as exc:
        om.fetch_json(local_server.url("/v1/archive"), {"a": "1"}, policy=FAST)
    assert not isinstance(exc.value, om.TransientError)
    assert len(local_server.requests) == 1  # 400 is not retried


@pytest.mark.network
def test_5xx_retried_then_succeeds(local_server):
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    local_server.route("/m", Reply(503, "Service Unavailable"), Reply(200, body))
    waits, sleep = _sleeps()
    got = om.fetch_json(local_server.url("/m"), {}, policy=FAST, sleep=sleep)
    assert got == body
    assert len(local_server.requests) == 2 and waits == [0.0]


@pytest.mark.network
def test_5xx_gives_up_after_bounded_retries(local_server):
    local_server.route("/m", Reply(502, "Bad Gateway"))
    waits, sleep = _sleeps()
    policy = om.RetryPolicy(timeout_s=2.0, transient_wait_s=1.0, max_transient_retries=2)
    with pytest.raises(om.TransientError, match=r"HTTP 502: Bad Gateway.*gave up after 2 retries"):
        om.fetch_json(local_server.url("/m"), {}, policy=policy, sleep=sleep)
    assert len(local_server.requests) == 3
    assert waits == [1.0, 2.0]


@pytest.mark.network
def test_timeout(local_server):
    local_server.route("/slow", Reply(200, {"x": 1}, delay_s=1.0))
    with pytest.raises(
        om.TransientError, match=r"/slow\?? failed: no answer within 0\.2 s \(time-out\)"
    ):
        om.get_json(local_server.url("/slow"), {}, timeout=0.2)


@pytest.mark.network
def test_truncated_body(local_server):
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    local_server.route("/t", Reply(200, body, truncate_to=50))
    with pytest.raises(om.TransientError, match=r"/t failed: the body was cut off"):
        om.get_json(local_server.url("/t"), {}, timeout=2.0)


@pytest.mark.network
def test_non_json_and_error_body(local_server):
    local_server.route("/html", Reply(200, "<html>captive portal</html>"))
    with pytest.raises(DataFormatError, match=r"not JSON.*Is the base URL an Open-Meteo endpoint"):
        om.get_json(local_server.url("/html"), {}, timeout=2.0)
    local_server.route(
        "/err", Reply(200, {"error": True, "reason": "Cannot initialize WeatherVariable"})
    )
    with pytest.raises(SourceError, match="Cannot initialize WeatherVariable"):
        om.get_json(local_server.url("/err"), {}, timeout=2.0)


@pytest.mark.network
def test_429_minutely_waits_retry_after_then_succeeds(local_server):
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    limited = {"error": True, "reason": "Minutely API request limit exceeded"}
    local_server.route(
        "/m",
        Reply(429, limited, headers={"Retry-After": "7"}),
        Reply(429, limited),
        Reply(200, body),
    )
    waits, sleep = _sleeps()
    policy = om.RetryPolicy(timeout_s=2.0, minutely_wait_s=61.0)
    assert om.fetch_json(local_server.url("/m"), {}, policy=policy, sleep=sleep) == body
    assert waits == [7.0, 61.0]  # Retry-After honoured, else the default wait
    assert len(local_server.requests) == 3


@pytest.mark.network
def test_429_minutely_bounded(local_server):
    limited = {"error": True, "reason": "Too many concurrent requests"}
    local_server.route("/m", Reply(429, limited))
    waits, sleep = _sleeps()
    policy = om.RetryPolicy(timeout_s=2.0, minutely_wait_s=1.0, max_rate_retries=2)
    with pytest.raises(om.RateLimitError, match=r"kept answering HTTP 429.*after 2 waits"):
        om.fetch_json(local_server.url("/m"), {}, policy=policy, sleep=sleep)
    assert len(local_server.requests) == 3 and waits == [1.0, 1.0]


@pytest.mark.network
@pytest.mark.parametrize(
    ("reason", "hint"),
    [
        (
            "Hourly API request limit exceeded. Please try again in the next hour.",
            r"hourly API request limit exceeded.*retry after 2026-11-25 03:00 UTC",
        ),
        (
            "Daily API request limit exceeded. Please try again tomorrow.",
            r"daily API request limit exceeded.*retry tomorrow \(after 2026-11-26 00:00 UTC\)",
        ),
    ],
)
def test_429_hourly_daily_stop_at_once(local_server, reason, hint):
    local_server.route("/m", Reply(429, {"error": True, "reason": reason}))
    waits, sleep = _sleeps()
    now = dt.datetime(2026, 11, 25, 2, 41, tzinfo=dt.UTC)
    with pytest.raises(om.RateLimitError, match=hint) as exc:
        om.fetch_json(local_server.url("/m"), {}, policy=FAST, sleep=sleep, now=lambda: now)
    assert len(local_server.requests) == 1 and waits == []
    assert "kept in the cache" in str(exc.value)


# --------------------------------------------------------------------------- real service


def _sites(body) -> list[Site]:
    objs = body if isinstance(body, list) else [body]
    return [Site(f"p{i}", o["latitude"], o["longitude"]) for i, o in enumerate(objs)]


@pytest.mark.network
def test_recorded_archive_two_locations_gmt_kn(local_server):
    raw = recorded("shiplog_archive_2loc_kn_gmt.json")
    local_server.route("/v1/archive", json_reply(raw))
    body = om.fetch_json(local_server.url("/v1/archive"), {}, policy=FAST)
    asked = [Site("a", 43.78, 15.30), Site("b", 43.90, 15.45)]
    variables = ["wind_speed_10m", "wind_direction_10m", "temperature_2m", "pressure_msl"]
    ds = om.read_response(body, "archive", sites=asked, variables=variables)
    expected = json.loads(raw)
    assert dict(ds.sizes) == {"time": 24, "site": 2}
    assert ds["time"].values[0] == np.datetime64("2025-06-15T00:00")
    for j, obj in enumerate(expected):
        for var in variables:
            np.testing.assert_allclose(ds[var].values[:, j], obj["hourly"][var])
        assert float(ds["grid_lat"][j]) == obj["latitude"]
    assert list(ds["site_lat"].values) == [43.78, 43.90]
    assert ds["wind_speed_10m"].attrs["units"] == "kn"
    assert "notes" not in ds.attrs  # GMT, every unit known, nothing undefined


@pytest.mark.network
def test_recorded_marine_two_locations(local_server):
    raw = recorded("shiplog_marine_2loc_gmt.json")
    local_server.route("/v1/marine", json_reply(raw))
    body = om.get_json(local_server.url("/v1/marine"), {}, timeout=2.0)
    ds = om.read_response(body, "marine", sites=_sites(body), variables=["wave_height"])
    expected = json.loads(raw)
    np.testing.assert_allclose(ds["wave_height"].values[:, 1], expected[1]["hourly"]["wave_height"])
    assert ds.sizes["time"] == 24


def test_recorded_feet_and_sydney_time():
    body = json.loads(recorded("tpisel_marine_ft_sydney.json"))
    ds = om.read_response(body, None)
    assert sorted(ds.data_vars) == ["wave_direction", "wave_height"]  # daily block ignored
    assert ds["wave_height"].values[0, 0] == pytest.approx(3.675 * 0.3048)
    assert ds["wave_height"].attrs["units"] == "m"
    # 2023-01-01T00:00 in Sydney at +11 h is 2022-12-31T13:00 UTC
    assert ds["time"].values[0] == np.datetime64("2022-12-31T13:00")
    assert ds.sizes["time"] == 48
    assert "Australia/Sydney, UTC+11 h" in ds.attrs["notes"]


def test_recorded_undefined_variable_is_noted_not_an_error():
    body = json.loads(recorded("divereport_marine_la_ft_undefined.json"))
    ds = om.read_response(body, None)
    assert sorted(ds.data_vars) == ["wave_direction", "wave_height", "wave_period"]
    np.testing.assert_allclose(
        ds["wave_height"].values[:, 0], np.array(body["hourly"]["wave_height"]) * 0.3048
    )
    assert ds["time"].values[0] == np.datetime64("2026-09-22T07:00")  # PDT = UTC-7
    assert "swell_wave_peak_period" in ds.attrs["notes"]
    assert "unit 'undefined', all values null" in ds.attrs["notes"]


@pytest.mark.network
def test_undefined_unit_on_a_requested_variable_is_missing_data(local_server):
    """The real "undefined" entry (48 nulls) standing where a requested variable is."""
    body = json.loads(recorded("divereport_marine_la_ft_undefined.json"))
    body["hourly"]["wave_period"] = body["hourly"]["swell_wave_peak_period"]
    body["hourly_units"]["wave_period"] = body["hourly_units"]["swell_wave_peak_period"]
    local_server.route("/v1/marine", Reply(200, body))
    site = Site("la", 33.46, -117.79)
    ds = om.fetch(
        "marine",
        [site],
        start=D(2026, 9, 22),
        end=D(2026, 9, 23),
        url=local_server.url("/v1/marine"),
        policy=FAST,
    )
    assert np.isnan(ds["wave_period"].values).all()
    assert ds["wave_period"].attrs["units"] == "s"
    assert not np.isnan(ds["wave_height"].values).any()
    assert ds.attrs["missing_variables"] == "wave_period"
    assert (
        "wave_period: not provided by model 'era5_ocean' at la (unit 'undefined', all values "
        "null); kept as missing (NaN)"
    ) in ds.attrs["notes"]
    body["hourly"]["wave_period"] = [1.0] * 48
    with pytest.raises(
        DataFormatError, match=r"hourly_units.wave_period is 'undefined' but .* holds numbers"
    ):
        om.read_response(body, "marine", sites=[site])


def test_several_models_refused_or_explained():
    with pytest.raises(ConfigError, match=r"--model 'best_match,ecmwf_wam025': give exactly one"):
        om.build_params(
            "marine", [MID], start=D(2024, 1, 1), end=D(2024, 1, 1), model="best_match,ecmwf_wam025"
        )
    body = json.loads(recorded("frenck_marine_models_gmt.json"))
    with pytest.raises(
        DataFormatError,
        match=r"holds 'wave_height' once per model \(wave_height_ecmwf_wam025, "
        r"wave_height_marine_best_match, wave_height_ncep_gfswave025\).*one model per request",
    ):
        om.read_response(body, "marine", variables=["wave_height"])
    with pytest.raises(DataFormatError, match=r"one copy per model .*ask one model per request"):
        om.read_response(body, None)


def test_miles_per_hour_as_written_on_the_wire():
    units = {"wind_speed_10m": "mp/h", "wind_gusts_10m": "mp/h"}
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.ATMOS, units=units)
    ds = om.read_response(body, "archive", sites=[MID])
    t = dt.datetime(2024, 1, 1, 0)
    assert ds["wind_speed_10m"].values[0, 0] == pytest.approx(
        syn.synthetic_value("wind_speed_10m", t) * 1609.344 / 1852.0
    )


@pytest.mark.network
def test_streaming_error_in_a_200_is_retried(local_server):
    good = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    cut = json.dumps(good).encode()[:300] + b"Unexpected error while streaming data: timeoutReached"
    local_server.route("/m", json_reply(cut))
    with pytest.raises(
        om.TransientError,
        match=r"/m\?? failed: HTTP 200 but the server stopped mid-answer \('Unexpected error "
        r"while streaming data: timeoutReached'\)",
    ):
        om.get_json(local_server.url("/m"), {}, timeout=2.0)
    local_server.route("/m", json_reply(cut), Reply(200, good))
    waits, sleep = _sleeps()
    assert om.fetch_json(local_server.url("/m"), {}, policy=FAST, sleep=sleep) == good
    assert waits == [0.0] and len(local_server.requests) == 3


@pytest.mark.network
def test_nan_position_body_has_a_clear_message(local_server):
    local_server.route(
        "/v1/satellite", json_reply(recorded("frenck_satellite_not_covered_nan.txt"))
    )
    with pytest.raises(
        DataFormatError,
        match=r"answered .*/v1/satellite.* with latitude/longitude 'nan' and no data .*outside "
        r"the area this endpoint and model cover.*Check the sites' latitude and longitude",
    ):
        om.fetch_json(local_server.url("/v1/satellite"), {"latitude": "-80"}, policy=FAST)


# --------------------------------------------------------------------------- pacing


def test_params_weight_follows_the_website_formula():
    p = om.build_params("archive", [MID, SANG], start=D(2024, 1, 1), end=D(2024, 12, 31))
    assert om.params_weight(p) == pytest.approx(om.request_weight(6, 366, 2))
    f = om.build_params("forecast", [MID], past_days=7, forecast_days=16)
    assert om.params_weight(f) == pytest.approx(om.request_weight(7, 23, 1))
    assert om.params_weight({}) == 1.0


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.network
def test_requests_are_paced_under_the_minute_limit_before_any_429(local_server):
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    local_server.route("/m", Reply(200, body))
    clock = FakeClock()
    budget = om.CallBudget(limits={"minutely": 10.0, "hourly": 100.0, "daily": 1000.0}, clock=clock)
    policy = om.RetryPolicy(timeout_s=2.0, budget=budget)
    four = {"latitude": "1,2,3,4"}  # weight 4 (four locations)
    waits, sleep = _sleeps()
    for _ in range(2):
        om.fetch_json(local_server.url("/m"), four, policy=policy, sleep=sleep)
    assert waits == []  # 8 of 10 calls spent
    clock.t += 15.0
    om.fetch_json(local_server.url("/m"), four, policy=policy, sleep=sleep)
    assert waits == [pytest.approx(45.0)]  # until the first request leaves the minute
    assert (budget.requests, budget.calls, budget.failed_requests) == (3, 12.0, 0)
    assert all(r.path == "/m" for r in local_server.requests) and len(local_server.requests) == 3


@pytest.mark.network
def test_failed_requests_count_against_the_budget(local_server):
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    local_server.route("/m", Reply(503, "busy"), Reply(200, body))
    policy = om.RetryPolicy(
        timeout_s=2.0, transient_wait_s=0.0, budget=om.CallBudget(clock=FakeClock())
    )
    om.fetch_json(local_server.url("/m"), {"latitude": "1,2"}, policy=policy, sleep=lambda s: None)
    b = policy.budget
    assert (b.requests, b.calls, b.failed_requests, b.failed_calls) == (2, 4.0, 1, 2.0)


@pytest.mark.network
def test_hourly_allowance_spent_stops_before_the_server_limit(local_server):
    body = syn.body([(51.0, 1.5)], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES)
    local_server.route("/m", Reply(200, body))
    budget = om.CallBudget(
        limits={"minutely": 100.0, "hourly": 5.0, "daily": 1000.0}, clock=FakeClock()
    )
    policy = om.RetryPolicy(timeout_s=2.0, max_wait_s=180.0, budget=budget)
    now = dt.datetime(2026, 11, 25, 2, 41, tzinfo=dt.UTC)
    three = {"latitude": "1,2,3"}
    om.fetch_json(local_server.url("/m"), three, policy=policy, now=lambda: now)
    with pytest.raises(
        om.BudgetSpentError,
        match=r"Stopped before Open-Meteo's hourly limit .*spent its hourly allowance \(5 calls, "
        r"under the free limit of 5000\); 1 requests sent \(0 failed\).*again after "
        r"2026-11-25 03:41 UTC",
    ):
        om.fetch_json(local_server.url("/m"), three, policy=policy, now=lambda: now)
    assert len(local_server.requests) == 1


@pytest.mark.network
def test_backfill_is_paced_across_year_chunks(local_server, data_home):
    """A several-year archive update spends its minute budget, then waits, never a 429."""

    def serve(start, end):
        return syn.body([(51.0, 1.5)], start, end, syn.ATMOS)

    chunks = om.year_chunks(D(2021, 12, 30), D(2024, 1, 2))
    local_server.route("/v1/archive", *[Reply(200, serve(a, b)) for a, b in chunks])
    weights = [om.request_weight(6, (b - a).days + 1, 1) for a, b in chunks]
    assert weights[1] == pytest.approx(365 / 14 * 0.6)  # ~15.6 calls for a whole year
    budget = om.CallBudget(
        limits={"minutely": 20.0, "hourly": 500.0, "daily": 900.0}, clock=FakeClock()
    )
    waits, sleep = _sleeps()
    weather.update(
        "archive",
        "2021-12-30",
        "2024-01-02",
        [MID],
        url=local_server.url("/v1/archive"),
        policy=om.RetryPolicy(timeout_s=2.0, budget=budget),
        sleep=sleep,
        now=lambda: dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
        progress=False,
    )
    # 2 days (1 call) + 2022 (15.6) fit in the minute; 2023 would make 32 > 20, so it waits
    # a full minute for both to leave the window; the last 2 days (1 call) fit after it.
    assert len(local_server.requests) == 4
    assert waits == [pytest.approx(60.0)]
    assert budget.calls == pytest.approx(sum(weights))
    assert budget.requests == 4 and budget.failed_requests == 0
