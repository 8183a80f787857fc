"""A service's refusal reaches a Korean reader in Korean (haechi.i18n.t_ / localize): the
sentence is raised in English with its template, and the page translates it for the
request's language — escaped and with invisible characters shown, as any exception text —
while the JSON API keeps answering in English."""

from __future__ import annotations

import pytest
from tests.web.conftest import client_of, log_in
from tests.web.test_web_jobs import case_ref  # noqa: F401 - the fixture

from haechi.app import App
from haechi.services import integrations
from haechi.web.settings import WebSettings

pytestmark = pytest.mark.skipif(
    not integrations.available("cases"), reason="the cases capability is not installed"
)
QUIET = WebSettings(run_jobs=False)


def test_a_korean_session_reads_a_refused_form_in_korean(app: App, case_ref: str) -> None:  # noqa: F811
    with client_of(app, QUIET) as web:
        csrf = log_in(web, "lee")
        form = {"csrf_token": csrf, "status": "lost"}
        english = web.post(f"/cases/{case_ref}/status", data=form)
        assert english.status_code == 400 and "Unknown case status &#39;lost&#39;" in english.text
        web.cookies.set("haechi_lang", "ko")
        korean = web.post(f"/cases/{case_ref}/status", data=form)
        assert korean.status_code == 400
        assert "알 수 없는 사건 상태 &#39;lost&#39;입니다." in korean.text, korean.text[-2000:]
        assert "Unknown case status" not in korean.text
        # the parameter is inserted as given: escaped, its reordering characters shown
        hostile = web.post(f"/cases/{case_ref}/status", data={**form, "status": "<b>x</b>\u202e"})
        assert hostile.status_code == 400 and "알 수 없는 사건 상태" in hostile.text
        assert "<b>x</b>" not in hostile.text and "&lt;b&gt;x&lt;/b&gt;" in hostile.text
        assert "\u202e" not in hostile.text
        # a refusal on a page of its own (the application's error handler), then the API
        page = web.get("/cases/NOPE-9")
        assert page.status_code == 400 and "사건 &#39;NOPE-9&#39;이(가) 없습니다." in page.text
        api = web.get("/api/cases/NOPE-9")
        assert api.status_code == 400
        assert api.json()["detail"].startswith("There is no case 'NOPE-9'")
