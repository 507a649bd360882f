"""Shared HTTP plumbing (forecast.sources.http) against the local 127.0.0.1 server."""

from __future__ import annotations

import datetime as dt
import io
import socket

import pytest
import requests
import urllib3

from forecast import config
from forecast.errors import ConfigError, SourceError
from forecast.sources import http
from tests.httpserver import Reply

NOW = dt.datetime(2026, 8, 22, 9, 0, 0, tzinfo=dt.UTC)


def _fault(retry_after_s=None) -> http.TransientError:
    return http.TransientError("x", fault="HTTP 503: busy", status=503, retry_after_s=retry_after_s)


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Sat, 22 Aug 2026 09:00:30 GMT", 30.0),
        ("Sat, 22 Aug 2026 08:00:00 GMT", 0.0),  # a date in the past: no wait
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_forms(value, expected):
    assert http.retry_after_s(value, NOW) == expected


@pytest.mark.parametrize(
    ("retry_after", "failures", "expected"),
    [
        (None, 1, 2.0),
        (None, 2, 4.0),
        (None, 3, 8.0),
        (None, 9, 30.0),
        (7.0, 3, 7.0),
        (99.0, 1, 30.0),
    ],
)
def test_backoff(retry_after, failures, expected):
    assert http.backoff(_fault(retry_after), failures, 2.0, 30.0) == expected


def test_retrying_waits_as_told_then_returns():
    outcomes = [_fault(), _fault(5.0), "done"]
    waits: list[float] = []
    asked: list[int] = []

    def call():
        out = outcomes.pop(0)
        if isinstance(out, Exception):
            raise out
        return out

    def wait(error, failures):
        asked.append(failures)
        return http.backoff(error, failures, 1.0, 60.0)

    assert http.retrying(call, wait=wait, sleep=waits.append) == "done"
    assert (asked, waits) == ([1, 2], [1.0, 5.0])


def test_retrying_gives_up_with_the_last_error():
    errors = [_fault(), http.TransientError("last one", fault="time-out")]
    waits: list[float] = []

    def call():
        raise errors.pop(0)

    with pytest.raises(http.TransientError, match="^last one$"):
        http.retrying(call, wait=lambda e, n: None if n > 1 else 0.5, sleep=waits.append)
    assert waits == [0.5]


def test_retrying_lets_other_errors_through_at_once():
    calls = []

    def call():
        calls.append(1)
        raise SourceError("HTTP 404")

    with pytest.raises(SourceError, match="HTTP 404"):
        http.retrying(call, wait=lambda e, n: 0.0, sleep=lambda s: None)
    assert calls == [1]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "21_August_2026_Small_boats_-_time_series.ods",
            "21_August_2026_Small_boats_-_time_series.ods",
        ),
        ("../../etc/passwd", "etc_passwd"),
        ("..%2F..%2Fevil.ods", "2F._2Fevil.ods"),
        ("<script>alert(1)</script>.ods", "script_alert_1_script_.ods"),
        ("a/b\\c d.ods", "a_b_c_d.ods"),
        ("..", "time_series.ods"),
        ("", "time_series.ods"),
        (".hidden", "hidden"),
        ("-rf", "rf"),
        ("caf\u00e9.ods", "caf_.ods"),
    ],
)
def test_safe_filename(name, expected):
    assert http.safe_filename(name, "time_series.ods") == expected


def test_safe_filename_cuts_long_names_keeping_the_extension():
    out = http.safe_filename("x" * 500 + ".ods", "d.ods", max_chars=40)
    assert out == "x" * 36 + ".ods"
    assert http.safe_filename("/", "../..") == "download"


def test_retrying_stops_before_a_wait_past_the_overall_deadline():
    calls = []

    def call():
        calls.append(1)
        raise _fault()

    waits: list[float] = []
    with pytest.raises(
        http.TransientError,
        match=r"^x \(gave up: the overall deadline of 10 s for this download has passed or "
        r"would pass during the next wait\)$",
    ) as info:
        http.retrying(
            call, wait=lambda e, n: 30.0, sleep=waits.append, deadline=http.Deadline(10.0)
        )
    assert (calls, waits) == ([1], [])
    assert info.value.fault.startswith("HTTP 503: busy (gave up: the overall deadline")
    assert info.value.timed_out and info.value.status == 503


def test_deadline_must_be_positive():
    with pytest.raises(ConfigError, match=r"a deadline must be > 0 s \(got 0\)"):
        http.Deadline(0)


# --------------------------------------------------------------------------- get


@pytest.mark.network
def test_get_returns_body_and_sends_user_agent_and_params(local_server):
    local_server.route("/ok", Reply(200, b"hello"))
    resp = http.get(local_server.url("/ok"), timeout=5, params={"a": "1,2"})
    assert (resp.status_code, resp.content) == (200, b"hello")
    (req,) = local_server.requests
    assert req.query == {"a": ["1,2"]}
    assert req.headers["User-Agent"] == config.USER_AGENT


@pytest.mark.network
def test_get_returns_4xx_for_the_caller(local_server):
    local_server.route("/gone", Reply(404, "<html><body><h1>Page not found</h1></body></html>"))
    resp = http.get(local_server.url("/gone"), timeout=5)
    assert resp.status_code == 404
    assert http.server_message(resp) == "Page not found"


@pytest.mark.network
@pytest.mark.parametrize(
    ("reply", "status", "server_text", "retry_after"),
    [
        (Reply(503, "Service Unavailable"), 503, "Service Unavailable", None),
        (
            Reply(
                429,
                {"error": True, "reason": "Minutely API request limit exceeded"},
                headers={"Retry-After": "7"},
            ),
            429,
            "Minutely API request limit exceeded",
            7.0,
        ),
        (Reply(500, ""), 500, "Internal Server Error", None),
    ],
)
def test_get_429_and_5xx_are_transient(local_server, reply, status, server_text, retry_after):
    local_server.route("/busy", reply)
    url = local_server.url("/busy")
    with pytest.raises(http.TransientError) as info:
        http.get(url, timeout=5, params={"q": "1"})
    err = info.value
    assert (err.status, err.server_text, err.retry_after_s) == (status, server_text, retry_after)
    assert err.fault == f"HTTP {status}: {server_text}"
    assert str(err) == f"GET {url}?q=1 failed: HTTP {status}: {server_text}"


@pytest.mark.network
def test_get_timeout(local_server):
    local_server.route("/slow", Reply(200, b"late", delay_s=0.5))
    with pytest.raises(
        http.TransientError, match=r"/slow failed: no answer within 0\.1 s \(time-out\)$"
    ):
        http.get(local_server.url("/slow"), timeout=0.1)


@pytest.mark.network
def test_get_truncated_body(local_server):
    local_server.route("/cut", Reply(200, b"x" * 1000, truncate_to=100))
    with pytest.raises(http.TransientError, match=r"/cut failed: the body was cut off") as info:
        http.get(local_server.url("/cut"), timeout=5)
    assert info.value.status is None  # no complete response arrived


def test_get_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(
        http.TransientError,
        match=rf"GET http://127\.0\.0\.1:{port}/x failed: could not connect \(offline",
    ):
        http.get(f"http://127.0.0.1:{port}/x", timeout=2)


def test_get_short_body_against_content_length():
    """Older urllib3 (1.x) hands back a short body silently: the byte count catches it."""

    class Session:
        def request(self, method, url, **kwargs):
            short = requests.Response()
            short.status_code, short.url = 200, url
            short.headers["Content-Length"] = "10"
            short.raw = urllib3.HTTPResponse(
                body=io.BytesIO(b"abc"),
                headers={"Content-Length": "10"},
                preload_content=False,
                enforce_content_length=False,
            )
            return short

    with pytest.raises(
        http.TransientError,
        match=r"^GET http://x/y failed: the body was cut off \(3 of 10 bytes\)$",
    ):
        http.get("http://x/y", timeout=1, session=Session())


def test_get_limits_must_be_positive():
    with pytest.raises(ConfigError, match=r"HTTP max_bytes=0 must be > 0"):
        http.get("http://127.0.0.1/x", timeout=1, max_bytes=0)


@pytest.mark.network
def test_post_sends_the_form(local_server):
    local_server.route("/form", Reply(200, b"ok"))
    resp = http.post(local_server.url("/form"), data={"a": "1", "b": "x y"}, timeout=5)
    assert resp.content == b"ok"
    (req,) = local_server.requests
    assert (req.method, req.body) == ("POST", b"a=1&b=x+y")


def test_get_invalid_url_is_a_config_error():
    with pytest.raises(
        ConfigError, match=r"URL 'http://' is not valid .*No host supplied.*--base-url"
    ):
        http.get("http://", timeout=1)
