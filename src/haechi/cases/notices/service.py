"""Notices: draft one from a case, keeping the exact text and its SHA-256.

The notice's other parts live beside this one: ``views`` (a notice as shown, listing),
``status`` (sent → removed → re-uploaded, in order, with their times), ``timing`` (time to
removal per recipient), ``profiles`` (who a notice comes from).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import insert, update

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases import seams
from haechi.cases.detail import case_detail
from haechi.cases.model import CaseError
from haechi.cases.notices.compose import Notifier, compose
from haechi.cases.notices.profiles import EMAIL, get_profile
from haechi.cases.notices.recipients import check_language, resolve
from haechi.cases.notices.status import record_transition
from haechi.cases.notices.views import NoticeView, get_notice
from haechi.cases.service import case_row
from haechi.i18n import t_
from haechi.store.tables.cases import Notice, NoticeItem


@dataclass(frozen=True)
class DraftResult:
    notice: NoticeView
    warnings: list[str]


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
    if to_address is not None:
        # Kept bare, as checked: a line end stored with it ended the .eml's headers early.
        given, to_address = to_address, to_address.strip()
        if not EMAIL.fullmatch(to_address):
            raise CaseError(t_("{to_address!r} is not an e-mail address.", to_address=given))
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
        record_transition(conn, app, notice_id, "drafted", at, unix, None)
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
