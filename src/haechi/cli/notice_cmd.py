"""``haechi notice``: draft takedown notices from a case, export them, track them."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haechi.cli.common import CaseArg, JsonOption, emit, opened
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _

ORDER = 82

notice_app = typer.Typer(
    help=_("Takedown notices: Telegram, KCSC, DSCVSC, DSA Art. 16; status and removal times."),
    no_args_is_help=True,
)


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:,.1f}"


@notice_app.command("draft", help=_("Draft a notice from the case's items; prints its text."))
def draft(
    case: CaseArg,
    recipient: Annotated[
        str,
        typer.Argument(help=_("telegram (stopCA@ when a victim is a minor), kcsc, dscvsc, dsa.")),
    ],
    lang: Annotated[
        str | None, typer.Option(help=_("ko, en or fr (default: the recipient's)."))
    ] = None,
    item: Annotated[list[int] | None, typer.Option(help=_("Only this item; repeatable."))] = None,
    profile: Annotated[
        str | None, typer.Option(help=_("Notifier profile (default: the default one)."))
    ] = None,
    to: Annotated[
        str | None, typer.Option(help=_("Recipient address, if not the default."))
    ] = None,
    legal_basis: Annotated[
        list[str] | None,
        typer.Option(help=_("A further legal basis line (e.g. Member State law).")),
    ] = None,
    include_victim_identity: Annotated[
        bool, typer.Option(help=_("Name the victim in the notice (KCSC/DSCVSC may need it)."))
    ] = False,
    withhold_notifier: Annotated[
        bool, typer.Option(help=_("DSA notice about child sexual abuse: leave the notifier out."))
    ] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draft a notice from the case's items; prints its text."""
    from haechi.cases.notices.service import draft_notice

    with opened(home) as app:
        result = draft_notice(
            app, case, recipient, lang, item_ids=item, profile=profile, to_address=to,
            legal_basis=legal_basis or (), include_victim_identity=include_victim_identity,
            withhold_notifier=withhold_notifier,
        )  # fmt: skip
    if as_json:
        emit({**asdict(result.notice), "warnings": result.warnings})
        return
    for w in result.warnings:
        out.print(f"[yellow]![/] {w}", highlight=False)
    n = result.notice
    title = _("notice N{id}").format(id=n.id)
    to = _("to {to} ({lang})").format(to=n.to_address or n.recipient, lang=n.language)
    out.print(f"[bold]{title}[/] {to}", highlight=False)
    out.print(_("Subject: {subject}").format(subject=n.subject) + "\n", highlight=False)
    out.print(n.body, highlight=False, markup=False)
    hint = f"haechi notice export {n.id} notice-{n.id}.eml"
    out.print(_("export it: {command}").format(command=hint), highlight=False)


@notice_app.command("list", help=_("List notices with their status and time to removal."))
def list_(
    case: Annotated[str | None, typer.Option(help=_("Only this case's notices."))] = None,
    status: Annotated[str | None, typer.Option()] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """List notices with their status and time to removal."""
    from haechi.cases.notices.views import list_notices

    with opened(home) as app:
        notices = list_notices(app, case=case, status=status)
    if as_json:
        emit([{**asdict(n), "hours_to_removal": n.hours_to_removal} for n in notices])
        return
    table = Table(
        _("notice"), _("case"), _("recipient"), _("lang"), _("status"), _("links"),
        _("hours to removal"),
    )  # fmt: skip
    for n in notices:
        table.add_row(
            f"N{n.id}", n.case_ref, n.recipient, n.language, n.status, str(len(n.urls)),
            _hours(n.hours_to_removal),
        )  # fmt: skip
    out.print(table)


@notice_app.command("show", help=_("A notice's text and history."))
def show(
    notice: Annotated[int, typer.Argument(help=_("Notice number."))],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """A notice's text and history."""
    from haechi.cases.notices.views import get_notice, transitions

    with opened(home) as app:
        n = get_notice(app, notice)
        history = transitions(app, notice)
    if as_json:
        emit({**asdict(n), "history": history})
        return
    out.print(_("Subject: {subject}").format(subject=n.subject) + "\n", highlight=False)
    out.print(n.body, highlight=False, markup=False)
    for status, at, note in history:
        out.print(f"{at}  {status}" + (f"  ({note})" if note else ""), highlight=False)


@notice_app.command("export", help=_("Write a notice as an e-mail to send, or a PDF."))
def export(
    notice: Annotated[int, typer.Argument(help=_("Notice number."))],
    dest: Annotated[Path, typer.Argument(help=_("File to write: .eml, .pdf or .txt."))],
    fmt: Annotated[
        str | None, typer.Option("--format", help=_("eml, pdf or txt (default: suffix)."))
    ] = None,
    home: HomeOption = None,
) -> None:
    """Write a notice as an e-mail to send, or a PDF."""
    from haechi.cases.notices.export import export_notice

    with opened(home) as app:
        digest = export_notice(app, notice, dest, fmt)
    out.print(
        _("wrote {path} (SHA-256 {digest})").format(path=dest, digest=digest), highlight=False
    )


@notice_app.command(
    "mark", help=_("Record a notice's progress (removal starts the re-upload watch).")
)
def mark(
    notice: Annotated[int, typer.Argument(help=_("Notice number."))],
    status: Annotated[
        str, typer.Argument(help=_("sent, acknowledged, decided, removed, reuploaded."))
    ],
    at: Annotated[
        str | None, typer.Option(help=_("When it happened (ISO 8601 with zone); default now."))
    ] = None,
    note: Annotated[str | None, typer.Option()] = None,
    decision: Annotated[
        str | None, typer.Option(help=_("removed, rejected, partial, geo_blocked."))
    ] = None,
    ref: Annotated[str | None, typer.Option(help=_("The recipient's ticket or reference."))] = None,
    home: HomeOption = None,
) -> None:
    """Record a notice's progress (removal starts the re-upload watch)."""
    from haechi.cases.notices.status import mark as service

    with opened(home) as app:
        n = service(app, notice, status, at=at, note=note, decision=decision, external_ref=ref)
    hours = (
        _("; {hours} hours from sending to removal").format(hours=f"{n.hours_to_removal:,.1f}")
        if n.hours_to_removal
        else ""
    )
    said = _("notice N{id}: {status}").format(id=n.id, status=n.status)
    out.print(said + hours, highlight=False)


@notice_app.command("times", help=_("Time to removal per recipient (sent → removed)."))
def times(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Time to removal per recipient (sent → removed)."""
    from haechi.cases.notices.timing import removal_times

    with opened(home) as app:
        rows = removal_times(app)
    if as_json:
        emit([asdict(r) for r in rows])
        return
    table = Table(
        _("recipient"), _("notices"), _("sent"), _("removed"), _("median h"), _("min h"),
        _("max h"),
    )  # fmt: skip
    for r in rows:
        table.add_row(
            r.recipient, str(r.notices), str(r.sent), str(r.removed), _hours(r.median_hours),
            _hours(r.min_hours), _hours(r.max_hours),
        )  # fmt: skip
    out.print(table)


@notice_app.command(
    "watch", help=_("Look for re-uploads of removed content now (also runs after every ingest).")
)
def watch(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Look for re-uploads of removed content now (also runs after every ingest)."""
    from haechi.cases.watch import scan

    with opened(home) as app:
        report = scan(app)
    if as_json:
        emit({**report.as_dict(), "found": [asdict(h) for h in report.hits]})
        return
    for h in report.hits:
        how = (
            _("{method}, distance {distance}").format(method=h.method, distance=f"{h.distance:.2f}")
            if h.distance is not None
            else h.method
        )
        line = _(
            "{kind} ({how}): case {case}, {chat} message {message}, file {sha256} → item {item}"
        ).format(
            kind=h.kind, how=how, case=h.case_id, chat=h.chat_key, message=h.message_id,
            sha256=h.blob_sha256, item=h.new_item_id,
        )  # fmt: skip
        out.print(line, highlight=False)
    out.print(
        _("{watches} watches, {hits} new hits").format(
            watches=report.watches, hits=len(report.hits)
        )
    )


@notice_app.command("profile", help=_("Set who notices are from."))
def profile(
    key: Annotated[str, typer.Argument(help=_("Profile name, e.g. seoul-cyber."))],
    name: Annotated[str | None, typer.Option(help=_("The notifier's name."))] = None,
    email: Annotated[str | None, typer.Option()] = None,
    org: Annotated[str | None, typer.Option(help=_("Organisation."))] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    role: Annotated[
        str | None, typer.Option(help=_("police, support_centre, trusted_flagger, ..."))
    ] = None,
    default: Annotated[bool, typer.Option(help=_("Use it when no profile is named."))] = True,
    home: HomeOption = None,
) -> None:
    """Set who notices are from."""
    from haechi.cases.notices.profiles import set_profile

    with opened(home) as app:
        set_profile(
            app,
            key,
            person_name=name,
            email=email,
            organisation=org,
            phone=phone,
            role=role,
            default=default,
        )
    out.print(_("notifier profile {key} saved").format(key=key))


def register(app: typer.Typer) -> None:
    app.add_typer(notice_app, name="notice")
