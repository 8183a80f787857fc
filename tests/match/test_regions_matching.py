"""The second matching stage on a real data directory (SQLite and PostgreSQL): crops,
borders, captions and stickers of stored pictures and of bank items are matched, each
match says its stage and which part matched (row, custody event, CLI), bank hashes stay
standard PDQ, and unrelated pictures with the same caption are not matched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from PIL import Image
from skimage import data as samples
from sqlalchemy import select
from tests.match.region_index import index_seeds

from haechi.analyze.hashes.decode import FAST
from haechi.analyze.hashes.pdq import hash_picture
from haechi.analyze.hashes.regions import Canvas, RegionHashes
from haechi.app import App
from haechi.demo.images import DemoAssets
from haechi.match import events, variants
from haechi.match.bank_sources import add_files
from haechi.match.banks import create_bank, remove_items
from haechi.match.index import BANK_REGION, MEDIA_REGION, IndexSet
from haechi.match.lists import export_bank
from haechi.match.lookup import hit_dict, list_matches, match_file
from haechi.match.matching import signal_hits
from haechi.match.region_search import Lazy, canvas_of, stored_canvas
from haechi.match.regions import confirm
from haechi.run.verify import verify
from haechi.store.models import CustodyEvent, SignalRow

ASSETS = DemoAssets()


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _save(im: Image.Image, path: Path, quality: int = 88) -> Path:
    path.write_bytes(variants.jpeg_bytes(im, quality))
    return path


def _latte() -> Image.Image:
    import io

    with Image.open(io.BytesIO(ASSETS.latte.data)) as im:
        return im.convert("RGB")


def _close(box: list[float], want: tuple[float, ...], slack: float = 0.03) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(box, want, strict=True))


def test_stored_pictures_carry_regions_and_the_region_index_holds_them(demo_app: App) -> None:
    with demo_app.db.connect() as conn:
        rows = conn.execute(
            select(SignalRow.data_json).where(SignalRow.kind == "pdq", SignalRow.blob_sha256
                                              == _sha(ASSETS.latte.data))
        ).scalars().all()  # fmt: skip
    found = [RegionHashes.from_data(orjson.loads(d).get("regions")) for d in rows]
    assert found and all(r is not None and r.indexed >= 2 for r in found)
    indexes = IndexSet(demo_app)
    indexes.sync()
    assert len(indexes[MEDIA_REGION]) >= 8 * 5  # a handful of stored photos, 8 regions each
    status = indexes.status()
    assert status[MEDIA_REGION]["rows"] == len(indexes[MEDIA_REGION])


def test_a_region_match_is_a_signed_custody_event_saying_which_part(demo_app: App) -> None:
    latte, crop = _sha(ASSETS.latte.data), _sha(ASSETS.latte_crop.data)
    (m,) = [x for x in list_matches(demo_app, blob_sha256=crop, limit=None)
            if x.target_blob_sha256 == latte]  # fmt: skip
    assert m.kind == "region" and m.stage == "region" and m.transform is None
    with demo_app.db.connect() as conn:
        body = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.seq == m.custody_seq)
        ).scalar_one()
    event = orjson.loads(body)
    assert event["type"] == events.MATCH and event["subject"] == crop
    details = event["data"]["details"]
    assert details["stage"] == "region" and details["pairs"] >= 2
    assert _close(details["target_box"], (0.04, 0.04, 0.96, 0.96))  # the crop's part
    assert _close(details["query_box"], (0.0, 0.0, 1.0, 1.0))
    assert event["data"]["distance"] == m.distance <= 31
    assert m.as_dict()["stage"] == "region"
    # a pair the whole-picture hash matched gets no second, region, match
    cat, small = _sha(ASSETS.cat.data), _sha(ASSETS.cat_small.data)
    kinds = {x.kind for x in list_matches(demo_app, blobs=[cat, small], limit=None)
             if {x.blob_sha256, x.target_blob_sha256} == {cat, small}}  # fmt: skip
    assert kinds == {"pdq"}
    assert verify(demo_app).ok


def test_a_victims_bank_item_finds_a_cropped_repost(demo_app: App, tmp_path: Path) -> None:
    """The bank item is the whole photo; the stored re-post is a crop of it. The bank is
    checked on the stored file's pixels (its own picture was not kept)."""
    own = _save(_latte(), tmp_path / "her_photo.jpg", 95)
    create_bank(demo_app, "latte victim", labels=["reported"])
    report = add_files(demo_app, "latte victim", [own])
    hits = {h.blob_sha256: h for h in list_matches(demo_app, bank="latte victim", limit=None)}
    latte, crop = _sha(ASSETS.latte.data), _sha(ASSETS.latte_crop.data)
    assert report.matches_found >= 2 and latte in hits and crop in hits
    assert hits[latte].kind == "pdq" and hits[latte].stage == "whole"
    region = hits[crop].region
    assert hits[crop].kind == "region" and region is not None
    assert _close(region["target_box"], (0.04, 0.04, 0.96, 0.96))  # the part of her photo
    assert hits[crop].details["labels"] == ["reported"]
    # exports stay standard PDQ: one hash per item, no regions
    export_bank(demo_app, "latte victim", tmp_path / "out.txt", fmt="te")
    lines = (tmp_path / "out.txt").read_text().splitlines()
    pdq = [line.split() for line in lines if line.startswith("pdq ")]
    assert len(pdq) == 1 and len(pdq[0][1]) == 64 and all(len(x.split()) == 2 for x in lines)


def test_a_crop_in_a_bank_finds_the_whole_stored_photo(demo_app: App, tmp_path: Path) -> None:
    """The other way round: the bank holds a crop; the stored photo shows all of it."""
    part = variants.crop(_latte(), 0.1, 0.1, 0.1, 0.1).image
    create_bank(demo_app, "latte part")
    add_files(demo_app, "latte part", [_save(part, tmp_path / "part.jpg")])
    hits = {h.blob_sha256: h for h in list_matches(demo_app, bank="latte part", limit=None)}
    latte = _sha(ASSETS.latte.data)
    assert latte in hits and hits[latte].kind == "region"
    region = hits[latte].region
    assert region is not None and _close(region["query_box"], (0.1, 0.1, 0.9, 0.9), 0.04)
    assert _close(region["target_box"], (0.0, 0.0, 1.0, 1.0), 0.04)


@pytest.mark.parametrize(
    "make",
    [
        lambda im: variants.caption_bar(im, 0.18, "t.me/reposts", top=True, dark=True).image,
        lambda im: variants.sticker(im, 0.15, kind="disc", x=0.9, y=0.1).image,
        lambda im: variants.pad(im, 0.12, 0.12, 0.12, 0.12, (255, 255, 255)).image,
        lambda im: variants.crop(im, 0.2, 0.0, 0.05, 0.15).image,
    ],
    ids=["caption-bar", "sticker", "border", "crop"],
)
def test_looking_up_an_altered_copy_finds_the_stored_photo(
    demo_app: App, tmp_path: Path, make: object
) -> None:
    path = _save(make(_latte()), tmp_path / "probe.jpg")  # type: ignore[operator]
    result = match_file(demo_app, path)
    latte = _sha(ASSETS.latte.data)
    found = [h for h in result.hits if h.target_blob_sha256 == latte]
    assert found and found[0].kind in ("pdq", "region")
    assert hit_dict(found[0])["stage"] in ("whole", "region")
    assert not any(h.target_blob_sha256 == _sha(ASSETS.cat.data) for h in result.hits)


def test_an_unrelated_picture_with_the_same_caption_is_not_matched(
    demo_app: App, tmp_path: Path
) -> None:
    """Stored: the demo's photos, and one with a caption bar; looked up: pictures the demo
    does not have, with the same caption bar. The caption's own regions may agree, the
    rest of the picture does not."""
    latte = variants.caption_bar(_latte(), 0.15, "t.me/reposts").image
    create_bank(demo_app, "captioned")
    add_files(demo_app, "captioned", [_save(latte, tmp_path / "captioned.jpg")])
    others = (Image.fromarray(samples.astronaut()).resize((600, 600)),
              Image.fromarray(np.asarray(samples.camera())).convert("RGB"))  # fmt: skip
    for im in others:
        probe = variants.caption_bar(im, 0.15, "t.me/reposts").image
        result = match_file(demo_app, _save(probe, tmp_path / "other.jpg"))
        assert not [h for h in result.hits if h.kind == "region"], [
            hit_dict(h) for h in result.hits
        ]


def test_a_new_capture_is_matched_to_a_bank_by_region_as_it_is_scanned(
    demo_app: App, tmp_path: Path
) -> None:
    """The scan side: a stored file's regions against the bank-region index, confirmed on
    the stored file's own pixels from the vault."""
    rocket = Image.fromarray(np.asarray(samples.rocket()))
    create_bank(demo_app, "rocket")
    add_files(demo_app, "rocket", [_save(rocket, tmp_path / "rocket.jpg", 95)])
    # pretend the demo's latte crop were this rocket's crop: look the stored latte up
    # against banks directly, then a real crop of the rocket as if it were stored
    crop = variants.crop(rocket, 0.1, 0.18, 0.15, 0.05).image
    path = _save(crop, tmp_path / "rocket_crop.jpg")
    result = match_file(demo_app, path)
    bank_hits = [h for h in result.hits if h.bank_name == "rocket"]
    assert bank_hits and bank_hits[0].kind == "region"
    assert _close(bank_hits[0].details["target_box"], (0.1, 0.18, 0.85, 0.95), 0.04)
    # and a stored signal's scan goes through the vault for its pixels
    latte_crop = _sha(ASSETS.latte_crop.data)
    with demo_app.db.connect() as conn:
        sid, value, data = conn.execute(
            select(SignalRow.id, SignalRow.value, SignalRow.data_json)
            .where(SignalRow.kind == "pdq", SignalRow.blob_sha256 == latte_crop)
            .order_by(SignalRow.id.desc())
        ).first()  # type: ignore[misc]
    create_bank(demo_app, "latte again")
    add_files(demo_app, "latte again", [_save(_latte(), tmp_path / "latte.jpg", 95)])
    parsed = orjson.loads(data)
    indexes = IndexSet(demo_app)
    indexes.sync()  # as run_matching does before it scans
    hits = signal_hits(demo_app, indexes, sid, latte_crop, "pdq", value, 100.0, parsed,
                       canvas=Lazy(lambda: stored_canvas(demo_app, latte_crop)))  # fmt: skip
    again = [h for h in hits if h.bank_name == "latte again"]
    assert again and again[0].kind == "region"


def test_removing_bank_items_rebuilds_the_bank_region_index(demo_app: App, tmp_path: Path) -> None:
    create_bank(demo_app, "short lived")
    added = add_files(demo_app, "short lived", [_save(_latte(), tmp_path / "l.jpg", 90)])
    indexes = IndexSet(demo_app)
    indexes.sync()
    before = len(indexes[BANK_REGION])
    remove_items(demo_app, "short lived", added.new_item_ids, reason="test")
    assert indexes[BANK_REGION].manifest.get("stale") is True
    indexes.sync()
    assert len(indexes[BANK_REGION]) < before


def _regions_and_canvas(im: Image.Image) -> tuple[RegionHashes, Canvas]:
    import io

    data = variants.jpeg_bytes(im, 88)
    (h,) = hash_picture(io.BytesIO(data), decode=FAST, regions=True)
    canvas = canvas_of(data)
    assert h.regions is not None and canvas is not None
    return h.regions, canvas


def test_the_same_caption_on_pictures_of_other_widths_is_not_a_match() -> None:
    """The caption's text is drawn at a size that follows each picture's width, so the
    caption regions of two different pictures agree at one scale and offset (with
    ``OVERLAY = 0`` astronaut, moon, brick and camera match each other); they lie in one
    band that an overlay could cover, and the rest of the pictures is different."""
    bar = "t.me/some_channel"
    pictures = [Image.fromarray(samples.astronaut()),
                Image.fromarray(samples.coffee()).resize((420, 280)),
                Image.fromarray(np.asarray(samples.moon())).convert("RGB"),
                Image.fromarray(np.asarray(samples.brick())).convert("RGB"),
                Image.fromarray(np.asarray(samples.camera())).convert("RGB")]  # fmt: skip
    captioned = [_regions_and_canvas(variants.caption_bar(im, 0.15, bar).image) for im in pictures]
    for i, (query, canvas) in enumerate(captioned):
        for j, (target, _) in enumerate(captioned):
            if i != j:
                assert confirm(query, target, [], canvas, canvas_is_query=True) is None
    # the same picture under another caption bar and a crop is still found
    query, canvas = _regions_and_canvas(
        variants.crop(
            variants.caption_bar(pictures[1], 0.2, "new leak").image, 0.1, 0, 0.1, 0.1
        ).image
    )
    found = confirm(query, captioned[1][0], [], canvas, canvas_is_query=True)
    assert found is not None and len(found.pairs) >= 3


def test_agreement_confined_to_a_quarter_of_the_picture_is_measured() -> None:
    from haechi.match.regions import Pair, _extent

    corner = [Pair((0, 0, 0), (x, y, 0.1), 5) for x, y in ((0.1, 0.1), (0.3, 0.1), (0.2, 0.3))]
    assert _extent(corner, (0.0, 0.0, 1.0, 1.0), (1.0, 1.0)) == pytest.approx(0.09)
    spread = [*corner, Pair((0, 0, 0), (0.85, 0.85, 0.1), 5)]
    assert _extent(spread, (0.0, 0.0, 1.0, 1.0), (1.0, 1.0)) == pytest.approx(0.85**2)
    # only the part in view counts
    assert _extent(corner, (0.0, 0.0, 0.5, 0.5), (1.0, 1.0)) == pytest.approx(0.36)


def _small(im: Image.Image, side: int = 125) -> Image.Image:
    f = side / min(im.size)
    return im.resize((round(im.width * f), round(im.height * f)), Image.Resampling.LANCZOS)


SMALL_PICTURES = {
    "coffee": lambda: Image.fromarray(samples.coffee()),
    "immunohistochemistry": lambda: Image.fromarray(samples.immunohistochemistry()),
    "logo": lambda: Image.fromarray(samples.logo()).convert("RGB"),
}


@pytest.mark.parametrize("name", sorted(SMALL_PICTURES))
def test_a_sticker_on_a_small_picture_is_found(name: str) -> None:
    """125-pixel pictures (the size of many face photos) keep a handful of anchored
    regions, and a sticker over a fifth of one hides most of them: one anchored pair
    proposes the placement and the grid regions confirm it (none of these three was
    found before grid regions)."""
    im = _small(SMALL_PICTURES[name]())
    target, _ = _regions_and_canvas(im)
    query, canvas = _regions_and_canvas(variants.sticker(im, 0.2, x=0.3, y=0.7).image)
    found = confirm(query, target, [], canvas, canvas_is_query=True)
    assert found is not None and len(found.pairs) >= 3


def test_the_same_sticker_on_small_pictures_is_not_a_match() -> None:
    pictures = [_small(Image.fromarray(samples.astronaut())), _small(SMALL_PICTURES["coffee"]()),
                _small(Image.fromarray(samples.chelsea())), _small(SMALL_PICTURES["logo"]()),
                _small(Image.fromarray(samples.rocket())),
                _small(SMALL_PICTURES["immunohistochemistry"]())]  # fmt: skip
    stickered = [_regions_and_canvas(variants.sticker(im, 0.2, kind="badge", x=0.8, y=0.8,
                                                      color=(220, 30, 90)).image)
                 for im in pictures]  # fmt: skip
    for i, (query, canvas) in enumerate(stickered):
        for j, (target, _) in enumerate(stickered):
            if i != j:
                assert confirm(query, target, [], canvas, canvas_is_query=True) is None


def test_grid_regions_only_add_to_anchored_agreement() -> None:
    """Grid squares on bare edges and gradients agree across different pictures: they
    never make a match alone, nor a second region of a two-region match."""
    from haechi.match.regions import Evidence, Pair

    p = Pair((0.2, 0.2, 0.1), (0.2, 0.2, 0.1), 5)
    two = (p, p)
    assert Evidence(two, 0, 10, anchored=2, anchored_disagree=0).holds()
    assert not Evidence(two, 0, 10, anchored=1, anchored_disagree=0).holds()
    assert not Evidence((p, p, p, p), 0, 10, anchored=0, anchored_disagree=0).holds()
    # one anchored region and two grid regions: as many as three anchored would be
    assert Evidence((p, p, p), 6, 20, anchored=1, anchored_disagree=2).holds()
    assert not Evidence((p, p, p), 7, 20, anchored=1, anchored_disagree=2).holds()
    # the anchored regions alone decide as before, whatever the grid squares show
    assert Evidence(two, 9, 20, anchored=2, anchored_disagree=0).holds()


@pytest.mark.parametrize("name", sorted(SMALL_PICTURES))
def test_caption_text_across_a_small_picture_is_found(name: str) -> None:
    """Caption text over a fifth of a 125-pixel picture touches most of its regions (a
    fifth to two fifths of its side): they differ, but one overlay box explains them and
    the regions outside it agree (``haechi.match.overlay``)."""
    im = _small(SMALL_PICTURES[name]())
    target, _ = _regions_and_canvas(im)
    query, canvas = _regions_and_canvas(variants.caption_text(im, 0.2, "full video").image)
    found = confirm(query, target, [], canvas, canvas_is_query=True)
    assert found is not None and len(found.pairs) >= 3
    said = found.as_dict()
    assert said["stage"] == "region"
    if found.overlay is not None:  # the match says where the overlay was set aside
        assert said["overlay"]["picture"] in ("query", "target")  # type: ignore[index]
        assert found.reversed().overlay[0] != found.overlay[0]  # type: ignore[index]


def test_small_pictures_index_more_and_smaller_regions() -> None:
    from haechi.analyze.hashes import regions as rg

    small, _ = _regions_and_canvas(_small(SMALL_PICTURES["coffee"]()))
    large, _ = _regions_and_canvas(SMALL_PICTURES["coffee"]())
    assert rg.INDEXED < small.indexed <= rg.SMALL_INDEXED
    assert large.indexed <= rg.INDEXED
    shortest = min(small.width, small.height)
    assert min(r.side for r in small.regions) < 0.2 * shortest


def _grid_seeds(query: RegionHashes, target: RegionHashes) -> list[tuple[int, int, int]]:
    """(query region, target region, bits) the region index gives, built from the target's
    rows as ``haechi.match.index`` builds them and probed as ``region_search`` probes."""
    from haechi.match.regions import SEED_RADIUS

    seeds, rows = index_seeds(query, target, SEED_RADIUS, target_id=7)
    assert rows.aux == list(target.index_positions) and set(rows.ids) == {7}
    return seeds


@pytest.mark.parametrize("name", sorted(SMALL_PICTURES))
def test_a_sticker_on_a_small_picture_is_seeded_by_its_grid_squares(name: str) -> None:
    """Regions version 5: the grid squares a sticker leaves alone are where the original's
    are, and both are in the lookup (the query's) and the index (the original's), so the
    index proposes the original through them; those seeds alone lead to the match."""
    im = _small(SMALL_PICTURES[name]())
    target, _ = _regions_and_canvas(im)
    query, canvas = _regions_and_canvas(variants.sticker(im, 0.2, x=0.3, y=0.7).image)
    seeds = _grid_seeds(query, target)
    grid = [(i, j, b) for i, j, b in seeds if i >= query.anchored and j >= target.anchored]
    assert len(grid) >= 2
    found = confirm(query, target, grid, canvas, canvas_is_query=True)
    assert found is not None and len(found.pairs) >= 3


def test_grid_squares_of_different_small_pictures_seed_nothing_that_matches() -> None:
    """Indexing grid squares must not make every smooth corner a candidate: different
    small pictures share no seed; carrying the same sticker, their grid squares on it
    agree (a candidate), and the check on the pixels turns it down."""
    names = ("astronaut", "chelsea", "rocket", "coffee", "camera")
    pictures = [_small(Image.fromarray(np.asarray(getattr(samples, n)())).convert("RGB"))
                for n in names]  # fmt: skip
    plain = [_regions_and_canvas(im)[0] for im in pictures]
    badge = [_regions_and_canvas(variants.sticker(im, 0.2, kind="badge", x=0.8, y=0.8,
                                                  color=(220, 30, 90)).image)
             for im in pictures]  # fmt: skip
    shared = 0
    for i in range(len(names)):
        for j in range(len(names)):
            if i == j:
                continue
            assert not _grid_seeds(plain[i], plain[j]), (names[i], names[j])
            (query, canvas), (target, _) = badge[i], badge[j]
            seeds = _grid_seeds(query, target)
            shared += bool(seeds)
            assert confirm(query, target, seeds, canvas, canvas_is_query=True) is None
    assert shared  # the test has a shared sticker to turn down
