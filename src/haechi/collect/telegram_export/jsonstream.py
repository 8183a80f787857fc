"""Streaming navigation of a (possibly multi-GB) Telegram Desktop ``result.json``.

We never load the whole file. A small tokenizer walks the top-level objects over a
buffered reader; message arrays are streamed element by element; every other value is
decoded whole. Memory stays bounded by the chunk size plus the largest single value.

Fast path. tdesktop pretty-prints with one indentation unit per nesting level, and raw
newlines never occur inside JSON strings, so lines are structural: an array element either
sits whole on its line (``{...},``) or, opening on a line indented by ``I``, closes at the
first ``"\\n" + I + "}"`` after it. We find that with ``bytes.find`` (C speed) and hand the
slice to ``orjson``. A wrong split can never yield a wrong value: the slice starts with
the element's ``{``, and it only parses when it ends exactly at the matching ``}``. When
orjson rejects the slice (tdesktop's invalid ``\\xHH`` escapes, integers beyond 64 bits,
lone surrogates, a wrong split) or the file has no lines at all (minified), we fall back,
for that element only, to a structural scanner that finds the end, and to
``json.JSONDecoder(strict=False)`` with the escape repair.

All offsets are byte offsets in the original file, so an element's ``raw`` bytes can be
cut out of result.json and compared by anyone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, NoReturn

import orjson

from haechi.collect.telegram_export.escapes import (
    original_position,
    repair_positions,
    repair_x_escapes,
)
from haechi.domain import ExportParseError
from haechi.i18n import t_

CHUNK_SIZE = 1 << 20  # bytes read per refill
MAX_VALUE_BYTES = 64 << 20  # no message or section comes near this (a message is < 1 MB)
FAST_LOOKAHEAD = 8 << 20  # how far the fast path may read ahead looking for a line end
_LOOKBEHIND = 4096  # bytes kept before the current position (to see the element's indent)
_DIAGNOSE_BYTES = 16 << 20  # how much of a broken value we re-parse to locate the error

_WS = frozenset(b" \t\r\n")
# Everything up to the next bracket that is not inside a string (strings skipped whole).
_SKIP = re.compile(rb'[^"{}\[\]]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"{}\[\]]*)*', re.S)
_SCALAR_END = re.compile(rb"[\s,\]}:]")
_DECODER = json.JSONDecoder(strict=False)
_LBRACE, _RBRACE, _RBRACKET, _COMMA = b"{}],"

# (byte offset in the file, the element's exact bytes, decoded value, \xHH repairs)
Element = tuple[int, bytes, Any, int]


def _string_close(buf: bytes, opening: int, search_from: int) -> int:
    """Index of the quote closing the string opened at ``opening``, searching from
    ``search_from`` (> opening); -1 when ``buf`` does not hold it yet. A quote closes the
    string when an even number of backslashes precedes it."""
    while True:
        quote = buf.find(b'"', search_from)
        if quote < 0:
            return -1
        back = quote
        while back - 1 > opening and buf[back - 1] == 0x5C:
            back -= 1
        if (quote - back) % 2 == 0:
            return quote
        search_from = quote + 1


class _DecodeFailure(Exception):
    """A slice is not valid JSON; ``char_pos`` indexes the slice decoded as text."""

    def __init__(self, char_pos: int, detail: str) -> None:
        super().__init__(detail)
        self.char_pos = char_pos
        self.detail = detail


def decode_text(text: str) -> tuple[Any, int]:
    """Decode one complete JSON value, repairing ``\\xHH`` only if it is needed."""
    try:
        value, end = _DECODER.raw_decode(text)
        repaired = 0
    except json.JSONDecodeError as exc:
        if not exc.msg.startswith("Invalid \\escape"):
            raise _DecodeFailure(exc.pos, exc.msg) from None
        fixed, repaired = repair_x_escapes(text)
        if not repaired:
            raise _DecodeFailure(exc.pos, exc.msg) from None
        try:
            value, end = _DECODER.raw_decode(fixed)
        except json.JSONDecodeError as exc2:
            pos = original_position(exc2.pos, repair_positions(text))
            raise _DecodeFailure(pos, exc2.msg) from None
        end = original_position(end, repair_positions(text))
    if text[end:].strip(" \t\r\n"):
        raise _DecodeFailure(end, "Extra data")
    return value, repaired


def decode_bytes(data: bytes) -> tuple[Any, int]:
    """orjson first (fast, strict); the tolerant decoder only when orjson refuses."""
    try:
        return orjson.loads(data), 0
    except orjson.JSONDecodeError:
        pass
    return decode_text(data.decode("utf-8", "surrogateescape"))


def _describe(detail: str) -> str:
    """Python's decoder messages, phrased for a person ('Expecting' -> 'expected')."""
    detail = detail.strip().rstrip(".")
    if detail.startswith("Expecting "):
        detail = "expected " + detail[len("Expecting ") :]
    return detail[:1].lower() + detail[1:]


class JsonStream:
    """A buffered byte reader with just enough JSON tokenizing to walk an export."""

    def __init__(
        self,
        fileobj: BinaryIO,
        *,
        name: str,
        path: str,
        chunk_size: int = CHUNK_SIZE,
        max_value_bytes: int = MAX_VALUE_BYTES,
    ) -> None:
        self._f = fileobj
        self.name = name  # for messages: "result.json"
        self.path = path
        self.chunk_size = chunk_size
        self.max_value_bytes = max_value_bytes
        self.buf = b""
        self.base = 0  # file offset of buf[0]
        self.pos = 0  # current index into buf
        self.eof = False
        self.fast_misses = 0  # elements the line-based fast path could not split

    # -- buffer ---------------------------------------------------------------------------
    @property
    def offset(self) -> int:
        """Byte offset in the file of the next unread byte."""
        return self.base + self.pos

    def _fill(self) -> bool:
        """Read one more chunk, dropping consumed bytes. False at end of file."""
        if self.eof:
            return False
        cut = max(0, self.pos - _LOOKBEHIND)
        # A value still open after many refills (a huge string) is read in growing
        # chunks, so the copies of the buffer add up to a few times the value, not its
        # square (bounded by a quarter of the largest value accepted).
        pending = len(self.buf) - self.pos
        data = self._f.read(max(self.chunk_size, min(pending, self.max_value_bytes // 4)))
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[cut:] + data
        self.base += cut
        self.pos -= cut
        return True

    def skip_bom(self) -> None:
        """A UTF-8 byte order mark (files re-saved by some editors) is not JSON."""
        self.peek()
        if self.buf.startswith(b"\xef\xbb\xbf", self.pos):
            self.pos += 3

    def seek(self, offset: int) -> None:
        self._f.seek(offset)
        self.buf, self.base, self.pos, self.eof = b"", offset, 0, False

    def error(self, offset: int, detail: str) -> NoReturn:
        raise ExportParseError(
            t_(
                "{name} is not valid JSON at byte {offset} ({detail}): the "
                "export is truncated or damaged.",
                name=self.name,
                offset=offset,
                detail=detail,
            ),
            path=self.path,
            offset=offset,
        )

    # -- tokens ---------------------------------------------------------------------------
    def peek(self) -> int | None:
        """Skip whitespace; return the next byte without consuming it (None at EOF)."""
        while True:
            buf, pos, n = self.buf, self.pos, len(self.buf)
            while pos < n and buf[pos] in _WS:
                pos += 1
            self.pos = pos
            if pos < n:
                return buf[pos]
            if not self._fill():
                return None

    def expect(self, char: bytes, what: str) -> None:
        got = self.peek()
        if got != char[0]:
            self._unexpected(got, what)
        self.pos += 1

    def _unexpected(self, got: int | None, what: str) -> NoReturn:
        if got is None:
            self.error(self.offset, f"the file ends where {what} was expected")
        self.error(self.offset, f"expected {what}, found {chr(got)!r}")

    def read_key(self) -> str:
        """Read an object key and the colon after it."""
        if self.peek() != ord('"'):
            self._unexpected(self.peek(), "a quoted key")
        key = self.read_value()
        if not isinstance(key, str):  # pragma: no cover - a '"' always starts a string
            self.error(self.offset, "expected a key")
        self.expect(b":", "':'")
        return key

    def object_keys(self) -> Iterator[str]:
        """Yield the keys of the object at the cursor; the caller consumes each value."""
        self.expect(b"{", "'{'")
        if self.peek() == ord("}"):
            self.pos += 1
            return
        while True:
            yield self.read_key()
            got = self.peek()
            if got == ord(","):
                self.pos += 1
            elif got == ord("}"):
                self.pos += 1
                return
            else:
                self._unexpected(got, "',' or '}'")

    def array_items(self) -> Iterator[int]:
        """Yield the index of each element of the array at the cursor; the caller consumes
        the element (used for chat lists, whose elements are too big to decode whole)."""
        self.expect(b"[", "'['")
        if self.peek() == ord("]"):
            self.pos += 1
            return
        index = 0
        while True:
            yield index
            got = self.peek()
            if got == ord(","):
                self.pos += 1
                index += 1
            elif got == ord("]"):
                self.pos += 1
                return
            else:
                self._unexpected(got, "',' or ']'")

    # -- whole values ---------------------------------------------------------------------
    def _value_end(self) -> int:
        """Index in ``buf`` just past the value starting at ``pos`` (reads more as needed).

        Structural scan: one regex match skips everything up to the next bracket outside
        a string (whole strings included), so the Python loop runs once per bracket. It
        does not check the JSON; the decoder does that on the slice.
        """
        if self.peek() is None:
            self._unexpected(None, "a value")
        end = self._scan_end()
        if end - self.pos > self.max_value_bytes:  # closed, but within the last refill
            self._too_large(self.pos)
        return end

    def _scan_end(self) -> int:
        """:meth:`_value_end` without the bound on a value that closes. Every refill
        resumes where the last one stopped (positions are kept relative to ``pos``), so
        a value of n bytes costs O(n), whatever it holds."""
        first = self.buf[self.pos]
        rel = 1  # scan position relative to self.pos (pos moves when the buffer compacts)
        in_string: int | None = 0 if first == 0x22 else None  # where an open string starts
        depth = 1 if first in b"{[" else 0
        skip = _SKIP.match
        while True:
            buf, start = self.buf, self.pos
            i, n = start + rel, len(buf)
            if depth or in_string is not None:
                while True:
                    if in_string is not None:  # inside a string: find its closing quote
                        close = _string_close(buf, start + in_string, i)
                        if close < 0:
                            i = n
                            break
                        in_string = None
                        if not depth:
                            return close + 1
                        i = close + 1
                    i = skip(buf, i).end()  # type: ignore[union-attr]  # always matches
                    if i >= n:
                        break
                    if buf[i] == 0x22:  # a string the buffer does not close yet
                        in_string, i = i - start, i + 1
                        continue
                    if buf[i] in b"{[":
                        depth += 1
                    else:
                        depth -= 1
                        if depth == 0:
                            return i + 1
                    i += 1
            else:
                m = _SCALAR_END.search(buf, i)
                if m is not None:
                    return m.start()
                if self.eof:
                    return len(buf)
                i = n
            rel = i - start
            if len(buf) - start > self.max_value_bytes:
                self._broken(start, f"{self.max_value_bytes:,}")
            if not self._fill():
                self._broken(self.pos, None)

    def _broken(self, start: int, limit: str | None) -> NoReturn:
        """The value at ``start`` never closes: find the real error if there is one."""
        data = self.buf[start : start + _DIAGNOSE_BYTES]
        text = data.decode("utf-8", "surrogateescape")
        value_offset = self.base + start
        try:
            decode_text(text)
        except _DecodeFailure as exc:
            unterminated = exc.detail.startswith("Unterminated string")
            if not unterminated and exc.char_pos < len(text.rstrip(" \t\r\n")):
                off = value_offset + len(text[: exc.char_pos].encode("utf-8", "surrogateescape"))
                self.error(off, _describe(exc.detail))
        if limit is not None:
            self._too_large(start)
        end = self.base + len(self.buf)
        self.error(end, f"the file ends inside the value that starts at byte {value_offset}")

    def _too_large(self, start: int) -> NoReturn:
        limit = f"{self.max_value_bytes:,}"
        what = f"a value of more than {limit} bytes starts here, more than any message holds"
        self.error(self.base + start, what)

    def _decode_slice(self, start: int, end: int) -> tuple[bytes, Any, int]:
        data = self.buf[start:end]
        try:
            value, repaired = decode_bytes(data)
        except _DecodeFailure as exc:
            text = data.decode("utf-8", "surrogateescape")
            off = self.base + start + len(text[: exc.char_pos].encode("utf-8", "surrogateescape"))
            self.error(off, _describe(exc.detail))
        return data, value, repaired

    def read_value(self) -> Any:
        """Decode the whole value at the cursor (about, personal_information, ...)."""
        end = self._value_end()
        _, value, _ = self._decode_slice(self.pos, end)
        self.pos = end
        return value

    def skip_value(self) -> None:
        """Move past the value at the cursor without decoding it (bounded memory)."""
        if self.peek() == ord("["):
            for _ in self.iter_array(decode=False):
                pass
            return
        self.pos = self._value_end()

    # -- arrays ---------------------------------------------------------------------------
    def iter_array(self, *, decode: bool = True) -> Iterator[Element]:
        """Stream the elements of the array at the cursor; each must be a JSON object.

        Yields ``(offset, raw bytes, value, repairs)``; with ``decode=False`` the value is
        None and the bytes empty (used to skip an array we will come back to).
        """
        self.expect(b"[", "'['")
        got = self.peek()
        if got == _RBRACKET:
            self.pos += 1
            return
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        prefix = b""  # b"\n" + indentation of the current element's line
        needle = b""  # prefix + b"}": where a pretty-printed element closes
        next_start = b""  # b"," + prefix + b"{": between two elements
        hits = misses = 0  # the fast path turns itself off if it keeps failing
        aligned = False  # True when we arrived at this element through next_start
        while True:
            if got != _LBRACE:
                self._not_an_object(got)
            start, buf = self.pos, self.buf
            value: Any = None
            data = b""
            repaired = 0
            end = -1
            if decode and misses <= 16 + hits:
                cut = start - len(prefix)
                if not aligned and not (prefix and cut >= 0 and buf.startswith(prefix, cut)):
                    line = buf.rfind(b"\n", 0, start)
                    indent = buf[line + 1 : start] if line >= 0 else b"?"
                    if indent.strip(b" \t") == b"":
                        prefix = b"\n" + indent
                        needle, next_start = prefix + b"}", b"," + prefix + b"{"
                    else:  # not at the start of a line (minified): no fast path
                        prefix = needle = next_start = b""
                aligned = False
                if needle:
                    # The two usual shapes inline; anything else (more data needed, CRLF,
                    # the last element) goes through _fast_end.
                    line_end = buf.find(b"\n", start)
                    if line_end == start + 1:  # '{' alone: pretty-printed
                        end = buf.find(needle, start)
                        if end >= 0:
                            end += len(needle)
                    elif buf[line_end - 1] == _COMMA and buf[line_end - 2] == _RBRACE:
                        end = line_end - 1  # '{...},' on one line
                    if end < 0:
                        end = self._fast_end(start, needle)
                        buf, start = self.buf, self.pos  # _fast_end may have read more
                    if end >= 0:
                        data = buf[start:end]
                        try:
                            value = loads(data)
                            hits += 1
                        except decode_error:
                            end = -1
                    if end < 0:
                        misses += 1
                        self.fast_misses = misses
            if end < 0:
                end = self._value_end()
                start, buf = self.pos, self.buf
                if decode:
                    data, value, repaired = self._decode_slice(start, end)
            elif end - start > self.max_value_bytes:  # the line-based path has no bound
                self._too_large(start)
            yield self.base + start, data, value, repaired
            if next_start and value is not None and buf.startswith(next_start, end):
                # The usual ",\n<indent>{": skip the general whitespace scan.
                self.pos = end + len(next_start) - 1
                got = _LBRACE
                aligned = True
                continue
            self.pos = end
            got = self.peek()
            if got == _COMMA:
                self.pos += 1
                got = self.peek()
            elif got == _RBRACKET:
                self.pos += 1
                return
            else:
                self._unexpected(got, "',' or ']'")

    def _fast_end(self, start: int, needle: bytes) -> int:
        """End of the element at ``start`` found from line structure, or -1.

        Either the element sits on one line ('{...},') or it closes at the first line that
        holds only its indentation and '}'. The caller verifies by decoding the slice.
        """
        buf = self.buf
        end = buf.find(b"\n", start)
        while end < 0 and len(buf) - start < FAST_LOOKAHEAD and self._fill():
            buf, start = self.buf, self.pos
            end = buf.find(b"\n", start)
        if end < 0:
            return -1
        if buf[end - 1] == _COMMA:
            end -= 1
        else:
            while buf[end - 1] in b" \t\r,":
                end -= 1
        if buf[end - 1] == _RBRACE and end - 1 > start:
            return end
        end = buf.find(needle, start)
        while end < 0 and len(buf) - start < FAST_LOOKAHEAD and self._fill():
            buf, start = self.buf, self.pos
            end = buf.find(needle, start)
        return end + len(needle) if end >= 0 else -1

    def _not_an_object(self, got: int | None) -> NoReturn:
        if got is None or got in b",]}":
            self._unexpected(got, "a message object")
        offset = self.offset
        self.read_value()  # raises with the precise position if the value is not JSON
        self.error(offset, "this array element is not a JSON object")
