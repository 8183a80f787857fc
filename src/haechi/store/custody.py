"""The custody log: append-only, hash-chained, Ed25519-signed events.

Each event is a canonical JSON *body* (sorted keys, no spaces, UTF-8) holding its sequence
number, the hash of the previous event, the UTC time, who/where/which tool, the event type,
its subject and its data. ``hash = sha256(body)``; ``signature = Ed25519(body)``. Because
the body contains the previous hash, changing, removing or moving any event breaks the
chain after it, and nobody without the private key can re-sign a rewritten chain.

Events live in the database (``custody_events``) so a capture and its custody event
commit in the same transaction: a crash can never leave one without the other. The log
exports to JSON Lines for offline checking (see docs/custody.md).
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from haechi import __version__
from haechi.store.db import lock_chain
from haechi.store.keychain import KEY_ROTATION, check_rotation
from haechi.store.keys import Signer, Verifier
from haechi.store.models import CustodyEvent

GENESIS = "0" * 64
BODY_VERSION = 1

# Event types; later capabilities add their own (analysis, export, access, notice, ...).
CAPTURE = "capture"
INGEST_STARTED = "ingest_started"
INGEST_FINISHED = "ingest_finished"
INGEST_FAILED = "ingest_failed"
ANALYSIS = "analysis"
ANALYSIS_STARTED = "analysis_started"
ANALYSIS_FINISHED = "analysis_finished"
EXPORT = "export"
VERIFICATION = "verification"
INIT = "init"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class CustodyContext:
    """Who and where: recorded in every event."""

    actor: str
    host: str
    tool: str = "haechi"
    tool_version: str = __version__


@dataclass(frozen=True)
class Draft:
    event_type: str
    subject: str | None
    data: dict[str, Any]


class CustodyLog:
    """Appends events inside the caller's write transaction."""

    def __init__(self, signer: Signer, context: CustodyContext) -> None:
        self.signer = signer
        self.context = context

    def append(
        self, conn: Connection, event_type: str, subject: str | None, data: dict[str, Any]
    ) -> int:
        return self.append_many(conn, [Draft(event_type, subject, data)])[0]

    def append_many(self, conn: Connection, drafts: Sequence[Draft]) -> list[int]:
        """Chain and sign ``drafts`` after the current head; returns their sequence numbers.

        The caller's transaction holds the database write lock (BEGIN IMMEDIATE on SQLite,
        an advisory lock on PostgreSQL, taken here if the transaction began without it),
        so reading the head and appending are atomic.
        """
        if not drafts:
            return []
        lock_chain(conn)
        head = conn.execute(
            select(CustodyEvent.seq, CustodyEvent.hash).order_by(CustodyEvent.seq.desc()).limit(1)
        ).first()
        seq, prev = (head[0], head[1]) if head else (0, GENESIS)
        rows = []
        seqs = []
        for draft in drafts:
            seq += 1
            at = utc_now()
            body = canonical(
                {
                    "v": BODY_VERSION,
                    "seq": seq,
                    "prev": prev,
                    "at": at,
                    "type": draft.event_type,
                    "actor": self.context.actor,
                    "host": self.context.host,
                    "tool": self.context.tool,
                    "tool_version": self.context.tool_version,
                    "subject": draft.subject,
                    "data": draft.data,
                }
            )
            digest = hashlib.sha256(body).hexdigest()
            rows.append(
                {
                    "seq": seq,
                    "at": at,
                    "event_type": draft.event_type,
                    "subject": draft.subject,
                    "body": body.decode(),
                    "prev_hash": prev,
                    "hash": digest,
                    "signature": self.signer.sign(body),
                    "key_id": self.signer.key_id,
                }
            )
            seqs.append(seq)
            prev = digest
        conn.execute(insert(CustodyEvent), rows)
        return seqs


@dataclass(frozen=True)
class StoredEvent:
    """An event as read back from the database or a JSONL export."""

    position: int  # 1-based place in the storage order
    body: str
    hash: str | None
    signature: str | None
    key_id: str | None
    # The database keeps some of the body's fields again as plain columns, for indexes
    # and filters; they are not signed, so verify_chain checks each against the body:
    # (column name, the body field it repeats, the stored value).
    columns: tuple[tuple[str, str, Any], ...] = ()


@dataclass(frozen=True)
class ChainProblem:
    kind: str  # missing / altered / reordered / duplicate / broken_link / unsigned / forged
    seq: int | None
    detail: str
    noun: str = "event"  # what the chain holds: custody events, audit entries

    def __str__(self) -> str:
        where = f"{self.noun} {self.seq}" if self.seq is not None else "log"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass
class ChainReport:
    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Gaps:
    """Sequence numbers skipped so far, as sorted ranges (small unless many are missing)."""

    def __init__(self) -> None:
        self.ranges: list[list[int]] = []  # [start, end] inclusive

    def add(self, start: int, end: int) -> None:
        self.ranges.append([start, end])

    def take(self, seq: int) -> bool:
        for i, (start, end) in enumerate(self.ranges):
            if start <= seq <= end:
                parts = [[start, seq - 1]] if start < seq else []
                parts += [[seq + 1, end]] if seq < end else []
                self.ranges[i : i + 1] = parts
                return True
        return False


# Signatures are checked ahead of the chain walk on threads (``cryptography`` releases the
# GIL while it checks one; an Ed25519 check is most of a link's cost), CHUNK events a task,
# at most AHEAD events read ahead, so memory stays flat.
SIGNATURE_THREADS = 2
CHUNK = 64
AHEAD = 1024

_Checked = tuple[StoredEvent, Any, str | None]  # the event, the key used, the reason


def _check_chunk(verifier: Verifier, chunk: list[StoredEvent]) -> list[_Checked]:
    out = []
    for ev in chunk:
        key = verifier.keys.get(ev.key_id) if ev.key_id else None
        out.append((ev, key, verifier.verify(ev.key_id, ev.signature, ev.body.encode())))
    return out


def _signatures_ahead(
    events: Iterable[StoredEvent], current: Callable[[], Verifier], threads: int
) -> Iterator[_Checked]:
    """The events in order, each with its signature checked by the verifier of the moment
    it was read ahead (the walk re-checks one whose key has changed since: a rotation)."""
    if threads <= 1:
        for ev in events:
            yield from _check_chunk(current(), [ev])
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="haechi-verify") as pool:
        pending: deque[Future[list[_Checked]]] = deque()
        chunk: list[StoredEvent] = []
        for ev in events:
            chunk.append(ev)
            if len(chunk) == CHUNK:
                pending.append(pool.submit(_check_chunk, current(), chunk))
                chunk = []
                if len(pending) * CHUNK >= AHEAD:
                    yield from pending.popleft().result()
        if chunk:
            pending.append(pool.submit(_check_chunk, current(), chunk))
        while pending:
            yield from pending.popleft().result()


def verify_chain(
    events: Iterable[StoredEvent],
    verifier: Verifier,
    noun: str = "event",
    *,
    threads: int = SIGNATURE_THREADS,
) -> ChainReport:
    """Check hashes, signatures, order, links and the columns that repeat the body; name
    every problem found. ``noun`` names one link in the sentences ("audit entry").

    Streaming: memory grows only with the number of anomalies, not with the log.
    """
    report = ChainReport()

    def problem(kind: str, seq: int | None, detail: str) -> None:
        report.problems.append(ChainProblem(kind, seq, detail, noun))

    gaps = _Gaps()
    max_seq, max_hash = 0, GENESIS
    retired: dict[str, int] = {}  # key id -> the rotation event that retired it
    latest = [verifier]  # what the read-ahead checks with (a rotation adds a key)
    for ev, key_used, checked in _signatures_ahead(events, lambda: latest[0], threads):
        report.events += 1
        body_bytes = ev.body.encode()
        try:
            body = json.loads(ev.body)
            seq = int(body["seq"])
            prev = str(body["prev"])
        except (ValueError, KeyError, TypeError):
            problem("altered", None, f"entry at position {ev.position} is not an {noun}")
            continue
        digest = hashlib.sha256(body_bytes).hexdigest()
        if ev.hash is not None and digest != ev.hash:
            problem("altered", seq, "its content no longer matches its recorded hash")
        for column, name, stored in ev.columns:
            signed = body.get(name)
            if stored != signed:
                problem(
                    "altered",
                    seq,
                    f"its stored column {column!r} says {stored!r} but the signed "
                    f"{noun} says {signed!r}",
                )
        reason = checked
        if ev.key_id and verifier.keys.get(ev.key_id) is not key_used:  # a rotation since
            reason = verifier.verify(ev.key_id, ev.signature, body_bytes)
        if reason is not None:
            problem("unsigned" if reason == "unsigned" else "forged", seq, reason)
        elif ev.key_id in retired and seq > retired[ev.key_id]:
            problem(
                "forged",
                seq,
                f"signed by key {ev.key_id} after event {retired[ev.key_id]} retired it",
            )
        elif body.get("type") == KEY_ROTATION:
            old_id, new_id, new_key, bad = check_rotation(body)
            if bad is not None or new_key is None:
                problem("forged", seq, f"key rotation: {bad}")
            elif old_id == ev.key_id:  # the old key vouches for the new one, and back
                retired[old_id] = seq
                verifier = Verifier({**verifier.keys, new_id: new_key})
                latest[0] = verifier
            else:
                problem("forged", seq, f"key rotation signed by {ev.key_id}, not by {old_id}")
        if seq == max_seq + 1:
            if prev != max_hash:
                what = f"{noun} {max_seq}" if max_seq else "the start of the log"
                problem("broken_link", seq, f"does not chain to {what}")
            max_seq, max_hash = seq, digest
        elif seq > max_seq + 1:
            gaps.add(max_seq + 1, seq - 1)
            max_seq, max_hash = seq, digest
        elif gaps.take(seq):
            problem("reordered", seq, f"stored after {noun} {max_seq} (position {ev.position})")
        else:
            problem("duplicate", seq, "appears more than once")
    for start, end in gaps.ranges:
        span = f"{start}" if start == end else f"{start}–{end}"
        problem("missing", start, f"{noun}(s) {span} are not in the log (deleted)")
    report.head_seq, report.head_hash = max_seq, max_hash
    report.problems.sort(key=lambda p: (p.seq or 0, p.kind))
    return report


def iter_db_events(conn: Connection, page: int = 5000) -> Iterator[StoredEvent]:
    """Events in sequence-column order, paged so memory stays flat."""
    last = 0
    position = 0
    while True:
        rows = conn.execute(
            select(
                CustodyEvent.seq,
                CustodyEvent.body,
                CustodyEvent.hash,
                CustodyEvent.signature,
                CustodyEvent.key_id,
                CustodyEvent.at,
                CustodyEvent.event_type,
                CustodyEvent.subject,
                CustodyEvent.prev_hash,
            )
            .where(CustodyEvent.seq > last)
            .order_by(CustodyEvent.seq)
            .limit(page)
        ).all()
        if not rows:
            return
        for seq, body, digest, sig, kid, at, etype, subject, prev in rows:
            position += 1
            columns = (
                ("seq", "seq", seq),
                ("at", "at", at),
                ("event_type", "type", etype),
                ("subject", "subject", subject),
                ("prev_hash", "prev", prev),
            )
            yield StoredEvent(position, body, digest, sig, kid, columns)
            last = seq


def export_line(ev: StoredEvent) -> str:
    """One JSONL line: the exact body string plus hash and signature."""
    return json.dumps(
        {"body": ev.body, "hash": ev.hash, "signature": ev.signature, "key_id": ev.key_id},
        ensure_ascii=False,
    )


def iter_jsonl_events(lines: Iterable[str]) -> Iterator[StoredEvent]:
    for position, line in enumerate((ln for ln in lines if ln.strip()), start=1):
        try:
            obj = json.loads(line)
            yield StoredEvent(
                position, obj["body"], obj.get("hash"), obj.get("signature"), obj.get("key_id")
            )
        except (ValueError, KeyError, TypeError):
            yield StoredEvent(position, "", None, None, None)
