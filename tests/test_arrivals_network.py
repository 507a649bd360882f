"""``forecast arrivals update`` against the local HTTP server (127.0.0.1 only).

The server replays the real ODS release and daily-page snapshots and the constructed
publication page (its asset host replaced by the server), plus failures: 404, 500,
429 with Retry-After, a time-out, a truncated body, a page with no link, an HTML
page in an unknown layout.
"""

from __future__ import annotations

import hashlib
import inspect
import time
from pathlib import Path

import pandas as pd
import pytest

from forecast import config
from forecast.cli import main
from forecast.errors import DataFormatError, SourceError
from forecast.sources.arrivals import DAILY_PATH, PUBLICATION_PATH, get_bytes
from forecast.stores.arrivals import ArrivalsStore, update_arrivals
from tests.httpserver import Reply

pytestmark = pytest.mark.network

HERE = Path(__file__).parent / "fixtures" / "arrivals"
ODS = HERE / "21_August_2026_Small_boats_-_time_series.ods"
ODS_BYTES = ODS.read_bytes()
DAILY = (HERE / "daily_page" / "2026-08-22.html").read_text(encoding="utf-8")
PUB = (HERE / "publication_page" / "constructed_publication_page.html").read_text(encoding="utf-8")
ODS_PATH = "/media/66c5f0a1b2c3d4e5f6a7b8c9/21_August_2026_Small_boats_-_time_series.ods"


class Sleeps(list):
    """Records the waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def serve_release(server, ods=None, daily=None, page=None):
    server.route(
        PUBLICATION_PATH,
        page
        or Reply(200, PUB.replace("https://assets.publishing.service.gov.uk", server.base_url)),
    )
    server.route(ODS_PATH, *(ods or [Reply(200, ODS_BYTES)]))
    server.route(DAILY_PATH, daily or Reply(200, DAILY))


def files(root: Path) -> dict[str, bytes]:
    return (
        {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
        if root.exists()
        else {}
    )


@pytest.fixture
def store(data_home):
    """A store already holding the real release up to 10 August 2026."""
    s = ArrivalsStore()
    from forecast.sources.arrivals import read_sb01

    s.update(
        [(read_sb01(ODS).loc[:"2026-08-10"], "earlier")],
        "2026-08-11T00:00:00Z",
        {"release_date": "2026-08-14"},
    )
    return s


def test_update_happy_path(local_server, store):
    serve_release(local_server)
    sleeps = Sleeps()
    report = update_arrivals(base=local_server.base_url, store=store, sleep=sleeps, timeout=5)
    assert report.ods_source == local_server.url(ODS_PATH)
    assert report.release_date == "2026-08-21"
    assert (report.ods_end, report.daily_days, report.result.added) == ("2026-08-20", 1, 11)
    assert report.result.revised == 0
    df = store.read()
    assert df.index[-1] == pd.Timestamp("2026-08-21")
    assert int(df.loc["2026-08-17", "people"]) == 250
    raw = config.raw_dir() / "arrivals" / "21_August_2026_Small_boats_-_time_series.ods"
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == hashlib.sha256(ODS_BYTES).hexdigest()
    assert [r.path for r in local_server.requests] == [PUBLICATION_PATH, ODS_PATH, DAILY_PATH]
    assert local_server.requests[0].headers["User-Agent"] == config.USER_AGENT
    meta = store.read_meta()
    assert meta["ods_sha256"] == hashlib.sha256(ODS_BYTES).hexdigest()
    assert meta["release_date"] == "2026-08-21"
    assert sleeps == []


def test_base_url_from_env_through_cli(local_server, store, monkeypatch, capsys):
    serve_release(local_server)
    monkeypatch.setenv("FORECAST_ARRIVALS_BASE_URL", local_server.base_url)
    assert main(["arrivals", "update", "--timeout", "5", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"end_date": "2026-08-21"' in out
    assert f'"spreadsheet": "{local_server.url(ODS_PATH)}"' in out


def test_404_names_url_and_server_message(local_server, store):
    before = files(store.root)
    local_server.route(
        PUBLICATION_PATH, Reply(404, "<html><body><h1>Page not found</h1></body></html>")
    )
    with pytest.raises(
        SourceError,
        match=r"GET http://127\.0\.0\.1:\d+/government/publications/migrants-detected-crossing-the-english-channel-in-small-boats failed with HTTP 404: Page not found",
    ):
        update_arrivals(base=local_server.base_url, store=store, sleep=Sleeps(), timeout=5)
    assert files(store.root) == before


def test_500_then_success_retries_with_backoff(local_server, store):
    serve_release(
        local_server,
        ods=[Reply(500, "Internal Server Error"), Reply(502, "Bad gateway"), Reply(200, ODS_BYTES)],
    )
    sleeps = Sleeps()
    report = update_arrivals(
        base=local_server.base_url, store=store, sleep=sleeps, timeout=5, backoff_s=0.5
    )
    assert sleeps == [0.5, 1.0]
    assert report.result.end_date == "2026-08-21"


def test_persistent_500_gives_up_and_store_unchanged(local_server, store):
    before = files(store.root)
    serve_release(local_server, ods=[Reply(500, "upstream exploded")])
    sleeps = Sleeps()
    with pytest.raises(
        SourceError,
        match=r"GET .*time_series\.ods failed after 3 attempt\(s\); last error: HTTP 500: upstream exploded",
    ):
        update_arrivals(base=local_server.base_url, store=store, sleep=sleeps, timeout=5, retries=2)
    assert sleeps == [2.0, 4.0]
    assert files(store.root) == before
    assert list((config.raw_dir() / "arrivals").glob("*.ods")) == []


def test_429_honours_retry_after_and_bounds_it(local_server):
    local_server.route(
        "/x",
        Reply(429, "Too many requests", headers={"Retry-After": "7"}),
        Reply(429, "Too many requests", headers={"Retry-After": "3600"}),
        Reply(200, b"ok"),
    )
    sleeps = Sleeps()
    assert get_bytes(local_server.url("/x"), sleep=sleeps, timeout=5, max_wait_s=30) == b"ok"
    assert sleeps == [7.0, 30.0]


def test_default_sleep_really_waits():
    """Without an injected recorder the waits are real (``time.sleep``), not skipped."""
    assert inspect.signature(get_bytes).parameters["sleep"].default is time.sleep


def test_429_exhausted(local_server):
    local_server.route(
        "/z", Reply(429, "Minutely API request limit exceeded", headers={"Retry-After": "1"})
    )
    with pytest.raises(
        SourceError,
        match=r"failed after 2 attempt\(s\); last error: HTTP 429: Minutely API request limit exceeded",
    ):
        get_bytes(local_server.url("/z"), sleep=Sleeps(), retries=1, timeout=5)


def test_timeout(local_server, store):
    before = files(store.root)
    serve_release(local_server, daily=Reply(200, DAILY, delay_s=1.0))
    with pytest.raises(
        SourceError,
        match=r"last-7-days failed after 1 attempt\(s\); last error: no answer within 0\.3 s \(time-out\)",
    ):
        update_arrivals(
            base=local_server.base_url, store=store, sleep=Sleeps(), timeout=0.3, retries=0
        )
    assert files(store.root) == before


def test_truncated_download(local_server, store):
    before = files(store.root)
    serve_release(local_server, ods=[Reply(200, ODS_BYTES, truncate_to=20_000)])
    with pytest.raises(
        SourceError,
        match=r"time_series\.ods failed after 2 attempt\(s\); last error: the body was cut off",
    ):
        update_arrivals(
            base=local_server.base_url, store=store, sleep=Sleeps(), timeout=5, retries=1
        )
    assert files(store.root) == before
    assert list((config.raw_dir() / "arrivals").glob("**/*")) == []


def test_short_but_complete_body_is_not_an_ods(local_server, store):
    """A server that sends a cut file with a matching Content-Length: caught by the parser."""
    before = files(store.root)
    serve_release(local_server, ods=[Reply(200, ODS_BYTES[:20_000])])
    with pytest.raises(
        DataFormatError,
        match=r"21_August_2026_Small_boats_-_time_series\.ods is not a readable ODS spreadsheet",
    ):
        update_arrivals(base=local_server.base_url, store=store, sleep=Sleeps(), timeout=5)
    assert files(store.root) == before
    assert list((config.raw_dir() / "arrivals").iterdir()) == []


def test_ods_link_serves_html(local_server, store):
    serve_release(local_server, ods=[Reply(200, "<html>Sign in</html>")])
    with pytest.raises(
        DataFormatError, match=r"did not return an ODS spreadsheet \(first bytes b'<html>Sign in"
    ):
        update_arrivals(base=local_server.base_url, store=store, sleep=Sleeps(), timeout=5)


def test_page_without_link(local_server, store):
    before = files(store.root)
    page = PUB.replace("21_August_2026_Small_boats_-_time_series.ods", "summary.pdf")
    serve_release(local_server, page=Reply(200, page))
    with pytest.raises(
        DataFormatError,
        match=r"no link to the time-series spreadsheet .*ODS links seen: \['https://assets.*Small_boats_user_guide\.ods'\]",
    ):
        update_arrivals(base=local_server.base_url, store=store, sleep=Sleeps(), timeout=5)
    assert files(store.root) == before


def test_daily_page_unknown_layout(local_server, store):
    before = files(store.root)
    html = DAILY.replace("Boats involved in uncontrolled landings", "Uncontrolled")
    serve_release(local_server, daily=Reply(200, html))
    with pytest.raises(
        DataFormatError, match=r"last-7-days: unknown layout, no table has the expected header"
    ):
        update_arrivals(base=local_server.base_url, store=store, sleep=Sleeps(), timeout=5)
    assert files(store.root) == before


def test_connection_refused_offline(data_home):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(
        SourceError, match=r"failed after 1 attempt\(s\); last error: could not connect \(offline"
    ):
        update_arrivals(base=f"http://127.0.0.1:{port}", sleep=Sleeps(), timeout=2, retries=0)
    assert not ArrivalsStore().exists()


def test_raw_download_never_overwrites_a_different_file(local_server, store):
    raw = config.raw_dir() / "arrivals"
    raw.mkdir(parents=True)
    name = "21_August_2026_Small_boats_-_time_series.ods"
    (raw / name).write_bytes(b"an earlier download with the same name")
    serve_release(local_server)
    update_arrivals(base=local_server.base_url, store=store, sleep=Sleeps(), timeout=5)
    digest = hashlib.sha256(ODS_BYTES).hexdigest()
    assert sorted(p.name for p in raw.iterdir()) == [
        f"21_August_2026_Small_boats_-_time_series.{digest[:12]}.ods",
        name,
    ]
    assert (raw / name).read_bytes() == b"an earlier download with the same name"
