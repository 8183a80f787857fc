"""Verify every vault file and the whole custody chain."""

from __future__ import annotations

from haechi.demo.steps import DemoContext

ORDER = 90
TITLE = "verify"


def run(ctx: DemoContext) -> None:
    from haechi.run.verify import verify

    result = verify(ctx.app)
    state = "[green]intact[/]" if result.ok else "[red]FAILED[/]"
    ctx.out.print(
        f"{result.objects_ok}/{result.objects} vault files {state}, "
        f"{result.chain.events} signed custody events chained (head {result.chain.head_seq})"
    )
    for problem in result.problems[:10]:
        ctx.out.print(f"[red]✗[/] {problem}", highlight=False)
    ctx.ok &= result.ok
    ctx.out.print(
        f"Try: haechi verify --home {ctx.home}   ·   "
        f"haechi custody export log.jsonl --home {ctx.home}"
    )
