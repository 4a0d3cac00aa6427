"""Every plotly figure of the app, and nothing else: ``explore`` (the portfolio), ``analysis`` (segments, score,
plan) and ``drift`` (a saved model on a new file). Pages import the module they draw from; the engine below
never imports plotly.
"""
