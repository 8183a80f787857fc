"""The audit trail as a signed hash chain, and its checks against the custody log.

Every audit entry is a canonical JSON body (its sequence number, the previous entry's
hash, who, what, when, from where, and the head of the custody log at that moment),
hashed and signed with the data directory's key exactly as custody events are
(:mod:`haechi.store.custody`). The plain columns of ``audit_log`` repeat the body for
indexes and filters; :func:`verify_audit` checks every one of them against it.

The two logs vouch for each other, which is what makes *deleting* entries visible and
not only altering them:

- a reveal or an export writes a custody event naming the audit entry's ``seq``, and
  the entry names the event: a deleted reveal entry leaves a custody event pointing at
  nothing, and the reverse;
- each entry records the custody head it saw: a custody log cut back below it is named;
- each ``verification`` custody event records the audit head it checked: an audit trail
  cut back below that is named.

What no chain can show by itself is the newest entries of *both* logs removed together
after the last cross-reference; an exported head (``haechi verify --json`` prints both
heads) kept elsewhere closes that gap (docs/custody.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select, text

from haechi.store.custody import GENESIS, ChainReport, StoredEvent, canonical, verify_chain
from haechi.store.keys import Signer, Verifier
from haechi.store.models import CustodyEvent
from haechi.store.tables.web import AuditEntry

BODY_VERSION = 1
NOUN = "audit entry"

# Stored column -> the field of the signed body it repeats.
COLUMNS = (
    ("seq", "seq"),
    ("at", "at_unix"),
    ("at_iso", "at"),
    ("user_id", "user_id"),
    ("username", "username"),
    ("role", "role"),
    ("action", "action"),
    ("subject", "subject"),
    ("detail_json", "detail"),
    ("ip", "ip"),
    ("via", "via"),
    ("custody_seq", "custody_seq"),
    ("prev_hash", "prev"),
)


def lock(conn: Connection) -> None:
    """Serialise appends to the trail. SQLite's writers already are (BEGIN IMMEDIATE);
    PostgreSQL takes a transaction-scoped advisory lock of its own, so a search never
    waits for an ingest batch holding the custody chain's lock."""
    if conn.dialect.name == "postgresql":
        # 7420001 is the custody chain's, 7420002 the analysis run lock (held for hours).
        conn.execute(text("SELECT pg_advisory_xact_lock(7420003, hashtext(current_schema()))"))


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        select(AuditEntry.seq, AuditEntry.hash)
        .where(AuditEntry.seq.is_not(None))
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    if row is None or row[0] is None:
        return 0, GENESIS
    return int(row[0]), str(row[1])


def custody_head(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(
        select(CustodyEvent.seq, CustodyEvent.hash).order_by(CustodyEvent.seq.desc()).limit(1)
    ).first()
    return {"seq": int(row[0]), "hash": str(row[1])} if row else None


@dataclass(frozen=True)
class Sealed:
    """An entry's chain columns, ready to insert beside its plain columns."""

    seq: int
    body: str
    prev_hash: str
    hash: str
    signature: str
    key_id: str


def seal(
    signer: Signer, seq: int, prev: str, fields: dict[str, Any], custody: dict[str, Any] | None
) -> Sealed:
    """Build, hash and sign one entry. ``fields`` are the plain columns (named as the
    body names them: ``at_unix``, ``at``, ``username``, ...)."""
    body = canonical(
        {"v": BODY_VERSION, "seq": seq, "prev": prev, **fields, "custody_head": custody}
    )
    return Sealed(
        seq=seq,
        body=body.decode(),
        prev_hash=prev,
        hash=hashlib.sha256(body).hexdigest(),
        signature=signer.sign(body),
        key_id=signer.key_id,
    )


def _columns(row: Any) -> tuple[tuple[str, str, Any], ...]:
    return tuple((column, name, getattr(row, column)) for column, name in COLUMNS)


def iter_entries(conn: Connection, page: int = 5000) -> Iterator[StoredEvent]:
    """Chained entries in the order they were stored (row id), paged."""
    t = AuditEntry.__table__
    last = 0
    position = 0
    while True:
        rows = conn.execute(
            select(t).where(t.c.id > last, t.c.seq.is_not(None)).order_by(t.c.id).limit(page)
        ).all()
        if not rows:
            return
        for row in rows:
            position += 1
            yield StoredEvent(
                position, row.body or "", row.hash, row.signature, row.key_id, _columns(row)
            )
            last = row.id


@dataclass
class AuditReport:
    chain: ChainReport = field(default_factory=ChainReport)
    unchained: int = 0  # entries written before the trail was chained
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    def all_problems(self) -> list[str]:
        return [f"audit trail: {p}" for p in self.chain.problems] + self.problems


def verify_audit(conn: Connection, verifier: Verifier) -> AuditReport:
    """The trail's chain, its columns, and the cross-references with the custody log."""
    report = AuditReport()
    report.chain = verify_chain(iter_entries(conn), verifier, noun=NOUN)
    report.unchained = int(
        conn.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))
        ).scalar_one()
    )
    _check_custody_links(conn, report)
    _check_last_verified_head(conn, report)
    _check_custody_head_seen(conn, report)
    return report


def _check_custody_links(conn: Connection, report: AuditReport) -> None:
    """Custody events that name an audit entry, and entries that name a custody event."""
    named: dict[int, int] = {}
    for seq, body in conn.execute(
        select(CustodyEvent.seq, CustodyEvent.body).where(
            CustodyEvent.event_type.in_(("access", "export")),
            CustodyEvent.body.like('%"audit_seq":%'),
        )
    ):
        audit_seq = (json.loads(body).get("data") or {}).get("audit_seq")
        if isinstance(audit_seq, int):
            named[audit_seq] = int(seq)
    entries: dict[int, int | None] = {}
    if named:
        for part in _chunks(sorted(named)):
            for a_seq, c_seq in conn.execute(
                select(AuditEntry.seq, AuditEntry.custody_seq).where(AuditEntry.seq.in_(part))
            ):
                if a_seq is not None:
                    entries[a_seq] = c_seq
    for a_seq, c_seq in sorted(named.items()):
        if a_seq not in entries:
            report.problems.append(
                f"missing: audit entry {a_seq} is named by custody event {c_seq} "
                "but is not in the audit trail (deleted)"
            )
        elif entries[a_seq] != c_seq:
            report.problems.append(
                f"altered: audit entry {a_seq} names custody event {entries[a_seq]}, "
                f"but custody event {c_seq} names it"
            )
    rows = conn.execute(
        select(AuditEntry.seq, AuditEntry.custody_seq).where(
            AuditEntry.seq.is_not(None), AuditEntry.custody_seq.is_not(None)
        )
    ).all()
    for a_seq, c_seq in rows:
        if a_seq not in named:
            report.problems.append(
                f"unattested: audit entry {a_seq} names custody event {c_seq}, "
                "which does not name it back"
            )


def _check_last_verified_head(conn: Connection, report: AuditReport) -> None:
    """The newest verification event's audit head must still be in the trail."""
    row = conn.execute(
        select(CustodyEvent.seq, CustodyEvent.body)
        .where(CustodyEvent.event_type == "verification", CustodyEvent.body.like('%"audit_head"%'))
        .order_by(CustodyEvent.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return
    seen = (json.loads(row.body).get("data") or {}).get("audit_head") or {}
    seq, digest = seen.get("seq"), seen.get("hash")
    if not isinstance(seq, int) or seq == 0:
        return
    stored = conn.execute(select(AuditEntry.hash).where(AuditEntry.seq == seq)).scalar()
    if stored is None:
        report.problems.append(
            f"missing: the audit trail ends before entry {seq}, which the verification of "
            f"custody event {row.seq} saw (entries were deleted from its end)"
        )
    elif stored != digest:
        report.problems.append(
            f"altered: audit entry {seq} is not the entry the verification of custody "
            f"event {row.seq} saw"
        )


def _check_custody_head_seen(conn: Connection, report: AuditReport) -> None:
    """The custody head the newest audit entry saw must still be in the custody log."""
    body = conn.execute(
        select(AuditEntry.body)
        .where(AuditEntry.seq.is_not(None))
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).scalar()
    if not body:
        return
    try:
        seen = json.loads(body).get("custody_head") or {}
    except ValueError:
        return  # the chain check names an unreadable body
    seq, digest = seen.get("seq"), seen.get("hash")
    if not isinstance(seq, int):
        return
    stored = conn.execute(select(CustodyEvent.hash).where(CustodyEvent.seq == seq)).scalar()
    if stored is None:
        report.problems.append(
            f"missing: the custody log ends before event {seq}, which the newest audit "
            "entry saw (events were deleted from its end)"
        )
    elif stored != digest:
        report.problems.append(
            f"altered: custody event {seq} is not the event the newest audit entry saw"
        )


def _chunks(values: list[int], size: int = 500) -> Iterator[list[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
