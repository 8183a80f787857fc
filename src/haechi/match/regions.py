"""The second matching stage: a picture that shows part of another (a crop), or all of it
with something added (borders, a caption bar, caption text, a sticker).

Each picture carries anchored region hashes (``haechi.analyze.hashes.regions``): PDQ
hashes of squares placed on its SIFT keypoints. Twelve of each stored picture and bank
item (twenty of a picture under 256 pixels, and its grid squares) are indexed
(``media-region``, ``bank-region``); a query looks its regions up there
(``RegionHashes.lookups``; exact chunks only, ``SEED_FLIPS``). A hit is only a *seed*:
``confirm`` takes the scale and offset that the pairs of regions within
``HYPOTHESIS_RADIUS`` of the two pictures imply, and hashes every region of one picture
where it must be on the pixels of the other — the side whose pixels are at hand: a stored
file or a file being looked up, never a bank item, whose picture was not kept. The match
holds when at least ``MIN_PAIRS`` regions, apart from each other, agree within
``PAIR_RADIUS`` bits (three unless nothing in view is clearly different), no more than
twice as many are clearly different, and the agreeing regions span more than one overlay
could (``OVERLAY``): a sticker or caption hides a few regions of a re-post, while two
different pictures that carry the same watermark agree on it, in one small part, and on
nothing else.

Grid regions (squares on a lattice, filling the places keypoints left: most of a small
picture's) are checked like the others and propose a placement only through an index
seed (a small picture's grid squares are indexed: an overlay leaves the frame where it
was). They only add to anchored agreement: a match needs two agreeing anchored regions
as above, or three agreeing of which one is anchored, with no more than twice as many
different. The agreement must also span a quarter of one of the two whole pictures, not
only of a small part in view (``accepted``): a re-post shows all of its original or is
all of it.

A match records its stage, the agreeing regions, the scale and which part of each
picture it covers (``RegionMatch.as_dict``). Parameters were chosen on the development
half of ``eval/eval_repost.py`` only; its held-out half is the measurement.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from haechi.analyze.hashes.regions import Canvas, Region, RegionHashes
from haechi.match.mih import hex_to_words
from haechi.match.overlay import Hidden, hidden

STAGE = "region"
SEED_RADIUS = 31  # index lookups: a seed is a region pair this close ...
SEED_FLIPS = 0  # ... found through one identical chunk of the index (see mih.search_many)
PAIR_RADIUS = 31  # a region pair, like a whole-picture PDQ match
MIN_PAIRS = 2
SCALE_TOL = 0.10  # |log| of the ratio of two pairs' scales
PLACE_TOL = 0.20  # a pair's centre off the hypothesis by at most this share of its side
SEPARATION = 0.35  # two pairs count twice only if their centres are this far apart (sides)
MAX_SCALE = 6.0  # a region pair implying more than this zoom either way is not a re-post
HYPOTHESIS_RADIUS = 40  # region pairs this close propose a scale and offset
MAX_HYPOTHESES = 6
REFITS = 2
DISAGREE_BITS = 96  # a region this far from where it should be shows something else
GUIDE_NEAR = 64  # a patch this close is searched around; further ones are not it
GUIDE_SCALES = (0.96, 1.0, 1.04)
GUIDE_SHIFTS = (-0.04, 0.0, 0.04)  # of the patch side
PIVOT_SCALES = (0.9, 0.95, 1.05, 1.1)  # tried around a hypothesis resting on one pair
FIT_SPREAD = 0.5  # centres this far apart (in region sides) fix the scale better than sides
OVERLAY = 0.25  # a caption, sticker or watermark covers at most this share of a picture


@dataclass(frozen=True)
class Transform:
    """query = scale * target + (dx, dy), in units of each picture's longest side."""

    scale: float
    dx: float
    dy: float

    def to_query(self, x: float, y: float, side: float) -> tuple[float, float, float]:
        return (self.scale * x + self.dx, self.scale * y + self.dy, self.scale * side)

    def to_target(self, x: float, y: float, side: float) -> tuple[float, float, float]:
        return ((x - self.dx) / self.scale, (y - self.dy) / self.scale, side / self.scale)

    def inverse(self) -> Transform:
        return Transform(1 / self.scale, -self.dx / self.scale, -self.dy / self.scale)


@dataclass(frozen=True)
class Pair:
    query: tuple[float, float, float]  # (x, y, side) of the region in the query
    target: tuple[float, float, float]
    bits: int
    query_index: int | None = None  # the stored region's number, when it is one
    target_index: int | None = None


@dataclass(frozen=True)
class RegionMatch:
    pairs: tuple[Pair, ...]  # the regions that agree
    transform: Transform
    target_box: tuple[float, float, float, float]  # shares of the target's width / height
    query_box: tuple[float, float, float, float]  # where that part is in the query
    visible: int  # regions checked on the pixels
    disagree: int  # of those, clearly different (a sticker, a caption over them)
    # when the match needed the overlay allowance: the picture ("query" / "target") and
    # the box (shares of its width / height) whose different regions were set aside
    overlay: tuple[str, tuple[float, float, float, float]] | None = None
    # when local features confirmed it (``haechi.match.features``): the matches that
    # agree on the placement; 0 when the region hashes did
    features: int = 0
    # when the pixels placed it (``haechi.match.pixel_place``: a seed's placement refined
    # on both pictures' pixels): the query's cells that agree; 0 otherwise
    pixels: int = 0

    def reversed(self) -> RegionMatch:
        """The same match seen from the target's side (the target becomes the query)."""
        pairs = tuple(Pair(p.target, p.query, p.bits, p.target_index, p.query_index)
                      for p in self.pairs)  # fmt: skip
        flip = {"query": "target", "target": "query"}
        overlay = (flip[self.overlay[0]], self.overlay[1]) if self.overlay else None
        return RegionMatch(pairs, self.transform.inverse(), self.query_box, self.target_box,
                           self.visible, self.disagree, overlay, self.features,
                           self.pixels)  # fmt: skip

    @property
    def distance(self) -> int:
        """The median bits of the pairs (what the match's distance column shows)."""
        bits = sorted(p.bits for p in self.pairs)
        return bits[len(bits) // 2]

    def as_dict(self) -> dict[str, object]:
        return {
            "stage": STAGE,
            "pairs": len(self.pairs),
            "bits": [p.bits for p in self.pairs],
            "scale": round(float(self.transform.scale), 4),
            "target_box": [round(float(v), 4) for v in self.target_box],
            "query_box": [round(float(v), 4) for v in self.query_box],
            "checked": self.visible,
            "different": self.disagree,
            **({"overlay": {"picture": self.overlay[0],
                            "box": [round(float(v), 4) for v in self.overlay[1]]}}
               if self.overlay else {}),
            **({"features": self.features} if self.features else {}),
            **({"pixels": self.pixels} if self.pixels else {}),
        }  # fmt: skip


def _codes(regions: Sequence[Region]) -> np.ndarray:
    if not regions:
        return np.empty((0, 4), np.uint64)
    return hex_to_words([r.hex for r in regions])


def pair_bits(query: RegionHashes, target: RegionHashes) -> np.ndarray:
    """Hamming distances, query regions x target regions."""
    a, b = _codes(query.regions), _codes(target.regions)
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)), np.int32)
    return np.bitwise_count(a[:, None, :] ^ b[None, :, :]).sum(axis=2, dtype=np.int32)


def geometry(r: Region) -> tuple[float, float, float]:
    return (r.x, r.y, r.side)


def _transform(p: Pair) -> Transform | None:
    scale = p.query[2] / p.target[2]
    if not 1 / MAX_SCALE <= scale <= MAX_SCALE:
        return None
    return Transform(scale, p.query[0] - scale * p.target[0], p.query[1] - scale * p.target[1])


def _agrees(t: Transform, p: Pair) -> bool:
    x, y, side = t.to_query(*p.target)
    if abs(math.log(p.query[2] / side)) > SCALE_TOL:
        return False
    return math.hypot(p.query[0] - x, p.query[1] - y) <= PLACE_TOL * p.query[2]


def separated(pairs: Sequence[Pair], grid: Callable[[Pair], bool] = lambda p: False) -> list[Pair]:
    """Closest pairs first, keeping only those apart from every one kept (on both
    pictures: one patch of the query cannot stand for two of the target); anchored pairs
    before ``grid`` ones, which only add where no anchored one is."""
    kept: list[Pair] = []
    for p in sorted(pairs, key=lambda p: (grid(p), p.bits)):
        if all(
            math.hypot(p.target[0] - k.target[0], p.target[1] - k.target[1])
            >= SEPARATION * max(p.target[2], k.target[2])
            and math.hypot(p.query[0] - k.query[0], p.query[1] - k.query[1])
            >= SEPARATION * max(p.query[2], k.query[2])
            for k in kept
        ):
            kept.append(p)
    return kept


def _fit(pairs: Sequence[Pair]) -> Transform:
    """The scale and offset that carry the pairs' target centres onto their query centres
    (least squares), when the centres are spread out enough to say; otherwise the scale
    from the sides (a keypoint's size is a few percent off, its position much less)."""
    tx = np.array([p.target[0] for p in pairs])
    ty = np.array([p.target[1] for p in pairs])
    qx = np.array([p.query[0] for p in pairs])
    qy = np.array([p.query[1] for p in pairs])
    spread = float(((tx - tx.mean()) ** 2 + (ty - ty.mean()) ** 2).sum())
    sides = float(np.exp(np.mean([math.log(p.query[2] / p.target[2]) for p in pairs])))
    if len(pairs) >= 2 and spread > (FIT_SPREAD * min(p.target[2] for p in pairs)) ** 2:
        scale = float(((qx - qx.mean()) * (tx - tx.mean()) + (qy - qy.mean()) * (ty - ty.mean()))
                      .sum() / spread)  # fmt: skip
        if not 1 / MAX_SCALE <= scale <= MAX_SCALE or abs(math.log(scale / sides)) > 0.5:
            scale = sides  # degenerate: the centres say something absurd
    else:
        scale = sides
    return Transform(
        scale, float(qx.mean() - scale * tx.mean()), float(qy.mean() - scale * ty.mean())
    )


def part_boxes(
    t: Transform, query: tuple[float, float], target: tuple[float, float]
) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float]]:
    """The part of the target in view in the query, as shares of each picture's size."""
    (qw, qh), (tw, th) = query, target
    x0, y0 = max(0.0, t.dx), max(0.0, t.dy)
    x1, y1 = min(qw, t.dx + t.scale * tw), min(qh, t.dy + t.scale * th)
    tx0, ty0, _ = t.to_target(x0, y0, 0.0)
    tx1, ty1, _ = t.to_target(x1, y1, 0.0)
    clamp = lambda v: min(1.0, max(0.0, v))  # noqa: E731
    return ((clamp(tx0 / tw), clamp(ty0 / th), clamp(tx1 / tw), clamp(ty1 / th)),
            (clamp(x0 / qw), clamp(y0 / qh), clamp(x1 / qw), clamp(y1 / qh)))  # fmt: skip


def hash_pairs(query: RegionHashes, target: RegionHashes, radius: int = PAIR_RADIUS) -> list[Pair]:
    """Every anchored query region x anchored target region pair within ``radius`` bits
    (grid regions only check a hypothesis: two smooth parts of different pictures can
    agree at the scale of their grids' sides, and nested grid squares agree together)."""
    bits = pair_bits(query, target)[: query.anchored, : target.anchored]
    qi, ti = np.nonzero(bits <= radius)
    return [
        Pair(geometry(query.regions[i]), geometry(target.regions[j]), int(bits[i, j]),
             int(i), int(j))
        for i, j in zip(qi.tolist(), ti.tolist(), strict=True)
    ]  # fmt: skip


def _bits(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


_PERTURB = np.array(
    [(sx, sy, scale) for scale in GUIDE_SCALES for sx in GUIDE_SHIFTS for sy in GUIDE_SHIFTS],
    np.float64,
)  # shifts in shares of the patch side, then the scale


@dataclass(frozen=True)
class Evidence:
    agree: tuple[Pair, ...]  # separated pairs within PAIR_RADIUS
    disagree: int  # regions in view that are clearly something else
    visible: int  # regions of the other side in view on the canvas
    anchored: int = -1  # of ``agree``, on keypoints (the rest are grid regions); -1: all
    anchored_disagree: int = -1  # of ``disagree``, on keypoints; -1: all
    # what one caption or sticker can explain (``haechi.match.overlay``)
    hidden: Hidden = field(default_factory=Hidden)

    def holds(self) -> bool:
        """The anchored regions alone: at least ``MIN_PAIRS`` agree, at most twice as many
        clearly differ, and only two when nothing differs. With the grid regions: at least
        one more, at least one of them anchored, at most twice as many differ. Grid
        regions only add to a match resting on an anchored one: a grid square on a bare
        edge or gradient is much like one on another picture's."""
        return self.plain() or self.overlaid()

    def plain(self) -> bool:
        """``holds`` without the overlay allowance."""
        a, d = len(self.agree), self.disagree
        k = a if self.anchored < 0 else self.anchored
        kd = d if self.anchored_disagree < 0 else self.anchored_disagree
        if k >= MIN_PAIRS and 2 * k >= kd and (k > MIN_PAIRS or kd == 0):
            return True
        return k >= 1 and a > MIN_PAIRS and 2 * a >= d

    def overlaid(self) -> bool:
        """The rule of ``holds`` once the regions one overlay box touches are set aside
        (``haechi.match.overlay``): at least three agree outside that box, one of them
        anchored, not all within one other overlay-sized box, and at most twice as many
        differ outside it."""
        o = self.hidden
        if not o.differ or o.agree_outside <= MIN_PAIRS or o.agree_outside_anchored < 1:
            return False
        if o.confined:
            return False
        return 2 * o.agree_outside >= self.disagree - o.differ


def evidence_at(
    t: Transform, other: RegionHashes, canvas: Canvas, canvas_is_query: bool, search: bool
) -> Evidence:
    """Hash every region of ``other`` where ``t`` puts it on the canvas. With ``search``, a
    region whose first look is near (within ``GUIDE_NEAR`` bits, not yet within
    ``PAIR_RADIUS``) is looked for again a few shifts and scales around (the hypothesis'
    placement error); all patches of a round are resampled and hashed in one pass."""
    move = t.to_query if canvas_is_query else t.to_target
    places = np.array([move(r.x, r.y, r.side) for r in other.regions], np.float64).reshape(-1, 3)
    first = canvas.patches(places)
    pairs = zip(first, other.regions, strict=True)
    bits = np.array([_bits(h[0], r.hex) if h else -1 for h, r in pairs], np.int64)
    best = places.copy()
    near = np.flatnonzero((bits > PAIR_RADIUS) & (bits <= GUIDE_NEAR))
    if search and len(near):
        around = places[near][:, None, :].repeat(len(_PERTURB), axis=1)
        size = around[:, :, 2] * _PERTURB[None, :, 2]
        x = around[:, :, 0] + _PERTURB[None, :, 0] * size
        y = around[:, :, 1] + _PERTURB[None, :, 1] * size
        around = np.stack([x, y, size], axis=2)
        looks = canvas.patches(around.reshape(-1, 3))
        for n, index in enumerate(near):
            want = other.regions[index].hex
            for k in range(len(_PERTURB)):
                h = looks[n * len(_PERTURB) + k]
                if h is not None and (b := _bits(h[0], want)) < bits[index]:
                    bits[index], best[index] = b, around[n, k]
    agree: list[Pair] = []
    for index in np.flatnonzero((bits >= 0) & (bits <= PAIR_RADIUS)):
        mine = geometry(other.regions[index])
        place = (float(best[index][0]), float(best[index][1]), float(best[index][2]))
        agree.append(Pair(place, mine, int(bits[index]), None, int(index)) if canvas_is_query
                     else Pair(mine, place, int(bits[index]), int(index), None))  # fmt: skip
    visible = int((bits >= 0).sum())

    def on_grid(p: Pair) -> bool:
        number = p.target_index if canvas_is_query else p.query_index
        return number is not None and number >= other.anchored

    kept = tuple(separated(agree, on_grid))
    anchored = sum(1 for p in kept if not on_grid(p))
    differ = bits >= DISAGREE_BITS
    return Evidence(kept, int(differ.sum()), visible, anchored,
                    int(differ[: other.anchored].sum()),
                    _hidden(kept, other, canvas, best, differ, canvas_is_query))  # fmt: skip


def _hidden(
    kept: Sequence[Pair], other: RegionHashes, canvas: Canvas, places: np.ndarray,
    differ: np.ndarray, canvas_is_query: bool,
) -> Hidden:  # fmt: skip
    """The most of the clearly different regions one overlay box explains, on either
    picture (the re-post may be either side)."""
    if not differ.any():
        return Hidden()
    agree = np.zeros(len(other.regions), bool)
    for p in kept:
        number = p.target_index if canvas_is_query else p.query_index
        if number is not None:
            agree[number] = True
    anchored = np.arange(len(other.regions)) < other.anchored
    own = np.array([geometry(r) for r in other.regions], np.float64)
    mine, theirs = ("target", "query") if canvas_is_query else ("query", "target")
    found = [replace(hidden(own, (other.width, other.height), differ, agree, anchored),
                     picture=mine),
             replace(hidden(places, (canvas.width, canvas.height), differ, agree, anchored),
                     picture=theirs)]  # fmt: skip
    return max(found, key=lambda h: (h.differ, h.agree_outside))


def _rescaled(t: Transform, pivot: Pair) -> list[Transform]:
    """``t`` at slightly other scales, keeping ``pivot``'s target centre where it is."""
    out = []
    for m in PIVOT_SCALES:
        scale = t.scale * m
        out.append(Transform(scale, pivot.query[0] - scale * pivot.target[0],
                             pivot.query[1] - scale * pivot.target[1]))  # fmt: skip
    return out


def _hypotheses(pairs: Sequence[Pair]) -> list[Transform]:
    """Distinct transforms implied by the closest pairs."""
    out: list[Transform] = []
    for p in sorted(pairs, key=lambda p: p.bits):
        t = _transform(p)
        if t is None or any(_agrees(known, p) for known in out):
            continue
        out.append(t)
        if len(out) == MAX_HYPOTHESES:
            break
    return out


def _extent(agree: Sequence[Pair], part: tuple[float, float, float, float],
            size: tuple[float, float], *, on_query: bool = False) -> float:  # fmt: skip
    """The share of the target's part in view (``part``: shares of its ``size``) that the
    bounding box of the agreeing regions covers (``on_query``: of the query's part)."""
    w, h = size
    places = [p.query if on_query else p.target for p in agree]
    x0 = max(part[0] * w, min(x - s / 2 for x, _, s in places))
    y0 = max(part[1] * h, min(y - s / 2 for _, y, s in places))
    x1 = min(part[2] * w, max(x + s / 2 for x, _, s in places))
    y1 = min(part[3] * h, max(y + s / 2 for _, y, s in places))
    seen = (part[2] - part[0]) * w * (part[3] - part[1]) * h
    return max(0.0, x1 - x0) * max(0.0, y1 - y0) / seen if seen > 0 else 0.0


def confirm(
    query: RegionHashes,
    target: RegionHashes,
    seeds: Sequence[tuple[int, int, int]],
    canvas: Canvas,
    *,
    canvas_is_query: bool,
) -> RegionMatch | None:
    """Decide on a candidate, on the pixels of one side (``canvas``: the query's or the
    target's). ``seeds``: (query region, target region, bits) from the index; every pair
    of regions within ``HYPOTHESIS_RADIUS`` proposes a scale and offset too. For each, the
    other side's regions are hashed where they must be on the canvas: the match holds
    when at least ``MIN_PAIRS`` separated regions agree (three unless nothing in view
    disagrees) and no more than twice as many are clearly different — a shared sticker
    or watermark agrees on itself, but the rest of two different pictures disagrees."""
    pairs = hash_pairs(query, target, HYPOTHESIS_RADIUS)
    known = {(p.query_index, p.target_index) for p in pairs}
    pairs += [
        Pair(geometry(query.regions[i]), geometry(target.regions[j]), bits, i, j)
        for i, j, bits in seeds
        if 0 <= i < len(query) and 0 <= j < len(target) and (i, j) not in known
    ]
    other = target if canvas_is_query else query
    q, tgt = (canvas, target) if canvas_is_query else (query, canvas)

    def look(t: Transform, search: bool) -> Evidence:
        return evidence_at(t, other, canvas, canvas_is_query, search)

    def accepted(found: Evidence) -> bool:
        """``found.holds()``, and the agreeing regions reach beyond what one overlay could
        cover (two pictures carrying the same caption bar or sticker agree on it, in one
        small part; a smooth picture has nothing else in view to disagree)."""
        if not found.holds():
            return False
        part, _ = part_boxes(_fit(found.agree), (q.width, q.height), (tgt.width, tgt.height))
        if _extent(found.agree, part, (tgt.width, tgt.height)) < OVERLAY:
            return False
        # ... and beyond one overlay on the whole of one of the two pictures: a re-post
        # shows all of the original (borders, captions) or all of itself is the original
        # (crops); a hypothesis that lays two pictures' stickers on each other may leave
        # only a small part of each in view, of which the sticker is a large share.
        whole = (0.0, 0.0, 1.0, 1.0)
        return (
            _extent(found.agree, whole, (tgt.width, tgt.height)) >= OVERLAY
            or _extent(found.agree, whole, (q.width, q.height), on_query=True) >= OVERLAY
        )

    best: Evidence | None = None
    for hypothesis in _hypotheses(pairs):
        support = [p for p in pairs if _agrees(hypothesis, p)]
        start = _fit(support)
        found = look(start, False)
        if len(support) == 1:  # one pair's scale is the keypoint's, a few percent off
            for other_scale in _rescaled(start, support[0]):
                tried = look(other_scale, False)
                if (len(tried.agree), -tried.disagree) > (len(found.agree), -found.disagree):
                    start, found = other_scale, tried
        for _ in range(REFITS):  # the agreeing regions place the picture more precisely
            if len(found.agree) < MIN_PAIRS:
                break
            again = look(_fit(found.agree), False)
            if len(again.agree) <= len(found.agree):
                break
            found = again
        if not (accepted(found) and len(found.agree) >= 2 * MIN_PAIRS):
            # search around the near misses before deciding (the costly part)
            placed = _fit(found.agree) if len(found.agree) >= MIN_PAIRS else start
            searched = look(placed, True)
            found = searched if len(searched.agree) >= len(found.agree) else found
        if accepted(found) and (best is None or len(found.agree) > len(best.agree)):
            best = found
            if len(best.agree) >= 2 * MIN_PAIRS:
                break
    if best is None:
        return None
    t = _fit(best.agree)
    target_box, query_box = part_boxes(t, (q.width, q.height), (tgt.width, tgt.height))
    overlay = None
    if not best.plain() and best.hidden.box is not None:
        overlay = (best.hidden.picture, best.hidden.box)
    return RegionMatch(best.agree, t, target_box, query_box, best.visible, best.disagree,
                       overlay)  # fmt: skip
