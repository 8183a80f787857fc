"""Storable text: searchable columns lose only what no column holds; identities lose nothing."""

from __future__ import annotations

import json
import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from haechi.store.textsafe import (
    ESCAPED,
    REPLACEMENT,
    dumps,
    fit,
    int32,
    int64,
    lossless,
    raw_bytes,
    restore,
    searchable,
    storable,
)

# Any code point, lone surrogates and NUL included, and the escape marker itself.
ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)) | st.builds(
    lambda s: ESCAPED + s, st.text()
)


@given(ANY_TEXT)
def test_lossless_round_trips_and_is_storable(text: str) -> None:
    stored = lossless(text)
    assert storable(stored)
    assert restore(stored) == text
    if storable(text) and not text.startswith(ESCAPED):
        assert stored == text  # clean text is stored as it is


@given(ANY_TEXT, ANY_TEXT)
def test_lossless_never_merges_two_texts(a: str, b: str) -> None:
    if a != b:
        assert lossless(a) != lossless(b)


@given(st.binary())
def test_raw_bytes_give_back_any_bytes(data: bytes) -> None:
    """The raw JSON of a message is decoded with surrogateescape when it is not UTF-8."""
    text = data.decode("utf-8", "surrogateescape")
    assert raw_bytes(lossless(text)) == data


@given(ANY_TEXT)
def test_searchable_replaces_only_the_unstorable(text: str) -> None:
    clean = searchable(text)
    assert clean is not None and storable(clean) and len(clean) == len(text)
    for a, b in zip(text, clean, strict=True):
        assert a == b or (b == REPLACEMENT and not storable(a))


def test_storable_values_go_into_sqlite_whole() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x TEXT)")
    for text in ("a\x00b", "a\ud800b", "x\udcff"):
        conn.execute("INSERT INTO t VALUES (?)", (lossless(text),))
    got = [restore(x) for (x,) in conn.execute("SELECT x FROM t ORDER BY rowid")]
    assert got == ["a\x00b", "a\ud800b", "x\udcff"]


def test_dumps_survives_what_orjson_refuses() -> None:
    big = 1 << 70
    text = dumps({"t": "a\ud800", "n": big, "z": "nul\x00"})
    assert storable(text)
    assert json.loads(text) == {"t": "a\ufffd", "n": big, "z": "nul\ufffd"}
    assert dumps({"n": 5}) == '{"n":5}'  # the usual path: orjson


def test_fit_and_integer_ranges() -> None:
    assert fit("abc", 3) == "abc" and fit("abcd", 3) == "ab…" and fit(None, 3) is None
    assert int64((1 << 63) - 1) == (1 << 63) - 1 and int64(1 << 63) is None
    assert int64(1.0) is None and int64(True) is None
    assert int32(2**31 - 1) == 2**31 - 1 and int32(2**31) is None
