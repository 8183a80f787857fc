"""Web benchmark at scale on PostgreSQL: 10M messages / 1M media (issue 18).

    python bench/bench_pg_web.py                                   # 1M / 100k, quick
    python bench/bench_pg_web.py --messages 10000000 --media 1000000 --keep   # make bench-scale
    python bench/bench_pg_web.py --reuse --users 8 --seconds 60    # load again, same archive

The same pages, users and measurement as ``bench/bench_web.py`` (its ``load``: the chat
list, a chat's newest and a deep page, a search for a random word of the archive, the same
with a filter, the media grid, each page's ``Server-Timing``; baseline in the same run: a
static file, the floor of the stack), served by ``haechi serve --workers 2`` over a
PostgreSQL database at ``HAECHI_TEST_PG_URL`` (schema ``bench_web_<messages>``).

The archive is synthetic and loaded with ``COPY`` (generating 10M messages through the
ingest would measure the ingest, which has its own benchmark): 20 chats, 300 senders, the
export generator's benign Korean/English sentences, every 10th message with a file, half
the files with a safe preview, one bank match (as bench_web.py). For the load only, the
session disables the foreign-key triggers (``session_replication_role = replica``, needs a
superuser; the rows are consistent by construction) and the secondary indexes are built
after the rows, as any bulk load does. The full-text index is then built by the product's
own code (``search_index.catch_up``, timed) with its two indexes built afterwards (timed),
and the per-chat counts refreshed.

With ``--pages all`` (the default) the other list pages too, their data made by
bench_web.py's own builders (``prepare_review``, ``web_case_pages.setup``; kept in the data
directory for ``--reuse``): its first phase then adds the case list, a case, the notice,
the subjects list, a subject, face candidates, the jobs list and three actions; a second
phase (``load_review``) the triage list (first, deep, one file), the matches page, a map
node and its forwards, the audit trail (user 0 an auditor) and three actions. The peak RSS
of the ``haechi serve`` tree (every worker) is sampled from /proc every half second.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_web  # noqa: E402 - bench/ is on the path only now
import gen_export  # noqa: E402

PG = os.environ.get("HAECHI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHUNK = 100_000
BULK_TABLES = ("messages", "media", "blobs", "message_search")


def pg_url(schema: str) -> str:
    sep = "&" if "?" in PG else "?"
    return f"{PG}{sep}options=-csearch_path%3D{schema}"


def _secondary(cur: Any, table: str) -> list[tuple[str, str, bool]]:
    """(name, definition, is_constraint) of a table's indexes other than its primary key."""
    cur.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid), c.conname IS NOT NULL, "
        "pg_get_constraintdef(c.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid LEFT JOIN pg_constraint c ON c.conindid = i.oid "
        "WHERE t.relname = %s AND t.relnamespace = current_schema()::regnamespace "
        "AND NOT x.indisprimary",
        (table,),
    )
    out = []
    for name, indexdef, is_constraint, condef in cur.fetchall():
        out.append((name, condef if is_constraint else indexdef, bool(is_constraint)))
    return out


def _drop(cur: Any, table: str, found: list[tuple[str, str, bool]]) -> None:
    for name, _definition, is_constraint in found:
        if is_constraint:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        else:
            cur.execute(f'DROP INDEX "{name}"')


def _restore(cur: Any, table: str, found: list[tuple[str, str, bool]]) -> float:
    started = time.perf_counter()
    cur.execute("SET maintenance_work_mem = '512MB'")
    for name, definition, is_constraint in found:
        if is_constraint:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        else:
            cur.execute(definition)
    return time.perf_counter() - started


def _copy(cur: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def build(home: Path, schema: str, messages: int, media: int, seed: int = 7) -> dict[str, Any]:
    """Fill a fresh data directory on PostgreSQL; returns timings and the vocabulary."""
    from sqlalchemy import create_engine, text

    from haechi.app import init_home
    from haechi.auth.accounts import add_user
    from haechi.auth.types import cli_actor
    from haechi.services import search_index

    admin = create_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    app = init_home(home, database_url=pg_url(schema))
    rng = random.Random(seed)
    content = gen_export._Content(rng)
    now = "2026-01-01T00:00:00Z"
    timings: dict[str, Any] = {}
    raw = app.db.engine.raw_connection()
    started = time.perf_counter()
    try:
        cur = raw.cursor()
        try:
            cur.execute("SET session_replication_role = replica")  # FK triggers off (load)
        except Exception:
            raw.rollback()
            cur = raw.cursor()
        saved = {t: _secondary(cur, t) for t in BULK_TABLES}
        for table, found in saved.items():
            _drop(cur, table, found)
        cur.execute(
            "INSERT INTO sources (id, kind, uri, label, collector, collector_version, operator, "
            "host, status, started_at, finished_at) VALUES (1, 'bench', 'bench', 'bench', "
            "'bench', '0', 'bench', 'bench', 'finished', %s, %s)",
            (now, now),
        )
        _copy(cur, "chats", ("id", "key", "peer_kind", "tg_id", "dialog_type", "title",
                             "first_source_id"),
              [(c, f"channel:{c}", "channel", 1_900_000_000 + c, "private_supergroup",
                f"벤치마크 방 {c} · Bench room {c}", 1) for c in range(1, 21)])  # fmt: skip
        _copy(cur, "accounts", ("id", "key", "peer_kind", "tg_id", "display_name", "is_bot"),
              [(a, f"user:{5_000_000 + a}", "user", 5_000_000 + a, f"사용자 {a} User {a}", False)
               for a in range(1, 301)])  # fmt: skip
        vocab: set[str] = set()
        per_chat = [0] * 21
        unix = 1_600_000_000
        step = max(1, messages // max(1, media))
        made = 0
        batch: list[tuple[Any, ...]] = []
        files: list[tuple[Any, ...]] = []
        blobs: list[tuple[Any, ...]] = []
        shas: list[str] = []
        for i in range(1, messages + 1):
            chat = rng.randint(1, 20)
            per_chat[chat] += 1
            unix += rng.randint(1, 6)
            body = content.sentence() if rng.random() < 0.9 else ""
            if len(vocab) < 5000:
                vocab.update(w.lower() for w in re.findall(r"[^\W_]+", body) if len(w) > 1)
            sender = rng.randint(1, 300)
            batch.append((i, chat, per_chat[chat], 1, "message", unix, str(unix), sender,
                          f"사용자 {sender} User {sender}",
                          "원두 채널" if rng.random() < 0.05 else None, body, "{}", 0))  # fmt: skip
            if made < media and i % step == 0:
                made += 1
                sha = hashlib.sha256(f"bench-{i}".encode()).hexdigest()
                shas.append(sha)
                blobs.append((sha, sha[:32], 50_000, False, now, "image", "image/jpeg"))
                files.append((made, i, 1, "photo", "present", sha, 1280, 960))
            if len(batch) >= CHUNK or i == messages:
                _copy(cur, "messages", ("id", "chat_id", "message_id", "source_id", "kind",
                                        "date_unix", "date_raw", "sender_account_id",
                                        "sender_name", "forwarded_from", "text", "raw",
                                        "repaired_escapes"), batch)  # fmt: skip
                _copy(cur, "blobs", ("sha256", "md5", "size", "encrypted", "stored_at", "kind",
                                     "mime"), blobs)  # fmt: skip
                _copy(cur, "media", ("id", "message_pk", "source_id", "role", "status",
                                     "blob_sha256", "width", "height"), files)  # fmt: skip
                raw.commit()
                batch, files, blobs = [], [], []
        for seq, table in (("messages_id_seq", "messages"), ("media_id_seq", "media"),
                           ("chats_id_seq", "chats"), ("accounts_id_seq", "accounts"),
                           ("sources_id_seq", "sources")):  # fmt: skip
            cur.execute(f"SELECT setval('{seq}', (SELECT max(id) FROM {table}))")
        timings["rows_s"] = round(time.perf_counter() - started, 1)
        rebuild = 0.0
        for table in ("messages", "media", "blobs"):
            rebuild += _restore(cur, table, saved[table])
        raw.commit()
        timings["indexes_s"] = round(rebuild, 1)
    finally:
        raw.close()
    bench_web._previews_and_a_bank_match(app, shas, now)
    for u in range(bench_web.USERS_MAX):
        add_user(app, f"bench{u}", bench_web.PASSWORD, "investigator", actor=cli_actor("bench"),
                 reason="bench")  # fmt: skip
    t = time.perf_counter()
    search_index.catch_up(app, batch=50_000)
    timings["search_catch_up_s"] = round(time.perf_counter() - t, 1)
    raw = app.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        timings["search_indexes_s"] = round(
            _restore(cur, "message_search", saved["message_search"]), 1
        )
        raw.commit()
        # What autovacuum does to a table loaded in bulk, before it is measured: the
        # statistics, and the visibility map an index-only scan needs to skip the heap
        # (the deployment guide says to run it after a large first import).
        driver = raw.driver_connection  # psycopg: VACUUM runs outside a transaction
        driver.autocommit = True  # type: ignore[union-attr]
        t = time.perf_counter()
        driver.execute("VACUUM (ANALYZE)")  # type: ignore[union-attr]
        timings["vacuum_analyze_s"] = round(time.perf_counter() - t, 1)
    finally:
        raw.close()
    t = time.perf_counter()
    search_index.refresh_chat_stats(app)
    timings["chat_stats_s"] = round(time.perf_counter() - t, 1)
    app.close()
    timings["vocab"] = sorted(vocab)
    return timings


def sync_sequences(schema: str) -> None:
    """Every id sequence of the schema set past its table's largest id: the builders write
    explicit ids (``bench_web._previews_and_a_bank_match``: analyses, the bank and its
    match), which on PostgreSQL, unlike SQLite, leave the sequences behind."""
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_url(schema))
    with engine.begin() as conn:
        owned = conn.execute(text(
            "SELECT s.relname, t.relname, a.attname FROM pg_class s "
            "JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'a' "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
            "WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace"
        )).all()  # fmt: skip
        for seq, table, column in owned:
            conn.execute(text(f'SELECT setval(\'"{seq}"\', coalesce((SELECT max("{column}") '
                              f'FROM "{table}"), 0) + 1, false)'))  # fmt: skip
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree(root: int) -> list[int]:
    """``root`` and every process descended from it (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeRss:
    """Samples the ``haechi serve`` process tree every half second: the peak of the sum of
    its processes' RSS, and each process's own peak (``VmHWM``) at the last sample."""

    def __init__(self, root: int) -> None:
        import threading

        self.root, self.peak_kb, self.hwm_kb = root, 0, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.root)
            self.peak_kb = max(self.peak_kb, sum(_status_kb(p, "VmRSS") for p in pids))
            for p in pids:
                self.hwm_kb[p] = max(self.hwm_kb.get(p, 0), _status_kb(p, "VmHWM"))
            self._stop.wait(0.5)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        return {"serve_tree_peak_rss_mb": round(self.peak_kb / 1024),
                "serve_processes": len(self.hwm_kb),
                "serve_vmhwm_mb": sorted((round(v / 1024) for v in self.hwm_kb.values()),
                                         reverse=True)}  # fmt: skip


def _table(results: dict[str, list[float]], server: dict[str, list[float]]) -> dict[str, Any]:
    statics = sorted(results.get("static", [float("nan")]))
    base = statics[int(0.95 * len(statics))]
    import web_case_pages

    order = ["static", "chats", "timeline", "timeline_deep", "search", "search_filtered",
             "media", *web_case_pages.KINDS, *bench_web.REVIEW_KINDS]  # fmt: skip
    table = {}
    for kind in sorted(results, key=lambda k: order.index(k) if k in order else len(order)):
        times = sorted(results[kind])
        own = sorted(server.get(kind, [0.0]))

        def pct(xs: list[float], p: float) -> float:
            return round(1000 * xs[min(len(xs) - 1, int(p * len(xs)))], 1)

        table[kind] = {
            "requests": len(times), "p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95),
            "p99_ms": pct(times, 0.99),
            "p95_over_static": round(pct(times, 0.95) / (1000 * base), 2),
            "server_p50_ms": pct(own, 0.5), "server_p95_ms": pct(own, 0.95),
        }  # fmt: skip
    return table


def serve_and_load(
    home: Path,
    users: int,
    seconds: float,
    vocab: list[str],
    cases: dict[str, Any] | None = None,
    shas: list[str] | None = None,
    more: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """bench_web.py's load (the archive pages, and with ``cases`` its case and counsellor
    pages and their actions), then with ``shas`` its review phase (triage, matches, map,
    audit and their actions), each after a 5 s warm-up; the serve tree's RSS sampled."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    log = open(home / "serve.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "haechi.cli.main", "serve", "--home", str(home), "--port",
         str(port), "--workers", "2", *(["--no-jobs"] if more else [])],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    rss = TreeRss(proc.pid)
    url = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {}
    try:
        import httpx

        for _ in range(1800):
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise SystemExit("haechi serve did not start: " + (home / "serve.log").read_text())
        asyncio.run(bench_web.load(url, users, 5, vocab, 99, cases, more))  # warm-up
        first = asyncio.run(bench_web.load(url, users, seconds, vocab, 1, cases, more))
        out["pages"] = _table(*first)
        if shas:
            messages = bench_web._messages(home)
            asyncio.run(bench_web.load_review(url, users, 5, shas, messages, 3, more))  # warm-up
            review = asyncio.run(
                bench_web.load_review(url, users, seconds, shas, messages, 4, more)
            )
            out["review"] = _table(*review)
    finally:
        out.update(rss.stop())
        proc.terminate()
        proc.wait(60)
        log.close()
    return out


# web_more_pages' kinds that act (posts, uploads, a face search of a photo), not pages
ACTIONS_MORE = ("enrol", "withdraw", "subject_delete", "face_search", "case_from_search",
                "notice_draft", "notice_mark", "job_start", "match_review", "match_bank",
                "bank_confirmed")  # fmt: skip


def _print(title: str, table: dict[str, Any]) -> None:
    print(f"\n{title}")
    print("| page | requests | p50 ms | p95 ms | p99 ms | p95 / static | server p50 | server p95 |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, r in table.items():
        print(f"| {kind} | {r['requests']:,} | {r['p50_ms']} | {r['p95_ms']} | "
              f"{r['p99_ms']} | {r['p95_over_static']} | {r['server_p50_ms']} | "
              f"{r['server_p95_ms']} |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--media", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="load an archive built before")
    ap.add_argument("--keep", action="store_true", help="keep the archive for --reuse")
    ap.add_argument(
        "--pages", choices=("archive", "all"), default="all",
        help="archive: the reading pages only; all: also bench_web.py's case, counsellor "
        "and review pages with their actions (their data made by its own builders)",
    )  # fmt: skip
    ap.add_argument(
        "--more", action="store_true",
        help="with --pages all, also bench_web.py's web_more_pages kinds (its default mix)",
    )  # fmt: skip
    ap.add_argument("--skip", action="append", default=[], help="a web_more_pages kind left out")
    args = ap.parse_args()
    schema = f"bench_web_{args.messages}"
    home = args.home or Path(tempfile.gettempdir()) / f"haechi-pg-web-{args.messages}"
    meta = home / "bench.json"
    if args.reuse and meta.exists():
        built = json.loads(meta.read_text())
    else:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
        built = build(home, schema, args.messages, args.media)
        meta.write_text(json.dumps(built))
        print(json.dumps({k: v for k, v in built.items() if k != "vocab"}), flush=True)
    cases, shas, more = None, None, None
    try:
        if args.pages == "all":  # bench_web.py's builders; kept in HOME for --reuse
            import web_case_pages

            t = time.perf_counter()
            sync_sequences(schema)
            shas = bench_web.prepare_review(home)
            cases = web_case_pages.setup(home)
            if args.more:
                import web_more_pages

                web_more_pages.SKIP.update(args.skip)
                more = {**cases, **web_more_pages.setup(home)}
            print(json.dumps({"review_and_case_data_s": round(time.perf_counter() - t, 1)}),
                  flush=True)  # fmt: skip
        out = serve_and_load(home, args.users, args.seconds, built["vocab"], cases, shas, more)
    finally:
        if not args.keep and not args.reuse:
            from sqlalchemy import create_engine, text

            engine = create_engine(PG)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
    print(json.dumps({"messages": args.messages, "media": args.media, "users": args.users,
                      **out}), flush=True)  # fmt: skip
    head = f"{args.messages:,} messages, {args.media:,} media, PostgreSQL, {args.users} users"
    _print(head + (": archive, case and counsellor pages" if cases else ""), out["pages"])
    if "review" in out:
        _print(head + ": review pages (user 0 an auditor)", out["review"])
    print(f"serve tree peak RSS {out['serve_tree_peak_rss_mb']} MB "
          f"({out['serve_processes']} processes; VmHWM {out['serve_vmhwm_mb']} MB)")  # fmt: skip
    for kind, what in sorted(bench_web.FAILURES.items()):
        print(f"FAILED {kind}: {len(what)} request(s), e.g. {what[0]}")
    gets = {**out["pages"], **out.get("review", {})}
    import web_case_pages

    actions = set(web_case_pages.POSTS) | {"decide", "collect", "tag"} | set(ACTIONS_MORE)
    worst = max((r["p95_ms"], k) for k, r in gets.items() if k != "static" and k not in actions)
    print(
        f"worst page p95 {worst[0]} ms ({worst[1]}): "
        f"{'PASS' if worst[0] < 200 else 'MISS'} (target < 200 ms, pages; actions apart)"
    )


if __name__ == "__main__":
    main()
