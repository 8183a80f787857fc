#!/usr/bin/env python3
"""Benchmark: syncing a partner's bank of 1M items over the exchange, and 1,000 changes
after it, against `haechi bank import` of the same items (the baseline), in the same run.

Two data directories and real processes, as in production:

1. The partner (publisher) imports a signal file of N PDQ hashes into a bank with
   `haechi bank import` — timed: this is the **baseline**, a full import of the list —
   shares the bank (`haechi exchange partner add`), builds its change feed
   (`haechi exchange feed`, timed: the publisher's one-off cost) and serves it
   (`haechi serve`, uvicorn, loopback).
2. A fresh subscriber runs `haechi exchange sync`: every page fetched over HTTP, its
   signature and every hash checked, imported one transaction per page, and its hashes
   matched against the (empty) store — timed, with its peak RSS.
3. The partner then removes 500 items and adds 500 (1,000 changes); the subscriber syncs
   again (timed). The alternative without the exchange is a full re-import of the list.
4. For the record, a second fresh data directory imports the same file with
   `haechi bank import` too (the baseline measured on a directory like the subscriber's).

Each command runs in its own process; RSS is that process's peak (``wait4``). The store
holds no media, so matching is the bank hunt over an empty index on both sides. By
default both sides skip it — the sync with ``--defer-matching``, the import through the
same write path as `haechi bank import` with the hunt left for `haechi match --all` —
and ``--match`` keeps it on both sides. The hunt searches a page of 500 hashes in one
vectorised pass (0.09-0.16 ms a hash against 100k stored pictures, bench/bench_hunt.py);
before, it made database round trips for each hash (1.6-3.1 ms), which at 1M took hours.

    .venv/bin/python bench/bench_exchange.py                  # 1,000,000 items
    .venv/bin/python bench/bench_exchange.py --items 20000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261212


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    env["HAECHI_HOME"] = str(home)
    return env


def timed(
    args: list[str], home: Path, stdin: str | None = None, python: bool = False
) -> dict[str, Any]:
    """Run ``haechi ARGS`` (``python ARGS``); its wall time, own peak RSS (``wait4``), output."""
    start = time.perf_counter()
    command = [sys.executable, *args] if python else [sys.executable, "-m", "haechi.cli.main",
                                                      *args]  # fmt: skip
    proc = subprocess.Popen(command, env=_env(home),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    got: dict[str, str] = {}

    def read(name: str, stream: Any) -> None:
        got[name] = stream.read()

    readers = [threading.Thread(target=read, args=(n, s)) for n, s in
               (("out", proc.stdout), ("err", proc.stderr))]  # fmt: skip
    for t in readers:
        t.start()
    if proc.stdin is not None:
        proc.stdin.write(stdin or "")
        proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    for t in readers:
        t.join()
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code:
        raise SystemExit(f"haechi {' '.join(args)} failed ({code}):\n{got['out'][-3000:]}\n"
                         f"{got['err'][-3000:]}")  # fmt: skip
    return {"seconds": round(seconds, 2), "rss_mb": round(usage.ru_maxrss / 1024, 1),
            "stdout": got["out"]}  # fmt: skip


def signal_file(path: Path, n: int, offset: int = 0) -> None:
    """``n`` distinct PDQ hashes, one item per line (python-threatexchange's signal file)."""
    import random

    rng = random.Random(SEED + offset)
    with open(path, "w", encoding="ascii") as fh:
        for _ in range(n):
            fh.write(f"pdq {rng.getrandbits(256):064x}\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("haechi serve stopped: " + (proc.stderr.read() if proc.stderr else ""))
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("haechi serve did not start")


CHANGES = """
import sys
from haechi.app import open_app
from haechi.match.bank_sources import add_hashes
from haechi.match.banks import bank_items, remove_items
app = open_app()
half = int(sys.argv[1]) // 2
items = bank_items(app, "shared", limit=half, offset=1000)
remove_items(app, "shared", [i.id for i in items], reason="benchmark: withdrawn")
import random
rng = random.Random(7)
for _ in range(half):
    add_hashes(app, "shared", [("pdq", f"{rng.getrandbits(256):064x}")])
"""


IMPORT_NO_HUNT = """
import sys
from pathlib import Path
from haechi.app import open_app
from haechi.match import formats
from haechi.match.banks import add_items
from haechi.match.formats.base import BadRecord
app = open_app()
path = Path(sys.argv[1])
items = (i for i in formats.read(path, "te") if not isinstance(i, BadRecord))
report = add_items(app, "shared", items, source={"how": "import", "file": path.name}, hunt=False)
print(report.items_added)
"""


def bank_import(home: Path, listing: Path, match: bool) -> dict[str, Any]:
    """`haechi bank import`, or with ``match`` off its write path without the hunt."""
    if match:
        return timed(["bank", "import", "shared", str(listing), "--format", "te"], home)
    return timed(["-c", IMPORT_NO_HUNT, str(listing)], home, python=True)


def run(n: int, changes: int, workdir: Path, match: bool) -> dict[str, Any]:
    listing = workdir / "partner.te"
    signal_file(listing, n)
    a, b, c = workdir / "partner", workdir / "subscriber", workdir / "reimport"
    for home in (a, b, c):
        timed(["init", str(home)], home)
    timed(["bank", "create", "shared"], a)
    baseline = bank_import(a, listing, match)
    made = json.loads(timed(["exchange", "partner", "add", "sub", "--bank", "shared",
                             "--json"], a)["stdout"])  # fmt: skip
    feed = timed(["exchange", "feed"], a)
    (workdir / "a.pem").write_text(timed(["exchange", "key"], a)["stdout"])
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "haechi.cli.main", "serve", "--port",
                               str(port)], env=_env(a), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        _wait(port, server)
        timed(["exchange", "add", "partner", "--url", f"http://127.0.0.1:{port}",
               "--token-stdin", "--public-key", str(workdir / "a.pem")], b,
              stdin=made["token"] + "\n")  # fmt: skip
        defer = [] if match else ["--defer-matching"]
        full = timed(["exchange", "sync", "--json", *defer], b)
        subprocess.run([sys.executable, "-c", CHANGES, str(changes)], env=_env(a), check=True)
        incremental = timed(["exchange", "sync", "--json", *defer], b)
    finally:
        server.terminate()
        server.wait(30)
    timed(["bank", "create", "shared"], c)
    reimport = bank_import(c, listing, match)
    [full_report], [incr_report] = json.loads(full["stdout"]), json.loads(incremental["stdout"])
    result = {
        "items": n, "changes": changes, "matching": match,
        "bank_import": _row(baseline), "bank_import_fresh": _row(reimport),
        "publisher_feed": _row(feed),
        "sync_full": {**_row(full), "pages": full_report["pages"], "added": full_report["added"]},
        "sync_incremental": {**_row(incremental), "pages": incr_report["pages"],
                             "added": incr_report["added"],
                             "withdrawn": incr_report["withdrawn"]},
    }  # fmt: skip
    base = reimport["seconds"]
    result["ratios"] = {
        "sync_full / bank_import": round(full["seconds"] / base, 2),
        "sync_incremental / bank_import": round(incremental["seconds"] / base, 4),
    }
    return result


def _row(timing: dict[str, Any]) -> dict[str, Any]:
    return {"seconds": timing["seconds"], "rss_mb": timing["rss_mb"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the data directories")
    ap.add_argument("--match", action="store_true",
                    help="hunt the new hashes on both sides")  # fmt: skip
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-exchange-{secrets.token_hex(3)}-"))
    result = run(args.items, args.changes, workdir, args.match)
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, indent=2))
    print(f"full sync of {args.items:,} items: {result['sync_full']['seconds']} s, "
          f"{result['sync_full']['rss_mb']} MB peak; bank import of the same list: "
          f"{result['bank_import_fresh']['seconds']} s, {result['bank_import_fresh']['rss_mb']} "
          f"MB (ratio {result['ratios']['sync_full / bank_import']}); incremental sync of "
          f"{args.changes:,} changes: {result['sync_incremental']['seconds']} s (ratio "
          f"{result['ratios']['sync_incremental / bank_import']} of a full re-import)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
