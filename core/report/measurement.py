"""The measurement of a planned month as a self-contained HTML page, for the people who approved the plan."""

from __future__ import annotations

import hashlib
import math
from html import escape

from core import display
from core.decide import MEASUREMENT_MONEY, Measurement, measurement_table
from core.report.html import CSS, _formats, _kpi, _p, _section, _table

SHARES = ("Champion share", "Optimised share", "Share uplift (points)", "Share uplift 95% from", "Share uplift 95% to")


def measurement_report(m: Measurement, name: str, data: bytes, currency: str = "") -> str:
    """One HTML document: the verdict, both groups, the uplift overall and per action, and how it was measured;
    money in the lender's currency."""
    champion, optimised = m.groups
    kind = "Net recovery" if m.net else "Recovery"
    up = m.overall
    kpis = "".join([
        _kpi("Optimised plan: share recovered", display.share(optimised.share), f"{optimised.borrowers:,} borrowers"),
        _kpi("Champion (notebook rule): share recovered", display.share(champion.share),
             f"{champion.borrowers:,} borrowers"),
        _kpi(f"{kind} uplift per borrower", display.priced(up.money, currency),
             f"95% interval {display.priced(up.money_low, currency)} to {display.priced(up.money_high, currency)}"),
    ])
    table = measurement_table(m)
    formats = _formats(table.columns, money=MEASUREMENT_MONEY, shares=SHARES, decimals={"p-value": 3},
                       currency=currency)
    how = [
        "The champion group stayed on the notebook's rule; it was drawn by a hash of the loan ID, not by risk, so "
        "what the two groups repaid differs by what the plan added, and by chance.",
        "Money intervals are Welch's 95% intervals of the difference in means per borrower; share intervals use the "
        "delta method on each group's recovered share of the outstanding."
        + (" Money is net of each action's cost." if m.net else " Money is what borrowers repaid, before costs."),
    ]
    if math.isfinite(m.borrowers_needed):
        how.append(f"The plan expected {display.priced(m.expected_uplift, currency)} more per borrower; detecting that at 80% "
                   f"power (5%, two-sided) takes about {m.borrowers_needed:,.0f} borrowers at this champion share.")
    sections = [
        _section("verdict", "What the month says", _p(m.verdict(currency)), f'<div class="kpis">{kpis}</div>'),
        _section("scopes", "All borrowers, then each action", _table(table, formats)),
        _section("method", "How it was measured", *(_p(line) for line in how),
                 _p(f"File: {name} · SHA-256 {hashlib.sha256(data).hexdigest()}", "small")),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape('Plan measurement — ' + name)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>Plan measurement</h1><p class=\"lead\">{escape(name)} · "
        f"{display.count(champion.borrowers + optimised.borrowers)} borrowers measured</p></header>"
        + "".join(sections) + "</body></html>\n"
    )
