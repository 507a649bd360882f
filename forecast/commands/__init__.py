"""Sub-commands of ``forecast``: one module each, argument parsing and printing only.

:data:`COMMANDS` lists them with their one-line help, so ``forecast --help`` needs no
command module; :mod:`forecast.cli` imports only the module of the command that runs.
"""

#: Sub-command -> one-line help, in the order ``forecast --help`` shows them.
COMMANDS: dict[str, str] = {
    "outlook": "the weekly outlook: red/amber/green, expected people with ranges, drivers",
    "alert": "busy-night alerts: nights in the next hours likely to exceed N people",
    "report": "write the self-contained HTML page of the outlook",
    "arrivals": "update and summarise the official daily small-boat arrivals",
    "weather": "Open-Meteo marine weather: update the cache, show what is cached",
    "tides": "high/low waters and per-night tide features (offline, TICON-4)",
    "sky": "darkness, twilight and moonlight per night (offline)",
    "backtest": "evaluate the model and the baselines on past data (no future leakage)",
    "model": "train and save the crossing model, or show what a saved model was trained on",
}
