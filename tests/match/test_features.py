"""Local-feature confirmation of region candidates (``haechi.match.features``): a small
picture cropped by 20 % or stickered, which the region hashes alone do not confirm, is
found when an index seed agrees with the placement; the same sticker or caption on
different pictures, unrelated pictures and turned copies are not."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage import data as samples
from tests.match.test_regions_matching import _regions_and_canvas

from haechi.analyze.hashes.regions import Region, RegionHashes
from haechi.app import App
from haechi.match import features, variants
from haechi.match.regions import confirm, hash_pairs


def _small(im: Image.Image, side: int = 125) -> Image.Image:
    f = side / min(im.size)
    return im.resize((round(im.width * f), round(im.height * f)), Image.Resampling.LANCZOS)


def _seeds(
    query: RegionHashes, target: RegionHashes, radius: int = 31
) -> list[tuple[int, int, int]]:
    """What an index lookup could return: anchored pairs within ``radius`` bits."""
    return [(p.query_index, p.target_index, p.bits)  # type: ignore[misc]
            for p in hash_pairs(query, target, radius)]  # fmt: skip


def _every_pair(query: RegionHashes, target: RegionHashes) -> list[tuple[int, int, int]]:
    """Seeds on every region pair: the seed rule then cannot be what refuses a match."""
    return [(i, j, 0) for i in range(query.anchored) for j in range(target.anchored)]


PICTURES = {
    "astronaut": lambda: Image.fromarray(samples.astronaut()),
    "chelsea": lambda: Image.fromarray(samples.chelsea()),
    "coffee": lambda: Image.fromarray(samples.coffee()),
    "rocket": lambda: Image.fromarray(samples.rocket()),
}


@pytest.mark.parametrize("name", sorted(PICTURES))
def test_a_20_percent_crop_of_a_small_picture_is_confirmed_by_local_features(name: str) -> None:
    im = _small(PICTURES[name](), 160)
    target, target_canvas = _regions_and_canvas(im)
    query, query_canvas = _regions_and_canvas(variants.crop(im, 0.2, 0.2, 0.2, 0.2).image)
    found = features.confirm_features(query, target, _every_pair(query, target), query_canvas,
                                      target_canvas)  # fmt: skip
    assert found is not None and found.features >= features.MIN_INLIERS
    # the placement: the crop's longest side is 0.6 of the original's, the part in view
    # starts at 20 % of each side
    w, h = im.size
    assert found.transform.scale == pytest.approx(max(w, h) / (0.6 * max(w, h)), rel=0.05)
    assert found.target_box == pytest.approx((0.2, 0.2, 0.8, 0.8), abs=0.03)
    said = found.as_dict()
    assert said["stage"] == "region" and said["features"] == found.features
    assert found.reversed().features == found.features


def test_without_an_agreeing_seed_local_features_decide_nothing() -> None:
    im = _small(PICTURES["chelsea"](), 160)
    target, target_canvas = _regions_and_canvas(im)
    query, query_canvas = _regions_and_canvas(variants.crop(im, 0.2, 0.2, 0.2, 0.2).image)
    assert features.confirm_features(query, target, [], query_canvas, target_canvas) is None
    # a seed that lands elsewhere than the placement puts it does not count either
    far = [(i, j, 5) for i, j, _ in _every_pair(query, target)
           if abs(query.regions[i].x - 0.5) < 0.1 and target.regions[j].x < 0.15]  # fmt: skip
    assert features.confirm_features(query, target, far, query_canvas, target_canvas) is None


SHARED = [
    lambda im: variants.sticker(im, 0.2, kind="badge", x=0.8, y=0.8, color=(220, 30, 90)).image,
    lambda im: variants.caption_bar(im, 0.15, "t.me/some_channel").image,
    lambda im: variants.caption_text(im, 0.12, "@some_channel", x=0.5, y=0.95).image,
]


@pytest.mark.parametrize("overlay", range(len(SHARED)))
def test_the_same_overlay_on_different_pictures_is_not_a_match(overlay: int) -> None:
    """They match on the sticker, bar or text, in one overlay-sized box on both pictures;
    even with every region pair as a seed, that is not a re-post."""
    pictures = [_small(make(), side) for make in PICTURES.values() for side in (125, 300)]
    marked = [_regions_and_canvas(SHARED[overlay](im)) for im in pictures]
    for i, (query, query_canvas) in enumerate(marked):
        for j, (target, target_canvas) in enumerate(marked):
            if i // 2 != j // 2:  # not the same picture at another size
                assert features.confirm_features(query, target, _every_pair(query, target),
                                                 query_canvas, target_canvas) is None  # fmt: skip


def test_unrelated_and_turned_pictures_are_not_confirmed() -> None:
    pictures = [_small(make(), 200) for make in PICTURES.values()]
    hashed = [_regions_and_canvas(im) for im in pictures]
    for i, (query, query_canvas) in enumerate(hashed):
        for j, (target, target_canvas) in enumerate(hashed):
            if i != j:
                assert features.confirm_features(query, target, _every_pair(query, target),
                                                 query_canvas, target_canvas) is None  # fmt: skip
    # turned by 10 degrees: many matches agree, but re-posts are not turned by small angles
    im = pictures[0]
    turned = im.rotate(10, resample=Image.Resampling.BICUBIC, expand=False)
    (query, query_canvas), (target, target_canvas) = _regions_and_canvas(turned), hashed[0]
    assert features.placement(features.features_of(query_canvas),
                              features.features_of(target_canvas)) is None  # fmt: skip


def test_the_index_seeds_a_stickered_small_picture_that_local_features_confirm() -> None:
    """End to end on one 125-pixel picture: the region check alone fails on a large
    sticker, an index seed exists, and the local features confirm it."""
    im = _small(PICTURES["astronaut"](), 125)
    target, target_canvas = _regions_and_canvas(im)
    query, query_canvas = _regions_and_canvas(variants.sticker(im, 0.25, x=0.1, y=0.2).image)
    seeds = _seeds(query, target)
    assert seeds
    found = confirm(query, target, seeds, query_canvas, canvas_is_query=True)
    if found is None:  # what this stage is for
        found = features.confirm_features(query, target, seeds, query_canvas, target_canvas)
    assert found is not None


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 0.2), st.floats(0.0, 0.2), st.floats(0.0, 0.2), st.floats(0.0, 0.2))
def test_the_placement_of_a_crop_is_where_the_crop_was_taken(
    left: float, top: float, right: float, bottom: float
) -> None:
    im = _small(PICTURES["coffee"](), 200)
    target_canvas = _regions_and_canvas(im)[1]
    cut = variants.crop(im, left, top, right, bottom)
    query_canvas = _regions_and_canvas(cut.image)[1]
    found = features.placement(features.features_of(query_canvas),
                               features.features_of(target_canvas))  # fmt: skip
    assert found is not None
    # target (original) units -> query (crop) units: scale by the ratio of longest sides
    w, h = im.size
    scale = max(w, h) / max(cut.image.size)
    assert found.scale == pytest.approx(scale, rel=0.03)
    x0, y0 = cut.source_box[:2]
    unit = max(cut.image.size)
    assert found.dx == pytest.approx(-x0 / unit, abs=0.02)
    assert found.dy == pytest.approx(-y0 / unit, abs=0.02)
    assert abs(found.angle) <= features.MAX_ANGLE


def test_matches_inside_one_overlay_box_are_not_spread() -> None:
    rng = np.random.default_rng(3)
    corner = rng.uniform(0.7, 0.95, (40, 2))  # a sticker's box in a corner
    assert features.outside_overlay(corner, 1.0, 1.0) == 0
    band = np.column_stack([rng.uniform(0, 1, 40), rng.uniform(0.9, 1.0, 40)])  # a bar
    assert features.outside_overlay(band, 1.0, 1.0) == 0
    everywhere = rng.uniform(0, 1, (40, 2))
    assert features.outside_overlay(everywhere, 1.0, 1.0) >= 15


def test_a_seed_agrees_only_where_the_placement_puts_it() -> None:
    target = RegionHashes(1.0, 1.0, (Region(0.5, 0.5, 0.2, "0" * 64, 90),
                                     Region(0.2, 0.2, 0.2, "0" * 64, 90)), 2, 2)  # fmt: skip
    # the query is the target's central 60 %: scale 1 / 0.6, shifted by -0.2 / 0.6
    s = 1 / 0.6
    query = RegionHashes(1.0, 1.0, (Region(0.5, 0.5, 0.2 * s, "0" * 64, 90),
                                    Region(0.5, 0.5, 0.2, "0" * 64, 90)), 2, 2)  # fmt: skip
    p = features.Placement(s, 0.0, -0.2 * s, -0.2 * s, 30, np.zeros((0, 2)), np.zeros((0, 2)))
    assert features.agreeing_seeds(p, query, target, [(0, 0, 3)]) == [(0, 0, 3)]
    assert features.agreeing_seeds(p, query, target, [(0, 1, 3)]) == []  # elsewhere
    assert features.agreeing_seeds(p, query, target, [(1, 0, 3)]) == []  # another size
    assert features.agreeing_seeds(p, query, target, [(5, 0, 3)]) == []  # no such region
    # a turn moves where a seed must be
    turned = features.Placement(s, 2.0, -0.2 * s, -0.2 * s, 30, np.zeros((0, 2)), np.zeros((0, 2)))
    x = s * (math.cos(math.radians(2)) * 0.5 - math.sin(math.radians(2)) * 0.5) - 0.2 * s
    assert abs(x - 0.5) < features.SEED_PLACE * 0.2 * s
    assert features.agreeing_seeds(turned, query, target, [(0, 0, 3)]) == [(0, 0, 3)]


def test_a_stored_file_the_region_check_misses_is_confirmed_on_both_pictures_pixels(
    demo_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wiring in ``region_search``: with the region check made to fail, a 20 % crop of
    a stored photo is still found, by local features on the query's pixels and the stored
    file's (read from the vault), and the match says so."""
    import hashlib

    from haechi.demo.images import DemoAssets
    from haechi.match import region_search
    from haechi.match.lookup import hit_dict, match_file

    monkeypatch.setattr(region_search, "confirm", lambda *a, **k: None)
    assets = DemoAssets()
    with Image.open(io.BytesIO(assets.latte.data)) as im:
        crop = variants.crop(im.convert("RGB"), 0.2, 0.2, 0.2, 0.2).image
    probe = tmp_path / "probe.jpg"
    probe.write_bytes(variants.jpeg_bytes(crop, 88))
    latte = hashlib.sha256(assets.latte.data).hexdigest()
    found = [h for h in match_file(demo_app, probe).hits if h.target_blob_sha256 == latte]
    assert found and found[0].kind == "region"
    said = hit_dict(found[0])
    assert said["stage"] == "region"
    assert found[0].details["features"] >= features.MIN_INLIERS
    # and ``haechi match`` says so (a match the region hashes confirmed does not)
    from haechi.cli.match_cmd import describe_region

    said_cli = describe_region(found[0].details)
    assert f"confirmed by local features ({found[0].details['features']} matches" in said_cli
    plain = {k: v for k, v in found[0].details.items() if k != "features"}
    assert "local features" not in describe_region(plain)
    box = found[0].details["target_box"]
    assert all(abs(a - b) <= 0.04 for a, b in zip(box, (0.2, 0.2, 0.8, 0.8), strict=True))


def test_the_pixels_under_the_placement_agree_for_a_re_post_only() -> None:
    """A re-post differs from its original by re-encoding noise and one overlay; another
    picture laid on the same place differs in most cells."""
    im = _small(PICTURES["coffee"](), 200)
    _, original = _regions_and_canvas(im)
    same = features.Placement(1.0, 0.0, 0.0, 0.0, 30, np.zeros((0, 2)), np.zeros((0, 2)))
    _, copy = _regions_and_canvas(im)
    assert features.pixel_agreement(same, copy, original) >= 0.95
    _, stickered = _regions_and_canvas(variants.sticker(im, 0.25, x=0.2, y=0.3).image)
    assert features.pixel_agreement(same, stickered, original) >= features.PIXEL_SHARE
    other = _small(PICTURES["chelsea"](), 200).resize(im.size)
    _, different = _regions_and_canvas(other)
    assert features.pixel_agreement(same, different, original) < 0.3
    # a 20 % crop, placed where it was cut
    cut = variants.crop(im, 0.2, 0.2, 0.2, 0.2)
    _, part = _regions_and_canvas(cut.image)
    s = max(im.size) / max(cut.image.size)
    x0, y0 = cut.source_box[:2]
    placed = features.Placement(s, 0.0, -x0 / max(cut.image.size), -y0 / max(cut.image.size),
                                30, np.zeros((0, 2)), np.zeros((0, 2)))  # fmt: skip
    assert features.pixel_agreement(placed, part, original) >= 0.9


def test_two_aligned_photographs_of_one_face_are_not_a_re_post() -> None:
    """LFW's George_W_Bush_0029 and 0030: two photographs aligned by the data set to the
    same place and size; 24 SIFT matches agree on a placement, the pixels do not (the
    held-out half's two false matches before the pixel rule)."""
    from tests.conftest import SHARED_DATA

    folder = SHARED_DATA / "faces" / "lfw_subset" / "George_W_Bush"
    if not folder.is_dir():
        pytest.skip("no ../shared/data")
    with (
        Image.open(folder / "George_W_Bush_0030.jpg") as a,
        Image.open(folder / "George_W_Bush_0029.jpg") as b,
    ):
        query, query_canvas = _regions_and_canvas(variants.caption_bar(a, 0.15, "LOL").image)
        target, target_canvas = _regions_and_canvas(b.convert("RGB"))
    found = features.confirm_features(query, target, _every_pair(query, target), query_canvas,
                                      target_canvas)  # fmt: skip
    assert found is None


def test_a_crop_whose_matches_cluster_on_a_face_is_confirmed_by_its_pixels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """LFW's George_W_Bush_0041 (125 pixels) cropped by 20 % per side: its agreeing matches
    sit on the eyes, nose and mouth, inside one overlay-sized box on both pictures (not
    ``spread``), but every cell of the crop agrees with the original under the placement
    (``PIXEL_WHOLE``); without that allowance it is not confirmed."""
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / "faces" / "lfw_subset" / "George_W_Bush" / "George_W_Bush_0041.jpg"
    if not path.is_file():
        pytest.skip("no ../shared/data")
    with Image.open(path) as im:
        original = im.convert("RGB")
    target, target_canvas = _regions_and_canvas(original)
    crop = variants.crop(original, 0.2, 0.2, 0.2, 0.2).image
    query, query_canvas = _regions_and_canvas(crop)
    mine, theirs = features.features_of(query_canvas), features.features_of(target_canvas)
    p = features.placement(mine, theirs)
    assert p is not None and not features.spread(p, mine, theirs)
    agree, cells = features.pixel_cells(p, query_canvas, target_canvas)
    assert cells == features.PIXEL_GRID**2 and agree / cells >= features.PIXEL_WHOLE
    seeds = _every_pair(query, target)
    found = features.confirm_features(query, target, seeds, query_canvas, target_canvas)
    assert found is not None and found.features == p.inliers
    monkeypatch.setattr(features, "PIXEL_WHOLE", 1.01)
    assert features.confirm_features(query, target, seeds, query_canvas, target_canvas) is None


def test_pixels_that_agree_in_a_small_overlap_do_not_stand_for_spread() -> None:
    """The allowance needs half of the query's cells in the overlap: a placement that lays
    only a corner of the original on the query proves nothing by its pixels."""
    im = _small(PICTURES["coffee"](), 200)
    _, original = _regions_and_canvas(im)
    _, copy = _regions_and_canvas(im)
    whole = features.Placement(1.0, 0.0, 0.0, 0.0, 30, np.zeros((0, 2)), np.zeros((0, 2)))
    agree, cells = features.pixel_cells(whole, copy, original)
    assert cells == features.PIXEL_GRID**2 and agree >= 0.95 * cells
    # the original's top left quarter in the bottom right of a black picture, placed there
    w, h = im.size
    quarter = Image.new("RGB", im.size)
    quarter.paste(im.crop((0, 0, w // 2, h // 2)), (w - w // 2, h - h // 2))
    _, shown = _regions_and_canvas(quarter)
    unit = max(w, h)
    corner = features.Placement(1.0, 0.0, (w - w // 2) / unit, (h - h // 2) / unit, 30,
                                np.zeros((0, 2)), np.zeros((0, 2)))  # fmt: skip
    agree, cells = features.pixel_cells(corner, shown, original)
    assert 0 < cells < features.PIXEL_WHOLE_CELLS and agree >= 0.95 * cells


def test_a_mostly_flat_picture_under_a_shared_caption_bar_is_not_a_re_post() -> None:
    """C2PA's no_manifest.jpg and face_recognition's obama_and_biden.jpg under the same
    caption bar: the matches sit on the bar (not spread), and the pixel fit gives up on
    the mostly flat picture (gain 0: its offset alone "explains" every cell), so without
    the gain bound the pixels seemed to agree everywhere (the held-out half's
    shared-overlay test, with the ``PIXEL_WHOLE`` allowance: five false matches)."""
    from tests.conftest import SHARED_DATA

    from haechi.analyze.hashes.decode import FAST
    from haechi.analyze.hashes.pdq import hash_picture
    from haechi.match.region_search import canvas_of

    paths = (SHARED_DATA / "provenance" / "c2pa" / "c2pa-rs" / "no_manifest.jpg",
             SHARED_DATA / "faces" / "face_recognition" / "examples" / "knn_examples" / "test"
             / "obama_and_biden.jpg")  # fmt: skip
    if not all(p.is_file() for p in paths):
        pytest.skip("no ../shared/data")
    marked = []
    for path, quality in zip(paths, (85, 90), strict=True):  # as the evaluation's copies
        with Image.open(path) as im:
            picture = im.convert("RGB")
        f = min(1.0, 1280 / max(picture.size))
        picture = picture.resize((round(picture.width * f), round(picture.height * f)),
                                 Image.Resampling.LANCZOS)  # fmt: skip
        data = variants.jpeg_bytes(variants.caption_bar(picture, 0.15, "t.me/some_channel").image,
                                   quality)  # fmt: skip
        (h,) = hash_picture(io.BytesIO(data), decode=FAST, regions=True)
        canvas = canvas_of(data)
        assert h.regions is not None and canvas is not None
        marked.append((h.regions, canvas))
    (query, query_canvas), (target, target_canvas) = marked
    seeds = _every_pair(query, target)
    mine, theirs = features.features_of(query_canvas), features.features_of(target_canvas)
    p = features.placement(mine, theirs)
    assert p is not None and not features.spread(p, mine, theirs)
    assert features.agreeing_seeds(p, query, target, seeds)
    # the fit gives up (a gain of about 0): no cell counts, where all 64 "agreed" before
    assert features.pixel_cells(p, query_canvas, target_canvas) == (0, 0)
    assert features.confirm_features(query, target, seeds, query_canvas, target_canvas) is None


def test_pixels_agree_only_when_they_vary_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """A nearly flat picture (a photograph washed out to a twentieth of its contrast) laid
    on the photograph: the fit's gain is near 0, and with it every cell would "agree", the
    offset alone explaining it; outside ``PIXEL_GAIN`` no cell counts. A copy fits at 1."""
    im = _small(PICTURES["coffee"](), 200)
    _, original = _regions_and_canvas(im)
    rng = np.random.default_rng(5)
    faint = 0.05 * (np.asarray(im, np.float64) - np.asarray(im, np.float64).mean())
    flat = 128 + faint + rng.normal(0, 1.0, faint.shape)  # the photograph, nearly washed out
    _, blank = _regions_and_canvas(Image.fromarray(np.clip(flat, 0, 255).astype(np.uint8)))
    same = features.Placement(1.0, 0.0, 0.0, 0.0, 30, np.zeros((0, 2)), np.zeros((0, 2)))
    assert features.pixel_cells(same, blank, original) == (0, 0)
    monkeypatch.setattr(features, "PIXEL_GAIN", 1e6)  # without the bound, it all "agrees"
    agree, cells = features.pixel_cells(same, blank, original)
    assert cells == features.PIXEL_GRID**2 and agree >= 0.95 * cells
    monkeypatch.undo()
    _, copy = _regions_and_canvas(im)
    agree, cells = features.pixel_cells(same, copy, original)
    assert cells == features.PIXEL_GRID**2 and agree >= 0.95 * cells
