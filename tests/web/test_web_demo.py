"""The demo's web step: a login for every role that works and lands on the role's home, the
address, and no server without --serve."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from tests.web.conftest import load_demo, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.demo.steps import DemoContext, s95_web


def test_web_step_makes_logins_that_work(
    sqlite_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from haechi.web.app import create_app

    load_demo(sqlite_app, tmp_path, monkeypatch)
    buf = io.StringIO()
    ctx = DemoContext(app=sqlite_app, home=tmp_path, out=Console(file=buf, width=200))
    s95_web.run(ctx)
    text = buf.getvalue()
    assert "haechi serve --home" in text and "http://127.0.0.1:8470/" in text
    logins = ctx.facts["web_logins"]
    assert {s95_web.ROLES[name] for name in logins} == {r.value for r in Role}
    for name, password in logins.items():
        assert f"{name} / {password}" in text
    s95_web.run(ctx)  # again: the accounts are reset, not duplicated
    homes = {"investigator": "/chats", "auditor": "/audit"}
    for name, password in ctx.facts["web_logins"].items():
        with TestClient(create_app(sqlite_app), follow_redirects=False) as web:
            log_in(web, name, password)
            role = s95_web.ROLES[name]
            landing = web.get("/", follow_redirects=True)
            assert landing.status_code == 200, (name, landing.url)
            if role == "auditor":
                assert landing.url.path == "/audit"
            if role in homes:
                assert web.get(homes[role]).status_code == 200
