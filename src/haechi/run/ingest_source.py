"""Which source an ingest writes to: the same export is the same source.

A source's identity is its kind and the SHA-256 of its root file (a Telegram Desktop
export's ``result.json``), never where it lies: a copied or moved export finds the source
it made before, and the run is a rerun of it (idempotent, resumable). This module finds
that source or opens a new one, refuses a rerun whose time zone contradicts the first
run's, and drafts the ``ingest_started`` custody event; :class:`haechi.run.ingest.Ingestor`
calls it inside the transaction that records the root file. The drop-folder page asks
:func:`find_source` the same question before it offers an ingest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from haechi.collect.base import Collector
from haechi.config import Settings
from haechi.domain import SourceDescriptor, UsageError
from haechi.i18n import t_
from haechi.store import custody
from haechi.store.custody import Draft, utc_now
from haechi.store.models import Source


@dataclass(frozen=True)
class KnownSource:
    id: int
    status: str  # started (running, or killed) / finished / failed
    assume_timezone: str | None


@dataclass(frozen=True)
class OpenedSource:
    id: int
    resumed: bool  # a rerun of a source stored before
    started: Draft  # the ingest_started custody event


def find_source(conn: Connection, kind: str, root_sha256: str | None) -> KnownSource | None:
    """The source stored before with this identity, if any."""
    row = conn.execute(
        select(Source.id, Source.status, Source.assume_timezone).where(
            Source.kind == kind, Source.root_sha256 == root_sha256
        )
    ).first()
    return KnownSource(int(row[0]), str(row[1]), row[2]) if row is not None else None


def open_source(
    conn: Connection,
    settings: Settings,
    collector: Collector,
    desc: SourceDescriptor,
    root_sha256: str | None,
    zone: str | None,
) -> OpenedSource:
    """The source this run writes to (found by identity, or new), with its start event."""
    known = find_source(conn, desc.kind, root_sha256)
    if known is not None and known.assume_timezone and zone and zone != known.assume_timezone:
        raise UsageError(
            t_(
                "This export was ingested assuming the time zone {row}; run "
                "again with --assume-timezone {row}, or without it (UTC "
                "times once derived are never changed).",
                row=known.assume_timezone,
            )
        )
    if known is None:
        source_id = conn.execute(
            insert(Source)
            .values(
                kind=desc.kind,
                uri=desc.uri,
                label=desc.label,
                layout=desc.layout,
                root_sha256=root_sha256,
                collector=collector.name,
                collector_version=collector.version,
                operator=settings.operator,
                host=settings.host,
                assume_timezone=zone,
                status="started",
                started_at=utc_now(),
            )
            .returning(Source.id)
        ).scalar_one()
    else:
        source_id = known.id
        if zone and not known.assume_timezone:  # a rerun naming the zone fills the UTC times
            conn.execute(update(Source).where(Source.id == source_id).values(assume_timezone=zone))
    started: dict[str, Any] = {
        "source_id": source_id,
        "kind": desc.kind,
        "uri": desc.uri,
        "layout": desc.layout,
        "collector": collector.name,
        "collector_version": collector.version,
        "rerun": known is not None,
        "previous_status": known.status if known else None,
        "assume_timezone": zone,
    }
    if desc.details:  # e.g. a live capture's account, session and targets
        started["details"] = desc.details
    draft = Draft(custody.INGEST_STARTED, f"source:{source_id}", started)
    return OpenedSource(int(source_id), known is not None, draft)
