#!/usr/bin/env python3
"""Benchmark: `haechi verify`'s re-hashing against coreutils `sha256sum` on the same files.

The target is ours/sha256sum <= 1.5 (median wall time). Both sides do the same job: read
every vault object and compare it with its recorded SHA-256. `sha256sum --check` gets the
list of files and expected digests from a manifest file (no xargs, no argument limits).

Two scenarios run by default, each in a vault under a temporary directory (never the repo):

* mixed: 2,000 files of 50 KB - 5 MB (log-uniform, skewed to total about 1.5 GB);
* small: 10,000 files of about 100 KB (per-file overhead dominates).

Runs are interleaved (sha256sum, ours, sha256sum, ours, ...) after one untimed warm-up pass
of each, so both read from a warm page cache. Also timed, for the record of why the engine
uses threads: one thread, and a process pool, and two `sha256sum` processes in parallel.

Exit status is non-zero only on errors (a wrong digest, a failing `sha256sum`), never
because the target was missed.

    .venv/bin/python bench/bench_verify.py                 # both default scenarios
    .venv/bin/python bench/bench_verify.py --files 500 --size 1000000 --out /tmp/bv
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from haechi.store import rehash
from haechi.store.vault import Vault
from haechi.store.vaultcrypto import generate_key

POOL_SIZE = 64 << 20  # random bytes that file contents are cut from (fast to generate)


@dataclass
class Scenario:
    name: str
    sizes: list[int]
    timings: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.sizes)


def mixed_sizes(n: int, lo: int, hi: int, total: float, rng: random.Random) -> list[int]:
    """n log-uniform-ish sizes in [lo, hi] whose sum is close to ``total``: u**p skews the
    log-uniform draw towards small files; p is found by bisection."""
    us = [rng.random() for _ in range(n)]

    def sizes(p: float) -> list[int]:
        return [int(lo * (hi / lo) ** (u**p)) for u in us]

    a, b = 0.05, 20.0
    for _ in range(60):
        mid = (a * b) ** 0.5
        if sum(sizes(mid)) > total:
            a = mid
        else:
            b = mid
    return sizes((a * b) ** 0.5)


def populate(vault: Vault, sizes: list[int], seed: int) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    pool = rng.randbytes(POOL_SIZE)
    rows = []
    started = time.perf_counter()
    for i, size in enumerate(sizes):
        start = rng.randrange(0, POOL_SIZE - size) if size < POOL_SIZE else 0
        data = i.to_bytes(8, "big") + pool[start : start + max(0, size - 8)]
        stored = vault.put_bytes(data[:size])
        rows.append((stored.sha256, stored.size))
    took = time.perf_counter() - started
    print(f"  stored {len(rows):,} objects, {sum(sizes) / 1e6:,.0f} MB in {took:.1f} s")
    return rows


def write_manifests(vault: Vault, rows: list[tuple[str, int]], where: Path) -> list[Path]:
    """One manifest with every file, plus two halves for the parallel variant. Encrypted
    objects are listed under the digest of their bytes on disk: sha256sum cannot decrypt."""

    def on_disk(sha: str) -> str:
        return rehash.sha256_file(vault.path_for(sha)) if vault.encrypted else sha

    lines = [f"{on_disk(sha)}  {vault.path_for(sha)}\n" for sha, _ in rows]
    paths = [where / "all.sha256", where / "half0.sha256", where / "half1.sha256"]
    paths[0].write_text("".join(lines))
    paths[1].write_text("".join(lines[0::2]))
    paths[2].write_text("".join(lines[1::2]))
    return paths


def run_sha256sum(manifests: list[Path]) -> None:
    procs = [
        subprocess.Popen(
            ["sha256sum", "--check", "--quiet", "--strict", str(m)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for m in manifests
    ]
    for proc, manifest in zip(procs, manifests, strict=True):
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"sha256sum --check {manifest} failed: {out.decode()[:500]}")


def run_ours(vault: Vault, rows: list[tuple[str, int]], workers: int) -> None:
    bad = [c for c in rehash.rehash_objects(vault, iter(rows), workers=workers) if not c.ok]
    checked = sum(1 for _ in rows)
    if bad:
        raise RuntimeError(f"rehash_objects reported {len(bad)} problems, e.g. {bad[0]}")
    if checked != len(rows):  # pragma: no cover
        raise RuntimeError("rehash_objects lost results")


def run_processes(vault: Vault, rows: list[tuple[str, int]], workers: int) -> None:
    """The alternative we measured against: the same batches in a process pool."""
    n = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for checks in pool.map(
            rehash._check_batch, itertools.repeat(vault), rehash._batches(iter(rows))
        ):
            n += len(checks)
            if not all(c.ok for c in checks):
                raise RuntimeError("process pool reported problems")
    if n != len(rows):
        raise RuntimeError("process pool lost results")


def _cpu() -> float:
    """CPU seconds used so far by this process (all threads) and its reaped children."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def time_it(fn: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, CPU seconds): CPU time shows the work done even when other jobs on
    the machine steal cores from the wall-clock figures."""
    cpu, started = _cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - started, _cpu() - cpu


def bench(scenario: Scenario, out: Path, args: argparse.Namespace) -> None:
    total_mb = scenario.total / 1e6
    print(f"\n== {scenario.name}: {len(scenario.sizes):,} files, {total_mb:,.0f} MB ==")
    where = out / scenario.name
    where.mkdir(parents=True, exist_ok=True)
    key = generate_key() if args.encrypted else None
    vault = Vault(where / "vault", key=key)
    rows = populate(vault, scenario.sizes, args.seed)
    manifests = write_manifests(vault, rows, where)
    workers = args.workers or rehash.default_workers()
    variants: dict[str, Callable[[], None]] = {
        "sha256sum": lambda: run_sha256sum(manifests[:1]),
        "haechi rehash": lambda: run_ours(vault, rows, workers),
    }
    if not args.no_extra:
        variants["sha256sum x2 processes"] = lambda: run_sha256sum(manifests[1:])
        variants["haechi 1 thread"] = lambda: run_ours(vault, rows, 1)
        variants[f"haechi {workers} processes"] = lambda: run_processes(vault, rows, workers)
    for fn in variants.values():  # warm the page cache and check correctness, untimed
        fn()
    for _ in range(args.repeats):
        for label, fn in variants.items():
            wall, cpu = time_it(fn)
            scenario.timings.setdefault(label, []).append(wall)
            scenario.cpu.setdefault(label, []).append(cpu)
    base = statistics.median(scenario.timings["sha256sum"])
    print(f"  {'variant':<24} {'median s':>9} {'MB/s':>7} {'ratio':>6} {'CPU s':>6}   wall runs")
    for label, runs in scenario.timings.items():
        med, cpu = statistics.median(runs), statistics.median(scenario.cpu[label])
        shown = " ".join(f"{r:.2f}" for r in runs)
        print(
            f"  {label:<24} {med:>9.3f} {total_mb / med:>7,.0f} {med / base:>6.2f} "
            f"{cpu:>6.2f}   {shown}"
        )
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def command_bench(out: Path, sizes: list[int], repeats: int, seed: int) -> tuple[float, float]:
    """The whole ``haechi verify`` command (database, chain and signatures too) on a data
    directory made by a real ingest, against ``sha256sum --check`` on the same vault files.
    Returns the two medians."""
    export = out / "export"
    (export / "files").mkdir(parents=True)
    rng = random.Random(seed)
    pool = rng.randbytes(POOL_SIZE)
    messages = []
    for i, size in enumerate(sizes):
        start = rng.randrange(0, POOL_SIZE - size) if size < POOL_SIZE else 0
        data = (i.to_bytes(8, "big") + pool[start : start + max(0, size - 8)])[:size]
        (export / "files" / f"doc_{i}.bin").write_bytes(data)
        messages.append(
            {"id": i + 1, "type": "message", "date": "2024-08-01T12:00:00",
             "date_unixtime": str(1722513600 + i), "from": "Bench", "from_id": "user1",
             "file": f"files/doc_{i}.bin", "file_size": size, "text": ""}
        )  # fmt: skip
    (export / "result.json").write_text(
        json.dumps({"name": "bench", "type": "private_group", "id": 7, "messages": messages})
    )
    home = out / "home"
    haechi = str(Path(sys.executable).with_name("haechi"))
    env = {**os.environ, "HAECHI_HOME": str(home)}
    subprocess.run([haechi, "init", str(home)], env=env, check=True, capture_output=True)
    subprocess.run(
        [haechi, "ingest", str(export), "--no-analyze", "--json"],
        env=env,
        check=True,
        capture_output=True,
    )
    manifest = out / "command.sha256"
    vault = Vault(home / "vault")
    manifest.write_text("".join(f"{sha}  {vault.path_for(sha)}\n" for sha in vault.iter_objects()))

    def ours() -> None:
        proc = subprocess.run([haechi, "verify", "--json"], env=env, capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"haechi verify failed: {proc.stdout[-500:]!r}")

    variants = {"sha256sum": lambda: run_sha256sum([manifest]), "haechi verify": ours}
    for fn in variants.values():
        fn()  # warm-up, untimed
    timings: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(repeats):
        for label, fn in variants.items():
            timings[label].append(time_it(fn)[0])
    return statistics.median(timings["haechi verify"]), statistics.median(timings["sha256sum"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--files", type=int, default=2000, help="files in the mixed scenario (0 skips it)"
    )
    parser.add_argument("--size", type=int, help="every file this many bytes (default: mixed)")
    parser.add_argument("--total", type=float, default=1.5e9, help="mixed total bytes")
    parser.add_argument("--small-files", type=int, default=10_000, help="0 skips the scenario")
    parser.add_argument("--small-size", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--encrypted", action="store_true", help="encrypt objects at rest")
    parser.add_argument("--no-extra", action="store_true", help="skip the reference variants")
    parser.add_argument("--out", type=Path, help="work directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the timings here")
    parser.add_argument(
        "--command-files", type=int, default=600, help="files for the whole-command run (0 skips)"
    )
    args = parser.parse_args()
    if shutil.which("sha256sum") is None:
        print("error: coreutils sha256sum is not installed", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    if args.size:
        sizes = [args.size] * args.files
    else:
        sizes = mixed_sizes(args.files, 50_000, 5_000_000, args.total, rng)
    scenarios = [Scenario("mixed" if not args.size else f"{args.size}B", sizes)]
    if not args.files:
        scenarios = []
    if args.small_files:
        scenarios.append(Scenario("small", [args.small_size] * args.small_files))
    out = args.out or Path(tempfile.mkdtemp(prefix="haechi-bench-verify-"))
    out.mkdir(parents=True, exist_ok=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"work directory {out}; {os.cpu_count()} CPUs; load average {load}")
    print(f"repeats {args.repeats}, interleaved, warm page cache; ratio = time / sha256sum time")
    failed = False
    command: tuple[float, float] | None = None
    try:
        for scenario in scenarios:
            try:
                bench(scenario, out, args)
            except (RuntimeError, OSError) as exc:
                print(f"ERROR in {scenario.name}: {exc}", file=sys.stderr)
                failed = True
        if args.command_files:
            sizes = mixed_sizes(args.command_files, 50_000, 5_000_000, 5e8, rng)
            print(
                f"\n== haechi verify, the whole command: {len(sizes)} files, "
                f"{sum(sizes) / 1e6:,.0f} MB ingested into a real data directory =="
            )
            try:
                command = command_bench(out / "command", sizes, args.repeats, args.seed)
                mb = sum(sizes) / 1e6
                print(
                    f"RESULT command: haechi verify {command[0]:.3f} s ({mb / command[0]:,.0f} "
                    f"MB/s) vs sha256sum {command[1]:.3f} s ({mb / command[1]:,.0f} MB/s): "
                    f"ratio {command[0] / command[1]:.2f} [target <= 1.5]"
                )
            except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
                print(f"ERROR in the command run: {exc}", file=sys.stderr)
                failed = True
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    print()
    for s in scenarios:
        if "haechi rehash" not in s.timings:
            continue
        ours, base = (statistics.median(s.timings[k]) for k in ("haechi rehash", "sha256sum"))
        ratio = ours / base
        verdict = "PASS" if ratio <= 1.5 else "MISS"
        mb = s.total / 1e6
        print(
            f"RESULT {s.name}: rehash_objects {ours:.3f} s ({mb / ours:,.0f} MB/s) vs "
            f"sha256sum {base:.3f} s ({mb / base:,.0f} MB/s): ratio {ratio:.2f} "
            f"[{verdict}, target <= 1.5]"
        )
    if args.json:
        data = {
            s.name: {"files": len(s.sizes), "bytes": s.total, "wall": s.timings, "cpu": s.cpu}
            for s in scenarios
        }
        args.json.write_text(json.dumps(data, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
