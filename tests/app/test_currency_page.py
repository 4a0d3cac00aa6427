"""A currency chosen after the analysis shows on the figures the analysis already made, without rerunning it."""

from __future__ import annotations

from tests.helpers import app, texts, visit


def test_a_currency_chosen_after_the_analysis_reaches_its_summary_without_refitting(fits):
    at = app()  # the Overview analyses the demo portfolio
    fitted = dict(fits)
    assert fitted, "the Overview's analysis fits the models"
    before = [t for t in texts(at.markdown) if t.startswith("The portfolio holds ")]
    assert before and " EUR " not in before[0]
    visit(at, "app_pages/data.py")
    next(t for t in at.text_input if t.label == "Currency shown on money").input("EUR")
    at.run()
    visit(at, "app_pages/home.py")
    after = [t for t in texts(at.markdown) if t.startswith("The portfolio holds ")]
    assert after and " with EUR " in after[0]
    assert after[0].replace("EUR ", "") == before[0]  # the same figures: only how money reads changed
    assert fits == fitted  # a display setting: nothing was fitted again
