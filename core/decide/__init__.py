"""The decision layer: what each recovery action costs and brings back, and who gets which."""

from core.decide.actions import (
    DEFAULT_ACTIONS,
    NO_ACTION,
    Action,
    actions_frame,
    actions_from_frame,
    expected_values,
    read_actions,
)
from core.decide.annotate import annotate
from core.decide.bands import bands_in_words, crowded_note, share_thresholds, with_bands
from core.decide.exposure import NEEDS_EXPOSURE, has_exposure, planning_refused
from core.decide.history import method_history, wilson
from core.decide.history_effects import (
    HistoryEffects,
    LearnedPlan,
    action_choices,
    action_values,
    check_history,
    history_actions,
    learn_effects,
    plan_values,
    suggest_action_column,
    unvalued_notes,
    wants_learned,
)
from core.decide.learned import LearnedValues, borrower_values, learned_values
from core.decide.measure import MEASUREMENT_MONEY, Measurement, borrowers_needed, measure_plan, measurement_table
from core.decide.measure_file import measure_download, measure_file, measurement_lines, outcome_choices, read_download
from core.decide.optimise import assign, solve, total
from core.decide.plan import (
    RecoveryPlan,
    borrower_actions,
    capacity_frontier,
    expected_loss,
    haircut_table,
    haircuts_from_table,
    make_plan,
    why_chosen,
)
from core.decide.policies import ASSIGNED, POLICIES, by_thresholds, champion_group, compare, frontier
from core.decide.result import RecoveryResult
from core.decide.strategy import assign_strategy, header, select_borrowers, strategy_summary, worklist, worklist_view

__all__ = ["ASSIGNED", "Action", "DEFAULT_ACTIONS", "HistoryEffects", "LearnedPlan", "LearnedValues", "MEASUREMENT_MONEY", "Measurement", "NEEDS_EXPOSURE", "NO_ACTION", "POLICIES", "RecoveryPlan", "RecoveryResult", "action_choices", "action_values", "actions_frame", "actions_from_frame", "annotate", "assign", "assign_strategy", "bands_in_words", "borrower_actions", "borrower_values", "borrowers_needed", "by_thresholds", "capacity_frontier", "champion_group", "check_history", "compare", "crowded_note", "expected_loss", "expected_values", "frontier", "haircut_table", "haircuts_from_table", "has_exposure", "header", "history_actions", "learn_effects", "learned_values", "make_plan", "measure_download", "measure_file", "measure_plan", "measurement_lines", "measurement_table", "method_history", "outcome_choices", "plan_values", "planning_refused", "read_actions", "read_download", "select_borrowers", "share_thresholds", "solve", "strategy_summary", "suggest_action_column", "total", "unvalued_notes", "wants_learned", "why_chosen", "wilson", "with_bands", "worklist", "worklist_view"]
