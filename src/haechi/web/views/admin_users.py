"""Accounts: add, disable, re-enable, unlock, change role, reset password, move to a unit
or give every unit's cases (admins only; ``haechi user add --unit/--all-units`` and
``haechi user unit`` call the same :mod:`haechi.auth.units` and accounts functions), and the
second administrator's approval of what gives access to material
(:mod:`haechi.auth.grants`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from haechi.auth import accounts, grants
from haechi.auth.errors import SecondAdminNeeded
from haechi.auth.roles import MATRIX, Perm, Role
from haechi.auth.units import set_unit
from haechi.domain import HaechiError
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import refusal, render

router = APIRouter()
NAV = [NavItem(90, "nav.users", "/admin/users", Perm.USERS_MANAGE)]
BACK = "/admin/users"


def _page(request: Request, status: int = 200, **extra: object) -> Response:
    app = haechi(request)
    return render(
        request, "users.html", status=status, users=accounts.list_users(app), roles=list(Role),
        matrix=MATRIX, perms=list(Perm), grants=grants.pending(app),
        privileged=[r.value for r in Role if accounts.privileged(r)], **extra,
    )  # fmt: skip


@router.get("/admin/users", dependencies=[needs(Perm.USERS_MANAGE)])
def users_page(request: Request) -> Response:
    return _page(request)


@router.post("/admin/users", dependencies=[needs(Perm.USERS_MANAGE)])
def add_user(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=300)],
    role: Annotated[str, Form(max_length=32)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    unit: Annotated[str, Form(max_length=200)] = "",
    all_units: Annotated[bool, Form()] = False,
) -> Response:
    app, actor = haechi(request), current(request).actor
    try:
        if not role:
            return _page(request, 400, error_key="users.choose_role")
        pending = accounts.privileged(role) if role in {r.value for r in Role} else False
        if pending and not reason.strip():
            return _page(request, 400, error_key="users.reason_needed")
        accounts.add_user(
            app, username, password, role, display_name=display_name or None, actor=actor,
            pending_approval=pending, reason=reason.strip() or None, unit=unit or None,
            all_units=all_units,
        )  # fmt: skip
        if pending:
            grants.request_role(app, username, role, reason, actor=actor, new_account=True)
            return _page(request, notice_key="users.pending", notice_user=username)
    except HaechiError as exc:
        return _page(request, 400, error=refusal(request, exc))
    return RedirectResponse(BACK, status_code=303)


@router.post("/admin/users/{username}", dependencies=[needs(Perm.USERS_MANAGE)])
def change_user(
    request: Request,
    username: str,
    action: Annotated[str, Form(max_length=32)],
    role: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    unit: Annotated[str, Form(max_length=200)] = "",
    all_units: Annotated[bool, Form()] = False,
) -> Response:
    app, actor = haechi(request), current(request).actor
    try:
        if action == "disable":
            accounts.set_disabled(app, username, True, actor=actor)
        elif action == "enable":
            accounts.set_disabled(app, username, False, actor=actor)
        elif action == "unlock":
            accounts.unlock(app, username, actor=actor)
        elif action == "unit":
            set_unit(app, username, unit or None, all_units=all_units, actor=actor,
                     reason=reason.strip() or None)  # fmt: skip
        elif action == "role":
            try:
                accounts.set_role(app, username, role, actor=actor)
            except SecondAdminNeeded:
                if not reason.strip():
                    return _page(request, 400, error_key="users.reason_needed")
                grants.request_role(app, username, role, reason, actor=actor)
                return _page(request, notice_key="users.pending", notice_user=username)
        elif action == "password":
            try:
                user, code = accounts.reset_password(app, username, actor=actor)
            except SecondAdminNeeded:
                if not reason.strip():
                    return _page(request, 400, error_key="users.reason_needed")
                grants.request_reset(app, username, reason, actor=actor)
                return _page(request, notice_key="users.pending", notice_user=username)
            return _page(request, reset_code=code, reset_user=user.username)
        else:
            return _page(request, 400, error_key="error.bad_request")
    except HaechiError as exc:
        return _page(request, 400, error=refusal(request, exc))
    return RedirectResponse(BACK, status_code=303)


@router.post("/admin/grants/{grant_id}", dependencies=[needs(Perm.USERS_MANAGE)])
def decide_grant(
    request: Request, grant_id: int, decision: Annotated[str, Form(max_length=16)]
) -> Response:
    if decision not in ("approve", "refuse"):
        return _page(request, 400, error_key="error.bad_request")
    try:
        outcome = grants.decide(
            haechi(request), grant_id, decision == "approve", actor=current(request).actor
        )
    except HaechiError as exc:
        return _page(request, 400, error=refusal(request, exc))
    if outcome.reset_code:
        return _page(request, reset_code=outcome.reset_code, reset_user=outcome.grant.username)
    return RedirectResponse(BACK, status_code=303)
