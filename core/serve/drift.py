"""Has this month's book moved away from the one the model learned from? PSI per field and for the score.

The training profile keeps, per field, the share of borrowers in each of its training deciles (or
each category) and the share missing; a new file is binned on the same edges and compared with
the Population Stability Index, sum((new - train) * ln(new / train)), read with the usual bands.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import readable as label
from core.model import wording

STABLE, WATCH, ACT = "stable", "watch", "act"
# The usual PSI bands: below 0.10 stable, 0.10 to 0.25 watch, above 0.25 act.
WATCH_FROM, ACT_FROM = 0.10, 0.25
# A share of zero would make PSI infinite; shares are floored here (a bin nobody is in).
_FLOOR = 1e-4
# Categories kept by name in the profile; rarer training values count as "(other)".
MAX_CATEGORIES = 50
OTHER = "(other)"
MAX_UNSEEN_NAMES = 1000
SCORE = "Risk_Score"
DECILES = np.linspace(0.1, 0.9, 9)
COLUMNS = ("field", "label", "kind", "psi", "band", "missing_train", "missing_new", "new_values",
           "new_value_names", "sentence")


def band(psi: float) -> str:
    """The PSI band: stable, watch or act."""
    if psi > ACT_FROM:
        return ACT
    return WATCH if psi >= WATCH_FROM else STABLE


def _numbers(values: pd.Series) -> np.ndarray:
    """A column as floats, missing as NaN."""
    return values.to_numpy(dtype="float64", na_value=np.nan)


def numeric_profile(values: pd.Series | np.ndarray) -> dict:
    """Training deciles of a numeric field, and the share of borrowers in each bin and missing."""
    x = _numbers(pd.Series(values))
    finite = x[np.isfinite(x)]
    edges = np.unique(np.quantile(finite, DECILES)) if len(finite) else np.array([])
    return {"kind": "numeric", "edges": edges.tolist(), "shares": _numeric_shares(x, edges).tolist()}


def _numeric_counts(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Values in each bin (len(edges) + 1 of them), then the number missing."""
    finite = np.isfinite(x)
    counts = np.bincount(np.searchsorted(edges, x[finite], side="right"), minlength=len(edges) + 1)
    return np.append(counts, (~finite).sum()).astype("float64")


def _numeric_shares(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of values in each bin, then the share missing."""
    return _numeric_counts(x, edges) / max(len(x), 1)


def category_profile(values: pd.Series) -> dict:
    """Share of each training category (the commonest MAX_CATEGORIES by name), rarer ones, and missing."""
    text = values.astype("object").where(values.notna())
    counts = text.value_counts(dropna=True)
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    kept = [str(v) for v in counts.index[:MAX_CATEGORIES]]
    n = max(len(values), 1)
    shares = {v: float(c) / n for v, c in zip(kept, counts.iloc[:MAX_CATEGORIES])}
    return {"kind": "category", "values": kept, "shares": [*shares.values(),
            float(counts.iloc[MAX_CATEGORIES:].sum()) / n, float(values.isna().sum()) / n],
            "seen": sorted(str(v) for v in counts.index)[:10_000]}


def _category_counts(values: pd.Series, profile: dict) -> tuple[np.ndarray, dict[str, int]]:
    """Borrowers per training category, other and missing; and per value training never saw."""
    text = values.astype("object").where(values.notna()).dropna().astype(str)
    counts = text.value_counts()
    kept = profile["values"]
    named = [float(counts.get(v, 0)) for v in kept]
    other = float(counts[~counts.index.isin(kept)].sum())
    unseen = counts[~counts.index.isin(profile["seen"])]
    return np.array([*named, other, float(values.isna().sum())]), {str(k): int(v) for k, v in unseen.items()}


def profile(frame: pd.DataFrame, fields: list[str], scores: np.ndarray) -> dict:
    """The training profile: each field's bins and shares, and the score's."""
    fields_profile = {}
    for name in fields:
        column = frame[name]
        fields_profile[name] = (numeric_profile(column) if pd.api.types.is_numeric_dtype(column)
                                else category_profile(column))
    return {"rows": int(len(frame)), "fields": fields_profile, SCORE: numeric_profile(scores)}


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population Stability Index of two share vectors over the same bins."""
    e, a = np.maximum(np.asarray(expected), _FLOOR), np.maximum(np.asarray(actual), _FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def field_label(name: str) -> str:
    """How a field (or the score) is named to the user."""
    return "Risk score" if name == SCORE else label(name)


def _money_or_number(name: str, value: float) -> str:
    """A bin edge as the Risk page writes values."""
    if name == SCORE:
        return f"{value:.2f}"
    return wording.number_text(name, np.array([value])).to_pylist()[0]


def _numeric_sentence(name: str, edges: list[float], train: np.ndarray, new: np.ndarray) -> str:
    """Which way the field moved, at the edge where the share above it changed most."""
    if not edges:
        return f"{field_label(name)} has no values to compare."
    # share above each edge = sum of the bins after it (the missing share left out)
    above_train = np.cumsum(train[:-1][::-1])[::-1][1:]
    above_new = np.cumsum(new[:-1][::-1])[::-1][1:]
    gap = above_new - above_train
    at = int(np.argmax(np.abs(gap)))
    way = "up" if gap[at] > 0 else "down"
    return (f"{field_label(name)} has shifted {way}: {above_new[at]:.0%} of borrowers are at "
            f"{_money_or_number(name, edges[at])} or above, {above_train[at]:.0%} were in training.")


def _category_sentence(name: str, profile_: dict, train: np.ndarray, new: np.ndarray,
                       unseen: list[str]) -> str:
    """The category whose share moved most, and any values training never saw."""
    names = [*profile_["values"], OTHER, "missing"]
    at = int(np.argmax(np.abs(new - train)))
    sentence = (f"{label(name)}: {new[at]:.0%} of borrowers are '{names[at]}', "
                f"{train[at]:.0%} were in training.")
    if unseen:
        shown = ", ".join(f"'{v}'" for v in unseen[:5]) + (" …" if len(unseen) > 5 else "")
        sentence += f" Values the model never saw: {shown}."
    return sentence


class DriftCounts:
    """Borrowers per training bin of every profiled field and of the score, added up chunk by chunk."""

    def __init__(self, training: dict):
        self.training = training
        self.counts: dict[str, np.ndarray] = {}
        self.unseen: dict[str, dict[str, int]] = {}  # the first MAX_UNSEEN_NAMES new values, by name
        self.unseen_rows: dict[str, int] = {}  # borrowers with any new value, counted exactly

    def _fields(self) -> list[tuple[str, dict]]:
        return [*self.training["fields"].items(), (SCORE, self.training[SCORE])]

    def add(self, frame: pd.DataFrame, scores: np.ndarray | None = None) -> DriftCounts:
        """Count the borrowers of one file or chunk."""
        for name, prof in self._fields():
            if name == SCORE and scores is None or name != SCORE and name not in frame.columns:
                continue
            values = pd.Series(scores) if name == SCORE else frame[name]
            if prof["kind"] == "numeric":
                counts, unseen = _numeric_counts(_numbers(values), np.asarray(prof["edges"])), {}
            else:
                counts, unseen = _category_counts(values, prof)
            self.counts[name] = self.counts.get(name, 0) + counts
            self.unseen_rows[name] = self.unseen_rows.get(name, 0) + sum(unseen.values())
            named = self.unseen.setdefault(name, {})
            for value, n in unseen.items():
                if value in named or len(named) < MAX_UNSEEN_NAMES:
                    named[value] = named.get(value, 0) + n
        return self

    def merge(self, other: DriftCounts) -> DriftCounts:
        """Add the counts of another part of the same file (counted against the same training profile)."""
        for name, counts in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + counts
        for name, n in other.unseen_rows.items():
            self.unseen_rows[name] = self.unseen_rows.get(name, 0) + n
        for name, values in other.unseen.items():
            named = self.unseen.setdefault(name, {})
            for value, n in values.items():
                if value in named or len(named) < MAX_UNSEEN_NAMES:
                    named[value] = named.get(value, 0) + n
        return self

    def shares(self, name: str) -> np.ndarray:
        """New shares of one field over its training bins (the last one missing)."""
        counts = self.counts[name]
        return counts / max(counts.sum(), 1)

    def table(self) -> pd.DataFrame:
        """PSI of every counted field against training, worst first, with a sentence each."""
        rows = []
        for name, prof in self._fields():
            if name not in self.counts:
                continue
            train, new = np.asarray(prof["shares"], dtype="float64"), self.shares(name)
            unseen = sorted(self.unseen.get(name, {}), key=lambda v: -self.unseen[name][v])
            if prof["kind"] == "numeric":
                sentence = _numeric_sentence(name, prof["edges"], train, new)
            else:
                sentence = _category_sentence(name, prof, train, new, unseen)
            value = psi(train, new)
            if band(value) == STABLE:
                sentence = f"{field_label(name)} looks as it did in training." + (
                    sentence[sentence.index(" Values the model never saw"):] if unseen else "")
            rows.append({
                "field": name, "label": field_label(name), "kind": prof["kind"], "psi": value,
                "band": band(value), "missing_train": float(train[-1]), "missing_new": float(new[-1]),
                "new_values": self.unseen_rows.get(name, 0),
                "new_value_names": ", ".join(unseen[:20]), "sentence": sentence,
            })
        table = pd.DataFrame(rows, columns=list(COLUMNS))
        return table.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)


def drift_table(training: dict, frame: pd.DataFrame, scores: np.ndarray | None = None) -> pd.DataFrame:
    """PSI of every profiled field (and the score) of a new file against the training profile, worst first."""
    return DriftCounts(training).add(frame, scores).table()


def summary(table: pd.DataFrame) -> str:
    """One line: how many fields in each band, and the worst field's sentence."""
    counts = table["band"].value_counts()
    line = (f"Drift: {counts.get(ACT, 0)} field(s) to act on, {counts.get(WATCH, 0)} to watch, "
            f"{counts.get(STABLE, 0)} stable")
    if len(table) and table["band"].iloc[0] != STABLE:
        worst = table.iloc[0]
        line += f"; worst: {worst['label']} (PSI {worst['psi']:.2f}). {worst['sentence']}"
    else:
        line += "."
    return line


def worst_sentences(table: pd.DataFrame, limit: int = 3) -> list[str]:
    """Plain sentences for the fields that moved most (those to watch or act on)."""
    moved = table[table["band"] != STABLE].head(limit)
    return [f"{row.sentence} (PSI {row.psi:.2f}, {row.band})" for row in moved.itertuples()]


def share_chart_data(training: dict, frame: pd.DataFrame, name: str, scores: np.ndarray | None = None) -> pd.DataFrame:
    """Training and new shares per bin of one field, for a chart (a handful of rows, never the borrowers)."""
    prof = training[SCORE] if name == SCORE else training["fields"][name]
    new = DriftCounts(training).add(frame, scores).shares(name)
    if prof["kind"] == "numeric":
        shown = [_money_or_number(name, e) for e in prof["edges"]]
        bins = ([f"below {shown[0]}"] if shown else ["all"]) + \
            [f"{a} to {b}" for a, b in zip(shown, shown[1:])] + ([f"{shown[-1]} or above"] if shown else [])
        bins.append("missing")
    else:
        bins = [*prof["values"], OTHER, "missing"]
    return pd.DataFrame({"bin": bins, "training": np.asarray(prof["shares"], dtype="float64"), "new file": new})
