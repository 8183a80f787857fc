"""The rest of issue 13's pages and actions for ``bench_web.py``: the counsellor's enrolment,
consent withdrawal and deletion, face search, the logged look at a candidate's face and
its picture, a case opened from a face search, a takedown notice drafted, marked sent and
removed and downloaded as .eml, a background job started; and, with the review pages,
match review, add to a bank, a bank from confirmed items, the statistics, recurring faces,
rooms, lexicon and the full network map.

Set up once per archive (``HOME/bench_more_pages.json``, so ``--reuse`` finds it), through
the project's services: a second subject (``BENCH-V-2``) enrolled from the demo's benign
reference photo (scikit-image's astronaut portrait, public domain), the same photo stored
in the vault as an archive file with her face on record (so the face picture is cut from a
real file), a logged search of hers with 10 candidates confirmed (a case can be opened
from it), and a case of 20 files (``BENCH-CASE-2``) for notices and jobs. Nothing here
touches the objects the other kinds read (``BENCH-CASE-1``, ``BENCH-V-1``'s search).

Destructive actions act on objects made for them, per user: ``enrol`` posts the form of a
fresh subject (a unique label, the reference photo, a consent) and is timed to the page's
answer, which queues the ``enrol`` job that does the face work (as the package job below,
the job is not run during the measurement); ``withdraw`` withdraws the consent of one of
the ``POOL_EACH`` subjects enrolled for this user at set-up (the first ``POOL_USERS``
users), ``subject_delete`` deletes one (withdrawn first); the pool is shared by the warm-up
and the measured run, and with none left to act on, the user enrols instead.
``notice_draft`` drafts a notice on ``BENCH-CASE-2``; ``notice_mark`` marks one this user
drafted sent, then removed.
``job_start`` only queues a package job (the server runs with ``--no-jobs``, so queued
jobs do not load the machine during the measurement; their runner is another process).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from web_case_pages import built_once, case_of_room

CONTEXT = "bench_more_pages.json"
NOTICE_FILES = 20
CONFIRMED = 10
POOL_USERS = 8  # users given enrolled subjects to withdraw and delete
POOL_EACH = 40  # subjects each (a user withdraws or deletes about 17 a minute)
_POOL: dict[int, list[tuple[int, int]]] = {}  # user -> (subject, consent), both phases

CASE_KINDS = ("enrol", "withdraw", "subject_delete", "face_search", "face_show", "face_jpg",
              "case_from_search", "notice_draft", "notice_mark", "notice_eml",
              "job_start")  # fmt: skip
REVIEW_KINDS = ("stats", "face_clusters", "rooms", "lexicon", "graph_full", "graph_full_data",
                "match_review", "match_bank", "bank_confirmed")  # fmt: skip
KINDS = CASE_KINDS + REVIEW_KINDS
SKIP: set[str] = set()  # kinds left out of the mix (bench_web.py --skip)


def mix(kinds: tuple[str, ...]) -> list[str]:
    """``kinds`` without those left out."""
    return [k for k in kinds if k not in SKIP]


LABELS = {
    "enrol": "enrol a subject (photo + consent)",
    "withdraw": "withdraw a consent",
    "subject_delete": "delete a subject",
    "face_search": "run a face search",
    "face_show": "show a candidate's face (logged)",
    "face_jpg": "the face picture (face.jpg)",
    "case_from_search": "open a case from a search",
    "notice_draft": "draft a takedown notice",
    "notice_mark": "mark a notice sent / removed",
    "notice_eml": "download a notice (.eml)",
    "job_start": "start a package job (POST)",
    "stats": "statistics",
    "face_clusters": "recurring faces",
    "rooms": "rooms",
    "lexicon": "lexicon",
    "graph_full": "full network map (page)",
    "graph_full_data": "full network map (data)",
    "match_review": "confirm/dismiss a match",
    "match_bank": "add a match's file to a bank",
    "bank_confirmed": "bank from confirmed",
}
GRANT = re.compile(r'/face\.jpg\?g=([^"&]+)&amp;colour=0')


def setup(home: Path) -> dict[str, Any]:
    """Build what the kinds need (once); returns the ids they are requested with."""
    return built_once(home, CONTEXT, _build)


def _build(app: Any) -> dict[str, Any]:
    ctx = {**_subject(app), **_case(app), "pool": _pool(app)}
    ctx.update(_match(app, ctx["real_face"]))
    return ctx


def _pool(app: Any) -> dict[str, list[tuple[int, int]]]:
    """Subjects enrolled through the service for the withdraw and delete kinds."""
    from haechi.demo.faces_export import reference_photo
    from haechi.subjects.consent import ConsentRequest
    from haechi.subjects.service import enroll_subject

    photo, pool = reference_photo(), {}
    for user in range(POOL_USERS):
        pool[str(user)] = []
        for i in range(POOL_EACH):
            info, _ = enroll_subject(
                app, label=f"BENCH-P-{user}-{i}", photos=[("ref.png", photo)],
                staff=f"bench{user} (web)",
                consent=ConsentRequest(given_by="Bench Subject (fictional)", scope="search",
                                       given_at="2026-01-01"),
            )  # fmt: skip
            pool[str(user)].append((info.id, info.consents[0].id))
    return pool


def _seed(state: UserState, ctx: dict[str, Any]) -> None:
    """The user's share of the set-up pool, the same list in every phase (consumed once)."""
    if state.seeded:
        return
    state.seeded = True
    if not _POOL:
        for user, pairs in (ctx.get("pool") or {}).items():
            _POOL[int(user)] = [(int(s), int(c)) for s, c in pairs]
    state.active = _POOL.setdefault(state.n, [])


def _match(app: Any, photo_sha: str) -> dict[str, Any]:
    """Two matches to the archive's bank (``bench-bank``), written as the other match is:
    of the stored reference photo (confirmed and dismissed by the review kinds) and of the
    same photo stored again as a JPEG (confirmed here, so a bank from confirmed matches is
    never empty). Both are real files: adding to a bank reads the file, which the
    archive's other files, never stored, cannot give. And an empty bank to add to."""
    import io

    from PIL import Image
    from sqlalchemy import insert

    from haechi.cases.acting import acting_as
    from haechi.demo.faces_export import reference_photo
    from haechi.match.banks import create_bank
    from haechi.review.matches import review_match
    from haechi.store.models import Blob
    from haechi.store.tables.match import BankItem, BankSignal, MatchRow

    out = io.BytesIO()
    Image.open(io.BytesIO(reference_photo())).convert("RGB").save(out, "JPEG", quality=90)
    jpeg = app.vault.put_bytes(out.getvalue())
    now = "2026-01-01T00:00:00Z"
    ids = []
    with app.db.begin() as conn:
        conn.execute(insert(Blob).values(
            sha256=jpeg.sha256, md5=jpeg.md5, size=jpeg.size, stored_at=now, kind="image",
            mime="image/jpeg", encrypted=bool(getattr(app.vault, "encrypted", False)),
        ))  # fmt: skip
        for sha in (photo_sha, jpeg.sha256):
            item = conn.execute(
                insert(BankItem)
                .values(bank_id=1, blob_sha256=sha, added_at=now, added_by="bench")
                .returning(BankItem.id)
            ).scalar_one()
            signal = conn.execute(
                insert(BankSignal)
                .values(item_id=item, bank_id=1, kind="sha256", value=sha)
                .returning(BankSignal.id)
            ).scalar_one()
            ids.append(conn.execute(
                insert(MatchRow)
                .values(blob_sha256=sha, kind="sha256", target=f"bank-signal:{signal}",
                        distance=0, bank_id=1, bank_item_id=item, bank_signal_id=signal,
                        bank_name="bench-bank", created_at=now,
                        details_json='{"labels": ["bench"]}')
                .returning(MatchRow.id)
            ).scalar_one())  # fmt: skip
    bench = acting_as(app, "bench0 (web)")
    review_match(bench, ids[1], "confirmed")
    create_bank(bench, "bench-review-bank", description="bench")
    return {"match": ids[0], "match_confirmed": ids[1]}


def _subject(app: Any) -> dict[str, Any]:
    """``BENCH-V-2`` from the reference photo; the photo itself stored as an archive file
    (on message 1, beside nothing else) with a face on record near her template; her
    search; ``CONFIRMED`` of its candidates confirmed, the real file among them."""
    import numpy as np
    from sqlalchemy import insert, select

    from haechi.analyze.faces import codec
    from haechi.demo.faces_export import reference_photo
    from haechi.store.models import Analysis, Blob, Media, SignalRow
    from haechi.subjects.consent import ConsentRequest
    from haechi.subjects.projection import project_faces
    from haechi.subjects.review import decide
    from haechi.subjects.search import search_subject
    from haechi.subjects.service import enroll_subject, subject_templates

    photo = reference_photo()
    info, _ = enroll_subject(
        app, label="BENCH-V-2", photos=[("ref.png", photo)], staff="bench0 (web)",
        consent=ConsentRequest(given_by="Bench Subject", scope="search",
                               given_at="2026-01-01"),
    )  # fmt: skip
    template = codec.stack(subject_templates(app, info.id))[0]
    stored = app.vault.put_bytes(photo)
    now = "2026-01-01T00:00:00Z"
    with app.db.begin() as conn:
        there = conn.execute(select(Blob.sha256).where(Blob.sha256 == stored.sha256)).first()
        if there is None:
            conn.execute(insert(Blob).values(
                sha256=stored.sha256, md5=stored.md5, size=stored.size, stored_at=now,
                kind="image", mime="image/png",
                encrypted=bool(getattr(app.vault, "encrypted", False)),
            ))  # fmt: skip
            conn.execute(insert(Media).values(
                message_pk=1, source_id=1, role="photo", status="stored",
                blob_sha256=stored.sha256, width=330, height=360,
            ))  # fmt: skip
        aid = conn.execute(
            insert(Analysis)
            .values(blob_sha256=stored.sha256, analyzer="faces", version="bench", status="ok",
                    created_at=now)
            .returning(Analysis.id)
        ).scalar_one()  # fmt: skip
        vec = template + 0.05 * np.random.default_rng(5).normal(size=codec.DIM) / codec.DIM**0.5
        conn.execute(insert(SignalRow).values(
            analysis_id=aid, blob_sha256=stored.sha256, kind="face", score=1.0,
            data_json=json.dumps({"i": 0, "box": [95, 110, 140, 150], "size": 140,
                                  "sharpness": 50.0,
                                  "embedding": codec.encode(vec.astype(np.float32))}),
        ))  # fmt: skip
    project_faces(app, [aid])
    result = search_subject(app, info.id, staff="bench0 (web)", reason="bench: her request")
    hits = [h.blob_sha256 for h in result.hits]
    assert stored.sha256 in hits, "the stored reference photo is not among her candidates"
    confirmed = [stored.sha256, *[h for h in hits if h != stored.sha256][: CONFIRMED - 1]]
    for sha in confirmed:
        decide(app, result.search_id, sha, "confirmed", staff="bench0 (web)")
    return {
        "subject2": info.id,
        "search2": result.search_id,
        "real_face": stored.sha256,
        "candidates2": hits[:24],
    }


def _case(app: Any) -> dict[str, Any]:
    case = case_of_room(app, 2, NOTICE_FILES, "Bench room 2 notices and jobs", "BENCH-CASE-2")
    return {"case2": case.ref}


class UserState:
    """What one simulated user made and may act on later."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.made = 0
        self.active: list[tuple[int, int]] = []  # (subject, consent) enrolled, consent active
        self.seeded = False
        self.withdrawn: list[int] = []  # subjects whose consent was withdrawn
        self.drafted: list[int] = []  # notices drafted, not yet sent
        self.sent: list[int] = []  # notices sent, not yet removed


def _key() -> str:
    return secrets.token_urlsafe(18)


async def act(
    kind: str, client: Any, csrf: str, rng: Any, ctx: dict[str, Any], state: UserState
) -> list[tuple[str, float, Any, bool, str]]:
    """Send one request of ``kind`` (or two: ``face_jpg`` is the logged look, then the
    picture; a destructive kind with nothing to act on enrols instead), as the pages send
    them. Returns (kind, seconds, response, ok, what) per request."""
    out: list[tuple[str, float, Any, bool, str]] = []

    async def send(
        name: str, method: str, path: str, *, data: Any = None, files: Any = None,
        htmx: bool = False, expect: tuple[int, ...] = (200,),
    ) -> Any:  # fmt: skip
        headers = {"x-csrf-token": csrf}
        if htmx:
            headers["hx-request"] = "true"
        t = time.perf_counter()
        r = await client.request(method, path, data=data, files=files, headers=headers)
        took = time.perf_counter() - t
        good = r.status_code in expect
        out.append((name, took, r, good, f"{method} {path}: {r.status_code} {r.text[:200]!r}"))
        return r

    _seed(state, ctx)
    if kind == "withdraw" and not state.active:
        kind = "enrol"
    if kind == "subject_delete" and not (state.withdrawn or state.active):
        kind = "enrol"
    if kind == "notice_mark" and not (state.drafted or state.sent):
        kind = "notice_draft"
    if kind == "enrol":
        from haechi.demo.faces_export import reference_photo

        state.made += 1
        label = f"BENCH-E-{state.n}-{state.made}-{secrets.token_hex(3)}"
        data = {"key": _key(), "label": label, "given_by": "Bench Subject (fictional)",
                "relation": "self", "given_at": "2026-01-01", "scope": ["search"],
                "reference": "FORM-BENCH"}  # fmt: skip
        photo = ctx.setdefault("_photo", reference_photo())
        r = await send("enrol", "POST", "/subjects/enrol", data=data,
                       files=[("photos", ("reference.png", photo, "image/png"))],
                       htmx=True, expect=(204,))  # fmt: skip
        if out[-1][3] and not re.fullmatch(r"/jobs/\d+", r.headers.get("hx-redirect", "")):
            out[-1] = (*out[-1][:3], False, f"enrol: not led to its job {r.text[:200]!r}")
    elif kind == "withdraw":
        subject, consent = state.active.pop(rng.randrange(len(state.active)))
        await send("withdraw", "POST", f"/subjects/{subject}/consents/{consent}/withdraw",
                   data={"csrf_token": csrf}, expect=(303,))  # fmt: skip
        state.withdrawn.append(subject)
    elif kind == "subject_delete":
        subject = state.withdrawn.pop() if state.withdrawn else state.active.pop()[0]
        await send("subject_delete", "POST", f"/subjects/{subject}/delete",
                   data={"csrf_token": csrf, "reason": "bench: she asked"},
                   expect=(303,))  # fmt: skip
    elif kind == "face_search":
        subject = ctx["subject2"]
        await send("face_search", "POST", f"/subjects/{subject}/search",
                   data={"csrf_token": csrf, "reason": "bench: her request", "key": _key()},
                   expect=(303,))  # fmt: skip
    elif kind in ("face_show", "face_jpg"):
        search = ctx["search2"]
        sha = ctx["real_face"] if kind == "face_jpg" else rng.choice(ctx["candidates2"])
        base = f"/face-searches/{search}/candidates/{sha}"
        r = await send("face_show", "POST", f"{base}/show", data={"csrf_token": csrf},
                       htmx=True)  # fmt: skip
        if kind == "face_jpg":
            grant = GRANT.search(r.text)
            if grant is None:
                out[-1] = (*out[-1][:3], False, f"show: no face picture {r.text[:200]!r}")
            else:
                import html

                g = html.unescape(grant.group(1))
                r = await send("face_jpg", "GET", f"{base}/face.jpg?g={g}&colour=0")
                if r.headers.get("content-type") != "image/jpeg":
                    out[-1] = (*out[-1][:3], False, "face.jpg: not a JPEG")
    elif kind == "case_from_search":
        form = {"csrf_token": csrf, "key": _key(), "age": "24", "given_by": "subject",
                "method": "written", "consent_on": "2026-01-01"}  # fmt: skip
        await send("case_from_search", "POST", f"/face-searches/{ctx['search2']}/case",
                   data=form, expect=(303,))  # fmt: skip
    elif kind == "notice_draft":
        form = {"csrf_token": csrf, "key": _key(), "recipient": "telegram",
                "language": rng.choice(["ko", "en", "fr"])}  # fmt: skip
        r = await send("notice_draft", "POST", f"/cases/{ctx['case2']}/notices", data=form,
                       expect=(303,))  # fmt: skip
        found = re.fullmatch(r"/notices/(\d+)", r.headers.get("location", ""))
        if found:
            state.drafted.append(int(found.group(1)))
    elif kind == "notice_mark":
        if state.sent:
            notice, status, day = state.sent.pop(0), "removed", "2026-01-03"
        else:
            notice, status, day = state.drafted.pop(0), "sent", "2026-01-02"
        form = {"csrf_token": csrf, "status": status, "day": day, "time": "10:00",
                "zone": "KST"}  # fmt: skip
        r = await send("notice_mark", "POST", f"/notices/{notice}/mark", data=form,
                       expect=(303,))  # fmt: skip
        if status == "sent" and r.status_code == 303:
            state.sent.append(notice)
    elif kind == "notice_eml":
        r = await send("notice_eml", "GET", f"/notices/{ctx['notice']}/notice.eml")
        if b"X-Unsent: 1" not in r.content:
            out[-1] = (*out[-1][:3], False, "notice.eml: not a draft e-mail")
    elif kind == "job_start":
        await send("job_start", "POST", f"/cases/{ctx['case2']}/package",
                   data={"csrf_token": csrf, "key": _key()}, expect=(303,))  # fmt: skip
    elif kind in ("stats", "face_clusters", "rooms", "lexicon", "graph_full", "graph_full_data"):
        path = {"stats": "/stats", "face_clusters": "/face-clusters", "rooms": "/rooms",
                "lexicon": "/lexicon", "graph_full": "/graph?full=1",
                "graph_full_data": "/graph/data.json?full=1"}[kind]  # fmt: skip
        await send(kind, "GET", path)
    elif kind == "match_review":
        await send("match_review", "POST", f"/matches/{ctx['match']}/review",
                   data={"csrf_token": csrf, "decision": rng.choice(["confirmed", "dismissed"]),
                         "back": "/matches"}, expect=(303,))  # fmt: skip
    elif kind == "match_bank":
        await send("match_bank", "POST", f"/matches/{ctx['match']}/bank",
                   data={"csrf_token": csrf, "bank": "bench-review-bank", "back": "/matches"},
                   expect=(303,))  # fmt: skip
    elif kind == "bank_confirmed":
        await send("bank_confirmed", "POST", "/banks/from-confirmed",
                   data={"csrf_token": csrf, "name": "bench-confirmed",
                         "confirmed_matches": "1"})  # fmt: skip
    else:
        raise ValueError(kind)
    return out
