"""A case's record beside its evidence, from its page and the JSON API: notes, the
assignee, its unit, tags, reported links, map findings, items withdrawn with a reason,
and a victim's minor flag. The services ``haechi case note``, ``assign``, ``unit``,
``tag``, ``add-link``, ``add-finding``, ``withdraw`` and ``minor`` use
(``haechi.cases.service``, ``haechi.cases.items``, ``haechi.cases.people``),
acting as the logged-in person; each change is a signed custody event of the case and an
audit entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.cases.items import AddedItem
from haechi.cases.links import MAX_URL
from haechi.cases.service import MAX_TEXT
from haechi.web.actions import CASE_CHANGE, acting, audited, go, once
from haechi.web.auth import haechi, needs
from haechi.web.views.api_cases import Key, _once
from haechi.web.views.cases import on_case

router = APIRouter()
MAX_REASON = 2000  # why an item is withdrawn
MAX_NOTE = 2000  # where a reported link came from, what a finding says


def _key(case: str) -> str:
    return case.strip()[:64]


def _add_note(request: Request, case: str, text: str) -> str:
    """The note written as the person; the case's reference."""
    from haechi.cases.service import add_note, get_summary

    app = acting(request)
    add_note(app, _key(case), text)
    return get_summary(app, _key(case)).ref


@router.post("/cases/{case}/notes", dependencies=[needs(Perm.CASES_WRITE)])
def add_note_form(
    request: Request,
    case: str,
    text: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def work() -> str:
        return f"/cases/{_add_note(request, case, text)}#notes"

    return on_case(request, case, lambda: once(request, key, "case_note", work))


class NoteBody(BaseModel):
    text: str = Field(max_length=MAX_TEXT)


@router.post("/api/cases/{case}/notes", dependencies=[needs(Perm.CASES_WRITE)], tags=["api"])
def api_add_note(request: Request, case: str, body: NoteBody, key: Key = None) -> JSONResponse:
    return _once(
        request, key, "case_note", lambda: f"/api/cases/{_add_note(request, case, body.text)}"
    )


def _field(
    request: Request, case: str, field: str, did: str, change: Callable[[App, int], None]
) -> tuple[str, str | None]:
    """``change(app as the person, case id)`` done and, when the case's ``field`` (its
    assignee or unit) moved, audited as case_change/``did`` with the previous value;
    its reference and the field's value. The same value again is not logged again."""
    from haechi.cases.service import get_summary

    app = haechi(request)
    before = get_summary(app, _key(case))
    change(acting(request), before.id)
    was, now = getattr(before, field), getattr(get_summary(app, before.id), field)
    if was != now:
        audited(request, CASE_CHANGE, did, f"case:{before.ref}",
                **{field: now, "previous": was})  # fmt: skip
    return before.ref, now


def _assign(request: Request, case: str, who: str | None) -> tuple[str, str | None]:
    """The case assigned to ``who`` (blank: nobody) as the person."""
    from haechi.cases.service import assign

    who = (who or "").strip() or None
    ref, _ = _field(request, case, "assignee", "case_assign", lambda a, c: assign(a, c, who))
    return ref, who


def _unit(request: Request, case: str, unit: str | None) -> tuple[str, str | None]:
    """The case moved to ``unit`` (blank: the default unit) as the person, who must see
    every unit (the service refuses anyone else with its sentence)."""
    from haechi.cases.service import set_case_unit

    return _field(request, case, "unit", "case_unit", lambda a, c: set_case_unit(a, c, unit))


@router.post("/cases/{case}/assign", dependencies=[needs(Perm.CASES_WRITE)])
def assign_form(
    request: Request, case: str, assignee: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    return on_case(
        request, case, lambda: go(request, f"/cases/{_assign(request, case, assignee)[0]}")
    )


@router.post("/cases/{case}/unit", dependencies=[needs(Perm.CASES_WRITE)])
def unit_form(
    request: Request, case: str, unit: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    return on_case(request, case, lambda: go(request, f"/cases/{_unit(request, case, unit)[0]}"))


class AssignBody(BaseModel):
    assignee: str | None = Field(default=None, max_length=128)  # none or blank: unassign


class UnitBody(BaseModel):
    unit: str | None = Field(default=None, max_length=64)  # none or blank: the default unit


@router.post("/api/cases/{case}/assign", dependencies=[needs(Perm.CASES_WRITE)], tags=["api"])
def api_assign(request: Request, case: str, body: AssignBody) -> dict[str, str | None]:
    ref, who = _assign(request, case, body.assignee)
    return {"case": ref, "assignee": who}


@router.post("/api/cases/{case}/unit", dependencies=[needs(Perm.CASES_WRITE)], tags=["api"])
def api_unit(request: Request, case: str, body: UnitBody) -> dict[str, str | None]:
    ref, unit = _unit(request, case, body.unit)
    return {"case": ref, "unit": unit}


def _tag(request: Request, case: str, add: list[str], remove: list[str]) -> tuple[str, list[str]]:
    """Tags added to and removed from the case as the person; its reference and tags. A
    tag it has (or lacks) already changes nothing and is not logged again."""
    from haechi.cases.service import get_summary, tag

    app = haechi(request)
    before = get_summary(app, _key(case))
    tag(acting(request), before.id, add, remove)
    after = sorted(get_summary(app, before.id).tags)
    added, removed = sorted(set(after) - set(before.tags)), sorted(set(before.tags) - set(after))
    if added or removed:
        audited(request, CASE_CHANGE, "case_tags", f"case:{before.ref}",
                added=added, removed=removed)  # fmt: skip
    return before.ref, after


@router.post("/cases/{case}/tags", dependencies=[needs(Perm.CASES_WRITE)])
def tag_form(
    request: Request,
    case: str,
    add: Annotated[str, Form(max_length=2000)] = "",
    remove: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """``add``: tags separated by spaces or commas; ``remove``: one tag a field."""

    def work() -> Response:
        ref, _ = _tag(request, case, add.replace(",", " ").split(), remove or [])
        return go(request, f"/cases/{ref}")

    return on_case(request, case, work)


class TagBody(BaseModel):
    add: list[str] = Field(default_factory=list, max_length=100)
    remove: list[str] = Field(default_factory=list, max_length=100)


@router.post("/api/cases/{case}/tags", dependencies=[needs(Perm.CASES_WRITE)], tags=["api"])
def api_tag(request: Request, case: str, body: TagBody) -> dict[str, object]:
    ref, tags = _tag(request, case, body.add, body.remove)
    return {"case": ref, "tags": tags}


def _withdraw(request: Request, case: str, item_id: int, reason: str) -> str:
    """An item of the case withdrawn as the person (it stays on record, marked, with the
    reason's hash in its custody event); the case's reference. An item withdrawn already
    changes nothing and is not logged again."""
    from haechi.cases.detail import item_views
    from haechi.cases.items import withdraw_item
    from haechi.cases.service import get_summary

    app = haechi(request)
    summary = get_summary(app, _key(case))
    with app.db.connect() as conn:
        before = item_views(conn, summary.id, ids=[item_id])
    withdraw_item(acting(request), summary.ref, item_id, reason)  # refuses an unknown item
    if before and not before[0].withdrawn:
        audited(request, CASE_CHANGE, "item_withdraw", f"case:{summary.ref}", item_id=item_id)
    return summary.ref


@router.post("/cases/{case}/items/{item_id}/withdraw", dependencies=[needs(Perm.CASES_WRITE)])
def withdraw_form(
    request: Request,
    case: str,
    item_id: int,
    reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
) -> Response:
    def work() -> Response:
        return go(request, f"/cases/{_withdraw(request, case, item_id, reason)}#items")

    return on_case(request, case, work)


class WithdrawBody(BaseModel):
    reason: str = Field(max_length=MAX_REASON)


@router.post(
    "/api/cases/{case}/items/{item_id}/withdraw",
    dependencies=[needs(Perm.CASES_WRITE)],
    tags=["api"],
)
def api_withdraw(
    request: Request, case: str, item_id: int, body: WithdrawBody
) -> dict[str, object]:
    return {
        "case": _withdraw(request, case, item_id, body.reason),
        "item": item_id,
        "withdrawn": True,
    }


def _minor(request: Request, case: str, label: str, is_minor: bool) -> str:
    """A victim's staff-set minor flag (it routes Telegram notices to the child-safety
    address) set as the person; the case's reference. The same value again changes
    nothing and is not logged again."""
    from haechi.cases.detail import victim_views
    from haechi.cases.people import set_victim_minor
    from haechi.cases.service import get_summary

    app = haechi(request)
    summary = get_summary(app, _key(case))
    with app.db.connect() as conn:
        before = {v.label: v.is_minor for v in victim_views(conn, summary.id, reveal=False)}
    set_victim_minor(acting(request), summary.ref, label, is_minor)  # refuses an unknown label
    if before.get(label) != is_minor:
        audited(request, CASE_CHANGE, "victim_minor", f"case:{summary.ref}",
                victim=label, minor=is_minor)  # fmt: skip
    return summary.ref


@router.post("/cases/{case}/victims/{label}/minor", dependencies=[needs(Perm.CASES_WRITE)])
def minor_form(
    request: Request, case: str, label: str, minor: Annotated[bool, Form()] = False
) -> Response:
    def work() -> Response:
        return go(request, f"/cases/{_minor(request, case, label[:16], minor)}#victims")

    return on_case(request, case, work)


class MinorBody(BaseModel):
    minor: bool


@router.post(
    "/api/cases/{case}/victims/{label}/minor",
    dependencies=[needs(Perm.CASES_WRITE)],
    tags=["api"],
)
def api_minor(request: Request, case: str, label: str, body: MinorBody) -> dict[str, object]:
    ref = _minor(request, case, label[:16], body.minor)
    return {"case": ref, "victim": label[:16], "minor": body.minor}


def _item(
    request: Request, case: str, did: str, add: Callable[[App, str], AddedItem]
) -> tuple[str, AddedItem]:
    """``add(app as the person, case reference)``, the service that adds one item; the
    case's reference and the item. An item the case holds already (the same link, the
    same finding) is not added or logged again."""
    from haechi.cases.service import get_summary

    ref = get_summary(haechi(request), _key(case)).ref
    added = add(acting(request), ref)
    if added.created:
        audited(request, CASE_CHANGE, did, f"case:{ref}", item_id=added.id)
    return ref, added


def _added(ref: str, added: AddedItem) -> JSONResponse:
    return JSONResponse(
        {"case": ref, "item": added.id, "added": added.created},
        status_code=201 if added.created else 200,
    )


def _link(request: Request, case: str, url: str, note: str) -> tuple[str, AddedItem]:
    """A link reported but not captured, added as the person (the service checks it is a
    plain http(s) address; notices can name it)."""
    from haechi.cases.items import add_link

    note = note.strip()
    return _item(request, case, "case_link",
                 lambda app, ref: add_link(app, ref, url, note=note or None))  # fmt: skip


@router.post("/cases/{case}/links", dependencies=[needs(Perm.CASES_WRITE)])
def link_form(
    request: Request,
    case: str,
    url: Annotated[str, Form(max_length=MAX_URL + 64)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    return on_case(
        request, case, lambda: go(request, f"/cases/{_link(request, case, url, note)[0]}#items")
    )


class LinkBody(BaseModel):
    url: str = Field(max_length=MAX_URL + 64)
    note: str = Field(default="", max_length=MAX_NOTE)  # where it came from


@router.post("/api/cases/{case}/links", dependencies=[needs(Perm.CASES_WRITE)], tags=["api"])
def api_link(request: Request, case: str, body: LinkBody) -> JSONResponse:
    return _added(*_link(request, case, body.url, body.note))


def _finding(
    request: Request, case: str, finding: str, chat: str, url: str, note: str
) -> tuple[str, AddedItem]:
    """A network-map finding (a node the store has, or ``note:`` free text) added as the
    person; the service refuses a node it does not have, an unknown chat, a bad URL."""
    from haechi.cases.items import add_external
    from haechi.cases.model import ItemKind

    chat, url, note = chat.strip(), url.strip(), note.strip()
    return _item(request, case, "case_finding", lambda app, ref: add_external(
        app, ref, ItemKind.FINDING, finding, chat=chat or None, url=url or None,
        detail={"note": note} if note else None))  # fmt: skip


@router.post("/cases/{case}/findings", dependencies=[needs(Perm.CASES_WRITE)])
def finding_form(
    request: Request,
    case: str,
    finding: Annotated[str, Form(max_length=256)] = "",
    chat: Annotated[str, Form(max_length=256)] = "",
    url: Annotated[str, Form(max_length=MAX_URL + 64)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    def work() -> Response:
        ref, _ = _finding(request, case, finding, chat, url, note)
        return go(request, f"/cases/{ref}#items")

    return on_case(request, case, work)


class FindingBody(BaseModel):
    finding: str = Field(max_length=256)  # chat:12, account:7, btc:<address>, note:<text>, ...
    chat: str = Field(default="", max_length=256)
    url: str = Field(default="", max_length=MAX_URL + 64)
    note: str = Field(default="", max_length=MAX_NOTE)


@router.post("/api/cases/{case}/findings", dependencies=[needs(Perm.CASES_WRITE)], tags=["api"])
def api_finding(request: Request, case: str, body: FindingBody) -> JSONResponse:
    return _added(*_finding(request, case, body.finding, body.chat, body.url, body.note))
