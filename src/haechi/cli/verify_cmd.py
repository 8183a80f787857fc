"""``haechi verify``: check every vault file and the custody chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from haechi.app import open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.store.custody import iter_jsonl_events, verify_chain
from haechi.store.keys import load_verifier

ORDER = 80


def verify(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(help="Also trust this public key (PEM); repeatable."),
    ] = None,
    log: Annotated[
        Path | None,
        typer.Option(help="Verify an exported custody log (JSONL) offline instead."),
    ] = None,
) -> None:
    """Re-hash every vault file and check the custody chain and signatures. Exit 1 on problems."""
    if log is not None:
        _verify_log(log, public_key or [], as_json)
        return
    app = open_app(home)
    try:
        from haechi.run.verify import verify as run_verify

        report = run_verify(app, extra_public_keys=public_key)
    finally:
        app.close()
    data = report.as_dict()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for line in data["chain_problems"] + data["audit_problems"] + data["problems"]:
            out.print(f"[red]✗[/] {line}", highlight=False)
        for line in data["warnings"]:
            out.print(f"[yellow]![/] {line}", highlight=False)
        verdict = "[green]OK[/]" if report.ok else "[bold red]FAILED[/]"
        out.print(
            f"{verdict}: {report.objects_ok:,}/{report.objects:,} vault files intact "
            f"({report.bytes / 1e6:,.1f} MB, {data['mb_per_s'] or 0} MB/s); "
            f"{report.chain.events:,} custody events, head {report.chain.head_seq} "
            f"{report.chain.head_hash[:16]}…; {report.audit.chain.events:,} audit entries, "
            f"head {report.audit.chain.head_seq} {report.audit.chain.head_hash[:16]}…",
            highlight=False,
        )
    if not report.ok:
        raise typer.Exit(1)


def _verify_log(path: Path, keys: list[Path], as_json: bool) -> None:
    if not keys:
        raise typer.BadParameter("give the signer's --public-key to verify a log offline")
    verifier = load_verifier(keys)
    with path.open(encoding="utf-8") as fh:
        report = verify_chain(iter_jsonl_events(fh), verifier)
    problems = [str(p) for p in report.problems]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "events": report.events,
                    "head_seq": report.head_seq,
                    "head_hash": report.head_hash,
                    "chain_problems": problems,
                },
                indent=2,
            )
        )
    else:
        for line in problems:
            out.print(f"[red]✗[/] {line}", highlight=False)
        verdict = "[green]OK[/]" if report.ok else "[bold red]FAILED[/]"
        out.print(f"{verdict}: {report.events:,} events, head {report.head_seq} {report.head_hash}")
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
