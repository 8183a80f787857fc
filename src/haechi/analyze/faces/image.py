"""Turn any still picture a stranger sent into an 8-bit RGB array a face detector can use.

Evidence images come in every shape: grayscale scans, CMYK JPEGs from print workflows,
16-bit PNGs, palette GIFs with transparency, phone photos whose EXIF orientation says
"rotate me" (HOG finds no face lying on its side). Each is normalised here, once, the
same way for analysis and enrolment. Very large pictures are reduced for detection (the
reduction is recorded so boxes are reported in the file's own pixels); very small ones are
refused with a sentence, not an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import numpy as np

from haechi.domain.analysis import AnalysisError

# Below this a face cannot be a recognisable one (dlib's smallest detection is 40 px at
# one upsample, 20 px at two): there is nothing to detect in a 12 px icon.
MIN_SIDE = 16


@dataclass(frozen=True)
class Picture:
    """An RGB array plus how it relates to the file: ``scale`` = array px / file px."""

    rgb: np.ndarray  # (h, w, 3) uint8, C-contiguous
    width: int  # of the file, after EXIF orientation
    height: int
    scale: float
    mode: str  # the file's own Pillow mode (RGB, L, CMYK, ...)
    oriented: bool  # an EXIF orientation was applied
    truncated: bool = False  # the file ends early: only its decodable part is here


def _to_rgb(im: object) -> object:
    from PIL import Image

    assert isinstance(im, Image.Image)
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float images: stretch the actual range into 8 bits (a plain
        # convert("L") clips everything above 255 to white).
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        span = hi - lo if hi > lo else 1.0
        arr8 = np.clip((arr - lo) * (255.0 / span), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, "L").convert("RGB")
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")  # L, 1, P, CMYK (Pillow undoes Adobe's inversion), YCbCr, LAB


def load_picture(source: Path | IO[bytes], max_side: int) -> Picture:
    """Read the first frame of an image file as RGB, at most ``max_side`` px on its longer
    side (0: no limit). Raises :class:`AnalysisError` for a file that is not a readable
    image and :class:`TooSmall` for one too small to hold a face.

    A truncated file (a download cut short) is read as far as it goes and marked
    ``truncated``: a face in its top half is still a face. Whether Pillow accepts truncated
    files is a process-wide switch that other libraries flip (WeasyPrint sets it on import),
    so it is set explicitly for each attempt here and restored afterwards."""
    from PIL import ImageFile

    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            return _load(source, max_side)
        except _Truncated:
            if hasattr(source, "seek"):
                source.seek(0)
            ImageFile.LOAD_TRUNCATED_IMAGES = True
            return replace(_load(source, max_side), truncated=True)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


class _Truncated(Exception):
    pass


def _load(source: Path | IO[bytes], max_side: int) -> Picture:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(source) as im:
            mode = str(im.mode)
            file_w, file_h = im.size  # before draft(), which shrinks im.size
            orientation = im.getexif().get(0x0112, 1)
            if max_side and im.format == "JPEG" and max(file_w, file_h) > max_side:
                # draft() decodes a JPEG at 1/2, 1/4 or 1/8 directly: a 6000 px photo
                # costs a fraction of a full decode; the exact reduction follows.
                im.draft("RGB", (max_side, max_side))
            im.load()
            oriented = ImageOps.exif_transpose(im) if orientation not in (None, 1) else im
            rgb_img = _to_rgb(oriented)
    except Image.DecompressionBombError as exc:
        raise AnalysisError(f"refused: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError) as exc:
        if "truncated" in str(exc) and not isinstance(exc, UnidentifiedImageError):
            raise _Truncated() from exc
        raise AnalysisError(f"not a readable image: {exc}") from exc
    assert isinstance(rgb_img, Image.Image)
    if orientation in (5, 6, 7, 8):
        file_w, file_h = file_h, file_w
    if min(file_w, file_h) < MIN_SIDE:
        raise TooSmall(file_w, file_h)
    w, h = rgb_img.size
    longer = max(w, h)
    if max_side and longer > max_side:
        ratio = max_side / longer
        rgb_img = rgb_img.resize(
            (max(1, round(w * ratio)), max(1, round(h * ratio))), Image.Resampling.LANCZOS
        )
    arr = np.ascontiguousarray(np.asarray(rgb_img, dtype=np.uint8))
    return Picture(
        rgb=arr,
        width=file_w,
        height=file_h,
        scale=arr.shape[1] / file_w,
        mode=mode,
        oriented=orientation not in (None, 1),
    )


class TooSmall(AnalysisError):
    """Not a fault of the file: it is simply too small to hold a face."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width}x{height} px is too small to hold a detectable face")
        self.width, self.height = width, height
