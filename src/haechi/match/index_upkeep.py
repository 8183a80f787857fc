"""Keeping the PDQ indexes current at tens of millions of rows, without full rebuilds.

* **Reading in pages.** A build or a catch-up reads the database ``PAGE_ROWS`` rows at a time
  and turns each page into arrays at once (32 bytes of hash, 8 of id, 4 of frame a row),
  never a list of ten million hex strings: 10M rows are ~440 MB of arrays, not ~2 GB of
  Python objects (``bench/bench_pg_index.py``).
* **Removing rows.** Rows deleted from the database (bank items removed, a bank deleted)
  become *tombstones*: ids the index still holds but no search returns, listed in a file
  beside the segment. A ``sync`` of an index marked stale compares the ids it holds with
  the database's and tombstones the missing ones, instead of rebuilding it (unless the
  database reused an id at or below the checkpoint, as SQLite does); tombstones are
  dropped for good when the delta is merged into a new segment, or when they outgrow
  ``DELTA_MIN`` rows or an eighth of the index (then the segment is rebuilt without them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select

from haechi.app import App
from haechi.store.models import Analysis, SignalRow
from haechi.store.tables.match import BankSignal

if TYPE_CHECKING:
    from haechi.match.index import HashIndex

PAGE_ROWS = 200_000
EMPTY_IDS = np.empty(0, np.int64)


class Arrays:
    """Rows already as arrays, read page by page (what ``HashIndex.replace`` and ``append``
    take, like ``index._Rows``)."""

    def __init__(self, codes: np.ndarray, ids: np.ndarray, aux: np.ndarray) -> None:
        self.codes, self.ids, self.aux = codes, ids, aux

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.codes, self.ids, self.aux


def read_after(app: App, name: str, after: int) -> tuple[Arrays, int]:
    """Every source row of index ``name`` with an id above ``after``, and the highest id
    read (``after`` when there is none)."""
    from haechi.match.index import _source_rows

    codes, ids, aux = [], [], []
    last = after
    while True:
        rows, nxt = _source_rows(app, name, last, PAGE_ROWS)
        if nxt == last:
            break
        c, i, a = rows.arrays()
        codes.append(c)
        ids.append(i)
        aux.append(a)
        last = nxt
    if not codes:
        empty = Arrays(np.empty((0, 4), np.uint64), EMPTY_IDS, np.empty(0, np.int32))
        return empty, after
    return Arrays(np.concatenate(codes), np.concatenate(ids), np.concatenate(aux)), last


def source_ids(app: App, name: str) -> np.ndarray:
    """The ids the database holds for index ``name`` now (sorted, unique)."""
    from haechi.match.index import BANK_PDQ, BANK_REGION, BANK_VPDQ, MEDIA_VPDQ

    with app.db.connect() as conn:
        if name in (BANK_PDQ, BANK_VPDQ, BANK_REGION):
            kind = "vpdq" if name == BANK_VPDQ else "pdq"
            q = select(BankSignal.id).where(BankSignal.kind == kind)
        else:
            kind = "vpdq" if name == MEDIA_VPDQ else "pdq"
            q = (
                select(SignalRow.id)
                .join(Analysis, Analysis.id == SignalRow.analysis_id)
                .where(SignalRow.kind == kind, Analysis.status == "ok")
            )
        found = np.fromiter(conn.execute(q).scalars(), dtype=np.int64)
    return np.unique(found)


def missing_ids(index: HashIndex, present: np.ndarray) -> np.ndarray | None:
    """Ids the index holds (and has not tombstoned) that ``present`` lacks; None when the
    index must be rebuilt instead: the database holds ids at or below the checkpoint that
    the index does not (SQLite gives a deleted row's id to the next row; a sync reads only
    above the checkpoint, and a tombstone would hide it)."""
    held = np.unique(
        np.concatenate([np.asarray(index.segment.ids), np.asarray(index.delta.ids)]).astype(
            np.int64
        )
    )
    below = present[present <= index.checkpoint]
    if len(np.setdiff1d(below, held, assume_unique=True)) or len(
        np.intersect1d(below, index.removed, assume_unique=True)
    ):
        return None
    gone = np.setdiff1d(held, present, assume_unique=True)
    return np.setdiff1d(gone, index.removed, assume_unique=True)


def keep_mask(ids: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """True for the rows whose id is not tombstoned."""
    if not len(removed):
        return np.ones(len(ids), dtype=bool)
    return ~np.isin(np.asarray(ids), removed)
