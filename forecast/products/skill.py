"""Backtest skill at each lead time, as the outlook, alert and page quote it.

Each outlook day states how well this model has done in backtests **at its own lead
time** and on the kind of weather the outlook used (observed station weather for
replays, one forecast, a dressed forecast or an ensemble): read from experiment 005
(:data:`SKILL_BY_LEAD_FILE`), with the standard backtest's headline as a labelled
fallback (:data:`HEADLINE_FILE`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from forecast import config
from forecast.features.forecast_error import MAX_LEAD

#: Per-lead backtest skill under simulated forecast error (experiment 005), relative
#: to the repository root. Its ``headline_by_lead`` maps lead "1".."16" [days] to the
#: headline scores at that lead (``auc_any``, ``bss_any_vs_climatology_month``,
#: ``crps``, ``coverage_80``, ``reliability_slope_any``, ...), either directly or per
#: weather source (``{"knmi": {"1": {...}}}``); ``headline_by_lead_ensemble`` (optional)
#: the same for a run on ensemble weather, ``headline_by_lead_dressed`` (optional) for a
#: run on a deterministic forecast dressed with its error.
SKILL_BY_LEAD_FILE = Path("experiments") / "005-forecast-error" / "results.json"
#: The standard backtest (perfect prognosis, 1 day ahead): the fallback.
HEADLINE_FILE = Path("experiments") / "001-standard-backtest" / "results.json"

#: Scores kept per lead in the outlook (others in the file are ignored).
SKILL_KEYS = (
    "auc_any",
    "bss_any_vs_climatology_month",
    "brier_any",
    "crps",
    "coverage_80",
    "reliability_slope_any",
    "auc_gt_300",
    "mae",
    "n",
)


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _lead_table(block, weather_source: str) -> tuple[dict[int, dict], str | None]:
    """``{lead: scores}`` from a ``headline_by_lead`` block (flat or per weather source)."""
    if not isinstance(block, dict) or not block:
        return {}, None
    measured_on = None
    if not all(str(k).isdigit() for k in block):  # keyed by weather source
        for key in (weather_source, "knmi"):
            if isinstance(block.get(key), dict):
                measured_on, block = key, block[key]
                break
        else:
            return {}, None
    out = {}
    for k, v in block.items():
        if str(k).isdigit() and isinstance(v, dict):
            scores = {
                key: v[key]
                for key in SKILL_KEYS
                if isinstance(v.get(key), int | float)
                and not isinstance(v.get(key), bool)
                and np.isfinite(v[key])
            }
            if scores:
                out[int(k)] = scores
    return dict(sorted(out.items())), measured_on


def _single_forecast_words(table: dict[int, dict]) -> str:
    """Why one deterministic forecast's chances are over-confident, from the table's slopes."""
    slopes = [
        f"{table[k]['reliability_slope_any']:.2f} at day {k}"
        for k in (2, 5, 7)
        if k in table and "reliability_slope_any" in table[k]
    ]
    text = "; this outlook is fed one deterministic forecast: its chances from day 2 on are over-confident"
    if slopes:
        text += (
            f" (the run fed one forecast, as here: reliability slope of P(any) "
            f"{', '.join(slopes)}; 1 is calibrated)"
        )
    return text


def skill_by_lead(
    weather_source: str,
    ensemble: bool = False,
    root: Path | None = None,
    *,
    dressed: bool = False,
    observed: bool = False,
) -> dict[int, dict]:
    """Backtest skill at each lead time [days] for the outlook's days.

    Read from ``experiments/005-forecast-error/results.json`` (:data:`SKILL_BY_LEAD_FILE`):
    the skill measured with **simulated forecast error** at each lead, or, with
    ``ensemble`` and when the run had it, on simulated ensemble weather; with ``dressed``
    too, on a deterministic forecast dressed with its error (``headline_by_lead_dressed``;
    when the file has no such table, the ensemble's stands in and the basis says so). A
    live outlook on one Open-Meteo forecast (``openmeteo`` without ``ensemble``) gets the
    words that its chances are over-confident from day 2. When that file (or the weather
    source's table) is missing, every lead falls back to the standard backtest's headline
    (perfect prognosis, 1 day ahead), and each entry says so.

    Parameters
    ----------
    weather_source : {"knmi", "openmeteo", "none"}
        The outlook's weather source. Open-Meteo outlooks use the KNMI table (the
        experiment runs on station weather) and say so.
    ensemble : bool
        Prefer the ensemble-weather table (``headline_by_lead_ensemble``).
    root : Path, optional
        Repository root (default ``config.REPO_ROOT``; tests pass a folder).
    dressed : bool
        With ``ensemble``: the members are a dressed deterministic forecast; prefer
        ``headline_by_lead_dressed``.
    observed : bool
        The outlook runs on the observed station weather (a replay without an ensemble:
        perfect prognosis); prefer ``headline_by_lead_perfect``, the same model scored on
        observed weather, so a replay quotes the skill of what it does.

    Returns
    -------
    dict of int to dict
        Lead [days] -> scores (keys of :data:`SKILL_KEYS` present in the file) plus
        ``basis`` (words: what the scores were measured on) and ``fallback`` (bool).
        Empty when nothing is available.
    """
    root = Path(root) if root is not None else config.REPO_ROOT
    data = _read_json(root / SKILL_BY_LEAD_FILE) or {}
    keys = ["headline_by_lead_outlook", "headline_by_lead"]
    if ensemble:
        keys.insert(0, "headline_by_lead_ensemble")
    if ensemble and dressed:
        keys.insert(0, "headline_by_lead_dressed")
    if observed and not ensemble:
        keys.insert(0, "headline_by_lead_perfect")
    for key in keys:
        table, measured_on = _lead_table(data.get(key), weather_source)
        if not table:
            continue
        what = {
            "headline_by_lead_ensemble": "simulated ensemble weather",
            "headline_by_lead_dressed": "simulated forecasts dressed with their simulated "
            "error (as this outlook's members)",
            "headline_by_lead_perfect": "observed KNMI station weather (perfect prognosis, "
            "as this replay: the weather of every day is known)",
        }.get(key)
        if what is None:
            what = (
                "no weather (weather-free model)"
                if measured_on == "none"
                else "observed KNMI station weather with simulated forecast error"
            )
        basis = f"backtest at each lead time on {what} ({SKILL_BY_LEAD_FILE.as_posix()})"
        if dressed and key == "headline_by_lead_ensemble":
            basis += (
                "; the dressed forecast's own skill is not measured there yet "
                "(no headline_by_lead_dressed), so the simulated ensemble's stands in"
            )
        if weather_source == "openmeteo" and measured_on in (None, "knmi"):
            basis += "; measured with station weather, not the Open-Meteo model used here"
        if weather_source == "openmeteo" and not ensemble:
            basis += _single_forecast_words(table if key == "headline_by_lead_outlook" else {})
        return {lead: {**v, "basis": basis, "fallback": False} for lead, v in table.items()}
    head = (_read_json(root / HEADLINE_FILE) or {}).get("headline", {})
    head = head.get(weather_source) or head.get("knmi") if isinstance(head, dict) else None
    if not isinstance(head, dict):
        return {}
    scores = {
        k: head[k]
        for k in SKILL_KEYS
        if isinstance(head.get(k), int | float) and not isinstance(head.get(k), bool)
    }
    if not scores:
        return {}
    basis = (
        f"per-lead skill not available ({SKILL_BY_LEAD_FILE.as_posix()} missing): the "
        "standard backtest's headline, measured 1 day ahead on observed weather (perfect "
        "prognosis), stands in for every lead and flatters the later days"
    )
    return {lead: {**scores, "basis": basis, "fallback": True} for lead in range(1, MAX_LEAD + 1)}


def skill_summary(table: dict[int, dict]) -> dict | None:
    """The per-lead skill table as it is stored in the outlook (JSON keys are text)."""
    if not table:
        return None
    first = next(iter(table.values()))
    leads = {
        str(k): {key: v for key, v in row.items() if key not in ("basis", "fallback")}
        for k, row in table.items()
    }
    return {"basis": first["basis"], "fallback": bool(first["fallback"]), "leads": leads}


def day_skill_text(skill: dict | None) -> str:
    """One day's backtest skill in a few words, e.g. ``'AUC 0.86, Brier skill +0.41'``."""
    if not skill:
        return "not measured"
    bits = []
    if isinstance(skill.get("auc_any"), int | float):
        bits.append(f"AUC {skill['auc_any']:.2f}")
    if isinstance(skill.get("bss_any_vs_climatology_month"), int | float):
        bits.append(f"Brier skill {skill['bss_any_vs_climatology_month']:+.2f}")
    return ", ".join(bits) or "not measured"
