"""Korean and English catalogues, browser language, the switch."""

from __future__ import annotations

import re
from importlib import resources

from fastapi.testclient import TestClient
from tests.web.conftest import ROLE_USERS, log_in

from haechi.auth.audit import ACTIONS
from haechi.auth.roles import Perm, Role
from haechi.web.i18n import catalogue, negotiate


def test_catalogues_have_the_same_keys_and_cover_the_templates() -> None:
    en, ko = catalogue("en"), catalogue("ko")
    assert set(en) == set(ko)
    assert all(ko[k] for k in ko)
    templates = resources.files("haechi.web").joinpath("templates")
    used = set()
    for item in templates.iterdir():
        used |= set(
            re.findall(r"""\bt\(["']([a-z_]+\.[a-z_.]*[a-z])["']\s*[,)]""", item.read_text("utf-8"))
        )
    assert used - set(en) == set()
    for prefix, values in (("role.", [r.value for r in Role]), ("perm.", [p.value for p in Perm]),
                           ("audit.a.", list(ACTIONS))):  # fmt: skip
        assert {prefix + v for v in values} <= set(en)


def test_negotiation() -> None:
    assert negotiate("ko-KR,ko;q=0.9,en;q=0.8", None) == "ko"
    assert negotiate("en-US,en;q=0.9,ko;q=0.5", None) == "en"
    assert negotiate("fr-FR", None) == "en"
    assert negotiate("ko", "en") == "en"
    assert negotiate(None, "xx") == "en"


def test_browser_language_and_switch(web: TestClient) -> None:
    assert "로그인" in web.get("/login", headers={"accept-language": "ko-KR"}).text
    assert "Log in" in web.get("/login", headers={"accept-language": "en"}).text
    r = web.get("/login?lang=ko")
    assert r.status_code == 303
    assert "로그인" in web.get("/login", headers={"accept-language": "en"}).text
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    web.post("/lang", data={"csrf_token": csrf, "lang": "en", "back": "/chats"})
    assert "Chats" in web.get("/chats").text
    web.post("/lang", data={"csrf_token": csrf, "lang": "ko", "back": "/chats"})
    assert "대화방" in web.get("/chats").text
