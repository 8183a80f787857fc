"""The demo's network step on the real sample export: the rooms with the bot ad rank first,
the advertised bot is traced across both rooms, and the renamed backup room is linked to
the room it sent its members to."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from haechi.analyze.text.runner import run_text_analysis
from haechi.analyze.text.service import room_ranking
from haechi.app import App
from haechi.demo import story
from haechi.demo.export_builder import build_demo_export
from haechi.demo.steps import DemoContext, s60_network
from haechi.graph.service import bot_spread, successor_rooms


def test_demo_network(sqlite_app: App, tmp_path: Path) -> None:
    from haechi.cli.ingest_cmd import run_ingest

    run_ingest(sqlite_app, build_demo_export(tmp_path), quiet=True)
    run_text_analysis(sqlite_app)
    ranking = room_ranking(sqlite_app)
    top = {r.title for r in ranking[:2]}
    assert top == {story.GROUP_A_TITLE, story.GROUP_B_TITLE}
    assert all(
        r.score == 0 for r in ranking[2:]
    )  # the coffee channel, the bot chat, the study group
    spread = bot_spread(sqlite_app, story.AD_BOT)
    assert [c["chat"] for c in spread.chats] == [story.GROUP_A_TITLE, story.GROUP_B_TITLE]
    links = successor_rooms(sqlite_app)
    assert len(links) == 1
    titles = {r.chat_id: r.title for r in ranking}
    assert titles[links[0].source_chat] == story.GROUP_A_TITLE
    assert links[0].target_chat is not None and titles[links[0].target_chat] == story.GROUP_B_TITLE
    assert links[0].via == "+" + story.INVITE.rsplit("+", 1)[1]

    buf = io.StringIO()
    ctx = DemoContext(app=sqlite_app, home=sqlite_app.settings.home,
                      out=Console(file=buf, width=200))  # fmt: skip
    s60_network.run(ctx)
    text = buf.getvalue()
    assert "rooms by risk" in text and story.AD_BOT.lstrip("@") in text
    assert "successor room" in text and ctx.facts["top_room"] in top
