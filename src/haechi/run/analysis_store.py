"""Database side of the analysis runner: what is pending, and writing results as evidence.

Each result is one ``analyses`` row, its ``signals`` and ``artifacts``, and one signed
``analysis`` custody event, all in the same transaction. The event carries the SHA-256 of
the canonical result, so a signal edited in the database later no longer matches its log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from sqlalchemy import func, insert, select, tuple_, update

from haechi.analyze.base import Analyzer
from haechi.analyze.sniff import HEAD_BYTES, sniff
from haechi.app import App
from haechi.domain import VaultError
from haechi.domain.analysis import AnalysisResult, MediaKind, Signal
from haechi.store import custody
from haechi.store.custody import Draft, canonical, utc_now
from haechi.store.models import Analysis, ArtifactRow, Blob, CustodyEvent, Media, SignalRow
from haechi.store.vault import Vault

PAGE = 500


def result_digest(result: AnalysisResult | None, artifact_shas: Sequence[str] = ()) -> str:
    body = {
        "signals": [asdict(s) for s in result.signals] if result else [],
        "artifacts": list(artifact_shas),
    }
    return hashlib.sha256(canonical(body)).hexdigest()


def sniff_unknown(app: App) -> int:
    """Give every blob without a kind one, read from its first bytes. Returns how many."""
    done = 0
    while True:
        with app.db.connect() as conn:
            shas = (
                conn.execute(
                    select(Blob.sha256).where(Blob.kind.is_(None)).order_by(Blob.sha256).limit(PAGE)
                )
                .scalars()
                .all()
            )
        if not shas:
            return done
        rows: list[tuple[str, str, str | None]] = []
        for sha in shas:
            try:
                with app.vault.open(sha) as f:
                    sniffed, mime = sniff(f.read(HEAD_BYTES))
            except VaultError:
                sniffed, mime = MediaKind.OTHER, None  # verify names the missing object
            rows.append((sha, sniffed.value, mime))
        with app.db.begin() as conn:
            for sha, kind, mime in rows:
                conn.execute(update(Blob).where(Blob.sha256 == sha).values(kind=kind, mime=mime))
        done += len(rows)


@dataclass
class PendingFile:
    sha256: str
    size: int
    kind: str
    mime: str | None
    steps: list[str]


def pending(app: App, analyzers: Sequence[Analyzer], retry_errors: bool) -> Iterator[PendingFile]:
    """Files with at least one analyzer not yet run at its current version, page by page
    (sorted by SHA-256, so memory stays flat and a rerun picks up where a kill left off)."""
    kinds = sorted({k.value for a in analyzers for k in a.media_kinds})
    last = ""
    while True:
        with app.db.connect() as conn:
            page = conn.execute(
                select(Blob.sha256, Blob.size, Blob.kind, Blob.mime)
                .where(Blob.kind.in_(kinds), Blob.sha256 > last)
                .order_by(Blob.sha256)
                .limit(PAGE)
            ).all()
            if not page:
                return
            shas = [r[0] for r in page]
            done_q = select(Analysis.blob_sha256, Analysis.analyzer).where(
                Analysis.blob_sha256.in_(shas),
                tuple_(Analysis.analyzer, Analysis.version).in_(
                    [(a.name, a.version) for a in analyzers]
                ),
            )
            if retry_errors:
                done_q = done_q.where(Analysis.status == "ok")
            done = {(b, a) for b, a in conn.execute(done_q)}
        for sha, size, kind_name, mime in page:
            kind = str(kind_name)
            steps = [
                a.name
                for a in analyzers
                if MediaKind(kind) in a.media_kinds and (sha, a.name) not in done
            ]
            if steps:
                yield PendingFile(sha, size, kind, mime, steps)
        last = page[-1][0]


def count_pending(app: App, analyzers: Sequence[Analyzer], retry_errors: bool) -> int:
    """How many (file, analyzer) steps :func:`pending` will yield (for the progress bar)."""
    total = 0
    with app.db.connect() as conn:
        for a in analyzers:
            kinds = [k.value for k in a.media_kinds]
            files = conn.execute(
                select(func.count()).select_from(Blob).where(Blob.kind.in_(kinds))
            ).scalar_one()
            done_q = (
                select(func.count())
                .select_from(Analysis)
                .join(Blob, Blob.sha256 == Analysis.blob_sha256)
                .where(
                    Analysis.analyzer == a.name,
                    Analysis.version == a.version,
                    Blob.kind.in_(kinds),
                )
            )
            if retry_errors:
                done_q = done_q.where(Analysis.status == "ok")
            total += files - conn.execute(done_q).scalar_one()
    return total


def hints_for(app: App, shas: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What the messages said about each file (first sighting): name, tdesktop type."""
    out: dict[str, dict[str, Any]] = {}
    with app.db.connect() as conn:
        for sha, media_type, mime, name, width, height in conn.execute(
            select(
                Media.blob_sha256,
                Media.media_type,
                Media.mime_type,
                Media.file_name,
                Media.width,
                Media.height,
            )
            .where(Media.blob_sha256.in_(shas))
            .order_by(Media.id)
        ):
            if sha is not None and sha not in out:
                out[sha] = {
                    k: v
                    for k, v in {
                        "media_type": media_type,
                        "declared_mime": mime,
                        "file_name": name,
                        "width": width,
                        "height": height,
                    }.items()
                    if v is not None
                }
    return out


@dataclass
class Finished:
    """One step's outcome, ready to be written."""

    sha256: str
    analyzer: Analyzer
    status: str
    result: AnalysisResult | None
    error: str | None
    seconds: float


def write_results(app: App, derived: Vault, batch: Sequence[Finished]) -> list[int]:
    """Store artefacts (outside the transaction: the derived store is write-once and
    deduplicated, so a crash leaves at most an unreferenced derived file), then write rows
    and custody events in one transaction. Returns the new analysis ids."""
    stored_artifacts: list[list[tuple[str, str, str, int]]] = []
    for item in batch:
        arts = []
        for art in item.result.artifacts if item.result else []:
            obj = derived.put_bytes(art.data)
            arts.append((art.name, obj.sha256, art.mime, obj.size))
        stored_artifacts.append(arts)
    now = utc_now()
    rows = []
    for item, arts in zip(batch, stored_artifacts, strict=True):
        res = item.result if item.status == "ok" else None
        rows.append(
            {
                "blob_sha256": item.sha256,
                "analyzer": item.analyzer.name,
                "version": item.analyzer.version,
                "status": item.status,
                "error": item.error,
                "warnings_json": orjson.dumps(res.warnings).decode()
                if res and res.warnings
                else None,
                "seconds": round(item.seconds, 4),
                "settings_json": orjson.dumps(
                    item.analyzer.settings_digest(item.analyzer.settings)
                ).decode(),
                "result_sha256": result_digest(res, [a[1] for a in arts]) if res else None,
                "created_at": now,
            }
        )
    with app.db.begin() as conn:
        # A (file, analyzer, version) that another runner finished meanwhile is dropped; one
        # that recorded an error is run again only with --retry-errors, and then its row
        # takes the new outcome (the earlier one stays in the custody log).
        existing = {
            (b, a): (aid, status)
            for aid, b, a, status in conn.execute(
                select(Analysis.id, Analysis.blob_sha256, Analysis.analyzer, Analysis.status).where(
                    tuple_(Analysis.blob_sha256, Analysis.analyzer, Analysis.version).in_(
                        [(r["blob_sha256"], r["analyzer"], r["version"]) for r in rows]
                    )
                )
            )
        }
        keep: list[int] = []
        ids: list[int] = []
        retried: dict[int, str] = {}
        for i, r in enumerate(rows):
            before = existing.get((str(r["blob_sha256"]), str(r["analyzer"])))
            if before is None:
                ids.append(
                    conn.execute(insert(Analysis).values(**r).returning(Analysis.id)).scalar_one()
                )
            elif before[1] != "ok":
                conn.execute(update(Analysis).where(Analysis.id == before[0]).values(**r))
                ids.append(before[0])
                retried[before[0]] = before[1]
            else:
                continue
            keep.append(i)
        if not keep:
            return []
        signal_rows, artifact_rows, drafts = [], [], []
        for analysis_id, i in zip(ids, keep, strict=True):
            item, row = batch[i], rows[i]
            res = item.result if item.status == "ok" else None
            for sig in res.signals if res else []:
                signal_rows.append(
                    {
                        "analysis_id": analysis_id,
                        "blob_sha256": item.sha256,
                        "kind": sig.kind,
                        "value": sig.value,
                        "score": sig.score,
                        "data_json": orjson.dumps(sig.data).decode() if sig.data else None,
                    }
                )
            for name, sha, mime, size in stored_artifacts[i]:
                artifact_rows.append(
                    {
                        "analysis_id": analysis_id,
                        "blob_sha256": item.sha256,
                        "name": name,
                        "sha256": sha,
                        "mime": mime,
                        "size": size,
                    }
                )
            drafts.append(
                Draft(
                    custody.ANALYSIS,
                    item.sha256,
                    {
                        "analysis_id": analysis_id,
                        "analyzer": row["analyzer"],
                        "version": row["version"],
                        "status": row["status"],
                        "error": row["error"],
                        "signals": len(res.signals) if res else 0,
                        "artifacts": [a[1] for a in stored_artifacts[i]],
                        "result_sha256": row["result_sha256"],
                        "settings": item.analyzer.settings_digest(item.analyzer.settings),
                        **({"retry_of": retried[analysis_id]} if analysis_id in retried else {}),
                    },
                )
            )
        if signal_rows:
            conn.execute(insert(SignalRow), signal_rows)
        if artifact_rows:
            conn.execute(insert(ArtifactRow), artifact_rows)
        app.custody.append_many(conn, drafts)
    return ids


def result_problems(app: App, page: int = 1000) -> Iterator[str]:
    """Every analysis whose stored signals or artefacts no longer give the digest its
    custody event recorded (edited after the fact), or that has no event at all."""
    last = 0
    while True:
        with app.db.connect() as conn:
            rows = conn.execute(
                select(Analysis.id, Analysis.blob_sha256, Analysis.analyzer, Analysis.status)
                .where(Analysis.id > last)
                .order_by(Analysis.id)
                .limit(page)
            ).all()
            if not rows:
                return
            ids = [r[0] for r in rows]
            signals: dict[int, list[Signal]] = {}
            for aid, kind, value, score, data in conn.execute(
                select(
                    SignalRow.analysis_id,
                    SignalRow.kind,
                    SignalRow.value,
                    SignalRow.score,
                    SignalRow.data_json,
                )
                .where(SignalRow.analysis_id.in_(ids))
                .order_by(SignalRow.id)
            ):
                signals.setdefault(aid, []).append(
                    Signal(kind, value, score, orjson.loads(data) if data else {})
                )
            artifacts: dict[int, list[str]] = {}
            for aid, sha in conn.execute(
                select(ArtifactRow.analysis_id, ArtifactRow.sha256)
                .where(ArtifactRow.analysis_id.in_(ids))
                .order_by(ArtifactRow.id)
            ):
                artifacts.setdefault(aid, []).append(sha)
            recorded: dict[int, str | None] = {}
            for (body,) in conn.execute(
                select(CustodyEvent.body)
                .where(
                    CustodyEvent.event_type == custody.ANALYSIS,
                    CustodyEvent.subject.in_({r[1] for r in rows}),
                )
                .order_by(CustodyEvent.seq)  # a retried analysis: its latest event counts
            ):
                data = orjson.loads(body)["data"]
                recorded[int(data["analysis_id"])] = data.get("result_sha256")
        for aid, sha, analyzer, status in rows:
            what = f"analysis {aid} ({analyzer} on {sha})"
            if aid not in recorded:
                yield f"unrecorded: {what} has no custody event"
                continue
            if status != "ok":
                actual = None
            else:
                result = AnalysisResult(signals=signals.get(aid, []))
                actual = result_digest(result, artifacts.get(aid, []))
            if actual != recorded[aid]:
                yield f"altered: {what} no longer matches the result its custody event recorded"
        last = ids[-1]
