"""Whole-process speed and memory, measured beside the notebook's pipeline: run each as python -m benchmarks.NAME."""
