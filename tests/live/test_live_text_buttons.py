"""A bot advert's URL buttons captured live reach the text findings and the graph exactly as
the same buttons in a Telegram Desktop export do."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from telethon.tl import types
from tests.live.conftest import watcher
from tests.live.fake_telegram import FakeClient, FakeWorld
from tests.text.kit import T0, room, write_export

from haechi.analyze.text.entities import extract
from haechi.analyze.text.runner import run_text_analysis
from haechi.app import App
from haechi.cli.ingest_cmd import run_ingest
from haechi.collect.telegram_live.targets import add_target
from haechi.demo.tdesktop_format import Peer
from haechi.graph.build import build_graph
from haechi.store.models import Chat
from haechi.store.tables.text import TextEntity

TEXT = "the new menu is out, prices below"
BOT = "https://t.me/price_list_bot"
INVITE = "https://t.me/+AbCdEfGh1234"
PAY = "https://pay.example.org/checkout?item=7"
EXPECTED = {
    ("tg_bot", "price_list_bot", "button"),
    ("tg_invite", "+AbCdEfGh1234", "button"),
    ("url", "https://pay.example.org/checkout?item=7", "button"),
}


def _entities(app: App, chat_key: str) -> set[tuple[str, str, str]]:
    with app.db.connect() as conn:
        rows = conn.execute(
            select(TextEntity.kind, TextEntity.value, TextEntity.source)
            .join(Chat, Chat.id == TextEntity.chat_id)
            .where(Chat.key == chat_key)
        ).all()
    return {(k, v, s) for k, v, s in rows}


def test_live_url_buttons_become_identifiers_and_graph_edges(app: App, tmp_path: Path) -> None:
    world = FakeWorld()
    advert = world.channel("Menu Channel", "menu_channel_live")
    world.post(
        advert,
        TEXT,
        buttons=types.ReplyInlineMarkup(rows=[
            types.KeyboardInlineButtonRow(buttons=[
                types.KeyboardInlineButton("Prices", types.InlineButtonTypeUrl(BOT)),
                types.KeyboardInlineButton("Join", types.InlineButtonTypeUrl(INVITE)),
            ]),
            types.KeyboardInlineButtonRow(buttons=[
                types.KeyboardInlineButton("Pay", types.InlineButtonTypeUrl(PAY)),
                types.KeyboardInlineButton("More", types.InlineButtonTypeCallback(data=b"m:1")),
            ]),
        ]),
    )  # fmt: skip
    add_target(app, "@menu_channel_live")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    # The same advert in a Telegram Desktop export of another room.
    exported = room("Menu Copy", 2087650001, "public_channel")
    exported.message(T0, Peer("Menu Copy", "channel2087650001"), TEXT, buttons=[
        [{"type": "url", "text": "Prices", "data": BOT},
         {"type": "url", "text": "Join", "data": INVITE}],
        [{"type": "url", "text": "Pay", "data": PAY},
         {"type": "callback", "text": "More", "dataBase64": "bToxCg==", "data": ""}],
    ])  # fmt: skip
    run_ingest(app, write_export(tmp_path / "export", [exported]), quiet=True)

    report = run_text_analysis(app)
    assert report.messages == 2
    live_key = f"channel:{advert.entity.id}"
    live = _entities(app, live_key)
    assert live == EXPECTED  # the text alone names none of them
    assert live == _entities(app, "channel:2087650001")

    g = build_graph(app)
    with app.db.connect() as conn:
        ids = dict(conn.execute(select(Chat.key, Chat.id)).all())
    for key in (live_key, "channel:2087650001"):
        node = f"chat:{ids[key]}"
        edges = {(v, d["kind"]) for _u, v, d in g.out_edges(node, data=True)}
        assert ("bot:price_list_bot", "mention") in edges, edges
        assert ("invite:+AbCdEfGh1234", "link") in edges, edges
        assert (f"url:{PAY}", "link") in edges, edges  # shared by the two rooms


def test_the_older_layers_url_button_is_read_too() -> None:
    """``KeyboardButtonUrl(text, url)``, as Telethon before layer 2xx wrote it (Telethon 1.45
    no longer has the class, so the JSON is written as it stored it)."""
    raw = {
        "_": "Message",
        "id": 9,
        "message": TEXT,
        "reply_markup": {"_": "ReplyInlineMarkup", "rows": [{"_": "KeyboardButtonRow", "buttons": [
            {"_": "KeyboardButtonUrl", "text": "Pay", "url": PAY},
            {"_": "KeyboardButtonCallback", "text": "Menu",
             "data": {"_": "bytes", "base64": "bQ=="}},
        ]}]},
    }  # fmt: skip
    found = {(e.kind, e.value, e.source) for e in extract(TEXT, (), raw)}
    assert found == {("url", PAY, "button")}
    # A reply keyboard (no URL) and hostile shapes add nothing and raise nothing.
    for markup in ({"rows": "x"}, {"rows": [{"buttons": [{"_": "KeyboardButtonUrl", "url": 7}]}]},
                   {"rows": [None, {"buttons": None}]}, []):  # fmt: skip
        assert extract(TEXT, (), {"reply_markup": markup}) == []
