"""Run one fuzz target under atheris (coverage-guided, libFuzzer), or all of them.

    python tests/fuzz/run_fuzz.py TARGET [libFuzzer flags...]      one target (a process)
    python tests/fuzz/run_fuzz.py --all --runs 10000 [--out DIR]   every target, one by one

``--all`` gives each target its seeds (fixtures, ../shared/data, our own), a per-case time
limit (``-timeout``), an RSS limit (``-rss_limit_mb``), a corpus folder that grows between
runs, and a folder where crashes, hangs and memory blow-ups are saved as files
(``-artifact_prefix``); it prints the cases per second of each and writes summary.json.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repository root, for `tests.fuzz.targets`

TIMEOUT_S = 20  # per case: a hang is a case over this
RSS_MB = 3072  # per process: bounded memory


def one(name: str, flags: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["haechi"]):
        from tests.fuzz import targets  # noqa: F401 - instrumented imports

        import haechi.analyze.hashes.decode
        import haechi.analyze.mediainfo
        import haechi.analyze.sniff
        import haechi.analyze.stills
        import haechi.analyze.synthetic.c2pa_read
        import haechi.analyze.synthetic.containers
        import haechi.analyze.synthetic.tags
        import haechi.collect.telegram_export
        import haechi.match.formats
        import haechi.report.standalone.verify_package  # noqa: F401
    from tests.fuzz.targets import TARGETS

    target = TARGETS[name]
    atheris.Setup([sys.argv[0], f"-max_len={target.max_len}", *flags], target.run)
    atheris.Fuzz()


def corpus_for(name: str, out: Path) -> list[str]:
    """The growing corpus folder plus the seed folders (libFuzzer reads them all)."""
    from tests.fuzz.targets import TARGETS, seed_files

    seeds = out / "seeds"
    if not seeds.exists():
        seed_files(seeds)
    corpus = out / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    given = out / "given" / name
    given.mkdir(parents=True, exist_ok=True)
    for path in TARGETS[name].seeds():
        link = given / path.name
        if not link.exists():
            link.write_bytes(path.read_bytes())
    dirs = [str(corpus), str(given)]
    if (seeds / name).is_dir():
        dirs.append(str(seeds / name))
    return dirs


def run(name: str, runs: int, out: Path, *, quiet: bool = True) -> dict[str, object]:
    crashes = out / "crashes" / name
    crashes.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        name,
        f"-runs={runs}",
        f"-timeout={TIMEOUT_S}",
        f"-rss_limit_mb={RSS_MB}",
        f"-artifact_prefix={crashes}/",
        "-print_final_stats=1",
        *corpus_for(name, out),
    ]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.monotonic() - started
    log = proc.stderr
    done = re.search(r"Done (\d+) runs in (\d+) second", log)
    executed = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    cases = int(executed.group(1)) if executed else int(done.group(1)) if done else 0
    found = sorted(p.name for p in crashes.iterdir())
    result = {
        "target": name,
        "cases": cases,
        "seconds": round(seconds, 1),
        "cases_per_second": round(cases / seconds, 1) if seconds else None,
        "exit_code": proc.returncode,
        "artifacts": found,
        "peak_rss_mb": int(m.group(1))
        if (m := re.search(r"stat::peak_rss_mb:\s*(\d+)", log))
        else None,
    }
    (out / "logs").mkdir(exist_ok=True)
    (out / "logs" / f"{name}.log").write_text(log[-200_000:], encoding="utf-8")
    if not quiet or proc.returncode:
        print(log[-3000:], file=sys.stderr)
    return result


def main() -> int:
    if len(sys.argv) > 1 and not sys.argv[1].startswith("--"):
        one(sys.argv[1], sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("fuzz-out"))
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at once")
    args = parser.parse_args()
    from tests.fuzz.targets import TARGETS

    names = args.only or list(TARGETS)
    for name in names:  # seeds and corpus folders first, once (not from several threads)
        corpus_for(name, args.out)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # each target is a process
        results = list(pool.map(lambda name: run(name, args.runs, args.out), names))
    for r in results:
        print(
            f"{r['target']:14} {r['cases']:>8} cases {r['seconds']:>8} s "
            f"{r['cases_per_second']:>8}/s "
            f"exit {r['exit_code']} peak RSS {r['peak_rss_mb']} MB artifacts {len(r['artifacts'])}",  # type: ignore[arg-type]
            flush=True,
        )
    (args.out / "summary.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if all(r["exit_code"] == 0 and not r["artifacts"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
