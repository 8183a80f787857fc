"""The second matching stage: a picture that shows part of another (a crop), or all of it
with something added (borders, a caption bar, caption text, a sticker).

Each picture carries anchored region hashes (``haechi.analyze.hashes.regions``): PDQ
hashes of squares placed on its SIFT keypoints. The first few of each stored picture
and bank item are indexed (``media-region``, ``bank-region``); a query looks all of its
regions up there. A hit is only a *seed*. A match needs at least ``MIN_PAIRS`` region
pairs, each within ``PAIR_RADIUS`` bits, that agree on one scale and offset between the
two pictures and lie apart from each other:

* **from the hashes** — every region of the query against every region of the candidate
  (both keep up to 32), or
* **from the pixels**, when one side's pixels are at hand (a stored file, a file being
  looked up; never a bank item, whose picture was not kept): the seed says where the
  other side's regions must be, and their patches are hashed there, with a small search
  around that place for the seed's placement error.

Two independent 256-bit hashes agreeing at one geometry do not happen between unrelated
pictures (the evaluation found none among ~8,000 variant queries against ~500 pictures,
``docs/accuracy.md``); both checks require them. A match records its stage, the pairs,
the scale and which part of each picture it covers (``RegionMatch.as_dict``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from haechi.analyze.hashes.regions import Canvas, Region, RegionHashes
from haechi.match.mih import hex_to_words

STAGE = "region"
SEED_RADIUS = 31  # index lookups
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

    def reversed(self) -> RegionMatch:
        """The same match seen from the target's side (the target becomes the query)."""
        pairs = tuple(Pair(p.target, p.query, p.bits, p.target_index, p.query_index)
                      for p in self.pairs)  # fmt: skip
        return RegionMatch(pairs, self.transform.inverse(), self.query_box, self.target_box,
                           self.visible, self.disagree)  # fmt: skip

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
            "scale": round(self.transform.scale, 4),
            "target_box": [round(v, 4) for v in self.target_box],
            "query_box": [round(v, 4) for v in self.query_box],
            "checked": self.visible,
            "different": self.disagree,
        }


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


def _geometry(r: Region) -> tuple[float, float, float]:
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


def _separated(pairs: Sequence[Pair]) -> list[Pair]:
    """Closest pairs first, keeping only those apart from every one kept (on both
    pictures: one patch of the query cannot stand for two of the target)."""
    kept: list[Pair] = []
    for p in sorted(pairs, key=lambda p: p.bits):
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
    """Scale from the sides (geometric mean), offset from the centres (mean)."""
    scale = math.exp(sum(math.log(p.query[2] / p.target[2]) for p in pairs) / len(pairs))
    dx = sum(p.query[0] - scale * p.target[0] for p in pairs) / len(pairs)
    dy = sum(p.query[1] - scale * p.target[1] for p in pairs) / len(pairs)
    return Transform(scale, dx, dy)


def _boxes(
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
    """Every query region x target region pair within ``radius`` bits."""
    bits = pair_bits(query, target)
    qi, ti = np.nonzero(bits <= radius)
    return [
        Pair(_geometry(query.regions[i]), _geometry(target.regions[j]), int(bits[i, j]),
             int(i), int(j))
        for i, j in zip(qi.tolist(), ti.tolist(), strict=True)
    ]  # fmt: skip


def _bits(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _look(
    canvas: Canvas, x: float, y: float, side: float, want: str
) -> tuple[int, tuple[float, float, float]] | None:
    """Bits between ``want`` and the patch at (x, y, side) of ``canvas``, and where the
    closest patch was: when the first look is near, a few scales and shifts around it
    are tried too (the placement error of the hypothesis). None when out of view."""
    first = canvas.patch(x, y, side)
    if first is None:
        return None
    best = (_bits(first[0], want), (x, y, side))
    if best[0] <= PAIR_RADIUS or best[0] > GUIDE_NEAR:
        return best
    for scale in GUIDE_SCALES:
        for sx in GUIDE_SHIFTS:
            for sy in GUIDE_SHIFTS:
                size = side * scale
                place = (x + sx * size, y + sy * size, size)
                h = canvas.patch(*place)
                if h is not None and (bits := _bits(h[0], want)) < best[0]:
                    best = (bits, place)
                    if bits <= PAIR_RADIUS:
                        return best
    return best


@dataclass(frozen=True)
class Evidence:
    agree: tuple[Pair, ...]  # separated pairs within PAIR_RADIUS
    disagree: int  # regions in view that are clearly something else
    visible: int  # regions of the other side in view on the canvas

    def holds(self) -> bool:
        a, d = len(self.agree), self.disagree
        return a >= MIN_PAIRS and 2 * a >= d and (a > MIN_PAIRS or d == 0)


def _evidence(t: Transform, other: RegionHashes, canvas: Canvas, canvas_is_query: bool) -> Evidence:
    """Hash every region of ``other`` where ``t`` puts it on the canvas."""
    agree: list[Pair] = []
    disagree = visible = 0
    for index, r in enumerate(other.regions):
        place = t.to_query(r.x, r.y, r.side) if canvas_is_query else t.to_target(r.x, r.y, r.side)
        if not canvas.inside(*place):
            continue
        look = _look(canvas, *place, r.hex)
        if look is None:
            continue
        bits, place = look
        visible += 1
        if bits <= PAIR_RADIUS:
            mine = _geometry(r)
            agree.append(Pair(place, mine, bits, None, index) if canvas_is_query
                         else Pair(mine, place, bits, index, None))  # fmt: skip
        elif bits >= DISAGREE_BITS:
            disagree += 1
    return Evidence(tuple(_separated(agree)), disagree, visible)


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
        Pair(_geometry(query.regions[i]), _geometry(target.regions[j]), bits, i, j)
        for i, j, bits in seeds
        if 0 <= i < len(query) and 0 <= j < len(target) and (i, j) not in known
    ]
    other = target if canvas_is_query else query
    best: Evidence | None = None
    for hypothesis in _hypotheses(pairs):
        t = _fit([p for p in pairs if _agrees(hypothesis, p)])
        found = _evidence(t, other, canvas, canvas_is_query)
        for _ in range(REFITS):  # the agreeing regions place the picture more precisely
            if len(found.agree) < MIN_PAIRS:
                break
            again = _evidence(_fit(found.agree), other, canvas, canvas_is_query)
            if len(again.agree) <= len(found.agree):
                break
            found = again
        if found.holds() and (best is None or len(found.agree) > len(best.agree)):
            best = found
            if len(best.agree) >= 2 * MIN_PAIRS:
                break
    if best is None:
        return None
    q, tgt = (canvas, target) if canvas_is_query else (query, canvas)
    t = _fit(best.agree)
    target_box, query_box = _boxes(t, (q.width, q.height), (tgt.width, tgt.height))
    return RegionMatch(best.agree, t, target_box, query_box, best.visible, best.disagree)
