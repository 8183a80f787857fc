"""Decoding pictures for PDQ: every Pillow mode, EXIF orientation, animations, and the
reduced-size JPEG fast path.

Policies, each chosen deliberately and measured (docs/matching.md, eval/eval_pdq.py):

* **Pixels as stored, EXIF orientation not applied.** Meta's reference hashers and
  python-threatexchange hash the stored pixels; the ThreatExchange ``exif-rotn`` vectors
  agree with them within 4 bits this way and sit ~130 bits away if the orientation is
  applied. Partner lists are made that way, so ours are too. A copy whose orientation
  was baked into its pixels is still found: matching queries all eight dihedral hashes.
  The tag is recorded in the signal (``exif_orientation``).
* **Modes.** Palette, 1-bit, grey, CMYK, YCbCr, LAB and HSV images go through Pillow's
  RGB conversion, as python-threatexchange does; alpha is dropped (the colour under a
  transparent pixel is hashed as stored, which is what ``pdqhash`` does with RGBA).
  16-bit and 32-bit integer images are scaled to 8 bits (``/ 257``) and float images in
  [0, 1] are scaled by 255: Pillow would clip them, hashing a 16-bit PNG as a white
  page (quality 0).
* **Animations** (GIF, WebP, APNG): frame 0 is the image's hash (what Telegram shows
  before playing); up to ``frames`` evenly spaced frames are hashed too and the ones
  that look different (more than 31 bits from every hash kept) become extra signals.
* **Fast path (JPEG only).** ``Image.draft("L", (s, s))`` makes libjpeg decode only the
  luma plane and scale it by 1/2, 1/4 or 1/8 in the DCT domain while both sides stay at
  least ``s`` pixels. Skipping chroma, colour conversion and most of the pixels costs
  a few bits (see the eval) and is 5–15x faster on 1–4 MP photos.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from haechi.analyze.hashes.pdqcore import luma_from_rgb

EXACT = "exact"
FAST = "fast"
DECODE_POLICIES = (FAST, EXACT)
MAX_FRAMES_SCANNED = 10_000  # n_frames of a crafted GIF can be huge; never walk further

_ORIENTATION = 0x0112
_HIGH_BIT_INT = {"I", "I;16", "I;16B", "I;16L", "I;16N"}


@dataclass(frozen=True, slots=True)
class Luma:
    """One frame ready for PDQ, with what we know about how it was read."""

    luma: np.ndarray  # float32, rows x columns
    width: int  # the stored picture's size, before any reduced decode
    height: int
    mode: str  # Pillow mode of the stored picture
    format: str | None
    decode: str  # "exact", or "jpeg-luma" / "jpeg-luma-1/2" ... for the fast path
    scale: int = 1  # decoded at 1/scale of the stored size (the fast path)
    frame: int = 0
    frames: int = 1
    exif_orientation: int | None = None


class DecodeError(Exception):
    """The bytes are not a picture Pillow can read."""


@contextlib.contextmanager
def open_picture(source: Path | IO[bytes]) -> Iterator[Any]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(source) as im:
            yield im
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise DecodeError(f"not a readable picture: {exc}") from exc
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused: {exc}") from exc


def rgb_array(im: Any) -> np.ndarray:
    """An 8-bit RGB array of one frame in any Pillow mode (see the module policies)."""
    mode = im.mode
    if mode in _HIGH_BIT_INT:
        values = np.asarray(im, dtype=np.float64)
        if values.size and values.max() > 255:
            values = values / 257.0
        grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "F":
        values = np.asarray(im, dtype=np.float64)
        finite = values[np.isfinite(values)]
        if finite.size and finite.max() <= 1.0 and finite.min() >= 0.0:
            values = values * 255.0
        grey = np.clip(np.nan_to_num(np.rint(values)), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "La":  # premultiplied: Pillow converts it only through LA
        im = im.convert("LA")
    if mode == "RGBa":
        im = im.convert("RGBA")
    if im.mode != "RGB":
        im = im.convert("RGB")
    array = np.asarray(im)
    if array.ndim != 3 or array.shape[2] != 3:  # pragma: no cover - defensive
        raise DecodeError(f"unexpected pixel layout after converting {mode} to RGB")
    return array


def _orientation(im: Any) -> int | None:
    try:
        value = im.getexif().get(_ORIENTATION)
    except Exception:  # a damaged EXIF block must not cost the hash
        return None
    return int(value) if value else None


def _fast_jpeg(im: Any, min_side: int) -> tuple[np.ndarray, int] | None:
    """Luma plane straight from libjpeg, reduced while both sides stay >= ``min_side``;
    returns it with the reduction (1, 2, 4 or 8)."""
    if im.format != "JPEG" or im.mode not in ("RGB", "L", "YCbCr"):
        return None  # CMYK/YCCK JPEGs have no luma plane to take
    full = im.size
    im.draft("L", (min_side, min_side))
    if im.mode != "L":
        return None
    scale = max(1, round(full[0] / im.size[0])) if im.size[0] else 1
    return np.asarray(im, dtype=np.float32), scale


def frame_indices(n_frames: int, wanted: int) -> list[int]:
    """Frame 0 and up to ``wanted - 1`` more, evenly spaced."""
    n = max(1, min(n_frames, MAX_FRAMES_SCANNED))
    wanted = max(1, min(wanted, n))
    return sorted({round(i * (n - 1) / max(1, wanted - 1)) for i in range(wanted)} | {0})


def decode_frames(
    source: Path | IO[bytes], *, policy: str = FAST, min_side: int = 256, frames: int = 1
) -> Iterator[Luma]:
    """Yield frame 0 (and, for an animation, up to ``frames`` sampled frames) as luma."""
    if policy not in DECODE_POLICIES:
        raise ValueError(f"decode policy must be one of {DECODE_POLICIES}, not {policy!r}")
    with open_picture(source) as im:
        width, height, mode, fmt = im.width, im.height, im.mode, im.format
        orientation = _orientation(im)
        total = int(getattr(im, "n_frames", 1) or 1)
        try:
            if total == 1 and policy == FAST:
                fast = _fast_jpeg(im, min_side)
                if fast is not None:
                    luma, scale = fast
                    how = "jpeg-luma" if scale == 1 else f"jpeg-luma-1/{scale}"
                    yield Luma(luma, width, height, mode, fmt, how, scale, 0, 1, orientation)
                    return
            for index in frame_indices(total, frames if total > 1 else 1):
                if index:
                    im.seek(index)
                luma = luma_from_rgb(rgb_array(im))
                yield Luma(luma, width, height, mode, fmt, EXACT, 1, index, total, orientation)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise DecodeError(f"picture damaged while decoding: {exc}") from exc
