"""The HTML page in a real headless browser (Debian chromium driven by Playwright).

Skipped only when /usr/bin/chromium is absent (``make test`` installs it). Playwright
never downloads a browser here: it drives the system chromium via executable_path.

Set ``FORECAST_REPORT_SCREENSHOT=1`` to also screenshot the real page written by
``forecast report`` (``out/outlook.html``) into ``out/report-screenshot.png`` for review.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from forecast import config
from forecast.products import outlook as ol
from forecast.products import report
from tests.test_outlook import make_arrivals, make_pred

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (run 'make browser')"
    ),
]


def sample_outlook() -> tuple[dict, pd.DataFrame]:
    first = pd.Timestamp("2025-06-30")
    days = pd.date_range(first, periods=10)
    pred = make_pred(
        days,
        [0.72, 0.64, 0.2, 0.1, 0.4, 0.8, 0.9, 0.5, 0.5, 0.3],
        [240.0, 180.0, 20.0, 5.0, 60.0, 310.0, 420.0, 120.0, 110.0, 40.0],
        [600.0, 480.0, 60.0, 10.0, 180.0, 700.0, 900.0, 330.0, 300.0, 120.0],
        wave_height_max=0.3,
        wind_speed_10m_mean=6.0,
        wind_dir_sin=0.7071,
        wind_dir_cos=0.7071,
        hw_in_darkness=1.0,
        first_dark_hw_utc=pd.Timestamp("2025-06-30 02:10"),
        days_since_calm=9.0,
    )
    arrivals = make_arrivals("2022-01-01", "2025-06-29", people=60)
    year_end = {
        "year": 2025,
        "known_to": "2025-06-29",
        "known": 10_800,
        "remaining_days": 185,
        "by_weather_year": {"2018": 30_000, "2019": 33_000, "2020": 36_500},
        "red_days": {"2018": 80, "2019": 90, "2020": 100},
        "bands": {"low": 30_000, "median": 33_000, "high": 36_500},
        "n_years": 3,
        "weather_source": "knmi",
        "label": "KNMI station 340 Woensdrecht (test)",
        "method": "test bands",
    }
    o = ol.build_outlook(
        pred,
        first_day=first,
        arrivals=arrivals,
        issued_utc=dt.datetime(2025, 6, 30, 5, 0, tzinfo=dt.UTC),
        weather={
            "source": "openmeteo",
            "label": "Open-Meteo forecast (test fixture)",
            "run": "2025-06-30T00:00Z",
        },
        year_end=year_end,
    )
    return o, arrivals


def open_page(path: Path, width: int = 390):
    """Load ``path`` in chromium; return (page text, requests, console errors, widths, screenshot).

    Also sets ``open_page.shown_widths`` (each image's width on screen [px]),
    ``open_page.phone_drawing`` (whether each image shows its phone drawing) and
    ``open_page.banners`` (class, top and height [px] of each warning and notice).
    """
    from playwright.sync_api import sync_playwright

    requests, errors = [], []
    shot = path.with_suffix(".png")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": 844})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.resolve().as_uri(), wait_until="load")
            text = page.inner_text("body")
            widths = page.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth,"
                " Math.max(...Array.from(document.querySelectorAll('body *')).map(e => e.getBoundingClientRect().right))]"
            )
            imgs = page.evaluate(
                "() => Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
            )
            shown = page.evaluate(
                "() => Array.from(document.images).map(i => Math.round(i.getBoundingClientRect().width))"
            )
            phone = page.evaluate(
                "() => Array.from(document.images).map(i => i.currentSrc === i.src)"
            )
            banners = page.evaluate(
                "() => Array.from(document.querySelectorAll('.warn, .notice')).map(e =>"
                " [e.className, Math.round(e.getBoundingClientRect().top),"
                " Math.round(e.getBoundingClientRect().height)])"
            )
            figs_top = page.evaluate(
                "() => document.querySelector('.figs').getBoundingClientRect().top"
            )
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    open_page.shown_widths = shown
    open_page.phone_drawing = phone
    open_page.banners = banners
    open_page.figs_top = figs_top
    return text, requests, errors, widths, imgs, shot


ISSUED = dt.datetime(2025, 6, 30, 5, 0, tzinfo=dt.UTC)


def test_page_in_headless_chromium(tmp_path):
    o, arrivals = sample_outlook()
    path = report.write_report(o, arrivals, tmp_path / "outlook.html", now_utc=ISSUED)
    text, requests, errors, widths, imgs, shot = open_page(path)
    assert errors == []
    outside = [u for u in requests if not (u.startswith("file:") or u.startswith("data:"))]
    assert outside == []
    scroll_width, inner_width, right = widths
    assert inner_width == 390
    assert scroll_width <= inner_width, f"page is {scroll_width} px wide at 390 px"
    assert right <= inner_width + 0.5
    assert imgs == [[True, imgs[0][1]], [True, imgs[1][1]]] and all(w > 0 for _, w in imgs)
    assert open_page.shown_widths == [366, 366]  # full width of the phone column
    assert open_page.shown_widths == [
        report.CHART_VARIANTS["phone"].shown_px
    ] * 2 and open_page.phone_drawing == [True, True]
    assert "Issued Mon 30 Jun 2025 05:00 UTC (06:00 UK time, BST)" in text
    # key figures
    assert f"{o['week']['mean']:,}" in text
    assert f"{o['week']['q10']:,}–{o['week']['q90']:,}" in text
    assert "33,000\nyear-end 2025, central (low 30,000, high 36,500)" in text
    assert "Arrivals data up to 2025-06-29" in text
    assert "Weather data by Open-Meteo.com" in text
    assert "Source: KNMI" in text
    assert "waves 0.3 m, wind 6 kn NE, high water 03:10 UK in darkness, after 9 stormy days" in text
    assert "crps_skill_vs_climatology 0.21" in text
    assert shot.stat().st_size > 10_000


def test_page_wide_screen(tmp_path):
    o, arrivals = sample_outlook()
    path = report.write_report(o, arrivals, tmp_path / "wide.html", now_utc=ISSUED)
    text, requests, errors, widths, _, _ = open_page(path, width=1280)
    assert errors == [] and widths[0] <= widths[1] == 1280
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert "Boats" in text  # the boats column is shown on wide screens only
    # charts fill the 960 px column (less padding), in their desktop drawing
    assert open_page.shown_widths == [936, 936] == [report.CHART_VARIANTS["desktop"].shown_px] * 2
    assert open_page.phone_drawing == [False, False]
    # the row as read on screen: median 144 in its range, mean 180; 64 % x 180 / 600 = 19 %,
    # 64 % x 180 / 1000 = 12 %, 180 / 50 boats
    assert "Tue 01/07\tred\t64%\t144 (0–480)\t180\t19%\t12%\t4\twaves 0.3 m" in text
    assert "33,000\nyear-end 2025, central (low 30,000, high 36,500)" in text


def test_warnings_and_notices_are_one_line_each_on_a_phone(tmp_path):
    o, arrivals = sample_outlook()
    o["notices"] = [
        "OLD DATA: arrivals data end 2025-06-01, 28 days (4 weeks) before this outlook's first "
        "day 2025-06-30. The 28 days in between are unknown to the model. Update with "
        "'forecast arrivals update' (needs internet).",
        "NO WEATHER FORECAST: this is a weather-free outlook (season and recent history only). "
        "No cached forecast; run 'forecast weather update --kind forecast' while online.",
    ]
    path = report.write_report(
        o, arrivals, tmp_path / "o.html", now_utc=ISSUED + dt.timedelta(days=11)
    )
    text, _, errors, widths, _, _ = open_page(path)
    assert errors == [] and widths[0] <= widths[1]
    kinds = [c for c, _, _ in open_page.banners]
    assert kinds == ["warn stale", "notice old", "notice"]
    # one line each (0.9 rem text + padding), stacked, and the week's figures follow at once
    assert all(height <= 32 for _, _, height in open_page.banners), open_page.banners
    last_top, last_height = open_page.banners[-1][1:]
    assert open_page.figs_top - (last_top + last_height) < 20
    assert open_page.figs_top < 844 / 3
    # the details are in the page, behind a click
    assert "STALE: this outlook was issued 11 days ago" in text
    assert "The 28 days in between" not in text


@pytest.mark.skipif(
    not os.environ.get("FORECAST_REPORT_SCREENSHOT"), reason="set FORECAST_REPORT_SCREENSHOT=1"
)
def test_screenshot_of_real_page(tmp_path):
    page = config.out_dir() / "outlook.html"
    if not page.exists():
        pytest.skip(f"{page} not written yet: run 'forecast outlook' then 'forecast report'")
    copy = tmp_path / "outlook.html"
    shutil.copy(page, copy)
    for width, name in ((390, "report-screenshot.png"), (1280, "report-screenshot-desktop.png")):
        _, requests, errors, widths, _, shot = open_page(copy, width=width)
        assert errors == [] and widths[0] <= widths[1] == width
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
        shutil.copy(shot, config.out_dir() / name)
