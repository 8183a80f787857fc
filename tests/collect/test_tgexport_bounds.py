"""The reader's bound on one value holds exactly and costs linear time (issue 17).

Found while reproducing the refused-export finding: a message holding a string just over
``MAX_VALUE_BYTES`` was *accepted* (the bound was checked only while the value was still
open, so anything that closed within the last chunk read passed), and reading it took
about four minutes: each 1 MiB refill re-scanned the unterminated string from its start.
"""

from __future__ import annotations

import io
import json
import time

import pytest

from haechi.collect.telegram_export.jsonstream import MAX_VALUE_BYTES, JsonStream
from haechi.domain import ExportParseError


def _export(text_bytes: int, *, pretty: bool) -> tuple[bytes, int]:
    """A chat whose second message holds a string of ``text_bytes``; and its offset."""
    first = {"id": 1, "type": "message", "date": "2024-01-01T00:00:00", "text": "hi"}
    head = b'{\n "name": "T",\n "type": "private_group",\n "id": 5,\n "messages": [\n  '
    one = json.dumps(first).encode()
    if pretty:  # tdesktop's shape: the element opens alone on its line
        big_head = b'{\n   "id": 2,\n   "type": "message",\n   "text": "'
        big_tail = b'"\n  }'
    else:
        big_head = b'{"id": 2, "type": "message", "text": "'
        big_tail = b'"}'
    prefix = head + one + b",\n  "
    data = prefix + big_head + b'a\\"' + b"x" * (text_bytes - 3) + big_tail + b"\n ]\n}\n"
    return data, len(prefix)


def _read_all(data: bytes, **kw: int) -> list[object]:
    js = JsonStream(io.BytesIO(data), name="result.json", path="result.json", **kw)
    for key in js.object_keys():
        if key == "messages":
            return [value for _o, _r, value, _n in js.iter_array()]
        js.read_value()
    raise AssertionError("no messages")


@pytest.mark.parametrize("pretty", [True, False])
@pytest.mark.parametrize("over", [1, 700, 5000])
def test_a_value_just_over_the_bound_is_refused(pretty: bool, over: int) -> None:
    limit = 64 * 1024
    data, offset = _export(limit + over, pretty=pretty)
    with pytest.raises(ExportParseError) as info:
        _read_all(data, max_value_bytes=limit, chunk_size=4096)
    assert info.value.offset == offset
    assert "more than" in str(info.value)


@pytest.mark.parametrize("pretty", [True, False])
def test_a_value_under_the_bound_is_read_whole(pretty: bool) -> None:
    limit = 64 * 1024
    data, _ = _export(limit - 200, pretty=pretty)
    values = _read_all(data, max_value_bytes=limit, chunk_size=4096)
    assert len(values) == 2 and len(values[1]["text"]) == limit - 200 - 1  # type: ignore[index]


def test_a_huge_string_is_refused_in_linear_time() -> None:
    data, offset = _export(MAX_VALUE_BYTES + 1024, pretty=True)
    started = time.monotonic()
    with pytest.raises(ExportParseError) as info:
        _read_all(data)
    took = time.monotonic() - started
    assert info.value.offset == offset
    # about a second when linear; it took ~220 s when every refill re-scanned the string
    assert took < 30, f"{took:.1f} s to refuse one {len(data):,}-byte value"
