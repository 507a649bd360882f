"""The HTML page: a self-contained report of an outlook.

:func:`render_html` turns an outlook dictionary (:func:`forecast.products.outlook.build_outlook`)
into one HTML file with no external requests: charts are drawn with matplotlib as SVG
and embedded as ``data:`` URIs, CSS is inline, there are no scripts and no web fonts.
The page is responsive (viewport meta, fluid images, tables that wrap) so it reads on a
390 px phone screen; each chart is drawn twice, for a phone and for a desktop column
(``<picture>``), so its lettering is at least 11 px on both.

The page says when its outlook was issued (UTC and UK time) and warns, at the top, when
the outlook is older than :data:`STALE_AFTER_HOURS` or is a replay. Every value put into
the HTML goes through :func:`html.escape`; class names come from fixed lists. Outlooks
read from a file are checked first (:mod:`forecast.products.outlook_schema`).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import StrMethodFormatter
from matplotlib.transforms import ScaledTranslation

from forecast import config, fileio
from forecast.features.night import NIGHT_TEXT
from forecast.products.outlook import (
    CONFIDENT_DAYS,
    busy_nights_all,
    model_text,
    skill_line,
)
from forecast.products.skill import day_skill_text

#: RAG colours, as the strip; also the only class names a RAG value can become.
RAG_COLOURS = {"red": "#c0392b", "amber": "#b7791f", "green": "#2e7d4f"}

#: An outlook issued more than this long before the page is drawn is flagged stale [h].
STALE_AFTER_HOURS = 24

#: A night is "busy" on the chart and in the list when P(people > first threshold)
#: exceeds this (as :func:`forecast.products.outlook.busy_nights_all`).
BUSY_MIN_PROBABILITY = 0.2

#: Viewport width [px] from which the desktop drawing of each chart is shown.
DESKTOP_FROM_PX = 760


@dataclass(frozen=True)
class ChartStyle:
    """How a chart is drawn for one screen.

    Attributes
    ----------
    size : tuple of float
        Figure size [in] (the SVG is cropped to its content).
    font : float
        Smallest lettering [pt].
    shown_px : int
        Width the image is shown at [CSS px]: the content column at 390 px for the phone
        drawing, the full 960 px column for the desktop one (checked in the browser test).
    legend_columns : int
        Legend entries per row.
    """

    size: tuple[float, float]
    font: float
    shown_px: int
    legend_columns: int


#: The two drawings of each chart. A chart's smallest text is ``font * shown_px / width``
#: [px] where ``width`` [pt] is the SVG's: >= 11 px on both (tests/test_report.py).
CHART_VARIANTS = {
    "phone": ChartStyle(size=(4.1, 3.6), font=11.0, shown_px=366, legend_columns=2),
    "desktop": ChartStyle(size=(9.4, 3.4), font=11.0, shown_px=936, legend_columns=7),
}

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
 color:#1b1b1b;background:#fafafa;line-height:1.45}
main{max-width:960px;margin:0 auto;padding:12px}
h1{font-size:1.35rem;margin:.4em 0}
h2{font-size:1.1rem;margin:1.2em 0 .4em;border-bottom:1px solid #ddd;padding-bottom:.2em}
p,li{font-size:.95rem;overflow-wrap:anywhere}
picture,picture img{display:block;width:100%;height:auto}
details.notice,details.warn,div.notice{overflow-wrap:anywhere;padding:.3em .7em;margin:.35em 0;
 font-size:.9rem;border-left:4px solid #e69f00;background:#fff3cd}
.notice.old{background:#fde2e1;border-left-color:#c0392b}
details.warn{background:#8e1b10;border-left-color:#4a0d08;color:#fff}
details.warn.replay{background:#3d2a7a;border-left-color:#1d1240}
details>summary{display:block;cursor:pointer;list-style:none;white-space:nowrap;overflow:hidden;
 text-overflow:ellipsis}
details>summary::-webkit-details-marker{display:none}
details>summary::before{content:"\\25B8  "}
details[open]>summary{white-space:normal}
details[open]>summary::before{content:"\\25BE  "}
details>p{margin:.3em 0 .2em;font-size:.85rem}
.strip{display:grid;grid-template-columns:repeat(auto-fit,minmax(64px,1fr));gap:4px}
.cell{color:#fff;border-radius:4px;padding:4px 2px;text-align:center;font-size:.8rem}
.cell b{display:block;font-size:.95rem}
.cell.lower{opacity:.7;outline:2px dashed #555;outline-offset:-2px}
.red{background:#c0392b}.amber{background:#b7791f}.green{background:#2e7d4f}.none{background:#777}
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


def svg_data_uri(fig: Figure) -> str:
    """``fig`` as an SVG ``data:`` URI (cropped to its content, same input same bytes)."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "forecast-report"}):  # same input, same SVG ids
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    data = base64.b64encode(buf.getvalue().encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{data}"


def _figure(style: ChartStyle) -> tuple[Figure, object]:
    """A figure of ``style.size`` not registered with pyplot (no global state)."""
    fig = Figure(figsize=style.size, dpi=100)
    return fig, fig.subplots()


def _style(variant: str) -> ChartStyle:
    try:
        return CHART_VARIANTS[variant]
    except KeyError:
        raise ValueError(
            f"chart variant {variant!r}: use one of {sorted(CHART_VARIANTS)}"
        ) from None


def _legend_below(ax, fig: Figure, style: ChartStyle, handles: list, rows_above: float) -> None:
    """Legend under the plot, ``rows_above`` text lines below the axis (clear of tick labels)."""
    drop = ScaledTranslation(0, -rows_above * style.font * 1.25 / 72, fig.dpi_scale_trans)
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0, 0),
        bbox_transform=ax.transAxes + drop,
        ncol=min(style.legend_columns, len(handles)),
        frameon=False,
        fontsize=style.font,
        handlelength=1.4,
        columnspacing=1.2,
        borderaxespad=0,
        borderpad=0,
    )


def spread_labels(values: list[float], gap: float, low: float, high: float) -> list[float]:
    """Label positions near ``values`` (sorted ascending), ``gap`` apart, within [low, high].

    Labels move up from their value when they would overlap the one below; if the top
    one passes ``high`` the stack is pushed down from ``high`` instead.
    """
    out: list[float] = []
    for v in values:
        out.append(max(v, low) if not out else max(v, out[-1] + gap))
    if out and out[-1] > high:
        out[-1] = high
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - gap)
    return out


def outlook_figure(outlook: dict, variant: str = "phone") -> Figure:
    """Bar chart of expected people per day with the 80 % range, coloured by RAG.

    Nights with P(people > first threshold) above :data:`BUSY_MIN_PROBABILITY` are
    marked above their range; days beyond :data:`CONFIDENT_DAYS` are hatched.
    """
    style = _style(variant)
    days = outlook["days"]
    thr = outlook["thresholds"][0]
    x = np.arange(len(days))
    mean = np.array([d["expected_people"] for d in days], dtype=float)
    lo = np.array([d["q10"] for d in days], dtype=float)
    hi = np.array([d["q90"] for d in days], dtype=float)
    colours = [RAG_COLOURS.get(d["rag"], "#888") for d in days]
    top = max(
        float(np.nanmax(hi)) if len(hi) else 0.0, float(np.nanmax(mean)) if len(mean) else 0.0, 1.0
    )
    with matplotlib.rc_context({"font.size": style.font}):
        fig, ax = _figure(style)
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
        busy = [i for i, d in enumerate(days) if d.get(f"p_gt_{thr}", 0.0) > BUSY_MIN_PROBABILITY]
        if busy:
            ax.scatter(
                x[busy],
                hi[busy] + 0.06 * top,
                marker="v",
                s=70,
                color="#6a1b9a",
                zorder=4,
                gid="busy-nights",
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="v",
                    color="#6a1b9a",
                    ls="none",
                    markersize=8,
                    label=f"P(> {thr}) above {BUSY_MIN_PROBABILITY:.0%}".replace("%", " %"),
                )
            )
        if any("actual_people" in d for d in days):
            act = [d.get("actual_people", np.nan) for d in days]
            ax.scatter(x, act, marker="D", color="#1f4e9e", zorder=3, s=30)
            handles.append(Line2D([], [], marker="D", color="#1f4e9e", ls="none", label="actual"))
        ax.legend(
            handles=handles,
            ncol=min(len(handles), style.legend_columns),
            frameon=False,
            loc="lower left",
            bbox_to_anchor=(0, 1.02),
            fontsize=style.font,
            handlelength=1.2,
            columnspacing=1.0,
            borderaxespad=0,
            borderpad=0,
        )
        step = 2 if len(days) > 8 and variant == "phone" else 1  # 16 labels do not fit a phone
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
        ax.set_ylim(0, top * 1.12)
        ax.set_xlim(-0.6, len(days) - 0.4)
        ax.spines[["top", "right"]].set_visible(False)
    return fig


def year_figure(
    outlook: dict, arrivals: pd.DataFrame | None, variant: str = "phone"
) -> Figure | None:
    """Cumulative people this year, earlier years for comparison, and year-end bands.

    Each line's year-end total is written at the right of the plot, moved apart where
    totals are close (with a thin leader line to its value); the legend sits below.
    Returns None when there are no arrivals to draw.
    """
    style = _style(variant)
    ye = outlook.get("year_end")
    ytd = outlook["ytd"]
    if arrivals is None or not len(arrivals):
        return None
    year = int(ye["year"]) if ye else int(ytd["year"])
    known_to = pd.Timestamp(ye["known_to"] if ye else ytd["to"])
    x_end = pd.Timestamp(year=year, month=12, day=31).day_of_year
    with matplotlib.rc_context({"font.size": style.font}):
        fig, ax = _figure(style)
        fig.subplots_adjust(right=0.74 if variant == "phone" else 0.86)
        ends: list[tuple[float, str, str]] = []
        handles = []
        for y in range(max(arrivals.index[0].year, year - 3), year):
            part = arrivals.loc[str(y), "people"].cumsum()
            if len(part):
                ax.plot(part.index.day_of_year, part.to_numpy(), color="#999", lw=1)
                ends.append((float(part.iloc[-1]), str(y), "#666"))
        if ends:
            handles.append(Line2D([], [], color="#999", lw=1, label="earlier years"))
        this = arrivals.loc[pd.Timestamp(year=year, month=1, day=1) : known_to, "people"].cumsum()
        if len(this):
            (line,) = ax.plot(
                this.index.day_of_year,
                this.to_numpy(),
                color="#1f4e9e",
                lw=2.4,
                label=f"{year} to {known_to.day} {known_to:%b}",
            )
            handles.insert(0, line)
        if ye and ye.get("remaining_days"):
            b = ye["bands"]
            x0 = known_to.day_of_year
            known = ye["known"]
            handles.append(
                ax.fill_between(
                    [x0, x_end],
                    [known, b["low"]],
                    [known, b["high"]],
                    color="#1f4e9e",
                    alpha=0.18,
                    label="year-end range",
                )
            )
            (central,) = ax.plot(
                [x0, x_end], [known, b["median"]], color="#1f4e9e", ls="--", lw=1.4, label="central"
            )
            handles.append(central)
            for key, word in (("low", "low"), ("median", "central"), ("high", "high")):
                ends.append((float(b[key]), f"{word} {b[key]:,.0f}", "#1f4e9e"))
        top = max([v for v, _, _ in ends] + [float(this.iloc[-1]) if len(this) else 1.0, 1.0])
        ymax = top * 1.08
        ax.set_ylim(0, ymax)
        ax.set_xlim(1, x_end)
        # label gap: one line of text [pt] as a fraction of the plot's height [pt]
        height_pt = style.size[1] * 72 * (fig.subplotpars.top - fig.subplotpars.bottom)
        gap = style.font * 1.3 / height_pt * ymax
        ends.sort()
        ys = spread_labels([v for v, _, _ in ends], gap, gap / 2, ymax - gap / 2)
        for (value, text, colour), y in zip(ends, ys, strict=True):
            ax.annotate(
                text,
                xy=(x_end, value),
                xytext=(1.04, y),
                xycoords="data",
                textcoords=ax.get_yaxis_transform(),
                fontsize=style.font,
                va="center",
                color=colour,
                annotation_clip=False,
                arrowprops={
                    "arrowstyle": "-",
                    "color": colour,
                    "lw": 0.6,
                    "shrinkA": 1,
                    "shrinkB": 0,
                },
            )
        months = pd.date_range(f"{year}-01-01", periods=12, freq="MS")
        names = (
            [m.strftime("%b")[0] for m in months]
            if variant == "phone"
            else [m.strftime("%b") for m in months]
        )
        ax.set_xticks(months.day_of_year, names)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_ylabel("people since 1 January")
        ax.spines[["top", "right"]].set_visible(False)
        _legend_below(ax, fig, style, handles, rows_above=1.9)
    return fig


#: Skill shown against lead time on the page: (key in the per-lead table, legend, colour).
SKILL_LINES = (
    ("auc_any", "AUC, any crossing (0.5 = chance)", "#1f4e9e"),
    ("bss_any_vs_climatology_month", "Brier skill vs monthly average (0 = none)", "#c05a00"),
)


def skill_leads(outlook: dict) -> dict[int, dict]:
    """The outlook's per-lead skill table ``{lead: scores}`` (empty when it has none).

    A fallback table (the 1-day headline standing in for every lead) gives lead 1 only:
    the page does not draw a flat line that was never measured.
    """
    sk = outlook.get("skill_by_lead") or {}
    leads = {int(k): v for k, v in (sk.get("leads") or {}).items() if str(k).isdigit()}
    if sk.get("fallback"):
        leads = {k: v for k, v in leads.items() if k == 1}
    return dict(sorted(leads.items()))


def skill_figure(outlook: dict, variant: str = "phone") -> Figure | None:
    """Backtest skill against lead time [days], with the outlook's days marked.

    Lines of :data:`SKILL_LINES` from the outlook's ``skill_by_lead`` (experiment 005:
    simulated forecast error at each lead); the leads of the outlook's days are shaded.
    Returns None when the outlook carries no per-lead skill.
    """
    style = _style(variant)
    leads = skill_leads(outlook)
    if not leads:
        return None
    x = np.array(list(leads))
    day_leads = [int(d["lead_days"]) for d in outlook["days"] if "lead_days" in d]
    with matplotlib.rc_context({"font.size": style.font}):
        fig, ax = _figure(style)
        handles = []
        values = []
        for key, label, colour in SKILL_LINES:
            y = np.array([leads[k].get(key, np.nan) for k in x], dtype=float)
            if np.isfinite(y).any():
                (line,) = ax.plot(x, y, marker="o", ms=4, lw=1.8, color=colour, label=label)
                handles.append(line)
                values.extend(y[np.isfinite(y)].tolist())
        if not handles:
            return None
        shown = [k for k in day_leads if x.min() - 0.5 <= k <= x.max() + 0.5]
        if shown:
            handles.append(
                ax.axvspan(
                    min(shown) - 0.5,
                    max(shown) + 0.5,
                    color="#999",
                    alpha=0.15,
                    lw=0,
                    label="this outlook's days",
                )
            )
        lo = min(0.0, min(values) - 0.05)
        ax.set_ylim(lo, 1.0)
        ax.axhline(0, color="#777", lw=0.8)
        ax.set_xlim(x.min() - 0.6, max(x.max(), 1) + 0.6)
        step = 1 if len(x) <= 8 or variant == "desktop" else 3
        ax.set_xticks(x[::step])
        ax.set_xlabel("lead time [days after the last arrivals data]")
        ax.set_ylabel("skill")
        ax.spines[["top", "right"]].set_visible(False)
        legend_style = replace(style, legend_columns=1 if variant == "phone" else 3)
        _legend_below(ax, fig, legend_style, handles, rows_above=3.2)
    return fig


def ensemble_html(o: dict) -> list[str]:
    """How the weather members agree, in words (nothing without an ensemble)."""
    ens = o.get("ensemble")
    if not ens:
        return []
    out = [f"<h2>Weather ensemble: {_e(ens.get('label', ''))}</h2>"]
    calm = [
        f"{_e(d['weekday'])} {_e(_d(d['date']))}: {_e(d['calm_members'])} of {_e(d['members'])}"
        for d in o["days"]
        if "calm_members" in d and "members" in d
    ]
    if calm:
        out.append(
            "<p>Members with a calm night (the model's calm-night rule): "
            + "; ".join(calm)
            + ".</p>"
        )
    busy = o["week"].get("p_busy_night") or {}
    if busy:
        words = ", ".join(f"more than {_n(int(n))} people: {_e(_pct(p))}" for n, p in busy.items())
        out.append(
            f"<p>Chance of at least one such night this week, members drawn jointly across "
            f"days: {words}.</p>"
        )
    out.append(f'<p class="muted">{_e(ens.get("method", ""))}.</p>')
    return out


def skill_html(o: dict) -> list[str]:
    """The skill-by-lead chart and what it was measured on (nothing without a table)."""
    sk = o.get("skill_by_lead")
    figures = {v: skill_figure(o, v) for v in CHART_VARIANTS}
    if not sk or any(f is None for f in figures.values()):
        return []
    out = ["<h2>How good each day's forecast is</h2>"]
    out.append(
        _picture(
            "Backtest skill of the forecast against lead time; this outlook's days shaded",
            figures,
        )
    )
    out.append(
        '<p class="muted">Skill at each lead time: '
        f"{_e(sk.get('basis', ''))}. AUC: how often a night with crossings was ranked "
        "above one without (0.5 = chance, 1 = always). Brier skill: how much better the "
        "chance of any crossing was than the monthly average (0 = no better).</p>"
    )
    return out


def _picture(alt: str, figures: dict[str, Figure]) -> str:
    """A ``<picture>``: the desktop drawing from :data:`DESKTOP_FROM_PX`, else the phone one."""
    desktop = svg_data_uri(figures["desktop"])
    phone = svg_data_uri(figures["phone"])
    return (
        f'<picture><source media="(min-width: {DESKTOP_FROM_PX}px)" srcset="{_e(desktop)}">'
        f'<img alt="{_e(alt)}" src="{_e(phone)}"></picture>'
    )


# ---------------------------------------------------------------------------
# page
# ---------------------------------------------------------------------------


def _e(value) -> str:
    """Every value put into the page goes through here (text and attribute values)."""
    return html.escape(str(value), quote=True)


def _n(value: float, fmt: str = ",.0f") -> str:
    """A number formatted with ``fmt`` and escaped."""
    return _e(format(value, fmt))


def _rag_class(rag) -> str:
    """A RAG value as a class name: one of :data:`RAG_COLOURS`, else ``none``."""
    return rag if isinstance(rag, str) and rag in RAG_COLOURS else "none"


def _d(iso: str) -> str:
    """ISO date as '25 Nov'."""
    ts = pd.Timestamp(iso)
    return f"{ts.day} {ts:%b}"


def _pct(p: float) -> str:
    return f"{p:.0%}"


def _fig(value: str, label: str) -> str:
    return (
        f'<div class="fig"><div class="v">{_e(value)}</div><div class="l">{_e(label)}</div></div>'
    )


def issued_text(issued_utc: str) -> tuple[str, str]:
    """The issue time in UTC and in UK time, each labelled.

    Returns
    -------
    (utc, uk) : (str, str)
        E.g. ``("Mon 30 Jun 2025 05:00 UTC", "06:00 UK time, BST")``; the UK text
        carries its own date when it differs from the UTC one.
    """
    ts = pd.Timestamp(issued_utc).tz_convert("UTC")
    uk = ts.tz_convert(ZoneInfo(config.UK_TZ))
    utc_text = f"{ts:%a} {ts.day} {ts:%b %Y %H:%M} UTC"
    day = "" if uk.date() == ts.date() else f"{uk:%a} {uk.day} {uk:%b} "
    return utc_text, f"{day}{uk:%H:%M} UK time, {uk:%Z}"


def _age_text(hours: float) -> str:
    if hours < 48:
        return f"{int(hours)} hours"
    return f"{int(hours // 24)} days"


def page_warnings(outlook: dict, now_utc: dt.datetime | None = None) -> list[dict]:
    """Page-level warnings: a stale outlook, a replay.

    Parameters
    ----------
    outlook : dict
        The outlook drawn.
    now_utc : datetime, optional
        The time the page is drawn (tz-aware; default the clock; ``--now``).

    Returns
    -------
    list of dict
        ``kind`` (``stale``/``replay``), ``headline`` and ``details`` (list of str).
    """
    now = pd.Timestamp(now_utc or dt.datetime.now(dt.UTC))
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    issued = pd.Timestamp(outlook["issued_utc"]).tz_convert("UTC")
    out = []
    hours = (now - issued).total_seconds() / 3600
    if hours > STALE_AFTER_HOURS:
        utc, uk = issued_text(outlook["issued_utc"])
        passed = pd.Timestamp(outlook["last_day"]) < now.tz_convert(
            config.UK_TZ
        ).normalize().tz_localize(None)
        out.append(
            {
                "kind": "stale",
                "headline": f"STALE: this outlook was issued {_age_text(hours)} ago",
                "details": [
                    f"Issued {utc} ({uk}); the page was drawn {now:%Y-%m-%d %H:%M} UTC. Outlooks "
                    f"older than {STALE_AFTER_HOURS} hours are flagged: newer arrivals data "
                    "and weather forecasts may have come out since"
                    + (", and all of its days have passed." if passed else "."),
                    "Run 'forecast report' (without --latest or --outlook) for a fresh outlook.",
                ],
            }
        )
    if outlook["mode"] == "as_of":
        first = pd.Timestamp(outlook["first_day"])
        folded = [n for n in outlook["notices"] if n.startswith("REPLAY")]
        out.append(
            {
                "kind": "replay",
                "headline": f"REPLAY of {first.day} {first:%b %Y}: not a forecast of the coming days",
                "details": folded
                or [
                    "The outlook as it would have been issued then, from the data known then; "
                    "'actual' shows what happened."
                ],
            }
        )
    return out


def _banner(cls: str, headline: str, details: list[str]) -> str:
    """One line (``headline``, bold) with the details behind ``<details>``."""
    if not details:
        return f'<div class="{cls}"><b>{_e(headline)}</b></div>'
    body = "".join(f"<p>{_e(x)}</p>" for x in details)
    return f'<details class="{cls}"><summary><b>{_e(headline)}</b></summary>{body}</details>'


def _notice(text: str) -> str:
    """A notice as one line, its first sentence (``OLD DATA: ...``); the rest behind a click."""
    cls = "notice old" if text.startswith("OLD DATA") else "notice"
    headline, sep, more = text.partition(". ")
    return _banner(cls, headline + ("." if sep else ""), [more] if more else [])


def render_html(
    outlook: dict, arrivals: pd.DataFrame | None = None, now_utc: dt.datetime | None = None
) -> str:
    """The self-contained HTML page of ``outlook``.

    Parameters
    ----------
    outlook : dict
        From :func:`forecast.products.outlook.build_outlook`, or a saved outlook JSON
        checked with :func:`forecast.products.outlook_schema.validate_outlook`.
    arrivals : DataFrame, optional
        Known arrivals, for the year-to-date chart.
    now_utc : datetime, optional
        When the page is drawn (default the clock), to flag a stale outlook.

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
    utc, uk = issued_text(o["issued_utc"])
    parts.append(
        f'<p class="muted">Issued <b>{_e(utc)}</b> ({_e(uk)}) · days {_e(_d(o["first_day"]))} '
        f"to {_e(_d(o['last_day']))} · Home Office day D = crossings in {_e(NIGHT_TEXT)}</p>"
    )
    page_warnings_ = page_warnings(o, now_utc)
    for w_ in page_warnings_:
        parts.append(_banner(f"warn {w_['kind']}", w_["headline"], w_["details"]))
    folded = o["mode"] == "as_of"
    for n in o["notices"]:
        if not (folded and n.startswith("REPLAY")):
            parts.append(_notice(n))

    # headline figures
    w = o["week"]
    figs = [
        _fig(f"{w['mean']:,.0f}", f"people expected {_d(w['from'])} – {_d(w['to'])} (7 days)"),
        _fig(f"{w['q10']:,.0f}–{w['q90']:,.0f}", "80 % range for the week"),
        _fig(str(sum(d["rag"] == "red" for d in o["days"][:CONFIDENT_DAYS])), "red days this week"),
        _fig(
            f"{o['ytd']['people']:,.0f}", f"people in {o['ytd']['year']} up to {_d(o['ytd']['to'])}"
        ),
    ]
    if "actual" in w:
        figs.insert(2, _fig(f"{w['actual']:,.0f}", "actual people that week"))
    ye = o.get("year_end")
    if ye and ye.get("remaining_days"):
        b = ye["bands"]
        figs.append(
            _fig(
                f"{b['median']:,.0f}",
                f"year-end {ye['year']}, central (low {b['low']:,.0f}, high {b['high']:,.0f})",
            )
        )
    parts.append('<section><div class="figs">' + "".join(figs) + "</div></section>")

    # RAG strip
    cells = []
    for d in o["days"]:
        lower = " lower" if d["confidence"] == "lower" else ""
        cells.append(
            f'<div class="cell {_rag_class(d["rag"])}{lower}" title="{_e(d["date"])}">'
            f"{_e(d['weekday'])} {_e(d['date'][8:10])}<b>{_e(_pct(d['p_any']))}</b>{_e(d['rag'])}</div>"
        )
    parts.append("<h2>Red / amber / green</h2>")
    dashed = any(d["confidence"] == "lower" for d in o["days"])
    parts.append(
        '<p class="muted">Probability of any crossing (red above 55 %, green below 35 %, the '
        "Home Office convention)."
        + (f" Dashed cells: beyond day {CONFIDENT_DAYS}, lower confidence." if dashed else "")
        + "</p>"
    )
    parts.append('<div class="strip">' + "".join(cells) + "</div>")

    # chart + table
    parts.append("<h2>Daily outlook</h2>")
    parts.append(
        _picture(
            f"Expected people per day with 80 % ranges; busy nights (P(> {thr[0]}) above "
            f"{BUSY_MIN_PROBABILITY:.0%}) marked",
            {v: outlook_figure(o, v) for v in CHART_VARIANTS},
        )
    )
    head = "<thead><tr><th>Day</th><th>RAG</th><th class='n'>P(any)</th><th class='n'>People: median (80 %)</th><th class='n'>Mean</th>"
    head += "".join(f"<th class='n'>P(&gt;{_e(n)})</th>" for n in thr)
    head += "<th class='n'>Actual</th>" if o["mode"] == "as_of" else "<th class='n wide'>Boats</th>"
    with_skill = any("skill" in d for d in o["days"])
    head += "<th class='n'>Skill at lead</th>" if with_skill else ""
    head += "<th>Drivers</th></tr></thead>"
    rows = []
    for d in o["days"]:
        star = "*" if d["confidence"] == "lower" else ""
        median = f"{d['q50']:.0f} ({d['q10']:.0f}–{d['q90']:.0f})"
        r = (
            f"<tr><td class='day'><b>{_e(d['weekday'])} {_e(d['date'][8:10])}/{_e(d['date'][5:7])}{star}</b></td>"
            f"<td><span class='cell {_rag_class(d['rag'])}' style='padding:1px 4px'>{_e(d['rag'])}</span></td>"
            f"<td class='n' data-label='P(any)'>{_e(_pct(d['p_any']))}</td>"
            f"<td class='n' data-label='median (80 %)'>{_e(median)}</td>"
            f"<td class='n' data-label='mean'>{_n(d['expected_people'], '.0f')}</td>"
        )
        r += "".join(
            f"<td class='n' data-label='P(&gt;{_e(n)})'>{_e(_pct(d[f'p_gt_{n}']))}</td>"
            for n in thr
        )
        if o["mode"] == "as_of":
            r += f"<td class='n' data-label='actual'>{_e(d.get('actual_people', '?'))}</td>"
        else:
            r += f"<td class='n wide'>{_n(d['expected_boats'], '.0f')}</td>"
        if with_skill:
            r += f"<td class='n' data-label='skill'>{_e(day_skill_text(d.get('skill')))}</td>"
        r += f"<td class='drivers'>{_e(d['drivers'])}</td></tr>"
        rows.append(r)
    parts.append(
        f'<div class="tablewrap"><table class="days">{head}<tbody>{"".join(rows)}</tbody></table></div>'
    )
    if dashed:
        parts.append(f'<p class="muted">* beyond day {CONFIDENT_DAYS}: lower confidence.</p>')
    parts.extend(ensemble_html(o))
    parts.extend(skill_html(o))

    # busy nights
    parts.append("<h2>Busy nights</h2>")
    busy = busy_nights_all(o, min_probability=BUSY_MIN_PROBABILITY)
    if busy:
        items = "".join(
            f"<li><b>{_e(b['date'])}</b>: P(&gt;{_e(b['threshold'])}) {_e(_pct(b['probability']))}, "
            f"expected {_n(b['expected_people'], '.0f')} "
            f"({_n(b['range_80'][0], '.0f')}–{_n(b['range_80'][1], '.0f')}) — {_e(b['drivers'])}</li>"
            for b in busy
        )
        parts.append(f"<ul>{items}</ul>")
    else:
        parts.append(
            f"<p>No night with P(more than {_e(thr[0])} people) above "
            f"{_e(_pct(BUSY_MIN_PROBABILITY))} in this outlook.</p>"
        )

    # changes
    if o.get("changes"):
        parts.append("<h2>What changed</h2>")
        parts.append(f"<p>{_e(o['changes']['summary'])}</p>")

    # year
    parts.append("<h2>Year to date and year-end scenarios</h2>")
    year_figs = {v: year_figure(o, arrivals, v) for v in CHART_VARIANTS}
    if all(f is not None for f in year_figs.values()):
        parts.append(
            _picture("Cumulative arrivals this year and year-end scenario bands", year_figs)
        )
    y = o["ytd"]
    same = ", ".join(f"{k}: {v:,.0f}" for k, v in sorted(y["same_span"].items())[-4:])
    parts.append(
        f"<p>{_e(y['year'])} to {_e(y['to'])}: <b>{_n(y['people'])}</b> people "
        f"({_n(y['boats'])} boats). Same span in earlier years: {_e(same)}.</p>"
    )
    if ye and ye.get("remaining_days"):
        b = ye["bands"]
        by = ", ".join(f"{k}: {v:,.0f}" for k, v in ye["by_weather_year"].items())
        actual = f" Actual: <b>{_n(ye['actual'])}</b>." if "actual" in ye else ""
        parts.append(
            f"<p>Year-end {_e(ye['year'])}: low <b>{_n(b['low'])}</b>, central "
            f"<b>{_n(b['median'])}</b>, high <b>{_n(b['high'])}</b> people "
            f"({_n(ye['known'])} known to {_e(ye['known_to'])}, the rest modelled "
            f"under each past year's weather). By weather year: {_e(by)}.{actual}</p>"
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
        if str(x.get("url", "")).startswith(("https://", "http://"))
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
    outlook: dict,
    arrivals: pd.DataFrame | None = None,
    out: Path | None = None,
    now_utc: dt.datetime | None = None,
) -> Path:
    """Write the page to ``out`` (default ``config.out_dir()/outlook.html``); return the path.

    Written to a temporary file then renamed (:mod:`forecast.fileio`), so a failure never
    leaves half a page or a temporary file.

    Raises
    ------
    ConfigError
        If ``out`` is a folder or special file, lies under a file, or cannot be written.
    """
    path = Path(out) if out is not None else config.out_dir() / "outlook.html"
    fileio.check_target(path, "--out")
    text = render_html(outlook, arrivals, now_utc)
    return fileio.write_text(path, text, "--out")
