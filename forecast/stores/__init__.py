"""Stores and caches: the arrivals store, the weather cache, saved models."""
