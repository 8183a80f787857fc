"""``haechi bank``: banks of known items — create, list, describe, delete, add, import,
export. A thin shell over ``haechi.match.banks`` / ``bank_sources`` / ``lists``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from haechi.app import open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.domain import UsageError

ORDER = 40

bank_app = typer.Typer(
    help="Banks of known items (a victim's pictures, partners' hash lists).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
LabelOption = Annotated[
    list[str] | None, typer.Option("--label", "-l", help="A label for the items (repeatable).")
]


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@bank_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Bank name, e.g. 'victim 2024-031'.")],
    description: Annotated[str | None, typer.Option(help="What the bank holds.")] = None,
    origin: Annotated[str | None, typer.Option(help="Who supplied it, on what terms.")] = None,
    notes: Annotated[str | None, typer.Option(help="Free notes.")] = None,
    label: LabelOption = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an empty bank."""
    from haechi.match.banks import create_bank

    app = open_app(home)
    try:
        info = create_bank(
            app, name, description=description, origin=origin, notes=notes, labels=label or []
        )
    finally:
        app.close()
    if as_json:
        _echo_json(vars(info))
    else:
        out.print(f"created bank {info.name!r} (id {info.id})", highlight=False)


@bank_app.command("list")
def list_(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """List the banks with their item, hash and match counts."""
    from haechi.match.banks import list_banks

    app = open_app(home)
    try:
        banks = list_banks(app)
    finally:
        app.close()
    if as_json:
        _echo_json([vars(b) for b in banks])
        return
    table = Table("bank", "items", "hashes", "matches", "origin", "created")
    for b in banks:
        hashes = ", ".join(f"{k} {v:,}" for k, v in sorted(b.signals.items())) or "-"
        table.add_row(b.name, f"{b.items:,}", hashes, f"{b.matches:,}", b.origin or "-",
                      b.created_at[:10])  # fmt: skip
    out.print(table)


@bank_app.command("describe")
def describe(
    name: Annotated[str, typer.Argument(help="Bank name.")],
    items: Annotated[int, typer.Option(min=0, help="How many items to show.")] = 20,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a bank: its details, its first items and its matches."""
    from haechi.match.banks import bank_items, get_bank
    from haechi.match.lookup import list_matches

    app = open_app(home)
    try:
        info = get_bank(app, name)
        shown = bank_items(app, name, limit=items)
        matches = list_matches(app, bank=info.name, limit=50)
    finally:
        app.close()
    if as_json:
        _echo_json({"bank": vars(info), "items": [vars(i) for i in shown],
                    "matches": [m.as_dict() for m in matches]})  # fmt: skip
        return
    out.print(f"[bold]{info.name}[/] (id {info.id}) — {info.items:,} items", highlight=False)
    for label, value in (("description", info.description), ("origin", info.origin),
                         ("notes", info.notes), ("labels", ", ".join(info.labels)),
                         ("created", f"{info.created_at} by {info.created_by}")):  # fmt: skip
        if value:
            out.print(f"  {label}: {value}", highlight=False)
    table = Table("item", "hashes", "labels", "origin")
    for it in shown:
        hashes = "\n".join(
            f"{k} {v[:16]}…" if len(v) > 16 else f"{k} {v}" for k, v, _ in it.signals
        )
        table.add_row(str(it.id), hashes or "(opaque only)", ", ".join(it.labels), it.origin or "")
    out.print(table)
    out.print(f"{info.matches:,} matches" + (" (latest 50 below)" if matches else ""))
    for m in matches:
        out.print(
            f"  {m.kind} distance {m.distance} → stored file {m.blob_sha256}", highlight=False
        )


@bank_app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="Bank name.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the custody log).")] = "",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    home: HomeOption = None,
) -> None:
    """Delete a bank and its hashes; matches it made stay, with its name."""
    from haechi.match.banks import delete_bank

    if not yes and not typer.confirm(f"Delete bank {name!r} and all its hashes?"):
        raise typer.Exit(1)
    app = open_app(home)
    try:
        info = delete_bank(app, name, reason=reason)
    finally:
        app.close()
    out.print(f"deleted bank {info.name!r} ({info.items:,} items)", highlight=False)


def _print_add(report: Any, as_json: bool) -> None:
    if as_json:
        _echo_json(report.as_dict())
        return
    hashes = ", ".join(f"{k} {v:,}" for k, v in sorted(report.signals_added.items())) or "none"
    out.print(f"bank {report.bank!r}: {report.items_added:,} items added ({hashes}); "
              f"{report.duplicates:,} hashes already in the bank", highlight=False)  # fmt: skip
    if report.withdrawn:
        out.print(f"{report.withdrawn:,} records withdrawn by their submitter were not imported")
    for line, why in report.skipped[:20]:
        out.print(f"[yellow]skipped line {line}:[/] {why}", highlight=False)
    if len(report.skipped) > 20:
        out.print(f"[yellow]… and {len(report.skipped) - 20:,} more skipped lines[/]")
    out.print(f"{report.matches_found:,} stored files match the new items")


def _pair(text: str) -> tuple[str, str]:
    kind, sep, value = text.partition(":")
    if not sep:
        raise UsageError(f"Write hashes as kind:value (e.g. pdq:<64 hex digits>), not {text!r}.")
    return kind, value


@bank_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Bank name.")],
    files: Annotated[
        list[Path] | None, typer.Argument(help="Pictures or videos to hash (not stored).")
    ] = None,
    hash_: Annotated[
        list[str] | None,
        typer.Option("--hash", help="kind:value, e.g. pdq:<hex> or md5:<hex> (repeatable)."),
    ] = None,
    stored: Annotated[
        list[str] | None, typer.Option("--stored", help="SHA-256 of a stored file (repeatable).")
    ] = None,
    label: LabelOption = None,
    note: Annotated[str | None, typer.Option(help="A note on the items.")] = None,
    external_id: Annotated[str | None, typer.Option(help="Id in the supplier's system.")] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add items: from files (only their hashes are kept), typed hashes, or stored files.
    The new hashes are matched against every stored file at once."""
    from haechi.match.bank_sources import add_blobs, add_files, add_hashes

    if not (files or hash_ or stored):
        raise UsageError("Give files, --hash kind:value or --stored <sha256> to add.")
    app = open_app(home)
    try:
        labels = label or []
        if files:
            _print_add(add_files(app, name, files, labels=labels, notes=note), as_json)
        if hash_:
            pairs = [_pair(h) for h in hash_]
            report = add_hashes(
                app, name, pairs, labels=labels, notes=note, external_id=external_id
            )
            _print_add(report, as_json)
        if stored:
            _print_add(add_blobs(app, name, stored, labels=labels, notes=note), as_json)
    finally:
        app.close()


@bank_app.command("import")
def import_(
    name: Annotated[str, typer.Argument(help="Bank name.")],
    path: Annotated[Path, typer.Argument(help="The list file.")],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="auto, te, te-csv, hma, stopncii, stopncii-csv, vics."),
    ] = "auto",
    skip_bad: Annotated[
        bool, typer.Option(help="Import the good lines and report the bad ones.")
    ] = False,
    kind: Annotated[
        str | None, typer.Option(help="Hash type of bare lines (te) or of an HMA file.")
    ] = None,
    label: LabelOption = None,
    create: Annotated[bool, typer.Option(help="Create the bank if it does not exist.")] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a partner's hash list. By default a bad line aborts the import and
    nothing is imported; --skip-bad imports the rest."""
    from haechi.match.banks import create_bank, list_banks
    from haechi.match.lists import import_list

    app = open_app(home)
    try:
        if create and name not in {b.name for b in list_banks(app)}:
            create_bank(app, name, origin=f"imported from {path.name}")
        report = import_list(app, name, path, fmt=fmt, skip_bad=skip_bad, kind=kind,
                             labels=label or [])  # fmt: skip
    finally:
        app.close()
    _print_add(report, as_json)


@bank_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="Bank name.")],
    path: Annotated[Path, typer.Argument(help="File to write.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="te, te-csv, hma, stopncii or vics.")
    ] = "te",
    kind: Annotated[str | None, typer.Option(help="Hash type for HMA files (pdq).")] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a bank as a hash list partners read (recorded in the custody log)."""
    from haechi.match.lists import export_bank

    app = open_app(home)
    try:
        result = export_bank(app, name, path, fmt=fmt, kind=kind)
    finally:
        app.close()
    if as_json:
        _echo_json(result)
    else:
        out.print(f"wrote {result['items']:,} items of {name!r} to {path} ({fmt}), "
                  f"sha256 {result['sha256']}", highlight=False)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(bank_app, name="bank")
