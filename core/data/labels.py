"""Readable labels for a file's columns: humanised, short, unique within the file, the original kept.

A lender's header such as ``number_of_people_being_liable_to_provide_maintenance_for`` reads as
"Number of people…" on screen; the tutorial's fields keep their schema labels. Labels are for
reading only: downloads keep the user's column names exactly as written, and every place that
shows a label can show the original beside it (hover, title attribute) through ``original_of``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from core.data.schema import BY_NAME, DERIVED_LABELS

# Longest label, ellipsis included: fits a chart axis, a table header and a segment name.
MAX_LABEL = 28
ELLIPSIS = "…"
# Abbreviations collections teams write in capitals, whatever case the header used.
ABBREVIATIONS = frozenset({
    "ID", "EMI", "DPD", "APR", "LTV", "DTI", "FOIR", "KYC", "PAN", "SSN", "NPA", "POS", "ROI", "PD",
    "LGD", "EAD", "CIBIL", "FICO", "GST", "VAT", "EUR", "USD", "INR", "GBP", "DM", "UK", "EU", "SME",
    "NBFC", "ECL", "IFRS", "CRM", "SMS", "IVR", "URL", "PIN", "ZIP",
})
# Words a shortened label should not end on: "Installment rate in…" says less than "Installment rate…".
TRAILING_FILLER = frozenset({"a", "an", "and", "at", "be", "being", "by", "for", "from", "in", "of", "on", "or",
                             "per", "the", "to", "with"})
_SEPARATORS = re.compile(r"[_\s]+")
# camelCase and CAPSThenWord boundaries: "monthlyIncome", "DPDBucket"
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])(?![A-Z]s(?:$|[^a-z]))")  # not EMIs
_PUNCTUATION = "()[]{}%$#/.,:;'\"<>"


def _word(token: str, first: bool, all_caps_header: bool) -> str:
    """One word in sentence case, a known or written-in-capitals abbreviation kept in capitals."""
    core = token.strip(_PUNCTUATION)
    if core.upper() in ABBREVIATIONS:
        return token.replace(core, core.upper())
    if core[:-1].upper() in ABBREVIATIONS and core[-1:] == "s" and len(core) > 2:  # EMIs, IDs
        return token.replace(core, core[:-1].upper() + "s")
    if core.isupper() and len(core) > 1 and not all_caps_header:
        return token  # written in capitals among lower-case words: an abbreviation
    return token[:1].upper() + token[1:].lower() if first else token.lower()


def humanise(name: str) -> str:
    """'number_of_people_liable' -> 'Number of people liable'; 'monthlyEMI' -> 'Monthly EMI'.

    A header that already reads as words (spaces, no underscores) is kept as written; no character
    other than the separators is ever dropped.
    """
    text = str(name).strip()
    if not text or (" " in text and "_" not in text):
        return re.sub(r"\s+", " ", text) or str(name)
    if "_" not in text and text.count("-") >= 2 and not text.startswith("-"):
        text = text.replace("-", " ")  # kebab-case: days-past-due
    tokens = [w for chunk in _SEPARATORS.split(text) if chunk for w in _CAMEL.sub(" ", chunk).split(" ") if w]
    if not tokens:
        return str(name)
    letters = [t for t in tokens if any(c.isalpha() for c in t)]
    all_caps = bool(letters) and all(t.upper() == t for t in letters)
    return " ".join(_word(t, i == 0, all_caps) for i, t in enumerate(tokens))


def shorten(text: str, limit: int = MAX_LABEL) -> str:
    """Cut a label at a word boundary, ending in an ellipsis, so it is at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    words = text.split(" ")
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > limit - len(ELLIPSIS):
            break
        kept.append(word)
    while len(kept) > 1 and kept[-1].lower() in TRAILING_FILLER:
        kept.pop()
    if not kept:  # one very long word: cut inside it
        return text[: limit - len(ELLIPSIS)] + ELLIPSIS
    return " ".join(kept) + ELLIPSIS


def _middle(text: str, tail_words: int, limit: int) -> str | None:
    """The head and the last words of a label around an ellipsis: 'Number of people … for'."""
    words = text.split(" ")
    if tail_words >= len(words):
        return None
    tail = " ".join(words[-tail_words:])
    if tail.lower() in TRAILING_FILLER:
        return None
    room = limit - len(tail) - len(ELLIPSIS) - 1
    head: list[str] = []
    for word in words[:-tail_words]:
        if len(" ".join([*head, word])) > room:
            break
        head.append(word)
    return f"{' '.join(head)}{ELLIPSIS} {tail}" if head else None


def readable(name: str) -> str:
    """A column's label without its file: the schema's label, else the header humanised and shortened."""
    if name in BY_NAME:
        return BY_NAME[name].label
    if name in DERIVED_LABELS:
        return DERIVED_LABELS[name]
    return shorten(humanise(name))


@lru_cache(maxsize=256)
def _file_labels(columns: tuple[str, ...]) -> dict[str, str]:
    """Labels for one file's columns, no two alike (cached: pages ask for them on every rerun)."""
    labels: dict[str, str] = {}
    used: set[str] = set()
    # the schema's own labels first, so a file column never takes a tutorial field's label
    ordered = sorted(dict.fromkeys(columns), key=lambda c: (c not in BY_NAME and c not in DERIVED_LABELS))
    wanted = {c: readable(c) for c in ordered}
    clashing = {w for w in wanted.values() if list(wanted.values()).count(w) > 1}
    for column in ordered:
        canonical = column in BY_NAME or column in DERIVED_LABELS
        full = wanted[column] if canonical else humanise(column)
        candidates = [] if wanted[column] in clashing and not canonical else [wanted[column]]
        if full != wanted[column]:  # shortened into a clash: keep the words that tell them apart
            candidates += [m for n in range(1, 6) if (m := _middle(full, n, MAX_LABEL))]
        # the same words as another column's: its own header tells them apart
        candidates += [wanted[column], shorten(str(column))]
        label = next((c for c in candidates if c not in used), None)
        suffix = 2
        while label is None:
            attempt = f"{shorten(full, MAX_LABEL - 4)} ({suffix})"
            label, suffix = (attempt if attempt not in used else None), suffix + 1
        labels[column] = label
        used.add(label)
    return {column: labels[column] for column in dict.fromkeys(columns)}  # in the file's order


def file_labels(columns: Iterable[str]) -> dict[str, str]:
    """Each column's label within its file: readable, at most MAX_LABEL characters, no two the same."""
    return dict(_file_labels(tuple(str(c) for c in columns)))


def label_in(name: str, columns: Iterable[str]) -> str:
    """One column's label among the file's columns (its readable label if it is not one of them)."""
    return _file_labels(tuple(str(c) for c in columns)).get(name) or readable(name)


def original_of(columns: Iterable[str]) -> dict[str, str]:
    """Label -> the column's name as the file wrote it, to show the original on hover."""
    return {label: column for column, label in file_labels(columns).items()}


def lower_first(label: str) -> str:
    """A label inside a phrase: 'high age in years', but 'high EMI' and 'high DPD bucket' keep capitals."""
    first = label.split(" ", 1)[0].rstrip(ELLIPSIS)
    if first.isupper() and len(first) > 1:
        return label
    return label[:1].lower() + label[1:]
