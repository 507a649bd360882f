"""The HTML page as text: self-contained, escaped, responsive, with the key figures."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.text import Text

from forecast.cli import main
from forecast.errors import DataFormatError
from forecast.products import outlook as ol
from forecast.products import outlook_schema as schema
from forecast.products import predictor as pr
from forecast.products import report
from forecast.products import skill as sk
from tests.test_browser import sample_outlook
from tests.test_outlook import make_arrivals
from tests.test_outlook_cli import fake_predict

#: Issue time of :func:`tests.test_browser.sample_outlook`.
ISSUED = dt.datetime(2025, 6, 30, 5, 0, tzinfo=dt.UTC)


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
    html = report.render_html(o, arrivals, now_utc=ISSUED)
    assert "replay as of 2025-06-30" in html
    assert "<td class='n' data-label='actual'>123</td>" in html
    assert "actual people that week" in html and ">861<" in html
    path = report.write_report(o, arrivals, tmp_path / "sub" / "page.html", now_utc=ISSUED)
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
        median = f"{d['q50']} ({d['q10']}–{d['q90']})"
        assert f"  {median}  " in text
        assert f"  {d['expected_people']:.0f}  " in text
        assert f"data-label='median (80 %)'>{median}</td>" in html
        assert f"data-label='mean'>{d['expected_people']:.0f}</td>" in html
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
        "(same-day forecasts: issued the morning of the day, arrivals to the day before) typical "
        "error 99 people a day (the mean forecast; mean absolute error). This outlook is 1–7 "
        "days ahead of the last data, so expect less skill than that"
    )
    outlook["lead_days"] = [1, 1]
    assert ol.skill_line(outlook).endswith("(the mean forecast; mean absolute error)")


def test_notices_are_one_line_with_details_behind():
    o, arrivals = sample_outlook()
    o["notices"] = ["OLD DATA: arrivals data end 2025-06-01, 28 days before. Update <them>."]
    html = report.render_html(o, arrivals, now_utc=ISSUED)
    assert (
        '<details class="notice old"><summary><b>OLD DATA: arrivals data end 2025-06-01, '
        "28 days before.</b></summary><p>Update &lt;them&gt;.</p></details>"
    ) in html


def test_dashed_cells_note_only_when_a_cell_is_dashed():
    o, arrivals = sample_outlook()
    assert "Dashed cells: beyond day 7, lower confidence." in report.render_html(o, arrivals)
    o["days"] = o["days"][:7]
    html = report.render_html(o, arrivals)
    assert "Dashed" not in html and "lower confidence" not in html


# ---------------------------------------------------------------------------
# when the outlook was issued; stale outlooks and replays
# ---------------------------------------------------------------------------


def test_page_says_when_issued_in_utc_and_uk_time():
    o, arrivals = sample_outlook()
    html = report.render_html(o, arrivals, now_utc=ISSUED + dt.timedelta(hours=2))
    assert "Issued <b>Mon 30 Jun 2025 05:00 UTC</b> (06:00 UK time, BST)" in html
    assert 'class="warn' not in html  # fresh and live: no warning


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (dt.timedelta(hours=23, minutes=59), None),
        (dt.timedelta(hours=25), "STALE: this outlook was issued 25 hours ago"),
        (dt.timedelta(days=11, hours=3), "STALE: this outlook was issued 11 days ago"),
    ],
)
def test_stale_outlook_is_flagged(age, expected):
    o, arrivals = sample_outlook()
    html = report.render_html(o, arrivals, now_utc=ISSUED + age)
    if expected is None:
        assert "STALE" not in html
    else:
        assert f'<details class="warn stale"><summary><b>{expected}</b>' in html
        # first thing after the heading and the issue line
        assert html.index("STALE") < html.index('class="figs"')
        assert f"older than {report.STALE_AFTER_HOURS} hours" in html


def test_replay_is_flagged():
    o, arrivals = sample_outlook()
    o["mode"] = "as_of"
    o["notices"] = ["REPLAY of 2025-06-30: only arrivals up to 2025-06-29 are used."]
    html = report.render_html(o, arrivals, now_utc=ISSUED)
    assert (
        '<details class="warn replay"><summary><b>REPLAY of 30 Jun 2025: not a forecast of '
        "the coming days</b>"
    ) in html
    assert html.count("REPLAY") == 2  # the banner and its details (the notice, folded in)


# ---------------------------------------------------------------------------
# the outlook file is checked before it is drawn
# ---------------------------------------------------------------------------


def _set(o: dict, path: str, value) -> dict:
    keys = [
        int(k) if k.isdigit() else k for k in path.replace("[", ".").replace("]", "").split(".")
    ]
    obj = o
    for k in keys[:-1]:
        obj = obj[k]
    obj[keys[-1]] = value
    return o


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("days[2].q10", "<script>", r"days\[2\]\.q10 must be a number >= 0, got '<script>'"),
        (
            "days[0].rag",
            "<script>alert(1)</script>",
            r"days\[0\]\.rag must be one of red, amber, green",
        ),
        ("days[1].p_any", 1.5, r"days\[1\]\.p_any must be a number in \[0, 1\], got 1\.5"),
        ("days[1].p_gt_300", None, r"days\[1\]\.p_gt_300 must be a number in \[0, 1\], got None"),
        (
            "days[3].expected_people",
            float("nan"),
            r"days\[3\]\.expected_people must be a number >= 0, got nan",
        ),
        ("days[3].q90", -1, r"days\[3\]\.q90 must be a number >= 0, got -1"),
        ("days[3].q90", True, r"days\[3\]\.q90 must be a number >= 0, got True"),
        ("days[0].confidence", "x", r"days\[0\]\.confidence must be one of normal, lower"),
        ("days[0].date", "2025-13-01", r"days\[0\]\.date must be an ISO date YYYY-MM-DD"),
        ("days[0].weekday", "<b>", r"days\[0\]\.weekday must be one of Mon, "),
        ("days[0].drivers", 5, r"days\[0\]\.drivers must be text, got 5"),
        (
            "attribution[1].url",
            "javascript:alert(1)",
            r"attribution\[1\]\.url must be an http\(s\) link, got 'javascript:alert\(1\)'",
        ),
        (
            "attribution[0].url",
            "https://x.org/ onmouseover=alert(1)",
            r"attribution\[0\]\.url must be an http\(s\) link",
        ),
        (
            "issued_utc",
            "2025-06-30T05:00",
            r"issued_utc must be an ISO 8601 time with its UTC offset",
        ),
        ("schema", 99, r"schema must be a known layout version \(1\), got 99"),
        ("mode", "<i>", r"mode must be one of live, as_of"),
        ("week.q90", "1e9", r"week\.q90 must be a number >= 0, got '1e9'"),
        ("ytd.same_span.2024", "<i>", r"ytd\.same_span\.2024 must be a number >= 0"),
        ("year_end.bands.low", "<i>", r"year_end\.bands\.low must be a number >= 0"),
        ("notices[0]", {"a": 1}, r"notices\[0\] must be text"),
        ("thresholds", [], r"thresholds must be a list of at least 1 item"),
        ("days", {}, r"days must be a list of at least 1 item\(s\), got an object"),
        (
            "provenance.train_horizons",
            ["<i>"],
            r"provenance\.train_horizons\[0\] must be a whole number",
        ),
    ],
)
def test_outlook_file_is_checked_field_by_field(tmp_path, path, value, message):
    o, _ = sample_outlook()
    o["notices"] = ["a notice"]
    _set(o, path, value)
    f = tmp_path / "o.json"
    f.write_text(json.dumps(o))
    with pytest.raises(DataFormatError, match=rf"^outlook {re.escape(str(f))}: {message}"):
        schema.read_outlook_file(f)


def test_missing_field_is_named(tmp_path):
    o, _ = sample_outlook()
    del o["days"][4]["q90"]
    with pytest.raises(DataFormatError, match=r"^outlook X: days\[4\]\.q90 is missing"):
        schema.validate_outlook(o, "outlook X")


def test_written_outlook_passes_its_schema(tmp_path):
    o, _ = sample_outlook()
    f = tmp_path / "o.json"
    f.write_text(ol.to_json(o))
    assert schema.read_outlook_file(f) == json.loads(ol.to_json(o))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            r"not UTF-8 text \(byte 0x89 at offset 0\); is it a binary file\?",
        ),
        ('{"a": "caf\u00e9"}'.encode("latin-1"), r"not UTF-8 text \(byte 0xe9 at offset 10\)"),
        (b"[1, 2]", r"the JSON is a list, not an outlook object"),
        (b'"text"', r"the JSON is text, not an outlook object"),
        (
            b"{",
            r"not valid JSON \(Expecting property name enclosed in double quotes at line 1 column 2\)",
        ),
        (b"[" * 100_000, r"(not valid JSON|JSON nested too deeply)"),
    ],
)
def test_unreadable_outlook_files(tmp_path, content, message):
    f = tmp_path / "o.json"
    f.write_bytes(content)
    with pytest.raises(DataFormatError, match=rf"^outlook {re.escape(str(f))}: {message}"):
        schema.read_outlook_file(f)


def _every_string_marked(value, mark: str, skip: frozenset):
    """``value`` with every free-text string leaf replaced by ``mark``."""
    if isinstance(value, dict):
        return {
            k: v if k in skip else _every_string_marked(v, mark, skip) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_every_string_marked(v, mark, skip) for v in value]
    return mark if isinstance(value, str) else value


def test_every_text_field_is_escaped():
    """Each free-text field that passes the schema holds markup; none reaches the page raw."""
    o, arrivals = sample_outlook()
    o["mode"] = "as_of"
    o["changes"] = {"summary": "x"}
    o["week"]["actual"] = 5
    for d in o["days"]:
        d["actual_people"] = 1
    o["notices"] = ["a. b", "REPLAY x. y"]
    o["provenance"]["model"] = "m"
    mark = "<i onload=x>&\"'"
    # enums, dates, times and links are checked by the schema; every other text is free
    skip = frozenset(
        {
            "schema",
            "mode",
            "issued_utc",
            "first_day",
            "last_day",
            "date",
            "weekday",
            "confidence",
            "rag",
            "end_date",
            "from",
            "to",
            "known_to",
            "url",
            "model_trained",
        }
    )
    o = _every_string_marked(o, mark, skip)
    schema.validate_outlook(o)
    html = report.render_html(o, arrivals, now_utc=ISSUED)
    assert "<i onload" not in html and "&lt;i onload=x&gt;&amp;&quot;&#x27;" in html
    assert html.count("&lt;i onload=x&gt;") >= 8


def test_class_names_come_from_a_whitelist():
    o, arrivals = sample_outlook()
    o["days"][0]["rag"] = 'red" onclick="x'
    html = report.render_html(o, arrivals, now_utc=ISSUED)
    assert 'onclick="x' not in html and "red&quot; onclick=&quot;x" in html
    assert 'class="cell none" title="2025-06-30"' in html


# ---------------------------------------------------------------------------
# the command: a fresh outlook by default, --latest, --outlook, errors
# ---------------------------------------------------------------------------

NOW = "2026-11-25T06:00:00Z"


@pytest.fixture
def fake(monkeypatch, data_home):
    monkeypatch.setattr(pr, "default_predictor", lambda knmi=None: fake_predict)
    return data_home


def run(capsys, argv):
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_report_makes_a_fresh_outlook_by_default(fake, capsys):
    """An 11-day-old out/outlook.json and a replay are not drawn unless asked for."""
    assert main(["outlook", "--now", "2026-11-14T06:00:00Z", "--no-scenarios"]) == 0
    assert main(["outlook", "--as-of", "2025-06-10", "--no-scenarios"]) == 0  # a replay last
    capsys.readouterr()
    code, out, _ = run(capsys, ["report", "--now", NOW])
    assert code == 0 and out.startswith(f"wrote {fake / 'out' / 'outlook.html'}")
    page = (fake / "out" / "outlook.html").read_text()
    latest = json.loads((fake / "out" / "outlook.json").read_text())
    assert latest["issued_utc"] == "2026-11-25T06:00:00+00:00" and latest["mode"] == "live"
    assert "Issued <b>Wed 25 Nov 2026 06:00 UTC</b> (06:00 UK time, GMT)" in page
    assert "STALE" not in page and "REPLAY" not in page
    saved = sorted((fake / "data" / "outlooks").glob("outlook-*.json"))
    assert [p.name for p in saved] == [
        "outlook-20261114T060000Z.json",
        "outlook-20261125T060000Z.json",
    ]


def test_report_latest_draws_the_saved_outlook_with_a_warning(fake, capsys):
    assert main(["outlook", "--now", "2026-11-14T06:00:00Z", "--no-scenarios"]) == 0
    capsys.readouterr()
    code, _, _ = run(capsys, ["report", "--latest", "--now", NOW])
    page = (fake / "out" / "outlook.html").read_text()
    assert code == 0
    assert "Issued <b>Sat 14 Nov 2026 06:00 UTC</b>" in page
    assert "STALE: this outlook was issued 11 days ago" in page
    assert not (fake / "data" / "outlooks" / "outlook-20261125T060000Z.json").exists()
    # a replay left in out/outlook.json is drawn as a replay
    assert main(["outlook", "--as-of", "2025-06-10", "--no-scenarios", "--now", NOW]) == 0
    capsys.readouterr()
    assert main(["report", "--latest", "--now", NOW]) == 0
    page = (fake / "out" / "outlook.html").read_text()
    assert "REPLAY of 10 Jun 2025: not a forecast of the coming days" in page


def test_report_latest_without_a_saved_outlook(fake, capsys):
    code, out, err = run(capsys, ["report", "--latest"])
    assert code == 2 and out == ""
    assert f"--latest: no outlook at {fake / 'out' / 'outlook.json'} yet" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--as-of", "2025-06-30", "--outlook", "o.json"],
            r"--as-of and --outlook cannot be combined",
        ),
        (["--as-of", "2025-06-30", "--latest"], r"--as-of and --latest cannot be combined"),
        (["--outlook", "o.json", "--latest"], r"--outlook and --latest cannot be combined"),
    ],
)
def test_report_refuses_conflicting_options(fake, capsys, argv, message):
    code, out, err = run(capsys, ["report", *argv])
    assert code == 2 and out == "" and re.search(message, err), err
    assert not (fake / "out").exists()


def test_report_outlook_file_with_injection_is_refused(fake, capsys):
    o, _ = sample_outlook()
    o["days"][0]["rag"] = "<script>alert(1)</script>"
    f = fake / "evil.json"
    f.write_text(json.dumps(o))
    code, out, err = run(capsys, ["report", "--outlook", str(f)])
    assert code == 2 and out == ""
    assert f"outlook {f}: days[0].rag must be one of red, amber, green" in err
    assert not (fake / "out" / "outlook.html").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)), r"not UTF-8 text"),
        (b"\xff\xfe{}", r"not UTF-8 text \(byte 0xff at offset 0\)"),
        (b"[]", r"the JSON is a list, not an outlook object"),
        (b"null", r"the JSON is null, not an outlook object"),
    ],
)
def test_report_unreadable_outlook_exits_2(fake, capsys, content, message):
    f = fake / "o.json"
    f.write_bytes(content)
    code, out, err = run(capsys, ["report", "--outlook", str(f)])
    assert code == 2 and out == "" and "Traceback" not in err
    assert re.search(rf"outlook {re.escape(str(f))}: {message}", err), err


def _unwritable_folder(tmp_path):
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("running as root without /sys: no unwritable folder to try")
    return Path("/sys/kernel")


@pytest.mark.parametrize(
    "case", ["folder", "under a file", "unwritable", "missing parent in /proc"]
)
def test_report_bad_out_exits_2_and_leaves_nothing(fake, capsys, case):
    o, _ = sample_outlook()
    f = fake / "o.json"
    f.write_text(ol.to_json(o))
    plain = fake / "plain.txt"
    plain.write_text("x")
    target, message, folder = {
        "folder": (fake, r"--out .* is a folder; give the path of a regular file", fake),
        "under a file": (
            plain / "page.html",
            r"--out .*: a parent of this path is a file|its folder .* is a file",
            fake,
        ),
        "unwritable": (
            _unwritable_folder(fake) / "page.html",
            r"--out .*: the folder is not writable",
            None,
        ),
        "missing parent in /proc": (
            Path("/proc/page.html"),
            r"--out /proc/page.html: cannot write",
            None,
        ),
    }[case]
    code, out, err = run(capsys, ["report", "--outlook", str(f), "--out", str(target)])
    assert code == 2 and out == "" and "Traceback" not in err
    assert re.search(message, err), err
    if folder is not None:
        assert [p.name for p in folder.rglob("*.tmp")] == []


# ---------------------------------------------------------------------------
# charts: lettering, legend, labels, busy nights
# ---------------------------------------------------------------------------


def _texts(fig) -> list[Text]:
    """The lettering a drawing shows (tick labels within the axis limits only)."""
    fig.draw_without_rendering()
    out = []
    for ax in fig.axes:
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = sorted(limits)
            ticks = zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=True)
            out += [label for loc, label in ticks if lo - 1e-9 <= loc <= hi + 1e-9]
            out.append(axis.label)
        out += list(ax.texts)
        if ax.get_legend() is not None:
            out += ax.get_legend().get_texts()
    for legend in fig.legends:
        out += legend.get_texts()
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def _crowded() -> tuple[dict, pd.DataFrame]:
    """Earlier years ending next to the year-end bands: the labels' worst case."""
    o, _ = sample_outlook()
    parts = [
        make_arrivals(f"{y}-01-01", f"{y}-12-31", people=k)
        for y, k in ((2022, 100), (2023, 90), (2024, 82))
    ]
    parts.append(make_arrivals("2025-01-01", "2025-06-29", people=60))
    arrivals = pd.concat(parts)
    arrivals.attrs = parts[-1].attrs
    return o, arrivals


#: A per-lead skill table like experiment 005's (made-up numbers, for drawing only).
SKILL_TABLE = {
    k: {
        "auc_any": 0.89 - 0.02 * k,
        "bss_any_vs_climatology_month": 0.49 - 0.05 * k,
        "basis": "backtest at each lead time on test weather",
        "fallback": False,
    }
    for k in range(1, 17)
}


def _with_skill(o: dict) -> dict:
    return {**o, "skill_by_lead": sk.skill_summary(SKILL_TABLE)}


def _figure(chart: str, variant: str):
    o, arrivals = _crowded()
    if chart == "outlook":
        return report.outlook_figure(o, variant)
    if chart == "skill":
        return report.skill_figure(_with_skill(o), variant)
    return report.year_figure(o, arrivals, variant)


@pytest.mark.parametrize("variant", ["phone", "desktop"])
@pytest.mark.parametrize("chart", ["outlook", "year", "skill"])
def test_chart_lettering_is_at_least_11_px_where_shown(chart, variant):
    """Smallest text [pt] x shown width [px] / SVG width [pt] >= 11 px (phone: 366 px wide)."""
    fig = _figure(chart, variant)
    smallest = min(t.get_fontsize() for t in _texts(fig))
    svg = base64.b64decode(report.svg_data_uri(fig).split(",", 1)[1]).decode()
    width_pt = float(re.search(r'<svg[^>]*? width="([\d.]+)pt"', svg).group(1))
    shown = report.CHART_VARIANTS[variant].shown_px
    assert smallest * shown / width_pt >= 11.0
    assert smallest * shown / width_pt <= 18.0  # and not shouting on a desktop


@pytest.mark.parametrize("variant", ["phone", "desktop"])
@pytest.mark.parametrize("chart", ["outlook", "year", "skill"])
def test_chart_text_does_not_collide_and_legend_is_outside_the_plot(chart, variant):
    fig = _figure(chart, variant)
    texts = _texts(fig)
    # an annotation's own extent includes its leader line: compare the lettering only
    boxes = [(t.get_text(), Text.get_window_extent(t)) for t in texts]
    collide = [
        (a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1 :] if ba.overlaps(bb)
    ]
    assert collide == []
    ax = fig.axes[0]
    legend = ax.get_legend() or fig.legends[0]
    assert not legend.get_window_extent().overlaps(ax.get_window_extent())


def test_year_chart_labels_the_crowded_ends():
    fig = _figure("year", "phone")
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["low 30,000", "2024", "2023", "central 33,000", "2022", "high 36,500"]


def test_busy_nights_are_marked_on_the_chart():
    o, _ = sample_outlook()
    fig = report.outlook_figure(o, "phone")
    ax = fig.axes[0]
    legend = ax.get_legend() or fig.legends[0]
    assert "P(> 300) above 20 %" in [t.get_text() for t in legend.get_texts()]
    (marks,) = [c for c in ax.collections if c.get_gid() == "busy-nights"]
    busy = [d["date"] for d in o["days"] if d["p_gt_300"] > 0.2]
    assert busy == ["2025-06-30", "2025-07-05", "2025-07-06"]
    assert list(marks.get_offsets()[:, 0]) == [0.0, 5.0, 6.0]
    o["days"] = [dict(d, p_gt_300=0.1) for d in o["days"]]
    fig = report.outlook_figure(o, "phone")
    assert [c for c in fig.axes[0].collections if c.get_gid() == "busy-nights"] == []


def test_report_latest_names_the_option_when_the_file_is_damaged(fake, capsys):
    (fake / "out").mkdir()
    (fake / "out" / "outlook.json").write_bytes(b'{"schema": 1, "mode": "live"}')
    code, out, err = run(capsys, ["report", "--latest"])
    assert code == 2 and out == ""
    assert err.strip().endswith(
        f"outlook {fake / 'out' / 'outlook.json'}: issued_utc is missing. Give an outlook "
        "written by 'forecast outlook', or drop --latest."
    )


def test_skill_by_lead_chart_and_per_day_skill_on_the_page():
    o, arrivals = sample_outlook()
    pred_days = [dict(d, lead_days=k + 1) for k, d in enumerate(o["days"])]
    o = _with_skill({**o, "days": pred_days})
    for d in o["days"]:
        d["skill"] = {key: v for key, v in SKILL_TABLE[d["lead_days"]].items() if key != "basis"}
        d["skill"].pop("fallback")
    fig = report.skill_figure(o, "phone")
    ax = fig.axes[0]
    auc, bss = ax.get_lines()[:2]
    assert list(auc.get_xdata()) == list(range(1, 17))
    assert auc.get_ydata()[4] == pytest.approx(0.79)
    assert bss.get_ydata()[-1] == pytest.approx(0.49 - 0.8)
    html = report.render_html(o, arrivals)
    assert "<h2>How good each day's forecast is</h2>" in html
    assert "backtest at each lead time on test weather" in html
    assert "AUC 0.79, Brier skill +0.24" in html  # day 5 of the table
    assert html.count("data:image/svg+xml;base64,") == 6  # outlook, skill, year: 2 drawings each
    # a fallback table (the 1-day headline for every lead) draws lead 1 only
    fallback = {k: dict(v, fallback=True) for k, v in SKILL_TABLE.items()}
    fig = report.skill_figure({**o, "skill_by_lead": sk.skill_summary(fallback)}, "phone")
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [1]
    assert report.skill_figure({**o, "skill_by_lead": None}, "phone") is None
