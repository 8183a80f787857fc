#!/usr/bin/env python3
"""Benchmark: what the signed, hash-chained audit trail (issue 17) costs, against the trail
as it was before (plain rows), in the same run.

* **Writing**: ``audit.record`` (lock the head, seal: canonical body, SHA-256, Ed25519
  signature, insert) against the plain insert of the same columns the trail wrote before
  (the baseline), one transaction per entry as the web writes them, alternating blocks.
* **Verifying**: ``haechi verify``'s engine (``run.verify.verify``: vault re-hash, custody
  chain, audit chain and cross-checks) over a data directory holding a generated export
  and ``--entries`` audit entries, against the same verify with the audit check left out
  (the baseline: verify before the trail was chained), alternating, median of
  ``--repeat``; and ``verify_audit`` alone (entries per second).

    .venv/bin/python bench/bench_audit_chain.py                      # 100,000 entries
    .venv/bin/python bench/bench_audit_chain.py --entries 5000 --messages 2000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

ACTIONS = ("search", "view_message", "reveal", "login", "export_csv")


def _plain_insert(conn: Any, i: int) -> None:
    """The row the trail wrote before it was chained (the baseline)."""
    from sqlalchemy import insert

    from haechi.store.tables.web import AuditEntry

    t = time.time()
    conn.execute(
        insert(AuditEntry).values(
            at=int(t), at_iso=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)),
            user_id=None, username="bench", role="investigator", action=ACTIONS[i % 5],
            subject=f"message:{i}", detail_json=json.dumps({"q": f"term {i}"}), ip="127.0.0.1",
            via="web", custody_seq=None,
        )
    )  # fmt: skip


def writing(app: Any, per_block: int, blocks: int) -> dict[str, float]:
    from haechi.auth import audit
    from haechi.auth.db import write
    from haechi.auth.types import Actor

    actor = Actor(None, "bench", "investigator", via="web", ip="127.0.0.1")
    times: dict[str, list[float]] = {"plain": [], "chained": []}
    n = 0
    for _ in range(blocks):
        started = time.perf_counter()
        for _ in range(per_block):
            n += 1
            with write(app) as conn:
                _plain_insert(conn, n)
        times["plain"].append((time.perf_counter() - started) / per_block)
        started = time.perf_counter()
        for _ in range(per_block):
            n += 1
            audit.record(app, actor, ACTIONS[n % 5], f"message:{n}", {"q": f"term {n}"})
        times["chained"].append((time.perf_counter() - started) / per_block)
    plain, chained = statistics.median(times["plain"]), statistics.median(times["chained"])
    return {
        "write_plain_ms": round(plain * 1000, 3),
        "write_chained_ms": round(chained * 1000, 3),
        "write_ratio": round(chained / plain, 2),
    }


def fill(app: Any, entries: int) -> None:
    """``entries`` chained entries, many per transaction (only the verify is timed)."""
    from haechi.auth import audit
    from haechi.auth.db import write
    from haechi.auth.types import Actor

    actor = Actor(None, "bench", "investigator", via="web", ip="127.0.0.1")
    done = 0
    while done < entries:
        with write(app) as conn:
            for _ in range(min(2000, entries - done)):
                done += 1
                audit.record_in(app, conn, actor, ACTIONS[done % 5], f"message:{done}",
                                {"q": f"term {done}"})  # fmt: skip


def verifying(app: Any, repeat: int) -> dict[str, float]:
    import haechi.run.verify as run_verify
    from haechi.auth.audit_chain import AuditReport, verify_audit

    real = run_verify.verify_audit
    times: dict[str, list[float]] = {"without": [], "with": [], "audit_alone": []}
    for _ in range(repeat):
        run_verify.verify_audit = lambda conn, verifier: AuditReport()  # type: ignore[assignment]
        started = time.perf_counter()
        report = run_verify.verify(app, record=False)
        times["without"].append(time.perf_counter() - started)
        assert report.ok, report.problems[:3]
        run_verify.verify_audit = real
        started = time.perf_counter()
        report = run_verify.verify(app, record=False)
        times["with"].append(time.perf_counter() - started)
        assert report.ok, report.problems[:3]
        started = time.perf_counter()
        with app.db.connect() as conn:
            alone = verify_audit(conn, app.verifier(None))
        times["audit_alone"].append(time.perf_counter() - started)
        assert alone.ok, alone.all_problems()[:3]
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "verify_without_audit_s": round(med["without"], 2),
        "verify_with_audit_s": round(med["with"], 2),
        "verify_ratio": round(med["with"] / med["without"], 3),
        "verify_audit_alone_s": round(med["audit_alone"], 2),
        "audit_entries_per_s": round(alone.chain.events / med["audit_alone"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--media", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write-block", type=int, default=500)
    args = ap.parse_args()
    from gen_export import generate_export
    from haechi.app import init_home
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.run.ingest import Ingestor

    with tempfile.TemporaryDirectory(prefix="haechi-bench-audit-") as tmp:
        export = Path(tmp) / "export"
        generate_export(export, messages=args.messages, media=args.media, seed=1)
        app = init_home(Path(tmp) / "home")
        try:
            Ingestor(app, TelegramExportCollector(export)).run()
            result: dict[str, Any] = {"entries": args.entries, "messages": args.messages}
            result.update(writing(app, args.write_block, 3))
            fill(app, args.entries)
            result.update(verifying(app, args.repeat))
        finally:
            app.db.dispose()
    print(json.dumps(result))
    print(
        f"audit trail, {args.entries:,} entries beside {args.messages:,} messages: write "
        f"{result['write_chained_ms']} ms an entry chained vs {result['write_plain_ms']} ms "
        f"plain (x{result['write_ratio']}); verify {result['verify_with_audit_s']} s vs "
        f"{result['verify_without_audit_s']} s without the audit check "
        f"(x{result['verify_ratio']}); the audit check alone {result['verify_audit_alone_s']} s "
        f"({result['audit_entries_per_s']:,} entries/s)",
        flush=True,
    )


if __name__ == "__main__":
    main()
