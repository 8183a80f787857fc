#!/usr/bin/env python3
"""Benchmark: writing and verifying evidence packages of many files, against `cp`/`zip` +
`sha256sum` doing the same copying and hashing on the same files, in the same run.

Set-up (untimed, in a temporary directory, never the repo): a generated benign export with
``--files`` small JPEGs is ingested, and one case gets every file as an item.

Timed, each ``--runs`` times, interleaved with its baseline after one warm-up of each:

* package, folder: ``create_package`` (copy out of the vault, hash, manifest, custody
  events, SHA256SUMS; HTML report and CASE/UCO graph, no PDF) against
  ``cp -r`` of the originals + ``sha256sum`` of the copies;
* package, zip: the same into a .zip against ``zip -0 -r`` + ``sha256sum``;
* verify: the standalone ``verify_package.py`` (signatures, manifest, every file) against
  ``sha256sum -c SHA256SUMS`` in the same package.

Prints medians, MB/s and ours/baseline; the exit status is non-zero only on errors.

    .venv/bin/python bench/bench_package.py                  # 10,000 files
    .venv/bin/python bench/bench_package.py --files 500 --runs 1
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from gen_export import generate_export  # noqa: E402
from haechi.app import App, init_home  # noqa: E402
from haechi.cases import items, service  # noqa: E402
from haechi.collect.telegram_export import TelegramExportCollector  # noqa: E402
from haechi.report.package import PackageOptions, create_package  # noqa: E402
from haechi.run.ingest import Ingestor  # noqa: E402


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def sh(cmd: str, cwd: Path) -> None:
    subprocess.run(cmd, shell=True, check=True, cwd=cwd, stdout=subprocess.DEVNULL)


def setup(work: Path, files: int) -> tuple[App, str, Path, int]:
    export = generate_export(work / "export", messages=files * 2, media=files, seed=3)
    app = init_home(work / "home")
    Ingestor(app, TelegramExportCollector(export)).run()
    case = service.create_case(app, "benchmark case")
    added = items.add_chat_files(app, case.ref, "channel:1733000001")
    size = sum(p.stat().st_size for p in (export / "photos").iterdir())
    print(f"set-up: {len(added):,} files, {size / 1e6:,.1f} MB in one case", flush=True)
    return app, case.ref, export / "photos", size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="haechi-bench-package-"))
    try:
        app, ref, originals, size = setup(work, args.files)
        opts = PackageOptions(pdf=False)
        out = work / "out"
        out.mkdir()
        counter = iter(range(10_000))

        def ours(kind: str) -> Callable[[], object]:
            def run() -> object:
                dest = out / f"pkg{next(counter)}{'.zip' if kind == 'zip' else ''}"
                return create_package(app, ref, dest, opts)

            return run

        def base(kind: str) -> Callable[[], object]:
            def run() -> None:
                dest = out / f"base{next(counter)}"
                if kind == "zip":
                    sh(
                        f"zip -q -0 -r {dest}.zip photos && sha256sum photos/* > {dest}.sums",
                        originals.parent,
                    )
                else:
                    sh(f"cp -r photos {dest} && sha256sum {dest}/* > {dest}.sums", originals.parent)

            return run

        sample = create_package(app, ref, out / "sample", opts).path
        verifier = [sys.executable, str(sample / "verify_package.py"), str(sample)]

        def ours_verify() -> None:
            subprocess.run(verifier, check=True, stdout=subprocess.DEVNULL)

        def base_verify() -> None:
            sh("sha256sum --quiet -c SHA256SUMS", sample)

        pairs = {
            "package, folder": (ours("folder"), base("folder"), "cp -r + sha256sum"),
            "package, zip": (ours("zip"), base("zip"), "zip -0 -r + sha256sum"),
            "verify": (ours_verify, base_verify, "sha256sum -c"),
        }
        head = ("scenario", "ours s", "MB/s", "baseline s", "MB/s")
        print(f"{head[0]:18} {head[1]:>8} {head[2]:>8} {head[3]:>11} {head[4]:>8} ratio  baseline")
        for name, (mine, theirs, label) in pairs.items():
            mine(), theirs()  # warm-up
            a, b = [], []
            for _ in range(args.runs):
                b.append(timed(theirs))
                a.append(timed(mine))
                for p in out.iterdir():  # keep the disk from filling up
                    if p.name != "sample":
                        _remove(p)
            ma, mb = statistics.median(a), statistics.median(b)
            print(
                f"{name:18} {ma:8.2f} {size / 1e6 / ma:8.1f} {mb:11.2f} {size / 1e6 / mb:8.1f} "
                f"{ma / mb:5.2f}  {label}",
                flush=True,
            )
        print(f"(files: {args.files:,}; runs: {args.runs}; medians; CPUs: {os.cpu_count()})")
        app.close()
        return 0
    finally:
        for p in work.rglob("*"):
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(work, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir():
        for p in path.rglob("*"):
            if p.is_dir():
                p.chmod(0o755)
        path.chmod(0o755)
        shutil.rmtree(path)
    else:
        path.unlink()


if __name__ == "__main__":
    sys.exit(main())
