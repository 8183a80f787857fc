"""Placement on the pixels: the region stage's last word on a candidate that an index seed
proposed but that neither the region check (``haechi.match.regions.confirm``) nor local
features (``haechi.match.features``) could place.

A 125-pixel face photo cropped by 20 % per side is 75 pixels: its few regions that are
also the original's drift, and on the development half three such crops were seeded
within 14-26 bits, yet fewer than ``features.MIN_INLIERS`` SIFT matches agreed on any
placement (a face that small has few keypoints), so nothing checked their pixels. A seed
is itself a placement, though: the two regions' sizes give the scale and their centres the
offset, only a little off (a region lands within ``regions.PLACE_TOL`` of its side). Here
that placement is refined on the pixels of both pictures (OpenCV's ECC: the affine warp
that best correlates the query with the placed original, so gain and offset do not
matter), must stay a similarity turned by at most ``features.MAX_ANGLE`` degrees with the
seed still where it puts it, and then the pixels must agree **nearly everywhere**, the
bar local features use when their matches cluster (``features.PIXEL_WHOLE``): of the
query's 8 x 8 cells, at least half in the overlap, at least 95 % of them agreeing, and as
many of those that have texture of their own (a cell whose pixels vary less than the
agreement tolerance agrees with any flat cell), the textured agreeing cells reaching beyond
one overlay-sized box (``haechi.match.overlay``: two pictures sharing a sticker, caption
bar or watermark agree there and nowhere else; two near-blank pictures under the same
caption agree on blank cells, which say nothing). A re-post differs from its original by
re-encoding noise and at most one overlay; two photographs of one face aligned alike by a
data set agree on well under half of their cells (``features``: 0.44 for the closest pair
seen). Chosen on the development half of ``eval/eval_repost.py`` only.

Both pictures' pixels must be at hand (a stored candidate, read from the vault, and the
query's own): a bank item is never checked this way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from haechi.analyze.hashes.regions import Canvas, RegionHashes
from haechi.match.features import (
    MAX_ANGLE,
    MAX_SCALE,
    MIN_OUTSIDE,
    PIXEL_GRID,
    PIXEL_TOL,
    PIXEL_WHOLE,
    PIXEL_WHOLE_CELLS,
    Placement,
    agreeing_seeds,
    cell_grid,
    confirm_features,
    outside_overlay,
    placed_match,
)
from haechi.match.regions import SEED_RADIUS, RegionMatch, Transform

STARTS = 3  # the closest seeds (within SEED_RADIUS) tried as starting placements
SIDE = 256  # the pixels are compared with the longest side at most this (ECC's cost)
ITERATIONS = 60
EPSILON = 1e-4
BLUR = 5  # ECC's Gaussian pre-smoothing (pixels): widens what it converges from
MAX_SKEW = 0.05  # the refined warp's two scales within 5 % and its shear under 0.05
TEXTURED = PIXEL_TOL  # a cell whose pixels vary less than this says nothing (std, grey levels)
TEXTURED_CELLS = PIXEL_WHOLE_CELLS // 2  # at least a quarter of the grid has texture


def _luma(canvas: Canvas) -> tuple[np.ndarray, float]:
    """The canvas' luma with the longest side at most ``SIDE``, and its pixels per unit."""
    import cv2

    f = min(1.0, SIDE / canvas.unit)
    if f >= 1.0:
        return canvas.luma, canvas.unit
    rows, cols = canvas.luma.shape
    size = (max(1, round(cols * f)), max(1, round(rows * f)))
    return cv2.resize(canvas.luma, size, interpolation=cv2.INTER_AREA), canvas.unit * f


def refine(t: Transform, query: Canvas, target: Canvas) -> Placement | None:
    """The placement (query = scale * R(angle) target + offset, in units of each picture's
    longest side) that ECC finds starting from ``t``, when it converges to an upright
    similarity of a plausible scale; None otherwise."""
    import cv2

    q, uq = _luma(query)
    g, ut = _luma(target)
    f = t.scale * uq / ut  # target pixels -> query pixels
    warp = np.array([[1 / f, 0, -t.dx * uq / f], [0, 1 / f, -t.dy * uq / f]], np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ITERATIONS, EPSILON)
    try:
        # the stubs lack the overload with the Gaussian pre-smoothing (OpenCV >= 4.1)
        _, warp = cv2.findTransformECC(q.astype(np.float32), g.astype(np.float32), warp,  # type: ignore[call-overload]
                                       cv2.MOTION_AFFINE, criteria, None, BLUR)  # fmt: skip
    except cv2.error:  # did not converge, or nothing to correlate (a flat picture)
        return None
    m = cv2.invertAffineTransform(warp)  # target pixels -> query pixels
    a, b, c, d = (float(v) for v in (m[0, 0], m[0, 1], m[1, 0], m[1, 1]))
    sx, sy = math.hypot(a, c), math.hypot(b, d)
    if min(sx, sy) <= 0 or abs(sx / sy - 1) > MAX_SKEW or abs(a * b + c * d) / (sx * sy) > MAX_SKEW:
        return None
    angle = math.degrees(math.atan2(c, a))
    scale = math.sqrt(abs(a * d - b * c)) * ut / uq
    if abs(angle) > MAX_ANGLE or not 1 / MAX_SCALE <= scale <= MAX_SCALE:
        return None
    empty = np.zeros((0, 2), np.float32)
    return Placement(scale, angle, float(m[0, 2]) / uq, float(m[1, 2]) / uq, 0, empty, empty)


def agree_everywhere(p: Placement, query: Canvas, target: Canvas) -> int:
    """The query's cells that agree under ``p`` when the pixels agree nearly everywhere,
    as the module docstring says; 0 otherwise."""
    cells = cell_grid(p, query, target)
    if cells is None:
        return 0
    overlap, agree, spread = cells
    textured = overlap & (spread >= TEXTURED)
    if overlap.sum() < PIXEL_WHOLE_CELLS or textured.sum() < TEXTURED_CELLS:
        return 0
    if agree[overlap].mean() < PIXEL_WHOLE or agree[textured].mean() < PIXEL_WHOLE:
        return 0
    k = np.flatnonzero(textured & agree)
    centres = np.column_stack([(k % PIXEL_GRID + 0.5) / PIXEL_GRID * query.width,
                               (k // PIXEL_GRID + 0.5) / PIXEL_GRID * query.height])  # fmt: skip
    if outside_overlay(centres, query.width, query.height) < MIN_OUTSIDE:
        return 0
    return int(agree[overlap].sum())


def confirm_pixels(
    query: RegionHashes,
    target: RegionHashes,
    seeds: Sequence[tuple[int, int, int]],
    query_canvas: Canvas,
    target_canvas: Canvas,
) -> RegionMatch | None:
    """Decide on a seeded candidate by its seeds' placements refined on both pictures'
    pixels. The match reports the seed it started from and the regions of the target that
    agree where the placement puts them (``RegionMatch.pixels``: the cells that agree)."""
    close = sorted((s for s in seeds if s[2] <= SEED_RADIUS), key=lambda s: (s[2], s[0], s[1]))
    for i, j, bits in close[:STARTS]:
        if not (0 <= i < len(query) and 0 <= j < len(target)):
            continue
        q, t = query.regions[i], target.regions[j]
        scale = q.side / t.side
        if not 1 / MAX_SCALE <= scale <= MAX_SCALE:
            continue
        start = Transform(scale, q.x - scale * t.x, q.y - scale * t.y)
        found = refine(start, query_canvas, target_canvas)
        if found is None or not agreeing_seeds(found, query, target, [(i, j, bits)]):
            continue
        cells = agree_everywhere(found, query_canvas, target_canvas)
        if cells:
            return placed_match(found, query, target, [(i, j, bits)], query_canvas, pixels=cells)
    return None


def confirm_both(
    query: RegionHashes,
    target: RegionHashes,
    seeds: Sequence[tuple[int, int, int]],
    query_canvas: Canvas,
    target_canvas: Canvas,
) -> RegionMatch | None:
    """The checks on both pictures' pixels, for a candidate the region hashes did not
    decide: local features (``features.confirm_features``), then the seeds' placements
    refined on the pixels (``confirm_pixels``)."""
    return confirm_features(query, target, seeds, query_canvas, target_canvas) or confirm_pixels(
        query, target, seeds, query_canvas, target_canvas
    )
