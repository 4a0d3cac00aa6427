"""Signed bundles: an HMAC-SHA256 of every byte of a .slr file, kept in the zip archive's comment.

With a signing key (LOAN_RECOVERY_SIGNING_KEY, or one the app passes from its secrets), a bundle is
signed when it is written and refused when it is read unless its signature was made with the same
key over exactly these bytes. The signature covers the whole archive up to the comment's length
field, so an edited byte anywhere, a bundle signed with another key, or an unsigned one is
refused in one line. Without a key nothing is signed or checked, and a bundle reads as unsigned.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from core.errors import RecoveryError

ENV = "LOAN_RECOVERY_SIGNING_KEY"
MIN_KEY_BYTES = 16
_TAG = b"slr-hmac-sha256:"
_KEY_ID_CHARS, _MAC_CHARS = 16, 64
SIGNATURE_BYTES = len(_TAG) + _KEY_ID_CHARS + 1 + _MAC_CHARS
_END = b"PK\x05\x06"  # the zip's end-of-central-directory record: 22 bytes, then the comment
_END_BYTES = 22


def signing_key(key: bytes | str | None = None) -> bytes | None:
    """The key to sign and check with: the one given, else LOAN_RECOVERY_SIGNING_KEY, else None."""
    if key is None:
        key = os.environ.get(ENV) or None
    if key is None:
        return None
    key = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(key) < MIN_KEY_BYTES:
        raise RecoveryError(f"The signing key ({ENV}) is {len(key)} byte(s): use at least {MIN_KEY_BYTES} "
                            "random characters, the same wherever models are saved and scored.")
    return key


def key_id(key: bytes) -> str:
    """A short name of a key that reveals nothing of it: says which key signed a file."""
    return hmac.new(key, b"smart-loan-recovery signing key id", hashlib.sha256).hexdigest()[:_KEY_ID_CHARS]


def _mac(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def sign(data: bytes, key: bytes) -> bytes:
    """The zip bytes (written without a comment) with their signature as the archive comment."""
    if len(data) < _END_BYTES or data[-_END_BYTES:-_END_BYTES + 4] != _END or data[-2:] != b"\0\0":
        raise ValueError("only a zip archive without a comment can be signed")
    body = data[:-2]
    comment = _TAG + key_id(key).encode("ascii") + b":" + _mac(key, body).encode("ascii")
    return body + len(comment).to_bytes(2, "little") + comment


def signature(data: bytes) -> tuple[bytes, str, str] | None:
    """(signed bytes, key id, MAC) when the file ends with a signature of this format, else None."""
    at = len(data) - SIGNATURE_BYTES
    if at < _END_BYTES or data[at - _END_BYTES:at - _END_BYTES + 4] != _END:
        return None
    if data[at - 2:at] != SIGNATURE_BYTES.to_bytes(2, "little") or not data[at:].startswith(_TAG):
        return None
    fields = data[at + len(_TAG):].split(b":")
    if len(fields) != 2:
        return None
    try:
        return data[:at - 2], fields[0].decode("ascii"), fields[1].decode("ascii")
    except UnicodeDecodeError:
        return None


def verify(data: bytes, key: bytes, name: str) -> None:
    """Refuse, in one line, a file that is unsigned, signed with another key, or changed since signed."""
    found = signature(data)
    if found is None:
        raise RecoveryError(f"{name} is not signed, and this app scores only models signed with its key "
                            f"({ENV} is set): save the model again where the key is set (`python -m core "
                            "train` or 'Save this model').")
    body, signer, mac = found
    if not hmac.compare_digest(signer, key_id(key)):
        raise RecoveryError(f"{name} was signed with another key (key id {signer[:_KEY_ID_CHARS]!r}, this app's "
                            f"is {key_id(key)!r}): use a model saved with this app's key, or train it again here.")
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise RecoveryError(f"{name} has been changed since it was signed (its signature does not match its "
                            "bytes): use the file exactly as saved, or train the model again.")
