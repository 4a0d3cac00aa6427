"""What each collection action recovers from each borrower, learned from the lender's own history.

A history row is a resolved borrower: their fields, the action they received (``Collection_Method``
or a column like it) and what came back (an amount recovered, or a recovery status). The past
rule chose actions by the borrower (legal notices to the long overdue...), so the raw recovery of
an action mixes its effect with the kind of borrower it was given to. Here each borrower's
expected recovered share under each action is learned ADJUSTING for that choice.

How (all cross-fitted on ``FOLDS`` folds drawn from a hash of each borrower's key, so no model
predicts a row it learned from and a file's row order never changes a result):

* a propensity model reads, for every borrower, each action's chance under the old rule: where
  it is below ``PROPENSITY_FLOOR`` the history gives that action no chance for such borrowers,
  and its effect there is marked not learnable (described in words by ``overlap_gaps``);
* an outcome model per action (a T-learner: scikit-learn's histogram gradient boosting, the
  booster under ``core.risk``) learns the share recovered from the borrowers who received it,
  as a function of their fields; comparing actions then compares like with like;
* doubly robust pseudo-outcomes (AIPW) give each action's average recovery per band with an
  honest 95% interval, whichever learner makes the per-borrower values.

Which learner makes the per-borrower values was chosen by measurement on
``sample_data.action_history`` (20,000 history rows, a new month of 20,000 planned at capacities
10% settlement, 5% legal, 8% collectors, calls unlimited; the plan valued with the TRUE effects, as
a share of the true optimum's gain over calls for all; RMSE of the learned shares against the
true ones; seeds 11/12, see ``benchmarks/bench_effects.py --compare``):

    history           estimator       learn s   share of the true optimum's gain   RMSE of shares
    with overlap      t_learner         2.9            98.5%                        0.044
    with overlap      s_learner         2.5            98.1%                        0.062
    with overlap      doubly_robust     4.4            97.0%                        0.058
    with overlap      naive             2.1            75.9%                        0.200
    without overlap   t_learner         2.2            94.6%                        0.070
    without overlap   s_learner         2.4            94.3%                        0.139
    without overlap   doubly_robust     4.0            93.6%                        0.065
    without overlap   naive             2.9            75.9%                        0.200

(naive = raw past share by method × DPD band; without overlap the action table types a fallback
line for the legal notice where the history never sent one.)

The T-learner wins: the best plan in both histories (98.5% and 94.6% of the truth's gain, against
97.0% / 93.6% for the doubly robust learner and 75.9% for raw past shares) in two thirds of the
time; the doubly robust second stage regresses on pseudo-outcomes carrying the noise of their
inverse-propensity weights, and the S-learner's one shared model smooths the actions' differences
away where one action was rarely used (its RMSE doubles without overlap). The generator's truth is
smooth, which suits outcome models; a history whose old rule hides a strong cause the fields do
not show would favour the doubly robust learner, so it stays selectable (``estimator=``). Its
pseudo-outcomes give the per-band intervals, where unbiasedness matters more than variance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.tree import DecisionTreeClassifier

from core.data import FULLY_RECOVERED, WRITTEN_OFF, add_ratios, label, model_features
from core.errors import RecoveryError
from core.model.risk import FieldCodes, run_in_workers

FOLDS = 2
# Below this chance under the old rule an action's effect is not learned for a borrower.
PROPENSITY_FLOOR = 0.005  # estimated chances where the rule gave none stay below 0.002 on the generator; real ones above 0.009
# Each model learns from at most this many rows (a seeded sample): past it the plan it makes on
# the generator no longer improves measurably, and learning 1,000,000 rows stays under a minute.
TRAIN_MAX_ROWS = 40_000
# The cross-fitted reading of the history (for the intervals and the doubly robust stage) uses at
# most this many rows: enough for intervals a few tenths of a point wide per band.
NUISANCE_MAX_ROWS = 100_000
# Fewest history rows an action needs before its effect is learned at all.
MIN_ROWS = 30
# What a recovery status says about the share recovered when the file has no amount.
STATUS_SHARE = {FULLY_RECOVERED: 1.0, "Partially Recovered": 0.5, WRITTEN_OFF: 0.0}
DPD_BANDS = (30, 60, 90, 120)
Z95 = 1.959963984540054
ESTIMATORS = ("t_learner", "s_learner", "doubly_robust", "naive")


def key(text: str) -> str:
    """An action name as matched across files: case, spaces, '-' and '_' ignored."""
    return "".join(ch for ch in str(text).casefold() if ch.isalnum())


def recovered_share(df: pd.DataFrame, outcome: str, exposure: str = "Outstanding_Loan_Amount") -> np.ndarray:
    """Share of the outstanding each borrower repaid: an amount over the exposure, or a status read as a share.

    NaN where the outcome is unknown (the borrower is not resolved yet).
    """
    if outcome not in df.columns:
        raise RecoveryError(f"The history has no '{outcome}' column: name the column holding what was recovered.")
    values = df[outcome]
    if pd.api.types.is_numeric_dtype(values):
        amount = values.to_numpy(dtype="float64", na_value=np.nan)
        if exposure not in df.columns:
            raise RecoveryError(f"'{outcome}' is an amount, but there is no '{exposure}' column to read it "
                                "against: map the outstanding amount.")
        owed = df[exposure].to_numpy(dtype="float64", na_value=np.nan)
        share = np.divide(amount, owed, out=np.full(len(df), np.nan), where=owed > 0)
        return np.clip(share, 0.0, 1.0)
    mapped = values.astype("str").str.strip().map(STATUS_SHARE)
    if mapped.notna().sum() == 0:
        raise RecoveryError(f"'{outcome}' holds neither amounts nor the statuses {', '.join(STATUS_SHARE)}: "
                            "name the column holding the amount recovered.")
    return mapped.to_numpy(dtype="float64", na_value=np.nan)


def dpd_band(days: np.ndarray) -> np.ndarray:
    """Days past due in the bands collections teams use (0–30, 31–60, ...)."""
    edges = np.asarray(DPD_BANDS, dtype=float)
    names = [f"0–{DPD_BANDS[0]} days"] + [f"{a + 1}–{b} days" for a, b in zip(DPD_BANDS, DPD_BANDS[1:])] + [
        f"over {DPD_BANDS[-1]} days"]
    index = np.searchsorted(edges, np.nan_to_num(np.asarray(days, dtype=float), nan=0.0), side="left")
    return np.asarray(names, dtype=object)[index]


def stable_order(df: pd.DataFrame, ids: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by a key that does not depend on the file's order, and each row's key hash.

    The key is the borrower ID when given (ties broken by the row's content), else the content.
    """
    content = pd.util.hash_pandas_object(df, index=False).to_numpy()
    if ids is None:
        first = content
    else:
        first = pd.util.hash_pandas_object(ids.astype("str").reset_index(drop=True), index=False).to_numpy()
    return np.lexsort((content, first)), first


@dataclass(frozen=True)
class OverlapGap:
    """Borrowers the history never gave an action: its effect cannot be learned for them."""

    method: str
    borrowers: int
    share: float
    who: str  # e.g. "borrowers with Days past due under 90"

    def message(self, fallback: bool, override: bool = False) -> str:
        """The plain-words notice for the page and the command line.

        ``override``: typed figures, once given, replace the learned values for every borrower.
        """
        said = (f"{self.method} was never used for {self.who} ({self.borrowers:,} in this file): its effect "
                "there cannot be learned")
        if fallback:
            return said + "; your own figures are used for them."
        if override:
            return said + ("; it is not planned for them. Typing its recovery figures in the action table "
                           "plans it for them too, but on your figures for every borrower.")
        return said + ("; it is not planned for them: type its recovery figures in the action table to "
                       "plan it there on your own figures.")


@dataclass(frozen=True)
class LearnedEffects:
    """Fitted models that give every borrower's expected recovered share under each action."""

    methods: tuple[str, ...]
    numeric: list[str]
    categorical: list[str]
    codes: FieldCodes
    propensity: tuple  # one classifier per fold; classes are method indexes
    outcome: tuple  # per fold, one regressor per method (None when the method had too few rows)
    naive: pd.DataFrame  # raw past share by DPD band (rows) and method (columns)
    estimator: str
    rows: dict[str, int]  # history rows per method
    support: pd.DataFrame = field(default_factory=pd.DataFrame)  # per method and band, with intervals
    final: tuple = ()  # doubly robust second stage, one regressor per method

    def _matrix(self, df: pd.DataFrame) -> np.ndarray:
        """The matrix the models read."""
        frame = add_ratios(df)
        for name in self.numeric + self.categorical:
            if name not in frame.columns:
                raise RecoveryError(f"The file has no '{name}' column, which the action effects were learned "
                                    "from: add it, or learn the effects again without it.")
        return _matrix(frame, self.numeric, self.codes)

    def propensities(self, df: pd.DataFrame, workers: int = 1) -> np.ndarray:
        """Each action's chance for each borrower under the old rule (n × methods)."""
        X = self._matrix(df)
        return _chunked(lambda part: _propensity(self.propensity, part, len(self.methods)), X, workers)

    def predict(self, df: pd.DataFrame, workers: int = 1) -> np.ndarray:
        """Expected recovered share of every borrower under every action (n × methods)."""
        return self.predict_with_spread(df, workers)[0]

    def predict_with_spread(self, df: pd.DataFrame, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The expected shares and the spread between the fold models (n × methods each)."""
        if self.estimator == "naive":
            days = df["Days_Past_Due"].to_numpy(dtype="float64", na_value=np.nan) if "Days_Past_Due" in df else None
            bands = dpd_band(days if days is not None else np.zeros(len(df)))
            table = self.naive.fillna(self.naive.mean())
            shares = table.reindex(bands).fillna(table.mean()).to_numpy(dtype=float)
            return shares, np.zeros_like(shares)
        X = self._matrix(df)
        k = len(self.methods)
        if self.estimator == "doubly_robust":
            shares = _chunked(lambda part: np.column_stack([_predict(m, part) for m in self.final]), X, workers)
            return shares, np.zeros_like(shares)

        def both(part: np.ndarray) -> np.ndarray:
            per_fold = np.stack([_outcomes(models, part, k, self.estimator) for models in self.outcome])
            return np.hstack([np.nanmean(per_fold, axis=0), np.nanstd(per_fold, axis=0)])

        out = _chunked(both, X, workers)
        return out[:, :k], out[:, k:]

    def learnable(self, df: pd.DataFrame, workers: int = 1) -> np.ndarray:
        """True where the history gave the action a real chance for the borrower (n × methods)."""
        enough = np.array([self.rows.get(m, 0) >= MIN_ROWS for m in self.methods])
        return (self.propensities(df, workers) >= PROPENSITY_FLOOR) & enough

    def overlap_gaps(self, df: pd.DataFrame, learnable: np.ndarray | None = None) -> list[OverlapGap]:
        """Per action, the borrowers of ``df`` its effect cannot be learned for, described in words.

        ``learnable`` is ``self.learnable(df)`` when the caller has it already.
        """
        mask = ~(self.learnable(df) if learnable is None else learnable)
        frame = add_ratios(df)
        gaps = []
        for a, method in enumerate(self.methods):
            count = int(mask[:, a].sum())
            if count == 0:
                continue
            if self.rows.get(method, 0) < MIN_ROWS:
                who = f"any borrower (the history has only {self.rows.get(method, 0)} such rows)"
            else:
                who = _describe(frame, self.numeric, mask[:, a])
            gaps.append(OverlapGap(method, count, count / len(df), who))
        return gaps


def _matrix(frame: pd.DataFrame, numeric: list[str], codes: FieldCodes) -> np.ndarray:
    """Numeric fields as they are, categories as codes.

    Numbers stay raw (not FieldCodes' quantile bins) so the boosters bin them on their own distinct
    values: a rule's edge such as 90 days past due stays an edge instead of sharing a bin with 89.
    """
    numbers = [frame[n].to_numpy(dtype="float64", na_value=np.nan) for n in numeric]
    return np.column_stack(numbers + [codes.transform(frame)]) if numbers else codes.transform(frame)


def _chunked(fn, X: np.ndarray, workers: int, size: int = 50_000) -> np.ndarray:
    """``fn`` over row chunks of ``X`` on ``workers`` threads, stacked back in order."""
    if len(X) <= size or workers <= 1:
        return fn(X)
    parts = [X[i:i + size] for i in range(0, len(X), size)]
    return np.vstack(run_in_workers([lambda p=p: fn(p) for p in parts], workers=workers))


def _regressor(random_state: int) -> HistGradientBoostingRegressor:
    """The outcome learner: shallow boosted trees, stopped early on held-out rows."""
    return HistGradientBoostingRegressor(
        learning_rate=0.1, max_iter=300, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
        early_stopping=True, validation_fraction=0.1, n_iter_no_change=15, random_state=random_state)


def _fit_regressor(X: np.ndarray, y: np.ndarray, categorical: np.ndarray, random_state: int,
                   weight: np.ndarray | None = None):
    """A fitted outcome regressor (early stopping needs a few hundred rows; fewer fit a fixed count)."""
    model = _regressor(random_state).set_params(categorical_features=categorical if categorical.any() else None)
    if len(y) < 400:
        model.set_params(early_stopping=False, max_iter=50)
    return model.fit(X, y, sample_weight=weight)


def _predict(model, X: np.ndarray) -> np.ndarray:
    """A regressor's prediction, as a share."""
    return np.clip(model.predict(X), 0.0, 1.0)


def _outcomes(models: tuple, X: np.ndarray, k: int, estimator: str) -> np.ndarray:
    """One fold's expected share per action (n × k); NaN for an action it could not learn."""
    if estimator == "s_learner":
        (model,) = models
        return np.column_stack([_predict(model, np.column_stack([X, np.full(len(X), a)])) for a in range(k)])
    return np.column_stack([
        _predict(m, X) if m is not None else np.full(len(X), np.nan) for m in models])


def _propensity(models: tuple, X: np.ndarray, k: int) -> np.ndarray:
    """The fold models' mean chance of each action (n × k)."""
    out = np.zeros((len(X), k))
    for model in models:
        out[:, model.classes_.astype(int)] += model.predict_proba(X)
    return out / len(models)


def _fit_propensity(X: np.ndarray, a: np.ndarray, categorical: np.ndarray, random_state: int):
    """The old rule as a classifier: each action's chance from the borrower's fields."""
    return HistGradientBoostingClassifier(
        learning_rate=0.1, max_iter=200, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
        early_stopping=True, validation_fraction=0.1, n_iter_no_change=10, random_state=random_state,
        categorical_features=categorical if categorical.any() else None,
    ).fit(X, a)


def _row_means(values: np.ndarray) -> np.ndarray:
    """Each row's mean over its known values (NaN where a row has none), as a column."""
    known = ~np.isnan(values)
    counts = known.sum(axis=1, keepdims=True)
    sums = np.where(known, values, 0.0).sum(axis=1, keepdims=True)
    # a row no fold model could value stays unknown; nanmean would say so with a warning per run
    return np.divide(sums, counts, out=np.full(counts.shape, np.nan), where=counts > 0)


def _sample(rows: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """At most ``cap`` of ``rows`` (already in stable order), a seeded sample, in order."""
    if len(rows) <= cap:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, cap, replace=False))


def _describe(frame: pd.DataFrame, numeric: list[str], mask: np.ndarray) -> str:
    """The borrowers in ``mask`` in words: one field above or below a value when that says it (97%)."""
    best = None
    for name in numeric:
        x = frame[name].to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(x)
        if ok.sum() < 2 or np.unique(x[ok]).size < 2:
            continue
        stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(x[ok, None], mask[ok])
        agreement = float((stump.predict(x[ok, None]) == mask[ok]).mean())
        if stump.tree_.node_count < 3:
            continue
        threshold = stump.tree_.threshold[0]
        below = float(mask[ok][x[ok] <= threshold].mean()) > float(mask[ok][x[ok] > threshold].mean())
        if best is None or agreement > best[0]:
            best = (agreement, name, threshold, below, x[ok])
    if best is None or best[0] < 0.97:
        return "borrowers unlike any it was used for"  # the message adds how many
    _, name, threshold, below, x = best
    if below:  # the first value on the learnable side is where the action starts
        return f"borrowers with {label(name)} under {x[x > threshold].min():,.4g}"
    return f"borrowers with {label(name)} over {x[x <= threshold].max():,.4g}"


def _support(methods: tuple[str, ...], action: np.ndarray, bands: np.ndarray, sub: np.ndarray,
             learned: np.ndarray, pseudo: np.ndarray, learnable: np.ndarray) -> pd.DataFrame:
    """Per action and band: learned mean share, its doubly robust 95% interval, and the history behind it.

    Counts are over the whole history; shares and intervals over the rows in ``sub`` (the sample
    the cross-fitted nuisances were read on), whose arrays ``learned``, ``pseudo`` and ``learnable`` are.
    """
    rows = []
    for a, method in enumerate(methods):
        for band in sorted(pd.unique(bands)):
            inside = bands == band
            usable = (bands[sub] == band) & learnable[:, a]
            n = int(usable.sum())
            g = pseudo[usable, a]
            mean = float(g.mean()) if n else np.nan
            half = float(Z95 * g.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
            rows.append({
                "Action": method, "Band": band, "Borrowers": int(inside.sum()),
                "History rows with this action": int((inside & (action == a)).sum()),
                "Share learnable": n / max(int((bands[sub] == band).sum()), 1),
                "Learned share": float(np.nanmean(learned[usable, a])) if n else np.nan,
                "Doubly robust share": mean,
                "95% interval from": max(mean - half, 0.0) if n > 1 else np.nan,
                "95% interval to": min(mean + half, 1.0) if n > 1 else np.nan,
            })
    return pd.DataFrame(rows)


def fit_effects(
    df: pd.DataFrame,
    action_column: str,
    outcome: str,
    *,
    ids: pd.Series | None = None,
    fields: tuple[str, ...] | None = None,
    bands: np.ndarray | None = None,
    estimator: str = "t_learner",
    random_state: int = 42,
    workers: int = 1,
    train_max_rows: int = TRAIN_MAX_ROWS,
) -> LearnedEffects:
    """Learn each action's expected recovered share per borrower from the resolved rows of a history.

    Parameters
    ----------
    df : the history, one row per borrower (unresolved rows, with no outcome or action, are ignored).
    action_column : the column saying which action each borrower received.
    outcome : an amount recovered (read against ``Outstanding_Loan_Amount``) or a recovery status.
    ids : the borrower key for the stable order (e.g. ``df["Loan_ID"]``); default: the row's content.
    fields : the fields to learn from; default the risk model's recommended fields present.
    bands : a band per row for the support table (e.g. risk bands); default the DPD bands.
    estimator : one of ESTIMATORS; the default was chosen by measurement (module docstring).
    workers : threads (each holding BLAS/OpenMP to one) to fit the folds' models on.
    """
    if estimator not in ESTIMATORS:
        raise RecoveryError(f"Unknown effects estimator '{estimator}': choose one of {', '.join(ESTIMATORS)}.")
    if action_column not in df.columns:
        raise RecoveryError(f"The history has no '{action_column}' column: name the column saying which "
                            "action each borrower received.")
    share = recovered_share(df, outcome)
    taken = df[action_column].astype("str").str.strip()
    resolved = np.isfinite(share) & df[action_column].notna().to_numpy() & (taken != "").to_numpy()
    if resolved.sum() < 2 * MIN_ROWS:
        raise RecoveryError(f"Only {int(resolved.sum())} borrowers have both an action in '{action_column}' and "
                            f"an outcome in '{outcome}': learning action effects needs at least {2 * MIN_ROWS}.")
    frame = add_ratios(df.loc[resolved].reset_index(drop=True))
    share, taken = share[resolved], taken[resolved].to_numpy()
    numeric, categorical = model_features(frame, fields, use_collection_fields=False)
    numeric = [c for c in numeric if c not in (action_column, outcome)]
    categorical = [c for c in categorical if c not in (action_column, outcome)]
    order, _ = stable_order(frame[numeric + categorical + [action_column]],
                            None if ids is None else ids[resolved].reset_index(drop=True))
    frame, share, taken = frame.iloc[order].reset_index(drop=True), share[order], taken[order]
    band = (np.asarray(bands, dtype=object)[resolved][order] if bands is not None else
            dpd_band(frame["Days_Past_Due"].to_numpy(dtype="float64", na_value=np.nan))
            if "Days_Past_Due" in frame else np.full(len(frame), "all", dtype=object))

    # one name per action, the most common spelling of each key
    spelled = pd.Series(taken).groupby(pd.Series(taken).map(key).to_numpy()).agg(lambda s: s.value_counts().index[0])
    methods = tuple(sorted(spelled.to_numpy()))
    action = pd.Index([key(m) for m in methods]).get_indexer(pd.Series(taken).map(key))
    rows = {m: int((action == a).sum()) for a, m in enumerate(methods)}
    k = len(methods)
    if k < 2:
        raise RecoveryError(f"Every borrower in the history received '{methods[0]}': effects of different "
                            "actions can only be learned when the history holds at least two.")

    codes = FieldCodes([], categorical).fit(frame)
    X = _matrix(frame, numeric, codes)
    is_cat = np.array([False] * len(numeric) + [True] * len(categorical))
    fold = np.asarray(pd.util.hash_pandas_object(pd.Series(np.arange(len(frame))), index=False) % FOLDS)
    # folds from the stable order itself: row i of the sorted history is the same borrower in any file order
    naive = pd.DataFrame({"band": dpd_band(frame["Days_Past_Due"].to_numpy(dtype="float64", na_value=np.nan))
                          if "Days_Past_Due" in frame else "all", "method": np.asarray(methods)[action],
                          "share": share}).pivot_table(index="band", columns="method", values="share",
                                                       aggfunc="mean").reindex(columns=list(methods))
    naive = naive.fillna(pd.Series(share).groupby(np.asarray(methods)[action]).mean())

    def fit_fold(f: int) -> tuple:
        train = np.flatnonzero(fold != f)
        seed = random_state + 97 * f
        sample = _sample(train, train_max_rows, seed)
        prop = _fit_propensity(X[sample], action[sample], is_cat, seed)
        if estimator == "s_learner":
            pick = _sample(train, train_max_rows * 2, seed + 1)
            Xa = np.column_stack([X[pick], action[pick]])
            models = (_fit_regressor(Xa, share[pick], np.append(is_cat, True), seed),)
        else:
            models = []
            for a in range(k):
                mine = train[action[train] == a]
                if len(mine) < MIN_ROWS:
                    models.append(None)
                    continue
                pick = _sample(mine, train_max_rows, seed + 1 + a)
                models.append(_fit_regressor(X[pick], share[pick], is_cat, seed + a))
            models = tuple(models)
        return prop, models

    fitted = run_in_workers([lambda f=f: fit_fold(f) for f in range(FOLDS)], workers=workers)
    propensity = tuple(p for p, _ in fitted)
    outcome_models = tuple(m for _, m in fitted)

    # cross-fitted nuisances: each row read by the fold models that did not learn from it, on a
    # seeded sample of the history (reading a million rows would cost more than all the fitting)
    sub = _sample(np.arange(len(frame)), NUISANCE_MAX_ROWS, random_state + 5)
    Xs, fs, ys, As = X[sub], fold[sub], share[sub], action[sub]
    e = np.zeros((len(sub), k))
    mu = np.zeros((len(sub), k))
    for f, (prop, models) in enumerate(fitted):
        rows_f = fs == f
        e[rows_f] = _propensity((prop,), Xs[rows_f], k)
        mu[rows_f] = _outcomes(models, Xs[rows_f], k, "s_learner" if estimator == "s_learner" else "t_learner")
    mu = np.where(np.isnan(mu), _row_means(mu), mu)
    learnable = e >= PROPENSITY_FLOOR
    received = np.zeros_like(e, dtype=bool)
    received[np.arange(len(sub)), As] = True
    pseudo = mu + received * (ys[:, None] - mu) / np.maximum(e, PROPENSITY_FLOOR)

    final = ()
    if estimator == "doubly_robust":
        def fit_final(a: int):
            usable = np.flatnonzero(learnable[:, a])
            pick = _sample(usable, train_max_rows * 2, random_state + 7 + a)
            # the pseudo-outcomes are unbiased but noisy: a more regularised learner
            model = _regressor(random_state + a).set_params(
                min_samples_leaf=200, categorical_features=is_cat if is_cat.any() else None)
            return model.fit(Xs[pick], pseudo[pick, a])
        final = tuple(run_in_workers([lambda a=a: fit_final(a) for a in range(k)], workers=workers))

    effects = LearnedEffects(methods, numeric, categorical, codes, propensity, outcome_models, naive,
                             estimator, rows, final=final)
    learned = mu if estimator != "doubly_robust" else np.column_stack([_predict(m, Xs) for m in final])
    if estimator == "naive":
        learned = effects.predict(frame.iloc[sub])
    support = _support(methods, action, band, sub, learned, pseudo, learnable)
    return LearnedEffects(methods, numeric, categorical, codes, propensity, outcome_models, naive,
                          estimator, rows, support, final)
