"""The region index of one stored picture, built from its rows as ``haechi.match.index``
builds them (``region_rows``) and probed with a query's lookups as ``region_search`` probes
it (``search_many`` with ``SEED_FLIPS``): the seeds a test then decides on; and a picture's
regions and pixels as the analyzer and the vault give them (``hashed``), a picture of
../shared/data (``shared``)."""

from __future__ import annotations

import io

import numpy as np
import orjson
import pytest
from PIL import Image
from tests.conftest import SHARED_DATA

from haechi.analyze.hashes.decode import FAST
from haechi.analyze.hashes.pdq import hash_picture
from haechi.analyze.hashes.regions import Canvas, RegionHashes
from haechi.match import variants
from haechi.match.index import _Rows, region_rows
from haechi.match.mih import Segment, hex_to_words
from haechi.match.region_search import canvas_of
from haechi.match.regions import SEED_FLIPS

Seed = tuple[int, int, int]  # (query region, target region, bits apart)


def index_seeds(
    query: RegionHashes, target: RegionHashes, radius: int, target_id: int = 7
) -> tuple[list[Seed], _Rows]:
    """(seeds within ``radius``, the index rows made for ``target``)."""
    rows = _Rows([], [], [])
    region_rows(rows, target_id, orjson.dumps({"regions": target.as_data()}).decode())
    if not rows.hexes or not query.lookups:
        return [], rows
    index = Segment.build(hex_to_words(rows.hexes), np.array(rows.ids, np.int64),
                          np.array(rows.aux, np.int32), m=16)  # fmt: skip
    qi, found, bits = index.search_many(hex_to_words([r.hex for r in query.lookups]), radius,
                                        SEED_FLIPS)  # fmt: skip
    seeds = [(int(i), int(index.aux[r]), int(b)) for i, r, b in zip(qi, found, bits, strict=True)]
    return seeds, rows


def hashed(im: Image.Image, quality: int = 95) -> tuple[RegionHashes, Canvas]:
    """Regions and pixels of a picture stored as a JPEG, as the analyzer makes them."""
    data = variants.jpeg_bytes(im, quality)
    regions = hash_picture(io.BytesIO(data), decode=FAST, regions=True)[0].regions
    canvas = canvas_of(data)
    assert regions is not None and canvas is not None
    return regions, canvas


def shared(relative: str) -> Image.Image:
    """A picture of ../shared/data (the test is skipped without it)."""
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip("no ../shared/data")
    with Image.open(path) as im:
        return im.convert("RGB")
