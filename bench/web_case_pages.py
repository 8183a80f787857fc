"""The counsellor's and case pages for ``bench_web.py``: what they need in the benchmark's
archive, and the requests that exercise them.

Set up once per archive (kept in ``HOME/bench_case_pages.json``, so ``--reuse`` finds it),
through the same services the pages use: a case with 300 files of one room (each carried
by its message), a Telegram notice drafted, sent and removed (which puts every file on the
re-upload watch), a subject enrolled from a reference photo (dlib) with 200 stored files
whose faces are near hers and a logged search that found them, and a few finished jobs.

Requests, for logged-in users of the investigator role: the case list, a case's page, the
notice's page, the subjects list, the subject's page, a page of face candidates, the jobs
list; and three actions: a candidate confirmed or rejected (each a row and a signed
custody event), a case's status changed (the same: a write each time), and a new case
opened with a fresh form key.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONTEXT = "bench_case_pages.json"
CASE_FILES = 300
FACES = 200

GETS = ("cases", "case", "notice", "subjects", "subject", "candidates", "jobs")
POSTS = ("decide", "case_status", "case_create")
KINDS = GETS + POSTS


def setup(home: Path) -> dict[str, Any]:
    """Build what the pages need (once); returns the ids they are requested with."""
    return built_once(home, CONTEXT, lambda app: {**_case(app), **_subject(app), **_jobs(app)})


def built_once(home: Path, name: str, build: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """``build(app)``'s ids, kept in ``home/name`` and read back by later runs (--reuse)."""
    saved = home / name
    if saved.exists():
        loaded: dict[str, Any] = json.loads(saved.read_text())
        return loaded
    from haechi.app import open_app

    app = open_app(home)
    try:
        ctx = build(app)
    finally:
        app.close()
    saved.write_text(json.dumps(ctx))
    return ctx


def case_of_room(app: Any, chat: int, files: int, title: str, ref: str) -> Any:
    """A case holding the first ``files`` files of room ``chat``, opened by ``bench0``."""
    from sqlalchemy import select

    from haechi.cases import items
    from haechi.cases.acting import acting_as
    from haechi.cases.service import create_case
    from haechi.store.models import Media, Message

    bench = acting_as(app, "bench0 (web)")
    with app.db.connect() as conn:
        shas = list(
            conn.execute(
                select(Media.blob_sha256)
                .join(Message, Message.id == Media.message_pk)
                .where(Message.chat_id == chat, Media.blob_sha256.is_not(None))
                .order_by(Media.id)
                .limit(files)
            ).scalars()
        )
    case = create_case(bench, title, ref=ref)
    for sha in shas:
        items.add_file(bench, case.ref, sha)
    return case


def _case(app: Any) -> dict[str, Any]:
    from haechi.cases.acting import acting_as
    from haechi.cases.notices.service import draft_notice
    from haechi.cases.notices.status import mark

    bench = acting_as(app, "bench0 (web)")
    case = case_of_room(app, 1, CASE_FILES, "Bench room 1 takedown", "BENCH-CASE-1")
    notice = draft_notice(bench, case.ref, "telegram", "ko").notice
    mark(bench, notice.id, "sent", at="2026-01-02T10:00+09:00")
    mark(bench, notice.id, "removed", at="2026-01-03T10:00+09:00")
    return {"case": case.ref, "notice": notice.id}


def _subject(app: Any) -> dict[str, Any]:
    """A subject from the demo's reference photo; ``FACES`` stored files get a face near
    her template (as the faces analyzer would write them), and a search finds them."""
    import numpy as np
    from sqlalchemy import insert, select

    from haechi.analyze.faces import codec
    from haechi.demo.faces_export import reference_photo
    from haechi.store.models import Analysis, Blob, SignalRow
    from haechi.subjects.consent import ConsentRequest
    from haechi.subjects.projection import project_faces
    from haechi.subjects.search import search_subject
    from haechi.subjects.service import enroll_subject, subject_templates

    info, _ = enroll_subject(
        app, label="BENCH-V-1", photos=[("ref.png", reference_photo())], staff="bench0 (web)",
        consent=ConsentRequest(given_by="Bench Subject", scope="search", given_at="2026-01-01"),
    )  # fmt: skip
    template = codec.stack(subject_templates(app, info.id))[0]
    rng = np.random.default_rng(11)
    with app.db.connect() as conn:
        shas = list(conn.execute(select(Blob.sha256).order_by(Blob.sha256).limit(FACES)).scalars())
    ids = []
    with app.db.begin() as conn:
        for sha in shas:
            direction = rng.normal(size=codec.DIM).astype(np.float32)
            vec = template + rng.uniform(0.15, 0.5) * direction / np.linalg.norm(direction)
            aid = conn.execute(
                insert(Analysis)
                .values(
                    blob_sha256=sha,
                    analyzer="faces",
                    version="bench",
                    status="ok",
                    created_at="2026-01-01T00:00:00Z",
                )
                .returning(Analysis.id)
            ).scalar_one()
            ids.append(aid)
            conn.execute(
                insert(SignalRow).values(
                    analysis_id=aid,
                    blob_sha256=sha,
                    kind="face",
                    score=1.0,
                    data_json=json.dumps(
                        {
                            "i": 0,
                            "box": [400, 200, 180, 180],
                            "size": 180,
                            "sharpness": 50.0,
                            "embedding": codec.encode(vec.astype(np.float32)),
                        }
                    ),
                )
            )
    project_faces(app, ids)
    result = search_subject(app, info.id, staff="bench0 (web)", reason="bench: her request")
    return {
        "subject": info.id,
        "search": result.search_id,
        "candidates": [h.blob_sha256 for h in result.hits[:24]],
    }


def _jobs(app: Any) -> dict[str, Any]:
    from haechi.auth.types import Actor
    from haechi.jobs import store

    actor = Actor(1, "bench0", "investigator", via="web")
    last = 0
    for _ in range(5):
        last = store.submit(app, "reupload_scan", {"case": "BENCH-CASE-1"}, actor)
        store.claim(app, last, "bench:0")
        store.finish(app, last, "bench:0", summary={"hits": 0, "watches": 600})
    return {"job": last}


def request(
    kind: str, rng: random.Random, ctx: dict[str, Any]
) -> tuple[str, str, dict[str, str] | None]:
    """(method, path, form) of one request of ``kind`` (POSTs carry the CSRF header)."""
    case, search = ctx["case"], ctx["search"]
    if kind in GETS:
        path = {
            "cases": "/cases",
            "case": f"/cases/{case}",
            "notice": f"/notices/{ctx['notice']}",
            "subjects": "/subjects",
            "subject": f"/subjects/{ctx['subject']}",
            "candidates": f"/face-searches/{search}",
            "jobs": "/jobs",
        }[kind]
        return "GET", path, None
    if kind == "decide":
        sha = rng.choice(ctx["candidates"])
        form = {"decision": rng.choice(["confirmed", "rejected"])}
        return "POST", f"/face-searches/{search}/candidates/{sha}/decision", form
    if kind == "case_status":
        form = {"status": rng.choice(["open", "investigating"])}
        return "POST", f"/cases/{case}/status", form
    form = {"title": "Bench case", "key": secrets.token_urlsafe(18)}
    return "POST", "/cases", form


def ok(kind: str, status: int) -> bool:
    """The answer each request should get (forms answer with a redirect)."""
    return status == (200 if kind in GETS or kind == "decide" else 303)
