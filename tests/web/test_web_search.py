"""Full-text search on SQLite (FTS5) and PostgreSQL, checked against a brute-force
reference over the messages table, with every filter and keyset paging."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from haechi.app import App
from haechi.auth import audit
from haechi.auth.types import Actor
from haechi.domain import UsageError
from haechi.services import search_index
from haechi.services.search import Filters, parse_query, search
from haechi.services.search_terms import is_korean_word

ME = Actor(None, "tester", "investigator", via="cli")
_TOKEN = re.compile(r"[^\W_]+")


def _messages(app: App) -> list[dict[str, object]]:
    with app.db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.id, m.chat_id, m.date_unix, m.text, m.forwarded_from, "
                "m.sender_account_id, (m.media_type IS NOT NULL OR EXISTS (SELECT 1 FROM media d "
                "WHERE d.message_pk = m.id)) AS has_media FROM messages m"
            )
        ).all()
    return [dict(r._mapping) for r in rows]


def _finds(word: str, token: str) -> bool:
    """A word matches a token it begins; a Korean word of two or more syllables also
    one it stands inside (the index's syllable bigrams: 영상 in 딥페이크영상)."""
    return word in token if is_korean_word(word) else token.startswith(word)


def _reference(msgs: list[dict[str, object]], words: list[str], **flt: object) -> set[int]:
    out = set()
    for m in msgs:
        tokens = [t.lower() for t in _TOKEN.findall(str(m["text"] or ""))]
        if not all(any(_finds(w, t) for t in tokens) for w in words):
            continue
        if flt.get("chat_id") is not None and m["chat_id"] != flt["chat_id"]:
            continue
        if flt.get("has_media") and not m["has_media"]:
            continue
        if flt.get("forwarded") and m["forwarded_from"] is None:
            continue
        date = m["date_unix"] or 0
        if flt.get("date_from") is not None and date < flt["date_from"]:  # type: ignore[operator]
            continue
        if flt.get("date_to") is not None and date > flt["date_to"]:  # type: ignore[operator]
            continue
        out.add(int(m["id"]))  # type: ignore[call-overload]
    return out


def _all_pages(app: App, f: Filters) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        page = search(app, ME, Filters(**{**f.__dict__, "cursor": cursor, "limit": 3}))
        ids += [h.message_pk for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            return ids


def _words(msgs: list[dict[str, object]]) -> list[str]:
    vocab = sorted({t.lower() for m in msgs for t in _TOKEN.findall(str(m["text"] or ""))})
    # Whole words and prefixes, Korean and Latin, common and rare.
    picks = [w for w in vocab if len(w) >= 2][::7][:25]
    return picks + [w[:2] for w in picks[:8]] + ["커피", "latte", "coffee"]


def test_search_equals_the_reference(loaded: App) -> None:
    msgs = _messages(loaded)
    chats = sorted({int(m["chat_id"]) for m in msgs})  # type: ignore[call-overload]
    dates = sorted(int(m["date_unix"] or 0) for m in msgs)  # type: ignore[call-overload]
    mid = dates[len(dates) // 2]
    checked = 0
    for word in _words(msgs):
        for flt in (
            {},
            {"chat_id": chats[1]},
            {"has_media": True},
            {"forwarded": True},
            {"date_from": mid},
            {"date_to": mid},
        ):
            want = _reference(msgs, [word], **flt)
            got = _all_pages(loaded, Filters(q=word, **flt))  # type: ignore[arg-type]
            assert len(got) == len(set(got)), (word, flt)  # no page repeats a hit
            assert set(got) == want, (word, flt)
            checked += bool(want)
    assert checked > 30


def test_newest_first_and_filters_without_words(loaded: App) -> None:
    msgs = _messages(loaded)
    got = _all_pages(loaded, Filters(has_media=True))
    assert set(got) == _reference(msgs, [], has_media=True)
    by_id = {int(m["id"]): m for m in msgs}  # type: ignore[call-overload]
    dates = [by_id[i]["date_unix"] or 0 for i in got]
    assert dates == sorted(dates, reverse=True)


def test_phrases_exclusions_and_authors(loaded: App) -> None:
    msgs = _messages(loaded)
    both = _reference(msgs, ["today", "latte"])
    assert set(_all_pages(loaded, Filters(q='"today s latte"'))) <= both
    assert set(_all_pages(loaded, Filters(q='"today s latte"')))
    without = set(_all_pages(loaded, Filters(q="latte -today")))
    assert without == _reference(msgs, ["latte"]) - _reference(msgs, ["today"])
    sora = search(loaded, ME, Filters(q="", author="Sora"))
    assert sora.hits and all(h.sender_name == "Sora Kim" for h in sora.hits)
    assert search(loaded, ME, Filters(author="no such person")).note == "no_author"


def test_forwarded_from_filter(loaded: App) -> None:
    """``fwd_from``: a case-insensitive substring of the name a message was forwarded from,
    with and without words, through the service and the page."""
    msgs = _messages(loaded)
    names = sorted({str(m["forwarded_from"]) for m in msgs if m["forwarded_from"]})
    assert len(names) >= 2, names
    for name in names:
        part = name[len(name) // 3 : len(name) // 3 + 4]
        for probe in {part, part.upper(), part.lower()}:
            want = {
                int(m["id"])  # type: ignore[call-overload]
                for m in msgs
                if probe.lower() in str(m["forwarded_from"] or "").lower()
            }
            assert want
            assert set(_all_pages(loaded, Filters(forwarded_from=probe))) == want, probe
            word = _words([m for m in msgs if int(m["id"]) in want])[0]  # type: ignore[call-overload]
            both = want & _reference(msgs, [word])
            got = set(_all_pages(loaded, Filters(q=word, forwarded_from=probe)))
            assert got == both, (probe, word)
    assert not _all_pages(loaded, Filters(forwarded_from="no such channel at all"))


def test_forwarded_from_on_the_page(web: TestClient, loaded: App) -> None:
    from tests.web.conftest import ROLE_USERS, log_in

    from haechi.auth.roles import Role

    msgs = _messages(loaded)
    name = next(str(m["forwarded_from"]) for m in msgs if m["forwarded_from"])
    want = {int(m["id"]) for m in msgs if m["forwarded_from"] == name}  # type: ignore[call-overload]
    log_in(web, ROLE_USERS[Role.SUPPORT_WORKER])
    page = web.get("/search", params={"fwd_from": name, "limit": 200}).text
    shown = {int(pk) for pk in re.findall(r'href="/messages/(\d+)" class="detail-link"', page)}
    assert shown == want
    assert audit.entries(loaded, action=audit.SEARCH)[0].detail["forwarded_from"] == name


def test_every_search_is_audited(loaded: App) -> None:
    before = len(audit.entries(loaded, action=audit.SEARCH))
    search(loaded, ME, Filters(q="latte", has_media=True))
    entries = audit.entries(loaded, action=audit.SEARCH)
    assert len(entries) == before + 1
    assert entries[0].detail["q"] == "latte" and entries[0].detail["has_media"] is True


def test_bad_queries_are_sentences(loaded: App) -> None:
    with pytest.raises(UsageError):
        parse_query("x" * 600)
    with pytest.raises(UsageError):
        search(loaded, ME, Filters(q="a", cursor="zzz"))
    # FTS syntax in a query is just text, never an operator or an error.
    for q in ("NEAR(a b)", '"unclosed', "*", "body:x", "c1 OR facets:all", "')--"):
        search(loaded, ME, Filters(q=q))


def test_index_follows_new_ingests(loaded: App, tmp_path: Path) -> None:
    from tests.helpers import make_export

    from haechi.cli.ingest_cmd import run_ingest
    from haechi.run.hooks import run_ingest_hooks

    before = search(loaded, ME, Filters(limit=200)).hits
    export = make_export(tmp_path / "more", messages=40, seed=3)
    report = run_ingest(loaded, export, quiet=True)
    result = run_ingest_hooks(loaded, report)["search"]
    assert result["indexed"] == 40
    assert run_ingest_hooks(loaded, report)["search"]["indexed"] == 0  # idempotent
    after = _all_pages(loaded, Filters())
    assert len(after) == len(_messages(loaded)) == len({h.message_pk for h in before}) + 40


def test_an_index_of_another_database_is_rebuilt(
    sqlite_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.web.conftest import load_demo

    load_demo(sqlite_app, tmp_path, monkeypatch)
    path = search_index.index_path(sqlite_app)
    with sqlite_app.db.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE search.state SET value = 'someone else' WHERE name = 'identity'"
        )
    assert search_index.catch_up(sqlite_app) == len(_messages(sqlite_app))
    assert path.exists()


def test_lexicon_filter_is_the_text_findings(loaded: App) -> None:
    from haechi.services import integrations

    if not integrations.lexicon_available():
        pytest.skip("the text capability is not installed")
    from haechi.analyze.text.service import current_version

    with loaded.db.connect() as conn:
        want = {
            int(r[0])
            for r in conn.execute(
                text("SELECT DISTINCT message_pk FROM text_findings WHERE version = :v"),
                {"v": current_version(loaded)},
            )
        }
    assert set(_all_pages(loaded, Filters(lexicon=True))) == want
