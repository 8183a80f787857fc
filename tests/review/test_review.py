"""Review decisions, tags, bank-match review and banks built from them, bulk add to a case:
who and when is recorded, the custody log names the acting person, and a second send of
the same request adds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from haechi.app import App
from haechi.auth.types import Actor
from haechi.cases.acting import acting_as
from haechi.domain import UsageError
from haechi.review import decisions, matches, queue, tags
from haechi.review.categories import load_categories

WEB_USER = Actor(7, "lee", "investigator", "web", "127.0.0.1")


def _images(app: App) -> list[str]:
    with app.db.connect() as conn:
        return list(
            conn.execute(
                text("SELECT sha256 FROM blobs WHERE kind = 'image' ORDER BY sha256")
            ).scalars()
        )


def _events(app: App, event_type: str) -> list[tuple[str, str | None, dict]]:
    with app.db.connect() as conn:
        rows = conn.execute(
            text("SELECT body FROM custody_events WHERE event_type = :t ORDER BY seq"),
            {"t": event_type},
        ).scalars()
        out = []
        for body in rows:
            event = json.loads(body)
            out.append((event["actor"], event["subject"], event["data"]))
        return out


def test_a_decision_names_the_web_user_supersedes_and_is_not_doubled(store: App) -> None:
    app = acting_as(store, WEB_USER.custody_name)
    sha = _images(store)[0]
    first = decisions.categorise(app, sha, "synthetic_sexual", note="generator artefacts")
    again = decisions.categorise(app, sha, "synthetic_sexual", note="generator artefacts")
    assert first.created and not again.created and again.id == first.id
    assert first.decided_by == "lee (web)" and first.custody_seq is not None
    events = _events(store, decisions.REVIEW_DECISION)
    assert len(events) == 1
    actor, subject, data = events[0]
    assert actor == "lee (web)" and subject == sha
    assert data["decision"] == "synthetic_sexual" and "generator" not in json.dumps(data)
    changed = decisions.categorise(app, sha, "real_sexual")
    victim = decisions.categorise(app, sha, "victim_identified")
    now = decisions.current(store, [f"file:{sha}"])[f"file:{sha}"]
    assert now["content"].id == changed.id and now["victim"].id == victim.id
    history = decisions.history(store, f"file:{sha}")
    assert [d.value for d in history] == ["synthetic_sexual", "real_sexual", "victim_identified"]
    assert [d.current for d in history] == [False, True, True]
    assert _events(store, decisions.REVIEW_DECISION)[1][2]["previous"] == "synthetic_sexual"
    with pytest.raises(UsageError, match="no category 'nsfw'"):
        decisions.categorise(app, sha, "nsfw")
    with pytest.raises(UsageError, match="No stored file"):
        decisions.categorise(app, "0" * 64, "not_sexual")


def test_categories_come_from_review_toml_and_typos_are_refused(tmp_path: Path) -> None:
    assert [c.key for c in load_categories(tmp_path).categories] == list("123456")
    (tmp_path / "review.toml").write_text(
        '[[category]]\nid = "csam"\nen = "Child abuse"\nko = "아동 성착취물"\nkey = "x"\n'
        'custody = true\n[[category]]\nid = "ok"\nen = "Fine"\nko = "이상 없음"\nkey = "0"\n'
        'group = "content"\ncustody = false\n',
        encoding="utf-8",
    )
    cats = load_categories(tmp_path)
    assert [c.id for c in cats.categories] == ["csam", "ok"] and not cats.get("ok").custody
    (tmp_path / "review.toml").write_text(
        '[[category]]\nid = "a"\nen = "A"\nko = "가"\nkey = "n"\n', encoding="utf-8"
    )
    with pytest.raises(UsageError, match="key is one character other than"):
        load_categories(tmp_path)
    (tmp_path / "review.toml").write_text(
        '[[category]]\nid = "a"\nen = "A"\nko = "가"\nkey = "1"\ncolour = "red"\n',
        encoding="utf-8",
    )
    with pytest.raises(UsageError, match="Unknown setting"):
        load_categories(tmp_path)


def test_the_queue_hides_what_is_decided_and_finds_the_next_file(store: App) -> None:
    page = queue.triage_page(store, show="all", limit=200)
    shas = [i.sha256 for i in page.items]
    assert shas and len(shas) == len(set(shas))
    first, second = shas[0], shas[1]
    assert queue.next_item(store, first, show="all") == second
    decisions.categorise(store, first, "not_sexual")
    undecided = [i.sha256 for i in queue.triage_page(store, limit=200).items]
    assert first not in undecided and second in undecided
    assert queue.next_item(store, first) == second
    chosen = queue.triage_page(store, show="not_sexual")
    assert [i.sha256 for i in chosen.items] == [first]
    assert chosen.items[0].decisions["content"].value == "not_sexual"
    # Paging covers the whole queue, each file once.
    seen, cursor = [], None
    while True:
        part = queue.triage_page(store, show="all", cursor=cursor, limit=3)
        seen += [i.sha256 for i in part.items]
        cursor = part.next_cursor
        if cursor is None:
            break
    assert seen == shas


def test_tags_are_added_once_and_must_name_stored_rows(store: App) -> None:
    app = acting_as(store, WEB_USER.custody_name)
    sha = _images(store)[0]
    report = tags.add_tag(app, [f"file:{sha}", "message:1", "chat:1"], "bot-ad")
    assert (report.added, report.targets) == (3, 3)
    assert tags.add_tag(app, [f"file:{sha}"], "bot-ad").added == 0
    assert tags.tags_of(store, [f"file:{sha}", "message:2"]) == {f"file:{sha}": ["bot-ad"]}
    assert tags.all_tags(store) == [("bot-ad", 3)]
    with pytest.raises(UsageError, match="no stored message"):
        tags.add_tag(app, ["message:999999"], "x")
    with pytest.raises(UsageError, match="not a tag"):
        tags.add_tag(app, ["message:1"], "<script>")
    assert tags.remove_tag(app, ["message:1"], "bot-ad") == 1
    assert tags.tagged(store, "bot-ad") == ["chat:1", f"file:{sha}"]


def test_bulk_add_to_a_case_is_one_transaction_and_idempotent(store: App) -> None:
    from haechi.cases import bulk
    from haechi.cases.model import CaseError
    from haechi.cases.service import create_case

    app = acting_as(store, WEB_USER.custody_name)
    case = create_case(app, "bulk")
    sha = _images(store)[0]
    with store.db.connect() as conn:
        media_id = conn.execute(
            text("SELECT id FROM media WHERE blob_sha256 = :s ORDER BY id"), {"s": sha}
        ).scalar()
    targets = ["message:1", "message:2", "chat:1", f"media:{media_id}", f"file:{sha}"]
    first = bulk.add_targets(app, case.ref, targets)
    assert first.added == len(first.items) >= 4  # message 1, 2, the chat, the file
    second = bulk.add_targets(app, case.ref, targets)
    assert second.added == 0 and second.existing == len(first.items)
    with pytest.raises(CaseError, match="no stored message"):
        bulk.add_targets(app, case.ref, ["message:3", "message:99999999"])
    with store.db.connect() as conn:
        refs = conn.execute(
            text("SELECT ref, added_by FROM case_items WHERE case_id = :c"), {"c": case.id}
        ).all()
    assert "message:3" not in {r for r, _ in refs}  # the refused request added nothing
    assert {who for _, who in refs} == {"lee (web)"}


def test_match_review_and_a_bank_from_confirmed_matches(store: App) -> None:
    pytest.importorskip("haechi.match.bank_sources")
    from haechi.match.bank_sources import add_blobs
    from haechi.match.banks import create_bank, get_bank
    from haechi.match.lookup import list_matches
    from haechi.match.matching import run_matching

    sha = _images(store)[0]
    create_bank(store, "reported", description="benign test bank")
    add_blobs(store, "reported", [sha])
    run_matching(store)
    match = next(m for m in list_matches(store, blob_sha256=sha, limit=None) if m.bank_name)
    app = acting_as(store, WEB_USER.custody_name)
    confirmed = matches.review_match(app, match.id, "confirmed")
    assert matches.review_match(app, match.id, "confirmed").id == confirmed.id
    actor, subject, data = _events(store, decisions.REVIEW_DECISION)[-1]
    assert (actor, subject, data["decision"], data["match_id"]) == (
        "lee (web)", sha, "confirmed", match.id,
    )  # fmt: skip
    with pytest.raises(UsageError, match="confirmed or dismissed"):
        matches.review_match(app, match.id, "maybe")
    built = matches.bank_from_confirmed(app, "confirmed in review", confirmed_matches=True)
    assert built.created and built.items_added == 1
    again = matches.bank_from_confirmed(app, "confirmed in review", confirmed_matches=True)
    assert not again.created and again.items_added == 0
    bank = get_bank(store, "confirmed in review")
    assert bank.items == 1 and bank.created_by == "lee (web)" and bank.origin == "review"
    decisions.categorise(app, _images(store)[1], "synthetic_sexual")
    more = matches.bank_from_confirmed(app, "confirmed in review", categories=["synthetic_sexual"])
    assert more.items_added == 1 and get_bank(store, "confirmed in review").items == 2
