"""``rematch``: the matching catch-up ``haechi match --all`` runs (bring the PDQ indexes up
to date, match every stored hash not yet matched, or all of them again with ``rescan``,
check exact hashes, hunt new bank hashes), from the matches page or ``POST /api/jobs``.
The result to download is the run's counts and the new matches as JSON."""

from __future__ import annotations

import json
from typing import Any

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.jobs.kinds._case import flag
from haechi.jobs.model import JobContext, JobKind, JobOutput

LISTED = 5000  # new matches written in the result file (every one is in the database)


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    from haechi.services import integrations

    if not integrations.available("matches"):
        raise UsageError(t_("Matching is not installed on this server."))
    return {"rescan": flag(params, "rescan", False)}, None


def run(ctx: JobContext) -> JobOutput:
    from haechi.match.index import NAMES, IndexSet
    from haechi.match.lookup import list_matches
    from haechi.match.matching import run_matching

    # The indexes one by one first (the long part on a large store), so the bar moves; the
    # run's own sync then finds them current.
    indexed: dict[str, int] = {}
    indexes = IndexSet(ctx.app)
    for n, name in enumerate(NAMES):
        ctx.progress(0.4 * n / len(NAMES), "indexing")
        indexed.update(indexes.sync([name]))
    ctx.progress(0.4, "matching")
    report = run_matching(ctx.app, rescan=bool(ctx.params.get("rescan")))
    for name, rows in report.indexed.items():
        indexed[name] = indexed.get(name, 0) + rows
    ctx.progress(0.95, "listing")
    ids = report.new_match_ids[-LISTED:]
    found = list_matches(ctx.app, ids=ids, limit=len(ids)) if ids else []
    full = {
        "run": {**report.as_dict(), "indexed": indexed},
        "matches": [m.as_dict() for m in found],
    }
    path = ctx.folder / f"matching-{ctx.job_id}.json"
    path.write_text(json.dumps(full, ensure_ascii=False, indent=2, default=str), "utf-8")
    summary = {
        "indexed": sum(indexed.values()),
        "hashes_scanned": report.signals_scanned,
        "files_checked": report.files_checked_exact,
        "bank_hashes_hunted": report.bank_hashes_hunted,
        "new_matches": report.new_matches,
    }
    return JobOutput(path=path, summary=summary)


KIND = JobKind(
    name="rematch",
    perm=Perm.ANALYSIS,
    title_key="jobs.kind.rematch",
    check=check,
    run=run,
    time_limit=12 * 3600.0,
)
