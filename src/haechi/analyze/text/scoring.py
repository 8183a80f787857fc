"""From findings to a message's rule hits and a room's risk score, with the explanation.

Room score (0-100) = 100 * (1 - exp(-points / scale)); points are the sum of
- each term, pattern or message-level rule: its points * (1 + ln n) for the n messages it
  appears in, at most ``term_cap`` * its points (repetition adds evidence, but slowly);
  in news-like messages (>= ``news_min_hits`` distinct news/official words) the same
  at ``news_factor``;
- each word of the room's titles (current and earlier): 1.5 * its points, once;
- each room-level rule whose conditions all hold in the room's non-news messages (or title);
then the whole room * ``source_factor`` when it is a news or official source (listed
username, a title marker such as "뉴스", or most flagged messages news-like).

Every addend becomes a line of the explanation, so an analyst sees why a room ranks where
it does. The score ranks rooms for human review; it never decides anything by itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from haechi.analyze.text.entities import group_of
from haechi.analyze.text.lexicon import Lexicon, Rule
from haechi.analyze.text.matcher import Finding, PatternHit, TextResult

TITLE_WEIGHT = 1.5


def keys_of(result: TextResult, entity_kinds: Iterable[str]) -> set[tuple[str, str]]:
    """The (kind, value) facts rule conditions test: categories, terms, patterns, entities."""
    keys: set[tuple[str, str]] = set()
    for f in result.findings:
        keys.add(("category", f.category))
        keys.add(("term", f.term_id))
    for p in result.patterns:
        keys.add(("pattern", p.pattern_id))
        keys.add(("pcat", p.category))
    for c in result.intent:
        keys.add(("intent", c.category))
    for kind in entity_kinds:
        keys.add(("entity", kind))
        keys.update(("entity", g) for g in group_of(kind))
    return keys


def rule_holds(rule: Rule, keys: set[tuple[str, str]]) -> bool:
    return all(any(alt in keys for alt in alts) for alts in rule.all)


def message_rules(lex: Lexicon, keys: set[tuple[str, str]]) -> list[Rule]:
    return [r for r in lex.rules if r.scope == "message" and rule_holds(r, keys)]


@dataclass
class Stat:
    """One term, pattern or message rule across a room."""

    kind: str  # term / pattern / rule
    id: str
    category: str
    points: float
    messages: int = 0
    news_messages: int = 0


@dataclass
class RoomInput:
    chat_id: int
    title: str | None
    titles: list[str]
    username: str | None
    messages: int
    flagged: int
    news_flagged: int
    stats: list[Stat]
    keys: set[tuple[str, str]]  # facts of the non-news messages
    title_result: TextResult | None = None


@dataclass
class RoomResult:
    chat_id: int
    score: float
    level: str
    points: float
    discounted: bool
    explanation: list[dict[str, Any]] = field(default_factory=list)


def _grow(points: float, n: int, cap: float) -> float:
    return min(points * (1.0 + math.log(n)), points * cap) if n > 0 else 0.0


def level_of(lex: Lexicon, score: float) -> str:
    levels = lex.scoring.levels
    for name in ("high", "medium", "low"):
        if score >= levels.get(name, 101):
            return name
    return "minimal"


def news_source(lex: Lexicon, room: RoomInput) -> str | None:
    """Why the room counts as a news or official source, or None."""
    if room.username and room.username.lower() in lex.news_usernames:
        return f"@{room.username} is listed as a news or official source"
    for title in room.titles:
        low = title.lower()
        for marker in lex.title_markers:
            if marker in low:
                return f"its title {title!r} contains {marker!r}"
    if room.flagged and room.news_flagged / room.flagged >= lex.scoring.news_room_share:
        return f"{room.news_flagged} of its {room.flagged} flagged messages read as reporting"
    return None


def score_room(lex: Lexicon, room: RoomInput) -> RoomResult:
    sc = lex.scoring
    lines: list[dict[str, Any]] = []
    total = 0.0
    for st in room.stats:
        own = _grow(st.points, st.messages, sc.term_cap)
        news = _grow(st.points, st.news_messages, sc.term_cap) * sc.news_factor
        if own + news <= 0:
            continue
        total += own + news
        lines.append(
            {
                "what": st.kind,
                "id": st.id,
                "category": st.category,
                "messages": st.messages,
                "news_messages": st.news_messages,
                "points": round(own + news, 2),
            }
        )
    keys = set(room.keys)
    if room.title_result is not None:
        seen: set[str] = set()
        for f in room.title_result.findings:
            if f.term_id in seen:
                continue
            seen.add(f.term_id)
            pts = f.points * TITLE_WEIGHT
            total += pts
            lines.append(
                {
                    "what": "title",
                    "id": f.term_id,
                    "category": f.category,
                    "matched": f.matched,
                    "points": round(pts, 2),
                }
            )
        keys |= keys_of(room.title_result, ())
    for rule in lex.rules:
        if rule.scope == "room" and rule_holds(rule, keys):
            total += rule.points
            lines.append(
                {"what": "room_rule", "id": rule.id, "explain": rule.explain, "points": rule.points}
            )
    reason = news_source(lex, room)
    if reason is not None and total > 0:
        before = total
        total *= sc.source_factor
        lines.append(
            {
                "what": "discount",
                "why": f"news or official source: {reason}",
                "factor": sc.source_factor,
                "points": round(total - before, 2),
            }
        )
    lines.sort(key=lambda x: -abs(float(x.get("points", 0))))
    score = round(100.0 * (1.0 - math.exp(-total / sc.scale)), 1) if total > 0 else 0.0
    return RoomResult(
        room.chat_id, score, level_of(lex, score), round(total, 2), reason is not None, lines
    )


def finding_rows(result: TextResult) -> list[tuple[str, Finding | PatternHit]]:
    """(kind, hit) pairs in the order they are stored."""
    rows: list[tuple[str, Finding | PatternHit]] = [("term", f) for f in result.findings]
    rows += [("context", f) for f in (*result.context, *result.intent)]
    rows += [("pattern", p) for p in result.patterns]
    return rows
