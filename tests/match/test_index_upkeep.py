"""The PDQ indexes kept current without full rebuilds (issue 18): read in pages, rows added
to the delta, rows removed as tombstones that no search returns, folded in at the next
merge; a stale bank index drops deleted rows without a new generation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from haechi.match import index as index_module
from haechi.match import index_upkeep
from haechi.match.index import DELTA_MIN, HashIndex, _Rows
from haechi.match.mih import words_to_hex


def _rows(n: int, seed: int, first_id: int) -> tuple[_Rows, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2**63, size=(n, 4), dtype=np.uint64)
    hexes = words_to_hex(codes)
    ids = list(range(first_id, first_id + n))
    return _Rows(list(hexes), ids, [0] * n), codes


def _near(codes: np.ndarray, flips: int, seed: int) -> list[str]:
    """Each hash with ``flips`` random bits changed (still within the search radius)."""
    rng = np.random.default_rng(seed)
    out = codes.copy()
    for row in out:
        for bit in rng.choice(256, flips, replace=False):
            row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return list(words_to_hex(out))


def test_removed_rows_are_never_found_and_go_at_the_merge(tmp_path: Path) -> None:
    index = HashIndex(tmp_path / "media-pdq")
    rows, codes = _rows(3000, 1, 1)
    index.replace(rows, {"checkpoint": 3000})
    queries = _near(codes[:50], 10, 2)
    found = index.search(queries, 31)
    assert [{h.id for h in hits} for hits in found] == [{i} for i in range(1, 51)]
    assert index.remove(np.arange(1, 21), {"checkpoint": 3000}) == 20
    assert index.remove(np.array([5, 99_999]), {"checkpoint": 3000}) == 0  # known or absent
    generation = index.manifest["generation"]
    reader = HashIndex(tmp_path / "media-pdq")  # another process reads the tombstones
    reader.load()
    for idx in (index, reader):
        hits = idx.search(queries, 31)
        assert [h.id for hits_ in hits[:20] for h in hits_] == []
        assert [{h.id for h in hs} for hs in hits[20:]] == [{i} for i in range(21, 51)]
        assert len(idx) == 2980
    assert index.manifest["generation"] == generation  # no rebuild
    # New rows go to the delta; tombstones stay until the delta is merged, then go.
    more, more_codes = _rows(DELTA_MIN + 10, 3, 3001)
    index.append(more, {"checkpoint": 3000 + DELTA_MIN + 10})
    assert index.manifest["generation"] == generation + 1 and "removed" not in index.manifest
    assert len(index) == 2980 + DELTA_MIN + 10 == len(index.segment)
    assert not any(index.search(queries[:20], 31))
    assert {h.id for h in index.search(_near(more_codes[:1], 5, 4), 31)[0]} == {3001}


def test_many_removals_rebuild_the_segment_without_them(tmp_path: Path) -> None:
    index = HashIndex(tmp_path / "bank-pdq")
    rows, codes = _rows(400, 5, 1)
    index.replace(rows, {"checkpoint": 400})
    index_module_min = index_module.DELTA_MIN
    try:
        index_module.DELTA_MIN = 10  # the threshold, small for the test
        assert index.remove(np.arange(1, 101), {"checkpoint": 400}) == 100
    finally:
        index_module.DELTA_MIN = index_module_min
    assert "removed" not in index.manifest and len(index.segment) == 300 == len(index)
    assert not any(index.search(_near(codes[:100], 3, 6), 31))


def test_pages_give_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    rows, _codes = _rows(1000, 7, 10)

    def pages(app: object, name: str, after: int, limit: int | None) -> tuple[_Rows, int]:
        calls.append((after, limit))
        take = [i for i, rid in enumerate(rows.ids) if rid > after][: limit or None]
        if not take:
            return _Rows([], [], []), after
        part = _Rows([rows.hexes[i] for i in take], [rows.ids[i] for i in take],
                     [rows.aux[i] for i in take])  # fmt: skip
        return part, part.ids[-1]

    monkeypatch.setattr(index_upkeep, "PAGE_ROWS", 300)
    monkeypatch.setattr(index_module, "_source_rows", pages)
    arrays, last = index_upkeep.read_after(object(), "media-pdq", 0)  # type: ignore[arg-type]
    assert last == 1009 and [a for a, _ in calls] == [0, 309, 609, 909, 1009]
    codes, ids, aux = arrays.arrays()
    want = rows.arrays()
    assert (codes == want[0]).all() and (ids == want[1]).all() and (aux == want[2]).all()
