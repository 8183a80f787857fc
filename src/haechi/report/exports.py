"""Stand-alone exports of a case: the HTML/PDF report and the CASE/UCO graph.

Each file written is an ``export`` custody event with its SHA-256; revealing victims'
identifiers is an ``access`` event before it. Files are never overwritten.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases.files import write_new
from haechi.cases.model import CaseError, ConsentScope
from haechi.i18n import t_
from haechi.report import caseuco
from haechi.report.chain import summarise
from haechi.report.gather import Evidence, concerning_events, gather
from haechi.report.html import ReportOptions, render, to_pdf
from haechi.store.models import Source


def _log(app: App, evidence: Evidence, kind: str, dest: Path, digest: str, reveal: bool) -> int:
    revealed = [v.label for v in evidence.detail.victims] if reveal else None
    drafts = ev.export_drafts(
        evidence.detail.id,
        {
            "kind": kind,
            "sha256": digest,
            "name": dest.name,
            "victim_identifiers": "revealed" if reveal else "redacted",
        },
        revealed=revealed,
    )
    with app.db.begin() as conn:
        return app.custody.append_many(conn, drafts)[-1]


def _check_reveal(evidence: Evidence, reveal: bool) -> None:
    if not reveal:
        return
    for v in evidence.detail.victims:
        if not v.consents_to(ConsentScope.EVIDENCE_SHARING):
            raise CaseError(
                t_(
                    "Victim {label} has no consent record for evidence sharing, "
                    "so their identity cannot be revealed in a report: write it "
                    "redacted.",
                    label=v.label,
                )
            )


def write_report(
    app: App,
    case: int | str,
    dest: Path,
    *,
    reveal_victims: bool = False,
    verify_chain: bool = False,
) -> str:
    """Write the case report as HTML or PDF (by the file's suffix); returns its SHA-256."""
    kind = dest.suffix.lower().lstrip(".")
    if kind not in ("html", "pdf"):
        raise CaseError(t_("A report is written as .html or .pdf."))
    evidence = gather(app, case, reveal_victims=reveal_victims)
    _check_reveal(evidence, reveal_victims)
    shas = [f.sha256 for f in evidence.files]
    with app.db.connect() as conn:
        events = list(concerning_events(conn, evidence.detail.id, shas, evidence.source_ids))
    chain = summarise(app, events, full=verify_chain)
    page = render(
        app,
        evidence,
        events,
        chain,
        options=ReportOptions(reveal_victims=reveal_victims),
        generated_at=ev.now_iso(),
    )
    data = page.encode() if kind == "html" else to_pdf(page)
    digest = write_new(dest, data)
    _log(app, evidence, f"report_{kind}", dest, digest, reveal_victims)
    return digest


def write_caseuco(app: App, case: int | str, dest: Path) -> str:
    evidence = gather(app, case)
    with app.db.connect() as conn:
        times = {
            r.id: (r.started_at, r.finished_at)
            for r in conn.execute(
                select(Source.id, Source.started_at, Source.finished_at).where(
                    Source.id.in_(evidence.source_ids or [-1])
                )
            )
        }
    doc = caseuco.build(evidence, source_times=times, operator=app.settings.operator)
    digest = write_new(dest, caseuco.dumps(doc).encode())
    _log(app, evidence, "caseuco", dest, digest, False)
    return digest
