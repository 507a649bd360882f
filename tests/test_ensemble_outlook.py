"""The outlook on ensemble weather: the mixture over members, joint week draws, skill by lead.

- The mixture and its joint draws on small hand-made prediction frames (exact expectations).
- Members simulated from the REAL bundled KNMI station weather (``data/snapshot/knmi``),
  labelled "simulated forecast error"; a season of real replays checks that the
  mixture's 80 % ranges at day 5 hold the real Home Office figures closer to 80 % of the
  time than a single simulated member's.
- Members of a cached Open-Meteo ensemble (SYNTHETIC values in the recorded shape), and
  an outlook, alert and page made end to end from an ensemble served on 127.0.0.1
  (SYNTHETIC values in the exact shape of the recorded real responses).
- Skill by lead read from the experiment file, and its fallback.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.cli import main
from forecast.errors import ConfigError, DataFormatError
from forecast.evaluation import metrics as M
from forecast.features import build as F
from forecast.features import forecast_error as fe
from forecast.model import pipeline as P
from forecast.products import ensemble as en
from forecast.products import outlook as ol
from forecast.products import outlook_schema
from forecast.products import skill as sk
from forecast.sources.knmi import load_knmi
from forecast.stores import weather
from forecast.stores.arrivals import load_arrivals
from tests import test_outlook_e2e as e2e
from tests.fixtures.openmeteo import synthetic as syn
from tests.httpserver import LocalServer, Reply
from tests.test_outlook import make_arrivals

DAYS = pd.date_range("2025-07-01", periods=7, freq="D", name="date")
ISSUED = dt.datetime(2025, 6, 30, 20, 0, tzinfo=dt.UTC)


def member_pred(p_any: float, expected: float, q90: float, calm: bool, wind: float) -> pd.DataFrame:
    """A hand-made prediction frame of the contract's columns, the same on all 7 days."""
    n = len(DAYS)
    out = pd.DataFrame(
        {
            "p_any": [p_any] * n,
            "rag": P.rag_class([p_any] * n),
            "calm_rule": [calm] * n,
            "expected_people": [expected] * n,
            "q10": [0.0] * n,
            "q50": [expected] * n,
            "q90": [q90] * n,
            "p_gt_300": [0.9 if expected > 300 else 0.0] * n,
            "p_gt_500": [0.5 if expected > 300 else 0.0] * n,
            "expected_boats": [expected / 50] * n,
            "wind_speed_10m_mean": [wind] * n,
            "calm_hours": [10.0 if calm else 0.0] * n,
            "horizon": np.arange(1, n + 1),
        },
        index=DAYS,
    )
    out.attrs["provenance"] = {"weather_source": "knmi", "origin": "2025-06-30"}
    return out


# ---------------------------------------------------------------------------
# the mixture
# ---------------------------------------------------------------------------


def test_mixture_means_agreement_and_joint_week():
    """Half the members bring a calm week (busy every night), half a stormy one (none)."""
    calm = member_pred(0.999, 600.0, 1000.0, True, 5.0)
    storm = member_pred(0.001, 0.01, 0.0, False, 25.0)
    pred, draws = en.ensemble_prediction(
        lambda w: w, [calm, storm] * 5, 10, thresholds=(300, 500), n_draws=4000
    )
    assert pred["p_any"].to_numpy() == pytest.approx([0.5] * 7)
    assert pred["expected_people"].to_numpy() == pytest.approx([300.005] * 7)
    assert pred["p_gt_300"].to_numpy() == pytest.approx([0.45] * 7)
    assert pred["rag"].tolist() == ["amber"] * 7
    assert pred["calm_members"].tolist() == [5] * 7 and pred["members"].tolist() == [10] * 7
    assert pred["q10"].max() == 0.0 and pred["q90"].min() > 500
    assert "calm overnight in 5 of 10 members" in pred["drivers"].iloc[0]
    assert "members' wind 5–25 kn (80 %)" in pred["drivers"].iloc[0]
    assert draws.shape == (4000, 7)
    outlook = ol.build_outlook(
        pred,
        first_day=DAYS[0],
        arrivals=make_arrivals(end="2025-06-30"),
        issued_utc=ISSUED,
        draws=draws,
        ensemble=en.ensemble_info("test members", "simulated", 10, 4000),
    )
    week = outlook["week"]
    # members drawn jointly: the week is either about 0 or about 4,200 people, half and half
    assert week["q10"] < 50 and week["q90"] > 3500
    assert week["p_busy_night"]["300"] == pytest.approx(0.5, abs=0.03)
    # independent days would have made a busy night almost sure (1 - 0.5**7 = 0.99)
    independent = ol.total_distribution(pred, n_draws=4000, thresholds=(300,))
    assert independent["p_busy_night"]["300"] > 0.95
    # one night: P(> 300 | calm member) is about 0.86 for this gamma, so about 0.43
    assert 0.35 < outlook["busy_joint"]["300"][0] < outlook["busy_joint"]["300"][-1]
    assert outlook["busy_joint"]["300"][-1] == pytest.approx(0.5, abs=0.03)
    assert outlook["days"][0]["calm_members"] == 5
    assert "members drawn jointly" in ol.format_table(outlook)
    outlook_schema.validate_outlook(json.loads(ol.to_json(outlook)))


def test_mixture_refuses_members_of_other_days():
    acc = en.MixtureAccumulator(2, (300, 500))
    acc.add(member_pred(0.5, 100.0, 300.0, True, 8.0))
    other = member_pred(0.5, 100.0, 300.0, True, 8.0)
    other.index = other.index + pd.Timedelta(days=1)
    with pytest.raises(DataFormatError, match="member 1 forecasts days 2025-07-02..2025-07-08"):
        acc.add(other)
    with pytest.raises(ConfigError, match="no ensemble member was forecast"):
        en.MixtureAccumulator(2).result()


# ---------------------------------------------------------------------------
# members simulated from the real KNMI record
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def knmi():
    return load_knmi()


def test_simulated_members_keep_the_past_and_follow_one_path(knmi):
    origin = pd.Timestamp("2024-08-31")
    days = pd.date_range("2024-09-01", periods=7, name="date")
    members = list(en.simulated_members(knmi, origin, days, n_members=4, random_state=7))
    again = list(en.simulated_members(knmi, origin, days, n_members=4, random_state=7))
    assert len(members) == 4
    for m, frame in enumerate(members):
        assert frame.attrs["label"] == "simulated ensemble (simulated forecast error)"
        assert frame.attrs["member"] == m
        past = frame.loc[:origin]
        assert past.index[0] == origin - pd.Timedelta(days=en.HISTORY_DAYS)
        pd.testing.assert_frame_equal(past, knmi.loc[past.index[0] : origin], check_freq=False)
        assert frame.loc[days].index.equals(days)
        pd.testing.assert_frame_equal(frame, again[m])
    wind = np.array([f.loc[days, "wind_speed_10m_mean"].to_numpy() for f in members])
    assert not np.allclose(wind, knmi.loc[days, "wind_speed_10m_mean"].to_numpy())
    assert wind.std(axis=0).min() > 0  # the members disagree on every day
    # day k is the lead-k forecast of that day: day 1 of member 2 is simulate_ensemble's
    lead1 = fe.simulate_ensemble(knmi.loc[days[0] : days[-1]], 1, 4, 7, climate=knmi)
    assert members[2].loc[days[0], "wind_speed_10m_mean"] == pytest.approx(
        lead1.loc[(2, days[0]), "wind_speed_10m_mean"]
    )


def test_simulated_members_refuse_leads_beyond_16_days(knmi):
    with pytest.raises(ConfigError, match=r"1 \.\. 16 days after the origin 2024-08-31"):
        next(
            en.simulated_members(
                knmi, pd.Timestamp("2024-08-31"), pd.date_range("2024-09-20", periods=2), 3
            )
        )
    with pytest.raises(ConfigError, match="--members 1: give 2 .. 200 members"):
        en.check_members(1)


# ---------------------------------------------------------------------------
# coverage: mixture vs one member, a season of real replays at day 5
# ---------------------------------------------------------------------------


def _season_preds(knmi, arrivals, members, days, lead, model):
    """Each member's day-``lead`` forecast of every day of the season (origin = day - lead)."""
    origins = days - pd.Timedelta(days=lead)
    tide_sky = F.tide_sky_features(days)
    for m in range(members.index.get_level_values("member").max() + 1):
        weather = knmi.loc[days[0] - pd.Timedelta(days=400) : days[-1]].copy()
        weather.loc[days] = members.xs(m, level="member").loc[days, weather.columns].to_numpy()
        wtab = F.weather_table("knmi", weather)
        X = F.build_features(days, origins, arrivals, "knmi", wtab, tide_sky=tide_sky)
        dist = model.predict_distribution(P.select_columns(X, "knmi"), thresholds=(300, 500))
        pred = dist[["p_any", "expected_people", "q10", "q50", "q90", "p_gt_300", "p_gt_500"]]
        pred = pred.assign(rag=P.rag_class(pred["p_any"]), expected_boats=0.0)
        pred["calm_rule"] = F.calm_day(wtab).reindex(days).to_numpy() == 1
        yield pred


def _pit_coverage_80(draws: np.ndarray, actual: np.ndarray) -> float:
    """Expected share of the randomised PIT of ``actual`` inside [0.1, 0.9], for the
    distribution given by ``draws`` (n_draws, days): 0.80 for a calibrated forecast.

    The plain 80 % interval's coverage is not comparable with 80 % for counts with a point
    mass at zero (an interval that starts at 0 holds all of that mass, so a calibrated
    forecast covers more than 80 %); the randomised PIT spreads the zero mass uniformly
    (``metrics.pit_histogram``) and is uniform for a calibrated forecast.
    """
    lower = (draws < actual[None, :]).mean(axis=0)
    upper = (draws <= actual[None, :]).mean(axis=0)
    return float(M.pit_histogram(lower, upper)[1:-1].sum())


def test_mixture_coverage_at_day_5_is_closer_to_nominal_than_one_members(knmi):
    """REAL data: KNMI station weather with a simulated lead-5 ensemble (simulated forecast
    error), Home Office arrivals; June-September 2024, one model fitted before the season.

    Issue 11: the mixture's 80 % coverage at day 5 is closer to nominal than a single
    simulated member's. Coverage here is that of the randomised PIT (the share of days
    whose PIT falls in the central 80 %), the one that is 80 % for a calibrated count
    forecast. Measured (``pytest -s``): observed weather 0.813, one member 0.688 on average
    (its ranges ignore that the weather is uncertain), mixture 0.809. The plain interval
    coverage (printed too) overstates every one of them through the zero mass.
    """
    arrivals = load_arrivals()
    lead, n_members = 5, 12
    days = pd.date_range("2024-06-01", "2024-09-30", name="date")
    fit_origin = days[0] - pd.Timedelta(days=lead)
    wtab = F.weather_table("knmi", knmi)
    ts = P.tide_sky_table(P.TRAIN_START, fit_origin)
    model = P.fit_default_model("knmi", fit_origin, arrivals.loc[:fit_origin], wtab, ts)
    window = knmi.loc["2024-05-01":"2024-09-30"]
    members = fe.simulate_ensemble(window, lead, n_members, random_state=11, climate=knmi)
    observed = pd.concat([window], keys=[0], names=["member", "date"])
    actual = arrivals["people"].reindex(days).to_numpy(dtype=float)

    def alone(pred, seed: int) -> float:
        acc1 = en.MixtureAccumulator(1, (300, 500), n_draws=4000, random_state=seed)
        acc1.add(pred)
        return _pit_coverage_80(acc1.result()[1], actual)

    perfect = alone(next(_season_preds(knmi, arrivals, observed, days, lead, model)), 1)
    singles = []
    acc = en.MixtureAccumulator(n_members, (300, 500), n_draws=12000, random_state=3)
    for m, pred in enumerate(_season_preds(knmi, arrivals, members, days, lead, model)):
        singles.append(alone(pred, 100 + m))
        acc.add(pred)
    mix_pred, mix_draws = acc.result()
    mixture = _pit_coverage_80(mix_draws, actual)
    single = float(np.mean(singles))
    plain = float(np.mean((mix_pred["q10"] <= actual) & (actual <= mix_pred["q90"])))
    print(
        f"randomised-PIT 80 % coverage at day {lead}: observed weather {perfect:.3f}, "
        f"mixture {mixture:.3f}, one member {single:.3f} (each of {np.round(singles, 3)}); "
        f"plain q10-q90 coverage of the mixture {plain:.3f}"
    )
    assert abs(mixture - 0.80) < abs(single - 0.80)  # the issue's requirement
    assert abs(mixture - 0.80) < 0.05
    assert single < 0.75  # one member alone is over-confident at day 5
    assert max(singles) < mixture  # every member, not just on average
    assert abs(perfect - 0.80) < 0.05  # the model is calibrated when the weather is known


# ---------------------------------------------------------------------------
# skill by lead
# ---------------------------------------------------------------------------


def _write_results(root, block) -> None:
    path = root / sk.SKILL_BY_LEAD_FILE
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(block))


@pytest.mark.parametrize("per_source", [False, True])
def test_skill_by_lead_from_the_experiment_file(tmp_path, per_source):
    leads = {
        str(k): {"auc_any": 0.9 - 0.02 * k, "bss_any_vs_climatology_month": 0.5 - 0.05 * k}
        for k in range(1, 17)
    }
    _write_results(tmp_path, {"headline_by_lead": {"knmi": leads} if per_source else leads})
    table = sk.skill_by_lead("knmi", root=tmp_path)
    assert sorted(table) == list(range(1, 17))
    assert table[5]["auc_any"] == pytest.approx(0.8)
    assert table[5]["fallback"] is False
    assert "simulated forecast error" in table[5]["basis"]
    live = sk.skill_by_lead("openmeteo", root=tmp_path)
    assert live[5]["auc_any"] == pytest.approx(0.8)
    assert "not the Open-Meteo model used here" in live[5]["basis"]
    # each day of an outlook gets the skill at its own lead
    pred = member_pred(0.5, 100.0, 300.0, True, 8.0)
    o = ol.build_outlook(
        pred,
        first_day=DAYS[0],
        arrivals=make_arrivals(end="2025-06-30"),
        issued_utc=ISSUED,
        skill=table,
    )
    assert [d["skill"]["auc_any"] for d in o["days"]] == pytest.approx(
        [0.9 - 0.02 * k for k in range(1, 8)]
    )
    assert o["skill_by_lead"]["fallback"] is False
    assert "AUC 0.80, Brier skill +0.25" in ol.format_table(o)
    header = [line for line in ol.to_csv(o).splitlines() if line.startswith("date,")][0]
    assert "skill_auc_any" in header.split(",")
    outlook_schema.validate_outlook(json.loads(ol.to_json(o)))


def test_replay_on_observed_weather_quotes_the_perfect_prognosis_skill(tmp_path):
    noisy = {str(k): {"auc_any": 0.9 - 0.02 * k} for k in range(1, 17)}
    perfect = {str(k): {"auc_any": 0.92} for k in range(1, 17)}
    _write_results(tmp_path, {"headline_by_lead": noisy, "headline_by_lead_perfect": perfect})
    replay = sk.skill_by_lead("knmi", root=tmp_path, observed=True)
    assert replay[5]["auc_any"] == pytest.approx(0.92)
    assert "perfect prognosis" in replay[5]["basis"]
    # a live outlook, and a replay on a simulated ensemble, keep the forecast-error table
    assert sk.skill_by_lead("knmi", root=tmp_path)[5]["auc_any"] == pytest.approx(0.8)
    ens = sk.skill_by_lead("knmi", ensemble=True, root=tmp_path, observed=True)
    assert ens[5]["auc_any"] == pytest.approx(0.8)


def test_the_bundled_replay_quotes_its_own_skill():
    """The committed experiment file: a replay's day 5 quotes the perfect-prognosis run's
    AUC, a live single forecast the forecast-error run's (lower)."""
    replay = sk.skill_by_lead("knmi", observed=True)
    live = sk.skill_by_lead("knmi")
    assert "perfect prognosis" in replay[5]["basis"]
    assert replay[5]["auc_any"] > live[5]["auc_any"] + 0.03


def test_skill_by_lead_falls_back_to_the_headline_and_says_so(tmp_path):
    head = tmp_path / sk.HEADLINE_FILE
    head.parent.mkdir(parents=True)
    head.write_text(json.dumps({"headline": {"knmi": {"auc_any": 0.89, "horizon": 1}}}))
    table = sk.skill_by_lead("knmi", root=tmp_path)
    assert table[7]["auc_any"] == 0.89 and table[7]["fallback"] is True
    assert "005-forecast-error/results.json missing" in table[7]["basis"]
    assert "perfect" in table[7]["basis"]
    assert sk.skill_by_lead("knmi", root=tmp_path / "nothing") == {}


# ---------------------------------------------------------------------------
# members of a cached Open-Meteo ensemble (SYNTHETIC values)
# ---------------------------------------------------------------------------


def _ensemble_ds(n_members: int = 3) -> xr.Dataset:
    """A SYNTHETIC ensemble Dataset of the cache's layout: member m's wind is 5 + 2 m kn."""
    times = pd.date_range("2026-11-24", periods=48, freq="h")
    shape = (2, len(times), n_members)
    wind = np.broadcast_to(5.0 + 2.0 * np.arange(n_members), shape).copy()
    ds = xr.Dataset(
        {
            "wind_speed_10m": (("site", "time", "member"), wind, {"units": "kn"}),
            "precipitation": (("site", "time", "member"), np.zeros(shape), {"units": "mm"}),
        },
        coords={"site": ["a", "b"], "time": times, "member": np.arange(n_members)},
        attrs={"model": "ecmwf_ifs025_ensemble", "retrieved_utc": "2026-11-24T06:00:00Z"},
    )
    return ds


def test_openmeteo_members_take_waves_and_history_from_the_deterministic_forecast():
    ens = _ensemble_ds()
    times = pd.date_range("2026-11-20", periods=24 * 8, freq="h")
    det = xr.Dataset(
        {
            "wind_speed_10m": (("time", "site"), np.full((len(times), 2), 30.0)),
            "wave_height": (("time", "site"), np.full((len(times), 2), 0.4)),
        },
        coords={"time": times, "site": ["a", "b"], "site_lat": ("site", [51.0, 50.97])},
    )
    members = list(en.openmeteo_members(ens, det))
    assert len(members) == 3
    m2 = members[2]
    assert float(m2["wind_speed_10m"].sel(time="2026-11-24T05:00", site="a")) == 9.0
    assert float(m2["wind_speed_10m"].sel(time="2026-11-21T05:00", site="a")) == 30.0
    assert float(m2["wave_height"].sel(time="2026-11-24T05:00", site="b")) == 0.4
    assert m2.attrs["member"] == 2
    alone = next(en.openmeteo_members(ens))
    assert "wave_height" not in alone and alone["wind_speed_10m"].dims == ("time", "site")
    assert "no waves" in en.openmeteo_label(ens, with_waves=False)
    assert "(3 members)" in en.openmeteo_label(ens, with_waves=True)
    with pytest.raises(DataFormatError, match="needs a 'member' dimension"):
        next(en.openmeteo_members(det))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["outlook", "--ensemble", "simulated"], "--ensemble simulated needs --as-of DATE"),
        (
            ["outlook", "--as-of", "2024-09-01", "--ensemble", "cached"],
            "only the latest ensemble run is cached",
        ),
        (
            ["outlook", "--ensemble", "cached", "--now", "2026-11-25T06:00Z"],
            "run 'forecast weather update --kind ensemble' while online",
        ),
        (
            ["outlook", "--as-of", "2024-09-01", "--members", "5"],
            "--members 5 needs an ensemble",
        ),
        (
            ["outlook", "--ensemble", "cached", "--no-weather"],
            "--ensemble cached and --no-weather contradict each other",
        ),
    ],
)
def test_ensemble_options_are_checked(data_home, capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_members_out_of_range_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["outlook", "--members", "1"])
    assert exc.value.code == 2
    assert "argument --members: '1' is outside [2, 200]" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# end to end: an ensemble of the recorded shape served from 127.0.0.1
# ---------------------------------------------------------------------------

E2E_MEMBERS = 11  # control + 10 (the recorded ICON response kept control + 5)


def ensemble_location(lat: float, lon: float, site_index: int, n_members: int) -> dict:
    """One location of a SYNTHETIC ensemble body in the recorded shape (not weather).

    Keys as the real responses (``tests/fixtures/openmeteo/ensemble/``): control
    ``wind_speed_10m``, members ``wind_speed_10m_member01`` .. ; units as echoed for
    ``wind_speed_unit=kn``; iso8601 GMT times. Values: the synthetic deterministic
    forecast's (``tests/fixtures/openmeteo/synthetic.py``) plus a member offset, so the
    members range from calm to windy nights.
    """
    start, end = dt.date(2026, 11, 24), dt.date(2026, 12, 8)
    times = syn.hours(start, end)
    hourly: dict = {"time": [t.strftime("%Y-%m-%dT%H:%M") for t in times]}
    units: dict = {"time": "iso8601"}
    offsets = {"wind_speed_10m": 1.5, "wind_gusts_10m": 2.0, "wind_direction_10m": 9.0}
    for var in ("wind_speed_10m", "wind_gusts_10m", "wind_direction_10m", "precipitation"):
        for m in range(n_members):
            key = var if m == 0 else f"{var}_member{m:02d}"
            shift = offsets.get(var, 0.0) * (m - n_members // 2)
            values = [syn.synthetic_value(var, t, site_index, 0.0) + shift for t in times]
            if var == "wind_direction_10m":
                values = [round(v % 360.0, 1) for v in values]
            elif var != "precipitation":
                values = [round(max(v, 0.0), 2) for v in values]
            hourly[key] = values
            units[key] = syn.UNITS[var]
    return {
        "latitude": lat,
        "longitude": lon,
        "generationtime_ms": 3.2,
        "utc_offset_seconds": 0,
        "timezone": "GMT",
        "timezone_abbreviation": "GMT",
        "elevation": 0.0,
        "hourly_units": units,
        "hourly": hourly,
    }


def calmer_seas(server: LocalServer) -> None:
    """A new SYNTHETIC deterministic forecast run whose waves are 0.5 m lower (0.5-1.5 m
    averaged over the two sites, calm a third of the time), so calm nights depend on each
    member's wind."""
    start, end = dt.date(2026, 11, 18), dt.date(2026, 12, 10)
    points = [(s.lat, s.lon) for s in e2e.SITES]
    server.route(
        "/v1/forecast", Reply(200, syn.body(points, start, end, (*syn.ATMOS, "visibility")))
    )
    server.route(
        "/v1/marine-forecast", Reply(200, syn.body(points, start, end, syn.WAVES, offset=-0.5))
    )
    weather.update(
        "forecast",
        sites=e2e.SITES,
        url=server.url("/v1/forecast"),
        marine_url=server.url("/v1/marine-forecast"),
        policy=e2e.FAST,
        now=lambda: e2e.NOW_DT + dt.timedelta(minutes=5),
        progress=False,
        past_days=7,
        forecast_days=16,
        marine_forecast_days=16,
        with_history=False,
    )


@pytest.mark.slow
@pytest.mark.network
def test_outlook_alert_page_from_a_served_ensemble(data_home, capsys):
    server = LocalServer().start()
    try:
        e2e.serve_weather(server)  # SYNTHETIC archive (training) and deterministic forecast
        calmer_seas(server)
        body = [ensemble_location(s.lat, s.lon, i, E2E_MEMBERS) for i, s in enumerate(e2e.SITES)]
        server.route("/v1/ensemble", Reply(200, body))
        sites = ",".join(f"{s.id}:{s.lat}:{s.lon}" for s in e2e.SITES)
        argv = ["weather", "update", "--kind", "ensemble", "--sites", sites, "--format", "json"]
        code = main([*argv, "--base-url", server.url("/v1/ensemble")])
    finally:
        server.stop()
    cached = json.loads(capsys.readouterr().out)
    assert code == 0
    assert cached[0]["model"] == "ecmwf_ifs025_ensemble" and cached[0]["members"] == E2E_MEMBERS
    asked = [r for r in server.requests if r.path == "/v1/ensemble"]
    assert len(asked) == 1 and asked[0].query["models"] == ["ecmwf_ifs025_ensemble"]

    code = main(["outlook", "--now", e2e.NOW, "--no-scenarios", "--format", "json"])
    o = json.loads(capsys.readouterr().out)
    assert code == 0
    assert o["weather"]["source"] == "openmeteo"
    assert o["ensemble"]["kind"] == "cached" and o["ensemble"]["n_members"] == E2E_MEMBERS
    assert "waves from the deterministic marine forecast" in o["weather"]["label"]
    # the ensemble's nights: 25 November to 8 December (its last hour is 8 Dec 23:00 UTC)
    assert [d["date"] for d in o["days"]] == [
        str(d.date()) for d in pd.date_range("2026-11-25", "2026-12-08")
    ]
    assert all(d["members"] == E2E_MEMBERS for d in o["days"])
    calm = [d["calm_members"] for d in o["days"]]
    assert all(0 <= c <= E2E_MEMBERS for c in calm) and len(set(calm)) > 1
    assert all(f"of {E2E_MEMBERS} members" in d["drivers"] for d in o["days"])
    assert all(d["q10"] <= d["q50"] <= d["q90"] for d in o["days"])
    assert 0 <= o["week"]["p_busy_night"]["300"] <= 1
    # the arrivals end 2026-08-20: leads of 97+ days, beyond the skill table
    assert all(d["skill"] is None for d in o["days"])

    code = main(
        ["alert", "--now", e2e.NOW, "--threshold", "300", "--min-probability", "0",
         "--format", "json"]
    )  # fmt: skip
    alert = json.loads(capsys.readouterr().out)
    assert code == 1 and alert["ensemble"]["n_members"] == E2E_MEMBERS
    assert alert["nights_in_window"] == ["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28"]
    first = o["busy_joint"]["300"]
    assert alert["p_any_night"] == pytest.approx(first[3], abs=0.05)
    assert alert["p_any_night"] >= max(n["probability"] for n in alert["nights"]) - 0.02

    assert main(["report", "--latest"]) == 0
    page = (data_home / "out" / "outlook.html").read_text()
    assert "Weather ensemble: Open-Meteo ensemble ecmwf_ifs025_ensemble" in page
    assert "Members with a calm night" in page
    assert 'href="https://open-meteo.com/"' in page
