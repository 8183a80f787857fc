"""``face_clusters``: group the recurring unknown faces again, as ``haechi face clusters``
does first (the same :func:`haechi.subjects.clusters.update_clusters`, one custody event
naming the person), from ``/face-clusters`` or ``POST /api/face-clusters/update``. One runs
at a time (the page leads a second request to the running one). No file: the job's page
and the clusters page show how many groups there are, how many are new, how many faces
were grouped, and the groups whose faces belonged to different linked subjects."""

from __future__ import annotations

from typing import Any

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.jobs.model import JobContext, JobKind, JobOutput

NAME = "face_clusters"
SUBJECT = "face_clusters"  # the job's subject and the audit entry's


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    from haechi.services import integrations

    if not integrations.available("subjects"):
        raise UsageError(t_("The subjects capability is not installed here."))
    return {}, SUBJECT  # nothing to choose: every active face, as the command line's default


def run(ctx: JobContext) -> JobOutput:
    from haechi.subjects.clusters import update_clusters

    done = update_clusters(
        ctx.app, staff=ctx.actor.custody_name, progress=lambda f: ctx.progress(f, "clustering")
    )
    audit.record(
        ctx.app, ctx.actor, "subject_change", SUBJECT,
        {"did": "clusters_update", "job_id": ctx.job_id, "clusters": done.clusters,
         "new": done.new_clusters, "faces": done.clustered_faces},
    )  # fmt: skip
    summary = {
        "clusters": done.clusters,
        "new_clusters": done.new_clusters,
        "clustered_faces": done.clustered_faces,
        "faces": done.faces,
        "conflict_list": sorted(int(c) for c in done.link_conflicts),  # a list: the page words it
    }
    return JobOutput(summary=summary)


# Grouping runs over every active face: as long as a large archive's analysis may take.
KIND = JobKind(NAME, Perm.SUBJECTS_WRITE, "jobs.kind.face_clusters", check, run, 6 * 3600.0)
