"""The web views' own refusals and the web settings' complaints (haechi.web.settings) reach
a Korean reader in Korean: raised in English with their templates (t_), translated for the
request's language or the command line's; the English sentence is unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.domain import DataDirError
from haechi.i18n import localize
from haechi.services import integrations
from haechi.web import i18n
from haechi.web.settings import WEB_CONFIG, load_web_settings, parse_proxies


@pytest.fixture
def korean(staffed: App) -> Iterator[TestClient]:
    with client_of(staffed) as client:
        log_in(client, ROLE_USERS[Role.INVESTIGATOR])
        client.cookies.set(i18n.COOKIE, "ko")
        yield client


def test_a_missing_job_and_a_bad_date_in_korean(korean: TestClient) -> None:
    job = korean.get("/jobs/987654")
    assert job.status_code == 404 and "작업 987654이(가) 없습니다." in job.text
    assert "There is no job" not in job.text
    day = korean.get("/search?q=coffee&from=yesterday")
    assert day.status_code == 400, day.status_code
    assert "&#39;yesterday&#39;은(는) 날짜가 아닙니다. YYYY-MM-DD 형식으로 적으세요." in day.text
    korean.cookies.set(i18n.COOKIE, "en")
    english = korean.get("/search?q=coffee&from=yesterday")
    assert "&#39;yesterday&#39; is not a date: write it as YYYY-MM-DD." in english.text


@pytest.mark.skipif(not integrations.available("stats"), reason="no statistics capability")
def test_an_unknown_statistics_table_in_korean(korean: TestClient) -> None:
    page = korean.get("/stats/nope.csv")
    assert page.status_code == 404 and "&#39;nope&#39; 표는 없습니다. 있는 표:" in page.text


def test_the_web_settings_complain_in_korean(tmp_path: Path) -> None:
    (tmp_path / WEB_CONFIG).write_text("[session]\nidle_minutes = 0\n", encoding="utf-8")
    with pytest.raises(DataDirError) as got:
        load_web_settings(tmp_path)
    path = tmp_path / WEB_CONFIG
    assert str(got.value) == f"session.idle_minutes in {path} must be a positive whole number."
    assert localize(got.value, "ko") == f"{path}의 session.idle_minutes은(는) 양의 정수여야 합니다."
    (tmp_path / WEB_CONFIG).write_text("[proxy]\ntrusted = ['not-a-net']\n", encoding="utf-8")
    with pytest.raises(DataDirError) as bad:
        load_web_settings(tmp_path)
    assert str(bad.value) == f"proxy.trusted in {path}: 'not-a-net' is not an address or network."
    # the place is a sentence of its own, translated inside the sentence
    assert localize(bad.value, "ko") == (
        f"{path}의 proxy.trusted: 'not-a-net'은(는) 주소나 네트워크가 아닙니다."
    )
    (tmp_path / WEB_CONFIG).write_text("[extra]\nx = 1\n", encoding="utf-8")
    with pytest.raises(DataDirError) as section:
        load_web_settings(tmp_path)
    assert "알 수 없는 섹션 ['extra']" in localize(section.value, "ko")
    with pytest.raises(DataDirError) as option:
        parse_proxies("10.0.0.0/8", "--trusted-proxy")
    assert (
        localize(option.value, "ko") == "--trusted-proxy은(는) 주소나 네트워크의 목록이어야 합니다."
    )


def test_an_unknown_live_capture_action_in_korean(staffed: App) -> None:
    with client_of(staffed) as client:
        csrf = log_in(client, ROLE_USERS[Role.INVESTIGATOR])
        client.cookies.set(i18n.COOKIE, "ko")
        form = {"csrf_token": csrf, "action": "explode"}
        page = client.post("/watch/targets/1", data=form)
        assert page.status_code == 400 and "알 수 없는 동작입니다." in page.text
        client.cookies.set(i18n.COOKIE, "en")
        assert "Unknown action." in client.post("/watch/targets/1", data=form).text
