"""Crafted model bundles for tests: what an attacker can build from a real bundle the product wrote."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile
import zlib

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


def tampered(data: bytes) -> bytes:
    """The bundle with its calibration edited and nothing else: what the content hash must catch."""
    manifest, payload = parts(data)
    manifest["model"]["calibration"]["slope"] = manifest["model"]["calibration"]["slope"] * 2 + 1
    return zipped(json.dumps(manifest, indent=1).encode(), payload)


def damaged_for_zlib(saved: bytes) -> bytes:
    """The bundle with one bit of its compressed model flipped where zlib itself fails (not the CRC)."""
    info = zipfile.ZipFile(io.BytesIO(saved)).getinfo(bundles.PAYLOAD)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for at in range(start + 100, start + info.compress_size):
        damaged = bytearray(saved)
        damaged[at] ^= 1
        try:
            zipfile.ZipFile(io.BytesIO(bytes(damaged))).read(bundles.PAYLOAD)
        except zlib.error:
            return bytes(damaged)
        except zipfile.BadZipFile:
            continue
    raise AssertionError("no flipped bit made zlib fail")
