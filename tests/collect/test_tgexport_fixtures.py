"""One hand-written export per tdesktop format generation (tests/fixtures/telegram)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tgexport_helpers import FIXTURES, by_id, collect

from haechi.collect.telegram_export import TelegramExportCollector
from haechi.collect.telegram_export.escapes import repair_x_escapes
from haechi.domain import MediaStatus, NotAnExportError, PeerKind, PeerRef

ExportCopy = Callable[..., Path]
U, C = 1 << 32, 1 << 33


def test_v1_3_no_ids(export_copy: ExportCopy) -> None:
    root = export_copy("v1_3_no_ids")
    collector, chats, messages = collect(root, assume_timezone="Asia/Seoul")
    assert collector.describe().layout == "full_account"
    (chat,) = chats
    assert chat.peer == PeerRef(PeerKind.USER, None, None)
    assert chat.key == "fx:chats.list[0]"  # no id before v1.4.8: keyed by location
    assert any("no id" in w for w in collector.warnings)
    m = by_id(messages)
    assert m[10].sender is None and m[10].sender_name == "Alice"
    # local time in Asia/Seoul (UTC+9): 2018-06-20 21:15:07 KST = 12:15:07 UTC
    assert m[10].date_unix == 1529496907 and m[10].date_raw == "2018-06-20T21:15:07"
    # before v2.1.9 every message carried `edited`; the epoch means "not edited"
    assert (m[10].edited_raw, m[10].edited_unix) == (None, None)
    assert (m[11].edited_raw, m[11].edited_unix) == ("2018-06-20T21:17:30", 1529497050)
    assert m[11].text == "see https://example.org"
    assert m[11].entities == [
        {"type": "plain", "text": "see "},
        {"type": "link", "text": "https://example.org"},
        {"type": "plain", "text": ""},
    ]
    assert (m[12].kind, m[12].action, m[12].sender_name) == ("service", "phone_call", "Alice")


def test_v1_3_without_a_time_zone_keeps_dates_unknown(export_copy: ExportCopy) -> None:
    _, _, messages = collect(export_copy("v1_3_no_ids"))
    assert all(m.date_unix is None for m in messages)
    assert messages[0].date_raw == "2018-06-20T21:15:07"


def test_v1_4_8_int_from_id(export_copy: ExportCopy) -> None:
    collector, chats, messages = collect(export_copy("v1_4_8_int_from_id"))
    assert [c.key for c in chats] == ["user:11111111", "chat:55555"]
    assert chats[0].peer.raw == str(U + 11111111)
    assert chats[1].peer == PeerRef(PeerKind.CHAT, 55555, str(C + 55555))
    m = by_id(messages)
    assert m[100].sender == PeerRef(PeerKind.USER, 11111111, "11111111")
    assert m[101].sender == PeerRef(PeerKind.USER, 99999999, "99999999")
    assert json.loads(m[101].raw)["poll"]["answers"][0] == {
        "text": "Yes",
        "voters": 1,
        "chosen": True,
    }
    assert json.loads(m[1].raw)["members"] == ["Alice", None]
    assert m[1].sender == PeerRef(PeerKind.USER, 11111111, "11111111")
    assert m[2].reply_to_message_id == 1
    # local times only, and no zone given: one warning, naming the option that fills them
    (warning,) = collector.warnings
    assert "--assume-timezone" in warning and "(4 times)" in warning


def test_v2_4_shifted_ids(export_copy: ExportCopy) -> None:
    collector, chats, messages = collect(export_copy("v2_4_shifted_ids"))
    assert chats[0].peer == PeerRef(PeerKind.CHANNEL, 1494031694, str(C + 1494031694))
    m = by_id(messages)
    assert m[500].sender == PeerRef(PeerKind.USER, 11111111, str(U + 11111111))
    # a post by the group itself: the shifted id equals the chat's, so its kind is known
    assert m[501].sender == PeerRef(PeerKind.CHANNEL, 1494031694, str(C + 1494031694))
    # 2^33 + 777 may be a basic group or a channel: never guessed
    assert m[502].sender == PeerRef(PeerKind.UNKNOWN, None, str(C + 777))
    assert m[502].reply_to_peer == str(C + 777)
    assert m[502].edited_raw == "2020-10-01T12:07:00"
    assert m[503].sender == PeerRef(PeerKind.USER, 11111111, str(U + 11111111))
    assert any("basic group or a channel" in w for w in collector.warnings)


def test_v2_7_2_prefixed_ids(export_copy: ExportCopy) -> None:
    root = export_copy("v2_7_2_prefixed_ids", media=["photos/photo_1@01-05-2021_09-01-00.jpg"])
    collector, chats, messages = collect(root)
    assert chats[0].key == "chat:55555"
    m = by_id(messages)
    assert m[20].sender == PeerRef(PeerKind.USER, 22222222, "user22222222")
    assert json.loads(m[20].raw)["members"] == ["Alice", None]
    (photo,) = m[21].files
    assert (photo.role, photo.status) == ("action_photo", MediaStatus.PRESENT)
    assert photo.local_path == (root / "photos/photo_1@01-05-2021_09-01-00.jpg").resolve()
    assert m[22].forwarded_from is None and '"forwarded_from": null' in m[22].raw
    assert m[23].sender == PeerRef(PeerKind.CHANNEL, 1494031694, "channel1494031694")
    assert list(collector.extra_files()) == []


def test_v3_7_6_unixtime(export_copy: ExportCopy) -> None:
    media = ["video_files/mp4.mp4", "video_files/mp4.mp4_thumb.jpg", "stickers/sticker (1).webp"]
    collector, _, messages = collect(export_copy("v3_7_6_unixtime", media=media))
    m = by_id(messages)
    assert (m[1000].date_unix, m[1000].edited_unix) == (1654418579, 1654419750)
    assert m[1000].text == "bold and a link"
    assert m[1000].entities[2] == {
        "type": "text_link",
        "text": "a link",
        "href": "https://example.org/",
    }
    gif = m[1001]
    assert gif.via_bot == "@gif" and gif.media_type == "animation"
    assert [(f.role, f.status) for f in gif.files] == [
        ("file", MediaStatus.PRESENT),
        ("thumbnail", MediaStatus.PRESENT),
    ]
    assert (gif.files[0].mime_type, gif.files[0].duration_seconds) == ("video/mp4", 2)
    sticker = m[1002]
    assert sticker.files[0].export_path == "stickers/sticker (1).webp"
    assert sticker.files[0].status is MediaStatus.PRESENT
    assert sticker.files[1].status is MediaStatus.MISSING  # its thumbnail was not created
    assert [f.path_in_source for f in collector.extra_files()] == []


def test_v4_1_2_text_entities(export_copy: ExportCopy) -> None:
    _, chats, messages = collect(export_copy("v4_1_2_text_entities"))
    assert chats[0].key == "channel:1494031694"
    post = by_id(messages)[7]
    assert post.author == "Editor Kim"
    assert post.sender == PeerRef(PeerKind.CHANNEL, 1494031694, "channel1494031694")
    assert post.text == "Hi Bob, run print(1) here 🔥quotedsecret#tag"
    kinds = {e["type"]: e for e in post.entities}
    assert kinds["mention_name"]["user_id"] == 22222222
    assert kinds["pre"]["language"] == "python"
    assert kinds["text_link"]["href"] == "https://example.org/x"
    assert kinds["custom_emoji"]["document_id"] == "5368324170671202286"
    assert kinds["blockquote"]["collapsed"] is True
    assert post.entities[-1] == {"type": "plain", "text": ""}
    assert by_id(messages)[9].files[0].status is MediaStatus.MISSING


def test_v4_13_raw_callback_bytes_are_repaired(export_copy: ExportCopy) -> None:
    root = export_copy("v4_13_inline_buttons")
    raw_file = (root / "result.json").read_bytes()
    assert b'"1=412\\x012=97180"' in raw_file
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw_file)  # really invalid JSON, as tdesktop writes it
    _, _, messages = collect(root)
    m = by_id(messages)
    buttons = m[300]
    assert buttons.repaired_escapes == 1
    assert "\\x012=97180" in buttons.raw  # raw stays exactly as in the file
    assert raw_file[buttons.raw_offset :].startswith(buttons.raw.encode())
    fixed, _ = repair_x_escapes(buttons.raw)
    assert json.loads(fixed)["inline_bot_buttons"][0][0]["data"] == "1=412\x012=97180"
    assert m[301].text == "bell\x07 and unit\x1f separator"
    assert m[301].repaired_escapes == 4  # two in text, two in text_entities
    assert m[302].text == "a path C:\\x41 stays" and m[302].repaired_escapes == 0


def test_v5_5_7_reactions(export_copy: ExportCopy) -> None:
    collector, _, messages = collect(export_copy("v5_5_7_reactions"))
    m = by_id(messages)
    reactions = json.loads(m[40].raw)["reactions"]
    assert [r["type"] for r in reactions] == ["emoji", "custom_emoji", "paid"]
    assert reactions[0]["recent"][1]["from"] is None
    assert m[40].unknown_keys == () and collector.unknown_fields == {}
    assert m[41].via_bot == "@helper_bot"
    assert json.loads(m[41].raw)["inline_bot_buttons"][0][0]["dataBase64"] == "MT00MTIBMj05NzE4MA"


def test_v5_11_file_sizes_and_placeholders(export_copy: ExportCopy) -> None:
    media = [
        "photos/photo_1@01-03-2025_10-00-00.jpg",
        "video_files/clip.mp4",
        "video_files/clip.mp4_thumb.jpg",
        "contacts/contact_1.vcard",
        "lists/unreferenced_note.txt",
    ]
    root = export_copy("v5_11_file_size", media=media)
    collector, _, messages = collect(root)
    m = by_id(messages)
    photo = m[60].files[0]
    assert (photo.role, photo.status, photo.declared_size) == ("photo", MediaStatus.PRESENT, 75)
    clip, thumb = m[61].files
    assert (clip.file_name, clip.declared_size, clip.media_type) == ("clip.mp4", 16, "video_file")
    assert (clip.duration_seconds, clip.width, clip.height) == (3, 2, 2)
    assert (thumb.role, thumb.declared_size, thumb.status) == ("thumbnail", 75, MediaStatus.PRESENT)
    vcard = m[62].files[0]
    assert (vcard.role, vcard.declared_size, vcard.status) == (
        "contact_vcard",
        30,
        MediaStatus.PRESENT,
    )
    assert m[63].files[0].status is MediaStatus.NOT_INCLUDED
    assert m[63].files[0].declared_size == 900000000
    assert [f.status for f in m[64].files] == [MediaStatus.TOO_LARGE, MediaStatus.UNAVAILABLE]
    assert m[65].files[0].status is MediaStatus.PLACEHOLDER
    assert m[66].files[0].status is MediaStatus.MISSING
    assert m[67].files == []  # location_information: null
    extra = [f.path_in_source for f in collector.extra_files()]
    assert extra == ["lists/unreferenced_note.txt"]
    assert any("Photo is still downloading" in w for w in collector.warnings)


def test_full_account(export_copy: ExportCopy) -> None:
    media = [
        "chats/chat_01/photos/photo_1@01-02-2024_09-00-00.jpg",
        "profile_pictures/photo_1@01-01-2024_00-00-00.jpg",
    ]
    root = export_copy("full_account", media=media)
    collector, chats, messages = collect(root)
    assert collector.describe().layout == "full_account"
    assert [(c.key, c.location) for c in chats] == [
        ("user:99999999", "chats.list[0]"),
        ("user:11111111", "chats.list[1]"),
        ("chat:55555", "chats.list[2]"),  # announced although it has no messages
        ("channel:1712691810", "left_chats.list[0]"),
    ]
    assert chats[0].dialog_type == "saved_messages" and chats[0].title is None
    assert [m.message_id for m in messages] == [1, 5, 9000]
    assert messages[0].files[0].status is MediaStatus.PRESENT
    assert (messages[0].forwarded_from, messages[0].saved_from) == ("Alice", "Alice")
    sections = collector.sections
    assert sections["personal_information"]["username"] == "@test_user"
    assert sections["contacts"]["list"][0]["user_id"] == 11111111
    assert sections["chats"] == {"about": "This page lists all chats from this export."}
    assert sections["left_chats"] == {"about": "Chats you left."}
    assert sections["future_section"] == {"note": "a section this parser does not know"}
    assert collector.unknown_fields == {"section.future_section": 1}
    # the profile picture is referenced by a section, not by a message: kept as extra
    extra = [f.path_in_source for f in collector.extra_files()]
    assert extra == ["profile_pictures/photo_1@01-01-2024_00-00-00.jpg"]


def test_edge_cases(export_copy: ExportCopy) -> None:
    root = export_copy("edge_cases", media=["video_files/gif.mp4"])
    (root.parent / "outside.jpg").write_bytes(b"not evidence of this case")
    collector, chats, messages = collect(root)
    assert chats[0].extra == {"invite_link": "https://t.me/+abc"}
    m = by_id(messages)
    assert [x.message_id for x in messages][:3] == [-999678450, -999678449, -999675685]
    assert json.loads(m[-999678450].raw)["members"] == ["Alice", None]
    assert m[-999678449].sender_name is None  # from: null
    assert m[-999678449].sender == PeerRef(PeerKind.USER, 22222222, "user22222222")
    assert m[1].sender == PeerRef(PeerKind.CHANNEL, 1234567890, "channel1234567890")
    custom = m[2]  # a custom service message: no `action`, only information_text
    assert (custom.kind, custom.action) == ("service", None)
    assert json.loads(custom.raw)["information_text"] == "Alice did something custom"
    unknown_action = m[3]
    assert unknown_action.action == "future_action"
    assert unknown_action.unknown_keys == ("future_detail",)
    unsupported = m[4]
    assert unsupported.kind == "unsupported" and unsupported.date_raw is None
    assert unsupported.raw.replace(" ", "").replace("\n", "") == '{"id":4,"type":"unsupported"}'
    assert json.loads(m[5].raw)["poll"]["question"][0]["text"] == "Vote"
    gif = m[6]
    assert (gif.via_bot, gif.forwarded_from, gif.saved_from) == ("@gif", "Some Channel", None)
    assert gif.files[0].status is MediaStatus.PRESENT
    assert gif.unknown_keys == ("future_key",)
    assert m[7].media_type == "sticker"
    refused = m[8].files[0]
    assert refused.status is MediaStatus.REFUSED and refused.local_path is None
    assert any("../../outside.jpg" in w for w in collector.warnings)
    assert m[9].action == "proximity_reached"
    assert m[9].sender == PeerRef(PeerKind.USER, 11111111, "user11111111")
    assert collector.unknown_fields == {"chat.invite_link": 1, "future_detail": 1, "future_key": 1}


def test_html_only_folder_is_refused_with_one_sentence() -> None:
    with pytest.raises(NotAnExportError) as info:
        TelegramExportCollector(FIXTURES / "html_only")
    message = str(info.value)
    assert "Machine-readable JSON" in message
    assert message.endswith(".") and message.count(". ") == 0
    with pytest.raises(NotAnExportError):
        TelegramExportCollector(FIXTURES / "html_only" / "messages.html")
