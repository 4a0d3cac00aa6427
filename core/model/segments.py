"""Borrower segments: K-Means on standardised fields, profiled and named from what sets them apart."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.impute import SimpleImputer
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from core.config import RecoveryConfig
from core.data import (
    FULLY_RECOVERED,
    NUMERIC_FIELDS,
    OUTCOME,
    RATIOS,
    Prepared,
    add_ratios,
    file_labels,
    label,
    label_in,
    lower_first,
    row_hashes,
    stable_argsort,
    value_order,
)
from core.display import decimal, priced
from core.errors import RecoveryError
from core.model.risk import one_thread
from core.model.wording import MONEY_FIELDS
from core.progress import Progress, no_progress

# The notebook's names, by cluster id; only the seed preset uses them.
SEED_SEGMENT_NAMES = {
    0: "Moderate Income, High Loan Burden",
    1: "High Income, Low Default Risk",
    2: "Moderate Income, Medium Risk",
    3: "High Loan, Higher Default Risk",
}
SEED_HIGH_RISK_NAMES = ("High Loan, Higher Default Risk", "Moderate Income, High Loan Burden")

# How a segment that sits above / below the portfolio on a field is described, and the theme
# it speaks to: a name uses one phrase per theme, so it never says the same thing twice.
DESCRIPTORS: dict[str, tuple[str, str, str]] = {
    "Days_Past_Due": ("long overdue", "current on payments", "delinquency"),
    "Num_Missed_Payments": ("many missed payments", "few missed payments", "delinquency"),
    "EMI_To_Income": ("heavy EMI burden", "light EMI burden", "emi"),
    "Monthly_EMI": ("high EMI", "low EMI", "emi"),
    "Monthly_Income": ("high income", "low income", "income"),
    "Loan_Amount": ("large loans", "small loans", "size"),
    "Outstanding_Loan_Amount": ("high outstanding", "low outstanding", "size"),
    "Collateral_Coverage": ("well collateralised", "thin collateral", "collateral"),
    "Collateral_Value": ("high collateral", "low collateral", "collateral"),
    "Interest_Rate": ("high interest rate", "low interest rate", "rate"),
    "Loan_Tenure": ("long tenure", "short tenure", "tenure"),
    "Age": ("older borrowers", "younger borrowers", "age"),
    "Num_Dependents": ("many dependents", "few dependents", "dependents"),
    "Outstanding_Share": ("most of loan outstanding", "mostly repaid", "repaid"),
}
# Above this many borrowers K-Means is fitted on a seeded sample (drawn in value order, so the
# same file in any row order gives the same sample) and every borrower is assigned to the
# nearest centre; centres from 20,000 borrowers move by a small fraction of a standard deviation.
FIT_MAX_ROWS = 20_000
# Below this many standard deviations from the portfolio a segment is not called different.
NOTABLE_Z = 0.25
# Fields that say how delinquent a segment is, most telling first.
DELINQUENCY_FIELDS = ("Days_Past_Due", "Num_Missed_Payments", "EMI_To_Income")


@dataclass(frozen=True)
class Segments:
    """Each borrower's segment, and what each segment looks like."""

    ids: np.ndarray
    names: dict[int, str]
    profile: pd.DataFrame
    features: tuple[str, ...]
    imputed: dict[str, int]
    fitted_on: int = 0
    # the fitted K-Means pipeline and each raw cluster's segment id, to place new borrowers
    model: Pipeline | None = field(default=None, compare=False, repr=False)
    relabel: tuple[int, ...] = ()
    # each field's label within its file (readable, unique), to show beside the original header
    labels: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def label(self, name: str) -> str:
        """A segmentation field's readable label."""
        return self.labels.get(name) or label(name)

    def name_of_each(self) -> np.ndarray:
        """Segment name per borrower."""
        names = np.array([self.names.get(i, "") for i in range(max(self.names) + 1)], dtype=object)
        return names[self.ids]


def _check(df: pd.DataFrame, features: tuple[str, ...], k: int) -> None:
    """Raise RecoveryError when the fields or the row count cannot support k segments."""
    missing = [f for f in features if f not in df.columns]
    if missing:
        raise RecoveryError(
            f"Segmentation needs the field(s) {', '.join(missing)}, which the loaded file does not "
            "have: map a column to them on the Data page or choose other fields."
        )
    not_numeric = [f for f in features if not pd.api.types.is_numeric_dtype(df[f])]
    if not_numeric:
        raise RecoveryError(
            f"Segmentation fields must be numeric; {', '.join(not_numeric)} is not: choose numeric fields."
        )
    empty = [f for f in features if df[f].notna().sum() == 0]
    if empty:
        raise RecoveryError(f"Field(s) {', '.join(empty)} have no values: choose other fields.")
    if len(df) < k:
        raise RecoveryError(
            f"{k} segments need at least {k} borrowers; the data has {len(df)}: choose a smaller k."
        )


def _segmenter(k: int, random_state: int) -> Pipeline:
    """Median-impute, standardise, K-Means: the notebook's method with missing values handled."""
    return make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        KMeans(n_clusters=k, n_init=10, random_state=random_state),
    )


def fit_segments(
    df: pd.DataFrame,
    features: tuple[str, ...],
    k: int,
    random_state: int = 42,
    naming: str = "profile",
    hashes: dict[str, np.ndarray] | None = None,
) -> Segments:
    """Cluster borrowers into k segments and name each one.

    With ``naming="seed"`` the notebook is reproduced: rows in file order, names by cluster id.
    Otherwise rows are put in a value-based order first, segments are numbered from least to
    most delinquent and named from their profile, so names don't depend on row order or ids.
    ``hashes``: the frame's column hashes already worked out (value_order's memo), kept for later.
    """
    _check(df, features, k)
    X = df[list(features)].to_numpy(dtype="float64", na_value=np.nan)
    # distinct rows by a hash of each row's values (np.unique(axis=0) takes seconds at 1,000,000);
    # the same hashes give the value order
    rows_hashed = row_hashes(df[list(features)], hashes)
    distinct = len(pd.unique(rows_hashed))
    if distinct < k:
        raise RecoveryError(
            f"{k} segments need at least {k} distinct borrowers on the chosen fields; the data has "
            f"{distinct}: choose a smaller k or more fields."
        )
    imputed = {f: int(n) for f, n in df[list(features)].isna().sum().items() if n}
    model = _segmenter(k, random_state)
    order = np.arange(len(X)) if naming == "seed" else stable_argsort(rows_hashed)
    fit_rows = order
    if len(X) > FIT_MAX_ROWS:
        fit_rows = order[np.sort(np.random.default_rng(random_state).choice(len(X), FIT_MAX_ROWS, replace=False))]
    with threadpool_limits(limits=1):
        model.fit(X[fit_rows])
        raw = _predicted(model, X)
    portfolio = spread(df)  # numbering, naming and advice all measure against the same portfolio
    if naming == "seed":
        relabel = np.arange(k)
        names = {i: SEED_SEGMENT_NAMES.get(i, f"Segment {i}") for i in range(k)}
    else:
        relabel = _renumber_by_delinquency(df, raw, k, portfolio)
    ids = relabel[raw]
    if naming != "seed":
        names = profile_names(df, ids, k, features, portfolio)
    profile = segment_profile(df, ids, names, features, portfolio)
    labels = field_labels(df, features)
    return Segments(ids=ids, names=names, profile=profile, features=tuple(features), imputed=imputed,
                    fitted_on=len(fit_rows), model=model, relabel=tuple(int(i) for i in relabel), labels=labels)


# Borrowers placed in their segment together: the imputer and the scaler each copy their rows.
PREDICT_ROWS = 100_000


def _predicted(model: Pipeline, X: np.ndarray) -> np.ndarray:
    """The fitted segmenter's cluster of each row, PREDICT_ROWS at a time (a row's cluster is its own)."""
    if len(X) <= PREDICT_ROWS:
        return model.predict(X)
    return np.concatenate([model.predict(X[start:start + PREDICT_ROWS]) for start in range(0, len(X), PREDICT_ROWS)])


def assign_segments(model: Pipeline, relabel: np.ndarray, df: pd.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    """Place borrowers in the nearest segment of a fitted segmentation (no refitting)."""
    X = df[list(features)].to_numpy(dtype="float64", na_value=np.nan)
    with one_thread():
        raw = model.predict(X)
    return np.asarray(relabel)[raw]


@dataclass(frozen=True)
class Spread:
    """The portfolio's fields (ratios added) with each numeric one's mean and standard deviation.

    Worked out once per segmentation: naming, numbering and advice all measure segments against it.
    """

    frame: pd.DataFrame  # the fields with the ratios added, as they are
    values: pd.DataFrame  # its numeric fields, infinities read as missing
    mean: pd.Series
    std: pd.Series  # 0 read as missing: a field that never varies sets no segment apart


def spread(df: pd.DataFrame) -> Spread:
    """The portfolio's Spread."""
    frame = add_ratios(df, keep_present=True)
    values = frame[[f for f in frame.columns if pd.api.types.is_numeric_dtype(frame[f])]]
    # only columns with an infinity are replaced: a copy of every numeric column is 0.1 GB a million borrowers
    infinite = [f for f in values.columns if np.isinf(values[f].to_numpy(dtype="float64", na_value=np.nan)).any()]
    if infinite:
        values = values.assign(**{f: values[f].replace([np.inf, -np.inf], np.nan) for f in infinite})
    return Spread(frame, values, values.mean(), values.std().replace(0, np.nan))


def _delinquency_index(df: pd.DataFrame, ids: np.ndarray, k: int, portfolio: Spread | None = None) -> np.ndarray:
    """Mean z-score of each segment on the delinquency fields present (0 when none are)."""
    portfolio = portfolio or spread(df)
    z = _segment_z(portfolio.frame, ids, k, list(DELINQUENCY_FIELDS), portfolio)
    return z.mean(axis=1).fillna(0).to_numpy() if z.shape[1] else np.zeros(k)


def _renumber_by_delinquency(df: pd.DataFrame, raw: np.ndarray, k: int, portfolio: Spread | None = None) -> np.ndarray:
    """Each raw cluster's new number, 0..k-1 from least to most delinquent (ties by size, then raw id)."""
    index = _delinquency_index(df, raw, k, portfolio)
    sizes = np.bincount(raw, minlength=k)
    order = sorted(range(k), key=lambda s: (round(float(index[s]), 9), -sizes[s], s))
    relabel = np.empty(k, dtype=int)
    relabel[order] = np.arange(k)
    return relabel


def _segment_z(
    df: pd.DataFrame, ids: np.ndarray, k: int, fields: list[str], portfolio: Spread | None = None
) -> pd.DataFrame:
    """How far each segment's mean sits from the portfolio's, in portfolio standard deviations."""
    fields = [f for f in fields if f in df.columns and pd.api.types.is_numeric_dtype(df[f])]
    if not fields:
        return pd.DataFrame(index=range(k))
    if portfolio is None:
        values = df[fields].replace([np.inf, -np.inf], np.nan)
        mean, std = values.mean(), values.std().replace(0, np.nan)
    else:
        values, mean, std = portfolio.values[fields], portfolio.mean[fields], portfolio.std[fields]
    means = values.groupby(ids).mean().reindex(range(k))
    return (means - mean) / std


ON_TIME_DAYS = 30  # a segment averaging more days past due than one billing cycle is not "paying on time"
ON_TIME_MISSED = 1.5  # without days past due: more missed payments than this on average is not "on time"


def _on_time(df: pd.DataFrame, ids: np.ndarray, k: int) -> list[bool]:
    """Per segment: its own arrears are low (days past due within a cycle; else at most one missed payment or so)."""
    checks = [(f, limit) for f, limit in (("Days_Past_Due", ON_TIME_DAYS), ("Num_Missed_Payments", ON_TIME_MISSED))
              if f in df.columns and pd.api.types.is_numeric_dtype(df[f])][:1]  # days past due says it best
    means = {f: df[f].groupby(ids).mean().reindex(range(k)) for f, _ in checks}
    return [all(pd.isna(means[f][seg]) or means[f][seg] <= limit for f, limit in checks) for seg in range(k)]


def segment_advice(df: pd.DataFrame, ids: np.ndarray, k: int, portfolio: Spread | None = None) -> dict[int, str]:
    """One line per segment on what it means for collections, from its own profile against the portfolio's.

    Words about collateral appear only where the file has collateral, and "on time" only where the
    segment's own days past due are low, so the advice never contradicts the segment's figures.
    """
    portfolio = portfolio or spread(df)
    frame = portfolio.frame
    if not any(f in frame.columns for f in DELINQUENCY_FIELDS):
        # without arrears fields a segment's profile cannot say how to collect: its outcome rate can
        return {seg: "Compare its outcome rate with the other segments' before choosing how to collect."
                for seg in range(k)}
    delinquency = _delinquency_index(df, ids, k, portfolio)
    cover_field = "Collateral_Coverage" if "Collateral_Coverage" in frame else "Collateral_Value"
    cover = _segment_z(frame, ids, k, [cover_field], portfolio)
    burden = _segment_z(frame, ids, k, ["EMI_To_Income"], portfolio)
    on_time = _on_time(frame, ids, k)
    advice = {}
    for seg in range(k):
        late = float(delinquency[seg])
        secured = float(cover.iloc[seg, 0]) if cover.shape[1] and pd.notna(cover.iloc[seg, 0]) else None
        stretched = float(burden.iloc[seg, 0]) if burden.shape[1] and pd.notna(burden.iloc[seg, 0]) else 0.0
        if late > 0.5 and secured is None:
            advice[seg] = "Long overdue: prioritise early settlement before the debt ages further; escalate the largest balances."
        elif late > 0.5 and secured <= 0:
            advice[seg] = ("Long overdue, collateral covers less than elsewhere in the book: prioritise early "
                           "settlement before the debt ages further.")
        elif late > 0.5:
            advice[seg] = "Long overdue but secured: legal recovery is backed by collateral; escalate the largest balances."
        elif late > 0 and stretched > NOTABLE_Z:
            advice[seg] = "Slipping under heavy repayments: offer restructured repayment plans before arrears grow."
        elif late > 0:
            advice[seg] = "Starting to slip: early calls and reminders keep them from rolling into arrears."
        elif not on_time[seg]:
            advice[seg] = ("Less overdue than the rest of the book, but still behind: early calls and reminders "
                           "before the arrears age further.")
        elif stretched > NOTABLE_Z:
            advice[seg] = "Current but heavily burdened: watch closely and remind before each due date."
        else:
            advice[seg] = "Paying on time: automated reminders and monitoring are enough."
    return advice


def _descriptor(name: str, columns: tuple[str, ...] = ()) -> tuple[str, str, str]:
    """How a segment above / below the portfolio on a field is described; any field of the file has one."""
    if name in DESCRIPTORS:
        return DESCRIPTORS[name]
    words = lower_first(label_in(name, columns))  # the file's header, readable: 'high age in years'
    return f"high {words}", f"low {words}", name


def profile_names(
    df: pd.DataFrame, ids: np.ndarray, k: int, features: tuple[str, ...] = (), portfolio: Spread | None = None
) -> dict[int, str]:
    """Name each segment by the two fields on which it differs most from the portfolio."""
    portfolio = portfolio or spread(df)
    z = _segment_z(portfolio.frame, ids, k, list(DESCRIPTORS) + [f for f in features if f not in DESCRIPTORS],
                   portfolio)
    on_time = _on_time(df, ids, k)
    columns = tuple(df.columns)
    names: dict[int, str] = {}
    for seg in range(k):
        ranked = z.loc[seg].dropna().abs().sort_values(ascending=False, kind="stable")
        phrases, themes = [], set()
        for f in (f for f in ranked.index if ranked[f] >= NOTABLE_Z):
            high, low, theme = _descriptor(f, columns)
            if theme not in themes:
                themes.add(theme)
                # below the book's arrears is not "current" when the segment's own days past due are high
                phrases.append(high if z.loc[seg, f] > 0 else "less overdue" if f == "Days_Past_Due"
                               and not on_time[seg] else low)
        names[seg] = _unique_name(phrases, set(names.values()))
    return names


def _unique_name(phrases: list[str], taken: set[str]) -> str:
    """Join the first two phrases, adding more (then a number) until the name is unused."""
    if not phrases:
        phrases = ["typical profile"]
    for n in range(2, len(phrases) + 1):
        candidate = _join(phrases[:n])
        if candidate not in taken:
            return candidate
    base, suffix = _join(phrases[:2]), 2
    while f"{base} ({suffix})" in taken:
        suffix += 1
    return base if base not in taken else f"{base} ({suffix})"


def _join(phrases: list[str]) -> str:
    """'High income · low delinquency' style name."""
    text = " · ".join(phrases)
    return text[:1].upper() + text[1:]


def field_labels(df: pd.DataFrame, features: tuple[str, ...]) -> dict[str, str]:
    """Each segmentation field's readable label in its file; its own header where the label is a profile column's."""
    labels = {f: label_in(f, df.columns) for f in features}
    return {f: f if labels[f] in (*SEGMENT_SUMMARY, ADVICE) else labels[f] for f in features}


def segment_profile(
    df: pd.DataFrame, ids: np.ndarray, names: dict[int, str], features: tuple[str, ...],
    portfolio: Spread | None = None,
) -> pd.DataFrame:
    """Per segment: size, share, mean of each field in original units, and outcome rates if known."""
    grouped = df[list(features)].groupby(ids)
    profile = grouped.mean()
    labels = field_labels(df, features)
    profile.columns = [labels[c] for c in profile.columns]
    profile.insert(0, "Borrowers", grouped.size())
    profile.insert(1, "Share of borrowers", profile["Borrowers"] / len(df))
    if "Outstanding_Loan_Amount" in df.columns:
        profile.insert(2, "Total outstanding", df["Outstanding_Loan_Amount"].groupby(ids).sum())
    if OUTCOME in df.columns and df[OUTCOME].notna().any():
        known = df[OUTCOME].notna()
        not_full = (df[OUTCOME] != FULLY_RECOVERED).where(known)
        written = (df[OUTCOME] == "Written Off").where(known)
        profile["Not fully recovered rate"] = not_full.astype("float64").groupby(ids).mean()
        profile["Written off rate"] = written.astype("float64").groupby(ids).mean()
    advice = segment_advice(df, ids, len(names), portfolio)
    profile.insert(0, ADVICE, [advice[i] for i in profile.index])
    profile.insert(0, "Segment", [names[i] for i in profile.index])
    profile.index.name = "Borrower_Segment"
    return profile.reset_index()


ADVICE = "What it means for collections"
# The profile's figures about each segment as a whole; its other columns are field means.
SEGMENT_SUMMARY = ("Borrower_Segment", "Segment", "Borrowers", "Share of borrowers", "Total outstanding",
                   "Not fully recovered rate", "Written off rate", "Bad-outcome rate")
OUTCOME_RATES = ("Not fully recovered rate", "Written off rate", "Bad-outcome rate")


def profile_summary(profile: pd.DataFrame) -> pd.DataFrame:
    """Size, money and outcome rates per segment: narrow enough to read without scrolling."""
    return profile[[c for c in SEGMENT_SUMMARY if c in profile.columns]]


def field_means(segments: Segments, currency: str = "") -> pd.DataFrame:
    """The typical borrower of each segment as text: one row per field, one column per segment."""
    profile = segments.profile.set_index("Segment")
    table = pd.DataFrame({"Field": [segments.label(f) for f in segments.features]})
    for name, row in profile.iterrows():
        table[name] = [priced(row[segments.label(f)], currency) if f in MONEY_FIELDS else decimal(row[segments.label(f)], 1)
                       for f in segments.features]
    return table


def choose_k(
    df: pd.DataFrame,
    features: tuple[str, ...],
    ks: range = range(2, 9),
    random_state: int = 42,
    sample_size: int = 3000,
) -> pd.DataFrame:
    """Inertia and silhouette for each k, to help choose the number of segments.

    Silhouette is computed on a seeded sample of at most ``sample_size`` borrowers because it
    costs time quadratic in rows.
    """
    _check(df, features, min(ks))
    X = df[list(features)].to_numpy(dtype="float64", na_value=np.nan)
    X = X[value_order(df[list(features)])]
    if len(X) > FIT_MAX_ROWS:
        X = X[np.sort(np.random.default_rng(random_state).choice(len(X), FIT_MAX_ROWS, replace=False))]
    rows = []
    for k in ks:
        if k > len(X) - 1:
            break
        model = _segmenter(k, random_state)
        with threadpool_limits(limits=1):
            ids = model.fit_predict(X)
        scaled = model[:-1].transform(X)
        if len(np.unique(ids)) < 2:
            continue
        silhouette = silhouette_score(
            scaled, ids, sample_size=min(sample_size, len(X)), random_state=random_state
        )
        rows.append({"k": k, "inertia": float(model[-1].inertia_), "silhouette": float(silhouette)})
    return pd.DataFrame(rows, columns=["k", "inertia", "silhouette"])


def high_risk_segments(segments: Segments, df: pd.DataFrame, naming: str) -> tuple[int, ...]:
    """Segments the fallback flag calls high risk.

    The seed preset flags the notebook's two named segments; otherwise segments more delinquent
    than the portfolio average are flagged.
    """
    k = len(segments.names)
    if naming == "seed":
        return tuple(i for i, n in segments.names.items() if n in SEED_HIGH_RISK_NAMES)
    index = _delinquency_index(df, segments.ids, k)
    flagged = tuple(i for i in range(k) if index[i] > 0)
    return flagged or (int(np.argmax(index)),)


# ------------------------------------------------------------------------------ the segment stage


# A file without the tutorial's fields is segmented on at most this many of its own numeric fields.
MAX_OWN_SEGMENT_FIELDS = 10


@dataclass(frozen=True)
class SegmentRun:
    """The segments, and what the user should know about how they were formed."""

    segments: Segments
    notes: tuple[str, ...]


def segment_options(prepared: Prepared) -> list[str]:
    """The numeric fields a user may segment on: the tutorial's present, then the file's own."""
    df = prepared.features
    canonical = [f for f in NUMERIC_FIELDS if f in df.columns and df[f].notna().any()]
    own = [f for f in prepared.roles.numeric if f not in RATIOS and f not in canonical]
    return canonical + own


def segment_fields(prepared: Prepared, config: RecoveryConfig) -> tuple[tuple[str, ...], list[str]]:
    """The fields the segments use, with a note on any configured field the file lacks."""
    df = prepared.features
    # a column that is there but holds no value is as good as absent: skipped, and said so
    empty = [f for f in config.segment_features if f in df.columns and df[f].notna().sum() == 0]
    present = tuple(f for f in config.segment_features if f in df.columns and f not in empty)
    missing = [f for f in config.segment_features if f not in df.columns or f in empty]
    if missing and config.preset == "seed":
        raise RecoveryError(
            f"Segmentation needs {', '.join(missing)}, which the loaded file does not have: map a "
            "column to each on the Data page, or choose other segmentation fields."
        )
    if not present:
        own = tuple(segment_options(prepared)[:MAX_OWN_SEGMENT_FIELDS])
        if not own:
            raise RecoveryError("Segmentation needs at least one numeric field, and this file has none that can "
                                "be learned from: check the column roles on the Data page.")
        labels = file_labels(df.columns)
        return own, [f"Segments use this file's own numeric fields ({', '.join(labels.get(f, f) for f in own)}): "
                     "it has none of the tutorial's segmentation fields."]
    if missing:
        return present, [f"Segments use {len(present)} fields; not in this file: {', '.join(f'{label(f)} ({f})' for f in missing)}"
                         + (f" ({', '.join(empty)} present but empty)" if empty else "") + "."]
    return present, []


def segment(prepared: Prepared, config: RecoveryConfig, progress: Progress = no_progress) -> SegmentRun:
    """K-Means segments on the configured fields the file has (segment stage)."""
    df = prepared.features
    present, notes = segment_fields(prepared, config)
    progress("Forming segments", 0.0)
    segments = fit_segments(df, present, config.n_segments, config.random_state, config.segment_naming,
                            prepared.hashes)
    outcome = prepared.roles.outcome
    if outcome is not None and not outcome.canonical:
        # one outcome everywhere: the tutorial's status rates describe another reading of the file
        segments = replace(segments, profile=segments.profile.drop(
            columns=["Not fully recovered rate", "Written off rate"], errors="ignore"))
    if outcome is not None and not outcome.canonical and outcome.bad:
        profile = segments.profile.copy()
        profile["Bad-outcome rate"] = pd.Series(outcome.y).groupby(segments.ids).mean().reindex(
            profile["Borrower_Segment"]).to_numpy()
        segments = replace(segments, profile=profile)
    for name, n in segments.imputed.items():
        notes.append(f"{n} missing {segments.label(name)} value(s) filled with the median for segmentation.")
    if segments.fitted_on < len(df):
        notes.append(
            f"Segments were formed on a random sample of {segments.fitted_on:,} borrowers; every "
            "borrower is then placed in the nearest one."
        )
    progress("Segments formed", 1.0)
    return SegmentRun(segments, tuple(notes))
