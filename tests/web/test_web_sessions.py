"""Session cookies over HTTPS (``Secure``, the ``__Host-`` prefix), HSTS, idle and absolute
session expiry, the ``[session]`` settings, and the caching and timing headers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.web.conftest import PASSWORD, ROLE_USERS, client_of, csrf_of, log_in, login_token

from haechi.app import App
from haechi.auth.roles import Role
from haechi.web.auth import SECURE_SESSION_COOKIE, SESSION_COOKIE
from haechi.web.settings import WebSettings, load_web_settings

REVIEWER = ROLE_USERS[Role.REVIEWER]


@pytest.fixture
def https(staffed: App) -> Iterator[TestClient]:
    """The application as ``haechi serve --cookie-secure`` builds it, reached over HTTPS."""
    secure = WebSettings(cookie_secure=True)
    with client_of(staffed, secure, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def plain(staffed: App) -> Iterator[TestClient]:
    with client_of(staffed) as client:
        yield client


def test_cookie_secure_uses_the_host_prefix_and_hsts(https: TestClient) -> None:
    log_in(https, REVIEWER)
    assert SECURE_SESSION_COOKIE in https.cookies
    assert SESSION_COOKIE not in https.cookies
    # Log in again to read the Set-Cookie header itself.
    r = https.post(
        "/login",
        data={"username": REVIEWER, "password": PASSWORD, "login_token": login_token(https)},
    )
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("__Host-"))
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "secure" in attrs and "httponly" in attrs and "path=/" in attrs
    assert "samesite=strict" in attrs and not any(a.startswith("domain") for a in attrs)
    form = https.get("/login").headers.get_list("set-cookie")
    assert any(c.startswith("haechi_login=") and "; secure" in c.lower() for c in form)
    assert https.get("/me").status_code == 200
    hsts = https.get("/login").headers["strict-transport-security"]
    assert hsts == "max-age=31536000"
    # Logging out clears the cookie in a way a browser accepts for a __Host- name.
    csrf = csrf_of(https)
    out = https.post("/logout", data={"csrf_token": csrf}).headers.get_list("set-cookie")
    cleared = next(c for c in out if c.startswith(SECURE_SESSION_COOKIE + "="))
    assert "max-age=0" in cleared.lower() and "; secure" in cleared.lower()
    assert "path=/" in cleared.lower()
    assert https.get("/me").status_code == 303


def test_plain_http_has_neither_secure_cookies_nor_hsts(plain: TestClient) -> None:
    r = plain.get("/login")
    assert "strict-transport-security" not in r.headers
    log_in(plain, REVIEWER)
    assert SESSION_COOKIE in plain.cookies


def _session_times(app: App, **values: int) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in values)
    with app.db.begin() as conn:
        conn.execute(text(f"UPDATE web_sessions SET {sets}"), values)


def test_idle_and_absolute_expiry(plain: TestClient, staffed: App) -> None:
    idle = plain.app.state.web.idle_seconds  # type: ignore[attr-defined]
    log_in(plain, REVIEWER)
    now = int(time.time())
    # Within both limits: the session goes on, and the visit is written down.
    _session_times(staffed, last_seen_at=now - idle + 120)
    assert plain.get("/me").status_code == 200
    with staffed.db.connect() as conn:
        seen = conn.execute(text("SELECT last_seen_at FROM web_sessions")).scalar()
    assert seen is not None and seen >= now
    # Idle for longer than the limit: gone.
    _session_times(staffed, last_seen_at=now - idle - 1)
    r = plain.get("/me")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    # Active, but past the absolute limit since login: gone too.
    plain.cookies.clear()
    log_in(plain, REVIEWER)
    _session_times(staffed, last_seen_at=int(time.time()), expires_at=int(time.time()) - 1)
    assert plain.get("/me").status_code == 303
    assert plain.get("/api/me").status_code == 401


def test_session_limits_from_web_toml(tmp_path: Path) -> None:
    (tmp_path / "web.toml").write_text("[session]\nidle_minutes = 30\nhours = 8\n")
    settings = load_web_settings(tmp_path, cookie_secure=True)
    assert (settings.idle_seconds, settings.absolute_seconds) == (1800, 8 * 3600)
    assert settings.cookie_secure is True


def test_vendored_assets_are_immutable_and_times_are_reported(plain: TestClient) -> None:
    vendor = plain.get("/static/vendor/htmx-2.0.11.min.js")
    assert vendor.status_code == 200
    assert vendor.headers["cache-control"] == "public, max-age=31536000, immutable"
    own = plain.get("/static/app.css")
    assert "immutable" not in own.headers.get("cache-control", "")  # not versioned by name
    page = plain.get("/login")
    assert page.headers["cache-control"] == "no-store"
    timing = page.headers["server-timing"]
    assert timing.startswith("app;dur=") and float(timing.split("=", 1)[1]) >= 0
    missing = plain.get("/static/vendor/nothing.js")
    assert missing.status_code == 404 and "immutable" not in missing.headers.get(
        "cache-control", ""
    )
