"""Korean in the full-text index: particles, compounds and spacing, on both back ends."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from haechi.app import App
from haechi.auth.types import Actor
from haechi.services import search_index
from haechi.services.search import Filters, search
from haechi.services.search_terms import pg_document
from haechi.store.models import Chat, Message, Source

ME = Actor(None, "tester", "investigator", via="cli")
TEXTS = {
    1: "딥페이크영상 유포 신고합니다",
    2: "고양이사진을 보냈어요",
    3: "영상통화 가능하세요?",
    4: "사진 영상 다 지웠어요",
    5: "The deepfake video was reported",
    6: "페이 결제 링크",  # 페이 on its own: a word, not inside 딥페이크
    7: "카톡id 알려주세요 ㅋㅋ",
    8: "이크 고양이",  # 이크 and 고양 stand apart: "이크고양" must not match
}


@pytest.fixture
def korean(app: App) -> App:
    now = "2026-01-01T00:00:00Z"
    with app.db.begin() as conn:
        conn.execute(insert(Source).values(
            id=1, kind="test", uri="t", label="t", collector="t", collector_version="0",
            operator="t", host="t", status="finished", started_at=now,
        ))  # fmt: skip
        conn.execute(insert(Chat).values(id=1, key="channel:1", peer_kind="channel", tg_id=1,
                                         first_source_id=1))  # fmt: skip
        conn.execute(insert(Message), [
            {"id": i, "chat_id": 1, "message_id": i, "source_id": 1, "kind": "message",
             "date_unix": 1_700_000_000 + i, "text": t, "raw": "{}", "repaired_escapes": 0}
            for i, t in TEXTS.items()
        ])  # fmt: skip
    search_index.catch_up(app)
    return app


@pytest.mark.parametrize(
    ("query", "want"),
    [
        ("영상", {1, 3, 4}),  # alone, at the end of a compound, at the start of one
        ("사진", {2, 4}),  # with a particle (사진을), inside 고양이사진을
        ("페이크", {1}),  # the middle of a compound
        ("페이", {1, 6}),
        ("딥페이크영상", {1}),
        ("이크고양", set()),  # never across two words
        ("고양이 영상", set()),
        ("사진 영상", {4}),
        ('"사진 영상"', {4}),
        ("영상 -통화", {1, 4}),
        ("카톡", {7}),  # a word that mixes scripts: its prefix
        ("ㅋㅋ", {7}),  # jamo, not syllables: a word prefix
        ("deep", {5}),
        ("video", {5}),
        ("영", {3, 4}),  # one syllable: word prefixes only (영상통화, 영상; not 딥페이크영상)
    ],
)
def test_korean_queries(korean: App, query: str, want: set[int]) -> None:
    page = search(korean, ME, Filters(q=query, limit=50), audited=False)
    assert {h.message_pk for h in page.hits} == want, query


def test_newest_first_and_paging(korean: App) -> None:
    first = search(korean, ME, Filters(q="영상", limit=2), audited=False)
    assert [h.message_pk for h in first.hits] == [4, 3]
    rest = search(korean, ME, Filters(q="영상", limit=2, cursor=first.next_cursor), audited=False)
    assert [h.message_pk for h in rest.hits] == [1] and rest.next_cursor is None


def test_pg_document_positions() -> None:
    doc = pg_document("딥페이크 영상", "all c1")
    # words first, then each run's bigrams with a gap between runs, then the facets
    assert doc == (
        "'딥페이크':1A '영상':2A '딥페':4B '페이':5B '이크':6B '영상':8B 'all':9D 'c1':10D"
    )


@pytest.mark.parametrize("windows", [(1, 2), (2, 3), (3, 100)])
def test_postgresql_windows_give_the_same_pages(
    korean: App, windows: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL checks the newest documents in windows before the GIN index: whatever
    the windows, the pages are the same (SQLite has no windows: the same answers)."""
    from haechi.services import search as search_module

    want = {
        q: [h.message_pk for h in search(korean, ME, Filters(q=q, limit=50), audited=False).hits]
        for q in ("영상", "사진", "페이", "ㅋㅋ", "deep")
    }
    monkeypatch.setattr(search_module, "WINDOWS", windows)
    for q, pks in want.items():
        got, cursor = [], None
        while True:
            page = search(korean, ME, Filters(q=q, limit=1, cursor=cursor), audited=False)
            got += [h.message_pk for h in page.hits]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert got == pks, (q, windows)
