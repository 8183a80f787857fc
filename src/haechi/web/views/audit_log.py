"""The audit trail, for auditors (their home page) and administrators, with a CSV export of
what the filters select. Exporting the trail is itself an audited export (with its signed
``export`` custody event), so an auditor's download is on the trail it downloaded."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.web import actions
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render
from haechi.web.views import collect, matches, rooms, triage

router = APIRouter()
NAV = [NavItem(80, "nav.audit", "/audit", Perm.AUDIT_READ)]
# Actions the other pages record besides the foundation's (auth.audit.ACTIONS).
MORE_ACTIONS: tuple[str, ...] = (
    collect.CASE_ADD, collect.TAG, collect.UNTAG, triage.REVIEW, matches.BANK_CHANGE,
    rooms.LEXICON_CHANGE,
    *actions.AUDIT_ACTIONS,  # subjects, face review, cases, notices, jobs
)  # fmt: skip
CSV_MAX = 100_000  # entries one export may hold
KST_OFFSET = 9 * 3600


def _actions() -> list[str]:
    return list(dict.fromkeys([*audit.ACTIONS, *MORE_ACTIONS]))


@router.get("/audit", dependencies=[needs(Perm.AUDIT_READ)])
def audit_page(
    request: Request,
    action: str | None = None,
    user: str | None = None,
    subject: str | None = None,
    before: int | None = None,
) -> Response:
    rows = audit.entries(
        haechi(request),
        action=action or None,
        username=user or None,
        subject=subject or None,
        before_id=before,
        limit=100,
    )
    return render(
        request,
        "audit.html",
        rows=rows,
        actions=_actions(),
        action=action or "",
        who=user or "",
        subject=subject or "",
        older=rows[-1].id if len(rows) == 100 else None,
    )


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a search query or a name that starts like a
    formula (= + - @) must not run as one when the auditor opens the file."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _kst(ts: int) -> str:
    return datetime.fromtimestamp(ts + KST_OFFSET, UTC).strftime("%Y-%m-%d %H:%M:%S")


@router.get("/audit.csv", dependencies=[needs(Perm.AUDIT_READ)])
def audit_csv(
    request: Request,
    action: str | None = None,
    user: str | None = None,
    subject: str | None = None,
) -> Response:
    """Every entry the filters select, newest first (up to ``CSV_MAX``), as CSV with UTC and
    KST times. Recorded first, as an export: the file then holds its own entry."""
    app, auth = haechi(request), current(request)
    filters = {k: v for k, v in (("action", action), ("user", user), ("subject", subject)) if v}
    audit.record(app, auth.actor, audit.EXPORT, "audit", {"what": "audit_csv", **filters})

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(["id", "at_utc", "at_kst", "user", "role", "action", "subject", "detail",
                      "via", "ip", "custody_seq", "chain_seq"])  # fmt: skip
        before, sent = None, 0
        while sent < CSV_MAX:
            page = audit.entries(
                app, action=action or None, username=user or None, subject=subject or None,
                before_id=before, limit=500,
            )  # fmt: skip
            for r in page:
                out.writerow([_cell(v) for v in (
                    r.id, r.at_iso, _kst(r.at), r.username, r.role or "", r.action,
                    r.subject or "", json.dumps(r.detail, ensure_ascii=False, sort_keys=True),
                    r.via, r.ip or "", r.custody_seq or "", r.seq or "",
                )])  # fmt: skip
            sent += len(page)
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
            if len(page) < 500:
                break
            before = page[-1].id

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="haechi-audit-{stamp}.csv"'},
    )
