"""What every state-changing page shares: acting as the logged-in person, doing a form's
work once, and answering htmx and plain forms alike.

* :func:`acting` is the application acting as the person (``haechi.cases.acting``): the
  services record their name (``kim (web)``) where the shell records the operator's.
* :func:`once` runs a form's work under its key (``haechi.jobs.once``): a double submit is
  led to the first one's result and adds nothing.
* Forms get a fresh key from the ``form_key()`` template global.
* :func:`audited` puts a change on the audit trail (the services' custody events say what
  changed in the evidence; the trail says who did what through the web, for auditors).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from haechi.app import App
from haechi.auth import audit
from haechi.auth.db import write
from haechi.cases.acting import acting_as
from haechi.domain import HaechiError
from haechi.jobs import once as once_store
from haechi.web.auth import current, haechi
from haechi.web.render import ENV, refusal, render

ENV.globals["form_key"] = once_store.new_key

# Audit actions of the pages that change things (beside haechi.auth.audit's own); the audit
# page lists them (views/audit_log.py).
SUBJECT_CHANGE = "subject_change"
FACE_REVIEW = "face_review"
CASE_CHANGE = "case_change"
NOTICE_CHANGE = "notice_change"
JOB_START = "job_start"
AUDIT_ACTIONS = (SUBJECT_CHANGE, FACE_REVIEW, CASE_CHANGE, NOTICE_CHANGE, JOB_START)
# What a keyed form did -> its audit action (a face search has its own entry already).
FORMS = {
    "subject_enrol": SUBJECT_CHANGE,
    "subject_consent": SUBJECT_CHANGE,
    "case_from_search": CASE_CHANGE,
    "case_create": CASE_CHANGE,
    "case_victim": CASE_CHANGE,
    "case_consent": CASE_CHANGE,
    "case_note": CASE_CHANGE,
    "notice_draft": NOTICE_CHANGE,
}
_SUBJECTS = {"cases": "case", "subjects": "subject", "notices": "notice",
             "face-searches": "face_search", "jobs": "job"}  # fmt: skip


def subject_of(url: str) -> str | None:
    """The audit subject of a page's URL (``/cases/X`` -> ``case:X``)."""
    parts = [p for p in url.split("#")[0].split("?")[0].split("/") if p and p != "api"]
    if len(parts) >= 2 and parts[0] in _SUBJECTS:
        return f"{_SUBJECTS[parts[0]]}:{parts[1]}"
    return None


def audited(request: Request, action: str, did: str, subject: str | None, **detail: object) -> None:
    """One audit entry for a change made through the web (``did`` says which)."""
    audit.record(haechi(request), current(request).actor, action, subject, {"did": did, **detail})


def acting(request: Request) -> App:
    return acting_as(haechi(request), current(request).actor.custody_name)


def staff(request: Request) -> str:
    """The name the subjects service records (``staff=``): the person, via the web."""
    return current(request).actor.custody_name


def go(request: Request, url: str) -> Response:
    """Where to after a form: a full page load, for htmx requests too."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def once(request: Request, key: str | None, action: str, work: Callable[[], str]) -> Response:
    """Do ``work`` (which returns the URL of what it made) once for this form's ``key``.
    A repeat is led to the first one's result; one still running says so (409)."""
    app, auth = haechi(request), current(request)
    claim = once_store.claim(app, auth.user.id, key or "", action)
    if not claim.fresh:
        if claim.result is None:
            return render(request, "error.html", status=409, error_key="error.in_progress",
                          message=None, exposure=None)  # fmt: skip
        return go(request, claim.result)
    try:
        url = work()
    except BaseException:
        once_store.release(app, auth.user.id, key or "")
        raise
    if action not in FORMS:
        once_store.done(app, auth.user.id, key or "", url)
        return go(request, url)
    # The key's result and the audit entry in one write transaction (one turn to write).
    audit_action = FORMS[action]
    with write(app, chain=audit_action in audit.CUSTODY_ACTIONS) as conn:
        once_store.done_in(conn, auth.user.id, key or "", url)
        audit.record_in(
            app, conn, auth.actor, audit_action, subject_of(url), {"did": action, "result": url}
        )
    return go(request, url)


def htmx_error(request: Request, exc: HaechiError) -> Response:
    """A refusal inside a part of a page (htmx swaps 200 answers only)."""
    return render(request, "_action_error.html", message=refusal(request, exc))
