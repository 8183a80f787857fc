"""Banks and matches, read-only, for the ``/matches`` page, its API and the dashboard.

Built on the matches capability: ``haechi.match.banks.list_banks`` (banks with their
counts), its ``match_hits`` table (the stored matches, newest first) and
``haechi.match.groups`` (duplicate groups). Nothing here is pictorial: a match is a hash,
a distance, a bank and where the file was posted; the pages show it as a card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, text

from haechi.app import App
from haechi.services import integrations
from haechi.services.common import bound, chunks
from haechi.services.media import Match

PAGE = 50
GROUPS = 20
KINDS = ("bank", "capture")  # what a match is against: a bank signal, or another stored file


@dataclass(frozen=True)
class BankView:
    name: str
    description: str | None
    origin: str | None
    labels: list[str]
    items: int
    signals: dict[str, int]
    matches: int
    created_at: str


@dataclass(frozen=True)
class Sighting:
    """Where a file was first posted (the message to open)."""

    message_pk: int
    chat_id: int
    chat_title: str | None
    message_id: int
    date_unix: int | None


@dataclass(frozen=True)
class MatchView:
    id: int
    sha256: str
    hash_kind: str  # pdq / vpdq / md5 / sha256
    against: str  # bank / capture
    distance: int | None
    score: float | None
    transform: str | None
    bank: str | None
    labels: list[str]
    target_sha256: str | None  # the earlier stored file, for a capture match
    created_at: str
    custody_seq: int | None
    file_kind: str | None
    first: Sighting | None
    # A region match's details (``RegionMatch.as_dict``: which part, where, what confirmed
    # it), shown in words by ``haechi.match.describe``; None for a whole-picture match.
    region: dict[str, Any] | None = None


@dataclass(frozen=True)
class MatchPage:
    matches: list[MatchView]
    older: int | None  # match id to page back from


@dataclass(frozen=True)
class GroupMember:
    sha256: str
    kind: str | None
    sightings: int
    bank: list[Match] = field(default_factory=list)  # a member matched to a bank


@dataclass(frozen=True)
class GroupView:
    key: str
    chats: int
    posts: int
    first: Sighting | None
    members: list[GroupMember]


@dataclass(frozen=True)
class Totals:
    banks: int
    bank_matched_files: int  # stored files that matched a bank
    capture_matches: int  # near-duplicate links between stored files


def available() -> bool:
    return integrations.available("matches")


def banks(app: App) -> list[BankView]:
    from haechi.match.banks import list_banks

    return [
        BankView(b.name, b.description, b.origin, b.labels, b.items, b.signals, b.matches,
                 b.created_at)
        for b in list_banks(app)
    ]  # fmt: skip


def first_sightings(conn: Connection, shas: list[str]) -> dict[str, Sighting]:
    """The earliest message (by primary key: ingest order) that carried each file."""
    out: dict[str, Sighting] = {}
    for part in chunks(shas):
        marks, params = bound(part)
        rows = conn.execute(
            text(
                "SELECT f.sha, m.id, m.chat_id, c.title, m.message_id, m.date_unix FROM "  # noqa: S608 - placeholders and our own names only
                "(SELECT blob_sha256 AS sha, min(message_pk) AS pk FROM media "
                f"WHERE blob_sha256 IN ({marks}) GROUP BY blob_sha256) f "
                "JOIN messages m ON m.id = f.pk JOIN chats c ON c.id = m.chat_id"
            ),
            params,
        )
        for sha, pk, chat_id, title, message_id, date_unix in rows:
            out[sha] = Sighting(pk, chat_id, title, message_id, date_unix)
    return out


def _kinds(conn: Connection, shas: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for part in chunks(shas):
        marks, params = bound(part)
        sql = f"SELECT sha256, kind FROM blobs WHERE sha256 IN ({marks})"  # noqa: S608 - placeholders and our own names only
        out.update((sha, kind) for sha, kind in conn.execute(text(sql), params))
    return out


def _details(details_json: str | None) -> dict[str, Any]:
    try:
        details = orjson.loads(details_json) if details_json else {}
    except orjson.JSONDecodeError:
        return {}
    return details if isinstance(details, dict) else {}


def _labels(details: dict[str, Any]) -> list[str]:
    labels = details.get("labels") or []
    return [str(x) for x in labels][:10] if isinstance(labels, list) else []


def recent(
    app: App,
    *,
    bank: str | None = None,
    against: str | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> MatchPage:
    """Stored matches, newest first, keyset-paged by id; ``bank`` (a bank's name) and
    ``against`` (bank / capture) narrow them."""
    limit = max(1, min(limit, 200))
    params: dict[str, Any] = {"limit": limit + 1}
    where = []
    if bank:
        where.append("bank_name = :bank")
        params["bank"] = bank[:128]
    if against == "bank":
        where.append("target_blob_sha256 IS NULL")
    elif against == "capture":
        where.append("target_blob_sha256 IS NOT NULL")
    if before is not None:
        where.append("id < :before")
        params["before"] = before
    cond = f"WHERE {' AND '.join(where)} " if where else ""
    with app.db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, blob_sha256, kind, distance, score, transform, bank_name, "  # noqa: S608 - placeholders and our own names only
                "details_json, target_blob_sha256, created_at, custody_seq FROM match_hits "
                f"{cond}ORDER BY id DESC LIMIT :limit"
            ),
            params,
        ).all()
        shas = sorted({r.blob_sha256 for r in rows[:limit]})
        firsts = first_sightings(conn, shas)
        kinds = _kinds(conn, shas)
    matches = [
        MatchView(
            id=r.id,
            sha256=r.blob_sha256,
            hash_kind=r.kind,
            against="capture" if r.target_blob_sha256 else "bank",
            distance=r.distance,
            score=r.score,
            transform=r.transform,
            bank=r.bank_name,
            labels=_labels(d := _details(r.details_json)),
            target_sha256=r.target_blob_sha256,
            created_at=r.created_at,
            custody_seq=r.custody_seq,
            file_kind=kinds.get(r.blob_sha256),
            first=firsts.get(r.blob_sha256),
            region=d if d.get("stage") == "region" else None,  # haechi.match.regions.STAGE
        )
        for r in rows[:limit]
    ]
    return MatchPage(matches, matches[-1].id if len(rows) > limit and matches else None)


def _cards(banked: integrations.MatchList, sha: str) -> list[Match]:
    return [Match(*m) for m in banked.get(sha, [])]


def groups(app: App, *, limit: int = GROUPS) -> list[GroupView]:
    """Files posted in two or more chats (the same bytes, or near-duplicates), the most
    widespread first, from ``haechi.match.groups``; members matched to a bank say so."""
    from haechi.match.groups import duplicate_groups

    found = duplicate_groups(app, min_chats=2, limit=limit)
    every = sorted({sha for g in found for sha in g.members})
    banked = integrations.bank_matches(app, every)
    out = []
    for g in found:
        posts: dict[str, int] = {}
        for s in g.sightings:
            posts[s.blob_sha256] = posts.get(s.blob_sha256, 0) + 1
        f = g.first
        first = (
            None
            if f is None
            else Sighting(f.message_pk, f.chat_id, f.chat_title, f.message_id, f.date_unix)
        )
        members = [
            GroupMember(
                sha, g.kinds.get(sha), posts.get(sha, 0), [Match(*m) for m in banked.get(sha, [])]
            )
            for sha in g.members
        ]
        out.append(GroupView(g.key, g.chats, len(g.sightings), first, members))
    return out


def totals(app: App) -> Totals | None:
    """The dashboard's figure; None when the matches capability is not installed."""
    if not available():
        return None
    with app.db.connect() as conn:
        n_banks = conn.execute(text("SELECT count(*) FROM match_banks")).scalar() or 0
        row = conn.execute(
            text(
                "SELECT count(DISTINCT CASE WHEN target_blob_sha256 IS NULL THEN blob_sha256 END), "
                "coalesce(sum(CASE WHEN target_blob_sha256 IS NULL THEN 0 ELSE 1 END), 0) "
                "FROM match_hits"
            )
        ).one()
    return Totals(int(n_banks), int(row[0] or 0), int(row[1] or 0))
