"""Live capture benchmark (issue 14, "Measured").

1. **Back-fill throughput**: `haechi watch run --once` over a fake Telegram (the test suite's
   `FakeClient`, real TL objects, benign photos) against `haechi ingest` of the *same*
   messages and photos written as a Telegram Desktop export, each into a fresh data
   directory, in the same run, alternating, median of ``--repeat``. Messages/s and files/s
   into the vault. The pace setting is lifted (Telegram's own flood limits, about 3,000
   messages a minute per account, would otherwise be all that is measured).
2. **RSS while following**: the service follows ``--targets`` rooms; new messages (every
   tenth with a photo), edits and deletions are pushed as Telegram pushes updates, in rounds;
   the resident memory of this process is sampled every round. Reported: RSS after the
   first tenth of the rounds, at the end, and the slope per 1,000 messages over the second
   half (flat = within noise of 0). ``--follow-mode both`` (the default) runs it twice, each
   in a fresh process, alternating: the service as shipped (every segment's ingest borrows
   one set of file-copy threads, blocks of 256 KiB and more get their own mapping, and the
   heap's free pages are given back after each segment: ``flush.tune_heap`` and
   ``flush.release_memory``) and the baseline ``before`` (each ingest starts and stops its
   own threads, glibc's defaults, nothing given back), and prints the difference.

    python bench/bench_live.py                          # 20,000 messages, 400 photos
    python bench/bench_live.py --messages 2000 --photos 40 --repeat 1 --rounds 20  # smoke
    python bench/bench_live.py --skip-backfill --rounds 150      # RSS: shipped vs before
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _sqlite_memory_used() -> Any:
    import ctypes
    import sqlite3  # noqa: F401  (loads the library the process uses)

    try:
        fn = ctypes.CDLL("libsqlite3.so.0").sqlite3_memory_used
    except (OSError, AttributeError):  # SQLite linked statically: not reported
        return None
    fn.restype = ctypes.c_int64
    return fn


_sqlite_used = _sqlite_memory_used()


def memory() -> dict[str, float]:
    """This process's resident memory (MB: all, anonymous, file-backed), SQLite's own heap
    (MB: page caches, statements) and live Python objects. File-backed pages are mostly the
    SQLite database being read (it grows with every message stored), anonymous ones the
    heap: a leak shows there and in objects."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) / 1024
    out["SQLite"] = _sqlite_used() / 1e6 if _sqlite_used is not None else 0.0
    out["objects"] = float(len(gc.get_objects()))
    return out


def _slope(points: list[tuple[int, float]]) -> float:
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in points) / max(sum((x - mx) ** 2 for x in xs), 1)


def build_world(messages: int, photos: int) -> tuple[Any, Any]:
    from tests.live.run_fake_watch import big_world

    return big_world(messages, photos)


def write_export(room: Any, world: Any, dest: Path) -> Path:
    """The same messages and photo bytes as a Telegram Desktop JSON export."""
    (dest / "photos").mkdir(parents=True)
    out = []
    for mid in sorted(room.messages):
        m = room.messages[mid]
        unix = int(m.date.timestamp())
        rec: dict[str, Any] = {
            "id": mid,
            "type": "message",
            "date": m.date.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(unix),
            "from": room.entity.title,
            "from_id": f"channel{room.entity.id}",
            "text": m.message,
            "text_entities": [{"type": "plain", "text": m.message}],
        }
        if m.media is not None:
            name = f"photos/photo_{mid}.jpg"
            (dest / name).write_bytes(world.files[m.media.photo.id])
            rec.update(photo=name, width=96, height=96)
        out.append(rec)
    header = {
        "name": room.entity.title,
        "type": "public_channel",
        "id": room.entity.id,
        "messages": out,
    }
    (dest / "result.json").write_text(json.dumps(header, ensure_ascii=False, indent=1))
    return dest


def run_live(home: Path, world: Any, conftest: ModuleType) -> float:
    from haechi.app import init_home
    from haechi.collect.telegram_live.targets import add_target

    app = init_home(home)
    try:
        add_target(app, "@bulk_room")
        settings = replace(
            conftest.FAST, requests_per_second=1e6, flush_messages=1000, flush_seconds=5.0
        )
        client = conftest.FakeClient(world)
        started = time.perf_counter()
        asyncio.run(conftest.watcher(app, client, settings).run(once=True))
        return time.perf_counter() - started
    finally:
        app.close()


def run_export(home: Path, export: Path) -> float:
    from haechi.app import init_home
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.run.ingest import Ingestor

    app = init_home(home)
    try:
        started = time.perf_counter()
        report = Ingestor(app, TelegramExportCollector(export)).run()
        seconds = time.perf_counter() - started
        assert report.messages_new > 0
        return seconds
    finally:
        app.close()


def _stored(home: Path) -> tuple[int, int]:
    import sqlite3

    with sqlite3.connect(home / "haechi.db") as conn:
        msgs = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        files = conn.execute("SELECT count(*) FROM media WHERE blob_sha256 IS NOT NULL").fetchone()[
            0
        ]
    return int(msgs), int(files)


def backfill(args: argparse.Namespace, conftest: ModuleType) -> None:
    world, room = build_world(args.messages, args.photos)
    live_s: list[float] = []
    export_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        export = write_export(room, world, Path(tmp) / "export")
        counts = {}
        for i in range(args.repeat):
            order = ("live", "export") if i % 2 == 0 else ("export", "live")
            for kind in order:
                home = Path(tmp) / f"{kind}-{i}"
                if kind == "live":
                    live_s.append(run_live(home, world, conftest))
                else:
                    export_s.append(run_export(home, export))
                counts[kind] = _stored(home)
    live, exp = statistics.median(live_s), statistics.median(export_s)
    n, files = counts["live"]
    assert counts["export"] == counts["live"], counts
    print(f"back-fill: {n:,} messages, {files:,} photos, median of {args.repeat}")
    print(
        f"  live (fake Telegram -> segments -> ingest): {live:.2f} s, "
        f"{n / live:,.0f} msg/s, {files / live:,.1f} files/s"
    )
    print(
        f"  export ingest of the same messages:        {exp:.2f} s, "
        f"{n / exp:,.0f} msg/s, {files / exp:,.1f} files/s"
    )
    print(f"  ratio live/export time: {live / exp:.2f}x")


async def _follow(
    app: Any, conftest: ModuleType, args: argparse.Namespace
) -> list[tuple[int, float]]:
    from haechi.collect.telegram_live.targets import add_target

    world = conftest.FakeWorld()
    rooms = []
    for i in range(args.targets):
        room = world.channel(f"Room {i}", f"follow_room_{i:03d}")
        for j in range(5):
            world.post(room, f"history {j} of room {i}")
        rooms.append(room)
        add_target(app, f"@follow_room_{i:03d}")
    client = conftest.FakeClient(world)
    settings = replace(
        conftest.FAST, requests_per_second=1e6, flush_seconds=0.5, recheck_minutes=10_000
    )
    w = conftest.watcher(app, client, settings)
    task = asyncio.create_task(w.run())
    while (
        not all(rt.settled.is_set() for rt in w.runtimes.values()) or len(w.runtimes) < args.targets
    ):
        await asyncio.sleep(0.1)
    samples: list[tuple[int, dict[str, float]]] = []
    sent = 0
    for r in range(args.rounds):
        for k, room in enumerate(rooms):
            photo = world.photo(seed=r * 1000 + k) if (r + k) % 10 == 0 else None
            msg = world.post(room, f"round {r} message in room {k}", photo=photo)
            await client.push(world.new_update(msg))
            sent += 1
            if (r + k) % 25 == 0 and msg.id > 3:
                await client.push(world.edit(room, msg.id - 1, f"edited in round {r}"))
            if (r + k) % 40 == 0 and msg.id > 5:
                await client.push(world.delete(room, [msg.id - 3]))
            del msg
        for room in rooms:  # the fake keeps history for reads; the service must not need it
            for old in [m for m in room.messages if m < room.next_id - 10]:
                room.messages.pop(old, None)
            for pid in list(world.files)[:-200]:
                world.files.pop(pid, None)
        await asyncio.sleep(0.3)
        await w.sink.flush_now()
        samples.append((sent, memory()))
    w.stopping.set()
    await task
    return samples


def following(args: argparse.Namespace, conftest: ModuleType) -> dict[str, Any]:
    from haechi.app import init_home

    if args.follow_mode == "before":  # the baseline: threads per ingest, glibc's defaults
        import haechi.collect.telegram_live.flush as live_flush

        live_flush.shared_threads = lambda app: None  # type: ignore[assignment,return-value]
        live_flush.tune_heap = lambda: False
        live_flush.release_memory = lambda: None
    with tempfile.TemporaryDirectory(prefix="bench-follow-") as tmp:
        app = init_home(Path(tmp) / "home")
        try:
            started = time.perf_counter()
            samples = asyncio.run(_follow(app, conftest, args))
            seconds = time.perf_counter() - started
        finally:
            app.close()
    tenth = samples[max(len(samples) // 10 - 1, 0)]
    last = samples[-1]
    half = samples[len(samples) // 2 :]
    print(
        f"following {args.targets} targets ({args.follow_mode}): "
        f"{last[0]:,} new messages in {args.rounds} rounds ({seconds:.0f} s, with edits and "
        "deletions)"
    )
    quarters = [samples[max(len(samples) * q // 4 - 1, 0)] for q in (1, 2, 3, 4)]
    print(
        "  VmRSS at each quarter: "
        + ", ".join(f"{m['VmRSS']:.1f} MB ({n:,} msgs)" for n, m in quarters)
    )
    result: dict[str, Any] = {"quarters": [(n, m["VmRSS"]) for n, m in quarters]}
    for key, unit in (
        ("VmRSS", "MB"),
        ("RssAnon", "MB"),
        ("RssFile", "MB"),
        ("SQLite", "MB"),
        ("objects", ""),
    ):
        slope = _slope([(n, m[key]) for n, m in half]) * 1000
        result[key] = {"tenth": tenth[1][key], "last": last[1][key], "slope": slope}
        print(
            f"  {key}: {tenth[1][key]:,.1f} {unit} after {tenth[0]:,} messages, "
            f"{last[1][key]:,.1f} {unit} after {last[0]:,}; second half "
            f"{slope:+,.2f} {unit} per 1,000 messages"
        )
    return result


def following_compared(args: argparse.Namespace) -> None:
    """The service as shipped and as before, each in a fresh process (RSS is per
    process), alternating, ``--repeat-follow`` times each."""
    runs: dict[str, list[dict[str, Any]]] = {"shipped": [], "before": []}
    for i in range(args.repeat_follow):
        order = ("before", "shipped") if i % 2 == 0 else ("shipped", "before")
        for mode in order:
            cmd = [sys.executable, __file__, "--skip-backfill", "--follow-mode", mode,
                   "--targets", str(args.targets), "--rounds", str(args.rounds),
                   "--result"]  # fmt: skip
            if args.sqlite_cache_mb is not None:
                cmd += ["--sqlite-cache-mb", str(args.sqlite_cache_mb)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            print(proc.stdout.split("RESULT ")[0], end="")
            runs[mode].append(json.loads(proc.stdout.split("RESULT ", 1)[1]))

    def med(mode: str, key: str, part: str) -> float:
        return statistics.median(r[key][part] for r in runs[mode])

    print(f"following, median of {args.repeat_follow} (baseline: before)")
    for key in ("VmRSS", "RssAnon"):
        base, now = med("before", key, "last"), med("shipped", key, "last")
        print(
            f"  {key} at the end: before {base:,.1f} MB, shipped {now:,.1f} MB "
            f"({now - base:+,.1f} MB, ratio {now / base:.3f}); growth in the second half "
            f"per 1,000 messages: before {med('before', key, 'slope'):+.2f} MB, "
            f"shipped {med('shipped', key, 'slope'):+.2f} MB"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--photos", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--targets", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--skip-backfill", action="store_true")
    ap.add_argument("--skip-follow", action="store_true")
    ap.add_argument(
        "--follow-mode",
        choices=("both", "shipped", "before"),
        default="both",
        help="following: the service as shipped, as before (threads per segment's ingest, "
        "glibc's defaults), or both (each in its own process)",
    )
    ap.add_argument("--repeat-follow", type=int, default=1)
    ap.add_argument("--result", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument(
        "--sqlite-cache-mb",
        type=int,
        default=None,
        help="SQLite page cache per connection (haechi's default: 64 MB), to "
        "tell the cache filling from a leak",
    )
    args = ap.parse_args()
    conftest = _load("tests.live.conftest", ROOT / "tests" / "live" / "conftest.py")
    if args.sqlite_cache_mb is not None:
        import haechi.store.db as db

        default = db._sqlite_pragmas
        kib = args.sqlite_cache_mb * 1024

        def smaller_cache(dbapi_conn: Any, record: Any) -> None:
            default(dbapi_conn, record)
            dbapi_conn.execute(f"PRAGMA cache_size=-{kib}")

        db._sqlite_pragmas = smaller_cache
    if not args.skip_backfill:
        backfill(args, conftest)
    if not args.skip_follow:
        if args.follow_mode == "both":
            following_compared(args)
        else:
            found = following(args, conftest)
            if args.result:
                print("RESULT " + json.dumps(found))


if __name__ == "__main__":
    main()
