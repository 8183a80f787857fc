"""Exact Hamming-radius search over 256-bit hashes: multi-index hashing in numpy.

The idea is python-threatexchange's (faiss ``IndexBinaryMultiHash``): cut every hash
into ``m`` chunks; two hashes within ``t`` bits agree to within ``t // m`` bits on at
least one chunk (if every chunk differed in more, the total would exceed ``t``). So a
query only looks at the buckets of its own chunks and of their neighbours within
``t // m`` bits, then checks the real distance of those candidates. Recall is 100 %
by construction, for any radius.

What differs from faiss: buckets are sorted arrays (CSR: offsets + a permutation)
rather than hash maps, so the structure is a few flat arrays that load with ``mmap``
and cost 4 bytes per hash and chunk; and ``m`` follows the size of the index (16
chunks of 16 bits below 500k hashes, 12 of 21-22 bits below 2M, 11 of 23-24 bits
beyond), which keeps the candidate count small at 10M (see bench/bench_match.py).

A segment is immutable. ``HashSegments`` pairs one such segment with a small
append-only "delta" searched by brute force; the owner merges the delta into a new
segment when it grows (``haechi.match.index``).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WORDS = 4  # 256 bits as four uint64, word 0 holding the first 16 hex digits
BRUTE_FORCE_BELOW = 4096  # smaller segments are scanned whole: no tables at all
BRUTE_PAIRS = 1 << 20  # (query, row) pairs compared at once when a segment is scanned whole
SERIAL_BUILD_ABOVE = 50_000_000  # rows; beyond, chunk tables are built one at a time
FORMAT = 1


def hex_to_words(hexes: Sequence[str]) -> np.ndarray:
    """(n, 4) uint64 from 64-hex-digit strings (big-endian, as printed)."""
    raw = bytes.fromhex("".join(hexes))
    return np.frombuffer(raw, dtype=">u8").reshape(-1, WORDS).astype(np.uint64)


def words_to_hex(words: np.ndarray) -> list[str]:
    raw = np.ascontiguousarray(words.astype(">u8")).tobytes()
    return [raw[i : i + 32].hex() for i in range(0, len(raw), 32)]


def distances(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    return np.bitwise_count(codes ^ query).sum(axis=1, dtype=np.int32)


def chunk_count(n: int) -> int:
    """Chunks for ``n`` hashes at radius 31 (measured in bench/bench_match.py).

    16 chunks of 16 bits probe 17 buckets each, but the buckets fill as ``n`` grows
    (15 hashes each at 1M, 150 at 10M). 12 or 11 chunks of 21-24 bits probe ~3,000
    two-bit neighbourhoods and keep about one hash per bucket, at a fixed cost of
    2^21-2^24 table entries per chunk (470 MB for 11 chunks), which small indexes
    should not pay."""
    if n < 500_000:
        return 16
    return 12 if n < 2_000_000 else 11


def chunk_layout(m: int) -> list[tuple[int, int]]:
    """(first bit, width) of each of ``m`` chunks, as even as 256 bits allow."""
    base, extra = divmod(256, m)
    layout, start = [], 0
    for i in range(m):
        width = base + (1 if i < extra else 0)
        layout.append((start, width))
        start += width
    return layout


def _chunk_of(codes: np.ndarray, shift: int, width: int) -> np.ndarray:
    """``chunk_keys`` given the chunk's right shift (``256 - start - width``), as int64."""
    return chunk_keys(codes, 256 - shift - width, width).astype(np.int64)


def chunk_keys(codes: np.ndarray, start: int, width: int) -> np.ndarray:
    """The ``width``-bit value of bits ``[start, start + width)`` of every hash."""
    word, offset = divmod(start, 64)
    if offset + width <= 64:
        shift = np.uint64(64 - offset - width)
        return (codes[:, word] >> shift) & np.uint64((1 << width) - 1)
    high_bits = 64 - offset
    low_bits = width - high_bits
    high = codes[:, word] & np.uint64((1 << high_bits) - 1)
    low = codes[:, word + 1] >> np.uint64(64 - low_bits)
    return (high << np.uint64(low_bits)) | low


@functools.lru_cache(maxsize=64)
def flip_masks(width: int, radius: int) -> np.ndarray:
    """Every ``width``-bit mask with at most ``radius`` bits set."""
    masks = [0]
    for r in range(1, radius + 1):
        for bits in itertools.combinations(range(width), r):
            masks.append(sum(1 << b for b in bits))
    return np.array(masks, dtype=np.uint64)


@dataclass(frozen=True)
class _Masks:
    values: np.ndarray  # every chunk's flip masks, concatenated
    counts: np.ndarray  # how many belong to each chunk
    table_base: np.ndarray  # per mask: where its chunk's offsets start


@functools.lru_cache(maxsize=64)
def _probe_plan(
    m: int, flips: int, offset_base: tuple[int, ...], n: int
) -> tuple[_Masks, np.ndarray, list[tuple[int, int]]]:
    """What a query of this layout probes: masks per chunk, where each probe's rows sit
    in ``perm`` (chunk c's rows start at c * n), and each chunk's (shift, width)."""
    layout = chunk_layout(m)
    per_chunk = [flip_masks(width, flips).astype(np.int64) for _, width in layout]
    counts = np.array([len(x) for x in per_chunk], dtype=np.int64)
    values = np.concatenate(per_chunk)
    table_base = np.repeat(np.array(offset_base, dtype=np.int64), counts)
    bases = np.repeat(np.arange(m, dtype=np.int64) * n, counts)
    shifts = [(256 - start - width, width) for start, width in layout]
    return _Masks(values, counts, table_base), bases, shifts


@dataclass
class Segment:
    """Immutable hashes with their ids (``aux``: a second integer, e.g. a frame)."""

    codes: np.ndarray  # (n, 4) uint64
    ids: np.ndarray  # (n,) int64
    aux: np.ndarray  # (n,) int32
    m: int = 0  # 0: brute force
    offsets: np.ndarray | None = None  # concatenated bucket offsets of every chunk
    perm: np.ndarray | None = None  # concatenated rows sorted by each chunk's key
    offset_base: tuple[int, ...] = ()

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @classmethod
    def build(
        cls, codes: np.ndarray, ids: np.ndarray, aux: np.ndarray, m: int | None = None
    ) -> Segment:
        n = int(codes.shape[0])
        codes = np.ascontiguousarray(codes, dtype=np.uint64).reshape(n, WORDS)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        aux = np.ascontiguousarray(aux, dtype=np.int32)
        if m is None and n < BRUTE_FORCE_BELOW:
            return cls(codes, ids, aux)
        m = m or chunk_count(n)
        row_type = np.int32 if n < 2**31 else np.int64
        layout = chunk_layout(m)
        base = [0]
        for _, width in layout[:-1]:
            base.append(base[-1] + (1 << width) + 1)
        # Each chunk's table is written into its slice of one array (no concatenation:
        # at 100M rows a second copy of the tables would not fit beside the first).
        offsets = np.empty(base[-1] + (1 << layout[-1][1]) + 1, dtype=row_type)
        perm = np.empty(m * n, dtype=row_type)

        def table(c: int) -> None:
            start, width = layout[c]
            keys = chunk_keys(codes, start, width).astype(np.uint32)
            counts = np.bincount(keys, minlength=1 << width)
            offsets[base[c]] = 0
            np.cumsum(counts, out=offsets[base[c] + 1 : base[c] + 2 + (counts.size - 1)])
            del counts
            # Order inside a bucket does not matter: the fast unstable sort will do.
            perm[c * n : (c + 1) * n] = np.argsort(keys)

        # numpy sorts without the GIL: one thread per core builds the chunks' tables
        # (one at a time for very large segments, to bound the sort's temporary memory).
        threads = 1 if n > SERIAL_BUILD_ABOVE else min(len(layout), os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=max(1, threads)) as ex:
            list(ex.map(table, range(m)))
        return cls(codes, ids, aux, m, offsets, perm, tuple(base))

    def search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows within ``radius`` bits of ``query`` ((4,) uint64), with their distances."""
        n = len(self)
        if n == 0:
            return np.empty(0, np.int64), np.empty(0, np.int32)
        if not self.m:
            d = distances(self.codes, query)
            rows = np.flatnonzero(d <= radius)
            return rows, d[rows]
        assert self.offsets is not None and self.perm is not None
        masks, bases, shifts = _probe_plan(self.m, radius // self.m, self.offset_base, n)
        value = int.from_bytes(query.astype(">u8").tobytes(), "big")
        keys = np.array(
            [(value >> shift) & ((1 << width) - 1) for shift, width in shifts], dtype=np.int64
        )
        probes = np.repeat(keys, masks.counts) ^ masks.values
        slots = probes + masks.table_base
        lo = self.offsets[slots].astype(np.int64)
        len_all = self.offsets[slots + 1].astype(np.int64) - lo
        start_all = lo + bases
        total = int(len_all.sum())
        if total == 0:
            return np.empty(0, np.int64), np.empty(0, np.int32)
        ends = np.cumsum(len_all)
        positions = np.arange(total, dtype=np.int64) + np.repeat(
            start_all - (ends - len_all), len_all
        )
        candidates = self.perm[positions]
        d = distances(self.codes[candidates], query)
        keep = d <= radius
        rows, first = np.unique(candidates[keep], return_index=True)
        return rows.astype(np.int64), d[keep][first]

    def search_many(
        self, queries: np.ndarray, radius: int, flips: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``search`` for many queries ((q, 4) uint64) in one vectorised pass: (query
        number, row, distance) of every hit within ``radius``.

        ``flips``: probe only the buckets within this many bits of each chunk instead of
        ``radius // m``. Then a hit needs one chunk that close, and recall is no longer
        100 % by construction: the region stage probes exact chunks only (``flips=0``:
        11-16 probes instead of ~3,000) because a re-post shares several regions with its
        original and one of them nearly always has a clean chunk (measured in
        ``eval/eval_repost.py``)."""
        queries = np.ascontiguousarray(queries, dtype=np.uint64).reshape(-1, WORDS)
        empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32))
        n, q = len(self), len(queries)
        if n == 0 or q == 0:
            return empty
        if not self.m:
            # A block of queries against every row at a time (memory stays ~10 MB), word
            # by word: ten times faster than summing a (q, n, 4) array's last axis.
            columns = np.ascontiguousarray(np.asarray(self.codes).T)
            block = max(1, BRUTE_PAIRS // n)
            found: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
            for start in range(0, q, block):
                part = queries[start : start + block]
                d = np.bitwise_count(part[:, 0, None] ^ columns[0][None, :]).astype(np.int32)
                for word in range(1, WORDS):
                    d += np.bitwise_count(part[:, word, None] ^ columns[word][None, :])
                qi, rows = np.nonzero(d <= radius)
                found[0].append(qi.astype(np.int64) + start)
                found[1].append(rows.astype(np.int64))
                found[2].append(d[qi, rows])
            return np.concatenate(found[0]), np.concatenate(found[1]), np.concatenate(found[2])
        assert self.offsets is not None and self.perm is not None
        per_chunk = radius // self.m if flips is None else min(flips, radius // self.m)
        masks, bases, shifts = _probe_plan(self.m, per_chunk, self.offset_base, n)
        keys = np.stack([_chunk_of(queries, shift, width) for shift, width in shifts], axis=1)
        probes = np.repeat(keys, masks.counts, axis=1) ^ masks.values[None, :]  # (q, probes)
        slots = (probes + masks.table_base[None, :]).ravel()
        lo = self.offsets[slots].astype(np.int64)
        lengths = self.offsets[slots + 1].astype(np.int64) - lo
        starts = lo + np.tile(bases, q)
        total = int(lengths.sum())
        if total == 0:
            return empty
        ends = np.cumsum(lengths)
        positions = np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)
        candidates = self.perm[positions]
        owner = np.repeat(np.repeat(np.arange(q, dtype=np.int64), len(masks.values)), lengths)
        d = np.bitwise_count(self.codes[candidates] ^ queries[owner]).sum(axis=1, dtype=np.int32)
        keep = np.flatnonzero(d <= radius)
        # a row can be reached through several chunks: one hit per (query, row)
        pair, first = np.unique(owner[keep] * n + candidates[keep], return_index=True)
        return pair // n, pair % n, d[keep][first]

    # -- files -----------------------------------------------------------------------------
    def save(self, folder: Path, prefix: str) -> dict[str, object]:
        """Write the arrays as ``.npy`` files (loadable with mmap); returns their manifest."""
        arrays = {"codes": self.codes, "ids": self.ids, "aux": self.aux}
        if self.m:
            assert self.offsets is not None and self.perm is not None
            arrays.update(offsets=self.offsets, perm=self.perm)
        files = {}
        for key, array in arrays.items():
            name = f"{prefix}-{key}.npy"
            _atomic_save(folder / name, array)
            files[key] = name
        return {"n": len(self), "m": self.m, "offset_base": list(self.offset_base), "files": files}

    @classmethod
    def load(cls, folder: Path, meta: dict[str, object], *, mmap: bool = True) -> Segment:
        files = meta["files"]
        assert isinstance(files, dict)

        def arr(key: str) -> np.ndarray:
            path = folder / str(files[key])
            if mmap:
                return np.load(path, mmap_mode="r", allow_pickle=False)
            return np.load(path, allow_pickle=False)

        m = int(str(meta["m"]))
        base = meta.get("offset_base") or []
        assert isinstance(base, list)
        if not m:
            return cls(arr("codes"), arr("ids"), arr("aux"))
        return cls(
            arr("codes"), arr("ids"), arr("aux"), m, arr("offsets"), arr("perm"),
            tuple(int(b) for b in base),
        )  # fmt: skip


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_json(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
