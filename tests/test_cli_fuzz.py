"""Fuzz the command line with bad argument sets: never a traceback.

A seeded generator builds a few hundred argument lists, each with one to three options
of a command set to a bad value (extreme dates, huge, negative, NaN or infinite numbers,
garbage text), and runs them in-process with :func:`forecast.cli.main`. Every case must
end either normally or with exit status 2 and one ``error:`` message on standard error
that names an option (or the file/variable at fault) -- never an uncaught exception.

The data folders point at a temporary folder (``data_home``); the pipeline is replaced
by the fast stand-in of ``tests/test_outlook_cli.py`` and the network by a closed port on
127.0.0.1, so a case that passes the checks ends quickly.
"""

from __future__ import annotations

import functools
import random

import numpy as np
import pytest

from forecast.cli import main
from forecast.products import predictor as pr
from forecast.sources import openmeteo as om
from tests.test_outlook_cli import fake_predict

#: Nothing listens here: a case that reaches the network fails at once (no internet).
CLOSED = "http://127.0.0.1:9"

BAD_DATES = [
    "0001-01-01",
    "9999-12-31",
    "1677-09-21",
    "2262-04-12",
    "1900-01-01",
    "2101-01-01",
    "2024-02-30",
    "2024-13-01",
    "2024-1-1",
    "yesterday",
    "",
    "-1",
    "2024-01-01T25:00",
    "1e9",
    "nan",
]
BAD_TIMES = [*BAD_DATES, "2026-11-25T06:00+99:00", "0001-01-01T00:00Z", "9999-12-31T23:59Z"]
BAD_NUMBERS = [
    "-1",
    "0",
    "-0",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "1e309",
    "-1e308",
    "99999999999999999999999",
    "4294967297",
    "1.5",
    "abc",
    "",
    "0x10",
    "1_000",
]
BAD_LISTS = [
    "300,-5",
    "nan",
    "1e309",
    "99999999999999999999",
    "0-99",
    "5-1",
    "1-99999999999",
    "-3",
    "1,,2",
    "a/b",
    "1/",
    "/",
    "0",
    "99",
    "17",
    "300,inf",
]
BAD_TEXT = ["", ":", "2024:", ":2023", "0001:9999", "9999:0001", "2024:2023:1", "x" * 300, "é"]

#: command words -> (fixed options that keep a case fast/offline, {option: bad values})
SPECS: dict[tuple[str, ...], tuple[list[str], dict[str, list[str]]]] = {
    ("outlook",): (
        ["--no-scenarios", "--no-save", "--no-weather"],
        {
            "--as-of": BAD_DATES,
            "--now": BAD_TIMES,
            "--thresholds": BAD_LISTS + BAD_NUMBERS,
            "--scenario": BAD_TEXT + ["2024:1900", "1900:2024", "99999:2023"],
        },
    ),
    ("alert",): (
        ["--no-weather", "--format", "json"],
        {
            "--threshold": BAD_NUMBERS,
            "--hours": BAD_NUMBERS + ["385", "100000"],
            "--min-probability": BAD_NUMBERS + ["1", "1.0001", "-0.1"],
            "--now": BAD_TIMES,
            "--max-data-age": BAD_NUMBERS + ["100001"],
        },
    ),
    ("backtest",): (
        ["--weather-source", "none", "--no-baselines", "--format", "json"],
        {
            "--start": BAD_DATES,
            "--end": BAD_DATES,
            "--train-end": BAD_DATES,
            "--horizon": BAD_LISTS + BAD_NUMBERS,
            "--lead-bands": BAD_LISTS,
            "--refit-every": BAD_NUMBERS,
            "--window-days": BAD_NUMBERS,
            "--thresholds": BAD_LISTS + BAD_NUMBERS,
            "--recalibrate-every": BAD_NUMBERS,
            "--jobs": BAD_NUMBERS + ["1000"],
        },
    ),
    ("model", "fit"): (
        ["--weather-source", "none", "--format", "json"],
        {"--origin": BAD_DATES + ["garbage", "2016-01-01", "2099-01-01", "1e9"]},
    ),
    ("tides",): (
        ["--format", "json"],
        {"--start": BAD_DATES, "--end": BAD_DATES, "--station": BAD_TEXT},
    ),
    ("sky",): (
        ["--format", "json"],
        {
            "--start": BAD_DATES,
            "--end": BAD_DATES,
            "--lat": BAD_NUMBERS + ["91", "-90.5", "1e308"],
            "--lon": BAD_NUMBERS + ["181", "-1e308"],
        },
    ),
    ("arrivals", "show"): (["--format", "json"], {"--last": BAD_NUMBERS}),
    ("arrivals", "update"): (
        ["--base-url", CLOSED, "--no-daily", "--retries=0"],
        {"--timeout": BAD_NUMBERS + ["1e9"], "--retries": BAD_NUMBERS + ["1000000"]},
    ),
    ("weather", "update"): (
        ["--base-url", CLOSED, "--marine-url", CLOSED],
        {
            "--start": BAD_DATES,
            "--end": BAD_DATES,
            "--past-days": BAD_NUMBERS + ["93", "100000"],
            "--forecast-days": BAD_NUMBERS + ["17"],
            "--marine-forecast-days": BAD_NUMBERS + ["17"],
            "--timeout": BAD_NUMBERS,
        },
    ),
}

N_CASES = 360
SEED = 20261125


def bad_cases(n: int = N_CASES, seed: int = SEED) -> list[list[str]]:
    """``n`` argument lists, each a command with 1-3 of its options set to a bad value.

    Every command gets its share; the options of a case are distinct. Deterministic
    for a given ``seed``.
    """
    rng = random.Random(seed)
    keys = list(SPECS)
    cases = []
    for i in range(n):
        words = keys[i % len(keys)]
        fixed, options = SPECS[words]
        chosen = rng.sample(sorted(options), k=min(len(options), rng.randint(1, 3)))
        argv = [*words, *fixed]
        for opt in chosen:
            argv += [f"{opt}={rng.choice(options[opt])}"]
        cases.append(argv)
    return cases


def quiet_fake_predict(*args, **kwargs):
    """The stand-in pipeline; its made-up ranges divide by a threshold of 0 people."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return fake_predict(*args, **kwargs)


@pytest.fixture
def fast(monkeypatch, data_home):
    monkeypatch.setattr(pr, "default_predictor", lambda knmi=None: quiet_fake_predict)
    monkeypatch.setenv("FORECAST_ARRIVALS_BASE_URL", CLOSED)
    # a case that reaches the (closed) network gives up at once instead of backing off
    policy = functools.partial(om.RetryPolicy, max_transient_retries=0, max_rate_retries=0)
    monkeypatch.setattr(om, "RetryPolicy", policy)
    return data_home


def run_case(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refusing a value exits 2
        code = exc.code if isinstance(exc.code, int) else 2
    return code, capsys.readouterr().err


def check(argv: list[str], code: int, err: str) -> str | None:
    """Why this outcome is wrong (None: fine)."""
    if "Traceback" in err:
        return "traceback on stderr"
    if code in (0, 1):
        return None
    if code != 2:
        return f"exit status {code}"
    errors = [line for line in err.splitlines() if "error:" in line]
    if len(errors) != 1:
        return f"{len(errors)} error lines: {err!r}"
    if not any(o.split("=")[0] in err for o in argv if o.startswith("--")) and not any(
        w in err for w in ("FORECAST_", "file", "store", "cache", "snapshot", CLOSED)
    ):
        return f"the message names no option: {err!r}"
    return None


def test_generator_is_seeded_and_covers_every_command():
    cases = bad_cases()
    assert cases == bad_cases() and len(cases) == N_CASES
    assert {tuple(c[: len(w)]) for c in cases for w in SPECS if tuple(c[: len(w)]) == w} == set(
        SPECS
    )
    assert bad_cases(seed=1) != cases


@pytest.mark.timeout(120)
def test_bad_arguments_never_give_a_traceback(fast, capsys):
    problems = []
    for argv in bad_cases():
        try:
            code, err = run_case(argv, capsys)
        except Exception as exc:  # the bug this test is for
            problems.append(f"{' '.join(argv)}: {type(exc).__name__}: {exc}"[:300])
            continue
        why = check(argv, code, err)
        if why:
            problems.append(f"{' '.join(argv)}: {why}"[:300])
    assert problems == [], f"{len(problems)} of {N_CASES} cases:\n" + "\n".join(problems)
