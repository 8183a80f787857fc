"""Suspects in a case, and the identifiers people are seen with.

A suspect is recorded by the identifiers they were seen with (``S1``, ``S2``, ...); their
status carries the apprehension (검거) and detention (구속) times statistics count, and a
recorded time is corrected only with a reason the custody log keeps. The identifier kinds
and their check serve victims too (``haechi.cases.people``, which re-exports this module's
public names).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, insert, select, update

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases.model import CaseError, SuspectStatus, age_band, check_age, parse_age_band
from haechi.cases.rows import Row
from haechi.cases.service import case_row
from haechi.i18n import t_
from haechi.store.models import Account
from haechi.store.tables.cases import CaseSubject, CaseSuspect, SuspectIdentifier

IDENTIFIER_KINDS = (
    "telegram_id",
    "telegram_username",
    "phone",
    "email",
    "crypto_wallet",
    "payment_link",
    "instagram",
    "x",
    "kakaotalk",
    "line",
    "discord",
    "school",
    "student_number",
    "name",
    "other",
)


def _identifiers(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    out = []
    for kind, value in pairs:
        if kind not in IDENTIFIER_KINDS:
            raise CaseError(
                t_(
                    "Unknown identifier kind {kind!r}; use one of {identifier_kinds}.",
                    kind=kind,
                    identifier_kinds=", ".join(IDENTIFIER_KINDS),
                )
            )
        value = value.strip()
        if not value or len(value) > 255:
            raise CaseError(t_("A {kind} identifier must be 1 to 255 characters.", kind=kind))
        out.append({"kind": kind, "value": value})
    return out


def _next_label(
    conn: Connection, table: type[CaseSubject] | type[CaseSuspect], case_id: int, prefix: str
) -> str:
    count = conn.execute(
        select(func.count()).select_from(table).where(table.case_id == case_id)
    ).scalar_one()
    return f"{prefix}{int(count) + 1}"


def add_suspect(
    app: App,
    case: int | str,
    *,
    identifiers: Sequence[tuple[str, str]] = (),
    account: str | None = None,
    age: int | None = None,
    band: str | None = None,
    note: str | None = None,
) -> str:
    """Record a suspect by the identifiers they were seen with; returns ``S1``, ``S2``, ..."""
    check_age(age)
    band = parse_age_band(band)
    idents = _identifiers(identifiers)
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        account_id = None
        if account:
            found = conn.execute(select(Account.id).where(Account.key == account)).first()
            if found is None:
                raise CaseError(
                    t_(
                        "No stored account has the key {account!r} (e.g. user:123).",
                        account=account,
                    )
                )
            account_id = int(found[0])
        label = _next_label(conn, CaseSuspect, case_id, "S")
        suspect_id = conn.execute(
            insert(CaseSuspect)
            .values(
                case_id=case_id,
                label=label,
                account_id=account_id,
                age=age,
                age_band=band,
                status=SuspectStatus.UNIDENTIFIED.value
                if not idents and not account
                else SuspectStatus.IDENTIFIED.value,
                note=note,
                created_at=ev.now_iso(),
            )
            .returning(CaseSuspect.id)
        ).scalar_one()
        if idents:
            conn.execute(
                insert(SuspectIdentifier),
                [{"suspect_id": suspect_id, **i} for i in idents],
            )
        ev.record(
            app,
            conn,
            case_id,
            ev.SUSPECT_ADDED,
            {
                "suspect_id": suspect_id,
                "label": label,
                "account": account,
                "identifiers": idents,
                "age_band": age_band(age, band).value,
            },
        )
    return label


def _suspect(conn: Connection, case_id: int, label: str) -> Row:
    row = conn.execute(
        select(CaseSuspect).where(CaseSuspect.case_id == case_id, CaseSuspect.label == label)
    ).first()
    if row is None:
        raise CaseError(t_("The case has no suspect {label!r}.", label=label))
    return row


def set_suspect_status(
    app: App,
    case: int | str,
    label: str,
    status: str,
    *,
    at: str | None = None,
    age: int | None = None,
) -> None:
    """Apprehension (검거) and detention (구속) carry their times: statistics count them."""
    try:
        new = SuspectStatus(status)
    except ValueError:
        known = ", ".join(s.value for s in SuspectStatus)
        raise CaseError(
            t_("Unknown suspect status {status!r}; use one of {known}.", status=status, known=known)
        ) from None
    check_age(age)
    when, unix = ev.parse_when(at)
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        suspect = _suspect(conn, case_id, label)
        values: dict[str, object] = {"status": new.value}
        if age is not None:
            values["age"] = age
        if (
            new in (SuspectStatus.APPREHENDED, SuspectStatus.DETAINED)
            and suspect.apprehended_at is None
        ):
            values.update(apprehended_at=when, apprehended_unix=unix)
        if new is SuspectStatus.DETAINED:
            _in_order(label, suspect.apprehended_unix, unix)
            values.update(detained_at=when, detained_unix=unix)
        conn.execute(update(CaseSuspect).where(CaseSuspect.id == suspect.id).values(**values))
        ev.record(
            app,
            conn,
            case_id,
            ev.SUSPECT_UPDATED,
            {
                "suspect_id": suspect.id,
                "label": label,
                "from": suspect.status,
                "to": new.value,
                "at": when,
                "age": age,
            },
        )


def add_suspect_identifiers(
    app: App, case: int | str, label: str, identifiers: Sequence[tuple[str, str]]
) -> list[dict[str, str]]:
    """Identifiers a recorded suspect was also seen with; returns those that were new (an
    identifier the suspect has already adds nothing and is not logged again). An
    unidentified suspect given an identifier becomes identified, as at ``add_suspect``."""
    idents = _identifiers(identifiers)
    if not idents:
        raise CaseError(t_("Give at least one identifier as kind=value."))
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        suspect = _suspect(conn, case_id, label)
        have = {
            (k, v)
            for k, v in conn.execute(
                select(SuspectIdentifier.kind, SuspectIdentifier.value).where(
                    SuspectIdentifier.suspect_id == suspect.id
                )
            )
        }
        new: list[dict[str, str]] = []
        for ident in idents:
            pair = (ident["kind"], ident["value"])
            if pair not in have:
                have.add(pair)
                new.append(ident)
        if not new:
            return []
        conn.execute(insert(SuspectIdentifier), [{"suspect_id": suspect.id, **i} for i in new])
        data: dict[str, object] = {
            "suspect_id": suspect.id, "label": label, "identifiers_added": new,
        }  # fmt: skip
        if suspect.status == SuspectStatus.UNIDENTIFIED.value:
            conn.execute(
                update(CaseSuspect)
                .where(CaseSuspect.id == suspect.id)
                .values(status=SuspectStatus.IDENTIFIED.value)
            )
            data.update({"from": suspect.status, "to": SuspectStatus.IDENTIFIED.value})
        ev.record(app, conn, case_id, ev.SUSPECT_UPDATED, data)
    return new


def add_suspect_identifier(app: App, case: int | str, label: str, kind: str, value: str) -> bool:
    """One identifier (see :func:`add_suspect_identifiers`); whether it was new."""
    return bool(add_suspect_identifiers(app, case, label, [(kind, value)]))


CORRECTABLE = ("apprehended", "detained")  # the times statistics count


def correct_suspect_time(
    app: App, case: int | str, label: str, which: str, at: str, *, reason: str
) -> str | None:
    """Correct a recorded apprehension (검거) or detention (구속) time, with the reason.

    The custody event keeps the earlier time beside the new one and the reason, so what a
    report or a court may have been shown stays on record. Returns the earlier time, or
    None when the time is already the one given (nothing changes, nothing is logged).
    """
    if which not in CORRECTABLE:
        raise CaseError(
            t_(
                "Only the apprehension or detention time can be corrected (apprehended or "
                "detained), not {which!r}.",
                which=which,
            )
        )
    reason = " ".join(reason.split())
    if not reason or len(reason) > 500:
        raise CaseError(
            t_(
                "Give the reason for the correction (up to 500 characters); "
                "the custody log keeps it."
            )
        )
    when, unix = ev.parse_when(at)
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        suspect = _suspect(conn, case_id, label)
        before = suspect.apprehended_at if which == "apprehended" else suspect.detained_at
        if before is None and which == "apprehended":
            raise CaseError(
                t_(
                    "Suspect {label} has no recorded apprehension time to correct: "
                    "record the apprehension first.",
                    label=label,
                )
            )
        if before is None:
            raise CaseError(
                t_(
                    "Suspect {label} has no recorded detention time to correct: "
                    "record the detention first.",
                    label=label,
                )
            )
        if before == when:
            return None
        caught = unix if which == "apprehended" else suspect.apprehended_unix
        held = unix if which == "detained" else suspect.detained_unix
        _in_order(label, caught, held)
        values = (
            {"apprehended_at": when, "apprehended_unix": unix}
            if which == "apprehended"
            else {"detained_at": when, "detained_unix": unix}
        )
        conn.execute(update(CaseSuspect).where(CaseSuspect.id == suspect.id).values(**values))
        ev.record(
            app,
            conn,
            case_id,
            ev.SUSPECT_UPDATED,
            {
                "suspect_id": suspect.id,
                "label": label,
                "corrected": f"{which}_at",
                "from": before,
                "to": when,
                "reason": reason,
            },
        )
    return str(before)


def _in_order(label: str, apprehended: int | None, detained: int | None) -> None:
    """A suspect is not detained before being apprehended (a status change and a time
    correction both keep the two times in this order)."""
    if apprehended is not None and detained is not None and detained < apprehended:
        raise CaseError(
            t_("Suspect {label} cannot be detained before being apprehended.", label=label)
        )
