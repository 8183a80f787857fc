"""``haechi exchange add`` for a ThreatExchange privacy group on ``/exchange`` (``POST
/exchange/subscriptions`` with ``kind=threatexchange``), and the FollowTheMoney leads jobs
listed on the same page. The real application over SQLite, no network (adding, not
syncing): anonymous visitors and every role outside ``exchange.manage`` refused, a double
submit adds one subscription, bad input answered with one sentence, the person's name in
the custody event, and the app token kept where the command line keeps it and nowhere
else: not in a page, the audit trail, the custody log or the logs."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.web.analyst_kit import app_of, refused_outside, staffed_web
from tests.web.conftest import log_in
from tests.web.counsellor_kit import KEY, custody_events, form_key

from haechi.app import init_home
from haechi.auth import audit
from haechi.auth.roles import Perm

pytest.importorskip("threatexchange")
APP_TOKEN = "1234567890123|" + "Zq9" * 10  # the shape of a Meta app token, made up
PATH = "/exchange/subscriptions"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = init_home(tmp_path_factory.mktemp("exchange-tx") / "home")
    try:
        with staffed_web(app) as client:
            yield client
    finally:
        app.close()


def _form(csrf: str, key: str, **values: str) -> dict[str, str]:
    base = {"csrf_token": csrf, "key": key, "kind": "threatexchange", "name": "meta-te",
            "privacy_group": "1012345678", "app_token": APP_TOKEN}  # fmt: skip
    return {**base, **values}


def _secret_nowhere(web: TestClient, text: str = "") -> None:
    """The app token (or its secret half) is in no page, audit entry or custody event."""
    app = app_of(web)
    secret = APP_TOKEN.split("|")[1]
    trail = json.dumps([e.detail for e in audit.entries(app, limit=500)])
    events = json.dumps(custody_events(app, "exchange_subscription"))
    for where in (text, web.get("/exchange").text, trail, events):
        assert secret not in where and APP_TOKEN not in where


def test_anonymous_and_roles_outside_the_matrix_are_refused(web: TestClient) -> None:
    from haechi.exchange.subscriptions import list_subscriptions

    app = app_of(web)
    refused_outside(web, Perm.EXCHANGE_MANAGE, "POST", PATH, _form("", "k" * 24))
    assert list_subscriptions(app) == []
    assert not audit.entries(app, action="exchange_change")


def test_adding_a_threatexchange_privacy_group_once(
    web: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from haechi.exchange.subscriptions import credentials_of, get_subscription, list_subscriptions

    app = app_of(web)
    csrf = log_in(web, "u_admin")
    page = web.get("/exchange").text
    assert 'id="add-threatexchange"' in page and 'name="app_token"' in page
    assert 'type="password"' in page.split('id="add-threatexchange"')[1].split("</form>")[0]
    key = KEY.search(page.split('id="add-threatexchange"')[1]).group(1)  # type: ignore[union-attr]
    with caplog.at_level(logging.DEBUG):
        first = web.post(PATH, data=_form(csrf, key))
        again = web.post(PATH, data=_form(csrf, key))  # a double submit adds nothing
    assert first.status_code == again.status_code == 303, first.text
    assert (
        first.headers["location"] == again.headers["location"] == "/exchange#subscription-meta-te"
    )
    (sub,) = list_subscriptions(app)
    assert sub.kind == "threatexchange" and sub.tx_api == "fb_threatexchange"
    assert sub.tx_config and sub.tx_config["privacy_group"] == 1012345678
    assert sub.bank_name == "exchange: meta-te"
    # stored as the command line stores it: the subscription's credentials file, 0600
    assert credentials_of(app, get_subscription(app, "meta-te")) == APP_TOKEN
    path = app.settings.keys_dir / "exchange" / f"sub-{sub.id}.credentials"
    assert path.stat().st_mode & 0o077 == 0
    (added,) = [e for e in custody_events(app, "exchange_subscription")
                if e["data"]["action"] == "added"]  # fmt: skip
    assert added["actor"] == "u_admin (web)" and added["data"]["credentials"] is True
    (entry,) = audit.entries(app, action="exchange_change")
    assert entry.username == "u_admin" and entry.subject == "subscription:meta-te"
    assert entry.detail["privacy_group"] == 1012345678
    shown = web.get("/exchange").text
    assert 'id="subscription-meta-te"' in shown and "fb_threatexchange" in shown
    _secret_nowhere(web)
    assert APP_TOKEN.split("|")[1] not in caplog.text
    korean = web.get("/exchange", headers={"accept-language": "ko"}).text
    assert "ThreatExchange 프라이버시 그룹 구독" in korean and "앱 액세스 토큰" in korean
    web.post("/logout", data={"csrf_token": csrf})


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"app_token": "12345"}, "credentials are incomplete"),
        ({"app_token": "not a token at all|x"}, "credentials are incomplete"),
        ({"app_token": ""}, "access token"),
        ({"privacy_group": ""}, "privacy group"),
        ({"privacy_group": "group-7"}, "privacy group"),
        ({"privacy_group": "0"}, "privacy group"),
        ({"name": ""}, "subscription"),
        ({"name": "bad name!"}, "subscription"),
        ({"kind": "iwf"}, "haechi or to ThreatExchange"),
    ],
)
def test_refusals_are_one_sentence_and_add_nothing(
    web: TestClient, caplog: pytest.LogCaptureFixture, values: dict[str, str], said: str
) -> None:
    from haechi.exchange.subscriptions import list_subscriptions

    app = app_of(web)
    before = [s.name for s in list_subscriptions(app)]
    csrf = log_in(web, "u_investigator")
    form = _form(csrf, "refusal-key-000001", **{"name": "other-te", **values})
    with caplog.at_level(logging.DEBUG):
        r = web.post(PATH, data=form)
    assert r.status_code == 400 and 'id="exchange-error"' in r.text
    error = re.search(r'id="exchange-error">([^<]*)<', r.text)
    assert error and said in error.group(1), error
    assert [s.name for s in list_subscriptions(app)] == before
    if values.get("app_token"):
        assert values["app_token"] not in r.text and values["app_token"] not in caplog.text
    _secret_nowhere(web, r.text)
    assert APP_TOKEN.split("|")[1] not in caplog.text
    web.post("/logout", data={"csrf_token": csrf})


def test_a_haechi_subscription_still_needs_its_fields(web: TestClient) -> None:
    csrf = log_in(web, "u_investigator")
    r = web.post(PATH, data={"csrf_token": csrf, "name": "knpa", "url": "https://knpa.example"})
    assert r.status_code == 400 and "hxp_" in r.text
    web.post("/logout", data={"csrf_token": csrf})


def test_the_leads_jobs_are_listed_with_their_state_and_file(web: TestClient) -> None:
    pytest.importorskip("followthemoney")
    from haechi.jobs.worker import run_job

    app = app_of(web)
    csrf = log_in(web, "u_investigator")
    page = web.get("/exchange").text
    assert 'id="leads-jobs"' in page and "No leads file built yet." in page
    r = web.post(
        "/exchange/leads", data={"csrf_token": csrf, "key": form_key(page, "/exchange/leads")}
    )
    assert r.status_code == 303
    job_id = int(r.headers["location"].rsplit("/", 1)[1])
    listed = web.get("/exchange").text.split('id="leads-jobs"')[1]
    assert f'href="/jobs/{job_id}"' in listed and 'class="job job-queued"' in listed
    assert run_job(app, job_id)
    listed = web.get("/exchange").text.split('id="leads-jobs"')[1]
    assert f'href="/jobs/{job_id}/result"' in listed and "leads-" in listed
    korean = web.get("/exchange", headers={"accept-language": "ko"}).text
    assert "최근 단서 파일" in korean
    web.post("/logout", data={"csrf_token": csrf})
    # exchange.manage without export: no leads form, no leads list
    csrf = log_in(web, "u_admin")
    assert 'id="leads-jobs"' not in web.get("/exchange").text
    web.post("/logout", data={"csrf_token": csrf})
