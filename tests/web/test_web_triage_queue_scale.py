"""The triage queue (issue 18: the queue opened at a file, and "next file", at 1M media):
the keyset queue equals a straightforward reference on a store where files have several
nudity analyses (newer versions, failed runs, a failed newest run), tied scores, files
with no score, non-pictures and decided files, on SQLite and PostgreSQL; and the page that
starts at a file reads the score index from the cursor on, not from the queue's top."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from sqlalchemy import event, insert, text

from haechi.app import App
from haechi.review import decisions, queue
from haechi.store.models import Analysis, Blob, SignalRow

STAMP = "2026-12-07T00:00:00Z"


def _sha(i: int) -> str:
    return hashlib.sha256(f"queue-scale-{i}".encode()).hexdigest()


def _build(app: App, files: int = 90) -> None:
    """Files with 0-3 nudity analyses each (ok/error, newest last), other analyzers' runs
    in between, scores from a few values (ties), every seventh file a document."""
    rnd = random.Random(18)
    blobs, analyses, signals = [], [], []
    aid = 0
    for i in range(files):
        sha = _sha(i)
        kind = "document" if i % 7 == 6 else rnd.choice(["image", "image", "animation", "video"])
        blobs.append({"sha256": sha, "md5": sha[:32], "size": 1, "encrypted": False,
                      "stored_at": STAMP, "kind": kind, "mime": None})  # fmt: skip
        for v in range(rnd.choice([0, 1, 1, 2, 3])):
            for analyzer in ("exif", "nudity"):
                aid += 1
                status = "ok" if analyzer == "exif" or rnd.random() < 0.7 else "error"
                analyses.append({"id": aid, "blob_sha256": sha, "analyzer": analyzer,
                                 "version": str(v), "status": status,
                                 "created_at": STAMP})  # fmt: skip
                if analyzer == "nudity" and status == "ok" and rnd.random() < 0.9:
                    score = rnd.choice([0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 0.9, 0.9])
                    signals.append({"analysis_id": aid, "blob_sha256": sha, "kind": "nudity",
                                    "value": "exposed" if score > 0.6 else "safe",
                                    "score": score, "data_json": '{"regions": []}'})  # fmt: skip
                if analyzer == "exif":
                    signals.append({"analysis_id": aid, "blob_sha256": sha, "kind": "exif",
                                    "value": "x", "score": 0.99, "data_json": None})  # fmt: skip
    with app.db.begin() as conn:
        conn.execute(insert(Blob), blobs)
        conn.execute(insert(Analysis), analyses)
        conn.execute(insert(SignalRow), signals)


def _reference(app: App) -> list[str]:
    """The queue as its docstring says it: each picture's newest successful nudity
    analysis; scored files by score (highest first), then SHA-256 (descending), then the
    files with no score by SHA-256."""
    with app.db.connect() as conn:
        kinds = dict(conn.execute(text("SELECT sha256, kind FROM blobs")).all())
        runs = conn.execute(
            text("SELECT id, blob_sha256 FROM analyses WHERE analyzer = 'nudity' AND status = 'ok'")
        ).all()
        scores = {
            aid: score
            for aid, score in conn.execute(
                text("SELECT analysis_id, score FROM signals WHERE kind = 'nudity'")
            ).all()
        }
    newest: dict[str, int] = {}
    for aid, sha in runs:
        newest[sha] = max(aid, newest.get(sha, 0))
    pictures = [s for s, k in kinds.items() if k in queue.KINDS]
    scored = [(scores[newest[s]], s) for s in pictures if newest.get(s) in scores]
    unscored = sorted(s for s in pictures if newest.get(s) not in scores)
    return [s for _, s in sorted(scored, reverse=True)] + unscored


def _paged(app: App, show: str, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = queue.triage_page(app, show=show, cursor=cursor, limit=limit)
        seen += [i.sha256 for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen


def test_the_keyset_queue_equals_the_reference_with_several_analyses_per_file(app: App) -> None:
    _build(app)
    ref = _reference(app)
    assert len(ref) > 60 and len(ref) == len(set(ref))
    for limit in (1, 4, 30):
        assert _paged(app, "all", limit) == ref
    # Opened at a file: the page starts with it; "next" is the file after it.
    for at, sha in enumerate(ref):
        page = queue.triage_page(app, show="all", cursor=queue.position(app, sha), limit=3)
        assert [i.sha256 for i in page.items] == ref[at : at + 3]
        assert queue.next_item(app, sha, show="all") == (ref[at + 1] if at + 1 < len(ref) else None)
    # Decided files leave the undecided queue; "next" skips them.
    decided = set(ref[1::3])
    for sha in sorted(decided):
        decisions.categorise(app, sha, "not_sexual")
    left = [s for s in ref if s not in decided]
    assert _paged(app, "undecided", 4) == left
    for sha in ref:
        after = [s for s in ref[ref.index(sha) + 1 :] if s not in decided]
        assert queue.next_item(app, sha) == (after[0] if after else None)


def test_the_queue_from_a_file_reads_the_score_index_from_the_cursor_on(app: App) -> None:
    """A page after a cursor reads ``ix_signals_kind_score`` from the cursor on: (score,
    file) is a row-value range of the index (the equivalent OR is a filter: the scan
    started at the queue's top, 272 ms from a deep cursor at 10M on PostgreSQL)."""
    _build(app, files=40)
    ref = _reference(app)
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, stmt: str, params: Any, *_: Any) -> None:
        seen.append((stmt, params))

    event.listen(app.db.engine, "before_cursor_execute", capture)
    try:
        queue.triage_page(app, show="all", cursor=queue.position(app, ref[len(ref) // 2]))
    finally:
        event.remove(app.db.engine, "before_cursor_execute", capture)
    stmt, params = next((s, p) for s, p in seen if "ORDER BY signals.score DESC" in s)
    with app.db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cur = raw.cursor()
        if app.db.engine.dialect.name == "postgresql":
            for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
                cur.execute(f"SET {setting} = off")  # a tiny table: plan as for a large one
            cur.execute("EXPLAIN " + stmt, params)
            plan = "\n".join(r[0] for r in cur.fetchall())
            scan = next(line for line in plan.splitlines() if "ix_signals_kind_score" in line)
            cond = plan.split(scan, 1)[1].splitlines()[1]
            assert "Index Cond" in cond and "ROW(score, " in cond, plan
        else:
            cur.execute("EXPLAIN QUERY PLAN " + stmt, params)
            plan = "\n".join(str(r[-1]) for r in cur.fetchall())
            assert "ix_signals_kind_score (kind=? AND (score,blob_sha256)<(?,?))" in plan
