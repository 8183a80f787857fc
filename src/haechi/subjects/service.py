"""Subjects: enrolment with a consent record, consent changes, listing, deletion.

Every change is a custody event written in the same transaction. Custody events are
permanent, so they carry the subject's id and case label, never a name, a photo or a
template. Deleting a subject removes her templates and kept photos, wipes the name and
notes, unlinks her clusters and withdraws her consents; the consent records stay (without
the consenting person's name) as the legal basis of the searches already run, and the
search log stays as the record of who looked.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.i18n import t_
from haechi.store.custody import Draft, utc_now
from haechi.store.tables.faces import (
    Consent,
    FaceCluster,
    Subject,
    SubjectPhoto,
    SubjectTemplate,
)
from haechi.subjects import photos as photo_store
from haechi.subjects.consent import (
    ConsentRequest,
    check_consent,
    consent_event,
    consent_row,
)
from haechi.subjects.enroll import Reference, read_photo_file, reference_from_bytes
from haechi.subjects.model import (
    ConsentInfo,
    ConsentScope,
    SubjectError,
    SubjectInfo,
    TemplateInfo,
)

SUBJECT_ENROLLED = "subject_enrolled"
SUBJECT_DELETED = "subject_deleted"

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
REMOVED = "(removed with the subject)"


def check_new_label(app: App, label: str) -> str:
    """``label`` stripped, if it is a case code no subject has; else a sentence."""
    label = label.strip()
    if not _LABEL.fullmatch(label):
        raise SubjectError(
            t_(
                "A subject label is a case code of letters, digits, '.', '_' "
                "or '-' (at most 64), not {label!r}; never use her name as "
                "the label.",
                label=label,
            )
        )
    with app.db.connect() as conn:
        if conn.execute(select(Subject.id).where(Subject.label == label)).first():
            raise SubjectError(t_("There is already a subject labelled {label!r}.", label=label))
    return label


def enroll_subject(
    app: App,
    *,
    label: str,
    photos: Sequence[Path | tuple[str, bytes]],
    consent: ConsentRequest,
    staff: str,
    display_name: str | None = None,
    notes: str | None = None,
    is_minor: bool = False,
) -> tuple[SubjectInfo, list[str]]:
    """Enrol a subject from reference photos under a consent. Returns her record and the
    warnings about weak photos. Only templates are kept unless the consent's scope
    includes ``keep_photos``."""
    label = check_new_label(app, label)
    scopes, relation = check_consent(consent)
    if not photos:
        raise SubjectError(t_("Enrolment needs at least one reference photo (--photo)."))
    refs: list[Reference] = []
    for item in photos:
        if isinstance(item, Path):
            refs.append(reference_from_bytes(item.name, read_photo_file(item)))
        else:
            refs.append(reference_from_bytes(item[0], item[1]))
    check_new_label(app, label)  # again: another enrolment may have taken it meanwhile
    keep = ConsentScope.KEEP_PHOTOS in scopes
    stored: list[tuple[str, str, int]] = []  # (stored name, sha256, size)
    try:
        if keep:
            for ref in refs:
                name, sha = photo_store.store_photo(app, ref.data)
                stored.append((name, sha, len(ref.data)))
        subject_id = _write_enrolment(
            app,
            label,
            refs,
            stored,
            consent,
            scopes,
            relation,
            staff,
            display_name,
            notes,
            is_minor,
        )
    except BaseException:
        for name, _, _ in stored:  # nothing was committed: leave no photo behind
            photo_store.delete_photo(app, name)
        raise
    info = get_subject(app, subject_id)
    assert info is not None
    return info, [w for r in refs for w in r.warnings]


def _write_enrolment(
    app: App,
    label: str,
    refs: list[Reference],
    stored: list[tuple[str, str, int]],
    consent: ConsentRequest,
    scopes: list[ConsentScope],
    relation: str,
    staff: str,
    display_name: str | None,
    notes: str | None,
    is_minor: bool,
) -> int:
    now = utc_now()
    with app.db.begin() as conn:
        subject_id = int(
            conn.execute(
                insert(Subject)
                .values(
                    label=label,
                    display_name=display_name,
                    notes=notes,
                    is_minor=is_minor,
                    status="active",
                    created_at=now,
                    created_by=staff,
                )
                .returning(Subject.id)
            ).scalar_one()
        )
        row = consent_row(subject_id, consent, scopes, relation, staff)
        consent_id = int(
            conn.execute(insert(Consent).values(**row).returning(Consent.id)).scalar_one()
        )
        photo_ids: list[int | None] = []
        for name, sha, size in stored:
            photo_ids.append(
                int(
                    conn.execute(
                        insert(SubjectPhoto)
                        .values(
                            subject_id=subject_id,
                            sha256=sha,
                            size=size,
                            stored_name=name,
                            created_at=now,
                            created_by=staff,
                        )
                        .returning(SubjectPhoto.id)
                    ).scalar_one()
                )
            )
        photo_ids += [None] * (len(refs) - len(photo_ids))
        conn.execute(
            insert(SubjectTemplate),
            [
                {
                    "subject_id": subject_id,
                    "photo_id": pid,
                    "photo_sha256": ref.sha256,
                    "embedding": codec.to_bytes(ref.embedding),  # type: ignore[arg-type]
                    "model": codec.MODEL,
                    "score": ref.score,
                    "size": ref.size,
                    "sharpness": ref.sharpness,
                    "created_at": now,
                    "created_by": staff,
                }
                for ref, pid in zip(refs, photo_ids, strict=True)
            ],
        )
        app.custody.append_many(
            conn,
            [
                Draft(
                    SUBJECT_ENROLLED,
                    f"subject:{subject_id}",
                    {
                        "label": label,
                        "templates": len(refs),
                        "model": codec.MODEL,
                        "reference_photo_sha256": [r.sha256 for r in refs],
                        "photos_kept": bool(stored),
                        "is_minor": is_minor,
                        "staff": staff,
                    },
                ),
                consent_event(subject_id, consent_id, row),
            ],
        )
    return subject_id


def delete_subject(app: App, subject_id: int, staff: str, reason: str) -> dict[str, int]:
    """Remove a subject's templates and photos and wipe her personal details; leaves a
    custody event and the (anonymised) consent and search records."""
    if not reason.strip():
        raise SubjectError(
            t_("Give the reason for deleting the subject; the custody log keeps it.")
        )
    active_subject(app, subject_id)
    now = utc_now()
    with app.db.begin() as conn:
        photo_rows = conn.execute(
            select(SubjectPhoto.stored_name, SubjectPhoto.sha256).where(
                SubjectPhoto.subject_id == subject_id
            )
        ).all()
        templates = conn.execute(
            delete(SubjectTemplate).where(SubjectTemplate.subject_id == subject_id)
        ).rowcount
        conn.execute(delete(SubjectPhoto).where(SubjectPhoto.subject_id == subject_id))
        unlinked = conn.execute(
            update(FaceCluster)
            .where(FaceCluster.subject_id == subject_id)
            .values(subject_id=None, linked_by=None, linked_at=None, link_reason=None)
        ).rowcount
        conn.execute(
            update(Consent)
            .where(Consent.subject_id == subject_id, Consent.withdrawn_at.is_(None))
            .values(withdrawn_at=now, withdrawn_by=staff)
        )
        conn.execute(
            update(Consent).where(Consent.subject_id == subject_id).values(given_by=REMOVED)
        )
        conn.execute(
            update(Subject)
            .where(Subject.id == subject_id)
            .values(
                status="deleted",
                display_name=None,
                notes=None,
                deleted_at=now,
                deleted_by=staff,
                delete_reason=reason,
            )
        )
        summary = {
            "templates": int(templates or 0),
            "photos": len(photo_rows),
            "clusters_unlinked": int(unlinked or 0),
        }
        app.custody.append_many(
            conn,
            [
                Draft(
                    SUBJECT_DELETED,
                    f"subject:{subject_id}",
                    {
                        **summary,
                        "photo_sha256": [r[1] for r in photo_rows],
                        "reason": reason,
                        "staff": staff,
                    },
                )
            ],
        )
    for name, _ in photo_rows:  # after the commit: a failed unlink is found by purge
        photo_store.delete_photo(app, name)
    return summary


def purge_orphan_photos(app: App) -> int:
    """Delete photo files no subject record refers to (left by a crash mid-deletion)."""
    folder = app.settings.home / "subjects" / "photos"
    if not folder.is_dir():
        return 0
    with app.db.connect() as conn:
        known = set(conn.execute(select(SubjectPhoto.stored_name)).scalars())
    removed = 0
    for path in folder.iterdir():
        if path.name.startswith(".") or path.name not in known:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def active_subject(app: App, subject_id: int) -> None:
    info = get_subject(app, subject_id)
    if info is None:
        raise SubjectError(t_("There is no subject {subject_id}.", subject_id=subject_id))
    if info.status != "active":
        raise SubjectError(t_("Subject {subject_id} was deleted.", subject_id=subject_id))


def get_subject(app: App, ref: int | str) -> SubjectInfo | None:
    """A subject by id or by label (``"17"``, ``17`` or ``"V-2024-017"``), or None."""
    with app.db.connect() as conn:
        q = select(Subject.__table__)
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            q = q.where(Subject.id == int(ref))
        else:
            q = q.where(Subject.label == str(ref))
        subject = conn.execute(q).first()
        return None if subject is None else _infos(conn, [subject])[0]


def list_subjects(
    app: App,
    *,
    include_deleted: bool = False,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[SubjectInfo]:
    """The subjects by id (``newest_first``: the newest first), ``limit`` at a time."""
    with app.db.connect() as conn:
        q = select(Subject.__table__)
        q = q.order_by(Subject.id.desc() if newest_first else Subject.id)
        if not include_deleted:
            q = q.where(Subject.status == "active")
        if limit is not None:
            q = q.limit(limit).offset(offset)
        return _infos(conn, conn.execute(q).all())


def _infos(conn: Connection, subjects: Sequence[Any]) -> list[SubjectInfo]:
    """Subjects' rows with their consents, templates, photos and clusters, read a few
    queries for any number of them (the list read five queries a subject)."""
    consents: dict[int, list[Any]] = defaultdict(list)
    templates: dict[int, list[Any]] = defaultdict(list)
    photos: dict[int, int] = defaultdict(int)
    clusters: dict[int, list[Any]] = defaultdict(list)
    ids = [s.id for s in subjects]
    for part in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for c in conn.execute(
            select(Consent.__table__).where(Consent.subject_id.in_(part)).order_by(Consent.id)
        ):
            consents[c.subject_id].append(c)
        for t in conn.execute(
            select(SubjectTemplate.__table__)
            .where(SubjectTemplate.subject_id.in_(part))
            .order_by(SubjectTemplate.id)
        ):
            templates[t.subject_id].append(t)
        for sid, n in conn.execute(
            select(SubjectPhoto.subject_id, func.count())
            .where(SubjectPhoto.subject_id.in_(part))
            .group_by(SubjectPhoto.subject_id)
        ):
            photos[sid] = int(n)
        for c in conn.execute(
            select(FaceCluster.subject_id, FaceCluster.id, FaceCluster.apparent_minor)
            .where(FaceCluster.subject_id.in_(part))
            .order_by(FaceCluster.id)
        ):
            clusters[c.subject_id].append(c)
    return [
        _info(s, consents[s.id], templates[s.id], photos[s.id], clusters[s.id]) for s in subjects
    ]


def _info(
    subject: Any, consents: list[Any], templates: list[Any], photos: int, clusters: list[Any]
) -> SubjectInfo:
    return SubjectInfo(
        id=subject.id,
        label=subject.label,
        display_name=subject.display_name,
        notes=subject.notes,
        is_minor=bool(subject.is_minor),
        status=subject.status,
        created_at=subject.created_at,
        created_by=subject.created_by,
        consents=[
            ConsentInfo(
                id=c.id,
                given_by=c.given_by,
                relation=c.relation,
                given_at=c.given_at,
                scope=[s for s in c.scope.split(",") if s],
                valid_until=c.valid_until,
                reference=c.reference,
                recorded_by=c.recorded_by,
                recorded_at=c.recorded_at,
                withdrawn_at=c.withdrawn_at,
            )
            for c in consents
        ],
        templates=[
            TemplateInfo(
                id=t.id,
                photo_sha256=t.photo_sha256,
                photo_kept=t.photo_id is not None,
                score=t.score,
                size=t.size,
                sharpness=t.sharpness,
                created_at=t.created_at,
            )
            for t in templates
        ],
        photos=photos,
        clusters=[c.id for c in clusters],
        minor_clusters=[c.id for c in clusters if c.apparent_minor],
    )


def subject_templates(app: App, subject_id: int) -> list[bytes]:
    with app.db.connect() as conn:
        return [
            bytes(r)
            for r in conn.execute(
                select(SubjectTemplate.embedding).where(SubjectTemplate.subject_id == subject_id)
            ).scalars()
        ]
