"""The \\xHH repair: tdesktop's invalid control-character escapes."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from haechi.collect.telegram_export.escapes import (
    original_position,
    repair_positions,
    repair_x_escapes,
)
from haechi.collect.telegram_export.jsonstream import decode_text

# A whole run of backslashes, then u00 and two hex digits: json.dumps' control escapes.
_U_ESCAPE = re.compile(r"(\\+)u00([01][0-9a-fA-F])")
_SHORT = {"b": "\\x08", "f": "\\x0C"}


def tdesktop_style(dumped: str) -> str:
    """Rewrite json.dumps' escapes of control characters the way tdesktop writes them.

    tdesktop keeps \\n \\r \\t \\" \\\\ and writes every other char below 0x20 as \\xHH.
    """

    def fix_u(m: re.Match[str]) -> str:
        run, hexdigits = m.group(1), m.group(2)
        if len(run) % 2 == 0:  # escaped backslash followed by literal 'u00..'
            return m.group(0)
        return f"{run[:-1]}\\x{hexdigits.upper()}"

    out = _U_ESCAPE.sub(fix_u, dumped)

    def fix_short(m: re.Match[str]) -> str:
        run, letter = m.group(1), m.group(2)
        if len(run) % 2 == 0:
            return m.group(0)
        return run[:-1] + _SHORT[letter]

    return re.sub(r"(\\+)([bf])", fix_short, out)


def test_repairs_a_callback_payload() -> None:
    fixed, count = repair_x_escapes('{"data": "1=412\\x012=97180"}')
    assert count == 1
    assert fixed == '{"data": "1=412\\u00012=97180"}'
    assert json.loads(fixed) == {"data": "1=412\x012=97180"}


def test_escaped_backslash_is_not_an_escape() -> None:
    text = '{"t": "C:\\\\x41"}'  # JSON for the 6 characters C:\x41
    assert repair_x_escapes(text) == (text, 0)
    assert json.loads(text) == {"t": "C:\\x41"}


def test_odd_run_of_backslashes_is_repaired() -> None:
    text = '"\\\\\\x41"'  # an escaped backslash, then \x41
    fixed, count = repair_x_escapes(text)
    assert count == 1
    assert json.loads(fixed) == "\\A"


def test_lowercase_and_uppercase_hex() -> None:
    fixed, count = repair_x_escapes('"\\x1f\\x1F"')
    assert count == 2
    assert json.loads(fixed) == "\x1f\x1f"


def test_error_position_maps_back_to_the_original_text() -> None:
    text = '{"a": "\\x01\\x02", "b": tru}'
    positions = repair_positions(text)
    assert positions == [7, 11]
    fixed, _ = repair_x_escapes(text)
    error_in_fixed = fixed.index("tru")
    assert original_position(error_in_fixed, positions) == text.index("tru")
    assert original_position(3, positions) == 3


def test_decode_text_repairs_only_when_needed() -> None:
    assert decode_text('{"a": "b"}') == ({"a": "b"}, 0)
    assert decode_text('{"a": "\\x07\\x1B"}') == ({"a": "\x07\x1b"}, 2)


@given(st.text())
def test_tdesktop_escapes_round_trip(value: str) -> None:
    written = tdesktop_style(json.dumps(value, ensure_ascii=False))
    fixed, _count = repair_x_escapes(written)
    assert json.loads(fixed) == value


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)))
def test_round_trip_with_ascii_escapes(value: str) -> None:
    written = tdesktop_style(json.dumps(value))
    fixed, count = repair_x_escapes(written)
    assert json.loads(fixed) == value
    assert count == sum(1 for c in value if ord(c) < 0x20 and c not in "\n\r\t")


@given(st.recursive(st.text() | st.integers() | st.none(), lambda inner: st.lists(inner)))
def test_repair_is_idempotent_on_valid_json(value: object) -> None:
    text = json.dumps(value)
    assert repair_x_escapes(text) == (text, 0)
    text = json.dumps(value, ensure_ascii=False)
    assert repair_x_escapes(text) == (text, 0)


@given(st.text(), st.text())
def test_escaped_backslash_before_x41_is_untouched(before: str, after: str) -> None:
    text = json.dumps(before + "\\x41" + after, ensure_ascii=False)
    fixed, count = repair_x_escapes(text)
    assert json.loads(fixed) == before + "\\x41" + after
    assert fixed == text
    assert count == 0
