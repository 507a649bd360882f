"""Experiment 005: skill by lead time under simulated forecast error (KNMI, leads 1-16).

Every skill figure of experiments 001-003 is perfect prognosis (the model is fed the
weather that happened). Here the weather of the days after each forecast origin is
replaced by a simulated forecast issued at the origin (``forecast backtest
--weather-error published``: published error sizes, docs/forecast-error.md), and the
runs of ``config.json`` are compared lead by lead:

- ``perfect_prognosis``: observed weather in training and test;
- ``perfect_training_noisy_test``: a model trained on observed weather, fed simulated
  forecasts (what the outlook did before this experiment);
- ``simulated_error``: trained on simulated forecasts at each row's own lead and fed them;
- ``simulated_error_3_draws``: the same with three simulated forecasts per training day;
- ``simulated_ensemble``: trained as ``simulated_error``, fed a simulated ensemble of 10
  members and scored as the mixture over members;
- ``perfect_training_ensemble``: trained on observed weather, fed the simulated ensemble;
- ``perfect_training_dressed``: trained on observed weather, fed the single simulated
  forecast of ``perfect_training_noisy_test`` dressed with its error into 10 members
  (``--dressed-members 10``: what the outlook does without a cached ensemble), scored
  as the mixture over members.

Rolling origin 2023-07-01 .. 2025-06-30 (the period of issue 11's targets), weekly
refits, expanding window, recalibration every 12 refits (as ``make bench``). Every
result except ``perfect_prognosis`` is labelled "simulated forecast error".

Usage::

    OMP_NUM_THREADS=1 /work/main/.venv/bin/python experiments/005-forecast-error/run.py run [RUN ...]
    /work/main/.venv/bin/python experiments/005-forecast-error/run.py report

``run`` writes ``runs/<name>.json`` per run (all scores, by-lead headline, targets, git
SHA, data hashes, seconds); ``report`` gathers them into ``results.json`` (with
``headline_by_lead`` of the headline run, read by the products), ``table.md`` and the
figures. ``run NAME ...`` runs only the named runs (the others' files are kept).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from matplotlib.figure import Figure

from forecast.evaluation.backtest import (
    BacktestSpec,
    data_hashes,
    git_sha,
    json_default,
    run_backtest,
)
from forecast.evaluation.metrics import pit_coverage
from forecast.evaluation.summary import json_document
from forecast.fileio import write_text, write_with
from forecast.sources.knmi import load_knmi
from forecast.stores.arrivals import load_arrivals

HERE = Path(__file__).resolve().parent
CONFIG = json.loads((HERE / "config.json").read_text())
LABEL = "simulated forecast error"


#: Forecasters whose scores a run file keeps (all groups).
KEEP = ("model", "weather_free_model", "climatology_month", "calm_hours_rule")


def slim(doc: dict) -> dict:
    """The run document with the scores of :data:`KEEP` only (files stay small)."""
    return dict(doc, scores={k: v for k, v in doc["scores"].items() if k in KEEP})


def dump(path: Path, doc: dict) -> None:
    write_text(path, json.dumps(doc, indent=1, default=json_default) + "\n", "experiment result")


def run(names: list[str]) -> None:
    arrivals, weather = load_arrivals(), load_knmi()
    (HERE / "runs").mkdir(exist_ok=True)
    for name in names or list(CONFIG["runs"]):
        opts = dict(CONFIG["runs"][name])
        n_jobs = opts.pop("n_jobs", CONFIG["n_jobs"])
        if "lead_bands" in opts:
            opts["lead_bands"] = tuple(tuple(b) for b in opts["lead_bands"])
        spec = BacktestSpec(
            start=CONFIG["start"],
            end=CONFIG["end"],
            horizons=tuple(CONFIG["horizons"]),
            refit_every=CONFIG["refit_every"],
            recalibrate_every=CONFIG["recalibrate_every"],
            n_jobs=n_jobs,
            error_seed=CONFIG["seed"],
            scheduler=os.environ.get("FORECAST_SCHEDULER") or None,
            **opts,
        )
        t0, c0 = time.time(), time.process_time()
        res = run_backtest(arrivals, "knmi", weather, spec, progress=None)
        doc = json_document(res, CONFIG["horizons"], None)
        doc["run"] = name
        doc["options"] = CONFIG["runs"][name]
        doc["seconds"] = {"wall": time.time() - t0, "cpu_main": time.process_time() - c0}
        doc["load_average"] = os.getloadavg()
        dump(HERE / "runs" / f"{name}.json", slim(doc))
        print(f"{name}: {doc['seconds']['wall']:.0f} s, {doc['weather_label']}", flush=True)


KEYS = (
    ("bss_any_vs_climatology_month", "Brier skill P(any) vs monthly climatology"),
    ("crps", "CRPS [people]"),
    ("coverage_80", "80 % interval coverage"),
    ("reliability_slope_any", "reliability slope P(any)"),
)


def coverage_80_pit(run: dict, lead: int, forecaster: str = "model") -> float | None:
    """The randomised PIT's share in [0.1, 0.9] at ``lead`` [d]: the run's
    ``coverage_80_pit``, or (run files written before it existed) the sum of the middle
    8 bins of its ``pit_histogram``."""
    sc = run["scores"].get(forecaster, {}).get(f"h{lead}", {})
    if sc.get("coverage_80_pit") is not None:
        return sc["coverage_80_pit"]
    hist = sc.get("pit_histogram")
    if not hist or any(v is None for v in hist):
        return None
    return pit_coverage(hist, 0.8)


def report() -> None:
    runs = {}
    for name in CONFIG["runs"]:
        path = HERE / "runs" / f"{name}.json"
        if path.exists():
            runs[name] = slim(json.loads(path.read_text()))
            dump(path, runs[name])
    head = runs[CONFIG["headline_run"]]
    results = {
        "label": LABEL,
        "what": "skill by lead time [d] under simulated forecast error (KNMI station weather, "
        "published error sizes), rolling origin " + f"{CONFIG['start']}..{CONFIG['end']}",
        "headline_run": CONFIG["headline_run"],
        "weather_label": head["weather_label"],
        "headline_by_lead": head["headline_by_lead"],
        # what the outlook's own model does under forecast error: trained on observed
        # weather, fed forecasts (and, with --ensemble, the mixture over members)
        "outlook_run": CONFIG["outlook_run"],
        "headline_by_lead_outlook": runs[CONFIG["outlook_run"]]["headline_by_lead"],
        "headline_by_lead_ensemble": runs[CONFIG["outlook_ensemble_run"]]["headline_by_lead"],
        # one forecast dressed with its error into members (the outlook without an ensemble)
        "headline_by_lead_dressed": runs[CONFIG["outlook_dressed_run"]]["headline_by_lead"],
        # observed weather (perfect prognosis): what a replay on the station record does
        "headline_by_lead_perfect": runs[CONFIG["outlook_replay_run"]]["headline_by_lead"],
        "targets": head["targets"],
        "runs": {
            n: {
                "weather_label": r["weather_label"],
                "weather_error": r["weather_error"],
                "options": r["options"],
                "seconds": r["seconds"],
                "headline_by_lead": r["headline_by_lead"],
                "coverage_80_pit_by_lead": {
                    str(k): coverage_80_pit(r, k) for k in CONFIG["horizons"]
                },
                "targets": r["targets"],
                "scores": f"runs/{n}.json",
            }
            for n, r in runs.items()
        },
        "config": CONFIG,
        "git_sha": git_sha(),
        "data_sha256": data_hashes(),
    }
    dump(HERE / "results.json", results)
    # headline table: the headline run, every lead
    hk = (
        "auc_any",
        "bss_any_vs_climatology_month",
        "crps",
        "coverage_80",
        "reliability_slope_any",
        "mae",
    )
    lines = [
        f"**{CONFIG['headline_run']}** ({LABEL}; `headline_by_lead` of results.json)\n",
        "| lead [d] | " + " | ".join(hk) + " | weather-free CRPS |",
        "| --- " * (len(hk) + 2) + "|",
    ]
    for k, v in head["headline_by_lead"].items():
        cells = [v.get(x) for x in hk] + [v.get("crps_weather_free")]
        lines.append(
            f"| {k} | " + " | ".join("" if c is None else f"{c:.3f}" for c in cells) + " |"
        )
    # table: one line per lead, per run the key scores
    names = list(runs)
    for key, title in KEYS:
        lines.append(f"\n**{title}** (model; weather-free model in the last column)\n")
        lines.append("| lead [d] | " + " | ".join(names) + " | weather-free |")
        lines.append("| --- " * (len(names) + 2) + "|")
        for k in CONFIG["horizons"]:
            cells = [runs[n]["headline_by_lead"].get(str(k), {}).get(key) for n in names]
            wf = runs[names[0]]["headline_by_lead"].get(str(k), {})
            wfv = {
                "crps": wf.get("crps_weather_free"),
                "bss_any_vs_climatology_month": wf.get("bss_any_weather_free"),
            }.get(key)
            cells.append(wfv)
            lines.append(
                f"| {k} | " + " | ".join("" if v is None else f"{v:.3f}" for v in cells) + " |"
            )
    lines.append(
        "\n**80 % coverage of the randomised PIT** (its share in [0.1, 0.9], the middle 8 "
        "bins of `pit_histogram`: exactly 0.80 for a calibrated forecast; model; "
        "weather-free model in the last column)\n"
    )
    lines.append("| lead [d] | " + " | ".join(names) + " | weather-free |")
    lines.append("| --- " * (len(names) + 2) + "|")
    for k in CONFIG["horizons"]:
        cells = [coverage_80_pit(runs[n], k) for n in names]
        cells.append(coverage_80_pit(runs[names[0]], k, "weather_free_model"))
        lines.append(
            f"| {k} | " + " | ".join("" if v is None else f"{v:.3f}" for v in cells) + " |"
        )
    lines.append("\n**Targets at leads 1-7 (met / not met)**\n")
    lines.append(
        "| run | coverage 0.75-0.85 | slope 0.85-1.15 | beats weather-free (CRPS) to lead 9 | skill falls with lead |"
    )
    lines.append("| --- | --- | --- | --- | --- |")
    for n, r in runs.items():
        t = r["targets"]
        lines.append(
            f"| {n} | {t['coverage_80']['met']} / {t['coverage_80']['not_met']} | "
            f"{t['reliability_slope_any']['met']} / {t['reliability_slope_any']['not_met']} | "
            f"{t['beats_weather_free']['met']} / {t['beats_weather_free']['not_met']} | "
            f"{t['skill_falls_with_lead']['met']} |"
        )
    write_text(HERE / "table.md", "\n".join(lines) + "\n", "experiment table")
    figure(runs)
    print("\n".join(lines))


def figure(runs: dict) -> None:
    fig = Figure(figsize=(10, 7))
    axes = fig.subplots(2, 2).ravel()
    for ax, (key, title) in zip(axes, KEYS, strict=True):
        for n, r in runs.items():
            by = r["headline_by_lead"]
            ks = sorted(int(k) for k in by)
            ax.plot(ks, [by[str(k)].get(key) for k in ks], marker="o", ms=3, label=n)
        r0 = next(iter(runs.values()))["headline_by_lead"]
        ks = sorted(int(k) for k in r0)
        wf = {"crps": "crps_weather_free", "bss_any_vs_climatology_month": "bss_any_weather_free"}
        if key in wf:
            ax.plot(
                ks,
                [r0[str(k)].get(wf[key]) for k in ks],
                color="grey",
                ls="--",
                label="weather-free model",
            )
        if key == "coverage_80":
            ax.axhspan(0.75, 0.85, color="green", alpha=0.1)
        if key == "reliability_slope_any":
            ax.axhspan(0.85, 1.15, color="green", alpha=0.1)
        ax.axvline(9, color="grey", lw=0.6, ls=":")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("lead time [d]")
    axes[0].legend(fontsize=7)
    fig.suptitle(
        f"Skill by lead, KNMI, {CONFIG['start']}..{CONFIG['end']}: perfect prognosis vs "
        f"{LABEL} (dotted: day 9, published wind skill horizon)",
        fontsize=9,
    )
    fig.tight_layout()
    write_with(
        HERE / "skill_by_lead.png", lambda p: fig.savefig(p, dpi=100, format="png"), "figure"
    )


if __name__ == "__main__":
    stage = sys.argv[1] if len(sys.argv) > 1 else "report"
    if stage == "run":
        run(sys.argv[2:])
    elif stage == "report":
        report()
    else:
        sys.exit(f"unknown stage {stage!r}; use 'run [NAME ...]' or 'report'")
