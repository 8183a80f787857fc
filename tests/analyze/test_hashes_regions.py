"""Anchored region hashes (``haechi.analyze.hashes.regions``): the box-resampled patch
buffer, the stored form, and the property the second matching stage rests on — a region
of a picture is found again, at the same place relative to the content and within a few
bits, in a crop or a bordered copy of it."""

from __future__ import annotations

import base64
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage import data as samples

from haechi.analyze.hashes import regions as rg
from haechi.analyze.hashes.pdqcore import hamming, luma_from_rgb
from haechi.match import variants

COFFEE = Image.fromarray(samples.coffee())


def _luma(im: Image.Image) -> np.ndarray:
    return luma_from_rgb(np.asarray(im.convert("RGB")))


@pytest.fixture(scope="module")
def coffee_regions() -> rg.RegionHashes:
    return rg.anchored_regions(_luma(COFFEE))


def test_an_aligned_patch_is_the_mean_of_its_pixels() -> None:
    canvas = rg.Canvas(_luma(COFFEE))  # 600 x 400 -> 512 x 341
    u = canvas.unit
    buf = canvas.buffer((90 + 64) / u, (100 + 64) / u, 128 / u)
    assert buf is not None
    expected = canvas.luma[100:228, 90:218].reshape(64, 2, 64, 2).mean(axis=(1, 3))
    assert np.abs(buf - expected).max() < 1e-3
    one = canvas.buffer((122 + 32) / u, (132 + 32) / u, 64 / u)
    assert one is not None and np.array_equal(one, canvas.luma[132:196, 122:186])


@settings(max_examples=30, deadline=None)
@given(x=st.floats(0.2, 0.8), y=st.floats(0.2, 0.45), side=st.floats(0.08, 0.3))
def test_a_patch_moves_smoothly_with_its_position(x: float, y: float, side: float) -> None:
    """Sub-pixel placement: moving a patch by a tenth of a pixel changes its buffer about
    a tenth as much as moving it by a whole pixel (no rounding to whole pixels)."""
    canvas = rg.Canvas(_luma(COFFEE))
    px = 1 / canvas.unit
    base = canvas.buffer(x, y, side)
    tenth, whole = canvas.buffer(x + px / 10, y, side), canvas.buffer(x + px, y, side)
    if base is None or tenth is None or whole is None:
        assert not canvas.inside(x + px, y, side)
        return
    small, large = np.abs(tenth - base).mean(), np.abs(whole - base).mean()
    assert small <= 0.2 * large + 1e-3


def test_patches_outside_or_too_small_are_refused() -> None:
    canvas = rg.Canvas(_luma(COFFEE))
    assert canvas.patch(0.02, 0.3, 0.1) is None  # sticks out on the left
    assert canvas.patch(0.5, 0.6, 0.2) is None  # below the bottom (height 0.67)
    assert canvas.patch(0.5, 0.3, 10 / canvas.unit) is None  # ten pixels


def test_stored_form_round_trips_and_rejects_damage(coffee_regions: rg.RegionHashes) -> None:
    data = coffee_regions.as_data()
    back = rg.RegionHashes.from_data(data)
    assert back is not None and back.indexed == coffee_regions.indexed
    for a, b in zip(coffee_regions.regions, back.regions, strict=True):
        assert a.hex == b.hex and a.quality == b.quality
        assert max(abs(a.x - b.x), abs(a.y - b.y), abs(a.side - b.side)) < 2e-5
    assert len(data["r"]) == 52 * len(coffee_regions)  # 39 bytes a region, base64
    torn = base64.b64encode(b"x" * 40).decode()  # not a whole number of regions
    for bad in ({**data, "v": 0}, {**data, "r": "not base64!"}, {**data, "w": 2.0},
                {**data, "r": torn}, None, [], "regions"):  # fmt: skip
        assert rg.RegionHashes.from_data(bad) is None
    too_many = base64.b64encode(base64.b64decode(data["r"]) * 3).decode()
    assert rg.RegionHashes.from_data({**data, "r": too_many}) is None


def test_regions_are_deterministic_and_indexed_ones_come_first(
    coffee_regions: rg.RegionHashes,
) -> None:
    again = rg.anchored_regions(_luma(COFFEE))
    assert again == coffee_regions
    assert 0 < coffee_regions.indexed <= rg.INDEXED < len(coffee_regions) <= rg.MAX_REGIONS
    w, h = coffee_regions.width, coffee_regions.height
    assert (w, h) == (1.0, pytest.approx(400 / 600, abs=0.01))
    central = [r for r in coffee_regions.regions[: coffee_regions.indexed]
               if rg._central(r, w, h)]  # fmt: skip
    assert len(central) >= min(rg.INDEX_CENTRAL, coffee_regions.indexed) - 1
    assert all(r.quality >= rg.QUALITY for r in coffee_regions.regions)
    assert len({r.hex for r in coffee_regions.regions}) == len(coffee_regions)


Mapping = Callable[[float, float, float], tuple[float, float, float]]


def _found_again(original: rg.RegionHashes, copy: rg.RegionHashes, to_copy: Mapping) -> int:
    """How many of the original's regions in view in the copy the copy has too, at the
    mapped place (centre within a fifth of the side) and within 31 bits (matching needs
    two, then checks the rest on the pixels)."""
    hits = 0
    for r in original.regions:
        x, y, side = to_copy(r.x, r.y, r.side)
        if not (side / 2 <= x <= copy.width - side / 2 and side / 2 <= y <= copy.height - side / 2):
            continue
        near = (
            c for c in copy.regions if abs(c.x - x) <= 0.2 * side and abs(c.y - y) <= 0.2 * side
        )
        hits += any(hamming(c.hex, r.hex) <= 31 for c in near)
    return hits


# Crops of up to 10 % a side keep at least three regions in place (three agreeing
# regions confirm a match). Beyond, the claim fails: 20 % off three sides and 10 % off the
# fourth leaves one (found by this test's search; the evaluation's recall at 20 % is in
# docs/accuracy.md), so the bound is not the variant generator's MAX_CROP.
CLAIMED_CROP = 0.1


@settings(max_examples=8, deadline=None)
@given(sides=st.tuples(*[st.floats(0.0, CLAIMED_CROP)] * 4))
def test_regions_survive_a_crop_at_the_same_place(
    coffee_regions: rg.RegionHashes, sides: tuple[float, float, float, float]
) -> None:
    v = variants.crop(COFFEE, *sides)
    copy = rg.anchored_regions(_luma(variants.reencode(v.image, 85).image))
    x0, y0, _, _ = v.source_box
    old, new = max(COFFEE.size), max(v.image.size)

    def to_copy(x: float, y: float, side: float) -> tuple[float, float, float]:
        return ((x * old - x0) / new, (y * old - y0) / new, side * old / new)

    assert _found_again(coffee_regions, copy, to_copy) >= 3


def test_regions_survive_borders_and_a_smaller_copy(coffee_regions: rg.RegionHashes) -> None:
    v = variants.pad(COFFEE, 0.15, 0.1, 0.05, 0.2, (255, 255, 255))
    bordered = rg.anchored_regions(_luma(variants.reencode(v.image, 80).image))
    x0, y0, _, _ = v.target_box
    old, new = max(COFFEE.size), max(v.image.size)

    def to_bordered(x: float, y: float, side: float) -> tuple[float, float, float]:
        return ((x * old + x0) / new, (y * old + y0) / new, side * old / new)

    assert _found_again(coffee_regions, bordered, to_bordered) >= 3
    small = rg.anchored_regions(_luma(variants.resize(COFFEE, 0.5).image))
    assert _found_again(coffee_regions, small, lambda x, y, s: (x, y, s)) >= 8


def test_another_picture_shares_no_region(coffee_regions: rg.RegionHashes) -> None:
    other = rg.anchored_regions(_luma(Image.fromarray(samples.astronaut())))
    closest = min(hamming(a.hex, b.hex) for a in coffee_regions.regions for b in other.regions)
    assert closest > 31


def test_every_region_is_kept_once(coffee_regions: rg.RegionHashes) -> None:
    crop = variants.crop(COFFEE, 0.1, 0.1, 0.1, 0.1).image
    for found in (coffee_regions, rg.anchored_regions(_luma(crop))):
        assert len(set(found.regions)) == len(found) <= rg.MAX_REGIONS


def _small(im: Image.Image, side: int = 125) -> Image.Image:
    f = side / min(im.size)
    return im.resize((round(im.width * f), round(im.height * f)), Image.Resampling.LANCZOS)


def test_a_small_picture_fills_its_free_places_with_grid_regions() -> None:
    """A 125-pixel picture has few keypoints large enough for a patch; the places left
    hold grid squares."""
    found = rg.anchored_regions(_luma(_small(COFFEE)))
    assert 0 < found.indexed <= found.anchored < len(found) <= rg.MAX_REGIONS
    short = min(found.width, found.height)
    grid = found.regions[found.anchored :]
    for r in grid:
        assert any(abs(r.side - share * short) < 1e-9 for share in rg.GRID_SIDES)
        x0, y0, x1, y1 = r.box()
        assert x0 >= -1e-9 and y0 >= -1e-9 and x1 <= found.width + 1e-9
        assert y1 <= found.height + 1e-9 and r.quality >= rg.QUALITY
    assert all(hamming(a.hex, b.hex) > rg.DUPLICATE_BITS
               for i, a in enumerate(found.regions) for b in found.regions[i + 1 :])  # fmt: skip
    # central squares first: they are the ones a crop leaves in view
    middle = [abs(r.x / found.width - 0.5) + abs(r.y / found.height - 0.5) for r in grid]
    assert middle[0] <= min(middle) + 1e-9


def test_grid_regions_only_where_keypoints_left_room(coffee_regions: rg.RegionHashes) -> None:
    assert coffee_regions.anchored == len(coffee_regions) == rg.MAX_REGIONS


def test_version_2_regions_are_still_read_as_all_anchored() -> None:
    """A bank item's regions cannot be made again (its picture was not kept): regions
    stored before grid regions existed are read as they were, every one anchored."""
    found = rg.anchored_regions(_luma(_small(COFFEE)))
    data = found.as_data()
    back = rg.RegionHashes.from_data(data)
    assert back is not None and back.anchored == found.anchored
    old = {k: v for k, v in data.items() if k != "a"} | {"v": 2}
    was = rg.RegionHashes.from_data(old)
    assert was is not None and was.anchored == len(was) == len(found)
    assert was.lookups == was.regions and was.indexed == found.indexed
    assert rg.RegionHashes.from_data({**data, "v": 1}) is None
    assert rg.RegionHashes.from_data({**data, "a": -5}) is None


def test_a_small_picture_gets_two_patch_sizes_a_keypoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under ``SMALL_SIDE`` pixels a keypoint gives a smaller patch too (some of which fit
    inside a 20 % crop); a larger picture's regions are the same either way."""
    small, large = _luma(_small(COFFEE)), _luma(COFFEE)
    both, big = rg.anchored_regions(small), rg.anchored_regions(large)
    monkeypatch.setattr(rg, "SMALL_FACTORS", (rg.SIZE_FACTOR,))
    one = rg.anchored_regions(small)
    assert both.anchored > one.anchored
    assert rg.anchored_regions(large) == big


def test_a_small_picture_indexes_its_central_grid_squares_and_looks_every_region_up(
    monkeypatch: pytest.MonkeyPatch, coffee_regions: rg.RegionHashes
) -> None:
    """Version 5: a sticker leaves the frame where it was, so a small picture's grid
    squares are indexed (the central ``SMALL_GRID_INDEXED`` first) and looked up too; a
    larger picture indexes and looks up its anchored regions only."""
    small = rg.anchored_regions(_luma(_small(COFFEE)))
    grid = len(small) - small.anchored
    assert grid > 0 and small.grid_indexed == min(grid, rg.SMALL_GRID_INDEXED) == grid
    assert small.index_positions == (*range(small.indexed), *range(small.anchored, len(small)))
    assert small.lookups == small.regions
    monkeypatch.setattr(rg, "SMALL_GRID_INDEXED", 3)  # the central ones first
    three = rg.anchored_regions(_luma(_small(COFFEE)))
    assert three.index_positions[-3:] == tuple(range(three.anchored, three.anchored + 3))
    assert coffee_regions.grid_indexed == 0
    assert coffee_regions.index_positions == tuple(range(coffee_regions.indexed))
    assert coffee_regions.lookups == coffee_regions.regions[: coffee_regions.anchored]
    monkeypatch.setattr(rg, "SMALL_GRID_INDEXED", 0)
    plain = rg.anchored_regions(_luma(_small(COFFEE)))
    assert plain.grid_indexed == 0 and plain.lookups == plain.regions[: plain.anchored]


def test_indexed_grid_squares_are_stored_and_older_versions_index_none() -> None:
    found = rg.anchored_regions(_luma(_small(COFFEE)))
    data = found.as_data()
    assert data["v"] == rg.VERSION == 6 and data["g"] == found.grid_indexed > 0
    back = rg.RegionHashes.from_data(data)
    assert back is not None and back.grid_indexed == found.grid_indexed
    assert back.index_positions == found.index_positions
    assert [r.hex for r in back.lookups] == [r.hex for r in found.regions]
    # version 4 (stored before grid squares were indexed): read as it was
    old = {k: v for k, v in data.items() if k != "g"} | {"v": 4}
    was = rg.RegionHashes.from_data(old)
    assert was is not None and was.grid_indexed == 0
    assert was.index_positions == tuple(range(found.indexed))
    assert [r.hex for r in was.lookups] == [r.hex for r in found.regions[: found.anchored]]
    assert rg.RegionHashes.from_data({**data, "g": -1}) is None
    assert rg.RegionHashes.from_data({**data, "g": "x"}) is None
    more = rg.RegionHashes.from_data({**data, "g": 999})  # no more than there are
    assert more is not None and more.grid_indexed == len(found) - found.anchored
