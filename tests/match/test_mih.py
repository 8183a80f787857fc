"""Multi-index hashing: exactly the rows brute force finds, at every radius and chunk
layout; persistence, deltas and merges of a named index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from haechi.match.index import HashIndex, _Rows
from haechi.match.mih import (
    Segment,
    chunk_keys,
    chunk_layout,
    distances,
    flip_masks,
    hex_to_words,
    words_to_hex,
)


def _codes(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def _flip(code: np.ndarray, bits: np.ndarray) -> np.ndarray:
    out = code.copy()
    for b in bits:
        out[b // 64] ^= np.uint64(1) << np.uint64(63 - b % 64)
    return out


def _near(codes: np.ndarray, rng: np.random.Generator, count: int, hi: int) -> np.ndarray:
    picks = rng.integers(0, len(codes), count)
    return np.array(
        [_flip(codes[p], rng.choice(256, rng.integers(0, hi + 1), replace=False)) for p in picks]
    )


def test_hex_words_round_trip() -> None:
    hexes = ["00" * 32, "ff" * 32, "0123456789abcdef" * 4]
    words = hex_to_words(hexes)
    assert words.dtype == np.uint64 and words.shape == (3, 4)
    assert words_to_hex(words) == hexes
    assert int(words[2, 0]) == 0x0123456789ABCDEF


def test_chunks_cover_every_bit_once() -> None:
    for m in (11, 12, 16):
        layout = chunk_layout(m)
        assert sum(w for _, w in layout) == 256 and layout[0][0] == 0
        code = _codes(1, 1)
        value = int("".join(f"{int(w):064b}" for w in code[0]), 2)
        for start, width in layout:
            expected = (value >> (256 - start - width)) & ((1 << width) - 1)
            assert int(chunk_keys(code, start, width)[0]) == expected


def test_flip_masks_count() -> None:
    assert len(flip_masks(16, 1)) == 17 and len(flip_masks(23, 2)) == 1 + 23 + 253


@pytest.mark.parametrize("m", [None, 16, 12, 11])
@pytest.mark.parametrize("radius", [0, 8, 31, 40])
def test_search_equals_brute_force(m: int | None, radius: int) -> None:
    rng = np.random.default_rng(7 + radius)
    codes = _codes(6000, 11)
    seg = Segment.build(codes, np.arange(6000) * 3, np.zeros(6000), m=m)
    for q in _near(codes, rng, 40, 45):
        rows, dist = seg.search(q, radius)
        brute = np.flatnonzero(distances(codes, q) <= radius)
        assert rows.tolist() == brute.tolist()
        assert dist.tolist() == distances(codes[brute], q).tolist()


def test_small_segments_are_brute_force_and_empty_is_fine() -> None:
    assert Segment.build(_codes(10, 1), np.arange(10), np.zeros(10)).m == 0
    empty = Segment.build(np.empty((0, 4), np.uint64), np.empty(0), np.empty(0))
    rows, dist = empty.search(_codes(1, 2)[0], 31)
    assert rows.size == 0 and dist.size == 0


def test_named_index_persists_appends_and_merges(tmp_path: Path) -> None:
    codes = _codes(5000, 5)
    hexes = words_to_hex(codes)
    index = HashIndex(tmp_path / "t")
    index.replace(_Rows(hexes[:4000], list(range(4000)), [0] * 4000), {"checkpoint": 4000})
    index.append(_Rows(hexes[4000:4500], list(range(4000, 4500)), [1] * 500), {"checkpoint": 4500})
    reopened = HashIndex(tmp_path / "t")
    reopened.load()
    assert len(reopened) == 4500 and reopened.checkpoint == 4500
    assert len(reopened.delta) == 500  # still a delta: small next to the segment
    hit = reopened.search([hexes[4200]], 0)[0]
    assert [(h.id, h.aux, h.distance) for h in hit] == [(4200, 1, 0)]
    # a delta larger than an eighth of the segment (and than DELTA_MIN) is merged
    import haechi.match.index as index_module

    old = index_module.DELTA_MIN
    index_module.DELTA_MIN = 100
    try:
        reopened.append(
            _Rows(hexes[4500:], list(range(4500, 5000)), [2] * 500), {"checkpoint": 5000}
        )
    finally:
        index_module.DELTA_MIN = old
    assert len(reopened.delta) == 0 and len(reopened.segment) == 5000
    assert reopened.manifest["generation"] == 2
    files = {p.name for p in (tmp_path / "t").glob("*.npy")}
    assert all(name.startswith(("seg-2-", "delta-2-")) for name in files)  # old ones removed
    assert [h.id for h in reopened.search([hexes[10]], 0)[0]] == [10]


@pytest.mark.parametrize("n", [500, 20_000])
def test_search_many_finds_what_search_finds_and_fewer_flips_a_subset(n: int) -> None:
    rng = np.random.default_rng(n)
    codes = _codes(n, n)
    seg = Segment.build(codes, np.arange(n) + 10, np.arange(n, dtype=np.int32) % 7)
    queries = np.concatenate([_near(codes, rng, 40, 31), _codes(10, n + 1)])
    qi, rows, dist = seg.search_many(queries, 31)
    got = sorted(zip(qi.tolist(), rows.tolist(), dist.tolist(), strict=True))
    want = sorted(
        (i, int(r), int(d))
        for i, q in enumerate(queries)
        for r, d in zip(*seg.search(q, 31), strict=True)
    )
    assert got == want and len(got) >= 40
    assert all(d == int(np.bitwise_count(codes[r] ^ queries[i]).sum()) for i, r, d in got)
    qi0, rows0, _ = seg.search_many(queries, 31, flips=0)
    exact_chunks = set(zip(qi0.tolist(), rows0.tolist(), strict=True))
    assert exact_chunks <= {(i, r) for i, r, _ in got}
    if seg.m:  # a planted copy with a few bits flipped keeps a clean chunk
        close = np.array([_flip(codes[5], np.array([0, 70, 140, 210]))])
        _, rows1, _ = seg.search_many(close, 31, flips=0)
        assert 5 in rows1.tolist()


def test_a_segment_scanned_whole_is_searched_by_blocks_of_queries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many queries against a segment without tables (a delta of up to 50k rows) are
    compared a block at a time, so memory stays bounded; the hits are the same."""
    import haechi.match.mih as mih

    rng = np.random.default_rng(3)
    codes = _codes(3000, 3)
    seg = Segment.build(codes, np.arange(3000), np.zeros(3000, np.int32))
    assert not seg.m
    queries = np.concatenate([_near(codes, rng, 50, 31), _codes(20, 4)])
    whole = seg.search_many(queries, 31)
    monkeypatch.setattr(mih, "BRUTE_PAIRS", 7000)  # two queries a block
    blocks = seg.search_many(queries, 31)
    assert [a.tolist() for a in blocks] == [a.tolist() for a in whole] and len(whole[0]) >= 50
