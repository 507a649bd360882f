"""The HTML page as text: self-contained, escaped, responsive, with the key figures."""

from __future__ import annotations

import base64
import re

import pytest

from forecast.products import report
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
    assert "crps_skill_vs_climatology 0.21; brier_skill 0.33" in html
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


def test_same_figures_in_table_csv_json_and_page(page):
    """Every day's figures read the same in the terminal table, CSV, JSON and the page."""
    import io
    import json

    import pandas as pd

    from forecast.products import outlook as ol

    o, html = page
    text = ol.format_table(o)
    csv = pd.read_csv(io.StringIO(ol.to_csv(o)), comment="#", index_col="date")
    js = json.loads(ol.to_json(o))
    for d, dj in zip(o["days"], js["days"], strict=True):
        expected = f"{d['expected_people']:.0f} ({d['q10']}–{d['q90']})"
        assert f"  {expected}  " in text
        assert f"data-label='expected'>{expected}</td>" in html
        assert f"data-label='P(any)'>{d['p_any']:.0%}</td>" in html
        assert f"data-label='P(&gt;300)'>{d['p_gt_300']:.0%}</td>" in html
        assert dj == d
        row = csv.loc[d["date"]]
        assert (row["q10"], row["q90"], row["p_any"]) == (d["q10"], d["q90"], d["p_any"])
    w = o["week"]
    assert f"expected {w['mean']:,} people (80 % range {w['q10']:,}–{w['q90']:,})" in text
    assert f'<div class="v">{w["mean"]:,}</div>' in html
    assert f'<div class="v">{w["q10"]:,}–{w["q90"]:,}</div>' in html
    assert js["week"] == w
    b = o["year_end"]["bands"]
    assert f"low {b['low']:,}, central {b['median']:,}, high {b['high']:,} people" in text
    assert (
        f"low <b>{b['low']:,}</b>, central <b>{b['median']:,}</b>, high <b>{b['high']:,}</b>"
        in html
    )


def test_no_jargon_in_user_text(page):
    """Planners read the page and table: no internal column names or ISO 'T' times."""
    from forecast.products import outlook as ol

    o, html = page
    for words in (html.split("<style>")[0] + html.split("</style>")[1], ol.format_table(o)):
        for jargon in ("q10", "q90", "p_gt_", "expected_people", "weather_label", "D+1"):
            assert jargon not in words, jargon


def test_model_and_skill_lines():
    from forecast.products import outlook as ol

    prov = {
        "model_trained": "2018-04-14..2026-08-20 (3051 days, none)",
        "train_horizons": [97, 103],
    }
    assert ol.model_text(prov) == (
        "trained on 3,051 days (2018-04-14 to 2026-08-20) without weather, "
        "for forecasts 97–103 days after the last data"
    )
    assert ol.model_text({"model_trained": "something else"}) == "default, trained something else"
    prov.update(train_horizons=[1, 7], lead_bands=[[1], [2, 3, 4, 5, 6, 7]])
    assert ol.model_text(prov) == (
        "trained on 3,051 days (2018-04-14 to 2026-08-20) without weather, "
        "for forecasts 1–7 days after the last data; one model for each of day 1 and days 2–7"
    )
    outlook = {"provenance": {"backtest_skill": {"mae": 99.0, "horizon": 1}}, "lead_days": [1, 7]}
    assert ol.skill_line(outlook) == (
        "(forecast 1 day ahead) typical error 99 people a day (mean absolute error). "
        "This outlook is 1–7 days ahead of the last data, so expect less skill than that"
    )
    outlook["lead_days"] = [1, 1]
    assert ol.skill_line(outlook).endswith("(mean absolute error)")


def test_notice_headline_is_bold_and_details_follow():
    from tests.test_browser import sample_outlook

    o, arrivals = sample_outlook()
    o["notices"] = ["OLD DATA: arrivals data end 2025-06-01, 28 days before. Update them."]
    html = report.render_html(o, arrivals)
    assert (
        '<div class="notice old"><b>OLD DATA: arrivals data end 2025-06-01, 28 days before.</b> '
        '<span class="more">Update them.</span></div>'
    ) in html
