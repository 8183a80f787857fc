"""Two real haechi instances (two data directories, two servers on loopback) publish to and
subscribe from each other: additions and withdrawals over several syncs, matching at once
on the receiving side, scope changes, shared hashes, both directions, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from tests.exchange.conftest import Pair

from haechi.auth.audit import entries
from haechi.exchange.partners import add_partner, get_partner, set_scope
from haechi.exchange.subscriptions import add_haechi, get_subscription
from haechi.exchange.sync import sync
from haechi.match.bank_sources import add_files, add_hashes
from haechi.match.banks import bank_items, create_bank, get_bank, remove_items
from haechi.match.lookup import list_matches
from haechi.store.models import CustodyEvent
from haechi.store.tables.exchange import ExchangeImport


def _events(app, event_type: str) -> list[dict]:  # type: ignore[no-untyped-def]
    with app.db.connect() as conn:
        rows = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.event_type == event_type)
            .order_by(CustodyEvent.seq)
        ).scalars().all()  # fmt: skip
    return [json.loads(r) for r in rows]


def _hashes(app, bank: str) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(k, v) for item in bank_items(app, bank) for k, v, _ in item.signals}


def _one(app, name: str):  # type: ignore[no-untyped-def]
    [report] = sync(app, name)
    assert report.error is None, report.error
    return report


def test_additions_and_withdrawals_over_several_syncs(pair: Pair) -> None:
    a, b = pair.a, pair.b
    create_bank(a, "reported", origin="support centre", labels=["reported"])
    create_bank(a, "internal")
    cat = add_files(a, "reported", [pair.cat()])
    assert cat.items_added == 1
    add_hashes(a, "internal", [("md5", "1" * 32)])
    token, _ = add_partner(a, "b-unit", banks=["reported"], description="partner unit")
    add_haechi(b, "a-unit", url=pair.a_url, token=token, public_key_pem=pair.pem(a))

    first = _one(b, "a-unit")
    assert (first.pages, first.added, first.withdrawn) == (1, 1, 0)
    bank = get_subscription(b, "a-unit").bank_name
    [item] = bank_items(b, bank)
    assert {k for k, _, _ in item.signals} == {"md5", "sha256", "pdq"}
    assert item.labels == ["reported"]
    provenance = item.attributes["exchange"]
    assert provenance["partner"] == "a-unit" and provenance["key"] == item.external_id
    assert provenance["remote_added_at"] and provenance["fetched_at"]
    assert item.origin == "exchange:a-unit"
    assert item.notes is None and "support centre" not in json.dumps(item.attributes)
    # matched at once against b's stored pictures of the café cat, with custody events
    hits = list_matches(b, bank=bank, limit=None)
    assert first.matches == len(hits) >= 2
    matched = {e["subject"] for e in _events(b, "match") if e["data"]["target"].get("bank") == bank}
    assert {h.blob_sha256 for h in hits} <= matched
    # the publisher logged the page: an export with its digest, on the audit trail too
    [export] = [e for e in _events(a, "export") if e["subject"] == "partner:b-unit"]
    assert export["data"]["adds"] == 1 and export["actor"] == "partner:b-unit (exchange)"
    [imported] = _events(b, "exchange_import")
    assert imported["data"]["payload_sha256"] == export["data"]["payload_sha256"]
    assert entries(a, action="export", subject="partner:b-unit")
    assert get_partner(a, "b-unit").last_change == get_subscription(b, "a-unit").position

    # a second item in the shared bank arrives; the other bank's never does
    add_hashes(a, "reported", [("pdq", "f" * 64)])
    add_hashes(a, "internal", [("sha256", "2" * 64)])
    second = _one(b, "a-unit")
    assert (second.added, second.withdrawn) == (1, 0)
    assert ("pdq", "f" * 64) in _hashes(b, bank)
    assert not {("md5", "1" * 32), ("sha256", "2" * 64)} & _hashes(b, bank)

    # the victim withdraws consent: the cat goes at a, then at b on the next sync
    gone = next(i for i in bank_items(a, "reported") if i.origin and i.origin.startswith("file"))
    remove_items(a, "reported", [gone.id], reason="consent withdrawn")
    third = _one(b, "a-unit")
    assert (third.added, third.withdrawn) == (0, 1)
    assert _hashes(b, bank) == {("pdq", "f" * 64)}
    removed = _events(b, "bank_items_removed")[-1]["data"]
    assert removed["reason"] == "withdrawn by partner a-unit"
    assert len(list_matches(b, bank=bank, limit=None)) == len(hits)  # matches stay
    with b.db.connect() as conn:
        withdrawn = conn.execute(
            select(func.count()).select_from(ExchangeImport)
            .where(ExchangeImport.withdrawn_at.is_not(None))
        ).scalar_one()  # fmt: skip
    assert withdrawn == 1

    # nothing new: nothing imported, no custody event on either side
    before = (len(_events(b, "exchange_import")), len(_events(a, "export")))
    fourth = _one(b, "a-unit")
    assert (fourth.pages, fourth.added, fourth.withdrawn) == (0, 0, 0)
    assert (len(_events(b, "exchange_import")), len(_events(a, "export"))) == before
    assert entries(a, action="exchange_fetch", subject="partner:b-unit")


def test_a_scope_change_starts_over_and_sweeps(pair: Pair) -> None:
    a, b = pair.a, pair.b
    create_bank(a, "scope one", labels=["one"])
    create_bank(a, "scope two", labels=["two"])
    add_hashes(a, "scope one", [("md5", "3" * 32)])
    add_hashes(a, "scope two", [("md5", "4" * 32)])
    token, _ = add_partner(a, "b-scope", banks=["scope one"])
    add_haechi(b, "a-scope", url=pair.a_url, token=token, public_key_pem=pair.pem(a))
    bank = get_subscription(b, "a-scope").bank_name
    _one(b, "a-scope")
    assert _hashes(b, bank) == {("md5", "3" * 32)}
    set_scope(a, "b-scope", banks=["scope one", "scope two"])
    widened = _one(b, "a-scope")
    assert widened.added == 1 and _hashes(b, bank) == {("md5", "3" * 32), ("md5", "4" * 32)}
    set_scope(a, "b-scope", banks=["scope two"])
    narrowed = _one(b, "a-scope")
    assert narrowed.swept == 1 and _hashes(b, bank) == {("md5", "4" * 32)}
    assert not get_subscription(b, "a-scope").resync
    set_scope(a, "b-scope", banks=["scope one", "scope two"], labels=["one"])
    labelled = _one(b, "a-scope")
    assert labelled.swept == 1 and _hashes(b, bank) == {("md5", "3" * 32)}


def test_a_hash_two_partner_items_share_survives_one_withdrawal(pair: Pair) -> None:
    a, b = pair.a, pair.b
    create_bank(a, "twins one")
    create_bank(a, "twins two")
    add_hashes(a, "twins one", [("pdq", "a" * 64)])
    add_hashes(a, "twins two", [("pdq", "a" * 64)])
    token, _ = add_partner(a, "b-twins", banks=["twins one", "twins two"])
    add_haechi(b, "a-twins", url=pair.a_url, token=token, public_key_pem=pair.pem(a))
    bank = get_subscription(b, "a-twins").bank_name
    assert _one(b, "a-twins").added == 2
    assert _hashes(b, bank) == {("pdq", "a" * 64)}  # a bank keeps each hash once
    [first] = bank_items(a, "twins one")
    remove_items(a, "twins one", [first.id])
    assert _one(b, "a-twins").withdrawn == 1
    assert _hashes(b, bank) == {("pdq", "a" * 64)}  # the other item still publishes it
    [second] = bank_items(a, "twins two")
    remove_items(a, "twins two", [second.id])
    _one(b, "a-twins")
    assert _hashes(b, bank) == set()


def test_both_directions_and_a_deleted_bank(pair: Pair) -> None:
    a, b = pair.a, pair.b
    create_bank(b, "b list", labels=["deepfake"])
    add_hashes(b, "b list", [("sha256", "5" * 64)])
    token, _ = add_partner(b, "a-back", banks=["b list"])
    add_haechi(a, "b-back", url=pair.b_url, token=token, public_key_pem=pair.pem(b))
    bank = get_subscription(a, "b-back").bank_name
    assert _one(a, "b-back").added == 1
    assert _hashes(a, bank) == {("sha256", "5" * 64)}
    from haechi.match.banks import delete_bank

    delete_bank(b, "b list", reason="list expired")
    assert _one(a, "b-back").withdrawn == 1
    assert _hashes(a, bank) == set()
    assert get_bank(a, bank).items == 0


def test_a_deferred_first_sync_is_matched_by_match_all(pair: Pair) -> None:
    from haechi.match.matching import run_matching

    a, b = pair.a, pair.b
    create_bank(a, "deferred")
    add_files(a, "deferred", [pair.cat("deferred.jpg", size=350)])
    token, _ = add_partner(a, "b-deferred", banks=["deferred"])
    add_haechi(b, "a-deferred", url=pair.a_url, token=token, public_key_pem=pair.pem(a))
    bank = get_subscription(b, "a-deferred").bank_name
    [report] = sync(b, "a-deferred", match=False)
    assert report.added == 1 and report.matches == 0
    assert list_matches(b, bank=bank, limit=None) == []
    assert run_matching(b).new_matches >= 2
    assert len(list_matches(b, bank=bank, limit=None)) >= 2
