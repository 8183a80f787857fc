"""Build the benign sample export."""

from __future__ import annotations

from haechi.demo.steps import DemoContext

ORDER = 10
TITLE = "sample export"


def run(ctx: DemoContext) -> None:
    from haechi.demo.export_builder import build_demo_export

    ctx.export_dir = build_demo_export(ctx.home / "sample-export")
    ctx.out.print(f"built a benign sample export at {ctx.export_dir}")
