"""Re-posts: whole-picture PDQ (stage 1) and anchored region hashes (stage 2) against
crops, borders, captions, stickers, mirror images, rotations, re-encodes and resizes of
the benign pictures in ../shared/data (pdq/, faces/, synthetic/real/, provenance/).

Protocol. Every decodable picture with a PDQ quality of at least 50 is a candidate;
pictures whose whole-picture PDQ (any rotation or mirror image) is within 31 bits of a
larger one are the same picture and only the largest is kept. Pictures are scaled to at
most 1280 pixels on their longest side (Telegram's photo size) and stored as JPEG
(quality 95) — the *originals*. Each original is split by the SHA-256 of its path into a
**development** half (used while choosing the region parameters, ``haechi.analyze.hashes.
regions``) and a **held-out** half (never looked at until the parameters were fixed);
both are reported, the held-out half is the result. Every original gets the variants of
``haechi.match.variants.standard`` (seeded by its number), each saved as a JPEG.

Every variant is looked up among all originals, exactly as haechi matches a stored file:
stage 1 looks up the eight dihedral hashes within 31 bits; stage 2 looks the variant's
regions up among the originals' indexed regions and confirms a candidate on the
variant's pixels, and a candidate the region hashes did not confirm (or seeded only at
32-56 bits) with local features on the variant's and the original's pixels
(``haechi.match.features``; the original read back from its stored JPEG, as haechi reads
a stored file from the vault), then by a seed's placement refined on both pictures' pixels
(``haechi.match.pixel_place``). **Recall**: the variant's own original is
found. **False matches**: any other original is found, unless the two originals share
pixels (one is a crop of the other, say) as an independent check confirms: OpenCV SIFT
with Lowe's ratio test and a RANSAC homography with at least 40 inliers between the two
full pictures, or the data set says one is made from the other (OpenFace's aligned
96-pixel face crops, too small for 40 inliers; ``derived``); such pairs are listed, not
counted. A second, harder false-match test
stores *the same* sticker and caption bar on many originals and looks each one up
among the others (re-posts from one channel share its watermark).

Targets: >= 95 % recall for every variant at zero false matches (held-out half).

**Extra development set** (``dev-extra``), for pictures of 256 pixels and more, which the
development half has few of (84 of its 286): the development half's pictures of 256 pixels
and more, and the benign pictures scikit-image and scikit-learn ship (``PACKAGES``:
photographs of a cat, coffee, a rocket, coins, bricks, grass, the moon, a retina, ...),
each *rescaled once* to a longest side drawn from its path's SHA-256: in
``EXTRA_BAND`` (256-425 pixels, whose 20 % crops are under 256 pixels) three times in
five, otherwise up to ``EXTRA_MAX`` (never larger than it is). These replace their
sources in the index (the rest of both halves stays in it, as in a development run:
never looked up, but a false match against them counts); only they are looked up, with
the same variants. The held-out half is not looked up.
"""

from __future__ import annotations

import hashlib
import io
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from common import Section
from haechi.analyze.hashes.decode import FAST
from haechi.analyze.hashes.pdq import QUALITY_THRESHOLD, hash_picture
from haechi.analyze.hashes.pdqcore import hamming
from haechi.analyze.hashes.regions import Canvas, RegionHashes
from haechi.match import features, pixel_place, uncropped, variants
from haechi.match import regions as stage2
from haechi.match.mih import Segment, hex_to_words
from haechi.match.region_search import canvas_of

FOLDERS = ("pdq", "faces", "synthetic/real", "provenance")
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
LONGEST = 1280
RADIUS = 31
TARGET = 0.95
SHARED_OVERLAY_PICTURES = 80
SHARE_INLIERS = 40
SMALL = 256  # longest side: pictures smaller than this are reported apart
# dev-extra: the pictures installed packages ship (benign: animals, food, objects, textures,
# astronomy, microscopy), looked for in these packages' folders
PACKAGES = (("skimage", "data"), ("sklearn", "datasets/images"))
EXTRA_BAND = (256, 425)  # a 20 % crop (0.6 of the side) of these is under SMALL
EXTRA_MAX = 1024
EXTRA_IN_BAND = 0.6  # share of dev-extra pictures rescaled into EXTRA_BAND


@dataclass
class Stored:
    """A picture as haechi keeps it: PDQ, dihedral hashes, regions (and its pixels, for
    the independent check only)."""

    rel: str
    split: str
    image: Image.Image
    pdq: str
    regions: RegionHashes | None
    jpeg: int = 95  # the quality it is stored at (its pixels, for local features)


@dataclass
class Query:
    source: int
    name: str
    stage1: set[int] = field(default_factory=set)
    stage2: dict[int, int] = field(default_factory=dict)  # target -> regions that agree
    checked: int = 0  # candidates checked on the pixels
    seconds: float = 0.0
    by_features: set[int] = field(default_factory=set)  # stage 2 confirmed on both pixels
    by_pixels: set[int] = field(default_factory=set)  # of those, placed by a seed (pixel_place)


def _hash(data: bytes) -> tuple[Any, Canvas | None]:
    """PDQ + regions of a JPEG as the analyzer computes them, and its canvas."""
    from haechi.analyze.hashes.decode import decode_frames

    h = hash_picture(io.BytesIO(data), decode=FAST, regions=True)[0]
    luma = next(decode_frames(io.BytesIO(data), policy=FAST))
    return h, Canvas(luma.luma)


def _scaled(im: Image.Image) -> Image.Image:
    im = im.convert("RGB")
    f = LONGEST / max(im.size)
    if f < 1:
        im = im.resize((max(1, round(im.width * f)), max(1, round(im.height * f))),
                       Image.Resampling.LANCZOS)  # fmt: skip
    return im


def _originals(data: Path) -> tuple[list[Stored], int, int]:
    """The distinct pictures, largest first; (pictures, files read, same-picture dropped)."""
    found: list[tuple[int, str, Image.Image]] = []
    files = 0
    for folder in FOLDERS:
        root = data / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() not in SUFFIXES:
                continue
            files += 1
            try:
                with Image.open(path) as im:
                    im.load()
                    picture = _scaled(im)
            except Exception:  # noqa: S112 - damaged fixtures are part of the data set: skipped
                continue
            if min(picture.size) >= 32:
                rel = str(path.relative_to(data))
                found.append((picture.width * picture.height, rel, picture))
    found.sort(key=lambda x: (-x[0], x[1]))
    kept: list[Stored] = []
    codes: list[list[str]] = []
    for _, rel, picture in found:
        h, _ = _hash(variants.jpeg_bytes(picture, 95))
        if h.pdq.quality < QUALITY_THRESHOLD:
            continue
        mine = [h.pdq.hex, *h.pdq.dihedral.values()]
        if any(min(hamming(m, c[0]) for m in mine) <= RADIUS for c in codes):
            continue
        kept.append(Stored(rel, _split(rel), picture, h.pdq.hex, h.regions))
        codes.append([h.pdq.hex])
    return kept, files, len(found) - len(kept)


def _split(rel: str) -> str:
    return "dev" if int(hashlib.sha256(rel.encode()).hexdigest(), 16) % 2 == 0 else "held-out"


def _package_pictures() -> list[tuple[str, Image.Image]]:
    """(name, picture) of the pictures in ``PACKAGES`` at least ``EXTRA_BAND[0]`` long."""
    import importlib.util

    out = []
    for package, folder in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations))) / folder
        for path in sorted(root.glob("*")):
            if path.suffix.lower() not in SUFFIXES:
                continue
            try:
                with Image.open(path) as im:
                    im.load()
                    picture = _scaled(im)
            except Exception:  # noqa: S112 - not a picture Pillow reads: skipped
                continue
            if max(picture.size) >= EXTRA_BAND[0] and min(picture.size) >= 64:
                out.append((f"packages/{package}/{path.name}", picture))
    return out


def _extra_side(rel: str, longest: int) -> int:
    """The longest side a dev-extra picture is rescaled to (drawn from its path)."""
    draw = int(hashlib.sha256(f"dev-extra:{rel}".encode()).hexdigest(), 16)
    u, v = (draw % 10**6) / 10**6, (draw // 10**6 % 10**6) / 10**6
    lo, hi = EXTRA_BAND if u < EXTRA_IN_BAND else (EXTRA_BAND[1] + 1, EXTRA_MAX)
    return min(longest, round(lo + v * (hi - lo)))


def _with_extra(stored: list[Stored]) -> list[Stored]:
    """The originals with the dev-extra pictures (split ``dev-extra``) in place of their
    sources: the development half's pictures of SMALL pixels and more, and the packages'
    pictures that are not the same picture as an original (PDQ within RADIUS)."""
    sources = [(s.rel, s.image) for s in stored if s.split == "dev" and max(s.image.size) >= SMALL]
    codes = [s.pdq for s in stored]
    for rel, picture in _package_pictures():
        h, _ = _hash(variants.jpeg_bytes(picture, 95))
        mine = [h.pdq.hex, *h.pdq.dihedral.values()]
        if h.pdq.quality < QUALITY_THRESHOLD or any(
            min(hamming(m, c) for m in mine) <= RADIUS for c in codes
        ):
            continue
        sources.append((rel, picture))
        codes.append(h.pdq.hex)
    replaced = {rel for rel, _ in sources}
    out = [s for s in stored if s.rel not in replaced]
    for rel, picture in sources:
        side = _extra_side(rel, max(picture.size))
        f = side / max(picture.size)
        if f < 1:
            picture = picture.resize((max(1, round(picture.width * f)),
                                      max(1, round(picture.height * f))),
                                     Image.Resampling.LANCZOS)  # fmt: skip
        h, _ = _hash(variants.jpeg_bytes(picture, 95))
        out.append(Stored(f"{rel}@{max(picture.size)}px", "dev-extra", picture, h.pdq.hex,
                          h.regions))  # fmt: skip
    return out


@dataclass
class Index:
    pdq: Segment
    regions: Segment
    templates: list[RegionHashes | None]
    stored: list[Stored]
    canvases: dict[int, Canvas | None] = field(default_factory=dict)

    def canvas(self, n: int) -> Canvas | None:
        """A stored picture's pixels, as haechi reads a stored file from the vault."""
        if n not in self.canvases:
            s = self.stored[n]
            self.canvases[n] = canvas_of(variants.jpeg_bytes(s.image, s.jpeg))
        return self.canvases[n]

    @classmethod
    def of(cls, stored: list[Stored]) -> Index:
        pdq = Segment.build(hex_to_words([s.pdq for s in stored]), np.arange(len(stored)),
                            np.zeros(len(stored), np.int32))  # fmt: skip
        hexes, ids, aux = [], [], []
        for i, s in enumerate(stored):
            if s.regions is None:
                continue
            for j in s.regions.index_positions:  # as haechi.match.index.region_rows
                hexes.append(s.regions.regions[j].hex)
                ids.append(i)
                aux.append(j)
        codes = hex_to_words(hexes) if hexes else np.empty((0, 4), np.uint64)
        regions = Segment.build(codes, np.array(ids, np.int64), np.array(aux, np.int32))
        return cls(pdq, regions, [s.regions for s in stored], stored)


def _lookup(
    index: Index, data: bytes, exclude: int | None = None
) -> tuple[set[int], dict[int, int], int, set[int], set[int]]:
    """Stage 1 and stage 2 for one picture, as haechi runs them (the candidates the region
    check did not confirm go to the local-feature check, the most seeded first)."""
    h, canvas = _hash(data)
    first: set[int] = set()
    if h.pdq.quality >= QUALITY_THRESHOLD:
        for value in [h.pdq.hex, *h.pdq.dihedral.values()]:
            rows, _ = index.pdq.search(hex_to_words([value])[0], RADIUS)
            first.update(int(index.pdq.ids[r]) for r in rows)
    second: dict[int, int] = {}
    checked = 0
    missed: list[int] = []
    features_found: set[int] = set()  # confirmed on both pictures' pixels
    pixels_found: set[int] = set()  # of those, placed by a seed refined on the pixels
    query = None if h.regions is None else uncropped.with_crop_regions(h.regions, canvas)
    if query is not None and query.lookups:
        seeds: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        codes = hex_to_words([r.hex for r in query.lookups])
        radius = max(stage2.SEED_RADIUS, features.LOOSE_SEED_RADIUS)
        found_ = index.regions.search_many(codes, radius, stage2.SEED_FLIPS)
        for qi, r, d in zip(*(a.tolist() for a in found_), strict=True):
            seeds[int(index.regions.ids[r])].append((qi, int(index.regions.aux[r]), d))
        for target, found in seeds.items():
            template = index.templates[target]
            if target in first or target == exclude or template is None or canvas is None:
                continue
            close = [s for s in found if s[2] <= stage2.SEED_RADIUS]
            match = None
            if close:  # candidates seeded only beyond 31 bits go to local features only
                checked += 1
                match = stage2.confirm(query, template, close, canvas, canvas_is_query=True)
            if match is not None:
                second[target] = len(match.pairs)
            else:
                missed.append(target)
        missed.sort(key=lambda t: (-len(seeds[t]), min(s[2] for s in seeds[t]), t))
        for target in missed[: features.MAX_CHECKS]:
            theirs = index.canvas(target)
            template = index.templates[target]
            if theirs is None or template is None or canvas is None:
                continue
            checked += 1
            match = pixel_place.confirm_both(query, template, seeds[target], canvas, theirs)
            if match is not None:
                second[target] = len(match.pairs)
                features_found.add(target)
                if match.pixels:
                    pixels_found.add(target)
    if exclude is not None:
        first.discard(exclude)
    return first, second, checked, features_found, pixels_found


def _share_pixels(a: Image.Image, b: Image.Image) -> int:
    """Independent check: RANSAC homography inliers of SIFT matches (ratio test 0.75)."""
    import cv2

    sift = cv2.SIFT_create(nfeatures=4000)  # type: ignore[attr-defined]
    ka, da = sift.detectAndCompute(np.asarray(a.convert("L")), None)
    kb, db = sift.detectAndCompute(np.asarray(b.convert("L")), None)
    if da is None or db is None or len(ka) < 4 or len(kb) < 4:
        return 0
    pairs = cv2.BFMatcher().knnMatch(da, db, k=2)
    good = [m for m, *rest in pairs if rest and m.distance < 0.75 * rest[0].distance]
    if len(good) < 4:
        return 0
    src = np.array([ka[m.queryIdx].pt for m in good], np.float32)
    dst = np.array([kb[m.trainIdx].pt for m in good], np.float32)
    _, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    return int(mask.sum()) if mask is not None else 0


def _queries(
    stored: list[Stored], index: Index, splits: set[str], only: set[str] | None = None
) -> list[Query]:
    out = []
    for n, s in enumerate(stored):
        if s.split not in splits:
            continue
        for v in variants.standard(s.image, n):
            if only and v.name not in only:  # development runs: some variants only
                continue
            t = time.perf_counter()
            first, second, checked, by_features, by_pixels = _lookup(
                index, variants.jpeg_bytes(v.image, 95)
            )
            out.append(Query(n, v.name, first, second, checked, time.perf_counter() - t,
                             by_features, by_pixels))  # fmt: skip
    return out


def derived(a: str, b: str) -> bool:
    """Pairs the data sets themselves say are made from one photograph: OpenFace's
    ``examples-aligned/<name>.png`` are its aligned 96 x 96 face crops of
    ``examples/<name>.jpg`` (too small for the SIFT check's 40 inliers)."""
    for x, y in ((a, b), (b, a)):
        head, _, name = x.rpartition("/examples-aligned/")
        if head and y == f"{head}/examples/{name.rsplit('.', 1)[0]}.jpg":
            return True
    return False


class Related:
    """Pairs of originals that share pixels, by the independent check (cached), or that
    the data set says are derived from one photograph (``derived``)."""

    def __init__(self, stored: list[Stored]) -> None:
        self.stored = stored
        self.inliers: dict[tuple[int, int], int] = {}

    def __call__(self, a: int, b: int) -> bool:
        key = (min(a, b), max(a, b))
        if key not in self.inliers:
            x, y = self.stored[key[0]], self.stored[key[1]]
            self.inliers[key] = (
                SHARE_INLIERS if derived(x.rel, y.rel) else _share_pixels(x.image, y.image)
            )
        return self.inliers[key] >= SHARE_INLIERS

    def pairs(self) -> list[tuple[int, int]]:
        return sorted(k for k, n in self.inliers.items() if n >= SHARE_INLIERS)


def _shared_overlay(
    stored: list[Stored], splits: set[str], related: Related
) -> tuple[int, int, list[str]]:
    """The same sticker, caption bar and caption text on many pictures: stored together,
    each looked up among the others. Returns (lookups, false matches, examples)."""
    chosen = [i for i, s in enumerate(stored) if s.split in splits][:SHARED_OVERLAY_PICTURES]
    copies: list[tuple[int, Stored]] = []
    for i in chosen:
        im = stored[i].image
        for v in (variants.sticker(im, 0.2, kind="badge", x=0.8, y=0.8, color=(220, 30, 90)),
                  variants.caption_bar(im, 0.15, "t.me/some_channel"),
                  variants.caption_text(im, 0.12, "@some_channel", x=0.5, y=0.95)):  # fmt: skip
            h, _ = _hash(variants.jpeg_bytes(v.image, 90))
            copies.append((i, Stored(f"{stored[i].rel}#{v.name}", stored[i].split, v.image,
                                     h.pdq.hex, h.regions, 90)))  # fmt: skip
    index = Index.of([c for _, c in copies])
    false, examples = 0, []
    for n, (i, c) in enumerate(copies):
        first, second, *_ = _lookup(index, variants.jpeg_bytes(c.image, 85), exclude=n)
        for other in first | set(second):
            j = copies[other][0]
            if j != i and not related(i, j):
                false += 1
                examples.append(f"`{c.rel}` ~ `{copies[other][1].rel}`")
    return len(copies), false, examples


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


class DetailedSection(Section):
    details: str = ""

    def markdown(self) -> str:
        return super().markdown() + ("\n" + self.details + "\n" if self.details else "")


def _main_split(splits: set[str]) -> str:
    """The half whose figures are the result: held-out when looked up, else the one run."""
    return "held-out" if "held-out" in splits else min(splits)


def evaluate(
    data: Path,
    splits: set[str],
    limit: int | None = None,
    min_side: int = 0,
    only: set[str] | None = None,
) -> DetailedSection:
    section = DetailedSection("Re-posts: crops, borders, captions, stickers, mirror images")
    section.intro = (__doc__ or "").split("\n\n")[0].replace("\n", " ")
    if not any((data / f).is_dir() for f in FOLDERS):
        section.skipped = f"no pictures under {data} ({', '.join(FOLDERS)})"
        return section
    t0 = time.perf_counter()
    stored, files, dropped = _originals(data)
    if "dev-extra" in splits:
        stored = _with_extra(stored)
    if min_side:  # development runs only
        stored = [s for s in stored if max(s.image.size) >= min_side]
    if limit:  # development runs: an even sample across sizes
        stored = stored[:: max(1, len(stored) // limit)]
    index = Index.of(stored)
    queries = _queries(stored, index, splits, only)
    related = Related(stored)
    false: dict[str, list[str]] = defaultdict(list)
    for q in queries:
        for other in (q.stage1 | set(q.stage2)) - {q.source}:
            if not related(q.source, other):
                false[stored[q.source].split].append(f"{q.name} of `{stored[q.source].rel}` "
                                                     f"~ `{stored[other].rel}`")  # fmt: skip
    names = list(dict.fromkeys(q.name for q in queries))
    section.header = ["variant", *[f"{s}: PDQ / + regions" for s in sorted(splits)]]
    worst = 1.0
    for name in names:
        row = [name]
        for split in sorted(splits):
            qs = [q for q in queries if q.name == name and stored[q.source].split == split]
            one = sum(q.source in q.stage1 for q in qs) / max(1, len(qs))
            both = sum(q.source in q.stage1 or q.source in q.stage2 for q in qs) / max(1, len(qs))
            row.append(f"{one:.3f} / **{both:.3f}**")
            if split == _main_split(splits):
                worst = min(worst, both)
        section.rows.append(row)
    lookups, shared_false, examples = _shared_overlay(stored, splits, related)
    checked = [q.checked for q in queries]
    seconds = [q.seconds for q in queries]
    main = _main_split(splits)
    section.passed = worst >= TARGET and not false[main] and shared_false == 0
    section.rows.append(["false matches (other pictures)",
                         *[str(len(false[s])) for s in sorted(splits)]])  # fmt: skip
    section.notes += [
        f"{files} files read, {len(stored)} distinct pictures ({dropped} dropped as the same "
        f"picture as a larger one or PDQ quality < 50); "
        + ", ".join(f"{s}: {sum(x.split == s for x in stored)}" for s in sorted(splits)),
        f"{len(queries)} variant lookups; candidates checked on the pixels per lookup: mean "
        f"{statistics.fmean(checked):.2f}, max {max(checked)}; lookup (hash the variant + "
        f"both stages) median "
        f"{statistics.median(seconds) * 1000:.0f} ms, p99 "
        f"{sorted(seconds)[int(0.99 * (len(seconds) - 1))] * 1000:.0f} ms (busy machine); "
        f"of the re-posts found by the second stage alone, "
        f"{sum(q.source in q.by_features and q.source not in q.stage1 for q in queries)} were "
        f"confirmed on both pictures' pixels (the region hashes alone did not decide): by local "
        f"features, or "
        f"{sum(q.source in q.by_pixels and q.source not in q.stage1 for q in queries)} by a "
        f"seed's placement refined on the pixels",
        f"the same sticker, caption bar and caption text on {lookups // 3} pictures, each copy "
        f"looked up among the others: {shared_false} false matches"
        + (f" ({'; '.join(examples[:5])})" if examples else ""),
        f"pairs of originals that share pixels (independent SIFT + RANSAC check, >= "
        f"{SHARE_INLIERS} inliers), matched and not counted as false: "
        + (
            ", ".join(f"`{stored[a].rel}` ~ `{stored[b].rel}`" for a, b in related.pairs())
            or "none"
        ),
    ]
    for split in sorted(splits):
        if false[split]:
            section.notes.append(f"false matches ({split}): " + "; ".join(false[split][:10]))
    section.details = _details(stored, queries, splits, time.perf_counter() - t0)
    return section


def _details(stored: list[Stored], queries: list[Query], splits: set[str], took: float) -> str:
    groups: dict[str, list[Query]] = defaultdict(list)
    for q in queries:
        s = stored[q.source]
        size = "small (< 256 px)" if max(s.image.size) < SMALL else "256 px and more"
        groups[f"{s.rel.split('/')[0]}, {size}"].append(q)
    rows = []
    for g, qs in sorted(groups.items()):
        geo = [q for q in qs if q.name.startswith(("crop", "border", "caption", "sticker"))]
        one = sum(q.source in q.stage1 for q in geo) / max(1, len(geo))
        both = sum(q.source in q.stage1 or q.source in q.stage2 for q in geo) / max(1, len(geo))
        rows.append([g, str(len({q.source for q in qs})), f"{one:.3f}", f"{both:.3f}"])
    main = _main_split(splits)
    bands = {"small (< 256 px)": (0, SMALL), "256 px and more": (SMALL, 10**6),
             "of which 256-425 px": EXTRA_BAND}  # fmt: skip
    by_size = []
    for name in dict.fromkeys(q.name for q in queries):
        row = [name]
        for lo, hi in bands.values():
            qs = [q for q in queries if q.name == name and stored[q.source].split == main
                  and lo <= max(stored[q.source].image.size) <= hi - (hi == SMALL)]  # fmt: skip
            both = sum(q.source in q.stage1 or q.source in q.stage2 for q in qs)
            row.append(f"{both / max(1, len(qs)):.3f} ({len(qs)})")
        by_size.append(row)
    return "\n".join([
        "### Crops, borders, captions and stickers by source folder and size", "",
        _table(["group", "pictures", "PDQ alone", "+ regions"], rows), "",
        f"### Recall with both stages by picture size ({main} half; lookups in brackets)", "",
        _table(["variant", *bands], by_size), "",
        f"Whole run: {took:.0f} s.",
    ])  # fmt: skip


def run(data: Path) -> Section:
    return evaluate(data, {"dev", "held-out"})


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(
        description="Re-post evaluation (development runs; the report runs both halves)."
    )
    ap.add_argument("split", nargs="?", default="dev",
                    choices=("dev", "dev-extra", "held-out", "both"),
                    help="which half to look up (held-out: once, after tuning; dev-extra: the "
                         "extra development set of pictures of 256 pixels and more)")  # fmt: skip
    ap.add_argument("limit", nargs="?", type=int, default=None,
                    help="an even sample of this many pictures across sizes")  # fmt: skip
    ap.add_argument("min_side", nargs="?", type=int, default=0,
                    help="only pictures at least this long")  # fmt: skip
    ap.add_argument(
        "--only",
        nargs="*",
        default=None,
        metavar="VARIANT",
        help="development runs: look these variants up only (crop-20, sticker, ...)",
    )
    args = ap.parse_args(argv)
    here = Path(__file__).resolve()
    splits = {"dev", "held-out"} if args.split == "both" else {args.split}
    result = evaluate(here.parents[2] / "shared" / "data", splits, args.limit, args.min_side,
                      set(args.only) if args.only else None)  # fmt: skip
    print(result.markdown())
    return 0


if __name__ == "__main__":  # eval_repost.py dev|dev-extra [limit [min side]] [--only ..]
    sys.exit(main())
