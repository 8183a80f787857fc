"""Web benchmark: list and search pages under concurrent users, 1M messages and 100k media
in SQLite, over loopback.

    python bench/bench_web.py [--messages 1000000] [--media 100000] [--users 8] [--seconds 60]

The archive is written straight into the tables (the ingest has its own benchmark; this one
measures the web layer): 20 chats, 300 senders, benign Korean/English text from the export
generator's phrase tables, every 10th message with a file. As in a real archive, half the
files have a safe preview (so every page that shows them writes the viewer's exposure
counter) and one file matched a hash bank (so every page with files runs the bank look-up,
which an archive without any bank match skips). The full-text index is then built by the
same code the ingest hook runs (timed), ``haechi serve`` starts in a child process, and
``--users`` logged-in users each request, back to back, a random page of: the chat list, a
chat's timeline (random page), a search (random word, half with a filter), the media grid.

A second phase (issue 13) measures the pages and actions that act, under the same number of
users: the triage page (first page, deep keyset page, one file), the matches page, a
network-map node, the audit trail (one user is an auditor), and the actions a page posts —
a triage decision (custody event + audit entry), adding 20 messages to a case, tagging 20
messages. Finally one request adds 1,000 messages to a fresh case (the bulk add-to-case,
timed; issue 13 asks under 5 s).

The rest of issue 13's pages and actions (``web_more_pages``: enrolment, consent withdrawal
and deletion, face search, a candidate's face, a case from a search, notices drafted,
marked and downloaded, a job started; match review, add to a bank, bank from confirmed,
statistics, recurring faces, rooms, lexicon, the full network map) join the two phases'
mixes; ``--old-mix`` leaves them out (the mix of the runs recorded before them).

Baseline, measured in the same run under the same load: a static asset (no database),
the floor of the stack. Reported per page: p50/p95/p99 as the client saw them, the ratio of
each p95 to the baseline's, and p50/p95 of the server's own time (its ``Server-Timing``
header: from the request's arrival to the response's headers), so queueing and the client's
share can be told apart. Results go to stdout; docs/benchmarks.md records a run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import web_case_pages  # noqa: E402 - bench/ is on the path only now
import web_more_pages  # noqa: E402

PASSWORD = "benchmark passphrase"


def build(home: Path, messages: int, media: int, seed: int = 7) -> list[str]:
    """Fill a fresh data directory; returns the vocabulary used for searches."""
    from sqlalchemy import insert

    import gen_export
    from haechi.app import init_home
    from haechi.auth.accounts import add_user
    from haechi.auth.types import cli_actor
    from haechi.store.models import Account, Blob, Chat, Media, Message, Source

    rng = random.Random(seed)
    app = init_home(home)
    content = gen_export._Content(rng)
    now = "2026-01-01T00:00:00Z"
    with app.db.begin() as conn:
        conn.execute(insert(Source).values(
            id=1, kind="bench", uri="bench", label="bench", collector="bench",
            collector_version="0", operator="bench", host="bench", status="finished",
            started_at=now, finished_at=now,
        ))  # fmt: skip
        conn.execute(insert(Chat), [
            {"id": c, "key": f"channel:{c}", "peer_kind": "channel", "tg_id": 1_900_000_000 + c,
             "dialog_type": "private_supergroup", "title": f"벤치마크 방 {c} · Bench room {c}",
             "first_source_id": 1} for c in range(1, 21)
        ])  # fmt: skip
        conn.execute(insert(Account), [
            {"id": a, "key": f"user:{5_000_000 + a}", "peer_kind": "user", "tg_id": 5_000_000 + a,
             "display_name": f"사용자 {a} User {a}"} for a in range(1, 301)
        ])  # fmt: skip
    vocab: set[str] = set()
    per_chat = [0] * 21
    batch, media_rows, blobs = [], [], []
    all_media: list[dict[str, Any]] = []
    unix = 1_680_000_000
    made_media = 0
    step = max(1, messages // max(1, media))
    for i in range(1, messages + 1):
        chat = rng.randint(1, 20)
        per_chat[chat] += 1
        unix += rng.randint(1, 40)
        text = content.sentence() if rng.random() < 0.9 else ""
        if len(vocab) < 5000:
            vocab.update(w.lower() for w in re.findall(r"[^\W_]+", text) if len(w) > 1)
        sender = rng.randint(1, 300)
        has_file = made_media < media and i % step == 0
        batch.append({
            "id": i, "chat_id": chat, "message_id": per_chat[chat], "source_id": 1,
            "kind": "message", "date_unix": unix, "date_raw": str(unix),
            "sender_account_id": sender, "sender_name": f"사용자 {sender} User {sender}",
            "forwarded_from": "원두 채널" if rng.random() < 0.05 else None, "text": text,
            "raw": "{}", "repaired_escapes": 0,
        })  # fmt: skip
        if has_file:
            made_media += 1
            sha = hashlib.sha256(f"bench-{i}".encode()).hexdigest()
            blobs.append({"sha256": sha, "md5": sha[:32], "size": 50_000, "encrypted": False,
                          "stored_at": now, "kind": "image", "mime": "image/jpeg"})  # fmt: skip
            media_rows.append({"message_pk": i, "source_id": 1, "role": "photo",
                               "status": "stored", "blob_sha256": sha, "width": 1280,
                               "height": 960})  # fmt: skip
            all_media.append(media_rows[-1])
        if len(batch) == 50_000 or i == messages:
            with app.db.begin() as conn:
                conn.execute(insert(Message), batch)
                if blobs:
                    conn.execute(insert(Blob), blobs)
                    conn.execute(insert(Media), media_rows)
            batch, media_rows, blobs = [], [], []
    _previews_and_a_bank_match(app, [r["blob_sha256"] for r in all_media], now)
    for u in range(USERS_MAX):
        add_user(
            app, f"bench{u}", PASSWORD, "investigator", actor=cli_actor("bench"), reason="bench"
        )
    app.close()
    return sorted(vocab)


def _previews_and_a_bank_match(app: Any, shas: list[str], now: str) -> None:
    """Every other file gets a safe preview (one small picture in the derived store,
    shared), and the newest file a match to a bank, written as the capabilities write
    them, so that the pages do what they do on a real archive."""
    from PIL import Image
    from sqlalchemy import insert

    from haechi.services.common import derived_store
    from haechi.store.models import Analysis, ArtifactRow, SignalRow
    from haechi.store.tables.match import Bank, BankItem, BankSignal, MatchRow

    out = io.BytesIO()
    Image.new("L", (320, 240), 128).save(out, "JPEG", quality=70)
    stored = derived_store(app).put_bytes(out.getvalue())
    with_preview = shas[::2]
    for start in range(0, len(with_preview), 50_000):
        part = with_preview[start : start + 50_000]
        first = start + 1
        with app.db.begin() as conn:
            conn.execute(insert(Analysis), [
                {"id": first + i, "blob_sha256": sha, "analyzer": "nudity", "version": "bench",
                 "status": "ok", "created_at": now} for i, sha in enumerate(part)
            ])  # fmt: skip
            conn.execute(insert(ArtifactRow), [
                {"analysis_id": first + i, "blob_sha256": sha, "name": "safe_preview",
                 "sha256": stored.sha256, "mime": "image/jpeg", "size": len(out.getvalue())}
                for i, sha in enumerate(part)
            ])  # fmt: skip
            # The nudity score the triage queue orders by, as the analyzer writes it.
            scores = [round(((i * 7919) % 1000 / 1000) ** 3, 4) for i in range(len(part))]
            conn.execute(insert(SignalRow), [
                {"analysis_id": first + i, "blob_sha256": sha, "kind": "nudity",
                 "value": "exposed" if scores[i] >= 0.5 else "none", "score": scores[i],
                 "data_json": '{"regions": []}'}
                for i, sha in enumerate(part)
            ])  # fmt: skip
    if not shas:
        return
    sha = shas[-1]  # the newest file: on the media grid's first page
    with app.db.begin() as conn:
        conn.execute(insert(Bank).values(id=1, name="bench-bank", created_at=now,
                                         created_by="bench"))  # fmt: skip
        conn.execute(insert(BankItem).values(id=1, bank_id=1, blob_sha256=sha, added_at=now,
                                             added_by="bench"))  # fmt: skip
        conn.execute(insert(BankSignal).values(id=1, item_id=1, bank_id=1, kind="sha256",
                                               value=sha))  # fmt: skip
        conn.execute(insert(MatchRow).values(
            blob_sha256=sha, kind="sha256", target="bank-signal:1", distance=0, bank_id=1,
            bank_item_id=1, bank_signal_id=1, bank_name="bench-bank", created_at=now,
            details_json='{"labels": ["bench"]}',
        ))  # fmt: skip
    from haechi.services import integrations

    # The pages must see it exactly as a match the capability recorded.
    assert integrations.bank_matches(app, [sha]), "the bench bank match is not seen"


USERS_MAX = 32
CASE_REF = "BENCH-1"
BULK_CASES = tuple(f"BENCH-BULK-{i}-{int(time.time())}" for i in range(3))  # empty each run


def prepare_review(home: Path) -> list[str]:
    """What the second phase needs, made once (also on a reused archive): the data directory
    migrated, nudity scores, a case, auditor accounts; returns file SHA-256s to open."""
    from sqlalchemy import insert, select, text

    from haechi.app import init_home
    from haechi.auth.accounts import add_user
    from haechi.auth.errors import NotFound
    from haechi.auth.types import cli_actor
    from haechi.cases.service import create_case
    from haechi.store.models import SignalRow

    app = init_home(home)
    try:
        with app.db.begin() as conn:
            scored = conn.execute(
                text("SELECT 1 FROM signals WHERE kind = 'nudity' LIMIT 1")
            ).first()
            if scored is None:  # an archive built before the bench wrote scores
                rows = conn.execute(
                    text("SELECT id, blob_sha256 FROM analyses WHERE analyzer = 'nudity'")
                ).all()
                conn.execute(insert(SignalRow), [
                    {"analysis_id": aid, "blob_sha256": sha, "kind": "nudity",
                     "value": "none", "score": round(((aid * 7919) % 1000 / 1000) ** 3, 4),
                     "data_json": '{"regions": []}'}
                    for aid, sha in rows
                ])  # fmt: skip
        with app.db.connect() as conn:
            has_case = conn.execute(text("SELECT 1 FROM cases WHERE ref = :r"), {"r": CASE_REF})
            found = has_case.first()
        if found is None:
            create_case(app, "bench: collected from the pages", ref=CASE_REF)
        for ref in BULK_CASES:
            with app.db.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM cases WHERE ref = :r"), {"r": ref})
                there = exists.first()
            if there is None:
                create_case(app, "bench: one bulk add", ref=ref)
        for u in range(USERS_MAX):
            try:
                from haechi.auth.accounts import find_user

                find_user(app, f"benchaud{u}")
            except NotFound:
                add_user(app, f"benchaud{u}", PASSWORD, "auditor", actor=cli_actor("bench"))
        with app.db.connect() as conn:
            shas = (
                conn.execute(
                    select(SignalRow.blob_sha256).where(SignalRow.kind == "nudity").limit(2000)
                )
                .scalars()
                .all()
            )
    finally:
        app.close()
    return list(shas)


def index(home: Path) -> tuple[float, float]:
    from haechi.app import open_app
    from haechi.services import search_index

    app = open_app(home)
    t = time.perf_counter()
    search_index.catch_up(app)
    t_index = time.perf_counter() - t
    t = time.perf_counter()
    search_index.refresh_chat_stats(app)
    t_stats = time.perf_counter() - t
    app.close()
    return t_index, t_stats


def server_ms(header: str | None) -> float | None:
    """The ``app`` duration of a ``Server-Timing`` header (milliseconds)."""
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        if name == "app" and params.startswith("dur="):
            return float(params[4:])
    return None


async def load(
    url: str,
    users: int,
    seconds: float,
    vocab: list[str],
    seed: int,
    cases: dict[str, Any] | None = None,
    more: dict[str, Any] | None = None,
    probes: int = 0,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Client times and server times (seconds) per page kind; with ``more``, also
    web_more_pages.CASE_KINDS (their failures counted in ``FAILURES``, not raised).

    With ``probes``, the ``users`` send the archive's reading pages only (the load of runs
    1-6, before issue 13's pages existed) and ``probes`` more users send the case pages
    and web_more_pages' kinds among them (each probe acts on user 0's set-up objects)."""
    import httpx

    results: dict[str, list[float]] = {}
    server: dict[str, list[float]] = {}
    deadline = time.monotonic() + seconds

    async def user(n: int) -> None:
        rng = random.Random(seed + n)
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            page = await client.get("/login")
            token = re.search(r'name="login_token" value="([^"]+)"', page.text)
            assert token
            form = {"username": f"bench{n}", "password": PASSWORD, "login_token": token.group(1)}
            r = await client.post("/login", data=form)
            assert r.status_code == 303, r.text
            me = await client.get("/me")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', me.text)
            assert csrf
            kinds = ["static", "chats", "timeline", "timeline_deep", "search",
                     "search_filtered", "media"]  # fmt: skip
            new = list(web_case_pages.KINDS) if cases else []
            new += web_more_pages.mix(web_more_pages.CASE_KINDS) if more else []
            if not probes:
                kinds += new
            elif n >= users:  # a probe: the new pages and actions only
                kinds = new
            state = web_more_pages.UserState(n - users if n >= users else n)
            while time.monotonic() < deadline:
                kind = rng.choice(kinds)
                if more and kind in web_more_pages.CASE_KINDS:
                    await _more(kind, client, csrf.group(1), rng, more, state, results, server)
                    continue
                if kind in web_case_pages.KINDS:
                    assert cases is not None
                    method, path, form = web_case_pages.request(kind, rng, cases)
                    t = time.perf_counter()
                    r = await client.request(method, path, data=form,
                                             headers={"x-csrf-token": csrf.group(1)})  # fmt: skip
                    took = time.perf_counter() - t
                    if not web_case_pages.ok(kind, r.status_code):
                        raise AssertionError(f"{method} {path}: {r.status_code}")
                    results.setdefault(kind, []).append(took)
                    own = server_ms(r.headers.get("server-timing"))
                    if own is not None:
                        server.setdefault(kind, []).append(own / 1000)
                    continue
                chat = rng.randint(1, 20)
                word = rng.choice(vocab)
                path = {
                    "static": "/static/app.css",
                    "chats": "/chats",
                    "timeline": f"/chats/{chat}",
                    "timeline_deep": f"/chats/{chat}?before={rng.randint(100, 50_000)}",
                    "search": f"/search?q={word}",
                    "search_filtered": rng.choice(
                        [
                            f"/search?q={word}&chat={chat}",
                            f"/search?q={word}&media=1",
                            f"/search?q={word}&from=2023-06-01&to=2023-09-30",
                        ]
                    ),
                    "media": "/media",
                }[kind]
                t = time.perf_counter()
                r = await client.get(path)
                took = time.perf_counter() - t
                if r.status_code != 200:
                    raise AssertionError(f"{path}: {r.status_code}")
                results.setdefault(kind, []).append(took)
                own = server_ms(r.headers.get("server-timing"))
                if own is not None:
                    server.setdefault(kind, []).append(own / 1000)

    await asyncio.gather(*(user(n) for n in range(users + probes)))
    return results, server


FAILURES: dict[str, list[str]] = {}  # the new kinds' failed requests: kind -> what


async def _more(
    kind: str, client: Any, csrf: str, rng: random.Random, ctx: dict[str, Any], state: Any,
    results: dict[str, list[float]], server: dict[str, list[float]],
) -> None:  # fmt: skip
    """One of web_more_pages' kinds: times recorded, a failure counted (not timed)."""
    for name, took, r, good, what in await web_more_pages.act(kind, client, csrf, rng, ctx, state):
        if not good:
            FAILURES.setdefault(name, []).append(what)
            continue
        results.setdefault(name, []).append(took)
        own = server_ms(r.headers.get("server-timing"))
        if own is not None:
            server.setdefault(name, []).append(own / 1000)


CATEGORIES = ("synthetic_sexual", "real_sexual", "sexual_unknown", "not_sexual",
              "not_relevant", "victim_identified")  # fmt: skip
REVIEW_KINDS = ("static", "triage", "triage_deep", "triage_item", "matches", "graph_node",
                "graph_forwards", "audit", "decide", "collect", "tag")  # fmt: skip
INVESTIGATOR_KINDS = [k for k in REVIEW_KINDS if k != "audit"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _log_in(client: Any, user: str) -> str:
    """Log in; returns the session's CSRF token (for the actions' form posts)."""
    page = await client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token
    form = {"username": user, "password": PASSWORD, "login_token": token.group(1)}
    r = await client.post("/login", data=form)
    assert r.status_code == 303, r.text
    me = await client.get("/me")
    found = CSRF.search(me.text)
    assert found, me.text[:500]
    return found.group(1)


async def load_review(
    url: str,
    users: int,
    seconds: float,
    shas: list[str],
    messages: int,
    seed: int,
    more: dict[str, Any] | None = None,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The pages and actions issue 13 added; user 0 is an auditor reading the audit trail.
    With ``more``, the investigators also send web_more_pages.REVIEW_KINDS."""
    import httpx

    results: dict[str, list[float]] = {}
    server: dict[str, list[float]] = {}
    deadline = time.monotonic() + seconds

    async def user(n: int) -> None:
        rng = random.Random(seed + n)
        auditor = n == 0
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            csrf = await _log_in(client, f"benchaud{n}" if auditor else f"bench{n}")
            # Deep keyset pages of the triage queue: follow the "more" links once.
            cursors: list[str] = []
            kinds = INVESTIGATOR_KINDS + (
                web_more_pages.mix(web_more_pages.REVIEW_KINDS) if more else []
            )
            state = web_more_pages.UserState(n)
            while time.monotonic() < deadline:
                kind = "audit" if auditor else rng.choice(kinds)
                if auditor and rng.random() < 0.3:
                    kind = "static"
                if more and kind in web_more_pages.REVIEW_KINDS:
                    await _more(kind, client, csrf, rng, more, state, results, server)
                    continue
                method, data = "GET", None
                if kind == "static":
                    path = "/static/app.css"
                elif kind == "triage":
                    path = "/triage"
                elif kind == "triage_deep":
                    path = (
                        f"/triage?show=all&cursor={rng.choice(cursors)}" if cursors else "/triage"
                    )
                elif kind == "triage_item":
                    path = f"/triage?show=all&item={rng.choice(shas)}"
                elif kind == "matches":
                    path = "/matches"
                elif kind == "graph_node":
                    path = f"/graph/node?id=chat:{rng.randint(1, 20)}"
                elif kind == "graph_forwards":  # loaded by the node page after itself
                    path = f"/graph/node/forwards?chat={rng.randint(1, 20)}"
                elif kind == "audit":
                    path = "/audit"
                elif kind == "decide":
                    method, path = "POST", f"/triage/{rng.choice(shas)}/decide"
                    data = {"csrf_token": csrf, "category": rng.choice(CATEGORIES),
                            "show": "all"}  # fmt: skip
                elif kind == "collect":
                    method, path = "POST", "/collect/case"
                    targets = [f"message:{rng.randint(1, messages)}" for _ in range(20)]
                    data = {"csrf_token": csrf, "case": CASE_REF, "target": targets}
                else:
                    method, path = "POST", "/collect/tag"
                    targets = [f"message:{rng.randint(1, messages)}" for _ in range(20)]
                    data = {"csrf_token": csrf, "tag": f"bench-{rng.randint(1, 50)}",
                            "target": targets}  # fmt: skip
                t = time.perf_counter()
                if method == "GET":
                    r = await client.get(path)
                else:
                    r = await client.post(path, data=data, headers={"hx-request": "true"})
                took = time.perf_counter() - t
                if r.status_code not in (200, 303):
                    raise AssertionError(f"{method} {path}: {r.status_code} {r.text[:300]}")
                if kind in ("triage", "triage_deep") and len(cursors) < 50:
                    # The page's "more" link: a keyset cursor deeper into the queue.
                    found = re.search(r"[?&;]cursor=([^\"&#]+)", r.text)
                    if found:
                        cursors.append(found.group(1))
                results.setdefault(kind, []).append(took)
                own = server_ms(r.headers.get("server-timing"))
                if own is not None:
                    server.setdefault(kind, []).append(own / 1000)

    await asyncio.gather(*(user(n) for n in range(users)))
    return results, server


async def bulk_add(url: str, messages: int, ref: str, n: int = 1000, seed: int = 11) -> float:
    """One request adding ``n`` messages (with their files) to an empty case: seconds. Sent
    as the pages' JSON API does it (a form holds at most a page of checkboxes)."""
    import httpx

    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        csrf = await _log_in(client, "bench0")
        targets = [f"message:{pk}" for pk in rng.sample(range(1, messages + 1), n)]
        t = time.perf_counter()
        r = await client.post(f"/api/cases/{ref}/items", json={"targets": targets},
                              headers={"x-csrf-token": csrf})  # fmt: skip
        took = time.perf_counter() - t
        assert r.status_code == 200 and r.json()["added"] >= n, r.text[:500]
        return took


def print_table(title: str, kinds: tuple[str, ...], results: Any, server: Any, secs: float) -> None:
    base = pct(results["static"], 0.95)
    print(f"\n{title}")
    print(f"{'page':16} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p95/baseline':>13}"
          f" {'server p50':>11} {'server p95':>11}")  # fmt: skip
    for kind in kinds:
        v = results.get(kind, [])
        if not v:
            continue
        p95 = pct(v, 0.95)
        own = server.get(kind) or [float("nan")]
        print(f"{kind:16} {len(v):6d} {statistics.median(v) * 1000:8.1f} {p95:8.1f} "
              f"{pct(v, 0.99):8.1f} {p95 / base:13.1f} {statistics.median(own) * 1000:11.1f} "
              f"{pct(own, 0.95):11.1f}")  # fmt: skip
    total = sum(len(v) for v in results.values())
    print(f"throughput: {total / secs:.0f} requests/s")


def _messages(home: Path) -> int:
    from haechi.app import open_app

    app = open_app(home)
    try:
        with app.db.connect() as conn:
            return int(conn.exec_driver_sql("SELECT max(id) FROM messages").scalar() or 1)
    finally:
        app.close()


def reuse(home: Path) -> list[str]:
    from haechi.app import init_home

    app = init_home(home)  # migrated first: the archive may predate a capability
    with app.db.connect() as conn:
        texts = conn.exec_driver_sql("SELECT text FROM messages LIMIT 50000").scalars().all()
    app.close()
    return sorted({w.lower() for t in texts for w in re.findall(r"[^\W_]+", t or "") if len(w) > 1})


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--media", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="Reuse the archive already in --home.")
    ap.add_argument(
        "--pages", choices=("archive", "all", "review"), default="all",
        help="archive: the reading pages only; all: also cases, notices, subjects, jobs, "
        "actions and the triage, matches, map and audit pages with their actions; review: "
        "only the last",
    )  # fmt: skip
    ap.add_argument(
        "--old-mix", action="store_true",
        help="Only the kinds of the runs before web_more_pages (runs 1-8 in docs/benchmarks.md).",
    )  # fmt: skip
    ap.add_argument(
        "--probes", type=int, default=0,
        help="The archive phase's users send only the archive's reading pages (the load "
        "before issue 13) and this many more users send the case pages and actions, which "
        "are measured under that load (issue 13's Measured line).",
    )  # fmt: skip
    ap.add_argument(
        "--skip", action="append", default=[], choices=web_more_pages.KINDS,
        help="Leave one of web_more_pages' kinds out of the mix (repeatable).",
    )  # fmt: skip
    args = ap.parse_args()
    web_more_pages.SKIP.update(args.skip)
    home = args.home or Path(tempfile.mkdtemp(prefix="haechi-bench-web-")) / "home"
    if args.reuse and (home / "haechi.toml").exists():
        vocab = reuse(home)
    else:
        t = time.perf_counter()
        vocab = build(home, args.messages, args.media)
        took = time.perf_counter() - t
        print(f"built {args.messages:,} messages, {args.media:,} media in {took:.0f} s")
        t_index, t_stats = index(home)
        print(f"full-text index: {t_index:.1f} s; chat counts: {t_stats:.1f} s")
    cases = None
    shas = prepare_review(home) if args.pages in ("all", "review") else []
    messages = _messages(home)
    if args.pages == "all":
        t = time.perf_counter()
        cases = web_case_pages.setup(home)
        print(f"case, notice, subject and jobs for the case pages: {time.perf_counter() - t:.0f} s")
    more = None
    if args.pages in ("all", "review") and not args.old_mix:
        t = time.perf_counter()
        more = {**(cases or {}), **web_more_pages.setup(home)}
        print(
            f"subject, search, case and bank for the other kinds: {time.perf_counter() - t:.0f} s"
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "haechi.cli.main", "serve", "--home", str(home), "--port",
         str(port), "--workers", str(args.workers), *(["--no-jobs"] if more else [])],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(600):
            try:
                if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        users = min(args.users, USERS_MAX)
        results: dict[str, list[float]] = {}
        server: dict[str, list[float]] = {}
        if args.pages != "review":
            on_case = more if cases else None
            probes = min(args.probes, USERS_MAX - users)
            asyncio.run(load(url, users, 5, vocab, 1, cases, on_case, probes))  # warm-up
            results, server = asyncio.run(
                load(url, users, args.seconds, vocab, 2, cases, on_case, probes)
            )
        review: tuple[Any, Any] | None = None
        bulk: list[float] = []
        if shas:
            asyncio.run(load_review(url, users, 5, shas, messages, 3, more))  # warm-up
            review = asyncio.run(load_review(url, users, args.seconds, shas, messages, 4, more))
            bulk = [asyncio.run(bulk_add(url, messages, ref, seed=i))
                    for i, ref in enumerate(BULK_CASES)]  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if review is not None:
        print_table(
            f"issue 13 pages and actions: {args.users} concurrent users, {args.seconds:.0f} s, "
            f"{args.workers} worker(s) (user 0 an auditor)",
            REVIEW_KINDS + web_more_pages.REVIEW_KINDS, *review, args.seconds,
        )  # fmt: skip
        print(f"bulk add-to-case, 1,000 messages with their files in one request: "
              f"{', '.join(f'{b:.2f} s' for b in bulk)} (target < 5 s)")  # fmt: skip
    if not results:
        _failures()
        return
    base = pct(results["static"], 0.95)
    how = f"{args.users} concurrent users"
    if args.probes:
        how += (f" sending the archive's pages (the load before issue 13), and {args.probes}"
                " probe user(s) sending the case pages and actions")  # fmt: skip
    print(f"\n{how}, {args.seconds:.0f} s, {args.workers} worker(s)")
    print(f"{'page':16} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p95/baseline':>13}"
          f" {'server p50':>11} {'server p95':>11}")  # fmt: skip
    for kind in (
        "static",
        "chats",
        "timeline",
        "timeline_deep",
        "search",
        "search_filtered",
        "media",
        *web_case_pages.KINDS,
        *web_more_pages.CASE_KINDS,
    ):
        v = results.get(kind, [])
        if not v:
            continue
        p95 = pct(v, 0.95)
        own = server.get(kind) or [float("nan")]
        print(f"{kind:16} {len(v):6d} {statistics.median(v) * 1000:8.1f} {p95:8.1f} "
              f"{pct(v, 0.99):8.1f} {p95 / base:13.1f} {statistics.median(own) * 1000:11.1f} "
              f"{pct(own, 0.95):11.1f}")  # fmt: skip
    total = sum(len(v) for v in results.values())
    print(f"throughput: {total / args.seconds:.0f} requests/s")
    _failures()


def _failures() -> None:
    """The new kinds' failed requests (warm-ups included): a kind with any is not measured."""
    for kind, what in sorted(FAILURES.items()):
        print(f"FAILED {kind}: {len(what)} request(s), e.g. {what[0]}")


if __name__ == "__main__":
    main()
