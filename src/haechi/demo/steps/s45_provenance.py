"""Provenance: pictures sent as files keep their C2PA manifest and generator metadata.

A second small export (:mod:`haechi.demo.provenance_export`) is built, ingested and
analysed; the verdict on each of its three pictures is printed in English and Korean,
and the review queue shows the safe previews that stand in for the originals.
"""

from __future__ import annotations

import hashlib

from haechi.demo.steps import DemoContext

ORDER = 45
TITLE = "provenance and verdicts"


def run(ctx: DemoContext) -> None:
    from haechi.cli.analyze_cmd import run_analysis
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.demo.provenance_export import FILES, build_provenance_export
    from haechi.triage.queue import review_queue
    from haechi.triage.verdicts import file_verdict

    export = build_provenance_export(ctx.home / "provenance-export")
    ingest = run_ingest(ctx.app, export, quiet=True)
    ctx.out.print(
        f"ingested {export.name}: {ingest.files_captured_new} new files sent as documents"
    )
    report = run_analysis(ctx.app, quiet=True)
    ctx.out.print(
        f"analysed {report.files} new files ({report.ok} results, errors {report.errors})"
    )
    ctx.ok &= not report.errors
    for name in FILES:
        sha = hashlib.sha256((export / "files" / name).read_bytes()).hexdigest()
        v = file_verdict(ctx.app, sha).verdict
        ctx.out.print(f"[bold]{name}[/] → {v.label_en} / {v.label_ko} ({v.strength})")
        ctx.out.print(f"  EN: {v.explanation_en}", highlight=False)
        ctx.out.print(f"  KO: {v.explanation_ko}", highlight=False)
        ctx.facts.setdefault("verdicts", {})[name] = v.label
    queue = review_queue(ctx.app, limit=5)
    previews = sum(1 for i in queue if i.has_preview)
    ctx.out.print(
        f"review queue: {len(queue)} files at the top, {previews} with a safe preview "
        "(greyscale, downscaled, exposed regions and faces pixelated)"
    )
    ctx.out.print(
        f"Try: haechi verdict {export / 'files' / FILES[0]} --home {ctx.home}   ·   "
        f"haechi queue --home {ctx.home}"
    )
