"""Duplicate groups: one picture or video, however many times it was saved, resized,
cropped or re-compressed, and every chat it was posted in.

A group is a connected set of stored files linked by capture-to-capture matches (PDQ
or vPDQ within the threshold); the very same bytes posted twice are one stored file
with two sightings. Groups are computed from the stored matches when asked (union-find
over the match rows), so they are never out of date. The summary reads "posted in 7
chats, first in X on D". Chaining is possible in principle (A~B and B~C with A far from
C); PDQ hashes of unrelated pictures are ~128 bits apart, so at 31 bits it is rare, and
every member lists its own matches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select

from haechi.app import App
from haechi.store.models import Blob, Chat, Media, Message
from haechi.store.tables.match import MatchRow

CHUNK = 500
MAX_MEMBERS = 5000


@dataclass(frozen=True)
class Sighting:
    blob_sha256: str
    chat_id: int
    chat_title: str | None
    chat_key: str
    message_id: int
    message_pk: int
    date_unix: int | None
    date_raw: str | None
    source_id: int
    forwarded_from: str | None

    @property
    def when(self) -> str:
        if self.date_unix is None:
            return self.date_raw or "an unknown date"
        return datetime.fromtimestamp(self.date_unix, UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Link:
    a: str
    b: str
    kind: str
    distance: int | None
    transform: str | None


@dataclass
class DuplicateGroup:
    key: str  # the smallest member SHA-256: stable while the group does not change
    members: list[str]
    links: list[Link] = field(default_factory=list)
    sightings: list[Sighting] = field(default_factory=list)
    kinds: dict[str, str | None] = field(default_factory=dict)  # sha256 -> media kind

    @property
    def chats(self) -> int:
        return len({s.chat_id for s in self.sightings})

    @property
    def first(self) -> Sighting | None:
        dated = [s for s in self.sightings if s.date_unix is not None]
        return min(dated, key=lambda s: (s.date_unix, s.message_pk)) if dated else None

    def summary(self) -> str:
        chats = self.chats
        where = f"posted in {chats} chat{'s' if chats != 1 else ''}"
        first = self.first
        if first is not None:
            where += f", first in {first.chat_title or first.chat_key} on {first.when}"
        copies = len(self.members)
        if copies > 1:
            where += f" ({copies} different files)"
        return where

    def as_dict(self) -> dict[str, Any]:
        first = self.first
        return {
            "key": self.key,
            "summary": self.summary(),
            "chats": self.chats,
            "members": self.members,
            "kinds": self.kinds,
            "first": None if first is None else {
                "chat": first.chat_title, "chat_key": first.chat_key,
                "message_id": first.message_id, "date_unix": first.date_unix,
                "sha256": first.blob_sha256,
            },
            "links": [vars(link) for link in self.links],
            "sightings": [
                {"sha256": s.blob_sha256, "chat": s.chat_title, "chat_key": s.chat_key,
                 "message_id": s.message_id, "date_unix": s.date_unix, "date_raw": s.date_raw,
                 "source_id": s.source_id, "forwarded_from": s.forwarded_from}
                for s in self.sightings
            ],
        }  # fmt: skip


def _link(r: Any) -> Link:
    return Link(str(r[0]), str(r[1]), str(r[2]), r[3], r[4])


def _capture_links(app: App, shas: Sequence[str] | None) -> list[Link]:
    q = select(
        MatchRow.blob_sha256, MatchRow.target_blob_sha256, MatchRow.kind, MatchRow.distance,
        MatchRow.transform,
    ).where(MatchRow.target_blob_sha256.is_not(None))  # fmt: skip
    out = []
    with app.db.connect() as conn:
        if shas is None:
            rows: Iterable[Any] = conn.execute(q)
            out = [_link(r) for r in rows]
        else:
            for start in range(0, len(shas), CHUNK):
                part = list(shas[start : start + CHUNK])
                cond = or_(MatchRow.blob_sha256.in_(part), MatchRow.target_blob_sha256.in_(part))
                out += [_link(r) for r in conn.execute(q.where(cond))]
    return out


def sightings(app: App, shas: Sequence[str]) -> list[Sighting]:
    """Every message that carried one of these files, oldest first (one per chat and
    message, however many exports showed it)."""
    seen: dict[tuple[int, int, str], Sighting] = {}
    with app.db.connect() as conn:
        for start in range(0, len(shas), CHUNK):
            part = list(shas[start : start + CHUNK])
            for row in conn.execute(
                select(Media.blob_sha256, Chat.id, Chat.title, Chat.key, Message.message_id,
                       Message.id, Message.date_unix, Message.date_raw, Media.source_id,
                       Message.forwarded_from)
                .join(Message, Message.id == Media.message_pk)
                .join(Chat, Chat.id == Message.chat_id)
                .where(Media.blob_sha256.in_(part))
                .order_by(Media.id)
            ):  # fmt: skip
                s = Sighting(*tuple(row))
                seen.setdefault((s.chat_id, s.message_id, s.blob_sha256), s)
    return sorted(
        seen.values(), key=lambda s: (s.date_unix is None, s.date_unix or 0, s.message_pk)
    )


def _kinds(app: App, shas: Sequence[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    with app.db.connect() as conn:
        for start in range(0, len(shas), CHUNK):
            part = list(shas[start : start + CHUNK])
            rows = conn.execute(select(Blob.sha256, Blob.kind).where(Blob.sha256.in_(part)))
            out.update((sha, kind) for sha, kind in rows)
    return out


def duplicate_group(app: App, sha256: str) -> DuplicateGroup:
    """The group of one stored file (a group of one when nothing matched it)."""
    members, frontier, links = {sha256}, [sha256], {}
    while frontier and len(members) < MAX_MEMBERS:
        found = _capture_links(app, frontier)
        frontier = []
        for link in found:
            links[(link.a, link.b, link.kind)] = link
            for sha in (link.a, link.b):
                if sha not in members:
                    members.add(sha)
                    frontier.append(sha)
    ordered = sorted(members)
    return DuplicateGroup(
        ordered[0], ordered, sorted(links.values(), key=lambda x: (x.a, x.b)),
        sightings(app, ordered), _kinds(app, ordered),
    )  # fmt: skip


def duplicate_groups(
    app: App, *, min_chats: int = 2, limit: int | None = None
) -> list[DuplicateGroup]:
    """Every group posted in at least ``min_chats`` chats, the most widespread first.

    Files that never matched another file but were posted in several chats (forwards of
    the very same bytes) are groups too.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links = _capture_links(app, None)
    for link in links:
        ra, rb = find(link.a), find(link.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    with app.db.connect() as conn:
        multi = [
            str(sha)
            for sha in conn.execute(
                select(Media.blob_sha256)
                .join(Message, Message.id == Media.message_pk)
                .where(Media.blob_sha256.is_not(None))
                .group_by(Media.blob_sha256)
                .having(_distinct_chats() >= min_chats)
            ).scalars()
        ]
    for sha in multi:
        find(sha)
    components: dict[str, list[str]] = defaultdict(list)
    for sha in list(parent):
        components[find(sha)].append(sha)
    all_members = sorted({m for ms in components.values() for m in ms})
    by_blob: dict[str, list[Sighting]] = defaultdict(list)
    for s in sightings(app, all_members):
        by_blob[s.blob_sha256].append(s)
    kinds = _kinds(app, all_members)
    links_by_root: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        links_by_root[find(link.a)].append(link)
    groups = []
    for root, shas in components.items():
        ordered = sorted(shas)
        seen = sorted(
            (s for sha in ordered for s in by_blob.get(sha, [])),
            key=lambda s: (s.date_unix is None, s.date_unix or 0, s.message_pk),
        )
        group = DuplicateGroup(
            ordered[0], ordered, links_by_root.get(root, []), seen,
            {sha: kinds.get(sha) for sha in ordered},
        )  # fmt: skip
        if group.chats >= min_chats:
            groups.append(group)
    groups.sort(key=lambda g: (-g.chats, -len(g.sightings), g.key))
    return groups[:limit] if limit else groups


def _distinct_chats() -> Any:
    from sqlalchemy import distinct, func

    return func.count(distinct(Message.chat_id))
