"""Files matched to a bank, with the real matches capability: shown as matches and never as
pictures on every page (grid, triage queue, verdict, the preview route, banks & matches),
the batched look-up behind it, and the banks & matches page and dashboard figure."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from tests.web.conftest import BANK, ROLE_USERS, log_in, previewed_images

from haechi.app import App
from haechi.auth.roles import Role
from haechi.services import integrations
from haechi.services import media as media_service

INVESTIGATOR = ROLE_USERS[Role.INVESTIGATOR]


def _row(page: str, sha: str, tag: str = "tr") -> str:
    end = tag.split()[0]
    found = re.search(rf'<{tag}[^>]*data-sha="{sha}"[^>]*>(.*?)</{end}>', page, re.S)
    assert found, f"{sha[:12]} is not on the page"
    return found.group(1)


def test_grid_preview_route_and_reveal(web: TestClient, loaded: App, banked: str) -> None:
    csrf = log_in(web, INVESTIGATOR)
    card = _row(web.get("/media").text, banked, "figure")
    assert "match-card" in card and BANK in card and "test-label" in card
    assert "<img" not in card and "reveal" not in card
    # The preview route answers the "matched" picture, not the safe preview it has.
    r = web.get(f"/media/{banked}/preview")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert b"matched to a bank" in r.content
    matched = integrations.bank_matches(loaded, previewed_images(loaded))
    other = next(s for s in previewed_images(loaded) if s not in matched)
    assert web.get(f"/media/{other}/preview").headers["content-type"] == "image/jpeg"
    assert web.post(f"/media/{banked}/reveal", headers={"x-csrf-token": csrf}).status_code == 404
    assert media_service.file_info(loaded, banked).matched


@pytest.mark.skipif(not integrations.available("triage"), reason="haechi.triage is not installed")
def test_triage_queue_and_verdict_show_the_match(web: TestClient, banked: str) -> None:
    log_in(web, ROLE_USERS[Role.REVIEWER])
    page = web.get(f"/triage?show=all&item={banked}").text
    current = page.split('id="current"', 1)[1].split("</section>", 1)[0]
    assert f'data-sha="{banked}"' in current
    assert "match-card" in current and BANK in current and "<img" not in current
    queue = re.findall(r'<li class="[^"]*" data-sha="([0-9a-f]{64})">(.*?)</li>', page, re.S)
    cells = dict(queue)
    assert banked in cells and "match-card" in cells[banked] and "<img" not in cells[banked]
    assert any("/preview" in cell for sha, cell in queue if sha != banked)  # others: pictures
    verdict = web.get(f"/triage/{banked}").text
    section = verdict.split('id="verdict"', 1)[1]
    assert "match-card" in section and "<img" not in section and "/preview" not in section
    # Exposure counts the previews the page showed (each once), and a match card is none.
    before = web.get("/api/me").json()["exposure"]["previews"]
    shown = set(re.findall(r'/media/([0-9a-f]{64})/preview"', web.get("/triage?show=all").text))
    assert banked not in shown
    assert web.get("/api/me").json()["exposure"]["previews"] - before == len(shown)


def _statements(app: App, call: Callable[[], object]) -> list[tuple[str, Any]]:
    """The statements ``call`` sends about matches (real statements, seen on the engine)."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: object, _cur: object, sql: str, params: Any, *_: object) -> None:
        if "match_hits" in sql or "custody_events" in sql:
            seen.append((sql, params))

    event.listen(app.db.engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(app.db.engine, "before_cursor_execute", note)
    return seen


def test_batched_lookup_equals_one_by_one_and_uses_indexes(loaded: App, banked: str) -> None:
    from haechi.app import open_app

    with loaded.db.connect() as conn:
        shas = list(conn.execute(text("SELECT sha256 FROM blobs ORDER BY sha256")).scalars())
    one_by_one = {}
    for sha in shas:
        one_by_one.update(integrations.bank_matches(loaded, [sha]))
    assert banked in one_by_one
    fresh = open_app(loaded.settings.home)  # a new engine: the gate is asked again
    try:
        batched: dict[str, Any] = {}
        first = _statements(fresh, lambda: batched.update(integrations.bank_matches(fresh, shas)))
        assert batched == one_by_one
        # The gate, on an index (no LIKE scan), then one look-up for the whole page.
        assert len(first) == 2 and "bank_id IS NOT NULL" in first[0][0], first
        # The gate's answer "there are bank matches" never goes back: asked once.
        again = _statements(fresh, lambda: integrations.bank_matches(fresh, shas))
        assert len(again) == 1
        if fresh.db.is_sqlite:
            with fresh.db.connect() as conn:
                for sql, params in first:
                    plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
                    details = [str(p[-1]) for p in plan]
                    assert not any(re.fullmatch(r"SCAN \w+", d) for d in details), details
    finally:
        fresh.close()


def test_a_deleted_banks_match_is_still_a_match(web: TestClient, loaded: App, banked: str) -> None:
    from haechi.match.banks import delete_bank

    delete_bank(loaded, BANK, reason="test: the list expired")
    with loaded.db.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM match_hits WHERE bank_id IS NOT NULL")).scalar()
            == 0
        )
    assert integrations.bank_matches(loaded, [banked])
    from haechi.app import open_app

    fresh = open_app(loaded.settings.home)  # the gate asked afresh: the custody event
    try:
        assert integrations.bank_matches(fresh, [banked])
    finally:
        fresh.close()
    log_in(web, INVESTIGATOR)
    card = _row(web.get("/media").text, banked, "figure")
    assert "match-card" in card and "<img" not in card


def test_banks_and_matches_page(web: TestClient, loaded: App, banked: str) -> None:
    from haechi.match.groups import duplicate_groups

    log_in(web, ROLE_USERS[Role.SUPPORT_WORKER])
    page = web.get("/matches")
    assert page.status_code == 200 and 'id="unavailable"' not in page.text
    text_ = page.text
    assert "<img" not in text_ and "/preview" not in text_
    bank_row = re.search(r'<tr class="bank">(.*?)</tr>', text_, re.S)
    assert bank_row and BANK in bank_row.group(1)
    matches_cell = re.search(r'class="bank-matches">([\d,]+)<', bank_row.group(1))
    with loaded.db.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*) FROM match_hits WHERE bank_name = :b"), {"b": BANK}
        ).scalar()
    assert matches_cell and int(matches_cell.group(1).replace(",", "")) == stored
    row = _row(text_, banked, 'tr class="match match-bank"')
    assert "match-card" in row and "a bank" in row and re.search(r'href="/messages/\d+"', row)
    # Filters: by bank, and by what was matched against.
    assert f'data-sha="{banked}"' in web.get("/matches", params={"bank": BANK}).text
    assert f'data-sha="{banked}"' not in web.get("/matches", params={"bank": "no such"}).text
    captures = web.get("/matches", params={"against": "capture"}).text
    assert 'class="match match-bank"' not in captures
    # Duplicate groups, loaded after the page: what haechi.match.groups says.
    groups = duplicate_groups(loaded, min_chats=2, limit=20)
    part = web.get("/matches/groups", headers={"hx-request": "true"}).text
    assert "<img" not in part
    shown = re.findall(r'<li class="dup-group" data-key="([0-9a-f]{64})">', part)
    assert shown == [g.key for g in groups]
    for g in groups:
        assert f"posted in {g.chats} chats" in part
    if any(banked in g.members for g in groups):
        assert "match-card" in part
    api = web.get("/api/matches").json()
    assert [b["name"] for b in api["banks"]] == [BANK]
    assert banked in {m["sha256"] for m in api["matches"]}


def test_dashboard_counts_matched_files(web: TestClient, loaded: App, banked: str) -> None:
    log_in(web, ROLE_USERS[Role.ADMIN])
    with loaded.db.connect() as conn:
        shas = list(conn.execute(text("SELECT sha256 FROM blobs")).scalars())
    want = len(integrations.bank_matches(loaded, shas))
    assert want >= 1
    card = re.search(r'id="dash-matches"><span class="num">([\d,]+)</span>', web.get("/").text)
    assert card and int(card.group(1)) == want
    dash = web.get("/api/dashboard").json()
    assert dash["matches"]["bank_matched_files"] == want
    # Risky rooms count the matched file where it was posted.
    with loaded.db.connect() as conn:
        rooms = set(
            conn.execute(
                text(
                    "SELECT DISTINCT m.chat_id FROM media d JOIN messages m "
                    "ON m.id = d.message_pk WHERE d.blob_sha256 = :s"
                ),
                {"s": banked},
            ).scalars()
        )
    assert rooms and rooms <= {r["chat_id"] for r in dash["risky"] if r["flagged"] >= 1}
