"""Who sees a message's custody trail: the content of the message page and of
``GET /api/messages/<pk>`` per role, and the custody log of auditors (events only)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.web.conftest import ROLE_USERS, log_in

from haechi.app import App
from haechi.auth.roles import Perm, Role, can

STAFF = [r for r in Role if can(r, Perm.ARCHIVE_READ)]


def _message_with_files(app: App) -> tuple[int, str, list[str]]:
    """A message with a stored file and text: (pk, text, its custody subjects' hashes)."""
    with app.db.connect() as conn:
        row = conn.execute(
            text(
                "SELECT m.id, m.text, m.source_id FROM messages m JOIN media d "
                "ON d.message_pk = m.id WHERE d.blob_sha256 IS NOT NULL AND m.text <> '' "
                "ORDER BY m.id LIMIT 1"
            )
        ).one()
        hashes = list(
            conn.execute(
                text(
                    "SELECT hash FROM custody_events WHERE subject = :s OR subject IN "
                    "(SELECT blob_sha256 FROM media WHERE message_pk = :pk) OR subject = "
                    "(SELECT root_sha256 FROM sources WHERE id = :src) ORDER BY seq"
                ),
                {"s": f"source:{row.source_id}", "pk": row.id, "src": row.source_id},
            ).scalars()
        )
    assert hashes, "the demo message has no custody events"
    return int(row.id), str(row.text), hashes


@pytest.mark.parametrize("role", STAFF)
def test_the_trail_reaches_only_roles_with_custody_read(
    web: TestClient, loaded: App, role: Role
) -> None:
    pk, _text, hashes = _message_with_files(loaded)
    log_in(web, ROLE_USERS[role])
    api = web.get(f"/api/messages/{pk}")
    page = web.get(f"/messages/{pk}")
    assert api.status_code == 200 and page.status_code == 200
    body = api.json()
    assert body["pk"] == pk and body["media"]
    if can(role, Perm.CUSTODY_READ):
        assert [e["hash"] for e in body["custody"]] == hashes
        assert 'class="custody"' in page.text and hashes[0][:12] in page.text
        assert f'href="/custody?message={pk}"' in page.text
    else:
        assert "custody" not in body  # absent, not an empty (false) trail
        assert not any(h in api.text for h in hashes)
        assert 'class="custody"' not in page.text
        assert not any(h[:12] in page.text for h in hashes)
        assert "/custody" not in page.text


def test_auditors_read_a_messages_trail_without_the_message(web: TestClient, loaded: App) -> None:
    pk, message_text, hashes = _message_with_files(loaded)
    log_in(web, ROLE_USERS[Role.AUDITOR])
    assert web.get(f"/messages/{pk}").status_code == 403  # never the material itself
    assert web.get(f"/api/messages/{pk}").status_code == 403
    page = web.get(f"/custody?message={pk}")
    assert page.status_code == 200 and 'id="message-trail"' in page.text
    shown = re.findall(r'title="([0-9a-f]{64})">[0-9a-f]{12}…', page.text)
    assert sorted(shown) == sorted(hashes)  # the same trail as the message page, newest first
    assert message_text not in page.text and "/preview" not in page.text
    api = web.get(f"/api/custody?message={pk}").json()
    assert [e["hash"] for e in api["events"]] == list(reversed(hashes))
    # The whole log, by subject and event type, and the link from the navigation.
    assert 'href="/custody"' in web.get("/audit").text
    source = api["events"][-1]["subject"]
    by_subject = web.get("/api/custody", params={"subject": source}).json()["events"]
    assert by_subject and {e["subject"] for e in by_subject} == {source}
    captures = web.get("/api/custody", params={"event": "capture"}).json()["events"]
    assert all(e["event_type"] == "capture" for e in captures)
    assert web.get("/custody?message=999999").status_code == 404


def test_the_log_pages_back_by_sequence(web: TestClient, loaded: App) -> None:
    log_in(web, ROLE_USERS[Role.AUDITOR])
    with loaded.db.connect() as conn:
        every = list(
            conn.execute(text("SELECT seq FROM custody_events ORDER BY seq DESC")).scalars()
        )
    seen: list[int] = []
    before = None
    while True:
        params = {"limit": 7, **({"before": before} if before else {})}
        page = web.get("/api/custody", params=params).json()
        seen += [e["seq"] for e in page["events"]]
        before = page["older"]
        if before is None:
            break
    assert seen == every
    # Roles without custody.read have no custody log.
    web.cookies.clear()
    log_in(web, ROLE_USERS[Role.SUPPORT_WORKER])
    assert web.get("/custody").status_code == 403
    assert web.get("/api/custody").status_code == 403
