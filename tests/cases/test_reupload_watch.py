"""Re-upload watch: a removed item's files coming back raise a match on the case."""

from __future__ import annotations

import importlib.util
import json
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.cases.casedata import CAT_POST, LATTE_POST, demo_case

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases.detail import case_detail
from haechi.cases.notices.service import draft_notice
from haechi.cases.notices.status import mark
from haechi.cases.notices.views import get_notice, transitions
from haechi.cases.watch import after_ingest, hits, scan
from haechi.store.models import CustodyEvent

ROOT = Path(__file__).resolve().parents[2]
MATCHING = int(importlib.util.find_spec("haechi.match.bank_sources") is not None)


def test_removed_photo_seen_again(store: App) -> None:
    ref = demo_case(store)
    detail = case_detail(store, ref)
    latte = next(i for i in detail.items if i.kind == "media" and i.message_id == LATTE_POST)
    notice = draft_notice(store, ref, "telegram", "en", item_ids=[latte.id]).notice
    assert scan(store).watches == 0  # nothing is watched before a removal
    mark(store, notice.id, "sent", at="2024-08-06T09:00+09:00")
    mark(store, notice.id, "removed", at="2024-08-20T00:00+09:00")
    first = scan(store)
    assert first.watches == 2 + MATCHING  # its SHA-256 and MD5 (+ the matching bank)
    # The channel's latte photo was forwarded to the group on 6 August (before the removal:
    # another copy to report) and again to the new room on 1 September (a re-upload).
    kinds = sorted((h.kind, h.chat_key) for h in first.hits)
    assert kinds == [("copy", "channel:2012345678"), ("reupload", "chat:987654321")]
    assert all(h.blob_sha256 == latte.blob_sha256 for h in first.hits)
    after = get_notice(store, notice.id)
    assert after.status == "reuploaded"
    assert after.reuploaded_unix == next(h.posted_unix for h in first.hits if h.kind == "reupload")
    assert transitions(store, notice.id)[-1][0] == "reuploaded"
    new_items = {i.id: i for i in case_detail(store, ref).items}
    for hit in first.hits:
        assert new_items[hit.new_item_id].reupload_of == latte.id
    assert scan(store).hits == [] and len(hits(store)) == 2  # idempotent
    with store.db.connect() as conn:
        logged = [
            json.loads(b)["data"]
            for b in conn.execute(
                select(CustodyEvent.body).where(CustodyEvent.event_type == ev.REUPLOAD_DETECTED)
            ).scalars()
        ]
    assert sorted(d["kind"] for d in logged) == ["copy", "reupload"]


def test_ingest_hook_is_registered_and_scans(store: App) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    hooks = project["project"]["entry-points"]["haechi.ingest_hooks"]
    assert hooks["cases"] == "haechi.cases.watch:after_ingest"
    ref = demo_case(store)
    latte = next(
        i for i in case_detail(store, ref).items if i.kind == "media" and i.message_id == LATTE_POST
    )
    n = draft_notice(store, ref, "telegram", "en", item_ids=[latte.id]).notice
    mark(store, n.id, "sent", at="2024-08-06T09:00+09:00")
    mark(store, n.id, "removed", at="2024-08-20T00:00+09:00")
    assert after_ingest(store, None) == {"watches": 2 + MATCHING, "hits": 2, "reuploads": 1}
    assert after_ingest(store, None)["hits"] == 0


@pytest.mark.skipif(not MATCHING, reason="the matching capability (haechi.match) is not installed")
def test_recompressed_copy_found_through_the_matching_bank(sqlite_store: App) -> None:
    """The café-cat post was re-posted as a smaller, re-encoded copy: new SHA-256, near PDQ.
    Only the matching capability's bank finds it; the exact watch cannot."""
    from haechi.cli.analyze_cmd import run_analysis

    app = sqlite_store
    assert run_analysis(app, only=["pdq"], quiet=True).as_dict()["ok"] > 0
    ref = demo_case(app)
    cat = next(
        i for i in case_detail(app, ref).items if i.kind == "media" and i.message_id == CAT_POST
    )
    n = draft_notice(app, ref, "telegram", "en", item_ids=[cat.id]).notice
    mark(app, n.id, "sent", at="2024-08-08T10:20+09:00")
    mark(app, n.id, "removed", at="2024-08-20T00:00+09:00")
    found = scan(app).hits
    near = [h for h in found if h.method == "bank" and h.blob_sha256 != cat.blob_sha256]
    assert near, found
    assert {h.kind for h in near} == {
        "copy",
        "reupload",
    }  # 8 August, and the new room on 1 September
    assert get_notice(app, n.id).status == "reuploaded"
    items = {i.id: i for i in case_detail(app, ref).items}
    assert all(items[h.new_item_id].reupload_of == cat.id for h in near)
