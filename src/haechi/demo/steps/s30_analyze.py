"""Run every enabled analyzer over the stored files."""

from __future__ import annotations

from haechi.demo.steps import DemoContext

ORDER = 30
TITLE = "analyze"


def run(ctx: DemoContext) -> None:
    from haechi.cli.analyze_cmd import print_analysis, run_analysis

    report = run_analysis(ctx.app)
    print_analysis(report)
    if report.errors:
        ctx.out.print("[yellow]some analyses recorded errors (see above)[/]")
