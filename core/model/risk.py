"""The risk of not recovering: target, candidate models, and honest out-of-fold scores."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.arrays import ArrowStringArray
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import ThreadpoolController, threadpool_limits

from core.errors import RecoveryError
from core.progress import Progress, no_progress

MODEL_LABELS = {
    "gradient_boosting": "Additive gradient boosting (one effect curve per field)",
    "random_forest": "Random Forest (the notebook's)",
    "logistic": "Logistic regression",
}
# Each fold learns from at most this many borrowers (a seeded sample of its training rows);
# every borrower is still scored by a fold model that did not learn from them. Past this
# size the additive model's curves no longer improve measurably (benchmarks/RESULTS.md).
TRAIN_MAX_ROWS = 20_000
# Most categories a field keeps as its own; rarer ones are read as "other" (missing).
MAX_CATEGORIES = 250
_EPS = 1e-6


class FieldCodes(TransformerMixin, BaseEstimator):
    """Numeric fields as quantile-bin codes, categories as integer codes; missing stays NaN.

    Binning ourselves (as HistGradientBoosting would anyway) gives every field a finite set of
    values, so an additive model's effect curve can be read off exactly on that grid.
    """

    def __init__(self, numeric: list[str], categorical: list[str], max_bins: int = 255):
        self.numeric = numeric
        self.categorical = categorical
        self.max_bins = max_bins

    def fit(self, X: pd.DataFrame, y=None) -> FieldCodes:
        """Learn bin edges and category lists from the training rows."""
        self.edges_ = {}
        for name in self.numeric:
            values = X[name].to_numpy(dtype="float64", na_value=np.nan)
            values = values[np.isfinite(values)]
            quantiles = np.linspace(0, 1, self.max_bins + 1)[1:-1]
            self.edges_[name] = np.unique(np.quantile(values, quantiles)) if len(values) else np.array([])
        self.categories_ = {}
        for name in self.categorical:
            counts = X[name].value_counts(dropna=True)
            kept = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
            # a plain array of text (not a pandas Index), so a saved model holds numpy types only
            self.categories_[name] = np.array(sorted(kept.index[:MAX_CATEGORIES].astype(str)), dtype=str)
        return self

    def n_codes(self, name: str) -> int:
        """How many distinct codes a field can take (NaN aside)."""
        if name in self.edges_:
            return len(self.edges_[name]) + 1
        return len(self.categories_[name])

    def code(self, name: str, values: np.ndarray | pd.Series) -> np.ndarray:
        """Codes of one field's values."""
        if name in self.edges_:
            x = np.asarray(values, dtype="float64")
            codes = bin_codes(self.edges_[name], x).astype("float64")
            codes[~np.isfinite(x)] = np.nan
            return codes
        known = pd.Index(self.categories_[name])
        if isinstance(values, ArrowStringArray):
            # Arrow text: each distinct text found by Arrow's own dictionary encoding, no Python strings
            text = pa.array(values)
            encoded = pc.dictionary_encode(text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text)
            at = np.append(known.get_indexer(pd.Index(encoded.dictionary.to_numpy(zero_copy_only=False),
                                                      dtype="str")), -1)
            codes = at[pc.fill_null(encoded.indices, -1).to_numpy()].astype("float64")
        elif pd.api.types.infer_dtype(values, skipna=True) == "string":
            # each distinct text looked up once (a million borrowers hold a handful of categories);
            # only for pure text: 1 and 1.0 would hash alike but read as '1' and '1.0'
            found, distinct = pd.factorize(values, use_na_sentinel=True)
            at = np.append(known.get_indexer(pd.Index(distinct, dtype="str")), -1)
            codes = at[found].astype("float64")
        else:
            codes = known.get_indexer(pd.Series(values, dtype="str")).astype("float64")
        codes[codes < 0] = np.nan
        return codes

    def values(self, X: pd.DataFrame, name: str) -> np.ndarray | ArrowStringArray:
        """One field's values as code() reads them quickest: Arrow text as it is, anything else as numpy."""
        column = X[name]
        return column.array if isinstance(column.array, ArrowStringArray) else column.to_numpy()

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """The code matrix, numeric fields first."""
        columns = [self.code(n, self.values(X, n)) for n in self.numeric + self.categorical]
        return np.column_stack(columns) if columns else np.empty((len(X), 0))


def bin_codes(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    """np.searchsorted(edges, x, side="right") (sorted, distinct edges), found by a guide table when that is quicker.

    A value's cell on an even grid over the edges says how many edges lie below it to within a
    few, so each value needs a few comparisons instead of a binary search (about twice as quick
    on a million borrowers); a grid the edges crowd into one cell is left to the binary search.
    Missing values (NaN) get some code, which the caller replaces.
    """
    m = len(edges)
    if m < 8 or len(x) < 4096:
        return np.searchsorted(edges, x, side="right")
    lo, hi = float(edges[0]), float(edges[-1])
    cells = 16 * m
    width = (hi - lo) / cells
    if not (np.isfinite(width) and width > 1e-9 * max(abs(lo), abs(hi))):  # cell starts must be exact enough
        return np.searchsorted(edges, x, side="right")
    counted = np.searchsorted(edges, lo + np.arange(cells + 1) * width, side="right")
    # a value in cell c (-1 below the first edge, cells past the last) has at least the edges up to the
    # start of cell c - 1 (a whole cell of margin for rounding), and at most those up to the start of cell c + 2
    below = np.r_[0, 0, counted[:-1]]
    above = np.r_[counted[1:], m, m]
    if int(np.max(above - below)) > 8:
        return np.searchsorted(edges, x, side="right")
    cell = (x - lo) / width
    cell += 1.0
    np.fmax(cell, 0.0, out=cell)  # fmax/fmin: a missing value reads cell 0
    np.fmin(cell, cells + 1.0, out=cell)
    code = below[cell.astype(np.intp)]
    limits = np.r_[edges, np.nan]  # nothing passes the last place, so the count stops at m
    while True:  # exact whatever the start, as long as it is not past the answer
        more = x >= limits[code]
        if not more.any():
            return code
        code += more


class AdditiveBoostingClassifier(ClassifierMixin, BaseEstimator):
    """Gradient boosting without interactions: the log-odds is a sum of one curve per field.

    Each tree splits on one field only, so the fitted model is exactly ``base_`` plus one
    contribution per field, read off the field's curve (``curves_``). Scoring and explaining
    are then table look-ups: fast at any size, and a reason is the model's own arithmetic.
    """

    def __init__(self, numeric: list[str], categorical: list[str], random_state: int = 42):
        self.numeric = numeric
        self.categorical = categorical
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> AdditiveBoostingClassifier:
        """Bin the fields, boost one-field trees, and tabulate each field's curve."""
        self.codes_ = FieldCodes(self.numeric, self.categorical).fit(X)
        columns = self.numeric + self.categorical
        booster = HistGradientBoostingClassifier(
            # small samples need small steps; large ones converge as well in fewer
            learning_rate=0.05 if len(X) <= 10_000 else 0.1,
            max_iter=1000, max_leaf_nodes=4, min_samples_leaf=20, l2_regularization=1.0,
            interaction_cst="no_interactions",
            categorical_features=[c in self.categorical for c in columns] or None,
            early_stopping=True, n_iter_no_change=20, random_state=self.random_state,
        ).fit(self.codes_.transform(X), y)
        self.booster_ = booster
        self.classes_ = booster.classes_
        self.n_iter_ = booster.n_iter_
        self.base_, self.curves_ = _curves(booster, self.codes_, columns)
        return self

    def places(self, name: str, values) -> np.ndarray:
        """Where each value reads the field's curve (its code; the last place when missing)."""
        x = values if isinstance(values, ArrowStringArray) else np.asarray(values) if np.ndim(values) \
            else np.array([values])
        missing = len(self.curves_[name]) - 1
        edges = self.codes_.edges_.get(name)
        if edges is not None:
            # code() without its float codes and NaN: the bin straight to its place, infinities and NaN last
            x = np.asarray(x, dtype="float64")
            at = bin_codes(edges, x)
            at[~np.isfinite(x)] = missing
            return at.astype(np.int16)
        known = self.codes_.categories_[name]
        if isinstance(x, ArrowStringArray) and len(np.unique(known)) == len(known):
            # Arrow text found in the known categories by Arrow itself: no dictionary of the texts, no float codes
            found = pc.index_in(pa.array(x), value_set=pa.array(known, type=pa.string()))
            return np.asarray(pc.fill_null(found, missing), dtype=np.int16)
        code = self.codes_.code(name, x)
        return np.where(np.isnan(code), missing, code).astype(np.int16)

    def contribution(self, name: str, values) -> np.ndarray:
        """Each value's contribution to the log-odds along the field's curve."""
        return np.take(self.curves_[name], self.places(name, values))  # take: quicker than indexing by int16

    def all_places(self, X: pd.DataFrame) -> np.ndarray:
        """Every field's places, one column per field (numeric first): all a decision needs to know."""
        columns = self.numeric + self.categorical
        # column by column in memory: each field's places are read whole, for the score and its reasons
        out = np.empty((len(X), len(columns)), dtype=np.int16, order="F")
        for j, name in enumerate(columns):
            out[:, j] = self.places(name, self.codes_.values(X, name))
        return out

    def contributions(self, places: np.ndarray) -> dict[str, np.ndarray]:
        """Each field's contribution per row, read off all_places' table."""
        return {name: np.take(self.curves_[name], places[:, j])
                for j, name in enumerate(self.numeric + self.categorical)}

    def decision_from_places(self, places: np.ndarray, contributions: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Log-odds from all_places' table: the same sum, in the same order, as decision_function.

        ``contributions``: the table's contributions when already read (they are then not read again).
        """
        total = np.full(len(places), self.base_)
        for j, name in enumerate(self.numeric + self.categorical):
            # one field's at a time when not given: a fold's every contribution at once is tens of MB
            total += np.take(self.curves_[name], places[:, j]) if contributions is None else contributions[name]
        return total

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds of a bad outcome: the base plus every field's contribution."""
        total = np.full(len(X), self.base_)
        for name in self.numeric + self.categorical:
            total += self.contribution(name, self.codes_.values(X, name))
        return total

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of a good and a bad outcome."""
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 where a bad outcome is more likely than not."""
        return (self.decision_function(X) > 0).astype(int)


def _curves(booster, codes: FieldCodes, columns: list[str]) -> tuple[float, dict[str, np.ndarray]]:
    """The booster's log-odds at 'every field missing', and each field's contribution per code.

    With no interactions the log-odds is additive over fields, so moving one field from missing
    to a code adds exactly that code's contribution, whatever the other fields hold. The last
    slot of each curve is the missing value's contribution, 0 by construction.
    """
    width = len(columns)
    blocks, spans = [np.full((1, width), np.nan)], []
    for j, name in enumerate(columns):
        k = codes.n_codes(name)
        block = np.full((k, width), np.nan)
        block[:, j] = np.arange(k)
        spans.append((1 + sum(len(b) for b in blocks[1:]), k))
        blocks.append(block)
    values = booster.decision_function(np.vstack(blocks))
    base = float(values[0])
    return base, {
        name: np.append(values[start:start + k] - base, 0.0)
        for name, (start, k) in zip(columns, spans)
    }


def make_model(
    kind: str,
    numeric: list[str],
    categorical: list[str],
    random_state: int,
) -> ClassifierMixin:
    """The model of one candidate kind, with the field preparation it needs."""
    if kind not in MODEL_LABELS:
        raise RecoveryError(f"Unknown model '{kind}': choose one of {', '.join(MODEL_LABELS)}.")
    if kind == "gradient_boosting":
        return AdditiveBoostingClassifier(numeric, categorical, random_state)
    numeric_steps = [SimpleImputer(strategy="median", keep_empty_features=True)]
    if kind == "logistic":
        numeric_steps.append(StandardScaler())
    categories = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="(missing)"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    prepare = ColumnTransformer(
        [("numeric", make_pipeline(*numeric_steps), numeric), ("category", categories, categorical)],
        verbose_feature_names_out=False,
    )
    return Pipeline([("prepare", prepare), ("model", _estimator(kind, random_state))])


def _estimator(kind: str, random_state: int) -> ClassifierMixin:
    """The bare classifier; the Random Forest has the notebook's hyperparameters (but n_jobs)."""
    if kind == "random_forest":
        return RandomForestClassifier(
            n_estimators=200, max_depth=8, min_samples_split=10, min_samples_leaf=4,
            max_features="sqrt", class_weight="balanced", random_state=random_state,
            bootstrap=True, oob_score=True,
            # n_jobs=1, not the notebook's -1: parallel predict_proba sums the trees in thread
            # order, so the same file could give scores differing in the last digit.
            n_jobs=1,
        )
    return LogisticRegression(C=1.0, max_iter=2000)


def decision(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """The model's raw score on the log-odds scale (clipped probabilities for the forest)."""
    if hasattr(model, "decision_function"):
        return model.decision_function(X)
    p = np.clip(model.predict_proba(X)[:, 1], _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function (scipy's expit: no overflow warning for a near-perfect separation)."""
    return expit(x)


@dataclass(frozen=True)
class Calibration:
    """Platt scaling: probability = sigmoid(slope × decision + intercept)."""

    slope: float = 1.0
    intercept: float = 0.0

    def __call__(self, d: np.ndarray) -> np.ndarray:
        return sigmoid(self.slope * d + self.intercept)

    def falls(self, d: np.ndarray, drops: np.ndarray) -> np.ndarray:
        """self(d)[:, None] - self(d[:, None] - drops): each row's score minus its score after each drop.

        Worked out in one borrowers × drops table instead of four (the same operations in the same
        order, so the same bits): the table is the largest thing scoring a chunk holds.
        """
        after = d[:, None] - drops
        after *= self.slope
        after += self.intercept
        expit(after, out=after)  # sigmoid's own function
        return np.subtract(self(d)[:, None], after, out=after)


def fit_platt(d: np.ndarray, y: np.ndarray) -> Calibration:
    """Maximum-likelihood Platt scaling by Newton's method, with Platt's smoothed targets."""
    n_bad, n_good = float(y.sum()), float(len(y) - y.sum())
    t = np.where(y > 0, (n_bad + 1) / (n_bad + 2), 1 / (n_good + 2))
    a, b = 1.0, float(np.log((n_bad + 1) / (n_good + 1)))
    squared = d * d  # the same products every step: worked out once
    for _ in range(50):
        p = sigmoid(a * d + b)
        w = np.maximum(p * (1 - p), 1e-12)
        off, wd = p - t, np.dot(w, d)
        g = np.array([np.dot(off, d), np.sum(off)])
        h = np.array([[np.dot(w, squared), wd], [wd, np.sum(w)]])
        h += np.eye(2) * 1e-9
        step = np.linalg.solve(h, g)
        a, b = a - step[0], b - step[1]
        if np.max(np.abs(step)) < 1e-10:
            break
    return Calibration(float(a), float(b))


@dataclass(frozen=True)
class OutOfFold:
    """Each borrower's score from a model that did not train on them."""

    scores: np.ndarray
    fold: np.ndarray  # fold that scored the borrower; -1 for borrowers with unknown outcome
    models: tuple
    calibrations: tuple[Calibration, ...]
    test_rows: tuple[np.ndarray, ...]
    train_rows: int  # most borrowers any fold learned from
    # per fold, the additive model's curve places of its test rows (all_places), read again to
    # explain those rows; empty for other models
    places: tuple[np.ndarray, ...] = ()


def fold_splits(y: np.ndarray, n_folds: int, random_state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified (train, test) positions over the borrowers whose outcome is known."""
    known = np.flatnonzero(~np.isnan(y))
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    return [(known[train], known[test]) for train, test in splitter.split(known, y[known])]


def capped(train: np.ndarray, cap: int, random_state: int) -> np.ndarray:
    """At most ``cap`` training positions, a seeded sample, in order."""
    if len(train) <= cap:
        return train
    return np.sort(np.random.default_rng(random_state).choice(train, cap, replace=False))


@cache
def _thread_pools() -> ThreadpoolController:
    """The OpenMP/BLAS libraries loaded, found once (first asked for when scoring, every library loaded)."""
    return ThreadpoolController()


def one_thread():
    """threadpool_limits(limits=1) for a step run again and again: the libraries are not looked for every time.

    Looking for them reads every loaded shared library (a few ms), as often as a streamed worker scores a chunk.
    """
    return _thread_pools().limit(limits=1)


def run_in_workers(tasks: list[Callable[[], object]], done: Callable[[int], None] | None = None,
                   workers: int = 2) -> list:
    """Run independent tasks on ``workers`` threads, each holding OpenMP/BLAS to one thread.

    A thread's OpenMP limit is its own, so it is set inside every worker: unlimited workers
    each start as many OpenMP threads as there are cores and spin on a busy machine. Results
    come back in task order; ``done`` is called from the caller's thread as each arrives, so
    a progress display never runs on a worker thread.
    """
    def one(task: Callable[[], object]) -> object:
        with threadpool_limits(limits=1):
            return task()

    # plain threads, not scikit-learn's Parallel: its workers reset the process-wide warning
    # filters around each task, so two running at once can leave the filters empty and every
    # later parallel call then warns "delayed should be used with Parallel" on stderr
    results = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for value in pool.map(one, tasks):
            results.append(value)
            if done is not None:
                done(len(results))
    return results


def out_of_fold(
    make: Callable[[], Pipeline],
    X: pd.DataFrame,
    y: np.ndarray,
    n_folds: int,
    random_state: int,
    calibrate: bool,
    train_max_rows: int = TRAIN_MAX_ROWS,
    progress: Progress = no_progress,
    positions: np.ndarray | None = None,
) -> OutOfFold:
    """Stratified K-fold scores; borrowers without an outcome get the mean of the fold models.

    Calibration is cross-fitted from the out-of-fold scores themselves: fold f's borrowers are
    calibrated by a sigmoid fitted on the other folds' scores and outcomes, so no borrower's
    calibration saw their own outcome, and no model is fitted twice.
    ``positions``: the row of ``X`` that each of ``y``'s rows is (``X``'s own order when None), so
    a caller in another order than the file's passes the file's rows, not a reordered copy of them;
    folds, scores and every returned row number are in ``y``'s order.
    """
    splits = fold_splits(y, n_folds, random_state)
    unknown = np.flatnonzero(np.isnan(y))
    at = np.arange(len(y)) if positions is None else positions

    def fit(f: int, train: np.ndarray) -> Pipeline:
        rows = capped(train, train_max_rows, random_state + f)
        return make().fit(X.iloc[at[rows]], y[rows].astype(int))

    # A Random Forest fits its trees through scikit-learn's Parallel, which empties and restores
    # the process-wide warning filters around every tree: two forests fitting on two threads race
    # on that list and flood stderr with "delayed should be used with Parallel". One at a time.
    made = make()
    forest = isinstance(made[-1] if isinstance(made, Pipeline) else made, RandomForestClassifier)
    models = run_in_workers(
        [lambda f=f, t=train: fit(f, t) for f, (train, _) in enumerate(splits)],
        lambda k: progress(f"Fold {k} of {n_folds} trained", k / n_folds),
        workers=1 if forest else 2,
    )
    additive = all(isinstance(m, AdditiveBoostingClassifier) for m in models)

    def held_out(model, test: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """The fold's test rows' places (additive model) and decisions (or probabilities)."""
        part = X.iloc[at[test]]
        if additive:
            places = model.all_places(part)
            return places, model.decision_from_places(places)
        return None, decision(model, part) if calibrate else model.predict_proba(part)[:, 1]

    # each fold's rows are read by its own model: independent, so both cores share them
    answers = run_in_workers([lambda m=m, t=test: held_out(m, t) for m, (_, test) in zip(models, splits)],
                             workers=1 if forest else 2)
    fold = np.full(len(y), -1)
    raw = np.full(len(y), np.nan)
    for f, (_, test) in enumerate(splits):
        fold[test] = f
        raw[test] = answers[f][1]
    # each fold's calibration reads the other folds' scores only: both cores fit them
    calibrations = tuple(run_in_workers([lambda f=f: _cross_fitted(raw, y, fold, f) for f in range(n_folds)])
                         if calibrate else [Calibration()] * n_folds)
    scores = np.full(len(y), np.nan)
    for f, (_, test) in enumerate(splits):
        # predict_proba's own arithmetic for the additive model: the sigmoid of its decision
        scores[test] = calibrations[f](raw[test]) if calibrate else sigmoid(raw[test]) if additive else raw[test]
    if len(unknown):
        unknown_x = X.iloc[at[unknown]]
        scores[unknown] = np.mean(
            [probability(m, c, unknown_x, calibrate) for m, c in zip(models, calibrations)], axis=0
        )
    return OutOfFold(
        scores=scores, fold=fold, models=tuple(models), calibrations=calibrations,
        test_rows=tuple(test for _, test in splits),
        train_rows=max(min(len(train), train_max_rows) for train, _ in splits),
        places=tuple(places for places, _ in answers) if additive else (),
    )


def _cross_fitted(raw: np.ndarray, y: np.ndarray, fold: np.ndarray, f: int) -> Calibration:
    """Platt scaling for fold f, fitted on every other fold's out-of-fold scores."""
    others = (fold >= 0) & (fold != f)
    return fit_platt(raw[others], y[others])


def probability(model: Pipeline, calibration: Calibration, X: pd.DataFrame, calibrate: bool) -> np.ndarray:
    """Calibrated probability, or the model's own probability when not calibrating."""
    if calibrate:
        return calibration(decision(model, X))
    return model.predict_proba(X)[:, 1]


def compare_models(
    X: pd.DataFrame,
    y: np.ndarray,
    numeric: list[str],
    categorical: list[str],
    n_folds: int,
    random_state: int,
    progress: Progress = no_progress,
    calibrate: bool = False,
) -> tuple[pd.DataFrame, dict[str, OutOfFold]]:
    """Cross-validated ROC-AUC of each candidate on the same folds, best first.

    ``calibrate`` as the score stage does: a cross-fitted calibration can reorder the scores (its
    slope turns negative when a model ranks worse than chance out-of-fold), so the candidates are
    measured on exactly the scores the score stage would give them.
    """
    rows, runs = [], {}
    known = ~np.isnan(y)
    for i, kind in enumerate(MODEL_LABELS):
        progress(f"Comparing models: {MODEL_LABELS[kind]}", i / len(MODEL_LABELS))
        run = out_of_fold(
            lambda kind=kind: make_model(kind, numeric, categorical, random_state),
            X, y, n_folds, random_state, calibrate=calibrate,
        )
        per_fold = [roc_auc_score(y[rows_], run.scores[rows_]) for rows_ in run.test_rows]
        runs[kind] = run
        rows.append(
            {
                "model": kind,
                "label": MODEL_LABELS[kind],
                "roc_auc": float(roc_auc_score(y[known], run.scores[known])),
                "roc_auc_fold_mean": float(np.mean(per_fold)),
                "roc_auc_fold_std": float(np.std(per_fold)),
            }
        )
    table = pd.DataFrame(rows).sort_values("roc_auc_fold_mean", ascending=False, kind="stable")
    return table.reset_index(drop=True), runs


def seed_split_metrics(
    X: pd.DataFrame, y: np.ndarray, numeric: list[str], random_state: int
) -> dict:
    """The notebook's evaluation: 80/20 stratified split, its Random Forest, its four metrics."""
    known = ~np.isnan(y)
    X_train, X_test, y_train, y_test = train_test_split(
        X[known], y[known].astype(int), test_size=0.2, random_state=random_state, stratify=y[known]
    )
    with threadpool_limits(limits=1):
        model = make_model("random_forest", numeric, [], random_state).fit(X_train, y_train)
    predicted = model.predict(X_test)
    tn, fp, fn, tp = confusion_matrix(y_test, predicted, labels=[0, 1]).ravel()
    return {
        "test_rows": int(len(y_test)),
        "accuracy": float(accuracy_score(y_test, predicted)),
        "precision": float(precision_score(y_test, predicted, zero_division=0)),
        "roc_auc": float(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }
