"""A model bundle whose compressed member is damaged is refused in one line naming the bundle and the member,
whether zlib itself fails on the flipped bytes or only the CRC check finds them."""

from __future__ import annotations

import io
import re
import zipfile
import zlib

import pytest

from core.config import RecoveryConfig
from core.errors import RecoveryError
from core.pipeline import prepare
from core.serve import bundle as bundles
from core.serve import signing
from sample_data.generate import generate_portfolio

MEMBERS = [bundles.MANIFEST, bundles.PAYLOAD]


@pytest.fixture(autouse=True)
def _no_key_from_the_machine(monkeypatch):
    """Unsigned bundles: no signature refuses the file before its members are read."""
    monkeypatch.delenv(signing.ENV, raising=False)


@pytest.fixture(scope="module")
def saved() -> bytes:
    """A bundle as the product writes it (a small logistic model, so that each check is quick)."""
    frame, _ = generate_portfolio(n=200, seed=5)
    model, _ = bundles.train(prepare(frame), RecoveryConfig(model="logistic", n_folds=2), "history.csv", "0" * 64)
    return bundles.dumps(model)


def _compressed(data: bytes, member: str) -> tuple[zipfile.ZipInfo, int]:
    """The member's entry and where its compressed bytes start (after its local header)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    name_length = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little")
    extra_length = int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    return info, info.header_offset + 30 + name_length + extra_length


def _flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


def _what_fails(stream: bytes, info: zipfile.ZipInfo) -> str:
    """'zlib' when a member's deflate stream itself breaks, 'crc' when it inflates to other bytes, else 'intact'."""
    try:
        out = zlib.decompressobj(-zlib.MAX_WBITS).decompress(stream)
    except zlib.error:
        return "zlib"
    return "crc" if zlib.crc32(out) != info.CRC or len(out) != info.file_size else "intact"


def _first_damaging(data: bytes, info: zipfile.ZipInfo, start: int, offset: int, kind: str | None = None) -> int:
    """Where, from ``offset`` in the member's compressed bytes on, a flipped byte damages what it holds
    (the way ``kind`` says, when given): some bits (an end-of-block code, a block's padding) never
    reach the content, and the bundle's timestamp moves them from one run to the next."""
    stream = data[start:start + info.compress_size]
    for at in range(offset, len(stream)):
        found = _what_fails(_flipped(stream, at), info)
        if found != "intact" and kind in (None, found):
            return start + at
    raise AssertionError(f"no flip from {offset} on damages {info.filename} ({kind or 'any'})")


def _damaged_copies(data: bytes, member: str) -> dict[str, bytes]:
    """Copies with one byte flipped in the member's compressed data: from its start, quarter points
    and near its end, plus the first places where zlib fails (near the start, where a wrong distance
    reaches before the stream) and where only the CRC does (from a fifth in)."""
    info, start = _compressed(data, member)
    size = info.compress_size
    places = {f"at {p}%": _first_damaging(data, info, start, size * p // 100) for p in (0, 25, 50, 75, 95)}
    places["where zlib fails"] = _first_damaging(data, info, start, 0, "zlib")
    places["where crc fails"] = _first_damaging(data, info, start, size // 5, "crc")
    return {label: _flipped(data, at) for label, at in places.items()}


def _refusal(data: bytes, load) -> str:
    with pytest.raises(RecoveryError) as caught:
        load(data)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize("member", MEMBERS)
def test_a_flipped_byte_in_a_compressed_member_is_refused_naming_bundle_and_member(saved, member):
    expected = re.compile(rf"M\.slr is damaged: its member {re.escape(member)} cannot be read \((.+)\)\. Save the "
                          r"model again, or use the original file\.")
    details = {}
    for label, damaged in _damaged_copies(saved, member).items():
        # check_bytes is what the isolated child runs; loads without isolation is the same path here
        for load in (lambda d: bundles.check_bytes(d, "M.slr"), lambda d: bundles.loads(d, "M.slr")):
            found = expected.fullmatch(_refusal(damaged, load))
            assert found, (label, _refusal(damaged, load))
            details[label] = found.group(1)
    assert details["where zlib fails"].startswith("Error -3 while decompressing data")
    assert details["where crc fails"] == f"Bad CRC-32 for file {member!r}"


def test_the_undamaged_bundle_still_loads(saved):
    bundles.check_bytes(saved, "M.slr")  # the cases above fail for the flipped byte, not for the bundle
