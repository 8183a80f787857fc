"""Text and numbers a database column can hold, made from values a hostile source may hold.

An export is untrusted input, and JSON can carry text that no column takes: a lone UTF-16
surrogate (``"\\ud800"``, or the surrogate escapes standing for invalid UTF-8 bytes) cannot
be encoded as UTF-8 at all, and PostgreSQL ``text`` refuses U+0000 (NUL), which SQLite stores
but its text functions cut at. Integers beyond 64 bits overflow ``BIGINT``. Any of them used
to abort an ingest, and every rerun aborted the same way.

Two treatments, chosen per column:

* **Searchable** columns (message text, names, titles, entity texts) get
  :func:`searchable`: each NUL or lone surrogate becomes U+FFFD, the standard replacement
  character, so the text stays readable and searchable. Lossy on purpose, and harmless: the
  message's raw JSON keeps the original.
* **Identity** columns (a message's ``raw`` JSON, file paths) get :func:`lossless`: the text
  unchanged when a column can hold it, otherwise ``haechi-escaped:`` followed by the text with
  ``\\`` doubled, NUL written ``\\x00``, a surrogate escape for an invalid byte ``HH`` written
  ``\\xHH`` and any other lone surrogate ``\\uXXXX``. The mapping is injective (a clean text
  that happens to start with the marker is escaped too), so two different paths never share
  a row, and :func:`restore` / :func:`raw_bytes` give the original back exactly: for a
  message, ``raw_bytes(raw)`` are the very bytes at ``raw_offset`` in the captured
  ``result.json``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

REPLACEMENT = "\ufffd"
ESCAPED = "haechi-escaped:"
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ESCAPE = re.compile("[\\\\\x00\ud800-\udfff]")
_UNESCAPE = re.compile(r"\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|\\)")


def storable(text: str) -> bool:
    """Whether every back end can hold ``text`` as it is (no NUL, no lone surrogate).

    ``encode`` is the fastest surrogate test CPython has (a regex over the surrogate range
    is several times slower), and an ASCII string cannot hold one at all."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def searchable(text: str | None) -> str | None:
    """``text`` with each NUL and lone surrogate replaced by U+FFFD (None stays None)."""
    if text is None or storable(text):
        return text
    return _UNSTORABLE.sub(REPLACEMENT, text)


def _escape_char(match: re.Match[str]) -> str:
    c = match.group(0)
    if c == "\\":
        return "\\\\"
    code = ord(c)
    if code == 0:
        return "\\x00"
    if 0xDC80 <= code <= 0xDCFF:  # Python's surrogateescape for an invalid byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def lossless(text: str) -> str:
    """``text`` if a column can hold it, else its reversible ``haechi-escaped:`` form."""
    if storable(text) and not text.startswith(ESCAPED):
        return text
    return ESCAPED + _ESCAPE.sub(_escape_char, text)


def _unescape_char(match: re.Match[str]) -> str:
    byte, code = match.group(1), match.group(2)
    if byte is not None:
        value = int(byte, 16)
        return "\x00" if value == 0 else chr(0xDC00 + value)
    if code is not None:
        return chr(int(code, 16))
    return "\\"


def restore(stored: str) -> str:
    """The original text of a :func:`lossless` value (surrogates and NUL included)."""
    if not stored.startswith(ESCAPED):
        return stored
    return _UNESCAPE.sub(_unescape_char, stored[len(ESCAPED) :])


def raw_bytes(stored: str) -> bytes:
    """The source's exact bytes for a stored raw JSON text (see the module docstring)."""
    text = restore(stored)
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stood for no byte (only from a \\u escape)
        return text.encode("utf-8", "surrogatepass")


def clean_json(value: Any) -> Any:
    """A decoded JSON value with every string (keys too) made :func:`searchable`."""
    if isinstance(value, str):
        return searchable(value)
    if isinstance(value, dict):
        return {searchable(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """JSON text for a TEXT column. orjson when it can; it refuses lone surrogates and
    integers beyond 64 bits, and then the strings are cleaned and the standard library
    writes the integers exactly (orjson would read them back as floats: the JSON text,
    not a reader's float, is what is kept)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(clean_json(value), ensure_ascii=False, default=str)


def fit(text: str | None, limit: int) -> str | None:
    """``text`` cut to a ``VARCHAR(limit)`` column (PostgreSQL refuses longer values),
    marked with an ellipsis; the untruncated value stays in the raw JSON."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def int64(value: Any) -> int | None:
    """``value`` if it is an integer a ``BIGINT`` holds, else None."""
    return value if type(value) is int and INT64_MIN <= value <= INT64_MAX else None


def int32(value: Any) -> int | None:
    """``value`` if it is an integer an ``INTEGER`` holds (PostgreSQL: 32 bits), else None."""
    return value if type(value) is int and INT32_MIN <= value <= INT32_MAX else None


__all__ = [
    "ESCAPED",
    "REPLACEMENT",
    "clean_json",
    "dumps",
    "fit",
    "int32",
    "int64",
    "lossless",
    "raw_bytes",
    "restore",
    "searchable",
    "storable",
]
