"""``haechi case victim``, ``consent``, ``suspect`` and the rest: the people of a case.
Victims are named V1, V2, ... and suspects S1, S2, ... in every export; a victim's name and
contact stay in the database."""

from __future__ import annotations

from typing import Annotated

import typer

from haechi.cli.common import CaseArg, opened
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.domain import UsageError
from haechi.i18n import _

people_app = typer.Typer()


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


@people_app.command(
    "victim", help=_("Record a victim; they are named V1, V2, ... in every export.")
)
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


@people_app.command(
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


@people_app.command("consent", help=_("Record a victim's consent for one scope."))
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


@people_app.command("withdraw-consent", help=_("Record that a consent was withdrawn."))
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


@people_app.command(
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


@people_app.command("suspect", help=_("Record a suspect by the identifiers they were seen with."))
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


@people_app.command(
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


@people_app.command(
    "suspect-identifier", help=_("Add identifiers a recorded suspect was also seen with.")
)
def suspect_identifier(
    case: CaseArg,
    label: Annotated[str, typer.Argument(help=_("Suspect label, e.g. S1."))],
    identifier: Annotated[
        list[str], typer.Argument(help=_("kind=value, e.g. telegram_username=abc; one or more."))
    ],
    home: HomeOption = None,
) -> None:
    """Add identifiers a recorded suspect was also seen with."""
    from haechi.cases.people import add_suspect_identifiers

    with opened(home) as app:
        added = add_suspect_identifiers(app, case, label, pairs(identifier))
    if not added:
        out.print(_("suspect {label} already has these identifiers").format(label=label))
        return
    ids = ", ".join(f"{i['kind']}={i['value']}" for i in added)
    out.print(_("suspect {label}: added {ids}").format(label=label, ids=ids), highlight=False)


@people_app.command(
    "suspect-correct",
    help=_(
        "Correct a suspect's recorded apprehension or detention time; the custody log "
        "keeps the earlier time and the reason."
    ),
)
def suspect_correct(
    case: CaseArg,
    label: Annotated[str, typer.Argument(help=_("Suspect label, e.g. S1."))],
    which: Annotated[str, typer.Argument(help=_("apprehended or detained."))],
    at: Annotated[str, typer.Argument(help=_("The right time (ISO 8601 with zone)."))],
    reason: Annotated[str, typer.Option(help=_("Why the recorded time was wrong."))],
    home: HomeOption = None,
) -> None:
    """Correct a suspect's recorded apprehension or detention time; the custody log keeps
    the earlier time and the reason."""
    from haechi.cases.people import correct_suspect_time

    with opened(home) as app:
        before = correct_suspect_time(app, case, label, which, at, reason=reason)
    if before is None:
        out.print(_("suspect {label}: the time is already {at}").format(label=label, at=at))
        return
    said = (
        _("suspect {label}: apprehension time corrected from {before} (kept in the custody log)")
        if which == "apprehended"
        else _("suspect {label}: detention time corrected from {before} (kept in the custody log)")
    )
    out.print(said.format(label=label, before=before), highlight=False)
