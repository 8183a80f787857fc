"""`make eval`: run every evaluation harness over ../shared/data and write docs/accuracy.md.

Each harness is a module ``eval/eval_<name>.py`` with ``run(data: Path) -> Section``; a
harness whose data folder is absent reports that and is skipped, never faked.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
# Every eval/eval_<name>.py is a harness; `python eval/run_all.py faces` runs one.
HARNESSES = sorted(p.stem.removeprefix("eval_") for p in HERE.glob("eval_*.py"))


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"eval_{name}", HERE / f"eval_{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def assemble(sections_dir: Path) -> str:
    """docs/accuracy.md: the header and every section on disk, by harness name."""
    parts = [
        "# Accuracy\n",
        "Written by `make eval` (`eval/run_all.py`) from the evaluation data in",
        "`../shared/data`; do not edit by hand. Each section says when it was measured.\n",
    ]
    parts += [p.read_text(encoding="utf-8") for p in sorted(sections_dir.glob("*.md"))]
    return "\n".join(parts)


def main() -> int:
    """Run the harnesses named (default: all); each writes docs/accuracy/<name>.md, then
    docs/accuracy.md is assembled from every section on disk, so running one harness keeps
    the others' last results (each section carries its own date)."""
    started = time.monotonic()
    sections_dir = ROOT / "docs" / "accuracy"
    sections_dir.mkdir(parents=True, exist_ok=True)
    stamp = (
        f"_Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()})._\n"
    )
    failed = False
    for name in sys.argv[1:] or HARNESSES:
        if name not in HARNESSES:
            print(f"error: no harness eval/eval_{name}.py", file=sys.stderr)
            return 2
        print(f"== eval {name}", flush=True)
        t = time.monotonic()
        section = _load(name).run(DATA)
        text = section.markdown() + "\n" + stamp + f"_Took {time.monotonic() - t:.0f} s._\n"
        (sections_dir / f"{name}.md").write_text(text, encoding="utf-8")
        print(text)
        failed |= not section.passed
    out = ROOT / "docs" / "accuracy.md"
    out.write_text(assemble(sections_dir), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
