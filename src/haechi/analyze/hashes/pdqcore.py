"""PDQ (Meta's perceptual photo hash) in numpy, bit for bit as the reference C++.

Why not call ``pdqhash`` directly: its C++ box-filters the *whole* luma image four
times with strided column passes, which costs 24 ms at 1 MP and 240 ms at 4 MP here.
The PDQ output only reads 64 x 64 points of that filtered image, and the filter is
linear and separable: two box passes along each axis equal one "tent" per axis, so the
64 x 64 buffer is ``A @ L @ B.T`` with two banded 64-row matrices. That takes 1–3 ms
and, computed in float32 like the C++, gives the same 64 x 64 buffer, hence the same
hash and quality (checked against ``pdqhash`` on all 51 ThreatExchange test images,
``tests/analyze/test_hashes_pdq.py``).

Everything after the downsample follows ``pdq/cpp/hashing/pdqhashing.cpp``: the
image-domain quality metric, the 16 x 64 DCT matrix, the lower median (Torben) of the
16 x 16 coefficients and the bit layout (bit ``16*i + j`` set when coefficient ``(i, j)``
exceeds the median; the hex string prints word 15 first).

**Dihedral hashes are the hashes of the transformed picture.** The reference derives the
seven rotated and mirrored hashes by permuting and negating the DCT coefficients of the
64 x 64 buffer. That is exact only when the filter and the decimation are symmetric, which
they are not for most sizes (the box windows are one pixel longer on one side and the
sample points ``int((k + 0.5) * n / 64)`` are not mirror images): on a 640 x 480 photo the
shortcut's "mirrored" hash is 14 bits from the hash of the mirrored photo, enough to miss
a re-encoded mirror image at 31 bits. So the buffers are computed for the transformed
picture itself, cheaply: a vertical flip reverses each band of the row pass, a
horizontal flip reverses the columns of its result, and a transposition transposes the
buffer (the filter of a dimension depends only on its length). The flips are bit for bit
what hashing the flipped picture gives; the transposed variants differ from it only by
float32 summation order (``tests/analyze/test_hashes_dihedral.py``).
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

HASH_BITS = 256
HEX_LEN = 64
MIN_DIM = 5  # the reference returns an all-zero hash with quality 0 below this

# The names python-threatexchange and the C++ use, in ``compute_dihedral`` order.
DIHEDRAL = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flipplus1",
    "flipminus1",
)

_DCT = (
    np.sqrt(2.0 / 64)
    * np.cos((np.pi / 2 / 64) * np.arange(1, 17)[:, None] * (2 * np.arange(64)[None, :] + 1))
).astype(np.float32)


@dataclass(frozen=True, slots=True)
class PdqHash:
    hex: str  # 64 lowercase hex digits, as every PDQ implementation prints it
    quality: int  # 0..100; python-threatexchange does not match below 50
    dihedral: dict[str, str]  # the other seven orientations, by DIHEDRAL name


def window_size(old: int, new: int = 64) -> int:
    """``computeJaroszFilterWindowSize``: half of one output cell, rounded up."""
    return (old + 2 * new - 1) // (2 * new)


@functools.lru_cache(maxsize=512)
def _tent(n: int) -> tuple[tuple[tuple[int, int], ...], np.ndarray]:
    """For a dimension of ``n`` pixels: the 64 sampled outputs of two box passes as
    (start, stop) bands plus a dense (64, n) float32 weight matrix.

    ``box1DFloat`` averages the window ``[o - a, o + b]`` clipped to the image, with
    ``b = half - 1`` and ``a = full - half``; ``decimateFloat`` samples output
    ``int((k + 0.5) * n / 64)``. Two passes compose into one tent per sample.
    """
    full = window_size(n)
    half = (full + 2) // 2
    a, b = full - half, half - 1
    lo = np.maximum(0, np.arange(n) - a)
    hi = np.minimum(n - 1, np.arange(n) + b)
    weights = np.zeros((64, n), dtype=np.float64)
    bands = []
    for k in range(64):
        t = int(((k + 0.5) * n) / 64)
        first, last = int(lo[t]), int(hi[t])
        for o in range(first, last + 1):
            weights[k, lo[o] : hi[o] + 1] += 1.0 / (hi[o] - lo[o] + 1)
        weights[k] /= last - first + 1
        bands.append((int(lo[first]), int(hi[last]) + 1))
    return tuple(bands), weights.astype(np.float32)


@functools.lru_cache(maxsize=512)
def _reduced_tent(
    full: int, reduced: int, scale: int
) -> tuple[tuple[tuple[int, int], ...], np.ndarray]:
    """The tent weights of a ``full``-pixel dimension, summed over blocks of ``scale``
    pixels: the filter to apply to a picture decoded at 1/``scale`` size (each decoded
    pixel stands for the mean of its block). The filter keeps the full picture's
    geometry, so the hash stays close to the full decode's (see the eval)."""
    _, weights = _tent(full)
    out = np.zeros((64, reduced), dtype=np.float64)
    for j in range(reduced):
        out[:, j] = weights[:, j * scale : min((j + 1) * scale, full)].sum(axis=1, dtype=np.float64)
    bands = []
    for k in range(64):
        nonzero = np.flatnonzero(out[k])
        bands.append((int(nonzero[0]), int(nonzero[-1]) + 1) if nonzero.size else (0, 0))
    return tuple(bands), out.astype(np.float32)


def _weights(
    rows: int, cols: int, full_shape: tuple[int, int] | None, scale: int
) -> tuple[tuple[tuple[int, int], ...], np.ndarray, np.ndarray]:
    if scale > 1 and full_shape is not None:
        row_bands, row_weights = _reduced_tent(full_shape[0], rows, scale)
        _, col_weights = _reduced_tent(full_shape[1], cols, scale)
    else:
        row_bands, row_weights = _tent(rows)
        _, col_weights = _tent(cols)
    return row_bands, row_weights, col_weights


def _row_pass(
    luma: np.ndarray, bands: tuple[tuple[int, int], ...], weights: np.ndarray, flip: bool
) -> np.ndarray:
    """``weights @ luma`` band by band; ``flip``: of the picture turned upside down (each
    band of the flipped picture is read reversed, so the arithmetic is the very same as on
    a flipped copy)."""
    rows, cols = luma.shape
    partial = np.empty((64, cols), dtype=np.float32)
    for k, (start, stop) in enumerate(bands):
        band = luma[rows - stop : rows - start][::-1] if flip else luma[start:stop]
        partial[k] = weights[k, start:stop] @ np.ascontiguousarray(band)
    return partial


def downsample64(
    luma: np.ndarray, full_shape: tuple[int, int] | None = None, scale: int = 1
) -> np.ndarray:
    """The reference's Jarosz-filtered, decimated 64 x 64 float32 buffer.

    ``full_shape`` and ``scale``: ``luma`` is the stored picture (``full_shape``
    rows x columns) decoded at 1/``scale`` size; the full picture's filter is used.
    """
    rows, cols = luma.shape
    if rows == 64 and cols == 64 and not (scale > 1 and full_shape is not None):
        return luma.astype(np.float32, copy=True)  # the reference copies such input unfiltered
    bands, row_weights, col_weights = _weights(rows, cols, full_shape, scale)
    partial = _row_pass(luma, bands, row_weights, False)
    return (partial @ col_weights.T).astype(np.float32)


def dihedral_buffers(
    luma: np.ndarray, full_shape: tuple[int, int] | None = None, scale: int = 1
) -> dict[str, np.ndarray]:
    """The 64 x 64 buffers of the picture and of its seven rotations and mirror images,
    by ``DIHEDRAL`` name (numpy: ``rotate90`` is ``np.rot90(a)``, ``flipx`` ``a[::-1]``,
    ``flipy`` ``a[:, ::-1]``, ``flipplus1`` ``a.T``, ``flipminus1`` ``np.rot90(a, 2).T``)."""
    rows, cols = luma.shape
    if rows == 64 and cols == 64 and not (scale > 1 and full_shape is not None):
        b00 = luma.astype(np.float32, copy=True)
        b10, b01, b11 = b00[::-1], b00[:, ::-1], b00[::-1, ::-1]
    else:
        bands, row_weights, col_weights = _weights(rows, cols, full_shape, scale)
        upright = _row_pass(luma, bands, row_weights, False)
        upside_down = _row_pass(luma, bands, row_weights, True)
        cw = col_weights.T
        b00 = (upright @ cw).astype(np.float32)
        b01 = (np.ascontiguousarray(upright[:, ::-1]) @ cw).astype(np.float32)
        b10 = (upside_down @ cw).astype(np.float32)
        b11 = (np.ascontiguousarray(upside_down[:, ::-1]) @ cw).astype(np.float32)
    return {
        "original": b00,
        "rotate90": b01.T,  # np.rot90(a) == a[:, ::-1].T
        "rotate180": b11,
        "rotate270": b10.T,  # np.rot90(a, 3) == a[::-1].T
        "flipx": b10,
        "flipy": b01,
        "flipplus1": b00.T,
        "flipminus1": b11.T,
    }


def quality_of(buf: np.ndarray) -> int:
    """``pdqImageDomainQualityMetric``: count of significant gradients, capped at 100."""
    down = np.trunc(((buf[:-1, :] - buf[1:, :]) * 100) / 255)
    across = np.trunc(((buf[:, :-1] - buf[:, 1:]) * 100) / 255)
    total = int(np.abs(down).sum(dtype=np.float64) + np.abs(across).sum(dtype=np.float64))
    return min(100, total // 90)


def _bits_hex(coeffs: np.ndarray) -> str:
    median = np.partition(coeffs.reshape(-1), 127)[127]  # Torben: the lower median
    bits = (coeffs > median)[::-1, ::-1].reshape(-1)
    return np.packbits(bits).tobytes().hex()


def pdq_from_luma(
    luma: np.ndarray,
    *,
    dihedral: bool = True,
    full_shape: tuple[int, int] | None = None,
    scale: int = 1,
) -> PdqHash:
    """PDQ of a float32 luma image (rows x columns); see :func:`downsample64` for a
    picture decoded at reduced size."""
    rows, cols = full_shape if full_shape is not None else luma.shape
    if rows < MIN_DIM or cols < MIN_DIM:
        zero = "0" * HEX_LEN
        return PdqHash(zero, 0, {n: zero for n in DIHEDRAL[1:]} if dihedral else {})
    luma = np.ascontiguousarray(luma, dtype=np.float32)
    with one_blas_thread():
        if not dihedral:
            buf = downsample64(luma, full_shape, scale)
            return PdqHash(_bits_hex(dct16(buf)), quality_of(buf), {})
        bufs = dihedral_buffers(luma, full_shape, scale)
        hexes = {name: _bits_hex(dct16(np.ascontiguousarray(b))) for name, b in bufs.items()}
    original = hexes.pop("original")
    return PdqHash(original, quality_of(bufs["original"]), hexes)


def dct16(buf: np.ndarray) -> np.ndarray:
    """The 16 x 16 low-frequency DCT coefficients of a 64 x 64 buffer."""
    return np.asarray((_DCT @ buf) @ _DCT.T)


def buffer_hashes(bufs: np.ndarray) -> list[tuple[str, int]]:
    """PDQ's hash and quality of each of ``K`` 64 x 64 float32 buffers made some other way
    ((K, 64, 64); the anchored regions resample patches with box filters, ``regions.py``),
    in one vectorised pass: DCT, lower median, bit layout and quality as above."""
    k = len(bufs)
    if k == 0:
        return []
    with one_blas_thread():
        coeffs = np.matmul(np.matmul(_DCT, bufs), _DCT.T)
    median = np.partition(coeffs.reshape(k, 256), 127, axis=1)[:, 127]
    bits = (coeffs > median[:, None, None])[:, ::-1, ::-1].reshape(k, 256)
    packed = np.packbits(bits, axis=1)
    down = np.trunc(((bufs[:, :-1, :] - bufs[:, 1:, :]) * 100) / 255)
    across = np.trunc(((bufs[:, :, :-1] - bufs[:, :, 1:]) * 100) / 255)
    total = np.abs(down).sum(axis=(1, 2), dtype=np.float64)
    total += np.abs(across).sum(axis=(1, 2), dtype=np.float64)
    quality = np.minimum(100, total.astype(np.int64) // 90)
    return [(packed[i].tobytes().hex(), int(quality[i])) for i in range(k)]


@functools.cache
def _blas_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with the hashes extra
        return None
    return ThreadpoolController()


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Our matrix products are small: a multi-threaded BLAS spends more on waking and
    syncing its threads than on the work, and on a busy machine (one analysis worker per
    core already) it was 20x slower. 40 microseconds to switch it to one thread."""
    controller = _blas_controller()
    if controller is None:
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


def luma_from_rgb(rgb: np.ndarray) -> np.ndarray:
    """Luma as ``pdqhash`` computes it: float64 weighted sum, then float32.

    Lookup tables give the very same float64 products as multiplying each uint8, in
    the same order of addition, at a fraction of the cost of three float64 temporaries.
    """
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    total = _LUT_R[r]
    total += _LUT_G[g]
    total += _LUT_B[b]
    return total.astype(np.float32)


_LUT_R = np.arange(256, dtype=np.float64) * 0.299
_LUT_G = np.arange(256, dtype=np.float64) * 0.587
_LUT_B = np.arange(256, dtype=np.float64) * 0.114


# -- hash strings ----------------------------------------------------------------------------


def is_pdq_hex(value: str) -> bool:
    return len(value) == HEX_LEN and all(c in "0123456789abcdef" for c in value)


def hex_to_bytes(value: str) -> bytes:
    return bytes.fromhex(value)


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
