"""``haechi case``: open cases and gather evidence, victims (with consent) and suspects.

A thin shell over :mod:`haechi.cases`; every change it makes is a custody event. This module
opens, lists and shows cases; the other verbs of the group live beside it, one job each:
``case_items`` (evidence), ``case_people`` (victims, consent, suspects) and ``case_record``
(notes, status, assignee, unit, tags).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from haechi.cli.common import CaseArg, JsonOption, emit, opened
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _

ORDER = 81

case_app = typer.Typer(
    help=_("Cases: evidence, victims, suspects, notes, status."), no_args_is_help=True
)


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


def register(app: typer.Typer) -> None:
    from haechi.cli.case_items import items_app
    from haechi.cli.case_people import people_app
    from haechi.cli.case_record import record_app

    # Merged without a name: their verbs are `haechi case <verb>`, listed in this order.
    for part in (items_app, people_app, record_app):
        case_app.add_typer(part)
    app.add_typer(case_app, name="case")
