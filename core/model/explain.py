"""Why the model scores as it does, in the fields the user knows.

A borrower's reason is a field whose replacement by the portfolio's typical value moves their
score the most. The ratios built from a field move with it (setting the EMI to its typical
value changes EMI-to-income too), so a reason never credits a ratio against its own input.
For the additive model the change is read exactly off its per-field effect curves, in one
vectorised pass; other models are asked again with the field replaced.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.data import RATIOS, label, safe_ratio, safe_ratio_of
from core.model import wording
from core.model.metrics import roc_auc
from core.model.risk import AdditiveBoostingClassifier, OutOfFold, decision, run_in_workers
from core.model.wording import TYPICAL  # noqa: F401 - the words for 'no reason', re-exported

TOP_REASONS = 3
# A field that moves the score by less than this (half a percentage point) is not a reason.
MIN_EFFECT = 0.005
# Permutation importance is estimated on at most this many held-out borrowers per fold.
IMPORTANCE_ROWS_PER_FOLD = 2000
# Rows per batch when a model is asked again with fields replaced (bounds memory).
_BATCH_ROWS = 20_000
# Rows of a fold explained and picked together (bounds memory; each block costs a few dozen ms more).
EXPLAIN_BLOCK_ROWS = 50_000
# Borrowers whose reasons are written together (bounds the memory the words take while written).
REASON_BLOCK_ROWS = 100_000
# Borrowers whose reasons a download writes together: a few blocks are in hand at once, each holding
# a few times its words while they are written.
LATER_BLOCK_ROWS = 25_000


@dataclass(frozen=True)
class FieldGroup:
    """A field the user knows and the model inputs that move when it changes."""

    field: str
    columns: tuple[str, ...]
    ratios: tuple[str, ...]


def field_groups(columns: list[str], frame: pd.DataFrame) -> list[FieldGroup]:
    """One group per user field: the field itself if it is an input, plus the ratios it feeds."""
    used_ratios = [c for c in columns if c in RATIOS]
    fields = [c for c in columns if c not in RATIOS]
    for ratio in used_ratios:
        fields += [f for f in RATIOS[ratio] if f in frame.columns and f not in fields]
    groups = []
    for name in fields:
        ratios = tuple(r for r in used_ratios if name in RATIOS[r])
        own = (name,) if name in columns else ()
        groups.append(FieldGroup(name, own + ratios, ratios))
    return groups


def typical_row(frame: pd.DataFrame, fields: list[str]) -> dict:
    """Median of each numeric field and most common value of each categorical one."""
    typical = {}
    for column in fields:
        values = frame[column].dropna()
        if values.empty:
            typical[column] = np.nan
        elif pd.api.types.is_numeric_dtype(values):
            typical[column] = float(values.median())
        else:
            typical[column] = values.mode().sort_values().iloc[0]
    return typical


def replaced(frame: pd.DataFrame, group: FieldGroup, values) -> dict[str, object]:
    """The group's model inputs after its field takes ``values`` (ratios recomputed)."""
    out: dict[str, object] = {}
    if group.field in group.columns:
        out[group.field] = values
    for ratio in group.ratios:
        top, bottom = RATIOS[ratio]
        quick = _float_parts(frame, (top, bottom), group.field, values)
        if quick is not None:
            out[ratio] = safe_ratio_of(quick[top], quick[bottom])
            continue
        parts = {top: frame[top], bottom: frame[bottom]}
        parts[group.field] = pd.Series(values, index=frame.index, dtype="float64") \
            if np.ndim(values) else pd.Series(float(values), index=frame.index)
        out[ratio] = safe_ratio(parts[top], parts[bottom]).to_numpy()
    return out


def _float_parts(frame: pd.DataFrame, names: tuple[str, str], field: str, values) -> dict | None:
    """A ratio's two parts as float64 numbers, ``field`` taking ``values`` (None: not all plain float64)."""
    parts: dict = {}
    for name in names:
        if name == field:
            plain = isinstance(values, (float, np.floating)) or (
                isinstance(values, np.ndarray) and values.dtype == np.float64)
            part = float(values) if np.ndim(values) == 0 and plain else values
        else:
            part = frame[name].to_numpy() if frame[name].dtype == np.float64 else None
            plain = part is not None
        if not plain:
            return None
        parts[name] = part
    return parts


class Explainer:
    """Asks one fold model what it would say if a field took other values."""

    def __init__(self, model, columns: list[str]):
        self.model, self.columns = model, columns

    def changes(
        self, frame: pd.DataFrame, groups: list[FieldGroup], new_values: list,
        places: np.ndarray | None = None, contributions: dict[str, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The decision per row, and how much it falls when each group's field takes its new values.

        ``places``: the additive model's all_places of these rows when already read (scoring
        read them), so each row's curve places are looked up once; ``contributions``: what
        contributions() read off them, when scoring read that too.
        """
        model, n = self.model, len(frame)
        if not isinstance(model, AdditiveBoostingClassifier):
            return _asked_again(model, frame, self.columns, groups, new_values)
        if contributions is not None:
            own = contributions
        elif places is None:
            own = {c: model.contribution(c, frame[c].to_numpy()) for c in self.columns}
        else:
            own = model.contributions(places)
        base = model.base_ + np.sum([own[c] for c in self.columns], axis=0)
        # a group's drops are written as one row of memory, then turned once: written as a column of
        # the borrowers × groups table, each value would land on its own cache line
        drops = np.empty((len(groups), n))
        for g, (group, values) in enumerate(zip(groups, new_values)):
            after = replaced(frame, group, values)
            drops[g] = sum(own[c] - np.broadcast_to(model.contribution(c, after[c]), n)
                           for c in group.columns)
        return base, np.ascontiguousarray(drops.T)


def _asked_again(
    model, frame: pd.DataFrame, columns: list[str], groups: list[FieldGroup], new_values: list
) -> tuple[np.ndarray, np.ndarray]:
    """Decision changes for any model: one stacked prediction per batch of rows."""
    base = np.empty(len(frame))
    drops = np.empty((len(frame), len(groups)))
    for start in range(0, len(frame), _BATCH_ROWS):
        part = frame.iloc[start:start + _BATCH_ROWS]
        chunk = slice(start, start + len(part))
        variants = [part[columns]]
        for group, values in zip(groups, new_values):
            v = values[chunk] if np.ndim(values) else values
            variants.append(part[columns].assign(**replaced(part, group, v)))
        d = decision(model, pd.concat(variants, ignore_index=True)).reshape(len(variants), len(part))
        base[chunk] = d[0]
        drops[chunk] = (d[0] - d[1:]).T
    return base, drops


def reason_effects(
    run: OutOfFold, explainers: list[Explainer], frame: pd.DataFrame, groups: list[FieldGroup],
    positions: np.ndarray | None = None,
) -> np.ndarray:
    """Per borrower and field: how much the score falls when the field takes its typical value.

    Each borrower is explained by the fold model (and calibration) that scored them. Borrowers
    without an outcome were scored by the mean of the fold models, so theirs is that mean's.
    ``positions``: the row of ``frame`` that each of the run's rows is (frame's own order when None);
    the result is in frame's order.
    """
    typical = typical_row(frame, [g.field for g in groups])
    values = [typical[g.field] for g in groups]
    effects = np.zeros((len(frame), len(groups)))
    unknown = np.flatnonzero(run.fold < 0)
    places = run.places or (None,) * len(explainers)
    at = np.arange(len(frame)) if positions is None else positions

    def fold_drops(f: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Fold f's own rows explained, and its share of the unknown rows' mean."""
        explainer, calibration, rows = explainers[f], run.calibrations[f], run.test_rows[f]
        own = _score_drops_by_block(explainer, calibration, frame, at[rows], groups, values, places[f])
        if not len(unknown):
            return own, None
        return own, _score_drops_by_block(explainer, calibration, frame, at[unknown], groups, values)

    # folds are independent: both cores share them; the unknown rows' mean is summed in fold order
    for f, (own, shared) in enumerate(run_in_workers([lambda f=f: fold_drops(f) for f in range(len(explainers))])):
        effects[at[run.test_rows[f]]] = own
        if shared is not None:
            effects[at[unknown]] += shared / len(explainers)
    return effects


def _score_drops_by_block(explainer: Explainer, calibration, frame: pd.DataFrame, rows: np.ndarray, groups, values,
                          places: np.ndarray | None = None) -> np.ndarray:
    """_score_drops of ``frame``'s ``rows``, _BATCH_ROWS at a time (each row's drops are its own).

    A fold's every row at once holds several borrowers × fields tables of temporaries (0.3 GB on a
    million borrowers with two folds at a time); a block's are a few MB.
    """
    drops = np.empty((len(rows), len(groups)))
    for start in range(0, len(rows), _BATCH_ROWS):
        block = slice(start, start + _BATCH_ROWS)
        drops[block] = _score_drops(explainer, calibration, frame.iloc[rows[block]], groups, values,
                                    None if places is None else places[block])
    return drops


def _score_drops(explainer: Explainer, calibration, frame, groups, values, places=None) -> np.ndarray:
    """Score minus the score with each field at its typical value."""
    d, drops = explainer.changes(frame, groups, values, places)
    return calibration.falls(d, drops)  # one borrowers × fields table, not four


def held_out_importance(
    run: OutOfFold, explainers: list[Explainer], frame: pd.DataFrame, y: np.ndarray,
    groups: list[FieldGroup], random_state: int, repeats: int = 3, positions: np.ndarray | None = None,
) -> pd.DataFrame:
    """Drop in ROC-AUC when each field is shuffled (its ratios with it), on each fold's held-out rows.

    ``y`` is in the run's order; ``positions``: the row of ``frame`` that each of the run's rows is
    (frame's own order when None).
    """
    at = np.arange(len(frame)) if positions is None else positions
    rng = np.random.default_rng(random_state)
    # every random draw first, in the order one fold after another would make them (a permutation
    # of n positions shuffles n values alike), so the folds can then run on both cores
    draws = []
    for rows in run.test_rows:
        if len(rows) > IMPORTANCE_ROWS_PER_FOLD:
            rows = np.sort(rng.choice(rows, IMPORTANCE_ROWS_PER_FOLD, replace=False))
        draws.append((rows, [[rng.permutation(len(rows)) for _ in groups] for _ in range(repeats)]))

    def fold_drops(explainer: Explainer, rows: np.ndarray, orders: list[list[np.ndarray]]) -> np.ndarray:
        """Mean drop in ROC-AUC per field over the repeats, on one fold's held-out rows."""
        part, truth = frame.iloc[at[rows]], y[rows].astype(int)
        drops = np.zeros(len(groups))
        for order in orders:
            shuffled = [part[g.field].to_numpy()[o] for g, o in zip(groups, order)]
            d, change = explainer.changes(part, groups, shuffled)
            full = roc_auc(truth, d)
            drops += [full - roc_auc(truth, d - change[:, g]) for g in range(len(groups))]
        return drops / repeats

    per_fold = run_in_workers([lambda e=e, r=r, o=o: fold_drops(e, r, o) for e, (r, o) in zip(explainers, draws)])
    values = np.array(per_fold)
    table = pd.DataFrame(
        {
            "field": [g.field for g in groups],
            "label": [label(g.field) for g in groups],
            "importance": values.mean(axis=0),
            "fold_std": values.std(axis=0),
        }
    )
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class ReasonPicks:
    """Per borrower, the fields that raise and that lower the score most (-1: none).

    Texts are written when first asked for and kept: moving a threshold only writes the
    reasons of borrowers whose flag changed to a side not yet written for them.
    """

    up: np.ndarray
    down: np.ndarray
    groups: tuple[FieldGroup, ...]
    written: dict = field(default_factory=dict, compare=False, repr=False)


def pick_reasons(effects: np.ndarray, groups: list[FieldGroup]) -> ReasonPicks:
    """The top fields in each direction whose effect is at least MIN_EFFECT."""
    k = min(TOP_REASONS, effects.shape[1])
    up = np.empty((len(effects), k), dtype=np.int16)
    down = np.empty((len(effects), k), dtype=np.int16)
    # block by block: a row's picks are its own, and a million borrowers' sort order is not held at once
    for start in range(0, len(effects), REASON_BLOCK_ROWS):
        block = effects[start:start + REASON_BLOCK_ROWS]
        up[start:start + len(block)], down[start:start + len(block)] = _picks(block, k)
    return ReasonPicks(up=up, down=down, groups=tuple(groups))


def _picks(effects: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's top ``k`` fields raising and lowering the score by at least MIN_EFFECT (-1: none).

    The fields are in the order one stable sort of each row gives: equal effects leftmost first
    among the rises, rightmost first among the falls.
    """
    if np.isnan(effects).any():
        return _picks_sorted(effects, k)  # where a sort puts NaN among the picks is the sort's own rule
    # a quicker sort that may order equal effects either way; rows where that could change a pick are sorted again
    order = np.argsort(-effects, axis=1)
    n, m = effects.shape
    head = order[:, :k + 1]  # the rises, and the next field (does it tie with the last rise?)
    tail = order[:, max(m - k - 1, 0):][:, ::-1]  # the falls, strongest first, and the one before them
    starts = (np.arange(n) * m)[:, None]  # a flat look-up: take_along_axis builds its index far slower
    highest, lowest = effects.ravel()[head + starts], effects.ravel()[tail + starts]
    up = np.where(highest[:, :k] >= MIN_EFFECT, head[:, :k], -1).astype(np.int16)
    down = np.where(lowest[:, :k] <= -MIN_EFFECT, tail[:, :k], -1).astype(np.int16)
    tied = np.zeros(n, dtype=bool)
    for j in range(highest.shape[1] - 1):  # a tie counts where its effect is a reason: others are never picked
        tied |= (highest[:, j + 1] == highest[:, j]) & (highest[:, j + 1] >= MIN_EFFECT)
        tied |= (lowest[:, j + 1] == lowest[:, j]) & (lowest[:, j + 1] <= -MIN_EFFECT)
    if tied.any():
        up[tied], down[tied] = _picks_sorted(effects[tied], k)
    return up, down


def _picks_sorted(effects: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """_picks by one stable sort of each row (the rule _picks keeps to, and its way with NaN)."""
    # one sort serves both directions: the strongest rises first, the strongest falls last
    order = np.argsort(-effects, axis=1, kind="stable")
    rises, falls = order[:, :k], order[:, ::-1][:, :k]
    up = np.where(np.take_along_axis(effects, rises, axis=1) >= MIN_EFFECT, rises, -1)
    down = np.where(np.take_along_axis(-effects, falls, axis=1) >= MIN_EFFECT, falls, -1)
    return up.astype(np.int16), down.astype(np.int16)


def reason_picks(
    run: OutOfFold, explainers: list[Explainer], frame: pd.DataFrame, groups: list[FieldGroup],
    positions: np.ndarray | None = None,
) -> ReasonPicks:
    """pick_reasons(reason_effects(...)), picked a block of each fold at a time.

    The borrowers × fields effects are never held whole (0.1 GB a million borrowers, and as much
    again while sorted): each block's effects are picked as they are worked out. Borrowers without
    an outcome are picked on the mean over the folds, as in reason_effects. ``positions`` as there.
    """
    typical = typical_row(frame, [g.field for g in groups])
    values = [typical[g.field] for g in groups]
    k = min(TOP_REASONS, len(groups))
    unknown = np.flatnonzero(run.fold < 0)
    places = run.places or (None,) * len(explainers)
    at = np.arange(len(frame)) if positions is None else positions

    def fold_picks(f: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Fold f's own rows' picks, and its share of the unknown rows' mean effects."""
        explainer, calibration, rows = explainers[f], run.calibrations[f], run.test_rows[f]
        up, down = np.empty((len(rows), k), dtype=np.int16), np.empty((len(rows), k), dtype=np.int16)
        for start in range(0, len(rows), EXPLAIN_BLOCK_ROWS):
            block = slice(start, start + EXPLAIN_BLOCK_ROWS)
            effects = _score_drops(explainer, calibration, frame.iloc[at[rows[block]]], groups, values,
                                   None if places[f] is None else places[f][block])
            up[block], down[block] = _picks(effects, k)
        shared = _score_drops_by_block(explainer, calibration, frame, at[unknown], groups, values) if len(unknown) else None
        return up, down, shared

    up, down = np.empty((len(frame), k), dtype=np.int16), np.empty((len(frame), k), dtype=np.int16)
    mean = np.zeros((len(unknown), len(groups)))
    # folds are independent: both cores share them; the unknown rows' mean is summed in fold order
    for f, (own_up, own_down, shared) in enumerate(
            run_in_workers([lambda f=f: fold_picks(f) for f in range(len(explainers))])):
        up[at[run.test_rows[f]]], down[at[run.test_rows[f]]] = own_up, own_down
        if shared is not None:
            mean += shared / len(explainers)
    if len(unknown):
        up[at[unknown]], down[at[unknown]] = _picks(mean, k)
    return ReasonPicks(up=up, down=down, groups=tuple(groups))


def reasons(
    frame: pd.DataFrame, picks: ReasonPicks, flagged: np.ndarray,
    reference: dict[str, np.ndarray] | None = None,
) -> pd.api.extensions.ExtensionArray:
    """Top reasons per borrower in words, joined with '; ' (a text column, row for row).

    A flagged borrower is explained by what pushes the score up, anyone else by what holds it
    down; a borrower no field moves by MIN_EFFECT is said to be close to the typical borrower.
    ``reference`` (field -> sorted values) says how high a value is against another portfolio
    (a saved model's training file) instead of ``frame`` itself.
    """
    for name, values in (reference or {}).items():
        picks.written.setdefault(("levels", name), wording.Levels.of(np.asarray(values, dtype="float64")))
    n = len(frame)
    for side, chosen, rows_wanted in (("up", picks.up, flagged), ("down", picks.down, ~flagged)):
        texts = picks.written.get(side)
        rows = np.flatnonzero(rows_wanted if texts is None else rows_wanted & _nulls(texts))
        for g in _given(chosen[rows]):  # sorted once here, not raced for by the blocks
            _levels(frame, picks.groups[g].field, picks.written)
    # block by block, so a million borrowers' words are never all being written at once (the
    # intermediate texts of one block are a few times its words); both cores write blocks
    # (Arrow and numpy let go of the GIL). A row's words do not depend on its block.
    starts = range(0, n, REASON_BLOCK_ROWS) if n else [0]
    tasks = [lambda start=start: _block(frame, picks, flagged, start, min(n, start + REASON_BLOCK_ROWS))
             for start in starts]
    blocks = [task() for task in tasks] if _one_thread(len(tasks)) else run_in_workers(tasks)
    picks.written["up"] = pa.chunked_array([up for up, _, _ in blocks], type=pa.string())
    picks.written["down"] = pa.chunked_array([down for _, down, _ in blocks], type=pa.string())
    return pa.chunked_array([words for _, _, words in blocks], type=pa.string()).to_pandas().array


def _given(chosen: np.ndarray) -> np.ndarray:
    """The fields given as a reason anywhere in ``chosen`` (-1: none), in order (counted, not sorted)."""
    return np.flatnonzero(np.bincount(chosen.ravel() + 1)[1:])


def _one_thread(blocks: int) -> bool:
    """True when blocks of words are best written on the caller's thread: there is one, or the
    process is one of several workers (they hold Arrow to one CPU: the processes are the parallelism,
    and a second thread would only take turns with the first on the same core share)."""
    return blocks <= 1 or pa.cpu_count() <= 1


@dataclass(frozen=True)
class ReasonsLater:
    """Every borrower's reasons in words, written block by block as a download writes its rows.

    A million borrowers' words are about 0.2 GB, and more while being written; a download that
    writes each block as it comes holds a few blocks at once. The words are those ``reasons`` gives.
    """

    frame: pd.DataFrame
    picks: ReasonPicks
    flagged: np.ndarray
    reference: dict[str, np.ndarray] | None = None

    def blocks(self) -> Iterator[pa.Array]:
        """The words of each LATER_BLOCK_ROWS borrowers in turn, row for row; two blocks are written ahead."""
        memo = {("levels", name): wording.Levels.of(np.asarray(values, dtype="float64"))
                for name, values in (self.reference or {}).items()}
        picks = ReasonPicks(self.picks.up, self.picks.down, self.picks.groups, memo)
        for g in np.union1d(_given(self.picks.up), _given(self.picks.down)):  # sorted once here, not raced for by the blocks
            _levels(self.frame, picks.groups[g].field, memo)
        n = len(self.frame)

        def words(start: int) -> pa.Array:
            # no OpenMP/BLAS limit to set: the words use none (entering one costs ms a block)
            return _block(self.frame, picks, self.flagged, start, min(n, start + LATER_BLOCK_ROWS))[2]

        starts = iter(range(0, n, LATER_BLOCK_ROWS))
        with ThreadPoolExecutor(max_workers=2) as pool:
            ahead = deque(pool.submit(words, start) for start in itertools.islice(starts, 2))
            while ahead:
                block = ahead.popleft().result()
                following = next(starts, None)
                if following is not None:
                    ahead.append(pool.submit(words, following))
                yield block


def _nulls(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """True for each row whose text is not written yet."""
    return np.asarray(texts.is_null(), dtype=bool)


def _block(
    frame: pd.DataFrame, picks: ReasonPicks, flagged: np.ndarray, start: int, stop: int,
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Rows start..stop: each side's texts (kept ones, plus those this block writes) and the words shown."""
    here = flagged[start:stop]
    kept = [picks.written.get(side) for side in ("up", "down")]
    kept = [None if texts is None else _whole_array(texts.slice(start, stop - start)) for texts in kept]
    # the side a row shows is written only where it is not kept: both sides' rows in one pass
    shown = None
    if kept != [None, None]:
        shown = pc.if_else(pa.array(here), *(pa.nulls(stop - start, pa.string()) if texts is None else texts
                                             for texts in kept))
    rows = np.arange(stop - start) if shown is None else np.flatnonzero(_nulls(shown))
    if len(rows) or shown is None:  # (an empty block's words are written too: none)
        chosen = np.where(here[rows, None], picks.up[start + rows], picks.down[start + rows])
        written = _joined(frame, picks.groups, chosen, start + rows, picks.written)
        if shown is None:
            shown = written
        else:
            at = np.full(stop - start, -1)
            at[rows] = np.arange(len(rows))
            shown = pc.coalesce(shown, pc.take(written, pa.array(at, mask=at < 0)))
    # a side's texts are usually exactly the words of its own rows: kept as a view of the words, not a copy
    sides = tuple(_only(shown, mine) if texts is None or not (~_nulls(texts) & ~mine).any()
                  else pc.if_else(pa.array(mine), shown, texts)
                  for texts, mine in ((kept[0], here), (kept[1], ~here)))
    return sides + (shown,)


def _only(words: pa.Array, rows: np.ndarray) -> pa.Array:
    """``words`` where ``rows`` is True and null elsewhere, sharing the words' text (one bit a row more)."""
    if words.offset or words.null_count:  # the view's bitmap would have to be shifted or merged
        return pc.if_else(pa.array(rows), words, pa.nulls(len(words), words.type))
    valid = pa.array(rows, type=pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(words.type, len(words), [valid, *words.buffers()[1:]],
                                 null_count=len(rows) - int(np.count_nonzero(rows)))


def _whole_array(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One array of the texts (a block's slice of a kept column may span two of its chunks)."""
    if not isinstance(texts, pa.ChunkedArray):
        return texts
    return texts.chunk(0) if texts.num_chunks == 1 else texts.combine_chunks()


def _joined(
    frame: pd.DataFrame, groups: tuple[FieldGroup, ...], chosen: np.ndarray, rows: np.ndarray,
    memo: dict,
) -> pa.Array:
    """The reasons of some rows, slot by slot, joined with '; '.

    Each field's words are written once for every row that gives it as a reason, whatever the
    slot (each distinct text once), and every row's words are then taken and joined in one pass.
    """
    heads, extras, taken_heads, taken_extras = [], [], 0, 0
    slots = np.ascontiguousarray(chosen.T)
    head = np.full(slots.shape, -1, dtype=np.int64)  # per slot and row: index into the heads
    extra = np.full(slots.shape, -1, dtype=np.int64)  # ... and into the ratio words
    for g, group in enumerate(groups):
        mine = [np.flatnonzero(slot == g) for slot in slots]
        at = np.concatenate(mine)  # a field is at most once among a row's reasons
        if not len(at):
            continue
        words = wording.field_words(frame, group.field, group.ratios, rows[at], _levels(frame, group.field, memo))
        ends = np.cumsum([len(hit) for hit in mine])
        for slot, hit in enumerate(mine):
            here = slice(ends[slot] - len(hit), ends[slot])
            head[slot, hit] = taken_heads + words.head[here]
            if words.extras is not None:
                extra[slot, hit] = taken_extras + words.extra[here]
        heads.append(words.heads)
        taken_heads += len(words.heads)
        if words.extras is not None:
            extras.append(words.extras)
            taken_extras += len(words.extras)
    return wording.slots_joined(_concat(heads), head, _concat(extras), extra)


def _concat(texts: list[pa.Array]) -> pa.Array:
    """The texts one after another (none: no text)."""
    return pa.concat_arrays(texts) if texts else pa.array([], type=pa.string())


def _levels(frame: pd.DataFrame, field: str, memo: dict) -> wording.Levels | None:
    """What the field's reasons read of its known values (kept), or None for a category.

    Only the levels are kept, not the sorted values: a million borrowers' are 8 MB a field, held
    while the download writes every block of reasons.
    """
    if not pd.api.types.is_numeric_dtype(frame[field]):
        return None
    if ("levels", field) not in memo:
        memo["levels", field] = wording.Levels.of(_sorted_values(frame, field))
    return memo["levels", field]


def _sorted_values(frame: pd.DataFrame, field: str) -> np.ndarray | None:
    """The field's known values in order, or None for a category."""
    if not pd.api.types.is_numeric_dtype(frame[field]):
        return None
    every = frame[field].to_numpy(dtype="float64", na_value=np.nan)
    return np.sort(every[np.isfinite(every)])
