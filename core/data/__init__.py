"""Reading a lender's file and understanding it: bytes -> text table -> checked Portfolio -> prepared features with column roles."""

from core.data.chunk_check import ChunkLayout, layout_of, load_chunk
from core.data.features import (
    RATIOS,
    add_ratios,
    model_features,
    outstanding,
    requested_fields,
    safe_ratio,
    safe_ratio_of,
)
from core.data.labels import file_labels, label_in, lower_first, readable
from core.data.leakage import LEAK_AUC, field_aucs, leakage_screen, single_field_auc
from core.data.numbers import parse_column
from core.data.ordering import row_hashes, stable_argsort, value_order
from core.data.portfolio import Portfolio, load_portfolio, suggest_mapping
from core.data.prepare import ADDED_COLUMNS, Prepared, analysable_rows, prepare, prepare_portfolio
from core.data.read import read_table
from core.data.records import Where, block_records, record_ends, separator_of
from core.data.roles import (
    NO_OUTCOME,
    ColumnRoles,
    Outcome,
    Roles,
    assign,
    canonical_outcome,
    is_protected,
    outcome_columns,
    outcome_values,
    switchable,
)
from core.data.schema import (
    BY_NAME,
    COLLECTION_FIELDS,
    DERIVED_LABELS,
    FIELDS,
    FULLY_RECOVERED,
    NUMERIC_FIELDS,
    OUTCOME,
    SEED_FEATURES,
    SEED_STRATEGIES,
    WRITTEN_OFF,
    label,
)
from core.data.summary import describe, kpis, numeric_values, quality
from core.data.table import PROBLEMS, ROW, FileInfo, Limits, RawTable, open_zip
from core.data.validate import (
    EXACT_DUPLICATE,
    EXACT_DUPLICATE_KEPT,
    MISSING_TOKENS,
    MISSING_WRITTEN,
    REPEATED_ID,
    REPEATED_ID_KEPT,
    Problem,
    ValidationReport,
    check,
    spelling,
)
from core.data.xlsx import sheet_names

__all__ = ["ADDED_COLUMNS", "BY_NAME", "COLLECTION_FIELDS", "ChunkLayout", "ColumnRoles", "DERIVED_LABELS", "EXACT_DUPLICATE", "EXACT_DUPLICATE_KEPT", "FIELDS", "FULLY_RECOVERED", "FileInfo", "LEAK_AUC", "Limits", "MISSING_TOKENS", "MISSING_WRITTEN", "NO_OUTCOME", "NUMERIC_FIELDS", "OUTCOME", "Outcome", "PROBLEMS", "Portfolio", "Prepared", "Problem", "RATIOS", "REPEATED_ID", "REPEATED_ID_KEPT", "ROW", "RawTable", "Roles", "SEED_FEATURES", "SEED_STRATEGIES", "ValidationReport", "WRITTEN_OFF", "Where", "add_ratios", "analysable_rows", "assign", "block_records", "canonical_outcome", "check", "describe", "field_aucs", "file_labels", "is_protected", "kpis", "label", "label_in", "layout_of", "leakage_screen", "load_chunk", "load_portfolio", "lower_first", "model_features", "numeric_values", "open_zip", "outcome_columns", "outcome_values", "outstanding", "parse_column", "prepare", "prepare_portfolio", "quality", "read_table", "readable", "record_ends", "requested_fields", "row_hashes", "separator_of", "safe_ratio", "safe_ratio_of", "sheet_names", "single_field_auc", "spelling", "stable_argsort", "suggest_mapping", "switchable", "value_order"]
