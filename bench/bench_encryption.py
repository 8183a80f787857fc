#!/usr/bin/env python3
"""Benchmark: what vault encryption (on by default for new data directories) costs, against
encryption off, in the same run: `haechi ingest` and `haechi verify` of the same export
into a data directory made with `haechi init` (encrypted) and `haechi init --no-encrypt`.

Runs are interleaved (plain, encrypted, plain, encrypted, ...) so both see the same
machine load; the medians and their ratio (encrypted / plain) are printed.

    .venv/bin/python bench/bench_encryption.py                  # 50,000 messages, 1,000 photos
    .venv/bin/python bench/bench_encryption.py --messages 200000 --media 5000 --repeat 5
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_ingest", HERE / "bench_ingest.py")
assert _spec and _spec.loader
_ingest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ingest)
run_child = _ingest.run_child


def vault_only(files: int, size: int, repeat: int, work: Path) -> dict[str, float]:
    """The vault alone, in this process (no start-up, no database): storing ``files``
    files of ``size`` bytes and re-hashing them as verify does, plain against encrypted."""
    import time

    sys.path.insert(0, str(HERE.parent / "src"))
    from haechi.store.rehash import rehash_objects
    from haechi.store.vault import Vault
    from haechi.store.vaultcrypto import generate_key

    sources = work / "files"
    sources.mkdir()
    for i in range(files):
        (sources / f"{i}.bin").write_bytes(os.urandom(size))
    steps = ("put_plain", "put_enc", "rehash_plain", "rehash_enc")
    times: dict[str, list[float]] = {k: [] for k in steps}
    for i in range(repeat):
        for mode, key in (("plain", None), ("enc", generate_key())):
            vault = Vault(work / f"v-{mode}-{i}", key=key)
            started = time.perf_counter()
            stored = [vault.put_file(p) for p in sorted(sources.iterdir())]
            times[f"put_{mode}"].append(time.perf_counter() - started)
            started = time.perf_counter()
            checks = list(rehash_objects(vault, [(s.sha256, s.size) for s in stored], workers=2))
            times[f"rehash_{mode}"].append(time.perf_counter() - started)
            assert all(c.status == "ok" for c in checks)
            shutil.rmtree(vault.root)
    med = {k: statistics.median(v) for k, v in times.items()}
    mb = files * size / 1e6
    return {
        "vault_mb": round(mb, 1),
        "put_plain_mb_s": round(mb / med["put_plain"], 1),
        "put_encrypted_mb_s": round(mb / med["put_enc"], 1),
        "put_ratio": round(med["put_enc"] / med["put_plain"], 3),
        "rehash_plain_mb_s": round(mb / med["rehash_plain"], 1),
        "rehash_encrypted_mb_s": round(mb / med["rehash_enc"], 1),
        "rehash_ratio": round(med["rehash_enc"] / med["rehash_plain"], 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=50_000)
    ap.add_argument("--media", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--vault-files", type=int, default=100)
    ap.add_argument("--vault-size", type=int, default=2_000_000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="haechi-bench-enc-"))
    haechi = str(Path(sys.executable).with_name("haechi"))
    try:
        export = work / "export"
        run_child(
            [sys.executable, str(HERE / "gen_export.py"), str(export), "--messages",
             str(args.messages), "--media", str(args.media), "--seed", "1"]
        )  # fmt: skip
        times: dict[str, dict[str, list[float]]] = {
            mode: {"ingest": [], "verify": []} for mode in ("plain", "encrypted")
        }
        stored_mb = 0.0
        for i in range(args.repeat):
            for mode, flag in (("plain", "--no-encrypt"), ("encrypted", "--encrypt")):
                home = work / f"home-{mode}-{i}"
                env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
                env["HAECHI_HOME"] = str(home)
                run_child([haechi, "init", str(home), flag], env)
                seconds, _rss, _single, out = run_child(
                    [haechi, "ingest", str(export), "--json", "--no-analyze"], env
                )
                report = json.loads(out)
                assert report["messages"] == args.messages, report
                stored_mb = report["bytes_stored_new"] / 1e6
                times[mode]["ingest"].append(seconds)
                seconds, _rss, _single, out = run_child([haechi, "verify", "--json"], env)
                assert json.loads(out)["ok"], out[-2000:]
                times[mode]["verify"].append(seconds)
                shutil.rmtree(home, ignore_errors=True)
        result: dict[str, object] = {
            "messages": args.messages, "media": args.media, "stored_mb": round(stored_mb, 1),
        }  # fmt: skip
        for step in ("ingest", "verify"):
            plain = statistics.median(times["plain"][step])
            enc = statistics.median(times["encrypted"][step])
            result[f"{step}_plain_s"] = round(plain, 2)
            result[f"{step}_encrypted_s"] = round(enc, 2)
            result[f"{step}_ratio"] = round(enc / plain, 3)
        result.update(vault_only(args.vault_files, args.vault_size, 5, work))
        print(json.dumps(result))
        print(
            f"vault encryption, {args.messages:,} messages + {args.media:,} photos "
            f"({result['stored_mb']} MB stored), median of {args.repeat}: ingest "
            f"{result['ingest_encrypted_s']} s vs {result['ingest_plain_s']} s plain "
            f"(x{result['ingest_ratio']}); verify {result['verify_encrypted_s']} s vs "
            f"{result['verify_plain_s']} s plain (x{result['verify_ratio']})",
            flush=True,
        )
        print(
            f"vault alone, {result['vault_mb']} MB in {args.vault_files} files, median of 5: "
            f"store {result['put_encrypted_mb_s']} MB/s encrypted vs {result['put_plain_mb_s']} "
            f"MB/s plain (x{result['put_ratio']}); re-hash {result['rehash_encrypted_mb_s']} "
            f"vs {result['rehash_plain_mb_s']} MB/s (x{result['rehash_ratio']})",
            flush=True,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
