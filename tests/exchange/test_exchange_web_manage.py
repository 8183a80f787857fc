"""The rest of ``haechi exchange`` on ``/exchange`` and its API: our public key, a
subscription's new token, pause, resume and removal, a partner's scope and removal
(``exchange.manage``), and the FollowTheMoney leads as a logged download (``export``). The
real application over SQLite, one data directory for the module: anonymous visitors and
every role outside the matrix refused, a double submit done once, bad input answered with
one sentence, the person's name in the custody events."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from tests.web.analyst_kit import app_of, bearer, refused_outside, staffed_web
from tests.web.conftest import log_in
from tests.web.counsellor_kit import custody_events, form_key

from haechi.app import App, init_home
from haechi.auth import audit
from haechi.auth.roles import MATRIX, Perm, Role

TOKEN = "hxp_" + "a1" * 16
NEW_TOKEN = "hxp_" + "b2" * 16
CHANGES = {
    "/exchange/subscriptions/knpa/token": (Perm.EXCHANGE_MANAGE, {"token": NEW_TOKEN}),
    "/api/exchange/subscriptions/knpa/token": (Perm.EXCHANGE_MANAGE, {"token": NEW_TOKEN}),
    "/exchange/subscriptions/knpa/disable": (Perm.EXCHANGE_MANAGE, {}),
    "/api/exchange/subscriptions/knpa/disable": (Perm.EXCHANGE_MANAGE, {}),
    "/exchange/subscriptions/knpa/enable": (Perm.EXCHANGE_MANAGE, {}),
    "/api/exchange/subscriptions/knpa/enable": (Perm.EXCHANGE_MANAGE, {}),
    "/exchange/subscriptions/knpa/remove": (Perm.EXCHANGE_MANAGE, {"reason": "r"}),
    "/api/exchange/subscriptions/knpa/remove": (Perm.EXCHANGE_MANAGE, {"reason": "r"}),
    "/exchange/partners/ncmec/scope": (Perm.EXCHANGE_MANAGE, {"bank": "shared"}),
    "/api/exchange/partners/ncmec/scope": (Perm.EXCHANGE_MANAGE, {"banks": ["shared"]}),
    "/exchange/partners/ncmec/remove": (Perm.EXCHANGE_MANAGE, {"reason": "r"}),
    "/api/exchange/partners/ncmec/remove": (Perm.EXCHANGE_MANAGE, {"reason": "r"}),
    "/exchange/leads": (Perm.EXPORT, {}),
    "/api/exchange/ftm": (Perm.EXPORT, {}),
}
READS = {
    "/exchange/key.pem": Perm.EXCHANGE_MANAGE,
    "/api/exchange/key": Perm.EXCHANGE_MANAGE,
    "/api/exchange/ftm": Perm.EXPORT,
}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from haechi.exchange.partners import add_partner
    from haechi.exchange.subscriptions import add_haechi
    from haechi.match.banks import create_bank
    from haechi.store.keys import public_pem

    app = init_home(tmp_path_factory.mktemp("exchange-web") / "home")
    for bank in ("shared", "other"):
        create_bank(app, bank)
    for partner in ("ncmec", "platform-x"):
        add_partner(app, partner, banks=["shared"])
    for sub in ("knpa", "kcsc"):
        add_haechi(app, sub, url="http://127.0.0.1:9/", token=TOKEN,
                   public_key_pem=public_pem(app.signer.public))  # fmt: skip
    try:
        with staffed_web(app) as client:
            yield client
    finally:
        app.close()


def _events(app: App, action: str) -> list[dict[str, object]]:
    return [e for e in custody_events(app, "exchange_subscription") + custody_events(
        app, "exchange_partner") if e["data"]["action"] == action]  # fmt: skip


@pytest.mark.parametrize("path", sorted(CHANGES))
def test_anonymous_and_roles_outside_the_matrix_are_refused(web: TestClient, path: str) -> None:
    app = app_of(web)
    perm, body = CHANGES[path]
    before = len(custody_events(app, "exchange_subscription"))
    if path.startswith("/api"):
        refused_outside(web, perm, "POST", path, json=body)
    else:
        refused_outside(web, perm, "POST", path, body)
    assert len(custody_events(app, "exchange_subscription")) == before
    assert not audit.entries(app, action="exchange_change")


@pytest.mark.parametrize("path", sorted(READS))
def test_the_key_and_the_leads_are_refused_outside_the_matrix(web: TestClient, path: str) -> None:
    app = app_of(web)
    assert web.get(path).status_code == (401 if path.startswith("/api") else 303)
    for role in Role:
        if role not in MATRIX[READS[path]]:
            assert web.get(path, headers=bearer(app, f"u_{role.value}")).status_code == 403


def test_our_public_key_as_pem(web: TestClient) -> None:
    from haechi.exchange.envelope import load_public_key

    app = app_of(web)
    log_in(web, "u_admin")
    page = web.get("/exchange", headers={"accept-language": "ko"}).text
    assert 'id="exchange-public-key"' in page and "우리 공개 키" in page
    assert "-----BEGIN PUBLIC KEY-----" in page
    pem = web.get("/exchange/key.pem")
    assert pem.status_code == 200 and "attachment" in pem.headers["content-disposition"]
    assert load_public_key(pem.content) is not None
    got = web.get("/api/exchange/key", headers=bearer(app, "u_investigator")).json()
    assert got == {"key_id": app.signer.key_id, "pem": pem.text.strip()}


def test_pause_resume_and_a_new_token_change_once(web: TestClient) -> None:
    from haechi.exchange.subscriptions import get_subscription, token_of

    app = app_of(web)
    csrf = log_in(web, "u_investigator")
    for _ in range(2):
        r = web.post("/exchange/subscriptions/knpa/disable", data={"csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/exchange#subscription-knpa"
    assert not get_subscription(app, "knpa").enabled
    page = web.get("/exchange").text
    assert 'action="/exchange/subscriptions/knpa/enable"' in page
    (paused,) = _events(app, "disabled")
    assert paused["actor"] == "u_investigator (web)"
    api = web.post("/api/exchange/subscriptions/knpa/enable", headers=bearer(app, "u_admin"))
    again = web.post("/api/exchange/subscriptions/knpa/enable", headers=bearer(app, "u_admin"))
    assert api.json()["changed"] is True and again.json()["changed"] is False
    assert get_subscription(app, "knpa").enabled and len(_events(app, "enabled")) == 1

    for _ in range(2):
        r = web.post("/exchange/subscriptions/knpa/token",
                     data={"csrf_token": csrf, "token": f" {NEW_TOKEN} "})  # fmt: skip
        assert r.status_code == 303
    assert token_of(app, get_subscription(app, "knpa")) == NEW_TOKEN
    (replaced,) = [e for e in _events(app, "token") if e["data"].get("subscription") == "knpa"]
    assert replaced["actor"] == "u_investigator (web)"
    bad = web.post("/exchange/subscriptions/knpa/token", data={"csrf_token": csrf, "token": "x"})
    assert bad.status_code == 400 and "is not a haechi partner token" in bad.text
    missing = web.post("/exchange/subscriptions/nope/disable", data={"csrf_token": csrf})
    assert missing.status_code == 400 and "There is no subscription called" in missing.text
    assert len(audit.entries(app, action="exchange_change")) == 3


def test_a_partners_scope_and_removal_once(web: TestClient) -> None:
    from haechi.exchange.partners import get_partner

    app = app_of(web)
    csrf = log_in(web, "u_admin")
    page = web.get("/exchange").text
    path = "/exchange/partners/ncmec/scope"
    form = {"csrf_token": csrf, "key": form_key(page, path), "bank": ["shared", "other"],
            "labels": "victim, adult", "kinds": ["pdq"]}  # fmt: skip
    first, again = web.post(path, data=form), web.post(path, data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == "/exchange#partner-ncmec"
    scope = get_partner(app, "ncmec").scope
    assert sorted(n for _, n in scope.banks) == ["other", "shared"] and scope.kinds == ("pdq",)
    (changed,) = _events(app, "scope")
    assert changed["actor"] == "u_admin (web)"
    bad = web.post(path, data={**form, "key": "s" * 24, "bank": "no-such-bank"})
    assert bad.status_code == 400 and "There is no bank called" in bad.text

    path = "/exchange/partners/ncmec/remove"
    form = {"csrf_token": csrf, "key": form_key(page, path), "reason": "agreement ended"}
    first, again = web.post(path, data=form), web.post(path, data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == "/exchange"
    (removed,) = _events(app, "removed")
    assert removed["actor"] == "u_admin (web)" and removed["data"]["reason"] == "agreement ended"

    headers = {**bearer(app, "u_investigator"), "idempotency-key": "partner-remove-0001"}
    gone = web.post("/api/exchange/partners/platform-x/remove", json={}, headers=headers)
    repeat = web.post("/api/exchange/partners/platform-x/remove", json={}, headers=headers)
    assert gone.status_code == 201 and repeat.status_code == 200 and repeat.json()["repeat"]
    scoped = web.post("/api/exchange/partners/platform-x/scope", json={"banks": ["shared"]},
                      headers=bearer(app, "u_investigator"))  # fmt: skip
    assert scoped.status_code == 400 and "There is no partner called" in scoped.json()["detail"]


def test_removing_a_subscription_once_its_bank_stays(web: TestClient) -> None:
    from haechi.match.banks import get_bank

    app = app_of(web)
    csrf = log_in(web, "u_investigator")
    page = web.get("/exchange").text
    path = "/exchange/subscriptions/kcsc/remove"
    form = {"csrf_token": csrf, "key": form_key(page, path), "reason": "moved"}
    first, again = web.post(path, data=form), web.post(path, data=form)
    assert first.status_code == again.status_code == 303
    assert 'id="subscription-kcsc"' not in web.get("/exchange").text
    assert get_bank(app, "exchange: kcsc").name == "exchange: kcsc"
    headers = {**bearer(app, "u_admin"), "idempotency-key": "sub-remove-000001"}
    gone = web.post("/api/exchange/subscriptions/knpa/remove", json={"reason": "x"},
                    headers=headers)  # fmt: skip
    assert gone.status_code == 201 and gone.json()["bank"] == "exchange: knpa"
    repeat = web.post("/api/exchange/subscriptions/knpa/remove", json={"reason": "x"},
                      headers=headers)  # fmt: skip
    assert repeat.status_code == 200 and repeat.json()["repeat"]
    assert len([e for e in _events(app, "removed") if "subscription" in e["data"]]) == 2


def test_the_leads_are_a_job_whose_file_is_a_logged_download(web: TestClient) -> None:
    pytest.importorskip("followthemoney")
    from haechi.jobs import store
    from haechi.jobs.worker import run_job

    app = app_of(web)
    csrf = log_in(web, "u_investigator")
    page = web.get("/exchange", headers={"accept-language": "ko"}).text
    assert 'id="ftm-export"' in page and "분석 플랫폼용 단서" in page and "단서 파일 만들기" in page
    key = form_key(page, "/exchange/leads")
    form = {"csrf_token": csrf, "key": key, "since": "", "with_text": "true"}
    assert web.post("/exchange/leads", data={**form, "csrf_token": "forged"}).status_code == 403
    first = web.post("/exchange/leads", data=form)
    again = web.post("/exchange/leads", data=form)  # a double submit: the same job
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    job_id = int(first.headers["location"].rsplit("/", 1)[1])
    assert [j.id for j in store.jobs(app, kinds=("ftm",), limit=10)] == [job_id]
    assert not [e for e in custody_events(app, "export") if e["data"].get("format") == "ftm"]
    assert run_job(app, job_id)
    written = [e for e in custody_events(app, "export") if e["data"].get("format") == "ftm"]
    assert len(written) == 1 and written[0]["actor"] == "u_investigator (web)"
    assert written[0]["data"]["with_text"] is True
    shown = web.get(f"/jobs/{job_id}", headers={"accept-language": "ko"}).text
    assert "job-done" in shown and 'id="ftm-next"' in shown and "메시지 본문 포함" in shown
    assert "jobs.summary" not in shown and "jobs.kind" not in shown
    assert not audit.entries(app, action="export")  # built, not yet downloaded
    r = web.get(f"/jobs/{job_id}/result")
    info = store.get(app, job_id)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert info.result_name == f"leads-{info.result['cursor']}.jsonl"
    assert info.result_name in r.headers["content-disposition"]
    assert hashlib.sha256(r.content).hexdigest() == written[0]["data"]["sha256"]
    for line in r.content.splitlines():
        assert orjson.loads(line)["schema"]
    (entry,) = audit.entries(app, action="export")
    assert entry.username == "u_investigator" and entry.subject == "ftm"
    assert entry.detail["kind"] == "ftm_download" and entry.custody_seq is not None
    downloaded = custody_events(app, "export")[-1]
    assert downloaded["actor"] == "u_investigator (web)"
    assert downloaded["data"]["sha256"] == written[0]["data"]["sha256"]
    # a bad cursor: the page with its sentence, nothing queued
    bad = web.post("/exchange/leads", data={**form, "key": "k" * 24, "since": "yesterday"})
    assert bad.status_code == 400 and 'class="error"' in bad.text
    assert len(store.jobs(app, kinds=("ftm",), limit=10)) == 1
    # the API: a job (once per key), and the download built in the request for a script
    headers = {**bearer(app, "u_investigator"), "Idempotency-Key": "leads-api-0001"}
    queued = web.post("/api/exchange/ftm", json={"include_personal": True}, headers=headers)
    repeat = web.post("/api/exchange/ftm", json={"include_personal": True}, headers=headers)
    assert queued.status_code == repeat.status_code == 201
    assert queued.json()["id"] == repeat.json()["id"]
    assert store.get(app, queued.json()["id"]).params["include_personal"] is True
    assert run_job(app, queued.json()["id"])
    followed = web.get(queued.json()["location"], headers=headers).json()
    assert followed["state"] == "done" and followed["result_url"].endswith("/result")
    api = web.get("/api/exchange/ftm?with_text=true", headers=bearer(app, "u_investigator"))
    assert api.status_code == 200 and api.headers["x-haechi-ftm-cursor"].startswith("ftm1.")
    assert len(audit.entries(app, action="export")) == 2
    log_in(web, "u_admin")  # exchange.manage without export: no leads form
    assert 'id="ftm-export"' not in web.get("/exchange").text
