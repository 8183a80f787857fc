"""The ``faces`` analysis hook: new faces go into the face table and the vector index (and
faces a newer analyzer version retired leave both).

Registered as ``faces`` in the ``haechi.analysis_hooks`` entry point group; the runner
calls it after each committed batch. Idempotent: a batch seen twice adds nothing, and a
batch that was missed (a crash between the commit and the hook) is caught up by the next
call's index sync, or by any search, which syncs first.
"""

from __future__ import annotations

from haechi.app import App
from haechi.match.face_index import FaceIndex
from haechi.subjects.projection import project_faces

# Rewriting the index file after every batch of 100 results would cost more than the
# analysis at a million faces; the database rows are written at once, the index at most
# this often (a search always syncs first, so nothing is ever missed).
SAVE_INTERVAL_SECONDS = 20.0


def after_analysis(app: App, analysis_ids: list[int]) -> None:
    added, retired = project_faces(app, analysis_ids)
    if added or retired:
        FaceIndex.for_app(app).sync(app, min_interval=SAVE_INTERVAL_SECONDS)
