"""Crafted model bundles for tests: what an attacker can build from a real bundle the product wrote."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile

import skops.io as sio

from core.serve import bundle as bundles
from core.serve import manifest as manifests

KEY, OTHER_KEY = b"collections-team-key-2024-0001", b"another-teams-key-2024-0002"


def parts(data: bytes) -> tuple[dict, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return json.loads(archive.read(bundles.MANIFEST)), archive.read(bundles.PAYLOAD)


def zipped(manifest_bytes: bytes, payload: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(bundles.MANIFEST, manifest_bytes)
        archive.writestr(bundles.PAYLOAD, payload)
    return out.getvalue()


def forge(data: bytes, manifest: dict | None = None, objects: dict | None = None) -> bytes:
    """What an attacker can build from a real unsigned bundle: edited parts, every hash recomputed."""
    original, payload = parts(data)
    manifest = copy.deepcopy(manifest or original)
    if objects is not None:
        payload = sio.dumps(objects)
    manifest[manifests.PAYLOAD_HASH] = hashlib.sha256(payload).hexdigest()
    manifest[manifests.CONTENT_HASH] = manifests.content_digest(manifest, payload)
    return zipped(json.dumps(manifest).encode(), payload)


def objects_of(bundle: bundles.Bundle) -> dict:
    # a history with an action column saves the learned action effects beside the model
    effects = {} if bundle.effects is None else {"effects": bundles.effects_parts(bundle.effects)}
    return {"segmenter": copy.deepcopy(bundle.segmenter), "model": copy.deepcopy(bundle.model), **effects}
