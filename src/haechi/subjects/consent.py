"""Consent records: checking a consent as stated, recording, renewing, withdrawing.

A consent says who gave it (the subject, or her guardian or representative), when, for
what (:class:`~haechi.subjects.model.ConsentScope`), until when, under which paper
reference, and which staff member recorded it. Searches and links check it at the moment
they run; withdrawing one takes effect at once and deletes kept photos when no other
active consent still allows keeping them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from haechi.app import App
from haechi.i18n import t_
from haechi.store.custody import Draft, utc_now
from haechi.store.tables.faces import Consent, SubjectPhoto, SubjectTemplate
from haechi.subjects import photos as photo_store
from haechi.subjects.model import (
    ConsentInfo,
    ConsentScope,
    Relation,
    SubjectError,
    parse_day,
    parse_scope,
    today,
)

CONSENT_RECORDED = "consent_recorded"
CONSENT_WITHDRAWN = "consent_withdrawn"
PHOTOS_DELETED = "subject_photos_deleted"


@dataclass(frozen=True)
class ConsentRequest:
    """A consent as the paperwork states it."""

    given_by: str  # the person who consented (the subject, or her guardian)
    scope: Sequence[str] | str
    given_at: str  # YYYY-MM-DD (or an ISO time)
    relation: str = Relation.SELF.value
    valid_until: str | None = None  # YYYY-MM-DD, inclusive
    reference: str | None = None  # the signed form's number


def check_consent(req: ConsentRequest) -> tuple[list[ConsentScope], str]:
    if not req.given_by.strip():
        raise SubjectError(t_("A consent must name who gave it (--consented-by)."))
    try:
        relation = Relation(req.relation.strip().lower()).value
    except ValueError:
        known = ", ".join(r.value for r in Relation)
        raise SubjectError(
            t_("Unknown relation {relation!r}; known: {known}.", relation=req.relation, known=known)
        ) from None
    scopes = parse_scope(list(req.scope) if not isinstance(req.scope, str) else req.scope)
    given = parse_day(req.given_at, t_("The consent date"))
    if given > today():
        raise SubjectError(
            t_("The consent date {given_at} is in the future.", given_at=req.given_at)
        )
    if req.valid_until:
        until = parse_day(req.valid_until, t_("The end of the consent"))
        if until < given:
            raise SubjectError(t_("The consent ends before it was given."))
        if until < today():
            raise SubjectError(
                t_("That consent already ended on {valid_until}.", valid_until=req.valid_until)
            )
    return scopes, relation


def consent_row(
    subject_id: int, req: ConsentRequest, scopes: list[ConsentScope], relation: str, staff: str
) -> dict[str, object]:
    return {
        "subject_id": subject_id,
        "given_by": req.given_by.strip(),
        "relation": relation,
        "given_at": req.given_at.strip(),
        "scope": ",".join(s.value for s in scopes),
        "valid_until": req.valid_until.strip() if req.valid_until else None,
        "reference": req.reference,
        "recorded_by": staff,
        "recorded_at": utc_now(),
        "withdrawn_at": None,
        "withdrawn_by": None,
    }


def consent_event(subject_id: int, consent_id: int, row: dict[str, object]) -> Draft:
    return Draft(
        CONSENT_RECORDED,
        f"subject:{subject_id}",
        {
            "consent_id": consent_id,
            "relation": row["relation"],
            "given_at": row["given_at"],
            "scope": row["scope"],
            "valid_until": row["valid_until"],
            "reference": row["reference"],
            "recorded_by": row["recorded_by"],
        },
    )


def record_consent(app: App, subject_id: int, consent: ConsentRequest, staff: str) -> ConsentInfo:
    """Add a consent record (a renewal or a wider scope) to an active subject."""
    from haechi.subjects.service import active_subject

    active_subject(app, subject_id)
    scopes, relation = check_consent(consent)
    with app.db.begin() as conn:
        row = consent_row(subject_id, consent, scopes, relation, staff)
        cid = int(conn.execute(insert(Consent).values(**row).returning(Consent.id)).scalar_one())
        app.custody.append_many(conn, [consent_event(subject_id, cid, row)])
    from haechi.subjects.service import get_subject

    info = get_subject(app, subject_id)
    assert info is not None
    return next(c for c in info.consents if c.id == cid)


def withdraw_consent(app: App, subject_id: int, consent_id: int, staff: str) -> None:
    """Withdraw one consent. Searches need another active consent from then on; kept
    photos are deleted when no active consent still allows keeping them."""
    from haechi.subjects.service import active_subject

    active_subject(app, subject_id)
    now = utc_now()
    with app.db.begin() as conn:
        done = conn.execute(
            update(Consent)
            .where(
                Consent.id == consent_id,
                Consent.subject_id == subject_id,
                Consent.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=now, withdrawn_by=staff)
        ).rowcount
        if not done:
            raise SubjectError(
                t_(
                    "Subject {subject_id} has no open consent {consent_id}.",
                    subject_id=subject_id,
                    consent_id=consent_id,
                )
            )
        app.custody.append_many(
            conn,
            [
                Draft(
                    CONSENT_WITHDRAWN,
                    f"subject:{subject_id}",
                    {"consent_id": consent_id, "staff": staff},
                )
            ],
        )
    from haechi.subjects.service import get_subject

    info = get_subject(app, subject_id)
    if info is not None and info.consent_for(ConsentScope.KEEP_PHOTOS) is None and info.photos:
        _drop_photos(app, subject_id, staff, "the consent to keep photos was withdrawn")


def _drop_photos(app: App, subject_id: int, staff: str, why: str) -> int:
    with app.db.begin() as conn:
        rows = conn.execute(
            select(SubjectPhoto.id, SubjectPhoto.stored_name, SubjectPhoto.sha256).where(
                SubjectPhoto.subject_id == subject_id
            )
        ).all()
        if not rows:
            return 0
        ids = [r[0] for r in rows]
        conn.execute(
            update(SubjectTemplate).where(SubjectTemplate.photo_id.in_(ids)).values(photo_id=None)
        )
        conn.execute(delete(SubjectPhoto).where(SubjectPhoto.id.in_(ids)))
        app.custody.append_many(
            conn,
            [
                Draft(
                    PHOTOS_DELETED,
                    f"subject:{subject_id}",
                    {"photo_sha256": [r[2] for r in rows], "why": why, "staff": staff},
                )
            ],
        )
    for _, name, _ in rows:
        photo_store.delete_photo(app, name)
    return len(rows)
