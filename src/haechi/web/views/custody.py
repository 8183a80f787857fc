"""The custody log for the roles that hold ``custody.read`` without ``archive.read``
(auditors): the signed events, newest first, by subject, by event type, or a message's
trail as its detail page shows it — the events only, never the message or its files."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.services import custody
from haechi.web.auth import haechi, needs
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
        message=message, event_types=EVENT_TYPES,
    )  # fmt: skip
