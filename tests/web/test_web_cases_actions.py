"""Case actions from the web pages: each is permission-checked, CSRF-protected, done once
however often the form is sent, and recorded under the acting person's name. Victims stay
redacted until an explicit, logged reveal; a notice for a minor goes to Telegram's
child-safety address, exactly as ``haechi notice draft`` routes it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import add_staff, form_key
from tests.web.test_web_jobs import case_ref  # noqa: F401 - the fixture

from haechi.app import App
from haechi.auth import audit
from haechi.services import integrations
from haechi.store.models import CustodyEvent
from haechi.web.settings import WebSettings

pytestmark = pytest.mark.skipif(
    not integrations.available("cases"), reason="the cases capability is not installed"
)
QUIET = WebSettings(run_jobs=False)
VICTIM = "박하늘"  # fictional


def events(app: App, case_id: int) -> list[dict[str, object]]:
    with app.db.connect() as conn:
        rows = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.subject == f"case:{case_id}")
        ).scalars()
        return [json.loads(b) for b in rows]


def test_opening_a_case_once_under_the_persons_name(app: App) -> None:
    from haechi.cases.service import list_cases

    add_staff(app, "park", "support_worker")
    add_staff(app, "rev", "reviewer")
    with client_of(app, QUIET) as web:
        csrf = log_in(web, "park")
        key = form_key(web.get("/cases").text, 'action="/cases"')
        form = {
            "csrf_token": csrf,
            "key": key,
            "title": "Takedown for V-1",
            "reported_on": "2024-09-01",
        }
        first = web.post("/cases", data=form)
        second = web.post("/cases", data=form)
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert (
            web.post("/cases", data={**form, "csrf_token": "forged", "key": "k" * 20}).status_code
            == 403
        )
        assert web.post("/cases", data={"title": "no token", "key": "x" * 20}).status_code == 403
        missing = web.post("/cases", data={"csrf_token": csrf, "title": "no key"})
        assert missing.status_code == 400 and "reload the page" in missing.text
        web.cookies.clear()
        csrf = log_in(web, "rev")
        assert web.post("/cases", data={**form, "csrf_token": csrf}).status_code == 403
    (case,) = list_cases(app)
    (created,) = [e for e in events(app, case.id) if e["type"] == "case_created"]
    assert created["actor"] == "park (web)"
    from haechi.cases.detail import case_detail

    assert case_detail(app, case.ref).created_by == "park (web)"


def test_victims_stay_redacted_until_a_logged_reveal(app: App, case_ref: str) -> None:  # noqa: F811
    from haechi.cases.detail import case_detail

    with client_of(app, QUIET) as web:
        csrf = log_in(web, "park")
        page = web.get(f"/cases/{case_ref}").text
        key = form_key(page, f"/cases/{case_ref}/victims")
        form = {"csrf_token": csrf, "key": key, "name": VICTIM, "contact": "010-0000-0000",
                "age": "17", "scope": ["takedown", "evidence_sharing"], "given_by": "guardian",
                "method": "written", "consent_on": "2024-09-01"}  # fmt: skip
        for _ in range(2):  # the second submit adds nothing
            assert web.post(f"/cases/{case_ref}/victims", data=form).status_code == 303
        detail = case_detail(app, case_ref)
        (victim,) = detail.victims
        assert victim.label == "V1" and victim.is_minor and len(victim.consents) == 2
        page = web.get(f"/cases/{case_ref}").text
        assert VICTIM not in page and "010-0000-0000" not in page and 'id="reveal-victims"' in page
        assert audit.entries(app, action=audit.REVEAL) == []
        shown = web.post(f"/cases/{case_ref}/victims/reveal", headers={"x-csrf-token": csrf})
        assert shown.status_code == 200 and VICTIM in shown.text
        (entry,) = audit.entries(app, action=audit.REVEAL)
        assert entry.username == "park" and entry.subject == f"case:{detail.id}"
        assert entry.detail["view"] == "victim_identifiers" and entry.detail["victims"] == ["V1"]
        (access,) = [e for e in events(app, detail.id) if e["type"] == "access"]
        assert access["actor"] == "park (web)"
        # the log never holds her name: the case's events carry a commitment
        assert all(VICTIM not in json.dumps(e, ensure_ascii=False) for e in events(app, detail.id))
        # a consent under 14 given by herself is refused with a sentence, nothing written
        page = web.get(f"/cases/{case_ref}").text
        young = {**form, "key": form_key(page, f"/cases/{case_ref}/victims"), "age": "12",
                 "given_by": "subject"}  # fmt: skip
        refused = web.post(f"/cases/{case_ref}/victims", data=young)
        assert refused.status_code == 400 and "guardian" in refused.text
        assert len(case_detail(app, case_ref).victims) == 1
        # withdrawing a consent twice is one withdrawal
        cid = victim.consents[0].id
        for _ in range(2):
            r = web.post(f"/cases/{case_ref}/consents/{cid}/withdraw", data={"csrf_token": csrf})
            assert r.status_code == 303
        withdrawn = [e for e in events(app, detail.id) if e["type"] == "consent_withdrawn"]
        assert len(withdrawn) == 1 and withdrawn[0]["actor"] == "park (web)"


def test_a_minors_notice_goes_to_the_child_safety_address(app: App, case_ref: str) -> None:  # noqa: F811
    from haechi.cases import people

    label = people.add_victim(app, case_ref, age=16)
    people.record_consent(app, case_ref, label, "takedown", given_by="guardian")
    with client_of(app, QUIET) as web:
        csrf = log_in(web, "park")
        page = web.get(f"/cases/{case_ref}").text
        key = form_key(page, f"/cases/{case_ref}/notices")
        form = {"csrf_token": csrf, "key": key, "recipient": "telegram", "language": "en"}
        r = web.post(f"/cases/{case_ref}/notices", data=form)
        assert r.status_code == 303
        assert (
            web.post(f"/cases/{case_ref}/notices", data=form).headers["location"]
            == r.headers["location"]
        )
        url = r.headers["location"]
        page = web.get(url).text
        assert 'id="notice-address"><bdi translate="no">stopCA@telegram.org' in page
        assert "t.me/c/2087651111/" in page  # each place, by its link
        # out of order: a removal before it was sent is refused with a sentence
        when = {"csrf_token": csrf, "day": "2024-09-03", "time": "10:00"}
        bad = web.post(f"{url}/mark", data={**when, "status": "removed", "zone": "KST"})
        assert bad.status_code == 400 and "mark it sent first" in bad.text
        sent = web.post(f"{url}/mark", data={**when, "status": "sent", "zone": "UTC"})
        assert sent.status_code == 303
        from haechi.cases.notices.views import get_notice

        notice = get_notice(app, int(url.rsplit("/", 1)[1]))
        assert notice.sent_unix == 1725357600  # 2024-09-03 10:00 UTC
        assert "2024-09-03 10:00 UTC · 19:00 KST" in web.get(url).text
        # downloads are exports: logged with the file's hash, for notices.write roles only
        txt = web.get(f"{url}/notice.txt")
        assert txt.status_code == 200 and txt.content.decode() == notice.body
        assert web.get(f"{url}/notice.exe").status_code == 400
        web.cookies.clear()
        add_staff(app, "rev", "reviewer")
        log_in(web, "rev")
        assert web.get(f"{url}/notice.eml").status_code == 403
    (export,) = audit.entries(app, action=audit.EXPORT)
    assert export.username == "park" and export.detail["kind"] == "notice_txt"


def test_case_pages_show_times_in_utc_and_kst(app: App, case_ref: str) -> None:  # noqa: F811
    with client_of(app, QUIET) as web:
        log_in(web, "lee")
        page = web.get(f"/cases/{case_ref}").text
    # the posts' times (the export's 10:00 KST), and the custody trail for investigators
    assert "2024-08-01 01:00 UTC · 10:00 KST" in page
    assert "custody-case_created" in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC · \d\d:\d\d KST", page)


def test_status_changes_are_recorded_once(app: App, case_ref: str, tmp_path: Path) -> None:  # noqa: F811
    from haechi.cases.service import get_summary

    with client_of(app, QUIET) as web:
        csrf = log_in(web, "lee")
        for _ in range(2):
            r = web.post(
                f"/cases/{case_ref}/status", data={"csrf_token": csrf, "status": "investigating"}
            )
            assert r.status_code == 303
        bad = web.post(f"/cases/{case_ref}/status", data={"csrf_token": csrf, "status": "lost"})
        assert bad.status_code == 400 and "Unknown case status" in bad.text
    summary = get_summary(app, case_ref)
    assert summary.status == "investigating"
    changes = [e for e in events(app, summary.id) if e["type"] == "case_updated"]
    assert len(changes) == 1 and changes[0]["actor"] == "lee (web)"
    (logged,) = audit.entries(app, action="case_change")
    assert logged.username == "lee" and logged.detail["status"] == "investigating"


def test_a_dsa_notice_needs_the_notifier_set_on_its_page(app: App, case_ref: str) -> None:  # noqa: F811
    from haechi.cases import people

    label = people.add_victim(app, case_ref, age=30)
    people.record_consent(app, case_ref, label, "takedown")
    with client_of(app, QUIET) as web:
        csrf = log_in(web, "park")

        def draft() -> object:
            page = web.get(f"/cases/{case_ref}").text
            key = form_key(page, f"/cases/{case_ref}/notices")
            form = {"csrf_token": csrf, "key": key, "recipient": "dsa", "language": "fr"}
            return web.post(f"/cases/{case_ref}/notices", data=form)

        refused = draft()
        assert refused.status_code == 400 and "notifier" in refused.text  # type: ignore[attr-defined]
        bad = web.post("/notifier", data={"csrf_token": csrf, "email": "not an address"})
        assert bad.status_code == 400 and "is not an e-mail address" in bad.text
        who = {"person_name": "Counsellor Park", "email": "park@centre.example",
               "role": "support_centre"}  # fmt: skip
        ok = web.post("/notifier", data={"csrf_token": csrf, **who})
        assert (
            ok.status_code == 303 and 'id="notifier-saved"' in web.get(ok.headers["location"]).text
        )
        made = draft()
        assert made.status_code == 303  # type: ignore[attr-defined]
        page = web.get(made.headers["location"]).text  # type: ignore[attr-defined]
        assert "park@centre.example" in page and "Counsellor Park" in page


def test_the_cases_list_comes_a_page_at_a_time(app: App) -> None:
    from haechi.cases.service import create_case
    from haechi.web.views.cases import CASES_PAGE

    refs = [create_case(app, f"paged {n}").ref for n in range(CASES_PAGE + 3)]
    add_staff(app, "park", "support_worker")
    with client_of(app, QUIET) as web:
        log_in(web, "park")
        first, second = web.get("/cases"), web.get("/cases?page=1")
        assert first.status_code == second.status_code == 200
        shown = [
            re.findall(r'<a href="/cases/([^"]+)" translate="no">', p.text) for p in (first, second)
        ]
        assert shown[0] == refs[::-1][:CASES_PAGE]  # newest first
        assert shown[1] == refs[::-1][CASES_PAGE:]
        assert 'id="older-cases"' in first.text and 'id="newer-cases"' not in first.text
        assert 'id="newer-cases"' in second.text and 'id="older-cases"' not in second.text
        assert web.get("/cases?page=-1").status_code in (400, 422)
        assert web.get("/cases?page=99999999999").status_code in (400, 422)
