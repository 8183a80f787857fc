"""A picture looked up as a crop of a larger one (``haechi.match.uncropped``): a 20 % crop of
a picture of 256 pixels or more is searched for keypoints at another magnification than its
original was (2.4x for a 300-pixel picture, whose crop is under 256 pixels), so its own
regions may not seed the original; its regions found at the original's magnification do.
The crops are looked up as ``region_search`` looks a picture up (``_look_up``), and once
end to end through ``haechi match FILE`` against a bank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage import data as samples
from tests.match.region_index import hashed
from tests.match.test_strong_crops import _look_up

from haechi.analyze.hashes import regions as rg
from haechi.analyze.hashes.pdqcore import hamming
from haechi.app import App
from haechi.match import uncropped, variants
from haechi.match.bank_sources import add_files
from haechi.match.banks import create_bank
from haechi.match.lookup import match_file


def _sample(name: str, side: int) -> Image.Image:
    """A scikit-image sample picture rescaled to ``side`` pixels (longest side)."""
    im = Image.fromarray(np.asarray(getattr(samples, name)())).convert("RGB")
    f = side / max(im.size)
    return im.resize((round(im.width * f), round(im.height * f)), Image.Resampling.LANCZOS)


# 20 % crops the region stage missed before (no region of the crop's own within 31 bits of
# the original's indexed ones, nor a placement from a looser seed): the crops are 162-240
# pixels long, searched at 2.56x where their originals were at 0.8-1.2x.
MISSED_BEFORE = [("page", 318), ("page", 400), ("horse", 270)]


@pytest.mark.parametrize(("name", "side"), MISSED_BEFORE)
def test_a_20_percent_crop_of_a_picture_of_256_to_425_pixels_is_found(name: str, side: int) -> None:
    original = _sample(name, side)
    target, target_canvas = hashed(original)
    query, query_canvas = hashed(variants.crop(original, 0.2, 0.2, 0.2, 0.2).image, 88)
    assert query_canvas.unit < rg.SMALL_SIDE <= target_canvas.unit
    looked_up = uncropped.with_crop_regions(query, query_canvas)
    found = _look_up(looked_up, query_canvas, target, target_canvas)
    assert found is not None
    assert found.target_box == pytest.approx((0.2, 0.2, 0.8, 0.8), abs=0.05)


def test_haechi_match_finds_a_banked_picture_from_its_20_percent_crop(
    demo_app: App, tmp_path: Path
) -> None:
    """End to end: the bank holds the picture (hashed and forgotten), ``haechi match`` looks
    the crop up from disk, with its pixels."""
    original = _sample("page", 318)
    (tmp_path / "page.jpg").write_bytes(variants.jpeg_bytes(original, 95))
    create_bank(demo_app, "page 318")
    add_files(demo_app, "page 318", [tmp_path / "page.jpg"])
    crop = tmp_path / "crop.jpg"
    crop.write_bytes(variants.jpeg_bytes(variants.crop(original, 0.2, 0.2, 0.2, 0.2).image, 88))
    hits = [h for h in match_file(demo_app, crop).hits if h.bank_name == "page 318"]
    assert hits and hits[0].kind == "region"


@settings(max_examples=200, deadline=None)
@given(longest=st.integers(8, 4000), cut=st.floats(0.0, uncropped.MAX_CROP))
def test_the_magnification_is_the_originals_for_a_20_percent_crop(longest: int, cut: float) -> None:
    """A picture of ``c`` pixels is searched again at ``0.6 * DETECT_SIDE / c``: exactly the
    magnification of its original if it is a 20 % crop of a picture of SMALL_SIDE pixels
    or more, between its own and its original's for a lighter crop. Shorter than
    ``0.6 * SMALL_SIDE`` it can only be a crop of a small picture: nothing is added."""
    canvas = rg.Canvas(np.zeros((max(1, longest // 2), longest), np.float32))
    f = uncropped.magnification(canvas)
    if canvas.unit < 0.6 * rg.SMALL_SIDE:
        assert f is None
        return
    assert f == pytest.approx(0.6 * rg.DETECT_SIDE / canvas.unit)
    theirs = rg.DETECT_SIDE * (1 - 2 * cut) / canvas.unit  # its original's, were it a crop
    assert f * 0.999 <= theirs <= rg.DETECT_SIDE / canvas.unit * 1.001


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["astronaut", "chelsea", "coffee", "rocket", "page", "horse"]),
    side=st.integers(140, 700),
    cut=st.tuples(*[st.floats(0.0, 0.2)] * 4),
)
def test_crop_regions_are_added_to_the_lookups_only(
    name: str, side: int, cut: tuple[float, float, float, float]
) -> None:
    """The picture's own regions stay as they were, first; at most ``EXTRA_LOOKUPS`` are
    added to its anchored ones, each inside the picture, of the large picture's quality and
    patch size, not within ``DUPLICATE_BITS`` of another; what is indexed is unchanged."""
    query, canvas = hashed(variants.crop(_sample(name, side), *cut).image, 88)
    out = uncropped.with_crop_regions(query, canvas)
    own = query.regions[: query.anchored]
    extra = out.regions[len(own) : out.anchored]
    assert out.regions[: len(own)] == own
    assert out.regions[out.anchored :] == query.regions[query.anchored :]
    assert (out.indexed, out.grid_indexed) == (query.indexed, query.grid_indexed)
    assert [out.regions[i] for i in out.index_positions] == [
        query.regions[i] for i in query.index_positions
    ]
    assert set(query.lookups) <= set(out.lookups)
    assert len(extra) <= uncropped.EXTRA_LOOKUPS
    if canvas.unit < uncropped.MIN_SIDE:
        assert out == query
    for r in extra:
        assert canvas.inside(r.x, r.y, r.side) and r.quality >= rg.QUALITY
        assert r.side * canvas.unit >= canvas.min_patch - 0.01
        assert all(hamming(r.hex, k.hex) > rg.DUPLICATE_BITS for k in out.regions[: out.anchored]
                   if k is not r)  # fmt: skip
    assert uncropped.with_crop_regions(query, None) is query
