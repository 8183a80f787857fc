"""Looking things up without changing anything: a file on disk against everything
known, the matches of a stored file, exact md5/SHA-256 lookups.

``match_file`` hashes a file that is *not* evidence (a picture a victim brings, a file
an analyst received) and answers "have we seen this?". Nothing is stored or logged
about it; to keep its hashes, add it to a bank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import or_, select

from haechi.analyze.hashes.decode import EXACT, DecodeError
from haechi.analyze.hashes.pdq import hash_picture
from haechi.analyze.hashes.vpdq import hash_video
from haechi.analyze.sniff import HEAD_BYTES, sniff
from haechi.app import App
from haechi.domain import UsageError
from haechi.domain.analysis import AnalysisError, MediaKind
from haechi.match.bank_sources import file_digests
from haechi.match.index import IndexSet
from haechi.match.matching import signal_hits
from haechi.match.region_search import Lazy, canvas_of
from haechi.match.search import DEFAULT_RADIUS, Hit, Raw, bank_hit, bank_targets
from haechi.run.analysis_worker import harden_decoders
from haechi.store.models import Blob
from haechi.store.tables.match import BankSignal, MatchRow

MAX_RADIUS = 80


@dataclass
class FileMatches:
    path: str
    size: int
    md5: str
    sha256: str
    kind: str
    pdq: str | None = None
    quality: int | None = None
    vpdq_frames: int = 0
    stored: bool = False  # these very bytes are in the vault
    hits: list[Hit] = field(default_factory=list)
    problem: str | None = None  # why no perceptual hash could be made

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "size": self.size, "md5": self.md5, "sha256": self.sha256,
            "kind": self.kind, "pdq": self.pdq, "quality": self.quality,
            "vpdq_frames": self.vpdq_frames, "stored": self.stored, "problem": self.problem,
            "hits": [hit_dict(h) for h in self.hits],
        }  # fmt: skip


def hit_dict(h: Hit) -> dict[str, Any]:
    return {
        "kind": h.kind,
        "stage": h.details.get("stage"),
        "distance": h.distance,
        "transform": h.transform,
        "score": h.score,
        "bank": h.bank_name,
        "bank_item_id": h.bank_item_id,
        "labels": list(h.labels),
        "external_id": h.external_id,
        "stored_file": h.target_blob_sha256,
        "target_value": h.target_value,
        "details": h.details,
    }


def exact_bank_hits(app: App, md5: str, sha256: str) -> list[Hit]:
    with app.db.connect() as conn:
        rows = conn.execute(
            select(BankSignal.id, BankSignal.kind, BankSignal.value).where(
                or_(
                    (BankSignal.kind == "md5") & (BankSignal.value == md5),
                    (BankSignal.kind == "sha256") & (BankSignal.value == sha256),
                )
            )
        ).all()
        targets = bank_targets(conn, [r[0] for r in rows])
    return [
        bank_hit(kind, Raw("exact", sid, 0), targets[sid], value, 0)
        for sid, kind, value in rows
        if sid in targets
    ]


def match_file(app: App, path: Path, *, radius: int = DEFAULT_RADIUS) -> FileMatches:
    """Everything known that this file matches: banks (exact and near) and stored files."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"No such file: {path}.")
    if not 0 <= radius <= MAX_RADIUS:
        raise UsageError(f"The distance threshold must be between 0 and {MAX_RADIUS} bits.")
    if path.stat().st_size > app.settings.max_file_bytes:
        raise UsageError(f"{path.name} is larger than the configured file size limit.")
    harden_decoders()
    md5, sha, size = file_digests(path)
    with open(path, "rb") as fh:
        kind, _ = sniff(fh.read(HEAD_BYTES))
    result = FileMatches(str(path), size, md5, sha, kind.value)
    with app.db.connect() as conn:
        result.stored = (
            conn.execute(select(Blob.sha256).where(Blob.sha256 == sha)).first() is not None
        )
    result.hits = exact_bank_hits(app, md5, sha)
    indexes = IndexSet(app)
    indexes.sync()
    try:
        if kind in (MediaKind.IMAGE, MediaKind.ANIMATION):
            frames = 16 if kind == MediaKind.ANIMATION else 1
            canvas = Lazy(lambda: canvas_of(path))
            pictures = hash_picture(path, decode=EXACT, frames=frames, regions=True)
            for n, pic in enumerate(pictures):
                if n == 0:
                    result.pdq, result.quality = pic.pdq.hex, pic.pdq.quality
                data: dict[str, Any] = {"dihedral": pic.pdq.dihedral}
                if "regions" in pic.data:
                    data["regions"] = pic.data["regions"]
                result.hits += signal_hits(
                    app, indexes, None, sha, "pdq", pic.pdq.hex, pic.pdq.quality, data, radius,
                    canvas=canvas,
                )  # fmt: skip
        elif kind == MediaKind.VIDEO:
            frames_ = hash_video(path)
            result.vpdq_frames = len(frames_)
            data = {"frames": [list(f) for f in frames_]}
            result.hits += signal_hits(app, indexes, None, sha, "vpdq", None, None, data, radius)
    except (DecodeError, AnalysisError) as exc:
        result.problem = str(exc)
    best: dict[str, Hit] = {}
    for h in result.hits:
        key = f"{h.kind}:{h.target}"
        if key not in best or (h.distance or 0) < (best[key].distance or 0):
            best[key] = h
    result.hits = sorted(best.values(), key=lambda h: (not h.is_bank, h.distance or 0))
    return result


@dataclass(frozen=True)
class MatchInfo:
    """A stored match, as the CLI, the web UI and cases read it."""

    id: int
    blob_sha256: str
    kind: str
    distance: int | None
    transform: str | None
    score: float | None
    target: str
    bank_name: str | None
    bank_id: int | None
    bank_item_id: int | None
    target_blob_sha256: str | None
    query_value: str | None
    target_value: str | None
    details: dict[str, Any]
    created_at: str
    custody_seq: int | None

    @property
    def is_bank(self) -> bool:
        return self.target.startswith("bank-signal:")

    @property
    def stage(self) -> str | None:
        """``whole`` (whole-picture PDQ, ``transform`` says the rotation or mirror image)
        or ``region`` (anchored regions: ``region`` says which part); None for the
        other kinds and for matches recorded before stages were."""
        stage = self.details.get("stage")
        return str(stage) if stage else None

    @property
    def region(self) -> dict[str, Any] | None:
        """For a region match: the part of the target in view (``target_box``, shares of
        its width and height), where it is in the matched file (``query_box``), the
        scale, how many regions agree and their bits."""
        return self.details if self.stage == "region" else None

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "stage": self.stage}


def _info(row: Any) -> MatchInfo:
    return MatchInfo(
        row.id, row.blob_sha256, row.kind, row.distance, row.transform, row.score, row.target,
        row.bank_name, row.bank_id, row.bank_item_id, row.target_blob_sha256, row.query_value,
        row.target_value, orjson.loads(row.details_json) if row.details_json else {},
        row.created_at, row.custody_seq,
    )  # fmt: skip


def list_matches(
    app: App,
    *,
    blob_sha256: str | None = None,
    bank: str | None = None,
    banks_only: bool = False,
    limit: int | None = 1000,
    after_id: int = 0,
    blobs: Sequence[str] | None = None,
    ids: Sequence[int] | None = None,
) -> list[MatchInfo]:
    """Stored matches, oldest first. ``blob_sha256`` selects the matches of one file in
    both directions (it matched, or a later capture matched it); ``blobs`` the same for
    many files at once (up to a few thousand); ``ids`` the matches with these ids (those
    a run reported as new)."""
    q = select(MatchRow).where(MatchRow.id > after_id).order_by(MatchRow.id)
    if ids is not None:
        q = q.where(MatchRow.id.in_(sorted(set(ids))))
    if blob_sha256:
        q = q.where(
            or_(MatchRow.blob_sha256 == blob_sha256, MatchRow.target_blob_sha256 == blob_sha256)
        )
    if blobs is not None:
        wanted = sorted(set(blobs))
        q = q.where(or_(MatchRow.blob_sha256.in_(wanted), MatchRow.target_blob_sha256.in_(wanted)))
    if bank:
        q = q.where(MatchRow.bank_name == bank)
    if banks_only:
        q = q.where(MatchRow.target.like("bank-signal:%"))
    if limit:
        q = q.limit(limit)
    with app.db.connect() as conn:
        return [_info(r) for r in conn.execute(q)]


def lookup_exact(app: App, *, md5: str | None = None, sha256: str | None = None) -> dict[str, Any]:
    """Stored files and bank items with this md5 or SHA-256."""
    if not (md5 or sha256):
        raise UsageError("Give an md5 or a SHA-256.")
    with app.db.connect() as conn:
        q = select(Blob.sha256, Blob.md5, Blob.size, Blob.kind)
        q = (
            q.where(Blob.md5 == md5.lower())
            if md5
            else q.where(Blob.sha256 == (sha256 or "").lower())
        )
        stored = [dict(r._mapping) for r in conn.execute(q)]
    hits = exact_bank_hits(app, (md5 or "").lower(), (sha256 or "").lower())
    return {"stored": stored, "banks": [hit_dict(h) for h in hits]}
