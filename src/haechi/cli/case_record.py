"""``haechi case note``, ``status``, ``assign``, ``unit`` and ``tag``: the case's own record
(every change a custody event, as the rest of ``haechi case``)."""

from __future__ import annotations

from typing import Annotated

import typer

from haechi.cli.common import CaseArg, opened
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _

record_app = typer.Typer()


@record_app.command("note", help=_("Add a note."))
def note(case: CaseArg, text: Annotated[str, typer.Argument()], home: HomeOption = None) -> None:
    """Add a note."""
    from haechi.cases.service import add_note

    with opened(home) as app:
        nid = add_note(app, case, text)
    out.print(_("note {id} added").format(id=nid))


@record_app.command("status", help=_("Change a case's status."))
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


@record_app.command("assign", help=_("Assign a case (or unassign it)."))
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


@record_app.command(
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


@record_app.command("tag", help=_("Add or remove tags."))
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
