"""docs/accuracy.md is assembled by eval/run_all.py from docs/accuracy/<harness>.md; a
section committed in the whole file but not in its own file would be reverted by the next
`make eval` of any harness (seen once: an older re-post section came back)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_accuracy_md_is_its_sections_assembled() -> None:
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "eval" / "run_all.py")
    assert spec and spec.loader
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    assert sorted((ROOT / "docs" / "accuracy").glob("*.md")), "no sections in docs/accuracy/"
    whole = (ROOT / "docs" / "accuracy.md").read_text(encoding="utf-8")
    assert whole == run_all.assemble(ROOT / "docs" / "accuracy")
