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
from haechi.i18n import _

ORDER = 40

bank_app = typer.Typer(
    help=_("Banks of known items (a victim's pictures, partners' hash lists)."),
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help=_("Print the result as JSON."))]
LabelOption = Annotated[
    list[str] | None, typer.Option("--label", "-l", help=_("A label for the items (repeatable)."))
]


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@bank_app.command("create", help=_("Create an empty bank."))
def create(
    name: Annotated[str, typer.Argument(help=_("Bank name, e.g. 'victim 2024-031'."))],
    description: Annotated[str | None, typer.Option(help=_("What the bank holds."))] = None,
    origin: Annotated[str | None, typer.Option(help=_("Who supplied it, on what terms."))] = None,
    notes: Annotated[str | None, typer.Option(help=_("Free notes."))] = None,
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
        said = _("created bank {name} (id {id})").format(name=repr(info.name), id=info.id)
        out.print(said, highlight=False)


@bank_app.command("list", help=_("List the banks with their item, hash and match counts."))
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
    table = Table(_("bank"), _("items"), _("hashes"), _("matches"), _("origin"), _("created"))
    for b in banks:
        hashes = ", ".join(f"{k} {v:,}" for k, v in sorted(b.signals.items())) or "-"
        table.add_row(b.name, f"{b.items:,}", hashes, f"{b.matches:,}", b.origin or "-",
                      b.created_at[:10])  # fmt: skip
    out.print(table)


@bank_app.command("describe", help=_("Show a bank: its details, its first items and its matches."))
def describe(
    name: Annotated[str, typer.Argument(help=_("Bank name."))],
    items: Annotated[int, typer.Option(min=0, help=_("How many items to show."))] = 20,
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
    count = _("{items} items").format(items=f"{info.items:,}")
    out.print(f"[bold]{info.name}[/] (id {info.id}) — {count}", highlight=False)
    created = _("{at} by {who}").format(at=info.created_at, who=info.created_by)
    for label, value in ((_("description"), info.description), (_("origin"), info.origin),
                         (_("notes"), info.notes), (_("labels"), ", ".join(info.labels)),
                         (_("created"), created)):  # fmt: skip
        if value:
            out.print(f"  {label}: {value}", highlight=False)
    table = Table(_("item"), _("hashes"), _("labels"), _("origin"))
    for it in shown:
        hashes = "\n".join(
            f"{k} {v[:16]}…" if len(v) > 16 else f"{k} {v}" for k, v, _sig in it.signals
        )
        table.add_row(
            str(it.id), hashes or _("(opaque only)"), ", ".join(it.labels), it.origin or ""
        )
    out.print(table)
    said = (_("{n} matches (latest 50 below)") if matches else _("{n} matches")).format(
        n=f"{info.matches:,}"
    )
    out.print(said)
    for m in matches:
        line = _("{kind} distance {distance} → stored file {sha256}").format(
            kind=m.kind, distance=m.distance, sha256=m.blob_sha256
        )
        out.print(f"  {line}", highlight=False)


@bank_app.command(
    "delete", help=_("Delete a bank and its hashes; matches it made stay, with its name.")
)
def delete(
    name: Annotated[str, typer.Argument(help=_("Bank name."))],
    reason: Annotated[str, typer.Option(help=_("Why (recorded in the custody log)."))] = "",
    yes: Annotated[bool, typer.Option("--yes", help=_("Do not ask for confirmation."))] = False,
    home: HomeOption = None,
) -> None:
    """Delete a bank and its hashes; matches it made stay, with its name."""
    from haechi.match.banks import delete_bank

    if not yes and not typer.confirm(
        _("Delete bank {name} and all its hashes?").format(name=repr(name))
    ):
        raise typer.Exit(1)
    app = open_app(home)
    try:
        info = delete_bank(app, name, reason=reason)
    finally:
        app.close()
    said = _("deleted bank {name} ({items} items)").format(
        name=repr(info.name), items=f"{info.items:,}"
    )
    out.print(said, highlight=False)


def _print_add(report: Any, as_json: bool) -> None:
    if as_json:
        _echo_json(report.as_dict())
        return
    hashes = ", ".join(f"{k} {v:,}" for k, v in sorted(report.signals_added.items())) or _("none")
    said = _("bank {bank}: {items} items added ({hashes}); {dup} hashes already in the bank")
    out.print(said.format(bank=repr(report.bank), items=f"{report.items_added:,}", hashes=hashes,
                          dup=f"{report.duplicates:,}"), highlight=False)  # fmt: skip
    if report.withdrawn:
        out.print(
            _("{n} records withdrawn by their submitter were not imported").format(
                n=f"{report.withdrawn:,}"
            )
        )
    for line, why in report.skipped[:20]:
        skipped = _("skipped line {line}:").format(line=line)
        out.print(f"[yellow]{skipped}[/] {why}", highlight=False)
    if len(report.skipped) > 20:
        more = _("… and {n} more skipped lines").format(n=f"{len(report.skipped) - 20:,}")
        out.print(f"[yellow]{more}[/]")
    out.print(_("{n} stored files match the new items").format(n=f"{report.matches_found:,}"))


@bank_app.command(
    "add",
    help=_(
        "Add items: from files (only their hashes are kept), typed "
        "hashes, or stored files. The new hashes are matched against "
        "every stored file at once."
    ),
)
def add(
    name: Annotated[str, typer.Argument(help=_("Bank name."))],
    files: Annotated[
        list[Path] | None, typer.Argument(help=_("Pictures or videos to hash (not stored)."))
    ] = None,
    hash_: Annotated[
        list[str] | None,
        typer.Option("--hash", help=_("kind:value, e.g. pdq:<hex> or md5:<hex> (repeatable).")),
    ] = None,
    stored: Annotated[
        list[str] | None, typer.Option("--stored", help=_("SHA-256 of a stored file (repeatable)."))
    ] = None,
    label: LabelOption = None,
    note: Annotated[str | None, typer.Option(help=_("A note on the items."))] = None,
    external_id: Annotated[str | None, typer.Option(help=_("Id in the supplier's system."))] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add items: from files (only their hashes are kept), typed hashes, or stored files.
    The new hashes are matched against every stored file at once."""
    from haechi.match.bank_sources import add_blobs, add_files, add_hashes, parse_hash

    if not (files or hash_ or stored):
        raise UsageError(_("Give files, --hash kind:value or --stored <sha256> to add."))
    app = open_app(home)
    try:
        labels = label or []
        if files:
            _print_add(add_files(app, name, files, labels=labels, notes=note), as_json)
        if hash_:
            pairs = [parse_hash(h) for h in hash_]
            report = add_hashes(
                app, name, pairs, labels=labels, notes=note, external_id=external_id
            )
            _print_add(report, as_json)
        if stored:
            _print_add(add_blobs(app, name, stored, labels=labels, notes=note), as_json)
    finally:
        app.close()


@bank_app.command(
    "import",
    help=_(
        "Import a partner's hash list. By default a bad line aborts "
        "the import and nothing is imported; --skip-bad imports the "
        "rest."
    ),
)
def import_(
    name: Annotated[str, typer.Argument(help=_("Bank name."))],
    path: Annotated[Path, typer.Argument(help=_("The list file."))],
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help=_("auto, te, te-csv, hma, stopncii, stopncii-csv, vics.")
        ),
    ] = "auto",
    skip_bad: Annotated[
        bool, typer.Option(help=_("Import the good lines and report the bad ones."))
    ] = False,
    kind: Annotated[
        str | None, typer.Option(help=_("Hash type of bare lines (te) or of an HMA file."))
    ] = None,
    label: LabelOption = None,
    create: Annotated[bool, typer.Option(help=_("Create the bank if it does not exist."))] = False,
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


@bank_app.command(
    "export", help=_("Write a bank as a hash list partners read (recorded in the custody log).")
)
def export(
    name: Annotated[str, typer.Argument(help=_("Bank name."))],
    path: Annotated[Path, typer.Argument(help=_("File to write."))],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=_("te, te-csv, hma, stopncii or vics."))
    ] = "te",
    kind: Annotated[str | None, typer.Option(help=_("Hash type for HMA files (pdq)."))] = None,
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
        said = _("wrote {items} items of {name} to {path} ({fmt}), sha256 {sha256}").format(
            items=f"{result['items']:,}", name=repr(name), path=path, fmt=fmt,
            sha256=result["sha256"],
        )  # fmt: skip
        out.print(said, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(bank_app, name="bank")
