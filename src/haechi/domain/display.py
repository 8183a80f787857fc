"""Text from sources shown to people: invisible formatting characters made visible.

Telegram names, titles, file names and messages are written by the people under
investigation. A RIGHT-TO-LEFT OVERRIDE turns ``photo\\u202egpj.exe`` into what reads as
"photoexe.jpg"; zero-width and other invisible characters make two different names look
the same. Everywhere such text is shown (web pages, reports, notices, the command line),
each of these characters is replaced by a visible token naming it, e.g. ``⟨RLO⟩``, so the
reader sees exactly what is there. The stored evidence is never changed: this is for
display only.

Kept as they are: ZERO WIDTH JOINER and NON-JOINER (U+200D, U+200C), which Korean does not
need but emoji sequences and Persian or Indic scripts do, and which cannot reorder text.
"""

from __future__ import annotations

import re

# Characters that change the order of text or take no space, with the short name shown.
_NAMED = {
    "\u061c": "ALM",
    "\u200e": "LRM",
    "\u200f": "RLM",
    "\u202a": "LRE",
    "\u202b": "RLE",
    "\u202c": "PDF",
    "\u202d": "LRO",
    "\u202e": "RLO",
    "\u2066": "LRI",
    "\u2067": "RLI",
    "\u2068": "FSI",
    "\u2069": "PDI",
    "\u200b": "ZWSP",
    "\u2060": "WJ",
    "\ufeff": "BOM",
    "\u00ad": "SHY",
    "\u180e": "MVS",
    "\u034f": "CGJ",
}
# Other invisible format characters, shown by code point: invisible operators, interlinear
# annotation, deprecated format controls, tags (U+E0000 block), variation selectors of
# the supplementary block are left alone (they only pick a glyph).
_RANGES = "\u2061-\u2064\u206a-\u206f\ufff9-\ufffb\U000e0000-\U000e007f\u115f\u1160\u3164\uffa0"
INVISIBLE = re.compile("[" + "".join(_NAMED) + _RANGES + "]")


def _token(match: re.Match[str]) -> str:
    ch = match.group(0)
    return f"⟨{_NAMED.get(ch) or f'U+{ord(ch):04X}'}⟩"


def visible(text: str) -> str:
    """``text`` with every invisible or reordering character replaced by a visible token."""
    if not INVISIBLE.search(text):
        return text
    return INVISIBLE.sub(_token, text)


def has_invisible(text: str) -> bool:
    return INVISIBLE.search(text) is not None
