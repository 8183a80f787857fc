"""Where one overlay may hide regions: the second matching stage's allowance for a caption
or sticker laid over a re-post.

A region check (``haechi.match.regions``) counts the regions of one picture that are
clearly different where a hypothesis puts them on the other. A caption or sticker over
a re-post makes every region it touches different, and on a small picture, whose regions
are a fifth to two fifths of its side, caption text across the middle touches most of
them. What one overlay can do is bounded, though: it covers at most ``OVERLAY_BOX`` of
one picture, in one axis-aligned box. ``hidden`` finds the box of that size (a square,
a bar, a column, placed anywhere on a 5 % lattice) that touches the most of the clearly
different regions; those are the overlay's doing and are not held against the match,
while the regions that agree must lie outside it and must not fit in one such box
themselves (two pictures that carry the same sticker agree on the sticker and its edges,
and may differ most somewhere else). Unrelated pictures differ everywhere, so one box
leaves much of their disagreement unexplained.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

OVERLAY_BOX = 0.32  # share of a picture: a disc sticker of 25 % of the area fills 0.32 square
SHAPES = (0.32, 0.45, 0.6, 0.8, 1.0)  # widths (and heights) of the boxes tried
STEP = 0.05


@dataclass(frozen=True)
class Hidden:
    """The clearly different regions one overlay explains, and the agreeing regions that
    lie outside that overlay (centres)."""

    differ: int = 0
    differ_anchored: int = 0
    agree_outside: int = 0
    agree_outside_anchored: int = 0
    box: tuple[float, float, float, float] | None = None  # shares of the picture
    # the agreeing regions outside the box fit in one overlay box themselves (their
    # centres): the same sticker on two pictures agrees on itself and its edges
    confined: bool = False
    picture: str = ""  # which one the box is on: "query" or "target" (set by the caller)


@functools.cache
def _boxes() -> np.ndarray:
    """(n, 4) candidate overlay boxes (x0, y0, x1, y1) in shares of the picture."""
    out = []
    for share in SHAPES:
        other = min(1.0, OVERLAY_BOX / share)
        for bw, bh in {(share, other), (other, share)}:
            xs = np.arange(0.0, 1.0 - bw + 1e-9, STEP) if bw < 1 else np.zeros(1)
            ys = np.arange(0.0, 1.0 - bh + 1e-9, STEP) if bh < 1 else np.zeros(1)
            out += [(x, y, x + bw, y + bh) for y in ys for x in xs]
    return np.array(out, np.float64)


def boxes() -> np.ndarray:
    """The overlay boxes tried, (n, 4) shares of a picture (also used by
    ``haechi.match.features``, whose matches must reach beyond one of them)."""
    return _boxes()


def hidden(
    places: np.ndarray,
    size: tuple[float, float],
    differ: np.ndarray,
    agree: np.ndarray,
    anchored: np.ndarray,
) -> Hidden:
    """The overlay box on a picture of ``size`` (width, height) that touches the most of
    the regions at ``places`` ((n, 3): x, y, side in that picture's units) marked
    ``differ``; ``agree`` marks the regions that agree, ``anchored`` those on keypoints."""
    places = np.asarray(places, np.float64).reshape(-1, 3)
    if not differ.any():
        return Hidden(agree_outside=int(agree.sum()),
                      agree_outside_anchored=int((agree & anchored).sum()))  # fmt: skip
    w, h = size
    half = places[:, 2] / 2
    x0, x1 = (places[:, 0] - half) / w, (places[:, 0] + half) / w
    y0, y1 = (places[:, 1] - half) / h, (places[:, 1] + half) / h
    b = _boxes()
    touch = (
        (x0[None, :] < b[:, 2:3]) & (x1[None, :] > b[:, 0:1])
        & (y0[None, :] < b[:, 3:4]) & (y1[None, :] > b[:, 1:2])
    )  # fmt: skip
    cx, cy = places[:, 0] / w, places[:, 1] / h
    inside = (
        (cx[None, :] >= b[:, 0:1]) & (cx[None, :] <= b[:, 2:3])
        & (cy[None, :] >= b[:, 1:2]) & (cy[None, :] <= b[:, 3:4])
    )  # fmt: skip
    covered = (touch & differ[None, :]).sum(axis=1)
    outside = (~inside & agree[None, :]).sum(axis=1)
    best = int(np.lexsort((-outside, -covered))[0])  # most covered, then most left outside
    kept = ~inside[best] & agree
    return Hidden(
        int(covered[best]),
        int((touch[best] & differ & anchored).sum()),
        int(outside[best]),
        int((kept & anchored).sum()),
        (float(b[best, 0]), float(b[best, 1]), float(b[best, 2]), float(b[best, 3])),
        bool(inside[:, kept].all(axis=1).any()),
    )
