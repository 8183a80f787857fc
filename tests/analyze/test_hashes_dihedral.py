"""Dihedral PDQ hashes are the hashes of the rotated or mirrored picture itself, for every
size (the reference's DCT shortcut is exact only for symmetric filters, and missed about
one mirrored re-post in eight on unseen data). Property tests over random sizes and
contents, plus re-encoded mirror images through the decoder."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pdqhash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage import data as samples

from haechi.analyze.hashes.decode import EXACT, FAST
from haechi.analyze.hashes.pdq import hash_picture
from haechi.analyze.hashes.pdqcore import DIHEDRAL, dihedral_buffers, hamming, pdq_from_luma

OPS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "rotate90": lambda a: np.rot90(a, 1),
    "rotate180": lambda a: np.rot90(a, 2),
    "rotate270": lambda a: np.rot90(a, 3),
    "flipx": lambda a: a[::-1],
    "flipy": lambda a: a[:, ::-1],
    "flipplus1": lambda a: a.swapaxes(0, 1),
    "flipminus1": lambda a: np.rot90(a, 2).swapaxes(0, 1),
}
FLIPS = ("flipx", "flipy", "rotate180")  # computed with the very arithmetic of a flipped copy


def _picture(rows: int, cols: int, seed: int) -> np.ndarray:
    """Smooth structure plus noise: a hash that is not noise, at any size."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    a, b, c = rng.uniform(0.5, 6, 3)
    base = 128 + 60 * np.sin(a * x / cols * np.pi + b * y / rows) + 40 * np.cos(c * y / rows * 3)
    return (base + rng.normal(0, 8, (rows, cols))).clip(0, 255).astype(np.float32)


def test_names_follow_the_reference_on_a_64_pixel_square() -> None:
    """On a 64 x 64 picture the reference's shortcut is exact: our names mean the same."""
    rgb = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    rgb[:20] //= 3
    hashes, _ = pdqhash.compute_dihedral(rgb)
    reference = dict(zip(DIHEDRAL, (np.packbits(h).tobytes().hex() for h in hashes), strict=True))
    from haechi.analyze.hashes.pdqcore import luma_from_rgb

    mine = pdq_from_luma(luma_from_rgb(rgb))
    assert mine.hex == reference["original"]
    assert mine.dihedral == {n: reference[n] for n in DIHEDRAL[1:]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(5, 420), cols=st.integers(5, 420), seed=st.integers(0, 2**16))
def test_every_variant_is_the_hash_of_the_transformed_picture(
    rows: int, cols: int, seed: int
) -> None:
    luma = _picture(rows, cols, seed)
    h = pdq_from_luma(luma)
    for name, op in OPS.items():
        turned = pdq_from_luma(np.ascontiguousarray(op(luma)), dihedral=False)
        if name in FLIPS:
            assert h.dihedral[name] == turned.hex, name
        else:  # a transposed buffer: the same numbers summed in another order
            assert hamming(h.dihedral[name], turned.hex) <= 2, name


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(40, 300), cols=st.integers(40, 300), scale=st.sampled_from([2, 4, 8]),
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_reduced_decode_variants_are_those_of_the_reduced_flipped_picture(
    rows: int, cols: int, scale: int, seed: int
) -> None:
    """The fast path filters a 1/scale decode with the full picture's geometry; its
    variants are that same computation on the flipped decode."""
    small = _picture(rows, cols, seed)
    full = (rows * scale, cols * scale)
    h = pdq_from_luma(small, full_shape=full, scale=scale)
    for name in FLIPS:
        turned = pdq_from_luma(
            np.ascontiguousarray(OPS[name](small)), dihedral=False, full_shape=full, scale=scale
        )
        assert h.dihedral[name] == turned.hex, name


def test_the_transposed_buffers_are_transposes() -> None:
    luma = _picture(123, 77, 1)
    bufs = dihedral_buffers(luma)
    assert np.array_equal(bufs["flipplus1"], bufs["original"].T)
    assert np.array_equal(bufs["rotate90"], bufs["flipy"].T)
    assert bufs["rotate90"].shape == (64, 64)


def _jpeg(rgb: np.ndarray, quality: int) -> io.BytesIO:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("size", [(640, 480), (300, 200), (1000, 750), (333, 517), (1280, 853)])
@pytest.mark.parametrize("policy", [EXACT, FAST])
def test_a_mirrored_repost_is_as_close_as_its_unmirrored_copy(
    size: tuple[int, int], policy: str
) -> None:
    """Re-encode a photo as is and mirrored: the mirror image, looked up through the
    original's ``flipy`` variant, is as close as the plain re-encode (within a few bits of
    JPEG noise), at sizes where the old shortcut was 14-16 bits off."""
    rgb = np.asarray(Image.fromarray(samples.coffee()).resize(size, Image.Resampling.LANCZOS))
    original = hash_picture(_jpeg(rgb, 95), decode=policy)[0].pdq
    plain = hash_picture(_jpeg(rgb, 60), decode=policy)[0].pdq
    mirrored = hash_picture(_jpeg(rgb[:, ::-1], 60), decode=policy)[0].pdq
    noise = hamming(original.hex, plain.hex)
    assert hamming(original.dihedral["flipy"], mirrored.hex) <= noise + 4
    rotated = hash_picture(_jpeg(np.rot90(rgb), 60), decode=policy)[0].pdq
    assert hamming(original.dihedral["rotate90"], rotated.hex) <= noise + 4
