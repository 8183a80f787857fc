"""Ingest benchmark: `haechi ingest` against json.load + row-by-row ORM inserts.

Both run in child processes on the same generated export, in the same run, so the ratio is
fair on a noisy machine; each is repeated and the median reported.

Peak RSS is that of the whole process tree: an ingest of a large export runs a second
(reader) process, and ``ru_maxrss`` would only give the larger of the two, not what the
machine must hold. A sampler adds up the resident memory (``/proc/<pid>/statm``) of the child
and all its descendants every 50 ms and keeps the peak of that sum (shared library pages are
counted once per process, so the sum errs high). Without ``/proc`` (macOS) it falls back to
``ru_maxrss`` and says so. Each configuration ends with PASS/MISS against the targets:
>= 30,000 messages/s into SQLite and a peak RSS under 400 MB.

    python bench/bench_ingest.py --messages 1000000 --media 0 --repeat 3
    python bench/bench_ingest.py --messages 20000 --media 0 --repeat 1 --no-baseline  # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
TARGET_MSGS_PER_S = 30_000
TARGET_PEAK_RSS_MB = 400
SAMPLE_SECONDS = 0.05
RESCAN_EVERY = 4  # samples between looks for new child processes (a /proc scan costs ~2 ms)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

BASELINE = r"""
import json, sys, time
from pathlib import Path
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from haechi.store.models import Base, Chat, Message, Source
path, db = sys.argv[1], sys.argv[2]
engine = create_engine(f"sqlite:///{db}")
Base.metadata.create_all(engine)
t = time.perf_counter()
data = json.load(open(Path(path) / "result.json", encoding="utf-8"))
with Session(engine) as s:
    src = Source(kind="x", uri=path, label="x", collector="baseline", collector_version="0",
                 operator="b", host="b", status="started", started_at="now")
    s.add(src); s.flush()
    chat = Chat(key=f"channel:{data['id']}", peer_kind="channel", tg_id=data["id"],
                first_source_id=src.id, title=data.get("name"))
    s.add(chat); s.flush()
    for i, m in enumerate(data["messages"], 1):
        t_ = m.get("text", "")
        text = t_ if isinstance(t_, str) else "".join(
            p if isinstance(p, str) else p["text"] for p in t_)
        s.add(Message(chat_id=chat.id, message_id=m["id"], source_id=src.id, kind=m["type"],
                      date_unix=int(m["date_unixtime"]) if "date_unixtime" in m else None,
                      date_raw=m.get("date"), sender_name=m.get("from"), text=text,
                      raw=json.dumps(m, ensure_ascii=False)))
        if i % 10000 == 0:
            s.commit()
    s.commit()
print(json.dumps({"seconds": time.perf_counter() - t, "messages": len(data["messages"])}))
"""


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):  # the process just ended
        return 0


def _descendants(root: int) -> set[int]:
    """``root`` and every process below it, from the parent ids in ``/proc/*/stat``."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: parse after the last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(name)] = int(fields[1])
    tree = {root}
    grew = True
    while grew:
        found = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= found
        grew = bool(found)
    return tree


class TreeRss:
    """Peak of the summed RSS of a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.samples = 0
        self.available = os.path.exists(f"/proc/{pid}/statm")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        if self.available:
            self._thread.start()

    def _run(self) -> None:
        tree = {self.pid}
        while not self._stop.is_set():
            if self.samples % RESCAN_EVERY == 0:
                tree = _descendants(self.pid)
            self.peak = max(self.peak, sum(_rss_bytes(pid) for pid in tree))
            self.samples += 1
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS of the whole process tree (MB), the largest single process's
    peak (``ru_maxrss``, MB) and stdout of one child."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    sampler = TreeRss(proc.pid)
    errors: list[bytes] = []
    # stderr drains in a thread: a child blocked on a full stderr pipe would never close stdout
    drain = threading.Thread(
        target=lambda: errors.append(proc.stderr.read() if proc.stderr else b"")
    )
    drain.start()
    out = proc.stdout.read().decode() if proc.stdout else ""
    drain.join()
    _pid, status, usage = os.wait4(proc.pid, 0)  # reaped here, so ru_maxrss is this child's
    sampler.stop()
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"child failed: {' '.join(cmd)}\n{b''.join(errors).decode()[-2000:]}")
    single = usage.ru_maxrss // 1024
    if not sampler.available or sampler.samples == 0:
        print("note: no /proc here: peak RSS is the largest single process (ru_maxrss)")
        return seconds, single, single, out
    return seconds, max(round(sampler.peak / 2**20), single), single, out


def bench(messages: int, media: int, repeat: int, work: Path, baseline: bool) -> dict:
    # Generated in a child, and never loaded here: a forked child's ru_maxrss counts the
    # memory of the process it was forked from, so this process must stay small.
    export = work / f"export-{messages}-{media}"
    run_child(
        [sys.executable, str(HERE / "gen_export.py"), str(export), "--messages", str(messages),
         "--media", str(media), "--seed", "1"]
    )  # fmt: skip
    count = messages  # gen_export writes exactly this many
    size_mb = (export / "result.json").stat().st_size / 1e6
    haechi = str(Path(sys.executable).with_name("haechi"))
    ours, ours_rss, ours_single = [], [], []
    for i in range(repeat):
        home = work / f"home-{i}"
        shutil.rmtree(home, ignore_errors=True)
        env = {**os.environ, "HAECHI_HOME": str(home)}
        run_child([haechi, "init", str(home)], env)
        seconds, rss, single, out = run_child(
            [haechi, "ingest", str(export), "--json", "--no-analyze"], env
        )
        report = json.loads(out)
        assert report["messages"] == count, report
        ours.append(seconds)
        ours_rss.append(rss)
        ours_single.append(single)
        shutil.rmtree(home, ignore_errors=True)
    result = {
        "messages": count,
        "media": media,
        "json_mb": round(size_mb, 1),
        "haechi_s": round(statistics.median(ours), 2),
        "haechi_msgs_per_s": round(count / statistics.median(ours)),
        "haechi_peak_rss_mb": max(ours_rss),  # the whole process tree
        "haechi_largest_process_mb": max(ours_single),
    }
    if baseline:
        base, base_rss = [], []
        for i in range(repeat):
            db = work / f"baseline-{i}.db"
            seconds, rss, _, _ = run_child([sys.executable, "-c", BASELINE, str(export), str(db)])
            base.append(seconds)
            base_rss.append(rss)
            db.unlink()
        result.update(
            baseline_s=round(statistics.median(base), 2),
            baseline_msgs_per_s=round(count / statistics.median(base)),
            baseline_peak_rss_mb=max(base_rss),
            speedup=round(statistics.median(base) / statistics.median(ours), 2),
        )
    return result


def verdicts(r: dict) -> str:
    """PASS/MISS against the ingest targets (throughput into SQLite, peak RSS of the tree)."""
    speed = r["haechi_msgs_per_s"] >= TARGET_MSGS_PER_S
    memory = r["haechi_peak_rss_mb"] < TARGET_PEAK_RSS_MB
    small = (
        " (a small run: start-up dominates; the target is for 1M)"
        if r["messages"] < 200_000
        else ""
    )
    return (
        f"  {'PASS' if speed else 'MISS'} throughput: {r['haechi_msgs_per_s']:,} msg/s "
        f"(target >= {TARGET_MSGS_PER_S:,}){small}\n"
        f"  {'PASS' if memory else 'MISS'} peak RSS: {r['haechi_peak_rss_mb']} MB for the "
        f"process tree, largest process {r['haechi_largest_process_mb']} MB "
        f"(target < {TARGET_PEAK_RSS_MB} MB)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--media", type=int, nargs="*", default=[0, 10_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="haechi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for media in args.media:
            r = bench(args.messages, media, args.repeat, work, baseline=not args.no_baseline)
            print(json.dumps(r))
            line = (
                f"ingest {r['messages']:,} msgs + {media:,} media: haechi median "
                f"{r['haechi_s']} s = {r['haechi_msgs_per_s']:,} msg/s, peak RSS "
                f"{r['haechi_peak_rss_mb']} MB"
            )
            if "baseline_s" in r:
                line += (
                    f"; baseline json.load+ORM {r['baseline_s']} s = "
                    f"{r['baseline_msgs_per_s']:,} msg/s, peak RSS {r['baseline_peak_rss_mb']} MB;"
                    f" ratio {r['speedup']}x"
                )
            print(line, flush=True)
            print(verdicts(r), flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
