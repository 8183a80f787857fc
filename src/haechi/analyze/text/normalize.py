"""Text normalisation for matching, with a map back to the original characters.

What evasion looks like and what undoes it:
- full-width letters, half-width katakana, ligatures, circled letters: NFKC;
- zero-width characters, soft hyphens, bidi controls, Hangul fillers: removed;
- Hangul typed as compatibility jamo ("ㅈㅣㅇㅣㄴ능욕") or conjoining jamo: recomposed into
  syllables (consonant-only runs such as "ㅋㅋ" stay as they are); a "1", "l", "i" or "|"
  right after a consonant jamo is read as the vowel ㅣ ("ㅈ1인능욕" is 지인능욕), and a
  consonant typed apart between two syllables is the first one's final ("하ㅂ성" is 합성);
- accents on Latin letters ("ñúdify"): stripped;
- spacing ("지인 능욕", "n u d i f y") and separators ("지.인.능.욕"): the *squeezed* form
  drops everything that is not a letter or digit, and remembers where each word started,
  so a match can be required to begin on a word;
- look-alike letters (Cyrillic "а" in "undress", Latin "p" in "раздеть", "nud1fy",
  "nvdify", small capitals "ᴜɴᴅʀᴇss"): translated copies of the squeezed form, one for
  Latin and one for Cyrillic terms (and, when a "1" is present, one more that reads it as
  "l": "c1othoff");
- symbols for letters inside a Latin word ("nud!fy", "undre$$", "str|p", "f@ke"): read as
  the letter in ``text`` itself (same length, so spans stay exact), since the squeezed
  form would drop them. "@name" and a "!" that ends a word stay as they are.

The common case (already NFKC, no jamo, no invisible characters) takes a fast path that
costs one regex scan and ``str.lower``; only unusual text goes character by character.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field

_ZW_RANGES = (
    (0x200B, 0x2010),
    (0x202A, 0x202F),
    (0x2060, 0x2070),
    (0xFE00, 0xFE10),
    (0xE0000, 0xE0080),
    (0xE0100, 0xE01F0),
)
ZERO_WIDTH = frozenset(
    {0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFFA0, 0xFEFF}
    | {cp for lo, hi in _ZW_RANGES for cp in range(lo, hi)}
)
# Characters that send a text down the slow path (besides failing the NFKC check).
_SLOW = re.compile(
    "[\u00c0-\u024f\u1e00-\u1eff"
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0-\uffdc\u1100-\u11ff\u314f-\u318e"
    "\ua960-\ua97f\ud7b0-\ud7ff\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_COMPAT_CONSONANTS = {cp: None for cp in range(0x3131, 0x314F)}
# A consonant jamo followed by a stroke that stands for the vowel ㅣ ("ㅈ1인").
_JAMO_STROKE = re.compile(
    "[\u3131-\u314e\u1100-\u1112][1li|I!]|[\uac00-\ud7a3][\u3131-\u314e][\uac00-\ud7a3]"
)
_STROKES = frozenset("1li|!")
_V_I = 20  # ㅣ among the 21 conjoining vowels
_WORD = re.compile(r"[^\W_]+")
# Symbols standing for letters inside a Latin word: between two letters, a run of $ that
# ends one ("undre$$"), a $ that starts one ("$trip").
_LEET = re.compile(
    r"(?<=[a-z])[$@!|€¡]+(?=[a-z])|(?<=[a-z])\$+(?![a-z0-9])|(?<![\w$])\$(?=[a-z][a-z$@!|€¡])"
)
_LEET_HINT = re.compile("[$@!|€¡]")
_LEET_READ = {"$": "s", "@": "a", "!": "i", "|": "l", "€": "e", "¡": "i"}
_NON_WORD = re.compile(r"[\W_]+")

# Conjoining jamo: leading consonants (L), vowels (V), trailing consonants (T).
_L0, _V0, _T0, _S0 = 0x1100, 0x1161, 0x11A7, 0xAC00
# Leading consonant index -> trailing consonant index (0 = cannot be a final consonant).
_L_TO_T = (1, 2, 4, 7, 0, 8, 16, 17, 0, 19, 20, 21, 22, 0, 23, 24, 25, 26, 27)
# Conjoining jamo back to compatibility jamo for the ones left uncomposed ("ㅋㅋ").
_TO_COMPAT = {
    unicodedata.normalize("NFKC", chr(cp)): chr(cp)
    for cp in range(0x3131, 0x3164)
    if len(unicodedata.normalize("NFKC", chr(cp))) == 1
}

# Look-alike letters (lower case): Cyrillic/Greek shapes, small capitals and digits read
# as Latin (v as u: "nvdify") ...
_LOOK = "аеорсхуіјѕԁɡοανικρτυᴀʙᴄᴅᴇғɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ"
_READ = "aeopcxyijsdgoavikptuabcdefghijklmnoprstuuwyz"
TO_LATIN = str.maketrans(_LOOK + "0134579v", _READ + "oieastgu")
TO_LATIN_L = str.maketrans(_LOOK + "0134579v", _READ + "oleastgu")
# ... and Latin shapes read as Cyrillic.
TO_CYRILLIC = str.maketrans("aeopcxykmt036", "аеорсхукмтозб")


@dataclass(slots=True)
class Normalized:
    """A text in its matching forms.

    ``text``: NFKC, lower case, invisible characters removed, jamo composed.
    ``origin``: for each index of ``text`` (and one past the end) the index in
    ``original``; None when ``text`` maps one to one.
    ``squeezed``: ``text`` with only letters and digits; ``sq_starts[k]`` is where its
    k-th word starts in ``squeezed`` and ``tx_starts[k]`` where that word starts in ``text``.
    """

    original: str
    text: str
    origin: list[int] | None
    squeezed: str
    # The word index is built on first use: most messages never have a hit to place.
    _sq_starts: list[int] | None = None
    _tx_starts: list[int] = field(default_factory=list)
    _sq_lens: list[int] = field(default_factory=list)

    def _index(self) -> None:
        starts: list[int] = []
        pos = 0
        for m in _WORD.finditer(self.text):
            starts.append(pos)
            self._tx_starts.append(m.start())
            self._sq_lens.append(m.end() - m.start())
            pos += m.end() - m.start()
        self._sq_starts = starts

    @property
    def sq_starts(self) -> list[int]:
        if self._sq_starts is None:
            self._index()
        assert self._sq_starts is not None
        return self._sq_starts

    @property
    def tx_starts(self) -> list[int]:
        if self._sq_starts is None:
            self._index()
        return self._tx_starts

    @property
    def sq_lens(self) -> list[int]:
        if self._sq_starts is None:
            self._index()
        return self._sq_lens

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """A ``text`` span as a span of ``original``."""
        if self.origin is None:
            return start, end
        o = self.origin
        return o[start], (o[end - 1] + 1 if end > start else o[start])

    def sq_to_text(self, start: int, end: int) -> tuple[int, int]:
        """A ``squeezed`` span as a span of ``text`` (separators inside are included)."""
        k = bisect_right(self.sq_starts, start) - 1
        s = self.tx_starts[k] + (start - self.sq_starts[k])
        j = bisect_right(self.sq_starts, end - 1) - 1
        e = self.tx_starts[j] + (end - self.sq_starts[j])
        return s, e

    def sq_to_original(self, start: int, end: int) -> tuple[int, int]:
        return self.to_original(*self.sq_to_text(start, end))

    def word_start(self, sq: int) -> bool:
        k = bisect_right(self.sq_starts, sq) - 1
        return k >= 0 and self.sq_starts[k] == sq

    def word_rest(self, sq_end: int) -> str:
        """What is left of the word in which a squeezed match ends (``""`` at a word end)."""
        k = bisect_right(self.sq_starts, sq_end - 1) - 1
        stop = self.sq_starts[k] + self.sq_lens[k]
        return self.squeezed[sq_end:stop]

    def crosses_word(self, start: int, end: int) -> bool:
        return bisect_right(self.sq_starts, start) != bisect_right(self.sq_starts, end - 1)


def _fold_char(ch: str) -> str:
    """NFKC, lower case and accent stripping of one non-ASCII character."""
    n = unicodedata.normalize("NFKC", ch).lower()
    if len(n) == 1 and not n.isascii() and not (0xAC00 <= ord(n) <= 0xD7A3):
        d = unicodedata.normalize("NFD", n)
        if len(d) > 1 and d[0].isascii() and unicodedata.combining(d[1]):
            return d[0]
    return n


def _final_typed_apart(out: list[str], chars: list[str], i: int) -> bool:
    """Is ``chars[i]`` a consonant jamo between a syllable without a final consonant and
    another syllable ("하ㅂ성", "능요ㄱ방")? Before a jamo or the end ("좋아ㅋㅋ") it is not."""
    c = ord(chars[i])
    if not (_L0 <= c < _L0 + 19 and _L_TO_T[c - _L0]) or not out or i + 1 >= len(chars):
        return False
    prev, nxt = ord(out[-1]), ord(chars[i + 1])
    return _S0 <= prev <= 0xD7A3 and (prev - _S0) % 28 == 0 and _S0 <= nxt <= 0xD7A3


def _compose_jamo(chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """Compose runs of conjoining jamo into syllables (2-set keyboard order)."""
    out: list[str] = []
    org: list[int] = []
    i, n = 0, len(chars)

    def vowel(j: int) -> int | None:
        """The vowel index at ``j`` (a stroke after a consonant counts as ㅣ), or None."""
        if j >= n:
            return None
        v = ord(chars[j]) - _V0
        if 0 <= v < 21:
            return v
        if chars[j] in _STROKES and j > 0 and _L0 <= ord(chars[j - 1]) < _L0 + 19:
            return _V_I
        return None

    while i < n:
        c = ord(chars[i])
        vidx_or_none = vowel(i + 1) if _L0 <= c < _L0 + 19 else None
        if vidx_or_none is not None:
            lidx, vidx = c - _L0, vidx_or_none
            tidx, used = 0, 2
            if i + 2 < n:
                nxt = ord(chars[i + 2])
                after_is_vowel = i + 3 < n and _V0 <= ord(chars[i + 3]) < _V0 + 21
                if not after_is_vowel:
                    if _L0 <= nxt < _L0 + 19 and _L_TO_T[nxt - _L0]:
                        tidx, used = _L_TO_T[nxt - _L0], 3
                    elif _T0 < nxt <= _T0 + 27:
                        tidx, used = nxt - _T0, 3
            out.append(chr(_S0 + (lidx * 21 + vidx) * 28 + tidx))
            org.append(origin[i])
            i += used
            continue
        if _final_typed_apart(out, chars, i):
            # "하ㅂ성": the final consonant of the syllable before, typed on its own.
            out[-1] = chr(ord(out[-1]) + _L_TO_T[c - _L0])
            i += 1
            continue
        out.append(_TO_COMPAT.get(chars[i], chars[i]))
        org.append(origin[i])
        i += 1
    return out, org


def _slow(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        cp = ord(ch)
        if cp < 0x80:
            chars.append(ch.lower())
            origin.append(i)
            continue
        if cp in ZERO_WIDTH:
            continue
        folded = _fold_char(ch)
        for c in folded:
            if unicodedata.combining(c) and not (0x1100 <= ord(c) <= 0x11FF):
                continue  # a combining accent left alone after its letter
            chars.append(c)
            origin.append(i)
    chars, origin = _compose_jamo(chars, origin)
    origin.append(len(text))
    return "".join(chars), origin


def _needs_slow(text: str) -> bool:
    if text.isascii():
        return False
    if _SLOW.search(text) or _JAMO_STROKE.search(text):
        return True
    probe = text.translate(_COMPAT_CONSONANTS) if max(text) >= "\u3131" else text
    return not unicodedata.is_normalized("NFKC", probe)


def fold_leet(text: str) -> str:
    """Symbols that stand for letters inside Latin words, read as those letters (lower-case
    text in, same length out; idempotent)."""
    if not _LEET_HINT.search(text):
        return text
    return _LEET.sub(lambda m: "".join(_LEET_READ[c] for c in m.group()), text)


def normalize(text: str) -> Normalized:
    """All matching forms of ``text`` (see the module docstring)."""
    origin: list[int] | None = None
    if _needs_slow(text):
        norm, origin = _slow(text)
    else:
        norm = text.lower()
        if len(norm) != len(text):  # a letter whose lower case is longer (rare): go slow
            norm, origin = _slow(text)
    norm = fold_leet(norm)
    return Normalized(text, norm, origin, _NON_WORD.sub("", norm))


def squeeze(text: str) -> str:
    """The squeezed form of a lexicon entry (same rules as for messages)."""
    return normalize(text).squeezed
