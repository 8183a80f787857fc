"""One's own account: permissions, exposure today, API tokens, language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from haechi.auth import accounts
from haechi.auth.roles import Perm, permissions_of
from haechi.auth.sessions import create_token, revoke_token, tokens_of
from haechi.domain import HaechiError
from haechi.web.auth import current, haechi, needs
from haechi.web.i18n import COOKIE, LANGUAGES
from haechi.web.nav import NavItem
from haechi.web.render import refusal, render, t_of

router = APIRouter()
NAV = [NavItem(95, "nav.account", "/me", Perm.SELF)]


def _page(request: Request, status: int = 200, **extra: object) -> Response:
    auth = current(request)
    return render(
        request, "account.html", status=status, perms=permissions_of(auth.user.role),
        tokens=tokens_of(haechi(request), auth.user.id), **extra,
    )  # fmt: skip


@router.get("/me", dependencies=[needs(Perm.SELF)])
def account(request: Request) -> Response:
    return _page(request)


@router.get("/me/password", dependencies=[needs(Perm.SELF)])
def password_form(request: Request) -> Response:
    return render(request, "password.html")


@router.post("/me/password", dependencies=[needs(Perm.SELF)])
def change_password(
    request: Request,
    current_password: Annotated[str, Form(alias="current", max_length=300)],
    new: Annotated[str, Form(max_length=300)],
    again: Annotated[str, Form(max_length=300)],
) -> Response:
    auth = current(request)
    if new != again:
        return render(
            request, "password.html", status=400, error=t_of(request)("password.mismatch")
        )
    try:
        accounts.change_own_password(
            haechi(request), auth.user.id, current_password, new, actor=auth.actor
        )
    except HaechiError as exc:
        return render(request, "password.html", status=400, error=refusal(request, exc))
    if auth.user.must_change_password:
        return RedirectResponse("/", status_code=303)
    return render(request, "password.html", done=True)


@router.post("/me/tokens", dependencies=[needs(Perm.TOKENS_OWN)])
def new_token(
    request: Request,
    name: Annotated[str, Form(max_length=128)],
    days: Annotated[int, Form(ge=1, le=3650)] = 90,
) -> Response:
    auth = current(request)
    try:
        secret, _info = create_token(haechi(request), auth.user, name, days=days, actor=auth.actor)
    except HaechiError as exc:
        return _page(request, 400, error=refusal(request, exc))
    return _page(request, new_secret=secret)


@router.post("/me/tokens/{token_id}/revoke", dependencies=[needs(Perm.TOKENS_OWN)])
def drop_token(request: Request, token_id: int) -> Response:
    auth = current(request)
    revoke_token(haechi(request), auth.user.id, token_id, actor=auth.actor)
    return RedirectResponse("/me", status_code=303)


@router.post("/lang", dependencies=[needs(Perm.SELF)])
def set_language(
    request: Request,
    lang: Annotated[str, Form(max_length=8)],
    back: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    target = back if back.startswith("/") and not back.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=365 * 86400, samesite="strict", httponly=True)
    return response
