"""A model trained once and saved to score new months: the train stage, the .slr file, and scoring with it.

A bundle (.slr) is a zip of two members:

    manifest.json   config, training columns and roles, training profile, out-of-fold metrics,
                    library versions, SHA-256 of the training file and of the model payload, and
                    the content SHA-256 of the manifest and the payload together; with an action
                    history, the learned action effects' methods, fields and support
    model.skops     the fitted segmenter and risk model (and the action effects' models), written by skops

and, when a signing key is set, an HMAC-SHA256 of the whole file in the zip's comment (signing).

Loading never executes code from the file: skops rebuilds only the types on TRUSTED_TYPES (the
ones this product writes). Before anything is used, the manifest is checked against a strict
schema (manifest), the content hash covers every number that decides a score, each fitted object
is checked to be the kind this app writes with indices, widths and numbers in range (fitted), and
a few made-up borrowers are scored; a file a user hands in goes through all of that first in a
child process (isolation), so even a crash in compiled code cannot take the app down. A file the
command line streams through worker processes is built and tried by each worker instead
(``audit``, then ``Unbuilt.build``): the parent runs only the checks that build nothing. Anything
else, a tampered or truncated file, a pickle, a zip bomb, or a bundle from other library versions,
is refused with one RecoveryError line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from core import pipeline
from core.config import RecoveryConfig
from core.data import BY_NAME, open_zip
from core.decide import (
    HistoryEffects,
    actions_frame,
    actions_from_frame,
)
from core.errors import RecoveryError
from core.model import Calibration, LearnedEffects, explain, risk
from core.pipeline import Prepared, RecoveryResult, Scored, SegmentRun
from core.progress import Progress, no_progress
from core.report import write_atomic
from core.serve import drift, fitted, isolation, signing
from core.serve import manifest as manifests
from core.serve.saved import Bundle, config_from_dict, config_to_dict
from core.versions import installed

FORMAT = "smart-loan-recovery-bundle/2"
# Bundles of these formats do not cover their manifest by the hash: read, they could be edited.
EARLIER_FORMATS = ("smart-loan-recovery-bundle/1",)
SUFFIX = ".slr"
MANIFEST, PAYLOAD = "manifest.json", "model.skops"
# A bundle is a few MB; these caps refuse a zip bomb before anything is unpacked.
MAX_BUNDLE_BYTES = 200 * 1024 * 1024
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 10_000  # inside the skops payload: one per array
# A model written by other versions of these may load but score differently: refused, named.
CHECKED_LIBRARIES = ("scikit-learn", "numpy", "scipy", "skops")
RECORDED_LIBRARIES = (*CHECKED_LIBRARIES, "pandas", "pyarrow")
# Values kept per numeric field to say how high a new borrower's value is against training.
REFERENCE_POINTS = 1001
# Every type the product writes into model.skops beyond skops' own defaults (see test_bundle).
TRUSTED_TYPES = (
    "core.model.risk.AdditiveBoostingClassifier",
    "core.model.risk.FieldCodes",
    "functools.partial",  # holds check_array in HistGradientBoosting; its function is checked on its own
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "sklearn.utils.validation.check_array",
)
_PICKLE_STARTS = (b"\x80", b"x\x01", b"x\x5e", b"x\x9c", b"x\xda", b"ZF", b"\x1f\x8b", b"BZh",
                  b"\xfd7zXZ", b"\x04\x22\x4d\x18")


# ------------------------------------------------------------------------------ config as JSON


# ------------------------------------------------------------------------------ train stage


def versions() -> dict[str, str]:
    """Installed versions of the libraries a saved model depends on."""
    return installed(RECORDED_LIBRARIES)


def _json_value(value):
    """A value JSON can hold: numpy scalars as Python ones, NaN as None."""
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _reference(frame: pd.DataFrame, groups: list[explain.FieldGroup]) -> dict[str, list[float]]:
    """Quantiles of each numeric reason field, to say 'high for this portfolio' against training."""
    reference = {}
    for group in groups:
        column = frame[group.field]
        if pd.api.types.is_numeric_dtype(column):
            x = column.to_numpy(dtype="float64", na_value=np.nan)
            x = x[np.isfinite(x)]
            points = np.quantile(x, np.linspace(0, 1, REFERENCE_POINTS)) if len(x) else np.array([])
            reference[group.field] = points.tolist()
    return reference


def _columns_and_roles(rows: pd.DataFrame) -> dict[str, str]:
    """Each training column and its role (canonical fields by the schema, others passed through)."""
    return {c: (BY_NAME[c].role if c in BY_NAME else "passed through") for c in rows.columns}


def fit_bundle(
    prepared: Prepared, segments: SegmentRun, scored: Scored, result: RecoveryResult,
    training_name: str, training_sha256: str,
) -> tuple[dict, object, object]:
    """The manifest, segmenter and model of a bundle, from the stages already run on the history.

    The model is fitted once more on every borrower with an outcome (a seeded sample of
    risk.TRAIN_MAX_ROWS above that), and calibrated by a sigmoid fitted on the out-of-fold scores,
    which no fold model saw the outcome of.
    """
    config = result.config
    df = prepared.features
    numeric, categorical = list(scored.numeric), list(scored.categorical)
    columns = numeric + categorical
    inputs = pipeline.model_inputs(prepared, config, segments if scored.target.kind == "segment" else None)
    ordered, y = df.iloc[inputs.order], scored.target.y[inputs.order]
    with threadpool_limits(limits=1):
        rows = risk.capped(np.flatnonzero(~np.isnan(y)), risk.TRAIN_MAX_ROWS, config.random_state)
        model = risk.make_model(scored.model, numeric, categorical, config.random_state)
        model.fit(ordered[columns].iloc[rows], y[rows].astype(int))
        calibration = Calibration()
        if config.calibrate:
            raw = np.full(len(y), np.nan)
            for fold_model, test in zip(scored.run.models, scored.run.test_rows):
                raw[test] = risk.decision(fold_model, ordered[columns].iloc[test])
            known = ~np.isnan(raw)
            calibration = risk.fit_platt(raw[known], y[known])
        training_scores = risk.probability(model, calibration, df[columns], config.calibrate)
    groups = explain.field_groups(columns, df)
    typical = explain.typical_row(df, [g.field for g in groups])
    seg = segments.segments
    profiled = list(dict.fromkeys(columns + list(seg.features) + [g.field for g in groups]))
    manifest = {
        "format": FORMAT,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training_file": {"name": training_name, "sha256": training_sha256, "rows": int(len(df)),
                          "rows_with_outcome": int(scored.known.sum())},
        "config": config_to_dict(config),
        "columns": _columns_and_roles(prepared.rows),
        "column_roles": prepared.roles.table.to_dict(orient="records"),
        "model": {
            "kind": scored.model, "label": risk.MODEL_LABELS[scored.model],
            "target": scored.target.kind, "target_description": scored.target.description,
            "numeric": numeric, "categorical": categorical, "calibrated": bool(config.calibrate),
            "calibration": {"slope": calibration.slope, "intercept": calibration.intercept},
            "trained_on_rows": int(len(rows)),
        },
        "segments": {"features": list(seg.features), "names": {str(k): v for k, v in seg.names.items()},
                     "relabel": list(seg.relabel)},
        "explain": {
            "groups": [{"field": g.field, "columns": list(g.columns), "ratios": list(g.ratios)} for g in groups],
            "typical": {k: _json_value(v) for k, v in typical.items()},
            "reference": _reference(df, groups),
        },
        "profile": drift.profile(df, profiled, training_scores),
        "metrics": result.metrics_dict(),
        "versions": versions(),
    }
    return manifest, seg.model, model


def train(
    prepared: Prepared, config: RecoveryConfig, training_name: str, training_sha256: str,
    progress: Progress = no_progress,
) -> tuple[Bundle, RecoveryResult]:
    """The train stage: segment, score out-of-fold, decide, then fit the model to save."""
    config = config.checked()
    segments = pipeline.segment(prepared, config, progress)
    needs = pipeline.score_needs_segments(prepared, config)
    scored = pipeline.score(prepared, config, segments if needs else None, progress)
    history = pipeline.effects(prepared, scored, config)
    result = pipeline.decide(prepared, segments, scored, config, history)
    progress("Fitting the model to save on every borrower with an outcome", 0.95)
    manifest, segmenter, model = fit_bundle(prepared, segments, scored, result, training_name, training_sha256)
    if history.effects is not None:
        manifest["effects"] = effects_manifest(history)
    return Bundle(manifest, segmenter, model, effects=history.effects), result


# ------------------------------------------------------------------------------ learned action effects


def effects_manifest(history: HistoryEffects) -> dict:
    """The learned effects' plain parts (their models go into model.skops)."""
    e = history.effects
    return {"action_column": history.action_column, "outcome": history.outcome, "methods": list(e.methods),
            "numeric": list(e.numeric), "categorical": list(e.categorical), "estimator": e.estimator,
            "rows": dict(e.rows), "naive": json.loads(e.naive.to_json(orient="split")),
            "support": json.loads(e.support.to_json(orient="split"))}


def effects_parts(effects: LearnedEffects) -> dict:
    """The learned effects' fitted parts, for model.skops."""
    return {"codes": effects.codes, "propensity": effects.propensity, "outcome": effects.outcome,
            "final": effects.final}


def _effects(manifest: dict, models: dict | None) -> LearnedEffects | None:
    """The learned effects back from the manifest and the payload (None when the bundle has none)."""
    plain = manifest.get("effects")
    if plain is None or models is None:
        return None
    frame = lambda split: pd.DataFrame(split["data"], index=split["index"], columns=split["columns"])  # noqa: E731
    return LearnedEffects(tuple(plain["methods"]), list(plain["numeric"]), list(plain["categorical"]),
                          models["codes"], tuple(models["propensity"]), tuple(tuple(m) for m in models["outcome"]),
                          frame(plain["naive"]), plain["estimator"], dict(plain["rows"]),
                          frame(plain["support"]), tuple(models["final"]))


# ------------------------------------------------------------------------------ the .slr file


def dumps(bundle: Bundle, key: bytes | None = None) -> bytes:
    """The bundle as .slr bytes: the skops payload, a manifest holding its hashes, signed when a key is set.

    ``key`` signs the file (HMAC-SHA256); without one, LOAN_RECOVERY_SIGNING_KEY does when set.
    """
    import skops.io as sio

    objects = {"segmenter": bundle.segmenter, "model": bundle.model}
    if bundle.effects is not None:
        objects["effects"] = effects_parts(bundle.effects)
    payload = sio.dumps(objects)
    # as JSON will read it back (numpy numbers as Python ones, tuples as lists), so the hash matches
    manifest = json.loads(json.dumps({**bundle.manifest, "format": FORMAT, manifests.PAYLOAD_HASH:
                                      hashlib.sha256(payload).hexdigest()}, default=_json_value))
    manifest[manifests.CONTENT_HASH] = manifests.content_digest(manifest, payload)
    _read_settings(manifest, "The model to save")  # never write a bundle this app would refuse
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        archive.writestr(PAYLOAD, payload)
    key = signing.signing_key(key)
    return buffer.getvalue() if key is None else signing.sign(buffer.getvalue(), key)


def save(path: Path, data: bytes) -> None:
    """Write .slr bytes whole at ``path`` or not at all (a failure leaves an existing model as it was)."""
    write_atomic(path, data)


def _refuse_other_formats(data: bytes, name: str) -> None:
    """Refuse bytes that are not a zip archive, saying what they look like."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise RecoveryError(f"{name} is {len(data) / 2**20:.0f} MB, over the {MAX_BUNDLE_BYTES / 2**20:.0f} MB "
                            "a model bundle may be: it is not a bundle this app wrote.")
    if not data:
        raise RecoveryError(f"{name} is empty: choose the .slr file saved by 'Save this model' or "
                            "`python -m core train`.")
    if data.startswith(_PICKLE_STARTS):
        raise RecoveryError(f"{name} is a pickle or joblib file, not a model bundle: it is not opened, "
                            "because loading a pickle can run any code. Train a model here and save it "
                            "as .slr (`python -m core train`).")
    if not data.startswith(b"PK\x03\x04"):
        raise RecoveryError(f"{name} is not a model bundle (.slr): choose the file saved by "
                            "'Save this model' or `python -m core train`.")


def _open_zip(data: bytes, name: str, what: str) -> zipfile.ZipFile:
    """A zip archive whose declared sizes are within the caps (checked before anything is unpacked)."""
    try:
        archive, unpacked, members = open_zip(data)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise RecoveryError(f"{name} is damaged or truncated ({what} cannot be opened as a zip "
                            "archive): save the model again.") from None
    if members > MAX_MEMBERS or unpacked > MAX_UNPACKED_BYTES:
        raise RecoveryError(f"{name} would unpack to {unpacked / 2**20:,.0f} MB in {members:,} "
                            f"parts ({what}), over the {MAX_UNPACKED_BYTES / 2**20:.0f} MB limit: it is "
                            "not a bundle this app wrote, and is not unpacked.")
    return archive


def _member(archive: zipfile.ZipFile, member: str, name: str, limit: int | None = None) -> bytes:
    """One member's bytes; a broken deflate stream, a CRC mismatch or a short read means the file was damaged."""
    declared = next((m.file_size for m in archive.infolist() if m.filename == member), 0)
    if limit is not None and declared > limit:
        raise RecoveryError(f"{name} has a {member} of {manifests.size(declared)}, over the {manifests.size(limit)} "
                            "a bundle's may be: it is not a bundle this app wrote, and it is not unpacked.")
    try:
        return archive.read(member)
    except KeyError:
        raise RecoveryError(f"{name} has no {member}: it is not a bundle this app wrote.") from None
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError) as error:
        # zlib.error (a broken deflate stream) is none of the others: it would escape as a traceback
        detail = " ".join(str(error).split())[:120] or type(error).__name__
        raise RecoveryError(f"{name} is damaged: its member {member} cannot be read ({detail}). Save the "
                            "model again, or use the original file.") from None


def _check_versions(manifest: dict, name: str) -> None:
    """Refuse a bundle written with other versions of the libraries the model depends on."""
    saved = manifest.get("versions", {})
    running = versions()
    differ = [f"{lib} {saved.get(lib, '(unknown)')} (this app runs {running[lib]})"
              for lib in CHECKED_LIBRARIES if saved.get(lib) != running[lib]]
    if differ:
        raise RecoveryError(f"{name} was saved with {', '.join(differ)}: a model may score differently "
                            "under other library versions, so it is not loaded. Retrain it on the "
                            "history file with this version, or score with the version that saved it.")


_CONFIG_SPEC = manifests.dataclass_spec(RecoveryConfig, unknown="is a setting this version does not know "
                                                               "(score with the version that trained it, or retrain)")


def _read_settings(manifest: object, name: str) -> RecoveryConfig:
    """Check a parsed manifest against the schema; its settings, refused in one line if out of range."""
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found in EARLIER_FORMATS:
        raise RecoveryError(f"{name} was saved by an earlier version of this app, whose bundles do not cover "
                            "their calibration and settings by the hash: train the model again with this version.")
    if found != FORMAT:
        raise RecoveryError(f"{name} is not a model bundle of this app (format {str(found)[:60]!r}).")
    manifests.check(manifest, name, _CONFIG_SPEC)
    try:
        config = config_from_dict(manifest["config"])
        if config.actions:
            actions_from_frame(actions_frame(config.actions))
    except RecoveryError as error:
        raise RecoveryError(f"{name} holds settings this app refuses: {error}") from None
    except (TypeError, ValueError):  # the schema lets through only what these take; a last net
        raise RecoveryError(f"{name} holds settings that cannot be read: save the model again.") from None
    model = manifest["model"]
    if config.model not in ("auto", model["kind"]) or config.calibrate != model["calibrated"]:
        raise RecoveryError(f"{name} has a manifest whose model ({str(model['kind'])[:40]}) is not the one its "
                            "settings train: it is not loaded. Use the file as saved, or train again.")
    return config


def read_manifest(raw: bytes, name: str = "the model file") -> dict:
    """The manifest from its bytes, bounded, parsed and checked against the schema, or one RecoveryError line."""
    manifest = manifests.parse(raw, name)
    _read_settings(manifest, name)
    return manifest


@dataclasses.dataclass(frozen=True)
class _Audited:
    """A bundle's checks that build no object: its manifest and the payload's type tree, read once."""

    manifest: dict
    tree: object  # skops' tree of the payload's nodes: every type allowed, nothing constructed yet


def _audit(data: bytes, name: str) -> _Audited:
    """Every check that needs no object of the payload built: zip, manifest, versions, hashes, types.

    Nothing here runs scikit-learn's compiled code on the file's numbers (the payload's arrays are
    only read as bytes), so it may run while the isolated child still tries the file.
    """
    from skops.io._audit import get_tree
    from skops.io._utils import read_schema

    _refuse_other_formats(data, name)
    archive = _open_zip(data, name, "the bundle")
    manifest = read_manifest(_member(archive, MANIFEST, name, manifests.MAX_MANIFEST_BYTES), name)
    _check_versions(manifest, name)
    payload = _member(archive, PAYLOAD, name)
    if hashlib.sha256(payload).hexdigest() != manifest[manifests.PAYLOAD_HASH]:
        raise RecoveryError(f"{name} has been changed since it was saved: the model's SHA-256 does not "
                            "match its manifest. Use the file as saved, or train again.")
    inner = _open_zip(payload, name, "the model inside it")  # its directory (thousands of members) read once
    try:
        # what skops.io.get_untrusted_types reads, kept: the same tree is then audited and built
        # (skops.io.loads would read it a second time)
        with inner:
            schema, context = read_schema(inner)
            tree = get_tree(schema, load_context=context, trusted=None)
        untrusted = sorted(tree.get_unsafe_set())
    except Exception:  # skops raises many kinds on a malformed payload; all mean the same
        raise RecoveryError(f"{name} holds a model that cannot be read: save the model again.") from None
    foreign = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if foreign:
        raise RecoveryError(f"{name} holds types this app never writes ({', '.join(foreign[:5])}"
                            f"{' …' if len(foreign) > 5 else ''}), so it is not loaded.")
    if manifests.content_digest(manifest, payload) != manifest[manifests.CONTENT_HASH]:
        raise RecoveryError(f"{name} has been changed since it was saved: its manifest (settings, calibration, "
                            "segments) or model no longer match the content SHA-256. Use the file as saved, "
                            "or train again.")
    return _Audited(manifest, tree)


def _build(audited: _Audited, name: str) -> Bundle:
    """The audited payload's objects built, each checked, then tried on test borrowers.

    skops.io.loads runs its audit_tree just before it builds; here ``_audit`` already refused every
    type of this very tree that is not on TRUSTED_TYPES (get_unsafe_set, the walk audit_tree repeats),
    and the tree is not changed since, so it is built without a second walk (a tenth of a second).
    """
    manifest = audited.manifest
    try:
        objects = audited.tree.construct()
    except Exception:
        raise RecoveryError(f"{name} holds a model that cannot be read: save the model again.") from None
    segmenter, model = fitted.check(objects, manifest, name)
    bundle = Bundle(manifest, segmenter, model, effects=_effects(manifest, objects.get("effects")))
    fitted.probe(bundle, name)
    return bundle


def _unpack(data: bytes, name: str) -> Bundle:
    """The bundle in these bytes, every part checked before use; its signature is not looked at."""
    return _build(_audit(data, name), name)


def check_bytes(data: bytes, name: str = "the model file") -> None:
    """Load, check and test-score a bundle, signature aside: what the isolated child process runs."""
    _unpack(data, name)


@dataclasses.dataclass(frozen=True)
class Unbuilt:
    """A bundle through every check that builds nothing (signature, zip, manifest, hashes, allow-list).

    Its objects are built, checked and tried (``build``) only in a process that may die for it:
    the forked workers that score a file side by side, so this process never deserialises them.
    """

    manifest: dict
    name: str
    audited: _Audited
    signed: bool = False

    def build(self) -> Bundle:
        """The objects built from the audited tree, each checked, then tried on test borrowers."""
        return dataclasses.replace(_build(self.audited, self.name), signed=self.signed)


def audit(data: bytes, name: str = "the model file", *, key: bytes | None = None) -> Unbuilt:
    """The bundle's checks that build no object, in this process; the objects are left to ``Unbuilt.build``.

    The signature (when a key is set) is verified first, as in ``loads``; a refusal is the same line
    the isolated child would give for these checks, and anything else they raise is refused in one line.
    """
    _refuse_other_formats(data, name)
    key = signing.signing_key(key)
    if key is not None:
        signing.verify(data, key, name)
    try:
        audited = _audit(data, name)
    except RecoveryError:
        raise
    except Exception as error:  # what the isolated child would have stopped on: one line, never a traceback
        raise isolation.not_tried(name, error) from None
    return Unbuilt(audited.manifest, name, audited, signed=key is not None)


def loads(data: bytes, name: str = "the model file", *, key: bytes | None = None,
          isolated: bool = False) -> Bundle:
    """A Bundle from .slr bytes, or a RecoveryError saying in one line why it is refused.

    With a signing key (``key``, else LOAN_RECOVERY_SIGNING_KEY) only a bundle signed with it
    loads, and ``signed`` is True; without one a bundle loads unsigned, as it always did.
    ``isolated`` first loads, checks and test-scores the file in a child process, so a crash there
    cannot take this one down: use it for every file a user hands in (the app, the command line).
    A bundle whose signature verifies with the signing key was written by this app (only holders
    of the key can sign), so it skips the child; the checks below still run on it here.
    """
    _refuse_other_formats(data, name)
    key = signing.signing_key(key)
    if key is not None:
        signing.verify(data, key, name)
    if isolated and key is None:
        from core.serve.isolation import check_in_child, start_check

        # the checks that build nothing run here while the child tries the file (a no-op start when
        # the caller started it already); objects are built here only once the child said it is sound
        start_check(data, name)
        try:
            audited = _audit(data, name)
        except Exception:  # the child's refusal first, as before (it also meets what escapes the checks)
            check_in_child(data, name)
            raise
        check_in_child(data, name)
        return _build(audited, name)
    return dataclasses.replace(_unpack(data, name), signed=key is not None)


# ------------------------------------------------------------------------------ scoring with it


