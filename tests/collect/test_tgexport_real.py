"""Real Telegram Desktop exports from public repositories (/work/shared/data/telegram).

Skipped cleanly where the shared corpus is absent. Every assertion compares against
values read from the files themselves, so a wrong parser fails here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tgexport_helpers import by_id, collect, comparable, make_media, minified_dumps, real_file

from haechi.collect.telegram_export import TelegramExportCollector
from haechi.domain import MediaStatus, NotAnExportError, PeerKind, PeerRef

SAVED = "tdesktop_v2x_saved_messages_innerdvations.json"
MIGRATED = "tdesktop_v2x_public_supergroup_migrated_innerdvations.json"
CHANNEL = "tdesktop_v2x_public_channel_polls_innerdvations.json"
OOP = "tdesktop_2022_supergroup_forwards_id_tgif-oop.json"
CORP = "tdesktop_2022_supergroup_media_viabot_id_tgif-coorporate-speak.json"
FULL = "tdesktop_full_account_layout_synthetic_chat-analytics.json"
BOTAPI = "botapi_messages_updates_teloxide_tests.json"
TDESKTOP = [SAVED, MIGRATED, CHANNEL, OOP, CORP, FULL]


def _chats_of(data: dict) -> list[dict]:
    if "messages" in data:
        return [data]
    return [c for section in ("chats", "left_chats") for c in data.get(section, {}).get("list", [])]


@pytest.mark.parametrize("name", TDESKTOP)
def test_every_message_is_kept_with_its_verbatim_bytes(name: str) -> None:
    path = real_file(name)
    raw_file = path.read_bytes()
    expected = [m for chat in _chats_of(json.loads(raw_file)) for m in chat["messages"]]
    collector, _chats, messages = collect(path)
    assert [m.message_id for m in messages] == [m["id"] for m in expected]
    for record, source in zip(messages, expected, strict=True):
        cut = raw_file[record.raw_offset : record.raw_offset + len(record.raw.encode())]
        assert cut.decode("utf-8") == record.raw
        assert json.loads(record.raw) == source
        assert record.kind == source["type"]
        assert record.date_raw == source.get("date")
        text = source.get("text", "")
        if isinstance(text, list):
            text = "".join(p if isinstance(p, str) else p["text"] for p in text)
        assert record.text == text
        if "date_unixtime" in source:
            assert record.date_unix == int(source["date_unixtime"])
        else:
            assert record.date_unix is None  # local time with no zone given: unknown
    assert collector.unknown_fields == {}
    assert collector.progress_bytes == collector.total_bytes == len(raw_file)


@pytest.mark.parametrize("name", TDESKTOP)
def test_minified_copy_gives_identical_records(name: str, tmp_path: Path) -> None:
    path = real_file(name)
    (tmp_path / "result.json").write_text(minified_dumps(json.loads(path.read_bytes())))
    _, chats_a, a = collect(path)
    _, chats_b, b = collect(tmp_path)
    assert [c.key for c in chats_a] == [c.key for c in chats_b]
    assert [comparable(m) for m in a] == [comparable(m) for m in b]


def test_saved_messages_v2x() -> None:
    collector, chats, messages = collect(real_file(SAVED))
    (chat,) = chats
    assert chat.dialog_type == "saved_messages" and chat.title is None
    # 9999999999 (anonymised) is not a valid shifted *user* id: kept raw, never guessed
    assert chat.peer == PeerRef(PeerKind.USER, None, "9999999999")
    assert chat.key == "fx:"
    assert any("9999999999" in w for w in collector.warnings)
    m = by_id(messages)
    assert len(messages) == 21
    assert m[173429].files[0].export_path == "photos/photo_1@01-08-2020_22-01-49.jpg"
    assert m[173429].files[0].status is MediaStatus.MISSING  # the repo did not ship media
    assert (m[173429].files[0].width, m[173429].files[0].height) == (904, 1280)
    assert m[226106].via_bot == "@gif"
    assert m[226106].files[0].media_type == "animation"
    assert (m[210087].forwarded_from, m[210087].saved_from) == ("Ben", "Other Person")
    big = m[318170]
    assert [(f.role, f.status) for f in big.files] == [
        ("file", MediaStatus.TOO_LARGE),
        ("thumbnail", MediaStatus.TOO_LARGE),
    ]
    sticker = m[278329]
    assert sticker.media_type == "sticker"
    assert sticker.files[0].export_path == "stickers/sticker.webp"
    assert sticker.text == "DoNotChange"
    bold = m[173430]
    assert bold.entities[10] == {
        "type": "text_link",
        "text": "http://google.com",
        "href": "http://google.com/",
    }
    assert bold.entities[1] == {"type": "plain", "text": " "}
    # the ids appended by the repo's author at the end are out of order and indented
    # differently; they must still come out, in file order
    assert [x.message_id for x in messages[-5:]] == [4, 5, 6, 7, 8]
    assert m[4].action == "pin_message" and m[4].kind == "service"


def test_migrated_supergroup_negative_ids() -> None:
    _, chats, messages = collect(real_file(MIGRATED))
    (chat,) = chats
    # 9888888888 = 2^33 + 1298954296 and the messages use int ids (shifted era)
    assert chat.peer == PeerRef(PeerKind.CHANNEL, 1298954296, "9888888888")
    assert chat.key == "channel:1298954296"
    m = by_id(messages)
    assert [x.message_id for x in messages] == [-999678450, -999678449, -999675685, 1]
    create = m[-999678450]
    assert (create.kind, create.action, create.sender_name) == ("service", "create_group", "Ben")
    assert json.loads(create.raw)["members"] == ["Ben", "BenBot"]
    assert create.sender == PeerRef(PeerKind.UNKNOWN, None, "9999999999")
    assert m[-999675685].action == "migrate_to_supergroup"
    assert m[1].action == "migrate_from_group"


def test_channel_with_polls() -> None:
    collector, chats, messages = collect(real_file(CHANNEL))
    (chat,) = chats
    assert chat.peer.kind is PeerKind.CHANNEL and chat.peer.id is None
    assert chat.key == "fx:"
    m = by_id(messages)
    assert m[1].action == "create_channel"
    assert m[4].action == "pin_message"
    assert json.loads(m[4].raw)["message_id"] == 3
    assert json.loads(m[5].raw)["poll"]["question"] == "Poll question"
    assert m[5].files == [] and m[5].text == ""
    assert m[3].reply_to_message_id == 2
    assert len(collector.warnings) >= 1


def test_supergroup_forwards() -> None:
    _, chats, messages = collect(real_file(OOP))
    assert chats[0].key == "channel:1712691810"
    assert chats[0].title == "Teknologi Umum v2.0"
    forwarded = [m for m in messages if m.forwarded_from is not None]
    assert len(forwarded) == 21
    first = by_id(messages)[95364]
    assert first.sender == PeerRef(PeerKind.USER, 368718073, "user368718073")
    assert first.sender_name == "Ahmad Tohir"
    assert first.reply_to_message_id == 95359
    assert first.date_unix is None and first.date_raw == "2022-09-16T21:03:57"
    edited = by_id(messages)[95366]
    assert edited.edited_raw == "2022-09-16T21:04:57" and edited.edited_unix is None


def test_supergroup_media_via_bot_and_null_sender_name() -> None:
    _, _, messages = collect(real_file(CORP))
    m = by_id(messages)
    first = m[10821]
    assert first.sender_name is None  # "from": null (deleted account)
    assert first.sender == PeerRef(PeerKind.USER, 1168523623, "user1168523623")
    assert (first.date_unix, first.edited_unix) == (1654418579, 1654419750)
    assert first.entities == [
        {"type": "link", "text": "https://howtoprofessionallysay.akashrajpurohit.com/"}
    ]
    assert [x.via_bot for x in messages if x.via_bot] == ["@gif"]
    stickers = [f.export_path for x in messages for f in x.files if x.media_type == "sticker"]
    assert "stickers/sticker (1).webp" in stickers


def test_supergroup_media_resolves_when_files_are_present(tmp_path: Path) -> None:
    source = real_file(CORP)
    shutil.copy(source, tmp_path / "result.json")
    make_media(tmp_path, ["stickers/sticker (1).webp", "photos/photo_317@05-06-2022_15-43-13.jpg"])
    make_media(tmp_path, ["notes/unreferenced.txt"])
    collector, _, messages = collect(tmp_path)
    present = {
        f.export_path: f.local_path
        for x in messages
        for f in x.files
        if f.status is MediaStatus.PRESENT
    }
    assert set(present) == {"stickers/sticker (1).webp", "photos/photo_317@05-06-2022_15-43-13.jpg"}
    assert (
        present["stickers/sticker (1).webp"]
        == (tmp_path / "stickers" / "sticker (1).webp").resolve()
    )
    extra = [f.path_in_source for f in collector.extra_files()]
    assert extra == ["notes/unreferenced.txt"]


def test_full_account_layout() -> None:
    collector, chats, messages = collect(real_file(FULL))
    assert collector.layout == "full_account"
    assert collector.describe().layout == "full_account"
    assert [c.key for c in chats] == ["user:700000001", "chat:700000002"]
    assert [c.location for c in chats] == ["chats.list[0]", "chats.list[1]"]
    assert collector.sections["about"] == "Test multi-chat export"
    assert collector.sections["personal_information"]["user_id"] == 100000001
    assert collector.sections["chats"] == {"about": "This page lists all chats from this export."}
    m = by_id(messages)
    assert len(messages) == 6
    call = m[2003]
    assert (call.kind, call.action, call.sender_name) == ("service", "phone_call", "Charlie")
    assert call.sender == PeerRef(PeerKind.USER, 800000000, "user800000000")
    photo = m[2004].files[0]
    assert (photo.role, photo.status) == ("photo", MediaStatus.NOT_INCLUDED)
    assert (photo.width, photo.height) == (800, 600)


def test_bot_api_updates_are_not_an_export() -> None:
    with pytest.raises(NotAnExportError) as info:
        TelegramExportCollector(real_file(BOTAPI)).describe()
    assert "not a Telegram Desktop export" in str(info.value)
    with pytest.raises(NotAnExportError):
        list(TelegramExportCollector(real_file(BOTAPI)).captures())


@pytest.mark.parametrize("name", [SAVED, CORP, FULL])
def test_tiny_read_chunks_give_identical_records(name: str) -> None:
    """Refills in the middle of every token must not change a single byte or value."""
    path = real_file(name)
    first, chats_a, a = collect(path)
    collector = TelegramExportCollector(path, fallback_key_prefix="fx")
    collector.chunk_size = 5
    captures = list(collector.captures())
    chats_b = [c.chat for c in captures if c.message is None]
    b = [c.message for c in captures if c.message is not None]
    assert chats_a == chats_b
    assert [(m.raw, m.raw_offset) for m in a] == [(m.raw, m.raw_offset) for m in b]
    assert [comparable(m) for m in a] == [comparable(m) for m in b]
    assert collector.sections == first.sections
