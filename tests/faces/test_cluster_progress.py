"""Grouping the faces tells how far it is (update_clusters' progress callback), so the
face_clusters job's bar rises instead of waiting at 5 % until the end."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from tests.faces.conftest import add_synthetic_faces, identities

from haechi.app import App
from haechi.auth.types import cli_actor
from haechi.jobs.kinds import face_clusters
from haechi.jobs.model import JobContext
from haechi.subjects.clusters import update_clusters


def _rising(seen: list[float]) -> None:
    assert len(seen) >= 5, seen
    assert all(a <= b for a, b in pairwise(seen)), seen
    assert seen[0] >= 0.0 and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)


def test_update_clusters_reports_rising_progress_to_the_end(app: App) -> None:
    add_synthetic_faces(app, identities(3, 4, seed=7), tag="p")
    seen: list[float] = []
    run = update_clusters(app, staff="s", progress=seen.append)
    assert run.clusters == 3
    _rising(seen)
    assert any(0.2 < f < 0.75 for f in seen)  # the neighbour look-ups are counted too
    assert update_clusters(app, staff="s").clusters == 3  # without a callback, as before


def test_the_face_clusters_job_bar_rises_to_100(app: App, tmp_path: Path) -> None:
    add_synthetic_faces(app, identities(2, 4, seed=8), tag="j")
    seen: list[tuple[float, str | None]] = []
    ctx = JobContext(
        app=app, actor=cli_actor("officer.kim"), job_id=1, params={}, folder=tmp_path,
        progress=lambda f, note=None: seen.append((f, note)),
    )  # fmt: skip
    out = face_clusters.run(ctx)
    assert out.summary["clusters"] == 2
    _rising([f for f, _note in seen])
    assert round(seen[-1][0] * 100) == 100 and {n for _f, n in seen} == {"clustering"}
