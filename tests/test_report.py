"""The HTML page as text: self-contained, escaped, responsive, with the key figures."""

from __future__ import annotations

import base64
import re

import pytest

from forecast import report
from tests.test_browser import sample_outlook


@pytest.fixture(scope="module")
def page():
    o, arrivals = sample_outlook()
    return o, report.render_html(o, arrivals)


def test_page_is_self_contained(page):
    _, html = page
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert (
        "<script" not in html
        and "<link" not in html
        and "@import" not in html
        and "url(" not in html
    )
    srcs = re.findall(r'src="([^"]*)"', html)
    assert len(srcs) == 2 and all(s.startswith("data:image/svg+xml;base64,") for s in srcs)
    svg = base64.b64decode(srcs[0].split(",", 1)[1]).decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "http://" not in svg.replace("http://www.w3.org/", "").replace(
        "http://purl.org/", ""
    ).replace("http://creativecommons.org/", "").replace("http://matplotlib.org", "")
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert sorted(hrefs) == sorted(
        [
            "https://www.gov.uk/government/publications/migrants-detected-crossing-the-english-channel-in-small-boats",
            "https://open-meteo.com/",
            "https://www.knmi.nl/",
        ]
    )


def test_page_has_key_figures(page):
    o, html = page
    assert f">{o['week']['mean']:,}<" in html
    assert f"{o['week']['q10']:,}–{o['week']['q90']:,}" in html
    assert "low <b>30,000</b>, central <b>33,000</b>, high <b>36,500</b>" in html
    assert "Arrivals data up to <b>2025-06-29</b>" in html
    assert "Weather: Open-Meteo forecast (test fixture), run 2025-06-30T00:00Z." in html
    assert "crps_skill_vs_climatology 0.21, brier_skill 0.33" in html
    assert html.count('class="cell red') == 4 and html.count('class="cell amber lower"') == 2
    # busy nights: P(>300) above 20 %
    assert "<b>2025-07-05</b>: P(&gt;300) 41%" in html and "<b>2025-07-02</b>" not in html


def test_text_is_escaped():
    o, arrivals = sample_outlook()
    o["days"][0]["drivers"] = "<b>bold</b> & more"
    o["notices"] = ["OLD DATA: <script>alert(1)</script>"]
    html = report.render_html(o, arrivals)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert "<script>" not in html and 'class="notice old"' in html


def test_replay_page_shows_actuals(tmp_path):
    o, arrivals = sample_outlook()
    o["mode"] = "as_of"
    for d in o["days"]:
        d["actual_people"] = 123
    o["week"]["actual"] = 861
    o["year_end"] = None
    html = report.render_html(o, arrivals)
    assert "replay as of 2025-06-30" in html
    assert "<td class='n' data-label='actual'>123</td>" in html
    assert "actual people that week" in html and ">861<" in html
    path = report.write_report(o, arrivals, tmp_path / "sub" / "page.html")
    assert path.read_text() == html and not list(path.parent.glob("*.tmp"))
