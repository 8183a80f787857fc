"""One message in, everything text intelligence knows about it out (no database here):
lexicon findings, victim-identifying patterns, identifiers, message-level rule hits and
whether it reads as news, support or public-safety text (:mod:`.context`). The runner, the
benchmark and the evaluation all call this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from haechi.analyze.text.context import STRONG_POINTS, ContextRules, Reading
from haechi.analyze.text.entities import (
    BUTTON_MARKERS,
    EXTRACTOR_VERSION,
    Entity,
    extract,
    group_of,
)
from haechi.analyze.text.lexicon import Lexicon, Rule, load_lexicon
from haechi.analyze.text.matcher import Matcher, TextResult
from haechi.analyze.text.scoring import keys_of, message_rules
from haechi.analyze.text.variants import supported

# Bump when matching or extraction code changes what it finds. m2: context senses and
# intent cues, lemmas, digits between Hangul syllables, strokes for ㅣ after jamo. m3:
# evasion forms derived from the lexicon (initial consonants, spellings by ear,
# romanisations, Hangul loanwords, mixed scripts), symbols and small capitals for letters.
# m4: rules that cues alone satisfy (no signal term: a photo of a person asked for to be
# made naked, a room moved after a ban), rule senses (benign_in), quoted cues as mentions,
# one-letter misspellings of long Korean terms. m5: a Latin or Cyrillic match that does not
# start and end on a word is retried shorter and further on instead of swallowing the next
# word's start (rules about people's photos, named bots and standby rooms are lexicon data).
ENGINE_VERSION = "m5"
# Identifiers whose message's cues are read even without a signal term (rules test them).
CUE_ENTITIES = frozenset({"tg_bot", "tg_invite", "tg_username", "tg_private_message"})


@dataclass
class MessageScan:
    result: TextResult
    entities: list[Entity]
    rules: list[Rule] = field(default_factory=list)
    news_like: bool = False
    reading: Reading = field(default_factory=Reading)

    @property
    def flagged(self) -> bool:
        return bool(self.result.findings or self.result.patterns or self.rules)

    def points(self, lexicon: Lexicon, *, rules: bool = True, discount: bool = True) -> float:
        """The message's own weight: each distinct term and pattern once, plus its rules,
        at ``news_factor`` when it reads as news."""
        terms = {f.term_id: f.points for f in self.result.findings}
        pats = {p.pattern_id: p.points for p in self.result.patterns}
        total = sum(terms.values()) + sum(pats.values())
        if rules:
            total += sum(r.points for r in self.rules)
        if discount and self.news_like:
            total *= lexicon.scoring.news_factor
        return total

    def keys(self) -> set[tuple[str, str]]:
        keys = keys_of(self.result, {e.kind for e in self.entities if e.valid})
        return keys | {("intent", i) for i in self.reading.intents}


class Scanner:
    """A lexicon compiled for scanning; ``version`` names what produced the rows."""

    def __init__(self, lexicon: Lexicon, derived: bool = True) -> None:
        self.lexicon = lexicon
        self.matcher = Matcher(lexicon, derived=derived)
        self.context = ContextRules(lexicon)
        self.version = f"{lexicon.version}/{EXTRACTOR_VERSION}{ENGINE_VERSION}"
        # Message rules every condition of which a cue or an identifier can meet: they may
        # fire in a message without any signal term, so such a message's cues are read
        # when its pending cue categories and identifiers could satisfy one of them.
        self.cue_rules = [
            r
            for r in lexicon.rules
            if r.scope == "message"
            and all(any(k in ("intent", "entity") for k, _ in alts) for alts in r.all)
        ]
        self._possible: dict[frozenset[tuple[str, str]], bool] = {}

    def scan(
        self,
        text: str,
        entities: list[dict[str, Any]] | None = None,
        raw_json: dict[str, Any] | None = None,
    ) -> MessageScan:
        result = self.matcher.scan(text)
        ents = extract(text, entities or (), raw_json)
        cues_only = False
        if result.pending and any(e.kind in CUE_ENTITIES and e.valid for e in ents):
            # A bot's own words (its requests count) and a room link's (a backup room
            # announced because the room was banned): rules read their cues.
            self.matcher.resolve(result)
        elif result.pending and not (result.findings or result.patterns):
            cues_only = self._cue_rule_possible(result, ents)
            if cues_only:
                self.matcher.resolve(result)
        if any(f.via == "chosung_short" for f in result.findings):
            self._short_initials(result, ents)
        scan = MessageScan(result, ents)
        scan.reading = self.context.read(result, ents, text)
        scan.news_like = scan.reading.news_like
        if result.findings or result.patterns or result.intent:
            rules = message_rules(self.lexicon, scan.keys())
            scan.rules = self._senses(rules, result, scan.reading)
        if cues_only and not scan.rules:
            # Nothing fired: the cues of a message without signal terms are not stored.
            result.context.clear()
            result.intent.clear()
            scan.reading = Reading()
            scan.news_like = False
        return scan

    def _cue_rule_possible(self, result: TextResult, ents: list[Entity]) -> bool:
        """Could a rule that cues alone satisfy hold, judging by the categories of the
        pending (not yet checked) cues and the message's identifiers?"""
        have = {
            ("intent", t.category) for _s, _a, _b, t, _f in result.pending if t.role == "intent"
        }
        for e in ents:
            if e.valid:
                have.add(("entity", e.kind))
                have.update(("entity", g) for g in group_of(e.kind))
        if any(k == "entity" for k, _ in have):
            have.add(("intent", "entity"))
        key = frozenset(have)
        possible = self._possible.get(key)
        if possible is None:  # the same few cue sets recur across a whole scan
            possible = any(
                all(any(a in key for a in alts) for alts in r.all) for r in self.cue_rules
            )
            if len(self._possible) < 4096:
                self._possible[key] = possible
        return possible

    def _senses(self, rules: list[Rule], result: TextResult, reading: Reading) -> list[Rule]:
        """Drop the rules whose benign sense the message's context shows (``benign_in``:
        cues of those categories weighing ``news_min_hits``, or a sense-only cue), unless
        an evasive spelling or a strong abuse term is evidence of abuse of its own."""
        if not reading.kind_weights or "evasion" in reading.intents:
            return rules
        if any(f.points >= STRONG_POINTS and f.category != "backup_room" for f in result.findings):
            return rules
        enough = self.lexicon.scoring.news_min_hits
        return [r for r in rules if not (r.benign_in and reading.shows(r.benign_in, enough))]

    def _short_initials(self, result: TextResult, ents: list[Entity]) -> None:
        """Keep three-consonant abbreviations only with explicit context (:mod:`.variants`):
        ㄴㅇㄱ is a chat meme as often as 능욕글."""
        self.matcher.resolve(result)
        groups = {g for e in ents if e.valid for g in group_of(e.kind)}
        if not supported({c.category for c in result.intent}, groups):
            result.findings[:] = [f for f in result.findings if f.via != "chosung_short"]

    def scan_stored(self, text: str, entities_json: str | None, raw: str | None) -> MessageScan:
        """A message as the database holds it; JSON is parsed only where it can add
        something (hidden link targets, user-id mentions, URL buttons)."""
        ents = None
        if entities_json and ('"text_link"' in entities_json or '"mention_name"' in entities_json):
            parsed = orjson.loads(entities_json)
            ents = parsed if isinstance(parsed, list) else None
        raw_json = None
        if raw and any(marker in raw for marker in BUTTON_MARKERS):
            parsed_raw = orjson.loads(raw)
            raw_json = parsed_raw if isinstance(parsed_raw, dict) else None
        return self.scan(text, ents, raw_json)


@lru_cache(maxsize=4)
def _cached(extra_dir: str | None, stamp: tuple[tuple[str, float], ...]) -> Scanner:
    return Scanner(load_lexicon(Path(extra_dir) if extra_dir else None))


def scanner_for(home: Path | None) -> Scanner:
    """The scanner for a data directory (built-in lexicon + ``HOME/lexicon/*.toml``),
    rebuilt when an analyst file changes."""
    extra = home / "lexicon" if home is not None else None
    stamp: tuple[tuple[str, float], ...] = ()
    if extra is not None and extra.is_dir():
        stamp = tuple(sorted((p.name, p.stat().st_mtime) for p in extra.glob("*.toml")))
    return _cached(str(extra) if extra else None, stamp)
