"""Accounts: add, disable, re-enable, unlock, change role, reset password (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from haechi.auth import accounts
from haechi.auth.roles import MATRIX, Perm, Role
from haechi.domain import HaechiError
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render

router = APIRouter()
NAV = [NavItem(90, "nav.users", "/admin/users", Perm.USERS_MANAGE)]


def _page(request: Request, status: int = 200, **extra: object) -> Response:
    users = accounts.list_users(haechi(request))
    return render(
        request, "users.html", status=status, users=users, roles=list(Role), matrix=MATRIX,
        perms=list(Perm), **extra,
    )  # fmt: skip


@router.get("/admin/users", dependencies=[needs(Perm.USERS_MANAGE)])
def users_page(request: Request) -> Response:
    return _page(request)


@router.post("/admin/users", dependencies=[needs(Perm.USERS_MANAGE)])
def add_user(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=300)],
    role: Annotated[str, Form(max_length=32)],
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        accounts.add_user(
            haechi(request), username, password, role, display_name=display_name or None,
            actor=current(request).actor,
        )  # fmt: skip
    except HaechiError as exc:
        return _page(request, 400, error=str(exc))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}", dependencies=[needs(Perm.USERS_MANAGE)])
def change_user(
    request: Request,
    username: str,
    action: Annotated[str, Form(max_length=32)],
    role: Annotated[str, Form(max_length=32)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    app, actor = haechi(request), current(request).actor
    try:
        if action == "disable":
            if username == actor.username:
                return _page(request, 400, error="You cannot disable your own account.")
            accounts.set_disabled(app, username, True, actor=actor)
        elif action == "enable":
            accounts.set_disabled(app, username, False, actor=actor)
        elif action == "unlock":
            accounts.unlock(app, username, actor=actor)
        elif action == "role":
            accounts.set_role(app, username, role, actor=actor)
        elif action == "password":
            accounts.reset_password(app, username, password, actor=actor)
        else:
            return _page(request, 400, error="Unknown action.")
    except HaechiError as exc:
        return _page(request, 400, error=str(exc))
    return RedirectResponse("/admin/users", status_code=303)
