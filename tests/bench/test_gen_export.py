"""bench/gen_export.py: valid tdesktop JSON, exact counts, distinct media, constant memory."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import subprocess
import sys
import tracemalloc
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "gen_export.py"
KST = timezone(timedelta(hours=9))
PLACEHOLDERS = (
    "(File not included. Change data exporting settings to download.)",
    "(File exceeds maximum size. Change data exporting settings to download.)",
    "(File unavailable, please try again later)",
)
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
    "text",
    "text_entities",
    "inline_bot_buttons",
    "reactions",
]


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_export_under_test", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def export(gen: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(
        gen.generate_export(tmp_path_factory.mktemp("g") / "ex", messages=2000, media=50, seed=1)
    )


@pytest.fixture(scope="module")
def data(export: Path) -> dict[str, Any]:
    return json.loads((export / "result.json").read_bytes())


def test_valid_json_with_exact_count(export: Path, data: dict[str, Any]) -> None:
    assert list(data) == ["name", "type", "id", "messages"]
    ids = [m["id"] for m in data["messages"]]
    assert ids == list(range(1, 2001))
    raw = (export / "result.json").read_text(encoding="utf-8")
    assert raw == json.dumps(data, ensure_ascii=False, indent=1)  # tdesktop's layout


def test_media_present_distinct_and_correctly_described(export: Path, data: dict[str, Any]) -> None:
    photos = [m for m in data["messages"] if "photo" in m and not m["photo"].startswith("(")]
    assert len(photos) == 50
    files = sorted(p for p in export.rglob("*") if p.is_file() and p.name != "result.json")
    assert sorted(export / m["photo"] for m in photos) == files  # exactly M files, no extras
    hashes = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    assert len(hashes) == 50
    for msg in photos:
        path = export / msg["photo"]
        assert msg["photo_file_size"] == path.stat().st_size
        assert 1000 < path.stat().st_size < 8000
        with Image.open(path) as img:
            assert img.format == "JPEG" and (img.width, img.height) == (msg["width"], msg["height"])
            assert 64 <= img.width <= 128 and 64 <= img.height <= 128
        stamp = datetime.fromtimestamp(int(msg["date_unixtime"]), KST)
        assert msg["photo"].endswith(stamp.strftime("@%d-%m-%Y_%H-%M-%S.jpg"))
    positions = [data["messages"].index(m) for m in photos]
    gaps = {b - a for a, b in itertools.pairwise(positions)}
    assert gaps <= {39, 40, 41}  # evenly spaced: 2000 / 50


def test_realistic_variety(data: dict[str, Any]) -> None:
    msgs = data["messages"]
    kinds = Counter(m["type"] for m in msgs)
    assert kinds["service"] >= 3 and kinds["message"] > 1900
    plain = [
        m
        for m in msgs
        if m["type"] == "message"
        and isinstance(m["text"], str)
        and m["text"]
        and not set(m)
        & {"forwarded_from", "reply_to_message_id", "via_bot", "photo", "file", "edited"}
    ]
    assert 0.55 < len(plain) / len(msgs) < 0.8
    arrays = [m for m in msgs if isinstance(m.get("text"), list)]
    entity_types = {e["type"] for m in arrays for e in m["text_entities"]}
    assert {"link", "mention", "hashtag"} <= entity_types
    for key in ("reply_to_message_id", "forwarded_from", "edited", "via_bot", "reactions"):
        assert any(key in m for m in msgs), key
    values = {m.get("photo") for m in msgs} | {m.get("file") for m in msgs}
    assert values & set(PLACEHOLDERS)
    text = json.dumps(msgs, ensure_ascii=False)
    assert any("\uac00" <= ch <= "\ud7a3" for ch in text)  # Korean


def test_tdesktop_key_order_and_dates(data: dict[str, Any]) -> None:
    last = 0
    for msg in data["messages"]:
        if msg["type"] == "unsupported":
            assert list(msg) == ["id", "type"]
            continue
        unix = int(msg["date_unixtime"])
        assert unix >= last
        last = unix
        assert datetime.fromtimestamp(unix, KST).strftime("%Y-%m-%dT%H:%M:%S") == msg["date"]
        if msg["type"] == "message":
            keys = list(msg)
            assert keys == sorted(keys, key=MESSAGE_ORDER.index), keys
            assert msg["from_id"].startswith("user")
        else:
            assert list(msg)[4:7] == ["actor", "actor_id", "action"]
            assert msg["text"] == "" and msg["text_entities"] == []


def test_minified_is_the_same_data_on_one_line(
    gen: ModuleType, data: dict[str, Any], tmp_path: Path
) -> None:
    out = Path(
        gen.generate_export(tmp_path / "min", messages=2000, media=50, seed=1, minified=True)
    )
    raw = (out / "result.json").read_bytes()
    assert b"\n" not in raw
    assert json.loads(raw) == data


def test_deterministic_per_seed(gen: ModuleType, tmp_path: Path) -> None:
    a = Path(gen.generate_export(tmp_path / "a", messages=500, media=5, seed=4))
    b = Path(gen.generate_export(tmp_path / "b", messages=500, media=5, seed=4))
    c = Path(gen.generate_export(tmp_path / "c", messages=500, media=5, seed=5))
    for rel in ["result.json"] + [f"photos/{p.name}" for p in (a / "photos").iterdir()]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert (a / "result.json").read_bytes() != (c / "result.json").read_bytes()


def test_cli_and_refusals(tmp_path: Path) -> None:
    dest = tmp_path / "cli"
    cmd = [sys.executable, str(SCRIPT), str(dest), "--messages", "300", "--media", "3"]
    subprocess.run(cmd, check=True, capture_output=True)
    assert len(json.loads((dest / "result.json").read_bytes())["messages"]) == 300
    subprocess.run([*cmd[:-1], "2"], check=True, capture_output=True)  # rerun replaces
    assert len(list((dest / "photos").iterdir())) == 2
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(foreign), "--messages", "5"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "not empty" in proc.stderr
    assert (foreign / "notes.txt").exists()
    bad = subprocess.run([*cmd[:3], "--messages", "2", "--media", "3"], capture_output=True)
    assert bad.returncode != 0


@pytest.mark.slow
def test_memory_does_not_grow_with_message_count(gen: ModuleType, tmp_path: Path) -> None:
    gen.generate_export(tmp_path / "warm", messages=100, media=1, seed=1)  # imports, fonts
    peaks = []
    for n in (4000, 16000):
        tracemalloc.start()
        gen.generate_export(tmp_path / f"n{n}", messages=n, media=4, seed=1)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] + 2_000_000, peaks  # 4x the messages, same peak
