"""Enrolment, consent and deletion from the web pages: reference photos read in memory
and refused with a sentence when they cannot serve, photos kept (encrypted) only under a
consent that allows it, withdrawal and deletion that really remove them, and a minor's
case routed to Telegram's child-safety address."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import add_staff, enrol, form_key

from haechi.app import App
from haechi.services import integrations
from haechi.store.models import CustodyEvent
from haechi.web.settings import WebSettings

pytest.importorskip("dlib")
pytestmark = pytest.mark.skipif(
    not integrations.available("subjects"), reason="the faces capability is not installed"
)
QUIET = WebSettings(run_jobs=False)


@pytest.fixture
def staffed_app(sqlite_app: App) -> App:
    add_staff(sqlite_app, "park", "support_worker")
    add_staff(sqlite_app, "rev", "reviewer")
    return sqlite_app


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def subject_photos(app: App) -> list[Path]:
    folder = app.settings.home / "subjects" / "photos"
    return (
        sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []
    )


def test_photos_that_cannot_serve_are_refused_with_a_sentence(staffed_app: App) -> None:
    from haechi.demo.faces_export import reference_photo
    from haechi.subjects.service import list_subjects

    app = staffed_app
    with client_of(app, QUIET) as web:
        csrf = log_in(web, "park")
        no_face = _png(np.full((200, 200, 3), 180, dtype=np.uint8))
        status, page = enrol(web, csrf, no_face)
        # the face work is the enrol job's: it fails with the sentence, the photo gone
        assert status == 200 and "job-failed" in page and "No face was found" in page
        assert 'id="enrol-again-link"' in page
        status, page = enrol(web, csrf, b"not a picture at all" * 10)
        assert "not a readable picture" in page
        big = b"\xff\xd8" + b"0" * (13 * 1024 * 1024)
        status, page = enrol(web, csrf, big)
        assert "larger than 12 MB" in page
        # the label is a case code, never a name
        status, page = enrol(web, csrf, reference_photo(), label="김하늘")
        assert "case code" in page
        # without the CSRF header an upload is refused before its body is read
        r = web.post(
            "/subjects/enrol",
            data={"csrf_token": csrf, "label": "V-X", "given_by": "x", "given_at": "2024-09-01",
                  "scope": "search"},
            files=[("photos", ("r.png", reference_photo(), "image/png"))],
        )  # fmt: skip
        assert r.status_code == 403
        # a reviewer may not enrol at all
        web.cookies.clear()
        csrf = log_in(web, "rev")
        assert web.get("/subjects/new").status_code == 403
        status, _ = enrol(web, csrf, reference_photo(), key="k" * 24)
        assert status == 403
    assert list_subjects(app) == []
    assert subject_photos(app) == []


def test_photos_kept_only_with_consent_and_removed_with_it(staffed_app: App) -> None:
    from haechi.demo.faces_export import reference_photo
    from haechi.subjects.service import get_subject, list_subjects

    app = staffed_app
    with client_of(app, QUIET) as web:
        csrf = log_in(web, "park")
        page = web.get("/subjects/new").text
        key = re.search(r'name="key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        status, page = enrol(web, csrf, reference_photo(), scope=("search", "keep_photos"), key=key)
        assert status == 200 and "1 photo(s) kept, encrypted" in page
        sid = int(re.search(r'action="/subjects/(\d+)/search"', page).group(1))  # type: ignore[union-attr]
        # the same form again: led to the same job and subject, nothing added
        again = web.post(
            "/subjects/enrol", data={"key": key, "label": "V-2024-017", "given_by": "x",
                                     "given_at": "2024-09-01", "scope": "search"},
            files=[("photos", ("r.png", reference_photo(), "image/png"))],
            headers={"x-csrf-token": csrf, "hx-request": "true"},
        )  # fmt: skip
        assert again.status_code == 204 and again.headers["hx-redirect"].startswith("/jobs/")
        status, page_again = enrol(web, csrf, reference_photo(), key=key)
        assert f'action="/subjects/{sid}/search"' in page_again
        assert [s.id for s in list_subjects(app)] == [sid]
        assert not list((app.settings.home / "subjects" / "staging").iterdir())
        (photo,) = subject_photos(app)
        assert reference_photo()[:64] not in photo.read_bytes()  # sealed, not the PNG
        info = get_subject(app, sid)
        assert info is not None and info.photos == 1
        # withdrawing the consent that keeps photos deletes them; the templates stay
        cid = info.consents[0].id
        for _ in range(2):
            r = web.post(f"/subjects/{sid}/consents/{cid}/withdraw", data={"csrf_token": csrf})
            assert r.status_code == 303
        assert subject_photos(app) == []
        info = get_subject(app, sid)
        assert info is not None and info.photos == 0 and len(info.templates) == 1
        # no active consent to search: the search is refused, and says why
        r = web.post(
            f"/subjects/{sid}/search", data={"csrf_token": csrf, "reason": "checking again"}
        )
        assert r.status_code == 400 and "no active consent" in r.text
        # a new consent (from the page's form), then deletion removes the templates
        page = web.get(f"/subjects/{sid}").text
        form = {"csrf_token": csrf, "key": form_key(page, f"/subjects/{sid}/consents"),
                "given_by": "김하늘 (fictional)", "relation": "self", "given_at": "2024-09-02",
                "scope": ["search"]}  # fmt: skip
        assert web.post(f"/subjects/{sid}/consents", data=form).status_code == 303
        assert web.post(f"/subjects/{sid}/consents", data=form).status_code == 303  # once
        info = get_subject(app, sid)
        assert info is not None and len(info.consents) == 2
        r = web.post(f"/subjects/{sid}/search", data={"csrf_token": csrf, "reason": "no"})
        assert r.status_code == 400 and "Give the reason for this search" in r.text
        r = web.post(f"/subjects/{sid}/delete", data={"csrf_token": csrf, "reason": ""})
        assert r.status_code == 400 and "Give the reason for deleting the subject" in r.text
        assert "--reason" not in r.text  # a web page names no command-line flag
        r = web.post(f"/subjects/{sid}/delete", data={"csrf_token": csrf, "reason": "she asked"})
        assert r.status_code == 303
        assert (
            web.post(
                f"/subjects/{sid}/delete", data={"csrf_token": csrf, "reason": "again"}
            ).status_code
            == 303
        )
        page = web.get(f"/subjects/{sid}").text
        assert (
            'id="subject-state">deleted' in page
            and 'action="/subjects/' + str(sid) + '/search"' not in page
        )
    info = get_subject(app, sid)
    assert info is not None and info.templates == [] and info.status == "deleted"
    with app.db.connect() as conn:
        bodies = [
            json.loads(b)
            for b in conn.execute(
                select(CustodyEvent.body).where(CustodyEvent.subject == f"subject:{sid}")
            ).scalars()
        ]
    kinds = [b["type"] for b in bodies]
    assert kinds.count("subject_deleted") == 1 and "subject_photos_deleted" in kinds
    assert {b["actor"] for b in bodies} == {"park (web)"}
    assert all("김하늘" not in json.dumps(b, ensure_ascii=False) for b in bodies)
