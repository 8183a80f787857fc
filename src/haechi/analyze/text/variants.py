"""Evasion forms derived from the lexicon itself, not from example messages.

For every signal term the lexicon gives, the matcher also recognises (``via``):

- ``chosung``: its Korean forms as initial consonants, whole or in part ("ㅈㅇㄴㅇ",
  "ㅈㅇㄴㅇ방", "얼굴 ㅎㅅ" for 지인능욕, 지인능욕방, 얼굴합성). Short consonant strings are
  ordinary chat (ㅋㅋ, ㅇㅇ, ㄱㅅ, ㅂㅂ, and three-letter ones such as ㄴㅇㄱ, which is also
  능욕글, or ㅂㅇㅂ, bye-bye and 백업방), so a hit needs four bare consonants, or two next
  to a spelt syllable of the same form; and the bare run must be whole: it starts a word
  and no other bare consonant touches it ("ㅂㅇㅂㅇ"). Three bare consonants alone
  (``chosung_short``) count only with explicit context: the scanner keeps such a hit when
  the message also has a room, bot or wallet link or a trade, request, photo, entry,
  ban or move cue, and drops it otherwise (:func:`supported`). Forms whose initials are
  only two consonants (합성 ㅎㅅ, 능욕 ㄴㅇ) are never matched bare;
- ``sound``: Korean forms of three syllables or more as they sound, so spellings by ear or
  on purpose meet them (딮페이크, 딥패이크, 능욬방, 겹지빵: :func:`.hangul.sound_key`). A
  sound form that a Korean proper noun of kiwipiepy's dictionary also contains, spelt
  differently, is dropped (박제 sounds like the 박재 of many names);
- ``roman``: Korean forms romanised (Revised Romanization, with and without nasal
  assimilation), compared under :func:`.hangul.roman_fold` so informal spellings agree
  ("jiin neungyok", "ji-in nungyok", "hapsung"). Keys shorter than seven letters are not
  used, nor keys that an English word folds to ("center" folds as 갠텔's "gaentel" does;
  the words are those of Python's own documentation, ``pydoc_data``); a hit starts on a
  word and ends on one or before a romanised particle;
- ``loanword``: English forms written in Hangul (:mod:`.loanwords`: 누디파이, 언드레스,
  딥누드), for terms of at least medium strength, three syllables or more, unless a
  dictionary proper noun contains the spelling; a hit starts on a word;
- ``mixed``: a Latin run inside a Hangul word read in Hangul ("딥fake" is 딥페이크);
- ``typo``: Korean forms of four syllables or more with one letter changed the way
  misspellings change it (:func:`.hangul.typo_keys`: a vowel for its neighbour, 지인눙욕,
  나체합셩, 알몸햡성; a plain initial for its aspirated one, 딥페이그, 딥뻬이크; one nasal
  final for another, 겹지인밤), compared under the sound key. Shorter forms are left out
  (one letter off 합성 or 대피방 is too many ordinary words), and so is a key a Korean
  proper noun of kiwipiepy's dictionary contains.

Chosung, sound, typo and mixed hits are evasive spellings (an intent cue); a romanised or
loanword spelling is how many people write the word, so it is not.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from haechi.analyze.text.hangul import (
    COMPAT_CONSONANTS,
    chosung,
    fold_light,
    fold_light_tracked,
    is_syllable,
    roman_fold,
    romanise,
    sound_key,
    typo_keys,
)
from haechi.analyze.text.lexicon import Term
from haechi.analyze.text.loanwords import hangulize
from haechi.analyze.text.normalize import Normalized, squeeze

EVASIVE_VIA = frozenset({"chosung", "chosung_short", "sound", "typo", "mixed"})
MIN_BARE = 4  # bare initial consonants a hit needs on its own ...
MIN_BARE_SHORT = 3  # ... or with explicit context in the message (chosung_short) ...
MIN_BARE_ANCHORED = 2  # ... or next to a syllable spelt out
# What makes a three-consonant hit count: identifier groups and intent categories.
SHORT_SUPPORT_GROUPS = frozenset({"telegram", "bot", "crypto"})
SHORT_SUPPORT_INTENTS = frozenset({"request", "commerce", "photo", "entry", "ban_evasion", "move"})
MIN_SOUND_SYLLABLES = 3
MIN_TYPO_SYLLABLES = 4
MIN_TYPO_POINTS = 4.0  # only terms of medium strength or more get one-letter variants
MIN_ROMAN_KEY = 7
MIN_LOAN_SYLLABLES = 3
MIN_LOAN_POINTS = 4.0
# Particles that may follow a romanised word ("neungyokbang-e", "hapseong-eul").
ROMAN_PARTICLES = frozenset(
    roman_fold(p) for p in ("e", "ui", "eul", "reul", "i", "ga", "eun", "neun", "ro", "euro",
                            "do", "man", "eseo", "ya")
)  # fmt: skip
_CONSONANT_RUN = re.compile("[\u3131-\u314e]")
_ROMAN_PREFILTER = re.compile("[a-z]{5}")
_HANGUL = re.compile("[\uac00-\ud7a3]")
_MIXED = re.compile("[a-z]+")
_DOUBLE = re.compile(r"([a-z])\1+")
_TOUCHING = re.compile("[\uac00-\ud7a3][a-z]|[a-z][\uac00-\ud7a3]")


@dataclass(slots=True)
class _Table:
    """Derived keys of one kind, compiled into one trie regex."""

    keys: dict[str, list[tuple[Term, str]]] = field(default_factory=dict)
    regex: re.Pattern[str] | None = None

    def add(self, key: str, term: Term, form: str) -> None:
        entry = (term, form)
        have = self.keys.setdefault(key, [])
        if entry not in have:
            have.append(entry)

    def compile(self, repeat: bool = False) -> None:
        """``repeat``: each letter may be doubled in the text ("jiin" for the key "jin")."""
        from haechi.analyze.text.matcher import trie_regex

        if self.keys:
            self.regex = re.compile(trie_regex(sorted(self.keys), repeat="+" if repeat else ""))


@functools.lru_cache(maxsize=1)
def dictionary_words() -> tuple[str, ...]:
    """Korean proper nouns of kiwipiepy's dictionary (about 110,000: people, places, works,
    companies), or none when it is not installed. Used to drop derived spellings that
    are someone's name or a place."""
    spec = importlib.util.find_spec("kiwipiepy_model")
    if spec is None or not spec.submodule_search_locations:
        return ()
    path = Path(next(iter(spec.submodule_search_locations))) / "default.dict"
    if not path.is_file():
        return ()
    words = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            word, tab, _rest = line.partition("\t")
            if tab and word[:1] >= "가" and all(is_syllable(c) for c in word):
                words.append(word)
    return tuple(words)


@functools.lru_cache(maxsize=1)
def english_keys() -> frozenset[str]:
    """Romanisation keys of the English words in Python's documentation (about 10,000
    words), or none when ``pydoc_data`` is not installed."""
    try:
        from pydoc_data.topics import topics
    except ImportError:
        return frozenset()
    words = {w for text in topics.values() for w in re.findall("[a-z]{4,}", text.lower())}
    return frozenset(roman_fold(w) for w in words)


def supported(intents: set[str], groups: set[str]) -> bool:
    """Does a message give a three-consonant abbreviation (``chosung_short``) the context it
    needs: a room, bot or wallet link, or a trade, request, photo, entry, ban or move cue?"""
    return bool(intents & SHORT_SUPPORT_INTENTS or groups & SHORT_SUPPORT_GROUPS)


def _collisions(table: dict[str, list[tuple[Term, str]]], keyed: str, plain: str) -> set[str]:
    """Keys of ``table`` found in ``keyed`` (the dictionary under the same keying) where the
    dictionary spells something other than the form the key stands for."""
    if not table:
        return set()
    from haechi.analyze.text.matcher import trie_regex

    regex = re.compile(trie_regex(sorted(table)))
    bad: set[str] = set()
    for m in regex.finditer(keyed):
        spelt = plain[m.start() : m.end()]
        if all(spelt != form for _t, form in table[m.group()]):
            bad.add(m.group())
    return bad


class Variants:
    """The derived forms of a lexicon's signal terms (module docstring)."""

    def __init__(self, terms: Sequence[Term], words: Sequence[str] | None = None) -> None:
        self.chosung = _Table()
        self.sound = _Table()
        self.typo = _Table()
        self.roman = _Table()
        self.loan: list[tuple[Term, str]] = []  # (term, Hangul form): the matcher adds them
        signal = [t for t in terms if t.role == "signal" and t.points > 0]
        for term in signal:
            for raw in term.forms:
                form = squeeze(raw)
                if term.lang == "ko" and form and all(is_syllable(c) for c in form):
                    self._korean(term, form)
                elif term.lang == "en" and term.points >= MIN_LOAN_POINTS:
                    loan = squeeze(hangulize(raw))
                    if len(loan) >= MIN_LOAN_SYLLABLES and all(is_syllable(c) for c in loan):
                        self.loan.append((term, loan))
        words = dictionary_words() if words is None else words
        if words:
            joined = "\n".join(words)
            keyed = sound_key(joined)
            for key in _collisions(self.sound.keys, keyed, joined):
                del self.sound.keys[key]
            for key in _collisions(self.typo.keys, keyed, joined):
                del self.typo.keys[key]
            names = [w for w in words if len(w) >= MIN_LOAN_SYLLABLES]
            self.loan = [(t, f) for t, f in self.loan if not any(f in w for w in names)]
        english = english_keys()
        for key in [k for k in self.roman.keys if k in english]:
            del self.roman.keys[key]
        # A one-letter variant that is another form's own sound is that form, not a typo.
        for key in [k for k in self.typo.keys if k in self.sound.keys]:
            del self.typo.keys[key]
        self.chosung.compile()
        self.sound.compile()
        self.typo.compile()
        self.roman.compile(repeat=True)

    def _korean(self, term: Term, form: str) -> None:
        if len(form) >= MIN_BARE_ANCHORED:
            self.chosung.add(chosung(form), term, form)
        if len(form) >= MIN_SOUND_SYLLABLES:
            self.sound.add(sound_key(form), term, form)
        if len(form) >= MIN_TYPO_SYLLABLES and term.points >= MIN_TYPO_POINTS:
            for key in typo_keys(form):
                self.typo.add(key, term, form)
        for rr in {romanise(form), romanise(form, assimilate=True)}:
            key = roman_fold(rr)
            if len(key) >= MIN_ROMAN_KEY:
                self.roman.add(key, term, form)

    # -- hits ---------------------------------------------------------------------------
    def hits(self, n: Normalized) -> Iterator[tuple[int, int, Term, str, str]]:
        """(start, end in ``n.squeezed``, term, the lexicon's form, via) of derived hits."""
        sq = n.squeezed
        if self.chosung.regex is not None and _CONSONANT_RUN.search(sq):
            yield from self._chosung_hits(n)
        if self.sound.regex is not None and _HANGUL.search(sq):
            keyed = sound_key(sq)
            for m in self.sound.regex.finditer(keyed):
                for term, form in self.sound.keys[m.group()]:
                    if sq[m.start() : m.end()] != form:
                        yield m.start(), m.end(), term, form, "sound"
            if self.typo.regex is not None:
                for m in self.typo.regex.finditer(keyed):
                    for term, form in self.typo.keys[m.group()]:
                        yield m.start(), m.end(), term, form, "typo"
        if self.roman.regex is not None and _ROMAN_PREFILTER.search(sq):
            yield from self._roman_hits(n)

    def _chosung_hits(self, n: Normalized) -> Iterator[tuple[int, int, Term, str, str]]:
        sq = n.squeezed
        assert self.chosung.regex is not None
        for m in self.chosung.regex.finditer(chosung(sq)):
            s, e = m.span()
            seg = sq[s:e]
            bare = [c in COMPAT_CONSONANTS for c in seg]
            count = sum(bare)
            whole = count == len(seg)
            if count < MIN_BARE_ANCHORED or (whole and count < MIN_BARE_SHORT):
                continue
            via = "chosung_short" if whole and count < MIN_BARE else "chosung"
            if bare[0] and not n.word_start(s):
                continue  # the run of bare consonants must start a word
            if bare[-1] and e < len(sq) and sq[e] in COMPAT_CONSONANTS and not n.word_start(e):
                continue  # ... and not run on ("ㅂㅇㅂㅇ")
            for term, form in self.chosung.keys[m.group()]:
                if all(c == f or b for c, f, b in zip(seg, form, bare, strict=True)):
                    yield s, e, term, form, via

    def _roman_hits(self, n: Normalized) -> Iterator[tuple[int, int, Term, str, str]]:
        sq = n.squeezed
        assert self.roman.regex is not None
        if self.roman.regex.search(fold_light(sq)) is None:
            return  # the usual case: no key at all, and no position map needed
        folded, spans = fold_light_tracked(sq)
        for m in self.roman.regex.finditer(folded):
            s, e = spans[m.start()][0], spans[m.end() - 1][1]
            if not n.word_start(s):
                continue
            rest = n.word_rest(e)
            if rest and roman_fold(rest) not in ROMAN_PARTICLES:
                continue
            key = _DOUBLE.sub(r"\1", m.group())
            for term, form in self.roman.keys.get(key, ()):
                yield s, e, term, form, "roman"

    def mixed_view(self, n: Normalized) -> tuple[str, list[int]] | None:
        """The squeezed form with each Latin run written against a Hangul syllable in the
        same word ("딥fake", "deep페이크") read in Hangul, and for each character of the
        view its index in the squeezed form (None: no such word). Runs only separated from
        Hangul by a space ("사진 photo") are ordinary mixed-language text and stay."""
        text = n.text
        if not _TOUCHING.search(text):
            return None
        sq = n.squeezed
        runs: list[tuple[int, int]] = []
        for m in _MIXED.finditer(text):
            a, b = m.span()
            if (a > 0 and is_syllable(text[a - 1])) or (b < len(text) and is_syllable(text[b])):
                k = bisect_right(n.tx_starts, a) - 1
                start = n.sq_starts[k] + (a - n.tx_starts[k])
                runs.append((start, start + (b - a)))
        out: list[str] = []
        back: list[int] = []
        last = 0
        for a, b in runs:
            out.append(sq[last:a])
            back += range(last, a)
            hangul = hangulize(sq[a:b])
            out.append(hangul)
            # every syllable of the reading stands for the whole Latin run
            back += [a] * (len(hangul) - 1) + [b - 1] if hangul else []
            last = b
        out.append(sq[last:])
        back += range(last, len(sq))
        return "".join(out), back
