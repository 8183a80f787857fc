"""Cases, items, victims and suspects: every change is a signed custody event."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.cases.casedata import BOT, CHANNEL, CHANNEL_URL, GROUP_A, GROUP_B, demo_case

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases import items, people, service
from haechi.cases.detail import case_detail
from haechi.cases.model import CaseError
from haechi.run.verify import verify
from haechi.store.models import CustodyEvent
from haechi.store.tables.cases import CaseSubject


def _case_events(app: App, case_id: int) -> list[dict]:
    with app.db.connect() as conn:
        rows = conn.execute(
            select(CustodyEvent.body)
            .where(CustodyEvent.subject == f"case:{case_id}")
            .order_by(CustodyEvent.seq)
        ).scalars()
        return [json.loads(b) for b in rows]


def test_every_change_is_a_signed_event(store: App) -> None:
    case = service.create_case(store, "Channel spreading composites", tags=["telegram"])
    assert case.ref == f"HC-{case.reported_on[:4]}-{case.id:05d}"
    service.set_status(store, case.ref, "investigating", reason="room identified")
    service.assign(store, case.id, "officer.kim")
    service.tag(store, case.ref, add=["bot"], remove=["telegram"])
    note = service.add_note(store, case.ref, "The channel moved to a backup room.")
    types = [e["type"] for e in _case_events(store, case.id)]
    assert types == [
        ev.CASE_CREATED,
        ev.CASE_UPDATED,
        ev.CASE_UPDATED,
        ev.CASE_UPDATED,
        ev.CASE_NOTE_ADDED,
    ]
    summary = service.get_summary(store, case.ref)
    assert (summary.status, summary.assignee, summary.tags) == (
        "investigating",
        "officer.kim",
        ("bot",),
    )
    # the note's text is not in the log, only its commitment
    bodies = json.dumps(_case_events(store, case.id), ensure_ascii=False)
    assert "backup room" not in bodies and str(note) in bodies
    report = verify(store)
    assert report.ok, report.problems + [str(p) for p in report.chain.problems]


def test_bad_case_requests_are_one_sentence(store: App) -> None:
    service.create_case(store, "A", ref="SEOUL-2024-1")
    with pytest.raises(CaseError, match="already exists"):
        service.create_case(store, "B", ref="SEOUL-2024-1")
    with pytest.raises(CaseError, match="There is no case 'nope'"):
        service.set_status(store, "nope", "closed")
    with pytest.raises(CaseError, match="Unknown case status"):
        service.set_status(store, "SEOUL-2024-1", "finished")
    with pytest.raises(CaseError, match="not a date"):
        service.create_case(store, "C", reported_on="31/07/2024")


def test_items_carry_links_ids_and_hashes(store: App) -> None:
    case = service.create_case(store, "Links")
    added = items.add_message(store, case.ref, chat=GROUP_A, message_id=5)
    assert len(added) == 2 and all(a.created for a in added)  # the message and its photo
    again = items.add_message(store, case.ref, chat=GROUP_A, message_id=5)
    assert [a.id for a in again] == [a.id for a in added] and not any(a.created for a in again)
    items.add_message(store, case.ref, chat=GROUP_B, message_id=4)
    items.add_message(store, case.ref, chat=GROUP_A, message_id=-999999899)  # migrated history
    items.add_chat(store, case.ref, CHANNEL, url=CHANNEL_URL)
    by_url = items.add_message(store, case.ref, url=f"{CHANNEL_URL}/4")
    detail = case_detail(store, case.ref)
    urls = {(i.kind, i.chat_peer_kind, i.message_id): i.url for i in detail.items}
    assert urls[("message", "channel", 5)] == "https://t.me/c/2012345678/5"
    assert urls[("media", "channel", 5)] == "https://t.me/c/2012345678/5"
    assert urls[("message", "chat", 4)] is None  # a legacy basic group has no message links
    assert urls[("message", "channel", -999999899)] is None
    assert urls[("message", "channel", 4)] == f"{CHANNEL_URL}/4"
    photo = next(i for i in detail.items if i.id == by_url[1].id)
    assert photo.blob_sha256 and len(photo.blob_sha256) == 64 and photo.blob_md5
    items.withdraw_item(store, case.ref, photo.id, "duplicate of another item")
    assert next(i for i in case_detail(store, case.ref).items if i.id == photo.id).withdrawn
    with pytest.raises(CaseError, match="has no stored message 999"):
        items.add_message(store, case.ref, chat=BOT, message_id=999)
    with pytest.raises(CaseError, match="links a message"):
        items.add_chat(store, case.ref, CHANNEL, url=f"{CHANNEL_URL}/4")
    with pytest.raises(CaseError, match="not an http"):
        items.add_link(store, case.ref, "javascript:alert(1)")


def test_add_file_adds_every_place_it_was_seen(store: App) -> None:
    case = service.create_case(store, "One file, three chats")
    latte = items.add_message(store, case.ref, chat=CHANNEL, message_id=4)[1]
    sha = next(i for i in case_detail(store, case.ref).items if i.id == latte.id).blob_sha256
    assert sha
    added = items.add_file(store, case.ref, sha)
    places = {i.chat_tg_id for i in case_detail(store, case.ref).items if i.blob_sha256 == sha}
    assert len(added) == 3 and places == {2087654321, 2012345678, 987654321}


def test_victims_never_reach_the_log(store: App) -> None:
    ref = demo_case(store, name="김서연")
    case_id = service.get_summary(store, ref).id
    people.record_consent(store, ref, "V1", "evidence_sharing")
    bodies = json.dumps(_case_events(store, case_id), ensure_ascii=False)
    assert "김서연" not in bodies
    added = next(e for e in _case_events(store, case_id) if e["type"] == ev.CASE_SUBJECT_ADDED)
    with store.db.connect() as conn:
        row = conn.execute(select(CaseSubject).where(CaseSubject.case_id == case_id)).first()
    record = {"display_name": "김서연", "contact": None, "identifiers": [], "age": 24}
    assert added["data"]["record_sha256"] == ev.commitment(record, row.nonce)
    assert (
        ev.commitment({**record, "display_name": "김서영"}, row.nonce)
        != added["data"]["record_sha256"]
    )
    redacted = case_detail(store, ref).victims[0]
    assert redacted.display_name is None and redacted.age_band == "20s" and not redacted.is_minor
    assert case_detail(store, ref, reveal_victims=True).victims[0].display_name == "김서연"


def test_consent_rules(store: App) -> None:
    case = service.create_case(store, "Consent")
    child = people.add_victim(store, case.ref, age=12)
    teen = people.add_victim(store, case.ref, age=16)
    with pytest.raises(CaseError, match="under 14: consent must come from a guardian"):
        people.record_consent(store, case.ref, child, "takedown")
    people.record_consent(store, case.ref, child, "takedown", given_by="guardian")
    with pytest.raises(CaseError, match="Unknown consent scope"):
        people.record_consent(store, case.ref, teen, "everything")
    with pytest.raises(CaseError, match="no consent record for face search"):
        people.link_faces_subject(store, case.ref, teen, "V-2024-017")
    victims = case_detail(store, case.ref).victims
    assert [v.is_minor for v in victims] == [True, True]  # under 19: Child/Youth Act
    consent_id = victims[0].consents[0].id
    people.withdraw_consent(store, case.ref, consent_id)
    assert not case_detail(store, case.ref).victims[0].consents[0].active


def test_suspects_apprehension_and_detention(store: App) -> None:
    case = service.create_case(store, "Suspects")
    idents = [("telegram_id", "5500000013"), ("crypto_wallet", "bc1qexample")]
    label = people.add_suspect(
        store, case.ref, identifiers=idents, account="user:5500000013", age=15
    )
    people.set_suspect_status(store, case.ref, label, "detained", at="2024-07-02T10:00+09:00")
    s = case_detail(store, case.ref).suspects[0]
    assert (s.status, s.age_band) == ("detained", "14-19")
    assert s.apprehended_at == s.detained_at == "2024-07-02T01:00:00Z"  # detention implies it
    other = people.add_suspect(store, case.ref, age=31)
    people.set_suspect_status(store, case.ref, other, "apprehended", at="2024-07-05T09:00Z")
    with pytest.raises(CaseError, match="cannot be detained before being apprehended"):
        people.set_suspect_status(store, case.ref, other, "detained", at="2024-07-04T09:00Z")
    with pytest.raises(CaseError, match="has no time zone"):
        people.set_suspect_status(store, case.ref, other, "detained", at="2024-07-06T09:00")
    with pytest.raises(CaseError, match="No stored account"):
        people.add_suspect(store, case.ref, account="user:1")
