"""Saved models: train once, score every month; drift checks; streaming and Dask scoring."""
