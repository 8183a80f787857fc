"""``haechi verify``: check every vault file and the custody chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from haechi.app import open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _
from haechi.store.custody import iter_jsonl_events, verify_chain
from haechi.store.keys import load_verifier

ORDER = 80


def verdict_markup(ok: bool) -> str:
    """OK in green or FAILED in red, in the chosen language."""
    word = _("OK") if ok else _("FAILED")
    return f"[green]{word}[/]" if ok else f"[bold red]{word}[/]"


def verify(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print the result as JSON."))] = False,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(help=_("Also trust this public key (PEM); repeatable.")),
    ] = None,
    log: Annotated[
        Path | None,
        typer.Option(help=_("Verify an exported custody log (JSONL) offline instead.")),
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
        verdict = verdict_markup(report.ok)
        summary = _(
            "{ok}/{total} vault files intact ({mb} MB, {speed} MB/s); {events} custody events, "
            "head {head} {hash}…; {audit} audit entries, head {audit_head} {audit_hash}…"
        ).format(
            ok=f"{report.objects_ok:,}", total=f"{report.objects:,}",
            mb=f"{report.bytes / 1e6:,.1f}", speed=data["mb_per_s"] or 0,
            events=f"{report.chain.events:,}", head=report.chain.head_seq,
            hash=report.chain.head_hash[:16], audit=f"{report.audit.chain.events:,}",
            audit_head=report.audit.chain.head_seq, audit_hash=report.audit.chain.head_hash[:16],
        )  # fmt: skip
        out.print(f"{verdict}: {summary}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


def _verify_log(path: Path, keys: list[Path], as_json: bool) -> None:
    if not keys:
        raise typer.BadParameter(_("give the signer's --public-key to verify a log offline"))
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
        verdict = verdict_markup(report.ok)
        summary = _("{events} events, head {head} {hash}").format(
            events=f"{report.events:,}", head=report.head_seq, hash=report.head_hash
        )
        out.print(f"{verdict}: {summary}")
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command(
        "verify",
        help=_(
            "Re-hash every vault file and check the custody chain and signatures. "
            "Exit 1 on problems."
        ),
    )(verify)
