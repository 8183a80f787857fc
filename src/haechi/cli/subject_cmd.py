"""``haechi subject``: enrol, list, show and delete consenting subjects; record consents.

A thin shell over :mod:`haechi.subjects.service` and :mod:`haechi.subjects.consent`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from haechi.app import open_app
from haechi.cli.console import err, out
from haechi.cli.main import HomeOption
from haechi.i18n import _

if TYPE_CHECKING:
    from haechi.subjects.consent import ConsentRequest
    from haechi.subjects.model import SubjectInfo

ORDER = 50

subject_app = typer.Typer(
    help=_("Subjects: people who consented to be searched for (templates, consent records)."),
    no_args_is_help=True,
)

StaffOption = Annotated[
    str | None,
    typer.Option("--staff", help=_("Staff member recording this (default: the operator name).")),
]
JsonOption = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]


def _consent_request(
    consented_by: str,
    consented_on: str,
    scope: str,
    relation: str,
    until: str | None,
    reference: str | None,
) -> ConsentRequest:
    from haechi.subjects.consent import ConsentRequest

    return ConsentRequest(
        given_by=consented_by,
        scope=scope,
        given_at=consented_on,
        relation=relation,
        valid_until=until,
        reference=reference,
    )


@subject_app.command(
    "add",
    help=_(
        "Enrol a subject from reference photos under a consent "
        "(templates only, unless the consent's scope includes "
        "keep_photos)."
    ),
)
def add(
    label: Annotated[str, typer.Argument(help=_("Case code for the subject (never her name)."))],
    photo: Annotated[
        list[Path], typer.Option("--photo", help=_("Reference photo (repeatable)."), exists=False)
    ],
    consented_by: Annotated[
        str, typer.Option(help=_("Who gave the consent (the subject, or her guardian)."))
    ],
    consented_on: Annotated[str, typer.Option(help=_("Date of the consent, YYYY-MM-DD."))],
    scope: Annotated[
        str, typer.Option(help=_("Comma-separated: search, keep_photos, link."))
    ] = "search",
    relation: Annotated[str, typer.Option(help=_("self, guardian or representative."))] = "self",
    until: Annotated[str | None, typer.Option(help=_("Last day the consent holds."))] = None,
    reference: Annotated[str | None, typer.Option(help=_("Number of the signed form."))] = None,
    display_name: Annotated[
        str | None, typer.Option(help=_("Her name, only if needed (wiped on deletion)."))
    ] = None,
    notes: Annotated[str | None, typer.Option(help=_("Notes (wiped on deletion)."))] = None,
    minor: Annotated[
        bool, typer.Option("--minor", help=_("Staff record her as a minor (routes notices)."))
    ] = False,
    staff: StaffOption = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Enrol a subject from reference photos under a consent (templates only, unless the
    consent's scope includes keep_photos)."""
    from haechi.subjects.service import enroll_subject

    app = open_app(home)
    try:
        info, warnings = enroll_subject(
            app,
            label=label,
            photos=photo,
            consent=_consent_request(consented_by, consented_on, scope, relation, until, reference),
            staff=staff or app.settings.operator,
            display_name=display_name,
            notes=notes,
            is_minor=minor,
        )
    finally:
        app.close()
    for line in warnings:
        err.print(f"[yellow]{_('warning:')}[/] {line}", highlight=False)
    if as_json:
        typer.echo(json.dumps(asdict(info), ensure_ascii=False, indent=2))
        return
    kept = _("photos kept encrypted") if info.photos else _("templates only, photos not kept")
    said = _("enrolled subject {id} ({label}): {templates} template(s), {kept}").format(
        id=info.id, label=info.label, templates=len(info.templates), kept=kept
    )
    out.print(said)


@subject_app.command(
    "list", help=_("List the subjects and whether their consent allows searching today.")
)
def list_(
    include_deleted: Annotated[bool, typer.Option("--all", help=_("Include deleted."))] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the subjects and whether their consent allows searching today."""
    from haechi.subjects.model import ConsentScope
    from haechi.subjects.service import list_subjects

    app = open_app(home)
    try:
        subjects = list_subjects(app, include_deleted=include_deleted)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps([asdict(s) for s in subjects], ensure_ascii=False, indent=2))
        return
    table = Table(
        _("id"), _("label"), _("status"), _("templates"), _("photos"), _("search consent"),
        _("minor"),
    )  # fmt: skip
    for s in subjects:
        consent = s.consent_for(ConsentScope.SEARCH)
        table.add_row(
            str(s.id),
            s.label,
            s.status,
            str(len(s.templates)),
            str(s.photos),
            _("#{id} until {until}").format(
                id=consent.id, until=consent.valid_until or _("withdrawn")
            )
            if consent
            else _("none"),
            _("yes") if s.apparent_minor else "",
        )
    out.print(table)


def _show(info: SubjectInfo) -> None:
    title = _("subject {id}").format(id=info.id)
    out.print(f"[bold]{title}[/] {info.label} ({info.status})", highlight=False)
    if info.display_name:
        out.print(_("name: {name}").format(name=info.display_name), highlight=False)
    out.print(
        _("enrolled {at} by {who}").format(at=info.created_at, who=info.created_by),
        highlight=False,
    )
    out.print(
        _("recorded as a minor: {answer}").format(answer=_("yes") if info.is_minor else _("no"))
    )
    table = Table(
        _("consent"), _("given by"), _("relation"), _("on"), _("scope"), _("until"),
        _("recorded by"), _("state"),
    )  # fmt: skip
    for c in info.consents:
        state = _("withdrawn {at}").format(at=c.withdrawn_at) if c.withdrawn_at else _("active")
        table.add_row(
            str(c.id),
            c.given_by,
            c.relation,
            c.given_at,
            ", ".join(c.scope),
            c.valid_until or "-",
            c.recorded_by,
            state,
        )
    out.print(table)
    out.print(
        _("templates: {templates}; photos kept: {photos}").format(
            templates=len(info.templates), photos=info.photos
        )
    )
    if info.clusters:
        out.print(_("linked clusters: ") + ", ".join(f"#{c}" for c in info.clusters))


@subject_app.command("show", help=_("Show a subject's consents, templates and linked clusters."))
def show(
    subject: Annotated[str, typer.Argument(help=_("Subject id or label."))],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a subject's consents, templates and linked clusters."""
    from haechi.subjects.model import SubjectError
    from haechi.subjects.service import get_subject

    app = open_app(home)
    try:
        info = get_subject(app, subject)
    finally:
        app.close()
    if info is None:
        raise SubjectError(_("There is no subject {subject}.").format(subject=repr(subject)))
    if as_json:
        typer.echo(json.dumps(asdict(info), ensure_ascii=False, indent=2))
    else:
        _show(info)


@subject_app.command(
    "delete",
    help=_("Delete a subject: templates and kept photos are removed, a custody event stays."),
)
def delete(
    subject_id: Annotated[int, typer.Argument(help=_("Subject id."))],
    reason: Annotated[str, typer.Option(help=_("Why (recorded in the custody log)."))],
    staff: StaffOption = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a subject: templates and kept photos are removed, a custody event stays."""
    from haechi.subjects.service import delete_subject

    app = open_app(home)
    try:
        summary = delete_subject(app, subject_id, staff or app.settings.operator, reason)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps(summary))
        return
    out.print(
        _(
            "deleted subject {id}: {templates} template(s) and {photos} photo(s) removed, "
            "{clusters} cluster(s) unlinked"
        ).format(
            id=subject_id,
            templates=summary["templates"],
            photos=summary["photos"],
            clusters=summary["clusters_unlinked"],
        )
    )


@subject_app.command(
    "consent", help=_("Record a further consent (a renewal or a wider scope) for a subject.")
)
def consent(
    subject_id: Annotated[int, typer.Argument(help=_("Subject id."))],
    consented_by: Annotated[str, typer.Option(help=_("Who gave the consent."))],
    consented_on: Annotated[str, typer.Option(help=_("Date of the consent, YYYY-MM-DD."))],
    scope: Annotated[str, typer.Option(help=_("Comma-separated: search, keep_photos, link."))],
    relation: Annotated[str, typer.Option(help=_("self, guardian or representative."))] = "self",
    until: Annotated[str | None, typer.Option(help=_("Last day the consent holds."))] = None,
    reference: Annotated[str | None, typer.Option(help=_("Number of the signed form."))] = None,
    staff: StaffOption = None,
    home: HomeOption = None,
) -> None:
    """Record a further consent (a renewal or a wider scope) for a subject."""
    from haechi.subjects.consent import record_consent

    app = open_app(home)
    try:
        info = record_consent(
            app,
            subject_id,
            _consent_request(consented_by, consented_on, scope, relation, until, reference),
            staff or app.settings.operator,
        )
    finally:
        app.close()
    out.print(
        _("recorded consent {consent} for subject {id}: {scope}").format(
            consent=info.id, id=subject_id, scope=", ".join(info.scope)
        )
    )


@subject_app.command(
    "withdraw",
    help=_("Withdraw a consent now (kept photos go when no consent still allows keeping them)."),
)
def withdraw(
    subject_id: Annotated[int, typer.Argument(help=_("Subject id."))],
    consent_id: Annotated[int, typer.Argument(help=_("Consent id (see `subject show`)."))],
    staff: StaffOption = None,
    home: HomeOption = None,
) -> None:
    """Withdraw a consent now (kept photos go when no consent still allows keeping them)."""
    from haechi.subjects.consent import withdraw_consent

    app = open_app(home)
    try:
        withdraw_consent(app, subject_id, consent_id, staff or app.settings.operator)
    finally:
        app.close()
    out.print(
        _("withdrew consent {consent} of subject {id}").format(consent=consent_id, id=subject_id)
    )


def register(app: typer.Typer) -> None:
    app.add_typer(subject_app, name="subject")
