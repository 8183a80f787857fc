"""Helpers of the analysts' and administrators' page tests (rooms, lexicon, tags, the map's
download, units): a small export with one abusive room, one data directory per test
module, and the refusal walk over anonymous visitors and every role outside a permission."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.text.kit import T0, room, write_export
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import add_staff

from haechi.app import App
from haechi.auth.accounts import find_user
from haechi.auth.roles import MATRIX, Perm, Role
from haechi.auth.sessions import create_token
from haechi.auth.types import cli_actor
from haechi.demo.tdesktop_format import Peer
from haechi.web.settings import WebSettings

A = Peer("익명1", "user7700000001")
B = Peer("익명2", "user7700000002")
ABUSE = "겹지인 모임"
CAFE = "커피 모임"


def build(tmp: Path) -> Path:
    """Two rooms: one the lexicon ranks high (a victim's school and year named, a bot ad),
    one about coffee."""
    abuse = room(ABUSE, 1400000001)
    abuse.message(T0, A, "○○고 07년생 ○○○ 아시는 분? 갠텔 주세요")
    abuse.message(T0 + 60, B, "지인능욕 합성 해드림. 첫 장 무료, 다이아 충전은 @maker_demo_bot")
    abuse.message(T0 + 120, A, ["방 터지면 대피방으로 ", ("link", "https://t.me/+AbCdEf123456")])
    cafe = room(CAFE, 1600000001)
    cafe.message(T0, A, "귤 껍질 벗기기 대회 열려요")
    return write_export(tmp / "export", [abuse, cafe])


@contextmanager
def module_web(tmp: Path, *, ingest: bool = True, text: bool = True) -> Iterator[TestClient]:
    """The web application over a new SQLite data directory (the export ingested when
    ``ingest``, its text analysed when ``text`` too: the scanner's first load takes
    seconds), with one account ``u_<role>`` per role."""
    from haechi.analyze.text.runner import run_text_analysis
    from haechi.app import init_home
    from haechi.cli.ingest_cmd import run_ingest

    app = init_home(tmp / "home")
    try:
        if ingest:
            run_ingest(app, build(tmp), quiet=True)
        if ingest and text:
            run_text_analysis(app)
        with staffed_web(app) as client:
            yield client
    finally:
        app.close()


@contextmanager
def staffed_web(app: App) -> Iterator[TestClient]:
    """The web application over ``app`` (jobs not run by it) with one account ``u_<role>``
    per role: the setting of every page test module built on one data directory."""
    for role in Role:
        add_staff(app, f"u_{role.value}", role.value)
    with client_of(app, WebSettings(run_jobs=False)) as client:
        yield client


def app_of(web: TestClient) -> App:
    return web.app.state.haechi  # type: ignore[attr-defined,no-any-return]


def bearer(app: App, name: str) -> dict[str, str]:
    secret, _ = create_token(app, find_user(app, name), "test", days=1, actor=cli_actor("test"))
    return {"authorization": f"Bearer {secret}"}


def refused_outside(
    web: TestClient, perm: Perm, method: str, path: str, data: dict[str, Any] | None = None,
    **kw: Any,
) -> None:  # fmt: skip
    """Anonymous visitors and every role without ``perm`` are refused ``method path``."""
    app, api = app_of(web), path.startswith("/api")
    web.cookies.clear()
    anonymous = web.request(method, path, data=data, **kw)
    if api:
        assert anonymous.status_code == 401, (path, anonymous.status_code)
    else:
        assert anonymous.status_code == 303, (path, anonymous.status_code)
        assert anonymous.headers["location"].startswith("/login")
    for role in Role:
        if role in MATRIX[perm]:
            continue
        if api:
            r = web.request(method, path, data=data, headers=bearer(app, f"u_{role.value}"), **kw)
        else:
            csrf = log_in(web, f"u_{role.value}")
            form = {"csrf_token": csrf, "key": "k" * 24, **(data or {})}
            r = web.request(method, path, data=form if method == "POST" else None, **kw)
            web.post("/logout", data={"csrf_token": csrf})
            web.cookies.clear()
        assert r.status_code == 403, (path, role, r.status_code)


def module_fixture(name: str, *, ingest: bool = True, text: bool = True) -> Any:
    @pytest.fixture(scope="module")
    def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
        with module_web(tmp_path_factory.mktemp(name), ingest=ingest, text=text) as client:
            yield client

    return web
