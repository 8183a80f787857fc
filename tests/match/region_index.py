"""The region index of one stored picture, built from its rows as ``haechi.match.index``
builds them (``region_rows``) and probed with a query's lookups as ``region_search`` probes
it (``search_many`` with ``SEED_FLIPS``): the seeds a test then decides on."""

from __future__ import annotations

import numpy as np
import orjson

from haechi.analyze.hashes.regions import RegionHashes
from haechi.match.index import _Rows, region_rows
from haechi.match.mih import Segment, hex_to_words
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
