"""The face index against brute force, incrementally kept up with the database, persisted,
and rebuilt when it no longer mirrors it."""

from __future__ import annotations

import numpy as np
from sqlalchemy import update
from tests.faces.conftest import add_synthetic_faces, identities

from haechi.app import App
from haechi.match.face_hooks import after_analysis
from haechi.match.face_index import FaceIndex, build_index
from haechi.store.tables.faces import FaceRow


def brute(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    d = ((queries[:, None, :] - vectors[None, :, :]) ** 2).sum(axis=2)
    return np.argsort(d, axis=1)[:, :k]


def test_exact_and_inverted_indexes_agree_with_brute_force() -> None:
    vectors = identities(400, 5, seed=1)
    ids = np.arange(len(vectors), dtype=np.int64) + 1000
    queries = identities(400, 1, seed=1, spread=0.05)[:50]
    truth = brute(vectors, queries, 10) + 1000
    exact = build_index(vectors, ids)
    _, got = exact.search(queries, 10)
    assert (got == truth).all()
    ivf = build_index(vectors, ids, exact_limit=500)
    assert hasattr(ivf, "nprobe")
    _, got = ivf.search(queries, 10)
    recall = np.mean([len(set(g) & set(t)) / 10 for g, t in zip(got, truth, strict=True)])
    assert recall >= 0.9, recall  # past the person's own 5 pictures the top 10 is noise
    # What a search asks: every face within the threshold. That must not be lost.
    lims, _, found = ivf.range_search(queries, 0.55**2)
    lims_e, _, found_e = exact.range_search(queries, 0.55**2)
    for i in range(len(queries)):
        assert set(found[lims[i] : lims[i + 1]]) == set(found_e[lims_e[i] : lims_e[i + 1]])


def test_sync_is_incremental_persisted_and_rebuilds_on_mismatch(app: App) -> None:
    people = identities(6, 4, seed=2)
    add_synthetic_faces(app, people[:12], tag="a")
    index = FaceIndex.for_app(app)
    first = index.sync(app)
    assert first.rebuilt and first.total == 12
    add_synthetic_faces(app, people[12:], tag="b")
    second = FaceIndex.for_app(app).sync(app)
    assert not second.rebuilt and second.added == 12 and second.total == 24
    reloaded = FaceIndex.for_app(app)
    assert reloaded.load() and reloaded.total == 24
    (hits,) = reloaded.within(people[5:6], 0.01)
    assert len(hits) == 1 and hits[0].distance < 1e-3
    # Faces retired behind the index's back: the counts disagree, so it rebuilds.
    with app.db.begin() as conn:
        conn.execute(update(FaceRow).where(FaceRow.id <= 4).values(active=False))
    third = FaceIndex.for_app(app).sync(app)
    assert third.rebuilt and third.total == 20
    # A deleted index file is rebuilt too.
    (app.settings.index_dir / "faces" / "faces.faiss").unlink()
    assert FaceIndex.for_app(app).sync(app).total == 20


def test_the_hook_is_idempotent(app: App) -> None:
    add_synthetic_faces(app, identities(3, 3, seed=3))
    with app.db.connect() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM analyses").all()]
        before = conn.exec_driver_sql("SELECT count(*) FROM faces").scalar()
    after_analysis(app, ids)
    after_analysis(app, ids)
    with app.db.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM faces").scalar() == before == 9
    assert FaceIndex.for_app(app).sync(app).total == 9
