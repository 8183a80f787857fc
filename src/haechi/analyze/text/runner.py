"""Text analysis over the stored messages: incremental, batched, in the custody log.

A message is scanned once per version (lexicon digest + extractor + engine): the
``text_scans`` row records it, so a rerun, or the hook after the next ingest, only reads
what is new, and a changed lexicon re-reads everything under its new version while the old
rows stay for comparison. Each batch is one write transaction holding its rows and one
``text_analysis`` custody event (counts and the SHA-256 of the batch's findings and
entities), so the log proves what the analysis produced without an event per message.
Room scores are recomputed for the rooms a run touched (``text_room_scores`` event).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, and_, exists, insert, or_, select

from haechi.analyze.text import rooms
from haechi.analyze.text.entities import BUTTON_MARKERS
from haechi.analyze.text.scan import MessageScan, Scanner, scanner_for
from haechi.app import App
from haechi.store.custody import Draft, canonical
from haechi.store.models import Message
from haechi.store.tables.text import TextEntity, TextFinding, TextScan

TEXT_ANALYSIS = "text_analysis"  # custody event types of this capability
BATCH = 5000
VALUE_MAX = 255

ProgressFn = Callable[[int], None]


@dataclass
class TextReport:
    version: str = ""
    messages: int = 0
    flagged: int = 0
    findings: int = 0
    entities: int = 0
    batches: int = 0
    rooms_scored: int = 0
    kiwi_calls: int = 0
    seconds: float = 0.0
    top_rooms: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pending(conn: Connection, version: str, after: int, limit: int) -> list[Any]:
    scanned = exists().where(and_(TextScan.message_pk == Message.id, TextScan.version == version))
    return list(
        conn.execute(
            select(
                Message.id, Message.chat_id, Message.text, Message.entities_json, Message.date_unix
            )
            .where(Message.id > after, Message.text != "", ~scanned)
            .order_by(Message.id)
            .limit(limit)
        ).all()
    )


def _buttons(conn: Connection, lo: int, hi: int) -> dict[int, str]:
    """Raw JSON of the batch's messages that carry inline buttons (URL buttons)."""
    rows = conn.execute(
        select(Message.id, Message.raw).where(
            Message.id.between(lo, hi), or_(*(Message.raw.contains(m) for m in BUTTON_MARKERS))
        )
    )
    return {pk: raw for pk, raw in rows}


def _rows(
    version: str, pk: int, chat: int, date: int | None, scan: MessageScan
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    findings: list[dict[str, Any]] = []
    hits: list[tuple[str, Any]] = [("term", f) for f in scan.result.findings]
    # Context and intent cues, and hits read in their benign sense: zero-point rows that
    # show an analyst why a message was discounted or a word not counted.
    hits += [("context", f) for f in (*scan.result.context, *scan.result.intent)]
    for kind, f in hits:
        findings.append(
            {
                "message_pk": pk,
                "chat_id": chat,
                "version": version,
                "kind": kind,
                "term_id": f.term_id,
                "category": f.category,
                "strength": f.strength,
                "points": f.points,
                "lang": f.lang,
                "span_start": f.start,
                "span_end": f.end,
                "matched": f.matched,
                "news_like": scan.news_like,
            }
        )
    for p in scan.result.patterns:
        findings.append(
            {
                "message_pk": pk,
                "chat_id": chat,
                "version": version,
                "kind": "pattern",
                "term_id": p.pattern_id,
                "category": p.category,
                "strength": None,
                "points": p.points,
                "lang": None,
                "span_start": p.start,
                "span_end": p.end,
                "matched": p.matched,
                "news_like": scan.news_like,
            }
        )
    for r in scan.rules:
        findings.append(
            {
                "message_pk": pk,
                "chat_id": chat,
                "version": version,
                "kind": "rule",
                "term_id": r.id,
                "category": "rule",
                "strength": None,
                "points": r.points,
                "lang": None,
                "span_start": 0,
                "span_end": 0,
                "matched": r.explain[:200],
                "news_like": scan.news_like,
            }
        )
    entities = [
        {
            "message_pk": pk,
            "chat_id": chat,
            "version": version,
            "kind": e.kind,
            "value": e.value[:VALUE_MAX],
            "raw": e.raw[:4096],
            "span_start": e.start,
            "span_end": e.end,
            "source": e.source,
            "valid": e.valid,
            "detail_json": orjson.dumps(e.detail).decode() if e.detail else None,
            "date_unix": date,
        }
        for e in scan.entities
    ]
    return findings, entities


def _digest(findings: list[dict[str, Any]], entities: list[dict[str, Any]]) -> str:
    summary = [
        [f["message_pk"], f["kind"], f["term_id"], f["span_start"], f["span_end"]] for f in findings
    ] + [[e["message_pk"], e["kind"], e["value"], e["span_start"]] for e in entities]
    return hashlib.sha256(canonical(summary)).hexdigest()


def _write_batch(
    app: App,
    scanner: Scanner,
    batch: list[Any],
    buttons: dict[int, str],
    report: TextReport,
    touched: set[int],
) -> None:
    version = scanner.version
    scans: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    pks = [row[0] for row in batch]
    results: dict[int, tuple[int, int | None, MessageScan]] = {}
    for pk, chat, text, ents_json, date in batch:
        results[pk] = (chat, date, scanner.scan_stored(text, ents_json, buttons.get(pk)))
    with app.db.begin() as conn:
        # Another runner may have scanned some of them meanwhile: we hold the write lock now.
        done = set(
            conn.execute(
                select(TextScan.message_pk).where(
                    TextScan.version == version, TextScan.message_pk.between(pks[0], pks[-1])
                )
            ).scalars()
        )
        for pk, (chat, date, scan) in results.items():
            if pk in done:
                continue
            f_rows, e_rows = _rows(version, pk, chat, date, scan)
            findings += f_rows
            entities += e_rows
            scans.append(
                {
                    "message_pk": pk,
                    "version": version,
                    "findings": len(f_rows),
                    "entities": len(e_rows),
                    "news_like": scan.news_like,
                }
            )
            touched.add(chat)  # its message count changed: rescore it even when clean
            report.flagged += int(scan.flagged)
        if not scans:
            return
        app.db.insert_ignore(conn, TextScan, scans)
        if findings:
            conn.execute(insert(TextFinding), findings)
        if entities:
            conn.execute(insert(TextEntity), entities)
        app.custody.append_many(
            conn,
            [
                Draft(
                    TEXT_ANALYSIS,
                    f"text:{version}",
                    {
                        "version": version,
                        "lexicon": scanner.lexicon.version,
                        "lexicon_files": [p.rsplit("/", 1)[-1] for p in scanner.lexicon.files],
                        "first_message_pk": scans[0]["message_pk"],
                        "last_message_pk": scans[-1]["message_pk"],
                        "messages": len(scans),
                        "findings": len(findings),
                        "entities": len(entities),
                        "rows_sha256": _digest(findings, entities),
                    },
                )
            ],
        )
    report.messages += len(scans)
    report.findings += len(findings)
    report.entities += len(entities)
    report.batches += 1


def run_text_analysis(
    app: App, *, batch: int = BATCH, rescore_all: bool = False, progress: ProgressFn | None = None
) -> TextReport:
    """Scan every message not yet scanned at the current version, then rescore rooms."""
    from haechi.analyze.text.matcher import _Kiwi

    started = time.monotonic()
    kiwi_before = _Kiwi.calls
    scanner = scanner_for(app.settings.home)
    report = TextReport(version=scanner.version)
    touched: set[int] = set()
    after = 0
    while True:
        with app.db.connect() as conn:
            rows = _pending(conn, scanner.version, after, batch)
            if not rows:
                break
            buttons = _buttons(conn, rows[0][0], rows[-1][0])
        _write_batch(app, scanner, rows, buttons, report, touched)
        after = rows[-1][0]
        if progress is not None:
            progress(report.messages)
    scored = rooms.rescore(app, scanner, None if rescore_all else touched)
    report.rooms_scored = len(scored)
    report.top_rooms = [
        {"chat_id": r.chat_id, "score": r.score, "level": r.level}
        for r in sorted(scored, key=lambda r: -r.score)[:5]
    ]
    report.kiwi_calls = _Kiwi.calls - kiwi_before
    report.seconds = round(time.monotonic() - started, 3)
    return report


def after_ingest(app: App, report: Any) -> dict[str, Any]:
    """The ``haechi.ingest_hooks`` entry point: catch up on new messages, rescore rooms."""
    result = run_text_analysis(app)
    return {
        "version": result.version,
        "messages": result.messages,
        "flagged": result.flagged,
        "findings": result.findings,
        "entities": result.entities,
        "rooms_scored": result.rooms_scored,
    }
