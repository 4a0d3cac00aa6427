"""The manifest of a .slr bundle: read within bounds, checked against a strict schema, hashed whole.

A manifest is refused before anything is read from it when its bytes are too many or nested too
deep, when it is not UTF-8 JSON, repeats a key, or breaks the schema below (a type, a length, a
section missing or unknown, a number that is not finite, lists that do not fit each other). Every
refusal is one RecoveryError line naming the place in the manifest, never a traceback.

``content_digest`` hashes the canonical manifest together with the model payload, so anything
that decides a score (calibration, thresholds, settings, segment names, typical values) is
covered by the bundle's hash, not only the fitted model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import types
import typing
from collections.abc import Callable

import numpy as np

from core.errors import RecoveryError

# A real manifest is well under 5 MB and 6 levels deep; these bound what a crafted one can cost.
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 32
MAX_NAME = 1_000  # characters in a column name, label or value
MAX_TEXT = 10_000  # characters in a description
MAX_FIELDS = 5_000  # columns a model may learn from or a file may have
MAX_ITEMS = 100_000  # entries of any other list or table
MAX_SEEN = 10_000  # category values kept per field for drift (drift.category_profile)
MAX_POINTS = 1_001  # reference quantiles per field (bundle.REFERENCE_POINTS)
MAX_SEGMENTS = 20
CONTENT_HASH, PAYLOAD_HASH = "content_sha256", "model_sha256"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ESCAPE, _STRING = re.compile(rb"\\."), re.compile(rb'"[^"]*"')


class Bad(Exception):
    """Where a manifest breaks the schema, and how (turned into one RecoveryError line)."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path or 'the manifest'}: {problem}")


def _what(value) -> str:
    """A JSON value's kind in words."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "a table"


def _at(path: str, key) -> str:
    """The path of a member: model.calibration, explain.groups[3]."""
    return f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))


Spec = Callable[[object, str], None]


def text(max_chars: int = MAX_NAME, choices: tuple[str, ...] | None = None, pattern: re.Pattern | None = None) -> Spec:
    """Text of at most ``max_chars`` characters (one of ``choices``, or matching ``pattern``)."""
    def check(value, path: str) -> None:
        if not isinstance(value, str):
            raise Bad(path, f"is {_what(value)} where text goes")
        if len(value) > max_chars:
            raise Bad(path, f"is {len(value):,} characters, over the {max_chars:,} allowed")
        if choices is not None and value not in choices:
            raise Bad(path, f"is {value[:40]!r}, not one of {', '.join(choices)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise Bad(path, "is not a SHA-256 (64 hex digits)")
    return check


def number(integer: bool = False, lo: float | None = None, hi: float | None = None) -> Spec:
    """A finite number (a whole one when ``integer``) within [lo, hi]."""
    def check(value, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or integer and not isinstance(value, int):
            raise Bad(path, f"is {_what(value)} where {'a whole number' if integer else 'a number'} goes")
        if isinstance(value, float) and not math.isfinite(value):
            raise Bad(path, f"is {value}, not a finite number")
        if lo is not None and value < lo or hi is not None and value > hi:
            raise Bad(path, f"is {value}, outside {lo} to {hi}")
    return check


def flag(value, path: str) -> None:
    """true or false."""
    if not isinstance(value, bool):
        raise Bad(path, f"is {_what(value)} where true/false goes")


def maybe(spec: Spec) -> Spec:
    """null, or what ``spec`` accepts."""
    def check(value, path: str) -> None:
        if value is not None:
            spec(value, path)
    return check


def any_of(*specs: Spec) -> Spec:
    """What any one of ``specs`` accepts (the first's complaint otherwise)."""
    def check(value, path: str) -> None:
        for spec in specs[1:]:
            try:
                spec(value, path)
                return
            except Bad:
                pass
        specs[0](value, path)
    return check


def list_of(item: Spec, max_items: int = MAX_ITEMS, min_items: int = 0, unique: bool = False) -> Spec:
    """A list of ``min_items`` to ``max_items`` entries, each accepted by ``item``."""
    def check(value, path: str) -> None:
        if not isinstance(value, list):
            raise Bad(path, f"is {_what(value)} where a list goes")
        if not min_items <= len(value) <= max_items:
            raise Bad(path, f"has {len(value):,} entries, not {min_items:,} to {max_items:,}")
        for i, entry in enumerate(value):
            item(entry, _at(path, i))
        if unique and len(set(value)) != len(value):
            raise Bad(path, "repeats an entry")
    return check


def fixed(*items: Spec) -> Spec:
    """A list of exactly len(items) entries, each accepted by its own spec."""
    def check(value, path: str) -> None:
        if not isinstance(value, list):
            raise Bad(path, f"is {_what(value)} where a list goes")
        if len(value) != len(items):
            raise Bad(path, f"has {len(value)} entries, not {len(items)}")
        for i, (entry, spec) in enumerate(zip(value, items)):
            spec(entry, _at(path, i))
    return check


def table(required: dict[str, Spec], optional: dict[str, Spec] | None = None, unknown: str | None = None,
          rest: Spec | None = None) -> Spec:
    """A table with these keys (``optional`` ones may be absent); other keys refused, or checked by ``rest``."""
    optional = optional or {}

    def check(value, path: str) -> None:
        if not isinstance(value, dict):
            raise Bad(path, f"is {_what(value)} where a table goes")
        missing = [k for k in required if k not in value]
        if missing:
            raise Bad(_at(path, missing[0]), "is missing")
        extra = [k for k in value if k not in required and k not in optional]
        if extra and rest is None:
            raise Bad(_at(path, extra[0]), unknown or "is not part of a bundle this app writes")
        if len(extra) > MAX_ITEMS:
            raise Bad(path, f"has {len(extra):,} entries, over the {MAX_ITEMS:,} allowed")
        for key in extra:
            rest(value[key], _at(path, key))
        for key, spec in (*required.items(), *optional.items()):
            if key in value:
                spec(value[key], _at(path, key))
    return check


def mapping(item: Spec, max_items: int = MAX_ITEMS, key: Spec | None = None) -> Spec:
    """A table of up to ``max_items`` named entries, each accepted by ``item``."""
    key = key or text()

    def check(value, path: str) -> None:
        if not isinstance(value, dict):
            raise Bad(path, f"is {_what(value)} where a table goes")
        if len(value) > max_items:
            raise Bad(path, f"has {len(value):,} entries, over the {max_items:,} allowed")
        for name, entry in value.items():
            key(name, _at(path, "(a name)"))
            item(entry, _at(path, name))
    return check


def any_json(value, path: str) -> None:
    """Any JSON value (already bounded in size and depth by ``parse``); non-finite numbers allowed."""


def any_number(value, path: str) -> None:
    """A number, NaN and infinities included (an undefined metric is written as NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Bad(path, f"is {_what(value)} where a number goes")


def scalar(value, path: str) -> None:
    """Text, a number, true/false or null: one cell of a table."""
    if isinstance(value, (list, dict)):
        raise Bad(path, f"is {_what(value)} where one value goes")
    if isinstance(value, str):
        text(MAX_TEXT)(value, path)


# ------------------------------------------------------------------------------ the settings


def _hint_spec(hint) -> Spec:
    """The spec of one RecoveryConfig field from its type hint (new settings need no change here)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return text(choices=tuple(str(a) for a in args))
    if origin in (typing.Union, types.UnionType):
        specs = [_hint_spec(a) for a in args if a is not type(None)]
        spec = specs[0] if len(specs) == 1 else any_of(*specs)
        return maybe(spec) if type(None) in args else spec
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return list_of(_hint_spec(args[0]), MAX_FIELDS)
        return fixed(*(_hint_spec(a) for a in args))
    if origin is dict:
        return mapping(_hint_spec(args[1]), MAX_FIELDS)
    if dataclasses.is_dataclass(hint):
        return dataclass_spec(hint)
    if hint is bool:
        return flag
    if hint is int:
        return number(integer=True, lo=-2**63, hi=2**63 - 1)
    if hint is float:
        return number()
    if hint is str:
        return text(MAX_TEXT)
    raise TypeError(f"no manifest spec for {hint!r}")  # a programming error: a new kind of setting


def dataclass_spec(kind: type, unknown: str | None = None) -> Spec:
    """A dataclass as a table: every field its hint's spec; fields with a default may be absent."""
    hints = typing.get_type_hints(kind)
    fields = dataclasses.fields(kind)
    required = {f.name: _hint_spec(hints[f.name]) for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    optional = {f.name: _hint_spec(hints[f.name]) for f in fields if f.name not in required}
    return table(required, optional, unknown)


# ------------------------------------------------------------------------------ the schema


def _profile(value, path: str) -> None:
    """One field's training profile (drift.numeric_profile or drift.category_profile)."""
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind == "category":
        table({"kind": text(), "values": list_of(text(), MAX_SEEN),
               "shares": list_of(number(lo=0, hi=1), MAX_SEEN + 2), "seen": list_of(text(), MAX_SEEN)})(value, path)
    else:
        table({"kind": text(choices=("numeric", "category")), "edges": list_of(number(), MAX_POINTS),
               "shares": list_of(number(lo=0, hi=1), MAX_POINTS + 2)})(value, path)
        if any(b <= a for a, b in zip(value["edges"], value["edges"][1:])):
            raise Bad(_at(path, "edges"), "is not in increasing order")
    # the bins between the edges (or the kept values and "other"), then the missing share
    bins = len(value["values"]) + 2 if kind == "category" else len(value["edges"]) + 2
    if len(value["shares"]) != bins:
        raise Bad(_at(path, "shares"), f"has {len(value['shares'])} entries for {bins} bins")


def _schema(config_spec: Spec) -> Spec:
    """The whole manifest, section by section, as fit_bundle and dumps write it."""
    names = list_of(text(), MAX_FIELDS)
    finite = number()
    metric = table({"value": maybe(any_number)}, {"fold_mean": maybe(any_number), "fold_std": maybe(any_number)})
    return table({
        "format": text(),
        "created": text(64),
        "training_file": table({"name": text(MAX_TEXT), "sha256": text(pattern=_HEX64),
                                "rows": number(integer=True, lo=0), "rows_with_outcome": number(integer=True, lo=0)}),
        "config": config_spec,
        "columns": mapping(text(), MAX_FIELDS),
        "column_roles": list_of(mapping(scalar, 100), MAX_FIELDS),
        "model": table({
            "kind": text(), "label": text(), "target": text(), "target_description": text(MAX_TEXT),
            "numeric": list_of(text(), MAX_FIELDS, unique=True), "categorical": list_of(text(), MAX_FIELDS, unique=True),
            "calibrated": flag, "calibration": table({"slope": finite, "intercept": finite}),
            "trained_on_rows": number(integer=True, lo=1),
        }),
        "segments": table({"features": list_of(text(), MAX_FIELDS, min_items=1, unique=True),
                           "names": mapping(text(), MAX_SEGMENTS),
                           "relabel": list_of(number(integer=True, lo=0, hi=MAX_SEGMENTS), MAX_SEGMENTS)}),
        "explain": table({
            "groups": list_of(table({"field": text(), "columns": names, "ratios": names}), MAX_FIELDS),
            "typical": mapping(any_of(maybe(finite), text(), flag), MAX_FIELDS),
            "reference": mapping(list_of(finite, MAX_POINTS), MAX_FIELDS),
        }),
        "profile": table({"rows": number(integer=True, lo=0), "fields": mapping(_profile, MAX_FIELDS),
                          "Risk_Score": _profile}),
        # only the out-of-fold figures are read (the summary shows them); the rest is a record
        "metrics": table({"out_of_fold": mapping(metric, 100)}, rest=any_json),
        "versions": mapping(text(100), 100),
        PAYLOAD_HASH: text(pattern=_HEX64),
        CONTENT_HASH: text(pattern=_HEX64),
    }, {"effects": _effects()})


MAX_ACTIONS = 100  # actions in a history's action column (core.decide.history_effects keeps 12)


def _effects() -> Spec:
    """The learned action effects' plain parts (their models are in the payload, checked by fitted)."""
    cell = any_of(maybe(any_number), text())
    frame = table({"columns": list_of(cell, MAX_ITEMS), "index": list_of(cell, MAX_ITEMS),
                   "data": list_of(list_of(cell, MAX_ITEMS), MAX_ITEMS)})
    names = list_of(text(), MAX_FIELDS, unique=True)
    return table({
        "action_column": text(), "outcome": text(MAX_TEXT),
        "methods": list_of(text(), MAX_ACTIONS, min_items=2, unique=True), "numeric": names, "categorical": names,
        "estimator": text(choices=("t_learner", "s_learner", "doubly_robust", "naive")),
        "rows": mapping(number(integer=True, lo=0), MAX_ACTIONS), "naive": frame, "support": frame,
    })


def _consistent(m: dict) -> None:
    """The sections fit each other: lists the scoring code indexes into agree in length and names."""
    model, seg, ex = m["model"], m["segments"], m["explain"]
    columns = model["numeric"] + model["categorical"]
    if not columns:
        raise Bad("model", "learns from no fields")
    if set(model["numeric"]) & set(model["categorical"]):
        raise Bad("model.categorical", "names a field that model.numeric names too")
    k = len(seg["names"])
    if not 2 <= k <= MAX_SEGMENTS or sorted(seg["names"]) != sorted(str(i) for i in range(k)):
        raise Bad("segments.names", f"are not named 0 to {k - 1} (2 to {MAX_SEGMENTS} segments)")
    if sorted(seg["relabel"]) != list(range(k)):
        raise Bad("segments.relabel", f"is not an order of the {k} segments")
    groups = [g["field"] for g in ex["groups"]]
    if len(set(groups)) != len(groups):
        raise Bad("explain.groups", "names a field twice")
    if set(ex["typical"]) != set(groups):
        raise Bad("explain.typical", "does not give one value per explained field")
    unknown = set(ex["reference"]) - set(groups)
    if unknown:
        raise Bad(_at("explain.reference", sorted(unknown)[0]), "is not an explained field")
    for field, points in ex["reference"].items():
        if any(b < a for a, b in zip(points, points[1:])):
            raise Bad(_at("explain.reference", field), "is not in increasing order")
    _consistent_groups(ex["groups"], columns, set(model["categorical"]), ex["typical"])
    rows = m["training_file"]
    if rows["rows_with_outcome"] > rows["rows"]:
        raise Bad("training_file.rows_with_outcome", "is more than the rows")
    effects = m.get("effects")
    if effects is not None and sorted(effects["rows"]) != sorted(effects["methods"]):
        raise Bad("effects.rows", "does not give one count per method")


def _consistent_groups(groups: list[dict], columns: list[str], categorical: set[str], typical: dict) -> None:
    """Each explained field moves only model inputs, through ratios it really feeds."""
    from core.data import RATIOS

    for i, group in enumerate(groups):
        path = _at("explain.groups", i)
        field, moved, ratios = group["field"], group["columns"], group["ratios"]
        bad_ratio = [r for r in ratios if r not in RATIOS or field not in RATIOS[r] or r not in columns]
        if bad_ratio:
            raise Bad(_at(path, "ratios"), f"names {bad_ratio[0][:40]!r}, not a ratio of {field[:40]!r} the model uses")
        if moved != ([field] if field in columns else []) + ratios:
            raise Bad(_at(path, "columns"), "are not the field and its ratios")
        value = typical[field]
        if field not in categorical and (isinstance(value, (str, bool))):
            raise Bad(_at("explain.typical", field), f"is {_what(value)} where a number goes")


# ------------------------------------------------------------------------------ reading


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object as a dict; a key given twice is refused (two readers could see two values)."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise Bad(str(twice)[:40], "is given twice")
    return value


def depth(raw: bytes) -> int:
    """How deep JSON text nests (brackets outside strings), counted without parsing or recursion."""
    bare = _STRING.sub(b"", _ESCAPE.sub(b"", raw))
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = np.isin(codes, (0x5B, 0x7B)).astype(np.int64) - np.isin(codes, (0x5D, 0x7D))
    return int(np.cumsum(steps).max(initial=0))


def size(n: int) -> str:
    """A size in words: MB from one megabyte up, bytes below."""
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def parse(raw: bytes, name: str) -> object:
    """JSON from the manifest's bytes, refused before parsing when too large or too deep."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise RecoveryError(f"{name} has a manifest of {size(len(raw))}, over the {size(MAX_MANIFEST_BYTES)} a "
                            "bundle's may be: it is not a bundle this app wrote.")
    levels = depth(raw)
    if levels > MAX_DEPTH:
        raise RecoveryError(f"{name} has a manifest nested {levels:,} levels deep, over the {MAX_DEPTH} a "
                            "bundle's may be: it is not a bundle this app wrote, and is not read.")
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except Bad as bad:
        raise RecoveryError(f"{name} has a manifest that repeats a key ({bad}): it is not loaded. "
                            "Use the file as saved, or save the model again.") from None
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise RecoveryError(f"{name} has a damaged manifest (not UTF-8 JSON): save the model again.") from None


def check(manifest: object, name: str, config_spec: Spec) -> None:
    """Refuse a manifest that breaks the schema, naming the first place that does, in one line."""
    try:
        _schema(config_spec)(manifest, "")
        _consistent(manifest)
    except Bad as bad:
        raise RecoveryError(f"{name} has a manifest this app never writes ({_one_line(str(bad))}): it is not "
                            "loaded. Use the file as saved, or save the model again.") from None


def _one_line(words: str, limit: int = 200) -> str:
    """Text from a file, shown inside a message: one line, bounded."""
    flat = " ".join(words.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


# ------------------------------------------------------------------------------ the hash


def canonical(manifest: dict) -> bytes:
    """The manifest as canonical JSON bytes (sorted keys, no spaces), its content hash left out."""
    content = {k: v for k, v in manifest.items() if k != CONTENT_HASH}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def content_digest(manifest: dict, payload: bytes) -> str:
    """SHA-256 of the canonical manifest and the model payload together: all that decides a score."""
    body = canonical(manifest)
    digest = hashlib.sha256(b"smart-loan-recovery-bundle content\n")
    digest.update(len(body).to_bytes(8, "big"))
    digest.update(body)
    digest.update(payload)
    return digest.hexdigest()
