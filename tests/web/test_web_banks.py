"""Banks on their own pages and through the API, as ``haechi bank create``, ``describe``,
``add --hash``, ``import``, ``export`` and ``delete``: the real application over SQLite,
anonymous visitors and every role outside the permission matrix refused, a double submit
done once, bad input answered with one sentence, changes recorded under the person's name,
a download logged as an export. One data directory for the module; the tests build on
each other's banks only by name."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.analyst_kit import app_of, bearer, refused_outside, staffed_web
from tests.web.conftest import log_in
from tests.web.counsellor_kit import custody_events, form_key

from haechi.app import App, init_home
from haechi.auth import audit
from haechi.auth.roles import MATRIX, Perm, Role
from haechi.services import integrations

pytestmark = pytest.mark.skipif(
    not integrations.available("matches"), reason="haechi.match is not installed"
)
BANK = "피해자 2024-031"  # fictional
PDQ = "f" * 16 + "0" * 16 + "a5" * 16
PDQ2 = "0f" * 32
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
QUOTED = "%ED%94%BC%ED%95%B4%EC%9E%90%202024-031"
# Every changing route of the module, its permission and a body (form, JSON).
CHANGES = {
    "/banks": (Perm.REVIEW, {"name": "x1"}),
    "/api/banks": (Perm.REVIEW, {"name": "x1"}),
    f"/banks/{QUOTED}/hashes": (Perm.REVIEW, {"hashes": f"md5:{MD5}"}),
    f"/api/banks/{QUOTED}/hashes": (Perm.REVIEW, {"hashes": [f"md5:{MD5}"]}),
    f"/banks/{QUOTED}/delete": (Perm.REVIEW, {"reason": "r"}),
    f"/api/banks/{QUOTED}/delete": (Perm.REVIEW, {"reason": "r"}),
    f"/banks/{QUOTED}/import": (Perm.EXCHANGE_MANAGE, {}),
    f"/api/banks/{QUOTED}/import": (Perm.EXCHANGE_MANAGE, {}),
}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from haechi.match.bank_sources import add_hashes
    from haechi.match.banks import create_bank

    app = init_home(tmp_path_factory.mktemp("banks") / "home")
    create_bank(app, BANK, description="상담센터 제공 (fictional)", labels=["victim"])
    add_hashes(app, BANK, [("pdq", PDQ)], notes="first")
    try:
        with staffed_web(app) as client:
            yield client
    finally:
        app.close()


def _upload(text: str, name: str = "partner.txt") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, text.encode(), "text/plain")}


def _items(app: App, bank: str = BANK) -> int:
    from haechi.match.banks import get_bank

    return get_bank(app, bank).items


@pytest.mark.parametrize("path", sorted(CHANGES))
def test_anonymous_and_roles_outside_the_matrix_are_refused(web: TestClient, path: str) -> None:
    app = app_of(web)
    perm, body = CHANGES[path]
    files = _upload(f"pdq {PDQ2}\n") if path.endswith("/import") else None
    before = _items(app)
    if path.startswith("/api") and not files:
        refused_outside(web, perm, "POST", path, json=body)
    else:
        refused_outside(web, perm, "POST", path, body, files=files)
    assert _items(app) == before and not audit.entries(app, action="bank_change")
    for role in Role:  # the pages and downloads too
        if role in MATRIX[Perm.MATCHES] and role in MATRIX[Perm.EXCHANGE_MANAGE]:
            continue
        headers = bearer(app, f"u_{role.value}")
        if role not in MATRIX[Perm.MATCHES]:
            assert web.get(f"/banks/{QUOTED}", headers=headers).status_code == 403
        assert web.get(f"/api/banks/{QUOTED}/export", headers=headers).status_code == 403


def test_the_bank_page_in_korean_with_kst(web: TestClient) -> None:
    log_in(web, "u_support_worker")  # matches.read only
    listing = web.get("/banks", headers={"accept-language": "ko"}).text
    assert f'href="/banks/{QUOTED}"' in listing and 'id="bank-create"' not in listing
    page = web.get(f"/banks/{QUOTED}", headers={"accept-language": "ko"}).text
    assert '<bdi translate="no">피해자 2024-031</bdi>' in page and "상담센터" in page
    assert PDQ[:16] in page and re.search(r"\d\d:\d\d UTC · [\d: -]+ KST", page)
    assert "해시" in page and 'id="bank-delete"' not in page and 'id="bank-import"' not in page
    assert web.get("/banks/no-such-bank").status_code == 404


def test_creating_a_bank_once_under_the_persons_name(web: TestClient) -> None:
    app = app_of(web)
    csrf = log_in(web, "u_reviewer")
    page = web.get("/banks").text
    form = {"csrf_token": csrf, "key": form_key(page, 'action="/banks"'), "name": "stopncii-7",
            "description": "a partner's list", "labels": "ncii, partner"}  # fmt: skip
    first, again = web.post("/banks", data=form), web.post("/banks", data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == "/banks/stopncii-7"
    assert web.post("/banks", data={**form, "csrf_token": "forged"}).status_code == 403
    bad = web.post("/banks", data={**form, "key": "b" * 24, "name": "<b>"})
    assert bad.status_code == 400 and "A bank name is 1-128 letters" in bad.text
    (event,) = [e for e in custody_events(app, "bank_created") if e["data"]["bank"] == "stopncii-7"]
    assert event["actor"] == "u_reviewer (web)" and event["data"]["labels"] == ["ncii", "partner"]
    (entry,) = audit.entries(app, action="bank_change")
    assert entry.username == "u_reviewer" and entry.detail["did"] == "bank_create"

    headers = {**bearer(app, "u_investigator"), "idempotency-key": "bank-create-000001"}
    made = web.post("/api/banks", json={"name": "api-bank"}, headers=headers)
    repeat = web.post("/api/banks", json={"name": "api-bank"}, headers=headers)
    assert made.status_code == 201 and repeat.status_code == 200 and repeat.json()["repeat"]
    assert made.json()["location"] == "/api/banks/api-bank"
    listed = web.get("/api/banks", headers=headers).json()
    assert {"api-bank", "stopncii-7", BANK} <= {b["name"] for b in listed}


def test_typed_hashes_once_and_refused_as_one_sentence(web: TestClient) -> None:
    app = app_of(web)
    csrf = log_in(web, "u_investigator")
    page = web.get(f"/banks/{QUOTED}").text
    path = f"/banks/{QUOTED}/hashes"
    form = {"csrf_token": csrf, "key": form_key(page, path), "hashes": f"pdq:{PDQ2}\nmd5:{MD5}"}
    first, again = web.post(path, data=form), web.post(path, data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert "added=1" in first.headers["location"] and _items(app) == 2
    shown = web.get(first.headers["location"], headers={"accept-language": "ko"}).text
    assert 'id="bank-done"' in shown and "항목 1개 추가" in shown
    bad = web.post(path, data={**form, "key": "h" * 24, "hashes": "pdq-abc"})
    assert bad.status_code == 400 and "Write hashes as kind:value" in bad.text
    api = web.post(f"/api{path}", json={"hashes": [f"md5:{MD5}"]},
                   headers=bearer(app, "u_reviewer"))  # fmt: skip
    assert api.status_code == 201 and api.json()["items_added"] == 0  # in the bank already
    (event,) = [e for e in custody_events(app, "bank_items_added") if e["actor"].endswith("(web)")]
    assert event["actor"] == "u_investigator (web)" and event["data"]["items"] == 1


def test_importing_a_partner_list_once(web: TestClient, tmp_path: Path) -> None:
    app = app_of(web)
    csrf = log_in(web, "u_admin")  # exchange.manage
    page = web.get(f"/banks/{QUOTED}").text
    assert 'id="bank-import"' in page and 'id="bank-delete"' not in page
    path = f"/banks/{QUOTED}/import"
    lines = "# a partner's list\n" + "".join(f"pdq {c * 64}\n" for c in "123")
    form = {"csrf_token": csrf, "key": form_key(page, path), "format": "te"}
    first = web.post(path, data=form, files=_upload(lines))
    again = web.post(path, data=form, files=_upload(lines))
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert "added=3" in first.headers["location"] and _items(app) == 5
    (event,) = [e for e in custody_events(app, "bank_items_added") if e["actor"] == "u_admin (web)"]
    assert event["data"]["source"]["file"] == "partner.txt"
    assert event["data"]["source"]["format"] == "te"

    broken = f"pdq {'4' * 64}\npdq nothex\n"
    bad = web.post(path, data={**form, "key": "i" * 24}, files=_upload(broken))
    assert bad.status_code == 400 and "partner.txt, line 2" in bad.text and _items(app) == 5
    empty = web.post(path, data={**form, "key": "j" * 24}, files=_upload(""))
    assert empty.status_code == 400 and "the one sent is empty" in empty.text
    wrong = web.post(path, data={**form, "key": "l" * 24, "format": "xml"}, files=_upload(lines))
    assert wrong.status_code == 400 and "auto or one of te, te-csv" in wrong.text
    big = web.post(path, data={**form, "key": "m" * 24}, files=_upload("#" * 990_000))
    assert big.status_code == 400 and "larger than 960 KB" in big.text

    headers = {**bearer(app, "u_investigator"), "idempotency-key": "bank-import-00001"}
    got = web.post(f"/api{path}", data={"skip_bad": "true"}, files=_upload(broken),
                   headers=headers)  # fmt: skip
    repeat = web.post(f"/api{path}", data={"skip_bad": "true"}, files=_upload(broken),
                      headers=headers)  # fmt: skip
    assert got.status_code == 201 and repeat.status_code == 200, got.text
    assert got.json()["items_added"] == 1 and got.json()["skipped"][0]["line"] == 2
    assert _items(app) == 6


def test_exporting_a_bank_is_a_logged_download(web: TestClient) -> None:
    app = app_of(web)
    log_in(web, "u_investigator")
    r = web.get(f"/banks/{QUOTED}/export?format=te")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert f"pdq {PDQ}" in r.text and f"md5 {MD5}" in r.text
    # one export custody event, the audit entry's, holding what the CLI's records
    (event,) = custody_events(app, "export")
    assert event["actor"] == "u_investigator (web)" and event["data"]["kind"] == "bank_list"
    assert event["data"]["format"] == "te" and event["data"]["items"] >= 2
    assert event["data"]["sha256"] == hashlib.sha256(r.content).hexdigest()
    # where the list went: the download's name, not a scratch file
    assert event["data"]["file"] == f"download:{event['data']['name']}"
    (entry,) = audit.entries(app, action="export")
    assert entry.username == "u_investigator" and entry.detail["kind"] == "bank_list"
    assert entry.custody_seq is not None
    vics = web.get(f"/api/banks/{QUOTED}/export?format=vics",
                   headers=bearer(app, "u_admin"))  # fmt: skip
    assert vics.status_code == 200 and vics.headers["content-type"].startswith("application/json")
    bad = web.get(f"/banks/{QUOTED}/export?format=xml")
    assert bad.status_code == 400 and "A bank is written as one of" in bad.text
    assert len(audit.entries(app, action="export")) == 2


def _events_since(app: App, seq: int) -> list[tuple[str, str | None, dict[str, object]]]:
    import json

    from sqlalchemy import select

    from haechi.store.models import CustodyEvent

    with app.db.connect() as conn:
        rows = conn.execute(
            select(CustodyEvent.event_type, CustodyEvent.subject, CustodyEvent.body)
            .where(CustodyEvent.seq > seq).order_by(CustodyEvent.seq)
        ).all()  # fmt: skip
    return [(r.event_type, r.subject, json.loads(r.body)["data"]) for r in rows]


def _last_seq(app: App) -> int:
    from sqlalchemy import func, select

    from haechi.store.models import CustodyEvent

    with app.db.connect() as conn:
        return int(conn.execute(select(func.max(CustodyEvent.seq))).scalar() or 0)


def test_a_bank_download_makes_the_events_the_cli_export_does(
    web: TestClient, tmp_path: Path
) -> None:
    """``haechi bank export`` writes one export event on ``bank:<id>``; a download from the
    page writes that one too (its audit entry's), not a second beside it."""
    from tests.helpers import haechi_here

    app = app_of(web)
    before = _last_seq(app)
    done = haechi_here("bank", "export", BANK, str(tmp_path / "list.te"), "--format", "te",
                       home=app.settings.home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    cli = _events_since(app, before)
    middle = _last_seq(app)
    log_in(web, "u_investigator")
    r = web.get(f"/banks/{QUOTED}/export?format=te")
    assert r.status_code == 200
    ours = _events_since(app, middle)
    assert [(t, s) for t, s, _d in ours] == [(t, s) for t, s, _d in cli] and len(cli) == 1
    (_t, subject, cli_data), (_t2, _s2, web_data) = cli[0], ours[0]
    assert subject is not None and subject.startswith("bank:") and subject[5:].isdigit()
    for key in ("bank", "format", "sha256", "items", "lines"):
        assert web_data[key] == cli_data[key], key
    assert r.content == (tmp_path / "list.te").read_bytes()
    assert web_data["file"] == f"download:{web_data['name']}"


def test_deleting_a_bank_needs_a_reason_and_is_done_once(web: TestClient) -> None:
    app = app_of(web)
    csrf = log_in(web, "u_reviewer")
    page = web.get("/banks/stopncii-7").text
    path = "/banks/stopncii-7/delete"
    form = {"csrf_token": csrf, "key": form_key(page, path), "reason": ""}
    bare = web.post(path, data=form)
    assert bare.status_code == 400 and "Give the reason for deleting the bank" in bare.text
    form["reason"] = "the list expired"
    first, again = web.post(path, data=form), web.post(path, data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == "/banks"
    (event,) = custody_events(app, "bank_deleted")
    assert event["actor"] == "u_reviewer (web)" and event["data"]["reason"] == "the list expired"
    assert web.get("/banks/stopncii-7").status_code == 404

    headers = {**bearer(app, "u_investigator"), "idempotency-key": "bank-delete-000001"}
    gone = web.post("/api/banks/api-bank/delete", json={"reason": "test"}, headers=headers)
    repeat = web.post("/api/banks/api-bank/delete", json={"reason": "test"}, headers=headers)
    assert gone.status_code == 201 and repeat.status_code == 200 and repeat.json()["repeat"]
    missing = web.post("/api/banks/api-bank/delete", json={"reason": "test"},
                       headers=bearer(app, "u_investigator"))  # fmt: skip
    assert missing.status_code == 400 and "There is no bank called" in missing.json()["detail"]
