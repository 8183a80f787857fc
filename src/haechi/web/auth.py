"""Who is asking: the session cookie or an API token, CSRF checks, and permission guards.

``authenticate`` is a dependency of the whole application, so a route is closed unless it
is listed in ``PUBLIC`` (the login page): forgetting a guard can never open a route.
``needs(perm)`` adds the role check; the route tests read it back from each route.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from haechi.app import App
from haechi.auth.roles import Perm, can
from haechi.auth.sessions import SessionInfo, lookup_session, lookup_token
from haechi.auth.types import Actor, UserInfo
from haechi.web.security import is_upload

SESSION_COOKIE = "haechi_session"
SECURE_SESSION_COOKIE = "__Host-haechi_session"
LOGIN_COOKIE = "haechi_login"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
PUBLIC = {"/login", "/login/reset"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Partner agencies fetch the exchange feed with their own tokens, not as web users
# (haechi.exchange): the route checks the token and audits every fetch.
PARTNER_PATHS = "/api/exchange/v1/"
PARTNER_TOKEN = "hxp_"  # noqa: S105 - a prefix, not a secret
# What a session whose password someone else set (a reset) may open before choosing its own.
WHILE_CHANGING = {"/me/password", "/logout", "/lang"}


class NeedLogin(Exception):
    """Raised for anonymous requests; pages redirect to the login, the API answers 401."""


class MustChangePassword(Exception):
    """The account's password was set by someone else: pages lead to /me/password."""


class Denied(Exception):
    """Raised when the role lacks a permission, or a CSRF check fails (403)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Auth:
    user: UserInfo
    via: str  # web / api
    session: SessionInfo | None
    ip: str | None

    @property
    def actor(self) -> Actor:
        return Actor(self.user.id, self.user.username, self.user.role, self.via, self.ip)

    @property
    def csrf(self) -> str:
        return self.session.csrf_token if self.session else ""


def client_ip(request: Request) -> str:
    """The address the request came from: the TCP peer, never a header, unless the peer is
    a reverse proxy named in the settings (``[proxy] trusted`` in web.toml or ``haechi
    serve --trusted-proxy``); then the right-most address of ``X-Forwarded-For`` that is
    not itself a trusted proxy (the left part of that header is whatever the client sent).
    Rate limits and the audit trail use it, so a forged header must not move them."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.web.trusted_networks
    if not trusted or not _in(peer, trusted):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    for hop in reversed([h.strip() for h in forwarded.split(",")[-16:] if h.strip()]):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed chain: do not guess
        if not any(address in net for net in trusted):
            return str(address)
    return peer


def _in(host: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in networks)


def haechi(request: Request) -> App:
    """The application as the caller may use it: once the request is authenticated, its
    database carries the person's unit scope, so every cases service answers only with
    the cases they may see (haechi.cases.visibility)."""
    app: App = request.app.state.haechi
    auth: Auth | None = getattr(request.state, "auth", None)
    if auth is None:
        return app
    scoped: App | None = getattr(request.state, "haechi_scoped", None)
    if scoped is None:
        from haechi.cases.visibility import for_user

        scoped = request.state.haechi_scoped = for_user(app, auth.user)
    return scoped


def secure_cookies(request: Request) -> bool:
    configured = request.app.state.web.cookie_secure
    return bool(request.url.scheme == "https" if configured is None else configured)


def session_cookie_name(request: Request) -> str:
    return SECURE_SESSION_COOKIE if secure_cookies(request) else SESSION_COOKIE


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Browsers send Origin on every cross-site POST; its absence means a same-site
        # form, a script (API token) or an old browser. SameSite=Strict covers the rest.
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


async def authenticate(request: Request) -> None:
    """Resolve the caller into ``request.state.auth`` or refuse the request."""
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    if path in PUBLIC:
        request.state.auth = None
        return
    app = haechi(request)
    ip = client_ip(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        if path.startswith(PARTNER_PATHS) and token.startswith(PARTNER_TOKEN):
            request.state.auth = None  # a partner, not a person: see PARTNER_PATHS
            return
        user = await run_in_threadpool(lookup_token, app, token)
        if user is None:
            raise NeedLogin
        request.state.auth = Auth(user, "api", None, ip)
        return
    secret = request.cookies.get(session_cookie_name(request))
    if not secret:
        raise NeedLogin
    idle = request.app.state.web.idle_seconds
    session = await run_in_threadpool(lookup_session, app, secret, idle=idle)
    if session is None:
        raise NeedLogin
    auth = Auth(session.user, "web", session, ip)
    request.state.auth = auth
    if request.method in UNSAFE:
        await check_csrf(request, session.csrf_token)
    if session.user.must_change_password and path not in WHILE_CHANGING:
        raise MustChangePassword


async def check_csrf(request: Request, expected: str) -> None:
    if not _same_origin(request):
        raise Denied("csrf")
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        ctype = request.headers.get("content-type", "")
        if is_upload(request.url.path):
            # Uploads send the header (htmx does): parsing their body here would spool
            # victims' photos or a bank's pictures to a temporary file on disk before any check.
            raise Denied("csrf")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    if not token or not expected or not hmac.compare_digest(token, expected):
        raise Denied("csrf")


def current(request: Request) -> Auth:
    auth: Auth | None = getattr(request.state, "auth", None)
    if auth is None:
        raise NeedLogin
    return auth


def needs(perm: Perm) -> Any:
    """A route dependency that refuses roles without ``perm`` (403)."""

    # async: it does no I/O, and a plain function would cost a trip through the thread pool
    # on every request.
    async def guard(request: Request) -> Auth:
        auth = current(request)
        if not can(auth.user.role, perm):
            raise Denied("permission")
        return auth

    guard.permission = perm  # type: ignore[attr-defined]
    return Depends(guard)


def permission_of(route: Any) -> Perm | None:
    """The permission a route's ``needs`` guard asks for (route tests read it)."""
    for dep in getattr(route, "dependencies", []):
        perm = getattr(dep.dependency, "permission", None)
        if perm is not None:
            return Perm(perm)
    return None


# -- the login form's CSRF token (there is no session yet) --------------------------------


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret, salt="haechi-login")


def login_token(request: Request) -> tuple[str, str]:
    """A nonce for the cookie and a signed token for the form that names it."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    if len(nonce) > 64:
        nonce = secrets.token_urlsafe(24)
    return nonce, _serializer(request).dumps(nonce)


def login_token_ok(request: Request, token: str) -> bool:
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not token:
        return False
    try:
        signed = _serializer(request).loads(token, max_age=3600)
    except BadSignature:
        return False
    return isinstance(signed, str) and hmac.compare_digest(signed, nonce)
