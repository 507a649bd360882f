"""Evaluation: rolling-origin backtests, baselines, proper scores."""
