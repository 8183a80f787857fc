"""The face index against brute force, incrementally kept up with the database, persisted,
shared safely between threads, and rebuilt when it no longer mirrors the database."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from sqlalchemy import select, update
from tests.faces.conftest import add_synthetic_faces, identities

from haechi.app import App
from haechi.cli.face_cmd import index_mode
from haechi.match.face_hooks import after_analysis
from haechi.match.face_index import FORMAT, FaceIndex, build_index, range_nprobe
from haechi.store.tables.faces import FaceRow

RADIUS = 0.55


def distances2(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Brute force, in float64: ||q||^2 + ||x||^2 - 2 q.x for every pair."""
    v, q = vectors.astype(np.float64), queries.astype(np.float64)
    return (q**2).sum(axis=1)[:, None] + (v**2).sum(axis=1)[None, :] - 2.0 * q @ v.T


@pytest.fixture(scope="module")
def people() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """20,000 faces of 4,000 people (5 pictures each), ids not 0..n-1, and 200 queries that
    are new pictures of known people."""
    vectors = identities(4000, 5, seed=1)
    ids = np.arange(len(vectors), dtype=np.int64) * 3 + 1000
    queries = identities(4000, 1, seed=1)[::20]
    return vectors, ids, queries


@pytest.fixture(scope="module")
def ivf(
    people: tuple[np.ndarray, np.ndarray, np.ndarray], tmp_path_factory: pytest.TempPathFactory
) -> FaceIndex:
    vectors, ids, _ = people
    index = FaceIndex(tmp_path_factory.mktemp("ivf"))
    index.build(vectors, ids, exact_limit=2_000)
    return index


def test_exact_index_is_brute_force(people: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    vectors, ids, queries = people
    small, small_ids = vectors[:3000], ids[:3000]
    exact = build_index(small, small_ids)
    assert not hasattr(exact, "nprobe")
    _, got = exact.search(queries, 10)
    truth = small_ids[np.argsort(distances2(small, queries), axis=1)[:, :10]]
    assert (got == truth).all()


def test_inverted_file_finds_what_brute_force_finds(
    people: tuple[np.ndarray, np.ndarray, np.ndarray], ivf: FaceIndex
) -> None:
    vectors, ids, queries = people
    assert ivf.kind == "ivf" and ivf.sketch is not None
    nlist, nprobe = int(ivf.index.nlist), int(ivf.meta["nprobe"])
    assert nprobe == range_nprobe(nlist) and nlist > 4 * nprobe  # most cells are not read
    d2 = distances2(vectors, queries)
    inside = [set(ids[np.nonzero(row < RADIUS**2)[0]].tolist()) for row in d2]
    assert sum(map(len, inside)) >= 4 * len(queries)  # the queries' own pictures

    # The default range query: approximate, but what a search shows (every face within
    # the threshold) must be found with recall >= 0.99.
    found = [{h.face_id for h in hits} for hits in ivf.within(queries, RADIUS)]
    recall = sum(len(f & w) for f, w in zip(found, inside, strict=True)) / sum(map(len, inside))
    assert recall >= 0.99, recall
    assert all(f <= w for f, w in zip(found, inside, strict=True))  # nothing beyond the radius

    # Exhaustive: exactly brute force, distances included.
    exhaustive = ivf.within(queries, RADIUS, exhaustive=True)
    assert [{h.face_id for h in hits} for hits in exhaustive] == inside
    for row, hits in zip(d2, exhaustive, strict=True):
        for hit in hits:
            want = np.sqrt(row[(hit.face_id - 1000) // 3])
            assert hit.distance == pytest.approx(want, abs=1e-4)
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)

    # Top-k through the sketch, re-ranked: the true 10 nearest, strangers included.
    truth = ids[np.argsort(d2, axis=1)[:, :10]]
    near = ivf.nearest(queries, 10)
    recall10 = np.mean(
        [
            len({h.face_id for h in n} & set(t.tolist())) / 10
            for n, t in zip(near, truth, strict=True)
        ]
    )
    assert recall10 >= 0.99, recall10
    assert all(len(n) == 10 for n in near)


def test_queries_leave_the_shared_index_unchanged(
    people: tuple[np.ndarray, np.ndarray, np.ndarray], ivf: FaceIndex
) -> None:
    _, _, queries = people
    before = (int(ivf.index.nprobe), dict(ivf.meta), int(ivf.total))
    sequential = [ivf.within(queries, RADIUS), ivf.within(queries, RADIUS, exhaustive=True)]
    assert (int(ivf.index.nprobe), dict(ivf.meta), int(ivf.total)) == before
    # Exhaustive and approximate searches at once, from several threads, on one index:
    # each gets its own answer (a shared ``index.nprobe`` would leak between them).
    results: dict[tuple[int, bool], list[object]] = {}

    def run(worker: int, exhaustive: bool) -> None:
        for _ in range(3):
            results[(worker, exhaustive)] = ivf.within(queries, RADIUS, exhaustive=exhaustive)

    threads = [threading.Thread(target=run, args=(w, e)) for w in range(3) for e in (False, True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (_, exhaustive), got in results.items():
        assert got == sequential[exhaustive]
    assert (int(ivf.index.nprobe), dict(ivf.meta), int(ivf.total)) == before


def test_sync_is_incremental_persisted_and_rebuilds_on_mismatch(app: App) -> None:
    people = identities(6, 4, seed=2)
    add_synthetic_faces(app, people[:12], tag="a")
    index = FaceIndex.for_app(app)
    first = index.sync(app)
    assert first.rebuilt and first.total == 12 and first.kind == "flat"
    add_synthetic_faces(app, people[12:], tag="b")
    second = FaceIndex.for_app(app).sync(app)
    assert not second.rebuilt and second.added == 12 and second.total == 24
    reloaded = FaceIndex.for_app(app)
    assert reloaded.load() and reloaded.total == 24
    (hits,) = reloaded.within(people[5:6], 0.01)
    assert len(hits) == 1 and hits[0].distance < 1e-3
    # Faces retired behind the index's back are removed from it, without a rebuild.
    with app.db.begin() as conn:
        conn.execute(update(FaceRow).where(FaceRow.id <= 4).values(active=False))
    third = FaceIndex.for_app(app).sync(app)
    assert not third.rebuilt and third.removed == 4 and third.total == 20
    assert not {h.face_id for h in FaceIndex.for_app(app).nearest(people[:4], 24)[0]} & {1, 2, 3, 4}
    # A deleted index file is rebuilt.
    (app.settings.index_dir / "faces" / "faces.faiss").unlink()
    fourth = FaceIndex.for_app(app).sync(app)
    assert fourth.rebuilt and fourth.total == 20


def test_an_index_of_another_format_is_rebuilt(app: App) -> None:
    add_synthetic_faces(app, identities(3, 3, seed=4))
    assert FaceIndex.for_app(app).sync(app).rebuilt
    assert not FaceIndex.for_app(app).sync(app).rebuilt
    meta_path = app.settings.index_dir / "faces" / "faces.json"
    meta = json.loads(meta_path.read_text())
    assert meta["format"] == FORMAT and meta["kind"] == "flat"
    meta_path.write_text(json.dumps({**meta, "format": FORMAT - 1}))
    report = FaceIndex.for_app(app).sync(app)
    assert report.rebuilt and report.total == 9
    assert json.loads(meta_path.read_text())["format"] == FORMAT


def test_inverted_file_and_sketch_follow_the_database(app: App) -> None:
    people = identities(150, 4, seed=5)
    add_synthetic_faces(app, people[:400], tag="a")
    first = FaceIndex.for_app(app).sync(app, exact_limit=100)
    assert first.rebuilt and first.kind == "ivf" and first.total == 400
    reader = FaceIndex.for_app(app)
    assert reader.load() and reader.sketch is not None
    meta = reader.meta
    assert meta["nlist"] == reader.index.nlist and meta["nprobe"] == range_nprobe(meta["nlist"])

    add_synthetic_faces(app, people[400:], tag="b")
    second = FaceIndex.for_app(app).sync(app, exact_limit=100)
    assert not second.rebuilt and second.added == 200 and second.total == 600
    # The reader's index was not changed under it (the sync worked on a copy) ...
    assert reader.index.ntotal == 400 and reader.sketch.ntotal == 400 == reader.codes.ntotal
    assert len(reader.within(people[400:], 0.01, exhaustive=True)[0]) == 0
    # ... and a new reader sees the new faces, through both structures.
    fresh = FaceIndex.for_app(app)
    assert fresh.load() and fresh.total == 600 and fresh.sketch.ntotal == 600
    assert fresh.codes.ntotal == 600
    (hits,) = fresh.within(people[599:600], 0.01, exhaustive=True)
    assert [h.face_id for h in hits] == [600]
    assert [h.face_id for h in fresh.within(people[599:600], 0.01)[0]] == [600]  # the codes
    assert fresh.nearest(people[599:600], 1)[0][0].face_id == 600

    with app.db.begin() as conn:
        conn.execute(update(FaceRow).where(FaceRow.id > 590).values(active=False))
    third = FaceIndex.for_app(app).sync(app, exact_limit=100)
    assert not third.rebuilt and third.removed == 10 and third.total == 590
    after = FaceIndex.for_app(app)
    assert after.load() and after.sketch.ntotal == 590 == after.codes.ntotal
    assert not after.within(people[599:600], 0.01, exhaustive=True)[0]
    assert all(h.face_id <= 590 for h in after.within(people[590:600], RADIUS)[0])
    assert all(h.face_id <= 590 for h in after.nearest(people[590:600], 5)[0])
    assert after.mode(exhaustive=True)["nprobe"] == after.index.nlist
    nlist, nprobe = after.meta["nlist"], after.meta["nprobe"]
    assert after.mode() == {
        "kind": "ivf", "faces": 590, "nlist": nlist, "nprobe": nprobe, "exact": False,
        "exhaustive": False, "codes": f"IVF{nlist},PQ64x4fs",
    }  # fmt: skip
    said = index_mode(after.mode())
    assert said.startswith(f"approximate search of 590 faces ({nprobe} of {nlist} cells")
    assert index_mode(after.mode(exhaustive=True)).startswith("exhaustive search of 590 faces")


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


def test_a_large_index_is_built_from_pages_as_from_one_array(app: App) -> None:
    """Past the exact limit the index is trained on samples read by id and filled page by
    page (haechi.match.face_build): the same index as one built from every vector at once."""
    from haechi.match import face_index

    people = identities(300, 4, seed=8)
    add_synthetic_faces(app, people, tag="p")
    paged = FaceIndex.for_app(app)
    original = face_index.PAGE
    face_index.PAGE = 97  # many pages, one not full
    try:
        report = paged.sync(app, exact_limit=100)
    finally:
        face_index.PAGE = original
    assert report.rebuilt and report.kind == "ivf" and report.total == len(people)
    from haechi.analyze.faces import codec

    with app.db.connect() as conn:
        rows = conn.execute(select(FaceRow.id, FaceRow.embedding).order_by(FaceRow.id)).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    whole = FaceIndex(app.settings.index_dir / "whole")
    whole.build(codec.stack([bytes(r[1]) for r in rows]), ids, exact_limit=100)
    assert paged.meta["nlist"] == whole.meta["nlist"] and paged.total == whole.total
    queries = people[::37]
    assert paged.within(queries, RADIUS) == whole.within(queries, RADIUS)
    assert paged.nearest(queries, 5) == whole.nearest(queries, 5)
