"""The investigator acts from every view: add messages, files, chats and matches to a case
(one at a time, a selection, every result of a search), tag them, categorise files in
triage, review bank matches and build a bank from them. Each request names the person in
the custody log and the audit trail, refuses a missing CSRF token, and a second send adds
nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.web.conftest import BANK, ROLE_USERS, log_in, previewed_images

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Role
from haechi.cases.service import create_case

INVESTIGATOR = ROLE_USERS[Role.INVESTIGATOR]


def _items(app: App, ref: str) -> list[Any]:
    with app.db.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT i.ref, i.added_by FROM case_items i JOIN cases c ON c.id = i.case_id "
                    "WHERE c.ref = :r ORDER BY i.id"
                ),
                {"r": ref},
            ).all()
        )


def _custody_actors(app: App, event_type: str) -> set[str]:
    import json

    with app.db.connect() as conn:
        bodies = conn.execute(
            text("SELECT body FROM custody_events WHERE event_type = :t"), {"t": event_type}
        ).scalars()
        return {json.loads(b)["actor"] for b in bodies}


def _message_pks(app: App, n: int) -> list[int]:
    with app.db.connect() as conn:
        return list(
            conn.execute(text("SELECT id FROM messages ORDER BY id LIMIT :n"), {"n": n}).scalars()
        )


def test_add_to_a_case_from_the_timeline_message_page_and_media_grid(
    web: TestClient, loaded: App
) -> None:
    case = create_case(loaded, "web collect")
    csrf = log_in(web, INVESTIGATOR)
    pk = _message_pks(loaded, 1)[0]
    with loaded.db.connect() as conn:
        chat_id = conn.execute(
            text("SELECT chat_id FROM messages WHERE id = :p"), {"p": pk}
        ).scalar()
    timeline = web.get(f"/chats/{chat_id}")
    assert timeline.status_code == 200
    assert f'value="message:{pk}"' in timeline.text and 'id="collect"' in timeline.text
    assert case.ref in timeline.text  # the case is offered in the picker
    form = {"csrf_token": csrf, "case": case.ref, "back": f"/chats/{chat_id}"}
    r = web.post("/collect/case", data={**form, "only": f"message:{pk}"})
    assert r.status_code == 200 and "collect-result" in r.text
    # A double submit adds nothing twice.
    again = web.post("/collect/case", data={**form, "only": f"message:{pk}"},
                     headers={"hx-request": "true"})  # fmt: skip
    assert again.status_code == 200 and "1" in again.text
    items = _items(loaded, case.ref)
    assert [r for r, _ in items].count(f"message:{pk}") == 1
    assert {who for _, who in items} == {f"{INVESTIGATOR} (web)"}
    assert f"{INVESTIGATOR} (web)" in _custody_actors(loaded, "case_item_added")
    # A selection from the media grid, the chat from the message page.
    grid = web.get("/media")
    media_ids = list(dict.fromkeys(re.findall(r'value="media:(\d+)"', grid.text)))[:3]
    assert media_ids
    r = web.post(
        "/collect/case", data={**form, "target": [f"media:{m}" for m in media_ids]},
        headers={"hx-request": "true"},
    )  # fmt: skip
    assert r.status_code == 200 and 'class="error"' not in r.text, r.text
    page = web.get(f"/messages/{pk}")
    assert f'value="chat:{chat_id}"' in page.text
    web.post("/collect/case", data={**form, "only": f"chat:{chat_id}"})
    refs = [r for r, _ in _items(loaded, case.ref)]
    assert f"chat:{chat_id}" in refs and sum(r.startswith("media:") for r in refs) >= 3
    entries = audit.entries(loaded, action="case_add")
    assert entries and entries[0].username == INVESTIGATOR
    assert entries[0].subject == f"case:{case.ref}"


def test_every_result_of_a_search_goes_to_the_case(web: TestClient, loaded: App) -> None:
    case = create_case(loaded, "search collect")
    csrf = log_in(web, INVESTIGATOR)
    page = web.get("/search?q=coffee")
    assert page.status_code == 200
    hits = set(re.findall(r'value="message:(\d+)"', page.text))
    assert hits
    query = re.search(r'name="search_query" value="([^"]*)"', page.text)
    assert query and "q=coffee" in query.group(1)
    r = web.post("/collect/case", data={
        "csrf_token": csrf, "case": case.ref, "all_results": "1",
        "search_query": query.group(1).replace("&amp;", "&"),
    })  # fmt: skip
    assert r.status_code == 200, r.text
    refs = {r for r, _ in _items(loaded, case.ref)}
    assert {f"message:{h}" for h in hits} <= refs


def test_collect_refuses_without_csrf_and_for_roles_without_the_permission(
    web: TestClient, loaded: App
) -> None:
    case = create_case(loaded, "refusals")
    log_in(web, ROLE_USERS[Role.REVIEWER])
    pk = _message_pks(loaded, 1)[0]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/me").text).group(1)  # type: ignore[union-attr]
    r = web.post("/collect/case", data={"csrf_token": csrf, "case": case.ref,
                                        "only": f"message:{pk}"})  # fmt: skip
    assert r.status_code == 403
    log_in(web, INVESTIGATOR)
    r = web.post("/collect/case", data={"case": case.ref, "only": f"message:{pk}"})
    assert r.status_code == 403
    assert _items(loaded, case.ref) == []


def test_tags_on_files_and_messages(web: TestClient, loaded: App) -> None:
    csrf = log_in(web, INVESTIGATOR)
    pk = _message_pks(loaded, 1)[0]
    sha = previewed_images(loaded)[0]
    form = {"csrf_token": csrf, "tag": "to-check", "target": [f"message:{pk}", f"file:{sha}"]}
    assert web.post("/collect/tag", data=form).status_code == 200
    assert web.post("/collect/tag", data=form).status_code == 200
    page = web.get(f"/messages/{pk}")
    assert page.text.count(">to-check<") >= 1
    with loaded.db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM review_tags")).scalar() == 2
    untag = {"csrf_token": csrf, "tag": "to-check", "only": f"message:{pk}", "back": "/"}
    web.post("/collect/untag", data=untag)
    with loaded.db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM review_tags")).scalar() == 1
    assert [e.action for e in audit.entries(loaded, limit=3)][:2] == ["untag", "tag"]


def test_triage_decisions_move_to_the_next_file(web: TestClient, loaded: App) -> None:
    csrf = log_in(web, INVESTIGATOR)
    page = web.get("/triage")
    assert page.status_code == 200
    first = re.search(r'id="current" class="current-item" data-sha="([0-9a-f]{64})"', page.text)
    assert first, page.text[:2000]
    sha = first.group(1)
    for key in "123456":
        assert f'data-key="{key}"' in page.text
    assert 'data-key="n"' in page.text
    r = web.post(f"/triage/{sha}/decide", data={"csrf_token": csrf, "category": "not_sexual"})
    assert r.status_code == 303 and "item=" in r.headers["location"]
    assert sha not in r.headers["location"]
    web.post(f"/triage/{sha}/decide", data={"csrf_token": csrf, "category": "not_sexual"})
    with loaded.db.connect() as conn:
        rows = conn.execute(
            text("SELECT value, decided_by, current FROM review_decisions WHERE target = :t"),
            {"t": f"file:{sha}"},
        ).all()
    assert rows == [("not_sexual", f"{INVESTIGATOR} (web)", True)]
    assert f"{INVESTIGATOR} (web)" in _custody_actors(loaded, "review_decision")
    decided = web.get("/triage?show=not_sexual")
    assert sha in decided.text
    verdict = web.get(f"/triage/{sha}")
    assert verdict.status_code == 200 and INVESTIGATOR in verdict.text


def test_bank_match_review_and_a_bank_from_confirmed(
    web: TestClient, loaded: App, banked: str
) -> None:
    csrf = log_in(web, INVESTIGATOR)
    page = web.get("/matches")
    match_id = re.search(r'id="match-(\d+)"', page.text)
    assert match_id
    mid = int(match_id.group(1))
    form = {"csrf_token": csrf, "decision": "confirmed", "back": "/matches"}
    assert web.post(f"/matches/{mid}/review", data=form).status_code == 303
    assert web.post(f"/matches/{mid}/review", data=form).status_code == 303
    with loaded.db.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM review_decisions WHERE target = :t"),
                {"t": f"match:{mid}"},
            ).scalar()
            == 1
        )
    assert "decided-confirmed" in web.get("/matches").text
    build = {"csrf_token": csrf, "name": "confirmed by review", "confirmed_matches": "1"}
    r = web.post("/banks/from-confirmed", data=build)
    assert r.status_code == 200 and 'id="bank-built"' in r.text
    assert web.post("/banks/from-confirmed", data=build).status_code == 200
    from haechi.match.banks import get_bank

    bank = get_bank(loaded, "confirmed by review")
    assert bank.items == 1 and bank.created_by == f"{INVESTIGATOR} (web)"
    r = web.post(f"/matches/{mid}/bank", data={"csrf_token": csrf, "bank": BANK})
    assert r.status_code == 303
    actions = [e.action for e in audit.entries(loaded, limit=10)]
    assert actions.count("bank_change") == 3 and actions.count("review") == 1


@pytest.mark.parametrize("path", ["/graph", "/graph/node?id=chat:1", "/graph/data.json?full=1"])
def test_graph_pages(web: TestClient, loaded: App, path: str) -> None:
    log_in(web, INVESTIGATOR)
    r = web.get(path)
    assert r.status_code == 200, (path, r.text[:500])


def test_the_same_actions_through_the_api(web: TestClient, loaded: App) -> None:
    from haechi.auth.accounts import find_user
    from haechi.auth.sessions import create_token
    from haechi.auth.types import cli_actor

    case = create_case(loaded, "api collect")
    user = find_user(loaded, INVESTIGATOR)
    secret, _info = create_token(loaded, user, "script", days=1, actor=cli_actor("test"))
    api = {"authorization": f"Bearer {secret}"}
    pk = _message_pks(loaded, 1)[0]
    r = web.post(f"/api/cases/{case.ref}/items", json={"targets": [f"message:{pk}"]}, headers=api)
    assert r.status_code == 200 and r.json()["added"] >= 1, r.text
    again = web.post(f"/api/cases/{case.ref}/items", json={"targets": [f"message:{pk}"]},
                     headers=api)  # fmt: skip
    assert again.json()["added"] == 0
    queue = web.get("/api/triage?show=all", headers=api).json()
    sha = queue["items"][0]["sha256"]
    made = web.post(f"/api/triage/{sha}/decision", json={"category": "not_relevant"}, headers=api)
    assert made.status_code == 200 and made.json()["decided_by"] == f"{INVESTIGATOR} (api)"
    tagged = web.post("/api/tags", json={"tag": "api-tag", "targets": [f"file:{sha}"]},
                      headers=api)  # fmt: skip
    assert tagged.json()["added"] == 1
    node = web.get("/api/graph/node?id=chat:1", headers=api)
    assert node.status_code == 200 and node.json()["type"] == "chat"
    # A browser session needs its CSRF header for the same call; a reviewer may not add.
    log_in(web, ROLE_USERS[Role.REVIEWER])
    assert web.post(f"/api/cases/{case.ref}/items", json={"targets": []}).status_code == 403
    entries = audit.entries(loaded, username=INVESTIGATOR, limit=10)
    assert {"case_add", "review", "tag"} <= {e.action for e in entries}
    assert all(e.via == "api" for e in entries if e.action in ("case_add", "review", "tag"))


def test_the_picker_lists_the_newest_open_cases_and_takes_any_other_by_reference(
    web: TestClient, loaded: App
) -> None:
    from haechi.web.views.collect import PICKER_CASES

    oldest = create_case(loaded, "picker oldest")
    for n in range(PICKER_CASES):
        create_case(loaded, f"picker {n}")
    csrf = log_in(web, INVESTIGATOR)
    chat_id = loaded.db.engine.connect().execute(text("SELECT min(id) FROM chats")).scalar()
    page = web.get(f"/chats/{chat_id}")
    picker = re.search(r'<select name="case" id="collect-case">(.*?)</select>', page.text, re.S)
    assert picker is not None
    assert picker.group(1).count("<option") == PICKER_CASES
    assert oldest.ref not in picker.group(1)  # older than the newest listed
    assert 'id="collect-case-ref"' in page.text  # ... so it can be typed
    pk = _message_pks(loaded, 1)[0]
    form = {"csrf_token": csrf, "case": "", "case_ref": f" {oldest.ref} ", "only": f"message:{pk}"}
    r = web.post("/collect/case", data=form, headers={"hx-request": "true"})
    assert r.status_code == 200 and 'class="error"' not in r.text, r.text
    assert [ref for ref, _ in _items(loaded, oldest.ref)] == [f"message:{pk}"]
    refused = web.post("/collect/case", data={**form, "case_ref": "NO-SUCH-CASE"},
                       headers={"hx-request": "true"})  # fmt: skip
    # htmx swaps 2xx answers only: the refusal is a sentence in place of the result.
    assert refused.status_code == 200 and 'class="error"' in refused.text


def test_a_match_goes_to_a_case_from_the_matches_page_and_is_dismissed(
    web: TestClient, loaded: App, banked: str
) -> None:
    """The matches page's own row offers the case picker (match:<id>, once however often it
    is sent) and the actioner's dismissal, recorded with who, shown on the row."""
    case = create_case(loaded, "matches collect")
    csrf = log_in(web, INVESTIGATOR)
    page = web.get("/matches").text
    found = re.search(r'id="match-(\d+)"', page)
    assert found
    mid = int(found.group(1))
    assert f'value="match:{mid}"' in page and 'id="collect"' in page
    form = {"csrf_token": csrf, "case": case.ref, "back": "/matches", "only": f"match:{mid}"}
    for _ in range(2):
        r = web.post("/collect/case", data=form, headers={"hx-request": "true"})
        assert r.status_code == 200 and 'class="error"' not in r.text, r.text
    items = _items(loaded, case.ref)
    assert [ref for ref, _ in items] == [f"match:{mid}"]
    assert items[0][1] == f"{INVESTIGATOR} (web)"
    dismiss = {"csrf_token": csrf, "decision": "dismissed", "back": "/matches"}
    for _ in range(2):
        assert web.post(f"/matches/{mid}/review", data=dismiss).status_code == 303
    row = re.search(rf'<tr class="([^"]*)"[^>]*id="match-{mid}">(.*?)</tr>',
                    web.get("/matches").text, re.S)  # fmt: skip
    assert row and "decided-dismissed" in row.group(1)
    assert "decision-dismissed" in row.group(2) and INVESTIGATOR in row.group(2)
    with loaded.db.connect() as conn:
        values = (
            conn.execute(
                text("SELECT value FROM review_decisions WHERE target = :t AND current"),
                {"t": f"match:{mid}"},
            )
            .scalars()
            .all()
        )
    assert values == ["dismissed"]
