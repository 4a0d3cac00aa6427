"""What leaves the product: the stakeholder report, the plain-words briefing, the Excel workbook and safe CSV/Excel files."""

from core.report.briefing import segment_score_sentence, summary_sentences
from core.report.export import (
           DANGEROUS_PREFIXES,
           EXCEL_MAX_COLS,
           EXCEL_MAX_ROWS,
           LaterColumn,
           neutralise,
           to_csv_bytes,
           to_excel_bytes,
           to_excel_workbook,
           write_csv,
)
from core.report.files import TEMP_PREFIX, atomic_file, refuse_overwriting, same_file, write_atomic, write_problem
from core.report.html import ReportSource, settings_table, stakeholder_report
from core.report.measurement import measurement_report
from core.report.workbook import plan_workbook_sheets

__all__ = ["measurement_report", "DANGEROUS_PREFIXES", "EXCEL_MAX_COLS", "EXCEL_MAX_ROWS", "TEMP_PREFIX", "LaterColumn", "ReportSource", "atomic_file", "neutralise", "plan_workbook_sheets",
           "refuse_overwriting", "same_file", "segment_score_sentence", "settings_table", "stakeholder_report",
           "summary_sentences", "to_csv_bytes", "to_excel_bytes", "to_excel_workbook", "write_atomic", "write_csv",
           "write_problem"]
