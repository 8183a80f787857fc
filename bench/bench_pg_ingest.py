"""Ingest into PostgreSQL against ingest into SQLite, same export, same run (issue 18).

    python bench/bench_pg_ingest.py --messages 1000000 --repeat 3
    python bench/bench_pg_ingest.py --messages 10000000 --repeat 1   # make bench-scale

``haechi ingest --json --no-analyze`` of one generated export (``bench/gen_export.py
--seed 1``, text only unless ``--media``) into a fresh data directory on each back end:
SQLite in the data directory, PostgreSQL at ``HAECHI_TEST_PG_URL`` (a schema of its own per
run, dropped afterwards). Runs alternate (SQLite, PostgreSQL, SQLite, ...) so both see the
same load on a busy machine; medians. The baseline is SQLite: the ratio is PostgreSQL's
throughput over SQLite's (>= 1.0: PostgreSQL at least as fast, the issue's target). Peak
RSS is the client process tree's (ingest and its reader process; bench_ingest.TreeRss), not
the PostgreSQL server's, which is reported apart as the growth of the database. Each run
prints the machine's load average (1 min) at its end: on a shared machine the runs are
only comparable at similar load, and a loaded machine favours PostgreSQL (its server
process is not niced with the benchmark), so read the ratio of a quiet run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_ingest  # noqa: E402 - bench/ is on the path only now

PG = os.environ.get("HAECHI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_schema(create: bool, name: str) -> int:
    """Create or drop ``name``; returns the schema's size in bytes before a drop."""
    from sqlalchemy import create_engine, text

    engine = create_engine(PG)
    size = 0
    with engine.begin() as conn:
        if create:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        else:
            size = int(
                conn.execute(
                    text(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s"
                    ),
                    {"s": name},
                ).scalar()
                or 0
            )
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()
    return size


def settle() -> str:
    """A ``CHECKPOINT`` before every run, outside its timing, on either back end: the
    previous PostgreSQL run's dirty pages are written now, not during the next run (a timed
    checkpoint would otherwise land in a random run), and its WAL files are recycled as on a
    server in service. Needs superuser or pg_checkpoint; without it the runs go on and the
    summary says so."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(PG, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))
        return "checkpoint"
    except DBAPIError as exc:
        return f"no checkpoint ({type(exc.orig).__name__})"
    finally:
        engine.dispose()


def one_run(
    backend: str, export: Path, work: Path, messages: int, writers: str | None = None
) -> dict[str, float]:
    haechi = str(Path(sys.executable).with_name("haechi"))
    home = work / f"home-{backend}"
    shutil.rmtree(home, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    env["HAECHI_HOME"] = str(home)
    if writers:  # PostgreSQL's batch writers (run/ingest_parallel.py); SQLite ignores it
        env["HAECHI_INGEST_WRITERS"] = writers
    schema = None
    if backend == "postgresql":
        schema = "bench_ingest_" + uuid.uuid4().hex[:8]
        _pg_schema(True, schema)
        sep = "&" if "?" in PG else "?"
        env["HAECHI_DATABASE_URL"] = f"{PG}{sep}options=-csearch_path%3D{schema}"
    try:
        bench_ingest.run_child([haechi, "init", str(home)], env)
        seconds, rss, single, out = bench_ingest.run_child(
            [haechi, "ingest", str(export), "--json", "--no-analyze"], env
        )
        report = json.loads(out)
        assert report["messages"] == messages, report["messages"]
        stored = (
            _pg_schema(False, schema)
            if schema
            else sum(p.stat().st_size for p in home.glob("haechi.db*"))
        )
        schema = None
        return {"seconds": seconds, "rss": rss, "single": single, "db_bytes": stored}
    finally:
        if schema:
            _pg_schema(False, schema)
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--media", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--export", type=Path, default=None, help="an export made before (reused)")
    ap.add_argument("--writers", default=None, help="HAECHI_INGEST_WRITERS for PostgreSQL")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="haechi-pg-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        export = args.export or work / f"export-{args.messages}-{args.media}"
        if not (export / "result.json").exists():
            bench_ingest.run_child(
                [sys.executable, str(HERE / "gen_export.py"), str(export), "--messages",
                 str(args.messages), "--media", str(args.media), "--seed", "1"]
            )  # fmt: skip
        size_mb = (export / "result.json").stat().st_size / 1e6
        runs: dict[str, list[dict[str, float]]] = {"sqlite": [], "postgresql": []}
        for i in range(args.repeat):
            for backend in ("sqlite", "postgresql"):
                settled = settle()
                r = one_run(backend, export, work, args.messages, args.writers)
                r["load1"] = round(os.getloadavg()[0], 2)
                runs[backend].append(r)
                print(
                    json.dumps({"run": i, "backend": backend, **r, "before": settled}), flush=True
                )
        result = {"messages": args.messages, "media": args.media, "json_mb": round(size_mb, 1)}
        for backend, rs in runs.items():
            median = statistics.median(r["seconds"] for r in rs)
            result[backend] = {
                "seconds": round(median, 2),
                "msgs_per_s": round(args.messages / median),
                "peak_rss_mb": max(int(r["rss"]) for r in rs),
                "largest_process_mb": max(int(r["single"]) for r in rs),
                "database_mb": round(max(r["db_bytes"] for r in rs) / 1e6),
                "load1": [r["load1"] for r in rs],
            }
        ratio = result["postgresql"]["msgs_per_s"] / result["sqlite"]["msgs_per_s"]
        result["ratio_pg_over_sqlite"] = round(ratio, 3)
        print(json.dumps(result), flush=True)
        print(
            f"ingest {args.messages:,} messages ({size_mb:.0f} MB): SQLite "
            f"{result['sqlite']['msgs_per_s']:,} msg/s, PostgreSQL "
            f"{result['postgresql']['msgs_per_s']:,} msg/s; ratio {ratio:.2f} "
            f"({'PASS' if ratio >= 1.0 else 'MISS'}: PostgreSQL at least as fast as SQLite)",
            flush=True,
        )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
