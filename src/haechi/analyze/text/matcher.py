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

Terms given as ``lemmas`` ("벗기/VV") are found on kiwipiepy's analysis, in every
inflection, when the stem's first syllable occurs (:mod:`.morph`). Digits or Latin letters
slipped between Hangul syllables ("능1욕방") are read past: Korean terms are also looked
for in a copy of the squeezed form without them.

Forms derived from the lexicon (:mod:`.variants`: initial consonants, spellings by ear,
romanisations, Hangul spellings of English terms, Latin runs inside Hangul words read in
Hangul) are found in further views of the same squeezed form; each hit says ``via``
which one found it.

Hits go to one of three lists by the term's role: signal terms (points), context cues
(news, support, public safety, ...) and intent cues (trade, requests, chatter); what the
cues do is decided in :mod:`.context`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from haechi.analyze.text.lexicon import Lexicon, Pattern, Term
from haechi.analyze.text.morph import (  # re-exported: the runner and bench count calls
    KIWI_WINDOW,
    _Kiwi,
    kiwi_installed,
    kiwi_missing,
    lemma_spans,
    morpheme_aligned,
)
from haechi.analyze.text.normalize import (
    TO_CYRILLIC,
    TO_LATIN,
    TO_LATIN_L,
    Normalized,
    normalize,
    squeeze,
)
from haechi.analyze.text.variants import Variants

__all__ = ["KIWI_WINDOW", "Finding", "Matcher", "PatternHit", "TextResult", "_Kiwi"]
__all__ += ["kiwi_installed", "kiwi_missing", "morpheme_aligned"]

LATIN_SUFFIXES = frozenset({"s", "es", "ed", "d", "ing", "er", "ers", "ly", "r"})
CYRILLIC_MAX_ENDING = 4  # Russian and Ukrainian inflect: "раздеть" -> "раздеться"
_LOOKALIKE = re.compile(
    "[v0-9\u0250-\u02af\u0370-\u03ff\u0400-\u04ff\u0500-\u052f\u1d00-\u1d2b\ua730\ua731]"
)
_CYRILLIC = re.compile("[\u0400-\u04ff]")
# One or two digits or Latin letters between Hangul syllables: "능1욕방", "합x성".
_HANGUL_NOISE = re.compile("(?<=[\uac00-\ud7a3])[0-9a-z]{1,2}(?=[\uac00-\ud7a3])")


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
    form: str  # the form that matched, squeezed, as the lexicon spells it
    # How a derived form found it (:mod:`.variants`): "chosung", "sound", "roman",
    # "loanword", "mixed"; "" for the lexicon's own forms.
    via: str = ""


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
    context: list[Finding] = field(default_factory=list)  # context cues (and benign senses)
    patterns: list[PatternHit] = field(default_factory=list)
    intent: list[Finding] = field(default_factory=list)  # trade, request, chatter cues
    # Cue hits not yet checked and placed (script, squeezed span, term, form): cues only
    # matter next to a signal hit, and most messages with a cue ("공지", "ㅋㅋ") have none.
    pending: list[tuple[str, int, int, Term, str]] = field(default_factory=list)
    norm: Normalized | None = None

    @property
    def empty(self) -> bool:
        return not (self.findings or self.context or self.patterns or self.intent)


def _script(form: str) -> str:
    if any("\u0400" <= c <= "\u04ff" for c in form):
        return "cyrillic"
    if any(ord(c) > 0x2E80 for c in form):
        return "cjk"
    return "latin"


def _ends_word(n: Normalized, script: str, end: int) -> bool:
    """Does a Latin or Cyrillic match end on a word, or before an ending it may take?"""
    rest = n.word_rest(end)
    if script == "latin":
        return not rest or rest in LATIN_SUFFIXES
    return not rest or (len(rest) <= CYRILLIC_MAX_ENDING and rest.isalpha())


def trie_regex(words: list[str], repeat: str = "") -> str:
    """One regex alternation shaped like a trie: the C engine tries each prefix once,
    which is what makes 200 terms cost about as much as a handful. ``repeat`` ("+") lets
    each character occur more than once."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def render(node: dict[str, Any]) -> str:
        end = "" in node
        branches = [
            re.escape(ch) + repeat + render(child) for ch, child in sorted(node.items()) if ch
        ]
        if not branches:
            return ""
        # longest first: a character class or group of alternatives, optional if a word ends
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return f"(?:{body})?"
        return body

    return render(trie)


class Matcher:
    """A compiled lexicon. Thread-safe to share; build one per lexicon version."""

    def __init__(self, lexicon: Lexicon, derived: bool = True) -> None:
        """``derived``: also match the evasion forms derived from the lexicon (on unless an
        evaluation compares without them)."""
        self.lexicon = lexicon
        # Refuse now, with one sentence, rather than with an ImportError halfway through a
        # scan (a batch already written, the next one failing on its first candidate).
        checked = [t.id for t in lexicon.terms if t.morph_check or t.lemmas]
        if checked and not kiwi_installed():
            raise kiwi_missing("it is not installed", checked)
        self.by_form: dict[tuple[str, str], Term] = {}
        self.spelling: dict[tuple[str, str], str] = {}
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
                self.spelling[(script, form)] = squeeze(raw)  # as the lexicon spells it
        self.variants = Variants(lexicon.terms) if derived else None
        self.via: dict[tuple[str, str], str] = {}
        for term, form in self.variants.loan if self.variants else ():
            if ("cjk", form) not in self.by_form:  # the lexicon's own Korean forms win
                groups["cjk"].append(form)
                self.by_form[("cjk", form)] = term
                self.spelling[("cjk", form)] = form
                self.via[("cjk", form)] = "loanword"
        self.regex = {
            script: re.compile(trie_regex(forms)) for script, forms in groups.items() if forms
        }
        self.terms = {t.id: t for t in lexicon.terms}
        self.lemmas: dict[tuple[str, str], str] = {}
        for term in lexicon.terms:
            for lemma in term.lemmas:
                stem, _, tag = lemma.partition("/")
                self.lemmas[(stem, tag)] = term.id
        firsts = sorted({stem[0] for stem, _ in self.lemmas})
        self.lemma_prefilter = re.compile("[" + "".join(firsts) + "]") if firsts else None
        self.not_before = {t.id: tuple(squeeze(x) for x in t.not_before) for t in lexicon.terms}
        self.not_after = {t.id: tuple(squeeze(x) for x in t.not_after) for t in lexicon.terms}
        self.patterns: tuple[Pattern, ...] = lexicon.patterns
        # One scan for every pattern's prefilter words: most messages have none of them.
        words = sorted({w for p in self.patterns for w in p.prefilter}, key=len, reverse=True)
        self.prefilter = re.compile("|".join(map(re.escape, words))) if words else None
        self.unfiltered = any(not p.prefilter for p in self.patterns)

    # -- terms ----------------------------------------------------------------------------
    def _accept(
        self, n: Normalized, script: str, term: Term, s: int, e: int, via: str = ""
    ) -> bool:
        sq = n.squeezed
        if via in ("roman", "chosung", "chosung_short"):
            return True  # their own boundary rules hold (:mod:`.variants`); no kiwi on them
        if via == "loanword" and not n.word_start(s):
            return False
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
        elif term.role == "context" and term.lang == "ko" and e - s <= 2 and not n.word_start(s):
            # A two-syllable context cue inside a longer word is another word: 화상 in
            # 문화상품권, 기소 in 자기소개, 드립 in 보내드립니다 (cues only: a signal term
            # hidden inside a word is the evasion the lexicon is for).
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
        views: list[tuple[str, str, list[int] | None]] = [("cjk", sq, None), ("latin", latin, None)]
        if "1" in sq:  # "c1othoff": a 1 may stand for l as well as for i
            views.append(("latin", sq.translate(TO_LATIN_L), None))
        if _CYRILLIC.search(sq):
            views.append(("cyrillic", sq.translate(TO_CYRILLIC), None))
        if _HANGUL_NOISE.search(sq):
            kept = [i for i, _ in enumerate(sq)]
            for m in reversed(list(_HANGUL_NOISE.finditer(sq))):
                del kept[m.start() : m.end()]
            views.append(("cjk", "".join(sq[i] for i in kept), kept))
        mixed = self.variants.mixed_view(n) if self.variants else None
        if mixed is not None:
            views.append(("mixed", *mixed))
        for script, view, back in views:
            via = ""
            if script == "mixed":
                script, via = "cjk", "mixed"
            regex = self.regex.get(script)
            if regex is None:
                continue
            bounded = script in ("latin", "cyrillic") and not via
            for m in self._bounded(n, script, regex, view) if bounded else regex.finditer(view):
                s, e = m.span()
                if s == e:
                    continue
                term = self.by_form[(script, m.group())]
                if back is not None:  # a span of the noise-free copy, back in squeezed
                    s, e = back[s], back[e - 1] + 1
                spelt = self.spelling[(script, m.group())]
                if term.role != "signal":
                    if not via:
                        out.pending.append((script, s, e, term, spelt))
                    continue
                how = via or self.via.get((script, m.group()), "")
                self._place(n, out, script, term, s, e, spelt, how)
        for s, e, term, form, how in self.variants.hits(n) if self.variants else ():
            self._place(n, out, "cjk", term, s, e, form, how)

    @staticmethod
    def _bounded(
        n: Normalized, script: str, regex: re.Pattern[str], view: str
    ) -> Iterator[re.Match[str]]:
        """Latin and Cyrillic matches that start on a word and end on one (or before a
        short ending). The squeezed text has no spaces, so a match that does not is
        retried shorter and then one character on instead of being kept: otherwise it
        swallows the start of a real hit in the next word ("nude" + the "s" of "send" hid
        "send a photo", "her" inside "there" hid "replacement")."""
        pos = 0
        while pos < len(view):
            m = regex.search(view, pos)
            if m is None:
                return
            s = m.start()
            if not n.word_start(s):
                pos = s + 1
                continue
            while m is not None and m.end() > s and not _ends_word(n, script, m.end()):
                m = regex.match(view, s, m.end() - 1)
            if m is None or m.end() == s:
                pos = s + 1
                continue
            yield m
            pos = m.end()

    def _place(
        self,
        n: Normalized,
        out: TextResult,
        script: str,
        term: Term,
        s: int,
        e: int,
        form: str,
        via: str = "",
    ) -> None:
        """Check a squeezed hit and add it, once, with its span in the original text."""
        if not self._accept(n, script, term, s, e, via):
            return
        os_, oe = n.sq_to_original(s, e)
        same = out.context if term.role == "context" else out.intent
        if term.role == "signal":
            same = out.findings
        if any(f.term_id == term.id and f.start == os_ and f.end == oe for f in same):
            return  # found again in another view of the text
        self._add(out, term, os_, oe, n.original[os_:oe], form, via)

    def resolve(self, out: TextResult) -> None:
        """Check and place the pending cue hits (context and intent)."""
        if out.norm is None:
            return
        pending, out.pending = out.pending, []
        for script, s, e, term, form in pending:
            self._place(out.norm, out, script, term, s, e, form)

    @staticmethod
    def _add(
        out: TextResult, term: Term, start: int, end: int, matched: str, form: str, via: str = ""
    ) -> None:
        f = Finding(
            term.id,
            term.category,
            term.strength,
            term.points,
            term.lang,
            term.role,
            start,
            end,
            matched,
            form,
            via,
        )
        lists = {"context": out.context, "intent": out.intent}
        lists.get(term.role, out.findings).append(f)

    def _lemma_terms(self, n: Normalized, out: TextResult) -> None:
        """Hits of lemma terms, on kiwipiepy's analysis of the normalised text."""
        if self.lemma_prefilter is None:
            return
        starts = [m.start() for m in self.lemma_prefilter.finditer(n.text)]
        if not starts:
            return
        have = [(f.term_id, f.start, f.end) for f in out.findings]
        for s, e, term_id in lemma_spans(n.text, self.lemmas, starts):
            os_, oe = n.to_original(s, e)
            if any(t == term_id and a < oe and os_ < b for t, a, b in have):
                continue  # the surface form already found it
            # The same benign neighbours as for surface forms ("껍질 벗기고").
            before = squeeze(n.text[max(0, s - 24) : s])
            after = squeeze(n.text[e : e + 24])
            if any(after.startswith(x) for x in self.not_before[term_id]) or any(
                before.endswith(x) for x in self.not_after[term_id]
            ):
                continue
            term = self.terms[term_id]
            self._add(out, term, os_, oe, n.original[os_:oe], n.text[s:e])

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
        out.norm = n
        self._terms(n, out)
        self._lemma_terms(n, out)
        self._patterns(n, out)
        if out.findings or out.patterns:
            self.resolve(out)
        return out
