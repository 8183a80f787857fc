"""Notices: draft from a case, keep the exact text, track it until the content is gone.

Status moves forward only: drafted → sent → acknowledged → decided → removed →
re-uploaded (acknowledged and decided may be skipped: Telegram's automated address often
just removes). Each change carries the time it happened, which may be earlier than when it
is recorded, and may not be earlier than the step before it. Time to removal is measured
from *sent* to *removed*.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, insert, select, update

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases import seams, visibility
from haechi.cases.detail import case_detail
from haechi.cases.model import CaseError
from haechi.cases.notices.compose import Notifier, compose
from haechi.cases.notices.recipients import check_language, resolve
from haechi.cases.rows import Row, get
from haechi.cases.service import case_row
from haechi.i18n import t_
from haechi.store.tables.cases import (
    Notice,
    NoticeItem,
    NoticeTransition,
    NotifierProfile,
)

STATUSES = ("drafted", "sent", "acknowledged", "decided", "removed", "reuploaded")
DECISIONS = ("removed", "rejected", "partial", "geo_blocked")
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
_PROFILE_KEY = re.compile(r"[\w.\-]{1,64}")


@dataclass(frozen=True)
class NoticeView:
    id: int
    case_id: int
    case_ref: str
    recipient: str
    language: str
    to_address: str | None
    subject: str
    body: str
    body_sha256: str
    status: str
    created_at: str
    sent_unix: int | None
    acknowledged_unix: int | None
    decided_unix: int | None
    decision: str | None
    removed_unix: int | None
    reuploaded_unix: int | None
    external_ref: str | None
    urls: tuple[str, ...]
    item_ids: tuple[int, ...]
    concerns_minor: bool
    notifier: dict[str, str | None] | None

    @property
    def hours_to_removal(self) -> float | None:
        if self.sent_unix is None or self.removed_unix is None:
            return None
        return (self.removed_unix - self.sent_unix) / 3600


@dataclass(frozen=True)
class DraftResult:
    notice: NoticeView
    warnings: list[str]


# -- notifier profiles -----------------------------------------------------------------
def set_profile(
    app: App,
    key: str,
    *,
    person_name: str | None = None,
    email: str | None = None,
    organisation: str | None = None,
    phone: str | None = None,
    role: str | None = None,
    default: bool = True,
) -> None:
    if not _PROFILE_KEY.fullmatch(key):
        raise CaseError(
            t_("{key!r} is not a valid profile name (letters, digits, - _ .).", key=key)
        )
    if email is not None and not _EMAIL.fullmatch(email.strip()):
        raise CaseError(t_("{email!r} is not an e-mail address.", email=email))
    values = {
        "person_name": person_name,
        "email": email.strip() if email else None,
        "organisation": organisation,
        "phone": phone,
        "role": role,
        "is_default": default,
    }
    with app.db.begin() as conn:
        if default:
            conn.execute(update(NotifierProfile).values(is_default=False))
        existing = conn.execute(
            select(NotifierProfile.id).where(NotifierProfile.key == key)
        ).first()
        if existing is None:
            conn.execute(insert(NotifierProfile).values(key=key, **values))
        else:
            conn.execute(
                update(NotifierProfile).where(NotifierProfile.id == existing[0]).values(**values)
            )


def get_profile(app: App, key: str | None = None) -> Notifier | None:
    with app.db.connect() as conn:
        stmt = select(NotifierProfile)
        stmt = (
            stmt.where(NotifierProfile.key == key)
            if key
            else stmt.where(NotifierProfile.is_default.is_(True))
        )
        row = conn.execute(stmt.limit(1)).first()
    if row is None:
        if key:
            raise CaseError(t_("There is no notifier profile {key!r}.", key=key))
        return None
    return Notifier(row.person_name, row.email, row.organisation, row.phone, row.role)


# -- drafting --------------------------------------------------------------------------
def draft_notice(
    app: App,
    case: int | str,
    recipient: str,
    language: str | None = None,
    *,
    item_ids: Sequence[int] | None = None,
    profile: str | None = None,
    notifier: Notifier | None = None,
    to_address: str | None = None,
    legal_basis: Sequence[str] = (),
    include_victim_identity: bool = False,
    withhold_notifier: bool = False,
) -> DraftResult:
    """Draft a notice from the case's items (all active items with a link, or ``item_ids``)."""
    detail = case_detail(app, case)
    minor_reasons = [
        f"victim {v.label} is recorded as a minor" for v in detail.victims if v.is_minor
    ]
    minor_reasons += [
        f"victim {v.label}'s face subject is recorded as a minor"
        for v in detail.victims
        if v.faces_subject_ref and seams.faces_subject_is_minor(app, v.faces_subject_ref)
    ]
    minor_reasons += seams.files_show_minor(
        app, sorted({i.blob_sha256 for i in detail.active_items() if i.blob_sha256})
    )
    minor = bool(minor_reasons)
    target = resolve(recipient, concerns_minor=minor)
    lang = check_language(language or target.default_language)
    if to_address is not None and not _EMAIL.fullmatch(to_address.strip()):
        raise CaseError(t_("{to_address!r} is not an e-mail address.", to_address=to_address))
    who = notifier or get_profile(app, profile)
    revealed = (
        case_detail(app, case, reveal_victims=True).victims if include_victim_identity else None
    )
    with app.db.begin() as conn:
        case_id = case_row(conn, case).id
        notice_id = conn.execute(
            insert(Notice)
            .values(
                case_id=case_id,
                recipient=target.key.value,
                language=lang,
                to_address=(to_address or target.address),
                subject_line="",
                body="",
                body_sha256="",
                concerns_minor=minor,
                status="drafted",
                created_at=ev.now_iso(),
                created_by=app.settings.operator,
            )
            .returning(Notice.id)
        ).scalar_one()
        composed = compose(
            detail,
            target,
            lang,
            item_ids=item_ids,
            notifier=who,
            legal_basis=legal_basis,
            revealed_victims=revealed,
            withhold_notifier=withhold_notifier,
            notice_number=f"N{notice_id}",
            minor=minor,
        )
        digest = hashlib.sha256(composed.body.encode()).hexdigest()
        conn.execute(
            update(Notice)
            .where(Notice.id == notice_id)
            .values(
                subject_line=composed.subject,
                body=composed.body,
                body_sha256=digest,
                notifier_json=json.dumps(asdict(composed.notifier), ensure_ascii=False)
                if composed.notifier
                else None,
            )
        )
        rows = [
            {"notice_id": notice_id, "case_item_id": iid, "url": entry.url}
            for entry in composed.entries
            for iid in entry.item_ids
        ]
        conn.execute(insert(NoticeItem), rows)
        at, unix = ev.parse_when(None)
        _transition(conn, app, notice_id, "drafted", at, unix, None)
        ev.record(
            app,
            conn,
            case_id,
            ev.NOTICE_DRAFTED,
            {
                "notice_id": notice_id,
                "recipient": target.key.value,
                "language": lang,
                "to": to_address or target.address,
                "subject_sha256": hashlib.sha256(composed.subject.encode()).hexdigest(),
                "body_sha256": digest,
                "urls": [e.url for e in composed.entries],
                "items": [r["case_item_id"] for r in rows],
                "victim_identity_included": bool(revealed),
                "concerns_minor": minor,
                "minor_reasons": minor_reasons,
            },
        )
    return DraftResult(get_notice(app, notice_id), composed.warnings)


def _transition(
    conn: Connection, app: App, notice_id: int, status: str, at: str, unix: int, note: str | None
) -> None:
    conn.execute(
        insert(NoticeTransition).values(
            notice_id=notice_id,
            status=status,
            at=at,
            at_unix=unix,
            recorded_at=ev.now_iso(),
            recorded_by=app.settings.operator,
            note=note,
        )
    )


# -- reading ---------------------------------------------------------------------------
def _view(
    conn: Connection,
    n: Row,
    ref: str | None = None,
    links: Sequence[tuple[int, str]] | None = None,
) -> NoticeView:
    """The notice as shown; ``ref`` and ``links`` when the caller read them for many."""
    from haechi.store.tables.cases import Case

    if ref is None:
        ref = conn.execute(select(Case.ref).where(Case.id == n.case_id)).scalar_one()
    if links is None:
        links = _links_of(conn, [n.id]).get(n.id, [])
    return NoticeView(
        id=n.id,
        case_id=n.case_id,
        case_ref=ref,
        recipient=n.recipient,
        language=n.language,
        to_address=n.to_address,
        subject=n.subject_line,
        body=n.body,
        body_sha256=n.body_sha256,
        status=n.status,
        created_at=n.created_at,
        sent_unix=n.sent_unix,
        acknowledged_unix=n.acknowledged_unix,
        decided_unix=n.decided_unix,
        decision=n.decision,
        removed_unix=n.removed_unix,
        reuploaded_unix=n.reuploaded_unix,
        external_ref=n.external_ref,
        urls=tuple(dict.fromkeys(u for _, u in links)),
        item_ids=tuple(i for i, _ in links),
        concerns_minor=bool(n.concerns_minor),
        notifier=json.loads(n.notifier_json) if n.notifier_json else None,
    )


def _notice(conn: Connection, notice_id: int) -> Row:
    """The notice, if its case is one the caller sees (cases.visibility)."""
    row = get(conn, Notice, notice_id)
    if row is None or not visibility.case_visible(conn, row.case_id):
        raise CaseError(t_("There is no notice {notice_id}.", notice_id=notice_id))
    return row


def get_notice(app: App, notice_id: int) -> NoticeView:
    with app.db.connect() as conn:
        return _view(conn, _notice(conn, notice_id))


def list_notices(
    app: App,
    *,
    case: int | str | None = None,
    status: str | None = None,
    recipient: str | None = None,
) -> list[NoticeView]:
    from haechi.store.tables.cases import Case

    with app.db.connect() as conn:
        stmt = visibility.limit_to_cases(conn, select(Notice).order_by(Notice.id), Notice.case_id)
        if case is not None:
            stmt = stmt.where(Notice.case_id == case_row(conn, case).id)
        if status:
            stmt = stmt.where(Notice.status == status)
        if recipient:
            stmt = stmt.where(Notice.recipient == recipient)
        rows = conn.execute(stmt).all()
        if not rows:
            return []
        # One query each for the cases' references and the notices' items, not two per
        # notice: the case page lists every notice of the case.
        refs = dict(
            conn.execute(
                select(Case.id, Case.ref).where(Case.id.in_({n.case_id for n in rows}))
            ).all()
        )
        links = _links_of(conn, [n.id for n in rows])
        return [_view(conn, n, refs[n.case_id], links.get(n.id, [])) for n in rows]


def _links_of(conn: Connection, notice_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """``{notice id: [(case item id, url)]}`` in the order they were written."""
    out: dict[int, list[tuple[int, str]]] = {}
    for start in range(0, len(notice_ids), 500):
        part = notice_ids[start : start + 500]
        for notice_id, item_id, url in conn.execute(
            select(NoticeItem.notice_id, NoticeItem.case_item_id, NoticeItem.url)
            .where(NoticeItem.notice_id.in_(part))
            .order_by(NoticeItem.id)
        ):
            out.setdefault(notice_id, []).append((item_id, url))
    return out


def transitions(app: App, notice_id: int) -> list[tuple[str, str, str | None]]:
    with app.db.connect() as conn:
        _notice(conn, notice_id)
        return [
            (s, at, note)
            for s, at, note in conn.execute(
                select(NoticeTransition.status, NoticeTransition.at, NoticeTransition.note)
                .where(NoticeTransition.notice_id == notice_id)
                .order_by(NoticeTransition.id)
            )
        ]


# -- tracking --------------------------------------------------------------------------
_TIME_COLUMN = {
    "sent": "sent_unix",
    "acknowledged": "acknowledged_unix",
    "decided": "decided_unix",
    "removed": "removed_unix",
    "reuploaded": "reuploaded_unix",
}


def mark(
    app: App,
    notice_id: int,
    status: str,
    *,
    at: str | None = None,
    note: str | None = None,
    decision: str | None = None,
    external_ref: str | None = None,
) -> NoticeView:
    """Record that a notice was sent, acknowledged, decided, acted on, or re-uploaded."""
    if status not in STATUSES[1:]:
        raise CaseError(
            t_(
                "A notice can be marked {statuses}, not {status!r}.",
                statuses=", ".join(STATUSES[1:]),
                status=status,
            )
        )
    if decision is not None and decision not in DECISIONS:
        raise CaseError(
            t_(
                "A decision is one of {decisions}, not {decision!r}.",
                decisions=", ".join(DECISIONS),
                decision=decision,
            )
        )
    when, unix = ev.parse_when(at)
    with app.db.begin() as conn:
        row = _notice(conn, notice_id)
        apply_status(
            app,
            conn,
            row,
            status,
            when,
            unix,
            note=note,
            decision=decision,
            external_ref=external_ref,
        )
    if status == "removed":
        from haechi.cases.watch import after_removal

        after_removal(app, notice_id)  # near-duplicates, once the removal is committed
    return get_notice(app, notice_id)


def apply_status(
    app: App,
    conn: Connection,
    row: Row,
    status: str,
    when: str,
    unix: int,
    *,
    note: str | None = None,
    decision: str | None = None,
    external_ref: str | None = None,
) -> None:
    """The status change itself, inside the caller's transaction (also used by the watch)."""
    _check_order(row, status, unix)
    values: dict[str, object] = {"status": status, _TIME_COLUMN[status]: unix}
    if status == "decided":
        values["decision"] = decision or "removed"
    if status == "removed" and row.decision is None:
        values["decision"] = "removed"
    if external_ref:
        values["external_ref"] = external_ref
    conn.execute(update(Notice).where(Notice.id == row.id).values(**values))
    _transition(conn, app, row.id, status, when, unix, note)
    ev.record(
        app,
        conn,
        row.case_id,
        ev.NOTICE_STATUS,
        {
            "notice_id": row.id,
            "from": row.status,
            "to": status,
            "at": when,
            "decision": values.get("decision"),
            "external_ref": external_ref,
        },
    )
    if status == "removed":
        from haechi.cases.watch import register_removed

        register_removed(app, conn, row.id)


def _check_order(row: Row, status: str, unix: int) -> None:
    current = STATUSES.index(row.status)
    wanted = STATUSES.index(status)
    if status == "reuploaded" and row.status != "removed":
        raise CaseError(
            t_(
                "Notice {id} is {status}: content is re-uploaded only after a removal.",
                id=row.id,
                status=row.status,
            )
        )
    if wanted <= current:
        raise CaseError(
            t_(
                "Notice {id} is already {status}; it cannot go back to {status2}.",
                id=row.id,
                status=row.status,
                status2=status,
            )
        )
    if status != "sent" and row.sent_unix is None:
        raise CaseError(t_("Notice {id} was never marked sent: mark it sent first.", id=row.id))
    earlier = [
        (name, getattr(row, col))
        for name, col in _TIME_COLUMN.items()
        if STATUSES.index(name) < wanted and getattr(row, col) is not None
    ]
    for name, value in earlier:
        if unix < value:
            raise CaseError(
                t_(
                    "Notice {id} cannot be {status} before it was {name}.",
                    id=row.id,
                    status=status,
                    name=name,
                )
            )


@dataclass(frozen=True)
class RecipientTiming:
    recipient: str
    notices: int
    sent: int
    removed: int
    median_hours: float | None
    min_hours: float | None
    max_hours: float | None


def removal_times(
    app: App, *, since_unix: int | None = None, until_unix: int | None = None
) -> list[RecipientTiming]:
    """Per recipient: how many notices, how many removed, and the median time sent→removed."""
    with app.db.connect() as conn:
        stmt = select(Notice.recipient, Notice.sent_unix, Notice.removed_unix)
        stmt = visibility.limit_to_cases(conn, stmt, Notice.case_id)
        if since_unix is not None:
            stmt = stmt.where(Notice.sent_unix >= since_unix)
        if until_unix is not None:
            stmt = stmt.where(Notice.sent_unix < until_unix)
        rows = conn.execute(stmt).all()
    grouped: dict[str, list[tuple[int | None, int | None]]] = {}
    for recipient, sent, removed in rows:
        grouped.setdefault(recipient, []).append((sent, removed))
    out = []
    for recipient in sorted(grouped):
        pairs = grouped[recipient]
        hours = [(r - s) / 3600 for s, r in pairs if s is not None and r is not None]
        out.append(
            RecipientTiming(
                recipient=recipient,
                notices=len(pairs),
                sent=sum(1 for s, _ in pairs if s is not None),
                removed=len(hours),
                median_hours=round(statistics.median(hours), 2) if hours else None,
                min_hours=round(min(hours), 2) if hours else None,
                max_hours=round(max(hours), 2) if hours else None,
            )
        )
    return out
