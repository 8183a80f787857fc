"""Invisible watermarks of Stable Diffusion's reference scripts (DWT-DCT, ``invisible-watermark``).

Marks looked for: ``StableDiffusionV1`` (136 bits, CompVis SD 1.x scripts), ``SDV2`` (32
bits, Stability's SD 2.x scripts) and the 48-bit SDXL mark (diffusers' SDXL pipelines),
each in both colour orders (the SD 1 scripts embed into BGR, diffusers into RGB).

**How the decoder is used without torch.** ``imwatermark/__init__.py`` imports its RivaGAN
module, which needs torch; the DWT-DCT decoder (``imwatermark/maxDct.py``, class
``EmbedMaxDct``) needs only numpy, OpenCV and PyWavelets. So the package is *located*
with :func:`importlib.util.find_spec` (which does not run its ``__init__``) and
``maxDct.py`` alone is loaded from that folder under a private module name. Nothing is
stubbed or patched; if the file moves in a later release, loading fails with a clear
message and the provenance analyzer reports the watermark check as unavailable.

**One pass for all marks, vectorised.** The decoder averages, per bit, the 0/1 score of
every 4x4 block of the U channel's Haar approximation whose index modulo the mark length is
that bit. :func:`block_bits` computes every block's score at once with numpy (the
library's per-block Python loop takes about 0.45 s for a 512x512 picture; this takes a
few milliseconds) and :func:`decode_mark` averages them per mark length. The tests check
that this gives, bit for bit, what the library's own ``EmbedMaxDct.decode`` returns
(:func:`library_block_bits` runs the library's loop for that comparison).

**Limits.** The mark lives in the exact pixel grid: resizing, cropping or JPEG
recompression (Telegram's photo compression included) destroys it, and it is only present
if the generator's script added it (most web UIs do not). Absence proves nothing; a match
is judged by its bit agreement against chance (binomial tail probability).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

MIN_SIDE = 256  # the library refuses pictures under 256x256 pixels
MAX_PIXELS = 4_200_000  # above this (2048x2048) the check is skipped: no SD output is larger
P_DETECTED = 1e-6  # chance level a match must beat

SDXL_MESSAGE = 0b101100111110110010010000011110111011000110011110


def _bits_of(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8)).astype(bool)


MARKS: dict[str, np.ndarray] = {
    "StableDiffusionV1": _bits_of(b"StableDiffusionV1"),
    "SDV2": _bits_of(b"SDV2"),
    "SDXL": np.array([c == "1" for c in bin(SDXL_MESSAGE)[2:]], dtype=bool),
}


class WatermarkUnavailable(RuntimeError):
    pass


@cache
def _max_dct() -> ModuleType:
    spec = importlib.util.find_spec("imwatermark")
    if spec is None or not spec.submodule_search_locations:
        raise WatermarkUnavailable("invisible-watermark is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "maxDct.py"
    if not path.is_file():
        raise WatermarkUnavailable(f"invisible-watermark has no {path.name} at {path.parent}")
    file_spec = importlib.util.spec_from_file_location("haechi_imwatermark_maxdct", path)
    if file_spec is None or file_spec.loader is None:
        raise WatermarkUnavailable(f"cannot load {path}")
    module = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(module)
    return module


def embedder(bits: np.ndarray) -> Any:
    """The library's DWT-DCT embedder for ``bits`` (tests use it to mark benign pictures)."""
    return _max_dct().EmbedMaxDct(watermarks=[int(b) for b in bits], wmLen=len(bits))


SCALE, BLOCK = 36, 4  # EmbedMaxDct's defaults: scales=[0, 36, 36], block=4


def block_bits(colour: np.ndarray) -> np.ndarray:
    """The decoder's 0/1 score of every 4x4 block, in its own (row-major) order.

    ``colour`` is the ``HxWx3`` uint8 array as the decoder receives it (taken as BGR). As in
    ``EmbedMaxDct.decode``: YUV, U channel only (the loop there runs over channels 0-1 and
    channel 0 has scale 0), Haar DWT, and per block the coefficient of largest magnitude
    after the first; the bit is whether its magnitude modulo 36 exceeds 18.
    """
    import cv2
    import pywt

    rows, cols = colour.shape[:2]
    yuv = cv2.cvtColor(colour, cv2.COLOR_BGR2YUV)
    ca1, _ = pywt.dwt2(yuv[: rows // 4 * 4, : cols // 4 * 4, 1], "haar")
    nr, nc = ca1.shape[0] // BLOCK, ca1.shape[1] // BLOCK
    blocks = (
        ca1[: nr * BLOCK, : nc * BLOCK]
        .reshape(nr, BLOCK, nc, BLOCK)
        .transpose(0, 2, 1, 3)
        .reshape(nr * nc, BLOCK * BLOCK)
    )
    pos = np.abs(blocks[:, 1:]).argmax(axis=1) + 1
    val = np.abs(blocks[np.arange(blocks.shape[0]), pos])
    return np.asarray((val % SCALE) > 0.5 * SCALE)


def library_block_bits(colour: np.ndarray) -> np.ndarray:
    """The same scores from the library's own decoder (slow; the reference for tests):
    decoding with a mark as long as the number of blocks returns each block's score."""
    rows, cols = colour.shape[:2]
    n_blocks = (rows // 4 * 4 // 2 // BLOCK) * (cols // 4 * 4 // 2 // BLOCK)
    decoder = _max_dct().EmbedMaxDct(watermarks=[], wmLen=n_blocks)
    return np.asarray(decoder.decode(colour), dtype=bool)


def decode_mark(per_block: np.ndarray, length: int) -> np.ndarray:
    """What ``EmbedMaxDct(wmLen=length).decode`` returns, from the per-block scores."""
    sums = np.bincount(np.arange(per_block.size) % length, weights=per_block, minlength=length)
    counts = np.bincount(np.arange(per_block.size) % length, minlength=length)
    return (sums / np.maximum(counts, 1)) * 255 > 127


def chance(matched: int, total: int) -> float:
    """P(at least ``matched`` of ``total`` bits agree by chance)."""
    return sum(math.comb(total, k) for k in range(max(matched, 0), total + 1)) / 2**total


@dataclass
class MarkResult:
    mark: str
    colour_order: str
    bits_matched: int
    bits_total: int
    p_chance: float

    @property
    def detected(self) -> bool:
        return self.p_chance < P_DETECTED

    def as_dict(self) -> dict[str, Any]:
        return {
            "mark": self.mark,
            "colour_order": self.colour_order,
            "bits_matched": self.bits_matched,
            "bits_total": self.bits_total,
            "p_chance": float(f"{self.p_chance:.3g}"),
            "detected": self.detected,
        }


def check(rgb: np.ndarray) -> tuple[list[MarkResult], str | None]:
    """Best agreement of each known mark with an ``HxWx3`` RGB picture at full resolution,
    or ``([], reason)`` when the picture is outside what the decoder can read."""
    h, w = rgb.shape[:2]
    if h < MIN_SIDE or w < MIN_SIDE:
        return [], f"{w}x{h} is below the decoder's {MIN_SIDE}x{MIN_SIDE} minimum"
    if h * w > MAX_PIXELS:
        return [], f"{w}x{h} is larger than any Stable Diffusion output; not checked"
    best: dict[str, MarkResult] = {}
    for order, colour in (("BGR", np.ascontiguousarray(rgb[:, :, ::-1])), ("RGB", rgb)):
        per_block = block_bits(colour)
        for name, mark in MARKS.items():
            got = decode_mark(per_block, len(mark))
            matched = int((got == mark).sum())
            if name not in best or matched > best[name].bits_matched:
                # Two colour orders are tried: the chance level doubles (Bonferroni).
                p = min(1.0, 2 * chance(matched, len(mark)))
                best[name] = MarkResult(name, order, matched, len(mark), p)
    return list(best.values()), None
