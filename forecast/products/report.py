"""The HTML page: a self-contained report of an outlook.

:func:`render_html` turns an outlook dictionary (:func:`forecast.products.outlook.build_outlook`)
into one HTML file with no external requests: charts are drawn with matplotlib as SVG
and embedded as ``data:`` URIs, CSS is inline, there are no scripts and no web fonts.
The page is responsive (viewport meta, fluid images, tables that wrap) so it reads on a
390 px phone screen.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import StrMethodFormatter

from forecast import config, fileio
from forecast.products.outlook import CONFIDENT_DAYS, busy_nights_all, model_text, skill_line

RAG_COLOURS = {"red": "#c0392b", "amber": "#b7791f", "green": "#2e7d4f"}  # as the strip

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
 color:#1b1b1b;background:#fafafa;line-height:1.45}
main{max-width:960px;margin:0 auto;padding:12px}
h1{font-size:1.35rem;margin:.4em 0}
h2{font-size:1.1rem;margin:1.2em 0 .4em;border-bottom:1px solid #ddd;padding-bottom:.2em}
p,li{font-size:.95rem;overflow-wrap:anywhere}
img{width:100%;max-width:580px;height:auto;display:block}
.notice{overflow-wrap:anywhere;background:#fff3cd;border-left:4px solid #e69f00;padding:.5em .8em;margin:.5em 0}
.notice.old{background:#fde2e1;border-left-color:#c0392b}
.notice .more{font-size:.85rem}
.strip{display:grid;grid-template-columns:repeat(auto-fit,minmax(64px,1fr));gap:4px}
.cell{color:#fff;border-radius:4px;padding:4px 2px;text-align:center;font-size:.8rem}
.cell b{display:block;font-size:.95rem}
.cell.lower{opacity:.7;outline:2px dashed #555;outline-offset:-2px}
.red{background:#c0392b}.amber{background:#b7791f}.green{background:#2e7d4f}
.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px}
.fig{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:8px}
.fig .v{font-size:1.4rem;font-weight:600}
.fig .l{font-size:.8rem;color:#555}
.tablewrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 6px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}
.muted{color:#555;font-size:.85rem}
footer{margin-top:2em;font-size:.8rem;color:#444}
td.day{white-space:nowrap}
@media (max-width:600px){
 .wide{display:none}
 table{font-size:.85rem}
 table.days thead{display:none}
 table.days tr{display:flex;flex-wrap:wrap;align-items:baseline;gap:2px 14px;
  border-bottom:1px solid #ddd;padding:6px 0}
 table.days td{border:none;padding:0;text-align:left}
 table.days td[data-label]::before{content:attr(data-label) " ";color:#555;font-size:.75rem}
 table.days td.drivers{flex-basis:100%;color:#333}
}
"""


# ---------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------


def _svg_data_uri(fig) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "forecast-report"}):  # same input, same SVG ids
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    data = base64.b64encode(buf.getvalue().encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{data}"


def _figure() -> tuple[Figure, object]:
    """A figure of :data:`CHART_SIZE` not registered with pyplot (no global state)."""
    fig = Figure(figsize=CHART_SIZE, dpi=100)
    return fig, fig.subplots()


#: Chart size [in] and font size [pt]: drawn for a phone (about 390 px wide, where the
#: SVG is scaled to ~0.6) and still sharp when shown larger on a desktop.
CHART_SIZE = (5.0, 3.3)
CHART_FONT = 11


def _spread(values: list[float], gap: float) -> list[float]:
    """Label positions near ``values`` (sorted ascending) at least ``gap`` apart."""
    out: list[float] = []
    for v in values:
        out.append(v if not out else max(v, out[-1] + gap))
    return out


def outlook_chart(outlook: dict) -> str:
    """Bar chart of expected people per day with the 80 % range, coloured by RAG.

    Returns an SVG ``data:`` URI.
    """
    days = outlook["days"]
    x = np.arange(len(days))
    mean = np.array([d["expected_people"] for d in days])
    lo = np.array([d["q10"] for d in days])
    hi = np.array([d["q90"] for d in days])
    colours = [RAG_COLOURS.get(d["rag"], "#888") for d in days]
    with matplotlib.rc_context({"font.size": CHART_FONT}):
        fig, ax = _figure()
        bars = ax.bar(x, mean, color=colours, width=0.7)
        for bar, d in zip(bars, days, strict=True):
            if d["confidence"] == "lower":
                bar.set_alpha(0.45)
                bar.set_hatch("//")
        ax.vlines(x, lo, hi, color="#222", lw=1.6)
        ax.scatter(x, hi, marker="_", color="#222", s=80)
        ax.scatter(x, lo, marker="_", color="#222", s=80)
        handles = [Patch(color=RAG_COLOURS[k], label=k) for k in ("red", "amber", "green")]
        handles.append(Line2D([], [], color="#222", lw=1.6, label="80 % range"))
        if any("actual_people" in d for d in days):
            act = [d.get("actual_people", np.nan) for d in days]
            ax.scatter(x, act, marker="D", color="#1f4e9e", zorder=3, s=30)
            handles.append(Line2D([], [], marker="D", color="#1f4e9e", ls="none", label="actual"))
        ax.legend(
            handles=handles,
            ncol=len(handles),
            frameon=False,
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            fontsize=CHART_FONT - 1,
            handlelength=1.2,
            columnspacing=1.0,
        )
        step = 1 if len(days) <= 8 else 2  # 16 labels do not fit a phone
        labels = [
            f"{d['weekday']}\n{int(d['date'][8:10])}" if i % step == 0 else ""
            for i, d in enumerate(days)
        ]
        ax.set_xticks(x, labels)
        ax.set_ylabel("people per day")
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        if len(days) > CONFIDENT_DAYS:
            ax.axvline(CONFIDENT_DAYS - 0.5, color="#777", ls=":", lw=1)
            ax.set_xlabel(f"after day {CONFIDENT_DAYS} (hatched): lower confidence")
        top = max(
            float(np.nanmax(hi)) if len(hi) else 0.0,
            float(np.nanmax(mean)) if len(mean) else 0.0,
            1.0,
        )
        ax.set_ylim(0, top * 1.08)
        ax.spines[["top", "right"]].set_visible(False)
        return _svg_data_uri(fig)


def year_chart(outlook: dict, arrivals: pd.DataFrame | None) -> str | None:
    """Cumulative people this year, earlier years for comparison, and year-end bands.

    Returns an SVG ``data:`` URI, or None when there is nothing to draw.
    """
    ye = outlook.get("year_end")
    ytd = outlook["ytd"]
    if arrivals is None or not len(arrivals):
        return None
    year = int(ye["year"]) if ye else int(ytd["year"])
    known_to = pd.Timestamp(ye["known_to"] if ye else ytd["to"])
    x_end = pd.Timestamp(year=year, month=12, day=31).day_of_year
    with matplotlib.rc_context({"font.size": CHART_FONT}):
        fig, ax = _figure()
        ends: list[tuple[float, str, str]] = []
        for y in range(max(arrivals.index[0].year, year - 3), year):
            part = arrivals.loc[str(y), "people"].cumsum()
            if len(part):
                ax.plot(part.index.day_of_year, part.to_numpy(), color="#aaa", lw=1)
                ends.append((float(part.iloc[-1]), str(y), "#777"))
        this = arrivals.loc[pd.Timestamp(year=year, month=1, day=1) : known_to, "people"].cumsum()
        if len(this):
            ax.plot(
                this.index.day_of_year,
                this.to_numpy(),
                color="#1f4e9e",
                lw=2.4,
                label=f"{year} to {known_to.day} {known_to:%b}",
            )
        if ye and ye.get("remaining_days"):
            b = ye["bands"]
            x0 = known_to.day_of_year
            known = ye["known"]
            ax.fill_between(
                [x0, x_end],
                [known, b["low"]],
                [known, b["high"]],
                color="#1f4e9e",
                alpha=0.18,
                label=f"year-end range ({ye['n_years']} past years' weather)",
            )
            ax.plot([x0, x_end], [known, b["median"]], color="#1f4e9e", ls="--", lw=1.4)
            for key, word in (("low", "low"), ("median", "central"), ("high", "high")):
                ends.append((float(b[key]), f"{word} {b[key]:,}", "#1f4e9e"))
        top = max([v for v, _, _ in ends] + [float(this.iloc[-1]) if len(this) else 1.0, 1.0])
        ends.sort()
        ys = _spread([v for v, _, _ in ends], gap=0.055 * top * 1.1)
        for (_, text, colour), y in zip(ends, ys, strict=True):
            ax.text(x_end + 4, y, text, fontsize=CHART_FONT - 2, va="center", color=colour)
        months = pd.date_range(f"{year}-01-01", periods=12, freq="MS")
        ax.set_xticks(months.day_of_year, [m.strftime("%b")[0] for m in months])
        ax.set_xlim(1, x_end + 75)
        ax.set_ylim(0, max(top, ys[-1] if ys else 0) * 1.06)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_ylabel("people since 1 January")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(fontsize=CHART_FONT - 1, frameon=False, loc="lower right")
        return _svg_data_uri(fig)


# ---------------------------------------------------------------------------
# page
# ---------------------------------------------------------------------------


def _e(value) -> str:
    return html.escape(str(value))


def _d(iso: str) -> str:
    """ISO date as '25 Nov' (or '25 Nov 2024' when ``year`` differs from the date's)."""
    ts = pd.Timestamp(iso)
    return f"{ts.day} {ts:%b}"


def _pct(p: float) -> str:
    return f"{p:.0%}"


def _fig(value: str, label: str) -> str:
    return (
        f'<div class="fig"><div class="v">{_e(value)}</div><div class="l">{_e(label)}</div></div>'
    )


def render_html(outlook: dict, arrivals: pd.DataFrame | None = None) -> str:
    """The self-contained HTML page of ``outlook``.

    Parameters
    ----------
    outlook : dict
        From :func:`forecast.products.outlook.build_outlook` (or a saved outlook JSON).
    arrivals : DataFrame, optional
        Known arrivals, for the year-to-date chart.

    Returns
    -------
    str
        HTML text with every image inline (``data:`` URIs), no scripts, no external links
        other than attribution hyperlinks (which the page never loads).
    """
    o = outlook
    thr = o["thresholds"]
    parts: list[str] = []
    title = "Small-boat crossings outlook"
    if o["mode"] == "as_of":
        title += f" — replay as of {o['first_day']}"
    parts.append(f"<h1>{_e(title)}</h1>")
    parts.append(
        f'<p class="muted">Issued {_e(o["issued_utc"][:16].replace("T", " "))} UTC · '
        f"days {_e(o['first_day'])} to {_e(o['last_day'])} · Home Office day D = crossings "
        "in the night D-1 22:00 to D 14:00 UK time</p>"
    )
    for n in o["notices"]:
        cls = "notice old" if n.startswith("OLD DATA") else "notice"
        head, sep, rest = n.partition(". ")
        more = f' <span class="more">{_e(rest)}</span>' if sep else ""
        parts.append(f'<div class="{cls}"><b>{_e(head + sep.strip())}</b>{more}</div>')

    # headline figures
    w = o["week"]
    figs = [
        _fig(f"{w['mean']:,}", f"people expected {_d(w['from'])} – {_d(w['to'])} (7 days)"),
        _fig(f"{w['q10']:,}–{w['q90']:,}", "80 % range for the week"),
        _fig(str(sum(d["rag"] == "red" for d in o["days"][:CONFIDENT_DAYS])), "red days this week"),
        _fig(f"{o['ytd']['people']:,}", f"people in {o['ytd']['year']} up to {_d(o['ytd']['to'])}"),
    ]
    if "actual" in w:
        figs.insert(2, _fig(f"{w['actual']:,}", "actual people that week"))
    if o.get("year_end") and o["year_end"].get("remaining_days"):
        b = o["year_end"]["bands"]
        figs.append(
            _fig(
                f"{b['median']:,}",
                f"year-end {o['year_end']['year']}, central (low {b['low']:,}, high {b['high']:,})",
            )
        )
    parts.append('<section><div class="figs">' + "".join(figs) + "</div></section>")

    # RAG strip
    cells = []
    for d in o["days"]:
        lower = " lower" if d["confidence"] == "lower" else ""
        cells.append(
            f'<div class="cell {d["rag"]}{lower}" title="{_e(d["date"])}">{_e(d["weekday"])} '
            f"{_e(d['date'][8:10])}<b>{_pct(d['p_any'])}</b>{_e(d['rag'])}</div>"
        )
    parts.append("<h2>Red / amber / green</h2>")
    parts.append(
        '<p class="muted">Probability of any crossing (red above 55 %, green below 35 %, the '
        "Home Office convention). Dashed cells: beyond day 7, lower confidence.</p>"
    )
    parts.append('<div class="strip">' + "".join(cells) + "</div>")

    # chart + table
    parts.append("<h2>Daily outlook</h2>")
    parts.append(f'<img alt="Expected people per day with 80 % ranges" src="{outlook_chart(o)}">')
    head = "<thead><tr><th>Day</th><th>RAG</th><th class='n'>P(any)</th><th class='n'>Expected (80 %)</th>"
    head += "".join(f"<th class='n'>P(&gt;{n})</th>" for n in thr)
    head += "<th class='n'>Actual</th>" if o["mode"] == "as_of" else "<th class='n wide'>Boats</th>"
    head += "<th>Drivers</th></tr></thead>"
    rows = []
    for d in o["days"]:
        star = "*" if d["confidence"] == "lower" else ""
        r = (
            f"<tr><td class='day'><b>{_e(d['weekday'])} {_e(d['date'][8:10])}/{_e(d['date'][5:7])}{star}</b></td>"
            f"<td><span class='cell {d['rag']}' style='padding:1px 4px'>{_e(d['rag'])}</span></td>"
            f"<td class='n' data-label='P(any)'>{_pct(d['p_any'])}</td>"
            f"<td class='n' data-label='expected'>{d['expected_people']:.0f} ({d['q10']}–{d['q90']})</td>"
        )
        r += "".join(
            f"<td class='n' data-label='P(&gt;{n})'>{_pct(d[f'p_gt_{n}'])}</td>" for n in thr
        )
        if o["mode"] == "as_of":
            r += f"<td class='n' data-label='actual'>{_e(d.get('actual_people', '?'))}</td>"
        else:
            r += f"<td class='n wide'>{d['expected_boats']:.0f}</td>"
        r += f"<td class='drivers'>{_e(d['drivers'])}</td></tr>"
        rows.append(r)
    parts.append(
        f'<div class="tablewrap"><table class="days">{head}<tbody>{"".join(rows)}</tbody></table></div>'
    )
    if any(d["confidence"] == "lower" for d in o["days"]):
        parts.append(f'<p class="muted">* beyond day {CONFIDENT_DAYS}: lower confidence.</p>')

    # busy nights
    parts.append("<h2>Busy nights</h2>")
    busy = busy_nights_all(o, min_probability=0.2)
    if busy:
        items = "".join(
            f"<li><b>{_e(b['date'])}</b>: P(&gt;{b['threshold']}) {_pct(b['probability'])}, expected "
            f"{b['expected_people']:.0f} ({b['range_80'][0]}–{b['range_80'][1]}) — {_e(b['drivers'])}</li>"
            for b in busy
        )
        parts.append(f"<ul>{items}</ul>")
    else:
        parts.append(
            f"<p>No night with P(more than {thr[0]} people) above 20 % in this outlook.</p>"
        )

    # changes
    if o.get("changes"):
        parts.append("<h2>What changed</h2>")
        parts.append(f"<p>{_e(o['changes']['summary'])}</p>")

    # year
    parts.append("<h2>Year to date and year-end scenarios</h2>")
    chart = year_chart(o, arrivals)
    if chart:
        parts.append(
            f'<img alt="Cumulative arrivals this year and year-end scenario bands" src="{chart}">'
        )
    y = o["ytd"]
    same = ", ".join(f"{k}: {v:,}" for k, v in sorted(y["same_span"].items())[-4:])
    parts.append(
        f"<p>{y['year']} to {_e(y['to'])}: <b>{y['people']:,}</b> people ({y['boats']:,} boats). Same span in earlier years: {_e(same)}.</p>"
    )
    ye = o.get("year_end")
    if ye and ye.get("remaining_days"):
        b = ye["bands"]
        by = ", ".join(f"{k}: {v:,}" for k, v in ye["by_weather_year"].items())
        parts.append(
            f"<p>Year-end {ye['year']}: low <b>{b['low']:,}</b>, central <b>{b['median']:,}</b>, "
            f"high <b>{b['high']:,}</b> people ({ye['known']:,} known to {_e(ye['known_to'])}, the rest "
            f"modelled under each past year's weather). By weather year: {_e(by)}."
            + (f" Actual: <b>{ye['actual']:,}</b>." if "actual" in ye else "")
            + "</p>"
        )
        parts.append(f'<p class="muted">{_e(ye.get("method", ""))}</p>')

    # provenance and skill
    p = o.get("provenance") or {}
    parts.append("<h2>How this was made and how good it is</h2>")
    a = o["arrivals"]
    wthr = o["weather"]
    items = [
        f"Arrivals data up to <b>{_e(a['end_date'])}</b> ({_e(a.get('source', ''))}).",
        f"Weather: {_e(wthr.get('label') or wthr.get('source'))}"
        + (f", run {_e(wthr['run'])}" if wthr.get("run") else "")
        + ".",
        f"Model: {_e(model_text(p))}.",
        f"Backtest skill of this model: {_e(skill_line(o))}.",
        f"How the week's range is computed: {_e(w.get('method', ''))}.",
    ]
    parts.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")

    attrib = "".join(
        f'<li>{_e(x["text"])} (<a href="{_e(x["url"])}">{_e(x["url"])}</a>)</li>'
        for x in o["attribution"]
    )
    parts.append(
        f"<footer><p>Sources and attribution:</p><ul>{attrib}</ul>"
        "<p>Probabilistic forecast from an open model; ranges are 80 % predictive intervals. "
        "Not an official statistic.</p></footer>"
    )
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>"
        f"<body><main>\n{body}\n</main></body></html>\n"
    )


def write_report(
    outlook: dict, arrivals: pd.DataFrame | None = None, out: Path | None = None
) -> Path:
    """Write the page to ``out`` (default ``config.out_dir()/outlook.html``); return the path.

    Written to a temporary file then renamed, so a failure never leaves half a page.
    """
    path = Path(out) if out is not None else config.out_dir() / "outlook.html"
    fileio.check_target(path, "--out")
    return fileio.write_text(path, render_html(outlook, arrivals), "--out")
