"""Read side of text intelligence, for the CLI and the web UI (which never write SQL).

Victim-identifying pattern hits (school + birth year + name, student numbers, ranks)
are redacted unless the caller asks to reveal them, and revealing is a custody event:
those strings identify victims (domain.md §4.2).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Integer, distinct, func, select

from haechi.analyze.text.lexicon import analyst_dir, load_lexicon
from haechi.analyze.text.scan import scanner_for
from haechi.app import App
from haechi.domain import UsageError
from haechi.store.custody import Draft
from haechi.store.models import Chat, Message
from haechi.store.tables.text import RoomScore, TextEntity, TextFinding

TEXT_REVEAL = "text_reveal"  # custody event: someone looked at unredacted victim details
TEXT_LEXICON_IMPORT = "text_lexicon_import"
_MASK = re.compile(r"[0-9가-힣A-Za-z]")


@dataclass
class RoomRow:
    chat_id: int
    title: str | None
    username: str | None
    score: float
    level: str
    messages: int
    flagged: int
    news_like: int
    discounted: bool
    explanation: list[dict[str, Any]] = field(default_factory=list)

    def reasons(self, n: int = 3) -> str:
        parts = []
        for line in self.explanation[:n]:
            what, ident = line.get("what"), line.get("id", "")
            if what == "discount":
                parts.append(f"discount x{line.get('factor')}")
            else:
                parts.append(f"{ident} ({line.get('points')})")
        return ", ".join(parts)


@dataclass
class FindingRow:
    message_pk: int
    chat_id: int
    message_id: int
    date_unix: int | None
    kind: str
    term_id: str
    category: str
    strength: str | None
    points: float
    span: tuple[int, int]
    matched: str
    news_like: bool


@dataclass
class EntityRow:
    kind: str
    value: str
    messages: int
    chats: int
    first_seen: int | None
    last_seen: int | None
    valid: bool


def current_version(app: App) -> str:
    return scanner_for(app.settings.home).version


def room_ranking(
    app: App, *, limit: int = 50, min_score: float = 0.0, chat_id: int | None = None
) -> list[RoomRow]:
    """Rooms by risk score at the current version, highest first."""
    version = current_version(app)
    q = (
        select(RoomScore.__table__, Chat.title, Chat.username)
        .join(Chat, Chat.id == RoomScore.chat_id)
        .where(RoomScore.version == version, RoomScore.score >= min_score)
        .order_by(RoomScore.score.desc(), RoomScore.chat_id)
        .limit(limit)
    )
    if chat_id is not None:
        q = q.where(RoomScore.chat_id == chat_id)
    with app.db.connect() as conn:
        rows = conn.execute(q).all()
    return [
        RoomRow(
            s.chat_id,
            s.title,
            s.username,
            s.score,
            s.level,
            s.messages,
            s.flagged_messages,
            s.news_like_messages,
            bool(s.discounted),
            orjson.loads(s.explanation_json),
        )
        for s in rows
    ]


def redact(text: str) -> str:
    """Keep the first character of each word, mask the rest ('○○고 07년생' -> '○○고 0○○○')."""
    out = []
    for word in text.split(" "):
        out.append(word[:1] + _MASK.sub("○", word[1:]))
    return " ".join(out)


def findings(
    app: App,
    *,
    chat_id: int | None = None,
    term: str | None = None,
    category: str | None = None,
    limit: int = 100,
    reveal: bool = False,
    include_context: bool = False,
) -> list[FindingRow]:
    version = current_version(app)
    q = (
        select(TextFinding.__table__, Message.message_id, Message.date_unix)
        .join(Message, Message.id == TextFinding.message_pk)
        .where(TextFinding.version == version)
        .order_by(Message.date_unix, TextFinding.id)
        .limit(limit)
    )
    if chat_id is not None:
        q = q.where(TextFinding.chat_id == chat_id)
    if term is not None:
        q = q.where(TextFinding.term_id == term)
    if category is not None:
        q = q.where(TextFinding.category == category)
    if not include_context:
        q = q.where(TextFinding.kind != "context")
    with app.db.connect() as conn:
        rows = conn.execute(q).all()
    out = []
    revealed = []
    for f in rows:
        mid, date = f.message_id, f.date_unix
        # Victim details stay redacted whatever the row: a rank + unit read in its benign
        # sense (a discharge notice) is a zero-point context row, and still a person.
        sensitive = f.category in ("victim_identifying", "victim_detail")
        matched = f.matched
        if sensitive:
            if reveal:
                revealed.append(f.id)
            else:
                matched = redact(matched)
        out.append(
            FindingRow(
                f.message_pk,
                f.chat_id,
                mid,
                date,
                f.kind,
                f.term_id,
                f.category,
                f.strength,
                f.points,
                (f.span_start, f.span_end),
                matched,
                f.news_like,
            )
        )
    if revealed:
        with app.db.begin() as conn:
            app.custody.append_many(
                conn,
                [
                    Draft(
                        TEXT_REVEAL,
                        f"chat:{chat_id}" if chat_id else None,
                        {"finding_ids": revealed, "version": version},
                    )
                ],
            )
    return out


def entities(
    app: App,
    *,
    kind: str | None = None,
    value: str | None = None,
    chat_id: int | None = None,
    limit: int = 100,
) -> list[EntityRow]:
    """Identifiers with how many messages and rooms carry them, most widespread first."""
    version = current_version(app)
    chats = func.count(distinct(TextEntity.chat_id))
    q = (
        select(
            TextEntity.kind,
            TextEntity.value,
            func.count(distinct(TextEntity.message_pk)),
            chats,
            func.min(TextEntity.date_unix),
            func.max(TextEntity.date_unix),
            func.max(TextEntity.valid.cast(Integer)),
        )
        .where(TextEntity.version == version)
        .group_by(TextEntity.kind, TextEntity.value)
        .order_by(
            chats.desc(),
            func.count(distinct(TextEntity.message_pk)).desc(),
            TextEntity.kind,
            TextEntity.value,
        )
        .limit(limit)
    )
    if kind is not None:
        q = q.where(TextEntity.kind == kind)
    if value is not None:
        q = q.where(TextEntity.value == value)
    if chat_id is not None:
        q = q.where(TextEntity.chat_id == chat_id)
    with app.db.connect() as conn:
        rows = conn.execute(q).all()
    return [EntityRow(k, v, int(m), int(c), lo, hi, bool(ok)) for k, v, m, c, lo, hi, ok in rows]


def lexicon_info(app: App) -> dict[str, Any]:
    lex = scanner_for(app.settings.home).lexicon
    by_lang: dict[str, int] = {}
    for t in lex.terms:
        by_lang[t.lang] = by_lang.get(t.lang, 0) + 1
    return {
        "version": current_version(app),
        "files": list(lex.files),
        "terms": len(lex.terms),
        "forms": sum(len(t.forms) for t in lex.terms),
        "patterns": len(lex.patterns),
        "rules": len(lex.rules),
        "terms_by_language": dict(sorted(by_lang.items())),
    }


def import_lexicon(app: App, path: Path) -> dict[str, Any]:
    """Validate an analyst's lexicon file against the built-in one and copy it into
    ``HOME/lexicon/``; the next ``haechi text analyze`` scans under the new version."""
    if path.suffix != ".toml" or not path.is_file():
        raise UsageError(f"{path} is not a .toml file.")
    load_lexicon(None, [path])  # raises a one-sentence UsageError when invalid
    dest_dir = analyst_dir(app.settings.home)
    dest_dir.mkdir(exist_ok=True)
    dest = dest_dir / path.name
    shutil.copyfile(path, dest)
    with app.db.begin() as conn:
        app.custody.append_many(
            conn,
            [
                Draft(
                    TEXT_LEXICON_IMPORT,
                    f"lexicon:{path.name}",
                    {
                        "file": path.name,
                        "sha256": hashlib.sha256(dest.read_bytes()).hexdigest(),
                        "version": current_version(app),
                    },
                )
            ],
        )
    return lexicon_info(app) | {"imported": str(dest)}
