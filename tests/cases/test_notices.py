"""Notices: the right address, language, statutes and statements; refusals in one sentence;
.eml and PDF output; status tracking and time to removal."""

from __future__ import annotations

import email
import email.policy
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.cases.casedata import BOT, CHANNEL_URL, GROUP_A, demo_case

from haechi.app import App
from haechi.cases import items, service
from haechi.cases.model import CaseError
from haechi.cases.notices import lang_en, lang_fr, lang_ko
from haechi.cases.notices.export import export_notice
from haechi.cases.notices.profiles import set_profile
from haechi.cases.notices.recipients import LANGUAGES, RecipientKey
from haechi.cases.notices.service import draft_notice
from haechi.cases.notices.status import mark
from haechi.cases.notices.timing import removal_times
from haechi.cases.notices.views import get_notice
from haechi.store.models import CustodyEvent


def _one_sentence(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text.endswith(".") and "Traceback" not in text
    return text


def _profile(app: App) -> None:
    set_profile(
        app, "unit", person_name="Kim Officer", email="cyber@police.example",
        organisation="Seoul Cyber Investigation Unit",
    )  # fmt: skip


def test_telegram_notice_adult_victim(store: App) -> None:
    ref = demo_case(store)
    _profile(store)
    result = draft_notice(store, ref, "telegram", "en")
    n = result.notice
    assert n.recipient == RecipientKey.TELEGRAM_ABUSE and n.to_address == "abuse@telegram.org"
    assert n.urls == (CHANNEL_URL, f"{CHANNEL_URL}/4", f"{CHANNEL_URL}/5")
    body = n.body
    for needle in ("Message id: 4", "Message id: 5", "Article 14-2", "bona fide belief",
                   "No images or videos are attached", "Kim Officer", "UTC (", "KST)"):  # fmt: skip
        assert needle in body, needle
    assert "Article 11" not in body  # not a minor: the Child/Youth Act is not cited
    # identifiers only: never the victim, a message's text or a chat's title
    assert "김서연" not in body and "latte" not in body.lower() and "Coffee Photos" not in body
    assert re.search(r"File SHA-256: [0-9a-f]{64}", body)


def test_minor_victim_goes_to_stopca_with_child_youth_act(store: App) -> None:
    ref = demo_case(store, minor=True)
    n = draft_notice(store, ref, "telegram", "ko").notice
    assert n.recipient == RecipientKey.TELEGRAM_STOPCA and n.to_address == "stopCA@telegram.org"
    assert n.concerns_minor
    assert (
        "아동·청소년의 성보호에 관한 법률 제11조" in n.body
        and "피해자는 아동·청소년입니다." in n.body
    )
    assert "https://t.me/coffee_photos_demo/4" in n.body


def test_every_recipient_in_every_language(store: App) -> None:
    ref = demo_case(store)
    _profile(store)
    for recipient in ("telegram", "kcsc", "dscvsc", "dsa"):
        for lang in LANGUAGES:
            n = draft_notice(store, ref, recipient, lang).notice
            assert n.urls and all(u in n.body for u in n.urls), (recipient, lang)
    keys = [set(m.TEXT) for m in (lang_en, lang_ko, lang_fr)]
    assert keys[0] == keys[1] == keys[2]
    for table in ("TITLES", "GREETINGS", "INTROS", "ACTIONS", "STATUTES"):
        assert (
            set(getattr(lang_en, table))
            == set(getattr(lang_ko, table))
            == set(getattr(lang_fr, table))
        )


def test_dsa_notice_has_the_four_elements(store: App) -> None:
    ref = demo_case(store)
    with pytest.raises(CaseError) as refused:
        draft_notice(store, ref, "dsa", "en")
    assert "name and e-mail address (Art. 16(2)(c))" in _one_sentence(refused.value)
    _profile(store)
    body = draft_notice(store, ref, "dsa", "fr").notice.body
    for heading in (
        lang_fr.TEXT["dsa_a"],
        lang_fr.TEXT["dsa_b"],
        lang_fr.TEXT["dsa_c"],
        lang_fr.TEXT["dsa_d"],
    ):
        assert heading in body
    assert lang_fr.TEXT["good_faith"] in body and "cyber@police.example" in body
    assert "2024/1385" in body  # the EU basis for an adult victim


def test_dsa_notice_about_a_minor_may_withhold_the_notifier(store: App) -> None:
    ref = demo_case(store, minor=True)
    n = draft_notice(store, ref, "dsa", "en", withhold_notifier=True).notice
    assert lang_en.TEXT["notifier_withheld"] in n.body and "2011/93/EU" in n.body
    assert n.notifier is None
    adult = demo_case(store)
    with pytest.raises(CaseError, match="may be withheld only"):
        draft_notice(store, adult, "dsa", "en", withhold_notifier=True)


def test_item_without_a_link_is_refused(store: App) -> None:
    ref = demo_case(store)
    bot_items = items.add_message(store, ref, chat=BOT, message_id=2)
    with pytest.raises(CaseError) as refused:
        draft_notice(store, ref, "telegram", "en", item_ids=[bot_items[0].id])
    text = _one_sentence(refused.value)
    assert f"Item {bot_items[0].id}" in text and "no public link" in text
    # an implicit selection leaves it out, and says so
    result = draft_notice(store, ref, "telegram", "en")
    assert any(f"item {bot_items[0].id}" in w for w in result.warnings)
    assert all("t.me/" in u for u in result.notice.urls)


def test_telegram_notice_for_a_link_elsewhere_is_refused(store: App) -> None:
    case = service.create_case(store, "Elsewhere")
    link = items.add_link(store, case.ref, "https://example.com/post/1")
    with pytest.raises(CaseError) as refused:
        draft_notice(store, case.ref, "telegram", "en", item_ids=[link.id])
    assert "links example.com, not Telegram" in _one_sentence(refused.value)
    n = draft_notice(store, case.ref, "kcsc", "ko", item_ids=[link.id]).notice
    assert "https://example.com/post/1" in n.body and "정보통신망" in n.body


def test_case_without_consent_records_is_refused(store: App) -> None:
    ref = demo_case(store, consent=False)
    with pytest.raises(CaseError) as refused:
        draft_notice(store, ref, "telegram", "en")
    text = _one_sentence(refused.value)
    assert "Victim V1" in text and "no consent record for takedown" in text
    bare = service.create_case(store, "No victim on record")
    items.add_message(store, bare.ref, chat=GROUP_A, message_id=5)
    assert draft_notice(store, bare.ref, "telegram", "en").notice.urls  # proactive: allowed
    with pytest.raises(CaseError, match="DSCVSC request is made for a victim"):
        draft_notice(store, bare.ref, "dscvsc", "ko")


def test_eml_is_text_only_and_logged(store: App, tmp_path: Path) -> None:
    ref = demo_case(store)
    _profile(store)
    n = draft_notice(store, ref, "telegram", "ko").notice
    digest = export_notice(store, n.id, tmp_path / "n.eml")
    raw = (tmp_path / "n.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["To"] == "abuse@telegram.org" and msg["From"] == "cyber@police.example"
    assert msg["Subject"] == n.subject and msg["X-Haechi-Body-SHA256"].strip() == n.body_sha256
    parts = list(msg.walk())
    assert [p.get_content_type() for p in parts] == ["text/plain"]  # no attachment, no image
    assert msg.get_content().replace("\r\n", "\n") == n.body  # SMTP line ends
    with store.db.connect() as conn:
        bodies = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.event_type == "export")
        ).scalars()
        logged = [json.loads(b)["data"] for b in bodies]
    assert {"kind": "notice_eml", "sha256": digest}.items() <= logged[-1].items()
    with pytest.raises(CaseError, match="exists"):
        export_notice(store, n.id, tmp_path / "n.eml")


def test_an_address_given_with_spaces_or_a_line_end_is_kept_bare(
    store: App, tmp_path: Path
) -> None:
    # The address was checked without its surrounding white space but stored with it: a
    # trailing line end (an address read from a file) made the .eml export fail later.
    ref = demo_case(store)
    _profile(store)
    n = draft_notice(store, ref, "dsa", "en", to_address=" legal@platform.example\n").notice
    assert n.to_address == "legal@platform.example"
    export_notice(store, n.id, tmp_path / "n.eml")
    msg = email.message_from_bytes((tmp_path / "n.eml").read_bytes(), policy=email.policy.default)
    assert msg["To"] == "legal@platform.example"


def test_pdf_notice_embeds_korean_fonts(sqlite_store: App, tmp_path: Path) -> None:
    from tests.report.pdftools import font_names

    ref = demo_case(sqlite_store)
    n = draft_notice(sqlite_store, ref, "kcsc", "ko").notice
    export_notice(sqlite_store, n.id, tmp_path / "n.pdf")
    data = (tmp_path / "n.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    assert any("CJK-KR" in f for f in font_names(data))


def test_tracking_and_time_to_removal(store: App) -> None:
    ref = demo_case(store)
    _profile(store)
    a = draft_notice(store, ref, "telegram", "en").notice
    with pytest.raises(CaseError, match="never marked sent"):
        mark(store, a.id, "removed")
    mark(store, a.id, "sent", at="2024-09-03T10:00+09:00")
    with pytest.raises(CaseError, match="cannot be removed before it was sent"):
        mark(store, a.id, "removed", at="2024-09-03T09:00+09:00")
    mark(store, a.id, "acknowledged", at="2024-09-03T10:05+09:00", external_ref="TG-1")
    done = mark(store, a.id, "removed", at="2024-09-03T12:00+09:00")
    assert (
        done.hours_to_removal == 2.0 and done.decision == "removed" and done.external_ref == "TG-1"
    )
    with pytest.raises(CaseError, match="cannot go back to sent"):
        mark(store, a.id, "sent")
    for hours in (4, 30):
        n = draft_notice(store, ref, "telegram", "en").notice
        mark(store, n.id, "sent", at="2024-09-10T00:00Z")
        mark(store, n.id, "removed", at=f"2024-09-{10 + hours // 24:02d}T{hours % 24:02d}:00Z")
    pending = draft_notice(store, ref, "kcsc", "ko").notice
    mark(store, pending.id, "sent", at="2024-09-10T00:00Z")
    times = {t.recipient: t for t in removal_times(store)}
    tg = times["telegram_abuse"]
    assert (tg.notices, tg.sent, tg.removed, tg.median_hours) == (3, 3, 3, 4.0)
    assert (tg.min_hours, tg.max_hours) == (2.0, 30.0)
    assert times["kcsc"].removed == 0 and times["kcsc"].median_hours is None
    assert get_notice(store, a.id).status == "removed"
