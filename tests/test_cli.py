import json
import re

import pytest

from forecast import config
from forecast.cli import build_parser, main
from forecast.errors import ConfigError


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "usage: forecast" in out


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "COMMAND" in capsys.readouterr().out


def test_every_registered_command_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.format_help().startswith(f"usage: forecast {name}"), name


# --- environment variables naming a file ------------------------------------------------


@pytest.mark.parametrize("variable", ["FORECAST_DATA_DIR", "FORECAST_OUT_DIR"])
def test_env_folder_that_is_a_file_is_refused(variable, tmp_path, monkeypatch, capsys):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    monkeypatch.setenv(variable, str(afile))
    with pytest.raises(ConfigError, match=rf"{variable}='.*afile' is a file, not a folder; point"):
        (config.data_dir if variable == "FORECAST_DATA_DIR" else config.out_dir)()
    monkeypatch.setenv(variable, str(afile / "below"))
    with pytest.raises(ConfigError, match=rf"{variable}=.* lies under .*afile, which is a file"):
        (config.data_dir if variable == "FORECAST_DATA_DIR" else config.out_dir)()
    argv = ["arrivals", "show"] if variable == "FORECAST_DATA_DIR" else ["report"]
    if variable == "FORECAST_DATA_DIR":
        monkeypatch.setenv("FORECAST_OUT_DIR", str(tmp_path / "out"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"error: {variable}=" in err and "Traceback" not in err


def test_env_folder_missing_or_empty_is_fine(tmp_path, monkeypatch):
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "new" / "data"))
    assert config.data_dir() == tmp_path / "new" / "data"
    monkeypatch.setenv("FORECAST_OUT_DIR", "")
    assert config.out_dir() == config.REPO_ROOT / "out"


# --- backtest: spans and lead times it cannot score are refused -------------------------

BT = ["backtest", "--no-baselines", "--format", "json", "--horizon", "1"]


def test_backtest_end_beyond_the_weather_is_refused(data_home, capsys):
    code = main([*BT, "--weather-source", "knmi", "--start", "2025-06-01", "--end", "2025-07-31"])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        "--end 2025-07-31 is after the last day with data, 2025-06-30 (limited by the KNMI "
        "weather (to 2025-06-30)); give --end 2025-06-30 or earlier" in err
    )
    code = main([*BT, "--weather-source", "none", "--start", "2026-08-01", "--end", "2026-09-01"])
    assert code == 2 and "limited by the arrivals (to 2026-08-20)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--horizon", "99", r"argument --horizon: '99': horizons must be >= 1 and <= 16"),
        ("--horizon", "1-17", r"'1-17': horizons must be >= 1 and <= 16"),
        ("--lead-bands", "1/2-30", r"--lead-bands '1/2-30': give bands .* in 1\.\.16"),
        ("--start", "0001-01-01", r"argument --start: '0001-01-01' is outside 2018-01-01"),
        ("--end", "9999-12-31", r"argument --end: '9999-12-31' is outside 2018-01-01"),
        ("--refit-every", "0", r"argument --refit-every: '0' is outside \[1, 3650\] \[days\]"),
        ("--thresholds", "300,inf", r"argument --thresholds: 'inf' is not a whole number"),
        ("--jobs", "1e9", r"argument --jobs: '1e9' is not a whole number in \[1, 64\]"),
    ],
)
def test_backtest_bounds_at_the_parser(option, value, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*BT, f"{option}={value}"])
    assert exc.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_backtest_states_the_span_it_scored(data_home, capsys):
    argv = ["backtest", "--weather-source", "none", "--no-baselines", "--train-end", "2024-04-30"]
    argv += ["--start", "2024-05-01", "--end", "2024-05-10", "--horizon", "1,16"]
    assert main([*argv, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # D+16 of 1..10 May has its origin before --train-end: nothing is scored, and it says so
    assert doc["scored"] == {
        "D+1": {"first": "2024-05-01", "last": "2024-05-10", "days": 10},
        "D+16": {"first": None, "last": None, "days": 0},
    }
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "  scored at D+1: 2024-05-01..2024-05-10, 10 days" in out
    assert "  scored at D+16: nothing (no origin in the span after the training days)" in out


# --- model fit --origin ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("2018-06-01", r"--origin 2018-06-01 is outside the data: .* between 2019-03-01 and"),
        ("2026-01-01", r"--origin 2026-01-01 is outside the data: .* and 2025-06-30"),
    ],
)
def test_model_fit_origin_outside_the_data(origin, message, data_home, capsys):
    assert main(["model", "fit", "--origin", origin]) == 2
    assert re.search(message, capsys.readouterr().err)


@pytest.mark.parametrize("origin", ["garbage", "0001-01-01", "9999-12-31", "2024-13-01", "nan"])
def test_model_fit_origin_garbage_refused_by_the_parser(origin, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["model", "fit", "--origin", origin])
    assert exc.value.code == 2
    assert f"argument --origin: '{origin}'" in capsys.readouterr().err
