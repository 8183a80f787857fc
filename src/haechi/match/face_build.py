"""Building a large face index without holding the faces twice.

:meth:`haechi.match.face_index.FaceIndex.build` takes every vector as one array and FAISS
copies them into the index: at 10M faces that is 5 GB of array beside 5 GB of index.
Here the inverted file and the sketch are trained on samples read by face id (the same
rows ``build`` would pick, so the same index), then filled page by page from the
``faces`` table: the faces are held once, in the index. The range codes are derived from
the filled inverted file, list by list (:mod:`haechi.match.face_codes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.match import face_codes, face_faiss
from haechi.match import face_index as fi
from haechi.store.tables.faces import FaceRow

IN_CHUNK = 900  # ids a query names (every driver's bound-parameter limit is higher)


def stream_build(app: App, ids: np.ndarray) -> tuple[Any, Any, Any, dict[str, Any]]:
    """(inverted file, sketch, range codes, description) over the active faces ``ids``
    (sorted)."""
    n = len(ids)
    ivf_rows, sketch_rows = face_faiss.ivf_training_rows(n), face_faiss.sketch_training_rows(n)
    wanted = np.union1d(ids[ivf_rows], ids[sketch_rows])
    sample = vectors_of(app, wanted)
    index = face_faiss.empty_ivf(sample[np.searchsorted(wanted, ids[ivf_rows])], n)
    code_sample = sample[np.searchsorted(wanted, ids[sketch_rows])]
    sketch = face_faiss.empty_sketch(code_sample)
    del sample
    for page_ids, vectors in fi.FaceIndex._active(app):
        index.add_with_ids(vectors, page_ids)
        sketch.add_with_ids(vectors, page_ids)
    codes, error = face_codes.build_codes(index, code_sample)
    meta = {"format": fi.FORMAT, "model": codec.MODEL, "kind": "ivf", "trained_for": n}
    meta.update(face_faiss.ivf_meta(int(index.nlist), error))
    return index, sketch, codes, meta


def vectors_of(app: App, ids: np.ndarray) -> np.ndarray:
    """The embeddings of ``ids``, in that order."""
    found: dict[int, bytes] = {}
    with app.db.connect() as conn:
        for start in range(0, len(ids), IN_CHUNK):
            part = [int(i) for i in ids[start : start + IN_CHUNK]]
            for fid, emb in conn.execute(
                select(FaceRow.id, FaceRow.embedding).where(FaceRow.id.in_(part))
            ):
                found[int(fid)] = bytes(emb)
    return codec.stack([found[int(i)] for i in ids])
