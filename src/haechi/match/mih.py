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
chunks of 16 bits up to a few million hashes, 11 chunks of 23–24 bits beyond), which
keeps the candidate count small at 10M (see bench/bench_match.py).

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WORDS = 4  # 256 bits as four uint64, word 0 holding the first 16 hex digits
BRUTE_FORCE_BELOW = 4096  # smaller segments are scanned whole: no tables at all
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
    """Chunks for ``n`` hashes at radius 31. 16 chunks of 16 bits probe 17 buckets each
    but the buckets fill up as ``n`` grows (150 hashes each at 10M); 12 or 11 chunks
    (21 or 23 bits, probing 2-bit neighbourhoods: ~3,000 buckets) keep about one hash
    per bucket there, at the price of 8–16M table entries per chunk."""
    if n <= 2_000_000:
        return 16
    return 12 if n <= 6_000_000 else 11


def chunk_layout(m: int) -> list[tuple[int, int]]:
    """(first bit, width) of each of ``m`` chunks, as even as 256 bits allow."""
    base, extra = divmod(256, m)
    layout, start = [], 0
    for i in range(m):
        width = base + (1 if i < extra else 0)
        layout.append((start, width))
        start += width
    return layout


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
        offsets, perms, base = [], [], [0]
        for start, width in chunk_layout(m):
            keys = chunk_keys(codes, start, width)
            counts = np.bincount(keys.astype(np.int64), minlength=1 << width)
            offsets.append(np.concatenate(([0], np.cumsum(counts))).astype(row_type))
            # Order inside a bucket does not matter: the fast unstable sort will do.
            perms.append(np.argsort(keys.astype(np.uint32)).astype(row_type))
            base.append(base[-1] + (1 << width) + 1)
        return cls(
            codes, ids, aux, m, np.concatenate(offsets), np.concatenate(perms), tuple(base[:-1])
        )

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
        flips = radius // self.m
        q = query.reshape(1, WORDS)
        starts, lengths = [], []
        for c, (start, width) in enumerate(chunk_layout(self.m)):
            key = chunk_keys(q, start, width)[0]
            probes = (key ^ flip_masks(width, flips)).astype(np.int64) + self.offset_base[c]
            lo = self.offsets[probes]
            hi = self.offsets[probes + 1]
            starts.append(lo.astype(np.int64) + c * n)
            lengths.append((hi - lo).astype(np.int64))
        start_all = np.concatenate(starts)
        len_all = np.concatenate(lengths)
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
