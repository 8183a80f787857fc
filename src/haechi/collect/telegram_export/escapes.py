"""Repair of tdesktop's invalid ``\\xHH`` string escapes.

Telegram Desktop writes its JSON with its own serializer. Inside strings it escapes
``\\n \\r \\t " \\\\`` properly, but every other control character below 0x20 comes out as
``\\xHH`` (tdesktop#27571, still so in 2025), which no JSON parser accepts. Real cases are
raw inline-button callback data (``"1=412\\x012=97180"``) and control characters pasted into
message text.

The repair rewrites ``\\xHH`` to ``\\u00HH``. It must only touch a backslash that starts an
escape: in ``\\\\x41`` the first backslash escapes the second, so ``x41`` is literal text.
A backslash starts an escape exactly when the run of backslashes ending at it has odd
length, because JSON escapes pair backslashes from the left of each run.

Callers apply the repair only after a decode failed with an invalid-escape error, so
ordinary messages pay nothing, and they keep the original text as the evidence ``raw``.
"""

from __future__ import annotations

import re

# A whole run of backslashes followed by x and two hex digits. Matching the full run
# (never a suffix of it) is what lets us count its parity: the regex engine scans left to
# right, and a partial run cannot match because the character before 'x' in a partial
# run would still be a backslash of the same run.
_X_ESCAPE = re.compile(r"(\\+)x([0-9A-Fa-f]{2})")

# Each repair turns 4 characters (\xHH) into 6 (\u00HH).
GROWTH_PER_REPAIR = 2


def repair_x_escapes(text: str) -> tuple[str, int]:
    """Rewrite unescaped ``\\xHH`` to ``\\u00HH``; return the new text and the repair count.

    Valid JSON passes through unchanged (a valid document has no unescaped ``\\x``), so
    the function is idempotent.
    """
    if "\\x" not in text:
        return text, 0
    count = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal count
        run, hexdigits = match.group(1), match.group(2)
        if len(run) % 2 == 0:  # every backslash is escaped: 'x' is literal text
            return match.group(0)
        count += 1
        return f"{run}u00{hexdigits}"

    fixed = _X_ESCAPE.sub(fix, text)
    return fixed, count


def repair_positions(text: str) -> list[int]:
    """Character positions (in ``text``) of the escapes :func:`repair_x_escapes` rewrites.

    Used to map an error position in the repaired text back to the original text.
    """
    positions: list[int] = []
    for match in _X_ESCAPE.finditer(text):
        run = match.group(1)
        if len(run) % 2 == 1:
            positions.append(match.end(1) - 1)  # the escaping backslash
    return positions


def original_position(repaired_pos: int, positions: list[int]) -> int:
    """Map a character position in repaired text back to the original text."""
    shift = 0
    for pos in positions:
        start = pos + shift  # where this escape begins in the repaired text
        if repaired_pos < start:
            break
        if repaired_pos < start + 4 + GROWTH_PER_REPAIR:  # inside the rewritten escape
            return pos + min(repaired_pos - start, 3)
        shift += GROWTH_PER_REPAIR
    return repaired_pos - shift
