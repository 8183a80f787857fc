"""The demo export: valid JSON as-is, tdesktop's exact shape, every feature present, benign.

The checks are written from the format spec (shared/specs/telegram-formats.md, 1a) and
tdesktop's writer, not from the builder's code, so they catch a builder that drifts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from haechi.demo.export_builder import build_demo_export

PLACEHOLDERS = (
    "(File not included. Change data exporting settings to download.)",
    "(File exceeds maximum size. Change data exporting settings to download.)",
    "(File unavailable, please try again later)",
)
# tdesktop's SerializeMessage order. Photos and documents never meet in one message, so one
# list serves both (a photo's width/height follow photo_file_size, a document's come last).
MESSAGE_ORDER = [
    "id",
    "type",
    "date",
    "date_unixtime",
    "edited",
    "edited_unixtime",
    "from",
    "from_id",
    "author",
    "forwarded_from",
    "saved_from",
    "reply_to_message_id",
    "reply_to_peer_id",
    "via_bot",
    "photo",
    "photo_file_size",
    "file",
    "file_name",
    "file_size",
    "thumbnail",
    "thumbnail_file_size",
    "media_type",
    "sticker_emoji",
    "mime_type",
    "duration_seconds",
    "width",
    "height",
    "media_spoiler",
    "self_destruct_period_seconds",
    "text",
    "text_entities",
    "inline_bot_buttons",
    "reactions",
]
SERVICE_HEAD = ["id", "type", "date", "date_unixtime", "actor", "actor_id", "action"]
# The scikit-image sample photos the brief allows; nothing else may appear.
ALLOWED_SAMPLES = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "coins",
    "moon",
    "page",
    "text",
    "horse",
    "logo",
    "colorwheel",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
)
KST = timezone(timedelta(hours=9))
MEDIA_KEYS = ("photo", "file", "thumbnail")


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_export(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def data(export: Path) -> dict[str, Any]:
    return json.loads((export / "result.json").read_bytes())  # no repair step at all


def all_chats(data: dict[str, Any]) -> list[dict[str, Any]]:
    return data["chats"]["list"] + data["left_chats"]["list"]


def all_messages(data: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for chat in all_chats(data):
        for msg in chat["messages"]:
            yield chat, msg


def media_refs(data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (key, msg[key], msg) for _, msg in all_messages(data) for key in MEDIA_KEYS if key in msg
    ]


def test_folder_and_top_level_layout(export: Path, data: dict[str, Any]) -> None:
    assert export.name == "DataExport_2024-09-02"
    assert list(data) == ["about", "personal_information", "chats", "left_chats"]
    assert list(data["personal_information"])[:3] == ["user_id", "first_name", "last_name"]
    for section in ("chats", "left_chats"):
        assert list(data[section]) == ["about", "list"]
    for chat in all_chats(data):
        assert list(chat) == ["name", "type", "id", "messages"]
        assert isinstance(chat["id"], int) and chat["id"] > 0  # bare ids since v2.7.2
    types = {c["type"] for c in data["chats"]["list"]}
    assert {"public_channel", "bot_chat"} <= types
    assert types & {"public_supergroup", "private_supergroup", "private_group"}


def test_bytes_are_tdesktop_layout(export: Path, data: dict[str, Any]) -> None:
    raw = (export / "result.json").read_text(encoding="utf-8")
    # One space per level, '": "', no trailing newline: exactly json.dumps(indent=1).
    assert raw == json.dumps(data, ensure_ascii=False, indent=1)
    assert raw.startswith('{\n "about": ') and raw.endswith("\n}")
    assert "\\x" not in raw and "\\u" not in raw  # no control characters to escape at all
    assert re.search("[가-힣]", raw)


def test_ids_and_dates_run_in_order(data: dict[str, Any]) -> None:
    for chat in all_chats(data):
        ids = [m["id"] for m in chat["messages"]]
        assert ids == sorted(set(ids)), chat["name"]
        dates = [int(m["date_unixtime"]) for m in chat["messages"] if "date_unixtime" in m]
        assert dates == sorted(dates), chat["name"]


def test_key_order_and_value_formats(data: dict[str, Any]) -> None:
    for _, msg in all_messages(data):
        keys = list(msg)
        if msg["type"] == "unsupported":
            assert keys == ["id", "type"]
            continue
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", msg["date"])
        assert isinstance(msg["date_unixtime"], str) and msg["date_unixtime"].isdigit()
        local = datetime.fromtimestamp(int(msg["date_unixtime"]), KST)
        assert local.strftime("%Y-%m-%dT%H:%M:%S") == msg["date"]  # local time, no offset
        if "edited" in msg:
            assert keys[4:6] == ["edited", "edited_unixtime"]
            assert int(msg["edited_unixtime"]) > int(msg["date_unixtime"])
        if msg["type"] == "service":
            head = [k for k in keys if k not in ("edited", "edited_unixtime")][:7]
            assert head == SERVICE_HEAD and keys[-2:] == ["text", "text_entities"]
            continue
        assert msg["type"] == "message"
        assert keys == sorted(keys, key=MESSAGE_ORDER.index), keys
        assert re.fullmatch(r"(user|channel|chat)\d+", msg["from_id"])
        text, entities = msg["text"], msg["text_entities"]
        if isinstance(text, str):
            assert entities == ([] if text == "" else [{"type": "plain", "text": text}])
        else:
            assert [
                e if isinstance(e, dict) else {"type": "plain", "text": e} for e in text
            ] == entities
            assert len(text) > 1 or not isinstance(text[0], str)


def test_media_paths_exist_except_the_deliberately_missing_one(
    export: Path, data: dict[str, Any]
) -> None:
    missing, referenced = [], set()
    for key, value, msg in media_refs(data):
        if value.startswith("("):
            assert value in PLACEHOLDERS
            continue
        assert not value.startswith("/") and ".." not in value and "\\" not in value
        assert re.match(
            r"chats/chat_\d+/(photos|video_files|files|stickers|voice_messages)/", value
        )
        path = export / value
        referenced.add(value)
        if not path.exists():
            missing.append(value)
            continue
        size_key = {
            "photo": "photo_file_size",
            "file": "file_size",
            "thumbnail": "thumbnail_file_size",
        }[key]
        assert msg[size_key] == path.stat().st_size, value
        if key == "thumbnail":
            assert value == msg["file"] + "_thumb.jpg"
        if key == "photo":
            name = Path(value).name
            stamp = datetime.fromtimestamp(int(msg["date_unixtime"]), KST)
            assert re.fullmatch(r"photo_\d+@\d\d-\d\d-\d{4}_\d\d-\d\d-\d\d\.jpg", name)
            assert name.endswith(stamp.strftime("@%d-%m-%Y_%H-%M-%S.jpg"))
            with Image.open(path) as img:
                assert (img.width, img.height) == (msg["width"], msg["height"])
    assert len(missing) == 1 and "/photos/" in missing[0]
    on_disk = {p.relative_to(export).as_posix() for p in export.rglob("*") if p.is_file()}
    assert on_disk - {"result.json"} == referenced - set(missing)  # nothing unreferenced


def test_all_three_placeholders(data: dict[str, Any]) -> None:
    values = {value for _, value, _ in media_refs(data)}
    for sentence in PLACEHOLDERS:
        assert sentence in values, sentence


def test_media_inventory(export: Path, data: dict[str, Any]) -> None:
    present = [(k, v, m) for k, v, m in media_refs(data) if (export / v).is_file()]
    photos = {v for k, v, _ in present if k == "photo"}
    docs = [m for k, _, m in present if k == "file"]
    assert len(photos) >= 3 and len(docs) >= 2
    video = next(m for m in docs if m.get("media_type") == "video_file")
    assert video["file"].endswith(".mp4") and "/video_files/video_" in video["file"]
    assert video["mime_type"] == "video/mp4" and video["duration_seconds"] >= 2 and video["text"]
    assert (export / video["thumbnail"]).is_file()
    png = next(m for m in docs if m.get("mime_type") == "image/png")
    assert "media_type" not in png and png["file_name"].endswith(".png")
    assert png["file"].endswith("/files/" + png["file_name"])
    sticker = next(m for m in docs if m.get("media_type") == "sticker")
    assert "/stickers/" in sticker["file"] and sticker["file"].endswith(".webp")
    assert sticker["sticker_emoji"] and (export / sticker["file"]).read_bytes()[8:12] == b"WEBP"


def test_video_plays(export: Path, data: dict[str, Any]) -> None:
    av = pytest.importorskip("av")
    video = next(
        m
        for _, m in all_messages(data)
        if m.get("media_type") == "video_file" and not m["file"].startswith("(")
    )
    with av.open(str(export / video["file"])) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert (stream.width, stream.height) == (video["width"], video["height"])
    assert len(frames) >= 10
    assert abs(frames[-1].time - video["duration_seconds"]) < 1.0


def test_story_features(data: dict[str, Any]) -> None:
    chats = data["chats"]["list"]
    channel = next(c for c in chats if c["type"] == "public_channel")
    groups = [
        c
        for c in chats
        if c["type"] in ("public_supergroup", "private_group", "private_supergroup")
    ]
    assert len(groups) >= 2
    msgs = [m for _, m in all_messages(data)]
    assert 55 <= len(msgs) <= 70
    assert any(m.get("via_bot") == "@demo_helper_bot" for m in channel["messages"])
    assert any("reactions" in m for m in channel["messages"])
    for group in groups:  # both rooms receive the channel's photos as forwards
        assert any(
            m.get("forwarded_from") == channel["name"] and "photo" in m for m in group["messages"]
        )
    assert any("reply_to_message_id" in m for m in msgs)
    assert any("edited" in m and "edited_unixtime" in m for m in msgs)
    assert any(m["type"] == "message" and m["from"] is None for m in msgs)
    actions = {m.get("action") for m in msgs}
    assert {"create_group", "invite_members", "pin_message", "edit_group_title"} <= actions
    assert any(m.get("action") == "invite_members" and None in m["members"] for m in msgs)
    renamed = next(m for m in msgs if m.get("action") == "edit_group_title")
    assert "백업방" in renamed["title"]
    links = [e["text"] for m in msgs for e in m.get("text_entities", []) if e["type"] == "link"]
    assert any(x.startswith("https://t.me/+") for x in links)
    assert any(x.startswith("t.me/") for x in links)
    assert any(m["id"] < 0 and m["id"] + 1_000_000_000 > 0 for m in msgs)  # migrated history
    assert any(m["type"] == "unsupported" for m in msgs)


def test_bot_chat_buttons(data: dict[str, Any]) -> None:
    bot = next(c for c in data["chats"]["list"] if c["type"] == "bot_chat")
    buttons = [b for m in bot["messages"] for row in m.get("inline_bot_buttons", []) for b in row]
    callbacks = [b for b in buttons if b["type"] == "callback"]
    assert callbacks and all(list(b) == ["type", "text", "dataBase64", "data"] for b in callbacks)
    for b in callbacks:
        assert b["data"] == "" and "=" not in b["dataBase64"]
        base64.urlsafe_b64decode(b["dataBase64"] + "=" * (-len(b["dataBase64"]) % 4))
    assert any(e["type"] == "bot_command" for m in bot["messages"] for e in m["text_entities"])


def test_left_chat_holds_only_own_messages(data: dict[str, Any]) -> None:
    me = f"user{data['personal_information']['user_id']}"
    left = data["left_chats"]["list"]
    assert left and all(m["from_id"] == me for c in left for m in c["messages"])


def test_reposts_are_identical_and_near_duplicate(export: Path, data: dict[str, Any]) -> None:
    channel = next(c for c in data["chats"]["list"] if c["type"] == "public_channel")
    digest = {
        m["photo"]: hashlib.sha256((export / m["photo"]).read_bytes()).hexdigest()
        for _, m in all_messages(data)
        if "photo" in m and (export / m["photo"]).is_file()
    }
    posted = {digest[m["photo"]] for m in channel["messages"] if m.get("photo") in digest}
    folder = next(m["photo"] for m in channel["messages"] if "photo" in m).split("photos/")[0]
    reposts = [h for path, h in digest.items() if not path.startswith(folder)]
    assert any(h in posted for h in reposts), "no byte-identical re-post"
    assert len({h for h in reposts if h not in posted}) >= 3, "too few re-encoded near-duplicates"


def _fingerprint(img: Image.Image) -> np.ndarray:
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        img = Image.new("RGB", rgba.size, (255, 255, 255))
        img.paste(rgba, mask=rgba.getchannel("A"))
    return np.asarray(img.convert("L").resize((32, 32), Image.BILINEAR), dtype=np.float32)


@pytest.fixture(scope="module")
def sample_fingerprints() -> dict[tuple[str, float], np.ndarray]:
    from skimage import data as skdata

    refs = {}
    for name in ALLOWED_SAMPLES:
        array = np.asarray(getattr(skdata, name)())
        if array.dtype == bool:
            array = array.astype(np.uint8) * 255
        img = Image.fromarray(array)
        for crop in (0.0, 0.04, 0.08, 0.12, 0.16):  # re-posters crop a little
            w, h = img.size
            dx, dy = round(w * crop / 2), round(h * crop / 2)
            refs[(name, crop)] = _fingerprint(img.crop((dx, dy, w - dx, h - dy)))
    return refs


def test_every_picture_is_a_benign_sample_photo(
    export: Path, sample_fingerprints: dict[tuple[str, float], np.ndarray]
) -> None:
    av = pytest.importorskip("av")
    checked = 0
    for path in sorted(p for p in export.rglob("*") if p.is_file() and p.name != "result.json"):
        if path.suffix == ".mp4":
            with av.open(str(path)) as container:
                frames = [f.to_image() for f in container.decode(video=0)]
        else:
            with Image.open(path) as img:
                img.load()
                frames = [img]
        for frame in (frames[0], frames[-1]):
            fp = _fingerprint(frame)
            scores = sorted(
                (float(np.abs(fp - ref).mean()), key[0]) for key, ref in sample_fingerprints.items()
            )
            best, name = scores[0]
            runner_up = next(s for s, n in scores if n != name)
            # a real match is ~0-3 grey levels off; the next sample is 20+ off
            assert best < 6.0 and runner_up > 3 * best + 10, (path.name, scores[:3])
        checked += 1
    assert checked >= 15


def test_deterministic_for_a_seed(export: Path, tmp_path: Path) -> None:
    again = build_demo_export(tmp_path / "a")
    files = sorted(p.relative_to(export) for p in export.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (export / rel).read_bytes() == (again / rel).read_bytes(), rel
    other = build_demo_export(tmp_path / "b", seed=8)
    assert (other / "result.json").read_bytes() != (export / "result.json").read_bytes()


def test_rebuild_replaces_an_earlier_demo_only(tmp_path: Path) -> None:
    start = time.perf_counter()
    first = build_demo_export(tmp_path)
    assert time.perf_counter() - start < 30  # ~1-2 s normally; generous for loaded machines
    (first / "stray.txt").write_text("left over")
    second = build_demo_export(tmp_path)
    assert second == first and not (second / "stray.txt").exists()
    foreign = tmp_path / "other"
    (foreign / "DataExport_2024-09-02").mkdir(parents=True)
    (foreign / "DataExport_2024-09-02" / "result.json").write_text('{"chats": {}}')
    with pytest.raises(FileExistsError):
        build_demo_export(foreign)
