"""The chain summary a report shows: the case's own events checked now, and the whole log
as last verified (or now, on request).

Verifying the whole log costs one signature check per event, and a busy installation holds
millions. So by default a report checks the events it lists (hash and signature each) and
cites the newest ``verification`` event, the result of the last ``haechi verify``, for the
whole log. ``full=True`` verifies the whole log now instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import select

from haechi.app import App
from haechi.store.custody import StoredEvent, iter_db_events, verify_chain
from haechi.store.models import CustodyEvent


@dataclass
class ChainSummary:
    case_events: int = 0
    case_events_bad: list[str] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)
    head_seq: int = 0
    head_hash: str = ""
    # the whole log: checked now (full) or as the last `haechi verify` recorded it
    whole_checked_now: bool = False
    whole_ok: bool | None = None  # None: never verified
    whole_events: int | None = None
    whole_problems: list[str] = field(default_factory=list)
    last_verified_at: str | None = None
    last_verified_seq: int | None = None


def summarise(app: App, events: list[StoredEvent], *, full: bool = False) -> ChainSummary:
    summary = ChainSummary(case_events=len(events))
    verifier = app.verifier()
    for e in events:
        seq = json.loads(e.body).get("seq")
        if e.hash != hashlib.sha256(e.body.encode()).hexdigest():
            summary.case_events_bad.append(f"event {seq}: content does not match its hash")
        reason = verifier.verify(e.key_id, e.signature, e.body.encode())
        if reason is not None:
            summary.case_events_bad.append(f"event {seq}: {reason}")
    summary.key_ids = sorted({e.key_id for e in events if e.key_id})
    with app.db.connect() as conn:
        head = conn.execute(
            select(CustodyEvent.seq, CustodyEvent.hash).order_by(CustodyEvent.seq.desc()).limit(1)
        ).first()
        if head is not None:
            summary.head_seq, summary.head_hash = int(head[0]), str(head[1])
        if full:
            report = verify_chain(iter_db_events(conn), verifier)
            summary.whole_checked_now = True
            summary.whole_ok, summary.whole_events = report.ok, report.events
            summary.whole_problems = [str(p) for p in report.problems[:20]]
            return summary
        last = conn.execute(
            select(CustodyEvent.seq, CustodyEvent.at, CustodyEvent.body)
            .where(CustodyEvent.event_type == "verification")
            .order_by(CustodyEvent.seq.desc())
            .limit(1)
        ).first()
    if last is not None:
        data = json.loads(last.body).get("data") or {}
        summary.last_verified_seq, summary.last_verified_at = int(last.seq), str(last.at)
        summary.whole_ok = bool(data.get("ok"))
        summary.whole_events = data.get("events")
        summary.whole_problems = list(data.get("chain_problems", []))[:20]
        summary.whole_problems += list(data.get("problems", []))[:20]
    return summary
