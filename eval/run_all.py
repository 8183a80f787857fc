"""`make eval`: run every evaluation harness over ../shared/data and write docs/accuracy.md.

Each harness is a module ``eval/eval_<name>.py`` with ``run(data: Path) -> Section``; a
harness whose data folder is absent reports that and is skipped, never faked.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import platform
import sys
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
HARNESSES = ["telegram"]  # later issues add faces, provenance, synthetic, lexicon


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"eval_{name}", HERE / f"eval_{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    started = time.monotonic()
    parts = [
        "# Accuracy\n",
        "Written by `make eval` (`eval/run_all.py`) from the evaluation data in `../shared/data`;",
        "do not edit by hand. Every number below was measured in the run dated here.\n",
        f"- run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({platform.machine()}, Python {platform.python_version()})\n",
    ]
    failed = False
    for name in sys.argv[1:] or HARNESSES:
        print(f"== eval {name}", flush=True)
        section = _load(name).run(DATA)
        parts.append(section.markdown())
        print(section.markdown())
        failed |= not section.passed
    parts.append(f"\n_Total evaluation time: {time.monotonic() - started:.0f} s._\n")
    out = ROOT / "docs" / "accuracy.md"
    out.write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
