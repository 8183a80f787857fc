"""The collector as a whole: locating exports, clear errors, id eras, files, memory, speed."""

from __future__ import annotations

import json
import os
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tgexport_helpers import (
    FIXTURES,
    by_id,
    collect,
    make_media,
    tdesktop_dumps,
    write_big_export,
    write_chat_export,
)

import haechi
from haechi.collect.base import Collector
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.collect.telegram_export.normalize import KNOWN_MESSAGE_KEYS, RECORD_POSITIONAL
from haechi.domain import (
    HaechiError,
    MediaStatus,
    NotAnExportError,
    PeerKind,
    PeerRef,
    SourceFile,
    UsageError,
)
from haechi.store.textsafe import ESCAPED, raw_bytes, storable

BIG = (1 << 32) + 5_000_000_000 - (1 << 32)  # a modern bare id above 2^32 (5e9)


def _msg(i: int, **extra: object) -> dict[str, object]:
    return {"id": i, "type": "message", "date": "2021-01-01T00:00:00", "text": "t", **extra}


# -- locating the export ------------------------------------------------------------------
def test_identity_and_describe(tmp_path: Path) -> None:
    write_chat_export(tmp_path / "ChatExport_2024-05-01", [_msg(1)], name="Case chat")
    collector = TelegramExportCollector(tmp_path / "ChatExport_2024-05-01")
    assert isinstance(collector, Collector)
    assert collector.name == "telegram-desktop-export"
    assert collector.version == haechi.__version__
    desc = collector.describe()
    assert desc.kind == "telegram_desktop_export"
    assert desc.uri == str(tmp_path / "ChatExport_2024-05-01")
    assert desc.layout == "single_chat"
    assert "Case chat" in desc.label
    assert desc.root_files == [
        SourceFile("result.json", tmp_path / "ChatExport_2024-05-01" / "result.json", "export_json")
    ]
    assert (
        collector.total_bytes == (tmp_path / "ChatExport_2024-05-01" / "result.json").stat().st_size
    )
    assert collector.progress_bytes == 0


def test_json_file_path_is_accepted(tmp_path: Path) -> None:
    path = write_chat_export(tmp_path / "x", [_msg(1)])
    renamed = path.rename(path.parent / "export.json")
    collector = TelegramExportCollector(renamed)
    assert collector.root == renamed.parent
    assert collector.describe().root_files[0].path_in_source == "export.json"
    assert [c.message.message_id for c in collector.captures() if c.message] == [1]


@pytest.mark.parametrize(
    ("setup", "error", "words"),
    [
        ("missing", UsageError, "does not exist"),
        ("empty", UsageError, "is empty"),
        ("other_files", NotAnExportError, "no result.json"),
        ("nested", NotAnExportError, "give that folder instead"),
        ("result_is_dir", UsageError, "not a regular file"),
    ],
)
def test_bad_paths_give_one_sentence(
    tmp_path: Path, setup: str, error: type[HaechiError], words: str
) -> None:
    target = tmp_path / "export"
    if setup != "missing":
        target.mkdir()
    if setup == "other_files":
        (target / "notes.txt").write_text("hello")
    if setup == "nested":
        write_chat_export(target / "ChatExport_2024-05-01", [_msg(1)])
    if setup == "result_is_dir":
        (target / "result.json").mkdir()
    with pytest.raises(error) as info:
        TelegramExportCollector(target)
    message = str(info.value)
    assert words in message
    assert message.endswith(".") and "\n" not in message


@pytest.mark.parametrize(
    "content", ['{"foo": 1}', '{"about": "x"}', '{"update_id": 1, "message": {"text": "hi"}}']
)
def test_json_that_is_not_an_export(tmp_path: Path, content: str) -> None:
    (tmp_path / "result.json").write_text(content)
    collector = TelegramExportCollector(tmp_path)
    with pytest.raises(NotAnExportError) as info:
        collector.describe()
    assert "not a Telegram Desktop export" in str(info.value)


def test_unknown_time_zone_is_a_usage_error(tmp_path: Path) -> None:
    write_chat_export(tmp_path, [_msg(1)])
    with pytest.raises(UsageError):
        TelegramExportCollector(tmp_path, assume_timezone="Mars/Olympus_Mons")


# -- chat id eras -------------------------------------------------------------------------
def test_big_chat_id_with_modern_clues_is_bare(tmp_path: Path) -> None:
    messages = [_msg(i, from_id="user5", date_unixtime="1609459200") for i in range(1, 250)]
    write_chat_export(tmp_path, messages, type="personal_chat", id=BIG)
    _, chats, got = collect(tmp_path)
    assert chats[0].peer == PeerRef(PeerKind.USER, BIG, str(BIG))
    assert [m.message_id for m in got] == list(range(1, 250))


def test_big_chat_id_with_int_from_ids_is_unshifted(tmp_path: Path) -> None:
    shifted = (1 << 32) + 4242
    write_chat_export(tmp_path, [_msg(1, from_id=shifted)], type="personal_chat", id=shifted)
    _, chats, got = collect(tmp_path)
    assert chats[0].peer == PeerRef(PeerKind.USER, 4242, str(shifted))
    assert got[0].sender == PeerRef(PeerKind.USER, 4242, str(shifted))


def test_big_chat_id_without_clues_is_not_guessed(tmp_path: Path) -> None:
    write_chat_export(tmp_path, [_msg(1), {"id": 2, "type": "unsupported"}], id=BIG)
    collector, chats, got = collect(tmp_path)
    assert chats[0].peer == PeerRef(PeerKind.CHANNEL, None, str(BIG))
    assert chats[0].key == "fx:"
    assert [m.message_id for m in got] == [1, 2]
    assert any("bare" in w and "shifted" in w for w in collector.warnings)


def test_era_learnt_from_an_earlier_chat_applies_to_later_ones(tmp_path: Path) -> None:
    data = {
        "about": "x",
        "chats": {
            "about": "y",
            "list": [
                {
                    "name": "A",
                    "type": "personal_chat",
                    "id": 7,
                    "messages": [_msg(1, from_id="user7")],
                },
                {"name": "B", "type": "public_channel", "id": BIG, "messages": []},
            ],
        },
    }
    (tmp_path / "result.json").write_text(tdesktop_dumps(data))
    _, chats, _ = collect(tmp_path)
    assert [c.key for c in chats] == ["user:7", f"channel:{BIG}"]


def test_unknown_dialog_type_keeps_the_id_raw(tmp_path: Path) -> None:
    write_chat_export(tmp_path, [_msg(1)], type=None, id=123)
    collector, chats, _ = collect(tmp_path)
    assert chats[0].peer == PeerRef(PeerKind.UNKNOWN, None, "123")
    assert chats[0].dialog_type is None
    assert collector.warnings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("user123", PeerRef(PeerKind.USER, 123, "user123")),
        ("chat123", PeerRef(PeerKind.CHAT, 123, "chat123")),
        ("channel123", PeerRef(PeerKind.CHANNEL, 123, "channel123")),
        (123, PeerRef(PeerKind.USER, 123, "123")),
        ((1 << 32) + 123, PeerRef(PeerKind.USER, 123, str((1 << 32) + 123))),
        ((1 << 33) + 123, PeerRef(PeerKind.UNKNOWN, None, str((1 << 33) + 123))),
        ((1 << 34) + 123, PeerRef(PeerKind.UNKNOWN, None, str((1 << 34) + 123))),
        ("bot123", PeerRef(PeerKind.UNKNOWN, None, "bot123")),
        (-5, PeerRef(PeerKind.UNKNOWN, None, "-5")),
        (True, PeerRef(PeerKind.UNKNOWN, None, "True")),
    ],
)
def test_from_id_forms(tmp_path: Path, value: object, expected: PeerRef) -> None:
    write_chat_export(tmp_path, [_msg(1, from_id=value), _msg(2, from_id=value)])
    _, _, got = collect(tmp_path)
    assert got[0].sender == got[1].sender == expected


# -- odd content ----------------------------------------------------------------------------
def test_odd_field_types_are_kept_verbatim(tmp_path: Path) -> None:
    odd = [
        _msg(1, text=None),
        _msg(2, text=["a", 5, {"type": "bold"}, {"type": "bold", "text": "b"}]),
        _msg(3, date=17, reply_to_message_id="x", photo=None, via_bot=["@x"]),
        {"id": 4, "type": 9},
    ]
    write_chat_export(tmp_path, odd)
    collector, _, got = collect(tmp_path)
    m = by_id(got)
    assert m[1].text == ""
    assert m[2].text == "ab"
    assert m[3].date_raw is None and m[3].reply_to_message_id is None and m[3].via_bot is None
    assert m[3].files[0].status is MediaStatus.MISSING and m[3].files[0].export_path is None
    assert m[4].kind == "unknown"
    assert [json.loads(x.raw) for x in got] == odd
    assert len(collector.warnings) >= 4


def test_invalid_utf8_is_kept_recoverably(tmp_path: Path) -> None:
    body = (
        b'{\n "name": "T",\n "type": "bot_chat",\n "id": 5,\n "messages": [\n'
        b'  {"id": 1, "type": "message", "text": "cb \xff\xfe data"}\n ]\n}\n'
    )
    (tmp_path / "result.json").write_bytes(body)
    collector, _, got = collect(tmp_path)
    # no database column takes the surrogate escapes: raw is the reversible escaped form
    assert got[0].raw.startswith(ESCAPED) and storable(got[0].raw)
    raw = raw_bytes(got[0].raw)
    assert body[got[0].raw_offset :].startswith(raw) and raw.endswith(b"}")
    assert got[0].text == "cb \ufffd\ufffd data"
    assert any("UTF-8" in w for w in collector.warnings)


# -- files --------------------------------------------------------------------------------
def test_extra_files_are_sorted_and_symlinks_out_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "export"
    write_chat_export(root, [_msg(1, photo="photos/a.jpg"), _msg(2, file="files/b.bin")])
    make_media(root, ["photos/a.jpg", "files/b.bin", "zz/late.txt", "aa/early.txt", "photos/c.jpg"])
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "private.txt").write_text("not part of the export")
    (root / "link_out").symlink_to(outside)
    (root / "photos" / "alias.jpg").symlink_to(root / "photos" / "a.jpg")
    collector, _, got = collect(root)
    assert [f.status for m in got for f in m.files] == [MediaStatus.PRESENT, MediaStatus.PRESENT]
    extra = list(collector.extra_files())
    assert [f.path_in_source for f in extra] == ["aa/early.txt", "photos/c.jpg", "zz/late.txt"]
    assert all(f.role == "unreferenced" and f.local_path.is_file() for f in extra)
    assert any("link_out" in w and "outside" in w for w in collector.warnings)


def test_warnings_about_the_same_thing_are_grouped(tmp_path: Path) -> None:
    write_chat_export(tmp_path, [_msg(i, photo="/etc/passwd") for i in range(1, 50)])
    collector, _, got = collect(tmp_path)
    assert all(m.files[0].status is MediaStatus.REFUSED for m in got)
    refused = [w for w in collector.warnings if "/etc/passwd" in w]
    assert refused == ["Refused media path '/etc/passwd': the path is absolute. (49 times)"]


# -- flat memory, speed ---------------------------------------------------------------------
def test_records_are_built_positionally() -> None:
    # normalize.py builds MessageRecord positionally for speed; a field reorder in
    # domain/records.py falls back to keywords (still correct) but should be noticed.
    assert RECORD_POSITIONAL


def _peak_traced(folder: Path) -> tuple[int, int]:
    """(messages streamed, peak traced memory in bytes) for one full pass."""
    collector = TelegramExportCollector(folder)
    seen = 0
    tracemalloc.start()
    try:
        for capture in collector.captures():
            if capture.message is not None:
                seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seen, peak


@pytest.mark.slow
def test_memory_stays_flat_on_a_large_export(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    small.mkdir()
    large.mkdir()
    # 100,000 messages, not 200,000 (each costs ~0.17 ms traced): the allowance for growth
    # is halved with the messages added, so a leak of ~10 bytes a message still fails, and
    # reading the whole 30 MB file still goes far past 16 MB.
    write_big_export(small / "result.json", 10_000)
    write_big_export(large / "result.json", 100_000)
    size = (large / "result.json").stat().st_size
    assert size > 30_000_000
    seen_small, peak_small = _peak_traced(small)
    seen_large, peak_large = _peak_traced(large)
    assert (seen_small, seen_large) == (10_000, 100_000)
    # ten times the messages, (about) the same memory: nothing accumulates per message
    assert peak_large < 16 * 1024 * 1024, f"{peak_large / 1e6:.1f} MB for {size / 1e6:.0f} MB"
    assert peak_large < peak_small * 1.125 + 512 * 1024, (peak_small, peak_large)


def test_progress_reaches_the_total(tmp_path: Path) -> None:
    write_chat_export(tmp_path, [_msg(i) for i in range(1, 3000)])
    collector = TelegramExportCollector(tmp_path)
    progress = []
    for capture in collector.captures():
        if capture.message is not None and capture.message.message_id % 1000 == 0:
            progress.append(collector.progress_bytes)
    assert progress == sorted(progress) and 0 < progress[0] < collector.total_bytes
    assert collector.progress_bytes == collector.total_bytes


def test_fixture_folder_has_no_media_committed() -> None:
    files = [p for p in FIXTURES.rglob("*") if p.is_file()]
    suffixes = {p.suffix for p in files}
    assert suffixes <= {".json", ".md", ".html", ".css"}, suffixes
    assert all(os.path.getsize(p) < 20_000 for p in files)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_KEYS = st.sampled_from(
    [*sorted(KNOWN_MESSAGE_KEYS), "future", "id", "type", "text", "from_id", "photo", "file"]
)
_MESSAGE = st.dictionaries(_KEYS, _JSON, max_size=8).map(lambda d: {"id": 1, **d})
_HEADER = st.fixed_dictionaries(
    {},
    optional={
        "name": _JSON,
        "type": _JSON | st.sampled_from(["personal_chat", "public_channel"]),
        "id": _JSON,
    },
)


@settings(max_examples=150, deadline=None)
@given(_HEADER, st.lists(_MESSAGE, max_size=4), st.booleans())
def test_arbitrary_content_never_crashes(
    header: dict[str, object], messages: list[dict[str, object]], minified: bool
) -> None:
    """Whatever a damaged or forged export holds: records, or one HaechiError sentence."""
    with tempfile.TemporaryDirectory() as folder:
        chat = {**header, "messages": messages}
        text = json.dumps(chat, indent=None if minified else 1)
        (Path(folder) / "result.json").write_text(text)
        try:
            collector, _chats, got = collect(Path(folder))
        except HaechiError as exc:
            assert str(exc).endswith(".") and "\n" not in str(exc)
            return
        assert [json.loads(m.raw) for m in got] == messages
        assert isinstance(collector.warnings, list)


_DAMAGE_SOURCE = (FIXTURES / "v4_13_inline_buttons" / "result.json").read_bytes()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(_DAMAGE_SOURCE) - 1), st.binary(max_size=3)),
        min_size=1,
        max_size=3,
    )
)
def test_damaged_bytes_give_records_or_one_sentence(edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(_DAMAGE_SOURCE)
    for position, replacement in edits:
        data[position : position + 1] = replacement
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "result.json").write_bytes(bytes(data))
        try:
            _, _, got = collect(Path(folder))
        except HaechiError as exc:
            assert str(exc).endswith(".") and "\n" not in str(exc)
            return
        for message in got:  # whatever came out is still cut verbatim from the file
            raw = raw_bytes(message.raw)
            assert bytes(data[message.raw_offset : message.raw_offset + len(raw)]) == raw
            # ... and every text of it is one a database column takes (no NUL, no surrogate)
            texts = [message.raw, message.text, message.sender_name, message.date_raw]
            assert all(storable(t) for t in texts if t is not None)
