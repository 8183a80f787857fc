"""Every route refuses anonymous access except the login page, and the permission matrix
holds for each role on every guarded route."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import MATRIX, Perm, Role, can
from haechi.web.app import api_routes
from haechi.web.auth import PUBLIC, permission_of

DOCS = Path(__file__).resolve().parents[2] / "docs" / "web.md"
SHA = "a" * 64
FACE_PICTURE = "/face-searches/{search_id}/candidates/{sha256}/face.jpg"


def _routes(client: TestClient) -> list[APIRoute]:
    return api_routes(client.app)  # type: ignore[arg-type]


def _url(path: str) -> str:
    path = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # {search_id:int} is {search_id}
    return (
        path.replace("{chat_id}", "1")
        .replace("{message_pk}", "1")
        .replace("{sha256}", SHA)
        .replace("{username}", "nobody")
        .replace("{token_id}", "1")
        .replace("{table}", "summary")
        .replace("{subject_id}", "1")
        .replace("{consent_id}", "1")
        .replace("{search_id}", "1")
        .replace("{case}", "NO-SUCH-CASE")
        .replace("{notice_id}", "1")
        .replace("{job_id}", "1")
        .replace("{fmt}", "eml")
    )


def test_every_route_but_login_refuses_anonymous(web: TestClient) -> None:
    routes = _routes(web)
    assert len(routes) > 20
    for route in routes:
        for method in route.methods:
            r = web.request(method, _url(route.path))
            if route.path in PUBLIC:
                assert r.status_code in (200, 303, 403), (method, route.path, r.status_code)
                continue
            if route.path.startswith("/api"):
                assert r.status_code == 401, (method, route.path, r.status_code)
                assert r.headers["www-authenticate"] == "Bearer"
            else:
                assert r.status_code == 303, (method, route.path, r.status_code)
                assert r.headers["location"].startswith("/login")
    assert {"/login", "/login/reset"} == PUBLIC


def test_every_route_has_a_permission(web: TestClient) -> None:
    for route in _routes(web):
        if route.path in PUBLIC:
            continue
        assert permission_of(route) is not None, route.path


def _matrix_problems(web: TestClient, role: Role) -> list[tuple[object, ...]]:
    csrf = log_in(web, ROLE_USERS[role])
    problems: list[tuple[object, ...]] = []
    checked = 0
    for route in _routes(web):
        perm = permission_of(route)
        if perm is None or "GET" not in route.methods:
            continue
        r = web.get(_url(route.path), headers={"accept": "text/html"})
        if route.path in ("/media/{sha256}/original", FACE_PICTURE):
            # Even an allowed role gets an original (or a candidate's face) only after a
            # logged act.
            wrong = r.status_code != 403
        elif can(role, perm):
            wrong = r.status_code == 403
        else:
            wrong = r.status_code != 403
        if wrong:
            problems.append((role, "GET", route.path, r.status_code))
        checked += 1
    # Unsafe methods are refused by role before anything else happens.
    for route in _routes(web):
        perm = permission_of(route)
        if perm is None or "POST" not in route.methods or can(role, perm):
            continue
        r = web.post(_url(route.path), headers={"x-csrf-token": csrf})
        if r.status_code != 403:
            problems.append((role, "POST", route.path, r.status_code))
    if checked <= 15:
        problems.append((role, "only", checked, "routes checked"))
    return problems


def test_the_matrix_holds_for_each_role(loaded: App) -> None:
    """Every role in turn, each in a client of its own, on one data directory (making
    it is most of the test's time)."""
    problems = []
    for role in Role:
        with client_of(loaded) as client:
            problems += _matrix_problems(client, role)
    assert not problems, problems


def test_auditors_never_see_the_archive(web: TestClient) -> None:
    log_in(web, ROLE_USERS[Role.AUDITOR])
    for path in ("/chats", "/search?q=latte", "/media", "/api/search?q=latte"):
        assert web.get(path).status_code == 403, path
    # Their home is the audit trail: "/" (where logging in leads) takes them there.
    home = web.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/audit"
    assert web.get("/audit").status_code == 200


def test_the_documented_matrix_is_the_code(web: TestClient) -> None:
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("<!-- matrix -->", 2)[1]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    documented = {}
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        perm = Perm(cells[0].strip("`"))
        documented[perm] = {role for role, cell in zip(Role, cells[2:], strict=True) if cell == "✓"}
    assert documented == {p: set(r) for p, r in MATRIX.items()}
    header = re.search(r"\| permission \| what \|(.*)\|", table)
    assert header and [h.strip() for h in header.group(1).split("|")] == [r.value for r in Role]


def test_every_unsafe_route_refuses_a_missing_or_forged_csrf_token(loaded: App) -> None:
    """Issue 13, point 7: every state-changing route of the pages, sent by a role that may
    use it, is refused without the session's CSRF token (form field or header) or with a
    forged one, before it does anything."""
    problems: list[tuple[object, ...]] = []
    posts = 0
    for role in Role:
        with client_of(loaded) as client:
            log_in(client, ROLE_USERS[role])
            for route in _routes(client):
                perm = permission_of(route)
                if (
                    perm is None
                    or route.path.startswith("/api")
                    or not (route.methods & {"POST", "PUT", "PATCH", "DELETE"})
                    or not can(role, perm)
                ):
                    continue
                for method in route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
                    url = _url(route.path)
                    for sent in ({}, {"data": {"csrf_token": "forged"}},
                                 {"headers": {"x-csrf-token": "forged"}}):  # fmt: skip
                        r = client.request(method, url, **sent)  # type: ignore[arg-type]
                        posts += 1
                        if r.status_code != 403:
                            problems.append((role.value, method, route.path, r.status_code))
    assert posts > 100 and not problems, problems
