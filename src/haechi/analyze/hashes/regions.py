"""Anchored region hashes: PDQ hashes of square patches placed and sized by the picture's
own content, for the second matching stage (crops, borders, captions, stickers).

PDQ of a whole picture tolerates about 1 % of cropping: a 2 % crop per side is already
~34 bits away and 5 % ~90. No grid of sub-regions fixed to the frame can follow an
arbitrary crop at that precision. So the patches are anchored to the content instead:
SIFT keypoints (scale-space blobs, found at the same place and scale whatever is cut
off around them) give a centre and a size, and the patch is a square of
``SIZE_FACTOR`` x the keypoint's size around it, hashed with the standard PDQ algorithm.
A patch that is still in view after a crop, a border, a caption bar or a sticker keeps
its hash within a few bits of noise plus the keypoint's placement error; a patch of
another picture is ~128 bits away like any PDQ hash.

Each picture keeps up to ``MAX_REGIONS`` patches, strongest keypoints first, and names
the ``INDEXED`` that go into the search index: those lying inside the central box
[0.2, 0.8] x [0.2, 0.8], which any crop of up to 20 % per side leaves in view, first.
Coordinates are in units of the picture's longest side, so any two pictures relate by
a scale and an offset. Nothing here is a picture: a region is a position, a size and a
256-bit hash, as shareable as the picture's PDQ itself.

Matching (``haechi.match.regions``) looks the query's regions up among the indexed ones,
then confirms a candidate with at least two more region pairs at one consistent scale
and offset. Parameters were chosen on the development half of the evaluation set only
(``eval/eval_repost.py`` states the protocol); change ``VERSION`` with any of them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from haechi.analyze.hashes.pdqcore import buffer_hash, hamming

VERSION = 1
DETECT_SIDE = 320  # SIFT runs on the picture scaled to this longest side
PATCH_SIDE = 512  # patches are hashed from the picture at most this long
SIZE_FACTOR = 4.0  # patch side / keypoint size
MIN_PATCH = 24  # pixels (at the patch scale): smaller patches carry too little
MAX_REGIONS = 32
INDEXED = 8
CENTRAL = 0.2
QUALITY = 50  # as for whole-picture PDQ
KEYPOINTS = 300
DUPLICATE_BITS = 8  # a patch this close to one already kept adds nothing


@dataclass(frozen=True, slots=True)
class Region:
    x: float  # centre, in units of the picture's longest side
    y: float
    side: float
    hex: str
    quality: int

    def box(self) -> tuple[float, float, float, float]:
        h = self.side / 2
        return (self.x - h, self.y - h, self.x + h, self.y + h)


@dataclass(frozen=True)
class RegionHashes:
    """A picture's anchored regions; ``width`` and ``height`` in units of its longest side
    (one of them is 1)."""

    width: float
    height: float
    regions: tuple[Region, ...]
    indexed: int

    def __len__(self) -> int:
        return len(self.regions)

    def as_data(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "w": round(self.width, 5),
            "h": round(self.height, 5),
            "n": self.indexed,
            "list": [[round(r.x, 5), round(r.y, 5), round(r.side, 5), r.hex, r.quality]
                     for r in self.regions],
        }  # fmt: skip

    @classmethod
    def from_data(cls, data: Any) -> RegionHashes | None:
        """Parse ``as_data`` output; None for anything else (another version, damage)."""
        if not isinstance(data, dict) or data.get("v") != VERSION:
            return None
        try:
            width, height = float(data["w"]), float(data["h"])
            regions = tuple(
                Region(float(x), float(y), float(s), str(h), int(q))
                for x, y, s, h, q in data["list"][:MAX_REGIONS]
            )
            indexed = min(int(data["n"]), len(regions))
        except (KeyError, TypeError, ValueError):
            return None
        if not (0 < width <= 1 and 0 < height <= 1) or any(len(r.hex) != 64 for r in regions):
            return None
        return cls(width, height, regions, indexed)


class Canvas:
    """A picture's luma at the patch scale (longest side at most ``PATCH_SIDE``), to hash
    patches from: when the regions are made, and to check a candidate match against the
    pixels of the side that has them.

    A patch is resampled to 64 x 64 cells by exact box averages read off the integral
    image (bilinear in it is exact for pixel-constant pictures), so any fractional
    position and size costs the same ~0.1 ms and no rounding to whole pixels moves it;
    the 64 x 64 buffer then goes through PDQ's DCT, median and quality."""

    def __init__(self, luma: np.ndarray) -> None:
        import cv2

        rows, cols = luma.shape
        longest = max(rows, cols)
        f = min(1.0, PATCH_SIDE / longest)
        if f < 1.0:
            size = (max(1, round(cols * f)), max(1, round(rows * f)))
            luma = cv2.resize(np.asarray(luma, np.float32), size, interpolation=cv2.INTER_AREA)
        self.luma = np.ascontiguousarray(luma, dtype=np.float32)
        rows, cols = self.luma.shape
        self.integral = np.zeros((rows + 1, cols + 1), np.float64)
        np.cumsum(np.cumsum(self.luma, axis=0, dtype=np.float64), axis=1, out=self.integral[1:, 1:])
        self.unit = float(max(rows, cols))  # pixels per unit (the longest side)
        self.width = cols / self.unit
        self.height = rows / self.unit

    def inside(self, x: float, y: float, side: float) -> bool:
        h = side / 2
        return x - h >= 0 and y - h >= 0 and x + h <= self.width and y + h <= self.height

    def buffer(self, x: float, y: float, side: float) -> np.ndarray | None:
        """The 64 x 64 box-averaged cells of the square of ``side`` centred on (x, y), None
        when it leaves the picture or spans fewer than ``MIN_PATCH`` pixels."""
        u = self.unit
        px, py, ps = (x - side / 2) * u, (y - side / 2) * u, side * u
        rows, cols = self.luma.shape
        if ps < MIN_PATCH or px < 0 or py < 0 or px + ps > cols or py + ps > rows:
            return None
        edges = np.arange(65, dtype=np.float64) * (ps / 64)
        xs, ys = np.minimum(px + edges, cols), np.minimum(py + edges, rows)
        x0 = np.minimum(xs.astype(np.int64), cols - 1)
        y0 = np.minimum(ys.astype(np.int64), rows - 1)
        fx, fy = xs - x0, (ys - y0)[:, None]
        # bilinear in the integral image is separable: rows first, then columns
        ii = self.integral
        at_rows = ii[y0] * (1 - fy) + ii[y0 + 1] * fy
        s = at_rows[:, x0] * (1 - fx) + at_rows[:, x0 + 1] * fx
        cells = s[1:, 1:] - s[:-1, 1:] - s[1:, :-1] + s[:-1, :-1]
        return (cells / (ps / 64) ** 2).astype(np.float32)

    def patch(self, x: float, y: float, side: float) -> tuple[str, int] | None:
        """(hash, quality) of the square of ``side`` centred on (x, y); see ``buffer``."""
        buf = self.buffer(x, y, side)
        return None if buf is None else buffer_hash(buf)


@functools.cache
def _sift() -> Any:
    import cv2

    return cv2.SIFT_create(nfeatures=KEYPOINTS, contrastThreshold=0.03)  # type: ignore[attr-defined]


def _keypoints(luma: np.ndarray) -> list[tuple[float, float, float]]:
    """(x, y, size) in units of the longest side, strongest (response x size) first."""
    import cv2

    rows, cols = luma.shape
    f = DETECT_SIDE / max(rows, cols)
    size = (max(1, round(cols * f)), max(1, round(rows * f)))
    how = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    small = cv2.resize(np.asarray(luma, np.float32), size, interpolation=how)
    found = _sift().detect(np.clip(small + 0.5, 0, 255).astype(np.uint8), None)
    found = sorted(found, key=lambda k: (-k.response * k.size, k.pt[1], k.pt[0]))
    unit = float(max(size))
    return [(k.pt[0] / unit, k.pt[1] / unit, k.size / unit) for k in found]


def _central(r: Region, width: float, height: float) -> bool:
    x0, y0, x1, y1 = r.box()
    return (x0 >= CENTRAL * width and y0 >= CENTRAL * height
            and x1 <= (1 - CENTRAL) * width and y1 <= (1 - CENTRAL) * height)  # fmt: skip


def anchored_regions(luma: np.ndarray) -> RegionHashes:
    """The anchored regions of a picture given as float32 luma (any size; a reduced
    decode is fine: geometry is relative to the longest side)."""
    canvas = Canvas(luma)
    kept: list[Region] = []
    for x, y, size in _keypoints(canvas.luma):
        side = size * SIZE_FACTOR
        if any(
            abs(x - r.x) < 0.25 * r.side and abs(y - r.y) < 0.25 * r.side
            and abs(math.log(side / r.side)) < 0.25 for r in kept
        ):  # fmt: skip
            continue  # the same place at about the same scale
        h = canvas.patch(x, y, side)
        if h is None or h[1] < QUALITY:
            continue
        if any(hamming(h[0], r.hex) <= DUPLICATE_BITS for r in kept):
            continue
        kept.append(Region(x, y, side, h[0], h[1]))
        if len(kept) == MAX_REGIONS:
            break
    central = [r for r in kept if _central(r, canvas.width, canvas.height)]
    ordered = central[:INDEXED] + [r for r in kept if r not in central[:INDEXED]]
    return RegionHashes(canvas.width, canvas.height, tuple(ordered), min(INDEXED, len(ordered)))
