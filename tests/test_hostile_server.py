"""A hostile server on 127.0.0.1: slow drips, huge bodies, gzip bombs, redirects away,
server-chosen file names, hosts that do not resolve.

Every test here passes small caps and deadlines as parameters (or lowers the module
defaults) so that each one finishes in a few seconds; each asserts the elapsed time
too, so a regression that waits out a server fails instead of hanging.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
import zlib
from pathlib import Path

import pytest

from forecast import config
from forecast.errors import SourceError
from forecast.sources import http, knmi
from forecast.sources import openmeteo as om
from forecast.sources.arrivals import PUBLICATION_PATH, get_bytes
from forecast.stores.arrivals import ArrivalsStore, update_arrivals
from tests.httpserver import Reply

pytestmark = pytest.mark.network

ARRIVALS = Path(__file__).parent / "fixtures" / "arrivals"
ODS_BYTES = (ARRIVALS / "21_August_2026_Small_boats_-_time_series.ods").read_bytes()
PUB = (ARRIVALS / "publication_page" / "constructed_publication_page.html").read_text(
    encoding="utf-8"
)
ODS_PATH = "/media/66c5f0a1b2c3d4e5f6a7b8c9/21_August_2026_Small_boats_-_time_series.ods"
MIB = 2**20


class Sleeps(list):
    """Records the waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.s = time.monotonic() - self.start


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# --------------------------------------------------------------------------- time


def test_body_dripped_a_byte_at_a_time_stops_at_the_request_deadline(local_server):
    local_server.route("/drip", Reply(200, b"x" * 5000, drip_s=0.01))
    url = local_server.url("/drip")
    with (
        Timer() as t,
        pytest.raises(
            http.TransientError,
            match=rf"^GET {url} failed: no complete answer within 0\.5 s, the deadline of this "
            r"request \(the server is too slow or sends its answer a little at a time\)$",
        ) as info,
    ):
        http.get(url, timeout=2.0, deadline_s=0.5)
    assert info.value.timed_out
    assert 0.4 < t.s < 1.5  # each byte arrives well within the 2 s time-out


def test_headers_dripped_a_byte_at_a_time_stop_at_the_request_deadline(local_server):
    local_server.route("/slowhead", Reply(200, b"ok", drip_headers_s=0.03))
    with Timer() as t, pytest.raises(http.TransientError, match=r"within 0\.4 s, the deadline"):
        http.get(local_server.url("/slowhead"), timeout=2.0, deadline_s=0.4)
    assert t.s < 1.2


def test_overall_deadline_bounds_all_retries(local_server):
    """Retries of a dripping server stop at the overall deadline, not after N full tries."""
    local_server.route("/drip", Reply(200, b"x" * 5000, drip_s=0.01))
    url = local_server.url("/drip")
    sleeps = Sleeps()
    calls = []

    def attempt() -> bytes:
        calls.append(1)
        return http.get(url, timeout=2.0, deadline_s=0.4).content

    with (
        Timer() as t,
        pytest.raises(
            http.TransientError, match=r"gave up: the overall deadline of 1 s for this download"
        ),
    ):
        http.retrying(attempt, wait=lambda e, n: 0.0, sleep=sleeps, deadline=http.Deadline(1.0))
    assert t.s < 2.0
    assert 2 <= len(calls) <= 4  # 0.4 + 0.4 + what is left of the second


def test_arrivals_update_is_bounded_by_the_default_deadlines(local_server, data_home, monkeypatch):
    """`forecast arrivals update` against a dripping server: the defaults bound it."""
    monkeypatch.setattr(http, "DEFAULT_REQUEST_DEADLINE_S", 0.4)
    monkeypatch.setattr(http, "DEFAULT_TOTAL_DEADLINE_S", 1.0)
    local_server.route(PUBLICATION_PATH, Reply(200, PUB.encode() * 50, drip_s=0.005))
    with Timer() as t, pytest.raises(SourceError, match=r"overall deadline of 1 s"):
        update_arrivals(base=local_server.base_url, sleep=Sleeps(), timeout=5, retries=50)
    assert t.s < 2.5
    assert not ArrivalsStore().exists()


def test_openmeteo_fetch_is_bounded_by_its_policy_deadlines(local_server):
    local_server.route("/v1/archive", Reply(200, b'{"latitude": 51.0' + b" " * 5000, drip_s=0.01))
    policy = om.RetryPolicy(
        timeout_s=2.0,
        request_deadline_s=0.3,
        deadline_s=0.8,
        transient_wait_s=0.0,
        max_transient_retries=20,
    )
    with Timer() as t, pytest.raises(om.TransientError, match=r"overall deadline of 0\.8 s"):
        om.fetch_json(local_server.url("/v1/archive"), {}, policy=policy, sleep=Sleeps())
    assert t.s < 2.0
    assert policy.budget.failed_requests == policy.budget.requests >= 2


def test_knmi_request_deadline(local_server):
    local_server.route("/knmi", Reply(200, b"# STN,YYYYMMDD\n" * 200, drip_s=0.01))
    with Timer() as t, pytest.raises(SourceError, match=r"KNMI did not answer .*deadline"):
        knmi.get_knmi("2025-07-01", "2025-07-02", url=local_server.url("/knmi"), deadline_s=0.4)
    assert t.s < 1.5


# --------------------------------------------------------------------------- size


def test_body_over_the_announced_cap_is_refused_before_reading(local_server):
    local_server.route("/big", Reply(200, b"x" * MIB, repeat=2048))  # announces 2 GiB
    url = local_server.url("/big")
    with (
        Timer() as t,
        pytest.raises(
            http.BodyTooLargeError,
            match=rf"^GET {url}: the body announced \(2147483648 bytes, Content-Length\) is "
            r"larger than the cap of 1 MiB for this source; download stopped",
        ),
    ):
        http.get(url, timeout=2.0, max_bytes=MIB)
    assert t.s < 1.5


def test_body_without_length_stops_at_the_cap(local_server):
    local_server.route("/big", Reply(200, b"x" * MIB, repeat=2048, content_length=False))
    with (
        Timer() as t,
        pytest.raises(
            http.BodyTooLargeError, match=r"the body as sent is larger than the cap of 2 MiB"
        ),
    ):
        http.get(local_server.url("/big"), timeout=2.0, max_bytes=2 * MIB)
    assert t.s < 1.5


def test_body_longer_than_announced_is_read_only_to_its_length(local_server):
    local_server.route("/lie", Reply(200, b"x" * MIB, repeat=64, content_length=1000))
    with Timer() as t:
        got = http.get(local_server.url("/lie"), timeout=2.0, max_bytes=4096)
    assert got.content == b"x" * 1000
    assert t.s < 1.0


def test_gzip_bomb_stops_at_the_decompressed_cap(local_server):
    bomb = gzip.compress(b"\0" * (64 * MIB), compresslevel=9)  # ~64 KiB on the wire
    assert len(bomb) < 100_000
    local_server.route("/bomb", Reply(200, bomb, headers={"Content-Encoding": "gzip"}))
    url = local_server.url("/bomb")
    with (
        Timer() as t,
        pytest.raises(
            http.BodyTooLargeError,
            match=rf"^GET {url}: the body once decompressed is larger than the cap of 1 MiB",
        ),
    ):
        http.get(url, timeout=2.0, max_decoded_bytes=MIB)
    assert t.s < 1.5


def test_gzip_and_deflate_bodies_are_decoded_within_the_caps(local_server):
    payload = json.dumps({"hourly": list(range(20000))}).encode()
    local_server.route(
        "/gz",
        Reply(200, gzip.compress(payload), headers={"Content-Encoding": "gzip"}),
    )
    resp = http.get(local_server.url("/gz"), timeout=2.0, max_decoded_bytes=len(payload))
    assert resp.content == payload
    assert local_server.requests[-1].headers["Accept-Encoding"] == "gzip, deflate"
    local_server.route(
        "/df", Reply(200, zlib.compress(payload), headers={"Content-Encoding": "deflate"})
    )
    assert http.get(local_server.url("/df"), timeout=2.0).content == payload
    # Open-Meteo's JSON through the same path
    local_server.route(
        "/om", Reply(200, gzip.compress(payload), headers={"Content-Encoding": "gzip"})
    )
    assert om.get_json(local_server.url("/om"), {}, timeout=2.0) == json.loads(payload)


def test_gzip_cut_short_is_transient_and_unknown_encoding_refused(local_server):
    data = gzip.compress(b"y" * 100_000)
    local_server.route(
        "/cut",
        Reply(
            200, data[: len(data) // 2], headers={"Content-Encoding": "gzip"}, content_length=False
        ),
    )
    with pytest.raises(http.TransientError, match=r"the gzip stream is unfinished"):
        http.get(local_server.url("/cut"), timeout=2.0)
    local_server.route(
        "/br", Reply(200, b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"})
    )
    with pytest.raises(SourceError, match=r"Content-Encoding 'br', which was not asked for"):
        http.get(local_server.url("/br"), timeout=2.0)


def test_arrivals_update_refuses_a_huge_ods(local_server, data_home, monkeypatch):
    monkeypatch.setattr(http, "DEFAULT_MAX_BYTES", 4 * MIB)
    local_server.route(
        PUBLICATION_PATH,
        Reply(200, PUB.replace("https://assets.publishing.service.gov.uk", local_server.base_url)),
    )
    local_server.route(ODS_PATH, Reply(200, b"PK" + b"\0" * (MIB - 2), repeat=2048))
    with (
        Timer() as t,
        pytest.raises(
            http.BodyTooLargeError, match=r"time_series\.ods: the body announced .* cap of 4 MiB"
        ),
    ):
        update_arrivals(base=local_server.base_url, sleep=Sleeps(), timeout=5, retries=3)
    assert t.s < 2.0
    assert not ArrivalsStore().exists()
    assert not (config.raw_dir() / "arrivals").exists() or not any(
        (config.raw_dir() / "arrivals").iterdir()
    )


# --------------------------------------------------------------------------- place


def test_redirect_to_another_host_is_refused(local_server):
    port = local_server.base_url.rsplit(":", 1)[1]
    elsewhere = f"http://localhost:{port}/ok"
    local_server.route("/ok", Reply(200, b"fine"))
    local_server.route("/moved", Reply(302, b"", headers={"Location": elsewhere}))
    url = local_server.url("/moved")
    with pytest.raises(
        http.RedirectError,
        match=rf"^GET {url} was redirected \(HTTP 302\) to {elsewhere}, refused: host "
        r"'localhost' is not one this source uses \(allowed: 127\.0\.0\.1\)",
    ):
        http.get(url, timeout=2.0)
    assert [r.path for r in local_server.requests] == ["/moved"]  # never followed


def test_redirects_within_the_allowed_hosts_are_followed(local_server):
    port = local_server.base_url.rsplit(":", 1)[1]
    local_server.route("/ok", Reply(200, b"fine"))
    local_server.route("/same", Reply(301, b"", headers={"Location": "/ok"}))
    assert http.get(local_server.url("/same"), timeout=2.0).content == b"fine"
    local_server.route(
        "/alias", Reply(307, b"", headers={"Location": f"http://localhost:{port}/ok"})
    )
    got = http.get(local_server.url("/alias"), timeout=2.0, allowed_hosts=["LOCALHOST"])
    assert got.content == b"fine"


def test_redirect_loop_and_other_schemes_are_refused(local_server):
    local_server.route("/loop", Reply(302, b"", headers={"Location": "/loop"}))
    with pytest.raises(http.RedirectError, match=r"redirected more than 5 times"):
        http.get(local_server.url("/loop"), timeout=2.0)
    assert len(local_server.requests) == 6
    local_server.route("/ftp", Reply(302, b"", headers={"Location": "ftp://127.0.0.1/x"}))
    with pytest.raises(http.RedirectError, match=r"its scheme 'ftp' is not http or https"):
        http.get(local_server.url("/ftp"), timeout=2.0)


def test_arrivals_ods_redirected_elsewhere_is_refused(local_server, data_home):
    port = local_server.base_url.rsplit(":", 1)[1]
    local_server.route(
        PUBLICATION_PATH,
        Reply(200, PUB.replace("https://assets.publishing.service.gov.uk", local_server.base_url)),
    )
    local_server.route(
        ODS_PATH, Reply(302, b"", headers={"Location": f"http://localhost:{port}/evil.ods"})
    )
    with pytest.raises(http.RedirectError, match=r"refused: host 'localhost' is not one"):
        update_arrivals(base=local_server.base_url, sleep=Sleeps(), timeout=5)
    assert not ArrivalsStore().exists()


@pytest.mark.parametrize(
    ("href_name", "expected"),
    [
        (
            "..%2F..%2F..%2F21_August_2026_Small_boats_-_time_series.ods",
            "21_August_2026_Small_boats_-_time_series.ods",
        ),
        (
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E21_August_2026_Small_boats_-_time_series.ods",
            "script_alert_1_script_21_August_2026_Small_boats_-_time_series.ods",
        ),
    ],
)
def test_server_chosen_file_names_stay_in_the_raw_folder(
    local_server, data_home, href_name, expected
):
    path = f"/media/abc/{href_name}"
    page = PUB.replace(
        "https://assets.publishing.service.gov.uk" + ODS_PATH, local_server.base_url + path
    )
    assert path in page
    local_server.route(PUBLICATION_PATH, Reply(200, page))
    local_server.route(path, Reply(200, ODS_BYTES))
    update_arrivals(base=local_server.base_url, daily=False, sleep=Sleeps(), timeout=5)
    assert any(r.path == path for r in local_server.requests)
    raw = config.raw_dir() / "arrivals"
    assert sorted(p.name for p in raw.iterdir()) == [expected]
    outside = {p for p in data_home.rglob("*") if p.is_file() and raw not in p.parents}
    assert all(p.suffix != ".ods" for p in outside)  # nothing written beside or above


# --------------------------------------------------------------------------- DNS


@pytest.fixture
def no_dns(monkeypatch):
    """Name resolution fails for every host but loopback (as when offline)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host in ("127.0.0.1", "localhost"):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_host_that_does_not_resolve_fails_at_once(no_dns):
    with pytest.raises(
        http.UnreachableError,
        match=r"^GET https://archive-api\.open-meteo\.com/v1/archive failed: the host name "
        r"does not resolve \(offline, or a typo in the URL\?\).*Not retried",
    ):
        http.get("https://archive-api.open-meteo.com/v1/archive", timeout=2.0)


def test_dns_failure_is_not_retried_by_openmeteo_or_arrivals(no_dns, data_home):
    sleeps = Sleeps()
    policy = om.RetryPolicy(timeout_s=2.0, transient_wait_s=5.0, max_transient_retries=5)
    with Timer() as t, pytest.raises(http.UnreachableError, match=r"does not resolve"):
        om.fetch_json(
            "https://archive-api.open-meteo.com/v1/archive", {}, policy=policy, sleep=sleeps
        )
    assert sleeps == [] and policy.budget.requests == 1
    with pytest.raises(http.UnreachableError, match=r"www\.gov\.uk.*does not resolve"):
        update_arrivals(sleep=sleeps, timeout=2, retries=3)
    with pytest.raises(http.UnreachableError, match=r"does not resolve"):
        get_bytes("https://www.gov.uk/x", sleep=sleeps, retries=3)
    assert sleeps == []  # no back-off at all
    assert t.s < 2.0
