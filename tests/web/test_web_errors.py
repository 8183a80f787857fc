"""No malformed request gets a 500, and every error carries the security headers
(issue 17, point 6): integers beyond 64 bits in URLs, negative and non-numeric ids, and
an error that escapes every handler."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Perm, Role
from haechi.web.app import api_routes
from haechi.web.auth import needs

HUGE = str(2**70)
VALUES = {"huge": HUGE, "negative_huge": "-" + HUGE, "negative": "-1", "text": "x%00y"}


def _int_params(route) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.name for p in route.dependant.path_params if p.field_info.annotation is int]


def _headers_ok(r) -> bool:  # type: ignore[no-untyped-def]
    return "content-security-policy" in r.headers and r.headers.get("x-frame-options") == "DENY"


@pytest.mark.parametrize("role", [Role.INVESTIGATOR, Role.ADMIN, Role.SUPPORT_WORKER])
def test_out_of_range_ids_in_urls_never_give_a_500(web: TestClient, role: Role) -> None:
    csrf = log_in(web, ROLE_USERS[role])
    checked = 0
    for route in api_routes(web.app):  # type: ignore[arg-type]
        names = _int_params(route)
        if not names:
            continue
        for label, value in VALUES.items():
            path = route.path
            for name in names:
                path = path.replace("{" + name + "}", value)
            path = path.replace("{sha256}", "a" * 64).replace("{case}", "X").replace("{fmt}", "eml")
            for method in sorted(route.methods):
                r = web.request(method, path, headers={"x-csrf-token": csrf})
                assert r.status_code < 500, (role, method, path, label, r.status_code, r.text)
                assert _headers_ok(r), (method, path, r.headers)
                checked += 1
    assert checked > 20


@pytest.fixture
def broken(staffed: App) -> Iterator[TestClient]:
    from haechi.web.app import create_app
    from haechi.web.settings import WebSettings

    api = create_app(staffed, WebSettings(run_jobs=False))

    def boom() -> None:
        raise RuntimeError("a bug")

    api.add_api_route("/boom", boom, dependencies=[needs(Perm.SELF)])
    with TestClient(api, follow_redirects=False, raise_server_exceptions=False) as client:
        yield client


def test_an_unhandled_error_is_one_sentence_with_every_header(broken: TestClient) -> None:
    log_in(broken, ROLE_USERS[Role.AUDITOR])
    r = broken.get("/boom")
    assert r.status_code == 500
    assert _headers_ok(r) and r.headers["cache-control"] == "no-store"
    assert "Traceback" not in r.text and "a bug" not in r.text
    assert "logged as" in r.text


def test_a_body_too_large_carries_the_headers(staffed: App) -> None:
    with client_of(staffed) as client:
        r = client.post("/login", content=b"x" * (2 * 1024 * 1024),
                        headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 413 and _headers_ok(r)
