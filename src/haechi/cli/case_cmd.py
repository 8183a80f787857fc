"""``haechi case``: open cases and gather evidence, victims (with consent) and suspects.

A thin shell over :mod:`haechi.cases`; every change it makes is a custody event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.table import Table

from haechi.app import App, open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.domain import UsageError
from haechi.i18n import _

ORDER = 81

case_app = typer.Typer(
    help=_("Cases: evidence, victims, suspects, notes, status."), no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help=_("Print the result as JSON."))]
CaseArg = Annotated[str, typer.Argument(help=_("Case number or reference."))]


@contextmanager
def opened(home: Any) -> Iterator[App]:
    app = open_app(home)
    try:
        yield app
    finally:
        app.close()


def pairs(values: list[str] | None) -> list[tuple[str, str]]:
    """``kind=value`` options as pairs."""
    result = []
    for value in values or []:
        kind, sep, text = value.partition("=")
        if not sep:
            raise UsageError(
                _(
                    "Write identifiers as kind=value (e.g. telegram_username=abc), not {value}."
                ).format(value=repr(value))
            )
        result.append((kind.strip(), text.strip()))
    return result


def emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@case_app.command("create", help=_("Open a case."))
def create(
    title: Annotated[str, typer.Argument(help=_("Short title (no victim names: it is exported)."))],
    ref: Annotated[str | None, typer.Option(help=_("The unit's own case number."))] = None,
    reported_on: Annotated[str | None, typer.Option(help=_("Day reported, YYYY-MM-DD."))] = None,
    summary: Annotated[str | None, typer.Option(help=_("Longer description."))] = None,
    assignee: Annotated[str | None, typer.Option(help=_("Who works the case."))] = None,
    tag: Annotated[list[str] | None, typer.Option(help=_("Tag; repeatable."))] = None,
    unit: Annotated[
        str | None, typer.Option(help=_("The unit the case belongs to (its staff see it)."))
    ] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a case."""
    from haechi.cases.service import create_case

    with opened(home) as app:
        case = create_case(
            app,
            title,
            ref=ref,
            reported_on=reported_on,
            summary=summary,
            assignee=assignee,
            tags=tag or (),
            unit=unit,
        )
    if as_json:
        emit(asdict(case))
    else:
        out.print(
            _("opened case {ref} (number {id})").format(ref=case.ref, id=case.id), highlight=False
        )


@case_app.command("list", help=_("List cases, newest first."))
def list_(
    status: Annotated[str | None, typer.Option(help=_("Only cases with this status."))] = None,
    tag: Annotated[str | None, typer.Option(help=_("Only cases with this tag."))] = None,
    assignee: Annotated[
        str | None, typer.Option(help=_("Only cases assigned to this person."))
    ] = None,
    unit: Annotated[str | None, typer.Option(help=_("Only cases of this unit."))] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """List cases, newest first."""
    from haechi.cases.service import list_cases

    with opened(home) as app:
        cases = list_cases(app, status=status, tag=tag, assignee=assignee, unit=unit)
    if as_json:
        emit([asdict(c) for c in cases])
        return
    table = Table(
        "#", _("reference"), _("title"), _("status"), _("reported"), _("unit"), _("assignee"),
        _("items"), _("notices"), _("tags"),
    )  # fmt: skip
    for c in cases:
        table.add_row(
            str(c.id), c.ref, c.title, c.status, c.reported_on, c.unit or "", c.assignee or "",
            str(c.items), str(c.notices), ", ".join(c.tags),
        )  # fmt: skip
    out.print(table)


@case_app.command(
    "show", help=_("Everything in a case: items with links and hashes, victims, suspects, notes.")
)
def show(
    case: CaseArg,
    reveal_victims: Annotated[
        bool, typer.Option(help=_("Show victims' names and contacts (logged as an access)."))
    ] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Everything in a case: items with links and hashes, victims, suspects, notes."""
    from haechi.cases.detail import case_detail
    from haechi.cases.service import log_access

    with opened(home) as app:
        detail = case_detail(app, case, reveal_victims=reveal_victims)
        if reveal_victims and detail.victims:
            log_access(app, detail.id, "victim identifiers shown by `haechi case show`")
    if as_json:
        emit(asdict(detail))
        return
    s = detail.summary
    reported = _("{status}, reported {day}").format(status=s.status, day=s.reported_on)
    out.print(f"[bold]{s.ref}[/] {s.title} — {reported}", highlight=False)
    items = Table(
        _("item"), _("kind"), _("link"), _("message"), _("file SHA-256"), title=_("items")
    )
    for i in detail.items:
        state = _(" (withdrawn)") if i.withdrawn else ""
        items.add_row(
            str(i.id), i.kind + state, i.url or _("no public link"), str(i.message_id or ""),
            i.blob_sha256 or "",
        )  # fmt: skip
    out.print(items)
    for v in detail.victims:
        consents = ", ".join(f"{c.scope}#{c.id}" for c in v.consents if c.active) or _(
            "no consent record"
        )
        who = f" {v.display_name}" if v.display_name else ""
        line = _("victim {label}{who}: {band}, minor={minor}, consents: {consents}").format(
            label=v.label, who=who, band=v.age_band, minor=v.is_minor, consents=consents
        )
        out.print(line, highlight=False)
    for p in detail.suspects:
        ids = ", ".join(f"{k}={val}" for k, val in p.identifiers)
        line = _("suspect {label}: {status}, {band}; {ids}").format(
            label=p.label, status=p.status, band=p.age_band, ids=ids
        )
        out.print(line, highlight=False)
    for n in detail.notes:
        line = _("note {id} by {author} at {at}: {text}").format(
            id=n.id, author=n.author, at=n.created_at, text=n.text
        )
        out.print(line, highlight=False)


def _print_added(added: Any) -> None:
    for a in added if isinstance(added, list) else [added]:
        said = _("item {id} added") if a.created else _("item {id} (already in the case)")
        out.print(said.format(id=a.id))


@case_app.command("add-message", help=_("Add a stored message (and its files)."))
def add_message(
    case: CaseArg,
    url: Annotated[str | None, typer.Option(help=_("The message's t.me link."))] = None,
    chat: Annotated[
        str | None, typer.Option(help=_("Chat key (channel:123), @username or id."))
    ] = None,
    message_id: Annotated[
        int | None, typer.Option("--id", help=_("Message id within the chat."))
    ] = None,
    files: Annotated[bool, typer.Option(help=_("Also add each file the message carries."))] = True,
    home: HomeOption = None,
) -> None:
    """Add a stored message (and its files)."""
    from haechi.cases.items import add_message as service

    with opened(home) as app:
        added = service(app, case, chat=chat, message_id=message_id, url=url, with_files=files)
    _print_added(added)


@case_app.command(
    "add-file",
    help=_("Add a stored file by SHA-256: one item for every message that carried it."),
)
def add_file(
    case: CaseArg, sha256: Annotated[str, typer.Argument()], home: HomeOption = None
) -> None:
    """Add a stored file by SHA-256: one item for every message that carried it."""
    from haechi.cases.items import add_file as service

    with opened(home) as app:
        _print_added(service(app, case, sha256))


@case_app.command(
    "add-chat",
    help=_("Add a chat (its public link also gives its messages in this case their links)."),
)
def add_chat(
    case: CaseArg,
    chat: Annotated[str, typer.Argument(help=_("Chat key (channel:123), @username or id."))],
    url: Annotated[
        str | None, typer.Option(help=_("Its public link, e.g. https://t.me/name."))
    ] = None,
    home: HomeOption = None,
) -> None:
    """Add a chat (its public link also gives its messages in this case their links)."""
    from haechi.cases.items import add_chat as service

    with opened(home) as app:
        _print_added(service(app, case, chat, url=url))


@case_app.command(
    "add-items",
    help=_('Add a selection in one transaction (what the web pages\' "add selected" sends).'),
)
def add_items(
    case: CaseArg,
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help=_(
                "message:<number>, media:<number>, file:<sha256>, chat:<number> or "
                "match:<number>; - reads them from stdin, one a line."
            )
        ),
    ] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a selection in one transaction (what the web pages' "add selected" sends)."""
    import sys

    from haechi.cases.bulk import add_targets

    wanted = list(targets or [])
    if wanted == ["-"]:
        wanted = [line.strip() for line in sys.stdin if line.strip()]
    with opened(home) as app:
        result = add_targets(app, case, wanted)
    if as_json:
        emit({"case": result.case_ref, "items": [asdict(i) for i in result.items]})
    else:
        out.print(
            _("case {case}: {added} items added, {existing} already in it").format(
                case=result.case_ref, added=result.added, existing=result.existing
            ),
            highlight=False,
        )


@case_app.command("add-link", help=_("Add a link that was reported but not captured."))
def add_link(
    case: CaseArg,
    url: Annotated[str, typer.Argument(help=_("A reported link not captured (yet)."))],
    note: Annotated[str | None, typer.Option(help=_("Where it came from."))] = None,
    home: HomeOption = None,
) -> None:
    """Add a link that was reported but not captured."""
    from haechi.cases.items import add_link as service

    with opened(home) as app:
        _print_added(service(app, case, url, note=note))


@case_app.command(
    "add-match",
    help=_("Add a hash match (a row of `haechi match`); an unknown number is refused."),
)
def add_match(
    case: CaseArg,
    match_id: Annotated[
        str, typer.Argument(help=_("The match's number, as `haechi match` lists it."))
    ],
    sha256: Annotated[
        str | None,
        typer.Option(help=_("One of the match's two files (default: the file that matched).")),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Add a hash match (a row of `haechi match`); an unknown number is refused."""
    from haechi.cases.items import add_external
    from haechi.cases.model import ItemKind

    with opened(home) as app:
        _print_added(add_external(app, case, ItemKind.MATCH, match_id, blob_sha256=sha256))


@case_app.command(
    "add-finding",
    help=_(
        "Add a graph finding (a successor room, a shared wallet, "
        "...); a node the store does not have is refused."
    ),
)
def add_finding(
    case: CaseArg,
    finding_id: Annotated[
        str,
        typer.Argument(
            help=_(
                "A network-map node (chat:12, account:7, bot:name, tg:name, invite:+hash, "
                "tgc:123, media:<sha256 prefix>, btc:<address>, url:<link>, ...) or free text "
                "typed note:<what it says>."
            )
        ),
    ],
    chat: Annotated[str | None, typer.Option(help=_("The chat it concerns."))] = None,
    url: Annotated[str | None, typer.Option(help=_("A link it concerns."))] = None,
    note: Annotated[str | None, typer.Option(help=_("What the finding says."))] = None,
    home: HomeOption = None,
) -> None:
    """Add a graph finding (a successor room, a shared wallet, ...); a node the store does
    not have is refused."""
    from haechi.cases.items import add_external
    from haechi.cases.model import ItemKind

    with opened(home) as app:
        detail = {"note": note} if note else None
        _print_added(
            add_external(app, case, ItemKind.FINDING, finding_id, chat=chat, url=url, detail=detail)
        )


@case_app.command(
    "withdraw", help=_("Withdraw an item from the case (it is kept, marked withdrawn).")
)
def withdraw(
    case: CaseArg,
    item: Annotated[int, typer.Argument(help=_("Item number."))],
    reason: Annotated[str, typer.Option(help=_("Why (the item stays on record)."))],
    home: HomeOption = None,
) -> None:
    """Withdraw an item from the case (it is kept, marked withdrawn)."""
    from haechi.cases.items import withdraw_item

    with opened(home) as app:
        withdraw_item(app, case, item, reason)
    out.print(_("item {item} withdrawn").format(item=item))


@case_app.command("victim", help=_("Record a victim; they are named V1, V2, ... in every export."))
def victim(
    case: CaseArg,
    name: Annotated[
        str | None, typer.Option(help=_("Name (never exported unless revealed)."))
    ] = None,
    contact: Annotated[
        str | None, typer.Option(help=_("Contact (never exported unless revealed)."))
    ] = None,
    identifier: Annotated[
        list[str] | None, typer.Option(help=_("kind=value, e.g. instagram=abc; repeatable."))
    ] = None,
    age: Annotated[int | None, typer.Option(help=_("Age when reported."))] = None,
    age_band: Annotated[
        str | None, typer.Option(help=_("under14, 14-19, 20s, 30+ when the age is unknown."))
    ] = None,
    minor: Annotated[
        bool | None, typer.Option("--minor/--not-minor", help=_("Staff-set minor flag."))
    ] = None,
    home: HomeOption = None,
) -> None:
    """Record a victim; they are named V1, V2, ... in every export."""
    from haechi.cases.people import add_victim

    with opened(home) as app:
        label = add_victim(
            app, case, display_name=name, contact=contact, identifiers=pairs(identifier), age=age,
            band=age_band, is_minor=minor,
        )  # fmt: skip
    hint = f"haechi case consent {case} {label} takedown"
    said = _("victim {label} recorded; record their consent with `{hint}`")
    out.print(said.format(label=label, hint=hint), highlight=False)


@case_app.command(
    "minor", help=_("Set the staff-set minor flag (routes Telegram notices to stopCA@).")
)
def minor(
    case: CaseArg,
    label: Annotated[str, typer.Argument(help=_("Victim label, e.g. V1."))],
    is_minor: Annotated[bool, typer.Option("--yes/--no", help=_("Whether the victim is a minor."))],
    home: HomeOption = None,
) -> None:
    """Set the staff-set minor flag (routes Telegram notices to stopCA@)."""
    from haechi.cases.people import set_victim_minor

    with opened(home) as app:
        set_victim_minor(app, case, label, is_minor)
    out.print(_("victim {label}: minor={minor}").format(label=label, minor=is_minor))


@case_app.command("consent", help=_("Record a victim's consent for one scope."))
def consent(
    case: CaseArg,
    label: Annotated[str, typer.Argument(help=_("Victim label, e.g. V1."))],
    scope: Annotated[
        str, typer.Argument(help=_("takedown, face_search, evidence_sharing or contact."))
    ],
    given_by: Annotated[
        str, typer.Option(help=_("subject, guardian or representative."))
    ] = "subject",
    method: Annotated[str, typer.Option(help=_("written, electronic or verbal."))] = "written",
    at: Annotated[
        str | None, typer.Option(help=_("When given (ISO 8601 with zone); default now."))
    ] = None,
    document_sha256: Annotated[
        str | None, typer.Option(help=_("SHA-256 of the signed form."))
    ] = None,
    note: Annotated[str | None, typer.Option()] = None,
    home: HomeOption = None,
) -> None:
    """Record a victim's consent for one scope."""
    from haechi.cases.people import record_consent

    with opened(home) as app:
        cid = record_consent(
            app, case, label, scope, given_by=given_by, method=method, granted_at=at,
            document_sha256=document_sha256, note=note,
        )  # fmt: skip
    out.print(
        _("consent {id} recorded ({label}: {scope})").format(id=cid, label=label, scope=scope)
    )


@case_app.command("withdraw-consent", help=_("Record that a consent was withdrawn."))
def withdraw_consent(
    case: CaseArg,
    consent_id: Annotated[int, typer.Argument(help=_("Consent record number."))],
    at: Annotated[str | None, typer.Option(help=_("When withdrawn; default now."))] = None,
    home: HomeOption = None,
) -> None:
    """Record that a consent was withdrawn."""
    from haechi.cases.people import withdraw_consent as service

    with opened(home) as app:
        service(app, case, consent_id, at=at)
    out.print(_("consent {id} withdrawn").format(id=consent_id))


@case_app.command(
    "link-face", help=_("Link a victim to their face subject (needs face_search consent).")
)
def link_face(
    case: CaseArg,
    label: Annotated[str, typer.Argument(help=_("Victim label."))],
    subject: Annotated[str, typer.Argument(help=_("The faces capability's subject id."))],
    home: HomeOption = None,
) -> None:
    """Link a victim to their face subject (needs face_search consent)."""
    from haechi.cases.people import link_faces_subject

    with opened(home) as app:
        link_faces_subject(app, case, label, subject)
    out.print(
        _("victim {label} linked to face subject {subject}").format(label=label, subject=subject)
    )


@case_app.command("suspect", help=_("Record a suspect by the identifiers they were seen with."))
def suspect(
    case: CaseArg,
    identifier: Annotated[
        list[str] | None, typer.Option(help=_("kind=value, e.g. telegram_id=123; repeatable."))
    ] = None,
    account: Annotated[
        str | None, typer.Option(help=_("Stored account key, e.g. user:123."))
    ] = None,
    age: Annotated[int | None, typer.Option(help=_("Age at the offence."))] = None,
    age_band: Annotated[str | None, typer.Option(help=_("under14, 14-19, 20s, 30+."))] = None,
    note: Annotated[str | None, typer.Option()] = None,
    home: HomeOption = None,
) -> None:
    """Record a suspect by the identifiers they were seen with."""
    from haechi.cases.people import add_suspect

    with opened(home) as app:
        label = add_suspect(
            app,
            case,
            identifiers=pairs(identifier),
            account=account,
            age=age,
            band=age_band,
            note=note,
        )
    out.print(_("suspect {label} recorded").format(label=label))


@case_app.command(
    "suspect-status", help=_("Record an apprehension, detention or other change for a suspect.")
)
def suspect_status(
    case: CaseArg,
    label: Annotated[str, typer.Argument(help=_("Suspect label, e.g. S1."))],
    status: Annotated[
        str, typer.Argument(help=_("identified, apprehended, detained, released, referred."))
    ],
    at: Annotated[
        str | None, typer.Option(help=_("When (ISO 8601 with zone); default now."))
    ] = None,
    age: Annotated[int | None, typer.Option(help=_("Age, if learnt now."))] = None,
    home: HomeOption = None,
) -> None:
    """Record an apprehension, detention or other change for a suspect."""
    from haechi.cases.people import set_suspect_status

    with opened(home) as app:
        set_suspect_status(app, case, label, status, at=at, age=age)
    out.print(_("suspect {label}: {status}").format(label=label, status=status))


@case_app.command("note", help=_("Add a note."))
def note(case: CaseArg, text: Annotated[str, typer.Argument()], home: HomeOption = None) -> None:
    """Add a note."""
    from haechi.cases.service import add_note

    with opened(home) as app:
        nid = add_note(app, case, text)
    out.print(_("note {id} added").format(id=nid))


@case_app.command("status", help=_("Change a case's status."))
def status(
    case: CaseArg,
    new: Annotated[str, typer.Argument(help=_("open, investigating, referred or closed."))],
    reason: Annotated[str | None, typer.Option()] = None,
    home: HomeOption = None,
) -> None:
    """Change a case's status."""
    from haechi.cases.service import set_status

    with opened(home) as app:
        set_status(app, case, new, reason=reason)
    out.print(_("case {case}: {status}").format(case=case, status=new))


@case_app.command("assign", help=_("Assign a case (or unassign it)."))
def assign(
    case: CaseArg,
    who: Annotated[
        str | None, typer.Argument(help=_("Who works the case; omit to unassign."))
    ] = None,
    home: HomeOption = None,
) -> None:
    """Assign a case (or unassign it)."""
    from haechi.cases.service import assign as service

    with opened(home) as app:
        service(app, case, who)
    said = _("case {case} assigned to {who}") if who else _("case {case} unassigned")
    out.print(said.format(case=case, who=who))


@case_app.command(
    "unit", help=_("Move a case to another unit (its staff see it from then on; logged).")
)
def unit_(
    case: CaseArg,
    unit: Annotated[
        str | None, typer.Argument(help=_("The unit; omit for the default, unnamed unit."))
    ] = None,
    home: HomeOption = None,
) -> None:
    """Move a case to another unit (its staff see it from then on; logged)."""
    from haechi.cases.service import set_case_unit

    with opened(home) as app:
        set_case_unit(app, case, unit)
    said = (
        _("case {case} belongs to unit {unit}")
        if unit
        else _("case {case} belongs to the default unit")
    )
    out.print(said.format(case=case, unit=unit))


@case_app.command("tag", help=_("Add or remove tags."))
def tag(
    case: CaseArg,
    add: Annotated[list[str] | None, typer.Option(help=_("Tag to add; repeatable."))] = None,
    remove: Annotated[list[str] | None, typer.Option(help=_("Tag to remove; repeatable."))] = None,
    home: HomeOption = None,
) -> None:
    """Add or remove tags."""
    from haechi.cases.service import tag as service

    with opened(home) as app:
        service(app, case, add or (), remove or ())
    out.print(_("case {case} tags updated").format(case=case))


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
