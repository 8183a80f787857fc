"""Accounts that cannot be abused (issue 17, point 2), each finding reproduced as it was
found from outside: an administrator granting themselves reveal rights, creating or
taking over an account that reveals originals, common passwords, API tokens outliving a
reset or a role change, and a spoofed X-Forwarded-For moving the login limits."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from tests.helpers import haechi
from tests.web.conftest import PASSWORD, ROLE_USERS, client_of, log_in, login_token

from haechi.app import App
from haechi.auth import accounts, audit, grants
from haechi.auth.roles import Role
from haechi.auth.sessions import create_token
from haechi.auth.types import cli_actor
from haechi.domain import UsageError
from haechi.web.settings import WebSettings

ADMIN = ROLE_USERS[Role.ADMIN]
AUDITOR = ROLE_USERS[Role.AUDITOR]
INVESTIGATOR = ROLE_USERS[Role.INVESTIGATOR]
SECOND = "second_admin"


@pytest.fixture
def web(staffed: App) -> Iterator[TestClient]:
    accounts.add_user(staffed, SECOND, PASSWORD, "admin", actor=cli_actor("test"))
    with client_of(staffed) as client:
        yield client


def _try_login(client: TestClient, username: str, password: str) -> int:
    data = {"username": username, "password": password, "login_token": login_token(client)}
    return client.post("/login", data=data).status_code


def _as(client: TestClient, username: str) -> str:
    client.cookies.clear()
    return log_in(client, username)


def test_an_admin_cannot_change_their_own_role(web: TestClient, staffed: App) -> None:
    csrf = _as(web, ADMIN)
    r = web.post(
        f"/admin/users/{ADMIN}", data={"csrf_token": csrf, "action": "role", "role": "investigator"}
    )
    assert r.status_code == 400
    assert accounts.find_user(staffed, ADMIN).role == "admin"
    with pytest.raises(UsageError, match="own account"):
        accounts.set_role(staffed, ADMIN, "auditor", actor=cli_actor(ADMIN), reason="x")
    # the page offers no action on one's own row
    assert f'action="/admin/users/{ADMIN}"' not in web.get("/admin/users").text


def test_reveal_rights_need_a_second_admin(web: TestClient, staffed: App) -> None:
    csrf = _as(web, ADMIN)
    form = {"csrf_token": csrf, "action": "role", "role": "investigator"}
    r = web.post(f"/admin/users/{AUDITOR}", data=form)
    assert r.status_code == 400  # no reason given
    r = web.post(f"/admin/users/{AUDITOR}", data={**form, "reason": "joins the cyber unit"})
    assert r.status_code == 200 and accounts.find_user(staffed, AUDITOR).role == "auditor"
    (pending,) = grants.pending(staffed)
    assert pending.role == "investigator" and pending.requested_by == ADMIN
    # a double submit files nothing twice
    again = web.post(f"/admin/users/{AUDITOR}", data={**form, "reason": "joins the cyber unit"})
    assert again.status_code == 400 and len(grants.pending(staffed)) == 1
    # the requester cannot approve it
    r = web.post(f"/admin/grants/{pending.id}", data={"csrf_token": csrf, "decision": "approve"})
    assert r.status_code == 400 and accounts.find_user(staffed, AUDITOR).role == "auditor"
    # a second administrator can
    csrf2 = _as(web, SECOND)
    r = web.post(f"/admin/grants/{pending.id}", data={"csrf_token": csrf2, "decision": "approve"})
    assert r.status_code == 303 and accounts.find_user(staffed, AUDITOR).role == "investigator"
    r = web.post(f"/admin/grants/{pending.id}", data={"csrf_token": csrf2, "decision": "approve"})
    assert r.status_code == 400  # decided once
    changes = [e.detail for e in audit.entries(staffed, action=audit.USER_CHANGE)]
    assert any(d.get("grant") == pending.id and d.get("requested_by") == ADMIN for d in changes)


def test_an_account_that_reveals_is_created_disabled_until_approved(
    web: TestClient, staffed: App
) -> None:
    csrf = _as(web, ADMIN)
    data = {"csrf_token": csrf, "username": "sock", "password": "a fine passphrase"}
    r = web.post("/admin/users", data={**data, "role": "investigator", "reason": "new officer"})
    assert r.status_code == 200 and accounts.find_user(staffed, "sock").disabled
    assert _try_login(web, "sock", "a fine passphrase") == 401
    (pending,) = grants.pending(staffed)
    grants.decide(staffed, pending.id, False, actor=cli_actor(SECOND))  # refused
    assert accounts.find_user(staffed, "sock").disabled
    # "add user" has no default role, least of all administrator
    page = web.get("/admin/users").text
    select = re.search(r'<select name="role" required>(.*?)</select>', page, re.S)
    assert select and 'value="" selected disabled' in select.group(1)
    assert web.post("/admin/users", data={**data, "username": "x3", "role": ""}).status_code == 400


def test_an_admin_reset_never_lets_the_admin_log_in(web: TestClient, staffed: App) -> None:
    csrf = _as(web, ADMIN)
    r = web.post(f"/admin/users/{AUDITOR}", data={"csrf_token": csrf, "action": "password"})
    assert r.status_code == 200
    code = re.search(r'id="reset-code">.*?<code>([^<]+)</code>', r.text, re.S)
    assert code
    secret = code.group(1)
    # neither the old password nor the code logs in: the code only lets the user choose one
    assert _try_login(web, AUDITOR, PASSWORD) == 401
    assert _try_login(web, AUDITOR, secret) == 401
    web.cookies.clear()
    web.get("/login/reset")
    token = re.search(r'name="login_token" value="([^"]+)"', web.get("/login/reset").text)
    assert token
    form = {"username": AUDITOR, "code": secret, "new": "my own fresh phrase",
            "again": "my own fresh phrase", "login_token": token.group(1)}  # fmt: skip
    assert web.post("/login/reset", data=form).status_code == 200
    assert _try_login(web, AUDITOR, "my own fresh phrase") == 303
    # the code is used up
    web.cookies.clear()
    token = re.search(r'name="login_token" value="([^"]+)"', web.get("/login/reset").text)
    assert token
    again = {**form, "new": "yet another phrase", "again": "yet another phrase",
             "login_token": token.group(1)}  # fmt: skip
    assert web.post("/login/reset", data=again).status_code == 401


def test_resetting_an_account_that_reveals_needs_a_second_admin(
    web: TestClient, staffed: App
) -> None:
    csrf = _as(web, ADMIN)
    form = {"csrf_token": csrf, "action": "password", "reason": "forgot it, called the desk"}
    r = web.post(f"/admin/users/{INVESTIGATOR}", data=form)
    assert r.status_code == 200 and "reset-code" not in r.text
    assert _try_login(web, INVESTIGATOR, PASSWORD) == 303  # nothing changed yet
    (pending,) = grants.pending(staffed)
    decision = grants.decide(staffed, pending.id, True, actor=cli_actor(SECOND))
    assert decision.reset_code
    assert _try_login(web, INVESTIGATOR, PASSWORD) == 401


def test_a_temporary_password_must_be_changed_at_login(web: TestClient, staffed: App) -> None:
    accounts.reset_password(
        staffed, AUDITOR, "temporary pass phrase", actor=cli_actor("ops"), reason="desk"
    )
    web.cookies.clear()
    assert _try_login(web, AUDITOR, "temporary pass phrase") == 303
    r = web.get("/audit")
    assert r.status_code == 303 and r.headers["location"] == "/me/password"
    assert web.get("/api/me").status_code == 403
    csrf = csrf_of_password_page(web)
    weak = {"csrf_token": csrf, "current": "temporary pass phrase", "new": "Password123",
            "again": "Password123"}  # fmt: skip
    r = web.post("/me/password", data=weak)
    assert r.status_code == 400 and "common" in r.text
    good = {**weak, "new": "violet ostrich mailbox", "again": "violet ostrich mailbox"}
    assert web.post("/me/password", data=good).status_code == 303
    assert web.get("/audit").status_code == 200


def csrf_of_password_page(client: TestClient) -> str:
    page = client.get("/me/password")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


@pytest.mark.parametrize("change", ["reset", "role", "disable"])
def test_api_tokens_end_with_a_reset_a_role_change_or_disabling(
    web: TestClient, staffed: App, change: str
) -> None:
    user = accounts.find_user(staffed, AUDITOR)
    secret, _info = create_token(staffed, user, "script", days=1, actor=cli_actor("test"))
    bearer = {"authorization": f"Bearer {secret}"}
    assert web.get("/api/me", headers=bearer).status_code == 200
    ops = cli_actor("ops")
    if change == "reset":
        accounts.reset_password(staffed, AUDITOR, actor=ops)
    elif change == "role":
        accounts.set_role(staffed, AUDITOR, "admin", actor=ops)
    else:
        accounts.set_disabled(staffed, AUDITOR, True, actor=ops)
        accounts.set_disabled(staffed, AUDITOR, False, actor=ops)  # enabling revives nothing
    assert web.get("/api/me", headers=bearer).status_code == 401


@pytest.mark.parametrize("weak", ["password12", "Password123", "qwertyuiop12", "iloveyou2024"])
def test_common_passwords_are_refused(staffed: App, weak: str) -> None:
    with pytest.raises(UsageError, match="too easy to guess"):
        accounts.add_user(staffed, "newbie", weak, "auditor", actor=cli_actor("ops"))


def test_the_command_line_gives_reveal_rights_only_with_a_reason(staffed: App, home) -> None:
    proc = haechi("user", "role", AUDITOR, "investigator", home=home)
    assert proc.returncode != 0 and "--reason" in proc.stdout + proc.stderr
    assert accounts.find_user(staffed, AUDITOR).role == "auditor"
    proc = haechi("user", "role", AUDITOR, "investigator", "--reason", "case 2024-17", home=home)
    assert proc.returncode == 0, proc.stderr
    assert accounts.find_user(staffed, AUDITOR).role == "investigator"
    entry = audit.entries(staffed, action=audit.USER_CHANGE)[0]
    assert entry.detail["reason"] == "case 2024-17" and entry.via == "cli"


# -- the address the login limits see ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(staffed: App) -> Iterator[tuple[str, App]]:
    """The application under uvicorn with `haechi serve`'s own options, on loopback."""
    from haechi.cli.serve_cmd import FAST
    from haechi.web.app import create_app

    port = _free_port()
    settings = WebSettings(run_jobs=False)
    config = uvicorn.Config(
        create_app(staffed, settings), host="127.0.0.1", port=port, log_level="warning", **FAST
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", staffed
    server.should_exit = True
    thread.join(10)


def test_a_forged_forwarded_for_moves_nothing(served: tuple[str, App]) -> None:
    base, app = served
    with httpx.Client(base_url=base) as client:
        page = client.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text)
        assert token
        r = client.post(
            "/login",
            data={"username": INVESTIGATOR, "password": "wrong password!",
                  "login_token": token.group(1)},
            headers={"x-forwarded-for": "203.0.113.9"},
        )  # fmt: skip
        assert r.status_code == 401
    (entry,) = audit.entries(app, action=audit.LOGIN_FAILED)
    assert entry.ip == "127.0.0.1"


def test_a_trusted_proxy_is_believed(staffed: App) -> None:
    from starlette.requests import Request

    from haechi.web.auth import client_ip

    class _State:
        web = WebSettings(trusted_proxies=("10.0.0.0/8",))

    class _App:
        state = _State()

    def request(peer: str, forwarded: str) -> Request:
        scope = {
            "type": "http", "app": _App(), "client": (peer, 1234), "method": "GET", "path": "/",
            "headers": [(b"x-forwarded-for", forwarded.encode())],
        }  # fmt: skip
        return Request(scope)

    # the right-most address that is not a trusted proxy; the client's own claim ignored
    assert client_ip(request("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.3")) == "198.51.100.7"
    assert client_ip(request("192.0.2.1", "198.51.100.7")) == "192.0.2.1"  # not a proxy
    assert client_ip(request("10.0.0.2", "not-an-address")) == "10.0.0.2"
