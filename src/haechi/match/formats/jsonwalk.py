"""Read a JSON document while remembering on which line each array element starts,
so a bad record in a 200 MB VICS file is named by its line, not only its position."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from haechi.match.formats.base import FormatError

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


def loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})", line=exc.lineno
        ) from None


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def object_members(text: str, pos: int) -> Iterator[tuple[str, int, int]]:
    """(key, value start, value end) of the object starting at ``pos``. The document
    must already be known to be valid JSON (parse it with :func:`loads` first)."""
    pos = _skip(text, pos)
    if text[pos] != "{":
        return
    pos = _skip(text, pos + 1)
    while text[pos] != "}":
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        pos = _skip(text, pos + 1)  # the colon
        _, end = _DECODER.raw_decode(text, pos)
        yield str(key), pos, end
        pos = _skip(text, end)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)


def array_elements(text: str, pos: int) -> Iterator[tuple[int, Any]]:
    """(start offset, value) of each element of the array starting at ``pos``."""
    pos = _skip(text, pos)
    if text[pos] != "[":
        return
    pos = _skip(text, pos + 1)
    while text[pos] != "]":
        value, end = _DECODER.raw_decode(text, pos)
        yield pos, value
        pos = _skip(text, end)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)


class Lines:
    """Offset -> 1-based line number, counted incrementally (offsets only increase)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def at(self, offset: int) -> int:
        if offset < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line


def member_array(text: str, pos: int, key: str) -> Iterator[tuple[int, Any]]:
    """Elements (offset, value) of the array under ``key`` of the object at ``pos``."""
    for name, start, _ in object_members(text, pos):
        if name == key:
            yield from array_elements(text, start)
            return
