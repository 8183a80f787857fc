"""The second matching stage against the stores: look a picture's anchored regions up in
the region indexes, load each candidate's regions, and confirm it on the pixels of
whichever side has them (``haechi.match.regions.confirm``); a stored candidate the region
hashes did not confirm is checked once more on both pictures' pixels: with local features
(``haechi.match.features``), then by its seeds' placements refined on the pixels
(``haechi.match.pixel_place``).

Pixels: a stored file is read from the vault (the fast decode the analyzer used, so its
regions and its pixels share one geometry); a file looked up with ``haechi match FILE``
is read from disk; a bank item has none (its picture was hashed and forgotten), so a
bank item is always checked on the pixels of the stored file or file it is compared
with. Nothing is written here; callers turn the results into matches.
"""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, select

from haechi.analyze.hashes.decode import FAST, DecodeError, decode_frames
from haechi.analyze.hashes.regions import Canvas, RegionHashes
from haechi.app import App
from haechi.domain import VaultError
from haechi.match.features import LOOSE_SEED_RADIUS
from haechi.match.features import MAX_CHECKS as MAX_FEATURE_CHECKS
from haechi.match.index import BANK_REGION, MEDIA_REGION, IndexSet
from haechi.match.pixel_place import confirm_both
from haechi.match.regions import (
    PAIR_RADIUS,
    SEED_FLIPS,
    SEED_RADIUS,
    STAGE,
    RegionMatch,
    confirm,
)
from haechi.match.search import (
    BankTarget,
    Hit,
    MediaTarget,
    Raw,
    bank_hit,
    bank_targets,
    capture_hit,
    first_seen,
    media_targets,
)
from haechi.match.uncropped import with_crop_regions
from haechi.store.models import SignalRow
from haechi.store.tables.match import BankSignal

MAX_CANDIDATES = 12  # per query: the targets with the most seeds are checked first

CanvasSource = Callable[[], Canvas | None]


def regions_of(data: dict[str, Any] | None) -> RegionHashes | None:
    return RegionHashes.from_data((data or {}).get("regions"))


def canvas_of(source: Path | bytes) -> Canvas | None:
    """The canvas of a picture file or its bytes, decoded as the analyzer does (frame 0)."""
    stream: Any = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        for luma in decode_frames(stream, policy=FAST):
            return Canvas(luma.luma)
    except DecodeError:
        return None
    return None


def stored_canvas(app: App, sha256: str) -> Canvas | None:
    """The canvas of a stored file (None when it cannot be read or decoded)."""
    with contextlib.suppress(VaultError, OSError):
        return canvas_of(app.vault.read_bytes(sha256))
    return None


class Lazy:
    """Decode at most once, and only if a candidate needs the pixels."""

    def __init__(self, make: CanvasSource) -> None:
        self.make = make
        self.done = False
        self.value: Canvas | None = None

    def __call__(self) -> Canvas | None:
        if not self.done:
            self.value, self.done = self.make(), True
        return self.value


@dataclass(frozen=True)
class RegionHit:
    index: str  # media-region or bank-region
    target_id: int  # signal id or bank signal id
    match: RegionMatch  # from the query's side (query -> target)


def _seeds(
    indexes: IndexSet, query: RegionHashes, names: Sequence[str]
) -> dict[tuple[str, int], list[tuple[int, int, int]]]:
    """(query region, target region, bits) of every indexed region sharing an exact chunk
    with one of the query's and within ``LOOSE_SEED_RADIUS`` bits, by target. Probing
    exact chunks costs the same whatever the radius; a candidate whose closest pair is
    beyond ``SEED_RADIUS`` goes to the local-feature check only."""
    seeds: dict[tuple[str, int], list[tuple[int, int, int]]] = defaultdict(list)
    hexes = [r.hex for r in query.lookups]  # a prefix of its regions (see RegionHashes)
    radius = max(SEED_RADIUS, LOOSE_SEED_RADIUS)
    for name in names:
        for qi, hits in enumerate(indexes[name].search_many(hexes, radius, SEED_FLIPS)):
            for h in hits:
                seeds[(name, h.id)].append((qi, h.aux, h.distance))
    return seeds


def _templates(
    conn: Connection, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], tuple[RegionHashes, str | None]]:
    """(regions, stored file's SHA-256 or None for a bank item) of each candidate."""
    media = sorted({i for n, i in keys if n == MEDIA_REGION})
    bank = sorted({i for n, i in keys if n == BANK_REGION})
    out: dict[tuple[str, int], tuple[RegionHashes, str | None]] = {}
    if media:
        q = select(SignalRow.id, SignalRow.data_json, SignalRow.blob_sha256).where(
            SignalRow.id.in_(media)
        )
        for sid, data, sha in conn.execute(q):
            found = regions_of(orjson.loads(data) if data else None)
            if found is not None:
                out[(MEDIA_REGION, sid)] = (found, sha)
    if bank:
        q2 = select(BankSignal.id, BankSignal.data_json).where(BankSignal.id.in_(bank))
        for bid, data in conn.execute(q2):
            found = regions_of(orjson.loads(data) if data else None)
            if found is not None:
                out[(BANK_REGION, bid)] = (found, None)
    return out


def search_regions(
    app: App,
    indexes: IndexSet,
    query: RegionHashes,
    names: Sequence[str],
    *,
    skip: set[tuple[str, int]] = frozenset(),  # type: ignore[assignment]
    skip_blobs: set[str] = frozenset(),  # type: ignore[assignment]
    query_canvas: CanvasSource | None = None,
) -> list[RegionHit]:
    """Confirmed region matches of ``query`` in the region indexes ``names``.

    ``skip``: (index, id) already matched (stage 1) or the query itself; ``skip_blobs``:
    stored files not to match (the query's own). The query's pixels (``query_canvas``)
    are used when given (and the query is then also looked up as a crop of a larger
    picture, ``haechi.match.uncropped``); otherwise, and for a candidate the query's
    pixels cannot confirm, a stored candidate's own pixels are read from the vault."""
    if not query.lookups:
        return []
    if query_canvas is not None:
        query = with_crop_regions(query, query_canvas())
    seeds = _seeds(indexes, query, names)
    close = {k: [s for s in v if s[2] <= SEED_RADIUS] for k, v in seeds.items() if k not in skip}

    def order(k: tuple[str, int]) -> tuple[int, int, tuple[str, int]]:
        return (-len(seeds[k]), min(s[2] for s in seeds[k]), k)

    ranked = sorted((k for k in close if close[k]), key=order)[:MAX_CANDIDATES]
    loose = sorted((k for k in close if not close[k]), key=order)[:MAX_FEATURE_CHECKS]
    if not ranked and not loose:
        return []
    with app.db.connect() as conn:
        templates = _templates(conn, ranked + loose)
    out: list[RegionHit] = []
    missed: list[tuple[str, int]] = []  # candidates for the local-feature check
    for key in ranked + loose:
        if key not in templates:
            continue
        target, sha = templates[key]
        if sha is not None and sha in skip_blobs:
            continue
        if not close[key]:
            missed += [key] if sha is not None else []
            continue
        found = None
        mine = query_canvas() if query_canvas is not None else None
        if mine is not None:
            found = confirm(query, target, close[key], mine, canvas_is_query=True)
            if found is None and sha is not None:
                missed.append(key)
        elif sha is not None and (theirs := stored_canvas(app, sha)) is not None:
            found = confirm(query, target, close[key], theirs, canvas_is_query=False)
        if found is not None:
            out.append(RegionHit(key[0], key[1], found))
    # What the region hashes could not decide, local features or the pixels placed by a
    # seed may, when both pictures' pixels are at hand (a stored candidate and the query's
    # own); the most seeded first.
    mine = query_canvas() if query_canvas is not None and missed else None
    if mine is None:
        return out
    for key in sorted(missed, key=order)[:MAX_FEATURE_CHECKS]:
        target, sha = templates[key]
        theirs = stored_canvas(app, sha) if sha is not None else None
        if (
            theirs is not None
            and (found := confirm_both(query, target, seeds[key], mine, theirs)) is not None
        ):
            out.append(RegionHit(key[0], key[1], found))
    return out


def _raw(hit: RegionHit, match: RegionMatch) -> Raw:
    return Raw(hit.index, hit.target_id, match.distance, None, None, match.as_dict())


def region_stage(
    app: App,
    indexes: IndexSet,
    *,
    regions: RegionHashes,
    value: str | None,
    blob: str | None,
    signal_id: int | None,
    found: set[str],
    canvas: CanvasSource | None,
) -> tuple[list[Hit], list[tuple[str, Hit]]]:
    """The region matches of a picture, for targets stage 1 did not find (``found``: their
    ``Hit.target``). ``signal_id`` / ``blob``: a stored picture's own signal and file.

    Returns the hits recorded on this picture, and those recorded on stored files first
    posted after it (the re-post carries the match, as in stage 1: the match is turned
    round rather than left for the later file's own scan, which might not see it)."""
    own = {(MEDIA_REGION, signal_id)} if signal_id is not None else set()
    hits = search_regions(app, indexes, regions, [BANK_REGION, MEDIA_REGION], skip=own,
                          skip_blobs={blob} if blob else set(), query_canvas=canvas)  # fmt: skip
    if not hits:
        return [], []
    with app.db.connect() as conn:
        banks = bank_targets(conn, [h.target_id for h in hits if h.index == BANK_REGION])
        media = media_targets(conn, [h.target_id for h in hits if h.index == MEDIA_REGION])
        order = (
            first_seen(conn, {blob, *(m.blob_sha256 for m in media.values())})
            if blob is not None and signal_id is not None and media
            else {}
        )
    mine: list[Hit] = []
    theirs: list[tuple[str, Hit]] = []
    for h in hits:
        if h.index == BANK_REGION and h.target_id in banks:
            hit = bank_hit(STAGE, _raw(h, h.match), banks[h.target_id], value, PAIR_RADIUS)
            if hit.target not in found:
                mine.append(hit)
            continue
        target = media.get(h.target_id)
        if target is None or target.blob_sha256 == blob or f"blob:{target.blob_sha256}" in found:
            continue
        if (
            order
            and blob is not None
            and signal_id is not None
            and order[target.blob_sha256] > order[blob]
        ):
            me = MediaTarget(signal_id, blob, value, 0)
            back = h.match.reversed()
            raw = Raw(MEDIA_REGION, signal_id, back.distance, None, None, back.as_dict())
            theirs.append(
                (target.blob_sha256, capture_hit(STAGE, raw, me, target.value, PAIR_RADIUS))
            )
        else:
            mine.append(capture_hit(STAGE, _raw(h, h.match), target, value, PAIR_RADIUS))
    return mine, theirs


def hunt_regions(
    app: App, indexes: IndexSet, bank: BankTarget, regions: RegionHashes, found: set[str]
) -> list[tuple[str, Hit]]:
    """Stored pictures showing part of a bank item (or all of it, with borders or
    captions), checked on their own pixels; ``found``: stored files stage 1 matched."""
    hits = search_regions(app, indexes, regions, [MEDIA_REGION])
    with app.db.connect() as conn:
        media = media_targets(conn, [h.target_id for h in hits])
    out = []
    for h in hits:
        m = media.get(h.target_id)
        if m is None or m.blob_sha256 in found:
            continue
        back = h.match.reversed()  # recorded on the stored file, against the bank item
        raw = Raw(BANK_REGION, bank.signal_id, back.distance, None, None, back.as_dict())
        out.append((m.blob_sha256, bank_hit(STAGE, raw, bank, m.value, PAIR_RADIUS)))
    return out
