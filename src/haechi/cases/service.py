"""Cases: open, find, list, change status, assign, tag, annotate. Every change is logged.

A case is named either by its number (``12``) or its reference (``HC-2024-00012`` or
whatever reference the unit gives it, e.g. its own case number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from haechi.app import App
from haechi.auth.units import normalise_unit
from haechi.cases import events as ev
from haechi.cases import visibility
from haechi.cases.model import CaseError, CaseStatus, CaseSummary
from haechi.cases.rows import Row
from haechi.i18n import t_
from haechi.store.tables.cases import Case, CaseItem, CaseNote, CaseTag, Notice

_REF = re.compile(r"[\w][\w.\-/#]{0,63}")
_TAG = re.compile(r"[\w][\w.\-:/]{0,63}")
MAX_TEXT = 100_000


def case_row(conn: Connection, key: int | str) -> Row:
    """The case named by number or reference, or one sentence saying there is none."""
    text = str(key).strip()
    stmt = select(Case)
    stmt = stmt.where(Case.id == int(text)) if text.isdigit() else stmt.where(Case.ref == text)
    row = conn.execute(stmt).first()
    if row is None and text.isdigit():  # a purely numeric reference
        row = conn.execute(select(Case).where(Case.ref == text)).first()
    # Another unit's case is answered as one that does not exist (cases.visibility).
    if row is None or not visibility.sees(conn, row.unit):
        raise CaseError(
            t_("There is no case {text!r}: `haechi case list` shows the cases.", text=text)
        )
    return row


def _check_text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    value = value.strip()
    if not value:
        raise CaseError(t_("The {what} cannot be empty.", what=what))
    if len(value) > limit:
        raise CaseError(
            t_("The {what} is longer than {limit:,} characters.", what=what, limit=limit)
        )
    return value


def _check_date(value: str | None) -> str:
    if value is None:
        return datetime.now(UTC).date().isoformat()
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise CaseError(
            t_("{value!r} is not a date: write it as YYYY-MM-DD.", value=value)
        ) from None


def _check_tags(tags: Iterable[str]) -> list[str]:
    out = []
    for tag in tags:
        tag = tag.strip()
        if not _TAG.fullmatch(tag):
            raise CaseError(
                t_(
                    "{tag!r} is not a valid tag: use letters, digits and - _ . : / (64 at most).",
                    tag=tag,
                )
            )
        out.append(tag)
    return sorted(set(out))


def create_case(
    app: App,
    title: str,
    *,
    ref: str | None = None,
    reported_on: str | None = None,
    summary: str | None = None,
    assignee: str | None = None,
    tags: Iterable[str] = (),
    unit: str | None = None,
) -> CaseSummary:
    """Open a case. ``reported_on`` (the day it was reported) is what statistics count.
    ``unit``: the unit it belongs to; a person who sees one unit opens cases in theirs
    (by default, and only there)."""
    title = _check_text(title, t_("case title"), 500)
    unit = _case_unit(app, unit)
    if ref is not None and not _REF.fullmatch(ref.strip()):
        raise CaseError(
            t_("{ref!r} is not a valid case reference (letters, digits, - _ . / #).", ref=ref)
        )
    day = _check_date(reported_on)
    tag_list = _check_tags(tags)
    opened = ev.now_iso()
    with app.db.begin() as conn:
        if ref is not None and conn.execute(select(Case.id).where(Case.ref == ref)).first():
            raise CaseError(t_("A case with the reference {ref!r} already exists.", ref=ref))
        nonce = ev.new_nonce()
        case_id = conn.execute(
            insert(Case)
            .values(
                nonce=nonce,
                ref=ref.strip() if ref else f"pending-{ev.new_nonce()}",
                title=title,
                summary=summary.strip() if summary else None,
                status=CaseStatus.OPEN.value,
                reported_on=day,
                opened_at=opened,
                assignee=assignee,
                created_by=app.settings.operator,
                unit=unit,
            )
            .returning(Case.id)
        ).scalar_one()
        final_ref = ref.strip() if ref else f"HC-{day[:4]}-{case_id:05d}"
        if not ref:
            conn.execute(update(Case).where(Case.id == case_id).values(ref=final_ref))
        if tag_list:
            conn.execute(insert(CaseTag), [{"case_id": case_id, "tag": t} for t in tag_list])
        ev.record(
            app,
            conn,
            case_id,
            ev.CASE_CREATED,
            {
                "ref": final_ref,
                "title_sha256": ev.commitment({"title": title}, nonce),
                "reported_on": day,
                "assignee": assignee,
                "tags": tag_list,
                **({"unit": unit} if unit is not None else {}),
            },
        )
    return get_summary(app, case_id)


def _case_unit(app: App, unit: str | None) -> str | None:
    """The unit a new case belongs to: the one named, else the opener's own."""
    unit = normalise_unit(unit)
    scope = visibility.unit_of(app)
    if scope is None:
        return unit
    if unit is not None and unit != scope.unit:
        raise CaseError(t_("You can open cases only in your own unit."))
    return scope.unit


def known_units(app: App) -> list[str]:
    """The units named on accounts and cases (for the forms that choose one)."""
    from haechi.store.tables.web import WebUser

    with app.db.connect() as conn:
        named = set(conn.execute(select(Case.unit).where(Case.unit.is_not(None))).scalars())
        named |= set(conn.execute(select(WebUser.unit).where(WebUser.unit.is_not(None))).scalars())
    return sorted(u for u in named if u)


def set_case_unit(app: App, key: int | str, unit: str | None) -> None:
    """Move a case to another unit (someone who sees every unit; logged)."""
    unit = normalise_unit(unit)
    if visibility.unit_of(app) is not None:
        raise CaseError(t_("Only someone who sees every unit can move a case to another unit."))
    with app.db.begin() as conn:
        case = case_row(conn, key)
        if case.unit == unit:
            return
        conn.execute(update(Case).where(Case.id == case.id).values(unit=unit))
        ev.record(
            app, conn, case.id, ev.CASE_UPDATED, {"field": "unit", "from": case.unit, "to": unit}
        )


def get_summary(app: App, key: int | str) -> CaseSummary:
    with app.db.connect() as conn:
        case = case_row(conn, key)
        return summaries(conn, [case])[0]


def summaries(conn: Connection, cases: list[Row]) -> list[CaseSummary]:
    ids = [c.id for c in cases]
    if not ids:
        return []
    tags: dict[int, list[str]] = {}
    for cid, tag in conn.execute(
        select(CaseTag.case_id, CaseTag.tag).where(CaseTag.case_id.in_(ids)).order_by(CaseTag.tag)
    ):
        tags.setdefault(cid, []).append(tag)
    items = dict(
        conn.execute(
            select(CaseItem.case_id, func.count())
            .where(CaseItem.case_id.in_(ids), CaseItem.withdrawn_at.is_(None))
            .group_by(CaseItem.case_id)
        ).all()
    )
    notices = dict(
        conn.execute(
            select(Notice.case_id, func.count())
            .where(Notice.case_id.in_(ids))
            .group_by(Notice.case_id)
        ).all()
    )
    return [
        CaseSummary(
            id=c.id,
            ref=c.ref,
            title=c.title,
            status=c.status,
            reported_on=c.reported_on,
            opened_at=c.opened_at,
            assignee=c.assignee,
            tags=tuple(tags.get(c.id, [])),
            items=int(items.get(c.id, 0)),
            notices=int(notices.get(c.id, 0)),
            unit=c.unit,
        )
        for c in cases
    ]


def list_cases(
    app: App,
    *,
    status: str | None = None,
    tag: str | None = None,
    assignee: str | None = None,
    limit: int = 500,
    offset: int = 0,
    unit: str | None = None,
) -> list[CaseSummary]:
    """The cases the caller sees (cases.visibility), newest first; ``unit`` narrows them
    to one unit."""
    stmt = select(Case).order_by(Case.id.desc()).limit(limit).offset(offset)
    if unit is not None:
        stmt = stmt.where(Case.unit == normalise_unit(unit))
    if status:
        stmt = stmt.where(Case.status == _case_status(status).value)
    if assignee:
        stmt = stmt.where(Case.assignee == assignee)
    if tag:
        stmt = stmt.where(Case.id.in_(select(CaseTag.case_id).where(CaseTag.tag == tag)))
    with app.db.connect() as conn:
        return summaries(conn, list(conn.execute(visibility.limit(conn, stmt)).all()))


def _case_status(status: str) -> CaseStatus:
    try:
        return CaseStatus(status)
    except ValueError:
        known = ", ".join(s.value for s in CaseStatus)
        raise CaseError(
            t_("Unknown case status {status!r}; use one of {known}.", status=status, known=known)
        ) from None


def set_status(app: App, key: int | str, status: str, *, reason: str | None = None) -> None:
    new = _case_status(status)
    with app.db.begin() as conn:
        case = case_row(conn, key)
        if case.status == new.value:
            return
        closed = ev.now_iso() if new is CaseStatus.CLOSED else None
        conn.execute(
            update(Case).where(Case.id == case.id).values(status=new.value, closed_at=closed)
        )
        ev.record(
            app,
            conn,
            case.id,
            ev.CASE_UPDATED,
            {"field": "status", "from": case.status, "to": new.value, "reason": reason},
        )


def assign(app: App, key: int | str, assignee: str | None) -> None:
    if assignee is not None:
        assignee = _check_text(assignee, t_("assignee"), 128)
    with app.db.begin() as conn:
        case = case_row(conn, key)
        if case.assignee == assignee:
            return
        conn.execute(update(Case).where(Case.id == case.id).values(assignee=assignee))
        ev.record(
            app,
            conn,
            case.id,
            ev.CASE_UPDATED,
            {"field": "assignee", "from": case.assignee, "to": assignee},
        )


def tag(app: App, key: int | str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
    added, removed = _check_tags(add), _check_tags(remove)
    with app.db.begin() as conn:
        case = case_row(conn, key)
        present = set(conn.execute(select(CaseTag.tag).where(CaseTag.case_id == case.id)).scalars())
        new = [t for t in added if t not in present]
        gone = [t for t in removed if t in present]
        if not new and not gone:
            return
        if new:
            conn.execute(insert(CaseTag), [{"case_id": case.id, "tag": t} for t in new])
        if gone:
            conn.execute(delete(CaseTag).where(CaseTag.case_id == case.id, CaseTag.tag.in_(gone)))
        ev.record(
            app, conn, case.id, ev.CASE_UPDATED, {"field": "tags", "added": new, "removed": gone}
        )


def update_case(
    app: App,
    key: int | str,
    *,
    title: str | None = None,
    summary: str | None = None,
    reported_on: str | None = None,
) -> None:
    values: dict[str, str] = {}
    if title is not None:
        values["title"] = _check_text(title, t_("case title"), 500)
    if summary is not None:
        values["summary"] = _check_text(summary, t_("case summary"))
    if reported_on is not None:
        values["reported_on"] = _check_date(reported_on)
    if not values:
        return
    with app.db.begin() as conn:
        case = case_row(conn, key)
        conn.execute(update(Case).where(Case.id == case.id).values(**values))
        logged = {
            k: (v if k == "reported_on" else ev.commitment({k: v}, case.nonce))
            for k, v in values.items()
        }
        ev.record(app, conn, case.id, ev.CASE_UPDATED, {"field": "details", "changes": logged})


def add_note(app: App, key: int | str, text: str) -> int:
    """A free-text note; the log holds its hash (notes may name people)."""
    text = _check_text(text, t_("note"))
    with app.db.begin() as conn:
        case = case_row(conn, key)
        at, nonce = ev.now_iso(), ev.new_nonce()
        note_id = conn.execute(
            insert(CaseNote)
            .values(
                case_id=case.id,
                author=app.settings.operator,
                created_at=at,
                text=text,
                nonce=nonce,
            )
            .returning(CaseNote.id)
        ).scalar_one()
        ev.record(
            app,
            conn,
            case.id,
            ev.CASE_NOTE_ADDED,
            {"note_id": note_id, "text_sha256": ev.commitment({"text": text}, nonce)},
        )
    return note_id


def log_access(app: App, key: int | str, what: str) -> None:
    """Record that someone saw victims' identifiers (every reveal is logged)."""
    with app.db.begin() as conn:
        case = case_row(conn, key)
        ev.record(app, conn, case.id, ev.ACCESS, {"what": what})
