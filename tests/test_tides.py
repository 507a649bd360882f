"""Tide predictions: independent implementations, known levels, nights, CLI."""

from __future__ import annotations

import dataclasses
import json
import time
import warnings

import ephem
import numpy as np
import pandas as pd
import pytest
from utide import reconstruct
from utide._ut_constants import ut_constants
from utide.utilities import Bunch

from forecast.cli import main
from forecast.errors import ConfigError, DataFormatError
from forecast.features import tides
from forecast.features.sky import is_dark
from forecast.sources import tides as src
from forecast.sources.tides import load_station

with warnings.catch_warnings():
    # uptide imports scipy.io.netcdf (deprecated namespace) for its optional NetCDF reader.
    warnings.simplefilter("ignore", DeprecationWarning)
    import uptide
    import uptide.tidal

# ------------------------------------------------------------------ helpers
UT_NAME = {"LAMBDA2": "LDA2", "EP2": "EPS2", "SGM": "SIG1"}
UP_NAME = {"EP2": "EPS2"}


def subset(st, keep):
    k = [i for i, n in enumerate(st.names) if n in keep]
    return dataclasses.replace(
        st,
        names=tuple(st.names[i] for i in k),
        speed=st.speed[k],
        amplitude=st.amplitude[k],
        phase=st.phase[k],
    )


def utide_level(st, times):
    """Water level from utide (t_tide tables and nodal/satellite corrections)."""
    known = list(ut_constants.const.name)
    # utide's Sa is h - p1 (Doodson 0 0 1 0 0 -1); TICON/XTide's Sa speed (0.0410686 deg/h)
    # is Schureman's h, so Sa is left out of this comparison (it differs by p1 ~ 283 deg).
    s = subset(st, [n for n in st.names if UT_NAME.get(n, n) in known and n != "SA"])
    lind = np.array([known.index(UT_NAME.get(n, n)) for n in s.names])
    opt = Bunch(
        twodim=False,
        nodiagn=True,
        nodsatlint=False,
        nodsatnone=False,
        gwchlint=False,
        gwchnone=False,
        prefilt=[],
        notrend=True,
    )
    coef = Bunch(
        name=np.array([UT_NAME.get(n, n) for n in s.names]),
        A=s.amplitude,
        g=s.phase,
        mean=s.z0,
        slope=0.0,
        aux=Bunch(
            reftime=739000.0, frq=ut_constants.const.freq[lind], lind=lind, lat=st.lat, opt=opt
        ),
    )
    return reconstruct(pd.DatetimeIndex(times).to_pydatetime(), coef, verbose=False).h, s


def uptide_level(st, times):
    """Water level from uptide (Doodson numbers, nodal corrections at the first time)."""
    # uptide's L2 uses M2's nodal correction and its M3/S1/M1 use other phase origins: left out.
    omit = {"L2", "M3", "S1", "M1"}
    s = subset(
        st, [n for n in st.names if UP_NAME.get(n, n) in uptide.tidal.omega and n not in omit]
    )
    tide = uptide.Tides([UP_NAME.get(n, n) for n in s.names])
    t0 = pd.Timestamp(times[0])
    tide.set_initial_time(t0.to_pydatetime())
    secs = (pd.DatetimeIndex(times) - t0).total_seconds().to_numpy()
    return s.z0 + tide.from_amplitude_phase(s.amplitude, np.deg2rad(s.phase), secs), s


def ours(st, times):
    return tides._level_ns(st, pd.DatetimeIndex(times).as_unit("ns").asi8)


def hw_times(level, times):
    """HW times of a 1-min series (local maxima)."""
    h = np.asarray(level)
    i = np.flatnonzero((h[1:-1] > h[:-2]) & (h[1:-1] >= h[2:])) + 1
    return pd.DatetimeIndex(times)[i]


# ------------------------------------------------------------------ constants
def test_station_keys_and_unknown_station():
    assert src.station_key("Dover") == "dover"
    assert src.station_key("Boulogne-sur-Mer") == "boulogne"
    assert src.station_key("dunkirk") == "dunkerque"
    with pytest.raises(
        ConfigError,
        match=r"unknown tide station 'Folkestone'; valid stations: dover, deal, calais, boulogne, dunkerque",
    ):
        tides.predict_level("Folkestone", ["2026-01-01"])


@pytest.mark.parametrize("station", list(src.STATIONS))
def test_all_50_constituents_have_doodson_numbers_matching_speeds(station):
    st = load_station(station)
    assert len(st.names) == 50
    dood, _, _ = tides._constituent_arrays(st)
    np.testing.assert_allclose(dood @ tides._RATES, st.speed, atol=2e-4)


def test_read_constituents_rejects_bad_tables(tmp_path):
    good = pd.read_csv(src.config.snapshot_dir() / "tides" / "constituents.csv")
    bad = good.drop(columns=["phase_deg"])
    bad.to_csv(tmp_path / "c1.csv", index=False)
    with pytest.raises(DataFormatError, match=r"c1\.csv: columns \['phase_deg'\] missing"):
        src.read_constituents(tmp_path / "c1.csv")
    bad = good.astype({"amplitude_m": object})
    bad.loc[3, "amplitude_m"] = "2,25"
    bad.to_csv(tmp_path / "c2.csv", index=False)
    with pytest.raises(
        DataFormatError, match=r"c2\.csv row 5, column amplitude_m: '2,25' is not a number"
    ):
        src.read_constituents(tmp_path / "c2.csv")
    bad = pd.concat([good, good.iloc[[0]]])
    bad.to_csv(tmp_path / "c3.csv", index=False)
    with pytest.raises(
        DataFormatError, match=r"c3\.csv row 252: constituent M2 appears twice for Dover"
    ):
        src.read_constituents(tmp_path / "c3.csv")


def test_wrong_speed_in_table_is_rejected(tmp_path):
    good = pd.read_csv(src.config.snapshot_dir() / "tides" / "constituents.csv")
    good.loc[good["constituent"] == "N2", "speed_deg_per_hour"] = 28.5
    good.to_csv(tmp_path / "constituents.csv", index=False)
    (tmp_path / "datums.csv").write_text(
        (src.config.snapshot_dir() / "tides" / "datums.csv").read_text()
    )
    st = load_station("dover", folder=str(tmp_path))
    with pytest.raises(DataFormatError, match=r"speeds of \['N2'\] in constituents\.csv differ"):
        tides._level_ns(st, np.array([0], dtype=np.int64))


# ------------------------------------------------------------------ independent implementations
@pytest.mark.parametrize(("station", "start"), [("dover", "2026-11-01"), ("calais", "2019-06-10")])
def test_agrees_with_utide(station, start):
    st = load_station(station)
    times = pd.date_range(start, periods=4 * 24 * 60, freq="min")
    ref, s = utide_level(st, times)
    assert len(s.names) >= 38
    mine = ours(s, times)
    assert np.abs(ref - mine).max() < 0.03  # [m]
    a, b = hw_times(ref, times), hw_times(mine, times)
    assert len(a) == len(b) == 8
    assert np.abs((a - b).total_seconds()).max() <= 3 * 60


@pytest.mark.parametrize(
    ("station", "start"), [("dover", "2026-11-01"), ("boulogne", "2024-02-27")]
)
def test_agrees_with_uptide(station, start):
    st = load_station(station)
    times = pd.date_range(start, periods=3 * 24 * 60, freq="min")
    ref, s = uptide_level(st, times)
    assert len(s.names) >= 30
    mine = ours(s, times)
    assert np.abs(ref - mine).max() < 0.02
    a, b = hw_times(ref, times), hw_times(mine, times)
    assert len(a) == len(b) == 6
    assert np.abs((a - b).total_seconds()).max() <= 2 * 60


def test_high_low_waters_match_a_1_min_curve():
    hl = tides.high_low_waters("dover", "2026-11-01", "2026-11-03")
    times = pd.date_range("2026-11-01", "2026-11-04", freq="min", inclusive="left")
    level = tides.predict_level("dover", times)
    hw = hw_times(level.to_numpy(), times)
    got = pd.DatetimeIndex(hl.loc[hl["kind"] == "HW", "time_utc"])
    assert len(got) == len(hw) == 6
    assert np.abs((got - hw).total_seconds()).max() <= 90
    np.testing.assert_allclose(
        hl.loc[hl["kind"] == "HW", "height"], level.loc[hw].to_numpy(), atol=0.005
    )
    assert list(hl["kind"][:4]) == ["HW", "LW", "HW", "LW"]


# ------------------------------------------------------------------ facts from datums.csv
@pytest.fixture(scope="module")
def dover_2018_2026():
    return tides.high_low_waters("dover", "2018-01-01", "2026-12-31")


def test_mean_levels_match_datums(dover_2018_2026):
    """Levels of the predicted curve against datums.csv (reduced from gauge records).

    Dover's mean HW of the continuous curve is 0.13 m above the tabulated MHW (mean LW
    0.07 m below MLW); the other ports agree within 0.06 m over 2018-2026. A likely cause is that the
    datums were reduced from hourly gauge values, which cut Dover's sharp HW peak.
    """
    st = load_station("dover")
    hl = dover_2018_2026
    assert hl["height"][hl["kind"] == "HW"].mean() == pytest.approx(st.datums["MHW"], abs=0.15)
    assert hl["height"][hl["kind"] == "LW"].mean() == pytest.approx(st.datums["MLW"], abs=0.1)
    for station in ("calais", "boulogne", "dunkerque", "deal"):
        other = load_station(station)
        hl2 = tides.high_low_waters(station, "2018-01-01", "2026-12-31")
        assert hl2["height"][hl2["kind"] == "HW"].mean() == pytest.approx(
            other.datums["MHW"], abs=0.07
        )
        assert hl2["height"][hl2["kind"] == "LW"].mean() == pytest.approx(
            other.datums["MLW"], abs=0.07
        )
    assert hl["height"].max() <= st.datums["HAT"] + 0.05
    assert hl["height"].max() >= st.datums["HAT"] - 0.25
    assert hl["height"].min() >= st.datums["LAT"] - 0.05
    a = dict(zip(st.names, st.amplitude, strict=True))
    assert 2 * (a["M2"] + a["S2"]) == pytest.approx(st.datums["MHWS"] - st.datums["MLWS"], abs=0.05)


def test_semidiurnal_rhythm(dover_2018_2026):
    hl = dover_2018_2026
    kinds = hl["kind"].to_numpy()
    assert (kinds[1:] != kinds[:-1]).all()  # HW and LW alternate
    hw = pd.DatetimeIndex(hl["time_utc"][hl["kind"] == "HW"])
    period_h = (hw[-1] - hw[0]).total_seconds() / 3600 / (len(hw) - 1)
    assert period_h == pytest.approx(12.4206, abs=0.002)  # M2 period


def test_time_zones_and_night_dates():
    utc = pd.date_range("2026-10-24 22:00", "2026-10-25 04:00", freq="30min")
    local = utc.tz_localize("UTC").tz_convert("Europe/London")
    a, b = tides.predict_level("dover", utc), tides.predict_level("dover", local)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy())
    assert (a.index == utc).all() and (b.index == utc).all()
    assert a.attrs["units"] == "m above chart datum"


def test_mean_level_is_z0_and_series_is_fast():
    times = pd.date_range("2018-01-01", "2026-12-31 23:00", freq="h")
    t = time.perf_counter()
    level = tides.predict_level("dover", times)
    elapsed = time.perf_counter() - t
    assert len(level) == 78888
    assert level.mean() == pytest.approx(3.786, abs=0.01)
    assert elapsed < 3.0


def test_spring_neap_follows_moon_phases():
    """Springs follow new/full moon by 1-3 days; neaps follow the quarters (ephem dates)."""
    f = tides.night_tide_features(pd.date_range("2024-01-01", "2024-03-31"))
    syzygies = [ephem.next_new_moon("2024-01-01"), ephem.next_full_moon("2024-01-01")]
    syzygies += [ephem.next_new_moon("2024-02-01"), ephem.next_full_moon("2024-02-01")]
    quarters = [
        ephem.next_first_quarter_moon("2024-01-01"),
        ephem.next_last_quarter_moon("2024-01-20"),
    ]
    quarters += [
        ephem.next_first_quarter_moon("2024-02-05"),
        ephem.next_last_quarter_moon("2024-02-20"),
    ]
    days = pd.Timedelta(days=1)
    highs = []
    for d in syzygies:
        day = pd.Timestamp(d.datetime()).normalize()
        highs.append(f.loc[day : day + 3 * days, "spring_neap_index"].max())
    lows = []
    for d in quarters:
        day = pd.Timestamp(d.datetime()).normalize()
        lows.append(f.loc[day + days : day + 4 * days, "spring_neap_index"].min())
    # 2024-01-25 full moon is near apogee: weak springs (0.72); the others reach 1.
    np.testing.assert_array_less(0.6, highs)
    np.testing.assert_array_less(lows, 0.35)
    assert min(highs) - max(lows) > 0.3


# ------------------------------------------------------------------ nights
def uk_window(day: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """D-1 22:00 .. D 14:00 UK as naive UTC, computed here independently of the package."""
    d = pd.Timestamp(day)
    start = (d - pd.Timedelta(hours=2)).tz_localize("Europe/London").tz_convert("UTC")
    end = (d + pd.Timedelta(hours=14)).tz_localize("Europe/London").tz_convert("UTC")
    return start.tz_localize(None), end.tz_localize(None)


def window_extrema(day: str, station: str = "dover") -> pd.DataFrame:
    start, end = uk_window(day)
    hl = tides.high_low_waters(station, start - pd.Timedelta(hours=1), end)
    return hl[(hl["time_utc"] >= start) & (hl["time_utc"] < end)]


@pytest.mark.parametrize("day", ["2024-02-29", "2026-03-29", "2026-07-15", "2026-10-25"])
def test_night_features_definition_and_leap_day(day):
    """Only HW/LW inside D-1 22:00 .. D 14:00 UK count (GMT, spring DST, BST, autumn DST)."""
    dates = pd.date_range(pd.Timestamp(day) - pd.Timedelta(days=2), periods=5)
    f = tides.night_tide_features(dates)
    assert f.index.name == "date"
    assert list(f.index) == list(dates)
    assert list(f.columns) == [
        "hw_in_darkness",
        "first_dark_hw_utc",
        "tidal_range",
        "spring_neap_index",
    ]
    hl = window_extrema(day)
    hw = hl[hl["kind"] == "HW"]
    dark = hw[is_dark(hw["time_utc"], 50.97, 1.72, 12)]
    row = f.loc[day]
    assert row["hw_in_darkness"] == len(dark)
    if len(dark):
        assert row["first_dark_hw_utc"] == dark["time_utc"].min()
    else:
        assert pd.isna(row["first_dark_hw_utc"])
    expected_range = hw["height"].max() - hl.loc[hl["kind"] == "LW", "height"].min()
    assert row["tidal_range"] == pytest.approx(expected_range)
    neap, spring = tides.spring_neap_ranges("dover")
    assert row["spring_neap_index"] == pytest.approx(
        np.clip((expected_range - neap) / (spring - neap), 0, 1)
    )
    assert f["first_dark_hw_utc"].dtype == "datetime64[ns]"
    assert f.attrs["night"] == "the night feeding day D: D-1 22:00 to D 14:00 UK time"


def test_dark_high_water_at_18_utc_belongs_to_no_night():
    """HW 2026-12-02 18:00 UTC is in darkness (dusk 17:10) but before the night of the 3rd.

    The old definition (D-1 12:00 .. D 12:00 UTC) counted it as the night's first dark HW;
    the night D-1 22:00 .. D 14:00 UK holds only the 06:32 HW, after nautical dawn.
    """
    hl = tides.high_low_waters("dover", "2026-12-02 12:00", "2026-12-03 14:00")
    hw = hl[hl["kind"] == "HW"]
    evening = hw[hw["time_utc"].between("2026-12-02 17:55", "2026-12-02 18:05")]
    assert len(evening) == 1 and is_dark(evening["time_utc"], 50.97, 1.72, 12).all()
    f = tides.night_tide_features(["2026-12-02", "2026-12-03"])
    row = f.loc["2026-12-03"]
    assert row["hw_in_darkness"] == 0
    assert pd.isna(row["first_dark_hw_utc"])
    # nor is it counted for the night before (it is after that night's 14:00 end)
    assert f.loc["2026-12-02", "first_dark_hw_utc"] != evening["time_utc"].iloc[0]
    # the range of the 3rd uses the HW at 06:32 and the LWs at 00:43 and 13:17 only
    inside = window_extrema("2026-12-03")
    assert list(inside["kind"]) == ["LW", "HW", "LW"]
    assert row["tidal_range"] == pytest.approx(
        inside["height"].iloc[1] - inside["height"].iloc[[0, 2]].min()
    )


@pytest.mark.parametrize("station", sorted(src.STATIONS))
def test_every_night_of_a_year_holds_a_high_and_a_low_water(station):
    """15-17 h windows always hold >= 1 HW and >= 1 LW: gaps between HW (or LW) < 15 h."""
    days = pd.date_range("2025-01-01", "2025-12-31")
    f = tides.night_tide_features(days, station=station)
    assert f["tidal_range"].notna().all() and (f["tidal_range"] > 0).all()
    assert f["hw_in_darkness"].between(0, 2).all()
    hl = tides.high_low_waters(station, "2024-12-31", "2026-01-01")
    for kind in ("HW", "LW"):
        gaps = pd.DatetimeIndex(hl.loc[hl["kind"] == kind, "time_utc"]).to_series().diff()
        assert gaps.max() < pd.Timedelta(hours=15), kind


def test_nights_across_dst_changes():
    f = tides.night_tide_features(pd.date_range("2026-03-27", "2026-03-31"))
    g = tides.night_tide_features(pd.date_range("2026-10-23", "2026-10-27"))
    for df in (f, g):
        assert df["tidal_range"].notna().all()
        assert df["hw_in_darkness"].between(0, 2).all()
        # each night is computed on its own window: the same alone as in a range
        for day in df.index:
            alone = tides.night_tide_features([day])
            pd.testing.assert_frame_equal(alone, df.loc[[day]], check_freq=False)


# ------------------------------------------------------------------ CLI
def test_cli_table_with_uk_time_across_spring_dst(capsys):
    assert (
        main(["tides", "--station", "dover", "--start", "2026-03-28", "--end", "2026-03-29"]) == 0
    )
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Dover: high and low waters, heights in m above chart datum (~LAT)"
    assert lines[1].split() == ["time_utc", "time_uk", "kind", "height_m"]
    rows = [ln.split() for ln in lines[2:] if ln[:4] == "2026"]
    expected = tides.high_low_waters("dover", "2026-03-28", "2026-03-29")
    assert len(rows) == len(expected) == 8
    for r in rows:
        utc = pd.Timestamp(f"{r[0]} {r[1]}")
        zone = "BST" if utc >= pd.Timestamp("2026-03-29 01:00") else "GMT"
        local = utc + pd.Timedelta(hours=1 if zone == "BST" else 0)
        assert r[2:5] == [local.strftime("%Y-%m-%d"), local.strftime("%H:%M"), zone]
        assert r[5] in ("HW", "LW")
    assert {r[4] for r in rows} == {"GMT", "BST"}
    assert lines[-1].startswith("Tidal constants: TICON-4 (DGFI-TUM")


def test_cli_autumn_dst_csv_and_json(capsys):
    assert main(["tides", "--start", "2026-10-25", "--end", "2026-10-25", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    df = pd.read_csv(pd.io.common.StringIO(captured.out))
    assert list(df.columns) == ["time_utc", "time_uk", "kind", "height_m"]
    before = df[pd.to_datetime(df["time_utc"]) < "2026-10-25 01:00"]
    after = df[pd.to_datetime(df["time_utc"]) >= "2026-10-25 01:00"]
    assert (
        before["time_uk"].str.endswith("BST").all() and after["time_uk"].str.endswith("GMT").all()
    )
    assert "# attribution: Tidal constants: TICON-4" in captured.err
    assert (
        main(
            [
                "tides",
                "--station",
                "calais",
                "--start",
                "2026-11-01",
                "--end",
                "2026-11-01",
                "--format",
                "json",
                "--nights",
            ]
        )
        == 0
    )
    obj = json.loads(capsys.readouterr().out)
    assert obj["station"] == "Calais"
    assert obj["rows"][0]["night"] == "2026-11-01"
    assert set(obj["rows"][0]) == {
        "night",
        "hw_in_darkness",
        "first_dark_hw_utc",
        "tidal_range_m",
        "spring_neap_index",
    }


def test_cli_errors(capsys):
    assert main(["tides", "--station", "ramsgate", "--start", "2026-01-01"]) == 2
    assert (
        "unknown tide station 'ramsgate'; valid stations: dover, deal, calais"
        in capsys.readouterr().err
    )
    assert main(["tides", "--start", "2026-02-30"]) == 2
    assert "--start must be a date like 2026-11-01; got '2026-02-30'" in capsys.readouterr().err
    assert main(["tides", "--start", "2026-02-10", "--end", "2026-02-01"]) == 2
    assert "--end 2026-02-01 is before --start 2026-02-10" in capsys.readouterr().err
