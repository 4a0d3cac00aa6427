"""The stakeholder report: a self-contained HTML file of what the analysis found and how it was made."""

from core.report.html import ReportSource, stakeholder_report

__all__ = ["ReportSource", "stakeholder_report"]
