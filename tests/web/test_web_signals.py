"""Issue 13, point 4, "signals where people read", on the demo export analysed by the real
text capability: a message with lexicon findings carries a badge with its reason (the
category, the words matched and their strength), the bot advert links to the bot's page of
the network map, and the backup-room announcement links to the successor room's timeline,
on the chat's timeline and on the message's page, in English and in Korean. A role without
the map sees the links' words but no link to a page it may not open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import add_staff

from haechi.app import App
from haechi.services import signals
from haechi.web import i18n

pytestmark = pytest.mark.skipif(not signals.available(), reason="no text or graph capability")


@pytest.fixture
def analysed(sqlite_app: App, tmp_path: Path) -> Iterator[tuple[App, TestClient]]:
    from haechi.analyze.text.runner import run_text_analysis
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.demo.export_builder import build_demo_export

    run_ingest(sqlite_app, build_demo_export(tmp_path), quiet=True)
    run_text_analysis(sqlite_app)
    add_staff(sqlite_app, "lee", "investigator")
    add_staff(sqlite_app, "park", "support_worker")
    with client_of(sqlite_app) as web:
        yield sqlite_app, web


def _chat_of(app: App, pk: int) -> int:
    with app.db.connect() as conn:
        return int(
            conn.execute(text("SELECT chat_id FROM messages WHERE id = :p"), {"p": pk}).scalar_one()
        )


def _article(page: str, message_id: int) -> str:
    found = re.search(
        rf'<article class="msg[^"]*" id="msg-{message_id}">(.*?)</article>', page, re.S
    )
    assert found, f"message #{message_id} is not on the page"
    return found.group(1)


def _message_id(app: App, pk: int) -> int:
    with app.db.connect() as conn:
        return int(
            conn.execute(
                text("SELECT message_id FROM messages WHERE id = :p"), {"p": pk}
            ).scalar_one()
        )


def test_badges_with_their_reason_and_links_to_the_bot_and_the_successor_room(
    analysed: tuple[App, TestClient],
) -> None:
    from haechi.demo import story
    from haechi.graph.service import successor_rooms

    app, web = analysed
    with app.db.connect() as conn:
        finding = conn.execute(
            text("SELECT message_pk, matched FROM text_findings WHERE kind = 'term' "
                 "AND category NOT IN ('victim_identifying', 'victim_detail') ORDER BY id")
        ).first()  # fmt: skip
        bot = conn.execute(
            text("SELECT message_pk, value FROM text_entities WHERE kind = 'tg_bot' "
                 "AND valid ORDER BY id")
        ).first()  # fmt: skip
    assert finding and bot, "the demo export has a lexicon term and a bot advert"
    (moved,) = successor_rooms(app)
    log_in(web, "lee")
    web.cookies.set(i18n.COOKIE, "en")

    # the badge: on the timeline and on the message page, with the words that raised it
    pk, matched = finding
    timeline = web.get(f"/chats/{_chat_of(app, pk)}?after={_message_id(app, pk) - 1}").text
    detail = web.get(f"/messages/{pk}").text
    for page in (_article(timeline, _message_id(app, pk)), detail):
        badge = re.search(r'<li class="badge badge-[^"]*" title="([^"]+)">(.*?)</li>', page, re.S)
        assert badge, page[:3000]
        assert "Lexicon:" in badge.group(
            2
        ) and f'«<bdi translate="no">{matched[:80]}' in badge.group(2)
        assert "not a finding of fact" in badge.group(1)

    # the bot advert links to the bot's page of the map, which opens
    pk, name = bot
    href = "/graph/node?id=" + quote(f"bot:{name.lower()}", safe="")
    page = web.get(f"/messages/{pk}").text
    assert f'<a href="{href.replace("&", "&amp;")}" class="room-link room-link-bot">bot: ' in page
    assert web.get(href).status_code == 200
    assert story.AD_BOT.lstrip("@").lower() == name.lower()

    # the backup-room announcement links to the room its members moved to
    page = web.get(f"/messages/{moved.message_pk}").text
    assert moved.target_chat is not None
    successor = re.search(r'<a href="([^"]+)" class="room-link room-link-successor">([^<]*)', page)
    assert successor and successor.group(1) == f"/chats/{moved.target_chat}", page[:3000]
    assert "moved to (successor room)" in successor.group(2)

    # in Korean: the same badge and link, in Korean words
    web.cookies.set(i18n.COOKIE, "ko")
    page = web.get(f"/messages/{moved.message_pk}").text
    assert "room-link-successor" in page and "moved to" not in page
    assert "어휘 신호:" in web.get(f"/messages/{finding[0]}").text

    # a support worker (no map) reads the words, with no link to a page refused to her
    web.cookies.clear()
    log_in(web, "park")
    page = web.get(f"/messages/{bot[0]}").text
    assert '<span class="room-link room-link-bot">' in page and f'href="{href}' not in page
    assert web.get(href).status_code == 403


def test_the_full_network_view_has_labels_types_a_legend_and_clickable_nodes(
    analysed: tuple[App, TestClient],
) -> None:
    """Every node of the full map comes with its type (one of the legend's), a label and
    the page a click opens; the legend names each type, in Korean too."""
    from haechi.web.views.graph import NODE_TYPES

    _app, web = analysed
    log_in(web, "lee")
    data = web.get("/graph/data.json?full=1").json()
    nodes = [n["data"] for n in data["nodes"]]
    assert len(nodes) > 5
    assert all(n["type"] in NODE_TYPES and n["label"] and n["href"] for n in nodes), [
        n for n in nodes if not (n["type"] in NODE_TYPES and n["label"] and n["href"])
    ]
    kinds = {n["type"] for n in nodes}
    assert {"chat", "bot", "account"} <= kinds, kinds
    for kind in ("chat", "bot", "account"):
        node = next(n for n in nodes if n["type"] == kind)
        assert web.get(node["href"]).status_code == 200, node  # the click's page opens
    web.cookies.set(i18n.COOKIE, "ko")
    legend = re.search(r'<ul class="legend"[^>]*>(.*?)</ul>', web.get("/graph?full=1").text, re.S)
    assert legend
    for kind in NODE_TYPES:
        assert f"node-{kind}" in legend.group(1)
    assert "대화방" in legend.group(1) and "봇" in legend.group(1)
    assert not re.search(r"</span>(chat|bot|account|invite)<", legend.group(1))
