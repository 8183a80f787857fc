"""Hangul arithmetic for evasion forms derived from the lexicon (:mod:`.variants`).

Everything here follows from the Unicode decomposition of a precomposed syllable
(``0xAC00 + (initial * 21 + vowel) * 28 + final``), so it needs no data and no dependency:

- :func:`chosung`: the initial consonants of a word ("지인능욕" -> "ㅈㅇㄴㅇ"), the
  abbreviation rooms use to get past keyword filters;
- :func:`sound_key`: what a syllable sounds like when misspelt on purpose or by ear:
  tense initials as plain (합썽 -> 합성), ㅐ/ㅔ (and ㅒ/ㅖ after a consonant) as one vowel
  (딥패이크 -> 딥페이크), finals as the seven that are pronounced (딮 -> 딥, 능욬 -> 능욕);
- :func:`romanise`: Revised Romanization, letter by letter (지인능욕 -> "jiinneungyok"),
  optionally with the nasal assimilation speakers write by ear (욕메 -> "yongme");
- :func:`roman_fold`: a key under which the informal romanisations of one Korean word
  agree ("jiin neungyok", "ji-in nungyok", "jiinnungyog" all fold to "jinongyog"): vowels
  that romanisers swap (eo/o/u/eu/oo, ae/e, ee/i), voiced and voiceless consonants
  (k/g, t/d, p/b/f, ch/j/z), r/l, and doubled letters. It runs on whole messages, so it
  has a fast form (C-level ``re.sub`` and ``str.translate``, no position map) and a
  tracked form (same steps, with the index of every output letter in the input) used
  only for the rare message that has a hit.
"""

from __future__ import annotations

import re
from collections.abc import Callable

S0, S_END = 0xAC00, 0xD7A3
N_V, N_T = 21, 28
# Compatibility jamo of the 19 initials, the 21 vowels and the 27 finals (index 1..27).
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
FINALS = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
COMPAT_CONSONANTS = frozenset(INITIALS) | frozenset(FINALS.strip())

# Revised Romanization: initials, vowels, finals (letter by letter, before assimilation).
_RR_L = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch",
         "k", "t", "p", "h")  # fmt: skip
_RR_V = ("a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u",
         "wo", "we", "wi", "yu", "eu", "ui", "i")  # fmt: skip
_RR_T = ("", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "p", "l", "l", "p", "l", "m",
         "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t")  # fmt: skip
# Final index -> the final that is pronounced (ㄱ ㄴ ㄷ ㄹ ㅁ ㅂ ㅇ), by final index.
_T_SOUND = (0, 1, 1, 1, 4, 4, 4, 7, 8, 1, 16, 17, 8, 8, 17, 8, 16, 17, 17, 7, 7, 21, 7, 7,
            1, 7, 17, 7)  # fmt: skip
_L_PLAIN = {1: 0, 4: 3, 8: 7, 10: 9, 13: 12}  # tense initial -> plain
_V_E = {5: 1, 7: 3, 15: 10, 11: 10}  # ㅔ->ㅐ, ㅖ->ㅒ, ㅞ->ㅙ, ㅚ->ㅙ
_L_IEUNG = 11


def is_syllable(ch: str) -> bool:
    return S0 <= ord(ch) <= S_END


def parts(ch: str) -> tuple[int, int, int]:
    """(initial, vowel, final) indices of a precomposed syllable."""
    i = ord(ch) - S0
    return i // (N_V * N_T), (i // N_T) % N_V, i % N_T


def compose(lead: int, vowel: int, final: int = 0) -> str:
    return chr(S0 + (lead * N_V + vowel) * N_T + final)


def chosung(text: str) -> str:
    """Each syllable as its initial consonant; other characters unchanged."""
    return text.translate(CHOSUNG_TABLE)


def _sound(ch: str) -> str:
    lead, vowel, final = parts(ch)
    lead = _L_PLAIN.get(lead, lead)
    if vowel in _V_E and (lead != _L_IEUNG or vowel in (5, 15, 11)):
        vowel = _V_E[vowel]  # 예/얘 keep their glide after the silent ㅇ
    if lead != _L_IEUNG and vowel == 3:
        vowel = 1  # 걔 [개]
    return compose(lead, vowel, _T_SOUND[final])


CHOSUNG_TABLE = {cp: INITIALS[(cp - S0) // (N_V * N_T)] for cp in range(S0, S_END + 1)}
SOUND_TABLE = {cp: _sound(chr(cp)) for cp in range(S0, S_END + 1)}


def sound_key(text: str) -> str:
    """Syllables as they sound (see the module docstring); the length is unchanged."""
    return text.translate(SOUND_TABLE)


# One-letter misspellings (:func:`typo_keys`), by jamo index: vowels typed for their
# neighbours (ㅡ/ㅜ/ㅠ, ㅓ/ㅕ/ㅗ/ㅛ, ㅏ/ㅑ), plain initials for aspirated ones (ㄱ/ㅋ, ㄷ/ㅌ,
# ㅂ/ㅍ, ㅈ/ㅊ; tense ones are plain in the sound key already), nasal finals for each other.
_TYPO_V = ((18, 13), (18, 17), (13, 17), (4, 6), (4, 8), (6, 12), (8, 12), (0, 2))
_TYPO_L = ((0, 15), (3, 16), (7, 17), (12, 14))
_TYPO_T = ((4, 16), (4, 21), (16, 21))


def _swaps(pairs: tuple[tuple[int, int], ...], index: int) -> list[int]:
    return [b if a == index else a for a, b in pairs if index in (a, b)]


def typo_keys(word: str) -> set[str]:
    """Sound keys of ``word`` (Hangul syllables only) with one letter misspelt: one
    syllable's vowel, initial or nasal final swapped for a neighbour (module constants).
    The word's own sound key is not among them."""
    base = sound_key(word)
    out: set[str] = set()
    for i, ch in enumerate(base):
        lead, vowel, final = parts(ch)
        variants = [compose(lead, v, final) for v in _swaps(_TYPO_V, vowel)]
        variants += [compose(ld, vowel, final) for ld in _swaps(_TYPO_L, lead)]
        variants += [compose(lead, vowel, t) for t in _swaps(_TYPO_T, final)]
        for v in variants:
            key = base[:i] + sound_key(v) + base[i + 1 :]
            if key != base:
                out.add(key)
    return out


def romanise(word: str, assimilate: bool = False) -> str:
    """Revised Romanization of the Hangul syllables of ``word`` (other characters kept).
    With ``assimilate``, a final stop before ㄴ/ㅁ is written as its nasal (합니다 ->
    "hamnida"), as people who spell by ear do."""
    out: list[str] = []
    chars = list(word)
    for i, ch in enumerate(chars):
        if not is_syllable(ch):
            out.append(ch)
            continue
        lead, vowel, final = parts(ch)
        fin = _RR_T[final]
        if assimilate and i + 1 < len(chars) and is_syllable(chars[i + 1]):
            nxt = parts(chars[i + 1])[0]
            if nxt in (2, 6):  # ㄴ, ㅁ
                fin = {"k": "ng", "t": "n", "p": "m"}.get(fin, fin)
        out.append(_RR_L[lead] + _RR_V[vowel] + fin)
    return "".join(out)


# ---- the romanisation key --------------------------------------------------------------
# Step 1: multi-letter spellings of one sound, replaced one after another in this order
# (str.replace, so the C loop does the work); step 2: single letters; step 3: doubled
# letters as one. Only a-z change; anything else passes through.
_UNITS = (
    ("tch", "j"), ("eo", "o"), ("eu", "o"), ("oo", "o"), ("ou", "o"), ("ae", "e"), ("ai", "e"),
    ("ay", "e"), ("ee", "i"), ("ch", "j"), ("sh", "s"), ("ck", "g"), ("ph", "b"), ("x", "gs"),
)  # fmt: skip
_UNIT_RES = tuple((re.compile(re.escape(a)), b) for a, b in _UNITS)
_LETTERS = str.maketrans("kcqtpfzru", "gggdbbjlo")
_DOUBLE = re.compile(r"([a-z])\1+")
# "oh" at a syllable's end: the h is silent (before a consonant or the end). Searched for
# from the h (a literal first character is what makes the C engine fast).
_H = re.compile(r"h(?![aeiouy])")


def _silent_h(m: re.Match[str]) -> str:
    i = m.start()
    return "" if i and m.string[i - 1] in "aeiou" else "h"


_MAX_ROUNDS = 6  # only the first round can lengthen (x -> gs): a few reach the fixed point


def fold_light(text: str) -> str:
    """:func:`roman_fold` without collapsing doubled letters and in one round, for whole
    messages: collapsing costs more than everything else together, so the keys are
    searched with each letter allowed to repeat instead (``key_regex``)."""
    s = _H.sub(_silent_h, text)
    for _ in range(_MAX_ROUNDS):  # until no replacement makes a new unit ("gayeo")
        before = s
        for unit, repl in _UNITS:
            s = s.replace(unit, repl)
        if s == before:
            break
    return s.translate(_LETTERS)


def _fold_once(text: str) -> str:
    return _DOUBLE.sub(r"\1", fold_light(text))


def roman_fold(text: str) -> str:
    """The romanisation key of ``text`` (fast form, no position map). Applied until nothing
    changes (an x read as "gs" may meet an h), so a key folds to itself."""
    for _ in range(_MAX_ROUNDS):
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


def _tracked_sub(
    s: str, pos: list[tuple[int, int]], regex: re.Pattern[str], repl: Callable[[re.Match[str]], str]
) -> tuple[str, list[tuple[int, int]]]:
    """``regex.sub`` that carries, for each character, the input span it came from."""
    out: list[str] = []
    opos: list[tuple[int, int]] = []
    last = 0
    for m in regex.finditer(s):
        out.append(s[last : m.start()])
        opos += pos[last : m.start()]
        r = repl(m)
        out.append(r)
        if r:
            span = (pos[m.start()][0], pos[m.end() - 1][1])
            opos += [span] * len(r)
        last = m.end()
    out.append(s[last:])
    opos += pos[last:]
    return "".join(out), opos


def fold_light_tracked(text: str) -> tuple[str, list[tuple[int, int]]]:
    """:func:`fold_light` with, for each output character, the span of ``text`` it stands
    for (a hit from output ``i`` to ``j`` covers ``text[spans[i][0]:spans[j - 1][1]]``)."""
    pos = [(i, i + 1) for i in range(len(text))]
    s, pos = _tracked_sub(text, pos, _H, _silent_h)
    for _ in range(_MAX_ROUNDS):
        before = s
        for regex, repl in _UNIT_RES:
            s, pos = _tracked_sub(s, pos, regex, lambda m, r=repl: r)  # type: ignore[misc]
        if s == before:
            break
    return s.translate(_LETTERS), pos
