"""Lexicon matching: every form of every term, compiled into three trie-shaped regexes
(Hangul/CJK, Latin, Cyrillic) that scan a message's squeezed form in one pass each.

A hit is kept when
- Latin/Cyrillic: it starts at a word start and ends at a word end (or before a short
  inflection: "undressing", "раздевания"), so "fundress" never reads as "undress";
- Korean: it starts at a word start whenever it spans a space ("지인 능욕" yes,
  "가능 욕구" no); particles after it are free ("능욕방에서");
- ``not_before`` / ``not_after`` (benign neighbours such as "껍질 벗기기") do not apply;
- for terms marked ``morph_check``, kiwipiepy agrees that the hit starts and ends on
  morpheme boundaries ("다이아" in "다이아몬드" fails). Kiwi is slow per call (~0.25 ms),
  so it only ever sees the few messages that have such a candidate, and only a window
  around the hit.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from haechi.analyze.text.lexicon import Lexicon, Pattern, Term
from haechi.analyze.text.normalize import TO_CYRILLIC, TO_LATIN, Normalized, normalize, squeeze
from haechi.domain import UsageError

LATIN_SUFFIXES = frozenset({"s", "es", "ed", "d", "ing", "er", "ers", "ly", "r"})
CYRILLIC_MAX_ENDING = 4  # Russian and Ukrainian inflect: "раздеть" -> "раздеться"
_LOOKALIKE = re.compile("[0-9\u0370-\u03ff\u0400-\u04ff\u0500-\u052f\u0261]")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
KIWI_WINDOW = 48  # characters of context either side of a hit given to kiwipiepy


@dataclass(frozen=True, slots=True)
class Finding:
    term_id: str
    category: str
    strength: str
    points: float
    lang: str
    role: str
    start: int  # span in the original message text (Python str indices)
    end: int
    matched: str  # the original text of the span
    form: str  # the squeezed form that matched


@dataclass(frozen=True, slots=True)
class PatternHit:
    pattern_id: str
    category: str
    points: float
    start: int
    end: int
    matched: str


@dataclass(slots=True)
class TextResult:
    findings: list[Finding] = field(default_factory=list)  # signal terms
    context: list[Finding] = field(default_factory=list)  # news/official vocabulary
    patterns: list[PatternHit] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.findings or self.context or self.patterns)


def _script(form: str) -> str:
    if any("\u0400" <= c <= "\u04ff" for c in form):
        return "cyrillic"
    if any(ord(c) > 0x2E80 for c in form):
        return "cjk"
    return "latin"


def trie_regex(words: list[str]) -> str:
    """One regex alternation shaped like a trie: the C engine tries each prefix once,
    which is what makes 200 terms cost about as much as a handful."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def render(node: dict[str, Any]) -> str:
        end = "" in node
        branches = [re.escape(ch) + render(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        # longest first: a character class or group of alternatives, optional if a word ends
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return f"(?:{body})?"
        return body

    return render(trie)


def kiwi_installed() -> bool:
    """Whether kiwipiepy can be imported, without importing it (that costs ~0.1 s)."""
    try:
        return importlib.util.find_spec("kiwipiepy") is not None
    except (ImportError, ValueError):
        return False


def kiwi_missing(reason: str, checked: list[str] | None = None) -> UsageError:
    which = f" ({len(checked)}, such as {', '.join(checked[:3])})" if checked else ""
    return UsageError(
        f"The lexicon's morph_check terms{which} need the Korean morphological analyser "
        f"kiwipiepy, but {reason}: install it with pip install 'haechi[text]' (or remove "
        "morph_check from an analyst's terms)."
    )


class _Kiwi:
    """kiwipiepy, loaded on first use (≈1 s, ~100 MB), once per process."""

    _lock = threading.Lock()
    _kiwi: Any = None
    calls = 0

    @classmethod
    def tokens(cls, text: str) -> list[tuple[int, int]]:
        with cls._lock:
            if cls._kiwi is None:
                try:
                    from kiwipiepy import Kiwi
                except ImportError as exc:  # installed but broken (a missing native library)
                    raise kiwi_missing(f"it cannot be loaded ({exc})") from exc
                cls._kiwi = Kiwi()
            cls.calls += 1
            return [(t.start, t.start + t.len) for t in cls._kiwi.tokenize(text)]


def morpheme_aligned(text: str, start: int, end: int) -> bool:
    """Does kiwipiepy split ``text`` so that no morpheme straddles ``start`` or ``end``?"""
    lo = max(0, start - KIWI_WINDOW)
    hi = min(len(text), end + KIWI_WINDOW)
    # Cut the window at spaces so kiwi sees whole words.
    while lo > 0 and not text[lo - 1].isspace() and start - lo < KIWI_WINDOW * 2:
        lo -= 1
    while hi < len(text) and not text[hi].isspace() and hi - end < KIWI_WINDOW * 2:
        hi += 1
    s, e = start - lo, end - lo
    return not any(a < s < b or a < e < b for a, b in _Kiwi.tokens(text[lo:hi]))


class Matcher:
    """A compiled lexicon. Thread-safe to share; build one per lexicon version."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        # Refuse now, with one sentence, rather than with an ImportError halfway through a
        # scan (a batch already written, the next one failing on its first candidate).
        checked = [t.id for t in lexicon.terms if t.morph_check]
        if checked and not kiwi_installed():
            raise kiwi_missing("it is not installed", checked)
        self.by_form: dict[tuple[str, str], Term] = {}
        groups: dict[str, list[str]] = {"cjk": [], "latin": [], "cyrillic": []}
        for term in lexicon.terms:
            for raw in term.forms:
                form = squeeze(raw)
                if not form:
                    continue
                script = _script(form)
                if script == "latin":
                    form = form.translate(TO_LATIN)
                elif script == "cyrillic":
                    form = form.translate(TO_CYRILLIC)
                if (script, form) not in self.by_form:
                    groups[script].append(form)
                self.by_form[(script, form)] = term  # a later definition of a form wins
        self.regex = {
            script: re.compile(trie_regex(forms)) for script, forms in groups.items() if forms
        }
        self.not_before = {t.id: tuple(squeeze(x) for x in t.not_before) for t in lexicon.terms}
        self.not_after = {t.id: tuple(squeeze(x) for x in t.not_after) for t in lexicon.terms}
        self.patterns: tuple[Pattern, ...] = lexicon.patterns
        # One scan for every pattern's prefilter words: most messages have none of them.
        words = sorted({w for p in self.patterns for w in p.prefilter}, key=len, reverse=True)
        self.prefilter = re.compile("|".join(map(re.escape, words))) if words else None
        self.unfiltered = any(not p.prefilter for p in self.patterns)

    # -- terms ----------------------------------------------------------------------------
    def _accept(self, n: Normalized, script: str, term: Term, s: int, e: int) -> bool:
        sq = n.squeezed
        if script == "latin" or script == "cyrillic":
            if not n.word_start(s):
                return False
            rest = n.word_rest(e)
            if rest and not (
                rest in LATIN_SUFFIXES
                if script == "latin"
                else (len(rest) <= CYRILLIC_MAX_ENDING and rest.isalpha())
            ):
                return False
        elif term.lang == "ko" and n.crosses_word(s, e) and not n.word_start(s):
            return False
        for x in self.not_before[term.id]:
            if sq.startswith(x, e):
                return False
        for x in self.not_after[term.id]:
            if s >= len(x) and sq.startswith(x, s - len(x)):
                return False
        if term.morph_check:
            ts, te = n.sq_to_text(s, e)
            if not morpheme_aligned(n.text, ts, te):
                return False
        return True

    def _terms(self, n: Normalized, out: TextResult) -> None:
        sq = n.squeezed
        if not sq:
            return
        latin = sq.translate(TO_LATIN) if _LOOKALIKE.search(sq) else sq
        views = [("cjk", sq), ("latin", latin)]
        if _CYRILLIC.search(sq):
            views.append(("cyrillic", sq.translate(TO_CYRILLIC)))
        for script, view in views:
            regex = self.regex.get(script)
            if regex is None:
                continue
            for m in regex.finditer(view):
                s, e = m.span()
                if s == e:
                    continue
                term = self.by_form[(script, m.group())]
                if not self._accept(n, script, term, s, e):
                    continue
                os_, oe = n.sq_to_original(s, e)
                f = Finding(
                    term.id,
                    term.category,
                    term.strength,
                    term.points,
                    term.lang,
                    term.role,
                    os_,
                    oe,
                    n.original[os_:oe],
                    m.group(),
                )
                (out.context if term.role == "context" else out.findings).append(f)

    # -- patterns -------------------------------------------------------------------------
    def _patterns(self, n: Normalized, out: TextResult) -> None:
        text = n.text
        if not self.unfiltered and (self.prefilter is None or not self.prefilter.search(text)):
            return
        for p in self.patterns:
            if p.prefilter and not any(x in text for x in p.prefilter):
                continue
            for m in p.regex.finditer(text):
                if m.start() == m.end():
                    continue
                s, e = n.to_original(m.start(), m.end())
                out.patterns.append(PatternHit(p.id, p.category, p.points, s, e, n.original[s:e]))

    def scan(self, text: str) -> TextResult:
        out = TextResult()
        if not text:
            return out
        n = normalize(text)
        self._terms(n, out)
        self._patterns(n, out)
        return out


def is_news_like(result: TextResult, min_hits: int) -> bool:
    """A message with ``min_hits`` distinct news/official words reads as reporting."""
    return len({f.form for f in result.context}) >= min_hits
