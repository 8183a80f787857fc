"""English words written in Hangul the way Korean loanwords are ("nudify" -> 누디파이,
"undress" -> 언드레스, "deepfake" -> 딥페이크), for two uses in :mod:`.variants`:

- the Hangul spellings of the lexicon's English terms become Korean forms of the same term
  (rooms write 누디파이 and 언드레스 as often as the English);
- a Latin run inside a Hangul word ("딥fake", "deep페이크") is read in Hangul, so the
  mixed spelling meets the Korean term.

English spelling does not fix pronunciation, so this follows the loanword conventions
(외래어 표기법) from spelling alone: digraphs (ee, oo, ai, th, ph, ck, ...), a silent
final e that lengthens the vowel before it (fake, nude, face), a vowel closed by two
consonants as short (un-, -ess), p after a short vowel as a final ㅂ (deep -> 딥), other
final consonants with the vowel ㅡ (-ss -> 스, -d -> 드), clusters split by ㅡ (dr -> 드ㄹ,
cl -> 클ㄹ). It is right for the words it was checked on (tests/text/test_text_variants.py)
and wrong for many others ("generator"), which then simply never match.
"""

from __future__ import annotations

import re

from haechi.analyze.text.hangul import compose

# Vowel symbols -> Hangul vowel indices (one syllable each; EI and AI are two).
# IL is the second half of a diphthong (페이, 파이): an ㅣ after which k and t are not finals.
_V = {"A": 0, "AE": 1, "EO": 4, "E": 5, "O": 8, "U": 13, "EU": 18, "I": 20, "IL": 20, "YU": 17}
_W = {"A": 9, "AE": 9, "EO": 14, "O": 14, "E": 15, "I": 16}  # w + vowel
_L = {"g": 0, "n": 2, "d": 3, "r": 5, "l": 5, "m": 6, "b": 7, "s": 9, "": 11, "j": 12,
      "ch": 14, "k": 15, "t": 16, "p": 17, "h": 18, "f": 17, "v": 7, "z": 12, "th": 9,
      "sh": 9}  # fmt: skip
_FINAL = {"n": 4, "l": 8, "m": 16, "p": 17, "k": 1, "t": 19, "ng": 21}
_VOWELS = "aeiouy"
# Consonant spellings, longest first, as symbols of _L (x and qu are two).
_CONS = [("tch", "ch"), ("th", "th"), ("sh", "sh"), ("ch", "ch"), ("ph", "f"), ("ck", "k"),
         ("ng", "ng"), ("wh", "w"), ("qu", "kw"), ("x", "ks")]  # fmt: skip
_TOKEN = re.compile("[a-z]+")


def _phonemes(word: str) -> list[str]:
    """Spelling -> a list of consonant symbols (lower case) and vowel symbols (upper)."""
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        rest = word[i:]
        c = word[i]
        if c in _VOWELS and not (c == "y" and i + 1 < n and word[i + 1] in "aeiou"):
            i += _vowel(word, i, out)
            continue
        for spelt, sym in _CONS:
            if rest.startswith(spelt):
                out += list(sym) if sym in ("kw", "ks") else [sym]
                i += len(spelt)
                break
        else:
            if c == "c":
                out.append("s" if i + 1 < n and word[i + 1] in "eiy" else "k")
            elif c == "g":
                out.append("j" if i + 1 < n and word[i + 1] in "eiy" else "g")
            elif c == "y":
                out.append("y")
            else:
                out.append(c)
            i += 2 if i + 1 < n and word[i + 1] == c else 1
    # "clothes": th and s run together as one s.
    return [p for k, p in enumerate(out) if not (p == "th" and out[k + 1 : k + 2] == ["s"])]


def _vowel(word: str, i: int, out: list[str]) -> int:
    """Append the vowel symbol(s) spelt at ``word[i]``; return how many letters it used."""
    pair = word[i : i + 2]
    n = len(word)
    table = {"ee": "I", "ea": "I", "oo": "U", "ai": "EI", "ay": "EI", "ey": "EI", "oa": "O",
             "ou": "AU", "ow": "O", "au": "O", "aw": "O"}  # fmt: skip
    if pair in table:
        out += ["E", "IL"] if table[pair] == "EI" else ["O", "U"] if pair == "ou" else [table[pair]]
        return 2
    c = word[i]
    after = word[i + 1 :]
    if c == "e" and i == n - 1 and i > 0:
        return 1  # silent final e
    if c == "e" and after in ("s", "d") and i > 1:
        return 1  # "clothes", "used": the e of an ending is not said
    if c in "eiou" and after[:1] == "r" and (len(after) == 1 or after[1] not in _VOWELS):
        out.append("EO" if c != "o" else "O")
        return 2  # -er, -ir, -ur, -or: r after a vowel is not said
    # A vowel, one consonant and a silent e (fake, nude, face): the long vowel.
    if re.match(r"[a-z](?:e$|es$|ed$)", after) and after[0] not in _VOWELS:
        out += {"a": ["E", "IL"], "i": ["A", "IL"], "o": ["O"], "u": ["U"], "e": ["I"]}.get(
            c, ["I"]
        )
        return 1
    if c == "y":
        prev = word[i - 2 : i - 1] if i >= 2 else ""
        out += ["A", "IL"] if prev == "i" or i == 1 else ["I"]  # -ify, -fy, my / -y
        return 1
    closed = bool(re.match(r"[^aeiouy]{2}|[^aeiouy]$", after))
    if c == "a":
        out.append("AE" if closed else "A")
    elif c == "u":
        out.append("EO" if closed and i == 0 else "U")
    else:
        out.append({"e": "E", "i": "I", "o": "O"}[c])
    return 1


def _syllables(ph: list[str]) -> str:
    """Consonant and vowel symbols -> Hangul syllables (onset, vowel, final)."""
    out: list[list[int]] = []  # [lead, vowel, final]
    i, n = 0, len(ph)
    prev_vowel = ""
    while i < n:
        p = ph[i]
        if p.isupper():
            out.append([11, _V.get(p, 20), 0])
            prev_vowel = p
            i += 1
            continue
        nxt = ph[i + 1] if i + 1 < n else ""
        if p in ("w", "y") and nxt.isupper():
            table = _W if p == "w" else {"A": 2, "EO": 6, "O": 12, "U": 17, "E": 7, "AE": 3}
            out.append([11, table.get(nxt, _V.get(nxt, 20)), 0])
            prev_vowel, i = nxt, i + 2
            continue
        if nxt.isupper() and p != "ng":
            if p == "l" and out and out[-1][2] == 0 and out[-1][1] == 18:
                out[-1][2] = 8  # 클로: an l after an inserted ㅡ is also that syllable's final
            out.append([_L.get(p, 11), _V.get(nxt, 20), 0])
            prev_vowel, i = nxt, i + 2
            continue
        # A consonant with no vowel after it: a final, or a syllable of its own with ㅡ.
        final = _FINAL.get(p)
        # p after a short vowel (딥, 스왑); k and t only after a short closed one (틱, 봇).
        short = prev_vowel in ("I", "E", "AE", "EO", "O", "U", "A")
        closed = prev_vowel in ("I", "E", "AE", "EO", "O") and (i + 1 == n or ph[i + 1] != "s")
        ok = short if p == "p" else closed if p in ("k", "t") else True
        if out and out[-1][2] == 0 and final and ok:
            out[-1][2] = final
            i += 1
            continue
        if p == "l" and out and out[-1][2] == 0 and out[-1][1] != 18:
            out[-1][2] = 8
            i += 1
            continue
        if p == "ng":
            out.append([11, 18, 21])
        elif p in ("sh", "ch", "j"):
            out.append([_L[p], 20 if p != "j" else 18, 0])
        else:
            out.append([_L.get(p, 11), 18, 0])
        prev_vowel = ""
        i += 1
    return "".join(compose(a, b, c) for a, b, c in out)


def hangulize(text: str) -> str:
    """Each run of Latin letters in ``text`` written in Hangul (other characters kept)."""
    return _TOKEN.sub(lambda m: _syllables(_phonemes(m.group())), text.lower())
