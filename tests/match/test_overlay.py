"""The overlay allowance of the region check: one box of at most ``OVERLAY_BOX`` of a
picture explains the regions it touches, never disagreement spread over the picture, and
agreement inside the box does not count."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from haechi.match.overlay import OVERLAY_BOX, _boxes, hidden
from haechi.match.regions import Evidence, Pair


def test_every_box_tried_is_within_the_picture_and_one_overlay() -> None:
    b = _boxes()
    assert len(b) > 50
    assert (b[:, 0] >= 0).all() and (b[:, 1] >= 0).all()
    assert (b[:, 2] <= 1 + 1e-9).all() and (b[:, 3] <= 1 + 1e-9).all()
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    assert (area <= OVERLAY_BOX + 1e-9).all() and (area > 0.25).all()


def _lattice(n: int, side: float) -> np.ndarray:
    """n x n regions of ``side`` evenly over a unit square picture."""
    at = (np.arange(n) + 0.5) / n
    return np.array([(x, y, side) for y in at for x in at])


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 0.7), st.floats(0.0, 0.7), st.integers(0, 2**32 - 1))
def test_regions_under_one_small_overlay_are_all_explained(x: float, y: float, seed: int) -> None:
    """Whatever regions a sticker of a quarter of the side touches, one box explains them
    all, and the agreeing regions kept are those whose centres are outside it."""
    places = _lattice(8, 0.1)
    r = places[:, 2] / 2
    touched = ((places[:, 0] + r > x) & (places[:, 0] - r < x + 0.3)
               & (places[:, 1] + r > y) & (places[:, 1] - r < y + 0.3))  # fmt: skip
    rng = np.random.default_rng(seed)
    agree = ~touched & (rng.random(len(places)) < 0.5)
    anchored = rng.random(len(places)) < 0.5
    found = hidden(places, (1.0, 1.0), touched, agree, anchored)
    assert found.differ == int(touched.sum())
    assert found.box is not None
    x0, y0, x1, y1 = found.box
    assert (x1 - x0) * (y1 - y0) <= OVERLAY_BOX + 1e-9
    assert found.agree_outside <= int(agree.sum())
    assert found.agree_outside_anchored <= found.agree_outside


@settings(max_examples=30, deadline=None)
@given(st.integers(4, 9), st.floats(0.2, 0.5))
def test_disagreement_all_over_a_picture_is_not_one_overlay(n: int, size: float) -> None:
    """Regions that differ everywhere (another picture), at most half as wide as they are
    apart: one box touches only the regions within half a side of it, so at least a
    quarter stay held against a match. (Regions nearly as wide as their spacing are all
    touched by one box: the rule then rests on the agreement outside it.)"""
    places = _lattice(n, size / n)
    differ = np.ones(len(places), bool)
    found = hidden(places, (1.0, 1.0), differ, ~differ, differ)
    assert found.differ <= 0.75 * len(places)


def test_the_overlay_rule_needs_agreement_outside_the_box() -> None:
    from haechi.match.overlay import Hidden

    p = Pair((0.2, 0.2, 0.1), (0.2, 0.2, 0.1), 5)
    three = (p, p, p)
    # nine different regions, all under one caption: three agreeing outside it are enough
    covered = Hidden(differ=9, differ_anchored=3, agree_outside=3, agree_outside_anchored=1)
    assert Evidence(three, 9, 20, anchored=1, anchored_disagree=3, hidden=covered).holds()
    # ... not when the agreement is the overlay itself (the same sticker on two pictures)
    inside = Hidden(differ=9, differ_anchored=3, agree_outside=0, agree_outside_anchored=0)
    assert not Evidence(three, 9, 20, anchored=1, anchored_disagree=3, hidden=inside).holds()
    # ... nor on grid regions alone
    grid = Hidden(differ=9, differ_anchored=3, agree_outside=3, agree_outside_anchored=0)
    assert not Evidence(three, 9, 20, anchored=1, anchored_disagree=3, hidden=grid).holds()
    # ... nor when much is different outside the box too
    partly = Hidden(differ=2, differ_anchored=1, agree_outside=3, agree_outside_anchored=1)
    assert not Evidence(three, 9, 20, anchored=1, anchored_disagree=3, hidden=partly).holds()
    # ... nor when the agreement outside fits in one overlay box itself
    confined = replace(covered, confined=True)
    assert not Evidence(three, 9, 20, anchored=1, anchored_disagree=3, hidden=confined).holds()


def test_agreement_that_fits_in_one_overlay_is_confined() -> None:
    """The same sticker on two pictures: they agree on it (a cluster) and differ in a band
    elsewhere; the agreement outside the band still fits in one box, so it is confined.
    Agreement above and below a caption across the middle is not."""
    places = _lattice(6, 0.1)
    y = places[:, 1]
    band = (y > 0.6) & (y < 0.95)  # what differs
    sticker = (places[:, 0] > 0.55) & (places[:, 0] < 0.9) & (y > 0.2) & (y < 0.5)
    found = hidden(places, (1.0, 1.0), band, sticker, np.ones(len(places), bool))
    assert found.agree_outside == int(sticker.sum()) and found.confined
    middle = (y > 0.4) & (y < 0.6)
    spread = ~middle
    found = hidden(places, (1.0, 1.0), middle, spread, np.ones(len(places), bool))
    assert found.differ == int(middle.sum()) and not found.confined
    assert found.agree_outside == int(spread.sum())
