"""``enrol``: a subject's enrolment from the web page, whose face work (detection,
alignment and embedding of every reference photo) runs here, in the job's process, so the
pages of the web worker do not wait for it. The page checked the form and sealed its values
and photos (``haechi.subjects.staging``); the parameters name that file and the label only.
The result is her record's id, label and the warnings about weak photos; a failure is the
service's sentence (no face, two faces, ...), and the photos are gone either way."""

from __future__ import annotations

from typing import Any

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.i18n import t_
from haechi.jobs.model import JobContext, JobError, JobKind, JobOutput

AUDIT_ACTION = "subject_change"  # haechi.web.actions.SUBJECT_CHANGE: the page's entries


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    from haechi.services import integrations
    from haechi.subjects import staging

    if not integrations.available("subjects"):
        raise JobError(t_("Face search is not installed on this server."))
    name, label = str(params.get("staged") or ""), str(params.get("label") or "")[:64]
    if not staging.waiting(app, name):
        raise JobError(t_("The uploaded photos are no longer here: enrol again."))
    return {"staged": name, "label": label}, f"subject-label:{label}"


def run(ctx: JobContext) -> JobOutput:
    from haechi.subjects import staging
    from haechi.subjects.form import enrol_from_form

    ctx.progress(0.05, "reading")
    staged = staging.take(ctx.app, ctx.params["staged"], ctx.actor.user_id)
    ctx.progress(0.2, "faces")
    info, warnings = enrol_from_form(ctx.app, ctx.actor.custody_name, staged.values, staged.photos)
    audit.record(
        ctx.app, ctx.actor, AUDIT_ACTION, f"subject:{info.id}",
        {"did": "subject_enrol", "label": info.label, "job_id": ctx.job_id},
    )  # fmt: skip
    return JobOutput(summary={"subject_id": info.id, "label": info.label, "warning_list": warnings})


KIND = JobKind(
    name="enrol",
    perm=Perm.SUBJECTS_WRITE,
    title_key="jobs.kind.enrol",
    check=check,
    run=run,
    time_limit=900.0,
    quick=True,
)
