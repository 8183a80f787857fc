"""Reading analysis results back: the newest successful analysis of a file per analyzer.

Several versions of an analyzer may have run over the same file (results are keyed by
version and never overwritten); "newest" is the analysis with the highest id among the
successful ones, i.e. the one recorded last in the custody log.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from sqlalchemy import Connection, func, select

from haechi.domain.analysis import Signal
from haechi.store.models import Analysis, ArtifactRow, SignalRow


def newest_analysis_ids(conn: Connection, sha256: str, analyzers: Iterable[str]) -> dict[str, int]:
    """{analyzer: analysis id} of the newest ``ok`` analysis of the file by each analyzer."""
    rows = conn.execute(
        select(Analysis.analyzer, func.max(Analysis.id))
        .where(
            Analysis.blob_sha256 == sha256,
            Analysis.analyzer.in_(list(analyzers)),
            Analysis.status == "ok",
        )
        .group_by(Analysis.analyzer)
    ).all()
    return {str(a): int(i) for a, i in rows}


def signals_of(conn: Connection, analysis_ids: Iterable[int]) -> list[Signal]:
    ids = list(analysis_ids)
    if not ids:
        return []
    rows = conn.execute(
        select(SignalRow.kind, SignalRow.value, SignalRow.score, SignalRow.data_json)
        .where(SignalRow.analysis_id.in_(ids))
        .order_by(SignalRow.id)
    ).all()
    return [Signal(k, v, s, orjson.loads(d) if d else {}) for k, v, s, d in rows]


def artifact_of(conn: Connection, analysis_id: int, name: str) -> tuple[str, str] | None:
    """(derived-store SHA-256, MIME type) of an analysis's artefact called ``name``."""
    row = conn.execute(
        select(ArtifactRow.sha256, ArtifactRow.mime)
        .where(ArtifactRow.analysis_id == analysis_id, ArtifactRow.name == name)
        .order_by(ArtifactRow.id)
        .limit(1)
    ).first()
    return (str(row[0]), str(row[1])) if row else None


def statuses(conn: Connection, sha256: str, analyzers: Iterable[str]) -> dict[str, str]:
    """The newest recorded status per analyzer (ok, error, timeout, crashed)."""
    newest = (
        select(Analysis.analyzer, func.max(Analysis.id).label("id"))
        .where(Analysis.blob_sha256 == sha256, Analysis.analyzer.in_(list(analyzers)))
        .group_by(Analysis.analyzer)
        .subquery()
    )
    rows = conn.execute(
        select(Analysis.analyzer, Analysis.status, Analysis.error).join(
            newest, Analysis.id == newest.c.id
        )
    ).all()
    return {str(a): str(s) if s == "ok" else f"{s}: {e}" for a, s, e in rows}
