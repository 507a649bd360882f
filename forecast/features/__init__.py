"""Inputs and features: tides, sky, hourly inputs, one row per Home Office day."""
