"""Bot conversations as evidence, into a case; haechi sends text only, never an image or a
file, never presses a button, never asks for generation."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select, text
from telethon.tl import types
from tests.live.conftest import FAST, ctx_for
from tests.live.fake_telegram import FakeClient, FakeWorld, bot_full

import haechi.collect.telegram_live as live_package
from haechi.app import App
from haechi.cases.service import create_case
from haechi.collect.telegram_live.bots import BotConversation, check_command
from haechi.domain import UsageError
from haechi.store.tables.live import LiveBotProfile

PAY = "https://pay.example.org/checkout?item=7"


def _bot_world() -> tuple[FakeWorld, object]:
    world = FakeWorld()
    bot = world.user("Suspect Bot", "deep_suspect_bot", bot=True)
    bot.usernames = [types.Username(username="deep_suspect_bot", active=True),
                     types.Username(username="old_suspect_bot", active=False)]  # fmt: skip
    world.full_users[bot.id] = bot_full(
        bot, about="fast service", description="send /start to begin",
        commands=[("start", "begin"), ("price", "prices")],
    )  # fmt: skip

    def reply(command: str) -> list[dict[str, object]]:
        if command == "/start":
            return [{
                "text": "welcome. channel: t.me/suspect_channel",
                "sender": bot,
                "entities": [types.MessageEntityUrl(offset=18, length=20)],
                "buttons": types.ReplyInlineMarkup(rows=[types.KeyboardInlineButtonRow(buttons=[
                    types.KeyboardInlineButton("Pay", types.InlineButtonTypeUrl(PAY)),
                    types.KeyboardInlineButton("Menu", types.InlineButtonTypeCallback(data=b"m")),
                ])]),
            }]  # fmt: skip
        return [{"text": "price list: 10 units", "sender": bot}]

    world.bot_replies[bot.id] = reply
    return world, bot


def _sleep() -> object:
    async def no_sleep(_s: float) -> None:
        await asyncio.sleep(0)

    return no_sleep


def test_a_bot_conversation_is_captured_into_a_case(app: App) -> None:
    world, bot = _bot_world()
    client = FakeClient(world)
    case = create_case(app, "Bot selling material", reported_on="2026-03-01")
    conv = BotConversation(app, client, ctx_for(world), FAST, sleep=_sleep(), poll_seconds=0.001)
    report = asyncio.run(conv.run("@deep_suspect_bot", ["/start", "/price"], wait_seconds=0.05,
                                  case=case.ref))  # fmt: skip
    assert len(report.sent) == 2 and report.messages_new == 4
    assert PAY in report.links and "https://t.me/suspect_channel" in report.links
    kinds = {b["kind"]: b for b in report.buttons}
    assert kinds["url"]["url"] == PAY and kinds["callback"]["data_hex"] == b"m".hex()
    # Only text went to the bot, and nothing else was requested of it.
    assert [(t, kw) for _e, t, kw in client.sent] == [
        ("/start", {"link_preview": False}), ("/price", {"link_preview": False})
    ]  # fmt: skip
    assert not any("Callback" in type(r).__name__ for r in client.requests)
    with app.db.connect() as conn:
        texts = conn.execute(
            text("SELECT text FROM messages m JOIN chats c ON c.id = m.chat_id "
                 "WHERE c.key = :k ORDER BY m.message_id"), {"k": f"user:{bot.id}"},
        ).scalars().all()  # fmt: skip
        assert texts == ["/start", "welcome. channel: t.me/suspect_channel", "/price",
                         "price list: 10 units"]  # fmt: skip
        profile = conn.execute(select(LiveBotProfile)).one()
        assert profile.about == "fast service" and profile.description == "send /start to begin"
        assert json.loads(profile.commands_json)[1]["command"] == "price"
        assert profile.case_ref == case.ref
        commands = (
            conn.execute(
                text(
                    "SELECT body FROM custody_events "
                    "WHERE event_type = 'bot_command_sent' ORDER BY seq"
                )
            )
            .scalars()
            .all()
        )
        assert [json.loads(b)["data"]["text"] for b in commands] == ["/start", "/price"]
        items = conn.execute(
            text("SELECT kind, url FROM case_items WHERE case_id = :c"), {"c": case.id}
        ).all()
    kinds_in_case = sorted(k for k, _u in items)
    assert kinds_in_case.count("chat") == 1 and kinds_in_case.count("media") == 1
    assert kinds_in_case.count("message") == 4
    assert {u for k, u in items if k == "link"} == {PAY, "https://t.me/suspect_channel"}
    stored = json.loads(app.vault.read_bytes(profile.blob_sha256))
    assert stored["full"]["full_user"]["about"] == "fast service"
    assert stored["usernames_now"] == ["deep_suspect_bot", "old_suspect_bot"]
    assert stored["names_seen_by_haechi"] == []  # the first time haechi met this bot


@pytest.mark.parametrize(
    "value",
    [b"\xff\xd8\xff\xe0 jpeg bytes", Path("/tmp/photo.jpg"), io.BytesIO(b"x"),
     types.InputMediaPhoto(id=types.InputPhotoEmpty())],
)  # fmt: skip
def test_nothing_but_text_is_ever_sent(value: object) -> None:
    with pytest.raises(UsageError, match="only text"):
        check_command(value)


@pytest.mark.parametrize(
    "command",
    ["/generate", "/undress", "undress her please", "make me a photo", "create an image of x",
     "/nude", "deepfake this", "face swap", "옷 벗겨줘", "사진 생성해줘", "합성 부탁", "/gen 5"],
)  # fmt: skip
def test_requests_for_generation_are_refused(command: str) -> None:
    with pytest.raises(UsageError, match="never asks a bot for generation"):
        check_command(command)


def test_ordinary_commands_pass() -> None:
    for command in ("/start", "/help", "/price", "/balance", "how much for 10?", "가격 알려주세요"):
        assert check_command(command) == command


def test_one_refused_command_means_nothing_is_sent(app: App) -> None:
    world, _bot = _bot_world()
    client = FakeClient(world)
    conv = BotConversation(app, client, ctx_for(world), FAST, sleep=_sleep(), poll_seconds=0.001)
    with pytest.raises(UsageError):
        asyncio.run(conv.run("@deep_suspect_bot", ["/start", "/undress"], wait_seconds=0.01))
    assert client.sent == []


def test_only_bots_are_talked_to(app: App) -> None:
    world, _bot = _bot_world()
    world.user("A Person", "a_person")
    conv = BotConversation(app, FakeClient(world), ctx_for(world), FAST, sleep=_sleep())
    with pytest.raises(UsageError, match="not a bot"):
        asyncio.run(conv.run("@a_person", ["/start"], wait_seconds=0.01))


def test_the_package_has_no_way_to_send_media_or_press_buttons() -> None:
    """Static: none of Telethon's upload, media-sending or button-pressing calls appears in
    the live-capture code (the one send call is ``send_text``)."""
    forbidden = (
        "send_file", "send_media", "upload_file", "SendMediaRequest", "SendMultiMediaRequest",
        "UploadMediaRequest", "GetBotCallbackAnswerRequest", "SendInlineBotResultRequest",
        "InputMediaUploaded", "click(", "send_read_acknowledge", "SendVoteRequest",
        "RequestWebViewRequest", "StartBotRequest",
    )  # fmt: skip
    root = Path(live_package.__file__).parent
    sources = {p.name: p.read_text(encoding="utf-8") for p in root.glob("*.py")}
    for name, source in sources.items():
        for word in forbidden:
            assert word not in source, f"{name} mentions {word}"
    sends = [n for n, s in sources.items() if "send_message(" in s]
    assert sends == ["bots.py"] and sources["bots.py"].count("send_message(") == 1


def test_the_case_package_proves_the_live_messages_by_their_segment(
    app: App, tmp_path: Path
) -> None:
    from haechi.report.package import PackageOptions, create_package
    from haechi.report.standalone.verify_package import verify

    world, _bot = _bot_world()
    case = create_case(app, "Bot evidence package", reported_on="2026-03-01")
    conv = BotConversation(
        app, FakeClient(world), ctx_for(world), FAST, sleep=_sleep(), poll_seconds=0.001
    )
    asyncio.run(conv.run("@deep_suspect_bot", ["/start"], wait_seconds=0.05, case=case.ref))
    # --source-json: the package carries the segments, as it carries an export's result.json
    package = create_package(app, case.ref, tmp_path / "pkg", PackageOptions(source_json=True)).path
    result = verify(str(package))
    assert result.ok, result.problems
    assert result.facts["messages"] == 2
    assert result.facts["messages_checked_in_source"] == 2  # against the segment's bytes
