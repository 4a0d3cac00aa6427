"""Saved models: train once, score every month; drift checks; streaming and Dask scoring.

Its public modules are used by name (``from core.serve import bundle``): ``bundle`` (save, check, load,
score with a saved model), ``drift``, ``batch`` (streamed CSV) and ``distributed`` (Dask). None is
imported here, so a command that never scores on Dask never loads it.
"""
