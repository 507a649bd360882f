"""Channel crossing forecaster.

Turns marine weather, tides and darkness into "red day" features and, with a
regression model trained on the official Home Office daily arrivals series,
predicts how many people are likely to cross the English Channel each day.

Data flows one way: ``sources`` -> ``features`` -> ``model`` -> ``backtest`` /
``outlook`` -> ``report``.
"""

__version__ = "0.1.0"
