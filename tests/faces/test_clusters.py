"""Clustering keeps people apart, keeps its numbers across runs, and never loses a staff
decision when clusters merge."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select, update
from tests.faces.conftest import add_synthetic_faces, identities

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.store.tables.faces import FaceRow
from haechi.subjects.clusters import list_clusters, set_apparent_minor, update_clusters
from haechi.subjects.minors import apparent_minor


def test_people_are_grouped_and_numbers_stay(app: App) -> None:
    people = identities(5, 6, seed=4)
    add_synthetic_faces(app, people, tag="x")
    run = update_clusters(app, staff="s")
    assert run.clusters == 5 and run.clustered_faces == 30
    first = {c.id: c.images for c in list_clusters(app)}
    assert sorted(first.values()) == [6] * 5
    with app.db.connect() as conn:
        labels = conn.execute(select(FaceRow.cluster_id).order_by(FaceRow.id)).scalars().all()
    assert all(len(set(labels[i * 6 : i * 6 + 6])) == 1 for i in range(5))  # one person each
    # New pictures of person 0 and 3 join their clusters; nobody is renumbered.
    more = identities(5, 8, seed=4)[[0, 1, 24, 25]]  # same centres, new noise
    add_synthetic_faces(app, more, tag="y")
    again = update_clusters(app, staff="s")
    assert again.new_clusters == 0 and again.emptied == []
    second = {c.id: c.images for c in list_clusters(app)}
    assert set(second) == set(first) and sorted(second.values()) == [6, 6, 6, 8, 8]


def test_a_merge_keeps_the_apparent_minor_flag(app: App) -> None:
    people = identities(2, 5, seed=5)
    shas = add_synthetic_faces(app, people, tag="m")
    update_clusters(app, staff="s")
    a, b = sorted(c.id for c in list_clusters(app))
    set_apparent_minor(app, b, True, staff="officer.kim", reason="looks under 18")
    # The second person's faces turn out to be the first person's (say, a re-analysis).
    with app.db.begin() as conn:
        rows = conn.execute(select(FaceRow.id).where(FaceRow.cluster_id == b)).scalars().all()
        for n, fid in enumerate(rows):
            vec = people[n] + np.float32(0.001)
            conn.execute(
                update(FaceRow).where(FaceRow.id == fid).values(embedding=codec.to_bytes(vec))
            )
    from haechi.match.face_index import FaceIndex

    FaceIndex.for_app(app).sync(app, rebuild=True)
    run = update_clusters(app, staff="s")
    (merged,) = list_clusters(app)
    assert merged.images == 10 and merged.apparent_minor
    assert run.emptied in ([a], [b])
    if merged.id == a:
        assert run.minor_inherited == [a]
    assert all(f.apparent_minor for f in apparent_minor(app, shas).values())
