"""Streaming AES-256-GCM at rest: round trips at every segment edge, and every kind of
tampering (flipped byte, truncation, swapped or appended segments, wrong key) detected."""

from __future__ import annotations

import io
import os
import stat
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haechi.domain import VaultError
from haechi.store import vaultcrypto as vc

SEG = 1024  # small segments keep the edge cases fast; one test uses the real 1 MiB


def enc(data: bytes, key: bytes, seg: int = SEG) -> bytes:
    out = io.BytesIO()
    vc.encrypt_stream(io.BytesIO(data), out, key, segment_size=seg)
    return out.getvalue()


def dec(blob: bytes, key: bytes) -> bytes:
    out = io.BytesIO()
    vc.decrypt_stream(io.BytesIO(blob), out, key)
    return out.getvalue()


def segments(blob: bytes, seg: int = SEG) -> tuple[bytes, list[bytes]]:
    step = seg + vc.TAG_SIZE
    body = blob[vc.HEADER_SIZE :]
    return blob[: vc.HEADER_SIZE], [body[i : i + step] for i in range(0, len(body), step)]


@pytest.fixture
def key() -> bytes:
    return vc.generate_key()


SIZES = [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, int(3.5 * SEG)]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_at_segment_edges(key: bytes, size: int) -> None:
    data = os.urandom(size)
    blob = enc(data, key)
    assert blob.startswith(vc.MAGIC)
    assert dec(blob, key) == data
    # one segment per started SEG bytes, at least one (an empty file still has its tag)
    expected_segments = max(1, -(-size // SEG))
    assert len(blob) == vc.HEADER_SIZE + size + expected_segments * vc.TAG_SIZE
    with vc.open_decrypting(io.BytesIO(blob), key) as reader:
        pieces = []
        while piece := reader.read(333):  # reads that straddle segment boundaries
            pieces.append(piece)
    assert b"".join(pieces) == data


@pytest.mark.parametrize("factor", [0, 1 / 1024**2, 1, 3.5])
def test_round_trip_with_default_segment_size(key: bytes, factor: float) -> None:
    data = os.urandom(int(vc.SEGMENT_SIZE * factor))
    blob = enc(data, key, vc.SEGMENT_SIZE)
    assert dec(blob, key) == data
    if len(data) >= 16:  # a shorter random string can turn up in any ciphertext by chance
        assert data[:64] not in blob  # the plaintext is not on disk


def test_same_plaintext_encrypts_differently(key: bytes) -> None:
    data = b"evidence" * 100
    assert enc(data, key) != enc(data, key)  # fresh salt and nonce prefix per file


def test_flipped_byte_anywhere_is_detected(key: bytes) -> None:
    blob = enc(os.urandom(int(3.5 * SEG)), key)
    # every header byte, then a spread of body bytes including the last tag byte
    positions = [*range(vc.HEADER_SIZE), *range(vc.HEADER_SIZE, len(blob), 97), len(blob) - 1]
    for pos in positions:
        bad = bytearray(blob)
        bad[pos] ^= 0x01
        with pytest.raises(VaultError, match="cannot be decrypted: wrong key or altered file"):
            dec(bytes(bad), key)


@pytest.mark.parametrize("size", [SEG, int(3.5 * SEG), 4 * SEG])
def test_truncation_is_detected(key: bytes, size: int) -> None:
    blob = enc(os.urandom(size), key)
    header, segs = segments(blob)
    cuts = {
        "no body": header,
        "half header": blob[: vc.HEADER_SIZE // 2],
        "one byte short": blob[:-1],
        "shorter than a tag": header + segs[0][:10],
        "last segment dropped": header + b"".join(segs[:-1]),
        "mid segment": blob[: vc.HEADER_SIZE + SEG // 2],
    }
    for what, cut in cuts.items():
        with pytest.raises(VaultError, match="wrong key or altered file"):
            dec(cut, key)
            pytest.fail(f"not detected: {what}")


def test_swapped_segments_are_detected(key: bytes) -> None:
    blob = enc(os.urandom(4 * SEG), key)
    header, segs = segments(blob)
    swapped = header + segs[1] + segs[0] + b"".join(segs[2:])
    with pytest.raises(VaultError, match="altered"):
        dec(swapped, key)


def test_appended_data_is_detected(key: bytes) -> None:
    blob = enc(os.urandom(2 * SEG + 5), key)
    _, segs = segments(blob)
    for extra in (segs[0], segs[-1], b"\x00" * 32, os.urandom(SEG + vc.TAG_SIZE)):
        with pytest.raises(VaultError, match="altered"):
            dec(blob + extra, key)


def test_segments_from_another_file_are_detected(key: bytes) -> None:
    a, b = enc(os.urandom(3 * SEG), key), enc(os.urandom(3 * SEG), key)
    ha, sa = segments(a)
    _, sb = segments(b)
    with pytest.raises(VaultError, match="altered"):
        dec(ha + sa[0] + sb[1] + sa[2], key)


def test_wrong_key_is_detected_and_named(key: bytes) -> None:
    blob = enc(b"secret evidence", key)
    with pytest.raises(vc.CryptoError, match="wrong key or altered file") as info:
        dec(blob, vc.generate_key())
    assert info.value.reason == "wrong_key"
    with pytest.raises(VaultError, match="wrong key or altered file"):
        vc.open_decrypting(io.BytesIO(blob), vc.generate_key())
    with pytest.raises(VaultError, match="no vault key"):
        vc.open_decrypting(io.BytesIO(blob), None)


def test_key_id_forged_to_match_is_still_detected(key: bytes) -> None:
    """Someone editing the header so the key id matches gains nothing: the header is AAD."""
    other = vc.generate_key()
    blob = bytearray(enc(b"x" * 3000, other))
    kid_at = struct.calcsize(">8sBI")
    blob[kid_at : kid_at + 8] = vc.key_id(key)
    with pytest.raises(vc.CryptoError) as info:
        dec(bytes(blob), key)
    assert info.value.reason == "altered"


def test_crafted_segment_size_is_rejected(key: bytes) -> None:
    blob = bytearray(enc(b"x" * 10, key))
    struct.pack_into(">I", blob, 9, 2**31)
    with pytest.raises(VaultError, match="segment size"):
        dec(bytes(blob), key)


def test_reader_raises_on_tampering_before_returning_bad_data(key: bytes) -> None:
    data = os.urandom(4 * SEG)
    blob = bytearray(enc(data, key))
    blob[vc.HEADER_SIZE + 2 * (SEG + vc.TAG_SIZE) + 7] ^= 0xFF  # inside segment 2
    with vc.open_decrypting(io.BytesIO(bytes(blob)), key) as reader:
        assert reader.read(2 * SEG) == data[: 2 * SEG]  # verified segments are served
        with pytest.raises(VaultError, match="segment 2"):
            reader.read()


def test_open_decrypting_a_path(tmp_path: Path, key: bytes) -> None:
    data = os.urandom(5000)
    path = tmp_path / "obj"
    path.write_bytes(enc(data, key))
    with vc.open_decrypting(path, key) as reader:
        assert reader.read() == data


def test_key_files(tmp_path: Path) -> None:
    key = vc.generate_key()
    assert len(key) == 32 and key != vc.generate_key()
    path = tmp_path / "vault.key"
    vc.save_key(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert vc.load_key(path) == key
    with pytest.raises(VaultError, match="already exists"):
        vc.save_key(path, vc.generate_key())
    assert vc.load_key(path) == key  # not replaced
    raw = tmp_path / "raw.key"
    raw.write_bytes(key)
    assert vc.load_key(raw) == key
    damaged = tmp_path / "damaged.key"
    damaged.write_text("haechi-vault-key-v1:not base64!\n")
    with pytest.raises(VaultError, match="damaged"):
        vc.load_key(damaged)
    with pytest.raises(VaultError, match="Cannot read"):
        vc.load_key(tmp_path / "absent.key")
    with pytest.raises(VaultError, match="32 bytes"):
        vc.save_key(tmp_path / "short.key", b"short")


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=5000), seg=st.integers(min_value=16, max_value=700))
def test_round_trip_property(data: bytes, seg: int) -> None:
    key = b"k" * 32
    blob = enc(data, key, seg)
    assert dec(blob, key) == data
    with vc.open_decrypting(io.BytesIO(blob), key) as reader:
        assert reader.read() == data
