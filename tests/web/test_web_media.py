"""Wellness and evidence rules of the media views: safe previews only, placeholders, the
logged reveal with its custody event, grants, muted and paused players, exposure. Files
matched to a bank: test_web_matches.py."""

from __future__ import annotations

import hashlib
import re

from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.web.conftest import ROLE_USERS, log_in

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Role
from haechi.run.verify import verify

INVESTIGATOR = ROLE_USERS[Role.INVESTIGATOR]


def _images(app: App) -> list[tuple[str, bool]]:
    with app.db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT b.sha256, EXISTS (SELECT 1 FROM artifacts a WHERE a.blob_sha256 = b.sha256 "
                "AND a.name = 'safe_preview') FROM blobs b WHERE b.kind = 'image' ORDER BY b.sha256"
            )
        ).all()
    return [(r[0], bool(r[1])) for r in rows]


def test_previews_are_never_the_original(web: TestClient, loaded: App) -> None:
    log_in(web, ROLE_USERS[Role.SUPPORT_WORKER])
    images = _images(loaded)
    assert any(p for _, p in images) and any(not p for _, p in images)
    for sha, has_preview in images:
        r = web.get(f"/media/{sha}/preview")
        assert r.status_code == 200
        assert hashlib.sha256(r.content).hexdigest() != sha
        if has_preview:
            assert r.headers["content-type"] == "image/jpeg"
        else:
            assert r.headers["content-type"].startswith("image/svg+xml")
            assert b"no safe preview" in r.content


def test_grid_shows_previews_and_placeholders_and_counts_exposure(
    web: TestClient, loaded: App
) -> None:
    log_in(web, ROLE_USERS[Role.REVIEWER])
    page = web.get("/media").text
    previews = page.count('class="preview"')
    assert previews > 0 and 'class="placeholder"' in page
    assert "/original" not in page  # nothing is revealed until asked
    me = web.get("/api/me").json()["exposure"]
    assert me["previews"] == previews and me["reveals"] == 0


def test_reveal_is_logged_with_a_custody_event(web: TestClient, loaded: App) -> None:
    csrf = log_in(web, INVESTIGATOR)
    sha = next(s for s, _ in _images(loaded))
    assert web.get(f"/media/{sha}/original").status_code == 403  # no reveal, no bytes
    assert web.post(f"/media/{sha}/reveal").status_code == 403  # no CSRF token
    r = web.post(f"/media/{sha}/reveal", headers={"x-csrf-token": csrf})
    assert r.status_code == 200
    src = re.search(r'src="(/media/[0-9a-f]{64}/original\?g=[^"]+)"', r.text)
    assert src, r.text
    body = web.get(src.group(1).replace("&amp;", "&"))
    assert body.status_code == 200 and hashlib.sha256(body.content).hexdigest() == sha
    assert "sandbox" in body.headers["content-security-policy"]
    # The grant is for this session and this file only.
    other = next(s for s, _ in _images(loaded) if s != sha)
    forged = src.group(1).replace(sha, other)
    assert web.get(forged).status_code == 403
    entries = audit.entries(loaded, action=audit.REVEAL)
    assert len(entries) == 1 and entries[0].subject == sha and entries[0].username == INVESTIGATOR
    seq = entries[0].custody_seq
    with loaded.db.connect() as conn:
        row = conn.execute(
            text("SELECT event_type, subject, body FROM custody_events WHERE seq = :s"), {"s": seq}
        ).one()
    assert row.event_type == "access" and row.subject == sha and INVESTIGATOR in row.body
    assert verify(loaded).ok  # the chain with the access event still verifies
    assert web.get("/api/me").json()["exposure"]["reveals"] == 1


def test_video_and_audio_start_muted_and_paused(web: TestClient, loaded: App) -> None:
    csrf = log_in(web, INVESTIGATOR)
    with loaded.db.connect() as conn:
        sha = conn.execute(text("SELECT sha256 FROM blobs WHERE kind = 'video' LIMIT 1")).scalar()
    assert sha
    r = web.post(f"/media/{sha}/reveal", headers={"x-csrf-token": csrf})
    tag = re.search(r"<video[^>]*>", r.text)
    assert tag and " muted" in tag.group(0) and 'preload="none"' in tag.group(0)
    assert "autoplay" not in tag.group(0)


def test_reviewer_may_reveal_support_worker_may_not(web: TestClient, loaded: App) -> None:
    sha = next(s for s, _ in _images(loaded))
    csrf = log_in(web, ROLE_USERS[Role.SUPPORT_WORKER])
    assert web.post(f"/media/{sha}/reveal", headers={"x-csrf-token": csrf}).status_code == 403
    assert 'class="reveal"' not in web.get("/media").text
    web.cookies.clear()
    csrf = log_in(web, ROLE_USERS[Role.REVIEWER])
    assert web.post(f"/media/{sha}/reveal", headers={"x-csrf-token": csrf}).status_code == 200


def test_break_prompt_appears_and_a_break_resets_it(web: TestClient, loaded: App) -> None:
    csrf = log_in(web, INVESTIGATOR)
    limit = web.app.state.web.wellness.reveals  # type: ignore[attr-defined]
    sha = next(s for s, _ in _images(loaded))
    for _ in range(limit):
        web.post(f"/media/{sha}/reveal", headers={"x-csrf-token": csrf})
    page = web.get("/chats").text
    assert 'class="break-prompt"' in page
    web.post("/me/break", headers={"x-csrf-token": csrf})
    assert 'class="break-prompt"' not in web.get("/chats").text
    assert [e.action for e in audit.entries(loaded, action=audit.BREAK)] == ["break"]
