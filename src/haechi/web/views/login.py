"""Log in and out. The login page is the only page open to anonymous visitors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from haechi.auth import audit
from haechi.auth.accounts import authenticate, redeem_reset
from haechi.auth.errors import LoginRefused, RateLimited
from haechi.auth.roles import Perm
from haechi.auth.sessions import create_session, end_session
from haechi.domain import HaechiError
from haechi.web.auth import (
    LOGIN_COOKIE,
    client_ip,
    current,
    haechi,
    login_token,
    login_token_ok,
    needs,
    secure_cookies,
    session_cookie_name,
)
from haechi.web.i18n import COOKIE as LANG_COOKIE
from haechi.web.i18n import LANGUAGES
from haechi.web.render import refusal, render, t_of

router = APIRouter()


def _safe_next(value: str | None) -> str:
    # Only a path on this site: never "//host" or "https://host" (open redirect).
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:500]
    return "/"


def _login_page(
    request: Request, status: int = 200, error: str | None = None, **extra: object
) -> Response:
    nonce, token = login_token(request)
    response = render(
        request,
        "login.html",
        status=status,
        login_token=token,
        error=error,
        next=_safe_next(request.query_params.get("next") or str(extra.pop("next", "") or "")),
        **extra,
    )
    response.set_cookie(
        LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict",
        secure=secure_cookies(request), path="/login",
    )  # fmt: skip
    return response


@router.get("/login")
def login_form(request: Request, lang: str | None = None) -> Response:
    if lang in LANGUAGES:
        # The language switch of the login page (no session yet): set and come back.
        response = RedirectResponse("/login", status_code=303)
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", httponly=True
        )
        return response
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    login_token: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    if not login_token_ok(request, login_token):
        return _login_page(request, 403, "login.expired", next=next)
    app = haechi(request)
    try:
        user = authenticate(app, username, password, ip=client_ip(request))
    except RateLimited as exc:
        response = _login_page(request, 429, "login.rate_limited", next=next)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except LoginRefused:
        return _login_page(request, 401, "login.refused", next=next)
    web = request.app.state.web
    secret, _session = create_session(
        app,
        user,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        absolute=web.absolute_seconds,
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        session_cookie_name(request), secret, max_age=web.absolute_seconds, httponly=True,
        samesite="strict", secure=secure_cookies(request), path="/",
    )  # fmt: skip
    response.delete_cookie(
        LOGIN_COOKIE, path="/login", secure=secure_cookies(request), httponly=True,
        samesite="strict",
    )  # fmt: skip
    return response


def _reset_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    nonce, token = login_token(request)
    response = render(request, "reset.html", status=status, login_token=token, error=error)
    response.set_cookie(
        LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict",
        secure=secure_cookies(request), path="/login",
    )  # fmt: skip
    return response


@router.get("/login/reset")
def reset_form(request: Request) -> Response:
    return _reset_page(request)


@router.post("/login/reset")
def reset(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    code: Annotated[str, Form(max_length=200)] = "",
    new: Annotated[str, Form(max_length=1000)] = "",
    again: Annotated[str, Form(max_length=1000)] = "",
    login_token: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Choose a new password with the one-time code an administrator's reset gave."""
    t = t_of(request)
    if not login_token_ok(request, login_token):
        return _reset_page(request, 403, t("login.expired"))
    if new != again:
        return _reset_page(request, 400, t("password.mismatch"))
    app = haechi(request)
    try:
        redeem_reset(app, username, code, new, ip=client_ip(request))
    except LoginRefused:
        return _reset_page(request, 401, t("login.reset_refused"))
    except HaechiError as exc:
        return _reset_page(request, 400, refusal(request, exc))
    return _login_page(request, 200, None, notice="reset.done")


@router.post("/logout", dependencies=[needs(Perm.SELF)])
def logout(request: Request) -> Response:
    auth = current(request)
    app = haechi(request)
    if auth.session is not None:
        end_session(app, auth.session.id_hash)
    audit.record(app, auth.actor, audit.LOGOUT, f"user:{auth.user.username}")
    response = RedirectResponse("/login", status_code=303)
    # A browser refuses to clear a __Host- cookie without these attributes.
    response.delete_cookie(
        session_cookie_name(request), path="/", secure=secure_cookies(request), httponly=True,
        samesite="strict",
    )  # fmt: skip
    return response
