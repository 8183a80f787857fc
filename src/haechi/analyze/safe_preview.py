"""Safe previews: what staff see instead of the evidence, made once, at analysis time.

A safe preview is the picture reduced to at most ``max_side`` pixels, in greyscale, with
every region the nudity detector flagged replaced by coarse blocks (pixelation, not a
blur a model could undo). It is made on the server for every picture, whether or not
anything was found, so the web UI and reports never need the original to show a file.

The geometry is deliberately generous: a region is widened by ``margin`` of its size on
every side and rounded *outwards* to whole preview pixels, so a box that covers a body
part in the original always covers it in the preview.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from haechi.analyze.stills import Still

PREVIEW_MIME = "image/jpeg"


@dataclass(frozen=True)
class Box:
    """A region in the file's own pixel coordinates (top-left corner, width, height)."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Rect:
    """A region in preview pixels, half-open: columns ``x0 <= x < x1``, rows ``y0 <= y < y1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0


def preview_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The preview's pixel size: the longer side ``max_side`` at most, never enlarged."""
    if max(width, height) <= max_side:
        return width, height
    factor = max_side / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def to_preview_rect(
    box: Box, width: int, height: int, size: tuple[int, int], margin: float
) -> Rect:
    """Map a box in file pixels (of a ``width`` x ``height`` file) to preview pixels,
    widened by ``margin`` x its size on each side, rounded outwards, clipped to the preview."""
    pw, ph = size
    fx, fy = pw / width, ph / height
    mx, my = box.w * margin, box.h * margin
    x0 = math.floor((box.x - mx) * fx)
    y0 = math.floor((box.y - my) * fy)
    x1 = math.ceil((box.x + box.w + mx) * fx)
    y1 = math.ceil((box.y + box.h + my) * fy)
    return Rect(max(0, x0), max(0, y0), min(pw, x1), min(ph, y1))


def block_size(rect: Rect, blocks: int, min_block: int) -> int:
    """Side of one pixelation block: about ``blocks`` blocks along the longer side."""
    longest = max(rect.x1 - rect.x0, rect.y1 - rect.y0)
    return max(min_block, math.ceil(longest / max(1, blocks)))


def pixelate(pixels: np.ndarray, rect: Rect, block: int) -> None:
    """Replace ``rect`` of a 2-D array, in place, by the mean of each ``block`` x ``block``
    cell (cells start at the rect's top-left corner; the last ones may be smaller)."""
    if rect.empty:
        return
    for y in range(rect.y0, rect.y1, block):
        ye = min(y + block, rect.y1)
        for x in range(rect.x0, rect.x1, block):
            xe = min(x + block, rect.x1)
            cell = pixels[y:ye, x:xe]
            cell[...] = np.round(cell.mean())


def render(
    still: Still,
    boxes: list[Box],
    *,
    max_side: int = 320,
    margin: float = 0.15,
    blocks: int = 6,
    min_block: int = 4,
    quality: int = 75,
) -> bytes:
    """The safe preview of ``still`` as JPEG bytes (greyscale, no metadata)."""
    size = preview_size(still.width, still.height, max_side)
    grey = still.image.convert("L").resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.array(grey, dtype=np.float32)
    for box in boxes:
        rect = to_preview_rect(box, still.width, still.height, size, margin)
        pixelate(pixels, rect, block_size(rect, blocks, min_block))
    out = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    buf = io.BytesIO()
    # No EXIF, no ICC: a preview carries nothing of the original but its reduced pixels.
    out.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()
