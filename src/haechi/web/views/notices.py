"""Takedown notices: drafting one from a case (``haechi.cases.notices.service``: the
recipient and its address, minors routed to stopCA@telegram.org as ``haechi notice draft``
does), its page, downloading it (.eml, .pdf, .txt: a logged export), and marking it sent,
acknowledged, decided or removed with the time it happened (KST or UTC, stated)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.domain import HaechiError
from haechi.i18n import t_
from haechi.services import integrations
from haechi.web.actions import NOTICE_CHANGE, acting, audited, go, once
from haechi.web.auth import current, haechi, needs
from haechi.web.render import refusal, render
from haechi.web.views.capabilities import unavailable
from haechi.web.views.cases import on_case

router = APIRouter()
MARKS = ("sent", "acknowledged", "decided", "removed")
ZONES = {"KST": "+09:00", "UTC": "Z"}
MIME = {"eml": "message/rfc822", "pdf": "application/pdf", "txt": "text/plain; charset=utf-8"}


@router.post("/cases/{case}/notices", dependencies=[needs(Perm.NOTICES_WRITE)])
def draft(
    request: Request,
    case: str,
    recipient: Annotated[str, Form(max_length=16)] = "telegram",
    language: Annotated[str, Form(max_length=4)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    from haechi.cases.notices.service import draft_notice

    def work() -> str:
        made = draft_notice(acting(request), case.strip()[:64], recipient, language or None)
        return f"/notices/{made.notice.id}"

    return on_case(request, case, lambda: once(request, key, "notice_draft", work))


def _page(
    request: Request, notice_id: int, *, error: str | None = None, status: int = 200
) -> Response:
    from haechi.cases.notices.views import get_notice, transitions
    from haechi.cases.page import left_out

    app = haechi(request)
    notice = get_notice(app, notice_id)
    return render(
        request,
        "notice.html",
        status=status,
        n=notice,
        steps=transitions(app, notice_id),
        left_out=left_out(app, notice.case_id, notice.id),
        marks=MARKS,
        zones=list(ZONES),
        error=error,
    )


@router.get("/notices/{notice_id}", dependencies=[needs(Perm.CASES)])
def notice_page(request: Request, notice_id: int) -> Response:
    if not integrations.available("cases"):
        return unavailable(request, "cases")
    return _page(request, notice_id)


@router.post("/notices/{notice_id}/mark", dependencies=[needs(Perm.NOTICES_WRITE)])
def mark(
    request: Request,
    notice_id: int,
    status: Annotated[str, Form(max_length=16)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    time: Annotated[str, Form(max_length=5)] = "",
    zone: Annotated[str, Form(max_length=3)] = "KST",
    note: Annotated[str, Form(max_length=500)] = "",
    external_ref: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The notice moves on; marking it again with the status it has changes nothing."""
    from haechi.cases.model import CaseError
    from haechi.cases.notices.status import mark as record
    from haechi.cases.notices.views import get_notice

    try:
        if get_notice(haechi(request), notice_id).status != status:
            if zone not in ZONES:
                raise CaseError(t_("Say whether the time is KST or UTC."))
            at = None
            if day.strip():
                at = f"{day.strip()}T{(time.strip() or '00:00')}{ZONES[zone]}"
            record(
                acting(request), notice_id, status, at=at, note=note.strip() or None,
                external_ref=external_ref.strip() or None,
            )  # fmt: skip
            audited(request, NOTICE_CHANGE, f"notice_{status}", f"notice:{notice_id}", at=at)
    except HaechiError as exc:
        return _page(request, notice_id, error=refusal(request, exc), status=400)
    return go(request, f"/notices/{notice_id}")


@router.get("/notices/{notice_id}/notice.{fmt}", dependencies=[needs(Perm.NOTICES_WRITE)])
def download(request: Request, notice_id: int, fmt: str) -> Response:
    """The notice as a file to send from one's own mail client (.eml opens as a draft).
    Every download is an ``export`` in the audit trail and the custody log."""
    import hashlib

    from haechi.cases.model import CaseError
    from haechi.cases.notices.export import render as render_file
    from haechi.cases.notices.views import get_notice

    if fmt not in MIME:
        raise CaseError(
            t_("A notice is downloaded as {kinds}, not {fmt!r}.", kinds=", ".join(MIME), fmt=fmt)
        )
    app, auth = haechi(request), current(request)
    notice = get_notice(app, notice_id)
    data = render_file(notice, fmt)
    name = f"notice-N{notice.id}.{fmt}"
    audit.record(
        app, auth.actor, audit.EXPORT, f"case:{notice.case_id}",
        {"kind": f"notice_{fmt}", "case_id": notice.case_id, "notice_id": notice.id,
         "sha256": hashlib.sha256(data).hexdigest(), "name": name,
         "body_sha256": notice.body_sha256},
    )  # fmt: skip
    return Response(
        data,
        media_type=MIME[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/notifier", dependencies=[needs(Perm.NOTICES_WRITE)])
def notifier_page(request: Request, saved: int = 0) -> Response:
    """Who the notices name as the notifier (the default profile; the DSA requires a name
    and an e-mail address, except for child sexual abuse)."""
    if not integrations.available("cases"):
        return unavailable(request, "cases")
    from haechi.cases.notices.profiles import get_profile

    return render(
        request, "notifier.html", who=get_profile(haechi(request)), saved=bool(saved), error=None
    )


@router.post("/notifier", dependencies=[needs(Perm.NOTICES_WRITE)])
def set_notifier(
    request: Request,
    person_name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=255)] = "",
    organisation: Annotated[str, Form(max_length=200)] = "",
    phone: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """The default notifier profile, as ``haechi notice profile default ...`` sets it (the
    same values twice change nothing)."""
    from haechi.cases.notices.compose import Notifier
    from haechi.cases.notices.profiles import set_profile

    values = {"person_name": person_name, "email": email, "organisation": organisation,
              "phone": phone, "role": role}  # fmt: skip
    cleaned = {k: (v.strip() or None) for k, v in values.items()}
    try:
        set_profile(acting(request), "default", **cleaned, default=True)
    except HaechiError as exc:
        return render(request, "notifier.html", status=400, who=Notifier(**cleaned),
                      saved=False, error=refusal(request, exc))  # fmt: skip
    audited(request, NOTICE_CHANGE, "notifier_profile", "notifier:default",
            **{k: v for k, v in cleaned.items() if k != "phone"})  # fmt: skip
    return go(request, "/notifier?saved=1")
