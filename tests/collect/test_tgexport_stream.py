"""Streaming JSON navigation: layouts of whitespace, fallbacks, and errors with byte offsets."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tgexport_helpers import collect, comparable, minified_dumps, tdesktop_dumps, write_chat_export

from haechi.collect.telegram_export import TelegramExportCollector
from haechi.collect.telegram_export.jsonstream import JsonStream
from haechi.domain import ExportParseError, NotAnExportError

MESSAGES = [
    {"id": 1, "type": "message", "date": "2024-01-01T00:00:00", "date_unixtime": "1704067200",
     "from": "A", "from_id": "user1", "text": ["x ", {"type": "bold", "text": "y"}, ""],
     "text_entities": [{"type": "plain", "text": "x "}, {"type": "bold", "text": "y"},
                       {"type": "plain", "text": ""}]},
    {"id": 2, "type": "message", "date": "2024-01-01T00:00:01", "date_unixtime": "1704067201",
     "from": "B \"quoted\" }\n{", "from_id": "user2", "text": "line1\nline2 ] } {",
     "text_entities": [{"type": "plain", "text": "line1\nline2 ] } {"}]},
    {"id": -999678450, "type": "service", "date": "2024-01-01T00:00:02",
     "date_unixtime": "1704067202", "actor": "A", "actor_id": "user1", "action": "create_group",
     "title": "t", "members": ["A", None], "text": "", "text_entities": []},
    {"id": 4, "type": "unsupported"},
]  # fmt: skip


def _elements(data: bytes, chunk_size: int = 1 << 20) -> list[tuple[int, bytes, object, int]]:
    js = JsonStream(io.BytesIO(data), name="result.json", path="result.json", chunk_size=chunk_size)
    for key in js.object_keys():
        if key == "messages":
            return list(js.iter_array())
        js.read_value()
    raise AssertionError("no messages")


def _layouts() -> dict[str, bytes]:
    chat = {"name": "T", "type": "private_supergroup", "id": 5, "messages": MESSAGES}
    one_per_line = (
        '{\n "name": "T",\n "type": "private_supergroup",\n "id": 5,\n "messages": [\n'
        + ",\n".join("  " + json.dumps(m, ensure_ascii=False) for m in MESSAGES)
        + "\n ]\n}\n"
    )
    return {
        "tdesktop": tdesktop_dumps(chat).encode(),
        "minified": minified_dumps(chat).encode(),
        "tabs": json.dumps(chat, indent="\t", ensure_ascii=False).encode(),
        "crlf": tdesktop_dumps(chat).replace("\n", "\r\n").encode(),
        "one_per_line": one_per_line.encode(),
        "four_spaces": json.dumps(chat, indent=4).encode(),
    }


@pytest.mark.parametrize("layout", sorted(_layouts()))
@pytest.mark.parametrize("chunk_size", [7, 64, 1 << 20])
def test_every_layout_streams_the_same_values(layout: str, chunk_size: int) -> None:
    data = _layouts()[layout]
    elements = _elements(data, chunk_size)
    assert [value for _, _, value, _ in elements] == MESSAGES
    for offset, raw, value, repaired in elements:
        assert data[offset : offset + len(raw)] == raw  # the verbatim bytes, where they are
        assert json.loads(raw) == value
        assert repaired == 0


def test_minified_and_pretty_give_identical_records(tmp_path: Path) -> None:
    pretty = write_chat_export(tmp_path / "pretty", MESSAGES)
    mini = write_chat_export(tmp_path / "mini", MESSAGES, minified=True)
    _, chats_a, a = collect(pretty.parent)
    _, chats_b, b = collect(mini.parent)
    assert chats_a == chats_b
    assert [comparable(m) for m in a] == [comparable(m) for m in b]
    assert [json.loads(m.raw) for m in a] == [json.loads(m.raw) for m in b] == MESSAGES


def test_fallbacks_big_ints_lone_surrogates_and_control_chars(tmp_path: Path) -> None:
    body = (
        '{"name": "T", "type": "personal_chat", "id": 7, "messages": [\n'
        '  {"id": 1, "type": "message", "from_id": "user1", "text": "x",'
        ' "big": 123456789012345678901234567890},\n'
        '  {"id": 2, "type": "message", "from_id": "user1", "text": "\\ud800 lone"},\n'
        '  {"id": 3, "type": "message", "from_id": "user1", "text": "raw\ttab"},\n'
        '  {"id": 4, "type": "message", "from_id": "user1", "text": "ok"}\n'
        " ]\n}\n"
    )  # fmt: skip
    (tmp_path / "result.json").write_text(body, encoding="utf-8")
    collector, _, messages = collect(tmp_path)
    assert [m.message_id for m in messages] == [1, 2, 3, 4]
    assert messages[0].unknown_keys == ("big",)
    assert messages[1].text == "\ufffd lone"  # storable; raw keeps the escape as written
    assert "\\ud800 lone" in messages[1].raw
    assert messages[2].text == "raw\ttab"
    assert collector.unknown_fields == {"big": 1}


def test_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    data = tdesktop_dumps({"name": "T", "type": "personal_chat", "id": 7, "messages": MESSAGES})
    (tmp_path / "result.json").write_bytes(b"\xef\xbb\xbf" + data.encode())
    _, _, messages = collect(tmp_path)
    raw_file = (tmp_path / "result.json").read_bytes()
    assert [m.message_id for m in messages] == [1, 2, -999678450, 4]
    for m in messages:
        assert raw_file[m.raw_offset : m.raw_offset + len(m.raw.encode())].decode() == m.raw


def test_keys_in_another_order_are_handled(tmp_path: Path) -> None:
    """A re-serialised export with sorted keys puts 'messages' before 'name' and 'type'."""
    chat = {"name": "Sorted", "type": "public_channel", "id": 77, "messages": MESSAGES[:2]}
    (tmp_path / "result.json").write_text(json.dumps(chat, indent=1, sort_keys=True))
    _, chats, messages = collect(tmp_path)
    assert [c.title for c in chats] == ["Sorted"]
    assert chats[0].key == "channel:77"
    assert [m.message_id for m in messages] == [1, 2]


def _broken(tmp_path: Path, data: bytes) -> tuple[ExportParseError, list[int]]:
    """The parse error, and the ids of the messages yielded before it (kept by the ingest)."""
    (tmp_path / "result.json").write_bytes(data)
    got: list[int] = []
    with pytest.raises(ExportParseError) as info:
        for capture in collect_iter(tmp_path):
            if capture is not None:
                got.append(capture)
    return info.value, got


def collect_iter(path: Path) -> Iterator[int | None]:
    """Message ids (None for chat announcements) as the collector yields them."""
    for capture in TelegramExportCollector(path).captures():
        yield None if capture.message is None else capture.message.message_id


def test_truncated_file_reports_an_offset_near_the_end(tmp_path: Path) -> None:
    full = tdesktop_dumps({"name": "T", "type": "personal_chat", "id": 7, "messages": MESSAGES})
    data = full.encode()[: len(full.encode()) - 40]
    error, got = _broken(tmp_path, data)
    assert len(data) - 5 <= error.offset <= len(data)
    assert got == [1, 2, -999678450]
    message = str(error)
    assert message.startswith("result.json is not valid JSON at byte ")
    assert "truncated or damaged" in message
    assert message.count(".") >= 1 and "\n" not in message


def test_garbage_inside_a_message_points_at_it(tmp_path: Path) -> None:
    full = tdesktop_dumps({"name": "T", "type": "personal_chat", "id": 7, "messages": MESSAGES})
    marker = '"from": "B'
    at = full.index(marker)
    data = (full[:at] + "@@GARBAGE@@ " + full[at:]).encode()
    error, got = _broken(tmp_path, data)
    assert error.offset == data.index(b"@@GARBAGE@@")
    assert got == [1]


def test_garbage_between_messages_points_at_it(tmp_path: Path) -> None:
    full = tdesktop_dumps({"name": "T", "type": "personal_chat", "id": 7, "messages": MESSAGES})
    at = full.index('  {\n   "id": 2')
    data = (full[:at] + "xyz " + full[at:]).encode()
    error, got = _broken(tmp_path, data)
    assert error.offset == data.index(b"xyz")
    assert "expected" in str(error)
    assert got == [1]


def test_unbalanced_quote_points_at_the_damage(tmp_path: Path) -> None:
    full = tdesktop_dumps({"name": "T", "type": "personal_chat", "id": 7, "messages": MESSAGES})
    at = full.index('"type": "service"')
    data = (full[:at] + '"oops: 1,\n' + full[at:]).encode()
    error, got = _broken(tmp_path, data)
    assert data.index(b'"oops') <= error.offset < data.index(b'"oops') + 40
    assert got == [1, 2]


def test_element_that_is_not_an_object(tmp_path: Path) -> None:
    data = b'{"name": "T", "type": "personal_chat", "id": 7, "messages": [\n  42\n ]\n}'
    error, got = _broken(tmp_path, data)
    assert error.offset == data.index(b"42")
    assert "not a JSON object" in str(error)
    assert got == []


def test_message_without_an_id_is_a_clear_error(tmp_path: Path) -> None:
    data = b'{"name": "T", "type": "personal_chat", "id": 7, "messages": [\n'
    data += b'  {"type": "message"}\n ]\n}'
    error, got = _broken(tmp_path, data)
    assert error.offset == data.index(b'{"type"')
    assert "no integer id" in str(error)
    assert got == []


def test_data_after_the_root_object(tmp_path: Path) -> None:
    full = tdesktop_dumps({"name": "T", "type": "personal_chat", "id": 7, "messages": MESSAGES})
    data = (full + "\n{}").encode()
    error, got = _broken(tmp_path, data)
    assert error.offset == len(data) - 2
    assert got[-1] == 4


def test_messages_that_is_not_a_list(tmp_path: Path) -> None:
    data = b'{"name": "T", "type": "personal_chat", "id": 7, "messages": {}}'
    error, got = _broken(tmp_path, data)
    assert error.offset == data.index(b"{}")
    assert got == []


@pytest.mark.parametrize("data", [b"", b"   \n", b"[1, 2]", b"<html></html>", b'"text"'])
def test_not_a_json_object(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "result.json").write_bytes(data)
    with pytest.raises(NotAnExportError):
        TelegramExportCollector(tmp_path).describe()


def test_a_value_beyond_the_size_limit_is_an_error_not_a_memory_blowup() -> None:
    # minified, and a string that never closes: the structural scanner must give up
    head = '{"name":"T","type":"personal_chat","id":7,"messages":[{"id":1,"text":"'
    data = (head + "x" * 50_000).encode()
    js = JsonStream(
        io.BytesIO(data), name="result.json", path="p", chunk_size=64, max_value_bytes=1000
    )
    for key in js.object_keys():
        if key == "messages":
            with pytest.raises(ExportParseError) as info:
                list(js.iter_array())
            assert info.value.offset == data.index(b'{"id":1')
            assert "more than 1,000 bytes" in str(info.value)
            assert len(js.buf) < 1000 + 2 * 64 + 4096
            return
        js.read_value()
    raise AssertionError("no messages")


def test_daylight_saving_ambiguity_is_reported(tmp_path: Path) -> None:
    # 2021-10-31 02:30 happened twice in Berlin; 2021-03-28 02:30 never happened
    messages = [
        {"id": 1, "type": "message", "date": "2021-10-31T02:30:00", "text": "a"},
        {"id": 2, "type": "message", "date": "2021-03-28T02:30:00", "text": "b"},
        {"id": 3, "type": "message", "date": "2021-07-01T12:00:00", "text": "c"},
    ]
    write_chat_export(tmp_path, messages)
    collector, _, got = collect(tmp_path, assume_timezone="Europe/Berlin")
    assert got[0].date_unix == 1635640200  # the first (summer-time) 02:30, UTC+2
    assert got[2].date_unix == 1625133600  # 10:00 UTC
    assert any("ambiguous or skipped" in w and "(2 times)" in w for w in collector.warnings)
