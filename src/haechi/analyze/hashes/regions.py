"""Anchored region hashes: PDQ hashes of square patches placed and sized by the picture's
own content, for the second matching stage (crops, borders, captions, stickers).

PDQ of a whole picture tolerates about 1 % of cropping: a 2 % crop per side is already
~34 bits away and 5 % ~90. No grid of sub-regions fixed to the frame can follow an
arbitrary crop at that precision. So the patches are anchored to the content instead:
SIFT keypoints (scale-space blobs, found at the same place and scale whatever is cut
off around them) give a centre and a size, and the patch is a square of
``SIZE_FACTOR`` x the keypoint's size around it, resampled to 64 x 64 and hashed with
PDQ's DCT, median and quality.
A patch that is still in view after a crop, a border, a caption bar or a sticker keeps
its hash within a few bits of noise plus the keypoint's placement error; a patch of
another picture is ~128 bits away like any PDQ hash.

A picture smaller than ``SMALL_SIDE`` pixels gets three patches a keypoint
(``SMALL_FACTORS``), so that some still fit inside a crop of it, smaller grid squares,
``SMALL_INDEXED`` indexed regions and a lower quality bar (``SMALL_QUALITY``); its
keypoints are found at a fixed magnification (``SMALL_MAGNIFY``: a crop keeps the scale of
what is left), and under ``TINY_SIDE`` pixels its patches may be as small as
``TINY_MIN_PATCH``.

Each picture keeps up to ``MAX_REGIONS`` patches, strongest keypoints first but spread
over the picture (``_select``), and names the ``INDEXED`` that go into the search index:
those inside the central box [0.2, 0.8] x [0.2, 0.8], which any crop of up to 20 % per
side leaves in view, first (``_to_index``). Patches are resampled by exact box averages
(``Canvas``). Places the keypoints left free are filled with *grid* regions (``_grid``):
squares on a lattice fixed to the frame, which a crop or border moves, so a larger
picture never looks them up — the ``anchored`` ones are — but a hypothesis made by an
anchored pair is checked on them too, which is what a small picture with a handful of
anchored regions lacked. A small picture also indexes and looks up its grid squares
(``SMALL_GRID_INDEXED``; an overlay leaves the frame where it was). Coordinates are in
units of the picture's longest side, so any two pictures relate by a scale and an
offset. Nothing here is a picture: a region is a
position, a size and a 256-bit hash, as shareable as the picture's PDQ itself.

Matching (``haechi.match.regions``) looks the query's regions up among the indexed ones,
then confirms a candidate on the pixels of one side. Parameters were chosen on the
development half of the evaluation set only (``eval/eval_repost.py`` states the
protocol); change ``VERSION`` with any that changes what is stored.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from haechi.analyze.hashes.pdqcore import buffer_hashes, hamming

VERSION = 6  # 1: a JSON list of 32 regions (analyzer pdq version 2); 2: packed; 3: grid;
# 5: small pictures index grid regions too; 6: small pictures' keypoints found at a fixed
# magnification, tiny pictures' patches down to TINY_MIN_PATCH pixels
READABLE = (2, 3, 4, 5, 6)  # 2 has no grid regions (every region anchored): still read as it is
DETECT_SIDE = 320  # SIFT runs on the picture scaled to this longest side
PATCH_SIDE = 512  # patches are hashed from the picture at most this long
SIZE_FACTOR = 4.0  # patch side / keypoint size
MIN_PATCH = 24  # pixels (at the patch scale): smaller patches carry too little
MAX_REGIONS = 48
INDEXED = 12
INDEX_CENTRAL = 8  # of which inside the central box
CELL_CAP = 4  # regions per cell of a 4 x 4 grid before the rest of the picture had its turn
CENTRAL = 0.2
QUALITY = 50  # as for whole-picture PDQ
KEYPOINTS = 300
DUPLICATE_BITS = 8  # a patch this close to one already kept adds nothing
# Grid regions fill the places keypoints left free: squares of these shares of the
# shorter side, centres STEP x the side apart, central ones first. Not anchored to the
# content, so never looked up; checked where a hypothesis puts them (``match.regions``).
GRID_SIDES = (0.25, 0.4)
GRID_STEP = 0.75
# A picture under SMALL_SIDE pixels (longest side) also gets smaller patches on each
# keypoint: a 20 % crop of a 125-pixel photo is 75 pixels, where few 4x patches fit.
# Version 4: a third, smaller patch and grid square, more of them indexed, and a lower
# quality bar (a 30-pixel patch blown up to 64 x 64 has weak gradients: at 50, most
# 125-pixel face photos kept fewer than ten regions and some none).
SMALL_SIDE = 256
SMALL_FACTORS = (4.0, 2.5, 1.6)
SMALL_INDEXED = 20
SMALL_QUALITY = 30
SMALL_GRID_SIDES = (0.18, 0.25, 0.4)
# Version 5: a small picture also indexes its grid regions (up to SMALL_GRID_INDEXED,
# central ones first: all of them, as no picture has more than MAX_REGIONS regions) and
# looks all of its regions up, grid ones too. A sticker or caption text leaves the frame
# where it was, so the grid squares it does not touch are where the original's are,
# while its few anchored regions are large and most of them touch the overlay. On the
# development half, small pictures' stickers had a seed within 31 bits for 0.62 of them
# with anchored regions only, 0.89 with 16 grid regions indexed, 0.96 with all; recall
# 0.82 -> 0.95 (16) -> 0.975 (all), no false match, none in the shared-sticker test. A
# small picture then has at most MAX_REGIONS index rows instead of SMALL_INDEXED.
SMALL_GRID_INDEXED = MAX_REGIONS
# Version 6, for strong crops of small pictures. A crop cuts pixels off but leaves the scale
# of what remains as it was; scaling every picture to DETECT_SIDE for SIFT magnified a
# 125-pixel photo 2.56x and its 20 % crop (75 pixels) 4.27x, so the crop's keypoints were
# found at another magnification, and many of its regions were not among the original's
# (hashed where they belong on the original, they agreed within 6-18 bits; looked up, they
# had no seed). A picture under SMALL_SIDE is now magnified SMALL_MAGNIFY times, the factor
# a 125-pixel picture always had (its regions are unchanged), whatever its size: a crop of
# it is searched for keypoints at the scale the original was. (A resized copy is found at
# another magnification, as with any picture of 256 pixels or more: SIFT's scale space is
# what makes that work.) A picture under TINY_SIDE pixels (a 64-pixel tile: its 20 % crop is
# 38 pixels, where no 24-pixel patch and grid square of the shorter side fitted, so it had
# no region at all) takes patches down to TINY_MIN_PATCH pixels: a 16-pixel patch still
# holds the 16 x 16 lowest frequencies PDQ reads. Development half, 20 % crops: small
# pictures 0.906 -> 0.955 (193 of 202), all 0.927 -> 0.962; 10 % crops 0.969 -> 0.979,
# half-size copies 0.997 either way. The price is at analysis: SIFT on up to 653 pixels
# instead of 320 for a picture of 125-255 pixels (about twice the hashing time there).
SMALL_MAGNIFY = DETECT_SIDE / 125
TINY_SIDE = 100
TINY_MIN_PATCH = 16


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
    anchored: int = -1  # the first ``anchored`` regions are on keypoints; the rest grid
    grid_indexed: int = 0  # the first grid regions that are indexed too (small pictures)

    def __post_init__(self) -> None:
        if not 0 <= self.anchored <= len(self.regions):
            object.__setattr__(self, "anchored", len(self.regions))
        room = len(self.regions) - self.anchored
        object.__setattr__(self, "grid_indexed", max(0, min(self.grid_indexed, room)))

    @property
    def index_positions(self) -> tuple[int, ...]:
        """The numbers of the regions that go into an index: the first ``indexed``
        anchored ones and the first ``grid_indexed`` grid ones."""
        grid = range(self.anchored, self.anchored + self.grid_indexed)
        return (*range(self.indexed), *grid)

    @property
    def lookups(self) -> tuple[Region, ...]:
        """The regions to look up in an index, a prefix of ``regions``: the anchored ones,
        and the grid ones too when the picture indexes grid regions (a small picture). A
        crop or border moves the frame and its grid, but an overlay or a re-encode does
        not, and then the grid squares the overlay left alone are where they were."""
        return self.regions if self.grid_indexed else self.regions[: self.anchored]

    def __len__(self) -> int:
        return len(self.regions)

    def as_data(self) -> dict[str, Any]:
        """Compact: each region packed as x, y, side (uint16, 1/65535 of the longest side),
        quality (uint8) and the 32-byte hash, base64 (52 characters a region)."""
        packed = bytearray()
        for r in self.regions:
            packed += struct.pack(_RECORD, *(_unit16(v) for v in (r.x, r.y, r.side)), r.quality)
            packed += bytes.fromhex(r.hex)
        return {"v": VERSION, "w": round(self.width, 5), "h": round(self.height, 5),
                "n": self.indexed, "a": self.anchored, "g": self.grid_indexed,
                "r": base64.b64encode(bytes(packed)).decode()}  # fmt: skip

    @classmethod
    def from_data(cls, data: Any) -> RegionHashes | None:
        """Parse ``as_data`` output; None for anything else (another version, damage).
        Version 2 (no grid regions) is read as it is: a bank item's regions cannot be
        made again (its picture was not kept), and they still match as they did."""
        if not isinstance(data, dict) or data.get("v") not in READABLE:
            return None
        try:
            width, height, indexed = float(data["w"]), float(data["h"]), int(data["n"])
            anchored = int(data["a"]) if data["v"] >= 3 else -1
            grid_indexed = int(data["g"]) if data["v"] >= 5 else 0
            raw = base64.b64decode(str(data["r"]), validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error):
            return None
        size = struct.calcsize(_RECORD) + 32
        if len(raw) % size or len(raw) > size * MAX_REGIONS:
            return None
        if not (0 < width <= 1 and 0 < height <= 1) or min(indexed, grid_indexed) < 0:
            return None
        if anchored < -1:
            return None
        regions = []
        for at in range(0, len(raw), size):
            x, y, side, quality = struct.unpack_from(_RECORD, raw, at)
            hex_ = raw[at + size - 32 : at + size].hex()
            regions.append(Region(x / 65535, y / 65535, side / 65535, hex_, quality))
        anchored = len(regions) if anchored < 0 else min(anchored, len(regions))
        return cls(width, height, tuple(regions), min(indexed, anchored), anchored, grid_indexed)


_RECORD = "<HHHB"


def _unit16(v: float) -> int:
    return min(65535, max(0, round(v * 65535)))


class Canvas:
    """A picture's luma at the patch scale (longest side at most ``PATCH_SIDE``), to hash
    patches from: when the regions are made, and to check a candidate match against the
    pixels of the side that has them.

    A patch is resampled to 64 x 64 cells by exact box averages read off the integral
    image (bilinear in it is exact for pixel-constant pictures), so any fractional
    position and size costs the same and no rounding to whole pixels moves it; the
    64 x 64 buffers then go through PDQ's DCT, median and quality, many at once."""

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
        self.min_patch = TINY_MIN_PATCH if self.unit < TINY_SIDE else MIN_PATCH
        self.width = cols / self.unit
        self.height = rows / self.unit

    def inside(self, x: float, y: float, side: float) -> bool:
        h = side / 2
        return x - h >= 0 and y - h >= 0 and x + h <= self.width and y + h <= self.height

    def buffers(self, places: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The 64 x 64 box-averaged cells of the squares (x, y, side) in ``places`` ((K, 3)),
        and which of them are usable: inside the picture and at least ``min_patch`` pixels
        (``MIN_PATCH``, ``TINY_MIN_PATCH`` on a tiny picture; the others are zeros)."""
        places = np.asarray(places, np.float64).reshape(-1, 3)
        u, (rows, cols) = self.unit, self.luma.shape
        ps = places[:, 2] * u
        px, py = places[:, 0] * u - ps / 2, places[:, 1] * u - ps / 2
        ok = (ps >= self.min_patch) & (px >= 0) & (py >= 0) & (px + ps <= cols) & (py + ps <= rows)
        out = np.zeros((len(places), 64, 64), np.float32)
        use = np.flatnonzero(ok)
        flat, stride = self.integral.ravel(), cols + 1
        edges = np.arange(65, dtype=np.float64) / 64
        for start in range(0, len(use), _BATCH):
            part = use[start : start + _BATCH]
            xs = np.minimum(px[part, None] + ps[part, None] * edges, cols)  # (k, 65)
            ys = np.minimum(py[part, None] + ps[part, None] * edges, rows)
            x0 = np.minimum(xs.astype(np.int64), cols - 1)
            y0 = np.minimum(ys.astype(np.int64), rows - 1)
            fx, fy = (xs - x0)[:, None, :], (ys - y0)[:, :, None]
            at = y0[:, :, None] * stride + x0[:, None, :]  # (k, 65, 65) corners
            a, b = flat[at], flat[at + 1]
            c, d = flat[at + stride], flat[at + stride + 1]
            s = a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy
            cells = s[:, 1:, 1:] - s[:, :-1, 1:] - s[:, 1:, :-1] + s[:, :-1, :-1]
            out[part] = cells / (ps[part, None, None] / 64) ** 2
        return out, ok

    def patches(self, places: np.ndarray) -> list[tuple[str, int] | None]:
        """(hash, quality) of each square (x, y, side) in ``places``; None where unusable."""
        bufs, ok = self.buffers(places)
        hashes = iter(buffer_hashes(bufs[ok]))
        return [next(hashes) if usable else None for usable in ok]

    def buffer(self, x: float, y: float, side: float) -> np.ndarray | None:
        bufs, ok = self.buffers(np.array([[x, y, side]]))
        return bufs[0] if ok[0] else None

    def patch(self, x: float, y: float, side: float) -> tuple[str, int] | None:
        return self.patches(np.array([[x, y, side]]))[0]


_BATCH = 64  # patches resampled at once


@functools.cache
def _sift() -> Any:
    import cv2

    return cv2.SIFT_create(nfeatures=KEYPOINTS, contrastThreshold=0.03)  # type: ignore[attr-defined]


def _keypoints(luma: np.ndarray) -> list[tuple[float, float, float]]:
    """(x, y, size) in units of the longest side, strongest (response x size) first. The
    picture is scaled to ``DETECT_SIDE``, or magnified ``SMALL_MAGNIFY`` times when it is
    small (a crop keeps the scale of what is left)."""
    import cv2

    rows, cols = luma.shape
    longest = max(rows, cols)
    f = SMALL_MAGNIFY if longest < SMALL_SIDE else DETECT_SIDE / longest
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
    found = _keypoints(canvas.luma)
    n = 0
    small = canvas.unit < SMALL_SIDE
    factors = SMALL_FACTORS if small else (SIZE_FACTOR,)
    found = [(x, y, size * f) for x, y, size in found for f in factors]
    taken = np.empty((len(found), 3))
    for x, y, side in found:
        if not canvas.inside(x, y, side):
            continue
        t = taken[:n]
        if (
            n
            and (
                (np.abs(t[:, 0] - x) < 0.25 * t[:, 2])
                & (np.abs(t[:, 1] - y) < 0.25 * t[:, 2])
                & (np.abs(np.log(side / t[:, 2])) < 0.25)
            ).any()
        ):
            continue  # the same place at about the same scale
        taken[n] = (x, y, side)
        n += 1
    places = [tuple(p) for p in taken[:n].tolist()]
    hashes = canvas.patches(np.array(places)) if places else []
    candidates = [Region(x, y, side, h[0], h[1])
                  for (x, y, side), h in zip(places, hashes, strict=True)
                  if h is not None and h[1] >= (SMALL_QUALITY if small else QUALITY)]  # fmt: skip
    kept = _select(candidates, canvas.width, canvas.height)
    chosen = _to_index(kept, canvas.width, canvas.height, SMALL_INDEXED if small else INDEXED)
    ordered = chosen + [r for r in kept if r not in chosen]
    sides = SMALL_GRID_SIDES if small else GRID_SIDES
    grid = _grid(canvas, ordered, MAX_REGIONS - len(ordered), sides)
    return RegionHashes(canvas.width, canvas.height, tuple(ordered + grid), len(chosen),
                        len(ordered), SMALL_GRID_INDEXED if small else 0)  # fmt: skip


def _grid(
    canvas: Canvas, kept: list[Region], room: int, sides: tuple[float, ...] = GRID_SIDES
) -> list[Region]:
    """Up to ``room`` grid regions, central ones first. A small picture has few keypoints
    large enough for a patch (with the 4x patch alone a 125-pixel face photo kept ~8
    regions, and a 20 % crop of it showed one or two, hence the smaller patches and grid
    squares of small pictures): a match then rests on few anchored pairs, and these are
    what the hypothesis it makes is checked on."""
    if room <= 0:
        return []
    w, h = canvas.width, canvas.height
    places: list[tuple[float, float, float, float]] = []
    for share in sides:
        side = share * min(w, h)
        step = GRID_STEP * side
        xs, ys = (_positions(extent, side, step) for extent in (w, h))
        places += [(math.hypot(x / w - 0.5, y / h - 0.5), x, y, side) for y in ys for x in xs]
    places.sort()
    hashes = canvas.patches(np.array([p[1:] for p in places])) if places else []
    out: list[Region] = []
    for (_, x, y, side), found in zip(places, hashes, strict=True):
        if found is None or found[1] < (SMALL_QUALITY if canvas.unit < SMALL_SIDE else QUALITY):
            continue
        r = Region(x, y, side, found[0], found[1])
        if any(hamming(r.hex, k.hex) <= DUPLICATE_BITS for k in (*kept, *out)):
            continue
        out.append(r)
        if len(out) == room:
            break
    return out


def _positions(extent: float, side: float, step: float) -> list[float]:
    """Centres of squares of ``side`` at most ``step`` apart, covering [0, extent]."""
    if side > extent:
        return []
    n = math.ceil((extent - side) / step - 1e-9) + 1
    span = extent - side
    return [side / 2 + (span * i / (n - 1) if n > 1 else span / 2) for i in range(n)]


def _select(candidates: list[Region], width: float, height: float) -> list[Region]:
    """Up to ``MAX_REGIONS``, strongest first but at most ``CELL_CAP`` per cell of a 4 x 4
    grid in a first pass, so that a cluttered part (caption text, a sticker's edges) does
    not take every place; then the strongest of the rest. Near-identical patches once."""
    kept: list[Region] = []
    count: dict[tuple[int, int], int] = {}

    def cell(r: Region) -> tuple[int, int]:
        return (min(3, int(4 * r.x / width)), min(3, int(4 * r.y / height)))

    for first_pass in (True, False):
        for r in candidates:
            if len(kept) == MAX_REGIONS:
                return kept
            if r in kept or (first_pass and count.get(cell(r), 0) >= CELL_CAP):
                continue
            if any(hamming(r.hex, k.hex) <= DUPLICATE_BITS for k in kept):
                continue
            kept.append(r)
            count[cell(r)] = count.get(cell(r), 0) + 1
    return kept


def _spread(regions: list[Region], width: float, height: float, box: float) -> list[Region]:
    """Strongest first, one per cell of a 3 x 3 grid over [box, 1 - box] in turn, so that
    one sticker or caption does not cover them all."""
    cells: dict[tuple[int, int], list[Region]] = {}
    span_x, span_y = width * (1 - 2 * box), height * (1 - 2 * box)
    for r in regions:
        cx = min(2, max(0, int(3 * (r.x - box * width) / span_x)))
        cy = min(2, max(0, int(3 * (r.y - box * height) / span_y)))
        cells.setdefault((cx, cy), []).append(r)
    out: list[Region] = []
    depth = 0
    while len(out) < len(regions):
        out += [c[depth] for c in cells.values() if len(c) > depth]
        depth += 1
    return out


def _to_index(
    kept: list[Region], width: float, height: float, count: int = INDEXED
) -> list[Region]:
    """The regions that go into the index: ``INDEX_CENTRAL`` inside the central box (any
    crop of up to 20 % per side leaves them in view), then the others; in each, the
    strongest and the smallest in turn (small ones survive stickers and captions, large
    ones a copy shrunk inside borders), spread out."""
    central = [r for r in kept if _central(r, width, height)]
    chosen = _mix(central, width, height, CENTRAL)[:INDEX_CENTRAL]
    rest = _mix([r for r in kept if r not in chosen], width, height, 0.0)
    return (chosen + rest)[:count]


def _mix(regions: list[Region], width: float, height: float, box: float) -> list[Region]:
    strong = _spread(regions, width, height, box)
    small = _spread(sorted(regions, key=lambda r: r.side), width, height, box)
    out: list[Region] = []
    for pair in zip(strong, small, strict=True):
        for r in pair:
            if r not in out:
                out.append(r)
    return out
