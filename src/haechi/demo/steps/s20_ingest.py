"""Ingest the sample export (twice: the second run adds nothing)."""

from __future__ import annotations

from haechi.demo.steps import DemoContext

ORDER = 20
TITLE = "ingest"


def run(ctx: DemoContext) -> None:
    from haechi.cli.ingest_cmd import print_report, run_ingest

    assert ctx.export_dir is not None
    report = run_ingest(ctx.app, ctx.export_dir)
    print_report(report)
    again = run_ingest(ctx.app, ctx.export_dir, quiet=True)
    ctx.out.print(
        f"ingested again: {again.messages_new} new messages, {again.files_captured_new} new "
        "files (ingest is idempotent)"
    )
    ctx.facts["source_id"] = report.source_id
    from haechi.run.hooks import run_ingest_hooks

    for name, result in run_ingest_hooks(ctx.app, report).items():
        ctx.out.print(f"after ingest, {name}: {result}", highlight=False)
