"""Context: the same words in a news report, a victim-support notice, a first-aid leaflet,
an evacuation order or a unit's newsletter are not abuse chatter.

Two readings, both rules about context (lexicon data, not a list of messages):

1. **Senses.** A signal term or pattern may name the context categories in which it has
   a benign sense (``benign_in``): "벗기다" among first-aid words (상처, 부위, 환자),
   "대피방" among disaster words (대피소, 민방위), "군수품" among supply and budget
   words, rank + unit among discharge, leave and award words, "딥페이크" among film and
   technology words. Such a hit is kept as a zero-point context finding, so an analyst
   still sees it, unless the message carries **abuse evidence**: a Telegram link, bot or
   payment address, a term spelt to evade filters ("지.인.능.욕", "ㅈ1인"), another abuse
   term that is not itself read as benign, a victim-identifying pattern, or photos of a
   person asked for.
2. **Discount.** A message whose context cues weigh at least ``news_min_hits`` after
   ``intent_veto`` × its intent weight reads as reporting, support or public-safety
   text (``news_like``): its points count at ``news_factor``. Intent cues are trade and
   request words, chat slang (ㅋㅋ, ㄱㄱ), links, bots, wallets and evasive spellings:
   reporters and counsellors do not write them, abuse rooms that mention the police do.

Context and intent cues are found by the matcher like any term (roles ``context`` and
``intent``); each distinct cue counts once, with its ``weight``. One cue is computed: an
abuse term in quotation marks ('지인능욕', "겹지방") is *mentioned*, as reporters and
educators do, not used (weight ``QUOTED``, kind ``news``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from haechi.analyze.text.entities import Entity, group_of
from haechi.analyze.text.lexicon import Lexicon
from haechi.analyze.text.matcher import Finding, PatternHit, TextResult
from haechi.analyze.text.variants import EVASIVE_VIA

# Identifier groups that are evidence of a room's business (links, bots, payments).
INTENT_GROUPS = frozenset({"telegram", "bot", "crypto"})
# Intent categories that keep a term in its abuse sense even among benign-sense words.
SENSE_BLOCKING_INTENTS = frozenset({"photo"})
STRONG_POINTS = 4.0  # another term this strong, not itself benign here, blocks a sense
QUOTED = 1.0  # context weight of a quoted abuse term
_OPEN = "'\"‘“「『《〈"
_CLOSE = "'\"’”」』》〉"
# Quotation pairs for whole quoted phrases; an apostrophe inside a word ("we'll") is not one.
_PAIRS = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("「", "」"), ("『", "』"))
_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")


@dataclass(slots=True)
class Reading:
    """What the context says about one message."""

    news_like: bool = False
    context_weight: float = 0.0
    intent_weight: float = 0.0
    kinds: tuple[str, ...] = ()  # context categories present
    intents: tuple[str, ...] = ()  # intent categories present (and "entity", "evasion")
    benign: list[str] = field(default_factory=list)  # term/pattern ids read as benign
    # Weight of the context cues of each category present (a quoted term counts as news);
    # a category present only through weight-0 sense cues has weight 0.
    kind_weights: dict[str, float] = field(default_factory=dict)

    def shows(self, categories: tuple[str, ...], enough: float) -> bool:
        """Does the message read as one of ``categories``: cues of them weighing ``enough``
        together, or a sense-only cue (weight 0) of one, which shows its sense by itself?"""
        present = [self.kind_weights[c] for c in categories if c in self.kind_weights]
        return any(w == 0 for w in present) or sum(present) >= enough


def evasive(f: Finding) -> bool:
    """Was this hit spelt to get past a filter? Separators, jamo, digits or look-alike
    letters inside the word ("지.인.능.욕", "ㅈ1인능욕", "nud1fy"), or one letter per
    space ("지 인 능 욕", "u n d r e s s"), or a derived evasion form (initial consonants
    "ㅈㅇㄴㅇ", a spelling by ear "딮페이크", mixed scripts "딥fake"). One space inside
    ("지인 능욕") is ordinary, and so are romanised and Hangul-loanword spellings."""
    if f.role != "signal":
        return False
    if f.via:  # a derived form: initial consonants, spellings by ear, mixed scripts evade;
        return f.via in EVASIVE_VIA  # romanised and Hangul-loanword spellings do not
    parts = f.matched.split()
    # NFC, not NFKC: compatibility jamo ("ㅈㅣ") and full-width letters stay visible here.
    joined = unicodedata.normalize("NFC", "".join(parts)).lower()
    if joined != f.form and len(joined) >= len(f.form):
        return True  # something other than spaces sits inside the word
    return len(parts) >= 3 and len(joined) / len(parts) <= 1.5


def quoted(text: str, f: Finding) -> bool:
    """Is the hit inside quotation marks (allowing a short word around it: '지인능욕방')?"""
    before = text[max(0, f.start - 4) : f.start]
    after = text[f.end : f.end + 4]
    i = max((before.rfind(c) for c in _OPEN), default=-1)
    j = min((k for k in (after.find(c) for c in _CLOSE) if k >= 0), default=-1)
    if i < 0 or j < 0:
        return False
    inside = before[i + 1 :] + after[:j]
    return not any(ch.isspace() for ch in inside)


def _distinct(cues: list[Finding], weights: dict[str, float]) -> float:
    seen: dict[str, float] = {}
    for c in cues:
        seen[c.form] = weights.get(c.term_id, 1.0)
    return sum(seen.values())


class ContextRules:
    """The lexicon's context data, indexed once (a scanner holds one)."""

    def __init__(self, lex: Lexicon) -> None:
        self.scoring = lex.scoring
        self.weights = {t.id: t.weight for t in lex.terms if t.role != "signal"}
        self.sense = {t.id: frozenset(t.benign_in) for t in lex.terms if t.benign_in}
        self.pattern_sense = {p.id: frozenset(p.benign_in) for p in lex.patterns if p.benign_in}

    def read(self, result: TextResult, entities: list[Entity], text: str = "") -> Reading:
        """Read ``result`` in its context: move benign-sense hits to ``result.context``
        (zero points) and say whether the message reads as reporting (module docstring).
        A message without signal hits or placed intent cues has nothing to read."""
        mentioned = bool(text) and _mentions(result, text)
        if not (result.findings or result.patterns or result.intent):
            return Reading()
        kinds = {c.category for c in result.context if c.role == "context"}
        intents = {c.category for c in result.intent}
        intent_weight = _distinct(result.intent, self.weights)
        groups = {g for e in entities if e.valid for g in group_of(e.kind)} & INTENT_GROUPS
        if groups:
            intents.add("entity")
            intent_weight += len(groups)
        # A quoted hit is mentioned, not used: reporters quote the evasive spelling too
        # ("'ㄷㅍㅇㅋ' 같은 초성 은어").
        if any(evasive(f) and not (text and quoted(text, f)) for f in result.findings):
            intents.add("evasion")
            intent_weight += 2.0
        benign = self._senses(result, kinds, intents) if kinds else []
        cues = [c for c in result.context if c.role == "context"]
        context_weight = _distinct(cues, self.weights)
        kind_weights: dict[str, float] = {}
        for kind in kinds:
            kind_weights[kind] = _distinct([c for c in cues if c.category == kind], self.weights)
        if mentioned or (text and any(quoted(text, f) for f in result.findings)):
            context_weight += QUOTED
            kinds.add("news")
            kind_weights["news"] = kind_weights.get("news", 0.0) + QUOTED
        sc = self.scoring
        news_like = context_weight - sc.intent_veto * intent_weight >= sc.news_min_hits
        return Reading(
            news_like,
            context_weight,
            intent_weight,
            tuple(sorted(kinds)),
            tuple(sorted(intents)),
            benign,
            kind_weights,
        )

    def _senses(self, result: TextResult, kinds: set[str], intents: set[str]) -> list[str]:
        """Move the hits whose benign sense this message's context shows (in place)."""
        if intents & (SENSE_BLOCKING_INTENTS | {"entity", "evasion"}):
            return []
        none: frozenset[str] = frozenset()
        benign_f = [f for f in result.findings if self.sense.get(f.term_id, none) & kinds]
        benign_p = [
            p for p in result.patterns if self.pattern_sense.get(p.pattern_id, none) & kinds
        ]
        if not (benign_f or benign_p):
            return []
        rest_f = [f for f in result.findings if f not in benign_f]
        rest_p = [p for p in result.patterns if p not in benign_p]
        # What stays is abuse evidence of its own: then nothing here is read as benign.
        strong = any(f.points >= STRONG_POINTS for f in rest_f)
        if strong or any(p.category == "victim_identifying" for p in rest_p):
            return []
        result.findings[:] = rest_f
        result.context.extend(replace(f, points=0.0, role="benign") for f in benign_f)
        result.patterns[:] = rest_p
        result.context.extend(_pattern_context(p) for p in benign_p)
        return [f.term_id for f in benign_f] + [p.pattern_id for p in benign_p]


def in_quotes(text: str, start: int, end: int) -> bool:
    """Is ``text[start:end]`` inside a quotation on its line (a headline or a report
    quoting an advert: "사진만 주면 ..."), not just next to a quote mark?"""
    lo = max(text.rfind("\n", 0, start) + 1, start - 80)
    before = _APOSTROPHE.sub("", text[lo:start])
    after = _APOSTROPHE.sub("", text[end : end + 80].split("\n", 1)[0])
    for o, c in _PAIRS:
        if o == c:  # straight quotes: an odd number before and one after
            if before.count(o) % 2 == 1 and o in after:
                return True
        elif before.rfind(o) > before.rfind(c) and c in after:
            return True
    return False


def _mentions(result: TextResult, text: str) -> bool:
    """Intent cues inside quotation marks are quoted, not written: a report quoting an
    advert's "사진만 주면" is not a request. They become zero-point context findings (kept,
    so an analyst sees them) and count neither as intent nor for rules."""
    quoted_cues = [c for c in result.intent if in_quotes(text, c.start, c.end)]
    if quoted_cues:
        result.intent[:] = [c for c in result.intent if c not in quoted_cues]
        result.context.extend(replace(c, role="mention") for c in quoted_cues)
    return bool(quoted_cues)


def _pattern_context(p: PatternHit) -> Finding:
    return Finding(
        p.pattern_id, p.category, "none", 0.0, "xx", "benign", p.start, p.end, p.matched, ""
    )
