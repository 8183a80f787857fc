"""A picture looked up as a crop of a larger one: the region stage's second magnification.

Regions are anchored on SIFT keypoints found at one magnification (``haechi.analyze.
hashes.regions``): ``DETECT_SIDE / L`` for a picture ``L`` pixels long, ``SMALL_MAGNIFY``
(2.56x) for one under ``SMALL_SIDE``. A crop of up to ``MAX_CROP`` per side keeps what
is left at the scale it had, but is ``c >= (1 - 2 MAX_CROP) L`` long and is searched at its
own magnification: ``1 / 0.6`` times its original's for a 20 % crop of a large picture,
and ``2.56 L / 320`` times (2.4x for ``L`` = 300) when the crop of a picture of 256-425
pixels is under 256 pixels. SIFT's scale space absorbs some of that, not all: the crop's
strongest keypoints are other blobs than its original's, and a picture indexes only its
strongest twelve regions, so none of the crop's may be among them.

So a picture at least ``0.6 * SMALL_SIDE`` long is also searched the way its original
was if it is a 20 % crop of a picture of ``SMALL_SIDE`` pixels or more: keypoints at
``0.6 * DETECT_SIDE / c``, squares of ``SIZE_FACTOR`` x their size and the large picture's
quality bar, selected as ``anchored_regions`` selects (``_select``: strongest first,
spread; up to ``EXTRA_LOOKUPS`` not already among its own regions). These are looked up
with its own regions and a candidate is confirmed on them as on the others. A crop of
less than 20 % lies between the two magnifications, within SIFT's tolerance of each.

Nothing is stored: the regions are made from the query's pixels when it is matched (the
stored file from the vault, a file looked up from disk), so what is indexed and stored
(regions version 6) is unchanged. A bank item has no pixels and is looked up with its
own regions only. Chosen on the development half and the extra development set of
``eval/eval_repost.py`` (``dev-extra``) only; ``docs/matching.md`` has the figures.
"""

from __future__ import annotations

import numpy as np

from haechi.analyze.hashes import regions as made
from haechi.analyze.hashes.pdqcore import hamming
from haechi.analyze.hashes.regions import Canvas, Region, RegionHashes

MAX_CROP = 0.20  # per side: the crops the region stage is for (issue 16; variants.MAX_CROP)
KEPT = 1 - 2 * MAX_CROP  # share of its original's side a crop of MAX_CROP per side keeps
MIN_SIDE = KEPT * made.SMALL_SIDE  # shorter pictures are crops of small pictures only
EXTRA_LOOKUPS = 24  # regions added to a picture's own lookups, at most
SAME_PLACE = 0.25  # a keypoint this close (in its patch's sides) and scale is one place


def magnification(canvas: Canvas) -> float | None:
    """The magnification a picture's original had if the picture is a crop of MAX_CROP
    per side of a picture of SMALL_SIDE pixels or more; None when it cannot be one."""
    if canvas.unit < MIN_SIDE:
        return None
    return KEPT * made.DETECT_SIDE / canvas.unit


def _places(canvas: Canvas, f: float) -> np.ndarray:
    """(x, y, side) of the squares on the keypoints found at magnification ``f``, strongest
    first, in units of the longest side; one per place and scale, inside the picture."""
    import cv2

    rows, cols = canvas.luma.shape
    size = (max(1, round(cols * f)), max(1, round(rows * f)))
    how = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    seen = cv2.resize(canvas.luma, size, interpolation=how)
    found = made._sift().detect(np.clip(seen + 0.5, 0, 255).astype(np.uint8), None)
    found = sorted(found, key=lambda k: (-k.response * k.size, k.pt[1], k.pt[0]))
    unit = float(max(size))
    out: list[tuple[float, float, float]] = []
    for k in found:
        x, y, side = k.pt[0] / unit, k.pt[1] / unit, made.SIZE_FACTOR * k.size / unit
        if not canvas.inside(x, y, side):
            continue
        near = [
            abs(x - a) < SAME_PLACE * s
            and abs(y - b) < SAME_PLACE * s
            and abs(np.log(side / s)) < SAME_PLACE
            for a, b, s in out
        ]
        if not any(near):
            out.append((x, y, side))
    return np.array(out).reshape(-1, 3)


def as_crop_regions(canvas: Canvas) -> list[Region]:
    """The regions of a picture found as its original's would be if it is a 20 % crop
    (``magnification``): strongest first, spread as ``anchored_regions`` spreads them."""
    f = magnification(canvas)
    if f is None:
        return []
    places = _places(canvas, f)
    if not len(places):
        return []
    hashes = canvas.patches(places)
    found = [
        Region(float(x), float(y), float(side), h[0], h[1])
        for (x, y, side), h in zip(places.tolist(), hashes, strict=True)
        if h is not None and h[1] >= made.QUALITY
    ]
    return made._select(found, canvas.width, canvas.height)


def with_crop_regions(query: RegionHashes, canvas: Canvas | None) -> RegionHashes:
    """``query`` with up to ``EXTRA_LOOKUPS`` regions of ``as_crop_regions`` added to its
    anchored ones (those within ``DUPLICATE_BITS`` of one it has are left out), so that
    they are looked up and a candidate is confirmed on them too. Unchanged without pixels,
    or when the picture cannot be a crop of a picture of ``SMALL_SIDE`` pixels or more.

    Its indexed and grid-indexed counts are the query's: these regions are looked up,
    never indexed."""
    if canvas is None:
        return query
    own = query.regions[: query.anchored]
    extra: list[Region] = []
    for r in as_crop_regions(canvas):
        if len(extra) == EXTRA_LOOKUPS:
            break
        if all(hamming(r.hex, k.hex) > made.DUPLICATE_BITS for k in (*own, *extra)):
            extra.append(r)
    if not extra:
        return query
    regions = (*own, *extra, *query.regions[query.anchored :])
    return RegionHashes(query.width, query.height, regions, query.indexed,
                        len(own) + len(extra), query.grid_indexed)  # fmt: skip
