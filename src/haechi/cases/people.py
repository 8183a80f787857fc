"""People in a case: victims with their consent records; suspects are in ``suspects``.

Victims are named in exports only by their label (``V1``); their names, contacts and other
identifiers stay in ``case_subjects`` and the custody log holds a salted commitment. A
consent is recorded per scope (takedown, face search, evidence sharing, contact) and each
use checks its own scope. Under 14, consent comes from a guardian or legal representative
(Personal Information Protection Act Art. 22-2). The suspect services
(``haechi.cases.suspects``) are re-exported here, so callers import them from either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from sqlalchemy import Connection, insert, select, update

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases import seams
from haechi.cases.model import (
    CaseError,
    ConsentScope,
    age_band,
    check_age,
    parse_age_band,
)
from haechi.cases.rows import Row, get
from haechi.cases.service import case_row
from haechi.cases.suspects import CORRECTABLE as CORRECTABLE
from haechi.cases.suspects import IDENTIFIER_KINDS as IDENTIFIER_KINDS
from haechi.cases.suspects import _identifiers, _next_label
from haechi.cases.suspects import add_suspect as add_suspect
from haechi.cases.suspects import add_suspect_identifier as add_suspect_identifier
from haechi.cases.suspects import add_suspect_identifiers as add_suspect_identifiers
from haechi.cases.suspects import correct_suspect_time as correct_suspect_time
from haechi.cases.suspects import set_suspect_status as set_suspect_status
from haechi.i18n import t_
from haechi.store.tables.cases import CaseConsent, CaseSubject

GIVEN_BY = ("subject", "guardian", "representative")
METHODS = ("written", "electronic", "verbal")
MINOR_AGE = 19  # 아동·청소년: under 19 (Act on the Protection of Children and Youth)
GUARDIAN_AGE = 14
_SHA = re.compile(r"[0-9a-f]{64}")


def _subject(conn: Connection, case_id: int, label: str) -> Row:
    row = conn.execute(
        select(CaseSubject).where(CaseSubject.case_id == case_id, CaseSubject.label == label)
    ).first()
    if row is None:
        raise CaseError(t_("The case has no victim {label!r}.", label=label))
    return row


def _victim_record(s: Row) -> dict[str, object]:
    return {
        "display_name": s.display_name,
        "contact": s.contact,
        "identifiers": json.loads(s.identifiers_json or "[]"),
        "age": s.age,
    }


def add_victim(
    app: App,
    case: int | str,
    *,
    display_name: str | None = None,
    contact: str | None = None,
    identifiers: Sequence[tuple[str, str]] = (),
    age: int | None = None,
    band: str | None = None,
    is_minor: bool | None = None,
) -> str:
    """Record a victim; returns the label exports use (``V1``, ``V2``, ...)."""
    check_age(age)
    band = parse_age_band(band)
    idents = _identifiers(identifiers)
    minor = is_minor if is_minor is not None else (age is not None and age < MINOR_AGE)
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        label = _next_label(conn, CaseSubject, case_id, "V")
        nonce = ev.new_nonce()
        subject_id = conn.execute(
            insert(CaseSubject)
            .values(
                case_id=case_id,
                label=label,
                role="victim",
                display_name=display_name.strip() if display_name else None,
                contact=contact.strip() if contact else None,
                identifiers_json=json.dumps(idents, ensure_ascii=False) if idents else None,
                age=age,
                age_band=band,
                is_minor=minor,
                nonce=nonce,
                created_at=ev.now_iso(),
                created_by=app.settings.operator,
            )
            .returning(CaseSubject.id)
        ).scalar_one()
        row = get(conn, CaseSubject, subject_id)
        assert row is not None
        ev.record(
            app,
            conn,
            case_id,
            ev.CASE_SUBJECT_ADDED,
            {
                "subject_id": subject_id,
                "label": label,
                "role": "victim",
                "age_band": age_band(age, band).value,
                "is_minor": minor,
                "record_sha256": ev.commitment(_victim_record(row), nonce),
            },
        )
    return label


def set_victim_minor(app: App, case: int | str, label: str, is_minor: bool) -> None:
    """The staff-set minor flag: it routes notices to stopCA and cites the Child/Youth Act."""
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        subject = _subject(conn, case_id, label)
        if bool(subject.is_minor) == is_minor:
            return
        conn.execute(
            update(CaseSubject).where(CaseSubject.id == subject.id).values(is_minor=is_minor)
        )
        ev.record(
            app,
            conn,
            case_id,
            ev.CASE_SUBJECT_UPDATED,
            {"subject_id": subject.id, "label": label, "is_minor": is_minor},
        )


def link_faces_subject(app: App, case: int | str, label: str, faces_subject_ref: str) -> None:
    """Tie a victim to the faces capability's subject (their reference templates).

    Needs the victim's consent to face search: a template is searched for only with it.
    """
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        subject = _subject(conn, case_id, label)
        if not _has_consent(conn, subject.id, ConsentScope.FACE_SEARCH):
            raise CaseError(
                t_(
                    "Victim {label} has no consent record for face search: "
                    "record it before linking their face subject.",
                    label=label,
                )
            )
        known = seams.faces_subject_exists(app, faces_subject_ref)
        if known is False:
            raise CaseError(
                t_(
                    "The faces capability has no subject {faces_subject_ref!r}.",
                    faces_subject_ref=faces_subject_ref,
                )
            )
        conn.execute(
            update(CaseSubject)
            .where(CaseSubject.id == subject.id)
            .values(faces_subject_ref=faces_subject_ref)
        )
        ev.record(
            app,
            conn,
            case_id,
            ev.CASE_SUBJECT_UPDATED,
            {"subject_id": subject.id, "label": label, "faces_subject_ref": faces_subject_ref},
        )


def _has_consent(conn: Connection, subject_id: int, scope: ConsentScope) -> bool:
    return (
        conn.execute(
            select(CaseConsent.id).where(
                CaseConsent.subject_id == subject_id,
                CaseConsent.scope == scope.value,
                CaseConsent.withdrawn_at.is_(None),
            )
        ).first()
        is not None
    )


def record_consent(
    app: App,
    case: int | str,
    label: str,
    scope: str,
    *,
    given_by: str = "subject",
    method: str = "written",
    granted_at: str | None = None,
    document_sha256: str | None = None,
    note: str | None = None,
) -> int:
    try:
        scope_value = ConsentScope(scope).value
    except ValueError:
        known = ", ".join(s.value for s in ConsentScope)
        raise CaseError(
            t_("Unknown consent scope {scope!r}; use one of {known}.", scope=scope, known=known)
        ) from None
    if given_by not in GIVEN_BY:
        raise CaseError(
            t_(
                "Consent is given by one of {given_by}, not {given!r}.",
                given_by=", ".join(GIVEN_BY),
                given=given_by,
            )
        )
    if method not in METHODS:
        raise CaseError(
            t_(
                "Consent is recorded as {methods}, not {method!r}.",
                methods=", ".join(METHODS),
                method=method,
            )
        )
    if document_sha256 is not None and not _SHA.fullmatch(document_sha256):
        raise CaseError(
            t_("The consent document's hash must be 64 lowercase hex digits (SHA-256).")
        )
    when, _ = ev.parse_when(granted_at)
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        subject = _subject(conn, case_id, label)
        if given_by == "subject" and subject.age is not None and subject.age < GUARDIAN_AGE:
            raise CaseError(
                t_(
                    "Victim {label} is under {guardian_age}: consent must come "
                    "from a guardian or legal representative.",
                    label=label,
                    guardian_age=GUARDIAN_AGE,
                )
            )
        consent_id = conn.execute(
            insert(CaseConsent)
            .values(
                subject_id=subject.id,
                scope=scope_value,
                given_by=given_by,
                method=method,
                document_sha256=document_sha256,
                note=note,
                granted_at=when,
                recorded_by=app.settings.operator,
            )
            .returning(CaseConsent.id)
        ).scalar_one()
        ev.record(
            app,
            conn,
            case_id,
            ev.CONSENT_RECORDED,
            {
                "consent_id": consent_id,
                "label": label,
                "scope": scope_value,
                "given_by": given_by,
                "method": method,
                "granted_at": when,
                "document_sha256": document_sha256,
            },
        )
    return consent_id


def withdraw_consent(app: App, case: int | str, consent_id: int, *, at: str | None = None) -> None:
    when, _ = ev.parse_when(at)
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        consent = get(conn, CaseConsent, consent_id)
        subject = get(conn, CaseSubject, consent.subject_id) if consent is not None else None
        if consent is None or subject is None or subject.case_id != case_id:
            raise CaseError(
                t_("The case has no consent record {consent_id}.", consent_id=consent_id)
            )
        if consent.withdrawn_at is not None:
            return
        conn.execute(
            update(CaseConsent).where(CaseConsent.id == consent_id).values(withdrawn_at=when)
        )
        ev.record(
            app,
            conn,
            case_id,
            ev.CONSENT_WITHDRAWN,
            {"consent_id": consent_id, "label": subject.label, "scope": consent.scope, "at": when},
        )
