"""Log-in, lock-out, rate limiting, sessions, CSRF, API tokens and security headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, ROLE_USERS, csrf_of, log_in, login_token

from haechi.app import App
from haechi.auth import accounts, audit
from haechi.auth.accounts import IP_LIMIT, LOCK_AFTER
from haechi.auth.roles import Role
from haechi.auth.sessions import create_token
from haechi.auth.types import cli_actor
from haechi.domain import UsageError

INVESTIGATOR = ROLE_USERS[Role.INVESTIGATOR]


def _try(client: TestClient, username: str, password: str) -> int:
    r = client.post(
        "/login",
        data={"username": username, "password": password, "login_token": login_token(client)},
    )
    return r.status_code


def test_login_sets_a_strict_http_only_cookie(web: TestClient) -> None:
    r = web.post(
        "/login",
        data={"username": INVESTIGATOR, "password": PASSWORD, "login_token": login_token(web)},
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("haechi_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert web.get("/").status_code == 200


def test_wrong_password_is_refused_and_audited(web: TestClient, loaded: App) -> None:
    assert _try(web, INVESTIGATOR, "wrong password!") == 401
    assert _try(web, "nobody-here", "wrong password!") == 401
    failed = audit.entries(loaded, action=audit.LOGIN_FAILED)
    reasons = sorted(e.detail["reason"] for e in failed)
    assert reasons == ["password", "unknown"]
    assert web.get("/").status_code == 303


def test_lock_out_after_repeated_failures(web: TestClient, loaded: App) -> None:
    for _ in range(LOCK_AFTER):
        assert _try(web, INVESTIGATOR, "wrong password!") == 401
    # Locked: even the right password is refused, with the same vague answer.
    assert _try(web, INVESTIGATOR, PASSWORD) == 401
    user = accounts.find_user(loaded, INVESTIGATOR)
    assert user.locked_until is not None
    assert [e.subject for e in audit.entries(loaded, action=audit.LOCKOUT)] == [
        f"user:{INVESTIGATOR}"
    ]
    accounts.unlock(loaded, INVESTIGATOR, actor=cli_actor("test"))
    assert _try(web, INVESTIGATOR, PASSWORD) == 303


def test_rate_limit_per_address(web: TestClient, loaded: App) -> None:
    for i in range(IP_LIMIT):
        assert _try(web, f"guess{i}", "wrong password!") == 401
    r = web.post(
        "/login",
        data={"username": INVESTIGATOR, "password": PASSWORD, "login_token": login_token(web)},
    )
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_login_form_needs_its_token_and_no_open_redirect(web: TestClient) -> None:
    web.get("/login")
    r = web.post(
        "/login", data={"username": INVESTIGATOR, "password": PASSWORD, "login_token": "x"}
    )
    assert r.status_code == 403
    r = web.post(
        "/login",
        data={
            "username": INVESTIGATOR,
            "password": PASSWORD,
            "login_token": login_token(web),
            "next": "//evil.example/",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_csrf_is_required_for_every_unsafe_request(web: TestClient) -> None:
    csrf = log_in(web, INVESTIGATOR)
    assert web.post("/me/break").status_code == 403
    assert web.post("/me/break", headers={"x-csrf-token": "forged"}).status_code == 403
    assert web.post("/me/break", data={"csrf_token": "forged"}).status_code == 403
    cross = {"x-csrf-token": csrf, "origin": "http://evil.example"}
    assert web.post("/me/break", headers=cross).status_code == 403
    assert web.post("/me/break", headers={"x-csrf-token": csrf}).status_code == 200
    assert web.post("/me/break", data={"csrf_token": csrf}).status_code == 200


def test_logout_ends_the_session(web: TestClient) -> None:
    csrf = log_in(web, INVESTIGATOR)
    stolen = dict(web.cookies)
    assert web.post("/logout", data={"csrf_token": csrf}).status_code == 303
    for name, value in stolen.items():
        web.cookies.set(name, value)
    assert web.get("/").status_code == 303


def test_disabling_a_user_ends_their_sessions(web: TestClient, loaded: App) -> None:
    log_in(web, INVESTIGATOR)
    assert web.get("/chats").status_code == 200
    accounts.set_disabled(loaded, INVESTIGATOR, True, actor=cli_actor("test"))
    assert web.get("/chats").status_code == 303
    assert _try(web, INVESTIGATOR, PASSWORD) == 401


def test_admin_manages_users_through_the_page(web: TestClient, loaded: App) -> None:
    csrf = log_in(web, ROLE_USERS[Role.ADMIN])
    r = web.post(
        "/admin/users",
        data={"csrf_token": csrf, "username": "newbie", "password": "a fine passphrase",
              "role": "auditor"},
    )  # fmt: skip
    assert r.status_code == 303
    assert accounts.find_user(loaded, "newbie").role == "auditor"
    r = web.post("/admin/users/newbie", data={"csrf_token": csrf, "action": "disable"})
    assert r.status_code == 303 and accounts.find_user(loaded, "newbie").disabled
    r = web.post("/admin/users", data={"csrf_token": csrf, "username": "x2", "password": "short",
                                       "role": "reviewer", "reason": "new reviewer"})  # fmt: skip
    assert r.status_code == 400 and "at least 10" in r.text


def test_api_tokens(web: TestClient, loaded: App) -> None:
    user = accounts.find_user(loaded, INVESTIGATOR)
    secret, info = create_token(loaded, user, "script", days=1, actor=cli_actor("test"))
    bearer = {"authorization": f"Bearer {secret}"}
    r = web.get("/api/me", headers=bearer)
    assert r.status_code == 200 and r.json()["role"] == "investigator"
    schema = web.get("/api/openapi.json", headers=bearer).json()
    assert schema["info"]["title"] == "haechi"
    assert "/api/search" in schema["paths"]
    assert all(path.startswith("/api/") for path in schema["paths"])  # no HTML pages
    # A token needs no CSRF token (no ambient credentials), but is refused once revoked.
    assert web.get("/api/search?q=latte", headers=bearer).json()["hits"]
    assert web.get("/api/me", headers={"authorization": "Bearer hch_forged"}).status_code == 401
    log_in(web, INVESTIGATOR)
    csrf = csrf_of(web)
    assert web.post(f"/me/tokens/{info.id}/revoke", data={"csrf_token": csrf}).status_code == 303
    web.cookies.clear()
    assert web.get("/api/me", headers=bearer).status_code == 401


def test_security_headers(web: TestClient) -> None:
    for path in ("/login", "/static/app.css"):
        r = web.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
    assert web.get("/login").headers["cache-control"] == "no-store"
    page = web.get("/login").text
    assert "<script>" not in page and "style=" not in page and "cdn" not in page.lower()


def test_request_bodies_are_bounded(web: TestClient) -> None:
    r = web.post("/login", content=b"x" * (2 * 1024 * 1024),
                 headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 413


def test_password_policy(loaded: App) -> None:
    for bad in ("short", "U_Reviewer2", "abababababab", "x" * 300):
        with pytest.raises(UsageError):
            accounts.add_user(
                loaded, "u_reviewer2", bad, "reviewer", actor=cli_actor("t"), reason="t"
            )
    with pytest.raises(UsageError, match="Unknown role"):
        accounts.add_user(loaded, "zz", PASSWORD, "boss", actor=cli_actor("t"))
