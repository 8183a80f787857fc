"""Tags: words reviewers put on files, messages and chats ("bot-ad", "school", "to-check").

A working aid, not evidence: tags are not custody events (the web's audit trail records
who tagged what). A target is ``file:<sha256>``, ``message:<pk>`` or ``chat:<id>`` and must
name a stored row. Tagging twice adds one tag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from haechi.app import App
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.store.models import Blob, Chat, Message
from haechi.store.tables.review import ReviewTag
from haechi.store.vault import is_sha256

TAG = re.compile(r"^[\w][\w.\-:/]{0,63}$", re.UNICODE)
KINDS = ("file", "message", "chat")
MAX_TARGETS = 10_000
CHUNK = 500


@dataclass(frozen=True)
class TagReport:
    tag: str
    added: int  # targets that did not have the tag yet
    targets: int


def check_tag(tag: str) -> str:
    text = tag.strip()
    if not TAG.match(text):
        raise UsageError(
            t_(
                "{tag!r} is not a tag: letters, digits and - _ . : /, 64 at "
                "most, starting with a letter or digit.",
                tag=tag[:80],
            )
        )
    return text


def parse_target(target: str) -> tuple[str, str]:
    """``("file", sha256)``, ``("message", "12")`` or ``("chat", "3")``, or one sentence."""
    kind, _, ref = target.strip().partition(":")
    kind = kind.lower()
    ok = (kind == "file" and is_sha256(ref.lower())) or (
        kind in ("message", "chat") and ref.isdigit() and len(ref) <= 18
    )
    if not ok:
        raise UsageError(
            t_(
                "{target!r} names nothing taggable: write file:<sha256>, "
                "message:<number> or chat:<number>.",
                target=target[:80],
            )
        )
    return kind, ref.lower()


def _check_exist(conn: Connection, parsed: Sequence[tuple[str, str]]) -> None:
    """Every target names a stored row (checked in batches)."""
    for kind, column, cast in (
        ("file", Blob.sha256, str),
        ("message", Message.id, int),
        ("chat", Chat.id, int),
    ):
        refs = sorted({cast(r) for k, r in parsed if k == kind})
        for start in range(0, len(refs), CHUNK):
            part = refs[start : start + CHUNK]
            found = set(conn.execute(select(column).where(column.in_(part))).scalars())
            missing = [r for r in part if r not in found]
            if missing:
                raise UsageError(
                    t_("There is no stored {kind} {missing}.", kind=kind, missing=missing[0])
                )


def add_tag(app: App, targets: Sequence[str], tag: str) -> TagReport:
    text = check_tag(tag)
    parsed = list(dict.fromkeys(parse_target(t) for t in targets))
    if not parsed:
        raise UsageError(t_("Choose at least one file, message or chat to tag."))
    if len(parsed) > MAX_TARGETS:
        raise UsageError(
            t_("At most {max_targets:,} items are tagged at once.", max_targets=MAX_TARGETS)
        )
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    rows = [
        {"target": f"{k}:{r}", "tag": text, "added_by": app.settings.operator[:128],
         "added_at": now}
        for k, r in parsed
    ]  # fmt: skip
    added = 0
    with app.db.begin() as conn:
        _check_exist(conn, parsed)
        dialect = conn.dialect.name
        ins = (postgresql if dialect == "postgresql" else sqlite).insert(ReviewTag)
        stmt = ins.on_conflict_do_nothing(index_elements=["target", "tag"])
        for start in range(0, len(rows), CHUNK):
            # RETURNING counts the new rows on both back ends (rowcount of a many-row
            # insert is not reliable on PostgreSQL).
            result = conn.execute(stmt.returning(ReviewTag.id), rows[start : start + CHUNK])
            added += len(result.all())
    return TagReport(text, added, len(parsed))


def remove_tag(app: App, targets: Sequence[str], tag: str) -> int:
    """Remove a tag; returns how many targets had it."""
    text = check_tag(tag)
    names = [":".join(parse_target(t)) for t in targets]
    removed = 0
    with app.db.begin() as conn:
        for start in range(0, len(names), CHUNK):
            result = conn.execute(
                delete(ReviewTag).where(
                    ReviewTag.tag == text, ReviewTag.target.in_(names[start : start + CHUNK])
                )
            )
            removed += max(result.rowcount or 0, 0)
    return removed


def tags_of(
    app: App, targets: Sequence[str], conn: Connection | None = None
) -> dict[str, list[str]]:
    """``{target: [tags]}`` (alphabetical) for the targets that have any."""
    wanted = sorted(set(targets))
    out: dict[str, list[str]] = {}
    if not wanted:
        return out

    def read(c: Connection) -> None:
        for start in range(0, len(wanted), CHUNK):
            for target, tag in c.execute(
                select(ReviewTag.target, ReviewTag.tag)
                .where(ReviewTag.target.in_(wanted[start : start + CHUNK]))
                .order_by(ReviewTag.target, ReviewTag.tag)
            ):
                out.setdefault(target, []).append(tag)

    if conn is not None:
        read(conn)
    else:
        with app.db.connect() as own:
            read(own)
    return out


def tagged(app: App, tag: str, *, limit: int = 500) -> list[str]:
    """Targets that carry ``tag``, most recently tagged first."""
    text = check_tag(tag)
    with app.db.connect() as conn:
        return list(
            conn.execute(
                select(ReviewTag.target)
                .where(ReviewTag.tag == text)
                .order_by(ReviewTag.id.desc())
                .limit(max(1, min(limit, 10_000)))
            ).scalars()
        )


def all_tags(app: App, *, limit: int = 200) -> list[tuple[str, int]]:
    """Tags in use with how many targets carry each, most used first."""
    from sqlalchemy import func

    with app.db.connect() as conn:
        rows = conn.execute(
            select(ReviewTag.tag, func.count())
            .group_by(ReviewTag.tag)
            .order_by(func.count().desc(), ReviewTag.tag)
            .limit(limit)
        ).all()
    return [(str(t), int(n)) for t, n in rows]
