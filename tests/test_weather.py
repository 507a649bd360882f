"""Weather cache: incremental updates, faults that keep the cache, loaders, CLI.

Every response is SYNTHETIC (tests/fixtures/openmeteo/synthetic.py), served by the
local 127.0.0.1 server; nothing here is real weather.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.cli import main
from forecast.errors import ConfigError, DataFormatError, SourceError
from forecast.sources import openmeteo as om
from forecast.sources.sites import Site, default_sites, parse_sites
from forecast.stores import weather
from tests.fixtures.openmeteo import synthetic as syn
from tests.httpserver import Reply

D = dt.date
A = Site("a", 51.0, 1.5)
B = Site("b", 50.97, 1.72)
NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
FAST = om.RetryPolicy(timeout_s=2.0, minutely_wait_s=0.0, transient_wait_s=0.0)

pytestmark = pytest.mark.network


def _body(sites, start, end, variables, **kw):
    return syn.body([(s.lat, s.lon) for s in sites], start, end, variables, **kw)


def _update(server, kind, start, end, sites=(A, B), **kw):
    path = {"archive": "/v1/archive", "marine": "/v1/marine", "historical_forecast": "/v1/hf"}[kind]
    return weather.update(
        kind,
        start,
        end,
        list(sites),
        url=server.url(path),
        policy=FAST,
        sleep=lambda s: None,
        now=lambda: NOW,
        progress=False,
        **kw,
    )


def _fill(server, start, end, sites=(A, B)):
    """Cache archive + marine for ``sites`` over start..end (one request each)."""
    syn.fill_history(server, sites, D.fromisoformat(str(start)), D.fromisoformat(str(end)), NOW)


@pytest.fixture(scope="module")
def _filled(tmp_path_factory):
    """Folder of cache trees already filled by :func:`_fill`, reused across tests."""
    return tmp_path_factory.mktemp("openmeteo-filled")


@pytest.fixture
def fill(local_server, data_home, _filled):
    """``fill(start, end, sites)``: a cache as :func:`_fill` builds it.

    The first call for a given range and sites really fetches through the local server;
    later calls copy the cache tree that call wrote (netCDF writes are the slow part).
    """

    def fill(start, end, sites=(A, B)):
        template = _filled / f"{start}_{end}_{'-'.join(s.id for s in sites)}"
        if template.exists():
            shutil.copytree(template, weather.cache_root(), dirs_exist_ok=True)
        else:
            _fill(local_server, start, end, sites)
            shutil.copytree(weather.cache_root(), template)

    return fill


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- sites


def test_default_sites_are_the_api_query_points():
    sites = default_sites()
    assert [s.id for s in sites] == [
        "q_mid_strait",
        "q_off_sangatte",
        "q_off_calais",
        "q_off_gravelines",
        "q_off_dunkirk",
        "q_off_boulogne",
        "q_dover_approach",
    ]
    assert (sites[0].lat, sites[0].lon) == (51.0, 1.5)


def test_parse_sites_ids_adhoc_and_errors():
    got = parse_sites("q_off_calais,x1:51.1:1.9")
    assert got == [
        Site("q_off_calais", 51.0, 1.8, "Off Calais (query point)"),
        Site("x1", 51.1, 1.9),
    ]
    with pytest.raises(ConfigError, match=r"unknown site id 'nowhere'"):
        parse_sites("nowhere")
    with pytest.raises(ConfigError, match=r"write ad-hoc points as id:lat:lon"):
        parse_sites("x:51")
    with pytest.raises(ConfigError, match=r"out of range"):
        parse_sites("x:95:1")


def test_sites_file_env(tmp_path, monkeypatch):
    f = tmp_path / "pts.csv"
    f.write_text(
        "point_id,name,lat,lon,kind\np1,One,50.9,1.4,api_query_point\np2,Two,x,1,api_query_point\n"
    )
    monkeypatch.setenv("FORECAST_SITES_FILE", str(f))
    with pytest.raises(DataFormatError, match=r"pts.csv row 3 \('p2'\): lat/lon must be decimal"):
        default_sites()


# --------------------------------------------------------------------------- update


def test_update_then_incremental_asks_only_new_days(local_server, data_home):
    local_server.route(
        "/v1/archive", Reply(200, _body([A, B], D(2024, 1, 1), D(2024, 1, 3), syn.ATMOS))
    )
    rows = _update(local_server, "archive", "2024-01-01", "2024-01-03")
    assert rows[0]["requests"] == 1 and rows[0]["hours_added"] == 2 * 72
    # Open-Meteo weight: max(1, 6 variables / 10, 3 days / 14 * 6 / 10) per location
    assert rows[0]["api_calls"] == 2 * 1.0
    (first,) = local_server.requests
    assert first.query["latitude"] == ["51.0000,50.9700"]  # one multi-location request
    assert (first.query["start_date"], first.query["end_date"]) == (["2024-01-01"], ["2024-01-03"])

    local_server.requests.clear()
    local_server.route(
        "/v1/archive", Reply(200, _body([A, B], D(2024, 1, 4), D(2024, 1, 5), syn.ATMOS))
    )
    rows = _update(local_server, "archive", "2024-01-01", "2024-01-05")
    (second,) = local_server.requests
    assert (second.query["start_date"], second.query["end_date"]) == (
        ["2024-01-04"],
        ["2024-01-05"],
    )
    assert rows[0]["hours_added"] == 2 * 48

    local_server.requests.clear()
    rows = _update(local_server, "archive", "2024-01-02", "2024-01-05")
    assert local_server.requests == [] and rows[0]["requests"] == 0

    ds = xr.open_dataset(data_home / "data/cache/openmeteo/archive-era5/a.nc", engine="h5netcdf")
    with ds:
        times = pd.DatetimeIndex(ds["time"].values)
        assert times.equals(pd.date_range("2024-01-01", "2024-01-05 23:00", freq="h"))
        assert ds.attrs["model"] == "era5" and ds.attrs["retrieved_utc"] == "2026-11-25T02:00:00Z"


def test_update_new_site_asks_only_for_it(local_server, fill, data_home):
    fill(D(2024, 1, 1), D(2024, 1, 1), sites=[A])
    local_server.requests.clear()
    local_server.route(
        "/v1/archive", Reply(200, _body([B], D(2024, 1, 1), D(2024, 1, 1), syn.ATMOS))
    )
    _update(local_server, "archive", "2024-01-01", "2024-01-01", [A, B])
    (req,) = local_server.requests
    assert req.query["latitude"] == ["50.9700"]


def test_update_chunks_by_year(local_server, data_home):
    local_server.route(
        "/v1/marine",
        Reply(200, _body([A], D(2023, 12, 30), D(2023, 12, 31), syn.WAVES)),
        Reply(200, _body([A], D(2024, 1, 1), D(2024, 1, 2), syn.WAVES)),
    )
    rows = _update(local_server, "marine", "2023-12-30", "2024-01-02", [A])
    got = [(r.query["start_date"][0], r.query["end_date"][0]) for r in local_server.requests]
    assert got == [("2023-12-30", "2023-12-31"), ("2024-01-01", "2024-01-02")]
    assert all(r.query["models"] == ["era5_ocean"] for r in local_server.requests)
    assert rows[0]["hours_added"] == 96


@pytest.mark.parametrize(
    ("reply", "error", "match"),
    [
        (Reply(500, "oops"), om.TransientError, r"/v1/archive\?.* failed: HTTP 500: oops"),
        (
            Reply(200, b'{"latitude": 51.0, "longitude"', truncate_to=20),
            om.TransientError,
            r"cut off",
        ),
        (
            Reply(400, {"error": True, "reason": "Invalid date"}),
            SourceError,
            r"HTTP 400.*Invalid date",
        ),
        (
            Reply(429, {"error": True, "reason": "Hourly API request limit exceeded."}),
            om.RateLimitError,
            r"hourly API request limit.*retry after 2026-11-25 03:00 UTC",
        ),
        (
            Reply(200, [{"latitude": 51.0}] * 2),
            DataFormatError,
            r"location 0: key 'longitude' missing",
        ),
        (Reply(200, {"latitude": 51.0}), DataFormatError, r"2 location\(s\) asked but 1 returned"),
    ],
)
def test_faults_leave_cache_intact(local_server, fill, data_home, reply, error, match):
    fill(D(2024, 1, 1), D(2024, 1, 2))
    folder = data_home / "data/cache/openmeteo/archive-era5"
    before = _digest(folder)
    local_server.route("/v1/archive", reply)
    with pytest.raises(error, match=match):
        _update(local_server, "archive", "2024-01-01", "2024-01-04")
    assert _digest(folder) == before  # unchanged, no temp files left
    ds = weather.load_hourly("2024-01-01", "2024-01-02", sites=["a", "b"])
    assert int(ds["wind_speed_10m"].notnull().sum()) == 96


def test_missing_variable_in_response_is_an_error_and_cache_intact(local_server, fill, data_home):
    fill(D(2024, 1, 1), D(2024, 1, 1))
    before = _digest(data_home / "data/cache/openmeteo/marine-era5_ocean")
    body = _body([A, B], D(2024, 1, 2), D(2024, 1, 2), ("wave_height", "wave_period"))
    local_server.route("/v1/marine", Reply(200, body))
    with pytest.raises(DataFormatError, match=r"location 0: requested variable 'wave_direction'"):
        _update(local_server, "marine", "2024-01-01", "2024-01-02")
    assert _digest(data_home / "data/cache/openmeteo/marine-era5_ocean") == before


def test_partial_update_keeps_finished_chunks_and_resumes(local_server, data_home):
    limited = {
        "error": True,
        "reason": "Daily API request limit exceeded. Please try again tomorrow.",
    }
    local_server.route(
        "/v1/archive",
        Reply(200, _body([A], D(2023, 12, 31), D(2023, 12, 31), syn.ATMOS)),
        Reply(429, limited),
    )
    with pytest.raises(om.RateLimitError, match=r"retry tomorrow"):
        _update(local_server, "archive", "2023-12-31", "2024-01-01", [A])
    local_server.requests.clear()
    local_server.route(
        "/v1/archive", Reply(200, _body([A], D(2024, 1, 1), D(2024, 1, 1), syn.ATMOS))
    )
    _update(local_server, "archive", "2023-12-31", "2024-01-01", [A])
    (req,) = local_server.requests
    assert (req.query["start_date"], req.query["end_date"]) == (["2024-01-01"], ["2024-01-01"])


def test_unpublished_trailing_nulls_are_refetched(local_server, data_home):
    # archive lag: the last day comes back all-null (not yet published) -> not cached
    recent = NOW.date() - dt.timedelta(days=3)
    start = recent - dt.timedelta(days=1)
    body = _body([A], start, recent, syn.ATMOS, nulls=range(24, 48))
    local_server.route("/v1/archive", Reply(200, body))
    rows = _update(local_server, "archive", start, recent, [A])
    assert rows[0]["hours_added"] == 24
    local_server.requests.clear()
    local_server.route("/v1/archive", Reply(200, _body([A], recent, recent, syn.ATMOS)))
    _update(local_server, "archive", start, recent, [A])
    (req,) = local_server.requests
    assert req.query["start_date"] == [recent.isoformat()]


def test_old_nulls_stay_nan_and_are_not_refetched(local_server, data_home):
    body = _body([A], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES, nulls=range(20, 24))
    local_server.route("/v1/marine", Reply(200, body))
    _update(local_server, "marine", "2024-01-01", "2024-01-01", [A])
    local_server.requests.clear()
    _update(local_server, "marine", "2024-01-01", "2024-01-01", [A])
    assert local_server.requests == []
    with xr.open_dataset(
        data_home / "data/cache/openmeteo/marine-era5_ocean/a.nc", engine="h5netcdf"
    ) as ds:
        assert np.isnan(ds["wave_height"].values[20:, 0]).all()
        assert (ds["wave_height"].values[:20, 0] > 0).all()


def test_grid_change_and_moved_site_are_errors(local_server, fill, data_home):
    fill(D(2024, 1, 1), D(2024, 1, 1), sites=[A])
    body = _body([A], D(2024, 1, 2), D(2024, 1, 2), syn.WAVES, grid=0.5)
    body["latitude"] = 51.5
    local_server.route("/v1/marine", Reply(200, body))
    with pytest.raises(DataFormatError, match=r"grid cell grid_lat=51.5 for site 'a'.*delete"):
        _update(local_server, "marine", "2024-01-01", "2024-01-02", [A])
    moved = Site("a", 51.2, 1.5)
    local_server.route(
        "/v1/marine", Reply(200, _body([moved], D(2024, 1, 2), D(2024, 1, 2), syn.WAVES))
    )
    with pytest.raises(
        ConfigError, match=r"site 'a' was cached at site_lat=51.0 but is now asked at 51.2"
    ):
        _update(local_server, "marine", "2024-01-01", "2024-01-02", [moved])


def test_update_date_errors(data_home):
    with pytest.raises(ConfigError, match=r"--end 2024-01-01 is before --start 2024-01-05"):
        weather.update("archive", "2024-01-05", "2024-01-01", [A])
    with pytest.raises(ConfigError, match=r"--end 2026-11-26 is after today \(2026-11-25, UTC\)"):
        weather.update("archive", "2026-11-20", "2026-11-26", [A], now=lambda: NOW)
    with pytest.raises(ConfigError, match=r"--start '2024/01/01' is not a date"):
        weather.update("archive", "2024/01/01", "2024-01-02", [A])
    with pytest.raises(ConfigError, match=r"do not apply to --kind forecast"):
        weather.update("forecast", "2024-01-01", None, [A])
    with pytest.raises(ConfigError, match=r"--past-days 93 is out of range; .* 0 to 92"):
        weather.update("forecast", sites=[A], past_days=93)
    with pytest.raises(ConfigError, match=r"--forecast-days -1 is out of range; .* 0 to 16"):
        weather.update("forecast", sites=[A], forecast_days=-1)


def test_write_atomic_refuses_bad_data_and_keeps_the_old_file(tmp_path):
    ds = om.read_response(_body([A], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES), "marine", sites=[A])
    path = tmp_path / "a.nc"
    weather.write_atomic(ds, path)
    before = path.read_bytes()
    bad = ds.copy()
    bad["wave_height"].attrs["units"] = "ft"  # not converted: must never reach the cache
    with pytest.raises(DataFormatError, match=r"a\.nc: wave_height has units 'ft', expected 'm'"):
        weather.write_atomic(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nc"]  # no temporary left


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (D(2024, 3, 30), D(2024, 4, 1)),
        (D(2024, 10, 26), D(2024, 10, 28)),
        (D(2024, 2, 28), D(2024, 3, 1)),
    ],
)
def test_load_hourly_merges_on_one_utc_axis_dst_and_leap(local_server, fill, data_home, start, end):
    fill(start, end)
    ds = weather.load_hourly(start, end, kind="archive")
    times = pd.DatetimeIndex(ds["time"].values)
    assert times.equals(pd.date_range(pd.Timestamp(start), periods=72, freq="h"))
    assert set(ds.data_vars) == {*syn.ATMOS, *syn.WAVES, "visibility"}
    assert list(ds["site"].values) == ["a", "b"]
    assert ds["wind_speed_10m"].dims == ("time", "site")
    # UK day of the clock change has 23/25 hours: check per UK date
    uk_dates = times.tz_localize("UTC").tz_convert("Europe/London").date
    counts = pd.Series(uk_dates).value_counts().sort_index()
    if start == D(2024, 3, 30):
        assert counts[D(2024, 3, 31)] == 23
    if start == D(2024, 10, 26):
        assert counts[D(2024, 10, 27)] == 25
    t = dt.datetime(start.year, start.month, start.day) + dt.timedelta(hours=30)
    assert float(ds["wave_height"].sel(time=t, site="b")) == pytest.approx(
        syn.synthetic_value("wave_height", t, 1)
    )
    assert float(ds["wind_gusts_10m"].sel(time=t, site="a")) == pytest.approx(
        syn.synthetic_value("wind_gusts_10m", t, 0)
    )
    assert np.isnan(ds["visibility"].values).all()  # archive has no visibility
    np.testing.assert_allclose(ds["marine_grid_lon"].values, [1.5, 1.75])
    assert "Copernicus" in ds.attrs["attribution"] and "DWD" in ds.attrs["attribution"]
    assert ds.attrs["model"] == "era5 + era5_ocean"


def test_load_hourly_pads_gaps_with_nan_and_checks_cache(local_server, fill, data_home):
    with pytest.raises(SourceError, match=r"no cached Open-Meteo archive data.*--kind archive"):
        weather.load_hourly("2024-01-01", "2024-01-02")
    fill(D(2024, 1, 1), D(2024, 1, 1))
    ds = weather.load_hourly("2023-12-31T22:00", "2024-01-02", sites=["b"])
    assert ds.sizes["time"] == 2 + 48
    assert np.isnan(ds["wind_speed_10m"].values[:2]).all()
    assert np.isnan(ds["wind_speed_10m"].values[26:]).all()
    assert not np.isnan(ds["wind_speed_10m"].values[2:26]).any()
    with pytest.raises(SourceError, match=r"site\(s\) \['zz'\] not cached"):
        weather.load_hourly("2024-01-01", "2024-01-01", sites=["zz"])


def test_load_hourly_historical_forecast_has_visibility(local_server, data_home):
    variables = (*syn.ATMOS, "visibility")
    local_server.route("/v1/hf", Reply(200, _body([A], D(2024, 1, 1), D(2024, 1, 1), variables)))
    local_server.route(
        "/v1/marine", Reply(200, _body([A], D(2024, 1, 1), D(2024, 1, 1), syn.WAVES))
    )
    _update(local_server, "historical_forecast", "2024-01-01", "2024-01-01", [A])
    _update(local_server, "marine", "2024-01-01", "2024-01-01", [A])
    assert local_server.requests[0].query["models"] == ["best_match"]
    ds = weather.load_hourly("2024-01-01", "2024-01-01", kind="historical_forecast")
    t = dt.datetime(2024, 1, 1, 6)
    assert float(ds["visibility"].sel(time=t, site="a")) == pytest.approx(
        syn.synthetic_value("visibility", t)
    )


def _forecast_run(server, when, offset):
    start = when.date() - dt.timedelta(days=1)
    end = when.date() + dt.timedelta(days=1)
    server.route(
        "/v1/forecast",
        Reply(200, _body([A, B], start, end, (*syn.ATMOS, "visibility"), offset=offset)),
    )
    server.route("/v1/marine", Reply(200, _body([A, B], start, end, syn.WAVES, offset=offset)))
    return weather.update(
        "forecast",
        sites=[A, B],
        url=server.url("/v1/forecast"),
        marine_url=server.url("/v1/marine"),
        policy=FAST,
        now=lambda: when,
        progress=False,
        past_days=1,
        forecast_days=2,
        marine_forecast_days=2,
        with_history=False,
    )


def test_forecast_runs_latest_and_combined(local_server, data_home):
    t1 = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)
    t2 = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
    rows = _forecast_run(local_server, t1, 0.0)
    assert [r["kind"] for r in rows] == ["forecast", "marine_forecast"]
    fq = local_server.requests[0].query
    assert (fq["past_days"], fq["forecast_days"], fq["cell_selection"]) == (["1"], ["2"], ["sea"])
    assert local_server.requests[1].query["forecast_days"] == ["2"]
    _forecast_run(local_server, t2, 100.0)

    latest = weather.load_forecast_latest()
    assert latest.attrs["forecast_retrieved_utc"] == "2026-11-25T06:00:00Z"
    assert pd.Timestamp(latest["time"].values[0]) == pd.Timestamp("2026-11-24")
    t = dt.datetime(2026, 11, 25, 12)
    assert float(latest["wind_speed_10m"].sel(time=t, site="a")) == pytest.approx(
        syn.synthetic_value("wind_speed_10m", t, 0, 100.0)
    )
    assert float(latest["visibility"].sel(time=t, site="b")) == pytest.approx(
        syn.synthetic_value("visibility", t, 1, 100.0)
    )
    # all runs: newest wins where runs overlap, the older run fills the hours before
    ds = weather.load_hourly("2026-11-23", "2026-11-26", kind="forecast")
    t_old = dt.datetime(2026, 11, 23, 5)
    assert float(ds["wave_height"].sel(time=t_old, site="a")) == pytest.approx(
        syn.synthetic_value("wave_height", t_old, 0, 0.0)
    )
    assert float(ds["wave_height"].sel(time=t, site="a")) == pytest.approx(
        syn.synthetic_value("wave_height", t, 0, 100.0)
    )


def test_read_weather_file_json_and_netcdf(tmp_path):
    body = syn.body(
        [(51.0, 1.5), (50.97, 1.72)], D(2024, 1, 1), D(2024, 1, 1), (*syn.ATMOS, *syn.WAVES)
    )
    body[0]["hourly_units"]["wind_speed_10m"] = "km/h"
    body[1]["hourly_units"]["wind_speed_10m"] = "km/h"
    f = tmp_path / "w.json"
    f.write_text(json.dumps(body))
    ds = weather.read_weather_file(f)
    assert ds.sizes == {"time": 24, "site": 2}
    t = dt.datetime(2024, 1, 1, 3)
    assert float(ds["wind_speed_10m"].sel(time=t).values[0]) == pytest.approx(
        syn.synthetic_value("wind_speed_10m", t) / 1.852
    )
    nc = tmp_path / "w.nc"
    x = ds.isel(site=0, drop=True)[["wave_height"]].drop_vars(
        [c for c in ds.coords if c != "time"], errors="ignore"
    )
    x["wave_height"].attrs["units"] = "ft"
    x.to_netcdf(nc, engine="h5netcdf")
    got = weather.read_weather_file(nc)
    assert got.sizes == {"time": 24, "site": 1}
    np.testing.assert_allclose(
        got["wave_height"].values[:, 0], ds["wave_height"].values[:, 0] * 0.3048
    )
    twice = xr.concat([x.isel(time=[0, 1]), x.isel(time=[1])], dim="time")
    twice.to_netcdf(tmp_path / "twice.nc", engine="h5netcdf")
    with pytest.raises(DataFormatError, match=r"twice\.nc: time 2024-01-01 01:00 appears more"):
        weather.read_weather_file(tmp_path / "twice.nc")
    bad = tmp_path / "w.txt"
    bad.write_text("x")
    with pytest.raises(DataFormatError, match=r"unknown type '.txt'"):
        weather.read_weather_file(bad)


# --------------------------------------------------------------------------- CLI


def test_cli_update_and_show(local_server, data_home, capsys):
    body = _body([A], D(2024, 2, 28), D(2024, 3, 1), syn.ATMOS, nulls=[5])
    local_server.route("/v1/archive", Reply(200, body))
    code = main(
        [
            "weather",
            "update",
            "--kind",
            "archive",
            "--start",
            "2024-02-28",
            "--end",
            "2024-03-01",
            "--sites",
            "a:51.0:1.5",
            "--base-url",
            local_server.url("/v1/archive"),
            "--format",
            "json",
        ]
    )
    assert code == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["kind"] == "archive" and row["hours_added"] == 72 and row["requests"] == 1
    assert main(["weather", "show", "--format", "json"]) == 0
    (inv,) = json.loads(capsys.readouterr().out)
    assert inv["source"] == "archive-era5" and inv["site"] == "a"
    assert (inv["start_utc"], inv["end_utc"], inv["hours"]) == (
        "2024-02-28 00:00",
        "2024-03-01 23:00",
        72,
    )
    assert inv["missing_hours"] == 0 and inv["nan_hours"] == 1
    assert "Open-Meteo" in inv["attribution"]
    assert main(["weather", "show"]) == 0
    out = capsys.readouterr().out
    assert "archive-era5" in out and "Attribution:" in out and "CC BY 4.0" in out


def test_cli_env_url_and_error_exit(local_server, data_home, monkeypatch, capsys):
    monkeypatch.setenv("FORECAST_OPENMETEO_MARINE_URL", local_server.url("/v1/marine"))
    local_server.route(
        "/v1/marine",
        Reply(400, {"error": True, "reason": "Latitude must be in range of -90 to 90°."}),
    )
    code = main(
        [
            "weather",
            "update",
            "--kind",
            "marine",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-01",
            "--sites",
            "a:51.0:1.5",
        ]
    )
    assert code == 2
    assert "Latitude must be in range" in capsys.readouterr().err
    assert len(local_server.requests) == 1


@pytest.mark.parametrize("action", ["update", "show"])
def test_cli_every_action_has_help(action, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["weather", action, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: forecast weather {action}")
    assert "--format {table,csv,json}" in out


def test_cli_without_action_prints_help(capsys):
    assert main(["weather"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: forecast weather") and "update" in out and "show" in out


def test_cli_bad_timeout_exits_2(data_home, capsys):
    assert main(["weather", "update", "--timeout", "0", "--sites", "a:51:1.5"]) == 2
    assert "--timeout 0.0: expected a number of seconds > 0" in capsys.readouterr().err


def test_cli_show_empty(data_home, capsys):
    assert main(["weather", "show"]) == 0
    assert "No Open-Meteo data cached" in capsys.readouterr().out


def test_timeout_leaves_cache_intact(local_server, fill, data_home):
    fill(D(2024, 1, 1), D(2024, 1, 1))
    folder = data_home / "data/cache/openmeteo/archive-era5"
    before = _digest(folder)
    body = _body([A, B], D(2024, 1, 2), D(2024, 1, 2), syn.ATMOS)
    local_server.route("/v1/archive", Reply(200, body, delay_s=1.0))
    policy = om.RetryPolicy(timeout_s=0.2, max_transient_retries=0)
    with pytest.raises(
        om.TransientError, match=r"no answer within 0\.2 s \(time-out\).*gave up after 0"
    ):
        weather.update(
            "archive",
            "2024-01-01",
            "2024-01-02",
            [A, B],
            url=local_server.url("/v1/archive"),
            policy=policy,
            now=lambda: NOW,
            progress=False,
        )
    assert _digest(folder) == before


def test_progress_bar_only_on_a_tty():
    with weather._progress(3, "x", None) as bar:  # pytest captures stderr: not a TTY
        assert bar.disable is True
    with weather._progress(3, "x", True) as bar:
        assert bar.disable is False


def test_forecast_latest_without_marine_has_nan_waves(local_server, data_home):
    when = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
    body = _body([A], when.date(), when.date(), (*syn.ATMOS, "visibility"))
    local_server.route("/v1/forecast", Reply(200, body))
    local_server.route("/v1/marine", Reply(503, "down"))
    with pytest.raises(om.TransientError, match="HTTP 503"):
        weather.update(
            "forecast",
            sites=[A],
            url=local_server.url("/v1/forecast"),
            marine_url=local_server.url("/v1/marine"),
            policy=FAST,
            now=lambda: when,
            progress=False,
            with_history=False,
        )
    ds = weather.load_forecast_latest()
    assert ds.sizes == {"time": 24, "site": 1}
    assert np.isnan(ds["wave_height"].values).all()
    assert ds["wind_speed_10m"].notnull().all()
    assert "no cached Open-Meteo marine forecast run" in ds.attrs["marine_missing"]
    with pytest.raises(SourceError, match="marine forecast run"):
        weather.load_forecast_latest(require_marine=True)


def test_first_forecast_update_fetches_the_missing_history(local_server, data_home, monkeypatch):
    """A forecast is useless without the history the model trains on: fetched first."""
    when = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)
    h0, h1 = dt.date(2026, 11, 1), dt.date(2026, 11, 18)  # history start .. now - 6 days
    f0, f1 = dt.date(2026, 11, 23), dt.date(2026, 11, 25)
    local_server.route("/v1/archive", Reply(200, _body([A, B], h0, h1, syn.ATMOS)))
    local_server.route(
        "/v1/marine",
        Reply(200, _body([A, B], h0, h1, syn.WAVES)),  # marine history first
        Reply(200, _body([A, B], f0, f1, syn.WAVES)),  # then the marine forecast
    )
    local_server.route(
        "/v1/forecast", Reply(200, _body([A, B], f0, f1, (*syn.ATMOS, "visibility")))
    )
    monkeypatch.setenv("FORECAST_OPENMETEO_ARCHIVE_URL", local_server.url("/v1/archive"))
    monkeypatch.setenv("FORECAST_OPENMETEO_MARINE_URL", local_server.url("/v1/marine"))
    kw = dict(
        sites=[A, B],
        url=local_server.url("/v1/forecast"),
        marine_url=local_server.url("/v1/marine"),
        policy=om.RetryPolicy(timeout_s=2.0, minutely_wait_s=0.0, transient_wait_s=0.0),
        now=lambda: when,
        progress=False,
        past_days=1,
        forecast_days=2,
        marine_forecast_days=2,
        history_start="2026-11-01",
    )
    rows = weather.update("forecast", **kw)
    assert [r["kind"] for r in rows] == ["archive", "marine", "forecast", "marine_forecast"]
    assert [r["hours_added"] for r in rows[:2]] == [18 * 24 * 2, 18 * 24 * 2]
    assert rows[-1]["requests_sent"] == 4 and rows[-1]["failed_requests"] == 0
    assert [r.path for r in local_server.requests] == [
        "/v1/archive",
        "/v1/marine",
        "/v1/forecast",
        "/v1/marine",
    ]
    hist = weather.load_hourly("2026-11-01", "2026-11-18", kind="archive")
    assert pd.Timestamp(hist["time"].values[-1]) == pd.Timestamp("2026-11-18 23:00")
    # a second run finds the history complete and asks only for the forecast
    local_server.requests.clear()
    local_server.route("/v1/marine", Reply(200, _body([A, B], f0, f1, syn.WAVES)))
    local_server.route(
        "/v1/forecast", Reply(200, _body([A, B], f0, f1, (*syn.ATMOS, "visibility")))
    )
    rows = weather.update("forecast", **kw)
    assert [r["requests"] for r in rows] == [0, 0, 1, 1]
    assert [r.path for r in local_server.requests] == ["/v1/forecast", "/v1/marine"]


def test_history_jobs_stay_under_the_per_minute_pace():
    sites = [Site(f"s{i}", 50.0 + i / 100, 1.0) for i in range(50)]
    jobs = weather.history_jobs(
        "archive", Path("/nonexistent"), sites, dt.date(2024, 1, 1), dt.date(2024, 12, 31)
    )
    n_vars = len(om.spec("archive").variables)
    weights = [om.request_weight(n_vars, (b - a).days + 1, len(batch)) for (a, b), batch in jobs]
    assert max(weights) <= om.PACE_LIMITS["minutely"]
    days = sorted({d for (a, b), _ in jobs for d in pd.date_range(a, b)})
    assert len(days) == 366 and len(jobs) > 1
