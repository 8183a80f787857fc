"""Bot conversations from the browser and the API: an investigator names a bot and text
commands on the live-capture page; a background job (``bot_conversation``) opens the sealed
session as ``haechi watch bot`` does and runs the same service against the fake Telegram
(real TL types); its page shows what was sent and what came back. Media and generation
requests are refused before anything is queued; a double submit is one job; only roles
with live.watch may start one."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.live.fake_telegram import FakeClient
from tests.live.test_live_bots import PAY, _bot_world
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Role
from haechi.collect.telegram_live import account
from haechi.jobs import store as jobs
from haechi.jobs.kinds import bot_conversation
from haechi.jobs.worker import run_job
from haechi.web.settings import WebSettings

API = {"HAECHI_TELEGRAM_API_ID": "12345", "HAECHI_TELEGRAM_API_HASH": "ab" * 16}


@pytest.fixture
def telegram(staffed: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeClient]]:
    """A Telegram application set up, an account logged in (its session sealed), and the
    job kind given the fake Telegram; yields the clients the jobs made."""
    for name, value in API.items():
        monkeypatch.setenv(name, value)
    world, _bot = _bot_world()
    prompts = account.Prompts(phone=lambda: "", code=lambda: "", password=lambda: "")
    asyncio.run(account.login(staffed, FakeClient(world), prompts))
    made: list[FakeClient] = []

    def factory(settings: object, session: str) -> FakeClient:
        assert session  # the worker opened the sealed session, as the command does
        made.append(FakeClient(world))
        return made[-1]

    monkeypatch.setattr(bot_conversation, "make_client", factory)
    yield made


@pytest.fixture
def web(staffed: App) -> Iterator[TestClient]:
    # No runner: the tests run the queued job here, where the fake Telegram is.
    with client_of(staffed, WebSettings(run_jobs=False)) as client:
        yield client


def _key(page: str) -> str:
    at = page.index('id="bot-form"')
    found = re.search(r'name="key" value="([^"]+)"', page[at:])
    assert found
    return found.group(1)


def _sent(app: App) -> list[dict[str, object]]:
    with app.db.connect() as conn:
        bodies = conn.execute(
            text("SELECT body FROM custody_events WHERE event_type = 'bot_command_sent' "
                 "ORDER BY seq")
        ).scalars()  # fmt: skip
        return [json.loads(b) for b in bodies]


def test_an_investigator_talks_to_a_bot_from_the_watch_page(
    web: TestClient, staffed: App, telegram: list[FakeClient]
) -> None:
    from haechi.cases.service import create_case

    made = telegram
    case = create_case(staffed, "Bot selling material", reported_on="2026-03-01")
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    page = web.get("/watch", headers={"accept-language": "en"})
    assert page.status_code == 200 and 'action="/watch/bot"' in page.text
    form = {"csrf_token": csrf, "key": _key(page.text), "bot": "@deep_suspect_bot",
            "commands": "/start\r\n\r\n/price\r\n", "case": case.ref,
            "wait_seconds": "0"}  # fmt: skip
    first = web.post("/watch/bot", data=form)
    again = web.post("/watch/bot", data=form)  # a double submit
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    job_id = int(first.headers["location"].rsplit("/", 1)[1])
    assert [j.id for j in jobs.jobs(staffed)] == [job_id]
    info = jobs.get(staffed, job_id)
    assert info.params == {"bot": "@deep_suspect_bot", "commands": ["/start", "/price"],
                           "case": case.ref, "wait_seconds": 0.0}  # fmt: skip
    assert info.subject == f"case:{case.id}"
    (started,) = audit.entries(staffed, action="job_start")
    assert started.detail == {"did": "bot_conversation", "job_id": job_id}

    assert run_job(staffed, job_id)
    info = jobs.get(staffed, job_id)
    assert info.state == "done", info.error
    # Only the checked text went to the bot, once each, from one client.
    assert len(made) == 1 and not made[0].connected
    assert [(t, kw) for _e, t, kw in made[0].sent] == [
        ("/start", {"link_preview": False}), ("/price", {"link_preview": False})
    ]  # fmt: skip
    assert not any("Callback" in type(r).__name__ for r in made[0].requests)
    assert [(e["actor"], e["data"]["text"], e["data"]["case"]) for e in _sent(staffed)] == [
        ("u_investigator (web)", "/start", case.ref), ("u_investigator (web)", "/price", case.ref)
    ]  # fmt: skip
    result = info.result
    assert (result["commands_sent"], result["replies"], result["messages_new"]) == (2, 2, 4)
    conv = result["conversation"]
    assert [s["text"] for s in conv["sent"]] == ["/start", "/price"]
    assert PAY in conv["links"] and "https://t.me/suspect_channel" in conv["links"]
    assert {b["kind"] for b in conv["buttons"]} == {"url", "callback"}
    assert re.fullmatch(r"[0-9a-f]{64}", conv["profile_sha256"])
    assert result["case_items"] > 0 and conv["case"] == case.ref

    shown = web.get(f"/jobs/{job_id}", headers={"accept-language": "en"}).text
    assert f'id="job-{job_id}-conversation"' in shown and conv["profile_sha256"] in shown
    assert "/price" in shown and PAY in shown and b"m".hex() in shown and "2 replies" in shown
    assert f'href="/chats/{conv["chat_id"]}"' in shown and "KST" in shown
    timeline = web.get(f"/chats/{conv['chat_id']}", headers={"accept-language": "en"})
    assert timeline.status_code == 200 and "price list: 10 units" in timeline.text
    korean = web.get(f"/jobs/{job_id}", headers={"accept-language": "ko"}).text
    assert "봇 대화" in korean and "답장 2개" in korean
    listed = web.get("/watch", headers={"accept-language": "en"}).text
    assert f'id="job-{job_id}"' in listed and "My bot conversations" in listed


REFUSED = [
    ("/start\n/undress", "never asks a bot for generation"),
    ("/start\n사진 생성해줘", "never asks a bot for generation"),
    ("\n".join(f"/c{i}" for i in range(21)), "At most 20 commands"),
]


def test_refused_commands_queue_nothing(
    web: TestClient, staffed: App, telegram: list[FakeClient]
) -> None:
    made = telegram
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    for commands, sentence in REFUSED:
        key = _key(web.get("/watch").text)
        form = {"csrf_token": csrf, "key": key, "bot": "@deep_suspect_bot", "commands": commands}
        r = web.post("/watch/bot", data=form, headers={"accept-language": "en"})
        assert r.status_code == 400 and sentence in r.text and 'id="bot-error"' in r.text
        assert "@deep_suspect_bot" in r.text  # the form keeps what was typed
    assert jobs.jobs(staffed) == [] and made == [] and _sent(staffed) == []


def test_scripts_use_the_jobs_api_and_media_is_refused(
    web: TestClient, staffed: App, telegram: list[FakeClient]
) -> None:
    made = telegram
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    headers = {"x-csrf-token": csrf}
    for params, sentence in (
        ({"bot": "@deep_suspect_bot", "commands": [{"photo": "a.jpg"}]}, "only text"),
        ({"bot": "@deep_suspect_bot", "commands": "/start", "wait_seconds": 999}, "Wait between"),
        ({"bot": "https://t.me/+AbCdEfGh12", "commands": ["/start"]}, "by its @username"),
        ({"bot": "@deep_suspect_bot", "commands": ["create an image of her"]}, "generation"),
    ):
        r = web.post("/api/jobs", json={"kind": "bot_conversation", "params": params},
                     headers=headers)  # fmt: skip
        assert r.status_code == 400 and sentence in r.text, (params, r.status_code, r.text)
    assert jobs.jobs(staffed) == []
    r = web.post(
        "/api/jobs",
        json={"kind": "bot_conversation",
              "params": {"bot": "@deep_suspect_bot", "commands": ["/start"], "wait_seconds": 0}},
        headers={**headers, "Idempotency-Key": "k" * 20},
    )  # fmt: skip
    assert r.status_code == 201
    job_id = r.json()["id"]
    assert run_job(staffed, job_id)
    got = web.get(f"/api/jobs/{job_id}").json()
    assert got["state"] == "done" and got["result"]["commands_sent"] == 1
    assert [t for _e, t, _kw in made[0].sent] == ["/start"]


def _api_job(web: TestClient, csrf: str, command: str) -> int:
    r = web.post(
        "/api/jobs",
        json={"kind": "bot_conversation",
              "params": {"bot": "@deep_suspect_bot", "commands": [command], "wait_seconds": 0}},
        headers={"x-csrf-token": csrf},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_no_conversation_from_another_host_while_the_service_runs(
    web: TestClient, staffed: App, telegram: list[FakeClient]
) -> None:
    """Telegram revokes a session used from two addresses at once: a job whose worker runs
    on another host than ``haechi watch run`` fails with a sentence, nothing sent."""
    from sqlalchemy import update

    from haechi.collect.telegram_live import records
    from haechi.store.tables.live import LiveService

    records.heartbeat(staffed, None, started=records.now())
    with staffed.db.begin() as conn:
        conn.execute(update(LiveService).values(host="evidence-box-2"))
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    job_id = _api_job(web, csrf, "/start")
    assert run_job(staffed, job_id)
    info = jobs.get(staffed, job_id)
    assert info.state == "failed" and "evidence-box-2" in (info.error or "")
    assert telegram == [] and _sent(staffed) == []
    with staffed.db.begin() as conn:  # the service on this host: the conversation is held
        conn.execute(update(LiveService).values(host=staffed.settings.host))
    job_id = _api_job(web, csrf, "/help")
    assert run_job(staffed, job_id)
    assert jobs.get(staffed, job_id).state == "done"


def test_without_a_logged_in_account_nothing_is_queued(
    web: TestClient, staffed: App, telegram: list[FakeClient]
) -> None:
    asyncio.run(account.logout(staffed, None))
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    key = _key(web.get("/watch").text)
    form = {"csrf_token": csrf, "key": key, "bot": "@deep_suspect_bot", "commands": "/start"}
    r = web.post("/watch/bot", data=form)
    assert r.status_code == 400 and "haechi watch login" in r.text
    assert jobs.jobs(staffed) == []


def test_only_live_watch_roles_talk_to_bots(staffed: App) -> None:
    for role in (r for r in Role if r is not Role.INVESTIGATOR):
        with client_of(staffed, WebSettings(run_jobs=False)) as web:
            csrf = log_in(web, ROLE_USERS[role])
            form = {"csrf_token": csrf, "key": "k" * 16, "bot": "@deep_suspect_bot",
                    "commands": "/start"}  # fmt: skip
            assert web.post("/watch/bot", data=form).status_code == 403, role
            r = web.post(
                "/api/jobs",
                json={"kind": "bot_conversation",
                      "params": {"bot": "@x_bot", "commands": ["/start"]}},
                headers={"x-csrf-token": csrf},
            )  # fmt: skip
            assert r.status_code == 403, role
    assert jobs.jobs(staffed) == []
