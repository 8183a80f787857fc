"""Graph benchmark: build time and peak memory of the network map over 1M messages,
against a naive per-message build measured in the same run; also the end-to-end text
analysis (``haechi text analyze``: read, scan, write findings, custody) on the same store.

    python bench/bench_graph.py --messages 1000000 --chats 2000

The store is synthetic and benign, written straight into a fresh SQLite data directory:
``--chats`` rooms, 50,000 accounts, 200 bots, messages with 5% forwards between rooms,
1% via_bot, 3% media drawn from a pool of shared files, and the benchmark text mix
(benign chatter plus 1% labelled messages and 0.5% identifiers). Each build runs in a
child process; peak RSS is the child's ``ru_maxrss``.

Baseline: select every message row and add its edges to networkx one by one (the obvious
way), then the same for identifier and media rows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

OURS = r"""
import json, sys, time
from pathlib import Path
from haechi.app import open_app
from haechi.graph.service import BuildOptions, build_graph
app = open_app(Path(sys.argv[1]))
t = time.perf_counter()
g = build_graph(app, BuildOptions(accounts=sys.argv[2] == "1"))
print(json.dumps({"seconds": time.perf_counter() - t, "nodes": g.number_of_nodes(),
                  "edges": g.number_of_edges()}))
"""

NAIVE = r"""
import json, sys, time
import networkx as nx
from sqlalchemy import create_engine, text
engine = create_engine(f"sqlite:///{sys.argv[1]}/haechi.db")
t = time.perf_counter()
g = nx.MultiDiGraph()
def bump(u, v, k):
    if g.has_edge(u, v, key=k):
        g.edges[u, v, k]["weight"] += 1
    else:
        g.add_edge(u, v, key=k, weight=1)
with engine.connect() as c:
    titles = {t: i for i, t in c.execute(text("SELECT id, title FROM chats"))}
    for mid, chat, sender, fwd, via in c.execute(text(
            "SELECT id, chat_id, sender_account_id, forwarded_from, via_bot FROM messages")):
        room = f"chat:{chat}"
        if sender is not None and sys.argv[2] == "1":
            bump(f"account:{sender}", room, "posted_in")
        if fwd is not None:
            bump(room, f"chat:{titles[fwd]}" if fwd in titles else f"name:{fwd}", "forward")
        if via is not None:
            bump(room, f"bot:{via}", "via_bot")
    for chat, kind, value in c.execute(text("SELECT chat_id, kind, value FROM text_entities")):
        bump(f"chat:{chat}", f"{kind}:{value}", "entity")
    for chat, sha in c.execute(text("SELECT m.chat_id, media.blob_sha256 FROM media "
                                    "JOIN messages m ON m.id = media.message_pk")):
        bump(f"chat:{chat}", f"media:{sha}", "shared_media")
print(json.dumps({"seconds": time.perf_counter() - t, "nodes": g.number_of_nodes(),
                  "edges": g.number_of_edges()}))
"""


POPULATE = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bench_graph import populate
print(json.dumps(populate(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))))
"""


def child(code: str, *args: str) -> tuple[float, int, dict]:  # type: ignore[type-arg]
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    _pid, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"child failed:\n{err[-3000:]}")
    return time.perf_counter() - start, usage.ru_maxrss // 1024, json.loads(out)


def populate(home: Path, messages: int, chats: int, seed: int = 1) -> dict:  # type: ignore[type-arg]
    from sqlalchemy import insert

    from bench_text import make_messages
    from haechi.app import init_home
    from haechi.store.models import Account, Blob, Chat, Media, Message, Source

    rng = random.Random(seed)
    app = init_home(home)
    texts = make_messages(messages, seed)
    t = time.perf_counter()
    with app.db.begin() as conn:
        conn.execute(insert(Source), [{"id": 1, "kind": "bench", "uri": "synthetic", "label": "x",
                                      "collector": "bench", "collector_version": "0",
                                      "operator": "bench", "host": "bench", "status": "finished",
                                      "started_at": "now"}])  # fmt: skip
        conn.execute(insert(Chat), [
            {"id": i, "key": f"channel:{1_000_000 + i}", "peer_kind": "channel",
             "tg_id": 1_000_000 + i, "title": f"room {i}", "first_source_id": 1,
             "dialog_type": "private_supergroup"}
            for i in range(1, chats + 1)
        ])  # fmt: skip
        accounts = [
            {"id": i, "key": f"user:{5_000_000 + i}", "peer_kind": "user", "tg_id": 5_000_000 + i,
             "username": None, "is_bot": False, "display_name": f"user {i}"}
            for i in range(1, 50_001)
        ]  # fmt: skip
        accounts += [
            {"id": 50_000 + i, "key": f"username:bot{i}_bot", "peer_kind": "user", "tg_id": None,
             "username": f"bot{i}_bot", "is_bot": True, "display_name": None}
            for i in range(1, 201)
        ]  # fmt: skip
        conn.execute(insert(Account), accounts)
        conn.execute(insert(Blob), [
            {"sha256": f"{i:064x}", "md5": f"{i:032x}", "size": 1000, "stored_at": "now"}
            for i in range(1, 5001)
        ])  # fmt: skip
    weights = [1.0 / (i**0.8) for i in range(1, chats + 1)]  # a few big rooms, many small
    room_of = rng.choices(range(1, chats + 1), weights=weights, k=messages)
    batch: list[dict] = []  # type: ignore[type-arg]
    media: list[dict] = []  # type: ignore[type-arg]
    per_chat: dict[int, int] = {}
    date = 1_700_000_000
    for pk in range(1, messages + 1):
        chat = room_of[pk - 1]
        per_chat[chat] = per_chat.get(chat, 0) + 1
        date += rng.randrange(1, 30)
        r = rng.random()
        batch.append({
            "id": pk, "chat_id": chat, "message_id": per_chat[chat], "source_id": 1,
            "kind": "message", "date_unix": date, "sender_account_id": rng.randrange(1, 50_001),
            "forwarded_from": f"room {rng.randrange(1, chats + 1)}" if r < 0.05 else None,
            "via_bot": f"@bot{rng.randrange(1, 201)}_bot" if 0.05 <= r < 0.06 else None,
            "text": texts[pk - 1], "raw": "{}", "repaired_escapes": 0,
        })  # fmt: skip
        if rng.random() < 0.03:
            media.append({"message_pk": pk, "source_id": 1, "role": "photo", "status": "present",
                          "blob_sha256": f"{rng.randrange(1, 5001):064x}"})  # fmt: skip
        if len(batch) >= 50_000:
            with app.db.begin() as conn:
                conn.execute(insert(Message), batch)
                if media:
                    conn.execute(insert(Media), media)
            batch, media = [], []
    with app.db.begin() as conn:
        if batch:
            conn.execute(insert(Message), batch)
        if media:
            conn.execute(insert(Media), media)
    filled = time.perf_counter() - t
    from haechi.analyze.text.runner import run_text_analysis

    t = time.perf_counter()
    report = run_text_analysis(app)
    text_s = time.perf_counter() - t
    app.close()
    return {"populate_s": round(filled, 1), "text_analyze_s": round(text_s, 1),
            "text_msgs_per_s": round(report.messages / text_s), "findings": report.findings,
            "entities": report.entities, "rooms_scored": report.rooms_scored}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--chats", type=int, default=2000)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="haechi-bench-graph-"))
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    try:
        result = {"messages": args.messages, "chats": args.chats}
        # Populate in a child too: a child forked from a big parent would report the
        # parent's pages in its peak RSS.
        _wall, _rss, filled = child(POPULATE, str(HERE), str(home), str(args.messages),
                                    str(args.chats))  # fmt: skip
        result |= filled
        for accounts in ("1", "0"):
            wall, rss, info = child(OURS, str(home), accounts)
            result[f"haechi_accounts{accounts}"] = {
                "build_s": round(info["seconds"], 2), "wall_s": round(wall, 2),
                "peak_rss_mb": rss, "nodes": info["nodes"], "edges": info["edges"]}  # fmt: skip
            wall, rss, info = child(NAIVE, str(home), accounts)
            result[f"naive_accounts{accounts}"] = {
                "build_s": round(info["seconds"], 2), "wall_s": round(wall, 2),
                "peak_rss_mb": rss, "nodes": info["nodes"], "edges": info["edges"]}  # fmt: skip
        print(json.dumps(result))
        ours, naive = result["haechi_accounts1"], result["naive_accounts1"]
        print(
            f"graph over {args.messages:,} messages / {args.chats:,} rooms: haechi build "
            f"{ours['build_s']} s, peak RSS {ours['peak_rss_mb']} MB, {ours['nodes']:,} nodes, "
            f"{ours['edges']:,} edges; naive per-row build {naive['build_s']} s, "
            f"{naive['peak_rss_mb']} MB (ratio {naive['build_s'] / ours['build_s']:.1f}x); "
            f"text analyze end to end {result['text_msgs_per_s']:,} msg/s",
            flush=True,
        )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
