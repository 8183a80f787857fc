"""The live-capture page and API: investigators see each target's state, last message
(UTC and KST), lag and errors, and add, pause and resume targets; nobody else may."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from tests.live.conftest import populate, watcher
from tests.live.fake_telegram import FakeClient, FakeWorld
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.collect.telegram_live.targets import add_target


def test_the_page_shows_each_target_and_takes_actions(staffed: App) -> None:
    world = FakeWorld()
    room = world.channel("Evidence Room", "evidence_room", megagroup=True)
    populate(world, room)
    add_target(staffed, "@evidence_room")
    asyncio.run(watcher(staffed, FakeClient(world)).run(once=True))
    with client_of(staffed) as web:
        csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
        page = web.get("/watch", headers={"accept-language": "en"})
        assert page.status_code == 200
        assert "@evidence_room" in page.text and "Evidence Room" in page.text
        assert "following" in page.text and "KST" in page.text
        assert f"#{max(room.messages)}" in page.text
        assert "The service is not running" in page.text
        r = web.post(
            "/watch/targets", data={"csrf_token": csrf, "target": "t.me/+AbCdEfGh12", "join": "on"}
        )
        assert r.status_code == 303
        bad = web.post(
            "/watch/targets", data={"csrf_token": csrf, "target": "https://evil.example/x"}
        )
        assert bad.status_code == 400 and "not a t.me link" in bad.text
        assert (
            web.post("/watch/targets/1", data={"csrf_token": csrf, "action": "pause"}).status_code
            == 303
        )
        data = web.get("/api/watch").json()
        assert [(t["ref"], t["state"], t["join"]) for t in data["targets"]] == [
            ("@evidence_room", "paused", False),
            ("+AbCdEfGh12", "pending", True),
        ]
        assert data["targets"][0]["messages"] == len(room.messages)
        api = web.post(
            "/api/watch/targets", json={"target": "@second_room"}, headers={"x-csrf-token": csrf}
        )
        assert api.json() == {"id": 3, "created": True}
        resumed = web.post("/api/watch/targets/1/resume", headers={"x-csrf-token": csrf})
        assert resumed.json() == {"id": 1, "paused": False}
        korean = web.get("/watch", headers={"accept-language": "ko"}).text
        assert "실시간 수집" in korean and "시작 대기" in korean


def test_only_investigators_own_live_capture(staffed: App) -> None:
    for role in Role:
        with client_of(staffed) as web:
            csrf = log_in(web, ROLE_USERS[role])
            allowed = role is Role.INVESTIGATOR
            assert (web.get("/watch").status_code == 200) is allowed, role
            r = web.post(
                "/api/watch/targets", json={"target": "@x_room"}, headers={"x-csrf-token": csrf}
            )
            assert (r.status_code == 200) is allowed, (role, r.status_code)
            page = web.get("/", headers={"accept-language": "en"}).text
            assert ('href="/watch"' in page) is allowed, role


def test_anonymous_visitors_are_sent_to_the_login(staffed: App) -> None:
    with client_of(staffed) as web:
        assert web.get("/watch").status_code == 303
        assert web.get("/api/watch").status_code == 401
        assert isinstance(web, TestClient)
