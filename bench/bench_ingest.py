"""Ingest benchmark: `haechi ingest` against json.load + row-by-row ORM inserts.

Both run in child processes on the same generated export, in the same run, so the ratio is
fair on a noisy machine; each is repeated and the median reported. Peak RSS is the child's
``ru_maxrss`` from ``wait4``.

    python bench/bench_ingest.py --messages 1000000 --media 0 --repeat 3
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

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


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MB) and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"child failed: {' '.join(cmd)}\n{err[-2000:]}")
    return seconds, usage.ru_maxrss // 1024, out


def bench(messages: int, media: int, repeat: int, work: Path, baseline: bool) -> dict:
    # Generated in a child, and never loaded here: a child's peak RSS (ru_maxrss) counts
    # the memory of the process it was forked from, so this process must stay small.
    export = work / f"export-{messages}-{media}"
    run_child(
        [sys.executable, str(HERE / "gen_export.py"), str(export), "--messages", str(messages),
         "--media", str(media), "--seed", "1"]
    )  # fmt: skip
    count = messages  # gen_export writes exactly this many
    size_mb = (export / "result.json").stat().st_size / 1e6
    haechi = str(Path(sys.executable).with_name("haechi"))
    ours, ours_rss = [], []
    for i in range(repeat):
        home = work / f"home-{i}"
        shutil.rmtree(home, ignore_errors=True)
        env = {**os.environ, "HAECHI_HOME": str(home)}
        run_child([haechi, "init", str(home)], env)
        seconds, rss, out = run_child(
            [haechi, "ingest", str(export), "--json", "--no-analyze"], env
        )
        report = json.loads(out)
        assert report["messages"] == count, report
        ours.append(seconds)
        ours_rss.append(rss)
        shutil.rmtree(home, ignore_errors=True)
    result = {
        "messages": count,
        "media": media,
        "json_mb": round(size_mb, 1),
        "haechi_s": round(statistics.median(ours), 2),
        "haechi_msgs_per_s": round(count / statistics.median(ours)),
        "haechi_peak_rss_mb": max(ours_rss),
    }
    if baseline:
        base, base_rss = [], []
        for i in range(repeat):
            db = work / f"baseline-{i}.db"
            seconds, rss, _ = run_child([sys.executable, "-c", BASELINE, str(export), str(db)])
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
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
