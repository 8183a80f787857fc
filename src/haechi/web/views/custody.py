"""The custody log for the roles that hold ``custody.read`` without ``archive.read``
(auditors): the signed events, newest first, by subject, by event type, or a message's
trail as its detail page shows it — the events only, never the message or its files.

For the auditor (``audit.read``) the page also offers the whole log as JSON Lines
(``haechi custody export``) and the integrity check (``haechi verify``) as a background
job; the signing public key (``haechi custody public-key``) is there for every role that
reads the log. Each download is an ``export`` entry on the audit trail with its signed
custody event; the log's own export event holds the file's SHA-256, as the CLI's does."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response, StreamingResponse

from haechi.auth import audit
from haechi.auth.roles import Perm, can
from haechi.jobs import store as jobs
from haechi.jobs.model import JobInfo
from haechi.services import custody
from haechi.web.actions import go
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render

router = APIRouter()
# The event types the filter offers (each capability's; named in the catalogues as
# enum.event.<type>). Others can still be asked for with ?event=.
EVENT_TYPES = (
    "init", "ingest_started", "capture", "ingest_finished", "ingest_failed",
    "analysis_started", "analysis", "analysis_finished", "verification", "access", "export",
    "match", "bank_created", "bank_items_added", "bank_items_removed", "bank_deleted",
    "text_analysis", "text_room_scores", "text_reveal", "text_lexicon_import",
    "subject_enrolled", "subject_deleted", "consent_recorded", "consent_withdrawn",
    "face_search", "face_clusters_updated", "face_cluster_linked", "case_created",
    "case_updated", "case_item_added", "case_item_withdrawn", "case_subject_added",
    "case_subject_updated", "suspect_added", "suspect_updated", "case_note_added",
    "notice_drafted", "notice_status", "reupload_watch_added", "reupload_detected",
    "review_decision",
)  # fmt: skip
NAV = [NavItem(85, "nav.custody", "/custody", Perm.CUSTODY_READ)]


@router.get("/custody", dependencies=[needs(Perm.CUSTODY_READ)])
def custody_page(
    request: Request,
    subject: str | None = None,
    event: str | None = None,
    message: int | None = None,
    before: int | None = None,
) -> Response:
    page = custody.log(
        haechi(request), subject=subject or None, event_type=event or None, message_pk=message,
        before=before,
    )  # fmt: skip
    return render(
        request, "custody.html", page=page, subject=subject or "", event=event or "",
        message=message, event_types=EVENT_TYPES, checks=verify_jobs(request),
    )  # fmt: skip


def verify_jobs(request: Request, limit: int = 5) -> list[JobInfo]:
    """The newest integrity checks, anyone's (one running is news to every auditor), for
    those who may start one."""
    if not can(current(request).user.role, Perm.AUDIT_READ):
        return []
    return jobs.jobs(haechi(request), kinds=("verify",), limit=limit)


@router.post("/custody/verify", dependencies=[needs(Perm.AUDIT_READ)])
def start_verify(request: Request, key: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Queue ``haechi verify`` as a background job, once per form key."""
    from haechi.web.views.jobs import start_job

    return go(request, f"/jobs/{start_job(request, 'verify', {}, key or None)}")


@router.get("/custody/log.jsonl", dependencies=[needs(Perm.AUDIT_READ)])
def log_download(request: Request) -> Response:
    """The whole custody log as JSON Lines, as ``haechi custody export`` writes it
    (:func:`haechi.services.custody.export_log`, recorded under the person's name)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"haechi-custody-{stamp}.jsonl"
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - closed by the stream
    try:
        done = custody.export_log(haechi(request), spool, current(request).actor, file=name,
                                  path=None)  # fmt: skip
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Length": str(done.data["bytes"]),
        "X-Content-SHA256": str(done.data["sha256"]),
    }
    return StreamingResponse(_chunks(spool), media_type="application/jsonl", headers=headers)


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    with fh:
        while block := fh.read(1 << 16):
            yield block


@router.get("/custody/public-key.pem", dependencies=[needs(Perm.CUSTODY_READ)])
def key_download(request: Request) -> Response:
    """The custody signing public key (PEM), as ``haechi custody public-key`` prints it."""
    return public_key_response(request)


def public_key_response(request: Request) -> Response:
    import hashlib

    pem = custody.public_key_pem(haechi(request))
    digest = hashlib.sha256(pem).hexdigest()
    audit.record(haechi(request), current(request).actor, audit.EXPORT, "custody_public_key",
                 {"what": "custody_public_key", "sha256": digest})  # fmt: skip
    headers = {"Content-Disposition": 'attachment; filename="haechi-custody-public-key.pem"'}
    return Response(pem, media_type="application/x-pem-file", headers=headers)
